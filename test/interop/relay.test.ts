import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

import { expect } from "chai";
import { recoverAddress } from "ethers";

import { mined } from "../../src/chain/receipts.js";
import { Attester } from "../../src/interop/attester.js";
import type { InteropChain } from "../../src/interop/chains.js";
import {
  attestationDigest,
  attestedGatewayDomain,
  MESSAGE_DELIVERED,
  MESSAGE_POSTED,
  messageFromLog,
  messageTuple,
} from "../../src/interop/messages.js";
import type { NodeDirectory } from "../../src/interop/nodes.js";
import { Relayer, type RelayerOptions } from "../../src/interop/relayer.js";
import { SignedSender } from "../../src/interop/sender.js";
import { Store } from "../../src/store/store.js";
import {
  RecordingRecipient__factory,
  RefundableSender__factory,
  RevertingRecipient__factory,
  type RecordingRecipient,
  type RefundableSender,
  type RevertingRecipient,
} from "../../typechain-types/index.js";
import { KEYS, REFUND_DELAY, startInteropChains, type InteropFixture, type TestChain } from "./fixture.js";
import { freePort } from "../helpers/processes.js";
import { advance, deadlineAttribute, erc7930, post, tempDir, waitFor } from "./helpers.js";

const FAST_RETRY = { baseMs: 100, maxMs: 400, factor: 2 };

