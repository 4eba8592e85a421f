import type { Socket } from "node:net";

import { secp256k1 } from "@noble/curves/secp256k1.js";

import { messageOf } from "../errors.js";
import {
  channelKeys,
  confirmation,
  encodeHello,
  FrameKind,
  HELLO_BYTES,
  isConfirmation,
  LENGTH_BYTES,
  MIN_SEALED_BYTES,
  openFrame,
  parseHello,
  PUBLIC_KEY_BYTES,
  sealedSize,
  sealFrame,
  SESSION_ID_BYTES,
  type ChannelKeys,
} from "./channel-crypto.js";
import { asChannelError, handshakeError, OfflineChannelError, type OfflineChannelErrorCode } from "./channel-errors.js";
import { fromHex, type SessionOffer } from "./session.js";

/**
 * One end of an offline channel over a TCP socket (protocol in
 * `docs/offline-session.md`): reassembles length-prefixed frames, runs the
 * handshake (hello, key confirmations), then carries JSON objects in sealed,
 * sequenced frames. The cryptography is `channel-crypto.ts`; the merchant's
 * one-time session and the buyer's dialling are `channel.ts`.
 *
 * Everything a peer sends is parsed defensively: a bad frame becomes an
 * `OfflineChannelError` on the receiving side and a closed socket, never an
 * uncaught exception.
 */

/** Default and largest accepted frame payload (sequence number + ciphertext + tag), in bytes. */
export const MAX_FRAME_BYTES = 64 * 1024;

const CLOSE_GRACE_MS = 1_000;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** An established, authenticated channel carrying JSON objects in order. */
export interface SecureChannel {
  /** The session id of the offer, `0x` + 32 hex digits. */
  readonly sessionId: string;
  /** Which end of the channel this is. */
  readonly role: "merchant" | "buyer";
  /**
   * Sends one JSON object; resolves once handed to the socket. Throws
   * `OFFLINE_CHANNEL_BAD_MESSAGE` (not a JSON object, or not serialisable, e.g. a
   * `bigint`) or `OFFLINE_CHANNEL_OVERSIZED` without closing the channel, or
   * the channel's terminal error once it is closed.
   */
  send(message: object): Promise<void>;
  /**
   * The next message received, in order. Rejects with `OFFLINE_CHANNEL_TIMEOUT`
   * after `timeoutMs` (the channel stays open), or with the channel's terminal
   * error (`OFFLINE_CHANNEL_CLOSED`, `_TAMPERED`, `_REPLAY`, …) once every
   * message received before it has been read.
   */
  receive(timeoutMs?: number): Promise<unknown>;
  /** Sends an authenticated close frame, closes the socket and waits for it. Idempotent. */
  close(): Promise<void>;
}

/** Timing and size limits common to both ends. */
export interface ChannelOptions {
  /** From TCP accept/connect to an established channel; default 10 s. */
  readonly handshakeTimeoutMs?: number;
  /** Close an established channel after this long without traffic either way; default 60 s. */
  readonly idleTimeoutMs?: number;
  /** Largest frame payload accepted or sent, in bytes; default and maximum 64 KiB. */
  readonly maxFrameBytes?: number;
}

/** `ChannelOptions` checked and with their defaults. */
export interface Limits {
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxFrameBytes: number;
}

type Phase = "hello" | "confirm" | "open" | "closed";

interface Waiter {
  resolve(message: unknown): void;
  reject(error: OfflineChannelError): void;
  timer: NodeJS.Timeout | undefined;
}

/** One end of a channel, from TCP connection through handshake to close. */
export class Connection implements SecureChannel {
  readonly sessionId: string;
  readonly role: "merchant" | "buyer";
  /** Resolves when the handshake completed, rejects (and the socket is destroyed) when it failed. */
  readonly ready: Promise<void>;
  readonly #socket: Socket;
  readonly #limits: Limits;
  readonly #offer: SessionOffer;
  readonly #closed: Promise<void>;
  readonly #inbox: unknown[] = [];
  readonly #waiters: Waiter[] = [];
  #resolveReady!: () => void;
  #rejectReady!: (error: OfflineChannelError) => void;
  #phase: Phase;
  #buffer: Buffer = Buffer.alloc(0);
  #secretKey: Uint8Array;
  #keys: ChannelKeys | undefined;
  #sendSeq = 0n;
  #receiveSeq = 0n;
  #failure: OfflineChannelError | undefined;
  #handshakeTimer: NodeJS.Timeout | undefined;

