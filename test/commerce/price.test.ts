import { expect } from "chai";
import fc from "fast-check";

import {
  MAX_DECIMALS,
  MAX_INT256,
  MAX_UINT256,
  PriceError,
  tokenAmountFor,
  withinDeviation,
  type FeedOrientation,
  type TokenAmountQuery,
} from "../../src/commerce/price.js";

function expectPriceError(f: () => unknown, code: string, field?: string): void {
  expect(f).to.throw(PriceError).with.property("code", code);
  if (field !== undefined) {
    try {
      f();
    } catch (error) {
      expect((error as PriceError).details["field"]).to.equal(field);
    }
  }
}

/**
 * Whether `tokens` base units are worth at least `fiatAmount` minor units, converted back at the same answer
 * (cross-multiplied, so no rounding anywhere): the value of `tokens` in fiat minor units is
 * `tokens * 10^fd * 10^fm / (answer * 10^td)` for a token-per-fiat feed, `tokens * answer * 10^fm / (10^fd * 10^td)`
 * for a fiat-per-token feed and `tokens * 10^fm / 10^td` without a feed.
 */
function covers(query: TokenAmountQuery, tokens: bigint): boolean {
  const fm = 10n ** BigInt(query.fiatMinorUnits);
  const td = 10n ** BigInt(query.tokenDecimals);
  const { feed } = query;
  if (feed === undefined) return tokens * fm >= query.fiatAmount * td;
  const fd = 10n ** BigInt(feed.decimals);
  if (feed.orientation === "token-per-fiat") return tokens * fd * fm >= query.fiatAmount * feed.answer * td;
  return tokens * feed.answer * fm >= query.fiatAmount * fd * td;
}

const decimals = fc.integer({ min: 0, max: 24 });
const orientation = fc.constantFrom<FeedOrientation>("token-per-fiat", "fiat-per-token");
const query: fc.Arbitrary<TokenAmountQuery> = fc.record(
  {
    fiatAmount: fc.bigInt({ min: 0n, max: 10n ** 15n }),
    fiatMinorUnits: fc.integer({ min: 0, max: 4 }),
    tokenDecimals: decimals,
    feed: fc.record({ answer: fc.bigInt({ min: 1n, max: 10n ** 30n }), decimals, orientation }),
  },
  { requiredKeys: ["fiatAmount", "fiatMinorUnits", "tokenDecimals"] },
);

