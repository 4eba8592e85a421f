/**
 * A bank's core-banking ledger in SQLite: accounts, and journal entries whose
 * postings always balance (debits = credits), each written in one transaction
 * under a unique idempotency key so that a replayed step cannot post twice.
 *
 * Amounts are bigint minor units. SQLite keeps every amount and balance as a
 * TEXT decimal string (`"18446744073709551615"`, `"-1"`), as the other
 * services' stores do: SQLite's INTEGER stops at 2^63 − 1, below the
 * settlement's largest payment (2^64 − 1), and node:sqlite reads integers as
 * numbers, exact only up to 2^53. All arithmetic, sums included, is bigint in
 * TypeScript; SQL never adds amounts.
 */
import { BankChainError } from "../errors.js";
import type { Migration, Store } from "../store/store.js";
import { isoNow, type Clock } from "../chain/clock.js";

/** Errors of the core ledger. */
export class CoreLedgerError extends BankChainError {}
/** An account that does not exist. */
export class LedgerUnknownAccountError extends CoreLedgerError {}
/** An account opened twice with different attributes. */
export class LedgerAccountConflictError extends CoreLedgerError {}
/** A posting would take an account that may not go negative below zero. */
export class LedgerInsufficientFundsError extends CoreLedgerError {}
/** An entry whose debits and credits differ, or that has a non-positive or too large amount. */
export class LedgerInvalidEntryError extends CoreLedgerError {}
/** An idempotency key reused for different postings. */
export class LedgerKeyConflictError extends CoreLedgerError {}

/** Assets grow with debits; liabilities grow with credits. */
export type AccountKind = "asset" | "liability";
/** Customer accounts are addressed by customers; internal ones by the bank's own postings. */
export type AccountCategory = "customer" | "internal";
export type AccountStatus = "active" | "closed" | "blocked";
export type Side = "debit" | "credit";

export interface AccountSpec {
  readonly id: string;
  readonly kind: AccountKind;
  readonly category: AccountCategory;
  readonly name: string;
  readonly status?: AccountStatus;
  /** The hashed reference a payment names the account by (customer accounts). */
  readonly ref?: string;
  /** Whether the balance may go below zero (internal accounts; never a customer's). */
  readonly allowNegative?: boolean;
}

export interface Account {
  readonly id: string;
  readonly kind: AccountKind;
  readonly category: AccountCategory;
  readonly name: string;
  readonly status: AccountStatus;
  readonly ref: string | null;
  readonly allowNegative: boolean;
  /** In the account's normal direction: debits minus credits for an asset, credits minus debits for a liability. */
  readonly balance: bigint;
}

export interface PostingLine {
  readonly account: string;
  readonly side: Side;
  readonly amount: bigint;
}

export interface JournalEntryInput {
  /** Unique per (payment, step): a second post with the same key and lines is a no-op. */
  readonly key: string;
  /** The payment this entry belongs to, if any (`outbound:E2E-1`). */
  readonly payment?: string;
  readonly step: string;
  readonly memo: string;
  readonly lines: readonly PostingLine[];
  /** Lets this entry take a no-negative account below zero (a reversal the customer cannot refuse). */
  readonly allowOverdraft?: boolean;
}

export interface JournalEntry {
  readonly id: number;
  readonly key: string;
  readonly payment: string | null;
  readonly step: string;
  readonly memo: string;
  readonly postedAt: string;
  readonly lines: readonly PostingLine[];
}

export interface PostResult {
  readonly entryId: number;
  /** False when the key was already posted (an idempotent replay). */
  readonly created: boolean;
}

export interface BalanceReport {
  readonly balanced: boolean;
  /** Sum of asset balances. */
  readonly assets: bigint;
  /** Sum of liability balances. */
  readonly liabilities: bigint;
  readonly entries: number;
  /** What is wrong, one line each (empty when balanced). */
  readonly problems: readonly string[];
}

/** The largest amount one posting or balance can hold: an EVM word, 78 decimal digits at most. */
export const MAX_LEDGER_AMOUNT = 2n ** 256n - 1n;

/** Postings read per query by `checkBalanced`, so that a large ledger is never read into memory at once. */
const CHECK_PAGE = 5_000;

