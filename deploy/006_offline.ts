/**
 * Offline payments: the OfflineVault on the USD BankToken, its risk limits set
 * at deployment and the risk-admin role given to bank A, the issuing bank that
 * sets them (docs/offline.md).
 */
import { OfflineVault__factory } from "../typechain-types/index.js";
import { artifacts, deployScript } from "../rocketh/deploy.js";
import { adminDelay, DEVNET_OFFLINE_LIMITS } from "./_config.js";
import { ensure, ethersFor } from "./_ethers.js";

export default deployScript(
  async (env) => {
    const { deploy, namedAccounts: accounts } = env;
    const chainId = env.network.chain.id;
    const { signer } = ethersFor(env);
    const deployed = await deploy("OfflineVault", {
      account: accounts.deployer,
      artifact: artifacts.OfflineVault,
      args: [accounts.deployer, adminDelay(chainId), env.get("BankToken").address, DEVNET_OFFLINE_LIMITS],
    });
    const vault = OfflineVault__factory.connect(deployed.address, await signer(accounts.deployer));
    const role = await vault.RISK_ADMIN_ROLE();
    await ensure(
      `OfflineVault: RISK_ADMIN_ROLE to bank A ${accounts.bankA}`,
      () => vault.hasRole(role, accounts.bankA),
      () => vault.grantRole(role, accounts.bankA),
    );
  },
  { tags: ["offline"], dependencies: ["money"] },
);
