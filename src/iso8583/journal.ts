/**
 * The gateway's journal: every card message it took on, in SQLite, written
 * before the ledger is touched, so a crash or restart loses no record and
 * posts nothing twice.
 *
 * A message is identified by its MTI (repeats folded onto the original MTI),
 * transmission date and time (DE 7), trace number (DE 11), terminal (DE 41)
 * and acquirer (DE 32). Its ledger operation's idempotency key is derived
 * from that identity, so every attempt of one message uses one key and the
 * ledger applies it at most once.
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
 * is late): it is remembered in `card_reversed_unseen`, and the original, if it
 * ever arrives, is declined without touching the ledger.
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
  readonly operation: OperationName | null;
  readonly opKey: string | null;
  readonly refKey: string | null;
  readonly originalId: string | null;
  readonly wallet: string | null;
  readonly amount: string | null;
  readonly state: JournalState;
  readonly responseCode: string | null;
  readonly authCode: string | null;
  readonly autoReversed: boolean;
  /** When an `unknown` row stops being checked and becomes `failed` (ms since epoch). */
  readonly settleBy: number | null;
}

export type NewJournalRow = Pick<
  JournalRow,
  | "id"
  | "kind"
  | "mti"
  | "stan"
  | "de7"
  | "rrn"
  | "terminal"
  | "operation"
  | "opKey"
  | "refKey"
  | "originalId"
  | "wallet"
  | "amount"
>;

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
] as const;

interface Raw {
  id: string;
  kind: MessageKind;
  mti: string;
  stan: string;
  de7: string;
  rrn: string | null;
  terminal: string | null;
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
    settleBy: raw.settle_by,
  };
}

export class Journal {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
    store.migrate("iso8583-gateway", MIGRATIONS);
  }

  get(id: string): JournalRow | undefined {
    const raw = this.#store.get<Raw>("SELECT * FROM card_messages WHERE id = ?", id);
    return raw === undefined ? undefined : fromRaw(raw);
  }

  /** The message an original-data element (DE 90) points at. */
  findOriginal(mti: string, stan: string, de7: string): JournalRow | undefined {
    const raw = this.#store.get<Raw>(
      "SELECT * FROM card_messages WHERE mti = ? AND stan = ? AND de7 = ? ORDER BY created_at LIMIT 1",
      mti,
      stan,
      de7,
    );
    return raw === undefined ? undefined : fromRaw(raw);
  }

  /** The newest approved authorization with this retrieval reference at this terminal. */
  findAuthorization(rrn: string, terminal: string | null): JournalRow | undefined {
    const raw = this.#store.get<Raw>(
      `SELECT * FROM card_messages WHERE kind = 'authorization' AND rrn = ? AND terminal IS ?
        AND state = 'done' AND response_code = '00' ORDER BY created_at DESC LIMIT 1`,
      rrn,
      terminal,
    );
    return raw === undefined ? undefined : fromRaw(raw);
  }

  /** A reversal arrived for an original never seen: if the original comes later, it is declined. */
  markReversedUnseen(mti: string, stan: string, de7: string, reversalId: string): void {
    this.#store.run(
      "INSERT OR IGNORE INTO card_reversed_unseen (mti, stan, de7, reversal_id) VALUES (?, ?, ?, ?)",
      mti,
      stan,
      de7,
      reversalId,
    );
  }

  isReversedUnseen(mti: string, stan: string, de7: string): boolean {
    return (
      this.#store.get(
        "SELECT 1 AS x FROM card_reversed_unseen WHERE mti = ? AND stan = ? AND de7 = ?",
        mti,
        stan,
        de7,
      ) !== undefined
    );
  }

  /** Records a message about to be posted (a new one, or a `failed` one tried again). */
  begin(row: NewJournalRow): void {
    this.#store.run(
      `INSERT INTO card_messages
        (id, kind, mti, stan, de7, rrn, terminal, operation, op_key, ref_key, original_id, wallet, amount, state)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'posting')
        ON CONFLICT (id) DO UPDATE SET state = 'posting', response_code = NULL, settle_by = NULL,
          attempts = attempts + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
        WHERE card_messages.state = 'failed'`,
      row.id,
      row.kind,
      row.mti,
      row.stan,
      row.de7,
      row.rrn,
      row.terminal,
      row.operation,
      row.opKey,
      row.refKey,
      row.originalId,
      row.wallet,
      row.amount,
    );
  }

  /** A final answer. */
  finish(id: string, responseCode: string, authCode: string | null = null): void {
    this.#store.run(
      `UPDATE card_messages SET state = 'done', response_code = ?, auth_code = ?, settle_by = NULL,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`,
      responseCode,
      authCode,
      id,
    );
  }

  /** Answered 91 without knowing whether the operation landed; checked until `settleBy`. */
  markUnknown(id: string, settleBy: number): void {
    this.#store.run(
      `UPDATE card_messages SET state = 'unknown', response_code = '91', settle_by = ?,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`,
      settleBy,
      id,
    );
  }

  /** Answered 91 and known not posted. */
  markFailed(id: string): void {
    this.#store.run(
      `UPDATE card_messages SET state = 'failed', response_code = '91', settle_by = NULL,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`,
      id,
    );
  }

  /** An `unknown` operation that had landed and was reversed: the answer stays 91. */
  markAutoReversed(id: string): void {
    this.#store.run(
      `UPDATE card_messages SET state = 'done', response_code = '91', auto_reversed = 1, settle_by = NULL,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`,
      id,
    );
  }

  /** Rows cut off by a crash become `unknown`; returns how many. */
  recover(settleBy: number): number {
    return this.#store.run(
      `UPDATE card_messages SET state = 'unknown', response_code = '91', settle_by = ?,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE state = 'posting'`,
      settleBy,
    ).changes;
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
