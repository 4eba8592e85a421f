/**
 * The rewards oracle's count: a pure function from an epoch's receipted
 * records, the registries and a campaign's terms to the producers' amounts,
 * the producer tree and the evidence tree. Every oracle of the set runs it on
 * the same evidence and must reach the same roots, so nothing here depends on
 * the order of its inputs, on the clock or on floating point: all arithmetic
 * is `bigint`.
 *
 * The rules (issue 18 spec, "Counting rules and curve"), per epoch `e` of the
 * range `[fromEpoch, epoch]` (one epoch unless a root catches up on epochs
 * that had none):
 *
 * 1. A presence query counts if signed by its venue's player, its cell is the
 *    venue's, its `epoch` is `e` and its `time` lies in `e`. Of queries with the
 *    same venue, epoch and nonce, only the earliest counts (the others:
 *    `replayed`).
 * 2. A presence response counts if signed by its device, the device is
 *    registered, active and was registered at or before the response's time,
 *    (with `minCertificateLevel`) its owner holds a certificate of that level,
 *    it answers a counted query (venue, epoch, nonce) no earlier than the query
 *    and at most `RESPONSE_WINDOW` (120 s) after it, and its `time` lies in its
 *    epoch. A device counts once per venue and epoch (its earliest response;
 *    a later one to the same query is `replayed`, to another query
 *    `duplicate`), and in at most `maxVenuesPerDevice` venues per epoch (its
 *    first by earliest response, ties by venue id; the rest `over-cap`).
 * 3. A playback counts if signed by its venue's player, it starts in `e`, it
 *    ends by the end of `e`, its duration is positive, its content is in the
 *    terms (and, with a content → producer registry, its producer is the
 *    registered one), and it does not overlap an earlier playback of the same
 *    venue, of any content (`overlapping`: a screen shows one thing at a time,
 *    so a player cannot multiply an audience by signing stacked playbacks, not
 *    even of contents that different campaigns pay for).
 * 4. `users` = the devices whose counted response at that venue (same epoch)
 *    has `start <= time <= start + duration`.
 * 5. A playback with `users < k` earns nothing and its count is published as
 *    `null` (k-anonymity).
 * 6. `weight = isqrt(users) * min(duration, maxSeconds)`, `raw = ratePerUnit *
 *    weight`; when the epoch's raws sum to more than `budgetPerEpoch` each is
 *    paid `floor(raw * budget / sum)`. A producer's amount is the sum over its
 *    playbacks; its cumulative is its previous cumulative plus the amount.
 *    With `available` (what the campaign holds beyond its last final total),
 *    each epoch's budget is also capped by what is left of it, so a campaign
 *    funded below its count pays out what it holds instead of getting a root
 *    the chain refuses (`RewardOverFunded`) on every round.
 *
 * Identical records (one hash) count once whatever their number; of copies
 * with different signatures, a valid one is taken, so a forged copy sent first
 * cannot void the genuine record. The evidence is every record receipted by
 * the cutoff, each hash once (a hash listed twice would void the root).
 *
 * The terms a campaign commits to on chain are `termsHash(terms)`: keccak256
 * of the canonical JSON (keys sorted, no whitespace, content ids lower case
 * and sorted, `uint` fields as decimal strings).
 */
import { getAddress, keccak256, toUtf8Bytes, type TypedDataDomain } from "ethers";
import { z } from "zod";

import { BankChainError } from "../errors.js";
import {
  bytes32Schema,
  epochEnd,
  epochStart,
  recordHash,
  RESPONSE_WINDOW,
  tryRecoverRecordSigner,
  uint256Schema,
  uint32Schema,
  type EvidenceKind,
  type Playback,
  type PresenceQuery,
  type PresenceResponse,
  type SignedEvidence,
} from "./evidence.js";
import { evidenceTree, producerRoot, producerTree, type EvidenceTree, type ProducerTree } from "./trees.js";

/** The oracle's input is inconsistent (a registry entry twice, terms out of range...). */
export class RewardInputError extends BankChainError {}

