/**
 * Red-team findings for the interop services (issue 16), kept as regression tests: a front-runner bundling
 * alice's execution with its own lane send must not make the API track its message as hers (fixed when the API
 * came to read each payload's message from its `Executed` log), and an attester whose node lies about a delivered
 * message's status must not sign it undelivered. Two other findings are answered elsewhere: the id that does not
 * name its signer (`?signer=`, docs/interop.md), and a lying node's head (test/interop/attester-nodes.test.ts: an
 * attester signs only what all its nodes agree on, so each needs nodes of its own).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

import { expect } from "chai";
import { Signature, ZeroHash, type Wallet } from "ethers";

import { mined } from "../../src/chain/receipts.js";
import { ApiGateway } from "../../src/interop/api-gateway.js";
import { Attester } from "../../src/interop/attester.js";
import {
  attestationDigest,
  attestedGatewayDomain,
  gatewayInterface,
  messageTuple,
} from "../../src/interop/messages.js";
import type { NodeDirectory } from "../../src/interop/nodes.js";
import { NodeDirectory as Nodes } from "../../src/interop/nodes.js";
import { interopGatewayDomain, PAYLOAD_TYPES, payloadSchema, payloadStruct } from "../../src/interop/payload.js";
import { SignedSender } from "../../src/interop/sender.js";
import { Store } from "../../src/store/store.js";
import { RecordingRecipient__factory, RedTeamBundler__factory } from "../../typechain-types/index.js";
import { KEYS, startInteropChains, type InteropFixture, type TestChain } from "./fixture.js";
import { advance, erc7930, post, tempDir, waitFor } from "./helpers.js";

interface Reply {
  status: number;
  body: any;
}

async function call(url: string, method = "GET", body?: unknown): Promise<Reply> {
  const reply = await fetch(url, {
    method,
    ...(body === undefined
      ? {}
      : {
          body: JSON.stringify(body),
          headers: { "content-type": "application/json" },
        }),
  });
  return { status: reply.status, body: await reply.json() };
}

/** A JSON-RPC node that forwards to the real one and lets the test rewrite answers by method. */
class LyingNode {
  lie: (method: string, params: unknown[], result: unknown) => unknown = (_m, _p, result) => result;
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
    const reply = await fetch(this.#target, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    type Call = { id: number; method: string; params: unknown[] };
    const request = JSON.parse(body) as Call | Call[];
    const answer = (await reply.json()) as { id: number; result?: unknown } | Array<{ id: number; result?: unknown }>;
    const calls = Array.isArray(request) ? request : [request];
    const results = Array.isArray(answer) ? answer : [answer];
    for (const rpc of calls) {
      const result = results.find((entry) => entry.id === rpc.id);
      if (result !== undefined && "result" in result) result.result = this.lie(rpc.method, rpc.params, result.result);
    }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(answer));
  }
}

