/**
 * Admission control for a service that holds work open after it answers (a
 * bank agent's payments stay open until they settle on chain): at most
 * `limit` open at once, counting those being admitted now. A request beyond it
 * waits its turn, first come first served, until room is made (`recheck()`
 * after work closes) or `waitMs` passes (`AdmissionBusyError`).
 *
 * Why: a service short of CPU that admits orders faster than it completes
 * them only grows its backlog, and every order then waits behind the whole
 * backlog (Little's law: open = rate × time open). Bounding what is open bounds
 * how long each waits, at the same rate.
 */
import { BankChainError } from "../errors.js";

/** No room in the time allowed, or the gate closed while waiting. */
export class AdmissionBusyError extends BankChainError {}

export interface AdmissionOptions {
  /** Most items open at once, those being admitted included: a whole number ≥ 1. */
  readonly limit: number;
  /** How long a request waits for room before it is refused (ms, ≥ 0). */
  readonly waitMs: number;
  /** How many items are open now (those admitted and already recorded). */
  readonly open: () => number;
}

interface Waiter {
  /** `counted`: the room was taken for it (`#entering` counts it). */
  readonly admit: (counted: boolean) => void;
  readonly timer: NodeJS.Timeout;
}

export class AdmissionGate {
  readonly #options: AdmissionOptions;
  /** Admitted and not yet recorded as open, nor given up. */
  #entering = 0;
  readonly #waiting: Waiter[] = [];
  #closed: string | undefined;

  constructor(options: AdmissionOptions) {
    if (!Number.isSafeInteger(options.limit) || options.limit < 1) {
      throw new BankChainError("ADMISSION_BAD_LIMIT", `the limit must be a whole number ≥ 1, got ${options.limit}`, {
        limit: options.limit,
      });
    }
    if (!Number.isFinite(options.waitMs) || options.waitMs < 0) {
      throw new BankChainError("ADMISSION_BAD_WAIT", `the wait must be ≥ 0 ms, got ${options.waitMs}`, {
        waitMs: options.waitMs,
      });
    }
    this.#options = options;
  }

  /** Requests waiting for room. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Waits for room and takes it. The returned `leave` must be called once the item is recorded as open (then
   * `open()` counts it) or given up; it lets the next waiting request in if there is room.
   * @throws AdmissionBusyError `ADMISSION_BUSY` after `waitMs` without room, `ADMISSION_CLOSED` once closed
   */
  async enter(): Promise<() => void> {
    if (this.#closed !== undefined) throw closed(this.#closed);
    if (this.#waiting.length > 0 || this.#room() <= 0) {
      const counted = await new Promise<boolean>((resolve, reject) => {
        const waiter: Waiter = {
          admit: (taken) => {
            clearTimeout(waiter.timer);
            resolve(taken);
          },
          timer: setTimeout(() => {
            this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
            reject(
              new AdmissionBusyError(
                "ADMISSION_BUSY",
                `${this.#options.limit} items are open; no room within ${this.#options.waitMs} ms`,
                { limit: this.#options.limit, waitMs: this.#options.waitMs },
              ),
            );
          }, this.#options.waitMs),
        };
        this.#waiting.push(waiter);
      });
      if (this.#closed !== undefined) {
        if (counted) this.#entering -= 1;
        throw closed(this.#closed);
      }
    } else {
      this.#entering += 1;
    }
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#entering -= 1;
      this.recheck();
    };
  }

  /** Lets waiting requests in, oldest first, while there is room: call when open items may have closed. */
  recheck(): void {
    if (this.#waiting.length === 0) return;
    let room = this.#room();
    while (room > 0 && this.#waiting.length > 0) {
      room -= 1;
      this.#entering += 1;
      this.#waiting.shift()!.admit(true);
    }
  }

  /** Refuses every waiting request, and every later one, with `ADMISSION_CLOSED` and `why`. */
  close(why: string): void {
    this.#closed = why;
    while (this.#waiting.length > 0) this.#waiting.shift()!.admit(false);
  }

  /** Opens the gate again after `close`. */
  reopen(): void {
    this.#closed = undefined;
  }

  #room(): number {
    return this.#options.limit - this.#options.open() - this.#entering;
  }
}

function closed(why: string): AdmissionBusyError {
  return new AdmissionBusyError("ADMISSION_CLOSED", why);
}
