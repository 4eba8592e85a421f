/**
 * The authenticated channel that moves a key share between a client and a
 * holder service (issue 19). Pure: no I/O, the caller carries the messages.
 *
 * Each party has a static secp256k1 key; the initiator knows the responder's
 * static public key in advance (pinned by address against the
 * ShareRegistry's holder list). Both add a fresh ephemeral key, and the
 * session keys come from four ECDH terms, so only the holders of both static
 * keys (authentication) and of both ephemeral keys (forward secrecy) can
 * derive them:
 *
 *   Hello   = { protocol, context, initiatorStatic, initiatorEphemeral, responderStatic }   I → R
 *   Welcome = { responderEphemeral, confirm }                                              R → I
 *   Frame   = { seq, ciphertext }                                                          both ways
 *
 *   h   = sha256(utf8(PROTOCOL) ‖ 0x00 ‖ uint256be(chainId) ‖ registry(20) ‖ walletId(32) ‖ u8 index
 *                ‖ u32be epoch ‖ u8 purpose ‖ sI(33) ‖ sR(33) ‖ eI(33) ‖ eR(33))
 *   dh  = x(eI·ER) ‖ x(eI·SR) ‖ x(sI·ER) ‖ x(sI·SR)                (32 bytes each)
 *   okm = HKDF-SHA256(ikm = dh, salt = h, info = utf8(PROTOCOL + " keys"), L = 64)
 *   kI2R = okm[0..32], kR2I = okm[32..64]
 *   seal = AES-256-GCM(key, nonce = 0⁴ ‖ u64be seq, aad = h ‖ u8 direction ‖ u64be seq)   I→R = 1, R→I = 2
 *
 * The welcome's `confirm` is the responder's seal of the empty plaintext at
 * R→I seq 0: it opens only for a responder that holds its static key and saw
 * the very hello the initiator sent (the context is in `h`). The initiator's
 * first frame (I→R seq 0) proves in turn that it holds its static key. Each
 * receiver accepts only the next sequence number; after any failure a session
 * refuses everything (`KEYS_CHANNEL_CLOSED`).
 *
 * Public keys travel as 33-byte compressed points in 0x hex; every key is
 * checked to be on the curve (compressed encodings cannot name the point at
 * infinity, and secp256k1's cofactor is 1, so a point on the curve is in the
 * prime-order group).
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { gcm } from "@noble/ciphers/aes.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { computeAddress, getBytes, hexlify, toBeArray } from "ethers";
import { extendZodWithOpenApi } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";

import { addressSchema } from "../chain/schemas.js";

import { BankChainError } from "../errors.js";

extendZodWithOpenApi(z);

/** The protocol name, the first bytes of every transcript. */
export const PROTOCOL = "bank-chain/keys/channel/v1";

/** HKDF's `info`: the protocol name and " keys". */
export const CHANNEL_KEYS_INFO = `${PROTOCOL} keys`;

/** The purposes a channel may be opened for, and their byte in the transcript. */
export const PURPOSE_CODES = Object.freeze({ deposit: 1, fetch: 2, status: 3 } as const);
export type ChannelPurpose = keyof typeof PURPOSE_CODES;

/** Direction bytes of the AAD. */
export const DIRECTION_I2R = 1;
export const DIRECTION_R2I = 2;

/** The longest plaintext a frame carries (64 KiB); a share deposit is well under 1 KiB. */
export const MAX_FRAME_PLAINTEXT = 65_536;

const TAG_BYTES = 16;
const UINT32_MAX = 2 ** 32 - 1;
const UINT256_MAX = (1n << 256n) - 1n;

/** What a channel is for; every field is bound into the transcript `h`. */
export interface ChannelContext {
  readonly chainId: bigint;
  /** The ShareRegistry's address. */
  readonly registry: string;
  /** The wallet id, 0x and 32 bytes. */
  readonly walletId: string;
  /** The share index, 1..255. */
  readonly index: number;
  /** The wallet's epoch (uint32). */
  readonly epoch: number;
  readonly purpose: ChannelPurpose;
}

/** A channel could not be opened or a frame was refused. Callers branch on `code`. */
export class ChannelError extends BankChainError {}

// ─── the wire form ─────────────────────────────────────────────────────────────

