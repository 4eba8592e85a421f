/**
 * Shared by the bank-agent tests: both banks' agents on a suite deployed by
 * the real deploy scripts, each with its own in-memory SQLite store and its
 * HTTP API on 127.0.0.1, and a small JSON client for that API.
 */
import { expect } from "chai";
import { Transaction, type Signer } from "ethers";

import { BankAgent, type BankDirectoryEntry } from "../../src/settlement/agent.js";
import { Store } from "../../src/store/store.js";
import { InterbankSettlement__factory, type InterbankSettlement } from "../../typechain-types/index.js";
import { deploySuite, type Suite } from "../helpers/suite.js";

export interface HttpAnswer<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

/** Sends JSON (or a raw string) to the agent and reads its JSON answer. */
export async function http<T = Record<string, unknown>>(
  url: string,
  method: "GET" | "POST" | "DELETE",
  body?: unknown,
  options: { raw?: string; contentType?: string } = {},
): Promise<HttpAnswer<T>> {
  const response = await fetch(url, {
    method,
    headers: { "content-type": options.contentType ?? "application/json" },
    ...(method === "POST" ? { body: options.raw ?? JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

export interface Banks {
  readonly suite: Suite;
  readonly settlement: InterbankSettlement;
  readonly a: BankAgent;
  readonly b: BankAgent;
  readonly stores: { readonly a: Store; readonly b: Store };
  readonly lines: string[];
  /** Builds an agent for bank A or B on its store (a fresh one, or one given, for restarts). */
  agent(bank: "A" | "B", store?: Store, overrides?: Partial<ConstructorParameters<typeof BankAgent>[0]>): BankAgent;
  stop(): Promise<void>;
}

export const ALICE_OPENING = 10_000_000n;

/**
 * A payment order's JSON body: alice at bank A pays 12,345 minor units of USD to bob at bank B, unless `more` says
 * otherwise.
 */
export function orderJson(endToEndId: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    debtorAccount: "alice",
    creditorBank: "B",
    creditorAccount: "bob",
    amount: "12345",
    currency: "USD",
    endToEndId,
    ...more,
  };
}

/**
 * Bank A accepts `order` (alice debited) and stops before it sends the initiate: its agent is replaced by one that
 * stops once the order is committed. No agent of A runs afterwards.
 */
export async function acceptedUnsent(b: Banks, order: Record<string, unknown>): Promise<void> {
  const stopping = b.agent("A", b.stores.a, {
    onStep: (point) => {
      if (point === "accept:committed") void stopping.stop();
    },
  });
  await b.a.stop();
  await stopping.start();
  try {
    expect((await http(`${stopping.url}/payments`, "POST", order)).status).to.equal(202);
  } finally {
    await stopping.stop();
  }
}

/**
 * A payment bank A gives up: it accepts `order` and stops before sending, the A→B corridor is paused, and a new
 * agent of A on the same store meets the refusal, fails the payment and re-credits alice. Returns that agent,
 * running (the caller stops it), with the corridor still paused.
 */
export async function givenUp(b: Banks, order: Record<string, unknown>): Promise<BankAgent> {
  await acceptedUnsent(b, order);
  await b.settlement.pauseCorridor(b.a.trustAccount, b.b.trustAccount);
  const restarted = b.agent("A", b.stores.a);
  await restarted.start();
  try {
    await waitForPayment(restarted, String(order.endToEndId), (p) => p.status === "Failed");
  } catch (error) {
    await restarted.stop();
    throw error;
  }
  return restarted;
}

/** Fees that put a transaction ahead of the agents' (on the same nonce, or in the same block). */
export const OUTBID = { maxFeePerGas: 10n ** 11n, maxPriorityFeePerGas: 10n ** 10n } as const;

export async function startBanks(overrides: Partial<ConstructorParameters<typeof BankAgent>[0]> = {}): Promise<Banks> {
  const suite = await deploySuite();
  const address = suite.deployments.get("InterbankSettlement").address;
  const settlement = InterbankSettlement__factory.connect(address, suite.accounts.schemeAdmin);
  const banks: BankDirectoryEntry[] = [
    { id: "A", trustAccount: await suite.trustA.getAddress() },
    { id: "B", trustAccount: await suite.trustB.getAddress() },
  ];
  const lines: string[] = [];
  const signers: Record<"A" | "B", Signer> = { A: suite.accounts.bankA, B: suite.accounts.bankB };
  const agent = (bank: "A" | "B", store?: Store, more: Partial<ConstructorParameters<typeof BankAgent>[0]> = {}) =>
    new BankAgent({
      store: store ?? Store.open({ path: ":memory:" }),
      provider: suite.ethers.provider,
      signer: signers[bank],
      settlement: address,
      bankId: bank,
      banks,
      currency: "USD",
      confirmations: 0,
      port: 0,
      pollIntervalMs: 10,
      log: (line) => lines.push(line),
      ...overrides,
      ...more,
    });
  const stores = { a: Store.open({ path: ":memory:" }), b: Store.open({ path: ":memory:" }) };
  const a = agent("A", stores.a);
  const b = agent("B", stores.b);
  a.openCustomerAccount({ id: "alice", name: "Alice", deposit: ALICE_OPENING });
  a.openCustomerAccount({ id: "carol", name: "Carol", deposit: 500n });
  b.openCustomerAccount({ id: "bob", name: "Bob", deposit: 1_000n });
  b.openCustomerAccount({ id: "closed-1", name: "Closed", status: "closed" });
  b.openCustomerAccount({ id: "blocked-1", name: "Blocked", status: "blocked" });
  b.openCustomerAccount({ id: "dora", name: "Dora", deposit: 2_000_000n });
  await a.start();
  await b.start();
  return {
    suite,
    settlement,
    a,
    b,
    stores,
    lines,
    agent,
    async stop() {
      await a.stop();
      await b.stop();
    },
  };
}

/** Polls every 20 ms until `done()` holds; fails naming `what` after `timeoutMs`. */
export async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Polls `GET /payments/:id` until `done(status)` holds. */
export async function waitForPayment(
  agent: BankAgent,
  id: string,
  done: (payment: PaymentJson) => boolean,
  timeoutMs = 20_000,
): Promise<PaymentJson> {
  const deadline = Date.now() + timeoutMs;
  let last: PaymentJson | undefined;
  for (;;) {
    const answer = await http<PaymentJson>(`${agent.url}/payments/${encodeURIComponent(id)}`, "GET");
    if (answer.status === 200) {
      last = answer.body;
      if (done(last)) return last;
    }
    if (Date.now() > deadline) {
      throw new Error(`payment ${id} did not get there within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface PaymentJson {
  id: string;
  direction: string;
  status: string;
  amount: string;
  settlementId: string;
  deadline: number;
  debtor: { bank: string; account: string | null; status: string };
  creditor: { bank: string; account: string | null; status: string };
  reason: string | null;
  history: Array<{ at: string; what: string; tx: string | null }>;
}

/** Both core ledgers balance. */
export function expectBalanced(...agents: BankAgent[]): void {
  for (const agent of agents) {
    const report = agent.checkBalanced();
    expect(report.problems, `${agent.name} ledger`).to.deep.equal([]);
    expect(report.balanced).to.equal(true);
  }
}

/** The steps posted for a payment, in order. */
export function stepsOf(agent: BankAgent, direction: "outbound" | "inbound", id: string): string[] {
  return agent.ledger.entries(`${direction}:${id}`).map((entry) => entry.step);
}

/** A transaction as a block (or the pending one) lists it. */
export type ChainTx = {
  readonly hash: string;
  readonly from: string;
  readonly to: string | null;
  readonly nonce: string;
};
export type Node = Banks["suite"]["ethers"]["provider"];

/** The transactions of a block, or of the pool (`"pending"`). */
export async function blockTxs(provider: Node, tag: number | "pending"): Promise<ChainTx[]> {
  const id = tag === "pending" ? tag : `0x${tag.toString(16)}`;
  return ((await provider.send("eth_getBlockByNumber", [id, true])) as { transactions: ChainTx[] }).transactions;
}

/** The transactions mined after block `start`. */
export async function minedSince(provider: Node, start: number): Promise<ChainTx[]> {
  const txs: ChainTx[] = [];
  for (let number = start + 1; number <= (await provider.getBlockNumber()); number += 1) {
    txs.push(...(await blockTxs(provider, number)));
  }
  return txs;
}

/** Waits until a transaction from `key` is in the pool (the chain not automining) and returns it. */
export async function inPool(provider: Node, key: string): Promise<ChainTx> {
  let found: ChainTx | undefined;
  await until("the agent's initiate is in the pool", async () => {
    found = (await blockTxs(provider, "pending")).find((tx) => tx.from === key.toLowerCase());
    return found !== undefined;
  });
  return found!;
}

/** `key`'s transfers to itself among `txs`. */
export const burnsIn = (txs: readonly ChainTx[], key: string) =>
  txs.filter((tx) => tx.from === key.toLowerCase() && tx.to?.toLowerCase() === key.toLowerCase());

/**
 * Banks started per test of a `describe` (call it in the `describe` body): `start` starts them as `startBanks`
 * does, `keep` registers another agent the test started. After each test, even a failed one, the chain automines
 * again and every agent kept, then the banks, are stopped.
 */
export function banksPerTest(): {
  start(overrides?: Parameters<typeof startBanks>[0]): Promise<Banks>;
  keep<T extends { stop(): Promise<void> }>(agent: T): T;
} {
  let banks: Banks | undefined;
  const kept: Array<{ stop(): Promise<void> }> = [];
  afterEach(async function () {
    try {
      await banks?.suite.ethers.provider.send("evm_setAutomine", [true]);
      for (const agent of kept.splice(0)) await agent.stop();
    } finally {
      await banks?.stop();
      banks = undefined;
    }
  });
  return {
    async start(overrides) {
      banks = await startBanks(overrides);
      return banks;
    },
    keep(agent) {
      kept.push(agent);
      return agent;
    },
  };
}

/** The signed bytes of a transaction the node still holds, as an observer of its pool keeps them. */
export async function rawOf(provider: Node, hash: string): Promise<string> {
  return Transaction.from((await provider.getTransaction(hash))!).serialized;
}

/** Sends signed bytes again: `"accepted"`, or the node's refusal. */
export async function rebroadcast(provider: Node, raw: string): Promise<string> {
  return provider.send("eth_sendRawTransaction", [raw]).then(
    () => "accepted",
    (error: unknown) => (error as Error).message,
  );
}
