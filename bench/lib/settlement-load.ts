/**
 * The settlement benchmark's parts, shared by its two setups (the in-process
 * network, `bench/settlement.ts`, and the `npm start` devnet,
 * `bench/settlement-devnet.ts`):
 *
 * - `postPayments`: concurrent clients post payment orders to bank A's agent
 *   (each client posts its next order as soon as the last one is answered),
 *   from a worker thread (`settlement-clients.ts`);
 * - `timelineOf` / `breakdown`: when each payment passed each step, read from
 *   the two agents' own payment histories (`GET /payments/:id` shows the same
 *   history), and the latency of each step;
 * - `directChainLimit`: the chain's own limit, the same `initiate`, `smelt` and
 *   `acknowledgeBatch` transactions sent by a tight loop with no agent.
 */
import { Worker } from "node:worker_threads";

import type { Provider, Signer, TransactionResponse } from "ethers";

import {
  accountRefOf,
  fiatRefOf,
  settlementIdOf,
  termsTuple,
  type SettlementTerms,
} from "../../src/settlement/terms.js";
import { IInterbankSettlement__factory } from "../../typechain-types/index.js";
import type { ClientsInput, ClientsOutput } from "./settlement-clients.js";

export type History = ReadonlyArray<{ readonly at: string; readonly what: string; readonly tx: string | null }>;

/**
 * Posts one payment order per id to bank A's agent from `clients` concurrent clients, in a worker thread
 * (`settlement-clients.ts`); returns when each was posted. An order not answered 202 is added to `problems`.
 */
export async function postPayments(options: {
  readonly url: string;
  readonly ids: readonly string[];
  readonly clients: number;
  readonly amount: bigint;
  readonly problems: string[];
}): Promise<Map<string, number>> {
  const input: ClientsInput = {
    url: options.url,
    ids: options.ids,
    clients: options.clients,
    amount: options.amount.toString(),
  };
  const worker = new Worker(new URL("./settlement-clients.ts", import.meta.url), { workerData: input });
  try {
    const output = await new Promise<ClientsOutput>((resolve, reject) => {
      worker.once("message", (message: ClientsOutput) => resolve(message));
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`the clients' worker exited (code ${code}) without an answer`)));
    });
    options.problems.push(...output.problems);
    return new Map(output.posted);
  } finally {
    await worker.terminate();
  }
}

/**
 * The steps of a payment, each with the history entry that marks it (`outbound`: bank A's record, `inbound`:
 * bank B's). Every time is the agent's own clock when it committed that step to its SQLite file.
 */
export const STEPS = [
  {
    key: "accepted",
    label: "accepted (A committed the order and the customer debit)",
    side: "outbound",
    what: "accepted",
  },
  {
    key: "initiated",
    label: "initiated (A applied its SettlementInitiated)",
    side: "outbound",
    what: "initiated on chain",
  },
  {
    key: "seenByB",
    label: "seen by B (B applied the SettlementInitiated, credited bob)",
    side: "inbound",
    what: "received from bank",
  },
  { key: "smelted", label: "smelted (B applied its SettlementSmelted)", side: "inbound", what: "smelted on chain" },
  {
    key: "seenByA",
    label: "seen by A (A applied the SettlementSmelted)",
    side: "outbound",
    what: "the creditor bank credited",
  },
  {
    key: "acknowledged",
    label: "acknowledged (A applied its SettlementAcknowledged)",
    side: "outbound",
    what: "acknowledged on chain",
  },
] as const;
export type StepKey = (typeof STEPS)[number]["key"];

/** When one payment was posted and passed each step (ms since the epoch), or undefined if it did not. */
export type Timeline = { readonly posted: number } & { readonly [K in StepKey]: number | undefined };

export function timelineOf(posted: number, outbound: History, inbound: History): Timeline {
  const at = (history: History, what: string): number | undefined => {
    const entry = history.find((item) => item.what.startsWith(what));
    return entry === undefined ? undefined : Date.parse(entry.at);
  };
  const timeline: Record<string, number | undefined> = { posted };
  for (const step of STEPS) timeline[step.key] = at(step.side === "outbound" ? outbound : inbound, step.what);
  return timeline as Timeline;
}

