/**
 * The npm `iso_8583` package (v2.6.7, zemuldo/iso_8583) as an independent
 * ISO 8583 implementation for known-answer tests: it builds the requests sent
 * to the gateway and parses the gateway's responses, so neither side of an
 * exchange goes through this project's codec or framing.
 *
 * Configuration for the 1987 ASCII profile (as in bench/lib/iso8583-codec.ts):
 * the element formats are read straight from `src/iso8583/fields.tsv` (the
 * package's own defaults differ, e.g. DE 120 `n`, DE 64 8 binary bytes), the
 * bitmap is declared `an` (ASCII hex) and `b` elements `ans` (else the package
 * packs them as raw binary). Caveats of the package, and what is done about them:
 * - it always packs a 32-character bitmap with bit 1 set (a zero secondary
 *   bitmap when no element 66..128 is present), which the profile allows;
 * - its ASCII-bitmap unpacking (`bitmapEncoding: "utf8"`) always reads 32
 *   characters, so it cannot read a message with a primary bitmap only (16
 *   characters, bit 1 clear), the form the gateway answers in when no element
 *   above 64 is present. Such a message is handed to the package's binary-bitmap
 *   unpacking instead, with the 16 hex characters written as the 8 bytes they
 *   spell (`unpack` below); nothing else of the message is touched;
 * - it checks content only on pack and loosely (its `ans` lacks `#`, `@`, …),
 *   never on unpack: a malformed request must be built by hand (`patch`).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";

export interface ReferenceFormat {
  ContentType: string;
  Label: string;
  LenType: string;
  MaxLen: number;
}

interface Unpacked {
  readonly json: Record<string, string>;
  readonly remSlice: Buffer;
}
interface ReferenceInstance {
  getRawMessage(): Buffer | { error: string };
  getBufferMessage(): Buffer | { error: string };
  getResMTI(): string | { error: string } | undefined;
  getLenBuffer(length: number): Buffer;
  unpack_0_127(
    buffer: Buffer,
    json: Record<string, string>,
    config: Record<string, unknown>,
  ): Unpacked | { error: string };
}
type ReferenceClass = new (
  message?: Record<string, string>,
  formats?: Record<string, ReferenceFormat>,
) => ReferenceInstance;

const Reference = createRequire(import.meta.url)("iso_8583") as ReferenceClass;

/** The profile's element table, read from fields.tsv, in the package's custom-format shape. */
export const REFERENCE_FORMATS: Readonly<Record<string, ReferenceFormat>> = (() => {
  const formats: Record<string, ReferenceFormat> = {
    "1": { ContentType: "an", Label: "Bitmap", LenType: "fixed", MaxLen: 32 },
  };
  const tsv = readFileSync(new URL("../../src/iso8583/fields.tsv", import.meta.url), "utf8");
  for (const line of tsv.split("\n").slice(1)) {
    if (line.trim() === "") continue;
    const [number, name, content, lengthType, maxLength] = line.split("\t");
    formats[number!] = {
      ContentType: content === "b" ? "ans" : content!,
      Label: name!,
      LenType: lengthType!.toLowerCase(),
      MaxLen: Number(maxLength),
    };
  }
  return formats;
})();

/** A message as the package takes it: "0" the MTI, then element number → value. */
export type ReferenceMessage = Readonly<Record<string, string>>;

function instance(message?: ReferenceMessage): ReferenceInstance {
  return new Reference(message === undefined ? undefined : { ...message }, { ...REFERENCE_FORMATS });
}

/** The message's bytes as the package packs them (no length header); throws when it refuses. */
export function pack(message: ReferenceMessage): Buffer {
  const raw = instance(message).getRawMessage();
  if (!Buffer.isBuffer(raw)) throw new Error(`iso_8583 refuses to pack ${message["0"]}: ${raw.error}`);
  return raw;
}

/** The package's 2-byte binary length header for a message of `length` bytes. */
export function lengthHeader(length: number): Buffer {
  return instance().getLenBuffer(length);
}

/** The response MTI the package gives for a request MTI (it knows none for 08xx). */
export function referenceResponseMti(mti: string): string | undefined {
  const answer = instance({ "0": mti }).getResMTI();
  return typeof answer === "string" ? answer : undefined;
}

