import { createCipheriv, createDecipheriv, createHash, hkdfSync, timingSafeEqual } from "node:crypto";
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from "node:net";

import { secp256k1 } from "@noble/curves/secp256k1.js";

import { BankChainError, messageOf } from "../errors.js";
import { createOffer, decodeOffer, encodeOffer, fromHex, type SessionOffer } from "./session.js";

/**
 * The encrypted, authenticated transport of an offline payment session
 * (protocol in `docs/offline-session.md`).
 *
 * A merchant opens a one-time `MerchantSession` and shows `offerText()`; the
 * buyer calls `connectToMerchant(offerText)`. Both get a `SecureChannel` that
 * carries JSON objects. Everything a peer sends is parsed defensively: a bad
 * frame becomes an `OfflineChannelError` on the receiving side and a closed
 * socket, never an uncaught exception.
 *
 * Messages go through `JSON.stringify`/`JSON.parse`: encoding `bigint` amounts
 * (e.g. as decimal strings) and validating received messages (e.g. with zod)
 * is the caller's job.
 */

/** Binds keys and transcripts to this protocol and version. */
export const PROTOCOL_LABEL = "bank-chain/offline-session/v1";
/** Default and largest accepted frame payload (sequence number + ciphertext + tag), in bytes. */
export const MAX_FRAME_BYTES = 64 * 1024;

const LENGTH_BYTES = 4;
const SEQ_BYTES = 8;
const HEADER_BYTES = LENGTH_BYTES + SEQ_BYTES;
const TAG_BYTES = 16;
const MIN_SEALED_BYTES = SEQ_BYTES + 1 + TAG_BYTES;
const SESSION_ID_BYTES = 16;
const PUBLIC_KEY_BYTES = 33;
const HELLO_VERSION = 1;
const HELLO_TYPE = 0x01;
const HELLO_BYTES = 1 + 1 + SESSION_ID_BYTES + PUBLIC_KEY_BYTES;
const KIND_CONFIRM = 0x00;
const KIND_MESSAGE = 0x01;
const KIND_CLOSE = 0x02;
const ROLE_MERCHANT = 0x4d; // "M"
const ROLE_BUYER = 0x42; // "B"
const CLOSE_GRACE_MS = 1_000;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
const DEFAULT_TTL_MS = 5 * 60_000;

/** Why a channel or session failed; stable, for callers to branch on. */
export type OfflineChannelErrorCode =
  /** The merchant refused or dropped the connection before the handshake completed (busy, used, closed, gone). */
  | "OFFLINE_CHANNEL_REFUSED"
  /** Merchant side: the connecting peer's hello or key confirmation was wrong (garbage, wrong session id, bad key). */
  | "OFFLINE_CHANNEL_HANDSHAKE"
  /** Buyer side: the peer did not prove it holds the offer's session private key. */
  | "OFFLINE_CHANNEL_IMPOSTOR"
  /** A frame failed authentication, was truncated, or is shorter than a sealed frame. */
  | "OFFLINE_CHANNEL_TAMPERED"
  /** An authentic frame arrived with a sequence number other than the next expected one (replayed or reordered). */
  | "OFFLINE_CHANNEL_REPLAY"
  /** A frame is larger than the maximum frame size (received: channel closed; sent: refused, channel kept). */
  | "OFFLINE_CHANNEL_OVERSIZED"
  /** The handshake, the idle period or a `receive` wait ran out of time. */
  | "OFFLINE_CHANNEL_TIMEOUT"
  /** The channel is closed (`details.clean`: the closing side sent an authenticated close frame). */
  | "OFFLINE_CHANNEL_CLOSED"
  /** A message is not a JSON object (sent: refused, channel kept; received: channel closed). */
  | "OFFLINE_CHANNEL_BAD_MESSAGE"
  /** An option is out of range. */
  | "OFFLINE_CHANNEL_BAD_OPTION"
  /** The session expired before a buyer completed the handshake. */
  | "OFFLINE_SESSION_EXPIRED"
  /** The session was closed before a buyer completed the handshake. */
  | "OFFLINE_SESSION_CLOSED";

