/**
 * Known-answer test of the card gateway against an independent ISO 8583
 * implementation, the npm `iso_8583` package (see iso8583-reference.ts for how
 * it is configured and where it falls short): every request below is built by
 * that package from the literal fields of the table, sent over real TCP
 * (binary2 framing) to a gateway on bank A's AccountLedger, and every response
 * is parsed by that package, never by this project's codec. The table is the
 * known answer: the response MTI (which the package's own request → response
 * mapping must agree with), DE 39, exactly which elements come back (each
 * echoed one with the request's value), DE 38 on approvals only (6
 * characters; a repeat carries the first one), the bitmap form (a secondary
 * bitmap only when an element above 64 is present), and, after each
 * scenario, every profile's token and held amounts on the ledger.
 *
 * Accounts, PANs, STANs and RRNs are literals too: each scenario has its own
 * cards and STAN range, so no two exchanges of the file share an identity.
 */
import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";

import { gatewayPerTest, profile, type GatewayWorld } from "./gateway-helpers.js";
import { pack, patch, ReferenceClient, referenceResponseMti, unpack } from "./iso8583-reference.js";

// ---------------------------------------------------------------------------
// The known answers

/** Acquirer A's terminal: DE 7, 12, 13, 32, 41, 42 and 49 of every message it sends. */
const AT_A = {
  7: "1205043000",
  12: "043000",
  13: "1205",
  32: "123456",
  41: "TERM0001",
  42: "MERCHANT0000001",
  49: "840",
} as const;
/** Acquirer B: the same terminal and merchant ids, date and time, under another acquirer id. */
const AT_B = {
  7: "1205043000",
  12: "043000",
  13: "1205",
  32: "654321",
  41: "TERM0001",
  42: "MERCHANT0000001",
  49: "840",
} as const;

/** Elements of a card response: the request's 2, 3, 4, 7, 11, 12, 13, 32, 37, 41, 42, 49, and DE 39 (DE 38 on approvals). */
const CARD_APPROVED = [2, 3, 4, 7, 11, 12, 13, 32, 37, 38, 39, 41, 42, 49] as const;
const CARD_REFUSED = [2, 3, 4, 7, 11, 12, 13, 32, 37, 39, 41, 42, 49] as const;
/** A reversal response also echoes DE 90; never DE 38. */
const REVERSAL_ANSWERED = [2, 3, 4, 7, 11, 12, 13, 32, 37, 39, 41, 42, 49, 90] as const;
const ECHO_ANSWERED = [7, 11, 39, 70] as const;

/** The wallet data of the profile (docs/iso8583-profile.md): tag 01 the address, tag 02 the amount, each `TT LLL value`. */
function wd(wallet: string, amount: string): string {
  return `01042${wallet}02${String(amount.length).padStart(3, "0")}${amount}`;
}

const W21 = "0x4b41540000000000000000000000000000000021";
const W22 = "0x4b41540000000000000000000000000000000022";
const W23 = "0x4b41540000000000000000000000000000000023";
const W31 = "0x4b41540000000000000000000000000000000031";
const W41 = "0x4b41540000000000000000000000000000000041";
const W42 = "0x4b41540000000000000000000000000000000042";
const W43 = "0x4b41540000000000000000000000000000000043";
const W51 = "0x4b41540000000000000000000000000000000051";
const W61 = "0x4b41540000000000000000000000000000000061";
const W71 = "0x4b41540000000000000000000000000000000071";
const W72 = "0x4b41540000000000000000000000000000000072";
const W81 = "0x4b41540000000000000000000000000000000081";
const W91 = "0x4b41540000000000000000000000000000000091";

interface Card {
  readonly pan: string;
  /** YYMM. */
  readonly expiry: string;
  readonly wallet: string;
  /** Token amount credited when the profile is opened. */
  readonly tokens: bigint;
  /** Per-transaction limit (0: none). */
  readonly limit: bigint;
}

interface Answer {
  readonly mti: string;
  readonly de39: string;
  /** Exactly the elements of the response (38 and 39 included); every other one echoes the request. */
  readonly elements: readonly number[];
  /** DE 38: a new authorisation code, or the one answered to an earlier exchange. */
  readonly de38?: "new" | { readonly as: string };
  /** Elements the response may carry or not; when it does, with the request's value. */
  readonly mayEcho?: readonly number[];
}

interface Exchange {
  readonly id: string;
  readonly what: string;
  /** The acquirer's connection it is sent on (default A). */
  readonly via?: "B";
  readonly mti: string;
  readonly fields: Readonly<Record<number, string>>;
  /** Sent with this element's value replaced on the wire (the package refuses to build it). */
  readonly malformed?: { readonly field: number; readonly value: string };
  readonly answer: Answer;
}

interface Scenario {
  readonly title: string;
  readonly cards: readonly Card[];
  readonly exchanges: readonly Exchange[];
  /** Token and held amounts of each profile once the exchanges are done. */
  readonly ledger: Readonly<Record<string, { readonly token: bigint; readonly held: bigint }>>;
}

const approved = (mti: string): Answer => ({ mti, de39: "00", elements: CARD_APPROVED, de38: "new" });
const repeated = (mti: string, as: string): Answer => ({ mti, de39: "00", elements: CARD_APPROVED, de38: { as } });
const refused = (mti: string, de39: string): Answer => ({ mti, de39, elements: CARD_REFUSED });
const reversed = (mti: string, de39: string): Answer => ({ mti, de39, elements: REVERSAL_ANSWERED });