/** A campaign's off-chain terms. */
export interface RewardTerms {
  /** The contents paid for (bytes32 ids); empty = every content. */
  readonly contentIds: readonly string[];
  /** The fewest users a playback must have to be paid (and its count published). */
  readonly k: number;
  /** The most venues a device counts in per epoch. */
  readonly maxVenuesPerDevice: number;
  /** The most seconds of a playback that count. */
  readonly maxSeconds: bigint;
  /** Token base units per unit of weight. */
  readonly ratePerUnit: bigint;
  /** With it, a response counts only if its device's owner holds a certificate of at least this level index. */
  readonly minCertificateLevel?: number;
}

/** The terms as a campaign's JSON file states them (`uint` fields as decimal strings). */
export const termsSchema = z
  .object({
    contentIds: z
      .array(bytes32Schema)
      .refine((ids) => new Set(ids).size === ids.length, "must not list a content id twice"),
    k: z.number().int().min(1).max(1_000_000),
    maxVenuesPerDevice: z.number().int().min(1).max(1_000_000),
    maxSeconds: uint32Schema.refine((value) => value > 0n, "must be at least 1"),
    ratePerUnit: uint256Schema,
    minCertificateLevel: z.number().int().min(0).max(255).optional(),
  })
  .strict()
  .transform((terms): RewardTerms => {
    const { minCertificateLevel, ...rest } = terms;
    return minCertificateLevel === undefined ? rest : { ...rest, minCertificateLevel };
  })
  .openapi("RewardTerms");

