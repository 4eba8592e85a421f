import { BankChainError, messageOf } from "../errors.js";

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

/** What is wrong with a public key a peer sent (Wycheproof's classes of invalid points). */
export type PublicKeyDefect =
  /** Neither 33 (compressed) nor 65 (uncompressed) bytes. */
  | "wrong-length"
  /** The point at infinity: SEC1's single `0x00` byte, or all zero bytes. */
  | "infinity"
  /** A first byte that is not `0x02`/`0x03` (compressed) or `0x04` (uncompressed): e.g. hybrid `0x06`/`0x07`. */
  | "bad-prefix"
  /** A well-formed uncompressed key: the protocol takes compressed keys only. */
  | "not-compressed"
  /** The x-coordinate is not below the field prime p. */
  | "x-out-of-range"
  /** No point of secp256k1 has this x-coordinate (x³ + 7 is not a square mod p). */
  | "not-on-curve";

/**
 * A peer's public key that is not a compressed secp256k1 point: a failed
 * handshake (`OFFLINE_CHANNEL_HANDSHAKE`, `details.reason` `bad-key`), with
 * `details.defect` naming what is wrong and `details.length` the key's size.
 */
export class OfflineChannelKeyError extends OfflineChannelError {
  constructor(defect: PublicKeyDefect, message: string, length: number) {
    super("OFFLINE_CHANNEL_HANDSHAKE", `handshake refused: ${message}`, { reason: "bad-key", defect, length });
  }

  /** What is wrong with the key. */
  get defect(): PublicKeyDefect {
    return this.details["defect"] as PublicKeyDefect;
  }
}

/** An `OFFLINE_CHANNEL_HANDSHAKE` error with `details.reason`. */
export function handshakeError(
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

/** `error` if it is a channel error, else wrapped with `code`. */
export function asChannelError(error: unknown, code: OfflineChannelErrorCode): OfflineChannelError {
  if (error instanceof OfflineChannelError) return error;
  return new OfflineChannelError(code, `unexpected failure: ${messageOf(error)}`, {}, { cause: error });
}
