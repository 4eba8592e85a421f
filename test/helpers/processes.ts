import {
  spawn,
  type ChildProcess,
  type ChildProcessWithoutNullStreams,
  type SpawnOptions,
  type SpawnOptionsWithoutStdio,
} from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Every port `freePort` has handed out in this process: it never hands one out twice. */
const handedOut = new Set<number>();

/**
 * A port on 127.0.0.1 nothing listens on now, and one this process has not been given before: the OS may offer
 * a port it just freed again, and two services of one stack given the same port collide (EADDRINUSE).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await anyFreePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("no free port this process has not handed out already, in 100 tries");
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Process groups started by `spawnGroup` that may still have members. */
const groups = new Set<ChildProcess>();
let exitHook = false;

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is gone already
  }
}

/**
 * Spawns `command` as the leader of a process group of its own, so that it and
 * everything it starts (a devnet under `scripts/start.ts`, say) can be killed
 * together by `killGroup`. Every group still open when the test process exits
 * (a failed hook, a crash, mocha's own exit) is SIGKILLed then, so no test
 * leaves a process behind.
 */
export function spawnGroup(
  command: string,
  args: readonly string[],
  options?: SpawnOptionsWithoutStdio,
): ChildProcessWithoutNullStreams;
export function spawnGroup(command: string, args: readonly string[], options: SpawnOptions): ChildProcess;
export function spawnGroup(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  if (!exitHook) {
    exitHook = true;
    const killAll = (): void => {
      for (const child of groups) signalGroup(child, "SIGKILL");
    };
    process.on("exit", killAll);
    // A signal ends Node without "exit": kill the groups, then let the signal do what it would have done.
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      const onSignal = (): void => {
        killAll();
        if (process.listenerCount(signal) === 1) {
          process.removeListener(signal, onSignal);
          process.kill(process.pid, signal);
        }
      };
      process.on(signal, onSignal);
    }
  }
  const child = spawn(command, [...args], { stdio: "pipe", ...options, detached: true });
  groups.add(child);
  return child;
}

/**
 * Sends `signal` to the group of a `spawnGroup` child, waits up to `graceMs`
 * for the leader to exit, then SIGKILLs whatever is left of the group. Never
 * throws: it is meant for `after`/`afterEach`/`finally`.
 */
export async function killGroup(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals = "SIGTERM",
  graceMs = 10_000,
): Promise<void> {
  if (child === undefined) return;
  const running = child.exitCode === null && child.signalCode === null;
  const exited = running ? new Promise<void>((resolve) => child.once("exit", () => resolve())) : Promise.resolve();
  signalGroup(child, signal);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
  clearTimeout(timer);
  signalGroup(child, "SIGKILL");
  groups.delete(child);
}

/** Runs the project's Node on `args` and collects its output. */
export async function runNode(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): Promise<Finished> {
  const child = spawnGroup(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env } });
  child.stdin.end();
  return collect(child, timeoutMs).finally(() => void killGroup(child, "SIGKILL", 0));
}

export function collect(child: ChildProcessWithoutNullStreams, timeoutMs: number): Promise<Finished> {
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (groups.has(child)) void killGroup(child, "SIGKILL", 0);
      else child.kill("SIGKILL");
      reject(new Error(`process timed out after ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Resolves with the output so far once `pattern` appears on stdout. */
export function waitForOutput(
  child: ChildProcessWithoutNullStreams,
  pattern: RegExp,
  timeoutMs: number,
): Promise<string> {
  let stdout = "";
  let stderr = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${stdout}\n${stderr}`)),
      timeoutMs,
    );
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (pattern.test(stdout)) {
        clearTimeout(timer);
        resolve(stdout);
      }
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before ${pattern}:\n${stdout}\n${stderr}`));
    });
  });
}
