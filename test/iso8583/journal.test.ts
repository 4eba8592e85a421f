/**
 * The gateway's journal on its own: a journal written by an earlier version
 * (schema 2: no acquirer, reversals ahead keyed by MTI, STAN and DE 7) opens
 * under this one with its rows and markers carried over, and the group commit
 * makes nothing durable until `commit()`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { Journal } from "../../src/iso8583/journal.js";
import { Store } from "../../src/store/store.js";

describe("iso8583: the gateway's journal", function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(path.join(tmpdir(), "card-journal-"));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("opens a schema-2 journal: its messages keep their answers, DE 90 still finds them, markers carry over", function () {
    const file = path.join(dir, "v2.sqlite");
    const old = Store.open({ path: file });
    // The two migrations of the earlier version, as it applied them.
    old.exec(`CREATE TABLE card_messages (
      id TEXT PRIMARY KEY, kind TEXT NOT NULL, mti TEXT NOT NULL, stan TEXT NOT NULL, de7 TEXT NOT NULL, rrn TEXT,
      terminal TEXT, operation TEXT, op_key TEXT UNIQUE, ref_key TEXT, original_id TEXT, wallet TEXT, amount TEXT,
      state TEXT NOT NULL, response_code TEXT, auth_code TEXT, auto_reversed INTEGER NOT NULL DEFAULT 0,
      settle_by INTEGER, attempts INTEGER NOT NULL DEFAULT 1,
      created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
      updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    ) STRICT;
    CREATE INDEX card_messages_original ON card_messages (mti, stan, de7);
    CREATE INDEX card_messages_rrn ON card_messages (rrn, terminal) WHERE kind = 'authorization';
    CREATE INDEX card_messages_open ON card_messages (state) WHERE state IN ('posting', 'unknown');
    CREATE TABLE card_reversed_unseen (mti TEXT NOT NULL, stan TEXT NOT NULL, de7 TEXT NOT NULL,
      reversal_id TEXT NOT NULL, created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
      PRIMARY KEY (mti, stan, de7)) STRICT;
    INSERT INTO schema_migrations (module, version, name) VALUES ('iso8583-gateway', 1, 'card messages'),
      ('iso8583-gateway', 2, 'reversals ahead of their original');
    INSERT INTO card_messages (id, kind, mti, stan, de7, rrn, terminal, operation, op_key, wallet, amount, state,
      response_code, auth_code)
      VALUES ('0200|1128120000|000777|TERM0001|', 'financial', '0200', '000777', '1128120000', 'RRN000777000',
        'TERM0001', 'debit', '0xabc', '0x0000000000000000000000000000000000000001', '500', 'done', '00', 'ABC123');
    INSERT INTO card_reversed_unseen (mti, stan, de7, reversal_id) VALUES ('0200', '000888', '1128120000', 'r1');`);
    old.close();

    const store = Store.open({ path: file });
    try {
      const journal = new Journal(store);
      const row = journal.get("0200|1128120000|000777|TERM0001|");
      expect(row).to.deep.include({
        state: "done",
        responseCode: "00",
        authCode: "ABC123",
        acquirer: "",
        voided: false,
      });
      const ref = { acquirer: "", terminal: "TERM0001", mti: "0200", stan: "000777", de7: "1128120000" };
      expect(journal.findOriginals(ref).map((found) => found.id)).to.deep.equal([row!.id]);
      // The old marker had no time: it is kept, and no longer declines anything (older than a day).
      expect(store.get("SELECT reversal_id FROM card_reversals_ahead WHERE stan = '000888'")).to.deep.equal({
        reversal_id: "r1",
      });
      expect(journal.isReversedAhead({ acquirer: "", terminal: "", mti: "0200", stan: "000888" }, Date.now())).to.equal(
        false,
      );
    } finally {
      store.close();
    }
  });

  it("keeps every write in one transaction until commit(): a second connection sees nothing before", function () {
    const file = path.join(dir, "group.sqlite");
    const store = Store.open({ path: file });
    const reader = Store.open({ path: file });
    try {
      const journal = new Journal(store);
      const ref = { acquirer: "00000123456", terminal: "T1", mti: "0400", stan: "000001", de7: "1128120000" };
      journal.markReversedAhead(ref, "rev-1", 1_000);
      journal.markReversedAhead({ ...ref, stan: "000002" }, "rev-2", 1_000);
      expect(journal.uncommitted).to.equal(true);
      expect(reader.get("SELECT COUNT(*) AS n FROM card_reversals_ahead")).to.deep.equal({ n: 0 });
      journal.commit();
      expect(journal.uncommitted).to.equal(false);
      expect(reader.get("SELECT COUNT(*) AS n FROM card_reversals_ahead")).to.deep.equal({ n: 2 });
      // Within a day of the marker, whatever the DE 7 and the MTI's function digit; not after.
      const later = { acquirer: ref.acquirer, terminal: "T1", mti: "0420", stan: "000001" };
      expect(journal.isReversedAhead(later, 1_000 + 24 * 3_600_000)).to.equal(true);
      expect(journal.isReversedAhead(later, 1_001 + 24 * 3_600_000)).to.equal(false);
      expect(journal.isReversedAhead({ ...later, terminal: "T2" }, 2_000)).to.equal(false);
    } finally {
      reader.close();
      store.close();
    }
  });
});
