import { createCipheriv, createDecipheriv, createECDH, createHash, hkdfSync } from "node:crypto";

/**
 * A second implementation of the offline channel, written from
 * `docs/offline-session.md` with `node:crypto` only (OpenSSL's secp256k1,
 * HKDF, AES-GCM and SHA-256) and no import from `src/`. It derives the
 * known-answer vectors of `channel-vectors.test.ts` (run
 * `npx tsx test/offline/channel-vectors.derive.ts`) and plays the peer of the
 * real code on the wire there, so a change to the label, the HKDF inputs, the
 * transcript, the nonce or the frame layout in `src/offline/` fails a test
 * instead of every buyer in the field.
 */

export const LABEL = "bank-chain/offline-session/v1";

export interface ReferenceKeyPair {
  readonly secretKey: Buffer;
  /** Compressed, 33 bytes. */
  readonly publicKey: Buffer;
  /** The x-coordinate of ECDH with `peer` (compressed or uncompressed SEC1 bytes). */
  agree(peer: Buffer): Buffer;
}

/** A secp256k1 key pair from a 32-byte secret (random if absent). */
export function keyPair(secretKey?: Buffer): ReferenceKeyPair {
  const ecdh = createECDH("secp256k1");
  if (secretKey === undefined) ecdh.generateKeys();
  else ecdh.setPrivateKey(secretKey);
  return {
    secretKey: ecdh.getPrivateKey(),
    publicKey: ecdh.getPublicKey(null, "compressed"),
    agree: (peer) => ecdh.computeSecret(peer),
  };
}

/** 0x01 version ‖ 0x01 type ‖ session id (16) ‖ buyer ephemeral key (33). */
export function hello(sessionId: Buffer, buyerPublicKey: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x01, 0x01]), sessionId, buyerPublicKey]);
}

/** T = SHA-256(label ‖ 0x00 ‖ merchant public key ‖ hello). */
export function transcript(merchantPublicKey: Buffer, helloPayload: Buffer): Buffer {
  return createHash("sha256")
    .update(Buffer.concat([Buffer.from(LABEL, "utf8"), Buffer.from([0x00]), merchantPublicKey, helloPayload]))
    .digest();
}

/** k_mb ‖ k_bm = HKDF-SHA256(ikm = shared, salt = T, info = label + " keys", 64). */
export function keys(shared: Buffer, t: Buffer): { kmb: Buffer; kbm: Buffer } {
  const okm = Buffer.from(hkdfSync("sha256", shared, t, Buffer.from(`${LABEL} keys`, "utf8"), 64));
  return { kmb: okm.subarray(0, 32), kbm: okm.subarray(32) };
}

/** A frame: 4-byte big-endian length ‖ payload. */
export function frame(payload: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(payload.length);
  return Buffer.concat([length, payload]);
}

function iv(seq: bigint): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(seq, 4);
  return nonce;
}

/** length (4) ‖ seq (8) ‖ AES-256-GCM ciphertext ‖ tag (16); AAD = length ‖ seq; nonce = 0x00000000 ‖ seq. */
export function seal(key: Buffer, seq: bigint, plaintext: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt32BE(8 + plaintext.length + 16, 0);
  header.writeBigUInt64BE(seq, 4);
  const cipher = createCipheriv("aes-256-gcm", key, iv(seq));
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, body, cipher.getAuthTag()]);
}

/** Opens a whole sealed frame; throws if it does not authenticate or is not `seq`. */
export function open(key: Buffer, seq: bigint, sealed: Buffer): Buffer {
  const got = sealed.readBigUInt64BE(4);
  if (got !== seq) throw new Error(`reference: frame ${got}, expected ${seq}`);
  const decipher = createDecipheriv("aes-256-gcm", key, iv(seq));
  decipher.setAAD(sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
}

/** 0x00 ‖ "M" or "B" ‖ T. */
export function confirmation(role: "M" | "B", t: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x00]), Buffer.from(role, "ascii"), t]);
}

/** 0x01 ‖ UTF-8 JSON. */
export function message(value: object): Buffer {
  return Buffer.concat([Buffer.from([0x01]), Buffer.from(JSON.stringify(value), "utf8")]);
}

/** The fixed inputs of the vectors. */
export const VECTOR_INPUTS = {
  merchantSecretKey: Buffer.from("11".repeat(32), "hex"),
  buyerSecretKey: Buffer.from("22".repeat(32), "hex"),
  sessionId: Buffer.from("000102030405060708090a0b0c0d0e0f", "hex"),
  firstMessage: { type: "payment_request", amount: "1250" },
} as const;

/** Every value of the vectors, derived from `VECTOR_INPUTS` by this file alone. */
export function vectors(): Record<string, string> {
  const merchant = keyPair(VECTOR_INPUTS.merchantSecretKey);
  const buyer = keyPair(VECTOR_INPUTS.buyerSecretKey);
  const helloPayload = hello(VECTOR_INPUTS.sessionId, buyer.publicKey);
  const shared = merchant.agree(buyer.publicKey);
  if (!shared.equals(buyer.agree(merchant.publicKey))) throw new Error("reference: ECDH disagrees with itself");
  const t = transcript(merchant.publicKey, helloPayload);
  const { kmb, kbm } = keys(shared, t);
  return {
    merchantPublicKey: merchant.publicKey.toString("hex"),
    buyerPublicKey: buyer.publicKey.toString("hex"),
    helloFrame: frame(helloPayload).toString("hex"),
    sharedSecret: shared.toString("hex"),
    transcript: t.toString("hex"),
    merchantToBuyerKey: kmb.toString("hex"),
    buyerToMerchantKey: kbm.toString("hex"),
    merchantConfirmationFrame: seal(kmb, 0n, confirmation("M", t)).toString("hex"),
    buyerConfirmationFrame: seal(kbm, 0n, confirmation("B", t)).toString("hex"),
    firstMessageFrame: seal(kmb, 1n, message(VECTOR_INPUTS.firstMessage)).toString("hex"),
  };
}
