/**
 * The checkout services `npm start` runs (see `src/services.ts`): the devnet's retailer (`retailer`, a real HTTP
 * shop selling for fiat, `src/commerce/retailer.ts`) and the platform's `checkout` service: quotes, the payment
 * verifier, the retailer adapter and the HTTP API (docs/commerce.md, "The service"). Elsewhere the checkout
 * buys from the retailer `CHECKOUT_RETAILER_URL` names.
 *
 * Environment: `CHECKOUT_SETTINGS` below and the retailer's `RETAILER_SETTINGS` (docs/operations.md).
 */
import { AbiCoder, getAddress, MaxUint256, ZeroAddress } from "ethers";

import { BankToken__factory, Checkout__factory } from "../../typechain-types/index.js";
import { systemClock, type Clock } from "../chain/clock.js";
import { dutyWallet } from "../chain/duty-wallet.js";
import { isDevnet } from "../chain/networks.js";
import { Poller } from "../chain/poller.js";
import { mined } from "../chain/receipts.js";
import { decodeRevert } from "../chain/reverts.js";
import {
  openDeploymentStore,
  serviceOwningStore,
  type Service,
  type ServiceContext,
  type ServiceFactory,
} from "../chain/service.js";
import { int, settingsSchema, text } from "../chain/settings.js";
import { messageOf } from "../errors.js";
import { CommerceError } from "./errors.js";
import { checkoutHttpServer, type CheckoutApi } from "./http.js";
import { intentTuple, METHODS } from "./intent.js";
import { CheckoutProcessor } from "./processor.js";
import { QuoteService } from "./quote.js";
import { retailerService } from "./retailer.js";
import { RetailerClient } from "./retailer-client.js";
import { InvoiceStore, type Invoice } from "./store.js";

export const DEFAULT_CHECKOUT_PORT = 8661;

/** The devnet's settlement account (account 13) and fee account (account 14), funded by deploy/011_commerce.ts. */
const DEVNET_MERCHANT = "0x1CBd3b2770909D4e10f157cABC84C7264073C9Ec";
const DEVNET_FEE_RECEIVER = "0xdF3e18d64BC6A983f673Ab319CCaE4f1a57C7097";
const ADDRESS = /^(0x[0-9a-fA-F]{40})?$/;

/** The checkout service's environment. */
export const CHECKOUT_SETTINGS = settingsSchema("checkout", {
  CHECKOUT_PORT: int("port of the checkout API on 127.0.0.1 (0 picks a free one)", DEFAULT_CHECKOUT_PORT, 0, 65_535),
  CHECKOUT_RETAILER_URL: text(
    "the retailer's API; empty: the retailer `npm start` runs",
    "an http(s) URL, or empty",
    /^(https?:\/\/\S+)?$/,
    "",
    { required: false },
  ),
  CHECKOUT_MERCHANT: text(
    "the settlement account captured payments go to (it funds refunds); empty: the operator's own account",
    "an address, or empty",
    ADDRESS,
    DEVNET_MERCHANT,
    { required: false },
  ),
  CHECKOUT_FEE_BPS: int("the platform's fee, in basis points of each payment", { devnet: 100, elsewhere: 0 }, 0, 1_000),
  CHECKOUT_FEE_RECEIVER: text(
    "the account the fee goes to (required with a fee)",
    "an address, or empty",
    ADDRESS,
    DEVNET_FEE_RECEIVER,
    { required: false },
  ),
  CHECKOUT_MAX_DEVIATION_BPS: int(
    "how far (basis points) the price may move between the quote and the payment",
    100,
    0,
    10_000,
  ),
  CHECKOUT_QUOTE_SECONDS: int("how long a quote can be paid (s)", 900, 60, 86_400),
  CHECKOUT_AUTHORIZATION_SECONDS: int(
    "how long after the quote's expiry an escrow can be captured (s): the time to buy at the retailer",
    { devnet: 3_600, elsewhere: 24 * 3_600 },
    120,
    30 * 86_400,
  ),
  CHECKOUT_REFUND_SECONDS: int(
    "how long after the authorization's expiry a capture can be refunded (s)",
    30 * 86_400,
    0,
    365 * 86_400,
  ),
  CHECKOUT_CONFIRMATIONS: int(
    "blocks on top of an authorization before the good is bought",
    { devnet: 0, elsewhere: 2 },
    0,
    1_000,
  ),
  CHECKOUT_POLL_MS: int("pause between two rounds of the verifier and the adapter (ms)", 1_000, 10, 600_000),
  CHECKOUT_RETRY_MS: int(
    "first wait after a failed order at the retailer, doubling up to 5 min (ms)",
    2_000,
    10,
    300_000,
  ),
  CHECKOUT_PAGE_SIZE: int(
    "invoices each step of a round reads from the store at a time (every due invoice is looked at each round)",
    100,
    1,
    10_000,
  ),
});

