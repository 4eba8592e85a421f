/**
 * Runs one bank's settlement agent on its own, against a running chain: what
 * `npm start` runs for both banks, as a single process an operator (or a
 * crash test) can stop, kill and restart.
 *
 *   tsx scripts/bank-agent.ts A|B
 *
 * The chain comes from `BANK_CHAIN_RPC_URL` or `BANK_CHAIN_NETWORK` (default
 * the devnet), the deployments from `BANK_CHAIN_DEPLOYMENTS_DIR` (those saved
 * for `localhost` unless `BANK_AGENT_DEPLOYMENTS_NETWORK` says otherwise), the
 * SQLite file from `BANK_CHAIN_DATA_DIR`; ports and tuning as in
 * `src/settlement/service.ts`. Prints `bank-agent ready bank=<A|B> url=<url>`
 * once it serves, logs every step on stdout, and stops cleanly on SIGINT/SIGTERM.
 *
 * Fault injection: `BANK_AGENT_CRASH_AT=<point>` (a step point such as
 * `initiate:sending` or `event:SettlementSmelted`, see `BankAgentOptions.onStep`)
 * kills the process with SIGKILL the first time the agent reaches that point,
 * right after the step is durable: the crash tests use it to stop the agent at
 * every step exactly, not wherever a timer happens to fall.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

import { openChain } from "../src/chain/config.js";
import { deploymentsRoot, readDeployments } from "../src/chain/deployments.js";
import { BankChainError, messageOf } from "../src/errors.js";
import { bankAgentService, type DevnetBank } from "../src/settlement/service.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

async function main(): Promise<void> {
  const bank = process.argv[2];
  if (bank !== "A" && bank !== "B") {
    throw new BankChainError("AGENT_USAGE", "usage: tsx scripts/bank-agent.ts A|B");
  }
  const env = process.env;
  const crashAt = env.BANK_AGENT_CRASH_AT?.trim() || undefined;
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  const chain = await openChain({ env });
  const deployments = readDeployments(env.BANK_AGENT_DEPLOYMENTS_NETWORK ?? "localhost", deploymentsRoot(env));
  const factory = bankAgentService(bank as DevnetBank, {
    env,
    onStep: (point, paymentId) => {
      if (point !== crashAt) return;
      log(`crashing at ${point} ${paymentId}`);
      process.kill(process.pid, "SIGKILL");
    },
  });
  const service = await factory.create({
    chain,
    deployments,
    dataDir: path.join(path.resolve(env.BANK_CHAIN_DATA_DIR ?? path.join(root, ".bank-chain")), chain.network),
    log,
  });
  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    try {
      await service.stop();
      await chain.close();
    } finally {
      process.exit(0);
    }
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
  await service.start();
  log(`bank-agent ready bank=${bank} url=${service.url ?? ""}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bank-agent: ${messageOf(error)}\n`);
  process.exit(1);
});
