/**
 * Red team: pauses and freezes mid-flight.
 * - The corridor A → B is paused while three initiates wait in the pool, the pause mined first: each payment fails
 *   once with the pause as its reason and the customer is re-credited once; a new order meanwhile is refused
 *   422 CORRIDOR_PAUSED; unpaused, the corridor pays again.
 * - The token is paused while a payment is Delivered and bank B is down, and stays paused past the deadline: an
 *   order is refused and nothing is posted for it; B, back, credits Bob but its smelt cannot land, nor A's refund
 *   once the deadline has passed. Unpaused, the payment ends Refunded at A and Reversed at B, both ledgers exact.
 * - The settlement contract's own address is frozen in the token mid-flight: an order is refused, B's smelt
 *   cannot land; unfrozen, the payment settles once.
 * No payment may be lost, applied twice or left open; after each test the settlement holds exactly the tokens in
 * flight and the reserve ledger's outstanding equals the token's supply.
 */
import { expect } from "chai";

import { INTERNAL } from "../../src/settlement/bookings.js";
import { settlementIdOf, settlementStateName } from "../../src/settlement/terms.js";
import {
  ALICE_OPENING,
  expectBalanced,
  http,
  orderJson,
  OUTBID,
  banksPerTest,
  stepsOf,
  until,
  waitForPayment,
  type Banks,
} from "./helpers.js";

interface ErrorJson {
  error: { code: string; message: string; field?: string };
}

