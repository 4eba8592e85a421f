/**
 * What every demo step works with: the stack (from its stack file), a
 * provider and the deployments of each of its chains, the devnet's published
 * accounts, a runner of `bank-chain` commands against the same stack, and a
 * recorder of the step's transactions and checks.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Contract, HDNodeWallet, JsonRpcProvider, Network, Wallet, type Log } from "ethers";

import { contractAt, readDeployments, type Deployments } from "../chain/deployments.js";
import { DEVNET_CHAIN_ID, DEVNET_PEER_CHAIN_ID } from "../chain/networks.js";
import { PUBLIC_TEST_MNEMONIC } from "../chain/published-keys.js";
import { stackService, type StackFile } from "../chain/stack-file.js";
import { BankChainError, messageOf } from "../errors.js";
import type { DemoCheck, DemoTx } from "./report.js";

/** The demo cannot run (no devnet, a command failed, a step's effect is missing). */
export class DemoError extends BankChainError {}

/** The devnet accounts the story uses (README's table of published keys). */
export const ACCOUNTS = {
  bankA: 1,
  card: 10,
  shopper: 12,
  merchant: 15,
  producer: 16,
  buyer: 19,
} as const;

/** One chain of the stack. */
export interface DemoChain {
  readonly chainId: number;
  readonly rpc: string;
  readonly provider: JsonRpcProvider;
  readonly deployments: Deployments;
  /** The deployments' root folder (`BANK_CHAIN_DEPLOYMENTS_DIR` for the commands the demo runs). */
  readonly deploymentsRoot: string;
  /** The block the run started at: the steps look for their events after it. */
  readonly startBlock: number;
  /** A contract of this chain, with its deployment's ABI. */
  contract(name: string, runner?: Wallet): Contract;
}

