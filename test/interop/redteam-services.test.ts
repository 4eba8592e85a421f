/**
 * Red team of the interop API gateway as a stranger on the network meets it: malformed and oversized bodies, bad
 * chain ids, a node that answers for another chain, and somebody else posting a user's signed payload first, or a
 * copy with one field changed. Each test is an attack and passes when the service resists it (nothing stored,
 * nothing sent, nothing moved, the service still healthy). Attacks that work are listed in the red team's report.
 */
import path from "node:path";

import { expect } from "chai";
import { ZeroHash, type Wallet } from "ethers";

import { mined } from "../../src/chain/receipts.js";
import { ApiGateway } from "../../src/interop/api-gateway.js";
import { NodeDirectory } from "../../src/interop/nodes.js";
import { interopGatewayDomain, PAYLOAD_TYPES, payloadSchema, payloadStruct } from "../../src/interop/payload.js";
import { SignedSender } from "../../src/interop/sender.js";
import { Store } from "../../src/store/store.js";
import { RedTeamBundler__factory } from "../../typechain-types/index.js";
import { KEYS, startInteropChains, type InteropFixture, type TestChain } from "./fixture.js";
import { erc7930, signPayload, tempDir, transferJson, waitFor } from "./helpers.js";

interface Reply {
  status: number;
  body: any;
}

async function raw(url: string, body: string, contentType = "application/json"): Promise<Reply> {
  const reply = await fetch(url, { method: "POST", body, headers: { "content-type": contentType } });
  return { status: reply.status, body: await reply.json() };
}

async function call(url: string, method = "GET", body?: unknown): Promise<Reply> {
  return method === "GET"
    ? fetch(url).then(async (reply) => ({ status: reply.status, body: await reply.json() }))
    : raw(url, JSON.stringify(body));
}

