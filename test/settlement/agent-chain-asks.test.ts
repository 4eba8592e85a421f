/**
 * What the agent asks the chain for, and what it makes of the answer: the grouped "would the settlement take these
 * orders?" before a 202: one `eth_call` for a group, each order alone only when the settlement refuses the group, none
 * more when the chain cannot be reached (each order then 503 CHAIN_UNAVAILABLE, nothing posted). Counted through a
 * provider the agent is given: a refactor that asks more, or answers an outage as a refusal, fails here.
 */
import { expect } from "chai";
import type { Provider } from "ethers";

import type { PaymentRequest } from "../../src/settlement/api.js";
import { RETRY_AFTER_SECONDS } from "../../src/settlement/http.js";
import { ALICE_OPENING, http, orderJson, startBanks, until, waitForPayment, type Banks } from "./helpers.js";

interface ErrorJson {
  error: { code: string; message: string; field?: string };
}

const request = (endToEndId: string, amount = 12_345n): PaymentRequest => ({
  debtorAccount: "alice",
  creditorBank: "B",
  creditorAccount: "bob",
  amount,
  currency: "USD",
  endToEndId,
});

/**
 * The provider the agents use, with its `call` (the agents' only use of `eth_call`: the admission check), its
 * `getBlock("latest")` and its `getBlockNumber` counted, and `call`, while `down`, failing as an unreachable node
 * does (a connection error, no revert data).
 */