describe("settlement red team: pause", function () {
  const run = banksPerTest();

  /** The settlement holds exactly what is in flight; the reserve ledger's outstanding is the token's supply. */
  async function expectChainBooks(b: Banks): Promise<void> {
    const { token, ledger } = b.suite;
    expect(await token.balanceOf(await b.settlement.getAddress())).to.equal(await b.settlement.totalInFlight());
    expect(await ledger.totalOutstanding()).to.equal(await token.totalSupply());
  }

  /** The on-chain state of A's payment `id`, by name. */
  async function stateOf(b: Banks, id: string): Promise<string> {
    return settlementStateName(await b.settlement.stateOf(b.a.trustAccount, settlementIdOf(id)));
  }

  it("corridor paused while initiates wait in the pool: each fails once, alice re-credited, 422 meanwhile", async function () {
    const banks = await run.start({ receiptTimeoutMs: 1_000 });
    const { a, b, suite, settlement } = banks;
    const provider = suite.ethers.provider;
    const keyA = await suite.accounts.bankA.getAddress();
    const ids = ["P-1", "P-2", "P-3"];
    await provider.send("evm_setAutomine", [false]);
    const answers = await Promise.all(
      ids.map((id) => http(`${a.url}/payments`, "POST", orderJson(id, { amount: "2500" }))),
    );
    expect(answers.map((x) => x.status)).to.deep.equal([202, 202, 202]);
    await until("the three initiates in the pool", async () => {
      const block = (await provider.send("eth_getBlockByNumber", ["pending", true])) as {
        transactions: Array<{ from: string; input: string }>;
      };
      const mine = block.transactions.filter((tx) => tx.from.toLowerCase() === keyA.toLowerCase());
      return ids.every((id) => mine.some((tx) => tx.input.includes(settlementIdOf(id).slice(2))));
    });
    // The pause goes first in the block (a higher tip).
    const pause = await settlement.pauseCorridor(a.trustAccount, b.trustAccount, OUTBID);
    await provider.send("evm_mine", []);
    await provider.send("evm_setAutomine", [true]);
    expect((await pause.wait())?.status).to.equal(1);
    for (const id of ids) {
      const failed = await waitForPayment(a, id, (p) => p.status === "Failed");
      expect(failed.reason).to.equal("InterbankSettlementCorridorPaused");
      expect(stepsOf(a, "outbound", id)).to.deep.equal(["debit", "reversal"]);
      expect(await stateOf(banks, id)).to.equal("None");
    }
    const refused = await http<ErrorJson>(`${a.url}/payments`, "POST", orderJson("P-4", { amount: "2500" }));
    expect(refused.status).to.equal(422);
    expect(refused.body.error.code).to.equal("CORRIDOR_PAUSED");
    expect(a.payment("P-4")).to.equal(undefined);
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING);
    expect(a.ledger.balance(INTERNAL.trust)).to.equal(0n);

    await (await settlement.unpauseCorridor(a.trustAccount, b.trustAccount)).wait();
    expect((await http(`${a.url}/payments`, "POST", orderJson("P-5", { amount: "2500" }))).status).to.equal(202);
    await waitForPayment(a, "P-5", (p) => p.status === "Acknowledged");
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING - 2_500n);
    expect(b.ledger.balance("bob")).to.equal(1_000n + 2_500n);
    expect(await suite.token.totalSupply()).to.equal(0n);
    expectBalanced(a, b);
    await expectChainBooks(banks);
  });

  it("token paused past the deadline with a payment Delivered: orders refused, then Refunded at A and Reversed at B", async function () {
    const banks = await run.start({ ttlSeconds: 600 });
    const { a, suite, stores, lines } = banks;
    const pauser = suite.token.connect(suite.accounts.pauser);
    await banks.b.stop();
    expect((await http(`${a.url}/payments`, "POST", orderJson("TP-1", { amount: "2500" }))).status).to.equal(202);
    await waitForPayment(a, "TP-1", (p) => p.debtor.status === "Initiated");
    await (await pauser.pause()).wait();

    const refused = await http<ErrorJson>(`${a.url}/payments`, "POST", orderJson("TP-2", { amount: "2500" }));
    expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
    expect(refused.body.error.code).to.equal("CHAIN_REFUSED");
    expect(refused.body.error.message).to.match(/BankTokenPaused/);
    expect((await http(`${a.url}/payments/TP-2`, "GET")).status).to.equal(404);
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING - 2_500n);

    // B comes back: it credits Bob, but its smelt is refused while the token is paused.
    const b = banks.agent("B", stores.b);
    run.keep(b);
    await b.start();
    await waitForPayment(b, "TP-1", (p) => p.creditor.status === "Credited");
    await until("B's smelt refused", () =>
      lines.some((line) => /^bank-b: smelt TP-1 failed, will retry: BankTokenPaused$/.test(line)),
    );
    expect(await stateOf(banks, "TP-1")).to.equal("Delivered");
    // The deadline passes while paused; A's refund is refused too.
    await suite.networkHelpers.time.increase(601);
    await suite.networkHelpers.mine(1);
    await until("A's refund refused", () =>
      lines.some((line) => /^bank-a: refund TP-1 failed, will retry: BankTokenPaused$/.test(line)),
    );
    expect(await stateOf(banks, "TP-1")).to.equal("Expired");
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING - 2_500n);
    await (await pauser.unpause()).wait();

    const done = await waitForPayment(a, "TP-1", (p) => p.status === "Refunded");
    expect(done.creditor.status).to.equal("Expired");
    const atB = await waitForPayment(b, "TP-1", (p) => p.debtor.status === "Refunded");
    expect(atB.creditor.status).to.equal("Reversed");
    expect(await stateOf(banks, "TP-1")).to.equal("Refunded");
    expect(stepsOf(a, "outbound", "TP-1")).to.deep.equal(["debit", "refund"]);
    expect(stepsOf(b, "inbound", "TP-1")).to.deep.equal(["credit", "reversal"]);
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING);
    expect(b.ledger.balance("bob")).to.equal(1_000n);
    expect(b.ledger.balance(INTERNAL.suspense)).to.equal(0n);
    expect(await suite.token.totalSupply()).to.equal(0n);
    expectBalanced(a, b);
    await expectChainBooks(banks);
  });

  it("the settlement frozen in the token mid-flight, then unfrozen: orders refused meanwhile, the payment settles once", async function () {
    const banks = await run.start();
    const { a, suite, stores, settlement, lines } = banks;
    const compliance = suite.token.connect(suite.accounts.compliance);
    await banks.b.stop();
    expect((await http(`${a.url}/payments`, "POST", orderJson("FZ-1", { amount: "2500" }))).status).to.equal(202);
    await waitForPayment(a, "FZ-1", (p) => p.debtor.status === "Initiated");
    await (await compliance.freeze(await settlement.getAddress())).wait();

    const refused = await http<ErrorJson>(`${a.url}/payments`, "POST", orderJson("FZ-2", { amount: "2500" }));
    expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
    expect(refused.body.error.code).to.equal("CHAIN_REFUSED");
    expect(refused.body.error.message).to.match(/BankTokenFrozen/);
    expect((await http(`${a.url}/payments/FZ-2`, "GET")).status).to.equal(404);

    // B comes back: it credits Bob, but its smelt is refused while the settlement is frozen.
    const b = banks.agent("B", stores.b);
    run.keep(b);
    await b.start();
    await waitForPayment(b, "FZ-1", (p) => p.creditor.status === "Credited");
    await until("B's smelt refused", () =>
      lines.some((line) => /^bank-b: smelt FZ-1 failed, will retry: BankTokenFrozen$/.test(line)),
    );
    expect(await stateOf(banks, "FZ-1")).to.equal("Delivered");
    await (await compliance.unfreeze(await settlement.getAddress())).wait();

    await waitForPayment(a, "FZ-1", (p) => p.status === "Acknowledged");
    await waitForPayment(b, "FZ-1", (p) => p.debtor.status === "Acknowledged");
    expect(await stateOf(banks, "FZ-1")).to.equal("Acknowledged");
    expect(stepsOf(a, "outbound", "FZ-1")).to.deep.equal(["debit", "acknowledge"]);
    expect(stepsOf(b, "inbound", "FZ-1")).to.deep.equal(["credit", "smelt"]);
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING - 2_500n);
    expect(b.ledger.balance("bob")).to.equal(1_000n + 2_500n);
    expect(await suite.token.totalSupply()).to.equal(0n);
    expectBalanced(a, b);
    await expectChainBooks(banks);
  });
});
