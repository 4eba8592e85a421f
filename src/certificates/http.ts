/**
 * The certificate service's HTTP API on 127.0.0.1, on the service kit (`chain/http.ts`):
 *
 *   GET  /challenge                 a single-use nonce, its expiry, and the EIP-712 domain and types to sign
 *   POST /certificates              { publicKey, subject?, nonce, signature } → 201 with the certificate
 *   GET  /certificates              those issued, newest first, with their status on chain (`?status=`), paged
 *   GET  /certificates/:uid         the attestation, its status on chain, and the inputs to recompute it
 *   POST /certificates/:uid/revoke  { nonce, signature } signed by the certificate's key → the revocation
 *   GET  /requests/:id              a request's state (when POST answered 503 CERT_REQUEST_PENDING)
 *   GET  /openapi.json, GET /health
 *
 * Errors are `{ "error": { "code", "message", "field"? } }`: 400 malformed, 403 the
 * signature is not by the key, 404 unknown, 409 used challenge or already revoked,
 * 410 expired challenge, 422 refused (subject not of the key, refused on chain),
 * 429 too many open challenges or the hourly budget of certificates spent, 503
 * cannot issue now. A refusal changes nothing:
 * the nonce stays unused and nothing is sent.
 */
import { z } from "zod";

import { HttpError, JsonHttpServer, pageQuery, route, type HealthProbe } from "../chain/http.js";
import { keysetCursor, parseKeysetCursor } from "../chain/keyset.js";
import { FEATURE_NAMES } from "./features.js";
import { CERTIFICATE_STATUSES, statusOfError, type CertificateIssuer, type IssuedCertificate } from "./issuer.js";
import { LEVELS } from "./model.js";
import { REQUEST_TYPES, REVOCATION_TYPES, type ChallengeStore } from "./pop.js";

export interface CertificateHttpOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly log: (line: string) => void;
  readonly health: HealthProbe;
}

const bytes32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x and 64 hex digits")
  .transform((value) => value.toLowerCase());
const hexSignature = z
  .string()
  .regex(/^0x[0-9a-fA-F]{130}$/, "must be 0x and 65 bytes of hex (r ‖ s ‖ v)")
  .openapi({ description: "EIP-712 signature, r ‖ s ‖ v, low s" });
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x address");
const decimal = z.string().regex(/^\d+$/).openapi({ description: "a non-negative integer, as digits" });

const typedFieldSchema = z.object({ name: z.string(), type: z.string() });
const domainSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    chainId: decimal,
    verifyingContract: address,
  })
  .openapi("Eip712Domain");
const challengeSchema = z
  .object({
    nonce: z.string().openapi({ description: "32 random bytes, single use" }),
    expiresAt: z.string().openapi({ description: "ISO 8601; the nonce is refused from then on" }),
    domain: domainSchema,
    types: z.record(z.array(typedFieldSchema)),
  })
  .openapi("Challenge");

const requestBody = z
  .object({
    publicKey: z
      .string()
      .min(1)
      .max(200)
      .openapi({ description: "secp256k1 public key, 0x-hex, compressed (33 bytes) or uncompressed (65 bytes)" }),
    subject: address.optional().openapi({ description: "the key's own address (the default)" }),
    nonce: bytes32,
    signature: hexSignature,
  })
  .strict()
  .openapi("CertificateRequest");
const revokeBody = z.object({ nonce: bytes32, signature: hexSignature }).strict().openapi("RevocationRequest");

const certificateSchema = z
  .object({
    uid: z.string(),
    status: z.enum(CERTIFICATE_STATUSES).openapi({ description: "CertificateVerifier.statusOf now" }),
    valid: z.boolean(),
    subject: address,
    publicKey: z.string().openapi({ description: "the key the certificate was issued to, uncompressed" }),
    level: z.enum(LEVELS),
    levelIndex: z.number().int(),
    score: z.number().int(),
    attestation: z.object({
      schema: z.string(),
      attester: address,
      recipient: address,
      time: decimal,
      expirationTime: decimal,
      revocationTime: decimal,
      refUID: z.string(),
      revocable: z.boolean(),
      data: z.string(),
      replacedBy: z.string().nullable(),
    }),
    recompute: z
      .object({
        model: z.object({
          modelId: z.string(),
          contentHash: z.string(),
          json: z.record(z.unknown()).openapi({ description: "the model file (canonical form hashes to contentHash)" }),
        }),
        asOfBlock: z.number().int(),
        addresses: z.array(address),
        create2Profiles: z
          .array(
            z.object({
              name: z.string(),
              factory: address,
              initCodeHash: z.string(),
              accounts: z.number().int(),
            }),
          )
          .openapi({ description: "the CREATE2 factories whose accounts of the key count (empty: none)" }),
        features: z.object(Object.fromEntries(FEATURE_NAMES.map((name) => [name, decimal]))),
        featuresRoot: z.string(),
      })
      .openapi({ description: "what anyone needs to recompute the score and level" }),
    x509: z.object({ twin: z.string(), issuerCa: z.string() }),
    issuedAt: z.number().int(),
    txHash: z.string(),
  })
  .openapi("Certificate");
