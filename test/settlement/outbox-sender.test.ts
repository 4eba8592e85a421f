/**
 * `OutboxSender` on its own, over bank A's payment store and the real
 * settlement contract: what one round (`sendPending`) sends, what it counts,
 * what it leaves for later, and what it does with rows from before a restart.
 * The agent's loop is not running; each test drives rounds by hand.
 */
import { expect } from "chai";

import type { BankAgent } from "../../src/settlement/agent.js";
import { parsePaymentRequest } from "../../src/settlement/api.js";
import {
  GAS_LIMIT_TTL_MS,
  OutboxSender,
  RETRY_DELAY_MS,
  type OutboxSenderOptions,
} from "../../src/settlement/outbox.js";
import { PaymentStore, type OutboxRow, type PaymentRecord } from "../../src/settlement/payments.js";
import { systemClock } from "../../src/chain/clock.js";
import { accountRefOf, settlementIdOf, settlementStateName, termsTuple } from "../../src/settlement/terms.js";
import { startBanks, waitForPayment, type Banks, until } from "./helpers.js";

const order = (endToEndId: string) =>
  parsePaymentRequest({
    debtorAccount: "alice",
    creditorBank: "B",
    creditorAccount: "bob",
    amount: "1000",
    currency: "USD",
    endToEndId,
  });

interface Seen {
  readonly points: string[];
  readonly failed: string[];
  readonly lines: string[];
  wakes: number;
}

