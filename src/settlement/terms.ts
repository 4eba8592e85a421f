/**
 * The pure encodings a bank agent and `InterbankSettlement` agree on: the
 * settlement id of an end-to-end id, the hashed creditor account, the terms
 * tuple and its digest, the fiat references of each step and the ISO 20022
 * reason codes of a rejection. No I/O; everything here is deterministic, so a
 * retry after a crash produces byte-for-byte the same call.
 */
import {
  AbiCoder,
  decodeBytes32String,
  encodeBytes32String,
  keccak256,
  solidityPackedKeccak256,
  toUtf8Bytes,
} from "ethers";

import { BankChainError } from "../errors.js";

/** A value that cannot be encoded for the settlement contract. */
export class SettlementEncodingError extends BankChainError {}

/**
 * An end-to-end id as the agents accept it: 1 to 32 characters of the SWIFT
 * character set without space, `/` and `?` (so that it is one URL path segment
 * and fits a `bytes32` unhashed, readable on chain by both banks).
 */
export const END_TO_END_ID_PATTERN = /^[A-Za-z0-9.,:()'+-]{1,32}$/;

/** A customer account id at a bank: 1 to 64 letters, digits, `.`, `_` and `-`. */
export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The largest amount a corridor can carry, and so the largest payment: 2^64 - 1 minor units. */
export const MAX_SETTLEMENT_AMOUNT = 2n ** 64n - 1n;

/** The deadline field is a `uint40` of seconds. */
const MAX_DEADLINE = 2n ** 40n - 1n;

/** Mirrors `IInterbankSettlement.SettlementState`, in order. */
export const SETTLEMENT_STATES = [
  "None",
  "Initiated",
  "Delivered",
  "Smelted",
  "Acknowledged",
  "Rejected",
  "Returned",
  "Expired",
  "Refunded",
] as const;
export type SettlementState = (typeof SETTLEMENT_STATES)[number];

export function settlementStateName(value: bigint | number): SettlementState {
  const name = SETTLEMENT_STATES[Number(value)];
  if (name === undefined) {
    throw new SettlementEncodingError("SETTLEMENT_UNKNOWN_STATE", `settlement state ${value} is not known`, {
      state: String(value),
    });
  }
  return name;
}

/** The terms of one payment, as `initiate` takes them and every later step repeats them. */
export interface SettlementTerms {
  /** `bytes32` hex. */
  readonly id: string;
  readonly debtorBank: string;
  readonly creditorBank: string;
  readonly amount: bigint;
  /** `bytes32` hex. */
  readonly creditorAccountRef: string;
  /** Unix seconds, block time. */
  readonly deadline: number;
}

/** The settlement id of an end-to-end id: its ASCII bytes, right-padded with zeros to 32 bytes. */
export function settlementIdOf(endToEndId: string): string {
  if (!END_TO_END_ID_PATTERN.test(endToEndId)) {
    throw new SettlementEncodingError(
      "SETTLEMENT_INVALID_END_TO_END_ID",
      `end-to-end id ${JSON.stringify(endToEndId)} must be 1 to 32 characters of A-Z a-z 0-9 . , : ( ) ' + -`,
      { endToEndId },
    );
  }
  const bytes = toUtf8Bytes(endToEndId);
  const padded = new Uint8Array(32);
  padded.set(bytes);
  return `0x${Buffer.from(padded).toString("hex")}`;
}

/**
 * The end-to-end id a settlement id carries, or `undefined` when the id was
 * not made by `settlementIdOf` (another system's opaque id).
 */
export function endToEndIdOf(settlementId: string): string | undefined {
  const hex = settlementId.toLowerCase().replace(/^0x/, "");
  if (!/^[0-9a-f]{64}$/.test(hex)) return undefined;
  const bytes = Buffer.from(hex, "hex");
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end -= 1;
  const text = bytes.subarray(0, end).toString("latin1");
  if (!END_TO_END_ID_PATTERN.test(text)) return undefined;
  return settlementIdOf(text) === `0x${hex}` ? text : undefined;
}

/** The hashed account reference of a creditor account, as the terms carry it. */
export function accountRefOf(accountId: string): string {
  return keccak256(toUtf8Bytes(accountId));
}

const TERMS_TYPES = ["bytes32", "address", "address", "uint256", "bytes32", "uint40"] as const;

/** The terms as the ABI tuple `initiate` and the later steps take. */
export function termsTuple(terms: SettlementTerms): {
  id: string;
  debtorBank: string;
  creditorBank: string;
  amount: bigint;
  creditorAccountRef: string;
  deadline: bigint;
} {
  return {
    id: terms.id,
    debtorBank: terms.debtorBank,
    creditorBank: terms.creditorBank,
    amount: terms.amount,
    creditorAccountRef: terms.creditorAccountRef,
    deadline: BigInt(terms.deadline),
  };
}

/** The amount is a uint256 and the deadline a uint40, or a `SettlementEncodingError` says which is not. */
function checkNumbers(terms: SettlementTerms): void {
  if (terms.amount < 0n || terms.amount >= 2n ** 256n) {
    throw new SettlementEncodingError("SETTLEMENT_INVALID_AMOUNT", `amount ${terms.amount} is not a uint256`, {
      amount: terms.amount.toString(),
    });
  }
  if (!Number.isSafeInteger(terms.deadline) || terms.deadline < 0 || BigInt(terms.deadline) > MAX_DEADLINE) {
    throw new SettlementEncodingError("SETTLEMENT_INVALID_DEADLINE", `deadline ${terms.deadline} is not a uint40`, {
      deadline: terms.deadline,
    });
  }
}

/** What the contract stores of the terms: `keccak256(abi.encode(terms))` with the low 48 bits cleared. */
export function termsDigest(terms: SettlementTerms): string {
  checkNumbers(terms);
  const encoded = AbiCoder.defaultAbiCoder().encode(TERMS_TYPES, [
    terms.id,
    terms.debtorBank,
    terms.creditorBank,
    terms.amount,
    terms.creditorAccountRef,
    terms.deadline,
  ]);
  const digest = BigInt(keccak256(encoded)) & ~((1n << 48n) - 1n);
  return `0x${digest.toString(16).padStart(64, "0")}`;
}

/**
 * Whether two sets of terms are the same settlement's: field by field, addresses and 32-byte values in any letter
 * case. What `termsDigest` equality says, without its ABI encoding and hash (about 0.3 ms a call here): the agents
 * compare the terms of every `SettlementInitiated` they follow.
 */
export function sameTerms(a: SettlementTerms, b: SettlementTerms): boolean {
  return (
    a.id.toLowerCase() === b.id.toLowerCase() &&
    a.debtorBank.toLowerCase() === b.debtorBank.toLowerCase() &&
    a.creditorBank.toLowerCase() === b.creditorBank.toLowerCase() &&
    a.amount === b.amount &&
    a.creditorAccountRef.toLowerCase() === b.creditorAccountRef.toLowerCase() &&
    a.deadline === b.deadline
  );
}

/** The fiat reference of a step: deterministic, so a resent call carries the same one. */
export function fiatRefOf(step: "credit" | "return" | "refund", settlementId: string): string {
  return solidityPackedKeccak256(["string", "bytes32"], [`bank-chain.settlement.${step}`, settlementId]);
}

/** ISO 20022 reason codes a receiving bank rejects with. */
export const REJECT_REASONS = {
  /** Incorrect account number: no such account. */
  AC01: "no such account at the creditor bank",
  /** Closed account number. */
  AC04: "the creditor account is closed",
  /** Blocked account. */
  AC06: "the creditor account is blocked",
} as const;
export type RejectReason = keyof typeof REJECT_REASONS;

export function reasonCodeOf(reason: RejectReason): string {
  return encodeBytes32String(reason);
}

/** The text of a `bytes32` reason code, or its hex if it is not a short string. */
export function reasonTextOf(code: string): string {
  try {
    return decodeBytes32String(code);
  } catch {
    return code;
  }
}

const HEX_WORD = /^0x[0-9a-fA-F]{64}$/;
const HEX_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const word = (hex: string): string => hex.padStart(64, "0");

/**
 * The terms as the six 32-byte words of `abi.encode(terms)` (a static tuple), hex without `0x`.
 * @throws SettlementEncodingError for a value outside its Solidity type
 */
export function termsWords(terms: SettlementTerms): string {
  if (!HEX_WORD.test(terms.id) || !HEX_WORD.test(terms.creditorAccountRef)) {
    throw new SettlementEncodingError("SETTLEMENT_INVALID_WORD", "the id and the account reference must be bytes32", {
      id: terms.id,
      creditorAccountRef: terms.creditorAccountRef,
    });
  }
  if (!HEX_ADDRESS.test(terms.debtorBank) || !HEX_ADDRESS.test(terms.creditorBank)) {
    throw new SettlementEncodingError("SETTLEMENT_INVALID_ADDRESS", "the banks must be addresses", {
      debtorBank: terms.debtorBank,
      creditorBank: terms.creditorBank,
    });
  }
  checkNumbers(terms);
  return (
    terms.id.slice(2) +
    word(terms.debtorBank.slice(2)) +
    word(terms.creditorBank.slice(2)) +
    word(terms.amount.toString(16)) +
    terms.creditorAccountRef.slice(2) +
    word(terms.deadline.toString(16))
  ).toLowerCase();
}

/**
 * The calldata of a batch call, encoded by hand (ethers' ABI coder took a tenth of an agent's time under
 * load, for what is fixed-size words): `selector` with one array of terms (`initiateBatch`,
 * `acknowledgeBatch`), or with the terms and one `bytes32` per payment (`smeltBatch`'s fiat references).
 */
export function batchCalldata(selector: string, terms: readonly SettlementTerms[], refs?: readonly string[]): string {
  if (refs !== undefined && refs.length !== terms.length) {
    throw new SettlementEncodingError(
      "SETTLEMENT_BATCH_LENGTHS",
      `${terms.length} terms but ${refs.length} references`,
    );
  }
  const count = word(terms.length.toString(16));
  const array = count + terms.map(termsWords).join("");
  if (refs === undefined) return `${selector}${word("20")}${array}`;
  for (const ref of refs) {
    if (!HEX_WORD.test(ref)) {
      throw new SettlementEncodingError("SETTLEMENT_INVALID_WORD", "a reference must be bytes32", { ref });
    }
  }
  const second = (0x40 + array.length / 2).toString(16);
  return `${selector}${word("40")}${word(second)}${array}${count}${refs.map((ref) => ref.slice(2)).join("")}`.toLowerCase();
}
