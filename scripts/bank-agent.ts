/**
 * Runs one bank's settlement agent on its own, against a running chain: what
 * `npm start` runs for both banks, as a single process an operator (or a
 * crash test) can stop, kill and restart.
 *
 *   npx tsx scripts/bank-agent.ts A|B
 *
 * The chain, deployments and data folder as `runServiceProcess`
 * (src/chain/process.ts) takes them, the deployments saved for `localhost`
 * unless `BANK_AGENT_DEPLOYMENTS_NETWORK` says otherwise; ports and tuning as
 * in `src/settlement/service.ts`. Prints `bank-agent ready bank=<A|B> url=<url>`
 * once it serves, logs every step on stdout, and stops cleanly on SIGINT/SIGTERM.
 *
 * Fault injection: `BANK_AGENT_CRASH_AT=<point>` (a step point such as
 * `initiate:sending` or `event:SettlementSmelted`, see `BankAgentOptions.onStep`)
 * kills the process with SIGKILL the first time the agent reaches that point,
 * right after the step is durable: the crash tests use it to stop the agent at
 * every step exactly, not wherever a timer happens to fall.
 */
import { crashAtStep, runServiceProcess } from "../src/chain/process.js";
import { BankChainError } from "../src/errors.js";
import { bankAgentService } from "../src/settlement/service.js";

const bank = process.argv[2];

runServiceProcess({
  name: "bank-agent",
  factory: () => {
    if (bank !== "A" && bank !== "B") {
      throw new BankChainError("AGENT_USAGE", "usage: npx tsx scripts/bank-agent.ts A|B");
    }
    return bankAgentService(bank, { env: process.env, onStep: crashAtStep(process.env.BANK_AGENT_CRASH_AT) });
  },
  ready: (service) => `bank-agent ready bank=${bank} url=${service.url ?? ""}`,
  deploymentsNetwork: process.env.BANK_AGENT_DEPLOYMENTS_NETWORK,
});
