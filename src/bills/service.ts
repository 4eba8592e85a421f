/**
 * The bill monitor as a service for `npm start` (see `src/services.ts`): it
 * follows the BillRegistry into its own SQLite file under the context's data
 * folder and answers queries on 127.0.0.1.
 *
 * Environment: `BILL_MONITOR_SETTINGS` below (docs/operations.md).
 */
import {
  openDeploymentStore,
  serviceOwningStore,
  type Service,
  type ServiceContext,
  type ServiceFactory,
} from "../chain/service.js";
import { isDevnet } from "../chain/networks.js";
import { int, settingsSchema } from "../chain/settings.js";
import { billHttpServer } from "./http.js";
import { BillMonitor, DEFAULT_POLL_MS } from "./monitor.js";

export const DEFAULT_BILL_MONITOR_PORT = 8610;

/** The bill monitor's environment. */
export const BILL_MONITOR_SETTINGS = settingsSchema("bill-monitor", {
  BILL_MONITOR_PORT: int(
    "port of the query API on 127.0.0.1 (0 picks a free one)",
    DEFAULT_BILL_MONITOR_PORT,
    0,
    65_535,
  ),
  BILL_MONITOR_CONFIRMATIONS: int(
    "blocks on top of an event before it is applied",
    { devnet: 0, elsewhere: 2 },
    0,
    1_000,
  ),
  BILL_MONITOR_POLL_MS: int("pause between two looks for new blocks when idle (ms)", DEFAULT_POLL_MS, 1, 60_000),
});

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
      const settings = BILL_MONITOR_SETTINGS.read(env, { devnet: isDevnet(chain.chainId) });
      const store = await openDeploymentStore(context, name, "BillRegistry");
      const port = settings.BILL_MONITOR_PORT;
      return serviceOwningStore(name, store, () => {
        const monitor = new BillMonitor({
          provider: chain.provider,
          store,
          registry: record.address,
          confirmations: settings.BILL_MONITOR_CONFIRMATIONS,
          fromBlock,
          pollIntervalMs: settings.BILL_MONITOR_POLL_MS,
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
