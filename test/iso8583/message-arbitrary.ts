/**
 * fast-check arbitraries for valid messages under the profile's element table,
 * and the byte extents of each element in an encoded message (computed here
 * from the table, not by the codec), for the salvage and MAC properties.
 */
import fc from "fast-check";

import type { Iso8583Message } from "../../src/iso8583/codec.js";
import { FIELDS, type FieldSpec } from "../../src/iso8583/fields.js";

const digit = fc.constantFrom(..."0123456789");
const units = {
  n: digit,
  z: fc.constantFrom(..."0123456789=D"),
  ans: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  b: fc.constantFrom(..."0123456789ABCDEF"),
};

/** A valid value of the element `spec`. */
export function valueOf(spec: FieldSpec): fc.Arbitrary<string> {
  const fixed = spec.lengthType === "fixed";
  const minLength = fixed ? spec.maxLength : 0;
  if (spec.content === "x+n") {
    return fc
      .tuple(
        fc.constantFrom("C", "D"),
        fc.string({ unit: digit, minLength: minLength - 1, maxLength: spec.maxLength - 1 }),
      )
      .map(([sign, digits]) => sign + digits);
  }
  const unit = units[spec.content];
  if (fixed) return fc.string({ unit, minLength, maxLength: spec.maxLength });
  return fc.nat({ max: spec.maxLength }).chain((length) => fc.string({ unit, minLength: length, maxLength: length }));
}

const model: Record<string, fc.Arbitrary<string>> = {};
for (const spec of FIELDS) if (spec !== undefined && spec.number !== 65) model[String(spec.number)] = valueOf(spec);

/** A valid message with up to `maxElements` elements drawn from `pool` (default: every element but 65). */
export function messageArb(
  options: { pool?: readonly number[]; required?: readonly number[]; maxElements?: number } = {},
): fc.Arbitrary<Iso8583Message> {
  const required = options.required ?? [];
  const pool = (options.pool ?? Object.keys(model).map(Number)).filter((n) => !required.includes(n));
  const fields = fc.subarray([...pool], { maxLength: options.maxElements ?? 12 }).chain((picked) =>
    fc.record(Object.fromEntries([...required, ...picked].map((n) => [String(n), model[String(n)]!])), {
      noNullPrototype: true,
    }),
  ) as fc.Arbitrary<Record<number, string>>;
  const mti = fc
    .tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 99 }))
    .map(([cls, rest]) => `0${cls}${String(rest).padStart(2, "0")}`);
  return fc.record({ mti, fields });
}

/** Where an element sits in the encoded message: its length prefix (if any) and its value. */
export interface Extent {
  readonly n: number;
  readonly prefixStart: number;
  readonly start: number;
  readonly end: number;
}

/** The extents of the elements of `message` once encoded, from the element table. */
export function extents(message: Iso8583Message): Extent[] {
  const numbers = Object.keys(message.fields)
    .map(Number)
    .sort((a, b) => a - b);
  let pos = numbers.some((n) => n > 64) ? 36 : 20;
  const out: Extent[] = [];
  for (const n of numbers) {
    const spec = FIELDS[n]!;
    const digits = spec.lengthType === "fixed" ? 0 : spec.lengthType === "LLVAR" ? 2 : 3;
    const length = message.fields[n]!.length;
    out.push({ n, prefixStart: pos, start: pos + digits, end: pos + digits + length });
    pos += digits + length;
  }
  return out;
}