const hexBytes = (bytes: number, what: string) =>
  z
    .string()
    .regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`), `must be 0x and ${bytes} bytes of hex (${what})`)
    .transform((value) => value.toLowerCase());

/** A compressed secp256k1 public key: 0x, 02 or 03, and the 32-byte x coordinate (on-curve is checked on use). */
const compressedKeySchema = z
  .string()
  .regex(/^0x0[23][0-9a-fA-F]{64}$/, "must be a 33-byte compressed secp256k1 key (0x02/0x03 ‖ x)")
  .transform((value) => value.toLowerCase());

/** The context as JSON: `chainId` a decimal string, the rest as in `ChannelContext`. */
export const channelContextSchema = z
  .object({
    chainId: z
      .string()
      .regex(/^[1-9]\d{0,77}$/, "must be a positive decimal string without leading zeros")
      .refine((value) => BigInt(value) <= UINT256_MAX, "must fit in uint256"),
    registry: addressSchema,
    walletId: hexBytes(32, "bytes32"),
    index: z.number().int().min(1).max(255),
    epoch: z.number().int().min(0).max(UINT32_MAX),
    purpose: z.enum(["deposit", "fetch", "status"]),
  })
  .strict()
  .openapi("ChannelContext");

/** The initiator's first message. */
export const helloSchema = z
  .object({
    protocol: z.literal(PROTOCOL),
    context: channelContextSchema,
    initiatorStatic: compressedKeySchema,
    initiatorEphemeral: compressedKeySchema,
    responderStatic: compressedKeySchema,
  })
  .strict()
  .openapi("ChannelHello");

/** One sealed message; `ciphertext` includes the 16-byte GCM tag. */
export const frameSchema = z
  .object({
    seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    ciphertext: z
      .string()
      .regex(/^0x([0-9a-fA-F]{2})*$/, "must be 0x and whole bytes of hex")
      .refine((value) => value.length >= 2 + TAG_BYTES * 2, `must hold at least the ${TAG_BYTES}-byte tag`)
      .refine(
        (value) => value.length <= 2 + (MAX_FRAME_PLAINTEXT + TAG_BYTES) * 2,
        `must be at most ${MAX_FRAME_PLAINTEXT + TAG_BYTES} bytes`,
      )
      .transform((value) => value.toLowerCase()),
  })
  .strict()
  .openapi("ChannelFrame");

/** The responder's answer to a hello. */
export const welcomeSchema = z
  .object({
    responderEphemeral: compressedKeySchema,
    confirm: frameSchema,
  })
  .strict()
  .openapi("ChannelWelcome");

export type ChannelContextJson = z.infer<typeof channelContextSchema>;
export type Hello = z.infer<typeof helloSchema>;
export type Frame = z.infer<typeof frameSchema>;
export type Welcome = z.infer<typeof welcomeSchema>;

/** An open channel, one per side. */
export interface ChannelSession {
  /** The transcript hash `h` both sides agreed on. */
  readonly transcript: Uint8Array;
  /**
   * Seals `plaintext` as the next frame of this side's direction.
   * @throws ChannelError `KEYS_CHANNEL_CLOSED` after any failure, `KEYS_CHANNEL_PROTOCOL` for a plaintext over
   *   `MAX_FRAME_PLAINTEXT`.
   */
  seal(plaintext: Uint8Array): Frame;
  /**
   * Opens the next frame of the other side's direction.
   * @throws ChannelError `KEYS_CHANNEL_PROTOCOL` (malformed), `KEYS_CHANNEL_REPLAYED` (seq already seen),
   *   `KEYS_CHANNEL_OUT_OF_ORDER` (seq ahead), `KEYS_CHANNEL_TAMPERED` (GCM fails), `KEYS_CHANNEL_CLOSED`; any of
   *   them closes the session.
   */
  open(frame: Frame): Uint8Array;
}

// ─── keys ──────────────────────────────────────────────────────────────────────

/**
 * Checks a public key (33 or 65 bytes) is a point on secp256k1 other than the point at infinity.
 * @throws ChannelError `KEYS_CHANNEL_BAD_KEY`.
 */
function checkPublicKey(field: string, key: Uint8Array, compressedOnly: boolean): Uint8Array {
  if (!(key instanceof Uint8Array)) {
    throw new ChannelError("KEYS_CHANNEL_BAD_KEY", `${field} must be a Uint8Array`, { field });
  }
  const hex = hexlify(key);
  if (key.length !== 33 && (compressedOnly || key.length !== 65)) {
    throw new ChannelError(
      "KEYS_CHANNEL_BAD_KEY",
      `${field} must be a ${compressedOnly ? "33-byte compressed" : "33- or 65-byte"} secp256k1 public key`,
      { field, key: hex },
    );
  }
  try {
    const point = secp256k1.Point.fromBytes(key);
    point.assertValidity();
    if (point.is0()) throw new Error("point at infinity");
    return point.toBytes(true);
  } catch (error) {
    throw new ChannelError(
      "KEYS_CHANNEL_BAD_KEY",
      `${field} is not a point on secp256k1`,
      { field, key: hex },
      { cause: error },
    );
  }
}

/**
 * Checks a private key is 32 bytes in [1, n-1] and returns its compressed public key.
 * @throws ChannelError `KEYS_CHANNEL_BAD_KEY` (the key itself is never put in the error).
 */
function publicOfPrivate(field: string, key: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== 32 || !secp256k1.utils.isValidSecretKey(key)) {
    throw new ChannelError("KEYS_CHANNEL_BAD_KEY", `${field} must be a 32-byte secp256k1 private key in [1, n-1]`, {
      field,
    });
  }
  return secp256k1.getPublicKey(key, true);
}

/** The 32-byte x coordinate of `privateKey · publicKey`. */
function ecdhX(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return secp256k1.getSharedSecret(privateKey, publicKey, true).slice(1);
}

/**
 * The checksummed address of a secp256k1 public key (33 bytes compressed or 65 uncompressed): the last 20 bytes
 * of keccak256(X ‖ Y).
 * @throws ChannelError `KEYS_CHANNEL_BAD_KEY` when the key is not a point on the curve.
 */
export function addressOfPublicKey(pub: Uint8Array): string {
  return computeAddress(hexlify(checkPublicKey("publicKey", pub, false)));
}

/**
 * The compressed public key (33 bytes) of a private key, as a channel's `*Static` fields carry it.
 * @throws ChannelError `KEYS_CHANNEL_BAD_KEY`.
 */
export function channelPublicKey(privateKey: Uint8Array): Uint8Array {
  return publicOfPrivate("privateKey", privateKey);
}

// ─── transcript and keys ───────────────────────────────────────────────────────

function contextToJson(context: ChannelContext): ChannelContextJson {
  const bad = (field: string, why: string, value: unknown) =>
    new ChannelError("KEYS_CHANNEL_PROTOCOL", `context.${field} ${why}`, { field: `context.${field}`, value });
  if (typeof context.chainId !== "bigint" || context.chainId <= 0n || context.chainId > UINT256_MAX) {
    throw bad("chainId", "must be a bigint in [1, 2^256-1]", String(context.chainId));
  }
  const parsed = channelContextSchema.safeParse({
    chainId: context.chainId.toString(),
    registry: context.registry,
    walletId: context.walletId,
    index: context.index,
    epoch: context.epoch,
    purpose: context.purpose,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? "");
    throw bad(field, issue.message, (context as unknown as Record<string, unknown>)[field]);
  }
  return parsed.data;
}

function contextFromJson(json: ChannelContextJson): ChannelContext {
  return {
    chainId: BigInt(json.chainId),
    registry: json.registry,
    walletId: json.walletId,
    index: json.index,
    epoch: json.epoch,
    purpose: json.purpose,
  };
}

function u64be(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** `h`, the transcript hash (see the module comment). Every key is a 33-byte compressed point. */
function transcriptHash(
  context: ChannelContextJson,
  initiatorStatic: Uint8Array,
  responderStatic: Uint8Array,
  initiatorEphemeral: Uint8Array,
  responderEphemeral: Uint8Array,
): Uint8Array {
  const chainId = new Uint8Array(32);
  const chainBytes = toBeArray(BigInt(context.chainId));
  chainId.set(chainBytes, 32 - chainBytes.length);
  const fixed = new Uint8Array(1 + 4 + 1);
  const view = new DataView(fixed.buffer);
  view.setUint8(0, context.index);
  view.setUint32(1, context.epoch);
  view.setUint8(5, PURPOSE_CODES[context.purpose]);
  return sha256(
    concatBytes(
      new TextEncoder().encode(PROTOCOL),
      new Uint8Array([0]),
      chainId,
      getBytes(context.registry),
      getBytes(context.walletId),
      fixed,
      initiatorStatic,
      responderStatic,
      initiatorEphemeral,
      responderEphemeral,
    ),
  );
}

/** `kI2R` and `kR2I` from the four ECDH terms and `h`. */
function sessionKeys(dh: readonly Uint8Array[], transcript: Uint8Array): { i2r: Uint8Array; r2i: Uint8Array } {
  const ikm = concatBytes(...dh);
  const okm = hkdf(sha256, ikm, transcript, new TextEncoder().encode(CHANNEL_KEYS_INFO), 64);
  const keys = { i2r: okm.slice(0, 32), r2i: okm.slice(32, 64) };
  ikm.fill(0);
  okm.fill(0);
  return keys;
}

function nonceOf(seq: number): Uint8Array {
  return concatBytes(new Uint8Array(4), u64be(seq));
}

function aadOf(transcript: Uint8Array, direction: number, seq: number): Uint8Array {
  return concatBytes(transcript, new Uint8Array([direction]), u64be(seq));
}

// ─── the session ───────────────────────────────────────────────────────────────

class Session implements ChannelSession {
  readonly #transcript: Uint8Array;
  readonly #sendKey: Uint8Array;
  readonly #sendDirection: number;
  readonly #receiveKey: Uint8Array;
  readonly #receiveDirection: number;
  #sendSeq: number;
  #receiveSeq: number;
  #closed = false;

  constructor(o: {
    transcript: Uint8Array;
    sendKey: Uint8Array;
    sendDirection: number;
    sendSeq: number;
    receiveKey: Uint8Array;
    receiveDirection: number;
    receiveSeq: number;
  }) {
    this.#transcript = o.transcript;
    this.#sendKey = o.sendKey;
    this.#sendDirection = o.sendDirection;
    this.#sendSeq = o.sendSeq;
    this.#receiveKey = o.receiveKey;
    this.#receiveDirection = o.receiveDirection;
    this.#receiveSeq = o.receiveSeq;
  }

  get transcript(): Uint8Array {
    return this.#transcript.slice();
  }

  seal(plaintext: Uint8Array): Frame {
    this.#checkOpen();
    if (!(plaintext instanceof Uint8Array) || plaintext.length > MAX_FRAME_PLAINTEXT) {
      this.#fail();
      throw new ChannelError(
        "KEYS_CHANNEL_PROTOCOL",
        `a frame's plaintext must be a Uint8Array of at most ${MAX_FRAME_PLAINTEXT} bytes`,
        { length: plaintext instanceof Uint8Array ? plaintext.length : undefined, max: MAX_FRAME_PLAINTEXT },
      );
    }
    const seq = this.#sendSeq;
    const ciphertext = gcm(this.#sendKey, nonceOf(seq), aadOf(this.#transcript, this.#sendDirection, seq)).encrypt(
      plaintext,
    );
    this.#sendSeq = seq + 1;
    return { seq, ciphertext: hexlify(ciphertext) };
  }

  open(frame: Frame): Uint8Array {
    this.#checkOpen();
    try {
      const plaintext = openFrame(this.#receiveKey, this.#transcript, this.#receiveDirection, this.#receiveSeq, frame);
      this.#receiveSeq += 1;
      return plaintext;
    } catch (error) {
      this.#fail();
      throw error;
    }
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw new ChannelError("KEYS_CHANNEL_CLOSED", "the channel failed once and refuses everything; open a new one", {
        nextSendSeq: this.#sendSeq,
        nextReceiveSeq: this.#receiveSeq,
      });
    }
  }

  #fail(): void {
    this.#closed = true;
    this.#sendKey.fill(0);
    this.#receiveKey.fill(0);
  }
}

