/**
 * An attester that reads several nodes of a chain signs only what every one
 * of them agrees on: one lying node beside an honest one gets it to sign
 * nothing (and the refusal is recorded), two honest nodes get it to sign.
 * Adapted from the red team's test_LyingHead and test_LyingStatus (on main
 * one lying node was enough, and the devnet's three attesters share one node
 * list).
 */

import { expect } from "chai";
import { toBeHex } from "ethers";

import { Attester, NODES_DISAGREE } from "../../src/interop/attester.js";
import {
  attestationDigest,
  attestedGatewayDomain,
  gatewayInterface,
  messageIdOf,
  messageTuple,
  MESSAGE_POSTED,
  type Message,
} from "../../src/interop/messages.js";
import { NodeDirectory } from "../../src/interop/nodes.js";
import { INTEROP_SETTINGS, nodeListOf } from "../../src/interop/service.js";
import { Store } from "../../src/store/store.js";
import { RecordingRecipient__factory, type RecordingRecipient } from "../../typechain-types/index.js";
import { ProxyNode, truth, type Lie } from "../mocks/proxy-node.js";
import { KEYS, startInteropChains, type InteropFixture, type TestChain } from "./fixture.js";
import { advance, post, waitFor } from "./helpers.js";

interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  transactionIndex: string;
  logIndex: string;
  removed: boolean;
}

const inboundStatusSelector = gatewayInterface.getFunction("inboundStatusFrom")!.selector;

/** A node that answers `inboundStatusFrom` (what an attester asks) with `status` (0 None … 4 Delivered), whatever the chain says. */
function statusLie(status: number): Lie {
  return (method, params, result) => {
    if (method !== "eth_call") return result;
    const call = params[0] as { data?: string; input?: string };
    return String(call.data ?? call.input).startsWith(inboundStatusSelector) ? toBeHex(status, 32) : result;
  };
}

/** A node that adds `blocks` to the chain's head. */
function headLie(blocks: number): Lie {
  return (method, _params, result) =>
    method === "eth_blockNumber" ? toBeHex(BigInt(result as string) + BigInt(blocks)) : result;
}

/** A node that reports, after each `MessagePosted`, one more (well-formed, correctly hashed) that was never posted. */
function forgedLogLie(forge: (real: RpcLog) => RpcLog): Lie {
  return (method, _params, result) =>
    method === "eth_getLogs" && Array.isArray(result)
      ? (result as RpcLog[]).flatMap((log) => (log.topics[0] === MESSAGE_POSTED ? [log, forge(log)] : [log]))
      : result;
}

/** `message`'s MessagePosted log under its own id, in `like`'s block and transaction at `logIndex`. */
function forged(like: RpcLog, message: Message, logIndex: number): RpcLog {
  const { topics, data } = gatewayInterface.encodeEventLog(gatewayInterface.getEvent("MessagePosted"), [
    messageIdOf(message),
    message.destinationChainId,
    message.nonce,
    message.destinationGateway,
    message.sender,
    message.recipient,
    message.deadline,
    message.payload,
  ]);
  return { ...like, topics, data, logIndex: toBeHex(logIndex) };
}

