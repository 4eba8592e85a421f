/**
 * The checkout's price math (docs/commerce.md, "Money and currencies" and "Price math"): a retailer's fiat
 * price, in the currency's ISO 4217 minor units, becomes a token amount in the token's base units, rounded UP (in
 * the payee's favour) with exact integer arithmetic, exactly as `Checkout` checks it on chain:
 *
 * ```
 * token-per-fiat feed (base = fiat, quote = token currency; EUR/USD for a EUR price paid in bUSD):
 *   tokenAmount = ceil(fiatAmount * answer * 10^tokenDecimals / (10^feedDecimals * 10^fiatMinorUnits))
 * fiat-per-token feed (base = token currency, quote = fiat; ETH/USD for a USD price paid in WETH):
 *   tokenAmount = ceil(fiatAmount * 10^feedDecimals * 10^tokenDecimals / (answer * 10^fiatMinorUnits))
 * no feed (the token's currency is the price's):
 *   tokenAmount = ceil(fiatAmount * 10^tokenDecimals / 10^fiatMinorUnits)
 * ```
 *
 * The result is therefore the least token amount whose fiat value, converted back at the same answer, covers the
 * price. The deviation rule is the contract's too: a quote made at answer `quoted` stands against the feed's
 * `latest` answer unless `|latest - quoted| * 10_000 > quoted * maxDeviationBps`.
 */
import { BankChainError } from "../errors.js";

/** A price could not be converted: a bad feed answer, amount, decimals or bound. The details name the field. */
export class PriceError extends BankChainError {}

/**
 * Which way a feed quotes. `token-per-fiat`: the feed's base is the fiat currency and its quote the token's
 * currency (a EUR/USD feed answers USD per EUR; a EUR price paid in bUSD). `fiat-per-token`: the feed's base is
 * the token's currency and its quote the fiat currency (an ETH/USD feed answers USD per ETH; a USD price paid in
 * WETH).
 */
export type FeedOrientation = "token-per-fiat" | "fiat-per-token";

/** One reading of a Chainlink `AggregatorV3Interface` feed: `latestRoundData().answer` and `decimals()`. */
export interface FeedReading {
  /** The answer, an `int256` on chain; it must be positive. */
  readonly answer: bigint;
  /** The feed's `decimals()`, 0 to {@link MAX_DECIMALS}. */
  readonly decimals: number | bigint;
  readonly orientation: FeedOrientation;
}

/** What {@link tokenAmountFor} converts. */
export interface TokenAmountQuery {
  /** The price in the fiat currency's minor units (cents for EUR and USD, yen for JPY); not negative. */
  readonly fiatAmount: bigint;
  /** The fiat currency's ISO 4217 minor units (USD 2, EUR 2, JPY 0), 0 to {@link MAX_DECIMALS}. */
  readonly fiatMinorUnits: number | bigint;
  /** The token's `decimals()` (bUSD 2, WETH 18), 0 to {@link MAX_DECIMALS}. */
  readonly tokenDecimals: number | bigint;
  /** The feed between the two currencies; absent when the token's currency is the price's. */
  readonly feed?: FeedReading;
}

/**
 * The largest decimals accepted for a feed, a token or a fiat currency. Far beyond any real one (ERC-20 tokens
 * use at most 18, Chainlink feeds 8 or 18, ISO 4217 at most 4), and small enough that `10^a * 10^b` of two of them
 * (10^72) stays within a `uint256`.
 */
export const MAX_DECIMALS = 36;

/** The largest `uint256`: no amount or result may exceed it, as the contract holds them in `uint256`. */
export const MAX_UINT256 = (1n << 256n) - 1n;

/** The largest `int256`, the type of a Chainlink answer. */
export const MAX_INT256 = (1n << 255n) - 1n;

/** The largest `uint16`, the type of `PaymentIntent.maxDeviationBps`. */
export const MAX_UINT16 = 0xffff;

const ORIENTATIONS: readonly FeedOrientation[] = ["token-per-fiat", "fiat-per-token"];

/**
 * The token amount (base units) that pays `fiatAmount`, rounded up, as `Checkout` computes it.
 *
 * @throws PriceError `CHECKOUT_BAD_FIAT_AMOUNT` (negative or above `uint256`), `CHECKOUT_BAD_DECIMALS` (not an
 *   integer from 0 to {@link MAX_DECIMALS}), `CHECKOUT_BAD_PRICE_ANSWER` (not positive, or above `int256`),
 *   `CHECKOUT_BAD_FEED_ORIENTATION`, `CHECKOUT_PRICE_OVERFLOW` (the result does not fit a `uint256`).
 */
