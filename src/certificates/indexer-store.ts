/**
 * The certificate indexer's SQLite schema (its migrations) and the rows it
 * reads back. The indexer keeps raw rows, never running totals, so that the
 * features of any set of addresses can be computed as of any block it has
 * indexed (`CertificateIndexer.featuresOf`):
 *
 * - `cert_transfers`: one row per value movement: a top-level transaction
 *   (`log_index = -1`, native coin, `to_addr` the callee or the created
 *   contract) or a BankToken `Transfer` log (`log_index >= 0`, minor units);
 *   the block's timestamp is copied into each row.
 * - `cert_creations`: contracts created by a top-level CREATE transaction, by
 *   creator and nonce (the addresses "generated from a key" besides the EOA).
 * - `cert_facts`: what the suite's contracts say about an address: a completed
 *   settlement, a bill paid on time or overdue, a proven offline double spend,
 *   a freeze or an unfreeze. `ref` identifies the thing counted (the settlement,
 *   the bill, the log), so a thing seen from two addresses of a set counts once.
 * - `cert_settlement_parties`: the creditor bank of each smelted settlement, so
 *   that its later `SettlementAcknowledged` (which names only the debtor) is
 *   credited to both banks.
 * - `cert_index_config`: the contracts and first block the file was indexed
 *   with; reopening it with others is refused.
 *
 * Addresses are lowercase hex. The checkpoint is a row of the shared
 * `event_checkpoints` table (`src/chain/events.ts`), so the devnet's record
 * check compares it with the chain like every follower's.
 */
import type { Migration } from "../store/store.js";

/** The kinds of `cert_facts` rows. */
export const FACT = {
  SettlementCompleted: 1,
  BillPaidOnTime: 2,
  BillPaidOverdue: 3,
  DoubleSpend: 4,
  Frozen: 5,
  Unfrozen: 6,
} as const;

export type FactKind = (typeof FACT)[keyof typeof FACT];

export const CERT_INDEXER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "certificate indexer rows",
    sql: `CREATE TABLE cert_transfers (
      block INTEGER NOT NULL,
      tx_index INTEGER NOT NULL,
      log_index INTEGER NOT NULL,
      from_addr TEXT NOT NULL,
      to_addr TEXT,
      value TEXT NOT NULL,
      ts INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX cert_transfers_from ON cert_transfers(from_addr, block);
    CREATE INDEX cert_transfers_to ON cert_transfers(to_addr, block);
    CREATE TABLE cert_creations (
      creator TEXT NOT NULL,
      nonce INTEGER NOT NULL,
      address TEXT NOT NULL,
      block INTEGER NOT NULL,
      PRIMARY KEY (creator, nonce)
    ) STRICT;
    CREATE TABLE cert_facts (
      address TEXT NOT NULL,
      block INTEGER NOT NULL,
      log_index INTEGER NOT NULL,
      kind INTEGER NOT NULL,
      ref TEXT NOT NULL
    ) STRICT;
    CREATE INDEX cert_facts_address ON cert_facts(address, block);
    CREATE INDEX cert_facts_kind ON cert_facts(kind, block);
    CREATE TABLE cert_settlement_parties (
      debtor TEXT NOT NULL,
      id TEXT NOT NULL,
      creditor TEXT NOT NULL,
      PRIMARY KEY (debtor, id)
    ) STRICT;
    CREATE TABLE cert_index_config (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) STRICT;`,
  },
];

/** A `cert_transfers` row as read back. */
export interface TransferRow {
  block: number;
  tx_index: number;
  log_index: number;
  from_addr: string;
  to_addr: string | null;
  value: string;
  ts: number;
}

/** A `cert_facts` row as read back (address, kind and what is counted). */
export interface FactRow {
  address: string;
  kind: FactKind;
  ref: string;
}
