import { randomBytes } from "node:crypto";

import { secp256k1 } from "@noble/curves/secp256k1.js";
import { getAddress, isAddress } from "ethers";

import { BankChainError } from "../errors.js";

/**
 * One-time offline session offers: what a merchant hands a buyer out of band
 * (the string a QR code carries) so the buyer can reach it and authenticate it.
 *
 * Text form: `bcoffer1:` followed by the base64url (no padding) of a binary
 * payload, version 1:
 *
 * | bytes | field                                                     |
 * |-------|-----------------------------------------------------------|
 * | 1     | version, `1`                                              |
 * | 1     | flags: bit 0 = wallet present; other bits must be 0      |
 * | 16    | session id                                                |
 * | 33    | merchant session public key, compressed secp256k1 (SEC1)  |
 * | 8     | expiry, milliseconds since the Unix epoch, big-endian     |
 * | 2     | TCP port, big-endian, 1..65535                            |
 * | 1     | host length n, 1..253                                     |
 * | n     | host, ASCII (hostname, IPv4 or IPv6 without brackets)     |
 * | 20    | merchant wallet address, only when flag bit 0 is set      |
 *
 * The encoding is canonical: `decodeOffer` accepts exactly what `encodeOffer`
 * produces (surrounding whitespace aside).
 */

/** The text prefix of an offer. */
export const OFFER_PREFIX = "bcoffer1:";
/** The payload version this module writes and reads. */
export const OFFER_VERSION = 1;

const SESSION_ID_BYTES = 16;
const PUBLIC_KEY_BYTES = 33;
const WALLET_BYTES = 20;
const FIXED_BYTES = 1 + 1 + SESSION_ID_BYTES + PUBLIC_KEY_BYTES + 8 + 2 + 1;
const FLAG_WALLET = 0x01;
const HOST_PATTERN = /^[0-9A-Za-z.:%-]{1,253}$/;
const HEX_PATTERN = /^0x[0-9a-f]*$/;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]*$/;

/** Why an offer was refused. */
export type BadOfferReason = "malformed" | "expired" | "unsupported-version";

/** An offer that cannot be encoded, decoded or used; `details.reason` says why, `details.field` what. */
export class OfflineSessionError extends BankChainError {
  declare readonly code: "OFFLINE_BAD_OFFER";

  constructor(reason: BadOfferReason, message: string, details: Record<string, unknown> = {}) {
    super("OFFLINE_BAD_OFFER", message, { reason, ...details });
  }

  /** Why the offer was refused. */
  get reason(): BadOfferReason {
    return this.details["reason"] as BadOfferReason;
  }
}

/** A decoded, validated session offer. Public data only: the session private key never leaves the merchant. */
export interface SessionOffer {
  readonly version: 1;
  /** Where the merchant listens. */
  readonly host: string;
  /** The merchant's real TCP port (never 0). */
  readonly port: number;
  /** 16 random bytes, `0x` + 32 lowercase hex digits. */
  readonly sessionId: string;
  /** The merchant's session public key, compressed, `0x` + 66 lowercase hex digits. */
  readonly merchantPublicKey: string;
  /** Milliseconds since the Unix epoch after which no handshake is accepted. */
  readonly expiresAt: number;
  /** The merchant's wallet address, EIP-55 checksummed, if it chose to include it. */
  readonly wallet?: string;
}

/** A fresh offer with the session private key that goes with it (keep the key in memory only). */
export interface CreatedOffer {
  readonly offer: SessionOffer;
  readonly secretKey: Uint8Array;
}

/**
 * Makes a one-time session: a fresh secp256k1 key pair and a random 16-byte
 * session id, valid for `ttlMs` from `now` (default `Date.now()`).
 */
