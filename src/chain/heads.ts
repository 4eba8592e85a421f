/**
 * New blocks as they come: asks the node for its block number every
 * `pollMs` (one `eth_blockNumber`, the cheapest question there is) through
 * the kit's `Poller`, and tells its listeners of each new head at once. A
 * service whose work follows the chain wakes on a head rather than sleeping a
 * fixed interval: on an automining devnet a transaction's block is seen within
 * `pollMs` of being mined.
 */
import type { Provider } from "ethers";

import { Poller } from "./poller.js";

export interface HeadWatcherOptions {
  readonly provider: Pick<Provider, "getBlockNumber">;
  /** Pause between two questions. */
  readonly pollMs: number;
  /** Told of a failed question (the watcher goes on asking, with the poller's back-off). */
  readonly onError?: (error: unknown) => void;
}

export class HeadWatcher {
  readonly #provider: Pick<Provider, "getBlockNumber">;
  readonly #listeners = new Set<(head: number) => void>();
  readonly #poller: Poller;
  #head: number | undefined;

  constructor(options: HeadWatcherOptions) {
    this.#provider = options.provider;
    this.#poller = new Poller({
      tick: async () => {
        await this.#ask();
        return false;
      },
      intervalMs: options.pollMs,
      retry: { baseMs: Math.max(1, options.pollMs), maxMs: 5_000, factor: 2 },
      onError: (error) => options.onError?.(error),
    });
  }

  /** The newest block number seen, if any. */
  get head(): number | undefined {
    return this.#head;
  }

  /** Calls `listener` with each new head until the returned function is called. */
  onHead(listener: (head: number) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  start(): void {
    this.#poller.start();
  }

  /** Stops asking and waits for a question under way. */
  async stop(): Promise<void> {
    await this.#poller.stop();
  }

  async #ask(): Promise<void> {
    const head = await this.#provider.getBlockNumber();
    if (head === this.#head) return;
    this.#head = head;
    for (const listener of this.#listeners) listener(head);
  }
}
