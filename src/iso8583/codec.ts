/**
 * ISO 8583:1987 ASCII codec for the bank-chain wire profile
 * (docs/iso8583-profile.md; its element table is `fields.tsv` beside this file; docs/iso8583.md).
 *
 * A message is `{ mti, fields }`: `fields` maps element numbers 2..128 (never
 * 1 or 65) to the exact wire text of the value; nothing is padded on encode or
 * trimmed on decode. Bitmaps are written in uppercase hex; a secondary bitmap
 * only when an element 66..128 is present.
 *
 * Error conventions (`Iso8583Error`: `category`, `field`, `offset`, `mti`,
 * `partial`; `code` = `ISO8583_` + the category in upper case):
 * - `field`: the element being read or written. Field 0 is the MTI, field 1 the
 *   primary or secondary bitmap, field 65 a set bit 65.
 * - `offset`, decode (byte offset in the input where decoding stopped):
 *   - `truncated`, `field_missing`, `bad_length_prefix`, `field_too_long`: the
 *     start of the unit being read (MTI at 0, primary bitmap at 4, the length
 *     prefix or the fixed value);
 *   - `secondary_bitmap_missing`: 20, where the secondary bitmap should start;
 *   - `length_exceeds_remaining`: the start of the value (just after the prefix);
 *   - `non_numeric`, `bad_character`, `bad_bitmap`: the first offending byte;
 *     for a set bit 65 (field 65) the start of the secondary bitmap, 20;
 *   - `unknown_mti_class`: the offending digit (0 for the version, 1 for the class);
 *   - `trailing_data`: the first trailing byte; `field` is the last element
 *     decoded (1 when the message has no element).
 *   Checks run in the profile's order: MTI, primary bitmap, secondary bitmap,
 *   bit 65, each element ascending (missing, cut short, prefix, maximum,
 *   remaining bytes, content), trailing bytes.
 * - `offset`, encode (where the unit would start in the output): MTI checks
 *   first (shorter than 4 characters: `truncated`, longer: `field_too_long`,
 *   then `non_numeric`, `unknown_mti_class` as on decode); then the element
 *   numbers: one that is not an integer 2..128, or is 65, is `bad_bitmap` with
 *   that field (1 when the key is not an integer) at offset 4; then each element
 *   in ascending order: longer than its maximum `field_too_long`, a fixed value
 *   shorter than its length `truncated` (fixed means exactly `max_length`;
 *   nothing is padded), content outside its class `non_numeric` /
 *   `bad_character`; the offset is where the element (its prefix, if any) would
 *   start in the output.
 * - `mti`: the MTI once its 4 bytes are digits with a valid version and class
 *   (so a gateway can still answer a format error), else `undefined`.
 * - `partial`: the elements decoded before the failure (on encode: `{}`). It may
 *   hold a PAN, so it is not part of `details` (which is safe to log).
 * - Content classes: `n` digits; `z` digits, `=`, `D`; `x+n` `C` or `D` (else
 *   `bad_character`) then digits (else `non_numeric`); `ans` 0x20..0x7E; `b` hex
 *   digits. A `b` value is accepted in either case on decode and kept as the
 *   exact wire text; the encoder writes the profile's form and refuses
 *   lowercase hex (`bad_character`). Bitmaps are accepted in either case.
 * - Empty LLVAR/LLLVAR values are allowed (fixed elements never are empty).
 *
 * `salvage` reads what it can of a message `decode` refused (each element
 * whose extent is known and whose content is valid), for format-error
 * responses; it never throws.
 */
import { BankChainError } from "../errors.js";
import { FIELDS } from "./fields.js";

export interface Iso8583Message {
  readonly mti: string;
  readonly fields: Readonly<Record<number, string>>;
}

export type Iso8583ErrorCategory =
  | "truncated"
  | "bad_bitmap"
  | "length_exceeds_remaining"
  | "non_numeric"
  | "field_missing"
  | "field_too_long"
  | "unknown_mti_class"
  | "secondary_bitmap_missing"
  | "trailing_data"
  | "bad_length_prefix"
  | "bad_character";

/** A message that cannot be decoded or encoded under the profile. */
export class Iso8583Error extends BankChainError {
  readonly category: Iso8583ErrorCategory;
  readonly field: number;
  readonly offset: number;
  readonly mti: string | undefined;
  readonly partial: Record<number, string>;