describe("interop red team: the API gateway against malformed input, bad chains and front-runners", function () {
  this.timeout(180_000);
  let fixture: InteropFixture;
  let a: TestChain;
  let b: TestChain;
  let temp: ReturnType<typeof tempDir>;
  let store: Store;
  let nodes: NodeDirectory;
  let gateway: ApiGateway;
  let url: string;
  let nonce = 1n;
  const alice = KEYS.alice;
  const bob = KEYS.bob;
  const mallory = KEYS.mallory;

  function transfer(change: Record<string, unknown> = {}): Record<string, unknown> {
    return transferJson(a, bob.address, nonce++, change);
  }

  async function sign(json: Record<string, unknown>, key: Wallet = alice): Promise<string> {
    return signPayload(a, json, key);
  }

  function stored(): number {
    return store.get<{ n: number }>("SELECT count(*) AS n FROM interop_transactions")!.n;
  }

  /** The service still answers and is healthy after the attack. */
  async function stillHealthy(): Promise<void> {
    const health = await call(`${url}/health`);
    expect(health.status).to.equal(200);
    expect(health.body).to.deep.include({ ok: true, database: "ok" });
  }

  before(async function () {
    temp = tempDir("interop-red-api-");
    fixture = await startInteropChains({ lane: true });
    [a, b] = fixture.chains;
    nodes = fixture.nodes();
    store = Store.open({ path: path.join(temp.dir, "api.sqlite") });
    gateway = new ApiGateway({
      store,
      nodes,
      chains: fixture.config(),
      sender: new SignedSender({ nodes, signer: KEYS.relayer }),
      port: 0,
      pollIntervalMs: 50,
    });
    await gateway.start();
    url = gateway.url;
    const bank = a.lane!.bankToken;
    for (const key of [alice, mallory]) {
      await mined(await bank.mint(key.address, 1_000_000n, ZeroHash));
      await mined(await bank.connect(key.connect(a.provider)).approve(a.interop.target, 2n ** 255n));
      await mined(await a.token.mint(key.address, 1_000_000n));
      await mined(await a.token.connect(key.connect(a.provider)).approve(a.interop.target, 2n ** 255n));
    }
  });

  after(async function () {
    await gateway?.stop();
    store?.close();
    nodes?.close();
    await fixture?.stop();
    temp?.remove();
  });

  it("test_RevertWhen_BodyIsMalformedOrHuge: 400 or 413, nothing stored, still healthy", async function () {
    const before = stored();
    const cases: Array<[string, string, number, string]> = [
      ['{"payload":', "application/json", 400, "REQUEST_MALFORMED_JSON"],
      ["hello", "text/plain", 400, "REQUEST_NOT_JSON"],
      ["[1,2,3]", "application/json", 400, "REQUEST_NOT_AN_OBJECT"],
      ["null", "application/json", 400, "REQUEST_NOT_AN_OBJECT"],
      // Deep nesting inside the size limit: refused by shape, the parser does not fall over.
      [`${"[".repeat(30_000)}${"]".repeat(30_000)}`, "application/json", 400, "REQUEST_NOT_AN_OBJECT"],
      [JSON.stringify({ junk: "a".repeat(70 * 1024) }), "application/json", 413, "REQUEST_TOO_LARGE"],
      ['{"__proto__":{"admin":true},"payload":{}}', "application/json", 400, "REQUEST_INVALID_FIELD"],
    ];
    for (const [body, type, status, code] of cases) {
      const reply = await raw(`${url}/transactions`, body, type);
      expect(reply.status, code).to.equal(status);
      expect(reply.body.error.code, body.slice(0, 40)).to.equal(code);
    }
    // Far over the limit: the service answers 413 or drops the connection before reading it all; either way it
    // stores nothing and stays up.
    const huge = await raw(`${url}/transactions`, JSON.stringify({ junk: "a".repeat(8 * 1024 * 1024) })).catch(
      () => undefined,
    );
    if (huge !== undefined) expect(huge.status).to.equal(413);
    expect(({} as Record<string, unknown>)["admin"]).to.equal(undefined);
    expect(stored()).to.equal(before);
    await stillHealthy();
  });

  it("test_RevertWhen_ChainIdsAreBad: malformed 400, unserved source 422, unregistered destination 422", async function () {
    const before = stored();
    const bad = ["eip155:0", "eip155:01", "eip155:4242 ", "cosmos:4242", "eip155:-1", `eip155:${"9".repeat(78)}`];
    for (const chain of bad) {
      const json = transfer({ sourceChain: chain });
      const reply = await call(`${url}/transactions`, "POST", {
        payload: json,
        signer: alice.address,
        signature: "0x01",
      });
      expect(reply.status, chain).to.equal(400);
      expect(reply.body.error.field, chain).to.equal("payload.sourceChain");
    }
    // A well-formed chain this gateway does not serve.
    const unserved = transfer({ sourceChain: "eip155:999", destinationChain: "eip155:999" });
    const refused = await call(`${url}/transactions`, "POST", {
      payload: unserved,
      signer: alice.address,
      signature: "0x01",
    });
    expect(refused.status).to.equal(422);
    expect(refused.body.error.code).to.equal("UNKNOWN_SOURCE_CHAIN");
    // A CrossChain payload, correctly signed, to a chain the ChainRegistry does not know: the chain refuses it.
    const nowhere = transfer({ kind: "CrossChain", destinationChain: "eip155:999" });
    const unknown = await call(`${url}/transactions`, "POST", {
      payload: nowhere,
      signer: alice.address,
      signature: await sign(nowhere),
    });
    expect(unknown.status, JSON.stringify(unknown.body)).to.equal(422);
    expect(unknown.body.error.code).to.equal("UNKNOWN_CHAIN");
    expect(stored()).to.equal(before);
    await stillHealthy();
  });

  it("test_RevertWhen_TheNodeAnswersForAnotherChain: a node of chain A configured as chain 4444 is never used", async function () {
    // An operator's mistake or a hostile node: the URL given for chain 4444 is chain A's. The gateway must not
    // submit a payload "for 4444" there (where the same InteropGateway address exists).
    const foreign = 4444n;
    const wrong = new NodeDirectory({ nodes: new Map([[foreign, [a.url]]]), timeoutMs: 500 });
    const wrongStore = Store.open({ path: ":memory:" });
    const confused = new ApiGateway({
      store: wrongStore,
      nodes: wrong,
      chains: [{ ...fixture.config()[0]!, chainId: foreign }],
      sender: new SignedSender({ nodes: wrong, signer: KEYS.relayer }),
      port: 0,
    });
    await confused.start();
    try {
      const json = transfer({ sourceChain: `eip155:${foreign}`, destinationChain: `eip155:${foreign}` });
      const signature = await alice.signTypedData(
        interopGatewayDomain(foreign, a.interop.target as string),
        PAYLOAD_TYPES,
        payloadStruct(payloadSchema.parse(json)),
      );
      const count = await a.provider.getTransactionCount(KEYS.relayer.address);
      const reply = await call(`${confused.url}/transactions`, "POST", {
        payload: json,
        signer: alice.address,
        signature,
      });
      expect(reply.status, JSON.stringify(reply.body)).to.equal(503);
      expect(reply.body.error.code).to.equal("CHAIN_UNAVAILABLE");
      expect(wrongStore.get("SELECT count(*) AS n FROM interop_transactions")).to.deep.equal({ n: 0 });
      expect(await a.provider.getTransactionCount(KEYS.relayer.address)).to.equal(count);
    } finally {
      await confused.stop();
      wrongStore.close();
      wrong.close();
    }
  });

  it("test_FrontRunAtTheApi: mallory posts alice's signed payload first; the outcome is alice's, executed once", async function () {
    const json = transfer();
    const signature = await sign(json);
    const bobBefore = await a.token.balanceOf(bob.address);
    const aliceBefore = await a.token.balanceOf(alice.address);
    const first = await call(`${url}/transactions`, "POST", { payload: json, signer: alice.address, signature });
    expect(first.status).to.equal(202);
    const own = await call(`${url}/transactions`, "POST", { payload: json, signer: alice.address, signature });
    expect(own.status).to.equal(200);
    expect(own.body.id).to.equal(first.body.id);
    const done = await waitFor("executed", async () => {
      const { body } = await call(`${url}/transactions/${first.body.id}`);
      return body.status === "executed" ? body : undefined;
    });
    expect(done.signer).to.equal(alice.address);
    expect(await a.token.balanceOf(bob.address)).to.equal(bobBefore + 1000n);
    expect(await a.token.balanceOf(alice.address)).to.equal(aliceBefore - 1000n);
  });

  it("test_RevertWhen_FrontRunnerChangesAField: alice's signature with another target, amount or kind is refused", async function () {
    const json = transfer();
    const signature = await sign(json);
    const before = stored();
    const changes: Array<Record<string, unknown>> = [
      { target: mallory.address },
      { amount: "999999" },
      { deadline: 4_000_000_001 },
      { kind: "CrossChain", destinationChain: "eip155:4343" },
      { nonce: String(nonce++) },
    ];
    for (const change of changes) {
      const reply = await call(`${url}/transactions`, "POST", {
        payload: { ...json, ...change },
        signer: alice.address,
        signature,
      });
      expect(reply.status, JSON.stringify(change)).to.equal(400);
      expect(reply.body.error.code).to.equal("SIGNATURE_INVALID");
    }
    // Naming mallory as the signer of alice's signature does not work either.
    const renamed = await call(`${url}/transactions`, "POST", { payload: json, signer: mallory.address, signature });
    expect(renamed.status).to.equal(400);
    expect(stored()).to.equal(before);
    // Alice's own payload is untouched by all that.
    const own = await call(`${url}/transactions`, "POST", { payload: json, signer: alice.address, signature });
    expect(own.status).to.equal(202);
  });

  /**
   * Finding (fixed): `ApiGateway.#applyExecution` took the LAST `MessagePosted` of the receipt that executed the payload
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
      nonce: "900001",
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
