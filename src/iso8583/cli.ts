/**
 * `bank-chain iso8583 …`: the ISO 8583 codec on the command line, one message
 * per line, streaming; no chain needed.
 *
 *   iso8583 decode   stdin: one hex-encoded message per line
 *                    stdout: {"ok":true,"mti":"0200","fields":{"2":"…",…}} per line
 *                    (keys ascending, MTI and bitmaps excluded, values the wire text)
 *   iso8583 encode   stdin: one JSON object {"mti":"…","fields":{"2":"…",…}} per line
 *                    stdout: {"ok":true,"hex":"…"} per line (uppercase hex)
 *
 * A line that fails prints {"ok":false,"error":{"category":…,"field":…,"offset":…}}
 * (the codec's `Iso8583Error`, see codec.ts for the conventions) and the
 * command goes on with the next line. Two categories belong to the CLI, not to
 * the wire profile, so they are never confused with a message error:
 *   - decode, a line that is not hex (odd length, or a non-hex character):
 *     {"category":"bad_hex","offset":<index of the first bad character in the
 *     trimmed line, or its length when the length is odd>}
 *   - encode, a line that is not JSON: {"category":"bad_json"}; JSON of the
 *     wrong shape (not an object with a string `mti` and an object `fields` of
 *     string values, or extra keys): {"category":"bad_shape","path":"<where>"}
 * Blank lines are skipped; surrounding whitespace is ignored. The exit code is
 * 0 once every line was handled, whatever the per-line results.
 */
import { createInterface } from "node:readline";

import { z } from "zod";

import type { Program } from "../chain/command.js";
import { zodIssue } from "../chain/zod-issue.js";

import { decode, encode, Iso8583Error } from "./codec.js";

const MessageJson = z
  .object({
    mti: z.string(),
    fields: z.record(z.string(), z.string()),
  })
  .strict();

type LineResult = Record<string, unknown>;

function codecError(error: unknown): LineResult {
  if (error instanceof Iso8583Error) {
    return { ok: false, error: { category: error.category, field: error.field, offset: error.offset } };
  }
  throw error;
}

/** Index of the first character that breaks the hex encoding, or -1. */
function badHexAt(line: string): number {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i) | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return i;
  }
  return line.length % 2 === 0 ? -1 : line.length;
}

export function decodeLine(line: string): LineResult {
  const bad = badHexAt(line);
  if (bad >= 0) return { ok: false, error: { category: "bad_hex", offset: bad } };
  try {
    const message = decode(Buffer.from(line, "hex"));
    return { ok: true, mti: message.mti, fields: message.fields };
  } catch (error) {
    return codecError(error);
  }
}

export function encodeLine(line: string): LineResult {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, error: { category: "bad_json" } };
  }
  const parsed = MessageJson.safeParse(json);
  if (!parsed.success) {
    const issue = zodIssue(parsed.error, "");
    const path = issue.code === "REQUEST_UNKNOWN_FIELD" || issue.code === "REQUEST_INVALID_FIELD" ? issue.field : "";
    return { ok: false, error: { category: "bad_shape", path } };
  }
  try {
    return { ok: true, hex: encode(parsed.data).toString("hex").toUpperCase() };
  } catch (error) {
    return codecError(error);
  }
}

async function eachLine(handle: (line: string) => LineResult): Promise<void> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const raw of lines) {
    const line = raw.trim();
    if (line === "") continue;
    const text = `${JSON.stringify(handle(line))}\n`;
    if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once("drain", resolve));
  }
}

export function addIso8583Commands(program: Program): void {
  const iso = program.command("iso8583").description("decode and encode ISO 8583 messages (1987, ASCII), one per line");
  iso
    .command("decode")
    .description("read hex-encoded messages from stdin, one per line; write one JSON line each")
    .action(async () => eachLine(decodeLine));
  iso
    .command("encode")
    .description('read {"mti","fields"} JSON lines from stdin; write {"ok":true,"hex":…} lines')
    .action(async () => eachLine(encodeLine));
}
