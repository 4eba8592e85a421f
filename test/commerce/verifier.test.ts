/**
 * The verifier's event handlers and the deposit steps of `CheckoutProcessor`, driven one round at a time
 * (`tick()`), on the in-process chain with the whole suite deployed and a real retailer over HTTP: what each
 * handler writes (status, method, authorizedTx, exception, deposited, the notes), partial then completed deposits,
 * a second deposit after payment, collects refused by a pause or a price move, late authorizations after an
 * invoice was given up, returns refused by a frozen payer or finding nothing, and the races between the followers
 * (a block mined between the polls of one round, simulated by a provider that reports the head one block early to
 * the first follower of a round).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { AbiCoder, getAddress, type Provider, type Signer } from "ethers";

import { dutyWallet } from "../../src/chain/duty-wallet.js";
import { intentTuple, METHODS } from "../../src/commerce/intent.js";
import { CheckoutProcessor } from "../../src/commerce/processor.js";
import { QuoteService } from "../../src/commerce/quote.js";
import { startRetailer } from "../../src/commerce/retailer.js";
import { RetailerClient } from "../../src/commerce/retailer-client.js";
import { InvoiceStore, type Invoice } from "../../src/commerce/store.js";
import { messageOf } from "../../src/errors.js";
import { Store } from "../../src/store/store.js";
import { call } from "../helpers/http.js";
import { suiteChain } from "../helpers/suite.js";
import { checkoutFixture, type CheckoutFixture, type InvoiceJson } from "./service-helpers.js";

type Payer = Signer & { address: string };

describe("checkout verifier: handlers and deposit steps, round by round", function () {
  this.timeout(300_000);
  let f: CheckoutFixture;
  const stops: (() => Promise<void>)[] = [];

  before(async function () {
    f = await checkoutFixture();
  });
  afterEach(async function () {
    await f.provider.send("evm_setAutomine", [true]);
    while (stops.length > 0) await stops.pop()!();
  });
  after(function () {
    f?.cleanup();
  });

  const balance = (address: string) => f.suite.token.balanceOf(address);

  /** A processor and a quote service of its own, on a fresh store, from the current block on. */
  async function engine(options: { readonly confirmations?: number } = {}) {
    const dir = mkdtempSync(path.join(tmpdir(), "bank-chain-verifier-"));
    const lines: string[] = [];
    const log = (line: string) => void lines.push(line);
    const shop = await startRetailer({
      port: 0,
      host: "127.0.0.1",
      dbPath: path.join(dir, "retailer.sqlite"),
      admin: true,
      log,
    });
    const raw = Store.open({ path: path.join(dir, "checkout.sqlite") });
    stops.push(async () => {
      await shop.stop();
      raw.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const clock = { offsetMs: 0 };
    const now = () => Date.now() + clock.offsetMs;
    const store = new InvoiceStore(raw, now);
    const operator = await dutyWallet(suiteChain(f.suite), "checkoutOperator");
    // The first `getBlockNumber` after `lag.next` is set answers that many blocks below the head: the first follower
    // of the next round (the one that marks an invoice paid) sees less than the ones polled after it, as when a
    // block is mined between two polls of a round.
    const lag = { next: 0 };
    const real = f.provider;
    const provider = new Proxy(real, {
      get(target, property) {
        if (property === "getBlockNumber") {
          return async () => {
            const head = await target.getBlockNumber();
            const behind = lag.next;
            lag.next = 0;
            return head - behind;
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as unknown as Provider;
    const shared = {
      store,
      provider,
      checkout: await f.checkout.getAddress(),
      token: await f.suite.token.getAddress(),
      chainId: 31337n,
      operator,
    };
    const processor = new CheckoutProcessor({
      ...shared,
      retailer: { order: (key, request) => new RetailerClient(shop.url).order(key, request) },
      confirmations: options.confirmations ?? 0,
      fromBlock: await real.getBlockNumber(),
      retry: { baseMs: 10, maxMs: 100, factor: 2 },
      voidMarginSeconds: 60n,
      pageSize: 100,
      now,
      log,
    });
    const quotes = new QuoteService({
      ...shared,
      provider: real,
      catalogue: () => new RetailerClient(shop.url).catalogue(),
      feeds: new Map([["EUR", await f.feed.getAddress()]]),
      terms: {
        merchant: f.merchant.address,
        feeBps: 100,
        feeReceiver: f.feeReceiver.address,
        maxDeviationBps: 100,
        quoteSeconds: 900,
        authorizationSeconds: 3_600,
        refundSeconds: 30 * 86_400,
      },
      now: () => Date.now(),
    });
    const get = (invoice: Invoice) => store.get(invoice.intentId)!;
    return {
      processor,
      store,
      operator,
      clock,
      lag,
      lines,
      shop: shop.url,
      get,
      notes: (invoice: Invoice) => store.history(invoice.intentId).map((entry) => entry.note),
      quote: (payer: Payer, sku = "sku-book") => quotes.quote({ sku, quantity: 1, payer: payer.address }),
      /** The payer's EIP-3009 authorization, submitted by the payer itself. */
      async receive(invoice: Invoice, payer: Payer) {
        const signature = await f.receiveSignature(
          payer,
          { intentId: invoice.intentId } as InvoiceJson,
          invoice.intent.tokenAmount,
        );
        const data = AbiCoder.defaultAbiCoder().encode(["uint256", "uint256", "bytes"], [0n, 99999999999n, signature]);
        const tx = await f.checkout
          .connect(payer)
          .authorize(
            intentTuple(invoice.intent),
            invoice.operatorSignature,
            METHODS.indexOf("ReceiveWithAuthorization"),
            data,
          );
        const receipt = (await tx.wait())!;
        return { hash: receipt.hash, block: receipt.blockNumber };
      },
      /** The payer's own `authorize` on the contract, from an allowance. */
      async allowance(invoice: Invoice, payer: Payer) {
        await (await f.suite.token.connect(payer).approve(shared.checkout, invoice.intent.tokenAmount)).wait();
        const tx = await f.checkout
          .connect(payer)
          .authorize(intentTuple(invoice.intent), invoice.operatorSignature, METHODS.indexOf("Allowance"), "0x");
        const receipt = (await tx.wait())!;
        return { hash: receipt.hash, block: receipt.blockNumber };
      },
      async deposit(invoice: Invoice, payer: Payer, amount = invoice.intent.tokenAmount) {
        await (await f.suite.token.connect(payer).transfer(getAddress(invoice.depositAddress), amount)).wait();
      },
      async fail(mode: string, count: number) {
        expect((await call(`${shop.url}/admin/failures`, "POST", { mode, count })).status).to.equal(200);
      },
    };
  }

  type Engine = Awaited<ReturnType<typeof engine>>;

  /** Rounds until `test` holds of the invoice. */
  async function until(e: Engine, invoice: Invoice, test: (now: Invoice) => boolean, rounds = 20): Promise<Invoice> {
    for (let round = 0; round < rounds; round += 1) {
      await e.processor.tick();
      const now = e.get(invoice);
      if (test(now)) return now;
    }
    throw new Error(`invoice ${invoice.intentId}: ${JSON.stringify(e.store.history(invoice.intentId), null, 1)}`);
  }

  it("an EIP-3009 payment: paid as soon as mined, confirmed once buried, with its method, transaction and notes", async function () {
    const e = await engine({ confirmations: 2 });
    const payer = await f.payer(10_000n, 16);
    const invoice = await e.quote(payer);
    const paid = await e.receive(invoice, payer);
    expect(await e.processor.tick()).to.equal(true);
    const seen = e.get(invoice);
    expect({
      status: seen.status,
      method: seen.method,
      authorizedTx: seen.authorizedTx,
      exception: seen.exception,
      deposited: seen.deposited,
      depositSeen: seen.depositSeen,
    }).to.deep.equal({
      status: "paid",
      method: "ReceiveWithAuthorization",
      authorizedTx: paid.hash,
      exception: null,
      deposited: 0n,
      depositSeen: false,
    });
    expect(e.store.history(invoice.intentId).at(-1)).to.include({
      status: "paid",
      note: `authorized in ${paid.hash} (block ${paid.block})`,
    });
    await f.suite.networkHelpers.mine(2);
    await e.processor.tick();
    const confirmed = e.get(invoice);
    expect([confirmed.status, confirmed.method, confirmed.authorizedTx]).to.deep.equal([
      "confirmed",
      "ReceiveWithAuthorization",
      paid.hash,
    ]);
    expect(e.notes(invoice)).to.include(`authorization confirmed: ${paid.hash} (block ${paid.block})`);
  });

  it("a partial deposit waits once, then the payer pays by EIP-3009: the part goes back, paidPartial stays", async function () {
    const e = await engine({ confirmations: 2 });
    const payer = await f.payer(10_000n, 16);
    const before = await balance(payer.address);
    const invoice = await e.quote(payer);
    const amount = invoice.intent.tokenAmount;
    await e.deposit(invoice, payer, 1_000n);
    expect(await e.processor.tick()).to.equal(true);
    const partial = e.get(invoice);
    expect([partial.status, partial.exception, partial.deposited, partial.depositSeen]).to.deep.equal([
      "new",
      "paidPartial",
      1_000n,
      false,
    ]);
    const waiting = `1000 of ${amount} at the deposit address: waiting for the rest`;
    // An idle round: nothing to do, and the partial deposit is not noted again.
    expect(await e.processor.tick()).to.equal(false);
    expect(e.notes(invoice).filter((note) => note === waiting)).to.have.length(1);

    const paid = await e.receive(invoice, payer);
    await e.processor.tick();
    const after = e.get(invoice);
    expect([after.status, after.exception, after.depositSeen, after.method]).to.deep.equal([
      "paid",
      "paidPartial",
      false,
      "ReceiveWithAuthorization",
    ]);
    expect(e.notes(invoice)).to.include(`authorized in ${paid.hash} (block ${paid.block})`);
    expect(await balance(invoice.depositAddress)).to.equal(0n);
    expect(await balance(payer.address)).to.equal(before - amount);

    await f.suite.networkHelpers.mine(2);
    await e.processor.tick();
    const confirmed = e.get(invoice);
    expect([confirmed.status, confirmed.exception]).to.deep.equal(["confirmed", "paidPartial"]);
    expect(e.notes(invoice).some((note) => note.startsWith("1000 at the deposit address went back to the payer: "))).to
      .be.true;
  });

  it("the confirmed follower sees an authorization before the seen follower: confirmed from new, paidPartial kept, the part goes back", async function () {
    const e = await engine();
    const payer = await f.payer(10_000n, 16);
    const before = await balance(payer.address);
    const invoice = await e.quote(payer);
    await e.deposit(invoice, payer, 1_000n);
    await e.processor.tick();
    expect(e.get(invoice).exception).to.equal("paidPartial");
    const paid = await e.receive(invoice, payer);
    e.lag.next = 1;
    await e.processor.tick();
    const confirmed = e.get(invoice);
    expect([confirmed.status, confirmed.exception, confirmed.method, confirmed.authorizedTx]).to.deep.equal([
      "confirmed",
      "paidPartial",
      "ReceiveWithAuthorization",
      paid.hash,
    ]);
    expect(e.notes(invoice)).to.include(`authorization confirmed: ${paid.hash} (block ${paid.block})`);
    expect(e.notes(invoice)).to.not.include(`authorized in ${paid.hash} (block ${paid.block})`);
    // The part paid to the deposit address before goes back all the same; the seen follower, getting to the
    // authorization after, leaves the confirmed invoice alone, and it is bought.
    const complete = await until(e, invoice, (now) => now.status === "complete");
    expect(complete.purchase).to.equal("captured");
    expect(e.store.history(invoice.intentId).filter((entry) => entry.status === "paid")).to.deep.equal([]);
    expect(await balance(invoice.depositAddress)).to.equal(0n);
    expect(await balance(payer.address)).to.equal(before - invoice.intent.tokenAmount);
  });

  /** An invoice made invalid by a price move (its deposit returned), the price then put back. */
  async function invalidByPrice(e: Engine, payer: Payer) {
    const invoice = await e.quote(payer, "sku-espresso");
    const latest = await f.feed.latestRoundData();
    await (await f.feed.updateAnswer((latest.answer * 102n) / 100n)).wait();
    try {
      await e.deposit(invoice, payer);
      await e.processor.tick();
    } finally {
      await (await f.feed.updateAnswer(latest.answer)).wait();
    }
    const invalid = e.get(invoice);
    expect([invalid.status, invalid.exception, invalid.deposited]).to.deep.equal([
      "invalid",
      "priceMoved",
      invoice.intent.tokenAmount,
    ]);
    expect(invalid.lastError).to.contain("CheckoutPriceDeviation");
    expect(e.notes(invoice).some((note) => note.startsWith("the deposit cannot be collected: "))).to.be.true;
    expect(await balance(invoice.depositAddress)).to.equal(0n);
    // The DepositReturned event leaves an invalid invoice invalid.
    await e.processor.tick();
    const returned = e.get(invoice);
    expect([returned.status, returned.deposited]).to.deep.equal(["invalid", invoice.intent.tokenAmount]);
    expect(
      e
        .notes(invoice)
        .some((note) => note.startsWith(`${invoice.intent.tokenAmount} at the deposit address went back to the payer`)),
    ).to.be.true;
    return invoice;
  }

  it("a late authorization after a price move made the invoice invalid: paid, the exception cleared, the note says so", async function () {
    const e = await engine();
    const payer = await f.payer(10_000n, 16);
    const invoice = await invalidByPrice(e, payer);
    const paid = await e.allowance(invoice, payer);
    await e.processor.tick();
    const late = e.get(invoice);
    expect([late.status, late.exception, late.method, late.authorizedTx]).to.deep.equal([
      "confirmed",
      null,
      "Allowance",
      paid.hash,
    ]);
    const history = e.store.history(invoice.intentId);
    expect(history.map((entry) => entry.note)).to.include(
      `authorized on chain in ${paid.hash} (block ${paid.block}) after the invoice was invalid (priceMoved): the payment stands`,
    );
    expect(history.find((entry) => entry.note.startsWith("authorized on chain"))!.status).to.equal("paid");
  });

  it("a late authorization the confirmed follower sees first: confirmed, the exception cleared", async function () {
    const e = await engine();
    const payer = await f.payer(10_000n, 16);
    const invoice = await invalidByPrice(e, payer);
    const paid = await e.allowance(invoice, payer);
    e.lag.next = 1;
    await e.processor.tick();
    const late = e.get(invoice);
    expect([late.status, late.exception, late.method, late.authorizedTx]).to.deep.equal([
      "confirmed",
      null,
      "Allowance",
      paid.hash,
    ]);
    expect(e.notes(invoice)).to.include(`authorization confirmed: ${paid.hash} (block ${paid.block})`);
  });

  it("a quote that expires with a part paid: the part goes back, and the DepositReturned event ends it expired", async function () {
    const e = await engine();
    const payer = await f.payer(10_000n, 16);
    const before = await balance(payer.address);
    const invoice = await e.quote(payer);
    await e.deposit(invoice, payer, 1_000n);
    await e.processor.tick();
    await f.suite.networkHelpers.time.increase(901);
    await e.processor.tick();
    // Sent back; the invoice stays new until the event comes.
    expect(await balance(payer.address)).to.equal(before);
    expect(e.get(invoice).status).to.equal("new");
    expect(e.notes(invoice).some((note) => note.includes("could not go back"))).to.be.false;
    await e.processor.tick();
    const expired = e.get(invoice);
    expect([expired.status, expired.deposited]).to.deep.equal(["expired", 0n]);
    expect(e.notes(invoice).some((note) => note.startsWith("1000 at the deposit address went back to the payer: "))).to
      .be.true;
    expect(e.notes(invoice)).to.not.include("the quote expired before the rest was paid");
  });

  it("a full deposit after the quote expired is not collected but sent back", async function () {
    const e = await engine();
    const payer = await f.payer(10_000n, 16);
    const before = await balance(payer.address);
    const invoice = await e.quote(payer);
    await f.suite.networkHelpers.time.increase(901);
    await e.deposit(invoice, payer);
    await e.processor.tick();
    const sent = e.get(invoice);
    expect([sent.status, sent.exception, sent.method]).to.deep.equal(["new", null, null]);
    expect(Number((await f.checkout.paymentOf(invoice.intentId)).status)).to.equal(0);
    await e.processor.tick();
    expect(e.get(invoice).status).to.equal("expired");
    expect(await balance(payer.address)).to.equal(before);
  });

  it("a full deposit in the quote's last second is collected", async function () {
    const e = await engine();
    const payer = await f.payer(10_000n, 16);
    const invoice = await e.quote(payer);
    await e.deposit(invoice, payer);
    // The service's clock at the quote's expiry exactly (the chain's is before it).
    e.clock.offsetMs = Number(invoice.intent.quoteExpiry) * 1000 - Date.now();
    await e.processor.tick();
    const collected = e.get(invoice);
    expect([collected.deposited, collected.depositSeen]).to.deep.equal([invoice.intent.tokenAmount, false]);
    expect(Number((await f.checkout.paymentOf(invoice.intentId)).status)).to.equal(1);
    await e.processor.tick();
    const paid = e.get(invoice);
    expect([paid.method, paid.deposited, paid.depositSeen]).to.deep.equal([
      "Deposit",
      invoice.intent.tokenAmount,
      false,
    ]);
    expect(["paid", "confirmed"]).to.include(paid.status);
  });

  it("a collect refused by a pause waits, noted and logged once, and is collected once the pause ends", async function () {
    const e = await engine();
    const payer = await f.payer(10_000n, 16);
    const invoice = await e.quote(payer);
    const pauser = f.checkout.connect(f.suite.accounts.pauser);
    const waits = () => e.lines.filter((line) => line.startsWith(`checkout collect ${invoice.intentId} waits: `));
    await (await pauser.pause()).wait();
    try {
      await e.deposit(invoice, payer);
      expect(await e.processor.tick()).to.equal(true);
      const waiting = e.get(invoice);
      expect([waiting.status, waiting.depositSeen, waiting.exception]).to.deep.equal(["new", true, null]);
      expect(waiting.lastError).to.contain("EnforcedPause");
      expect(waits()).to.have.length(1);
      // The next round looks at it again (a round that did something), without logging it again.
      expect(await e.processor.tick()).to.equal(true);
      expect(waits()).to.have.length(1);
      expect(await balance(invoice.depositAddress)).to.equal(invoice.intent.tokenAmount);
    } finally {
      await (await pauser.unpause()).wait();
    }
    const paid = await until(e, invoice, (now) => now.method === "Deposit");
    expect(paid.exception).to.equal(null);
  });

  it("a collect refused by a paused token waits too, and is collected once the token runs again", async function () {
    const e = await engine();
    const payer = await f.payer(10_000n, 16);
    const invoice = await e.quote(payer);
    await e.deposit(invoice, payer);
    const pauser = f.suite.token.connect(f.suite.accounts.pauser);
    await (await pauser.pause()).wait();
    try {
      expect(await e.processor.tick()).to.equal(true);
      const waiting = e.get(invoice);
      expect([waiting.status, waiting.depositSeen, waiting.exception]).to.deep.equal(["new", true, null]);
      expect(waiting.lastError).to.contain("BankTokenPaused");
    } finally {
      await (await pauser.unpause()).wait();
    }
    const paid = await until(e, invoice, (now) => now.method === "Deposit");
    expect(paid.exception).to.equal(null);
  });

  it("a deposit while another payment is being mined (CheckoutIntentUsed): the deposit goes back, the invoice stays good", async function () {
    const e = await engine({ confirmations: 2 });
    const payer = await f.payer(10_000n, 16);
    const before = await balance(payer.address);
    const invoice = await e.quote(payer);
    await e.deposit(invoice, payer);
    const paid = await e.receive(invoice, payer);
    e.lag.next = 1; // the seen follower has not got to the authorization's block yet
    await e.processor.tick();
    const raced = e.get(invoice);
    expect([raced.status, raced.exception, raced.depositSeen]).to.deep.equal(["new", null, false]);
    expect(await balance(invoice.depositAddress)).to.equal(0n);
    expect(await balance(payer.address)).to.equal(before - invoice.intent.tokenAmount);
    await e.processor.tick();
    const seen = e.get(invoice);
    expect([seen.status, seen.exception, seen.authorizedTx]).to.deep.equal(["paid", null, paid.hash]);
  });

  it("a second deposit after payment goes back; one the token refuses (a frozen payer) stays, noted once", async function () {
    const e = await engine();
    const payer = await f.payer(10_000n, 17);
    const invoice = await e.quote(payer);
    await e.receive(invoice, payer);
    await e.processor.tick();
    expect(e.get(invoice).status).to.not.equal("new");
    const compliance = f.suite.token.connect(f.suite.accounts.compliance);
    await e.deposit(invoice, payer, 500n);
    await (await compliance.freeze(payer.address)).wait();
    try {
      await e.processor.tick();
      const refused = e.get(invoice);
      expect(refused.depositSeen).to.equal(false);
      expect(refused.lastError).to.contain("BankTokenFrozen");
      const note = (text: string) =>
        text.startsWith("the deposit could not go back to the payer (a payment after the invoice was paid): ") &&
        text.endsWith("; it stays at the deposit address, and anyone may return it once the token takes it");
      expect(e.notes(invoice).filter(note)).to.have.length(1);
      await e.processor.tick();
      expect(e.notes(invoice).filter(note)).to.have.length(1);
      expect(await balance(invoice.depositAddress)).to.equal(500n);
    } finally {
      await (await compliance.unfreeze(payer.address)).wait();
    }
  });

  it("a second deposit someone else returns first (CheckoutNothingToReturn): nothing is noted", async function () {
    const e = await engine();
    const payer = await f.payer(10_000n, 16);
    const invoice = await e.quote(payer);
    await e.receive(invoice, payer);
    await until(e, invoice, (now) => now.status !== "new" && now.status !== "paid");
    await e.deposit(invoice, payer, 500n);
    await f.provider.send("evm_setAutomine", [false]);
    const stranger = f.signers[19]!;
    await f.checkout
      .connect(stranger)
      .returnDeposit(intentTuple(invoice.intent), await f.suite.token.getAddress(), { gasLimit: 300_000n });
    const before = e.get(invoice);
    await e.processor.tick();
    await f.provider.send("evm_setAutomine", [true]);
    await f.provider.send("evm_mine", []);
    const after = e.get(invoice);
    expect(after.lastError).to.equal(before.lastError);
    expect(e.notes(invoice).some((note) => note.includes("CheckoutNothingToReturn"))).to.be.false;
    expect(await balance(invoice.depositAddress)).to.equal(0n);
  });

  it("an expired quote's deposit someone else returns first: the invoice waits for the event rather than failing", async function () {
    const e = await engine();
    const payer = await f.payer(10_000n, 16);
    const invoice = await e.quote(payer);
    await e.deposit(invoice, payer, 1_000n);
    await e.processor.tick();
    await f.suite.networkHelpers.time.increase(901);
    await f.suite.networkHelpers.mine();
    await f.provider.send("evm_setAutomine", [false]);
    await f.checkout
      .connect(f.signers[19]!)
      .returnDeposit(intentTuple(invoice.intent), await f.suite.token.getAddress(), { gasLimit: 300_000n });
    await e.processor.tick();
    await f.provider.send("evm_setAutomine", [true]);
    await f.provider.send("evm_mine", []);
    expect(e.get(invoice).status).to.equal("new");
    expect(e.notes(invoice).some((note) => note.includes("could not go back"))).to.be.false;
    await e.processor.tick();
    const expired = e.get(invoice);
    expect([expired.status, expired.deposited]).to.deep.equal(["expired", 0n]);
  });

  /** The round's error while the operator has no ether for gas (its funds put back after). */
  async function brokeRound(e: Engine): Promise<unknown> {
    const funds = await f.provider.getBalance(e.operator.address);
    await f.provider.send("hardhat_setBalance", [e.operator.address, "0x0"]);
    try {
      return await e.processor.tick().then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
    } finally {
      await f.provider.send("hardhat_setBalance", [e.operator.address, `0x${funds.toString(16)}`]);
    }
  }

  it("a collect the operator cannot pay gas for fails as it is, and the deposit is looked at again", async function () {
    const e = await engine();
    const payer = await f.payer(10_000n, 16);
    const invoice = await e.quote(payer);
    await e.deposit(invoice, payer);
    const error = await brokeRound(e);
    expect(error).to.be.instanceOf(Error);
    expect(error).to.not.be.instanceOf(TypeError);
    expect(messageOf(error)).to.match(/fund/i);
    const failed = e.get(invoice);
    expect([failed.status, failed.depositSeen, failed.lastError]).to.deep.equal(["new", true, messageOf(error)]);
    const paid = await until(e, invoice, (now) => now.method === "Deposit");
    expect(paid.depositSeen).to.equal(false);
  });

  it("a return the operator cannot pay gas for fails as it is, and the deposit is looked at again", async function () {
    const e = await engine();
    const payer = await f.payer(10_000n, 16);
    const invoice = await e.quote(payer);
    await e.receive(invoice, payer);
    await e.processor.tick();
    await e.deposit(invoice, payer, 500n);
    const error = await brokeRound(e);
    expect(error).to.be.instanceOf(Error);
    expect(error).to.not.be.instanceOf(TypeError);
    const failed = e.get(invoice);
    expect([failed.depositSeen, failed.lastError]).to.deep.equal([true, messageOf(error)]);
    expect(await balance(invoice.depositAddress)).to.equal(500n);
    await e.processor.tick();
    expect(e.get(invoice).depositSeen).to.equal(false);
    expect(await balance(invoice.depositAddress)).to.equal(0n);
  });

  it("a zero transfer to the deposit address is no partial payment", async function () {
    const e = await engine();
    const payer = await f.payer(10_000n, 16);
    const invoice = await e.quote(payer);
    await e.deposit(invoice, payer, 0n);
    expect(await e.processor.tick()).to.equal(true);
    const after = e.get(invoice);
    expect([after.status, after.exception, after.deposited, after.depositSeen]).to.deep.equal(["new", null, 0n, false]);
    expect(e.notes(invoice)).to.deep.equal(["quoted"]);
    expect(await e.processor.tick()).to.equal(false);
  });

  it("a payment the retailer declines is voided: invalid, voided, money back", async function () {
    const e = await engine();
    const payer = await f.payer(10_000n, 16);
    const before = await balance(payer.address);
    const invoice = await e.quote(payer);
    await e.fail("decline", 1);
    await e.receive(invoice, payer);
    const voided = await until(e, invoice, (now) => now.purchase === "voided");
    expect(voided.status).to.equal("invalid");
    expect(e.notes(invoice).some((note) => note.startsWith("voided, money back: "))).to.be.true;
    expect(await balance(payer.address)).to.equal(before);
  });

  it("a payment the payer reclaims after the authorization expired: invalid, voided, exception reclaimed", async function () {
    const e = await engine();
    const payer = await f.payer(10_000n, 16);
    const before = await balance(payer.address);
    const invoice = await e.quote(payer);
    await e.fail("down", 1_000);
    await e.receive(invoice, payer);
    await e.processor.tick();
    const waiting = e.get(invoice);
    expect([waiting.status, waiting.exception]).to.deep.equal(["confirmed", null]);
    await f.suite.networkHelpers.time.increaseTo(invoice.intent.authorizationExpiry + 1n);
    await (await f.checkout.connect(payer).reclaim(intentTuple(invoice.intent))).wait();
    await e.processor.tick();
    const reclaimed = e.get(invoice);
    expect([reclaimed.status, reclaimed.purchase, reclaimed.exception]).to.deep.equal([
      "invalid",
      "voided",
      "reclaimed",
    ]);
    expect(e.notes(invoice).some((note) => note.startsWith("reclaimed by the payer after the authorization expired: ")))
      .to.be.true;
    expect(await balance(payer.address)).to.equal(before);
  });
});
