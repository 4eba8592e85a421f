/**
 * The gateway's journal: every card message it took on, in SQLite, written
 * before the ledger is touched, so a crash or restart loses no record and
 * posts nothing twice.
 *
 * A message is identified the way acquirers identify a transaction: its
 * message class (authorization, financial, reversal; requests, repeats and
 * advices alike), acquirer (DE 32), forwarder (DE 33), terminal (DE 41),
 * merchant (DE 42), trace number (DE 11), local date and time (DE 13, DE 12)
 * and retrieval reference (DE 37); never by DE 7, which a retransmission
 * renews. Its ledger operation's idempotency key is derived from that
 * identity, so every attempt of one transaction uses one key and the ledger
 * applies it at most once. `fingerprint` hashes what the transaction asks
 * for (PAN, processing code, amount, currency, wallet data, original data):
 * a message with a known identity and the same fingerprint is a repeat and
 * gets the first answer; another fingerprint is a different message reusing
 * the identity (94).
 *
 * Group commit: writes go into one open SQLite transaction, made durable by
 * `commit()`, which the gateway calls before a ledger transaction is sent
 * and before an answer is written to a socket. A crash loses only writes
 * that nothing outside the gateway has acted on.
 *
 * States:
 * - `posting`: the operation is being sent; no answer given yet;
 * - `done`: answered with `response_code` (final);
 * - `unknown`: the chain did not answer in time; answered 91; whether the
 *   operation landed is not known yet. The reconciler settles it: if it landed
 *   it is reversed (91 was the answer), otherwise it becomes `failed`;
 * - `failed`: answered 91 and known not posted; a repeat of the message is
 *   processed afresh (with the same key).
 * A `posting` row found at start-up was cut off by a crash: it becomes
 * `unknown` (the acquirer had no answer and will repeat or reverse it).
 *
 * A reversal can overtake its original (the original was lost on the way, or
 * is late): it is remembered in `card_reversals_ahead` under the original's
 * acquirer, terminal, MTI, STAN and DE 7, and the original, if it ever
 * arrives, is declined without touching the ledger.
 */
import type { Store } from "../store/store.js";

export type MessageKind = "authorization" | "financial" | "reversal";
export type OperationName = "hold" | "capture" | "debit" | "credit" | "reverse";
export type JournalState = "posting" | "done" | "unknown" | "failed";

export interface JournalRow {
  readonly id: string;
  readonly kind: MessageKind;
  readonly mti: string;
  readonly stan: string;
  readonly de7: string;
  readonly rrn: string | null;
  readonly terminal: string | null;
  /** DE 32, digits as sent. */
  readonly acquirer: string;
  readonly forwarder: string | null;
  readonly merchant: string | null;
  readonly fingerprint: string;
  readonly panHash: string | null;
  /** Whether the message was an advice (forced post). */
  readonly advice: boolean;
  readonly operation: OperationName | null;
  readonly opKey: string | null;
  readonly refKey: string | null;
  readonly originalId: string | null;
  readonly wallet: string | null;
  /** The amount posted (minor units = token units), decimal. */
  readonly amount: string | null;
  readonly state: JournalState;
  readonly responseCode: string | null;
  readonly authCode: string | null;
  readonly autoReversed: boolean;
  /**
   * A reversal was acknowledged for this message while it stood nowhere on the
   * ledger (declined, failed or of unknown fate): it is never posted again.
   */
  readonly voided: boolean;
  /** When an `unknown` row stops being checked and becomes `failed` (ms since epoch). */
  readonly settleBy: number | null;
}

/** A row as the gateway writes it: which message it is, and what it posts. */
export type NewJournalRow = MessageColumns &
  Pick<JournalRow, "panHash" | "operation" | "opKey" | "refKey" | "originalId" | "wallet" | "amount">;

/** The columns that say which message a row is (the rest say what it posts). */
export type MessageColumns = Pick<
  JournalRow,
  | "id"
  | "kind"
  | "mti"
  | "stan"
  | "de7"
  | "rrn"
  | "terminal"
  | "acquirer"
  | "forwarder"
  | "merchant"
  | "fingerprint"
  | "advice"
