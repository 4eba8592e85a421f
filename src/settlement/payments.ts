/**
 * A bank agent's payment records in SQLite: one row per payment and direction
 * with the status of both legs, a history of what happened to it, and the
 * outbox of on-chain steps the agent still owes (written before it sends them,
 * so a crash between the two is noticed and repaired on restart).
 *
 * Amounts are kept as TEXT decimal strings of minor units (see `core-ledger.ts`):
 * a payment can carry up to 2^64 − 1, beyond SQLite's INTEGER.
 */

import { BankChainError } from "../errors.js";
import type { Migration, Store } from "../store/store.js";
import { isoAt, isoNow, type Clock } from "../chain/clock.js";
import { checksummed } from "../chain/raw-reads.js";
import type { SettlementTerms } from "./terms.js";

/** Errors of the payment store. */
export class PaymentStoreError extends BankChainError {}

/** `outbound`: this bank is the debtor bank (A); `inbound`: the creditor bank (B). */
export type Direction = "outbound" | "inbound";

/**
 * The debtor leg, at bank A: `Debited` (customer debited, not yet on chain), `Initiated` (tokens minted and
 * held for B), then `Acknowledged`, `Returned` (after a rejection), `Refunded` (after expiry) or `Failed`
 * (refused on chain before anything moved; the customer is re-credited).
 */
export type DebtorLegStatus = "Debited" | "Initiated" | "Acknowledged" | "Returned" | "Refunded" | "Failed";

/**
 * The creditor leg, at bank B: `Pending` (not on chain yet), `Delivered` (tokens held for B), `Credited`
 * (B credited its customer, smelt under way), `Rejecting` (B refuses, reject under way), then `Smelted`,
 * `Rejected`, `Expired` (B did not act in time) or `Reversed` (B's credit undone after expiry).
 */
export type CreditorLegStatus =
  "Pending" | "Delivered" | "Credited" | "Rejecting" | "Smelted" | "Rejected" | "Expired" | "Reversed";

/** The payment as a whole, named after the settlement states, plus `Accepted` and `Failed` off chain. */
export type PaymentStatus =
  "Accepted" | "Delivered" | "Smelted" | "Acknowledged" | "Rejected" | "Returned" | "Expired" | "Refunded" | "Failed";

/** Every payment status (the `Record` makes the compiler check the list is whole). */
export const PAYMENT_STATUSES = Object.keys({
  Accepted: true,
  Delivered: true,
  Smelted: true,
  Acknowledged: true,
  Rejected: true,
  Returned: true,
  Expired: true,
  Refunded: true,
  Failed: true,
} satisfies Record<PaymentStatus, true>) as [PaymentStatus, ...PaymentStatus[]];

const DEBTOR_LEGS = Object.keys({
  Debited: true,
  Initiated: true,
  Acknowledged: true,
  Returned: true,
  Refunded: true,
  Failed: true,
} satisfies Record<DebtorLegStatus, true>) as DebtorLegStatus[];

const CREDITOR_LEGS = Object.keys({
  Pending: true,
  Delivered: true,
  Credited: true,
  Rejecting: true,
  Smelted: true,
  Rejected: true,
  Expired: true,
  Reversed: true,
} satisfies Record<CreditorLegStatus, true>) as CreditorLegStatus[];

/** Where a newest-first page of payments resumes: after the payment with this sort key. */
export interface PaymentCursor {
  readonly createdMs: number;
  readonly direction: Direction;
  readonly id: string;
}

/** Which payments `page` reads. */
export interface PaymentPageQuery {
  /** Both directions when not given. */
  readonly direction?: Direction | undefined;
  readonly status?: PaymentStatus | undefined;
  readonly after?: PaymentCursor | undefined;
  readonly limit: number;
}

/** On-chain steps an agent sends. */
export const OUTBOX_STEPS = ["initiate", "smelt", "reject", "acknowledge", "return", "refund"] as const;
export type OutboxStep = (typeof OUTBOX_STEPS)[number];

export interface BankRef {
  /** The directory id (`A`, `B`), or the trust-account address of a bank not in the directory. */
  readonly id: string;
  /** Its `TrustAccount` address. */
  readonly address: string;
}

export interface NewPayment {
  readonly direction: Direction;
  /** The end-to-end id (for an inbound payment from a foreign system, the settlement id's hex). */
  readonly id: string;
  readonly terms: SettlementTerms;
  readonly debtorBank: BankRef;
  readonly creditorBank: BankRef;
  readonly debtorAccount: string | null;
  readonly creditorAccount: string | null;
  readonly currency: string;
  readonly debtorLeg: DebtorLegStatus;
  readonly creditorLeg: CreditorLegStatus;
  readonly note: string;
}

