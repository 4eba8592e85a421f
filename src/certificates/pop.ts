/**
 * Proof of possession for the certificate service: a requester shows it holds
 * the private key of the public key it asks a certificate for, by signing a
 * single-use challenge under the issuer's EIP-712 domain.
 *
 * - `ChallengeStore.issue()` makes a nonce (32 random bytes), kept in SQLite
 *   with its expiry; `consume()` marks it used inside the caller's
 *   transaction, so a nonce is spent together with the record it admits, or
 *   not at all.
 * - The domain is `{ name: "BankChain Certificates", version: "1", chainId,
 *   verifyingContract: CertificateResolver }`: a signature for another chain or
 *   another issuer's resolver recovers to another key and is refused.
 * - The signature is checked with ECDSA alone (secp256k1 recovery, low `s`
 *   only): never ERC-1271 or any other on-chain "the code says yes", so an
 *   account's code (EIP-7702 delegation included) cannot stand in for its key.
 *
 * Typed structs (EIP-712):
 *
 *   CertificateRequest(bytes32 nonce,address subject,bytes32 publicKeyHash)
 *   CertificateRevocation(bytes32 uid,bytes32 nonce)
 *
 * `publicKeyHash` is `keccak256` of the key's 64 bytes X ‖ Y (uncompressed,
 * without the 0x04 prefix): the hash whose last 20 bytes are the key's address.
 */
import { randomBytes } from "node:crypto";

import {
  computeAddress,
  getAddress,
  getBytes,
  hexlify,
  keccak256,
  SigningKey,
  TypedDataEncoder,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";

import type { Clock } from "../chain/clock.js";
import { BankChainError } from "../errors.js";
import type { Migration, Store } from "../store/store.js";

/** A proof of possession was refused; `status` is the HTTP status the service answers with. */
export class ProofError extends BankChainError {
  readonly status: number;
  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
    this.status = status;
  }
}

export const POP_DOMAIN_NAME = "BankChain Certificates";
export const POP_DOMAIN_VERSION = "1";

/** The EIP-712 types a requester signs. */
export const REQUEST_TYPES: Readonly<Record<string, TypedDataField[]>> = Object.freeze({
  CertificateRequest: [
    { name: "nonce", type: "bytes32" },
    { name: "subject", type: "address" },
    { name: "publicKeyHash", type: "bytes32" },
  ],
});

export const REVOCATION_TYPES: Readonly<Record<string, TypedDataField[]>> = Object.freeze({
  CertificateRevocation: [
    { name: "uid", type: "bytes32" },
    { name: "nonce", type: "bytes32" },
  ],
});

/** secp256k1's group order and half of it: a signature's `s` must not exceed the half (EIP-2). */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = SECP256K1_N >> 1n;

/** The issuer's EIP-712 domain. */
export function certificateDomain(chainId: bigint, resolver: string): TypedDataDomain {
  return {
    name: POP_DOMAIN_NAME,
    version: POP_DOMAIN_VERSION,
    chainId,
    verifyingContract: getAddress(resolver),
  };
}

/** A secp256k1 public key, checked and in both forms. */
export interface PublicKey {
  /** 0x04 ‖ X ‖ Y. */
  readonly uncompressed: string;
  /** 0x02/0x03 ‖ X. */
  readonly compressed: string;
  /** The key's EOA address. */
  readonly address: string;
  /** keccak256(X ‖ Y). */
  readonly hash: string;
}

/**
 * Parses a 0x-hex secp256k1 public key, compressed (33 bytes) or uncompressed
 * (65 bytes); a point off the curve is refused.
 * @throws ProofError `CERT_BAD_PUBLIC_KEY` (400).
 */
export function parsePublicKey(value: string): PublicKey {
  const bad = (why: string) =>
    new ProofError(400, "CERT_BAD_PUBLIC_KEY", `publicKey ${why}`, { field: "publicKey", value });
  if (!/^0x([0-9a-fA-F]{66}|[0-9a-fA-F]{130})$/.test(value)) {
    throw bad("must be 0x and a 33-byte compressed or 65-byte uncompressed secp256k1 key");
  }
  const first = value.slice(2, 4);
  if (value.length === 68 ? first !== "02" && first !== "03" : first !== "04") {
    throw bad("has the wrong prefix byte (02/03 compressed, 04 uncompressed)");
  }
  let uncompressed: string;
  try {
    uncompressed = SigningKey.computePublicKey(value.toLowerCase(), false);
  } catch {
    throw bad("is not a point on secp256k1");
  }
  return {
    uncompressed,
    compressed: SigningKey.computePublicKey(uncompressed, true),
    address: computeAddress(uncompressed),
    hash: keccak256("0x" + uncompressed.slice(4)),
  };
}

/**
 * The public key that made `signature` over `digest`, by ECDSA recovery.
 * The signature is 65 bytes r ‖ s ‖ v with v 27 or 28 and a low `s`.
 * @throws ProofError `CERT_BAD_SIGNATURE` (400) or `CERT_HIGH_S_SIGNATURE` (400).
 */
