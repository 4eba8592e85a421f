/**
 * The demo's books at the end of a run (`src/demo/ledgers.ts`, `report.ts`),
 * from figures alone. A one-way transfer over the lane before the run (the
 * interop guide's `interop send`) leaves `totalSupply` and `totalOutstanding`
 * apart for good; a stranger who tried that example found every later demo
 * failing on it. The run is held to what it can answer for: the bridge
 * identity, and its own transfers leaving the gap where it found it.
 */
import path from "node:path";
import { expect } from "chai";

import { chainBooks, chainBooksHold, type ChainFigures } from "../../src/demo/ledgers.js";
import { formatReport, shownPath, type DemoReport } from "../../src/demo/report.js";

/** The stranger's chain 31337 when the demo began: 10.00 sent one way, after two earlier round trips. */
const AFTER_ONE_WAY: ChainFigures = {
  supply: 21_399_000n,
  outstanding: 21_400_000n,
  imported: 2_000n,
  exported: 3_000n,
};

/** The demo's effect on a chain: `issued` minted against deposits, `roundTrip` out over the lane and back. */
function afterRun(start: ChainFigures, issued: bigint, roundTrip: bigint): ChainFigures {
  return {
    supply: start.supply + issued,
    outstanding: start.outstanding + issued,
    imported: start.imported + roundTrip,
    exported: start.exported + roundTrip,
  };
}

function report(chains: DemoReport["chains"], stepsOk = true): DemoReport {
  return {
    ok: stepsOk && chains.every((chain) => chainBooksHold(chain)),
    tag: "demo-1",
    stack: "stack.json",
    startedAt: "2026-12-07T00:00:00.000Z",
    ms: 1_000,
    startBlocks: {},
    steps: [
      { step: 1, name: "deposit", title: "a deposit", ok: stepsOk, ms: 1, txs: [], checks: [], notes: [], error: null },
    ],
    ledgers: [],
    chains,
    transactions: [],
  };
}

describe("demo: the books at the end of a run", function () {
  it("a one-way transfer before the run leaves supply and issuance apart, and the books still hold", function () {
    const books = chainBooks(31337, AFTER_ONE_WAY, afterRun(AFTER_ONE_WAY, 200_000n, 1_000n));
    expect(books).to.deep.include({
      totalSupply: "21599000",
      totalOutstanding: "21600000",
      imported: "3000",
      exported: "4000",
      equal: false,
      bridgeIdentity: true,
      gapAtStart: "-1000",
      runKeptGap: true,
    });
    expect(chainBooksHold(books)).to.equal(true);
    const text = formatReport(report([books]));
    expect(text).to.include(
      "  · chain 31337: totalOutstanding 21600000 != totalSupply 21599000 (imported 3000, exported 4000 over the lane)",
    );
    expect(text).to.include("  ✓ chain 31337: totalSupply − totalOutstanding -1000, -1000 when the run began");
    expect(text).to.not.include("✗");
    expect(text.split("\n").at(-1)).to.match(/^✓ every step and every check held in /);
  });

  it("on a chain that started equal, the equality holds after the run's round trip", function () {
    const start = { supply: 500n, outstanding: 500n, imported: 0n, exported: 0n };
    const books = chainBooks(31338, start, afterRun(start, 0n, 1_000n));
    expect([books.equal, books.bridgeIdentity, books.runKeptGap, books.gapAtStart]).to.deep.equal([
      true,
      true,
      true,
      "0",
    ]);
    expect(formatReport(report([books]))).to.include("  ✓ chain 31338: totalOutstanding 500 == totalSupply 500\n");
  });

  it("the run's own transfer that never came back fails the books, though the bridge identity holds", function () {
    const end = afterRun(AFTER_ONE_WAY, 0n, 0n);
    const leaked = { ...end, supply: end.supply - 1_000n, exported: end.exported + 1_000n };
    const books = chainBooks(31337, AFTER_ONE_WAY, leaked);
    expect([books.bridgeIdentity, books.runKeptGap]).to.deep.equal([true, false]);
    expect(chainBooksHold(books)).to.equal(false);
    const text = formatReport(report([books]));
    expect(text).to.include("  ✗ chain 31337: totalSupply − totalOutstanding -2000, -1000 when the run began");
    expect(text.split("\n").at(-1)).to.match(/^✗ every step held, but the books at the end did not in /);
  });

  it("tokens minted with no issuance recorded break the bridge identity and fail the books", function () {
    const end = afterRun(AFTER_ONE_WAY, 0n, 0n);
    const books = chainBooks(
      31337,
      { ...AFTER_ONE_WAY, supply: AFTER_ONE_WAY.supply + 1n },
      { ...end, supply: end.supply + 1n },
    );
    expect([books.bridgeIdentity, books.runKeptGap]).to.deep.equal([false, true]);
    expect(chainBooksHold(books)).to.equal(false);
    expect(formatReport(report([books]))).to.include(
      "  ✗ chain 31337: totalSupply + exported 3000 == totalOutstanding + imported 2000: false",
    );
  });

  it("a failed step is named as such in the last line, whatever the books", function () {
    const books = chainBooks(31337, AFTER_ONE_WAY, afterRun(AFTER_ONE_WAY, 0n, 0n));
    expect(
      formatReport(report([books], false))
        .split("\n")
        .at(-1),
    ).to.match(/^✗ 1 step\(s\) failed in /);
  });

  it("names the stack file relative to the working folder when it is inside it, else in full", function () {
    const inside = path.join("/srv", "bank-chain", ".bank-chain", "localhost", "stack.json");
    expect(shownPath(inside, "/srv/bank-chain")).to.equal(path.join(".bank-chain", "localhost", "stack.json"));
    expect(shownPath(inside, "/srv/other")).to.equal(inside);
    expect(shownPath("/srv/bank-chain", "/srv/bank-chain")).to.equal("/srv/bank-chain");
    const text = formatReport({ ...report([]), stack: inside }, "/srv/bank-chain");
    expect(text.split("\n")[0]).to.equal("bank-chain demo demo-1 on .bank-chain/localhost/stack.json");
  });
});
