/**
 * `TxQueue` against a scripted node and signer: what it asks the node and when (chain id, the nonce count, the
 * fee figures and their refresh), what it hands the signer, and how it judges a transaction past its deadline
 * (still held, waiting behind an open nonce, mined late, taken by another, forgotten by the node, or the node
 * silent). The Anvil tests (`tx-queue.test.ts`) check the same against a real node.
 */
import { expect } from "chai";
import type { Provider, Signer, TransactionReceipt } from "ethers";

import { TxDroppedError, TxOverdueError, TxQueue, type QueuedTx } from "../../src/chain/tx-queue.js";

interface Script {
  fees: { maxFeePerGas: bigint | null; maxPriorityFeePerGas: bigint | null; gasPrice: bigint | null };
  /** The node's `latest` and `pending` counts. */
  latest: number;
  pending: number;
  receipts: Map<string, TransactionReceipt>;
  held: Set<string>;
  transactionError?: Error;
  /** While set, a fee read waits for it. */
  feeGate?: Promise<void> | undefined;
  /** Each transaction is mined as the signer hands it over (its receipt there at once). */
  mineAtOnce?: boolean;
  /** How many receipt reads fail (a connection error) before the node answers them. */
  receiptFailures?: number;
  /** Called when the queue asks for the `latest` count (only a judgement past a deadline does). */
  onLatest?: () => void;
}

function node(script: Script) {
  const calls = { getNetwork: 0, getFeeData: 0, getTransactionCount: 0 };
  const sent: Array<Record<string, unknown>> = [];
  /** The hash of every receipt asked for, in order. */
  const receiptAsks: string[] = [];
  const provider = {
    getNetwork: async () => (calls.getNetwork++, { chainId: 4242n }),
    getFeeData: async () => {
      calls.getFeeData++;
      await script.feeGate;
      return script.fees;
    },
    getTransactionCount: async (_address: string, tag: string) => {
      calls.getTransactionCount++;
      if (tag === "latest") script.onLatest?.();
      return tag === "latest" ? script.latest : script.pending;
    },
    getTransactionReceipt: async (hash: string) => {
      receiptAsks.push(hash);
      if ((script.receiptFailures ?? 0) > 0) {
        script.receiptFailures! -= 1;
        throw new Error("socket hang up");
      }
      return script.receipts.get(hash) ?? null;
    },
    getTransaction: async (hash: string) => {
      if (script.transactionError !== undefined) throw script.transactionError;
      return script.held.has(hash) ? { hash } : null;
    },
  } as unknown as Provider;
  const signer = {
    getAddress: async () => "0x00000000000000000000000000000000000000aa",
    sendTransaction: async (tx: Record<string, unknown>) => {
      sent.push(tx);
      const hash = `0x${String(sent.length).padStart(64, "0")}`;
      if (script.mineAtOnce === true) script.receipts.set(hash, receiptOf(hash));
      else script.held.add(hash);
      return { hash };
    },
  } as unknown as Signer;
  return { provider, signer, calls, sent, receiptAsks };
}

const script = (more: Partial<Script> = {}): Script => ({
  fees: { maxFeePerGas: 30n, maxPriorityFeePerGas: 2n, gasPrice: 25n },
  latest: 7,
  pending: 7,
  receipts: new Map(),
  held: new Set(),
  ...more,
});
const tx = { to: "0x00000000000000000000000000000000000000bb", data: "0x", gasLimit: 21_000n };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Lets every promise already under way run (no timer fires). */
const settle = () => new Promise((resolve) => setImmediate(resolve));
/** A mined receipt as ethers gives it (only the fields the queue reads). */
const receiptOf = (hash: string) =>
  ({
    hash,
    status: 1,
    blockNumber: 7,
    blockHash: `0x${"07".repeat(32)}`,
    gasUsed: 21_000n,
  }) as unknown as TransactionReceipt;

