/**
 * Offline payments: the OfflineVault on the USD BankToken, its risk limits set
 * at deployment and the risk-admin role given to bank A (ROLE_PLAN), the issuing bank that
 * sets them (docs/offline.md). On the `npm start` devnet a demo buyer (the devnet's
 * account 19) gets a balance from bank A and locks part of it in the vault.
 */
import { BankToken__factory, OfflineVault__factory } from "../typechain-types/index.js";
import { artifacts, deployScript } from "../rocketh/deploy.js";
import { adminDelay, seedsDemo, DEVNET_OFFLINE_BUYER, DEVNET_OFFLINE_LIMITS } from "./_config.js";
import { devnetAccounts, ensure, ensurePaidIn, ethersFor, grantPlanned, keepDeployed } from "./_ethers.js";

export default deployScript(
  async (env) => {
    const { deploy, namedAccounts: accounts } = env;
    const chainId = env.network.chain.id;
    const { provider, signer } = ethersFor(env);
    const deployed = await deploy(
      "OfflineVault",
      {
        account: accounts.deployer,
        artifact: artifacts.OfflineVault,
        args: [accounts.admin, adminDelay(chainId), env.get("BankToken").address, DEVNET_OFFLINE_LIMITS],
      },
      keepDeployed(env),
    );
    await grantPlanned(env, "OfflineVault");
    const vault = OfflineVault__factory.connect(deployed.address, await signer(accounts.bankA));
    if (!seedsDemo(env)) return;

    const buyer = (await devnetAccounts(provider))[DEVNET_OFFLINE_BUYER.accountIndex]!;
    await ensurePaidIn(env, {
      what: "demo offline buyer",
      to: buyer,
      amount: DEVNET_OFFLINE_BUYER.balance,
      ref: "offline/buyer",
    });
    const asBuyer = vault.connect(await signer(buyer));
    const token = BankToken__factory.connect(env.get("BankToken").address, await signer(buyer));
    await ensure(
      "BankToken: demo buyer lets the OfflineVault pull its lock",
      async () => (await vault.lockedOf(buyer)) > 0n || (await token.allowance(buyer, deployed.address)) > 0n,
      () => token.approve(deployed.address, DEVNET_OFFLINE_BUYER.locked),
    );
    await ensure(
      "OfflineVault: demo buyer locked funds for offline spending",
      async () => (await vault.lockedOf(buyer)) > 0n,
      () => asBuyer.deposit(DEVNET_OFFLINE_BUYER.locked),
    );
  },
  { tags: ["offline"], dependencies: ["money"] },
);
