/**
 * The core ledger's entry rules at their edges, with the details each refusal
 * carries: the key, the number of lines, the amount range, a balance's range
 * both ways, a customer account down to exactly zero, and the totals of an
 * unbalanced entry by side.
 */
import { expect } from "chai";

import {
  CoreLedger,
  LedgerInsufficientFundsError,
  LedgerInvalidEntryError,
  LedgerKeyConflictError,
  MAX_LEDGER_AMOUNT,
  type PostingLine,
} from "../../src/settlement/core-ledger.js";
import { Store } from "../../src/store/store.js";

function ledger(): CoreLedger {
  const core = new CoreLedger(Store.open({ path: ":memory:" }), { now: () => Date.UTC(2026, 0, 1) });
  core.openAccount({ id: "cash", name: "cash", kind: "asset", category: "internal", allowNegative: true });
  core.openAccount({ id: "alice", name: "Alice", kind: "liability", category: "customer" });
  core.openAccount({ id: "bob", name: "Bob", kind: "liability", category: "customer" });
  return core;
}

const line = (account: string, side: "debit" | "credit", amount: bigint): PostingLine => ({ account, side, amount });

function refusal(fn: () => unknown): { error: unknown; code: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    const e = error as { code: string; details: Record<string, unknown> };
    return { error, code: e.code, details: e.details };
  }
  throw new Error("expected a refusal");
}

