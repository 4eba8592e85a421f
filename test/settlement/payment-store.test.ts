/**
 * The payment store's own rules, through its public methods on an in-memory database: which keys make a
 * payment a duplicate (checked by the table's unique keys, with no read before the insert), a move of a record
 * read in the caller's transaction, the outbox rows handed out with their payments, and a batch's rows marked
 * sent and landed together.
 */
import { expect } from "chai";
import { getAddress } from "ethers";

import { PaymentStore, PaymentStoreError, type NewPayment, type PaymentRecord } from "../../src/settlement/payments.js";
import { Store } from "../../src/store/store.js";

const BANK_A = { id: "A", address: "0x000000000000000000000000000000000000000A" };
const BANK_B = { id: "B", address: "0x000000000000000000000000000000000000000b" };
const BANK_C = { id: "C", address: "0x000000000000000000000000000000000000000C" };
const SETTLEMENT_1 = `0x${"1a".repeat(32)}`;
const SETTLEMENT_2 = `0x${"22".repeat(32)}`;
const TX = `0x${"ab".repeat(32)}`;

function payment(overrides: Partial<NewPayment> & { settlementId?: string } = {}): NewPayment {
  const { settlementId = SETTLEMENT_1, ...rest } = overrides;
  const debtorBank = rest.debtorBank ?? BANK_A;
  return {
    direction: "outbound",
    id: "P-1",
    terms: {
      id: settlementId,
      debtorBank: debtorBank.address,
      creditorBank: BANK_B.address,
      amount: 500n,
      creditorAccountRef: `0x${"cd".repeat(32)}`,
      deadline: 2_000_000_000,
    },
    debtorBank,
    creditorBank: BANK_B,
    debtorAccount: "alice",
    creditorAccount: "bob",
    currency: "USD",
    debtorLeg: "Debited",
    creditorLeg: "Pending",
    note: "accepted",
    ...rest,
  };
}

function codeOf(fn: () => unknown, details?: Record<string, unknown>): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(PaymentStoreError);
    if (details !== undefined) expect((error as PaymentStoreError).details).to.deep.equal(details);
    return (error as PaymentStoreError).code;
  }
  return undefined;
}

