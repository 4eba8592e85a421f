import { spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { collect, freePort, ROOT, spawnGroup, waitForOutput, type Finished } from "./processes.js";

export const READY = /bank-chain ready rpc=(\S+) chainId=(\d+)\n/;

/** Where a test's stack keeps its state: one folder, every port its own. */
export interface StackPlace {
  readonly dir: string;
  readonly rpcPort: number;
  /** The devnet's second chain (network localhostB). */
  readonly peerRpcPort: number;
}

/** Free ports for the devnet's two chains and a folder for the deployments and service data. */
export async function stackPlace(dir: string): Promise<StackPlace> {
  return { dir, rpcPort: await freePort(), peerRpcPort: await freePort() };
}

/** The `npm start` environment for a stack at `place`: every service port picked by the OS. */
export function stackEnv(place: StackPlace): NodeJS.ProcessEnv {
  return {
    BANK_CHAIN_RPC_PORT: String(place.rpcPort),
    BANK_CHAIN_PEER_RPC_PORT: String(place.peerRpcPort),
    BANK_CHAIN_DEPLOYMENTS_DIR: path.join(place.dir, "deployments"),
    BANK_CHAIN_DATA_DIR: path.join(place.dir, "data"),
    BANK_A_PORT: "0",
    BANK_B_PORT: "0",
    BILL_MONITOR_PORT: "0",
    CARD_GATEWAY_PORT: "0",
    CARD_GATEWAY_API_PORT: "0",
    OFFLINE_MERCHANT_PORT: "0",
    INTEROP_API_PORT: "0",
    INTEROP_ATTESTER_1_PORT: "0",
    INTEROP_ATTESTER_2_PORT: "0",
    INTEROP_ATTESTER_3_PORT: "0",
    INTEROP_RELAYER_PORT: "0",
    CERTIFICATES_PORT: "0",
    REWARDS_PORT: "0",
    KEYS_HOLDER1_PORT: "0",
    KEYS_HOLDER2_PORT: "0",
    KEYS_HOLDER3_PORT: "0",
    RETAILER_PORT: "0",
    CHECKOUT_PORT: "0",
    CONSOLE_PORT: "0",
  };
}

/** Last resort after a failed test: kills the Anvils the start script left on the place's ports. */
export function killDevnet(place: StackPlace): void {
  for (const port of [place.rpcPort, place.peerRpcPort]) {
    spawnSync("pkill", ["-KILL", "-f", `anvil --host 127.0.0.1 --port ${port} `]);
  }
}

/** A running `npm start`. */
export interface Stack {
  readonly rpc: string;
  readonly stdout: string;
  /** Service name → URL as printed by the start script (`http://…` or `tcp://…`). */
  readonly services: ReadonlyMap<string, string>;
  /** Contract name → address (lowercase). */
  readonly contracts: ReadonlyMap<string, string>;
  /** Sends `signal` to the start script and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<Finished>;
}

/** Runs `scripts/start.ts` with `args`; resolves when it exits. */
export function runStart(place: StackPlace, args: readonly string[] = [], timeoutMs = 240_000): Promise<Finished> {
  return collect(spawnStart(place, args), timeoutMs);
}

/**
 * The start script in a process group of its own (killed when the test
 * process exits, whatever happened); its devnet runs in another group, which
 * the script stops on SIGINT or SIGTERM.
 */
function spawnStart(
  place: StackPlace,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): ChildProcessWithoutNullStreams {
  return spawnGroup(process.execPath, ["--import", "tsx", "scripts/start.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...stackEnv(place), ...env },
  });
}

/**
 * Starts the stack at `place` and waits for its ready line. The caller must
 * `stop()` it in a `finally` or `after`; if it never becomes ready it is
 * killed here.
 */
export async function startStack(
  place: StackPlace,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
  lifetimeMs = 600_000,
): Promise<Stack> {
  const child = spawnStart(place, args, env);
  // The longest the stack may run before it is killed (a test that hangs must not leave it behind).
  const done = collect(child, lifetimeMs);
  let stdout: string;
  try {
    stdout = await waitForOutput(child, READY, 240_000);
  } catch (error) {
    child.kill("SIGINT");
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await done.catch(() => undefined);
    clearTimeout(killer);
    killDevnet(place);
    throw error;
  }
  const services = new Map(
    [...stdout.matchAll(/^ {2}service (\S+) ((?:http|tcp):\/\/\S+)$/gm)].map((m) => [m[1]!, m[2]!]),
  );
  const contracts = new Map(
    [...stdout.matchAll(/^ {2}(?!service )(\S+) (0x[0-9a-fA-F]{40})$/gm)].map((m) => [m[1]!, m[2]!.toLowerCase()]),
  );
  let stopped: Promise<Finished> | undefined;
  return {
    rpc: READY.exec(stdout)![1]!,
    stdout,
    services,
    contracts,
    stop(signal: NodeJS.Signals = "SIGINT") {
      if (stopped === undefined) {
        child.kill(signal);
        stopped = done;
      }
      return stopped;
    },
  };
}

/** The stack of a `describe` block (see `stackForSuite`), once its `before` hook has started it. */
export interface SuiteStack {
  /** Where the stack keeps its state (for `stackEnv`). */
  readonly place: StackPlace;
  readonly stack: Stack;
}

/**
 * Registers the hooks that start `npm start` once for the enclosing `describe` block, in a fresh temporary
 * folder named from `prefix`, and stop it after: SIGINT to the start script, then the place's Anvils killed
 * and the folder removed, whatever happened. Hooks the caller registers after this call run after these. The
 * stack is killed after `lifetimeMs` whatever the tests are doing (10 min unless the block needs longer).
 */
export function stackForSuite(prefix: string, lifetimeMs = 600_000): SuiteStack {
  let dir: string | undefined;
  let place: StackPlace | undefined;
  let stack: Stack | undefined;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), prefix));
    place = await stackPlace(dir);
    stack = await startStack(place, [], {}, lifetimeMs);
  });

  after(async function () {
    await stack?.stop("SIGINT").catch(() => undefined);
    if (place !== undefined) killDevnet(place);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  return {
    get place() {
      if (place === undefined) throw new Error(`the ${prefix} stack has no place: its before hook has not run`);
      return place;
    },
    get stack() {
      if (stack === undefined) throw new Error(`the ${prefix} stack is not running: its before hook has not run`);
      return stack;
    },
  };
}
