import path from "node:path";

import { expect } from "chai";
import { encodeBytes32String, type Wallet } from "ethers";

import { mined } from "../../src/chain/receipts.js";
import { ApiGateway } from "../../src/interop/api-gateway.js";
import { Attester } from "../../src/interop/attester.js";
import type { NodeDirectory } from "../../src/interop/nodes.js";
import { interopGatewayDomain, PAYLOAD_TYPES, payloadSchema, payloadStruct } from "../../src/interop/payload.js";
import { Relayer } from "../../src/interop/relayer.js";
import { SignedSender } from "../../src/interop/sender.js";
import { Store } from "../../src/store/store.js";
import { freePort } from "../helpers/processes.js";
import { KEYS, REFUND_DELAY, startInteropChains, type InteropFixture, type TestChain } from "./fixture.js";
import { advance, tempDir, waitFor } from "./helpers.js";

interface TransactionJson {
  id: string;
  status: string;
  reason: string | null;
  source: { txHash: string | null; status: string };
  message: { id: string; status: string } | null;
  destination: { status: string; txHash: string | null } | null;
  refund: { txHash: string | null } | null;
}

/**
 * The whole path across two chains: a user's signed CrossChain payload to the
 * API gateway, `execute` on the source InteropGateway, the route's BurnMintLane
 * burning through the AttestedGateway, three attesters, the relayer delivering,
 * the destination lane minting; and the refund path when it expires undelivered.
 */
