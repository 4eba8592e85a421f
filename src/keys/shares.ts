/**
 * A wallet's secp256k1 private key split into k-of-n Shamir shares (issue 19),
 * with the commitments the ShareRegistry keeps for them.
 *
 * The splitting and combining are `shamir-secret-sharing`'s (GF(2^8), the AES
 * polynomial x⁸ + x⁴ + x³ + x + 1, independently audited): each share is the
 * key's 32 bytes evaluated byte by byte on a random polynomial of degree k-1,
 * plus one byte, the x coordinate (random and distinct per share). Fewer than
 * k shares are consistent with every key.
 *
 * Indices are 1-based: share `i` is the library's i-th output and goes to
 * holder `i` (`holders[i-1]` on chain). Each share has 32 random salt bytes
 * and a commitment, the value `ShareRegistry.shareCommitment` computes:
 *
 *   SHARE_TYPEHASH = keccak256("BankChainKeyShare(uint256 chainId,address registry,bytes32 walletId,uint32 epoch,uint8 index,bytes32 salt,bytes32 shareHash)")
 *   commitment     = keccak256(abi.encode(SHARE_TYPEHASH, chainId, registry, walletId, epoch, index, salt, keccak256(share)))
 *
 * `combineKey` checks every share against the on-chain commitments before it
 * combines any, and the combined key against the wallet's account.
 */
import { randomBytes } from "node:crypto";

import { secp256k1 } from "@noble/curves/secp256k1.js";
import {
  AbiCoder,
  computeAddress,
  getAddress,
  getBytes,
  hexlify,
  keccak256,
  toUtf8Bytes,
  type BytesLike,
} from "ethers";
import { combine, split } from "shamir-secret-sharing";
import { z } from "zod";

import { BankChainError } from "../errors.js";

/** The typed string of a share commitment. */
export const SHARE_TYPE =
  "BankChainKeyShare(uint256 chainId,address registry,bytes32 walletId,uint32 epoch,uint8 index,bytes32 salt,bytes32 shareHash)";
/** keccak256 of `SHARE_TYPE`. */
export const SHARE_TYPEHASH = keccak256(toUtf8Bytes(SHARE_TYPE));

/** The most holders a wallet has (`ShareRegistry.MAX_HOLDERS`). */
export const MAX_HOLDERS = 16;
/** The fewest shares that recover a key (the library's minimum). */
export const MIN_THRESHOLD = 2;
/** A private key's length, and a share's (the key's bytes and the x coordinate). */
export const KEY_BYTES = 32;
export const SHARE_BYTES = KEY_BYTES + 1;
/** The salt kept with each share. */
export const SALT_BYTES = 32;

const UINT32_MAX = 2 ** 32 - 1;
const UINT256_MAX = (1n << 256n) - 1n;

/** Which wallet, at which epoch, and how it is split. */
export interface ShareScope {
  readonly chainId: bigint;
  /** The ShareRegistry's address. */
  readonly registry: string;
  /** 0x and 32 bytes. */
  readonly walletId: string;
  /** The address of the key being split. */
  readonly account: string;
  /** uint32, the registry's epoch of these shares. */
  readonly epoch: number;
  /** Shares needed, 2..total. */
  readonly threshold: number;
  /** Shares made, threshold..MAX_HOLDERS. */
  readonly total: number;
}

/** One holder's share and what it is a share of. Holds nothing about the key but `share` itself. */
export interface KeyShare extends ShareScope {
  readonly version: 1;
  /** 1-based: holder `index` holds it. */
  readonly index: number;
  /** The library's share: 32 bytes and the x coordinate last. */
  readonly share: Uint8Array;
  /** 32 random bytes. */
  readonly salt: Uint8Array;
  /** `shareCommitment(scope, index, salt, share)`, lower-case 0x hex. */
  readonly commitment: string;
}

/** What the chain says about a wallet: the reference `combineKey` checks shares against. */
export interface ExpectedShares {
  readonly chainId: bigint;
  readonly registry: string;
  readonly walletId: string;
  readonly account: string;
  /** The current epoch. */
  readonly epoch: number;
  readonly threshold: number;
  /** The current commitments, 1-based by position (`commitments[i-1]` is share i's). */
  readonly commitments: readonly string[];
}

