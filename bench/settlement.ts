/**
 * Settlement throughput and gas: 500 payments from bank A to bank B on the
 * in-process network, both banks' agents included (same process, real HTTP on
 * 127.0.0.1, SQLite in memory). Writes `bench/results/settlement.json` and
 * prints a table.
 *
 *   npm run bench:settlement
 *
 * - completed: payments that reached Acknowledged;
 * - seconds, perSecond: wall time from the first `POST /payments` to the last
 *   acknowledgement, and completed payments per second;
 * - p50Ms, p95Ms: latency of one payment from its `POST /payments` to A's
 *   agent committing its `SettlementAcknowledged`;
 * - gasPerPayment: the gas of every transaction either agent sent (initiate,
 *   smelt, acknowledgement batches, and any retry or failed one) divided by the
 *   completed payments. The table also shows it attributed per payment: its
 *   initiate, its smelt and its share of the batch that acknowledged it.
 */
import { getAddress } from "ethers";
import { network } from "hardhat";

import { Step } from "../src/chain/progress.js";
import { BankAgent, type BankDirectoryEntry } from "../src/settlement/agent.js";
import { Store } from "../src/store/store.js";
import { deployQuietly } from "./lib/deploy.js";
import { writeResult } from "./lib/results.js";
import {
  breakdown,
  breakdownTable,
  directChainLimit,
  percentile,
  postPayments,
  shapeOf,
  timelineOf,
} from "./lib/settlement-load.js";

const PAYMENTS = 500;
const CLIENTS = 50;
const AMOUNT = 12_345n;
const GAS_LIMIT_PER_PAYMENT = 220_000;
/** Most acknowledgements in one `acknowledgeBatch`, for the agents and the tight loop alike. */
const ACK_BATCH = 100;
/**
 * Most payments bank A's agent holds open: two per client. The agents share one thread with the chain; one that
 * admitted every order at once would settle no faster, and each payment would wait behind the backlog.
 */
const MAX_OPEN = 2 * CLIENTS;

const connection = await network.create("hardhat");
const { ethers } = connection;
const env = await deployQuietly(connection.provider);
const deployed = (name: string): string => env.deployments[name]!.address;
const banks: BankDirectoryEntry[] = [
  { id: "A", trustAccount: deployed("TrustAccountBankA") },
  { id: "B", trustAccount: deployed("TrustAccountBankB") },
];
const firstBlock = await ethers.provider.getBlockNumber();

const problems: string[] = [];
let acknowledgedSoFar = 0;
async function agent(bank: "A" | "B", address: string): Promise<BankAgent> {
  return new BankAgent({
    store: Store.open({ path: ":memory:" }),
    provider: ethers.provider,
    signer: await ethers.getSigner(address),
    settlement: deployed("InterbankSettlement"),
    bankId: bank,
    banks,
    currency: "USD",
    confirmations: 0,
    port: 0,
    pollIntervalMs: 5,
    headPollMs: 5,
    ackBatchSize: ACK_BATCH,
    maxOpenPayments: MAX_OPEN,
    log: (line) => {
      if (/error|failed|will retry/.test(line)) problems.push(line);
    },
    // Counted as they happen: asking the store for 500 payments every round would take the agents' CPU.
    onStep: (point) => {
      if (bank === "A" && point === "event:SettlementAcknowledged") acknowledgedSoFar += 1;
    },
  });
}
const agentKeys = [env.namedAccounts.bankA, env.namedAccounts.bankB].map((address) => getAddress(address));
const a = await agent("A", agentKeys[0]!);
const b = await agent("B", agentKeys[1]!);
a.openCustomerAccount({ id: "alice", name: "Alice", deposit: AMOUNT * BigInt(PAYMENTS) });
b.openCustomerAccount({ id: "bob", name: "Bob" });
await a.start();
await b.start();

