/**
 * Settlement on the stack a user runs: `npm start -- --fresh` (the devnet's
 * Anvil over HTTP JSON-RPC, both bank agents in the start script's process
 * with their SQLite files, their default settings), driven only through the
 * agents' HTTP API. Writes `bench/results/settlement-devnet.json` and prints
 * tables.
 *
 *   npm run bench:settlement:devnet
 *
 * 1. One payment alone on the idle stack, the README's (alice at A to bob at
 *    B): from `POST /payments` to bank A's agent showing it Acknowledged
 *    (`GET /payments/:id` asked every 10 ms), with the agents' own step times.
 * 2. 500 payments from 50 concurrent clients, as `npm run bench:settlement`
 *    sends them in-process: latency, throughput, the step breakdown from the
 *    agents' histories, and the gas of every transaction the agents sent.
 * 3. The chain's own limit: the stack is stopped (its agents would answer the
 *    payments) and a fresh Anvil with the devnet's settings, deployed as
 *    `npm start` deploys, takes the same initiate, smelt and
 *    acknowledgement transactions from a tight loop signed with the agents'
 *    devnet keys. `agentShareOfChainLimit` = the agents' payments per second
 *    over the loop's.
 */
import { Contract, HDNodeWallet, JsonRpcProvider, Mnemonic, Network, getAddress } from "ethers";

import { DUTIES } from "../src/chain/networks.js";
import { Step } from "../src/chain/progress.js";
import { PUBLIC_TEST_MNEMONIC } from "../src/chain/published-keys.js";
import { startBenchChain } from "./lib/anvil.js";
import { startDevnetStack } from "./lib/devnet-stack.js";
import { writeResult } from "./lib/results.js";
import {
  breakdown,
  breakdownTable,
  directChainLimit,
  percentile,
  postPayments,
  shapeOf,
  timelineOf,
  type History,
  type StepLatency,
} from "./lib/settlement-load.js";

const PAYMENTS = 500;
const CLIENTS = 50;
const AMOUNT = 12_345n;

const devnetKey = (duty: string) =>
  HDNodeWallet.fromMnemonic(
    Mnemonic.fromPhrase(PUBLIC_TEST_MNEMONIC),
    `m/44'/60'/0'/0/${DUTIES.find((d) => d.name === duty)!.devnetIndex}`,
  );