describe("interop: attesters and the relayer carry messages between two chains", function () {
  this.timeout(180_000);
  let fixture: InteropFixture;
  let a: TestChain;
  let b: TestChain;
  let nodes: NodeDirectory;
  let config: InteropChain[];
  let temp: ReturnType<typeof tempDir>;
  let recording: RecordingRecipient;
  let reverting: RevertingRecipient;
  let refundable: RefundableSender;
  const attesters: Attester[] = [];
  const stores: Store[] = [];
  let relayer: Relayer | undefined;
  const lines: string[] = [];

  function store(name: string): Store {
    const made = Store.open({ path: path.join(temp.dir, `${name}.sqlite`) });
    stores.push(made);
    return made;
  }

  async function attester(
    index: number,
    chains: readonly InteropChain[] = config,
    name = `attester-${index}`,
  ): Promise<Attester> {
    const made = new Attester({
      name,
      key: KEYS.attesters[index]!,
      store: store(name),
      nodes,
      chains,
      // A fixed port: a restarted attester is found where it was.
      port: await freePort(),
      pollIntervalMs: 50,
      log: (line) => lines.push(line),
    });
    attesters.push(made);
    return made;
  }

  async function startRelayer(
    urls: readonly string[],
    name = "relayer",
    options: Partial<Pick<RelayerOptions, "deliveryBatch">> = {},
  ): Promise<Relayer> {
    relayer = new Relayer({
      ...options,
      name,
      store: store(name),
      nodes,
      chains: config,
      sender: new SignedSender({ nodes, signer: KEYS.relayer }),
      attesters: urls,
      pollIntervalMs: 50,
      retry: FAST_RETRY,
      unreachable: FAST_RETRY,
      log: (line) => lines.push(line),
    });
    await relayer.start();
    return relayer;
  }

  async function delivered(id: string): Promise<void> {
    await waitFor(`delivery of ${id}`, () => relayer!.message(id)?.state === "delivered", 60_000);
  }

  before(async function () {
    temp = tempDir("interop-relay-");
    fixture = await startInteropChains({
      stateFiles: [path.join(temp.dir, "a-state.json"), path.join(temp.dir, "b-state.json")],
    });
    [a, b] = fixture.chains;
    nodes = fixture.nodes({ recheckMs: 200 });
    config = fixture.config();
    recording = await (await new RecordingRecipient__factory(b.admin).deploy()).waitForDeployment();
    reverting = await (await new RevertingRecipient__factory(b.admin).deploy(0)).waitForDeployment();
    refundable = await (await new RefundableSender__factory(a.admin).deploy(a.gateway.target)).waitForDeployment();
    for (const index of [0, 1, 2]) await (await attester(index)).start();
  });

  afterEach(async function () {
    await relayer?.stop();
    relayer = undefined;
    if (this.currentTest?.state === "failed") console.log(lines.slice(-40).join("\n"));
  });

  after(async function () {
    await relayer?.stop();
    for (const made of attesters) await made.stop();
    for (const made of stores) made.close();
    await fixture?.stop();
    temp?.remove();
  });

  it("delivers once two of three attesters signed, in the destination's domain, for its current epoch", async function () {
    const alice = KEYS.alice.connect(a.provider);
    const { id } = await post(a, alice, b, recording.target as string, { payload: "0xabcdef" });
    // Every attester signs what the destination gateway itself computes as the digest.
    const epoch = await b.gateway.epoch();
    const digest = await b.gateway.attestationDigest(id, epoch);
    for (const made of attesters.slice(0, 3)) {
      const answer = await waitFor(`${made.name} signing`, async () => {
        const reply = await fetch(`${made.url}/attestations/${id}`);
        return reply.status === 200
          ? ((await reply.json()) as { signature: string; epoch: number; attester: string })
          : undefined;
      });
      expect(answer.epoch).to.equal(Number(epoch));
      expect(recoverAddress(digest, answer.signature)).to.equal(answer.attester);
    }
    await startRelayer(attesters.slice(0, 3).map((made) => made.url));
    await delivered(id);
    expect(await recording.count()).to.equal(1n);
    const received = await recording.received(0);
    expect(received.receiveId).to.equal(id);
    expect(received.payload).to.equal("0xabcdef");
    const kept = relayer!.message(id)!;
    expect(kept.sends.map((send) => [send.action, send.outcome])).to.deep.equal([["deliver", "delivered"]]);
    const logs = await b.provider.getLogs({
      address: b.gateway.target as string,
      topics: [MESSAGE_DELIVERED, id],
      fromBlock: 0,
    });
    expect(logs).to.have.length(1);
    expect(kept.deliveryTx).to.equal(logs[0]!.transactionHash);
  });

  /** Posts `count` messages to the recording recipient and waits until attesters 0 and 1 have signed each. */
  async function postAttested(count: number): Promise<string[]> {
    const alice = KEYS.alice.connect(a.provider);
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) ids.push((await post(a, alice, b, recording.target as string)).id);
    for (const id of ids) {
      for (const made of attesters.slice(0, 2)) await waitFor(`${made.name} signing ${id}`, () => made.attestation(id));
    }
    return ids;
  }

  /** The `MessageDelivered` logs of `id` on B. */
  async function deliveries(id: string) {
    return b.provider.getLogs({ address: b.gateway.target as string, topics: [MESSAGE_DELIVERED, id], fromBlock: 0 });
  }

  it("messages ready together go out in deliverBatch transactions of at most deliveryBatch, each delivered once", async function () {
    const before = await recording.count();
    const ids = await postAttested(5);
    await startRelayer(
      attesters.slice(0, 3).map((made) => made.url),
      "relayer-batch",
      { deliveryBatch: 3 },
    );
    for (const id of ids) await delivered(id);
    expect(await recording.count()).to.equal(before + 5n);
    const txs = new Set<string>();
    for (const id of ids) {
      const kept = relayer!.message(id)!;
      expect(
        kept.sends.map((send) => [send.action, send.outcome]),
        id,
      ).to.deep.equal([["deliverBatch", "delivered"]]);
      const logs = await deliveries(id);
      expect(logs, id).to.have.length(1);
      expect(kept.deliveryTx).to.equal(logs[0]!.transactionHash);
      txs.add(kept.deliveryTx!);
    }
    expect(txs.size, "5 messages in batches of at most 3").to.equal(2);
    // One ready alone goes at once, with deliver.
    const [single] = await postAttested(1);
    await delivered(single!);
    expect(relayer!.message(single!)!.sends.map((send) => send.action)).to.deep.equal(["deliver"]);
  });

  it("test_RevertWhen_ABatchIsFrontRun: a member delivered by someone else first is skipped, settled from the chain, the others land", async function () {
    const ids = await postAttested(3);
    await b.provider.send("evm_setAutomine", [false]);
    try {
      await startRelayer(
        attesters.slice(0, 3).map((made) => made.url),
        "relayer-front-run",
      );
      await waitFor("the batch sent", () => relayer!.message(ids[0]!)?.sends.length === 1);
      // Someone else delivers the middle member with the attesters' signatures, paying more to go first.
      const message = relayer!.message(ids[1]!)!.message;
      const signatures = [0, 1]
        .map((index) => attesters[index]!.attestation(ids[1]!)!)
        .sort((x, y) => (BigInt(x.attester) < BigInt(y.attester) ? -1 : 1))
        .map((answer) => answer.signature);
      const front = await b.gateway
        .connect(KEYS.mallory.connect(b.provider))
        .deliver(messageTuple(message), signatures, {
          // No estimate: the node would estimate on top of the pending batch.
          gasLimit: 600_000n,
          maxPriorityFeePerGas: 100n * 10n ** 9n,
          maxFeePerGas: 300n * 10n ** 9n,
        });
      await b.provider.send("evm_mine", []);
      const receipt = (await front.wait())!;
      for (const id of ids) await delivered(id);
      const batchTx = relayer!.message(ids[0]!)!.deliveryTx!;
      expect(relayer!.message(ids[2]!)!.deliveryTx).to.equal(batchTx);
      expect((await b.provider.getTransactionReceipt(batchTx))!.blockNumber).to.equal(receipt.blockNumber);
      const skipped = relayer!.message(ids[1]!)!;
      expect(skipped.sends).to.deep.equal([
        { tx: batchTx, action: "deliverBatch", outcome: "skipped: AttestedGatewayAlreadyProcessed" },
      ]);
      expect(skipped.note).to.match(/the destination has it delivered/);
      for (const id of ids) expect(await deliveries(id), id).to.have.length(1);
      expect((await deliveries(ids[1]!))[0]!.transactionHash).to.equal(receipt.hash);
    } finally {
      await b.provider.send("evm_setAutomine", [true]);
    }
  });

  it("test_RevertWhen_AGasBurnerHoldsUpABatch: a batch estimated over MAX_BATCH_GAS goes one by one (it would never be mined); the burner is Failed, the others delivered", async function () {
    const burner = await (await new RevertingRecipient__factory(b.admin).deploy(3)).waitForDeployment();
    const alice = KEYS.alice.connect(a.provider);
    // First in the batch, a recipient that burns all the gas it gets: the batch would need 64 times the rest.
    const burnt = (await post(a, alice, b, burner.target as string)).id;
    for (const made of attesters.slice(0, 2)) await waitFor(`${made.name} signing`, () => made.attestation(burnt));
    const ids = await postAttested(8);
    await startRelayer(
      attesters.slice(0, 3).map((made) => made.url),
      "relayer-burner",
    );
    for (const id of ids) await delivered(id);
    await waitFor("the burner's message Failed", () => relayer!.message(burnt)?.destinationStatus === "Failed");
    expect(lines.some((line) => /relayer-burner: deliverBatch of 9 .* one by one/.test(line))).to.equal(true);
    for (const id of ids) {
      expect(
        relayer!.message(id)!.sends.map((send) => send.action),
        id,
      ).to.deep.equal(["deliver"]);
      expect(await deliveries(id), id).to.have.length(1);
    }
  });

  it("an unreachable attester and a stopped one do not matter while two answer; with one it waits", async function () {
    await attesters[2]!.stop();
    const alice = KEYS.alice.connect(a.provider);
    const { id } = await post(a, alice, b, recording.target as string);
    await attesters[1]!.stop();
    // An attester URL where nothing listens (a port the OS just handed out and took back).
    await startRelayer([...attesters.map((made) => made.url), `http://127.0.0.1:${await freePort()}`]);
    await waitFor("the relayer to note it lacks attestations", () =>
      /1 of 2 attestations/.test(relayer!.message(id)?.note ?? ""),
    );
    expect(await b.gateway.inboundStatus(a.chainId, (await a.gateway.nextNonce()) - 1n)).to.equal(0n);
    await attesters[1]!.start();
    await delivered(id);
    await attesters[2]!.start();
  });

  it("test_RevertWhen_UnknownOrReplayedAttestations: a stranger's signature and a real one of another message do not count", async function () {
    const alice = KEYS.alice.connect(a.provider);
    const earlier = await post(a, alice, b, recording.target as string);
    const { id } = await post(a, alice, b, recording.target as string);
    const epoch = await b.gateway.epoch();
    const domain = attestedGatewayDomain(b.chainId, b.gateway.target as string);
    await waitFor("attester 1 to sign the earlier message", () => attesters[1]!.attestation(earlier.id));
    // A fake attester: a stranger's signature of the right digest, and attester 1's signature of another message.
    const answers = [
      {
        attester: KEYS.mallory.address,
        signature: KEYS.mallory.signingKey.sign(attestationDigest(id, epoch, domain)).serialized,
      },
      { attester: attesters[1]!.address, signature: attesters[1]!.attestation(earlier.id)!.signature },
    ];
    const fakes = await Promise.all(
      answers.map(async (answer) => {
        const server = createServer((_req, res) => {
          res.setHeader("content-type", "application/json");
          res.end(JSON.stringify({ messageId: id, epoch: Number(epoch), ...answer }));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
      }),
    );
    try {
      await startRelayer([attesters[0]!.url, ...fakes.map((fake) => fake.url)]);
      await waitFor("the relayer to count one", () => /1 of 2 attestations/.test(relayer!.message(id)?.note ?? ""));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(relayer!.message(id)!.sends).to.deep.equal([]);
      expect(relayer!.message(id)!.state).to.equal("open");
    } finally {
      for (const fake of fakes) fake.server.close();
    }
    await relayer!.stop();
    await startRelayer(attesters.map((made) => made.url));
    await delivered(id);
    await delivered(earlier.id);
  });

  it("a recipient that fails is stored Failed, retried with back-off, and delivered once it accepts", async function () {
    const alice = KEYS.alice.connect(a.provider);
    const { id } = await post(a, alice, b, reverting.target as string);
    await startRelayer(attesters.map((made) => made.url));
    await waitFor("a first failure", () => (relayer!.message(id)?.attempts ?? 0) >= 2);
    expect(relayer!.message(id)!.destinationStatus).to.equal("Failed");
    await mined(await reverting.setMode(6)); // Accept
    await delivered(id);
    expect(await reverting.accepted()).to.equal(1n);
    const actions = relayer!.message(id)!.sends.map((send) => send.action);
    expect(actions[0]).to.equal("deliver");
    expect(actions.slice(1).every((action) => action === "retry")).to.equal(true);
    await mined(await reverting.setMode(0)); // Revert again, for the next test
  });

  it("a message that is never delivered is refunded on the source after deadline + refundDelay", async function () {
    const now = BigInt((await a.provider.getBlock("latest"))!.timestamp);
    const tx = await refundable.post(erc7930(b.chainId, reverting.target as string), "0x99", [
      deadlineAttribute(now + 60n),
    ]);
    const receipt = await mined(tx);
    const { id } = messageFromLog(
      receipt.logs.find((log) => log.topics[0] === MESSAGE_POSTED)!,
      a.chainId,
      a.gateway.target as string,
    );
    await startRelayer(attesters.map((made) => made.url));
    await waitFor("a failure", () => relayer!.message(id)?.destinationStatus === "Failed");
    // Past the deadline on both chains: no more delivery; then past deadline + refundDelay on the source.
    await advance([a, b], 61n);
    await waitFor("the wait for the refund", () => /refundable at/.test(relayer!.message(id)?.note ?? ""));
    expect(await refundable.refunds()).to.equal(0n);
    await advance([a, b], REFUND_DELAY);
    await waitFor("the refund", () => relayer!.message(id)?.state === "refunded", 30_000);
    expect(await refundable.refunds()).to.equal(1n);
    expect(await refundable.lastRefundedId()).to.equal(id);
    // Each attester signed Undelivered in the SOURCE gateway's domain, as the source computes it.
    const epoch = await a.gateway.epoch();
    const digest = await a.gateway.undeliveredDigest(id, epoch);
    for (const made of attesters.slice(0, 3)) {
      const signed = made.attestation(id, undefined, true)!;
      expect(recoverAddress(digest, signed.signature)).to.equal(signed.attester);
    }
    expect(await a.gateway.statusOf(id)).to.equal(2n); // Refunded
    expect(relayer!.message(id)!.sends.filter((send) => send.action === "refund")).to.have.length(1);
  });

  it("test_RevertWhen_RefundAfterDelivery: no attester signs a delivered message undelivered, so it is never refunded", async function () {
    const now = BigInt((await a.provider.getBlock("latest"))!.timestamp);
    const receipt = await mined(
      await refundable.post(erc7930(b.chainId, recording.target as string), "0x77", [deadlineAttribute(now + 60n)]),
    );
    const { id, message } = messageFromLog(
      receipt.logs.find((log) => log.topics[0] === MESSAGE_POSTED)!,
      a.chainId,
      a.gateway.target as string,
    );
    await startRelayer(attesters.map((made) => made.url));
    await delivered(id);
    await advance([a, b], 61n + REFUND_DELAY);
    // Give the attesters rounds to look at it past its deadline.
    await waitFor("the attesters to see it delivered", async () => {
      for (const made of attesters) await made.poll();
      return true;
    });
    for (const made of attesters) expect(made.attestation(id, undefined, true)).to.equal(undefined);
    // Nobody can refund it without them: not with no signatures, not with delivery attestations.
    const delivery = await Promise.all(
      attesters.map(
        async (made) => (await (await fetch(`${made.url}/attestations/${id}`)).json()) as { signature: string },
      ),
    );
    const sorted = attesters
      .map((made, i) => ({ address: made.address, signature: delivery[i]!.signature }))
      .sort((x, y) => (BigInt(x.address) < BigInt(y.address) ? -1 : 1))
      .map((entry) => entry.signature);
    for (const signatures of [[], sorted.slice(0, 2)]) {
      let refused = false;
      try {
        await a.gateway.refund.staticCall(messageTuple(message), signatures);
      } catch {
        refused = true;
      }
      expect(refused, `refund with ${signatures.length} signatures`).to.equal(true);
    }
    expect(await refundable.refunds()).to.equal(1n);
  });

  it("a destination that is down: the message waits and is delivered when the chain comes back", async function () {
    await startRelayer(attesters.map((made) => made.url));
    // Let chain B's node save its state, then stop it.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await fixture.stopChain(1);
    const alice = KEYS.alice.connect(a.provider);
    const { id } = await post(a, alice, b, recording.target as string);
    const before = await waitFor("the relayer to see it", () => relayer!.message(id));
    expect(before.state).to.equal("open");
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(relayer!.message(id)!.sends).to.deep.equal([]);
    await fixture.restartChain(1);
    await delivered(id);
    expect(relayer!.message(id)!.sends).to.have.length(1);
  });

  it("after the destination's attester set rotates, the attesters sign the new epoch and the relayer uses it", async function () {
    const alice = KEYS.alice.connect(a.provider);
    const { id } = await post(a, alice, b, recording.target as string);
    await waitFor("epoch-1 signatures", async () => {
      const reply = await fetch(`${attesters[0]!.url}/attestations/${id}`);
      await reply.arrayBuffer();
      return reply.status === 200;
    });
    const set = KEYS.attesters.map((key) => key.address).sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
    await mined(await b.gateway.setAttesterSet(set, 3));
    const epoch = await b.gateway.epoch();
    await startRelayer(attesters.map((made) => made.url));
    await delivered(id);
    for (const made of attesters) expect(made.attestation(id)!.epoch).to.equal(Number(epoch));
    await mined(await b.gateway.setAttesterSet(set, 2));
  });

  it("an attester configured with another gateway for the destination refuses to sign, and says why", async function () {
    const wrong = config.map((chain) =>
      chain.chainId === b.chainId ? { ...chain, attestedGateway: "0x000000000000000000000000000000000000dEaD" } : chain,
    );
    const strict = await attester(0, wrong, "attester-wrong-gateway");
    const lonely = await attester(0, [config[0]!], "attester-one-chain");
    const alice = KEYS.alice.connect(a.provider);
    const { id } = await post(a, alice, b, recording.target as string);
    await waitFor("refusals", async () => {
      await strict.poll();
      await lonely.poll();
      return strict.refusals().length > 0 && lonely.refusals().length > 0;
    });
    expect(strict.refusals().map((refusal) => refusal.code)).to.include("ATTESTER_WRONG_DESTINATION_GATEWAY");
    expect(lonely.refusals().map((refusal) => refusal.code)).to.include("ATTESTER_UNKNOWN_DESTINATION");
    expect(strict.attestation(id)).to.equal(undefined);
    expect(lonely.attestation(id)).to.equal(undefined);
  });

  it("GET /messages lists the messages the relayer carries newest first, by state, a page at a time, each once", async function () {
    interface Listed {
      items: Array<{ id: string; state: string; sends: unknown[] }>;
      nextCursor: string | null;
      error?: { field?: string };
    }
    const list = async (query: string) => {
      const reply = await fetch(`${relayer!.url}/messages${query}`);
      return { status: reply.status, body: (await reply.json()) as Listed };
    };
    const every = async (query: string) => {
      const seen: Listed["items"] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const { status, body } = await list(`?${query}${cursor === null ? "" : `&cursor=${cursor}`}`);
        expect(status).to.equal(200);
        seen.push(...body.items);
        cursor = body.nextCursor;
        pages += 1;
      } while (cursor !== null && pages < 50);
      return { seen, pages };
    };
    // A relayer that reaches no attester records the messages and keeps them open.
    await startRelayer([`http://127.0.0.1:${await freePort()}`], "relayer-list");
    const alice = KEYS.alice.connect(a.provider);
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await post(a, alice, b, recording.target as string)).id);
    await waitFor("the relayer to record the messages", () => ids.every((id) => relayer!.message(id) !== undefined));
    // The relayer follows the chain from the gateway's deployment: the earlier tests' messages are there too, older.
    const open = await every("state=open&limit=2");
    expect(open.pages).to.be.greaterThan(1);
    expect(open.seen.slice(0, 3).map((item) => item.id)).to.deep.equal([...ids].reverse());
    expect(open.seen.every((item) => item.state === "open")).to.equal(true);
    expect(new Set(open.seen.map((item) => item.id)).size).to.equal(open.seen.length);
    const before = (await list("?state=delivered")).body.items;
    expect(before.every((item) => item.state === "delivered" && !ids.includes(item.id))).to.equal(true);
    // The same record as GET /messages/:id gives, but for what moves while the relayer keeps asking the
    // attester it cannot reach (its attempts, the note of the last one, what it last read of the destination).
    const single = (await (await fetch(`${relayer!.url}/messages/${ids[0]}`)).json()) as Record<string, unknown>;
    const still = ({ attempts, note, destinationStatus, ...rest }: Record<string, unknown>) => (
      void [attempts, note, destinationStatus],
      rest
    );
    expect(still(open.seen[2] as unknown as Record<string, unknown>)).to.deep.equal(still(single));
    expect(single.attempts).to.be.at.least((open.seen[2] as unknown as { attempts: number }).attempts);

    for (const [query, field] of [
      ["?state=lost", "state"],
      ["?limit=0", "limit"],
      ["?limit=501", "limit"],
      ["?cursor=bm90LWpzb24", "cursor"], // "not-json"
      ["?cursor=WzBd", "cursor"], // [0]
      ["?cursor=WyIxIl0", "cursor"], // ["1"]
      ["?sort=asc", "sort"],
    ] as const) {
      const { status, body } = await list(query);
      expect([query, status, body.error?.field]).to.deep.equal([query, 400, field]);
    }

    // The same store with the attesters: the messages are delivered and move from one filter to the other.
    await relayer!.stop();
    await startRelayer(
      attesters.slice(0, 3).map((made) => made.url),
      "relayer-list",
    );
    for (const id of ids) await delivered(id);
    const done = (await every("state=delivered&limit=1")).seen;
    expect(done.slice(0, 3).map((item) => item.id)).to.deep.equal([...ids].reverse());
    expect(done.every((item) => item.state === "delivered")).to.equal(true);
    expect(done.length).to.be.at.least(before.length + 3);
    expect((await list("?state=open")).body.items.filter((item) => ids.includes(item.id))).to.deep.equal([]);
    const all = await every("limit=500");
    expect(all.pages).to.equal(1);
    expect(all.seen.slice(0, 3).map((item) => item.id)).to.deep.equal([...ids].reverse());
    expect(new Set(all.seen.map((item) => item.id)).size).to.equal(all.seen.length);
    expect(all.seen[0]!.sends).to.have.length.greaterThan(0);
  });

  it("refuses to open an attester's store with another key", function () {
    expect(
      () =>
        new Attester({
          key: KEYS.attesters[1]!,
          store: store("attester-0"),
          nodes,
          chains: config,
          port: 0,
        }),
    ).to.throw(/belongs to/);
  });
});
