/**
 * The quote service (docs/commerce.md, "Quotes"): a client asks for a good of the retailer's catalogue; the
 * retailer's fiat price becomes a token amount at the price feed's latest round, and the operator signs the
 * payment intent that binds the two (the round included), with its expiries and fee. The invoice is stored as
 * `new`; the client gets the intent and signature (to authorize), the deposit address and the ERC-681 payment
 * request of a plain transfer to it (to pay from any wallet), and a QR code of that request.
 *
 * The amount is computed twice: by `price.ts` and by the contract's own `tokenAmountFor` at the same round. A
 * quote is only signed when both agree, so no quote the contract would refuse for its amount leaves the service.
 */
import { Contract, getAddress, hexlify, randomBytes, ZeroAddress, type Provider, type Wallet } from "ethers";

import { AggregatorV3Interface__factory, Checkout__factory, type Checkout } from "../../typechain-types/index.js";
import { decodeRevert } from "../chain/reverts.js";
import { CommerceError } from "./errors.js";
import { checkoutDomain, currencyBytes, currencyCode, intentIdOf, signIntent, type PaymentIntent } from "./intent.js";
import { depositAddressOf } from "./payment-request.js";
import { tokenAmountFor, type FeedOrientation } from "./price.js";
import type { CatalogueItem } from "./retailer-client.js";
import type { CheckoutContext, Invoice } from "./store.js";

const FROZEN_ABI = ["function isFrozen(address account) view returns (bool)"];

/** The terms the platform quotes on. */
export interface QuoteTerms {
  /** The payee of record (the platform's settlement account). */
  readonly merchant: string;
  readonly feeBps: number;
  readonly feeReceiver: string;
  readonly maxDeviationBps: number;
  /** Seconds a quote can be paid. */
  readonly quoteSeconds: number;
  /** Seconds after the quote's expiry the escrow can still be captured. */
  readonly authorizationSeconds: number;
  /** Seconds after the authorization's expiry a capture can be refunded. */
  readonly refundSeconds: number;
}

export interface QuoteServiceOptions extends CheckoutContext {
  readonly catalogue: () => Promise<readonly CatalogueItem[]>;
  /** The feed to price each fiat currency in the token's currency (by ISO code). */
  readonly feeds: ReadonlyMap<string, string>;
  readonly terms: QuoteTerms;
  readonly now: () => number;
}

export interface QuoteRequest {
  readonly sku: string;
  readonly quantity: number;
  readonly payer: string;
}

export class QuoteService {
  readonly #options: QuoteServiceOptions;
  readonly #checkout: Checkout;
  #implementation: string | undefined;

  constructor(options: QuoteServiceOptions) {
    this.#options = options;
    this.#checkout = Checkout__factory.connect(options.checkout, options.provider);
  }

