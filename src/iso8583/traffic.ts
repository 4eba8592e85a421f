/**
 * The card gateway's traffic, read from its journal (`journal.ts`, table
 * `card_messages`) for the gateway's HTTP API (`http.ts`): messages per
 * second over a window, counts by response code and by MTI, and the journal
 * itself newest first.
 *
 * It reads through its own connection to the gateway's SQLite file, made
 * read-only (`PRAGMA query_only`): in WAL mode a reader never blocks the
 * gateway, and it sees what the gateway committed, which is everything the
 * gateway answered (the journal commits before an answer is written). So the
 * API keeps no state of its own and a restart of either loses nothing.
 *
 * One journal row is one card transaction: a repeat or a retransmission of a
 * message is answered from its row and not counted again; network management
 * messages (08xx) are not journaled.
 */
import { systemClock, type Clock } from "../chain/clock.js";
import { BankChainError } from "../errors.js";
import type { Store } from "../store/store.js";
import { JOURNAL_MODULE, JOURNAL_SCHEMA_VERSION, type JournalState, type OperationName } from "./journal.js";

/** The journal cannot be read: not there yet, or of another schema version; or a bad cursor. */
export class CardTrafficError extends BankChainError {}

/** One journal row as the API shows it. */
export interface TrafficMessage {
  readonly id: string;
  readonly mti: string;
  readonly stan: string;
  readonly rrn: string | null;
  readonly terminal: string | null;
  readonly operation: OperationName | null;
  /** Minor units, decimal; null for a message that posts nothing. */
  readonly amount: string | null;
  readonly wallet: string | null;
  /** DE 39 answered; null while the message is still `posting`. */
  readonly responseCode: string | null;
  readonly state: JournalState;
  /** The ledger operation's idempotency key. */
  readonly opKey: string | null;
  /** ISO 8601, when the gateway first took the message on. */
  readonly createdAt: string;
}

/** Traffic over the last `windowSeconds`. */
export interface TrafficStats {
  readonly windowSeconds: number;
  readonly messages: number;
  readonly perSecond: number;
  /** Messages answered, by DE 39 (messages still posting have no code yet). */
  readonly byResponseCode: Record<string, number>;
  readonly byMti: Record<string, number>;
  /** Every second of the window, oldest first, with the messages taken on in it. */
  readonly series: { second: string; count: number }[];
}

/** The longest window `stats` takes, seconds. */
export const MAX_WINDOW_SECONDS = 3_600;

interface Row {
  id: string;
  mti: string;
  stan: string;
  rrn: string | null;
  terminal: string | null;
  operation: OperationName | null;
  amount: string | null;
  wallet: string | null;
  response_code: string | null;
  state: JournalState;
  op_key: string | null;
  created_at: string;
}

const COLUMNS = "id, mti, stan, rrn, terminal, operation, amount, wallet, response_code, state, op_key, created_at";
const CURSOR = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\|(.{1,160})$/s;

/** Read-only queries over the gateway's journal. */
export class CardTraffic {
  readonly #store: Store;
  readonly #clock: Clock;

  /**
   * Makes `store`'s connection read-only and checks the journal is there at this code's schema version.
   * @throws CardTrafficError `CARD_TRAFFIC_NO_JOURNAL` (the gateway never ran on this file) or
   *   `CARD_TRAFFIC_SCHEMA` (the file's journal is of another version).
   */
  constructor(store: Store, options: { readonly clock?: Clock } = {}) {
    this.#store = store;
    this.#clock = options.clock ?? systemClock;
    store.exec("PRAGMA query_only = ON");
    const version =
      store.get<{ v: number | null }>(
        "SELECT MAX(version) AS v FROM schema_migrations WHERE module = ?",
        JOURNAL_MODULE,
      )?.v ?? null;
    if (version === null) {
      throw new CardTrafficError(
        "CARD_TRAFFIC_NO_JOURNAL",
        `${store.path} holds no card gateway journal: the card gateway must have started on it first`,
        { path: store.path },
      );
    }
    if (version !== JOURNAL_SCHEMA_VERSION) {
      throw new CardTrafficError(
        "CARD_TRAFFIC_SCHEMA",
        `the journal in ${store.path} is at schema version ${version}, this code reads ${JOURNAL_SCHEMA_VERSION}`,
        { path: store.path, version },
      );
    }
  }