describe("settlement: core ledger entry rules", function () {
  it("refuses an entry without a key or with fewer than two lines, naming the key", function () {
    const core = ledger();
    const noKey = refusal(() =>
      core.transfer({ key: "", step: "s", memo: "m", debit: "cash", credit: "alice", amount: 1n }),
    );
    expect(noKey.error).to.be.instanceOf(LedgerInvalidEntryError);
    expect(noKey.code).to.equal("LEDGER_EMPTY_KEY");
    const one = refusal(() => core.post({ key: "one", step: "s", memo: "m", lines: [line("cash", "debit", 1n)] }));
    expect(one.error).to.be.instanceOf(LedgerInvalidEntryError);
    expect([one.code, one.details]).to.deep.equal(["LEDGER_TOO_FEW_LINES", { key: "one" }]);
    expect(core.entries()).to.deep.equal([]);
  });

  it("takes amounts from 1 to MAX_LEDGER_AMOUNT, and names the amount outside", function () {
    const core = ledger();
    const zero = refusal(() =>
      core.transfer({ key: "z", step: "s", memo: "m", debit: "cash", credit: "alice", amount: 0n }),
    );
    expect([zero.code, zero.details]).to.deep.equal(["LEDGER_INVALID_AMOUNT", { key: "z", amount: "0" }]);
    const over = MAX_LEDGER_AMOUNT + 1n;
    const big = refusal(() =>
      core.transfer({ key: "b", step: "s", memo: "m", debit: "cash", credit: "alice", amount: over }),
    );
    expect([big.code, big.details]).to.deep.equal(["LEDGER_INVALID_AMOUNT", { key: "b", amount: over.toString() }]);
    core.transfer({ key: "max", step: "s", memo: "m", debit: "cash", credit: "alice", amount: MAX_LEDGER_AMOUNT });
    expect(core.balance("alice")).to.equal(MAX_LEDGER_AMOUNT);
    expect(core.entries()[0]!.lines.map((l) => l.amount)).to.deep.equal([MAX_LEDGER_AMOUNT, MAX_LEDGER_AMOUNT]);
  });

  it("keeps every balance within ±MAX_LEDGER_AMOUNT: up to it is taken, one more is refused whole", function () {
    const core = ledger();
    core.transfer({ key: "up", step: "s", memo: "m", debit: "cash", credit: "alice", amount: MAX_LEDGER_AMOUNT });
    const more = refusal(() =>
      core.transfer({ key: "up2", step: "s", memo: "m", debit: "cash", credit: "bob", amount: 1n }),
    );
    expect(more.error).to.be.instanceOf(LedgerInvalidEntryError);
    expect([more.code, more.details]).to.deep.equal([
      "LEDGER_BALANCE_OVERFLOW",
      { account: "cash", balance: MAX_LEDGER_AMOUNT.toString(), amount: "1" },
    ]);
    expect([core.balance("cash"), core.balance("bob")]).to.deep.equal([MAX_LEDGER_AMOUNT, 0n]);

    // Down: cash (an asset that may go negative) credited to exactly -MAX, then 1 more.
    const down = ledger();
    down.openAccount({ id: "sink", name: "sink", kind: "asset", category: "internal", allowNegative: true });
    down.transfer({ key: "d", step: "s", memo: "m", debit: "sink", credit: "cash", amount: MAX_LEDGER_AMOUNT });
    expect(down.balance("cash")).to.equal(-MAX_LEDGER_AMOUNT);
    const below = refusal(() =>
      down.transfer({
        key: "d2",
        step: "s",
        memo: "m",
        debit: "alice",
        credit: "cash",
        amount: 1n,
        allowOverdraft: true,
      }),
    );
    expect([below.code, below.details]).to.deep.equal([
      "LEDGER_BALANCE_OVERFLOW",
      { account: "cash", balance: (-MAX_LEDGER_AMOUNT).toString(), amount: "1" },
    ]);
    expect(down.balance("alice")).to.equal(0n);
    expect(down.checkBalanced().balanced).to.equal(true);
  });

  it("lets a customer account go down to exactly zero, not below", function () {
    const core = ledger();
    core.transfer({ key: "seed", step: "s", memo: "m", debit: "cash", credit: "alice", amount: 5n });
    core.transfer({ key: "all", step: "s", memo: "m", debit: "alice", credit: "bob", amount: 5n });
    expect(core.balance("alice")).to.equal(0n);
    const one = refusal(() =>
      core.transfer({ key: "one", step: "s", memo: "m", debit: "alice", credit: "bob", amount: 1n }),
    );
    expect(one.error).to.be.instanceOf(LedgerInsufficientFundsError);
    expect(one.details).to.deep.equal({ account: "alice", balance: "0", amount: "1" });
  });

  it("names an unbalanced entry's debit and credit totals, each on its side", function () {
    const core = ledger();
    const unbalanced = refusal(() =>
      core.post({
        key: "u",
        step: "s",
        memo: "m",
        lines: [line("cash", "debit", 2n), line("cash", "debit", 5n), line("alice", "credit", 3n)],
      }),
    );
    expect([unbalanced.code, unbalanced.details]).to.deep.equal([
      "LEDGER_UNBALANCED_ENTRY",
      { key: "u", debits: "7", credits: "3" },
    ]);
  });

  it("a replay that repeats the lines and adds more is a conflict naming the key", function () {
    const core = ledger();
    const first = [line("cash", "debit", 100n), line("alice", "credit", 100n)];
    core.post({ key: "k", step: "s", memo: "m", lines: first });
    const longer = [...first, line("cash", "debit", 5n), line("bob", "credit", 5n)];
    const conflict = refusal(() => core.post({ key: "k", step: "s", memo: "m", lines: longer }));
    expect(conflict.error).to.be.instanceOf(LedgerKeyConflictError);
    expect(conflict.details).to.deep.equal({ key: "k" });
    expect(core.balance("bob")).to.equal(0n);
    const shorter = ledger();
    shorter.post({ key: "k", step: "s", memo: "m", lines: longer });
    expect(() => shorter.post({ key: "k", step: "s", memo: "m", lines: first })).to.throw(LedgerKeyConflictError);
  });

  it("a transfer records its payment and may overdraw only when told", function () {
    const core = ledger();
    core.transfer({
      key: "p",
      payment: "outbound:P-1",
      step: "debit",
      memo: "m",
      debit: "cash",
      credit: "alice",
      amount: 3n,
    });
    expect(core.entries("outbound:P-1").map((e) => e.key)).to.deep.equal(["p"]);
    expect(core.entries()[0]!.payment).to.equal("outbound:P-1");
    expect(() =>
      core.transfer({
        key: "o",
        step: "s",
        memo: "m",
        debit: "alice",
        credit: "bob",
        amount: 4n,
        allowOverdraft: false,
      }),
    ).to.throw(LedgerInsufficientFundsError);
    core.transfer({ key: "o2", step: "s", memo: "m", debit: "alice", credit: "bob", amount: 4n, allowOverdraft: true });
    expect(core.balance("alice")).to.equal(-1n);
  });
});
