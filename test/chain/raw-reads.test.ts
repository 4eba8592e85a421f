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

    it("no list, a log without topics, a bad number or hash", async function () {
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
      await refused(readReceipt(node({ ...receipt, transactionHash: undefined }), log.transactionHash));
      await refused(readBlockHash(node({ number: "0x2" }), 2));
    });
  });
});
