/**
 * The outbox sender when a send fails: bank A's agent reaches the chain
 * through a JSON-RPC proxy (`RpcProxy`) that refuses, drops or spoils exactly
 * the agent's `eth_sendTransaction` on demand, and each failure is decided
 * from the chain's record: retried, found landed, waited on or given up.
 */
import { expect } from "chai";
import { JsonRpcProvider } from "ethers";

import type { BankAgent } from "../../src/settlement/agent.js";
import { RETRY_DELAY_MS } from "../../src/settlement/outbox.js";
import { settlementIdOf, settlementStateName, termsTuple } from "../../src/settlement/terms.js";
import { RpcProxy } from "../mocks/rpc-proxy.js";
import {
  ALICE_OPENING,
  expectBalanced,
  http,
  startBanks,
  stepsOf,
  waitForPayment,
  type Banks,
  until,
} from "./helpers.js";

interface Call {
  readonly method: string;
  readonly params: unknown[];
}
type Forward = (call: Call) => Promise<unknown>;
/** Answers a call in place of the chain, or returns undefined to let it through. */
type Hook = (call: Call, forward: Forward) => Promise<unknown> | undefined;

const order = (endToEndId: string, amount = "4321") => ({
  debtorAccount: "alice",
  creditorBank: "B",
  creditorAccount: "bob",
  amount,
  currency: "USD",
  endToEndId,
});

/** An error as a node answering JSON-RPC would give it (not a revert). */
const dropped = (what: string) => Object.assign(new Error(`proxy: ${what}`), { code: -32000 });

