/**
 * The chain a benchmark measures on: the devnet's node, Anvil (the npm package's binary), on a free port of
 * 127.0.0.1 with the devnet's chain id, the suite deployed by the deploy scripts as `npm start` deploys it (the
 * devnet's own environment: its reserves attested, its demo data seeded), and a scratch folder for the
 * benchmark's SQLite files.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { JsonRpcProvider, Network } from "ethers";

import { startAnvil } from "../../src/chain/devnet.js";
import { DEVNET_CHAIN_ID } from "../../src/chain/networks.js";
import { freePort } from "../../test/helpers/processes.js";
import { deployQuietly } from "./deploy.js";

/** A running bench chain; `stop()` it in a `finally`. */
export interface BenchChain {
  /** A JSON-RPC provider on the chain (static network, polling every 50 ms). */
  readonly provider: JsonRpcProvider;
  /** A fresh temporary folder, deleted by `stop()`. */
  readonly folder: string;
  /** What the deploy scripts left: the deployments and the named accounts. */
  readonly deployment: Awaited<ReturnType<typeof deployQuietly>>;
  /** The address of the deployment `name`. */
  address(name: string): string;
  /** Closes the provider, stops Anvil (5 s grace) and deletes the folder. */
  stop(): Promise<void>;
}

/**
 * Starts Anvil, makes the folder (`<tmpdir>/<folderPrefix>XXXXXX`) and deploys the suite. `cacheTimeout` is the
 * provider's (ethers' default when absent; -1 for none). If the deployment fails, everything is stopped again
 * before the error is rethrown.
 */
export async function startBenchChain(options: {
  readonly folderPrefix: string;
  readonly cacheTimeout?: number;
}): Promise<BenchChain> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const anvil = await startAnvil({ endpoint: { host: "127.0.0.1", port, url }, chainId: DEVNET_CHAIN_ID });
  const network = Network.from(DEVNET_CHAIN_ID);
  const provider = new JsonRpcProvider(url, network, {
    staticNetwork: network,
    pollingInterval: 50,
    ...(options.cacheTimeout === undefined ? {} : { cacheTimeout: options.cacheTimeout }),
  });
  const folder = mkdtempSync(path.join(tmpdir(), options.folderPrefix));
  const stop = async (): Promise<void> => {
    provider.destroy();
    await anvil.stop(5_000);
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    const deployment = await deployQuietly(
      {
        request: ({ method, params }: { method: string; params?: unknown }) =>
          provider.send(method, (params as unknown[] | undefined) ?? []),
      } as never,
      "localhost",
    );
    const address = (name: string): string => deployment.deployments[name]!.address;
    return { provider, folder, deployment, address, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
