/** A JSON API as the service tests call it: one request, its status and parsed JSON body. */

/** A service's reply: the HTTP status and the body parsed as JSON. */
export interface Reply {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/**
 * Sends `method` to `url`, with `body` as JSON when one is given, and reads the reply's JSON body (a reply
 * that is not JSON rejects).
 */
export async function call(url: string, method = "GET", body?: unknown): Promise<Reply> {
  const reply = await fetch(url, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  return { status: reply.status, body: (await reply.json()) as unknown };
}
