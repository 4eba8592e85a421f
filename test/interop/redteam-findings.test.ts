/**
 * Red-team findings for the interop services (issue 16), kept as regression tests: a front-runner bundling
 * alice's execution with its own lane send must not make the API track its message as hers (fixed when the API
 * came to read each payload's message from its `Executed` log). The other service findings are answered elsewhere: the
 * id that does not name its signer (`?signer=`, docs/interop.md), and a node lying to an attester about a head or a
 * delivery status (test/interop/attester-nodes.test.ts: an attester signs only what all its nodes agree on, so each
 * needs nodes of its own; with a single node it trusts that node).
 */
import path from "node:path";

import { expect } from "chai";
import { ZeroHash, type Wallet } from "ethers";

import { mined } from "../../src/chain/receipts.js";
import { ApiGateway } from "../../src/interop/api-gateway.js";
import type { NodeDirectory } from "../../src/interop/nodes.js";
import { interopGatewayDomain, PAYLOAD_TYPES, payloadSchema, payloadStruct } from "../../src/interop/payload.js";
import { SignedSender } from "../../src/interop/sender.js";
import { Store } from "../../src/store/store.js";
import { RedTeamBundler__factory } from "../../typechain-types/index.js";
import { KEYS, startInteropChains, type InteropFixture, type TestChain } from "./fixture.js";
import { erc7930, tempDir } from "./helpers.js";

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
});
