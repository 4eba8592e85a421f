/**
 * The contracts' gas and size snapshot (`snapshots/contracts.json`): for
 * every operation of the gas scenario on bank-chain's own contracts (and of
 * one cross-chain transfer, `interop-gas.ts`, and its source side through the
 * InteropGateway, alone and in a batch, `interop-gateway-gas.ts`), the gas
 * last measured and its ceiling; for every deployable contract, its runtime
 * size and its budget. `npm test` fails when a figure passes its ceiling or
 * budget, or differs from the snapshot (`npm run snapshot` rewrites the
 * measured figures; ceilings and budgets are set by hand, in review).
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import type { NetworkConnection } from "hardhat/types/network";

import { measureGas } from "./gas-scenario.js";
import { measureInteropGas } from "./interop-gas.js";
import { measureInteropGatewayGas } from "./interop-gateway-gas.js";

export const SNAPSHOT_FILE = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "snapshots",
  "contracts.json",
);

/**
 * How far a measured figure may drift from the snapshot's without being a change: signatures, nonces and
 * timestamps differ between runs, and each zero byte of calldata costs 12 gas less than a nonzero one.
 */
export const GAS_NOISE = 64;

/** EIP-170: the most runtime code a contract may have. */
export const EIP170_LIMIT = 24_576;

/**
 * The contracts the deploy scripts deploy (`BankTokenAdmin` by `BankToken`'s constructor, `CheckoutDeposit`, the
 * code every deposit address's clone delegates to, by `Checkout`'s), whose runtime size is budgeted. EAS's `SchemaRegistry` and `EAS` are deployed too, but from the package's published bytecode
 * (deploy/_eas.ts): not ours to budget.
 */
export const DEPLOYED_CONTRACTS = [
  "AccountLedger",
  "AttestedGateway",
  "BankToken",
  "BankTokenAdmin",
  "BillRegistry",
  "BridgeRegistry",
  "BurnMintLane",
  "CertificateResolver",
  "CertificateVerifier",
  "ChainRegistry",
  "Checkout",
  "CheckoutDeposit",
  "InterbankSettlement",
  "InteropGateway",
  "OfflineVault",
  "ReserveLedger",
  "RewardDistributor",
  "ScoringModelRegistry",
  "ShareRegistry",
  "TrustAccount",
] as const;

/** The reference tokens measured beside BankToken: in the benchmark, not in the snapshot. */
const REFERENCES = new Set(["OpenZeppelinERC20", "SoladyERC20"]);

export interface Snapshot {
  /** `"<Contract> <operation>"` → receipt gas and its ceiling (null: not set yet, which fails the check). */
  readonly gas: Record<string, { readonly gas: number; readonly ceiling: number | null }>;
  /** Contract → runtime bytes and the budget it must stay within. */
  readonly size: Record<string, { readonly bytes: number; readonly budget: number }>;
}

export interface Measured {
  readonly gas: ReadonlyMap<string, number>;
  readonly size: ReadonlyMap<string, number>;
}

export function readSnapshot(): Snapshot {
  return JSON.parse(readFileSync(SNAPSHOT_FILE, "utf8")) as Snapshot;
}

/**
 * Runs the gas scenario on `connection` (a fresh in-process network), one cross-chain transfer on two more
 * (`measureInteropGas`) and the InteropGateway's source side on two more (`measureInteropGatewayGas`), and reads
 * the deployed contracts' sizes.
 */
export async function measure(
  connection: NetworkConnection,
  artifacts: { readArtifact(name: string): Promise<{ deployedBytecode: string }> },
): Promise<Measured> {
  const rows = [
    ...(await measureGas(connection)),
    ...(await measureInteropGas()),
    ...(await measureInteropGatewayGas()),
  ];
  const gas = new Map<string, number>();
  for (const row of rows) if (!REFERENCES.has(row.contract)) gas.set(`${row.contract} ${row.operation}`, row.gas);
  const size = new Map<string, number>();
  for (const name of DEPLOYED_CONTRACTS) {
    const { deployedBytecode } = await artifacts.readArtifact(name);
    size.set(name, (deployedBytecode.length - 2) / 2);
  }
  return { gas, size };
}

/** Every way `measured` breaks `snapshot`: over a ceiling or budget, missing a ceiling, or not what is recorded. */
export function snapshotProblems(snapshot: Snapshot, measured: Measured): string[] {
  const problems: string[] = [];
  for (const [name, gas] of measured.gas) {
    const entry = snapshot.gas[name];
    if (entry === undefined) problems.push(`${name}: ${gas} gas, not in the snapshot (run npm run snapshot)`);
    else if (entry.ceiling === null) problems.push(`${name}: no ceiling set in ${path.basename(SNAPSHOT_FILE)}`);
    else if (gas > entry.ceiling) problems.push(`${name}: ${gas} gas is over its ceiling of ${entry.ceiling}`);
    if (entry !== undefined && Math.abs(entry.gas - gas) > GAS_NOISE) {
      problems.push(`${name}: ${gas} gas, the snapshot says ${entry.gas} (review, then npm run snapshot)`);
    }
  }
  for (const name of Object.keys(snapshot.gas)) {
    if (!measured.gas.has(name)) problems.push(`${name}: in the snapshot but no longer measured`);
  }
  for (const [name, bytes] of measured.size) {
    const entry = snapshot.size[name];
    if (entry === undefined) {
      problems.push(`${name}: ${bytes} bytes, not in the snapshot (run npm run snapshot)`);
      continue;
    }
    if (bytes > entry.budget) problems.push(`${name}: ${bytes} bytes is over its budget of ${entry.budget}`);
    if (entry.budget > EIP170_LIMIT)
      problems.push(`${name}: budget ${entry.budget} is above EIP-170's ${EIP170_LIMIT}`);
    if (entry.bytes !== bytes) {
      problems.push(`${name}: ${bytes} bytes, the snapshot says ${entry.bytes} (review, then npm run snapshot)`);
    }
  }
  return problems;
}

/** Rewrites the snapshot's measured figures, keeping every ceiling and budget (new entries get none: null / EIP-170). */
export function writeSnapshot(previous: Snapshot | undefined, measured: Measured): Snapshot {
  const gas: Snapshot["gas"] = {};
  for (const [name, value] of measured.gas) gas[name] = { gas: value, ceiling: previous?.gas[name]?.ceiling ?? null };
  const size: Snapshot["size"] = {};
  for (const [name, bytes] of measured.size)
    size[name] = { bytes, budget: previous?.size[name]?.budget ?? EIP170_LIMIT };
  const snapshot = { gas, size };
  writeFileSync(SNAPSHOT_FILE, `${JSON.stringify(snapshot, null, 2)}\n`);
  return snapshot;
}