/** A share, a scope or a set of shares was refused. `details.index` names the share when one is at fault. */
export class ShareError extends BankChainError {}

// ─── checks ────────────────────────────────────────────────────────────────────

function scopeError(field: string, why: string, value: unknown): ShareError {
  return new ShareError("KEYS_BAD_SCOPE", `${field} ${why}`, { field, value });
}

function checkChainId(chainId: bigint): void {
  if (typeof chainId !== "bigint" || chainId <= 0n || chainId > UINT256_MAX) {
    throw scopeError("chainId", "must be a bigint in [1, 2^256-1]", String(chainId));
  }
}

function checkAddress(field: string, value: string): string {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(value)) {
    throw scopeError(field, "must be a 20-byte hex address", value);
  }
  try {
    return getAddress(value);
  } catch {
    throw scopeError(field, "has a wrong EIP-55 checksum", value);
  }
}

function checkBytes32(field: string, value: string): string {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(value)) {
    throw scopeError(field, "must be 0x and 32 bytes of hex", value);
  }
  return value.toLowerCase();
}

function checkInteger(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw scopeError(field, `must be an integer in [${min}, ${max}]`, value);
  }
}

function checkScope(scope: ShareScope): void {
  checkChainId(scope.chainId);
  checkAddress("registry", scope.registry);
  checkBytes32("walletId", scope.walletId);
  checkAddress("account", scope.account);
  checkInteger("epoch", scope.epoch, 0, UINT32_MAX);
  checkInteger("total", scope.total, MIN_THRESHOLD, MAX_HOLDERS);
  checkInteger("threshold", scope.threshold, MIN_THRESHOLD, scope.total);
}

function checkPrivateKey(privateKey: Uint8Array): void {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== KEY_BYTES) {
    throw scopeError("privateKey", `must be a Uint8Array of ${KEY_BYTES} bytes`, undefined);
  }
  if (!secp256k1.utils.isValidSecretKey(privateKey)) {
    throw scopeError("privateKey", "is not a secp256k1 private key (0 or >= n)", undefined);
  }
}

function addressOfKey(privateKey: Uint8Array): string {
  return computeAddress(hexlify(secp256k1.getPublicKey(privateKey, false)));
}

// ─── commitments ───────────────────────────────────────────────────────────────

/**
 * A share's commitment, as `ShareRegistry.shareCommitment` computes it (see the module comment).
 * @param scope the chain, registry, wallet and epoch.
 * @param index 1-based, 1..255.
 * @param salt 32 bytes.
 * @param share the library's share bytes.
 * @returns lower-case 0x hex, 32 bytes.
 * @throws ShareError `KEYS_BAD_SCOPE` for a field out of range.
 */
export function shareCommitment(
  scope: { readonly chainId: bigint; readonly registry: string; readonly walletId: string; readonly epoch: number },
  index: number,
  salt: BytesLike,
  share: BytesLike,
): string {
  checkChainId(scope.chainId);
  const registry = checkAddress("registry", scope.registry);
  const walletId = checkBytes32("walletId", scope.walletId);
  checkInteger("epoch", scope.epoch, 0, UINT32_MAX);
  checkInteger("index", index, 1, 255);
  const saltBytes = getBytes(salt);
  if (saltBytes.length !== SALT_BYTES) throw scopeError("salt", `must be ${SALT_BYTES} bytes`, hexlify(saltBytes));
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["bytes32", "uint256", "address", "bytes32", "uint32", "uint8", "bytes32", "bytes32"],
      [SHARE_TYPEHASH, scope.chainId, registry, walletId, scope.epoch, index, saltBytes, keccak256(getBytes(share))],
    ),
  );
}

// ─── split and combine ─────────────────────────────────────────────────────────

/**
 * Splits `privateKey` into `scope.total` shares of which any `scope.threshold` recover it, through
 * `shamir-secret-sharing`. Share `i` (1-based) is the library's i-th output, with fresh salt and its commitment.
 * @throws ShareError `KEYS_BAD_SCOPE` (a field out of range, or not a private key), `KEYS_WRONG_KEY` (the key's
 *   address is not `scope.account`).
 */
