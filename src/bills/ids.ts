/**
 * Bill ids (docs/bills.md, "Bill ids"). A bill id commits to its drawer: the
 * drawer's 20-byte address, then the drawer's own 12-byte serial. Only that
 * drawer may issue under it (`BillIdLib` in contracts/bills/interfaces/IBillRegistry.sol),
 * so nobody can take an id a drawer has announced before issuing the bill.
 */
import { concat, dataLength, dataSlice, getAddress, id as hashText, isHexString, randomBytes } from "ethers";

import { BankChainError } from "../errors.js";

/** A serial that is not 12 bytes. */
export class BillIdError extends BankChainError {}

/** The id of `drawer`'s bill `serial` (12 bytes), as lowercase hex. */
export function billIdOf(drawer: string, serial: Uint8Array | string): string {
  if (typeof serial === "string" ? !isHexString(serial, 12) : serial.length !== 12) {
    throw new BillIdError("BILL_ID_BAD_SERIAL", "a bill id's serial must be 12 bytes", {
      field: "serial",
      value: typeof serial === "string" ? serial : serial.length,
    });
  }
  return concat([getAddress(drawer), serial]).toLowerCase();
}

/** The id of `drawer`'s bill named `label`: its serial is the first 12 bytes of `keccak256(label)`. */
export function billIdOfLabel(drawer: string, label: string): string {
  return billIdOf(drawer, dataSlice(hashText(label), 0, 12));
}

/** A new id of `drawer`'s, with a random serial. */
export function randomBillId(drawer: string): string {
  return billIdOf(drawer, randomBytes(12));
}

/** The drawer a bill id (32 bytes) commits to: the only account that may issue it. */
export function drawerOfBillId(id: string): string {
  if (!isHexString(id, 32) || dataLength(id) !== 32) {
    throw new BillIdError("BILL_ID_BAD_ID", "a bill id must be 32 bytes", { field: "id", value: id });
  }
  return getAddress(dataSlice(id, 0, 20));
}
