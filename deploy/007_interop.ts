/**
 * Interop (docs/interop.md): on each chain the ChainRegistry (this chain registered), the BridgeRegistry, the
 * AttestedGateway (two of the three attester duties' keys sign), the BurnMintLane for the USD BankToken (a
 * minter of the token and a bridge account of the ReserveLedger) and the InteropGateway (the lane's router,
 * the token an allowed asset). Links to other chains come after both sides are deployed (`linkPeer` in
 * deploy/_interop.ts: `npm start` links the devnet's two chains).
 */
import { getAddress } from "ethers";

import {
  AttestedGateway__factory,
  BankToken__factory,
  ChainRegistry__factory,
  InteropGateway__factory,
  ReserveLedger__factory,
} from "../typechain-types/index.js";
import { artifacts, deployScript } from "../rocketh/deploy.js";
import { adminDelay, INTEROP } from "./_config.js";
import { ensure, ethersFor, grantPlanned, keepDeployed } from "./_ethers.js";
import { caip2 } from "./_interop.js";

export default deployScript(
  async (env) => {
    const { deploy, namedAccounts: accounts } = env;
    const chainId = env.network.chain.id;
    const delay = adminDelay(chainId);
    const { signer } = ethersFor(env);
    const token = env.get("BankToken").address;

    const chainRegistry = await deploy(
      "ChainRegistry",
      { account: accounts.deployer, artifact: artifacts.ChainRegistry, args: [accounts.admin, delay] },
      keepDeployed(env),
    );
    const bridgeRegistry = await deploy(
      "BridgeRegistry",
      {
        account: accounts.deployer,
        artifact: artifacts.BridgeRegistry,
        args: [accounts.admin, delay, chainRegistry.address],
      },
      keepDeployed(env),
    );
    const gateway = await deploy(
      "AttestedGateway",
      {
        account: accounts.deployer,
        artifact: artifacts.AttestedGateway,
        args: [accounts.admin, delay, BigInt(INTEROP.defaultTtl), BigInt(INTEROP.refundDelay), INTEROP.minDeliveryGas],
      },
      keepDeployed(env),
    );
    const lane = await deploy(
      "BurnMintLane",
      {
        account: accounts.deployer,
        artifact: artifacts.BurnMintLane,
        args: [accounts.admin, delay, token, gateway.address, bridgeRegistry.address],
      },
      keepDeployed(env),
    );
    const router = await deploy(
      "InteropGateway",
      {
        account: accounts.deployer,
        artifact: artifacts.InteropGateway,
        args: [accounts.admin, delay, chainRegistry.address, bridgeRegistry.address],
      },
      keepDeployed(env),
    );
    for (const name of ["ChainRegistry", "BridgeRegistry", "AttestedGateway", "BurnMintLane", "InteropGateway"]) {
      await grantPlanned(env, name);
    }

    const interopAdmin = await signer(accounts.interopAdmin);
    const chains = ChainRegistry__factory.connect(chainRegistry.address, interopAdmin);
    await ensure(
      `ChainRegistry: this chain (${caip2(BigInt(chainId))}) registered`,
      () => chains.isRegistered(chainId),
      () => chains.registerChain(chainId, caip2(BigInt(chainId)), true),
    );
    const attesters = [accounts.attester1, accounts.attester2, accounts.attester3]
      .map((address) => getAddress(address))
      .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    const messages = AttestedGateway__factory.connect(gateway.address, interopAdmin);
    await ensure(
      `AttestedGateway: attesters ${attesters.join(", ")}, ${INTEROP.attesterThreshold} to sign`,
      async () => {
        const [set, threshold] = await messages.attesters();
        return (
          Number(threshold) === INTEROP.attesterThreshold &&
          set.map((address) => getAddress(address)).join() === attesters.join()
        );
      },
      () => messages.setAttesterSet(attesters, INTEROP.attesterThreshold),
    );
    const gatewayAdmin = InteropGateway__factory.connect(router.address, interopAdmin);
    await ensure(
      "InteropGateway: the USD BankToken an allowed asset",
      () => gatewayAdmin.isAssetAllowed(token),
      () => gatewayAdmin.setAsset(token, true),
    );

    const issuanceAdmin = await signer(accounts.issuanceAdmin);
    const money = BankToken__factory.connect(token, issuanceAdmin);
    await ensure(
      `BankToken: BurnMintLane a minter (allowance ${INTEROP.laneMinterAllowance})`,
      () => money.isMinter(lane.address),
      () => money.configureMinter(lane.address, INTEROP.laneMinterAllowance),
    );
    const ledger = ReserveLedger__factory.connect(env.get("ReserveLedger").address, issuanceAdmin);
    await ensure(
      `ReserveLedger: BurnMintLane a bridge account (net import at most ${INTEROP.laneMaxNetImport})`,
      async () => (await ledger.bridges()).some((bridge) => getAddress(bridge) === getAddress(lane.address)),
      () => ledger.registerBridge(lane.address, INTEROP.laneMaxNetImport),
    );
  },
  { tags: ["interop"], dependencies: ["money"] },
);
