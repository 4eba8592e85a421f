/**
 * What the agent does with an outbox row it finds after a restart: it asks the
 * chain before sending anything, and a refund the chain does not allow yet
 * (the payment is still Delivered in chain time) waits and is retried, never
 * voided. The situation is made for real: an agent queues the refund once the
 * deadline passed and dies as it is about to send it (its `onStep` hook throws
 * at `refund:sending`); the chain then goes back to before the deadline (a
 * snapshot restore, as a node that had run ahead and was replaced would).
 */
import { expect } from "chai";

import type { BankAgent } from "../../src/settlement/agent.js";
import { settlementIdOf, settlementStateName } from "../../src/settlement/terms.js";
import {
  ALICE_OPENING,
  expectBalanced,
  http,
  startBanks,
  stepsOf,
  waitForPayment,
  type Banks,
  until,
} from "./helpers.js";

const order = (endToEndId: string) => ({
  debtorAccount: "alice",
  creditorBank: "B",
  creditorAccount: "bob",
  amount: "4321",
  currency: "USD",
  endToEndId,
});

describe("settlement: the agent's verdicts on outbox rows from before a restart", function () {
  this.timeout(120_000);
  let banks: Banks | undefined;
  const agents: BankAgent[] = [];

  afterEach(async function () {
    for (const agent of agents.splice(0)) await agent.stop();
    await banks?.stop();
    banks = undefined;
  });

  it("a refund queued before a restart, on a payment the chain reports Delivered, is not sent and not voided: it waits, then refunds", async function () {
    banks = await startBanks({ ttlSeconds: 600 });
    const { a, stores, suite, settlement } = banks;
    const id = "VERDICT-1";
    const stateOnChain = async () => settlementStateName(await settlement.stateOf(a.trustAccount, settlementIdOf(id)));
    await banks.b.stop(); // B never smelts
    expect((await http(`${a.url}/payments`, "POST", order(id))).status).to.equal(202);
    await waitForPayment(a, id, (p) => p.debtor.status === "Initiated");
    expect(await stateOnChain()).to.equal("Delivered");
    await a.stop();

    // Past the deadline an agent queues the refund and dies as it is about to send it. Its follower reads no
    // block (huge confirmation depth), so nothing it remembers is undone by the restore below.
    const snapshot = await suite.networkHelpers.takeSnapshot();
    await suite.networkHelpers.time.increase(601);
    expect(await stateOnChain()).to.equal("Expired");
    let crashed = false;
    const crashing = banks.agent("A", stores.a, {
      confirmations: 1_000_000,
      onStep: (point) => {
        if (point === "refund:sending") {
          crashed = true;
          throw new Error("killed before sending the refund");
        }
      },
    });
    agents.push(crashing);
    await crashing.start();
    await until("the refund about to be sent", () => crashed);
    await crashing.stop();
    expect(crashing.payments.outboxOf("outbound", id).find((row) => row.step === "refund")).to.deep.equal({
      step: "refund",
      status: "pending",
      attempts: 0,
    });

    // The chain is back before the deadline: the payment is Delivered there.
    await snapshot.restore();
    expect(await stateOnChain()).to.equal("Delivered");
    const points: string[] = [];
    const restarted = banks.agent("A", stores.a, { onStep: (point) => points.push(point) });
    agents.push(restarted);
    await restarted.start();
    const refundRow = () => restarted.payments.outboxOf("outbound", id).find((row) => row.step === "refund")!;
    await until("a verdict on the refund row", () => refundRow().status !== "pending" || refundRow().attempts > 0);
    // Asked the chain first (nothing sent), and kept the row for later (not voided).
    expect(points.filter((point) => point.startsWith("refund:"))).to.deep.equal([]);
    expect(refundRow().status).to.equal("pending");
    expect(await stateOnChain()).to.equal("Delivered");
    expect(stepsOf(restarted, "outbound", id)).to.deep.equal(["debit"]);

    // Once the deadline passes in chain time the same row is sent and the customer refunded.
    await suite.networkHelpers.time.increase(601);
    const done = await waitForPayment(restarted, id, (p) => p.status === "Refunded");
    expect(done.creditor.status).to.equal("Expired");
    expect(points).to.include("refund:sending");
    expect(stepsOf(restarted, "outbound", id)).to.deep.equal(["debit", "refund"]);
    expect(restarted.ledger.balance("alice")).to.equal(ALICE_OPENING);
    expect(await stateOnChain()).to.equal("Refunded");
    expect(refundRow().status).to.equal("done");
    expectBalanced(restarted);
  });

  it("an initiate queued before a restart that already landed is not sent again", async function () {
    banks = await startBanks();
    const { a, stores, settlement } = banks;
    const id = "VERDICT-2";
    // The agent dies once the initiate's receipt is in, before it records the row as landed.
    await a.stop();
    let landed = false;
    const dying = banks.agent("A", stores.a, {
      onStep: (point) => {
        if (point === "initiate:landed") {
          landed = true;
          throw new Error("killed after the initiate landed");
        }
      },
    });
    agents.push(dying);
    await dying.start();
    await banks.b.stop();
    expect((await http(`${dying.url}/payments`, "POST", order(id))).status).to.equal(202);
    await until("the initiate landed", () => landed);
    await dying.stop();
    expect(settlementStateName(await settlement.stateOf(a.trustAccount, settlementIdOf(id)))).to.equal("Delivered");

    const points: string[] = [];
    const restarted = banks.agent("A", stores.a, { onStep: (point) => points.push(point) });
    agents.push(restarted);
    await restarted.start();
    await waitForPayment(restarted, id, (p) => p.debtor.status === "Initiated");
    expect(points.filter((point) => point.startsWith("initiate:"))).to.deep.equal([]);
    expect(restarted.payments.outboxOf("outbound", id)).to.deep.include({
      step: "initiate",
      status: "done",
      attempts: 1,
    });
  });
});
