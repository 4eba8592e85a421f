/**
 * `bank-chain demo`: one story across the ten parts on a running stack, each
 * step checking its effect, then the books. Loaded by the CLI only when the
 * command runs (it reaches every part).
 *
 *  1 deposit and mint at bank A           6 cross-chain transfer there and back
 *  2 interbank payment A → B, acknowledged  7 trust certificate for the buyer
 *  3 e-invoice issued, accepted, paid      8 reward epoch claimed by a producer
 *  4 card 0200 through the ISO 8583 gateway 9 checkout purchase at the retailer
 *  5 offline purchase, synced later       10 wallet key recovered from shares signs a permit
 *
 * Steps run one after another (bank A's key is also its agent's), each to
 * the end even when one before failed; the report says which held.
 */
import { readStackFile, stackFilePath } from "../chain/stack-file.js";
import { messageOf } from "../errors.js";
import { openContext, StepRecorder, type DemoStep } from "./context.js";
import { agentLedgers, chainBooks, chainBooksHold, chainFigures } from "./ledgers.js";
import { startOwnStack, type OwnStack } from "./own-stack.js";
import type { DemoReport, DemoTx, StepReport } from "./report.js";
import { depositMint } from "./steps/01-deposit-mint.js";
import { interbank } from "./steps/02-interbank.js";
import { bill } from "./steps/03-bill.js";
import { card } from "./steps/04-card.js";
import { offline } from "./steps/05-offline.js";
import { interop } from "./steps/06-interop.js";
import { certificate } from "./steps/07-certificate.js";
import { rewards } from "./steps/08-rewards.js";
import { checkout } from "./steps/09-checkout.js";
import { keys } from "./steps/10-keys.js";

/** The story, in order. */
export const STEPS: readonly DemoStep[] = [
  depositMint,
  interbank,
  bill,
  card,
  offline,
  interop,
  certificate,
  rewards,
  checkout,
  keys,
];

/** How `runDemo` finds its stack and where its progress goes. */
export interface DemoOptions {
  /** The stack file (default: `npm start`'s, `stackFilePath()`). */
  readonly stack?: string | undefined;
  /** Run a stack of the demo's own instead. */
  readonly start?: boolean;
  /** Progress lines (stderr). */
  readonly progress?: (line: string) => void;
}

/** Runs the story and returns its report; throws only when it cannot start (no stack, not the devnet). */
export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const progress = options.progress ?? (() => undefined);
  let own: OwnStack | undefined;
  if (options.start === true) {
    progress("starting a stack of the demo's own…");
    own = await startOwnStack(progress);
  }
  try {
    const file = own?.file ?? options.stack ?? stackFilePath();
    return await runOn(file, progress);
  } finally {
    if (own !== undefined) {
      progress("stopping the demo's stack…");
      await own.stop();
    }
  }
}

async function runOn(file: string, progress: (line: string) => void): Promise<DemoReport> {
  const stack = readStackFile(file);
  const started = Date.now();
  const tag = `demo-${Math.floor(started / 1000)}`;
  const context = await openContext(file, stack, tag);
  try {
    const startBlocks = Object.fromEntries(context.chains.map((chain) => [String(chain.chainId), chain.startBlock]));
    const figuresAtStart = await Promise.all(context.chains.map((chain) => chainFigures(chain)));
    const steps: StepReport[] = [];
    for (const [index, step] of STEPS.entries()) {
      const record = new StepRecorder();
      const stepStarted = Date.now();
      progress(`${index + 1}/${STEPS.length} ${step.title}…`);
      let error: string | null = null;
      try {
        await step.run(context, record);
      } catch (caught) {
        error = messageOf(caught);
      }
      const ok = error === null && record.checks.length > 0 && record.checks.every((check) => check.ok);
      steps.push({
        step: index + 1,
        name: step.name,
        title: step.title,
        ok,
        ms: Date.now() - stepStarted,
        txs: record.txs,
        checks: record.checks,
        notes: record.notes,
        error,
      });
      progress(
        `${index + 1}/${STEPS.length} ${step.title}: ${ok ? "ok" : "FAILED"} in ${((Date.now() - stepStarted) / 1000).toFixed(1)} s`,
      );
    }
    const ledgers = await agentLedgers(context);
    const chains = await Promise.all(
      context.chains.map(async (chain, i) => chainBooks(chain.chainId, figuresAtStart[i]!, await chainFigures(chain))),
    );
    const seen = new Set<string>();
    const transactions: DemoTx[] = [];
    for (const tx of steps.flatMap((step) => step.txs)) {
      const key = `${tx.chainId}:${tx.hash}`;
      if (!seen.has(key)) {
        seen.add(key);
        transactions.push(tx);
      }
    }
    const ok =
      steps.every((step) => step.ok) &&
      ledgers.every((ledger) => ledger.balanced) &&
      chains.every((chain) => chainBooksHold(chain));
    return {
      ok,
      tag,
      stack: file,
      startedAt: new Date(started).toISOString(),
      ms: Date.now() - started,
      startBlocks,
      steps,
      ledgers,
      chains,
      transactions,
    };
  } finally {
    context.close();
  }
}
