import { createCipheriv, createDecipheriv, createHash, hkdfSync, timingSafeEqual } from "node:crypto";

import { secp256k1 } from "@noble/curves/secp256k1.js";

import { handshakeError, OfflineChannelError, OfflineChannelKeyError } from "./channel-errors.js";

/**
 * The cryptography of the offline channel, as pure functions of bytes
 * (protocol in `docs/offline-session.md`): the hello, the ECDH shared secret,
 * the transcript hash, the HKDF key schedule, the key-confirmation plaintexts
 * and the sealing and opening of frames with their sequence numbers. No
 * sockets, timers or state: `channel-connection.ts` drives them, and
 * `test/offline/channel-vectors.test.ts` pins them to known answers.
 */

/** Binds keys and transcripts to this protocol and version. */
export const PROTOCOL_LABEL = "bank-chain/offline-session/v1";
/** The HKDF `info` of the key schedule. */
export const KEYS_INFO = `${PROTOCOL_LABEL} keys`;

/** Bytes of a frame's big-endian length prefix. */
export const LENGTH_BYTES = 4;
/** Bytes of a sealed frame's big-endian sequence number. */
export const SEQ_BYTES = 8;
/** The additional authenticated data of a sealed frame: length ‖ seq. */
export const HEADER_BYTES = LENGTH_BYTES + SEQ_BYTES;
/** AES-256-GCM tag bytes. */
export const TAG_BYTES = 16;
/** The smallest sealed payload: seq, a one-byte plaintext (the kind), the tag. */
export const MIN_SEALED_BYTES = SEQ_BYTES + 1 + TAG_BYTES;
export const SESSION_ID_BYTES = 16;
/** A compressed secp256k1 public key. */
export const PUBLIC_KEY_BYTES = 33;
const UNCOMPRESSED_KEY_BYTES = 65;
export const HELLO_VERSION = 1;
export const HELLO_TYPE = 0x01;
/** The hello's payload: version ‖ type ‖ session id ‖ buyer ephemeral key. */
export const HELLO_BYTES = 1 + 1 + SESSION_ID_BYTES + PUBLIC_KEY_BYTES;

/** The first plaintext byte of a sealed frame. */
export const FrameKind = { confirm: 0x00, message: 0x01, close: 0x02 } as const;

/** Who sends a key confirmation: `"M"` or `"B"` after the confirmation kind byte. */
export const ROLE_BYTE = { merchant: 0x4d, buyer: 0x42 } as const;
export type ChannelRole = keyof typeof ROLE_BYTE;

/** secp256k1's field prime p = 2²⁵⁶ − 2³² − 977. */
const FIELD_PRIME = 2n ** 256n - 2n ** 32n - 977n;

/** The two directional AES-256-GCM keys and the transcript hash they are bound to. */
export interface ChannelKeys {
  /** SHA-256 over the label, the merchant's session key and the hello. */
  readonly transcript: Buffer;
  /** Encrypts merchant → buyer. */
  readonly merchantToBuyer: Buffer;
  /** Encrypts buyer → merchant. */
  readonly buyerToMerchant: Buffer;
}

/** The hello payload (without its length prefix) the buyer sends in the clear. */
export function encodeHello(sessionId: Uint8Array, buyerPublicKey: Uint8Array): Buffer {
  const hello = Buffer.alloc(HELLO_BYTES);
  hello.writeUInt8(HELLO_VERSION, 0);
  hello.writeUInt8(HELLO_TYPE, 1);
  hello.set(sessionId, 2);
  hello.set(buyerPublicKey, 2 + SESSION_ID_BYTES);
  return hello;
}

/**
 * Checks a hello payload for the session `sessionId` and returns the buyer's
 * key. Throws `OFFLINE_CHANNEL_HANDSHAKE` with `details.reason` `bad-hello`,
 * `wrong-session`, or (`OfflineChannelKeyError`) `bad-key`.
 */