const ids = Array.from({ length: PAYMENTS }, (_, i) => `BENCH-${String(i).padStart(4, "0")}`);
// Progress on stderr (the results go to stdout): a line every tenth of the payments acknowledged.
const progress = new Step(`${PAYMENTS} payments A→B to Acknowledged`, { prefix: "[bench] ", every: PAYMENTS / 10 });
// How busy this thread (the chain's and both agents') is while the payments go through.
const busyBefore = performance.eventLoopUtilization();
const posting = postPayments({ url: a.url, ids, clients: CLIENTS, amount: AMOUNT, problems });
let done = 0;
const deadline = Date.now() + 600_000;
while (done < PAYMENTS && Date.now() < deadline && problems.length === 0) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  done = acknowledgedSoFar;
  progress.tick(done, PAYMENTS);
}
const posted = await posting;
const busy = performance.eventLoopUtilization(busyBefore).active;
if (done === PAYMENTS) progress.done();
else progress.fail();
await a.stop();
await b.stop();
const timelines = ids.map((id) =>
  timelineOf(
    posted.get(id)!,
    a.payments.get("outbound", id)?.history ?? [],
    b.payments.get("inbound", id)?.history ?? [],
  ),
);
const acknowledged = timelines.filter((t) => t.acknowledged !== undefined);
const ended = Math.max(...acknowledged.map((t) => t.acknowledged!));
// From the first order on the wire: the clients' worker takes a moment to start, which is not the agents' time.
const started = Math.min(...posted.values());

// Gas: every transaction either agent sent since the agents started.
const agents = new Set(agentKeys);
const lastBlock = await ethers.provider.getBlockNumber();
const gasOfTx = new Map<string, bigint>();
let totalGas = 0n;
let transactions = 0;
/** The calldata of the agents' transactions that succeeded, in chain order: the tight loop sends the same shape. */
const landed: string[] = [];
for (let number = firstBlock + 1; number <= lastBlock; number += 1) {
  const block = await ethers.provider.getBlock(number, true);
  for (const tx of block?.prefetchedTransactions ?? []) {
    if (!agents.has(getAddress(tx.from))) continue;
    const receipt = await ethers.provider.getTransactionReceipt(tx.hash);
    gasOfTx.set(tx.hash, receipt!.gasUsed);
    totalGas += receipt!.gasUsed;
    transactions += 1;
    if (receipt!.status === 1) landed.push(tx.data);
  }
}
// The same, attributed to each payment from its history: its share of its initiate, smelt and acknowledgement
// transactions (a batch's gas divided among the payments in it).
const histories = ids.map((id) => a.payments.get("outbound", id)!.history);
const STEP_ENTRIES = {
  initiate: "initiated",
  smelt: "the creditor bank credited",
  acknowledge: "acknowledged",
} as const;
const txOf = (history: (typeof histories)[number], prefix: string) =>
  history.find((entry) => entry.what.startsWith(prefix))?.tx ?? undefined;
const paymentsInTx = new Map<string, number>();
for (const history of histories) {
  for (const prefix of Object.values(STEP_ENTRIES)) {
    const tx = txOf(history, prefix);
    if (tx !== undefined) paymentsInTx.set(tx, (paymentsInTx.get(tx) ?? 0) + 1);
  }
}
const perStep = { initiate: 0n, smelt: 0n, acknowledge: 0n };
const batchesOf = { initiate: new Set<string>(), smelt: new Set<string>(), acknowledge: new Set<string>() };
for (const history of histories) {
  for (const [step, prefix] of Object.entries(STEP_ENTRIES) as Array<[keyof typeof STEP_ENTRIES, string]>) {
    const tx = txOf(history, prefix);
    if (tx === undefined) continue;
    perStep[step] += (gasOfTx.get(tx) ?? 0n) / BigInt(paymentsInTx.get(tx)!);
    batchesOf[step].add(tx);
  }
}

