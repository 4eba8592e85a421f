/**
 * The signed records of content rewards (issue 18) and their EIP-712 form.
 *
 * Five typed structs under the domain `{ name: "BankChain Rewards", version:
 * "1", chainId, verifyingContract: RewardDistributor }`:
 *
 *   PresenceQuery(bytes32 venueId,uint64 cell,uint64 epoch,bytes32 nonce,uint64 time)           the venue's player
 *   PresenceResponse(address device,bytes32 venueId,uint64 epoch,bytes32 nonce,uint64 time)      the device
 *   Playback(bytes32 contentId,bytes32 producerId,bytes32 venueId,uint64 start,uint32 duration)  the venue's player
 *   Receipt(bytes32 recordHash,uint64 epoch,uint64 time)                                         an oracle, at ingest
 *   EpochRoot(bytes32 campaignId,uint64 epoch,bytes32 root,uint256 total,bytes32 evidenceRoot,uint64 cutoff,uint64 oracleSetVersion)
 *
 * A record's hash is its EIP-712 digest (`_hashTypedDataV4(structHash)` on
 * chain), so the same record hashes differently on another chain or for
 * another distributor. Signatures are plain ECDSA: 65 bytes r ‖ s ‖ v, `v` 27
 * or 28, low `s` (EIP-2), as OpenZeppelin's `ECDSA.recover` takes them; never
 * ERC-1271.
 *
 * In TypeScript every integer is a `bigint`, every `bytes32` a lower-case 0x
 * hex string and every address checksummed. On the wire (JSON) integers are
 * decimal strings; the zod schemas here read that form and `recordToJson`
 * writes it.
 *
 * Epochs: `epoch = floor((t - genesis) / epochLength)`; epoch `e` is the
 * half-open interval `[epochStart(e), epochEnd(e))`.
 */
