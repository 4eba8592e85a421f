import { expect } from "chai";
import { JsonRpcProvider, Network, Wallet, parseEther, type Provider } from "ethers";
import { network } from "hardhat";

import { startAnvil, type Anvil } from "../../src/chain/devnet.js";
import { ChainAnswerError, readBlockHash, readLogs, readReceipt } from "../../src/chain/raw-reads.js";
import { SoladyERC20__factory } from "../../typechain-types/index.js";
import { freePort } from "../helpers/processes.js";

/**
 * The raw reads against ethers' own parsing of the same node's answers (an implementation this project did not
 * write), on two nodes: Hardhat's in-process EDR and Anvil.
 */
async function agreesWithEthers(provider: Provider, send: (to: string, data: string) => Promise<string>) {
  const token = SoladyERC20__factory.createInterface();
  const address = await deploy(provider);
  const holder = Wallet.createRandom().address;
  // Two mints, in two blocks.
  const hashes = [
    await send(address, token.encodeFunctionData("mint", [holder, 5n])),
    await send(address, token.encodeFunctionData("mint", [holder, 7n])),
  ];
  const fromBlock = (await provider.getTransactionReceipt(hashes[0]!))!.blockNumber;
  const toBlock = (await provider.getTransactionReceipt(hashes[1]!))!.blockNumber;
  const topic = token.getEvent("Transfer").topicHash;
  const mine = await readLogs(provider, { address, topics: [topic], fromBlock, toBlock });
  const theirs = await provider.getLogs({ address, topics: [topic], fromBlock, toBlock });
  expect(mine.length).to.equal(2);
  expect(mine).to.deep.equal(
    theirs.map((log) => ({
      address: log.address,
      topics: [...log.topics],
      data: log.data,
      blockNumber: log.blockNumber,
      blockHash: log.blockHash,
      transactionHash: log.transactionHash,
      transactionIndex: log.transactionIndex,
      index: log.index,
      removed: log.removed,
    })),
  );
  // Decoded by ethers from the raw fields: the amounts minted.
  expect(mine.map((log) => token.parseLog(log)!.args.amount as bigint)).to.deep.equal([5n, 7n]);
  // Topics as a list of alternatives, and an address list.
  expect(await readLogs(provider, { address: [address], topics: [[topic]], fromBlock, toBlock })).to.deep.equal(mine);
  const approval = token.getEvent("Approval").topicHash;
  expect(await readLogs(provider, { address, topics: [approval], fromBlock, toBlock })).to.deep.equal([]);

  for (const hash of hashes) {
    const receipt = (await provider.getTransactionReceipt(hash))!;
    expect(await readReceipt(provider, hash)).to.deep.equal({
      hash: receipt.hash,
      status: receipt.status,
      blockNumber: receipt.blockNumber,
      blockHash: receipt.blockHash,
      gasUsed: receipt.gasUsed,
    });
  }
  expect(await readReceipt(provider, `0x${"ab".repeat(32)}`)).to.equal(null);
  expect(await readBlockHash(provider, toBlock)).to.equal((await provider.getBlock(toBlock))!.hash);
  expect(await readBlockHash(provider, toBlock + 1_000)).to.equal(null);
}

let deploy: (provider: Provider) => Promise<string>;