/** A value as canonical JSON: object keys sorted, no whitespace, bigints as decimal strings. */
function canonicalJson(value: unknown): string {
  if (typeof value === "bigint") return JSON.stringify(value.toString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The canonical JSON of the terms: keys sorted, content ids lower case and sorted, bigints as decimal strings. */
export function canonicalTerms(terms: RewardTerms): string {
  return canonicalJson({ ...terms, contentIds: terms.contentIds.map((id) => id.toLowerCase()).sort() });
}

/** `keccak256(utf8(canonicalTerms(terms)))`: the campaign's `terms` on chain. */
export function termsHash(terms: RewardTerms): string {
  return keccak256(toUtf8Bytes(canonicalTerms(terms)));
}

/** A venue of the registry. */
export interface Venue {
  readonly venueId: string;
  /** Its H3 cell as a uint64. */
  readonly cell: bigint;
  /** The key that signs its queries and playbacks. */
  readonly player: string;
}

/** A device of the registry. */
export interface Device {
  readonly address: string;
  readonly owner: string;
  /** Unix seconds. */
  readonly registeredAt: bigint;
  readonly active: boolean;
}

/** A record as an oracle receipted it. */
export type ReceiptedRecord = SignedEvidence & {
  /** Unix seconds: the receipt's `time`. */
  readonly receivedAt: bigint;
};

export interface EpochInput {
  /** The epoch the root is for. */
  readonly epoch: bigint;
  /** The first epoch the root covers (the epoch after the last finalized root's); default `epoch`. */
  readonly fromEpoch?: bigint;
  readonly genesis: bigint;
  readonly epochLength: bigint;
  /** The RewardDistributor's domain (`rewardsDomain`). */
  readonly domain: TypedDataDomain;
  /** Receipts after it are left out (not evidence, not counted). */
  readonly cutoff: bigint;
  readonly records: readonly ReceiptedRecord[];
  readonly venues: readonly Venue[];
  readonly devices: readonly Device[];
  /** The producer registered for each content; without it, a playback's signed `producerId` is taken. */
  readonly producerOf?: ReadonlyMap<string, string>;
  readonly terms: RewardTerms;
  readonly budgetPerEpoch: bigint;
  /**
   * The most this root may add to the previous cumulatives: the campaign's funds on chain less its last final
   * total. Each epoch's budget is capped by what remains of it. Default: no cap.
   */
  readonly available?: bigint;
  /** Each producer's cumulative amount in the campaign before this root. */
  readonly previous: ReadonlyMap<string, bigint>;
  /** Certificate level index of device owners (by address), for `terms.minCertificateLevel`. */
  readonly certificateLevels?: ReadonlyMap<string, number>;
}

/** Why a record does not count. */
export const IGNORE_REASONS = [
  "after-cutoff",
  "duplicate",
  "forged",
  "out-of-epoch",
  "unknown-venue",
  "wrong-cell",
  "replayed",
  "unknown-device",
  "no-certificate",
  "unknown-query",
  "early",
  "late",
  "over-cap",
  "zero-duration",
  "overruns-epoch",
  "not-in-terms",
  "wrong-producer",
  "overlapping",
] as const;
export type IgnoreReason = (typeof IGNORE_REASONS)[number];

export interface IgnoredRecord {
  readonly recordHash: string;
  readonly kind: EvidenceKind;
  readonly reason: IgnoreReason;
}

export interface PlaybackReward {
  readonly recordHash: string;
  readonly epoch: bigint;
  readonly venueId: string;
  readonly contentId: string;
  readonly producerId: string;
  /** The counted devices present; `null` below `k`. */
  readonly users: number | null;
  readonly reward: bigint;
}

export interface ProducerAmount {
  readonly producerId: string;
  /** Earned in this root's epochs. */
  readonly amount: bigint;
  /** Previous cumulative + amount: the producer tree's leaf. */
  readonly cumulative: bigint;
}

export interface EpochResult {
  readonly epoch: bigint;
  readonly fromEpoch: bigint;
  /** Counted playbacks, by record hash. */
  readonly playbacks: readonly PlaybackReward[];
  /** Every producer with a positive cumulative, by id. */
  readonly producers: readonly ProducerAmount[];
  /** Records that do not count, by record hash. */
  readonly ignored: readonly IgnoredRecord[];
  /** The record hashes receipted by the cutoff, sorted, each once. */
  readonly evidence: readonly string[];
  readonly evidenceTree: EvidenceTree;
  readonly evidenceRoot: string;
  readonly producerTree: ProducerTree | null;
  /** `bytes32(0)` when no producer has anything. */
  readonly root: string;
  /** The sum of the cumulatives (`EpochRoot.total`). */
  readonly total: bigint;
  /** Paid in this root's epochs (the sum of the amounts). */
  readonly paid: bigint;
}

function inputError(code: string, message: string, details: Record<string, unknown>): RewardInputError {
  return new RewardInputError(code, message, details);
}

interface Registries {
  readonly venues: Map<string, Venue>;
  readonly devices: Map<string, Device>;
  /** Lower-case content id → lower-case producer id; undefined when the input has no such registry. */
  readonly producerOf: Map<string, string> | undefined;
  /** Checksummed owner → certificate level index. */
  readonly levels: Map<string, number>;
  /** The terms' content ids in lower case; undefined when the terms cover every content. */
  readonly contents: Set<string> | undefined;
}

/** Registries keyed by normalized id (bytes32 lower case, addresses checksummed), refusing an id twice. */
function registries(input: EpochInput): Registries {
  const venues = new Map<string, Venue>();
  for (const venue of input.venues) {
    const id = venue.venueId.toLowerCase();
    if (venues.has(id)) throw inputError("REWARD_VENUE_TWICE", `venue ${id} is registered twice`, { venueId: id });
    venues.set(id, { ...venue, venueId: id, player: getAddress(venue.player) });
  }
  const devices = new Map<string, Device>();
  for (const device of input.devices) {
    const address = getAddress(device.address);
    if (devices.has(address)) {
      throw inputError("REWARD_DEVICE_TWICE", `device ${address} is registered twice`, { device: address });
    }
    devices.set(address, { ...device, address, owner: getAddress(device.owner) });
  }
  const producerOf =
    input.producerOf &&
    new Map([...input.producerOf].map(([content, producer]) => [content.toLowerCase(), producer.toLowerCase()]));
  const levels = new Map([...(input.certificateLevels ?? [])].map(([owner, level]) => [getAddress(owner), level]));
  const ids = input.terms.contentIds.map((id) => id.toLowerCase());
  const contents = ids.length === 0 ? undefined : new Set(ids);
  return { venues, devices, producerOf, levels, contents };
}

function checkInput(input: EpochInput, fromEpoch: bigint): Map<string, bigint> {
  if (fromEpoch > input.epoch) {
    throw inputError("REWARD_BAD_EPOCH_RANGE", `fromEpoch ${fromEpoch} is after epoch ${input.epoch}`, {
      fromEpoch: fromEpoch.toString(),
      epoch: input.epoch.toString(),
    });
  }
  if (input.budgetPerEpoch < 0n) {
    throw inputError("REWARD_BAD_BUDGET", `budgetPerEpoch ${input.budgetPerEpoch} is negative`, {
      budgetPerEpoch: input.budgetPerEpoch.toString(),
    });
  }
  if (input.available !== undefined && input.available < 0n) {
    throw inputError("REWARD_BAD_AVAILABLE", `available ${input.available} is negative`, {
      available: input.available.toString(),
    });
  }
  const terms = termsSchema.safeParse(JSON.parse(canonicalTerms(input.terms)));
  if (!terms.success) {
    const issue = terms.error.issues[0];
    const field = `terms.${issue?.path.join(".") ?? ""}`;
    throw inputError("REWARD_BAD_TERMS", `${field} ${issue?.message ?? "is invalid"}`, { field });
  }
  const previous = new Map<string, bigint>();
  for (const [producerId, amount] of input.previous) {
    const id = producerId.toLowerCase();
    if (amount < 0n || previous.has(id)) {
      throw inputError("REWARD_BAD_PREVIOUS", `producer ${id}'s previous cumulative is negative or given twice`, {
        producerId: id,
        amount: amount.toString(),
      });
    }
    previous.set(id, amount);
  }
  return previous;
}

/** A record with its bytes32 fields in lower case and its address checksummed (its hash is unchanged). */
function normalized<R extends object>(record: R): R {
  const fields = Object.entries(record).map(([name, value]) => [
    name,
    typeof value !== "string" ? value : value.length === 42 ? getAddress(value) : value.toLowerCase(),
  ]);
  return Object.fromEntries(fields) as R;
}

// ─── counting and curve ────────────────────────────────────────────────────────

/** The integer square root: the largest `r` with `r * r <= n`. */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw inputError("REWARD_NEGATIVE_SQRT", `isqrt of negative ${n}`, { n: n.toString() });
  let x = n;
  let y = (x + 1n) >> 1n;
  while (y < x) {
    x = y;
    y = (x + n / x) >> 1n;
  }
  return x;
}

/** A playback's weight: `isqrt(users) * min(duration, maxSeconds)`. */
export function playbackWeight(users: number, duration: bigint, maxSeconds: bigint): bigint {
  return isqrt(BigInt(users)) * (duration < maxSeconds ? duration : maxSeconds);
}

/** Each raw amount, or `floor(raw * budget / sum)` of each when they sum to more than `budget`. */
export function scaleToBudget(raws: readonly bigint[], budget: bigint): bigint[] {
  const sum = raws.reduce((a, b) => a + b, 0n);
  if (sum <= budget) return [...raws];
  return raws.map((raw) => (raw * budget) / sum);
}

type Hashed<R> = { readonly hash: string; readonly record: R };

/** The items in the order of their keys (unique strings, compared by UTF-16 code unit: no locale, no comparator). */
function sortedBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const byKey = new Map(items.map((item) => [key(item), item]));
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}