describe("chain/tx-queue: what it asks the node and hands the signer (a scripted node)", function () {
  it("reads the chain id, the count and the fees once, then numbers and prices every send from them (EIP-1559)", async function () {
    const s = script();
    const { provider, signer, calls, sent } = node(s);
    const queue = new TxQueue({ provider, signer, receiptPollMs: 1 });
    const out = await Promise.all([queue.send(tx), queue.send(tx), queue.send(tx)]);
    expect(out.map((o) => o.nonce)).to.deep.equal([7, 8, 9]);
    expect(calls).to.deep.equal({ getNetwork: 1, getFeeData: 1, getTransactionCount: 1 });
    for (const [i, request] of sent.entries()) {
      expect(request).to.deep.include({
        nonce: 7 + i,
        chainId: 4242n,
        type: 2,
        maxFeePerGas: 30n,
        maxPriorityFeePerGas: 2n,
      });
      expect(request).to.not.have.property("gasPrice");
      expect(request).to.deep.include(tx);
    }
    queue.close();
    for (const o of out) await o.mined.catch(() => undefined);
  });

  it("prices a legacy chain (no EIP-1559 figures) with gasPrice, and refuses to send without any fee figure", async function () {
    // No EIP-1559 figures at all, or a fee cap without a priority fee: both priced as legacy.
    for (const fees of [
      { maxFeePerGas: null, maxPriorityFeePerGas: null, gasPrice: 25n },
      { maxFeePerGas: 30n, maxPriorityFeePerGas: null, gasPrice: 25n },
    ]) {
      const legacy = node(script({ fees }));
      const queue = new TxQueue({ provider: legacy.provider, signer: legacy.signer });
      try {
        const out = await queue.send(tx);
        void out.mined.catch(() => undefined); // ended by close() below
        expect(
          legacy.sent[0],
          JSON.stringify(fees, (_, v) => (typeof v === "bigint" ? String(v) : v)),
        ).to.deep.include({ type: 0, gasPrice: 25n });
        expect(legacy.sent[0]).to.not.have.property("maxFeePerGas");
      } finally {
        queue.close();
      }
    }

    const none = node(script({ fees: { maxFeePerGas: null, maxPriorityFeePerGas: 2n, gasPrice: null } }));
    const refused = await new TxQueue({ provider: none.provider, signer: none.signer }).send(tx).catch((e) => e);
    expect(refused).to.have.property("code", "CHAIN_NO_FEE_DATA");
    expect(none.sent).to.have.length(0);
  });

  it("reads the fees again in the background once they are older than feeTtlMs, sending on the old ones meanwhile", async function () {
    const s = script();
    const { provider, signer, calls, sent } = node(s);
    // A second is far longer than anything here takes between a refresh and the send after it, even on a loaded
    // machine: the figures read stay fresh through the checks that follow each refresh.
    const queue = new TxQueue({ provider, signer, feeTtlMs: 1_000 });
    const out: QueuedTx[] = [];
    try {
      out.push(await queue.send(tx));
      s.fees = { maxFeePerGas: 90n, maxPriorityFeePerGas: 9n, gasPrice: 80n };
      out.push(await queue.send(tx));
      expect(calls.getFeeData).to.equal(1);
      await sleep(1_100);
      out.push(await queue.send(tx)); // starts the refresh, goes out on the old figures
      expect(sent[2]).to.deep.include({ maxFeePerGas: 30n });
      await settle();
      out.push(await queue.send(tx));
      expect(calls.getFeeData).to.equal(2);
      expect(sent[3]).to.deep.include({ maxFeePerGas: 90n, maxPriorityFeePerGas: 9n });

      // Old again: read again, one read at a time, however many sends come while it is under way.
      s.fees = { maxFeePerGas: 120n, maxPriorityFeePerGas: 12n, gasPrice: 110n };
      let open = (): void => undefined;
      s.feeGate = new Promise<void>((resolve) => (open = resolve));
      await sleep(1_100);
      out.push(await queue.send(tx), await queue.send(tx), await queue.send(tx));
      expect(calls.getFeeData, "one read under way").to.equal(3);
      for (const request of sent.slice(4)) expect(request).to.deep.include({ maxFeePerGas: 90n });
      open();
      s.feeGate = undefined;
      await settle();
      out.push(await queue.send(tx));
      expect(sent[7]).to.deep.include({ maxFeePerGas: 120n, maxPriorityFeePerGas: 12n });
      expect(calls.getFeeData).to.equal(3);
    } finally {
      queue.close();
      for (const o of out) await o.mined.catch(() => undefined);
    }
  });

  it("asks for every watched receipt in one loop, a round every receiptPollMs: a send while it waits is asked at the next", async function () {
    const s = script();
    const { provider, signer, receiptAsks } = node(s);
    const queue = new TxQueue({ provider, signer, receiptPollMs: 1_000 });
    const out: QueuedTx[] = [];
    try {
      out.push(await queue.send(tx));
      await settle();
      expect(receiptAsks).to.deep.equal([out[0]!.hash]);
      out.push(await queue.send(tx), await queue.send(tx));
      await settle();
      expect(receiptAsks, "no second loop").to.deep.equal([out[0]!.hash]);
      // Nor a round before receiptPollMs (a timer never fires early).
      await sleep(300);
      expect(receiptAsks, "no round before its time").to.deep.equal([out[0]!.hash]);
      // The loop's next round asks for all three.
      for (let i = 0; i < 100 && !out.every((o) => receiptAsks.includes(o.hash)); i++) await sleep(20);
      expect(receiptAsks.slice(0, 4)).to.deep.equal([out[0]!.hash, ...out.map((o) => o.hash)]);
    } finally {
      queue.close();
      for (const o of out) await o.mined.catch(() => undefined);
    }
  });

  it("ends its loop once every receipt is in: the next send is asked at once, not a poll later", async function () {
    const s = script({ mineAtOnce: true });
    const { provider, signer, receiptAsks } = node(s);
    const queue = new TxQueue({ provider, signer, receiptPollMs: 60_000 });
    try {
      const first = await queue.send(tx);
      expect(await first.mined).to.have.property("hash", first.hash);
      await settle();
      const second = await queue.send(tx);
      expect(receiptAsks).to.deep.equal([first.hash, second.hash]);
      expect(await second.mined).to.have.property("hash", second.hash);
    } finally {
      queue.close();
    }
  });

  it("after resync() reads the count and the fees again", async function () {
    const s = script();
    const { provider, signer, calls } = node(s);
    const queue = new TxQueue({ provider, signer });
    const a = await queue.send(tx);
    s.pending = 20;
    queue.resync();
    const b = await queue.send(tx);
    expect(b.nonce).to.equal(20);
    expect(calls).to.deep.include({ getTransactionCount: 2, getFeeData: 2, getNetwork: 1 });
    queue.close();
    for (const o of [a, b]) await o.mined.catch(() => undefined);
  });

  it("tells beforeSend each nonce before the signer gets the transaction; one that throws sends nothing", async function () {
    const s = script();
    const { provider, signer, sent } = node(s);
    const queue = new TxQueue({ provider, signer });
    const told: Array<[number, number]> = [];
    const a = await queue.send(tx, (nonce) => told.push([nonce, sent.length]));
    const b = await queue.send(tx, (nonce) => told.push([nonce, sent.length]));
    // Each nonce told while the signer still had one transaction fewer.
    expect(told).to.deep.equal([
      [7, 0],
      [8, 1],
    ]);
    const refused = await queue
      .send(tx, () => {
        throw new Error("the store is gone");
      })
      .catch((error: Error) => error.message);
    expect(refused).to.equal("the store is gone");
    expect(sent).to.have.length(2);
    // Nothing went out on 9; the count is read again, so the next send takes the node's count.
    s.pending = 9;
    const c = await queue.send(tx);
    expect(c.nonce).to.equal(9);
    queue.close();
    for (const o of [a, b, c]) await o.mined.catch(() => undefined);
  });

  it("close() ends the receipt loop at once, not a poll later: a send after it is asked for its receipt at once", async function () {
    const { provider, signer, receiptAsks } = node(script());
    const queue = new TxQueue({ provider, signer, receiptPollMs: 60_000 });
    try {
      const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
      const first = await queue.send(tx);
      await settle();
      expect(receiptAsks).to.deep.equal([first.hash]);
      const whileWaiting = timers(); // the loop's wait for its next round among them
      queue.close();
      expect(await first.mined.catch((e: unknown) => e)).to.be.instanceOf(TxOverdueError);
      await settle();
      expect(timers(), "the wait's timer cleared").to.equal(whileWaiting - 1);
      const second = await queue.send(tx);
      const secondMined = second.mined.catch((e: unknown) => e);
      await settle();
      expect(receiptAsks).to.deep.equal([first.hash, second.hash]);
      queue.close();
      expect(await secondMined).to.be.instanceOf(TxOverdueError);
    } finally {
      queue.close();
    }
  });

  it("close() ends every wait with TxOverdueError naming its hash", async function () {
    const { provider, signer } = node(script());
    const queue = new TxQueue({ provider, signer });
    const out = await queue.send(tx);
    expect(queue.inFlight).to.equal(1);
    queue.close();
    const error = await out.mined.catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TxOverdueError);
    expect((error as TxOverdueError).details).to.deep.equal({ hash: out.hash });
    expect(queue.inFlight).to.equal(0);
  });
});

