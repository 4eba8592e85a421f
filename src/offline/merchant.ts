import { randomBytes } from "node:crypto";

import { getAddress, type Provider } from "ethers";

import { systemClock, type Clock } from "../chain/clock.js";
import { BankChainError, messageOf } from "../errors.js";
import { BankToken__factory, OfflineVault__factory } from "../../typechain-types/index.js";
import { guardedLog, type OfflineLog } from "./log.js";
import { MerchantSession, type MerchantSessionOptions } from "./channel.js";
import type { LaneView, MerchantStore, PayerView, StoredVoucher, ViewMeta } from "./merchant-store.js";
import {
  describeIssue,
  PROTOCOL_VERSION,
  voucherOfferSchema,
  type Decision,
  type PaymentRequest,
  type VoucherKind,
} from "./protocol.js";
import { refuse, type CheckResult, type Refusal } from "./voucher-kind.js";
import { checkOffer } from "./voucher-kinds.js";

/** The merchant cannot work: no synchronised view, a view of another vault or chain, a store failure. */
export class OfflineMerchantError extends BankChainError {}

export interface MerchantOptions {
  /** The merchant's address (its identity; its key never needs to be here). */
  readonly address: string;
  readonly store: MerchantStore;
  /** The lane buyers must use with this merchant; default the merchant's address as a number. */
  readonly lane?: bigint;
  /**
   * Refuse every voucher (`stale_view`) when the view is older than this, or
   * than the vault's `maxViewAge` if that is shorter; default 6 hours.
   */
  readonly maxViewAgeMs?: number;
  /** A voucher must stay redeemable at least this long after it is taken; default 60 s. */
  readonly minRedeemWindowSeconds?: number;
  /** Voucher kinds taken; default both (unsecured ones are marked so and have no vault behind them). */
  readonly accepts?: readonly VoucherKind[];
  /** The merchant's clock; default the system clock. */
  readonly clock?: Clock;
  /** Structured log lines (refused connections, refusals, acceptances); must not throw. */
  readonly log?: OfflineLog;
}

export interface SessionParams {
  readonly amount: bigint;
  /** Told the offer text as soon as the session listens, with the payment request the buyer will be sent. */
  readonly onOffer: (offerText: string, request: PaymentRequest) => void;
  readonly session?: Omit<MerchantSessionOptions, "wallet" | "onRefused">;
  /** How long to wait for the buyer's voucher once connected; default 60 s. */
  readonly receiveTimeoutMs?: number;
  /** Ends the session when aborted (a service stopping): no buyer is taken after that. */
  readonly signal?: AbortSignal;
}

export interface SessionOutcome {
  /** The decision sent (or that would have been sent, if the channel broke); undefined if no buyer came. */
  readonly decision: Decision | undefined;
  /** The voucher stored, when accepted. */
  readonly voucher: StoredVoucher | undefined;
  /** What went wrong with the session itself (expired, channel closed, …). */
  readonly error: string | undefined;
}

const DEFAULT_MAX_VIEW_AGE_MS = 6 * 3_600_000;

/**
 * The merchant side of offline payments: keeps a synchronised view of the
 * vault (while online), checks vouchers fully offline against that view plus
 * the vouchers it already holds, and writes every accepted voucher to SQLite
 * before telling the buyer "accepted".
 */
export class Merchant {
  readonly address: string;
  readonly lane: bigint;
  readonly store: MerchantStore;
  readonly #maxViewAgeMs: number;
  readonly #minRedeemWindow: bigint;
  readonly #accepts: readonly VoucherKind[];
  readonly #clock: Clock;
  readonly #log: OfflineLog;

  constructor(options: MerchantOptions) {
    this.address = getAddress(options.address);
    this.lane = options.lane ?? BigInt(this.address);
    this.store = options.store;
    this.#maxViewAgeMs = options.maxViewAgeMs ?? DEFAULT_MAX_VIEW_AGE_MS;
    this.#minRedeemWindow = BigInt(options.minRedeemWindowSeconds ?? 60);
    this.#accepts = options.accepts ?? ["secured", "unsecured"];
    this.#clock = options.clock ?? systemClock;
    this.#log = guardedLog(options.log);
  }