/** A uint64 as 16 hex digits, so that keys sort as the numbers do. */
function u64(value: bigint): string {
  return value.toString(16).padStart(16, "0");
}

interface Context extends Registries {
  readonly input: EpochInput;
  readonly fromEpoch: bigint;
  readonly ignore: (hash: string, kind: EvidenceKind, reason: IgnoreReason) => void;
}

function inRange(ctx: Context, epoch: bigint): boolean {
  return ctx.fromEpoch <= epoch && epoch <= ctx.input.epoch;
}

function inEpoch(ctx: Context, time: bigint, epoch: bigint): boolean {
  const { genesis, epochLength } = ctx.input;
  return epochStart(epoch, genesis, epochLength) <= time && time < epochEnd(epoch, genesis, epochLength);
}

/** Who must have signed a record: its venue's player (undefined for an unknown venue), or for a response its device. */
function expectedSigner(ctx: Context, item: ReceiptedRecord): string | undefined {
  return item.kind === "PresenceResponse" ? item.record.device : ctx.venues.get(item.record.venueId)?.player;
}

/** The counted queries (signed by their players), by `venue|epoch|nonce`; the earliest of a nonce counts. */
function countQueries(ctx: Context, queries: readonly Hashed<PresenceQuery>[]): Map<string, PresenceQuery> {
  const counted = new Map<string, PresenceQuery>();
  for (const { hash, record: q } of sortedBy(queries, (x) => u64(x.record.time) + x.hash)) {
    const key = `${q.venueId}|${q.epoch}|${q.nonce}`;
    let reason: IgnoreReason | undefined;
    if (!inRange(ctx, q.epoch) || !inEpoch(ctx, q.time, q.epoch)) reason = "out-of-epoch";
    else if (q.cell !== ctx.venues.get(q.venueId)!.cell) reason = "wrong-cell";
    else if (counted.has(key)) reason = "replayed";
    if (reason === undefined) counted.set(key, q);
    else ctx.ignore(hash, "PresenceQuery", reason);
  }
  return counted;
}

