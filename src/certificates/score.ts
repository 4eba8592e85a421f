/**
 * The certificate scorer: a pure function of (features, model), in integers only,
 * and the Merkle tree of the features that a certificate commits to.
 *
 * The formula. For each term `t` of the model (`model.ts`), with value `v_t`
 * (`age = lastActivity - firstActivity`; every other term is the feature of the
 * same name), cap `c_t > 0` and weight `w_t`:
 *
 * ```
 * contribution_t = sign(w_t) * floor(|w_t| * min(v_t, c_t) / c_t)
 * raw            = sum of contribution_t over all terms
 * score          = max(0, raw)
 * level          = HIGH if score >= thresholds.HIGH, else MEDIUM if >= thresholds.MEDIUM,
 *                  else LOW if >= thresholds.LOW, else NONE
 * ```
 *
 * All arithmetic is `bigint`, so no rounding depends on the platform. A term is
 * worth `w_t` points at or beyond its cap and nothing at 0; rounding is toward
 * zero, so a term's magnitude never exceeds `|w_t|`. The score lies in
 * `[0, sum of positive weights]`, which the model schema keeps within `uint32`.
 * Since `w_t >= 0` for `up` terms and `<= 0` for `down` terms, raising a feature
 * never lowers the score (`up`) or never raises it (`down`); `firstActivity`
 * acts through `age` only, so raising it never raises the score.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";

import { checkFeatures, FEATURE_NAMES, type FeatureName, type Features } from "./features.js";
import { LEVELS, TERM_NAMES, type Level, type ScoringModel, type TermName } from "./model.js";

export type Score = {
  /** The integer score, in `[0, 2^32 - 1]`. */
  readonly score: number;
  readonly level: Level;
  /** The level's index in `LEVELS` (`NONE` = 0): the certificate's `uint8 level`. */
  readonly levelIndex: number;
};

/** The value of one term for these features. */
export function termValue(features: Features, term: TermName): bigint {
  if (term === "age") return features.lastActivity - features.firstActivity;
  return features[term];
}

/** One term's signed contribution, `sign(w) * floor(|w| * min(v, c) / c)`. */
export function contribution(features: Features, model: ScoringModel, term: TermName): bigint {
  const weight = BigInt(model.weights[term]);
  const cap = model.caps[term];
  const value = termValue(features, term);
  const capped = value < cap ? value : cap;
  const magnitude = ((weight < 0n ? -weight : weight) * capped) / cap;
  return weight < 0n ? -magnitude : magnitude;
}

/** The level of a score under the model's thresholds. */
export function levelOf(score: number, model: ScoringModel): Level {
  if (score >= model.thresholds.HIGH) return "HIGH";
  if (score >= model.thresholds.MEDIUM) return "MEDIUM";
  if (score >= model.thresholds.LOW) return "LOW";
  return "NONE";
}

/** Scores features under a model (both already checked: see `parseFeatures`, `parseModel`). */
export function score(features: Features, model: ScoringModel): Score {
  checkFeatures(features);
  let raw = 0n;
  for (const term of TERM_NAMES) raw += contribution(features, model, term);
  const value = Number(raw < 0n ? 0n : raw);
  const level = levelOf(value, model);
  return { score: value, level, levelIndex: LEVELS.indexOf(level) };
}

/** The leaf encoding: `(string name, uint256 value)`. */
export const FEATURE_LEAF_ENCODING = ["string", "uint256"] as const;

/** The leaves, one per feature in `FEATURE_NAMES` order: `[name, value as decimal string]`. */
export function featureLeaves(features: Features): [FeatureName, string][] {
  checkFeatures(features);
  return FEATURE_NAMES.map((name) => [name, features[name].toString()]);
}

/**
 * OpenZeppelin's `StandardMerkleTree` over `(string name, uint256 value)`
 * leaves: leaf hash `keccak256(keccak256(abi.encode(name, value)))`, pairs
 * sorted, so `MerkleProof.verify` checks a feature on chain.
 */
export function featuresTree(features: Features): StandardMerkleTree<[FeatureName, string]> {
  return StandardMerkleTree.of(featureLeaves(features), [...FEATURE_LEAF_ENCODING]);
}

/** The root of `featuresTree(features)`: the certificate's `featuresRoot`. */
export function featuresRoot(features: Features): string {
  return featuresTree(features).root;
}

/** One feature's leaf and its proof against `featuresRoot(features)`. */
export function featureProof(
  features: Features,
  name: FeatureName,
): { leaf: [FeatureName, string]; proof: string[]; root: string } {
  const tree = featuresTree(features);
  const index = FEATURE_NAMES.indexOf(name);
  const leaf: [FeatureName, string] = [name, features[name].toString()];
  return { leaf, proof: tree.getProof(index), root: tree.root };
}

/** Checks a `(name, value)` leaf and its proof against a features root. */
export function verifyFeature(root: string, leaf: [FeatureName, string], proof: string[]): boolean {
  return StandardMerkleTree.verify(root, [...FEATURE_LEAF_ENCODING], leaf, proof);
}