  /** Prices the good, signs the intent and records the invoice. */
  async quote(request: QuoteRequest): Promise<Invoice> {
    const { terms, token } = this.#options;
    const payer = getAddress(request.payer);
    if (payer === ZeroAddress) {
      throw new CommerceError("CHECKOUT_BAD_PAYER", "the payer cannot be the zero address", { payer });
    }
    // Every return goes to the payer: not to the checkout or the token themselves (where it would be lost), nor to
    // an account the token freezes (a return would fail; a deposit of its own could be left at the address).
    if (payer === getAddress(this.#options.checkout) || payer === getAddress(token)) {
      throw new CommerceError(
        "CHECKOUT_BAD_PAYER",
        `the payer cannot be the ${payer === getAddress(token) ? "token" : "checkout"}`,
        {
          payer,
        },
      );
    }
    if ((await new Contract(token, FROZEN_ABI, this.#options.provider).getFunction("isFrozen")(payer)) as boolean) {
      throw new CommerceError("CHECKOUT_BAD_PAYER", `the payer ${payer} is frozen by the token`, { payer });
    }
    const items = await this.#options.catalogue();
    const item = items.find((candidate) => candidate.sku === request.sku);
    if (item === undefined) {
      throw new CommerceError("CHECKOUT_UNKNOWN_SKU", `the retailer sells no ${request.sku}`, { sku: request.sku });
    }
    const fiatAmount = item.price.amount * BigInt(request.quantity);
    const currency = item.price.currency;
    const { feed, roundId, answer, feedDecimals, orientation } = await this.#price(currency);
    const [tokenConfig, minorUnits] = await Promise.all([
      this.#checkout.tokenConfig(token),
      this.#checkout.minorUnitsOf(currencyBytes(currency)).catch((error: unknown) => {
        throw decodeRevert(error, Checkout__factory.abi) === undefined
          ? error
          : new CommerceError("CHECKOUT_UNKNOWN_CURRENCY", `the checkout does not price in ${currency}`, { currency });
      }),
    ]);
    const tokenAmount = tokenAmountFor({
      fiatAmount,
      fiatMinorUnits: minorUnits,
      tokenDecimals: tokenConfig.decimals,
      ...(answer === undefined ? {} : { feed: { answer, decimals: feedDecimals!, orientation: orientation! } }),
    });
    const onChain = await this.#checkout.tokenAmountFor(fiatAmount, currencyBytes(currency), token, feed, roundId);
    if (onChain !== tokenAmount) {
      throw new CommerceError(
        "CHECKOUT_PRICE_DISAGREES",
        `the checkout converts ${fiatAmount} ${currency} to ${onChain}, this service to ${tokenAmount}`,
        { onChain: onChain.toString(), offChain: tokenAmount.toString() },
      );
    }
    const now = await this.#chainNow();
    const quoteExpiry = now + BigInt(terms.quoteSeconds);
    const authorizationExpiry = quoteExpiry + BigInt(terms.authorizationSeconds);
    const intent: PaymentIntent = {
      payer,
      merchant: getAddress(terms.merchant),
      orderRef: hexlify(randomBytes(32)),
      fiatAmount,
      currency,
      token: getAddress(token),
      tokenAmount,
      priceFeed: getAddress(feed),
      roundId,
      maxDeviationBps: feed === ZeroAddress ? 0 : terms.maxDeviationBps,
      quoteExpiry,
      authorizationExpiry,
      refundExpiry: authorizationExpiry + BigInt(terms.refundSeconds),
      feeBps: terms.feeBps,
      feeReceiver: getAddress(terms.feeReceiver),
      salt: hexlify(randomBytes(32)),
    };
    // A signature counts only while its signer holds the role: a quote signed without it could never be paid.
    const operator = this.#options.operator.address;
    if (!(await this.#checkout.hasRole(await this.#checkout.OPERATOR_ROLE(), operator))) {
      throw new CommerceError(
        "CHECKOUT_NOT_OPERATOR",
        `the service's key ${operator} does not hold the checkout's OPERATOR_ROLE: no quote it signs could be paid`,
        { operator },
      );
    }
    const domain = checkoutDomain(this.#options.chainId, this.#options.checkout);
    const intentId = intentIdOf(domain, intent);
    const operatorSignature = await signIntent(this.#options.operator, domain, intent);
    return this.#options.store.add({
      intentId,
      intent,
      operatorSignature,
      depositAddress: depositAddressOf(this.#options.checkout, await this.implementation(), intentId),
      sku: item.sku,
      quantity: request.quantity,
      price: { amount: fiatAmount, currency },
    });
  }

  /** The deposit clones' implementation (read once). */
  async implementation(): Promise<string> {
    this.#implementation ??= await this.#checkout.depositImplementation();
    return this.#implementation;
  }

  /** The feed and round to price `currency` in the token's currency; none for the token's own currency. */
  async #price(currency: string): Promise<{
    feed: string;
    roundId: bigint;
    answer?: bigint;
    feedDecimals?: number;
    orientation?: FeedOrientation;
  }> {
    const tokenCurrency = currencyCode((await this.#checkout.tokenConfig(this.#options.token)).currency);
    if (tokenCurrency === currency) return { feed: ZeroAddress, roundId: 0n };
    const feed = this.#options.feeds.get(currency);
    if (feed === undefined) {
      throw new CommerceError(
        "CHECKOUT_NO_PRICE_FEED",
        `no price feed between ${currency} and ${tokenCurrency}: the good cannot be paid in this token`,
        { currency, tokenCurrency },
      );
    }
    const config = await this.#checkout.feedConfig(feed);
    const base = currencyCode(config.base);
    const quote = currencyCode(config.quote);
    const orientation: FeedOrientation | undefined =
      base === currency && quote === tokenCurrency
        ? "token-per-fiat"
        : base === tokenCurrency && quote === currency
          ? "fiat-per-token"
          : undefined;
    if (config.maxStaleness === 0n || orientation === undefined) {
      throw new CommerceError(
        "CHECKOUT_NO_PRICE_FEED",
        `the checkout does not read ${feed} as a price between ${currency} and ${tokenCurrency}`,
        { currency, tokenCurrency, feed },
      );
    }
    const latest = await AggregatorV3Interface__factory.connect(feed, this.#options.provider).latestRoundData();
    const now = await this.#chainNow();
    if (latest.answer <= 0n || latest.updatedAt + config.maxStaleness < now) {
      throw new CommerceError(
        "CHECKOUT_PRICE_UNAVAILABLE",
        `the ${base}/${quote} feed has no fresh positive answer (answer ${latest.answer}, updated at ${latest.updatedAt}, at most ${config.maxStaleness} s old)`,
        { feed, answer: latest.answer.toString(), updatedAt: latest.updatedAt.toString() },
      );
    }
    return {
      feed: getAddress(feed),
      roundId: latest.roundId,
      answer: latest.answer,
      feedDecimals: Number(config.decimals),
      orientation,
    };
  }

  async #chainNow(): Promise<bigint> {
    const block = await this.#options.provider.getBlock("latest");
    const wall = BigInt(Math.floor(this.#options.now() / 1000));
    return block === null || BigInt(block.timestamp) < wall ? wall : BigInt(block.timestamp);
  }
}
