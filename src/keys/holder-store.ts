/**
 * What a share holder keeps (docs/keys.md, "Holders"): its identity key, in a file of its own, and its SQLite
 * store of shares and of the audit trail.
 *
 * - The identity is a secp256k1 key created on the holder's first start (`<dataDir>/<name>.identity`, mode 0600,
 *   created exclusively so two starts cannot race to two keys) and read on every later start: the holder's address
 *   on chain (`ShareRegistry` holder sets) and its static key in the channel.
 * - A share is stored sealed with AES-256-GCM under a key derived from the identity (HKDF-SHA256), its additional
 *   data the share's place (wallet id, epoch, index): a copy of the database alone (a backup, a leaked file) does
 *   not give the shares away, and a sealed share moved to another row does not open.
 * - The audit trail records every operation a peer asked for, who asked and what came of it, never a share.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { gcm } from "@noble/ciphers/aes.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { getBytes, hexlify, toUtf8Bytes } from "ethers";

import { BankChainError, messageOf } from "../errors.js";
import type { Store } from "../store/store.js";
import { addressOfPublicKey } from "./channel.js";

/** The holder's identity or store cannot be used. */
export class HolderStoreError extends BankChainError {}

/** A holder's static key pair. */
export interface HolderIdentity {
  readonly privateKey: Uint8Array;
  /** 33-byte compressed public key. */
  readonly publicKey: Uint8Array;
  /** The address of the key: the holder's entry in `ShareRegistry` holder sets. */
  readonly address: string;
}

/** The identity of `privateKey`. */
export function identityOf(privateKey: Uint8Array): HolderIdentity {
  const publicKey = secp256k1.getPublicKey(privateKey, true);
  return { privateKey, publicKey, address: addressOfPublicKey(publicKey) };
}

/**
 * Reads the identity key at `file`, creating it (32 random bytes, a valid scalar, mode 0600) when there is none.
 * A file that exists but does not hold a key is an error, never silently replaced: the holder's address is on chain.
 * So is a symlink at the path (`KEYS_IDENTITY_INVALID`: it is not followed) and a file others may read or write
 * (`KEYS_IDENTITY_EXPOSED`: the key may be known; fix the mode, and if it was exposed, move the wallets away from
 * this holder).
 */
export function loadOrCreateIdentity(file: string): HolderIdentity {
  mkdirSync(path.dirname(file), { recursive: true });
  let text: string | undefined;
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      throw new HolderStoreError("KEYS_IDENTITY_INVALID", `${file} is not a regular file`, { file });
    }
    if ((stat.mode & 0o077) !== 0) {
      throw new HolderStoreError(
        "KEYS_IDENTITY_EXPOSED",
        `${file} may be read or written by others (mode ${(stat.mode & 0o777).toString(8)}); chmod 600 it, and if the key may have been seen, rotate the wallets to a new holder key`,
        { file, mode: (stat.mode & 0o777).toString(8) },
      );
    }
    text = readFileSync(fd, "utf8");
  } catch (error) {
    if (error instanceof HolderStoreError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ELOOP") {
      throw new HolderStoreError("KEYS_IDENTITY_INVALID", `${file} is a symlink; the identity is not followed`, {
        file,
      });
    }
    if (code !== "ENOENT") {
      throw new HolderStoreError("KEYS_IDENTITY_UNREADABLE", `cannot read ${file}: ${messageOf(error)}`, { file });
    }
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (text === undefined) {
    const key = secp256k1.utils.randomSecretKey();
    try {
      writeFileSync(file, `${hexlify(key)}\n`, { flag: "wx", mode: 0o600 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Another start made it first: use that one. (A dangling symlink is EEXIST too: the retry refuses it.)
      if (code === "EEXIST") return loadOrCreateIdentity(file);
      throw new HolderStoreError("KEYS_IDENTITY_UNWRITABLE", `cannot create ${file}: ${messageOf(error)}`, { file });
    }
    chmodSync(file, 0o600);
    return identityOf(key);
  }
  const hex = text.trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex) || !secp256k1.utils.isValidSecretKey(getBytes(hex))) {
    throw new HolderStoreError("KEYS_IDENTITY_INVALID", `${file} does not hold a secp256k1 private key`, { file });
  }
  return identityOf(getBytes(hex));
}

