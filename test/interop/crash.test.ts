import path from "node:path";

import { expect } from "chai";
import type { Wallet } from "ethers";

import { mined } from "../../src/chain/receipts.js";
import { Attester } from "../../src/interop/attester.js";
import {
  attestationDigest,
  attestedGatewayDomain,
  MESSAGE_DELIVERED,
  MESSAGE_POSTED,
  messageFromLog,
} from "../../src/interop/messages.js";
import { interopGatewayDomain, PAYLOAD_TYPES, payloadSchema, payloadStruct } from "../../src/interop/payload.js";
import { Store } from "../../src/store/store.js";
import {
  IInteropGateway__factory,
  RecordingRecipient__factory,
  RefundableSender__factory,
  RevertingRecipient__factory,
  type RecordingRecipient,
  type RefundableSender,
  type RevertingRecipient,
} from "../../typechain-types/index.js";
import { freePort } from "../helpers/processes.js";
import { KEYS, REFUND_DELAY, startInteropChains, testKey, type InteropFixture, type TestChain } from "./fixture.js";
import { advance, deadlineAttribute, erc7930, post, tempDir, waitFor } from "./helpers.js";
import type { ProcessConfig } from "./interop-process.js";
import { ServiceProcess } from "./service-process.js";

interface RelayedJson {
  state: string;
  sends: Array<{ tx: string; action: string; outcome: string | null }>;
}

/**
 * The relayer, an attester and the API gateway each run as their own process
 * against two Anvil chains, and are killed with SIGKILL at every step of a
 * message's or a payload's life (the process kills itself at the exact point),
 * and from outside at random moments; restarted, every message is delivered
 * (or refunded) exactly once, with exactly one transaction of each kind.
 */
