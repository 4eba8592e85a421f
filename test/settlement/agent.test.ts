import { expect } from "chai";

import { INTERNAL } from "../../src/settlement/bookings.js";
import { RETRY_AFTER_SECONDS } from "../../src/settlement/http.js";
import { accountRefOf, settlementIdOf, termsDigest } from "../../src/settlement/terms.js";
import {
  ALICE_OPENING,
  expectBalanced,
  givenUp,
  http,
  orderJson,
  startBanks,
  stepsOf,
  waitForPayment,
  type Banks,
  type PaymentJson,
} from "./helpers.js";

interface ErrorJson {
  error: { code: string; message: string; field?: string };
}

const order = orderJson;

describe("settlement: bank agents on the in-process chain", function () {
  let banks: Banks | undefined;
  const extra: Array<{ stop(): Promise<void> }> = [];

  afterEach(async function () {
    for (const agent of extra.splice(0)) await agent.stop();
    if (banks === undefined) return;
    await banks.stop();
    // Both core ledgers balance after every test, and the chain holds exactly what is in flight.
    expectBalanced(banks.a, banks.b);
    const { token, ledger } = banks.suite;
    expect(await token.balanceOf(await banks.settlement.getAddress())).to.equal(await banks.settlement.totalInFlight());
    expect(await ledger.totalOutstanding()).to.equal(await token.totalSupply());
    banks = undefined;
  });

  /** Every customer and internal balance at both banks, and the token's supply. */
  async function snapshot(b: Banks) {
    return {
      a: b.a.ledger.accounts().map((account) => [account.id, account.balance]),
      b: b.b.ledger.accounts().map((account) => [account.id, account.balance]),
      entries: [b.a.ledger.entries().length, b.b.ledger.entries().length],
      supply: await b.suite.token.totalSupply(),
      inFlight: await b.settlement.totalInFlight(),
    };
  }

  it("happy path: A debits and initiates, B credits and smelts, A acknowledges; the positions agree", async function () {
    banks = await startBanks();
    const { a, b, suite } = banks;
    const posted = await http<PaymentJson>(`${a.url}/payments`, "POST", order("E2E-1"));
    expect(posted.status, JSON.stringify(posted.body)).to.equal(202);
    expect(posted.body.status).to.equal("Accepted");
    expect(posted.body.debtor).to.deep.equal({ bank: "A", account: "alice", status: "Debited" });
    // The reply means the money has left the customer's account.
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING - 12_345n);

    const done = await waitForPayment(a, "E2E-1", (p) => p.status === "Acknowledged");
    expect(done.debtor.status).to.equal("Acknowledged");
    expect(done.creditor).to.deep.equal({ bank: "B", account: "bob", status: "Smelted" });
    const atB = await waitForPayment(b, "E2E-1", (p) => p.debtor.status === "Acknowledged");
    expect(atB.direction).to.equal("inbound");
    expect(atB.creditor).to.deep.equal({ bank: "B", account: "bob", status: "Smelted" });

    expect(stepsOf(a, "outbound", "E2E-1")).to.deep.equal(["debit", "acknowledge"]);
    expect(stepsOf(b, "inbound", "E2E-1")).to.deep.equal(["credit", "smelt"]);
    expect(b.ledger.balance("bob")).to.equal(1_000n + 12_345n);
    expect(a.ledger.balance(INTERNAL.trust)).to.equal(0n);
    expect(b.ledger.balance(INTERNAL.suspense)).to.equal(0n);
    // A owes B what B's ledger says A owes it, and what the reserve ledger says B claims on A.
    const claim = await suite.ledger.claimOf(await suite.trustB.getAddress(), await suite.trustA.getAddress());
    expect(claim).to.equal(12_345n);
    expect(a.ledger.balance(INTERNAL.dueTo("B"))).to.equal(claim);
    expect(b.ledger.balance(INTERNAL.dueFrom("A"))).to.equal(claim);
    expect(await banks.settlement.stateOf(banks.a.trustAccount, settlementIdOf("E2E-1"))).to.equal(4n); // Acknowledged
    expect(await suite.token.totalSupply()).to.equal(0n);
  });

  it("the agent's terms digest is the contract's", async function () {
    banks = await startBanks();
    const terms = {
      id: settlementIdOf("DIGEST-1"),
      debtorBank: banks.a.trustAccount,
      creditorBank: banks.b.trustAccount,
      amount: 987_654_321n,
      creditorAccountRef: accountRefOf("bob"),
      deadline: 1_900_000_000,
    };
    expect(await banks.settlement.hashTerms({ ...terms, deadline: BigInt(terms.deadline) })).to.equal(
      termsDigest(terms),
    );
  });

  for (const [account, reason] of [
    ["closed-1", "AC04"],
    ["blocked-1", "AC06"],
    ["nobody", "AC01"],
  ] as const) {
    it(`rejection and return: B rejects a payment to ${account} with ${reason}; A takes it back`, async function () {
      banks = await startBanks();
      const { a, b } = banks;
      const posted = await http(`${a.url}/payments`, "POST", order("REJ-1", { creditorAccount: account }));
      expect(posted.status).to.equal(202);
      const done = await waitForPayment(a, "REJ-1", (p) => p.status === "Returned");
      expect(done.debtor.status).to.equal("Returned");
      expect(done.creditor.status).to.equal("Rejected");
      expect(done.reason).to.equal(reason);
      const atB = await waitForPayment(b, "REJ-1", (p) => p.debtor.status === "Returned");
      expect(atB.creditor.status).to.equal("Rejected");
      expect(stepsOf(a, "outbound", "REJ-1")).to.deep.equal(["debit", "return"]);
      expect(stepsOf(b, "inbound", "REJ-1")).to.deep.equal([]);
      expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING);
      expect(await banks.settlement.stateOf(banks.a.trustAccount, settlementIdOf("REJ-1"))).to.equal(6n); // Returned
      expect(await banks.suite.token.totalSupply()).to.equal(0n);
    });
  }

  it("expiry and refund: B is down past the deadline, A refunds; B, back, reverses its late credit", async function () {
    banks = await startBanks({ ttlSeconds: 600 });
    const { a, stores, suite } = banks;
    await banks.b.stop();
    const posted = await http(`${a.url}/payments`, "POST", order("EXP-1"));
    expect(posted.status).to.equal(202);
    await waitForPayment(a, "EXP-1", (p) => p.debtor.status === "Initiated");
    await suite.networkHelpers.time.increase(601);
    await suite.networkHelpers.mine(1);
    const done = await waitForPayment(a, "EXP-1", (p) => p.status === "Refunded");
    expect(done.creditor.status).to.equal("Expired");
    expect(stepsOf(a, "outbound", "EXP-1")).to.deep.equal(["debit", "refund"]);
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING);
    expect(await banks.settlement.stateOf(banks.a.trustAccount, settlementIdOf("EXP-1"))).to.equal(8n); // Refunded

    // B comes back and replays the payment's events: it credits Bob on seeing it arrive, cannot smelt
    // (expired), and reverses the credit on seeing the refund. Its ledger ends where it began.
    const b = banks.agent("B", stores.b);
    extra.push(b);
    await b.start();
    const atB = await waitForPayment(b, "EXP-1", (p) => p.debtor.status === "Refunded");
    expect(atB.creditor.status).to.equal("Reversed");
    expect(stepsOf(b, "inbound", "EXP-1")).to.deep.equal(["credit", "reversal"]);
    expect(b.ledger.balance("bob")).to.equal(1_000n);
    expect(b.ledger.balance(INTERNAL.suspense)).to.equal(0n);
    expectBalanced(b);
  });

  it("limits reached: a paused corridor and the in-flight and window caps refuse with 422, posting nothing", async function () {
    banks = await startBanks();
    const { a, settlement } = banks;
    const [trustA, trustB] = [a.trustAccount, banks.b.trustAccount];
    const before = await snapshot(banks);

    await settlement.pauseCorridor(trustA, trustB);
    const paused = await http<ErrorJson>(`${a.url}/payments`, "POST", order("LIM-1"));
    expect(paused.status).to.equal(422);
    expect(paused.body.error.code).to.equal("CORRIDOR_PAUSED");
    await settlement.unpauseCorridor(trustA, trustB);

    await settlement.setCorridorLimits(trustA, trustB, 10_000n, 1_000_000n, 86_400);
    const inFlight = await http<ErrorJson>(`${a.url}/payments`, "POST", order("LIM-2", { amount: "10001" }));
    expect(inFlight.status).to.equal(422);
    expect(inFlight.body.error).to.include({ code: "CORRIDOR_LIMIT_EXCEEDED", field: "amount" });
    expect(inFlight.body.error.message).to.match(/in-flight limit/);

    await settlement.setCorridorLimits(trustA, trustB, 1_000_000n, 5_000n, 86_400);
    const window = await http<ErrorJson>(`${a.url}/payments`, "POST", order("LIM-3", { amount: "5001" }));
    expect(window.status).to.equal(422);
    expect(window.body.error.code).to.equal("CORRIDOR_LIMIT_EXCEEDED");
    expect(window.body.error.message).to.match(/window limit/);

    expect(await snapshot(banks)).to.deep.equal(before);
    expect((await http(`${a.url}/payments/LIM-1`, "GET")).status).to.equal(404);
    // Within the limits the same corridor still pays.
    expect((await http(`${a.url}/payments`, "POST", order("LIM-4", { amount: "5000" }))).status).to.equal(202);
    await waitForPayment(a, "LIM-4", (p) => p.status === "Acknowledged");
  });

  it("orders that arrive together are asked of the chain together: only the one over the limit is refused", async function () {
    banks = await startBanks();
    const { a, settlement } = banks;
    await settlement.setCorridorLimits(a.trustAccount, banks.b.trustAccount, 10_000n, 1_000_000n, 86_400);
    const amounts = ["100", "200", "10001", "300", "400"];
    const answers = await Promise.all(
      amounts.map((amount, i) => http<ErrorJson>(`${a.url}/payments`, "POST", order(`TOGETHER-${i}`, { amount }))),
    );
    expect(answers.map((answer) => answer.status)).to.deep.equal([202, 202, 422, 202, 202]);
    expect(answers[2]!.body.error).to.include({ code: "CORRIDOR_LIMIT_EXCEEDED", field: "amount" });
    for (const i of [0, 1, 3, 4]) await waitForPayment(a, `TOGETHER-${i}`, (p) => p.status === "Acknowledged");
    expect((await http(`${a.url}/payments/TOGETHER-2`, "GET")).status).to.equal(404);
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING - 1_000n);
  });

  it("a payment the chain refuses after acceptance fails and re-credits the customer, moving no token", async function () {
    banks = await startBanks();
    const { settlement } = banks;
    // A accepts and stops before it sends; the corridor is paused meanwhile; A again meets the refusal.
    const restarted = await givenUp(banks, order("LATE-1"));
    extra.push(restarted);
    const failed = await waitForPayment(restarted, "LATE-1", (p) => p.status === "Failed");
    expect(failed.reason).to.equal("InterbankSettlementCorridorPaused");
    expect(stepsOf(restarted, "outbound", "LATE-1")).to.deep.equal(["debit", "reversal"]);
    expect(restarted.ledger.balance("alice")).to.equal(ALICE_OPENING);
    expect(await settlement.stateOf(banks.a.trustAccount, settlementIdOf("LATE-1"))).to.equal(0n);
    expect(await banks.suite.token.totalSupply()).to.equal(0n);
    expectBalanced(restarted);
  });

  describe("bad input: a clear error, no posting on any ledger, no token moved", function () {
    let shared: Banks;
    before(async function () {
      shared = await startBanks();
    });
    after(async function () {
      await shared.stop();
      expectBalanced(shared.a, shared.b);
    });

    const cases: Array<[string, number, string, unknown, { raw?: string; contentType?: string }?]> = [
      ["unknown bank", 422, "UNKNOWN_BANK", order("BAD-1", { creditorBank: "Z" })],
      ["own bank", 422, "SAME_BANK", order("BAD-2", { creditorBank: "A" })],
      ["zero amount", 422, "AMOUNT_ZERO", order("BAD-3", { amount: "0" })],
      ["amount over the cap", 422, "AMOUNT_OVER_CAP", order("BAD-4", { amount: "1000000001" })],
      ["amount over uint64", 422, "AMOUNT_OVER_CAP", order("BAD-5", { amount: "18446744073709551616" })],
      ["unknown debtor account", 422, "UNKNOWN_DEBTOR_ACCOUNT", order("BAD-6", { debtorAccount: "mallory" })],
      ["insufficient funds", 422, "INSUFFICIENT_FUNDS", order("BAD-7", { debtorAccount: "carol", amount: "501" })],
      ["another currency", 422, "CURRENCY_UNSUPPORTED", order("BAD-8", { currency: "EUR" })],
      ["a fractional amount", 400, "REQUEST_INVALID_FIELD", order("BAD-9", { amount: 12.5 })],
      ["a negative amount", 400, "REQUEST_INVALID_FIELD", order("BAD-10", { amount: "-5" })],
      ["a decimal string amount", 400, "REQUEST_INVALID_FIELD", order("BAD-11", { amount: "12.50" })],
      ["a missing field", 400, "REQUEST_INVALID_FIELD", { ...order("BAD-12"), creditorAccount: undefined }],
      ["an unknown field", 400, "REQUEST_UNKNOWN_FIELD", order("BAD-13", { memo: "hi" })],
      ["a malformed end-to-end id", 400, "REQUEST_INVALID_FIELD", order("has space")],
      ["an end-to-end id over 32 characters", 400, "REQUEST_INVALID_FIELD", order("X".repeat(33))],
      ["malformed JSON", 400, "REQUEST_MALFORMED_JSON", undefined, { raw: '{"debtorAccount": "alice",' }],
      ["a JSON array", 400, "REQUEST_NOT_AN_OBJECT", [1, 2, 3]],
      ["a body that is not JSON", 400, "REQUEST_NOT_JSON", undefined, { raw: "amount=5", contentType: "text/plain" }],
    ];
    for (const [what, status, code, body, options] of cases) {
      it(`${what}: ${status} ${code}`, async function () {
        const before = await snapshot(shared);
        const answer = await http<ErrorJson>(`${shared.a.url}/payments`, "POST", body, options);
        expect(answer.status, JSON.stringify(answer.body)).to.equal(status);
        expect(answer.body.error.code).to.equal(code);
        expect(answer.body.error.message).to.be.a("string").and.not.equal("");
        expect(await snapshot(shared)).to.deep.equal(before);
      });
    }

    it("names the bad field", async function () {
      const missing = await http<ErrorJson>(`${shared.a.url}/payments`, "POST", {
        ...order("F-1"),
        creditorAccount: undefined,
      });
      expect(missing.body.error).to.deep.equal({
        code: "REQUEST_INVALID_FIELD",
        message: "creditorAccount is required",
        field: "creditorAccount",
      });
      const zero = await http<ErrorJson>(`${shared.a.url}/payments`, "POST", order("F-2", { amount: 0 }));
      expect(zero.body.error.field).to.equal("amount");
    });

    it("a duplicate end-to-end id: 409, the first payment untouched", async function () {
      const { a } = shared;
      expect((await http(`${a.url}/payments`, "POST", order("DUP-1"))).status).to.equal(202);
      await waitForPayment(a, "DUP-1", (p) => p.status === "Acknowledged");
      const before = await snapshot(shared);
      const again = await http<ErrorJson>(`${a.url}/payments`, "POST", order("DUP-1", { amount: "1" }));
      expect(again.status).to.equal(409);
      expect(again.body.error.code).to.equal("DUPLICATE_END_TO_END_ID");
      expect(await snapshot(shared)).to.deep.equal(before);
      // M-4: ids are per debtor bank, so the same id from B is B's own payment, not a duplicate of A's.
      const fromB = await http<ErrorJson>(`${shared.b.url}/payments`, "POST", {
        ...order("DUP-1", { amount: "7" }),
        debtorAccount: "dora",
        creditorBank: "A",
        creditorAccount: "alice",
      });
      expect(fromB.status).to.equal(202);
      await waitForPayment(shared.b, "DUP-1", (p) => p.status === "Acknowledged");
      expect(shared.a.payment("DUP-1", "outbound")).to.deep.include({ amount: "12345", status: "Acknowledged" });
      expect(shared.a.payment("DUP-1", "inbound")).to.deep.include({ amount: "7" });
    });

    it("an unknown payment or route: 404; a wrong method: 405", async function () {
      const unknown = await http<ErrorJson>(`${shared.a.url}/payments/NOPE`, "GET");
      expect(unknown.status).to.equal(404);
      expect(unknown.body.error.code).to.equal("PAYMENT_NOT_FOUND");
      expect((await http<ErrorJson>(`${shared.a.url}/nowhere`, "GET")).status).to.equal(404);
      expect((await http<ErrorJson>(`${shared.a.url}/payments`, "DELETE")).status).to.equal(405);
    });
  });

  it("two payments racing on the same id at one bank: one is accepted, the other gets 409", async function () {
    banks = await startBanks();
    const { a } = banks;
    const answers = await Promise.all([
      http(`${a.url}/payments`, "POST", order("RACE-1", { amount: "100" })),
      http(`${a.url}/payments`, "POST", order("RACE-1", { amount: "200" })),
    ]);
    expect(answers.map((answer) => answer.status).sort()).to.deep.equal([202, 409]);
    const done = await waitForPayment(a, "RACE-1", (p) => p.status === "Acknowledged");
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING - BigInt(done.amount));
    expect(stepsOf(a, "outbound", "RACE-1")).to.deep.equal(["debit", "acknowledge"]);
  });

  it("M-4: bank B squats A's pending end-to-end id (0.01, refunded after a 1 s deadline); A's payment still settles", async function () {
    banks = await startBanks();
    const { suite, stores } = banks;
    // A accepts Alice's payment and stops before putting it on chain ...
    await banks.a.stop();
    const paused = banks.agent("A", stores.a, {
      onStep: (point) => {
        if (point === "accept:committed") void paused.stop();
      },
    });
    await paused.start();
    expect((await http(`${paused.url}/payments`, "POST", order("M4-SQUAT", { amount: "300" }))).status).to.equal(202);
    await paused.stop();
    // ... while B's agent initiates 0.01 from Dora to Alice under the same id, with a deadline a few seconds away
    // (the audit's PoC used 1 s; the agent needs the deadline after the block that mines it), lets it expire and
    // refunds it: the attack that made A's initiate revert forever when ids were one namespace.
    await banks.b.stop();
    const squatter = banks.agent("B", stores.b, { ttlSeconds: 3 });
    extra.push(squatter);
    await squatter.start();
    const squat = {
      ...order("M4-SQUAT", { amount: "1" }),
      debtorAccount: "dora",
      creditorBank: "A",
      creditorAccount: "alice",
    };
    expect((await http(`${squatter.url}/payments`, "POST", squat)).status).to.equal(202);
    await waitForPayment(squatter, "M4-SQUAT", (p) => p.debtor.status === "Initiated");
    await suite.networkHelpers.time.increase(4);
    await suite.networkHelpers.mine(1);
    const refunded = await waitForPayment(squatter, "M4-SQUAT", (p) => p.status === "Refunded");
    expect(refunded.debtor.status).to.equal("Refunded");
    const trustB = squatter.trustAccount;
    expect(await banks.settlement.stateOf(trustB, settlementIdOf("M4-SQUAT"))).to.equal(8n); // Refunded
    await squatter.stop();

    // A comes back: its payment lands under A's own namespace and settles; the squat, seen as an inbound payment
    // that expired before A could smelt it, leaves nothing behind at A.
    const a = banks.agent("A", stores.a);
    const b = banks.agent("B", stores.b);
    extra.push(a, b);
    await a.start();
    await b.start();
    const won = await waitOutbound(a, "M4-SQUAT");
    expect(won.status).to.equal("Acknowledged");
    expect(stepsOf(a, "outbound", "M4-SQUAT")).to.deep.equal(["debit", "acknowledge"]);
    expect(await banks.settlement.stateOf(a.trustAccount, settlementIdOf("M4-SQUAT"))).to.equal(4n); // Acknowledged
    expect(await banks.settlement.stateOf(trustB, settlementIdOf("M4-SQUAT"))).to.equal(8n); // still Refunded
    const squatAtA = await waitInbound(a, "M4-SQUAT", (p) => p.debtor.status === "Refunded");
    expect(squatAtA.amount).to.equal("1");
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING - 300n);
    expect(b.ledger.balance("dora")).to.equal(2_000_000n);
    const atB = await waitInbound(b, "M4-SQUAT", (p) => p.status === "Acknowledged");
    expect(atB.amount).to.equal("300");
    expect(b.ledger.balance("bob")).to.equal(1_000n + 300n);
    expectBalanced(a, b);
  });

  it("at its most open payments an order waits for one to close; past the wait 503 AGENT_BUSY, nothing posted", async function () {
    banks = await startBanks({ maxOpenPayments: 1, admissionWaitMs: 2_000 });
    const { a, stores } = banks;
    // B away: the first payment stays open (on chain, waiting for B).
    await banks.b.stop();
    expect((await http(`${a.url}/payments`, "POST", order("OPEN-1"))).status).to.equal(202);
    const initiated = await waitForPayment(a, "OPEN-1", (p) => p.debtor.status === "Initiated");
    expect(initiated.creditor.status, "on chain, held for B").to.equal("Delivered");
    const busy = await http<ErrorJson>(`${a.url}/payments`, "POST", order("OPEN-2"));
    expect(busy.status).to.equal(503);
    expect(busy.body.error.code).to.equal("AGENT_BUSY");
    expect(busy.headers.get("retry-after")).to.equal(String(RETRY_AFTER_SECONDS.busy));
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING - 12_345n);
    expect((await http(`${a.url}/payments/OPEN-2?direction=outbound`, "GET")).status).to.equal(404);
    expect(a.payments.get("outbound", "OPEN-2")).to.equal(undefined);

    // An order that arrives now waits; B comes back, the first payment settles, and the order is let in.
    const waiting = http<PaymentJson>(`${a.url}/payments`, "POST", order("OPEN-3"));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(a.payments.get("outbound", "OPEN-3")).to.equal(undefined);
    const b = banks.agent("B", stores.b);
    extra.push(b);
    await b.start();
    const let_in = await waiting;
    expect(let_in.status, JSON.stringify(let_in.body)).to.equal(202);
    const first = a.payments.get("outbound", "OPEN-1")!;
    const acknowledged = first.history.find((entry) => entry.what.startsWith("acknowledged"));
    expect(acknowledged, "OPEN-1 acknowledged before OPEN-3 was accepted").to.not.equal(undefined);
    expect(Date.parse(acknowledged!.at)).to.be.at.most(Date.parse(let_in.body.history[0]!.at));
    await waitForPayment(a, "OPEN-3", (p) => p.status === "Acknowledged");

    // An order waiting when the agent stops: 503 AGENT_STOPPING.
    await b.stop();
    expect((await http(`${a.url}/payments`, "POST", order("OPEN-4"))).status).to.equal(202);
    const stopping = http<ErrorJson>(`${a.url}/payments`, "POST", order("OPEN-5"));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await a.stop();
    const refused = await stopping;
    expect(refused.status).to.equal(503);
    expect(refused.body.error.code).to.equal("AGENT_STOPPING");
    expect(refused.headers.get("retry-after")).to.equal(String(RETRY_AFTER_SECONDS.unavailable));
    expect(a.payments.get("outbound", "OPEN-5")).to.equal(undefined);
  });

  it("an agent not started refuses an order with 503 AGENT_STOPPING before looking at it", async function () {
    banks = await startBanks();
    const idle = banks.agent("A");
    const error = await idle
      .submit({
        debtorAccount: "nobody",
        creditorBank: "B",
        creditorAccount: "bob",
        amount: 1n,
        currency: "USD",
        endToEndId: "IDLE-1",
      })
      .catch((e: unknown) => e);
    expect(error).to.have.property("code", "AGENT_STOPPING");
  });

  it("refuses a maxOpenPayments below 1", async function () {
    for (const maxOpenPayments of [0, 2.5]) {
      const error = await startBanks({ maxOpenPayments }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.have.property("code", "AGENT_BAD_MAX_OPEN_PAYMENTS");
    }
  });

  it("acknowledges in batches: many payments, fewer acknowledgement transactions", async function () {
    banks = await startBanks();
    const { a, b } = banks;
    const ids = Array.from({ length: 20 }, (_, i) => `BATCH-${i}`);
    const answers = await Promise.all(ids.map((id) => http(`${a.url}/payments`, "POST", order(id, { amount: "10" }))));
    expect(answers.every((answer) => answer.status === 202)).to.equal(true);
    const done = await Promise.all(ids.map((id) => waitForPayment(a, id, (p) => p.status === "Acknowledged")));
    const ackTxs = new Set(done.map((p) => p.history.find((h) => h.what.startsWith("acknowledged"))!.tx));
    expect(ackTxs.size).to.be.lessThan(ids.length);
    expect(b.ledger.balance("bob")).to.equal(1_000n + 200n);
    for (const id of ids) expect(stepsOf(a, "outbound", id)).to.deep.equal(["debit", "acknowledge"]);
  });
});

async function waitOutbound(agent: Banks["a"], id: string): Promise<PaymentJson> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const answer = await http<PaymentJson>(`${agent.url}/payments/${id}?direction=outbound`, "GET");
    if (answer.status === 200 && ["Acknowledged", "Failed"].includes(answer.body.status)) return answer.body;
    if (Date.now() > deadline) throw new Error(`${id} outbound at ${agent.name}: ${JSON.stringify(answer.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function waitInbound(
  agent: Banks["a"],
  id: string,
  done: (payment: PaymentJson) => boolean,
): Promise<PaymentJson> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const answer = await http<PaymentJson>(`${agent.url}/payments/${id}?direction=inbound`, "GET");
    if (answer.status === 200 && done(answer.body)) return answer.body;
    if (Date.now() > deadline) throw new Error(`${id} inbound at ${agent.name}: ${JSON.stringify(answer.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