  constructor(
    category: Iso8583ErrorCategory,
    field: number,
    offset: number,
    mti: string | undefined,
    partial: Record<number, string>,
    message: string,
  ) {
    super(`ISO8583_${category.toUpperCase()}`, `${message} (field ${field}, offset ${offset})`, {
      category,
      field,
      offset,
      mti,
    });
    this.category = category;
    this.field = field;
    this.offset = offset;
    this.mti = mti;
    this.partial = partial;
  }
}

// ---- precomputed tables -------------------------------------------------------

const DIGIT = 1;
const TRACK2 = 2;
const PRINTABLE = 4;
const HEX = 8;
const HEX_UPPER = 16;

/** Character-class bits for each byte value. */
const CLASS = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = DIGIT | TRACK2 | HEX | HEX_UPPER;
CLASS[0x3d] = TRACK2; // '='
for (let c = 0x20; c <= 0x7e; c++) CLASS[c] = (CLASS[c] ?? 0) | PRINTABLE;
CLASS[0x44] = (CLASS[0x44] ?? 0) | TRACK2; // 'D'
for (let c = 0x41; c <= 0x46; c++) CLASS[c] = (CLASS[c] ?? 0) | HEX | HEX_UPPER;
for (let c = 0x61; c <= 0x66; c++) CLASS[c] = (CLASS[c] ?? 0) | HEX;

/** Nibble value of a hex digit byte, 255 for anything else. */
const NIBBLE = new Uint8Array(256).fill(255);
for (let c = 0; c < 10; c++) NIBBLE[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  NIBBLE[0x41 + c] = 10 + c;
  NIBBLE[0x61 + c] = 10 + c;
}
const HEX_OUT = new Uint8Array([
  0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46,
]);

const C_N = 0;
const C_Z = 1;
const C_XN = 2;
const C_ANS = 3;
const C_B = 4;

