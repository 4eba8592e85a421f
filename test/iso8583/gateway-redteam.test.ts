/**
 * Red team of the card gateway (issue 14), over real TCP against bank A's
 * AccountLedger: an outside acquirer, a merchant colluding with a cardholder,
 * and a network that delivers late, each trying to move money that should
 * not move or to get answers that disagree with the ledger.
 *
 * Tests named `Hn_...` are attacks that succeeded when written (holes, each
 * red before its fix; their names say what the attack did); `Dn_...` pin
 * defences not covered by the other gateway tests.
 */
import { createServer, type Server } from "node:http";
import net, { type AddressInfo } from "node:net";

import { expect } from "chai";

import { encode, type Iso8583Message } from "../../src/iso8583/codec.js";
import { frame } from "../../src/iso8583/framing.js";
import { Journal } from "../../src/iso8583/journal.js";
import { withMac } from "../../src/iso8583/mac.js";
import { Store } from "../../src/store/store.js";
import {
  cardRequest,
  gatewayPerTest,
  gatewayWorld,
  IsoClient,
  openCardAccount,
  originalData,
  profile,
  refundOf,
  replacementAmounts,
  reversalOf,
  startGateway,
  type GatewayWorld,
  type RunningGateway,
} from "./gateway-helpers.js";

const ACQUIRER_B = "654321";
const MAC_ACQUIRER = "777001";
const MAC_KEY = Buffer.from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "hex");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `message` as acquirer `acquirer` sends it: DE 32, and DE 90 naming the original under that acquirer. */
function from(acquirer: string, message: Iso8583Message): Iso8583Message {
  const fields: Record<number, string> = { ...message.fields, 32: acquirer };
  if (fields[90] !== undefined) {
    fields[90] = `${fields[90].slice(0, 20)}${acquirer.padStart(11, "0")}${fields[90].slice(31)}`;
  }
  return { mti: message.mti, fields };
}

