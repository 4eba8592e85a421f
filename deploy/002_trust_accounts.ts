/**
 * Settlement, first half: a TrustAccount for each devnet bank (A and B). Each
 * trust account is a minter on the token and an issuer in the reserve ledger;
 * the bank's agent gets the depositor and operator roles on its own account.
 * On the devnet the attestor also attests each bank's opening reserve.
 */
import { BankToken__factory, ReserveLedger__factory, TrustAccount__factory } from "../typechain-types/index.js";
import { artifacts, deployScript } from "../rocketh/deploy.js";
import { adminDelay, DEVNET_BANK, RESERVE_MAX_AGE } from "./_config.js";
import { ensure, ethersFor } from "./_ethers.js";
import { isDevnet } from "../src/chain/networks.js";

export default deployScript(
  async (env) => {
    const { deploy, namedAccounts: accounts } = env;
    const chainId = env.network.chain.id;
    const { provider, signer } = ethersFor(env);
    const admin = await signer(accounts.deployer);
    const token = BankToken__factory.connect(env.get("BankToken").address, admin);
    const reserves = ReserveLedger__factory.connect(env.get("ReserveLedger").address, admin);

    for (const [bank, agent] of [
      ["BankA", accounts.bankA],
      ["BankB", accounts.bankB],
    ] as const) {
      const deployed = await deploy(`TrustAccount${bank}`, {
        account: accounts.deployer,
        artifact: artifacts.TrustAccount,
        args: [accounts.deployer, adminDelay(chainId), token.target as `0x${string}`],
      });
      const trust = TrustAccount__factory.connect(deployed.address, admin);
      for (const [name, role] of [
        ["DEPOSITOR_ROLE", await trust.DEPOSITOR_ROLE()],
        ["OPERATOR_ROLE", await trust.OPERATOR_ROLE()],
      ] as const) {
        await ensure(
          `TrustAccount${bank}: ${name} to ${agent}`,
          () => trust.hasRole(role, agent),
          () => trust.grantRole(role, agent),
        );
      }
      await ensure(
        `BankToken: TrustAccount${bank} is a minter`,
        () => token.isMinter(deployed.address),
        () => token.configureMinter(deployed.address, DEVNET_BANK.minterAllowance),
      );
      await ensure(
        `ReserveLedger: TrustAccount${bank} is an issuer`,
        async () => (await reserves.issuers()).some((a) => a.toLowerCase() === deployed.address.toLowerCase()),
        () => reserves.registerIssuer(deployed.address, DEVNET_BANK.reserveRatioBps, RESERVE_MAX_AGE),
      );
      if (isDevnet(chainId)) {
        const attestor = reserves.connect(await signer(accounts.attestor));
        const now = BigInt((await provider.getBlock("latest"))!.timestamp);
        await ensure(
          `ReserveLedger: opening reserve of TrustAccount${bank} attested`,
          () => reserves.isFresh(deployed.address),
          () => attestor.attestReserve(deployed.address, DEVNET_BANK.attestedReserve, now),
        );
      }
    }
  },
  { tags: ["settlement"], dependencies: ["money"] },
);
