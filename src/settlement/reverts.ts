/**
 * Reading the custom error out of a failed call, whichever contract on the
 * payment's path raised it (the settlement, a trust account, the token or the
 * reserve ledger), so that the agent can answer with a reason and decide
 * whether a step is refused for good or failed for now.
 */
import type { Interface, Result } from "ethers";

import { errorInterface, revertOf as decodeRevert } from "../chain/reverts.js";
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
export const PAYMENT_PATH_ERRORS: Interface = errorInterface([
  InterbankSettlement__factory.abi,
  TrustAccount__factory.abi,
  BankToken__factory.abi,
  ReserveLedger__factory.abi,
]);

/**
 * The revert inside `error`, if `error` is a revert (ethers' `CALL_EXCEPTION`
 * or a JSON-RPC error carrying revert data); `undefined` for anything else
 * (network, timeout, nonce trouble), which is worth retrying.
 */
export function revertOf(error: unknown): DecodedRevert | undefined {
  const revert = decodeRevert(error, PAYMENT_PATH_ERRORS);
  return revert === undefined ? undefined : { name: revert.name, args: revert.args, data: revert.data };
}
