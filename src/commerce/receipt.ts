/**
 * The retailer's receipt (issue 20, "Retailer") and its hash, the `receiptHash` the platform's operator signs in
 * `Checkout.capture`: `keccak256(utf8(canonical JSON))`.
 *
 * Canonical JSON here: object keys sorted by UTF-16 code unit (`Array.prototype.sort`, which for the receipt's
 * ASCII keys is byte order), no whitespace, strings written as `JSON.stringify` writes them, integers as their
 * decimal digits; amounts are strings, never numbers. Anything else (a fraction, an unsafe integer, a bigint,
 * `undefined`) is refused rather than given a second spelling, so one receipt has exactly one hash.
 */
import { extendZodWithOpenApi } from "@asteasolutions/zod-to-openapi";
import { keccak256, toUtf8Bytes } from "ethers";
import { z } from "zod";

import { CommerceError } from "./errors.js";

extendZodWithOpenApi(z);

/** Largest amount accepted anywhere in the checkout: 2^64 − 1 minor units. */
export const MAX_AMOUNT = 2n ** 64n - 1n;

/**
 * An amount in minor units as a canonical decimal string: digits only, no sign, no leading zero, no exponent,
 * at least 1 and at most 2^64 − 1.
 */
export const amountSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,19}$/, "must be a whole number of minor units written in digits, without leading zeros")
  // zod runs the refinement after a failed regex too: only digits reach BigInt.
  .refine((value) => !/^[0-9]+$/.test(value) || BigInt(value) <= MAX_AMOUNT, {
    message: `must be at most ${MAX_AMOUNT}`,
  })
  .openapi({ description: "minor units (cents), a decimal integer string", example: "1999" });

/** An ISO 4217 alphabetic code. */
export const currencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code (three capital letters)")
  .openapi({ example: "EUR" });

/** The platform's order reference: 0x and 64 hex digits, lower case once read. */
export const referenceSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x and 64 hex digits")
  .transform((value) => value.toLowerCase())
  .openapi({ description: "the platform's order reference (bytes32)" });

/** A receipt as the retailer issues it. */
export const receiptSchema = z
  .object({
    orderId: z.string().min(1).max(64),
    reference: z.string().regex(/^0x[0-9a-f]{64}$/, "must be 0x and 64 lower-case hex digits"),
    sku: z.string().min(1).max(64),
    quantity: z.number().int().min(1).max(10),
    amount: amountSchema,
    currency: currencySchema,
    paidAt: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).openapi({ description: "unix seconds" }),
    retailer: z.string().min(1).max(128),
  })
  .strict()
  .openapi("Receipt");

export type Receipt = z.output<typeof receiptSchema>;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What canonical JSON can write. */
export type CanonicalValue = string | number | boolean | null | readonly CanonicalValue[] | CanonicalObject;
export interface CanonicalObject {
  readonly [key: string]: CanonicalValue;
}

/**
 * `value` as canonical JSON (see the module's comment). Throws `RECEIPT_INVALID` for a number that is not a safe
 * integer and for anything JSON cannot write exactly.
 */
export function canonicalJson(value: CanonicalValue, at = "$"): string {
  if (typeof value === "string") {
    // RFC 8785 writes only well-formed text: a lone UTF-16 surrogate has no spelling there.
    if (LONE_SURROGATE.test(value)) {
      throw new CommerceError("RECEIPT_INVALID", `${at}: a string with a lone UTF-16 surrogate`, { field: at });
    }
    return JSON.stringify(value);
  }
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new CommerceError("RECEIPT_INVALID", `${at}: ${value} is not a safe integer; write amounts as strings`, {
        field: at,
        value: String(value),
      });
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${(value as readonly CanonicalValue[]).map((item, i) => canonicalJson(item, `${at}[${i}]`)).join(",")}]`;
  }
  const prototype: unknown = typeof value === "object" ? Object.getPrototypeOf(value) : undefined;
  if (prototype === Object.prototype || prototype === null) {
    const object = value as CanonicalObject;
    const keys = Object.keys(object).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key]!, `${at}.${key}`)}`).join(",")}}`;
  }
  throw new CommerceError("RECEIPT_INVALID", `${at}: a ${typeof value} has no canonical JSON`, {
    field: at,
    type: typeof value,
  });
}

/** Checks `receipt` against `receiptSchema`; a failure is `RECEIPT_INVALID` naming the field. */
export function parseReceipt(receipt: unknown): Receipt {
  const result = receiptSchema.safeParse(receipt);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.map(String).join(".") || "receipt";
  throw new CommerceError("RECEIPT_INVALID", `receipt ${field}: ${issue.message}`, { field });
}

/** The receipt's canonical JSON, the exact text `receiptHash` hashes. The receipt is checked first. */
export function receiptCanonicalJson(receipt: Receipt): string {
  return canonicalJson({ ...parseReceipt(receipt) });
}

/** `keccak256(utf8(canonical JSON))` of the receipt, 0x-prefixed: what `Checkout.capture` records. */
export function receiptHash(receipt: Receipt): string {
  return keccak256(toUtf8Bytes(receiptCanonicalJson(receipt)));
}
