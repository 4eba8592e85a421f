/**
 * One service as a process of its own, until SIGINT or SIGTERM: what the scripts that run a single service for
 * the crash tests (`scripts/bank-agent.ts`, `scripts/checkout-service.ts`) share.
 *
 * The chain comes from `BANK_CHAIN_RPC_URL` or `BANK_CHAIN_NETWORK` (default the devnet), the deployments from
 * `BANK_CHAIN_DEPLOYMENTS_DIR` (those saved for `localhost` unless told otherwise), the SQLite files from
 * `BANK_CHAIN_DATA_DIR` (see `serviceDataDir`).
 */
import { messageOf } from "../errors.js";
import { openChain } from "./config.js";
import { serviceDataDir } from "./data-dir.js";
import { deploymentsRoot, readDeployments } from "./deployments.js";
import type { Service, ServiceFactory } from "./service.js";

type Env = Readonly<Record<string, string | undefined>>;

export interface ServiceProcessOptions {
  /** The process's name, first on its error line (`<name>: <message>`). */
  readonly name: string;
  /** Builds the service's factory; a throw here (bad arguments) ends the process like a failed start. */
  readonly factory: () => ServiceFactory;
  /** The line printed once the service serves, e.g. `checkout ready url=<url>`. */
  readonly ready: (service: Service) => string;
  /** Whose saved deployments to read (default `localhost`, what `npm start` writes). */
  readonly deploymentsNetwork?: string | undefined;
  readonly env?: Env;
}

/** Writes one line to stdout: the log of a service process. */
export const logLine = (line: string): void => void process.stdout.write(`${line}\n`);

/**
 * A step hook for fault injection: the first time the service reaches `point` it logs
 * `crashing at <point> [<detail>]` and kills its own process with SIGKILL, with no chance to clean up. With no
 * point it does nothing.
 */
export function crashAtStep(point: string | undefined): (step: string, detail?: string) => void {
  const at = point?.trim() || undefined;
  return (step, detail) => {
    if (at === undefined || step !== at) return;
    logLine(`crashing at ${step}${detail === undefined ? "" : ` ${detail}`}`);
    process.kill(process.pid, "SIGKILL");
  };
}

/**
 * Starts the service, prints its ready line, and stops it (then closes the chain and exits 0) on SIGINT or
 * SIGTERM. A failure to start prints `<name>: <message>` on stderr and exits 1.
 */
export function runServiceProcess(options: ServiceProcessOptions): void {
  const env = options.env ?? process.env;
  const run = async (): Promise<void> => {
    const factory = options.factory();
    const chain = await openChain({ env });
    const deployments = readDeployments(options.deploymentsNetwork ?? "localhost", deploymentsRoot(env));
    const service = await factory.create({
      chain,
      deployments,
      dataDir: serviceDataDir(chain.network, env),
      log: logLine,
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
    logLine(options.ready(service));
  };
  run().catch((error: unknown) => {
    process.stderr.write(`${options.name}: ${messageOf(error)}\n`);
    process.exit(1);
  });
}
