/**
 * A bank agent's database from before amounts were TEXT: made with the first
 * migration of each module (the schema every earlier agent created) and rows
 * written as that code wrote them (INTEGER amounts, up to 2^63 − 1), then
 * opened by today's code, which rebuilds the tables with TEXT amounts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { CORE_LEDGER_MIGRATIONS, CoreLedger } from "../../src/settlement/core-ledger.js";
import { PAYMENT_MIGRATIONS, PaymentStore } from "../../src/settlement/payments.js";
import { Store } from "../../src/store/store.js";

const clock = { now: () => Date.UTC(2026, 0, 1) };
const AT = "2025-12-31T00:00:00.000Z";
/** The largest amount the old INTEGER columns could hold. */
const OLD_MAX = 2n ** 63n - 1n;
const DEPOSIT = OLD_MAX - 807n;
const SETTLEMENT_P1 = `0x${"11".repeat(32)}`;
const SETTLEMENT_P2 = `0x${"22".repeat(32)}`;
const BANK_A = "0x000000000000000000000000000000000000000A";
const BANK_B = "0x000000000000000000000000000000000000000b";
const BANK_C = "0x000000000000000000000000000000000000000C";

/** Writes a ledger and payments the way the agent did under schema version 1. */
function writeVersion1(store: Store): void {
  expect(store.migrate("settlement.ledger", CORE_LEDGER_MIGRATIONS.slice(0, 1))).to.deep.equal([1]);
  expect(store.migrate("settlement.payments", PAYMENT_MIGRATIONS.slice(0, 1))).to.deep.equal([1]);
  const account = (id: string, kind: string, category: string, allowNegative: number, balance: bigint) =>
    store.run(
      `INSERT INTO ledger_accounts (id, kind, category, name, status, ref, allow_negative, balance, opened_at)
       VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?)`,
      id,
      kind,
      category,
      id,
      category === "customer" ? `0x${id}` : null,
      allowNegative,
      balance,
      AT,
    );
  account("internal:cash", "asset", "internal", 1, DEPOSIT);
  account("internal:trust", "liability", "internal", 0, 12_346n);
  account("alice", "liability", "customer", 0, DEPOSIT - 12_345n);
  account("carol", "liability", "customer", 0, -1n);
  const entry = (id: number, key: string, payment: string | null, lines: Array<[string, string, bigint]>) => {
    store.run(
      "INSERT INTO ledger_entries (id, key, payment, step, memo, posted_at) VALUES (?, ?, ?, 'step', 'memo', ?)",
      id,
      key,
      payment,
      AT,
    );
    lines.forEach(([acct, side, amount], line) =>
      store.run(
        "INSERT INTO ledger_postings (entry_id, line, account, side, amount) VALUES (?, ?, ?, ?, ?)",
        id,
        line,
        acct,
        side,
        amount,
      ),
    );
  };
  entry(1, "opening-deposit:alice", null, [
    ["internal:cash", "debit", DEPOSIT],
    ["alice", "credit", DEPOSIT],
  ]);
  entry(2, "outbound:P1:debit", "outbound:P1", [
    ["alice", "debit", 12_345n],
    ["internal:trust", "credit", 12_345n],
  ]);
  entry(3, "reversal:carol", null, [
    ["carol", "debit", 1n],
    ["internal:trust", "credit", 1n],
  ]);
  const payment = (direction: string, id: string, settlementId: string, amount: bigint, legs: [string, string]) =>
    store.run(
      `INSERT INTO settlement_payments (direction, id, settlement_id, debtor_bank_id, debtor_bank, creditor_bank_id,
         creditor_bank, debtor_account, creditor_account, creditor_account_ref, amount, currency, deadline,
         debtor_leg, creditor_leg, reason, created_at, created_ms, updated_at, finished_ms)
       VALUES (?, ?, ?, 'A', ?, 'B', ?, 'alice', 'bob', ?, ?, 'USD', 1767225600, ?, ?, NULL, ?, 1, ?, NULL)`,
      direction,
      id,
      settlementId,
      BANK_A,
      BANK_B,
      `0x${"ab".repeat(32)}`,
      amount,
      legs[0],
      legs[1],
      AT,
      AT,
    );
  payment("outbound", "P1", SETTLEMENT_P1, 12_345n, ["Debited", "Pending"]);
  payment("inbound", "P2", SETTLEMENT_P2, OLD_MAX, ["Initiated", "Credited"]);
  for (const [seq, direction, id, what] of [
    [4, "outbound", "P1", "accepted"],
    [9, "inbound", "P2", "received"],
    [10, "inbound", "P2", "credited"],
  ] as const) {
    store.run(
      "INSERT INTO settlement_payment_history (seq, direction, payment_id, at, what, tx) VALUES (?, ?, ?, ?, ?, NULL)",
      seq,
      direction,
      id,
      AT,
      what,
    );
  }
  store.run(
    `INSERT INTO settlement_outbox (row_id, direction, payment_id, step, status, attempts, not_before_ms, tx_hash,
       last_error, created_at, updated_at)
     VALUES (7, 'outbound', 'P1', 'initiate', 'pending', 2, 0, '0xfeed', 'timeout', ?, ?),
            (8, 'inbound', 'P2', 'smelt', 'done', 1, 0, '0xbeef', NULL, ?, ?)`,
    AT,
    AT,
    AT,
    AT,
  );
}

