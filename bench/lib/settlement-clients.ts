/**
 * The settlement benchmark's load generator, run in a worker thread
 * (`postPayments` in `settlement-load.ts` starts it): `clients` concurrent
 * clients post one payment order per id to bank A's agent, each posting its
 * next order as soon as the last one is answered. Off the agents' thread, so
 * the clients' own HTTP work does not take the CPU the agents measured need
 * (on the in-process network the chain and both agents share one thread).
 * Each client keeps one connection alive and posts through node's own HTTP
 * client: `fetch` took about 1.3 ms of CPU per order here, node's client about
 * 0.5 ms, and on 2 cores the clients' CPU is CPU the chain does not get.
 *
 * Replies to its parent with when each order was posted (the wall clock,
 * which both threads share) and any order not answered 202.
 */
import http from "node:http";
import { parentPort, workerData } from "node:worker_threads";

/** What the parent gives the worker. */
export interface ClientsInput {
  readonly url: string;
  readonly ids: readonly string[];
  readonly clients: number;
  /** The amount in minor units, as digits. */
  readonly amount: string;
}

/** What the worker answers. */
export interface ClientsOutput {
  readonly posted: ReadonlyArray<readonly [string, number]>;
  readonly problems: readonly string[];
}

const input = workerData as ClientsInput;
const posted: Array<[string, number]> = [];
const problems: string[] = [];
let next = 0;
/** Kept-alive connections, one per client at most: node's own HTTP client, lighter on the CPU than `fetch`. */
const agent = new http.Agent({ keepAlive: true, maxSockets: input.clients });
const target = new URL("/payments", input.url);

/** POSTs `body` and resolves with the status and the answer's text. */
function post(body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      target,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

async function client(): Promise<void> {
  while (next < input.ids.length) {
    const id = input.ids[next++]!;
    posted.push([id, Date.now()]);
    try {
      const { status, text } = await post(
        JSON.stringify({
          debtorAccount: "alice",
          creditorBank: "B",
          creditorAccount: "bob",
          amount: input.amount,
          currency: "USD",
          endToEndId: id,
        }),
      );
      if (status !== 202) problems.push(`${id}: HTTP ${status} ${text}`);
    } catch (error) {
      problems.push(`${id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
await Promise.all(Array.from({ length: input.clients }, () => client()));
agent.destroy();
parentPort!.postMessage({ posted, problems } satisfies ClientsOutput);
