import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";

import { encode } from "../../src/iso8583/codec.js";
import { frame } from "../../src/iso8583/framing.js";
import { identify, opKey } from "../../src/iso8583/gateway.js";
import { Journal } from "../../src/iso8583/journal.js";
import { encodeWalletData } from "../../src/iso8583/wallet-data.js";
import { Store } from "../../src/store/store.js";
import {
  cardRequest,
  DE7,
  gatewayWorld,
  IsoClient,
  nextStan,
  openCardAccount,
  originalData,
  profile,
  reversalOf,
  startGateway,
  type GatewayWorld,
  type RunningGateway,
} from "./gateway-helpers.js";

describe("iso8583: card gateway over TCP", function () {
  this.timeout(60_000);
  let world: GatewayWorld;
  let running: RunningGateway;
  let client: IsoClient;

  before(async function () {
    world = await gatewayWorld();
  });
  after(async function () {
    await world.proxy.stop();
  });
  beforeEach(async function () {
    await world.proxy.setMode("up");
    running = await startGateway(world, { frameTimeoutMs: 300, timeoutMs: 1_500, unknownGraceMs: 30_000 });
    client = await IsoClient.connect(running.port);
  });
  afterEach(async function () {
    client.close();
    await world.proxy.setMode("up");
    await running.stop();
  });

  it("answers a network echo 0800 with 0810, echoing DE 7, 11 and 70", async function () {
    const response = await client.request({ mti: "0800", fields: { 7: DE7, 11: nextStan(), 70: "301" } });
    expect(response.mti).to.equal("0810");
    expect(response.fields[39]).to.equal("00");
    expect(response.fields[70]).to.equal("301");
  });

  it("debits a profile for an approved 0200 and echoes the request's elements", async function () {
    const { wallet } = await openCardAccount(world, 10_000n);
    const request = cardRequest("0200", wallet, 2_500n);
    const response = await client.request(request);
    expect(response.mti).to.equal("0210");
    expect(response.fields[39]).to.equal("00");
    expect(response.fields[38]).to.match(/^[0-9A-F]{6}$/);
    for (const number of [2, 3, 4, 7, 11, 12, 13, 37, 41, 49]) {
      expect(response.fields[number], `DE ${number}`).to.equal(request.fields[number]);
    }
    expect(response.fields[48]).to.equal(undefined);
    expect((await profile(world, wallet)).token).to.equal(7_500n);
  });

  it("answers 51, 61, 14 and 13 from the ledger's refusals and changes nothing", async function () {
    const { wallet } = await openCardAccount(world, 1_000n, 800n);
    // Above the per-transaction limit of 800.
    expect((await client.request(cardRequest("0200", wallet, 900n))).fields[39]).to.equal("61");
    expect((await client.request(cardRequest("0100", wallet, 900n))).fields[39]).to.equal("61");
    const { wallet: poor } = await openCardAccount(world, 100n);
    expect((await client.request(cardRequest("0200", poor, 101n))).fields[39]).to.equal("51");
    const stranger = "0x000000000000000000000000000000000000dEaD";
    expect((await client.request(cardRequest("0200", stranger, 1n))).fields[39]).to.equal("14");
    const zero = cardRequest("0200", poor, 1n, { 48: `01042${poor}020010` });
    expect((await client.request(zero)).fields[39]).to.equal("13");
    expect(await profile(world, wallet)).to.deep.equal({ token: 1_000n, held: 0n });
    expect(await profile(world, poor)).to.deep.equal({ token: 100n, held: 0n });
  });

  it("refuses what it cannot take before touching the ledger: 30, 12, and 0310 for an unknown class", async function () {
    const { wallet } = await openCardAccount(world, 5_000n);
    const before = await world.suite.connection.provider.request({ method: "eth_blockNumber" });
    const noWallet = cardRequest("0200", wallet, 1n);
    delete (noWallet.fields as Record<number, string>)[48];
    expect((await client.request(noWallet)).fields[39]).to.equal("30");
    const badData = cardRequest("0200", wallet, 1n, { 48: "01003abc" });
    expect((await client.request(badData)).fields[39]).to.equal("30");
    const transfer = cardRequest("0200", wallet, 1n, { 3: "400000" });
    expect((await client.request(transfer)).fields[39]).to.equal("12");
    const otherChain = cardRequest("0200", wallet, 1n, {
      48: encodeWalletData({ address: wallet, amount: 1n, chainId: 1n }),
    });
    expect((await client.request(otherChain)).fields[39]).to.equal("12");
    const otherAsset = cardRequest("0200", wallet, 1n, {
      48: encodeWalletData({ address: wallet, amount: 1n, asset: "EUR" }),
    });
    expect((await client.request(otherAsset)).fields[39]).to.equal("12");
    const refund100 = cardRequest("0100", wallet, 1n, { 3: "200000" });
    expect((await client.request(refund100)).fields[39]).to.equal("12");
    const admin = await client.request({ mti: "0300", fields: { 7: DE7, 11: nextStan() } });
    expect(admin.mti).to.equal("0310");
    expect(admin.fields[39]).to.equal("12");
    expect(await world.suite.connection.provider.request({ method: "eth_blockNumber" })).to.equal(before);
    expect((await profile(world, wallet)).token).to.equal(5_000n);
  });

  it("answers a duplicate 0200 (even concurrent) with the first answer and debits once", async function () {
    const { wallet } = await openCardAccount(world, 10_000n);
    const request = cardRequest("0200", wallet, 1_000n);
    const [first, second] = await Promise.all([
      client.request(request),
      (async () => {
        const other = await IsoClient.connect(running.port);
        try {
          return await other.request(request);
        } finally {
          other.close();
        }
      })(),
    ]);
    expect([first.fields[39], second.fields[39]]).to.deep.equal(["00", "00"]);
    expect(second.fields[38]).to.equal(first.fields[38]);
    const repeat = await client.request({ ...request, mti: "0201" });
    expect([repeat.fields[38], repeat.fields[39]]).to.deep.equal([first.fields[38], "00"]);
    expect((await profile(world, wallet)).token).to.equal(9_000n);
  });

  it("credits a refund (processing code 20) of a sale it names by DE 90", async function () {
    const { wallet } = await openCardAccount(world, 1_000n);
    const sale = cardRequest("0200", wallet, 400n);
    expect((await client.request(sale)).fields[39]).to.equal("00");
    const response = await client.request(cardRequest("0200", wallet, 250n, { 3: "200000", 90: originalData(sale) }));
    expect(response.fields[39]).to.equal("00");
    expect((await profile(world, wallet)).token).to.equal(850n);
  });

  it("holds on 0100 and captures on the 0200 that names it in DE 90, or by DE 37 and DE 41", async function () {
    const { wallet } = await openCardAccount(world, 10_000n);
    const authorization = cardRequest("0100", wallet, 3_000n);
    const approved = await client.request(authorization);
    expect(approved.mti).to.equal("0110");
    expect(approved.fields[39]).to.equal("00");
    expect(await profile(world, wallet)).to.deep.equal({ token: 10_000n, held: 3_000n });
    // Only 7,000 is available while the hold stands.
    expect((await client.request(cardRequest("0200", wallet, 7_001n))).fields[39]).to.equal("51");
    const completion = cardRequest("0200", wallet, 2_000n, { 90: originalData(authorization) });
    expect((await client.request(completion)).fields[39]).to.equal("00");
    expect(await profile(world, wallet)).to.deep.equal({ token: 8_000n, held: 0n });
    // Capturing the same hold again is no longer possible.
    const again = cardRequest("0200", wallet, 1n, { 90: originalData(authorization) });
    expect((await client.request(again)).fields[39]).to.equal("12");

    const second = cardRequest("0100", wallet, 1_000n);
    expect((await client.request(second)).fields[39]).to.equal("00");
    const byReference = cardRequest("0200", wallet, 1_000n, { 37: second.fields[37]!, 41: second.fields[41]! });
    expect((await client.request(byReference)).fields[39]).to.equal("00");
    expect(await profile(world, wallet)).to.deep.equal({ token: 7_000n, held: 0n });
    const tooMuch = cardRequest("0100", wallet, 500n);
    expect((await client.request(tooMuch)).fields[39]).to.equal("00");
    const over = cardRequest("0200", wallet, 501n, { 90: originalData(tooMuch) });
    expect((await client.request(over)).fields[39]).to.equal("13");
  });

  it("reverses a debit and a hold once, answering repeats of the reversal idempotently", async function () {
    const { wallet } = await openCardAccount(world, 10_000n);
    const debit = cardRequest("0200", wallet, 4_000n);
    expect((await client.request(debit)).fields[39]).to.equal("00");
    const reversal = reversalOf(debit);
    const answered = await client.request(reversal);
    expect(answered.mti).to.equal("0410");
    expect(answered.fields[39]).to.equal("00");
    expect((await profile(world, wallet)).token).to.equal(10_000n);
    expect((await client.request(reversal)).fields[39]).to.equal("00");
    expect((await client.request({ ...reversal, mti: "0401" })).fields[39]).to.equal("00");
    const advice = await client.request(reversalOf(debit, "0420"));
    expect(advice.mti).to.equal("0430");
    expect(advice.fields[39]).to.equal("00");
    expect((await profile(world, wallet)).token).to.equal(10_000n);

    const hold = cardRequest("0100", wallet, 2_000n);
    expect((await client.request(hold)).fields[39]).to.equal("00");
    expect((await client.request(reversalOf(hold, "0420"))).fields[39]).to.equal("00");
    expect(await profile(world, wallet)).to.deep.equal({ token: 10_000n, held: 0n });

    const declined = cardRequest("0200", wallet, 1_000_000n);
    expect((await client.request(declined)).fields[39]).to.equal("51");
    expect((await client.request(reversalOf(declined))).fields[39]).to.equal("00");
    const unknown = reversalOf(cardRequest("0200", wallet, 1n));
    expect((await client.request(unknown)).fields[39]).to.equal("25");
    expect(await profile(world, wallet)).to.deep.equal({ token: 10_000n, held: 0n });
  });

  it("acknowledges a reversal advice that overtook its original, and declines the original when it comes", async function () {
    const { wallet } = await openCardAccount(world, 10_000n);
    const late = cardRequest("0200", wallet, 2_500n);
    const advice = await client.request(reversalOf(late, "0420"));
    expect(advice.mti).to.equal("0430");
    expect(advice.fields[39]).to.equal("00");
    const blockBefore = await world.suite.connection.provider.request({ method: "eth_blockNumber" });
    expect((await client.request(late)).fields[39]).to.equal("12");
    expect((await client.request({ ...late, mti: "0201" })).fields[39]).to.equal("12");
    expect(await world.suite.connection.provider.request({ method: "eth_blockNumber" })).to.equal(blockBefore);
    expect(await profile(world, wallet)).to.deep.equal({ token: 10_000n, held: 0n });
    expect(running.logs.some((line) => /never seen; it will be declined if it comes/.test(line))).to.equal(true);
  });

  it("answers 30 to an undecodable message with a readable MTI and drops one without, keeping the connection", async function () {
    const { wallet } = await openCardAccount(world, 1_000n);
    const good = encode(cardRequest("0200", wallet, 1n));
    // Cut inside the elements: the MTI and STAN decode, the rest does not.
    const cut = good.subarray(0, good.length - 10);
    client.sendRaw(cut);
    const formatError = await waitFor(() => client.received.find((m) => m.mti === "0210"));
    expect(formatError.fields[39]).to.equal("30");
    client.sendRaw(Buffer.from("ZZ\u0000\u0001garbage", "latin1"));
    const echo = await client.request({ mti: "0800", fields: { 7: DE7, 11: nextStan(), 70: "301" } });
    expect(echo.fields[39]).to.equal("00");
    expect(running.logs.some((line) => /undecodable message dropped: non_numeric/.test(line))).to.equal(true);
    expect((await profile(world, wallet)).token).to.equal(1_000n);
  });

  it("answers 91 when the chain refuses connections, and posts the message later when repeated", async function () {
    const { wallet } = await openCardAccount(world, 5_000n);
    const request = cardRequest("0200", wallet, 1_000n);
    await world.proxy.setMode("refuse");
    expect((await client.request(request)).fields[39]).to.equal("91");

    await world.proxy.setMode("up");
    expect((await profile(world, wallet)).token).to.equal(5_000n);
    expect((await client.request({ ...request, mti: "0201" })).fields[39]).to.equal("00");
    expect((await profile(world, wallet)).token).to.equal(4_000n);
  });

  it("answers 91 when the chain hangs, and reverses the debit if it lands after all", async function () {
    const { wallet } = await openCardAccount(world, 5_000n);
    const request = cardRequest("0200", wallet, 1_000n);
    await world.proxy.setMode("hold");
    expect((await client.request(request)).fields[39]).to.equal("91");
    // The chain comes back and the held transaction lands: the reconciler undoes it.
    await world.proxy.setMode("up");
    const reversed = /landed after a 91 answer and was reversed/;
    await waitFor(async () => {
      await running.gateway.reconcile();
      return running.logs.some((line) => reversed.test(line)) ? true : undefined;
    });
    expect((await profile(world, wallet)).token).to.equal(5_000n);
    // A repeat of it gets its first answer, 91, and posts nothing; a reversal has nothing left to do.
    expect((await client.request({ ...request, mti: "0201" })).fields[39]).to.equal("91");
    expect((await client.request(reversalOf(request, "0420"))).fields[39]).to.equal("00");
    expect((await profile(world, wallet)).token).to.equal(5_000n);
  });

  it("closes a slow client's connection and serves others meanwhile", async function () {
    const slow = await IsoClient.connect(running.port);
    slow.socket.write(Buffer.from([0x00])); // half a length header, then nothing
    const echo = await client.request({ mti: "0800", fields: { 7: DE7, 11: nextStan(), 70: "301" } });
    expect(echo.fields[39]).to.equal("00");
    expect(await slow.waitClosed(3_000)).to.equal(true);
    expect(running.logs.some((line) => /did not complete within 300 ms/.test(line))).to.equal(true);
  });

  it("survives a client sending garbage: no crash, no ledger change, others served", async function () {
    const { wallet } = await openCardAccount(world, 1_000n);
    for (let i = 0; i < 20; i += 1) {
      const garbage = await IsoClient.connect(running.port);
      garbage.socket.write(frame(randomBytes(1 + ((i * 37) % 200)), "binary2"));
      garbage.socket.write(randomBytes(64));
      garbage.close();
    }
    const echo = await client.request({ mti: "0800", fields: { 7: DE7, 11: nextStan(), 70: "301" } });
    expect(echo.fields[39]).to.equal("00");
    expect((await client.request(cardRequest("0200", wallet, 10n))).fields[39]).to.equal("00");
    expect((await profile(world, wallet)).token).to.equal(990n);
  });

  it("serves many connections at once, each debit applied once", async function () {
    const { wallet } = await openCardAccount(world, 1_000_000n);
    const clients = await Promise.all(Array.from({ length: 20 }, () => IsoClient.connect(running.port)));
    try {
      const answers = await Promise.all(
        clients.flatMap((c) => Array.from({ length: 5 }, () => c.request(cardRequest("0200", wallet, 100n)))),
      );
      expect(answers.every((answer) => answer.fields[39] === "00")).to.equal(true);
    } finally {
      for (const c of clients) c.close();
    }
    expect((await profile(world, wallet)).token).to.equal(1_000_000n - 100n * 100n);
  });
});

