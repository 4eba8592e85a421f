import { expect } from "chai";
import { network } from "hardhat";

import {
  ATOMIC_LOGS_PER_TRANSACTION,
  ChainReorgError,
  ConfirmedEventFollower,
  EventFollowerConfigError,
  type FollowedLog,
} from "../../src/chain/events.js";
import { Store } from "../../src/store/store.js";
import type { SoladyERC20 } from "../../typechain-types/index.js";

describe("chain: confirmed event follower", function () {
  async function fixture() {
    const connection = await network.create("hardhat");
    const { ethers, networkHelpers } = connection;
    const [deployer, alice] = await ethers.getSigners();
    const token = (await ethers.deployContract("SoladyERC20")) as unknown as SoladyERC20;
    const deployBlock = await ethers.provider.getBlockNumber();
    const transferTopic = token.interface.getEvent("Transfer").topicHash;
    const store = Store.open({ path: ":memory:" });
    const seen: Array<{ amount: bigint; block: number; index: number }> = [];
    const follower = (confirmations: number, handler?: (log: FollowedLog) => void | Promise<void>, atomic = false) =>
      new ConfirmedEventFollower({
        provider: ethers.provider,
        store,
        name: "transfers",
        filter: { address: token.target as string, topics: [transferTopic] },
        confirmations,
        fromBlock: deployBlock,
        atomic,
        handler:
          handler ??
          ((log) => {
            const parsed = token.interface.parseLog(log);
            seen.push({ amount: parsed!.args.amount as bigint, block: log.blockNumber, index: log.index });
          }),
      });
    return { connection, ethers, networkHelpers, deployer: deployer!, alice: alice!, token, store, seen, follower };
  }

  it("hands over each log once it has enough confirmations, in chain order, once", async function () {
    const { token, alice, networkHelpers, seen, follower } = await fixture();
    const reader = follower(2);
    await token.mint(alice.address, 1n);
    await token.mint(alice.address, 2n);
    expect(await reader.poll()).to.equal(0);
    await networkHelpers.mine(1);
    expect(await reader.poll()).to.equal(1);
    expect(seen.map((s) => s.amount)).to.deep.equal([1n]);
    await networkHelpers.mine(1);
    expect(await reader.poll()).to.equal(1);
    expect(await reader.poll()).to.equal(0);
    expect(seen.map((s) => s.amount)).to.deep.equal([1n, 2n]);
  });

  it("resumes from its checkpoint after a restart without handling anything twice", async function () {
    const { token, alice, networkHelpers, seen, follower } = await fixture();
    await token.mint(alice.address, 1n);
    await follower(0).poll();
    await token.mint(alice.address, 2n);
    await token.mint(alice.address, 3n);
    await networkHelpers.mine(1);
    const restarted = follower(0);
    expect(restarted.checkpoint().nextBlock).to.be.greaterThan(0);
    expect(await restarted.poll()).to.equal(2);
    expect(seen.map((s) => s.amount)).to.deep.equal([1n, 2n, 3n]);
  });

  it("never sees a log that a reorg within the confirmation depth removed", async function () {
    const { ethers, token, alice, networkHelpers, seen, follower } = await fixture();
    const reader = follower(3);
    const snapshot = (await ethers.provider.send("evm_snapshot", [])) as string;
    await token.mint(alice.address, 111n); // on the branch that will be dropped
    expect(await reader.poll()).to.equal(0);
    await ethers.provider.send("evm_revert", [snapshot]);
    await networkHelpers.mine(1); // the replacement block, without the mint
    await token.mint(alice.address, 222n);
    await networkHelpers.mine(3);
    await reader.poll();
    expect(seen.map((s) => s.amount)).to.deep.equal([222n]);
  });

  it("stops with ChainReorgError when a block it already processed is replaced", async function () {
    const { ethers, token, alice, networkHelpers, follower } = await fixture();
    const reader = follower(0);
    const snapshot = (await ethers.provider.send("evm_snapshot", [])) as string;
    await token.mint(alice.address, 5n);
    expect(await reader.poll()).to.equal(1);
    await ethers.provider.send("evm_revert", [snapshot]);
    await token.mint(alice.address, 6n);
    await networkHelpers.mine(2);
    let caught: unknown;
    try {
      await reader.poll();
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(ChainReorgError);
    expect((caught as ChainReorgError).code).to.equal("CHAIN_REORG_BELOW_CONFIRMATIONS");
  });

  it("in atomic mode, commits the handler's writes with the checkpoint or neither", async function () {
    const { token, alice, store, follower, networkHelpers } = await fixture();
    store.exec("CREATE TABLE credits (amount TEXT NOT NULL)");
    let failOn: bigint | undefined = 2n;
    const handler = (log: FollowedLog) => {
      const amount = BigInt(log.data);
      store.run("INSERT INTO credits (amount) VALUES (?)", amount.toString());
      if (amount === failOn) throw new Error("crash mid-log");
    };
    await token.mint(alice.address, 1n);
    await token.mint(alice.address, 2n);
    await networkHelpers.mine(1);
    let caught: unknown;
    try {
      await follower(0, handler, true).poll();
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).message).to.equal("crash mid-log");
    expect(store.all<{ amount: string }>("SELECT amount FROM credits").map((r) => r.amount)).to.deep.equal(["1"]);
    failOn = undefined;
    expect(await follower(0, handler, true).poll()).to.equal(1);
    expect(store.all<{ amount: string }>("SELECT amount FROM credits").map((r) => r.amount)).to.deep.equal(["1", "2"]);
  });

  it("in atomic mode, a range longer than one transaction's logs resumes after the last committed log", async function () {
    const { token, alice, store, follower } = await fixture();
    store.exec("CREATE TABLE credits (amount TEXT NOT NULL)");
    const count = ATOMIC_LOGS_PER_TRANSACTION + 3;
    // The first log of the second transaction fails: the first transaction's checkpoint must not be the range's end.
    const failOn = BigInt(ATOMIC_LOGS_PER_TRANSACTION + 1);
    let failing = true;
    const handler = (log: FollowedLog) => {
      const amount = BigInt(log.data);
      if (failing && amount === failOn) throw new Error("crash in the second transaction");
      store.run("INSERT INTO credits (amount) VALUES (?)", amount.toString());
    };
    const mints = [];
    for (let amount = 1; amount <= count; amount += 1) mints.push(await token.mint(alice.address, BigInt(amount)));
    const lastBlock = (await mints.at(-1)!.wait())!.blockNumber;
    const reader = follower(0, handler, true);
    let caught: unknown;
    try {
      await reader.poll();
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).message).to.equal("crash in the second transaction");
    const credited = () => store.all<{ amount: string }>("SELECT amount FROM credits").map((r) => Number(r.amount));
    // The first transaction's logs are in, with the checkpoint at the last of them.
    expect(credited()).to.deep.equal(Array.from({ length: Number(failOn) - 1 }, (_, i) => i + 1));
    const failedReceipt = await mints[Number(failOn) - 1]!.wait();
    expect(reader.checkpoint().nextBlock).to.equal(failedReceipt!.blockNumber - 1);
    failing = false;
    expect(await reader.poll()).to.equal(count - Number(failOn) + 1);
    expect(credited()).to.deep.equal(Array.from({ length: count }, (_, i) => i + 1));
    expect(reader.checkpoint()).to.deep.include({ nextBlock: lastBlock + 1, lastLogIndex: -1 });
  });

  it("in atomic mode, refuses an asynchronous handler", async function () {
    const { token, alice, follower } = await fixture();
    await token.mint(alice.address, 1n);
    let caught: unknown;
    try {
      await follower(0, async () => undefined, true).poll();
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(EventFollowerConfigError);
  });

  it("in the default mode, retries from the log whose handler failed", async function () {
    const { token, alice, follower } = await fixture();
    const handled: bigint[] = [];
    let fail = true;
    const handler = async (log: FollowedLog) => {
      const amount = BigInt(log.data);
      if (amount === 2n && fail) throw new Error("rpc down");
      handled.push(amount);
    };
    for (const amount of [1n, 2n, 3n]) await token.mint(alice.address, amount);
    await follower(0, handler)
      .poll()
      .catch(() => undefined);
    fail = false;
    await follower(0, handler).poll();
    expect(handled).to.deep.equal([1n, 2n, 3n]);
  });

  it("runs in the background until stopped", async function () {
    const { token, alice, store, ethers, seen } = await fixture();
    const errors: unknown[] = [];
    const reader = new ConfirmedEventFollower({
      provider: ethers.provider,
      store,
      name: "bg",
      filter: { address: token.target as string },
      confirmations: 0,
      fromBlock: 0,
      pollIntervalMs: 20,
      handler: (log) => void seen.push({ amount: BigInt(log.data), block: log.blockNumber, index: log.index }),
      onError: (error) => errors.push(error),
    });
    reader.start();
    await token.mint(alice.address, 9n);
    const deadline = Date.now() + 5_000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await reader.stop();
    expect(seen.map((s) => s.amount)).to.deep.equal([9n]);
    expect(errors).to.deep.equal([]);
  });

  it("rejects a negative confirmation depth", async function () {
    const { ethers, store } = await fixture();
    expect(
      () =>
        new ConfirmedEventFollower({
          provider: ethers.provider,
          store,
          name: "x",
          filter: {},
          confirmations: -1,
          fromBlock: 0,
          handler: () => undefined,
        }),
    )
      .to.throw(EventFollowerConfigError)
      .with.property("code", "FOLLOWER_BAD_CONFIRMATIONS");
  });
});
