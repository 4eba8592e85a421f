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

const PAYMENTS = 500;
const CLIENTS = 50;
const AMOUNT = 12_345n;
const GAS_LIMIT_PER_PAYMENT = 220_000;

const connection = await network.create("hardhat");
const { ethers } = connection;
const env = await deployQuietly(connection.provider);
const deployed = (name: string): string => env.deployments[name]!.address;
const banks: BankDirectoryEntry[] = [
  { id: "A", trustAccount: deployed("TrustAccountBankA") },
  { id: "B", trustAccount: deployed("TrustAccountBankB") },
];
const firstBlock = await ethers.provider.getBlockNumber();

const posted = new Map<string, number>();
const acknowledged = new Map<string, number>();
const problems: string[] = [];
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
    ackBatchSize: 100,
    log: (line) => {
      if (/error|failed|will retry/.test(line)) problems.push(line);
    },
    onStep: (point, id) => {
      if (bank === "A" && point === "event:SettlementAcknowledged") acknowledged.set(id, performance.now());
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
const started = performance.now();
// Progress on stderr (the results go to stdout): a line every tenth of the payments acknowledged.
const progress = new Step(`${PAYMENTS} payments A→B to Acknowledged`, { prefix: "[bench] ", every: PAYMENTS / 10 });
let next = 0;
async function client(): Promise<void> {
  while (next < ids.length) {
    const id = ids[next++]!;
    posted.set(id, performance.now());
    const response = await fetch(`${a.url}/payments`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        debtorAccount: "alice",
        creditorBank: "B",
        creditorAccount: "bob",
        amount: AMOUNT.toString(),
        currency: "USD",
        endToEndId: id,
      }),
    });
    const text = await response.text();
    if (response.status !== 202) problems.push(`${id}: HTTP ${response.status} ${text}`);
  }
}
await Promise.all(Array.from({ length: CLIENTS }, () => client()));
const deadline = Date.now() + 600_000;
while (acknowledged.size < PAYMENTS && Date.now() < deadline && problems.length === 0) {
  progress.tick(acknowledged.size, PAYMENTS);
  await new Promise((resolve) => setTimeout(resolve, 20));
}
progress.tick(acknowledged.size, PAYMENTS);
if (acknowledged.size === PAYMENTS) progress.done();
else progress.fail();
const ended = Math.max(...acknowledged.values());
await a.stop();
await b.stop();

// Gas: every transaction either agent sent since the agents started.
const agents = new Set(agentKeys);
const lastBlock = await ethers.provider.getBlockNumber();
const gasOfTx = new Map<string, bigint>();
let totalGas = 0n;
let transactions = 0;
for (let number = firstBlock + 1; number <= lastBlock; number += 1) {
  const block = await ethers.provider.getBlock(number, true);
  for (const tx of block?.prefetchedTransactions ?? []) {
    if (!agents.has(getAddress(tx.from))) continue;
    const receipt = await ethers.provider.getTransactionReceipt(tx.hash);
    gasOfTx.set(tx.hash, receipt!.gasUsed);
    totalGas += receipt!.gasUsed;
    transactions += 1;
  }
}
// The same, attributed to each payment from its history: initiate + smelt + its share of its ack batch.
const ackBatchSize = new Map<string, number>();
const histories = ids.map((id) => a.payments.get("outbound", id)!.history);
for (const history of histories) {
  const ack = history.find((entry) => entry.what.startsWith("acknowledged"))?.tx;
  if (ack != null) ackBatchSize.set(ack, (ackBatchSize.get(ack) ?? 0) + 1);
}
const perStep = { initiate: 0n, smelt: 0n, acknowledge: 0n };
for (const history of histories) {
  const tx = (prefix: string) => history.find((entry) => entry.what.startsWith(prefix))?.tx ?? undefined;
  const initiate = tx("initiated");
  const smelt = tx("the creditor bank credited");
  const ack = tx("acknowledged");
  if (initiate !== undefined) perStep.initiate += gasOfTx.get(initiate) ?? 0n;
  if (smelt !== undefined) perStep.smelt += gasOfTx.get(smelt) ?? 0n;
  if (ack !== undefined) perStep.acknowledge += (gasOfTx.get(ack) ?? 0n) / BigInt(ackBatchSize.get(ack)!);
}

const completed = acknowledged.size;
const latencies = ids
  .filter((id) => acknowledged.has(id))
  .map((id) => acknowledged.get(id)! - posted.get(id)!)
  .sort((x, y) => x - y);
const percentile = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? 0;
const seconds = (ended - started) / 1000;
const result = {
  completed,
  seconds: Number(seconds.toFixed(2)),
  perSecond: Number((completed / seconds).toFixed(1)),
  p50Ms: Math.round(percentile(50)),
  p95Ms: Math.round(percentile(95)),
  gasPerPayment: completed === 0 ? 0 : Number(totalGas / BigInt(completed)),
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
    `| — acknowledgement share (per payment) | ${perPayment(perStep.acknowledge)} |`,
    `| agent transactions | ${transactions} (${ackBatchSize.size} acknowledgement batches) |`,
  ].join("\n"),
);
console.log(`\nwrote ${file}`);
if (problems.length > 0) console.log(`\nproblems:\n${problems.slice(0, 10).join("\n")}`);
if (completed < PAYMENTS || result.gasPerPayment > GAS_LIMIT_PER_PAYMENT) {
  console.log(
    `\nFAILED: ${completed}/${PAYMENTS} completed, ${result.gasPerPayment} gas per payment (limit ${GAS_LIMIT_PER_PAYMENT})`,
  );
  process.exitCode = 1;
}