export interface CheckoutServiceOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  /** The retailer's URL when `CHECKOUT_RETAILER_URL` is empty (the retailer `npm start` runs). */
  readonly retailerUrl?: () => string | undefined;
  /** Step points of the engine (`CheckoutProcessor` `onStep`), for the crash tests. */
  readonly onStep?: (point: string) => void;
  readonly host?: string;
}

/** The checkout service. */
export function checkoutService(options: CheckoutServiceOptions = {}): ServiceFactory {
  const name = "checkout";
  return {
    name,
    async create(context: ServiceContext): Promise<Service> {
      const env = options.env ?? process.env;
      const { chain, deployments } = context;
      const settings = CHECKOUT_SETTINGS.read(env, { devnet: isDevnet(chain.chainId) });
      const clock = options.clock ?? systemClock;
      const operator = await dutyWallet(chain, "checkoutOperator");
      const deployment = deployments.get("Checkout");
      const token = deployments.get("BankToken").address;
      const merchant = getAddress(settings.CHECKOUT_MERCHANT === "" ? operator.address : settings.CHECKOUT_MERCHANT);
      const feeReceiver =
        settings.CHECKOUT_FEE_RECEIVER === "" ? ZeroAddress : getAddress(settings.CHECKOUT_FEE_RECEIVER);
      if (settings.CHECKOUT_FEE_BPS > 0 && feeReceiver === ZeroAddress) {
        throw new CommerceError(
          "CHECKOUT_NO_FEE_RECEIVER",
          "CHECKOUT_FEE_BPS is set without CHECKOUT_FEE_RECEIVER",
          {},
        );
      }
      const retailerUrl = (): string => {
        const url = settings.CHECKOUT_RETAILER_URL === "" ? options.retailerUrl?.() : settings.CHECKOUT_RETAILER_URL;
        if (url === undefined) {
          throw new CommerceError("RETAILER_UNAVAILABLE", "no retailer: set CHECKOUT_RETAILER_URL", {});
        }
        return url;
      };
      // The devnet's feeds are deployed as PriceFeed<fiat><token currency>; elsewhere none is known yet.
      const feeds = new Map<string, string>();
      for (const currency of ["EUR", "JPY", "GBP", "CHF"]) {
        const feed = deployments.contracts.get(`PriceFeed${currency}USD`);
        if (feed !== undefined) feeds.set(currency, feed.address);
      }
      const raw = await openDeploymentStore(context, name, "Checkout");
      return serviceOwningStore(name, raw, () => {
        const store = new InvoiceStore(raw, () => clock.now());
        const retailer = {
          order: (key: string, request: Parameters<RetailerClient["order"]>[1]) =>
            new RetailerClient(retailerUrl()).order(key, request),
        };
        const shared = {
          store,
          provider: chain.provider,
          checkout: deployment.address,
          token,
          chainId: BigInt(chain.chainId),
          operator,
        };
        const processor = new CheckoutProcessor({
          ...shared,
          retailer,
          confirmations: settings.CHECKOUT_CONFIRMATIONS,
          fromBlock: deployment.blockNumber ?? 0,
          retry: { baseMs: settings.CHECKOUT_RETRY_MS, maxMs: 300_000, factor: 2 },
          voidMarginSeconds: 60n,
          pageSize: settings.CHECKOUT_PAGE_SIZE,
          now: () => clock.now(),
          log: context.log,
          ...(options.onStep === undefined ? {} : { onStep: options.onStep }),
        });
        const quotes = new QuoteService({
          ...shared,
          catalogue: () => new RetailerClient(retailerUrl()).catalogue(),
          feeds,
          terms: {
            merchant,
            feeBps: settings.CHECKOUT_FEE_BPS,
            feeReceiver,
            maxDeviationBps: settings.CHECKOUT_MAX_DEVIATION_BPS,
            quoteSeconds: settings.CHECKOUT_QUOTE_SECONDS,
            authorizationSeconds: settings.CHECKOUT_AUTHORIZATION_SECONDS,
            refundSeconds: settings.CHECKOUT_REFUND_SECONDS,
          },
          now: () => clock.now(),
        });
        const refunds = new KeyedQueue();
        const api: CheckoutApi = {
          store,
          chainId: BigInt(chain.chainId),
          checkout: deployment.address,
          quote: (request) => quotes.quote(request),
          catalogue: () => new RetailerClient(retailerUrl()).catalogue(),
          submitAuthorization: async (invoice, authorization) => {
            expectStatus(invoice, ["new"]);
            const data = AbiCoder.defaultAbiCoder().encode(
              ["uint256", "uint256", "bytes"],
              [authorization.validAfter, authorization.validBefore, authorization.signature],
            );
            const hash = await refusedAs(() =>
              processor.send(`authorize ${invoice.intentId} (EIP-3009)`, (checkout) =>
                checkout.authorize(
                  intentTuple(invoice.intent),
                  invoice.operatorSignature,
                  METHODS.indexOf("ReceiveWithAuthorization"),
                  data,
                ),
              ),
            );
            rounds.wake();
            return hash;
          },
          // One refund of an invoice at a time, each reading what is left on chain: a full refund racing a partial
          // one must not cancel the order, then find less to refund than it cancelled for.
          refund: (invoice, amount, cancelOrder) =>
            refunds.run(invoice.intentId, async () => {
              expectStatus(store.get(invoice.intentId)!, ["complete", "refunded"]);
              const payment = await processor.contract.paymentOf(invoice.intentId);
              const available = payment.captured - payment.refunded;
              const value = amount ?? available;
              // The checkout's answer first (the merchant's balance and allowance, the expiry, the amount): an order is
              // cancelled only for a refund that will go through.
              await refusedAs(async () => {
                await processor.contract.refund.staticCall(intentTuple(invoice.intent), value);
                return "";
              });
              if (cancelOrder && invoice.receipt !== null && value === available) {
                const cancelled = await new RetailerClient(retailerUrl()).cancel(invoice.receipt.orderId);
                if (cancelled.status !== 200) {
                  throw new CommerceError(
                    "RETAILER_REFUSED_CANCEL",
                    `the retailer did not cancel order ${invoice.receipt.orderId} (${cancelled.status}): ${JSON.stringify(cancelled.json).slice(0, 200)}`,
                    { orderId: invoice.receipt.orderId },
                  );
                }
                store.update(invoice.intentId, {}, `order ${invoice.receipt.orderId} cancelled at the retailer`);
              }
              const hash = await refusedAs(() =>
                processor.send(`refund ${value} of ${invoice.intentId}`, (checkout) =>
                  checkout.refund(intentTuple(invoice.intent), value),
                ),
              );
              rounds.wake();
              return hash;
            }),
        };
        const http = checkoutHttpServer(api, {
          host: options.host ?? "127.0.0.1",
          port: settings.CHECKOUT_PORT,
          log: context.log,
          health: {
            blockNumber: () => chain.provider.getBlockNumber(),
            followerNextBlock: () => processor.nextBlock(),
            checkDatabase: () => store.check(),
          },
        });
        const rounds = new Poller({
          tick: () => processor.tick(),
          intervalMs: settings.CHECKOUT_POLL_MS,
          onError: (error) => context.log(`checkout round: ${messageOf(error)}`),
        });
        return {
          url: () => http.url ?? `http://127.0.0.1:${settings.CHECKOUT_PORT}`,
          async start() {
            if (merchant === operator.address) await allowRefunds(operator, token, deployment.address);
            await http.start();
            rounds.start();
            context.log(`checkout signs quotes as ${operator.address}; payments are captured to ${merchant}`);
          },
          async stop() {
            await rounds.stop();
            await http.stop();
          },
        };
      });
    },
  };
}

