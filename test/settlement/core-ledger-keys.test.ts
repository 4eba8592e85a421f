/**
 * The core ledger's idempotency keys: a replay is the same entry only when
 * every line is the same (account, side and amount, in order); anything else
 * under a used key is a conflict and posts nothing.
 */
import { expect } from "chai";

import { CoreLedger, LedgerKeyConflictError, type PostingLine } from "../../src/settlement/core-ledger.js";
import { Store } from "../../src/store/store.js";

function ledger(): CoreLedger {
  const core = new CoreLedger(Store.open({ path: ":memory:" }), { now: () => Date.UTC(2026, 0, 1) });
  core.openAccount({ id: "cash", name: "cash", kind: "asset", category: "internal", allowNegative: true });
  core.openAccount({ id: "trust", name: "trust", kind: "liability", category: "internal" });
  core.openAccount({ id: "alice", name: "Alice", kind: "liability", category: "customer" });
  core.openAccount({ id: "bob", name: "Bob", kind: "liability", category: "customer" });
  return core;
}

const lines = (...spec: Array<[string, "debit" | "credit", bigint]>): PostingLine[] =>
  spec.map(([account, side, amount]) => ({ account, side, amount }));

describe("settlement: core ledger idempotency keys", function () {
  const first = lines(["cash", "debit", 100n], ["alice", "credit", 100n]);
  const replays: Array<[string, PostingLine[]]> = [
    ["another credited account", lines(["cash", "debit", 100n], ["bob", "credit", 100n])],
    ["another debited account", lines(["trust", "debit", 100n], ["alice", "credit", 100n])],
    ["the sides swapped", lines(["cash", "credit", 100n], ["alice", "debit", 100n])],
    ["the lines in another order", lines(["alice", "credit", 100n], ["cash", "debit", 100n])],
    ["another amount", lines(["cash", "debit", 101n], ["alice", "credit", 101n])],
    ["a line more", lines(["cash", "debit", 100n], ["alice", "credit", 60n], ["bob", "credit", 40n])],
  ];

  for (const [what, other] of replays) {
    it(`refuses a replayed key with ${what}, posting nothing`, function () {
      const core = ledger();
      const posted = core.post({ key: "k", step: "credit", memo: "m", lines: first });
      expect(posted.created).to.equal(true);
      const balances = core.accounts().map((a) => [a.id, a.balance]);
      expect(() => core.post({ key: "k", step: "credit", memo: "m", lines: other }))
        .to.throw(LedgerKeyConflictError)
        .with.property("code", "LEDGER_KEY_CONFLICT");
      expect(core.accounts().map((a) => [a.id, a.balance])).to.deep.equal(balances);
      expect(core.entries()).to.have.length(1);
      expect(core.entries()[0]!.lines).to.deep.equal(first);
    });
  }

  it("a replay with the very same lines is the same entry, even with another memo and step", function () {
    const core = ledger();
    const posted = core.post({ key: "k", step: "credit", memo: "m", lines: first });
    expect(core.post({ key: "k", step: "other", memo: "other", lines: [...first] })).to.deep.equal({
      entryId: posted.entryId,
      created: false,
    });
    expect(core.balance("alice")).to.equal(100n);
    expect(core.hasEntry("k")).to.equal(true);
    expect(core.hasEntry("k2")).to.equal(false);
  });

  it("a transfer replayed to another beneficiary is a conflict (the payment's step cannot pay twice)", function () {
    const core = ledger();
    const step = { key: "inbound:E2E-1:credit", payment: "inbound:E2E-1", step: "credit", memo: "m", amount: 5n };
    core.transfer({ ...step, debit: "cash", credit: "alice" });
    expect(() => core.transfer({ ...step, debit: "cash", credit: "bob" })).to.throw(LedgerKeyConflictError);
    expect([core.balance("alice"), core.balance("bob")]).to.deep.equal([5n, 0n]);
    expect(core.checkBalanced().balanced).to.equal(true);
  });
});
