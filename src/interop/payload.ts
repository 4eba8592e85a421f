/**
 * The generic transaction payload of `IInteropGateway` as the API gateway
 * takes it in JSON: its validation (zod, at the boundary), its EIP-712 id
 * (the digest the InteropGateway's `payloadDigest` returns) and the signature
 * checks made off chain before anything is stored or sent.
 *
 * JSON form: `version` a number, chains CAIP-2 (`eip155:<chain id>`), `kind`
 * by name, `target`/`asset` addresses, `amount`/`nonce` decimal strings,
 * `data` hex, `deadline` unix seconds (a number, or a decimal string).
 */
import { extendZodWithOpenApi } from "@asteasolutions/zod-to-openapi";
import {
  getAddress,
  hexlify,
  isHexString,
  recoverAddress,
  Signature,
  TypedDataEncoder,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";
import { z } from "zod";

import { addressSchema } from "../chain/schemas.js";

import { BankChainError } from "../errors.js";

extendZodWithOpenApi(z);

/** The EIP-712 domain name and version of the InteropGateway. */
export const INTEROP_GATEWAY_DOMAIN = { name: "BankChain InteropGateway", version: "1" } as const;

/** `IInteropGateway.Kind`, by name, in the enum's order. */
export const KINDS = ["Transfer", "Exchange", "Call", "CrossChain"] as const;
export type Kind = (typeof KINDS)[number];

/** The only payload version the gateway executes. */
export const PAYLOAD_VERSION = 1;

/** EIP-712 types of `Payload` (the enum is its `uint8`). */
export const PAYLOAD_TYPES: Record<string, TypedDataField[]> = {
  Payload: [
    { name: "version", type: "uint8" },
    { name: "sourceChain", type: "string" },
    { name: "destinationChain", type: "string" },
    { name: "kind", type: "uint8" },
    { name: "target", type: "address" },
    { name: "asset", type: "address" },
    { name: "amount", type: "uint256" },
    { name: "data", type: "bytes" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint64" },
  ],
};

const UINT256_MAX = (1n << 256n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
/** secp256k1's order divided by two: a signature with a larger `s` is malleable and the chain refuses it. */
export const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;
/** ERC-1271 `isValidSignature`'s magic value. */
const ERC1271_MAGIC = "0x1626ba7e";
/** Largest `data` accepted, in bytes. */
export const MAX_DATA_BYTES = 16 * 1024;
/** Largest signature accepted (an ERC-1271 signer's may be longer than 65 bytes). */
export const MAX_SIGNATURE_BYTES = 2 * 1024;

/** The payload's signature does not check out off chain (HTTP 400). */
export class SignatureInvalidError extends BankChainError {}

const decimal = (bits: 64 | 256, what: string) =>
  z
    .string()
    .regex(/^(0|[1-9]\d*)$/, `must be ${what} as a decimal string without leading zeros`)
    .transform((value) => BigInt(value))
    .refine((value) => value <= (bits === 64 ? UINT64_MAX : UINT256_MAX), `must fit in uint${bits}`);

const address = addressSchema;

const hexBytes = (max: number) =>
  z
    .string()
    .regex(/^0x([0-9a-fA-F]{2})*$/, "must be 0x-prefixed hex, two digits per byte")
    .refine((value) => (value.length - 2) / 2 <= max, `must be at most ${max} bytes`)
    .transform((value) => value.toLowerCase());

/** A CAIP-2 EVM chain id, `eip155:<decimal>`, canonical (as `CAIP2.format` writes it). */
export const caip2Schema = z
  .string()
  .regex(/^eip155:[1-9]\d{0,76}$/, "must be a CAIP-2 EVM chain id such as eip155:1 (no leading zeros)")
  .openapi({ example: "eip155:4242" });

const deadline = z
  .union([
    z.number().int().nonnegative().refine(Number.isSafeInteger, "is too large for a JSON number; send it as a string"),
    z.string(),
  ])
  .transform((value) => String(value))
  .pipe(decimal(64, "unix seconds"))
  .openapi({ type: "integer", description: "unix seconds (source chain time), a number or a decimal string" });

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

/**
 * The payload as JSON. Beyond the shapes, the rules that need no chain are
 * checked here (each a 400 naming its field), as the InteropGateway checks
 * them: version 1; a native kind on one chain, `CrossChain` between two; a
 * `Call` with no asset and no amount and at least a selector of data; any
 * other kind with a target, an amount and (but an `Exchange`) no data.
 */
export const payloadSchema = z
  .object({
    version: z.number().int().min(0).max(255).openapi({ example: PAYLOAD_VERSION }),
    sourceChain: caip2Schema,
    destinationChain: caip2Schema,
    kind: z.enum(KINDS),
    target: address,
    asset: address,
    amount: decimal(256, "a whole number of minor units").openapi({ type: "string", example: "1000" }),
    data: hexBytes(MAX_DATA_BYTES).openapi({ example: "0x" }),
    nonce: decimal(256, "a whole number").openapi({ type: "string", example: "1" }),
    deadline,
  })
  .strict()
  .superRefine((payload, context) => {
    const refuse = (path: string, message: string): void =>
      void context.addIssue({ code: z.ZodIssueCode.custom, path: [path], message });
    if (payload.version !== PAYLOAD_VERSION) refuse("version", `must be ${PAYLOAD_VERSION}, the only version executed`);
    const native = payload.sourceChain === payload.destinationChain;
    if (payload.kind === "CrossChain" && native) {
      refuse("destinationChain", "must differ from sourceChain for a CrossChain payload");
    }
    if (payload.kind !== "CrossChain" && !native) {
      refuse("destinationChain", `must equal sourceChain for a native ${payload.kind} (or use kind CrossChain)`);
    }
    if (payload.kind === "Call") {
      if (payload.asset !== ZERO_ADDRESS) refuse("asset", "must be the zero address for a Call");
      if (payload.amount !== 0n) refuse("amount", "must be 0 for a Call (no value moves)");
      if (payload.data.length < 10) refuse("data", "must hold at least the 4-byte selector of the call");
      return;
    }
    if (payload.target === ZERO_ADDRESS) refuse("target", "must not be the zero address");
    if (payload.amount === 0n) refuse("amount", "must be at least 1 minor unit");
    if (payload.kind !== "Exchange" && payload.data !== "0x")
      refuse("data", `must be empty (0x) for a ${payload.kind}`);
  })
  .openapi("Payload");

export type Payload = z.output<typeof payloadSchema>;

/** `POST /transactions`' body. */
export const submissionSchema = z
  .object({
    payload: payloadSchema,
    signer: address,
    signature: hexBytes(MAX_SIGNATURE_BYTES).refine((value) => value.length > 2, "must not be empty"),
  })
  .strict()
  .openapi("TransactionRequest");

export type Submission = z.output<typeof submissionSchema>;

/** The EVM chain id of a CAIP-2 `eip155:` id. */
export function chainIdOf(caip2: string): bigint {
  return BigInt(caip2.slice("eip155:".length));
}

/** The CAIP-2 id of an EVM chain id. */
export function caip2Of(chainId: bigint): string {
  return `eip155:${chainId}`;
}

/** The InteropGateway's EIP-712 domain on `chainId`. */
export function interopGatewayDomain(chainId: bigint, gateway: string): TypedDataDomain {
  return { ...INTEROP_GATEWAY_DOMAIN, chainId, verifyingContract: getAddress(gateway) };
}

/** The payload as the EIP-712 message (and the contract's tuple). */
export function payloadStruct(payload: Payload) {
  return {
    version: payload.version,
    sourceChain: payload.sourceChain,
    destinationChain: payload.destinationChain,
    kind: KINDS.indexOf(payload.kind),
    target: payload.target,
    asset: payload.asset,
    amount: payload.amount,
    data: payload.data,
    nonce: payload.nonce,
    deadline: payload.deadline,
  };
}

/** The payload's id: its EIP-712 digest in the domain of the InteropGateway at `gateway` on `chainId`. */
export function payloadDigest(payload: Payload, chainId: bigint, gateway: string): string {
  return TypedDataEncoder.hash(interopGatewayDomain(chainId, gateway), PAYLOAD_TYPES, payloadStruct(payload));
}

/** The payload back in its JSON form (amounts as strings), as the API shows and stores it. */
export function payloadJson(payload: Payload): Record<string, unknown> {
  return {
    ...payload,
    amount: payload.amount.toString(),
    nonce: payload.nonce.toString(),
    deadline:
      Number(payload.deadline) <= Number.MAX_SAFE_INTEGER ? Number(payload.deadline) : payload.deadline.toString(),
  };
}

/** Reads what `payloadJson` wrote. */
export function payloadFromJson(json: string): Payload {
  return payloadSchema.parse(JSON.parse(json));
}

/**
 * The signer an ECDSA signature of `digest` recovers to, as the chain
 * (OpenZeppelin's `ECDSA.tryRecover`) reads it: 65 bytes, `v` 27 or 28, a
 * low `s`; undefined for anything else.
 */
export function recoverEcdsa(digest: string, signature: string): string | undefined {
  if (!isHexString(signature, 65)) return undefined;
  const bytes = signature.slice(2);
  const s = BigInt(`0x${bytes.slice(64, 128)}`);
  const v = Number.parseInt(bytes.slice(128, 130), 16);
  if (s > HALF_ORDER || (v !== 27 && v !== 28)) return undefined;
  try {
    return recoverAddress(digest, Signature.from(signature));
  } catch {
    return undefined;
  }
}

/** What the signature check may ask the source chain. */
export interface SignerCode {
  getCode(address: string): Promise<string>;
  /** ERC-1271: `isValidSignature(digest, signature)` on the signer; its 4-byte answer. */
  isValidSignature(signer: string, digest: string, signature: string): Promise<string>;
}

/** Whether `code` is an EIP-7702 delegation designator (`0xef0100 || delegate`). */
export function isDelegationDesignator(code: string): boolean {
  return code.length === 2 + 23 * 2 && code.toLowerCase().startsWith("0xef0100");
}

/**
 * Checks `signature` over `digest` as the InteropGateway will: the signer's
 * low-s ECDSA signature, else (for a contract that is not an EIP-7702
 * delegated account) ERC-1271. An account with code is never taken on its
 * code's word when it is an EOA with a delegation.
 *
 * @throws SignatureInvalidError
 */
export async function checkSignature(
  digest: string,
  signer: string,
  signature: string,
  chain: SignerCode,
): Promise<"ecdsa" | "erc1271"> {
  const recovered = recoverEcdsa(digest, signature);
  if (recovered !== undefined && recovered === getAddress(signer)) return "ecdsa";
  const code = await chain.getCode(signer);
  if (code !== "0x" && !isDelegationDesignator(code)) {
    let answer: string;
    try {
      answer = await chain.isValidSignature(signer, digest, signature);
    } catch {
      answer = "0x";
    }
    if (hexlify(answer).slice(0, 10).toLowerCase() === ERC1271_MAGIC) return "erc1271";
  }
  throw new SignatureInvalidError(
    "SIGNATURE_INVALID",
    recovered === undefined
      ? `signature is not a valid signature of ${signer} over the payload's id ${digest}` +
          " (65 bytes, v 27 or 28, low s; or ERC-1271 for a contract signer)"
      : `signature is by ${recovered}, not by signer ${signer}`,
    { signer, digest, recovered: recovered ?? null, field: "signature" },
  );
}
