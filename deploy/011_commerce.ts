/**
 * The checkout (docs/commerce.md): `Checkout` on this chain, its roles granted by ROLE_PLAN, the currencies it
 * prices in and the USD BankToken it takes, set by `schemeAdmin` (the configurator).
 *
 * On the devnet and the in-process chain it also deploys a EUR/USD price feed (Chainlink's `MockV3Aggregator`)
 * and sets it on the checkout, so that a retailer's EUR price can be paid in bUSD; a re-run posts the answer again
 * when the latest is older than half the feed's `maxStaleness`. On the `npm start` devnet the demo shopper (account
 * 12) is paid in by bank A, and the settlement account (account 13) gets a refund float and lets the checkout draw
 * refunds from it.
 *
 * A re-run keeps the deployed checkout (same bytecode and arguments), and so every payment recorded in it.
 */
import { encodeBytes32String, MaxUint256 } from "ethers";

import { BankToken__factory, Checkout__factory, MockV3Aggregator__factory } from "../typechain-types/index.js";
import { artifacts, deployScript } from "../rocketh/deploy.js";
import { isDevnet } from "../src/chain/networks.js";
import { adminDelay, COMMERCE, DEVNET_CHECKOUT_DEMO, seedsDemo, USD } from "./_config.js";
import { devnetAccounts, ensure, ensurePaidIn, ethersFor, grantPlanned, keepDeployed } from "./_ethers.js";

/** A three-letter code as `bytes3`. */
export const code3 = (code: string): string => encodeBytes32String(code).slice(0, 8);

export default deployScript(
  async (env) => {
    const { deploy, namedAccounts: accounts } = env;
    const chainId = env.network.chain.id;
    const { provider, signer } = ethersFor(env);
    const deployed = await deploy(
      "Checkout",
      {
        account: accounts.deployer,
        artifact: artifacts.Checkout,
        args: [adminDelay(chainId), accounts.admin],
      },
      keepDeployed(env),
    );
    await grantPlanned(env, "Checkout");

    const checkout = Checkout__factory.connect(deployed.address, await signer(accounts.schemeAdmin));
    for (const { code, minorUnits } of COMMERCE.currencies) {
      await ensure(
        `Checkout: ${code} has ${minorUnits} minor units`,
        async () => {
          try {
            return Number(await checkout.minorUnitsOf(code3(code))) === minorUnits;
          } catch {
            return false;
          }
        },
        () => checkout.setCurrency(code3(code), minorUnits),
      );
    }
    const token = env.get("BankToken").address;
    await ensure(
      `Checkout: takes ${USD.symbol} as ${USD.currency}`,
      async () => (await checkout.tokenConfig(token)).currency === code3(USD.currency),
      () => checkout.setToken(token, code3(USD.currency)),
    );
    if (!isDevnet(chainId)) return;

    const spec = COMMERCE.devnetFeed;
    const feedName = `PriceFeed${spec.base}${spec.quote}`;
    const feed = await deploy(
      feedName,
      {
        account: accounts.deployer,
        artifact: artifacts.MockV3Aggregator,
        args: [spec.decimals, spec.answer],
      },
      keepDeployed(env),
    );
    const aggregator = MockV3Aggregator__factory.connect(feed.address, await signer(accounts.deployer));
    await ensure(
      `${feedName}: answered within the last ${spec.maxStaleness / 2} s`,
      async () => {
        const [latest, block] = await Promise.all([aggregator.latestRoundData(), provider.getBlock("latest")]);
        return BigInt(block!.timestamp) - latest.updatedAt < BigInt(spec.maxStaleness / 2);
      },
      () => aggregator.updateAnswer(spec.answer),
    );
    await ensure(
      `Checkout: reads ${feedName} as the price of ${spec.base} in ${spec.quote}`,
      async () => {
        const config = await checkout.feedConfig(feed.address);
        return (
          config.base === code3(spec.base) &&
          config.quote === code3(spec.quote) &&
          Number(config.maxStaleness) === spec.maxStaleness
        );
      },
      () => checkout.setFeed(feed.address, code3(spec.base), code3(spec.quote), spec.maxStaleness),
    );
    if (!seedsDemo(env)) return;

    const wallets = await devnetAccounts(provider);
    const shopper = wallets[DEVNET_CHECKOUT_DEMO.shopperIndex]!;
    const merchant = wallets[DEVNET_CHECKOUT_DEMO.merchantIndex]!;
    await ensurePaidIn(env, {
      what: "demo shopper",
      to: shopper,
      amount: DEVNET_CHECKOUT_DEMO.shopperBalance,
      ref: "checkout/shopper",
    });
    await ensurePaidIn(env, {
      what: "the refund float of the checkout settlement account",
      to: merchant,
      amount: DEVNET_CHECKOUT_DEMO.refundFloat,
      ref: "checkout/refund-float",
    });
    const asMerchant = BankToken__factory.connect(token, await signer(merchant));
    await ensure(
      `BankToken: the checkout settlement account ${merchant} lets the checkout draw refunds`,
      async () => (await asMerchant.allowance(merchant, deployed.address)) === MaxUint256,
      () => asMerchant.approve(deployed.address, MaxUint256),
    );
  },
  { tags: ["commerce"], dependencies: ["money"] },
);
