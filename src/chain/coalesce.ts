/**
 * Calls that arrive while a batch of them is under way go together in the
 * next batch: one round trip for a burst, and no timer, so a lone call waits
 * for nothing (it goes on the next turn of the event loop). A service that
 * asks the chain the same question for each request (the settlement agents,
 * "would the settlement take this payment now?") asks it once per burst.
 */
import { BankChainError } from "../errors.js";

/** What became of one item of a batch. */
export type Outcome<O> = { readonly value: O } | { readonly error: unknown };

export interface CoalescerOptions<I, O> {
  /**
   * Handles one batch, in arrival order, and says what became of each item (one outcome per item, in the
   * same order). Throwing fails every item of the batch with that error.
   */
  readonly flush: (items: readonly I[]) => Promise<ReadonlyArray<Outcome<O>>>;
  /** Most items in one batch; the rest wait for the next. */
  readonly maxBatch: number;
}

export class Coalescer<I, O> {
  readonly #flush: CoalescerOptions<I, O>["flush"];
  readonly #maxBatch: number;
  #waiting: Array<{ item: I; resolve: (value: O) => void; reject: (error: unknown) => void }> = [];
  #draining = false;

  constructor(options: CoalescerOptions<I, O>) {
    if (!Number.isSafeInteger(options.maxBatch) || options.maxBatch < 1) {
      throw new BankChainError("COALESCER_BAD_BATCH", `maxBatch must be a whole number >= 1, got ${options.maxBatch}`);
    }
    this.#flush = options.flush;
    this.#maxBatch = options.maxBatch;
  }

  /** `item`'s outcome, once the batch it joined is handled: its value, or its (or the batch's) error thrown. */
  run(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (this.#draining) return;
      this.#draining = true;
      setImmediate(() => void this.#drain());
    });
  }

  async #drain(): Promise<void> {
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, this.#maxBatch);
      try {
        const outcomes = await this.#flush(batch.map((waiting) => waiting.item));
        if (outcomes.length !== batch.length) {
          throw new BankChainError(
            "COALESCER_OUTCOMES",
            `a batch of ${batch.length} came back with ${outcomes.length} outcomes`,
          );
        }
        batch.forEach((waiting, index) => {
          const outcome = outcomes[index]!;
          if ("error" in outcome) waiting.reject(outcome.error);
          else waiting.resolve(outcome.value);
        });
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
    this.#draining = false;
  }
}