interface PaymentJson {
  readonly status: string;
  readonly history: History;
}
async function payment(url: string, id: string, direction: "outbound" | "inbound"): Promise<PaymentJson | undefined> {
  const response = await fetch(`${url}/payments/${encodeURIComponent(id)}?direction=${direction}`);
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`GET ${url}/payments/${id}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as PaymentJson;
}
async function acknowledgedCount(url: string): Promise<number> {
  const response = await fetch(`${url}/payments?direction=outbound&limit=1`);
  const body = (await response.json()) as { counts: Record<string, number> };
  return body.counts.Acknowledged ?? 0;
}

const problems: string[] = [];
const landed: string[] = [];
const stack = await startDevnetStack();
let alone: { ms: number; steps: StepLatency[] };
let load: {
  completed: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
  gasPerPayment: number;
  steps: StepLatency[];
};
try {
  const bankA = stack.services.get("bank-a")!;
  const bankB = stack.services.get("bank-b")!;
  const network = Network.from(31337);
  const provider = new JsonRpcProvider(stack.rpc, network, { staticNetwork: network, cacheTimeout: -1 });
  const settlement = new Contract(
    stack.contracts.get("InterbankSettlement")!,
    ["function agentOf(address) view returns (address)"],
    provider,
  );
  const agents = new Set<string>();
  for (const bank of ["TrustAccountBankA", "TrustAccountBankB"]) {
    agents.add(getAddress((await settlement.getFunction("agentOf")(stack.contracts.get(bank)!)) as string));
  }
  const before = await acknowledgedCount(bankA);

  // 1. One payment alone.
  {
    const id = `BENCH-ALONE-${Date.now()}`;
    const posted = Date.now();
    const [sent] = await Promise.all([
      postPayments({ url: bankA, ids: [id], clients: 1, amount: 123_45n, problems }),
      (async () => {
        for (;;) {
          const view = await payment(bankA, id, "outbound");
          if (view?.status === "Acknowledged") return;
          if (Date.now() - posted > 60_000) throw new Error(`${id} not Acknowledged within 60 s`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })(),
    ]);
    const ms = Date.now() - sent.get(id)!;
    const timeline = timelineOf(
      sent.get(id)!,
      (await payment(bankA, id, "outbound"))!.history,
      (await payment(bankB, id, "inbound"))!.history,
    );
    alone = { ms, steps: breakdown([timeline]) };
  }

  // 2. 500 payments from 50 clients.
  const firstBlock = await provider.getBlockNumber();
  const ids = Array.from({ length: PAYMENTS }, (_, i) => `BENCH-${Date.now()}-${String(i).padStart(4, "0")}`);
  const progress = new Step(`${PAYMENTS} payments A→B to Acknowledged on the devnet`, {
    prefix: "[bench] ",
    every: PAYMENTS / 10,
  });
  const posting = postPayments({ url: bankA, ids, clients: CLIENTS, amount: AMOUNT, problems });
  let done = 0;
  const deadline = Date.now() + 600_000;
  while (done < PAYMENTS && Date.now() < deadline && problems.length === 0) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    done = (await acknowledgedCount(bankA)) - before - 1;
    progress.tick(done, PAYMENTS);
  }
  const posted = await posting;
  if (done >= PAYMENTS) progress.done();
  else progress.fail();
  const timelines = [];
  for (const id of ids) {
    const outbound = (await payment(bankA, id, "outbound"))?.history ?? [];
    const inbound = (await payment(bankB, id, "inbound"))?.history ?? [];
    timelines.push(timelineOf(posted.get(id)!, outbound, inbound));
  }
  const acknowledged = timelines.filter((t) => t.acknowledged !== undefined);
  // From the first order on the wire: the clients' worker takes a moment to start, which is not the agents' time.
  const started = Math.min(...posted.values());
  const seconds = (Math.max(...acknowledged.map((t) => t.acknowledged!)) - started) / 1000;
  const latencies = acknowledged.map((t) => t.acknowledged! - t.posted).sort((x, y) => x - y);
  // Gas: every transaction either agent sent while the 500 were under way; the tight loop sends the same shape.
  let gas = 0n;
  const lastBlock = await provider.getBlockNumber();
  for (let number = firstBlock + 1; number <= lastBlock; number += 1) {
    const block = await provider.getBlock(number, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      if (!agents.has(getAddress(tx.from))) continue;
      const receipt = (await provider.getTransactionReceipt(tx.hash))!;
      gas += receipt.gasUsed;
      if (receipt.status === 1) landed.push(tx.data);
    }
  }
  load = {
    completed: acknowledged.length,
    seconds: Number(seconds.toFixed(2)),
    perSecond: Number((acknowledged.length / seconds).toFixed(1)),
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    gasPerPayment: acknowledged.length === 0 ? 0 : Number(gas / BigInt(acknowledged.length)),
    steps: breakdown(timelines),
  };
  provider.destroy();
} finally {
  await stack.stop();
}

// 3. The chain's own limit on a fresh devnet node.
const chain = await startBenchChain({ folderPrefix: "bank-chain-bench-settlement-", cacheTimeout: -1 });
let direct;
try {
  const step = new Step(`${PAYMENTS} payments by a tight loop with no agent (a fresh devnet Anvil)`, {
    prefix: "[bench] ",
  });
  direct = await directChainLimit({
    provider: chain.provider,
    settlement: chain.address("InterbankSettlement"),
    banks: { A: chain.address("TrustAccountBankA"), B: chain.address("TrustAccountBankB") },
    agents: { A: devnetKey("bankA").connect(chain.provider), B: devnetKey("bankB").connect(chain.provider) },
    shape: shapeOf(landed),
    amount: AMOUNT,
    tag: String(Date.now()),
  });
  step.done();
} finally {
  await chain.stop();
}

const result = {
  setup:
    "npm start -- --fresh: the devnet's Anvil (automine) over HTTP on 127.0.0.1, both agents in the start " +
    "script's process with their SQLite files and default settings; the tight loop on a fresh devnet Anvil",
  alone: { acknowledgedMs: alone.ms, steps: alone.steps },
  payments: PAYMENTS,
  clients: CLIENTS,
  ...load,
  direct,
  agentShareOfChainLimit: Number((load.perSecond / direct.perSecond).toFixed(2)),
};
const file = writeResult("settlement-devnet.json", result);
console.log(
  [
    "| figure | value |",
    "|---|---:|",
    `| one payment alone: POST → Acknowledged (ms) | ${alone.ms} |`,
    `| payments completed (Acknowledged) | ${load.completed} of ${PAYMENTS} |`,
    `| payments per second | ${load.perSecond} |`,
    `| latency p50 / p95 (ms) | ${load.p50Ms} / ${load.p95Ms} |`,
    `| gas per payment | ${load.gasPerPayment.toLocaleString("en-US")} |`,
    `| the chain's own limit, payments / s | ${direct.perSecond} |`,
    `| agentShareOfChainLimit | ${result.agentShareOfChainLimit} |`,
  ].join("\n"),
);
console.log(`\none payment alone, where the time goes:\n${breakdownTable(alone.steps)}`);
console.log(`\n${PAYMENTS} payments, where the time goes:\n${breakdownTable(load.steps)}`);
console.log(`\nwrote ${file}`);
if (problems.length > 0) console.log(`\nproblems:\n${problems.slice(0, 10).join("\n")}`);
if (load.completed < PAYMENTS) {
  console.log(`\nFAILED: ${load.completed}/${PAYMENTS} completed`);
  process.exitCode = 1;
}
