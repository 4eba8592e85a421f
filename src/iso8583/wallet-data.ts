/**
 * Wallet data in a private-use element (profile: "Wallet data in a private-use
 * element"): concatenated sub-elements `TT LLL VALUE` (2-digit tag, 3-digit
 * length of the value in characters, the value).
 *
 *   01 address   `0x` + 40 hex digits: all lowercase, all uppercase, or a valid
 *                EIP-55 checksum (mandatory); looked up by its lowercase form
 *   02 amount    smallest token unit, 1 to 78 digits (leading zeros allowed),
 *                1 to 2^256-1 (mandatory; zero or more than 2^256-1: `pd_bad_amount`)
 *   03 asset     1-12 of A-Z 0-9 . - (optional)
 *   04 chain id  1-20 digits, not zero (optional)
 *   other tags   ignored (their structure must still be sound)
 *
 * Error conventions (`WalletDataError`, code `ISO8583_` + the category in upper
 * case): checks run structure first (`pd_malformed` at the offset of the
 * sub-element whose header or value is cut short or not digits;
 * `pd_duplicate_tag` at the offset of the second occurrence of any tag), then
 * `pd_missing_address`, `pd_missing_amount` (offset = the value's length), then
 * address, amount, asset, chain id, each at the offset of the sub-element's
 * value (just after its 5-character header). For `encodeWalletData` the offset
 * is where the sub-element would start in the output.
 */
import { getAddress, MaxUint256 } from "ethers";

import { BankChainError } from "../errors.js";

/** Elements a deployment may configure for wallet data (default 48). */
export const WALLET_DATA_ELEMENTS: readonly number[] = Object.freeze([
  48, 60, 61, 62, 63, 120, 121, 122, 123, 124, 125, 126, 127,
]);

export interface WalletData {
  /** EIP-55 checksummed. */
  readonly address: string;
  /** Lowercase, the lookup key. */
  readonly addressKey: string;
  readonly amount: bigint;
  readonly asset?: string;
  readonly chainId?: bigint;
}

export type WalletDataErrorCategory =
  | "pd_malformed"
  | "pd_duplicate_tag"
  | "pd_missing_address"
  | "pd_missing_amount"
  | "pd_bad_address"
  | "pd_bad_checksum"
  | "pd_bad_amount"
  | "pd_bad_asset"
  | "pd_bad_chain";

export class WalletDataError extends BankChainError {
  readonly category: WalletDataErrorCategory;
  /** Offset within the element value. */
  readonly offset: number;

  constructor(
    category: WalletDataErrorCategory,
    offset: number,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(`ISO8583_${category.toUpperCase()}`, `${message} (offset ${offset})`, { category, offset, ...details });
    this.category = category;
    this.offset = offset;
  }
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const AMOUNT = /^[0-9]{1,78}$/;
const ASSET = /^[A-Z0-9.-]{1,12}$/;
const CHAIN = /^[0-9]{1,20}$/;

interface SubElement {
  readonly value: string;
  readonly offset: number;
}

function isDigits(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** Parses the value of the wallet-data element. Throws `WalletDataError`. */
export function parseWalletData(value: string): WalletData {
  const tags = new Map<string, SubElement>();
  let pos = 0;
  while (pos < value.length) {
    if (pos + 5 > value.length || !isDigits(value, pos, pos + 5)) {
      throw new WalletDataError("pd_malformed", pos, "sub-element header is not 2 tag digits and 3 length digits");
    }
    const tag = value.slice(pos, pos + 2);
    const length = Number(value.slice(pos + 2, pos + 5));
    if (pos + 5 + length > value.length) {
      throw new WalletDataError("pd_malformed", pos, `sub-element ${tag} runs past the end of the element`, { tag });
    }
    if (tags.has(tag)) throw new WalletDataError("pd_duplicate_tag", pos, `tag ${tag} appears twice`, { tag });
    tags.set(tag, { value: value.slice(pos + 5, pos + 5 + length), offset: pos + 5 });
    pos += 5 + length;
  }

  const address = tags.get("01");
  if (address === undefined) throw new WalletDataError("pd_missing_address", value.length, "no address (tag 01)");
  const amount = tags.get("02");
  if (amount === undefined) throw new WalletDataError("pd_missing_amount", value.length, "no amount (tag 02)");

  const checksummed = checkAddress(address.value, address.offset);
  if (!AMOUNT.test(amount.value)) {
    throw new WalletDataError("pd_bad_amount", amount.offset, "amount must be 1 to 78 digits");
  }
  const units = BigInt(amount.value);
  if (units === 0n || units > MaxUint256) {
    throw new WalletDataError("pd_bad_amount", amount.offset, "amount must be 1 to 2^256-1");
  }
  let result: WalletData = { address: checksummed, addressKey: checksummed.toLowerCase(), amount: units };
  const asset = tags.get("03");
  if (asset !== undefined) {
    if (!ASSET.test(asset.value)) {
      throw new WalletDataError("pd_bad_asset", asset.offset, "asset code must be 1-12 of A-Z 0-9 . -");
    }
    result = { ...result, asset: asset.value };
  }
  const chain = tags.get("04");
  if (chain !== undefined) {
    if (!CHAIN.test(chain.value) || BigInt(chain.value) === 0n) {
      throw new WalletDataError("pd_bad_chain", chain.offset, "chain id must be 1-20 digits, not zero");
    }
    result = { ...result, chainId: BigInt(chain.value) };
  }
  return result;
}

function checkAddress(text: string, offset: number): string {
  if (!ADDRESS.test(text)) {
    throw new WalletDataError("pd_bad_address", offset, "address must be 0x and 40 hex digits");
  }
  const lower = `0x${text.slice(2).toLowerCase()}`;
  const checksummed = getAddress(lower);
  const hex = text.slice(2);
  if (hex !== hex.toLowerCase() && hex !== hex.toUpperCase() && text !== checksummed) {
    throw new WalletDataError("pd_bad_checksum", offset, "mixed-case address is not a valid EIP-55 checksum");
  }
  return checksummed;
}

export interface WalletDataInput {
  readonly address: string;
  readonly amount: bigint;
  readonly asset?: string;
  readonly chainId?: bigint;
}

function subElement(tag: string, value: string): string {
  return `${tag}${value.length.toString().padStart(3, "0")}${value}`;
}

/**
 * Encodes wallet data as `01` (EIP-55 address), `02` (amount), then `03` and
 * `04` when given. Validates as `parseWalletData` does; throws `WalletDataError`.
 */
export function encodeWalletData(input: WalletDataInput): string {
  const address = checkAddress(input.address, 0);
  let out = subElement("01", address);
  if (input.amount <= 0n || input.amount > MaxUint256) {
    throw new WalletDataError("pd_bad_amount", out.length, "amount must be 1 to 2^256-1");
  }
  out += subElement("02", input.amount.toString());
  if (input.asset !== undefined) {
    if (!ASSET.test(input.asset)) {
      throw new WalletDataError("pd_bad_asset", out.length, "asset code must be 1-12 of A-Z 0-9 . -");
    }
    out += subElement("03", input.asset);
  }
  if (input.chainId !== undefined) {
    const text = input.chainId.toString();
    if (input.chainId <= 0n || text.length > 20) {
      throw new WalletDataError("pd_bad_chain", out.length, "chain id must be 1-20 digits, not zero");
    }
    out += subElement("04", text);
  }
  return out;
}
