/**
 * Ingest of presence and playback evidence (docs/rewards.md, "Ingest"): a signed record is checked against the
 * registry and the epoch clock, stored in the service's SQLite file with a `Receipt(recordHash, epoch, time)`
 * signed by the receipting oracle, and answered with that receipt. The receipt is the submitter's proof of
 * delivery: a root signed by that oracle must list the record in its evidence, or anyone can void the root with
 * the receipt (`challengeOmission`).
 *
 * What ingest refuses (a 4xx, nothing stored, no receipt): a malformed or forged signature, an unknown venue,
 * device or content, a response to a query nobody asked, a record of another epoch than its time, a time in the
 * future, and anything that arrives after its epoch's cut-off. What it receipts but the oracle does not count
 * (over the venue cap, twice at a venue, late, no certificate) is decided by the counting rules (`oracle.ts`),
 * which name the reason, so every record the oracle received stays in the evidence.
 *
 * The same record sent twice gets the same receipt (the record hash is the key); a crash between signing and
 * storing loses nothing the submitter was told about, since the receipt is returned only after the commit.
 */
import { getAddress, type TypedDataDomain, type Wallet } from "ethers";

import { BankChainError } from "../errors.js";
import type { Migration, Store } from "../store/store.js";
import {
  epochEnd,
  epochOf,
  recordHash,
  recoverRecordSigner,
  REWARD_TYPES,
  type EvidenceKind,
  type Playback,
  type PresenceQuery,
  type PresenceResponse,
  type Receipt,
  type RecordKinds,
  type SignedEvidence,
} from "./evidence.js";
import type { RewardRegistry } from "./registry.js";

/** A record ingest refuses; `code` names the rule, `status` the HTTP status. */
export class IngestError extends BankChainError {
  constructor(
    readonly status: 403 | 404 | 409 | 422,
    code: string,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(code, message, details);
  }
}

/** The epoch clock of the RewardDistributor. */
export interface EpochClock {
  readonly genesis: bigint;
  readonly epochLength: bigint;
}

export interface IngestOptions {
  readonly store: Store;
  readonly registry: RewardRegistry;
  readonly domain: TypedDataDomain;
  readonly clock: EpochClock;
  /** The receipting oracle's key. */
  readonly oracle: Wallet;
  /** Seconds after an epoch's end during which its records are still receipted: the roots' cut-off. */
  readonly graceSeconds: bigint;
  /** Most seconds a record's time may be ahead of the service's clock. */
  readonly skewSeconds: bigint;
  /** Unix seconds now. */
  readonly now: () => bigint;
}

/** A stored record with its receipt. */
export interface StoredRecord {
  readonly hash: string;
  readonly kind: EvidenceKind;
  readonly epoch: bigint;
  readonly record: RecordKinds[EvidenceKind];
  readonly signature: string;
  readonly receipt: Receipt;
  readonly receiptSignature: string;
  readonly oracle: string;
}

/** What ingest answers. */
export interface IngestResult extends StoredRecord {
  /** True when the record had been receipted before (the same receipt is returned). */
  readonly repeated: boolean;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "receipted evidence",
    sql: `
      CREATE TABLE reward_records (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        hash TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        venue_id TEXT NOT NULL,
        nonce TEXT,
        record TEXT NOT NULL,
        signature TEXT NOT NULL,
        receipt_time INTEGER NOT NULL,
        receipt_signature TEXT NOT NULL,
        oracle TEXT NOT NULL
      );
      CREATE INDEX reward_records_epoch ON reward_records (epoch, kind);
      CREATE UNIQUE INDEX reward_queries_nonce ON reward_records (venue_id, epoch, nonce) WHERE kind = 'PresenceQuery';
    `,
  },
];

interface RecordRow {
  hash: string;
  kind: string;
  epoch: number;
  record: string;
  signature: string;
  receipt_time: number;
  receipt_signature: string;
  oracle: string;
}