/** The `p`th percentile of sorted `values` (nearest rank), 0 for none. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

export interface StepLatency {
  readonly step: StepKey;
  readonly label: string;
  /** From the step before it (`POST /payments` for the first). */
  readonly p50Ms: number;
  readonly p95Ms: number;
  /** From `POST /payments` to this step. */
  readonly sincePostP50Ms: number;
  readonly sincePostP95Ms: number;
}

/** Each step's latency over the payments that completed it. */
export function breakdown(timelines: readonly Timeline[]): StepLatency[] {
  const sorted = (values: number[]) => values.sort((x, y) => x - y);
  let previous: StepKey | "posted" = "posted";
  const rows: StepLatency[] = [];
  for (const step of STEPS) {
    const from = previous;
    const done = timelines.filter((t) => t[step.key] !== undefined && t[from] !== undefined);
    const deltas = sorted(done.map((t) => t[step.key]! - t[from]!));
    const since = sorted(done.map((t) => t[step.key]! - t.posted));
    rows.push({
      step: step.key,
      label: step.label,
      p50Ms: percentile(deltas, 50),
      p95Ms: percentile(deltas, 95),
      sincePostP50Ms: percentile(since, 50),
      sincePostP95Ms: percentile(since, 95),
    });
    previous = step.key;
  }
  return rows;
}

/** The breakdown as a markdown table. */
export function breakdownTable(rows: readonly StepLatency[]): string {
  return [
    "| step | p50 from the step before (ms) | p95 (ms) | p50 since POST (ms) | p95 since POST (ms) |",
    "|---|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.label} | ${r.p50Ms} | ${r.p95Ms} | ${r.sincePostP50Ms} | ${r.sincePostP95Ms} |`),
  ].join("\n");
}

/** The batch sizes of each step's transactions, in the order they were sent. */
export interface TxShape {
  readonly initiate: readonly number[];
  readonly smelt: readonly number[];
  readonly acknowledge: readonly number[];
}

/**
 * The shape of the agents' settlement transactions (their calldata): how many `initiate`, `smelt` and
 * `acknowledge` transactions, each with how many payments (a batch function counts its terms).
 */
export function shapeOf(calldata: readonly string[]): TxShape {
  const iface = IInterbankSettlement__factory.createInterface();
  const shape = { initiate: [] as number[], smelt: [] as number[], acknowledge: [] as number[] };
  for (const data of calldata) {
    const parsed = iface.parseTransaction({ data });
    if (parsed === null) continue;
    const batch = parsed.name.endsWith("Batch");
    const step = parsed.name.replace(/Batch$/, "");
    if (step !== "initiate" && step !== "smelt" && step !== "acknowledge") continue;
    shape[step].push(batch ? (parsed.args[0] as unknown[]).length : 1);
  }
  return shape;
}

export interface DirectResult {
  readonly payments: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly transactions: number;
  readonly gasPerPayment: number;
  /**
   * Milliseconds the benchmark's main thread was busy in the timed run, per payment: on the in-process network
   * the node does much of each request on the thread that calls it (Hardhat's request handlers, EDR's answer).
   */
  readonly mainThreadMsPerPayment: number;
}

/**
 * The chain's own limit: the agents' transactions again, by the agents' keys and with no agent, as fast as the
 * node takes them. `shape` gives each step's transactions and their batch sizes as the agents sent them (from
 * `shapeOf`); the loop sends the same functions with the same sizes for new payments: every initiate back to
 * back (each with its own nonce, counted here, and one gas limit per batch size from an estimate), then every
 * smelt, then every acknowledgement; the clock stops at the last receipt. Every receipt must have status 1.
 */
