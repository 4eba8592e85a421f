/**
 * The local devnet that `npm start` runs: Anvil (npm `@foundry-rs/anvil`,
 * whose binary ships in a per-platform registry package) with its state kept
 * in a file, so a restart comes back with the same chain.
 *
 * Anvil loads `--state FILE` at start and dumps it on a clean exit (SIGINT or
 * SIGTERM) and every `--state-interval` seconds, so a SIGKILL loses at most
 * that interval. `checkRecordsAgainstChain` detects a chain older than the
 * services' records, which is what such a loss leaves behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";

import { BankChainError, messageOf } from "../errors.js";
import { probeChainId } from "./config.js";
import { DEVNET_ACCOUNT_COUNT, DEVNET_CHAIN_ID, type DevnetEndpoint, type FixedGas } from "./networks.js";

/** The devnet could not be started, stopped, or disagrees with the records kept for it. */
export class DevnetError extends BankChainError {}

/** Accounts the devnet funds from Hardhat's test mnemonic: every duty's index fits (src/chain/networks.ts). */
export const DEVNET_ACCOUNTS = DEVNET_ACCOUNT_COUNT;
/** Seconds between Anvil's periodic state dumps: the most a SIGKILL can lose. */
export const STATE_INTERVAL_SECONDS = 2;
/** Block gas limit, equal to Hardhat's in-process network so a batch that fits one fits the other. */
export const DEVNET_BLOCK_GAS_LIMIT = 60_000_000;

const PLATFORM_PACKAGES: Readonly<Record<string, string>> = {
  "linux-x64": "@foundry-rs/anvil-linux-amd64",
  "linux-arm64": "@foundry-rs/anvil-linux-arm64",
  "darwin-x64": "@foundry-rs/anvil-darwin-amd64",
  "darwin-arm64": "@foundry-rs/anvil-darwin-arm64",
  "win32-x64": "@foundry-rs/anvil-win32-amd64",
};

