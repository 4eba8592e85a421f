/**
 * The rewards service against the deployed RewardDistributor: the TypeScript digests equal the contract's, the
 * registry takes only the registrar's signature, ingest refuses what it must with a reason and stores nothing,
 * and the oracle's rounds take evidence to a root, the root to final, and final to producers' balances, exactly
 * once across a restart. A root that leaves out a receipted record is voided with the receipt.
 */
import { expect } from "chai";
import { AbiCoder, Contract, hexlify, randomBytes, Wallet, ZeroHash } from "ethers";

import { recordHash, REWARD_TYPES, signRecord } from "../../src/rewards/evidence.js";
import { termsHash, type RewardTerms } from "../../src/rewards/oracle.js";
import { oracleIndexes } from "../../src/rewards/service.js";
import { decodeRevert } from "../../src/chain/reverts.js";
import {
  brokenLink,
  evidenceTree,
  evidenceTreeOfLeaves,
  leafArgument,
  omissionProof,
} from "../../src/rewards/trees.js";
import { CertificateResolver__factory, RewardDistributor__factory } from "../../typechain-types/index.js";
import { defaultModel, modelIdOf } from "../../src/certificates/model.js";
import { dutyWallet } from "../../src/chain/duty-wallet.js";
import { call } from "../helpers/http.js";
import { CELL, rewardsFixture } from "./service-helpers.js";

type Fixture = Awaited<ReturnType<typeof rewardsFixture>>;

/** What the test calls on EAS 1.9.0 (its published interface). */
const EAS_ABI = [
  "function attest((bytes32 schema, (address recipient, uint64 expirationTime, bool revocable, bytes32 refUID, bytes data, uint256 value) data)) payable returns (bytes32)",
  "event Attested(address indexed recipient, address indexed attester, bytes32 uid, bytes32 indexed schemaUID)",
];

const terms = (contentIds: string[], extra: Partial<RewardTerms> = {}): RewardTerms => ({
  contentIds,
  k: 3,
  maxVenuesPerDevice: 2,
  maxSeconds: 30n,
  ratePerUnit: 10n,
  ...extra,
});

