/**
 * The bill monitor as a service for `npm start` (see `src/services.ts`): it
 * follows the BillRegistry into its own SQLite file under the context's data
 * folder and answers queries on 127.0.0.1.
 *
 * Environment: `BILL_MONITOR_PORT` (default 8610; 0 picks a free port);
 * `BILL_MONITOR_CONFIRMATIONS` (default 0 on the devnet, 2 elsewhere);
 * `BILL_MONITOR_POLL_MS` (default 250).
 */
import path from "node:path";

import { serviceOwningStore, type Service, type ServiceContext, type ServiceFactory } from "../chain/service.js";
import { intFromEnv } from "../chain/settings.js";
import { Store } from "../store/store.js";
import { billHttpServer } from "./http.js";
import { BillMonitor, BillMonitorError, DEFAULT_POLL_MS } from "./monitor.js";

export const DEFAULT_BILL_MONITOR_PORT = 8610;

export interface BillMonitorServiceOptions {
  /** Environment for the port and tuning (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export function billMonitorService(options: BillMonitorServiceOptions = {}): ServiceFactory {
  const name = "bill-monitor";
  return {
    name,
    async create(context: ServiceContext): Promise<Service> {
      const env = options.env ?? process.env;
      const { chain, deployments } = context;
      const record = deployments.get("BillRegistry");
      const fromBlock = record.blockNumber ?? 0;
      const devnet = chain.chainId === 31337n;
      const anchor = await chain.provider.getBlock(fromBlock);
      if (anchor === null || anchor.hash === null) {
        throw new BillMonitorError(
          "BILL_MONITOR_NO_DEPLOYMENT_BLOCK",
          `block ${fromBlock} of the deployment is missing`,
          {
            block: fromBlock,
          },
        );
      }
      // One database per deployment: a new devnet (same addresses, new history) gets a new file.
      const port = intFromEnv(env, "BILL_MONITOR_PORT", DEFAULT_BILL_MONITOR_PORT, 0, 65_535);
      const store = Store.open({ path: path.join(context.dataDir, `${name}-${anchor.hash.slice(2, 10)}.sqlite`) });
      return serviceOwningStore(name, store, () => {
        const monitor = new BillMonitor({
          provider: chain.provider,
          store,
          registry: record.address,
          confirmations: intFromEnv(env, "BILL_MONITOR_CONFIRMATIONS", devnet ? 0 : 2, 0, 1_000),
          fromBlock,
          pollIntervalMs: intFromEnv(env, "BILL_MONITOR_POLL_MS", DEFAULT_POLL_MS, 1, 60_000),
          onError: (error) => context.log(`bill-monitor: ${error instanceof Error ? error.message : String(error)}`),
        });
        const http = billHttpServer(monitor, {
          host: "127.0.0.1",
          port,
          log: context.log,
          blockNumber: () => chain.provider.getBlockNumber(),
          store,
        });
        return {
          url: () => http.url ?? `http://127.0.0.1:${port}`,
          async start() {
            try {
              await monitor.poll();
              await http.start();
              monitor.start();
            } catch (error) {
              await http.stop();
              throw error;
            }
          },
          async stop() {
            await http.stop();
            await monitor.stop();
          },
        };
      });
    },
  };
}

export const billMonitor: ServiceFactory = billMonitorService();
