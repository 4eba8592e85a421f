import { z } from "zod";

import { zodIssue } from "../chain/zod-issue.js";

import {
  addressSchema,
  authorizationJsonSchema,
  bytes32Schema,
  signatureSchema,
  uintStringSchema,
  voucherJsonSchema,
} from "./voucher.js";

/**
 * The messages of an offline payment session, carried as JSON objects by the
 * secure channel (docs/offline-session.md, docs/offline.md):
 *
 *   merchant → buyer   payment_request
 *   buyer → merchant   voucher_offer      (a secured voucher, or an unsecured EIP-3009 authorization)
 *   merchant → buyer   decision           (accepted with the voucher hash, or refused with a reason code)
 *
 * Every received message is parsed with these schemas; anything else is `malformed`.
 */

export const PROTOCOL_VERSION = 1;

/** Why a merchant refused a voucher: a closed set, for buyers and logs to branch on. */
export const REFUSAL_REASONS = [
  "malformed",
  "bad_signature",
  "wrong_merchant",
  "wrong_amount",
  "wrong_lane",
  "kind_not_accepted",
  "over_voucher_limit",
  "over_lane_limit",
  "over_epoch_limit",
  "insufficient_locked",
  "insufficient_balance",
  "payer_cheater",
  "withdrawal_pending",
  "sequence_gap",
  "broken_chain",
  "duplicate_sequence",
  "duplicate_nonce",
  "not_yet_valid",
  "expired",
  "too_long",
  "stale_view",
  "internal_error",
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export const voucherKindSchema = z.enum(["secured", "unsecured"]);
export type VoucherKind = z.infer<typeof voucherKindSchema>;

export const requestIdSchema = z.string().regex(/^0x[0-9a-f]{32}$/, "0x and 32 lowercase hex digits");

export const paymentRequestSchema = z
  .object({
    type: z.literal("payment_request"),
    version: z.literal(PROTOCOL_VERSION),
    requestId: requestIdSchema,
    merchant: addressSchema,
    amount: uintStringSchema,
    chainId: uintStringSchema,
    vault: addressSchema,
    token: addressSchema,
    /** The lane the buyer must use (the merchant's lane: it holds that lane's chain). */
    lane: uintStringSchema,
    /** The validity window the merchant wants, unix seconds. */
    validAfter: uintStringSchema,
    validBefore: uintStringSchema,
    /** Which voucher kinds the merchant takes. */
    accepts: z.array(voucherKindSchema).min(1).max(2),
  })
  .strict();
export type PaymentRequest = z.infer<typeof paymentRequestSchema>;

export const voucherOfferSchema = z.discriminatedUnion("kind", [
  z
    .object({
      type: z.literal("voucher_offer"),
      version: z.literal(PROTOCOL_VERSION),
      requestId: requestIdSchema,
      kind: z.literal("secured"),
      voucher: voucherJsonSchema,
      signature: signatureSchema,
    })
    .strict(),
  z
    .object({
      type: z.literal("voucher_offer"),
      version: z.literal(PROTOCOL_VERSION),
      requestId: requestIdSchema,
      kind: z.literal("unsecured"),
      authorization: authorizationJsonSchema,
      signature: signatureSchema,
    })
    .strict(),
]);
export type VoucherOffer = z.infer<typeof voucherOfferSchema>;

export const decisionSchema = z.discriminatedUnion("outcome", [
  z
    .object({
      type: z.literal("decision"),
      version: z.literal(PROTOCOL_VERSION),
      requestId: requestIdSchema,
      outcome: z.literal("accepted"),
      kind: voucherKindSchema,
      voucherHash: bytes32Schema,
    })
    .strict(),
  z
    .object({
      type: z.literal("decision"),
      version: z.literal(PROTOCOL_VERSION),
      requestId: requestIdSchema,
      outcome: z.literal("refused"),
      reason: z.enum(REFUSAL_REASONS),
      message: z.string().max(500),
    })
    .strict(),
]);
export type Decision = z.infer<typeof decisionSchema>;

/** The first problem of a failed parse, as one line naming the field. */
export function describeIssue(error: z.ZodError): string {
  return zodIssue(error, "message").message.slice(0, 300);
}
