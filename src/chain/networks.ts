/**
 * The networks bank-chain knows, as data. `hardhat.config.ts` turns this table
 * into Hardhat network entries, and `src/chain/config.ts` into providers for
 * the services and the CLI, so both read the same names.
 *
 * Secrets are never in this file: an `http` network names configuration
 * variables, which Hardhat resolves from the encrypted keystore
 * (`npx hardhat keystore set NAME`) or, failing that, from the environment.
 */

/** Host and port of the local devnet (Anvil, run by `npm start`), overridable by env. */
export const DEFAULT_DEVNET_HOST = "127.0.0.1";
export const DEFAULT_DEVNET_PORT = 8545;
/** Chain id of Hardhat's in-process network and of the `npm start` devnet. */
export const DEVNET_CHAIN_ID = 31337;
/**
 * Chain id of the devnet's second chain (network `localhostB`), which `npm
 * start` runs beside the first so that the interop lane has another chain to
 * cross to. Same accounts, its own state and deployments.
 */
export const DEVNET_PEER_CHAIN_ID = 31338;

/** Whether `chainId` is one of the devnet's (the in-process chain or `npm start`'s two), where some defaults differ. */
export function isDevnet(chainId: bigint | number): boolean {
  const id = BigInt(chainId);
  return id === BigInt(DEVNET_CHAIN_ID) || id === BigInt(DEVNET_PEER_CHAIN_ID);
}

export interface DevnetEndpoint {
  readonly host: string;
  readonly port: number;
  readonly url: string;
}

/**
 * One duty, one named account, one key. The deploy scripts give each duty its
 * roles (the plan is `src/chain/roles.ts`); on the devnet a duty is the node's
 * unlocked account at `devnetIndex`, on a remote network the key in its own
 * configuration variable (`keyVariable`).
 */
export interface Duty {
  /** The named account (rocketh's `namedAccounts`). */
  readonly name: string;
  /** Index among the devnet's (and the in-process chain's) unlocked accounts. */
  readonly devnetIndex: number;
  /** What the duty does, for the docs and the role check. */
  readonly description: string;
}

/**
 * Every duty, in the order a remote network's keys are listed. Devnet indexes
 * 9 to 19 are left to customers, demo cardholders and the demo offline buyer,
 * so the duties added later take indexes from 20 up.
 */
export const DUTIES = [
  { name: "deployer", devnetIndex: 0, description: "sends the deployment transactions; holds no role afterwards" },
  {
    name: "admin",
    devnetIndex: 20,
    description: "default admin of every contract: grants and revokes roles (two-step handover)",
  },
  {
    name: "issuanceAdmin",
    devnetIndex: 21,
    description: "configures the token's minters and the reserve ledger's issuers",
  },
  {
    name: "schemeAdmin",
    devnetIndex: 22,
    description:
      "registers banks and corridors on the settlement, bill definitions on the registry, the certificate schema and scoring models, and the checkout's currencies, tokens and price feeds",
  },
  { name: "bankA", devnetIndex: 1, description: "bank A's agent; card ledger admin and treasurer; offline risk admin" },
  { name: "bankB", devnetIndex: 2, description: "bank B's agent" },
  { name: "attestor", devnetIndex: 3, description: "attests the banks' fiat reserves" },
  { name: "pauser", devnetIndex: 4, description: "pauses and unpauses the token; pauses interop routes and gateways" },
  { name: "compliance", devnetIndex: 5, description: "freezes, unfreezes and wipes frozen balances" },
  { name: "rescuer", devnetIndex: 6, description: "rescues ERC-20s sent to the token by mistake" },
  { name: "upgrader", devnetIndex: 7, description: "upgrades the token implementation" },
  { name: "gateway", devnetIndex: 8, description: "the card gateway's key on bank A's AccountLedger" },
  {
    name: "interopAdmin",
    devnetIndex: 23,
    description:
      "registers chains, routes, bridges and their limits; sets the gateways' attesters and counterparts, the lanes' links and the interop gateway's assets",
  },
  {
    name: "relayer",
    devnetIndex: 24,
    description: "submits users' signed interop transactions, delivers attested messages and refunds expired ones",
  },
  { name: "attester1", devnetIndex: 25, description: "first of the three attesters that sign cross-chain messages" },
  { name: "attester2", devnetIndex: 26, description: "second of the three attesters that sign cross-chain messages" },
  { name: "attester3", devnetIndex: 27, description: "third of the three attesters that sign cross-chain messages" },
  { name: "fxQuoter", devnetIndex: 28, description: "signs the exchange rates the interop gateway exchanges at" },
  {
    name: "certIssuer",
    devnetIndex: 29,
    description: "issues trust certificates: attests them in EAS and signs their X.509 twins",
  },
  {
    name: "rewardsAdmin",
    devnetIndex: 30,
    description: "sets the content-reward oracles and their threshold on the RewardDistributor",
  },
  {
    name: "registrar",
    devnetIndex: 31,
    description: "registers producers' accounts on the RewardDistributor, and the venues, devices and content counted",
  },
  { name: "rewardsOracle1", devnetIndex: 32, description: "first of the three reward oracles; receipts the evidence" },
  { name: "rewardsOracle2", devnetIndex: 33, description: "second of the three reward oracles that sign epoch roots" },
  { name: "rewardsOracle3", devnetIndex: 34, description: "third of the three reward oracles that sign epoch roots" },
  {
    name: "checkoutOperator",
    devnetIndex: 35,
    description: "signs checkout quotes and captures against retailers' receipts; voids and refunds checkout payments",
  },
] as const satisfies readonly Duty[];

export type DutyName = (typeof DUTIES)[number]["name"];

