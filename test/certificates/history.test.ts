import { expect } from "chai";
import { parseEther, Wallet, type HDNodeWallet, type Signer } from "ethers";

import { NO_FEATURES, type Features } from "../../src/certificates/features.js";
import { defaultModel, type Level } from "../../src/certificates/model.js";
import { contribution, score } from "../../src/certificates/score.js";
import { TERM_NAMES } from "../../src/certificates/model.js";
import { DAY, indexerWorld, publicKeyOf, type IndexerWorld } from "./indexer-helpers.js";

const STEPS = 183; // one step every two days: a year of history
const CUSTOMERS = 50;
const REGULAR_BILLS = 15;
const LATE_BILLS = 5;
const REGULAR_SENDS = 50;
const MERCHANT_BILLS = 46;

/**
 * The devnet history, built on the in-process chain over a year of block time: a trusted
 * merchant (fifty paying customers on 183 days, 46 bills paid on time), a fresh address, and three
 * "regular" users with the same life (a bill every 24 days, 0.2 ETH to each of fifty people, a
 * deposit of 85,000.00) who differ in one thing: one paid 5 of its 15 bills late, one was frozen,
 * one double-spent an offline voucher. Indexed, each gets the level the default model says
 * (docs/certificates-scoring.md): HIGH, NONE, LOW, LOW, NONE.
 */
