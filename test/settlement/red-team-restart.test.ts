/**
 * Red team: crashes and restarts mid-flight, in process, on SQLite files.
 * - A's agent throws from inside a step once between the outbox row being durable and the send
 *   (`acknowledge:sending`), and once after a receipt and before the row is marked (`initiate:landed`);
 * - A's agent is stopped while its initiates wait in the pool, and a new agent is started on the same file
 *   before they are mined; it finds them still there and sends nothing for them;
 * - then B's agent is stopped while its smelts wait in the pool, and restarted on its file the same way.
 * No payment may be lost or applied twice: both ledgers exact and balanced, each step posted once, every payment
 * Acknowledged on chain.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import type { Provider } from "ethers";

import { INTERNAL } from "../../src/settlement/bookings.js";
import { settlementIdOf, settlementStateName } from "../../src/settlement/terms.js";
import { Store } from "../../src/store/store.js";
import { expectBalanced, http, orderJson, startBanks, stepsOf, until, waitForPayment, type Banks } from "./helpers.js";

/** `provider`, with the hash of every transaction it is asked about (`getTransaction`) recorded. */
function askedAbout(provider: Provider, hashes: Set<string>): Provider {
  return new Proxy(provider, {
    get(target, prop, receiver) {
      if (prop === "getTransaction") {
        return (hash: string) => {
          hashes.add(hash);
          return target.getTransaction(hash);
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe("settlement red team: restart", function () {
  let banks: Banks | undefined;
  const agents: Array<{ stop(): Promise<void> }> = [];
  const stores: Store[] = [];
  let dir: string | undefined;

  afterEach(async function () {
    await banks?.suite.ethers.provider.send("evm_setAutomine", [true]);
    for (const agent of agents.splice(0)) await agent.stop();
    await banks?.stop();
    banks = undefined;
    for (const store of stores.splice(0)) store.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("throws inside steps, a stop with transactions in the pool, a restart on the same file: every payment once", async function () {
    banks = await startBanks({ receiptTimeoutMs: 1_000 });
    const { suite, settlement } = banks;
    const provider = suite.ethers.provider;
    const keyA = await suite.accounts.bankA.getAddress();
    const keyB = await suite.accounts.bankB.getAddress();
    dir = mkdtempSync(path.join(tmpdir(), "bank-chain-red-team-restart-"));
    const files = { A: path.join(dir, "a.sqlite"), B: path.join(dir, "b.sqlite") };
    const open = (bank: "A" | "B") => {
      const store = Store.open({ path: files[bank] });
      stores.push(store);
      return store;
    };
    /** Closes a stopped agent's store, as its process would on exit. */
    const close = (store: Store) => {
      stores.splice(stores.indexOf(store), 1);
      store.close();
    };
    /** The hashes of the transactions of `key` in the pool. */
    const pooled = async (key: string, ids: readonly string[] = []): Promise<string[]> => {
      const block = (await provider.send("eth_getBlockByNumber", ["pending", true])) as {
        transactions: Array<{ hash: string; from: string; input: string }>;
      };
      const mine = block.transactions.filter((tx) => tx.from.toLowerCase() === key.toLowerCase());
      const carried = (id: string) => mine.some((tx) => tx.input.includes(settlementIdOf(id).slice(2)));
      return ids.every(carried) ? mine.map((tx) => tx.hash) : [];
    };
    /** A new agent of `bank` on its file, noting the transactions it asks the node about. */
    const restart = (bank: "A" | "B", asked: Set<string>) => {
      const agent = banks!.agent(bank, open(bank), { provider: askedAbout(provider, asked) });
      agents.push(agent);
      return agent;
    };

    // Fresh agents on files (the helper's in-memory ones are stopped); A's throws once at each of two points.
    await banks.a.stop();
    await banks.b.stop();
    const thrown = new Set<string>();
    const storeA = open("A");
    const storeB = open("B");
    let a = banks.agent("A", storeA, {
      onStep: (point) => {
        if ((point === "acknowledge:sending" || point === "initiate:landed") && !thrown.has(point)) {
          thrown.add(point);
          throw new Error(`red team: a crash at ${point}`);
        }
      },
    });
    let b = banks.agent("B", storeB);
    agents.push(a, b);
    a.openCustomerAccount({ id: "alice", name: "Alice", deposit: 1_000_000n });
    b.openCustomerAccount({ id: "bob", name: "Bob" });
    await a.start();
    await b.start();

    const amounts = ["101", "202", "303", "404", "505", "606"];
    const pay = async (...ids: string[]) => {
      for (const id of ids) {
        const amount = amounts[Number(id.slice("RS-".length))]!;
        expect((await http(`${a.url}/payments`, "POST", orderJson(id, { amount }))).status).to.equal(202);
      }
    };
    await pay("RS-0");
    await waitForPayment(a, "RS-0", (p) => p.status === "Acknowledged");
    expect([...thrown].sort()).to.deep.equal(["acknowledge:sending", "initiate:landed"]);

    // Three orders; A stopped while their initiates wait in the pool; a new A on the same file, which looks at
    // them while they are still there and sends nothing new.
    await provider.send("evm_setAutomine", [false]);
    await pay("RS-1", "RS-2", "RS-3");
    await until("A's initiates in the pool", async () => (await pooled(keyA, ["RS-1", "RS-2", "RS-3"])).length > 0);
    await a.stop();
    close(storeA);
    const inPoolA = await pooled(keyA, ["RS-1", "RS-2", "RS-3"]);
    expect(inPoolA).to.not.have.length(0);
    const askedA = new Set<string>();
    a = restart("A", askedA);
    await a.start();
    await until("the new A looked at its predecessor's transactions", () => inPoolA.every((h) => askedA.has(h)));
    expect(await pooled(keyA)).to.deep.equal(inPoolA);
    await provider.send("evm_setAutomine", [true]);
    await provider.send("evm_mine", []);

    // Two more orders; B stopped while its smelts wait in the pool, restarted on its file the same way.
    await provider.send("evm_setAutomine", [false]);
    await pay("RS-4", "RS-5");
    await until("A's initiates in the pool", async () => (await pooled(keyA, ["RS-4", "RS-5"])).length > 0);
    await provider.send("evm_mine", []);
    await until("B's smelts in the pool", async () => (await pooled(keyB, ["RS-4", "RS-5"])).length > 0);
    await b.stop();
    close(storeB);
    const inPoolB = await pooled(keyB, ["RS-4", "RS-5"]);
    expect(inPoolB).to.not.have.length(0);
    const askedB = new Set<string>();
    b = restart("B", askedB);
    await b.start();
    await until("the new B looked at its predecessor's transactions", () => inPoolB.every((h) => askedB.has(h)));
    expect(await pooled(keyB)).to.deep.equal(inPoolB);
    await provider.send("evm_setAutomine", [true]);
    await provider.send("evm_mine", []);

    for (let i = 0; i < amounts.length; i += 1) {
      await waitForPayment(a, `RS-${i}`, (p) => p.status === "Acknowledged");
      await waitForPayment(b, `RS-${i}`, (p) => p.debtor.status === "Acknowledged");
    }
    const total = amounts.reduce((sum, amount) => sum + BigInt(amount), 0n);
    expect(a.ledger.balance("alice")).to.equal(1_000_000n - total);
    expect(b.ledger.balance("bob")).to.equal(total);
    expect(a.ledger.balance(INTERNAL.trust)).to.equal(0n);
    expect(b.ledger.balance(INTERNAL.suspense)).to.equal(0n);
    expect(a.ledger.balance(INTERNAL.dueTo("B"))).to.equal(total);
    expect(b.ledger.balance(INTERNAL.dueFrom("A"))).to.equal(total);
    expect(await suite.ledger.claimOf(b.trustAccount, a.trustAccount)).to.equal(total);
    for (let i = 0; i < amounts.length; i += 1) {
      expect(stepsOf(a, "outbound", `RS-${i}`)).to.deep.equal(["debit", "acknowledge"]);
      expect(stepsOf(b, "inbound", `RS-${i}`)).to.deep.equal(["credit", "smelt"]);
      const state = await settlement.stateOf(a.trustAccount, settlementIdOf(`RS-${i}`));
      expect(settlementStateName(state)).to.equal("Acknowledged");
    }
    expectBalanced(a, b);
  });
});
