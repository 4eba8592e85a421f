/**
 * Runs the checkout service on its own against a running chain, for the tests that kill it: what `npm start`
 * runs (without its retailer), plus a fault-injection point.
 *
 *   tsx scripts/checkout-service.ts
 *
 * The chain comes from `BANK_CHAIN_RPC_URL` or `BANK_CHAIN_NETWORK` (default the devnet), the deployments from
 * `BANK_CHAIN_DEPLOYMENTS_DIR` (those saved for `localhost`), the SQLite file from `BANK_CHAIN_DATA_DIR`, the
 * retailer from `CHECKOUT_RETAILER_URL`; the rest as in `src/commerce/service.ts`. Prints
 * `checkout ready url=<url>` once it serves, and stops cleanly on SIGINT/SIGTERM.
 *
 * Fault injection: `CHECKOUT_CRASH_AT=<point>` (`before-order`, `after-order`, `before-capture`, `before-void`)
 * kills the process with SIGKILL the first time the engine reaches that point: `after-order` is right after the
 * retailer answered an order and before the answer is written down.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

import { openChain } from "../src/chain/config.js";
import { deploymentsRoot, readDeployments } from "../src/chain/deployments.js";
import { checkoutService } from "../src/commerce/service.js";
import { messageOf } from "../src/errors.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

async function main(): Promise<void> {
  const env = process.env;
  const crashAt = env.CHECKOUT_CRASH_AT?.trim() || undefined;
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  const chain = await openChain({ env });
  const deployments = readDeployments("localhost", deploymentsRoot(env));
  const service = await checkoutService({
    env,
    onStep: (point) => {
      if (point !== crashAt) return;
      log(`crashing at ${point}`);
      process.kill(process.pid, "SIGKILL");
    },
  }).create({
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
  log(`checkout ready url=${service.url ?? ""}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`checkout-service: ${messageOf(error)}\n`);
  process.exit(1);
});
