/**
 * A wait of some milliseconds that `wake()` ends early: the kit's loops (`Poller`, `TxQueue`'s receipt loop) pause
 * with it between rounds, so that a wake or a stop need not wait out the interval.
 */
export class Pause {
  #wake: (() => void) | undefined;

  /** Waits `ms`, or until `wake()`. One wait at a time: a new one takes over the wake. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        if (this.#wake === done) this.#wake = undefined;
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  /** Ends the wait under way now, its timer cleared; nothing when none is. */
  wake(): void {
    this.#wake?.();
  }
}