/** One stored share, as the holder reports it (never the share itself). */
export interface StoredShareInfo {
  readonly walletId: string;
  readonly epoch: number;
  readonly index: number;
  readonly commitment: string;
  /** Unix seconds. */
  readonly storedAt: number;
}

/** An audit line. */
export interface AuditEntry {
  readonly at: number;
  readonly op: string;
  readonly walletId: string;
  readonly epoch: number;
  readonly index: number;
  readonly peer: string;
  readonly outcome: string;
}

const MIGRATIONS = [
  {
    version: 1,
    name: "shares and audit",
    sql: `
      CREATE TABLE key_shares (
        wallet_id TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        commitment TEXT NOT NULL,
        nonce BLOB NOT NULL,
        sealed BLOB NOT NULL,
        stored_at INTEGER NOT NULL,
        PRIMARY KEY (wallet_id, epoch, idx)
      ) STRICT;
      CREATE TABLE key_audit (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        op TEXT NOT NULL,
        wallet_id TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        peer TEXT NOT NULL,
        outcome TEXT NOT NULL
      ) STRICT;
    `,
  },
];

const AT_REST_INFO = toUtf8Bytes("bank-chain/keys/holder/at-rest/v1");

/** The holder's shares (sealed at rest) and audit trail in one SQLite store. */
export class HolderStore {
  readonly #store: Store;
  readonly #key: Uint8Array;
  readonly #now: () => number;

  constructor(store: Store, identity: HolderIdentity, now: () => number = () => Math.floor(Date.now() / 1000)) {
    store.migrate("keys-holder", MIGRATIONS);
    this.#store = store;
    this.#key = hkdf(sha256, identity.privateKey, new Uint8Array(0), AT_REST_INFO, 32);
    this.#now = now;
  }