const SCENARIOS: readonly Scenario[] = [
  {
    title: "1. network management: 0800 echo, sign-on and sign-off are answered 0810 00",
    cards: [],
    exchanges: [
      {
        id: "1.1",
        what: "echo test",
        mti: "0800",
        fields: { 7: "1205043000", 11: "000101", 70: "301" },
        answer: { mti: "0810", de39: "00", elements: ECHO_ANSWERED },
      },
      {
        id: "1.2",
        what: "sign-on",
        mti: "0800",
        fields: { 7: "1205043000", 11: "000102", 70: "001" },
        answer: { mti: "0810", de39: "00", elements: ECHO_ANSWERED },
      },
      {
        id: "1.3",
        what: "sign-off",
        mti: "0800",
        fields: { 7: "1205043000", 11: "000103", 70: "002" },
        answer: { mti: "0810", de39: "00", elements: ECHO_ANSWERED },
      },
    ],
    ledger: {},
  },
  {
    title: "2. authorisations (0100): approved, repeated, and declined 61, 51, 14, 54, 13, 12",
    cards: [
      { pan: "4000001400000014", expiry: "3012", wallet: W21, tokens: 10_000n, limit: 5_000n },
      { pan: "4000001400000022", expiry: "3012", wallet: W22, tokens: 1_000n, limit: 0n },
      { pan: "4000001400000030", expiry: "2401", wallet: W23, tokens: 1_000n, limit: 0n },
    ],
    exchanges: [
      {
        id: "2.1",
        what: "hold of 25.00",
        mti: "0100",
        fields: {
          ...AT_A,
          2: "4000001400000014",
          3: "000000",
          4: "000000002500",
          11: "000201",
          37: "KAT000000201",
          48: wd(W21, "2500"),
        },
        answer: approved("0110"),
      },
      {
        id: "2.2",
        what: "0101 repeat of 2.1: the first answer, held once",
        mti: "0101",
        fields: {
          ...AT_A,
          2: "4000001400000014",
          3: "000000",
          4: "000000002500",
          11: "000201",
          37: "KAT000000201",
          48: wd(W21, "2500"),
        },
        answer: repeated("0110", "2.1"),
      },
      {
        id: "2.3",
        what: "60.00 above the 50.00 per-transaction limit",
        mti: "0100",
        fields: {
          ...AT_A,
          2: "4000001400000014",
          3: "000000",
          4: "000000006000",
          11: "000202",
          37: "KAT000000202",
          48: wd(W21, "6000"),
        },
        answer: refused("0110", "61"),
      },
      {
        id: "2.4",
        what: "15.00 on a card with 10.00",
        mti: "0100",
        fields: {
          ...AT_A,
          2: "4000001400000022",
          3: "000000",
          4: "000000001500",
          11: "000203",
          37: "KAT000000203",
          48: wd(W22, "1500"),
        },
        answer: refused("0110", "51"),
      },
      {
        id: "2.5",
        what: "a Luhn-valid PAN on nobody's file",
        mti: "0100",
        fields: {
          ...AT_A,
          2: "4000001400000048",
          3: "000000",
          4: "000000000100",
          11: "000204",
          37: "KAT000000204",
          48: wd(W22, "100"),
        },
        answer: refused("0110", "14"),
      },
      {
        id: "2.6",
        what: "a Luhn-invalid PAN",
        mti: "0100",
        fields: {
          ...AT_A,
          2: "4000001400000015",
          3: "000000",
          4: "000000000100",
          11: "000205",
          37: "KAT000000205",
          48: wd(W21, "100"),
        },
        answer: refused("0110", "14"),
      },
      {
        id: "2.7",
        what: "a card that expired in January 2024",
        mti: "0100",
        fields: {
          ...AT_A,
          2: "4000001400000030",
          3: "000000",
          4: "000000000100",
          11: "000206",
          37: "KAT000000206",
          48: wd(W23, "100"),
        },
        answer: refused("0110", "54"),
      },
      {
        id: "2.8",
        what: "DE 4 10.00 but wallet data 1.00",
        mti: "0100",
        fields: {
          ...AT_A,
          2: "4000001400000014",
          3: "000000",
          4: "000000001000",
          11: "000207",
          37: "KAT000000207",
          48: wd(W21, "100"),
        },
        answer: refused("0110", "13"),
      },
      {
        id: "2.9",
        what: "hold of 3.00 with DE 14 the card's expiry (DE 14 is not echoed)",
        mti: "0100",
        fields: {
          ...AT_A,
          2: "4000001400000014",
          3: "000000",
          4: "000000000300",
          11: "000208",
          14: "3012",
          37: "KAT000000208",
          48: wd(W21, "300"),
        },
        answer: approved("0110"),
      },
      {
        id: "2.10",
        what: "DE 14 other than the card's expiry",
        mti: "0100",
        fields: {
          ...AT_A,
          2: "4000001400000014",
          3: "000000",
          4: "000000000300",
          11: "000209",
          14: "2912",
          37: "KAT000000209",
          48: wd(W21, "300"),
        },
        answer: refused("0110", "54"),
      },
      {
        id: "2.11",
        what: "the card of W21 naming W22's wallet",
        mti: "0100",
        fields: {
          ...AT_A,
          2: "4000001400000014",
          3: "000000",
          4: "000000000100",
          11: "000210",
          37: "KAT000000210",
          48: wd(W22, "100"),
        },
        answer: refused("0110", "14"),
      },
      {
        id: "2.12",
        what: "DE 49 978 (EUR) on a USD token",
        mti: "0100",
        fields: {
          ...AT_A,
          2: "4000001400000014",
          3: "000000",
          4: "000000000100",
          11: "000211",
          37: "KAT000000211",
          48: wd(W21, "100"),
          49: "978",
        },
        answer: refused("0110", "13"),
      },
      {
        id: "2.13",
        what: "a refund (processing 200000) is not authorised with 0100",
        mti: "0100",
        fields: {
          ...AT_A,
          2: "4000001400000014",
          3: "200000",
          4: "000000000100",
          11: "000212",
          37: "KAT000000212",
          48: wd(W21, "100"),
        },
        answer: refused("0110", "12"),
      },
    ],
    ledger: {
      [W21]: { token: 10_000n, held: 2_800n },
      [W22]: { token: 1_000n, held: 0n },
      [W23]: { token: 1_000n, held: 0n },
    },
  },
  {
    title: "3. debits (0200), repeats, retransmission with a new DE 7, completion of a 0100 by DE 90",
    cards: [{ pan: "4000001400000055", expiry: "3012", wallet: W31, tokens: 10_000n, limit: 0n }],
    exchanges: [
      {
        id: "3.1",
        what: "debit of 15.00",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000055",
          3: "000000",
          4: "000000001500",
          11: "000301",
          37: "KAT000000301",
          48: wd(W31, "1500"),
        },
        answer: approved("0210"),
      },
      {
        id: "3.2",
        what: "0201 repeat of 3.1: the first DE 38, debited once",
        mti: "0201",
        fields: {
          ...AT_A,
          2: "4000001400000055",
          3: "000000",
          4: "000000001500",
          11: "000301",
          37: "KAT000000301",
          48: wd(W31, "1500"),
        },
        answer: repeated("0210", "3.1"),
      },
      {
        id: "3.3",
        what: "3.1 retransmitted with a new DE 7: the first answer, debited once",
        mti: "0200",
        fields: {
          ...AT_A,
          7: "1205043005",
          2: "4000001400000055",
          3: "000000",
          4: "000000001500",
          11: "000301",
          37: "KAT000000301",
          48: wd(W31, "1500"),
        },
        answer: repeated("0210", "3.1"),
      },
      {
        id: "3.4",
        what: "3.1's identity with another amount",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000055",
          3: "000000",
          4: "000000001600",
          11: "000301",
          37: "KAT000000301",
          48: wd(W31, "1600"),
        },
        answer: refused("0210", "94"),
      },
      {
        id: "3.5",
        what: "hold of 30.00",
        mti: "0100",
        fields: {
          ...AT_A,
          2: "4000001400000055",
          3: "000000",
          4: "000000003000",
          11: "000302",
          37: "KAT000000302",
          48: wd(W31, "3000"),
        },
        answer: approved("0110"),
      },
      {
        id: "3.6",
        what: "completion of 3.5 named by DE 90 (DE 90 is not echoed on 0210)",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000055",
          3: "000000",
          4: "000000003000",
          11: "000303",
          37: "KAT000000303",
          48: wd(W31, "3000"),
          90: "010000030212050430000000012345600000000000",
        },
        answer: approved("0210"),
      },
      {
        id: "3.7",
        what: "0201 repeat of the completion 3.6",
        mti: "0201",
        fields: {
          ...AT_A,
          2: "4000001400000055",
          3: "000000",
          4: "000000003000",
          11: "000303",
          37: "KAT000000303",
          48: wd(W31, "3000"),
          90: "010000030212050430000000012345600000000000",
        },
        answer: repeated("0210", "3.6"),
      },
      {
        id: "3.8",
        what: "cash (processing 010000) of 5.00",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000055",
          3: "010000",
          4: "000000000500",
          11: "000304",
          37: "KAT000000304",
          48: wd(W31, "500"),
        },
        answer: approved("0210"),
      },
      {
        id: "3.9",
        what: "processing code 300000 (balance inquiry) is not supported",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000055",
          3: "300000",
          4: "000000000100",
          11: "000305",
          37: "KAT000000305",
          48: wd(W31, "100"),
        },
        answer: refused("0210", "12"),
      },
      {
        id: "3.10",
        what: "completion naming a 0100 never seen",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000055",
          3: "000000",
          4: "000000000100",
          11: "000306",
          37: "KAT000000306",
          48: wd(W31, "100"),
          90: "010000039912050430000000012345600000000000",
        },
        answer: refused("0210", "25"),
      },
      {
        id: "3.11",
        what: "hold of 8.00",
        mti: "0100",
        fields: {
          ...AT_A,
          2: "4000001400000055",
          3: "000000",
          4: "000000000800",
          11: "000307",
          37: "KAT000000307",
          48: wd(W31, "800"),
        },
        answer: approved("0110"),
      },
      {
        id: "3.12",
        what: "completion of 3.11 named by its DE 37 at the same terminal (no DE 90)",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000055",
          3: "000000",
          4: "000000000800",
          11: "000308",
          37: "KAT000000307",
          48: wd(W31, "800"),
        },
        answer: approved("0210"),
      },
    ],
    ledger: { [W31]: { token: 4_200n, held: 0n } },
  },
  {
    title: "4. refunds (processing 200000) of a sale named by DE 90 or DE 37, never above what is left of it",
    cards: [{ pan: "4000001400000063", expiry: "3012", wallet: W41, tokens: 10_000n, limit: 0n }],
    exchanges: [
      {
        id: "4.1",
        what: "sale of 40.00",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000063",
          3: "000000",
          4: "000000004000",
          11: "000401",
          37: "KAT000000401",
          48: wd(W41, "4000"),
        },
        answer: approved("0210"),
      },
      {
        id: "4.2",
        what: "refund of 10.00 naming 4.1 by DE 90",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000063",
          3: "200000",
          4: "000000001000",
          11: "000402",
          37: "KAT000000402",
          48: wd(W41, "1000"),
          90: "020000040112050430000000012345600000000000",
        },
        answer: approved("0210"),
      },
      {
        id: "4.3",
        what: "refund of 35.00, above the 30.00 left",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000063",
          3: "200000",
          4: "000000003500",
          11: "000403",
          37: "KAT000000403",
          48: wd(W41, "3500"),
          90: "020000040112050430000000012345600000000000",
        },
        answer: refused("0210", "13"),
      },
      {
        id: "4.4",
        what: "refund of 25.00 naming 4.1 by its DE 37",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000063",
          3: "200000",
          4: "000000002500",
          11: "000404",
          37: "KAT000000401",
          48: wd(W41, "2500"),
        },
        answer: approved("0210"),
      },
      {
        id: "4.5",
        what: "refund of 5.01, above the 5.00 left",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000063",
          3: "200000",
          4: "000000000501",
          11: "000405",
          37: "KAT000000405",
          48: wd(W41, "501"),
          90: "020000040112050430000000012345600000000000",
        },
        answer: refused("0210", "13"),
      },
      {
        id: "4.6",
        what: "refund of the last 5.00",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000063",
          3: "200000",
          4: "000000000500",
          11: "000406",
          37: "KAT000000406",
          48: wd(W41, "500"),
          90: "020000040112050430000000012345600000000000",
        },
        answer: approved("0210"),
      },
      {
        id: "4.7",
        what: "refund of 0.01 of a sale refunded in full",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000063",
          3: "200000",
          4: "000000000001",
          11: "000407",
          37: "KAT000000407",
          48: wd(W41, "1"),
          90: "020000040112050430000000012345600000000000",
        },
        answer: refused("0210", "13"),
      },
      {
        id: "4.8",
        what: "refund whose DE 90 names a sale never seen",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000063",
          3: "200000",
          4: "000000000100",
          11: "000408",
          37: "KAT000000408",
          48: wd(W41, "100"),
          90: "020000049912050430000000012345600000000000",
        },
        answer: refused("0210", "25"),
      },
      {
        id: "4.9",
        what: "refund naming no sale (no DE 90, its DE 37 matches none)",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000063",
          3: "200000",
          4: "000000000100",
          11: "000409",
          37: "KAT000000409",
          48: wd(W41, "100"),
        },
        answer: refused("0210", "25"),
      },
      {
        id: "4.10",
        what: "sale of 10.00",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000063",
          3: "000000",
          4: "000000001000",
          11: "000410",
          37: "KAT000000410",
          48: wd(W41, "1000"),
        },
        answer: approved("0210"),
      },
      {
        id: "4.11",
        what: "reversal of the sale 4.10",
        mti: "0400",
        fields: {
          ...AT_A,
          2: "4000001400000063",
          3: "000000",
          4: "000000001000",
          11: "000411",
          37: "KAT000000410",
          90: "020000041012050430000000012345600000000000",
        },
        answer: reversed("0410", "00"),
      },
      {
        id: "4.12",
        what: "refund of 5.00 of the reversed sale 4.10: nothing left",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000063",
          3: "200000",
          4: "000000000500",
          11: "000412",
          37: "KAT000000412",
          48: wd(W41, "500"),
          90: "020000041012050430000000012345600000000000",
        },
        answer: refused("0210", "13"),
      },
    ],
    ledger: { [W41]: { token: 10_000n, held: 0n } },
  },
  {
    title: "4b. a sale refunded in part then reversed: the reversal gives back only what was not refunded",
    cards: [{ pan: "4000001400000139", expiry: "3012", wallet: W42, tokens: 10_000n, limit: 0n }],
    exchanges: [
      {
        id: "4b.1",
        what: "sale of 20.00",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000139",
          3: "000000",
          4: "000000002000",
          11: "000421",
          37: "KAT000000421",
          48: wd(W42, "2000"),
        },
        answer: approved("0210"),
      },
      {
        id: "4b.2",
        what: "refund of 5.00 of 4b.1",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000139",
          3: "200000",
          4: "000000000500",
          11: "000422",
          37: "KAT000000422",
          48: wd(W42, "500"),
          90: "020000042112050430000000012345600000000000",
        },
        answer: approved("0210"),
      },
      {
        id: "4b.3",
        what: "full reversal of the sale 4b.1 after its refund: only the 15.00 not refunded comes back",
        mti: "0400",
        fields: {
          ...AT_A,
          2: "4000001400000139",
          3: "000000",
          4: "000000002000",
          11: "000423",
          37: "KAT000000421",
          90: "020000042112050430000000012345600000000000",
        },
        answer: reversed("0410", "00"),
      },
    ],
    ledger: { [W42]: { token: 10_000n, held: 0n } },
  },
  {
    title: "4c. a reversed refund no longer counts against its sale",
    cards: [{ pan: "4000001400000147", expiry: "3012", wallet: W43, tokens: 10_000n, limit: 0n }],
    exchanges: [
      {
        id: "4c.1",
        what: "sale of 20.00",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000147",
          3: "000000",
          4: "000000002000",
          11: "000431",
          37: "KAT000000431",
          48: wd(W43, "2000"),
        },
        answer: approved("0210"),
      },
      {
        id: "4c.2",
        what: "refund of 5.00 of 4c.1",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000147",
          3: "200000",
          4: "000000000500",
          11: "000432",
          37: "KAT000000432",
          48: wd(W43, "500"),
          90: "020000043112050430000000012345600000000000",
        },
        answer: approved("0210"),
      },
      {
        id: "4c.3",
        what: "reversal of the refund 4c.2",
        mti: "0400",
        fields: {
          ...AT_A,
          2: "4000001400000147",
          3: "200000",
          4: "000000000500",
          11: "000433",
          37: "KAT000000432",
          90: "020000043212050430000000012345600000000000",
        },
        answer: reversed("0410", "00"),
      },
      {
        id: "4c.4",
        what: "refund of all 20.00 of 4c.1, none of it refunded any more",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000147",
          3: "200000",
          4: "000000002000",
          11: "000434",
          37: "KAT000000434",
          48: wd(W43, "2000"),
          90: "020000043112050430000000012345600000000000",
        },
        answer: approved("0210"),
      },
      {
        id: "4c.5",
        what: "refund of 0.01 more of 4c.1",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000147",
          3: "200000",
          4: "000000000001",
          11: "000435",
          37: "KAT000000435",
          48: wd(W43, "1"),
          90: "020000043112050430000000012345600000000000",
        },
        answer: refused("0210", "13"),
      },
    ],
    ledger: { [W43]: { token: 10_000n, held: 0n } },
  },
  {
    title: "5. reversals (0400 / 0420) of the original DE 90 names, at the acquirer and terminal that sent it",
    cards: [{ pan: "4000001400000071", expiry: "3012", wallet: W51, tokens: 10_000n, limit: 0n }],
    exchanges: [
      {
        id: "5.1",
        what: "debit of 20.00",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000071",
          3: "000000",
          4: "000000002000",
          11: "000501",
          37: "KAT000000501",
          48: wd(W51, "2000"),
        },
        answer: approved("0210"),
      },
      {
        id: "5.2",
        what: "full reversal of 5.1",
        mti: "0400",
        fields: {
          ...AT_A,
          2: "4000001400000071",
          3: "000000",
          4: "000000002000",
          11: "000502",
          37: "KAT000000501",
          90: "020000050112050430000000012345600000000000",
        },
        answer: reversed("0410", "00"),
      },
      {
        id: "5.3",
        what: "0401 repeat of 5.2",
        mti: "0401",
        fields: {
          ...AT_A,
          2: "4000001400000071",
          3: "000000",
          4: "000000002000",
          11: "000502",
          37: "KAT000000501",
          90: "020000050112050430000000012345600000000000",
        },
        answer: reversed("0410", "00"),
      },
      {
        id: "5.4",
        what: "a second reversal of 5.1 (new STAN): approved, nothing left to undo",
        mti: "0400",
        fields: {
          ...AT_A,
          2: "4000001400000071",
          3: "000000",
          4: "000000002000",
          11: "000503",
          37: "KAT000000501",
          90: "020000050112050430000000012345600000000000",
        },
        answer: reversed("0410", "00"),
      },
      {
        id: "5.5",
        what: "hold of 12.00",
        mti: "0100",
        fields: {
          ...AT_A,
          2: "4000001400000071",
          3: "000000",
          4: "000000001200",
          11: "000504",
          37: "KAT000000504",
          48: wd(W51, "1200"),
        },
        answer: approved("0110"),
      },
      {
        id: "5.6",
        what: "reversal advice (0420) of the hold 5.5",
        mti: "0420",
        fields: {
          ...AT_A,
          2: "4000001400000071",
          3: "000000",
          4: "000000001200",
          11: "000505",
          37: "KAT000000504",
          90: "010000050412050430000000012345600000000000",
        },
        answer: reversed("0430", "00"),
      },
      {
        id: "5.7",
        what: "reversal of a 0200 never seen",
        mti: "0400",
        fields: {
          ...AT_A,
          2: "4000001400000071",
          3: "000000",
          4: "000000000100",
          11: "000506",
          37: "KAT000000599",
          90: "020000059912050430000000012345600000000000",
        },
        answer: reversed("0410", "25"),
      },
      {
        id: "5.8",
        what: "reversal of 5.1 whose DE 4 is not the original's amount",
        mti: "0400",
        fields: {
          ...AT_A,
          2: "4000001400000071",
          3: "000000",
          4: "000000001999",
          11: "000507",
          37: "KAT000000501",
          90: "020000050112050430000000012345600000000000",
        },
        answer: reversed("0410", "13"),
      },
      {
        id: "5.9",
        what: "debit of 7.00",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000071",
          3: "000000",
          4: "000000000700",
          11: "000508",
          37: "KAT000000508",
          48: wd(W51, "700"),
        },
        answer: approved("0210"),
      },
      {
        id: "5.10",
        what: "reversal of 5.9 from another terminal of the acquirer",
        mti: "0400",
        fields: {
          ...AT_A,
          41: "TERM0002",
          2: "4000001400000071",
          3: "000000",
          4: "000000000700",
          11: "000509",
          37: "KAT000000508",
          90: "020000050812050430000000012345600000000000",
        },
        answer: reversed("0410", "25"),
      },
      {
        id: "5.11",
        what: "reversal advice (0420) of a 0200 never seen: acknowledged",
        mti: "0420",
        fields: {
          ...AT_A,
          2: "4000001400000071",
          3: "000000",
          4: "000000000900",
          11: "000510",
          37: "KAT000000598",
          90: "020000059812050430000000012345600000000000",
        },
        answer: reversed("0430", "00"),
      },
      {
        id: "5.12",
        what: "the 0200 reversed by 5.11 arrives late: declined, nothing debited",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000071",
          3: "000000",
          4: "000000000900",
          11: "000598",
          37: "KAT000000598",
          48: wd(W51, "900"),
        },
        answer: refused("0210", "12"),
      },
      {
        id: "5.13",
        what: "0421 repeat of the reversal advice 5.6",
        mti: "0421",
        fields: {
          ...AT_A,
          2: "4000001400000071",
          3: "000000",
          4: "000000001200",
          11: "000505",
          37: "KAT000000504",
          90: "010000050412050430000000012345600000000000",
        },
        answer: reversed("0430", "00"),
      },
    ],
    ledger: { [W51]: { token: 9_300n, held: 0n } },
  },
  {
    title: "6. advices: 0220 and 0120 within the limit are posted and answered 0230 / 0130, exactly once",
    cards: [{ pan: "4000001400000089", expiry: "3012", wallet: W61, tokens: 10_000n, limit: 5_000n }],
    exchanges: [
      {
        id: "6.1",
        what: "financial advice of 10.00",
        mti: "0220",
        fields: {
          ...AT_A,
          2: "4000001400000089",
          3: "000000",
          4: "000000001000",
          11: "000601",
          37: "KAT000000601",
          48: wd(W61, "1000"),
        },
        answer: approved("0230"),
      },
      {
        id: "6.2",
        what: "0221 repeat of 6.1",
        mti: "0221",
        fields: {
          ...AT_A,
          2: "4000001400000089",
          3: "000000",
          4: "000000001000",
          11: "000601",
          37: "KAT000000601",
          48: wd(W61, "1000"),
        },
        answer: repeated("0230", "6.1"),
      },
      {
        id: "6.3",
        what: "authorisation advice of 5.00",
        mti: "0120",
        fields: {
          ...AT_A,
          2: "4000001400000089",
          3: "000000",
          4: "000000000500",
          11: "000602",
          37: "KAT000000602",
          48: wd(W61, "500"),
        },
        answer: approved("0130"),
      },
      {
        id: "6.4",
        what: "reversal advice of 6.1",
        mti: "0420",
        fields: {
          ...AT_A,
          2: "4000001400000089",
          3: "000000",
          4: "000000001000",
          11: "000603",
          37: "KAT000000601",
          90: "022000060112050430000000012345600000000000",
        },
        answer: reversed("0430", "00"),
      },
      {
        id: "6.5",
        what: "completion of the advised hold 6.3",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000089",
          3: "000000",
          4: "000000000500",
          11: "000604",
          37: "KAT000000604",
          48: wd(W61, "500"),
          90: "012000060212050430000000012345600000000000",
        },
        answer: approved("0210"),
      },
    ],
    ledger: { [W61]: { token: 9_500n, held: 0n } },
  },
  {
    title: "7. two acquirers with the same STAN, DE 7, terminal and merchant each reach only their own transactions",
    cards: [
      { pan: "4000001400000097", expiry: "3012", wallet: W71, tokens: 10_000n, limit: 0n },
      { pan: "4000001400000105", expiry: "3012", wallet: W72, tokens: 10_000n, limit: 0n },
    ],
    exchanges: [
      {
        id: "7.1",
        what: "A: debit of 10.00 on W71",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000097",
          3: "000000",
          4: "000000001000",
          11: "000701",
          37: "KAT000000701",
          48: wd(W71, "1000"),
        },
        answer: approved("0210"),
      },
      {
        id: "7.2",
        what: "B: debit of 30.00 on W72, same STAN, DE 7 and RRN",
        via: "B",
        mti: "0200",
        fields: {
          ...AT_B,
          2: "4000001400000105",
          3: "000000",
          4: "000000003000",
          11: "000701",
          37: "KAT000000701",
          48: wd(W72, "3000"),
        },
        answer: approved("0210"),
      },
      {
        id: "7.3",
        what: "B: reversal whose DE 90 names acquirer A's 7.1",
        via: "B",
        mti: "0400",
        fields: {
          ...AT_B,
          2: "4000001400000097",
          3: "000000",
          4: "000000001000",
          11: "000702",
          37: "KAT000000701",
          90: "020000070112050430000000012345600000000000",
        },
        answer: reversed("0410", "25"),
      },
      {
        id: "7.4",
        what: "B: reversal of its own 7.2",
        via: "B",
        mti: "0400",
        fields: {
          ...AT_B,
          2: "4000001400000105",
          3: "000000",
          4: "000000003000",
          11: "000703",
          37: "KAT000000701",
          90: "020000070112050430000000065432100000000000",
        },
        answer: reversed("0410", "00"),
      },
      {
        id: "7.5",
        what: "A: reversal of its own 7.1, with the STAN B just used",
        mti: "0400",
        fields: {
          ...AT_A,
          2: "4000001400000097",
          3: "000000",
          4: "000000001000",
          11: "000703",
          37: "KAT000000701",
          90: "020000070112050430000000012345600000000000",
        },
        answer: reversed("0410", "00"),
      },
      {
        id: "7.6",
        what: "A: hold of 4.00 on W71",
        mti: "0100",
        fields: {
          ...AT_A,
          2: "4000001400000097",
          3: "000000",
          4: "000000000400",
          11: "000704",
          37: "KAT000000704",
          48: wd(W71, "400"),
        },
        answer: approved("0110"),
      },
      {
        id: "7.7",
        what: "B: hold of 6.00 on W72, same STAN and RRN",
        via: "B",
        mti: "0100",
        fields: {
          ...AT_B,
          2: "4000001400000105",
          3: "000000",
          4: "000000000600",
          11: "000704",
          37: "KAT000000704",
          48: wd(W72, "600"),
        },
        answer: approved("0110"),
      },
      {
        id: "7.8",
        what: "B: completion of its own 7.7 by DE 90",
        via: "B",
        mti: "0200",
        fields: {
          ...AT_B,
          2: "4000001400000105",
          3: "000000",
          4: "000000000600",
          11: "000705",
          37: "KAT000000705",
          48: wd(W72, "600"),
          90: "010000070412050430000000065432100000000000",
        },
        answer: approved("0210"),
      },
      {
        id: "7.9",
        what: "A: 0201 repeat of 7.1: A's first answer, nothing posted",
        mti: "0201",
        fields: {
          ...AT_A,
          2: "4000001400000097",
          3: "000000",
          4: "000000001000",
          11: "000701",
          37: "KAT000000701",
          48: wd(W71, "1000"),
        },
        answer: repeated("0210", "7.1"),
      },
      {
        id: "7.10",
        what: "B: 0201 repeat of 7.2: B's first answer, nothing posted",
        via: "B",
        mti: "0201",
        fields: {
          ...AT_B,
          2: "4000001400000105",
          3: "000000",
          4: "000000003000",
          11: "000701",
          37: "KAT000000701",
          48: wd(W72, "3000"),
        },
        answer: repeated("0210", "7.2"),
      },
      {
        id: "7.11",
        what: "A: debit of 1.00 forwarded by institution 0099 (DE 33 echoed)",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000097",
          3: "000000",
          4: "000000000100",
          11: "000706",
          33: "0099",
          37: "KAT000000706",
          48: wd(W71, "100"),
        },
        answer: {
          mti: "0210",
          de39: "00",
          elements: [2, 3, 4, 7, 11, 12, 13, 32, 33, 37, 38, 39, 41, 42, 49],
          de38: "new",
        },
      },
    ],
    ledger: { [W71]: { token: 9_900n, held: 400n }, [W72]: { token: 9_400n, held: 0n } },
  },
  {
    title: "8. format errors are answered 30 with the elements that can be read echoed, and post nothing",
    cards: [{ pan: "4000001400000113", expiry: "3012", wallet: W81, tokens: 10_000n, limit: 0n }],
    exchanges: [
      {
        id: "8.1",
        what: "DE 12 with a letter (built by hand): DE 2 to 11 echoed",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000113",
          3: "000000",
          4: "000000000100",
          11: "000801",
          37: "KAT000000801",
          48: wd(W81, "100"),
        },
        malformed: { field: 12, value: "04X000" },
        // Elements after the bad one are recovered too (issue 14, build 3), unchanged.
        answer: { mti: "0210", de39: "30", elements: [2, 3, 4, 7, 11, 13, 32, 37, 39, 41, 42, 49] },
      },
      {
        id: "8.2",
        what: "DE 4 with a letter (built by hand): every other element echoed",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000113",
          3: "000000",
          4: "000000000100",
          11: "000802",
          37: "KAT000000802",
          48: wd(W81, "100"),
        },
        malformed: { field: 4, value: "00000000X100" },
        answer: { mti: "0210", de39: "30", elements: [2, 3, 7, 11, 12, 13, 32, 37, 39, 41, 42, 49] },
      },
      {
        id: "8.3",
        what: "0200 without its wallet data (DE 48)",
        mti: "0200",
        fields: { ...AT_A, 2: "4000001400000113", 3: "000000", 4: "000000000100", 11: "000803", 37: "KAT000000803" },
        answer: refused("0210", "30"),
      },
      {
        id: "8.4",
        what: "wallet data whose address is not an address",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000113",
          3: "000000",
          4: "000000000100",
          11: "000804",
          37: "KAT000000804",
          48: "01003abc",
        },
        answer: refused("0210", "30"),
      },
      {
        id: "8.5",
        what: "0100 without DE 32 (the acquirer)",
        mti: "0100",
        fields: {
          7: "1205043000",
          12: "043000",
          13: "1205",
          41: "TERM0001",
          42: "MERCHANT0000001",
          49: "840",
          2: "4000001400000113",
          3: "000000",
          4: "000000000100",
          11: "000805",
          37: "KAT000000805",
          48: wd(W81, "100"),
        },
        answer: { mti: "0110", de39: "30", elements: [2, 3, 4, 7, 11, 12, 13, 37, 39, 41, 42, 49] },
      },
      {
        id: "8.6",
        what: "0400 without DE 90",
        mti: "0400",
        fields: { ...AT_A, 2: "4000001400000113", 3: "000000", 4: "000000000100", 11: "000806", 37: "KAT000000806" },
        answer: refused("0410", "30"),
      },
    ],
    ledger: { [W81]: { token: 10_000n, held: 0n } },
  },
  {
    title:
      "9. completions and refunds reach only the hold or sale of the same terminal or merchant, and never more than it",
    cards: [{ pan: "4000001400000154", expiry: "3012", wallet: W91, tokens: 10_000n, limit: 0n }],
    exchanges: [
      {
        id: "9.1",
        what: "hold of 30.00 at TERM0001",
        mti: "0100",
        fields: {
          ...AT_A,
          2: "4000001400000154",
          3: "000000",
          4: "000000003000",
          11: "000901",
          37: "KAT000000901",
          48: wd(W91, "3000"),
        },
        answer: approved("0110"),
      },
      {
        id: "9.2",
        what: "completion of 9.1 sent from TERM0002",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000154",
          3: "000000",
          4: "000000003000",
          11: "000902",
          37: "KAT000000902",
          48: wd(W91, "3000"),
          41: "TERM0002",
          90: "010000090112050430000000012345600000000000",
        },
        answer: refused("0210", "25"),
      },
      {
        id: "9.3",
        what: "completion of 9.1 for 35.00, above the hold",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000154",
          3: "000000",
          4: "000000003500",
          11: "000903",
          37: "KAT000000903",
          48: wd(W91, "3500"),
          90: "010000090112050430000000012345600000000000",
        },
        answer: refused("0210", "13"),
      },
      {
        id: "9.4",
        what: "completion of 9.1 for 25.00: the other 5.00 released",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000154",
          3: "000000",
          4: "000000002500",
          11: "000904",
          37: "KAT000000904",
          48: wd(W91, "2500"),
          90: "010000090112050430000000012345600000000000",
        },
        answer: approved("0210"),
      },
      {
        id: "9.5",
        what: "reversal of the hold 9.1 once captured",
        mti: "0400",
        fields: {
          ...AT_A,
          2: "4000001400000154",
          3: "000000",
          4: "000000003000",
          11: "000905",
          37: "KAT000000905",
          90: "010000090112050430000000012345600000000000",
        },
        answer: reversed("0410", "12"),
      },
      {
        id: "9.6",
        what: "refund of 5.00 of the completion 9.4 from another merchant",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000154",
          3: "200000",
          4: "000000000500",
          11: "000906",
          37: "KAT000000906",
          48: wd(W91, "500"),
          42: "MERCHANT0000002",
          90: "020000090412050430000000012345600000000000",
        },
        answer: refused("0210", "25"),
      },
      {
        id: "9.7",
        what: "refund of 5.00 of the completion 9.4",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000154",
          3: "200000",
          4: "000000000500",
          11: "000907",
          37: "KAT000000907",
          48: wd(W91, "500"),
          90: "020000090412050430000000012345600000000000",
        },
        answer: approved("0210"),
      },
      {
        id: "9.8",
        what: "refund of 20.01 of 9.4, above the 20.00 left",
        mti: "0200",
        fields: {
          ...AT_A,
          2: "4000001400000154",
          3: "200000",
          4: "000000002001",
          11: "000908",
          37: "KAT000000908",
          48: wd(W91, "2001"),
          90: "020000090412050430000000012345600000000000",
        },
        answer: refused("0210", "13"),
      },
    ],
    ledger: { [W91]: { token: 8_000n, held: 0n } },
  },
];

