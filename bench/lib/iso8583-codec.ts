/**
 * Throughput of bank-chain's ISO 8583 codec (`src/iso8583/codec.ts`) beside the
 * npm `iso_8583` package (v2.6.7) on the same messages.
 *
 * The reference is configured for the 1987 ASCII profile: custom formats built
 * from our `fields.tsv` (its own defaults differ, e.g. DE 120 `n`, DE 64 8
 * binary bytes), the bitmap declared `an` (ASCII hex) for packing, and
 * `getIsoJSON(buffer, { lenHeader: false, bitmapEncoding: "utf8" })` for
 * unpacking. Where the two differ on the wire:
 * - the reference always packs and expects a 32-character bitmap with bit 1 set
 *   (a zero secondary bitmap when no element 66..128 is present), where our
 *   encoder writes the secondary bitmap only when needed. Both decoders are
 *   therefore timed on the reference's wire form (which our decoder accepts);
 *   the encoders on the same message objects;
 * - `b` elements (52, 64, 96, 128) are declared `ans` to the reference, which
 *   otherwise packs them as raw binary, not ASCII hex;
 * - the reference expands DE 127 into sub-fields, so the set does not use it;
 * - the reference checks content only on pack and loosely (its `ans` lacks
 *   `#`, `@`, …), never on unpack.
 * `verifyReference()` checks, before timing, that both decoders give the same
 * field values for every message, and that the two encoders' outputs differ
 * only in the bitmap form.
 */
import { createRequire } from "node:module";

import { decode, encode, type Iso8583Message } from "../../src/iso8583/codec.js";
import { FIELDS } from "../../src/iso8583/fields.js";
import { encodeWalletData } from "../../src/iso8583/wallet-data.js";

interface ReferenceFormat {
  ContentType: string;
  Label: string;
  LenType: string;
  MaxLen: number;
}
interface ReferenceInstance {
  getRawMessage(): Buffer | { error: string };
  getIsoJSON(buffer: Buffer, config: Record<string, unknown>): Record<string, string> & { error?: string };
}
type ReferenceClass = new (
  message?: Record<string, string> | undefined,
  formats?: Record<string, ReferenceFormat>,
) => ReferenceInstance;

const Reference = createRequire(import.meta.url)("iso_8583") as ReferenceClass;
const UNPACK_CONFIG = { lenHeader: false, bitmapEncoding: "utf8" };

/** Our element table in the reference's custom-format shape. */
function referenceFormats(): Record<string, ReferenceFormat> {
  const formats: Record<string, ReferenceFormat> = {
    "1": { ContentType: "an", Label: "Bitmap", LenType: "fixed", MaxLen: 32 },
  };
  for (const spec of FIELDS) {
    if (spec === undefined) continue;
    formats[String(spec.number)] = {
      ContentType: spec.content === "b" ? "ans" : spec.content,
      Label: spec.name,
      LenType: spec.lengthType.toLowerCase(),
      MaxLen: spec.maxLength,
    };
  }
  return formats;
}

/** A realistic set: authorisations, financial requests, reversals, network management. */
export function benchMessages(): Iso8583Message[] {
  const messages: Iso8583Message[] = [];
  for (let i = 0; i < 16; i++) {
    const stan = String(100000 + i * 7919).slice(-6);
    const amount = String(1500 + i * 1234567).padStart(12, "0");
    const address = `0x${(i * 0x1f3a5 + 0xabcdef).toString(16).padStart(40, "0")}`;
    const wallet = encodeWalletData({ address, amount: BigInt(amount) * 10n ** 16n, asset: "EURB", chainId: 31337n });
    const kind = i % 4;
    if (kind === 3) {
      messages.push({
        mti: "0800",
        fields: { 7: "1129000512", 11: stan, 70: i % 8 === 3 ? "301" : "001" },
      });
      continue;
    }
    const fields: Record<number, string> = {
      2: `47617390010101${String(i).padStart(2, "0")}`,
      3: kind === 1 ? "200000" : "000000",
      4: amount,
      7: "1129000512",
      11: stan,
      12: "000512",
      13: "1129",
      22: "051",
      37: `RRN${String(i).padStart(9, "0")}`,
      41: "TERM0001",
      42: "MERCHANT0000042",
      43: "BANK CHAIN TEST MERCHANT     FRANKFURTDE",
      48: wallet,
      49: "978",
    };
    if (kind === 2) fields[90] = `0200${stan}1129000512000000000000000000000000`.slice(0, 42);
    if (i % 3 === 0) fields[102] = `DE8937040044053201300${i}`;
    if (i % 5 === 0) fields[120] = wallet;
    messages.push({ mti: kind === 0 ? "0100" : kind === 1 ? "0200" : "0400", fields });
  }
  return messages;
}