function askingProvider(inner: Provider) {
  const state = { calls: 0, down: false, latestBlocks: 0, blockNumbers: 0 };
  const provider = new Proxy(inner, {
    get(target, property) {
      if (property === "getBlockNumber") {
        return async () => {
          state.blockNumbers += 1;
          return target.getBlockNumber();
        };
      }
      if (property === "getBlock") {
        return async (...args: Parameters<Provider["getBlock"]>) => {
          if (args[0] === "latest") state.latestBlocks += 1;
          return target.getBlock(...args);
        };
      }
      if (property === "call") {
        return async (...args: Parameters<Provider["call"]>) => {
          state.calls += 1;
          if (state.down)
            throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8545"), { code: "ECONNREFUSED" });
          return target.call(...args);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { provider, state };
}

describe("settlement: what the agent asks the chain before a 202", function () {
  let banks: Banks | undefined;
  const extra: Array<{ stop(): Promise<void> }> = [];

  afterEach(async function () {
    for (const agent of extra.splice(0)) await agent.stop();
    await banks?.stop();
    banks = undefined;
  });

  /** Bank A's agent again, on its store, with the counting provider (and `more` of its options). */
  async function counted(b: Banks, more: { headPollMs?: number } = {}) {
    await b.a.stop();
    const { provider, state } = askingProvider(b.suite.ethers.provider as unknown as Provider);
    const agent = b.agent("A", b.stores.a, { provider, ...more });
    extra.push(agent);
    await agent.start();
    return { agent, state };
  }

  it("the chain out of reach: each order 503 CHAIN_UNAVAILABLE, one ask per group, nothing posted; back, it settles", async function () {
    banks = await startBanks();
    const { agent, state } = await counted(banks);
    const entries = agent.ledger.entries().length;
    state.down = true;

    // Three orders in one turn are one group: one ask, and a failure that is no revert is not asked again order by
    // order (it would fail the same way).
    const refused = await Promise.all(
      ["DOWN-1", "DOWN-2", "DOWN-3"].map((id) =>
        agent.submit(request(id)).then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    for (const error of refused) expect(error).to.have.property("code", "CHAIN_UNAVAILABLE");
    expect(state.calls).to.equal(1);

    const answer = await http<ErrorJson>(`${agent.url}/payments`, "POST", orderJson("DOWN-4"));
    expect(answer.status).to.equal(503);
    expect(answer.body.error.code).to.equal("CHAIN_UNAVAILABLE");
    expect(answer.headers.get("retry-after")).to.equal(String(RETRY_AFTER_SECONDS.unavailable));
    expect(state.calls, "a lone order: one ask").to.equal(2);

    for (const id of ["DOWN-1", "DOWN-2", "DOWN-3", "DOWN-4"])
      expect(agent.payments.get("outbound", id)).to.equal(undefined);
    expect(agent.ledger.balance("alice")).to.equal(ALICE_OPENING);
    expect(agent.ledger.entries().length).to.equal(entries);

    state.down = false;
    expect((await http(`${agent.url}/payments`, "POST", orderJson("UP-1"))).status).to.equal(202);
    await waitForPayment(agent, "UP-1", (p) => p.status === "Acknowledged");
    expect(agent.ledger.balance("alice")).to.equal(ALICE_OPENING - 12_345n);
  });

  it("reads the newest block's time only while a payment is open, once per new head, and still sees a deadline pass", async function () {
    banks = await startBanks({ ttlSeconds: 600 });
    await banks.b.stop();
    // The head watcher asks once a second: nearly every question for the block number is then a round's.
    const { agent, state } = await counted(banks, { headPollMs: 1_000 });
    // Nothing open: no round reads the newest block, even as a new one comes.
    await banks.suite.networkHelpers.mine(1);
    await until("30 questions for the newest block number", () => state.blockNumbers >= 30);
    expect(state.latestBlocks, "rounds with nothing open").to.equal(0);

    await agent.submit(request("TIME-1"));
    await waitForPayment(agent, "TIME-1", (p) => p.debtor.status === "Initiated");

    // Open and unsmelted, the payment is checked for expiry every round; with no new block the time it checks
    // against is the one already read. Each round's follower asks for the block number once: 30 questions are
    // nearly 30 rounds, however slowly they come.
    const asked = state.latestBlocks;
    const numbers = state.blockNumbers;
    await until("30 questions for the newest block number", () => state.blockNumbers - numbers >= 30);
    expect(state.latestBlocks - asked, "rounds without a new block").to.be.at.most(1);

    // A new block past the deadline is read, and the payment refunded.
    await banks.suite.networkHelpers.time.increase(601);
    await banks.suite.networkHelpers.mine(1);
    const refunded = await waitForPayment(agent, "TIME-1", (p) => p.status === "Refunded");
    expect(refunded.creditor.status).to.equal("Expired");
  });

  it("a group the settlement refuses is asked again order by order; a lone order is asked once", async function () {
    banks = await startBanks();
    await banks.settlement.setCorridorLimits(banks.a.trustAccount, banks.b.trustAccount, 10_000n, 1_000_000n, 86_400);
    const { agent, state } = await counted(banks);

    // A lone order within the limit, and a lone order over it: one ask each (no group call for one order).
    await agent.submit(request("LONE-1", 100n));
    expect(state.calls).to.equal(1);
    const over = await agent.submit(request("LONE-2", 10_001n)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(over).to.have.property("code", "CORRIDOR_LIMIT_EXCEEDED");
    expect(state.calls).to.equal(2);

    // A group that passes: one ask for the group.
    await Promise.all(["FINE-1", "FINE-2", "FINE-3"].map((id) => agent.submit(request(id, 100n))));
    expect(state.calls).to.equal(3);

    // A group with one order over the limit: the group's ask, then each of its four alone.
    const answers = await Promise.all(
      [100n, 10_001n, 100n, 100n].map((amount, i) =>
        agent.submit(request(`MIXED-${i}`, amount)).then(
          () => "accepted",
          (e: unknown) => (e as { code: string }).code,
        ),
      ),
    );
    expect(answers).to.deep.equal(["accepted", "CORRIDOR_LIMIT_EXCEEDED", "accepted", "accepted"]);
    expect(state.calls).to.equal(3 + 1 + 4);
    for (const id of ["LONE-1", "FINE-1", "FINE-2", "FINE-3", "MIXED-0", "MIXED-2", "MIXED-3"]) {
      await waitForPayment(agent, id, (p) => p.status === "Acknowledged");
    }
  });
});