  /**
   * Reads the vault's limits and epoch and, for every payer that ever deposited
   * (plus `payers` and every payer it holds vouchers of), the locked funds,
   * pending withdrawal, cheater flag, epoch total, token balance and this
   * merchant's lane; all at one block, stored in one transaction.
   */
  async syncView(
    provider: Provider,
    vaultAddress: string,
    options: { payers?: readonly string[]; fromBlock?: number } = {},
  ): Promise<ViewMeta> {
    const vault = OfflineVault__factory.connect(vaultAddress, provider);
    const [network, block] = await Promise.all([provider.getNetwork(), provider.getBlock("latest")]);
    if (block === null) throw new OfflineMerchantError("OFFLINE_SYNC_NO_BLOCK", "the node returned no latest block");
    const blockTag = block.number;
    const at = { blockTag };
    const [limits, epoch, epochEndsAt, tokenAddress] = await Promise.all([
      vault.limits(at),
      vault.currentEpoch(at),
      vault.currentEpochEndsAt(at),
      vault.token(at),
    ]);
    const token = BankToken__factory.connect(tokenAddress, provider);
    const deposits = await vault.queryFilter(vault.filters.Deposited(), options.fromBlock ?? 0, blockTag);
    const payers = new Set<string>();
    for (const log of deposits) payers.add(getAddress(log.args.payer));
    for (const p of options.payers ?? []) payers.add(getAddress(p));
    for (const p of this.store.heldPayers()) payers.add(getAddress(p));
    const payerViews: PayerView[] = [];
    const laneViews: LaneView[] = [];
    for (const payer of payers) {
      const lanes = new Set<bigint>([this.lane]);
      for (const v of this.store.vouchersOf(payer)) if (v.lane !== undefined) lanes.add(v.lane);
      const [locked, pending, cheater, epochRedeemed, balance] = await Promise.all([
        vault.lockedOf(payer, at),
        vault.pendingWithdrawalOf(payer, at),
        vault.isCheater(payer, at),
        vault.payerEpochRedeemedOf(payer, at),
        token.balanceOf(payer, at),
      ]);
      payerViews.push({
        payer,
        locked,
        pendingWithdrawal: pending.amount,
        withdrawalAvailableAt: Number(pending.availableAt),
        cheater,
        epochRedeemed,
        balance,
      });
      for (const lane of lanes) {
        const state = await vault.laneOf(payer, lane, at);
        laneViews.push({
          payer,
          lane,
          lastSequence: state.lastSequence,
          lastHash: state.lastHash.toLowerCase(),
          epoch: state.epoch,
          epochRedeemed: state.epoch === epoch ? state.epochRedeemed : 0n,
        });
      }
    }
    const meta: ViewMeta = {
      chainId: network.chainId,
      vault: getAddress(vaultAddress),
      token: getAddress(tokenAddress),
      limits: {
        maxPerVoucher: limits.maxPerVoucher,
        maxPerLane: limits.maxPerLane,
        maxPerEpoch: limits.maxPerEpoch,
        maxVoucherAge: Number(limits.maxVoucherAge),
        epochLength: Number(limits.epochLength),
        withdrawalDelay: Number(limits.withdrawalDelay),
        maxViewAge: Number(limits.maxViewAge),
      },
      epoch,
      epochEndsAt: Number(epochEndsAt),
      syncedBlock: blockTag,
      syncedBlockTime: block.timestamp,
      syncedAtMs: this.#clock.now(),
    };
    this.store.replaceView(meta, payerViews, laneViews);
    this.#log("view_synced", { block: blockTag, payers: payerViews.length });
    return meta;
  }

  /** The last synchronised view, or throws if the merchant never synchronised. */
  view(): ViewMeta {
    const meta = this.store.meta();
    if (meta === undefined) {
      throw new OfflineMerchantError(
        "OFFLINE_NO_VIEW",
        "the merchant has never synchronised its view of the vault: run it once with the RPC reachable",
      );
    }
    return meta;
  }

