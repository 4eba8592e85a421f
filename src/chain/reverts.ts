/**
 * Reading the custom error out of a failed call or transaction, whichever
 * contract raised it: the revert data is found wherever ethers or the node put
 * it (`data`, `error`, `info.error`, `revert`, `cause`, …) and decoded against
 * the errors of a set of ABIs (for the CLI, every deployed contract's).
 */
import { decodeBytes32String, ErrorFragment, Interface, type InterfaceAbi, type Result } from "ethers";

import { BankChainError } from "../errors.js";

export interface DecodedRevert {
  /** The custom error's name, or `""` when the revert carried no data the ABIs know. */
  readonly name: string;
  readonly args: Result | readonly unknown[];
  /** The error's parameter names, in order (empty when unknown). */
  readonly params: readonly string[];
  readonly data: string;
}

/**
 * The names of the custom errors in an ABI that TypeChain declares `as const`:
 * `ErrorName<typeof AccountLedger__factory.abi>`. A list of names typed with it
 * stops compiling when a contract renames or drops an error.
 */
export type ErrorName<A extends readonly unknown[]> =
  Extract<A[number], { readonly type: "error" }> extends { readonly name: infer N extends string } ? N : never;

/** `names`, checked at compile time against the errors of `abi` (`abi` is only read for its type). */
export function errorNames<const A extends readonly unknown[], const N extends ErrorName<A>>(
  _abi: A,
  names: readonly N[],
): ReadonlySet<string> & { has(name: string): name is N } {
  return new Set<string>(names) as unknown as ReadonlySet<string> & { has(name: string): name is N };
}

/**
 * The chain refused a transaction or a call with a custom error (or with no
 * data). `errorName` is the error's name (`""` when no ABI knew it), `args`
 * its arguments as people read them, `selector` its first four bytes.
 */
export class ContractRevertError extends BankChainError {
  readonly errorName: string;
  readonly args: readonly string[];
  readonly selector: string | null;
  constructor(revert: DecodedRevert, cause: unknown, enums: EnumNames = {}) {
    const args = [...revert.args].map((arg, i) => formatArg(arg, revert.params[i], enums));
    super(
      "CHAIN_REVERTED",
      `the chain refused the transaction: ${formatRevert(revert, enums)}`,
      { error: revert.name === "" ? null : revert.name, args, data: revert.data },
      { cause },
    );
    this.errorName = revert.name;
    this.args = args;
    this.selector = revert.data.length >= 10 ? revert.data.slice(0, 10) : null;
  }
}

/** Every custom error of `abis`, in one interface (the first fragment per selector wins). */
export function errorInterface(abis: Iterable<InterfaceAbi>): Interface {
  const seen = new Set<string>();
  const fragments: ErrorFragment[] = [];
  for (const abi of abis) {
    for (const fragment of new Interface(abi).fragments) {
      if (fragment instanceof ErrorFragment && !seen.has(fragment.selector)) {
        seen.add(fragment.selector);
        fragments.push(fragment);
      }
    }
  }
  return new Interface(fragments);
}

/**
 * The revert inside `error`, if `error` is a revert (ethers' `CALL_EXCEPTION`
 * or a JSON-RPC error carrying revert data), decoded against `errors`;
 * `undefined` for anything else (network, timeout, nonce trouble).
 */
export function revertOf(error: unknown, errors: Interface): DecodedRevert | undefined {
  const data = revertData(error, 0);
  if (data === undefined)
    return hasCode(error, "CALL_EXCEPTION") ? { name: "", args: [], params: [], data: "0x" } : undefined;
  try {
    const parsed = errors.parseError(data);
    if (parsed !== null) {
      return { name: parsed.name, args: parsed.args, params: parsed.fragment.inputs.map((p) => p.name), data };
    }
  } catch {
    // Not one of the known errors: fall through.
  }
  return { name: "", args: [], params: [], data };
}

/** Whether `error` (or one of its causes) carries code `code`. */
export function hasCode(error: unknown, code: string, depth = 0): boolean {
  if (depth > 6 || typeof error !== "object" || error === null) return false;
  if ((error as { code?: unknown }).code === code) return true;
  return hasCode((error as { cause?: unknown }).cause, code, depth + 1);
}

/** The first revert data found in `error` or its causes (`data`, `error`, `info`, `cause`, `revert`). */
export function revertData(error: unknown, depth = 0): string | undefined {
  if (depth > 8 || typeof error !== "object" || error === null) return undefined;
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

/**
 * Names of enum values, by the error parameter that carries them: a part
 * passes its own (the bill registry's `party` → `{ Drawer: 1, … }`), so an
 * argument prints as `Holder` rather than `4`.
 */
export type EnumNames = Readonly<Record<string, Readonly<Record<string, number>>>>;

/**
 * One argument for people: a `bytes32` short string (a state or an operation)
 * as its text, a bill enum as its name, anything else as its string form.
 */
export function formatArg(value: unknown, param = "", enums: EnumNames = {}): string {
  if (typeof value === "string" && /^0x[0-9a-fA-F]{64}$/.test(value)) return shortString(value) ?? value;
  const names = enums[param];
  if (names !== undefined && (typeof value === "bigint" || typeof value === "number")) {
    const name = Object.entries(names).find(([, n]) => BigInt(n) === BigInt(value))?.[0];
    if (name !== undefined) return name;
  }
  return String(value);
}

/** `value` as text if it is a right-padded upper-case short string (`ISSUED`, `PAY_PARTIAL`), else undefined. */
export function shortString(value: string): string | undefined {
  if (!value.endsWith("00000000")) return undefined;
  try {
    const text = decodeBytes32String(value);
    return /^[A-Z][A-Z0-9_]*$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/** `Name(arg, …)`, or the raw revert data when no ABI knew it. */
export function formatRevert(revert: DecodedRevert, enums: EnumNames = {}): string {
  if (revert.name === "") return revert.data === "0x" ? "a revert without data" : `unknown error ${revert.data}`;
  const args = [...revert.args].map((arg, i) => formatArg(arg, revert.params[i], enums));
  return `${revert.name}(${args.join(", ")})`;
}

/**
 * `error` as a `ContractRevertError` when it is a revert, decoded against the
 * custom errors of `abis` (its `cause` chain is searched for the revert data);
 * `undefined` for anything else (network, timeout, nonce), and for an error
 * that is already one of ours.
 */
export function decodeRevert(error: unknown, ...abis: InterfaceAbi[]): ContractRevertError | undefined {
  return contractRevertError(error, errorInterface(abis));
}

/** `decodeRevert` with a prepared interface (see `errorInterface`) and the part's enum names. */
export function contractRevertError(
  error: unknown,
  errors: Interface,
  enums: EnumNames = {},
): ContractRevertError | undefined {
  if (error instanceof BankChainError) return undefined;
  const revert = revertOf(error, errors);
  return revert === undefined ? undefined : new ContractRevertError(revert, error, enums);
}
