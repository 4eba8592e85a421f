/**
 * The stack a user runs, for the benchmarks: `npm start -- --fresh` spawned as
 * a child, exactly as documented (Anvil over HTTP JSON-RPC, the deploy scripts,
 * every service with its SQLite file), on ports and folders of its own so it
 * never meets a `npm start` already running:
 * - the devnet's two chains on free ports (`BANK_CHAIN_RPC_PORT`, `BANK_CHAIN_PEER_RPC_PORT`): the start script reuses
 *   any node answering chain id 31337 on its port, so 8545 is never used, and
 *   a start that reports "reusing the devnet" is refused;
 * - deployments and service data in a fresh temporary folder
 *   (`BANK_CHAIN_DEPLOYMENTS_DIR`, `BANK_CHAIN_DATA_DIR`), deleted at the end;
 * - every service port picked by the OS (`*_PORT=0`).
 *
 * `stop()` stops it the way a user does (SIGINT: the services stop, then the
 * devnet), and kills by process id whatever is left after a grace period: the
 * start script's process group, and the Anvil it started (which runs in a
 * group of its own). The same happens, by SIGKILL, if the benchmark exits or
 * is interrupted with the stack still up.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { freePort, ROOT } from "../../test/helpers/processes.js";
import { stackEnv } from "../../test/helpers/stack.js";

const READY = /bank-chain ready rpc=(\S+) chainId=(\d+)\n/;

export interface DevnetStack {
  readonly rpc: string;
  /** The devnet's second chain (network localhostB, chain id 31338). */
  readonly peerRpc: string;
  /** Deployment name → address on the second chain. */
  readonly peerContracts: ReadonlyMap<string, string>;
  /** Service name → URL as the start script printed it (`http://…` or `tcp://…`). */
  readonly services: ReadonlyMap<string, string>;
  /** Deployment name → address. */
  readonly contracts: ReadonlyMap<string, string>;
  /** The services' SQLite files. */
  readonly dataDir: string;
  /** What the start script wrote to stderr so far (its `[start]` lines and the services' logs). */
  stderr(): string;
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** The pids of `root`'s descendants with their command names (Linux `/proc`; empty elsewhere). */
function descendants(root: number): { pid: number; comm: string }[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const parent = new Map<number, { ppid: number; comm: string }>();
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      parent.set(Number(entry), { ppid, comm });
    } catch {
      // Exited meanwhile.
    }
  }
  const found: { pid: number; comm: string }[] = [];
  const wanted = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, { ppid, comm }] of parent) {
      if (wanted.has(ppid) && !wanted.has(pid)) {
        wanted.add(pid);
        found.push({ pid, comm });
        grew = true;
      }
    }
  }
  return found;
}

/** Starts `npm start -- --fresh` in its own place and waits for its ready line (at most `timeoutMs`). */
export async function startDevnetStack(options: { readonly timeoutMs?: number } = {}): Promise<DevnetStack> {
  const dir = mkdtempSync(path.join(tmpdir(), "bank-chain-bench-"));
  const dataDir = path.join(dir, "data");
  const rpcPort = await freePort();
  // The same environment the tests give a stack: the two chains on these ports, every service port picked by the OS.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BANK_CHAIN_RPC_HOST: "127.0.0.1",
    ...stackEnv({ dir, rpcPort, peerRpcPort: await freePort() }),
  };

  // npm, its shell and the start script in one process group; the start script puts Anvil in another.
  const child: ChildProcess = spawn("npm", ["start", "--", "--fresh"], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => void (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-200_000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let anvilPids: number[] = [];

  const killEverything = (): void => {
    if (child.pid !== undefined) kill(-child.pid, "SIGKILL");
    for (const pid of anvilPids) kill(pid, "SIGKILL");
  };
  const onExit = (): void => killEverything();
  const onSignal = (signal: NodeJS.Signals): void => {
    killEverything();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.on("exit", onExit);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        kill(-child.pid, "SIGINT");
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 45_000)))]);
        clearTimeout(timer);
      }
      killEverything();
      // The start script stops its Anvil on SIGINT; one it could not stop is killed here.
      for (let i = 0; anvilPids.some((pid) => alive(pid)) && i < 50; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      process.off("exit", onExit);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`npm start was not ready within ${options.timeoutMs ?? 300_000} ms:\n${stderr}`)),
        options.timeoutMs ?? 300_000,
      );
      child.stdout!.on("data", () => {
        if (READY.test(stdout)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`npm start exited (${code ?? signal}) before it was ready:\n${stderr}`));
      });
    });
    if (!stderr.includes(`starting a new devnet at http://127.0.0.1:${rpcPort}`)) {
      throw new Error(`npm start did not start a devnet of its own on port ${rpcPort}:\n${stderr}`);
    }
    anvilPids = descendants(child.pid!)
      .filter((process) => process.comm === "anvil")
      .map((process) => process.pid);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    rpc: READY.exec(stdout)![1]!,
    services: new Map([...stdout.matchAll(/^ {2}service (\S+) ((?:http|tcp):\/\/\S+)$/gm)].map((m) => [m[1]!, m[2]!])),
    contracts: new Map(
      [...stdout.matchAll(/^ {2}(?!service )(\S+) (0x[0-9a-fA-F]{40})$/gm)].map((m) => [m[1]!, m[2]!]),
    ),
    peerRpc: /^chain localhostB rpc=(\S+) chainId=31338$/m.exec(stdout)![1]!,
    peerContracts: new Map(
      readdirSync(path.join(dir, "deployments", "localhostB"))
        .filter((file) => file.endsWith(".json"))
        .map((file) => [
          file.slice(0, -".json".length),
          (JSON.parse(readFileSync(path.join(dir, "deployments", "localhostB", file), "utf8")) as { address: string })
            .address,
        ]),
    ),
    dataDir: path.join(dataDir, "localhost"),
    stderr: () => stderr,
    stop,
  };
}
