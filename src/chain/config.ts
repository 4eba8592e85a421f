import {
  FeeData,
  FetchRequest,
  JsonRpcProvider,
  Network,
  Wallet,
  type JsonRpcApiProviderOptions,
  type Provider,
  type Signer,
} from "ethers";

import { BankChainError, messageOf } from "../errors.js";
import {
  DEVNET_CHAIN_ID,
  devnetEndpoint,
  devnetPeerEndpoint,
  DEVNET_PEER_CHAIN_ID,
  isRemoteNetwork,
  keyVariables,
  NETWORK_NAMES,
  REMOTE_NETWORKS,
  type FixedGas,
} from "./networks.js";
import { publishedKeyIndex } from "./published-keys.js";

/** A configuration that cannot work: unknown network, missing key, unreachable RPC. */
export class ChainConfigError extends BankChainError {}

/** How a caller chooses the chain; the first of these that is set wins. */
export interface ChainSelection {
  /** A JSON-RPC URL; signers are then the node's own unlocked accounts. */
  readonly rpc?: string | undefined;
  /** A network name from `src/chain/networks.ts` (`hardhat`, `localhost`, `consortium`, …). */
  readonly network?: string | undefined;
}

export interface ChainOptions extends ChainSelection {
  /** Environment to read defaults from (`BANK_CHAIN_RPC_URL`, `BANK_CHAIN_NETWORK`, devnet host/port). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** How long to wait for the node to answer `eth_chainId`. */
  readonly timeoutMs?: number;
}

