/**
 * A share holder's HTTP API on 127.0.0.1, on the service kit (`chain/http.ts`), documented at `/openapi.json`:
 *
 *   GET  /identity            the holder's static public key and address, the chain and registry it serves
 *   POST /channel             a channel handshake (Hello)           → 201 { session, welcome }
 *   POST /channel/:session    one sealed frame                      → 200 the sealed answer
 *   GET  /wallets             every share it stores, newest first: wallet, epoch, index, time (never a share), paged
 *   GET  /wallets/:walletId   what the holder stores for the wallet: epochs, indexes, commitments (never a share)
 *
 * HTTP carries only what an eavesdropper may see: public keys, the context, sealed frames. Errors are
 * `{ "error": { "code", "message" } }`: 400 a malformed or tampered frame, 403 a peer the registry does not
 * authorize, 404 an unknown wallet or session, 409 a stale epoch, a replayed or out-of-order frame, 503 too many
 * open channels. A refused operation inside an open channel is answered inside the channel.
 */
import { z } from "zod";

import { JsonHttpServer, pageQuery, route, type HealthProbe } from "../chain/http.js";
import { keysetPage, parseKeysetCursor } from "../chain/keyset.js";
import { BankChainError } from "../errors.js";
import { ChannelError, frameSchema, helloSchema, welcomeSchema } from "./channel.js";
import { KeysError, keysStatus } from "./errors.js";
import type { ShareHolder } from "./holder.js";
import { ShareError } from "./shares.js";

export interface HolderHttpOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly log: (line: string) => void;
  readonly health: HealthProbe;
}

const identityView = z
  .object({
    name: z.string(),
    protocol: z.string(),
    address: z.string(),
    publicKey: z.string().openapi({ description: "33-byte compressed secp256k1 key, 0x hex" }),
    chainId: z.string(),
    registry: z.string(),
  })
  .openapi("HolderIdentity");

const storedView = z
  .object({
    walletId: z.string(),
    shares: z.array(
      z.object({
        epoch: z.number().int(),
        index: z.number().int(),
        commitment: z.string(),
        storedAt: z.number().int(),
      }),
    ),
  })
  .openapi("StoredShares");

const walletListView = z
  .object({
    items: z.array(
      z.object({
        walletId: z.string(),
        epoch: z.number().int(),
        index: z.number().int().openapi({ description: "the share's index (its x coordinate)" }),
        storedAt: z.string().openapi({ description: "ISO 8601" }),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .openapi("StoredWallets", {
    example: {
      items: [
        {
          walletId: "0x5e0b7c1d3f5a7b9c1e3d5f7a9b1c3e5d7f9a1b3c5e7d9f1a3b5c7e9d1f3a5b7c",
          epoch: 2,
          index: 1,
          storedAt: "2026-01-01T00:00:00.000Z",
        },
      ],
      nextCursor: null,
    },
  });

/** The sort key a wallets cursor holds: stored time (unix seconds), wallet id, epoch, index. */
const walletCursor = z.tuple([
  z.number().int().nonnegative(),
  z.string().regex(/^0x[0-9a-f]{64}$/),
  z.number().int().nonnegative(),
  z.number().int().nonnegative(),
]);

const walletIdParam = z.object({
  walletId: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/)
    .openapi({ description: "the wallet id in the ShareRegistry" }),
});

const sessionParam = z.object({
  session: z
    .string()
    .regex(/^0x[0-9a-f]{32}$/)
    .openapi({ description: "the session id the handshake returned" }),
});

/** The holder's API server. */
export function holderHttpServer(holder: ShareHolder, options: HolderHttpOptions): JsonHttpServer {
  return new JsonHttpServer({
    title: `bank-chain key share holder (${holder.identity.name})`,
    version: "1.0.0",
    description:
      "Keeps one share of each wallet key it is given; shares move only inside the authenticated channel (docs/keys.md).",
    host: options.host,
    port: options.port,
    log: options.log,
    health: options.health,
    errorStatus: (error) =>
      error instanceof KeysError || error instanceof ChannelError || error instanceof ShareError
        ? keysStatus((error as BankChainError).code)
        : undefined,
    routes: [
      route({
        method: "GET",
        path: "/identity",
        summary: "the holder's static key, address, chain and registry",
        responses: { 200: { description: "the identity", schema: identityView } },
        handle: () => ({ status: 200, body: holder.identity }),
      }),
      route({
        method: "POST",
        path: "/channel",
        summary: "open a channel: static + ephemeral ECDH, the context bound into the keys",
        body: helloSchema,
        responses: {
          201: {
            description: "the session id and the holder's welcome (its ephemeral key and key confirmation)",
            schema: z.object({ session: z.string(), welcome: welcomeSchema }).openapi("ChannelOpened"),
          },
          400: { description: "a malformed hello, or one for another key, chain or registry" },
          403: { description: "the registry does not let this peer do this here" },
          404: { description: "no such wallet" },
          409: { description: "the wallet is at another epoch, or retired" },
          503: { description: "too many channels open" },
        },
        handle: async ({ body }) => ({ status: 201, body: await holder.hello(body) }),
      }),
      route({
        method: "POST",
        path: "/channel/:session",
        summary: "send one sealed frame (deposit, fetch or status) and get the sealed answer",
        params: sessionParam,
        body: frameSchema,
        responses: {
          200: { description: "the sealed answer", schema: frameSchema },
          400: { description: "the frame does not open: tampered, or sealed for another session" },
          404: { description: "no open session with this id" },
          409: { description: "a replayed or out-of-order frame (the session is closed)" },
        },
        handle: async ({ params, body }) => ({ status: 200, body: await holder.frame(params.session, body) }),
      }),
      route({
        method: "GET",
        path: "/wallets",
        summary: "every share this holder stores, newest first: wallet, epoch, index and time, never a share",
        query: z.object(pageQuery).strict(),
        responses: {
          200: { description: "one page of stored shares' metadata", schema: walletListView },
          400: { description: "a bad limit or cursor" },
        },
        handle: ({ query }) => {
          const after = parseKeysetCursor(query.cursor, walletCursor);
          const rows = holder.storedPage({
            after:
              after === undefined
                ? undefined
                : { storedAt: after[0], walletId: after[1], epoch: after[2], index: after[3] },
            limit: query.limit + 1,
          });
          const { items, nextCursor } = keysetPage(rows, query.limit, (row) => [
            row.storedAt,
            row.walletId,
            row.epoch,
            row.index,
          ]);
          return {
            status: 200,
            body: {
              items: items.map(({ walletId, epoch, index, storedAt }) => ({
                walletId,
                epoch,
                index,
                storedAt: new Date(storedAt * 1000).toISOString(),
              })),
              nextCursor,
            },
          };
        },
      }),
      route({
        method: "GET",
        path: "/wallets/:walletId",
        summary: "what this holder stores for a wallet: epochs, indexes and commitments, never a share",
        params: walletIdParam,
        responses: { 200: { description: "the stored shares' metadata", schema: storedView } },
        handle: ({ params }) => ({
          status: 200,
          body: {
            walletId: params.walletId.toLowerCase(),
            shares: holder.stored(params.walletId).map(({ epoch, index, commitment, storedAt }) => ({
              epoch,
              index,
              commitment,
              storedAt,
            })),
          },
        }),
      }),
    ],
  });
}