/** Per element number: content code, prefix digits (0 = fixed), maximum length. */
const CONTENT = new Uint8Array(129);
const PREFIX = new Uint8Array(129);
const MAX = new Uint16Array(129);
for (let n = 2; n <= 128; n++) {
  const spec = FIELDS[n];
  if (spec === undefined) continue;
  CONTENT[n] = { n: C_N, z: C_Z, "x+n": C_XN, ans: C_ANS, b: C_B }[spec.content];
  PREFIX[n] = spec.lengthType === "fixed" ? 0 : spec.lengthType === "LLVAR" ? 2 : 3;
  MAX[n] = spec.maxLength;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Scratch for `decode`: the elements found so far (number, value start, value end). */
const ELEM_N = new Uint8Array(128);
const ELEM_START = new Int32Array(128);
const ELEM_END = new Int32Array(128);

// ---- decode -------------------------------------------------------------------

/** Decodes one message (no length header). Throws `Iso8583Error`. */
export function decode(bytes: Uint8Array): Iso8583Message {
  const buf = asBuffer(bytes);
  const len = buf.length;

  // 1. MTI
  if (len < 4) throw new Iso8583Error("truncated", 0, 0, undefined, {}, "message shorter than the 4-byte MTI");
  for (let i = 0; i < 4; i++) {
    if ((CLASS[buf[i]!]! & DIGIT) === 0) {
      throw new Iso8583Error("non_numeric", 0, i, undefined, {}, "MTI is not 4 digits");
    }
  }
  if (buf[0] !== 0x30) throw new Iso8583Error("unknown_mti_class", 0, 0, undefined, {}, "MTI version is not 0");
  const cls = buf[1]!;
  if (cls < 0x31 || cls > 0x38) {
    throw new Iso8583Error("unknown_mti_class", 0, 1, undefined, {}, "MTI class is not 1 to 8");
  }
  // One native call for the whole message; values are substrings of it.
  const text = buf.toString("latin1", 0, len);
  const mti = text.slice(0, 4);

  // 2. bitmaps, as four 32-bit words (bit 1 = most significant bit of word 0)
  if (len < 20) throw new Iso8583Error("truncated", 1, 4, mti, {}, "message shorter than the primary bitmap");
  const w0 = readWord(buf, 4, mti);
  const w1 = readWord(buf, 12, mti);
  let w2 = 0;
  let w3 = 0;
  let pos = 20;
  if ((w0 & 0x80000000) !== 0) {
    if (len < 36) {
      throw new Iso8583Error("secondary_bitmap_missing", 1, 20, mti, {}, "bit 1 set but no secondary bitmap");
    }
    w2 = readWord(buf, 20, mti);
    w3 = readWord(buf, 28, mti);
    if ((w2 & 0x80000000) !== 0) throw new Iso8583Error("bad_bitmap", 65, 20, mti, {}, "bit 65 is refused");
    pos = 36;
  }

  // 3. elements in ascending order
  let last = 1;
  let k = 0;
  let word = w0 & 0x7fffffff;
  for (let w = 0; w < 4; w++) {
    if (w === 1) word = w1;
    else if (w === 2) word = w2;
    else if (w === 3) word = w3;
    while (word !== 0) {
      const lz = Math.clz32(word);
      word = (word ^ (0x80000000 >>> lz)) >>> 0;
      const n = (w << 5) + lz + 1;
      if (pos >= len) throw new Iso8583Error("field_missing", n, pos, mti, partial(text, k), `element ${n} missing`);
      const max = MAX[n]!;
      const digits = PREFIX[n]!;
      let start: number;
      let end: number;
      if (digits === 0) {
        if (pos + max > len)
          throw new Iso8583Error("truncated", n, pos, mti, partial(text, k), `element ${n} cut short`);
        start = pos;
        end = pos + max;
      } else {
        if (pos + digits > len) {
          throw new Iso8583Error("truncated", n, pos, mti, partial(text, k), `length prefix of element ${n} cut short`);
        }
        let l = 0;
        for (let i = pos; i < pos + digits; i++) {
          const d = buf[i]! - 0x30;
          if (d < 0 || d > 9) {
            throw new Iso8583Error(
              "bad_length_prefix",
              n,
              pos,
              mti,
              partial(text, k),
              `length prefix of element ${n} not digits`,
            );
          }
          l = l * 10 + d;
        }
        if (l > max) {
          throw new Iso8583Error("field_too_long", n, pos, mti, partial(text, k), `element ${n} longer than ${max}`);
        }
        start = pos + digits;
        end = start + l;
        if (end > len) {
          throw new Iso8583Error(
            "length_exceeds_remaining",
            n,
            start,
            mti,
            partial(text, k),
            `element ${n} beyond the end`,
          );
        }
      }
      const bad = checkBytes(buf, start, end, CONTENT[n]!);
      if (bad >= 0) {
        const category = classError(CONTENT[n]!, buf[bad]!, bad === start);
        throw new Iso8583Error(
          category,
          n,
          bad,
          mti,
          partial(text, k),
          `element ${n} has a character outside its class`,
        );
      }
      ELEM_N[k] = n;
      ELEM_START[k] = start;
      ELEM_END[k] = end;
      k++;
      pos = end;
      last = n;
    }
  }

  // 4. trailing bytes
  if (pos < len)
    throw new Iso8583Error("trailing_data", last, pos, mti, partial(text, k), "bytes after the last element");
  // Highest element first: the object's element store is allocated once.
  const fields: Record<number, string> = {};
  for (let i = k - 1; i >= 0; i--) fields[ELEM_N[i]!] = text.slice(ELEM_START[i]!, ELEM_END[i]!);
  return { mti, fields };
}

/** The elements decoded so far, for `Iso8583Error.partial`. */
function partial(text: string, k: number): Record<number, string> {
  const fields: Record<number, string> = {};
  for (let i = 0; i < k; i++) fields[ELEM_N[i]!] = text.slice(ELEM_START[i]!, ELEM_END[i]!);
  return fields;
}

function readWord(buf: Buffer, at: number, mti: string): number {
  let v = 0;
  for (let i = at; i < at + 8; i++) {
    const nib = NIBBLE[buf[i]!]!;
    if (nib === 255) throw new Iso8583Error("bad_bitmap", 1, i, mti, {}, "bitmap is not hex");
    v = (v << 4) | nib;
  }
  return v >>> 0;
}

/** Index of the first byte outside the content class, or -1. */
function checkBytes(buf: Uint8Array, start: number, end: number, content: number): number {
  switch (content) {
    case C_N:
      for (let i = start; i < end; i++) if (buf[i]! - 0x30 > 9 || buf[i]! < 0x30) return i;
      return -1;
    case C_ANS:
      for (let i = start; i < end; i++) if (buf[i]! - 0x20 > 0x5e || buf[i]! < 0x20) return i;
      return -1;
    case C_Z:
      for (let i = start; i < end; i++) if ((CLASS[buf[i]!]! & TRACK2) === 0) return i;
      return -1;
    case C_B:
      for (let i = start; i < end; i++) if ((CLASS[buf[i]!]! & HEX) === 0) return i;
      return -1;
    default: {
      // x+n: 'C' or 'D', then digits
      if (end === start) return -1;
      const sign = buf[start]!;
      if (sign !== 0x43 && sign !== 0x44) return start;
      for (let i = start + 1; i < end; i++) if ((CLASS[buf[i]!]! & DIGIT) === 0) return i;
      return -1;
    }
  }
}

function classError(content: number, _code: number, atSign: boolean): Iso8583ErrorCategory {
  if (content === C_N) return "non_numeric";
  if (content === C_XN) return atSign ? "bad_character" : "non_numeric";
  return "bad_character";
}

// ---- salvage ------------------------------------------------------------------

/** What `salvage` could read of a message that `decode` refused. */
export interface Salvaged {
  /** The MTI when its 4 bytes are digits with a valid version and class (as `Iso8583Error.mti`). */
  readonly mti: string | undefined;
  /** Each element whose extent and content could be read, as its exact wire text. */
  readonly fields: Record<number, string>;
}

/**
 * A best-effort read of a message `decode` refused, so that a format-error
 * response can still echo the elements a host matches it by (DE 7, 11, 32, 37,
 * 41...). Never throws.
 *
 * The MTI is read (kept only when valid), then the primary bitmap (a short or
 * non-hex primary bitmap: no element), the secondary bitmap when bit 1 is set
 * (short or non-hex: elements 2..64 only), then every element in ascending
 * order:
 * - a fixed element whose bytes are all present is stepped over; it is kept
 *   only when its content is valid for its class;
 * - a variable element whose prefix is digits, at most its maximum and within
 *   the remaining bytes is stepped over; it is kept only when its content is
 *   valid;
 * - the read stops at the first element whose extent cannot be known (a fixed
 *   value or a prefix cut short, a bad prefix, a length above the maximum or
 *   beyond the end, a set bit 65).
 * Bytes after the last element are ignored.
 *
 * Within one message each element's extent depends only on the bitmap and the
 * prefixes before it, so a bad character inside a value costs only that
 * element. A bitmap digit or a length digit replaced by another valid one
 * shifts what follows; no reader can tell, and what is kept is what the
 * shifted bytes say (as `Iso8583Error.partial`).
 */
export function salvage(bytes: Uint8Array): Salvaged {
  const fields: Record<number, string> = {};
  const buf = asBuffer(bytes);
  const len = buf.length;
  if (len < 4) return { mti: undefined, fields };
  const text = buf.toString("latin1", 0, len);
  const mti = validMti(buf) ? text.slice(0, 4) : undefined;

  if (len < 20) return { mti, fields };
  const w0 = salvageWord(buf, 4);
  const w1 = salvageWord(buf, 12);
  if (w0 < 0 || w1 < 0) return { mti, fields };
  let w2 = 0;
  let w3 = 0;
  let pos = 20;
  let words = 2;
  if ((w0 & 0x80000000) !== 0) {
    if (len < 36) return { mti, fields };
    w2 = salvageWord(buf, 20);
    w3 = salvageWord(buf, 28);
    // A non-hex secondary bitmap still fills its 16 bytes: elements 2..64 stay where they are.
    words = w2 < 0 || w3 < 0 ? 2 : 4;
    pos = 36;
  }

  for (let w = 0; w < words; w++) {
    let word = w === 0 ? w0 & 0x7fffffff : w === 1 ? w1 : w === 2 ? w2 : w3;
    while (word !== 0) {
      const lz = Math.clz32(word);
      word = (word ^ (0x80000000 >>> lz)) >>> 0;
      const n = (w << 5) + lz + 1;
      if (n === 65) return { mti, fields };
      const max = MAX[n]!;
      const digits = PREFIX[n]!;
      let start = pos;
      let l = max;
      if (digits !== 0) {
        if (pos + digits > len) return { mti, fields };
        l = 0;
        for (let i = pos; i < pos + digits; i++) {
          const d = buf[i]! - 0x30;
          if (d < 0 || d > 9) return { mti, fields };
          l = l * 10 + d;
        }
        if (l > max) return { mti, fields };
        start = pos + digits;
      }
      const end = start + l;
      if (end > len) return { mti, fields };
      if (checkBytes(buf, start, end, CONTENT[n]!) < 0) fields[n] = text.slice(start, end);
      pos = end;
    }
  }
  return { mti, fields };
}

/** Whether the first 4 bytes are digits with version 0 and class 1..8. */
function validMti(buf: Buffer): boolean {
  for (let i = 0; i < 4; i++) if ((CLASS[buf[i]!]! & DIGIT) === 0) return false;
  return buf[0] === 0x30 && buf[1]! >= 0x31 && buf[1]! <= 0x38;
}

/** The 32-bit word of 8 hex digits at `at`, or -1 when one is not a hex digit. */
function salvageWord(buf: Buffer, at: number): number {
  let v = 0;
  for (let i = at; i < at + 8; i++) {
    const nib = NIBBLE[buf[i]!]!;
    if (nib === 255) return -1;
    v = (v << 4) | nib;
  }
  return v >>> 0;
}

// ---- encode -------------------------------------------------------------------

/** The MTI checks shared by encode and `responseMti`. */
function checkMti(mti: string): void {
  if (mti.length < 4) throw new Iso8583Error("truncated", 0, 0, undefined, {}, "MTI shorter than 4 digits");
  if (mti.length > 4) throw new Iso8583Error("field_too_long", 0, 0, undefined, {}, "MTI longer than 4 digits");
  for (let i = 0; i < 4; i++) {
    const c = mti.charCodeAt(i);
    if (c < 0x30 || c > 0x39) throw new Iso8583Error("non_numeric", 0, i, undefined, {}, "MTI is not 4 digits");
  }
  if (mti.charCodeAt(0) !== 0x30)
    throw new Iso8583Error("unknown_mti_class", 0, 0, undefined, {}, "MTI version is not 0");
  const cls = mti.charCodeAt(1);
  if (cls < 0x31 || cls > 0x38) {
    throw new Iso8583Error("unknown_mti_class", 0, 1, undefined, {}, "MTI class is not 1 to 8");
  }
}

/** Element number of a record key, -1 when the key is not a canonical integer. */
function keyNumber(key: string): number {
  const l = key.length;
  if (l === 0 || l > 3) return -1;
  let v = 0;
  for (let i = 0; i < l; i++) {
    const d = key.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9 || (d === 0 && i === 0 && l > 1)) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Index of the first character outside the content class (encode side), or -1. */
function checkChars(value: string, content: number): number {
  const l = value.length;
  switch (content) {
    case C_N:
      for (let i = 0; i < l; i++) {
        const c = value.charCodeAt(i);
        if (c < 0x30 || c > 0x39) return i;
      }
      return -1;
    case C_ANS:
      for (let i = 0; i < l; i++) {
        const c = value.charCodeAt(i);
        if (c < 0x20 || c > 0x7e) return i;
      }
      return -1;
    case C_Z:
      for (let i = 0; i < l; i++) {
        const c = value.charCodeAt(i);
        if (c > 0xff || (CLASS[c]! & TRACK2) === 0) return i;
      }
      return -1;
    case C_B:
      for (let i = 0; i < l; i++) {
        const c = value.charCodeAt(i);
        if (c > 0xff || (CLASS[c]! & HEX_UPPER) === 0) return i;
      }
      return -1;
    default: {
      if (l === 0) return -1;
      const sign = value.charCodeAt(0);
      if (sign !== 0x43 && sign !== 0x44) return 0;
      for (let i = 1; i < l; i++) {
        const c = value.charCodeAt(i);
        if (c < 0x30 || c > 0x39) return i;
      }
      return -1;
    }
  }
}

/** Encodes one message (no length header). Throws `Iso8583Error`. */
export function encode(message: Iso8583Message): Buffer {
  const { mti, fields } = message;
  checkMti(mti);
  const words = new Uint32Array(4);
  for (const key in fields) {
    const n = keyNumber(key);
    if (n < 2 || n > 128 || n === 65) {
      throw new Iso8583Error("bad_bitmap", n < 0 ? 1 : n, 4, mti, {}, `element number "${key}" is not 2..128 or is 65`);
    }
    words[(n - 1) >>> 5] = words[(n - 1) >>> 5]! | (0x80000000 >>> ((n - 1) & 31));
  }
  const secondary = words[2] !== 0 || words[3] !== 0;
  if (secondary) words[0] = words[0]! | 0x80000000;
  const header = secondary ? 36 : 20;

  // pass 1: validate in ascending order, sum the length
  let total = header;
  const values = fields as Readonly<Record<number, string | undefined>>;
  for (let w = 0; w < 4; w++) {
    let word = w === 0 ? words[0]! & 0x7fffffff : words[w]!;
    while (word !== 0) {
      const lz = Math.clz32(word);
      word = (word ^ (0x80000000 >>> lz)) >>> 0;
      const n = (w << 5) + lz + 1;
      const value = values[n];
      if (typeof value !== "string") {
        throw new Iso8583Error("bad_character", n, total, mti, {}, `element ${n} is not a string`);
      }
      const max = MAX[n]!;
      const digits = PREFIX[n]!;
      const l = value.length;
      if (l > max) throw new Iso8583Error("field_too_long", n, total, mti, {}, `element ${n} longer than ${max}`);
      if (digits === 0 && l < max) {
        throw new Iso8583Error("truncated", n, total, mti, {}, `fixed element ${n} shorter than ${max}`);
      }
      const content = CONTENT[n]!;
      const bad = checkChars(value, content);
      if (bad >= 0) {
        const category = content === C_N || (content === C_XN && bad > 0) ? "non_numeric" : "bad_character";
        throw new Iso8583Error(category, n, total, mti, {}, `element ${n} has a character outside its class`);
      }
      total += digits + l;
    }
  }

  // pass 2: write
  const out = Buffer.allocUnsafe(total);
  out.write(mti, 0, 4, "latin1");
  let pos = 4;
  const bitmapWords = secondary ? 4 : 2;
  for (let w = 0; w < bitmapWords; w++) {
    const v = words[w]!;
    for (let s = 28; s >= 0; s -= 4) out[pos++] = HEX_OUT[(v >>> s) & 15]!;
  }
  for (let w = 0; w < 4; w++) {
    let word = w === 0 ? words[0]! & 0x7fffffff : words[w]!;
    while (word !== 0) {
      const lz = Math.clz32(word);
      word = (word ^ (0x80000000 >>> lz)) >>> 0;
      const n = (w << 5) + lz + 1;
      const value = values[n]!;
      const l = value.length;
      const digits = PREFIX[n]!;
      if (digits === 3) {
        out[pos++] = 0x30 + ((l / 100) | 0);
        out[pos++] = 0x30 + (((l / 10) | 0) % 10);
        out[pos++] = 0x30 + (l % 10);
      } else if (digits === 2) {
        out[pos++] = 0x30 + ((l / 10) | 0);
        out[pos++] = 0x30 + (l % 10);
      }
      if (l > 0) pos += out.write(value, pos, l, "latin1");
    }
  }
  return out;
}

// ---- MTI helpers --------------------------------------------------------------

/**
 * The MTI of the response to a request or advice (function digit 0 or 2):
 * third digit + 1; a repeat origin (4th digit 1, 3, 5) becomes its first-time
 * form, as jPOS does: 0100→0110, 0200→0210, 0401→0410, 0420→0430, 0800→0810.
 * Any other MTI (a response, a notification, an invalid MTI) throws
 * `Iso8583Error` `unknown_mti_class` at offset 2 (or the MTI checks' error).
 */
export function responseMti(mti: string): string {
  checkMti(mti);
  const fn = mti.charCodeAt(2) - 0x30;
  if (fn !== 0 && fn !== 2) {
    throw new Iso8583Error("unknown_mti_class", 0, 2, mti, {}, `MTI ${mti} is not a request or an advice`);
  }
  const origin = mti.charCodeAt(3) - 0x30;
  const responseOrigin = origin <= 5 ? origin - (origin % 2) : origin;
  return `${mti.slice(0, 2)}${fn + 1}${responseOrigin}`;
}
