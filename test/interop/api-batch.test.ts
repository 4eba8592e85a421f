import path from "node:path";

import { expect } from "chai";
import { encodeBytes32String, type Wallet } from "ethers";

import { mined } from "../../src/chain/receipts.js";
import { ApiGateway } from "../../src/interop/api-gateway.js";
import { MESSAGE_POSTED, messageFromLog } from "../../src/interop/messages.js";
import { NodeDirectory } from "../../src/interop/nodes.js";
import {
  interopGatewayDomain,
  PAYLOAD_TYPES,
  payloadSchema,
  payloadStruct,
  type Submission,
} from "../../src/interop/payload.js";
import { SignedSender } from "../../src/interop/sender.js";
import { Store } from "../../src/store/store.js";
import { IInteropGateway__factory } from "../../typechain-types/index.js";
import { KEYS, startInteropChains, type InteropFixture, type TestChain } from "./fixture.js";
import { tempDir } from "./helpers.js";

const GATEWAY = IInteropGateway__factory.createInterface();
const EXECUTE_BATCH = GATEWAY.getFunction("executeBatch")!.selector;
const EXECUTED = GATEWAY.getEvent("Executed").topicHash;

/**
 * The API gateway's submitter batches: the payloads accepted when a round starts go out in one `executeBatch`
 * (up to `batchSize`), each payload's outcome is read from the receipt's logs, and a payload that the mined batch
 * skipped, front-ran or dropped is never executed twice. The gateway here is not started: the test drives its rounds
 * (`poll`) and submits straight to `submit`, so what lands in one round is exact.
 */
