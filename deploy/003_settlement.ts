/**
 * Settlement, second half: the InterbankSettlement between the devnet banks.
 * The contract is a zero-allowance minter of the token (it only burns) and a
 * registered but deactivated issuer of the reserve ledger (it never mints)
 * holding the ledger's SETTLEMENT_ROLE, so that a payment smelted by bank B
 * moves bank A's outstanding issuance into B's claim on A. Each trust account
 * gives it SETTLEMENT_ROLE (mint into the settlement, burn returned payments);
 * each bank is registered with its agent; both corridors are opened.
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
import { ensure, ethersFor } from "./_ethers.js";

export default deployScript(
  async (env) => {
    const { deploy, namedAccounts: accounts } = env;
    const chainId = env.network.chain.id;
    const { signer } = ethersFor(env);
    const admin = await signer(accounts.deployer);
    const token = BankToken__factory.connect(env.get("BankToken").address, admin);
    const reserves = ReserveLedger__factory.connect(env.get("ReserveLedger").address, admin);

    const deployed = await deploy("InterbankSettlement", {
      account: accounts.deployer,
      artifact: artifacts.InterbankSettlement,
      args: [accounts.deployer, adminDelay(chainId), token.target as `0x${string}`, reserves.target as `0x${string}`],
    });
    const address = deployed.address;
    const settlement = InterbankSettlement__factory.connect(address, admin);

    for (const [name, role] of [
      ["BANK_ADMIN_ROLE", await settlement.BANK_ADMIN_ROLE()],
      ["CORRIDOR_ADMIN_ROLE", await settlement.CORRIDOR_ADMIN_ROLE()],
    ] as const) {
      await ensure(
        `InterbankSettlement: ${name} to ${accounts.deployer}`,
        () => settlement.hasRole(role, accounts.deployer),
        () => settlement.grantRole(role, accounts.deployer),
      );
    }
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
    const ledgerRole = await reserves.SETTLEMENT_ROLE();
    await ensure(
      "ReserveLedger: SETTLEMENT_ROLE to InterbankSettlement",
      () => reserves.hasRole(ledgerRole, address),
      () => reserves.grantRole(ledgerRole, address),
    );

    const banks = [
      ["BankA", accounts.bankA],
      ["BankB", accounts.bankB],
    ] as const;
    for (const [bank, agent] of banks) {
      const trust = TrustAccount__factory.connect(env.get(`TrustAccount${bank}`).address, admin);
      const role = await trust.SETTLEMENT_ROLE();
      await ensure(
        `TrustAccount${bank}: SETTLEMENT_ROLE to InterbankSettlement`,
        () => trust.hasRole(role, address),
        () => trust.grantRole(role, address),
      );
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