// ---------------------------------------------------------------------------
// The runner

/** Opens `card`'s profile on bank A's ledger with its tokens and limit, and puts the card on the gateway's file. */
async function openAccount(world: GatewayWorld, card: Card): Promise<void> {
  const { ledger, suite } = world;
  const bank = ledger.connect(suite.accounts.bankA);
  await (await bank.openProfile(keccak256(toUtf8Bytes(`kat:${card.wallet}`)), card.wallet, 0n)).wait();
  if (card.tokens > 0n) {
    const gateway = await suite.ethers.getSigner(world.gatewayAddress);
    const key = keccak256(toUtf8Bytes(`kat:seed:${card.wallet}`));
    await (await ledger.connect(gateway).credit(key, card.wallet, card.tokens)).wait();
  }
  if (card.limit > 0n) await (await bank.setLimit(card.wallet, card.limit)).wait();
  world.cards.put(card.pan, card.expiry, card.wallet);
}

function referenceMessage(exchange: Exchange): Record<string, string> {
  const message: Record<string, string> = { "0": exchange.mti };
  for (const [number, value] of Object.entries(exchange.fields)) message[number] = value;
  return message;
}

describe("iso8583: known answers of the gateway to messages built and parsed by the npm iso_8583 package", function () {
  this.timeout(180_000);
  const gw = gatewayPerTest({ timeoutMs: 5_000 });

  it("the table holds at least 50 exchanges, each with a distinct id", function () {
    const ids = SCENARIOS.flatMap((scenario) => scenario.exchanges.map((exchange) => exchange.id));
    expect(ids.length).to.be.at.least(50);
    expect(new Set(ids).size).to.equal(ids.length);
  });

  for (const scenario of SCENARIOS) {
    it(scenario.title, async function () {
      for (const card of scenario.cards) await openAccount(gw.world, card);
      const connections = {
        A: await ReferenceClient.connect(gw.running.port),
        B: await ReferenceClient.connect(gw.running.port),
      };
      const authCodes = new Map<string, string>();
      try {
        for (const exchange of scenario.exchanges) {
          const label = `${exchange.id} ${exchange.mti} ${exchange.what}`;
          const { answer } = exchange;
          const message = referenceMessage(exchange);
          let request: Buffer;
          if (exchange.malformed === undefined) request = pack(message);
          else {
            const { field, value } = exchange.malformed;
            expect(() => pack({ ...message, [field]: value }), `${label}: the package builds it`).to.throw(
              /not of type 'n'/,
            );
            request = patch(message, field, value);
          }

          const response = unpack(await connections[exchange.via ?? "A"].exchange(request));

          expect(response.trailing, `${label}: bytes after the last element`).to.equal(0);
          expect(response.mti, `${label}: MTI`).to.equal(answer.mti);
          if (!exchange.mti.startsWith("08")) {
            expect(referenceResponseMti(exchange.mti), `${label}: the package's response MTI`).to.equal(answer.mti);
          }
          expect(response.fields[39], `${label}: DE 39`).to.equal(answer.de39);
          const present = Object.keys(response.fields).map(Number);
          const optional = answer.mayEcho ?? [];
          expect(
            present.filter((n) => !optional.includes(n)),
            `${label}: elements`,
          ).to.deep.equal([...answer.elements]);
          for (const n of present) {
            if (n === 38 || n === 39) continue;
            expect(response.fields[n], `${label}: DE ${n} echoed`).to.equal(exchange.fields[n]);
          }
          expect(response.bitmapChars, `${label}: bitmap`).to.equal(present.some((n) => n > 64) ? 32 : 16);

          expect(answer.elements.includes(38), `${label}: the table's DE 38`).to.equal(answer.de38 !== undefined);
          const de38 = response.fields[38];
          if (answer.de38 === "new") {
            expect(de38, `${label}: DE 38`).to.match(/^[0-9A-Za-z ]{6}$/);
            authCodes.set(exchange.id, de38!);
          } else if (answer.de38 !== undefined) {
            expect(de38, `${label}: DE 38 of ${answer.de38.as}`).to.equal(authCodes.get(answer.de38.as));
            authCodes.set(exchange.id, de38!);
          }
        }
      } catch (error) {
        // The gateway's own account of what it refused and why, beside the failed expectation.
        if (error instanceof Error) error.message += `\ngateway log:\n${gw.running.logs.join("\n")}`;
        throw error;
      } finally {
        connections.A.close();
        connections.B.close();
      }
      for (const [wallet, expected] of Object.entries(scenario.ledger)) {
        expect(await profile(gw.world, wallet), `ledger: ${wallet}`).to.deep.equal(expected);
      }
    });
  }
});