export async function splitKey(privateKey: Uint8Array, scope: ShareScope): Promise<KeyShare[]> {
  checkScope(scope);
  checkPrivateKey(privateKey);
  const account = getAddress(scope.account);
  const address = addressOfKey(privateKey);
  if (address !== account) {
    throw new ShareError("KEYS_WRONG_KEY", `the key's address is ${address}, not the account ${account}`, {
      account,
      got: address,
    });
  }
  const base: ShareScope = {
    chainId: scope.chainId,
    registry: getAddress(scope.registry),
    walletId: scope.walletId.toLowerCase(),
    account,
    epoch: scope.epoch,
    threshold: scope.threshold,
    total: scope.total,
  };
  // A plain Uint8Array copy: the library refuses subclasses (a Node Buffer) by constructor.
  const parts = await split(new Uint8Array(privateKey), scope.total, scope.threshold);
  return parts.map((share, i) => {
    const salt = new Uint8Array(randomBytes(SALT_BYTES));
    const index = i + 1;
    return { ...base, version: 1, index, share, salt, commitment: shareCommitment(base, index, salt, share) };
  });
}

function checkExpected(expected: ExpectedShares): { registry: string; walletId: string; account: string } {
  checkChainId(expected.chainId);
  const registry = checkAddress("registry", expected.registry);
  const walletId = checkBytes32("walletId", expected.walletId);
  const account = checkAddress("account", expected.account);
  checkInteger("epoch", expected.epoch, 0, UINT32_MAX);
  if (!Array.isArray(expected.commitments)) throw scopeError("commitments", "must be an array", undefined);
  checkInteger("commitments.length", expected.commitments.length, MIN_THRESHOLD, MAX_HOLDERS);
  checkInteger("threshold", expected.threshold, MIN_THRESHOLD, expected.commitments.length);
  expected.commitments.forEach((commitment, i) => checkBytes32(`commitments[${i}]`, commitment));
  return { registry, walletId, account };
}

/**
 * Recovers the key from `expected.threshold` of `shares`. Every share is checked first, in the order given, and
 * the first bad one is named by its index; then exactly `threshold` shares (the lowest indices) are combined and
 * the key's address is checked against the account.
 * @throws ShareError (details carry `index` and the offending values):
 *   `KEYS_SHARE_WRONG_WALLET` (another chain, registry, wallet, account, threshold or total),
 *   `KEYS_SHARE_STALE` (another epoch: `{ index, epoch, current }`),
 *   `KEYS_SHARE_UNKNOWN_INDEX` (no commitment at that index),
 *   `KEYS_SHARE_DUPLICATE` (an index twice),
 *   `KEYS_SHARE_TAMPERED` (the recomputed commitment is not the chain's, or not the share's own: a changed byte,
 *   index or salt),
 *   `KEYS_TOO_FEW_SHARES` (`{ have, need }`), `KEYS_WRONG_KEY` (the key's address is not the account),
 *   `KEYS_BAD_SCOPE` (`expected` itself is malformed).
 */
export async function combineKey(shares: readonly KeyShare[], expected: ExpectedShares): Promise<Uint8Array> {
  const want = checkExpected(expected);
  const seen = new Map<number, KeyShare>();
  for (const share of shares) {
    checkShareAgainst(share, expected, want, seen);
    seen.set(share.index, share);
  }
  if (seen.size < expected.threshold) {
    throw new ShareError(
      "KEYS_TOO_FEW_SHARES",
      `${seen.size} valid share(s), ${expected.threshold} needed to recover the key`,
      { have: seen.size, need: expected.threshold, indices: [...seen.keys()].sort((a, b) => a - b) },
    );
  }
  const used = [...seen.values()].sort((a, b) => a.index - b.index).slice(0, expected.threshold);
  const key = await combine(used.map((share) => new Uint8Array(share.share)));
  const address = key.length === KEY_BYTES && secp256k1.utils.isValidSecretKey(key) ? addressOfKey(key) : undefined;
  if (address !== want.account) {
    key.fill(0);
    throw new ShareError(
      "KEYS_WRONG_KEY",
      `the shares combine to ${address ?? "no valid key"}, not the account ${want.account}`,
      { account: want.account, got: address ?? null, indices: used.map((share) => share.index) },
    );
  }
  return key;
}