/** Opens a frame expected at `expected`; throws without touching any state. */
function openFrame(key: Uint8Array, transcript: Uint8Array, direction: number, expected: number, frame: Frame) {
  const parsed = frameSchema.safeParse(frame);
  if (!parsed.success) {
    throw new ChannelError("KEYS_CHANNEL_PROTOCOL", `malformed frame: ${parsed.error.issues[0]!.message}`, {
      field: parsed.error.issues[0]!.path.join("."),
    });
  }
  const { seq, ciphertext } = parsed.data;
  if (seq < expected) {
    throw new ChannelError("KEYS_CHANNEL_REPLAYED", `frame seq ${seq} was already received (next is ${expected})`, {
      seq,
      expected,
      direction,
    });
  }
  if (seq > expected) {
    throw new ChannelError("KEYS_CHANNEL_OUT_OF_ORDER", `frame seq ${seq} is ahead of the next, ${expected}`, {
      seq,
      expected,
      direction,
    });
  }
  try {
    return gcm(key, nonceOf(seq), aadOf(transcript, direction, seq)).decrypt(getBytes(ciphertext));
  } catch (error) {
    throw new ChannelError(
      "KEYS_CHANNEL_TAMPERED",
      `frame seq ${seq} does not open: altered, from another session or direction, or sealed without the keys`,
      { seq, direction },
      { cause: error },
    );
  }
}

