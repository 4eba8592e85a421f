import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { Store, StoreError, type Migration } from "../../src/store/store.js";

const migrations: Migration[] = [
  { version: 1, name: "accounts", sql: "CREATE TABLE accounts (id TEXT PRIMARY KEY, balance INTEGER NOT NULL) STRICT" },
  {
    version: 2,
    name: "postings",
    sql: "CREATE TABLE postings (id INTEGER PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts(id)) STRICT",
  },
];

describe("store: SQLite wrapper", function () {
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "bank-chain-store-"));
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("opens a file in WAL mode with foreign keys on", function () {
    const store = Store.open({ path: path.join(dir, "nested", "db.sqlite") });
    expect(store.journalMode).to.equal("wal");
    expect(store.get<{ foreign_keys: number }>("PRAGMA foreign_keys")?.foreign_keys).to.equal(1);
    store.close();
  });

  it("applies migrations once, in order, and resumes after a reopen", function () {
    const file = path.join(dir, "db.sqlite");
    let store = Store.open({ path: file });
    expect(store.migrate("ledger", migrations.slice(0, 1))).to.deep.equal([1]);
    store.close();
    store = Store.open({ path: file });
    expect(store.migrate("ledger", migrations)).to.deep.equal([2]);
    expect(store.migrate("ledger", migrations)).to.deep.equal([]);
    expect(store.migrate("other", [{ version: 1, name: "x", sql: "CREATE TABLE x (a INTEGER) STRICT" }])).to.deep.equal(
      [1],
    );
    const rows = store.all<{ module: string; version: number }>(
      "SELECT module, version FROM schema_migrations ORDER BY module, version",
    );
    expect(rows.map((r) => `${r.module}#${r.version}`)).to.deep.equal(["ledger#1", "ledger#2", "other#1"]);
    store.close();
  });

  it("refuses a gap in migration numbers and a schema newer than the code", function () {
    const store = Store.open({ path: ":memory:" });
    expect(() => store.migrate("m", [{ version: 2, name: "late", sql: "SELECT 1" }]))
      .to.throw(StoreError)
      .with.property("code", "STORE_MIGRATION_GAP");
    store.migrate("m", migrations);
    expect(() => store.migrate("m", migrations.slice(0, 1)))
      .to.throw(StoreError)
      .with.property("code", "STORE_SCHEMA_TOO_NEW");
    store.close();
  });

  it("rolls back a failed migration whole", function () {
    const store = Store.open({ path: ":memory:" });
    const broken: Migration[] = [
      { version: 1, name: "broken", sql: "CREATE TABLE a (x INTEGER); CREATE TABLE a (y INTEGER);" },
    ];
    expect(() => store.migrate("m", broken))
      .to.throw(StoreError)
      .with.property("code", "STORE_MIGRATION_FAILED");
    expect(store.get("SELECT name FROM sqlite_master WHERE name = 'a'")).to.equal(undefined);
    expect(store.get("SELECT * FROM schema_migrations WHERE module = 'm'")).to.equal(undefined);
    store.close();
  });

  it("commits a transaction, rolls back one that throws, and nests through savepoints", function () {
    const store = Store.open({ path: ":memory:" });
    store.migrate("ledger", migrations);
    store.transaction(() => store.run("INSERT INTO accounts VALUES ('a', 10)"));
    expect(() =>
      store.transaction(() => {
        store.run("INSERT INTO accounts VALUES ('b', 5)");
        throw new Error("boom");
      }),
    ).to.throw("boom");
    store.transaction(() => {
      store.run("INSERT INTO accounts VALUES ('c', 1)");
      expect(() =>
        store.transaction(() => {
          store.run("INSERT INTO accounts VALUES ('d', 1)");
          throw new Error("inner");
        }),
      ).to.throw("inner");
      expect(store.inTransaction).to.equal(true);
    });
    expect(store.inTransaction).to.equal(false);
    expect(store.all<{ id: string }>("SELECT id FROM accounts ORDER BY id").map((r) => r.id)).to.deep.equal(["a", "c"]);
    store.close();
  });

  it("runs commit callbacks when the outermost transaction commits, and drops those of a rolled-back (save)point", function () {
    const store = Store.open({ path: ":memory:" });
    store.migrate("ledger", migrations);
    const ran: string[] = [];
    store.afterCommit(() => ran.push("outside"));
    expect(ran).to.deep.equal(["outside"]);
    store.transaction(() => {
      store.run("INSERT INTO accounts VALUES ('a', 1)");
      store.afterCommit(() => ran.push("outer"));
      expect(() =>
        store.transaction(() => {
          store.afterCommit(() => ran.push("rolled back"));
          throw new Error("inner");
        }),
      ).to.throw("inner");
      store.transaction(() => store.afterCommit(() => ran.push("released")));
      // Nothing runs before the outermost commit, not at a savepoint's release.
      expect(ran).to.deep.equal(["outside"]);
    });
    expect(ran).to.deep.equal(["outside", "outer", "released"]);
    expect(() =>
      store.transaction(() => {
        store.afterCommit(() => ran.push("never"));
        throw new Error("outer");
      }),
    ).to.throw("outer");
    // A refused commit (a deferred foreign key still violated at COMMIT) drops its callbacks too.
    store.exec("CREATE TABLE child (id TEXT REFERENCES accounts (id) DEFERRABLE INITIALLY DEFERRED)");
    expect(() =>
      store.transaction(() => {
        store.run("INSERT INTO child VALUES ('nobody')");
        store.afterCommit(() => ran.push("refused"));
      }),
    ).to.throw(/FOREIGN KEY/);
    store.transaction(() => undefined);
    expect(ran).to.deep.equal(["outside", "outer", "released"]);
    // A callback that throws does not stop the others; its error reaches the committing caller, data committed.
    const thrown = new Error("callback");
    let caught: unknown;
    try {
      store.transaction(() => {
        store.run("INSERT INTO accounts VALUES ('b', 2)");
        store.afterCommit(() => {
          throw thrown;
        });
        store.afterCommit(() => {
          throw new Error("second");
        });
        store.afterCommit(() => ran.push("after the throw"));
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.equal(thrown);
    expect(ran).to.deep.equal(["outside", "outer", "released", "after the throw"]);
    expect(store.inTransaction).to.equal(false);
    expect(store.all<{ id: string }>("SELECT id FROM accounts ORDER BY id").map((r) => r.id)).to.deep.equal(["a", "b"]);
    store.close();
  });

  it("takes the write lock when a transaction begins, so no other connection writes in between", function () {
    const file = path.join(dir, "lock.sqlite");
    const first = Store.open({ path: file });
    const second = Store.open({ path: file, busyTimeoutMs: 0 });
    try {
      first.migrate("ledger", migrations);
      first.transaction(() => {
        // Nothing written yet by `first`, and still the other connection cannot write.
        expect(() => second.run("INSERT INTO accounts VALUES ('x', 1)")).to.throw(/locked|busy/i);
        first.run("INSERT INTO accounts VALUES ('a', 1)");
      });
      second.run("INSERT INTO accounts VALUES ('x', 1)");
      expect(second.all<{ id: string }>("SELECT id FROM accounts ORDER BY id").map((r) => r.id)).to.deep.equal([
        "a",
        "x",
      ]);
    } finally {
      second.close();
      first.close();
    }
  });

  it("rethrows the transaction function's own error when the function ended the transaction itself", function () {
    const store = Store.open({ path: ":memory:" });
    store.migrate("ledger", migrations);
    expect(() =>
      store.transaction(() => {
        store.run("INSERT INTO accounts VALUES ('a', 1)");
        store.exec("ROLLBACK");
        throw new Error("after its own rollback");
      }),
    ).to.throw("after its own rollback");
    expect(store.inTransaction).to.equal(false);
    expect(store.all("SELECT id FROM accounts")).to.deep.equal([]);
    store.close();
  });

  it("gives a transaction an epoch that holds until it ends or any (save)point in it rolls back", function () {
    const store = Store.open({ path: ":memory:" });
    store.migrate("ledger", migrations);
    expect(store.transactionEpoch).to.equal(undefined);
    const seen: Array<number | undefined> = [];
    store.transaction(() => {
      seen.push(store.transactionEpoch);
      store.transaction(() => seen.push(store.transactionEpoch)); // a released savepoint keeps it
      seen.push(store.transactionEpoch);
      expect(() =>
        store.transaction(() => {
          throw new Error("rolled back");
        }),
      ).to.throw("rolled back");
      seen.push(store.transactionEpoch); // a rolled-back savepoint changes it
    });
    expect(store.transactionEpoch).to.equal(undefined);
    store.transaction(() => seen.push(store.transactionEpoch)); // a new transaction has a new one
    expect(() =>
      store.transaction(() => {
        seen.push(store.transactionEpoch);
        throw new Error("outer rolled back");
      }),
    ).to.throw("outer rolled back");
    store.transaction(() => seen.push(store.transactionEpoch));
    const [first, nested, after, rolledBack, next, failed, last] = seen;
    expect(first).to.be.a("number");
    expect([nested, after]).to.deep.equal([first, first]);
    expect(new Set([first, rolledBack, next, failed, last]).size).to.equal(5);
    // A transaction not opened by transaction() has none: its rollbacks would not change it.
    store.exec("BEGIN");
    expect(store.transactionEpoch).to.equal(undefined);
    store.exec("ROLLBACK");
    // A function that ends the transaction itself leaves no epoch to rely on.
    store.transaction(() => {
      store.exec("COMMIT");
      expect(store.transactionEpoch).to.equal(undefined);
      store.exec("BEGIN");
    });
    store.close();
  });

  it("passes its health check while open and fails it, typed, once closed", function () {
    const store = Store.open({ path: ":memory:" });
    expect(() => store.check()).not.to.throw();
    store.close();
    expect(() => store.check())
      .to.throw(StoreError)
      .with.property("code", "STORE_CLOSED");
  });

  it("refuses an asynchronous transaction callback and rolls it back", function () {
    const store = Store.open({ path: ":memory:" });
    store.migrate("ledger", migrations);
    expect(() =>
      store.transaction(() => {
        store.run("INSERT INTO accounts VALUES ('a', 1)");
        return Promise.resolve();
      }),
    )
      .to.throw(StoreError)
      .with.property("code", "STORE_ASYNC_TRANSACTION");
    expect(store.get("SELECT * FROM accounts")).to.equal(undefined);
    store.close();
  });

  it("keeps committed rows across a reopen and enforces foreign keys", function () {
    const file = path.join(dir, "db.sqlite");
    const store = Store.open({ path: file });
    store.migrate("ledger", migrations);
    store.run("INSERT INTO accounts VALUES ('a', 7)");
    expect(() => store.run("INSERT INTO postings (account) VALUES ('missing')")).to.throw(/FOREIGN KEY/);
    store.close();
    const again = Store.open({ path: file });
    expect(again.get<{ balance: number }>("SELECT balance FROM accounts WHERE id = 'a'")?.balance).to.equal(7);
    again.close();
    expect(() => again.get("SELECT 1"))
      .to.throw(StoreError)
      .with.property("code", "STORE_CLOSED");
  });
});