describe("interop red team findings on the services (regressions)", function () {
  this.timeout(240_000);
  let fixture: InteropFixture;
  let a: TestChain;
  let b: TestChain;
  let temp: ReturnType<typeof tempDir>;
  let store: Store;
  let nodes: NodeDirectory;
  let api: ApiGateway;
  let url: string;
  const alice = KEYS.alice;
  const bob = KEYS.bob;
  const mallory = KEYS.mallory;

  async function sign(json: Record<string, unknown>, key: Wallet): Promise<string> {
    return key.signTypedData(
      interopGatewayDomain(a.chainId, a.interop.target as string),
      PAYLOAD_TYPES,
      payloadStruct(payloadSchema.parse(json)),
    );
  }

  before(async function () {
    temp = tempDir("interop-red-");
    fixture = await startInteropChains({ lane: true });
    [a, b] = fixture.chains;
    nodes = fixture.nodes();
    store = Store.open({ path: path.join(temp.dir, "api.sqlite") });
    api = new ApiGateway({
      store,
      nodes,
      chains: fixture.config(),
      sender: new SignedSender({ nodes, signer: KEYS.relayer }),
      port: 0,
      pollIntervalMs: 50,
    });
    await api.start();
    url = api.url;
    const bank = a.lane!.bankToken;
    for (const key of [alice, mallory]) {
      await mined(await bank.mint(key.address, 1_000_000n, ZeroHash));
      await mined(await bank.connect(key.connect(a.provider)).approve(a.interop.target, 2n ** 255n));
      await mined(await a.token.mint(key.address, 1_000_000n));
      await mined(await a.token.connect(key.connect(a.provider)).approve(a.interop.target, 2n ** 255n));
    }
  });

  after(async function () {
    await api?.stop();
    store?.close();
    nodes?.close();
    await fixture?.stop();
    temp?.remove();
  });

  /**
   * FINDING: `ApiGateway.#applyExecution` takes the LAST `MessagePosted` of the receipt that executed the payload
   * as its message, not the one `Executed` names. Mallory front-runs alice's signed CrossChain payload from a
   * contract that, in the same transaction, sends 1 token of her own over the lane. Alice posts her payload: the
   * API records it executed, with MALLORY's message; it then reports mallory's message's fate as alice's
   * (delivered, or refunded, whatever happens to alice's own 1,000).
   */
  it("test_FrontRunBundle: the API records the message alice's execution posted, not another in the same tx", async function () {
    const deadline = (await a.provider.getBlock("latest"))!.timestamp + 3_600;
    const json = {
      version: 1,
      sourceChain: `eip155:${a.chainId}`,
      destinationChain: `eip155:${b.chainId}`,
      kind: "CrossChain",
      target: bob.address,
      asset: a.lane!.bankToken.target,
      amount: "1000",
      data: "0x",
      nonce: "1",
      deadline,
    };
    const signature = await sign(json, alice);
    const malloryA = mallory.connect(a.provider);
    const bundler = await (await new RedTeamBundler__factory(malloryA).deploy()).waitForDeployment();
    await mined(await a.lane!.bankToken.connect(malloryA).approve(bundler.target, 1n));
    const receipt = await mined(
      await bundler.executeThenSend(
        a.interop.target,
        payloadStruct(payloadSchema.parse(json)),
        alice.address,
        signature,
        a.lane!.bankToken.target,
        a.lane!.lane.target,
        erc7930(b.chainId, mallory.address),
        1n,
      ),
    );
    const executed = receipt.logs
      .filter((log) => log.address === a.interop.target)
      .map((log) => a.interop.interface.parseLog(log))
      .find((event) => event?.name === "Executed")!;
    const alicesMessage = executed.args[4] as string;
    const reply = await call(`${url}/transactions`, "POST", {
      payload: json,
      signer: alice.address,
      signature,
    });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
    expect(reply.body.status).to.equal("executed");
    expect(reply.body.message.id, "the API tracks mallory's message as alice's").to.equal(alicesMessage);
  });

  describe("an attester whose node lies (the devnet's three attesters share INTEROP_NODES)", function () {
    let liarA: LyingNode;
    let liarB: LyingNode;
    let attesterNodes: NodeDirectory;
    let attesterStore: Store;

    before(async function () {
      liarA = new LyingNode(a.url);
      liarB = new LyingNode(b.url);
      attesterNodes = new Nodes({
        nodes: new Map([
          [a.chainId, [await liarA.start()]],
          [b.chainId, [await liarB.start()]],
        ]),
        timeoutMs: 1_000,
        recheckMs: 60_000,
      });
      attesterStore = Store.open({ path: ":memory:" });
    });

    after(async function () {
      attesterNodes?.close();
      attesterStore?.close();
      await liarA?.stop();
      await liarB?.stop();
    });

    /**
     * FINDING: the refund's safety rests on the attesters reading `inboundStatus` on the destination. A node that
     * answers `None` for a message that was delivered makes the attester sign `Undelivered`: with two attesters on
     * that node (on the devnet, all three share one node list), the source refunds a delivered message: a double
     * spend.
     */
    it("test_LyingStatus: an attester never signs a delivered message as undelivered", async function () {
      const recipient = await (await new RecordingRecipient__factory(b.admin).deploy()).waitForDeployment();
      const deadline = BigInt((await a.provider.getBlock("latest"))!.timestamp + 120);
      const { id, message } = await post(a, KEYS.admin.connect(a.provider), b, recipient.target as string, {
        deadline,
      });
      const epoch = await b.gateway.epoch();
      const digest = attestationDigest(id, epoch, attestedGatewayDomain(b.chainId, b.gateway.target as string));
      const signatures = [KEYS.attesters[0], KEYS.attesters[1]]
        .map((key) => ({
          key,
          signature: key.signingKey.sign(digest).serialized,
        }))
        .sort((x, y) => (BigInt(x.key.address) < BigInt(y.key.address) ? -1 : 1))
        .map((entry) => Signature.from(entry.signature).serialized);
      await mined(await b.gateway.connect(KEYS.relayer.connect(b.provider)).deliver(messageTuple(message), signatures));
      expect(await b.gateway.inboundStatus(a.chainId, message.nonce)).to.equal(4n);
      await advance([a, b], 600n);
      const inboundStatus = gatewayInterface.getFunction("inboundStatus")!.selector;
      liarB.lie = (method, params, result) =>
        method === "eth_call" &&
        String(
          (params[0] as { data?: string; input?: string }).data ?? (params[0] as { input?: string }).input,
        ).startsWith(inboundStatus)
          ? `0x${"00".repeat(32)}`
          : result;
      const attester = new Attester({
        key: KEYS.attesters[1],
        store: Store.open({ path: ":memory:" }),
        nodes: attesterNodes,
        chains: fixture.config(0),
        port: 0,
      });
      await waitFor("the attester to see the message", async () => {
        await attester.poll();
        return attester.attestation(id) !== undefined;
      });
      for (let round = 0; round < 3; round += 1) await attester.poll();
      liarB.lie = (_m, _p, result) => result;
      expect(attester.attestation(id, undefined, true), "signed a delivered message as undelivered").to.equal(
        undefined,
      );
    });
  });
});
