/**
 * What every `bank-chain` command shares: the global options, the one way to
 * print a result (`output`: text, or the `{"ok":true,…}` envelope with
 * `--json`) and `withChain`, which opens the chosen chain and its deployments
 * and decodes any revert. The entry (`src/cli.ts`) and the part CLIs import
 * this module; none imports the entry, so there is no import cycle.
 */
import type { Command } from "@commander-js/extra-typings";
import { Wallet, type InterfaceAbi } from "ethers";

import { BankChainError } from "../errors.js";
import { openChain, type ChainConnection } from "./config.js";
import { deploymentsOf, type Deployments } from "./deployments.js";
import { contractRevertError, errorInterface, type EnumNames } from "./reverts.js";

/** A command needs the contracts' build (`typechain-types/`, `generated/`, `artifacts/`), which is missing. */
export class BuildMissingError extends BankChainError {}

/**
 * The options every command takes, as the program (`src/cli.ts`) declares them: the chain
 * (`--network`/`--rpc`, a `ChainSelection`) and `--json`. A type literal, not an interface, so it
 * satisfies commander's `OptionValues` (a record).
 */
export type GlobalOptions = {
  readonly network?: string | undefined;
  readonly rpc?: string | undefined;
  readonly json: boolean;
};

/**
 * The `bank-chain` program: a command whose own options are the global ones.
 * `src/cli.ts` builds it and the compiler checks that what it declares is this.
 */
export type Program = Command<[], GlobalOptions>;

/**
 * A subcommand group of the program (`bills`, `offline`, `iso8583`): the
 * commands added to it infer their own options and arguments from their
 * `.option()`/`.argument()` calls, and `optsWithGlobals()` adds these.
 */
export type CommandGroup = Command<[], {}, GlobalOptions>;

/** Writes a command's result as JSON or as `key: value` lines. */
export function output(options: GlobalOptions, value: Record<string, unknown>, text: () => string): void {
  process.stdout.write(options.json ? `${JSON.stringify({ ok: true, ...value }, jsonReplacer)}\n` : `${text()}\n`);
}

/** JSON.stringify replacer: bigints as decimal strings. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/**
 * Opens the chain the global options name and its deployments (for `--rpc`,
 * the deployments made on the chain id the node answers), runs `fn`, closes
 * the chain. A revert out of `fn` becomes a `ContractRevertError` naming the
 * custom error and its arguments, decoded against the ABIs of every deployed
 * contract and `abis`, its enum arguments named by `enums`.
 */
export async function withChain<T>(
  options: GlobalOptions,
  fn: (chain: ChainConnection, deployments: Deployments) => Promise<T>,
  abis: readonly InterfaceAbi[] = [],
  enums: EnumNames = {},
): Promise<T> {
  const chain = await openChain({ rpc: options.rpc, network: options.network });
  try {
    const deployments = deploymentsOf(chain);
    try {
      return await fn(chain, deployments);
    } catch (error) {
      const known = [...[...deployments.contracts.values()].map((record) => record.abi), ...abis];
      throw contractRevertError(error, errorInterface(known), enums) ?? error;
    }
  } finally {
    await chain.close();
  }
}

/** `key: value` lines, the values aligned. */
export function lines(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map(([key]) => key.length)) + 1;
  return rows.map(([key, value]) => `${`${key}:`.padEnd(width)} ${value}`).join("\n");
}

/**
 * The wallet whose private key is in environment variable `name` (keys never come from a flag); the key itself
 * never appears in an error. A missing or bad key is a `errorClass` with code `<prefix>_NO_KEY`/`<prefix>_BAD_KEY`.
 */
export function walletFromEnv(
  name: string,
  errorClass: new (code: string, message: string, details: Record<string, unknown>) => BankChainError,
  prefix: string,
): Wallet {
  const key = process.env[name];
  if (key === undefined || key.trim() === "") {
    throw new errorClass(`${prefix}_NO_KEY`, `environment variable ${name} holds no private key`, { variable: name });
  }
  try {
    return new Wallet(key.trim());
  } catch {
    throw new errorClass(`${prefix}_BAD_KEY`, `environment variable ${name} is not a valid private key`, {
      variable: name,
    });
  }
}

/** Progress events on `stream` (stderr): a JSON line each with `--json`, else `<event>: key=value …`. */
export const logTo =
  (stream: NodeJS.WriteStream, json: boolean) =>
  (event: string, details: Record<string, unknown>): void => {
    const text = (value: unknown): string => JSON.stringify(value, jsonReplacer);
    if (json) {
      stream.write(`${text({ event, ...details })}\n`);
      return;
    }
    // A field left undefined is not shown (as JSON leaves it out), rather than printed as `key=undefined`.
    const fields = Object.entries(details)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${typeof value === "object" && value !== null ? text(value) : String(value)}`);
    stream.write(`${[`${event}:`, ...fields].join(" ")}\n`);
  };
