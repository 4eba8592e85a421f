/**
 * The card gateway's load: cards, the 0200 each connection sends, and the
 * connections themselves (each sends its next message as soon as the previous
 * one is answered). The in-process and the devnet runs of `bench/iso8583.ts`
 * share it, so both send the same messages.
 *
 * Everything a 0200 carries is built in `financialRequest`: adding an element
 * the gateway comes to require (a registered PAN, DE 14, DE 32/41/42 checked
 * against the card store, a MAC) is a change in that one function and in
 * `benchCard`.
 */
import net from "node:net";

import { decode, encode, type Iso8583Message } from "../../src/iso8583/codec.js";
import { frame, FrameReader } from "../../src/iso8583/framing.js";
import { encodeWalletData } from "../../src/iso8583/wallet-data.js";

/** One card of the load: a PAN bound to a wallet (a profile on the ledger), used by one connection. */
export interface BenchCard {
  readonly pan: string;
  /** DE 14, YYMM. */
  readonly expiry: string;
  readonly wallet: string;
  /** DE 41: the terminal this card is used at. */
  readonly terminal: string;
}

/** The acquirer and merchant every bench message comes from. */
export const BENCH_ACQUIRER = "123456";
export const BENCH_MERCHANT = "BENCHMERCHANT01";

/** Amount of every bench purchase, in minor units (the ledger's token units, 1:1). */
export const BENCH_AMOUNT = 100n;

/** A Luhn-valid 16-digit PAN from `n` (issuer prefix 4111 11). */
export function benchPan(n: number): string {
  const body = `411111${String(n).padStart(9, "0")}`;
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let digit = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return `${body}${(10 - (sum % 10)) % 10}`;
}

export function benchCard(n: number, wallet: string): BenchCard {
  return { pan: benchPan(n), expiry: "4912", wallet, terminal: `TERM${String(n).padStart(4, "0")}` };
}

/** A 0200 purchase of `BENCH_AMOUNT` with `card`; `trace` makes it unique (DE 11 and DE 37). */
export function financialRequest(card: BenchCard, trace: number): Iso8583Message {
  const stan = String(trace % 1_000_000).padStart(6, "0");
  return {
    mti: "0200",
    fields: {
      2: card.pan,
      3: "000000",
      4: BENCH_AMOUNT.toString().padStart(12, "0"),
      7: "1128120000",
      11: stan,
      12: "120000",
      13: "1128",
      14: card.expiry,
      32: BENCH_ACQUIRER,
      37: `BENCH${stan}0`,
      41: card.terminal,
      42: BENCH_MERCHANT,
      48: encodeWalletData({ address: card.wallet, amount: BENCH_AMOUNT }),
      49: "840",
    },
  };
}

export interface LoadOptions {
  readonly port: number;
  readonly host?: string;
  /** One card per connection. */
  readonly cards: readonly BenchCard[];
  readonly messages: number;
  /** First trace number; runs against the same gateway must not overlap. */
  readonly firstTrace?: number;
}

export interface LoadResult {
  readonly messages: number;
  readonly approved: number;
  readonly connections: number;
  readonly seconds: number;
  readonly perSec: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  /** Responses other than 00, as `STAN …: code` lines. */
  readonly problems: readonly string[];
}

/** Runs `messages` 0200s over `cards.length` connections, each one message at a time. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const problems: string[] = [];
  let trace = options.firstTrace ?? 1;
  let sent = 0;
  let approved = 0;
  async function client(card: BenchCard): Promise<void> {
    const socket = net.connect(options.port, options.host ?? "127.0.0.1");
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    socket.setNoDelay(true);
    const reader = new FrameReader("binary2");
    let waiting: ((message: Iso8583Message) => void) | undefined;
    let failed: ((error: Error) => void) | undefined;
    socket.on("data", (chunk: Buffer) => {
      for (const bytes of reader.push(chunk)) waiting?.(decode(bytes));
    });
    socket.on("close", () => failed?.(new Error("the gateway closed the connection")));
    socket.on("error", (error) => failed?.(error));
    try {
      while (sent < options.messages) {
        sent += 1;
        const message = financialRequest(card, trace++);
        const started = performance.now();
        const response = await new Promise<Iso8583Message>((resolve, reject) => {
          waiting = resolve;
          failed = reject;
          socket.write(frame(encode(message), "binary2"));
        });
        latencies.push(performance.now() - started);
        if (response.fields[39] === "00") approved += 1;
        else problems.push(`STAN ${message.fields[11]}: ${response.fields[39]}`);
      }
    } finally {
      failed = undefined;
      socket.destroy();
    }
  }
  const started = performance.now();
  await Promise.all(options.cards.map((card) => client(card)));
  const seconds = (performance.now() - started) / 1_000;
  latencies.sort((x, y) => x - y);
  const percentile = (p: number) =>
    latencies.length === 0
      ? 0
      : Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]! * 10) / 10;
  return {
    messages: options.messages,
    approved,
    connections: options.cards.length,
    seconds: Math.round(seconds * 100) / 100,
    perSec: Math.round(approved / seconds),
    p50Ms: percentile(0.5),
    p95Ms: percentile(0.95),
    p99Ms: percentile(0.99),
    problems,
  };
}
