/**
 * The demo's report: one entry per step with the transactions it sent (each
 * with its chain) and the checks that prove its effect, then the ledgers at
 * the end. Printed as `✓`/`✗` lines for people, or whole as JSON (`--json`).
 */
import path from "node:path";

/** A transaction a step sent or caused, on chain `chainId`. */
export interface DemoTx {
  readonly chainId: number;
  readonly hash: string;
  /** What it did, in a few words. */
  readonly what: string;
}

/** One check of a step's effect: what was expected, what was found. */
export interface DemoCheck {
  readonly what: string;
  readonly ok: boolean;
  readonly expected?: string;
  readonly actual?: string;
}

/** What one step did. `ok` is true when it finished and every check held. */
export interface StepReport {
  readonly step: number;
  readonly name: string;
  readonly title: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly txs: readonly DemoTx[];
  readonly checks: readonly DemoCheck[];
  /** Facts worth a line (ids, amounts), in order. */
  readonly notes: readonly string[];
  /** Why the step stopped, when it threw. */
  readonly error: string | null;
}

/** One chain's books at the end of the run. */
export interface ChainTotals {
  readonly chainId: number;
  readonly totalSupply: string;
  readonly totalOutstanding: string;
  readonly imported: string;
  readonly exported: string;
  /**
   * `totalOutstanding == totalSupply`: true while as much came in over the lane as went out. Shown, not required:
   * a one-way transfer before the run leaves it false for good.
   */
  readonly equal: boolean;
  /** `totalSupply + exported == totalOutstanding + imported`. */
  readonly bridgeIdentity: boolean;
  /** `totalSupply − totalOutstanding` when the run began. */
  readonly gapAtStart: string;
  /** The run's own transfers left `totalSupply − totalOutstanding` as it was when the run began. */
  readonly runKeptGap: boolean;
}

/** A bank agent's double-entry ledger at the end of the run. */
export interface AgentLedger {
  readonly service: string;
  readonly balanced: boolean;
  readonly assets: string;
  readonly liabilities: string;
  readonly entries: number;
}

/** The whole run. */
export interface DemoReport {
  readonly ok: boolean;
  readonly tag: string;
  readonly stack: string;
  readonly startedAt: string;
  readonly ms: number;
  readonly startBlocks: Readonly<Record<string, number>>;
  readonly steps: readonly StepReport[];
  readonly ledgers: readonly AgentLedger[];
  readonly chains: readonly ChainTotals[];
  /** Every transaction of the run, in order, each once. */
  readonly transactions: readonly DemoTx[];
}

const mark = (ok: boolean): string => (ok ? "✓" : "✗");

/** A path as a terminal line shows it: relative to `cwd` when it lies inside it, else as it is. */
export function shownPath(file: string, cwd: string = process.cwd()): string {
  const relative = path.relative(cwd, file);
  return relative === "" || relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

/** The report as lines for a terminal (the stack file relative to `cwd`, as the README shows it). */
export function formatReport(report: DemoReport, cwd: string = process.cwd()): string {
  const out: string[] = [`bank-chain demo ${report.tag} on ${shownPath(report.stack, cwd)}`];
  for (const step of report.steps) {
    out.push(`${mark(step.ok)} ${String(step.step).padStart(2)} ${step.title}  (${(step.ms / 1000).toFixed(1)} s)`);
    for (const note of step.notes) out.push(`       ${note}`);
    for (const tx of step.txs) out.push(`       tx ${tx.chainId} ${tx.hash}  ${tx.what}`);
    for (const check of step.checks) {
      const detail = check.ok ? "" : `  (expected ${check.expected ?? "?"}, found ${check.actual ?? "?"})`;
      out.push(`     ${mark(check.ok)} ${check.what}${detail}`);
    }
    if (step.error !== null) out.push(`     ✗ stopped: ${step.error}`);
  }
  out.push("ledgers:");
  for (const ledger of report.ledgers) {
    out.push(
      `  ${mark(ledger.balanced)} ${ledger.service.padEnd(7)} balanced=${ledger.balanced} assets=${ledger.assets} liabilities=${ledger.liabilities} entries=${ledger.entries}`,
    );
  }
  for (const chain of report.chains) {
    // The plain equality is a fact, not a check: `·` when a one-way transfer has left the two apart.
    out.push(
      `  ${chain.equal ? "✓" : "·"} chain ${chain.chainId}: totalOutstanding ${chain.totalOutstanding} ${chain.equal ? "==" : "!="} totalSupply ${chain.totalSupply}` +
        (chain.equal ? "" : ` (imported ${chain.imported}, exported ${chain.exported} over the lane)`),
    );
    out.push(
      `  ${mark(chain.bridgeIdentity)} chain ${chain.chainId}: totalSupply + exported ${chain.exported} == totalOutstanding + imported ${chain.imported}: ${chain.bridgeIdentity}`,
    );
    const gap = (BigInt(chain.totalSupply) - BigInt(chain.totalOutstanding)).toString();
    out.push(
      `  ${mark(chain.runKeptGap)} chain ${chain.chainId}: totalSupply − totalOutstanding ${gap}, ${chain.gapAtStart} when the run began`,
    );
  }
  out.push(`transactions (${report.transactions.length}):`);
  for (const tx of report.transactions) out.push(`  ${tx.chainId} ${tx.hash}  ${tx.what}`);
  const failed = report.steps.filter((step) => !step.ok).length;
  const verdict = report.ok
    ? "every step and every check held"
    : failed > 0
      ? `${failed} step(s) failed`
      : "every step held, but the books at the end did not";
  out.push(`${mark(report.ok)} ${verdict} in ${(report.ms / 1000).toFixed(1)} s`);
  return out.join("\n");
}
