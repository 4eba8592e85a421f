/**
 * The interop services' node directory: for each chain id, the JSON-RPC nodes
 * configuration lists (in order of preference), and which of them to use now.
 *
 * `providerFor(chainId)` hands out the first node that passes a health check:
 * it answers `eth_chainId` with that chain id and `eth_blockNumber`, each
 * within the timeout. A verdict is trusted for `recheckMs`; after that, or once
 * a caller reports the node failed (`markFailed`, or `withNode` on a network
 * error), the nodes are checked again from the first, so a preferred node that
 * comes back is used again. A chain id the configuration does not name is an
 * `UnknownChainError`; a chain none of whose nodes is healthy a
 * `NoHealthyNodeError` that says why each failed. `everyNode(chainId)` asks
 * every healthy node instead, for a caller that must not take one node's word
 * (an attester). Nodes are named by their origin only: a URL may carry an API
 * key.
 */
import { FetchRequest, JsonRpcProvider, Network } from "ethers";
import { z } from "zod";

import { FixedGasProvider, JSON_RPC_OPTIONS, originOf, probeChainId } from "../chain/config.js";
import type { FixedGas } from "../chain/networks.js";
import { systemClock, type Clock } from "../chain/clock.js";
import { hasCode, revertData } from "../chain/reverts.js";
import { BankChainError, messageOf } from "../errors.js";

/** The configuration names no node for a chain id. */
export class UnknownChainError extends BankChainError {}
/** Every node of a chain failed its health check. */
export class NoHealthyNodeError extends BankChainError {}
/** The node list in the configuration is malformed. */
export class NodeConfigError extends BankChainError {}

/** One node's last health check. */
export interface NodeHealth {
  readonly chainId: bigint;
  /** The node's origin (never its full URL). */
  readonly node: string;
  readonly healthy: boolean;
  /** Why it is not healthy, or null. */
  readonly reason: string | null;
  readonly blockNumber: number | null;
  /** When it was checked (clock ms). */
  readonly checkedAt: number;
}

/** What one node answered. */
export interface NodeAnswer<T> {
  /** The node's origin (never its full URL). */
  readonly node: string;
  readonly value: T;
}

export interface NodeDirectoryOptions {
  /** Chain id → JSON-RPC URLs, most preferred first. */
  readonly nodes: ReadonlyMap<bigint, readonly string[]>;
  /** How long a node may take to answer each health-check question. */
  readonly timeoutMs?: number;
  /** How long a node that passed is used before it is checked again. */
  readonly recheckMs?: number;
  /** How long any one request through a handed-out provider may take. */
  readonly requestTimeoutMs?: number;
  /** The providers' polling interval (receipts, filters). */
  readonly pollingIntervalMs?: number;
  /** A chain whose operators fix the gas price (a consortium chain): its transactions pay exactly that. */
  readonly gas?: ReadonlyMap<bigint, FixedGas>;
  readonly clock?: Clock;
}

export const DEFAULT_NODE_TIMEOUT_MS = 2_000;
export const DEFAULT_NODE_RECHECK_MS = 5_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

interface Node {
  readonly url: string;
  readonly provider: JsonRpcProvider;
  health: NodeHealth | undefined;
}

interface ChainNodes {
  readonly chainId: bigint;
  readonly nodes: readonly Node[];
  /** The node in use, and when it last passed. */
  current: { node: Node; checkedAt: number } | undefined;
  /** A check under way, shared by concurrent callers. */
  checking: Promise<Node> | undefined;
}

export class NodeDirectory {
  readonly #chains = new Map<bigint, ChainNodes>();
  readonly #timeoutMs: number;
  readonly #recheckMs: number;
  readonly #clock: Clock;

