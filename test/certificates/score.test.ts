import { expect } from "chai";
import fc from "fast-check";

import {
  FEATURE_NAMES,
  featuresToJson,
  FeaturesInvalidError,
  NO_FEATURES,
  parseFeatures,
  type FeatureName,
  type Features,
} from "../../src/certificates/features.js";
import {
  canonicalModel,
  defaultModel,
  modelContentHash,
  modelIdOf,
  ModelInvalidError,
  modelToJson,
  parseModel,
  TERM_DIRECTIONS,
  TERM_NAMES,
  type ScoringModel,
  type TermName,
} from "../../src/certificates/model.js";
import {
  contribution,
  featureProof,
  levelOf,
  featuresRoot,
  featuresTree,
  score,
  verifyFeature,
} from "../../src/certificates/score.js";

const DAY = 86_400n;
const T0 = 1_767_225_600n; // 2026-01-01T00:00:00Z
const ETHER = 10n ** 18n;

/** The five example histories of issue 17, and the regular user they vary. */
const merchant: Features = {
  ...NO_FEATURES,
  firstActivity: T0,
  lastActivity: T0 + 400n * DAY,
  activeDays: 250n,
  txCountIn: 3_000n,
  txCountOut: 600n,
  volumeToken: 25_000_000n, // 250,000.00 USD
  volumeNative: 12n * ETHER,
  counterparties: 120n,
  settlementsCompleted: 150n,
  billsPaidOnTime: 60n,
};
const regular: Features = {
  ...NO_FEATURES,
  firstActivity: T0,
  lastActivity: T0 + 300n * DAY,
  activeDays: 120n,
  txCountIn: 300n,
  txCountOut: 300n,
  volumeToken: 5_000_000n, // 50,000.00 USD
  volumeNative: 5n * ETHER,
  counterparties: 30n,
  settlementsCompleted: 60n,
  billsPaidOnTime: 30n,
};
const doubleSpender: Features = { ...regular, doubleSpendFlags: 1n };
const latePayer: Features = { ...regular, billsPaidOnTime: 24n, billsPaidOverdue: 6n };
const frozen: Features = { ...regular, frozenPeriods: 1n };

/** A feature value: mostly near the default caps, sometimes huge. */
const value = fc.oneof(
  fc.bigInt({ min: 0n, max: 1_000n }),
  fc.bigInt({ min: 0n, max: 100n * ETHER }),
  fc.bigInt({ min: 0n, max: (1n << 255n) - 1n }),
);

const features: fc.Arbitrary<Features> = fc
  .record({
    ...(Object.fromEntries(FEATURE_NAMES.map((name) => [name, value])) as Record<FeatureName, typeof value>),
    firstActivity: fc.bigInt({ min: 0n, max: 1n << 40n }),
    span: fc.oneof(fc.bigInt({ min: 0n, max: 1_000n * DAY }), fc.bigInt({ min: 0n, max: 1n << 60n })),
  })
  .map(({ span, ...f }) => ({ ...f, lastActivity: f.firstActivity + span }));

const model: fc.Arbitrary<ScoringModel> = fc
  .record({
    id: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/),
    version: fc.integer({ min: 1, max: 1_000 }),
    weights: fc.record(
      Object.fromEntries(
        TERM_NAMES.map((t) => [
          t,
          TERM_DIRECTIONS[t] === "up" ? fc.integer({ min: 0, max: 10_000 }) : fc.integer({ min: -10_000, max: 0 }),
        ]),
      ) as Record<TermName, fc.Arbitrary<number>>,
    ),
    caps: fc.record(
      Object.fromEntries(
        TERM_NAMES.map((t) => [
          t,
          fc.oneof(fc.bigInt({ min: 1n, max: 1_000n }), fc.bigInt({ min: 1n, max: 1n << 80n })),
        ]),
      ) as Record<TermName, fc.Arbitrary<bigint>>,
    ),
    thresholds: fc
      .uniqueArray(fc.integer({ min: 1, max: 150_000 }), { minLength: 3, maxLength: 3 })
      .map((t) => t.sort((a, b) => a - b))
      .map(([LOW, MEDIUM, HIGH]) => ({ LOW: LOW!, MEDIUM: MEDIUM!, HIGH: HIGH! })),
  })
  .map((m) => parseModel(modelToJson(m)));

