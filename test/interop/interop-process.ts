/**
 * One interop service (the relayer, an attester or the API gateway) as a
 * process of its own, for the crash tests: they kill it with SIGKILL at a
 * chosen step and start it again.
 *
 *   node --import tsx test/interop/interop-process.ts
 *
 * Configuration: `INTEROP_TEST_CONFIG`, JSON (`ProcessConfig` below). Prints
 * `interop-process ready role=<role> url=<url>` once it serves, every log line
 * on stdout, and stops cleanly on SIGINT/SIGTERM. `INTEROP_CRASH_AT=<prefix>`
 * kills the process with SIGKILL the first time it reaches a step point
 * starting with that prefix (see each service's `onStep`), right after that
 * step is durable.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";

import { Wallet } from "ethers";

import { ApiGateway } from "../../src/interop/api-gateway.js";
import { Attester } from "../../src/interop/attester.js";
import type { InteropChain } from "../../src/interop/chains.js";
import { NodeDirectory } from "../../src/interop/nodes.js";
import { Relayer } from "../../src/interop/relayer.js";
import { SignedSender } from "../../src/interop/sender.js";
import { Store } from "../../src/store/store.js";
import { messageOf } from "../../src/errors.js";

export interface ProcessConfig {
  readonly role: "relayer" | "attester" | "api";
  readonly name: string;
  readonly chains: ReadonlyArray<Omit<InteropChain, "chainId"> & { readonly chainId: string }>;
  readonly nodes: Readonly<Record<string, readonly string[]>>;
  readonly key: string;
  readonly store: string;
  readonly port: number;
  readonly attesters?: readonly string[];
  readonly pollIntervalMs?: number;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.INTEROP_TEST_CONFIG ?? "{}") as ProcessConfig;
  const crashAt = process.env.INTEROP_CRASH_AT?.trim() || undefined;
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  const onStep = (point: string): void => {
    if (crashAt === undefined || !point.startsWith(crashAt)) return;
    log(`crashing at ${point}`);
    process.kill(process.pid, "SIGKILL");
  };
  const chains: InteropChain[] = config.chains.map((chain) => ({ ...chain, chainId: BigInt(chain.chainId) }));
  const nodes = new NodeDirectory({
    nodes: new Map(Object.entries(config.nodes).map(([id, urls]) => [BigInt(id), [...urls]])),
    timeoutMs: 1_000,
    recheckMs: 1_000,
    pollingIntervalMs: 50,
  });
  const store = Store.open({ path: config.store });
  const key = new Wallet(config.key);
  const pollIntervalMs = config.pollIntervalMs ?? 50;
  const fast = { baseMs: 100, maxMs: 500, factor: 2 };
  const service =
    config.role === "relayer"
      ? new Relayer({
          name: config.name,
          store,
          nodes,
          chains,
          sender: new SignedSender({ nodes, signer: key }),
          attesters: config.attesters ?? [],
          port: config.port,
          pollIntervalMs,
          retry: fast,
          unreachable: fast,
          log,
          onStep,
        })
      : config.role === "attester"
        ? new Attester({ name: config.name, key, store, nodes, chains, port: config.port, pollIntervalMs, log, onStep })
        : new ApiGateway({
            store,
            nodes,
            chains,
            sender: new SignedSender({ nodes, signer: key }),
            port: config.port,
            pollIntervalMs,
            log,
            onStep,
          });
  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    try {
      await service.stop();
      store.close();
      nodes.close();
    } finally {
      process.exit(0);
    }
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
  await service.start();
  log(`interop-process ready role=${config.role} url=${service.url}`);
}

// Only when run as a script: mocha loads every file under test/, this one included.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`interop-process: ${messageOf(error)}\n`);
    process.exit(1);
  });
}