/** An open connection to one chain, as the services and the CLI use it. */
export interface ChainConnection {
  /** The network name, or `rpc` when chosen by URL. */
  readonly network: string;
  /**
   * The JSON-RPC URL; undefined for Hardhat's in-process network. It may hold
   * a secret (an API key in its path, a password): show `originOf(url)`.
   */
  readonly url: string | undefined;
  readonly chainId: bigint;
  readonly provider: Provider;
  /** Signers in named-account order: keystore keys, or the node's unlocked accounts. */
  getSigners(): Promise<Signer[]>;
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/** Which network a selection names, after defaults from the environment. */
export function resolveSelection(
  options: ChainOptions,
): { kind: "rpc"; url: string } | { kind: "network"; name: string } {
  const env = options.env ?? process.env;
  const rpc = options.rpc ?? (options.network === undefined ? env.BANK_CHAIN_RPC_URL : undefined);
  if (rpc !== undefined && rpc !== "") return { kind: "rpc", url: checkUrl(rpc, "--rpc") };
  const name = options.network ?? env.BANK_CHAIN_NETWORK ?? "localhost";
  if (!NETWORK_NAMES.includes(name)) {
    throw new ChainConfigError(
      "CONFIG_UNKNOWN_NETWORK",
      `unknown network "${name}"; known networks: ${NETWORK_NAMES.join(", ")} (or pass --rpc <url>)`,
      { network: name },
    );
  }
  return { kind: "network", name };
}

/**
 * Opens the chain a selection names. Named remote networks read their URL and
 * keys through Hardhat's configuration variables (the encrypted keystore, then
 * the environment); `localhost` is the devnet; `hardhat` is the in-process chain.
 *
 * @throws ChainConfigError naming what is wrong; never a raw stack trace.
 */
export async function openChain(options: ChainOptions = {}): Promise<ChainConnection> {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const selection = resolveSelection(options);
  if (selection.kind === "rpc") {
    return openJsonRpc("rpc", selection.url, [], timeoutMs);
  }
  const name = selection.name;
  if (name === "hardhat") return openInProcess();
  if (name === "localhost" || name === "localhostB") {
    let url: string;
    try {
      url = (name === "localhost" ? devnetEndpoint(env) : devnetPeerEndpoint(env)).url;
    } catch (error) {
      throw new ChainConfigError("CONFIG_INVALID_DEVNET", messageOf(error));
    }
    return openJsonRpc(name, url, [], timeoutMs, BigInt(name === "localhost" ? DEVNET_CHAIN_ID : DEVNET_PEER_CHAIN_ID));
  }
  if (!isRemoteNetwork(name)) throw new Error(`unreachable: network ${name}`);
  const definition = REMOTE_NETWORKS[name];
  const { url, keys } = await resolveRemoteSecrets(name, definition.urlVariable, keyVariables(definition));
  return openJsonRpc(
    name,
    url,
    keys,
    timeoutMs,
    BigInt(definition.chainId),
    "gas" in definition ? definition.gas : undefined,
  );
}

/** Reads a remote network's URL and keys through Hardhat's configuration variables. */
async function resolveRemoteSecrets(
  name: string,
  urlVariable: string,
  keyVariables: readonly string[],
): Promise<{ url: string; keys: string[] }> {
  const { default: hre } = await import("hardhat");
  const config = hre.config.networks[name];
  if (config === undefined || config.type !== "http") {
    throw new ChainConfigError(
      "CONFIG_UNKNOWN_NETWORK",
      `network "${name}" is not an http network in hardhat.config.ts`,
      {
        network: name,
      },
    );
  }
  const url = await resolveVariable(urlVariable, () => config.url.getUrl());
  const accounts = config.accounts;
  const keys: string[] = [];
  const missing: string[] = [];
  if (Array.isArray(accounts)) {
    for (const [index, account] of accounts.entries()) {
      const variable = keyVariables[index] ?? `account #${index}`;
      let key: string;
      try {
        key = await resolveVariable(variable, () => account.getHexString());
      } catch (error) {
        if (error instanceof ChainConfigError && error.code === "CONFIG_MISSING_VARIABLE") {
          missing.push(variable);
          continue;
        }
        throw error;
      }
      try {
        new Wallet(key);
      } catch {
        throw new ChainConfigError(
          "CONFIG_INVALID_KEY",
          `configuration variable ${variable} is not a valid secp256k1 private key`,
          { variable },
        );
      }
      const published = publishedKeyIndex(key);
      if (published !== undefined) {
        throw new ChainConfigError(
          "CONFIG_PUBLISHED_KEY",
          `configuration variable ${variable} is the public test mnemonic's account #${published}, which anyone can sign with; give the duty its own key`,
          { variable },
        );
      }
      keys.push(key);
    }
  }
  if (missing.length > 0) {
    // Every missing key at once, never the deployer's key in their place.
    throw new ChainConfigError(
      "CONFIG_MISSING_VARIABLE",
      `network "${name}" needs one key per duty; not set: ${missing.join(", ")} ` +
        `(store each with \`npx hardhat keystore set <NAME>\` or export it)`,
      { network: name, variables: missing },
    );
  }
  return { url, keys };
}

async function resolveVariable(variable: string, read: () => Promise<string>): Promise<string> {
  let value: string;
  let reason = "empty";
  try {
    value = (await read()).trim();
  } catch (error) {
    value = "";
    reason = firstLine(messageOf(error));
  }
  if (value === "" || value === "0x") {
    throw new ChainConfigError(
      "CONFIG_MISSING_VARIABLE",
      `configuration variable ${variable} is not set or not valid: store it with ` +
        `\`npx hardhat keystore set ${variable}\` or export ${variable} (${reason})`,
      { variable },
    );
  }
  return value;
}

async function openJsonRpc(
  network: string,
  url: string,
  keys: readonly string[],
  timeoutMs: number,
  expectedChainId?: bigint,
  gas?: FixedGas,
): Promise<ChainConnection> {
  const chainId = await probeChainId(url, timeoutMs);
  if (expectedChainId !== undefined && chainId !== expectedChainId) {
    throw new ChainConfigError(
      "CONFIG_CHAIN_MISMATCH",
      `the node at ${originOf(url)} answers chain id ${chainId}, but network "${network}" expects ${expectedChainId}`,
      { network, url: originOf(url), chainId: chainId.toString(), expected: expectedChainId.toString() },
    );
  }
  const staticNetwork = Network.from(chainId);
  const providerOptions = { ...JSON_RPC_OPTIONS, staticNetwork, pollingInterval: 500 };
  const request = rpcRequest(url);
  const provider =
    gas === undefined
      ? new JsonRpcProvider(request, staticNetwork, providerOptions)
      : new FixedGasProvider(request, staticNetwork, providerOptions, gas);
  return {
    network,
    url,
    chainId,
    provider,
    async getSigners() {
      if (keys.length > 0) return keys.map((key) => new Wallet(key, provider));
      const accounts = (await provider.send("eth_accounts", [])) as string[];
      return Promise.all(accounts.map((address) => provider.getSigner(address)));
    },
    async close() {
      provider.destroy();
    },
  };
}

/**
 * A provider on a network whose operators fix the gas price (a consortium
 * chain): every transaction the services sign pays exactly that price, never
 * the node's estimate, so a node that suggests a priority fee cannot make an
 * unfunded duty key's transaction fail.
 */
export class FixedGasProvider extends JsonRpcProvider {
  readonly #gas: FixedGas;

  constructor(url: string | FetchRequest, network: Network, options: JsonRpcApiProviderOptions, gas: FixedGas) {
    super(url, network, options);
    this.#gas = gas;
  }

