/**
 * The features of one address's history: what the certificate scorer reads.
 *
 * The indexer (issue 17, not in this module) derives them from the chain; the
 * scorer (`score.ts`) turns them into a score and a level under a published
 * model (`model.ts`). Every feature is a non-negative integer, held as a
 * `bigint` so amounts never pass through `number`. In JSON each is a decimal
 * string (`featuresToJson` / `parseFeatures`).
 *
 * "No activity at all" is `firstActivity = lastActivity = 0` with every count 0.
 */
import { z } from "zod";

import { BankChainError } from "../errors.js";

/** The feature names, in the fixed order of the Merkle leaves (`score.ts`). */
export const FEATURE_NAMES = [
  "firstActivity",
  "lastActivity",
  "activeDays",
  "txCountIn",
  "txCountOut",
  "volumeToken",
  "volumeNative",
  "counterparties",
  "settlementsCompleted",
  "billsPaidOnTime",
  "billsPaidOverdue",
  "doubleSpendFlags",
  "frozenPeriods",
  "flaggedCounterparties",
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];

/**
 * One address's history, as the scorer sees it.
 *
 * - `firstActivity`, `lastActivity`: unix seconds of its first and last transaction (0 when none);
 * - `activeDays`: distinct UTC days with at least one transaction;
 * - `txCountIn`, `txCountOut`: transactions received and sent;
 * - `volumeToken`: BankToken moved in and out, in minor units (cents for USD);
 * - `volumeNative`: native coin moved in and out, in wei;
 * - `counterparties`: distinct addresses it transacted with;
 * - `settlementsCompleted`: settlements it took part in that completed;
 * - `billsPaidOnTime`, `billsPaidOverdue`: bills it paid before, and after, their due date;
 * - `doubleSpendFlags`: offline vouchers of its that were flagged as double spends;
 * - `frozenPeriods`: times its account was frozen;
 * - `flaggedCounterparties`: distinct counterparties it sent value to that are frozen or flagged (what it
 *   received from them does not count: anyone can send to anyone).
 */
export type Features = { readonly [K in FeatureName]: bigint };

/** The largest value a feature may take: the Merkle leaves are `uint256`. */
export const FEATURE_MAX = (1n << 256n) - 1n;

/** A feature as it travels in JSON: a decimal string without sign or leading zeros. */
const decimal = z
  .string()
  .regex(/^(0|[1-9][0-9]*)$/, "a non-negative decimal integer")
  .transform((text) => BigInt(text))
  .refine((value) => value <= FEATURE_MAX, "at most 2^256 - 1");

/** The zod schema of features in JSON; yields `Features` with bigints. */
export const featuresSchema = z
  .object(Object.fromEntries(FEATURE_NAMES.map((name) => [name, decimal])) as Record<FeatureName, typeof decimal>)
  .strict()
  .refine((f) => f.firstActivity <= f.lastActivity, {
    message: "firstActivity must not be after lastActivity",
    path: ["firstActivity"],
  });

/** Features that are not well formed (a missing, unknown, negative or out-of-order field). */
export class FeaturesInvalidError extends BankChainError {
  constructor(field: string, reason: string, value: unknown) {
    super("CERT_FEATURES_INVALID", `features: ${field} ${reason}`, { field, reason, value });
  }
}

/** Parses features from JSON (decimal strings), naming the first bad field. */
export function parseFeatures(json: unknown): Features {
  const result = featuresSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join(".") || "(root)";
    const value =
      typeof json === "object" && json !== null ? (json as Record<string, unknown>)[String(issue?.path[0])] : json;
    throw new FeaturesInvalidError(field, issue?.message ?? "is invalid", value);
  }
  return result.data;
}

/** Checks features built in code (bigints): each in `[0, 2^256 - 1]`, first activity not after the last. */
export function checkFeatures(features: Features): Features {
  for (const name of FEATURE_NAMES) {
    const value = features[name];
    if (typeof value !== "bigint") throw new FeaturesInvalidError(name, "must be a bigint", value);
    if (value < 0n || value > FEATURE_MAX) throw new FeaturesInvalidError(name, "must be in [0, 2^256 - 1]", value);
  }
  if (features.firstActivity > features.lastActivity) {
    throw new FeaturesInvalidError("firstActivity", "must not be after lastActivity", features.firstActivity);
  }
  return features;
}

/** Features as JSON: each a decimal string, in the fixed order. */
export function featuresToJson(features: Features): Record<FeatureName, string> {
  return Object.fromEntries(FEATURE_NAMES.map((name) => [name, features[name].toString()])) as Record<
    FeatureName,
    string
  >;
}

/** The features of an address with no history. */
export const NO_FEATURES: Features = Object.freeze(
  Object.fromEntries(FEATURE_NAMES.map((name) => [name, 0n])) as Record<FeatureName, bigint>,
);
