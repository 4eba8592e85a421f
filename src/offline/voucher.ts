import {
  getAddress,
  hexlify,
  isAddress,
  randomBytes,
  TypedDataEncoder,
  verifyTypedData,
  type TypedDataField,
  MaxUint256,
} from "ethers";
import { z } from "zod";

import { RECEIVE_AUTHORIZATION_TYPES } from "../chain/permit.js";
import { zodIssue } from "../chain/zod-issue.js";

import { BankChainError, messageOf } from "../errors.js";

/**
 * Offline vouchers (docs/offline.md):
 *
 * - secured: an EIP-712 `Voucher` of the `OfflineVault` (domain "OfflineVault", "1"), paid from the payer's
 *   locked funds, chained per (payer, lane) by sequence and the previous voucher's hash;
 * - unsecured: an EIP-3009 `ReceiveWithAuthorization` of the `BankToken` (domain "BankToken", "1") from the
 *   buyer to the merchant, paid from the buyer's ordinary balance, with no vault behind it.
 *
 * On the wire amounts and integers are decimal strings (JSON has no `bigint`); inside they are `bigint`.
 */

/** A voucher, as the vault's `IOfflineVault.Voucher`. */
export interface Voucher {
  readonly payer: string;
  readonly merchant: string;
  readonly amount: bigint;
  readonly lane: bigint;
  readonly sequence: bigint;
  readonly previousVoucherHash: string;
  readonly validAfter: bigint;
  readonly validBefore: bigint;
}

/** An EIP-3009 `ReceiveWithAuthorization`: `from` lets `to` (and only `to`) pull `value`. */
export interface ReceiveAuthorization {
  readonly from: string;
  readonly to: string;
  readonly value: bigint;
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly nonce: string;
}

/** An EIP-712 domain with a chain id and a verifying contract. */
export interface TypedDomain {
  readonly name: string;
  readonly version: string;
  readonly chainId: bigint;
  readonly verifyingContract: string;
}

/** Anything that signs EIP-712 data: an ethers `Wallet` or a provider's signer. */
export interface TypedDataSigner {
  getAddress(): Promise<string>;
  signTypedData(
    domain: TypedDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string>;
}

/** A voucher that is malformed or whose signature cannot be checked. */
export class OfflineVoucherError extends BankChainError {}

export const VOUCHER_TYPES: Record<string, TypedDataField[]> = {
  Voucher: [
    { name: "payer", type: "address" },
    { name: "merchant", type: "address" },
    { name: "amount", type: "uint256" },
    { name: "lane", type: "uint256" },
    { name: "sequence", type: "uint256" },
    { name: "previousVoucherHash", type: "bytes32" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
  ],
};

/** EIP-3009's `ReceiveWithAuthorization`, the token's half of a voucher (the shared definition). */
export { RECEIVE_AUTHORIZATION_TYPES };

/** The vault's EIP-712 domain. */
export function vaultDomain(chainId: bigint, vault: string): TypedDomain {
  return { name: "OfflineVault", version: "1", chainId, verifyingContract: getAddress(vault) };
}

/** The token's EIP-712 domain (BankToken reports name "BankToken", version "1" through `eip712Domain()`). */
export function tokenDomain(chainId: bigint, token: string): TypedDomain {
  return { name: "BankToken", version: "1", chainId, verifyingContract: getAddress(token) };
}

/** The voucher's id: its EIP-712 digest, what the payer signs and the vault's `hashVoucher` returns. */
export function hashVoucher(domain: TypedDomain, voucher: Voucher): string {
  return TypedDataEncoder.hash(domain, VOUCHER_TYPES, { ...voucher });
}

/** Signs `voucher` as its payer; throws if `wallet` is not the payer. */
export async function signVoucher(wallet: TypedDataSigner, domain: TypedDomain, voucher: Voucher): Promise<string> {
  const address = await wallet.getAddress();
  if (getAddress(address) !== getAddress(voucher.payer)) {
    throw new OfflineVoucherError("OFFLINE_VOUCHER_NOT_PAYER", `the signer ${address} is not the payer`, {
      signer: address,
      payer: voucher.payer,
    });
  }
  return wallet.signTypedData(domain, VOUCHER_TYPES, { ...voucher });
}

/** The address that signed `voucher`, or `undefined` if the signature is not a valid ECDSA signature. */
export function recoverPayer(domain: TypedDomain, voucher: Voucher, signature: string): string | undefined {
  try {
    return getAddress(verifyTypedData(domain, VOUCHER_TYPES, { ...voucher }, signature));
  } catch {
    return undefined;
  }
}

/** The EIP-712 digest of an authorization (an id for the merchant's store). */
export function hashReceiveAuthorization(domain: TypedDomain, auth: ReceiveAuthorization): string {
  return TypedDataEncoder.hash(domain, RECEIVE_AUTHORIZATION_TYPES, { ...auth });
}

/** A fresh random EIP-3009 nonce. */
export function randomNonce(): string {
  return hexlify(randomBytes(32));
}

/** Signs an EIP-3009 `ReceiveWithAuthorization` as `auth.from`. */
export async function signReceiveAuthorization(
  wallet: TypedDataSigner,
  domain: TypedDomain,
  auth: ReceiveAuthorization,
): Promise<string> {
  const address = await wallet.getAddress();
  if (getAddress(address) !== getAddress(auth.from)) {
    throw new OfflineVoucherError("OFFLINE_VOUCHER_NOT_PAYER", `the signer ${address} is not the authorizer`, {
      signer: address,
      from: auth.from,
    });
  }
  return wallet.signTypedData(domain, RECEIVE_AUTHORIZATION_TYPES, { ...auth });
}

/** The address that signed `auth`, or `undefined` if the signature is invalid. */
export function recoverAuthorizer(
  domain: TypedDomain,
  auth: ReceiveAuthorization,
  signature: string,
): string | undefined {
  try {
    return getAddress(verifyTypedData(domain, RECEIVE_AUTHORIZATION_TYPES, { ...auth }, signature));
  } catch {
    return undefined;
  }
}

// ── JSON forms ──

const uintString = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,77})$/, "a decimal integer without leading zeros")
  .refine((s) => BigInt(s) <= MaxUint256, "at most 2^256 - 1");