describe("settlement: migrating a version-1 database to TEXT amounts", function () {
  let dir: string;
  let file: string;

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "agent-migration-"));
    file = path.join(dir, "bank-a.sqlite");
    const store = Store.open({ path: file });
    try {
      writeVersion1(store);
    } finally {
      store.close();
    }
  });

  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("opens, migrates, and keeps every balance, posting, payment, history line and outbox row", function () {
    const store = Store.open({ path: file });
    try {
      const ledger = new CoreLedger(store, clock);
      const payments = new PaymentStore(store, clock);
      expect(
        store.all("SELECT module, version FROM schema_migrations WHERE module LIKE 'settlement.%' ORDER BY module"),
      ).to.deep.equal([
        { module: "settlement.ledger", version: 1 },
        { module: "settlement.ledger", version: 2 },
        { module: "settlement.payments", version: 1 },
        { module: "settlement.payments", version: 2 },
        { module: "settlement.payments", version: 3 },
        { module: "settlement.payments", version: 4 },
        { module: "settlement.payments", version: 5 },
      ]);
      // P1 (outbound, Debited) is open; P2 is inbound, whatever its legs: one open outbound payment.
      expect(payments.openOutboundCount()).to.equal(1);

      expect(ledger.accounts().map((a) => [a.id, a.balance])).to.deep.equal([
        ["alice", DEPOSIT - 12_345n],
        ["carol", -1n],
        ["internal:cash", DEPOSIT],
        ["internal:trust", 12_346n],
      ]);
      expect(ledger.accountByRef("0xalice")?.id).to.equal("alice");
      expect(ledger.entries().map((e) => [e.id, e.key, e.payment, e.lines])).to.deep.equal([
        [
          1,
          "opening-deposit:alice",
          null,
          [
            { account: "internal:cash", side: "debit", amount: DEPOSIT },
            { account: "alice", side: "credit", amount: DEPOSIT },
          ],
        ],
        [
          2,
          "outbound:P1:debit",
          "outbound:P1",
          [
            { account: "alice", side: "debit", amount: 12_345n },
            { account: "internal:trust", side: "credit", amount: 12_345n },
          ],
        ],
        [
          3,
          "reversal:carol",
          null,
          [
            { account: "carol", side: "debit", amount: 1n },
            { account: "internal:trust", side: "credit", amount: 1n },
          ],
        ],
      ]);
      expect(ledger.checkBalanced()).to.deep.equal({
        balanced: true,
        assets: DEPOSIT,
        liabilities: DEPOSIT,
        entries: 3,
        problems: [],
      });

      const p1 = payments.get("outbound", "P1")!;
      expect(p1).to.deep.include({ status: "Accepted", debtorLeg: "Debited", note: "accepted" });
      expect(p1.terms).to.deep.include({ id: SETTLEMENT_P1, amount: 12_345n, deadline: 1767225600 });
      const p2 = payments.bySettlementId("inbound", BANK_A.toLowerCase(), SETTLEMENT_P2)!;
      expect(p2.terms.amount).to.equal(OLD_MAX);
      expect(p2.history.map((h) => h.what)).to.deep.equal(["received", "credited"]);
      expect(payments.outboxOf("outbound", "P1")).to.deep.equal([{ step: "initiate", status: "pending", attempts: 2 }]);
      expect(payments.outboxOf("inbound", "P2")).to.deep.equal([{ step: "smelt", status: "done", attempts: 1 }]);
      // Sent before the nonce was kept (version 5): none is known, so the agent burns one before giving it up.
      expect(payments.pending()).to.deep.equal([
        {
          rowId: 7,
          direction: "outbound",
          paymentId: "P1",
          step: "initiate",
          attempts: 2,
          txHash: "0xfeed",
          txNonce: null,
        },
      ]);
      expect(payments.lastRowId()).to.equal(8);

      // Every amount is TEXT now; the tables, their indexes and their foreign keys are as a new database has them.
      for (const [table, column] of [
        ["ledger_accounts", "balance"],
        ["ledger_postings", "amount"],
        ["settlement_payments", "amount"],
      ] as const) {
        expect(store.all(`SELECT DISTINCT typeof(${column}) AS t FROM ${table}`), table).to.deep.equal([{ t: "text" }]);
      }
      expect(store.all("PRAGMA foreign_key_check")).to.deep.equal([]);
      const parents = (table: string) =>
        store.all<{ table: string }>(`PRAGMA foreign_key_list(${table})`).map((key) => key.table);
      expect(parents("ledger_postings").sort()).to.deep.equal(["ledger_accounts", "ledger_entries"]);
      expect(parents("settlement_payment_history")).to.deep.equal(["settlement_payments", "settlement_payments"]);
      expect(parents("settlement_outbox")).to.deep.equal(["settlement_payments", "settlement_payments"]);
      expect(
        store.all("SELECT name FROM sqlite_master WHERE name GLOB '*_v[23]*' OR sql GLOB '*_v[23]*'"),
      ).to.deep.equal([]);
      expect(schemaOf(store)).to.deep.equal(schemaOf(freshStore()));
    } finally {
      store.close();
    }
  });

  it("then takes amounts beyond 2^63 − 1, keeps the foreign keys, and migrates nothing on the next open", function () {
    let store = Store.open({ path: file });
    try {
      const ledger = new CoreLedger(store, clock);
      const payments = new PaymentStore(store, clock);
      const max = 2n ** 64n - 1n;
      ledger.transfer({ key: "big", step: "x", memo: "m", debit: "internal:cash", credit: "carol", amount: max });
      expect(ledger.balance("carol")).to.equal(max - 1n);
      payments.insert({
        direction: "inbound",
        id: "P3",
        terms: {
          id: `0x${"33".repeat(32)}`,
          debtorBank: BANK_A,
          creditorBank: BANK_B,
          amount: max,
          creditorAccountRef: `0x${"cd".repeat(32)}`,
          deadline: 1767225600,
        },
        debtorBank: { id: "A", address: BANK_A },
        creditorBank: { id: "B", address: BANK_B },
        debtorAccount: null,
        creditorAccount: "carol",
        currency: "USD",
        debtorLeg: "Initiated",
        creditorLeg: "Delivered",
        note: "received",
      });
      expect(payments.enqueue("inbound", "P3", "smelt")).to.equal(true);
      // M-4: settlement ids are scoped by debtor bank; another bank's inbound payment may carry the same one.
      const p4 = { ...payments.get("inbound", "P3")!, id: "P3@C", debtorBank: { id: "C", address: BANK_C } };
      payments.insert({ ...p4, terms: { ...p4.terms, debtorBank: BANK_C, amount: 1n } });
      expect(payments.bySettlementId("inbound", BANK_C, p4.terms.id)?.id).to.equal("P3@C");
      expect(payments.bySettlementId("inbound", BANK_A, p4.terms.id)?.id).to.equal("P3");
      expect(() => payments.insert({ ...p4, id: "P3-again" })).to.throw(/already exists/);
      expect(() =>
        store.run(
          "INSERT INTO ledger_postings (entry_id, line, account, side, amount) VALUES (1, 9, 'nobody', 'debit', '1')",
        ),
      ).to.throw(/FOREIGN KEY/);
      expect(() =>
        store.run(
          `INSERT INTO settlement_outbox (direction, payment_id, step, status, created_at, updated_at)
           VALUES ('inbound', 'nobody', 'smelt', 'pending', 'x', 'x')`,
        ),
      ).to.throw(/FOREIGN KEY/);
      store.close();

      store = Store.open({ path: file });
      expect(store.migrate("settlement.ledger", CORE_LEDGER_MIGRATIONS)).to.deep.equal([]);
      expect(store.migrate("settlement.payments", PAYMENT_MIGRATIONS)).to.deep.equal([]);
      expect(new PaymentStore(store, clock).get("inbound", "P3")?.terms.amount).to.equal(max);
      expect(new CoreLedger(store, clock).checkBalanced()).to.deep.include({
        balanced: true,
        assets: DEPOSIT + max,
      });
    } finally {
      store.close();
    }
  });
});

/** A new database with today's schema of both modules. */
function freshStore(): Store {
  const store = Store.open({ path: ":memory:" });
  new CoreLedger(store, clock);
  new PaymentStore(store, clock);
  return store;
}

/** The ledger's and payments' tables and indexes as SQLite reports them (names, columns, keys), without quirks of text. */
function schemaOf(store: Store): unknown {
  const objects = store.all<{ type: string; name: string; tbl_name: string }>(
    `SELECT type, name, tbl_name FROM sqlite_master
     WHERE tbl_name LIKE 'ledger_%' OR tbl_name LIKE 'settlement_%' ORDER BY type, name`,
  );
  return objects.map((object) => ({
    ...object,
    ...(object.type === "table"
      ? {
          columns: store.all(`PRAGMA table_xinfo(${object.name})`),
          foreignKeys: store.all(`PRAGMA foreign_key_list(${object.name})`),
          strict: store.get<{ strict: number }>(`SELECT strict FROM pragma_table_list WHERE name = ?`, object.name),
        }
      : { columns: store.all(`PRAGMA index_xinfo(${object.name})`) }),
  }));
}
