import { getAddress, ZeroHash } from "ethers";

import { systemClock, type Clock } from "../chain/clock.js";
import { BankChainError, messageOf } from "../errors.js";
import type { Migration, Store } from "../store/store.js";
import { connectToMerchant, type ConnectOptions } from "./channel.js";
import { decodeOffer } from "./session.js";
import {
  decisionSchema,
  describeIssue,
  paymentRequestSchema,
  type Decision,
  type PaymentRequest,
  type VoucherKind,
} from "./protocol.js";
import type { TypedDataSigner } from "./voucher.js";
import { kindOf } from "./voucher-kinds.js";

/**
 * The buyer side: a wallet and its durable lane state (SQLite, module
 * `offline-buyer`): per (chain, vault, payer, lane) the next sequence and the
 * hash of the last accepted voucher.
 *
 * The lane advances only when the merchant answers "accepted". If the channel
 * drops after the voucher was sent and before the decision came, the voucher
 * is kept as the lane's `in_flight` voucher and the lane is *uncertain*: the
 * merchant may or may not have stored it. The next payment on that lane is
 * refused (`OFFLINE_BUYER_LANE_UNCERTAIN`) until `resolveInFlight` says what
 * happened (the merchant's answer, or the chain's `redeemedAt` once online):
 * signing another voucher with the same sequence would be a double spend that
 * the vault slashes.
 */
export class OfflineBuyerError extends BankChainError {}

export const BUYER_STORE_MODULE = "offline-buyer";

export const BUYER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "lanes",
    sql: `CREATE TABLE offline_buyer_lanes (
      chain_id TEXT NOT NULL,
      vault TEXT NOT NULL,
      payer TEXT NOT NULL,
      lane TEXT NOT NULL,
      merchant TEXT NOT NULL,
      next_sequence TEXT NOT NULL,
      last_hash TEXT NOT NULL,
      in_flight_sequence TEXT,
      in_flight_hash TEXT,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (chain_id, vault, payer, lane)
    ) STRICT`,
  },
];

export interface LaneState {
  readonly nextSequence: bigint;
  readonly lastHash: string;
  readonly inFlight: { readonly sequence: bigint; readonly hash: string } | undefined;
}

export interface PayOptions {
  /** The most the user allows for this payment, minor units. */
  readonly max: bigint;
  /** Which kind to offer; default `secured` (an unsecured EIP-3009 authorization if `unsecured`). */
  readonly kind?: VoucherKind;
  /** If set, the request must name this merchant (else the offer's wallet, if it carries one). */
  readonly merchant?: string;
  /** If set, the request must name this chain and vault. */
  readonly chainId?: bigint;
  readonly vault?: string;
  /** Longest validity window the buyer signs, seconds; default 2 days. */
  readonly maxWindowSeconds?: number;
  readonly timeoutMs?: number;
  readonly channel?: ConnectOptions;
}

export interface PayResult {
  readonly request: PaymentRequest;
  readonly decision: Decision;
  /** The voucher's hash (secured: the vault's id; unsecured: the authorization digest). */
  readonly voucherHash: string;
}

export class Buyer {
  readonly #wallet: TypedDataSigner;
  readonly #store: Store;
  readonly #clock: Clock;

  constructor(wallet: TypedDataSigner, store: Store, options: { clock?: Clock } = {}) {
    this.#wallet = wallet;
    this.#store = store;
    this.#clock = options.clock ?? systemClock;
    store.migrate(BUYER_STORE_MODULE, BUYER_MIGRATIONS);
  }

  /** The lane's state (a fresh lane starts at sequence 1 after the zero hash). */
  async laneState(chainId: bigint, vault: string, lane: bigint): Promise<LaneState> {
    const row = this.#row(chainId, vault, await this.#payer(), lane);
    if (row === undefined) return { nextSequence: 1n, lastHash: ZeroHash, inFlight: undefined };
    return {
      nextSequence: BigInt(row.next_sequence),
      lastHash: row.last_hash,
      inFlight:
        row.in_flight_sequence === null || row.in_flight_hash === null
          ? undefined
          : { sequence: BigInt(row.in_flight_sequence), hash: row.in_flight_hash },
    };
  }

