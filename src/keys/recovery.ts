/**
 * The passphrase recovery factor of a secret-shared wallet (issue 19): a
 * secp256k1 key derived from a passphrase with scrypt, whose address the
 * owner lists as a recoverer in the ShareRegistry. With it, the owner (having
 * lost the device key) opens channels to the holders as that recoverer and
 * fetches the shares.
 *
 *   salt = utf8("bank-chain/keys/recovery/v1") ‖ uint256be(chainId) ‖ registry(20) ‖ walletId(32)
 *   okm  = scrypt(NFKD(passphrase) as UTF-8, salt, N = 2^17, r = 8, p = 1, dkLen = 48)
 *   key  = (okm as a big-endian integer mod (n - 1)) + 1        (noble's mapHashToField, FIPS 186-5 A.2.1)
 *
 * The salt binds the key to one wallet on one registry and chain: the same
 * passphrase for another wallet gives an unrelated key. 48 bytes reduced
 * modulo n - 1 leave a bias below 2^-128. A passphrase shorter than 12
 * characters (grapheme clusters, after NFKD) is refused.
 *
 * A guardian needs nothing from here: it is any recoverer address whose own
 * key opens the channel.
 */
import { mapHashToField } from "@noble/curves/abstract/modular.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { computeAddress, getAddress, getBytes, hexlify, toBeArray } from "ethers";

import { BankChainError } from "../errors.js";

/** The scrypt cost of a recovery key: 128 MiB and about a second per try. */
export const RECOVERY_SCRYPT: Readonly<RecoveryScryptParams> = Object.freeze({ N: 2 ** 17, r: 8, p: 1, dkLen: 48 });

/** The salt's domain tag. */
export const RECOVERY_TAG = "bank-chain/keys/recovery/v1";

/** The shortest passphrase accepted, in characters (grapheme clusters of the NFKD form). */
export const MIN_PASSPHRASE_CHARACTERS = 12;

/** scrypt's cost parameters; `dkLen` at least 48 so the reduction to a scalar is unbiased. */
export interface RecoveryScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly dkLen: number;
}

/** Which wallet a recovery key is for. */
export interface RecoveryScope {
  readonly chainId: bigint;
  /** The ShareRegistry's address. */
  readonly registry: string;
  /** 0x and 32 bytes. */
  readonly walletId: string;
}

/** A recovery key could not be derived. The passphrase is never in `details`. */
export class RecoveryError extends BankChainError {}

const UINT256_MAX = (1n << 256n) - 1n;

/** The number of characters (grapheme clusters) of a string. */
function characters(text: string): number {
  let count = 0;
  for (const _ of new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text)) count += 1;
  return count;
}

/** The scrypt salt for `scope` (see the module comment). */
export function recoverySalt(scope: RecoveryScope): Uint8Array {
  const bad = (field: string, why: string, value: unknown) =>
    new RecoveryError("KEYS_BAD_SCOPE", `${field} ${why}`, { field, value });
  if (typeof scope.chainId !== "bigint" || scope.chainId <= 0n || scope.chainId > UINT256_MAX) {
    throw bad("chainId", "must be a bigint in [1, 2^256-1]", String(scope.chainId));
  }
  if (typeof scope.registry !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(scope.registry)) {
    throw bad("registry", "must be a 20-byte hex address", scope.registry);
  }
  let registry: string;
  try {
    registry = getAddress(scope.registry);
  } catch {
    throw bad("registry", "has a wrong EIP-55 checksum", scope.registry);
  }
  if (typeof scope.walletId !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(scope.walletId)) {
    throw bad("walletId", "must be 0x and 32 bytes of hex", scope.walletId);
  }
  const tag = new TextEncoder().encode(RECOVERY_TAG);
  const chainId = toBeArray(scope.chainId);
  const salt = new Uint8Array(tag.length + 32 + 20 + 32);
  salt.set(tag, 0);
  salt.set(chainId, tag.length + 32 - chainId.length);
  salt.set(getBytes(registry), tag.length + 32);
  salt.set(getBytes(scope.walletId), tag.length + 52);
  return salt;
}

/**
 * The recovery key of `scope` for `passphrase` and its address.
 * @param passphrase NFKD-normalized, then UTF-8; at least 12 characters.
 * @param params scrypt's cost; the default is `RECOVERY_SCRYPT` (tests may pass a smaller N, never production).
 * @throws RecoveryError `KEYS_WEAK_PASSPHRASE` (`{ length, min }`), `KEYS_BAD_SCOPE` (`{ field }`),
 *   `KEYS_BAD_PARAMS` (N not a power of two ≥ 2, r or p not positive, dkLen outside 48..1024).
 */
export async function recoveryKey(
  passphrase: string,
  scope: RecoveryScope,
  params: RecoveryScryptParams = RECOVERY_SCRYPT,
): Promise<{ privateKey: Uint8Array; address: string }> {
  if (typeof passphrase !== "string") {
    throw new RecoveryError("KEYS_WEAK_PASSPHRASE", "the passphrase must be a string", {
      length: 0,
      min: MIN_PASSPHRASE_CHARACTERS,
    });
  }
  const normalized = passphrase.normalize("NFKD");
  const length = characters(normalized);
  if (length < MIN_PASSPHRASE_CHARACTERS) {
    throw new RecoveryError(
      "KEYS_WEAK_PASSPHRASE",
      `the passphrase has ${length} characters; use at least ${MIN_PASSPHRASE_CHARACTERS} (a few unrelated words)`,
      { length, min: MIN_PASSPHRASE_CHARACTERS },
    );
  }
  const { N, r, p, dkLen } = params;
  if (
    !Number.isSafeInteger(N) ||
    N < 2 ||
    (N & (N - 1)) !== 0 ||
    !Number.isSafeInteger(r) ||
    r < 1 ||
    !Number.isSafeInteger(p) ||
    p < 1 ||
    !Number.isSafeInteger(dkLen) ||
    dkLen < 48 ||
    dkLen > 1024
  ) {
    throw new RecoveryError(
      "KEYS_BAD_PARAMS",
      "scrypt parameters must be N a power of two >= 2, r >= 1, p >= 1, 48 <= dkLen <= 1024",
      { N, r, p, dkLen },
    );
  }
  const salt = recoverySalt(scope);
  const password = new TextEncoder().encode(normalized);
  const okm = await scryptAsync(password, salt, { N, r, p, dkLen, maxmem: 128 * r * (N + p + 2) + 1024 });
  password.fill(0);
  const privateKey = mapHashToField(okm, secp256k1.Point.Fn.ORDER);
  okm.fill(0);
  return { privateKey, address: computeAddress(hexlify(secp256k1.getPublicKey(privateKey, false))) };
}