export const CORE_LEDGER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "accounts, journal entries, postings",
    sql: `
      CREATE TABLE ledger_accounts (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('asset', 'liability')),
        category TEXT NOT NULL CHECK (category IN ('customer', 'internal')),
        name TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'closed', 'blocked')),
        ref TEXT UNIQUE,
        allow_negative INTEGER NOT NULL CHECK (allow_negative IN (0, 1)),
        balance INTEGER NOT NULL DEFAULT 0,
        opened_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE ledger_entries (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        payment TEXT,
        step TEXT NOT NULL,
        memo TEXT NOT NULL,
        posted_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX ledger_entries_payment ON ledger_entries (payment);
      CREATE TABLE ledger_postings (
        entry_id INTEGER NOT NULL REFERENCES ledger_entries (id),
        line INTEGER NOT NULL,
        account TEXT NOT NULL REFERENCES ledger_accounts (id),
        side TEXT NOT NULL CHECK (side IN ('debit', 'credit')),
        amount INTEGER NOT NULL CHECK (amount > 0),
        PRIMARY KEY (entry_id, line)
      ) STRICT;
      CREATE INDEX ledger_postings_account ON ledger_postings (account);
    `,
  },
  {
    version: 2,
    name: "amounts and balances as TEXT decimal strings",
    // Rebuilds the two tables that hold amounts, keeping every row (and so every id). Foreign keys stay on
    // (a migration runs inside a transaction, where they cannot be turned off), so the order matters: the new
    // tables are filled first, the old child is dropped before its parent, and renaming the new accounts
    // table rewrites the new postings table's reference to it.
    sql: `
      CREATE TABLE ledger_accounts_v2 (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('asset', 'liability')),
        category TEXT NOT NULL CHECK (category IN ('customer', 'internal')),
        name TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'closed', 'blocked')),
        ref TEXT UNIQUE,
        allow_negative INTEGER NOT NULL CHECK (allow_negative IN (0, 1)),
        balance TEXT NOT NULL DEFAULT '0' CHECK (
          balance = '0' OR (
            (balance GLOB '[1-9]*' OR balance GLOB '-[1-9]*')
            AND ltrim(balance, '-') NOT GLOB '*[^0-9]*' AND length(ltrim(balance, '-')) <= 78
          )
        ),
        opened_at TEXT NOT NULL
      ) STRICT;
      INSERT INTO ledger_accounts_v2 (id, kind, category, name, status, ref, allow_negative, balance, opened_at)
        SELECT id, kind, category, name, status, ref, allow_negative, CAST(balance AS TEXT), opened_at
        FROM ledger_accounts;
      CREATE TABLE ledger_postings_v2 (
        entry_id INTEGER NOT NULL REFERENCES ledger_entries (id),
        line INTEGER NOT NULL,
        account TEXT NOT NULL REFERENCES ledger_accounts_v2 (id),
        side TEXT NOT NULL CHECK (side IN ('debit', 'credit')),
        amount TEXT NOT NULL CHECK (amount GLOB '[1-9]*' AND amount NOT GLOB '*[^0-9]*' AND length(amount) <= 78),
        PRIMARY KEY (entry_id, line)
      ) STRICT;
      INSERT INTO ledger_postings_v2 (entry_id, line, account, side, amount)
        SELECT entry_id, line, account, side, CAST(amount AS TEXT) FROM ledger_postings;
      DROP TABLE ledger_postings;
      DROP TABLE ledger_accounts;
      ALTER TABLE ledger_accounts_v2 RENAME TO ledger_accounts;
      ALTER TABLE ledger_postings_v2 RENAME TO ledger_postings;
      CREATE INDEX ledger_postings_account ON ledger_postings (account);
    `,
  },
];

interface AccountRow {
  id: string;
  kind: AccountKind;
  category: AccountCategory;
  name: string;
  status: AccountStatus;
  ref: string | null;
  allow_negative: number;
  balance: string;
}

const ACCOUNT_COLUMNS = "id, kind, category, name, status, ref, allow_negative, balance FROM ledger_accounts";

/** Most postings (or balances) one statement writes: far under SQLite's limit on parameters. */
const ROWS_PER_STATEMENT = 100;

/** `items` in runs of at most `ROWS_PER_STATEMENT`, each with the index of its first item. */
function* statementRuns<T>(items: readonly T[]): Generator<{ readonly at: number; readonly run: readonly T[] }> {
  for (let at = 0; at < items.length; at += ROWS_PER_STATEMENT) {
    yield { at, run: items.slice(at, at + ROWS_PER_STATEMENT) };
  }
}

/** Inserts `n` postings in one statement: (entry_id, line, account, side, amount) per posting. */
function postingsInsert(n: number): string {
  return `INSERT INTO ledger_postings (entry_id, line, account, side, amount) VALUES ${Array(n).fill("(?, ?, ?, ?, ?)").join(", ")}`;
}

