/**
 * The data-element table of the ISO 8583:1987 ASCII profile (lengths as jPOS's
 * `ISO87APackager`). The table is data, not code: `fields.tsv` beside this file
 * (a byte-identical copy of the shared profile's table) is read and validated
 * once, at module load; a malformed table stops the import with a
 * `FieldTableError` naming the line.
 */
import { readFileSync } from "node:fs";

import { BankChainError } from "../errors.js";

export type ContentClass = "n" | "z" | "x+n" | "ans" | "b";
export type LengthType = "fixed" | "LLVAR" | "LLLVAR";

export interface FieldSpec {
  readonly number: number;
  readonly name: string;
  readonly content: ContentClass;
  readonly lengthType: LengthType;
  /** Fixed: the exact length; LLVAR/LLLVAR: the largest length allowed. In characters. */
  readonly maxLength: number;
}

/** `fields.tsv` is missing or malformed. */
export class FieldTableError extends BankChainError {}

const CONTENT_CLASSES: ReadonlySet<string> = new Set(["n", "z", "x+n", "ans", "b"]);
const PREFIX_LIMIT: Readonly<Record<LengthType, number>> = { fixed: Number.MAX_SAFE_INTEGER, LLVAR: 99, LLLVAR: 999 };
const HEADER = "field\tname\tcontent\tlength_type\tmax_length";

function fail(line: number, message: string): never {
  throw new FieldTableError("ISO8583_FIELD_TABLE", `fields.tsv line ${line}: ${message}`, { line });
}

/** Parses and validates the table text; exported for tests. */
export function parseFieldTable(text: string): readonly (FieldSpec | undefined)[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  if (lines[0] !== HEADER) fail(1, `header must be "${HEADER.replaceAll("\t", "\\t")}"`);
  const table: (FieldSpec | undefined)[] = new Array<FieldSpec | undefined>(129).fill(undefined);
  for (let i = 1; i < lines.length; i++) {
    const lineNo = i + 1;
    const cells = (lines[i] ?? "").split("\t");
    if (cells.length !== 5) fail(lineNo, `expected 5 tab-separated cells, got ${cells.length}`);
    const [numberText = "", name = "", content = "", lengthType = "", maxText = ""] = cells;
    if (!/^[0-9]{1,3}$/.test(numberText)) fail(lineNo, `bad field number "${numberText}"`);
    const number = Number(numberText);
    if (number < 2 || number > 128) fail(lineNo, `field number ${number} outside 2..128`);
    if (table[number] !== undefined) fail(lineNo, `field ${number} listed twice`);
    if (number !== i + 1) fail(lineNo, `field ${number} out of order (expected ${i + 1})`);
    if (name.trim() === "") fail(lineNo, "empty name");
    if (!CONTENT_CLASSES.has(content)) fail(lineNo, `unknown content class "${content}"`);
    if (lengthType !== "fixed" && lengthType !== "LLVAR" && lengthType !== "LLLVAR") {
      fail(lineNo, `unknown length type "${lengthType}"`);
    }
    if (!/^[1-9][0-9]{0,3}$/.test(maxText)) fail(lineNo, `bad max_length "${maxText}"`);
    const maxLength = Number(maxText);
    if (maxLength > PREFIX_LIMIT[lengthType]) fail(lineNo, `max_length ${maxLength} too large for ${lengthType}`);
    if (content === "b" && maxLength % 2 !== 0) fail(lineNo, "binary element with an odd number of hex digits");
    table[number] = Object.freeze({ number, name, content: content as ContentClass, lengthType, maxLength });
  }
  for (let n = 2; n <= 128; n++) if (table[n] === undefined) fail(lines.length, `field ${n} missing`);
  return Object.freeze(table);
}

/**
 * The element table, indexed by element number: `FIELDS[n]` for n in 2..128
 * (index 0 and 1, the MTI and the bitmap, are `undefined`; 65 is listed but
 * the codec refuses it).
 */
export const FIELDS: readonly (FieldSpec | undefined)[] = parseFieldTable(
  readFileSync(new URL("./fields.tsv", import.meta.url), "utf8"),
);

/**
 * The largest message the profile can carry, in bytes: the MTI (4), both
 * bitmaps (16 + 16) and every element 2..128 but 65 (which the codec refuses)
 * at its maximum length with its length prefix. From the table: 36,487.
 */
export const MAX_MESSAGE_BYTES: number = maxMessageBytes(FIELDS);

/** The largest message `table` allows (see `MAX_MESSAGE_BYTES`); exported for tests. */
export function maxMessageBytes(table: readonly (FieldSpec | undefined)[]): number {
  let total = 4 + 16 + 16;
  for (const spec of table) {
    if (spec === undefined || spec.number === 65) continue;
    total += (spec.lengthType === "fixed" ? 0 : spec.lengthType === "LLVAR" ? 2 : 3) + spec.maxLength;
  }
  return total;
}

/** The spec of element `n` (2..128); throws `FieldTableError` for any other number. */
export function fieldSpec(n: number): FieldSpec {
  const spec = FIELDS[n];
  if (spec === undefined) {
    throw new FieldTableError("ISO8583_UNKNOWN_FIELD", `no data element ${n} (elements are 2..128)`, { field: n });
  }
  return spec;
}
