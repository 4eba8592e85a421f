/**
 * deploy/011_commerce.ts: the Checkout under the tag "commerce" with its currencies, the USD BankToken and, on
 * this chain (31337), the EUR/USD feed; a re-run keeps all of it and sends nothing while the feed is fresh, and
 * posts the feed's answer again once it is older than half its maxStaleness.
 */
import { expect } from "chai";
import { network } from "hardhat";

import { Checkout__factory, MockV3Aggregator__factory } from "../../typechain-types/index.js";
import { COMMERCE } from "../../deploy/_config.js";
import { code3 } from "../../deploy/011_commerce.js";
import { rerunnableDeploy } from "../helpers/suite.js";

describe("deploy: commerce", function () {
  this.timeout(300_000);

  it("deploys the Checkout and the devnet's EUR/USD feed, and a re-run keeps them, refreshing only a stale feed", async function () {
    const connection = await network.create("hardhat");
    const { run, remove } = rerunnableDeploy(connection, "commerce-rerun", ["commerce"]);
    try {
      const first = await run();
      const { ethers, networkHelpers } = connection;
      const [reader] = await ethers.getSigners();
      const checkout = Checkout__factory.connect(first.deployments["Checkout"]!.address, reader!);
      const feedAddress = first.deployments["PriceFeedEURUSD"]!.address;
      const token = first.deployments["BankToken"]!.address;
      for (const { code, minorUnits } of COMMERCE.currencies) {
        expect(await checkout.minorUnitsOf(code3(code))).to.equal(BigInt(minorUnits));
      }
      expect((await checkout.tokenConfig(token)).currency).to.equal(code3("USD"));
      expect((await checkout.tokenConfig(token)).decimals).to.equal(2n);
      const feed = await checkout.feedConfig(feedAddress);
      expect([feed.base, feed.quote, feed.decimals, feed.maxStaleness]).to.deep.equal([
        code3("EUR"),
        code3("USD"),
        8n,
        BigInt(COMMERCE.devnetFeed.maxStaleness),
      ]);
      // 19.99 EUR at 1.085 USD/EUR is 21.69 USD (rounded up), in bUSD cents.
      const aggregator = MockV3Aggregator__factory.connect(feedAddress, reader!);
      const round = (await aggregator.latestRoundData()).roundId;
      expect(await checkout.tokenAmountFor(1999n, code3("EUR"), token, feedAddress, round)).to.equal(2169n);

      const everyone = (await ethers.getSigners()).map((signer) => signer.address);
      const nonces = () => Promise.all(everyone.map((a) => ethers.provider.getTransactionCount(a)));
      const before = await nonces();
      const second = await run();
      expect(second.deployments["Checkout"]!.address).to.equal(checkout.target);
      expect(second.deployments["PriceFeedEURUSD"]!.address).to.equal(feedAddress);
      expect(await nonces(), "the second deploy sent a transaction").to.deep.equal(before);

      await networkHelpers.time.increase(COMMERCE.devnetFeed.maxStaleness / 2 + 1);
      await run();
      const latest = await aggregator.latestRoundData();
      expect(latest.roundId).to.equal(round + 1n);
      expect(latest.answer).to.equal(COMMERCE.devnetFeed.answer);
    } finally {
      remove();
      await connection.close();
    }
  });
});
