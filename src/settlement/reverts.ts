/**
 * Reading the custom error out of a failed call, whichever contract on the
 * payment's path raised it (the settlement, a trust account, the token or the
 * reserve ledger), so that the agent can answer with a reason and decide
 * whether a step is refused for good or failed for now.
 */
import { ErrorFragment, Interface, type Result } from "ethers";

import {
  BankToken__factory,
  InterbankSettlement__factory,
  ReserveLedger__factory,
  TrustAccount__factory,
} from "../../typechain-types/index.js";

export interface DecodedRevert {
  /** The custom error's name, or `""` when the revert carried no data the suite knows. */
  readonly name: string;
  readonly args: Result | readonly unknown[];
  readonly data: string;
}

/** Every custom error of the contracts on a payment's path, in one interface. */
export const PAYMENT_PATH_ERRORS: Interface = (() => {
  const seen = new Set<string>();
  const fragments: ErrorFragment[] = [];
  for (const abi of [
    InterbankSettlement__factory.abi,
    TrustAccount__factory.abi,
    BankToken__factory.abi,
    ReserveLedger__factory.abi,
  ]) {
    for (const fragment of new Interface(abi).fragments) {
      if (fragment instanceof ErrorFragment && !seen.has(fragment.selector)) {
        seen.add(fragment.selector);
        fragments.push(fragment);
      }
    }
  }
  return new Interface(fragments);
})();

/**
 * The revert inside `error`, if `error` is a revert (ethers' `CALL_EXCEPTION`
 * or a JSON-RPC error carrying revert data); `undefined` for anything else
 * (network, timeout, nonce trouble), which is worth retrying.
 */
export function revertOf(error: unknown): DecodedRevert | undefined {
  const data = revertData(error, 0);
  const isCallException = hasCode(error, "CALL_EXCEPTION");
  if (data === undefined) return isCallException ? { name: "", args: [], data: "0x" } : undefined;
  try {
    const parsed = PAYMENT_PATH_ERRORS.parseError(data);
    if (parsed !== null) return { name: parsed.name, args: parsed.args, data };
  } catch {
    // Not one of ours: fall through.
  }
  return { name: "", args: [], data };
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

/** The first revert data found in `error` or its causes (`data`, `error`, `info.error`, `cause`). */
function revertData(error: unknown, depth: number): string | undefined {
  if (depth > 6 || typeof error !== "object" || error === null) return undefined;
  const record = error as Record<string, unknown>;
  const data = record.data;
  if (typeof data === "string" && /^0x[0-9a-fA-F]{8}/.test(data)) return data;
  if (typeof data === "object" && data !== null) {
    const nested = revertData(data, depth + 1);
    if (nested !== undefined) return nested;
  }
  for (const key of ["error", "info", "cause", "revert"]) {
    const nested = revertData(record[key], depth + 1);
    if (nested !== undefined) return nested;
  }
  return undefined;
}
