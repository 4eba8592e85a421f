import path from "node:path";

import { BankChainError, messageOf } from "../errors.js";
import { Store } from "../store/store.js";
import type { ChainConnection } from "./config.js";
import type { Deployments } from "./deployments.js";
import { lineLog, type Logger } from "./log.js";

/** A service could not start or stop. */
export class ServiceError extends BankChainError {}

/** What every off-chain service receives from the runner. */
export interface ServiceContext {
  readonly chain: ChainConnection;
  readonly deployments: Deployments;
  /** Folder for the service's SQLite files; one per network. */
  readonly dataDir: string;
  /** One line of the service's log; with a `logger`, it writes an info line through it (see `lineLog`). */
  readonly log: (line: string) => void;
  /**
   * The structured logger (`createLogger` in log.ts). The runner gives each service a child with its `service`
   * name, and a `log` that writes through that child; a context without one (a test's) keeps its plain `log`.
   */
  readonly logger?: Logger;
}

/** A long-running off-chain part: an agent, a gateway, a monitor. */
export interface Service {
  readonly name: string;
  /** Where people reach it, printed by `npm start` (e.g. `http://127.0.0.1:8601`). */
  readonly url?: string;
  start(): Promise<void>;
  /** Stops accepting work, finishes what is under way, and releases its resources. */
  stop(): Promise<void>;
}

/** Builds a service from the shared context; each part exports one of these. */
export interface ServiceFactory {
  readonly name: string;
  create(context: ServiceContext): Service | Promise<Service>;
}

/**
 * Starts services in order and stops them in reverse. If one fails to start,
 * the ones already started are stopped before the error is thrown, so a failed
 * start leaves nothing running.
 */
export class ServiceRunner {
  readonly #factories: readonly ServiceFactory[];
  readonly #context: ServiceContext;
  readonly #started: Service[] = [];

  constructor(factories: readonly ServiceFactory[], context: ServiceContext) {
    const names = new Set<string>();
    for (const factory of factories) {
      if (names.has(factory.name)) {
        throw new ServiceError("SERVICE_DUPLICATE", `two services are named "${factory.name}"`, {
          service: factory.name,
        });
      }
      names.add(factory.name);
    }
    this.#factories = factories;
    this.#context = context;
  }

  /** The services running now, in start order. */
  get running(): readonly Service[] {
    return [...this.#started];
  }

  async startAll(): Promise<readonly Service[]> {
    for (const factory of this.#factories) {
      let service: Service | undefined;
      try {
        service = await factory.create(this.#contextFor(factory.name));
        await service.start();
      } catch (error) {
        await this.stopAll();
        throw new ServiceError(
          "SERVICE_START_FAILED",
          `service ${factory.name} failed to start: ${messageOf(error)}`,
          { service: factory.name },
          { cause: error },
        );
      }
      this.#started.push(service);
      this.#context.log(`service ${service.name} started${service.url === undefined ? "" : ` at ${service.url}`}`);
    }
    return this.running;
  }

  /** The context one service gets: its own child logger (`service` field) and a `log` through it, when there is a logger. */
  #contextFor(name: string): ServiceContext {
    const { logger } = this.#context;
    if (logger === undefined) return this.#context;
    const child = logger.child({ service: name });
    return { ...this.#context, logger: child, log: lineLog(child) };
  }

  /** Stops every started service, newest first; reports all failures together. */
  async stopAll(): Promise<void> {
    const failures: string[] = [];
    while (this.#started.length > 0) {
      const service = this.#started.pop()!;
      try {
        await service.stop();
        this.#context.log(`service ${service.name} stopped`);
      } catch (error) {
        failures.push(`${service.name}: ${messageOf(error)}`);
      }
    }
    if (failures.length > 0) {
      throw new ServiceError("SERVICE_STOP_FAILED", `services failed to stop cleanly: ${failures.join("; ")}`, {
        failures,
      });
    }
  }
}

/** What a part builds for `serviceOwningStore`: how to reach it, start it and stop it. */
export interface ServiceParts {
  readonly url: () => string;
  readonly start: () => Promise<void>;
  readonly stop: () => Promise<void>;
}

/**
 * A service that owns one SQLite store (anything with `close()`): `build`
 * makes its parts; the store is closed when building or starting fails, and
 * after the service stops, so no failure leaves the file open.
 */
export function serviceOwningStore(name: string, store: { close(): void }, build: () => ServiceParts): Service {
  let parts: ServiceParts;
  try {
    parts = build();
  } catch (error) {
    store.close();
    throw error;
  }
  return {
    name,
    get url() {
      return parts.url();
    },
    async start() {
      try {
        await parts.start();
      } catch (error) {
        store.close();
        throw error;
      }
    },
    async stop() {
      try {
        await parts.stop();
      } finally {
        store.close();
      }
    },
  };
}

/**
 * Opens the SQLite store a service keeps for one deployment: the file is
 * `<dataDir>/<service>-<8 hex digits of the deployment block's hash>.sqlite`,
 * so a chain started over (same addresses, new history) never meets the
 * records of the old one. Fails with `SERVICE_NO_DEPLOYMENT_BLOCK` when the
 * chain lacks the block the deployment was mined in.
 */
export async function openDeploymentStore(
  context: ServiceContext,
  service: string,
  deployment: string,
): Promise<Store> {
  const record = context.deployments.get(deployment);
  const block = record.blockNumber ?? 0;
  const anchor = await context.chain.provider.getBlock(block);
  if (anchor === null || anchor.hash === null) {
    throw new ServiceError(
      "SERVICE_NO_DEPLOYMENT_BLOCK",
      `${service}: the chain has no block ${block}, where ${deployment} was deployed; it is not the chain the deployments were made on`,
      { service, deployment, block },
    );
  }
  return Store.open({ path: path.join(context.dataDir, `${service}-${anchor.hash.slice(2, 10)}.sqlite`) });
}
