/**
 * The deployment the behaviour suites run against: the whole suite as the
 * deploy scripts deploy it (`deploySuite`), with every contract that makes one
 * of the shared promises connected, and the small helpers the adapters share
 * (references, custom errors, EIP-712 signing of vouchers and EIP-3009
 * authorizations).
 */
import { keccak256, Signature, toUtf8Bytes, type BaseContract, type Signer, type TypedDataField } from "ethers";

import {
  AccountLedger__factory,
  BillRegistry__factory,
  InterbankSettlement__factory,
  OfflineVault__factory,
  type BankToken,
  type IOfflineVault,
  type OfflineVault,
} from "../../typechain-types/index.js";
import { deploySuite } from "../helpers/suite.js";

/** A custom error a contract reverts with, and the arguments it must carry. */
export interface ExpectedError {
  readonly contract: BaseContract;
  readonly name: string;
  readonly args: readonly unknown[];
}

/** The revert data of `error`, as a batch reports it in its rejection event. */
export function encodeError(error: ExpectedError): string {
  return error.contract.interface.encodeErrorResult(error.name, error.args);
}

/** A reference unique to `label` (fiat references, keys, ids and nonces are all `bytes32`). */
export const ref = (label: string): string => keccak256(toUtf8Bytes(`bank-chain/test/behaviours/${label}`));

export async function deployBehaviourFixture() {
  const suite = await deploySuite();
  const { deployments, accounts } = suite;
  const settlement = InterbankSettlement__factory.connect(
    deployments.get("InterbankSettlement").address,
    accounts.schemeAdmin,
  );
  const bills = BillRegistry__factory.connect(deployments.get("BillRegistry").address, accounts.schemeAdmin);
  const cards = AccountLedger__factory.connect(deployments.get("AccountLedgerBankA").address, accounts.gateway);
  const vault = OfflineVault__factory.connect(deployments.get("OfflineVault").address, accounts.admin);
  const [alice, bob, carol, dave, relayer] = suite.others as unknown as [Signer, Signer, Signer, Signer, Signer];
  return { ...suite, settlement, bills, cards, vault, people: { alice, bob, carol, dave, relayer } };
}

export type BehaviourFixture = Awaited<ReturnType<typeof deployBehaviourFixture>>;

/** Deploys once per `describe`, runs `setUp` once, and puts the chain back to that point before every test. */
export function withFixture<T>(setUp: (f: BehaviourFixture) => Promise<T>): () => { f: BehaviourFixture; s: T } {
  let state: { f: BehaviourFixture; s: T } | undefined;
  let restore: (() => Promise<void>) | undefined;
  before(async function () {
    const f = await deployBehaviourFixture();
    const s = await setUp(f);
    state = { f, s };
    const snapshot = await f.networkHelpers.takeSnapshot();
    restore = () => snapshot.restore();
  });
  beforeEach(async function () {
    await restore?.();
  });
  return () => {
    if (state === undefined) throw new Error("the behaviour fixture is used before it was deployed");
    return state;
  };
}

/** The latest block's timestamp, as a bigint. */
export async function now(f: BehaviourFixture): Promise<bigint> {
  return BigInt(await f.networkHelpers.time.latest());
}

// ── EIP-712 ──

const VOUCHER_FIELDS: TypedDataField[] = [
  { name: "payer", type: "address" },
  { name: "merchant", type: "address" },
  { name: "amount", type: "uint256" },
  { name: "lane", type: "uint256" },
  { name: "sequence", type: "uint256" },
  { name: "previousVoucherHash", type: "bytes32" },
  { name: "validAfter", type: "uint256" },
  { name: "validBefore", type: "uint256" },
];

const AUTHORIZATION_FIELDS: TypedDataField[] = [
  { name: "from", type: "address" },
  { name: "to", type: "address" },
  { name: "value", type: "uint256" },
  { name: "validAfter", type: "uint256" },
  { name: "validBefore", type: "uint256" },
  { name: "nonce", type: "bytes32" },
];

/** A voucher, its payer's signature and its hash in the vault's domain. */
export interface SignedVoucher {
  readonly voucher: IOfflineVault.VoucherStruct;
  readonly signature: string;
  readonly hash: string;
}

async function domainOf(contract: OfflineVault | BankToken) {
  const [, name, version, chainId, verifyingContract] = await contract.eip712Domain();
  return { name, version, chainId, verifyingContract };
}

/** `payer` signs `voucher` for `vault`; the hash is the vault's own `hashVoucher`. */
export async function signVoucher(
  vault: OfflineVault,
  payer: Signer,
  voucher: IOfflineVault.VoucherStruct,
): Promise<SignedVoucher> {
  const signature = await payer.signTypedData(await domainOf(vault), { Voucher: VOUCHER_FIELDS }, voucher);
  return { voucher, signature, hash: await vault.hashVoucher(voucher) };
}

/** The EIP-3009 `TransferWithAuthorization` fields. */
export interface Authorization {
  readonly from: string;
  readonly to: string;
  readonly value: bigint;
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly nonce: string;
}

/** `signer` signs a `TransferWithAuthorization` for `token`. */
export async function signAuthorization(token: BankToken, signer: Signer, value: Authorization): Promise<Signature> {
  return Signature.from(
    await signer.signTypedData(await domainOf(token), { TransferWithAuthorization: AUTHORIZATION_FIELDS }, value),
  );
}