export interface PaymentRecord extends NewPayment {
  readonly status: PaymentStatus;
  readonly reason: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Milliseconds since the epoch, by the agent's clock. */
  readonly createdMs: number;
  readonly finishedMs: number | null;
  readonly history: ReadonlyArray<{ readonly at: string; readonly what: string; readonly tx: string | null }>;
}

/**
 * What `update` and `move` change: the legs, the creditor account or reason if given (a `null` reason clears it),
 * and a history note.
 */
export interface PaymentChange {
  readonly debtorLeg?: DebtorLegStatus;
  readonly creditorLeg?: CreditorLegStatus;
  readonly creditorAccount?: string;
  readonly reason?: string | null;
  readonly note: string;
  readonly tx?: string | null;
}

export interface OutboxRow {
  readonly rowId: number;
  readonly direction: Direction;
  readonly paymentId: string;
  readonly step: OutboxStep;
  readonly attempts: number;
  readonly txHash: string | null;
  /**
   * The highest nonce a transaction sent for this row took, or one the agent sent to use that nonce up (`null`:
   * none known, such as a row sent before version 5 of the schema). Once the agent's count on chain is above it,
   * no transaction sent for the row can land any more.
   */
  readonly txNonce: number | null;
}

export const PAYMENT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "payments, history, outbox",
    sql: `
      CREATE TABLE settlement_payments (
        direction TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
        id TEXT NOT NULL,
        settlement_id TEXT NOT NULL,
        debtor_bank_id TEXT NOT NULL,
        debtor_bank TEXT NOT NULL,
        creditor_bank_id TEXT NOT NULL,
        creditor_bank TEXT NOT NULL,
        debtor_account TEXT,
        creditor_account TEXT,
        creditor_account_ref TEXT NOT NULL,
        amount INTEGER NOT NULL CHECK (amount > 0),
        currency TEXT NOT NULL,
        deadline INTEGER NOT NULL,
        debtor_leg TEXT NOT NULL,
        creditor_leg TEXT NOT NULL,
        reason TEXT,
        created_at TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        finished_ms INTEGER,
        PRIMARY KEY (direction, id),
        UNIQUE (direction, settlement_id)
      ) STRICT;
      CREATE TABLE settlement_payment_history (
        seq INTEGER PRIMARY KEY,
        direction TEXT NOT NULL,
        payment_id TEXT NOT NULL,
        at TEXT NOT NULL,
        what TEXT NOT NULL,
        tx TEXT,
        FOREIGN KEY (direction, payment_id) REFERENCES settlement_payments (direction, id)
      ) STRICT;
      CREATE INDEX settlement_payment_history_payment ON settlement_payment_history (direction, payment_id);
      CREATE TABLE settlement_outbox (
        row_id INTEGER PRIMARY KEY,
        direction TEXT NOT NULL,
        payment_id TEXT NOT NULL,
        step TEXT NOT NULL CHECK (step IN ('initiate', 'smelt', 'reject', 'acknowledge', 'return', 'refund')),
        status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'void')),
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before_ms INTEGER NOT NULL DEFAULT 0,
        tx_hash TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (direction, payment_id, step),
        FOREIGN KEY (direction, payment_id) REFERENCES settlement_payments (direction, id)
      ) STRICT;
      CREATE INDEX settlement_outbox_pending ON settlement_outbox (status, row_id);
    `,
  },
  {
    version: 2,
    name: "payment amounts as TEXT decimal strings",
    // Rebuilds the payments table and, since foreign keys stay on inside the migration's transaction, its two
    // children with it: new tables filled first, old children dropped before their parent, and renaming the
    // new payments table rewrites the new children's references. Every row keeps its id.
    sql: `
      CREATE TABLE settlement_payments_v2 (
        direction TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
        id TEXT NOT NULL,
        settlement_id TEXT NOT NULL,
        debtor_bank_id TEXT NOT NULL,
        debtor_bank TEXT NOT NULL,
        creditor_bank_id TEXT NOT NULL,
        creditor_bank TEXT NOT NULL,
        debtor_account TEXT,
        creditor_account TEXT,
        creditor_account_ref TEXT NOT NULL,
        amount TEXT NOT NULL CHECK (amount GLOB '[1-9]*' AND amount NOT GLOB '*[^0-9]*' AND length(amount) <= 78),
        currency TEXT NOT NULL,
        deadline INTEGER NOT NULL,
        debtor_leg TEXT NOT NULL,
        creditor_leg TEXT NOT NULL,
        reason TEXT,
        created_at TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        finished_ms INTEGER,
        PRIMARY KEY (direction, id),
        UNIQUE (direction, settlement_id)
      ) STRICT;
      INSERT INTO settlement_payments_v2 (direction, id, settlement_id, debtor_bank_id, debtor_bank, creditor_bank_id,
          creditor_bank, debtor_account, creditor_account, creditor_account_ref, amount, currency, deadline,
          debtor_leg, creditor_leg, reason, created_at, created_ms, updated_at, finished_ms)
        SELECT direction, id, settlement_id, debtor_bank_id, debtor_bank, creditor_bank_id, creditor_bank,
          debtor_account, creditor_account, creditor_account_ref, CAST(amount AS TEXT), currency, deadline,
          debtor_leg, creditor_leg, reason, created_at, created_ms, updated_at, finished_ms
        FROM settlement_payments;
      CREATE TABLE settlement_payment_history_v2 (
        seq INTEGER PRIMARY KEY,
        direction TEXT NOT NULL,
        payment_id TEXT NOT NULL,
        at TEXT NOT NULL,
        what TEXT NOT NULL,
        tx TEXT,
        FOREIGN KEY (direction, payment_id) REFERENCES settlement_payments_v2 (direction, id)
      ) STRICT;
      INSERT INTO settlement_payment_history_v2 (seq, direction, payment_id, at, what, tx)
        SELECT seq, direction, payment_id, at, what, tx FROM settlement_payment_history;
      CREATE TABLE settlement_outbox_v2 (
        row_id INTEGER PRIMARY KEY,
        direction TEXT NOT NULL,
        payment_id TEXT NOT NULL,
        step TEXT NOT NULL CHECK (step IN ('initiate', 'smelt', 'reject', 'acknowledge', 'return', 'refund')),
        status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'void')),
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before_ms INTEGER NOT NULL DEFAULT 0,
        tx_hash TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (direction, payment_id, step),
        FOREIGN KEY (direction, payment_id) REFERENCES settlement_payments_v2 (direction, id)
      ) STRICT;
      INSERT INTO settlement_outbox_v2 (row_id, direction, payment_id, step, status, attempts, not_before_ms, tx_hash,
          last_error, created_at, updated_at)
        SELECT row_id, direction, payment_id, step, status, attempts, not_before_ms, tx_hash, last_error, created_at,
          updated_at
        FROM settlement_outbox;
      DROP TABLE settlement_outbox;
      DROP TABLE settlement_payment_history;
      DROP TABLE settlement_payments;
      ALTER TABLE settlement_payments_v2 RENAME TO settlement_payments;
      ALTER TABLE settlement_payment_history_v2 RENAME TO settlement_payment_history;
      ALTER TABLE settlement_outbox_v2 RENAME TO settlement_outbox;
      CREATE INDEX settlement_payment_history_payment ON settlement_payment_history (direction, payment_id);
      CREATE INDEX settlement_outbox_pending ON settlement_outbox (status, row_id);
    `,
  },
  {
    version: 3,
    name: "payment ids scoped by debtor bank",
    // Settlement ids are unique per debtor bank on chain (issue 13, M-4), not globally: two banks may send this
    // bank payments with the same id. Rebuilds the payments table (and its two children, as migration 2 does) with
    // UNIQUE (direction, debtor_bank, settlement_id) in place of UNIQUE (direction, settlement_id); the debtor bank
    // (an address) compares without case, so a lookup by debtor bank and id uses that index.
    sql: `
      CREATE TABLE settlement_payments_v3 (
        direction TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
        id TEXT NOT NULL,
        settlement_id TEXT NOT NULL,
        debtor_bank_id TEXT NOT NULL,
        debtor_bank TEXT NOT NULL COLLATE NOCASE,
        creditor_bank_id TEXT NOT NULL,
        creditor_bank TEXT NOT NULL,
        debtor_account TEXT,
        creditor_account TEXT,
        creditor_account_ref TEXT NOT NULL,
        amount TEXT NOT NULL CHECK (amount GLOB '[1-9]*' AND amount NOT GLOB '*[^0-9]*' AND length(amount) <= 78),
        currency TEXT NOT NULL,
        deadline INTEGER NOT NULL,
        debtor_leg TEXT NOT NULL,
        creditor_leg TEXT NOT NULL,
        reason TEXT,
        created_at TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        finished_ms INTEGER,
        PRIMARY KEY (direction, id),
        UNIQUE (direction, debtor_bank, settlement_id)
      ) STRICT;
      INSERT INTO settlement_payments_v3 (direction, id, settlement_id, debtor_bank_id, debtor_bank, creditor_bank_id,
          creditor_bank, debtor_account, creditor_account, creditor_account_ref, amount, currency, deadline,
          debtor_leg, creditor_leg, reason, created_at, created_ms, updated_at, finished_ms)
        SELECT direction, id, settlement_id, debtor_bank_id, debtor_bank, creditor_bank_id, creditor_bank,
          debtor_account, creditor_account, creditor_account_ref, amount, currency, deadline,
          debtor_leg, creditor_leg, reason, created_at, created_ms, updated_at, finished_ms
        FROM settlement_payments;
      CREATE TABLE settlement_payment_history_v3 (
        seq INTEGER PRIMARY KEY,
        direction TEXT NOT NULL,
        payment_id TEXT NOT NULL,
        at TEXT NOT NULL,
        what TEXT NOT NULL,
        tx TEXT,
        FOREIGN KEY (direction, payment_id) REFERENCES settlement_payments_v3 (direction, id)
      ) STRICT;
      INSERT INTO settlement_payment_history_v3 (seq, direction, payment_id, at, what, tx)
        SELECT seq, direction, payment_id, at, what, tx FROM settlement_payment_history;
      CREATE TABLE settlement_outbox_v3 (
        row_id INTEGER PRIMARY KEY,
        direction TEXT NOT NULL,
        payment_id TEXT NOT NULL,
        step TEXT NOT NULL CHECK (step IN ('initiate', 'smelt', 'reject', 'acknowledge', 'return', 'refund')),
        status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'void')),
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before_ms INTEGER NOT NULL DEFAULT 0,
        tx_hash TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (direction, payment_id, step),
        FOREIGN KEY (direction, payment_id) REFERENCES settlement_payments_v3 (direction, id)
      ) STRICT;
      INSERT INTO settlement_outbox_v3 (row_id, direction, payment_id, step, status, attempts, not_before_ms, tx_hash,
          last_error, created_at, updated_at)
        SELECT row_id, direction, payment_id, step, status, attempts, not_before_ms, tx_hash, last_error, created_at,
          updated_at
        FROM settlement_outbox;
      DROP TABLE settlement_outbox;
      DROP TABLE settlement_payment_history;
      DROP TABLE settlement_payments;
      ALTER TABLE settlement_payments_v3 RENAME TO settlement_payments;
      ALTER TABLE settlement_payment_history_v3 RENAME TO settlement_payment_history;
      ALTER TABLE settlement_outbox_v3 RENAME TO settlement_outbox;
      CREATE INDEX settlement_payment_history_payment ON settlement_payment_history (direction, payment_id);
      CREATE INDEX settlement_outbox_pending ON settlement_outbox (status, row_id);
    `,
  },
  {
    version: 4,
    name: "index of the open outbound payments",
    // The agent counts its open outbound payments before it admits an order (`maxOpenPayments`): a partial
    // index holds those only, so the count reads as many entries as are open, not every payment ever made.
    sql: `
      CREATE INDEX settlement_payments_open_outbound ON settlement_payments (direction, debtor_leg)
        WHERE direction = 'outbound' AND debtor_leg IN ('Debited', 'Initiated');
    `,
  },
  {
    version: 5,
    name: "the nonce of each outbox row's transactions",
    // The agent gives up an initiate the chain refused only once no transaction sent for it can still land: once
    // its key's count on chain is above the highest nonce those transactions took. Rows from before have none.
    sql: `
      ALTER TABLE settlement_outbox ADD COLUMN tx_nonce INTEGER CHECK (tx_nonce >= 0);
    `,
  },
];