  /** Messages taken on in the last `windowSeconds` whole seconds (the current one included). */
  stats(windowSeconds: number): TrafficStats {
    const nowSecond = Math.floor(this.#clock.now() / 1000);
    const firstSecond = nowSecond - windowSeconds + 1;
    const from = new Date(firstSecond * 1000).toISOString();
    const to = new Date((nowSecond + 1) * 1000).toISOString();
    const rows = this.#store.all<{ created_at: string; mti: string; response_code: string | null }>(
      "SELECT created_at, mti, response_code FROM card_messages WHERE created_at >= ? AND created_at < ?",
      from,
      to,
    );
    const counts = new Array<number>(windowSeconds).fill(0);
    const byResponseCode: Record<string, number> = {};
    const byMti: Record<string, number> = {};
    for (const row of rows) {
      const at = Math.floor(Date.parse(row.created_at) / 1000) - firstSecond;
      if (at >= 0 && at < windowSeconds) counts[at]! += 1;
      byMti[row.mti] = (byMti[row.mti] ?? 0) + 1;
      if (row.response_code !== null) byResponseCode[row.response_code] = (byResponseCode[row.response_code] ?? 0) + 1;
    }
    return {
      windowSeconds,
      messages: rows.length,
      perSecond: rows.length / windowSeconds,
      byResponseCode,
      byMti,
      series: counts.map((count, i) => ({ second: new Date((firstSecond + i) * 1000).toISOString(), count })),
    };
  }

  /**
   * Up to `limit` messages, newest first, after the one `cursor` names (an opaque `nextCursor` of an earlier
   * page). @throws CardTrafficError `CARD_TRAFFIC_BAD_CURSOR` for a cursor this code did not make.
   */
  messages(query: { readonly limit: number; readonly cursor?: string | undefined }): {
    items: TrafficMessage[];
    nextCursor: string | null;
  } {
    const after = query.cursor === undefined ? undefined : parseCursor(query.cursor);
    const rows =
      after === undefined
        ? this.#store.all<Row>(
            `SELECT ${COLUMNS} FROM card_messages ORDER BY created_at DESC, id DESC LIMIT ?`,
            query.limit + 1,
          )
        : this.#store.all<Row>(
            `SELECT ${COLUMNS} FROM card_messages WHERE created_at < ? OR (created_at = ? AND id < ?)
              ORDER BY created_at DESC, id DESC LIMIT ?`,
            after.createdAt,
            after.createdAt,
            after.id,
            query.limit + 1,
          );
    const items = rows.slice(0, query.limit).map(toMessage);
    const last = items.at(-1);
    return {
      items,
      nextCursor:
        rows.length > query.limit && last !== undefined
          ? Buffer.from(`${last.createdAt}|${last.id}`, "utf8").toString("base64url")
          : null,
    };
  }

  /** A cheap read that throws when the file cannot be read (for `/health`). */
  check(): void {
    this.#store.get("SELECT 1 AS x FROM card_messages LIMIT 1");
  }
}

function parseCursor(cursor: string): { createdAt: string; id: string } {
  const match = CURSOR.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (match === null) {
    throw new CardTrafficError("CARD_TRAFFIC_BAD_CURSOR", "cursor: not a cursor this API returned", {
      field: "cursor",
    });
  }
  return { createdAt: match[1]!, id: match[2]! };
}

function toMessage(row: Row): TrafficMessage {
  return {
    id: row.id,
    mti: row.mti,
    stan: row.stan,
    rrn: row.rrn,
    terminal: row.terminal,
    operation: row.operation,
    amount: row.amount,
    wallet: row.wallet,
    responseCode: row.response_code,
    state: row.state,
    opKey: row.op_key,
    createdAt: row.created_at,
  };
}