export function parseHello(hello: Uint8Array, sessionId: Uint8Array): Buffer {
  const bytes = Buffer.from(hello.buffer, hello.byteOffset, hello.byteLength);
  if (bytes.length !== HELLO_BYTES) {
    throw handshakeError("bad-hello", `a hello is ${HELLO_BYTES} bytes, this one ${bytes.length}`, {
      length: bytes.length,
    });
  }
  const version = bytes.readUInt8(0);
  if (version !== HELLO_VERSION) throw handshakeError("bad-hello", `unsupported hello version ${version}`, { version });
  const type = bytes.readUInt8(1);
  if (type !== HELLO_TYPE) throw handshakeError("bad-hello", `not a hello (type ${type})`, { type });
  const named = bytes.subarray(2, 2 + SESSION_ID_BYTES);
  if (!timingSafeEqual(named, sessionId)) {
    throw handshakeError("wrong-session", "the hello names another session", {
      sessionId: "0x" + named.toString("hex"),
    });
  }
  const buyerKey = bytes.subarray(2 + SESSION_ID_BYTES);
  checkPublicKey(buyerKey);
  return buyerKey;
}

/**
 * Refuses anything but a compressed secp256k1 point with an
 * `OfflineChannelKeyError` naming the defect: wrong length, the point at
 * infinity, a bad prefix, an uncompressed key, x ≥ p, or an x with no point.
 */
export function checkPublicKey(key: Uint8Array): void {
  if (key.length > 0 && key.every((byte) => byte === 0)) {
    throw new OfflineChannelKeyError("infinity", "the key is the point at infinity", key.length);
  }
  if (key.length !== PUBLIC_KEY_BYTES && key.length !== UNCOMPRESSED_KEY_BYTES) {
    throw new OfflineChannelKeyError("wrong-length", `a key of ${key.length} bytes`, key.length);
  }
  const prefix = key[0]!;
  if (key.length === UNCOMPRESSED_KEY_BYTES) {
    if (prefix === 0x04) {
      throw new OfflineChannelKeyError("not-compressed", "the key is uncompressed", key.length);
    }
    throw new OfflineChannelKeyError("bad-prefix", `a 65-byte key with prefix 0x${hexByte(prefix)}`, key.length);
  }
  if (prefix !== 0x02 && prefix !== 0x03) {
    throw new OfflineChannelKeyError("bad-prefix", `a compressed key with prefix 0x${hexByte(prefix)}`, key.length);
  }
  const x = BigInt("0x" + Buffer.from(key.subarray(1)).toString("hex"));
  if (x >= FIELD_PRIME) throw new OfflineChannelKeyError("x-out-of-range", "the key's x is not below p", key.length);
  if (!isSquare((x ** 3n + 7n) % FIELD_PRIME) || !secp256k1.utils.isValidPublicKey(key, true)) {
    throw new OfflineChannelKeyError("not-on-curve", "the key is not a point of secp256k1", key.length);
  }
}

/** The x-coordinate of ECDH(`secretKey`, `peerPublicKey`), 32 bytes; the peer's key is checked first. */
export function sharedSecret(secretKey: Uint8Array, peerPublicKey: Uint8Array): Buffer {
  checkPublicKey(peerPublicKey);
  return Buffer.from(secp256k1.getSharedSecret(secretKey, peerPublicKey, true).subarray(1));
}

/**
 * T = SHA-256(label ‖ 0x00 ‖ merchant session key ‖ hello). The hello holds
 * the version, type, session id and buyer key, so T binds the session and both keys.
 */
export function transcriptHash(merchantPublicKey: Uint8Array, hello: Uint8Array): Buffer {
  return createHash("sha256")
    .update(PROTOCOL_LABEL)
    .update(Buffer.from([0]))
    .update(merchantPublicKey)
    .update(hello)
    .digest();
}

/** k_mb ‖ k_bm = HKDF-SHA256(ikm = shared, salt = T, info = label + " keys", 64 bytes). */
export function deriveKeys(shared: Uint8Array, transcript: Buffer): ChannelKeys {
  const keys = Buffer.from(hkdfSync("sha256", shared, transcript, KEYS_INFO, 64));
  return { transcript, merchantToBuyer: keys.subarray(0, 32), buyerToMerchant: keys.subarray(32, 64) };
}

