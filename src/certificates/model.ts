/**
 * The scoring model as data: what `score.ts` applies to an address's features.
 *
 * A model is JSON (see `models/default-v1.json`):
 *
 * ```json
 * { "id": "bank-chain-default", "version": 1,
 *   "weights": { "<term>": <integer>, ... },
 *   "caps": { "<term>": "<decimal>", ... },
 *   "thresholds": { "LOW": <integer>, "MEDIUM": <integer>, "HIGH": <integer> } }
 * ```
 *
 * Terms are the features of `features.ts` except the two timestamps, plus `age`
 * (`lastActivity - firstActivity`, in seconds). Every term must have a weight and
 * a cap. Each term has a fixed direction (`TERM_DIRECTIONS`): a weight must be
 * `>= 0` for an `up` term and `<= 0` for a `down` term, so under every valid model
 * each feature moves the score only in its documented direction. A weight is the
 * number of points the term is worth when it reaches its cap (`score.ts`).
 *
 * The model's content hash is `keccak256` of its canonical JSON (keys sorted at
 * every level, no whitespace, caps as decimal strings): the value that the
 * on-chain `ScoringModelRegistry` stores as `contentHash`.
 */
import { readFileSync } from "node:fs";

import { keccak256, toUtf8Bytes } from "ethers";
import { z } from "zod";

import { BankChainError } from "../errors.js";
import type { FeatureName } from "./features.js";

/** The scored terms: `age` then every count feature. */
export const TERM_NAMES = [
  "age",
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
] as const satisfies readonly ("age" | FeatureName)[];

export type TermName = (typeof TERM_NAMES)[number];

/** The direction in which each term may move the score: the sign its weight must have. */
export const TERM_DIRECTIONS: Readonly<Record<TermName, "up" | "down">> = Object.freeze({
  age: "up",
  activeDays: "up",
  txCountIn: "up",
  txCountOut: "up",
  volumeToken: "up",
  volumeNative: "up",
  counterparties: "up",
  settlementsCompleted: "up",
  billsPaidOnTime: "up",
  billsPaidOverdue: "down",
  doubleSpendFlags: "down",
  frozenPeriods: "down",
  flaggedCounterparties: "down",
});

/** The levels, lowest first; a level's index is what the certificate's `uint8 level` carries. */
export const LEVELS = ["NONE", "LOW", "MEDIUM", "HIGH"] as const;
export type Level = (typeof LEVELS)[number];

/** The largest score: the certificate's `score` is a `uint32`. */
export const SCORE_MAX = 2 ** 32 - 1;
/** The largest weight magnitude, so sums stay far inside `Number.MAX_SAFE_INTEGER`. */
export const WEIGHT_MAX = 1_000_000_000;
/** The largest cap: caps bound features, which are `uint256`. */
export const CAP_MAX = (1n << 256n) - 1n;

export type ScoringModel = {
  readonly id: string;
  readonly version: number;
  readonly weights: Readonly<Record<TermName, number>>;
  readonly caps: Readonly<Record<TermName, bigint>>;
  readonly thresholds: Readonly<Record<Exclude<Level, "NONE">, number>>;
};

const weight = z.number().int().min(-WEIGHT_MAX).max(WEIGHT_MAX);
const cap = z
  .string()
  .regex(/^[1-9][0-9]*$/, "a positive decimal integer")
  .transform((text) => BigInt(text))
  .refine((value) => value <= CAP_MAX, "at most 2^256 - 1");
const threshold = z.number().int().min(1).max(SCORE_MAX);

function termsOf<T extends z.ZodTypeAny>(value: T) {
  return z.object(Object.fromEntries(TERM_NAMES.map((name) => [name, value])) as Record<TermName, T>).strict();
}

