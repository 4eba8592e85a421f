/**
 * A bank agent as a child process (`scripts/bank-agent.ts`), for the tests
 * that kill it: start it (optionally told to SIGKILL itself at a step point),
 * wait for it to die, kill it from outside, stop it cleanly.
 */
import type { ChildProcessWithoutNullStreams } from "node:child_process";

import { killGroup, ROOT, spawnGroup } from "../helpers/processes.js";

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class AgentProcess {
  readonly bank: "A" | "B";
  readonly #env: NodeJS.ProcessEnv;
  #child: ChildProcessWithoutNullStreams | undefined;
  #exit: Promise<Exit> | undefined;
  /** Everything every run of this agent printed, in order. */
  output = "";
  url = "";
  starts = 0;

  constructor(bank: "A" | "B", env: NodeJS.ProcessEnv) {
    this.bank = bank;
    this.#env = env;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Starts the agent and resolves once it serves; `crashAt` makes it SIGKILL itself at that step point. */
  async start(crashAt?: string): Promise<void> {
    if (this.running) throw new Error(`agent ${this.bank} is already running`);
    this.starts += 1;
    const child = spawnGroup(process.execPath, ["--import", "tsx", "scripts/bank-agent.ts", this.bank], {
      cwd: ROOT,
      env: { ...process.env, ...this.#env, BANK_AGENT_CRASH_AT: crashAt ?? "" },
    });
    child.stdin.end();
    this.#child = child;
    this.output += `--- start ${this.starts}${crashAt === undefined ? "" : ` (crash at ${crashAt})`}\n`;
    this.#exit = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    const ready = new Promise<void>((resolve, reject) => {
      let buffer = "";
      child.stdout.on("data", (chunk: Buffer) => {
        const text = chunk.toString();
        this.output += text;
        buffer += text;
        const match = /bank-agent ready bank=\w url=(\S+)/.exec(buffer);
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
        reject(
          new Error(`agent ${this.bank} exited (${exit.code ?? exit.signal}) before it was ready:\n${this.output}`),
        ),
      );
    });
    await ready;
  }

  /** Resolves when the current run ends. */
  async exited(timeoutMs: number): Promise<Exit> {
    if (this.#exit === undefined) throw new Error(`agent ${this.bank} was never started`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`agent ${this.bank} still running after ${timeoutMs} ms:\n${this.output}`)),
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
      throw new Error(`agent ${this.bank} stopped with ${exit.code ?? exit.signal}:\n${this.output}`);
  }

  /**
   * Runs the agent through `points`: each run is told to crash at the next
   * point and must die there by SIGKILL; then it is started for good.
   */
  async crashThrough(points: readonly string[], timeoutMs = 60_000): Promise<void> {
    for (const point of points) {
      await this.start(point);
      const exit = await this.exited(timeoutMs);
      if (exit.signal !== "SIGKILL" || !this.output.includes(`crashing at ${point}`)) {
        throw new Error(
          `agent ${this.bank} was to crash at ${point} but ended with ${JSON.stringify(exit)}:\n${this.output}`,
        );
      }
    }
    await this.start();
  }
}
