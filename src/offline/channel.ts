import { createConnection, createServer, type AddressInfo, type Server, type Socket } from "node:net";

import { systemClock, type Clock } from "../chain/clock.js";
import {
  checkPositive,
  Connection,
  resolveLimits,
  type ChannelOptions,
  type Limits,
  type SecureChannel,
} from "./channel-connection.js";
import { asChannelError, OfflineChannelError } from "./channel-errors.js";
import { createOffer, decodeOffer, encodeOffer, type SessionOffer } from "./session.js";

/**
 * The encrypted, authenticated transport of an offline payment session
 * (protocol in `docs/offline-session.md`): the merchant's one-time session and
 * the buyer's dialling.
 *
 * A merchant opens a one-time `MerchantSession` and shows `offerText()`; the
 * buyer calls `connectToMerchant(offerText)`. Both get a `SecureChannel`
 * (`channel-connection.ts`) that carries JSON objects; the cryptography is
 * `channel-crypto.ts`, the errors `channel-errors.ts`.
 *
 * Messages go through `JSON.stringify`/`JSON.parse`: encoding `bigint` amounts
 * (e.g. as decimal strings) and validating received messages (e.g. with zod)
 * is the caller's job.
 */

const DEFAULT_TTL_MS = 5 * 60_000;

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
  /** Clock for the offer's expiry; default the system clock. */
  readonly clock?: Clock;
}

/** Options of `connectToMerchant`. */
export interface ConnectOptions extends ChannelOptions {
  /** Clock used to check the offer's expiry; default the system clock. */
  readonly clock?: Clock;
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
    const ttlMs = checkPositive("ttlMs", options.ttlMs, DEFAULT_TTL_MS);
    const host = options.host ?? "127.0.0.1";
    const clock = options.clock ?? systemClock;
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
      const started = clock.now();
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
  const clock = options.clock ?? systemClock;
  const decoded = decodeOffer(typeof offer === "string" ? offer : encodeOffer(offer), { now: clock.now() });
  const socket = createConnection({ host: decoded.host, port: decoded.port });
  const connection = Connection.buyer(socket, decoded, limits);
  await connection.ready;
  return connection;
}
