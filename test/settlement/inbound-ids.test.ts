/**
 * M-4 (issue 13) at the receiving bank: settlement ids are scoped by debtor
 * bank on chain, so two banks may send bank B payments with the same id. B's
 * bookkeeper, fed the settlement's events directly (no chain), keeps them apart:
 * a payment another bank initiated first with the same id neither hides the
 * second one nor takes its smelt, rejection or refund.
 */
import { expect } from "chai";
import { encodeBytes32String, getAddress, type Log } from "ethers";

import { Bookkeeper, FOLLOWED_EVENTS, INTERNAL, SETTLEMENT_EVENTS } from "../../src/settlement/bookings.js";
import { CoreLedger } from "../../src/settlement/core-ledger.js";
import { PaymentStore } from "../../src/settlement/payments.js";
import { accountRefOf, settlementIdOf } from "../../src/settlement/terms.js";
import { Store } from "../../src/store/store.js";

const clock = { now: () => Date.UTC(2026, 0, 1) };
const BANK_A = getAddress(`0x${"a1".repeat(20)}`);
const BANK_B = getAddress(`0x${"b2".repeat(20)}`);
const BANK_C = getAddress(`0x${"c3".repeat(20)}`);
const DEADLINE = 1_767_225_600n;

describe("settlement: inbound payments are keyed by debtor bank and settlement id (M-4)", function () {
  let store: Store;
  let books: Bookkeeper;
  let payments: PaymentStore;
  let ledger: CoreLedger;
  let txs = 0;

  beforeEach(function () {
    store = Store.open({ path: ":memory:" });
    ledger = new CoreLedger(store, clock);
    payments = new PaymentStore(store, clock);
    books = new Bookkeeper({
      store,
      ledger,
      payments,
      bank: { id: "B", address: BANK_B },
      banks: [
        { id: "A", address: BANK_A },
        { id: "B", address: BANK_B },
        { id: "C", address: BANK_C },
      ],
      currency: "USD",
      log: () => undefined,
      onApplied: () => undefined,
    });
    books.openCustomerAccount({ id: "bob", name: "Bob" });
    books.openCustomerAccount({ id: "closed-1", name: "Closed", status: "closed" });
  });

  afterEach(function () {
    store.close();
  });

  /** Applies one settlement event to B's books, as the follower would (in one transaction). */
  function apply(name: (typeof FOLLOWED_EVENTS)[number], args: readonly unknown[]): void {
    const fragment = SETTLEMENT_EVENTS.getEvent(name);
    const { topics, data } = SETTLEMENT_EVENTS.encodeEventLog(fragment, [...args]);
    const log = { topics, data, transactionHash: `0x${(++txs).toString(16).padStart(64, "0")}` } as unknown as Log;
    store.transaction(() => books.apply(log));
  }

  const initiated = (debtor: string, amount: bigint, account = "bob") => [
    settlementIdOf("E2E-1"),
    debtor,
    BANK_B,
    amount,
    accountRefOf(account),
    DEADLINE,
  ];

  it("test_M4_anotherBanksPaymentWithTheSameIdDoesNotHideOrTakeTheVictimsPayment", function () {
    const id = settlementIdOf("E2E-1");
    // C squats first with 0.01 under A's end-to-end id; A's real payment follows.
    apply("SettlementInitiated", initiated(BANK_C, 1n));
    apply("SettlementInitiated", initiated(BANK_A, 500_00n));
    const squat = payments.get("inbound", "E2E-1")!;
    const real = payments.get("inbound", "E2E-1@A")!;
    expect(squat.terms.debtorBank).to.equal(BANK_C);
    expect(real.terms).to.deep.include({ debtorBank: BANK_A, amount: 500_00n });
    expect(payments.outboxOf("inbound", "E2E-1@A")).to.deep.equal([{ step: "smelt", status: "pending", attempts: 0 }]);
    expect(ledger.balance("bob")).to.equal(500_00n + 1n);

    // A replay of A's event changes nothing.
    apply("SettlementInitiated", initiated(BANK_A, 500_00n));
    expect(ledger.balance("bob")).to.equal(500_00n + 1n);

    // C's payment expires and is refunded: only C's credit is reversed.
    apply("SettlementRefunded", [id, BANK_C, encodeBytes32String("C-refund")]);
    expect(payments.get("inbound", "E2E-1")!.creditorLeg).to.equal("Reversed");
    expect(payments.get("inbound", "E2E-1@A")!.creditorLeg).to.equal("Credited");
    expect(ledger.balance("bob")).to.equal(500_00n);

    // A's payment is smelted and acknowledged: B's claim on A is A's amount.
    apply("SettlementSmelted", [id, BANK_A, BANK_B, 500_00n, encodeBytes32String("B-credit")]);
    apply("SettlementAcknowledged", [id, BANK_A]);
    const done = payments.get("inbound", "E2E-1@A")!;
    expect(done).to.deep.include({ creditorLeg: "Smelted", debtorLeg: "Acknowledged" });
    expect(ledger.balance(INTERNAL.dueFrom("A"))).to.equal(500_00n);
    expect(ledger.balance(INTERNAL.dueFrom("C"))).to.equal(0n);
    expect(payments.get("inbound", "E2E-1")!.debtorLeg).to.equal("Refunded");
    expect(ledger.checkBalanced().balanced).to.equal(true);
  });

  it("test_M4_aRejectionNamesTheDebtorBank: rejecting A's payment leaves C's payment with the same id alone", function () {
    const id = settlementIdOf("E2E-1");
    apply("SettlementInitiated", initiated(BANK_C, 1n));
    apply("SettlementInitiated", initiated(BANK_A, 2n, "closed-1"));
    expect(payments.get("inbound", "E2E-1@A")!.creditorLeg).to.equal("Rejecting");
    apply("SettlementRejected", [id, BANK_A, BANK_B, encodeBytes32String("AC04")]);
    expect(payments.get("inbound", "E2E-1@A")!.creditorLeg).to.equal("Rejected");
    expect(payments.get("inbound", "E2E-1")!.creditorLeg).to.equal("Credited");
  });
});