/** The errors of the offline channel; `code` says why, `details` carries the offending values (never a key). */
export class OfflineChannelError extends BankChainError {
  declare readonly code: OfflineChannelErrorCode;

  constructor(
    code: OfflineChannelErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, details, options);
  }
}

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

/** Options of `MerchantSession.open`. */
export interface MerchantSessionOptions extends ChannelOptions {
  /** Address to listen on, also written into the offer; default `127.0.0.1`. */
  readonly host?: string;
  /** TCP port; default 0 (any free port, the real one goes into the offer). */
  readonly port?: number;
  /** How long the offer accepts a handshake; default 5 minutes. An established channel outlives it. */
  readonly ttlMs?: number;
  /** The merchant's wallet address, copied into the offer. */
  readonly wallet?: string;
  /** Told about every refused or failed connection attempt (the session keeps waiting); must not throw. */
  readonly onRefused?: (error: OfflineChannelError) => void;
  /** Clock, milliseconds since the epoch; default `Date.now`. */
  readonly now?: () => number;
}

/** Options of `connectToMerchant`. */
export interface ConnectOptions extends ChannelOptions {
  /** Clock used to check the offer's expiry; default `Date.now`. */
  readonly now?: () => number;
}

interface Limits {
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxFrameBytes: number;
}

/**
 * A merchant's one-time session: listens on one TCP port, accepts exactly one
 * buyer whose handshake completes, then stops listening. Connections are
 * handled one at a time: while a handshake is under way, or once a channel is
 * established, further connections are dropped. A failed handshake (garbage,
 * wrong session id, timeout) does not use the session up, so a stranger cannot
 * burn it; it is reported to `onRefused`.
 */
export class MerchantSession {
  /** The public offer; show it with `offerText()`. */
  readonly offer: SessionOffer;
  readonly #offerText: string;
  readonly #secretKey: Uint8Array;
  readonly #server: Server;
  readonly #limits: Limits;
  readonly #onRefused: ((error: OfflineChannelError) => void) | undefined;
  readonly #accepted: Promise<SecureChannel>;
  #resolveAccepted!: (channel: SecureChannel) => void;
  #rejectAccepted!: (error: OfflineChannelError) => void;
  #state: "waiting" | "handshaking" | "established" | "expired" | "closed" = "waiting";
  #pending: Connection | undefined;
  #channel: Connection | undefined;
  #expiryTimer: NodeJS.Timeout;
  #serverClosed: Promise<void> | undefined;