  private constructor(
    socket: Socket,
    role: "merchant" | "buyer",
    offer: SessionOffer,
    secretKey: Uint8Array,
    limits: Limits,
  ) {
    this.#socket = socket;
    this.role = role;
    this.#offer = offer;
    this.sessionId = offer.sessionId;
    this.#secretKey = secretKey;
    this.#limits = limits;
    this.#phase = role === "merchant" ? "hello" : "confirm";
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => undefined);
    this.#closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("end", () => this.#onEnd());
    socket.on("error", (error) => this.#onSocketError(error));
    socket.on("close", () => this.#fail(this.#closedError("the connection closed", false)));
    socket.on("timeout", () =>
      this.#fail(
        new OfflineChannelError("OFFLINE_CHANNEL_TIMEOUT", "the channel was idle too long", { phase: "idle" }),
      ),
    );
    this.#handshakeTimer = setTimeout(
      () =>
        this.#fail(
          new OfflineChannelError("OFFLINE_CHANNEL_TIMEOUT", "the handshake did not complete in time", {
            phase: "handshake",
            timeoutMs: limits.handshakeTimeoutMs,
          }),
        ),
      limits.handshakeTimeoutMs,
    );
  }

  static merchant(socket: Socket, offer: SessionOffer, secretKey: Uint8Array, limits: Limits): Connection {
    return new Connection(socket, "merchant", offer, secretKey, limits);
  }

  static buyer(socket: Socket, offer: SessionOffer, limits: Limits): Connection {
    const { secretKey, publicKey } = secp256k1.keygen();
    const connection = new Connection(socket, "buyer", offer, secretKey, limits);
    const hello = encodeHello(fromHex(offer.sessionId, SESSION_ID_BYTES, "sessionId"), publicKey);
    connection.#deriveKeys(fromHex(offer.merchantPublicKey, PUBLIC_KEY_BYTES, "merchantPublicKey"), hello);
    const frame = Buffer.alloc(LENGTH_BYTES + HELLO_BYTES);
    frame.writeUInt32BE(HELLO_BYTES, 0);
    frame.set(hello, LENGTH_BYTES);
    socket.once("connect", () => socket.write(frame));
    return connection;
  }

  async send(message: object): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      throw new OfflineChannelError("OFFLINE_CHANNEL_BAD_MESSAGE", "a message must be a JSON object", {
        type: message === null ? "null" : Array.isArray(message) ? "array" : typeof message,
      });
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(message);
    } catch (error) {
      throw new OfflineChannelError(
        "OFFLINE_CHANNEL_BAD_MESSAGE",
        `the message is not JSON-serialisable: ${messageOf(error)}`,
        {},
        { cause: error },
      );
    }
    if (json === undefined || !json.startsWith("{")) {
      throw new OfflineChannelError("OFFLINE_CHANNEL_BAD_MESSAGE", "the message does not serialise to a JSON object");
    }
    const body = Buffer.from(json, "utf8");
    const size = sealedSize(1 + body.length);
    if (size > this.#limits.maxFrameBytes) {
      throw new OfflineChannelError("OFFLINE_CHANNEL_OVERSIZED", `the message needs a ${size}-byte frame`, {
        size,
        max: this.#limits.maxFrameBytes,
      });
    }
    const frame = this.#seal(Buffer.concat([Buffer.from([FrameKind.message]), body]));
    await new Promise<void>((resolve, reject) => {
      this.#socket.write(frame, (error) => {
        if (error === undefined || error === null) resolve();
        else reject(this.#failure ?? this.#closedError("the connection closed while sending", false, error));
      });
    });
  }

  receive(timeoutMs?: number): Promise<unknown> {
    if (this.#inbox.length > 0) return Promise.resolve(this.#inbox.shift());
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise<unknown>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          const index = this.#waiters.indexOf(waiter);
          if (index >= 0) this.#waiters.splice(index, 1);
          reject(
            new OfflineChannelError("OFFLINE_CHANNEL_TIMEOUT", `no message within ${timeoutMs} ms`, {
              phase: "receive",
              timeoutMs,
            }),
          );
        }, timeoutMs);
      }
      this.#waiters.push(waiter);
    });
  }

  async close(): Promise<void> {
    if (this.#failure === undefined) {
      const local = this.#closedError("the channel was closed locally", true);
      if (this.#phase === "open") {
        const frame = this.#seal(Buffer.from([FrameKind.close]));
        this.#terminate(local);
        this.#socket.end(frame);
        const grace = setTimeout(() => this.#socket.destroy(), CLOSE_GRACE_MS);
        void this.#closed.then(() => clearTimeout(grace));
      } else {
        this.#fail(local);
      }
    }
    await this.#closed;
  }

  #onData(chunk: Buffer): void {
    if (this.#failure !== undefined) return;
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    try {
      while (this.#failure === undefined && this.#buffer.length >= LENGTH_BYTES) {
        const length = this.#buffer.readUInt32BE(0);
        this.#checkLength(length);
        if (this.#buffer.length < LENGTH_BYTES + length) break;
        const frame = this.#buffer.subarray(0, LENGTH_BYTES + length);
        this.#buffer = this.#buffer.subarray(LENGTH_BYTES + length);
        this.#onFrame(frame);
      }
    } catch (error) {
      this.#fail(asChannelError(error, this.#phase === "open" ? "OFFLINE_CHANNEL_TAMPERED" : this.#handshakeCode()));
    }
  }

  #checkLength(length: number): void {
    if (this.#phase === "hello") {
      if (length !== HELLO_BYTES) {
        throw handshakeError("bad-hello", `a hello is ${HELLO_BYTES} bytes, this one says ${length}`, { length });
      }
      return;
    }
    if (length > this.#limits.maxFrameBytes) {
      throw new OfflineChannelError("OFFLINE_CHANNEL_OVERSIZED", `refused a ${length}-byte frame`, {
        length,
        max: this.#limits.maxFrameBytes,
      });
    }
    if (length < MIN_SEALED_BYTES) {
      throw new OfflineChannelError("OFFLINE_CHANNEL_TAMPERED", `a ${length}-byte frame is too short to be sealed`, {
        length,
      });
    }
  }

  #onFrame(frame: Buffer): void {
    switch (this.#phase) {
      case "hello":
        this.#onHello(frame.subarray(LENGTH_BYTES));
        return;
      case "confirm":
        this.#onConfirm(frame);
        return;
      case "open":
        this.#onMessage(this.#open(frame));
        return;
      case "closed":
        return;
    }
  }

  /** Merchant: checks the buyer's hello, derives the keys and proves it holds the session key. */
  #onHello(hello: Buffer): void {
    const buyerKey = parseHello(hello, fromHex(this.#offer.sessionId, SESSION_ID_BYTES, "sessionId"));
    this.#deriveKeys(buyerKey, hello);
    this.#phase = "confirm";
    this.#socket.write(this.#seal(confirmation("merchant", this.#keys!.transcript)));
  }

  /** Checks the peer's key confirmation; the buyer then confirms in turn. */
  #onConfirm(frame: Buffer): void {
    const peerRole = this.role === "buyer" ? "merchant" : "buyer";
    let plaintext: Buffer;
    try {
      plaintext = this.#open(frame);
    } catch (error) {
      throw this.#confirmationFailed(error);
    }
    if (!isConfirmation(plaintext, peerRole, this.#keys!.transcript)) throw this.#confirmationFailed(undefined);
    if (this.role === "buyer") this.#socket.write(this.#seal(confirmation("buyer", this.#keys!.transcript)));
    this.#phase = "open";
    clearTimeout(this.#handshakeTimer);
    this.#socket.setTimeout(this.#limits.idleTimeoutMs);
    this.#secretKey.fill(0);
    this.#resolveReady();
  }

  #onMessage(plaintext: Buffer): void {
    const kind = plaintext.readUInt8(0);
    if (kind === FrameKind.close && plaintext.length === 1) {
      this.#fail(this.#closedError("the peer closed the channel", true));
      return;
    }
    if (kind !== FrameKind.message) {
      throw new OfflineChannelError("OFFLINE_CHANNEL_BAD_MESSAGE", `unknown frame kind ${kind}`, { kind });
    }
    let message: unknown;
    try {
      message = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plaintext.subarray(1)));
    } catch (error) {
      throw new OfflineChannelError(
        "OFFLINE_CHANNEL_BAD_MESSAGE",
        "the peer sent a message that is not JSON",
        {},
        {
          cause: error,
        },
      );
    }
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      throw new OfflineChannelError("OFFLINE_CHANNEL_BAD_MESSAGE", "the peer sent JSON that is not an object");
    }
    const waiter = this.#waiters.shift();
    if (waiter === undefined) {
      this.#inbox.push(message);
    } else {
      clearTimeout(waiter.timer);
      waiter.resolve(message);
    }
  }

  #onEnd(): void {
    if (this.#buffer.length > 0 && this.#phase === "open") {
      this.#fail(
        new OfflineChannelError("OFFLINE_CHANNEL_TAMPERED", "the connection ended inside a frame (truncated)", {
          buffered: this.#buffer.length,
        }),
      );
    } else {
      this.#fail(this.#closedError("the peer ended the connection without a close frame", false));
    }
  }

  #onSocketError(error: Error): void {
    this.#fail(this.#closedError(`connection error: ${messageOf(error)}`, false, error));
  }

  /** ECDH between our secret key and the peer's public key, then HKDF into one AES-256-GCM key per direction. */
  #deriveKeys(peerPublicKey: Uint8Array, hello: Buffer): void {
    this.#keys = channelKeys({
      secretKey: this.#secretKey,
      peerPublicKey,
      merchantPublicKey: fromHex(this.#offer.merchantPublicKey, PUBLIC_KEY_BYTES, "merchantPublicKey"),
      hello,
    });
  }

  #seal(plaintext: Buffer): Buffer {
    if (this.#keys === undefined) throw new Error("unreachable: sealing before the handshake");
    const key = this.role === "merchant" ? this.#keys.merchantToBuyer : this.#keys.buyerToMerchant;
    return sealFrame(key, this.#sendSeq++, plaintext);
  }

  /** Authenticates and decrypts one frame: tampered → `_TAMPERED`; authentic but out of sequence → `_REPLAY`. */
  #open(frame: Buffer): Buffer {
    if (this.#keys === undefined) throw new Error("unreachable: opening before the handshake");
    const key = this.role === "merchant" ? this.#keys.buyerToMerchant : this.#keys.merchantToBuyer;
    const plaintext = openFrame(key, this.#receiveSeq, frame);
    this.#receiveSeq++;
    return plaintext;
  }

  #handshakeCode(): OfflineChannelErrorCode {
    return this.role === "merchant" ? "OFFLINE_CHANNEL_HANDSHAKE" : "OFFLINE_CHANNEL_IMPOSTOR";
  }

  #confirmationFailed(cause: unknown): OfflineChannelError {
    const options = cause === undefined ? undefined : { cause };
    return this.role === "buyer"
      ? new OfflineChannelError(
          "OFFLINE_CHANNEL_IMPOSTOR",
          "the merchant did not prove it holds the offer's session key",
          { sessionId: this.sessionId, merchantPublicKey: this.#offer.merchantPublicKey },
          options,
        )
      : handshakeError("bad-confirmation", "the buyer's key confirmation is wrong", {}, options);
  }

  /** The error for a connection that went away: before the handshake completed it is a refusal or a failed handshake. */
  #closedError(message: string, clean: boolean, cause?: unknown): OfflineChannelError {
    const options = cause === undefined ? undefined : { cause };
    if (this.#phase === "open" || this.#phase === "closed") {
      return new OfflineChannelError("OFFLINE_CHANNEL_CLOSED", message, { clean }, options);
    }
    if (this.role === "buyer") {
      return new OfflineChannelError(
        "OFFLINE_CHANNEL_REFUSED",
        `the merchant refused the connection: ${message}`,
        {
          host: this.#offer.host,
          port: this.#offer.port,
        },
        options,
      );
    }
    return handshakeError("closed", `the buyer went away during the handshake: ${message}`, {}, options);
  }

  /** Records the terminal error, fails the handshake and every pending receive, and destroys the socket. */
  #fail(error: OfflineChannelError): void {
    if (this.#failure !== undefined) return;
    this.#terminate(error);
    this.#socket.destroy();
  }

  #terminate(error: OfflineChannelError): void {
    this.#failure = error;
    this.#phase = "closed";
    this.#buffer = Buffer.alloc(0);
    clearTimeout(this.#handshakeTimer);
    this.#secretKey.fill(0);
    this.#rejectReady(error);
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }
}