describe("settlement: the outbox sender when a send fails", function () {
  this.timeout(120_000);
  let banks: Banks | undefined;
  const agents: BankAgent[] = [];
  const proxies: RpcProxy[] = [];
  const providers: JsonRpcProvider[] = [];

  afterEach(async function () {
    for (const agent of agents.splice(0)) await agent.stop();
    await banks?.stop();
    banks = undefined;
    for (const provider of providers.splice(0)) provider.destroy();
    for (const proxy of proxies.splice(0)) await proxy.stop();
  });

  /** What the proxy saw of bank A's agent: its sends by function, and its reads of `settlement(id)`. */
  interface Traffic {
    sends: Array<{ fn: string; at: number; outcome: "forwarded" | "refused" | "spoiled" }>;
    settlementReads: number;
  }

  /**
   * Stops bank A's agent and starts it again on its store, reaching the chain through a proxy whose
   * `hook` may answer (or refuse) any call; returns the agent and what the proxy saw.
   */
  async function proxiedA(
    hook: Hook,
    overrides: Parameters<Banks["agent"]>[2] = {},
  ): Promise<{ agent: BankAgent; traffic: Traffic }> {
    const { suite, settlement } = banks!;
    await banks!.a.stop();
    const iface = settlement.interface;
    const bankA = suite.accounts.bankA.address.toLowerCase();
    const settlementRead = iface.getFunction("settlement").selector;
    const traffic: Traffic = { sends: [], settlementReads: 0 };
    const forward: Forward = (call) => suite.connection.provider.request(call);
    const proxy = new RpcProxy(async (payload) => {
      const call = { method: payload.method, params: payload.params ?? [] };
      if (call.method === "eth_call") {
        const data = String((call.params[0] as { data?: string; input?: string }).data ?? "");
        if (data.startsWith(settlementRead)) traffic.settlementReads += 1;
      }
      const answer = hook(call, forward);
      if (call.method === "eth_sendTransaction") {
        const tx = call.params[0] as { from: string; data: string };
        if (tx.from.toLowerCase() === bankA) {
          // A transfer of nothing to itself (the agent using a nonce up) carries no calldata.
          const fn = (tx.data ?? "0x") === "0x" ? "transfer" : (iface.parseTransaction({ data: tx.data })?.name ?? "?");
          const sent: Traffic["sends"][number] = { fn, at: Date.now(), outcome: "forwarded" };
          traffic.sends.push(sent);
          if (answer !== undefined) {
            try {
              return await answer;
            } catch (error) {
              sent.outcome = "refused";
              throw error;
            } finally {
              if (sent.outcome === "forwarded") sent.outcome = "spoiled";
            }
          }
        }
      }
      return answer ?? forward(call);
    });
    proxies.push(proxy);
    const url = await proxy.start();
    const provider = new JsonRpcProvider(url, 31337, {
      staticNetwork: true,
      batchMaxCount: 1,
      pollingInterval: 50,
      cacheTimeout: -1,
    });
    providers.push(provider);
    const signer = await provider.getSigner(suite.accounts.bankA.address);
    const agent = banks!.agent("A", banks!.stores.a, { provider, signer, ...overrides });
    agents.push(agent);
    await agent.start();
    return { agent, traffic };
  }

  const stateOf = async (id: string) =>
    settlementStateName(await banks!.settlement.stateOf(banks!.a.trustAccount, settlementIdOf(id)));
  const rowOf = (agent: BankAgent, id: string, step: string) =>
    agent.payments.outboxOf("outbound", id).find((row) => row.step === step);

  /** The payment settled exactly once: one debit, one acknowledgement, Bob credited once. */
  async function expectSettledOnce(agent: BankAgent, id: string, amount: bigint): Promise<void> {
    const done = await waitForPayment(agent, id, (p) => p.status === "Acknowledged");
    expect(done.debtor.status).to.equal("Acknowledged");
    expect(stepsOf(agent, "outbound", id)).to.deep.equal(["debit", "acknowledge"]);
    expect(await stateOf(id)).to.equal("Acknowledged");
    const atB = await waitForPayment(banks!.b, id, (p) => p.debtor.status === "Acknowledged");
    expect(atB.creditor.status).to.equal("Smelted");
    expect(agent.ledger.balance("alice")).to.equal(ALICE_OPENING - amount);
    expect(banks!.b.ledger.balance("bob")).to.equal(1_000n + amount);
    expectBalanced(agent, banks!.b);
  }

  it("an initiate whose send is refused once is checked on chain, retried, and settles exactly once", async function () {
    banks = await startBanks();
    let refuse = true;
    const { agent, traffic } = await proxiedA((call) => {
      if (call.method === "eth_sendTransaction" && refuse) {
        refuse = false;
        return Promise.reject(dropped("connection reset"));
      }
      return undefined;
    });
    const id = "OBX-REFUSED";
    expect((await http(`${agent.url}/payments`, "POST", order(id))).status).to.equal(202);
    await expectSettledOnce(agent, id, 4321n);
    expect(traffic.sends.map((s) => `${s.fn}:${s.outcome}`)).to.deep.equal([
      "initiate:refused",
      "initiate:forwarded",
      "acknowledge:forwarded",
    ]);
    // Retried once after the refusal (attempts: the retry, then the send), and not before RETRY_DELAY_MS.
    expect(rowOf(agent, id, "initiate")).to.deep.equal({ step: "initiate", status: "done", attempts: 2 });
    expect(traffic.sends[1]!.at - traffic.sends[0]!.at).to.be.at.least(RETRY_DELAY_MS - 50);
    // The chain was read after the failure and again before the resend (the row had an attempt), and a
    // fresh row (no attempt, no tx) was never read before its first send: the acknowledgement's wasn't.
    expect(traffic.settlementReads).to.equal(2);
    expect(banks.lines.some((l) => l.includes(`initiate ${id} failed, will retry: `))).to.equal(true);
  });

  it("an initiate that landed although its send was answered with an error is not sent again", async function () {
    banks = await startBanks();
    let drop = true;
    const { agent, traffic } = await proxiedA((call, forward) => {
      if (call.method === "eth_sendTransaction" && drop) {
        drop = false;
        return forward(call).then(() => Promise.reject(dropped("answer lost")));
      }
      return undefined;
    });
    const id = "OBX-DROPPED";
    expect((await http(`${agent.url}/payments`, "POST", order(id))).status).to.equal(202);
    await expectSettledOnce(agent, id, 4321n);
    expect(traffic.sends.map((s) => `${s.fn}:${s.outcome}`)).to.deep.equal([
      "initiate:refused",
      "acknowledge:forwarded",
    ]);
    expect(banks.lines.some((l) => l.includes(`initiate ${id} has landed; not resent`))).to.equal(true);
    expect(banks.lines.some((l) => l.includes(`initiate ${id} failed, will retry`))).to.equal(false);
  });

  it("a failed send whose settlement state cannot be read is retried later, not thrown out of the round", async function () {
    banks = await startBanks();
    let refuseSend = true;
    let refuseRead = false;
    const settlementRead = banks.settlement.interface.getFunction("settlement").selector;
    const { agent, traffic } = await proxiedA((call) => {
      if (call.method === "eth_sendTransaction" && refuseSend) {
        refuseSend = false;
        refuseRead = true;
        return Promise.reject(dropped("connection reset"));
      }
      if (call.method === "eth_call" && refuseRead) {
        const data = String((call.params[0] as { data?: string }).data ?? "");
        if (data.startsWith(settlementRead)) {
          refuseRead = false;
          return Promise.reject(dropped("read timed out"));
        }
      }
      return undefined;
    });
    const id = "OBX-UNREADABLE";
    expect((await http(`${agent.url}/payments`, "POST", order(id))).status).to.equal(202);
    await expectSettledOnce(agent, id, 4321n);
    expect(traffic.sends.map((s) => `${s.fn}:${s.outcome}`)).to.deep.equal([
      "initiate:refused",
      "initiate:forwarded",
      "acknowledge:forwarded",
    ]);
    // One attempt for the unreadable state (retried later), one for the send that went through.
    expect(rowOf(agent, id, "initiate")).to.deep.equal({ step: "initiate", status: "done", attempts: 2 });
    expect(traffic.sends[1]!.at - traffic.sends[0]!.at).to.be.at.least(RETRY_DELAY_MS - 50);
    expect(banks.lines.some((l) => l.includes("loop error"))).to.equal(false);
  });

  it("a send whose receipt shows a revert is decided from the chain state: still sendable, so sent again", async function () {
    banks = await startBanks();
    const { suite } = banks;
    let spoil = true;
    let spoiledHash = "";
    const { agent, traffic } = await proxiedA((call, forward) => {
      if (call.method === "eth_sendTransaction" && spoil) {
        spoil = false;
        // Too little gas to run: the node takes the transaction, and it is mined as a failure.
        const tx = { ...(call.params[0] as Record<string, unknown>), gas: "0xc350" };
        return (async () => {
          await forward({ method: "evm_setAutomine", params: [false] });
          try {
            spoiledHash = (await forward({ method: "eth_sendTransaction", params: [tx] })) as string;
            await forward({ method: "evm_mine", params: [] });
          } finally {
            await forward({ method: "evm_setAutomine", params: [true] });
          }
          return spoiledHash;
        })();
      }
      return undefined;
    });
    const id = "OBX-REVERTED";
    expect((await http(`${agent.url}/payments`, "POST", order(id))).status).to.equal(202);
    await expectSettledOnce(agent, id, 4321n);
    expect((await suite.ethers.provider.getTransactionReceipt(spoiledHash))?.status).to.equal(0);
    expect(traffic.sends.map((s) => s.fn)).to.deep.equal(["initiate", "initiate", "acknowledge"]);
    // sent (1), retried after the revert (2), sent again (3)
    expect(rowOf(agent, id, "initiate")).to.deep.equal({ step: "initiate", status: "done", attempts: 3 });
    expect(
      banks.lines.some((l) => l.includes(`initiate ${id} failed, will retry: transaction ${spoiledHash} reverted`)),
    ).to.equal(true);
    expect(banks.lines.some((l) => l.includes(`initiate ${id} has landed`))).to.equal(false);
  });

  it("a refused initiate whose nonce is free: an unreadable count, then a refused burn, each holds the row a retry delay; it fails once the burn is mined", async function () {
    banks = await startBanks();
    const { settlement } = banks;
    await banks.b.stop();
    const id = "OBX-BURN-RETRY";
    let lost = false;
    let countFailures = 0;
    const burns: Array<{ at: number; outcome: "refused" | "forwarded" }> = [];
    const countAsked: number[] = [];
    const { agent, traffic } = await proxiedA((call, forward) => {
      const tx = call.params[0] as { to?: string; from?: string; data?: string } | undefined;
      if (call.method === "eth_sendTransaction" && (tx?.data ?? "0x") !== "0x" && !lost) {
        lost = true;
        return (async () => {
          // The corridor is paused, and this send is lost before it reaches the node: its nonce stays free.
          await (await settlement.pauseCorridor(banks!.a.trustAccount, banks!.b.trustAccount)).wait();
          throw dropped("connection reset");
        })();
      }
      if (call.method === "eth_sendTransaction" && tx?.to?.toLowerCase() === tx?.from?.toLowerCase()) {
        const refuse = burns.length === 0;
        burns.push({ at: Date.now(), outcome: refuse ? "refused" : "forwarded" });
        if (refuse) return Promise.reject(dropped("burn refused"));
      }
      if (call.method === "eth_getTransactionCount" && call.params[1] === "latest" && lost) {
        countAsked.push(Date.now());
        if (countFailures === 0 && traffic.sends.length >= 1) {
          countFailures += 1;
          return Promise.reject(dropped("count unreadable"));
        }
      }
      return undefined;
    });
    expect((await http(`${agent.url}/payments`, "POST", order(id))).status).to.equal(202);
    const failed = await waitForPayment(agent, id, (p) => p.status === "Failed", 30_000);
    expect(failed.reason).to.equal("InterbankSettlementCorridorPaused");
    expect(agent.ledger.balance("alice")).to.equal(ALICE_OPENING);
    expect(countFailures).to.equal(1);
    expect(burns.map((burn) => burn.outcome)).to.deep.equal(["refused", "forwarded"]);
    // Each failure held the row a retry delay: no burn in the round the count was unreadable, none again at once.
    const unreadable = countAsked[0]!;
    expect(burns[0]!.at - unreadable).to.be.at.least(RETRY_DELAY_MS - 100);
    expect(burns[1]!.at - burns[0]!.at).to.be.at.least(RETRY_DELAY_MS - 100);
    expect(await stateOf(id)).to.equal("None");
    expectBalanced(agent);
  });

  for (const pendingFirst of [false, true]) {
    const title = pendingFirst
      ? "an initiate voided after a failed send waits while a transaction of the agent is pending, then fails the payment"
      : "an initiate voided after a failed send (the id taken on chain by other terms) fails the payment and re-credits the customer";
    it(title, async function () {
      banks = await startBanks();
      const { suite, settlement } = banks;
      await banks.b.stop(); // B would credit the other terms' settlement
      const id = pendingFirst ? "OBX-VOID-PENDING" : "OBX-VOID";
      let taken = false;
      let fakePending = pendingFirst;
      const pendingAsked: number[] = [];
      const { agent, traffic } = await proxiedA(
        (call, forward) => {
          if (call.method === "eth_sendTransaction" && !taken) {
            taken = true;
            return (async () => {
              // Another initiate with the same id but other terms lands first; this send is lost.
              const terms = agent.payments.get("outbound", id)!.terms;
              await (
                await settlement
                  .connect(suite.accounts.bankA)
                  .initiate(termsTuple({ ...terms, amount: terms.amount - 1n }))
              ).wait();
              throw dropped("connection reset");
            })();
          }
          if (call.method === "eth_getTransactionCount" && call.params[1] === "pending") {
            pendingAsked.push(Date.now());
            if (fakePending) {
              return forward({ method: call.method, params: [call.params[0], "latest"] }).then(
                (count) => `0x${(BigInt(count as string) + 1n).toString(16)}`,
              );
            }
          }
          return undefined;
        },
        // Its follower reads no block: the other terms' SettlementInitiated is not applied to this payment.
        { confirmations: 1_000_000 },
      );
      expect((await http(`${agent.url}/payments`, "POST", order(id))).status).to.equal(202);
      const amount = 4321n;
      if (pendingFirst) {
        await until("a pending transaction seen", () => pendingAsked.length > 0);
        await until("the initiate row retried", () => (rowOf(agent, id, "initiate")?.attempts ?? 0) > 0);
        // Not given up while a transaction of the agent may still land.
        expect(agent.payment(id, "outbound")!.status).to.not.equal("Failed");
        expect(rowOf(agent, id, "initiate")).to.deep.equal({ step: "initiate", status: "pending", attempts: 1 });
        expect(agent.ledger.balance("alice")).to.equal(ALICE_OPENING - amount);
        expect(banks.lines.some((l) => l.includes(`failed ${id}:`))).to.equal(false);
        fakePending = false;
      }
      const failed = await waitForPayment(agent, id, (p) => p.status === "Failed");
      expect(failed.debtor.status).to.equal("Failed");
      expect(agent.ledger.balance("alice")).to.equal(ALICE_OPENING);
      expect(banks.lines.some((l) => l.includes(`failed ${id}: the id is used on chain by another payment`))).to.equal(
        true,
      );
      expect(traffic.sends.map((s) => `${s.fn}:${s.outcome}`)).to.deep.equal(["initiate:refused"]);
      expect(pendingAsked.length).to.be.at.least(1);
      expect(await stateOf(id)).to.equal("Delivered"); // the other terms' settlement, untouched
      expectBalanced(agent);
    });
  }

  it("a batch of acknowledgements that fails is retried at once, as a batch, and acknowledges each payment once", async function () {
    banks = await startBanks();
    const { stores } = banks;
    const ids = ["OBX-ACK-1", "OBX-ACK-2"];
    await banks.b.stop();
    for (const id of ids)
      expect((await http(`${banks.a.url}/payments`, "POST", order(id, "1000"))).status).to.equal(202);
    for (const id of ids) await waitForPayment(banks.a, id, (p) => p.debtor.status === "Initiated");
    await banks.a.stop();
    // B smelts both while A is down: A finds both acknowledgements due in one round.
    const b = banks.agent("B", stores.b);
    agents.push(b);
    await b.start();
    for (const id of ids) await until(`${id} smelted`, async () => (await stateOf(id)) === "Smelted");

    let refuse = true;
    const { agent, traffic } = await proxiedA(
      (call) => {
        if (call.method === "eth_sendTransaction" && refuse) {
          refuse = false;
          return Promise.reject(dropped("connection reset"));
        }
        return undefined;
      },
      { ackBatchSize: 10 },
    );
    for (const id of ids) {
      const done = await waitForPayment(agent, id, (p) => p.status === "Acknowledged");
      expect(done.debtor.status).to.equal("Acknowledged");
      expect(stepsOf(agent, "outbound", id)).to.deep.equal(["debit", "acknowledge"]);
      expect(await stateOf(id)).to.equal("Acknowledged");
      // retried (1), sent in the batch that went through (2)
      expect(rowOf(agent, id, "acknowledge")).to.deep.equal({ step: "acknowledge", status: "done", attempts: 2 });
    }
    expect(traffic.sends.map((s) => `${s.fn}:${s.outcome}`)).to.deep.equal([
      "acknowledgeBatch:refused",
      "acknowledgeBatch:forwarded",
    ]);
    // A failed batch is retried in the next round, without the single-step delay, and logs no single retry.
    expect(traffic.sends[1]!.at - traffic.sends[0]!.at).to.be.below(RETRY_DELAY_MS);
    expect(banks.lines.some((l) => /acknowledge OBX-ACK-\d failed, will retry/.test(l))).to.equal(false);
    expect(agent.ledger.balance("alice")).to.equal(ALICE_OPENING - 2_000n);
    await until("B saw both acknowledged", () =>
      ids.every((id) => b.payment(id, "inbound")?.debtor.status === "Acknowledged"),
    );
    expect(b.ledger.balance("bob")).to.equal(3_000n);
    expectBalanced(agent, b);
  });

  it("an outbox row whose payment is gone is voided, never sent", async function () {
    banks = await startBanks();
    const { a, stores } = banks;
    const points: string[] = [];
    await a.stop();
    const agent = banks.agent("A", stores.a, { onStep: (point) => points.push(point) });
    agents.push(agent);
    // Only a store edited by hand can hold such a row: the foreign key forbids it otherwise.
    stores.a.exec("PRAGMA foreign_keys = OFF");
    try {
      expect(agent.payments.enqueue("outbound", "OBX-GHOST", "smelt")).to.equal(true);
    } finally {
      stores.a.exec("PRAGMA foreign_keys = ON");
    }
    await agent.start();
    await until("the row decided", () => rowOf(agent, "OBX-GHOST", "smelt")?.status !== "pending");
    expect(rowOf(agent, "OBX-GHOST", "smelt")).to.deep.equal({ step: "smelt", status: "void", attempts: 0 });
    expect(points.filter((point) => point.startsWith("smelt:"))).to.deep.equal([]);
    expect(banks.lines.some((l) => l.includes("loop error"))).to.equal(false);
    expectBalanced(agent);
  });
});