describe("interop: the API gateway sends accepted payloads in batches", function () {
  this.timeout(180_000);
  let fixture: InteropFixture;
  let a: TestChain;
  let temp: ReturnType<typeof tempDir>;
  let nodes: NodeDirectory;
  let nonce = 1n;
  const opened: Array<{ store: Store }> = [];
  const lines: string[] = [];
  const alice = KEYS.alice;
  const mallory = KEYS.mallory;
  const bob = KEYS.bob;

  function gatewayWith(batchSize?: number): ApiGateway {
    const store = Store.open({ path: path.join(temp.dir, `api-${opened.length}.sqlite`) });
    opened.push({ store });
    return new ApiGateway({
      store,
      nodes,
      chains: fixture.config(),
      sender: new SignedSender({ nodes, signer: KEYS.relayer }),
      port: 0,
      ...(batchSize === undefined ? {} : { batchSize }),
      log: (line) => lines.push(line),
    });
  }

  async function signed(
    key: Wallet,
    change: { kind?: "Transfer" | "CrossChain"; amount?: string } = {},
  ): Promise<Submission> {
    const crossChain = change.kind === "CrossChain";
    // A cross-chain payload's deadline is its message's: within the AttestedGateway's time to live.
    const now = (await a.provider.getBlock("latest"))!.timestamp;
    const payload = payloadSchema.parse({
      version: 1,
      sourceChain: `eip155:${a.chainId}`,
      destinationChain: `eip155:${crossChain ? fixture.chains[1].chainId : a.chainId}`,
      kind: change.kind ?? "Transfer",
      target: bob.address,
      asset: crossChain ? a.lane!.bankToken.target : a.token.target,
      amount: change.amount ?? "100",
      data: "0x",
      nonce: String(nonce++),
      deadline: crossChain ? now + 3_000 : 4_000_000_000,
    });
    const signature = await key.signTypedData(
      interopGatewayDomain(a.chainId, a.interop.target as string),
      PAYLOAD_TYPES,
      payloadStruct(payload),
    );
    return { payload, signer: key.address, signature };
  }

  async function accept(api: ApiGateway, submissions: readonly Submission[]): Promise<string[]> {
    const ids: string[] = [];
    for (const submission of submissions) {
      const { status, view } = await api.submit(submission);
      expect(status).to.equal(202);
      ids.push(view.id);
    }
    return ids;
  }

  const viewOf = (api: ApiGateway, id: string, signer = alice.address) => api.transaction(id, signer)!;

  async function executedLogs(id: string): Promise<number> {
    return (await a.provider.getLogs({ address: a.interop.target as string, topics: [EXECUTED, id], fromBlock: 0 }))
      .length;
  }

  before(async function () {
    temp = tempDir("interop-api-batch-");
    fixture = await startInteropChains({ lane: true });
    a = fixture.chains[0];
    nodes = fixture.nodes();
    for (const key of [alice, mallory]) {
      const wallet = key.connect(a.provider);
      await mined(await a.token.mint(key.address, 1_000_000n));
      await mined(await a.token.connect(wallet).approve(a.interop.target, 2n ** 255n));
      await mined(await a.lane!.bankToken.mint(key.address, 1_000_000n, encodeBytes32String("deposit")));
      await mined(await a.lane!.bankToken.connect(wallet).approve(a.interop.target, 2n ** 255n));
    }
  });

  afterEach(async function () {
    await a.provider.send("evm_setAutomine", [true]);
    if (this.currentTest?.state === "failed") console.log(lines.slice(-30).join("\n"));
  });

  after(async function () {
    for (const { store } of opened) store.close();
    await fixture?.stop();
    temp?.remove();
  });

  it("sends what a round finds in one executeBatch, and reads each payload's outcome from the receipt", async function () {
    const api = gatewayWith();
    const submissions = [
      await signed(alice),
      await signed(alice, { kind: "CrossChain", amount: "300" }),
      await signed(mallory, { kind: "CrossChain", amount: "400" }),
      await signed(mallory),
      await signed(alice, { kind: "CrossChain", amount: "500" }),
    ];
    const ids = await accept(api, submissions);
    const sentBefore = await a.provider.getTransactionCount(KEYS.relayer.address);
    const bobBefore = await a.token.balanceOf(bob.address);
    const laneBefore = await a.lane!.bankToken.totalSupply();
    await api.poll(); // sends
    await api.poll(); // follows up
    expect(await a.provider.getTransactionCount(KEYS.relayer.address)).to.equal(sentBefore + 1);
    const views = ids.map((id, i) => viewOf(api, id, submissions[i]!.signer));
    expect(views.map((view) => view.status)).to.deep.equal(Array(5).fill("executed"));
    const hash = views[0]!.source.txHash!;
    expect(new Set(views.map((view) => view.source.txHash))).to.deep.equal(new Set([hash]));
    const tx = (await a.provider.getTransaction(hash))!;
    expect(tx.data.slice(0, 10)).to.equal(EXECUTE_BATCH);
    expect(tx.to).to.equal(a.interop.target);
    // Each cross-chain payload names its own message: the one its Executed log names, posted in that receipt.
    const receipt = (await a.provider.getTransactionReceipt(hash))!;
    const posted = receipt.logs
      .filter((log) => log.topics[0] === MESSAGE_POSTED)
      .map((log) => messageFromLog(log, a.chainId, a.gateway.target as string));
    for (const [i, view] of views.entries()) {
      if (submissions[i]!.payload.kind !== "CrossChain") {
        expect(view.message).to.equal(null);
        continue;
      }
      const found = posted.find((message) => message.id === view.message!.id)!;
      expect(found, view.id).to.not.equal(undefined);
      expect(found.message.payload).to.include(submissions[i]!.payload.amount.toString(16).padStart(64, "0"));
    }
    expect(new Set(views.filter((view) => view.message !== null).map((view) => view.message!.id)).size).to.equal(3);
    for (const id of ids) expect(await executedLogs(id)).to.equal(1);
    expect(await a.token.balanceOf(bob.address)).to.equal(bobBefore + 200n);
    expect(await a.lane!.bankToken.totalSupply()).to.equal(laneBefore - 1_200n);
  });

  it("sends at most batchSize payloads per transaction, and a lone payload at once with execute", async function () {
    const api = gatewayWith(2);
    const submissions = await Promise.all([1, 2, 3, 4, 5].map(() => signed(alice)));
    const ids = await accept(api, submissions);
    await api.poll();
    await api.poll();
    const hashes = ids.map((id) => viewOf(api, id).source.txHash);
    expect(ids.map((id) => viewOf(api, id).status)).to.deep.equal(Array(5).fill("executed"));
    expect(new Set(hashes).size).to.equal(3);
    expect(hashes[0]).to.equal(hashes[1]);
    expect(hashes[2]).to.equal(hashes[3]);
    // The fifth went alone: a plain execute.
    const lone = (await a.provider.getTransaction(hashes[4]!))!;
    expect(lone.data.slice(0, 10)).to.equal(GATEWAY.getFunction("execute")!.selector);
  });

  it("test_RevertWhen_ItemFailsInTheMinedBatch: PayloadFailed's custom error is the reason, the others execute", async function () {
    const api = gatewayWith();
    const submissions = [await signed(alice), await signed(mallory), await signed(alice)];
    const ids = await accept(api, submissions);
    await a.provider.send("evm_setAutomine", [false]);
    await api.poll(); // the batch waits in the pool
    expect(viewOf(api, ids[0]!).status).to.equal("submitted");
    // Alice withdraws her approval in the same block, ahead of the batch (a higher tip).
    await a.token
      .connect(alice.connect(a.provider))
      .approve(a.interop.target, 0, { maxPriorityFeePerGas: 50_000_000_000n, maxFeePerGas: 100_000_000_000n });
    await a.provider.send("evm_mine", []);
    await a.provider.send("evm_setAutomine", [true]);
    await api.poll();
    const [first, theirs, second] = [viewOf(api, ids[0]!), viewOf(api, ids[1]!, mallory.address), viewOf(api, ids[2]!)];
    expect(theirs.status).to.equal("executed");
    for (const view of [first, second]) {
      expect(view.status).to.equal("failed");
      expect(view.reason).to.match(/^INSUFFICIENT_ALLOWANCE: .*ERC20InsufficientAllowance\(/);
    }
    expect(await a.interop.isNonceUsed(alice.address, submissions[0]!.payload.nonce)).to.equal(false);
    await mined(await a.token.connect(alice.connect(a.provider)).approve(a.interop.target, 2n ** 255n));
  });

  it("test_RevertWhen_BatchItemFrontRun: the front-runner's execution is recorded, nothing runs twice", async function () {
    const api = gatewayWith();
    const submissions = [await signed(alice), await signed(alice)];
    const ids = await accept(api, submissions);
    await a.provider.send("evm_setAutomine", [false]);
    await api.poll();
    const front = await a.interop
      .connect(mallory.connect(a.provider))
      .execute(payloadStruct(submissions[0]!.payload), alice.address, submissions[0]!.signature, {
        // The pending block already holds the batch: no estimate against it.
        gasLimit: 500_000n,
        maxPriorityFeePerGas: 50_000_000_000n,
        maxFeePerGas: 100_000_000_000n,
      });
    await a.provider.send("evm_mine", []);
    await a.provider.send("evm_setAutomine", [true]);
    await api.poll(); // the batch's NonceUsed: back to the chain
    await api.poll(); // the chain says: executed, by mallory's transaction
    expect(viewOf(api, ids[0]!).status).to.equal("executed");
    expect(viewOf(api, ids[0]!).source.txHash).to.equal(front.hash);
    expect(viewOf(api, ids[1]!).status).to.equal("executed");
    for (const id of ids) expect(await executedLogs(id)).to.equal(1);
  });

  it("test_RevertWhen_BatchDropped: its payloads are read from the chain again, each executed once", async function () {
    const api = gatewayWith();
    const submissions = [await signed(alice), await signed(alice), await signed(mallory)];
    const ids = await accept(api, submissions);
    await a.provider.send("evm_setAutomine", [false]);
    await api.poll();
    const batch = viewOf(api, ids[0]!).source.txHash!;
    const { nonce: batchNonce } = (await a.provider.getTransaction(batch))!;
    // The batch leaves the pool and its nonce goes to another transaction of the key; one payload is front-run.
    await a.provider.send("anvil_dropTransaction", [batch]);
    const relayer = KEYS.relayer.connect(a.provider);
    await relayer.sendTransaction({ to: relayer.address, value: 0, nonce: batchNonce });
    await a.interop
      .connect(mallory.connect(a.provider))
      .execute(payloadStruct(submissions[1]!.payload), alice.address, submissions[1]!.signature);
    await a.provider.send("evm_mine", []);
    await a.provider.send("evm_setAutomine", [true]);
    expect(await a.provider.getTransactionReceipt(batch)).to.equal(null);
    await api.poll(); // dropped: back to accepted
    await api.poll(); // the chain: one executed by mallory; the other two sent again
    await api.poll();
    for (const [i, id] of ids.entries()) {
      expect(viewOf(api, id, submissions[i]!.signer).status, id).to.equal("executed");
      expect(await executedLogs(id)).to.equal(1);
    }
  });
});
