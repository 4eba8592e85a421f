/** Placeholder until the codec branch lands: HMAC-SHA-256 truncated to 8 bytes over the bytes before the MAC. */
import { createHmac, timingSafeEqual } from "node:crypto";

import { encode, type Iso8583Message } from "./codec.js";

const MAC_HEX = 16;

function macElement(message: Iso8583Message): 64 | 128 {
  return Object.keys(message.fields).some((key) => Number(key) > 64) ? 128 : 64;
}

function mac(key: Uint8Array, bytes: Uint8Array): string {
  return createHmac("sha256", key).update(bytes).digest().subarray(0, 8).toString("hex").toUpperCase();
}

export function macOf(key: Uint8Array, message: Iso8583Message): string {
  const element = macElement(message);
  const bytes = encode({ mti: message.mti, fields: { ...message.fields, [element]: "0".repeat(MAC_HEX) } });
  return mac(key, bytes.subarray(0, bytes.length - MAC_HEX));
}

export function withMac(key: Uint8Array, message: Iso8583Message): Iso8583Message {
  const element = macElement(message);
  return { mti: message.mti, fields: { ...message.fields, [element]: macOf(key, message) } };
}

export function verifyMac(key: Uint8Array, bytes: Uint8Array, message: Iso8583Message): "ok" | "missing" | "bad" {
  const element = macElement(message);
  const sent = message.fields[element];
  if (sent === undefined) return "missing";
  const last = Math.max(...Object.keys(message.fields).map(Number));
  if (last !== element || sent.length !== MAC_HEX) return "bad";
  const expected = Buffer.from(mac(key, bytes.subarray(0, bytes.length - MAC_HEX)), "latin1");
  return timingSafeEqual(expected, Buffer.from(sent.toUpperCase(), "latin1")) ? "ok" : "bad";
}
