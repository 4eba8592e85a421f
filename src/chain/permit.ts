/**
 * EIP-2612 permits for the BankToken (docs/token.md): the typed data, and a signature under the domain the token
 * reports itself (ERC-5267 `eip712Domain`), with the owner's current nonce.
 */
import { Signature, type Signer, type TypedDataField } from "ethers";

/** EIP-2612's `Permit` type. */
export const PERMIT_TYPES = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} satisfies Record<string, TypedDataField[]>;

/** EIP-3009's `ReceiveWithAuthorization` (BankToken's): the payee alone may submit it. */
export const RECEIVE_AUTHORIZATION_TYPES = {
  ReceiveWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
} satisfies Record<string, TypedDataField[]>;

/** What a token must answer to sign a permit for it. */
export interface PermitToken {
  eip712Domain(): Promise<readonly [string, string, string, bigint, string, string, readonly bigint[]]>;
  nonces(owner: string): Promise<bigint>;
}

/** A signed permit: the message and its signature. */
export interface SignedPermit {
  readonly owner: string;
  readonly spender: string;
  readonly value: bigint;
  readonly nonce: bigint;
  readonly deadline: bigint;
  readonly signature: Signature;
}

/** Signs `owner`'s permit letting `spender` move `value` until `deadline` (unix seconds). */
export async function signPermit(
  token: PermitToken,
  owner: Signer,
  spender: string,
  value: bigint,
  deadline: bigint,
): Promise<SignedPermit> {
  const address = await owner.getAddress();
  const [[, name, version, chainId, verifyingContract], nonce] = await Promise.all([
    token.eip712Domain(),
    token.nonces(address),
  ]);
  const message = { owner: address, spender, value, nonce, deadline };
  const signature = Signature.from(
    await owner.signTypedData({ name, version, chainId, verifyingContract }, PERMIT_TYPES, message),
  );
  return { ...message, signature };
}
