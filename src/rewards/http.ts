/**
 * The rewards service's HTTP API on 127.0.0.1, on the service kit (`chain/http.ts`), documented at
 * `/openapi.json`:
 *
 *   POST /registrations              a venue, device or content, signed by an account holding REGISTRAR_ROLE
 *   POST /presence-queries           a venue's signed PresenceQuery       → 201 with the oracle's signed receipt
 *   POST /presence                   a device's signed PresenceResponse   → 201 with the receipt
 *   POST /playbacks                  a venue's signed Playback            → 201 with the receipt
 *   GET  /records/:hash              a receipted record and its receipt
 *   GET  /epochs/:n                  an epoch: its evidence, and per campaign the playbacks paid, users (null
 *                                    under k), producers' amounts, what was ignored and why, the roots over it
 *   GET  /epochs/:n/evidence         every record of the epoch with its receipt, paged; presence responses by hash
 *                                    only (k-anonymity), queries and playbacks in full
 *   GET  /producers/:id/rewards      per campaign: cumulative, claimed, claimable now, the Merkle proof, pending
 *   GET  /campaigns                  the campaigns followed, with their terms and roots
 *   GET  /campaigns/:id/roots/:epoch the roots of an epoch the oracles computed: evidence list, cumulatives
 *   PUT  /campaigns/:id/terms        the off-chain terms (accepted when they hash to the campaign's `terms`)
 *   GET  /registry                   the venues, devices and content the oracle counts with
 *
 * Errors are `{ "error": { "code", "message", "field"? } }`: 400 malformed, 403 forged or not the registrar,
 * 404 unknown, 409 closed epoch or reused nonce, 422 refused by a rule. A refusal stores nothing.
 */
import { getAddress, ZeroHash } from "ethers";
import { z } from "zod";

import { HttpError, JsonHttpServer, page, pageQuery, route, type HealthProbe } from "../chain/http.js";
import {
  addressSchema,
  bytes32Schema,
  epochEnd,
  epochStart,
  playbackSchema,
  presenceQuerySchema,
  presenceResponseSchema,
  signatureSchema,
  uint64Schema,
  type EvidenceKind,
  type SignedEvidence,
} from "./evidence.js";
import { IngestError, recordJson, type EvidenceIngest, type StoredRecord } from "./ingest.js";
import { termsSchema } from "./oracle.js";
import {
  REGISTRATION_KINDS,
  registrationSigner,
  RegistryError,
  type Registration,
  type RewardRegistry,
} from "./registry.js";
import { RewardOracleError, type RewardOracle, type StoredRoot } from "./runner.js";

export interface RewardsHttpOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly log: (line: string) => void;
  readonly health: HealthProbe;
  /** Whether `address` holds REGISTRAR_ROLE on the distributor now. */
  readonly isRegistrar: (address: string) => Promise<boolean>;
  /** Unix seconds now. */
  readonly now: () => bigint;
  readonly skewSeconds: bigint;
}

const receiptView = z
  .object({
    recordHash: z.string(),
    kind: z.enum(["PresenceQuery", "PresenceResponse", "Playback"]),
    epoch: z.string(),
    record: z.record(z.unknown()).nullable().openapi({
      description: "the signed record; null for a presence response (k-anonymity: only its device sees it)",
    }),
    signature: z.string().nullable(),
    receipt: z.object({ recordHash: z.string(), epoch: z.string(), time: z.string() }),
    receiptSignature: z.string().openapi({ description: "EIP-712 Receipt signed by `oracle`" }),
    oracle: z.string(),
    repeated: z.boolean().optional().openapi({ description: "true when this record had been receipted before" }),
  })
  .openapi("ReceiptedRecord");

/**
 * A receipted record as the API shows it. A presence response is shown in full only to whoever submitted it (the
 * answer to its POST): published, responses would give away each device's whereabouts and the size of every
 * audience under k. Everyone sees its hash, epoch and receipt.
 */
function recordView(stored: StoredRecord, repeated?: boolean, full = false): z.infer<typeof receiptView> {
  const shown = full || stored.kind !== "PresenceResponse";
  return {
    recordHash: stored.hash,
    kind: stored.kind,
    epoch: stored.epoch.toString(),
    record: shown ? (JSON.parse(recordJson(stored.record)) as Record<string, unknown>) : null,
    signature: shown ? stored.signature : null,
    receipt: {
      recordHash: stored.receipt.recordHash,
      epoch: stored.receipt.epoch.toString(),
      time: stored.receipt.time.toString(),
    },
    receiptSignature: stored.receiptSignature,
    oracle: stored.oracle,
    ...(repeated === undefined ? {} : { repeated }),
  };
}

