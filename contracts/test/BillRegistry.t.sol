// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {BillRegistry} from "../bills/BillRegistry.sol";
import {BillId, BillIdLib, IBillRegistry} from "../bills/interfaces/IBillRegistry.sol";
import {IBankToken} from "../token/interfaces/IBankToken.sol";
import {BankFixture} from "./TrustAccount.t.sol";
import {BillDefinitions as D} from "./utils/BillDefinitions.sol";

/// @dev The real token (behind its proxy), ledger and a trust account, plus a `BillRegistry` with both shipped
///      definitions registered as `deploy/004_bills.ts` registers them. The drawee, the payee (the first endorser,
///      liable in recourse) and the financier hold tokens and have approved the registry.
abstract contract BillFixture is BankFixture {
    uint256 internal constant AMOUNT = 1_000_00;
    uint256 internal constant PART = 100_00;
    uint256 internal constant PRICE = 950_00;
    uint256 internal constant FUNDS = 100_000_00;
    bytes32 internal constant RECEIVE_TYPEHASH = keccak256(
        // solhint-disable-next-line max-line-length
        "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );

    BillRegistry internal registry;
    uint32 internal boe;
    uint32 internal inv;

    address internal definitionAdmin = makeAddr("definitionAdmin");
    address internal drawer = makeAddr("drawer");
    address internal drawee;
    uint256 internal draweeKey;
    address internal payee = makeAddr("payee");
    address internal endorsee = makeAddr("endorsee");
    address internal financier = makeAddr("financier");

    uint256 internal _ids;
    uint256 internal _fresh;

    /// @dev `_reach` has no path to `state`.
    error NoPath(bytes32 state);

    function _deployBills() internal {
        _deploySuite();
        (drawee, draweeKey) = makeAddrAndKey("drawee");
        registry = new BillRegistry(admin, ADMIN_DELAY, token);
        vm.startPrank(admin);
        registry.grantRole(registry.DEFINITION_ADMIN_ROLE(), definitionAdmin);
        vm.stopPrank();
        vm.startPrank(definitionAdmin);
        (bytes32[] memory s, IBillRegistry.Transition[] memory t) = D.billOfExchange();
        boe = registry.registerDefinition(D.BILL_OF_EXCHANGE, 1, s, t);
        (s, t) = D.eInvoice();
        inv = registry.registerDefinition(D.E_INVOICE, 1, s, t);
        vm.stopPrank();
        address[3] memory payers = [drawee, payee, financier];
        for (uint256 i = 0; i < payers.length; ++i) {
            _deposit(trust, payers[i], FUNDS, keccak256(abi.encode("fund", i)));
            vm.prank(payers[i]);
            token.approve(address(registry), type(uint256).max);
        }
    }

    function _terms() internal returns (IBillRegistry.BillTerms memory) {
        return
            IBillRegistry.BillTerms({
                id: BillIdLib.make(drawer, bytes12(keccak256(abi.encode("bill", ++_ids)))),
                drawee: drawee,
                payee: payee,
                amount: AMOUNT,
                acceptanceDeadline: uint40(block.timestamp + 1 days),
                maturity: uint40(block.timestamp + 30 days),
                recourseDeadline: uint40(block.timestamp + 60 days),
                documentHash: keccak256("document")
            });
    }

    function _issue(uint32 def) internal returns (BillId id) {
        IBillRegistry.BillTerms memory terms = _terms();
        vm.prank(drawer);
        registry.issue(def, D.ISSUE, terms);
        return terms.id;
    }

    /// @dev The actor and data that perform `op` on bill `id` as its definition wants; warps past the deadline of
    ///      an `After...` transition.
    function _prepare(BillId id, bytes32 op) internal returns (address actor, bytes memory data) {
        IBillRegistry.Bill memory b = registry.bill(id);
        IBillRegistry.Rule memory r = registry.rule(b.definitionId, b.state, op);
        IBillRegistry.Party p = r.party;
        if (p == IBillRegistry.Party.Drawer) actor = b.drawer;
        else if (p == IBillRegistry.Party.Drawee) actor = b.payer;
        else if (p == IBillRegistry.Party.Payee) actor = b.payee;
        else if (p == IBillRegistry.Party.Holder) actor = b.holder;
        else if (p == IBillRegistry.Party.Financier) actor = b.financier;
        else actor = stranger;
        IBillRegistry.Effect e = r.effect;
        if (e == IBillRegistry.Effect.Endorse)
            data = abi.encode(address(uint160(uint256(keccak256(abi.encode(++_fresh))))));
        else if (e == IBillRegistry.Effect.OfferDiscount) data = abi.encode(financier);
        else if (e == IBillRegistry.Effect.Discount) data = abi.encode(PRICE);
        else if (e == IBillRegistry.Effect.PayPartial) data = abi.encode(PART);
        else if (e == IBillRegistry.Effect.Recourse) data = abi.encode(uint256(0));
        IBillRegistry.Timing tm = r.timing;
        if (tm == IBillRegistry.Timing.AfterAcceptance) vm.warp(b.acceptanceDeadline + 1);
        else if (tm == IBillRegistry.Timing.AfterMaturity) vm.warp(b.maturity + 1);
        else if (tm == IBillRegistry.Timing.AfterRecourse) vm.warp(b.recourseDeadline + 1);
    }

    function _do(BillId id, bytes32 op) internal {
        (address actor, bytes memory data) = _prepare(id, op);
        vm.prank(actor);
        registry.execute(id, op, data);
    }

    function _doAs(BillId id, bytes32 op, address actor, bytes memory data) internal {
        vm.prank(actor);
        registry.execute(id, op, data);
    }

    /// @dev A new bill of definition `def` in state `state` (deadlines not passed unless the state needs it).
    function _reach(uint32 def, bytes32 state) internal returns (BillId id) {
        id = _issue(def);
        if (state == D.ISSUED) return id;
        if (def == inv) {
            if (state == D.DISPUTED || state == D.CANCELLED) {
                _do(id, state == D.DISPUTED ? D.DISPUTE : D.CANCEL);
                return id;
            }
            _do(id, D.ACCEPT);
            if (state == D.ACCEPTED) return id;
            if (state == D.PAID) _do(id, D.PAY);
            else if (state == D.PARTIALLY_PAID) _do(id, D.PAY_PARTIAL);
            else if (state == D.OVERDUE) _do(id, D.MARK_OVERDUE);
            else revert NoPath(state);
            return id;
        }
        if (state == D.CANCELLED) {
            _do(id, D.CANCEL);
            return id;
        }
        _do(id, D.REQUEST_ACCEPTANCE);
        if (state == D.ACCEPTANCE_REQUESTED) return id;
        _do(id, D.ACCEPT);
        if (state == D.ACCEPTED) return id;
        if (state == D.DISCOUNT_OFFERED) {
            _do(id, D.OFFER_DISCOUNT);
            return id;
        }
        if (state == D.OVERDUE) {
            _do(id, D.MARK_OVERDUE);
            return id;
        }
        _doAs(id, D.ENDORSE, payee, abi.encode(endorsee));
        _do(id, D.REQUEST_PAYMENT);
        if (state == D.PAYMENT_REQUESTED) return id;
        if (state == D.PAID) {
            _do(id, D.PAY);
            return id;
        }
        if (state == D.PARTIALLY_PAID) {
            _do(id, D.PAY_PARTIAL);
            return id;
        }
        _do(id, D.REJECT_PAYMENT);
        if (state == D.DISHONOURED) return id;
        if (state == D.IN_RECOURSE) _do(id, D.RECOURSE);
        else if (state == D.RECOURSE_EXPIRED) _do(id, D.MARK_OVERDUE);
        else revert NoPath(state);
    }

    function _definition(uint32 def) internal pure returns (bytes32[] memory s, IBillRegistry.Transition[] memory t) {
        return def == 1 ? D.billOfExchange() : D.eInvoice();
    }

    /// @dev Freezes `account` in the token, as compliance.
    function _freeze(address account) internal {
        address compliance = makeAddr("compliance");
        vm.startPrank(admin);
        IAccessControl(address(token)).grantRole(token.COMPLIANCE_ROLE(), compliance);
        vm.stopPrank();
        vm.prank(compliance);
        token.freeze(account);
    }
}

contract BillRegistryTest is BillFixture {
    function setUp() public {
        _deployBills();
    }

    // ─────────────────────────────────────── definitions ───────────────────────────────────────

    function test_registerDefinition_storesData() public view {
        assertEq(registry.definitionCount(), 2);
        assertEq(registry.definitionId(D.BILL_OF_EXCHANGE, 1), boe);
        assertEq(registry.definitionId(D.E_INVOICE, 1), inv);
        (bytes32 name, uint32 version, bytes32[] memory states) = registry.definition(boe);
        assertEq(name, D.BILL_OF_EXCHANGE);
        assertEq(version, 1);
        assertEq(states.length, 12);
        (, IBillRegistry.Transition[] memory t) = D.billOfExchange();
        for (uint256 i = 0; i < t.length; ++i) {
            IBillRegistry.Rule memory r = registry.rule(boe, t[i].from, t[i].operation);
            assertEq(r.to, t[i].to);
            assertEq(uint8(r.party), uint8(t[i].party));
            assertEq(uint8(r.effect), uint8(t[i].effect));
            assertEq(uint8(r.timing), uint8(t[i].timing));
        }
    }

    function test_registerDefinition_newVersion() public {
        (bytes32[] memory s, IBillRegistry.Transition[] memory t) = D.eInvoice();
        vm.expectEmit(address(registry));
        emit IBillRegistry.BillDefinitionRegistered(3, D.E_INVOICE, 2);
        vm.prank(definitionAdmin);
        assertEq(registry.registerDefinition(D.E_INVOICE, 2, s, t), 3);
    }

    function test_registerDefinition_revertsForNonAdmin() public {
        (bytes32[] memory s, IBillRegistry.Transition[] memory t) = D.eInvoice();
        bytes32 role = registry.DEFINITION_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        registry.registerDefinition(D.E_INVOICE, 2, s, t);
    }

    function test_registerDefinition_revertsWhenExists() public {
        (bytes32[] memory s, IBillRegistry.Transition[] memory t) = D.eInvoice();
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillDefinitionExists.selector, D.E_INVOICE, 1));
        vm.prank(definitionAdmin);
        registry.registerDefinition(D.E_INVOICE, 1, s, t);
    }

    function test_registerDefinition_revertsOnMalformed() public {
        (bytes32[] memory s, IBillRegistry.Transition[] memory t) = D.eInvoice();
        vm.startPrank(definitionAdmin);
        // Empty name.
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidDefinition.selector, 0));
        registry.registerDefinition(bytes32(0), 1, s, t);
        // Duplicate state.
        s[1] = s[0];
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidDefinition.selector, 1));
        registry.registerDefinition("X", 1, s, t);
        (s, ) = D.eInvoice();
        // Unknown target state.
        t[3].to = "NOWHERE";
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidDefinition.selector, 3));
        registry.registerDefinition("X", 1, s, t);
        (, t) = D.eInvoice();
        // Duplicate (from, operation).
        t[5].from = t[4].from;
        t[5].operation = t[4].operation;
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidDefinition.selector, 5));
        registry.registerDefinition("X", 1, s, t);
        (, t) = D.eInvoice();
        // `Anyone` without an `After...` timing.
        t[4].timing = IBillRegistry.Timing.Any;
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidDefinition.selector, 4));
        registry.registerDefinition("X", 1, s, t);
        (, t) = D.eInvoice();
        // Issuing transition without the `Issue` effect.
        t[0].effect = IBillRegistry.Effect.None;
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidDefinition.selector, 0));
        registry.registerDefinition("X", 1, s, t);
        // No issuing transition at all.
        IBillRegistry.Transition[] memory one = new IBillRegistry.Transition[](1);
        (, t) = D.eInvoice();
        one[0] = t[1];
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidDefinition.selector, 1));
        registry.registerDefinition("X", 1, s, one);
        vm.stopPrank();
        assertEq(registry.definitionCount(), 2);
    }

    function test_registerDefinition_customDefinitionWithPayeeParty() public {
        bytes32[] memory s = new bytes32[](2);
        s[0] = "OPEN";
        s[1] = "CLAIMED";
        IBillRegistry.Transition[] memory t = new IBillRegistry.Transition[](2);
        t[0] = IBillRegistry.Transition(
            0,
            D.ISSUE,
            "OPEN",
            IBillRegistry.Party.Drawer,
            IBillRegistry.Effect.Issue,
            IBillRegistry.Timing.Any
        );
        t[1] = IBillRegistry.Transition(
            "OPEN",
            "CLAIM",
            "CLAIMED",
            IBillRegistry.Party.Payee,
            IBillRegistry.Effect.None,
            IBillRegistry.Timing.BeforeMaturity
        );
        vm.prank(definitionAdmin);
        uint32 def = registry.registerDefinition("VOUCHER", 1, s, t);
        BillId id = _issue(def);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBillRegistry.BillUnauthorizedParty.selector,
                id,
                bytes32("CLAIM"),
                drawer,
                IBillRegistry.Party.Payee
            )
        );
        _doAs(id, "CLAIM", drawer, "");
        _doAs(id, "CLAIM", payee, "");
        assertEq(registry.stateOf(id), bytes32("CLAIMED"));
    }

    function test_definition_revertsWhenUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillUnknownDefinition.selector, 3));
        registry.definition(3);
    }

    // ─────────────────────────────────────────── issue ───────────────────────────────────────────

    function test_issue_recordsBill() public {
        IBillRegistry.BillTerms memory terms = _terms();
        vm.expectEmit(address(registry));
        emit IBillRegistry.BillStateChanged(terms.id, 0, D.ISSUED, D.ISSUE, drawer, keccak256(abi.encode(terms)));
        vm.expectEmit(address(registry));
        emit IBillRegistry.BillIssued(terms.id, boe, drawer, drawee, payee, AMOUNT);
        vm.prank(drawer);
        registry.issue(boe, D.ISSUE, terms);
        IBillRegistry.Bill memory b = registry.bill(terms.id);
        assertEq(b.state, D.ISSUED);
        assertEq(b.holder, payee);
        assertEq(b.payer, drawee);
        assertEq(b.amountDue, AMOUNT);
        assertEq(
            registry.rollingHash(terms.id),
            keccak256(abi.encode(bytes32(0), D.ISSUE, drawer, keccak256(abi.encode(terms))))
        );
    }

    function test_issue_revertsOnBadInput() public {
        IBillRegistry.BillTerms memory terms = _terms();
        vm.startPrank(drawer);
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillUnknownDefinition.selector, 9));
        registry.issue(9, D.ISSUE, terms);
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillUnknownDefinition.selector, 0));
        registry.issue(0, D.ISSUE, terms);
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidTransition.selector, terms.id, 0, D.PAY));
        registry.issue(boe, D.PAY, terms);
        terms.amount = 0;
        vm.expectRevert(IBillRegistry.BillInvalidTerms.selector);
        registry.issue(boe, D.ISSUE, terms);
        terms.amount = AMOUNT;
        terms.drawee = address(0);
        vm.expectRevert(IBillRegistry.BillInvalidTerms.selector);
        registry.issue(boe, D.ISSUE, terms);
        terms.drawee = drawee;
        terms.recourseDeadline = terms.maturity - 1;
        vm.expectRevert(IBillRegistry.BillInvalidTerms.selector);
        registry.issue(boe, D.ISSUE, terms);
        terms.recourseDeadline = terms.maturity;
        registry.issue(boe, D.ISSUE, terms);
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidId.selector, terms.id));
        registry.issue(boe, D.ISSUE, terms);
        terms.id = BillId.wrap(0);
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillIdOfAnotherDrawer.selector, terms.id, drawer));
        registry.issue(boe, D.ISSUE, terms);
        vm.stopPrank();
    }

    // ─────────────────────────────────── every transition ───────────────────────────────────

    function test_execute_everyTransition_billOfExchange() public {
        _everyTransition(boe);
    }

    function test_execute_everyTransition_eInvoice() public {
        _everyTransition(inv);
    }

    function _everyTransition(uint32 def) internal {
        (, IBillRegistry.Transition[] memory t) = _definition(def);
        for (uint256 i = 1; i < t.length; ++i) {
            BillId id = _reach(def, t[i].from);
            assertEq(registry.stateOf(id), t[i].from);
            (address actor, bytes memory data) = _prepare(id, t[i].operation);
            bytes32 before = registry.rollingHash(id);
            vm.expectEmit(address(registry));
            emit IBillRegistry.BillStateChanged(id, t[i].from, t[i].to, t[i].operation, actor, keccak256(data));
            vm.prank(actor);
            registry.execute(id, t[i].operation, data);
            assertEq(registry.stateOf(id), t[i].to);
            assertEq(registry.bill(id).state, t[i].to);
            assertEq(registry.rollingHash(id), keccak256(abi.encode(before, t[i].operation, actor, keccak256(data))));
            assertEq(token.balanceOf(address(registry)), 0);
        }
    }

    function test_execute_everyRejectedTransition_billOfExchange() public {
        _everyRejected(boe);
    }

    function test_execute_everyRejectedTransition_eInvoice() public {
        _everyRejected(inv);
    }

    function _everyRejected(uint32 def) internal {
        (bytes32[] memory states, ) = _definition(def);
        bytes32[] memory ops = D.operations();
        uint256 rejected;
        for (uint256 i = 0; i < states.length; ++i) {
            BillId id = _reach(def, states[i]);
            assertEq(registry.stateOf(id), states[i]);
            for (uint256 j = 0; j < ops.length; ++j) {
                if (registry.rule(def, states[i], ops[j]).to != bytes32(0)) continue;
                vm.expectRevert(
                    abi.encodeWithSelector(IBillRegistry.BillInvalidTransition.selector, id, states[i], ops[j])
                );
                vm.prank(stranger);
                registry.execute(id, ops[j], "");
                ++rejected;
            }
        }
        assertGt(rejected, 0);
    }

    function test_execute_everyWrongParty() public {
        for (uint32 def = 1; def <= 2; ++def) {
            (, IBillRegistry.Transition[] memory t) = _definition(def);
            for (uint256 i = 1; i < t.length; ++i) {
                if (t[i].party == IBillRegistry.Party.Anyone) continue;
                BillId id = _reach(def, t[i].from);
                vm.expectRevert(
                    abi.encodeWithSelector(
                        IBillRegistry.BillUnauthorizedParty.selector,
                        id,
                        t[i].operation,
                        stranger,
                        t[i].party
                    )
                );
                vm.prank(stranger);
                registry.execute(id, t[i].operation, "");
            }
        }
    }

    function test_execute_revertsForUnknownBill() public {
        BillId id = BillId.wrap(keccak256("nope"));
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillUnknownBill.selector, id));
        registry.execute(id, D.PAY, "");
    }

    // ─────────────────────────────────────────── deadlines ───────────────────────────────────────────

    function test_stateOf_derivesOverdueWithoutTransaction() public {
        BillId id = _reach(boe, D.ACCEPTED);
        IBillRegistry.Bill memory b = registry.bill(id);
        vm.warp(b.maturity);
        assertEq(registry.stateOf(id), D.ACCEPTED);
        vm.warp(b.maturity + 1);
        assertEq(registry.stateOf(id), D.OVERDUE);
        assertEq(registry.bill(id).state, D.ACCEPTED);
        assertEq(registry.stateOf(BillId.wrap(keccak256("nope"))), bytes32(0));
    }

    function test_markOverdue_byAnyone() public {
        BillId id = _reach(inv, D.ACCEPTED);
        vm.warp(registry.bill(id).maturity + 1);
        vm.expectEmit(address(registry));
        emit IBillRegistry.BillStateChanged(id, D.ACCEPTED, D.OVERDUE, D.MARK_OVERDUE, stranger, keccak256(""));
        vm.prank(stranger);
        registry.execute(id, D.MARK_OVERDUE, "");
        assertEq(registry.bill(id).state, D.OVERDUE);
    }

    function test_markOverdue_revertsBeforeDeadline() public {
        BillId id = _reach(inv, D.ACCEPTED);
        uint256 maturity = registry.bill(id).maturity;
        vm.warp(maturity);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBillRegistry.BillDeadlineNotReached.selector,
                id,
                D.MARK_OVERDUE,
                maturity,
                maturity
            )
        );
        vm.prank(stranger);
        registry.execute(id, D.MARK_OVERDUE, "");
    }

    function test_markOverdue_revertsWithoutMaturity() public {
        IBillRegistry.BillTerms memory terms = _terms();
        terms.maturity = 0;
        terms.acceptanceDeadline = 0;
        terms.recourseDeadline = 0;
        vm.prank(drawer);
        registry.issue(inv, D.ISSUE, terms);
        vm.warp(block.timestamp + 3650 days);
        assertEq(registry.stateOf(terms.id), D.ISSUED);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBillRegistry.BillDeadlineNotReached.selector,
                terms.id,
                D.MARK_OVERDUE,
                0,
                block.timestamp
            )
        );
        registry.execute(terms.id, D.MARK_OVERDUE, "");
    }

    function test_execute_recordsDueDeadlineFirst() public {
        BillId id = _reach(inv, D.ACCEPTED);
        vm.warp(registry.bill(id).maturity + 1);
        vm.expectEmit(address(registry));
        emit IBillRegistry.BillStateChanged(id, D.ACCEPTED, D.OVERDUE, D.MARK_OVERDUE, drawee, keccak256(""));
        vm.expectEmit(address(registry));
        emit IBillRegistry.BillStateChanged(id, D.OVERDUE, D.PAID, D.PAY, drawee, keccak256(""));
        _doAs(id, D.PAY, drawee, "");
        assertEq(registry.stateOf(id), D.PAID);
    }

    function test_execute_revertsAfterBeforeDeadline() public {
        BillId id = _reach(boe, D.ISSUED);
        uint256 deadline = registry.bill(id).acceptanceDeadline;
        vm.warp(deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBillRegistry.BillDeadlinePassed.selector,
                id,
                D.REQUEST_ACCEPTANCE,
                deadline,
                deadline + 1
            )
        );
        _doAs(id, D.REQUEST_ACCEPTANCE, payee, "");
    }

    function test_execute_lateAcceptanceIsDishonour() public {
        BillId id = _reach(boe, D.ACCEPTANCE_REQUESTED);
        vm.warp(registry.bill(id).acceptanceDeadline + 1);
        assertEq(registry.stateOf(id), D.DISHONOURED);
        vm.expectRevert(
            abi.encodeWithSelector(IBillRegistry.BillInvalidTransition.selector, id, D.DISHONOURED, D.ACCEPT)
        );
        _doAs(id, D.ACCEPT, drawee, "");
    }

    function test_stateOf_followsChainedDeadlines() public {
        BillId id = _reach(boe, D.ACCEPTANCE_REQUESTED);
        IBillRegistry.Bill memory b = registry.bill(id);
        vm.warp(b.recourseDeadline + 1);
        assertEq(registry.stateOf(id), D.RECOURSE_EXPIRED);
        vm.expectRevert(
            abi.encodeWithSelector(IBillRegistry.BillInvalidTransition.selector, id, D.RECOURSE_EXPIRED, D.ACCEPT)
        );
        _doAs(id, D.ACCEPT, drawee, "");
        // Recorded one deadline transition at a time by MARK_OVERDUE.
        vm.expectEmit(address(registry));
        emit IBillRegistry.BillStateChanged(
            id,
            D.ACCEPTANCE_REQUESTED,
            D.DISHONOURED,
            D.MARK_OVERDUE,
            stranger,
            keccak256("")
        );
        _doAs(id, D.MARK_OVERDUE, stranger, "");
        assertEq(registry.bill(id).state, D.DISHONOURED);
        _doAs(id, D.MARK_OVERDUE, stranger, "");
        assertEq(registry.bill(id).state, D.RECOURSE_EXPIRED);
        assertEq(registry.stateOf(id), D.RECOURSE_EXPIRED);
    }

    function test_execute_revertsAfterChainedDeadlines() public {
        BillId id = _reach(boe, D.ACCEPTANCE_REQUESTED);
        vm.warp(registry.bill(id).recourseDeadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IBillRegistry.BillInvalidTransition.selector, id, D.RECOURSE_EXPIRED, D.CANCEL)
        );
        _doAs(id, D.CANCEL, drawer, "");
    }

    // ─────────────────────────────────────────── payments ───────────────────────────────────────────

    function test_pay_partialPaymentsAccumulate() public {
        BillId id = _reach(boe, D.PAYMENT_REQUESTED);
        address holder = registry.bill(id).holder;
        vm.expectEmit(address(registry));
        emit IBillRegistry.BillPaid(id, drawee, holder, 300_00, 300_00);
        _doAs(id, D.PAY_PARTIAL, drawee, abi.encode(uint256(300_00)));
        _doAs(id, D.PAY_PARTIAL, drawee, abi.encode(uint256(600_00)));
        assertEq(registry.stateOf(id), D.PARTIALLY_PAID);
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidPaymentAmount.selector, id, 100_00, 100_00));
        _doAs(id, D.PAY_PARTIAL, drawee, abi.encode(uint256(100_00)));
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidPaymentAmount.selector, id, 500_00, 100_00));
        _doAs(id, D.PAY_PARTIAL, drawee, abi.encode(uint256(500_00)));
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidPaymentAmount.selector, id, 0, 100_00));
        _doAs(id, D.PAY_PARTIAL, drawee, abi.encode(uint256(0)));
        vm.expectEmit(address(registry));
        emit IBillRegistry.BillPaid(id, drawee, holder, 100_00, AMOUNT);
        _doAs(id, D.PAY, drawee, "");
        assertEq(registry.stateOf(id), D.PAID);
        assertEq(registry.bill(id).amountPaid, AMOUNT);
        assertEq(token.balanceOf(holder), AMOUNT);
        assertEq(token.balanceOf(drawee), FUNDS - AMOUNT);
        assertEq(token.balanceOf(address(registry)), 0);
    }

    function test_pay_revertsWithoutAllowance() public {
        BillId id = _reach(inv, D.ACCEPTED);
        vm.prank(drawee);
        token.approve(address(registry), 0);
        vm.expectRevert(
            abi.encodeWithSelector(IBankToken.BankTokenInsufficientAllowance.selector, address(registry), 0, AMOUNT)
        );
        _doAs(id, D.PAY, drawee, "");
        assertEq(registry.stateOf(id), D.ACCEPTED);
        assertEq(registry.bill(id).amountPaid, 0);
    }

    function _permitSig(uint256 value, uint256 deadline) internal view returns (bytes memory) {
        bytes32 permitTypehash = keccak256(
            "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
        );
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                token.DOMAIN_SEPARATOR(),
                keccak256(abi.encode(permitTypehash, drawee, address(registry), value, token.nonces(drawee), deadline))
            )
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(draweeKey, digest);
        return abi.encodePacked(r, s, v);
    }

    function test_executeWithPermit_paysInOneTransaction() public {
        BillId id = _reach(inv, D.ACCEPTED);
        vm.prank(drawee);
        token.approve(address(registry), 0);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _permitSig(AMOUNT, deadline);
        vm.expectEmit(address(registry));
        emit IBillRegistry.BillPaid(id, drawee, payee, AMOUNT, AMOUNT);
        vm.prank(drawee);
        registry.executeWithPermit(id, D.PAY, "", AMOUNT, deadline, sig);
        assertEq(registry.stateOf(id), D.PAID);
        assertEq(token.balanceOf(payee), FUNDS + AMOUNT);
        assertEq(token.allowance(drawee, address(registry)), 0);
    }

    function test_executeWithPermit_frontRunPermitStillPays() public {
        BillId id = _reach(inv, D.ACCEPTED);
        vm.prank(drawee);
        token.approve(address(registry), 0);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _permitSig(PART, deadline);
        // Someone submits the permit first: the signature is spent, the allowance is there.
        token.permit(drawee, address(registry), PART, deadline, sig);
        vm.prank(drawee);
        registry.executeWithPermit(id, D.PAY_PARTIAL, abi.encode(PART), PART, deadline, sig);
        assertEq(registry.bill(id).amountPaid, PART);
    }

    function test_executeWithPermit_revertsWithoutAValidPermitOrAllowance() public {
        BillId id = _reach(inv, D.ACCEPTED);
        vm.prank(drawee);
        token.approve(address(registry), 0);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _permitSig(PART, deadline); // signed for less than the payment
        vm.expectRevert(
            abi.encodeWithSelector(IBankToken.BankTokenInsufficientAllowance.selector, address(registry), 0, AMOUNT)
        );
        vm.prank(drawee);
        registry.executeWithPermit(id, D.PAY, "", AMOUNT, deadline, sig);
        assertEq(registry.stateOf(id), D.ACCEPTED);
        assertEq(registry.bill(id).amountPaid, 0);
        assertEq(token.nonces(drawee), 0);
    }

    function test_execute_revertsOnBadData() public {
        BillId id = _reach(inv, D.ACCEPTED);
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidOperationData.selector, id, D.PAY));
        _doAs(id, D.PAY, drawee, abi.encode(uint256(1)));
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidOperationData.selector, id, D.PAY_PARTIAL));
        _doAs(id, D.PAY_PARTIAL, drawee, "");
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidOperationData.selector, id, D.DISPUTE));
        _doAs(id, D.DISPUTE, drawee, "x");
        BillId b = _reach(boe, D.ACCEPTED);
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidOperationData.selector, b, D.ENDORSE));
        _doAs(b, D.ENDORSE, payee, abi.encode(address(0)));
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidOperationData.selector, b, D.ENDORSE));
        _doAs(b, D.ENDORSE, payee, "");
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidOperationData.selector, b, D.ENDORSE));
        _doAs(b, D.ENDORSE, payee, abi.encode(payee));
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidOperationData.selector, b, D.ENDORSE));
        _doAs(b, D.ENDORSE, payee, abi.encode(type(uint256).max));
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidOperationData.selector, b, D.OFFER_DISCOUNT));
        _doAs(b, D.OFFER_DISCOUNT, payee, abi.encode(payee));
    }

    // ──────────────────────────────── endorsement, discount, recourse ────────────────────────────────

    function test_endorse_keepsChainAndRecourseWalksBack() public {
        BillId id = _reach(boe, D.ACCEPTED);
        address third = makeAddr("third");
        vm.expectEmit(address(registry));
        emit IBillRegistry.BillEndorsed(id, payee, endorsee);
        _doAs(id, D.ENDORSE, payee, abi.encode(endorsee));
        _doAs(id, D.ENDORSE, endorsee, abi.encode(third));
        address[] memory chain = registry.endorsers(id);
        assertEq(chain.length, 2);
        assertEq(chain[0], payee);
        assertEq(chain[1], endorsee);
        assertEq(registry.bill(id).holder, third);
        _doAs(id, D.REQUEST_PAYMENT, third, "");
        _doAs(id, D.REJECT_PAYMENT, drawee, "");
        // Recourse against the last endorser, who cannot pay; then against the first, who does in two parts.
        vm.expectEmit(address(registry));
        emit IBillRegistry.BillRecourseExercised(id, third, endorsee);
        _doAs(id, D.RECOURSE, third, abi.encode(uint256(1)));
        assertEq(registry.bill(id).payer, endorsee);
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidOperationData.selector, id, D.RECOURSE));
        _doAs(id, D.RECOURSE, third, abi.encode(uint256(2)));
        _doAs(id, D.RECOURSE, third, abi.encode(uint256(0)));
        assertEq(registry.bill(id).payer, payee);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBillRegistry.BillUnauthorizedParty.selector,
                id,
                D.PAY,
                drawee,
                IBillRegistry.Party.Drawee
            )
        );
        _doAs(id, D.PAY, drawee, "");
        _doAs(id, D.PAY_PARTIAL, payee, abi.encode(uint256(400_00)));
        _doAs(id, D.PAY, payee, "");
        assertEq(registry.stateOf(id), D.PAID);
        assertEq(token.balanceOf(third), AMOUNT);
        assertEq(token.balanceOf(payee), FUNDS - AMOUNT);
    }

    function test_recourse_revertsAfterRecourseDeadline() public {
        BillId id = _reach(boe, D.DISHONOURED);
        uint256 deadline = registry.bill(id).recourseDeadline;
        vm.warp(deadline + 1);
        assertEq(registry.stateOf(id), D.RECOURSE_EXPIRED);
        vm.expectRevert(
            abi.encodeWithSelector(IBillRegistry.BillInvalidTransition.selector, id, D.RECOURSE_EXPIRED, D.RECOURSE)
        );
        _doAs(id, D.RECOURSE, endorsee, abi.encode(uint256(0)));
    }

    function test_recourse_revertsAgainstHolderItself() public {
        BillId id = _reach(boe, D.ACCEPTED);
        _doAs(id, D.ENDORSE, payee, abi.encode(endorsee));
        _doAs(id, D.ENDORSE, endorsee, abi.encode(payee));
        _doAs(id, D.REQUEST_PAYMENT, payee, "");
        _doAs(id, D.REJECT_PAYMENT, drawee, "");
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidOperationData.selector, id, D.RECOURSE));
        _doAs(id, D.RECOURSE, payee, abi.encode(uint256(0)));
    }

    function test_discount_paysHolderAndTransfersBill() public {
        BillId id = _reach(boe, D.DISCOUNT_OFFERED);
        assertEq(registry.bill(id).financier, financier);
        vm.expectEmit(address(registry));
        emit IBillRegistry.BillDiscounted(id, payee, financier, PRICE);
        _doAs(id, D.DISCOUNT, financier, abi.encode(PRICE));
        assertEq(registry.bill(id).holder, financier);
        assertEq(registry.endorsers(id)[0], payee);
        assertEq(token.balanceOf(payee), FUNDS + PRICE);
        assertEq(token.balanceOf(financier), FUNDS - PRICE);
        _doAs(id, D.REQUEST_PAYMENT, financier, "");
        _doAs(id, D.PAY, drawee, "");
        assertEq(token.balanceOf(financier), FUNDS - PRICE + AMOUNT);
    }

    function test_discount_revertsAbovePrincipal() public {
        BillId id = _reach(boe, D.DISCOUNT_OFFERED);
        vm.expectRevert(
            abi.encodeWithSelector(IBillRegistry.BillInvalidPaymentAmount.selector, id, AMOUNT + 1, AMOUNT)
        );
        _doAs(id, D.DISCOUNT, financier, abi.encode(AMOUNT + 1));
    }

    // ─────────────────────────────────── EIP-3009 payment ───────────────────────────────────

    function _receiveAuth(
        uint256 value,
        bytes32 nonce
    ) internal view returns (IBillRegistry.PaymentAuthorization memory auth) {
        auth.validAfter = 0;
        auth.validBefore = block.timestamp + 1 hours;
        auth.nonce = nonce;
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                token.DOMAIN_SEPARATOR(),
                keccak256(abi.encode(RECEIVE_TYPEHASH, drawee, address(registry), value, 0, auth.validBefore, nonce))
            )
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(draweeKey, digest);
        auth.signature = abi.encodePacked(r, s, v);
    }

    function test_executeWithAuthorization_paysHolder() public {
        BillId id = _reach(inv, D.ACCEPTED);
        vm.prank(drawee);
        token.approve(address(registry), 0);
        IBillRegistry.PaymentAuthorization memory auth = _receiveAuth(PART, "n1");
        vm.prank(drawee);
        registry.executeWithAuthorization(id, D.PAY_PARTIAL, abi.encode(PART), auth);
        assertEq(token.balanceOf(payee), FUNDS + PART);
        assertEq(token.balanceOf(address(registry)), 0);
        assertEq(registry.stateOf(id), D.PARTIALLY_PAID);
        // Replay of the same authorization.
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenAuthorizationUsed.selector, drawee, bytes32("n1")));
        vm.prank(drawee);
        registry.executeWithAuthorization(id, D.PAY_PARTIAL, abi.encode(PART), auth);
        // An authorization for the wrong amount.
        auth = _receiveAuth(PART, "n2");
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidSignature.selector, drawee));
        vm.prank(drawee);
        registry.executeWithAuthorization(id, D.PAY, "", auth);
        assertEq(registry.bill(id).amountPaid, PART);
    }

    function test_executeWithAuthorization_revertsForNonPayment() public {
        BillId id = _reach(inv, D.ISSUED);
        IBillRegistry.PaymentAuthorization memory auth = _receiveAuth(PART, "n1");
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillNotAPayment.selector, id, D.ACCEPT));
        vm.prank(drawee);
        registry.executeWithAuthorization(id, D.ACCEPT, "", auth);
        auth.signature = "";
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidSignature.selector, drawee));
        vm.prank(drawee);
        registry.executeWithAuthorization(id, D.ACCEPT, "", auth);
    }

    // ─────────────────────────────────── EIP-712 relayed operations ───────────────────────────────────

    function _signOp(
        uint256 key,
        BillId id,
        bytes32 op,
        bytes memory data,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes memory) {
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                registry.DOMAIN_SEPARATOR(),
                keccak256(abi.encode(registry.BILL_OPERATION_TYPEHASH(), id, op, keccak256(data), nonce, deadline))
            )
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function test_executeBySig_relayedAcceptAndPay() public {
        BillId id = _reach(inv, D.ISSUED);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _signOp(draweeKey, id, D.ACCEPT, "", 0, deadline);
        vm.expectEmit(address(registry));
        emit IBillRegistry.BillStateChanged(id, D.ISSUED, D.ACCEPTED, D.ACCEPT, drawee, keccak256(""));
        vm.prank(stranger);
        registry.executeBySig(id, D.ACCEPT, "", drawee, 0, deadline, sig);
        assertEq(registry.nonces(drawee), 1);
        // Replay.
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidNonce.selector, drawee, 1, 0));
        vm.prank(stranger);
        registry.executeBySig(id, D.ACCEPT, "", drawee, 0, deadline, sig);
        // Relayed payment, pulled from the signer.
        sig = _signOp(draweeKey, id, D.PAY, "", 1, deadline);
        vm.prank(stranger);
        registry.executeBySig(id, D.PAY, "", drawee, 1, deadline, sig);
        assertEq(token.balanceOf(payee), FUNDS + AMOUNT);
        assertEq(registry.stateOf(id), D.PAID);
    }

    function test_executeBySig_revertsOnBadSignature() public {
        BillId id = _reach(inv, D.ISSUED);
        uint256 deadline = block.timestamp + 1 hours;
        (, uint256 otherKey) = makeAddrAndKey("other");
        bytes memory sig = _signOp(otherKey, id, D.ACCEPT, "", 0, deadline);
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidSignature.selector, drawee));
        registry.executeBySig(id, D.ACCEPT, "", drawee, 0, deadline, sig);
        sig = _signOp(draweeKey, id, D.ACCEPT, "", 0, deadline);
        // Tampered operation.
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidSignature.selector, drawee));
        registry.executeBySig(id, D.DISPUTE, "", drawee, 0, deadline, sig);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillSignatureExpired.selector, deadline, deadline + 1));
        registry.executeBySig(id, D.ACCEPT, "", drawee, 0, deadline, sig);
        assertEq(registry.nonces(drawee), 0);
        assertEq(registry.stateOf(id), D.ISSUED);
    }

    function test_executeBySig_wrongPartyStillRejected() public {
        BillId id = _reach(inv, D.ISSUED);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _signOp(draweeKey, id, D.CANCEL, "", 0, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBillRegistry.BillUnauthorizedParty.selector,
                id,
                D.CANCEL,
                drawee,
                IBillRegistry.Party.Drawer
            )
        );
        registry.executeBySig(id, D.CANCEL, "", drawee, 0, deadline, sig);
        assertEq(registry.nonces(drawee), 0);
    }

    // ─────────────────────── audit issue 13: H-3 (EIP-7702 delegation), M-5, M-6 ───────────────────────

    /// @dev H-3: the drawee signs ACCEPT by ECDSA, then delegates its EOA (EIP-7702) to a contract whose
    ///      `isValidSignature` rejects everything. The signature must stay valid: ECDSA is checked first. (Hardhat
    ///      does not support `vm.signAndAttachDelegation`: the delegation designator is etched.)
    function test_H3_executeBySig_delegatedEoaStillSignsByEcdsa() public {
        BillId id = _reach(inv, D.ISSUED);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _signOp(draweeKey, id, D.ACCEPT, "", 0, deadline);
        RejectingWallet rejecting = new RejectingWallet();
        vm.etch(drawee, abi.encodePacked(hex"ef0100", address(rejecting)));
        vm.prank(stranger);
        registry.executeBySig(id, D.ACCEPT, "", drawee, 0, deadline, sig);
        assertEq(registry.stateOf(id), D.ACCEPTED);
        // And it still pays, relayed, by a signature made after the delegation.
        sig = _signOp(draweeKey, id, D.PAY, "", 1, deadline);
        vm.prank(stranger);
        registry.executeBySig(id, D.PAY, "", drawee, 1, deadline, sig);
        assertEq(registry.stateOf(id), D.PAID);
        assertEq(token.balanceOf(payee), FUNDS + AMOUNT);
    }

    /// @dev H-3 decision: a contract wallet (no key) still signs through ERC-1271, as a fallback after ECDSA.
    function test_H3_executeBySig_contractWalletSignsByErc1271() public {
        ApprovingWallet wallet = new ApprovingWallet();
        IBillRegistry.BillTerms memory terms = _terms();
        terms.drawee = address(wallet);
        vm.prank(drawer);
        registry.issue(inv, D.ISSUE, terms);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                registry.DOMAIN_SEPARATOR(),
                keccak256(
                    abi.encode(registry.BILL_OPERATION_TYPEHASH(), terms.id, D.ACCEPT, keccak256(""), 0, deadline)
                )
            )
        );
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillInvalidSignature.selector, address(wallet)));
        registry.executeBySig(terms.id, D.ACCEPT, "", address(wallet), 0, deadline, hex"c0ffee");
        wallet.approve(digest);
        registry.executeBySig(terms.id, D.ACCEPT, "", address(wallet), 0, deadline, hex"c0ffee");
        assertEq(registry.stateOf(terms.id), D.ACCEPTED);
    }

    /// @dev H-3 / M-1 for bills: a wallet whose `isValidSignature` burns all the gas it gets costs a relayer at
    ///      most the bounded ERC-1271 gas, and the call fails with `BillInvalidSignature`, not out of gas.
    function test_H3_executeBySig_erc1271GasIsBounded() public {
        GasBurningWallet wallet = new GasBurningWallet();
        IBillRegistry.BillTerms memory terms = _terms();
        terms.drawee = address(wallet);
        vm.prank(drawer);
        registry.issue(inv, D.ISSUE, terms);
        uint256 deadline = block.timestamp + 1 hours;
        uint256 before = gasleft();
        try registry.executeBySig{gas: 10_000_000}(terms.id, D.ACCEPT, "", address(wallet), 0, deadline, hex"c0ffee") {
            fail();
        } catch (bytes memory reason) {
            assertEq(reason, abi.encodeWithSelector(IBillRegistry.BillInvalidSignature.selector, address(wallet)));
        }
        assertLt(before - gasleft(), 400_000, "bounded ERC-1271 gas");
    }

    /// @dev M-5, the accomplice attack: the payee of an accepted bill is frozen; it endorses the bill to an
    ///      accomplice, who asks for payment and collects. The endorsement must be refused.
    function test_M5_frozenPayeeCannotEndorseToAnAccomplice() public {
        BillId id = _reach(boe, D.ACCEPTED);
        address accomplice = makeAddr("accomplice");
        _freeze(payee);
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillPartyFrozen.selector, id, D.ENDORSE, payee));
        _doAs(id, D.ENDORSE, payee, abi.encode(accomplice));
        // Had it passed, the accomplice would collect; it is not the holder.
        vm.expectRevert(
            abi.encodeWithSelector(
                IBillRegistry.BillUnauthorizedParty.selector,
                id,
                D.REQUEST_PAYMENT,
                accomplice,
                IBillRegistry.Party.Holder
            )
        );
        _doAs(id, D.REQUEST_PAYMENT, accomplice, "");
        assertEq(token.balanceOf(accomplice), 0);
        assertEq(registry.bill(id).holder, payee);
    }

    /// @dev M-5: the same attack relayed, a signed endorsement of the frozen payee submitted by the accomplice.
    function test_M5_frozenSignerCannotEndorseBySig() public {
        (address signingPayee, uint256 payeeKey) = makeAddrAndKey("signingPayee");
        IBillRegistry.BillTerms memory terms = _terms();
        terms.payee = signingPayee;
        vm.prank(drawer);
        registry.issue(boe, D.ISSUE, terms);
        BillId id = terms.id;
        _doAs(id, D.REQUEST_ACCEPTANCE, signingPayee, "");
        _doAs(id, D.ACCEPT, drawee, "");
        address accomplice = makeAddr("accomplice");
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory data = abi.encode(accomplice);
        bytes memory sig = _signOp(payeeKey, id, D.ENDORSE, data, 0, deadline);
        _freeze(signingPayee);
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillPartyFrozen.selector, id, D.ENDORSE, signingPayee));
        vm.prank(accomplice);
        registry.executeBySig(id, D.ENDORSE, data, signingPayee, 0, deadline, sig);
        assertEq(registry.bill(id).holder, signingPayee);
    }

    /// @dev M-5: nobody may endorse a bill to, or offer it for discount to, a frozen account.
    function test_M5_noEndorsementOrDiscountOfferToAFrozenAccount() public {
        BillId id = _reach(boe, D.ACCEPTED);
        _freeze(endorsee);
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillPartyFrozen.selector, id, D.ENDORSE, endorsee));
        _doAs(id, D.ENDORSE, payee, abi.encode(endorsee));
        _freeze(financier);
        vm.expectRevert(
            abi.encodeWithSelector(IBillRegistry.BillPartyFrozen.selector, id, D.OFFER_DISCOUNT, financier)
        );
        _doAs(id, D.OFFER_DISCOUNT, payee, abi.encode(financier));
    }

    /// @dev M-5: a frozen holder may not offer for discount, nor turn to an endorser; a frozen endorser may not be
    ///      named payer by recourse.
    function test_M5_recourseAndDiscountOfferRefusedForFrozenParties() public {
        // Holder: endorsee; chain: [payee].
        BillId id = _reach(boe, D.DISHONOURED);
        BillId other = _reach(boe, D.DISHONOURED);
        _freeze(payee);
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillPartyFrozen.selector, id, D.RECOURSE, payee));
        _doAs(id, D.RECOURSE, endorsee, abi.encode(uint256(0)));
        vm.prank(makeAddr("compliance"));
        token.unfreeze(payee);
        _freeze(endorsee);
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillPartyFrozen.selector, other, D.RECOURSE, endorsee));
        _doAs(other, D.RECOURSE, endorsee, abi.encode(uint256(0)));
    }

    /// @dev M-5: a frozen holder's offer for discount is refused.
    function test_M5_frozenHolderCannotOfferForDiscount() public {
        BillId id = _reach(boe, D.ACCEPTED);
        _freeze(payee);
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillPartyFrozen.selector, id, D.OFFER_DISCOUNT, payee));
        _doAs(id, D.OFFER_DISCOUNT, payee, abi.encode(financier));
    }

    /// @dev M-5: a bill naming a frozen drawee or payee, or drawn by a frozen drawer, is not issued.
    function test_M5_issueNamingAFrozenPartyReverts() public {
        address frozen = makeAddr("frozen");
        _freeze(frozen);
        IBillRegistry.BillTerms memory terms = _terms();
        terms.payee = frozen;
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillPartyFrozen.selector, terms.id, D.ISSUE, frozen));
        vm.prank(drawer);
        registry.issue(boe, D.ISSUE, terms);
        terms.payee = payee;
        terms.drawee = frozen;
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillPartyFrozen.selector, terms.id, D.ISSUE, frozen));
        vm.prank(drawer);
        registry.issue(boe, D.ISSUE, terms);
        terms.drawee = drawee;
        terms.id = BillIdLib.make(frozen, bytes12(keccak256("frozen's bill")));
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillPartyFrozen.selector, terms.id, D.ISSUE, frozen));
        vm.prank(frozen);
        registry.issue(boe, D.ISSUE, terms);
    }

    /// @dev M-5: payments from or to a frozen account are refused by the token itself (its `BankTokenFrozen`),
    ///      in every payment path; the bill is unchanged.
    function test_M5_paymentsFromOrToFrozenAccountsRevert() public {
        BillId id = _reach(inv, D.ACCEPTED);
        BillId other = _reach(boe, D.DISCOUNT_OFFERED);
        _freeze(payee);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, payee));
        _doAs(id, D.PAY, drawee, "");
        vm.prank(makeAddr("compliance"));
        token.unfreeze(payee);
        _freeze(financier);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, financier));
        _doAs(other, D.DISCOUNT, financier, abi.encode(PRICE));
        assertEq(registry.stateOf(id), D.ACCEPTED);
        assertEq(registry.stateOf(other), D.DISCOUNT_OFFERED);
    }

    /// @dev A bill id is `drawer ‖ serial` (what `src/bills/ids.ts` builds off-chain), and reads back.
    function testFuzz_billIdLib_roundTrips(address drawer_, bytes12 serial_) public pure {
        BillId id = BillIdLib.make(drawer_, serial_);
        assertEq(BillId.unwrap(id), bytes32(abi.encodePacked(drawer_, serial_)));
        assertEq(id.drawer(), drawer_);
        assertEq(id.serial(), serial_);
    }

    /// @dev M-6, bill-id squatting: the drawer announces the id of a bill it is about to issue; an attacker
    ///      front-runs `issue` with that id, naming itself payee. The attacker's issue must fail, the drawer's
    ///      go through, and the drawee's payment by id reach the drawer's payee.
    function test_M6_attackerCannotSquatAnAnnouncedBillId() public {
        address attacker = makeAddr("attacker");
        IBillRegistry.BillTerms memory terms = _terms();
        IBillRegistry.BillTerms memory forged = _terms();
        forged.id = terms.id;
        forged.payee = attacker;
        vm.expectRevert(abi.encodeWithSelector(IBillRegistry.BillIdOfAnotherDrawer.selector, terms.id, attacker));
        vm.prank(attacker);
        registry.issue(inv, D.ISSUE, forged);
        vm.prank(drawer);
        registry.issue(inv, D.ISSUE, terms);
        _doAs(terms.id, D.ACCEPT, drawee, "");
        _doAs(terms.id, D.PAY, drawee, "");
        assertEq(token.balanceOf(attacker), 0);
        assertEq(token.balanceOf(payee), FUNDS + AMOUNT);
        assertEq(registry.bill(terms.id).drawer, drawer);
        assertEq(terms.id.drawer(), drawer);
    }

    // ─────────────────────────────────────────── misc ───────────────────────────────────────────

    function test_constructor_revertsOnZeroToken() public {
        vm.expectRevert(IBillRegistry.BillInvalidTerms.selector);
        new BillRegistry(admin, ADMIN_DELAY, IBankToken(address(0)));
    }

    function test_token() public view {
        assertEq(address(registry.token()), address(token));
    }
}

/// @dev An ERC-1271 wallet that rejects every signature (the delegate of the H-3 attack).
contract RejectingWallet {
    function isValidSignature(bytes32, bytes calldata) external pure returns (bytes4) {
        return 0xffffffff;
    }
}

/// @dev An ERC-1271 wallet that accepts the digests it was told to.
contract ApprovingWallet {
    mapping(bytes32 digest => bool) public approved;

    function approve(bytes32 digest) external {
        approved[digest] = true;
    }

    function isValidSignature(bytes32 digest, bytes calldata) external view returns (bytes4) {
        return approved[digest] ? this.isValidSignature.selector : bytes4(0xffffffff);
    }
}

/// @dev An ERC-1271 wallet that burns all the gas it is given.
contract GasBurningWallet {
    function isValidSignature(bytes32, bytes calldata) external view returns (bytes4) {
        uint256 sink;
        while (gasleft() > 0) sink = uint256(keccak256(abi.encode(sink)));
        return bytes4(0);
    }
}
