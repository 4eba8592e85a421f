/**
 * The interop services as services for `npm start` (see `src/services.ts`):
 * the API gateway (`interop-api`), three attesters (`interop-attester-1..3`)
 * and the relayer (`interop-relayer`). Each works between the context's chain
 * and the other chains the runner opened (`peers`), each keeps its own
 * SQLite file under the context's data folder, and each reaches the chains
 * through its own `NodeDirectory`: the nodes in `INTEROP_NODES`, or else the
 * runner's connection URL of each chain. Attester `n` reads, for each chain,
 * the nodes `INTEROP_ATTESTER_<n>_NODES` names for it first (it signs only
 * what all of them agree on; attesters that share a node share its lies).
 *
 * Keys: the relayer (API gateway and relayer: it pays for `execute`,
 * `deliver`, `retry`, `refund`) and each attester are duties
 * (`src/chain/networks.ts`): on the devnet the public test mnemonic's account
 * at the duty's index, elsewhere the duty's configured key. An attester's key
 * only signs, so it needs no funds.
 *
 * Contracts: `AttestedGateway` on every chain; `InteropGateway` on every chain
 * whose payloads the API gateway submits.
 *
 * Environment: `INTEROP_SETTINGS` below (docs/operations.md).
 */
import { HDNodeWallet, Wallet, type Signer } from "ethers";

import type { ChainConnection } from "../chain/config.js";
import type { Deployments } from "../chain/deployments.js";
import { DUTIES, isDevnet, isRemoteNetwork, REMOTE_NETWORKS, type DutyName, type FixedGas } from "../chain/networks.js";
import { PUBLIC_TEST_MNEMONIC } from "../chain/published-keys.js";
import {
  openDeploymentStore,
  serviceOwningStore,
  type Service,
  type ServiceContext,
  type ServiceFactory,
} from "../chain/service.js";
import { int, settingsSchema, text } from "../chain/settings.js";
import { ApiGateway } from "./api-gateway.js";
import { Attester } from "./attester.js";
import { checkChains, InteropConfigError, type InteropChain } from "./chains.js";
import { NODE_LIST_PATTERN, NodeDirectory, parseNodeList } from "./nodes.js";
import { Relayer } from "./relayer.js";
import { SignedSender } from "./sender.js";

export const DEFAULT_INTEROP_API_PORT = 8620;
export const DEFAULT_ATTESTER_PORTS = [8621, 8622, 8623] as const;
export const DEFAULT_RELAYER_PORT = 8624;
export type AttesterNumber = 1 | 2 | 3;

/** `INTEROP_ATTESTER_<n>_NODES` for n = 1..3. */
function attesterNodeSettings() {
  const setting = (n: AttesterNumber) =>
    text(
      `JSON-RPC nodes of attester ${n} per chain, all of which must agree (default: INTEROP_NODES, the runner's)`,
      "<chain id>=<url>[,<url>…][;<chain id>=…]",
      NODE_LIST_PATTERN,
      "",
      { required: false },
    );
  return {
    INTEROP_ATTESTER_1_NODES: setting(1),
    INTEROP_ATTESTER_2_NODES: setting(2),
    INTEROP_ATTESTER_3_NODES: setting(3),
  };
}