const BIN = fileURLToPath(new URL("../../bin/bank-chain.mjs", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const COMMAND_TIMEOUT_MS = 240_000;

/** Opens the stack's chains; the caller must `close()` the context. */
export async function openContext(stackFile: string, stack: StackFile, tag: string): Promise<DemoContext> {
  const chains: DemoChain[] = [];
  try {
    for (const entry of stack.chains) {
      const network = Network.from(entry.chainId);
      const provider = new JsonRpcProvider(entry.rpc, network, { staticNetwork: network, pollingInterval: 250 });
      chains.push(await chainOf(entry, provider));
    }
  } catch (error) {
    for (const chain of chains) chain.provider.destroy();
    throw error;
  }
  const ids = chains.map((chain) => chain.chainId);
  if (ids[0] !== DEVNET_CHAIN_ID || ids[1] !== DEVNET_PEER_CHAIN_ID) {
    for (const chain of chains) chain.provider.destroy();
    throw new DemoError(
      "DEMO_NOT_DEVNET",
      `the demo runs on the devnet's two chains (${DEVNET_CHAIN_ID} and ${DEVNET_PEER_CHAIN_ID}) with its published keys; ${stackFile} names chains ${ids.join(", ")}`,
      { file: stackFile, chains: ids },
    );
  }
  return new DemoContext(stackFile, stack, tag, chains);
}

async function chainOf(entry: StackFile["chains"][number], provider: JsonRpcProvider): Promise<DemoChain> {
  let startBlock: number;
  try {
    startBlock = await provider.getBlockNumber();
  } catch (error) {
    throw new DemoError(
      "DEMO_CHAIN_UNREACHABLE",
      `chain ${entry.chainId} does not answer at ${entry.rpc}: is the stack still running? (${messageOf(error)})`,
      { rpc: entry.rpc },
    );
  }
  const deploymentsRoot = path.dirname(entry.deployments);
  const deployments = readDeployments(path.basename(entry.deployments), deploymentsRoot);
  return {
    chainId: entry.chainId,
    rpc: entry.rpc,
    provider,
    deployments,
    deploymentsRoot,
    startBlock,
    contract(name, runner) {
      return contractAt<Contract>(deployments.get(name), runner ?? provider);
    },
  };
}

/** The stack, its chains and the run's tag. */
export class DemoContext {
  /** The chain the services run on (31337). */
  readonly home: DemoChain;
  /** Its interop peer (31338). */
  readonly peer: DemoChain;
  /** Where the demo keeps state across runs on this stack (the offline lanes). */
  readonly stateDir: string;
  readonly #root = HDNodeWallet.fromPhrase(PUBLIC_TEST_MNEMONIC, undefined, "m/44'/60'/0'/0");

  constructor(
    readonly stackFile: string,
    readonly stack: StackFile,
    /** `demo-<unix s>`: ids of the run carry it, so a second run on the same stack makes new ones. */
    readonly tag: string,
    readonly chains: readonly DemoChain[],
  ) {
    this.home = chains[0]!;
    this.peer = chains[1]!;
    this.stateDir = path.join(path.dirname(stackFile), "demo");
    mkdirSync(this.stateDir, { recursive: true });
  }

  /** The URL of service `name`. */
  service(name: string): string {
    return stackService(this.stack, name);
  }

  /** Devnet account `index` (a published key), connected to `chain` (default: home). */
  wallet(index: number, chain: DemoChain = this.home): Wallet {
    return new Wallet(this.#root.deriveChild(index).privateKey, chain.provider);
  }

  /** The address of devnet account `index`. */
  address(index: number): string {
    return this.#root.deriveChild(index).address;
  }

  /** The chain with id `chainId`. */
  chain(chainId: number): DemoChain {
    const found = this.chains.find((chain) => chain.chainId === chainId);
    if (found === undefined) throw new DemoError("DEMO_NO_CHAIN", `the stack runs no chain ${chainId}`, { chainId });
    return found;
  }

  /**
   * Runs `bank-chain --rpc <chain> --json <args>` with `env` added and returns its JSON answer;
   * a `DemoError` with the command's own error when it fails.
   */
  async cli(
    args: readonly string[],
    options: { readonly env?: Readonly<Record<string, string>>; readonly chain?: DemoChain } = {},
  ): Promise<Record<string, unknown>> {
    return this.spawnCli(args, options).done;
  }

  /**
   * Starts `bank-chain --rpc <chain> --json <args>`: `child` to read its output as it comes, `done` its JSON
   * answer once it exits (a `DemoError` with the command's own error when it fails).
   */
  spawnCli(
    args: readonly string[],
    options: { readonly env?: Readonly<Record<string, string>>; readonly chain?: DemoChain } = {},
  ): { child: ChildProcessWithoutNullStreams; done: Promise<Record<string, unknown>> } {
    const chain = options.chain ?? this.home;
    const argv = [BIN, "--rpc", chain.rpc, "--json", ...args];
    const child = spawn(process.execPath, argv, {
      cwd: ROOT,
      env: { ...process.env, BANK_CHAIN_DEPLOYMENTS_DIR: chain.deploymentsRoot, ...options.env },
    });
    child.stdin.end();
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    const timer = setTimeout(() => child.kill("SIGTERM"), COMMAND_TIMEOUT_MS);
    const shown = `bank-chain ${args.join(" ")}`;
    const done = new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", resolve);
    })
      .finally(() => clearTimeout(timer))
      .then((code) => {
        const line = stdout.trim().split("\n").at(-1) ?? "";
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(line) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        if (code !== 0 || json === undefined || json.ok !== true) {
          const reason =
            json !== undefined && typeof json.error === "object" && json.error !== null
              ? String((json.error as { message?: unknown }).message)
              : `${stderr.trim().split("\n").at(-1) ?? ""} (exit code ${code})`;
          throw new DemoError("DEMO_COMMAND_FAILED", `${shown} failed: ${reason}`, { command: shown, code });
        }
        return json;
      });
    return { child, done };
  }

  /** The logs of `contract`'s `event` on `chain` since the run started, filtered by indexed `args`. */
  async eventsSinceStart(chain: DemoChain, contract: Contract, event: string, ...args: unknown[]): Promise<Log[]> {
    const filter = contract.filters[event]!(...args);
    return contract.queryFilter(filter, chain.startBlock + 1, "latest") as Promise<Log[]>;
  }

  /** Stops the providers. */
  close(): void {
    for (const chain of this.chains) chain.provider.destroy();
  }
}

/** Records what one step sent and checked. */
export class StepRecorder {
  readonly txs: DemoTx[] = [];
  readonly checks: DemoCheck[] = [];
  readonly notes: string[] = [];

  /** A transaction the step sent or caused. */
  tx(chain: DemoChain | number, hash: unknown, what: string): void {
    if (typeof hash !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(hash)) {
      throw new DemoError("DEMO_NO_TX", `${what}: no transaction hash (got ${String(hash)})`, { what });
    }
    const chainId = typeof chain === "number" ? chain : chain.chainId;
    this.txs.push({ chainId, hash: hash.toLowerCase(), what });
  }

  /** A check: `ok` when `actual` equals `expected` (compared as strings). */
  equal(what: string, actual: unknown, expected: unknown): boolean {
    const ok = String(actual) === String(expected);
    this.checks.push({ what, ok, expected: String(expected), actual: String(actual) });
    return ok;
  }

  /** A check that holds when `ok` is true; `actual` describes what was found. */
  that(what: string, ok: boolean, actual?: unknown): boolean {
    this.checks.push({ what, ok, ...(actual === undefined ? {} : { actual: String(actual) }) });
    return ok;
  }

  /** A line of facts. */
  note(text: string): void {
    this.notes.push(text);
  }
}

/** Polls `read` every `everyMs` until `done` holds or `timeoutMs` passes; returns the last value read. */
export async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() >= deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Amount in minor units as `12.34`. */
export function money(minor: bigint | string): string {
  const value = BigInt(minor);
  const sign = value < 0n ? "-" : "";
  const abs = value < 0n ? -value : value;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, "0")}`;
}

/** A demo step. */
export interface DemoStep {
  /** Short name (`deposit-mint`). */
  readonly name: string;
  /** One line of what it tells. */
  readonly title: string;
  run(context: DemoContext, record: StepRecorder): Promise<void>;
}
