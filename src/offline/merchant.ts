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
  type RefusalReason,
  type VoucherKind,
} from "./protocol.js";
import {
  authorizationFromJson,
  hashReceiveAuthorization,
  hashVoucher,
  recoverAuthorizer,
  recoverPayer,
  tokenDomain,
  vaultDomain,
  voucherFromJson,
  ZERO_HASH,
} from "./voucher.js";

/** The merchant cannot work: no synchronised view, a view of another vault or chain, a store failure. */
export class OfflineMerchantError extends BankChainError {}

export interface MerchantOptions {
  /** The merchant's address (its identity; its key never needs to be here). */
  readonly address: string;
  readonly store: MerchantStore;
  /** The lane buyers must use with this merchant; default the merchant's address as a number. */
  readonly lane?: bigint;
  /** Refuse every voucher (`stale_view`) when the view is older than this; default 6 hours. */
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

/** A request the merchant made, kept to check the answer against. */
export type CheckResult =
  | { readonly ok: true; readonly voucher: StoredVoucher }
  | { readonly ok: false; readonly reason: RefusalReason; readonly message: string };

export interface SessionParams {
  readonly amount: bigint;
  /** Told the offer text as soon as the session listens. */
  readonly onOffer: (offerText: string) => void;
  readonly session?: Omit<MerchantSessionOptions, "wallet" | "onRefused">;
  /** How long to wait for the buyer's voucher once connected; default 60 s. */
  readonly receiveTimeoutMs?: number;
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
const LIVE_STATES = new Set(["pending", "submitting", "settled", "already_settled"]);
const UNSETTLED = new Set(["pending", "submitting"]);

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
    try {
      params.onOffer(session.offerText());
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
    const amount = BigInt(request.amount);
    const meta = this.store.meta();
    const nowMs = this.#clock.now();
    const now = BigInt(Math.floor(nowMs / 1000));
    if (offer.kind === "unsecured") {
      const auth = authorizationFromJson(offer.authorization);
      if (auth.to !== this.address) return refuse("wrong_merchant", `the authorization pays ${auth.to}`);
      if (auth.value !== amount) return refuse("wrong_amount", `the authorization is for ${auth.value}, not ${amount}`);
      if (meta === undefined) return refuse("stale_view", "the merchant has no view of the chain");
      const domain = tokenDomain(meta.chainId, meta.token);
      if (recoverAuthorizer(domain, auth, offer.signature) !== auth.from) {
        return refuse("bad_signature", `the signature is not ${auth.from}'s`);
      }
      const stale = this.#staleness(meta, nowMs);
      if (stale !== undefined) return stale;
      const window = this.#checkWindow(auth.validAfter, auth.validBefore, now, undefined);
      if (window !== undefined) return window;
      const held = this.store.vouchersOf(auth.from);
      if (held.some((v) => v.nonce === auth.nonce)) {
        return refuse("duplicate_nonce", `the authorization nonce ${auth.nonce} was already used here`);
      }
      // Unsettled, or settled after the view was taken (the synced balance still includes it).
      const owed = sum(
        held
          .filter(
            (v) =>
              v.kind === "unsecured" &&
              (UNSETTLED.has(v.state) || (v.state === "settled" && v.updatedAt >= meta.syncedAtMs)),
          )
          .map((v) => v.amount),
      );
      const balance = this.store.payer(auth.from)?.balance ?? 0n;
      if (balance - owed < auth.value) {
        return refuse(
          "insufficient_balance",
          `balance ${balance} less ${owed} held unsettled does not cover ${amount}`,
        );
      }
      return {
        ok: true,
        voucher: stored({
          hash: hashReceiveAuthorization(domain, auth),
          kind: "unsecured",
          requestId: request.requestId,
          chainId: meta.chainId,
          contract: meta.token,
          payer: auth.from,
          merchant: auth.to,
          amount: auth.value,
          lane: undefined,
          sequence: undefined,
          previousHash: undefined,
          nonce: auth.nonce,
          validAfter: auth.validAfter,
          validBefore: auth.validBefore,
          signature: offer.signature.toLowerCase(),
          acceptedAt: nowMs,
        }),
      };
    }

    const v = voucherFromJson(offer.voucher);
    if (v.merchant !== this.address) return refuse("wrong_merchant", `the voucher pays ${v.merchant}`);
    if (v.amount !== amount) return refuse("wrong_amount", `the voucher is for ${v.amount}, not ${amount}`);
    if (v.lane !== BigInt(request.lane)) return refuse("wrong_lane", `the voucher is on lane ${v.lane}`);
    if (meta === undefined) return refuse("stale_view", "the merchant has no view of the vault");
    const domain = vaultDomain(meta.chainId, meta.vault);
    if (recoverPayer(domain, v, offer.signature) !== v.payer) {
      return refuse("bad_signature", `the signature is not the payer ${v.payer}'s`);
    }
    const hash = hashVoucher(domain, v);
    const stale = this.#staleness(meta, nowMs);
    if (stale !== undefined) return stale;
    const window = this.#checkWindow(v.validAfter, v.validBefore, now, BigInt(meta.limits.maxVoucherAge));
    if (window !== undefined) return window;
    const payer = this.store.payer(v.payer);
    if (payer?.cheater === true) return refuse("payer_cheater", `${v.payer} is flagged a cheater by the vault`);
    if (v.amount > meta.limits.maxPerVoucher) {
      return refuse("over_voucher_limit", `${v.amount} is above the per-voucher limit ${meta.limits.maxPerVoucher}`);
    }

    // The lane's chain: what the vault had redeemed at the sync, then what this merchant holds beyond it.
    const lanes = new Map<bigint, LaneView>();
    for (const l of this.store.lanesOf(v.payer)) lanes.set(l.lane, l);
    const laneOf = (lane: bigint): LaneView =>
      lanes.get(lane) ?? {
        payer: v.payer,
        lane,
        lastSequence: 0n,
        lastHash: ZERO_HASH,
        epoch: meta.epoch,
        epochRedeemed: 0n,
      };
    const held = this.store.vouchersOf(v.payer).filter((x) => x.kind === "secured" && LIVE_STATES.has(x.state));
    const unreflected = held.filter((x) => x.lane !== undefined && x.sequence! > laneOf(x.lane).lastSequence);
    const synced = laneOf(v.lane);
    let tipSequence = synced.lastSequence;
    let tipHash = synced.lastHash;
    for (const x of unreflected) {
      if (x.lane === v.lane && x.sequence! > tipSequence) {
        tipSequence = x.sequence!;
        tipHash = x.hash;
      }
    }
    if (held.some((x) => x.hash === hash)) return refuse("duplicate_sequence", "this voucher was already taken");
    if (v.sequence <= tipSequence) {
      return refuse(
        "duplicate_sequence",
        `sequence ${v.sequence} of lane ${v.lane} is already used (last ${tipSequence}): a double-spend attempt`,
      );
    }
    if (v.sequence !== tipSequence + 1n) {
      return refuse("sequence_gap", `expected sequence ${tipSequence + 1n} of lane ${v.lane}, got ${v.sequence}`);
    }
    if (v.previousVoucherHash !== tipHash.toLowerCase()) {
      return refuse("broken_chain", `previousVoucherHash is not the hash ${tipHash} of sequence ${tipSequence}`);
    }
    const heldOnLane = sum(unreflected.filter((x) => x.lane === v.lane).map((x) => x.amount));
    if (synced.epochRedeemed + heldOnLane + v.amount > meta.limits.maxPerLane) {
      return refuse(
        "over_lane_limit",
        `lane total ${synced.epochRedeemed} + ${heldOnLane} held + ${v.amount} is above ${meta.limits.maxPerLane}`,
      );
    }
    const heldForPayer = sum(unreflected.map((x) => x.amount));
    const epochRedeemed = payer?.epochRedeemed ?? 0n;
    if (epochRedeemed + heldForPayer + v.amount > meta.limits.maxPerEpoch) {
      return refuse(
        "over_epoch_limit",
        `payer total ${epochRedeemed} + ${heldForPayer} held + ${v.amount} is above ${meta.limits.maxPerEpoch}`,
      );
    }
    const locked = payer?.locked ?? 0n;
    const pendingWithdrawal = payer?.pendingWithdrawal ?? 0n;
    if (locked - heldForPayer < v.amount) {
      return refuse("insufficient_locked", `locked ${locked} less ${heldForPayer} held does not cover ${v.amount}`);
    }
    if (locked - pendingWithdrawal - heldForPayer < v.amount) {
      return refuse(
        "withdrawal_pending",
        `locked ${locked} less a pending withdrawal of ${pendingWithdrawal} and ${heldForPayer} held does not cover ${v.amount}`,
      );
    }
    return {
      ok: true,
      voucher: stored({
        hash,
        kind: "secured",
        requestId: request.requestId,
        chainId: meta.chainId,
        contract: meta.vault,
        payer: v.payer,
        merchant: v.merchant,
        amount: v.amount,
        lane: v.lane,
        sequence: v.sequence,
        previousHash: v.previousVoucherHash,
        nonce: undefined,
        validAfter: v.validAfter,
        validBefore: v.validBefore,
        signature: offer.signature.toLowerCase(),
        acceptedAt: nowMs,
      }),
    };
  }

  #staleness(meta: ViewMeta, nowMs: number): CheckResult | undefined {
    const age = nowMs - meta.syncedAtMs;
    if (age > this.#maxViewAgeMs) {
      return refuse(
        "stale_view",
        `the merchant's view is ${Math.round(age / 1000)} s old (max ${this.#maxViewAgeMs / 1000} s)`,
      );
    }
    return undefined;
  }

  #checkWindow(
    validAfter: bigint,
    validBefore: bigint,
    now: bigint,
    maxAge: bigint | undefined,
  ): CheckResult | undefined {
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

function refuse(reason: RefusalReason, message: string): CheckResult {
  return { ok: false, reason, message: message.slice(0, 500) };
}

function sum(values: readonly bigint[]): bigint {
  return values.reduce((a, b) => a + b, 0n);
}

function stored(
  v: Omit<StoredVoucher, "state" | "reason" | "paid" | "attempts" | "nextAttemptAt" | "txHash" | "updatedAt">,
): StoredVoucher {
  return {
    ...v,
    state: "pending",
    reason: undefined,
    paid: undefined,
    attempts: 0,
    nextAttemptAt: 0,
    txHash: undefined,
    updatedAt: v.acceptedAt,
  };
}