describe("settlement: one round of the outbox sender", function () {
  this.timeout(120_000);
  let banks: Banks | undefined;
  const agents: BankAgent[] = [];

  afterEach(async function () {
    for (const agent of agents.splice(0)) await agent.stop();
    await banks?.stop();
    banks = undefined;
  });

  const stateOf = async (id: string) =>
    settlementStateName(await banks!.settlement.stateOf(banks!.a.trustAccount, settlementIdOf(id)));

  /**
   * Bank A with payments `smelted` (initiated, then smelted by B: each owes A an acknowledgement) and
   * `accepted` (recorded with an `initiate` row, as `submit` leaves them, never sent). A's agent is not running.
   */
  async function bankAOwing(smelted: readonly string[], accepted: readonly string[]): Promise<PaymentStore> {
    banks = await startBanks();
    const { suite } = banks;
    await banks.b.stop();
    for (const id of smelted) await banks.a.submit(order(id));
    for (const id of smelted) await waitForPayment(banks.a, id, (p) => p.debtor.status === "Initiated");
    await banks.a.stop();
    const b = banks.agent("B", banks.stores.b);
    agents.push(b);
    await b.start();
    for (const id of smelted) await until(`${id} smelted`, async () => (await stateOf(id)) === "Smelted");
    await b.stop();
    const payments = new PaymentStore(banks.stores.a, systemClock);
    const now = (await suite.ethers.provider.getBlock("latest"))!.timestamp;
    const bankA = { id: "A", address: await suite.trustA.getAddress() };
    const bankB = { id: "B", address: await suite.trustB.getAddress() };
    for (const id of accepted) {
      payments.insert({
        direction: "outbound",
        id,
        terms: {
          id: settlementIdOf(id),
          debtorBank: bankA.address,
          creditorBank: bankB.address,
          amount: 1_000n,
          creditorAccountRef: accountRefOf("bob"),
          deadline: now + 3_600,
        },
        debtorBank: bankA,
        creditorBank: bankB,
        debtorAccount: "alice",
        creditorAccount: "bob",
        currency: "USD",
        debtorLeg: "Debited",
        creditorLeg: "Pending",
        note: "accepted",
      });
      payments.enqueue("outbound", id, "initiate");
    }
    return payments;
  }

  function senderFor(
    payments: PaymentStore,
    overrides: Partial<OutboxSenderOptions> = {},
  ): { sender: OutboxSender; seen: Seen } {
    const { suite, settlement } = banks!;
    const seen: Seen = { points: [], failed: [], lines: [], wakes: 0 };
    const sender = new OutboxSender({
      payments,
      provider: suite.ethers.provider,
      signer: suite.accounts.bankA,
      settlement: settlement.connect(suite.accounts.bankA),
      ackBatchSize: 1,
      rowsPerRound: 100,
      pollIntervalMs: 10,
      stopping: () => false,
      step: (point, id) => seen.points.push(`${point} ${id}`),
      fail: (row: OutboxRow, payment: PaymentRecord, reason: string) =>
        seen.failed.push(`${row.step} ${payment.id}: ${reason}`),
      wake: () => (seen.wakes += 1),
      log: (line) => seen.lines.push(line),
      ...overrides,
    });
    return { sender, seen };
  }

  const rowOf = (payments: PaymentStore, id: string, step: string) =>
    payments.outboxOf("outbound", id).find((row) => row.step === step);
  /** The hash of the transaction last sent for a row (the outbox keeps it). */
  const rowHash = (id: string, step: string) =>
    banks!.stores.a.get<{ tx_hash: string | null }>(
      "SELECT tx_hash FROM settlement_outbox WHERE direction = 'outbound' AND payment_id = ? AND step = ?",
      id,
      step,
    )?.tx_hash;

  /** The outbox row of a payment's step. */
  const rowIdOf = (id: string, step: string) =>
    banks!.stores.a.get<{ row_id: number }>(
      "SELECT row_id FROM settlement_outbox WHERE direction = 'outbound' AND payment_id = ? AND step = ?",
      id,
      step,
    )!.row_id;
  /** Ends a row's hold now, as if its time had passed. */
  const dueNow = (payments: PaymentStore, id: string, step: string) => payments.recheck(rowIdOf(id, step), 0);
  const sendingPoints = (seen: Seen) => seen.points.filter((point) => point.includes(":sending"));

  /** Bank A's signer, with every gas estimate it answers kept in `estimated`, in order. */
  function countingEstimates(): { signer: Banks["suite"]["accounts"]["bankA"]; estimated: bigint[] } {
    const signer = banks!.suite.accounts.bankA;
    const estimated: bigint[] = [];
    const counting = new Proxy(signer, {
      get(target, property) {
        if (property === "estimateGas") {
          return async (tx: Parameters<typeof signer.estimateGas>[0]) => {
            const gas = await target.estimateGas(tx);
            estimated.push(gas);
            return gas;
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    return { signer: counting, estimated };
  }
  /** The agents' gas limit for an estimate: a quarter more, and 20,000. */
  const margin = (gas: bigint) => gas + gas / 4n + 20_000n;
  /** The gas limit of the transaction last sent for a payment's step. */
  const gasLimitOf = async (id: string, step: string) =>
    (await banks!.suite.ethers.provider.getTransaction(rowHash(id, step)!))!.gasLimit;

  it("returns how many transactions went out: a failed send is not one, each batch of acknowledgements is one", async function () {
    const payments = await bankAOwing(["RND-S1", "RND-S2"], ["RND-N1", "RND-N2"]);
    for (const id of ["RND-S1", "RND-S2", "RND-N1"])
      expect(payments.enqueue("outbound", id, "acknowledge")).to.equal(true);
    // Owed by no one: RND-S1 is Smelted, not Expired. Its send fails, and the chain's record voids it.
    expect(payments.enqueue("outbound", "RND-S1", "refund")).to.equal(true);
    const { sender, seen } = senderFor(payments);

    // initiate RND-N1 and RND-N2 (2), acknowledge RND-S1 and RND-S2 (2); the refund and RND-N1's
    // acknowledgement (sent after its initiate, while it is only Delivered) fail.
    expect(await sender.sendPending()).to.equal(4);
    await sender.settled();
    expect(await stateOf("RND-N1")).to.equal("Delivered");
    expect(await stateOf("RND-N2")).to.equal("Delivered");
    expect(await stateOf("RND-S1")).to.equal("Acknowledged");
    expect(await stateOf("RND-S2")).to.equal("Acknowledged");
    expect(seen.points.filter((p) => p.endsWith(":landed RND-S1") || p.endsWith(":landed RND-S2"))).to.deep.equal([
      "acknowledge:landed RND-S1",
      "acknowledge:landed RND-S2",
    ]);
    expect(rowOf(payments, "RND-S1", "refund")).to.deep.equal({ step: "refund", status: "void", attempts: 0 });
    expect(rowOf(payments, "RND-N1", "acknowledge")).to.deep.equal({
      step: "acknowledge",
      status: "void",
      attempts: 0,
    });
    expect(seen.failed).to.deep.equal([]);
    expect(seen.wakes).to.equal(4);

    // Nothing is due now (the landed rows wait for their events): the next round sends nothing.
    expect(await sender.sendPending()).to.equal(0);
    await sender.settled();
  });

  it("sends acknowledgements in batches of ackBatchSize, one transaction per batch", async function () {
    const payments = await bankAOwing(["RND-B1", "RND-B2", "RND-B3"], []);
    for (const id of ["RND-B1", "RND-B2", "RND-B3"]) payments.enqueue("outbound", id, "acknowledge");
    const { sender, seen } = senderFor(payments, { ackBatchSize: 2 });
    expect(await sender.sendPending()).to.equal(2);
    await sender.settled();
    for (const id of ["RND-B1", "RND-B2", "RND-B3"]) expect(await stateOf(id)).to.equal("Acknowledged");
    expect(seen.points.filter((p) => p.startsWith("acknowledge:sending"))).to.have.length(3);
  });

  it("initiates what is due in one initiateBatch; a batch the chain refuses is sent again one by one, so only the payment over the limit fails", async function () {
    const payments = await bankAOwing([], ["RND-G1", "RND-G2", "RND-G3"]);
    const { settlement, a, b } = banks!;
    const from = await banks!.suite.ethers.provider.getBlockNumber();
    // 1,000 each: any two fit the corridor's in-flight cap, all three do not.
    await (await settlement.setCorridorLimits(a.trustAccount, b.trustAccount, 2_500n, 1_000_000n, 86_400)).wait();
    const { sender, seen } = senderFor(payments, { stepBatchSize: 10 });

    // Round 1: one initiateBatch of the three, refused whole (the chain would not take it): nothing sent.
    expect(await sender.sendPending()).to.equal(0);
    await sender.settled();
    for (const id of ["RND-G1", "RND-G2", "RND-G3"]) expect(await stateOf(id)).to.equal("None");
    expect(seen.failed).to.deep.equal([]);
    // Round 2: each alone, oldest first; the one over the cap is refused and fails, the others are on chain.
    expect(await sender.sendPending()).to.equal(2);
    await sender.settled();
    expect(await stateOf("RND-G1")).to.equal("Delivered");
    expect(await stateOf("RND-G2")).to.equal("Delivered");
    expect(await stateOf("RND-G3")).to.equal("None");
    expect(seen.failed).to.deep.equal(["initiate RND-G3: InterbankSettlementInFlightLimitExceeded"]);
    // RND-G3 never reached the node (refused at its estimates), so no nonce needed using up: nothing sent to itself.
    const provider = banks!.suite.ethers.provider;
    const key = await banks!.suite.accounts.bankA.getAddress();
    for (let n = from + 1; n <= (await provider.getBlockNumber()); n += 1) {
      for (const tx of (await provider.getBlock(n, true))!.prefetchedTransactions) {
        expect(tx.from === key && tx.to === key, `a transfer to itself in block ${n}`).to.equal(false);
      }
    }
  });

  it("a batch of initiates goes out as one transaction of initiateBatch, its payments each initiated once", async function () {
    const payments = await bankAOwing([], ["RND-H1", "RND-H2", "RND-H3"]);
    const { sender, seen } = senderFor(payments, { stepBatchSize: 2 });
    expect(await sender.sendPending()).to.equal(2);
    await sender.settled();
    for (const id of ["RND-H1", "RND-H2", "RND-H3"]) expect(await stateOf(id)).to.equal("Delivered");
    expect(seen.points.filter((p) => p.startsWith("initiate:landed"))).to.have.length(3);
    const hashes = ["RND-H1", "RND-H2", "RND-H3"].map((id) => rowHash(id, "initiate"));
    // The first two share a transaction (a batch of 2), the third has its own.
    expect(hashes[0]).to.equal(hashes[1]);
    expect(hashes[2]).to.not.equal(hashes[0]);
    const tx = await banks!.suite.ethers.provider.getTransaction(hashes[0]!);
    expect(banks!.settlement.interface.parseTransaction({ data: tx!.data })?.name).to.equal("initiateBatch");
  });

  it("estimates a step's gas once for batches at least as big as the one estimated; a smaller batch afresh", async function () {
    const first = ["RND-G1", "RND-G2", "RND-G3", "RND-G4", "RND-G5", "RND-G6", "RND-G7"];
    const payments = await bankAOwing([], first);
    const { signer: counting, estimated } = countingEstimates();
    const { sender } = senderFor(payments, { stepBatchSize: 3, signer: counting });
    // Batches of 3, 3 and 1: the first is estimated, the second reuses its gas per payment, the 1 is smaller.
    expect(await sender.sendPending()).to.equal(3);
    await sender.settled();
    expect(estimated).to.have.length(2);
    for (const id of first) expect(await stateOf(id)).to.equal("Delivered");
    // The limits: an estimate plus a quarter and 20,000; the reused one sized from the first estimate's gas per
    // payment (rounded up), times the batch's size.
    const limitOf = (id: string) => gasLimitOf(id, "initiate");
    const perPayment = (estimated[0]! + 2n) / 3n;
    expect(await limitOf("RND-G1")).to.equal(margin(estimated[0]!));
    expect(await limitOf("RND-G4")).to.equal(margin(perPayment * 3n));
    expect(await limitOf("RND-G7")).to.equal(margin(estimated[1]!));
    // Since a batch of 1 was estimated, every batch size reuses it.
    const now = (await banks!.suite.ethers.provider.getBlock("latest"))!.timestamp;
    const more = ["RND-G8", "RND-G9", "RND-G10", "RND-G11"];
    for (const id of more) {
      const record = payments.get("outbound", first[0]!)!;
      payments.insert({
        ...record,
        id,
        terms: { ...record.terms, id: settlementIdOf(id), deadline: now + 3_600 },
        note: "accepted",
      });
      payments.enqueue("outbound", id, "initiate");
    }
    expect(await sender.sendPending()).to.equal(2);
    await sender.settled();
    expect(estimated).to.have.length(2);
    for (const id of more) expect(await stateOf(id)).to.equal("Delivered");
  });

  it("keeps the highest gas per payment learnt and the smallest batch it covers: a batch sent again, estimated afresh at less per payment, lowers neither", async function () {
    const ids = ["ACK-G1", "ACK-G2", "ACK-G3", "ACK-G4", "ACK-G5", "ACK-G6"];
    const payments = await bankAOwing(ids, []);
    const { signer: counting, estimated } = countingEstimates();
    const { sender } = senderFor(payments, { ackBatchSize: 10, signer: counting });
    const owe = (...owed: string[]) => {
      for (const id of owed) expect(payments.enqueue("outbound", id, "acknowledge"), id).to.equal(true);
    };
    const acknowledged = async (round: readonly string[]) => {
      expect(await sender.sendPending(), "one acknowledgeBatch").to.equal(1);
      await sender.settled();
      for (const id of round) expect(await stateOf(id), id).to.equal("Acknowledged");
    };

    // A batch of 1, estimated: the most gas per payment an acknowledgement takes, learnt for batches of 1 and up.
    owe("ACK-G1");
    await acknowledged(["ACK-G1"]);
    expect(estimated).to.have.length(1);
    // A batch of 3 with a row that failed once: not fresh, so estimated afresh, at less per payment.
    owe("ACK-G2", "ACK-G3", "ACK-G4");
    payments.retryLater(rowIdOf("ACK-G2", "acknowledge"), "refused once", 0);
    await acknowledged(["ACK-G2", "ACK-G3", "ACK-G4"]);
    expect(estimated).to.have.length(2);
    expect((estimated[1]! + 2n) / 3n, "3 acknowledgements in a batch take less gas each than 1").to.be.lessThan(
      estimated[0]!,
    );
    // A fresh batch of 2 still reuses the batch of 1's figure: no estimate, and a limit of twice its gas.
    owe("ACK-G5", "ACK-G6");
    await acknowledged(["ACK-G5", "ACK-G6"]);
    expect(estimated, "no estimate for the batch of 2").to.have.length(2);
    expect(await gasLimitOf("ACK-G5", "acknowledge")).to.equal(margin(estimated[0]! * 2n));
    expect(await gasLimitOf("ACK-G6", "acknowledge")).to.equal(margin(estimated[0]! * 2n));
  });

  it("keeps a learnt gas figure GAS_LIMIT_TTL_MS by its clock, then estimates afresh and keeps the new one as long", async function () {
    const payments = await bankAOwing([], ["TTL-1", "TTL-2", "TTL-3"]);
    const { signer: counting, estimated } = countingEstimates();
    const start = 1_800_000_000_000;
    let now = start;
    const { sender } = senderFor(payments, { stepBatchSize: 3, signer: counting, clock: { now: () => now } });
    const round = async (ids: readonly string[], at: number): Promise<number> => {
      const chainNow = (await banks!.suite.ethers.provider.getBlock("latest"))!.timestamp;
      const record = payments.get("outbound", "TTL-1")!;
      for (const id of ids) {
        payments.insert({
          ...record,
          id,
          terms: { ...record.terms, id: settlementIdOf(id), deadline: chainNow + 3_600 },
          note: "accepted",
        });
        payments.enqueue("outbound", id, "initiate");
      }
      now = at;
      expect(await sender.sendPending()).to.equal(1);
      await sender.settled();
      for (const id of ids) expect(await stateOf(id), id).to.equal("Delivered");
      return estimated.length;
    };
    expect(await sender.sendPending()).to.equal(1);
    await sender.settled();
    expect(estimated, "the first batch is estimated").to.have.length(1);
    expect(await round(["TTL-4", "TTL-5", "TTL-6"], start + GAS_LIMIT_TTL_MS - 1), "kept until its time").to.equal(1);
    expect(await round(["TTL-7", "TTL-8", "TTL-9"], start + GAS_LIMIT_TTL_MS), "gone at its time").to.equal(2);
    expect(
      await round(["TTL-10", "TTL-11", "TTL-12"], start + 2 * GAS_LIMIT_TTL_MS - 1),
      "the new one kept as long, from when it was learnt",
    ).to.equal(2);
    expect(await round(["TTL-13", "TTL-14", "TTL-15"], start + 2 * GAS_LIMIT_TTL_MS), "and gone then").to.equal(3);
  });

  it("sends nothing more once it is stopping, and leaves the rest pending", async function () {
    const payments = await bankAOwing(["RND-T1"], ["RND-T2", "RND-T3"]);
    payments.enqueue("outbound", "RND-T1", "acknowledge");
    let stopping = false;
    const { sender, seen } = senderFor(payments, {
      stopping: () => stopping,
      step: (point, id) => {
        seen.points.push(`${point} ${id}`);
        if (point === "initiate:sending") stopping = true;
      },
    });
    // Acknowledgements go after the other steps: stopping after the first initiate leaves it unsent.
    expect(await sender.sendPending()).to.equal(1);
    await sender.settled();
    expect(seen.points.filter((p) => p.includes(":sending"))).to.deep.equal(["initiate:sending RND-T2"]);
    expect(rowOf(payments, "RND-T1", "acknowledge")).to.deep.equal({
      step: "acknowledge",
      status: "pending",
      attempts: 0,
    });
    expect(rowOf(payments, "RND-T3", "initiate")).to.deep.equal({ step: "initiate", status: "pending", attempts: 0 });
    expect(await stateOf("RND-T3")).to.equal("None");
  });

  it("returns once the node holds the transactions; a failure in handling a receipt is logged and its row is due again after the retry delay", async function () {
    const payments = await bankAOwing([], ["RND-F1", "RND-F2"]);
    const crash = new Error("crashed at initiate:landed RND-F1");
    const { sender, seen } = senderFor(payments, {
      step: (point, id) => {
        seen.points.push(`${point} ${id}`);
        if (point === "initiate:landed" && id === "RND-F1") throw crash;
      },
    });
    expect(await sender.sendPending()).to.equal(2);
    await sender.settled();
    // The other receipt was handled as usual.
    expect(seen.points).to.include("initiate:landed RND-F2");
    expect(seen.lines.some((line) => line.includes(`its outcome could not be handled: ${crash.message}`))).to.equal(
      true,
    );
    expect(await stateOf("RND-F1")).to.equal("Delivered");
    // Sent once, due again after the retry delay (checked on chain then); the other row waits for its event.
    expect(rowOf(payments, "RND-F1", "initiate")).to.deep.equal({ step: "initiate", status: "pending", attempts: 1 });
    expect(payments.pending().map((row) => row.paymentId)).to.deep.equal([]);
    await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS + 50));
    expect(payments.pending().map((row) => row.paymentId)).to.deep.equal(["RND-F1"]);
  });

  it("checks rows from before a restart on chain: a step that landed is not resent, one owed by no one is voided", async function () {
    const payments = await bankAOwing(["RND-R1", "RND-R2"], []);
    const { suite, settlement } = banks!;
    // As after a crash between the chain and the store: RND-R2's acknowledgement landed, its row still pending.
    const terms = termsTuple(payments.get("outbound", "RND-R2")!.terms);
    await (await settlement.connect(suite.accounts.bankA).acknowledge(terms)).wait();
    for (const id of ["RND-R1", "RND-R2"]) payments.enqueue("outbound", id, "acknowledge");
    payments.enqueue("outbound", "RND-R1", "refund"); // Smelted, never Expired: owed by no one
    const { sender, seen } = senderFor(payments);
    sender.start();

    expect(await sender.sendPending()).to.equal(1);
    await sender.settled();
    // Only RND-R1's acknowledgement went out; the other two rows were decided from the chain, unsent.
    expect(seen.points.filter((p) => p.includes(":sending"))).to.deep.equal(["acknowledge:sending RND-R1"]);
    expect(await stateOf("RND-R1")).to.equal("Acknowledged");
    expect(seen.lines).to.include("acknowledge RND-R2 has landed; not resent");
    expect(rowOf(payments, "RND-R2", "acknowledge")).to.deep.equal({
      step: "acknowledge",
      status: "pending",
      attempts: 0,
    });
    expect(seen.lines).to.include("refund RND-R1 will not be sent: the settlement is Smelted, not Expired");
    expect(rowOf(payments, "RND-R1", "refund")).to.deep.equal({ step: "refund", status: "void", attempts: 0 });
    expect(seen.failed).to.deep.equal([]);
  });

  /**
   * Bank A owing `id`'s initiate, sent by a first sender with automining off and then given up on at once (as a
   * crash would: `drain(0)`): the transaction waits unmined in the node, its row keeps the hash. Automining stays
   * off; the caller turns it back on.
   */
  async function initiateAbandoned(id: string) {
    const payments = await bankAOwing([], [id]);
    const provider = banks!.suite.ethers.provider;
    const bankA = await banks!.suite.accounts.bankA.getAddress();
    await provider.send("evm_setAutomine", [false]);
    const first = senderFor(payments);
    expect(await first.sender.sendPending()).to.equal(1);
    const hash = rowHash(id, "initiate")!;
    await first.sender.drain(0);
    return { payments, provider, bankA, hash };
  }

  it("does not send again a row whose transaction the node still holds unmined; sends it again once the node dropped it", async function () {
    const { payments, provider, bankA, hash } = await initiateAbandoned("RND-P1");
    try {
      expect(rowHash("RND-P1", "initiate")).to.equal(hash);
      const nonce = await provider.getTransactionCount(bankA, "pending");

      dueNow(payments, "RND-P1", "initiate");
      const again = senderFor(payments);
      again.sender.start();
      expect(await again.sender.sendPending()).to.equal(0);
      expect(sendingPoints(again.seen)).to.deep.equal([]);
      expect(await provider.getTransactionCount(bankA, "pending")).to.equal(nonce);
      expect(payments.pending().map((row) => row.paymentId)).to.deep.equal([]); // held: its receipt may yet come

      // The node forgets it: due again, the step goes out anew, on the same nonce.
      await provider.send("hardhat_dropTransaction", [hash]);
      await provider.send("evm_setAutomine", [true]);
      dueNow(payments, "RND-P1", "initiate");
      expect(await again.sender.sendPending()).to.equal(1);
      await again.sender.settled();
      expect(sendingPoints(again.seen)).to.deep.equal(["initiate:sending RND-P1"]);
      expect(await provider.getTransactionCount(bankA, "latest")).to.equal(nonce);
      expect(await stateOf("RND-P1")).to.equal("Delivered");
    } finally {
      await provider.send("evm_setAutomine", [true]);
    }
  });

  it("finds a row whose transaction was mined meanwhile landed: not sent again, held for a recheck", async function () {
    const { payments, provider, bankA } = await initiateAbandoned("RND-M1");
    try {
      await provider.send("evm_mine", []);
      const nonce = await provider.getTransactionCount(bankA, "pending");
      dueNow(payments, "RND-M1", "initiate");
      const again = senderFor(payments);
      again.sender.start();
      expect(await again.sender.sendPending()).to.equal(0);
      expect(sendingPoints(again.seen)).to.deep.equal([]);
      expect(again.seen.lines).to.include("initiate RND-M1 has landed; not resent");
      expect(await provider.getTransactionCount(bankA, "pending")).to.equal(nonce);
      expect(await stateOf("RND-M1")).to.equal("Delivered");
      // Done once its event is applied; until then it is looked at again only after the recheck delay.
      expect(payments.pending().map((row) => row.paymentId)).to.deep.equal([]);
      expect(rowOf(payments, "RND-M1", "initiate")).to.include({ status: "pending" });
    } finally {
      await provider.send("evm_setAutomine", [true]);
    }
  });

  it("drains: waits for the receipts under way, and gives up on one not mined when its time is up", async function () {
    const payments = await bankAOwing([], ["RND-D1", "RND-D2"]);
    const provider = banks!.suite.ethers.provider;
    // Mined at once: draining waits for its receipt to be handled as usual.
    dueNow(payments, "RND-D1", "initiate");
    const mined = senderFor(payments, { rowsPerRound: 1 });
    expect(await mined.sender.sendPending()).to.equal(1);
    await mined.sender.drain(10_000);
    expect(mined.seen.points).to.include("initiate:landed RND-D1");

    // Never mined: draining returns when its time is up, with the failure handled (due again later).
    await provider.send("evm_setAutomine", [false]);
    try {
      const stuck = senderFor(payments);
      expect(await stuck.sender.sendPending()).to.equal(1);
      const before = Date.now();
      await stuck.sender.drain(300);
      expect(Date.now() - before).to.be.at.least(250);
      expect(stuck.seen.points).to.not.include("initiate:landed RND-D2");
      expect(stuck.seen.lines.some((line) => line.startsWith("initiate RND-D2 failed, will retry: "))).to.equal(true);
      expect(rowOf(payments, "RND-D2", "initiate")).to.deep.equal({ step: "initiate", status: "pending", attempts: 2 });
    } finally {
      await provider.send("evm_setAutomine", [true]);
    }
  });

  it("once stopping, a round decides nothing: not even a row from before the restart that has landed", async function () {
    const payments = await bankAOwing(["RND-Q1"], []);
    const { suite, settlement } = banks!;
    await (
      await settlement.connect(suite.accounts.bankA).acknowledge(termsTuple(payments.get("outbound", "RND-Q1")!.terms))
    ).wait();
    payments.enqueue("outbound", "RND-Q1", "acknowledge");
    const { sender, seen } = senderFor(payments, { stopping: () => true });
    sender.start();
    expect(await sender.sendPending()).to.equal(0);
    expect(seen.lines).to.deep.equal([]);
    expect(payments.pending().map((row) => row.paymentId)).to.deep.equal(["RND-Q1"]);
  });

  it("retries a single acknowledgement the chain refuses while it would still take it, without failing the payment", async function () {
    const payments = await bankAOwing(["RND-K1"], []);
    payments.enqueue("outbound", "RND-K1", "acknowledge");
    // Sent with a key that is not bank A's agent: refused, though the settlement still owes the acknowledgement.
    const { sender, seen } = senderFor(payments, { signer: banks!.suite.accounts.bankB });
    expect(await sender.sendPending()).to.equal(0);
    await sender.settled();
    expect(seen.failed).to.deep.equal([]);
    expect(seen.lines.some((line) => line.startsWith("acknowledge RND-K1 failed, will retry: "))).to.equal(true);
    expect(rowOf(payments, "RND-K1", "acknowledge")).to.deep.equal({
      step: "acknowledge",
      status: "pending",
      attempts: 1,
    });
    expect(await stateOf("RND-K1")).to.equal("Smelted");
    // With the agent's key, the next round acknowledges it.
    dueNow(payments, "RND-K1", "acknowledge");
    const agent = senderFor(payments);
    expect(await agent.sender.sendPending()).to.equal(1);
    await agent.sender.settled();
    expect(await stateOf("RND-K1")).to.equal("Acknowledged");
  });

  it("bank B smelts the payments it saw in one round in one smeltBatch", async function () {
    await bankAOwing(["RND-Z1", "RND-Z2", "RND-Z3"], []);
    const smelts = banks!.stores.b
      .all<{ tx_hash: string | null }>("SELECT tx_hash FROM settlement_outbox WHERE step = 'smelt' ORDER BY row_id")
      .map((row) => row.tx_hash);
    expect(smelts).to.have.length(3);
    expect(smelts[0]).to.be.a("string");
    expect(new Set(smelts).size).to.equal(1);
  });
});