describe("interop: services killed at every step", function () {
  this.timeout(300_000);
  let fixture: InteropFixture;
  let a: TestChain;
  let b: TestChain;
  let temp: ReturnType<typeof tempDir>;
  let recording: RecordingRecipient;
  let reverting: RevertingRecipient;
  let refundable: RefundableSender;
  const attesters: Attester[] = [];
  const stores: Store[] = [];
  const processes: ServiceProcess[] = [];
  let relayer: ServiceProcess;

  function processConfig(role: ProcessConfig["role"], name: string, key: Wallet, port: number): ProcessConfig {
    return {
      role,
      name,
      chains: fixture.config().map((chain) => ({ ...chain, chainId: chain.chainId.toString() })),
      nodes: Object.fromEntries(fixture.chains.map((chain) => [chain.chainId.toString(), [chain.url]])),
      key: key.privateKey,
      store: path.join(temp.dir, `${name}.sqlite`),
      port,
      attesters: attesters.map((made) => made.url),
    };
  }

  function spawned(config: ProcessConfig): ServiceProcess {
    const made = new ServiceProcess(config);
    processes.push(made);
    return made;
  }

  async function relayed(id: string): Promise<RelayedJson | undefined> {
    const reply = await fetch(`${relayer.url}/messages/${id}`);
    return reply.status === 200 ? ((await reply.json()) as RelayedJson) : (await reply.arrayBuffer(), undefined);
  }

  async function deliveredOnce(id: string): Promise<void> {
    const logs = await b.provider.getLogs({
      address: b.gateway.target as string,
      topics: [MESSAGE_DELIVERED, id],
      fromBlock: 0,
    });
    expect(logs, `deliveries of ${id}`).to.have.length(1);
    const kept = (await relayed(id))!;
    expect(kept.state).to.equal("delivered");
    // One transaction: a deliver, or a deliverBatch it was a member of.
    expect(kept.sends, `${id}: ${relayer.output.slice(-3000)}`).to.have.length(1);
    expect(["deliver", "deliverBatch"], `${id}: ${relayer.output.slice(-3000)}`).to.include(kept.sends[0]!.action);
  }

  /** Posts `count` messages and waits until every attester has signed each (so they are ready together). */
  async function postAttested(count: number): Promise<string[]> {
    const alice = KEYS.alice.connect(a.provider);
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) ids.push((await post(a, alice, b, recording.target as string)).id);
    for (const id of ids)
      for (const made of attesters) await waitFor(`${made.name} signing ${id}`, () => made.attestation(id));
    return ids;
  }

  before(async function () {
    temp = tempDir("interop-crash-");
    fixture = await startInteropChains();
    [a, b] = fixture.chains;
    const nodes = fixture.nodes();
    recording = await (await new RecordingRecipient__factory(b.admin).deploy()).waitForDeployment();
    reverting = await (await new RevertingRecipient__factory(b.admin).deploy(0)).waitForDeployment();
    refundable = await (await new RefundableSender__factory(a.admin).deploy(a.gateway.target)).waitForDeployment();
    for (const [index, key] of KEYS.attesters.entries()) {
      const store = Store.open({ path: path.join(temp.dir, `attester-${index}.sqlite`) });
      stores.push(store);
      const made = new Attester({
        name: `attester-${index}`,
        key,
        store,
        nodes,
        chains: fixture.config(),
        port: await freePort(),
        pollIntervalMs: 50,
      });
      attesters.push(made);
      await made.start();
    }
    relayer = spawned(processConfig("relayer", "relayer", testKey(12), await freePort()));
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") for (const made of processes) console.log(made.output.slice(-4000));
    await Promise.all(processes.map((made) => made.kill()));
  });

  after(async function () {
    await Promise.allSettled(processes.map((made) => made.kill()));
    for (const made of attesters) await made.stop();
    for (const store of stores) store.close();
    await fixture?.stop();
    temp?.remove();
  });

  it("relayer killed at each step of a delivery: every message delivered once, by one transaction", async function () {
    const alice = KEYS.alice.connect(a.provider);
    const ids: string[] = [];
    for (const point of ["follow:", "deliver:recorded", "deliver:sent", "deliver:mined"]) {
      ids.push((await post(a, alice, b, recording.target as string)).id);
      await relayer.crashAt(point);
    }
    await relayer.start();
    for (const id of ids)
      await waitFor(`delivery of ${id}`, async () => (await relayed(id))?.state === "delivered", 60_000);
    for (const id of ids) await deliveredOnce(id);
    expect(await recording.count()).to.equal(BigInt(ids.length));
    expect(relayer.starts).to.equal(5);
  });

  it("relayer killed at each step of a batch: every member delivered once, by the one deliverBatch", async function () {
    const before = await recording.count();
    const batches: string[][] = [];
    for (const point of ["deliver:recorded", "deliver:sent", "deliver:mined"]) {
      // Ready together while the relayer is down: its first round sends them in one deliverBatch.
      batches.push(await postAttested(3));
      await relayer.crashAt(point);
    }
    await relayer.start();
    const ids = batches.flat();
    for (const id of ids)
      await waitFor(`delivery of ${id}`, async () => (await relayed(id))?.state === "delivered", 60_000);
    for (const id of ids) await deliveredOnce(id);
    for (const batch of batches) {
      const sends = await Promise.all(batch.map(async (id) => (await relayed(id))!.sends[0]!));
      expect(
        sends.map((send) => send.action),
        relayer.output.slice(-3000),
      ).to.deep.equal(Array(3).fill("deliverBatch"));
      expect(new Set(sends.map((send) => send.tx)).size, "one transaction per batch").to.equal(1);
    }
    expect(await recording.count()).to.equal(before + BigInt(ids.length));
  });

  it("a delivery whose transaction stays pending is never sent again, across a crash and many rounds", async function () {
    await b.provider.send("evm_setAutomine", [false]);
    try {
      const alice = KEYS.alice.connect(a.provider);
      const { id } = await post(a, alice, b, recording.target as string);
      await relayer.crashAt("deliver:sent");
      await relayer.start();
      // Rounds go by while the transaction waits in the pool.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect((await relayed(id))!.sends).to.have.length(1);
      expect((await relayed(id))!.state).to.equal("open");
      await b.provider.send("evm_mine", []);
      await waitFor(`delivery of ${id}`, async () => (await relayed(id))?.state === "delivered", 30_000);
      await deliveredOnce(id);
    } finally {
      await b.provider.send("evm_setAutomine", [true]);
    }
  });

  it("relayer killed at each step of a refund: refunded once, by one transaction each", async function () {
    const ids: string[] = [];
    for (const point of ["refund:recorded", "refund:sent", "refund:mined"]) {
      // A message whose recipient always fails: delivered as Failed, then expired.
      const now = BigInt((await a.provider.getBlock("latest"))!.timestamp);
      const receipt = await mined(
        await refundable.post(erc7930(b.chainId, reverting.target as string), "0x01", [deadlineAttribute(now + 60n)]),
      );
      const log = receipt.logs.find((entry) => entry.topics[0] === MESSAGE_POSTED)!;
      const { id } = messageFromLog(log, a.chainId, a.gateway.target as string);
      ids.push(id);
      await relayer.start();
      await waitFor(`${id} failing`, async () => (await relayed(id))?.sends.length);
      await relayer.stop();
      await advance([a, b], 61n + REFUND_DELAY);
      await relayer.crashAt(point);
    }
    await relayer.start();
    for (const id of ids)
      await waitFor(`refund of ${id}`, async () => (await relayed(id))?.state === "refunded", 60_000);
    expect(await refundable.refunds()).to.equal(BigInt(ids.length));
    for (const id of ids) {
      const refunds = (await relayed(id))!.sends.filter((send) => send.action === "refund");
      expect(refunds, id).to.have.length(1);
      expect(await a.gateway.statusOf(id)).to.equal(2n);
    }
  });

  it("relayer killed from outside at random moments while messages flow", async function () {
    await relayer.start();
    const alice = KEYS.alice.connect(a.provider);
    const ids: string[] = [];
    const killer = (async () => {
      for (let round = 0; round < 4; round += 1) {
        await new Promise((resolve) => setTimeout(resolve, 200 + Math.floor(Math.random() * 500)));
        await relayer.kill();
        await relayer.start();
      }
    })();
    for (let i = 0; i < 6; i += 1) {
      ids.push((await post(a, alice, b, recording.target as string)).id);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    await killer;
    for (const id of ids)
      await waitFor(`delivery of ${id}`, async () => (await relayed(id))?.state === "delivered", 60_000);
    for (const id of ids) await deliveredOnce(id);
  });

  it("an attester killed right after signing serves the same signature when it comes back", async function () {
    const key = testKey(13);
    const attester = spawned(processConfig("attester", "attester-crash", key, await freePort()));
    const alice = KEYS.alice.connect(a.provider);
    const { id } = await post(a, alice, b, recording.target as string);
    await attester.crashAt("signed:");
    await attester.start();
    const reply = await waitFor("its attestation", async () => {
      const answer = await fetch(`${attester.url}/attestations/${id}`);
      return answer.status === 200 ? ((await answer.json()) as { signature: string; epoch: number }) : undefined;
    });
    const digest = attestationDigest(
      id,
      BigInt(reply.epoch),
      attestedGatewayDomain(b.chainId, b.gateway.target as string),
    );
    expect(reply.signature).to.equal(key.signingKey.sign(digest).serialized);
    expect(digest).to.equal(await b.gateway.attestationDigest(id, reply.epoch));
  });

  it("API gateway killed at each step of a submission: each payload executed exactly once", async function () {
    const api = spawned(processConfig("api", "api", KEYS.relayer, await freePort()));
    const alice = KEYS.alice;
    await mined(await a.token.mint(alice.address, 1_000_000n));
    await mined(await a.token.connect(alice.connect(a.provider)).approve(a.interop.target, 2n ** 255n));
    const bobBefore = await a.token.balanceOf(KEYS.bob.address);
    const sentBefore = await a.provider.getTransactionCount(KEYS.relayer.address);
    let nonce = 1_000n;
    const payload = () => ({
      version: 1,
      sourceChain: `eip155:${a.chainId}`,
      destinationChain: `eip155:${a.chainId}`,
      kind: "Transfer",
      target: KEYS.bob.address,
      asset: a.token.target,
      amount: "10",
      data: "0x",
      nonce: String((nonce += 1n)),
      deadline: 4_000_000_000,
    });
    const submit = async (json: Record<string, unknown>) => {
      const signature = await alice.signTypedData(
        interopGatewayDomain(a.chainId, a.interop.target as string),
        PAYLOAD_TYPES,
        payloadStruct(payloadSchema.parse(json)),
      );
      const reply = await fetch(`${api.url}/transactions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ payload: json, signer: alice.address, signature }),
      });
      return { status: reply.status, body: (await reply.json()) as { id: string; status: string } };
    };
    const payloads: Array<Record<string, unknown>> = [];
    // Each run is told to die at the next point; every payload so far is (re)submitted to it, as a client
    // that saw no answer would. The first dies after storing and before answering.
    for (const point of ["accept:", "execute:recorded", "execute:sent", "execute:mined"]) {
      payloads.push(payload());
      await api.start(point);
      for (const json of payloads) {
        const reply = await submit(json).catch(() => undefined);
        if (reply === undefined) break;
        expect([200, 202], JSON.stringify(reply.body)).to.include(reply.status);
      }
      const exit = await api.exited(30_000);
      expect(exit.signal, api.output.slice(-3000)).to.equal("SIGKILL");
    }
    await api.start();
    const ids: string[] = [];
    for (const json of payloads) {
      const reply = await submit(json);
      expect([200, 202]).to.include(reply.status);
      ids.push(reply.body.id);
    }
    for (const id of ids) {
      await waitFor(
        `execution of ${id}`,
        async () => {
          const reply = await fetch(`${api.url}/transactions/${id}`);
          return ((await reply.json()) as { status: string }).status === "executed";
        },
        60_000,
      );
    }
    const executed = IInteropGateway__factory.createInterface().getEvent("Executed").topicHash;
    for (const id of ids) {
      const logs = await a.provider.getLogs({
        address: a.interop.target as string,
        topics: [executed, id],
        fromBlock: 0,
      });
      expect(logs, id).to.have.length(1);
    }
    expect(await a.token.balanceOf(KEYS.bob.address)).to.equal(bobBefore + 10n * BigInt(ids.length));
    // At most one transaction per payload (payloads waiting together go in one executeBatch): nothing sent twice.
    const sent = (await a.provider.getTransactionCount(KEYS.relayer.address)) - sentBefore;
    expect(sent).to.be.within(1, ids.length);
  });

  it("API gateway killed at each step of a batch: each payload of the batch executed exactly once", async function () {
    const api = spawned(processConfig("api", "api-batch", KEYS.relayer, await freePort()));
    const alice = KEYS.alice;
    await mined(await a.token.mint(alice.address, 1_000_000n));
    await mined(await a.token.connect(alice.connect(a.provider)).approve(a.interop.target, 2n ** 255n));
    const bobBefore = await a.token.balanceOf(KEYS.bob.address);
    const sentBefore = await a.provider.getTransactionCount(KEYS.relayer.address);
    const submit = async (nonce: number) => {
      const json = {
        version: 1,
        sourceChain: `eip155:${a.chainId}`,
        destinationChain: `eip155:${a.chainId}`,
        kind: "Transfer",
        target: KEYS.bob.address,
        asset: a.token.target,
        amount: "7",
        data: "0x",
        nonce: String(nonce),
        deadline: 4_000_000_000,
      };
      const signature = await alice.signTypedData(
        interopGatewayDomain(a.chainId, a.interop.target as string),
        PAYLOAD_TYPES,
        payloadStruct(payloadSchema.parse(json)),
      );
      return fetch(`${api.url}/transactions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ payload: json, signer: alice.address, signature }),
      }).then(
        async (reply) => ((await reply.json()) as { id: string }).id,
        () => undefined,
      );
    };
    // Four runs each store one payload and die before answering (and before any round can send it).
    const nonces = [5_001, 5_002, 5_003, 5_004];
    for (const nonce of nonces) {
      await api.start("accept:");
      await submit(nonce);
      expect((await api.exited(30_000)).signal).to.equal("SIGKILL");
    }
    // The next run's first round sends all four in one executeBatch and dies once it is stored; the next dies
    // when it is mined, before its logs are read.
    await api.crashAt("execute:recorded");
    await api.crashAt("execute:mined");
    await api.start();
    const ids = (await Promise.all(nonces.map((nonce) => submit(nonce)))) as string[];
    const txs = new Set<string>();
    for (const id of ids) {
      const view = await waitFor(
        `execution of ${id}`,
        async () => {
          const body = (await (await fetch(`${api.url}/transactions/${id}`)).json()) as {
            status: string;
            source: { txHash: string };
          };
          return body.status === "executed" ? body : undefined;
        },
        60_000,
      );
      txs.add(view.source.txHash);
      expect(
        await a.provider.getLogs({
          address: a.interop.target as string,
          topics: [IInteropGateway__factory.createInterface().getEvent("Executed").topicHash, id],
          fromBlock: 0,
        }),
      ).to.have.length(1);
    }
    expect(txs.size, api.output.slice(-3000)).to.equal(1);
    expect(api.output).to.include("crashing at execute:recorded").and.to.include("crashing at execute:mined");
    expect(await a.provider.getTransactionCount(KEYS.relayer.address)).to.equal(sentBefore + 1);
    expect(await a.token.balanceOf(KEYS.bob.address)).to.equal(bobBefore + 28n);
  });
});
