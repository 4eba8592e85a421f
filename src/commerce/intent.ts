/**
 * The checkout's payment intent (docs/commerce.md, "The intent"): its EIP-712 types, exactly as `Checkout`
 * hashes them, its JSON form on the wire and in the store (every integer a decimal string), and the operator's
 * two signatures: over the intent (the quote) and over `Capture(intentId, receiptHash)`.
 */
import {
  decodeBytes32String,
  recoverAddress,
  encodeBytes32String,
  getAddress,
  TypedDataEncoder,
  type Signer,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";
import { z } from "zod";

import { addressSchema } from "../chain/schemas.js";

/** The EIP-712 types of `ICheckout`. */
export const CHECKOUT_TYPES = {
  PaymentIntent: [
    { name: "payer", type: "address" },
    { name: "merchant", type: "address" },
    { name: "orderRef", type: "bytes32" },
    { name: "fiatAmount", type: "uint256" },
    { name: "currency", type: "bytes3" },
    { name: "token", type: "address" },
    { name: "tokenAmount", type: "uint256" },
    { name: "priceFeed", type: "address" },
    { name: "roundId", type: "uint80" },
    { name: "maxDeviationBps", type: "uint16" },
    { name: "quoteExpiry", type: "uint48" },
    { name: "authorizationExpiry", type: "uint48" },
    { name: "refundExpiry", type: "uint48" },
    { name: "feeBps", type: "uint16" },
    { name: "feeReceiver", type: "address" },
    { name: "salt", type: "bytes32" },
  ],
} satisfies Record<string, TypedDataField[]>;

export const CAPTURE_TYPES = {
  Capture: [
    { name: "intentId", type: "bytes32" },
    { name: "receiptHash", type: "bytes32" },
  ],
} satisfies Record<string, TypedDataField[]>;

/** `Checkout.Method`, by name. */
export const METHODS = ["Allowance", "Permit", "ReceiveWithAuthorization", "Deposit"] as const;
export type Method = (typeof METHODS)[number];

/** `Checkout.Status`, by name. */
export const PAYMENT_STATUSES = ["None", "Authorized", "Captured", "Voided", "Reclaimed"] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** A payment intent, as `Checkout` takes it (integers as bigint, `currency` as its three letters). */
export interface PaymentIntent {
  readonly payer: string;
  readonly merchant: string;
  readonly orderRef: string;
  readonly fiatAmount: bigint;
  readonly currency: string;
  readonly token: string;
  readonly tokenAmount: bigint;
  readonly priceFeed: string;
  readonly roundId: bigint;
  readonly maxDeviationBps: number;
  readonly quoteExpiry: bigint;
  readonly authorizationExpiry: bigint;
  readonly refundExpiry: bigint;
  readonly feeBps: number;
  readonly feeReceiver: string;
  readonly salt: string;
}

/** The checkout's EIP-712 domain on `chainId` at `checkout`. */
export function checkoutDomain(chainId: bigint, checkout: string): TypedDataDomain {
  return { name: "BankChain Checkout", version: "1", chainId, verifyingContract: getAddress(checkout) };
}

/** A currency code as `bytes3` (`"EUR"` → `0x455552`). */
export function currencyBytes(code: string): string {
  return encodeBytes32String(code).slice(0, 8);
}

/** A `bytes3` back to its letters. */
export function currencyCode(bytes3: string): string {
  return decodeBytes32String(bytes3.padEnd(66, "0"));
}

/** The intent as the contract's tuple (what typechain takes), `currency` as `bytes3`. */
export function intentTuple(intent: PaymentIntent) {
  return { ...intent, currency: currencyBytes(intent.currency) };
}

/** The intent's id: its EIP-712 digest, as `Checkout.intentId`. */
export function intentIdOf(domain: TypedDataDomain, intent: PaymentIntent): string {
  return TypedDataEncoder.hash(domain, CHECKOUT_TYPES, intentTuple(intent));
}

/** The operator's signature over the intent (the quote). */
export async function signIntent(signer: Signer, domain: TypedDataDomain, intent: PaymentIntent): Promise<string> {
  return signer.signTypedData(domain, CHECKOUT_TYPES, intentTuple(intent));
}

/** The address that signed `intent` (any key; the contract also requires it to hold the operator role). */
export function intentSigner(domain: TypedDataDomain, intent: PaymentIntent, signature: string): string {
  return recoverAddress(intentIdOf(domain, intent), signature);
}

/** The operator's signature over `Capture(intentId, receiptHash)`. */
export async function signCapture(
  signer: Signer,
  domain: TypedDataDomain,
  intentId: string,
  receiptHash: string,
): Promise<string> {
  return signer.signTypedData(domain, CAPTURE_TYPES, { intentId, receiptHash });
}

const uint = (bits: number) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]*)$/, "a decimal integer without sign, exponent or leading zeros")
    .transform((text) => BigInt(text))
    .refine((value) => value < 1n << BigInt(bits), `at most ${bits} bits`);
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "0x and 64 hex digits");

/** The intent's JSON form: addresses checksummed, integers as decimal strings, `currency` its letters. */
export const intentJsonSchema = z
  .object({
    payer: addressSchema,
    merchant: addressSchema,
    orderRef: bytes32,
    fiatAmount: uint(256),
    currency: z.string().regex(/^[A-Z]{3}$/, "three upper-case letters"),
    token: addressSchema,
    tokenAmount: uint(256),
    priceFeed: addressSchema,
    roundId: uint(80),
    maxDeviationBps: uint(16).transform(Number),
    quoteExpiry: uint(48),
    authorizationExpiry: uint(48),
    refundExpiry: uint(48),
    feeBps: uint(16).transform(Number),
    feeReceiver: addressSchema,
    salt: bytes32,
  })
  .strict();

/** The intent as JSON (the inverse of `intentJsonSchema.parse`). */
export function intentToJson(intent: PaymentIntent): Record<string, string> {
  return {
    payer: getAddress(intent.payer),
    merchant: getAddress(intent.merchant),
    orderRef: intent.orderRef.toLowerCase(),
    fiatAmount: intent.fiatAmount.toString(),
    currency: intent.currency,
    token: getAddress(intent.token),
    tokenAmount: intent.tokenAmount.toString(),
    priceFeed: getAddress(intent.priceFeed),
    roundId: intent.roundId.toString(),
    maxDeviationBps: String(intent.maxDeviationBps),
    quoteExpiry: intent.quoteExpiry.toString(),
    authorizationExpiry: intent.authorizationExpiry.toString(),
    refundExpiry: intent.refundExpiry.toString(),
    feeBps: String(intent.feeBps),
    feeReceiver: getAddress(intent.feeReceiver),
    salt: intent.salt.toLowerCase(),
  };
}

/** Parses the JSON form (throws zod's error on anything else). */
export function intentFromJson(json: unknown): PaymentIntent {
  return intentJsonSchema.parse(json);
}
