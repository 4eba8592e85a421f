/**
 * Red team of the rewards service (issue 18): attacks on the count, ingest and the oracle's rounds, each written
 * failing before its fix in `src/rewards`.
 */
import { mkdtempSync } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { hexlify, randomBytes, Wallet, ZeroAddress, ZeroHash } from "ethers";

import { signRecord, type PresenceQuery } from "../../src/rewards/evidence.js";
import { EvidenceIngest, IngestError } from "../../src/rewards/ingest.js";
import { computeEpoch, type ReceiptedRecord, type RewardTerms } from "../../src/rewards/oracle.js";
import { contentIdOf, producerIdOf, RewardRegistry, venueIdOf } from "../../src/rewards/registry.js";
import { evidenceTree, leafArgument, omissionProof } from "../../src/rewards/trees.js";
import { Store } from "../../src/store/store.js";
import { call } from "../helpers/http.js";
import { CELL, rewardsFixture } from "./service-helpers.js";

type Fixture = Awaited<ReturnType<typeof rewardsFixture>>;

const terms = (contentIds: string[], extra: Partial<RewardTerms> = {}): RewardTerms => ({
  contentIds,
  k: 3,
  maxVenuesPerDevice: 2,
  maxSeconds: 30n,
  ratePerUnit: 10n,
  ...extra,
});

const tag = () => hexlify(randomBytes(4));