/** Sets the balances of `n` distinct accounts in one statement: (id, balance) per account, then the `n` ids. */
function balancesUpdate(n: number): string {
  return (
    `UPDATE ledger_accounts SET balance = CASE id ${Array(n).fill("WHEN ? THEN ?").join(" ")} END ` +
    `WHERE id IN (${Array(n).fill("?").join(", ")})`
  );
}

/** The effect of one posting on an account's balance, in the account's normal direction. */
function delta(kind: AccountKind, side: Side, amount: bigint): bigint {
  return (kind === "asset") === (side === "debit") ? amount : -amount;
}

export class CoreLedger {
  readonly #store: Store;
  readonly #clock: Clock;
  /**
   * Accounts as read (or written) in the store's current transaction, valid while its `transactionEpoch` is
   * `#accountsEpoch`: one poll round books many payments on the same few accounts.
   */
  readonly #accounts = new Map<string, Account>();
  #accountsEpoch: number | undefined;

  constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
    store.migrate("settlement.ledger", CORE_LEDGER_MIGRATIONS);
  }

  /**
   * Opens an account, or returns the existing one when it was opened with the
   * same kind, category and reference (so seeding can run on every start).
   * @throws LedgerAccountConflictError when the id exists with other attributes.
   */
  openAccount(spec: AccountSpec): Account {
    const ref = spec.ref?.toLowerCase() ?? null;
    return this.#store.transaction(() => {
      const existing = this.account(spec.id);
      if (existing !== undefined) {
        if (
          existing.kind !== spec.kind ||
          existing.category !== spec.category ||
          existing.ref !== ref ||
          existing.allowNegative !== (spec.allowNegative ?? false)
        ) {
          throw new LedgerAccountConflictError(
            "LEDGER_ACCOUNT_CONFLICT",
            `account ${spec.id} exists as a ${existing.category} ${existing.kind}, not as requested`,
            { account: spec.id },
          );
        }
        return existing;
      }
      this.#store.run(
        `INSERT INTO ledger_accounts (id, kind, category, name, status, ref, allow_negative, opened_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        spec.id,
        spec.kind,
        spec.category,
        spec.name,
        spec.status ?? "active",
        ref,
        spec.allowNegative === true ? 1 : 0,
        isoNow(this.#clock),
      );
      return this.#requireAccount(spec.id);
    });
  }

  setStatus(id: string, status: AccountStatus): void {
    this.#accounts.delete(id);
    const { changes } = this.#store.run("UPDATE ledger_accounts SET status = ? WHERE id = ?", status, id);
    if (changes === 0) throw this.#unknown(id);
  }

  account(id: string): Account | undefined {
    const row = this.#store.get<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} WHERE id = ?`, id);
    return row === undefined ? undefined : toAccount(row);
  }

  /** The customer account a payment names by its hashed reference. */
  accountByRef(ref: string): Account | undefined {
    const row = this.#store.get<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} WHERE ref = ?`, ref.toLowerCase());
    return row === undefined ? undefined : toAccount(row);
  }

  accounts(): Account[] {
    return this.#store.all<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} ORDER BY id`).map(toAccount);
  }

  /** @throws LedgerUnknownAccountError */
  balance(id: string): bigint {
    return this.#requireAccount(id).balance;
  }

  /**
   * Posts a balanced journal entry in one transaction (a savepoint inside a
   * caller's transaction). Posting a key again with the same lines does
   * nothing and reports `created: false`.
   *
   * @throws LedgerInvalidEntryError, LedgerUnknownAccountError, LedgerInsufficientFundsError,
   *         LedgerKeyConflictError
   */
  post(entry: JournalEntryInput): PostResult {
    checkEntry(entry);
    return this.#store.transaction(() => {
      // The key is unique: a key posted before inserts nothing (no read first), and its lines are compared.
      const { changes, lastInsertRowid } = this.#store.run(
        "INSERT INTO ledger_entries (key, payment, step, memo, posted_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
        entry.key,
        entry.payment ?? null,
        entry.step,
        entry.memo,
        isoNow(this.#clock),
      );
      if (changes === 0) {
        const existing = this.#store.get<{ id: number }>("SELECT id FROM ledger_entries WHERE key = ?", entry.key)!;
        const lines = this.#lines(existing.id);
        if (!sameLines(lines, entry.lines)) {
          throw new LedgerKeyConflictError(
            "LEDGER_KEY_CONFLICT",
            `journal key ${entry.key} was already posted with other lines`,
            { key: entry.key },
          );
        }
        return { entryId: existing.id, created: false };
      }
      const entryId = Number(lastInsertRowid);
      // Every line checked against the running balance of its account before anything is written; then the lines
      // in one statement and the balances in another.
      const balances = new Map<string, Account>();
      for (const line of entry.lines) {
        const account = balances.get(line.account) ?? this.#accountInTransaction(line.account);
        const next = account.balance + delta(account.kind, line.side, line.amount);
        if (next < 0n && !account.allowNegative && entry.allowOverdraft !== true) {
          throw new LedgerInsufficientFundsError(
            "LEDGER_INSUFFICIENT_FUNDS",
            `account ${account.id} holds ${account.balance}, less than the ${line.amount} this entry takes`,
            { account: account.id, balance: account.balance.toString(), amount: line.amount.toString() },
          );
        }
        if (next > MAX_LEDGER_AMOUNT || next < -MAX_LEDGER_AMOUNT) {
          throw new LedgerInvalidEntryError(
            "LEDGER_BALANCE_OVERFLOW",
            `account ${account.id} would leave the range of ±${MAX_LEDGER_AMOUNT}`,
            { account: account.id, balance: account.balance.toString(), amount: line.amount.toString() },
          );
        }
        balances.set(line.account, { ...account, balance: next });
      }
      for (const { at, run } of statementRuns(entry.lines)) {
        this.#store.run(
          postingsInsert(run.length),
          ...run.flatMap((line, i) => [entryId, at + i, line.account, line.side, line.amount.toString()]),
        );
      }
      const changed = [...balances.values()];
      for (const { run } of statementRuns(changed)) {
        this.#store.run(
          balancesUpdate(run.length),
          ...run.flatMap((account) => [account.id, account.balance.toString()]),
          ...run.map((account) => account.id),
        );
      }
      for (const account of changed) this.#accounts.set(account.id, account);
      return { entryId, created: true };
    });
  }

  /** A two-line entry: debit one account, credit another. */
  transfer(input: {
    readonly key: string;
    readonly payment?: string;
    readonly step: string;
    readonly memo: string;
    readonly debit: string;
    readonly credit: string;
    readonly amount: bigint;
    readonly allowOverdraft?: boolean;
  }): PostResult {
    return this.post({
      key: input.key,
      ...(input.payment === undefined ? {} : { payment: input.payment }),
      step: input.step,
      memo: input.memo,
      lines: [
        { account: input.debit, side: "debit", amount: input.amount },
        { account: input.credit, side: "credit", amount: input.amount },
      ],
      ...(input.allowOverdraft === undefined ? {} : { allowOverdraft: input.allowOverdraft }),
    });
  }

  /** Whether an entry with this key exists. */
  hasEntry(key: string): boolean {
    return this.#store.get("SELECT 1 AS one FROM ledger_entries WHERE key = ?", key) !== undefined;
  }

  /** Journal entries, oldest first; only a payment's when `payment` is given. */
  entries(payment?: string): JournalEntry[] {
    const rows =
      payment === undefined
        ? this.#store.all<EntryRow>("SELECT id, key, payment, step, memo, posted_at FROM ledger_entries ORDER BY id")
        : this.#store.all<EntryRow>(
            "SELECT id, key, payment, step, memo, posted_at FROM ledger_entries WHERE payment = ? ORDER BY id",
            payment,
          );
    return rows.map((row) => ({
      id: row.id,
      key: row.key,
      payment: row.payment,
      step: row.step,
      memo: row.memo,
      postedAt: row.posted_at,
      lines: this.#lines(row.id),
    }));
  }

  /**
   * Checks the whole ledger: every entry balances, assets equal liabilities,
   * and every stored balance equals the sum of its account's postings. The
   * sums are bigint, over the postings read page by page.
   */
  checkBalanced(): BalanceReport {
    const problems: string[] = [];
    const accounts = this.accounts();
    const kinds = new Map(accounts.map((account) => [account.id, account.kind]));
    const computed = new Map(accounts.map((account) => [account.id, 0n]));
    const offBy = (entryId: number, diff: bigint) => {
      if (diff !== 0n) problems.push(`entry ${entryId} is off by ${diff}`);
    };
    let entry = -1;
    let diff = 0n;
    let after = { entry: -1, line: -1 };
    for (;;) {
      const page = this.#store.all<{ entry_id: number; line: number; account: string; side: Side; amount: string }>(
        `SELECT entry_id, line, account, side, amount FROM ledger_postings
         WHERE entry_id > ? OR (entry_id = ? AND line > ?) ORDER BY entry_id, line LIMIT ?`,
        after.entry,
        after.entry,
        after.line,
        CHECK_PAGE,
      );
      for (const row of page) {
        if (row.entry_id !== entry) {
          offBy(entry, diff);
          entry = row.entry_id;
          diff = 0n;
        }
        const amount = BigInt(row.amount);
        diff += row.side === "debit" ? amount : -amount;
        const kind = kinds.get(row.account) ?? "asset";
        computed.set(row.account, (computed.get(row.account) ?? 0n) + delta(kind, row.side, amount));
      }
      const last = page.at(-1);
      if (last === undefined || page.length < CHECK_PAGE) break;
      after = { entry: last.entry_id, line: last.line };
    }
    offBy(entry, diff);
    const empty = this.#store.all<{ id: number }>(
      "SELECT id FROM ledger_entries WHERE id NOT IN (SELECT entry_id FROM ledger_postings)",
    );
    for (const row of empty) problems.push(`entry ${row.id} has no postings`);
    let assets = 0n;
    let liabilities = 0n;
    for (const account of accounts) {
      const sum = computed.get(account.id) ?? 0n;
      if (account.balance !== sum) {
        problems.push(`account ${account.id} stores ${account.balance} but its postings sum to ${sum}`);
      }
      if (account.kind === "asset") assets += sum;
      else liabilities += sum;
    }
    if (assets !== liabilities) problems.push(`assets ${assets} differ from liabilities ${liabilities}`);
    const entries = this.#store.get<{ n: number }>("SELECT COUNT(*) AS n FROM ledger_entries")?.n ?? 0;
    return { balanced: problems.length === 0, assets, liabilities, entries, problems };
  }

  #lines(entryId: number): PostingLine[] {
    return this.#store
      .all<{ account: string; side: Side; amount: string }>(
        "SELECT account, side, amount FROM ledger_postings WHERE entry_id = ? ORDER BY line",
        entryId,
      )
      .map((row) => ({ account: row.account, side: row.side, amount: BigInt(row.amount) }));
  }

  /** `id`'s account, read once per transaction (see `#accounts`); read each time outside one. */
  #accountInTransaction(id: string): Account {
    const epoch = this.#store.transactionEpoch;
    if (epoch === undefined) return this.#requireAccount(id);
    if (epoch !== this.#accountsEpoch) {
      this.#accounts.clear();
      this.#accountsEpoch = epoch;
    }
    let account = this.#accounts.get(id);
    if (account === undefined) {
      account = this.#requireAccount(id);
      this.#accounts.set(id, account);
    }
    return account;
  }

  #requireAccount(id: string): Account {
    const account = this.account(id);
    if (account === undefined) throw this.#unknown(id);
    return account;
  }

  #unknown(id: string): LedgerUnknownAccountError {
    return new LedgerUnknownAccountError("LEDGER_UNKNOWN_ACCOUNT", `there is no account ${id}`, { account: id });
  }
}

