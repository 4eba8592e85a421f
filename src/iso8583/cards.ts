/**
 * The gateway's card file: which card (PAN) belongs to which account profile
 * (wallet), until when, and whether it may be used. Kept in the gateway's
 * SQLite store; the PAN itself is never stored, only a keyed hash of it
 * (HMAC-SHA-256 under the bank's PAN key) and its last four digits.
 *
 * Checks a card message goes through (`CardStore.check`), in order:
 * - the PAN is 12 to 19 digits with a valid Luhn check digit, else `invalid_pan`;
 * - a card with that PAN is on file, else `unknown_card`;
 * - the card is `active`, else `card_not_active`;
 * - its expiry (YYMM, valid to the end of that month, UTC) has not passed, and
 *   DE 14, when sent, equals it, else `expired`;
 * - the wallet the message names is the card's, else `wallet_mismatch`.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

import { getAddress } from "ethers";

import { BankChainError } from "../errors.js";
import type { Store } from "../store/store.js";

export type CardStatus = "active" | "blocked" | "closed";
export const CARD_STATUSES: readonly CardStatus[] = ["active", "blocked", "closed"];

export interface Card {
  /** Hex HMAC-SHA-256 of the PAN under the PAN key. */
  readonly panHash: string;
  readonly last4: string;
  /** YYMM. */
  readonly expiry: string;
  readonly status: CardStatus;
  /** EIP-55 wallet of the account profile. */
  readonly wallet: string;
}

export type CardRefusal = "invalid_pan" | "unknown_card" | "card_not_active" | "expired" | "wallet_mismatch";

/** A card cannot be registered or changed as asked. */
export class CardError extends BankChainError {}

const PAN = /^[0-9]{12,19}$/;
const EXPIRY = /^[0-9]{2}(0[1-9]|1[0-2])$/;