interface PaymentRow {
  direction: Direction;
  id: string;
  settlement_id: string;
  debtor_bank_id: string;
  debtor_bank: string;
  creditor_bank_id: string;
  creditor_bank: string;
  debtor_account: string | null;
  creditor_account: string | null;
  creditor_account_ref: string;
  amount: string;
  currency: string;
  deadline: number;
  debtor_leg: DebtorLegStatus;
  creditor_leg: CreditorLegStatus;
  reason: string | null;
  created_at: string;
  created_ms: number;
  updated_at: string;
  finished_ms: number | null;
}

const PAYMENT_FIELDS = [
  "direction",
  "id",
  "settlement_id",
  "debtor_bank_id",
  "debtor_bank",
  "creditor_bank_id",
  "creditor_bank",
  "debtor_account",
  "creditor_account",
  "creditor_account_ref",
  "amount",
  "currency",
  "deadline",
  "debtor_leg",
  "creditor_leg",
  "reason",
  "created_at",
  "created_ms",
  "updated_at",
  "finished_ms",
] as const;
const PAYMENT_COLUMNS = `${PAYMENT_FIELDS.join(", ")} FROM settlement_payments`;

/**
 * The outbox rows (`o`) due now, those moving payments already on chain first, then new initiates, each oldest
 * first; parameters: now (ms), limit.
 */