describe("rewards service", function () {
  this.timeout(180_000);
  let f: Fixture;
  let service: Awaited<ReturnType<Fixture["start"]>> | undefined;

  before(async function () {
    f = await rewardsFixture();
  });
  afterEach(async function () {
    await service?.stop();
    service = undefined;
  });

  it("signs and hashes every record exactly as the contract does", async function () {
    const { distributor, domain } = f;
    const id = hexlify(randomBytes(32));
    const nonce = hexlify(randomBytes(32));
    const query = { venueId: id, cell: CELL, epoch: 7n, nonce, time: 1_800_000_000n };
    const response = { device: Wallet.createRandom().address, venueId: id, epoch: 7n, nonce, time: 1_800_000_001n };
    const playback = { contentId: nonce, producerId: id, venueId: id, start: 1_800_000_000n, duration: 20n };
    const receipt = { recordHash: nonce, epoch: 7n, time: 1_800_000_060n };
    const root = {
      campaignId: id,
      epoch: 7n,
      root: nonce,
      total: 12_345n,
      evidenceRoot: id,
      cutoff: 1_800_000_070n,
      oracleSetVersion: 1n,
    };
    expect(await distributor.hashPresenceQuery(id, CELL, 7n, nonce, query.time)).to.equal(
      recordHash(domain, "PresenceQuery", query),
    );
    expect(await distributor.hashPresenceResponse(response.device, id, 7n, nonce, response.time)).to.equal(
      recordHash(domain, "PresenceResponse", response),
    );
    expect(await distributor.hashPlayback(nonce, id, id, playback.start, 20n)).to.equal(
      recordHash(domain, "Playback", playback),
    );
    expect(await distributor.hashReceipt(nonce, 7n, receipt.time)).to.equal(recordHash(domain, "Receipt", receipt));
    expect(await distributor.hashEpochRoot(id, 7n, nonce, 12_345n, id, root.cutoff, 1n)).to.equal(
      recordHash(domain, "EpochRoot", root),
    );
  });

  it("holds the oracle keys REWARDS_ORACLES names, all three when it is empty (a remote network's default)", function () {
    expect(oracleIndexes("")).to.deep.equal([1, 2, 3]);
    expect(oracleIndexes("1,2,3")).to.deep.equal([1, 2, 3]);
    expect(oracleIndexes("2,1,2")).to.deep.equal([2, 1]);
    expect(oracleIndexes("3")).to.deep.equal([3]);
  });

  it("registers only what the registrar signed, and never rolls an entry back", async function () {
    service = await f.start();
    const player = Wallet.createRandom();
    const venueId = hexlify(randomBytes(32));
    const ok = await f.register(
      service.url,
      f.registration({ kind: "venue", id: venueId, key: player.address, cell: CELL }),
    );
    expect(ok.status).to.equal(201);
    const stranger = Wallet.createRandom();
    const forged = await f.register(
      service.url,
      f.registration({ kind: "venue", id: venueId, key: stranger.address, cell: CELL, time: f.now + 1n }),
      stranger,
    );
    expect(forged.status).to.equal(403);
    expect(forged.body.error.code).to.equal("REWARDS_NOT_REGISTRAR");
    const older = await f.register(
      service.url,
      f.registration({ kind: "venue", id: venueId, key: stranger.address, cell: CELL, time: f.now - 1n }),
    );
    expect(older.status).to.equal(200);
    expect(service.registry.venue(venueId)!.player).to.equal(player.address);
    const badCell = await f.register(
      service.url,
      f.registration({ kind: "venue", id: hexlify(randomBytes(32)), key: player.address, cell: 12_345n }),
    );
    expect(badCell.status).to.equal(422);
    expect(badCell.body.error.code).to.equal("REWARDS_BAD_REGISTRATION");
  });

  it("refuses forged, unknown, out-of-epoch, future, unasked and late evidence with a reason, storing nothing", async function () {
    service = await f.start();
    // Early in an epoch, so that a second later is still the same epoch (the nonce check below needs it).
    await f.toNextEpoch();
    const v = await f.venue(service.url, `venue:refusals/${hexlify(randomBytes(4))}`, 2, "producer:refusals");
    const [t] = v.terminals;
    const epoch = (f.now - f.clock.genesis) / f.clock.epochLength;
    const nonce = hexlify(randomBytes(32));
    const query = { venueId: v.venueId, cell: CELL, epoch, nonce, time: f.now };
    const before = service.ingest.countOf(epoch);
    const expectRefused = async (reply: Awaited<ReturnType<typeof call>>, status: number, code: string) => {
      expect(reply.status, JSON.stringify(reply.body)).to.equal(status);
      expect(reply.body.error.code).to.equal(code);
    };
    // A query signed by someone else than the venue's player.
    await expectRefused(
      await f.post(service.url, "/presence-queries", "PresenceQuery", Wallet.createRandom(), query),
      403,
      "REWARDS_FORGED",
    );
    // Its epoch is not its time's.
    await expectRefused(
      await f.post(service.url, "/presence-queries", "PresenceQuery", v.player, { ...query, epoch: epoch + 1n }),
      422,
      "REWARDS_OUT_OF_EPOCH",
    );
    // Another cell than the venue's.
    await expectRefused(
      await f.post(service.url, "/presence-queries", "PresenceQuery", v.player, { ...query, cell: CELL + 1n }),
      422,
      "REWARDS_WRONG_CELL",
    );
    // A response before the venue asked.
    const response = { device: t!.address, venueId: v.venueId, epoch, nonce, time: f.now };
    await expectRefused(
      await f.post(service.url, "/presence", "PresenceResponse", t!, response),
      422,
      "REWARDS_UNKNOWN_QUERY",
    );
    expect(service.ingest.countOf(epoch)).to.equal(before);

    const asked = await f.post(service.url, "/presence-queries", "PresenceQuery", v.player, query);
    expect(asked.status).to.equal(201);
    // The same record again: the same receipt, nothing new stored.
    const again = await f.post(service.url, "/presence-queries", "PresenceQuery", v.player, query);
    expect(again.status).to.equal(200);
    expect(again.body.receiptSignature).to.equal(asked.body.receiptSignature);
    // The same nonce in another query of the venue.
    await expectRefused(
      await f.post(service.url, "/presence-queries", "PresenceQuery", v.player, { ...query, time: f.now + 1n }),
      409,
      "REWARDS_NONCE_REUSED",
    );
    // A device nobody registered, and a registered device's response signed by another key.
    const stranger = Wallet.createRandom();
    await expectRefused(
      await f.post(service.url, "/presence", "PresenceResponse", stranger, { ...response, device: stranger.address }),
      404,
      "REWARDS_UNKNOWN_DEVICE",
    );
    await expectRefused(
      await f.post(service.url, "/presence", "PresenceResponse", stranger, response),
      403,
      "REWARDS_FORGED",
    );
    // From the future.
    await expectRefused(
      await f.post(service.url, "/presence", "PresenceResponse", t!, { ...response, time: f.now + 31n }),
      422,
      "REWARDS_TIME_IN_FUTURE",
    );
    const receipted = await f.post(service.url, "/presence", "PresenceResponse", t!, response);
    expect(receipted.status).to.equal(201);
    expect(service.ingest.countOf(epoch)).to.equal(before + 2);
    // The receipt is the oracle's signature over Receipt(recordHash, epoch, time).
    const { recordHash: hash, time } = receipted.body.receipt;
    expect(hash).to.equal(recordHash(f.domain, "PresenceResponse", response));
    expect(
      await f.oracles[0]!.signTypedData(f.domain, REWARD_TYPES.Receipt, {
        recordHash: hash,
        epoch,
        time: BigInt(time),
      }),
    ).to.equal(receipted.body.receiptSignature);

    // After the epoch's cut-off, nothing more of it is receipted.
    await f.advance(f.clock.genesis + (epoch + 1n) * f.clock.epochLength + 11n - f.now);
    await expectRefused(
      await f.post(service.url, "/presence", "PresenceResponse", v.terminals[1]!, {
        ...response,
        device: v.terminals[1]!.address,
      }),
      409,
      "REWARDS_EPOCH_CLOSED",
    );
  });

  it("takes an epoch's evidence to a root, the root to final, and pays each producer once across a restart", async function () {
    service = await f.start();
    await f.toNextEpoch();
    const north = await f.venue(service.url, `venue:north/${hexlify(randomBytes(4))}`, 5, "producer:north-e2e");
    const south = await f.venue(service.url, `venue:south/${hexlify(randomBytes(4))}`, 5, "producer:south-e2e");
    const account = f.suite.others[0]!.address;
    await f.distributor.registerProducer(north.producerId, account);
    const c = await f.campaign(terms([north.contentId, south.contentId]), 1_000n);
    const put = await call(`${service.url}/campaigns/${c.id}/terms`, "PUT", {
      ...terms([north.contentId, south.contentId]),
      maxSeconds: "30",
      ratePerUnit: "10",
    });
    expect(put.status, JSON.stringify(put.body)).to.equal(404); // not seen yet: the round finds campaigns
    await service.oracle.tick();
    const wrong = await call(`${service.url}/campaigns/${c.id}/terms`, "PUT", {
      ...terms([north.contentId]),
      maxSeconds: "30",
      ratePerUnit: "10",
    });
    expect(wrong.status).to.equal(422);
    service.oracle.setTerms(c.id, terms([north.contentId, south.contentId]));

    const epoch = (f.now - f.clock.genesis) / f.clock.epochLength;
    await f.traffic(service.url, north, 4, 10n); // 4 users: isqrt 2 × 10 s = 20 units → 200
    await f.traffic(service.url, south, 2, 10n); // under k = 3: nothing, count unpublished
    expect(await service.oracle.tick()).to.equal(false); // the epoch is still open
    await f.toNextEpoch(11n);
    expect(await service.oracle.tick()).to.equal(true);
    const pending = await f.distributor.pendingRootOf(c.id);
    expect(pending.epoch).to.equal(epoch);
    expect(pending.total).to.equal(200n);
    expect(pending.signers).to.have.length(3);

    const view = await call(`${service.url}/epochs/${epoch}`);
    const mine = view.body.campaigns.find((x: { campaignId: string }) => x.campaignId === c.id);
    const paid = mine.playbacks.map((p: { users: number | null; reward: string }) => [p.users, p.reward]);
    expect(paid).to.have.deep.members([
      [4, "200"],
      [null, "0"],
    ]);
    // k-anonymity: the south playback is not paid and its count is not published.
    expect(JSON.stringify(view.body)).not.to.contain('"users":2');

    // Nothing moves during the window; then the root is final and north is paid, south has no account.
    expect(await service.oracle.tick()).to.equal(false);
    const balance = await f.suite.token.balanceOf(account);
    await f.advance(f.window);
    expect(await service.oracle.tick()).to.equal(true); // final (the contract finalizes lazily), then claimFor
    await service.oracle.tick();
    expect((await f.suite.token.balanceOf(account)) - balance).to.equal(200n);
    const rewards = await call(`${service.url}/producers/${north.producerId}/rewards`);
    const entry = rewards.body.campaigns.find((x: { campaignId: string }) => x.campaignId === c.id);
    expect(entry).to.include({ cumulative: "200", claimed: "200", claimable: "0" });

    // A restart over the same database: nothing proposed twice, nothing paid twice.
    await service.stop();
    service = await f.start();
    await service.oracle.tick();
    await service.oracle.tick();
    expect((await f.suite.token.balanceOf(account)) - balance).to.equal(200n);
    expect(await f.distributor.claimedOf(c.id, north.producerId)).to.equal(200n);
  });

  it("counts, when the terms ask for a certificate level, only devices whose owner holds a valid one of that level", async function () {
    const issuer = await dutyWallet(f.chain, "certIssuer");
    const resolver = CertificateResolver__factory.connect(
      f.suite.deployments.get("CertificateResolver").address,
      issuer,
    );
    const eas = new Contract(f.suite.deployments.get("EAS").address, EAS_ABI, issuer);
    const attest = async (subject: string, level: number): Promise<string> => {
      const data = AbiCoder.defaultAbiCoder().encode(
        ["address", "uint8", "uint32", "bytes32", "bytes32", "uint64"],
        [subject, level, 500, modelIdOf(defaultModel()), hexlify(randomBytes(32)), await f.provider.getBlockNumber()],
      );
      const expirationTime = f.now + 30n * 24n * 3_600n;
      const tx = await eas.getFunction("attest")({
        schema: await resolver.schemaUID(),
        data: { recipient: subject, expirationTime, revocable: true, refUID: ZeroHash, data, value: 0n },
      });
      const receipt = await tx.wait();
      const at = (await eas.getAddress()).toLowerCase();
      const log = receipt!.logs.find((entry: { address: string }) => entry.address.toLowerCase() === at)!;
      return eas.interface.parseLog(log)!.args.uid as string;
    };
    service = await f.start({ autoClaim: false, certificateLevels: true });
    await f.toNextEpoch();
    const v = await f.venue(service.url, `venue:certified/${hexlify(randomBytes(4))}`, 3, "producer:certified");
    const [certified, low, stranger] = v.terminals;
    // Each terminal is its own owner; re-registered with a certificate: level 2, level 1, and someone else's level 3.
    const owner = Wallet.createRandom();
    const uids = [await attest(certified!.address, 2), await attest(low!.address, 1), await attest(owner.address, 3)];
    for (const [i, t] of [certified, low, stranger].entries()) {
      const reply = await f.register(
        service.url,
        f.registration({ kind: "device", key: t!.address, owner: t!.address, certificate: uids[i]!, time: f.now + 1n }),
      );
      expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
    }
    const certifiedTerms = terms([v.contentId], { k: 1, minCertificateLevel: 2 });
    const c = await f.campaign(certifiedTerms, 1_000n);
    await service.oracle.tick();
    service.oracle.setTerms(c.id, certifiedTerms);
    await f.advance(2n);
    await f.traffic(service.url, v, 3, 9n);
    const epoch = (f.now - f.clock.genesis) / f.clock.epochLength;
    const result = await service.oracle.compute(certifiedTerms, 1_000n, epoch, epoch, new Map());
    // Only the level-2 owner's device counts; the others are ignored as having no certificate of that level.
    expect(result.playbacks.map((p) => p.users)).to.deep.equal([1]);
    expect(result.ignored.filter((i) => i.reason === "no-certificate")).to.have.length(2);
  });

  it("lets anyone void a root whose evidence list was cut, with the two leaves that do not link", async function () {
    service = await f.start({ autoClaim: false });
    await f.toNextEpoch();
    const v = await f.venue(service.url, `venue:cut/${hexlify(randomBytes(4))}`, 4, "producer:cut");
    const c = await f.campaign(terms([v.contentId]), 1_000n);
    await service.oracle.tick();
    service.oracle.setTerms(c.id, terms([v.contentId]));
    const replies = await f.traffic(service.url, v, 3, 10n);
    const epoch = BigInt(replies[0]!.body.epoch);
    await f.toNextEpoch(11n);
    const result = await service.oracle.compute(terms([v.contentId]), 1_000n, epoch, epoch, new Map());
    // The oracles sign a list cut in the middle: no leaf spans what was cut out, so no omission can be shown...
    const leaves = evidenceTree(result.evidence).leaves;
    const cut = evidenceTreeOfLeaves([...leaves.slice(0, 2), ...leaves.slice(4)]);
    const missing = leaves[2]![0];
    expect(() => omissionProof(cut, missing)).to.throw(/is in the evidence/);
    const cutoff = f.clock.genesis + (epoch + 1n) * f.clock.epochLength + 10n;
    const message = {
      campaignId: c.id,
      epoch,
      root: result.root,
      total: result.total,
      evidenceRoot: cut.root,
      cutoff,
      oracleSetVersion: await f.distributor.oracleSetVersion(),
    };
    const signers = [...f.oracles].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
    const signatures = await Promise.all(signers.map((o) => signRecord(o, f.domain, "EpochRoot", message)));
    await f.distributor.proposeRoot(c.id, epoch, result.root, result.total, cut.root, cutoff, signatures);
    // ...but the TypeScript tree's neighbours, proven against the contract's positional check, void it.
    const [left, right] = brokenLink(cut)!;
    await f.distributor.challengeBrokenLink(c.id, leafArgument(left), leafArgument(right));
    expect((await f.distributor.pendingRootOf(c.id)).proposedAt).to.equal(0n);
    // The same signed root cannot come back.
    let refused = "";
    try {
      await f.distributor.proposeRoot.staticCall(c.id, epoch, result.root, result.total, cut.root, cutoff, signatures);
    } catch (error) {
      refused = decodeRevert(error, RewardDistributor__factory.abi)?.message ?? String(error);
    }
    expect(refused).to.contain("RewardRootWasVoided");
  });

  it("lets anyone void a root that left out a receipted record, with the oracle's receipt", async function () {
    service = await f.start({ autoClaim: false });
    await f.toNextEpoch();
    const v = await f.venue(service.url, `venue:void/${hexlify(randomBytes(4))}`, 4, "producer:void");
    const c = await f.campaign(terms([v.contentId]), 1_000n);
    await service.oracle.tick();
    service.oracle.setTerms(c.id, terms([v.contentId]));
    const replies = await f.traffic(service.url, v, 3, 10n);
    const epoch = BigInt(replies[0]!.body.epoch);
    await f.toNextEpoch(11n);

    // Two oracles sign a root whose evidence leaves out the last presence response.
    const left = replies[3]!.body;
    const result = await service.oracle.compute(terms([v.contentId]), 1_000n, epoch, epoch, new Map());
    const evidence = result.evidence.filter((h) => h !== left.recordHash);
    const tree = evidenceTree(evidence);
    const cutoff = f.clock.genesis + (epoch + 1n) * f.clock.epochLength + 10n;
    const message = {
      campaignId: c.id,
      epoch,
      root: result.root,
      total: result.total,
      evidenceRoot: tree.root,
      cutoff,
      oracleSetVersion: await f.distributor.oracleSetVersion(),
    };
    const signers = [...f.oracles].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
    const signatures = await Promise.all(signers.map((o) => signRecord(o, f.domain, "EpochRoot", message)));
    await f.distributor.proposeRoot(c.id, epoch, result.root, result.total, tree.root, cutoff, signatures);

    // A record that is in the evidence proves nothing.
    const kept = replies[1]!.body;
    expect(() => omissionProof(tree, kept.recordHash)).to.throw(/is in the evidence/);
    // The left-out one, with its receipt, voids the root.
    await f.distributor.challengeOmission(
      c.id,
      left.recordHash,
      epoch,
      BigInt(left.receipt.time),
      left.receiptSignature,
      leafArgument(omissionProof(tree, left.recordHash)),
    );
    expect((await f.distributor.pendingRootOf(c.id)).proposedAt).to.equal(0n);
    // The oracles' own round then proposes the epoch again, with every record.
    expect(await service.oracle.tick()).to.equal(true);
    const again = await f.distributor.pendingRootOf(c.id);
    expect(again.evidenceRoot).to.equal(result.evidenceRoot);
    expect(again.total).to.equal(result.total);
    expect(termsHash(terms([v.contentId]))).to.equal((await f.distributor.campaignOf(c.id)).terms);
  });
});