  constructor(options: NodeDirectoryOptions) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_NODE_TIMEOUT_MS;
    this.#recheckMs = options.recheckMs ?? DEFAULT_NODE_RECHECK_MS;
    this.#clock = options.clock ?? systemClock;
    for (const [chainId, urls] of options.nodes) {
      if (urls.length === 0) {
        throw new NodeConfigError("NODES_EMPTY", `chain ${chainId} is configured with no node`, {
          chainId: chainId.toString(),
        });
      }
      const network = Network.from(chainId);
      const nodes = urls.map((url) => {
        const request = new FetchRequest(url);
        request.timeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
        // The services' options (no answer cache, no batches: `JSON_RPC_OPTIONS`).
        const providerOptions = {
          ...JSON_RPC_OPTIONS,
          staticNetwork: network,
          pollingInterval: options.pollingIntervalMs ?? 500,
        };
        const gas = options.gas?.get(chainId);
        const provider =
          gas === undefined
            ? new JsonRpcProvider(request, network, providerOptions)
            : new FixedGasProvider(request, network, providerOptions, gas);
        return { url, provider, health: undefined };
      });
      this.#chains.set(chainId, { chainId, nodes, current: undefined, checking: undefined });
    }
  }

  /** The chain ids configured, in configuration order. */
  get chainIds(): readonly bigint[] {
    return [...this.#chains.keys()];
  }

  /** Whether the configuration names nodes for `chainId`. */
  has(chainId: bigint): boolean {
    return this.#chains.has(chainId);
  }

  /**
   * A provider on the first healthy node of `chainId` (the one in use if it
   * passed its check less than `recheckMs` ago).
   *
   * @throws UnknownChainError, NoHealthyNodeError
   */
  async providerFor(chainId: bigint): Promise<JsonRpcProvider> {
    const chain = this.#chain(chainId);
    const current = chain.current;
    if (current !== undefined && this.#clock.now() - current.checkedAt < this.#recheckMs) {
      return current.node.provider;
    }
    chain.checking ??= this.#pick(chain).finally(() => (chain.checking = undefined));
    return (await chain.checking).provider;
  }

  /** Reports that a node of `chainId` failed (or any node, without `provider`): the next call checks again. */
  markFailed(chainId: bigint, provider?: JsonRpcProvider): void {
    const chain = this.#chain(chainId);
    if (provider === undefined || chain.current?.node.provider === provider) chain.current = undefined;
  }

  /**
   * Runs `use` with a healthy node of `chainId`. If it fails because the node
   * failed (network error, timeout, server error; never a revert), the node
   * is marked failed and `use` runs once more on the next healthy node.
   */
  async withNode<T>(chainId: bigint, use: (provider: JsonRpcProvider) => Promise<T>): Promise<T> {
    const provider = await this.providerFor(chainId);
    try {
      return await use(provider);
    } catch (error) {
      if (!isNodeFailure(error)) throw error;
      this.markFailed(chainId, provider);
      return use(await this.providerFor(chainId));
    }
  }

  /** The origins of the nodes configured for `chainId`, in order of preference. @throws UnknownChainError */
  origins(chainId: bigint): readonly string[] {
    return this.#chain(chainId).nodes.map((node) => originOf(node.url));
  }

  /**
   * Runs `use` on EVERY node of `chainId` at once, for a caller that must not
   * take one node's word (an attester): each node that passes its health
   * check (a verdict less than `recheckMs` old is reused) and answers gives
   * one answer, in configuration order. A node that is unhealthy or fails
   * (network error, timeout, server error; never a revert) is left out and
   * named in `failed`; any other error is thrown.
   *
   * @throws UnknownChainError, NoHealthyNodeError when no node answers
   */
  async everyNode<T>(
    chainId: bigint,
    use: (provider: JsonRpcProvider) => Promise<T>,
  ): Promise<{ readonly answers: readonly NodeAnswer<T>[]; readonly failed: readonly string[] }> {
    const chain = this.#chain(chainId);
    const outcomes = await Promise.all(
      chain.nodes.map(async (node): Promise<{ answer: NodeAnswer<T> } | { failure: string }> => {
        const fresh = node.health !== undefined && this.#clock.now() - node.health.checkedAt < this.#recheckMs;
        const health = fresh ? node.health! : await this.#check(chain, node);
        if (!health.healthy) return { failure: `${health.node}: ${health.reason}` };
        try {
          return { answer: { node: health.node, value: await use(node.provider) } };
        } catch (error) {
          if (!isNodeFailure(error)) throw error;
          // Checked again before its next use.
          node.health = { ...health, healthy: false, reason: messageOf(error).replaceAll(node.url, health.node) };
          if (chain.current?.node === node) chain.current = undefined;
          return { failure: `${health.node}: ${node.health.reason}` };
        }
      }),
    );
    const answers = outcomes.flatMap((outcome) => ("answer" in outcome ? [outcome.answer] : []));
    const failed = outcomes.flatMap((outcome) => ("failure" in outcome ? [outcome.failure] : []));
    if (answers.length === 0) {
      throw new NoHealthyNodeError("NODES_NONE_HEALTHY", `no node of chain ${chainId} answered: ${failed.join("; ")}`, {
        chainId: chainId.toString(),
        failures: failed,
      });
    }
    return { answers, failed };
  }

  /** Checks every node of `chainId` now and reports each. @throws UnknownChainError */
  async check(chainId: bigint): Promise<readonly NodeHealth[]> {
    const chain = this.#chain(chainId);
    return Promise.all(chain.nodes.map((node) => this.#check(chain, node)));
  }

  /** The last health check of every node, by chain (nodes never checked are left out). */
  report(): readonly NodeHealth[] {
    return [...this.#chains.values()].flatMap((chain) =>
      chain.nodes.flatMap((node) => (node.health === undefined ? [] : [node.health])),
    );
  }

  /** Releases every provider. */
  close(): void {
    for (const chain of this.#chains.values()) for (const node of chain.nodes) node.provider.destroy();
  }

  #chain(chainId: bigint): ChainNodes {
    const chain = this.#chains.get(chainId);
    if (chain === undefined) {
      throw new UnknownChainError(
        "NODES_UNKNOWN_CHAIN",
        `no node is configured for chain ${chainId}; configured chains: ${this.chainIds.join(", ") || "none"}`,
        { chainId: chainId.toString() },
      );
    }
    return chain;
  }

  /** The first node that passes, made current. */
  async #pick(chain: ChainNodes): Promise<Node> {
    chain.current = undefined;
    const failures: string[] = [];
    for (const node of chain.nodes) {
      const health = await this.#check(chain, node);
      if (health.healthy) {
        chain.current = { node, checkedAt: health.checkedAt };
        return node;
      }
      failures.push(`${health.node}: ${health.reason}`);
    }
    throw new NoHealthyNodeError(
      "NODES_NONE_HEALTHY",
      `no healthy node for chain ${chain.chainId}: ${failures.join("; ")}`,
      { chainId: chain.chainId.toString(), failures },
    );
  }

  async #check(chain: ChainNodes, node: Node): Promise<NodeHealth> {
    const origin = originOf(node.url);
    const verdict = (healthy: boolean, reason: string | null, blockNumber: number | null): NodeHealth =>
      (node.health = {
        chainId: chain.chainId,
        node: origin,
        healthy,
        reason,
        blockNumber,
        checkedAt: this.#clock.now(),
      });
    let chainId: bigint;
    try {
      chainId = await probeChainId(node.url, this.#timeoutMs);
    } catch (error) {
      return verdict(false, messageOf(error), null);
    }
    if (chainId !== chain.chainId) return verdict(false, `answers chain id ${chainId}, not ${chain.chainId}`, null);
    try {
      const blockNumber = await withTimeout(node.provider.getBlockNumber(), this.#timeoutMs);
      return verdict(true, null, blockNumber);
    } catch (error) {
      return verdict(false, `cannot read its block number: ${messageOf(error).replaceAll(node.url, origin)}`, null);
    }
  }
}

/** `promise`, or a rejection after `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether `error` says the node failed rather than the chain refused: a
 * network error, a timeout, an HTTP or JSON-RPC server failure, a refused or
 * reset connection. A revert (the chain answered) is never a node failure.
 */
export function isNodeFailure(error: unknown): boolean {
  if (error instanceof BankChainError) return error instanceof NoHealthyNodeError;
  if (revertData(error) !== undefined || hasCode(error, "CALL_EXCEPTION")) return false;
  return ["NETWORK_ERROR", "TIMEOUT", "SERVER_ERROR", "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT"].some((code) =>
    hasCode(error, code),
  );
}

const chainIdText = z
  .string()
  .regex(/^[1-9]\d{0,18}$/, "a chain id must be a whole number from 1, without leading zeros")
  .transform((value) => BigInt(value));
const urlText = z.string().refine((value) => {
  try {
    return /^https?:$/.test(new URL(value).protocol);
  } catch {
    return false;
  }
}, "a node must be an http(s) URL");

/** What `INTEROP_NODES` looks like: `<chain id>=<url>[,<url>…][;<chain id>=…]`. */
export const NODE_LIST_PATTERN = /^\s*\d+\s*=\s*\S+(\s*;\s*\d+\s*=\s*\S+)*\s*;?\s*$/;

/**
 * Parses a node list, `4242=http://127.0.0.1:8545,http://127.0.0.1:8546;4343=http://…`:
 * chain ids separated by `;`, each chain's URLs by `,`, in order of preference.
 *
 * @throws NodeConfigError naming the chain and the position (never a URL: it may carry a secret)
 */
export function parseNodeList(text: string): Map<bigint, string[]> {
  const nodes = new Map<bigint, string[]>();
  const entries = text
    .split(";")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  for (const [index, entry] of entries.entries()) {
    const equals = entry.indexOf("=");
    const chain = chainIdText.safeParse(equals < 0 ? entry : entry.slice(0, equals).trim());
    if (equals < 0 || !chain.success) {
      throw new NodeConfigError(
        "NODES_BAD_ENTRY",
        `entry ${index + 1} of the node list must be <chain id>=<url>[,<url>…]` +
          (chain.success ? "" : `: ${chain.error.issues[0]!.message}`),
        { entry: index + 1 },
      );
    }
    if (nodes.has(chain.data)) {
      throw new NodeConfigError("NODES_DUPLICATE_CHAIN", `chain ${chain.data} is listed twice in the node list`, {
        chainId: chain.data.toString(),
      });
    }
    const urls = entry
      .slice(equals + 1)
      .split(",")
      .map((url) => url.trim());
    for (const [position, url] of urls.entries()) {
      const parsed = urlText.safeParse(url);
      if (!parsed.success) {
        throw new NodeConfigError(
          "NODES_BAD_URL",
          `node ${position + 1} of chain ${chain.data} in the node list is not an http(s) URL`,
          { chainId: chain.data.toString(), position: position + 1 },
        );
      }
    }
    nodes.set(chain.data, urls);
  }
  return nodes;
}