/** The zod schema of a model in JSON; yields a `ScoringModel` (caps as bigints). */
export const modelSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and dashes, 1 to 63 characters"),
    version: z
      .number()
      .int()
      .min(1)
      .max(2 ** 32 - 1),
    weights: termsOf(weight),
    caps: termsOf(cap),
    thresholds: z.object({ LOW: threshold, MEDIUM: threshold, HIGH: threshold }).strict(),
  })
  .strict()
  .superRefine((model, ctx) => {
    for (const name of TERM_NAMES) {
      const w = model.weights[name];
      if (TERM_DIRECTIONS[name] === "up" ? w < 0 : w > 0) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["weights", name],
          message: `must be ${TERM_DIRECTIONS[name] === "up" ? ">= 0" : "<= 0"} (direction ${TERM_DIRECTIONS[name]})`,
        });
      }
    }
    const { LOW, MEDIUM, HIGH } = model.thresholds;
    if (!(LOW < MEDIUM && MEDIUM < HIGH)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["thresholds"],
        message: "must increase strictly: LOW < MEDIUM < HIGH",
      });
    }
    const maxScore = TERM_NAMES.reduce((sum, name) => sum + Math.max(0, model.weights[name]), 0);
    if (maxScore > SCORE_MAX) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["weights"], message: "positive weights sum above 2^32 - 1" });
    }
  });

/** A model that is not well formed; `details.field` names the first bad field. */
export class ModelInvalidError extends BankChainError {
  constructor(field: string, reason: string) {
    super("CERT_MODEL_INVALID", `scoring model: ${field} ${reason}`, { field, reason });
  }
}

/** Parses and checks a model from JSON. */
export function parseModel(json: unknown): ScoringModel {
  const result = modelSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ModelInvalidError(issue?.path.join(".") || "(root)", issue?.message ?? "is invalid");
  }
  return result.data;
}

/** A model as JSON (caps as decimal strings): the inverse of `parseModel`. */
export function modelToJson(model: ScoringModel): {
  id: string;
  version: number;
  weights: Record<TermName, number>;
  caps: Record<TermName, string>;
  thresholds: Record<Exclude<Level, "NONE">, number>;
} {
  return {
    id: model.id,
    version: model.version,
    weights: Object.fromEntries(TERM_NAMES.map((name) => [name, model.weights[name]])) as Record<TermName, number>,
    caps: Object.fromEntries(TERM_NAMES.map((name) => [name, model.caps[name].toString()])) as Record<TermName, string>,
    thresholds: { LOW: model.thresholds.LOW, MEDIUM: model.thresholds.MEDIUM, HIGH: model.thresholds.HIGH },
  };
}

/** JSON with object keys sorted (UTF-16 code-unit order) at every level and no whitespace (a model has no arrays). */
function canonicalJson(value: unknown): string {
  if (typeof value === "object" && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The canonical serialisation of a model: sorted keys, no whitespace, caps as decimal strings. */
export function canonicalModel(model: ScoringModel): string {
  return canonicalJson(modelToJson(model));
}

/** `keccak256(utf8(canonicalModel(model)))`: the registry's `contentHash`. */
export function modelContentHash(model: ScoringModel): string {
  return keccak256(toUtf8Bytes(canonicalModel(model)));
}

/**
 * The model's on-chain id, `keccak256(utf8("<id>/v<version>"))`: the registry
 * never reuses an id, so each version is registered under its own.
 */
export function modelIdOf(model: Pick<ScoringModel, "id" | "version">): string {
  return keccak256(toUtf8Bytes(`${model.id}/v${model.version}`));
}

/** The number of levels, as the registry's `levels` argument. */
export const LEVEL_COUNT = LEVELS.length;

/** Reads and checks a model file (JSON). */
export function loadModel(path: string | URL): ScoringModel {
  return parseModel(JSON.parse(readFileSync(path, "utf8")) as unknown);
}

/** The default model, `models/default-v1.json`. */
export function defaultModel(): ScoringModel {
  return loadModel(new URL("./models/default-v1.json", import.meta.url));
}