describe("certificates: a year of devnet history gets the levels the documented model says", function () {
  this.timeout(600_000);
  let w: IndexerWorld;

  before(async function () {
    w = await indexerWorld();
  });

  after(function () {
    w.close();
  });

  it("indexes the history, across a restart, and scores each actor under the default model", async function () {
    const { suite } = w;
    const provider = suite.ethers.provider;
    const [merchant, late, frozen, cheater, s1, s2, s3, funder] = suite.others as unknown as Signer[];
    const suppliers = [s1!, s2!, s3!];
    const regulars = [late!, frozen!, cheater!];
    const fresh = Wallet.createRandom();
    const addr = (s: Signer): Promise<string> => s.getAddress();

    // Everything minted at the start: the banks' reserve attestations are only fresh for a day.
    const customers: HDNodeWallet[] = [];
    for (let i = 0; i < CUSTOMERS; i += 1) {
      const customer = Wallet.createRandom().connect(provider);
      customers.push(customer);
      await (await funder!.sendTransaction({ to: customer.address, value: parseEther("0.05") })).wait();
      await w.fund(customer.address, 300_000n);
    }
    for (const regular of regulars) await w.fund(await addr(regular), 8_500_000n);

    // Each step starts at 06:00 UTC and lasts well under a day, so each step is one UTC day for everyone.
    await suite.networkHelpers.time.increaseTo((Math.floor((await w.now()) / DAY) + 1) * DAY + 6 * 3_600);
    const bills = new Map<Signer, number>(regulars.map((r) => [r, 0]));
    const sends = new Map<Signer, number>(regulars.map((r) => [r, 0]));
    let merchantBills = 0;
    let beforeFreeze = -1;
    for (let step = 0; step < STEPS; step += 1) {
      const customer = customers[step % CUSTOMERS]!;
      await (await suite.token.connect(customer).transfer(await addr(merchant!), 70_000n)).wait();
      if (step % 4 === 0 && merchantBills < MERCHANT_BILLS) {
        await w.invoice(suppliers[merchantBills % 3]!, merchant!, 50_000n, `m-${merchantBills}`);
        merchantBills += 1;
      }
      for (const [i, regular] of regulars.entries()) {
        const n = bills.get(regular)!;
        if (step % 12 === 0 && n < REGULAR_BILLS) {
          const payLate = regular === late && n >= REGULAR_BILLS - LATE_BILLS;
          await w.invoice(suppliers[(n + i) % 3]!, regular, 100_000n, `r${i}-${n}`, payLate ? 2 * DAY : 0);
          bills.set(regular, n + 1);
        }
        const k = sends.get(regular)!;
        if (step % 3 === 1 && k < REGULAR_SENDS) {
          await (await regular.sendTransaction({ to: customers[k]!.address, value: parseEther("0.2") })).wait();
          sends.set(regular, k + 1);
        }
      }
      if (step === 90) {
        // Half way: index what there is so far into a file, and close it (a restart later).
        const store = w.open("history.sqlite");
        await w.indexer(store, { batchBlocks: 50 }).poll();
        store.close();
      }
      if (step === 176) {
        await w.doubleSpend(cheater!, [await addr(s1!), await addr(s2!)], 3n);
      }
      if (step === 178) {
        beforeFreeze = await w.head();
        await (await suite.token.connect(suite.accounts.compliance).freeze(await addr(frozen!))).wait();
      }
      await suite.networkHelpers.time.increase(2 * DAY);
    }
    const head = await w.head();

    // The restart: the file indexed half way resumes; a second file indexes everything at once.
    const resumed = w.indexer(w.open("history.sqlite"), { batchBlocks: 50 });
    const resumedFrom = resumed.indexedThrough();
    expect(resumedFrom).to.be.greaterThan(0).and.lessThan(head);
    const started = Date.now();
    w.rpc.calls.clear();
    const freshStore = w.open("fresh.sqlite");
    const fresher = w.indexer(freshStore, { batchBlocks: 100 });
    const indexed = await fresher.poll();
    const seconds = (Date.now() - started) / 1000;
    const calls = w.rpc.total();
    await resumed.poll();
    expect(resumed.indexedThrough()).to.equal(head);
    expect(indexed).to.equal(head + 1);
    const txs = freshStore.get<{ n: number }>("SELECT count(*) AS n FROM cert_transfers WHERE log_index = -1")!.n;
    console.log(
      `      indexed ${indexed} blocks, ${txs} transactions in ${seconds.toFixed(2)} s ` +
        `(${(indexed / seconds).toFixed(0)} blocks/s, ${(txs / seconds).toFixed(0)} tx/s), ` +
        `${calls} RPC calls (${(calls / indexed).toFixed(2)} per block)`,
    );

    const model = defaultModel();
    const scored = async (
      who: Signer | HDNodeWallet,
    ): Promise<{ features: Features; score: number; level: Level; set: string[] }> => {
      const set = resumed.addressesOfKey(await publicKeyOf(who), head);
      const features = resumed.featuresOf(set, head);
      expect(fresher.featuresOf(set, head), "resumed index equals a fresh one").to.deep.equal(features);
      const result = score(features, model);
      return { features, score: result.score, level: result.level, set };
    };

    const m = await scored(merchant!);
    const f = await scored(fresh);
    const l = await scored(late!);
    const z = await scored(frozen!);
    const d = await scored(cheater!);
    const table = [
      ["trusted merchant", m],
      ["fresh address", f],
      ["paid 5 of 15 bills late", l],
      ["frozen once", z],
      ["double-spent offline", d],
    ] as const;
    for (const [name, r] of table) {
      const terms = TERM_NAMES.map((t) => `${t}=${contribution(r.features, model, t)}`).join(" ");
      console.log(`      ${name}: score ${r.score} ${r.level} (${terms})`);
    }

    // The trusted merchant: a year, 183 active days, 50 customers and 3 suppliers, every bill on time.
    expect(m.features).to.deep.include({
      activeDays: BigInt(STEPS),
      txCountIn: BigInt(STEPS),
      volumeToken: BigInt(STEPS) * 70_000n + BigInt(MERCHANT_BILLS) * 50_000n,
      counterparties: BigInt(CUSTOMERS + 3),
      billsPaidOnTime: BigInt(MERCHANT_BILLS),
      billsPaidOverdue: 0n,
      doubleSpendFlags: 0n,
      frozenPeriods: 0n,
      flaggedCounterparties: 0n,
    });
    expect(m.features.lastActivity - m.features.firstActivity).to.be.greaterThanOrEqual(365n * 86_400n - 2n * 86_400n);
    expect(m.level).to.equal("HIGH");

    // The fresh address: nothing at all.
    expect(f.set).to.deep.equal([fresh.address]);
    expect(f.features).to.deep.equal(NO_FEATURES);
    expect(f.level).to.equal("NONE");

    // The three regulars: same life, one defect each.
    for (const r of [l, z, d]) {
      expect(r.features).to.deep.include({
        volumeNative: parseEther("0.2") * BigInt(REGULAR_SENDS),
        counterparties: BigInt(REGULAR_SENDS + 3),
      });
      expect(r.features.volumeToken).to.be.greaterThanOrEqual(10_000_000n);
    }
    expect(l.features).to.deep.include({
      billsPaidOnTime: BigInt(REGULAR_BILLS - LATE_BILLS),
      billsPaidOverdue: BigInt(LATE_BILLS),
    });
    expect(l.level).to.equal("LOW");
    expect(z.features).to.deep.include({ billsPaidOnTime: BigInt(REGULAR_BILLS), frozenPeriods: 1n });
    expect(z.level).to.equal("LOW");
    expect(d.features).to.deep.include({ billsPaidOnTime: BigInt(REGULAR_BILLS), doubleSpendFlags: 1n });
    expect(d.score).to.equal(0);
    expect(d.level).to.equal("NONE");
    // Without its defect a regular would be MEDIUM: the defect alone sets each level.
    const clean = score({ ...d.features, doubleSpendFlags: 0n }, model);
    expect(clean.level).to.equal("MEDIUM");

    // A supplier was paid by both the frozen user and the cheater: what it received from them does not count
    // against it (anyone can send to anyone), while it is their counterparty all the same.
    const supplier = [await addr(s1!)];
    expect(resumed.featuresOf(supplier, head).flaggedCounterparties).to.equal(0n);
    expect(resumed.featuresOf(supplier, beforeFreeze).flaggedCounterparties).to.equal(0n);
  });
});