describe("rewards red team", function () {
  this.timeout(240_000);
  let f: Fixture;
  let service: Awaited<ReturnType<Fixture["start"]>> | undefined;

  before(async function () {
    f = await rewardsFixture();
  });
  afterEach(async function () {
    await service?.stop();
    service = undefined;
  });

  it("RT1 stacked playbacks of contents of two campaigns are not paid twice for one audience", async function () {
    // A venue's player signs two playbacks over the same seconds, each of a content another campaign pays for.
    // A screen shows one thing at a time: only one of them may earn, whatever campaign looks at it.
    const genesis = 1_800_000_000n;
    const player = Wallet.createRandom();
    const devices = Array.from({ length: 4 }, () => Wallet.createRandom());
    const venueId = venueIdOf(`venue:stack/${tag()}`);
    const [contentA, contentB] = [contentIdOf("stack/a"), contentIdOf("stack/b")];
    const [producerA, producerB] = [producerIdOf("producer:stack-a"), producerIdOf("producer:stack-b")];
    const nonce = hexlify(randomBytes(32));
    const records: ReceiptedRecord[] = [];
    const query: PresenceQuery = { venueId, cell: CELL, epoch: 0n, nonce, time: genesis + 1n };
    records.push({
      kind: "PresenceQuery",
      record: query,
      signature: await signRecord(player, f.domain, "PresenceQuery", query),
      receivedAt: genesis + 1n,
    });
    for (const device of devices) {
      const response = { device: device.address, venueId, epoch: 0n, nonce, time: genesis + 2n };
      records.push({
        kind: "PresenceResponse",
        record: response,
        signature: await signRecord(device, f.domain, "PresenceResponse", response),
        receivedAt: genesis + 2n,
      });
    }
    for (const [contentId, producerId] of [
      [contentA, producerA],
      [contentB, producerB],
    ] as const) {
      const playback = { contentId, producerId, venueId, start: genesis + 1n, duration: 20n };
      records.push({
        kind: "Playback",
        record: playback,
        signature: await signRecord(player, f.domain, "Playback", playback),
        receivedAt: genesis + 21n,
      });
    }
    const count = (contentIds: string[]) =>
      computeEpoch({
        epoch: 0n,
        genesis,
        epochLength: 30n,
        domain: f.domain,
        cutoff: genesis + 40n,
        records,
        venues: [{ venueId, cell: CELL, player: player.address }],
        devices: devices.map((d) => ({ address: d.address, owner: d.address, registeredAt: 0n, active: true })),
        producerOf: new Map([
          [contentA, producerA],
          [contentB, producerB],
        ]),
        terms: terms(contentIds),
        budgetPerEpoch: 1_000_000n,
        previous: new Map(),
      });
    const paid = [count([contentA]), count([contentB])].flatMap((r) => r.playbacks.filter((p) => p.reward > 0n));
    expect(paid, "two campaigns paid for one audience of stacked playbacks").to.have.length(1);
  });

  it("RT2 a record receipted while the runner reads the epoch is never left out of its root", async function () {
    // Ingest checks the cut-off, then awaits the oracle's signature, then stores. A runner that reads the epoch
    // in between (its cut-off just passed) leaves out a record whose receipt is dated at the cut-off: the receipt
    // then voids the honest root.
    const dir = mkdtempSync(path.join(tmpdir(), "bank-chain-rewards-red-"));
    const store = Store.open({ path: path.join(dir, "race.sqlite") });
    try {
      const registry = new RewardRegistry(store);
      const player = Wallet.createRandom();
      const venueId = venueIdOf(`venue:race/${tag()}`);
      registry.apply({
        kind: "venue",
        id: venueId,
        key: player.address,
        owner: ZeroAddress,
        cell: CELL,
        producerId: ZeroHash,
        certificate: ZeroHash,
        time: 1n,
      });
      const genesis = 1_800_000_000n;
      let now = genesis + 40n; // epoch 0's cut-off (end 30 + grace 10)
      const ingest = new EvidenceIngest({
        store,
        registry,
        domain: f.domain,
        clock: { genesis, epochLength: 30n },
        oracle: f.oracles[0]!,
        graceSeconds: 10n,
        skewSeconds: 30n,
        now: () => now,
      });
      const query: PresenceQuery = { venueId, cell: CELL, epoch: 0n, nonce: hexlify(randomBytes(32)), time: now - 15n };
      const signature = await signRecord(player, f.domain, "PresenceQuery", query);
      const inFlight = ingest.ingest({ kind: "PresenceQuery", record: query, signature });
      now += 1n; // the cut-off has passed: the runner reads the epoch
      const read = ingest.records(0n, 0n).map((r) => r.hash);
      const outcome = await inFlight.catch((error: unknown) => error);
      if (outcome instanceof IngestError) {
        expect(outcome.code).to.equal("REWARDS_EPOCH_CLOSED");
      } else {
        const receipted = outcome as Awaited<typeof inFlight>;
        expect(receipted.receipt.time <= genesis + 40n).to.equal(true);
        expect(read, "a record receipted by the cut-off was invisible to a read after it").to.include(receipted.hash);
      }
    } finally {
      store.close();
    }
  });

  it("RT3 the oracles do not propose an epoch at the second of its cut-off, while ingest still receipts it", async function () {
    service = await f.start({ autoClaim: false });
    await f.toNextEpoch();
    const v = await f.venue(service.url, `venue:cutoff/${tag()}`, 4, `producer:cutoff/${tag()}`);
    const c = await f.campaign(terms([v.contentId]), 1_000n);
    await service.oracle.tick();
    service.oracle.setTerms(c.id, terms([v.contentId]));
    const replies = await f.traffic(service.url, v, 3, 10n);
    const { epoch, nonce, time } = replies[0]!.body.record as { epoch: string; nonce: string; time: string };
    await f.toNextEpoch(10n); // exactly the cut-off: end of the epoch + 10 s of grace

    await service.oracle.tick();
    // The fourth terminal answers at the cut-off: documented as still in time, and receipted.
    const late = await f.post(service.url, "/presence", "PresenceResponse", v.terminals[3]!, {
      device: v.terminals[3]!.address,
      venueId: v.venueId,
      epoch: BigInt(epoch),
      nonce,
      time: BigInt(time),
    });
    expect(late.status, JSON.stringify(late.body)).to.equal(201);
    await f.advance(1n);
    await service.oracle.tick();

    const pending = await f.distributor.pendingRootOf(c.id);
    expect(pending.proposedAt).to.not.equal(0n);
    const stored = service.oracle.rootOf(c.id, pending.root, pending.evidenceRoot.toLowerCase())!;
    if (!stored.evidence.includes(late.body.recordHash)) {
      // The honest root left out a record receipted by its cut-off: anyone voids it with the receipt.
      await f.distributor.challengeOmission(
        c.id,
        late.body.recordHash,
        BigInt(epoch),
        BigInt(late.body.receipt.time),
        late.body.receiptSignature,
        leafArgument(omissionProof(evidenceTree(stored.evidence), late.body.recordHash)),
      );
      expect.fail("the oracles' own root was voided by a record receipted at its cut-off");
    }
  });

  it("RT4 a producer whose account is frozen does not stop the campaign's later roots (auto-claim)", async function () {
    service = await f.start({ autoClaim: true });
    await f.toNextEpoch();
    const a = await f.venue(service.url, `venue:frozen-a/${tag()}`, 3, `producer:frozen-a/${tag()}`);
    const b = await f.venue(service.url, `venue:frozen-b/${tag()}`, 3, `producer:frozen-b/${tag()}`);
    const [accountA, accountB] = [f.suite.others[9]!.address, f.suite.others[10]!.address];
    await f.distributor.registerProducer(a.producerId, accountA);
    await f.distributor.registerProducer(b.producerId, accountB);
    await (await f.suite.token.connect(f.suite.accounts.compliance).freeze(accountA)).wait();
    const c = await f.campaign(terms([a.contentId, b.contentId]), 1_000n);
    await service.oracle.tick();
    service.oracle.setTerms(c.id, terms([a.contentId, b.contentId]));
    const before = await f.suite.token.balanceOf(accountB);
    await f.traffic(service.url, a, 3, 10n);
    await f.traffic(service.url, b, 3, 10n);
    await f.toNextEpoch(11n);
    expect(await service.oracle.tick()).to.equal(true); // proposed
    await f.advance(f.window);
    for (let i = 0; i < 3; i++) await service.oracle.tick(); // final, then the claims
    expect((await f.suite.token.balanceOf(accountB)) - before).to.equal(100n); // isqrt(3) × 10 s × 10
    expect(await f.suite.token.balanceOf(accountA)).to.equal(0n); // escrowed until unfrozen or re-registered

    // A later epoch's evidence must still reach a root.
    const epoch = (f.now - f.clock.genesis) / f.clock.epochLength;
    await f.traffic(service.url, b, 3, 10n);
    await f.toNextEpoch(11n);
    for (let round = 0; round < 4; round++) {
      await service.oracle.tick();
      await service.oracle.tick();
      if ((await f.distributor.pendingRootOf(c.id)).epoch >= epoch) break;
      await f.advance(f.window);
    }
    const pending = await f.distributor.pendingRootOf(c.id);
    expect(pending.epoch >= epoch && pending.fromEpoch <= epoch, f.lines.slice(-3).join("\n")).to.equal(true);
    expect(pending.total).to.equal(300n); // A's 100 (escrowed) + B's 100 + B's 100 of this epoch
  });

  it("RT5 a campaign funded below its first epoch's count pays out what it holds instead of sticking", async function () {
    service = await f.start({ autoClaim: false });
    await f.toNextEpoch();
    const v = await f.venue(service.url, `venue:underfunded/${tag()}`, 4, `producer:underfunded/${tag()}`);
    const c = await f.campaign(terms([v.contentId]), 1_000n, 100n, 50n); // funded 50, budget 1000 an epoch
    await service.oracle.tick();
    service.oracle.setTerms(c.id, terms([v.contentId]));
    await f.traffic(service.url, v, 4, 10n); // 4 users × 10 s × 10 = 200 > 50
    await f.toNextEpoch(11n);
    await service.oracle.tick();
    await f.advance(1n);
    await service.oracle.tick();
    const pending = await f.distributor.pendingRootOf(c.id);
    expect(pending.proposedAt, f.lines.slice(-2).join("\n")).to.not.equal(0n);
    expect(pending.total).to.equal(50n);
  });

  it("RT6 malformed, oversized, out-of-range and case-variant submissions are refused or deduplicated, and the service goes on", async function () {
    service = await f.start({ autoClaim: false });
    const v = await f.venue(service.url, `venue:malformed/${tag()}`, 1, `producer:malformed/${tag()}`);
    const raw = (body: string) =>
      fetch(`${service!.url}/presence-queries`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    expect((await raw("{not json")).status).to.equal(400);
    const epoch = (f.now - f.clock.genesis) / f.clock.epochLength;
    const query = { venueId: v.venueId, cell: CELL, epoch, nonce: hexlify(randomBytes(32)), time: f.now };
    const signature = await signRecord(v.player, f.domain, "PresenceQuery", query);
    const wire = { ...query, cell: CELL.toString(), epoch: epoch.toString(), time: f.now.toString() };
    const post = (record: object) => call(`${service!.url}/presence-queries`, "POST", { record, signature });
    expect((await post({ ...wire, extra: "1" })).status).to.equal(400);
    expect((await post({ ...wire, time: (1n << 64n).toString() })).status).to.equal(400);
    expect((await post({ ...wire, time: "-1" })).status).to.equal(400);
    const first = await post(wire);
    expect(first.status).to.equal(201);
    // The same record with its hex in upper case: one record, one receipt.
    const upper = await post({
      ...wire,
      venueId: `0x${v.venueId.slice(2).toUpperCase()}`,
      nonce: `0x${wire.nonce.slice(2).toUpperCase()}`,
    });
    expect(upper.status).to.equal(200);
    expect(upper.body.receiptSignature).to.equal(first.body.receiptSignature);
    expect(service.ingest.countOf(epoch)).to.equal(1);
    // A body over the limit is refused without reading it all (the server then drops that connection).
    expect((await raw(JSON.stringify({ pad: "x".repeat(1_000_000) }))).status).to.equal(413);
    const health = await new Promise<number>((resolve, reject) =>
      get(`${service!.url}/health`, { agent: false }, (reply) => {
        reply.resume();
        resolve(reply.statusCode ?? 0);
      }).on("error", reject),
    );
    expect(health).to.equal(200);
  });
  it("RT7 an audience under k is not published: its size cannot be read back from the public evidence", async function () {
    // k-anonymity publishes a small audience's count as null; GET /epochs/:n/evidence (for recomputation) once
    // published every presence response with its device and venue, so the count, and each device's whereabouts,
    // were one filter away. Responses are now listed by hash only.
    service = await f.start({ autoClaim: false });
    await f.toNextEpoch();
    const v = await f.venue(service.url, `venue:small/${tag()}`, 2, `producer:small/${tag()}`);
    const c = await f.campaign(terms([v.contentId]), 1_000n);
    await service.oracle.tick();
    service.oracle.setTerms(c.id, terms([v.contentId]));
    const replies = await f.traffic(service.url, v, 2, 10n); // 2 users, under k = 3
    const epoch = replies[0]!.body.epoch as string;
    const view = await call(`${service.url}/epochs/${epoch}`);
    const mine = view.body.campaigns.find((x: { campaignId: string }) => x.campaignId === c.id);
    expect(mine.playbacks.map((p: { users: number | null }) => p.users)).to.deep.equal([null]);
    const evidence = await call(`${service.url}/epochs/${epoch}/evidence?limit=500`);
    const present = evidence.body.items.filter(
      (r: { kind: string; record: { venueId: string } | null }) =>
        r.kind === "PresenceResponse" && r.record?.venueId === v.venueId,
    );
    expect(present, "the audience k-anonymity hides is listed device by device").to.have.length.below(2);
  });
});
