/**
 * A bank agent as a child process (`scripts/bank-agent.ts`), for the tests
 * that kill it (`CrashableProcess`: start, crash at a step point, kill, stop).
 */
import { CrashableProcess } from "../helpers/crashable-process.js";

export type { Exit } from "../helpers/crashable-process.js";

export class AgentProcess extends CrashableProcess {
  readonly bank: "A" | "B";

  constructor(bank: "A" | "B", env: NodeJS.ProcessEnv) {
    super({
      name: `agent ${bank}`,
      args: ["scripts/bank-agent.ts", bank],
      env,
      crashVariable: "BANK_AGENT_CRASH_AT",
      ready: /bank-agent ready bank=\w url=(\S+)/,
    });
    this.bank = bank;
  }
}
