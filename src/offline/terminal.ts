/**
 * The merchant's terminal as a long-running service (`service.ts`, HTTP in
 * `http.ts`): it opens one offline session per offer (`Merchant.runSession`),
 * keeps every accepted voucher in its SQLite store (`merchant-store.ts`), and
 * submits them on chain only when asked (`syncNow`, `POST /sync`) or every
 * `syncIntervalMs`: what "stored and submitted when the network returns"
 * looks like on a devnet.
 *
 * Offers are kept too (module `offline-terminal`, table `offline_terminal_offers`)
 * with the payment request each one sends, so an offer's fate survives a
 * restart. An offer still open when the terminal stopped (its session key died
 * with the process, so no buyer can reach it any more) is `accepted` if its
 * voucher was stored, else `closed`. Vouchers are never lost: the session
 * stores one before it answers "accepted", and `VoucherSync` marks it
 * `submitting` before any transaction carries it, so a restart between the two
 * neither loses nor pays it twice. Sync rounds run one at a time.
 */
import { getAddress, type Provider } from "ethers";

import { systemClock, type Clock } from "../chain/clock.js";
import { Poller } from "../chain/poller.js";
import { BankChainError, messageOf } from "../errors.js";
import type { Migration } from "../store/store.js";
import { guardedLog, type OfflineLog } from "./log.js";
import type { Merchant, SessionOutcome } from "./merchant.js";
import type { StoredVoucher, VoucherState } from "./merchant-store.js";
import type { SyncOutcome, VoucherSync } from "./sync.js";
import { decodeOffer } from "./session.js";

/** The terminal cannot do what was asked: it is stopping, or the session never produced an offer. */
export class OfflineTerminalError extends BankChainError {}

/** Where an offer stands. */
export const OFFER_STATES = ["open", "accepted", "refused", "expired", "failed", "closed"] as const;
/** Where an offer stands (`OFFER_STATES`). */
export type OfferState = (typeof OFFER_STATES)[number];

/** Every state a stored voucher can be in (see `merchant-store.ts`). */
export const VOUCHER_STATES = [
  "pending",
  "submitting",
  "settled",
  "already_settled",
  "rejected",
  "slashed",
  "owed",
] as const satisfies readonly VoucherState[];

/** One offer as the API shows it. */
export interface OfferView {
  /** The session id of the offer. */
  readonly offerId: string;
  /** The text a buyer answers (`bcoffer1:…`, a QR code's content). */
  readonly offer: string;
  /** Minor units, decimal. */
  readonly amount: string;
  readonly state: OfferState;
  /** The payment request the session sends its buyer. */
  readonly requestId: string;
  /** The hash of the voucher taken, once accepted. */
  readonly voucher: string | null;
  /** Why it was refused (a refusal reason), or why it ended without a decision. */
  readonly reason: string | null;
  readonly message: string | null;
  readonly createdAt: string;
  readonly expiresAt: string;
}

/** One stored voucher as the API shows it. */
export interface VoucherView {
  readonly hash: string;
  readonly payer: string;
  readonly amount: string;
  readonly sequence: string | null;
  readonly state: VoucherState;
  readonly kind: "secured" | "unsecured";
  readonly acceptedAt: string;
  /** The last transaction that carried it. */
  readonly tx: string | null;
  readonly reason: string | null;
  readonly paid: string | null;
  readonly owed: string | null;
}

/** The store module under which the terminal's own tables (offers) are migrated. */
export const TERMINAL_STORE_MODULE = "offline-terminal";

const TERMINAL_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "offers",
    sql: `CREATE TABLE offline_terminal_offers (
      id TEXT PRIMARY KEY,
      offer TEXT NOT NULL,
      amount TEXT NOT NULL,
      request_id TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'refused', 'expired', 'failed', 'closed')),
      voucher_hash TEXT,
      reason TEXT,
      message TEXT,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX offline_terminal_offers_open ON offline_terminal_offers (state) WHERE state = 'open';`,
  },
];

interface OfferRow {
  id: string;
  offer: string;
  amount: string;
  request_id: string;
  state: OfferState;
  voucher_hash: string | null;
  reason: string | null;
  message: string | null;
  created_at: number;
  expires_at: number;
}

/** What a terminal is built from. */
export interface TerminalOptions {
  readonly merchant: Merchant;
  readonly sync: VoucherSync;
  /** Where the merchant's view of the vault is read. */
  readonly provider: Provider;
  readonly vault: string;
  /** The vault's deployment block: payers are found from its `Deposited` events from there. */
  readonly fromBlock?: number | undefined;
  /** Where sessions listen (written into each offer); default 127.0.0.1. */
  readonly host?: string;
  /** How long an offer waits for its buyer. */
  readonly offerTtlMs: number;
  /** How long a connected buyer has to send its voucher; default 60 s. */
  readonly receiveTimeoutMs?: number;
  /** Submit the pending vouchers this often; 0 (default): only when `syncNow` is called. */
  readonly syncIntervalMs?: number;
  readonly clock?: Clock;
  readonly log?: OfflineLog;
}