  /** A fresh payment request for `amount`, from the last view; the window asks for the vault's longest life. */
  createRequest(amount: bigint): PaymentRequest {
    const meta = this.view();
    const now = BigInt(Math.floor(this.#clock.now() / 1000));
    const validAfter = now - 60n;
    return {
      type: "payment_request",
      version: PROTOCOL_VERSION,
      requestId: `0x${randomBytes(16).toString("hex")}`,
      merchant: this.address,
      amount: amount.toString(),
      chainId: meta.chainId.toString(),
      vault: meta.vault,
      token: meta.token,
      lane: this.lane.toString(),
      validAfter: validAfter.toString(),
      validBefore: (validAfter + BigInt(meta.limits.maxVoucherAge)).toString(),
      accepts: [...this.#accepts],
    };
  }

  /** Checks `message` against `request` fully offline; never throws for anything the peer sent. */
  checkVoucher(request: PaymentRequest, message: unknown): CheckResult {
    try {
      return this.#check(request, message);
    } catch (error) {
      return refuse("malformed", `the voucher could not be read: ${messageOf(error)}`.slice(0, 300));
    }
  }

  /**
   * Checks and, if acceptable, stores the voucher (state `pending`) in one
   * transaction: a voucher is never accepted without being on disk, and two
   * checks cannot both pass on the same held state.
   */
  checkAndStore(request: PaymentRequest, message: unknown): CheckResult {
    try {
      return this.store.store.transaction(() => {
        const result = this.checkVoucher(request, message);
        if (result.ok) this.store.insertVoucher(result.voucher);
        return result;
      });
    } catch (error) {
      this.#log("store_failed", { error: messageOf(error) });
      return refuse("internal_error", "the merchant could not record the voucher");
    }
  }

  /**
   * One payment: opens a one-time session, hands out the offer text, sends the
   * request, checks the voucher offline, stores it if accepted, then answers.
   * Resolves with the outcome; never rejects for anything the peer does.
   */
  async runSession(params: SessionParams): Promise<SessionOutcome> {
    const request = this.createRequest(params.amount);
    const session = await MerchantSession.open({
      ...params.session,
      wallet: this.address,
      onRefused: (error) => this.#log("connection_refused", { code: error.code, message: error.message }),
    });
    let decision: Decision | undefined;
    let voucher: StoredVoucher | undefined;
    const abort = () => void session.close().catch(() => undefined);
    if (params.signal?.aborted === true) abort();
    params.signal?.addEventListener("abort", abort, { once: true });
    try {
      params.onOffer(session.offerText(), request);
      const channel = await session.accept();
      await channel.send(request);
      const message = await channel.receive(params.receiveTimeoutMs ?? 60_000);
      const result = this.checkAndStore(request, message);
      if (result.ok) {
        voucher = result.voucher;
        decision = {
          type: "decision",
          version: PROTOCOL_VERSION,
          requestId: request.requestId,
          outcome: "accepted",
          kind: result.voucher.kind,
          voucherHash: result.voucher.hash,
        };
        this.#log("accepted", { hash: voucher.hash, kind: voucher.kind, payer: voucher.payer });
      } else {
        decision = {
          type: "decision",
          version: PROTOCOL_VERSION,
          requestId: request.requestId,
          outcome: "refused",
          reason: result.reason,
          message: result.message,
        };
        this.#log("refused", { reason: result.reason, message: result.message });
      }
      await channel.send(decision);
      await channel.close();
      return { decision, voucher, error: undefined };
    } catch (error) {
      this.#log("session_failed", { error: messageOf(error) });
      return { decision, voucher, error: messageOf(error) };
    } finally {
      params.signal?.removeEventListener("abort", abort);
      await session.close().catch(() => undefined);
    }
  }

  #check(request: PaymentRequest, message: unknown): CheckResult {
    const parsed = voucherOfferSchema.safeParse(message);
    if (!parsed.success) return refuse("malformed", `bad voucher offer: ${describeIssue(parsed.error)}`);
    const offer = parsed.data;
    if (offer.requestId !== request.requestId) {
      return refuse("malformed", `the offer answers request ${offer.requestId}, not ${request.requestId}`);
    }
    if (!request.accepts.includes(offer.kind)) {
      return refuse("kind_not_accepted", `this merchant does not take ${offer.kind} vouchers`);
    }
    const nowMs = this.#clock.now();
    return checkOffer(offer, {
      merchant: this.address,
      request,
      amount: BigInt(request.amount),
      store: this.store,
      nowMs,
      staleness: (meta) => this.#staleness(meta, nowMs),
      window: (validAfter, validBefore, maxAge) =>
        this.#checkWindow(validAfter, validBefore, BigInt(Math.floor(nowMs / 1000)), maxAge),
    });
  }

  /**
   * A view older than the merchant's own `maxViewAgeMs`, or than the vault's
   * `maxViewAge` (the margin its withdrawal delay keeps), is stale.
   */
  #staleness(meta: ViewMeta, nowMs: number): Refusal | undefined {
    const age = nowMs - meta.syncedAtMs;
    const vaultMaxMs = meta.limits.maxViewAge * 1000;
    const maxMs = vaultMaxMs > 0 ? Math.min(this.#maxViewAgeMs, vaultMaxMs) : this.#maxViewAgeMs;
    if (age > maxMs) {
      return refuse("stale_view", `the merchant's view is ${Math.round(age / 1000)} s old (max ${maxMs / 1000} s)`);
    }
    return undefined;
  }

  #checkWindow(validAfter: bigint, validBefore: bigint, now: bigint, maxAge: bigint | undefined): Refusal | undefined {
    if (now < validAfter) return refuse("not_yet_valid", `the voucher is valid from ${validAfter} (now ${now})`);
    if (now + this.#minRedeemWindow >= validBefore) {
      return refuse(
        "expired",
        `the voucher is valid before ${validBefore} (now ${now}, ${this.#minRedeemWindow} s needed)`,
      );
    }
    if (maxAge !== undefined && validBefore - validAfter > maxAge) {
      return refuse("too_long", `the validity window ${validBefore - validAfter} s is above ${maxAge} s`);
    }
    return undefined;
  }
}