/** The whole schedule of one end: ECDH with the peer's key, transcript, directional keys. */
export function channelKeys(params: {
  readonly secretKey: Uint8Array;
  readonly peerPublicKey: Uint8Array;
  readonly merchantPublicKey: Uint8Array;
  readonly hello: Uint8Array;
}): ChannelKeys {
  const shared = sharedSecret(params.secretKey, params.peerPublicKey);
  try {
    return deriveKeys(shared, transcriptHash(params.merchantPublicKey, params.hello));
  } finally {
    shared.fill(0);
  }
}

/** The plaintext of `role`'s key confirmation: 0x00 ‖ role byte ‖ T. */
export function confirmation(role: ChannelRole, transcript: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([FrameKind.confirm, ROLE_BYTE[role]]), transcript]);
}

/** Whether `plaintext` is `role`'s key confirmation of `transcript` (constant time in the content). */
export function isConfirmation(plaintext: Uint8Array, role: ChannelRole, transcript: Uint8Array): boolean {
  const expected = confirmation(role, transcript);
  return plaintext.length === expected.length && timingSafeEqual(plaintext, expected);
}

/** The payload size (seq + ciphertext + tag) of a frame carrying `plaintextBytes`. */
export function sealedSize(plaintextBytes: number): number {
  return SEQ_BYTES + plaintextBytes + TAG_BYTES;
}

/** The AES-GCM nonce of frame `seq`: 0x00000000 ‖ seq (big-endian). */
export function frameNonce(seq: bigint): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeBigUInt64BE(seq, 4);
  return iv;
}

/** length ‖ seq ‖ AES-256-GCM(key, nonce(seq), plaintext, aad = length ‖ seq) ‖ tag. */
export function sealFrame(key: Uint8Array, seq: bigint, plaintext: Uint8Array): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32BE(sealedSize(plaintext.length), 0);
  header.writeBigUInt64BE(seq, LENGTH_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, frameNonce(seq), { authTagLength: TAG_BYTES });
  cipher.setAAD(header);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, ciphertext, cipher.getAuthTag()]);
}

/**
 * Authenticates and decrypts one whole frame (length prefix included, at
 * least `LENGTH_BYTES + MIN_SEALED_BYTES`): tampered → `OFFLINE_CHANNEL_TAMPERED`;
 * authentic but not `expectedSeq` → `OFFLINE_CHANNEL_REPLAY`.
 */
export function openFrame(key: Uint8Array, expectedSeq: bigint, frame: Buffer): Buffer {
  if (frame.length < LENGTH_BYTES + MIN_SEALED_BYTES) {
    throw new OfflineChannelError("OFFLINE_CHANNEL_TAMPERED", `a ${frame.length}-byte frame is too short`, {
      length: frame.length,
    });
  }
  const seq = frame.readBigUInt64BE(LENGTH_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", key, frameNonce(seq), { authTagLength: TAG_BYTES });
  decipher.setAAD(frame.subarray(0, HEADER_BYTES));
  decipher.setAuthTag(frame.subarray(frame.length - TAG_BYTES));
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([
      decipher.update(frame.subarray(HEADER_BYTES, frame.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch (error) {
    throw new OfflineChannelError(
      "OFFLINE_CHANNEL_TAMPERED",
      "a frame failed authentication",
      { seq: seq.toString() },
      { cause: error },
    );
  }
  if (seq !== expectedSeq) {
    throw new OfflineChannelError(
      "OFFLINE_CHANNEL_REPLAY",
      `frame ${seq} arrived when ${expectedSeq} was expected (replayed or reordered)`,
      { expected: expectedSeq.toString(), received: seq.toString() },
    );
  }
  return plaintext;
}

/** Euler's criterion: whether `a` is a square modulo p (0 counts). */
function isSquare(a: bigint): boolean {
  if (a === 0n) return true;
  let result = 1n;
  let base = a % FIELD_PRIME;
  for (let e = (FIELD_PRIME - 1n) / 2n; e > 0n; e >>= 1n) {
    if ((e & 1n) === 1n) result = (result * base) % FIELD_PRIME;
    base = (base * base) % FIELD_PRIME;
  }
  return result === 1n;
}

function hexByte(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
