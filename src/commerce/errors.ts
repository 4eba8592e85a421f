/**
 * The checkout's off-chain refusals (issue 20): one class, a stable code each, and the HTTP status a service
 * answers it with. Parts add their codes here so the HTTP layer maps every refusal in one place.
 */
import { BankChainError } from "../errors.js";

/** A checkout operation refused: by the retailer, by a receipt check, or by the platform. */
export class CommerceError extends BankChainError {}

/** HTTP status per code; a code not listed is a 400. */
export const COMMERCE_ERROR_STATUS: Readonly<Record<string, number>> = {
  RETAILER_UNKNOWN_SKU: 404,
  RETAILER_UNKNOWN_ORDER: 404,
  RETAILER_PAYMENT_DECLINED: 402,
  RETAILER_PRICE_CHANGED: 409,
  RETAILER_OUT_OF_STOCK: 409,
  RETAILER_IDEMPOTENCY_MISMATCH: 422,
  RETAILER_UNAVAILABLE: 503,
  RECEIPT_INVALID: 400,
  RETAILER_RECEIPT_MISMATCH: 409,
  RETAILER_REFUSED_CANCEL: 409,
  CHECKOUT_BAD_PAYER: 400,
  CHECKOUT_UNKNOWN_SKU: 404,
  CHECKOUT_UNKNOWN_INVOICE: 404,
  CHECKOUT_NO_PRICE_FEED: 422,
  CHECKOUT_UNKNOWN_CURRENCY: 422,
  CHECKOUT_PRICE_OVERFLOW: 422,
  CHECKOUT_PRICE_UNAVAILABLE: 503,
  CHECKOUT_PRICE_DISAGREES: 500,
  CHECKOUT_NOT_OPERATOR: 503,
  CHECKOUT_TX_DROPPED: 503,
  CHECKOUT_WRONG_STATUS: 409,
  CHECKOUT_REFUSED: 409,
};

/** The status a service answers `code` with. */
export function commerceStatus(code: string): number {
  return COMMERCE_ERROR_STATUS[code] ?? 400;
}