/** The merchant terminal: offers, vouchers, store and forward. */
export class MerchantTerminal {
  readonly #merchant: Merchant;
  readonly #sync: VoucherSync;
  readonly #options: TerminalOptions;
  readonly #clock: Clock;
  readonly #log: OfflineLog;
  readonly #sessions = new Map<string, { readonly abort: AbortController; readonly done: Promise<void> }>();
  readonly #poller: Poller | undefined;
  #syncQueue: Promise<unknown> = Promise.resolve();
  #refreshing: Promise<boolean> | undefined;
  #stopping = false;

  constructor(options: TerminalOptions) {
    this.#merchant = options.merchant;
    this.#sync = options.sync;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = guardedLog(options.log);
    const store = this.#merchant.store.store;
    store.migrate(TERMINAL_STORE_MODULE, TERMINAL_MIGRATIONS);
    // Offers left open by an earlier run: their session keys are gone with it.
    store.transaction(() => {
      for (const row of store.all<OfferRow>("SELECT * FROM offline_terminal_offers WHERE state = 'open'")) {
        const voucher = this.#merchant.store.voucherOfRequest(row.request_id);
        if (voucher !== undefined) this.#setOffer(row.id, "accepted", { voucher: voucher.hash });
        else this.#setOffer(row.id, "closed", { message: "the terminal stopped before a buyer paid" });
      }
    });
    const interval = options.syncIntervalMs ?? 0;
    this.#poller =
      interval > 0
        ? new Poller({
            intervalMs: interval,
            tick: async () => void (await this.syncNow()),
            onError: (error) => this.#log("sync_failed", { error: messageOf(error) }),
          })
        : undefined;
  }

  /** The merchant's address: the payee of every voucher. */
  get address(): string {
    return this.#merchant.address;
  }

  /** Reads the vault once (a failure is logged: the terminal works on its stored view) and starts the timer. */
  async start(): Promise<void> {
    await this.refreshView();
    this.#poller?.start();
  }

  /** Ends every open session and the timer, and waits for a sync round under way. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#poller?.stop();
    for (const { abort } of this.#sessions.values()) abort.abort();
    await Promise.all([...this.#sessions.values()].map(({ done }) => done));
    await this.#syncQueue;
  }

  /**
   * Takes a fresh view of the vault (limits, payers' locked funds, lanes) if the chain answers; concurrent
   * callers share one read. Resolves false when the chain could not be read (the stored view stays).
   */
  refreshView(): Promise<boolean> {
    this.#refreshing ??= this.#merchant
      .syncView(this.#options.provider, this.#options.vault, {
        ...(this.#options.fromBlock === undefined ? {} : { fromBlock: this.#options.fromBlock }),
      })
      .then(
        () => true,
        (error: unknown) => {
          this.#log("offline_mode", { reason: messageOf(error) });
          return false;
        },
      )
      .finally(() => {
        this.#refreshing = undefined;
      });
    return this.#refreshing;
  }

