/**
 * Keyset pagination of the services' newest-first lists (`GET /payments`, `GET /invoices`, …): a page is the
 * `limit` items whose sort key comes after the cursor's, and the cursor is the sort key of the last item handed
 * out (its time, then the ids that break ties), as base64url JSON. Unlike an offset, or the kit's `page` (whose
 * cursor names an item), a keyset cursor stays good when items are added, change state or leave the filter
 * between pages: each item still shows up once.
 *
 * The cursor is opaque to clients; a string this list did not hand out is a 400 naming `cursor`.
 */
import type { ZodType } from "zod";

import { HttpError } from "./http.js";

/** A sort key: newest first by its first element, ties broken by the next ones. */
export type KeysetKey = readonly (string | number)[];

/** The cursor that resumes a newest-first list after the item whose sort key is `key`. */
export function keysetCursor(key: KeysetKey): string {
  return Buffer.from(JSON.stringify(key), "utf8").toString("base64url");
}

/**
 * The sort key a cursor holds, checked against `schema` (the list's key: types, ranges, enums).
 * @throws HttpError 400 `REQUEST_INVALID_FIELD` on `cursor` when it is not a cursor of this list
 */
export function parseKeysetCursor<K extends KeysetKey>(cursor: string | undefined, schema: ZodType<K>): K | undefined {
  if (cursor === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    value = undefined;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new HttpError(400, "REQUEST_INVALID_FIELD", "cursor: is not a cursor this list handed out", "cursor");
  }
  return parsed.data;
}

/**
 * One page from `rows`, the list read after the cursor with `limit + 1` as its limit: the first `limit` rows, and
 * the cursor after the last of them when the extra row shows there is more (null at the end).
 */
export function keysetPage<T>(
  rows: readonly T[],
  limit: number,
  keyOf: (item: T) => KeysetKey,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? keysetCursor(keyOf(last)) : null };
}
