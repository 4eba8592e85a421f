import { expect } from "chai";
import { JsonRpcProvider, keccak256, toUtf8Bytes, Transaction, Wallet, ZeroHash, type Signer } from "ethers";

import { startAnvil, type Anvil } from "../../src/chain/devnet.js";
import { mined } from "../../src/chain/receipts.js";

import {
  LedgerPoster,
  OPERATION_KIND,
  type LedgerOperation,
  type LedgerOperationKind,
  type LedgerOutcome,
  type LedgerPosterOptions,
} from "../../src/iso8583/ledger.js";
import { loadAndExecuteDeploymentsFromFiles } from "../../rocketh/environment.js";
import { AccountLedger__factory, BankToken__factory, TrustAccount__factory } from "../../typechain-types/index.js";
import { freePort } from "../helpers/processes.js";
import { gatewayWorld, openCardAccount, type GatewayWorld } from "./gateway-helpers.js";

const key = (label: string) => keccak256(toUtf8Bytes(`poster-test/${label}`));
const zero = ZeroHash;
/** The devnet mnemonic's account 8, the `gateway` named account (README's account table). */
const GATEWAY_KEY = "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97";

/**
 * A poster as the gateway service builds it: ethers' JsonRpcSigner over
 * HTTP JSON-RPC (here the world's proxy in front of the in-process chain).
 */
async function posterOver(
  world: GatewayWorld,
  options: Partial<LedgerPosterOptions> = {},
): Promise<{ poster: LedgerPoster; provider: JsonRpcProvider }> {
  const provider = new JsonRpcProvider(world.rpcUrl, 31337, { staticNetwork: true, cacheTimeout: -1 });
  const signer = await provider.getSigner(world.gatewayAddress);
  const ledger = await world.ledger.getAddress();
  return { poster: new LedgerPoster({ ledger, signer, provider, ...options }), provider };
}

