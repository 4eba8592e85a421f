import { expect } from "chai";

import { decode, encode, type Iso8583Message } from "../../src/iso8583/codec.js";
import { FIELDS, MAX_MESSAGE_BYTES, maxMessageBytes, parseFieldTable } from "../../src/iso8583/fields.js";
import { frame, FrameReader, FRAMING_LIMIT, FramingError } from "../../src/iso8583/framing.js";

/** The largest valid message: every element but 65 at its maximum length. */
function largestMessage(): Iso8583Message {
  const fields: Record<number, string> = {};
  for (const spec of FIELDS) {
    if (spec === undefined || spec.number === 65) continue;
    fields[spec.number] =
      (spec.content === "x+n" ? "C" : "") + "0".repeat(spec.maxLength - (spec.content === "x+n" ? 1 : 0));
  }
  return { mti: "0200", fields };
}

function framingError(action: () => unknown): FramingError {
  try {
    action();
  } catch (error) {
    if (error instanceof FramingError) return error;
    throw error;
  }
  expect.fail("no FramingError");
}

describe("iso8583: framing", function () {
  it("MAX_MESSAGE_BYTES is 36,487, the length of the largest message the codec encodes", function () {
    expect(MAX_MESSAGE_BYTES).to.equal(36_487);
    const wire = encode(largestMessage());
    expect(wire.length).to.equal(MAX_MESSAGE_BYTES);
    expect(decode(wire)).to.deep.equal(largestMessage());
  });

  it("MAX_MESSAGE_BYTES follows the table (a longer element makes it longer)", function () {
    const header = "field\tname\tcontent\tlength_type\tmax_length\n";
    const rows = (de48: number): string =>
      header +
      Array.from({ length: 127 }, (_, i) => {
        const n = i + 2;
        return n === 48 ? `48\tX\tans\tLLLVAR\t${de48}` : `${n}\tX\tn\tfixed\t1`;
      }).join("\n");
    // 4 + 32 + 125 one-byte fixed elements (65 not counted) + DE 48's prefix and value
    expect(maxMessageBytes(parseFieldTable(rows(10)))).to.equal(4 + 32 + 125 + 3 + 10);
    expect(maxMessageBytes(parseFieldTable(rows(999)))).to.equal(4 + 32 + 125 + 3 + 999);
  });

  it("test_F8_aHeaderAboveTheLargestValidMessageThrowsBeforeAnyBodyArrives", function () {
    const reader = new FrameReader("binary2");
    const header = Buffer.alloc(2);
    header.writeUInt16BE(MAX_MESSAGE_BYTES + 1);
    const error = framingError(() => reader.push(header));
    expect(error.code).to.equal("ISO8583_FRAME_TOO_LARGE");
    expect(error.details).to.deep.equal({ length: MAX_MESSAGE_BYTES + 1, max: MAX_MESSAGE_BYTES });
    header.writeUInt16BE(0xffff);
    expect(framingError(() => new FrameReader("binary2").push(header)).code).to.equal("ISO8583_FRAME_TOO_LARGE");
  });

  it("test_F8_aHeaderOfExactlyTheLargestValidMessageWaitsForItsBody", function () {
    const reader = new FrameReader("binary2");
    expect(reader.maxLength).to.equal(MAX_MESSAGE_BYTES);
    const framed = frame(encode(largestMessage()), "binary2");
    expect(reader.push(framed.subarray(0, 2))).to.deep.equal([]);
    expect(reader.pending).to.equal(true);
    expect(reader.push(framed.subarray(2, 10_000))).to.deep.equal([]);
    const [message, ...rest] = reader.push(framed.subarray(10_000));
    expect(rest).to.deep.equal([]);
    expect(decode(message!)).to.deep.equal(largestMessage());
    expect(reader.pending).to.equal(false);
  });

  it("throws as soon as the second header byte arrives", function () {
    const reader = new FrameReader("binary2");
    const header = Buffer.alloc(2);
    header.writeUInt16BE(40_000);
    expect(reader.push(header.subarray(0, 1))).to.deep.equal([]);
    expect(framingError(() => reader.push(header.subarray(1))).code).to.equal("ISO8583_FRAME_TOO_LARGE");
  });

  it("never accepts more than the framing or the profile allows, and honours a lower maximum", function () {
    expect(new FrameReader("binary2", 65_535).maxLength).to.equal(MAX_MESSAGE_BYTES);
    expect(new FrameReader("binary2", 1_000).maxLength).to.equal(1_000);
    expect(new FrameReader("ascii4").maxLength).to.equal(FRAMING_LIMIT.ascii4);
    const reader = new FrameReader("binary2", 1_000);
    expect(framingError(() => reader.push(Buffer.from([0x03, 0xe9]))).details).to.deep.equal({
      length: 1_001,
      max: 1_000,
    });
  });

  it("splits a stream into messages, skipping keep-alives, and refuses a non-digit ascii4 header", function () {
    const a = Buffer.from("0800", "latin1");
    const b = Buffer.from("08100000000000000000", "latin1");
    for (const framing of ["binary2", "ascii4"] as const) {
      const reader = new FrameReader(framing);
      const keepAlive = framing === "binary2" ? Buffer.from([0, 0]) : Buffer.from("0000", "latin1");
      const stream = Buffer.concat([frame(a, framing), keepAlive, frame(b, framing)]);
      const out = [...reader.push(stream.subarray(0, 3)), ...reader.push(stream.subarray(3))];
      expect(out.map((m) => m.toString("latin1"))).to.deep.equal([a.toString("latin1"), b.toString("latin1")]);
      expect(reader.pending).to.equal(false);
    }
    expect(framingError(() => new FrameReader("ascii4").push(Buffer.from("00x1", "latin1"))).code).to.equal(
      "ISO8583_BAD_FRAME_HEADER",
    );
  });
});