function ephemeralOf(ephemeralKey: Uint8Array | undefined): Uint8Array {
  return ephemeralKey === undefined ? secp256k1.utils.randomSecretKey() : new Uint8Array(ephemeralKey);
}

/**
 * The initiator's side: makes the hello; `finish` checks the responder's welcome and opens the session.
 *
 * @param o.staticKey the initiator's static private key (32 bytes).
 * @param o.responderStatic the responder's static public key, known in advance (33 or 65 bytes).
 * @param o.context what the channel is for.
 * @param o.ephemeralKey only for known-answer tests: a fixed ephemeral private key. Never pass it otherwise; a
 *   reused ephemeral key gives up forward secrecy.
 * @throws ChannelError `KEYS_CHANNEL_BAD_KEY` (a key is not valid), `KEYS_CHANNEL_PROTOCOL` (a context field out of
 *   range). `finish` throws `KEYS_CHANNEL_PROTOCOL` (malformed welcome), `KEYS_CHANNEL_BAD_KEY` (the responder's
 *   ephemeral key is not on the curve), `KEYS_CHANNEL_IMPOSTOR` (the confirm does not open: the responder lacks the
 *   static key, or it saw another hello) and `KEYS_CHANNEL_CLOSED` when called again.
 */
export function openChannel(o: {
  staticKey: Uint8Array;
  responderStatic: Uint8Array;
  context: ChannelContext;
  ephemeralKey?: Uint8Array;
}): { hello: Hello; finish(welcome: Welcome): ChannelSession } {
  const initiatorStatic = publicOfPrivate("staticKey", o.staticKey);
  const responderStatic = checkPublicKey("responderStatic", o.responderStatic, false);
  const context = contextToJson(o.context);
  // Copies (a Node Buffer's slice() is a view): they are wiped after use, the caller's keys are not.
  const staticKey = new Uint8Array(o.staticKey);
  const ephemeralKey = ephemeralOf(o.ephemeralKey);
  const initiatorEphemeral = publicOfPrivate("ephemeralKey", ephemeralKey);
  const hello: Hello = {
    protocol: PROTOCOL,
    context,
    initiatorStatic: hexlify(initiatorStatic),
    initiatorEphemeral: hexlify(initiatorEphemeral),
    responderStatic: hexlify(responderStatic),
  };
  let used = false;
  const finish = (welcome: Welcome): ChannelSession => {
    if (used) {
      throw new ChannelError("KEYS_CHANNEL_CLOSED", "this hello was already finished (or failed); open a new channel");
    }
    used = true;
    try {
      const parsed = welcomeSchema.safeParse(welcome);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new ChannelError("KEYS_CHANNEL_PROTOCOL", `malformed welcome: ${issue.message}`, {
          field: issue.path.join("."),
        });
      }
      const responderEphemeral = checkPublicKey("responderEphemeral", getBytes(parsed.data.responderEphemeral), true);
      const transcript = transcriptHash(
        context,
        initiatorStatic,
        responderStatic,
        initiatorEphemeral,
        responderEphemeral,
      );
      const keys = sessionKeys(
        [
          ecdhX(ephemeralKey, responderEphemeral),
          ecdhX(ephemeralKey, responderStatic),
          ecdhX(staticKey, responderEphemeral),
          ecdhX(staticKey, responderStatic),
        ],
        transcript,
      );
      const { confirm } = parsed.data;
      if (confirm.seq !== 0) {
        throw new ChannelError("KEYS_CHANNEL_PROTOCOL", `the welcome's confirm must be seq 0, got ${confirm.seq}`, {
          field: "confirm.seq",
          seq: confirm.seq,
        });
      }
      let plaintext: Uint8Array;
      try {
        plaintext = openFrame(keys.r2i, transcript, DIRECTION_R2I, 0, confirm);
      } catch (error) {
        throw new ChannelError(
          "KEYS_CHANNEL_IMPOSTOR",
          `the welcome's confirm does not open: the responder does not hold the static key of ${addressOfPublicKey(responderStatic)}, or it answered another hello`,
          { responder: addressOfPublicKey(responderStatic) },
          { cause: error },
        );
      }
      if (plaintext.length !== 0) {
        throw new ChannelError("KEYS_CHANNEL_PROTOCOL", "the welcome's confirm must seal the empty plaintext", {
          field: "confirm",
          length: plaintext.length,
        });
      }
      return new Session({
        transcript,
        sendKey: keys.i2r,
        sendDirection: DIRECTION_I2R,
        sendSeq: 0,
        receiveKey: keys.r2i,
        receiveDirection: DIRECTION_R2I,
        receiveSeq: 1,
      });
    } finally {
      staticKey.fill(0);
      ephemeralKey.fill(0);
    }
  };
  return { hello, finish };
}