>;
/** Where a DE 90 points: the original's MTI, STAN, DE 7 and acquirer, at the reversal's terminal. */
export interface OriginalRef {
  readonly mti: string;
  readonly stan: string;
  readonly de7: string;
  readonly acquirer: string;
  readonly terminal: string;
}

const MIGRATIONS = [
  {
    version: 1,
    name: "card messages",
    sql: `CREATE TABLE card_messages (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL CHECK (kind IN ('authorization', 'financial', 'reversal')),
      mti TEXT NOT NULL,
      stan TEXT NOT NULL,
      de7 TEXT NOT NULL,
      rrn TEXT,
      terminal TEXT,
      operation TEXT CHECK (operation IN ('hold', 'capture', 'debit', 'credit', 'reverse')),
      op_key TEXT UNIQUE,
      ref_key TEXT,
      original_id TEXT,
      wallet TEXT,
      amount TEXT,
      state TEXT NOT NULL CHECK (state IN ('posting', 'done', 'unknown', 'failed')),
      response_code TEXT,
      auth_code TEXT,
      auto_reversed INTEGER NOT NULL DEFAULT 0,
      settle_by INTEGER,
      attempts INTEGER NOT NULL DEFAULT 1,
      created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
      updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    ) STRICT;
    CREATE INDEX card_messages_original ON card_messages (mti, stan, de7);
    CREATE INDEX card_messages_rrn ON card_messages (rrn, terminal) WHERE kind = 'authorization';
    CREATE INDEX card_messages_open ON card_messages (state) WHERE state IN ('posting', 'unknown');`,
  },
  {
    version: 2,
    name: "reversals ahead of their original",
    sql: `CREATE TABLE card_reversed_unseen (
      mti TEXT NOT NULL,
      stan TEXT NOT NULL,
      de7 TEXT NOT NULL,
      reversal_id TEXT NOT NULL,
      created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
      PRIMARY KEY (mti, stan, de7)
    ) STRICT;`,
  },
  {
    // Rows written before this version keep an empty acquirer: no message of
    // this version can name them, which is right (they were matched without it).
    version: 3,
    name: "acquirer identity, fingerprints, advices",
    sql: `ALTER TABLE card_messages ADD COLUMN acquirer TEXT NOT NULL DEFAULT '';
    ALTER TABLE card_messages ADD COLUMN forwarder TEXT;
    ALTER TABLE card_messages ADD COLUMN merchant TEXT;
    ALTER TABLE card_messages ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
    ALTER TABLE card_messages ADD COLUMN pan_hash TEXT;
    ALTER TABLE card_messages ADD COLUMN advice INTEGER NOT NULL DEFAULT 0;
    DROP INDEX card_messages_original;
    DROP INDEX card_messages_rrn;
    CREATE INDEX card_messages_original ON card_messages (acquirer, terminal, mti, stan, de7);
    CREATE INDEX card_messages_rrn ON card_messages (acquirer, rrn);
    CREATE INDEX card_messages_children ON card_messages (original_id) WHERE original_id IS NOT NULL;
    CREATE TABLE card_reversals_ahead (
      acquirer TEXT NOT NULL,
      terminal TEXT NOT NULL,
      mti TEXT NOT NULL,
      stan TEXT NOT NULL,
      de7 TEXT NOT NULL,
      reversal_id TEXT NOT NULL,
      created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
      PRIMARY KEY (acquirer, terminal, mti, stan, de7)
    ) STRICT;
    INSERT INTO card_reversals_ahead (acquirer, terminal, mti, stan, de7, reversal_id, created_at)
      SELECT '', '', mti, stan, de7, reversal_id, created_at FROM card_reversed_unseen;
    DROP TABLE card_reversed_unseen;`,
  },
  {
    // DE 90 names an original by the MTI and DE 7 of whichever transmission the acquirer kept: every
    // transmission of a transaction (first, repeats, retransmissions with a new DE 7, advices) is kept.
    version: 4,
    name: "transmissions, voided messages, when a reversal came ahead",
    sql: `CREATE TABLE card_transmissions (
      message_id TEXT NOT NULL,
      mti TEXT NOT NULL,
      de7 TEXT NOT NULL,
      PRIMARY KEY (message_id, mti, de7)
    ) STRICT;
    CREATE INDEX card_transmissions_de7 ON card_transmissions (de7);
    INSERT INTO card_transmissions (message_id, mti, de7) SELECT id, mti, de7 FROM card_messages;
    ALTER TABLE card_messages ADD COLUMN voided INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX card_messages_stan ON card_messages (acquirer, terminal, stan);
    ALTER TABLE card_reversals_ahead ADD COLUMN at_ms INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX card_reversals_ahead_stan ON card_reversals_ahead (acquirer, terminal, stan);`,
  },
  {
    // The traffic API (`traffic.ts`) reads the journal newest first and by time window.
    version: 5,
    name: "messages by time",
    sql: `CREATE INDEX card_messages_created ON card_messages (created_at, id);`,
  },
] as const;