/** A refund (processing code 20) of `amount` to `wallet`'s card naming `sale` by DE 90. */
describe("iso8583: the gateway under attack (red team)", function () {
  this.timeout(120_000);
  const gw = gatewayPerTest({ timeoutMs: 5_000, macKeys: new Map([[MAC_ACQUIRER, MAC_KEY]]) });

  const ask = (message: Iso8583Message) => gw.client.request(message);
  const code = async (message: Iso8583Message) => (await ask(message)).fields[39];
  const block = () => gw.world.suite.connection.provider.request({ method: "eth_blockNumber" });

  describe("a message answered 91 and known not posted (failed) is processed afresh", function () {
    it("H1_aReversalApprovedFor91dOriginalIsUndoneByALateRepeatOfTheOriginal", async function () {
      const { wallet } = await openCardAccount(gw.world, 5_000n);
      const debit = cardRequest("0200", wallet, 1_000n);
      await gw.world.proxy.setMode("refuse");
      expect(await code(debit)).to.equal("91");
      await gw.world.proxy.setMode("up");
      // The acquirer reverses the transaction it got no approval for; the gateway acknowledges it.
      expect(await code(reversalOf(debit))).to.equal("00");
      // A repeat of the original still travelling in the network arrives after the reversal.
      const late = await ask({ ...debit, mti: "0201" });
      // Approving it debits a transaction the acquirer has reversed and will never settle.
      expect(late.fields[39], "a repeat of a reversed transaction").to.equal("12");
      expect((await profile(gw.world, wallet)).token).to.equal(5_000n);
    });

    it("H2_aDifferentMessageReusingAFailedIdentityPostsUnderTheFailedRowsAmountSoARefundExceedsTheSale", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const first = cardRequest("0200", wallet, 5_000n);
      await gw.world.proxy.setMode("refuse");
      expect(await code(first)).to.equal("91");
      await gw.world.proxy.setMode("up");
      // Same identity (acquirer, terminal, merchant, STAN, DE 12/13, RRN), another amount: a different message.
      const cheap = cardRequest("0200", wallet, 10n, { 11: first.fields[11]!, 37: first.fields[37]! });
      expect(await code(cheap)).to.be.oneOf(["00", "94"]);
      // The journal still says 5,000 for this sale: the merchant refunds 5,000 on a sale that took 10.
      const refund = await code(refundOf(first, wallet, 5_000n));
      expect(refund, "a refund of 5,000 on a sale that took 10").to.not.equal("00");
      expect((await profile(gw.world, wallet)).token, "the cardholder gets back more than was paid").to.be.at.most(
        10_000n,
      );
    });

    it("H3_aFailedIdentityRetriedWithAnotherCardDebitsThatCardButRefundsGoToTheFirst", async function () {
      const alice = await openCardAccount(gw.world, 10_000n);
      const bob = await openCardAccount(gw.world, 10_000n);
      const first = cardRequest("0200", alice.wallet, 5_000n);
      await gw.world.proxy.setMode("refuse");
      expect(await code(first)).to.equal("91");
      await gw.world.proxy.setMode("up");
      // The same identity, now with Bob's card: the ledger debits Bob, the journal keeps Alice's card and wallet.
      await code(cardRequest("0200", bob.wallet, 5_000n, { 11: first.fields[11]!, 37: first.fields[37]! }));
      // A refund of "the sale" with Alice's card credits Alice with what Bob paid.
      await code(refundOf(first, alice.wallet, 5_000n));
      expect((await profile(gw.world, alice.wallet)).token, "Alice never paid, yet is refunded").to.equal(10_000n);
    });
    it("H14_aFailedPartialReversalRetriedAsAFullOneIsJournaledAsPartialSoARefundOnTopPaysBackMoreThanTheSale", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const sale = cardRequest("0200", wallet, 1_000n);
      expect(await code(sale)).to.equal("00");
      const partial = reversalOf(sale);
      const de95 = replacementAmounts(900n);
      await gw.world.proxy.setMode("refuse");
      expect(await code({ ...partial, fields: { ...partial.fields, 95: de95 } })).to.equal("91"); // 100 back
      await gw.world.proxy.setMode("up");
      // The same reversal identity, now without DE 95: reverses the whole 1,000; the journal keeps 100.
      const full = await code(partial);
      expect(full).to.be.oneOf(["00", "94"]);
      // The merchant refunds what the journal thinks is left of the sale.
      await code(refundOf(sale, wallet, 900n));
      expect((await profile(gw.world, wallet)).token, "paid 1,000, got more back").to.be.at.most(10_000n);
    });
  });

  describe("DE 7 of a retransmission", function () {
    it("H4_aReversalAdviceNamingTheRetransmissionsDE7IsApprovedButReversesNothing", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const debit = cardRequest("0200", wallet, 1_000n);
      expect(await code(debit)).to.equal("00");
      // The response was lost; the acquirer retransmits with a new DE 7 and gets the first answer.
      const retransmission: Iso8583Message = { mti: "0200", fields: { ...debit.fields, 7: "1128120507" } };
      expect(await code(retransmission)).to.equal("00");
      // It then reverses the transaction, naming the last transmission it sent in DE 90.
      const advice = await ask(reversalOf(retransmission, "0420"));
      expect([advice.mti, advice.fields[39]]).to.deep.equal(["0430", "00"]);
      expect((await profile(gw.world, wallet)).token, "a reversal approved with 00 must have reversed").to.equal(
        10_000n,
      );
    });

    it("H5_aRetransmissionWithANewDE7SlipsPastAReversalThatOvertookTheOriginal", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const debit = cardRequest("0200", wallet, 1_000n);
      // The original never arrived; the acquirer's reversal advice does, and is acknowledged.
      const advice = await ask(reversalOf(debit, "0420"));
      expect([advice.mti, advice.fields[39]]).to.deep.equal(["0430", "00"]);
      // Then a retransmission of the original (same identity, new DE 7) is delivered late.
      const late = await ask({ mti: "0200", fields: { ...debit.fields, 7: "1128120507" } });
      expect(late.fields[39], "a late original of a reversed transaction").to.not.equal("00");
      expect((await profile(gw.world, wallet)).token).to.equal(10_000n);
    });

    it("H9_aReversalNamingTheAdviceThatRepeatedAnAuthorizationIsApprovedButReleasesNothing", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const hold = cardRequest("0100", wallet, 2_000n);
      expect(await code(hold)).to.equal("00");
      // The 0110 was lost; the acquirer stood in and sends the same transaction as a 0120 advice: a repeat.
      const standIn = { ...hold, mti: "0120" };
      expect((await ask(standIn)).fields[39]).to.equal("00");
      expect(await profile(gw.world, wallet)).to.deep.equal({ token: 10_000n, held: 2_000n });
      // The sale is cancelled: the acquirer reverses the advice it sent.
      const advice = await ask(reversalOf(standIn, "0420"));
      expect([advice.mti, advice.fields[39]]).to.deep.equal(["0430", "00"]);
      expect(await profile(gw.world, wallet), "a reversal approved with 00 must have released the hold").to.deep.equal({
        token: 10_000n,
        held: 0n,
      });
    });
  });

  describe("refunds and reversals racing", function () {
    it("H6_aRefundCheckedWhileTheReversalOfAnEarlierRefundIsInFlightCountsThatReversalBeforeItLands", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const sale = cardRequest("0200", wallet, 1_000n);
      expect(await code(sale)).to.equal("00");
      const refund = refundOf(sale, wallet, 1_000n);
      expect(await code(refund)).to.equal("00");
      // The cardholder spends the refund at once: the merchant's reversal of it will fail (51).
      expect(await code(cardRequest("0200", wallet, 9_500n))).to.equal("00");
      expect((await profile(gw.world, wallet)).token).to.equal(500n);
      await gw.world.proxy.setMode("hold");
      const reversal = ask(reversalOf(refund));
      await sleep(300);
      // While that reversal is under way the merchant refunds the sale again.
      const again = ask(refundOf(sale, wallet, 1_000n));
      await sleep(300);
      await gw.world.proxy.setMode("up");
      const [reversed, refundedAgain] = [(await reversal).fields[39], (await again).fields[39]];
      expect(reversed).to.equal("51");
      expect(refundedAgain, "a second full refund of a 1,000 sale").to.not.equal("00");
      // Paid 1,000 for the sale, 9,500 for the other purchase: at most 1,000 may come back.
      expect((await profile(gw.world, wallet)).token).to.equal(500n);
    });
  });

  describe("repeats of a message declined before the ledger", function () {
    it("H7_aRepeatOfADeclineFromTheCardFileIsApprovedOnceTheCardIsUnblocked", async function () {
      const { wallet, pan } = await openCardAccount(gw.world, 10_000n);
      gw.world.cards.put(pan, "3012", wallet, "blocked");
      const debit = cardRequest("0200", wallet, 1_000n);
      expect(await code(debit)).to.equal("62");
      gw.world.cards.put(pan, "3012", wallet);
      // The acquirer saw 62 and the customer left; a repeat must get that first answer and post nothing.
      const repeat = await ask({ ...debit, mti: "0201" });
      expect(repeat.fields[39], "repeat of a 62").to.equal("62");
      expect((await profile(gw.world, wallet)).token).to.equal(10_000n);
    });
  });

  describe("who is the acquirer", function () {
    it("H12_anOutsideClientClaimingAnAcquirerWithoutAMacKeyReversesThatAcquirersPayment", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const debit = cardRequest("0200", wallet, 4_000n);
      expect(await code(debit)).to.equal("00");
      // Another TCP client, not the acquirer, copies the acquirer id (echoed in every response) into DE 32. The
      // gateway as configured off the devnet (and by default) takes no message from an acquirer without a MAC key.
      const guarded = await startGateway(gw.world, { acceptUnauthenticated: false });
      const outsider = await IsoClient.connect(guarded.port);
      try {
        const forged = await outsider.request(reversalOf(debit));
        expect(forged.fields[39], "a reversal from a client that is not acquirer 123456").to.equal("63");
      } finally {
        outsider.close();
        await guarded.stop();
      }
      expect((await profile(gw.world, wallet)).token).to.equal(6_000n);
    });
  });

  describe("a client that does not read its answers", function () {
    it("H15_theGatewayKeepsReadingAndBuffersEveryAnswerForAClientThatNeverReadsThem", async function () {
      // No acquirer id needed: 0800 echo requests, 17 MB of them, from a client that never reads a byte.
      const reader = await IsoClient.connect(gw.running.port);
      // Watch the gateway's side of that connection: how much it has queued for a client that does not read.
      const write = net.Socket.prototype.write as (this: net.Socket, ...args: unknown[]) => boolean;
      let queued = 0;
      net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]): boolean {
        const accepted = write.apply(this, args);
        if (this.localPort === gw.running.port && this.remotePort === reader.socket.localPort) {
          queued = Math.max(queued, this.writableLength);
        }
        return accepted;
      } as typeof net.Socket.prototype.write;
      try {
        reader.socket.pause();
        const one = frame(encode({ mti: "0800", fields: { 7: "1128120000", 11: "000001", 70: "301" } }), "binary2");
        const count = 300_000;
        const flood = Buffer.alloc(one.length * count);
        for (let i = 0; i < count; i += 1) one.copy(flood, i * one.length);
        reader.socket.write(flood);
        for (let i = 0; i < 50 && reader.socket.writableLength > 0; i += 1) await sleep(100);
        await sleep(500);
        expect(queued, "bytes of answers the gateway queued in memory for one client").to.be.below(1_000_000);
      } finally {
        net.Socket.prototype.write = write as typeof net.Socket.prototype.write;
        reader.close();
      }
    });
  });

  describe("defences kept", function () {
    it("D1_anUnsignedMessageFromTheMacAcquirerUnderAnyDE32SpellingIs63AndMovesNothing", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const debit = withMac(MAC_KEY, from(MAC_ACQUIRER, cardRequest("0200", wallet, 1_000n)));
      expect(await code(debit)).to.equal("00");
      const before = await block();
      for (const spelling of ["0777001", "00000777001", "000777001"]) {
        // An outsider reverses or refunds the MAC acquirer's debit, spelling its id with leading zeros.
        const { 64: _mac, ...reversal } = from(spelling, reversalOf(debit)).fields;
        expect(await code({ mti: "0400", fields: reversal }), `reversal as ${spelling}`).to.equal("63");
        const { 64: _refundMac, ...refund } = from(spelling, refundOf(debit, wallet, 1_000n)).fields;
        expect(await code({ mti: "0200", fields: refund }), `refund as ${spelling}`).to.equal("63");
        // Nor does a MAC under another key, or in DE 128 and DE 64 together, pass.
        expect(await code(withMac(Buffer.alloc(32, 1), from(spelling, reversalOf(debit))))).to.equal("63");
      }
      // A genuine MAC in DE 128 (the reversal has DE 90) copied into DE 64 as well: both present is refused.
      const signed = withMac(MAC_KEY, from(MAC_ACQUIRER, reversalOf(debit)));
      const both = Buffer.from(encode({ mti: signed.mti, fields: { ...signed.fields, 64: signed.fields[128]! } }));
      gw.client.sendRaw(both);
      expect((await waitForStan(gw.client, signed.fields[11]!)).fields[39]).to.equal("63");
      expect(await block()).to.equal(before);
      expect((await profile(gw.world, wallet)).token).to.equal(9_000n);
    });

    it("D2_aBadMacMessageDoesNotSquatTheIdentityOfTheGenuineOne", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const genuine = withMac(MAC_KEY, from(MAC_ACQUIRER, cardRequest("0200", wallet, 1_000n)));
      // An outsider sends the same identity with another amount and a forged MAC first.
      const squat = from(
        MAC_ACQUIRER,
        cardRequest("0200", wallet, 9_000n, {
          11: genuine.fields[11]!,
          37: genuine.fields[37]!,
          64: "0123456789ABCDEF",
        }),
      );
      expect(await code(squat)).to.equal("63");
      const first = await ask(genuine);
      expect(first.fields[39]).to.equal("00");
      const repeat = await ask(withMac(MAC_KEY, { ...genuine, mti: "0201" }));
      expect([repeat.fields[38], repeat.fields[39]]).to.deep.equal([first.fields[38], "00"]);
      expect((await profile(gw.world, wallet)).token).to.equal(9_000n);
    });

    it("D3_anotherAcquirerCannotRefundASaleByDE90OrDE37", async function () {
      const alice = await openCardAccount(gw.world, 10_000n);
      const sale = cardRequest("0200", alice.wallet, 2_000n);
      expect(await code(sale)).to.equal("00");
      const before = await block();
      // B names A's sale with A's acquirer id in DE 90, with its own, and by A's RRN; same merchant id, same card.
      const forged = { mti: "0200", fields: { ...refundOf(sale, alice.wallet, 2_000n).fields, 32: ACQUIRER_B } };
      expect(await code(forged)).to.equal("25");
      expect(await code(from(ACQUIRER_B, refundOf(sale, alice.wallet, 2_000n)))).to.equal("25");
      const byRrn = from(ACQUIRER_B, cardRequest("0200", alice.wallet, 2_000n, { 3: "200000", 37: sale.fields[37]! }));
      expect(await code(byRrn)).to.equal("25");
      expect(await block()).to.equal(before);
      expect((await profile(gw.world, alice.wallet)).token).to.equal(8_000n);
    });

    it("D4_refundsPartialReversalsAndReversalsOfRefundsNeverGiveBackMoreThanWasPaid", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const sale = cardRequest("0200", wallet, 1_000n);
      expect(await code(sale)).to.equal("00");
      const refund = refundOf(sale, wallet, 300n);
      expect(await code(refund)).to.equal("00"); // 700 left
      const partial = reversalOf(sale);
      const de95 = replacementAmounts(500n);
      expect(await code({ ...partial, fields: { ...partial.fields, 95: de95 } })).to.equal("00"); // 200 back, 500 left
      expect((await profile(gw.world, wallet)).token).to.equal(9_500n);
      expect(await code(refundOf(sale, wallet, 501n))).to.equal("13");
      expect(await code(reversalOf(sale))).to.equal("00"); // the last 500
      expect((await profile(gw.world, wallet)).token).to.equal(10_000n);
      expect(await code(refundOf(sale, wallet, 1n))).to.equal("13");
      expect(await code(reversalOf(sale))).to.equal("00"); // nothing left: moves nothing
      // The merchant takes the refund back: 300 of the sale may be refunded again, no more.
      expect(await code(reversalOf(refund))).to.equal("00");
      expect(await code(refundOf(sale, wallet, 301n))).to.equal("13");
      expect(await code(refundOf(sale, wallet, 300n))).to.equal("00");
      expect((await profile(gw.world, wallet)).token).to.equal(10_000n);
    });

    it("D6_twoRefundsOfOneSaleSentTogetherCannotTogetherExceedIt", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const sale = cardRequest("0200", wallet, 1_000n);
      expect(await code(sale)).to.equal("00");
      const answers = await Promise.all([ask(refundOf(sale, wallet, 600n)), ask(refundOf(sale, wallet, 600n))]);
      expect(answers.map((answer) => answer.fields[39]).sort()).to.deep.equal(["00", "13"]);
      expect((await profile(gw.world, wallet)).token).to.equal(9_600n);
    });

    it("D5_twoDifferentReversalsOfOneDebitSentTogetherReverseItOnce", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const debit = cardRequest("0200", wallet, 1_000n);
      expect(await code(debit)).to.equal("00");
      const one = reversalOf(debit);
      const two = reversalOf(debit, "0420");
      const partial = reversalOf(debit);
      const three = { ...partial, fields: { ...partial.fields, 95: replacementAmounts(400n) } };
      const answers = await Promise.all([ask(one), ask(two), ask(three)]);
      for (const answer of answers) expect(["00", "13"]).to.include(answer.fields[39]);
      expect((await profile(gw.world, wallet)).token).to.equal(10_000n);
      // And a completion or a refund of it afterwards finds nothing to take.
      expect(await code(refundOf(debit, wallet, 1n))).to.equal("13");
    });
  });
});

