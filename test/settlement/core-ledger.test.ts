import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import fc from "fast-check";

import {
  CoreLedger,
  LedgerAccountConflictError,
  LedgerInsufficientFundsError,
  LedgerInvalidEntryError,
  LedgerKeyConflictError,
  LedgerUnknownAccountError,
} from "../../src/settlement/core-ledger.js";
import { Store } from "../../src/store/store.js";

const clock = { now: () => Date.UTC(2026, 0, 1) };

function ledger(): { store: Store; ledger: CoreLedger } {
  const store = Store.open({ path: ":memory:" });
  const core = new CoreLedger(store, clock);
  core.openAccount({ id: "cash", name: "cash", kind: "asset", category: "internal", allowNegative: true });
  core.openAccount({ id: "trust", name: "trust", kind: "liability", category: "internal" });
  core.openAccount({ id: "alice", name: "Alice", kind: "liability", category: "customer", ref: "0xAB" });
  core.openAccount({ id: "bob", name: "Bob", kind: "liability", category: "customer" });
  return { store, ledger: core };
}

describe("settlement: core ledger", function () {
  it("posts balanced entries and keeps balances in each account's normal direction", function () {
    const { ledger: core } = ledger();
    core.transfer({ key: "seed", step: "seed", memo: "seed", debit: "cash", credit: "alice", amount: 1_000n });
    core.transfer({
      key: "p1:debit",
      payment: "p1",
      step: "debit",
      memo: "pay",
      debit: "alice",
      credit: "trust",
      amount: 300n,
    });
    expect(core.balance("cash")).to.equal(1_000n); // an asset: debits add
    expect(core.balance("alice")).to.equal(700n); // a liability: credits add
    expect(core.balance("trust")).to.equal(300n);
    expect(core.entries("p1").map((entry) => entry.step)).to.deep.equal(["debit"]);
    expect(core.accountByRef("0xab")?.id).to.equal("alice");
    expect(core.checkBalanced()).to.deep.include({ balanced: true, assets: 1_000n, liabilities: 1_000n, entries: 2 });
  });

  it("posts a key once: a replay with the same lines does nothing, with other lines it throws", function () {
    const { ledger: core } = ledger();
    const entry = { key: "k", step: "seed", memo: "m", debit: "cash", credit: "alice", amount: 5n };
    const first = core.transfer(entry);
    expect(first.created).to.equal(true);
    expect(core.transfer(entry)).to.deep.equal({ entryId: first.entryId, created: false });
    expect(core.balance("alice")).to.equal(5n);
    expect(() => core.transfer({ ...entry, amount: 6n })).to.throw(LedgerKeyConflictError);
    expect(core.entries()).to.have.length(1);
  });

  it("refuses an unbalanced, empty or out-of-range entry, an unknown account, and overdrawing a customer", function () {
    const { ledger: core } = ledger();
    const unbalanced = () =>
      core.post({
        key: "u",
        step: "x",
        memo: "x",
        lines: [
          { account: "cash", side: "debit", amount: 2n },
          { account: "alice", side: "credit", amount: 1n },
        ],
      });
    expect(unbalanced).to.throw(LedgerInvalidEntryError).with.property("code", "LEDGER_UNBALANCED_ENTRY");
    expect(() => core.transfer({ key: "z", step: "x", memo: "x", debit: "cash", credit: "alice", amount: 0n }))
      .to.throw(LedgerInvalidEntryError)
      .with.property("code", "LEDGER_INVALID_AMOUNT");
    expect(() =>
      core.transfer({ key: "big", step: "x", memo: "x", debit: "cash", credit: "alice", amount: 2n ** 256n }),
    )
      .to.throw(LedgerInvalidEntryError)
      .with.property("code", "LEDGER_INVALID_AMOUNT");
    expect(() => core.transfer({ key: "n", step: "x", memo: "x", debit: "cash", credit: "nobody", amount: 1n }))
      .to.throw(LedgerUnknownAccountError)
      .with.nested.property("details.account", "nobody");
    const overdraw = () =>
      core.transfer({ key: "o", step: "x", memo: "x", debit: "alice", credit: "trust", amount: 1n });
    expect(overdraw).to.throw(LedgerInsufficientFundsError).with.nested.property("details.balance", "0");
    // Nothing of the refused entries was kept.
    expect(core.entries()).to.deep.equal([]);
    expect(core.checkBalanced().balanced).to.equal(true);
    // A reversal the customer cannot refuse may overdraw.
    core.transfer({
      key: "r",
      step: "reversal",
      memo: "x",
      debit: "alice",
      credit: "trust",
      amount: 1n,
      allowOverdraft: true,
    });
    expect(core.balance("alice")).to.equal(-1n);
  });

  it("rolls a failing entry back whole, inside a caller's transaction too", function () {
    const { store, ledger: core } = ledger();
    core.transfer({ key: "seed", step: "seed", memo: "m", debit: "cash", credit: "bob", amount: 10n });
    expect(() =>
      store.transaction(() => {
        core.transfer({ key: "a", step: "x", memo: "m", debit: "cash", credit: "alice", amount: 1n });
        core.transfer({ key: "b", step: "x", memo: "m", debit: "bob", credit: "trust", amount: 11n });
      }),
    ).to.throw(LedgerInsufficientFundsError);
    expect(core.entries().map((entry) => entry.key)).to.deep.equal(["seed"]);
    expect([core.balance("alice"), core.balance("bob")]).to.deep.equal([0n, 10n]);
  });

  it("checks each line against its account's running balance: a second debit of one account can overdraw it", function () {
    const { ledger: core } = ledger();
    core.transfer({ key: "seed", step: "seed", memo: "m", debit: "cash", credit: "alice", amount: 10n });
    const twice = (amount: bigint) => ({
      key: `twice-${amount}`,
      step: "x",
      memo: "m",
      lines: [
        { account: "alice", side: "debit" as const, amount },
        { account: "alice", side: "debit" as const, amount },
        { account: "trust", side: "credit" as const, amount: 2n * amount },
      ],
    });
    expect(() => core.post(twice(6n)))
      .to.throw(LedgerInsufficientFundsError)
      .with.nested.property("details.balance", "4");
    expect(core.balance("alice")).to.equal(10n);
    core.post(twice(5n));
    expect([core.balance("alice"), core.balance("trust")]).to.deep.equal([0n, 10n]);
    expect(core.checkBalanced().problems).to.deep.equal([]);
  });

  it("posts an entry of more lines than one statement writes, every line in order", function () {
    const { ledger: core } = ledger();
    // 200 lines: two full statements' worth (100 each), and nothing after.
    const lines = Array.from({ length: 199 }, (_, i) => ({
      account: i % 2 === 0 ? "bob" : "alice",
      side: "credit" as const,
      amount: BigInt(i + 1),
    }));
    const total = lines.reduce((sum, line) => sum + line.amount, 0n);
    core.post({
      key: "wide",
      step: "x",
      memo: "m",
      lines: [{ account: "cash", side: "debit", amount: total }, ...lines],
    });
    const [entry] = core.entries();
    expect(entry!.lines.map((line) => line.amount)).to.deep.equal([total, ...lines.map((line) => line.amount)]);
    const credited = (id: string) => lines.filter((l) => l.account === id).reduce((sum, l) => sum + l.amount, 0n);
    expect([core.balance("cash"), core.balance("alice"), core.balance("bob")]).to.deep.equal([
      total,
      credited("alice"),
      credited("bob"),
    ]);
    expect(core.checkBalanced().problems).to.deep.equal([]);
  });

  it("changes an account's status, and names an unknown account", function () {
    const { store, ledger: core } = ledger();
    store.transaction(() => {
      core.transfer({ key: "seed", step: "seed", memo: "m", debit: "cash", credit: "bob", amount: 7n });
      core.setStatus("bob", "blocked");
      expect(core.account("bob")).to.deep.include({ status: "blocked", balance: 7n });
      core.transfer({ key: "more", step: "seed", memo: "m", debit: "cash", credit: "bob", amount: 1n });
    });
    expect(core.account("bob")).to.deep.include({ status: "blocked", balance: 8n });
    expect(() => core.setStatus("nobody", "closed"))
      .to.throw(LedgerUnknownAccountError)
      .with.property("code", "LEDGER_UNKNOWN_ACCOUNT");
    expect(core.account("nobody")).to.equal(undefined);
  });

  it("reads each account once per transaction, again in the next one and after a savepoint rolls back", function () {
    const { store, ledger: core } = ledger();
    core.transfer({ key: "seed", step: "seed", memo: "m", debit: "cash", credit: "alice", amount: 100n });
    let reads = 0;
    const get = store.get.bind(store);
    (store as { get: Store["get"] }).get = (sql, ...params) => {
      if (sql.includes("FROM ledger_accounts")) reads += 1;
      return get(sql, ...params);
    };
    const pay = (key: string) =>
      core.transfer({ key, step: "x", memo: "m", debit: "alice", credit: "trust", amount: 1n });
    store.transaction(() => {
      for (let i = 0; i < 5; i += 1) pay(`first-${i}`);
    });
    expect(reads).to.equal(2);
    store.transaction(() => pay("second"));
    expect(reads).to.equal(4);
    store.transaction(() => {
      pay("third-1");
      expect(() =>
        store.transaction(() => {
          pay("third-undone");
          throw new Error("undone");
        }),
      ).to.throw("undone");
      pay("third-2"); // what was read before the rollback is read again
    });
    expect(reads).to.equal(8);
    expect([core.balance("alice"), core.balance("trust")]).to.deep.equal([92n, 8n]);
  });

  it("keeps every balance right inside one long transaction whose savepoints roll back (any sequence)", function () {
    const accounts = ["cash", "trust", "alice", "bob"] as const;
    const kinds: Record<string, "asset" | "liability"> = {
      cash: "asset",
      trust: "liability",
      alice: "liability",
      bob: "liability",
    };
    const op = fc.record({
      from: fc.constantFrom(...accounts),
      to: fc.constantFrom(...accounts),
      amount: fc.bigInt(1n, 1_000n),
      // Posted, then the savepoint around it rolled back by a later failure.
      undone: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const { store, ledger: core } = ledger();
        const model = new Map<string, bigint>(accounts.map((id) => [id, 0n]));
        let kept = 0;
        store.transaction(() => {
          ops.forEach((o, i) => {
            if (o.from === o.to) return;
            const sign = (id: string, side: "debit" | "credit") =>
              (kinds[id] === "asset") === (side === "debit") ? 1n : -1n;
            const nextFrom = model.get(o.from)! + sign(o.from, "debit") * o.amount;
            const nextTo = model.get(o.to)! + sign(o.to, "credit") * o.amount;
            const refused = (nextFrom < 0n && o.from !== "cash") || (nextTo < 0n && o.to !== "cash");
            const entry = { key: `k${i}`, step: "x", memo: "m", debit: o.from, credit: o.to, amount: o.amount };
            if (refused) {
              expect(() => core.transfer(entry)).to.throw(LedgerInsufficientFundsError);
            } else if (o.undone) {
              expect(() =>
                store.transaction(() => {
                  core.transfer(entry);
                  throw new Error("undone");
                }),
              ).to.throw("undone");
            } else {
              core.transfer(entry);
              model.set(o.from, nextFrom);
              model.set(o.to, nextTo);
              kept += 1;
            }
            for (const id of accounts) expect(core.balance(id)).to.equal(model.get(id));
          });
        });
        for (const id of accounts) expect(core.balance(id)).to.equal(model.get(id));
        const report = core.checkBalanced();
        expect(report.problems).to.deep.equal([]);
        expect(report.entries).to.equal(kept);
      }),
      { numRuns: 60 },
    );
  });

  it("keeps amounts above 2^53 exact, and balances across a reopen of the file", function () {
    const dir = mkdtempSync(path.join(tmpdir(), "core-ledger-"));
    try {
      const file = path.join(dir, "ledger.sqlite");
      let store = Store.open({ path: file });
      let core = new CoreLedger(store, clock);
      core.openAccount({ id: "cash", name: "cash", kind: "asset", category: "internal", allowNegative: true });
      core.openAccount({ id: "big", name: "big", kind: "liability", category: "customer" });
      const amount = 2n ** 62n + 12_345n;
      core.transfer({ key: "k", step: "x", memo: "m", debit: "cash", credit: "big", amount });
      core.transfer({ key: "k2", step: "x", memo: "m", debit: "big", credit: "cash", amount: 1n });
      store.close();
      store = Store.open({ path: file });
      core = new CoreLedger(store, clock);
      expect(core.balance("big")).to.equal(amount - 1n);
      expect(core.entries()[0]!.lines[0]!.amount).to.equal(amount);
      expect(core.checkBalanced()).to.deep.include({ balanced: true, assets: amount - 1n });
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("posts and sums amounts beyond SQLite's INTEGER: 2^64 − 1 per posting, balances above 2^64", function () {
    const { store, ledger: core } = ledger();
    const max = 2n ** 64n - 1n;
    core.transfer({ key: "m1", step: "x", memo: "m", debit: "cash", credit: "alice", amount: max });
    core.transfer({ key: "m2", step: "x", memo: "m", debit: "cash", credit: "alice", amount: max });
    core.transfer({ key: "m3", step: "x", memo: "m", debit: "alice", credit: "trust", amount: max });
    expect(core.balance("alice")).to.equal(max);
    expect(core.balance("cash")).to.equal(2n * max);
    expect(core.entries()[0]!.lines[0]!.amount).to.equal(max);
    expect(core.checkBalanced()).to.deep.include({ balanced: true, assets: 2n * max, liabilities: 2n * max });
    // Stored as canonical decimal text, and the schema refuses anything else.
    expect(store.get("SELECT balance, typeof(balance) AS t FROM ledger_accounts WHERE id = 'cash'")).to.deep.equal({
      balance: (2n * max).toString(),
      t: "text",
    });
    for (const bad of ["007", "1e3", "-5", "", "12a"]) {
      expect(() => store.run("UPDATE ledger_postings SET amount = ? WHERE entry_id = 1", bad), bad).to.throw(/CHECK/);
    }
    expect(() => store.run("UPDATE ledger_accounts SET balance = '-0' WHERE id = 'bob'")).to.throw(/CHECK/);
  });

  it("checkBalanced reads the postings page by page and still finds every problem", function () {
    const { store, ledger: core } = ledger();
    // One three-line entry first, so that a page of 5,000 postings ends inside entry 2500.
    core.post({
      key: "three",
      step: "x",
      memo: "m",
      lines: [
        { account: "cash", side: "debit", amount: 2n },
        { account: "alice", side: "credit", amount: 1n },
        { account: "bob", side: "credit", amount: 1n },
      ],
    });
    for (let i = 0; i < 5_002; i += 1) {
      core.transfer({ key: `k${i}`, step: "x", memo: "m", debit: "cash", credit: "alice", amount: 1n });
    }
    expect(core.checkBalanced()).to.deep.include({ balanced: true, assets: 5_004n, entries: 5_003 });
    // Posting 5,000 (the first of the second page) is entry 2500's second line.
    store.run("UPDATE ledger_postings SET amount = '2' WHERE entry_id = 2500 AND line = 1");
    expect(core.checkBalanced().problems).to.deep.equal([
      "entry 2500 is off by -1",
      "account alice stores 5003 but its postings sum to 5004",
      "assets 5004 differ from liabilities 5005",
    ]);
  });

  it("opens an account idempotently, and refuses the same id with other attributes", function () {
    const { ledger: core } = ledger();
    expect(
      core.openAccount({ id: "alice", name: "A", kind: "liability", category: "customer", ref: "0xab" }).id,
    ).to.equal("alice");
    expect(() => core.openAccount({ id: "alice", name: "A", kind: "asset", category: "customer" })).to.throw(
      LedgerAccountConflictError,
    );
  });

  it("checkBalanced names a tampered posting or balance", function () {
    const { store, ledger: core } = ledger();
    core.transfer({ key: "seed", step: "seed", memo: "m", debit: "cash", credit: "alice", amount: 10n });
    store.run("UPDATE ledger_postings SET amount = '11' WHERE side = 'credit'");
    const report = core.checkBalanced();
    expect(report.balanced).to.equal(false);
    expect(report.problems.join("\n"))
      .to.match(/entry 1 is off by -1/)
      .and.match(/account alice stores 10/);
  });

  it("stays balanced, with every balance equal to a model's, through any sequence of transfers and replays", function () {
    const accounts = ["cash", "trust", "alice", "bob"] as const;
    const op = fc.record({
      from: fc.constantFrom(...accounts),
      to: fc.constantFrom(...accounts),
      amount: fc.bigInt(1n, 2n ** 40n),
      replay: fc.nat(20),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const { ledger: core } = ledger();
        const kinds: Record<string, "asset" | "liability"> = {
          cash: "asset",
          trust: "liability",
          alice: "liability",
          bob: "liability",
        };
        const model = new Map<string, bigint>(accounts.map((id) => [id, 0n]));
        const posted: Array<{ key: string; debit: string; credit: string; amount: bigint }> = [];
        ops.forEach((o, i) => {
          if (o.from === o.to) return;
          const entry = { key: `k${i}`, step: "x", memo: "m", debit: o.from, credit: o.to, amount: o.amount };
          const sign = (id: string, side: "debit" | "credit") =>
            (kinds[id] === "asset") === (side === "debit") ? 1n : -1n;
          const nextFrom = model.get(o.from)! + sign(o.from, "debit") * o.amount;
          const nextTo = model.get(o.to)! + sign(o.to, "credit") * o.amount;
          const refused = (nextFrom < 0n && o.from !== "cash") || (nextTo < 0n && o.to !== "cash");
          if (refused) {
            expect(() => core.transfer(entry)).to.throw(LedgerInsufficientFundsError);
          } else {
            expect(core.transfer(entry).created).to.equal(true);
            model.set(o.from, nextFrom);
            model.set(o.to, nextTo);
            posted.push(entry);
          }
          const again = posted[o.replay % Math.max(posted.length, 1)];
          if (again !== undefined) expect(core.transfer({ ...again, step: "x", memo: "m" }).created).to.equal(false);
        });
        for (const id of accounts) expect(core.balance(id)).to.equal(model.get(id));
        const report = core.checkBalanced();
        expect(report.problems).to.deep.equal([]);
        expect(report.entries).to.equal(posted.length);
      }),
      { numRuns: 60 },
    );
  });
});