/** The journal's schema version this code writes (the traffic reader refuses another). */
export const JOURNAL_SCHEMA_VERSION = MIGRATIONS.length;

/** The store module under which the journal's migrations are recorded. */
export const JOURNAL_MODULE = "iso8583-gateway";

/** How long a reversal that came ahead of its original declines a late original (STANs recycle daily). */
export const REVERSAL_AHEAD_MS = 24 * 3_600_000;

interface Raw {
  id: string;
  kind: MessageKind;
  mti: string;
  stan: string;
  de7: string;
  rrn: string | null;
  terminal: string | null;
  acquirer: string;
  forwarder: string | null;
  merchant: string | null;
  fingerprint: string;
  pan_hash: string | null;
  advice: number;
  operation: OperationName | null;
  op_key: string | null;
  ref_key: string | null;
  original_id: string | null;
  wallet: string | null;
  amount: string | null;
  state: JournalState;
  response_code: string | null;
  auth_code: string | null;
  auto_reversed: number;
  voided: number;
  settle_by: number | null;
}

function fromRaw(raw: Raw): JournalRow {
  return {
    id: raw.id,
    kind: raw.kind,
    mti: raw.mti,
    stan: raw.stan,
    de7: raw.de7,
    rrn: raw.rrn,
    terminal: raw.terminal,
    acquirer: raw.acquirer,
    forwarder: raw.forwarder,
    merchant: raw.merchant,
    fingerprint: raw.fingerprint,
    panHash: raw.pan_hash,
    advice: raw.advice === 1,
    operation: raw.operation,
    opKey: raw.op_key,
    refKey: raw.ref_key,
    originalId: raw.original_id,
    wallet: raw.wallet,
    amount: raw.amount,
    state: raw.state,
    responseCode: raw.response_code,
    authCode: raw.auth_code,
    autoReversed: raw.auto_reversed === 1,
    voided: raw.voided === 1,
    settleBy: raw.settle_by,
  };
}

/** Rows that count against an original: approved, or still of open fate. */
const STANDING = "(state IN ('posting', 'unknown') OR (state = 'done' AND response_code = '00' AND auto_reversed = 0))";

export class Journal {
  readonly #store: Store;
  #open = false;

  constructor(store: Store) {
    this.#store = store;
    store.migrate(JOURNAL_MODULE, MIGRATIONS);
  }

  /** Makes every write so far durable (one commit for all of them). */
  commit(): void {
    if (!this.#open) return;
    try {
      this.#store.exec("COMMIT");
    } finally {
      // A failed COMMIT that left the transaction open is tried again by the next one; one that SQLite
      // rolled back lost its writes, which nothing outside has acted on yet (no answer, no send).
      this.#open = this.#store.inSqliteTransaction;
    }
  }

  /** Whether writes are waiting for `commit()`. */
  get uncommitted(): boolean {
    return this.#open;
  }

  #write(sql: string, ...params: (string | number | null)[]): number {
    if (!this.#open && !this.#store.inSqliteTransaction) {
      this.#store.exec("BEGIN IMMEDIATE");
      this.#open = true;
    }
    return this.#store.run(sql, ...params).changes;
  }

  get(id: string): JournalRow | undefined {
    const raw = this.#store.get<Raw>("SELECT * FROM card_messages WHERE id = ?", id);
    return raw === undefined ? undefined : fromRaw(raw);
  }