export function createOffer(params: {
  host: string;
  port: number;
  ttlMs: number;
  wallet?: string | undefined;
  now?: number | undefined;
}): CreatedOffer {
  if (!Number.isSafeInteger(params.ttlMs) || params.ttlMs <= 0) {
    throw new OfflineSessionError("malformed", `ttlMs must be a positive integer, got ${params.ttlMs}`, {
      field: "ttlMs",
      value: params.ttlMs,
    });
  }
  if (params.wallet !== undefined && !isAddress(params.wallet)) {
    throw malformed("wallet", "wallet must be a 20-byte hex address", params.wallet);
  }
  const { secretKey, publicKey } = secp256k1.keygen();
  const offer: SessionOffer = {
    version: OFFER_VERSION,
    host: params.host,
    port: params.port,
    sessionId: toHex(randomBytes(SESSION_ID_BYTES)),
    merchantPublicKey: toHex(publicKey),
    expiresAt: (params.now ?? Date.now()) + params.ttlMs,
    ...(params.wallet === undefined ? {} : { wallet: getAddress(params.wallet) }),
  };
  encodeOffer(offer); // validates every other field
  return { offer, secretKey };
}

/** The canonical text form of `offer`; throws `OfflineSessionError` (reason `malformed`) naming a bad field. */
export function encodeOffer(offer: SessionOffer): string {
  return OFFER_PREFIX + Buffer.from(offerToBytes(offer)).toString("base64url");
}

/**
 * Parses and validates an offer text. Throws `OfflineSessionError` with reason
 * `malformed` (bad prefix, base64url, length, field), `unsupported-version`, or
 * `expired` (`expiresAt <= now`, `now` defaulting to `Date.now()`).
 */
export function decodeOffer(text: string, options: { now?: number } = {}): SessionOffer {
  if (typeof text !== "string") throw malformed("text", "the offer must be a string");
  const trimmed = text.trim();
  const prefix = /^bcoffer(\d+):/.exec(trimmed);
  if (prefix === null) throw malformed("prefix", `an offer starts with "${OFFER_PREFIX}"`);
  if (prefix[0] !== OFFER_PREFIX) {
    throw new OfflineSessionError("unsupported-version", `unsupported offer format "${prefix[0]}"`, {
      field: "prefix",
      value: prefix[0],
    });
  }
  const body = trimmed.slice(OFFER_PREFIX.length);
  if (!BASE64URL_PATTERN.test(body)) throw malformed("payload", "the payload is not base64url");
  const bytes = Buffer.from(body, "base64url");
  if (bytes.toString("base64url") !== body) throw malformed("payload", "the payload is not canonical base64url");
  const offer = bytesToOffer(bytes);
  const now = options.now ?? Date.now();
  if (offer.expiresAt <= now) {
    throw new OfflineSessionError("expired", `the offer expired at ${new Date(offer.expiresAt).toISOString()}`, {
      field: "expiresAt",
      value: offer.expiresAt,
      now,
    });
  }
  return offer;
}

/** Validates `offer` and lays it out as the version 1 binary payload. */
function offerToBytes(offer: SessionOffer): Uint8Array {
  if (offer.version !== OFFER_VERSION) {
    throw new OfflineSessionError("unsupported-version", `unsupported offer version ${String(offer.version)}`, {
      field: "version",
      value: offer.version,
    });
  }
  if (typeof offer.host !== "string" || !HOST_PATTERN.test(offer.host)) {
    throw malformed("host", "host must be 1..253 characters of a hostname or IP address", offer.host);
  }
  if (!Number.isInteger(offer.port) || offer.port < 1 || offer.port > 65_535) {
    throw malformed("port", "port must be an integer in 1..65535", offer.port);
  }
  const sessionId = fromHex(offer.sessionId, SESSION_ID_BYTES, "sessionId");
  const publicKey = fromHex(offer.merchantPublicKey, PUBLIC_KEY_BYTES, "merchantPublicKey");
  if (!isValidCompressedKey(publicKey)) {
    throw malformed("merchantPublicKey", "not a compressed secp256k1 public key", offer.merchantPublicKey);
  }
  if (!Number.isSafeInteger(offer.expiresAt) || offer.expiresAt < 0) {
    throw malformed("expiresAt", "expiresAt must be a non-negative safe integer (ms)", offer.expiresAt);
  }
  let wallet: Uint8Array | undefined;
  if (offer.wallet !== undefined) {
    if (typeof offer.wallet !== "string" || !isAddress(offer.wallet)) {
      throw malformed("wallet", "wallet must be a 20-byte hex address", offer.wallet);
    }
    wallet = Buffer.from(offer.wallet.slice(2), "hex");
  }
  const host = Buffer.from(offer.host, "ascii");
  const out = Buffer.alloc(FIXED_BYTES + host.length + (wallet?.length ?? 0));
  let at = 0;
  out.writeUInt8(OFFER_VERSION, at++);
  out.writeUInt8(wallet === undefined ? 0 : FLAG_WALLET, at++);
  out.set(sessionId, at);
  at += SESSION_ID_BYTES;
  out.set(publicKey, at);
  at += PUBLIC_KEY_BYTES;
  out.writeBigUInt64BE(BigInt(offer.expiresAt), at);
  at += 8;
  out.writeUInt16BE(offer.port, at);
  at += 2;
  out.writeUInt8(host.length, at++);
  out.set(host, at);
  at += host.length;
  if (wallet !== undefined) out.set(wallet, at);
  return out;
}