/** Why a response (signed by its device) does not count on its own, if it does not. */
function responseReason(
  ctx: Context,
  r: PresenceResponse,
  queries: Map<string, PresenceQuery>,
): IgnoreReason | undefined {
  if (!inRange(ctx, r.epoch) || !inEpoch(ctx, r.time, r.epoch)) return "out-of-epoch";
  const device = ctx.devices.get(r.device);
  if (device === undefined || !device.active || device.registeredAt > r.time) return "unknown-device";
  const min = ctx.input.terms.minCertificateLevel;
  if (min !== undefined && (ctx.levels.get(device.owner) ?? -1) < min) return "no-certificate";
  const query = queries.get(`${r.venueId}|${r.epoch}|${r.nonce}`);
  if (query === undefined) return "unknown-query";
  if (r.time < query.time) return "early";
  if (r.time > query.time + RESPONSE_WINDOW) return "late";
  return undefined;
}

/**
 * The counted presences: the times, by `venue|epoch`, of each device's earliest valid response there, in at most
 * `maxVenuesPerDevice` venues per device and epoch (the earliest first, ties by venue id).
 */
function countResponses(
  ctx: Context,
  responses: readonly Hashed<PresenceResponse>[],
  queries: Map<string, PresenceQuery>,
): Map<string, bigint[]> {
  const first = new Map<string, string>();
  const venuesOf = new Map<string, number>();
  const presences = new Map<string, bigint[]>();
  for (const { hash, record: r } of sortedBy(responses, (x) => u64(x.record.time) + x.record.venueId + x.hash)) {
    const reason = responseReason(ctx, r, queries);
    if (reason !== undefined) {
      ctx.ignore(hash, "PresenceResponse", reason);
      continue;
    }
    const at = `${r.device}|${r.venueId}|${r.epoch}`;
    const earlier = first.get(at);
    if (earlier !== undefined) {
      ctx.ignore(hash, "PresenceResponse", earlier === r.nonce ? "replayed" : "duplicate");
      continue;
    }
    first.set(at, r.nonce);
    const venues = venuesOf.get(`${r.device}|${r.epoch}`) ?? 0;
    if (venues >= ctx.input.terms.maxVenuesPerDevice) {
      ctx.ignore(hash, "PresenceResponse", "over-cap");
      continue;
    }
    venuesOf.set(`${r.device}|${r.epoch}`, venues + 1);
    const times = presences.get(`${r.venueId}|${r.epoch}`);
    if (times === undefined) presences.set(`${r.venueId}|${r.epoch}`, [r.time]);
    else times.push(r.time);
  }
  return presences;
}

