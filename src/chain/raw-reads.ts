/**
 * Reads of the chain as the node answers them, for the hot paths of the
 * services (an agent's event follower, its receipt loop): a JSON-RPC call
 * through the provider's `send`, with only the fields used parsed, instead of
 * ethers' `Log`, `Block` and `TransactionReceipt` objects. Building those
 * checksums every address and defines every property of every log, which for
 * a batch transaction of a hundred payments is most of the agent's cost of
 * reading it.
 *
 * A provider without `send` (a test's scripted node, the interop services'
 * multi-node readers) is read through its ordinary methods: its logs are
 * handed on as they are (an ethers `Log` has every field of a `ChainLog`, and a
 * caller may key on the very object), its receipts and blocks cut to the same
 * shapes.
 */
import { getAddress, type Provider } from "ethers";

import { BankChainError } from "../errors.js";

/** A node's answer that is not what JSON-RPC promises. */
export class ChainAnswerError extends BankChainError {}

const CHECKSUMMED = new Map<string, string>();
/** Most addresses `checksummed` remembers (a service meets a handful: its contracts and the banks' accounts). */
const CHECKSUMMED_MAX = 1_024;

/**
 * `getAddress(address)`, remembered: checksumming hashes the address, and a service checksums the same few
 * addresses for every log it reads. Throws as `getAddress` does for a malformed address.
 */
export function checksummed(address: string): string {
  let known = CHECKSUMMED.get(address);
  if (known === undefined) {
    known = getAddress(address);
    if (CHECKSUMMED.size >= CHECKSUMMED_MAX) CHECKSUMMED.clear();
    CHECKSUMMED.set(address, known);
  }
  return known;
}

/** A log's fields, as the node gave them; `address` checksummed. */
export interface ChainLog {
  readonly address: string;
  readonly topics: readonly string[];
  readonly data: string;
  readonly blockNumber: number;
  readonly blockHash: string;
  readonly transactionHash: string;
  readonly transactionIndex: number;
  readonly index: number;
  readonly removed: boolean;
}

/** What the services read of a mined transaction's receipt. */
export interface MinedReceipt {
  readonly hash: string;
  /** 1 succeeded, 0 reverted. */
  readonly status: number;
  readonly blockNumber: number;
  readonly blockHash: string;
  readonly gasUsed: bigint;
}

/** A filter of `eth_getLogs`. */
export interface LogQuery {
  readonly address?: string | readonly string[];
  readonly topics?: ReadonlyArray<string | readonly string[] | null>;
  readonly fromBlock: number;
  readonly toBlock: number;
}

type Send = (method: string, params: unknown[]) => Promise<unknown>;

/** The provider's JSON-RPC `send`, when it has one (ethers' JSON-RPC providers and Hardhat's do). */
function sendOf(provider: object): Send | undefined {
  const send = (provider as { send?: unknown }).send;
  return typeof send === "function" ? (send as Send).bind(provider) : undefined;
}

const quantity = (value: number): string => `0x${value.toString(16)}`;

function numberOf(value: unknown, what: string): number {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{1,13}$/.test(value)) {
    throw new ChainAnswerError("CHAIN_BAD_ANSWER", `the node gave ${what} as ${JSON.stringify(value)}`, { what });
  }
  return Number.parseInt(value, 16);
}

function hashOf(value: unknown, what: string): string {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(value)) {
    throw new ChainAnswerError("CHAIN_BAD_ANSWER", `the node gave ${what} as ${JSON.stringify(value)}`, { what });
  }
  return value.toLowerCase();
}

function logOf(raw: unknown): ChainLog {
  const log = raw as Record<string, unknown>;
  if (
    typeof log !== "object" ||
    log === null ||
    typeof log.address !== "string" ||
    typeof log.data !== "string" ||
    !Array.isArray(log.topics)
  ) {
    throw new ChainAnswerError("CHAIN_BAD_ANSWER", "the node gave a log without its address, topics or data");
  }
  return {
    address: checksummed(log.address),
    topics: (log.topics as unknown[]).map((topic) => hashOf(topic, "a log topic")),
    data: log.data.toLowerCase(),
    blockNumber: numberOf(log.blockNumber, "a log's block number"),
    blockHash: hashOf(log.blockHash, "a log's block hash"),
    transactionHash: hashOf(log.transactionHash, "a log's transaction hash"),
    transactionIndex: numberOf(log.transactionIndex, "a log's transaction index"),
    index: numberOf(log.logIndex, "a log's index"),
    removed: log.removed === true,
  };
}

/** The logs matching `query`, in the node's order. */
export async function readLogs(provider: Pick<Provider, "getLogs">, query: LogQuery): Promise<ChainLog[]> {
  const send = sendOf(provider);
  const filter = {
    ...(query.address === undefined ? {} : { address: query.address }),
    ...(query.topics === undefined ? {} : { topics: query.topics }),
  };
  if (send !== undefined) {
    const raw = await send("eth_getLogs", [
      { ...filter, fromBlock: quantity(query.fromBlock), toBlock: quantity(query.toBlock) },
    ]);
    if (!Array.isArray(raw)) throw new ChainAnswerError("CHAIN_BAD_ANSWER", "the node's eth_getLogs gave no list");
    return raw.map(logOf);
  }
  const logs = await provider.getLogs({
    ...(filter as { address?: string | string[]; topics?: Array<string | string[] | null> }),
    fromBlock: query.fromBlock,
    toBlock: query.toBlock,
  });
  // An ethers `Log` has every field of a `ChainLog`: handed on as it is (a caller may know the very object).
  return logs;
}

/** The hash of block `number`, or null when the node has no such block. */
export async function readBlockHash(provider: Pick<Provider, "getBlock">, number: number): Promise<string | null> {
  const send = sendOf(provider);
  if (send !== undefined) {
    const raw = (await send("eth_getBlockByNumber", [quantity(number), false])) as { hash?: unknown } | null;
    if (raw === null) return null;
    return hashOf(raw.hash, `block ${number}'s hash`);
  }
  return (await provider.getBlock(number))?.hash ?? null;
}

/** The receipt of `hash`, or null while it is not mined. */
export async function readReceipt(
  provider: Pick<Provider, "getTransactionReceipt">,
  hash: string,
): Promise<MinedReceipt | null> {
  const send = sendOf(provider);
  if (send !== undefined) {
    const raw = (await send("eth_getTransactionReceipt", [hash])) as Record<string, unknown> | null;
    if (raw === null) return null;
    if (typeof raw.gasUsed !== "string" || !/^0x[0-9a-fA-F]{1,64}$/.test(raw.gasUsed)) {
      throw new ChainAnswerError("CHAIN_BAD_ANSWER", `the node gave ${hash}'s gas used as ${String(raw.gasUsed)}`);
    }
    return {
      hash: hashOf(raw.transactionHash, "a receipt's transaction hash"),
      status: numberOf(raw.status, "a receipt's status"),
      blockNumber: numberOf(raw.blockNumber, "a receipt's block number"),
      blockHash: hashOf(raw.blockHash, "a receipt's block hash"),
      gasUsed: BigInt(raw.gasUsed),
    };
  }
  const receipt = await provider.getTransactionReceipt(hash);
  if (receipt === null) return null;
  return {
    hash: receipt.hash,
    status: receipt.status ?? 0,
    blockNumber: receipt.blockNumber,
    blockHash: receipt.blockHash,
    gasUsed: receipt.gasUsed,
  };
}