export async function directChainLimit(options: {
  readonly provider: Provider;
  readonly settlement: string;
  /** Bank A's and bank B's trust accounts. */
  readonly banks: { readonly A: string; readonly B: string };
  /** Bank A's and bank B's agent keys (the settlement's `agentOf`). */
  readonly agents: { readonly A: Signer; readonly B: Signer };
  readonly shape: TxShape;
  readonly amount: bigint;
  /** Distinguishes this run's settlement ids from any other's. */
  readonly tag: string;
}): Promise<DirectResult> {
  const { provider, agents, shape } = options;
  const iface = IInterbankSettlement__factory.createInterface();
  const count = shape.initiate.reduce((sum, n) => sum + n, 0);
  const latest = await provider.getBlock("latest");
  const deadline = latest!.timestamp + 3_600;
  const terms: SettlementTerms[] = Array.from({ length: count }, (_, i) => ({
    id: settlementIdOf(`DIRECT-${options.tag}-${i}`),
    debtorBank: options.banks.A,
    creditorBank: options.banks.B,
    amount: options.amount,
    creditorAccountRef: accountRefOf("bob"),
    deadline,
  }));
  const chunks = (sizes: readonly number[]): SettlementTerms[][] => {
    const out: SettlementTerms[][] = [];
    let at = 0;
    for (const size of sizes) {
      out.push(terms.slice(at, at + size));
      at += size;
    }
    return out;
  };
  const calls = {
    initiate: chunks(shape.initiate).map((batch) =>
      batch.length === 1
        ? iface.encodeFunctionData("initiate", [termsTuple(batch[0]!)])
        : iface.encodeFunctionData("initiateBatch", [batch.map(termsTuple)]),
    ),
    smelt: chunks(shape.smelt).map((batch) =>
      batch.length === 1
        ? iface.encodeFunctionData("smelt", [termsTuple(batch[0]!), fiatRefOf("credit", batch[0]!.id)])
        : iface.encodeFunctionData("smeltBatch", [batch.map(termsTuple), batch.map((t) => fiatRefOf("credit", t.id))]),
    ),
    acknowledge: chunks(shape.acknowledge).map((batch) =>
      batch.length === 1
        ? iface.encodeFunctionData("acknowledge", [termsTuple(batch[0]!)])
        : iface.encodeFunctionData("acknowledgeBatch", [batch.map(termsTuple)]),
    ),
  };
  const nonces = new Map<Signer, number>();
  for (const signer of [agents.A, agents.B]) {
    nonces.set(signer, await provider.getTransactionCount(await signer.getAddress(), "pending"));
  }
  const sent: TransactionResponse[] = [];
  // One estimate per step, of its smallest batch: its gas per payment, with the agents' margin, serves every
  // batch (a bigger batch needs no more per payment), as the agents reuse theirs.
  const phase = async (signer: Signer, sizes: readonly number[], data: readonly string[]): Promise<void> => {
    const smallest = sizes.indexOf(Math.min(...sizes));
    const estimate = await signer.estimateGas({ to: options.settlement, data: data[smallest]! });
    const perPayment = (estimate + BigInt(sizes[smallest]!) - 1n) / BigInt(sizes[smallest]!);
    const limitOf = (size: number): bigint => {
      const gas = perPayment * BigInt(size);
      return gas + gas / 4n + 20_000n;
    };
    const batch: Array<Promise<TransactionResponse>> = [];
    for (const [i, call] of data.entries()) {
      const nonce = nonces.get(signer)!;
      nonces.set(signer, nonce + 1);
      batch.push(signer.sendTransaction({ to: options.settlement, data: call, nonce, gasLimit: limitOf(sizes[i]!) }));
    }
    const responses = await Promise.all(batch);
    sent.push(...responses);
    await responses.at(-1)!.wait();
  };
  const busyBefore = performance.eventLoopUtilization();
  const started = performance.now();
  await phase(agents.A, shape.initiate, calls.initiate);
  await phase(agents.B, shape.smelt, calls.smelt);
  await phase(agents.A, shape.acknowledge, calls.acknowledge);
  const seconds = (performance.now() - started) / 1000;
  const busy = performance.eventLoopUtilization(busyBefore).active;
  let gas = 0n;
  for (const response of sent) {
    const receipt = await provider.getTransactionReceipt(response.hash);
    if (receipt?.status !== 1) throw new Error(`direct loop: transaction ${response.hash} did not succeed`);
    gas += receipt.gasUsed;
  }
  return {
    payments: count,
    seconds: Number(seconds.toFixed(2)),
    perSecond: Number((count / seconds).toFixed(1)),
    transactions: sent.length,
    gasPerPayment: Number(gas / BigInt(count)),
    mainThreadMsPerPayment: Number((busy / count).toFixed(2)),
  };
}