/** The epoch a playback starts in; -1 before genesis (in no range). */
function startEpoch(ctx: Context, start: bigint): bigint {
  const { genesis, epochLength } = ctx.input;
  return start < genesis ? -1n : (start - genesis) / epochLength;
}

/** Why a playback (signed by its player) is not a playback of its epoch at all, if it is not. */
function playbackShapeReason(ctx: Context, p: Playback, epoch: bigint): IgnoreReason | undefined {
  if (!inRange(ctx, epoch)) return "out-of-epoch";
  if (p.duration <= 0n) return "zero-duration";
  if (p.start + p.duration > epochEnd(epoch, ctx.input.genesis, ctx.input.epochLength)) return "overruns-epoch";
  return undefined;
}

/** Why a playback this campaign does not pay for (its content, its producer), if it does not. */
function playbackTermsReason(ctx: Context, p: Playback): IgnoreReason | undefined {
  if (ctx.contents !== undefined && !ctx.contents.has(p.contentId)) return "not-in-terms";
  if (ctx.producerOf !== undefined && ctx.producerOf.get(p.contentId) !== p.producerId) return "wrong-producer";
  return undefined;
}

/**
 * The counted playbacks by epoch: each valid one that does not overlap an earlier playback of its venue. The
 * screen is busy with every playback its player signed, whatever campaign pays for it: a playback of a content
 * outside these terms still occupies its seconds, so stacked playbacks of contents of different campaigns cannot
 * each be paid for one audience (evidence is shared by every campaign).
 */
function countPlaybacks(ctx: Context, playbacks: readonly Hashed<Playback>[]): Map<bigint, Hashed<Playback>[]> {
  const busyUntil = new Map<string, bigint>();
  const byEpoch = new Map<bigint, Hashed<Playback>[]>();
  for (const item of sortedBy(playbacks, (x) => u64(x.record.start) + x.hash)) {
    const p = item.record;
    const epoch = startEpoch(ctx, p.start);
    const overlapping = p.start < (busyUntil.get(p.venueId) ?? 0n);
    const shape = playbackShapeReason(ctx, p, epoch) ?? (overlapping ? "overlapping" : undefined);
    if (shape !== undefined) {
      ctx.ignore(item.hash, "Playback", shape);
      continue;
    }
    busyUntil.set(p.venueId, p.start + p.duration);
    const reason = playbackTermsReason(ctx, p);
    if (reason !== undefined) {
      ctx.ignore(item.hash, "Playback", reason);
      continue;
    }
    byEpoch.set(epoch, [...(byEpoch.get(epoch) ?? []), item]);
  }
  return byEpoch;
}

/**
 * Counts a root's epochs and builds its trees.
 * @throws RewardInputError when the input contradicts itself (a registry entry twice, bad terms, a negative budget).
 */