/**
 * Checks one share against the wallet exactly as `combineKey` checks each of its shares (every field, the
 * commitment), without combining: what a recovering client runs on each share as it arrives, so that a share a
 * holder changed in a field the commitment does not cover (`account`, `threshold`, `total`) is set aside and
 * named there, instead of failing the combine of otherwise good shares.
 * @throws ShareError as `combineKey`'s per-share checks.
 */
export function checkShare(share: KeyShare, expected: ExpectedShares): void {
  checkShareAgainst(share, expected, checkExpected(expected), new Map());
}

function checkShareAgainst(
  share: KeyShare,
  expected: ExpectedShares,
  want: { registry: string; walletId: string; account: string },
  seen: ReadonlyMap<number, KeyShare>,
): void {
  const index = share.index;
  const wrong = (field: string, got: unknown, wanted: unknown) =>
    new ShareError("KEYS_SHARE_WRONG_WALLET", `share ${index} is for ${field} ${String(got)}, not ${String(wanted)}`, {
      index,
      field,
      got,
      expected: wanted,
    });
  if (share.version !== 1)
    throw new ShareError("KEYS_SHARE_MALFORMED", `share ${index} has an unknown version`, {
      index,
      version: share.version,
    });
  if (share.chainId !== expected.chainId) throw wrong("chainId", share.chainId.toString(), expected.chainId.toString());
  if (share.registry.toLowerCase() !== want.registry.toLowerCase())
    throw wrong("registry", share.registry, want.registry);
  if (share.walletId.toLowerCase() !== want.walletId) throw wrong("walletId", share.walletId, want.walletId);
  if (share.account.toLowerCase() !== want.account.toLowerCase()) throw wrong("account", share.account, want.account);
  if (share.epoch !== expected.epoch) {
    throw new ShareError(
      "KEYS_SHARE_STALE",
      `share ${index} is of epoch ${share.epoch}; the wallet is at epoch ${expected.epoch} (refresh made new shares)`,
      { index, epoch: share.epoch, current: expected.epoch },
    );
  }
  if (share.threshold !== expected.threshold) throw wrong("threshold", share.threshold, expected.threshold);
  if (share.total !== expected.commitments.length) throw wrong("total", share.total, expected.commitments.length);
  if (!Number.isInteger(index) || index < 1 || index > expected.commitments.length) {
    throw new ShareError(
      "KEYS_SHARE_UNKNOWN_INDEX",
      `share index ${String(index)} is not in 1..${expected.commitments.length}`,
      { index, holders: expected.commitments.length },
    );
  }
  if (seen.has(index)) {
    throw new ShareError("KEYS_SHARE_DUPLICATE", `share ${index} was given twice`, { index });
  }
  if (!(share.share instanceof Uint8Array) || share.share.length !== SHARE_BYTES || share.share[KEY_BYTES] === 0) {
    throw new ShareError("KEYS_SHARE_TAMPERED", `share ${index} is not ${SHARE_BYTES} bytes with a non-zero x`, {
      index,
    });
  }
  if (!(share.salt instanceof Uint8Array) || share.salt.length !== SALT_BYTES) {
    throw new ShareError("KEYS_SHARE_TAMPERED", `share ${index}'s salt is not ${SALT_BYTES} bytes`, { index });
  }
  const recomputed = shareCommitment(expected, index, share.salt, share.share);
  const onChain = expected.commitments[index - 1]!.toLowerCase();
  if (recomputed !== onChain || recomputed !== share.commitment.toLowerCase()) {
    throw new ShareError(
      "KEYS_SHARE_TAMPERED",
      `share ${index} does not match the commitment at index ${index} (a changed byte, index or salt)`,
      { index, commitment: recomputed, expected: onChain, claimed: share.commitment },
    );
  }
}

// ─── the canonical JSON form ───────────────────────────────────────────────────

