/**
 * The quote service (`QuoteService.quote`) driven directly on the in-process chain with the whole suite deployed:
 * who may pay, the good and its quantity, the currency and the feed that prices it (both orientations, every way a
 * feed can be the wrong one, a stale or non-positive answer at its exact bound), the cross-check of the amount
 * with the contract's own conversion, and every field of the signed intent and the stored invoice. Each refusal is
 * asserted by its code and its `details`, and leaves nothing stored.
 */
import { expect } from "chai";
import { getAddress, verifyTypedData, ZeroAddress, type Provider, type TransactionRequest } from "ethers";

import { dutyWallet } from "../../src/chain/duty-wallet.js";
import { CommerceError } from "../../src/commerce/errors.js";
import { CHECKOUT_TYPES, checkoutDomain, currencyBytes, intentTuple } from "../../src/commerce/intent.js";
import { QuoteService, type QuoteServiceOptions, type QuoteTerms } from "../../src/commerce/quote.js";
import type { CatalogueItem } from "../../src/commerce/retailer-client.js";
import { InvoiceStore } from "../../src/commerce/store.js";
import { Store } from "../../src/store/store.js";
import { MockV3Aggregator__factory, type MockV3Aggregator } from "../../typechain-types/index.js";
import { suiteChain } from "../helpers/suite.js";
import { checkoutFixture, type CheckoutFixture } from "./service-helpers.js";

const CATALOGUE: readonly CatalogueItem[] = [
  { sku: "usd-pen", title: "A pen", price: { amount: 150n, currency: "USD" } },
  { sku: "eur-mug", title: "A mug", price: { amount: 1999n, currency: "EUR" } },
  { sku: "jpy-tea", title: "Tea", price: { amount: 1200n, currency: "JPY" } },
  { sku: "gbp-scarf", title: "A scarf", price: { amount: 2000n, currency: "GBP" } },
  { sku: "chf-watch", title: "A watch", price: { amount: 5000n, currency: "CHF" } },
];

const TERMS: QuoteTerms = {
  merchant: "0x000000000000000000000000000000000000dEaD".toLowerCase(),
  feeBps: 123,
  feeReceiver: "0x00000000000000000000000000000000000fee01",
  maxDeviationBps: 250,
  quoteSeconds: 600,
  authorizationSeconds: 3_600,
  refundSeconds: 86_400,
};

/** The error `promise` rejects with (fails when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  expect.fail("expected a rejection");
}

/** Expects a `CommerceError` with `code` and exactly `details`. */
function expectRefusal(error: Error, code: string, details: Record<string, unknown>): void {
  expect(error, error.stack).to.be.instanceOf(CommerceError);
  expect((error as CommerceError).code).to.equal(code);
  expect((error as CommerceError).details).to.deep.equal(details);
}

/**
 * `provider` with a hook on `eth_call`s whose data starts with `selector`: the hook runs before the call goes to
 * the chain (to change the chain between two of the service's reads, or to fail the call as a dropped node would).
 */