/** The interop services' environment. */
export const INTEROP_SETTINGS = settingsSchema("interop-api, interop-attester-1..3, interop-relayer", {
  INTEROP_API_PORT: int(
    "port of the interop API gateway on 127.0.0.1 (0 picks a free one)",
    DEFAULT_INTEROP_API_PORT,
    0,
    65_535,
  ),
  INTEROP_ATTESTER_1_PORT: int("port of attester 1's API on 127.0.0.1", DEFAULT_ATTESTER_PORTS[0], 0, 65_535),
  INTEROP_ATTESTER_2_PORT: int("port of attester 2's API on 127.0.0.1", DEFAULT_ATTESTER_PORTS[1], 0, 65_535),
  INTEROP_ATTESTER_3_PORT: int("port of attester 3's API on 127.0.0.1", DEFAULT_ATTESTER_PORTS[2], 0, 65_535),
  INTEROP_RELAYER_PORT: int(
    "port of the relayer's status API on 127.0.0.1 (0 picks a free one)",
    DEFAULT_RELAYER_PORT,
    0,
    65_535,
  ),
  INTEROP_ATTESTER_CONFIRMATIONS: int(
    "blocks on top of a MessagePosted before an attester signs it (the source burn's finality)",
    { devnet: 0, elsewhere: 2 },
    0,
    10_000,
  ),
  INTEROP_RELAYER_CONFIRMATIONS: int(
    "blocks on top of a MessagePosted before the relayer picks it up (the attesters wait for finality)",
    0,
    0,
    10_000,
  ),
  INTEROP_API_BATCH: int(
    "most accepted payloads the interop API gateway sends in one InteropGateway executeBatch (1: one execute each)",
    32,
    1,
    64,
  ),
  INTEROP_POLL_MS: int("pause between two rounds of each interop service when idle (ms)", 250, 1, 60_000),
  INTEROP_NODE_TIMEOUT_MS: int("how long a node may take to answer a health check (ms)", 2_000, 50, 60_000),
  INTEROP_NODES: text(
    "JSON-RPC nodes per chain, most preferred first (default: the runner's node of each chain)",
    "<chain id>=<url>[,<url>…][;<chain id>=…]",
    NODE_LIST_PATTERN,
    "",
    { required: false },
  ),
  ...attesterNodeSettings(),
  INTEROP_ATTESTER_URLS: text(
    "the attesters the relayer asks, comma-separated base URLs (default: the three local attesters)",
    "http(s) URLs separated by commas",
    /^https?:\/\/[^\s,]+(,\s*https?:\/\/[^\s,]+)*$/,
    "",
    { required: false },
  ),
  INTEROP_RELAYER_BATCH: int(
    "most messages the relayer delivers to one chain in one deliverBatch (one ready alone goes at once with deliver)",
    32,
    1,
    64,
  ),
  INTEROP_RETRY_MAX_MS: int(
    "longest pause between two deliveries of a message whose recipient failed (ms; it doubles from 1 s)",
    60_000,
    1_000,
    3_600_000,
  ),
});

type InteropSettings = ReturnType<typeof INTEROP_SETTINGS.read>;

/** Another chain the runner opened, with what was deployed there. */
export interface InteropPeer {
  readonly chain: ChainConnection;
  readonly deployments: Deployments;
}