describe("interop/attester: every node of a chain must agree before an attester signs", function () {
  this.timeout(180_000);
  let fixture: InteropFixture;
  let a: TestChain;
  let b: TestChain;
  let recipient: RecordingRecipient;
  /** A lying and an honest proxy in front of each chain's node. */
  let liarA: ProxyNode;
  let honestA: ProxyNode;
  let liarB: ProxyNode;
  let honestB: ProxyNode;
  const urls = { liarA: "", honestA: "", liarB: "", honestB: "" };
  const cleanups: Array<() => void | Promise<void>> = [];

  /** An attester reading `nodesA` for chain A and `nodesB` for chain B, with its own fresh store. */
  function attesterOn(
    nodesA: readonly string[],
    nodesB: readonly string[],
    options: { confirmations?: number; key?: 0 | 1 | 2; log?: (line: string) => void } = {},
  ): Attester {
    const nodes = new NodeDirectory({
      nodes: new Map([
        [a.chainId, [...nodesA]],
        [b.chainId, [...nodesB]],
      ]),
      timeoutMs: 1_000,
      recheckMs: 60_000,
    });
    const store = Store.open({ path: ":memory:" });
    const attester = new Attester({
      key: KEYS.attesters[options.key ?? 0],
      store,
      nodes,
      chains: fixture.config(options.confirmations ?? 0),
      port: 0,
      ...(options.log === undefined ? {} : { log: options.log }),
    });
    cleanups.push(async () => {
      await attester.stop();
      store.close();
      nodes.close();
    });
    return attester;
  }

  async function rounds(attesters: readonly Attester[], count = 3): Promise<void> {
    for (let round = 0; round < count; round += 1) for (const attester of attesters) await attester.poll();
  }

  before(async function () {
    fixture = await startInteropChains();
    [a, b] = fixture.chains;
    liarA = new ProxyNode(a.url);
    honestA = new ProxyNode(a.url);
    liarB = new ProxyNode(b.url);
    honestB = new ProxyNode(b.url);
    urls.liarA = await liarA.start();
    urls.honestA = await honestA.start();
    urls.liarB = await liarB.start();
    urls.honestB = await honestB.start();
    recipient = await (await new RecordingRecipient__factory(b.admin).deploy()).waitForDeployment();
  });

  afterEach(async function () {
    liarA.lie = truth;
    liarB.lie = truth;
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  after(async function () {
    await Promise.all([liarA, honestA, liarB, honestB].map((node) => node?.stop()));
    await fixture?.stop();
  });

  /**
   * The red team's test_LyingHead: a node that adds the confirmation depth to `eth_blockNumber` got a burn with
   * no block on top signed (the attester also says, once, that the heads are that far apart). With an honest
   * node beside it the lowest head counts: nothing is signed until the burn really has its confirmations. (Red
   * when `#lowestHead` returns the highest answer instead.)
   */
  it("test_LyingHead: a node inflating the head cannot get a burn with fewer real confirmations signed", async function () {
    const confirmations = 3;
    liarA.lie = headLie(confirmations);
    const lines: string[] = [];
    const lied = attesterOn([urls.liarA, urls.honestA], [b.url], { confirmations, log: (line) => lines.push(line) });
    const honest = attesterOn([urls.honestA, a.url], [b.url], { confirmations, key: 1 });
    const { id } = await post(a, KEYS.mallory.connect(a.provider), b, recipient.target as string);
    await rounds([lied, honest]);
    expect(lied.attestation(id), "signed a burn with 0 of 3 real confirmations").to.equal(undefined);
    expect(honest.attestation(id)).to.equal(undefined);
    const warning = lines.filter((line) => line.includes("report heads as far apart"));
    expect(warning, "said once, not every round").to.have.length(1);
    expect(warning[0]).to.include(new URL(urls.liarA).host).and.include(new URL(urls.honestA).host);
    // Three real blocks later the burn is final at every node: both sign, the lie no longer matters.
    for (let block = 0; block < confirmations; block += 1) await a.provider.send("evm_mine", []);
    await rounds([lied, honest], 1);
    expect(lied.attestation(id)?.messageId).to.equal(id);
    expect(honest.attestation(id)?.messageId).to.equal(id);
    expect(honest.refusals()).to.deep.equal([]);
  });

  /**
   * A node that reports a `MessagePosted` the chain never had (well-formed, its id computed from its fields: a
   * mint out of nothing if signed). The honest node does not return it: refused as ATTESTER_NODES_DISAGREE, never
   * signed, and the follower waits on it until the nodes agree. (Red when `#record` ignores the dispute, or when
   * `#agreedLogs` takes the first node's logs.)
   */
  it("test_LyingLog: a log only one node returns is refused and never signed", async function () {
    const alice = KEYS.alice.connect(a.provider);
    const lied = attesterOn([urls.liarA, urls.honestA], [b.url]);
    const honest = attesterOn([a.url, urls.honestA], [b.url], { key: 1 });
    const real = await post(a, alice, b, recipient.target as string, { payload: "0x01" });
    await waitFor("both attesters to sign the real message", async () => {
      await rounds([lied, honest], 1);
      return lied.attestation(real.id) !== undefined && honest.attestation(real.id) !== undefined;
    });
    const fake: Message = { ...real.message, nonce: real.message.nonce + 1_000n, recipient: KEYS.mallory.address };
    const fakeId = messageIdOf(fake);
    liarA.lie = forgedLogLie((log) => forged(log, fake, Number(log.logIndex) + 50));
    const next = await post(a, alice, b, recipient.target as string, { payload: "0x02" });
    await rounds([lied, honest]);
    expect(lied.attestation(fakeId), "signed a message only the lying node reported").to.equal(undefined);
    const refusal = lied.refusals().find((entry) => entry.code === NODES_DISAGREE);
    expect(refusal?.stage).to.equal("attestation");
    expect(refusal?.reason).to.include(fakeId).and.include(new URL(urls.honestA).host);
    // The real message of the same transaction, returned by both, is signed.
    expect(lied.attestation(next.id)?.messageId).to.equal(next.id);
    expect(honest.attestation(next.id)?.messageId).to.equal(next.id);
    expect(honest.attestation(fakeId)).to.equal(undefined);
    expect(honest.refusals()).to.deep.equal([]);
    // Once the node stops lying the attester moves on.
    liarA.lie = truth;
    const after = await post(a, alice, b, recipient.target as string, { payload: "0x03" });
    await waitFor("the next message signed", async () => {
      await lied.poll();
      return lied.attestation(after.id);
    });
    expect(lied.attestation(fakeId)).to.equal(undefined);
  });

  /**
   * The red team's test_LyingStatus: a destination node that answers `inboundStatus` = None for a DELIVERED
   * message got it signed Undelivered (a refund of a delivered message: a double spend). With an honest node
   * beside it the statuses disagree: no signature, a recorded refusal; an expired message every node shows
   * undelivered is still signed. (Red when `#signUndelivered` takes one node's status.)
   */
  it("test_LyingStatus: a node hiding a delivery cannot get the message signed undelivered", async function () {
    const deadline = BigInt((await a.provider.getBlock("latest"))!.timestamp + 120);
    const source = KEYS.admin.connect(a.provider);
    const delivered = await post(a, source, b, recipient.target as string, { deadline });
    const undelivered = await post(a, source, b, recipient.target as string, { deadline, payload: "0x5678" });
    const digest = attestationDigest(
      delivered.id,
      await b.gateway.epoch(),
      attestedGatewayDomain(b.chainId, b.gateway.target as string),
    );
    const signatures = [KEYS.attesters[0], KEYS.attesters[1]]
      .sort((x, y) => (BigInt(x.address) < BigInt(y.address) ? -1 : 1))
      .map((key) => key.signingKey.sign(digest).serialized);
    await (
      await b.gateway.connect(KEYS.relayer.connect(b.provider)).deliver(messageTuple(delivered.message), signatures)
    ).wait();
    expect(await b.gateway.inboundStatus(a.chainId, delivered.message.nonce)).to.equal(4n);
    await advance([a, b], 600n);
    liarB.lie = statusLie(0);
    const lied = attesterOn([a.url], [urls.liarB, urls.honestB]);
    const honest = attesterOn([a.url], [urls.honestB, b.url], { key: 1 });
    await waitFor("both attesters to see both messages", async () => {
      await rounds([lied, honest], 1);
      return [lied, honest].every((attester) =>
        [delivered.id, undelivered.id].every((id) => attester.attestation(id) !== undefined),
      );
    });
    await rounds([lied, honest]);
    expect(lied.attestation(delivered.id, undefined, true), "signed a delivered message as undelivered").to.equal(
      undefined,
    );
    const refusal = lied.refusals().find((entry) => entry.code === NODES_DISAGREE);
    expect(refusal?.stage).to.equal("undelivered");
    expect(refusal?.reason).to.include(delivered.id).and.include("None").and.include("Delivered");
    // Both nodes say the other message was never delivered: that one is signed, by both attesters.
    expect(lied.attestation(undelivered.id, undefined, true)?.messageId).to.equal(undelivered.id);
    expect(honest.attestation(undelivered.id, undefined, true)?.messageId).to.equal(undelivered.id);
    expect(honest.attestation(delivered.id, undefined, true)).to.equal(undefined);
    expect(honest.refusals()).to.deep.equal([]);
  });

  /**
   * The other way round: a node claiming `Delivered` for a message never delivered must not make the attester give
   * its refund up for good (it would be marked delivered and never signed: funds burned, neither minted nor
   * refunded). It waits, and signs once the nodes agree. (Red when one node's Delivered marks it delivered.)
   */
  it("test_LyingDelivered: a node claiming a delivery does not cancel the refund for good", async function () {
    const deadline = BigInt((await a.provider.getBlock("latest"))!.timestamp + 120);
    const { id } = await post(a, KEYS.admin.connect(a.provider), b, recipient.target as string, {
      deadline,
      payload: "0x9abc",
    });
    await advance([a, b], 600n);
    liarB.lie = statusLie(4);
    const lied = attesterOn([a.url], [urls.liarB, urls.honestB], { key: 2 });
    await waitFor("the attester to see the message", async () => {
      await lied.poll();
      return lied.attestation(id);
    });
    await rounds([lied]);
    expect(lied.attestation(id, undefined, true)).to.equal(undefined);
    const refusal = lied.refusals().find((entry) => entry.code === NODES_DISAGREE && entry.reason.includes(id));
    expect(refusal?.stage).to.equal("undelivered");
    liarB.lie = truth;
    await rounds([lied], 1);
    expect(lied.attestation(id, undefined, true)?.messageId, "one node's Delivered gave the refund up").to.equal(id);
  });

  /**
   * A destination node that moves its blocks' timestamps a day ahead makes a message look expired while it can
   * still be delivered: an Undelivered signature then, and a delivery after it, is a double spend. The honest
   * node gives the block another timestamp: no signature, a recorded refusal. (Red when `#agreedBlock` takes the
   * first node's block.)
   */
  it("test_LyingClock: a node moving the destination's clock past the deadline gets no undelivered signature", async function () {
    const deadline = BigInt((await b.provider.getBlock("latest"))!.timestamp + 3_000);
    const { id } = await post(a, KEYS.admin.connect(a.provider), b, recipient.target as string, {
      deadline,
      payload: "0xdef0",
    });
    liarB.lie = (method, _params, result) =>
      method === "eth_getBlockByNumber" && result !== null && typeof result === "object"
        ? { ...result, timestamp: toBeHex(BigInt((result as { timestamp: string }).timestamp) + 86_400n) }
        : result;
    const lied = attesterOn([a.url], [urls.liarB, urls.honestB], { key: 2 });
    await waitFor("the attester to see the message", async () => {
      await lied.poll();
      return lied.attestation(id);
    });
    await rounds([lied]);
    expect(lied.attestation(id, undefined, true), "signed a message that can still be delivered").to.equal(undefined);
    const refusal = lied.refusals().find((entry) => entry.code === NODES_DISAGREE && entry.reason.includes(id));
    expect(refusal?.stage).to.equal("undelivered");
    // The destination's real clock is still before the deadline: the message can still be delivered.
    expect(BigInt((await b.provider.getBlock("latest"))!.timestamp)).to.be.lessThan(deadline);
  });

  it("says at start when it depends on one node of a chain, and not when it reads several", async function () {
    const lonelyLines: string[] = [];
    const lonely = attesterOn([a.url], [urls.honestB, b.url], { log: (line) => lonelyLines.push(line) });
    await lonely.start();
    expect(lonelyLines.find((line) => line.includes("depends on one node"))).to.include(`${a.chainId}`);
    const pairedLines: string[] = [];
    const paired = attesterOn([urls.honestA, a.url], [urls.honestB, b.url], {
      key: 1,
      log: (line) => pairedLines.push(line),
    });
    await paired.start();
    expect(pairedLines.some((line) => line.includes("depends on one node"))).to.equal(false);
  });
});

describe("interop/service: each attester's own node list", function () {
  const chains = [
    { chainId: 4242n, network: "localhost", url: "http://127.0.0.1:8545" },
    { chainId: 4343n, network: "localhost-b", url: "http://127.0.0.1:8546" },
  ] as const;

  it("takes the attester's list for the chains it names, then INTEROP_NODES, then the runner's node", function () {
    const own = "4242=http://10.0.0.1:8545,http://10.0.0.2:8545";
    const shared = "4242=http://10.9.9.9:8545;4343=http://10.9.9.9:8546";
    expect(nodeListOf(chains, [own, shared])).to.deep.equal(
      new Map([
        [4242n, ["http://10.0.0.1:8545", "http://10.0.0.2:8545"]],
        [4343n, ["http://10.9.9.9:8546"]],
      ]),
    );
    expect(nodeListOf(chains, ["", ""])).to.deep.equal(
      new Map([
        [4242n, ["http://127.0.0.1:8545"]],
        [4343n, ["http://127.0.0.1:8546"]],
      ]),
    );
  });

  it("reads INTEROP_ATTESTER_1..3_NODES (empty by default) and refuses a malformed one", function () {
    const settings = INTEROP_SETTINGS.read({ INTEROP_ATTESTER_2_NODES: "4242=http://10.0.0.1:8545" }, { devnet: true });
    expect(settings.INTEROP_ATTESTER_1_NODES).to.equal("");
    expect(settings.INTEROP_ATTESTER_2_NODES).to.equal("4242=http://10.0.0.1:8545");
    expect(() => INTEROP_SETTINGS.read({ INTEROP_ATTESTER_3_NODES: "http://x" }, { devnet: true })).to.throw(
      /INTEROP_ATTESTER_3_NODES/,
    );
  });
});