function hooked(provider: Provider, hooks: Map<string, () => Promise<void>>): Provider {
  return new Proxy(provider, {
    get(target, property) {
      if (property === "call") {
        return async (tx: TransactionRequest) => {
          const hook = hooks.get(String(tx.data ?? "").slice(0, 10));
          if (hook !== undefined) await hook();
          return target.call(tx);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe("quote service", function () {
  this.timeout(180_000);
  let f: CheckoutFixture;
  let operator: Awaited<ReturnType<typeof dutyWallet>>;
  let token: string;
  let checkoutAddress: string;
  /** Feeds of this test file, each set on the checkout as `base/quote` (none for `unset`). */
  const feeds = {} as Record<
    "eurUsd" | "usdJpy" | "gbpUsd" | "eurGbp" | "usdGbp" | "gbpJpy" | "unset" | "edge",
    MockV3Aggregator
  >;
  let raw: Store;
  let store: InvoiceStore;

  before(async function () {
    f = await checkoutFixture();
    operator = await dutyWallet(suiteChain(f.suite), "checkoutOperator");
    token = await f.suite.token.getAddress();
    checkoutAddress = await f.checkout.getAddress();
    const deployer = f.signers[0]!;
    const configurator = f.checkout.connect(f.suite.accounts.schemeAdmin);
    const plan: [keyof typeof feeds, bigint, string, string][] = [
      ["eurUsd", 108_500_000n, "EUR", "USD"],
      ["usdJpy", 15_000_000_000n, "USD", "JPY"],
      ["gbpUsd", 127_000_000n, "GBP", "USD"],
      ["eurGbp", 85_000_000n, "EUR", "GBP"],
      ["usdGbp", 79_000_000n, "USD", "GBP"],
      ["gbpJpy", 19_000_000_000n, "GBP", "JPY"],
      ["unset", 108_500_000n, "", ""],
      ["edge", 108_500_000n, "EUR", "USD"],
    ];
    for (const [name, answer, base, quote] of plan) {
      const feed = await new MockV3Aggregator__factory(deployer).deploy(8, answer);
      await feed.waitForDeployment();
      feeds[name] = feed;
      if (base !== "") {
        await (
          await configurator.setFeed(await feed.getAddress(), currencyBytes(base), currencyBytes(quote), 3_600)
        ).wait();
      }
    }
  });
  beforeEach(function () {
    raw = Store.open({ path: ":memory:" });
    store = new InvoiceStore(raw);
  });
  afterEach(function () {
    raw.close();
  });
  after(function () {
    f?.cleanup();
  });

  /** The service on this chain, the checkout's real operator key, `CATALOGUE` and the EUR, JPY and GBP feeds. */
  async function service(overrides: Partial<QuoteServiceOptions> & { feedOf?: Record<string, string> } = {}) {
    const { feedOf, ...rest } = overrides;
    const map = new Map<string, string>(
      Object.entries(
        feedOf ?? {
          EUR: await feeds.eurUsd.getAddress(),
          JPY: await feeds.usdJpy.getAddress(),
          GBP: await feeds.gbpUsd.getAddress(),
        },
      ),
    );
    return new QuoteService({
      store,
      provider: f.provider,
      checkout: checkoutAddress,
      token,
      chainId: 31337n,
      operator,
      catalogue: () => Promise.resolve(CATALOGUE),
      feeds: map,
      terms: TERMS,
      now: () => Date.now(),
      ...rest,
    });
  }

  const stored = () => store.counts();
  const payer = () => f.signers[16]!.address;

  describe("the payer", function () {
    it("the zero address is refused, the payer in the details", async function () {
      const error = await rejection((await service()).quote({ sku: "usd-pen", quantity: 1, payer: ZeroAddress }));
      expectRefusal(error, "CHECKOUT_BAD_PAYER", { payer: ZeroAddress });
      expect(stored()).to.deep.equal({});
    });

    it("the checkout itself is refused (named so), the payer checksummed in the details", async function () {
      const error = await rejection(
        (await service()).quote({ sku: "usd-pen", quantity: 1, payer: checkoutAddress.toLowerCase() }),
      );
      expectRefusal(error, "CHECKOUT_BAD_PAYER", { payer: getAddress(checkoutAddress) });
      expect(error.message).to.equal("the payer cannot be the checkout");
      expect(stored()).to.deep.equal({});
    });

    it("the token itself is refused (named so), the payer checksummed in the details", async function () {
      const error = await rejection(
        (await service()).quote({ sku: "usd-pen", quantity: 1, payer: token.toLowerCase() }),
      );
      expectRefusal(error, "CHECKOUT_BAD_PAYER", { payer: getAddress(token) });
      expect(error.message).to.equal("the payer cannot be the token");
      expect(stored()).to.deep.equal({});
    });

    it("an account the token freezes is refused; unfrozen, it is quoted", async function () {
      const frozen = f.signers[17]!.address;
      const compliance = f.suite.token.connect(f.suite.accounts.compliance);
      await (await compliance.freeze(frozen)).wait();
      try {
        const error = await rejection(
          (await service()).quote({ sku: "usd-pen", quantity: 1, payer: frozen.toLowerCase() }),
        );
        expectRefusal(error, "CHECKOUT_BAD_PAYER", { payer: frozen });
        expect(stored()).to.deep.equal({});
      } finally {
        await (await compliance.unfreeze(frozen)).wait();
      }
      const invoice = await (await service()).quote({ sku: "usd-pen", quantity: 1, payer: frozen.toLowerCase() });
      expect(invoice.intent.payer).to.equal(frozen);
    });
  });

  describe("the good and its price", function () {
    it("an sku the retailer does not sell is refused, the sku in the details", async function () {
      const error = await rejection((await service()).quote({ sku: "sku-nothing", quantity: 1, payer: payer() }));
      expectRefusal(error, "CHECKOUT_UNKNOWN_SKU", { sku: "sku-nothing" });
      expect(stored()).to.deep.equal({});
    });

    it("a quantity of 3 costs three times the unit price (USD: the token's own currency, no feed)", async function () {
      const invoice = await (await service()).quote({ sku: "usd-pen", quantity: 3, payer: payer() });
      expect(invoice.intent.fiatAmount).to.equal(450n);
      expect(invoice.intent.tokenAmount).to.equal(450n);
      expect(invoice.price).to.deep.equal({ amount: 450n, currency: "USD" });
      expect(invoice.quantity).to.equal(3);
      expect(invoice.sku).to.equal("usd-pen");
    });

    it("EUR through a EUR/USD feed (token per fiat): 2 × 19.99 EUR at 1.085 is 43.38 bUSD, rounded up", async function () {
      const invoice = await (await service()).quote({ sku: "eur-mug", quantity: 2, payer: payer() });
      const latest = await feeds.eurUsd.latestRoundData();
      expect(invoice.intent.fiatAmount).to.equal(3998n);
      expect(invoice.intent.currency).to.equal("EUR");
      expect(invoice.intent.tokenAmount).to.equal(4338n); // 3998 × 1.085 = 4337.83
      expect(invoice.intent.priceFeed).to.equal(await feeds.eurUsd.getAddress());
      expect(invoice.intent.roundId).to.equal(latest.roundId);
      expect(invoice.intent.maxDeviationBps).to.equal(TERMS.maxDeviationBps);
    });

    it("JPY through a USD/JPY feed (fiat per token): 1,200 JPY at 150 JPY per USD is 8.00 bUSD", async function () {
      const invoice = await (await service()).quote({ sku: "jpy-tea", quantity: 1, payer: payer() });
      expect(invoice.intent.tokenAmount).to.equal(800n);
      expect(invoice.intent.priceFeed).to.equal(await feeds.usdJpy.getAddress());
      expect(invoice.intent.maxDeviationBps).to.equal(TERMS.maxDeviationBps);
    });

    it("a currency the checkout has no minor units for is refused (CHECKOUT_UNKNOWN_CURRENCY), the currency in the details", async function () {
      const error = await rejection((await service()).quote({ sku: "gbp-scarf", quantity: 1, payer: payer() }));
      expectRefusal(error, "CHECKOUT_UNKNOWN_CURRENCY", { currency: "GBP" });
      expect(stored()).to.deep.equal({});
    });

    it("a node failing the minor-units read is passed on as it is, not taken for an unknown currency", async function () {
      const fault = new Error("socket hang up");
      const selector = f.checkout.interface.getFunction("minorUnitsOf").selector;
      const provider = hooked(f.provider, new Map([[selector, () => Promise.reject(fault)]]));
      const error = await rejection(
        (await service({ provider })).quote({ sku: "eur-mug", quantity: 1, payer: payer() }),
      );
      expect(error).to.equal(fault);
      expect(stored()).to.deep.equal({});
    });

    it("the amount is signed only when the contract converts to the same: the feed's round rewritten between the reads is CHECKOUT_PRICE_DISAGREES with both amounts", async function () {
      const edge = feeds.edge;
      const feed = await edge.getAddress();
      const latest = await edge.latestRoundData();
      const offChain = await f.checkout.tokenAmountFor(1999n, currencyBytes("EUR"), token, feed, latest.roundId);
      const selector = f.checkout.interface.getFunction("tokenAmountFor").selector;
      const provider = hooked(
        f.provider,
        new Map([
          [
            selector,
            async () => {
              await (
                await edge.updateRoundData(latest.roundId, 200_000_000n, latest.updatedAt, latest.startedAt)
              ).wait();
            },
          ],
        ]),
      );
      try {
        const error = await rejection(
          (await service({ provider, feedOf: { EUR: feed } })).quote({ sku: "eur-mug", quantity: 1, payer: payer() }),
        );
        const onChain = await f.checkout.tokenAmountFor(1999n, currencyBytes("EUR"), token, feed, latest.roundId);
        expect([offChain, onChain]).to.deep.equal([2169n, 3998n]);
        expectRefusal(error, "CHECKOUT_PRICE_DISAGREES", { onChain: "3998", offChain: "2169" });
        expect(stored()).to.deep.equal({});
      } finally {
        await (await edge.updateRoundData(latest.roundId, latest.answer, latest.updatedAt, latest.startedAt)).wait();
      }
    });
  });

  describe("the feed", function () {
    it("a currency with no feed known is CHECKOUT_NO_PRICE_FEED, the currencies in the details", async function () {
      const error = await rejection((await service()).quote({ sku: "chf-watch", quantity: 1, payer: payer() }));
      expectRefusal(error, "CHECKOUT_NO_PRICE_FEED", { currency: "CHF", tokenCurrency: "USD" });
      expect(stored()).to.deep.equal({});
    });

    it("a feed the checkout does not read, or reads between other currencies, is CHECKOUT_NO_PRICE_FEED, the feed in the details", async function () {
      const cases: [string, string, keyof typeof feeds][] = [
        ["not set on the checkout", "eur-mug", "unset"],
        ["EUR/GBP for EUR (the base right, the quote not the token's)", "eur-mug", "eurGbp"],
        ["GBP/USD for CHF (the quote the token's, the base not the good's)", "chf-watch", "gbpUsd"],
        ["USD/GBP for JPY (the base the token's, the quote not the good's)", "jpy-tea", "usdGbp"],
        ["GBP/JPY for JPY (the quote the good's, the base not the token's)", "jpy-tea", "gbpJpy"],
        ["USD/JPY for EUR", "eur-mug", "usdJpy"],
      ];
      for (const [what, sku, name] of cases) {
        const feed = await feeds[name].getAddress();
        const currency = CATALOGUE.find((item) => item.sku === sku)!.price.currency;
        const quotes = await service({ feedOf: { [currency]: feed } });
        const error = await rejection(quotes.quote({ sku, quantity: 1, payer: payer() }));
        expect((error as CommerceError).code, what).to.equal("CHECKOUT_NO_PRICE_FEED");
        expectRefusal(error, "CHECKOUT_NO_PRICE_FEED", { currency, tokenCurrency: "USD", feed });
      }
      expect(stored()).to.deep.equal({});
    });

    it("an answer as old as the feed's maxStaleness is fresh; a second older is CHECKOUT_PRICE_UNAVAILABLE with the round in the details", async function () {
      const edge = feeds.edge;
      const feed = await edge.getAddress();
      const block = await f.provider.getBlock("latest");
      const updatedAt = BigInt(block!.timestamp) - 100n;
      await (await edge.updateRoundData(7n, 108_500_000n, updatedAt, updatedAt)).wait();
      // The service's clock ahead of the chain's: its own is the one read.
      const at = (seconds: bigint) => service({ feedOf: { EUR: feed }, now: () => Number(seconds) * 1000 });
      const fresh = await (await at(updatedAt + 3_600n)).quote({ sku: "eur-mug", quantity: 1, payer: payer() });
      expect(fresh.intent.roundId).to.equal(7n);
      expect(fresh.intent.tokenAmount).to.equal(2169n);
      expect(fresh.intent.quoteExpiry).to.equal(updatedAt + 3_600n + BigInt(TERMS.quoteSeconds));
      const error = await rejection(
        (await at(updatedAt + 3_601n)).quote({ sku: "eur-mug", quantity: 1, payer: payer() }),
      );
      expectRefusal(error, "CHECKOUT_PRICE_UNAVAILABLE", {
        feed,
        answer: "108500000",
        updatedAt: updatedAt.toString(),
      });
      expect(stored()).to.deep.equal({ new: 1 });
    });

    it("an answer of zero or below is CHECKOUT_PRICE_UNAVAILABLE, however fresh", async function () {
      const edge = feeds.edge;
      const feed = await edge.getAddress();
      try {
        for (const answer of [0n, -1n]) {
          await (await edge.updateAnswer(answer)).wait();
          const latest = await edge.latestRoundData();
          const error = await rejection(
            (await service({ feedOf: { EUR: feed } })).quote({ sku: "eur-mug", quantity: 1, payer: payer() }),
          );
          expectRefusal(error, "CHECKOUT_PRICE_UNAVAILABLE", {
            feed,
            answer: answer.toString(),
            updatedAt: latest.updatedAt.toString(),
          });
        }
        expect(stored()).to.deep.equal({});
        await (await edge.updateAnswer(1n)).wait();
        const smallest = await (
          await service({ feedOf: { EUR: feed } })
        ).quote({
          sku: "eur-mug",
          quantity: 1,
          payer: payer(),
        });
        expect(smallest.intent.tokenAmount).to.equal(1n); // 19.99 EUR at 0.00000001 USD, rounded up
      } finally {
        await (await edge.updateAnswer(108_500_000n)).wait();
      }
    });
  });

  describe("the intent", function () {
    it("carries the terms (merchant, fee, expiries from the service's clock), no feed and maxDeviationBps 0 for the token's own currency, and the operator's signature over it", async function () {
      const block = await f.provider.getBlock("latest");
      const wall = BigInt(block!.timestamp) + 1_000n;
      const quotes = await service({ now: () => Number(wall) * 1000 + 999 });
      const invoice = await quotes.quote({ sku: "usd-pen", quantity: 1, payer: payer().toLowerCase() });
      const { intent } = invoice;
      expect(intent.payer).to.equal(payer());
      expect(intent.merchant).to.equal(getAddress(TERMS.merchant));
      expect(intent.token).to.equal(getAddress(token));
      expect(intent.priceFeed).to.equal(ZeroAddress);
      expect(intent.roundId).to.equal(0n);
      expect(intent.maxDeviationBps).to.equal(0);
      expect(intent.feeBps).to.equal(123);
      expect(intent.feeReceiver).to.equal(getAddress(TERMS.feeReceiver));
      expect(intent.quoteExpiry).to.equal(wall + 600n);
      expect(intent.authorizationExpiry).to.equal(wall + 600n + 3_600n);
      expect(intent.refundExpiry).to.equal(wall + 600n + 3_600n + 86_400n);
      expect(intent.orderRef).to.match(/^0x[0-9a-f]{64}$/);
      expect(intent.salt).to.match(/^0x[0-9a-f]{64}$/);

      expect(invoice.intentId).to.equal(await f.checkout.intentId(intentTuple(intent)));
      const domain = checkoutDomain(31337n, checkoutAddress);
      expect(verifyTypedData(domain, CHECKOUT_TYPES, intentTuple(intent), invoice.operatorSignature)).to.equal(
        operator.address,
      );
      expect(getAddress(invoice.depositAddress)).to.equal(await f.checkout.depositAddress(invoice.intentId));
      expect(invoice.status).to.equal("new");
      expect(store.get(invoice.intentId)?.intent).to.deep.equal(intent);

      // Another quote of the same good is another intent (its own reference and salt).
      const second = await quotes.quote({ sku: "usd-pen", quantity: 1, payer: payer() });
      expect(second.intentId).to.not.equal(invoice.intentId);
      expect(second.intent.orderRef).to.not.equal(intent.orderRef);
      expect(second.intent.salt).to.not.equal(intent.salt);
    });

    it("the chain's clock when it is ahead of the service's", async function () {
      const invoice = await (await service({ now: () => 0 })).quote({ sku: "usd-pen", quantity: 1, payer: payer() });
      const block = await f.provider.getBlock("latest");
      expect(invoice.intent.quoteExpiry).to.equal(BigInt(block!.timestamp) + 600n);
    });

    it("a service whose key lost OPERATOR_ROLE signs nothing: CHECKOUT_NOT_OPERATOR, the key in the details", async function () {
      const admin = f.checkout.connect(f.suite.accounts.admin);
      const role = await f.checkout.OPERATOR_ROLE();
      expect(await f.checkout.hasRole(role, operator.address)).to.equal(true);
      await (await admin.revokeRole(role, operator.address)).wait();
      try {
        const error = await rejection((await service()).quote({ sku: "usd-pen", quantity: 1, payer: payer() }));
        expectRefusal(error, "CHECKOUT_NOT_OPERATOR", { operator: operator.address });
        expect(stored()).to.deep.equal({});
      } finally {
        await (await admin.grantRole(role, operator.address)).wait();
      }
      expect((await (await service()).quote({ sku: "usd-pen", quantity: 1, payer: payer() })).status).to.equal("new");
    });
  });

  it("a quote sends no transaction", async function () {
    const before = await f.provider.getTransactionCount(operator.address);
    await (await service()).quote({ sku: "eur-mug", quantity: 1, payer: payer() });
    expect(await f.provider.getTransactionCount(operator.address)).to.equal(before);
  });
});
