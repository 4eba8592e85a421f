// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IBillRegistry} from "../../bills/interfaces/IBillRegistry.sol";

/// @dev The two shipped definitions as data, the same as `deploy/_bills.ts` registers.
library BillDefinitions {
    bytes32 internal constant BILL_OF_EXCHANGE = "BILL_OF_EXCHANGE";
    bytes32 internal constant E_INVOICE = "E_INVOICE";

    // States.
    bytes32 internal constant ISSUED = "ISSUED";
    bytes32 internal constant ACCEPTANCE_REQUESTED = "ACCEPTANCE_REQUESTED";
    bytes32 internal constant ACCEPTED = "ACCEPTED";
    bytes32 internal constant DISCOUNT_OFFERED = "DISCOUNT_OFFERED";
    bytes32 internal constant PAYMENT_REQUESTED = "PAYMENT_REQUESTED";
    bytes32 internal constant PARTIALLY_PAID = "PARTIALLY_PAID";
    bytes32 internal constant PAID = "PAID";
    bytes32 internal constant OVERDUE = "OVERDUE";
    bytes32 internal constant DISHONOURED = "DISHONOURED";
    bytes32 internal constant IN_RECOURSE = "IN_RECOURSE";
    bytes32 internal constant RECOURSE_EXPIRED = "RECOURSE_EXPIRED";
    bytes32 internal constant CANCELLED = "CANCELLED";
    bytes32 internal constant DISPUTED = "DISPUTED";

    // Operations.
    bytes32 internal constant ISSUE = "ISSUE";
    bytes32 internal constant REQUEST_ACCEPTANCE = "REQUEST_ACCEPTANCE";
    bytes32 internal constant ACCEPT = "ACCEPT";
    bytes32 internal constant REJECT_ACCEPTANCE = "REJECT_ACCEPTANCE";
    bytes32 internal constant ENDORSE = "ENDORSE";
    bytes32 internal constant OFFER_DISCOUNT = "OFFER_DISCOUNT";
    bytes32 internal constant DISCOUNT = "DISCOUNT";
    bytes32 internal constant REQUEST_PAYMENT = "REQUEST_PAYMENT";
    bytes32 internal constant PAY = "PAY";
    bytes32 internal constant PAY_PARTIAL = "PAY_PARTIAL";
    bytes32 internal constant REJECT_PAYMENT = "REJECT_PAYMENT";
    bytes32 internal constant RECOURSE = "RECOURSE";
    bytes32 internal constant CANCEL = "CANCEL";
    bytes32 internal constant MARK_OVERDUE = "MARK_OVERDUE";
    bytes32 internal constant DISPUTE = "DISPUTE";
    bytes32 internal constant RESOLVE = "RESOLVE";

    IBillRegistry.Effect private constant _E_NONE = IBillRegistry.Effect.None;
    IBillRegistry.Effect private constant _E_PAY_FULL = IBillRegistry.Effect.PayFull;
    IBillRegistry.Effect private constant _E_PAY_PARTIAL = IBillRegistry.Effect.PayPartial;
    IBillRegistry.Party private constant _P_ANYONE = IBillRegistry.Party.Anyone;
    IBillRegistry.Party private constant _P_DRAWEE = IBillRegistry.Party.Drawee;
    IBillRegistry.Party private constant _P_DRAWER = IBillRegistry.Party.Drawer;
    IBillRegistry.Party private constant _P_HOLDER = IBillRegistry.Party.Holder;
    IBillRegistry.Timing private constant _T_AFTER_MATURITY = IBillRegistry.Timing.AfterMaturity;
    IBillRegistry.Timing private constant _T_AFTER_RECOURSE = IBillRegistry.Timing.AfterRecourse;
    IBillRegistry.Timing private constant _T_ANY = IBillRegistry.Timing.Any;
    IBillRegistry.Timing private constant _T_BEFORE_ACCEPTANCE = IBillRegistry.Timing.BeforeAcceptance;
    IBillRegistry.Timing private constant _T_BEFORE_MATURITY = IBillRegistry.Timing.BeforeMaturity;
    IBillRegistry.Timing private constant _T_BEFORE_RECOURSE = IBillRegistry.Timing.BeforeRecourse;

    // solhint-disable-next-line function-max-lines
    function billOfExchange() internal pure returns (bytes32[] memory states, IBillRegistry.Transition[] memory t) {
        states = new bytes32[](12);
        states[0] = ISSUED;
        states[1] = ACCEPTANCE_REQUESTED;
        states[2] = ACCEPTED;
        states[3] = DISCOUNT_OFFERED;
        states[4] = PAYMENT_REQUESTED;
        states[5] = PARTIALLY_PAID;
        states[6] = PAID;
        states[7] = OVERDUE;
        states[8] = DISHONOURED;
        states[9] = IN_RECOURSE;
        states[10] = RECOURSE_EXPIRED;
        states[11] = CANCELLED;
        t = new IBillRegistry.Transition[](30);
        t[0] = _t(0, ISSUE, ISSUED, _P_DRAWER, IBillRegistry.Effect.Issue, _T_ANY);
        t[1] = _t(ISSUED, REQUEST_ACCEPTANCE, ACCEPTANCE_REQUESTED, _P_HOLDER, _E_NONE, _T_BEFORE_ACCEPTANCE);
        t[2] = _t(ISSUED, CANCEL, CANCELLED, _P_DRAWER, _E_NONE, _T_ANY);
        t[3] = _t(ACCEPTANCE_REQUESTED, ACCEPT, ACCEPTED, _P_DRAWEE, _E_NONE, _T_BEFORE_ACCEPTANCE);
        t[4] = _t(ACCEPTANCE_REQUESTED, REJECT_ACCEPTANCE, DISHONOURED, _P_DRAWEE, _E_NONE, _T_ANY);
        t[5] = _t(ACCEPTANCE_REQUESTED, CANCEL, CANCELLED, _P_DRAWER, _E_NONE, _T_ANY);
        t[6] = _t(
            ACCEPTANCE_REQUESTED,
            MARK_OVERDUE,
            DISHONOURED,
            _P_ANYONE,
            _E_NONE,
            IBillRegistry.Timing.AfterAcceptance
        );
        t[7] = _t(ACCEPTED, ENDORSE, ACCEPTED, _P_HOLDER, IBillRegistry.Effect.Endorse, _T_BEFORE_MATURITY);
        t[8] = _t(
            ACCEPTED,
            OFFER_DISCOUNT,
            DISCOUNT_OFFERED,
            _P_HOLDER,
            IBillRegistry.Effect.OfferDiscount,
            _T_BEFORE_MATURITY
        );
        t[9] = _t(
            DISCOUNT_OFFERED,
            DISCOUNT,
            ACCEPTED,
            IBillRegistry.Party.Financier,
            IBillRegistry.Effect.Discount,
            _T_BEFORE_MATURITY
        );
        t[10] = _t(DISCOUNT_OFFERED, MARK_OVERDUE, OVERDUE, _P_ANYONE, _E_NONE, _T_AFTER_MATURITY);
        t[11] = _t(ACCEPTED, REQUEST_PAYMENT, PAYMENT_REQUESTED, _P_HOLDER, _E_NONE, _T_ANY);
        t[12] = _t(ACCEPTED, MARK_OVERDUE, OVERDUE, _P_ANYONE, _E_NONE, _T_AFTER_MATURITY);
        t[13] = _t(PAYMENT_REQUESTED, PAY, PAID, _P_DRAWEE, _E_PAY_FULL, _T_ANY);
        t[14] = _t(PAYMENT_REQUESTED, PAY_PARTIAL, PARTIALLY_PAID, _P_DRAWEE, _E_PAY_PARTIAL, _T_ANY);
        t[15] = _t(PAYMENT_REQUESTED, REJECT_PAYMENT, DISHONOURED, _P_DRAWEE, _E_NONE, _T_ANY);
        t[16] = _t(PAYMENT_REQUESTED, MARK_OVERDUE, OVERDUE, _P_ANYONE, _E_NONE, _T_AFTER_MATURITY);
        t[17] = _t(PARTIALLY_PAID, PAY, PAID, _P_DRAWEE, _E_PAY_FULL, _T_ANY);
        t[18] = _t(PARTIALLY_PAID, PAY_PARTIAL, PARTIALLY_PAID, _P_DRAWEE, _E_PAY_PARTIAL, _T_ANY);
        t[19] = _t(PARTIALLY_PAID, REJECT_PAYMENT, DISHONOURED, _P_DRAWEE, _E_NONE, _T_ANY);
        t[20] = _t(PARTIALLY_PAID, MARK_OVERDUE, OVERDUE, _P_ANYONE, _E_NONE, _T_AFTER_MATURITY);
        t[21] = _t(OVERDUE, PAY, PAID, _P_DRAWEE, _E_PAY_FULL, _T_ANY);
        t[22] = _t(OVERDUE, PAY_PARTIAL, OVERDUE, _P_DRAWEE, _E_PAY_PARTIAL, _T_ANY);
        t[23] = _t(OVERDUE, REJECT_PAYMENT, DISHONOURED, _P_DRAWEE, _E_NONE, _T_ANY);
        t[24] = _t(DISHONOURED, RECOURSE, IN_RECOURSE, _P_HOLDER, IBillRegistry.Effect.Recourse, _T_BEFORE_RECOURSE);
        t[25] = _t(DISHONOURED, MARK_OVERDUE, RECOURSE_EXPIRED, _P_ANYONE, _E_NONE, _T_AFTER_RECOURSE);
        t[26] = _t(IN_RECOURSE, PAY, PAID, _P_DRAWEE, _E_PAY_FULL, _T_ANY);
        t[27] = _t(IN_RECOURSE, PAY_PARTIAL, IN_RECOURSE, _P_DRAWEE, _E_PAY_PARTIAL, _T_ANY);
        t[28] = _t(IN_RECOURSE, RECOURSE, IN_RECOURSE, _P_HOLDER, IBillRegistry.Effect.Recourse, _T_BEFORE_RECOURSE);
        t[29] = _t(IN_RECOURSE, MARK_OVERDUE, RECOURSE_EXPIRED, _P_ANYONE, _E_NONE, _T_AFTER_RECOURSE);
    }

    function eInvoice() internal pure returns (bytes32[] memory states, IBillRegistry.Transition[] memory t) {
        states = new bytes32[](7);
        states[0] = ISSUED;
        states[1] = ACCEPTED;
        states[2] = DISPUTED;
        states[3] = PARTIALLY_PAID;
        states[4] = PAID;
        states[5] = OVERDUE;
        states[6] = CANCELLED;
        t = new IBillRegistry.Transition[](16);
        t[0] = _t(0, ISSUE, ISSUED, _P_DRAWER, IBillRegistry.Effect.Issue, _T_ANY);
        t[1] = _t(ISSUED, ACCEPT, ACCEPTED, _P_DRAWEE, _E_NONE, IBillRegistry.Timing.BeforeAcceptance);
        t[2] = _t(ISSUED, DISPUTE, DISPUTED, _P_DRAWEE, _E_NONE, _T_ANY);
        t[3] = _t(ISSUED, CANCEL, CANCELLED, _P_DRAWER, _E_NONE, _T_ANY);
        t[4] = _t(ISSUED, MARK_OVERDUE, OVERDUE, _P_ANYONE, _E_NONE, _T_AFTER_MATURITY);
        t[5] = _t(ACCEPTED, DISPUTE, DISPUTED, _P_DRAWEE, _E_NONE, _T_ANY);
        t[6] = _t(DISPUTED, RESOLVE, ACCEPTED, _P_DRAWER, _E_NONE, _T_ANY);
        t[7] = _t(DISPUTED, CANCEL, CANCELLED, _P_DRAWER, _E_NONE, _T_ANY);
        t[8] = _t(ACCEPTED, PAY, PAID, _P_DRAWEE, _E_PAY_FULL, _T_ANY);
        t[9] = _t(ACCEPTED, PAY_PARTIAL, PARTIALLY_PAID, _P_DRAWEE, _E_PAY_PARTIAL, _T_ANY);
        t[10] = _t(ACCEPTED, MARK_OVERDUE, OVERDUE, _P_ANYONE, _E_NONE, _T_AFTER_MATURITY);
        t[11] = _t(PARTIALLY_PAID, PAY, PAID, _P_DRAWEE, _E_PAY_FULL, _T_ANY);
        t[12] = _t(PARTIALLY_PAID, PAY_PARTIAL, PARTIALLY_PAID, _P_DRAWEE, _E_PAY_PARTIAL, _T_ANY);
        t[13] = _t(PARTIALLY_PAID, MARK_OVERDUE, OVERDUE, _P_ANYONE, _E_NONE, _T_AFTER_MATURITY);
        t[14] = _t(OVERDUE, PAY, PAID, _P_DRAWEE, _E_PAY_FULL, _T_ANY);
        t[15] = _t(OVERDUE, PAY_PARTIAL, OVERDUE, _P_DRAWEE, _E_PAY_PARTIAL, _T_ANY);
    }

    /// @dev Every operation either definition names.
    function operations() internal pure returns (bytes32[] memory ops) {
        ops = new bytes32[](16);
        ops[0] = ISSUE;
        ops[1] = REQUEST_ACCEPTANCE;
        ops[2] = ACCEPT;
        ops[3] = REJECT_ACCEPTANCE;
        ops[4] = ENDORSE;
        ops[5] = OFFER_DISCOUNT;
        ops[6] = DISCOUNT;
        ops[7] = REQUEST_PAYMENT;
        ops[8] = PAY;
        ops[9] = PAY_PARTIAL;
        ops[10] = REJECT_PAYMENT;
        ops[11] = RECOURSE;
        ops[12] = CANCEL;
        ops[13] = MARK_OVERDUE;
        ops[14] = DISPUTE;
        ops[15] = RESOLVE;
    }

    function _t(
        bytes32 from,
        bytes32 operation,
        bytes32 to,
        IBillRegistry.Party party,
        IBillRegistry.Effect effect,
        IBillRegistry.Timing timing
    ) private pure returns (IBillRegistry.Transition memory) {
        return IBillRegistry.Transition(from, operation, to, party, effect, timing);
    }
}
