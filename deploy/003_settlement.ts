/**
 * Settlement, second half: the InterbankSettlement between the devnet banks.
 * The contract is a zero-allowance minter of the token (it only burns) and a
 * registered but deactivated issuer of the reserve ledger (it never mints)
 * holding the ledger's SETTLEMENT_ROLE, so that a payment smelted by bank B
 * moves bank A's outstanding issuance into B's claim on A. Each trust account
 * gives it SETTLEMENT_ROLE (mint into the settlement, burn returned payments);
 * each bank is registered with its agent and both corridors are opened by the
 * `schemeAdmin` duty. Roles as ROLE_PLAN says, granted by `admin`.
 */
import { getAddress } from "ethers";

import {
  BankToken__factory,
  InterbankSettlement__factory,
  ReserveLedger__factory,
  TrustAccount__factory,
} from "../typechain-types/index.js";
import { artifacts, deployScript } from "../rocketh/deploy.js";
import { adminDelay, DEVNET_CORRIDOR, RESERVE_MAX_AGE } from "./_config.js";
import { ensure, ethersFor, grantPlanned, keepDeployed } from "./_ethers.js";

export default deployScript(
  async (env) => {
    const { deploy, namedAccounts: accounts } = env;
    const chainId = env.network.chain.id;
    const { signer } = ethersFor(env);
    const issuance = await signer(accounts.issuanceAdmin);
    const token = BankToken__factory.connect(env.get("BankToken").address, issuance);
    const reserves = ReserveLedger__factory.connect(env.get("ReserveLedger").address, issuance);

    const deployed = await deploy(
      "InterbankSettlement",
      {
        account: accounts.deployer,
        artifact: artifacts.InterbankSettlement,
        args: [accounts.admin, adminDelay(chainId), token.target as `0x${string}`, reserves.target as `0x${string}`],
      },
      keepDeployed(env),
    );
    const address = deployed.address;
    const settlement = InterbankSettlement__factory.connect(address, await signer(accounts.schemeAdmin));
    await grantPlanned(env, "InterbankSettlement");

    await ensure(
      "BankToken: InterbankSettlement is a minter with a zero allowance (it only burns)",
      () => token.isMinter(address),
      () => token.configureMinter(address, 0n),
    );
    await ensure(
      "ReserveLedger: InterbankSettlement is an issuer",
      async () => (await reserves.issuers()).some((a) => getAddress(a) === getAddress(address)),
      // Full ratio and the usual max age: irrelevant, since it is deactivated next and never mints.
      () => reserves.registerIssuer(address, 10_000, RESERVE_MAX_AGE),
    );
    await ensure(
      "ReserveLedger: InterbankSettlement deactivated (it may burn, never mint)",
      async () => !(await reserves.issuer(address)).active,
      () => reserves.deactivateIssuer(address),
    );
    // The grants to InterbankSettlement that waited for it to exist.
    await grantPlanned(env, "ReserveLedger");

    const banks = [
      ["BankA", accounts.bankA],
      ["BankB", accounts.bankB],
    ] as const;
    for (const [bank, agent] of banks) {
      const trust = TrustAccount__factory.connect(env.get(`TrustAccount${bank}`).address, issuance);
      await grantPlanned(env, `TrustAccount${bank}`);
      await ensure(
        `InterbankSettlement: TrustAccount${bank} registered, agent ${agent}`,
        async () => getAddress(await settlement.agentOf(trust.target as string)) === getAddress(agent),
        async () =>
          (await settlement.agentOf(trust.target as string)) === "0x0000000000000000000000000000000000000000"
            ? settlement.registerBank(trust.target as string, agent)
            : settlement.setBankAgent(trust.target as string, agent),
      );
    }

    const { inFlightCap, windowCap, windowLength } = DEVNET_CORRIDOR;
    for (const [from, to] of [
      ["BankA", "BankB"],
      ["BankB", "BankA"],
    ] as const) {
      const debtor = env.get(`TrustAccount${from}`).address;
      const creditor = env.get(`TrustAccount${to}`).address;
      await ensure(
        `InterbankSettlement: corridor ${from} → ${to} open`,
        async () => {
          const c = await settlement.corridor(debtor, creditor);
          return (
            c.open &&
            c.inFlightCap === inFlightCap &&
            c.windowCap === windowCap &&
            c.windowLength === BigInt(windowLength)
          );
        },
        () => settlement.setCorridorLimits(debtor, creditor, inFlightCap, windowCap, windowLength),
      );
    }
  },
  { tags: ["settlement"], dependencies: ["money"] },
);
