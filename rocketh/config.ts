/**
 * rocketh configuration for hardhat-deploy 2: the named accounts every deploy
 * script uses, and the extensions they get. Each named account is one duty of
 * `DUTIES` (src/chain/networks.ts): on the devnet and the in-process chain the
 * node's unlocked account at the duty's devnet index, on a remote network the
 * key in the duty's own configuration variable (`CONSORTIUM_BANK_A_KEY`, …),
 * which Hardhat lists in DUTIES order. The roles each duty gets are
 * `ROLE_PLAN` (src/chain/roles.ts).
 */
import type { UserConfig } from "rocketh/types";
import * as deployExtension from "@rocketh/deploy";

import { deploymentsRoot } from "../src/chain/deployments.js";
import { DEVNET_PEER_CHAIN_ID, DUTIES, REMOTE_NETWORKS, type DutyName } from "../src/chain/networks.js";

/**
 * `{ default: <devnet index>, consortium: <position>, sepolia: <position> }` per duty. rocketh reads a
 * per-network index with `||`, so a position of 0 falls back to `default`: only the deployer, whose
 * devnet index is 0 too, may be first.
 */
function namedAccounts(): Record<DutyName, Record<string, number>> {
  if (DUTIES[0].devnetIndex !== 0) throw new Error("DUTIES: the first duty must have devnet index 0");
  return Object.fromEntries(
    DUTIES.map(({ name, devnetIndex }, position) => [
      name,
      {
        default: devnetIndex,
        ...Object.fromEntries(Object.keys(REMOTE_NETWORKS).map((network) => [network, position])),
      },
    ]),
  ) as unknown as Record<DutyName, Record<string, number>>;
}

/** rocketh's record of each chain it deploys to; a consortium chain has no public record. */
const chainInfo = (id: number, name: string, rpc: string) => ({
  info: {
    id,
    name,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpc] } },
  },
});

export const config = {
  accounts: namedAccounts(),
  data: {},
  deployments: deploymentsRoot(),
  chains: {
    // The in-process chain and the devnet; rocketh has no public record of chain 31337.
    31337: {
      info: {
        id: 31337,
        name: "bank-chain devnet",
        nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
        rpcUrls: { default: { http: ["http://127.0.0.1:8545"] } },
      },
    },
    // The devnet's second chain (network localhostB).
    [DEVNET_PEER_CHAIN_ID]: chainInfo(DEVNET_PEER_CHAIN_ID, "bank-chain devnet B", "http://127.0.0.1:8546"),
    // The URL is a placeholder: hardhat-deploy reaches the chain through Hardhat's network entry.
    [REMOTE_NETWORKS.consortium.chainId]: chainInfo(
      REMOTE_NETWORKS.consortium.chainId,
      "bank-chain consortium",
      "http://127.0.0.1:8545",
    ),
  },
} as const satisfies UserConfig;

const extensions = { ...deployExtension };
export { extensions };

export type Extensions = typeof extensions;
export type Accounts = typeof config.accounts;
export type Data = typeof config.data;
