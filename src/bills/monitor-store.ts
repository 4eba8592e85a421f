/**
 * The bill monitor's SQLite schema (its migrations) and the rows it reads
 * back: the local view of definitions, transitions, bills, their operations
 * and anomalies that `BillMonitor` replays the registry's events into.
 */
import type { Migration } from "../store/store.js";

export const BILL_MONITOR_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "bill monitor view",
    sql: `CREATE TABLE bill_definitions (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      version INTEGER NOT NULL,
      states TEXT NOT NULL,
      transitions_known INTEGER NOT NULL,
      block INTEGER NOT NULL,
      tx TEXT NOT NULL
    ) STRICT;
    CREATE TABLE bill_transitions (
      definition_id INTEGER NOT NULL REFERENCES bill_definitions(id),
      from_state TEXT NOT NULL,
      operation TEXT NOT NULL,
      to_state TEXT NOT NULL,
      party INTEGER NOT NULL,
      effect INTEGER NOT NULL,
      timing INTEGER NOT NULL,
      PRIMARY KEY (definition_id, from_state, operation)
    ) STRICT;
    CREATE TABLE bills (
      id TEXT PRIMARY KEY,
      definition_id INTEGER,
      state TEXT NOT NULL,
      drawer TEXT,
      drawee TEXT,
      payer TEXT,
      payee TEXT,
      holder TEXT,
      financier TEXT,
      amount_due TEXT NOT NULL DEFAULT '0',
      amount_paid TEXT NOT NULL DEFAULT '0',
      rolling_hash TEXT NOT NULL,
      pending_effect TEXT,
      acceptance_deadline INTEGER,
      maturity INTEGER,
      recourse_deadline INTEGER,
      issued_block INTEGER NOT NULL,
      issued_tx TEXT NOT NULL,
      last_block INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX bills_state ON bills(state);
    CREATE INDEX bills_maturity ON bills(maturity);
    CREATE TABLE bill_endorsers (
      bill_id TEXT NOT NULL REFERENCES bills(id),
      position INTEGER NOT NULL,
      address TEXT NOT NULL,
      PRIMARY KEY (bill_id, position)
    ) STRICT;
    CREATE TABLE bill_operations (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      bill_id TEXT NOT NULL,
      event TEXT NOT NULL,
      block INTEGER NOT NULL,
      tx TEXT NOT NULL,
      log_index INTEGER NOT NULL,
      from_state TEXT,
      to_state TEXT,
      operation TEXT,
      actor TEXT,
      data_hash TEXT,
      detail TEXT NOT NULL
    ) STRICT;
    CREATE INDEX bill_operations_bill ON bill_operations(bill_id, seq);
    CREATE TABLE bill_anomalies (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      kind TEXT NOT NULL,
      bill_id TEXT,
      block INTEGER,
      tx TEXT,
      detail TEXT NOT NULL
    ) STRICT;`,
  },
];

export interface BillRow {
  id: string;
  definition_id: number | null;
  state: string;
  drawer: string | null;
  drawee: string | null;
  payer: string | null;
  payee: string | null;
  holder: string | null;
  financier: string | null;
  amount_due: string;
  amount_paid: string;
  rolling_hash: string;
  pending_effect: string | null;
  acceptance_deadline: number | null;
  maturity: number | null;
  recourse_deadline: number | null;
  issued_block: number;
  issued_tx: string;
  last_block: number;
}

export interface TransitionRow {
  from_state: string;
  operation: string;
  to_state: string;
  party: number;
  effect: number;
  timing: number;
}
