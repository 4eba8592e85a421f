/**
 * rocketh configuration for hardhat-deploy 2: the named accounts every deploy
 * script uses, and the extensions they get. On the devnet the accounts are the
 * node's unlocked test accounts by index; on a remote network every role falls
 * back to the one deployer key unless more keys are configured.
 */
import type { UserConfig } from "rocketh/types";
import * as deployExtension from "@rocketh/deploy";

import { deploymentsRoot } from "../src/chain/deployments.js";

export const config = {
  accounts: {
    /** Deploys, and holds the admin roles until they are handed over. */
    deployer: { default: 0 },
    /** Bank A's operator: its agent mints for deposits and confirms redemptions. */
    bankA: { default: 1, consortium: 0, sepolia: 0 },
    /** Bank B's operator. */
    bankB: { default: 2, consortium: 0, sepolia: 0 },
    /** Attests the banks' fiat reserves (an auditor or the banks' custodian). */
    attestor: { default: 3, consortium: 0, sepolia: 0 },
  },
  data: {},
  deployments: deploymentsRoot(),
} as const satisfies UserConfig;

const extensions = { ...deployExtension };
export { extensions };

export type Extensions = typeof extensions;
export type Accounts = typeof config.accounts;
export type Data = typeof config.data;
