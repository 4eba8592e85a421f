/**
 * The bank agent's public API as data: the payment request and its validation
 * (zod, at the boundary), the JSON views of payments and accounts, and the
 * errors a request can meet, each of which the HTTP layer maps to one status.
 */
import { z } from "zod";

import { zodIssue } from "../chain/zod-issue.js";
import { BankChainError } from "../errors.js";
import type { Account, JournalEntry } from "./core-ledger.js";
import type { PaymentRecord } from "./payments.js";
import { ACCOUNT_ID_PATTERN, END_TO_END_ID_PATTERN } from "./terms.js";

/** A request that is not well-formed: not JSON, a missing or malformed field (HTTP 400). */
export class RequestInvalidError extends BankChainError {
  readonly field: string | undefined;
  constructor(code: string, message: string, field?: string, details: Record<string, unknown> = {}) {
    super(code, message, { ...details, ...(field === undefined ? {} : { field }) });
    this.field = field;
  }
}

/**
 * A well-formed payment the bank refuses: unknown bank or account, zero or
 * over-cap amount, insufficient funds, corridor paused or over its limit (HTTP 422).
 * Nothing was posted and no token moved.
 */
export class PaymentRefusedError extends BankChainError {
  readonly field: string | undefined;
  constructor(code: string, message: string, field?: string, details: Record<string, unknown> = {}) {
    super(code, message, { ...details, ...(field === undefined ? {} : { field }) });
    this.field = field;
  }
}

/** The end-to-end id is already used, here or on chain (HTTP 409). */
export class DuplicatePaymentError extends BankChainError {}

/** No payment or account with that id (HTTP 404). */
export class NotFoundError extends BankChainError {}

/** The chain could not be asked right now; nothing was posted (HTTP 503). */
export class AgentUnavailableError extends BankChainError {}

const amountSchema = z.union([
  z
    .string()
    .regex(/^\d{1,78}$/, "must be a whole number of minor units, as digits")
    .transform((value) => BigInt(value)),
  z
    .number()
    .int("must be a whole number of minor units")
    .nonnegative("must not be negative")
    .refine((value) => Number.isSafeInteger(value), "is too large for a JSON number; send it as a string")
    .transform((value) => BigInt(value)),
]);

export const paymentRequestSchema = z
  .object({
    debtorAccount: z.string().regex(ACCOUNT_ID_PATTERN, "must be an account id (letters, digits, . _ -)"),
    creditorBank: z.string().min(1).max(64),
    creditorAccount: z.string().regex(ACCOUNT_ID_PATTERN, "must be an account id (letters, digits, . _ -)"),
    amount: amountSchema,
    currency: z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as USD"),
    endToEndId: z.string().regex(END_TO_END_ID_PATTERN, "must be 1 to 32 characters of A-Z a-z 0-9 . , : ( ) ' + -"),
  })
  .strict();

/** A payment order from a customer of this bank, validated. */
export type PaymentRequest = z.output<typeof paymentRequestSchema>;

/**
 * Validates a parsed JSON body as a payment request.
 * @throws RequestInvalidError naming the first bad field.
 */
export function parsePaymentRequest(body: unknown): PaymentRequest {
  const result = paymentRequestSchema.safeParse(body);
  if (result.success) return result.data;
  const { code, field, message } = zodIssue(result.error, "body");
  throw new RequestInvalidError(code, message, code === "REQUEST_NOT_AN_OBJECT" ? undefined : field);
}

export interface LegView {
  /** The bank's directory id (`A`, `B`) or its trust-account address. */
  readonly bank: string;
  /** The customer account, where this bank knows it. */
  readonly account: string | null;
  readonly status: string;
}

export interface PaymentView {
  readonly id: string;
  readonly direction: "outbound" | "inbound";
  readonly status: string;
  readonly amount: string;
  readonly currency: string;
  readonly settlementId: string;
  /** Unix seconds (block time) by which bank B must smelt or reject. */
  readonly deadline: number;
  readonly debtor: LegView;
  readonly creditor: LegView;
  readonly reason: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
  readonly history: ReadonlyArray<{ readonly at: string; readonly what: string; readonly tx: string | null }>;
  /** This bank's journal entries for the payment, one per step posted. */
  readonly entries: ReadonlyArray<{
    readonly step: string;
    readonly postedAt: string;
    readonly lines: ReadonlyArray<{ readonly account: string; readonly side: string; readonly amount: string }>;
  }>;
}

export function paymentView(record: PaymentRecord, entries: readonly JournalEntry[]): PaymentView {
  return {
    id: record.id,
    direction: record.direction,
    status: record.status,
    amount: record.terms.amount.toString(),
    currency: record.currency,
    settlementId: record.terms.id,
    deadline: record.terms.deadline,
    debtor: { bank: record.debtorBank.id, account: record.debtorAccount, status: record.debtorLeg },
    creditor: { bank: record.creditorBank.id, account: record.creditorAccount, status: record.creditorLeg },
    reason: record.reason,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    finishedAt: record.finishedMs === null ? null : new Date(record.finishedMs).toISOString(),
    history: record.history,
    entries: entries.map((entry) => ({
      step: entry.step,
      postedAt: entry.postedAt,
      lines: entry.lines.map((line) => ({ account: line.account, side: line.side, amount: line.amount.toString() })),
    })),
  };
}

export interface AccountView {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly status: string;
  readonly balance: string;
  readonly currency: string;
}

export function accountView(account: Account, currency: string): AccountView {
  return {
    id: account.id,
    name: account.name,
    kind: account.kind,
    status: account.status,
    balance: account.balance.toString(),
    currency,
  };
}