  /**
   * Opens a one-time session asking `amount` and resolves with its offer once it listens; the session then
   * waits for its buyer in the background. @throws OfflineMerchantError `OFFLINE_NO_VIEW` when the terminal
   * never read the vault; OfflineTerminalError `OFFLINE_TERMINAL_STOPPING` while stopping.
   */
  async offer(amount: bigint): Promise<OfferView> {
    this.#assertRunning();
    await this.refreshView();
    this.#assertRunning();
    const abort = new AbortController();
    let offered!: (id: string) => void;
    const listening = new Promise<string>((resolve) => (offered = resolve));
    const running = this.#merchant.runSession({
      amount,
      session: { host: this.#options.host ?? "127.0.0.1", port: 0, ttlMs: this.#options.offerTtlMs },
      ...(this.#options.receiveTimeoutMs === undefined ? {} : { receiveTimeoutMs: this.#options.receiveTimeoutMs }),
      signal: abort.signal,
      onOffer: (text, request) => {
        const decoded = decodeOffer(text, { now: this.#clock.now() });
        const now = this.#clock.now();
        this.#merchant.store.store.run(
          `INSERT INTO offline_terminal_offers (id, offer, amount, request_id, state, created_at, expires_at, updated_at)
            VALUES (?, ?, ?, ?, 'open', ?, ?, ?)`,
          decoded.sessionId,
          text,
          amount.toString(),
          request.requestId,
          now,
          decoded.expiresAt,
          now,
        );
        this.#sessions.set(decoded.sessionId, {
          abort,
          done: running.then(
            (outcome) => this.#finish(decoded.sessionId, outcome),
            (error: unknown) =>
              this.#finish(decoded.sessionId, { decision: undefined, voucher: undefined, error: messageOf(error) }),
          ),
        });
        offered(decoded.sessionId);
      },
    });
    const first = await Promise.race([listening, running.then((outcome) => ({ outcome }))]);
    if (typeof first !== "string") {
      throw new OfflineTerminalError(
        "OFFLINE_TERMINAL_NO_OFFER",
        `the session ended before it made an offer: ${first.outcome.error ?? "no reason given"}`,
      );
    }
    return this.offerView(first)!;
  }

  /** The offer `offerId`, or undefined when there is none. */
  offerView(offerId: string): OfferView | undefined {
    const row = this.#merchant.store.store.get<OfferRow>("SELECT * FROM offline_terminal_offers WHERE id = ?", offerId);
    if (row === undefined) return undefined;
    return {
      offerId: row.id,
      offer: row.offer,
      amount: row.amount,
      state: row.state,
      requestId: row.request_id,
      voucher: row.voucher_hash,
      reason: row.reason,
      message: row.message,
      createdAt: new Date(row.created_at).toISOString(),
      expiresAt: new Date(row.expires_at).toISOString(),
    };
  }

  /** The stored vouchers (in `state` if given), newest first, and how many are in each state. */
  vouchers(state?: VoucherState): { items: VoucherView[]; counts: Record<VoucherState, number> } {
    const store = this.#merchant.store;
    const all = store.all();
    const counts = Object.fromEntries(VOUCHER_STATES.map((s) => [s, 0])) as Record<VoucherState, number>;
    for (const v of all) counts[v.state] += 1;
    const items = (state === undefined ? all : all.filter((v) => v.state === state)).reverse().map(voucherView);
    return { items, counts };
  }

  /**
   * One store-and-forward round (`VoucherSync.runOnce`): rounds run one after the other, so two calls never
   * send one voucher twice; a voucher sent once is not sent again (it is no longer pending).
   */
  syncNow(): Promise<SyncOutcome[]> {
    this.#assertRunning();
    const round = this.#syncQueue.then(() => this.#sync.runOnce());
    this.#syncQueue = round.catch(() => undefined);
    return round;
  }

  #assertRunning(): void {
    if (this.#stopping) throw new OfflineTerminalError("OFFLINE_TERMINAL_STOPPING", "the terminal is stopping");
  }

  #finish(offerId: string, outcome: SessionOutcome): void {
    this.#sessions.delete(offerId);
    const { decision } = outcome;
    try {
      if (decision?.outcome === "accepted") {
        this.#setOffer(offerId, "accepted", { voucher: decision.voucherHash, message: outcome.error ?? null });
      } else if (decision?.outcome === "refused") {
        this.#setOffer(offerId, "refused", { reason: decision.reason, message: decision.message });
      } else {
        const expiresAt = this.offerView(offerId)?.expiresAt;
        const state: OfferState = this.#stopping
          ? "closed"
          : expiresAt !== undefined && this.#clock.now() >= Date.parse(expiresAt)
            ? "expired"
            : "failed";
        this.#setOffer(offerId, state, { message: outcome.error ?? null });
      }
    } catch (error) {
      // The offer's row is a record for people; the voucher, if any, is already stored.
      this.#log("offer_record_failed", { offerId, error: messageOf(error) });
    }
  }

  #setOffer(
    offerId: string,
    state: OfferState,
    fields: { voucher?: string; reason?: string; message?: string | null },
  ): void {
    this.#merchant.store.store.run(
      `UPDATE offline_terminal_offers SET state = ?, voucher_hash = ?, reason = ?, message = ?, updated_at = ?
        WHERE id = ?`,
      state,
      fields.voucher ?? null,
      fields.reason ?? null,
      fields.message?.slice(0, 300) ?? null,
      this.#clock.now(),
      offerId,
    );
  }
}

function voucherView(v: StoredVoucher): VoucherView {
  return {
    hash: v.hash,
    payer: getAddress(v.payer),
    amount: v.amount.toString(),
    sequence: v.sequence?.toString() ?? null,
    state: v.state,
    kind: v.kind,
    acceptedAt: new Date(v.acceptedAt).toISOString(),
    tx: v.txHash ?? null,
    reason: v.reason ?? null,
    paid: v.paid?.toString() ?? null,
    owed: v.owed?.toString() ?? null,
  };
}
