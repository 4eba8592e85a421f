/**
 * The three key share holders `npm start` runs (see `src/services.ts`), each a service of its own with its own
 * identity key, SQLite store and port on 127.0.0.1 (docs/keys.md, "Holders"). In production each holder runs at
 * its own location, alone: `bank-chain keys holder --index <n>` runs one.
 *
 * Environment: `KEYS_SETTINGS` below (docs/operations.md).
 */
import path from "node:path";

import { int, settingsSchema } from "../chain/settings.js";
import { messageOf } from "../errors.js";
import { Store } from "../store/store.js";
import {
  openDeploymentStore,
  serviceOwningStore,
  type Service,
  type ServiceContext,
  type ServiceFactory,
} from "../chain/service.js";
import { ShareHolder } from "./holder.js";
import { HolderStore, loadOrCreateIdentity } from "./holder-store.js";
import { holderHttpServer } from "./http.js";
import { ShareRegistryReader } from "./registry.js";

/**
 * How often a holder sweeps its store against the registry (`ShareHolder.sweepStale`), besides once at start: a
 * holder a rotation left out is never asked again, so it must look by itself.
 */
export const HOLDER_SWEEP_INTERVAL_MS = 60_000;

/** Default ports of holders 1, 2 and 3. */
export const DEFAULT_HOLDER_PORTS = [8650, 8651, 8652] as const;

/** The holders' environment. */
export const KEYS_SETTINGS = settingsSchema("keys-holder1, keys-holder2, keys-holder3", {
  KEYS_HOLDER1_PORT: int("port of key share holder 1 on 127.0.0.1 (0 picks a free one)", 8650, 0, 65_535),
  KEYS_HOLDER2_PORT: int("port of key share holder 2 on 127.0.0.1 (0 picks a free one)", 8651, 0, 65_535),
  KEYS_HOLDER3_PORT: int("port of key share holder 3 on 127.0.0.1 (0 picks a free one)", 8652, 0, 65_535),
  KEYS_SESSION_TTL_MS: int("how long an idle share channel stays open (ms)", 60_000, 1_000, 3_600_000),
  KEYS_MAX_SESSIONS: int("most share channels a holder keeps open at once", 256, 1, 100_000),
});

export interface HolderServiceOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Overrides the port setting (the `keys holder` command's `--port`). */
  readonly port?: number;
  /** Overrides the deployed ShareRegistry's address. */
  readonly registry?: string;
  readonly host?: string;
  /** Step points of the holder (`ShareHolderOptions.onStep`), for the crash tests. */
  readonly onStep?: (point: string) => void;
}

/** The service name of holder `index`: `keys-holder<index>`, also the stem of its identity and store files. */
export function holderName(index: number): string {
  return `keys-holder${index}`;
}

/** Key share holder `index` (1, 2 or 3 under `npm start`; any positive number run alone). */
export function holderService(index: number, options: HolderServiceOptions = {}): ServiceFactory {
  const name = holderName(index);
  return {
    name,
    async create(context: ServiceContext): Promise<Service> {
      const env = options.env ?? process.env;
      const settings = KEYS_SETTINGS.read(env, { devnet: true });
      const ports = [settings.KEYS_HOLDER1_PORT, settings.KEYS_HOLDER2_PORT, settings.KEYS_HOLDER3_PORT];
      const port = options.port ?? ports[index - 1] ?? 0;
      const { chain, deployments } = context;
      const registryAddress = options.registry ?? deployments.get("ShareRegistry").address;
      const identity = loadOrCreateIdentity(path.join(context.dataDir, `${name}.identity`));
      // A registry named by hand (no deployment record to anchor the file to) gets a store of its own address.
      const raw =
        options.registry === undefined
          ? await openDeploymentStore(context, name, "ShareRegistry")
          : Store.open({
              path: path.join(context.dataDir, `${name}-${registryAddress.slice(2, 10).toLowerCase()}.sqlite`),
            });
      return serviceOwningStore(name, raw, () => {
        const store = new HolderStore(raw, identity);
        const holder = new ShareHolder({
          name,
          identity,
          store,
          registry: new ShareRegistryReader(registryAddress, chain.provider),
          chainId: BigInt(chain.chainId),
          log: context.log,
          sessionTtlMs: settings.KEYS_SESSION_TTL_MS,
          maxSessions: settings.KEYS_MAX_SESSIONS,
          ...(options.onStep === undefined ? {} : { onStep: options.onStep }),
        });
        const http = holderHttpServer(holder, {
          host: options.host ?? "127.0.0.1",
          port,
          log: context.log,
          // A holder follows no events (it reads the registry at the head on every request): no follower lag.
          health: {
            blockNumber: () => chain.provider.getBlockNumber(),
            checkDatabase: () => store.check(),
          },
        });
        let timer: NodeJS.Timeout | undefined;
        const sweep = async () => {
          try {
            const deleted = await holder.sweepStale();
            if (deleted > 0) context.log(`${name} deleted ${deleted} share(s) of past epochs or retired wallets`);
          } catch (error) {
            context.log(`${name} sweep failed: ${messageOf(error)}`);
          }
        };
        return {
          url: () => http.url ?? `http://127.0.0.1:${port}`,
          start: async () => {
            await sweep();
            await http.start();
            timer = setInterval(() => void sweep(), HOLDER_SWEEP_INTERVAL_MS);
            timer.unref();
            context.log(`${name} holds shares as ${identity.address}`);
          },
          stop: async () => {
            clearInterval(timer);
            await http.stop();
          },
        };
      });
    },
  };
}

export const keysHolder1 = holderService(1);
export const keysHolder2 = holderService(2);
export const keysHolder3 = holderService(3);

export interface HolderProcessOptions {
  readonly index: number;
  readonly port?: number;
  readonly registry?: string;
  /** The chain as the CLI's global options name it. */
  readonly rpc?: string | undefined;
  readonly network?: string | undefined;
  readonly onStep?: (point: string) => void;
  /** Where the ready line goes (stdout); the log goes to `log`. */
  readonly ready: (line: string) => void;
  readonly log: (line: string) => void;
}

/**
 * Runs one holder in this process until SIGINT or SIGTERM: `bank-chain keys holder` and the crash tests'
 * `scripts/key-holder.ts`. Prints `keys-holder ready index=<n> url=<url> address=<address>` once it serves.
 */
export async function runHolderProcess(options: HolderProcessOptions): Promise<void> {
  const { openChain } = await import("../chain/config.js");
  const { deploymentsOf } = await import("../chain/deployments.js");
  const { serviceDataDir } = await import("../chain/data-dir.js");
  const chain = await openChain({ rpc: options.rpc, network: options.network });
  try {
    const service = await holderService(options.index, {
      ...(options.port === undefined ? {} : { port: options.port }),
      ...(options.registry === undefined ? {} : { registry: options.registry }),
      ...(options.onStep === undefined ? {} : { onStep: options.onStep }),
    }).create({
      chain,
      deployments: deploymentsOf(chain),
      dataDir: serviceDataDir(chain.network),
      log: options.log,
    });
    await service.start();
    const address = loadOrCreateIdentity(
      path.join(serviceDataDir(chain.network), `${holderName(options.index)}.identity`),
    ).address;
    options.ready(`keys-holder ready index=${options.index} url=${service.url ?? ""} address=${address}`);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await service.stop();
  } finally {
    await chain.close();
  }
}
