import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { JsonRpcProvider } from "ethers";

import { startAnvil, type Anvil } from "../../src/chain/devnet.js";
import { readDeployments } from "../../src/chain/deployments.js";
import { DEMO_ACCOUNTS } from "../../src/settlement/service.js";
import { settlementIdOf } from "../../src/settlement/terms.js";
import {
  BankToken__factory,
  IInterbankSettlement__factory,
  ReserveLedger__factory,
} from "../../typechain-types/index.js";
import { freePort, ROOT, runNode } from "../helpers/processes.js";
import { AgentProcess } from "./agent-process.js";
import type { PaymentJson } from "./helpers.js";

const HARDHAT = path.join(ROOT, "node_modules", "hardhat", "dist", "src", "cli.js");
const STATE = { Acknowledged: 4n, Returned: 6n, Refunded: 8n } as const;

/**
 * Each bank's agent runs as its own process against an Anvil devnet (as `npm start` runs it),
 * and is killed with SIGKILL at every step of a payment's life (the agent
 * kills itself at the exact point, see `scripts/bank-agent.ts`), restarted,
 * killed at the next step, and so on; then the payment must be complete,
 * every step posted exactly once on both ledgers, both ledgers balanced, and
 * the on-chain state final. The two banks live through all the scenarios.
 */
