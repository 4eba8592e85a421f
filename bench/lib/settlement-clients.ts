/**
 * The settlement benchmark's load generator, run in a worker thread
 * (`postPayments` in `settlement-load.ts` starts it): `clients` concurrent
 * clients post one payment order per id to bank A's agent, each posting its
 * next order as soon as the last one is answered. Off the agents' thread, so
 * the clients' own HTTP work does not take the CPU the agents measured need
 * (on the in-process network the chain and both agents share one thread).
 *
 * Replies to its parent with when each order was posted (the wall clock,
 * which both threads share) and any order not answered 202.
 */
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
async function client(): Promise<void> {
  while (next < input.ids.length) {
    const id = input.ids[next++]!;
    posted.push([id, Date.now()]);
    try {
      const response = await fetch(`${input.url}/payments`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          debtorAccount: "alice",
          creditorBank: "B",
          creditorAccount: "bob",
          amount: input.amount,
          currency: "USD",
          endToEndId: id,
        }),
      });
      const text = await response.text();
      if (response.status !== 202) problems.push(`${id}: HTTP ${response.status} ${text}`);
    } catch (error) {
      problems.push(`${id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
await Promise.all(Array.from({ length: input.clients }, () => client()));
parentPort!.postMessage({ posted, problems } satisfies ClientsOutput);
