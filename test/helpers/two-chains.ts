/**
 * Two independent chains with the suite deployed on each, and their interop
 * contracts linked to each other: two Anvil processes
 * (the npm package's binary) on ports the OS picks, each with its own chain id,
 * deployed by the same deploy scripts `npm start` runs, through JSON-RPC. The
 * cross-chain parts test against these: a node per chain, as in production.
 *
 * The caller must `stop()` what it started, in `after`/`finally`; a start that
 * fails half-way stops what it had started before throwing.
 */
import { getAddress, JsonRpcProvider, Network, type JsonRpcSigner } from "ethers";

import { fromDeployments, type Deployments } from "../../src/chain/deployments.js";
import { startAnvil, type Anvil } from "../../src/chain/devnet.js";
import { DUTIES, type DutyName } from "../../src/chain/networks.js";
import { linkPeer, sideOf } from "../../deploy/_interop.js";
import { loadAndExecuteDeploymentsFromFiles } from "../../rocketh/environment.js";
import { freePort } from "./processes.js";

/** The default pair: the consortium's chain id and another bank network's. */
export const TWO_CHAIN_IDS = [4242, 4343] as const;

export interface DeployedChain {
  readonly chainId: bigint;
  /** The node's JSON-RPC URL (127.0.0.1, a free port). */
  readonly url: string;
  readonly provider: JsonRpcProvider;
  /** Deployment name → record, as the deploy scripts left them on this chain. */
  readonly deployments: Deployments;
  /** Each duty's account on this chain (the node's unlocked accounts). */
  readonly duties: ReadonlyMap<DutyName, string>;
  signer(duty: DutyName): Promise<JsonRpcSigner>;
}

export interface TwoChains {
  readonly chains: readonly [DeployedChain, DeployedChain];
  stop(): Promise<void>;
}

/**
 * Runs `fn` with the deploy scripts' progress lines silenced, and rocketh's note that a
 * chain id has no public record (a private chain has none); a failure still throws.
 */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const { log, info, error } = console;
  console.log = () => undefined;
  console.info = () => undefined;
  console.error = (...args: unknown[]) => {
    if (!/^chain with id \d+ has no public info$/.test(String(args[0]))) error(...args);
  };
  try {
    return await fn();
  } finally {
    console.log = log;
    console.info = info;
    console.error = error;
  }
}

async function deployedChain(chainId: number, anvils: Anvil[]): Promise<DeployedChain> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  anvils.push(await startAnvil({ endpoint: { host: "127.0.0.1", port, url }, chainId }));
  const network = Network.from(chainId);
  const provider = new JsonRpcProvider(url, network, { staticNetwork: network, pollingInterval: 100 });
  const eip1193 = {
    request: ({ method, params }: { method: string; params?: unknown[] | object }) =>
      provider.send(method, (params as unknown[] | undefined) ?? []),
  };
  // A named environment: rocketh takes an unnamed one for a fork of chain 31337. Nothing is written to disk.
  const env = await quietly(() =>
    loadAndExecuteDeploymentsFromFiles({
      provider: eip1193 as never,
      environment: `anvil-${chainId}`,
      saveDeployments: false,
    }),
  );
  const duties = new Map(DUTIES.map(({ name }) => [name, getAddress(env.namedAccounts[name])] as const));
  return {
    chainId: BigInt(chainId),
    url,
    provider,
    deployments: fromDeployments(`anvil-${chainId}`, BigInt(chainId), env.deployments),
    duties,
    signer: (duty) => provider.getSigner(duties.get(duty)!),
  };
}

/** Starts two chains with the given ids (different, neither the devnet's) and deploys the suite to each. */
export async function startTwoChains(chainIds: readonly [number, number] = TWO_CHAIN_IDS): Promise<TwoChains> {
  if (chainIds[0] === chainIds[1]) throw new Error(`two chains need two chain ids, got ${chainIds[0]} twice`);
  const anvils: Anvil[] = [];
  const providers: JsonRpcProvider[] = [];
  const stop = async (): Promise<void> => {
    for (const provider of providers) provider.destroy();
    await Promise.all(anvils.map((anvil) => anvil.stop(5_000)));
  };
  try {
    const first = await deployedChain(chainIds[0], anvils);
    providers.push(first.provider);
    const second = await deployedChain(chainIds[1], anvils);
    providers.push(second.provider);
    // Each side's interop contracts know the other's, as `npm start` links the devnet's two chains.
    for (const [local, peer] of [
      [first, second],
      [second, first],
    ] as const) {
      await quietly(async () =>
        linkPeer(
          sideOf(local.chainId, local.deployments),
          sideOf(peer.chainId, peer.deployments),
          await local.signer("interopAdmin"),
        ),
      );
    }
    return { chains: [first, second], stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