/** Checks `options` and fills in the defaults; throws `OFFLINE_CHANNEL_BAD_OPTION`. */
export function resolveLimits(options: ChannelOptions): Limits {
  const maxFrameBytes = checkPositive("maxFrameBytes", options.maxFrameBytes, MAX_FRAME_BYTES);
  if (maxFrameBytes < 64 || maxFrameBytes > MAX_FRAME_BYTES) {
    throw new OfflineChannelError("OFFLINE_CHANNEL_BAD_OPTION", `maxFrameBytes must be in 64..${MAX_FRAME_BYTES}`, {
      option: "maxFrameBytes",
      value: maxFrameBytes,
    });
  }
  return {
    handshakeTimeoutMs: checkPositive("handshakeTimeoutMs", options.handshakeTimeoutMs, DEFAULT_HANDSHAKE_TIMEOUT_MS),
    idleTimeoutMs: checkPositive("idleTimeoutMs", options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS),
    maxFrameBytes,
  };
}

/** A positive integer option (at most 2^31 - 1, the timer limit), or its default. */
export function checkPositive(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0 || value > 2_147_483_647) {
    throw new OfflineChannelError("OFFLINE_CHANNEL_BAD_OPTION", `${option} must be a positive integer`, {
      option,
      value,
    });
  }
  return value;
}
