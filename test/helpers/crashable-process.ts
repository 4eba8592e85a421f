/**
 * A service as a child process, for the tests that kill it: start it
 * (optionally told to SIGKILL itself at a step point), wait for it to die,
 * kill it from outside, stop it cleanly. The bank agent
 * (`test/settlement/agent-process.ts`) and the interop services
 * (`test/interop/service-process.ts`) are two uses of it.
 *
 * The child must print a ready line that `ready` matches, its first group
 * being the URL it serves, and `crashing at <point>` before it kills itself
 * at a step point.
 */
import type { ChildProcessWithoutNullStreams } from "node:child_process";

import { killGroup, ROOT, spawnGroup } from "./processes.js";

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface CrashableSpec {
  /** How errors name it: `agent A`, `relayer`. */
  readonly name: string;
  /** Arguments of `node --import tsx …`. */
  readonly args: readonly string[];
  /** The child's environment on top of this process's. */
  readonly env: NodeJS.ProcessEnv;
  /** The variable that tells the child where to crash. */
  readonly crashVariable: string;
  /** The child's ready line; group 1 is its URL. */
  readonly ready: RegExp;
}

export class CrashableProcess {
  readonly #spec: CrashableSpec;
  #child: ChildProcessWithoutNullStreams | undefined;
  #exit: Promise<Exit> | undefined;
  /** Everything every run printed, in order. */
  output = "";
  url = "";
  starts = 0;

  constructor(spec: CrashableSpec) {
    this.#spec = spec;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Starts it and resolves once it serves; `crashAt` makes it SIGKILL itself at that step point. */
  async start(crashAt?: string): Promise<void> {
    const { name, args, env, crashVariable, ready } = this.#spec;
    if (this.running) throw new Error(`${name} is already running`);
    this.starts += 1;
    const child = spawnGroup(process.execPath, ["--import", "tsx", ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env, [crashVariable]: crashAt ?? "" },
    });
    child.stdin.end();
    this.#child = child;
    this.output += `--- start ${this.starts}${crashAt === undefined ? "" : ` (crash at ${crashAt})`}\n`;
    this.#exit = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    await new Promise<void>((resolve, reject) => {
      let buffer = "";
      child.stdout.on("data", (chunk: Buffer) => {
        const text = chunk.toString();
        this.output += text;
        buffer += text;
        const match = ready.exec(buffer);
        if (match !== null) {
          this.url = match[1]!;
          resolve();
        }
      });
      child.stderr.on("data", (chunk: Buffer) => {
        const text = chunk.toString();
        if (!text.includes("ExperimentalWarning") && !text.includes("--trace-warnings")) this.output += text;
      });
      void this.#exit!.then((exit) =>
        reject(new Error(`${name} exited (${exit.code ?? exit.signal}) before it was ready:\n${this.output}`)),
      );
    });
  }

  /** Resolves when the current run ends. */
  async exited(timeoutMs: number): Promise<Exit> {
    if (this.#exit === undefined) throw new Error(`${this.#spec.name} was never started`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.#spec.name} still running after ${timeoutMs} ms:\n${this.output}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.#exit, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL from outside, wherever it is. */
  async kill(): Promise<void> {
    if (!this.running) return;
    await killGroup(this.#child, "SIGKILL", 10_000);
    await this.exited(10_000);
  }

  /** SIGTERM: a clean stop. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.#child!.kill("SIGTERM");
    const exit = await this.exited(20_000);
    if (exit.code !== 0)
      throw new Error(`${this.#spec.name} stopped with ${exit.code ?? exit.signal}:\n${this.output}`);
  }

  /** Runs it until it crashes at `point` (it must die there by SIGKILL). */
  async crashAt(point: string, timeoutMs = 60_000): Promise<void> {
    await this.start(point);
    const exit = await this.exited(timeoutMs);
    if (exit.signal !== "SIGKILL" || !this.output.includes(`crashing at ${point}`)) {
      throw new Error(
        `${this.#spec.name} was to crash at ${point} but ended with ${JSON.stringify(exit)}:\n${this.output}`,
      );
    }
  }

  /** Runs it through `points`, crashing at each in turn, then starts it for good. */
  async crashThrough(points: readonly string[], timeoutMs = 60_000): Promise<void> {
    for (const point of points) await this.crashAt(point, timeoutMs);
    await this.start();
  }
}