describe("settlement: bank agents killed at every step", function () {
  this.timeout(240_000);
  let dir: string;
  let devnet: Anvil | undefined;
  let provider: JsonRpcProvider;
  let a: AgentProcess;
  let b: AgentProcess;
  let contracts: ReturnType<typeof connect>;
  let env: NodeJS.ProcessEnv;
  /** What each demo customer should hold, kept up to date by the scenarios. */
  const expected = new Map<string, bigint>();

  function connect(env: NodeJS.ProcessEnv) {
    const deployments = readDeployments("localhost", env.BANK_CHAIN_DEPLOYMENTS_DIR);
    return {
      settlement: IInterbankSettlement__factory.connect(deployments.get("InterbankSettlement").address, provider),
      token: BankToken__factory.connect(deployments.get("BankToken").address, provider),
      ledger: ReserveLedger__factory.connect(deployments.get("ReserveLedger").address, provider),
      trustA: deployments.get("TrustAccountBankA").address,
      trustB: deployments.get("TrustAccountBankB").address,
    };
  }

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "bank-chain-agents-"));
    const port = await freePort();
    env = {
      BANK_CHAIN_RPC_PORT: String(port),
      BANK_CHAIN_RPC_URL: `http://127.0.0.1:${port}`,
      BANK_CHAIN_DEPLOYMENTS_DIR: path.join(dir, "deployments"),
      BANK_CHAIN_DATA_DIR: path.join(dir, "data"),
      BANK_A_PORT: String(await freePort()),
      BANK_B_PORT: String(await freePort()),
      BANK_AGENT_POLL_MS: "25",
    };
    // Its own process group: `after` stops it (and the test process's exit kills it, whatever happened).
    devnet = await startAnvil({ endpoint: { host: "127.0.0.1", port, url: env.BANK_CHAIN_RPC_URL! } });
    const deployed = await runNode([HARDHAT, "deploy", "--network", "localhost", "--skip-prompts"], env, 120_000);
    expect(deployed.code, deployed.stderr).to.equal(0);
    provider = new JsonRpcProvider(env.BANK_CHAIN_RPC_URL, undefined, { staticNetwork: true, pollingInterval: 100 });
    contracts = connect(env);
    a = new AgentProcess("A", env);
    b = new AgentProcess("B", env);
    for (const bank of ["A", "B"] as const) {
      for (const account of DEMO_ACCOUNTS[bank]) expected.set(`${bank}:${account.id}`, account.deposit);
    }
  });

  afterEach(async function () {
    // Whatever a scenario left running stops cleanly; the next one starts its own runs.
    await Promise.all([a?.kill(), b?.kill()]);
  });

  after(async function () {
    // Runs however the hooks and tests before it ended; each step is on its own so one failing cannot skip the next.
    provider?.destroy();
    await Promise.allSettled([a?.kill(), b?.kill()]);
    await devnet?.stop(5_000);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function get<T>(agent: AgentProcess, route: string): Promise<{ status: number; body: T }> {
    const response = await fetch(`${agent.url}${route}`);
    return { status: response.status, body: (await response.json()) as T };
  }

  async function post(agent: AgentProcess, body: unknown): Promise<number> {
    const response = await fetch(`${agent.url}/payments`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    await response.arrayBuffer();
    return response.status;
  }

  async function waitFor(
    agent: AgentProcess,
    id: string,
    done: (payment: PaymentJson) => boolean,
    timeoutMs = 60_000,
  ): Promise<PaymentJson> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const answer = await get<PaymentJson>(agent, `/payments/${id}`);
        last = answer.body;
        if (answer.status === 200 && done(answer.body)) return answer.body;
      } catch (error) {
        last = error; // restarting
      }
      if (Date.now() > deadline) throw new Error(`${id} at ${agent.bank}: ${JSON.stringify(last)}\n${agent.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Each step posted once, both ledgers balanced, the customers holding what they should. */
  async function expectLedgers(payments: Array<{ id: string; atA: string[]; atB: string[] }>): Promise<void> {
    for (const { id, atA, atB } of payments) {
      const [fromA, fromB] = await Promise.all([
        get<PaymentJson & { entries: Array<{ step: string }> }>(a, `/payments/${id}`),
        get<PaymentJson & { entries: Array<{ step: string }> }>(b, `/payments/${id}`),
      ]);
      expect(
        fromA.body.entries.map((entry) => entry.step),
        `${id} at A`,
      ).to.deep.equal(atA);
      expect(fromB.status === 404 ? [] : fromB.body.entries.map((entry) => entry.step), `${id} at B`).to.deep.equal(
        atB,
      );
    }
    for (const agent of [a, b]) {
      const ledger = await get<{ balanced: boolean; problems: string[] }>(agent, "/ledger");
      expect(ledger.body.problems, `ledger of ${agent.bank}`).to.deep.equal([]);
      expect(ledger.body.balanced).to.equal(true);
    }
    for (const [key, balance] of expected) {
      const [bank, id] = key.split(":") as ["A" | "B", string];
      const account = await get<{ balance: string }>(bank === "A" ? a : b, `/accounts/${id}`);
      expect(BigInt(account.body.balance), key).to.equal(balance);
    }
    const { settlement, token, ledger, trustA, trustB } = contracts;
    expect(await token.balanceOf(await settlement.getAddress())).to.equal(await settlement.totalInFlight());
    expect(await ledger.totalOutstanding()).to.equal(await token.totalSupply());
    const claim = await ledger.claimOf(trustB, trustA);
    const dueTo = await get<{ balance: string }>(a, "/accounts/internal:due-to:B");
    const dueFrom = await get<{ balance: string }>(b, "/accounts/internal:due-from:A");
    expect([BigInt(dueTo.body.balance), BigInt(dueFrom.body.balance)]).to.deep.equal([claim, claim]);
  }

  const order = (id: string, amount: bigint, creditorAccount = "bob") => ({
    debtorAccount: "alice",
    creditorBank: "B",
    creditorAccount,
    amount: amount.toString(),
    currency: "USD",
    endToEndId: id,
  });

  const pay = (amount: bigint, creditor = "bob") => {
    expected.set("A:alice", expected.get("A:alice")! - amount);
    expected.set(`B:${creditor}`, expected.get(`B:${creditor}`)! + amount);
  };

  it("happy path: A killed at all 8 steps, B at all 5, the payment settles exactly once", async function () {
    const bRuns = b.crashThrough([
      "apply:SettlementInitiated",
      "smelt:sending",
      "smelt:landed",
      "apply:SettlementSmelted",
      "apply:SettlementAcknowledged",
    ]);
    await a.start("accept:committed");
    // The agent dies after committing the payment and before answering: the client sees no reply.
    const reply = await post(a, order("CRASH-OK", 4_321n)).catch((error: unknown) => error);
    expect(reply).to.be.instanceOf(Error);
    expect((await a.exited(10_000)).signal).to.equal("SIGKILL");
    await a.crashThrough([
      "initiate:sending",
      "initiate:landed",
      "apply:SettlementInitiated",
      "apply:SettlementSmelted",
      "acknowledge:sending",
      "acknowledge:landed",
      "apply:SettlementAcknowledged",
    ]);
    await bRuns;
    // The client's retry finds the payment it could not see accepted.
    expect(await post(a, order("CRASH-OK", 4_321n))).to.equal(409);
    const atA = await waitFor(a, "CRASH-OK", (p) => p.status === "Acknowledged");
    expect(atA.creditor.status).to.equal("Smelted");
    await waitFor(b, "CRASH-OK", (p) => p.debtor.status === "Acknowledged");
    pay(4_321n);
    await expectLedgers([{ id: "CRASH-OK", atA: ["debit", "acknowledge"], atB: ["credit", "smelt"] }]);
    expect(await contracts.settlement.stateOf(contracts.trustA, settlementIdOf("CRASH-OK"))).to.equal(
      STATE.Acknowledged,
    );
    expect(a.starts).to.equal(9);
    expect(b.starts).to.equal(6);
  });

  it("rejection and return: B killed deciding and rejecting, A killed taking it back", async function () {
    const bRuns = b.crashThrough([
      "apply:SettlementInitiated",
      "reject:sending",
      "reject:landed",
      "apply:SettlementRejected",
    ]);
    await a.start("initiate:sending");
    // The reply may or may not get out before the agent dies on its way to the chain.
    expect([0, 202]).to.include(await post(a, order("CRASH-REJ", 777n, "erin")).catch(() => 0));
    expect((await a.exited(10_000)).signal).to.equal("SIGKILL");
    await a.crashThrough([
      "initiate:landed",
      "apply:SettlementInitiated",
      "apply:SettlementRejected",
      "return:sending",
      "return:landed",
      "apply:SettlementReturned",
    ]);
    await bRuns;
    const atA = await waitFor(a, "CRASH-REJ", (p) => p.status === "Returned");
    expect(atA.reason).to.equal("AC04");
    await waitFor(b, "CRASH-REJ", (p) => p.debtor.status === "Returned");
    await expectLedgers([{ id: "CRASH-REJ", atA: ["debit", "return"], atB: [] }]);
    expect(await contracts.settlement.stateOf(contracts.trustA, settlementIdOf("CRASH-REJ"))).to.equal(STATE.Returned);
  });

  it("expiry and refund: B is down past the deadline; A killed refunding, B killed catching up", async function () {
    await a.start();
    expect(await post(a, order("CRASH-EXP", 5_555n))).to.equal(202);
    await waitFor(a, "CRASH-EXP", (p) => p.debtor.status === "Initiated");
    await a.stop();
    await provider.send("evm_increaseTime", [3_601]);
    await provider.send("evm_mine", []);
    await a.crashThrough(["refund:sending", "refund:landed", "apply:SettlementRefunded"]);
    await waitFor(a, "CRASH-EXP", (p) => p.status === "Refunded");
    // B comes back: it credits Bob on seeing the payment, and reverses that on seeing the refund.
    await b.crashThrough(["apply:SettlementInitiated", "apply:SettlementRefunded"]);
    const atB = await waitFor(b, "CRASH-EXP", (p) => p.debtor.status === "Refunded");
    expect(atB.creditor.status).to.equal("Reversed");
    await expectLedgers([{ id: "CRASH-EXP", atA: ["debit", "refund"], atB: ["credit", "reversal"] }]);
    expect(await contracts.settlement.stateOf(contracts.trustA, settlementIdOf("CRASH-EXP"))).to.equal(STATE.Refunded);
  });

  it("killed from outside at random moments, several times each, while clients retry", async function () {
    await Promise.all([a.start(), b.start()]);
    const ids = Array.from({ length: 8 }, (_, i) => `CRASH-RND-${i}`);
    let kills = 0;
    const killer = (async () => {
      for (let round = 0; round < 6; round += 1) {
        await new Promise((resolve) => setTimeout(resolve, 150 + Math.floor(Math.random() * 400)));
        const victim = round % 2 === 0 ? a : b;
        await victim.kill();
        kills += 1;
        await victim.start();
      }
    })();
    for (const [i, id] of ids.entries()) {
      const amount = BigInt(100 + i);
      // Retry until the bank answers: 202 the first time it sees the order, 409 if it had accepted it.
      for (;;) {
        const status = await post(a, order(id, amount)).catch(() => 0);
        if (status === 202 || status === 409) break;
        expect(status, `${id}`).to.equal(0);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      pay(amount);
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
    await killer;
    expect(kills).to.equal(6);
    for (const id of ids) {
      await waitFor(a, id, (p) => p.status === "Acknowledged");
      await waitFor(b, id, (p) => p.debtor.status === "Acknowledged");
    }
    await expectLedgers(ids.map((id) => ({ id, atA: ["debit", "acknowledge"], atB: ["credit", "smelt"] })));
    for (const id of ids)
      expect(await contracts.settlement.stateOf(contracts.trustA, settlementIdOf(id))).to.equal(STATE.Acknowledged);
  });
  it("its admission settings reach the agent process: one payment open, the next order waits, then 503 with Retry-After", async function () {
    const limited = new AgentProcess("A", {
      ...env,
      BANK_AGENT_MAX_OPEN_PAYMENTS: "1",
      BANK_AGENT_ADMISSION_WAIT_MS: "400",
    });
    try {
      // B is down: the first payment stays open.
      await limited.start();
      expect(await post(limited, order("LIMIT-1", 250n))).to.equal(202);
      pay(250n);
      const asked = Date.now();
      const busy = await fetch(`${limited.url}/payments`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(order("LIMIT-2", 251n)),
      });
      const waited = Date.now() - asked;
      expect(busy.status).to.equal(503);
      expect(((await busy.json()) as { error: { code: string } }).error.code).to.equal("AGENT_BUSY");
      expect(busy.headers.get("retry-after")).to.equal("1");
      // It waited the configured 400 ms, not the default 5 s.
      expect(waited).to.be.within(400, 4_000);
      expect((await get(limited, "/payments/LIMIT-2")).status).to.equal(404);
      await b.start();
      await waitFor(limited, "LIMIT-1", (p) => p.status === "Acknowledged");
      expect(await post(limited, order("LIMIT-3", 252n))).to.equal(202);
      pay(252n);
      await waitFor(limited, "LIMIT-3", (p) => p.status === "Acknowledged");
    } finally {
      await limited.kill();
    }
  });
});
