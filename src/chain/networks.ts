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

/** Whether `chainId` is the devnet's (the in-process chain or `npm start`'s), where some defaults differ. */
export function isDevnet(chainId: bigint | number): boolean {
  return BigInt(chainId) === BigInt(DEVNET_CHAIN_ID);
}

export interface DevnetEndpoint {
  readonly host: string;
  readonly port: number;
  readonly url: string;
}

export interface RemoteNetworkDefinition {
  /** What this network is, for `--help` and error messages. */
  readonly description: string;
  /** Configuration variable that holds the JSON-RPC URL. */
  readonly urlVariable: string;
  /** Configuration variables holding the private keys, in named-account order. */
  readonly keyVariables: readonly string[];
}

/**
 * Remote networks, reached by configuration alone. Each one needs its URL and
 * keys set (keystore or environment) before use; until then it fails with a
 * message that names the missing variable.
 */
export const REMOTE_NETWORKS = {
  consortium: {
    description: "a bank consortium's permissioned EVM chain (Besu/QBFT or similar)",
    urlVariable: "CONSORTIUM_RPC_URL",
    keyVariables: ["CONSORTIUM_DEPLOYER_KEY"],
  },
  sepolia: {
    description: "the Ethereum Sepolia testnet",
    urlVariable: "SEPOLIA_RPC_URL",
    keyVariables: ["SEPOLIA_DEPLOYER_KEY"],
  },
} as const satisfies Record<string, RemoteNetworkDefinition>;

export type RemoteNetworkName = keyof typeof REMOTE_NETWORKS;

/** Every network name the project accepts. `hardhat` is the in-process chain. */
export const NETWORK_NAMES = ["hardhat", "localhost", ...Object.keys(REMOTE_NETWORKS)] as readonly string[];

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
  const urlHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return { host, port, url: `http://${urlHost}:${port}` };
}