function referenceMessage(message: Iso8583Message): Record<string, string> {
  const data: Record<string, string> = { "0": message.mti };
  for (const [key, value] of Object.entries(message.fields)) data[key] = value;
  return data;
}

function referencePack(message: Iso8583Message, formats: Record<string, ReferenceFormat>): Buffer {
  const raw = new Reference(referenceMessage(message), formats).getRawMessage();
  if (!Buffer.isBuffer(raw)) throw new Error(`iso_8583 cannot pack ${message.mti}: ${raw.error}`);
  return raw;
}

/** The differences found between the reference and this codec; throws if a field value differs. */
export function verifyReference(messages: readonly Iso8583Message[]): string[] {
  const formats = referenceFormats();
  const notes: string[] = [];
  messages.forEach((message, index) => {
    const refWire = referencePack(message, formats);
    const ours = encode(message);
    if (!refWire.equals(ours)) {
      const sameAfterBitmap = refWire.subarray(36).equals(ours.subarray(ours.length - (refWire.length - 36)));
      if (!sameAfterBitmap) throw new Error(`message ${index}: the encoders differ beyond the bitmap`);
      notes.push(`message ${index} (${message.mti}): reference packs a 32-character bitmap, ours 16`);
    }
    const refJson = new Reference(undefined, formats).getIsoJSON(refWire, UNPACK_CONFIG);
    if (refJson.error !== undefined) throw new Error(`message ${index}: iso_8583 cannot unpack: ${refJson.error}`);
    const decoded = decode(refWire);
    const refFields = Object.fromEntries(Object.entries(refJson).filter(([key]) => key !== "0"));
    if (JSON.stringify(refFields) !== JSON.stringify(decoded.fields) || refJson["0"] !== decoded.mti) {
      throw new Error(`message ${index}: the decoders disagree`);
    }
    if (JSON.stringify(decoded.fields) !== JSON.stringify(message.fields)) {
      throw new Error(`message ${index}: decode(wire) differs from the message`);
    }
  });
  return notes;
}

/** Operations per second of `op` over all `count` messages, median of 3 runs of `runMs`. */
function measure(op: () => void, count: number, runMs: number): number {
  const warmUntil = performance.now() + Math.min(300, runMs);
  while (performance.now() < warmUntil) op();
  const rates: number[] = [];
  for (let run = 0; run < 3; run++) {
    let rounds = 0;
    const start = performance.now();
    let now = start;
    while (now - start < runMs) {
      op();
      rounds++;
      now = performance.now();
    }
    rates.push((rounds * count * 1000) / (now - start));
  }
  rates.sort((a, b) => a - b);
  return Math.round(rates[1]!);
}

export interface CodecBenchResult {
  readonly codecDecodePerSec: number;
  readonly codecEncodePerSec: number;
  readonly referenceDecodePerSec: number;
  readonly referenceEncodePerSec: number;
  readonly decodeRatio: number;
  readonly encodeRatio: number;
  readonly messages: number;
  /** Where the reference's output differs from ours (bitmap form). */
  readonly notes: readonly string[];
}

/** Runs the comparison; about 4 × 3 × `runMs` of timing plus warm-up. */
export function benchCodec(options: { readonly runMs?: number } = {}): CodecBenchResult {
  const runMs = options.runMs ?? 1000;
  const messages = benchMessages();
  const notes = verifyReference(messages);
  const formats = referenceFormats();
  const wire = messages.map((message) => referencePack(message, formats));
  const reference = new Reference(undefined, formats);
  let sink = 0;

  const codecDecodePerSec = measure(
    () => {
      for (const bytes of wire) sink += decode(bytes).mti.length;
    },
    wire.length,
    runMs,
  );
  const referenceDecodePerSec = measure(
    () => {
      for (const bytes of wire) sink += Object.keys(reference.getIsoJSON(bytes, UNPACK_CONFIG)).length;
    },
    wire.length,
    runMs,
  );
  const codecEncodePerSec = measure(
    () => {
      for (const message of messages) sink += encode(message).length;
    },
    messages.length,
    runMs,
  );
  const referenceMessages = messages.map(referenceMessage);
  const referenceEncodePerSec = measure(
    () => {
      for (const message of referenceMessages) {
        const raw = new Reference(message, formats).getRawMessage();
        sink += Buffer.isBuffer(raw) ? raw.length : 0;
      }
    },
    messages.length,
    runMs,
  );
  if (sink < 0) throw new Error("unreachable");
  return {
    codecDecodePerSec,
    codecEncodePerSec,
    referenceDecodePerSec,
    referenceEncodePerSec,
    decodeRatio: Math.round((codecDecodePerSec / referenceDecodePerSec) * 10) / 10,
    encodeRatio: Math.round((codecEncodePerSec / referenceEncodePerSec) * 10) / 10,
    messages: messages.length,
    notes,
  };
}
