/**
 * Puts the current benchmark figures into README.md, between the markers
 * `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->`, from the JSON
 * the benchmarks wrote under bench/results/. Run after the benchmarks:
 *
 *   npm run bench:gas && npm run bench:readme
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import * as prettier from "prettier";

import { gasTable, RESULTS_DIR, type GasRow } from "./lib/results.js";

const README = path.join(RESULTS_DIR, "..", "..", "README.md");

const renderers: Record<string, (value: unknown) => string> = {
  gas: (value) => gasTable(value as GasRow[]),
  settlement: (value) => {
    interface Steps {
      readonly step: string;
      readonly p50Ms: number;
      readonly sincePostP50Ms: number;
    }
    interface Run {
      readonly completed: number;
      readonly perSecond: number;
      readonly p50Ms: number;
      readonly p95Ms: number;
      readonly gasPerPayment: number;
      readonly steps: readonly Steps[];
      readonly direct: { readonly perSecond: number };
      readonly agentShareOfChainLimit: number;
      readonly alone?: { readonly acknowledgedMs: number; readonly steps: readonly Steps[] };
    }
    const inProcess = value as Run;
    const devnetFile = path.join(RESULTS_DIR, "settlement-devnet.json");
    const devnet = existsSync(devnetFile) ? (JSON.parse(readFileSync(devnetFile, "utf8")) as Run) : undefined;
    const n = (x: number) => x.toLocaleString("en-US");
    const row = (setup: string, r: Run) =>
      `| ${setup} | ${r.completed} | ${n(r.perSecond)} | ${n(r.p50Ms)} ms | ${n(r.p95Ms)} ms | ${n(r.gasPerPayment)} | ${n(r.direct.perSecond)} | ${r.agentShareOfChainLimit} |`;
    const stepNames = inProcess.steps.map((s) => s.step);
    const stepRow = (setup: string, steps: readonly Steps[]) =>
      `| ${setup} | ${steps.map((s) => `${n(s.p50Ms)}`).join(" | ")} |`;
    return [
      "| setup | payments | per second | p50 | p95 | gas per payment | chain's own limit, per second | agentShareOfChainLimit |",
      "|---|---:|---:|---:|---:|---:|---:|---:|",
      row("in-process network", inProcess),
      ...(devnet === undefined ? [] : [row("`npm start` devnet (Anvil over HTTP)", devnet)]),
      "",
      `| p50 of each step, ms | ${stepNames.join(" | ")} |`,
      `|---|${stepNames.map(() => "---:").join("|")}|`,
      stepRow("in-process, 500 payments", inProcess.steps),
      ...(devnet === undefined
        ? []
        : [
            stepRow("devnet, 500 payments", devnet.steps),
            ...(devnet.alone === undefined ? [] : [stepRow("devnet, one payment alone", devnet.alone.steps)]),
          ]),
    ].join("\n");
  },
  iso8583: (value) => {
    const r = value as Record<string, number>;
    const n = (x: number | undefined) => (x ?? 0).toLocaleString("en-US");
    return [
      "| codec | decodes / s | encodes / s |",
      "|---|---:|---:|",
      `| bank-chain | ${n(r.codecDecodePerSec)} | ${n(r.codecEncodePerSec)} |`,
      `| npm iso_8583 | ${n(r.referenceDecodePerSec)} | ${n(r.referenceEncodePerSec)} |`,
      `| ratio | ${r.decodeRatio}× | ${r.encodeRatio}× |`,
      "",
      "| card gateway | approved 0200 | connections | approved / s | p50 round trip | p95 round trip | ops per transaction (mean / max) | gas per message |",
      "|---|---:|---:|---:|---:|---:|---:|---:|",
      `| \`npm start\` devnet (Anvil over HTTP, file journal) | ${n(r.devnetApproved)} | ${r.devnetConnections} | ${n(r.devnetPerSec)} | ${r.devnetP50Ms} ms | ${r.devnetP95Ms} ms | ${r.devnetBatchMean} / ${r.devnetBatchMax} | ${n(r.devnetGasPerMessage)} |`,
      `| in-process network, in-memory journal | ${n(r.gatewayApproved)} | ${r.gatewayConnections} | ${n(r.gatewayPerSec)} | ${r.gatewayP50Ms} ms | ${r.gatewayP95Ms} ms | ${r.gatewayBatchMean} / ${r.gatewayBatchMax} | ${n(r.gatewayGasPerMessage)} |`,
    ].join("\n");
  },
  certificates: (value) => {
    const r = value as {
      transactions: number;
      indexedBlocks: number;
      blocksPerSecond: number;
      transactionsPerSecond: number;
      rpcCallsPerBlock: number;
      walletsScored: number;
      walletsPerSecond: number;
      msPerWallet: { addresses: number; features: number; score: number; merkleRoot: number };
      gas: Record<string, number>;
    };
    const n = (x: number) => x.toLocaleString("en-US");
    const ms = r.msPerWallet;
    return [
      "| history | indexer: blocks / s | indexer: transactions / s | RPC calls per block | wallets scored | wallets / s | ms per wallet: addresses / features / score / Merkle root |",
      "|---|---:|---:|---:|---:|---:|---:|",
      `| ${n(r.transactions)} transactions, ${n(r.indexedBlocks)} blocks | ${n(r.blocksPerSecond)} | ${n(r.transactionsPerSecond)} | ${r.rpcCallsPerBlock} | ${n(r.walletsScored)} | ${n(r.walletsPerSecond)} | ${ms.addresses} / ${ms.features} / ${ms.score} / ${ms.merkleRoot} |`,
      "",
      "| gas | certificate (EAS + our resolver, verifier) | EAS alone (no resolver) |",
      "|---|---:|---:|",
      `| attest | ${n(r.gas.attestCertificate!)} | ${n(r.gas.attestEasAlone!)} |`,
      `| revoke | ${n(r.gas.revokeCertificate!)} | ${n(r.gas.revokeEasAlone!)} |`,
      `| is it valid? (\`isValid\` / \`isAttestationValid\`, a call) | ${n(r.gas.isValidCertificate!)} | ${n(r.gas.isAttestationValidEas!)} |`,
    ].join("\n");
  },
  rewards: (value) => {
    const r = value as {
      throughput: {
        responses: number;
        ingest: { perSecond: number; p50Ms: number; p95Ms: number };
        recoverRecordSignerOnly: { perSecond: number };
        computeEpoch: { records: number; recordsPerSecond: number };
      };
      gas: Record<string, number>;
    };
    const n = (x: number | undefined) => (x ?? 0).toLocaleString("en-US");
    const t = r.throughput;
    const gas = (label: string) => r.gas[`RewardDistributor: ${label}`];
    const ours = (label: string) => n(gas(label));
    const pair = Object.keys(r.gas)
      .filter((key) => key.startsWith("RewardDistributor: first claim, relayed"))
      .map((key) => key.slice("RewardDistributor: ".length))[0]!;
    const uniswap = (label: string) => n(r.gas[`Uniswap MerkleDistributor 1.0.1: ${label}`]);
    const own = "first claim less the token's transfer: the distributor's own";
    const transfer = "token transfer to a fresh account (BankToken; TestERC20)";
    const find = (prefix: string) => Object.keys(r.gas).find((key) => key.startsWith(`RewardDistributor: ${prefix}`))!;
    return [
      "| off chain | per second | p50 | p95 |",
      "|---|---:|---:|---:|",
      `| presence responses ingested (signature recovered, receipt signed, SQLite commit), ${n(t.responses)} | ${n(t.ingest.perSecond)} | ${t.ingest.p50Ms} ms | ${t.ingest.p95Ms} ms |`,
      `| signature recovery alone (the floor) | ${n(t.recoverRecordSignerOnly.perSecond)} | | |`,
      `| \`computeEpoch\` over ${n(t.computeEpoch.records)} records | ${n(t.computeEpoch.recordsPerSecond)} | | |`,
      "",
      "| gas | RewardDistributor | Uniswap MerkleDistributor 1.0.1 |",
      "|---|---:|---:|",
      `| a producer's first claim, relayed, to an account holding nothing | ${ours(pair)} | ${uniswap(pair)} |`,
      `| of which the token's transfer | ${ours(transfer)} | ${uniswap(transfer)} |`,
      `| of which the distributor's own | ${ours(own)} | ${uniswap(own)} |`,
      `| a producer's next claim (cumulative; Uniswap's is one-time) | ${n(r.gas[find("claimFor, second claim")])} | — |`,
      `| \`proposeRoot\`, 2 of 3 signatures | ${ours("proposeRoot 2-of-3, next root")} | — |`,
      `| \`challengeOmission\` | ${n(r.gas[find("challengeOmission")])} | — |`,
      `| \`finalize\` | ${ours("finalize")} | — |`,
      `| \`createCampaign\` | ${ours("createCampaign")} | — |`,
    ].join("\n");
  },
  commerce: (value) => {
    const r = value as {
      throughput: Record<
        "deposit" | "eip3009",
        {
          invoices: number;
          checkoutsPerSecond: number;
          latencyMs: { p50: number; p95: number };
          quotes: { perSecond: number };
        }
      >;
      gas: Record<string, number>;
    };
    const n = (x: number) => x.toLocaleString("en-US");
    const way = (label: string, t: (typeof r.throughput)["deposit"]) =>
      `| ${label} | ${n(t.invoices)} | ${t.checkoutsPerSecond} | ${n(t.latencyMs.p50)} ms | ${n(t.latencyMs.p95)} ms | ${t.quotes.perSecond} |`;
    // Keys are "<contract>: <operation>"; the contract's name holds no colon.
    const rows: GasRow[] = Object.entries(r.gas).map(([key, gas]) => ({
      contract: key.slice(0, key.indexOf(": ")),
      operation: key.slice(key.indexOf(": ") + 2),
      gas,
    }));
    return [
      "| paid by | checkouts | checkouts / s | p50 payment mined → complete | p95 | quotes / s |",
      "|---|---:|---:|---:|---:|---:|",
      way("a transfer to the deposit address", r.throughput.deposit),
      way("an EIP-3009 authorization, POSTed", r.throughput.eip3009),
      "",
      gasTable(rows),
    ].join("\n");
  },
};

let readme = readFileSync(README, "utf8");
for (const [name, render] of Object.entries(renderers)) {
  const file = path.join(RESULTS_DIR, `${name}.json`);
  if (!existsSync(file)) continue;
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md has no ${start} … ${end} section`);
  const table = render(JSON.parse(readFileSync(file, "utf8")));
  readme = `${readme.slice(0, from + start.length)}\n${table}\n${readme.slice(to)}`;
  console.log(`README.md: ${name} table updated`);
}
// Formatted as `npm test`'s prettier check expects.
const options = (await prettier.resolveConfig(README)) ?? {};
writeFileSync(README, await prettier.format(readme, { ...options, filepath: README }));
