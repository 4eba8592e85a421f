import type { Migration, Store } from "../store/store.js";
import type { VoucherKind } from "./protocol.js";

/**
 * The merchant's SQLite state (module `offline-merchant`): its last synchronised
 * view of the vault, and every voucher it accepted with its store-and-forward
 * state. Integers that may exceed 2^63 (amounts, lanes, sequences) are stored
 * as decimal TEXT and compared as `bigint` in code.
 *
 * Voucher states:
 *   pending          accepted, not yet sent (or sent and found not on chain)
 *   submitting       a transaction carrying it may be in flight (`attempts` counts them)
 *   settled          paid on chain to this merchant (VoucherRedeemed, or the authorization was used)
 *   already_settled  the chain says it was already paid (AlreadyRedeemed)
 *   rejected         the chain refused it (`reason` is the custom error)
 *   slashed          the payer was flagged a cheater (this voucher conflicted with another of the same (payer,
 *                    lane, sequence), or the lane was orphaned by one) and this merchant was compensated in full
 *                    (`paid` minor units, at most `maxPerVoucher`)
 *   owed             compensated in part or not yet: `paid` so far, `owed` still owed by the vault from the
 *                    payer's locked funds; the sync claims it (`claimOwed`) on later passes
 *
 * Version 2 adds the `owed` state and column, and the vault's `maxViewAge` to the view.
 */

export const MERCHANT_STORE_MODULE = "offline-merchant";

export const MERCHANT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "view and vouchers",
    sql: `
      CREATE TABLE offline_view (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        chain_id TEXT NOT NULL,
        vault TEXT NOT NULL,
        token TEXT NOT NULL,
        max_per_voucher TEXT NOT NULL,
        max_per_lane TEXT NOT NULL,
        max_per_epoch TEXT NOT NULL,
        max_voucher_age INTEGER NOT NULL,
        epoch_length INTEGER NOT NULL,
        withdrawal_delay INTEGER NOT NULL,
        epoch TEXT NOT NULL,
        epoch_ends_at INTEGER NOT NULL,
        synced_block INTEGER NOT NULL,
        synced_block_time INTEGER NOT NULL,
        synced_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE offline_view_payers (
        payer TEXT PRIMARY KEY,
        locked TEXT NOT NULL,
        pending_withdrawal TEXT NOT NULL,
        withdrawal_available_at INTEGER NOT NULL,
        cheater INTEGER NOT NULL,
        epoch_redeemed TEXT NOT NULL,
        balance TEXT NOT NULL
      ) STRICT;
      CREATE TABLE offline_view_lanes (
        payer TEXT NOT NULL,
        lane TEXT NOT NULL,
        last_sequence TEXT NOT NULL,
        last_hash TEXT NOT NULL,
        epoch TEXT NOT NULL,
        epoch_redeemed TEXT NOT NULL,
        PRIMARY KEY (payer, lane)
      ) STRICT;
      CREATE TABLE offline_vouchers (
        hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('secured', 'unsecured')),
        request_id TEXT NOT NULL,
        chain_id TEXT NOT NULL,
        contract TEXT NOT NULL,
        payer TEXT NOT NULL,
        merchant TEXT NOT NULL,
        amount TEXT NOT NULL,
        lane TEXT,
        sequence TEXT,
        previous_hash TEXT,
        nonce TEXT,
        valid_after INTEGER NOT NULL,
        valid_before INTEGER NOT NULL,
        signature TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN
          ('pending', 'submitting', 'settled', 'already_settled', 'rejected', 'slashed')),
        reason TEXT,
        paid TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        tx_hash TEXT,
        accepted_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX offline_vouchers_payer ON offline_vouchers (payer, lane);
      CREATE INDEX offline_vouchers_state ON offline_vouchers (state, next_attempt_at);
      CREATE UNIQUE INDEX offline_vouchers_nonce ON offline_vouchers (payer, nonce) WHERE nonce IS NOT NULL;
    `,
  },
  {
    version: 2,
    name: "owed compensation and the vault's maximum view age",
    sql: `
      ALTER TABLE offline_view ADD COLUMN max_view_age INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE offline_vouchers_v2 (
        hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('secured', 'unsecured')),
        request_id TEXT NOT NULL,
        chain_id TEXT NOT NULL,
        contract TEXT NOT NULL,
        payer TEXT NOT NULL,
        merchant TEXT NOT NULL,
        amount TEXT NOT NULL,
        lane TEXT,
        sequence TEXT,
        previous_hash TEXT,
        nonce TEXT,
        valid_after INTEGER NOT NULL,
        valid_before INTEGER NOT NULL,
        signature TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN
          ('pending', 'submitting', 'settled', 'already_settled', 'rejected', 'slashed', 'owed')),
        reason TEXT,
        paid TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        tx_hash TEXT,
        accepted_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        owed TEXT
      ) STRICT;
      INSERT INTO offline_vouchers_v2 (hash, kind, request_id, chain_id, contract, payer, merchant, amount, lane,
        sequence, previous_hash, nonce, valid_after, valid_before, signature, state, reason, paid, attempts,
        next_attempt_at, tx_hash, accepted_at, updated_at)
      SELECT hash, kind, request_id, chain_id, contract, payer, merchant, amount, lane, sequence, previous_hash,
        nonce, valid_after, valid_before, signature, state, reason, paid, attempts, next_attempt_at, tx_hash,
        accepted_at, updated_at FROM offline_vouchers;
      DROP TABLE offline_vouchers;
      ALTER TABLE offline_vouchers_v2 RENAME TO offline_vouchers;
      CREATE INDEX offline_vouchers_payer ON offline_vouchers (payer, lane);
      CREATE INDEX offline_vouchers_state ON offline_vouchers (state, next_attempt_at);
      CREATE UNIQUE INDEX offline_vouchers_nonce ON offline_vouchers (payer, nonce) WHERE nonce IS NOT NULL;
    `,
  },
];

