/**
 * The custom errors on a payment's path (the settlement, a trust account, the
 * token, the reserve ledger), so that the agent can decode a revert from any
 * of them with the kit's `ContractRevertError`, answer with a reason, and
 * decide whether a step is refused for good or failed for now.
 */
import type { Interface } from "ethers";

import { contractRevertError, errorInterface, type ContractRevertError, type ErrorName } from "../chain/reverts.js";
import {
  BankToken__factory,
  IInterbankSettlement__factory,
  InterbankSettlement__factory,
  ReserveLedger__factory,
  TrustAccount__factory,
} from "../../typechain-types/index.js";

/** Every custom error of the contracts on a payment's path, in one interface. */
export const PAYMENT_PATH_ERRORS: Interface = errorInterface([
  InterbankSettlement__factory.abi,
  TrustAccount__factory.abi,
  BankToken__factory.abi,
  ReserveLedger__factory.abi,
]);

/** The name of one of the settlement's custom errors; a `case` on a renamed or dropped error stops the build. */
export type SettlementErrorName = ErrorName<typeof IInterbankSettlement__factory.abi>;

const SETTLEMENT_ERROR_NAMES: ReadonlySet<string> = new Set(
  IInterbankSettlement__factory.abi.flatMap((fragment) => (fragment.type === "error" ? [fragment.name] : [])),
);

/** The settlement's error in `revert`, or `undefined` when another contract (or none known) raised it. */
export function settlementErrorOf(revert: ContractRevertError): SettlementErrorName | undefined {
  return SETTLEMENT_ERROR_NAMES.has(revert.errorName) ? (revert.errorName as SettlementErrorName) : undefined;
}

/**
 * The revert inside `error`, decoded against the payment path's errors;
 * `undefined` when `error` is no revert (network, timeout, nonce trouble),
 * which is worth retrying.
 */
export function paymentRevertOf(error: unknown): ContractRevertError | undefined {
  return contractRevertError(error, PAYMENT_PATH_ERRORS);
}
