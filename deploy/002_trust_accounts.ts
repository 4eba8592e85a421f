/**
 * Settlement, first half: a TrustAccount for each devnet bank (A and B). Each
 * trust account is a minter on the token and an issuer in the reserve ledger
 * (both set by the `issuanceAdmin` duty); the bank's agent gets the depositor
 * and operator roles on its own account (ROLE_PLAN, granted by `admin`).
 * On the devnet the attestor also attests each bank's opening reserve.
 */
import { BankToken__factory, ReserveLedger__factory } from "../typechain-types/index.js";
import { artifacts, deployScript } from "../rocketh/deploy.js";
import { adminDelay, DEVNET_BANK, RESERVE_MAX_AGE } from "./_config.js";
import { ensure, ethersFor, grantPlanned, keepDeployed } from "./_ethers.js";
import { isDevnet } from "../src/chain/networks.js";

export default deployScript(
  async (env) => {
    const { deploy, namedAccounts: accounts } = env;
    const chainId = env.network.chain.id;
    const { provider, signer } = ethersFor(env);
    const issuance = await signer(accounts.issuanceAdmin);
    const token = BankToken__factory.connect(env.get("BankToken").address, issuance);
    const reserves = ReserveLedger__factory.connect(env.get("ReserveLedger").address, issuance);

    for (const bank of ["BankA", "BankB"] as const) {
      const deployed = await deploy(
        `TrustAccount${bank}`,
        {
          account: accounts.deployer,
          artifact: artifacts.TrustAccount,
          args: [accounts.admin, adminDelay(chainId), token.target as `0x${string}`],
        },
        keepDeployed(env),
      );
      await grantPlanned(env, `TrustAccount${bank}`);
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
