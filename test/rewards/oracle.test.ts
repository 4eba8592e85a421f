import { expect } from "chai";
import { keccak256, toUtf8Bytes, Wallet } from "ethers";
import fc from "fast-check";

import {
  recordHash,
  rewardsDomain,
  type EvidenceKind,
  type Playback,
  type PresenceQuery,
  type PresenceResponse,
  type RecordKinds,
} from "../../src/rewards/evidence.js";
import {
  canonicalTerms,
  computeEpoch,
  isqrt,
  playbackWeight,
  RewardInputError,
  scaleToBudget,
  termsHash,
  termsSchema,
  type Device,
  type EpochInput,
  type EpochResult,
  type IgnoreReason,
  type ReceiptedRecord,
  type RewardTerms,
  type Venue,
} from "../../src/rewards/oracle.js";
import { evidenceTree, producerTree } from "../../src/rewards/trees.js";

const DOMAIN = rewardsDomain(31337n, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
const GENESIS = 1_767_225_600n;
const LEN = 3_600n;
const EPOCH = 5n;
/** The first second of EPOCH. */
const S = GENESIS + EPOCH * LEN;
/** The end of EPOCH. */
const END = S + LEN;
const CUTOFF = END + 600n;

const wallet = (label: string) => new Wallet(keccak256(toUtf8Bytes(label)));
const b32 = (label: string) => keccak256(toUtf8Bytes(label));

const P1 = wallet("player 1");
const P2 = wallet("player 2");
const V1 = b32("venue 1");
const V2 = b32("venue 2");
const V3 = b32("venue 3");
const CELL = 0x8a1fb46622dffffn;
const VENUES: Venue[] = [
  { venueId: V1, cell: CELL, player: P1.address },
  { venueId: V2, cell: CELL + 1n, player: P2.address },
  { venueId: V3, cell: CELL + 2n, player: P2.address },
];
const DEVICES = Array.from({ length: 10 }, (_, i) => wallet(`device ${i}`));
const OWNERS = Array.from({ length: 10 }, (_, i) => wallet(`owner ${i}`).address);
const REGISTRY: Device[] = DEVICES.map((d, i) => ({
  address: d.address,
  owner: OWNERS[i]!,
  registeredAt: GENESIS,
  active: true,
}));
const C1 = b32("content 1");
const C2 = b32("content 2");
const PR1 = b32("producer 1");
const PR2 = b32("producer 2");
const TERMS: RewardTerms = { contentIds: [], k: 1, maxVenuesPerDevice: 2, maxSeconds: 600n, ratePerUnit: 10n };
const BIG = 10n ** 30n;

/** A record signed (synchronously) by `key`, receipted at `receivedAt`. */
function signed<K extends EvidenceKind>(
  key: Wallet,
  kind: K,
  record: RecordKinds[K],
  receivedAt = END,
): ReceiptedRecord {
  const signature = key.signingKey.sign(recordHash(DOMAIN, kind, record as never)).serialized;
  return { kind, record, signature, receivedAt } as ReceiptedRecord;
}
const hashOf = (item: ReceiptedRecord) => recordHash(DOMAIN, item.kind, item.record as never);

function query(venue: string, nonce: string, time: bigint, over: Partial<PresenceQuery> = {}, key?: Wallet) {
  const v = VENUES.find((x) => x.venueId === venue);
  const record: PresenceQuery = {
    venueId: venue,
    cell: v?.cell ?? CELL,
    epoch: EPOCH,
    nonce: b32(nonce),
    time,
    ...over,
  };
  return signed(key ?? (venue === V1 ? P1 : P2), "PresenceQuery", record);
}
function response(device: number, venue: string, nonce: string, time: bigint, over: Partial<PresenceResponse> = {}) {
  const record: PresenceResponse = {
    device: DEVICES[device]!.address,
    venueId: venue,
    epoch: EPOCH,
    nonce: b32(nonce),
    time,
    ...over,
  };
  return signed(DEVICES[device]!, "PresenceResponse", record);
}
function playback(venue: string, start: bigint, duration: bigint, over: Partial<Playback> = {}, key?: Wallet) {
  const record: Playback = { contentId: C1, producerId: PR1, venueId: venue, start, duration, ...over };
  return signed(key ?? (venue === V1 ? P1 : P2), "Playback", record);
}

function run(records: ReceiptedRecord[], over: Partial<EpochInput> = {}): EpochResult {
  return computeEpoch({
    epoch: EPOCH,
    genesis: GENESIS,
    epochLength: LEN,
    domain: DOMAIN,
    cutoff: CUTOFF,
    records,
    venues: VENUES,
    devices: REGISTRY,
    terms: TERMS,
    budgetPerEpoch: BIG,
    previous: new Map(),
    ...over,
  });
}

/** The reason each record is ignored for (by hash); counted records are absent. */
function reasons(result: EpochResult): Map<string, IgnoreReason> {
  return new Map(result.ignored.map((x) => [x.recordHash, x.reason]));
}
function reasonOf(result: EpochResult, item: ReceiptedRecord): IgnoreReason | undefined {
  return reasons(result).get(hashOf(item));
}

/** A venue-1 query at S + 100 and `n` devices answering it at S + 110. */
function audience(n: number, nonce = "n1", at = S + 100n, venue = V1): ReceiptedRecord[] {
  return [query(venue, nonce, at), ...Array.from({ length: n }, (_, i) => response(i, venue, nonce, at + 10n))];
}

describe("rewards oracle", function () {
  describe("the curve", function () {
    it("isqrt is the floor of the square root", function () {
      expect([0n, 1n, 2n, 3n, 4n, 8n, 9n, 10n, 99n, 100n].map(isqrt)).to.deep.equal([
        0n,
        1n,
        1n,
        1n,
        2n,
        2n,
        3n,
        3n,
        9n,
        10n,
      ]);
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: 1n << 300n }), (n) => {
          const r = isqrt(n);
          return r * r <= n && n < (r + 1n) * (r + 1n);
        }),
      );
      expect(() => isqrt(-1n))
        .to.throw(RewardInputError)
        .with.property("code", "REWARD_NEGATIVE_SQRT");
      expect(() => isqrt(-1n))
        .to.throw(RewardInputError)
        .with.property("details")
        .that.deep.equals({ n: "-1" });
    });

    it("weighs isqrt(users) * min(duration, maxSeconds)", function () {
      expect(playbackWeight(9, 100n, 600n)).to.equal(300n);
      expect(playbackWeight(10, 700n, 600n)).to.equal(1_800n);
      expect(playbackWeight(4, 600n, 600n)).to.equal(1_200n);
      expect(playbackWeight(0, 600n, 600n)).to.equal(0n);
    });

    it("pays raw amounts up to the budget and scales them down beyond", function () {
      expect(scaleToBudget([300n, 100n], 400n)).to.deep.equal([300n, 100n]);
      expect(scaleToBudget([300n, 100n], 200n)).to.deep.equal([150n, 50n]);
      expect(scaleToBudget([2n, 1n], 2n)).to.deep.equal([1n, 0n]);
      expect(scaleToBudget([], 0n)).to.deep.equal([]);
      fc.assert(
        fc.property(fc.array(fc.bigInt({ min: 0n, max: BIG })), fc.bigInt({ min: 0n, max: BIG }), (raws, budget) => {
          const paid = scaleToBudget(raws, budget);
          const sum = paid.reduce((a, b) => a + b, 0n);
          expect(sum <= budget || paid.every((x, i) => x === raws[i])).to.equal(true);
          paid.forEach((x, i) => expect(x <= raws[i]!).to.equal(true));
        }),
      );
    });
  });

  describe("terms", function () {
    it("hashes the canonical JSON: keys sorted, ids lower case and sorted, bigints as strings", function () {
      const terms: RewardTerms = {
        ratePerUnit: 10n ** 18n,
        maxSeconds: 600n,
        k: 3,
        maxVenuesPerDevice: 2,
        contentIds: [C2.toUpperCase().replace("0X", "0x"), C1],
      };
      const ids = [C1, C2].sort();
      const json = `{"contentIds":["${ids[0]}","${ids[1]}"],"k":3,"maxSeconds":"600","maxVenuesPerDevice":2,"ratePerUnit":"1000000000000000000"}`;
      expect(canonicalTerms(terms)).to.equal(json);
      expect(termsHash(terms)).to.equal(keccak256(toUtf8Bytes(json)));
      expect(termsHash({ ...terms, contentIds: [C1, C2] })).to.equal(termsHash(terms));
      const withLevel = canonicalTerms({ ...terms, minCertificateLevel: 2 });
      expect(withLevel).to.equal(
        json.replace(`"maxVenuesPerDevice":2`, `"maxVenuesPerDevice":2,"minCertificateLevel":2`),
      );
    });

    it("reads the terms file and gives back the same hash", function () {
      const json = JSON.parse(canonicalTerms({ ...TERMS, contentIds: [C1], minCertificateLevel: 1 })) as unknown;
      const terms = termsSchema.parse(json);
      expect(terms).to.deep.equal({ ...TERMS, contentIds: [C1], minCertificateLevel: 1 });
      expect(termsSchema.parse({ ...(json as object), minCertificateLevel: undefined })).to.not.have.property(
        "minCertificateLevel",
      );
      for (const bad of [
        { k: 0 },
        { maxVenuesPerDevice: 0 },
        { maxSeconds: "0" },
        { contentIds: [C1, C1] },
        { x: 1 },
      ]) {
        expect(termsSchema.safeParse({ ...(json as object), ...bad }).success, JSON.stringify(bad)).to.equal(false);
      }
    });
  });

  describe("counting", function () {
    it("pays a playback its users' weight and builds both trees", function () {
      const play = playback(V1, S + 60n, 300n, { producerId: PR2 });
      const records = [...audience(4), play];
      const result = run(records);
      expect(result.ignored).to.deep.equal([]);
      // isqrt(4) * min(300, 600) * 10
      expect(result.playbacks).to.deep.equal([
        {
          recordHash: hashOf(play),
          epoch: EPOCH,
          venueId: V1,
          contentId: C1,
          producerId: PR2,
          users: 4,
          reward: 6_000n,
        },
      ]);
      expect(result.producers).to.deep.equal([{ producerId: PR2, amount: 6_000n, cumulative: 6_000n }]);
      expect(result.total).to.equal(6_000n);
      expect(result.paid).to.equal(6_000n);
      expect(result.root).to.equal(producerTree(new Map([[PR2, 6_000n]]))!.root);
      expect(result.evidence).to.deep.equal(records.map(hashOf).sort());
      expect(result.evidenceRoot).to.equal(evidenceTree(records.map(hashOf)).root);
      expect(result.evidenceTree.root).to.equal(result.evidenceRoot);
      expect(result.producerTree!.root).to.equal(result.root);
      expect([result.epoch, result.fromEpoch]).to.deep.equal([EPOCH, EPOCH]);
    });

    it("caps each epoch's budget by what the campaign still holds (`available`), and only then", function () {
      const play = playback(V1, S + 60n, 300n, { producerId: PR2 });
      const records = [...audience(4), play];
      expect(run(records, { available: 1_000n }).paid).to.equal(1_000n);
      expect(run(records, { available: 1_000n }).playbacks[0]!.reward).to.equal(1_000n);
      // More available than the budget: the budget rules.
      expect(run(records, { available: BIG * 2n, budgetPerEpoch: 2_000n }).paid).to.equal(2_000n);
      expect(run(records, { available: 6_000n }).paid).to.equal(6_000n);
      expect(run(records).paid).to.equal(6_000n);
      expect(run(records, { available: 0n }).paid).to.equal(0n);
    });

    it("applies the certificate rule only when the terms ask for a level", function () {
      const play = playback(V1, S + 60n, 300n, { producerId: PR2 });
      // No levels known at all: without minCertificateLevel nobody is refused.
      expect(run([...audience(4), play], { certificateLevels: new Map() }).playbacks[0]!.users).to.equal(4);
    });

    it("counts the users present from start to start + duration, both ends included", function () {
      const records = [
        query(V1, "n1", S + 100n),
        response(0, V1, "n1", S + 100n),
        response(1, V1, "n1", S + 160n),
        response(2, V1, "n1", S + 161n),
        response(3, V1, "n1", S + 99n + 1n + 59n),
        playback(V1, S + 100n, 60n),
      ];
      // device 2 at S + 161 is after the end (S + 160).
      expect(run(records).playbacks[0]!.users).to.equal(3);
      const later = run([...records.slice(0, 5), playback(V1, S + 101n, 60n)]);
      expect(later.playbacks[0]!.users).to.equal(3); // device 0 at S + 100 is before the start
    });

    it("counts only the responses at the playback's venue", function () {
      const records = [...audience(2), ...audience(3, "n2", S + 100n, V2), playback(V1, S + 60n, 300n)];
      expect(run(records).playbacks[0]!.users).to.equal(2);
    });

    it("publishes no count and pays nothing below k (k-anonymity)", function () {
      const play = playback(V1, S + 60n, 300n);
      const below = run([...audience(2), play], { terms: { ...TERMS, k: 3 } });
      expect(below.playbacks[0]).to.deep.include({ users: null, reward: 0n });
      expect(below.producers).to.deep.equal([]);
      expect(below.root).to.equal(`0x${"00".repeat(32)}`);
      expect(below.total).to.equal(0n);
      const at = run([...audience(3), play], { terms: { ...TERMS, k: 3 } });
      expect(at.playbacks[0]).to.deep.include({ users: 3, reward: 3_000n }); // isqrt(3) = 1
    });

    it("pays nothing for a playback nobody saw, even with k = 1", function () {
      const result = run([query(V1, "n1", S + 100n), playback(V1, S + 60n, 300n)]);
      expect(result.playbacks[0]).to.deep.include({ users: null, reward: 0n });
    });

    it("caps the seconds and scales to the budget", function () {
      const long = playback(V1, S + 60n, 900n); // 4 users, 600 s counted: raw 12,000
      const short = playback(V2, S + 60n, 300n, { producerId: PR2 }); // 1 user: raw 3,000
      const records = [...audience(4), ...audience(1, "n2", S + 100n, V2), long, short];
      const under = run(records, { budgetPerEpoch: 15_000n });
      expect(under.playbacks.map((p) => p.reward).sort()).to.deep.equal([12_000n, 3_000n].sort());
      const over = run(records, { budgetPerEpoch: 10_000n });
      const byProducer = new Map(over.producers.map((p) => [p.producerId, p.amount]));
      expect(byProducer.get(PR1)).to.equal(8_000n); // 12,000 * 10,000 / 15,000
      expect(byProducer.get(PR2)).to.equal(2_000n);
      const odd = run(records, { budgetPerEpoch: 9_999n });
      expect(odd.producers.map((p) => p.amount)).to.have.members([7_999n, 1_999n]); // floors
      expect(odd.paid).to.equal(9_998n);
    });

    it("adds the previous cumulatives and keeps producers with nothing new", function () {
      const result = run([...audience(1), playback(V1, S + 60n, 300n)], {
        previous: new Map(
          [
            [PR1.toUpperCase().replace("0X", "0x"), 500n] as const,
            [PR2, 700n] as const,
            [b32("producer 3"), 0n] as const,
          ].sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? 1 : -1)),
        ),
      });
      expect(result.producers).to.deep.equal(
        [
          { producerId: PR1, amount: 3_000n, cumulative: 3_500n },
          { producerId: PR2, amount: 0n, cumulative: 700n },
        ].sort((a, b) => (a.producerId < b.producerId ? -1 : 1)),
      );
      expect(result.total).to.equal(4_200n);
      expect(result.paid).to.equal(3_000n);
      expect(result.root).to.equal(
        producerTree(
          new Map([
            [PR1, 3_500n],
            [PR2, 700n],
          ]),
        )!.root,
      );
    });

    it("catches up on several epochs, each with its own budget and audience", function () {
      const before = S - LEN;
      const records = [
        signed(P1, "PresenceQuery", {
          venueId: V1,
          cell: CELL,
          epoch: EPOCH - 1n,
          nonce: b32("old"),
          time: before + 10n,
        }),
        ...[0, 1, 2, 3].map((i) =>
          signed(DEVICES[i]!, "PresenceResponse", {
            device: DEVICES[i]!.address,
            venueId: V1,
            epoch: EPOCH - 1n,
            nonce: b32("old"),
            time: before + 20n,
          }),
        ),
        playback(V1, before, LEN), // 4 users, 600 s: raw 12,000
        ...audience(1),
        playback(V1, S, LEN), // 1 user: raw 6,000 (the epoch-4 audience is not this epoch's)
      ];
      const result = run(records, { fromEpoch: EPOCH - 1n, budgetPerEpoch: 10_000n });
      expect(result.playbacks.map((p) => [p.epoch, p.users, p.reward]).sort()).to.deep.equal(
        [
          [EPOCH - 1n, 4, 10_000n],
          [EPOCH, 1, 6_000n],
        ].sort(),
      );
      expect(result.total).to.equal(16_000n);
      expect(result.fromEpoch).to.equal(EPOCH - 1n);
      expect(reasonOf(run(records), records[5]!)).to.equal("out-of-epoch");
    });
  });

  describe("what does not count, and why", function () {
    it("a record received after the cutoff: not evidence, not counted", function () {
      const late = { ...playback(V1, S + 60n, 300n), receivedAt: CUTOFF + 1n };
      const onTime = { ...playback(V1, S + 400n, 300n), receivedAt: CUTOFF };
      const result = run([...audience(1), late, onTime]);
      expect(reasonOf(result, late)).to.equal("after-cutoff");
      expect(reasonOf(result, onTime)).to.equal(undefined);
      expect(result.evidence).to.not.include(hashOf(late));
      expect(result.evidence).to.include(hashOf(onTime));
    });

    it("a record twice: listed once in the evidence, counted once", function () {
      const play = playback(V1, S + 60n, 300n);
      const result = run([...audience(1), play, play, play]);
      expect(result.evidence.filter((h) => h === hashOf(play))).to.have.length(1);
      expect(result.ignored).to.deep.equal([
        { recordHash: hashOf(play), kind: "Playback", reason: "duplicate" },
        { recordHash: hashOf(play), kind: "Playback", reason: "duplicate" },
      ]);
      expect(result.paid).to.equal(3_000n);
    });

    it("a forged copy sent first does not void the genuine record", function () {
      const play = playback(V1, S + 60n, 300n);
      const forged = { ...play, signature: playback(V1, S + 60n, 300n, {}, P2).signature, receivedAt: S };
      const result = run([...audience(1), forged, play]);
      expect(result.ignored).to.deep.equal([{ recordHash: hashOf(play), kind: "Playback", reason: "duplicate" }]);
      expect(result.paid).to.equal(3_000n);
    });

    it("forged: a query, response or playback not signed by its player or device", function () {
      const records = [
        query(V1, "n1", S + 100n, {}, P2),
        { ...response(0, V1, "n1", S + 110n), signature: response(1, V1, "n1", S + 110n).signature },
        { ...response(2, V1, "n1", S + 110n), signature: `0x${"00".repeat(65)}` },
        playback(V1, S + 60n, 300n, {}, P2),
      ];
      const result = run(records);
      expect(records.map((r) => reasonOf(result, r))).to.deep.equal(["forged", "forged", "forged", "forged"]);
      expect(result.ignored.map((x) => x.kind).sort()).to.deep.equal(
        ["PresenceQuery", "PresenceResponse", "PresenceResponse", "Playback"].sort(),
      );
    });

    it("unknown-venue and wrong-cell", function () {
      const nowhere = b32("nowhere");
      const records = [
        query(nowhere, "n1", S + 100n, {}, P1),
        playback(nowhere, S + 60n, 300n, {}, P1),
        { ...playback(nowhere, S + 600n, 300n, {}, P1), signature: "0x1234" },
        query(V1, "n2", S + 100n, { cell: CELL + 1n }),
      ];
      const result = run(records);
      expect(records.map((r) => reasonOf(result, r))).to.deep.equal([
        "unknown-venue",
        "unknown-venue",
        "unknown-venue",
        "wrong-cell",
      ]);
    });

    it("lists a record's reasons by hash, then reason", function () {
      const play = playback(V1, S + 60n, 300n, {}, P2); // forged
      const result = run([play, { ...play, receivedAt: CUTOFF + 1n }, play]);
      expect(result.ignored.map((x) => x.reason)).to.deep.equal(["after-cutoff", "duplicate", "forged"]);
      const other = run([{ ...play, receivedAt: CUTOFF + 1n }, play, play]);
      expect(other.ignored).to.deep.equal(result.ignored);
    });

    it("out-of-epoch queries and responses: epoch outside the range, or time outside the epoch", function () {
      const records = [
        query(V1, "a", S - 1n),
        query(V1, "b", END),
        query(V1, "c", S + 100n, { epoch: EPOCH + 1n }),
        query(V1, "d", S + 100n - LEN, { epoch: EPOCH - 1n }),
        query(V1, "e", S),
        query(V1, "f", END - 1n),
        response(0, V1, "f", END),
        response(1, V1, "f", END - 1n, { epoch: EPOCH + 1n }),
        response(2, V1, "f", END - 1n),
        response(3, V1, "e", S - 1n, { epoch: EPOCH - 1n }),
      ];
      const result = run(records);
      expect(records.map((r) => reasonOf(result, r))).to.deep.equal([
        "out-of-epoch",
        "out-of-epoch",
        "out-of-epoch",
        "out-of-epoch",
        undefined,
        undefined,
        "out-of-epoch",
        "out-of-epoch",
        undefined,
        "out-of-epoch",
      ]);
    });

    it("replayed: a query nonce used twice (the earliest counts), a device answering one query twice", function () {
      const first = query(V1, "n1", S + 100n);
      const again = query(V1, "n1", S + 200n);
      const answer = response(0, V1, "n1", S + 110n);
      const twice = response(0, V1, "n1", S + 120n);
      const afterReplay = response(1, V1, "n1", S + 221n); // late for the counted query at S + 100
      const result = run([again, twice, afterReplay, answer, first]);
      expect([first, again, answer, twice, afterReplay].map((r) => reasonOf(result, r))).to.deep.equal([
        undefined,
        "replayed",
        undefined,
        "replayed",
        "late",
      ]);
      // The earliest counts, not the lowest hash.
      let time = S + 300n;
      while (hashOf(query(V1, "n1", time)) > hashOf(first)) time++;
      const lowHash = run([first, query(V1, "n1", time)]);
      expect(lowHash.ignored).to.deep.equal([
        { recordHash: hashOf(query(V1, "n1", time)), kind: "PresenceQuery", reason: "replayed" },
      ]);
      let time2 = S + 50n;
      while (hashOf(query(V1, "n1", time2)) < hashOf(first)) time2--;
      const highHash = run([first, query(V1, "n1", time2)]);
      expect(highHash.ignored).to.deep.equal([
        { recordHash: hashOf(first), kind: "PresenceQuery", reason: "replayed" },
      ]);
      // The same nonce at another venue or in another epoch is another query.
      const other = run([first, query(V2, "n1", S + 200n)]);
      expect(other.ignored).to.deep.equal([]);
    });

    it("duplicate: a device answering a second query at the same venue counts once, at its earliest", function () {
      const records = [
        query(V1, "n1", S + 100n),
        query(V1, "n2", S + 1_000n),
        response(0, V1, "n2", S + 1_010n),
        response(0, V1, "n1", S + 110n),
        playback(V1, S + 900n, 300n),
      ];
      const result = run(records);
      expect(reasonOf(result, records[2]!)).to.equal("duplicate");
      expect(reasonOf(result, records[3]!)).to.equal(undefined);
      expect(result.playbacks[0]!.users).to.equal(null); // its counted presence is at S + 110
    });

    it("unknown-device: not registered, inactive, or registered after the response", function () {
      const stranger = wallet("stranger");
      const records = [
        query(V1, "n1", S + 100n),
        signed(stranger, "PresenceResponse", {
          device: stranger.address,
          venueId: V1,
          epoch: EPOCH,
          nonce: b32("n1"),
          time: S + 110n,
        }),
        response(0, V1, "n1", S + 110n),
        response(1, V1, "n1", S + 110n),
        response(2, V1, "n1", S + 110n),
      ];
      const devices = REGISTRY.map((d, i) =>
        i === 0
          ? { ...d, active: false }
          : i === 1
            ? { ...d, registeredAt: S + 111n }
            : i === 2
              ? { ...d, registeredAt: S + 110n }
              : d,
      );
      const result = run(records, { devices });
      expect(records.slice(1).map((r) => reasonOf(result, r))).to.deep.equal([
        "unknown-device",
        "unknown-device",
        "unknown-device",
        undefined,
      ]);
    });

    it("no-certificate: with a minimum level, an owner below it or without a certificate", function () {
      const records = audience(4);
      const terms = { ...TERMS, minCertificateLevel: 2 };
      const levels = new Map([
        [OWNERS[0]!, 1],
        [OWNERS[1]!.toLowerCase(), 2],
        [OWNERS[2]!, 3],
      ]);
      const result = run(records, { terms, certificateLevels: levels });
      expect(records.slice(1).map((r) => reasonOf(result, r))).to.deep.equal([
        "no-certificate",
        undefined,
        undefined,
        "no-certificate",
      ]);
      const none = run(records, { terms });
      expect(records.slice(1).map((r) => reasonOf(none, r))).to.deep.equal(Array(4).fill("no-certificate"));
      expect(
        run(records, { terms: { ...terms, minCertificateLevel: 0 }, certificateLevels: levels }).ignored,
      ).to.have.length(1);
      expect(run(records).ignored).to.deep.equal([]); // no minimum: no certificate needed
    });

    it("unknown-query: no counted query with that venue, epoch and nonce", function () {
      const records = [
        query(V1, "n1", S + 100n, { cell: 1n }), // wrong cell: not counted
        query(V2, "n2", S + 100n),
        response(0, V1, "n1", S + 110n),
        response(1, V1, "n2", S + 110n),
        response(2, V2, "n3", S + 110n),
        response(3, V2, "n2", S + 110n),
      ];
      const result = run(records);
      expect(records.slice(2).map((r) => reasonOf(result, r))).to.deep.equal([
        "unknown-query",
        "unknown-query",
        "unknown-query",
        undefined,
      ]);
    });

    it("early and late: the response window is [query time, query time + 120 s]", function () {
      const records = [
        query(V1, "n1", S + 100n),
        response(0, V1, "n1", S + 99n),
        response(1, V1, "n1", S + 100n),
        response(2, V1, "n1", S + 220n),
        response(3, V1, "n1", S + 221n),
      ];
      const result = run(records);
      expect(records.slice(1).map((r) => reasonOf(result, r))).to.deep.equal(["early", undefined, undefined, "late"]);
    });

    it("over-cap: a device counts in its first N venues by earliest response, ties by venue id", function () {
      const records = [
        query(V1, "n1", S + 100n),
        query(V2, "n2", S + 50n),
        query(V3, "n3", S + 100n),
        response(0, V1, "n1", S + 110n),
        response(0, V2, "n2", S + 120n),
        response(0, V3, "n3", S + 110n),
        response(1, V3, "n3", S + 105n),
      ];
      const cap1 = run(records, { terms: { ...TERMS, maxVenuesPerDevice: 1 } });
      const [first, second] = [V1, V3].sort();
      const at = (v: string) =>
        records.find(
          (r) => r.kind === "PresenceResponse" && r.record.venueId === v && r.record.device === DEVICES[0]!.address,
        )!;
      expect([at(first!), at(second!), at(V2)].map((r) => reasonOf(cap1, r))).to.deep.equal([
        undefined,
        "over-cap",
        "over-cap",
      ]);
      expect(reasonOf(cap1, records[6]!)).to.equal(undefined);
      const cap2 = run(records, { terms: { ...TERMS, maxVenuesPerDevice: 2 } });
      expect([at(V1), at(V3), at(V2)].map((r) => reasonOf(cap2, r))).to.deep.equal([undefined, undefined, "over-cap"]);
    });

    it("playbacks: zero duration, overrunning the epoch, outside it, before genesis", function () {
      const records = [
        playback(V1, S + 60n, 0n),
        playback(V1, END - 300n, 301n),
        playback(V1, END - 300n, 300n),
        playback(V1, S - 1n, 1n),
        playback(V1, END, 1n),
        playback(V1, GENESIS - 10n, 5n),
        playback(V1, GENESIS, 5n),
      ];
      const result = run(records, { fromEpoch: 0n });
      expect(records.map((r) => reasonOf(result, r))).to.deep.equal([
        "zero-duration",
        "overruns-epoch",
        undefined,
        undefined,
        "out-of-epoch",
        "out-of-epoch",
        undefined,
      ]);
      expect(reasonOf(run(records), records[3]!)).to.equal("out-of-epoch");
    });

    it("playbacks: content not in the terms, producer not the registered one", function () {
      const records = [
        playback(V1, S, 10n, { contentId: C2 }),
        playback(V1, S + 10n, 10n),
        playback(V1, S + 20n, 10n, { contentId: C2, producerId: PR2 }),
      ];
      const only1 = run(records, { terms: { ...TERMS, contentIds: [C1.toUpperCase().replace("0X", "0x")] } });
      expect(records.map((r) => reasonOf(only1, r))).to.deep.equal(["not-in-terms", undefined, "not-in-terms"]);
      expect(run(records).ignored).to.deep.equal([]);
      const registered = run(records, {
        producerOf: new Map([[C2.toUpperCase().replace("0X", "0x"), PR2.toUpperCase().replace("0X", "0x")]]),
      });
      expect(records.map((r) => reasonOf(registered, r))).to.deep.equal([
        "wrong-producer",
        "wrong-producer",
        undefined,
      ]);
    });

    it("overlapping: a venue's stacked playbacks count once, back to back is fine", function () {
      const records = [
        ...audience(4),
        playback(V1, S + 60n, 300n),
        playback(V1, S + 60n, 300n, { contentId: C2 }),
        playback(V1, S + 359n, 10n, { contentId: C2 }),
        playback(V1, S + 360n, 10n),
        playback(V2, S + 60n, 300n),
      ];
      const result = run(records);
      const [a, b] = [records[5]!, records[6]!].sort((x, y) => (hashOf(x) < hashOf(y) ? -1 : 1));
      expect([a, b, records[7], records[8], records[9]].map((r) => reasonOf(result, r!))).to.deep.equal([
        undefined,
        "overlapping",
        "overlapping",
        undefined,
        undefined,
      ]);
    });
  });

  describe("input checks", function () {
    const refuses = (over: Partial<EpochInput>, code: string) =>
      expect(() => run([], over))
        .to.throw(RewardInputError)
        .with.property("code", code);

    it("refuses a registry entry twice, a reversed range, a negative budget, bad terms or previous amounts", function () {
      refuses(
        { venues: [...VENUES, { ...VENUES[0]!, venueId: V1.toUpperCase().replace("0X", "0x") }] },
        "REWARD_VENUE_TWICE",
      );
      refuses(
        { devices: [...REGISTRY, { ...REGISTRY[0]!, address: REGISTRY[0]!.address.toLowerCase() }] },
        "REWARD_DEVICE_TWICE",
      );
      refuses({ fromEpoch: EPOCH + 1n }, "REWARD_BAD_EPOCH_RANGE");
      refuses({ budgetPerEpoch: -1n }, "REWARD_BAD_BUDGET");
      refuses({ terms: { ...TERMS, k: 0 } }, "REWARD_BAD_TERMS");
      refuses({ previous: new Map([[PR1, -1n]]) }, "REWARD_BAD_PREVIOUS");
      refuses(
        {
          previous: new Map([
            [PR1, 1n],
            [PR1.toUpperCase().replace("0X", "0x"), 1n],
          ]),
        },
        "REWARD_BAD_PREVIOUS",
      );
      expect(run([], { budgetPerEpoch: 0n, fromEpoch: EPOCH }).total).to.equal(0n);
    });
  });

  describe("properties", function () {
    /** A random epoch's evidence: queries, responses to them (or to nothing), playbacks. */
    const world = fc.record({
      queries: fc.array(
        fc.record({
          venue: fc.constantFrom(V1, V2, V3),
          nonce: fc.constantFrom("a", "b"),
          at: fc.bigInt({ min: -50n, max: LEN + 50n }),
        }),
        { maxLength: 5 },
      ),
      responses: fc.array(
        fc.record({
          device: fc.integer({ min: 0, max: 9 }),
          query: fc.nat(),
          delay: fc.bigInt({ min: -10n, max: 150n }),
        }),
        { maxLength: 16 },
      ),
      playbacks: fc.array(
        fc.record({
          venue: fc.constantFrom(V1, V2, V3),
          producer: fc.constantFrom(PR1, PR2),
          at: fc.bigInt({ min: -50n, max: LEN + 50n }),
          duration: fc.bigInt({ min: 0n, max: 900n }),
        }),
        { maxLength: 6 },
      ),
      budget: fc.bigInt({ min: 0n, max: 100_000n }),
      k: fc.integer({ min: 1, max: 3 }),
      cap: fc.integer({ min: 1, max: 2 }),
    });
    type World = typeof world extends fc.Arbitrary<infer W> ? W : never;

    function recordsOf(w: World): ReceiptedRecord[] {
      const queries = w.queries.map((q) => query(q.venue, q.nonce, S + q.at));
      const responses =
        w.queries.length === 0
          ? []
          : w.responses.map((r) => {
              const q = w.queries[r.query % w.queries.length]!;
              return response(r.device, q.venue, q.nonce, S + q.at + r.delay);
            });
      const playbacks = w.playbacks.map((p) => playback(p.venue, S + p.at, p.duration, { producerId: p.producer }));
      return [...queries, ...responses, ...playbacks];
    }
    const inputOf = (w: World): Partial<EpochInput> => ({
      budgetPerEpoch: w.budget,
      terms: { ...TERMS, k: w.k, maxVenuesPerDevice: w.cap },
    });

    it("never pays more than the budget, and pays only playbacks with a counted device present", function () {
      fc.assert(
        fc.property(world, (w) => {
          const records = recordsOf(w);
          const result = run(records, inputOf(w));
          expect(result.paid <= w.budget).to.equal(true);
          expect(result.total).to.equal(result.paid);
          const ignoredCount = new Map<string, number>();
          for (const x of result.ignored) ignoredCount.set(x.recordHash, (ignoredCount.get(x.recordHash) ?? 0) + 1);
          const copies = new Map<string, number>();
          for (const r of records) copies.set(hashOf(r), (copies.get(hashOf(r)) ?? 0) + 1);
          const counted = records.filter(
            (r) => r.kind === "PresenceResponse" && (ignoredCount.get(hashOf(r)) ?? 0) < copies.get(hashOf(r))!,
          );
          for (const p of result.playbacks) {
            if (p.reward === 0n) continue;
            expect(p.users).to.be.a("number").and.to.be.at.least(w.k);
            const record = records.find((r) => hashOf(r) === p.recordHash)!.record as Playback;
            const present = counted.filter(
              (r) =>
                r.record.venueId === p.venueId &&
                record.start <= (r.record as PresenceResponse).time &&
                (r.record as PresenceResponse).time <= record.start + record.duration,
            );
            expect(present.length).to.be.at.least(1);
          }
          expect(result.evidence).to.deep.equal([...new Set(records.map(hashOf))].sort());
          const hashes = result.playbacks.map((p) => p.recordHash);
          expect(hashes).to.deep.equal([...hashes].sort());
          const keys = result.ignored.map((x) => `${x.recordHash}|${x.reason}`);
          expect(keys).to.deep.equal([...keys].sort());
          const ids = result.producers.map((p) => p.producerId);
          expect(ids).to.deep.equal([...ids].sort());
        }),
        { numRuns: 60 },
      );
    });

    it("gives the same result for the same evidence in any order", function () {
      fc.assert(
        fc.property(
          world.chain((w) => {
            const records = recordsOf(w);
            return fc.tuple(
              fc.constant(w),
              fc.constant(records),
              fc.shuffledSubarray(records, { minLength: records.length, maxLength: records.length }),
            );
          }),
          ([w, records, shuffled]) => {
            const a = run(records, inputOf(w));
            const b = run(shuffled, { ...inputOf(w), venues: [...VENUES].reverse(), devices: [...REGISTRY].reverse() });
            expect(b.root).to.equal(a.root);
            expect(b.evidenceRoot).to.equal(a.evidenceRoot);
            expect(b.playbacks).to.deep.equal(a.playbacks);
            expect(b.producers).to.deep.equal(a.producers);
            expect(b.ignored).to.deep.equal(a.ignored);
          },
        ),
        { numRuns: 40 },
      );
    });

    it("never lowers a playback's reward when one more device is present (under budget)", function () {
      fc.assert(
        fc.property(world, fc.nat(), fc.bigInt({ min: 0n, max: 120n }), (w, pick, delay) => {
          fc.pre(w.queries.length > 0);
          const records = recordsOf(w);
          const input = { ...inputOf(w), budgetPerEpoch: BIG };
          const before = run(records, input);
          const q = w.queries[pick % w.queries.length]!;
          const newcomer = wallet("newcomer");
          const extra = signed(newcomer, "PresenceResponse", {
            device: newcomer.address,
            venueId: q.venue,
            epoch: EPOCH,
            nonce: b32(q.nonce),
            time: S + q.at + delay,
          });
          const devices = [
            ...REGISTRY,
            { address: newcomer.address, owner: OWNERS[0]!, registeredAt: GENESIS, active: true },
          ];
          const after = run([...records, extra], { ...input, devices });
          for (const p of before.playbacks) {
            const now = after.playbacks.find((x) => x.recordHash === p.recordHash)!;
            expect(now.reward >= p.reward).to.equal(true);
            expect((now.users ?? 0) >= (p.users ?? 0)).to.equal(true);
          }
        }),
        { numRuns: 40 },
      );
    });
  });
});
