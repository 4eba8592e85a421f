import { PERMIT_TYPES } from "../../src/chain/permit.js";
import { Signature, TypedDataEncoder, type BaseContract, type ContractTransactionResponse, type Signer } from "ethers";

/** The ERC-20 + EIP-2612 surface every benchmarked token shares. */
export interface BenchToken extends BaseContract {
  transfer(to: string, amount: bigint): Promise<ContractTransactionResponse>;
  transferFrom(from: string, to: string, amount: bigint): Promise<ContractTransactionResponse>;
  approve(spender: string, amount: bigint): Promise<ContractTransactionResponse>;
  permit(
    owner: string,
    spender: string,
    value: bigint,
    deadline: bigint,
    v: number,
    r: string,
    s: string,
  ): Promise<ContractTransactionResponse>;
  nonces(owner: string): Promise<bigint>;
  name(): Promise<string>;
  DOMAIN_SEPARATOR(): Promise<string>;
}

/** One token set up for measuring: how to mint to and burn from a holder. */
export interface TokenUnderTest {
  readonly contract: string;
  readonly token: BenchToken;
  /** Gives `to` fresh tokens through the token's own issuance path. */
  mint(to: string, amount: bigint): Promise<ContractTransactionResponse>;
  /** Burns `amount` held by `holder` through the token's own redemption path. */
  burn(holder: Signer, amount: bigint): Promise<ContractTransactionResponse>;
  /** Holders that `burn` may be called for (a minter for a bank token). */
  readonly burner: Signer;
}

export type Measure = (operation: string, tx: Promise<ContractTransactionResponse>) => Promise<void>;

/**
 * The EIP-712 domain of `token`, found by trying the versions tokens use and
 * keeping the one whose hash equals the token's own `DOMAIN_SEPARATOR`.
 */
export async function eip712Domain(token: BenchToken): Promise<{
  name: string;
  version: string;
  chainId: bigint;
  verifyingContract: string;
}> {
  const [name, separator, address, network] = await Promise.all([
    token.name(),
    token.DOMAIN_SEPARATOR(),
    token.getAddress(),
    token.runner?.provider?.getNetwork(),
  ]);
  if (network === undefined) throw new Error("token has no provider");
  // Tokens sign under their name, or (BankToken, to save a storage read) a fixed contract name.
  for (const domainName of [name, "BankToken"]) {
    for (const version of ["1", "2"]) {
      const domain = { name: domainName, version, chainId: network.chainId, verifyingContract: address };
      if (TypedDataEncoder.hashDomain(domain) === separator) return domain;
    }
  }
  throw new Error(`cannot reproduce the EIP-712 domain of ${name}`);
}

/** Signs an EIP-2612 permit. */
export async function signPermit(
  token: BenchToken,
  owner: Signer,
  spender: string,
  value: bigint,
  deadline: bigint,
): Promise<Signature> {
  const ownerAddress = await owner.getAddress();
  const domain = await eip712Domain(token);
  const nonce = await token.nonces(ownerAddress);
  const signature = await owner.signTypedData(domain, PERMIT_TYPES, {
    owner: ownerAddress,
    spender,
    value,
    nonce,
    deadline,
  });
  return Signature.from(signature);
}

/**
 * Measures the ERC-20 operations every token is compared on. Each runs in a
 * state that makes it the named case: both parties already hold a balance,
 * a finite allowance, an allowance from zero, the owner's first permit nonce.
 */
export async function measureErc20(
  subject: TokenUnderTest,
  holders: readonly Signer[],
  measure: Measure,
): Promise<void> {
  const [alice, bob, carol, dave] = holders;
  if (alice === undefined || bob === undefined || carol === undefined || dave === undefined) {
    throw new Error("measureErc20 needs four holders");
  }
  const { token } = subject;
  const [a, b, c, d] = await Promise.all([alice, bob, carol, dave].map((s) => s.getAddress()));
  if (a === undefined || b === undefined || c === undefined || d === undefined) throw new Error("unreachable");
  const unit = 1_000_000n;

  await (await subject.mint(a, 100n * unit)).wait();
  await (await subject.mint(b, 100n * unit)).wait();
  await measure("mint", subject.mint(a, unit));

  const asAlice = token.connect(alice) as BenchToken;
  await measure("transfer", asAlice.transfer(b, unit));
  await measure("transferToNewHolder", asAlice.transfer(c, unit));
  await measure("approve", asAlice.approve(b, 10n * unit));
  await measure("transferFrom", (token.connect(bob) as BenchToken).transferFrom(a, b, unit));

  const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
  const permit = await signPermit(token, dave, c, 5n * unit, deadline);
  await measure(
    "permit",
    (token.connect(carol) as BenchToken).permit(d, c, 5n * unit, deadline, permit.v, permit.r, permit.s),
  );

  const burnerAddress = await subject.burner.getAddress();
  await (await subject.mint(burnerAddress, 10n * unit)).wait();
  await measure("burn", subject.burn(subject.burner, unit));
}
