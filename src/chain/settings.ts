/**
 * Service settings from the environment, one schema per service: each
 * variable states its default, its range and what it does once, here; the
 * service reads its values through the schema (zod checks them) and
 * `docs/operations.md`'s configuration table is generated from the same
 * schemas (`npm run docs:operations`; a test fails when the page is stale).
 */
import { z } from "zod";

import { BankChainError } from "../errors.js";

/** A service setting from the environment is malformed. */
export class SettingError extends BankChainError {}

/** Where a service runs: some defaults differ between the devnet and a real network. */
export interface SettingsContext {
  readonly devnet: boolean;
}

type Default<T> = T | { readonly devnet: T; readonly elsewhere: T };

interface BaseSetting<T> {
  readonly description: string;
  readonly default: Default<T>;
}

export interface IntSetting extends BaseSetting<number> {
  readonly kind: "int";
  readonly min: number;
  readonly max: number;
}

export interface ChoiceSetting<C extends string = string> extends BaseSetting<C> {
  readonly kind: "choice";
  readonly choices: readonly C[];
}

/**
 * A secret or other text matching `pattern`; `required` settings must be set
 * off the devnet, to anything but their devnet default (a published
 * development value).
 */
export interface TextSetting extends BaseSetting<string> {
  readonly kind: "text";
  readonly pattern: RegExp;
  /** What `pattern` allows, in words. */
  readonly shape: string;
  readonly required: boolean;
}

export type Setting = IntSetting | ChoiceSetting | TextSetting;

/** A whole number in [min, max]. */
export function int(description: string, fallback: Default<number>, min: number, max: number): IntSetting {
  return { kind: "int", description, default: fallback, min, max };
}

/** One of `choices`. */
export function choice<const C extends string>(
  description: string,
  fallback: Default<C>,
  choices: readonly C[],
): ChoiceSetting<C> {
  return { kind: "choice", description, default: fallback, choices };
}

/**
 * Text matching `pattern` (described by `shape`). Unset, it is `devnet` on the
 * devnet; elsewhere it is required (`required`) or empty.
 */
export function text(
  description: string,
  shape: string,
  pattern: RegExp,
  devnet: string,
  { required }: { readonly required: boolean },
): TextSetting {
  return { kind: "text", description, shape, pattern, required, default: { devnet, elsewhere: "" } };
}

type ValueOf<S> = S extends ChoiceSetting<infer C> ? C : S extends TextSetting ? string : number;

/** A service's settings: environment variable → setting. */
export interface SettingsSchema<S extends Readonly<Record<string, Setting>>> {
  /** The service, as `npm start` names it. */
  readonly service: string;
  readonly settings: S;
  /** The values from `env`, defaults filled in. @throws SettingError naming the variable and the value. */
  read(env: Readonly<Record<string, string | undefined>>, context: SettingsContext): { [K in keyof S]: ValueOf<S[K]> };
}

function defaultFor<T>(fallback: Default<T>, context: SettingsContext): T {
  return typeof fallback === "object" && fallback !== null && "devnet" in fallback
    ? context.devnet
      ? fallback.devnet
      : fallback.elsewhere
    : (fallback as T);
}

function schemaOf(variable: string, setting: Setting): z.ZodType<number | string> {
  if (setting.kind === "int") {
    const message = `${variable} must be a whole number from ${setting.min} to ${setting.max}`;
    return z
      .string()
      .regex(/^\d+$/, message)
      .transform(Number)
      .pipe(z.number().int().min(setting.min, message).max(setting.max, message));
  }
  if (setting.kind === "text") return z.string().regex(setting.pattern, `${variable} must be ${setting.shape}`);
  return z.enum(setting.choices as [string, ...string[]], {
    errorMap: () => ({ message: `${variable} must be one of ${setting.choices.join(", ")}` }),
  });
}

/** Declares a service's settings. */
export function settingsSchema<const S extends Readonly<Record<string, Setting>>>(
  service: string,
  settings: S,
): SettingsSchema<S> {
  return {
    service,
    settings,
    read(env, context) {
      const values: Record<string, number | string> = {};
      for (const [variable, setting] of Object.entries(settings)) {
        const raw = env[variable]?.trim();
        if (raw === undefined || raw === "") {
          const fallback = defaultFor(setting.default as Default<number | string>, context);
          if (setting.kind === "text" && setting.required && fallback === "") {
            throw new SettingError("SETTING_REQUIRED", `${variable} must be set on this network (${setting.shape})`, {
              variable,
            });
          }
          values[variable] = fallback;
          continue;
        }
        const parsed = schemaOf(variable, setting).safeParse(raw);
        if (!parsed.success) {
          // A text setting may be a secret: its value is never repeated.
          const got = setting.kind === "text" ? `a value of ${raw.length} characters` : `"${raw}"`;
          throw new SettingError("SETTING_INVALID", `${parsed.error.issues[0]!.message}, got ${got}`, {
            variable,
            ...(setting.kind === "text" ? {} : { value: raw }),
          });
        }
        if (
          setting.kind === "text" &&
          setting.required &&
          !context.devnet &&
          String(parsed.data).toLowerCase() === defaultFor(setting.default, { devnet: true }).toLowerCase()
        ) {
          // A secret that is a public value is no secret: the devnet's default is in the source.
          throw new SettingError(
            "SETTING_PUBLISHED",
            `${variable} is the devnet's published development value, which anyone can read in the source; set this network's own`,
            { variable },
          );
        }
        values[variable] = parsed.data;
      }
      return values as { [K in keyof S]: ValueOf<S[K]> };
    },
  };
}

/** The configuration table of `schemas` as Markdown rows: variable, service, default, allowed values, meaning. */
export function settingsTable(schemas: readonly SettingsSchema<Readonly<Record<string, Setting>>>[]): string {
  const show = (setting: Setting): string => {
    if (setting.kind === "text") {
      if (defaultFor(setting.default, { devnet: true }) === "" && !setting.required) return "none";
      return `a published development value on the devnet; ${setting.required ? "required" : "none"} elsewhere`;
    }
    const value = setting.default as Default<number | string>;
    return typeof value === "object" ? `${value.devnet} on the devnet, ${value.elsewhere} elsewhere` : String(value);
  };
  const allowedOf = (setting: Setting): string =>
    setting.kind === "int"
      ? `${setting.min}–${setting.max}`
      : setting.kind === "text"
        ? setting.shape
        : setting.choices.join(", ");
  const rows = schemas.flatMap((schema) =>
    Object.entries(schema.settings).map(([variable, setting]) => {
      return `| \`${variable}\` | ${schema.service} | ${show(setting)} | ${allowedOf(setting)} | ${setting.description} |`;
    }),
  );
  return ["| variable | service | default | allowed | what it does |", "| --- | --- | --- | --- | --- |", ...rows].join(
    "\n",
  );
}

/**
 * A whole-number setting from the environment: `fallback` when unset or
 * empty, otherwise a whole number in [min, max]. For one-off settings outside
 * a service's schema.
 *
 * @throws SettingError (`SETTING_INVALID`) naming the variable and the value.
 */
export function intFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  variable: string,
  fallback: number,
  min: number,
  max: number,
): number {
  return settingsSchema("", { [variable]: int("", fallback, min, max) }).read(env, { devnet: false })[variable]!;
}