describe("interop: a cross-chain BankToken transfer from the API to the destination mint", function () {
  this.timeout(240_000);
  let fixture: InteropFixture;
  let a: TestChain;
  let b: TestChain;
  let temp: ReturnType<typeof tempDir>;
  let nodes: NodeDirectory;
  const stores: Store[] = [];
  const attesters: Attester[] = [];
  let relayer: Relayer;
  let api: ApiGateway;
  let nonce = 1n;
  const lines: string[] = [];
  const alice = KEYS.alice;
  const bob = KEYS.bob;

  function store(name: string): Store {
    const made = Store.open({ path: path.join(temp.dir, `${name}.sqlite`) });
    stores.push(made);
    return made;
  }

  function crossChain(amount: bigint, deadline: number, change: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      version: 1,
      sourceChain: `eip155:${a.chainId}`,
      destinationChain: `eip155:${b.chainId}`,
      kind: "CrossChain",
      target: bob.address,
      asset: a.lane!.bankToken.target,
      amount: amount.toString(),
      data: "0x",
      nonce: String(nonce++),
      deadline,
      ...change,
    };
  }

  async function submit(json: Record<string, unknown>, key: Wallet = alice): Promise<{ status: number; body: any }> {
    const signature = await key.signTypedData(
      interopGatewayDomain(a.chainId, a.interop.target as string),
      PAYLOAD_TYPES,
      payloadStruct(payloadSchema.parse(json)),
    );
    const reply = await fetch(`${api.url}/transactions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ payload: json, signer: key.address, signature }),
    });
    return { status: reply.status, body: await reply.json() };
  }

  async function until(id: string, status: string): Promise<TransactionJson> {
    return waitFor(
      `${id} ${status}`,
      async () => {
        const body = (await (await fetch(`${api.url}/transactions/${id}`)).json()) as TransactionJson;
        return body.status === status ? body : undefined;
      },
      60_000,
    );
  }

  async function supplies(): Promise<{ a: bigint; b: bigint }> {
    return { a: await a.lane!.bankToken.totalSupply(), b: await b.lane!.bankToken.totalSupply() };
  }

  before(async function () {
    temp = tempDir("interop-crosschain-");
    fixture = await startInteropChains({ lane: true });
    [a, b] = fixture.chains;
    nodes = fixture.nodes();
    const config = fixture.config();
    for (const [index, key] of KEYS.attesters.entries()) {
      const made = new Attester({
        name: `attester-${index}`,
        key,
        store: store(`attester-${index}`),
        nodes,
        chains: config,
        port: await freePort(),
        pollIntervalMs: 50,
      });
      attesters.push(made);
      await made.start();
    }
    relayer = new Relayer({
      store: store("relayer"),
      nodes,
      chains: config,
      sender: new SignedSender({ nodes, signer: KEYS.relayer }),
      attesters: attesters.map((made) => made.url),
      pollIntervalMs: 50,
      retry: { baseMs: 100, maxMs: 400, factor: 2 },
      log: (line) => lines.push(line),
    });
    api = new ApiGateway({
      store: store("api"),
      nodes,
      chains: config,
      // Another key than the relayer's: two processes in production, one here.
      sender: new SignedSender({ nodes, signer: KEYS.mallory }),
      port: 0,
      pollIntervalMs: 50,
      log: (line) => lines.push(line),
    });
    await api.start();
    await relayer.start();
    // Bank A's issuer issues to alice on chain A; alice lets the InteropGateway take her tokens.
    await mined(await a.lane!.bankToken.mint(alice.address, 1_000_000n, encodeBytes32String("deposit-1")));
    await mined(await a.lane!.bankToken.connect(alice.connect(a.provider)).approve(a.interop.target, 10n ** 18n));
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(lines.slice(-40).join("\n"));
  });

  after(async function () {
    await api?.stop();
    await relayer?.stop();
    for (const made of attesters) await made.stop();
    for (const made of stores) made.close();
    await fixture?.stop();
    temp?.remove();
  });

  it("burns on A, mints to the target on B once two of three attesters signed; supply is conserved", async function () {
    const issued = 1_000_000n;
    const before = await supplies();
    expect(before.a + before.b).to.equal(issued);
    const now = (await a.provider.getBlock("latest"))!.timestamp;
    const reply = await submit(crossChain(12_345n, now + 3_600));
    expect(reply.status, JSON.stringify(reply.body)).to.equal(202);
    const done = await until(reply.body.id, "delivered");
    expect(done.message!.id).to.match(/^0x[0-9a-f]{64}$/);
    expect(done.destination).to.deep.include({ status: "Delivered" });
    expect(done.destination!.txHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(await b.lane!.bankToken.balanceOf(bob.address)).to.equal(12_345n);
    const after = await supplies();
    expect(after.a).to.equal(before.a - 12_345n);
    expect(after.b).to.equal(before.b + 12_345n);
    expect(after.a + after.b).to.equal(issued);
    // The ledgers: A exported, B imported; issuers' outstanding unchanged on A.
    const [, exportedA] = await a.lane!.ledger.bridgeOf(a.lane!.lane.target);
    const [importedB] = await b.lane!.ledger.bridgeOf(b.lane!.lane.target);
    expect(exportedA).to.equal(12_345n);
    expect(importedB).to.equal(12_345n);
    // Gas of the two legs, for the record (the target counts the lane's burn and mint).
    const execute = await a.provider.getTransactionReceipt(done.source.txHash!);
    const deliver = await b.provider.getTransactionReceipt(done.destination!.txHash!);
    console.log(
      `      gas: execute (InteropGateway → lane burn → sendMessage) ${execute!.gasUsed}, ` +
        `deliver (2-of-3 → lane mint) ${deliver!.gasUsed}, total ${execute!.gasUsed + deliver!.gasUsed}`,
    );
  });

  it("refunds alice on A when the transfer expires undelivered (the relayer was down), never minting on B", async function () {
    await relayer.stop();
    const now = (await a.provider.getBlock("latest"))!.timestamp;
    const aliceBefore = await a.lane!.bankToken.balanceOf(alice.address);
    const bobBefore = await b.lane!.bankToken.balanceOf(bob.address);
    const reply = await submit(crossChain(777n, now + 60));
    const executed = await until(reply.body.id, "executed");
    expect(await a.lane!.bankToken.balanceOf(alice.address)).to.equal(aliceBefore - 777n);
    await advance([a, b], 61n + REFUND_DELAY);
    await relayer.start();
    const refunded = await until(reply.body.id, "refunded");
    expect(refunded.refund!.txHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(refunded.message!.id).to.equal(executed.message!.id);
    expect(await a.lane!.bankToken.balanceOf(alice.address)).to.equal(aliceBefore);
    expect(await b.lane!.bankToken.balanceOf(bob.address)).to.equal(bobBefore);
    expect(await b.gateway.inboundStatus(a.chainId, (await a.gateway.nextNonce()) - 1n)).to.equal(0n);
  });

  it("answers 422 for a paused route, a route over its rate limit and a disabled destination", async function () {
    const now = (await a.provider.getBlock("latest"))!.timestamp;
    const key = await a.bridgeRegistry.routeKey(a.chainId, b.chainId, a.lane!.bankToken.target);
    await mined(await a.bridgeRegistry.pauseRoute(key));
    try {
      const paused = await submit(crossChain(1n, now + 3_600));
      expect(paused.status, JSON.stringify(paused.body)).to.equal(422);
      expect(paused.body.error.code).to.equal("ROUTE_PAUSED");
    } finally {
      await mined(await a.bridgeRegistry.unpauseRoute(key));
    }
    // Alice holds enough: the route's limit, not her balance, is what refuses it.
    await mined(await a.lane!.bankToken.mint(alice.address, 3n * 10n ** 12n, encodeBytes32String("deposit-2")));
    const over = await submit(crossChain(2n * 10n ** 12n, now + 3_600));
    expect(over.status, JSON.stringify(over.body)).to.equal(422);
    expect(over.body.error).to.include({ code: "RATE_LIMITED", field: "payload.amount" });
    await mined(await a.chainRegistry.setChainEnabled(b.chainId, false));
    try {
      const disabled = await submit(crossChain(1n, now + 3_600));
      expect(disabled.status, JSON.stringify(disabled.body)).to.equal(422);
      expect(disabled.body.error.code).to.equal("CHAIN_DISABLED");
    } finally {
      await mined(await a.chainRegistry.setChainEnabled(b.chainId, true));
    }
  });
});