export function computeEpoch(input: EpochInput): EpochResult {
  const fromEpoch = input.fromEpoch ?? input.epoch;
  const previous = checkInput(input, fromEpoch);
  const ignored: IgnoredRecord[] = [];
  const ctx: Context = {
    input,
    fromEpoch,
    ...registries(input),
    ignore: (recordHash, kind, reason) => void ignored.push({ recordHash, kind, reason }),
  };

  // The evidence: every record receipted by the cutoff, once. Of copies of one record, a validly signed one counts.
  const copies = new Map<string, ReceiptedRecord[]>();
  for (const item of input.records) {
    const record = { ...item, record: normalized(item.record) } as ReceiptedRecord;
    const hash = recordHash(input.domain, item.kind, record.record as never);
    if (item.receivedAt > input.cutoff) ctx.ignore(hash, item.kind, "after-cutoff");
    else copies.set(hash, [...(copies.get(hash) ?? []), record]);
  }
  const queries: Hashed<PresenceQuery>[] = [];
  const responses: Hashed<PresenceResponse>[] = [];
  const playbacks: Hashed<Playback>[] = [];
  for (const [hash, items] of copies) {
    const [first, ...more] = items as [ReceiptedRecord, ...ReceiptedRecord[]];
    for (const _ of more) ctx.ignore(hash, first.kind, "duplicate");
    const expected = expectedSigner(ctx, first);
    const genuine = items.find(
      (item) => tryRecoverRecordSigner(input.domain, item.kind, item.record as never, item.signature) === expected,
    );
    if (expected === undefined) ctx.ignore(hash, first.kind, "unknown-venue");
    else if (genuine === undefined) ctx.ignore(hash, first.kind, "forged");
    else if (genuine.kind === "PresenceQuery") queries.push({ hash, record: genuine.record });
    else if (genuine.kind === "PresenceResponse") responses.push({ hash, record: genuine.record });
    else playbacks.push({ hash, record: genuine.record });
  }

  const presences = countResponses(ctx, responses, countQueries(ctx, queries));
  const byEpoch = countPlaybacks(ctx, playbacks);

  const { k, maxSeconds, ratePerUnit } = input.terms;
  const rewards: PlaybackReward[] = [];
  let remaining = input.available;
  for (let epoch = fromEpoch; epoch <= input.epoch; epoch++) {
    const ofEpoch = byEpoch.get(epoch) ?? [];
    const users = ofEpoch.map(({ record: p }) => {
      const times = presences.get(`${p.venueId}|${epoch}`);
      return times?.filter((t) => p.start <= t && t <= p.start + p.duration).length ?? 0;
    });
    const raws = ofEpoch.map((item, i) =>
      users[i]! < k ? 0n : ratePerUnit * playbackWeight(users[i]!, item.record.duration, maxSeconds),
    );
    const budget = remaining !== undefined && remaining < input.budgetPerEpoch ? remaining : input.budgetPerEpoch;
    const paid = scaleToBudget(raws, budget);
    if (remaining !== undefined) remaining -= paid.reduce((a, b) => a + b, 0n);
    ofEpoch.forEach(({ hash, record: p }, i) =>
      rewards.push({
        recordHash: hash,
        epoch,
        venueId: p.venueId,
        contentId: p.contentId,
        producerId: p.producerId,
        users: users[i]! < k ? null : users[i]!,
        reward: paid[i]!,
      }),
    );
  }

  const amounts = new Map<string, bigint>([...previous.keys()].map((id) => [id, 0n]));
  for (const r of rewards) amounts.set(r.producerId, (amounts.get(r.producerId) ?? 0n) + r.reward);
  const producers = [...amounts.keys()]
    .sort()
    .map((producerId) => {
      const amount = amounts.get(producerId)!;
      return { producerId, amount, cumulative: (previous.get(producerId) ?? 0n) + amount };
    })
    .filter((p) => p.cumulative > 0n);
  const tree = producerTree(new Map(producers.map((p) => [p.producerId, p.cumulative])));
  const evidence = [...copies.keys()].sort();
  const evTree = evidenceTree(evidence);
  return {
    epoch: input.epoch,
    fromEpoch,
    playbacks: sortedBy(rewards, (r) => r.recordHash),
    producers,
    ignored: sortedBy(
      ignored.map((x, i) => ({ x, key: `${x.recordHash}|${x.reason}|${String(i).padStart(12, "0")}` })),
      (e) => e.key,
    ).map((e) => e.x),
    evidence,
    evidenceTree: evTree,
    evidenceRoot: evTree.root,
    producerTree: tree,
    root: producerRoot(tree),
    total: producers.reduce((sum, p) => sum + p.cumulative, 0n),
    paid: rewards.reduce((sum, r) => sum + r.reward, 0n),
  };
}