export interface InteropServiceOptions {
  /** The chains beside the context's own, as the runner opened them (asked when the service is created). */
  readonly peers: () => readonly InteropPeer[];
  /** Environment for ports and tuning (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** What every interop service builds first: settings, chains, nodes. */
interface Setup {
  readonly settings: InteropSettings;
  readonly chains: readonly InteropChain[];
  readonly nodes: NodeDirectory;
  readonly devnet: boolean;
  readonly connections: readonly ChainConnection[];
}

/**
 * The node list of each chain of `all`: the first of `lists` that names the chain (node list texts, "" for
 * none), else the chain's runner URL.
 *
 * @throws InteropConfigError for a chain none names and the runner has no URL for
 */
export function nodeListOf(
  all: readonly Pick<ChainConnection, "chainId" | "network" | "url">[],
  lists: readonly string[],
): Map<bigint, string[]> {
  const parsed = lists.filter((text) => text !== "").map((text) => parseNodeList(text));
  const nodeList = new Map<bigint, string[]>();
  for (const chain of all) {
    const urls =
      parsed.map((list) => list.get(chain.chainId)).find((found) => found !== undefined) ??
      (chain.url === undefined ? undefined : [chain.url]);
    if (urls === undefined) {
      throw new InteropConfigError(
        "INTEROP_NO_NODE",
        `chain ${chain.chainId} (${chain.network}) has no JSON-RPC node: set INTEROP_NODES`,
        { chainId: chain.chainId.toString() },
      );
    }
    nodeList.set(chain.chainId, urls);
  }
  return nodeList;
}

function setup(
  context: ServiceContext,
  options: InteropServiceOptions,
  confirmations: "attester" | "relayer",
  /** Attester n: its own node list comes first. */
  attester?: AttesterNumber,
): Setup {
  const env = options.env ?? process.env;
  const all: InteropPeer[] = [{ chain: context.chain, deployments: context.deployments }, ...options.peers()];
  const devnet = all.every((peer) => isDevnet(peer.chain.chainId));
  const settings = INTEROP_SETTINGS.read(env, { devnet });
  const depth =
    confirmations === "attester" ? settings.INTEROP_ATTESTER_CONFIRMATIONS : settings.INTEROP_RELAYER_CONFIRMATIONS;
  const nodeList = nodeListOf(
    all.map((peer) => peer.chain),
    [attester === undefined ? "" : settings[`INTEROP_ATTESTER_${attester}_NODES`], settings.INTEROP_NODES],
  );
  // A remote network's fixed gas policy (a consortium chain) applies to the interop services' transactions too.
  const gas = new Map<bigint, FixedGas>();
  for (const { chain } of all) {
    const definition = isRemoteNetwork(chain.network) ? REMOTE_NETWORKS[chain.network] : undefined;
    if (definition !== undefined && "gas" in definition) gas.set(chain.chainId, definition.gas);
  }
  const nodes = new NodeDirectory({ nodes: nodeList, timeoutMs: settings.INTEROP_NODE_TIMEOUT_MS, gas });
  try {
    const chains = checkChains(
      all.map(({ chain, deployments }) => {
        const gateway = deployments.get("AttestedGateway");
        return {
          chainId: chain.chainId,
          attestedGateway: gateway.address,
          interopGateway: deployments.contracts.get("InteropGateway")?.address,
          fromBlock: gateway.blockNumber ?? 0,
          confirmations: depth,
        };
      }),
      nodes,
    );
    return { settings, chains, nodes, devnet, connections: all.map((peer) => peer.chain) };
  } catch (error) {
    nodes.close();
    throw error;
  }
}

/**
 * A duty's key as a `Wallet`: on the devnet the public test mnemonic's account
 * at the duty's index; elsewhere the key the chain connection holds for it.
 */
export async function dutyWallet(chain: ChainConnection, duty: DutyName, devnet: boolean): Promise<Wallet> {
  const index = DUTIES.findIndex((entry) => entry.name === duty);
  const entry = DUTIES[index]!;
  if (devnet) {
    const node = HDNodeWallet.fromPhrase(PUBLIC_TEST_MNEMONIC, undefined, `m/44'/60'/0'/0/${entry.devnetIndex}`);
    return new Wallet(node.privateKey);
  }
  const signers: Signer[] = await chain.getSigners();
  const signer = signers[index];
  if (!(signer instanceof Wallet)) {
    throw new InteropConfigError(
      "INTEROP_KEY_MISSING",
      `the interop services need the ${duty} duty's key on network ${chain.network}; configure it`,
      { duty, network: chain.network },
    );
  }
  return new Wallet(signer.privateKey);
}

/** `service`, closing the node directory once it stops or fails to start. */
function withNodes(nodes: NodeDirectory, service: Service): Service {
  return {
    name: service.name,
    get url() {
      return service.url ?? "";
    },
    async start() {
      try {
        await service.start();
      } catch (error) {
        nodes.close();
        throw error;
      }
    },
    async stop() {
      try {
        await service.stop();
      } finally {
        nodes.close();
      }
    },
  };
}

/** The API gateway: `POST /transactions`, `GET /transactions/:id`. Needs the InteropGateway on the chains it serves. */
export function interopApiService(options: InteropServiceOptions): ServiceFactory {
  const name = "interop-api";
  return {
    name,
    async create(context: ServiceContext): Promise<Service> {
      const { settings, chains, nodes, devnet, connections } = setup(context, options, "relayer");
      try {
        if (chains.every((chain) => chain.interopGateway === undefined)) {
          throw new InteropConfigError("INTEROP_NO_GATEWAY", "no chain has an InteropGateway deployed");
        }
        const key = await dutyWallet(connections[0]!, "relayer", devnet);
        const store = await openDeploymentStore(context, name, "AttestedGateway");
        return withNodes(
          nodes,
          serviceOwningStore(name, store, () => {
            const gateway = new ApiGateway({
              store,
              nodes,
              chains,
              sender: new SignedSender({ nodes, signer: key }),
              port: settings.INTEROP_API_PORT,
              batchSize: settings.INTEROP_API_BATCH,
              pollIntervalMs: settings.INTEROP_POLL_MS,
              log: context.log,
            });
            return { url: () => gateway.url, start: () => gateway.start(), stop: () => gateway.stop() };
          }),
        );
      } catch (error) {
        nodes.close();
        throw error;
      }
    },
  };
}

/** Attester `n` (1 to 3): follows every chain's `MessagePosted` and serves `GET /attestations/:messageId`. */
export function interopAttesterService(n: AttesterNumber, options: InteropServiceOptions): ServiceFactory {
  const name = `interop-attester-${n}`;
  return {
    name,
    async create(context: ServiceContext): Promise<Service> {
      const { settings, chains, nodes, devnet, connections } = setup(context, options, "attester", n);
      try {
        const key = await dutyWallet(connections[0]!, `attester${n}`, devnet);
        const store = await openDeploymentStore(context, name, "AttestedGateway");
        return withNodes(
          nodes,
          serviceOwningStore(name, store, () => {
            const attester = new Attester({
              name,
              key,
              store,
              nodes,
              chains,
              port: settings[`INTEROP_ATTESTER_${n}_PORT`],
              pollIntervalMs: settings.INTEROP_POLL_MS,
              log: context.log,
            });
            return { url: () => attester.url, start: () => attester.start(), stop: () => attester.stop() };
          }),
        );
      } catch (error) {
        nodes.close();
        throw error;
      }
    },
  };
}

/** The relayer: delivers attested messages, retries failed ones, refunds expired ones; `GET /messages/:id`. */
export function interopRelayerService(
  options: InteropServiceOptions,
  /** The URLs of the attesters started in the same runner, asked when `INTEROP_ATTESTER_URLS` is empty. */
  localAttesters?: () => readonly string[],
): ServiceFactory {
  const name = "interop-relayer";
  return {
    name,
    async create(context: ServiceContext): Promise<Service> {
      const { settings, chains, nodes, devnet, connections } = setup(context, options, "relayer");
      try {
        const key = await dutyWallet(connections[0]!, "relayer", devnet);
        const attesters =
          settings.INTEROP_ATTESTER_URLS !== ""
            ? settings.INTEROP_ATTESTER_URLS.split(",").map((url) => url.trim())
            : (localAttesters?.() ??
              ([1, 2, 3] as const).map((i) => `http://127.0.0.1:${settings[`INTEROP_ATTESTER_${i}_PORT`]}`));
        const store = await openDeploymentStore(context, name, "AttestedGateway");
        return withNodes(
          nodes,
          serviceOwningStore(name, store, () => {
            const relayer = new Relayer({
              name,
              store,
              nodes,
              chains,
              sender: new SignedSender({ nodes, signer: key }),
              attesters,
              pollIntervalMs: settings.INTEROP_POLL_MS,
              retry: { baseMs: 1_000, maxMs: settings.INTEROP_RETRY_MAX_MS, factor: 2 },
              deliveryBatch: settings.INTEROP_RELAYER_BATCH,
              port: settings.INTEROP_RELAYER_PORT,
              log: context.log,
            });
            return { url: () => relayer.url, start: () => relayer.start(), stop: () => relayer.stop() };
          }),
        );
      } catch (error) {
        nodes.close();
        throw error;
      }
    },
  };
}

/** Every interop service, in start order: attesters first (the relayer asks them), the relayer, the API gateway. */
export function interopServices(options: InteropServiceOptions): ServiceFactory[] {
  // The attesters start first, each on its port (0: one the OS picks); the relayer asks them where they listen.
  const attesters: Service[] = [];
  const remembered = (factory: ServiceFactory): ServiceFactory => ({
    name: factory.name,
    async create(context) {
      const service = await factory.create(context);
      attesters.push(service);
      return service;
    },
  });
  return [
    remembered(interopAttesterService(1, options)),
    remembered(interopAttesterService(2, options)),
    remembered(interopAttesterService(3, options)),
    interopRelayerService(options, () => attesters.map((service) => service.url ?? "")),
    interopApiService(options),
  ];
}