describe("iso8583: card gateway restarts", function () {
  this.timeout(60_000);
  let world: GatewayWorld;
  let dir: string;

  before(async function () {
    world = await gatewayWorld();
    dir = mkdtempSync(path.join(tmpdir(), "card-gateway-"));
  });
  after(async function () {
    await world.proxy.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps its journal across a restart: a repeat gets the first answer, a reversal still finds its original", async function () {
    const storePath = path.join(dir, "journal.sqlite");
    const { wallet } = await openCardAccount(world, 10_000n);
    const debit = cardRequest("0200", wallet, 3_000n);
    let running = await startGateway(world, { storePath });
    let client = await IsoClient.connect(running.port);
    const first = await client.request(debit);
    expect(first.fields[39]).to.equal("00");
    client.close();
    await running.stop();

    running = await startGateway(world, { storePath });
    client = await IsoClient.connect(running.port);
    try {
      const repeat = await client.request({ ...debit, mti: "0201" });
      expect([repeat.fields[38], repeat.fields[39]]).to.deep.equal([first.fields[38], "00"]);
      expect((await profile(world, wallet)).token).to.equal(7_000n);
      expect((await client.request(reversalOf(debit))).fields[39]).to.equal("00");
      expect((await profile(world, wallet)).token).to.equal(10_000n);
    } finally {
      client.close();
      await running.stop();
    }
  });

  it("reconciles messages cut off by a crash: one that landed is reversed, one that did not is retried", async function () {
    const storePath = path.join(dir, "crashed.sqlite");
    const { wallet } = await openCardAccount(world, 10_000n);
    const landed = cardRequest("0200", wallet, 1_000n);
    const lost = cardRequest("0200", wallet, 2_000n);
    // A gateway journaled both, posted the first, and died before answering either.
    const store = Store.open({ path: storePath });
    const journal = new Journal(store);
    for (const request of [landed, lost]) {
      const who = identify(request);
      journal.begin({
        id: who.id,
        kind: "financial",
        mti: "0200",
        stan: request.fields[11]!,
        de7: request.fields[7]!,
        rrn: request.fields[37]!,
        terminal: who.terminal,
        acquirer: who.acquirer,
        forwarder: who.forwarder,
        merchant: who.merchant,
        fingerprint: who.fingerprint,
        panHash: world.cards.hash(request.fields[2]!),
        advice: false,
        operation: "debit",
        opKey: opKey(who.id),
        refKey: null,
        originalId: null,
        wallet,
        amount: request.fields[4]!,
      });
    }
    journal.commit();
    const landedKey = opKey(identify(landed).id);
    const gatewaySigner = await world.suite.ethers.getSigner(world.gatewayAddress);
    await (await world.ledger.connect(gatewaySigner).debit(landedKey, wallet, 1_000n)).wait();
    store.close();
    expect((await profile(world, wallet)).token).to.equal(9_000n);

    const running = await startGateway(world, { storePath, unknownGraceMs: 0 });
    const client = await IsoClient.connect(running.port);
    try {
      await running.gateway.reconcile();
      expect((await profile(world, wallet)).token).to.equal(10_000n);
      // The landed one was answered 91 (no answer reached the acquirer) and undone: a repeat gets that 91.
      expect((await client.request({ ...landed, mti: "0201" })).fields[39]).to.equal("91");
      expect((await client.request({ ...lost, mti: "0201" })).fields[39]).to.equal("00");
      expect((await profile(world, wallet)).token).to.equal(8_000n);
    } finally {
      client.close();
      await running.stop();
    }
  });

  it("speaks the 4-digit ASCII framing and reads the wallet data from another private element", async function () {
    const { wallet } = await openCardAccount(world, 1_000n);
    const running = await startGateway(world, { framing: "ascii4", walletElement: 120 });
    const client = await IsoClient.connect(running.port, "ascii4");
    try {
      const request = cardRequest("0200", wallet, 10n);
      const { 48: data, ...rest } = request.fields;
      const response = await client.request({ mti: "0200", fields: { ...rest, 120: data! } });
      expect(response.fields[39]).to.equal("00");
      client.socket.write("12ab");
      expect(await client.waitClosed(3_000)).to.equal(true);
    } finally {
      client.close();
      await running.stop();
    }
    expect((await profile(world, wallet)).token).to.equal(990n);
  });
});

async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
