/**
 * Wall-clock time for records, deadlines kept off chain and latencies; chain
 * time comes from blocks, never from here. Services take a `Clock` so tests
 * can move time without waiting.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** An ISO 8601 timestamp of `clock`'s now, as the stores keep it. */
export function isoNow(clock: Clock): string {
  return isoAt(clock.now());
}

let lastMs = Number.NaN;
let lastIso = "";

/**
 * `new Date(ms).toISOString()`, remembering the last answer: a busy service stamps many rows in the same
 * millisecond. Throws a `RangeError` for a time that is not a valid date, as `toISOString` does.
 */
export function isoAt(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}