const completed = acknowledged.length;
const latencies = acknowledged.map((t) => t.acknowledged! - t.posted).sort((x, y) => x - y);
const seconds = (ended - started) / 1000;
const steps = breakdown(timelines);

// The chain's own limit, on the same chain with the agents stopped: the same transactions from a tight loop.
const directStep = new Step(`${PAYMENTS} payments by a tight loop with no agent`, { prefix: "[bench] " });
const direct = await directChainLimit({
  provider: ethers.provider,
  settlement: deployed("InterbankSettlement"),
  banks: { A: banks[0]!.trustAccount, B: banks[1]!.trustAccount },
  agents: { A: await ethers.getSigner(agentKeys[0]!), B: await ethers.getSigner(agentKeys[1]!) },
  shape: shapeOf(landed),
  amount: AMOUNT,
  tag: String(Date.now()),
});
directStep.done();
const perSecond = Number((completed / seconds).toFixed(1));
const result = {
  setup: "in-process network (Hardhat 3, automine), both agents in the benchmark's process, SQLite in memory",
  payments: PAYMENTS,
  clients: CLIENTS,
  completed,
  seconds: Number(seconds.toFixed(2)),
  perSecond,
  p50Ms: Math.round(percentile(latencies, 50)),
  p95Ms: Math.round(percentile(latencies, 95)),
  gasPerPayment: completed === 0 ? 0 : Number(totalGas / BigInt(completed)),
  steps,
  /** The main thread's busy milliseconds per payment while they went through: the chain's and both agents'. */
  mainThreadMsPerPayment: completed === 0 ? 0 : Number((busy / completed).toFixed(2)),
  direct,
  agentShareOfChainLimit: Number((perSecond / direct.perSecond).toFixed(2)),
};
const file = writeResult("settlement.json", result);

const perPayment = (gas: bigint) => (completed === 0 ? "—" : Number(gas / BigInt(completed)).toLocaleString("en-US"));
console.log(
  [
    `| figure | value |`,
    `|---|---:|`,
    `| payments completed (Acknowledged) | ${completed} of ${PAYMENTS} |`,
    `| wall seconds | ${result.seconds} |`,
    `| payments per second | ${result.perSecond} |`,
    `| latency p50, POST → Acknowledged (ms) | ${result.p50Ms} |`,
    `| latency p95, POST → Acknowledged (ms) | ${result.p95Ms} |`,
    `| gas per payment, all agent transactions / completed | ${result.gasPerPayment.toLocaleString("en-US")} |`,
    `| — initiate (per payment) | ${perPayment(perStep.initiate)} |`,
    `| — smelt (per payment) | ${perPayment(perStep.smelt)} |`,
    `| — acknowledgement (per payment) | ${perPayment(perStep.acknowledge)} |`,
    `| agent transactions | ${transactions}: ${batchesOf.initiate.size} initiate, ${batchesOf.smelt.size} smelt, ${batchesOf.acknowledge.size} acknowledgement |`,
    `| the chain's own limit: the same transactions from a tight loop, payments / s | ${direct.perSecond} |`,
    `| agentShareOfChainLimit | ${result.agentShareOfChainLimit} |`,
    `| main thread busy per payment, agents' run / tight loop (ms) | ${result.mainThreadMsPerPayment} / ${direct.mainThreadMsPerPayment} |`,
  ].join("\n"),
);
console.log(`\nwhere the time goes (${completed} payments):\n${breakdownTable(steps)}`);
console.log(`\nwrote ${file}`);
if (problems.length > 0) console.log(`\nproblems:\n${problems.slice(0, 10).join("\n")}`);
if (completed < PAYMENTS || result.gasPerPayment > GAS_LIMIT_PER_PAYMENT) {
  console.log(
    `\nFAILED: ${completed}/${PAYMENTS} completed, ${result.gasPerPayment} gas per payment (limit ${GAS_LIMIT_PER_PAYMENT})`,
  );
  process.exitCode = 1;
}
