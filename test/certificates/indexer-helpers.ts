import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { encodeBytes32String, hashMessage, MaxUint256, SigningKey, ZeroHash, type Signer } from "ethers";

import { billIdOfLabel } from "../../src/bills/ids.js";
import {
  CertificateIndexer,
  type CertificateIndexerOptions,
  type IndexerProvider,
} from "../../src/certificates/indexer.js";
import { VOUCHER_TYPES, vaultDomain, type Voucher } from "../../src/offline/voucher.js";
import { Store } from "../../src/store/store.js";
import {
  BillRegistry__factory,
  OfflineVault__factory,
  type BillRegistry,
  type OfflineVault,
} from "../../typechain-types/index.js";
import { deploySuite, type Suite } from "../helpers/suite.js";

export const E_INVOICE = 2;
export const DAY = 86_400;
const b32 = (text: string): string => encodeBytes32String(text);

/** The chain's JSON-RPC, counting the calls per method (to measure what the indexer asks). */
export class CountingProvider implements IndexerProvider {
  readonly calls = new Map<string, number>();
  failOn: ((method: string) => boolean) | undefined;
  readonly #inner: { send(method: string, params: unknown[]): Promise<unknown> };

  constructor(inner: { send(method: string, params: unknown[]): Promise<unknown> }) {
    this.#inner = inner;
  }

  async send(method: string, params: unknown[]): Promise<unknown> {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    if (this.failOn?.(method) === true) throw new Error(`connection lost during ${method}`);
    return this.#inner.send(method, params);
  }

  total(): number {
    return [...this.calls.values()].reduce((a, b) => a + b, 0);
  }
}

export interface IndexerWorld {
  readonly suite: Suite;
  readonly registry: BillRegistry;
  readonly vault: OfflineVault;
  readonly contracts: CertificateIndexerOptions["contracts"];
  readonly rpc: CountingProvider;
  /** A store file in the world's temp folder (the same name opens the same file). */
  open(name: string): Store;
  indexer(store: Store, options?: Partial<CertificateIndexerOptions>): CertificateIndexer;
  head(): Promise<number>;
  now(): Promise<number>;
  /** Bank A mints `amount` to `to` (a deposit). */
  fund(to: string, amount: bigint): Promise<void>;
  /**
   * An e-invoice of `supplier`'s, due in `dueIn` seconds, accepted and paid by `payer`
   * after `payAfter` seconds (0: at once, so on time).
   */
  invoice(supplier: Signer, payer: Signer, amount: bigint, label: string, payAfter?: number): Promise<string>;
  /** `payer` locks funds in the vault and signs sequence 1 of `lane` twice, to two merchants; both are redeemed. */
  doubleSpend(payer: Signer, merchants: readonly [string, string], lane: bigint): Promise<void>;
  close(): void;
}

/** The uncompressed public key of a signer, recovered from a signature (as the certificate service does). */
export async function publicKeyOf(signer: Signer): Promise<string> {
  const message = "bank-chain certificate indexer test";
  return SigningKey.recoverPublicKey(hashMessage(message), await signer.signMessage(message));
}

export async function indexerWorld(): Promise<IndexerWorld> {
  const suite = await deploySuite();
  const { deployments } = suite;
  const registry = BillRegistry__factory.connect(deployments.get("BillRegistry").address, suite.accounts.admin);
  const vault = OfflineVault__factory.connect(deployments.get("OfflineVault").address, suite.accounts.admin);
  const contracts = {
    token: deployments.get("BankToken").address,
    settlement: deployments.get("InterbankSettlement").address,
    bills: deployments.get("BillRegistry").address,
    offline: deployments.get("OfflineVault").address,
  };
  const rpc = new CountingProvider(suite.ethers.provider);
  const dir = mkdtempSync(path.join(tmpdir(), "bank-chain-cert-indexer-"));
  const stores: Store[] = [];
  const approved = new Set<string>();
  let fiatRefs = 0;
  const now = async (): Promise<number> => (await suite.ethers.provider.getBlock("latest"))!.timestamp;
  const world: IndexerWorld = {
    suite,
    registry,
    vault,
    contracts,
    rpc,
    open(name) {
      const store = Store.open({ path: path.join(dir, name) });
      stores.push(store);
      return store;
    },
    indexer: (store, options = {}) =>
      new CertificateIndexer({ provider: rpc, store, contracts, confirmations: 0, fromBlock: 0, ...options }),
    head: () => suite.ethers.provider.getBlockNumber(),
    now,
    async fund(to, amount) {
      fiatRefs += 1;
      await (await suite.trustA.mintForDeposit(to, amount, b32(`cert-fund-${fiatRefs}`))).wait();
    },
    async invoice(supplier, payer, amount, label, payAfter = 0) {
      const supplierAddress = await supplier.getAddress();
      const payerAddress = await payer.getAddress();
      if (!approved.has(payerAddress)) {
        approved.add(payerAddress);
        await (await suite.token.connect(payer).approve(contracts.bills, MaxUint256)).wait();
      }
      const t = await now();
      const maturity = t + (payAfter === 0 ? 30 * DAY : Math.max(1, Math.floor(payAfter / 2)));
      const id = billIdOfLabel(supplierAddress, label);
      await (
        await registry.connect(supplier).issue(E_INVOICE, b32("ISSUE"), {
          id,
          drawee: payerAddress,
          payee: supplierAddress,
          amount,
          acceptanceDeadline: maturity,
          maturity,
          recourseDeadline: 0,
          documentHash: ZeroHash,
        })
      ).wait();
      await (await registry.connect(payer).execute(id, b32("ACCEPT"), "0x")).wait();
      if (payAfter > 0) await suite.networkHelpers.time.increase(payAfter);
      await (await registry.connect(payer).execute(id, b32("PAY"), "0x")).wait();
      return id;
    },
    async doubleSpend(payer, merchants, lane) {
      const address = await payer.getAddress();
      await (await suite.token.connect(payer).approve(contracts.offline, 20_000n)).wait();
      await (await vault.connect(payer).deposit(20_000n)).wait();
      const t = BigInt(await now());
      const domain = vaultDomain(31337n, contracts.offline);
      for (const merchant of merchants) {
        const voucher: Voucher = {
          payer: address,
          merchant,
          amount: 5_000n,
          lane,
          sequence: 1n,
          previousVoucherHash: ZeroHash,
          validAfter: t - 10n,
          validBefore: t + 3_600n,
        };
        const signature = await payer.signTypedData(domain, VOUCHER_TYPES, { ...voucher });
        await (await vault.connect(payer).redeem(voucher, signature)).wait();
      }
    },
    close() {
      for (const store of stores) store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}