/** Records as JSON text: bigints as decimal strings. */
export function recordJson(record: object): string {
  return JSON.stringify(record, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
}

const BIGINT_FIELDS = new Set(["cell", "epoch", "time", "start", "duration"]);

function recordFromJson(kind: EvidenceKind, text: string): RecordKinds[EvidenceKind] {
  const raw = JSON.parse(text) as Record<string, unknown>;
  const fields = REWARD_TYPES[kind][kind]!;
  return Object.fromEntries(
    fields.map(({ name }) => [name, BIGINT_FIELDS.has(name) ? BigInt(raw[name] as string) : raw[name]]),
  ) as unknown as RecordKinds[EvidenceKind];
}

function fromRow(row: RecordRow): StoredRecord {
  const kind = row.kind as EvidenceKind;
  return {
    hash: row.hash,
    kind,
    epoch: BigInt(row.epoch),
    record: recordFromJson(kind, row.record),
    signature: row.signature,
    receipt: { recordHash: row.hash, epoch: BigInt(row.epoch), time: BigInt(row.receipt_time) },
    receiptSignature: row.receipt_signature,
    oracle: row.oracle,
  };
}

/** Receipts evidence into the store; see the file comment for the rules. */
export class EvidenceIngest {
  readonly #options: IngestOptions;

  constructor(options: IngestOptions) {
    this.#options = options;
    options.store.migrate("reward-evidence", MIGRATIONS);
  }

  get domain(): TypedDataDomain {
    return this.#options.domain;
  }

  /** The distributor's epoch clock. */
  get clock(): EpochClock {
    return this.#options.clock;
  }

  /** Checks, receipts and stores one signed record. @throws IngestError */
  async ingest(evidence: SignedEvidence): Promise<IngestResult> {
    const { store, domain, oracle } = this.#options;
    const hash = recordHash(domain, evidence.kind, evidence.record);
    const known = this.byHash(hash);
    if (known !== undefined) return { ...known, repeated: true };
    const { epoch, venueId, nonce } = this.#check(evidence);
    const receipt: Receipt = { recordHash: hash, epoch, time: this.#options.now() };
    const receiptSignature = await oracle.signTypedData(domain, REWARD_TYPES.Receipt, { ...receipt });
    const stored = store.transaction(() => {
      const again = this.byHash(hash);
      if (again !== undefined) return { ...again, repeated: true };
      // The cut-off again, at the commit: the oracle's signature was awaited since the check, and a round may have
      // read this epoch in between (its cut-off over). A record stored now would be missing from that round's
      // root while its receipt, dated by the cut-off, voids it.
      this.#checkTimes(epoch, receipt.time);
      if (nonce !== null && this.#queryRow(venueId, epoch, nonce) !== undefined) {
        throw new IngestError(409, "REWARDS_NONCE_REUSED", `venue ${venueId} already asked with nonce ${nonce}`, {
          venueId,
          nonce,
        });
      }
      store.run(
        `INSERT INTO reward_records (hash, kind, epoch, venue_id, nonce, record, signature, receipt_time,
           receipt_signature, oracle) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        hash,
        evidence.kind,
        epoch,
        venueId,
        nonce,
        recordJson(evidence.record),
        evidence.signature,
        receipt.time,
        receiptSignature,
        oracle.address,
      );
      return undefined;
    });
    if (stored !== undefined) return stored;
    return { ...this.byHash(hash)!, repeated: false };
  }

  /** A receipted record by hash. */
  byHash(hash: string): StoredRecord | undefined {
    const row = this.#options.store.get<RecordRow>("SELECT * FROM reward_records WHERE hash = ?", hash.toLowerCase());
    return row === undefined ? undefined : fromRow(row);
  }

  /** Every record receipted for epochs `from..to` (inclusive), in receipt order. */
  records(from: bigint, to: bigint): StoredRecord[] {
    return this.#options.store
      .all<RecordRow>("SELECT * FROM reward_records WHERE epoch >= ? AND epoch <= ? ORDER BY seq", from, to)
      .map(fromRow);
  }

  /** How many records each epoch holds. */
  countOf(epoch: bigint): number {
    return this.#options.store.get<{ n: number }>("SELECT COUNT(*) AS n FROM reward_records WHERE epoch = ?", epoch)!.n;
  }

  /** The cut-off of `epoch`: its end plus the grace. */
  cutoffOf(epoch: bigint): bigint {
    const { clock, graceSeconds } = this.#options;
    return epochEnd(epoch, clock.genesis, clock.epochLength) + graceSeconds;
  }

  #queryRow(venueId: string, epoch: bigint, nonce: string): RecordRow | undefined {
    return this.#options.store.get<RecordRow>(
      "SELECT * FROM reward_records WHERE kind = 'PresenceQuery' AND venue_id = ? AND epoch = ? AND nonce = ?",
      venueId.toLowerCase(),
      epoch,
      nonce.toLowerCase(),
    );
  }

  #epochOfTime(time: bigint): bigint {
    const { clock } = this.#options;
    if (time < clock.genesis) {
      throw new IngestError(422, "REWARDS_OUT_OF_EPOCH", `time ${time} is before the first epoch`, {
        time: time.toString(),
      });
    }
    return epochOf(time, clock.genesis, clock.epochLength);
  }

  #checkFuture(latest: bigint): void {
    const now = this.#options.now();
    if (latest > now + this.#options.skewSeconds) {
      throw new IngestError(422, "REWARDS_TIME_IN_FUTURE", `time ${latest} is ahead of the oracle's clock (${now})`, {
        time: latest.toString(),
        now: now.toString(),
      });
    }
  }

  #checkTimes(epoch: bigint, latest: bigint): void {
    this.#checkFuture(latest);
    const now = this.#options.now();
    const cutoff = this.cutoffOf(epoch);
    if (now > cutoff) {
      throw new IngestError(409, "REWARDS_EPOCH_CLOSED", `epoch ${epoch} closed at ${cutoff}; it is ${now}`, {
        epoch: epoch.toString(),
        cutoff: cutoff.toString(),
      });
    }
  }

  #signer(kind: EvidenceKind, record: RecordKinds[EvidenceKind], signature: string, expected: string): void {
    let signer: string;
    try {
      signer = recoverRecordSigner(this.#options.domain, kind, record, signature);
    } catch (error) {
      throw new IngestError(403, "REWARDS_FORGED", `the ${kind} signature is malformed`, {
        reason: error instanceof Error ? error.message : String(error),
      });
    }
    if (signer !== getAddress(expected)) {
      throw new IngestError(
        403,
        "REWARDS_FORGED",
        `the ${kind} is not signed by ${expected} (it recovers to ${signer})`,
        {
          signer,
          expected,
        },
      );
    }
  }

  #venue(venueId: string) {
    const venue = this.#options.registry.venue(venueId);
    if (venue === undefined) {
      throw new IngestError(404, "REWARDS_UNKNOWN_VENUE", `venue ${venueId} is not registered`, { venueId });
    }
    return venue;
  }

  #check(evidence: SignedEvidence): { epoch: bigint; venueId: string; nonce: string | null } {
    switch (evidence.kind) {
      case "PresenceQuery": {
        const query: PresenceQuery = evidence.record;
        this.#checkFuture(query.time);
        const venue = this.#venue(query.venueId);
        this.#signer("PresenceQuery", query, evidence.signature, venue.player);
        if (query.cell !== venue.cell) {
          throw new IngestError(422, "REWARDS_WRONG_CELL", `venue ${query.venueId} is in another cell`, {
            cell: query.cell.toString(),
          });
        }
        this.#sameEpoch(query.epoch, query.time);
        this.#checkTimes(query.epoch, query.time);
        return { epoch: query.epoch, venueId: query.venueId.toLowerCase(), nonce: query.nonce.toLowerCase() };
      }
      case "PresenceResponse": {
        const response: PresenceResponse = evidence.record;
        this.#checkFuture(response.time);
        const device = this.#options.registry.device(response.device);
        if (device === undefined || BigInt(device.owner) === 0n) {
          throw new IngestError(404, "REWARDS_UNKNOWN_DEVICE", `device ${response.device} is not registered`, {
            device: response.device,
          });
        }
        this.#signer("PresenceResponse", response, evidence.signature, response.device);
        this.#venue(response.venueId);
        this.#sameEpoch(response.epoch, response.time);
        if (this.#queryRow(response.venueId, response.epoch, response.nonce) === undefined) {
          throw new IngestError(
            422,
            "REWARDS_UNKNOWN_QUERY",
            `venue ${response.venueId} asked nothing with nonce ${response.nonce} in epoch ${response.epoch}`,
            { venueId: response.venueId, nonce: response.nonce },
          );
        }
        this.#checkTimes(response.epoch, response.time);
        return { epoch: response.epoch, venueId: response.venueId.toLowerCase(), nonce: null };
      }
      case "Playback": {
        const playback: Playback = evidence.record;
        this.#checkFuture(playback.start + playback.duration);
        const venue = this.#venue(playback.venueId);
        this.#signer("Playback", playback, evidence.signature, venue.player);
        const content = this.#options.registry.content(playback.contentId);
        if (content === undefined || content.producerId !== playback.producerId.toLowerCase()) {
          throw new IngestError(
            404,
            "REWARDS_UNKNOWN_CONTENT",
            `content ${playback.contentId} is not registered to producer ${playback.producerId}`,
            { contentId: playback.contentId, producerId: playback.producerId },
          );
        }
        if (playback.duration <= 0n) {
          throw new IngestError(422, "REWARDS_BAD_PLAYBACK", "a playback lasts at least a second", {});
        }
        const epoch = this.#epochOfTime(playback.start);
        const end = playback.start + playback.duration;
        const { clock } = this.#options;
        if (end > epochEnd(epoch, clock.genesis, clock.epochLength)) {
          throw new IngestError(422, "REWARDS_OUT_OF_EPOCH", `the playback runs past the end of epoch ${epoch}`, {
            epoch: epoch.toString(),
          });
        }
        this.#checkTimes(epoch, end);
        return { epoch, venueId: playback.venueId.toLowerCase(), nonce: null };
      }
    }
  }

  #sameEpoch(epoch: bigint, time: bigint): void {
    const actual = this.#epochOfTime(time);
    if (actual !== epoch) {
      throw new IngestError(422, "REWARDS_OUT_OF_EPOCH", `time ${time} is in epoch ${actual}, not ${epoch}`, {
        epoch: epoch.toString(),
        time: time.toString(),
      });
    }
  }
}