const DUE_OUTBOX_ROWS = `WHERE o.status = 'pending' AND o.not_before_ms <= ?
  ORDER BY CASE o.step WHEN 'initiate' THEN 1 ELSE 0 END, o.row_id LIMIT ?`;

/** An outbox row's columns as the due-row queries select them. */
interface OutboxRowColumns {
  row_id: number;
  o_direction: Direction;
  payment_id: string;
  step: OutboxStep;
  attempts: number;
  tx_hash: string | null;
  tx_nonce: number | null;
}

function toOutboxRow(row: OutboxRowColumns): OutboxRow {
  return {
    rowId: row.row_id,
    direction: row.o_direction,
    paymentId: row.payment_id,
    step: row.step,
    attempts: row.attempts,
    txHash: row.tx_hash,
    txNonce: row.tx_nonce,
  };
}

const FINAL_DEBTOR_LEGS: ReadonlySet<DebtorLegStatus> = new Set(["Acknowledged", "Returned", "Refunded", "Failed"]);

/** The status of the payment as a whole, from its two legs. */
export function paymentStatus(debtorLeg: DebtorLegStatus, creditorLeg: CreditorLegStatus): PaymentStatus {
  switch (debtorLeg) {
    case "Failed":
    case "Acknowledged":
    case "Returned":
    case "Refunded":
      return debtorLeg;
    default:
      break;
  }
  switch (creditorLeg) {
    case "Smelted":
    case "Rejected":
    case "Expired":
      return creditorLeg;
    case "Reversed":
      return "Expired";
    case "Delivered":
    case "Credited":
    case "Rejecting":
      return "Delivered";
    case "Pending":
      return debtorLeg === "Initiated" ? "Delivered" : "Accepted";
  }
}