export type VoucherState = "pending" | "submitting" | "settled" | "already_settled" | "rejected" | "slashed" | "owed";

/** The vault-wide part of the view. */
export interface ViewMeta {
  readonly chainId: bigint;
  readonly vault: string;
  readonly token: string;
  readonly limits: {
    readonly maxPerVoucher: bigint;
    readonly maxPerLane: bigint;
    readonly maxPerEpoch: bigint;
    readonly maxVoucherAge: number;
    readonly epochLength: number;
    readonly withdrawalDelay: number;
    /** The oldest view the vault lets a merchant take vouchers on, seconds (0 in a view stored before v2). */
    readonly maxViewAge: number;
  };
  readonly epoch: bigint;
  readonly epochEndsAt: number;
  readonly syncedBlock: number;
  readonly syncedBlockTime: number;
  /** The merchant's clock when the view was taken, ms. */
  readonly syncedAtMs: number;
}

export interface PayerView {
  readonly payer: string;
  readonly locked: bigint;
  readonly pendingWithdrawal: bigint;
  readonly withdrawalAvailableAt: number;
  readonly cheater: boolean;
  readonly epochRedeemed: bigint;
  readonly balance: bigint;
}

export interface LaneView {
  readonly payer: string;
  readonly lane: bigint;
  readonly lastSequence: bigint;
  readonly lastHash: string;
  readonly epoch: bigint;
  readonly epochRedeemed: bigint;
}

/** One accepted voucher as stored. */
export interface StoredVoucher {
  readonly hash: string;
  readonly kind: VoucherKind;
  readonly requestId: string;
  readonly chainId: bigint;
  /** The vault (secured) or the token (unsecured). */
  readonly contract: string;
  readonly payer: string;
  readonly merchant: string;
  readonly amount: bigint;
  readonly lane: bigint | undefined;
  readonly sequence: bigint | undefined;
  readonly previousHash: string | undefined;
  readonly nonce: string | undefined;
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly signature: string;
  readonly state: VoucherState;
  readonly reason: string | undefined;
  readonly paid: bigint | undefined;
  /** What the vault still owes for it (state `owed`). */
  readonly owed: bigint | undefined;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly txHash: string | undefined;
  readonly acceptedAt: number;
  readonly updatedAt: number;
}

interface VoucherRow {
  hash: string;
  kind: string;
  request_id: string;
  chain_id: string;
  contract: string;
  payer: string;
  merchant: string;
  amount: string;
  lane: string | null;
  sequence: string | null;
  previous_hash: string | null;
  nonce: string | null;
  valid_after: number;
  valid_before: number;
  signature: string;
  state: string;
  reason: string | null;
  paid: string | null;
  attempts: number;
  next_attempt_at: number;
  tx_hash: string | null;
  accepted_at: number;
  updated_at: number;
  owed: string | null;
}

/** Typed access to the merchant's tables; opens nothing itself (pass an open `Store`). */
export class MerchantStore {
  readonly store: Store;

  constructor(store: Store) {
    this.store = store;
    store.migrate(MERCHANT_STORE_MODULE, MERCHANT_MIGRATIONS);
  }

