/**
 * The fields of the services' replies the console shows, checked at the
 * boundary (zod, other fields passed through): a reply of another shape is a
 * "service not available" notice, never a page built on guesses. Lists are
 * `{items, counts?, nextCursor}`, amounts decimal strings of minor units; the
 * generated documents (src/chain/openapi/) have the full shapes.
 */
import { z } from "zod";

const amount = z.string().regex(/^-?\d+$/);
const counts = z.record(z.string(), z.number().int());

/** bank agents: `GET /ledger`. */
export const ledgerSchema = z
  .object({ balanced: z.boolean(), assets: amount, liabilities: amount, entries: z.number().int() })
  .passthrough();

/** bank agents: `GET /payments?direction=`. */
export const paymentsSchema = z
  .object({
    items: z.array(
      z
        .object({
          id: z.string(),
          direction: z.string(),
          status: z.string(),
          amount,
          currency: z.string(),
          createdAt: z.string(),
          lastTx: z.string().nullable(),
        })
        .passthrough(),
    ),
    counts,
    nextCursor: z.string().nullable(),
  })
  .passthrough();

/** bill monitor: `GET /bills`. */
export const billsSchema = z
  .object({
    bills: z.array(
      z
        .object({
          id: z.string(),
          stateName: z.string(),
          amountDue: amount,
          amountPaid: amount,
          maturity: z.number().int().nullable(),
          drawee: z.string().nullable(),
          payee: z.string().nullable(),
          issuedTx: z.string(),
        })
        .passthrough(),
    ),
    nextCursor: z.string().nullable(),
  })
  .passthrough();

/** card-gateway-api: `GET /stats`. */
export const cardStatsSchema = z
  .object({
    windowSeconds: z.number(),
    messages: z.number().int(),
    perSecond: z.number(),
    byResponseCode: counts,
    byMti: counts,
    series: z.array(z.object({ second: z.string(), count: z.number().int() })),
  })
  .passthrough();

/** card-gateway-api: `GET /messages`. */
export const cardMessagesSchema = z
  .object({
    items: z.array(
      z
        .object({
          id: z.union([z.string(), z.number()]),
          mti: z.string(),
          operation: z.string().nullable(),
          amount: amount.nullable(),
          wallet: z.string().nullable(),
          responseCode: z.string().nullable(),
          state: z.string(),
          createdAt: z.string(),
        })
        .passthrough(),
    ),
    nextCursor: z.string().nullable(),
  })
  .passthrough();

/** offline-merchant: `GET /vouchers`. */
export const vouchersSchema = z
  .object({
    items: z.array(
      z
        .object({
          hash: z.string(),
          payer: z.string(),
          amount,
          state: z.string(),
          acceptedAt: z.string(),
          tx: z.string().nullable(),
        })
        .passthrough(),
    ),
    counts,
  })
  .passthrough();

const interopSide = z.object({ chain: z.string(), txHash: z.string().nullable() }).passthrough();

/** interop-api: `GET /transactions`. */
export const interopTransactionsSchema = z
  .object({
    items: z.array(
      z
        .object({
          id: z.string(),
          status: z.string(),
          kind: z.string(),
          source: interopSide,
          destination: interopSide.nullable(),
          createdAt: z.string(),
        })
        .passthrough(),
    ),
    counts,
    nextCursor: z.string().nullable(),
  })
  .passthrough();

/** interop-relayer: `GET /messages`. */
export const relayerMessagesSchema = z
  .object({
    items: z.array(
      z
        .object({
          id: z.string(),
          state: z.string(),
          attempts: z.number().int(),
          destinationChainId: z.string(),
          sends: z.array(z.unknown()),
        })
        .passthrough(),
    ),
    nextCursor: z.string().nullable(),
  })
  .passthrough();

/** certificates: `GET /certificates`. */
export const certificatesSchema = z
  .object({
    items: z.array(
      z
        .object({
          uid: z.string(),
          subject: z.string(),
          level: z.string(),
          issuedAt: z.union([z.string(), z.number()]),
          expiresAt: z.union([z.string(), z.number()]),
          status: z.string(),
          txHash: z.string().nullable(),
        })
        .passthrough(),
    ),
    nextCursor: z.string().nullable(),
  })
  .passthrough();

/** rewards: `GET /campaigns`. */
export const campaignsSchema = z
  .object({
    campaigns: z.array(
      z
        .object({
          campaignId: z.string(),
          roots: z.array(
            z
              .object({
                epoch: z.string(),
                fromEpoch: z.string(),
                total: amount,
                state: z.string(),
                txHash: z.string().nullable(),
                records: z.number().int(),
              })
              .passthrough(),
          ),
        })
        .passthrough(),
    ),
  })
  .passthrough();

/** checkout: `GET /invoices`. */
export const invoicesSchema = z
  .object({
    items: z.array(
      z
        .object({
          intentId: z.string(),
          status: z.string(),
          sku: z.string(),
          tokenAmount: amount,
          payer: z.string().nullable(),
          purchaseState: z.string(),
          createdAt: z.string(),
        })
        .passthrough(),
    ),
    counts,
    nextCursor: z.string().nullable(),
  })
  .passthrough();

/** key holders: `GET /identity`. */
export const identitySchema = z.object({ name: z.string(), address: z.string() }).passthrough();

/** every service: `GET /health`. */
export const healthReplySchema = z.object({ ok: z.boolean() }).passthrough();

/** key holders: `GET /wallets`. */
export const walletsSchema = z
  .object({
    items: z.array(
      z
        .object({ walletId: z.string(), epoch: z.number().int(), index: z.number().int(), storedAt: z.string() })
        .passthrough(),
    ),
  })
  .passthrough();