export function recoverPublicKey(digest: string, signature: string): string {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) {
    throw new ProofError(400, "CERT_BAD_SIGNATURE", "signature must be 0x and 65 bytes (r ‖ s ‖ v)", {
      field: "signature",
    });
  }
  const bytes = getBytes(signature);
  const s = BigInt(hexlify(bytes.slice(32, 64)));
  const v = bytes[64]!;
  if (v !== 27 && v !== 28) {
    throw new ProofError(400, "CERT_BAD_SIGNATURE", `signature's v must be 27 or 28, got ${v}`, {
      field: "signature",
    });
  }
  if (s > HALF_N) {
    // The mirror (r, n - s) of a valid signature verifies too; only the low-s form is accepted (EIP-2).
    throw new ProofError(400, "CERT_HIGH_S_SIGNATURE", "signature has a high s (malleable form); use the low-s form", {
      field: "signature",
    });
  }
  try {
    return SigningKey.recoverPublicKey(digest, signature);
  } catch {
    throw new ProofError(400, "CERT_BAD_SIGNATURE", "signature does not recover to any key", { field: "signature" });
  }
}

/**
 * Checks that `signature` over the typed `value` under `domain` was made by
 * `key` (ECDSA only).
 * @throws ProofError `CERT_WRONG_SIGNER` (403) when another key (or another domain, or other values) made it.
 */
export function checkSignedBy(
  key: PublicKey,
  domain: TypedDataDomain,
  types: Readonly<Record<string, TypedDataField[]>>,
  value: Record<string, unknown>,
  signature: string,
): void {
  const digest = TypedDataEncoder.hash(domain, types, value);
  const recovered = recoverPublicKey(digest, signature);
  if (recovered.toLowerCase() !== key.uncompressed.toLowerCase()) {
    throw new ProofError(
      403,
      "CERT_WRONG_SIGNER",
      `the signature is not by ${key.address} over this issuer's domain (chain ${String(domain.chainId)}, resolver ${String(domain.verifyingContract)}) and these values`,
      { field: "signature", expected: key.address, recovered: computeAddress(recovered) },
    );
  }
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "challenges",
    sql: `CREATE TABLE certificate_challenges (
      nonce TEXT PRIMARY KEY,
      created_ms INTEGER NOT NULL,
      expires_ms INTEGER NOT NULL,
      used_ms INTEGER
    ) STRICT;
    CREATE INDEX certificate_challenges_expiry ON certificate_challenges (expires_ms);`,
  },
];

export interface Challenge {
  readonly nonce: string;
  /** Unix milliseconds after which the nonce is refused. */
  readonly expiresMs: number;
}

export interface ChallengeStoreOptions {
  readonly store: Store;
  readonly clock: Clock;
  /** How long a nonce may be used. */
  readonly ttlMs: number;
  /** Most unused, unexpired nonces at a time; more is a 429 (a flood of GET /challenge cannot grow the file). */
  readonly maxOpen: number;
}

/** Single-use nonces in SQLite. */
export class ChallengeStore {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxOpen: number;

  constructor(options: ChallengeStoreOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs;
    this.#maxOpen = options.maxOpen;
    this.#store.migrate("certificate-challenges", MIGRATIONS);
  }

  /**
   * A fresh nonce. Expired nonces are deleted first (a used one is kept until
   * it expires, so a replay is told "used" rather than "unknown").
   * @throws ProofError `CERT_TOO_MANY_CHALLENGES` (429).
   */
  issue(): Challenge {
    const now = this.#clock.now();
    return this.#store.transaction(() => {
      this.#store.run("DELETE FROM certificate_challenges WHERE expires_ms <= ?", now);
      const open = this.#store.get<{ n: number }>(
        "SELECT count(*) AS n FROM certificate_challenges WHERE used_ms IS NULL",
      )!.n;
      if (open >= this.#maxOpen) {
        throw new ProofError(429, "CERT_TOO_MANY_CHALLENGES", "too many open challenges; try again later", {
          open,
        });
      }
      const nonce = hexlify(randomBytes(32));
      const expiresMs = now + this.#ttlMs;
      this.#store.run(
        "INSERT INTO certificate_challenges (nonce, created_ms, expires_ms) VALUES (?, ?, ?)",
        nonce,
        now,
        expiresMs,
      );
      return { nonce, expiresMs };
    });
  }

  /**
   * Marks `nonce` used. Call it inside the transaction that stores what the
   * nonce admits, so both happen or neither.
   * @throws ProofError `CERT_UNKNOWN_CHALLENGE` (400), `CERT_CHALLENGE_EXPIRED` (410), `CERT_CHALLENGE_USED` (409).
   */
  consume(nonce: string): void {
    const key = nonce.toLowerCase();
    const now = this.#clock.now();
    const row = this.#store.get<{ expires_ms: number; used_ms: number | null }>(
      "SELECT expires_ms, used_ms FROM certificate_challenges WHERE nonce = ?",
      key,
    );
    if (row === undefined) {
      throw new ProofError(
        400,
        "CERT_UNKNOWN_CHALLENGE",
        "nonce was not issued by this service (or expired long ago); get one from GET /challenge",
        { field: "nonce" },
      );
    }
    if (row.used_ms !== null) {
      throw new ProofError(409, "CERT_CHALLENGE_USED", "nonce was already used; get a new one from GET /challenge", {
        field: "nonce",
      });
    }
    if (row.expires_ms <= now) {
      throw new ProofError(410, "CERT_CHALLENGE_EXPIRED", "nonce has expired; get a new one from GET /challenge", {
        field: "nonce",
        expiredAt: new Date(row.expires_ms).toISOString(),
      });
    }
    this.#store.run("UPDATE certificate_challenges SET used_ms = ? WHERE nonce = ?", now, key);
  }
}
