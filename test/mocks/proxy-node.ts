/**
 * A JSON-RPC node in front of a real one, for the tests of what a service does when a node lies or fails: it
 * forwards every request (single or batched) and lets the test rewrite an answer (`lie`) or answer in the node's
 * place (`intercept`, e.g. a JSON-RPC error). On 127.0.0.1, a port the OS picks; `stop()` closes it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Rewrites the node's `result` for a call (return it unchanged to tell the truth). */
export type Lie = (method: string, params: unknown[], result: unknown) => unknown;
/** An answer in place of the node's (`{ error }` or `{ result }`), or undefined to ask the node. */
export type Intercept = (method: string, params: unknown[]) => { error?: unknown; result?: unknown } | undefined;

export const truth: Lie = (_method, _params, result) => result;

interface Call {
  id: number;
  method: string;
  params: unknown[];
}

export class ProxyNode {
  lie: Lie = truth;
  intercept: Intercept = () => undefined;
  readonly #server: Server;
  readonly #target: string;

  constructor(target: string) {
    this.#target = target;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = "";
    for await (const chunk of req) body += String(chunk);
    const request = JSON.parse(body) as Call | Call[];
    const calls = Array.isArray(request) ? request : [request];
    const own = new Map<number, object>();
    for (const rpc of calls) {
      const answer = this.intercept(rpc.method, rpc.params ?? []);
      if (answer !== undefined) own.set(rpc.id, { jsonrpc: "2.0", id: rpc.id, ...answer });
    }
    const asked = calls.filter((rpc) => !own.has(rpc.id));
    const answers =
      asked.length === 0
        ? []
        : ((await (
            await fetch(this.#target, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify(asked),
            })
          ).json()) as Array<{ id: number; result?: unknown }>);
    for (const rpc of asked) {
      const answer = answers.find((entry) => entry.id === rpc.id);
      if (answer !== undefined && "result" in answer) answer.result = this.lie(rpc.method, rpc.params, answer.result);
    }
    const all = calls.map((rpc) => own.get(rpc.id) ?? answers.find((entry) => entry.id === rpc.id));
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(Array.isArray(request) ? all : all[0]));
  }
}
