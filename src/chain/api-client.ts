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
  /** No full answer within `limits.timeoutMs` (only with `limits`). */
  readonly timeout?: (api: string, timeoutMs: number) => Error;
  /** An answer longer than `limits.maxReplyBytes` (only with `limits`): the rest is never read. */
  readonly tooLarge?: (api: string, maxReplyBytes: number) => Error;
}

/** Bounds on one call, for a peer that may hang or flood (a key share holder, say). */
export interface ApiCallLimits {
  readonly timeoutMs: number;
  readonly maxReplyBytes: number;
}

/** What else a call may carry: request headers (an `Idempotency-Key`, say). */
export interface ApiCallOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * What to do with a 3xx answer: `follow` it (fetch's default), or `manual`: return it as the answer, so a
   * peer cannot send the call (its body and headers) on to another server.
   */
  readonly redirect?: "follow" | "manual";
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
 * back as `{ error: { message } }` with its first 200 characters. With `limits`,
 * the whole call (answer read included) must end within `timeoutMs` and the
 * answer stay within `maxReplyBytes`, or it fails with `errors.timeout` or
 * `errors.tooLarge`. `options.headers` are sent with the request.
 */
export async function callApi(
  api: string,
  path: string,
  body: unknown,
  errors: ApiClientErrors,
  limits?: ApiCallLimits,
  options: ApiCallOptions = {},
): Promise<{ status: number; json: unknown }> {
  const signal = limits === undefined ? undefined : AbortSignal.timeout(limits.timeoutMs);
  const failed = (error: unknown): Error =>
    signal?.aborted === true && limits !== undefined && errors.timeout !== undefined
      ? errors.timeout(api, limits.timeoutMs)
      : errors.unreachable(api, messageOf(error));
  const tooLarge = (): Error =>
    errors.tooLarge?.(api, limits!.maxReplyBytes) ??
    new Error(`${api} answered with more than ${limits!.maxReplyBytes} bytes`);
  let reply: Response;
  const common = {
    ...(signal === undefined ? {} : { signal }),
    ...(options.redirect === undefined ? {} : { redirect: options.redirect }),
  };
  try {
    reply = await fetch(
      `${api}${path}`,
      body === undefined
        ? { ...common, headers: { ...options.headers } }
        : {
            ...common,
            method: "POST",
            headers: { ...options.headers, "content-type": "application/json" },
            body: JSON.stringify(body),
          },
    );
  } catch (error) {
    throw failed(error);
  }
  let text: string;
  if (limits === undefined) {
    text = await reply.text();
  } else {
    const chunks: Uint8Array[] = [];
    let size = 0;
    let over = false;
    try {
      if (Number(reply.headers.get("content-length") ?? 0) > limits.maxReplyBytes) over = true;
      else if (reply.body !== null) {
        // Leaving the loop early cancels the stream: the rest is never read.
        for await (const chunk of reply.body) {
          size += chunk.length;
          if (size > limits.maxReplyBytes) {
            over = true;
            break;
          }
          chunks.push(chunk);
        }
      }
    } catch (error) {
      throw failed(error);
    }
    if (over) {
      await reply.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    text = Buffer.concat(chunks).toString("utf8");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = { error: { message: text.slice(0, 200) } };
  }
  return { status: reply.status, json };
}
