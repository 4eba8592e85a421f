/**
 * The one error base class of bank-chain's off-chain code.
 *
 * Every module throws subclasses of `BankChainError` with a stable `code`
 * (callers branch on the class or the code, never on message text) and the
 * offending value in `details`. The message is for people: it names what is
 * wrong and, where it can, what to do about it.
 */
export class BankChainError extends Error {
  /** Stable, machine-readable reason, e.g. `CONFIG_UNKNOWN_NETWORK`. */
  readonly code: string;
  /** The offending values, safe to log (never a secret). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = Object.freeze({ ...details });
  }

  /** A plain object for JSON output and structured logs. */
  toJSON(): { name: string; code: string; message: string; details: Readonly<Record<string, unknown>> } {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** The message of anything thrown, for wrapping foreign errors. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