/** Runs tasks one at a time per key (an invoice's refunds), in the order they came. */
class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const next = (this.#tails.get(key) ?? Promise.resolve()).then(task, task);
    const tail = next.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }
}

/** An invoice must be in one of `statuses` for the call. */
function expectStatus(invoice: Invoice, statuses: readonly Invoice["status"][]): void {
  if (!statuses.includes(invoice.status)) {
    throw new CommerceError(
      "CHECKOUT_WRONG_STATUS",
      `invoice ${invoice.intentId} is ${invoice.status}, not ${statuses.join(" or ")}`,
      { intentId: invoice.intentId, status: invoice.status },
    );
  }
}

/** A transaction the checkout refuses becomes `CHECKOUT_REFUSED` with the contract's error. */
async function refusedAs(send: () => Promise<string>): Promise<string> {
  try {
    return await send();
  } catch (error) {
    const revert = decodeRevert(error, Checkout__factory.abi, BankToken__factory.abi);
    if (revert === undefined) throw error;
    throw new CommerceError("CHECKOUT_REFUSED", revert.message, { error: revert.errorName, args: revert.args });
  }
}

/** The operator as its own settlement account lets the checkout draw refunds from it. */
async function allowRefunds(
  operator: Awaited<ReturnType<typeof dutyWallet>>,
  token: string,
  checkout: string,
): Promise<void> {
  const bank = BankToken__factory.connect(token, operator);
  if ((await bank.allowance(operator.address, checkout)) !== MaxUint256) {
    await mined(await bank.approve(checkout, MaxUint256));
  }
}

/**
 * The retailer and the checkout for `npm start`: the checkout buys from this retailer unless
 * `CHECKOUT_RETAILER_URL` names another.
 */
export function commerceServices(options: CheckoutServiceOptions = {}): readonly ServiceFactory[] {
  let shop: Service | undefined;
  const retailerFactory = retailerService(options.env === undefined ? {} : { env: options.env });
  return [
    {
      name: retailerFactory.name,
      async create(context) {
        shop = await retailerFactory.create(context);
        return shop;
      },
    },
    checkoutService({ ...options, retailerUrl: () => shop?.url }),
  ];
}
