/**
 * Message authentication for the ISO 8583 profile (docs/iso8583-profile.md,
 * "Message authentication").
 *
 * The MAC travels in DE 64 when the message has no element 65..127, else in
 * DE 128; either is `b` 16 in this profile: 16 hex characters, 8 bytes. It is
 * the first 8 bytes of HMAC-SHA-256, keyed with the acquirer's key, over the
 * message's bytes from the first byte of the MTI up to, not including, the
 * MAC element's value: the MTI, the bitmaps (with the MAC element's bit set)
 * and every other element with its length prefix, exactly as sent. The MAC
 * element must be the message's last element. It is written in uppercase hex;
 * a received MAC is compared in either case, in constant time.
 *
 * Keys are 16 to 64 bytes (128 to 512 bits; HMAC-SHA-256 hashes a key longer
 * than its 64-byte block first, which adds nothing).
 */
import { createHmac, timingSafeEqual } from "node:crypto";

import { BankChainError } from "../errors.js";
import { encode, type Iso8583Message } from "./codec.js";

/** Length of a MAC on the wire, in hex characters (8 bytes). */
export const MAC_HEX_LENGTH = 16;
/** Shortest and longest acquirer key, in bytes. */
export const MAC_KEY_MIN_BYTES = 16;
export const MAC_KEY_MAX_BYTES = 64;

/** A MAC key of the wrong length. `details.length` is the key's length; the key itself is never in the error. */
export class MacKeyError extends BankChainError {}

/** The outcome of checking a received message: `missing` when it carries no DE 64 or 128. */
export type MacVerdict = "ok" | "missing" | "bad";

const PLACEHOLDER = "0".repeat(MAC_HEX_LENGTH);

function checkKey(key: Uint8Array): void {
  if (key.length < MAC_KEY_MIN_BYTES || key.length > MAC_KEY_MAX_BYTES) {
    throw new MacKeyError(
      "ISO8583_MAC_KEY",
      `a MAC key is ${MAC_KEY_MIN_BYTES} to ${MAC_KEY_MAX_BYTES} bytes, not ${key.length}`,
      { length: key.length },
    );
  }
}

/** The first 8 bytes of HMAC-SHA-256 of `bytes` under `key` (the key already checked). */
function mac8(key: Uint8Array, bytes: Uint8Array): Buffer {
  return createHmac("sha256", key)
    .update(bytes)
    .digest()
    .subarray(0, MAC_HEX_LENGTH / 2);
}

/**
 * The profile's MAC function on raw bytes: the first 8 bytes of
 * HMAC-SHA-256(key, bytes) as 16 uppercase hex characters.
 *
 * @throws MacKeyError when the key is not 16 to 64 bytes
 */
export function macOfBytes(key: Uint8Array, bytes: Uint8Array): string {
  checkKey(key);
  return mac8(key, bytes).toString("hex").toUpperCase();
}

/** The element that carries the MAC of a message with these elements: 128 when any of 65..127 is present, else 64. */
export function macElement(fields: Readonly<Record<number, string>>): 64 | 128 {
  for (const key in fields) {
    const n = Number(key);
    if (n >= 65 && n <= 127) return 128;
  }
  return 64;
}

/** `message` with its MAC element holding `mac` and any other DE 64 / 128 removed. */
function placed(message: Iso8583Message, mac: string): Iso8583Message {
  const fields: Record<number, string> = { ...message.fields };
  delete fields[64];
  delete fields[128];
  fields[macElement(fields)] = mac;
  return { mti: message.mti, fields };
}

/**
 * The wire bytes of `message` with its MAC in place (DE 64 or 128, chosen by
 * `macElement`; a DE 64 or 128 already in `message` is replaced). One encode.
 *
 * @throws MacKeyError; Iso8583Error when the message does not encode
 */
export function encodeWithMac(key: Uint8Array, message: Iso8583Message): Buffer {
  checkKey(key);
  const wire = encode(placed(message, PLACEHOLDER));
  const macAt = wire.length - MAC_HEX_LENGTH;
  wire.write(mac8(key, wire.subarray(0, macAt)).toString("hex").toUpperCase(), macAt, "latin1");
  return wire;
}

/**
 * The MAC `message` should carry (any DE 64 or 128 it has is ignored).
 *
 * @throws MacKeyError; Iso8583Error when the message does not encode
 */
export function macOf(key: Uint8Array, message: Iso8583Message): string {
  checkKey(key);
  const wire = encode(placed(message, PLACEHOLDER));
  return mac8(key, wire.subarray(0, wire.length - MAC_HEX_LENGTH))
    .toString("hex")
    .toUpperCase();
}

/**
 * `message` with its MAC in DE 64 or 128 (see `macElement`); a DE 64 or 128
 * already in `message` is replaced.
 *
 * @throws MacKeyError; Iso8583Error when the message does not encode
 */
export function withMac(key: Uint8Array, message: Iso8583Message): Iso8583Message {
  return placed(message, macOf(key, message));
}

/**
 * Checks the MAC of a received message, over its exact wire bytes.
 *
 * `missing`: the bitmap sets neither DE 64 nor DE 128. `bad`: the bitmap
 * cannot be read, both are set, the MAC element is not the last element, the
 * message is too short to hold it, its value is not 16 hex digits, or it is
 * not the MAC of the bytes before it. Only the bitmaps are parsed: the MAC
 * element is fixed-length and last, so its value is the message's last 16
 * bytes and the MAC covers every byte before them. The caller decodes the
 * message as well (one that does not decode is a format error whatever its
 * MAC).
 *
 * @throws MacKeyError when the key is not 16 to 64 bytes
 */
export function verifyMac(key: Uint8Array, bytes: Uint8Array): MacVerdict {
  checkKey(key);
  const bitmap = presentElements(bytes);
  if (bitmap === undefined) return "bad";
  const { highest, has64, has128, header } = bitmap;
  if (!has64 && !has128) return "missing";
  if (has64 && has128) return "bad";
  if (highest !== (has64 ? 64 : 128)) return "bad";
  const macAt = bytes.length - MAC_HEX_LENGTH;
  if (macAt < header) return "bad";
  const received = new Uint8Array(MAC_HEX_LENGTH / 2);
  for (let i = 0; i < received.length; i++) {
    const hi = nibble(bytes[macAt + 2 * i]!);
    const lo = nibble(bytes[macAt + 2 * i + 1]!);
    if (hi < 0 || lo < 0) return "bad";
    received[i] = (hi << 4) | lo;
  }
  return timingSafeEqual(mac8(key, bytes.subarray(0, macAt)), received) ? "ok" : "bad";
}

function nibble(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** What the bitmaps of `bytes` say, or undefined when they cannot be read. */
function presentElements(
  bytes: Uint8Array,
): { highest: number; has64: boolean; has128: boolean; header: number } | undefined {
  if (bytes.length < 20) return undefined;
  const secondary = (nibble(bytes[4]!) & 0x8) !== 0;
  const header = secondary ? 36 : 20;
  if (bytes.length < header) return undefined;
  let highest = 0;
  let has64 = false;
  let has128 = false;
  for (let i = 4; i < header; i++) {
    const v = nibble(bytes[i]!);
    if (v < 0) return undefined;
    for (let bit = 0; bit < 4; bit++) {
      if ((v & (0x8 >> bit)) === 0) continue;
      const n = (i - 4) * 4 + bit + 1;
      if (n === 1) continue;
      highest = n;
      if (n === 64) has64 = true;
      if (n === 128) has128 = true;
    }
  }
  return { highest, has64, has128, header };
}
