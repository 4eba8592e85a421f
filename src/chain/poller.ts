/**
 * The one background loop of the services: runs `tick` again and again until
 * stopped. A tick that reports work is followed at once by the next; an idle
 * one waits `intervalMs` (or until `wake()`); a failing one is reported to
 * `onError` and retried after the retry policy's back-off; a fatal error
 * (`isFatal`) stops the loop. `stop()` waits for the tick under way.
 */
import { Pause } from "./pause.js";
import { retryDelay, type RetryPolicy } from "./retry.js";

export interface PollerOptions {
  /** One round of work; `true` when it did something and more may be waiting. */
  readonly tick: () => Promise<boolean | void>;
  /** Pause after an idle round. */
  readonly intervalMs: number;
  /** Back-off after failed rounds; default: `intervalMs` doubling up to 10 s. */
  readonly retry?: RetryPolicy;
  readonly onError?: (error: unknown, failures: number) => void;
  /** An error after which polling stops for good (it is reported first). */
  readonly isFatal?: (error: unknown) => boolean;
}

export class Poller {
  readonly #options: PollerOptions;
  readonly #retry: RetryPolicy;
  #stopped = true;
  #loop: Promise<void> | undefined;
  readonly #pause = new Pause();
  #woken = false;

  constructor(options: PollerOptions) {
    this.#options = options;
    this.#retry = options.retry ?? { baseMs: Math.max(1, options.intervalMs), maxMs: 10_000, factor: 2 };
  }

  /** Whether the loop runs. */
  get running(): boolean {
    return !this.#stopped;
  }

  /** Starts the loop (the first tick runs at once); a second call does nothing. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  /** Ends the current pause, so the next tick runs now (or right after the one under way). */
  wake(): void {
    this.#woken = true;
    this.#pause.wake();
  }

  /** Stops the loop and waits for the tick under way to finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pause.wake();
    await this.#loop;
    this.#loop = undefined;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      let busy = false;
      this.#woken = false;
      try {
        busy = (await this.#options.tick()) === true;
        failures = 0;
      } catch (error) {
        failures += 1;
        this.#options.onError?.(error, failures);
        if (this.#options.isFatal?.(error) === true) {
          this.#stopped = true;
          break;
        }
      }
      if (this.#stopped) break;
      if (failures > 0) await this.#pause.wait(retryDelay(this.#retry, failures));
      else if (!busy && !this.#woken) await this.#pause.wait(this.#options.intervalMs);
    }
  }
}
