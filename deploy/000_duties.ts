/**
 * Before anything is deployed: every duty (src/chain/networks.ts DUTIES) must
 * have its own account. On a remote network each comes from its own
 * configuration variable, and two variables holding one key would give one
 * holder two duties (the deployer keeping the admin's roles, say), so the
 * deploy stops and names both.
 */
import { getAddress } from "ethers";

import { deployScript } from "../rocketh/deploy.js";
import { DUTIES, keyVariable, REMOTE_NETWORKS, isRemoteNetwork } from "../src/chain/networks.js";

export default deployScript(
  async (env) => {
    const seen = new Map<string, string>();
    for (const { name } of DUTIES) {
      const address = getAddress(env.namedAccounts[name]);
      const other = seen.get(address);
      if (other !== undefined) {
        const where = isRemoteNetwork(env.name)
          ? ` (${keyVariable(REMOTE_NETWORKS[env.name], other)} and ${keyVariable(REMOTE_NETWORKS[env.name], name)} hold the same key)`
          : "";
        throw new Error(
          `duties ${other} and ${name} share one account ${address}${where}; each duty needs its own key`,
        );
      }
      seen.set(address, name);
    }
  },
  { tags: ["duties"] },
);
