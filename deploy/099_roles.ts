/**
 * After everything is deployed: the role table read back from the chain and
 * held to ROLE_PLAN (src/chain/roles.ts), the same check `bank-chain roles`
 * makes. A deploy that leaves a role with a holder the plan does not name (the
 * deployer, say), a planned grant missing, two duties on one account or a
 * default-admin handover pending fails here, naming each.
 */
import { getAddress } from "ethers";

import { fromDeployments } from "../src/chain/deployments.js";
import { DUTIES } from "../src/chain/networks.js";
import { PRIVILEGE_PLAN, readRoleTable, ROLE_PLAN } from "../src/chain/roles.js";
import { deployScript } from "../rocketh/deploy.js";
import { ethersFor } from "./_ethers.js";

export default deployScript(
  async (env) => {
    // Every contract the plans name, and the token's implementation (the check compares the proxy's with it).
    const names = new Set([
      ...ROLE_PLAN.map((entry) => entry.contract),
      ...PRIVILEGE_PLAN.map((entry) => entry.contract),
      "BankToken_Implementation",
    ]);
    const deployed = Object.fromEntries([...names].map((name) => [name, env.getOrNull(name)]));
    const duties = new Map(DUTIES.map(({ name }) => [name, getAddress(env.namedAccounts[name])] as const));
    const { provider } = ethersFor(env);
    const table = await readRoleTable(
      provider,
      fromDeployments(env.name, BigInt(env.network.chain.id), deployed),
      duties,
    );
    if (table.problems.length > 0) {
      throw new Error(
        `the roles on chain depart from the plan: ${table.problems.map((problem) => problem.message).join("; ")}`,
      );
    }
    console.log(`  - roles: ${table.rows.length} grants on chain, each to its planned holder; the deployer holds none`);
  },
  {
    tags: ["roles"],
    dependencies: ["money", "settlement", "bills", "cards", "offline", "interop", "certificates", "rewards"],
  },
);