/** How many unlocked accounts the devnet and the in-process chain have: every duty's index fits. */
export const DEVNET_ACCOUNT_COUNT = 36;

/** Gas policy of a network whose fees are set by its operators rather than a market. */
export interface FixedGas {
  /** The chain's base fee per gas (wei): zero on a consortium chain. */
  readonly baseFeePerGas: bigint;
  /** The one price (wei per gas) every transaction pays. */
  readonly gasPrice: bigint;
}

export interface RemoteNetworkDefinition {
  /** What this network is, for `--help` and error messages. */
  readonly description: string;
  /** Configuration variable that holds the JSON-RPC URL. */
  readonly urlVariable: string;
  /** Prefix of the key variables: `<PREFIX>_<DUTY>_KEY`, one per duty (see `keyVariables`). */
  readonly keyPrefix: string;
  /** The chain id the node must answer; a node with another one is refused. */
  readonly chainId: number;
  /** A fixed gas price instead of the node's fee estimates (a consortium chain). */
  readonly gas?: FixedGas;
}

/**
 * Remote networks, reached by configuration alone. Each one needs its URL and
 * one key per duty set (keystore or environment) before use; until then it
 * fails with a one-line message that names the missing variable.
 */
export const REMOTE_NETWORKS = {
  consortium: {
    description: "a bank consortium's permissioned EVM chain (Besu QBFT, networks/besu-qbft/)",
    urlVariable: "CONSORTIUM_RPC_URL",
    keyPrefix: "CONSORTIUM",
    chainId: 4242,
    // A free-gas network: zero base fee and a zero gas price; permissioning, not fees, keeps strangers off.
    gas: { baseFeePerGas: 0n, gasPrice: 0n },
  },
  sepolia: {
    description: "the Ethereum Sepolia testnet",
    urlVariable: "SEPOLIA_RPC_URL",
    keyPrefix: "SEPOLIA",
    chainId: 11_155_111,
  },
} as const satisfies Record<string, RemoteNetworkDefinition>;

export type RemoteNetworkName = keyof typeof REMOTE_NETWORKS;

/** `issuanceAdmin` → `ISSUANCE_ADMIN`, `bankA` → `BANK_A`. */
export function constantCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

/** The configuration variable holding a duty's key on a remote network: `CONSORTIUM_BANK_A_KEY`. */
export function keyVariable(definition: Pick<RemoteNetworkDefinition, "keyPrefix">, duty: string): string {
  return `${definition.keyPrefix}_${constantCase(duty)}_KEY`;
}

/** A remote network's key variables, in `DUTIES` order (the order of its Hardhat `accounts`). */
export function keyVariables(definition: Pick<RemoteNetworkDefinition, "keyPrefix">): string[] {
  return DUTIES.map((duty) => keyVariable(definition, duty.name));
}

/** Every network name the project accepts. `hardhat` is the in-process chain. */
export const NETWORK_NAMES = [
  "hardhat",
  "localhost",
  "localhostB",
  ...Object.keys(REMOTE_NETWORKS),
] as readonly string[];

export function isRemoteNetwork(name: string): name is RemoteNetworkName {
  return Object.hasOwn(REMOTE_NETWORKS, name);
}

/**
 * The devnet endpoint from `BANK_CHAIN_RPC_HOST` / `BANK_CHAIN_RPC_PORT`.
 * Throws a plain Error naming the variable when one is malformed; callers wrap
 * it in their own error type.
 */
export function devnetEndpoint(env: Readonly<Record<string, string | undefined>> = process.env): DevnetEndpoint {
  const host = env.BANK_CHAIN_RPC_HOST?.trim() || DEFAULT_DEVNET_HOST;
  const rawPort = env.BANK_CHAIN_RPC_PORT?.trim();
  let port = DEFAULT_DEVNET_PORT;
  if (rawPort !== undefined && rawPort !== "") {
    if (!/^\d+$/.test(rawPort) || Number(rawPort) < 1 || Number(rawPort) > 65535) {
      throw new Error(`BANK_CHAIN_RPC_PORT must be a port number from 1 to 65535, got "${rawPort}"`);
    }
    port = Number(rawPort);
  }
  if (!/^[A-Za-z0-9.\-:[\]]+$/.test(host)) {
    throw new Error(`BANK_CHAIN_RPC_HOST must be a host name or IP address, got "${host}"`);
  }
  return endpointOf(host, port);
}

/**
 * The devnet's second chain (network `localhostB`): the first one's host, and
 * `BANK_CHAIN_PEER_RPC_PORT` or the first one's port + 1.
 */
export function devnetPeerEndpoint(env: Readonly<Record<string, string | undefined>> = process.env): DevnetEndpoint {
  const first = devnetEndpoint(env);
  const rawPort = env.BANK_CHAIN_PEER_RPC_PORT?.trim();
  if (rawPort === undefined || rawPort === "") {
    if (first.port === 65535) throw new Error("BANK_CHAIN_PEER_RPC_PORT must be set when BANK_CHAIN_RPC_PORT is 65535");
    return endpointOf(first.host, first.port + 1);
  }
  if (!/^\d+$/.test(rawPort) || Number(rawPort) < 1 || Number(rawPort) > 65535) {
    throw new Error(`BANK_CHAIN_PEER_RPC_PORT must be a port number from 1 to 65535, got "${rawPort}"`);
  }
  if (Number(rawPort) === first.port) {
    throw new Error(`BANK_CHAIN_PEER_RPC_PORT must differ from the first chain's port ${first.port}`);
  }
  return endpointOf(first.host, Number(rawPort));
}

function endpointOf(host: string, port: number): DevnetEndpoint {
  const urlHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return { host, port, url: `http://${urlHost}:${port}` };
}