  private constructor(
    server: Server,
    offer: SessionOffer,
    secretKey: Uint8Array,
    limits: Limits,
    options: MerchantSessionOptions,
    now: number,
  ) {
    this.offer = offer;
    this.#offerText = encodeOffer(offer);
    this.#secretKey = secretKey;
    this.#server = server;
    this.#limits = limits;
    this.#onRefused = options.onRefused;
    this.#accepted = new Promise<SecureChannel>((resolve, reject) => {
      this.#resolveAccepted = resolve;
      this.#rejectAccepted = reject;
    });
    this.#accepted.catch(() => undefined); // the caller may never call accept()
    this.#expiryTimer = setTimeout(() => this.#expire(), Math.max(0, offer.expiresAt - now));
  }

  /** Listens on `host:port` and makes a fresh offer for it. A listen error (port in use, bad host) rejects. */
  static async open(options: MerchantSessionOptions = {}): Promise<MerchantSession> {
    const limits = resolveLimits(options);
    const ttlMs = checkMs("ttlMs", options.ttlMs, DEFAULT_TTL_MS);
    const host = options.host ?? "127.0.0.1";
    const now = options.now ?? Date.now;
    let session: MerchantSession | undefined;
    const server = createServer((socket) => {
      if (session === undefined) socket.destroy();
      else session.#onConnection(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", () => undefined); // a listening server only reports errors of accepted sockets' setup
    try {
      const { port } = server.address() as AddressInfo;
      const started = now();
      const { offer, secretKey } = createOffer({ host, port, ttlMs, wallet: options.wallet, now: started });
      session = new MerchantSession(server, offer, secretKey, limits, options, started);
      return session;
    } catch (error) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw error;
    }
  }

  /** The offer as the text a QR code carries. */
  offerText(): string {
    return this.#offerText;
  }

  /**
   * Resolves with the channel once the one buyer has completed the handshake;
   * rejects with `OFFLINE_SESSION_EXPIRED` or `OFFLINE_SESSION_CLOSED`. Every
   * call returns the same promise.
   */
  accept(): Promise<SecureChannel> {
    return this.#accepted;
  }

  /** Ends the session for good: stops listening, drops a handshake under way, closes the channel. Idempotent. */
  async close(): Promise<void> {
    if (this.#state !== "closed") {
      const was = this.#state;
      this.#state = "closed";
      clearTimeout(this.#expiryTimer);
      this.#secretKey.fill(0);
      if (was === "waiting" || was === "handshaking") {
        this.#rejectAccepted(
          new OfflineChannelError("OFFLINE_SESSION_CLOSED", "the session was closed before a buyer connected", {
            sessionId: this.offer.sessionId,
          }),
        );
      }
    }
    await Promise.all([this.#pending?.close(), this.#channel?.close(), this.#stopListening()]);
  }

  #onConnection(socket: Socket): void {
    socket.on("error", () => undefined);
    if (this.#state !== "waiting") {
      const remote = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
      socket.destroy();
      const reason = this.#state === "handshaking" ? "busy" : this.#state;
      this.#report(
        new OfflineChannelError("OFFLINE_CHANNEL_REFUSED", `connection refused: session ${reason}`, { reason, remote }),
      );
      return;
    }
    this.#state = "handshaking";
    // a copy: the connection wipes its key when it ends, the session may need it for the next attempt
    const secretKey = Uint8Array.from(this.#secretKey);
    const connection = Connection.merchant(socket, this.offer, secretKey, this.#limits);
    this.#pending = connection;
    connection.ready.then(
      () => {
        this.#pending = undefined;
        if (this.#state !== "handshaking") {
          void connection.close();
          return;
        }
        this.#state = "established";
        this.#channel = connection;
        clearTimeout(this.#expiryTimer);
        this.#secretKey.fill(0);
        void this.#stopListening();
        this.#resolveAccepted(connection);
      },
      (error: unknown) => {
        this.#pending = undefined;
        if (this.#state !== "handshaking") return;
        this.#state = "waiting";
        this.#report(asChannelError(error, "OFFLINE_CHANNEL_HANDSHAKE"));
      },
    );
  }

  #expire(): void {
    if (this.#state !== "waiting" && this.#state !== "handshaking") return;
    this.#state = "expired";
    this.#secretKey.fill(0);
    void this.#pending?.close();
    void this.#stopListening();
    this.#rejectAccepted(
      new OfflineChannelError("OFFLINE_SESSION_EXPIRED", "the session expired before a buyer connected", {
        sessionId: this.offer.sessionId,
        expiresAt: this.offer.expiresAt,
      }),
    );
  }

  #stopListening(): Promise<void> {
    this.#serverClosed ??= new Promise<void>((resolve) => this.#server.close(() => resolve()));
    return this.#serverClosed;
  }

  #report(error: OfflineChannelError): void {
    try {
      this.#onRefused?.(error);
    } catch {
      // a logging callback must not take the session down
    }
  }
}

/**
 * Connects to the merchant named by an offer (text or decoded), runs the
 * handshake and resolves with the channel once the merchant has proved it
 * holds the session key. Rejects with `OfflineSessionError` (bad or expired
 * offer) or `OfflineChannelError` (`_REFUSED`, `_IMPOSTOR`, `_TIMEOUT`, …).
 */
export async function connectToMerchant(
  offer: string | SessionOffer,
  options: ConnectOptions = {},
): Promise<SecureChannel> {
  const limits = resolveLimits(options);
  const now = options.now ?? Date.now;
  const decoded = decodeOffer(typeof offer === "string" ? offer : encodeOffer(offer), { now: now() });
  const socket = createConnection({ host: decoded.host, port: decoded.port });
  const connection = Connection.buyer(socket, decoded, limits);
  await connection.ready;
  return connection;
}

type Phase = "hello" | "confirm" | "open" | "closed";

interface Waiter {
  resolve(message: unknown): void;
  reject(error: OfflineChannelError): void;
  timer: NodeJS.Timeout | undefined;
}

/** One end of a channel, from TCP connection through handshake to close. */
class Connection implements SecureChannel {
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
  #transcript: Buffer | undefined;
  #sendKey: Buffer | undefined;
  #receiveKey: Buffer | undefined;
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
    const hello = Buffer.alloc(HELLO_BYTES);
    hello.writeUInt8(HELLO_VERSION, 0);
    hello.writeUInt8(HELLO_TYPE, 1);
    hello.set(fromHex(offer.sessionId, SESSION_ID_BYTES, "sessionId"), 2);
    hello.set(publicKey, 2 + SESSION_ID_BYTES);
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
    const size = SEQ_BYTES + 1 + body.length + TAG_BYTES;
    if (size > this.#limits.maxFrameBytes) {
      throw new OfflineChannelError("OFFLINE_CHANNEL_OVERSIZED", `the message needs a ${size}-byte frame`, {
        size,
        max: this.#limits.maxFrameBytes,
      });
    }
    const frame = this.#seal(Buffer.concat([Buffer.from([KIND_MESSAGE]), body]));
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
        const frame = this.#seal(Buffer.from([KIND_CLOSE]));
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
    const version = hello.readUInt8(0);
    if (version !== HELLO_VERSION)
      throw handshakeError("bad-hello", `unsupported hello version ${version}`, { version });
    const type = hello.readUInt8(1);
    if (type !== HELLO_TYPE) throw handshakeError("bad-hello", `not a hello (type ${type})`, { type });
    const sessionId = hello.subarray(2, 2 + SESSION_ID_BYTES);
    if (!timingSafeEqual(sessionId, fromHex(this.#offer.sessionId, SESSION_ID_BYTES, "sessionId"))) {
      throw handshakeError("wrong-session", "the hello names another session", {
        sessionId: "0x" + sessionId.toString("hex"),
      });
    }
    const buyerKey = hello.subarray(2 + SESSION_ID_BYTES);
    if (!secp256k1.utils.isValidPublicKey(buyerKey, true)) {
      throw handshakeError("bad-key", "the buyer's key is not a compressed secp256k1 point");
    }
    this.#deriveKeys(buyerKey, hello);
    this.#phase = "confirm";
    this.#socket.write(this.#seal(this.#confirmation(ROLE_MERCHANT)));
  }

  /** Checks the peer's key confirmation; the buyer then confirms in turn. */
  #onConfirm(frame: Buffer): void {
    const peerRole = this.role === "buyer" ? ROLE_MERCHANT : ROLE_BUYER;
    let plaintext: Buffer;
    try {
      plaintext = this.#open(frame);
    } catch (error) {
      throw this.#confirmationFailed(error);
    }
    const expected = this.#confirmation(peerRole);
    if (plaintext.length !== expected.length || !timingSafeEqual(plaintext, expected)) {
      throw this.#confirmationFailed(undefined);
    }
    if (this.role === "buyer") this.#socket.write(this.#seal(this.#confirmation(ROLE_BUYER)));
    this.#phase = "open";
    clearTimeout(this.#handshakeTimer);
    this.#socket.setTimeout(this.#limits.idleTimeoutMs);
    this.#secretKey.fill(0);
    this.#resolveReady();
  }

  #onMessage(plaintext: Buffer): void {
    const kind = plaintext.readUInt8(0);
    if (kind === KIND_CLOSE && plaintext.length === 1) {
      this.#fail(this.#closedError("the peer closed the channel", true));
      return;
    }
    if (kind !== KIND_MESSAGE) {
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
    const shared = secp256k1.getSharedSecret(this.#secretKey, peerPublicKey, true).subarray(1);
    // hello = version ‖ type ‖ session id ‖ buyer key: with the merchant key, the transcript binds the session and both keys
    this.#transcript = createHash("sha256")
      .update(PROTOCOL_LABEL)
      .update(Buffer.from([0]))
      .update(fromHex(this.#offer.merchantPublicKey, PUBLIC_KEY_BYTES, "merchantPublicKey"))
      .update(hello)
      .digest();
    const keys = Buffer.from(hkdfSync("sha256", shared, this.#transcript, `${PROTOCOL_LABEL} keys`, 64));
    const merchantToBuyer = keys.subarray(0, 32);
    const buyerToMerchant = keys.subarray(32, 64);
    this.#sendKey = this.role === "merchant" ? merchantToBuyer : buyerToMerchant;
    this.#receiveKey = this.role === "merchant" ? buyerToMerchant : merchantToBuyer;
  }

  #confirmation(role: number): Buffer {
    return Buffer.concat([Buffer.from([KIND_CONFIRM, role]), this.#transcript ?? Buffer.alloc(32)]);
  }

  #seal(plaintext: Buffer): Buffer {
    if (this.#sendKey === undefined) throw new Error("unreachable: sealing before the handshake");
    const seq = this.#sendSeq++;
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt32BE(SEQ_BYTES + plaintext.length + TAG_BYTES, 0);
    header.writeBigUInt64BE(seq, LENGTH_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#sendKey, nonce(seq), { authTagLength: TAG_BYTES });
    cipher.setAAD(header);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([header, ciphertext, cipher.getAuthTag()]);
  }

  /** Authenticates and decrypts one frame: tampered → `_TAMPERED`; authentic but out of sequence → `_REPLAY`. */
  #open(frame: Buffer): Buffer {
    if (this.#receiveKey === undefined) throw new Error("unreachable: opening before the handshake");
    const seq = frame.readBigUInt64BE(LENGTH_BYTES);
    const decipher = createDecipheriv("aes-256-gcm", this.#receiveKey, nonce(seq), { authTagLength: TAG_BYTES });
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
        {
          cause: error,
        },
      );
    }
    if (seq !== this.#receiveSeq) {
      throw new OfflineChannelError(
        "OFFLINE_CHANNEL_REPLAY",
        `frame ${seq} arrived when ${this.#receiveSeq} was expected (replayed or reordered)`,
        { expected: this.#receiveSeq.toString(), received: seq.toString() },
      );
    }
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

function nonce(seq: bigint): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeBigUInt64BE(seq, 4);
  return iv;
}

function handshakeError(
  reason: string,
  message: string,
  details: Record<string, unknown> = {},
  options?: { cause?: unknown },
): OfflineChannelError {
  return new OfflineChannelError(
    "OFFLINE_CHANNEL_HANDSHAKE",
    `handshake refused: ${message}`,
    { reason, ...details },
    options,
  );
}

function asChannelError(error: unknown, code: OfflineChannelErrorCode): OfflineChannelError {
  if (error instanceof OfflineChannelError) return error;
  return new OfflineChannelError(code, `unexpected failure: ${messageOf(error)}`, {}, { cause: error });
}

function resolveLimits(options: ChannelOptions): Limits {
  const maxFrameBytes = checkMs("maxFrameBytes", options.maxFrameBytes, MAX_FRAME_BYTES);
  if (maxFrameBytes < 64 || maxFrameBytes > MAX_FRAME_BYTES) {
    throw new OfflineChannelError("OFFLINE_CHANNEL_BAD_OPTION", `maxFrameBytes must be in 64..${MAX_FRAME_BYTES}`, {
      option: "maxFrameBytes",
      value: maxFrameBytes,
    });
  }
  return {
    handshakeTimeoutMs: checkMs("handshakeTimeoutMs", options.handshakeTimeoutMs, DEFAULT_HANDSHAKE_TIMEOUT_MS),
    idleTimeoutMs: checkMs("idleTimeoutMs", options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS),
    maxFrameBytes,
  };
}

/** A positive integer option (at most 2^31 - 1, the timer limit), or its default. */
function checkMs(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0 || value > 2_147_483_647) {
    throw new OfflineChannelError("OFFLINE_CHANNEL_BAD_OPTION", `${option} must be a positive integer`, {
      option,
      value,
    });
  }
  return value;
}