describe("commerce price math", function () {
  describe("tokenAmountFor (known answers from the spec)", function () {
    it("converts 19.99 EUR at 1.085 USD/EUR to 21.69 bUSD, rounding 2168.915 up", function () {
      const amount = tokenAmountFor({
        fiatAmount: 1999n,
        fiatMinorUnits: 2,
        tokenDecimals: 2,
        feed: { answer: 108_500_000n, decimals: 8, orientation: "token-per-fiat" },
      });
      expect(amount).to.equal(2169n);
    });

    it("pays 19.99 USD as 19.99 bUSD without a feed", function () {
      expect(tokenAmountFor({ fiatAmount: 1999n, fiatMinorUnits: 2, tokenDecimals: 2 })).to.equal(1999n);
    });

    it("converts 50 USD at 3000 USD/ETH to 0.016666666666666667 of an 18-decimal token, rounding up", function () {
      const amount = tokenAmountFor({
        fiatAmount: 5000n,
        fiatMinorUnits: 2,
        tokenDecimals: 18,
        feed: { answer: 300_000_000_000n, decimals: 8, orientation: "fiat-per-token" },
      });
      expect(amount).to.equal(16_666_666_666_666_667n);
    });

    it("converts 1500 JPY (no minor units) at 0.0067 USD/JPY to exactly 10.05 bUSD, with nothing to round", function () {
      const amount = tokenAmountFor({
        fiatAmount: 1500n,
        fiatMinorUnits: 0,
        tokenDecimals: 2,
        feed: { answer: 670_000n, decimals: 8, orientation: "token-per-fiat" },
      });
      expect(amount).to.equal(1005n);
    });

    it("rounds a price worth less than one base unit up to one, and zero to zero", function () {
      // 1 cent at 3000 USD/ETH is 3.33.. * 10^-6 ETH: in a 0-decimal token, one whole unit.
      const feed = { answer: 300_000_000_000n, decimals: 8, orientation: "fiat-per-token" } as const;
      expect(tokenAmountFor({ fiatAmount: 1n, fiatMinorUnits: 2, tokenDecimals: 0, feed })).to.equal(1n);
      expect(tokenAmountFor({ fiatAmount: 0n, fiatMinorUnits: 2, tokenDecimals: 0, feed })).to.equal(0n);
    });

    it("accepts decimals as bigint, as ethers reads decimals() and a token's decimals", function () {
      const amount = tokenAmountFor({
        fiatAmount: 1999n,
        fiatMinorUnits: 2n,
        tokenDecimals: 2n,
        feed: { answer: 108_500_000n, decimals: 8n, orientation: "token-per-fiat" },
      });
      expect(amount).to.equal(2169n);
    });

    it("handles the largest amounts and decimals the bounds allow, exactly", function () {
      expect(tokenAmountFor({ fiatAmount: MAX_UINT256, fiatMinorUnits: 36, tokenDecimals: 36 })).to.equal(MAX_UINT256);
      const feed = { answer: MAX_INT256, decimals: 36, orientation: "fiat-per-token" } as const;
      // 10^36 * 10^36 / (MAX_INT256 * 10^36) is far below one base unit, and rounds up to one.
      expect(tokenAmountFor({ fiatAmount: 1n, fiatMinorUnits: 36, tokenDecimals: 36, feed })).to.equal(1n);
    });
  });

  describe("tokenAmountFor (properties)", function () {
    it("is the least amount whose value, converted back at the same answer, covers the price", function () {
      fc.assert(
        fc.property(query, (q) => {
          const tokens = tokenAmountFor(q);
          expect(covers(q, tokens), "covers").to.equal(true);
          if (tokens > 0n) expect(covers(q, tokens - 1n), "one less covers too").to.equal(false);
        }),
        { numRuns: 500 },
      );
    });

    it("never charges less for a dearer price, nor (per orientation) for a worse rate", function () {
      fc.assert(
        fc.property(query, fc.bigInt({ min: 0n, max: 10n ** 6n }), (q, more) => {
          const base = tokenAmountFor(q);
          expect(tokenAmountFor({ ...q, fiatAmount: q.fiatAmount + more })).to.be.gte(base);
          if (q.feed === undefined) return;
          const higher = tokenAmountFor({ ...q, feed: { ...q.feed, answer: q.feed.answer + more + 1n } });
          // More token currency per fiat unit costs more tokens; more fiat per token costs fewer.
          if (q.feed.orientation === "token-per-fiat") expect(higher).to.be.gte(base);
          else expect(higher).to.be.lte(base);
        }),
        { numRuns: 300 },
      );
    });

    it("is exact, with nothing added, when the division has no remainder", function () {
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.integer({ min: 0, max: 18 }), (tokens, td) => {
          // A price of `tokens` at a feed of exactly 1.00000000 (token-per-fiat, same decimals): `tokens` back.
          const feed = { answer: 100_000_000n, decimals: 8, orientation: "token-per-fiat" } as const;
          expect(tokenAmountFor({ fiatAmount: tokens, fiatMinorUnits: td, tokenDecimals: td, feed })).to.equal(tokens);
          expect(tokenAmountFor({ fiatAmount: tokens, fiatMinorUnits: td, tokenDecimals: td })).to.equal(tokens);
        }),
      );
    });
  });

  describe("tokenAmountFor (refusals)", function () {
    const good = {
      fiatAmount: 1999n,
      fiatMinorUnits: 2,
      tokenDecimals: 2,
      feed: { answer: 108_500_000n, decimals: 8, orientation: "token-per-fiat" as const },
    };

    it("refuses a feed answer of zero or less, or beyond int256", function () {
      expect(MAX_INT256).to.equal(2n ** 255n - 1n);
      for (const answer of [0n, -1n, -108_500_000n, MAX_INT256 + 1n, 2n ** 255n]) {
        expectPriceError(
          () => tokenAmountFor({ ...good, feed: { ...good.feed, answer } }),
          "CHECKOUT_BAD_PRICE_ANSWER",
          "feed.answer",
        );
      }
    });

    it("refuses a number where the feed answer's bigint belongs, on either side of a deviation check", function () {
      const answer = 108_500_000 as unknown as bigint;
      expectPriceError(
        () => tokenAmountFor({ ...good, feed: { ...good.feed, answer } }),
        "CHECKOUT_BAD_PRICE_ANSWER",
        "feed.answer",
      );
      expectPriceError(() => withinDeviation(answer, 108_500_000n, 100), "CHECKOUT_BAD_PRICE_ANSWER", "quoted");
      expectPriceError(() => withinDeviation(108_500_000n, answer, 100), "CHECKOUT_BAD_PRICE_ANSWER", "latest");
    });

    it("refuses a negative fiat amount, one beyond uint256, and a number where a bigint belongs", function () {
      expect(MAX_UINT256).to.equal(2n ** 256n - 1n);
      expectPriceError(
        () => tokenAmountFor({ ...good, fiatAmount: 2n ** 256n }),
        "CHECKOUT_BAD_FIAT_AMOUNT",
        "fiatAmount",
      );
      expectPriceError(() => tokenAmountFor({ ...good, fiatAmount: -1n }), "CHECKOUT_BAD_FIAT_AMOUNT", "fiatAmount");
      expectPriceError(
        () => tokenAmountFor({ ...good, fiatAmount: MAX_UINT256 + 1n }),
        "CHECKOUT_BAD_FIAT_AMOUNT",
        "fiatAmount",
      );
      expectPriceError(
        () => tokenAmountFor({ ...good, fiatAmount: 1999 as unknown as bigint }),
        "CHECKOUT_BAD_FIAT_AMOUNT",
        "fiatAmount",
      );
    });

    it("refuses decimals above 36, negative or fractional, for each of the three", function () {
      for (const bad of [MAX_DECIMALS + 1, 37n, -1, -1n, 1.5, Number.NaN, 255, "2" as unknown as number]) {
        expectPriceError(
          () => tokenAmountFor({ ...good, fiatMinorUnits: bad }),
          "CHECKOUT_BAD_DECIMALS",
          "fiatMinorUnits",
        );
        expectPriceError(
          () => tokenAmountFor({ ...good, tokenDecimals: bad }),
          "CHECKOUT_BAD_DECIMALS",
          "tokenDecimals",
        );
        expectPriceError(
          () => tokenAmountFor({ ...good, feed: { ...good.feed, decimals: bad } }),
          "CHECKOUT_BAD_DECIMALS",
          "feed.decimals",
        );
      }
      expect(tokenAmountFor({ ...good, fiatMinorUnits: MAX_DECIMALS, tokenDecimals: MAX_DECIMALS })).to.equal(2169n);
      // The bounds are inclusive for bigint decimals too: 0n and 36n.
      expect(
        tokenAmountFor({ ...good, fiatMinorUnits: 0n, tokenDecimals: 0n, feed: { ...good.feed, decimals: 0n } }),
      ).to.equal(1999n * 108_500_000n);
      expect(tokenAmountFor({ ...good, fiatMinorUnits: 36n, tokenDecimals: 36n })).to.equal(2169n);
    });

    it("refuses an unknown feed orientation", function () {
      const orientation = "base-quote" as unknown as FeedOrientation;
      expectPriceError(
        () => tokenAmountFor({ ...good, feed: { ...good.feed, orientation } }),
        "CHECKOUT_BAD_FEED_ORIENTATION",
        "feed.orientation",
      );
    });

    it("refuses a result that does not fit a uint256, naming the amount", function () {
      const overflow = { fiatAmount: 2n ** 256n - 1n, fiatMinorUnits: 0, tokenDecimals: 1 };
      expectPriceError(() => tokenAmountFor(overflow), "CHECKOUT_PRICE_OVERFLOW");
      expect(() => tokenAmountFor(overflow))
        .to.throw(PriceError)
        .with.property("details")
        .that.deep.equals({ fiatAmount: 2n ** 256n - 1n, tokenAmount: (2n ** 256n - 1n) * 10n });
      // The smallest result past the bound, 2^256 exactly, is refused too.
      expectPriceError(
        () =>
          tokenAmountFor({
            fiatAmount: 2n ** 255n,
            fiatMinorUnits: 0,
            tokenDecimals: 0,
            feed: { answer: 2n, decimals: 0, orientation: "token-per-fiat" },
          }),
        "CHECKOUT_PRICE_OVERFLOW",
      );
      // A price that fits is refused when the rate multiplies it past the bound (1.085 * (2^256 - 1))...
      expectPriceError(
        () => tokenAmountFor({ fiatAmount: MAX_UINT256, fiatMinorUnits: 8, tokenDecimals: 8, feed: good.feed }),
        "CHECKOUT_PRICE_OVERFLOW",
      );
      // ...and accepted when the result just fits.
      expect(tokenAmountFor({ fiatAmount: MAX_UINT256 / 10n, fiatMinorUnits: 0, tokenDecimals: 1 })).to.equal(
        (MAX_UINT256 / 10n) * 10n,
      );
    });
  });

  describe("withinDeviation (the contract's rule)", function () {
    const quoted = 100_000_000n; // 1.00000000

    it("lets a move of exactly maxBps stand and refuses one unit more, up and down", function () {
      expect(withinDeviation(quoted, 101_000_000n, 100)).to.equal(true);
      expect(withinDeviation(quoted, 101_000_001n, 100)).to.equal(false);
      expect(withinDeviation(quoted, 99_000_000n, 100)).to.equal(true);
      expect(withinDeviation(quoted, 98_999_999n, 100)).to.equal(false);
    });

    it("measures the move against the quoted answer, not the latest", function () {
      // 108_500_000 -> 100_000_000 is 783.4 bps of the quote (and 850 bps of the latest): refused at 800.
      expect(withinDeviation(108_500_000n, 100_000_000n, 800)).to.equal(true);
      expect(withinDeviation(108_500_000n, 100_000_000n, 783)).to.equal(false);
      expect(withinDeviation(108_500_000n, 100_000_000n, 784)).to.equal(true);
      // The other way round: 8.5 % of 100_000_000 is exactly 850 bps.
      expect(withinDeviation(100_000_000n, 108_500_000n, 850)).to.equal(true);
      expect(withinDeviation(100_000_000n, 108_500_000n, 849)).to.equal(false);
    });

    it("allows no move at all at 0 bps, and any move within 655.35 % at 65535", function () {
      expect(withinDeviation(quoted, quoted, 0)).to.equal(true);
      expect(withinDeviation(quoted, quoted + 1n, 0)).to.equal(false);
      expect(withinDeviation(quoted, quoted - 1n, 0)).to.equal(false);
      expect(withinDeviation(quoted, 755_350_000n, 65_535n)).to.equal(true);
      expect(withinDeviation(quoted, 755_350_001n, 65_535n)).to.equal(false);
      expect(withinDeviation(quoted, quoted, 0n)).to.equal(true);
      expect(withinDeviation(quoted, quoted + 1n, 0n)).to.equal(false);
    });

    it("is the rule |latest - quoted| * 10000 <= quoted * maxBps, and widens with maxBps (property)", function () {
      const answer = fc.bigInt({ min: 1n, max: 10n ** 24n });
      fc.assert(
        fc.property(answer, answer, fc.integer({ min: 0, max: 65_534 }), (q, l, bps) => {
          const within = withinDeviation(q, l, bps);
          const diff = l > q ? l - q : q - l;
          // The rule as a fraction: |l - q| / q <= bps / 10000, compared without division.
          expect(within).to.equal(diff * 10_000n <= q * BigInt(bps));
          if (within) expect(withinDeviation(q, l, bps + 1)).to.equal(true);
          expect(withinDeviation(q, q, bps)).to.equal(true);
        }),
        { numRuns: 300 },
      );
    });

    it("refuses a non-positive answer on either side and a bound outside uint16", function () {
      expectPriceError(() => withinDeviation(0n, quoted, 100), "CHECKOUT_BAD_PRICE_ANSWER", "quoted");
      expectPriceError(() => withinDeviation(quoted, 0n, 100), "CHECKOUT_BAD_PRICE_ANSWER", "latest");
      expectPriceError(() => withinDeviation(quoted, -5n, 100), "CHECKOUT_BAD_PRICE_ANSWER", "latest");
      for (const bad of [
        -1,
        -1n,
        65_536,
        1.5,
        65_536n,
        Number.NaN,
        "100" as unknown as number,
        undefined as unknown as number,
      ]) {
        expectPriceError(() => withinDeviation(quoted, quoted, bad), "CHECKOUT_BAD_DEVIATION_BPS", "maxBps");
      }
    });
  });
});