export function tokenAmountFor(query: TokenAmountQuery): bigint {
  const { fiatAmount } = query;
  if (typeof fiatAmount !== "bigint" || fiatAmount < 0n || fiatAmount > MAX_UINT256) {
    throw new PriceError(
      "CHECKOUT_BAD_FIAT_AMOUNT",
      `fiat amount ${String(fiatAmount)} must be a bigint from 0 to 2^256 - 1 (minor units)`,
      { field: "fiatAmount", fiatAmount },
    );
  }
  const fiatScale = 10n ** decimalsOf("fiatMinorUnits", query.fiatMinorUnits);
  const tokenScale = 10n ** decimalsOf("tokenDecimals", query.tokenDecimals);
  let numerator: bigint;
  let denominator: bigint;
  const { feed } = query;
  if (feed === undefined) {
    numerator = fiatAmount * tokenScale;
    denominator = fiatScale;
  } else {
    const answer = answerOf("feed.answer", feed.answer);
    const feedScale = 10n ** decimalsOf("feed.decimals", feed.decimals);
    if (feed.orientation === "token-per-fiat") {
      numerator = fiatAmount * answer * tokenScale;
      denominator = feedScale * fiatScale;
    } else if (feed.orientation === "fiat-per-token") {
      numerator = fiatAmount * feedScale * tokenScale;
      denominator = answer * fiatScale;
    } else {
      throw new PriceError(
        "CHECKOUT_BAD_FEED_ORIENTATION",
        `feed orientation ${String(feed.orientation)} must be one of ${ORIENTATIONS.join(", ")}`,
        { field: "feed.orientation", orientation: feed.orientation },
      );
    }
  }
  const tokenAmount = ceilDiv(numerator, denominator);
  if (tokenAmount > MAX_UINT256) {
    throw new PriceError(
      "CHECKOUT_PRICE_OVERFLOW",
      `the token amount for fiat amount ${fiatAmount} does not fit a uint256 (${tokenAmount})`,
      { fiatAmount, tokenAmount },
    );
  }
  return tokenAmount;
}

/**
 * Whether a quote made at feed answer `quoted` still stands at answer `latest`: the contract's rule, true unless
 * `|latest - quoted| * 10_000 > quoted * maxBps`. A move of exactly `maxBps` stands.
 *
 * @throws PriceError `CHECKOUT_BAD_PRICE_ANSWER` (either answer not positive, or above `int256`),
 *   `CHECKOUT_BAD_DEVIATION_BPS` (`maxBps` not an integer from 0 to 65535, the `uint16` of the intent).
 */
export function withinDeviation(quoted: bigint, latest: bigint, maxBps: number | bigint): boolean {
  const q = answerOf("quoted", quoted);
  const l = answerOf("latest", latest);
  if (!isIntegerIn(maxBps, 0n, BigInt(MAX_UINT16))) {
    throw new PriceError(
      "CHECKOUT_BAD_DEVIATION_BPS",
      `max deviation ${String(maxBps)} must be an integer number of basis points from 0 to ${MAX_UINT16}`,
      { field: "maxBps", maxBps },
    );
  }
  const move = l > q ? l - q : q - l;
  return move * 10_000n <= q * BigInt(maxBps);
}

/** `ceil(numerator / denominator)` for `numerator >= 0`, `denominator > 0`. */
function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  return (numerator + denominator - 1n) / denominator;
}

function isIntegerIn(value: unknown, min: bigint, max: bigint): value is number | bigint {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && BigInt(value) >= min && BigInt(value) <= max;
  }
  return typeof value === "bigint" && value >= min && value <= max;
}

function decimalsOf(field: string, value: number | bigint): bigint {
  if (!isIntegerIn(value, 0n, BigInt(MAX_DECIMALS))) {
    throw new PriceError(
      "CHECKOUT_BAD_DECIMALS",
      `${field} ${String(value)} must be an integer from 0 to ${MAX_DECIMALS}`,
      {
        field,
        value,
      },
    );
  }
  return BigInt(value);
}

function answerOf(field: string, answer: bigint): bigint {
  if (typeof answer !== "bigint" || answer <= 0n || answer > MAX_INT256) {
    throw new PriceError(
      "CHECKOUT_BAD_PRICE_ANSWER",
      `feed answer ${String(answer)} (${field}) must be a positive int256; a feed answering zero or less is broken`,
      { field, answer },
    );
  }
  return answer;
}