  meta(): ViewMeta | undefined {
    const row = this.store.get<{
      chain_id: string;
      vault: string;
      token: string;
      max_per_voucher: string;
      max_per_lane: string;
      max_per_epoch: string;
      max_voucher_age: number;
      epoch_length: number;
      withdrawal_delay: number;
      max_view_age: number;
      epoch: string;
      epoch_ends_at: number;
      synced_block: number;
      synced_block_time: number;
      synced_at_ms: number;
    }>("SELECT * FROM offline_view WHERE id = 1");
    if (row === undefined) return undefined;
    return {
      chainId: BigInt(row.chain_id),
      vault: row.vault,
      token: row.token,
      limits: {
        maxPerVoucher: BigInt(row.max_per_voucher),
        maxPerLane: BigInt(row.max_per_lane),
        maxPerEpoch: BigInt(row.max_per_epoch),
        maxVoucherAge: row.max_voucher_age,
        epochLength: row.epoch_length,
        withdrawalDelay: row.withdrawal_delay,
        maxViewAge: row.max_view_age,
      },
      epoch: BigInt(row.epoch),
      epochEndsAt: row.epoch_ends_at,
      syncedBlock: row.synced_block,
      syncedBlockTime: row.synced_block_time,
      syncedAtMs: row.synced_at_ms,
    };
  }