/**
 * A JSON-RPC proxy in front of the in-process chain that can keep
 * `eth_sendTransaction` while answering reads: a node that has taken a
 * transaction and mines it late.
 */
class LateMiningProxy {
  holdSends = false;
  readonly #held: Array<(dropped: boolean) => void> = [];
  readonly #server: Server;

  constructor(request: (payload: { method: string; params?: unknown[] }) => Promise<unknown>) {
    this.#server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += String(chunk)));
      req.on("end", () => {
        void (async () => {
          const payload = JSON.parse(body) as
            | { id: number; method: string; params?: unknown[] }
            | Array<{ id: number; method: string; params?: unknown[] }>;
          const one = async (call: { id: number; method: string; params?: unknown[] }) => {
            if (call.method === "eth_sendTransaction" && this.holdSends) {
              const dropped = await new Promise<boolean>((resolve) => this.#held.push(resolve));
              // A node that lost the transaction (restarted, evicted it from its pool): it never lands.
              if (dropped) return { jsonrpc: "2.0", id: call.id, error: { code: -32000, message: "dropped" } };
            }
            try {
              return {
                jsonrpc: "2.0",
                id: call.id,
                result: await request({ method: call.method, params: call.params ?? [] }),
              };
            } catch (error) {
              const e = error as { code?: number; message?: string; data?: unknown };
              return {
                jsonrpc: "2.0",
                id: call.id,
                error: { code: e.code ?? -32603, message: e.message, data: e.data },
              };
            }
          };
          const result = Array.isArray(payload) ? await Promise.all(payload.map(one)) : await one(payload);
          res.setHeader("content-type", "application/json");
          res.end(JSON.stringify(result));
        })();
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Lets the held transactions through (they land), or drops them (they never land). */
  release(drop = false): void {
    this.holdSends = false;
    for (const resolve of this.#held.splice(0)) resolve(drop);
  }

  async stop(): Promise<void> {
    this.release();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

describe("iso8583: the gateway under attack (red team): a transaction mined after its grace period", function () {
  this.timeout(120_000);
  let world: GatewayWorld;
  let proxy: LateMiningProxy;
  let running: RunningGateway;
  let client: IsoClient;

  before(async function () {
    world = await gatewayWorld();
    proxy = new LateMiningProxy((payload) => world.suite.connection.provider.request(payload));
    const rpcUrl = await proxy.start();
    running = await startGateway(
      { ...world, rpcUrl },
      { timeoutMs: 1_000, unknownGraceMs: 0, reconcileIntervalMs: 3_600_000 },
    );
    client = await IsoClient.connect(running.port);
  });
  after(async function () {
    client?.close();
    await running?.stop();
    await proxy?.stop();
    await world?.proxy.stop();
  });

  it("H8_aDebitAnswered91AndSettledAsNotPostedLandsLaterAndItsApprovedReversalReversesNothing", async function () {
    const { wallet } = await openCardAccount(world, 10_000n);
    const debit = cardRequest("0200", wallet, 1_000n);
    proxy.holdSends = true;
    expect((await client.request(debit)).fields[39]).to.equal("91");
    // The grace period is over and the key is not used yet: the reconciler settles it as not posted.
    await running.gateway.reconcile();
    // The node mines the transaction it had taken.
    proxy.release();
    for (let i = 0; i < 100 && (await profile(world, wallet)).token === 10_000n; i += 1) await sleep(50);
    expect((await profile(world, wallet)).token).to.equal(9_000n);
    await running.gateway.reconcile();
    // The acquirer, having had 91, reverses; the gateway approves the reversal.
    expect((await client.request(reversalOf(debit))).fields[39]).to.equal("00");
    await running.gateway.reconcile();
    expect((await profile(world, wallet)).token, "debited though answered 91 and reversed with 00").to.equal(10_000n);
  });
  it("H10_aReversalAnswered91AndSettledAsNotPostedLandsLaterAndARefundOnTopPaysTheSaleBackTwice", async function () {
    const { wallet } = await openCardAccount(world, 10_000n);
    const sale = cardRequest("0200", wallet, 1_000n);
    expect((await client.request(sale)).fields[39]).to.equal("00");
    proxy.holdSends = true;
    expect((await client.request(reversalOf(sale))).fields[39]).to.equal("91");
    await running.gateway.reconcile(); // grace over, key unused: the reversal "did not post"
    proxy.release();
    for (let i = 0; i < 100 && (await profile(world, wallet)).token === 9_000n; i += 1) await sleep(50);
    expect((await profile(world, wallet)).token).to.equal(10_000n); // it landed after all
    await running.gateway.reconcile();
    // The merchant, told the reversal failed, refunds the sale instead.
    const refund = await client.request(refundOf(sale, wallet, 1_000n));
    expect(refund.fields[39], "a refund of a sale already reversed on the ledger").to.not.equal("00");
    expect((await profile(world, wallet)).token, "paid 1,000, got 2,000 back").to.equal(10_000n);
  });
  it("H13_aSecondReversalApprovedWhileTheFirstIsOfUnknownFateReversesNothingWhenTheFirstNeverLands", async function () {
    const { wallet } = await openCardAccount(world, 10_000n);
    const sale = cardRequest("0200", wallet, 1_000n);
    expect((await client.request(sale)).fields[39]).to.equal("00");
    proxy.holdSends = true;
    expect((await client.request(reversalOf(sale))).fields[39]).to.equal("91");
    proxy.release(true); // that reversal never reaches a block
    // The acquirer sends a new reversal (new STAN): what is left to reverse rests on the first one: 91, not 00.
    const second = reversalOf(sale);
    expect((await client.request(second)).fields[39]).to.equal("91");
    await running.gateway.reconcile(); // the first one's key is voided on the ledger: it counts as not posted
    const repeated = await client.request({ ...second, mti: "0401" });
    expect(repeated.fields[39]).to.equal("00");
    expect((await profile(world, wallet)).token, "charged after a reversal approved with 00").to.equal(10_000n);
  });
});

describe("iso8583: the gateway under attack (red team): a journal commit that fails once", function () {
  this.timeout(120_000);
  let world: GatewayWorld;

  before(async function () {
    world = await gatewayWorld();
  });
  after(async function () {
    await world?.proxy.stop();
  });

  it("H11_oneFailedGroupCommitLeavesTheJournalInATransactionItCannotLeaveAndTheGatewayStopsAnswering", async function () {
    // The journal's store, whose next COMMIT fails once (SQLITE_BUSY, IOERR: the transaction may stay open).
    const store = Store.open({ path: ":memory:" });
    let failNextCommit = false;
    const flaky = new Proxy(store, {
      get(target, property) {
        if (property === "exec") {
          return (sql: string) => {
            if (sql === "COMMIT" && failNextCommit) {
              failNextCommit = false;
              throw new Error("database is locked");
            }
            target.exec(sql);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const running = await startGateway(world, { journal: new Journal(flaky), timeoutMs: 2_000 });
    const client = await IsoClient.connect(running.port);
    try {
      const { wallet } = await openCardAccount(world, 10_000n);
      failNextCommit = true;
      // The commit before the batch is sent fails: the debit is not sent; it must still be answered (91).
      const first = await client.request(cardRequest("0200", wallet, 1_000n), 3_000).catch(() => undefined);
      // The store works again: the next debit must be journaled durably, posted and answered.
      const second = await client.request(cardRequest("0200", wallet, 500n), 3_000).catch(() => undefined);
      // Both go unanswered ("cannot start a transaction within a transaction"), and so does every later
      // message that writes the journal, until the gateway is restarted.
      expect([first?.fields[39], second?.fields[39]], "answers after one failed commit").to.deep.equal(["91", "00"]);
      expect((await profile(world, wallet)).token).to.equal(9_500n);
    } finally {
      client.close();
      await running.stop().catch(() => undefined);
      store.close();
    }
  });
});

async function waitForStan(client: IsoClient, stan: string, timeoutMs = 10_000): Promise<Iso8583Message> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = client.received.find((message) => message.fields[11] === stan);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no answer for STAN ${stan}`);
    await sleep(20);
  }
}
