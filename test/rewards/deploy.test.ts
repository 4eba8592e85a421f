/**
 * deploy/009_rewards.ts: the RewardDistributor's epoch clock, oracles and roles, and a re-run after the clock moved
 * on (a devnet restarted in a later epoch) that keeps the distributor and sends nothing.
 */
import { expect } from "chai";
import { getAddress } from "ethers";
import { network } from "hardhat";

import { REWARDS } from "../../deploy/_config.js";
import { RewardDistributor__factory } from "../../typechain-types/index.js";
import { rerunnableDeploy } from "../helpers/suite.js";

describe("deploy: rewards", function () {
  this.timeout(300_000);

  it("keeps the distributor and its epoch clock when the deploy runs again epochs later, sending nothing", async function () {
    const connection = await network.create("hardhat");
    const { run, remove } = rerunnableDeploy(connection, "rewards-rerun");
    try {
      const first = await run();
      const address = first.deployments["RewardDistributor"]!.address;
      const distributor = RewardDistributor__factory.connect(address, connection.ethers.provider);
      const genesis = await distributor.genesis();
      expect(await distributor.epochLength()).to.equal(BigInt(REWARDS.devnet.epochLength));
      expect(await distributor.challengeWindow()).to.equal(BigInt(REWARDS.devnet.challengeWindow));
      expect(await distributor.threshold()).to.equal(BigInt(REWARDS.threshold));
      const oracles = (["rewardsOracle1", "rewardsOracle2", "rewardsOracle3"] as const)
        .map((name) => getAddress(first.namedAccounts[name]!))
        .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      expect(await distributor.oracles()).to.deep.equal(oracles);

      // The devnet comes back three epochs later: the deploy runs again.
      await connection.networkHelpers.time.increase(3 * REWARDS.devnet.epochLength + 1);
      const everyone = (await connection.ethers.getSigners()).map((signer) => signer.address);
      const nonces = () => Promise.all(everyone.map((a) => connection.ethers.provider.getTransactionCount(a)));
      const before = await nonces();
      const second = await run();
      expect(second.deployments["RewardDistributor"]!.address).to.equal(address);
      expect(await nonces(), "the second deploy sent a transaction").to.deep.equal(before);
      expect(await distributor.genesis()).to.equal(genesis);
    } finally {
      remove();
      await connection.close();
    }
  });
});
