/**
 * The two shipped bill definitions as data (the same as
 * contracts/test/utils/BillDefinitions.sol): states, and transitions
 * `(from, operation) -> to` with the party allowed, the effect kind and the
 * timing against the bill's deadlines. Names are `bytes32` short strings.
 */
import { encodeBytes32String, ZeroHash } from "ethers";

import { Effect, Party, Timing } from "../src/bills/enums.js";

export interface TransitionData {
  readonly from: string;
  readonly operation: string;
  readonly to: string;
  readonly party: number;
  readonly effect: number;
  readonly timing: number;
}

export interface BillDefinitionData {
  readonly name: string;
  readonly version: number;
  readonly states: readonly string[];
  readonly transitions: readonly TransitionData[];
}

const b = (s: string): string => (s === "" ? ZeroHash : encodeBytes32String(s));

type Row = readonly [from: string, operation: string, to: string, party: number, effect: number, timing: number];

function definition(
  name: string,
  version: number,
  states: readonly string[],
  rows: readonly Row[],
): BillDefinitionData {
  return {
    name: b(name),
    version,
    states: states.map(b),
    transitions: rows.map(([from, operation, to, party, effect, timing]) => ({
      from: b(from),
      operation: b(operation),
      to: b(to),
      party,
      effect,
      timing,
    })),
  };
}

const { Drawer, Drawee, Holder, Financier, Anyone } = Party;
const { None, Issue, Endorse, OfferDiscount, Discount, PayPartial, PayFull, Recourse } = Effect;
const { Any, BeforeAcceptance, AfterAcceptance, BeforeMaturity, AfterMaturity, BeforeRecourse, AfterRecourse } = Timing;

export const BILL_OF_EXCHANGE = definition(
  "BILL_OF_EXCHANGE",
  1,
  [
    "ISSUED",
    "ACCEPTANCE_REQUESTED",
    "ACCEPTED",
    "DISCOUNT_OFFERED",
    "PAYMENT_REQUESTED",
    "PARTIALLY_PAID",
    "PAID",
    "OVERDUE",
    "DISHONOURED",
    "IN_RECOURSE",
    "RECOURSE_EXPIRED",
    "CANCELLED",
  ],
  [
    ["", "ISSUE", "ISSUED", Drawer, Issue, Any],
    ["ISSUED", "REQUEST_ACCEPTANCE", "ACCEPTANCE_REQUESTED", Holder, None, BeforeAcceptance],
    ["ISSUED", "CANCEL", "CANCELLED", Drawer, None, Any],
    ["ACCEPTANCE_REQUESTED", "ACCEPT", "ACCEPTED", Drawee, None, BeforeAcceptance],
    ["ACCEPTANCE_REQUESTED", "REJECT_ACCEPTANCE", "DISHONOURED", Drawee, None, Any],
    ["ACCEPTANCE_REQUESTED", "CANCEL", "CANCELLED", Drawer, None, Any],
    ["ACCEPTANCE_REQUESTED", "MARK_OVERDUE", "DISHONOURED", Anyone, None, AfterAcceptance],
    ["ACCEPTED", "ENDORSE", "ACCEPTED", Holder, Endorse, BeforeMaturity],
    ["ACCEPTED", "OFFER_DISCOUNT", "DISCOUNT_OFFERED", Holder, OfferDiscount, BeforeMaturity],
    ["DISCOUNT_OFFERED", "DISCOUNT", "ACCEPTED", Financier, Discount, BeforeMaturity],
    ["DISCOUNT_OFFERED", "MARK_OVERDUE", "OVERDUE", Anyone, None, AfterMaturity],
    ["ACCEPTED", "REQUEST_PAYMENT", "PAYMENT_REQUESTED", Holder, None, Any],
    ["ACCEPTED", "MARK_OVERDUE", "OVERDUE", Anyone, None, AfterMaturity],
    ["PAYMENT_REQUESTED", "PAY", "PAID", Drawee, PayFull, Any],
    ["PAYMENT_REQUESTED", "PAY_PARTIAL", "PARTIALLY_PAID", Drawee, PayPartial, Any],
    ["PAYMENT_REQUESTED", "REJECT_PAYMENT", "DISHONOURED", Drawee, None, Any],
    ["PAYMENT_REQUESTED", "MARK_OVERDUE", "OVERDUE", Anyone, None, AfterMaturity],
    ["PARTIALLY_PAID", "PAY", "PAID", Drawee, PayFull, Any],
    ["PARTIALLY_PAID", "PAY_PARTIAL", "PARTIALLY_PAID", Drawee, PayPartial, Any],
    ["PARTIALLY_PAID", "REJECT_PAYMENT", "DISHONOURED", Drawee, None, Any],
    ["PARTIALLY_PAID", "MARK_OVERDUE", "OVERDUE", Anyone, None, AfterMaturity],
    ["OVERDUE", "PAY", "PAID", Drawee, PayFull, Any],
    ["OVERDUE", "PAY_PARTIAL", "OVERDUE", Drawee, PayPartial, Any],
    ["OVERDUE", "REJECT_PAYMENT", "DISHONOURED", Drawee, None, Any],
    ["DISHONOURED", "RECOURSE", "IN_RECOURSE", Holder, Recourse, BeforeRecourse],
    ["DISHONOURED", "MARK_OVERDUE", "RECOURSE_EXPIRED", Anyone, None, AfterRecourse],
    ["IN_RECOURSE", "PAY", "PAID", Drawee, PayFull, Any],
    ["IN_RECOURSE", "PAY_PARTIAL", "IN_RECOURSE", Drawee, PayPartial, Any],
    ["IN_RECOURSE", "RECOURSE", "IN_RECOURSE", Holder, Recourse, BeforeRecourse],
    ["IN_RECOURSE", "MARK_OVERDUE", "RECOURSE_EXPIRED", Anyone, None, AfterRecourse],
  ],
);

