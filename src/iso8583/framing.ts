/**
 * Message framing on the gateway's TCP connections (docs/iso8583-profile.md,
 * "Framing on TCP"): each ISO 8583 message is preceded by its length, either as a 2-byte
 * big-endian binary number (`binary2`, the common host-to-host framing and the
 * default) or as 4 ASCII decimal digits (`ascii4`).
 *
 * A zero length is a keep-alive and carries no message. A header that cannot
 * be a length (`ascii4` with a non-digit) or a length above the maximum (the
 * framing's limit, the largest valid message `MAX_MESSAGE_BYTES`, and any lower
 * limit configured) leaves the stream without a way to find the next message:
 * the reader reports it as soon as the header has arrived, before any of the
 * body, and the connection is closed.
 */
import { BankChainError } from "../errors.js";
import { MAX_MESSAGE_BYTES } from "./fields.js";

export type Framing = "binary2" | "ascii4";

export const FRAMINGS: readonly Framing[] = ["binary2", "ascii4"];

/** The largest message each framing can carry. */
export const FRAMING_LIMIT: Readonly<Record<Framing, number>> = { binary2: 0xffff, ascii4: 9_999 };

/** The stream cannot be framed any more (bad header, message too large). */
export class FramingError extends BankChainError {}

/** The bytes of `message` with the framing's length header in front. */
export function frame(message: Uint8Array, framing: Framing): Buffer {
  const length = message.length;
  if (length > FRAMING_LIMIT[framing]) {
    throw new FramingError("ISO8583_FRAME_TOO_LARGE", `a ${length}-byte message does not fit ${framing} framing`, {
      length,
      framing,
    });
  }
  const out = Buffer.allocUnsafe(length + headerLength(framing));
  if (framing === "binary2") out.writeUInt16BE(length, 0);
  else out.write(String(length).padStart(4, "0"), 0, "latin1");
  out.set(message, headerLength(framing));
  return out;
}

function headerLength(framing: Framing): number {
  return framing === "binary2" ? 2 : 4;
}

/**
 * Splits a byte stream into messages. Feed it each chunk as it arrives;
 * `push` returns the complete messages in order and keeps the rest.
 */
export class FrameReader {
  readonly #framing: Framing;
  readonly #maxLength: number;
  #buffer: Buffer = Buffer.alloc(0);

  /**
   * @param maxLength the largest message accepted; never more than the
   *   framing's limit or `MAX_MESSAGE_BYTES` (36,487), which is the default.
   */
  constructor(framing: Framing, maxLength: number = MAX_MESSAGE_BYTES) {
    this.#framing = framing;
    this.#maxLength = Math.min(maxLength, FRAMING_LIMIT[framing], MAX_MESSAGE_BYTES);
  }

  /** The largest message this reader accepts. */
  get maxLength(): number {
    return this.#maxLength;
  }

  /** Whether part of a message (or of its header) is waiting for more bytes. */
  get pending(): boolean {
    return this.#buffer.length > 0;
  }

  /**
   * The messages completed by `chunk`.
   *
   * @throws FramingError (`ISO8583_BAD_FRAME_HEADER`, `ISO8583_FRAME_TOO_LARGE`)
   */
  push(chunk: Buffer): Buffer[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const messages: Buffer[] = [];
    const header = headerLength(this.#framing);
    let at = 0;
    while (this.#buffer.length - at >= header) {
      const length = this.#readLength(at);
      if (this.#buffer.length - at - header < length) break;
      if (length > 0) messages.push(this.#buffer.subarray(at + header, at + header + length));
      at += header + length;
    }
    this.#buffer = at === this.#buffer.length ? Buffer.alloc(0) : this.#buffer.subarray(at);
    return messages;
  }

  #readLength(at: number): number {
    let length: number;
    if (this.#framing === "binary2") {
      length = this.#buffer.readUInt16BE(at);
    } else {
      length = 0;
      for (let i = at; i < at + 4; i += 1) {
        const c = this.#buffer[i]!;
        if (c < 0x30 || c > 0x39) {
          throw new FramingError(
            "ISO8583_BAD_FRAME_HEADER",
            `the 4-digit length header holds a non-digit byte 0x${c.toString(16).padStart(2, "0")}`,
            { byte: c },
          );
        }
        length = length * 10 + (c - 0x30);
      }
    }
    if (length > this.#maxLength) {
      throw new FramingError(
        "ISO8583_FRAME_TOO_LARGE",
        `a frame announces ${length} bytes, more than the ${this.#maxLength} allowed`,
        { length, max: this.#maxLength },
      );
    }
    return length;
  }
}