function rootView(root: StoredRoot) {
  return {
    epoch: root.epoch.toString(),
    fromEpoch: root.fromEpoch.toString(),
    root: root.root,
    total: root.total.toString(),
    evidenceRoot: root.evidenceRoot,
    cutoff: root.cutoff.toString(),
    state: root.state,
    txHash: root.txHash,
    records: root.evidence.length,
  };
}

const rootSchema = z
  .object({
    epoch: z.string(),
    fromEpoch: z.string(),
    root: z.string(),
    total: z.string(),
    evidenceRoot: z.string(),
    cutoff: z.string(),
    state: z.enum(["signed", "proposed", "final", "voided"]),
    txHash: z.string().nullable(),
    records: z.number().int(),
  })
  .openapi("EpochRootView");

const registrationBody = z
  .object({
    registration: z
      .object({
        kind: z.enum(REGISTRATION_KINDS),
        id: bytes32Schema,
        key: addressSchema,
        owner: addressSchema,
        cell: uint64Schema,
        producerId: bytes32Schema,
        certificate: bytes32Schema,
        time: uint64Schema,
      })
      .strict(),
    signature: signatureSchema,
  })
  .strict()
  .openapi("SignedRegistration");

const errorStatus = (error: unknown): number | undefined => {
  if (error instanceof IngestError) return error.status;
  if (error instanceof RegistryError) return 422;
  if (error instanceof RewardOracleError) {
    return error.code === "REWARDS_UNKNOWN_CAMPAIGN" ? 404 : error.code === "REWARDS_TERMS_MISMATCH" ? 422 : 503;
  }
  return undefined;
};