/** Path of the Anvil binary installed by `npm ci` for this platform. */
export function anvilBinary(): string {
  const key = `${process.platform}-${process.arch}`;
  const pkg = PLATFORM_PACKAGES[key];
  if (pkg === undefined) throw new DevnetError("DEVNET_UNSUPPORTED_PLATFORM", `Anvil has no build for ${key}`);
  const require = createRequire(import.meta.url);
  try {
    const manifest = require.resolve(`${pkg}/package.json`);
    return path.join(path.dirname(manifest), "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
  } catch {
    throw new DevnetError("DEVNET_ANVIL_MISSING", `${pkg} is not installed; run "npm ci"`, { package: pkg });
  }
}

export interface AnvilOptions {
  readonly endpoint: DevnetEndpoint;
  readonly chainId?: number;
  /** File the chain state is loaded from and dumped to; none keeps the chain in memory only. */
  readonly stateFile?: string;
  /** How long to wait for the node to answer. */
  readonly timeoutMs?: number;
  /** BIP-39 mnemonic of the funded accounts (default: Hardhat's public test mnemonic). */
  readonly mnemonic?: string;
  /** How many funded accounts (default: every duty's devnet index fits). */
  readonly accounts?: number;
  /** A consortium chain's gas policy: zero base fee, one fixed price, no minimum priority fee. */
  readonly gas?: FixedGas;
  /** Mine a block every this many seconds as well as on each transaction (QBFT's block period). */
  readonly blockTimeSeconds?: number;
}

/** A running Anvil process, in its own process group. */
export interface Anvil {
  readonly process: ChildProcess;
  readonly url: string;
  /** SIGINT (Anvil dumps its state), then waits for the exit; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts Anvil and waits until it answers with the expected chain id. */
export async function startAnvil(options: AnvilOptions): Promise<Anvil> {
  const chainId = options.chainId ?? DEVNET_CHAIN_ID;
  const args = [
    "--host",
    options.endpoint.host,
    "--port",
    String(options.endpoint.port),
    "--chain-id",
    String(chainId),
    "--accounts",
    String(options.accounts ?? DEVNET_ACCOUNTS),
    "--hardfork",
    "prague",
    "--gas-limit",
    String(DEVNET_BLOCK_GAS_LIMIT),
    "--silent",
  ];
  if (options.mnemonic !== undefined) args.push("--mnemonic", options.mnemonic);
  if (options.gas !== undefined) {
    args.push(
      "--base-fee",
      String(options.gas.baseFeePerGas),
      "--gas-price",
      String(options.gas.gasPrice),
      "--disable-min-priority-fee",
    );
  }
  if (options.blockTimeSeconds !== undefined) args.push("--block-time", String(options.blockTimeSeconds));
  if (options.stateFile !== undefined) {
    // Anvil writes the file but does not create its folder.
    mkdirSync(path.dirname(options.stateFile), { recursive: true });
    args.push("--state", options.stateFile, "--state-interval", String(STATE_INTERVAL_SECONDS));
  }
  // Its own process group: a terminal's Ctrl-C reaches the start script, which
  // stops the services before the chain, never the chain first.
  const child = spawn(anvilBinary(), args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-4_000));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  // Detached, it would outlive a parent that dies without stopping it (an uncaught error, process.exit()):
  // on the parent's exit it gets the SIGINT `stop` sends (Anvil dumps its state and exits on its own).
  const orphaned = (): void => signalGroup(child, "SIGINT");
  process.on("exit", orphaned);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      process.off("exit", orphaned);
      resolve();
    }),
  );
  const anvil: Anvil = {
    process: child,
    url: options.endpoint.url,
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      signalGroup(child, "SIGINT");
      const timer = setTimeout(() => signalGroup(child, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new DevnetError(
        "DEVNET_START_FAILED",
        `anvil exited (${child.exitCode ?? child.signalCode}): ${output.trim()}`,
      );
    }
    try {
      const answered = await probeChainId(options.endpoint.url, 500);
      if (answered !== BigInt(chainId)) {
        await anvil.stop();
        throw new DevnetError(
          "DEVNET_START_FAILED",
          `the node at ${options.endpoint.url} answers chain id ${answered}, not ${chainId}`,
        );
      }
      return anvil;
    } catch (error) {
      if (error instanceof DevnetError) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await anvil.stop(1_000);
  throw new DevnetError("DEVNET_START_FAILED", `anvil did not answer at ${options.endpoint.url}: ${output.trim()}`);
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** A block some service recorded as seen, and the file it is recorded in. */
export interface RecordedBlock {
  readonly file: string;
  readonly follower: string;
  readonly block: number;
  readonly hash: string;
}

/**
 * Every event follower checkpoint in the SQLite files of `dataDir` (none when it does not exist); with
 * `chainId`, only those of that chain (a checkpoint that names no chain counts for every chain).
 */
export function recordedBlocks(dataDir: string, chainId?: bigint): RecordedBlock[] {
  if (!existsSync(dataDir)) return [];
  const found: RecordedBlock[] = [];
  for (const file of readdirSync(dataDir).sort()) {
    if (!file.endsWith(".sqlite")) continue;
    const db = new DatabaseSync(path.join(dataDir, file), { readOnly: true });
    try {
      const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'event_checkpoints'").get();
      if (table === undefined) continue;
      const columns = db.prepare("SELECT name FROM pragma_table_info('event_checkpoints')").all() as { name: string }[];
      const chained = chainId !== undefined && columns.some((column) => column.name === "chain_id");
      const rows = db
        .prepare(
          "SELECT name, seen_block, seen_hash FROM event_checkpoints WHERE seen_hash IS NOT NULL" +
            (chained ? " AND (chain_id IS NULL OR chain_id = ?)" : ""),
        )
        .all(...(chained ? [chainId.toString()] : [])) as {
        name: string;
        seen_block: number | bigint;
        seen_hash: string;
      }[];
      for (const row of rows) {
        found.push({ file, follower: row.name, block: Number(row.seen_block), hash: row.seen_hash });
      }
    } finally {
      db.close();
    }
  }
  return found;
}

/** JSON-RPC reads the record check needs; `ethers.JsonRpcProvider` satisfies it. */
export interface ChainReader {
  getBlock(block: number): Promise<{ readonly hash: string | null } | null>;
  getCode(address: string): Promise<string>;
}

/**
 * Refuses to run when the chain and the records kept for it disagree: a block
 * a service recorded is not on the chain (the chain is older than the records:
 * a devnet killed rather than stopped, or its state file replaced), or a
 * saved deployment has no code. Throws a DevnetError whose message is one line
 * ending in the way out.
 */
export async function checkRecordsAgainstChain(
  chain: ChainReader,
  records: {
    readonly dataDir: string;
    readonly deployments: ReadonlyMap<string, { readonly address: string }>;
    /** The chain's id: checkpoints of other chains kept in the same files are not compared with this one. */
    readonly chainId?: bigint;
  },
  wayOut: string,
): Promise<void> {
  for (const [name, record] of records.deployments) {
    let code: string;
    try {
      code = await chain.getCode(record.address);
    } catch (error) {
      throw new DevnetError("DEVNET_UNREACHABLE", `cannot read the devnet: ${messageOf(error)}`);
    }
    if (code === "0x") {
      throw new DevnetError(
        "DEVNET_STATE_MISMATCH",
        `the devnet has no contract at ${name}'s saved address ${record.address}: its chain state does not match the saved deployments; ${wayOut}`,
        { contract: name, address: record.address },
      );
    }
  }
  for (const recorded of recordedBlocks(records.dataDir, records.chainId)) {
    const block = await chain.getBlock(recorded.block);
    if (block?.hash?.toLowerCase() !== recorded.hash.toLowerCase()) {
      throw new DevnetError(
        "DEVNET_STATE_MISMATCH",
        `the devnet's chain is older than the services' records (${recorded.file} has seen block ${recorded.block}, ` +
          `${block === null ? "which the chain does not have yet" : "whose hash differs on the chain"}): ` +
          `the devnet was killed rather than stopped; ${wayOut}`,
        { ...recorded },
      );
    }
  }
}