/** The stored form of a share: fixed field order, integers as JSON numbers but `chainId` a decimal string. */
export const keyShareSchema = z
  .object({
    version: z.literal(1),
    chainId: z
      .string()
      .regex(/^[1-9]\d{0,77}$/, "must be a positive decimal string without leading zeros")
      // zod runs a refinement even after the regex failed: BigInt must only see digits.
      .refine((value) => !/^\d+$/.test(value) || BigInt(value) <= UINT256_MAX, "must fit in uint256"),
    registry: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte hex address"),
    walletId: z.string().regex(/^0x[0-9a-f]{64}$/, "must be 0x and 32 bytes of lower-case hex"),
    account: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte hex address"),
    epoch: z.number().int().min(0).max(UINT32_MAX),
    threshold: z.number().int().min(MIN_THRESHOLD).max(MAX_HOLDERS),
    total: z.number().int().min(MIN_THRESHOLD).max(MAX_HOLDERS),
    index: z.number().int().min(1).max(MAX_HOLDERS),
    share: z
      .string()
      .regex(new RegExp(`^0x[0-9a-f]{${SHARE_BYTES * 2}}$`), `must be 0x and ${SHARE_BYTES} bytes of lower-case hex`),
    salt: z
      .string()
      .regex(new RegExp(`^0x[0-9a-f]{${SALT_BYTES * 2}}$`), `must be 0x and ${SALT_BYTES} bytes of lower-case hex`),
    commitment: z.string().regex(/^0x[0-9a-f]{64}$/, "must be 0x and 32 bytes of lower-case hex"),
  })
  .strict();

/**
 * The canonical JSON of a share: the fields in the order `version, chainId, registry, walletId, account, epoch,
 * threshold, total, index, share, salt, commitment`, no white space, addresses checksummed, bytes lower-case hex.
 */
export function encodeShare(s: KeyShare): string {
  return JSON.stringify({
    version: s.version,
    chainId: s.chainId.toString(),
    registry: getAddress(s.registry),
    walletId: s.walletId.toLowerCase(),
    account: getAddress(s.account),
    epoch: s.epoch,
    threshold: s.threshold,
    total: s.total,
    index: s.index,
    share: hexlify(s.share),
    salt: hexlify(s.salt),
    commitment: s.commitment.toLowerCase(),
  });
}

/**
 * Reads a share's canonical JSON (strict: no other field, no other spelling; `encodeShare` of the result gives the
 * same text) and checks it is consistent: threshold ≤ total, index ≤ total, a non-zero x coordinate, and a
 * commitment that is its own.
 * @throws ShareError `KEYS_SHARE_MALFORMED` (`{ field }`), `KEYS_SHARE_TAMPERED` (`{ index }`, commitment not its own).
 */
export function decodeShare(text: string): KeyShare {
  const malformed = (why: string, field: string) =>
    new ShareError("KEYS_SHARE_MALFORMED", `not a key share: ${field === "" ? "" : `${field} `}${why}`, { field });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed("is not JSON", "");
  }
  const parsed = keyShareSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw malformed(issue.message, issue.path.join("."));
  }
  const data = parsed.data;
  let registry: string;
  let account: string;
  try {
    registry = getAddress(data.registry);
  } catch {
    throw malformed("has a wrong EIP-55 checksum", "registry");
  }
  try {
    account = getAddress(data.account);
  } catch {
    throw malformed("has a wrong EIP-55 checksum", "account");
  }
  if (data.threshold > data.total) throw malformed(`${data.threshold} exceeds total ${data.total}`, "threshold");
  if (data.index > data.total) throw malformed(`${data.index} exceeds total ${data.total}`, "index");
  const share: KeyShare = {
    version: 1,
    chainId: BigInt(data.chainId),
    registry,
    walletId: data.walletId,
    account,
    epoch: data.epoch,
    threshold: data.threshold,
    total: data.total,
    index: data.index,
    share: getBytes(data.share),
    salt: getBytes(data.salt),
    commitment: data.commitment,
  };
  if (share.share[KEY_BYTES] === 0) throw malformed("has the x coordinate 0", "share");
  if (encodeShare(share) !== text) throw malformed("is not in the canonical form (use encodeShare)", "");
  const recomputed = shareCommitment(share, share.index, share.salt, share.share);
  if (recomputed !== share.commitment) {
    throw new ShareError("KEYS_SHARE_TAMPERED", `share ${share.index}'s commitment is not of its own bytes and salt`, {
      index: share.index,
      commitment: recomputed,
      claimed: share.commitment,
    });
  }
  return share;
}