export function rewardsHttpServer(
  ingest: EvidenceIngest,
  registry: RewardRegistry,
  oracle: RewardOracle,
  options: RewardsHttpOptions,
): JsonHttpServer {
  const evidenceRoute = <K extends EvidenceKind>(
    path: string,
    kind: K,
    schema: z.ZodTypeAny,
    who: string,
    summary: string,
  ) =>
    route({
      method: "POST",
      path,
      summary,
      body: z.object({ record: schema, signature: signatureSchema }).strict(),
      responses: {
        200: { description: "received before: the same receipt", schema: receiptView },
        201: { description: "receipted", schema: receiptView },
        403: { description: `the signature is malformed or not by ${who}` },
        404: { description: "unknown venue, device or content" },
        409: { description: "the epoch's cut-off has passed, or the venue used this nonce already" },
        422: { description: "refused by a rule: another epoch than its time, a time in the future, no such query" },
      },
      handle: async ({ body }) => {
        const result = await ingest.ingest({ kind, record: body.record, signature: body.signature } as SignedEvidence);
        return { status: result.repeated ? 200 : 201, body: recordView(result, result.repeated, true) };
      },
    });

  const epochNumber = z
    .string()
    .regex(/^(0|[1-9]\d{0,14})$/, "must be an epoch number")
    .openapi({ description: "an epoch number" });
  const epochParams = z.object({ n: epochNumber });

  return new JsonHttpServer({
    title: "bank-chain rewards service",
    version: "1",
    description:
      "Content rewards: presence and playback evidence from venues, receipted by the reward oracle, counted per " +
      "epoch into cumulative producer amounts whose Merkle root m of n oracles propose to the RewardDistributor.",
    host: options.host,
    port: options.port,
    log: options.log,
    health: options.health,
    errorStatus,
    routes: [
      route({
        method: "POST",
        path: "/registrations",
        summary: "register a venue (its player and cell), a device (its owner) or a content (its producer)",
        body: registrationBody,
        responses: {
          200: { description: "an equal or later registration of the entry is in place: nothing changed" },
          201: { description: "registered" },
          403: { description: "the signer does not hold REGISTRAR_ROLE on the RewardDistributor" },
          422: { description: "a field the kind does not allow (a zero key, a cell that is not an H3 index)" },
        },
        handle: async ({ body }) => {
          const registration: Registration = body.registration;
          let signer: string;
          try {
            signer = registrationSigner(ingest.domain, registration, body.signature);
          } catch {
            throw new HttpError(403, "REWARDS_FORGED", "the registration's signature does not recover", "signature");
          }
          if (!(await options.isRegistrar(signer))) {
            throw new HttpError(
              403,
              "REWARDS_NOT_REGISTRAR",
              `${signer} does not hold REGISTRAR_ROLE on the RewardDistributor`,
              "signature",
              { signer },
            );
          }
          if (registration.time > options.now() + options.skewSeconds) {
            throw new HttpError(422, "REWARDS_TIME_IN_FUTURE", "the registration's time is in the future", "time");
          }
          const applied = registry.apply(registration);
          return { status: applied ? 201 : 200, body: { applied, kind: registration.kind, signer } };
        },
      }),
      evidenceRoute(
        "/presence-queries",
        "PresenceQuery",
        presenceQuerySchema,
        "the venue's player",
        "a venue asks the devices around it to answer (PresenceQuery signed by its player)",
      ),
      evidenceRoute(
        "/presence",
        "PresenceResponse",
        presenceResponseSchema,
        "the device",
        "a device answers a venue's query (PresenceResponse signed by the device)",
      ),
      evidenceRoute(
        "/playbacks",
        "Playback",
        playbackSchema,
        "the venue's player",
        "a venue reports a playback (Playback signed by its player)",
      ),
      route({
        method: "GET",
        path: "/records/:hash",
        summary: "a receipted record, its signature and its receipt",
        params: z.object({ hash: bytes32Schema }),
        responses: { 200: { description: "the record", schema: receiptView }, 404: { description: "not receipted" } },
        handle: ({ params }) => {
          const stored = ingest.byHash(params.hash);
          if (stored === undefined) {
            throw new HttpError(404, "REWARDS_UNKNOWN_RECORD", `no record ${params.hash} was receipted`, "hash");
          }
          return { status: 200, body: recordView(stored) };
        },
      }),
      route({
        method: "GET",
        path: "/epochs/:n",
        summary: "an epoch: its evidence and, per campaign, what it pays and why",
        params: epochParams,
        responses: { 200: { description: "the epoch" } },
        handle: async ({ params }) => {
          const epoch = BigInt(params.n);
          const { genesis, epochLength } = ingest.clock;
          const now = options.now();
          const cutoff = ingest.cutoffOf(epoch);
          const campaigns = [];
          for (const campaign of oracle.campaigns()) {
            const onChain = await oracle.distributor.campaignOf(campaign.campaignId);
            const roots = oracle
              .roots(campaign.campaignId)
              .filter((root) => root.fromEpoch <= epoch && epoch <= root.epoch)
              .map(rootView);
            if (campaign.terms === undefined || epoch < onChain.firstEpoch || epoch > onChain.lastEpoch) {
              campaigns.push({ campaignId: campaign.campaignId, terms: campaign.terms !== undefined, roots });
              continue;
            }
            const result = await oracle.compute(campaign.terms, onChain.budgetPerEpoch, epoch, epoch, new Map());
            campaigns.push({
              campaignId: campaign.campaignId,
              terms: true,
              paid: result.paid.toString(),
              budget: onChain.budgetPerEpoch.toString(),
              playbacks: result.playbacks.map((p) => ({
                recordHash: p.recordHash,
                venueId: p.venueId,
                contentId: p.contentId,
                producerId: p.producerId,
                users: p.users,
                reward: p.reward.toString(),
              })),
              producers: result.producers.map((p) => ({ producerId: p.producerId, amount: p.amount.toString() })),
              ignored: result.ignored.map((i) => ({ recordHash: i.recordHash, kind: i.kind, reason: i.reason })),
              roots,
            });
          }
          return {
            status: 200,
            body: {
              epoch: epoch.toString(),
              start: epochStart(epoch, genesis, epochLength).toString(),
              end: epochEnd(epoch, genesis, epochLength).toString(),
              cutoff: cutoff.toString(),
              closed: now > cutoff,
              records: ingest.countOf(epoch),
              campaigns,
            },
          };
        },
      }),
      route({
        method: "GET",
        path: "/epochs/:n/evidence",
        summary:
          "every record receipted for the epoch with its receipt, in receipt order (presence responses by hash only)",
        params: epochParams,
        query: z.object(pageQuery),
        responses: { 200: { description: "a page of records" } },
        handle: ({ params, query }) => {
          const epoch = BigInt(params.n);
          const { items, nextCursor } = page(ingest.records(epoch, epoch), (r) => r.hash, query);
          return { status: 200, body: { items: items.map((r) => recordView(r)), nextCursor } };
        },
      }),
      route({
        method: "GET",
        path: "/producers/:id/rewards",
        summary: "a producer's rewards per campaign: cumulative, claimed, claimable now with its proof, pending",
        params: z.object({ id: bytes32Schema }),
        responses: { 200: { description: "the producer's rewards" } },
        handle: async ({ params }) => {
          const producerId = params.id;
          const account = await oracle.distributor.producerAccountOf(producerId);
          const campaigns = [];
          for (const campaign of oracle.campaigns()) {
            const [final, pending, claimed] = await Promise.all([
              oracle.distributor.finalizedRootOf(campaign.campaignId),
              oracle.distributor.pendingRootOf(campaign.campaignId),
              oracle.distributor.claimedOf(campaign.campaignId, producerId),
            ]);
            const finalRoot = final.exists ? oracle.rootOf(campaign.campaignId, final.root) : undefined;
            const claim = finalRoot === undefined ? undefined : oracle.claimOf(finalRoot, producerId);
            const pendingRoot =
              pending.proposedAt === 0n
                ? undefined
                : oracle.rootOf(campaign.campaignId, pending.root, pending.evidenceRoot.toLowerCase());
            const cumulative = claim?.cumulative ?? 0n;
            campaigns.push({
              campaignId: campaign.campaignId,
              finalEpoch: final.exists ? final.epoch.toString() : null,
              cumulative: cumulative.toString(),
              claimed: claimed.toString(),
              claimable: (cumulative > claimed ? cumulative - claimed : 0n).toString(),
              proof: claim?.proof ?? [],
              pending:
                pendingRoot === undefined
                  ? null
                  : {
                      epoch: pendingRoot.epoch.toString(),
                      cumulative: (pendingRoot.cumulatives.get(producerId) ?? 0n).toString(),
                      finalizesAt: (pending.proposedAt + (await oracle.distributor.challengeWindow())).toString(),
                    },
            });
          }
          return {
            status: 200,
            body: {
              producerId,
              account: BigInt(account) === 0n ? null : getAddress(account),
              escrowed: BigInt(account) === 0n,
              campaigns,
            },
          };
        },
      }),
      route({
        method: "GET",
        path: "/campaigns",
        summary: "the campaigns the oracles follow, with their terms (when given) and roots",
        responses: { 200: { description: "the campaigns" } },
        handle: () => ({
          status: 200,
          body: {
            campaigns: oracle.campaigns().map((campaign) => ({
              campaignId: campaign.campaignId,
              sponsor: campaign.sponsor,
              termsHash: campaign.termsHash,
              terms: campaign.terms === undefined ? null : JSON.parse(recordJson(campaign.terms)),
              roots: oracle.roots(campaign.campaignId).map(rootView),
            })),
          },
        }),
      }),
      route({
        method: "GET",
        path: "/campaigns/:id/roots/:epoch",
        summary: "a root the oracles computed: its evidence (sorted record hashes) and each producer's cumulative",
        params: z.object({ id: bytes32Schema, epoch: epochNumber }),
        responses: { 200: { description: "the root" }, 404: { description: "no root of that epoch" } },
        handle: ({ params }) => {
          const roots = oracle.roots(params.id).filter((root) => root.epoch === BigInt(params.epoch));
          if (roots.length === 0) {
            throw new HttpError(404, "REWARDS_UNKNOWN_ROOT", `no root of epoch ${params.epoch} for ${params.id}`);
          }
          return {
            status: 200,
            body: {
              roots: roots.map((root) => ({
                ...rootView(root),
                evidence: root.evidence,
                cumulatives: Object.fromEntries([...root.cumulatives].map(([id, value]) => [id, value.toString()])),
              })),
            },
          };
        },
      }),
      route({
        method: "PUT",
        path: "/campaigns/:id/terms",
        summary: "give a campaign's off-chain terms; they must hash to the `terms` it was created with",
        params: z.object({ id: bytes32Schema }),
        body: termsSchema,
        responses: {
          200: { description: "the terms are the campaign's" },
          404: { description: "no such campaign (yet: the oracle finds campaigns on its next round)" },
          422: { description: "the terms do not hash to the campaign's" },
        },
        handle: ({ params, body }) => {
          oracle.setTerms(params.id, body);
          return { status: 200, body: { campaignId: params.id, accepted: true } };
        },
      }),
      route({
        method: "GET",
        path: "/registry",
        summary: "the venues, devices and content the oracle counts with (to recompute an epoch)",
        responses: { 200: { description: "the registry" } },
        handle: () => ({
          status: 200,
          body: {
            venues: registry
              .venues()
              .map((v) => ({ ...v, cell: v.cell.toString(), registeredAt: v.registeredAt.toString() })),
            devices: registry.devices().map((d) => ({
              ...d,
              active: BigInt(d.owner) !== 0n,
              certificate: d.certificate === ZeroHash ? null : d.certificate,
              registeredAt: d.registeredAt.toString(),
            })),
            contents: registry.contents().map((c) => ({ ...c, registeredAt: c.registeredAt.toString() })),
          },
        }),
      }),
    ],
  });
}
