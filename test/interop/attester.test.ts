import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import { expect } from "chai";
import { getAddress, toBeHex } from "ethers";

import { Attester } from "../../src/interop/attester.js";
import { gatewayInterface, messageIdOf, MESSAGE_POSTED, type Message } from "../../src/interop/messages.js";
import { NodeDirectory } from "../../src/interop/nodes.js";
import { Store } from "../../src/store/store.js";
import { RecordingRecipient__factory, type RecordingRecipient } from "../../typechain-types/index.js";
import { KEYS, startInteropChains, type InteropFixture, type TestChain } from "./fixture.js";
import { post, waitFor } from "./helpers.js";

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

/**
 * A node that lies: it forwards every JSON-RPC request to the real node, but
 * adds `inject(log)`'s logs after each `MessagePosted` log it returns.
 */
class LyingNode {
  inject: (log: RpcLog) => RpcLog[] = () => [];
  readonly #server: Server;
  readonly #target: string;

  constructor(target: string) {
    this.#target = target;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = "";
    for await (const chunk of req) body += String(chunk);
    const reply = await fetch(this.#target, { method: "POST", headers: { "content-type": "application/json" }, body });
    const request = JSON.parse(body) as { id: number; method: string } | Array<{ id: number; method: string }>;
    const answer = (await reply.json()) as { id: number; result?: unknown } | Array<{ id: number; result?: unknown }>;
    const calls = Array.isArray(request) ? request : [request];
    const results = Array.isArray(answer) ? answer : [answer];
    for (const call of calls) {
      if (call.method !== "eth_getLogs") continue;
      const result = results.find((entry) => entry.id === call.id);
      if (result === undefined || !Array.isArray(result.result)) continue;
      result.result = (result.result as RpcLog[]).flatMap((log) =>
        log.topics[0] === MESSAGE_POSTED ? [log, ...this.inject(log)] : [log],
      );
    }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(answer));
  }
}

/** The MessagePosted log of `message` under `id`, placed in `like`'s block at `logIndex`. */
function forged(like: RpcLog, message: Message, id: string, logIndex: number, address = like.address): RpcLog {
  const { topics, data } = gatewayInterface.encodeEventLog(gatewayInterface.getEvent("MessagePosted"), [
    id,
    message.destinationChainId,
    message.nonce,
    message.destinationGateway,
    message.sender,
    message.recipient,
    message.deadline,
    message.payload,
  ]);
  return { ...like, address, topics, data, logIndex: toBeHex(logIndex) };
}

describe("interop/attester: what an attester refuses to sign, even when its node lies", function () {
  this.timeout(120_000);
  let fixture: InteropFixture;
  let a: TestChain;
  let b: TestChain;
  let liar: LyingNode;
  let nodes: NodeDirectory;
  let store: Store;
  let attester: Attester;
  let recipient: RecordingRecipient;

  before(async function () {
    fixture = await startInteropChains();
    [a, b] = fixture.chains;
    liar = new LyingNode(a.url);
    const lying = await liar.start();
    nodes = new NodeDirectory({
      nodes: new Map([
        [a.chainId, [lying]],
        [b.chainId, [b.url]],
      ]),
      timeoutMs: 1_000,
    });
    store = Store.open({ path: ":memory:" });
    attester = new Attester({ key: KEYS.attesters[0], store, nodes, chains: fixture.config(), port: 0 });
    recipient = await (await new RecordingRecipient__factory(b.admin).deploy()).waitForDeployment();
  });

  after(async function () {
    await attester?.stop();
    store?.close();
    nodes?.close();
    await liar?.stop();
    await fixture?.stop();
  });

  it("test_RevertWhen_Equivocation: a second message with a nonce already signed is refused, never signed", async function () {
    const alice = KEYS.alice.connect(a.provider);
    const first = await post(a, alice, b, recipient.target as string, { payload: "0x01" });
    await waitFor("the first signature", async () => {
      await attester.poll();
      return attester.attestation(first.id);
    });
    // The node now reports, beside the next real message, another version of the first one's nonce whose
    // id is computed correctly from its (different) fields: only a lie or a reorganisation could show it.
    const other: Message = { ...first.message, payload: "0x02" };
    const otherId = messageIdOf(other);
    liar.inject = (log) => [forged(log, other, otherId, Number(log.logIndex) + 50)];
    const second = await post(a, alice, b, recipient.target as string, { payload: "0x03" });
    await waitFor("the second signature", async () => {
      await attester.poll();
      return attester.attestation(second.id);
    });
    liar.inject = () => [];
    expect(attester.attestation(otherId)).to.equal(undefined);
    expect(attester.attestation(first.id)).to.not.equal(undefined);
    const refusal = attester.refusals().find((entry) => entry.code === "ATTESTER_EQUIVOCATION");
    expect(refusal?.reason).to.include(first.id);
  });

  it("refuses a log whose id does not commit to its fields, and a log from another contract", async function () {
    const alice = KEYS.alice.connect(a.provider);
    const lie: Message = { ...(await post(a, alice, b, recipient.target as string)).message, payload: "0xbad0" };
    const wrongId = `0x${"ab".repeat(32)}`;
    const stranger = getAddress(`0x${"cd".repeat(20)}`);
    liar.inject = (log) => [
      forged(log, { ...lie, nonce: lie.nonce + 100n }, wrongId, Number(log.logIndex) + 50),
      forged(log, { ...lie, nonce: lie.nonce + 101n }, messageIdOf({ ...lie, nonce: lie.nonce + 101n }), 60, stranger),
    ];
    const next = await post(a, alice, b, recipient.target as string);
    await waitFor("the real one signed", async () => {
      await attester.poll();
      return attester.attestation(next.id);
    });
    liar.inject = () => [];
    const codes = attester.refusals().map((entry) => entry.code);
    expect(codes).to.include.members(["MESSAGE_ID_MISMATCH", "MESSAGE_WRONG_EMITTER"]);
    expect(attester.attestation(wrongId)).to.equal(undefined);
  });
});