/** The key a payment's journal entries carry: `outbound:E2E-1`. */
export function paymentKey(direction: Direction, id: string): string {
  return `${direction}:${id}`;
}

export class PaymentStore {
  readonly #store: Store;
  readonly #clock: Clock;

  constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
    store.migrate("settlement.payments", PAYMENT_MIGRATIONS);
  }

  /** Whether a payment with this id exists in this direction. */
  has(direction: Direction, id: string): boolean {
    return (
      this.#store.get("SELECT 1 AS one FROM settlement_payments WHERE direction = ? AND id = ?", direction, id) !==
      undefined
    );
  }

  /**
   * Records a new payment.
   * @throws PaymentStoreError `PAYMENT_EXISTS` if (direction, id) or (direction, debtor bank, settlement id) is
   *         taken.
   */
  insert(payment: NewPayment): void {
    const now = this.#clock.now();
    const at = isoAt(now);
    this.#store.transaction(() => {
      // Both keys, (direction, id) and (direction, debtor bank, settlement id), are unique: a taken one inserts
      // nothing, which is the answer, with no read before.
      const { changes } = this.#store.run(
        `INSERT INTO settlement_payments (direction, id, settlement_id, debtor_bank_id, debtor_bank, creditor_bank_id,
           creditor_bank, debtor_account, creditor_account, creditor_account_ref, amount, currency, deadline,
           debtor_leg, creditor_leg, reason, created_at, created_ms, updated_at, finished_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL) ON CONFLICT DO NOTHING`,
        payment.direction,
        payment.id,
        payment.terms.id.toLowerCase(),
        payment.debtorBank.id,
        checksummed(payment.terms.debtorBank),
        payment.creditorBank.id,
        payment.terms.creditorBank,
        payment.debtorAccount,
        payment.creditorAccount,
        payment.terms.creditorAccountRef.toLowerCase(),
        payment.terms.amount.toString(),
        payment.currency,
        payment.terms.deadline,
        payment.debtorLeg,
        payment.creditorLeg,
        at,
        now,
        at,
      );
      if (changes === 0) {
        throw new PaymentStoreError("PAYMENT_EXISTS", `${payment.direction} payment ${payment.id} already exists`, {
          direction: payment.direction,
          id: payment.id,
        });
      }
      this.#history(payment.direction, payment.id, payment.note, null);
    });
  }

  get(direction: Direction, id: string): PaymentRecord | undefined {
    const row = this.#store.get<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} WHERE direction = ? AND id = ?`, direction, id);
    return row === undefined ? undefined : this.#toRecord(row);
  }

  /** The payment `settlementId` of `debtorBank` (settlement ids are scoped by debtor bank on chain). */
  bySettlementId(direction: Direction, debtorBank: string, settlementId: string): PaymentRecord | undefined {
    const row = this.#store.get<PaymentRow>(
      `SELECT ${PAYMENT_COLUMNS} WHERE direction = ? AND debtor_bank = ? AND settlement_id = ?`,
      direction,
      debtorBank,
      settlementId.toLowerCase(),
    );
    return row === undefined ? undefined : this.#toRecord(row);
  }

  /**
   * Moves one or both legs and notes why. Moving the debtor leg to a final
   * status stamps the payment finished and voids any step still owed for it.
   * @throws PaymentStoreError `PAYMENT_UNKNOWN` if there is no such payment.
   */
  update(direction: Direction, id: string, change: PaymentChange): void {
    this.#store.transaction(() => {
      const current = this.get(direction, id);
      if (current === undefined) {
        throw new PaymentStoreError("PAYMENT_UNKNOWN", `there is no ${direction} payment ${id}`, { direction, id });
      }
      this.#move(current, change);
    });
  }

  /**
   * `update` of a payment the caller read in the transaction it is in now, with nothing written to the payment
   * since: the record it holds is the payment as stored, so it is not read again.
   * @throws PaymentStoreError `PAYMENT_NO_TRANSACTION` outside a transaction (a record read before one may be
   *         stale).
   */
  move(read: PaymentRecord, change: PaymentChange): void {
    if (!this.#store.inTransaction) {
      throw new PaymentStoreError(
        "PAYMENT_NO_TRANSACTION",
        `move() of ${read.direction} payment ${read.id} takes a record read in the transaction it runs in`,
        { direction: read.direction, id: read.id },
      );
    }
    this.#store.transaction(() => this.#move(read, change));
  }

  #move(current: PaymentRecord, change: PaymentChange): void {
    const { direction, id } = current;
    const now = this.#clock.now();
    const debtorLeg = change.debtorLeg ?? current.debtorLeg;
    // Stamped when the debtor leg reaches a final status, kept while it stays final; a payment given up whose
    // initiate landed after all (`Failed` to `Initiated`) is open again.
    const finished = FINAL_DEBTOR_LEGS.has(debtorLeg) ? (current.finishedMs ?? now) : null;
    this.#store.run(
      `UPDATE settlement_payments SET debtor_leg = ?, creditor_leg = ?, creditor_account = ?, reason = ?,
         updated_at = ?, finished_ms = ? WHERE direction = ? AND id = ?`,
      debtorLeg,
      change.creditorLeg ?? current.creditorLeg,
      change.creditorAccount ?? current.creditorAccount,
      change.reason === undefined ? current.reason : change.reason,
      isoAt(now),
      finished,
      direction,
      id,
    );
    this.#history(direction, id, change.note, change.tx ?? null);
    if (finished !== null && current.finishedMs === null) {
      // A closed payment owes nothing more on chain.
      this.#store.run(
        `UPDATE settlement_outbox SET status = 'void', last_error = 'the payment is closed', updated_at = ?
         WHERE direction = ? AND payment_id = ? AND status = 'pending'`,
        isoAt(now),
        direction,
        id,
      );
    }
  }

  /** Outbound payments on chain whose creditor leg is still open at or before `chainTime` (seconds). */
  expiredOutbound(chainTime: number): PaymentRecord[] {
    return this.#store
      .all<PaymentRow>(
        `SELECT ${PAYMENT_COLUMNS} WHERE direction = 'outbound' AND debtor_leg = 'Initiated'
           AND creditor_leg IN ('Pending', 'Delivered') AND deadline < ? ORDER BY deadline`,
        chainTime,
      )
      .map((row) => this.#toRecord(row));
  }

  /** Payments of a direction, oldest first. */
  list(direction: Direction): PaymentRecord[] {
    return this.#store
      .all<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} WHERE direction = ? ORDER BY created_ms, id`, direction)
      .map((row) => this.#toRecord(row));
  }

  /**
   * Up to `limit` payments newest first (creation time, then direction and id, descending), of one direction or
   * both, in one status or any, after the cursor. The status is derived from the two legs, so a status filter is
   * the list of leg pairs that make it.
   */
  page(query: PaymentPageQuery): PaymentRecord[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.direction !== undefined) {
      where.push("direction = ?");
      params.push(query.direction);
    }
    if (query.status !== undefined) {
      const pairs = DEBTOR_LEGS.flatMap((debtor) =>
        CREDITOR_LEGS.filter((creditor) => paymentStatus(debtor, creditor) === query.status).map((creditor) => [
          debtor,
          creditor,
        ]),
      );
      where.push(`(${pairs.map(() => "(debtor_leg = ? AND creditor_leg = ?)").join(" OR ")})`);
      params.push(...pairs.flat());
    }
    if (query.after !== undefined) {
      where.push("(created_ms, direction, id) < (?, ?, ?)");
      params.push(query.after.createdMs, query.after.direction, query.after.id);
    }
    return this.#store
      .all<PaymentRow>(
        `SELECT ${PAYMENT_COLUMNS} ${where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`}
         ORDER BY created_ms DESC, direction DESC, id DESC LIMIT ?`,
        ...params,
        query.limit,
      )
      .map((row) => this.#toRecord(row));
  }

  /** How many payments of a direction (of both when not given) are in each status. */
  counts(direction?: Direction): Partial<Record<PaymentStatus, number>> {
    const counts: Partial<Record<PaymentStatus, number>> = {};
    for (const row of this.#store.all<{ debtor_leg: DebtorLegStatus; creditor_leg: CreditorLegStatus; n: number }>(
      `SELECT debtor_leg, creditor_leg, COUNT(*) AS n FROM settlement_payments WHERE (? IS NULL OR direction = ?)
       GROUP BY debtor_leg, creditor_leg`,
      direction ?? null,
      direction ?? null,
    )) {
      const status = paymentStatus(row.debtor_leg, row.creditor_leg);
      counts[status] = (counts[status] ?? 0) + row.n;
    }
    return counts;
  }

  // ── outbox ──

  /** Records that the agent owes `step` for a payment; false if it was already recorded. */
  enqueue(direction: Direction, paymentId: string, step: OutboxStep): boolean {
    const at = isoNow(this.#clock);
    const { changes } = this.#store.run(
      `INSERT INTO settlement_outbox (direction, payment_id, step, status, created_at, updated_at)
       VALUES (?, ?, ?, 'pending', ?, ?) ON CONFLICT (direction, payment_id, step) DO NOTHING`,
      direction,
      paymentId,
      step,
      at,
      at,
    );
    return changes === 1;
  }

  /**
   * Pending steps due now: those that move payments already on chain first (so that new payments do not
   * hold up the ones about to finish), then new initiates, each oldest first.
   */
  pending(limit = 1_000): OutboxRow[] {
    return this.#store
      .all<OutboxRowColumns>(
        `SELECT o.row_id, o.direction AS o_direction, o.payment_id, o.step, o.attempts, o.tx_hash, o.tx_nonce
         FROM settlement_outbox o ${DUE_OUTBOX_ROWS}`,
        this.#clock.now(),
        limit,
      )
      .map(toOutboxRow);
  }

  /**
   * `pending`, each row with its payment as it is now (one query, not one read per row); `undefined` for a row
   * whose payment does not exist.
   */
  pendingWithPayments(limit = 1_000): Array<{ row: OutboxRow; payment: PaymentRecord | undefined }> {
    const fields = PAYMENT_FIELDS.map((field) => `p.${field}`).join(", ");
    return this.#store
      .all<OutboxRowColumns & PaymentRow & { p_found: number | null }>(
        `SELECT o.row_id, o.direction AS o_direction, o.payment_id, o.step, o.attempts, o.tx_hash, o.tx_nonce,
           p.rowid AS p_found, ${fields}
         FROM settlement_outbox o
         LEFT JOIN settlement_payments p ON p.direction = o.direction AND p.id = o.payment_id
         ${DUE_OUTBOX_ROWS}`,
        this.#clock.now(),
        limit,
      )
      .map((row) => ({
        row: toOutboxRow(row),
        payment: row.p_found === null ? undefined : this.#toRecord(row),
      }));
  }

  /** The outbox rows of one payment, in order. */
  outboxOf(
    direction: Direction,
    paymentId: string,
  ): Array<{ step: OutboxStep; status: "pending" | "done" | "void"; attempts: number }> {
    return this.#store.all(
      `SELECT step, status, attempts FROM settlement_outbox WHERE direction = ? AND payment_id = ? ORDER BY row_id`,
      direction,
      paymentId,
    );
  }

  /** Marks a payment's pending `step` done, when its event shows it landed; false if it was not pending. */
  doneByStep(direction: Direction, paymentId: string, step: OutboxStep, txHash: string | null): boolean {
    const { changes } = this.#store.run(
      `UPDATE settlement_outbox SET status = 'done', tx_hash = COALESCE(?, tx_hash), updated_at = ?
       WHERE direction = ? AND payment_id = ? AND step = ? AND status = 'pending'`,
      txHash,
      isoNow(this.#clock),
      direction,
      paymentId,
      step,
    );
    return changes === 1;
  }

  /** The newest outbox row id (0 if none): rows up to it existed before this run. */
  lastRowId(): number {
    return this.#store.get<{ n: number | null }>("SELECT MAX(row_id) AS n FROM settlement_outbox")?.n ?? 0;
  }

  /** How many outbound payments are open: accepted (`Debited`) or on chain (`Initiated`), not yet closed. */
  openOutboundCount(): number {
    return this.#store.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM settlement_payments
       WHERE direction = 'outbound' AND debtor_leg IN ('Debited', 'Initiated')`,
    )!.n;
  }

  /** Whether any outbound payment is on chain and still waiting for bank B. */
  hasOpenOutbound(): boolean {
    return (
      this.#store.get(
        `SELECT 1 AS one FROM settlement_payments WHERE direction = 'outbound' AND debtor_leg = 'Initiated'
         AND creditor_leg IN ('Pending', 'Delivered') LIMIT 1`,
      ) !== undefined
    );
  }

  /**
   * Keeps the nonce a transaction for steps is about to be sent on (a batch's rows, in one statement; a row keeps
   * the highest): written before the transaction is handed to the node, so that a send whose answer is lost, or a
   * crash right after the handover, still leaves the row with every nonce it may have taken.
   */
  sending(rowIds: readonly number[], nonce: number): void {
    this.#store.run(
      `UPDATE settlement_outbox SET tx_nonce = MAX(COALESCE(tx_nonce, 0), ?), updated_at = ?
       WHERE row_id IN (SELECT value FROM json_each(?))`,
      nonce,
      isoNow(this.#clock),
      JSON.stringify(rowIds),
    );
  }

  /**
   * Records the hash of a transaction sent for steps (a batch's rows, in one statement); the rows are not handed
   * out again for `holdMs` (the receipt's handler moves them on before then: landed, or failed and due again).
   */
  sent(rowIds: readonly number[], txHash: string, holdMs: number): void {
    this.#store.run(
      `UPDATE settlement_outbox SET tx_hash = ?, attempts = attempts + 1, not_before_ms = ?, updated_at = ?
       WHERE row_id IN (SELECT value FROM json_each(?))`,
      txHash,
      this.#clock.now() + holdMs,
      isoNow(this.#clock),
      JSON.stringify(rowIds),
    );
  }

  /**
   * The steps' transaction is mined; the rows still pending stay so until their events are confirmed and
   * applied (`doneByStep`), and are looked at again after `recheckMs` in case a reorg dropped it.
   */
  landed(rowIds: readonly number[], txHash: string | null, recheckMs: number): void {
    this.#store.run(
      `UPDATE settlement_outbox SET tx_hash = COALESCE(?, tx_hash), not_before_ms = ?, updated_at = ?
       WHERE row_id IN (SELECT value FROM json_each(?)) AND status = 'pending'`,
      txHash,
      this.#clock.now() + recheckMs,
      isoNow(this.#clock),
      JSON.stringify(rowIds),
    );
  }

  /** Looks at a row again after `delayMs` (checked on chain then), without counting an attempt. */
  recheck(rowId: number, delayMs: number): void {
    this.#store.run(
      `UPDATE settlement_outbox SET not_before_ms = ?, updated_at = ? WHERE row_id = ? AND status = 'pending'`,
      this.#clock.now() + delayMs,
      isoNow(this.#clock),
      rowId,
    );
  }

  /** The step will never be sent: the chain moved on without it (the reason says how). */
  void(rowId: number, reason: string): void {
    this.#store.run(
      "UPDATE settlement_outbox SET status = 'void', last_error = ?, updated_at = ? WHERE row_id = ?",
      reason,
      isoNow(this.#clock),
      rowId,
    );
  }

  /** The step failed for now; try again after `delayMs`. */
  retryLater(rowId: number, error: string, delayMs: number): void {
    this.#store.run(
      `UPDATE settlement_outbox SET attempts = attempts + 1, last_error = ?, not_before_ms = ?, updated_at = ?
       WHERE row_id = ?`,
      error,
      this.#clock.now() + delayMs,
      isoNow(this.#clock),
      rowId,
    );
  }

  #history(direction: Direction, id: string, what: string, tx: string | null): void {
    this.#store.run(
      "INSERT INTO settlement_payment_history (direction, payment_id, at, what, tx) VALUES (?, ?, ?, ?, ?)",
      direction,
      id,
      isoNow(this.#clock),
      what,
      tx,
    );
  }

  /**
   * A payment row as a record. Its history (and the note, its first entry) is read from the store when first
   * asked for: the bookkeeper reads a payment for every event it applies and never looks at the history.
   */
  #toRecord(row: PaymentRow): PaymentRecord {
    const store = this.#store;
    let history: PaymentRecord["history"] | undefined;
    const loadHistory = (): PaymentRecord["history"] =>
      (history ??= store.all<{ at: string; what: string; tx: string | null }>(
        "SELECT at, what, tx FROM settlement_payment_history WHERE direction = ? AND payment_id = ? ORDER BY seq",
        row.direction,
        row.id,
      ));
    return {
      direction: row.direction,
      id: row.id,
      terms: {
        id: row.settlement_id,
        debtorBank: row.debtor_bank,
        creditorBank: row.creditor_bank,
        amount: BigInt(row.amount),
        creditorAccountRef: row.creditor_account_ref,
        deadline: row.deadline,
      },
      debtorBank: { id: row.debtor_bank_id, address: row.debtor_bank },
      creditorBank: { id: row.creditor_bank_id, address: row.creditor_bank },
      debtorAccount: row.debtor_account,
      creditorAccount: row.creditor_account,
      currency: row.currency,
      debtorLeg: row.debtor_leg,
      creditorLeg: row.creditor_leg,
      status: paymentStatus(row.debtor_leg, row.creditor_leg),
      reason: row.reason,
      get note() {
        return loadHistory()[0]?.what ?? "";
      },
      createdAt: row.created_at,
      createdMs: row.created_ms,
      updatedAt: row.updated_at,
      finishedMs: row.finished_ms,
      get history() {
        return loadHistory();
      },
    };
  }
}
