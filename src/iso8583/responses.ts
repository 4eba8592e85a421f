/**
 * The gateway's response codes (DE 39) and how ledger refusals map onto them.
 */
import type { ErrorName } from "../chain/reverts.js";
import type { AccountLedger__factory } from "../../typechain-types/index.js";
export const RESPONSE_CODES = {
  approved: "00",
  invalidTransaction: "12",
  invalidAmount: "13",
  unknownAccount: "14",
  noOriginal: "25",
  formatError: "30",
  insufficientFunds: "51",
  expiredCard: "54",
  overLimit: "61",
  restrictedCard: "62",
  securityViolation: "63",
  unavailable: "91",
  duplicate: "94",
} as const;

export type ResponseCode = (typeof RESPONSE_CODES)[keyof typeof RESPONSE_CODES];

/** The AccountLedger's custom errors, from its ABI: a renamed error breaks the map below at compile time. */
export type LedgerErrorName = ErrorName<typeof AccountLedger__factory.abi>;

/** DE 39 for a ledger custom error (see AccountLedger); anything unexpected is 91. */
export function responseForLedgerError(error: string): ResponseCode {
  switch (error as LedgerErrorName) {
    case "InsufficientFunds":
      return RESPONSE_CODES.insufficientFunds;
    case "OverLimit":
      return RESPONSE_CODES.overLimit;
    case "UnknownProfile":
    case "ProfileClosed":
      return RESPONSE_CODES.unknownAccount;
    case "AccountLedgerZeroAmount":
    case "AmountTooLarge":
    case "CaptureExceedsHold":
    case "ReversalExceedsOutstanding":
      return RESPONSE_CODES.invalidAmount;
    case "HoldNotOpen":
    case "NotReversible":
    case "UnknownOperation":
      return RESPONSE_CODES.invalidTransaction;
    default:
      // RatioBreached (the bank must fund its central token account first), a
      // missing role, or anything else the issuer must fix: the issuer cannot
      // take it now.
      return RESPONSE_CODES.unavailable;
  }
}
