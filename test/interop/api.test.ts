import path from "node:path";

import SwaggerParser from "@apidevtools/swagger-parser";
import { expect } from "chai";
import { Signature, Wallet, type TypedDataDomain } from "ethers";

import { mined } from "../../src/chain/receipts.js";
import { ApiGateway } from "../../src/interop/api-gateway.js";
import type { InteropChain } from "../../src/interop/chains.js";
import { NodeDirectory } from "../../src/interop/nodes.js";
import {
  HALF_ORDER,
  interopGatewayDomain,
  PAYLOAD_TYPES,
  payloadSchema,
  payloadStruct,
  type Payload,
} from "../../src/interop/payload.js";
import { SignedSender } from "../../src/interop/sender.js";
import { Store } from "../../src/store/store.js";
import {
  InteropGateway__factory,
  MockOwnedWallet__factory,
  MockYesWallet__factory,
} from "../../typechain-types/index.js";
import { call, type Reply } from "../helpers/http.js";
import { freePort } from "../helpers/processes.js";
import { ProxyNode } from "../mocks/proxy-node.js";
import { KEYS, startInteropChains, type InteropFixture, type TestChain } from "./fixture.js";
import { signPayload, tempDir, transferJson, waitFor } from "./helpers.js";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

describe("interop: the API gateway takes signed payloads and submits them through a healthy node", function () {
  this.timeout(180_000);
  let fixture: InteropFixture;
  let a: TestChain;
  let b: TestChain;
  let temp: ReturnType<typeof tempDir>;
  let store: Store;
  let nodes: NodeDirectory;
  let config: InteropChain[];
  let gateway: ApiGateway;
  let url: string;
  let nonce = 1n;
  const lines: string[] = [];

  const alice = KEYS.alice;
  const bob = KEYS.bob;
  const mallory = KEYS.mallory;

  function transfer(change: Partial<Record<keyof Payload, unknown>> = {}): Record<string, unknown> {
    return transferJson(a, bob.address, nonce++, change);
  }

  function domain(): TypedDataDomain {
    return interopGatewayDomain(a.chainId, a.interop.target as string);
  }

  async function sign(json: Record<string, unknown>, key: Wallet = alice): Promise<string> {
    return signPayload(a, json, key);
  }

  async function submit(json: Record<string, unknown>, key: Wallet = alice, signer = key.address): Promise<Reply> {
    return call(`${url}/transactions`, "POST", { payload: json, signer, signature: await sign(json, key) });
  }

  async function settled(id: string, signer = alice.address): Promise<any> {
    return waitFor(`${id} to settle`, async () => {
      const { body } = await call(`${url}/transactions/${id}?signer=${signer}`);
      return ["executed", "failed", "delivered", "refunded"].includes(body.status) ? body : undefined;
    });
  }

  before(async function () {
    temp = tempDir("interop-api-");
    fixture = await startInteropChains();
    [a, b] = fixture.chains;
    config = fixture.config();
    // The first node of chain A is down: the directory uses the second.
    const dead = `http://127.0.0.1:${await freePort()}`;
    nodes = new NodeDirectory({
      nodes: new Map([
        [a.chainId, [dead, a.url]],
        [b.chainId, [b.url]],
      ]),
      timeoutMs: 1_000,
      recheckMs: 2_000,
      pollingIntervalMs: 100,
    });
    store = Store.open({ path: path.join(temp.dir, "api.sqlite") });
    gateway = new ApiGateway({
      store,
      nodes,
      chains: config,
      sender: new SignedSender({ nodes, signer: KEYS.relayer }),
      port: 0,
      pollIntervalMs: 50,
      log: (line) => lines.push(line),
    });
    await gateway.start();
    url = gateway.url;
    for (const key of [alice, mallory]) {
      await mined(await a.token.mint(key.address, 1_000_000n));
      await mined(await a.token.connect(key.connect(a.provider)).approve(a.interop.target, 2n ** 255n));
    }
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(lines.slice(-30).join("\n"));
  });

  after(async function () {
    await gateway?.stop();
    store?.close();
    nodes?.close();
    await fixture?.stop();
    temp?.remove();
  });

  it("serves an OpenAPI 3.1 document that an outside validator accepts, listing every route", async function () {
    const { status, body } = await call(`${url}/openapi.json`);
    expect(status).to.equal(200);
    expect(body.openapi).to.equal("3.1.0");
    await SwaggerParser.validate(structuredClone(body));
    const documented = Object.entries(body.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(documented.sort()).to.deep.equal([...gateway.routes].sort());
    expect(gateway.routes).to.include.members(["POST /transactions", "GET /transactions/{id}"]);
    expect(Object.keys(body.components.schemas)).to.include.members(["Payload", "TransactionRequest", "Transaction"]);
    const health = await call(`${url}/health`);
    expect(health.body).to.deep.include({ ok: true, database: "ok" });
  });

  it("executes a native transfer: 202 with the contract's own payloadDigest as id, then executed", async function () {
    const json = transfer();
    const before = await a.token.balanceOf(bob.address);
    const reply = await submit(json);
    expect(reply.status, JSON.stringify(reply.body)).to.equal(202);
    const onChain = await a.interop.payloadDigest(payloadStruct(payloadSchema.parse(json)));
    expect(reply.body.id).to.equal(onChain);
    expect(reply.body.status).to.equal("accepted");
    const done = await settled(reply.body.id);
    expect(done.status).to.equal("executed");
    expect(done.source.status).to.equal("executed");
    expect(done.source.txHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(done.message).to.equal(null);
    expect(done.destination).to.equal(null);
    expect(await a.token.balanceOf(bob.address)).to.equal(before + 1000n);
    // The relayer's key paid: it sent the transaction, the signer only signed.
    const tx = await a.provider.getTransaction(done.source.txHash);
    expect(tx!.from).to.equal(KEYS.relayer.address);
  });

  it("is idempotent: the same payload again answers 200 with what is stored and sends nothing", async function () {
    const json = transfer();
    const first = await submit(json);
    expect(first.status).to.equal(202);
    const done = await settled(first.body.id);
    const count = await a.provider.getTransactionCount(KEYS.relayer.address);
    const again = await submit(json);
    expect(again.status).to.equal(200);
    expect(again.body.id).to.equal(first.body.id);
    expect(again.body.source.txHash).to.equal(done.source.txHash);
    // A second valid signature of the same payload (the same key signs once: RFC 6979) changes nothing either.
    const replay = await call(`${url}/transactions`, "POST", {
      payload: json,
      signer: alice.address,
      signature: await sign(json),
    });
    expect(replay.status).to.equal(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await a.provider.getTransactionCount(KEYS.relayer.address)).to.equal(count);
  });

  it("answers 400 naming the field for malformed bodies", async function () {
    const json = transfer();
    const signature = await sign(json);
    const cases: Array<[unknown, string, string]> = [
      [
        { payload: { ...json, amount: 5 }, signer: alice.address, signature },
        "payload.amount",
        "REQUEST_INVALID_FIELD",
      ],
      [
        { payload: { ...json, kind: "Swap" }, signer: alice.address, signature },
        "payload.kind",
        "REQUEST_INVALID_FIELD",
      ],
      [{ payload: json, signer: "0x12", signature }, "signer", "REQUEST_INVALID_FIELD"],
      [{ payload: json, signer: alice.address }, "signature", "REQUEST_INVALID_FIELD"],
      [{ payload: json, signer: alice.address, signature, tip: 1 }, "tip", "REQUEST_UNKNOWN_FIELD"],
      [
        { payload: { ...json, version: 2 }, signer: alice.address, signature },
        "payload.version",
        "REQUEST_INVALID_FIELD",
      ],
    ];
    for (const [body, field, code] of cases) {
      const reply = await call(`${url}/transactions`, "POST", body);
      expect(reply.status, field).to.equal(400);
      expect(reply.body.error, field).to.include({ field, code });
    }
  });

  it("test_RevertWhen_SignatureIsAnotherKeys: 400 before anything is stored or sent", async function () {
    const json = transfer();
    const forged = await call(`${url}/transactions`, "POST", {
      payload: json,
      signer: alice.address,
      signature: await sign(json, mallory),
    });
    expect(forged.status).to.equal(400);
    expect(forged.body.error).to.include({ code: "SIGNATURE_INVALID", field: "signature" });
  });

  it("test_RevertWhen_MalleableSignature: alice's own signature with s flipped is refused (400)", async function () {
    const json = transfer();
    const sig = Signature.from(await sign(json));
    const high = N - BigInt(sig.s);
    expect(high > HALF_ORDER).to.equal(true);
    const flipped = `${sig.r}${high.toString(16).padStart(64, "0")}${(sig.v === 27 ? 28 : 27).toString(16)}`;
    const reply = await call(`${url}/transactions`, "POST", {
      payload: json,
      signer: alice.address,
      signature: flipped,
    });
    expect(reply.status).to.equal(400);
    expect(reply.body.error.code).to.equal("SIGNATURE_INVALID");
  });

  it("test_RevertWhen_SignedForAnotherChainOrGateway: a signature under another domain is refused (400)", async function () {
    const json = transfer();
    const payload = payloadStruct(payloadSchema.parse(json));
    for (const wrong of [
      interopGatewayDomain(b.chainId, a.interop.target as string),
      // (The fixture deploys to the same addresses on both chains: another gateway is another address.)
      interopGatewayDomain(a.chainId, Wallet.createRandom().address),
    ]) {
      const signature = await alice.signTypedData(wrong, PAYLOAD_TYPES, payload);
      const reply = await call(`${url}/transactions`, "POST", { payload: json, signer: alice.address, signature });
      expect(reply.status).to.equal(400);
    }
  });

  it("test_RevertWhen_Eip7702CodeSaysYes: an EOA delegated to a yes-wallet is still checked as ECDSA (400)", async function () {
    const yes = await (await new MockYesWallet__factory(a.admin).deploy()).waitForDeployment();
    const designator = `0xef0100${(yes.target as string).slice(2).toLowerCase()}`;
    await a.provider.send("anvil_setCode", [alice.address, designator]);
    try {
      const json = transfer();
      const reply = await call(`${url}/transactions`, "POST", {
        payload: json,
        signer: alice.address,
        signature: await sign(json, mallory),
      });
      expect(reply.status).to.equal(400);
      expect(reply.body.error.code).to.equal("SIGNATURE_INVALID");
    } finally {
      await a.provider.send("anvil_setCode", [alice.address, "0x"]);
    }
  });

  it("takes an ERC-1271 contract signer's signature (then the chain decides: it has no allowance, 422)", async function () {
    const wallet = await (await new MockOwnedWallet__factory(a.admin).deploy(alice.address)).waitForDeployment();
    const json = transfer();
    const reply = await call(`${url}/transactions`, "POST", {
      payload: json,
      signer: wallet.target,
      signature: await sign(json),
    });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(422);
    expect(reply.body.error.code).to.equal("INSUFFICIENT_ALLOWANCE");
  });

  it("answers 422 with the contract's reason when the gateway would refuse now, storing nothing", async function () {
    const now = (await a.provider.getBlock("latest"))!.timestamp;
    const cases: Array<[Record<string, unknown>, string, string | undefined]> = [
      [transfer({ deadline: now - 1 }), "PAYLOAD_EXPIRED", "payload.deadline"],
      [transfer({ asset: Wallet.createRandom().address }), "UNKNOWN_ASSET", "payload.asset"],
      [transfer({ amount: "999999999999" }), "INSUFFICIENT_FUNDS", "payload.amount"],
      [transfer({ kind: "CrossChain", destinationChain: "eip155:777" }), "UNKNOWN_CHAIN", "payload.destinationChain"],
      [
        transfer({ sourceChain: "eip155:1", destinationChain: "eip155:1" }),
        "UNKNOWN_SOURCE_CHAIN",
        "payload.sourceChain",
      ],
    ];
    for (const [json, code, field] of cases) {
      const reply = await submit(json);
      expect(reply.status, `${code}: ${JSON.stringify(reply.body)}`).to.equal(422);
      expect(reply.body.error.code, JSON.stringify(reply.body)).to.equal(code);
      expect(reply.body.error.field).to.equal(field);
    }
  });

  it("test_RevertWhen_NonceReplayed: another payload with a used nonce is refused (422 NONCE_USED)", async function () {
    const first = transfer();
    const reply = await submit(first);
    await settled(reply.body.id);
    const second = transfer({ nonce: first.nonce, amount: "7" });
    const refused = await submit(second);
    expect(refused.status).to.equal(422);
    expect(refused.body.error).to.include({ code: "NONCE_USED", field: "payload.nonce" });
  });

  it("answers 422 PAUSED while the gateway is paused, and takes the payload once it is unpaused", async function () {
    await mined(await a.interop.pause());
    const json = transfer();
    try {
      const refused = await submit(json);
      expect(refused.status).to.equal(422);
      expect(refused.body.error.code).to.equal("PAUSED");
    } finally {
      await mined(await a.interop.unpause());
    }
    const taken = await submit(json);
    expect(taken.status).to.equal(202);
    expect((await settled(taken.body.id)).status).to.equal("executed");
  });

  it("test_FrontRunByAnotherSubmitter: the same signed payload executed by someone else first is recorded, not resent", async function () {
    const json = transfer();
    const signature = await sign(json);
    const before = await a.token.balanceOf(bob.address);
    const tx = await a.interop
      .connect(mallory.connect(a.provider))
      .execute(payloadStruct(payloadSchema.parse(json)), alice.address, signature);
    const receipt = await mined(tx);
    const reply = await call(`${url}/transactions`, "POST", { payload: json, signer: alice.address, signature });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
    expect(reply.body.status).to.equal("executed");
    expect(reply.body.source.txHash).to.equal(receipt.hash);
    expect(await a.token.balanceOf(bob.address)).to.equal(before + 1000n);
  });

  it("test_IdSquatting: a copy of alice's payload signed by mallory gets its own record; alice's is not blocked", async function () {
    const json = transfer();
    const squat = await submit(json, mallory);
    expect(squat.status).to.equal(202);
    const own = await submit(json);
    expect(own.status, JSON.stringify(own.body)).to.equal(202);
    expect(own.body.id).to.equal(squat.body.id);
    const ambiguous = await call(`${url}/transactions/${own.body.id}`);
    expect(ambiguous.status).to.equal(409);
    expect(ambiguous.body.error.code).to.equal("TRANSACTION_AMBIGUOUS");
    const mine = await settled(own.body.id, alice.address);
    const theirs = await settled(own.body.id, mallory.address);
    expect(mine.status).to.equal("executed");
    expect(theirs.status).to.equal("executed");
    expect(mine.source.txHash).to.not.equal(theirs.source.txHash);
  });

  it("answers 404 for an unknown id and 400 for a malformed one", async function () {
    const unknown = await call(`${url}/transactions/0x${"11".repeat(32)}`);
    expect(unknown.status).to.equal(404);
    expect(unknown.body.error.code).to.equal("TRANSACTION_NOT_FOUND");
    expect((await call(`${url}/transactions/0x1234`)).status).to.equal(400);
  });

  it("GET /transactions lists them newest first, by status, a page at a time, each once, with counts", async function () {
    const json = transfer();
    const taken = await submit(json);
    expect(taken.status).to.equal(202);
    await settled(taken.body.id);
    const every = async (query: string) => {
      const seen: any[] = [];
      let cursor: string | null = null;
      let pages = 0;
      let counts: Record<string, number> = {};
      do {
        const { status, body } = await call(
          `${url}/transactions?${query}${cursor === null ? "" : `&cursor=${cursor}`}`,
        );
        expect(status).to.equal(200);
        seen.push(...body.items);
        counts = body.counts;
        cursor = body.nextCursor;
        pages += 1;
      } while (cursor !== null && pages < 100);
      return { seen, pages, counts };
    };
    const all = await every("limit=2");
    // The newest is the one just submitted, exactly as GET /transactions/:id shows it.
    const newest = await call(`${url}/transactions/${taken.body.id}?signer=${alice.address}`);
    expect(all.seen[0]).to.deep.equal(newest.body);
    expect(all.pages).to.equal(Math.ceil(all.seen.length / 2));
    const keys = all.seen.map((item) => `${item.id}:${item.signer}`);
    expect(new Set(keys).size).to.equal(keys.length);
    const times = all.seen.map((item) => item.createdAt as string);
    expect(times).to.deep.equal([...times].sort().reverse());
    expect(Object.values(all.counts).reduce((sum, n) => sum + n, 0)).to.equal(all.seen.length);
    for (const [status, n] of Object.entries(all.counts)) {
      const only = await every(`status=${status}&limit=500`);
      expect(only.seen).to.have.length(n);
      expect(only.seen.every((item) => item.status === status)).to.equal(true);
    }
    expect(all.counts.executed).to.be.greaterThan(0);

    for (const [query, field] of [
      ["status=lost", "status"],
      ["limit=0", "limit"],
      ["limit=501", "limit"],
      ["cursor=bm90LWpzb24", "cursor"], // "not-json"
      ["cursor=WyJ5ZXN0ZXJkYXkiLCIweDEyIiwiMHgzNCJd", "cursor"], // ["yesterday","0x12","0x34"]
      ["signer=0x0000000000000000000000000000000000000001", "signer"],
    ] as const) {
      const { status, body } = await call(`${url}/transactions?${query}`);
      expect([query, status, body.error?.field]).to.deep.equal([query, 400, field]);
    }
  });

  it("answers 503 and stores nothing while the source chain cannot be reached", async function () {
    const down = new NodeDirectory({
      nodes: new Map([[a.chainId, [`http://127.0.0.1:${await freePort()}`]]]),
      timeoutMs: 300,
    });
    const downStore = Store.open({ path: ":memory:" });
    const offline = new ApiGateway({
      store: downStore,
      nodes: down,
      chains: [config[0]!],
      sender: new SignedSender({ nodes: down, signer: KEYS.relayer }),
      port: 0,
    });
    await offline.start();
    try {
      const json = transfer();
      const reply = await call(`${offline.url}/transactions`, "POST", {
        payload: json,
        signer: alice.address,
        signature: await sign(json, mallory),
      });
      expect(reply.status).to.equal(503);
      expect(reply.body.error.code).to.equal("CHAIN_UNAVAILABLE");
      expect((await call(`${offline.url}/health`)).status).to.equal(503);
      expect(downStore.get("SELECT count(*) AS n FROM interop_transactions")).to.deep.equal({ n: 0 });
    } finally {
      await offline.stop();
      downStore.close();
      down.close();
    }
  });

  it("asks again when a simulation ends in a Panic (never a 422), and answers 503 if it keeps panicking", async function () {
    // A node in front of chain A that answers the next `panics` simulations of `execute` with Panic(0x11), as Anvil
    // did under load in the interop benchmark. The contracts refuse bad input with custom errors, never a Panic.
    const execute = InteropGateway__factory.createInterface().getFunction("execute").selector;
    let panics = 0;
    const proxy = new ProxyNode(a.url);
    proxy.intercept = (method, params) => {
      const call = params[0] as { data?: string; input?: string } | undefined;
      if (method !== "eth_call" || !String(call?.data ?? call?.input).startsWith(execute) || panics === 0) {
        return undefined;
      }
      panics -= 1;
      return { error: { code: 3, message: "execution reverted", data: `0x4e487b71${"11".padStart(64, "0")}` } };
    };
    const proxyUrl = await proxy.start();
    const proxied = new NodeDirectory({
      nodes: new Map([[a.chainId, [proxyUrl]]]),
      timeoutMs: 1_000,
    });
    const panicStore = Store.open({ path: ":memory:" });
    const api = new ApiGateway({
      store: panicStore,
      nodes: proxied,
      chains: [config[0]!],
      sender: new SignedSender({ nodes: proxied, signer: KEYS.relayer }),
      port: 0,
    });
    await api.start();
    try {
      panics = 1;
      const once = transfer();
      const accepted = await call(`${api.url}/transactions`, "POST", {
        payload: once,
        signer: alice.address,
        signature: await sign(once),
      });
      expect(accepted.status, JSON.stringify(accepted.body)).to.equal(202);
      expect(panics).to.equal(0);
      panics = 1_000;
      const always = transfer();
      const refused = await call(`${api.url}/transactions`, "POST", {
        payload: always,
        signer: alice.address,
        signature: await sign(always),
      });
      expect(refused.status, JSON.stringify(refused.body)).to.equal(503);
      expect(refused.body.error.code).to.equal("CHAIN_UNAVAILABLE");
      expect(panicStore.get("SELECT count(*) AS n FROM interop_transactions")).to.deep.equal({ n: 1 });
    } finally {
      panics = 0;
      await api.stop();
      panicStore.close();
      proxied.close();
      await proxy.stop();
    }
  });
});
