/**
 * What the console reads from a chain: views of the deployed contracts by
 * deployment name (their ABIs come from the deployment records, so nothing
 * generated is imported), the latest log of an event (the tx a figure links
 * to), and a receipt with its logs decoded against every deployed ABI.
 */
import { Contract, getAddress, Interface, isAddress, isHexString, type Log, type Provider } from "ethers";

import { BankChainError } from "../errors.js";
import type { Deployments } from "../chain/deployments.js";
import type { FigureSource } from "./html.js";

/** A chain view or receipt the console asked for cannot be read. */
export class ConsoleChainError extends BankChainError {}

/** One chain the console reads: the services' own, or an interop peer. */
export interface ConsoleChainInput {
  readonly provider: Provider;
  readonly chainId: bigint;
  readonly deployments: Deployments;
}

/** An argument of a view, written into `data-source` as it is. */
export type ViewArg = string | number | bigint;

/** A view's value with the source a figure carries. */
export interface ViewValue<T = unknown> {
  readonly value: T;
  readonly source: FigureSource;
}

/** A decoded log of a receipt. */
export interface DecodedLog {
  readonly index: number;
  readonly address: string;
  /** The deployment name, or undefined for a contract the deployments do not name. */
  readonly contract: string | undefined;
  /** The event's name and arguments, or undefined when no deployed ABI knows the log. */
  readonly event: { readonly name: string; readonly args: readonly { name: string; value: string }[] } | undefined;
  readonly topics: readonly string[];
  readonly data: string;
}

/** A transaction's receipt as the tx page shows it. */
export interface DecodedReceipt {
  readonly hash: string;
  readonly blockNumber: number;
  readonly status: number | null;
  readonly from: string;
  readonly to: string | null;
  readonly toContract: string | undefined;
  readonly gasUsed: bigint;
  readonly logs: readonly DecodedLog[];
}

/** Reads one chain through its deployment records. */
export class ChainReader {
  readonly provider: Provider;
  readonly chainId: bigint;
  readonly deployments: Deployments;
  readonly #byAddress: ReadonlyMap<string, string>;

  constructor(input: ConsoleChainInput) {
    this.provider = input.provider;
    this.chainId = input.chainId;
    this.deployments = input.deployments;
    this.#byAddress = new Map([...input.deployments.contracts].map(([name, r]) => [r.address.toLowerCase(), name]));
  }

  /** Whether `name` is deployed on this chain. */
  has(name: string): boolean {
    return this.deployments.contracts.has(name);
  }

  /** The address of deployment `name`. */
  address(name: string): string {
    return getAddress(this.deployments.get(name).address);
  }

  /** The deployment name of `address`, if any. */
  nameOf(address: string): string | undefined {
    return this.#byAddress.get(address.toLowerCase());
  }

  /** A contract of the deployments, for reads (and, with a signer, the console's two actions). */
  contract(name: string): Contract {
    const record = this.deployments.get(name);
    return new Contract(record.address, record.abi, this.provider);
  }

  /**
   * `name.fn(args)` at `block`, with the figure source `chain:<id>:<name>.<fn>(<args>)` (and `[i]` when `index`
   * picks one value of a tuple).
   */
  async view<T = unknown>(
    name: string,
    fn: string,
    args: readonly ViewArg[],
    block: number,
    index?: number,
  ): Promise<ViewValue<T>> {
    const result = (await this.contract(name)
      .getFunction(fn)
      .staticCall(...args, { blockTag: block })) as unknown;
    const value = index === undefined ? result : (result as readonly unknown[])[index];
    const call = `${name}.${fn}(${args.map(String).join(",")})${index === undefined ? "" : `[${index}]`}`;
    return { value: value as T, source: { chainId: this.chainId, call, block } };
  }

  /** The newest log of `name`'s `event` matching `filter` (indexed arguments, null for any), up to `block`. */
  async latestLog(
    name: string,
    event: string,
    filter: readonly (string | null)[],
    block: number,
  ): Promise<Log | undefined> {
    if (!this.has(name)) return undefined;
    const contract = this.contract(name);
    const from = this.deployments.get(name).blockNumber ?? 0;
    const logs = await contract.queryFilter(contract.filters[event]!(...filter), from, block);
    return logs.at(-1);
  }

  /** The receipt of `hash` with its logs decoded, or undefined when the chain has no such transaction. */
  async receipt(hash: string): Promise<DecodedReceipt | undefined> {
    if (!isHexString(hash, 32)) {
      throw new ConsoleChainError("CONSOLE_BAD_TX_HASH", `not a transaction hash: ${hash}`, { hash });
    }
    const receipt = await this.provider.getTransactionReceipt(hash);
    if (receipt === null) return undefined;
    return {
      hash: receipt.hash,
      blockNumber: receipt.blockNumber,
      status: receipt.status,
      from: receipt.from,
      to: receipt.to,
      toContract: receipt.to === null ? undefined : this.nameOf(receipt.to),
      gasUsed: receipt.gasUsed,
      logs: receipt.logs.map((log) => this.#decode(log)),
    };
  }

  #decode(log: Log): DecodedLog {
    const contract = this.nameOf(log.address);
    // The emitting contract's ABI first, then every other deployed ABI (a library or a proxy's implementation).
    const records = [...this.deployments.contracts.values()];
    const ordered =
      contract === undefined
        ? records
        : [this.deployments.get(contract), ...records.filter((r) => r.name !== contract)];
    let event: DecodedLog["event"];
    for (const record of ordered) {
      let parsed;
      try {
        parsed = new Interface(record.abi).parseLog({ topics: [...log.topics], data: log.data });
      } catch {
        parsed = null;
      }
      if (parsed !== null) {
        event = {
          name: parsed.name,
          args: parsed.fragment.inputs.map((input, i) => ({
            name: input.name || `arg${i}`,
            value: show(parsed.args[i]),
          })),
        };
        break;
      }
    }
    return { index: log.index, address: log.address, contract, event, topics: log.topics, data: log.data };
  }
}

/** A decoded value as text: numbers in decimal, tuples and arrays in brackets. */
export function show(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return `[${value.map(show).join(", ")}]`;
  if (value !== null && typeof value === "object" && typeof (value as { toArray?: unknown }).toArray === "function") {
    return `[${((value as { toArray(): unknown[] }).toArray() as unknown[]).map(show).join(", ")}]`;
  }
  return String(value);
}

/** Checks and checksums an address from a request; undefined when it is not one. */
export function addressOrUndefined(text: string): string | undefined {
  return isAddress(text) && /^0x[0-9a-fA-F]{40}$/.test(text) ? getAddress(text) : undefined;
}