/** Parses and validates a version 1 binary payload. */
function bytesToOffer(bytes: Buffer): SessionOffer {
  if (bytes.length < 1) throw malformed("payload", "the payload is empty");
  const version = bytes.readUInt8(0);
  if (version !== OFFER_VERSION) {
    throw new OfflineSessionError("unsupported-version", `unsupported offer version ${version}`, {
      field: "version",
      value: version,
    });
  }
  if (bytes.length < FIXED_BYTES) throw malformed("payload", `the payload is too short (${bytes.length} bytes)`);
  const flags = bytes.readUInt8(1);
  if ((flags & ~FLAG_WALLET) !== 0) throw malformed("flags", "unknown flag bits", flags);
  let at = 2;
  const sessionId = bytes.subarray(at, (at += SESSION_ID_BYTES));
  const publicKey = bytes.subarray(at, (at += PUBLIC_KEY_BYTES));
  if (!isValidCompressedKey(publicKey)) {
    throw malformed("merchantPublicKey", "not a compressed secp256k1 public key", toHex(publicKey));
  }
  const expiresAt = bytes.readBigUInt64BE(at);
  at += 8;
  if (expiresAt > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed("expiresAt", "expiry out of range", expiresAt);
  const port = bytes.readUInt16BE(at);
  at += 2;
  if (port === 0) throw malformed("port", "port must be in 1..65535", port);
  const hostLength = bytes.readUInt8(at++);
  const walletLength = (flags & FLAG_WALLET) !== 0 ? WALLET_BYTES : 0;
  if (bytes.length !== FIXED_BYTES + hostLength + walletLength) {
    throw malformed("payload", `the payload length ${bytes.length} does not match its fields`);
  }
  const host = bytes.subarray(at, (at += hostLength)).toString("latin1");
  if (!HOST_PATTERN.test(host)) throw malformed("host", "host must be a hostname or IP address", host);
  const wallet = walletLength === 0 ? undefined : getAddress(toHex(bytes.subarray(at, at + walletLength)));
  return {
    version: OFFER_VERSION,
    host,
    port,
    sessionId: toHex(sessionId),
    merchantPublicKey: toHex(publicKey),
    expiresAt: Number(expiresAt),
    ...(wallet === undefined ? {} : { wallet }),
  };
}

function isValidCompressedKey(key: Uint8Array): boolean {
  return key.length === PUBLIC_KEY_BYTES && secp256k1.utils.isValidPublicKey(key, true);
}

function malformed(field: string, message: string, value?: unknown): OfflineSessionError {
  return new OfflineSessionError("malformed", `bad offer ${field}: ${message}`, {
    field,
    ...(value === undefined ? {} : { value: typeof value === "bigint" ? value.toString() : value }),
  });
}

/** `0x` + lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  return "0x" + Buffer.from(bytes).toString("hex");
}

/** Parses `0x` + exactly `length` bytes of lowercase hex, or throws a `malformed` error naming `field`. */
export function fromHex(text: string, length: number, field: string): Buffer {
  if (typeof text !== "string" || !HEX_PATTERN.test(text) || text.length !== 2 + 2 * length) {
    throw malformed(field, `expected 0x and ${2 * length} lowercase hex digits`, text);
  }
  return Buffer.from(text.slice(2), "hex");
}