/** Sets a feature, moving `lastActivity` along when `firstActivity` would pass it. */
function withFeature(f: Features, name: FeatureName, v: bigint): Features {
  const next = { ...f, [name]: v };
  if (name === "firstActivity" && v > next.lastActivity) return { ...next, lastActivity: v };
  if (name === "lastActivity" && v < next.firstActivity) return { ...next, firstActivity: v };
  return next;
}

/** The direction in which each feature may move the score (`firstActivity` acts through `age`). */
const FEATURE_DIRECTION: Record<FeatureName, "up" | "down"> = {
  ...(TERM_DIRECTIONS as Record<Exclude<TermName, "age">, "up" | "down">),
  firstActivity: "down",
  lastActivity: "up",
};

describe("certificates: the scorer (src/certificates/score.ts, model.ts, features.ts)", function () {
  describe("the default model (models/default-v1.json): the five histories of issue 17", function () {
    // Loaded in a hook, not at file load, so that a broken model schema fails these tests instead of the whole file.
    let m: ScoringModel;
    before(function () {
      m = defaultModel();
    });

    it("a trusted merchant is HIGH (every positive term at its cap: 1000)", function () {
      expect(score(merchant, m)).to.deep.equal({ score: 1000, level: "HIGH", levelIndex: 3 });
    });
    it("a fresh address is NONE (0)", function () {
      expect(score(NO_FEATURES, m)).to.deep.equal({ score: 0, level: "NONE", levelIndex: 0 });
    });
    it("a regular user is MEDIUM (624), the base of the three below", function () {
      expect(score(regular, m)).to.deep.equal({ score: 624, level: "MEDIUM", levelIndex: 2 });
    });
    it("one offline double spend takes the regular user to NONE (624 - 1000, floored at 0)", function () {
      expect(score(doubleSpender, m)).to.deep.equal({ score: 0, level: "NONE", levelIndex: 0 });
      expect(score({ ...merchant, doubleSpendFlags: 1n }, m).level).to.equal("NONE");
    });
    it("a late payer (6 of 30 bills overdue) is LOW (624 - 30 - 240 = 354)", function () {
      expect(score(latePayer, m)).to.deep.equal({ score: 354, level: "LOW", levelIndex: 1 });
    });
    it("a once-frozen account is LOW (624 - 300 = 324)", function () {
      expect(score(frozen, m)).to.deep.equal({ score: 324, level: "LOW", levelIndex: 1 });
    });
    it('has the on-chain id keccak256(utf8("<id>/v<version>")), one per version', function () {
      expect(modelIdOf(m)).to.equal("0xc1f57677c086faf6e5df192196012e3f84f627f95941149dd435d6381d291469");
      expect(modelIdOf({ id: m.id, version: 2 })).to.not.equal(modelIdOf(m));
    });
    it("has a pinned content hash and a pinned root for no history", function () {
      expect(modelContentHash(m)).to.equal("0xa5c772785717ace77781408cf10ce9e5c0832d1759ba55d5277f4e0fea3c8b33");
      expect(featuresRoot(NO_FEATURES)).to.equal("0x54c790a8cd01dcd1a0680d26f3f1361d0cdd794401c32a55b693dc492a42b7f6");
    });
  });

  describe("properties (any valid model, any features)", function () {
    it("is deterministic, and the same through the JSON of features and model", function () {
      fc.assert(
        fc.property(features, model, (f, m) => {
          const first = score(f, m);
          expect(score({ ...f }, m)).to.deep.equal(first);
          expect(score(parseFeatures(featuresToJson(f)), parseModel(JSON.parse(canonicalModel(m))))).to.deep.equal(
            first,
          );
        }),
      );
    });

    it("moves with each feature only in its documented direction (monotonic)", function () {
      fc.assert(
        fc.property(
          features,
          model,
          fc.constantFrom(...FEATURE_NAMES),
          fc.bigInt({ min: 1n, max: 1n << 70n }),
          (f, m, name, delta) => {
            const before = score(f, m).score;
            const raised = withFeature(f, name, f[name] + delta);
            const after = score(raised, m).score;
            if (FEATURE_DIRECTION[name] === "up") expect(after).to.be.at.least(before, name);
            else expect(after).to.be.at.most(before, name);
          },
        ),
      );
    });

    it("holds the caps: a term beyond its cap counts as at its cap, and never more than its weight", function () {
      fc.assert(
        fc.property(
          features,
          model,
          fc.constantFrom(...TERM_NAMES),
          fc.bigInt({ min: 1n, max: 1n << 70n }),
          (f, m, t, extra) => {
            const cap = m.caps[t];
            const at = t === "age" ? { ...f, lastActivity: f.firstActivity + cap } : { ...f, [t]: cap };
            const beyond =
              t === "age" ? { ...f, lastActivity: f.firstActivity + cap + extra } : { ...f, [t]: cap + extra };
            expect(contribution(beyond, m, t)).to.equal(BigInt(m.weights[t]), t);
            expect(contribution(at, m, t)).to.equal(BigInt(m.weights[t]), t);
            expect(score(beyond, m)).to.deep.equal(score(at, m));
            const c = contribution(f, m, t);
            expect((c < 0n ? -c : c) <= BigInt(Math.abs(m.weights[t]))).to.equal(true, t);
            const top = TERM_NAMES.reduce((sum, n) => sum + Math.max(0, m.weights[n]), 0);
            expect(score(f, m).score).to.be.within(0, top);
          },
        ),
      );
    });

    it("changes the content hash when any field of the model changes, and not when keys are reordered", function () {
      fc.assert(
        fc.property(model, fc.nat(), (m, pick) => {
          const json = modelToJson(m);
          const hash = modelContentHash(m);
          const reversed = Object.fromEntries(Object.entries(json).reverse());
          expect(modelContentHash(parseModel(reversed))).to.equal(hash);

          const variants: unknown[] = [
            { ...json, id: `${json.id}x` },
            { ...json, version: json.version + 1 },
            { ...json, thresholds: { ...json.thresholds, HIGH: json.thresholds.HIGH + 1 } },
            { ...json, thresholds: { ...json.thresholds, LOW: json.thresholds.LOW - 1 } },
          ];
          const t = TERM_NAMES[pick % TERM_NAMES.length]!;
          const w = json.weights[t];
          variants.push({ ...json, weights: { ...json.weights, [t]: TERM_DIRECTIONS[t] === "up" ? w + 1 : w - 1 } });
          variants.push({ ...json, caps: { ...json.caps, [t]: (BigInt(json.caps[t]) + 1n).toString() } });
          for (const v of variants) {
            const changed = v as { thresholds: { LOW: number } };
            if (changed.thresholds.LOW < 1) continue;
            expect(modelContentHash(parseModel(v))).to.not.equal(hash);
          }
        }),
      );
    });

    it("changes the features root when any feature changes; each feature's proof verifies, a wrong value does not", function () {
      fc.assert(
        fc.property(
          features,
          fc.constantFrom(...FEATURE_NAMES),
          fc.bigInt({ min: 1n, max: 1n << 64n }),
          (f, name, delta) => {
            const root = featuresRoot(f);
            expect(featuresRoot(withFeature(f, name, f[name] + delta))).to.not.equal(root);
            const { leaf, proof, root: proved } = featureProof(f, name);
            expect(proved).to.equal(root);
            expect(leaf).to.deep.equal([name, f[name].toString()]);
            expect(verifyFeature(root, leaf, proof)).to.equal(true);
            expect(verifyFeature(root, [name, (f[name] + delta).toString()], proof)).to.equal(false);
            expect(featuresTree(f).length).to.equal(FEATURE_NAMES.length);
          },
        ),
        { numRuns: 50 },
      );
    });
  });

  describe("validation at the boundary", function () {
    it("refuses a weight against its term's direction, naming the field", function () {
      const json = modelToJson(defaultModel());
      expect(() => parseModel({ ...json, weights: { ...json.weights, doubleSpendFlags: 5 } }))
        .to.throw(ModelInvalidError)
        .with.property("details")
        .that.deep.includes({ field: "weights.doubleSpendFlags" });
      expect(() => parseModel({ ...json, weights: { ...json.weights, age: -1 } }))
        .to.throw(ModelInvalidError)
        .with.property("details")
        .that.deep.includes({ field: "weights.age" });
    });

    it("refuses a zero cap, a missing or unknown term, and thresholds out of order", function () {
      const json = modelToJson(defaultModel());
      const { age: _age, ...withoutAge } = json.caps;
      for (const [bad, field] of [
        [{ ...json, caps: { ...json.caps, activeDays: "0" } }, "caps.activeDays"],
        [{ ...json, caps: withoutAge }, "caps.age"],
        [{ ...json, weights: { ...json.weights, loyalty: 1 } }, "weights"],
        [{ ...json, thresholds: { LOW: 500, MEDIUM: 400, HIGH: 700 } }, "thresholds"],
      ] as const) {
        expect(() => parseModel(bad))
          .to.throw(ModelInvalidError)
          .with.property("details")
          .that.deep.includes({ field });
      }
    });

    it("refuses weights, caps, thresholds, ids and versions out of range, and accepts their bounds", function () {
      const json = modelToJson(defaultModel());
      const top = (1n << 256n) - 1n;
      const huge = Object.fromEntries(TERM_NAMES.map((t) => [t, TERM_DIRECTIONS[t] === "up" ? 1_000_000_000 : 0]));
      for (const [bad, field] of [
        [{ ...json, weights: huge }, "weights"],
        [{ ...json, caps: { ...json.caps, age: (top + 1n).toString() } }, "caps.age"],
        [{ ...json, caps: { ...json.caps, age: "1x" } }, "caps.age"],
        [{ ...json, caps: { ...json.caps, age: "x1" } }, "caps.age"],
        [{ ...json, caps: { ...json.caps, age: "01" } }, "caps.age"],
        [{ ...json, thresholds: { LOW: 200, MEDIUM: 200, HIGH: 700 } }, "thresholds"],
        [{ ...json, thresholds: { LOW: 200, MEDIUM: 700, HIGH: 700 } }, "thresholds"],
        [{ ...json, thresholds: { LOW: 200, MEDIUM: 450, HIGH: 2 ** 32 } }, "thresholds.HIGH"],
        [{ ...json, id: "Bank" }, "id"],
        [{ ...json, id: "bank_" }, "id"],
        [{ ...json, id: "-bank" }, "id"],
        [{ ...json, version: 2 ** 32 }, "version"],
        [{ ...json, version: 0 }, "version"],
      ] as const) {
        expect(() => parseModel(bad))
          .to.throw(ModelInvalidError)
          .with.property("details")
          .that.deep.includes({ field });
      }
      const edge = parseModel({
        ...json,
        id: "a",
        version: 2 ** 32 - 1,
        caps: { ...json.caps, age: top.toString() },
        thresholds: { LOW: 1, MEDIUM: 2, HIGH: 2 ** 32 - 1 },
      });
      expect(edge.caps.age).to.equal(top);
      // Positive weights summing to exactly 2^32 - 1 are accepted.
      const exact = {
        ...json.weights,
        age: 2 ** 32 - 1 - 4 * 1_000_000_000,
        activeDays: 1_000_000_000,
        txCountIn: 1_000_000_000,
        txCountOut: 1_000_000_000,
        volumeToken: 1_000_000_000,
        volumeNative: 0,
        counterparties: 0,
        settlementsCompleted: 0,
        billsPaidOnTime: 0,
      };
      expect(parseModel({ ...json, weights: exact }).weights.age).to.equal(exact.age);
    });

    it("gives each threshold's own level at the threshold and the one below just under it", function () {
      const m = defaultModel();
      expect([0, 199, 200, 449, 450, 699, 700, 1000].map((s) => levelOf(s, m))).to.deep.equal([
        "NONE",
        "NONE",
        "LOW",
        "LOW",
        "MEDIUM",
        "MEDIUM",
        "HIGH",
        "HIGH",
      ]);
      fc.assert(
        fc.property(model, (any) => {
          for (const level of ["LOW", "MEDIUM", "HIGH"] as const) {
            expect(levelOf(any.thresholds[level], any)).to.equal(level);
          }
          expect(levelOf(any.thresholds.LOW - 1, any)).to.equal("NONE");
        }),
      );
    });

    it("takes feature values up to 2^256 - 1 and refuses 2^256, non-decimal text and non-objects", function () {
      const json = featuresToJson(regular);
      const top = (1n << 256n) - 1n;
      expect(parseFeatures({ ...json, volumeNative: top.toString() }).volumeNative).to.equal(top);
      for (const [bad, field] of [
        [{ ...json, volumeNative: (top + 1n).toString() }, "volumeNative"],
        [{ ...json, txCountOut: "12abc" }, "txCountOut"],
        [{ ...json, txCountOut: "01" }, "txCountOut"],
        [{ ...json, txCountOut: "a12" }, "txCountOut"],
        [null, "(root)"],
        ["12", "(root)"],
      ] as const) {
        expect(() => parseFeatures(bad))
          .to.throw(FeaturesInvalidError)
          .with.property("details")
          .that.deep.includes({ field });
      }
      expect(() => parseFeatures("12"))
        .to.throw(FeaturesInvalidError)
        .with.property("details")
        .that.deep.includes({ field: "(root)", value: "12" });
      const m = defaultModel();
      const asNumber = { ...regular, txCountIn: 3 } as unknown as Features;
      for (const [bad, field] of [
        [asNumber, "txCountIn"],
        [{ ...regular, volumeNative: top + 1n }, "volumeNative"],
        [{ ...regular, firstActivity: regular.lastActivity + 1n }, "firstActivity"],
      ] as const) {
        expect(() => score(bad, m))
          .to.throw(FeaturesInvalidError)
          .with.property("details")
          .that.deep.includes({ field });
      }
      expect(score({ ...regular, volumeNative: top }, m).score).to.equal(624 - 25 + 50);
    });

    it("refuses features with a negative or non-decimal value, or first activity after the last", function () {
      const json = featuresToJson(regular);
      expect(() => parseFeatures({ ...json, txCountIn: "-1" }))
        .to.throw(FeaturesInvalidError)
        .with.property("details")
        .that.deep.includes({ field: "txCountIn", value: "-1" });
      expect(() => parseFeatures({ ...json, volumeToken: 5 }))
        .to.throw(FeaturesInvalidError)
        .with.property("details")
        .that.deep.includes({ field: "volumeToken" });
      expect(() => parseFeatures({ ...json, firstActivity: (T0 + 301n * DAY).toString() }))
        .to.throw(FeaturesInvalidError)
        .with.property("details")
        .that.deep.includes({ field: "firstActivity" });
      expect(() => score({ ...regular, activeDays: -1n }, defaultModel())).to.throw(FeaturesInvalidError);
    });
  });
});
