/**
 * The interop API gateway's public API as data: the errors a submission can
 * meet (each mapped to one HTTP status by `http.ts`), the JSON view of a
 * transaction and its legs, and the reading of a contract's refusal of a
 * payload as the API's code and field. The gateway itself is
 * `api-gateway.ts`.
 */
import type { Interface } from "ethers";

import { ContractRevertError, errorInterface, revertOf } from "../chain/reverts.js";
import { BankChainError } from "../errors.js";
import {
  BankToken__factory,
  BridgeRegistry__factory,
  ChainRegistry__factory,
  IAttestedGateway__factory,
  IBurnMintLane__factory,
  IInteropGateway__factory,
  InteropGateway__factory,
} from "../../typechain-types/index.js";

/** A well-formed payload the gateway refuses now (HTTP 422): nothing was stored or sent. */
export class PayloadRefusedError extends BankChainError {
  readonly field: string | undefined;
  constructor(code: string, message: string, field?: string, details: Record<string, unknown> = {}) {
    super(code, message, { ...details, ...(field === undefined ? {} : { field }) });
    this.field = field;
  }
}

/** A chain could not be asked right now (HTTP 503): nothing was stored. */
export class ChainUnavailableError extends BankChainError {}

/** An id that several signers submitted, asked for without a signer (HTTP 409). */
export class AmbiguousTransactionError extends BankChainError {}

/** A transaction's statuses, in the order it moves through them (`failed`: never executed). */
export const TRANSACTION_STATUSES = ["accepted", "submitted", "executed", "delivered", "refunded", "failed"] as const;
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];

/** Where a newest-first page of transactions resumes: after the transaction with this sort key. */
export interface TransactionCursor {
  /** ISO 8601, as `createdAt`. */
  readonly createdAt: string;
  readonly id: string;
  readonly signer: string;
}

/** `GET /transactions/:id`. */
export interface TransactionView {
  readonly id: string;
  readonly signer: string;
  /** accepted → submitted → executed (native: final) → delivered or refunded (cross-chain); or failed. */
  readonly status: TransactionStatus;
  readonly kind: string;
  readonly reason: string | null;
  readonly payload: Record<string, unknown>;
  readonly source: {
    readonly chain: string;
    readonly txHash: string | null;
    readonly blockNumber: number | null;
    readonly status: "pending" | "submitted" | "executed" | "failed";
  };
  /** The cross-chain message, once the source transaction is mined (null for a native payload). */
  readonly message: {
    readonly id: string;
    readonly nonce: string;
    readonly deadline: number;
    /** On the source gateway: `Sent` or `Refunded`. */
    readonly status: string;
  } | null;
  readonly destination: {
    readonly chain: string;
    /** On the destination gateway: `None` (not yet), `Failed` (stored, retried until the deadline), `Delivered`. */
    readonly status: string;
    readonly txHash: string | null;
  } | null;
  readonly refund: { readonly txHash: string | null } | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Every custom error a payload can meet on its way: gateway, registries, lane, attested gateway, token. */
export const REFUSALS: Interface = errorInterface([
  // The contract's ABI as well as its interface's: it adds Pausable's, AccessControl's and SafeERC20's errors.
  InteropGateway__factory.abi,
  IInteropGateway__factory.abi,
  // OpenZeppelin's ERC-20 errors (IERC20Errors), for assets other than the BankToken.
  [
    "error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)",
    "error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)",
  ],
  BridgeRegistry__factory.abi,
  ChainRegistry__factory.abi,
  IBurnMintLane__factory.abi,
  IAttestedGateway__factory.abi,
  BankToken__factory.abi,
]);

/** A contract error → the API's code and the field it is about. */
const REFUSAL_CODES: Readonly<Record<string, readonly [string, string | undefined]>> = {
  InteropGatewayExpired: ["PAYLOAD_EXPIRED", "payload.deadline"],
  InteropGatewayNonceUsed: ["NONCE_USED", "payload.nonce"],
  InteropGatewayInvalidSignature: ["SIGNATURE_INVALID", "signature"],
  InteropGatewayUnknownChain: ["UNKNOWN_CHAIN", "payload.destinationChain"],
  InteropGatewayChainDisabled: ["CHAIN_DISABLED", "payload.destinationChain"],
  UnknownChain: ["UNKNOWN_CHAIN", "payload.destinationChain"],
  UnknownCaip2: ["UNKNOWN_CHAIN", "payload.destinationChain"],
  ChainDisabled: ["CHAIN_DISABLED", "payload.destinationChain"],
  NoRoute: ["NO_ROUTE", "payload.destinationChain"],
  NoBridge: ["NO_ROUTE", "payload.destinationChain"],
  RoutePaused: ["ROUTE_PAUSED", "payload.destinationChain"],
  RouteRateLimitExceeded: ["RATE_LIMITED", "payload.amount"],
  InteropGatewayUnknownAsset: ["UNKNOWN_ASSET", "payload.asset"],
  InteropGatewayTargetNotAllowed: ["TARGET_NOT_ALLOWED", "payload.target"],
  InteropGatewayBadQuote: ["EXCHANGE_REFUSED", "payload.data"],
  InteropGatewayQuoteExpired: ["EXCHANGE_REFUSED", "payload.data"],
  InteropGatewaySlippage: ["EXCHANGE_REFUSED", "payload.data"],
  InteropGatewayNoFxDesk: ["EXCHANGE_REFUSED", "payload.kind"],
  InteropGatewayCallFailed: ["CALL_FAILED", "payload.data"],
  EnforcedPause: ["PAUSED", undefined],
  BankTokenPaused: ["PAUSED", "payload.asset"],
  BankTokenFrozen: ["ACCOUNT_FROZEN", undefined],
  BankTokenInsufficientBalance: ["INSUFFICIENT_FUNDS", "payload.amount"],
  BankTokenInsufficientAllowance: ["INSUFFICIENT_ALLOWANCE", "payload.amount"],
  ERC20InsufficientBalance: ["INSUFFICIENT_FUNDS", "payload.amount"],
  ERC20InsufficientAllowance: ["INSUFFICIENT_ALLOWANCE", "payload.amount"],
  AttestedGatewayUnknownChain: ["NO_ROUTE", "payload.destinationChain"],
};

/** The API's answer to a refusal of `execute`. */
export function refusalOf(revert: ContractRevertError): PayloadRefusedError {
  const [code, field] = REFUSAL_CODES[revert.errorName] ?? ["CHAIN_REFUSED", undefined];
  return new PayloadRefusedError(
    code,
    `the InteropGateway refuses the payload: ${revert.message.replace(/^the chain refused the transaction: /, "")}`,
    field,
    { error: revert.errorName || null, args: revert.args },
  );
}

/**
 * The API's reading of an `executeBatch` item's `PayloadFailed(id, signer, reason)`: `reason` is the revert data
 * `execute` would have reverted with (cut to 1,024 bytes by the contract), decoded as `refusalOf` decodes a refusal.
 */
export function payloadFailure(reason: string): PayloadRefusedError {
  const revert = revertOf({ data: reason }, REFUSALS) ?? { name: "", args: [], params: [], data: reason };
  return refusalOf(new ContractRevertError(revert, undefined));
}