/**
 * The responder's side: checks a hello addressed to `staticKey`, answers with a welcome and opens the session
 * (whose first `open` must be the initiator's frame seq 0: it proves the initiator holds its static key).
 *
 * @param hello as received (validated here with `helloSchema`).
 * @param o.staticKey the responder's static private key.
 * @param o.ephemeralKey only for known-answer tests (see `openChannel`).
 * @returns the welcome to send, the context and the initiator's static key the hello claims (authenticated only
 *   once a frame from it opens).
 * @throws ChannelError `KEYS_CHANNEL_PROTOCOL` (wrong protocol, malformed hello), `KEYS_CHANNEL_WRONG_RESPONDER`
 *   (the hello is for another responder), `KEYS_CHANNEL_BAD_KEY` (an initiator key is not on the curve).
 */
export function acceptChannel(
  hello: Hello,
  o: { staticKey: Uint8Array; ephemeralKey?: Uint8Array },
): { welcome: Welcome; context: ChannelContext; initiatorStatic: Uint8Array; session: ChannelSession } {
  const responderStatic = publicOfPrivate("staticKey", o.staticKey);
  const parsed = helloSchema.safeParse(hello);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join(".");
    throw new ChannelError(
      "KEYS_CHANNEL_PROTOCOL",
      `malformed hello: ${field === "" ? "" : `${field} `}${issue.message}`,
      {
        field,
        protocol: (hello as { protocol?: unknown } | null)?.protocol,
      },
    );
  }
  const message = parsed.data;
  if (message.responderStatic !== hexlify(responderStatic)) {
    throw new ChannelError(
      "KEYS_CHANNEL_WRONG_RESPONDER",
      `the hello is for responder ${message.responderStatic}, not this one (${hexlify(responderStatic)})`,
      { expected: hexlify(responderStatic), got: message.responderStatic },
    );
  }
  const initiatorStatic = checkPublicKey("initiatorStatic", getBytes(message.initiatorStatic), true);
  const initiatorEphemeral = checkPublicKey("initiatorEphemeral", getBytes(message.initiatorEphemeral), true);
  const ephemeralKey = ephemeralOf(o.ephemeralKey);
  try {
    const responderEphemeral = publicOfPrivate("ephemeralKey", ephemeralKey);
    const transcript = transcriptHash(
      message.context,
      initiatorStatic,
      responderStatic,
      initiatorEphemeral,
      responderEphemeral,
    );
    const keys = sessionKeys(
      [
        ecdhX(ephemeralKey, initiatorEphemeral),
        ecdhX(o.staticKey, initiatorEphemeral),
        ecdhX(ephemeralKey, initiatorStatic),
        ecdhX(o.staticKey, initiatorStatic),
      ],
      transcript,
    );
    const session = new Session({
      transcript,
      sendKey: keys.r2i,
      sendDirection: DIRECTION_R2I,
      sendSeq: 0,
      receiveKey: keys.i2r,
      receiveDirection: DIRECTION_I2R,
      receiveSeq: 0,
    });
    const confirm = session.seal(new Uint8Array(0));
    return {
      welcome: { responderEphemeral: hexlify(responderEphemeral), confirm },
      context: contextFromJson(message.context),
      initiatorStatic,
      session,
    };
  } finally {
    ephemeralKey.fill(0);
  }
}