/** The operation keys of each of the gateway's transactions waiting in the mempool. */
async function pendingBatches(world: GatewayWorld): Promise<string[][]> {
  const block = (await world.suite.ethers.provider.send("eth_getBlockByNumber", ["pending", true])) as {
    transactions: { from: string; input: string }[];
  };
  const ledger = AccountLedger__factory.createInterface();
  return block.transactions
    .filter((tx) => tx.from.toLowerCase() === world.gatewayAddress.toLowerCase())
    .map((tx) => (ledger.parseTransaction({ data: tx.input })!.args[0] as { key: string }[]).map((op) => op.key));
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The outcome without what differs between two runs (transaction hashes, wallets in error arguments). */
function shape(outcome: LedgerOutcome): string {
  if (outcome.status === "applied") return "applied";
  if (outcome.status === "rejected") return `rejected ${outcome.error}`;
  return `unavailable ${outcome.posted}`;
}

describe("iso8583: ledger poster", function () {
  this.timeout(120_000);
  let world: GatewayWorld;

  before(async function () {
    world = await gatewayWorld();
  });
  after(async function () {
    await world.proxy.stop();
  });
  afterEach(async function () {
    await world.proxy.setMode("up");
    await world.suite.ethers.provider.send("evm_setAutomine", [true]);
  });

  it("numbers every operation kind as the contract's OperationKind does", async function () {
    const { poster, provider } = await posterOver(world);
    try {
      const { wallet } = await openCardAccount(world, 10_000n);
      const steps: Array<[LedgerOperationKind, string, bigint]> = [
        ["hold", zero, 100n],
        ["capture", key("hold"), 50n],
        ["debit", zero, 10n],
        ["credit", zero, 5n],
        ["reverse", key("debit"), 0n],
      ];
      for (const [kind, ref, amount] of steps) {
        const outcome = await poster.post({ kind, key: key(kind), wallet, ref, amount });
        expect(outcome.status, kind).to.equal("applied");
        expect((await world.ledger.operationOf(key(kind))).kind, kind).to.equal(BigInt(OPERATION_KIND[kind]));
      }
      const hold = await poster.post({ kind: "hold", key: key("hold-2"), wallet, ref: zero, amount: 1n });
      expect(hold.status).to.equal("applied");
      expect(
        (await poster.post({ kind: "release", key: key("release"), wallet, ref: key("hold-2"), amount: 0n })).status,
      ).to.equal("applied");
      expect((await world.ledger.operationOf(key("release"))).kind).to.equal(BigInt(OPERATION_KIND.release));
      const after = await world.ledger.profileOf(wallet);
      expect([after.token, after.held]).to.deep.equal([10_000n - 50n - 10n + 5n + 10n, 0n]);
    } finally {
      provider.destroy();
    }
  });

  it("reports a refusal by its custom error, a reused key as applied, and batches concurrent operations", async function () {
    const { poster, provider } = await posterOver(world);
    try {
      const { wallet } = await openCardAccount(world, 100n);
      const refused = await poster.post({ kind: "debit", key: key("too-much"), wallet, ref: zero, amount: 101n });
      expect(refused).to.deep.include({ status: "rejected", error: "InsufficientFunds" });
      expect(await poster.keyState(key("too-much"))).to.equal("unused");
      const first = await poster.post({ kind: "debit", key: key("once"), wallet, ref: zero, amount: 1n });
      const again = await poster.post({ kind: "debit", key: key("once"), wallet, ref: zero, amount: 1n });
      expect([first.status, again.status]).to.deep.equal(["applied", "applied"]);
      const blockBefore = await world.suite.ethers.provider.getBlockNumber();
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          poster.post({ kind: "debit", key: key(`many-${i}`), wallet, ref: zero, amount: 1n }),
        ),
      );
      expect(outcomes.every((outcome) => outcome.status === "applied")).to.equal(true);
      // Posted in one tick: one transaction.
      expect((await world.suite.ethers.provider.getBlockNumber()) - blockBefore).to.equal(1);
      expect((await world.ledger.profileOf(wallet)).token).to.equal(100n - 11n);
    } finally {
      provider.destroy();
    }
  });

  it("test_pipeline_sendsSeveralBatchesBeforeTheFirstIsMined_andNeverOneKeyInTwo", async function () {
    const { wallet } = await openCardAccount(world, 1_000n);
    const { poster, provider } = await posterOver(world, { maxBatch: 2, maxInFlight: 3, timeoutMs: 30_000 });
    try {
      await world.suite.ethers.provider.send("evm_setAutomine", [false]);
      const op = (label: string, amount: bigint, ref = zero, kind: LedgerOperationKind = "debit"): LedgerOperation => ({
        kind,
        key: key(`pipe-${label}`),
        wallet,
        ref,
        amount,
      });
      const posted = [
        op("a", 10n),
        op("b", 2_000n), // InsufficientFunds
        op("c", 20n, zero, "hold"),
        op("a", 10n), // the same key as the first: waits for its transaction
        op("d", 0n, key("pipe-a"), "reverse"), // refers to the first: waits for its transaction
        op("e", 1n),
        op("f", 1n),
      ].map((operation) => poster.post(operation));
      // Three transactions under way, none mined: the pipeline is full.
      await until("three pending batches", async () => (await pendingBatches(world)).length === 3);
      const pending = await pendingBatches(world);
      const keys = pending.flat();
      expect(new Set(keys).size).to.equal(keys.length);
      // a, b | c, e (the second a and d wait for a's transaction) | f
      expect(pending.map((batch) => batch.length)).to.deep.equal([2, 2, 1]);
      expect(keys).to.include(key("pipe-a"));
      expect(keys).not.to.include(key("pipe-d"));
      // Mined one block at a time until every operation has its outcome.
      let settled = false;
      const all = Promise.all(posted).then((outcomes) => {
        settled = true;
        return outcomes;
      });
      for (let i = 0; i < 20 && !settled; i++) {
        await world.suite.ethers.provider.send("evm_mine", []);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const outcomes = await all;
      expect(outcomes.map(shape)).to.deep.equal([
        "applied",
        "rejected InsufficientFunds",
        "applied",
        "applied",
        "applied",
        "applied",
        "applied",
      ]);
      // a debited once then reversed, c held (the held amount stays in token), e and f debited.
      const profile = await world.ledger.profileOf(wallet);
      expect([profile.token, profile.held]).to.deep.equal([1_000n - 2n, 20n]);
    } finally {
      provider.destroy();
    }
  });

  it("test_sendFailureInThePipeline_isNotPosted_andTheNextBatchTakesTheFreeNonce", async function () {
    const { wallet } = await openCardAccount(world, 1_000n);
    const { poster, provider } = await posterOver(world, { maxBatch: 1, maxInFlight: 4, timeoutMs: 30_000 });
    try {
      await world.suite.ethers.provider.send("evm_setAutomine", [false]);
      const op = (label: string): LedgerOperation => ({
        kind: "debit",
        key: key(`fail-${label}`),
        wallet,
        ref: zero,
        amount: 1n,
      });
      const first = poster.post(op("first"));
      await until("the first batch pending", async () => (await pendingBatches(world)).length === 1);
      // The node is gone while the second batch is sent: certainly not posted.
      await world.proxy.setMode("refuse");
      // Let the client notice its kept-alive connections closed (a reset one is rightly `unknown`).
      await new Promise((resolve) => setTimeout(resolve, 200));
      const second = await poster.post(op("second"));
      expect(second).to.deep.include({ status: "unavailable", posted: "no" });
      await world.proxy.setMode("up");
      const third = poster.post(op("third"));
      await until("the third batch pending", async () => (await pendingBatches(world)).length === 2);
      await world.suite.ethers.provider.send("evm_mine", []);
      expect((await first).status).to.equal("applied");
      expect((await third).status).to.equal("applied");
      expect(await poster.keyState(key("fail-second"))).to.equal("unused");
      expect((await world.ledger.profileOf(wallet)).token).to.equal(998n);
    } finally {
      provider.destroy();
    }
  });

  it("test_refusedNonce_isReadAgain_andTheSameOperationsSentOnce (a key signed by the poster)", async function () {
    const { wallet } = await openCardAccount(world, 1_000n);
    const provider = new JsonRpcProvider(world.rpcUrl, 31337, { staticNetwork: true, cacheTimeout: -1 });
    // The gateway's key signed here (README: account 8 of the devnet mnemonic), as on a remote network.
    const signer = new Wallet(GATEWAY_KEY, provider);
    expect(signer.address).to.equal(world.gatewayAddress);
    const poster = new LedgerPoster({ ledger: await world.ledger.getAddress(), signer, provider, timeoutMs: 30_000 });
    try {
      const before = await poster.post({ kind: "debit", key: key("nonce-before"), wallet, ref: zero, amount: 1n });
      expect(before.status).to.equal("applied");
      // The same key sends a transaction of its own: the nonce the poster would use next is taken.
      await openCardAccount(world, 5n);
      const blockBefore = await world.suite.ethers.provider.getBlockNumber();
      const after = await poster.post({ kind: "debit", key: key("nonce-after"), wallet, ref: zero, amount: 1n });
      expect(after.status).to.equal("applied");
      expect((await world.suite.ethers.provider.getBlockNumber()) - blockBefore).to.equal(1);
      expect((await world.ledger.profileOf(wallet)).token).to.equal(998n);
    } finally {
      provider.destroy();
    }
  });

  it("test_receiptTimeout_isUnknown_notNo: a batch that is sent but not mined in time may still land", async function () {
    const { wallet } = await openCardAccount(world, 1_000n);
    const { poster, provider } = await posterOver(world, { timeoutMs: 300 });
    try {
      await world.suite.ethers.provider.send("evm_setAutomine", [false]);
      const late = await poster.post({ kind: "debit", key: key("late"), wallet, ref: zero, amount: 1n });
      expect(late).to.deep.include({ status: "unavailable", posted: "unknown" });
      await world.suite.ethers.provider.send("evm_mine", []);
      expect(await poster.keyState(key("late"))).to.equal("used");
    } finally {
      provider.destroy();
    }
  });

  it("test_malformedOperation_isNotPosted_andThePosterGoesOn", async function () {
    const { wallet } = await openCardAccount(world, 1_000n);
    const { poster, provider } = await posterOver(world);
    try {
      const bad = await poster.post({
        kind: "debit",
        key: key("bad"),
        wallet: "not-an-address",
        ref: zero,
        amount: 1n,
      });
      expect(bad).to.deep.include({ status: "unavailable", posted: "no" });
      const good = await poster.post({ kind: "debit", key: key("good"), wallet, ref: zero, amount: 1n });
      expect(good.status).to.equal("applied");
    } finally {
      provider.destroy();
    }
  });

  it("test_mixedBatchWithRejectedOps_pipelinedOutcomesEqualTheSerialPosters", async function () {
    const stranger = "0x000000000000000000000000000000000000dEaD";
    const scenario = (run: string, wallet: string): LedgerOperation[] => {
      const k = (label: string) => key(`${run}-${label}`);
      return [
        { kind: "debit", key: k("debit"), wallet, ref: zero, amount: 10n },
        { kind: "debit", key: k("too-much"), wallet, ref: zero, amount: 100_000n },
        { kind: "hold", key: k("hold"), wallet, ref: zero, amount: 20n },
        { kind: "capture", key: k("capture-unknown"), wallet, ref: k("no-such-hold"), amount: 5n },
        { kind: "reverse", key: k("reverse-unknown"), wallet, ref: k("no-such-op"), amount: 0n },
        { kind: "credit", key: k("credit"), wallet, ref: zero, amount: 7n },
        { kind: "debit", key: k("debit"), wallet, ref: zero, amount: 10n }, // the same key again
        { kind: "debit", key: k("stranger"), wallet: stranger, ref: zero, amount: 1n },
        { kind: "release", key: k("release"), wallet, ref: k("hold"), amount: 0n },
        { kind: "debit", key: k("zero"), wallet, ref: zero, amount: 0n },
        { kind: "reverse", key: k("reverse"), wallet, ref: k("debit"), amount: 0n },
      ];
    };
    const outcomesOf = async (run: string, options: Partial<LedgerPosterOptions>) => {
      const { wallet } = await openCardAccount(world, 1_000n);
      const { poster, provider } = await posterOver(world, options);
      try {
        const outcomes = await Promise.all(scenario(run, wallet).map((op) => poster.post(op)));
        const profile = await world.ledger.profileOf(wallet);
        return { outcomes: outcomes.map(shape), token: profile.token, held: profile.held };
      } finally {
        provider.destroy();
      }
    };
    const serial = await outcomesOf("serial", { maxBatch: 1, maxInFlight: 1 });
    const pipelined = await outcomesOf("pipelined", { maxBatch: 3, maxInFlight: 3 });
    expect(pipelined).to.deep.equal(serial);
    expect(serial.outcomes).to.deep.equal([
      "applied",
      "rejected InsufficientFunds",
      "applied",
      "rejected UnknownOperation",
      "rejected UnknownOperation",
      "applied",
      "applied",
      "rejected UnknownProfile",
      "applied",
      "rejected AccountLedgerZeroAmount",
      "applied",
    ]);
  });

  describe("on Anvil, which mines after it answers", function () {
    let anvil: Anvil | undefined;
    let provider: CountingProvider;
    let ledger: string;
    let bank: Signer;
    let gatewayAddress: string;

    /**
     * Watches the poster's transactions: how many were sent and not yet seen with a receipt (the
     * pipeline's depth), and any key sent while a transaction carrying it is still under way.
     * Receipts come 30 ms late, as from a busier node, so the pipeline fills.
     */
    class CountingProvider extends JsonRpcProvider {
      readonly outstanding = new Map<string, readonly string[]>();
      readonly overlaps: string[] = [];
      deepest = 0;
      override async send(method: string, params: unknown[] | Record<string, unknown>): Promise<unknown> {
        const list = params as unknown[];
        if (method === "eth_getTransactionReceipt") await new Promise((resolve) => setTimeout(resolve, 30));
        const result = await super.send(method, params);
        if (method === "eth_sendTransaction" || method === "eth_sendRawTransaction") {
          const data =
            method === "eth_sendTransaction"
              ? (list[0] as { data: string }).data
              : Transaction.from(String(list[0])).data;
          const call = AccountLedger__factory.createInterface().parseTransaction({ data });
          if (call?.name === "execute") {
            const keys = (call.args[0] as { key: string }[]).map((op) => op.key);
            const busy = new Set([...this.outstanding.values()].flat());
            this.overlaps.push(...keys.filter((key) => busy.has(key)));
            this.outstanding.set(String(result), keys);
            this.deepest = Math.max(this.deepest, this.outstanding.size);
          }
        }
        if (method === "eth_getTransactionReceipt" && result !== null) this.outstanding.delete(String(list[0]));
        return result;
      }
    }

    before(async function () {
      const port = await freePort();
      anvil = await startAnvil({ endpoint: { host: "127.0.0.1", port, url: `http://127.0.0.1:${port}` } });
      provider = new CountingProvider(anvil.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
      const { log, info } = console;
      console.log = () => undefined;
      console.info = () => undefined;
      let env;
      try {
        env = await loadAndExecuteDeploymentsFromFiles({
          provider: {
            request: ({ method, params }: { method: string; params?: unknown[] }) =>
              provider.send(method, params ?? []),
          } as never,
        });
      } finally {
        console.log = log;
        console.info = info;
      }
      ledger = env.deployments.AccountLedgerBankA!.address;
      bank = await provider.getSigner(env.namedAccounts.bankA);
      gatewayAddress = env.namedAccounts.gateway;
      const float = 10_000_000n;
      const trust = TrustAccount__factory.connect(env.deployments.TrustAccountBankA!.address, bank);
      await mined(await trust.mintForDeposit(await bank.getAddress(), float, key("anvil-float")));
      await mined(await BankToken__factory.connect(env.deployments.BankToken!.address, bank).approve(ledger, float));
      await mined(await AccountLedger__factory.connect(ledger, bank).fundTokens(key("anvil-fund"), float));
    });
    after(async function () {
      provider?.destroy();
      await anvil?.stop();
    });

    for (const signing of ["node-held key", "key signed by the poster"] as const) {
      it(`test_onAnvil_pipelinedBatchesOverlap_andEveryOutcomeIsTheLedgers (${signing})`, async function () {
        const contract = AccountLedger__factory.connect(ledger, bank);
        const wallet = Wallet.createRandom().address;
        await mined(await contract.openProfile(key(`anvil-profile-${signing}`), wallet, 0n));
        const gateway = await provider.getSigner(gatewayAddress);
        await mined(await contract.connect(gateway).credit(key(`anvil-seed-${signing}`), wallet, 1_000n));
        const signer = signing === "node-held key" ? gateway : new Wallet(GATEWAY_KEY, provider);
        const poster = new LedgerPoster({ ledger, signer, provider, maxBatch: 5, maxInFlight: 4, timeoutMs: 30_000 });
        const k = (label: string) => key(`anvil-${signing}-${label}`);
        const ops: LedgerOperation[] = [];
        const expected: string[] = [];
        for (let i = 0; i < 120; i++) {
          if (i % 6 === 5) {
            ops.push({ kind: "debit", key: k(`big-${i}`), wallet, ref: zero, amount: 1_000_000n });
            expected.push("rejected InsufficientFunds");
          } else if (i % 10 === 7) {
            ops.push({ kind: "debit", key: k(`small-${i - 1}`), wallet, ref: zero, amount: 1n }); // a key used before
            expected.push("applied");
          } else {
            ops.push({ kind: "debit", key: k(`small-${i}`), wallet, ref: zero, amount: 1n });
            expected.push("applied");
          }
        }
        provider.deepest = 0;
        provider.overlaps.length = 0;
        const startBlock = await provider.getBlockNumber();
        const outcomes = await Promise.all(ops.map((op) => poster.post(op)));
        expect(outcomes.map(shape)).to.deep.equal(expected);
        // More than one transaction was under way at once.
        expect(provider.deepest).to.be.greaterThan(1);
        const distinct = new Set(ops.filter((_, i) => expected[i] === "applied").map((op) => op.key));
        expect((await contract.profileOf(wallet)).token).to.equal(1_000n - BigInt(distinct.size));
        for (const [i, op] of ops.entries()) {
          expect(await contract.isKeyUsed(op.key), `operation ${i}`).to.equal(expected[i] === "applied");
        }
        // No key was sent while a transaction carrying it was under way; every transaction succeeded.
        expect(provider.overlaps).to.deep.equal([]);
        const endBlock = await provider.getBlockNumber();
        let transactions = 0;
        for (let n = startBlock + 1; n <= endBlock; n++) {
          for (const tx of (await provider.getBlock(n, true))!.prefetchedTransactions) {
            if (tx.from.toLowerCase() !== gatewayAddress.toLowerCase()) continue;
            expect((await provider.getTransactionReceipt(tx.hash))!.status).to.equal(1);
            transactions += 1;
          }
        }
        expect(transactions).to.be.at.least(120 / 5);
      });
    }
  });
});
