/**
 * A JSON-RPC HTTP server in front of the in-process chain: a child process
 * (the CLI) can reach the chain through it, and a test can take it down to
 * play an unreachable or slow chain.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A JSON-RPC proxy to the in-process chain. `mode`: `up` forwards, `refuse`
 * stops listening (connections are refused), `hold` keeps requests until the
 * mode changes back to `up` and then forwards them (a chain that comes back late).
 */
export class RpcProxy {
  mode: "up" | "refuse" | "hold" = "up";
  readonly #server: Server;
  readonly #held: Array<() => void> = [];
  readonly #request: (payload: { method: string; params?: unknown[] }) => Promise<unknown>;

  constructor(request: (payload: { method: string; params?: unknown[] }) => Promise<unknown>) {
    this.#request = request;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  #port = 0;

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(this.#port, "127.0.0.1", resolve));
    this.#port = (this.#server.address() as AddressInfo).port;
    return `http://127.0.0.1:${this.#port}`;
  }

  async setMode(mode: RpcProxy["mode"]): Promise<void> {
    const was = this.mode;
    this.mode = mode;
    if (mode === "refuse" && was !== "refuse") await this.#close();
    if (mode !== "refuse" && was === "refuse") await this.start();
    if (mode === "up") for (const release of this.#held.splice(0)) release();
  }

  async stop(): Promise<void> {
    await this.setMode("up");
    await this.#close();
  }

  async #close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = "";
    for await (const chunk of req) body += String(chunk);
    if (this.mode === "hold") await new Promise<void>((resolve) => this.#held.push(resolve));
    const payload = JSON.parse(body) as
      { id: number; method: string; params?: unknown[] } | Array<{ id: number; method: string; params?: unknown[] }>;
    const one = async (call: { id: number; method: string; params?: unknown[] }) => {
      try {
        return {
          jsonrpc: "2.0",
          id: call.id,
          result: await this.#request({ method: call.method, params: call.params ?? [] }),
        };
      } catch (error) {
        const e = error as { code?: number; message?: string; data?: unknown };
        return {
          jsonrpc: "2.0",
          id: call.id,
          error: { code: e.code ?? -32603, message: e.message ?? String(error), data: e.data },
        };
      }
    };
    const result = Array.isArray(payload) ? await Promise.all(payload.map(one)) : await one(payload);
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(result));
  }
}
