/**
 * Structured service logs: one pino logger per service, JSON lines on stderr
 * (`{"level":"info","time":"<ISO 8601>","service":"bank-a","msg":"…", …}`),
 * written synchronously (no worker thread, no transport), so a line is out
 * before the process can die.
 *
 * The service kit still hands every part a plain `log(line)`: `lineLog`
 * makes one that writes through a logger and carries it, and `loggerOf` gets
 * it back where a part has an id to add (`loggerOf(log).child({ paymentId })`).
 * A plain function (a test's `(line) => lines.push(line)`) gets a logger whose
 * lines reach it as their message text, so the part's code is the same either way.
 */
import { pino, type DestinationStream, type Level, type Logger } from "pino";

import { BankChainError } from "../errors.js";

export type { DestinationStream, Logger };

/** A log setting is not one of its allowed values. */
export class LogConfigError extends BankChainError {}

/** How lines look: `json` (one object a line) or `text` (`[service] message key=value`, for a person at a terminal). */
export type LogFormat = "json" | "text";

const LEVELS: readonly Level[] = ["fatal", "error", "warn", "info", "debug", "trace"];

export interface CreateLoggerOptions {
  /** The `service` field of every line; absent for a root logger whose children name their service. */
  readonly service?: string;
  /** Where lines go; default stderr through a synchronous destination. */
  readonly destination?: DestinationStream;
  /** Default `BANK_CHAIN_LOG_LEVEL`, else `info`. */
  readonly level?: Level;
  /** Default `BANK_CHAIN_LOG_FORMAT`, else `json`. */
  readonly format?: LogFormat;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * A pino logger writing JSON lines with `level` (a name), `time` (ISO 8601),
 * `service` and `msg`, plus whatever fields a child or a call adds. No pid,
 * no hostname. Fails with `LOG_INVALID_SETTING` for an unknown level or format.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const env = options.env ?? process.env;
  const level = options.level ?? setting(env, "BANK_CHAIN_LOG_LEVEL", LEVELS, "info");
  const format = options.format ?? setting(env, "BANK_CHAIN_LOG_FORMAT", ["json", "text"] as const, "json");
  const sink = options.destination ?? pino.destination({ fd: 2, sync: true });
  return pino(
    {
      level,
      base: options.service === undefined ? {} : { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    format === "json" ? sink : textDestination(sink),
  );
}

function setting<T extends string>(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const value = env[name]?.trim();
  if (value === undefined || value === "") return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new LogConfigError("LOG_INVALID_SETTING", `${name} must be one of ${allowed.join(", ")}, got "${value}"`, {
      name,
      value,
    });
  }
  return value as T;
}

/** Rewrites each JSON line as `[service] message key=value …` (a warning or worse gets its level after the service). */
function textDestination(sink: DestinationStream): DestinationStream {
  return {
    write(chunk: string) {
      const { level, time: _time, service, msg, ...fields } = JSON.parse(chunk) as Record<string, unknown>;
      const prefix = typeof service === "string" ? `[${service}] ` : "";
      const severity = level === "info" || level === "debug" || level === "trace" ? "" : `${String(level)}: `;
      const extra = Object.entries(fields).map(([key, value]) => ` ${key}=${JSON.stringify(value)}`);
      sink.write(`${prefix}${severity}${String(msg ?? "")}${extra.join("")}\n`);
    },
  };
}

/** A `log(line)` that may carry the logger it writes through. */
export type LineLog = ((line: string) => void) & { readonly logger?: Logger };

/** A `log(line)` that writes `line` as an info line of `logger`, and carries `logger` for `loggerOf`. */
export function lineLog(logger: Logger): LineLog {
  const log = (line: string): void => logger.info(line);
  return Object.assign(log, { logger });
}

/** The logger a `lineLog` carries, or undefined for a plain function. */
export function attachedLogger(log: (line: string) => void): Logger | undefined {
  return (log as LineLog).logger;
}

const forwarding = new WeakMap<(line: string) => void, Logger>();

/**
 * The logger behind `log`: the one a `lineLog` carries, else (a plain
 * function) a logger whose every line reaches `log` as its message text
 * alone, fields dropped, so a test that reads lines sees what it always saw.
 */
export function loggerOf(log: (line: string) => void): Logger {
  const attached = attachedLogger(log);
  if (attached !== undefined) return attached;
  let logger = forwarding.get(log);
  if (logger === undefined) {
    logger = pino(
      { level: "info", base: {} },
      {
        write(chunk: string) {
          const { msg } = JSON.parse(chunk) as { msg?: unknown };
          log(String(msg ?? ""));
        },
      },
    );
    forwarding.set(log, logger);
  }
  return logger;
}
