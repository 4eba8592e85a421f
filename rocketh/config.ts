/**
 * rocketh configuration for hardhat-deploy 2: the named accounts every deploy
 * script uses, and the extensions they get. On the devnet the accounts are the
 * node's unlocked test accounts by index, one per duty; on a remote network
 * every duty falls back to the one deployer key until more keys are configured
 * (and the roles handed to the banks' own keys, see docs/token.md).
 */
import type { UserConfig } from "rocketh/types";
import * as deployExtension from "@rocketh/deploy";

import { deploymentsRoot } from "../src/chain/deployments.js";

export const config = {
  accounts: {
    /** Deploys, holds DEFAULT_ADMIN_ROLE (two-step handover) and the minter and reserve admin roles. */
    deployer: { default: 0 },
    /** Bank A's agent: deposits and redemptions on bank A's trust account. */
    bankA: { default: 1, consortium: 0, sepolia: 0 },
    /** Bank B's agent. */
    bankB: { default: 2, consortium: 0, sepolia: 0 },
    /** Attests the banks' fiat reserves (an auditor or the custodian of the trust accounts). */
    attestor: { default: 3, consortium: 0, sepolia: 0 },
    /** May pause and unpause the token. */
    pauser: { default: 4, consortium: 0, sepolia: 0 },
    /** Freezes, unfreezes and wipes frozen balances. */
    compliance: { default: 5, consortium: 0, sepolia: 0 },
    /** Rescues ERC-20s sent to the token by mistake. */
    rescuer: { default: 6, consortium: 0, sepolia: 0 },
    /** Upgrades the token implementation. */
    upgrader: { default: 7, consortium: 0, sepolia: 0 },
    /** The card gateway: posts card operations to bank A's AccountLedger. */
    gateway: { default: 8, consortium: 0, sepolia: 0 },
  },
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
  },
} as const satisfies UserConfig;

const extensions = { ...deployExtension };
export { extensions };

export type Extensions = typeof extensions;
export type Accounts = typeof config.accounts;
export type Data = typeof config.data;