  /**
   * Settles an uncertain lane: `accepted` advances the lane past the in-flight
   * voucher, `unused` forgets it (only if the merchant refused it or the chain
   * shows another voucher at its sequence can never be paid).
   */
  async resolveInFlight(chainId: bigint, vault: string, lane: bigint, outcome: "accepted" | "unused"): Promise<void> {
    const payer = await this.#payer();
    const row = this.#row(chainId, vault, payer, lane);
    if (row === undefined || row.in_flight_sequence === null || row.in_flight_hash === null) return;
    if (outcome === "accepted") {
      this.#advance(chainId, vault, payer, lane, row.merchant, BigInt(row.in_flight_sequence), row.in_flight_hash);
    } else {
      this.#setInFlight(chainId, vault, payer, lane, row.merchant, undefined);
    }
  }

  /**
   * Pays the merchant of `offerText`: connects, reads and checks its request,
   * signs the next voucher of the requested lane (or an EIP-3009 authorization),
   * sends it and waits for the decision.
   */
  async pay(offerText: string, options: PayOptions): Promise<PayResult> {
    const offer = decodeOffer(offerText, { now: this.#clock.now() });
    const payer = await this.#payer();
    const channel = await connectToMerchant(offer, { ...options.channel, clock: this.#clock });
    try {
      const timeoutMs = options.timeoutMs ?? 30_000;
      const raw = await channel.receive(timeoutMs);
      const parsed = paymentRequestSchema.safeParse(raw);
      if (!parsed.success) {
        throw new OfflineBuyerError("OFFLINE_BUYER_BAD_REQUEST", `bad payment request: ${describeIssue(parsed.error)}`);
      }
      const request = parsed.data;
      this.#checkRequest(request, offer.wallet, options);
      const chainId = BigInt(request.chainId);
      const lane = BigInt(request.lane);
      const merchant = getAddress(request.merchant);
      const prepared = await kindOf(options.kind ?? "secured").prepare({
        wallet: this.#wallet,
        payer,
        request,
        lane: {
          next: async () => {
            const state = await this.laneState(chainId, request.vault, lane);
            if (state.inFlight !== undefined) {
              throw new OfflineBuyerError(
                "OFFLINE_BUYER_LANE_UNCERTAIN",
                `lane ${lane} has voucher ${state.inFlight.hash} (sequence ${state.inFlight.sequence}) sent ` +
                  "without a decision: resolve it first",
                { lane: lane.toString(), hash: state.inFlight.hash },
              );
            }
            return state;
          },
          setInFlight: (inFlight) => this.#setInFlight(chainId, request.vault, payer, lane, merchant, inFlight),
          advance: (sequence, hash) => this.#advance(chainId, request.vault, payer, lane, merchant, sequence, hash),
        },
      });
      await channel.send(prepared.message);
      const answer = decisionSchema.safeParse(await channel.receive(timeoutMs));
      if (!answer.success) {
        throw new OfflineBuyerError("OFFLINE_BUYER_BAD_DECISION", `bad decision: ${describeIssue(answer.error)}`);
      }
      const decision = answer.data;
      if (decision.requestId !== request.requestId) {
        throw new OfflineBuyerError("OFFLINE_BUYER_BAD_DECISION", "the decision answers another request");
      }
      const wrong = prepared.settle(decision);
      if (wrong !== undefined) throw new OfflineBuyerError("OFFLINE_BUYER_BAD_DECISION", wrong);
      const { voucherHash } = prepared;
      return { request, decision, voucherHash };
    } catch (error) {
      if (error instanceof BankChainError) throw error;
      throw new OfflineBuyerError(
        "OFFLINE_BUYER_FAILED",
        `the payment failed: ${messageOf(error)}`,
        {},
        { cause: error },
      );
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  #checkRequest(request: PaymentRequest, offerWallet: string | undefined, options: PayOptions): void {
    const merchant = getAddress(request.merchant);
    const expected = options.merchant ?? offerWallet;
    if (expected !== undefined && getAddress(expected) !== merchant) {
      throw new OfflineBuyerError("OFFLINE_BUYER_WRONG_MERCHANT", `the request names ${merchant}, not ${expected}`, {
        merchant,
      });
    }
    const amount = BigInt(request.amount);
    if (amount === 0n || amount > options.max) {
      throw new OfflineBuyerError(
        "OFFLINE_BUYER_OVER_MAX",
        `the merchant asks ${amount}, more than the ${options.max} allowed`,
        {
          amount: amount.toString(),
          max: options.max.toString(),
        },
      );
    }
    if (options.chainId !== undefined && BigInt(request.chainId) !== options.chainId) {
      throw new OfflineBuyerError("OFFLINE_BUYER_WRONG_CHAIN", `the request names chain ${request.chainId}`);
    }
    if (options.vault !== undefined && getAddress(options.vault) !== getAddress(request.vault)) {
      throw new OfflineBuyerError("OFFLINE_BUYER_WRONG_VAULT", `the request names vault ${request.vault}`);
    }
    const kind = options.kind ?? "secured";
    if (!request.accepts.includes(kind)) {
      throw new OfflineBuyerError("OFFLINE_BUYER_KIND", `the merchant does not take ${kind} vouchers`);
    }
    const validAfter = BigInt(request.validAfter);
    const validBefore = BigInt(request.validBefore);
    const now = BigInt(Math.floor(this.#clock.now() / 1000));
    const maxWindow = BigInt(options.maxWindowSeconds ?? 2 * 86_400);
    if (validBefore <= now || validBefore <= validAfter || validBefore - validAfter > maxWindow) {
      throw new OfflineBuyerError(
        "OFFLINE_BUYER_BAD_WINDOW",
        `the requested window [${validAfter}, ${validBefore}) is expired, empty or longer than ${maxWindow} s`,
      );
    }
  }

  async #payer(): Promise<string> {
    return getAddress(await this.#wallet.getAddress());
  }

  #row(chainId: bigint, vault: string, payer: string, lane: bigint) {
    return this.#store.get<{
      merchant: string;
      next_sequence: string;
      last_hash: string;
      in_flight_sequence: string | null;
      in_flight_hash: string | null;
    }>(
      "SELECT * FROM offline_buyer_lanes WHERE chain_id = ? AND vault = ? AND payer = ? AND lane = ?",
      chainId.toString(),
      getAddress(vault),
      payer,
      lane.toString(),
    );
  }

  #ensure(chainId: bigint, vault: string, payer: string, lane: bigint, merchant: string): void {
    this.#store.run(
      `INSERT OR IGNORE INTO offline_buyer_lanes (chain_id, vault, payer, lane, merchant, next_sequence, last_hash,
         updated_at) VALUES (?, ?, ?, ?, ?, '1', ?, ?)`,
      chainId.toString(),
      getAddress(vault),
      payer,
      lane.toString(),
      merchant,
      ZeroHash,
      this.#clock.now(),
    );
  }

  #setInFlight(
    chainId: bigint,
    vault: string,
    payer: string,
    lane: bigint,
    merchant: string,
    inFlight: { sequence: bigint; hash: string } | undefined,
  ): void {
    this.#store.transaction(() => {
      this.#ensure(chainId, vault, payer, lane, merchant);
      this.#store.run(
        `UPDATE offline_buyer_lanes SET in_flight_sequence = ?, in_flight_hash = ?, updated_at = ?
         WHERE chain_id = ? AND vault = ? AND payer = ? AND lane = ?`,
        inFlight?.sequence.toString() ?? null,
        inFlight?.hash ?? null,
        this.#clock.now(),
        chainId.toString(),
        getAddress(vault),
        payer,
        lane.toString(),
      );
    });
  }

  #advance(
    chainId: bigint,
    vault: string,
    payer: string,
    lane: bigint,
    merchant: string,
    sequence: bigint,
    hash: string,
  ): void {
    this.#store.transaction(() => {
      this.#ensure(chainId, vault, payer, lane, merchant);
      this.#store.run(
        `UPDATE offline_buyer_lanes SET next_sequence = ?, last_hash = ?, merchant = ?, in_flight_sequence = NULL,
           in_flight_hash = NULL, updated_at = ? WHERE chain_id = ? AND vault = ? AND payer = ? AND lane = ?`,
        (sequence + 1n).toString(),
        hash,
        merchant,
        this.#clock.now(),
        chainId.toString(),
        getAddress(vault),
        payer,
        lane.toString(),
      );
    });
  }
}
