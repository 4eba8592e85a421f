import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { encodeBytes32String, ZeroHash, type Signer } from "ethers";

import { Buyer } from "../../src/offline/buyer.js";
import { Merchant, type MerchantOptions, type SessionOutcome } from "../../src/offline/merchant.js";
import { MerchantStore } from "../../src/offline/merchant-store.js";
import { PROTOCOL_VERSION, type PaymentRequest } from "../../src/offline/protocol.js";
import {
  hashVoucher,
  vaultDomain,
  VOUCHER_TYPES,
  voucherToJson,
  type TypedDataSigner,
  type Voucher,
} from "../../src/offline/voucher.js";
import { Store } from "../../src/store/store.js";
import { OfflineVault__factory, type OfflineVault } from "../../typechain-types/index.js";
import { deploySuite, type Suite } from "../helpers/suite.js";

export { RpcProxy } from "../mocks/rpc-proxy.js";

export interface World {
  readonly suite: Suite;
  readonly vault: OfflineVault;
  readonly vaultAddress: string;
  readonly payer: Signer & { address: string };
  readonly dir: string;
  readonly stores: Store[];
  open(name: string): Store;
  merchant(signer: { address: string }, options?: Partial<MerchantOptions>): Merchant;
  buyer(name: string, signer?: Signer): Buyer;
  close(): void;
}

/** The suite, a payer with 100 000 locked (and 900 000 more on its balance), and a temp folder for stores. */
export async function world(): Promise<World> {
  const suite = await deploySuite();
  const vaultAddress = suite.deployments.get("OfflineVault").address;
  const vault = OfflineVault__factory.connect(vaultAddress, suite.accounts.admin);
  const payer = suite.others[0]!;
  await suite.trustA.mintForDeposit(payer.address, 1_000_000n, encodeBytes32String("offline-fund"));
  await suite.token.connect(payer).approve(vaultAddress, 100_000n);
  await vault.connect(payer).deposit(100_000n);
  const dir = mkdtempSync(path.join(tmpdir(), "bank-chain-offline-"));
  const stores: Store[] = [];
  const open = (name: string): Store => {
    const store = Store.open({ path: path.join(dir, name) });
    stores.push(store);
    return store;
  };
  return {
    suite,
    vault,
    vaultAddress,
    payer,
    dir,
    stores,
    open,
    merchant: (signer, options = {}) =>
      new Merchant({ address: signer.address, store: new MerchantStore(open(`${signer.address}.sqlite`)), ...options }),
    buyer: (name, signer = payer) => new Buyer(signer, open(name)),
    close: () => {
      for (const store of stores) store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs one merchant session and `pay` against its offer; returns both results (the payment's error, if any). */
export async function session<T>(
  merchant: Merchant,
  amount: bigint,
  pay: (offer: string) => Promise<T>,
): Promise<{ outcome: SessionOutcome; paid: T | undefined; payError: unknown }> {
  let resolveOffer!: (offer: string) => void;
  const offer = new Promise<string>((resolve) => (resolveOffer = resolve));
  const running = merchant.runSession({
    amount,
    onOffer: resolveOffer,
    session: { ttlMs: 20_000 },
    receiveTimeoutMs: 10_000,
  });
  let paid: T | undefined;
  let payError: unknown;
  try {
    paid = await pay(await offer);
  } catch (error) {
    payError = error;
  }
  return { outcome: await running, paid, payError };
}

/**
 * A secured voucher offer answering `request`, as a buyer sends it: sequence 1
 * of the request's lane after the zero hash unless `overrides` say otherwise,
 * signed by `signer` (the payer unless a test forges it); and its hash in the
 * vault's domain.
 */
export async function securedOffer(
  merchant: Merchant,
  request: PaymentRequest,
  payer: string,
  overrides: Partial<Voucher> = {},
  signer: TypedDataSigner,
): Promise<{ offer: Record<string, unknown>; hash: string }> {
  const meta = merchant.view();
  const voucher: Voucher = {
    payer,
    merchant: merchant.address,
    amount: BigInt(request.amount),
    lane: BigInt(request.lane),
    sequence: 1n,
    previousVoucherHash: ZeroHash,
    validAfter: BigInt(request.validAfter),
    validBefore: BigInt(request.validBefore),
    ...overrides,
  };
  const domain = vaultDomain(meta.chainId, meta.vault);
  const signature = await signer.signTypedData(domain, VOUCHER_TYPES, { ...voucher });
  return {
    offer: {
      type: "voucher_offer",
      version: PROTOCOL_VERSION,
      requestId: request.requestId,
      kind: "secured",
      voucher: voucherToJson(voucher),
      signature,
    },
    hash: hashVoucher(domain, voucher),
  };
}
