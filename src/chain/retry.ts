/**
 * One retry policy for every service: exponential back-off from `baseMs`,
 * capped at `maxMs`, for at most `maxAttempts` attempts (unbounded when
 * absent). A value, so a service states its policy once and tests can read it.
 */
export interface RetryPolicy {
  /** Delay after the first failure. */
  readonly baseMs: number;
  /** Longest delay. */
  readonly maxMs: number;
  /** Growth per failure; 2 doubles, 1 keeps the delay fixed. */
  readonly factor: number;
  /** Attempts in all, the first included; none means retry for ever. */
  readonly maxAttempts?: number;
}

/** The delay before attempt `failures + 1`, after `failures` failures in a row (≥ 1). */
export function retryDelay(policy: RetryPolicy, failures: number): number {
  if (failures < 1) return 0;
  const delay = policy.baseMs * policy.factor ** (failures - 1);
  return Math.min(policy.maxMs, Number.isFinite(delay) ? delay : policy.maxMs);
}

/** Whether another attempt is allowed after `attempts` attempts. */
export function mayRetry(policy: RetryPolicy, attempts: number): boolean {
  return policy.maxAttempts === undefined || attempts < policy.maxAttempts;
}

/**
 * Runs `attempt` until it resolves, waiting `retryDelay` between tries, while
 * `retryable(error)` says the error may pass and the policy allows another try;
 * otherwise rethrows the last error.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  attempt: (attemptNumber: number) => Promise<T>,
  retryable: (error: unknown) => boolean = () => true,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<T> {
  for (let attempts = 1; ; attempts += 1) {
    try {
      return await attempt(attempts);
    } catch (error) {
      if (!retryable(error) || !mayRetry(policy, attempts)) throw error;
      await sleep(retryDelay(policy, attempts));
    }
  }
}