import { extendZodWithOpenApi } from "@asteasolutions/zod-to-openapi";
import {
  getAddress,
  isHexString,
  recoverAddress,
  Signature,
  TypedDataEncoder,
  type Signer,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";
import { z } from "zod";

import { addressSchema } from "../chain/schemas.js";

import { BankChainError } from "../errors.js";

extendZodWithOpenApi(z);

/** The RewardDistributor's EIP-712 domain name and version. */
export const REWARDS_DOMAIN = { name: "BankChain Rewards", version: "1" } as const;

/** How long after its query a presence response may be made, in seconds. */
export const RESPONSE_WINDOW = 120n;

/** `bytes32(0)`: the first link of the evidence list and the root of a campaign with nothing to claim. */
export const ZERO_HASH = `0x${"00".repeat(32)}`;
/** `bytes32(type(uint256).max)`: the last link of the evidence list. */
export const MAX_HASH = `0x${"ff".repeat(32)}`;

/** secp256k1's order divided by two: a signature with a larger `s` is the malleable twin of another (EIP-2). */
export const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

const UINT32_MAX = (1n << 32n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
const UINT256_MAX = (1n << 256n) - 1n;

/** A venue's player asks the devices around it to answer (`nonce`) at `time`. */
export interface PresenceQuery {
  readonly venueId: string;
  /** The venue's H3 cell (res 9..12) as a uint64: `BigInt("0x" + h3)`. */
  readonly cell: bigint;
  readonly epoch: bigint;
  /** 32 random bytes, single use per venue and epoch. */
  readonly nonce: string;
  /** Unix seconds. */
  readonly time: bigint;
}

/** A device answers a venue's query. */
export interface PresenceResponse {
  /** The device's address (its key signs the response). */
  readonly device: string;
  readonly venueId: string;
  readonly epoch: bigint;
  /** The query's nonce. */
  readonly nonce: string;
  /** Unix seconds. */
  readonly time: bigint;
}

/** A venue played a content from `start` for `duration` seconds. */
export interface Playback {
  readonly contentId: string;
  readonly producerId: string;
  readonly venueId: string;
  /** Unix seconds. */
  readonly start: bigint;
  /** Seconds (a uint32). */
  readonly duration: bigint;
}

/** An oracle received the record `recordHash` (of epoch `epoch`) at `time`. */
export interface Receipt {
  readonly recordHash: string;
  readonly epoch: bigint;
  /** Unix seconds. */
  readonly time: bigint;
}

/** What m of n oracles sign for a campaign's epoch. */
export interface EpochRoot {
  readonly campaignId: string;
  readonly epoch: bigint;
  /** The producer tree's root (`bytes32(0)` when nothing is claimable). */
  readonly root: string;
  /** The sum of the producers' cumulative amounts. */
  readonly total: bigint;
  /** The evidence tree's root. */
  readonly evidenceRoot: string;
  /** Unix seconds: receipts after it are not in the evidence. */
  readonly cutoff: bigint;
  readonly oracleSetVersion: bigint;
}

/** The records by their EIP-712 type name. */
export interface RecordKinds {
  PresenceQuery: PresenceQuery;
  PresenceResponse: PresenceResponse;
  Playback: Playback;
  Receipt: Receipt;
  EpochRoot: EpochRoot;
}

export type RecordKind = keyof RecordKinds;

/** The kinds that are evidence (what the oracles receipt and the evidence tree lists). */
export const EVIDENCE_KINDS = ["PresenceQuery", "PresenceResponse", "Playback"] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/** The EIP-712 types of each record, one struct per kind. */
export const REWARD_TYPES: { readonly [K in RecordKind]: Readonly<Record<string, TypedDataField[]>> } = Object.freeze({
  PresenceQuery: {
    PresenceQuery: [
      { name: "venueId", type: "bytes32" },
      { name: "cell", type: "uint64" },
      { name: "epoch", type: "uint64" },
      { name: "nonce", type: "bytes32" },
      { name: "time", type: "uint64" },
    ],
  },
  PresenceResponse: {
    PresenceResponse: [
      { name: "device", type: "address" },
      { name: "venueId", type: "bytes32" },
      { name: "epoch", type: "uint64" },
      { name: "nonce", type: "bytes32" },
      { name: "time", type: "uint64" },
    ],
  },
  Playback: {
    Playback: [
      { name: "contentId", type: "bytes32" },
      { name: "producerId", type: "bytes32" },
      { name: "venueId", type: "bytes32" },
      { name: "start", type: "uint64" },
      { name: "duration", type: "uint32" },
    ],
  },
  Receipt: {
    Receipt: [
      { name: "recordHash", type: "bytes32" },
      { name: "epoch", type: "uint64" },
      { name: "time", type: "uint64" },
    ],
  },
  EpochRoot: {
    EpochRoot: [
      { name: "campaignId", type: "bytes32" },
      { name: "epoch", type: "uint64" },
      { name: "root", type: "bytes32" },
      { name: "total", type: "uint256" },
      { name: "evidenceRoot", type: "bytes32" },
      { name: "cutoff", type: "uint64" },
      { name: "oracleSetVersion", type: "uint64" },
    ],
  },
});

/** A signature could not be read, or is in the malleable high-s form. */
export class RewardSignatureError extends BankChainError {}

/** An epoch computation was asked outside its domain (before genesis, or with a zero epoch length). */
export class RewardEpochError extends BankChainError {}

/** The RewardDistributor's EIP-712 domain on `chainId`. */
export function rewardsDomain(chainId: bigint, distributor: string): TypedDataDomain {
  return { ...REWARDS_DOMAIN, chainId, verifyingContract: getAddress(distributor) };
}

/** A record's hash: its EIP-712 digest under `domain` (what `hash<Kind>` on the distributor returns). */
export function recordHash<K extends RecordKind>(domain: TypedDataDomain, kind: K, record: RecordKinds[K]): string {
  return TypedDataEncoder.hash(domain, REWARD_TYPES[kind], record as unknown as Record<string, unknown>);
}

/** Signs a record with an ethers signer (a wallet, or a node's account). */
export async function signRecord<K extends RecordKind>(
  signer: Signer,
  domain: TypedDataDomain,
  kind: K,
  record: RecordKinds[K],
): Promise<string> {
  return signer.signTypedData(domain, REWARD_TYPES[kind], record as unknown as Record<string, unknown>);
}

/**
 * The address that signed `digest`, as OpenZeppelin's `ECDSA.recover` reads
 * a 65-byte signature.
 * @throws RewardSignatureError `REWARD_BAD_SIGNATURE` (not 65 bytes, `v` not 27/28, no key recovers) or
 *   `REWARD_HIGH_S_SIGNATURE`.
 */
export function recoverDigestSigner(digest: string, signature: string): string {
  if (!isHexString(signature, 65)) {
    throw new RewardSignatureError("REWARD_BAD_SIGNATURE", "signature must be 0x and 65 bytes (r ‖ s ‖ v)", {
      field: "signature",
      signature,
    });
  }
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  if (v !== 27 && v !== 28) {
    throw new RewardSignatureError("REWARD_BAD_SIGNATURE", `signature's v must be 27 or 28, got ${v}`, {
      field: "signature",
      v,
    });
  }
  if (s > HALF_ORDER) {
    throw new RewardSignatureError(
      "REWARD_HIGH_S_SIGNATURE",
      "signature has a high s (the malleable form, which the chain refuses); use the low-s form",
      { field: "signature", s: s.toString() },
    );
  }
  try {
    return recoverAddress(digest, Signature.from(signature));
  } catch (error) {
    throw new RewardSignatureError(
      "REWARD_BAD_SIGNATURE",
      "signature does not recover to any key",
      { field: "signature", signature },
      { cause: error },
    );
  }
}

/**
 * The address that signed a record under `domain`.
 * @throws RewardSignatureError as `recoverDigestSigner`.
 */
export function recoverRecordSigner<K extends RecordKind>(
  domain: TypedDataDomain,
  kind: K,
  record: RecordKinds[K],
  signature: string,
): string {
  return recoverDigestSigner(recordHash(domain, kind, record), signature);
}

/** As `recoverRecordSigner`, but `undefined` for a signature it refuses (unreadable, high `s`, no key). */
export function tryRecoverRecordSigner<K extends RecordKind>(
  domain: TypedDataDomain,
  kind: K,
  record: RecordKinds[K],
  signature: string,
): string | undefined {
  try {
    return recoverRecordSigner(domain, kind, record, signature);
  } catch (error) {
    if (error instanceof RewardSignatureError) return undefined;
    throw error;
  }
}

function checkEpochLength(genesis: bigint, epochLength: bigint): void {
  if (epochLength <= 0n) {
    throw new RewardEpochError("REWARD_BAD_EPOCH_LENGTH", `epochLength must be positive, got ${epochLength}`, {
      genesis: genesis.toString(),
      epochLength: epochLength.toString(),
    });
  }
}

/**
 * The epoch of unix time `time`: `floor((time - genesis) / epochLength)`.
 * @throws RewardEpochError `REWARD_BEFORE_GENESIS` when `time < genesis`, `REWARD_BAD_EPOCH_LENGTH`.
 */
export function epochOf(time: bigint, genesis: bigint, epochLength: bigint): bigint {
  checkEpochLength(genesis, epochLength);
  if (time < genesis) {
    throw new RewardEpochError("REWARD_BEFORE_GENESIS", `time ${time} is before genesis ${genesis}`, {
      time: time.toString(),
      genesis: genesis.toString(),
    });
  }
  return (time - genesis) / epochLength;
}

/** The first second of `epoch`: `genesis + epoch * epochLength`. */
export function epochStart(epoch: bigint, genesis: bigint, epochLength: bigint): bigint {
  checkEpochLength(genesis, epochLength);
  return genesis + epoch * epochLength;
}

/** The end of `epoch` (the first second of the next one): `genesis + (epoch + 1) * epochLength`. */
export function epochEnd(epoch: bigint, genesis: bigint, epochLength: bigint): bigint {
  checkEpochLength(genesis, epochLength);
  return genesis + (epoch + 1n) * epochLength;
}

// ─── the JSON wire form ────────────────────────────────────────────────────────

const decimal = (max: bigint, bits: number) =>
  z
    .string()
    .regex(/^(0|[1-9]\d{0,77})$/, "must be a decimal string without leading zeros")
    .transform((value) => BigInt(value))
    .refine((value) => value <= max, `must fit in uint${bits}`)
    .openapi({ type: "string", description: `uint${bits} as a decimal string`, example: "1767225600" });

/** A uint32 as a decimal string. */
export const uint32Schema = decimal(UINT32_MAX, 32);
/** A uint64 as a decimal string. */
export const uint64Schema = decimal(UINT64_MAX, 64);
/** A uint256 as a decimal string. */
export const uint256Schema = decimal(UINT256_MAX, 256);

/** A bytes32, 0x and 64 hex digits, read in lower case. */
export const bytes32Schema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x and 32 bytes of hex")
  .transform((value) => value.toLowerCase())
  .openapi({ example: `0x${"ab".repeat(32)}` });

export { addressSchema };

/** A 65-byte ECDSA signature r ‖ s ‖ v, read in lower case (its `v` and `s` are checked on recovery). */
export const signatureSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{130}$/, "must be 0x and 65 bytes (r ‖ s ‖ v)")
  .transform((value) => value.toLowerCase())
  .openapi({ description: "65 bytes r ‖ s ‖ v, v 27 or 28, low s" });

export const presenceQuerySchema = z
  .object({
    venueId: bytes32Schema,
    cell: uint64Schema,
    epoch: uint64Schema,
    nonce: bytes32Schema,
    time: uint64Schema,
  })
  .strict()
  .openapi("PresenceQuery");

export const presenceResponseSchema = z
  .object({
    device: addressSchema,
    venueId: bytes32Schema,
    epoch: uint64Schema,
    nonce: bytes32Schema,
    time: uint64Schema,
  })
  .strict()
  .openapi("PresenceResponse");

export const playbackSchema = z
  .object({
    contentId: bytes32Schema,
    producerId: bytes32Schema,
    venueId: bytes32Schema,
    start: uint64Schema,
    duration: uint32Schema,
  })
  .strict()
  .openapi("Playback");

export const receiptSchema = z
  .object({ recordHash: bytes32Schema, epoch: uint64Schema, time: uint64Schema })
  .strict()
  .openapi("Receipt");

export const epochRootSchema = z
  .object({
    campaignId: bytes32Schema,
    epoch: uint64Schema,
    root: bytes32Schema,
    total: uint256Schema,
    evidenceRoot: bytes32Schema,
    cutoff: uint64Schema,
    oracleSetVersion: uint64Schema,
  })
  .strict()
  .openapi("EpochRoot");

/** Each record's schema by kind. */
export const RECORD_SCHEMAS = {
  PresenceQuery: presenceQuerySchema,
  PresenceResponse: presenceResponseSchema,
  Playback: playbackSchema,
  Receipt: receiptSchema,
  EpochRoot: epochRootSchema,
} as const;

/** An evidence record with its signature, as submitted: `{ kind, record, signature }`. */
export const signedEvidenceSchema = z
  .discriminatedUnion("kind", [
    z.object({ kind: z.literal("PresenceQuery"), record: presenceQuerySchema, signature: signatureSchema }).strict(),
    z
      .object({ kind: z.literal("PresenceResponse"), record: presenceResponseSchema, signature: signatureSchema })
      .strict(),
    z.object({ kind: z.literal("Playback"), record: playbackSchema, signature: signatureSchema }).strict(),
  ])
  .openapi("SignedEvidence");

/** A signed evidence record, as `signedEvidenceSchema` reads it. */
export type SignedEvidence = {
  [K in EvidenceKind]: { readonly kind: K; readonly record: RecordKinds[K]; readonly signature: string };
}[EvidenceKind];

/** A record in its JSON form: integers as decimal strings, the rest as is. */
export function recordToJson(record: RecordKinds[RecordKind]): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).map(([name, value]) => [name, typeof value === "bigint" ? value.toString() : String(value)]),
  );
}