export const addressSchema = z
  .string()
  .refine((s) => /^0x[0-9a-fA-F]{40}$/.test(s) && isAddress(s), "an address (0x and 40 hex digits)");
export const bytes32Schema = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "0x and 64 hex digits");
export const signatureSchema = z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a 65-byte signature, 0x and 130 hex digits");
export { uintString as uintStringSchema };

export const voucherJsonSchema = z
  .object({
    payer: addressSchema,
    merchant: addressSchema,
    amount: uintString,
    lane: uintString,
    sequence: uintString,
    previousVoucherHash: bytes32Schema,
    validAfter: uintString,
    validBefore: uintString,
  })
  .strict();
export type VoucherJson = z.infer<typeof voucherJsonSchema>;

export const authorizationJsonSchema = z
  .object({
    from: addressSchema,
    to: addressSchema,
    value: uintString,
    validAfter: uintString,
    validBefore: uintString,
    nonce: bytes32Schema,
  })
  .strict();
export type ReceiveAuthorizationJson = z.infer<typeof authorizationJsonSchema>;

export function voucherToJson(v: Voucher): VoucherJson {
  return {
    payer: getAddress(v.payer),
    merchant: getAddress(v.merchant),
    amount: v.amount.toString(),
    lane: v.lane.toString(),
    sequence: v.sequence.toString(),
    previousVoucherHash: v.previousVoucherHash.toLowerCase(),
    validAfter: v.validAfter.toString(),
    validBefore: v.validBefore.toString(),
  };
}

/** Parses a JSON voucher (validated first); throws `OfflineVoucherError` naming the bad field. */
export function voucherFromJson(value: unknown): Voucher {
  const parsed = voucherJsonSchema.safeParse(value);
  if (!parsed.success) throw malformed("voucher", parsed.error);
  const j = parsed.data;
  return {
    payer: getAddress(j.payer),
    merchant: getAddress(j.merchant),
    amount: BigInt(j.amount),
    lane: BigInt(j.lane),
    sequence: BigInt(j.sequence),
    previousVoucherHash: j.previousVoucherHash.toLowerCase(),
    validAfter: BigInt(j.validAfter),
    validBefore: BigInt(j.validBefore),
  };
}

export function authorizationToJson(a: ReceiveAuthorization): ReceiveAuthorizationJson {
  return {
    from: getAddress(a.from),
    to: getAddress(a.to),
    value: a.value.toString(),
    validAfter: a.validAfter.toString(),
    validBefore: a.validBefore.toString(),
    nonce: a.nonce.toLowerCase(),
  };
}

export function authorizationFromJson(value: unknown): ReceiveAuthorization {
  const parsed = authorizationJsonSchema.safeParse(value);
  if (!parsed.success) throw malformed("authorization", parsed.error);
  const j = parsed.data;
  return {
    from: getAddress(j.from),
    to: getAddress(j.to),
    value: BigInt(j.value),
    validAfter: BigInt(j.validAfter),
    validBefore: BigInt(j.validBefore),
    nonce: j.nonce.toLowerCase(),
  };
}

function malformed(what: string, error: z.ZodError): OfflineVoucherError {
  const issue = zodIssue(error, what);
  const field = issue.code === "REQUEST_NOT_AN_OBJECT" ? what : `${what}.${issue.field}`;
  return new OfflineVoucherError("OFFLINE_VOUCHER_MALFORMED", `bad ${what}: ${issue.message}`, { field });
}