  /**
   * Stores the encoded share for (wallet, epoch, index) and deletes the wallet's shares of older epochs, in one
   * transaction. The same share again changes nothing (`false`); another share for a place already filled is refused
   * (`KEYS_SLOT_TAKEN`): the on-chain commitment admits one share per place, so this only guards the store.
   */
  put(walletId: string, epoch: number, index: number, commitment: string, encoded: string): boolean {
    return this.#store.transaction(() => {
      const existing = this.#store.get<{ commitment: string }>(
        "SELECT commitment FROM key_shares WHERE wallet_id = ? AND epoch = ? AND idx = ?",
        walletId,
        epoch,
        index,
      );
      if (existing !== undefined) {
        if (existing.commitment === commitment) return false;
        throw new HolderStoreError(
          "KEYS_SLOT_TAKEN",
          `share ${index} of wallet ${walletId} at epoch ${epoch} is already stored with another commitment`,
          { walletId, epoch, index },
        );
      }
      const nonce = randomBytes(12);
      const sealed = gcm(this.#key, nonce, placeOf(walletId, epoch, index)).encrypt(toUtf8Bytes(encoded));
      this.#store.run(
        "INSERT INTO key_shares (wallet_id, epoch, idx, commitment, nonce, sealed, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        walletId,
        epoch,
        index,
        commitment,
        nonce,
        sealed,
        this.#now(),
      );
      this.#store.run("DELETE FROM key_shares WHERE wallet_id = ? AND epoch < ?", walletId, epoch);
      return true;
    });
  }

  /** The encoded share stored for (wallet, epoch, index), opened; `undefined` when there is none. */
  get(walletId: string, epoch: number, index: number): string | undefined {
    const row = this.#store.get<{ nonce: Uint8Array; sealed: Uint8Array }>(
      "SELECT nonce, sealed FROM key_shares WHERE wallet_id = ? AND epoch = ? AND idx = ?",
      walletId,
      epoch,
      index,
    );
    if (row === undefined) return undefined;
    try {
      const plain = gcm(this.#key, row.nonce, placeOf(walletId, epoch, index)).decrypt(row.sealed);
      return new TextDecoder().decode(plain);
    } catch {
      throw new HolderStoreError(
        "KEYS_STORE_CORRUPT",
        `the stored share ${index} of wallet ${walletId} at epoch ${epoch} does not open under this holder's key`,
        { walletId, epoch, index },
      );
    }
  }

  /** What is stored for the wallet (newest epoch first), without the shares. */
  info(walletId: string): StoredShareInfo[] {
    return this.#store
      .all<{ wallet_id: string; epoch: number; idx: number; commitment: string; stored_at: number }>(
        "SELECT wallet_id, epoch, idx, commitment, stored_at FROM key_shares WHERE wallet_id = ? ORDER BY epoch DESC, idx",
        walletId,
      )
      .map((row) => ({
        walletId: row.wallet_id,
        epoch: row.epoch,
        index: row.idx,
        commitment: row.commitment,
        storedAt: row.stored_at,
      }));
  }

  /**
   * Up to `limit` stored shares' metadata newest first (stored time, then wallet id, epoch and index, descending),
   * after the one with sort key `after`; never the shares.
   */
  page(query: {
    readonly after?:
      | { readonly storedAt: number; readonly walletId: string; readonly epoch: number; readonly index: number }
      | undefined;
    readonly limit: number;
  }): StoredShareInfo[] {
    const after = query.after;
    return this.#store
      .all<{ wallet_id: string; epoch: number; idx: number; commitment: string; stored_at: number }>(
        `SELECT wallet_id, epoch, idx, commitment, stored_at FROM key_shares
         WHERE (? IS NULL OR (stored_at, wallet_id, epoch, idx) < (?, ?, ?, ?))
         ORDER BY stored_at DESC, wallet_id DESC, epoch DESC, idx DESC LIMIT ?`,
        after === undefined ? null : 1,
        after?.storedAt ?? null,
        after?.walletId.toLowerCase() ?? null,
        after?.epoch ?? null,
        after?.index ?? null,
        query.limit,
      )
      .map((row) => ({
        walletId: row.wallet_id,
        epoch: row.epoch,
        index: row.idx,
        commitment: row.commitment,
        storedAt: row.stored_at,
      }));
  }

  /** The wallets this holder stores a share of (lower-case ids). */
  wallets(): string[] {
    return this.#store
      .all<{ wallet_id: string }>("SELECT DISTINCT wallet_id FROM key_shares ORDER BY wallet_id")
      .map((row) => row.wallet_id);
  }

  /** Deletes the wallet's shares of epochs before `epoch` (all of them with `Infinity`); returns how many. */
  purge(walletId: string, beforeEpoch: number): number {
    const limit = Number.isFinite(beforeEpoch) ? beforeEpoch : Number.MAX_SAFE_INTEGER;
    return this.#store.run("DELETE FROM key_shares WHERE wallet_id = ? AND epoch < ?", walletId, limit).changes;
  }

  /** Records what a peer asked and what came of it. */
  audit(entry: Omit<AuditEntry, "at">): void {
    this.#store.run(
      "INSERT INTO key_audit (at, op, wallet_id, epoch, idx, peer, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)",
      this.#now(),
      entry.op,
      entry.walletId,
      entry.epoch,
      entry.index,
      entry.peer,
      entry.outcome,
    );
  }

  /** The audit trail of a wallet, oldest first. */
  auditOf(walletId: string): AuditEntry[] {
    return this.#store
      .all<{
        at: number;
        op: string;
        wallet_id: string;
        epoch: number;
        idx: number;
        peer: string;
        outcome: string;
      }>("SELECT at, op, wallet_id, epoch, idx, peer, outcome FROM key_audit WHERE wallet_id = ? ORDER BY id", walletId)
      .map((row) => ({
        at: row.at,
        op: row.op,
        walletId: row.wallet_id,
        epoch: row.epoch,
        index: row.idx,
        peer: row.peer,
        outcome: row.outcome,
      }));
  }

  check(): void {
    this.#store.check();
  }
}

/** The additional data that ties a sealed share to its row. */
function placeOf(walletId: string, epoch: number, index: number): Uint8Array {
  return toUtf8Bytes(`${walletId.toLowerCase()}/${epoch}/${index}`);
}
