/**
 * The command line's side of the services' HTTP APIs: the origin a user names
 * with `--api`, and one JSON call whose failures are one clear error each. The
 * caller supplies its own typed errors (its part's codes); a 4xx/5xx answer is
 * returned, not thrown, so each command decides what a refusal means.
 */
import { messageOf } from "../errors.js";

export interface ApiClientErrors {
  /** `--api` is not an http(s) URL. */
  readonly badUrl: (value: string) => Error;
  /** Nothing answered at `api`. */
  readonly unreachable: (api: string, cause: string) => Error;
}

/** The origin of an http(s) URL the user gave. */
export function apiOrigin(value: string, errors: ApiClientErrors): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw errors.badUrl(value);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw errors.badUrl(value);
  return url.origin;
}

/**
 * GETs `path` at `api`, or POSTs `body` as JSON. A body that is not JSON comes
 * back as `{ error: { message } }` with its first 200 characters.
 */
export async function callApi(
  api: string,
  path: string,
  body: unknown,
  errors: ApiClientErrors,
): Promise<{ status: number; json: unknown }> {
  let reply: Response;
  try {
    reply = await fetch(
      `${api}${path}`,
      body === undefined
        ? {}
        : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
    );
  } catch (error) {
    throw errors.unreachable(api, messageOf(error));
  }
  const text = await reply.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = { error: { message: text.slice(0, 200) } };
  }
  return { status: reply.status, json };
}