/** Whether `pan` is 12 to 19 digits whose last digit is its Luhn check digit. */
export function isValidPan(pan: string): boolean {
  if (!PAN.test(pan)) return false;
  let sum = 0;
  for (let i = 0; i < pan.length; i += 1) {
    let digit = pan.charCodeAt(pan.length - 1 - i) - 0x30;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** YYMM of `ms` (UTC). */
export function yymm(ms: number): string {
  const date = new Date(ms);
  return `${String(date.getUTCFullYear() % 100).padStart(2, "0")}${String(date.getUTCMonth() + 1).padStart(2, "0")}`;
}

const MIGRATIONS = [
  {
    version: 1,
    name: "cards",
    sql: `CREATE TABLE cards (
      pan_hash TEXT PRIMARY KEY,
      last4 TEXT NOT NULL,
      expiry TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('active', 'blocked', 'closed')),
      wallet TEXT NOT NULL,
      created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
      updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    ) STRICT;
    CREATE INDEX cards_wallet ON cards (wallet);`,
  },
  {
    version: 2,
    name: "PAN key check value",
    sql: `CREATE TABLE card_file_key (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      key_check TEXT NOT NULL
    ) STRICT;`,
  },
] as const;

/** What the key check value is an HMAC of: a file opened with another key is refused, not silently missed. */
const KEY_CHECK_LABEL = "bank-chain/card-file/key-check";

interface Raw {
  pan_hash: string;
  last4: string;
  expiry: string;
  status: CardStatus;
  wallet: string;
}

export class CardStore {
  readonly #store: Store;
  readonly #key: Buffer;

  /**
   * @param panKey the bank's secret for hashing PANs, 32 to 64 bytes; the same
   *               key must be used by everything that reads or writes this file.
   */
  constructor(store: Store, panKey: Uint8Array) {
    if (panKey.length < 32 || panKey.length > 64) {
      throw new CardError("CARD_BAD_PAN_KEY", `the PAN key must be 32 to 64 bytes, not ${panKey.length}`, {
        length: panKey.length,
      });
    }
    this.#store = store;
    this.#key = Buffer.from(panKey);
    store.migrate("iso8583-cards", MIGRATIONS);
    const check = this.hash(KEY_CHECK_LABEL);
    store.run("INSERT OR IGNORE INTO card_file_key (id, key_check) VALUES (1, ?)", check);
    const kept = store.get<{ key_check: string }>("SELECT key_check FROM card_file_key WHERE id = 1")!.key_check;
    if (kept !== check) {
      throw new CardError(
        "CARD_WRONG_PAN_KEY",
        "this card file was written under another PAN key: use the gateway's CARD_GATEWAY_PAN_KEY",
      );
    }
  }

  /** The keyed hash the file knows `pan` by. */
  hash(pan: string): string {
    return createHmac("sha256", this.#key).update(pan, "latin1").digest("hex");
  }

  /**
   * Registers a card for `wallet`, or renews its expiry and wallet when the PAN is on file.
   * @throws CardError `CARD_BAD_PAN`, `CARD_BAD_EXPIRY`, `CARD_BAD_WALLET`
   */
  put(pan: string, expiry: string, wallet: string, status: CardStatus = "active"): Card {
    if (!isValidPan(pan)) throw new CardError("CARD_BAD_PAN", "a PAN is 12 to 19 digits with a valid Luhn check digit");
    if (!EXPIRY.test(expiry)) throw new CardError("CARD_BAD_EXPIRY", `expiry must be YYMM, not ${expiry}`, { expiry });
    if (!CARD_STATUSES.includes(status)) throw new CardError("CARD_BAD_STATUS", `unknown card status ${status}`);
    let checksummed: string;
    try {
      checksummed = getAddress(wallet);
    } catch {
      throw new CardError("CARD_BAD_WALLET", `${wallet} is not an address`, { wallet });
    }
    const card: Card = { panHash: this.hash(pan), last4: pan.slice(-4), expiry, status, wallet: checksummed };
    this.#store.run(
      `INSERT INTO cards (pan_hash, last4, expiry, status, wallet) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (pan_hash) DO UPDATE SET expiry = excluded.expiry, status = excluded.status,
          wallet = excluded.wallet, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
      card.panHash,
      card.last4,
      card.expiry,
      card.status,
      card.wallet,
    );
    return card;
  }

  /** Sets the status of the card with `pan`. @throws CardError `CARD_UNKNOWN` */
  setStatus(pan: string, status: CardStatus): void {
    if (!CARD_STATUSES.includes(status)) throw new CardError("CARD_BAD_STATUS", `unknown card status ${status}`);
    const { changes } = this.#store.run(
      "UPDATE cards SET status = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE pan_hash = ?",
      status,
      this.hash(pan),
    );
    if (changes === 0) throw new CardError("CARD_UNKNOWN", "no card with that PAN is on file");
  }

  get(pan: string): Card | undefined {
    const raw = this.#store.get<Raw>("SELECT * FROM cards WHERE pan_hash = ?", this.hash(pan));
    return raw === undefined ? undefined : fromRaw(raw);
  }

  list(): Card[] {
    return this.#store.all<Raw>("SELECT * FROM cards ORDER BY created_at, pan_hash").map(fromRaw);
  }

  /**
   * The card a message with `pan`, expiry element `de14` (or undefined) and
   * wallet `wallet` may use at time `now`, or why not.
   */
  check(pan: string, de14: string | undefined, wallet: string, now: number): Card | CardRefusal {
    if (!isValidPan(pan)) return "invalid_pan";
    const card = this.get(pan);
    if (card === undefined) return "unknown_card";
    if (card.status !== "active") return "card_not_active";
    if (card.expiry < yymm(now) || (de14 !== undefined && de14 !== card.expiry)) return "expired";
    if (!sameAddress(card.wallet, wallet)) return "wallet_mismatch";
    return card;
  }
}

function sameAddress(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase(), "latin1");
  const y = Buffer.from(b.toLowerCase(), "latin1");
  return x.length === y.length && timingSafeEqual(x, y);
}

function fromRaw(raw: Raw): Card {
  return { panHash: raw.pan_hash, last4: raw.last4, expiry: raw.expiry, status: raw.status, wallet: raw.wallet };
}
