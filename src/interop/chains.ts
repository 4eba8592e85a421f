/**
 * The chains the interop services work between, as configuration: each
 * chain's AttestedGateway (and InteropGateway, for the API gateway), where
 * event followers start, and how deep a log must be buried before it counts.
 * The nodes that reach each chain are in the `NodeDirectory`.
 */
import { getAddress, type Block, type Filter, type Log, type Provider } from "ethers";

import type { FollowerReads } from "../chain/events.js";
import { BankChainError } from "../errors.js";
import type { NodeDirectory } from "./nodes.js";

/** The interop configuration cannot work (a chain twice, a chain without nodes). */
export class InteropConfigError extends BankChainError {}

/** One chain as the interop services see it. */
export interface InteropChain {
  readonly chainId: bigint;
  /** The chain's AttestedGateway: source of its outbound messages, destination of inbound ones. */
  readonly attestedGateway: string;
  /** The chain's InteropGateway, where the API gateway submits payloads whose source is this chain. */
  readonly interopGateway?: string | undefined;
  /** The first block a follower reads without a checkpoint (the AttestedGateway's deployment block). */
  readonly fromBlock: number;
  /** Blocks on top of a `MessagePosted` log before it is acted on. */
  readonly confirmations: number;
}

/** Checks a chain list: distinct chain ids, each with nodes in `nodes`; addresses checksummed. */
export function checkChains(chains: readonly InteropChain[], nodes: NodeDirectory): InteropChain[] {
  const seen = new Set<bigint>();
  return chains.map((chain) => {
    if (seen.has(chain.chainId)) {
      throw new InteropConfigError("INTEROP_DUPLICATE_CHAIN", `chain ${chain.chainId} is configured twice`, {
        chainId: chain.chainId.toString(),
      });
    }
    seen.add(chain.chainId);
    if (!nodes.has(chain.chainId)) {
      throw new InteropConfigError("INTEROP_CHAIN_WITHOUT_NODES", `chain ${chain.chainId} has no node configured`, {
        chainId: chain.chainId.toString(),
      });
    }
    return {
      ...chain,
      attestedGateway: getAddress(chain.attestedGateway),
      interopGateway: chain.interopGateway === undefined ? undefined : getAddress(chain.interopGateway),
    };
  });
}

/** The chain with `chainId`, or undefined. */
export function chainOf(chains: readonly InteropChain[], chainId: bigint): InteropChain | undefined {
  return chains.find((chain) => chain.chainId === chainId);
}

/** What `ConfirmedEventFollower` reads from a chain. */
export type { FollowerReads };

/**
 * The reads an event follower makes, through the node directory: each goes
 * to a healthy node of the chain and moves to the next one if that node fails.
 */
export function followerReads(nodes: NodeDirectory, chainId: bigint): FollowerReads {
  return {
    getBlockNumber: () => nodes.withNode(chainId, (provider) => provider.getBlockNumber()),
    getBlock: ((block: number) => nodes.withNode(chainId, (provider) => provider.getBlock(block))) as (
      ...args: Parameters<Provider["getBlock"]>
    ) => Promise<Block | null>,
    getLogs: (filter: Filter) => nodes.withNode(chainId, (provider): Promise<Log[]> => provider.getLogs(filter)),
  };
}
