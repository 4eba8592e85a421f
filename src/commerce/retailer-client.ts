/**
 * The retailer adapter's side of the retailer's HTTP API (`src/commerce/retailer.ts` is the devnet's retailer;
 * a real one answers the same API): the catalogue, an order under an `Idempotency-Key`, a cancellation.
 *
 * An order's answer is checked before it is believed: the receipt must hash to the hash the retailer states,
 * and must be for the reference, good, quantity and price asked. A receipt that does not match is a refusal
 * (`RETAILER_RECEIPT_MISMATCH`): the payment is voided rather than captured on a receipt that is not this
 * purchase's. A refusal the retailer states (4xx) is final for the key; anything else (no answer, a 5xx, a timeout,
 * an answer that is not JSON, a redirect, which is never followed) is "unavailable", and the adapter tries again
 * later with the same key.
 */
import { z } from "zod";

import { callApi, type ApiCallLimits, type ApiClientErrors } from "../chain/api-client.js";
import { messageOf } from "../errors.js";
import { CommerceError } from "./errors.js";
import type { RetailerOrderRequest, RetailerOrderResult, RetailerPort } from "./processor.js";
import { receiptHash, receiptSchema } from "./receipt.js";

/** One item of a retailer's catalogue. */
export interface CatalogueItem {
  readonly sku: string;
  readonly title: string;
  readonly price: { readonly amount: bigint; readonly currency: string };
}

const catalogueSchema = z.object({
  items: z.array(
    z.object({
      sku: z.string().min(1).max(64),
      title: z.string().max(256),
      price: z.object({
        amount: z.string().regex(/^[1-9][0-9]{0,19}$/),
        currency: z.string().regex(/^[A-Z]{3}$/),
      }),
    }),
  ),
});

const orderSchema = z.object({
  orderId: z.string().min(1).max(64),
  receipt: receiptSchema,
  receiptHash: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
});

const refusalSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** Bounds of one call to the retailer. */
export const RETAILER_CALL_LIMITS: ApiCallLimits = { timeoutMs: 10_000, maxReplyBytes: 64 * 1024 };

const ERRORS: ApiClientErrors = {
  badUrl: (value) => new CommerceError("CHECKOUT_BAD_RETAILER_URL", `not an http(s) URL: ${value}`, { value }),
  unreachable: (api, cause) =>
    new CommerceError("RETAILER_UNAVAILABLE", `the retailer at ${api} did not answer: ${cause}`, { api }),
  timeout: (api, ms) =>
    new CommerceError("RETAILER_UNAVAILABLE", `the retailer at ${api} did not answer within ${ms} ms`, { api }),
  tooLarge: (api, bytes) =>
    new CommerceError("RETAILER_UNAVAILABLE", `the retailer at ${api} answered with more than ${bytes} bytes`, {
      api,
    }),
};

/**
 * A redirect is never followed: it would send the order (its body and `Idempotency-Key`) to a server the
 * platform did not choose. A 3xx is an answer that is not an order: "unavailable", tried again later.
 */
const NO_REDIRECT = { redirect: "manual" } as const;

export class RetailerClient implements RetailerPort {
  readonly #url: string;
  readonly #limits: ApiCallLimits;

  constructor(url: string, limits: ApiCallLimits = RETAILER_CALL_LIMITS) {
    this.#url = url.replace(/\/+$/, "");
    this.#limits = limits;
  }

  get url(): string {
    return this.#url;
  }

  /** The catalogue; throws `CommerceError` `RETAILER_UNAVAILABLE` when it cannot be read. */
  async catalogue(): Promise<CatalogueItem[]> {
    const reply = await callApi(this.#url, "/catalogue", undefined, ERRORS, this.#limits, NO_REDIRECT);
    const parsed = catalogueSchema.safeParse(reply.json);
    if (reply.status !== 200 || !parsed.success) {
      throw new CommerceError("RETAILER_UNAVAILABLE", `the retailer's catalogue could not be read (${reply.status})`, {
        status: reply.status,
      });
    }
    return parsed.data.items.map((item) => ({
      sku: item.sku,
      title: item.title,
      price: { amount: BigInt(item.price.amount), currency: item.price.currency },
    }));
  }

  async order(idempotencyKey: string, request: RetailerOrderRequest): Promise<RetailerOrderResult> {
    let reply: { status: number; json: unknown };
    try {
      reply = await callApi(
        this.#url,
        "/orders",
        {
          sku: request.sku,
          quantity: request.quantity,
          price: { amount: request.price.amount.toString(), currency: request.price.currency },
          reference: request.reference,
        },
        ERRORS,
        this.#limits,
        { ...NO_REDIRECT, headers: { "idempotency-key": idempotencyKey } },
      );
    } catch (error) {
      return { kind: "unavailable", message: messageOf(error) };
    }
    if (reply.status === 200 || reply.status === 201) {
      const parsed = orderSchema.safeParse(reply.json);
      if (!parsed.success) return { kind: "unavailable", message: `an order answer that is not one (${reply.status})` };
      const { orderId, receipt } = parsed.data;
      const hash = receiptHash(receipt);
      const mismatch =
        hash !== parsed.data.receiptHash.toLowerCase()
          ? `its receipt hashes to ${hash}, not ${parsed.data.receiptHash}`
          : receipt.orderId !== orderId ||
              receipt.reference !== request.reference.toLowerCase() ||
              receipt.sku !== request.sku ||
              receipt.quantity !== request.quantity ||
              receipt.amount !== request.price.amount.toString() ||
              receipt.currency !== request.price.currency
            ? "its receipt is for another order, good, quantity or price"
            : undefined;
      if (mismatch !== undefined) {
        return { kind: "refused", code: "RETAILER_RECEIPT_MISMATCH", message: `the retailer's answer: ${mismatch}` };
      }
      return { kind: "ordered", orderId, receipt: { ...receipt }, receiptHash: hash };
    }
    const refusal = refusalSchema.safeParse(reply.json);
    if (reply.status >= 400 && reply.status < 500 && reply.status !== 408 && reply.status !== 429) {
      return refusal.success
        ? { kind: "refused", code: refusal.data.error.code, message: refusal.data.error.message }
        : { kind: "refused", code: `RETAILER_HTTP_${reply.status}`, message: `the retailer answered ${reply.status}` };
    }
    return {
      kind: "unavailable",
      message: refusal.success
        ? `${reply.status} ${refusal.data.error.code}: ${refusal.data.error.message}`
        : `the retailer answered ${reply.status}`,
    };
  }

  /** Cancels an order (the refund path); the order as the retailer now shows it. */
  async cancel(orderId: string): Promise<{ status: number; json: unknown }> {
    return callApi(this.#url, `/orders/${encodeURIComponent(orderId)}/cancel`, {}, ERRORS, this.#limits, NO_REDIRECT);
  }
}
