import { AbiCoder, encodeBytes32String, MaxUint256, ZeroHash, type Signer } from "ethers";

import { billIdOfLabel } from "../../src/bills/ids.js";
import { BillMonitor } from "../../src/bills/monitor.js";
import { Store } from "../../src/store/store.js";
import { BillRegistry__factory, type BillRegistry } from "../../typechain-types/index.js";
import { deploySuite, type Suite } from "../helpers/suite.js";

export const b32 = (s: string): string => encodeBytes32String(s);
export const coder = AbiCoder.defaultAbiCoder();
export const BILL_OF_EXCHANGE = 1;
export const E_INVOICE = 2;

export interface BillsFixture {
  readonly suite: Suite;
  readonly registry: BillRegistry;
  /** drawer, drawee, payee, then two more (endorsees, financiers). */
  readonly parties: readonly [Signer, Signer, Signer, Signer, Signer];
  readonly addresses: readonly string[];
  monitor(store: Store, confirmations?: number): BillMonitor;
  issue(
    definitionId: number,
    label: string,
    amount?: bigint,
    deadlines?: readonly [number, number, number],
  ): Promise<string>;
  exec(who: number, billId: string, operation: string, data?: string): Promise<void>;
  now(): Promise<number>;
}

export async function billsFixture(): Promise<BillsFixture> {
  const suite = await deploySuite();
  const address = suite.deployments.get("BillRegistry").address;
  const registry = BillRegistry__factory.connect(address, suite.accounts.schemeAdmin);
  const parties = suite.others.slice(0, 5) as unknown as [Signer, Signer, Signer, Signer, Signer];
  const addresses = await Promise.all(parties.map((p) => p.getAddress()));
  for (const [i, party] of parties.entries()) {
    await suite.trustA.mintForDeposit(addresses[i]!, 1_000_000n, b32(`fund-${i}`));
    await suite.token.connect(party).approve(address, MaxUint256);
  }
  const now = async (): Promise<number> => (await suite.ethers.provider.getBlock("latest"))!.timestamp;
  return {
    suite,
    registry,
    parties,
    addresses,
    monitor: (store, confirmations = 0) =>
      new BillMonitor({ provider: suite.ethers.provider, store, registry: address, confirmations, fromBlock: 0 }),
    async issue(definitionId, label, amount = 1_000n, deadlines) {
      const t = await now();
      const [acceptance, maturity, recourse] = deadlines ?? [t + 1_000, t + 2_000, t + 3_000];
      const billId = billIdOfLabel(addresses[0]!, label);
      await registry.connect(parties[0]).issue(definitionId, b32("ISSUE"), {
        id: billId,
        drawee: addresses[1]!,
        payee: addresses[2]!,
        amount,
        acceptanceDeadline: acceptance,
        maturity,
        recourseDeadline: recourse,
        documentHash: ZeroHash,
      });
      return billId;
    },
    async exec(who, billId, operation, data = "0x") {
      await (await registry.connect(parties[who]!).execute(billId, b32(operation), data)).wait();
    },
    now,
  };
}

export const asAddress = (a: string): string => coder.encode(["address"], [a]);
export const asUint = (n: bigint | number): string => coder.encode(["uint256"], [n]);

/** The monitor's whole view as plain JSON (bigints as strings). */
export function viewOf(monitor: BillMonitor): string {
  const bills = monitor.bills();
  return JSON.stringify(
    {
      bills,
      histories: bills.map((bill) => monitor.history(bill.id)),
      anomalies: monitor.anomalies(),
    },
    (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value),
  );
}
