/**
 * ERC-7930 interoperable addresses, version 1, for EVM chains (CAIP-350 `eip155` profile): the binary form the
 * AttestedGateway and the BurnMintLane use for senders, recipients and links.
 *
 *   0x0001 | 0x0000 (eip155) | chain reference length | chain id, big-endian, no leading zero bytes
 *          | address length (20, or 0 for a chain alone) | address
 *
 * Written here (about twenty lines) rather than taken from a library: no npm package for ERC-7930 was
 * maintained when this was written, and the contracts use OpenZeppelin's `InteroperableAddress`, whose
 * `formatEvmV1` this matches byte for byte (the ERC's own test vectors are in test/interop/erc7930.test.ts).
 */
import { getAddress, getBytes, hexlify, toBeArray } from "ethers";

/** A bad ERC-7930 address. */
export class InteroperableAddressError extends Error {}

/** The ERC-7930 v1 `eip155` address of `account` on `chainId`, or of the chain alone without `account`. */
export function interoperableAddress(chainId: bigint, account?: string): string {
  if (chainId < 0n || chainId >= 2n ** 256n) throw new InteroperableAddressError(`chain id ${chainId} out of range`);
  const reference = toBeArray(chainId);
  const address = account === undefined ? new Uint8Array() : getBytes(getAddress(account));
  return hexlify(new Uint8Array([0x00, 0x01, 0x00, 0x00, reference.length, ...reference, address.length, ...address]));
}

/**
 * The chain id and address of a canonical ERC-7930 v1 `eip155` address (the form `interoperableAddress` and
 * OpenZeppelin's `formatEvmV1` write: no leading zero byte in the chain reference, nothing after the address).
 * `address` is undefined for a chain alone, `chainId` for an address alone.
 */
export function parseInteroperableAddress(value: string): { chainId?: bigint; address?: string } {
  const bytes = getBytes(value);
  const fail = (why: string) =>
    new InteroperableAddressError(`not a canonical ERC-7930 EVM address (${why}): ${value}`);
  if (bytes.length < 6) throw fail("too short");
  if (bytes[0] !== 0x00 || bytes[1] !== 0x01) throw fail("version is not 1");
  if (bytes[2] !== 0x00 || bytes[3] !== 0x00) throw fail("chain type is not eip155");
  const referenceLength = bytes[4]!;
  if (referenceLength > 32) throw fail("chain reference longer than 32 bytes");
  if (referenceLength > 0 && bytes[5] === 0x00) throw fail("chain reference with a leading zero byte");
  const addressLengthAt = 5 + referenceLength;
  if (bytes.length <= addressLengthAt) throw fail("too short");
  const addressLength = bytes[addressLengthAt]!;
  if (addressLength !== 0 && addressLength !== 20) throw fail("address is neither 20 bytes nor absent");
  if (referenceLength === 0 && addressLength === 0) throw fail("neither chain nor address");
  if (bytes.length !== addressLengthAt + 1 + addressLength) throw fail("length does not match its fields");
  const reference = bytes.slice(5, addressLengthAt);
  return {
    ...(referenceLength === 0 ? {} : { chainId: BigInt(hexlify(reference)) }),
    ...(addressLength === 0 ? {} : { address: getAddress(hexlify(bytes.slice(addressLengthAt + 1))) }),
  };
}
