/**
 * Money: the USD BankToken behind an ERC-1967 proxy and the ReserveLedger that
 * gates its issuance, with each token role given to the account for that duty.
 */
import { getAddress, hexlify, toUtf8Bytes, ZeroAddress } from "ethers";

import { BankToken__factory, ReserveLedger__factory } from "../typechain-types/index.js";
import { artifacts, deployScript } from "../rocketh/deploy.js";
import { adminDelay, USD } from "./_config.js";
import { ensure, ethersFor } from "./_ethers.js";

export default deployScript(
  async (env) => {
    const { deploy, namedAccounts: accounts } = env;
    const chainId = env.network.chain.id;
    const { signer } = ethersFor(env);
    const admin = await signer(accounts.deployer);

    const implementation = await deploy("BankToken_Implementation", {
      account: accounts.deployer,
      artifact: artifacts.BankToken,
      args: [],
    });
    const initialize = BankToken__factory.createInterface().encodeFunctionData("initialize", [
      USD.name,
      USD.symbol,
      hexlify(toUtf8Bytes(USD.currency)),
      USD.decimals,
      USD.supplyCap,
      ZeroAddress, // the gate is set once the ledger, which names the token, exists
      accounts.deployer,
      adminDelay(chainId),
    ]);
    const proxy = await deploy("BankToken_Proxy", {
      account: accounts.deployer,
      artifact: artifacts.ERC1967Proxy,
      args: [implementation.address, initialize as `0x${string}`],
    });
    // Services and tests address the token through the proxy with the token's ABI.
    await env.save("BankToken", { ...proxy, abi: implementation.abi }, { doNotCountAsNewDeployment: true });

    const ledger = await deploy("ReserveLedger", {
      account: accounts.deployer,
      artifact: artifacts.ReserveLedger,
      args: [accounts.deployer, adminDelay(chainId), proxy.address, USD.decimals],
    });

    const token = BankToken__factory.connect(proxy.address, admin);
    const reserves = ReserveLedger__factory.connect(ledger.address, admin);

    await ensure(
      "BankToken: issuance gated by ReserveLedger",
      async () => getAddress(await token.issuanceGate()) === getAddress(ledger.address),
      () => token.setIssuanceGate(ledger.address),
    );
    const roles: Array<[string, Promise<string>, string]> = [
      ["MINTER_ADMIN_ROLE", token.MINTER_ADMIN_ROLE(), accounts.deployer],
      ["PAUSER_ROLE", token.PAUSER_ROLE(), accounts.pauser],
      ["COMPLIANCE_ROLE", token.COMPLIANCE_ROLE(), accounts.compliance],
      ["RESCUER_ROLE", token.RESCUER_ROLE(), accounts.rescuer],
      ["UPGRADER_ROLE", token.UPGRADER_ROLE(), accounts.upgrader],
    ];
    for (const [name, rolePromise, holder] of roles) {
      const role = await rolePromise;
      await ensure(
        `BankToken: ${name} to ${holder}`,
        () => token.hasRole(role, holder),
        () => token.grantRole(role, holder),
      );
    }
    for (const [name, rolePromise, holder] of [
      ["RESERVE_ADMIN_ROLE", reserves.RESERVE_ADMIN_ROLE(), accounts.deployer],
      ["ATTESTOR_ROLE", reserves.ATTESTOR_ROLE(), accounts.attestor],
    ] as const) {
      const role = await rolePromise;
      await ensure(
        `ReserveLedger: ${name} to ${holder}`,
        () => reserves.hasRole(role, holder),
        () => reserves.grantRole(role, holder),
      );
    }
  },
  { tags: ["money"] },
);