describe("settlement: the payment store", function () {
  let store: Store;
  let payments: PaymentStore;
  let now: number;
  beforeEach(function () {
    store = Store.open({ path: ":memory:" });
    now = Date.UTC(2026, 0, 1);
    payments = new PaymentStore(store, { now: () => now });
  });
  afterEach(function () {
    store.close();
  });

  const historyRows = (): number => store.get<{ n: number }>("SELECT COUNT(*) AS n FROM settlement_payment_history")!.n;

  it("refuses a taken (direction, id) and a taken (direction, debtor bank, settlement id), writing nothing", function () {
    payments.insert(payment());
    expect(historyRows()).to.equal(1);
    // The same end-to-end id with another settlement id.
    expect(
      codeOf(() => payments.insert(payment({ settlementId: SETTLEMENT_2, note: "again" })), {
        direction: "outbound",
        id: "P-1",
      }),
    ).to.equal("PAYMENT_EXISTS");
    // Another end-to-end id with the same debtor bank's settlement id (in any letter case).
    expect(
      codeOf(() =>
        payments.insert(payment({ id: "P-2", settlementId: SETTLEMENT_1.toUpperCase().replace("0X", "0x") })),
      ),
    ).to.equal("PAYMENT_EXISTS");
    expect(historyRows()).to.equal(1);
    expect(payments.list("outbound").map((p) => [p.id, p.terms.id])).to.deep.equal([["P-1", SETTLEMENT_1]]);
    // Inside a caller's transaction the refusal leaves the caller's other writes to the caller.
    store.transaction(() => {
      payments.insert(payment({ id: "P-3", settlementId: SETTLEMENT_2 }));
      expect(codeOf(() => payments.insert(payment({ id: "P-3", settlementId: `0x${"33".repeat(32)}` })))).to.equal(
        "PAYMENT_EXISTS",
      );
    });
    expect(payments.list("outbound").map((p) => p.id)).to.deep.equal(["P-1", "P-3"]);
    expect(payments.get("outbound", "P-3")!.history.map((h) => h.what)).to.deep.equal(["accepted"]);
  });

  it("takes the same settlement id from another debtor bank, and the same id in the other direction", function () {
    payments.insert(payment({ direction: "inbound", id: "I-1", debtorBank: BANK_B, debtorAccount: null }));
    payments.insert(payment({ direction: "inbound", id: "I-2", debtorBank: BANK_C, debtorAccount: null }));
    payments.insert(payment({ direction: "outbound", id: "I-1" }));
    expect(payments.list("inbound").map((p) => [p.id, p.debtorBank.id])).to.deep.equal([
      ["I-1", "B"],
      ["I-2", "C"],
    ]);
    expect(payments.has("outbound", "I-1")).to.equal(true);
    expect(payments.bySettlementId("inbound", getAddress(BANK_C.address), SETTLEMENT_1)?.id).to.equal("I-2");
  });

  it("moves a record read in the caller's transaction as update would, and refuses one outside a transaction", function () {
    payments.insert(payment());
    payments.insert(payment({ id: "P-2", settlementId: SETTLEMENT_2 }));
    expect(payments.enqueue("outbound", "P-1", "initiate")).to.equal(true);
    const read = payments.get("outbound", "P-1")!;
    expect(
      codeOf(() => payments.move(read, { debtorLeg: "Failed", note: "too early" }), {
        direction: "outbound",
        id: "P-1",
      }),
    ).to.equal("PAYMENT_NO_TRANSACTION");
    expect(payments.get("outbound", "P-1")!.debtorLeg).to.equal("Debited");
    expect(
      codeOf(() => payments.update("outbound", "P-9", { note: "nobody" }), { direction: "outbound", id: "P-9" }),
    ).to.equal("PAYMENT_UNKNOWN");

    now += 1_000;
    store.transaction(() => {
      const inside = payments.get("outbound", "P-1")!;
      payments.move(inside, { debtorLeg: "Failed", creditorLeg: "Rejected", reason: "AC01", note: "refused", tx: TX });
    });
    store.transaction(() => payments.update("outbound", "P-2", { creditorLeg: "Delivered", note: "delivered" }));
    const moved: PaymentRecord = payments.get("outbound", "P-1")!;
    expect([moved.debtorLeg, moved.creditorLeg, moved.reason, moved.finishedMs]).to.deep.equal([
      "Failed",
      "Rejected",
      "AC01",
      now,
    ]);
    expect(moved.history.map((h) => [h.what, h.tx])).to.deep.equal([
      ["accepted", null],
      ["refused", TX],
    ]);
    // Closed: its pending step is void; the other payment, still open, keeps its legs as given.
    expect(payments.outboxOf("outbound", "P-1")).to.deep.equal([{ step: "initiate", status: "void", attempts: 0 }]);
    const other = payments.get("outbound", "P-2")!;
    expect([other.debtorLeg, other.creditorLeg, other.finishedMs]).to.deep.equal(["Debited", "Delivered", null]);
  });

  it("voids the steps still owed only when a move closes the payment, not on other moves before or after", function () {
    payments.insert(payment());
    payments.enqueue("outbound", "P-1", "initiate");
    // An open payment moved: its step stays owed.
    store.transaction(() =>
      payments.move(payments.get("outbound", "P-1")!, {
        debtorLeg: "Initiated",
        creditorLeg: "Delivered",
        note: "on chain",
      }),
    );
    expect(payments.outboxOf("outbound", "P-1")).to.deep.equal([{ step: "initiate", status: "pending", attempts: 0 }]);
    expect(payments.get("outbound", "P-1")!.finishedMs).to.equal(null);
    // Closing it voids what it still owes, and stamps it finished once.
    payments.enqueue("outbound", "P-1", "acknowledge");
    store.transaction(() =>
      payments.move(payments.get("outbound", "P-1")!, {
        debtorLeg: "Refunded",
        creditorLeg: "Expired",
        note: "refunded",
      }),
    );
    const closedAt = now;
    expect(payments.outboxOf("outbound", "P-1").map((row) => row.status)).to.deep.equal(["void", "void"]);
    // A later move of the closed payment keeps its stamp and leaves a step queued since alone.
    now += 5_000;
    payments.enqueue("outbound", "P-1", "refund");
    store.transaction(() => payments.move(payments.get("outbound", "P-1")!, { note: "noted later" }));
    expect(payments.outboxOf("outbound", "P-1").map((row) => [row.step, row.status])).to.deep.equal([
      ["initiate", "void"],
      ["acknowledge", "void"],
      ["refund", "pending"],
    ]);
    expect(payments.get("outbound", "P-1")!.finishedMs).to.equal(closedAt);
  });

  it("hands out pending rows with their payments as stored, and a row whose payment is gone with none", function () {
    payments.insert(payment());
    payments.insert(payment({ id: "P-2", settlementId: SETTLEMENT_2 }));
    payments.enqueue("outbound", "P-1", "initiate");
    payments.enqueue("outbound", "P-2", "initiate");
    payments.enqueue("outbound", "P-1", "acknowledge");
    const rows = payments.pendingWithPayments();
    expect(rows.map(({ row }) => row)).to.deep.equal(payments.pending());
    expect(rows.map(({ row }) => [row.paymentId, row.step])).to.deep.equal([
      ["P-1", "acknowledge"],
      ["P-1", "initiate"],
      ["P-2", "initiate"],
    ]);
    for (const { row, payment: record } of rows) {
      const stored = payments.get(row.direction, row.paymentId)!;
      expect({ ...record!, history: record!.history }).to.deep.equal({ ...stored, history: stored.history });
    }
    expect(payments.pendingWithPayments(1)).to.have.length(1);
    // A payment removed behind the store's back (foreign keys off): its row comes without one.
    store.exec("PRAGMA foreign_keys = OFF");
    store.run("DELETE FROM settlement_payment_history WHERE payment_id = 'P-2'");
    store.run("DELETE FROM settlement_payments WHERE id = 'P-2'");
    store.exec("PRAGMA foreign_keys = ON");
    const [, , orphan] = payments.pendingWithPayments();
    expect(orphan!.row.paymentId).to.equal("P-2");
    expect(orphan!.payment).to.equal(undefined);
  });

  it("marks a batch's rows sent and landed together, and no other row", function () {
    for (const id of ["P-1", "P-2", "P-3"]) {
      payments.insert(payment({ id, settlementId: `0x${id.slice(2).repeat(64)}` }));
      payments.enqueue("outbound", id, "initiate");
    }
    const [one, two, three] = payments.pending();
    payments.sending([one!.rowId, two!.rowId], 7);
    payments.sent([one!.rowId, two!.rowId], TX, 60_000);
    // Held for the receipt: only the third is due now.
    expect(payments.pending().map((row) => row.paymentId)).to.deep.equal(["P-3"]);
    now += 60_000;
    expect(payments.pending().map((row) => [row.paymentId, row.attempts, row.txHash, row.txNonce])).to.deep.equal([
      ["P-1", 1, TX, 7],
      ["P-2", 1, TX, 7],
      ["P-3", 0, null, null],
    ]);
    // P-2's event was applied first: landing leaves a row that is no longer pending alone.
    expect(payments.doneByStep("outbound", "P-2", "initiate", TX)).to.equal(true);
    payments.landed([one!.rowId, two!.rowId], null, 5_000);
    expect(payments.pending().map((row) => row.paymentId)).to.deep.equal(["P-3"]);
    expect(payments.outboxOf("outbound", "P-2")).to.deep.equal([{ step: "initiate", status: "done", attempts: 1 }]);
    now += 5_000;
    expect(payments.pending().map((row) => [row.paymentId, row.txHash])).to.deep.equal([
      ["P-1", TX],
      ["P-3", null],
    ]);
    expect(three!.paymentId).to.equal("P-3");
  });

  it("keeps the highest nonce a row's transactions took (or a burn took for it), before the handover", function () {
    payments.insert(payment({ id: "P-1", settlementId: `0x${"1".repeat(64)}` }));
    payments.enqueue("outbound", "P-1", "initiate");
    const [row] = payments.pending();
    expect(row!.txNonce).to.equal(null);
    // Kept before the handover: a send whose answer is lost leaves the nonce, no hash, no attempt counted.
    payments.sending([row!.rowId], 9);
    expect(payments.pending().map((r) => [r.attempts, r.txHash, r.txNonce])).to.deep.equal([[0, null, 9]]);
    payments.sent([row!.rowId], TX, 0);
    // Sent again on a lower number (the count read again after a drop): the higher one is kept.
    payments.sending([row!.rowId], 4);
    payments.sent([row!.rowId], TX, 0);
    expect(payments.pending().map((r) => [r.attempts, r.txNonce])).to.deep.equal([[2, 9]]);
    // A burn is kept as a send is: on a lower nonce it leaves the kept one, on a higher it raises it.
    payments.sending([row!.rowId], 3);
    payments.sending([row!.rowId], 12);
    expect(payments.pending().map((r) => [r.attempts, r.txNonce])).to.deep.equal([[2, 12]]);
  });
});