/**
 * The bytes of `message` as the package packs them, with the value of fixed
 * element `field` replaced by `value` (same length): how a request the package
 * refuses to build (a letter in an `n` element) is made from one it builds.
 */
export function patch(message: ReferenceMessage, field: number, value: string): Buffer {
  const original = message[String(field)];
  if (REFERENCE_FORMATS[String(field)]?.LenType !== "fixed" || original?.length !== value.length) {
    throw new Error(`cannot patch DE ${field}`);
  }
  const bytes = pack(message);
  // The element starts where the message packed without it first differs, after the 4 + 32 bytes of MTI and bitmap.
  const { [String(field)]: _dropped, ...without } = message;
  const shorter = pack(without);
  let at = 36;
  while (at < shorter.length && bytes[at] === shorter[at]) at += 1;
  if (bytes.subarray(at, at + original.length).toString("latin1") !== original) {
    throw new Error(`DE ${field} not found where expected`);
  }
  const out = Buffer.from(bytes);
  out.write(value, at, "latin1");
  return out;
}

export interface Parsed {
  readonly mti: string;
  /** Element number → value, as the package read them. */
  readonly fields: Readonly<Record<number, string>>;
  /** Characters of bitmap on the wire: 16 (primary only) or 32. */
  readonly bitmapChars: number;
  /** Bytes left after the last element the bitmap names (0 for a well-formed message). */
  readonly trailing: number;
}

/** Parses `bytes` (no length header) with the package; throws when it cannot. */
export function unpack(bytes: Buffer): Parsed {
  const secondary = (Number.parseInt(bytes.subarray(4, 5).toString("latin1"), 16) & 0x8) !== 0;
  let input = bytes;
  let config: Record<string, unknown> = { lenHeader: false, bitmapEncoding: "utf8" };
  if (!secondary) {
    // See the caveats above: the primary bitmap's 16 hex characters as its 8 bytes.
    const bitmap = Buffer.from(bytes.subarray(4, 20).toString("latin1"), "hex");
    input = Buffer.concat([bytes.subarray(0, 4), bitmap, bytes.subarray(20)]);
    config = { lenHeader: false };
  }
  const result = instance().unpack_0_127(input, {}, config);
  if ("error" in result) throw new Error(`iso_8583 cannot unpack: ${result.error}`);
  const fields: Record<number, string> = {};
  for (const [key, value] of Object.entries(result.json)) if (key !== "0") fields[Number(key)] = value;
  return { mti: result.json["0"]!, fields, bitmapChars: secondary ? 32 : 16, trailing: result.remSlice.length };
}

/**
 * One TCP connection to the gateway with binary2 framing (2-byte big-endian
 * length), written here rather than taken from the project: one exchange at a time.
 */
export class ReferenceClient {
  readonly #socket: net.Socket;
  #buffer = Buffer.alloc(0);
  readonly #frames: Buffer[] = [];
  #wake: (() => void) | undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      while (this.#buffer.length >= 2 && this.#buffer.length >= 2 + this.#buffer.readUInt16BE(0)) {
        const length = this.#buffer.readUInt16BE(0);
        this.#frames.push(this.#buffer.subarray(2, 2 + length));
        this.#buffer = this.#buffer.subarray(2 + length);
      }
      this.#wake?.();
    });
    socket.on("error", () => undefined);
  }

  static async connect(port: number): Promise<ReferenceClient> {
    const socket = net.connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new ReferenceClient(socket);
  }

  /** Sends `message` (no length header) framed by the package's header and returns the next frame received. */
  async exchange(message: Buffer, timeoutMs = 15_000): Promise<Buffer> {
    if (this.#frames.length > 0) throw new Error("a response arrived that nobody asked for");
    this.#socket.write(Buffer.concat([lengthHeader(message.length), message]));
    const deadline = Date.now() + timeoutMs;
    while (this.#frames.length === 0) {
      if (Date.now() > deadline) throw new Error("no response");
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 50);
      });
    }
    return this.#frames.shift()!;
  }

  close(): void {
    this.#socket.destroy();
  }
}