  /**
   * The messages a DE 90 can name: same acquirer, terminal, message class and
   * STAN, with a transmission of that DE 7 (reversals excluded).
   */
  findOriginals(ref: OriginalRef): JournalRow[] {
    return this.#store
      .all<Raw>(
        `SELECT * FROM card_messages m WHERE acquirer = ? AND terminal = ? AND substr(mti, 1, 2) = ? AND stan = ?
          AND kind != 'reversal'
          AND EXISTS (SELECT 1 FROM card_transmissions t WHERE t.message_id = m.id AND t.de7 = ?)
          ORDER BY created_at`,
        ref.acquirer,
        ref.terminal,
        ref.mti.slice(0, 2),
        ref.stan,
        ref.de7,
      )
      .map(fromRaw);
  }

  /** As `findOriginals`, at any terminal of the acquirer (a refund at another terminal of the merchant). */
  findAtAcquirer(acquirer: string, mti: string, stan: string, de7: string): JournalRow[] {
    return this.#store
      .all<Raw>(
        `SELECT * FROM card_messages m WHERE acquirer = ? AND substr(mti, 1, 2) = ? AND stan = ?
          AND kind != 'reversal'
          AND EXISTS (SELECT 1 FROM card_transmissions t WHERE t.message_id = m.id AND t.de7 = ?)
          ORDER BY created_at`,
        acquirer,
        mti.slice(0, 2),
        stan,
        de7,
      )
      .map(fromRaw);
  }

  /** Remembers that message `id` was (also) transmitted as `mti` with `de7`. */
  transmitted(id: string, mti: string, de7: string): void {
    this.#write("INSERT OR IGNORE INTO card_transmissions (message_id, mti, de7) VALUES (?, ?, ?)", id, mti, de7);
  }

