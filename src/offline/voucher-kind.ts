import type { Provider } from "ethers";

import type { MerchantStore, StoredVoucher, VoucherState, ViewMeta } from "./merchant-store.js";
import type { Decision, PaymentRequest, RefusalReason, VoucherKind, VoucherOffer } from "./protocol.js";
import type { TypedDataSigner } from "./voucher.js";

/**
 * What differs between the offline voucher kinds, as one strategy object per
 * kind (`voucher-kinds.ts` holds them): how the merchant checks an offer of
 * the kind, how the buyer signs one, and how the sync finds one on chain.
 * The merchant, the buyer and the sync pick the strategy by kind and never
 * branch on the kind themselves.
 */

/** The outcome of the merchant's offline check of one voucher offer. */
export type CheckResult =
  | { readonly ok: true; readonly voucher: StoredVoucher }
  | { readonly ok: false; readonly reason: RefusalReason; readonly message: string };

/** A refusal, as `CheckResult`. */
export type Refusal = Extract<CheckResult, { ok: false }>;

/** The voucher offer of kind `K`. */
export type OfferOf<K extends VoucherKind> = Extract<VoucherOffer, { kind: K }>;

/** What a kind's merchant check reads: the request, the view, the vouchers held, the merchant's time and rules. */
export interface MerchantCheckContext {
  /** The merchant's address (EIP-55). */
  readonly merchant: string;
  readonly request: PaymentRequest;
  /** `request.amount` as minor units. */
  readonly amount: bigint;
  readonly store: MerchantStore;
  /** The merchant's clock now, ms. */
  readonly nowMs: number;
  /** A refusal if the view is older than the merchant allows. */
  readonly staleness: (meta: ViewMeta) => Refusal | undefined;
  /** A refusal if the validity window is not open now, too short to redeem, or longer than `maxAge` seconds. */
  readonly window: (validAfter: bigint, validBefore: bigint, maxAge: bigint | undefined) => Refusal | undefined;
}

/** The buyer's durable state of the request's lane (secured vouchers chain on it). */
export interface BuyerLane {
  /**
   * The next sequence and the last accepted hash; throws `OFFLINE_BUYER_LANE_UNCERTAIN`
   * while a voucher sent on the lane waits for its decision.
   */
  next(): Promise<{ readonly nextSequence: bigint; readonly lastHash: string }>;
  /** Records (or, with `undefined`, forgets) the voucher sent and not yet decided. */
  setInFlight(inFlight: { readonly sequence: bigint; readonly hash: string } | undefined): void;
  /** Moves the lane past an accepted voucher. */
  advance(sequence: bigint, hash: string): void;
}

/** What a kind needs to sign an offer for a checked request. */
export interface BuyerOfferContext {
  readonly wallet: TypedDataSigner;
  /** The buyer's address (EIP-55). */
  readonly payer: string;
  readonly request: PaymentRequest;
  readonly lane: BuyerLane;
}

/** A signed offer, ready to send, and what to do with the merchant's answer. */
export interface PreparedOffer {
  readonly message: VoucherOffer;
  /** The voucher's id (secured: the vault's voucher hash; unsecured: the authorization digest). */
  readonly voucherHash: string;
  /** Records the merchant's decision; returns what is wrong with it (an acceptance of another voucher), if anything. */
  settle(decision: Decision): string | undefined;
}

/** What the chain says about a voucher whose transaction's fate is unknown. */
export interface OnChainOutcome {
  readonly state: VoucherState;
  readonly paid: bigint | null;
  /** What the vault still owes for it (state `owed`). */
  readonly owed?: bigint;
  readonly reason: string;
}

export interface VoucherKindStrategy<K extends VoucherKind> {
  readonly kind: K;
  /** Merchant: checks `offer` fully offline against the request, the view and the vouchers held. */
  check(offer: OfferOf<K>, context: MerchantCheckContext): CheckResult;
  /** Buyer: signs the voucher of this kind the request asks for. */
  prepare(context: BuyerOfferContext): Promise<PreparedOffer>;
  /** Sync: whether the chain already paid (or compensated) `voucher`; `undefined` if it does not know it. */
  findOnChain(voucher: StoredVoucher, provider: Provider): Promise<OnChainOutcome | undefined>;
}

/** A refusal with its message cut to the protocol's 500 characters. */
export function refuse(reason: RefusalReason, message: string): Refusal {
  return { ok: false, reason, message: message.slice(0, 500) };
}

export function sum(values: readonly bigint[]): bigint {
  return values.reduce((a, b) => a + b, 0n);
}

/** An accepted voucher as first stored: `pending`, never tried. */
export function stored(
  v: Omit<StoredVoucher, "state" | "reason" | "paid" | "owed" | "attempts" | "nextAttemptAt" | "txHash" | "updatedAt">,
): StoredVoucher {
  return {
    ...v,
    state: "pending",
    reason: undefined,
    paid: undefined,
    owed: undefined,
    attempts: 0,
    nextAttemptAt: 0,
    txHash: undefined,
    updatedAt: v.acceptedAt,
  };
}