describe("chain/tx-queue: a transaction past its deadline (a scripted node)", function () {
  const pastDeadline = async (s: Script, prepare: (hash: string) => void, receiptTimeoutMs = 20) => {
    const { provider, signer, calls } = node(s);
    const queue = new TxQueue({ provider, signer, receiptPollMs: 1, receiptTimeoutMs });
    const out = await queue.send(tx);
    prepare(out.hash);
    const outcome = await out.mined.then(
      (receipt) => ({ receipt }),
      (error: unknown) => ({ error }),
    );
    return { out, outcome, queue, calls };
  };

  it("a receipt that comes before the deadline resolves the wait", async function () {
    const s = script();
    const { out, outcome } = await pastDeadline(s, (hash) => s.receipts.set(hash, receiptOf(hash)));
    expect(outcome).to.deep.equal({
      receipt: { hash: out.hash, status: 1, blockNumber: 7, blockHash: `0x${"07".repeat(32)}`, gasUsed: 21_000n },
    });
  });

  it("a receipt read that fails is no answer: asked again, the wait resolves with the receipt", async function () {
    const s = script({ receiptFailures: 2 });
    // A deadline far off: three rounds must come before it, however loaded the machine.
    const { out, outcome } = await pastDeadline(s, (hash) => s.receipts.set(hash, receiptOf(hash)), 10_000);
    expect(outcome).to.deep.equal({
      receipt: { hash: out.hash, status: 1, blockNumber: 7, blockHash: `0x${"07".repeat(32)}`, gasUsed: 21_000n },
    });
  });

  it("still held by the node: overdue, and the count is kept", async function () {
    const s = script();
    const { outcome, queue, calls } = await pastDeadline(s, () => undefined);
    expect((outcome as { error: unknown }).error).to.be.instanceOf(TxOverdueError);
    expect(String((outcome as { error: Error }).error.message)).to.match(/the node still holds it/);
    const next = await queue.send(tx);
    expect(next.nonce).to.equal(8);
    expect(calls.getTransactionCount).to.equal(1);
    queue.close();
    await next.mined.catch(() => undefined);
  });

  it("forgotten, with its nonce above the open one: overdue (it may be queued behind the gap), never dropped", async function () {
    const s = script({ latest: 5 });
    const { outcome } = await pastDeadline(s, (hash) => s.held.delete(hash));
    expect((outcome as { error: unknown }).error).to.be.instanceOf(TxOverdueError);
    expect(String((outcome as { error: Error }).error.message)).to.match(/waits behind nonce 5/);
  });

  it("forgotten, with its nonce the chain's next: dropped, and the next send reads the count again", async function () {
    const s = script();
    const { out, outcome, queue, calls } = await pastDeadline(s, (hash) => s.held.delete(hash));
    const error = (outcome as { error: unknown }).error as TxDroppedError;
    expect(error).to.be.instanceOf(TxDroppedError);
    expect(error.details).to.deep.equal({ hash: out.hash, nonce: 7 });
    expect(error.message).to.match(/nonce 7 is free again/);
    const next = await queue.send(tx);
    expect(next.nonce).to.equal(7);
    expect(calls.getTransactionCount).to.be.greaterThan(1);
    queue.close();
    await next.mined.catch(() => undefined);
  });

  it("forgotten, its nonce used meanwhile: its own late receipt if there is one, else taken by another (dropped)", async function () {
    const late = script();
    const mined = await pastDeadline(late, (hash) => {
      late.held.delete(hash);
      late.latest = 8;
      // The receipt shows up only once the deadline passed and the queue asked for the count.
      late.onLatest = () => late.receipts.set(hash, receiptOf(hash));
    });
    expect(mined.outcome).to.deep.equal({ receipt: receiptOf(mined.out.hash) });

    const taken = script();
    const other = await pastDeadline(taken, (hash) => {
      taken.held.delete(hash);
      taken.latest = 8;
    });
    const error = (other.outcome as { error: unknown }).error as TxDroppedError;
    expect(error).to.be.instanceOf(TxDroppedError);
    expect(error.message).to.match(/nonce 7 .* was taken by another transaction/);
  });

  it("the node silent about it: overdue, saying so", async function () {
    const s = script({ transactionError: new Error("connection reset") });
    const { outcome } = await pastDeadline(s, () => undefined);
    expect((outcome as { error: unknown }).error).to.be.instanceOf(TxOverdueError);
    expect(String((outcome as { error: Error }).error.message)).to.match(/did not say where it is: connection reset/);
  });
});