const certificateSummarySchema = z
  .object({
    uid: z.string(),
    subject: address,
    level: z.enum(LEVELS),
    issuedAt: z.string().openapi({ description: "ISO 8601: the attestation's block time" }),
    expiresAt: z.string().openapi({ description: "ISO 8601: the attestation's expirationTime" }),
    status: z.enum(CERTIFICATE_STATUSES).openapi({ description: "CertificateVerifier.statusOf now" }),
    txHash: z.string(),
  })
  .openapi("CertificateSummary", {
    example: {
      uid: "0x9b1f3c5e7a9d1b3f5c7e9a1d3b5f7c9e1a3d5b7f9c1e3a5d7b9f1c3e5a7d9b1f",
      subject: "0xcd3B766CCDd6AE721141F452C550Ca635964ce71",
      level: "MEDIUM",
      issuedAt: "2026-01-01T00:00:00.000Z",
      expiresAt: "2026-04-01T00:00:00.000Z",
      status: "Valid",
      txHash: "0x2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6c8e0b2d4f",
    },
  });
const certificateListSchema = z
  .object({ items: z.array(certificateSummarySchema), nextCursor: z.string().nullable() })
  .openapi("CertificateList");
/** The sort key a certificates cursor holds: the request's time (ms) and its record number. */
const certificateCursorSchema = z.tuple([z.number().int().nonnegative(), z.number().int().positive()]);
/**
 * Most certificates one `GET /certificates` reads while looking for those in the status asked: a page may hold fewer
 * than `limit` with a `nextCursor` to read on from, so that a rare status never makes one request read them all.
 */
const MAX_SCAN = 1_000;

const requestViewSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["issue", "revoke"]),
    state: z.enum(["accepted", "sent", "done", "failed"]),
    subject: address,
    uid: z.string().nullable(),
    txHash: z.string().nullable(),
    error: z.string().nullable(),
  })
  .openapi("RequestState");

/** The certificate as JSON: the record, with what the chain says now. */
export async function certificateJson(
  issuer: CertificateIssuer,
  certificate: IssuedCertificate,
): Promise<z.infer<typeof certificateSchema>> {
  const [status, { attestation, replacedBy }] = await Promise.all([
    issuer.statusOf(certificate.uid),
    issuer.onChain(certificate.uid),
  ]);
  return {
    uid: certificate.uid,
    status,
    valid: status === "Valid",
    subject: certificate.subject,
    publicKey: certificate.publicKey,
    level: LEVELS[certificate.level]!,
    levelIndex: certificate.level,
    score: certificate.score,
    attestation: {
      schema: attestation.schema,
      attester: attestation.attester,
      recipient: attestation.recipient,
      time: attestation.time.toString(),
      expirationTime: attestation.expirationTime.toString(),
      revocationTime: attestation.revocationTime.toString(),
      refUID: attestation.refUID,
      revocable: attestation.revocable,
      data: attestation.data,
      replacedBy,
    },
    recompute: {
      model: {
        modelId: certificate.modelId,
        contentHash: certificate.modelHash,
        json: JSON.parse(certificate.modelJson) as Record<string, unknown>,
      },
      asOfBlock: certificate.asOfBlock,
      addresses: [...certificate.addresses],
      create2Profiles: certificate.create2Profiles.map((profile) => ({ ...profile })),
      features: Object.fromEntries(FEATURE_NAMES.map((name) => [name, certificate.features[name].toString()])),
      featuresRoot: certificate.featuresRoot,
    },
    x509: { twin: certificate.twinPem, issuerCa: issuer.caPem },
    issuedAt: certificate.issuedAt,
    txHash: certificate.txHash,
  };
}

