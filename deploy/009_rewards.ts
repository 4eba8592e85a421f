/**
 * Content rewards (docs/rewards.md): the RewardDistributor on the USD BankToken, its epoch clock starting at the
 * deployment (genesis = the deploying block's time, rounded down to a whole epoch), its roles granted by ROLE_PLAN,
 * and the three reward oracles set with a threshold of two by `rewardsAdmin`.
 *
 * On the `npm start` devnet a demo sponsor (account 18) is paid in by bank A and funds a campaign on the demo
 * terms (the simulated venue's content, src/rewards/simulator.ts), and the registrar registers the accounts of
 * the two demo producers (accounts 16 and 17).
 */
import { getAddress } from "ethers";

import { BankToken__factory, RewardDistributor__factory } from "../typechain-types/index.js";
import { artifacts, deployScript } from "../rocketh/deploy.js";
import { producerIdOf } from "../src/rewards/registry.js";
import { DEMO_CAMPAIGN_SALT, DEMO_TERMS } from "../src/rewards/simulator.js";
import { termsHash } from "../src/rewards/oracle.js";
import { isDevnet } from "../src/chain/networks.js";
import { adminDelay, DEVNET_REWARDS_DEMO, REWARDS, seedsDemo } from "./_config.js";
import { ensure, ensurePaidIn, ethersFor, grantPlanned, keepDeployed } from "./_ethers.js";

export default deployScript(
  async (env) => {
    const { deploy, namedAccounts: accounts } = env;
    const chainId = env.network.chain.id;
    const { provider, signer } = ethersFor(env);
    const clock = isDevnet(chainId) ? REWARDS.devnet : REWARDS.elsewhere;
    // The epoch clock starts at the first deployment; a later run (a restart of the devnet) passes the same
    // genesis, so the same constructor arguments keep the deployed distributor (the devnet redeploys what changed).
    const previous = env.getOrNull("RewardDistributor");
    const latest = await provider.getBlock("latest");
    const genesis =
      previous !== null && (await provider.getCode(previous.address)) !== "0x"
        ? await RewardDistributor__factory.connect(previous.address, provider).genesis()
        : BigInt(latest!.timestamp) - (BigInt(latest!.timestamp) % BigInt(clock.epochLength));
    const deployed = await deploy(
      "RewardDistributor",
      {
        account: accounts.deployer,
        artifact: artifacts.RewardDistributor,
        args: [
          env.get("BankToken").address,
          accounts.admin,
          adminDelay(chainId),
          genesis,
          BigInt(clock.epochLength),
          BigInt(clock.challengeWindow),
        ],
      },
      keepDeployed(env),
    );
    await grantPlanned(env, "RewardDistributor");

    const oracles = [accounts.rewardsOracle1, accounts.rewardsOracle2, accounts.rewardsOracle3]
      .map((account) => getAddress(account))
      .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    const asAdmin = RewardDistributor__factory.connect(deployed.address, await signer(accounts.rewardsAdmin));
    await ensure(
      `RewardDistributor: oracles ${oracles.join(", ")}, ${REWARDS.threshold} of ${oracles.length} sign a root`,
      async () => {
        const [current, threshold] = await Promise.all([asAdmin.oracles(), asAdmin.threshold()]);
        return threshold === BigInt(REWARDS.threshold) && current.join() === oracles.join();
      },
      () => asAdmin.setOracles(oracles, REWARDS.threshold),
    );
    if (!seedsDemo(env)) return;

    const wallets = (await provider.send("eth_accounts", [])) as string[];
    const asRegistrar = asAdmin.connect(await signer(accounts.registrar));
    for (const producer of DEVNET_REWARDS_DEMO.producers) {
      const account = getAddress(wallets[producer.accountIndex]!);
      const id = producerIdOf(producer.id);
      await ensure(
        `RewardDistributor: demo producer ${producer.id} paid at ${account}`,
        async () => (await asAdmin.producerAccountOf(id)) === account,
        () => asRegistrar.registerProducer(id, account),
      );
    }

    const sponsor = getAddress(wallets[DEVNET_REWARDS_DEMO.sponsorIndex]!);
    await ensurePaidIn(env, {
      what: "demo rewards sponsor",
      to: sponsor,
      amount: DEVNET_REWARDS_DEMO.balance,
      ref: "rewards/sponsor",
    });
    const asSponsor = asAdmin.connect(await signer(sponsor));
    const campaignId = await asSponsor.campaignIdOf(sponsor, DEMO_CAMPAIGN_SALT);
    const exists = async () => (await asSponsor.campaignOf(campaignId)).sponsor !== "0x" + "0".repeat(40);
    const funds = DEVNET_REWARDS_DEMO.budgetPerEpoch * BigInt(DEVNET_REWARDS_DEMO.epochs);
    const token = BankToken__factory.connect(env.get("BankToken").address, await signer(sponsor));
    await ensure(
      "BankToken: demo sponsor lets the RewardDistributor pull its campaign",
      async () => (await exists()) || (await token.allowance(sponsor, deployed.address)) >= funds,
      () => token.approve(deployed.address, funds),
    );
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    const epoch = await asSponsor.epochOf(now);
    const last = epoch + BigInt(DEVNET_REWARDS_DEMO.epochs) - 1n;
    await ensure(
      `RewardDistributor: demo campaign ${campaignId}, ${DEVNET_REWARDS_DEMO.budgetPerEpoch} an epoch`,
      exists,
      async () =>
        asSponsor.createCampaign(
          DEMO_CAMPAIGN_SALT,
          DEVNET_REWARDS_DEMO.budgetPerEpoch,
          epoch,
          last,
          (await asSponsor.epochEnd(last)) + BigInt(clock.challengeWindow) + 7n * 24n * 3_600n,
          termsHash(DEMO_TERMS),
          funds,
        ),
    );
  },
  { tags: ["rewards"], dependencies: ["money"] },
);