interface EntryRow {
  id: number;
  key: string;
  payment: string | null;
  step: string;
  memo: string;
  posted_at: string;
}

function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    kind: row.kind,
    category: row.category,
    name: row.name,
    status: row.status,
    ref: row.ref,
    allowNegative: row.allow_negative === 1,
    balance: BigInt(row.balance),
  };
}

function checkEntry(entry: JournalEntryInput): void {
  if (entry.key.length === 0) {
    throw new LedgerInvalidEntryError("LEDGER_EMPTY_KEY", "a journal entry needs an idempotency key", {});
  }
  if (entry.lines.length < 2) {
    throw new LedgerInvalidEntryError("LEDGER_TOO_FEW_LINES", `entry ${entry.key} needs at least two postings`, {
      key: entry.key,
    });
  }
  let debits = 0n;
  let credits = 0n;
  for (const line of entry.lines) {
    if (line.amount <= 0n || line.amount > MAX_LEDGER_AMOUNT) {
      throw new LedgerInvalidEntryError(
        "LEDGER_INVALID_AMOUNT",
        `posting amounts must be from 1 to ${MAX_LEDGER_AMOUNT}; entry ${entry.key} has ${line.amount}`,
        { key: entry.key, amount: line.amount.toString() },
      );
    }
    if (line.side === "debit") debits += line.amount;
    else credits += line.amount;
  }
  if (debits !== credits) {
    throw new LedgerInvalidEntryError(
      "LEDGER_UNBALANCED_ENTRY",
      `entry ${entry.key} debits ${debits} but credits ${credits}`,
      { key: entry.key, debits: debits.toString(), credits: credits.toString() },
    );
  }
}

function sameLines(a: readonly PostingLine[], b: readonly PostingLine[]): boolean {
  return (
    a.length === b.length &&
    a.every((line, i) => {
      const other = b[i]!;
      return line.account === other.account && line.side === other.side && line.amount === other.amount;
    })
  );
}