export const E_INVOICE = definition(
  "E_INVOICE",
  1,
  ["ISSUED", "ACCEPTED", "DISPUTED", "PARTIALLY_PAID", "PAID", "OVERDUE", "CANCELLED"],
  [
    ["", "ISSUE", "ISSUED", Drawer, Issue, Any],
    ["ISSUED", "ACCEPT", "ACCEPTED", Drawee, None, BeforeAcceptance],
    ["ISSUED", "DISPUTE", "DISPUTED", Drawee, None, Any],
    ["ISSUED", "CANCEL", "CANCELLED", Drawer, None, Any],
    ["ISSUED", "MARK_OVERDUE", "OVERDUE", Anyone, None, AfterMaturity],
    ["ACCEPTED", "DISPUTE", "DISPUTED", Drawee, None, Any],
    ["DISPUTED", "RESOLVE", "ACCEPTED", Drawer, None, Any],
    ["DISPUTED", "CANCEL", "CANCELLED", Drawer, None, Any],
    ["ACCEPTED", "PAY", "PAID", Drawee, PayFull, Any],
    ["ACCEPTED", "PAY_PARTIAL", "PARTIALLY_PAID", Drawee, PayPartial, Any],
    ["ACCEPTED", "MARK_OVERDUE", "OVERDUE", Anyone, None, AfterMaturity],
    ["PARTIALLY_PAID", "PAY", "PAID", Drawee, PayFull, Any],
    ["PARTIALLY_PAID", "PAY_PARTIAL", "PARTIALLY_PAID", Drawee, PayPartial, Any],
    ["PARTIALLY_PAID", "MARK_OVERDUE", "OVERDUE", Anyone, None, AfterMaturity],
    ["OVERDUE", "PAY", "PAID", Drawee, PayFull, Any],
    ["OVERDUE", "PAY_PARTIAL", "OVERDUE", Drawee, PayPartial, Any],
  ],
);

export const BILL_DEFINITIONS = [BILL_OF_EXCHANGE, E_INVOICE] as const;
