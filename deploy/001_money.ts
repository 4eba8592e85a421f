/**
 * Money: the USD BankToken behind an ERC-1967 proxy and the ReserveLedger that
 * gates its issuance. The `admin` duty is each contract's default admin from
 * its constructor and grants the other roles as ROLE_PLAN says; the deployer
 * only sends the deployment transactions and holds no role.
 */
import { getAddress, hexlify, toUtf8Bytes, ZeroAddress } from "ethers";

import { BankToken__factory } from "../typechain-types/index.js";
import { artifacts, deployScript } from "../rocketh/deploy.js";
import { adminDelay, USD } from "./_config.js";
import { ensure, ethersFor, grantPlanned, keepDeployed } from "./_ethers.js";

export default deployScript(
  async (env) => {
    const { deploy, namedAccounts: accounts } = env;
    const chainId = env.network.chain.id;
    const { signer } = ethersFor(env);
    const admin = await signer(accounts.admin);

    const implementation = await deploy(
      "BankToken_Implementation",
      {
        account: accounts.deployer,
        artifact: artifacts.BankToken,
        args: [],
      },
      keepDeployed(env),
    );
    const initialize = BankToken__factory.createInterface().encodeFunctionData("initialize", [
      USD.name,
      USD.symbol,
      hexlify(toUtf8Bytes(USD.currency)),
      USD.decimals,
      USD.supplyCap,
      ZeroAddress, // the gate is set once the ledger, which names the token, exists
      accounts.admin,
      adminDelay(chainId),
    ]);
    const proxy = await deploy(
      "BankToken_Proxy",
      {
        account: accounts.deployer,
        artifact: artifacts.ERC1967Proxy,
        args: [implementation.address, initialize as `0x${string}`],
      },
      keepDeployed(env),
    );
    // Services and tests address the token through the proxy with the token's ABI.
    await env.save("BankToken", { ...proxy, abi: implementation.abi }, { doNotCountAsNewDeployment: true });

    const ledger = await deploy(
      "ReserveLedger",
      {
        account: accounts.deployer,
        artifact: artifacts.ReserveLedger,
        args: [accounts.admin, adminDelay(chainId), proxy.address, USD.decimals],
      },
      keepDeployed(env),
    );

    const token = BankToken__factory.connect(proxy.address, admin);
    await ensure(
      "BankToken: issuance gated by ReserveLedger",
      async () => getAddress(await token.issuanceGate()) === getAddress(ledger.address),
      () => token.setIssuanceGate(ledger.address),
    );
    await grantPlanned(env, "BankToken");
    await grantPlanned(env, "ReserveLedger");
  },
  { tags: ["money"] },
);