  override async getFeeData(): Promise<FeeData> {
    return new FeeData(this.#gas.gasPrice, this.#gas.baseFeePerGas + this.#gas.gasPrice, this.#gas.gasPrice);
  }
}

async function openInProcess(): Promise<ChainConnection> {
  const { network } = await import("hardhat");
  const connection = await network.create("hardhat");
  const provider = connection.ethers.provider;
  const chainId = (await provider.getNetwork()).chainId;
  return {
    network: "hardhat",
    url: undefined,
    chainId,
    provider,
    getSigners: () => connection.ethers.getSigners(),
    close: () => connection.close(),
  };
}

/**
 * The options of every JSON-RPC provider the services open. No answer cache: ethers repeats an identical
 * call's answer for 250 ms by default, so a wallet sending two transactions within that window would read a
 * stale pending nonce ("nonce too low"). No batches: ethers holds each call up to 10 ms by default to batch it
 * with others, and a service's step is a chain of calls one after the other (a settlement agent's payment alone
 * on the devnet took 473 ms with it, 208 ms without).
 */
export const JSON_RPC_OPTIONS = { cacheTimeout: -1, batchMaxCount: 1 } as const;

/** Asks a node for its chain id, with a deadline, and explains any failure (naming the node by its origin only). */
export async function probeChainId(url: string, timeoutMs: number = DEFAULT_TIMEOUT_MS): Promise<bigint> {
  const shown = originOf(url);
  let response: Response;
  try {
    const { target, authorization } = splitCredentials(url);
    response = await fetch(target, {
      method: "POST",
      headers: { "content-type": "application/json", ...(authorization === undefined ? {} : { authorization }) },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const reason =
      error instanceof Error && error.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : causeOf(error);
    throw new ChainConfigError(
      "CONFIG_RPC_UNREACHABLE",
      `cannot reach the JSON-RPC node at ${shown}: ${reason.replaceAll(url, shown)}`,
      { url: shown },
    );
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new ChainConfigError(
      "CONFIG_RPC_INVALID",
      `the node at ${shown} did not answer JSON-RPC (HTTP ${response.status})`,
      { url: shown, status: response.status },
    );
  }
  const result = (body as { result?: unknown }).result;
  if (typeof result !== "string" || !/^0x[0-9a-fA-F]+$/.test(result)) {
    throw new ChainConfigError("CONFIG_RPC_INVALID", `the node at ${shown} gave no chain id to eth_chainId`, {
      url: shown,
    });
  }
  return BigInt(result);
}

/**
 * A URL as messages and logs may show it: its origin only. An RPC provider's
 * URL often carries a secret (an API key in the path, `user:password@`).
 */
export function originOf(url: string | undefined): string {
  if (url === undefined) return "(in-process)";
  try {
    return new URL(url).origin;
  } catch {
    return "(unparsable URL)";
  }
}

/** The URL without `user:password@`, and those as a Basic Authorization header (fetch refuses them in a URL). */
function splitCredentials(url: string): { target: string; authorization: string | undefined } {
  const parsed = new URL(url);
  if (parsed.username === "" && parsed.password === "") return { target: url, authorization: undefined };
  const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  parsed.username = "";
  parsed.password = "";
  return { target: parsed.href, authorization: `Basic ${Buffer.from(credentials).toString("base64")}` };
}

/**
 * ethers' request to the node. ethers puts the request's URL into the message
 * of every HTTP error (a 429 from a rate-limited provider, say), so the
 * request carries the URL's origin only and the full URL is put back just
 * before the bytes go out.
 */
export function rpcRequest(url: string): FetchRequest {
  const { target, authorization } = splitCredentials(url);
  const request = new FetchRequest(originOf(url));
  if (authorization !== undefined) request.setHeader("authorization", authorization);
  const send = FetchRequest.createGetUrlFunc();
  request.getUrlFunc = (outgoing, signal) => {
    const copy = outgoing.clone();
    copy.url = target;
    return send(copy, signal);
  };
  return request;
}

function checkUrl(value: string, field: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    // Never repeated: a mistyped value may be a secret.
    throw new ChainConfigError(
      "CONFIG_INVALID_URL",
      `${field} must be an http(s) URL, got a value of ${value.length} characters that is not a URL`,
      { field },
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    // Scheme and host only: no credentials, path or query.
    throw new ChainConfigError(
      "CONFIG_INVALID_URL",
      `${field} must be an http(s) URL, got "${parsed.protocol}//${parsed.host}"`,
      { field },
    );
  }
  return value;
}

function causeOf(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? messageOf(error);
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}
