import { BankChainError } from "../errors.js";

/** A service setting from the environment is malformed. */
export class SettingError extends BankChainError {}

/**
 * A whole-number setting from the environment: `fallback` when unset or
 * empty, otherwise a whole number in [min, max].
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
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new SettingError(
      "SETTING_INVALID",
      `${variable} must be a whole number from ${min} to ${max}, got "${raw}"`,
      {
        variable,
        value: raw,
      },
    );
  }
  return value;
}