  /** The message will never be posted again (see `JournalRow.voided`). */
  markVoided(id: string): void {
    this.#write(
      "UPDATE card_messages SET voided = 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
      id,
    );
  }

  /** Messages of `kind` from `acquirer` with retrieval reference `rrn`, oldest first. */
  findByRrn(kind: MessageKind, acquirer: string, rrn: string): JournalRow[] {
    return this.#store
      .all<Raw>(
        "SELECT * FROM card_messages WHERE acquirer = ? AND rrn = ? AND kind = ? ORDER BY created_at",
        acquirer,
        rrn,
        kind,
      )
      .map(fromRaw);
  }

  /**
   * What reversals and refunds took off `originalId`, counted at the bank's
   * worst case: a reversal or refund of unknown fate (or still posting) counts
   * as landed, a reversal of a refund only once it is approved. `pending`:
   * some of it is of unknown fate or still posting.
   */
  consumed(originalId: string): { amount: bigint; pending: boolean } {
    let amount = 0n;
    let pending = false;
    for (const row of this.#store.all<{
      id: string;
      operation: OperationName;
      amount: string | null;
      state: JournalState;
    }>(
      `SELECT id, operation, amount, state FROM card_messages WHERE original_id = ? AND operation IN ('reverse', 'credit')
        AND ${STANDING}`,
      originalId,
    )) {
      if (row.state !== "done") pending = true;
      let taken = BigInt(row.amount ?? "0");
      if (row.operation === "credit") {
        const undone = this.#store.all<{ amount: string | null; state: JournalState }>(
          `SELECT amount, state FROM card_messages WHERE original_id = ? AND operation = 'reverse' AND ${STANDING}`,
          row.id,
        );
        for (const reversal of undone) {
          if (reversal.state === "done") taken -= BigInt(reversal.amount ?? "0");
          else pending = true;
        }
      }
      amount += taken;
    }
    return { amount, pending };
  }

  /** A reversal arrived for an original never seen: if the original comes later, it is declined. */
  markReversedAhead(ref: OriginalRef, reversalId: string, atMs: number): void {
    this.#write(
      `INSERT OR IGNORE INTO card_reversals_ahead (acquirer, terminal, mti, stan, de7, reversal_id, at_ms)
        VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ref.acquirer,
      ref.terminal,
      ref.mti,
      ref.stan,
      ref.de7,
      reversalId,
      atMs,
    );
  }

  /**
   * Whether a reversal came ahead of this message: same acquirer, terminal,
   * message class and STAN within `REVERSAL_AHEAD_MS` of `nowMs`, whatever its
   * DE 7 (a retransmission of the original renews DE 7).
   */
  isReversedAhead(ref: Omit<OriginalRef, "de7">, nowMs: number): boolean {
    return (
      this.#store.get(
        `SELECT 1 AS x FROM card_reversals_ahead WHERE acquirer = ? AND terminal = ? AND substr(mti, 1, 2) = ?
          AND stan = ? AND at_ms >= ?`,
        ref.acquirer,
        ref.terminal,
        ref.mti.slice(0, 2),
        ref.stan,
        nowMs - REVERSAL_AHEAD_MS,
      ) !== undefined
    );
  }

  /** Records a message about to be posted (a new one, or a `failed` one tried again). */
  begin(row: NewJournalRow): void {
    this.#write(
      `INSERT INTO card_messages
        (id, kind, mti, stan, de7, rrn, terminal, acquirer, forwarder, merchant, fingerprint, pan_hash, advice,
          operation, op_key, ref_key, original_id, wallet, amount, state)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'posting')
        ON CONFLICT (id) DO UPDATE SET state = 'posting', response_code = NULL, settle_by = NULL,
          op_key = excluded.op_key, attempts = attempts + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
        WHERE card_messages.state = 'failed'`,
      row.id,
      row.kind,
      row.mti,
      row.stan,
      row.de7,
      row.rrn,
      row.terminal,
      row.acquirer,
      row.forwarder,
      row.merchant,
      row.fingerprint,
      row.panHash,
      row.advice ? 1 : 0,
      row.operation,
      row.opKey,
      row.refKey,
      row.originalId,
      row.wallet,
      row.amount,
    );
    this.transmitted(row.id, row.mti, row.de7);
  }

  /** How many times the message was sent to the ledger (a `failed` one tried again counts again). */
  attempts(id: string): number {
    return this.#store.get<{ attempts: number }>("SELECT attempts FROM card_messages WHERE id = ?", id)?.attempts ?? 0;
  }

  /** Records a message answered without a ledger operation (a reversal with nothing to undo). */
  record(row: NewJournalRow, responseCode: string): void {
    this.begin(row);
    this.finish(row.id, responseCode);
  }

  /** A final answer. */
  finish(id: string, responseCode: string, authCode: string | null = null): void {
    this.#write(
      `UPDATE card_messages SET state = 'done', response_code = ?, auth_code = ?, settle_by = NULL,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`,
      responseCode,
      authCode,
      id,
    );
  }

  /** Answered 91 without knowing whether the operation landed; checked until `settleBy`. */
  markUnknown(id: string, settleBy: number): void {
    this.#write(
      `UPDATE card_messages SET state = 'unknown', response_code = '91', settle_by = ?,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`,
      settleBy,
      id,
    );
  }

  /** Answered 91 and known not posted. */
  markFailed(id: string): void {
    this.#write(
      `UPDATE card_messages SET state = 'failed', response_code = '91', settle_by = NULL,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`,
      id,
    );
  }

  /** An `unknown` operation that had landed and was reversed: the answer stays 91. */
  markAutoReversed(id: string): void {
    this.#write(
      `UPDATE card_messages SET state = 'done', response_code = '91', auto_reversed = 1, settle_by = NULL,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`,
      id,
    );
  }

  /** Rows cut off by a crash become `unknown`; returns how many. */
  recover(settleBy: number): number {
    const changes = this.#write(
      `UPDATE card_messages SET state = 'unknown', response_code = '91', settle_by = ?,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE state = 'posting'`,
      settleBy,
    );
    this.commit();
    return changes;
  }

  unknown(): JournalRow[] {
    return this.#store.all<Raw>("SELECT * FROM card_messages WHERE state = 'unknown' ORDER BY created_at").map(fromRaw);
  }

  counts(): Record<JournalState, number> {
    const counts: Record<JournalState, number> = { posting: 0, done: 0, unknown: 0, failed: 0 };
    for (const row of this.#store.all<{ state: JournalState; n: number }>(
      "SELECT state, COUNT(*) AS n FROM card_messages GROUP BY state",
    )) {
      counts[row.state] = row.n;
    }
    return counts;
  }
}