export function certificateHttpServer(
  issuer: CertificateIssuer,
  challenges: ChallengeStore,
  options: CertificateHttpOptions,
): JsonHttpServer {
  const uidParams = z.object({ uid: bytes32 });
  const found = (uid: string): IssuedCertificate => {
    const certificate = issuer.certificate(uid);
    if (certificate === undefined) {
      throw new HttpError(404, "CERT_NOT_FOUND", `this service issued no certificate ${uid}`, undefined, { uid });
    }
    return certificate;
  };
  return new JsonHttpServer({
    title: "bank-chain certificate service",
    version: "1",
    description:
      "Trust certificates: a level scored from the history of the addresses of a public key, issued as an EAS " +
      "attestation with an X.509 twin after a proof of possession of the key (EIP-712).",
    host: options.host,
    port: options.port,
    log: options.log,
    health: options.health,
    errorStatus: statusOfError,
    routes: [
      route({
        method: "GET",
        path: "/challenge",
        summary: "a single-use nonce to sign, with the issuer's EIP-712 domain and the types",
        responses: {
          200: { description: "the challenge", schema: challengeSchema },
          429: { description: "too many open challenges" },
        },
        handle: () => {
          const { nonce, expiresMs } = challenges.issue();
          const domain = issuer.domain;
          return {
            status: 200,
            body: {
              nonce,
              expiresAt: new Date(expiresMs).toISOString(),
              domain: {
                name: String(domain.name),
                version: String(domain.version),
                chainId: String(domain.chainId),
                verifyingContract: String(domain.verifyingContract),
              },
              types: { ...REQUEST_TYPES, ...REVOCATION_TYPES },
            },
          };
        },
      }),
      route({
        method: "POST",
        path: "/certificates",
        summary: "request a certificate for a public key, proving possession with a signed challenge",
        body: requestBody,
        responses: {
          201: { description: "issued", schema: certificateSchema },
          403: { description: "the signature is not by the key over this issuer's domain and request" },
          409: { description: "the nonce was used already" },
          410: { description: "the nonce has expired" },
          422: { description: "the subject is not the key's address, or the chain refused the attestation" },
          429: { description: "the issuer's hourly budget of certificates is spent (CERT_ISSUE_BUDGET_SPENT)" },
          503: { description: "cannot issue now (indexer not ready, model not active, issuer not authorized)" },
        },
        handle: async ({ body }) => {
          const certificate = await issuer.request({
            publicKey: body.publicKey,
            subject: body.subject,
            nonce: body.nonce,
            signature: body.signature,
          });
          return {
            status: 201,
            body: await certificateJson(issuer, certificate),
            headers: { location: `/certificates/${certificate.uid}` },
          };
        },
      }),
      route({
        method: "GET",
        path: "/certificates",
        summary: "the certificates this service issued, newest first, with their status on chain now, a page at a time",
        query: z
          .object({
            status: z
              .enum(CERTIFICATE_STATUSES)
              .optional()
              .openapi({ description: "only those CertificateVerifier.statusOf gives this status now" }),
            ...pageQuery,
          })
          .strict(),
        responses: {
          200: {
            description: `one page of certificates (with a status, possibly fewer than \`limit\` after reading ${MAX_SCAN})`,
            schema: certificateListSchema,
          },
          400: { description: "a bad status, limit or cursor" },
        },
        handle: async ({ query }) => {
          const start = parseKeysetCursor(query.cursor, certificateCursorSchema);
          let after = start === undefined ? undefined : { createdMs: start[0], seq: start[1] };
          const items: z.infer<typeof certificateSummarySchema>[] = [];
          let scanned = 0;
          let more = true;
          while (items.length < query.limit && scanned < MAX_SCAN && more) {
            const want = Math.min(query.limit - items.length, MAX_SCAN - scanned);
            const rows = issuer.issued({ after, limit: want + 1 });
            more = rows.length > want;
            const batch = rows.slice(0, want);
            const statuses = await Promise.all(batch.map((row) => issuer.statusOf(row.uid)));
            batch.forEach((row, i) => {
              const status = statuses[i]!;
              if (query.status !== undefined && status !== query.status) return;
              items.push({
                uid: row.uid,
                subject: row.subject,
                level: LEVELS[row.level]!,
                issuedAt: new Date(row.issuedAt * 1000).toISOString(),
                expiresAt: new Date(row.expirationTime * 1000).toISOString(),
                status,
                txHash: row.txHash,
              });
            });
            scanned += batch.length;
            const last = batch.at(-1);
            if (last !== undefined) after = { createdMs: last.createdMs, seq: last.seq };
          }
          const nextCursor = more && after !== undefined ? keysetCursor([after.createdMs, after.seq]) : null;
          return { status: 200, body: { items, nextCursor } };
        },
      }),
      route({
        method: "GET",
        path: "/certificates/:uid",
        summary: "a certificate: the attestation, its status on chain now, and the inputs to recompute it",
        params: uidParams,
        responses: {
          200: { description: "the certificate", schema: certificateSchema },
          404: { description: "this service issued no such certificate" },
        },
        handle: async ({ params }) => ({ status: 200, body: await certificateJson(issuer, found(params.uid)) }),
      }),
      route({
        method: "POST",
        path: "/certificates/:uid/revoke",
        summary: "the subject revokes its certificate: CertificateRevocation(uid, nonce) signed by its key",
        params: uidParams,
        body: revokeBody,
        responses: {
          200: { description: "revoked", schema: requestViewSchema },
          403: { description: "the signature is not by the certificate's key" },
          404: { description: "this service issued no such certificate" },
          409: { description: "already revoked, being revoked, or the nonce was used already" },
          410: { description: "the nonce has expired" },
        },
        handle: async ({ params, body }) => {
          found(params.uid);
          return { status: 200, body: await issuer.revoke(params.uid, body) };
        },
      }),
      route({
        method: "GET",
        path: "/requests/:id",
        summary: "the state of a request the service accepted",
        params: z.object({ id: z.string().regex(/^0x[0-9a-f]{32}$/, "must be a request id") }),
        responses: {
          200: { description: "the request", schema: requestViewSchema },
          404: { description: "no such request" },
        },
        handle: ({ params }) => {
          const view = issuer.requestView(params.id);
          if (view === undefined) {
            throw new HttpError(404, "CERT_REQUEST_NOT_FOUND", `there is no request ${params.id}`, undefined, {
              id: params.id,
            });
          }
          return { status: 200, body: view };
        },
      }),
    ],
  });
}