describe("chain: raw reads (logs, receipts, block hashes) agree with ethers' parsing", function () {
  this.timeout(60_000);

  it("on Hardhat's in-process network", async function () {
    const { ethers } = await network.create("hardhat");
    const [signer] = await ethers.getSigners();
    deploy = async () => (await (await ethers.deployContract("SoladyERC20")).getAddress()) as string;
    await agreesWithEthers(ethers.provider, async (to, data) => {
      const tx = await signer!.sendTransaction({ to, data });
      await tx.wait();
      return tx.hash;
    });
  });

  it("on Anvil", async function () {
    const port = await freePort();
    let anvil: Anvil | undefined;
    let provider: JsonRpcProvider | undefined;
    try {
      anvil = await startAnvil({ endpoint: { host: "127.0.0.1", port, url: `http://127.0.0.1:${port}` } });
      const chain = Network.from(31337);
      provider = new JsonRpcProvider(anvil.url, chain, { staticNetwork: chain, cacheTimeout: -1 });
      const wallet = Wallet.createRandom().connect(provider);
      await provider.send("anvil_setBalance", [wallet.address, "0x" + parseEther("1").toString(16)]);
      deploy = async () => {
        const contract = await new SoladyERC20__factory(wallet).deploy();
        await contract.waitForDeployment();
        return contract.getAddress();
      };
      await agreesWithEthers(provider, async (to, data) => {
        const tx = await wallet.sendTransaction({ to, data });
        await tx.wait();
        return tx.hash;
      });
    } finally {
      provider?.destroy();
      await anvil?.stop();
    }
  });

  it("a provider without send (a scripted one, the interop services' multi-node readers): its own methods, its own log objects", async function () {
    const theLog = { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", topics: [], data: "0x", blockNumber: 3 };
    const asked: unknown[] = [];
    const scripted = {
      send: "not a function",
      getLogs: async (filter: unknown) => (asked.push(filter), [theLog]),
      getBlock: async (number: number) => (number === 3 ? { hash: `0x${"03".repeat(32)}` } : null),
      getTransactionReceipt: async (hash: string) =>
        hash === `0x${"aa".repeat(32)}`
          ? { hash, status: null, blockNumber: 3, blockHash: `0x${"03".repeat(32)}`, gasUsed: 5n }
          : null,
    } as unknown as Provider;
    const logs = await readLogs(scripted, { address: theLog.address, topics: [null], fromBlock: 2, toBlock: 3 });
    expect(logs).to.have.length(1);
    expect(logs[0]).to.equal(theLog);
    expect(asked).to.deep.equal([{ address: theLog.address, topics: [null], fromBlock: 2, toBlock: 3 }]);
    expect(await readBlockHash(scripted, 3)).to.equal(`0x${"03".repeat(32)}`);
    expect(await readBlockHash(scripted, 4)).to.equal(null);
    expect(await readReceipt(scripted, `0x${"aa".repeat(32)}`)).to.deep.equal({
      hash: `0x${"aa".repeat(32)}`,
      status: 0,
      blockNumber: 3,
      blockHash: `0x${"03".repeat(32)}`,
      gasUsed: 5n,
    });
    expect(await readReceipt(scripted, `0x${"bb".repeat(32)}`)).to.equal(null);
  });

  describe("a node whose answer is not JSON-RPC's: CHAIN_BAD_ANSWER, nothing made up", function () {
    const node = (answer: unknown) =>
      ({ send: async () => answer }) as unknown as Provider & { send: (m: string, p: unknown[]) => Promise<unknown> };
    const log = {
      address: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
      topics: [`0x${"11".repeat(32)}`],
      data: "0x",
      blockNumber: "0x2",
      blockHash: `0x${"22".repeat(32)}`,
      transactionHash: `0x${"33".repeat(32)}`,
      transactionIndex: "0x0",
      logIndex: "0x1",
      removed: false,
    };
    const query = { fromBlock: 1, toBlock: 2 };
    const refused = async (promise: Promise<unknown>) => {
      const error = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(ChainAnswerError);
      expect((error as ChainAnswerError).code).to.equal("CHAIN_BAD_ANSWER");
    };

    it("reads a well-formed log (address checksummed, numbers from hex)", async function () {
      expect(await readLogs(node([log]), query)).to.deep.equal([
        {
          address: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
          topics: log.topics,
          data: "0x",
          blockNumber: 2,
          blockHash: log.blockHash,
          transactionHash: log.transactionHash,
          transactionIndex: 0,
          index: 1,
          removed: false,
        },
      ]);
    });

    it("asks the node with the filter given, numbers in hex, and no address when none is given", async function () {
      const calls: Array<{ method: string; params: unknown[] }> = [];
      const recording = {
        send: async (method: string, params: unknown[]) => (calls.push({ method, params }), []),
      } as unknown as Provider;
      const topics = [log.topics[0]!, null, [log.topics[0]!]];
      await readLogs(recording, { address: log.address, topics, fromBlock: 10, toBlock: 255 });
      await readLogs(recording, { topics, fromBlock: 1, toBlock: 1 });
      await readLogs(recording, { address: [log.address], fromBlock: 0, toBlock: 0 });
      expect(calls).to.deep.equal([
        { method: "eth_getLogs", params: [{ address: log.address, topics, fromBlock: "0xa", toBlock: "0xff" }] },
        { method: "eth_getLogs", params: [{ topics, fromBlock: "0x1", toBlock: "0x1" }] },
        { method: "eth_getLogs", params: [{ address: [log.address], fromBlock: "0x0", toBlock: "0x0" }] },
      ]);
    });

    it("a removed log is shown removed", async function () {
      expect((await readLogs(node([{ ...log, removed: true }]), query))[0]!.removed).to.equal(true);
    });

    it("names what was malformed", async function () {
      const error = (await readLogs(node([{ ...log, blockNumber: "2" }]), query).catch(
        (e: unknown) => e,
      )) as ChainAnswerError;
      expect(error.details).to.deep.equal({ what: "a log's block number" });
      const hash = (await readLogs(node([{ ...log, blockHash: "0x" }]), query).catch(
        (e: unknown) => e,
      )) as ChainAnswerError;
      expect(hash.details).to.deep.equal({ what: "a log's block hash" });
    });

    it("no list, a log without topics, a bad number or hash", async function () {
      await refused(readLogs(node([null]), query));
      await refused(readLogs(node([{ ...log, address: undefined }]), query));
      await refused(readLogs(node([{ ...log, data: 7 }]), query));
      // Not a string, though its text would pass: refused.
      await refused(readLogs(node([{ ...log, blockNumber: ["0x2"] }]), query));
      await refused(readLogs(node([{ ...log, blockHash: [log.blockHash] }]), query));
      // Something before or after the hex digits, or too many of them.
      await refused(readLogs(node([{ ...log, blockNumber: "x0x2" }]), query));
      await refused(readLogs(node([{ ...log, blockNumber: "0x2g" }]), query));
      await refused(readLogs(node([{ ...log, blockNumber: "0x12345678901234" }]), query));
      await refused(readLogs(node([{ ...log, blockHash: `z${log.blockHash}` }]), query));
      await refused(readLogs(node([{ ...log, blockHash: `${log.blockHash}00` }]), query));
      await refused(readLogs(node({}), query));
      await refused(readLogs(node([{ ...log, topics: undefined }]), query));
      await refused(readLogs(node([{ ...log, blockNumber: 2 }]), query));
      await refused(readLogs(node([{ ...log, logIndex: "0x" }]), query));
      await refused(readLogs(node([{ ...log, blockHash: "0x12" }]), query));
      await refused(readLogs(node([{ ...log, topics: ["0xzz"] }]), query));
    });

    it("a receipt without status, gas or hash; a block without its hash", async function () {
      const receipt = {
        transactionHash: log.transactionHash,
        status: "0x1",
        blockNumber: "0x2",
        blockHash: log.blockHash,
        gasUsed: "0x5208",
      };
      expect(await readReceipt(node(receipt), log.transactionHash)).to.deep.equal({
        hash: log.transactionHash,
        status: 1,
        blockNumber: 2,
        blockHash: log.blockHash,
        gasUsed: 21_000n,
      });
      await refused(readReceipt(node({ ...receipt, status: undefined }), log.transactionHash));
      await refused(readReceipt(node({ ...receipt, gasUsed: 5 }), log.transactionHash));
      await refused(readReceipt(node({ ...receipt, gasUsed: ["0x5208"] }), log.transactionHash));
      await refused(readReceipt(node({ ...receipt, gasUsed: "x0x5208" }), log.transactionHash));
      await refused(readReceipt(node({ ...receipt, gasUsed: `0x${"1".repeat(65)}` }), log.transactionHash));
      await refused(readReceipt(node({ ...receipt, transactionHash: undefined }), log.transactionHash));
      await refused(readBlockHash(node({ number: "0x2" }), 2));
    });
  });
});
