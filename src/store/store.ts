import { mkdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";

import { BankChainError, messageOf } from "../errors.js";

/** One schema change of one module, applied once and in order. */
export interface Migration {
  /** Position in the module's history, from 1, without gaps. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export class StoreError extends BankChainError {}

export interface StoreOptions {
  /** A file path, or `":memory:"` for a throw-away database. */
  readonly path: string;
  /** How long a writer waits for a lock held by another connection. */
  readonly busyTimeoutMs?: number;
}

type Row = Record<string, SQLInputValue>;

/**
 * A small wrapper over `node:sqlite`: WAL journal, foreign keys on, per-module
 * migrations recorded in `schema_migrations`, and transactions that nest
 * through savepoints. Synchronous, like `node:sqlite` itself: a transaction
 * callback must not await, so nothing else interleaves with it.
 */
export class Store {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  #depth = 0;
  /** Changes when a transaction begins and when any (save)point rolls back: see `transactionEpoch`. */
  #epoch = 0;
  #afterCommit: Array<() => void> = [];
  #closed = false;

  private constructor(db: DatabaseSync, filePath: string) {
    this.#db = db;
    this.path = filePath;
  }

  /** Opens (creating if needed) the database at `options.path`. */
  static open(options: StoreOptions): Store {
    const filePath = options.path;
    if (filePath !== ":memory:") {
      try {
        mkdirSync(path.dirname(path.resolve(filePath)), { recursive: true });
      } catch (error) {
        throw new StoreError("STORE_OPEN_FAILED", `cannot create the folder of ${filePath}: ${messageOf(error)}`, {
          path: filePath,
        });
      }
    }
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(filePath);
    } catch (error) {
      throw new StoreError("STORE_OPEN_FAILED", `cannot open database ${filePath}: ${messageOf(error)}`, {
        path: filePath,
      });
    }
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    if (filePath !== ":memory:") db.exec("PRAGMA journal_mode = WAL");
    // FULL: a commit that returned is on disk, so a crash loses no record.
    db.exec("PRAGMA synchronous = FULL");
    db.exec("PRAGMA foreign_keys = ON");
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      module TEXT NOT NULL,
      version INTEGER NOT NULL,
      name TEXT NOT NULL,
      applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
      PRIMARY KEY (module, version)
    ) STRICT`);
    return new Store(db, filePath);
  }

  /** The journal mode SQLite reports (`wal` for a file, `memory` in memory). */
  get journalMode(): string {
    const row = this.get<{ journal_mode: string }>("PRAGMA journal_mode");
    return row?.journal_mode ?? "";
  }

  /**
   * Applies `migrations` of `module` that are not yet recorded, each in its
   * own transaction, and returns the versions applied now.
   */
  migrate(module: string, migrations: readonly Migration[]): number[] {
    const ordered = [...migrations].sort((a, b) => a.version - b.version);
    ordered.forEach((migration, index) => {
      if (migration.version !== index + 1) {
        throw new StoreError(
          "STORE_MIGRATION_GAP",
          `migrations of ${module} must be numbered 1, 2, 3…; found version ${migration.version} at position ${index + 1}`,
          { module, version: migration.version },
        );
      }
    });
    const current = this.get<{ v: number | null }>(
      "SELECT MAX(version) AS v FROM schema_migrations WHERE module = ?",
      module,
    );
    const from = current?.v ?? 0;
    if (from > ordered.length) {
      throw new StoreError(
        "STORE_SCHEMA_TOO_NEW",
        `database ${this.path} has ${module} schema version ${from}, newer than this code's ${ordered.length}`,
        { module, version: from },
      );
    }
    const applied: number[] = [];
    for (const migration of ordered.slice(from)) {
      this.transaction(() => {
        try {
          this.#db.exec(migration.sql);
        } catch (error) {
          throw new StoreError(
            "STORE_MIGRATION_FAILED",
            `migration ${module} #${migration.version} (${migration.name}) failed: ${messageOf(error)}`,
            { module, version: migration.version },
            { cause: error },
          );
        }
        this.run(
          "INSERT INTO schema_migrations (module, version, name) VALUES (?, ?, ?)",
          module,
          migration.version,
          migration.name,
        );
      });
      applied.push(migration.version);
    }
    return applied;
  }

  /**
   * Runs `fn` in a transaction (a savepoint when nested) and commits, or rolls
   * back and rethrows if it throws. `fn` must be synchronous.
   */
  transaction<T>(fn: () => T): T {
    this.#assertOpen();
    const savepoint = `sp_${this.#depth}`;
    // The commit callbacks registered before this (save)point: a rollback to it drops the ones after.
    const callbacks = this.#afterCommit.length;
    this.#db.exec(this.#depth === 0 ? "BEGIN IMMEDIATE" : `SAVEPOINT ${savepoint}`);
    if (this.#depth === 0) this.#epoch += 1;
    this.#depth += 1;
    let result: T;
    try {
      result = fn();
      if (result instanceof Promise) {
        throw new StoreError("STORE_ASYNC_TRANSACTION", "a transaction callback must be synchronous");
      }
    } catch (error) {
      this.#depth -= 1;
      this.#rollback(savepoint, callbacks);
      throw error;
    }
    this.#depth -= 1;
    try {
      this.#db.exec(this.#depth === 0 ? "COMMIT" : `RELEASE ${savepoint}`);
    } catch (error) {
      // A refused COMMIT (a deferred foreign key still violated) leaves the transaction open: end it.
      this.#rollback(savepoint, callbacks);
      throw error;
    }
    if (this.#depth === 0) this.#runAfterCommit();
    return result;
  }

  /**
   * Runs `fn` once what was written so far is committed: at once outside a transaction, else when the outermost
   * transaction commits; never if the (save)point it was registered in is rolled back. For memos of facts that
   * hold only once stored (an account known to exist). `fn` should not throw: one that does, does not stop the
   * others, and the first error reaches the caller whose commit ran them, with the data committed.
   */
  afterCommit(fn: () => void): void {
    this.#assertOpen();
    this.#afterCommit.push(fn);
    if (this.#depth === 0) this.#runAfterCommit();
  }

  #runAfterCommit(): void {
    const callbacks = this.#afterCommit;
    this.#afterCommit = [];
    let failure: { error: unknown } | undefined;
    for (const fn of callbacks) {
      try {
        fn();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
  }

  /**
   * Rolls back the transaction (depth 0) or the savepoint the caller opened, and drops the commit callbacks
   * registered since (`callbacks` were there before); `#depth` is already the caller's.
   */
  #rollback(savepoint: string, callbacks: number): void {
    this.#afterCommit.length = callbacks;
    this.#epoch += 1;
    if (this.#depth === 0) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
    } else {
      this.#db.exec(`ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`);
    }
  }

  /** A query that throws when the database cannot be read (closed, file gone, corrupt header): for health checks. */
  check(): void {
    this.get("SELECT count(*) AS n FROM sqlite_master");
  }

  /**
   * Inside a transaction opened by `transaction()`, a number that stays the same until that transaction ends or any
   * (save)point in it rolls back; `undefined` outside one. Rows read inside the transaction can be kept while it is
   * unchanged: the write lock (`BEGIN IMMEDIATE`) keeps other connections from changing them, and a rollback that
   * could undo this connection's own writes changes it. The keeper must still mind its own writes.
   */
  get transactionEpoch(): number | undefined {
    return this.#depth > 0 && this.#db.isTransaction ? this.#epoch : undefined;
  }

  /** Whether a transaction is open on this connection through `transaction()`. */
  get inTransaction(): boolean {
    return this.#depth > 0;
  }

  /** Whether SQLite has a transaction open on this connection, however it was begun. */
  get inSqliteTransaction(): boolean {
    this.#assertOpen();
    return this.#db.isTransaction;
  }

  run(sql: string, ...params: SQLInputValue[]): { changes: number; lastInsertRowid: number | bigint } {
    const result = this.#prepare(sql).run(...params);
    return { changes: Number(result.changes), lastInsertRowid: result.lastInsertRowid };
  }

  get<T extends object = Row>(sql: string, ...params: SQLInputValue[]): T | undefined {
    return this.#prepare(sql).get(...params) as T | undefined;
  }

  all<T extends object = Row>(sql: string, ...params: SQLInputValue[]): T[] {
    return this.#prepare(sql).all(...params) as T[];
  }

  /** Runs SQL with no parameters and no result (DDL, pragmas). */
  exec(sql: string): void {
    this.#assertOpen();
    this.#db.exec(sql);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#statements.clear();
    this.#db.close();
  }

  #prepare(sql: string): StatementSync {
    this.#assertOpen();
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreError("STORE_CLOSED", `database ${this.path} is closed`, { path: this.path });
  }
}