  /** Replaces the whole view in one transaction. */
  replaceView(meta: ViewMeta, payers: readonly PayerView[], lanes: readonly LaneView[]): void {
    this.store.transaction(() => {
      this.store.run("DELETE FROM offline_view");
      this.store.run("DELETE FROM offline_view_payers");
      this.store.run("DELETE FROM offline_view_lanes");
      const l = meta.limits;
      this.store.run(
        `INSERT INTO offline_view (id, chain_id, vault, token, max_per_voucher, max_per_lane, max_per_epoch,
           max_voucher_age, epoch_length, withdrawal_delay, epoch, epoch_ends_at, synced_block, synced_block_time,
           synced_at_ms, max_view_age)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        meta.chainId.toString(),
        meta.vault,
        meta.token,
        l.maxPerVoucher.toString(),
        l.maxPerLane.toString(),
        l.maxPerEpoch.toString(),
        l.maxVoucherAge,
        l.epochLength,
        l.withdrawalDelay,
        meta.epoch.toString(),
        meta.epochEndsAt,
        meta.syncedBlock,
        meta.syncedBlockTime,
        meta.syncedAtMs,
        l.maxViewAge,
      );
      for (const p of payers) {
        this.store.run(
          "INSERT INTO offline_view_payers VALUES (?, ?, ?, ?, ?, ?, ?)",
          p.payer,
          p.locked.toString(),
          p.pendingWithdrawal.toString(),
          p.withdrawalAvailableAt,
          p.cheater ? 1 : 0,
          p.epochRedeemed.toString(),
          p.balance.toString(),
        );
      }
      for (const x of lanes) {
        this.store.run(
          "INSERT INTO offline_view_lanes VALUES (?, ?, ?, ?, ?, ?)",
          x.payer,
          x.lane.toString(),
          x.lastSequence.toString(),
          x.lastHash,
          x.epoch.toString(),
          x.epochRedeemed.toString(),
        );
      }
    });
  }

  payer(payer: string): PayerView | undefined {
    const row = this.store.get<{
      payer: string;
      locked: string;
      pending_withdrawal: string;
      withdrawal_available_at: number;
      cheater: number;
      epoch_redeemed: string;
      balance: string;
    }>("SELECT * FROM offline_view_payers WHERE payer = ?", payer);
    if (row === undefined) return undefined;
    return {
      payer: row.payer,
      locked: BigInt(row.locked),
      pendingWithdrawal: BigInt(row.pending_withdrawal),
      withdrawalAvailableAt: row.withdrawal_available_at,
      cheater: row.cheater !== 0,
      epochRedeemed: BigInt(row.epoch_redeemed),
      balance: BigInt(row.balance),
    };
  }

  lanesOf(payer: string): LaneView[] {
    return this.store
      .all<{
        payer: string;
        lane: string;
        last_sequence: string;
        last_hash: string;
        epoch: string;
        epoch_redeemed: string;
      }>("SELECT * FROM offline_view_lanes WHERE payer = ?", payer)
      .map((row) => ({
        payer: row.payer,
        lane: BigInt(row.lane),
        lastSequence: BigInt(row.last_sequence),
        lastHash: row.last_hash,
        epoch: BigInt(row.epoch),
        epochRedeemed: BigInt(row.epoch_redeemed),
      }));
  }

  /** Every payer with a voucher held here. */
  heldPayers(): string[] {
    return this.store.all<{ payer: string }>("SELECT DISTINCT payer FROM offline_vouchers").map((r) => r.payer);
  }

  insertVoucher(
    v: Omit<
      StoredVoucher,
      "state" | "reason" | "paid" | "owed" | "attempts" | "nextAttemptAt" | "txHash" | "updatedAt"
    >,
  ): void {
    this.store.run(
      `INSERT INTO offline_vouchers (hash, kind, request_id, chain_id, contract, payer, merchant, amount, lane, sequence,
         previous_hash, nonce, valid_after, valid_before, signature, state, attempts, next_attempt_at, accepted_at,
         updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, 0, ?, ?)`,
      v.hash,
      v.kind,
      v.requestId,
      v.chainId.toString(),
      v.contract,
      v.payer,
      v.merchant,
      v.amount.toString(),
      v.lane?.toString() ?? null,
      v.sequence?.toString() ?? null,
      v.previousHash ?? null,
      v.nonce ?? null,
      Number(v.validAfter),
      Number(v.validBefore),
      v.signature,
      v.acceptedAt,
      v.acceptedAt,
    );
  }

  voucher(hash: string): StoredVoucher | undefined {
    const row = this.store.get<VoucherRow>("SELECT * FROM offline_vouchers WHERE hash = ?", hash);
    return row === undefined ? undefined : fromRow(row);
  }

  /** The voucher accepted for payment request `requestId`, if one was. */
  voucherOfRequest(requestId: string): StoredVoucher | undefined {
    const row = this.store.get<VoucherRow>("SELECT * FROM offline_vouchers WHERE request_id = ?", requestId);
    return row === undefined ? undefined : fromRow(row);
  }

  vouchersOf(payer: string): StoredVoucher[] {
    return this.store.all<VoucherRow>("SELECT * FROM offline_vouchers WHERE payer = ?", payer).map(fromRow);
  }

  all(): StoredVoucher[] {
    return this.store.all<VoucherRow>("SELECT * FROM offline_vouchers ORDER BY accepted_at, hash").map(fromRow);
  }

  inState(state: VoucherState): StoredVoucher[] {
    return this.store
      .all<VoucherRow>("SELECT * FROM offline_vouchers WHERE state = ? ORDER BY accepted_at, hash", state)
      .map(fromRow);
  }

  /** Sets the state and the given columns of one voucher. */
  update(
    hash: string,
    state: VoucherState,
    now: number,
    fields: {
      reason?: string | null;
      paid?: bigint | null;
      owed?: bigint | null;
      attempts?: number;
      nextAttemptAt?: number;
      txHash?: string | null;
    } = {},
  ): void {
    const current = this.voucher(hash);
    if (current === undefined) return;
    this.store.run(
      `UPDATE offline_vouchers SET state = ?, reason = ?, paid = ?, owed = ?, attempts = ?, next_attempt_at = ?,
         tx_hash = ?, updated_at = ? WHERE hash = ?`,
      state,
      fields.reason === undefined ? (current.reason ?? null) : fields.reason,
      fields.paid === undefined ? (current.paid?.toString() ?? null) : (fields.paid?.toString() ?? null),
      fields.owed === undefined ? (current.owed?.toString() ?? null) : (fields.owed?.toString() ?? null),
      fields.attempts ?? current.attempts,
      fields.nextAttemptAt ?? current.nextAttemptAt,
      fields.txHash === undefined ? (current.txHash ?? null) : fields.txHash,
      now,
      hash,
    );
  }
}

function fromRow(row: VoucherRow): StoredVoucher {
  return {
    hash: row.hash,
    kind: row.kind as VoucherKind,
    requestId: row.request_id,
    chainId: BigInt(row.chain_id),
    contract: row.contract,
    payer: row.payer,
    merchant: row.merchant,
    amount: BigInt(row.amount),
    lane: row.lane === null ? undefined : BigInt(row.lane),
    sequence: row.sequence === null ? undefined : BigInt(row.sequence),
    previousHash: row.previous_hash ?? undefined,
    nonce: row.nonce ?? undefined,
    validAfter: BigInt(row.valid_after),
    validBefore: BigInt(row.valid_before),
    signature: row.signature,
    state: row.state as VoucherState,
    reason: row.reason ?? undefined,
    paid: row.paid === null ? undefined : BigInt(row.paid),
    owed: row.owed === null ? undefined : BigInt(row.owed),
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    txHash: row.tx_hash ?? undefined,
    acceptedAt: row.accepted_at,
    updatedAt: row.updated_at,
  };
}
