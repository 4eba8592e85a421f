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
  return new Date(clock.now()).toISOString();
}
