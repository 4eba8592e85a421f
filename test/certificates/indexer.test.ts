import { expect } from "chai";
import { encodeBytes32String, getCreateAddress, keccak256, parseEther, SigningKey, toUtf8Bytes, Wallet } from "ethers";

import { ChainReorgError } from "../../src/chain/events.js";
import { NO_FEATURES, type Features } from "../../src/certificates/features.js";
import {
  CertAddressError,
  CertBlockNotIndexedError,
  CertIndexerConfigError,
  CertPublicKeyError,
  create2AccountOf,
  keyAddress,
  type Create2Profile,
} from "../../src/certificates/indexer.js";
import {
  InterbankSettlement__factory,
  MockAccountFactory__factory,
  MockERC20__factory,
  MockSmartAccount__factory,
} from "../../typechain-types/index.js";
import { DAY, indexerWorld, publicKeyOf, type IndexerWorld } from "./indexer-helpers.js";

/** Features with the given fields, the rest zero. */
const features = (fields: Partial<Features>): Features => ({ ...NO_FEATURES, ...fields });

/** The error `fn` throws (sync or async), or fails the test. */
async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}

describe("certificates: the indexer", function () {
  let w: IndexerWorld;

  beforeEach(async function () {
    w = await indexerWorld();
  });

  afterEach(function () {
    w.close();
  });

  it("counts native payments, BankToken transfers and contract creations of a key's addresses", async function () {
    const { suite } = w;
    const [alice, bob] = [suite.others[0]!, suite.others[1]!];
    await w.fund(alice.address, 50_000n);
    const t0 = await w.now();
    await (await alice.sendTransaction({ to: bob.address, value: parseEther("1") })).wait();
    await suite.networkHelpers.time.increase(DAY);
    await (await suite.token.connect(alice).transfer(bob.address, 1_234n)).wait();
    // A contract alice creates with CREATE (nonce 2), which she then funds and which pays bob.
    const nonce = await suite.ethers.provider.getTransactionCount(alice.address);
    const account = await new MockSmartAccount__factory(alice).deploy();
    await account.waitForDeployment();
    const created = await account.getAddress();
    expect(created).to.equal(getCreateAddress({ from: alice.address, nonce }));
    await (await account.initialize(alice.address)).wait();
    await (await alice.sendTransaction({ to: created, value: parseEther("2") })).wait();
    await (await suite.token.connect(alice).transfer(created, 1_000n)).wait();
    await (
      await account.execute(
        await suite.token.getAddress(),
        0n,
        suite.token.interface.encodeFunctionData("transfer", [bob.address, 400n]),
      )
    ).wait();
    const t1 = await w.now();

    const indexer = w.indexer(w.open("a.sqlite"));
    const indexed = await indexer.poll();
    const head = await w.head();
    expect(indexed).to.equal(head + 1);
    expect(indexer.indexedThrough()).to.equal(head);
    expect(await indexer.poll()).to.equal(0);

    const key = await publicKeyOf(alice);
    const set = indexer.addressesOfKey(key, head);
    expect(set).to.deep.equal([alice.address, created]);
    // The compressed form of the same key gives the same set.
    expect(indexer.addressesOfKey(SigningKey.computePublicKey(key, true), head)).to.deep.equal(set);

    // The key as one party: the 2 ETH and the 1,000 tokens to its own contract are internal.
    const joint = indexer.featuresOf(set, head);
    expect(joint.firstActivity).to.be.lessThanOrEqual(BigInt(t0));
    expect(joint).to.deep.include({
      lastActivity: BigInt(t1),
      txCountIn: 1n, // the mint
      // ETH to bob, tokens to bob, the contract's tokens to bob, and the call to BankToken that moved 1,000 tokens
      // to the key's own contract (a call to a contract outside the set is a transaction sent, whatever it moves)
      txCountOut: 4n,
      volumeToken: 50_000n + 1_234n + 400n,
      volumeNative: parseEther("1"),
      counterparties: 1n, // bob (the mint comes from the zero address)
      settlementsCompleted: 0n,
      flaggedCounterparties: 0n,
    });
    // Alice alone: her contract is now a counterparty, and the deployment and the funding are sent transactions.
    const alone = indexer.featuresOf([alice.address], head);
    expect(alone).to.deep.include({
      txCountIn: 1n,
      txCountOut: 7n, // ETH to bob, tokens to bob, deploy, initialize, 2 ETH, 1,000 tokens, execute
      volumeToken: 50_000n + 1_234n + 1_000n,
      volumeNative: parseEther("3"),
      counterparties: 2n,
    });
    expect(alone.activeDays).to.equal(joint.activeDays);
    // Bob's side: received from the key's two addresses.
    expect(indexer.featuresOf([bob.address], head)).to.deep.include({
      txCountIn: 3n,
      txCountOut: 0n,
      volumeToken: 1_634n,
      volumeNative: parseEther("1"),
      counterparties: 2n,
    });
  });

  it("a transaction between two addresses of the set counts as activity only, never as a counterparty", async function () {
    const { suite } = w;
    const [alice, bob] = [suite.others[0]!, suite.others[1]!];
    await (await alice.sendTransaction({ to: bob.address, value: 5n })).wait();
    const t = await w.now();
    const indexer = w.indexer(w.open("a.sqlite"));
    await indexer.poll();
    const head = await w.head();
    expect(indexer.featuresOf([alice.address, bob.address], head)).to.deep.equal(
      features({ firstActivity: BigInt(t), lastActivity: BigInt(t), activeDays: 1n }),
    );
    // The same set given twice, or in another case, is the same set.
    expect(indexer.featuresOf([alice.address, bob.address.toLowerCase(), bob.address], head)).to.deep.equal(
      indexer.featuresOf([bob.address, alice.address], head),
    );
    expect(indexer.featuresOf([], head)).to.deep.equal(NO_FEATURES);
  });

  it("a look-alike token's Transfer logs do not count as BankToken volume or counterparties", async function () {
    const { suite } = w;
    const [alice, bob] = [suite.others[0]!, suite.others[1]!];
    const fake = await new MockERC20__factory(alice).deploy();
    await fake.waitForDeployment();
    await (await fake.mint(alice.address, 10n ** 12n)).wait();
    await (await fake.transfer(bob.address, 10n ** 11n)).wait();
    const indexer = w.indexer(w.open("a.sqlite"));
    await indexer.poll();
    const head = await w.head();
    // Alice's three transactions are sent transactions (a deployment and two calls), nothing more.
    expect(indexer.featuresOf([alice.address], head)).to.deep.include({
      txCountOut: 3n,
      txCountIn: 0n,
      volumeToken: 0n,
      counterparties: 0n,
    });
    expect(indexer.featuresOf([bob.address], head)).to.deep.include({ txCountIn: 0n, volumeToken: 0n });
  });

  it("two polls at once index each block once", async function () {
    const { suite } = w;
    const [alice, bob] = [suite.others[0]!, suite.others[1]!];
    for (let i = 0; i < 5; i += 1) await (await alice.sendTransaction({ to: bob.address, value: 3n })).wait();
    const indexer = w.indexer(w.open("a.sqlite"), { batchBlocks: 4 });
    const [a, b] = await Promise.all([indexer.poll(), indexer.poll()]);
    const head = await w.head();
    expect(a + b).to.equal(head + 1);
    expect(indexer.featuresOf([bob.address], head)).to.deep.include({ txCountIn: 5n, volumeNative: 15n });
  });

  it("a reverted transaction moves no value and creates nothing", async function () {
    const { suite } = w;
    const [alice, bob] = [suite.others[0]!, suite.others[1]!];
    const account = await new MockSmartAccount__factory(bob).deploy();
    await account.waitForDeployment();
    await (await account.initialize(bob.address)).wait();
    // Alice is not the owner: execute reverts, with 1 ETH attached.
    const data = account.interface.encodeFunctionData("execute", [alice.address, 0n, "0x"]);
    const to = await account.getAddress();
    const value = parseEther("1");
    expect(
      await caught(async () => (await alice.sendTransaction({ to, data, value, gasLimit: 200_000n })).wait()),
    ).to.be.instanceOf(Error);
    // A creation that reverts (init code that reverts at once: PUSH0 PUSH0 REVERT).
    expect(
      await caught(async () => (await alice.sendTransaction({ data: "0x5f5ffd", gasLimit: 100_000n })).wait()),
    ).to.be.instanceOf(Error);

    const indexer = w.indexer(w.open("a.sqlite"));
    await indexer.poll();
    const head = await w.head();
    expect(indexer.featuresOf([alice.address], head)).to.deep.include({
      txCountOut: 2n,
      volumeNative: 0n,
      counterparties: 0n,
    });
    expect(indexer.addressesOfKey(await publicKeyOf(alice), head)).to.deep.equal([alice.address]);
  });

  it("a key's CREATE2 accounts under a configured factory count as its addresses", async function () {
    const { suite } = w;
    const [alice, bob, carol] = [suite.others[0]!, suite.others[1]!, suite.others[2]!];
    const factory = await new MockAccountFactory__factory(suite.accounts.deployer).deploy();
    await factory.waitForDeployment();
    const profile: Create2Profile = {
      name: "mock-accounts",
      factory: await factory.getAddress(),
      initCodeHash: await factory.INIT_CODE_HASH(),
      accounts: 2,
    };
    // The factory deploys alice's account 1 (paid for by someone else: the deployer).
    await (await factory.createAccount(alice.address, 1n)).wait();
    const accountAddress = await factory.accountOf(alice.address, 1n);
    expect(create2AccountOf(profile, alice.address, 1)).to.equal(accountAddress);
    expect(await suite.ethers.provider.getCode(accountAddress)).to.not.equal("0x");
    const account = MockSmartAccount__factory.connect(accountAddress, alice);
    await w.fund(bob.address, 10_000n);
    await (await suite.token.connect(bob).transfer(accountAddress, 3_000n)).wait();
    await (
      await account.execute(
        await suite.token.getAddress(),
        0n,
        suite.token.interface.encodeFunctionData("transfer", [carol.address, 1_000n]),
      )
    ).wait();

    const indexer = w.indexer(w.open("a.sqlite"), { create2: [profile] });
    await indexer.poll();
    const head = await w.head();
    const set = indexer.addressesOfKey(await publicKeyOf(alice), head);
    expect(set).to.deep.equal([alice.address, create2AccountOf(profile, alice.address, 0), accountAddress]);
    expect(indexer.featuresOf(set, head)).to.deep.include({
      txCountIn: 1n,
      txCountOut: 1n, // alice's execute (sent by alice, tokens leave her account: one transaction)
      volumeToken: 4_000n,
      counterparties: 2n, // bob, carol
    });
    // Without the profile the account is nobody's.
    const plain = w.indexer(w.open("b.sqlite"));
    await plain.poll();
    expect(plain.addressesOfKey(await publicKeyOf(alice), head)).to.deep.equal([alice.address]);
  });

  it("credits a completed settlement to both banks once, and a bank's key owns its trust account", async function () {
    const { suite } = w;
    const settlement = InterbankSettlement__factory.connect(w.contracts.settlement!, suite.accounts.bankA);
    const [bankA, bankB] = [await suite.trustA.getAddress(), await suite.trustB.getAddress()];
    const terms = async (label: string) => ({
      id: encodeBytes32String(label),
      debtorBank: bankA,
      creditorBank: bankB,
      amount: 10_000n,
      creditorAccountRef: keccak256(toUtf8Bytes(label)),
      deadline: BigInt(await w.now()) + 3_600n,
    });
    const done = await terms("CERT-1");
    await (await settlement.initiate(done)).wait();
    await (await settlement.connect(suite.accounts.bankB).smelt(done, encodeBytes32String("B-1"))).wait();
    const indexer = w.indexer(w.open("a.sqlite"));
    await indexer.poll();
    const beforeAck = await w.head();
    await (await settlement.acknowledge(done)).wait();
    // A second one only smelted: not completed.
    const open = await terms("CERT-2");
    await (await settlement.initiate(open)).wait();
    await (await settlement.connect(suite.accounts.bankB).smelt(open, encodeBytes32String("B-2"))).wait();
    await indexer.poll();
    const head = await w.head();

    expect(indexer.featuresOf([bankA], head).settlementsCompleted).to.equal(1n);
    expect(indexer.featuresOf([bankB], head).settlementsCompleted).to.equal(1n);
    expect(indexer.featuresOf([bankA, bankB], head).settlementsCompleted).to.equal(1n);
    expect(indexer.featuresOf([bankA], beforeAck).settlementsCompleted).to.equal(0n);
    const deployerKey = await publicKeyOf(suite.accounts.deployer);
    const owned = indexer.addressesOfKey(deployerKey, head);
    expect(owned[0]).to.equal(await suite.accounts.deployer.getAddress());
    expect(owned).to.include(bankA);
    expect(owned).to.include(bankB);
  });

  it("a restart mid-history resumes where it stopped and counts nothing twice", async function () {
    const { suite } = w;
    const [alice, bob, carol] = [suite.others[0]!, suite.others[1]!, suite.others[2]!];
    await w.fund(alice.address, 100_000n);
    for (let i = 0; i < 6; i += 1) {
      await (
        await suite.token.connect(alice).transfer(i % 2 === 0 ? bob.address : carol.address, 100n + BigInt(i))
      ).wait();
      await (await alice.sendTransaction({ to: carol.address, value: 7n })).wait();
      await suite.networkHelpers.time.increase(DAY);
    }
    await w.invoice(bob, alice, 500n, "restart-1");
    const head = await w.head();

    // First run: batches of 7 blocks; the connection drops while reading logs of the fourth batch.
    const first = w.open("resumed.sqlite");
    const crashing = w.indexer(first, { batchBlocks: 7 });
    let logReads = 0;
    w.rpc.failOn = (method) => method === "eth_getLogs" && ++logReads === 4;
    expect(await caught(() => crashing.poll())).to.match(/connection lost/);
    w.rpc.failOn = undefined;
    const stoppedAt = crashing.indexedThrough();
    expect(stoppedAt).to.equal(20);
    first.close();

    // Restart on the same file: resumes after block 20.
    const reopened = w.open("resumed.sqlite");
    const resumed = w.indexer(reopened, { batchBlocks: 7 });
    expect(resumed.indexedThrough()).to.equal(stoppedAt);
    expect(await resumed.poll()).to.equal(head - stoppedAt);

    const fresh = w.indexer(w.open("fresh.sqlite"), { batchBlocks: 1000 });
    await fresh.poll();
    for (const who of [alice, bob, carol]) {
      expect(resumed.featuresOf([who.address], head)).to.deep.equal(fresh.featuresOf([who.address], head));
    }
    const rows = (store: typeof reopened) =>
      store.get<{ n: number }>("SELECT count(*) AS n FROM cert_transfers")!.n +
      store.get<{ n: number }>("SELECT count(*) AS n FROM cert_facts")!.n;
    expect(rows(reopened)).to.equal(rows(w.open("fresh.sqlite")));
    expect(resumed.featuresOf([alice.address], head)).to.deep.include({ billsPaidOnTime: 1n, volumeNative: 42n });
  });

  it("features at an older block are what the index said at that block", async function () {
    const { suite } = w;
    const [alice, bob] = [suite.others[0]!, suite.others[1]!];
    await w.fund(alice.address, 10_000n);
    await (await suite.token.connect(alice).transfer(bob.address, 100n)).wait();
    const indexer = w.indexer(w.open("a.sqlite"));
    await indexer.poll();
    const then = indexer.indexedThrough();
    const saidThen = indexer.featuresOf([alice.address, bob.address], then);
    const aliceThen = indexer.featuresOf([alice.address], then);

    await suite.networkHelpers.time.increase(3 * DAY);
    await (await suite.token.connect(alice).transfer(bob.address, 200n)).wait();
    await w.invoice(bob, alice, 300n, "later", 2 * DAY);
    await (await suite.token.connect(suite.accounts.compliance).freeze(bob.address)).wait();
    await indexer.poll();
    const now = indexer.indexedThrough();

    expect(indexer.featuresOf([alice.address, bob.address], then)).to.deep.equal(saidThen);
    expect(indexer.featuresOf([alice.address], then)).to.deep.equal(aliceThen);
    const aliceNow = indexer.featuresOf([alice.address], now);
    expect(aliceNow).to.not.deep.equal(aliceThen);
    expect(aliceNow).to.deep.include({ billsPaidOverdue: 1n, flaggedCounterparties: 1n });
    expect(aliceThen.flaggedCounterparties).to.equal(0n);
    // Bob was frozen: once, and only from the freeze's block on.
    expect(indexer.featuresOf([bob.address], now).frozenPeriods).to.equal(1n);
    expect(indexer.featuresOf([bob.address], then).frozenPeriods).to.equal(0n);

    // Unfrozen, bob no longer flags alice's history; the period he was frozen stays on his. Frozen again: two.
    const compliance = suite.token.connect(suite.accounts.compliance);
    await (await compliance.unfreeze(bob.address)).wait();
    await indexer.poll();
    const unfrozen = indexer.indexedThrough();
    await (await compliance.freeze(bob.address)).wait();
    await indexer.poll();
    const again = indexer.indexedThrough();
    expect(indexer.featuresOf([alice.address], unfrozen).flaggedCounterparties).to.equal(0n);
    expect(indexer.featuresOf([bob.address], unfrozen).frozenPeriods).to.equal(1n);
    expect(indexer.featuresOf([alice.address], again).flaggedCounterparties).to.equal(1n);
    expect(indexer.featuresOf([bob.address], again).frozenPeriods).to.equal(2n);
    expect(indexer.featuresOf([alice.address], now)).to.deep.equal(aliceNow);

    // Attack: frozen bob sends a victim 1 wei of coin (a freeze stops tokens, not coin). The victim never chose
    // bob, so bob does not flag it, though he is its counterparty.
    const victim = suite.others[5]!;
    await (await bob.sendTransaction({ to: victim.address, value: 1n })).wait();
    await indexer.poll();
    const sent = indexer.featuresOf([victim.address], indexer.indexedThrough());
    expect(sent).to.deep.include({ counterparties: 1n, txCountIn: 1n, flaggedCounterparties: 0n });
  });

  it("a reorg within the confirmations is never seen; one deeper stops the indexer with ChainReorgError", async function () {
    const { suite } = w;
    const provider = suite.ethers.provider;
    const [alice, bob] = [suite.others[0]!, suite.others[1]!];
    const deep = w.indexer(w.open("deep.sqlite"));
    const safe = w.indexer(w.open("safe.sqlite"), { confirmations: 3, name: "safe" });
    await deep.poll();
    await safe.poll();
    const snapshot = (await provider.send("evm_snapshot", [])) as string;
    await (await alice.sendTransaction({ to: bob.address, value: 111n })).wait(); // dropped later
    const dropped = await w.head();
    expect(await deep.poll()).to.equal(1);
    await safe.poll();
    expect(safe.indexedThrough()).to.be.lessThan(dropped);
    await provider.send("evm_revert", [snapshot]);
    await suite.networkHelpers.mine(1); // the replacement block, without the payment
    await (await alice.sendTransaction({ to: bob.address, value: 222n })).wait();
    await suite.networkHelpers.mine(3);

    await safe.poll();
    expect(safe.featuresOf([bob.address], safe.indexedThrough()).volumeNative).to.equal(222n);
    const error = await caught(() => deep.poll());
    expect(error).to.be.instanceOf(ChainReorgError);
    expect((error as ChainReorgError).code).to.equal("CHAIN_REORG_BELOW_CONFIRMATIONS");
    // In the background it stops for good on the reorg and reports it.
    const errors: unknown[] = [];
    const background = w.indexer(w.open("deep.sqlite"), { onError: (e) => errors.push(e), pollIntervalMs: 10 });
    background.start();
    while (errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await background.stop();
    expect(errors[0]).to.be.instanceOf(ChainReorgError);
  });

  it("refuses a bad public key, a future block, a bad address and a store indexed with other contracts", async function () {
    const { suite } = w;
    const indexer = w.indexer(w.open("a.sqlite"));
    await indexer.poll();
    const head = indexer.indexedThrough();
    const key = await publicKeyOf(suite.others[0]!);
    const notOnCurve = `0x04${"11".repeat(64)}`;
    for (const bad of [
      "",
      "0x",
      key.slice(0, -2),
      `0x05${key.slice(4)}`,
      notOnCurve,
      `0x02${"ff".repeat(32)}`,
      key.slice(2),
    ]) {
      const error = await caught(() => indexer.addressesOfKey(bad, head));
      expect(error, bad).to.be.instanceOf(CertPublicKeyError);
      expect((error as CertPublicKeyError).code).to.equal("CERT_BAD_PUBLIC_KEY");
    }
    expect(() => keyAddress(notOnCurve)).to.throw(CertPublicKeyError);
    expect(keyAddress(Wallet.createRandom().signingKey.compressedPublicKey)).to.match(/^0x[0-9a-fA-F]{40}$/);

    const future = await caught(() => indexer.featuresOf([suite.others[0]!.address], head + 1));
    expect(future).to.be.instanceOf(CertBlockNotIndexedError);
    expect((future as CertBlockNotIndexedError).code).to.equal("CERT_BLOCK_NOT_INDEXED");
    expect((future as CertBlockNotIndexedError).details).to.deep.equal({ asOfBlock: head + 1, indexedThrough: head });
    expect(await caught(() => indexer.addressesOfKey(key, head + 1))).to.be.instanceOf(CertBlockNotIndexedError);
    expect(await caught(() => indexer.featuresOf([], -1))).to.be.instanceOf(CertBlockNotIndexedError);
    expect(await caught(() => indexer.featuresOf(["0x1234"], head))).to.be.instanceOf(CertAddressError);

    const unindexed = w.indexer(w.open("empty.sqlite"));
    expect(unindexed.indexedThrough()).to.equal(-1);
    expect(await caught(() => unindexed.featuresOf([], 0))).to.be.instanceOf(CertBlockNotIndexedError);

    const other = await caught(() =>
      w.indexer(w.open("a.sqlite"), { contracts: { ...w.contracts, token: suite.others[5]!.address } }),
    );
    expect(other).to.be.instanceOf(CertIndexerConfigError);
    expect((other as CertIndexerConfigError).code).to.equal("CERT_INDEXER_CONFIG_CHANGED");
    for (const create2 of [
      [{ name: "x", factory: "0x12", initCodeHash: `0x${"00".repeat(32)}`, accounts: 1 }],
      [{ name: "x", factory: suite.others[0]!.address, initCodeHash: "0x12", accounts: 1 }],
      [{ name: "x", factory: suite.others[0]!.address, initCodeHash: `0x${"00".repeat(32)}`, accounts: 0 }],
      [{ name: "x", factory: suite.others[0]!.address, initCodeHash: `0x${"00".repeat(32)}`, accounts: 101 }],
    ]) {
      const error = await caught(() => w.indexer(w.open("c.sqlite"), { create2 }));
      expect(error).to.be.instanceOf(CertIndexerConfigError);
      expect((error as CertIndexerConfigError).code).to.equal("CERT_INDEXER_BAD_CREATE2_PROFILE");
    }
    expect(await caught(() => w.indexer(w.open("d.sqlite"), { confirmations: -1 }))).to.be.instanceOf(
      CertIndexerConfigError,
    );
  });

  it("asks the node little per block: one block read, one log read per batch, receipts only for value or creations", async function () {
    const { suite } = w;
    const [alice, bob] = [suite.others[0]!, suite.others[1]!];
    await w.fund(alice.address, 100_000n);
    const start = (await w.head()) + 1;
    for (let i = 0; i < 40; i += 1) {
      await (await suite.token.connect(alice).transfer(bob.address, 1n)).wait();
    }
    await (await alice.sendTransaction({ to: bob.address, value: 1n })).wait();
    const head = await w.head();
    const indexer = w.indexer(w.open("a.sqlite"), { fromBlock: start, batchBlocks: 100 });
    w.rpc.calls.clear();
    await indexer.poll();
    const blocks = head - start + 1;
    expect(w.rpc.calls.get("eth_getBlockByNumber")).to.equal(blocks);
    expect(w.rpc.calls.get("eth_getLogs")).to.equal(1);
    // One value transfer: one receipt (EDR has no eth_getBlockReceipts, so after one try, per transaction).
    const receipts =
      (w.rpc.calls.get("eth_getBlockReceipts") ?? 0) + (w.rpc.calls.get("eth_getTransactionReceipt") ?? 0);
    expect(receipts).to.be.at.most(2);
    console.log(
      `      ${blocks} blocks: ${w.rpc.total()} RPC calls (${(w.rpc.total() / blocks).toFixed(2)} per block)`,
    );
    expect(indexer.featuresOf([bob.address], head)).to.deep.include({ txCountIn: 41n, volumeToken: 40n });
  });
});
