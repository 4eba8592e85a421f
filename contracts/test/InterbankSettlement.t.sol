// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {ReserveLedger} from "../reserves/ReserveLedger.sol";
import {IReserveLedger} from "../reserves/interfaces/IReserveLedger.sol";
import {
    CorridorLimits,
    CorridorLimitsLib,
    CorridorUsage,
    CorridorUsageLib,
    InterbankSettlement,
    SettlementWord,
    SettlementWordLib
} from "../settlement/InterbankSettlement.sol";
import {TrustAccount} from "../settlement/TrustAccount.sol";
import {IInterbankSettlement, SettlementId} from "../settlement/interfaces/IInterbankSettlement.sol";
import {ITrustAccount} from "../settlement/interfaces/ITrustAccount.sol";
import {ITrustAccountToken} from "../settlement/interfaces/ITrustAccountToken.sol";
import {IBankToken} from "../token/interfaces/IBankToken.sol";
import {BankFixture} from "./TrustAccount.t.sol";

/// @dev The real suite (`BankFixture`: token proxy, ledger, trust accounts) plus an `InterbankSettlement` wired as
///      `deploy/003_settlement.ts` wires it: zero-allowance minter, registered and deactivated issuer with the
///      ledger's `SETTLEMENT_ROLE`, `SETTLEMENT_ROLE` on every trust account. Banks A, B and C are registered;
///      the corridors A->B and B->A are open, none to or from C.
abstract contract SettlementFixture is BankFixture {
    uint256 internal constant IN_FLIGHT_CAP = 100_000_00;
    uint256 internal constant WINDOW_CAP = 250_000_00;
    uint32 internal constant WINDOW = 1 days;
    bytes32 internal constant ACCOUNT = keccak256("IBAN GB33 BUKB 2020 1555 5555 55");

    InterbankSettlement internal settlement;
    TrustAccount internal bankA;
    TrustAccount internal bankB;
    TrustAccount internal bankC;

    address internal agentA = makeAddr("agentA");
    address internal agentB = makeAddr("agentB");
    address internal agentC = makeAddr("agentC");
    address internal bankAdmin = makeAddr("bankAdmin");
    address internal corridorAdmin = makeAddr("corridorAdmin");

    uint256 internal _idCounter;

    function _deploySettlement() internal {
        _deploySuite();
        bankA = trust;
        bankB = _deployTrustAccount(RESERVE);
        bankC = _deployTrustAccount(RESERVE);
        settlement = new InterbankSettlement(admin, ADMIN_DELAY, ITrustAccountToken(address(token)), ledger);

        vm.startPrank(admin);
        settlement.grantRole(settlement.BANK_ADMIN_ROLE(), bankAdmin);
        settlement.grantRole(settlement.CORRIDOR_ADMIN_ROLE(), corridorAdmin);
        ledger.grantRole(ledger.SETTLEMENT_ROLE(), address(settlement));
        bankA.grantRole(bankA.SETTLEMENT_ROLE(), address(settlement));
        bankB.grantRole(bankB.SETTLEMENT_ROLE(), address(settlement));
        bankC.grantRole(bankC.SETTLEMENT_ROLE(), address(settlement));
        vm.stopPrank();
        vm.prank(minterAdmin);
        token.configureMinter(address(settlement), 0);
        vm.startPrank(reserveAdmin);
        ledger.registerIssuer(address(settlement), 10_000, MAX_AGE);
        ledger.deactivateIssuer(address(settlement));
        vm.stopPrank();

        vm.startPrank(bankAdmin);
        settlement.registerBank(address(bankA), agentA);
        settlement.registerBank(address(bankB), agentB);
        settlement.registerBank(address(bankC), agentC);
        vm.stopPrank();
        vm.startPrank(corridorAdmin);
        settlement.setCorridorLimits(address(bankA), address(bankB), IN_FLIGHT_CAP, WINDOW_CAP, WINDOW);
        settlement.setCorridorLimits(address(bankB), address(bankA), IN_FLIGHT_CAP, WINDOW_CAP, WINDOW);
        vm.stopPrank();
    }

    /// @dev Terms from `debtor` to `creditor` with a fresh id and a deadline an hour from now.
    function _terms(
        TrustAccount debtor,
        TrustAccount creditor,
        uint256 amount
    ) internal returns (IInterbankSettlement.SettlementTerms memory) {
        return
            IInterbankSettlement.SettlementTerms({
                id: SettlementId.wrap(keccak256(abi.encode("uetr", ++_idCounter))),
                debtorBank: address(debtor),
                creditorBank: address(creditor),
                amount: amount,
                creditorAccountRef: ACCOUNT,
                deadline: uint40(block.timestamp + 1 hours)
            });
    }

    /// @dev The agent of a fixture bank, without an external call (which would consume `vm.expectRevert`).
    function _agentOf(address bank) internal view returns (address) {
        if (bank == address(bankA)) return agentA;
        if (bank == address(bankB)) return agentB;
        if (bank == address(bankC)) return agentC;
        return stranger;
    }

    function _initiate(IInterbankSettlement.SettlementTerms memory t) internal {
        vm.prank(_agentOf(t.debtorBank));
        settlement.initiate(t);
    }

    function _smelt(IInterbankSettlement.SettlementTerms memory t, bytes32 fiatRef) internal {
        vm.prank(_agentOf(t.creditorBank));
        settlement.smelt(t, fiatRef);
    }

    function _acknowledge(IInterbankSettlement.SettlementTerms memory t) internal {
        vm.prank(_agentOf(t.debtorBank));
        settlement.acknowledge(t);
    }

    function _reject(IInterbankSettlement.SettlementTerms memory t, bytes32 reason) internal {
        vm.prank(_agentOf(t.creditorBank));
        settlement.reject(t, reason);
    }

    /// @dev A new, initiated payment of `amount` from A to B.
    function _initiated(uint256 amount) internal returns (IInterbankSettlement.SettlementTerms memory t) {
        t = _terms(bankA, bankB, amount);
        _initiate(t);
    }

    function _attest(TrustAccount bank, uint256 reserve) internal {
        vm.prank(attestor);
        ledger.attestReserve(address(bank), reserve, block.timestamp);
    }
}

/// @dev A trust account that calls back into the settlement from `mintForSettlement`.
contract ReentrantTrustAccount {
    ITrustAccountToken public immutable token;
    InterbankSettlement internal _settlement;
    IInterbankSettlement.SettlementTerms internal _terms;

    constructor(ITrustAccountToken token_) {
        token = token_;
    }

    function arm(InterbankSettlement settlement_, IInterbankSettlement.SettlementTerms calldata terms) external {
        _settlement = settlement_;
        _terms = terms;
    }

    function mintForSettlement(uint256, bytes32) external {
        _settlement.smelt(_terms, keccak256("reenter"));
    }
}

/// @dev Unit and fuzz tests of `InterbankSettlement` against the real token, ledger and trust accounts.
contract InterbankSettlementTest is SettlementFixture {
    bytes32 internal constant FIAT_B = keccak256("B core ledger credit 1");
    bytes32 internal constant FIAT_A = keccak256("A core ledger re-credit 1");
    bytes32 internal constant AC04 = bytes32("AC04"); // ISO 20022: closed account number

    function setUp() public {
        _deploySettlement();
    }

    // ---------------------------------------------------------------- constructor, roles, registry

    function test_constructor_setsTokenLedgerAndRoles() public view {
        assertEq(address(settlement.token()), address(token));
        assertEq(address(settlement.ledger()), address(ledger));
        assertEq(settlement.defaultAdmin(), admin);
        assertEq(settlement.defaultAdminDelay(), ADMIN_DELAY);
        assertEq(settlement.BANK_ADMIN_ROLE(), keccak256("BANK_ADMIN_ROLE"));
        assertEq(settlement.CORRIDOR_ADMIN_ROLE(), keccak256("CORRIDOR_ADMIN_ROLE"));
        assertEq(settlement.MAX_AMOUNT(), type(uint64).max);
        assertEq(settlement.totalInFlight(), 0);
    }

    function test_constructor_revertsOnZeroToken() public {
        vm.expectRevert(
            abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementInvalidToken.selector, address(0))
        );
        new InterbankSettlement(admin, ADMIN_DELAY, ITrustAccountToken(address(0)), ledger);
    }

    function test_constructor_revertsOnZeroLedger() public {
        vm.expectRevert(
            abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementInvalidLedger.selector, address(0))
        );
        new InterbankSettlement(admin, ADMIN_DELAY, ITrustAccountToken(address(token)), IReserveLedger(address(0)));
    }

    function test_constructor_revertsOnLedgerOfAnotherToken() public {
        ReserveLedger other = new ReserveLedger(admin, ADMIN_DELAY, makeAddr("otherToken"), DECIMALS);
        vm.expectRevert(
            abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementInvalidLedger.selector, address(other))
        );
        new InterbankSettlement(admin, ADMIN_DELAY, ITrustAccountToken(address(token)), other);
    }

    function test_registerBank_registersAndEmits() public {
        TrustAccount bankD = _deployTrustAccount(RESERVE);
        address agentD = makeAddr("agentD");
        vm.expectEmit(address(settlement));
        emit IInterbankSettlement.BankRegistered(address(bankD), agentD);
        vm.prank(bankAdmin);
        settlement.registerBank(address(bankD), agentD);
        assertEq(settlement.agentOf(address(bankD)), agentD);
        assertEq(settlement.agentOf(address(bankA)), agentA);
        assertEq(settlement.agentOf(stranger), address(0));
    }

    function test_registerBank_revertsWithoutRole() public {
        bytes32 role = settlement.BANK_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, corridorAdmin, role)
        );
        vm.prank(corridorAdmin);
        settlement.registerBank(address(bankA), agentA);
    }

    function test_registerBank_revertsOnZeroAgent() public {
        TrustAccount bankD = _deployTrustAccount(RESERVE);
        vm.expectRevert(
            abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementInvalidAgent.selector, address(0))
        );
        vm.prank(bankAdmin);
        settlement.registerBank(address(bankD), address(0));
    }

    function test_registerBank_revertsWhenAlreadyRegistered() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementBankAlreadyRegistered.selector,
                address(bankA)
            )
        );
        vm.prank(bankAdmin);
        settlement.registerBank(address(bankA), agentB);
    }

    function test_registerBank_revertsOnAccountWithoutCode() public {
        _expectInvalidBank(address(0));
        _expectInvalidBank(stranger);
    }

    function test_registerBank_revertsOnContractWithoutToken() public {
        // The token proxy has no `token()`.
        _expectInvalidBank(address(token));
    }

    function test_registerBank_revertsOnTrustAccountOfAnotherToken() public {
        TrustAccount foreign = new TrustAccount(admin, ADMIN_DELAY, ITrustAccountToken(makeAddr("otherToken")));
        _expectInvalidBank(address(foreign));
    }

    function test_registerBank_revertsWhenNotAnIssuer() public {
        TrustAccount unregistered = new TrustAccount(admin, ADMIN_DELAY, ITrustAccountToken(address(token)));
        _expectInvalidBank(address(unregistered));
    }

    function test_setBankAgent_replacesAgent() public {
        address newAgent = makeAddr("newAgentA");
        vm.expectEmit(address(settlement));
        emit IInterbankSettlement.BankAgentChanged(address(bankA), agentA, newAgent);
        vm.prank(bankAdmin);
        settlement.setBankAgent(address(bankA), newAgent);
        assertEq(settlement.agentOf(address(bankA)), newAgent);

        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, 1_00);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementUnauthorizedAgent.selector,
                address(bankA),
                agentA
            )
        );
        vm.prank(agentA);
        settlement.initiate(t);
        vm.prank(newAgent);
        settlement.initiate(t);
        assertEq(uint8(settlement.stateOf(t.debtorBank, t.id)), uint8(IInterbankSettlement.SettlementState.Delivered));
    }

    function test_setBankAgent_revertsOnUnknownBank() public {
        vm.expectRevert(abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementUnknownBank.selector, stranger));
        vm.prank(bankAdmin);
        settlement.setBankAgent(stranger, agentA);
    }

    function test_setBankAgent_revertsOnZeroAgent() public {
        vm.expectRevert(
            abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementInvalidAgent.selector, address(0))
        );
        vm.prank(bankAdmin);
        settlement.setBankAgent(address(bankA), address(0));
    }

    function test_setBankAgent_revertsWithoutRole() public {
        bytes32 role = settlement.BANK_ADMIN_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, agentA, role));
        vm.prank(agentA);
        settlement.setBankAgent(address(bankA), agentB);
    }

    // ---------------------------------------------------------------- corridors

    function test_setCorridorLimits_opensCorridor() public {
        vm.warp(T0 + 500);
        vm.expectEmit(address(settlement));
        emit IInterbankSettlement.CorridorLimitsSet(address(bankA), address(bankC), 7_00, 9_00, 3600);
        vm.prank(corridorAdmin);
        settlement.setCorridorLimits(address(bankA), address(bankC), 7_00, 9_00, 3600);

        IInterbankSettlement.Corridor memory c = settlement.corridor(address(bankA), address(bankC));
        assertTrue(c.open);
        assertFalse(c.paused);
        assertEq(c.inFlightCap, 7_00);
        assertEq(c.windowCap, 9_00);
        assertEq(c.windowLength, 3600);
        assertEq(c.inFlight, 0);
        assertEq(c.sentInWindow, 0);
        assertEq(c.windowStart, T0 + 500);
        assertEq(settlement.availableToSend(address(bankA), address(bankC)), 7_00);
        // Only this direction.
        assertFalse(settlement.corridor(address(bankC), address(bankA)).open);
        (address[] memory debtors, address[] memory creditors) = settlement.corridors();
        assertEq(debtors.length, 3);
        assertEq(debtors[2], address(bankA));
        assertEq(creditors[2], address(bankC));
    }

    function test_setCorridorLimits_updateKeepsUsageAndPause() public {
        _initiated(40_00);
        vm.startPrank(corridorAdmin);
        settlement.pauseCorridor(address(bankA), address(bankB));
        settlement.setCorridorLimits(address(bankA), address(bankB), 50_00, 60_00, 2 days);
        vm.stopPrank();
        IInterbankSettlement.Corridor memory c = settlement.corridor(address(bankA), address(bankB));
        assertTrue(c.paused);
        assertEq(c.inFlightCap, 50_00);
        assertEq(c.windowCap, 60_00);
        assertEq(c.windowLength, 2 days);
        assertEq(c.inFlight, 40_00);
        assertEq(c.sentInWindow, 40_00);
        assertEq(c.windowStart, T0);
        (address[] memory debtors, ) = settlement.corridors();
        assertEq(debtors.length, 2);
    }

    function test_setCorridorLimits_loweredCapOnlyRefusesNewPayments() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(40_00);
        vm.prank(corridorAdmin);
        settlement.setCorridorLimits(address(bankA), address(bankB), 30_00, WINDOW_CAP, WINDOW);
        assertEq(settlement.availableToSend(address(bankA), address(bankB)), 0);
        IInterbankSettlement.SettlementTerms memory next = _terms(bankA, bankB, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementInFlightLimitExceeded.selector,
                address(bankA),
                address(bankB),
                40_00,
                30_00,
                1
            )
        );
        _initiate(next);
        _smelt(t, FIAT_B);
        _acknowledge(t);
        assertEq(settlement.availableToSend(address(bankA), address(bankB)), 30_00);
    }

    function test_setCorridorLimits_revertsOnInvalidCorridor() public {
        address a = address(bankA);
        _expectInvalidCorridor(a, a);
        _expectInvalidCorridor(a, stranger);
        _expectInvalidCorridor(stranger, a);
    }

    function test_setCorridorLimits_revertsOnInvalidLimits() public {
        uint256 max = settlement.MAX_AMOUNT();
        _expectInvalidLimits(0, 1, 1);
        _expectInvalidLimits(1, 0, 1);
        _expectInvalidLimits(1, 1, 0);
        _expectInvalidLimits(max + 1, 1, 1);
        _expectInvalidLimits(1, max + 1, 1);
        vm.prank(corridorAdmin);
        settlement.setCorridorLimits(address(bankA), address(bankC), max, max, type(uint32).max);
        assertEq(settlement.corridor(address(bankA), address(bankC)).inFlightCap, max);
    }

    function test_setCorridorLimits_revertsWithoutRole() public {
        bytes32 role = settlement.CORRIDOR_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, bankAdmin, role)
        );
        vm.prank(bankAdmin);
        settlement.setCorridorLimits(address(bankA), address(bankC), 1, 1, 1);
    }

    function test_pauseCorridor_pausesOnlyThatCorridor() public {
        IInterbankSettlement.SettlementTerms memory open = _initiated(10_00);
        vm.expectEmit(address(settlement));
        emit IInterbankSettlement.CorridorPaused(address(bankA), address(bankB));
        vm.prank(corridorAdmin);
        settlement.pauseCorridor(address(bankA), address(bankB));
        assertTrue(settlement.corridor(address(bankA), address(bankB)).paused);
        assertEq(settlement.availableToSend(address(bankA), address(bankB)), 0);

        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, 1_00);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementCorridorPaused.selector,
                address(bankA),
                address(bankB)
            )
        );
        _initiate(t);

        // The reverse corridor is unaffected.
        IInterbankSettlement.SettlementTerms memory reverse = _terms(bankB, bankA, 1_00);
        _initiate(reverse);
        assertEq(
            uint8(settlement.stateOf(reverse.debtorBank, reverse.id)),
            uint8(IInterbankSettlement.SettlementState.Delivered)
        );
        // A payment already on the paused corridor still completes.
        _smelt(open, FIAT_B);
        _acknowledge(open);
        assertEq(
            uint8(settlement.stateOf(open.debtorBank, open.id)),
            uint8(IInterbankSettlement.SettlementState.Acknowledged)
        );

        vm.expectEmit(address(settlement));
        emit IInterbankSettlement.CorridorUnpaused(address(bankA), address(bankB));
        vm.prank(corridorAdmin);
        settlement.unpauseCorridor(address(bankA), address(bankB));
        _initiate(t);
        assertEq(uint8(settlement.stateOf(t.debtorBank, t.id)), uint8(IInterbankSettlement.SettlementState.Delivered));
    }

    function test_pauseCorridor_revertsWhenPaused() public {
        vm.startPrank(corridorAdmin);
        settlement.pauseCorridor(address(bankA), address(bankB));
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementCorridorPaused.selector,
                address(bankA),
                address(bankB)
            )
        );
        settlement.pauseCorridor(address(bankA), address(bankB));
        vm.stopPrank();
    }

    function test_unpauseCorridor_revertsWhenNotPaused() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementCorridorNotPaused.selector,
                address(bankA),
                address(bankB)
            )
        );
        vm.prank(corridorAdmin);
        settlement.unpauseCorridor(address(bankA), address(bankB));
    }

    function test_pauseCorridor_revertsWhenNotOpen() public {
        bytes memory err = abi.encodeWithSelector(
            IInterbankSettlement.InterbankSettlementCorridorNotOpen.selector,
            address(bankA),
            address(bankC)
        );
        vm.startPrank(corridorAdmin);
        vm.expectRevert(err);
        settlement.pauseCorridor(address(bankA), address(bankC));
        vm.expectRevert(err);
        settlement.unpauseCorridor(address(bankA), address(bankC));
        vm.stopPrank();
    }

    function test_pauseCorridor_revertsWithoutRole() public {
        bytes32 role = settlement.CORRIDOR_ADMIN_ROLE();
        bytes memory err = abi.encodeWithSelector(
            IAccessControl.AccessControlUnauthorizedAccount.selector,
            agentA,
            role
        );
        vm.startPrank(agentA);
        vm.expectRevert(err);
        settlement.pauseCorridor(address(bankA), address(bankB));
        vm.expectRevert(err);
        settlement.unpauseCorridor(address(bankA), address(bankB));
        vm.stopPrank();
    }

    function test_availableToSend_isZeroForClosedCorridor() public view {
        assertEq(settlement.availableToSend(address(bankA), address(bankC)), 0);
        assertEq(settlement.availableToSend(stranger, address(bankA)), 0);
    }

    function test_availableToSend_isTheSmallerRoom() public {
        assertEq(settlement.availableToSend(address(bankA), address(bankB)), IN_FLIGHT_CAP);
        // Window room (250k) is larger than in-flight room (100k) at first; fill the window with acknowledged
        // payments until it is the smaller one.
        for (uint256 i = 0; i < 2; ++i) {
            IInterbankSettlement.SettlementTerms memory t = _initiated(IN_FLIGHT_CAP);
            _smelt(t, keccak256(abi.encode("fiat", i)));
            _acknowledge(t);
        }
        assertEq(settlement.availableToSend(address(bankA), address(bankB)), WINDOW_CAP - 2 * IN_FLIGHT_CAP);
        _initiated(10_00);
        assertEq(settlement.availableToSend(address(bankA), address(bankB)), WINDOW_CAP - 2 * IN_FLIGHT_CAP - 10_00);
        vm.warp(T0 + WINDOW);
        _attest(bankA, RESERVE);
        assertEq(settlement.availableToSend(address(bankA), address(bankB)), IN_FLIGHT_CAP - 10_00);
    }

    // ---------------------------------------------------------------- initiate

    function test_initiate_mintsIntoSettlementAndEmits() public {
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, 1_234_56);
        vm.expectEmit(address(settlement));
        emit IInterbankSettlement.SettlementInitiated(
            t.id,
            address(bankA),
            address(bankB),
            1_234_56,
            ACCOUNT,
            t.deadline
        );
        vm.expectEmit(address(settlement));
        emit IInterbankSettlement.SettlementDelivered(t.id, address(bankA), address(bankB));
        vm.expectEmit(address(token));
        emit IBankToken.Mint(address(bankA), address(settlement), 1_234_56, SettlementId.unwrap(t.id));
        _initiate(t);

        assertEq(uint8(settlement.stateOf(t.debtorBank, t.id)), uint8(IInterbankSettlement.SettlementState.Delivered));
        IInterbankSettlement.SettlementRecord memory r = settlement.settlement(t.debtorBank, t.id);
        assertEq(r.termsDigest, settlement.hashTerms(t));
        assertEq(r.deadline, t.deadline);
        assertEq(uint8(r.state), uint8(IInterbankSettlement.SettlementState.Delivered));

        assertEq(token.balanceOf(address(settlement)), 1_234_56);
        assertEq(token.totalSupply(), 1_234_56);
        assertEq(ledger.outstandingOf(address(bankA)), 1_234_56);
        assertEq(ledger.totalOutstanding(), token.totalSupply());
        assertEq(token.minterAllowance(address(bankA)), MINTER_ALLOWANCE - 1_234_56);
        // No fiat reference is spent at the trust account: the settlement id is the reference.
        assertFalse(bankA.isFiatRefUsed(SettlementId.unwrap(t.id)));

        IInterbankSettlement.Corridor memory c = settlement.corridor(address(bankA), address(bankB));
        assertEq(c.inFlight, 1_234_56);
        assertEq(c.sentInWindow, 1_234_56);
        assertEq(settlement.totalInFlight(), 1_234_56);
        assertEq(settlement.availableToSend(address(bankA), address(bankB)), IN_FLIGHT_CAP - 1_234_56);
    }

    function testFuzz_corridorWords_fieldsRoundTripAndStayApart(
        uint256 inFlightCap,
        uint256 windowCap,
        uint256 windowLength,
        bool paused,
        uint256 inFlight,
        uint256 sent,
        uint256 windowStart,
        uint256 released
    ) public pure {
        CorridorLimits limits = CorridorLimitsLib.pack(inFlightCap, windowCap, windowLength, paused);
        assertTrue(limits.isOpen());
        assertEq(limits.isPaused(), paused);
        assertEq(limits.inFlightCap(), inFlightCap & type(uint64).max);
        assertEq(limits.windowCap(), windowCap & type(uint64).max);
        assertEq(limits.windowLength(), windowLength & type(uint32).max);
        CorridorLimits flipped = limits.withPaused(!paused);
        assertEq(flipped.isPaused(), !paused);
        assertEq(CorridorLimits.unwrap(flipped.withPaused(paused)), CorridorLimits.unwrap(limits));
        assertEq(flipped.inFlightCap(), limits.inFlightCap());
        assertEq(flipped.windowCap(), limits.windowCap());
        assertEq(flipped.windowLength(), limits.windowLength());
        assertTrue(flipped.isOpen());

        CorridorUsage usage = CorridorUsageLib.pack(inFlight, sent, windowStart);
        assertEq(usage.inFlight(), inFlight & type(uint64).max);
        assertEq(usage.sent(), sent & type(uint64).max);
        assertEq(usage.windowStart(), windowStart & type(uint40).max);
        released = bound(released, 0, usage.inFlight());
        CorridorUsage after_ = usage.withReleased(released);
        assertEq(after_.inFlight(), usage.inFlight() - released);
        assertEq(after_.sent(), usage.sent());
        assertEq(after_.windowStart(), usage.windowStart());
    }

    function testFuzz_settlementWord_fieldsRoundTripAndStayApart(
        bytes32 rawDigest,
        uint40 deadline,
        uint8 rawState,
        uint8 rawNext
    ) public pure {
        uint256 digest = uint256(rawDigest) & (~uint256(0) << 48);
        uint8 state = uint8(bound(rawState, 1, 8));
        uint8 next = uint8(bound(rawNext, 1, 8));
        SettlementWord word = SettlementWordLib.pack(digest, deadline, state);
        assertFalse(word.isEmpty());
        assertEq(word.digest(), digest);
        assertEq(word.deadline(), deadline);
        assertEq(uint8(word.storedState()), state);
        SettlementWord moved = word.withState(next);
        assertEq(moved.digest(), digest);
        assertEq(moved.deadline(), deadline);
        assertEq(uint8(moved.storedState()), next);
        // Out-of-range values are masked to their field, never spilling into a neighbour.
        SettlementWord wide = SettlementWordLib.pack(digest | 1, uint256(deadline) | (1 << 40), 0x100 | state);
        assertEq(SettlementWord.unwrap(wide), SettlementWord.unwrap(word));
        assertTrue(SettlementWord.wrap(0).isEmpty());
    }

    function test_hashTerms_isTheMaskedKeccakOfTheAbiEncoding() public {
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, 5_00);
        bytes32 full = keccak256(abi.encode(t));
        assertEq(settlement.hashTerms(t), full & ~bytes32(uint256(type(uint48).max)));
    }

    function test_initiate_revertsOnUnknownBank() public {
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, 1_00);
        t.debtorBank = stranger;
        vm.expectRevert(abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementUnknownBank.selector, stranger));
        vm.prank(agentA);
        settlement.initiate(t);
    }

    function test_initiate_revertsOnWrongAgent() public {
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, 1_00);
        _expectUnauthorized(address(bankA), agentB);
        vm.prank(agentB);
        settlement.initiate(t);
        _expectUnauthorized(address(bankA), stranger);
        vm.prank(stranger);
        settlement.initiate(t);
    }

    function test_initiate_revertsOnZeroId() public {
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, 1_00);
        t.id = SettlementId.wrap(bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementZeroId.selector));
        _initiate(t);
    }

    function test_initiate_revertsOnZeroAmount() public {
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, 0);
        vm.expectRevert(abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementZeroAmount.selector));
        _initiate(t);
    }

    function test_initiate_revertsOnZeroAccountRef() public {
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, 1_00);
        t.creditorAccountRef = bytes32(0);
        vm.expectRevert(abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementZeroAccountRef.selector));
        _initiate(t);
    }

    function test_initiate_revertsOnDeadlineNotInFuture() public {
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, 1_00);
        t.deadline = uint40(block.timestamp);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementInvalidDeadline.selector,
                t.deadline,
                block.timestamp
            )
        );
        _initiate(t);
        t.deadline = 0;
        vm.expectRevert(
            abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementInvalidDeadline.selector, 0, block.timestamp)
        );
        _initiate(t);
    }

    function test_initiate_revertsOnDuplicateId() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        _expectInvalidState(
            t.debtorBank,
            t.id,
            IInterbankSettlement.SettlementState.Delivered,
            IInterbankSettlement.SettlementState.None
        );
        _initiate(t);
        // Also with other terms, and after the payment completed.
        IInterbankSettlement.SettlementTerms memory other = _terms(bankA, bankB, 2_00);
        other.id = t.id;
        _expectInvalidState(
            t.debtorBank,
            t.id,
            IInterbankSettlement.SettlementState.Delivered,
            IInterbankSettlement.SettlementState.None
        );
        _initiate(other);
        _smelt(t, FIAT_B);
        _acknowledge(t);
        _expectInvalidState(
            t.debtorBank,
            t.id,
            IInterbankSettlement.SettlementState.Acknowledged,
            IInterbankSettlement.SettlementState.None
        );
        _initiate(t);
    }

    function test_initiate_revertsOnDuplicateIdOfExpiredPayment() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        vm.warp(t.deadline + 1);
        t.deadline = uint40(block.timestamp + 1 hours);
        _expectInvalidState(
            t.debtorBank,
            t.id,
            IInterbankSettlement.SettlementState.Expired,
            IInterbankSettlement.SettlementState.None
        );
        _initiate(t);
    }

    /// @dev M-4 (issue 13): bank B's agent takes bank A's pending id (the UETR A's customer was given), pays 0.01
    ///      to A with a deadline one second away and refunds it; A's own payment with that id must still go through.
    function test_M4_anotherBanksSquattedIdDoesNotBlockTheVictimsPayment() public {
        IInterbankSettlement.SettlementTerms memory victim = _terms(bankA, bankB, 5_000_00);
        IInterbankSettlement.SettlementTerms memory squat = _terms(bankB, bankA, 1);
        squat.id = victim.id;
        squat.deadline = uint40(block.timestamp + 1);
        _initiate(squat);
        vm.warp(block.timestamp + 2);
        vm.prank(agentB);
        settlement.refundExpired(squat, FIAT_B);

        victim.deadline = uint40(block.timestamp + 1 hours);
        vm.expectEmit(address(settlement));
        emit IInterbankSettlement.SettlementDelivered(victim.id, address(bankA), address(bankB));
        _initiate(victim);
        _smelt(victim, FIAT_B);
        _acknowledge(victim);
        assertEq(ledger.claimOf(address(bankB), address(bankA)), 5_000_00);
        assertEq(
            uint8(settlement.stateOf(address(bankA), victim.id)),
            uint8(IInterbankSettlement.SettlementState.Acknowledged)
        );
        // The squatter's record is its own, untouched by the victim's payment.
        assertEq(
            uint8(settlement.stateOf(address(bankB), victim.id)),
            uint8(IInterbankSettlement.SettlementState.Refunded)
        );
        assertEq(settlement.settlement(address(bankB), victim.id).termsDigest, settlement.hashTerms(squat));
    }

    /// @dev M-4: the same id under two debtor banks is two payments; a step names the one of its terms' debtor bank
    ///      and cannot reach the other's record.
    function test_M4_sameIdUnderTwoDebtorBanksIsTwoPayments() public {
        IInterbankSettlement.SettlementTerms memory fromA = _terms(bankA, bankB, 10_00);
        IInterbankSettlement.SettlementTerms memory fromB = _terms(bankB, bankA, 20_00);
        fromB.id = fromA.id;
        _initiate(fromA);
        _initiate(fromB);
        // B rejects A's payment; B's own payment with the same id is still Delivered.
        _reject(fromA, AC04);
        assertEq(
            uint8(settlement.stateOf(address(bankA), fromA.id)),
            uint8(IInterbankSettlement.SettlementState.Rejected)
        );
        assertEq(
            uint8(settlement.stateOf(address(bankB), fromA.id)),
            uint8(IInterbankSettlement.SettlementState.Delivered)
        );
        // A third bank naming itself as the debtor of that id finds no payment.
        IInterbankSettlement.SettlementTerms memory fromC = _copy(fromA);
        fromC.debtorBank = address(bankC);
        _expectInvalidState(
            address(bankC),
            fromA.id,
            IInterbankSettlement.SettlementState.None,
            IInterbankSettlement.SettlementState.Delivered
        );
        _smelt(fromC, FIAT_B);
        _smelt(fromB, FIAT_A);
        vm.prank(agentA);
        settlement.returnRejected(fromA, FIAT_A);
        assertEq(ledger.claimOf(address(bankA), address(bankB)), 20_00);
        assertEq(ledger.claimOf(address(bankB), address(bankA)), 0);
    }

    function test_initiate_revertsOnClosedCorridor() public {
        // C is registered but no corridor to it is open; an unregistered creditor has no corridor either.
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankC, 1_00);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementCorridorNotOpen.selector,
                address(bankA),
                address(bankC)
            )
        );
        _initiate(t);
        t.creditorBank = stranger;
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementCorridorNotOpen.selector,
                address(bankA),
                stranger
            )
        );
        _initiate(t);
    }

    function test_initiate_revertsOverInFlightCap() public {
        _initiated(IN_FLIGHT_CAP - 5_00);
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, 5_01);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementInFlightLimitExceeded.selector,
                address(bankA),
                address(bankB),
                IN_FLIGHT_CAP - 5_00,
                IN_FLIGHT_CAP,
                5_01
            )
        );
        _initiate(t);
        t.amount = 5_00;
        _initiate(t);
        assertEq(settlement.corridor(address(bankA), address(bankB)).inFlight, IN_FLIGHT_CAP);
    }

    function test_initiate_revertsOnAmountAboveCap() public {
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, IN_FLIGHT_CAP + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementInFlightLimitExceeded.selector,
                address(bankA),
                address(bankB),
                0,
                IN_FLIGHT_CAP,
                IN_FLIGHT_CAP + 1
            )
        );
        _initiate(t);
        t.amount = type(uint256).max;
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementInFlightLimitExceeded.selector,
                address(bankA),
                address(bankB),
                0,
                IN_FLIGHT_CAP,
                type(uint256).max
            )
        );
        _initiate(t);
    }

    function test_initiate_revertsOverWindowCapAndRollsOver() public {
        // Two full in-flight caps acknowledged, then half a cap open: 250k sent in this window.
        for (uint256 i = 0; i < 2; ++i) {
            IInterbankSettlement.SettlementTerms memory done = _initiated(IN_FLIGHT_CAP);
            _smelt(done, keccak256(abi.encode("fiat", i)));
            _acknowledge(done);
        }
        vm.warp(T0 + WINDOW - 1);
        _initiated(WINDOW_CAP - 2 * IN_FLIGHT_CAP);
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementWindowLimitExceeded.selector,
                address(bankA),
                address(bankB),
                WINDOW_CAP,
                WINDOW_CAP,
                1
            )
        );
        _initiate(t);

        // At the window's end a new window starts; the in-flight amount carries over, the window usage does not.
        vm.warp(T0 + WINDOW);
        _attest(bankA, RESERVE);
        t = _terms(bankA, bankB, 1);
        _initiate(t);
        IInterbankSettlement.Corridor memory c = settlement.corridor(address(bankA), address(bankB));
        assertEq(c.windowStart, T0 + WINDOW);
        assertEq(c.sentInWindow, 1);
        assertEq(c.inFlight, WINDOW_CAP - 2 * IN_FLIGHT_CAP + 1);
    }

    function test_initiate_windowsStayAlignedToTheFirstWindow() public {
        vm.warp(T0 + 2 * WINDOW + WINDOW / 2);
        _attest(bankA, RESERVE);
        _initiated(3_00);
        IInterbankSettlement.Corridor memory c = settlement.corridor(address(bankA), address(bankB));
        assertEq(c.windowStart, T0 + 2 * WINDOW);
        assertEq(c.sentInWindow, 3_00);
    }

    function test_initiate_windowCapIsPerCorridor() public {
        vm.prank(corridorAdmin);
        settlement.setCorridorLimits(address(bankA), address(bankB), IN_FLIGHT_CAP, 5_00, WINDOW);
        _initiated(5_00);
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementWindowLimitExceeded.selector,
                address(bankA),
                address(bankB),
                5_00,
                5_00,
                1
            )
        );
        _initiate(t);
        // The reverse corridor has its own window.
        _initiate(_terms(bankB, bankA, 50_00));
    }

    function test_initiate_revertsWhenReserveInsufficient() public {
        vm.prank(corridorAdmin);
        settlement.setCorridorLimits(address(bankA), address(bankB), 10 * RESERVE, 10 * RESERVE, WINDOW);
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, RESERVE + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReserveLedger.ReserveLedgerInsufficientReserve.selector,
                address(bankA),
                RESERVE,
                0,
                RESERVE + 1
            )
        );
        _initiate(t);
        assertEq(uint8(settlement.stateOf(t.debtorBank, t.id)), uint8(IInterbankSettlement.SettlementState.None));
        assertEq(settlement.corridor(address(bankA), address(bankB)).inFlight, 0);
    }

    function test_initiate_revertsWithoutTrustAccountRole() public {
        bytes32 role = bankA.SETTLEMENT_ROLE();
        vm.prank(admin);
        bankA.revokeRole(role, address(settlement));
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, address(settlement), role)
        );
        _initiate(_terms(bankA, bankB, 1_00));
    }

    function test_initiate_revertsOnReentry() public {
        ReentrantTrustAccount evil = new ReentrantTrustAccount(ITrustAccountToken(address(token)));
        vm.prank(reserveAdmin);
        ledger.registerIssuer(address(evil), 10_000, MAX_AGE);
        vm.prank(bankAdmin);
        settlement.registerBank(address(evil), agentC);
        vm.prank(corridorAdmin);
        settlement.setCorridorLimits(address(evil), address(bankB), IN_FLIGHT_CAP, WINDOW_CAP, WINDOW);
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, 1_00);
        t.debtorBank = address(evil);
        evil.arm(settlement, t);
        vm.expectRevert(abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector));
        vm.prank(agentC);
        settlement.initiate(t);
    }

    function testFuzz_initiate(uint256 amount, uint256 deadlineOffset) public {
        amount = bound(amount, 1, IN_FLIGHT_CAP);
        deadlineOffset = bound(deadlineOffset, 1, type(uint40).max - block.timestamp);
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, amount);
        t.deadline = uint40(block.timestamp + deadlineOffset);
        _initiate(t);
        assertEq(uint8(settlement.stateOf(t.debtorBank, t.id)), uint8(IInterbankSettlement.SettlementState.Delivered));
        assertEq(settlement.settlement(t.debtorBank, t.id).deadline, t.deadline);
        assertEq(token.balanceOf(address(settlement)), amount);
        assertEq(ledger.outstandingOf(address(bankA)), amount);
        assertEq(settlement.totalInFlight(), amount);
    }

    // ---------------------------------------------------------------- smelt

    function test_smelt_burnsAndRecordsClaim() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(700_00);
        vm.expectEmit(address(settlement));
        emit IInterbankSettlement.SettlementSmelted(t.id, address(bankA), address(bankB), 700_00, FIAT_B);
        vm.expectEmit(address(token));
        emit IBankToken.Burn(address(settlement), 700_00, FIAT_B);
        _smelt(t, FIAT_B);

        assertEq(uint8(settlement.stateOf(t.debtorBank, t.id)), uint8(IInterbankSettlement.SettlementState.Smelted));
        assertEq(token.balanceOf(address(settlement)), 0);
        assertEq(token.totalSupply(), 0);
        assertEq(ledger.outstandingOf(address(bankA)), 0);
        assertEq(ledger.outstandingOf(address(bankB)), 0);
        assertEq(ledger.outstandingOf(address(settlement)), 0);
        assertEq(ledger.totalOutstanding(), 0);
        assertEq(ledger.claimOf(address(bankB), address(bankA)), 700_00);
        assertEq(ledger.claimOf(address(bankA), address(bankB)), 0);
        // In flight until A acknowledges.
        assertEq(settlement.corridor(address(bankA), address(bankB)).inFlight, 700_00);
    }

    function test_smelt_succeedsAtTheDeadline() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        vm.warp(t.deadline);
        assertEq(uint8(settlement.stateOf(t.debtorBank, t.id)), uint8(IInterbankSettlement.SettlementState.Delivered));
        _smelt(t, FIAT_B);
        assertEq(uint8(settlement.stateOf(t.debtorBank, t.id)), uint8(IInterbankSettlement.SettlementState.Smelted));
    }

    function test_smelt_revertsAfterTheDeadline() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        vm.warp(t.deadline + 1);
        _expectInvalidState(
            t.debtorBank,
            t.id,
            IInterbankSettlement.SettlementState.Expired,
            IInterbankSettlement.SettlementState.Delivered
        );
        _smelt(t, FIAT_B);
    }

    function test_smelt_revertsOnWrongAgent() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        _expectUnauthorized(address(bankB), agentA);
        vm.prank(agentA);
        settlement.smelt(t, FIAT_B);
    }

    function test_smelt_revertsOnUnknownCreditorBank() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        t.creditorBank = stranger;
        vm.expectRevert(abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementUnknownBank.selector, stranger));
        vm.prank(agentB);
        settlement.smelt(t, FIAT_B);
    }

    function test_smelt_revertsOnZeroFiatRef() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        vm.expectRevert(abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementZeroFiatRef.selector));
        _smelt(t, bytes32(0));
    }

    function test_smelt_revertsOnUnknownId() public {
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, 1_00);
        _expectInvalidState(
            t.debtorBank,
            t.id,
            IInterbankSettlement.SettlementState.None,
            IInterbankSettlement.SettlementState.Delivered
        );
        _smelt(t, FIAT_B);
    }

    function test_smelt_revertsOnOtherTerms() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(10_00);
        IInterbankSettlement.SettlementTerms memory changed = _copy(t);
        changed.amount = 20_00;
        _expectMismatch(t.debtorBank, t.id);
        _smelt(changed, FIAT_B);
        changed = _copy(t);
        changed.creditorAccountRef = keccak256("another account");
        _expectMismatch(t.debtorBank, t.id);
        _smelt(changed, FIAT_B);
        changed = _copy(t);
        changed.deadline = t.deadline + 1;
        _expectMismatch(t.debtorBank, t.id);
        _smelt(changed, FIAT_B);
        // A third bank's agent naming itself as the creditor gets no further.
        changed = _copy(t);
        changed.creditorBank = address(bankC);
        _expectMismatch(t.debtorBank, t.id);
        _smelt(changed, FIAT_B);
    }

    function test_smelt_revertsWhenSmeltedOrRejected() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        _smelt(t, FIAT_B);
        _expectInvalidState(
            t.debtorBank,
            t.id,
            IInterbankSettlement.SettlementState.Smelted,
            IInterbankSettlement.SettlementState.Delivered
        );
        _smelt(t, keccak256("again"));
        IInterbankSettlement.SettlementTerms memory r = _initiated(1_00);
        _reject(r, AC04);
        _expectInvalidState(
            r.debtorBank,
            r.id,
            IInterbankSettlement.SettlementState.Rejected,
            IInterbankSettlement.SettlementState.Delivered
        );
        _smelt(r, FIAT_B);
    }

    function test_smelt_worksWhileCorridorPausedAndAttestationStale() public {
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, 1_00);
        t.deadline = uint40(block.timestamp + 2 * MAX_AGE);
        _initiate(t);
        vm.prank(corridorAdmin);
        settlement.pauseCorridor(address(bankA), address(bankB));
        vm.warp(block.timestamp + MAX_AGE + 1);
        assertFalse(ledger.isFresh(address(bankA)));
        _smelt(t, FIAT_B);
        _acknowledge(t);
        assertEq(ledger.claimOf(address(bankB), address(bankA)), 1_00);
        assertEq(
            uint8(settlement.stateOf(t.debtorBank, t.id)),
            uint8(IInterbankSettlement.SettlementState.Acknowledged)
        );
    }

    function test_smelt_thenNettingMovesReserve() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(300_00);
        _smelt(t, FIAT_B);
        // The 300.00 still sit in A's trust account but are owed to B: A may not mint against them.
        assertEq(ledger.issuer(address(bankA)).reserve, RESERVE - 300_00);
        assertEq(ledger.owedBy(address(bankA)), 300_00);
        assertEq(ledger.mintable(address(bankA)), RESERVE - 300_00);
        assertEq(ledger.mintable(address(bankB)), RESERVE);

        vm.expectEmit(address(ledger));
        emit IReserveLedger.InterbankClaimNetted(address(bankB), address(bankA), keccak256("wire-1"), 300_00, 0);
        vm.prank(attestor);
        ledger.netClaim(address(bankB), address(bankA), 300_00, keccak256("wire-1"));
        assertEq(ledger.claimOf(address(bankB), address(bankA)), 0);
        assertEq(ledger.owedBy(address(bankA)), 0);
        assertEq(ledger.issuer(address(bankA)).reserve, RESERVE - 300_00);
        assertEq(ledger.issuer(address(bankB)).reserve, RESERVE + 300_00);
        assertEq(ledger.mintable(address(bankA)), RESERVE - 300_00);
        assertEq(ledger.mintable(address(bankB)), RESERVE + 300_00);
    }

    function test_smelt_bothDirectionsKeepSeparateClaims() public {
        IInterbankSettlement.SettlementTerms memory ab = _initiated(30_00);
        IInterbankSettlement.SettlementTerms memory ba = _terms(bankB, bankA, 20_00);
        _initiate(ba);
        _smelt(ab, FIAT_B);
        vm.prank(agentA);
        settlement.smelt(ba, FIAT_A);
        assertEq(ledger.claimOf(address(bankB), address(bankA)), 30_00);
        assertEq(ledger.claimOf(address(bankA), address(bankB)), 20_00);
        assertEq(ledger.totalOutstanding(), token.totalSupply());
        assertEq(token.totalSupply(), 0);
    }

    // ---------------------------------------------------------------- acknowledge

    function test_acknowledge_finalisesAndReleasesCorridor() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(50_00);
        _smelt(t, FIAT_B);
        vm.expectEmit(address(settlement));
        emit IInterbankSettlement.SettlementAcknowledged(t.id, address(bankA));
        _acknowledge(t);
        assertEq(
            uint8(settlement.stateOf(t.debtorBank, t.id)),
            uint8(IInterbankSettlement.SettlementState.Acknowledged)
        );
        IInterbankSettlement.Corridor memory c = settlement.corridor(address(bankA), address(bankB));
        assertEq(c.inFlight, 0);
        assertEq(c.sentInWindow, 50_00);
        assertEq(settlement.totalInFlight(), 0);
        // Acknowledged stays acknowledged after the deadline.
        vm.warp(t.deadline + 1);
        assertEq(
            uint8(settlement.stateOf(t.debtorBank, t.id)),
            uint8(IInterbankSettlement.SettlementState.Acknowledged)
        );
    }

    function test_acknowledge_worksAfterTheDeadline() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(50_00);
        _smelt(t, FIAT_B);
        vm.warp(t.deadline + 1 days);
        _acknowledge(t);
        assertEq(
            uint8(settlement.stateOf(t.debtorBank, t.id)),
            uint8(IInterbankSettlement.SettlementState.Acknowledged)
        );
    }

    function test_acknowledge_revertsOnWrongAgent() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        _smelt(t, FIAT_B);
        _expectUnauthorized(address(bankA), agentB);
        vm.prank(agentB);
        settlement.acknowledge(t);
    }

    function test_acknowledge_revertsBeforeSmeltAndTwice() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        _expectInvalidState(
            t.debtorBank,
            t.id,
            IInterbankSettlement.SettlementState.Delivered,
            IInterbankSettlement.SettlementState.Smelted
        );
        _acknowledge(t);
        _smelt(t, FIAT_B);
        _acknowledge(t);
        _expectInvalidState(
            t.debtorBank,
            t.id,
            IInterbankSettlement.SettlementState.Acknowledged,
            IInterbankSettlement.SettlementState.Smelted
        );
        _acknowledge(t);
    }

    function test_acknowledge_revertsOnOtherTerms() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        _smelt(t, FIAT_B);
        t.amount = 2_00;
        _expectMismatch(t.debtorBank, t.id);
        _acknowledge(t);
    }

    function test_acknowledgeBatch_finalisesAll() public {
        IInterbankSettlement.SettlementTerms[] memory batch = new IInterbankSettlement.SettlementTerms[](3);
        for (uint256 i = 0; i < 3; ++i) {
            batch[i] = _initiated((i + 1) * 10_00);
            _smelt(batch[i], keccak256(abi.encode("fiat", i)));
        }
        for (uint256 i = 0; i < 3; ++i) {
            vm.expectEmit(address(settlement));
            emit IInterbankSettlement.SettlementAcknowledged(batch[i].id, address(bankA));
        }
        vm.prank(agentA);
        settlement.acknowledgeBatch(batch);
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(
                uint8(settlement.stateOf(batch[i].debtorBank, batch[i].id)),
                uint8(IInterbankSettlement.SettlementState.Acknowledged)
            );
        }
        assertEq(settlement.corridor(address(bankA), address(bankB)).inFlight, 0);
    }

    function test_acknowledgeBatch_isAllOrNothing() public {
        IInterbankSettlement.SettlementTerms[] memory batch = new IInterbankSettlement.SettlementTerms[](2);
        batch[0] = _initiated(10_00);
        _smelt(batch[0], FIAT_B);
        batch[1] = _initiated(20_00); // not smelted
        _expectInvalidState(
            batch[1].debtorBank,
            batch[1].id,
            IInterbankSettlement.SettlementState.Delivered,
            IInterbankSettlement.SettlementState.Smelted
        );
        vm.prank(agentA);
        settlement.acknowledgeBatch(batch);
        assertEq(
            uint8(settlement.stateOf(batch[0].debtorBank, batch[0].id)),
            uint8(IInterbankSettlement.SettlementState.Smelted)
        );

        // The same payment twice in one batch.
        batch[1] = batch[0];
        _expectInvalidState(
            batch[0].debtorBank,
            batch[0].id,
            IInterbankSettlement.SettlementState.Acknowledged,
            IInterbankSettlement.SettlementState.Smelted
        );
        vm.prank(agentA);
        settlement.acknowledgeBatch(batch);
    }

    function test_acknowledgeBatch_checksEveryDebtorBank() public {
        IInterbankSettlement.SettlementTerms[] memory batch = new IInterbankSettlement.SettlementTerms[](2);
        batch[0] = _initiated(10_00);
        _smelt(batch[0], FIAT_B);
        batch[1] = _terms(bankB, bankA, 10_00);
        _initiate(batch[1]);
        vm.prank(agentA);
        settlement.smelt(batch[1], FIAT_A);
        _expectUnauthorized(address(bankB), agentA);
        vm.prank(agentA);
        settlement.acknowledgeBatch(batch);
    }

    function test_acknowledgeBatch_revertsWhenEmpty() public {
        IInterbankSettlement.SettlementTerms[] memory batch = new IInterbankSettlement.SettlementTerms[](0);
        vm.expectRevert(abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementEmptyBatch.selector));
        vm.prank(agentA);
        settlement.acknowledgeBatch(batch);
    }

    // ---------------------------------------------------------------- initiate and smelt in batches

    function _batchOf(
        uint256 count,
        uint256 amount
    ) internal returns (IInterbankSettlement.SettlementTerms[] memory batch) {
        batch = new IInterbankSettlement.SettlementTerms[](count);
        for (uint256 i = 0; i < count; ++i) {
            batch[i] = _terms(bankA, bankB, amount * (i + 1));
        }
    }

    function _refs(uint256 count) internal pure returns (bytes32[] memory refs) {
        refs = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            refs[i] = keccak256(abi.encode("fiat", i));
        }
    }

    function test_initiateBatch_startsEachInOrder() public {
        IInterbankSettlement.SettlementTerms[] memory batch = _batchOf(3, 10_00);
        for (uint256 i = 0; i < 3; ++i) {
            vm.expectEmit(address(settlement));
            emit IInterbankSettlement.SettlementInitiated(
                batch[i].id,
                address(bankA),
                address(bankB),
                batch[i].amount,
                ACCOUNT,
                batch[i].deadline
            );
            vm.expectEmit(address(settlement));
            emit IInterbankSettlement.SettlementDelivered(batch[i].id, address(bankA), address(bankB));
        }
        vm.prank(agentA);
        settlement.initiateBatch(batch);
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(
                uint8(settlement.stateOf(batch[i].debtorBank, batch[i].id)),
                uint8(IInterbankSettlement.SettlementState.Delivered)
            );
            assertEq(settlement.settlement(address(bankA), batch[i].id).termsDigest, settlement.hashTerms(batch[i]));
        }
        assertEq(token.balanceOf(address(settlement)), 60_00);
        assertEq(ledger.outstandingOf(address(bankA)), 60_00);
        assertEq(settlement.corridor(address(bankA), address(bankB)).inFlight, 60_00);
        assertEq(settlement.totalInFlight(), 60_00);
    }

    function test_initiateBatch_isAllOrNothing() public {
        // The second payment takes the corridor over its in-flight cap: the first is not kept either.
        IInterbankSettlement.SettlementTerms[] memory batch = new IInterbankSettlement.SettlementTerms[](2);
        batch[0] = _terms(bankA, bankB, IN_FLIGHT_CAP - 5_00);
        batch[1] = _terms(bankA, bankB, 5_01);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementInFlightLimitExceeded.selector,
                address(bankA),
                address(bankB),
                IN_FLIGHT_CAP - 5_00,
                IN_FLIGHT_CAP,
                5_01
            )
        );
        vm.prank(agentA);
        settlement.initiateBatch(batch);
        assertEq(
            uint8(settlement.stateOf(address(bankA), batch[0].id)),
            uint8(IInterbankSettlement.SettlementState.None)
        );
        assertEq(token.balanceOf(address(settlement)), 0);
        assertEq(settlement.corridor(address(bankA), address(bankB)).inFlight, 0);

        // One id twice in one batch.
        batch[0].amount = 10_00;
        batch[1] = batch[0];
        _expectInvalidState(
            address(bankA),
            batch[0].id,
            IInterbankSettlement.SettlementState.Delivered,
            IInterbankSettlement.SettlementState.None
        );
        vm.prank(agentA);
        settlement.initiateBatch(batch);
    }

    function test_initiateBatch_checksEveryDebtorBank() public {
        // Bank A's agent cannot slip a payment of bank C into its own batch.
        IInterbankSettlement.SettlementTerms[] memory batch = new IInterbankSettlement.SettlementTerms[](2);
        batch[0] = _terms(bankA, bankB, 10_00);
        batch[1] = _terms(bankC, bankB, 10_00);
        _expectUnauthorized(address(bankC), agentA);
        vm.prank(agentA);
        settlement.initiateBatch(batch);
    }

    function test_initiateBatch_stopsAtAPausedCorridor() public {
        // A pause of A -> C cannot be passed by batching a payment on it behind one on an open corridor.
        vm.prank(corridorAdmin);
        settlement.setCorridorLimits(address(bankA), address(bankC), IN_FLIGHT_CAP, WINDOW_CAP, WINDOW);
        vm.prank(corridorAdmin);
        settlement.pauseCorridor(address(bankA), address(bankC));
        IInterbankSettlement.SettlementTerms[] memory batch = new IInterbankSettlement.SettlementTerms[](2);
        batch[0] = _terms(bankA, bankB, 10_00);
        batch[1] = _terms(bankA, bankC, 10_00);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementCorridorPaused.selector,
                address(bankA),
                address(bankC)
            )
        );
        vm.prank(agentA);
        settlement.initiateBatch(batch);
        assertEq(token.balanceOf(address(settlement)), 0);
    }

    function test_initiateBatch_checksEachPaymentsTerms() public {
        IInterbankSettlement.SettlementTerms[] memory batch = _batchOf(2, 10_00);
        batch[1].amount = 0;
        vm.expectRevert(abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementZeroAmount.selector));
        vm.prank(agentA);
        settlement.initiateBatch(batch);
        batch[1].amount = 10_00;
        batch[1].deadline = uint40(block.timestamp);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementInvalidDeadline.selector,
                block.timestamp,
                block.timestamp
            )
        );
        vm.prank(agentA);
        settlement.initiateBatch(batch);
    }

    function test_initiateBatch_revertsWhenEmpty() public {
        IInterbankSettlement.SettlementTerms[] memory batch = new IInterbankSettlement.SettlementTerms[](0);
        vm.expectRevert(abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementEmptyBatch.selector));
        vm.prank(agentA);
        settlement.initiateBatch(batch);
    }

    function test_initiateBatch_revertsOnReentry() public {
        ReentrantTrustAccount evil = new ReentrantTrustAccount(ITrustAccountToken(address(token)));
        vm.prank(reserveAdmin);
        ledger.registerIssuer(address(evil), 10_000, MAX_AGE);
        vm.prank(bankAdmin);
        settlement.registerBank(address(evil), agentC);
        vm.prank(corridorAdmin);
        settlement.setCorridorLimits(address(evil), address(bankB), IN_FLIGHT_CAP, WINDOW_CAP, WINDOW);
        IInterbankSettlement.SettlementTerms[] memory batch = new IInterbankSettlement.SettlementTerms[](1);
        batch[0] = _terms(bankA, bankB, 1_00);
        batch[0].debtorBank = address(evil);
        evil.arm(settlement, batch[0]);
        vm.expectRevert(abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector));
        vm.prank(agentC);
        settlement.initiateBatch(batch);
    }

    function test_smeltBatch_smeltsEachInOrder() public {
        IInterbankSettlement.SettlementTerms[] memory batch = _batchOf(3, 10_00);
        vm.prank(agentA);
        settlement.initiateBatch(batch);
        bytes32[] memory refs = _refs(3);
        for (uint256 i = 0; i < 3; ++i) {
            vm.expectEmit(address(settlement));
            emit IInterbankSettlement.SettlementSmelted(
                batch[i].id,
                address(bankA),
                address(bankB),
                batch[i].amount,
                refs[i]
            );
        }
        vm.prank(agentB);
        settlement.smeltBatch(batch, refs);
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(
                uint8(settlement.stateOf(batch[i].debtorBank, batch[i].id)),
                uint8(IInterbankSettlement.SettlementState.Smelted)
            );
        }
        assertEq(token.balanceOf(address(settlement)), 0);
        assertEq(token.totalSupply(), 0);
        assertEq(ledger.outstandingOf(address(bankA)), 0);
        assertEq(ledger.totalOutstanding(), 0);
        assertEq(ledger.claimOf(address(bankB), address(bankA)), 60_00);
        vm.prank(agentA);
        settlement.acknowledgeBatch(batch);
        assertEq(settlement.totalInFlight(), 0);
    }

    function test_smeltBatch_isAllOrNothing() public {
        IInterbankSettlement.SettlementTerms[] memory batch = _batchOf(2, 10_00);
        _initiate(batch[0]); // the second is never initiated
        _expectInvalidState(
            address(bankA),
            batch[1].id,
            IInterbankSettlement.SettlementState.None,
            IInterbankSettlement.SettlementState.Delivered
        );
        vm.prank(agentB);
        settlement.smeltBatch(batch, _refs(2));
        assertEq(
            uint8(settlement.stateOf(address(bankA), batch[0].id)),
            uint8(IInterbankSettlement.SettlementState.Delivered)
        );
        assertEq(token.balanceOf(address(settlement)), 10_00);

        // One payment twice in one batch.
        batch[1] = batch[0];
        _expectInvalidState(
            address(bankA),
            batch[0].id,
            IInterbankSettlement.SettlementState.Smelted,
            IInterbankSettlement.SettlementState.Delivered
        );
        vm.prank(agentB);
        settlement.smeltBatch(batch, _refs(2));
    }

    function test_smeltBatch_checksEveryCreditorBank() public {
        // Bank B's agent cannot smelt a payment owed to bank C by batching it behind one of its own.
        vm.prank(corridorAdmin);
        settlement.setCorridorLimits(address(bankA), address(bankC), IN_FLIGHT_CAP, WINDOW_CAP, WINDOW);
        IInterbankSettlement.SettlementTerms[] memory batch = new IInterbankSettlement.SettlementTerms[](2);
        batch[0] = _initiated(10_00);
        batch[1] = _terms(bankA, bankC, 10_00);
        _initiate(batch[1]);
        _expectUnauthorized(address(bankC), agentB);
        vm.prank(agentB);
        settlement.smeltBatch(batch, _refs(2));
    }

    function test_smeltBatch_checksEachFiatRefAndTheirCount() public {
        IInterbankSettlement.SettlementTerms[] memory batch = _batchOf(2, 10_00);
        vm.prank(agentA);
        settlement.initiateBatch(batch);
        bytes32[] memory refs = _refs(2);
        refs[1] = bytes32(0);
        vm.expectRevert(abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementZeroFiatRef.selector));
        vm.prank(agentB);
        settlement.smeltBatch(batch, refs);
        vm.expectRevert(
            abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementBatchLengthMismatch.selector, 2, 1)
        );
        vm.prank(agentB);
        settlement.smeltBatch(batch, _refs(1));
        vm.expectRevert(
            abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementBatchLengthMismatch.selector, 2, 3)
        );
        vm.prank(agentB);
        settlement.smeltBatch(batch, _refs(3));
    }

    function test_smeltBatch_refusesAnExpiredPayment() public {
        IInterbankSettlement.SettlementTerms[] memory batch = _batchOf(2, 10_00);
        batch[1].deadline = uint40(block.timestamp + 10);
        vm.prank(agentA);
        settlement.initiateBatch(batch);
        vm.warp(block.timestamp + 11);
        _expectInvalidState(
            address(bankA),
            batch[1].id,
            IInterbankSettlement.SettlementState.Expired,
            IInterbankSettlement.SettlementState.Delivered
        );
        vm.prank(agentB);
        settlement.smeltBatch(batch, _refs(2));
    }

    function test_smeltBatch_revertsWhenEmpty() public {
        IInterbankSettlement.SettlementTerms[] memory batch = new IInterbankSettlement.SettlementTerms[](0);
        vm.expectRevert(abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementEmptyBatch.selector));
        vm.prank(agentB);
        settlement.smeltBatch(batch, new bytes32[](0));
    }

    // ---------------------------------------------------------------- reject and return

    function test_reject_keepsTokensHeld() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(80_00);
        vm.expectEmit(address(settlement));
        emit IInterbankSettlement.SettlementRejected(t.id, address(bankA), address(bankB), AC04);
        _reject(t, AC04);
        assertEq(uint8(settlement.stateOf(t.debtorBank, t.id)), uint8(IInterbankSettlement.SettlementState.Rejected));
        assertEq(token.balanceOf(address(settlement)), 80_00);
        assertEq(ledger.outstandingOf(address(bankA)), 80_00);
        assertEq(settlement.corridor(address(bankA), address(bankB)).inFlight, 80_00);
        // Rejected does not expire.
        vm.warp(t.deadline + 1);
        assertEq(uint8(settlement.stateOf(t.debtorBank, t.id)), uint8(IInterbankSettlement.SettlementState.Rejected));
    }

    function test_reject_revertsOnWrongAgent() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        _expectUnauthorized(address(bankB), agentA);
        vm.prank(agentA);
        settlement.reject(t, AC04);
    }

    function test_reject_revertsOnZeroReason() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        vm.expectRevert(abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementZeroReasonCode.selector));
        _reject(t, bytes32(0));
    }

    function test_reject_revertsAfterDeadlineAndTwice() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        _reject(t, AC04);
        _expectInvalidState(
            t.debtorBank,
            t.id,
            IInterbankSettlement.SettlementState.Rejected,
            IInterbankSettlement.SettlementState.Delivered
        );
        _reject(t, AC04);
        IInterbankSettlement.SettlementTerms memory late = _initiated(1_00);
        vm.warp(late.deadline + 1);
        _expectInvalidState(
            late.debtorBank,
            late.id,
            IInterbankSettlement.SettlementState.Expired,
            IInterbankSettlement.SettlementState.Delivered
        );
        _reject(late, AC04);
    }

    function test_returnRejected_burnsAtDebtor() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(80_00);
        _reject(t, AC04);
        vm.expectEmit(address(settlement));
        emit IInterbankSettlement.SettlementReturned(t.id, address(bankA), FIAT_A);
        vm.expectEmit(address(bankA));
        emit ITrustAccount.SettlementBurned(FIAT_A, address(settlement), 80_00);
        vm.expectEmit(address(token));
        emit IBankToken.Burn(address(bankA), 80_00, FIAT_A);
        vm.prank(agentA);
        settlement.returnRejected(t, FIAT_A);

        assertEq(uint8(settlement.stateOf(t.debtorBank, t.id)), uint8(IInterbankSettlement.SettlementState.Returned));
        assertEq(token.balanceOf(address(settlement)), 0);
        assertEq(token.balanceOf(address(bankA)), 0);
        assertEq(token.allowance(address(settlement), address(bankA)), 0);
        assertEq(token.totalSupply(), 0);
        assertEq(ledger.outstandingOf(address(bankA)), 0);
        assertEq(ledger.claimOf(address(bankB), address(bankA)), 0);
        assertEq(settlement.corridor(address(bankA), address(bankB)).inFlight, 0);
        assertTrue(bankA.isFiatRefUsed(FIAT_A));
    }

    function test_returnRejected_revertsOnWrongAgent() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        _reject(t, AC04);
        _expectUnauthorized(address(bankA), agentB);
        vm.prank(agentB);
        settlement.returnRejected(t, FIAT_A);
    }

    function test_returnRejected_revertsOnZeroFiatRef() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        _reject(t, AC04);
        vm.expectRevert(abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementZeroFiatRef.selector));
        vm.prank(agentA);
        settlement.returnRejected(t, bytes32(0));
    }

    function test_returnRejected_revertsUnlessRejected() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        _expectInvalidState(
            t.debtorBank,
            t.id,
            IInterbankSettlement.SettlementState.Delivered,
            IInterbankSettlement.SettlementState.Rejected
        );
        vm.prank(agentA);
        settlement.returnRejected(t, FIAT_A);
        _reject(t, AC04);
        vm.prank(agentA);
        settlement.returnRejected(t, FIAT_A);
        _expectInvalidState(
            t.debtorBank,
            t.id,
            IInterbankSettlement.SettlementState.Returned,
            IInterbankSettlement.SettlementState.Rejected
        );
        vm.prank(agentA);
        settlement.returnRejected(t, keccak256("other"));
    }

    function test_returnRejected_revertsOnUsedFiatRef() public {
        _deposit(bankA, stranger, 1_00, FIAT_A);
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        _reject(t, AC04);
        vm.expectRevert(abi.encodeWithSelector(ITrustAccount.TrustAccountFiatRefUsed.selector, FIAT_A));
        vm.prank(agentA);
        settlement.returnRejected(t, FIAT_A);
        assertEq(uint8(settlement.stateOf(t.debtorBank, t.id)), uint8(IInterbankSettlement.SettlementState.Rejected));
    }

    // ---------------------------------------------------------------- expiry and refund

    function test_stateOf_derivesExpiredWithoutTransaction() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        assertEq(uint8(settlement.stateOf(t.debtorBank, t.id)), uint8(IInterbankSettlement.SettlementState.Delivered));
        vm.warp(t.deadline + 1);
        assertEq(uint8(settlement.stateOf(t.debtorBank, t.id)), uint8(IInterbankSettlement.SettlementState.Expired));
        // The stored state is still `Delivered`.
        assertEq(
            uint8(settlement.settlement(t.debtorBank, t.id).state),
            uint8(IInterbankSettlement.SettlementState.Delivered)
        );
        assertEq(
            uint8(settlement.stateOf(address(bankA), SettlementId.wrap(keccak256("unknown")))),
            uint8(IInterbankSettlement.SettlementState.None)
        );
        // The id is A's: under another debtor bank it is unknown.
        assertEq(uint8(settlement.stateOf(address(bankB), t.id)), uint8(IInterbankSettlement.SettlementState.None));
    }

    function test_refundExpired_burnsAtDebtor() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(60_00);
        vm.warp(t.deadline + 1);
        vm.expectEmit(address(settlement));
        emit IInterbankSettlement.SettlementRefunded(t.id, address(bankA), FIAT_A);
        vm.expectEmit(address(token));
        emit IBankToken.Burn(address(bankA), 60_00, FIAT_A);
        vm.prank(agentA);
        settlement.refundExpired(t, FIAT_A);
        assertEq(uint8(settlement.stateOf(t.debtorBank, t.id)), uint8(IInterbankSettlement.SettlementState.Refunded));
        assertEq(token.balanceOf(address(settlement)), 0);
        assertEq(token.totalSupply(), 0);
        assertEq(ledger.outstandingOf(address(bankA)), 0);
        assertEq(settlement.corridor(address(bankA), address(bankB)).inFlight, 0);
        assertEq(settlement.totalInFlight(), 0);
    }

    function test_refundExpired_revertsBeforeDeadline() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        vm.warp(t.deadline);
        _expectInvalidState(
            t.debtorBank,
            t.id,
            IInterbankSettlement.SettlementState.Delivered,
            IInterbankSettlement.SettlementState.Expired
        );
        vm.prank(agentA);
        settlement.refundExpired(t, FIAT_A);
    }

    function test_refundExpired_revertsTwiceAndOnSmelted() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        IInterbankSettlement.SettlementTerms memory s = _initiated(1_00);
        _smelt(s, FIAT_B);
        vm.warp(t.deadline + 1);
        vm.prank(agentA);
        settlement.refundExpired(t, FIAT_A);
        _expectInvalidState(
            t.debtorBank,
            t.id,
            IInterbankSettlement.SettlementState.Refunded,
            IInterbankSettlement.SettlementState.Expired
        );
        vm.prank(agentA);
        settlement.refundExpired(t, keccak256("other"));
        _expectInvalidState(
            s.debtorBank,
            s.id,
            IInterbankSettlement.SettlementState.Smelted,
            IInterbankSettlement.SettlementState.Expired
        );
        vm.prank(agentA);
        settlement.refundExpired(s, keccak256("other"));
    }

    function test_refundExpired_revertsOnWrongAgentAndZeroRef() public {
        IInterbankSettlement.SettlementTerms memory t = _initiated(1_00);
        vm.warp(t.deadline + 1);
        _expectUnauthorized(address(bankA), agentB);
        vm.prank(agentB);
        settlement.refundExpired(t, FIAT_A);
        vm.expectRevert(abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementZeroFiatRef.selector));
        vm.prank(agentA);
        settlement.refundExpired(t, bytes32(0));
    }

    // ---------------------------------------------------------------- whole lifecycles, fuzzed

    function testFuzz_lifecycle(uint256 amount, uint256 deadlineOffset, uint256 elapsed, uint8 path) public {
        amount = bound(amount, 1, IN_FLIGHT_CAP);
        deadlineOffset = bound(deadlineOffset, 1, 30 days);
        elapsed = bound(elapsed, 0, 2 * deadlineOffset);
        IInterbankSettlement.SettlementTerms memory t = _terms(bankA, bankB, amount);
        t.deadline = uint40(block.timestamp + deadlineOffset);
        _initiate(t);
        vm.warp(block.timestamp + elapsed);
        bool expired = block.timestamp > t.deadline;
        assertEq(
            uint8(settlement.stateOf(t.debtorBank, t.id)),
            uint8(
                expired ? IInterbankSettlement.SettlementState.Expired : IInterbankSettlement.SettlementState.Delivered
            )
        );
        if (expired) {
            vm.prank(agentA);
            settlement.refundExpired(t, FIAT_A);
            assertEq(ledger.claimOf(address(bankB), address(bankA)), 0);
        } else if (path % 2 == 0) {
            _smelt(t, FIAT_B);
            _acknowledge(t);
            assertEq(ledger.claimOf(address(bankB), address(bankA)), amount);
        } else {
            _reject(t, AC04);
            vm.prank(agentA);
            settlement.returnRejected(t, FIAT_A);
            assertEq(ledger.claimOf(address(bankB), address(bankA)), 0);
        }
        assertEq(token.totalSupply(), 0);
        assertEq(ledger.totalOutstanding(), 0);
        assertEq(token.balanceOf(address(settlement)), 0);
        assertEq(settlement.totalInFlight(), 0);
    }

    // ---------------------------------------------------------------- helpers

    function _copy(
        IInterbankSettlement.SettlementTerms memory t
    ) internal pure returns (IInterbankSettlement.SettlementTerms memory) {
        return
            IInterbankSettlement.SettlementTerms({
                id: t.id,
                debtorBank: t.debtorBank,
                creditorBank: t.creditorBank,
                amount: t.amount,
                creditorAccountRef: t.creditorAccountRef,
                deadline: t.deadline
            });
    }

    function _expectInvalidState(
        address debtorBank,
        SettlementId id,
        IInterbankSettlement.SettlementState current,
        IInterbankSettlement.SettlementState expected
    ) internal {
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementInvalidState.selector,
                debtorBank,
                id,
                current,
                expected
            )
        );
    }

    function _expectMismatch(address debtorBank, SettlementId id) internal {
        vm.expectRevert(
            abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementTermsMismatch.selector, debtorBank, id)
        );
    }

    function _expectUnauthorized(address bank, address caller) internal {
        vm.expectRevert(
            abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementUnauthorizedAgent.selector, bank, caller)
        );
    }

    function _expectInvalidBank(address bank) internal {
        vm.expectRevert(abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementInvalidBank.selector, bank));
        vm.prank(bankAdmin);
        settlement.registerBank(bank, agentC);
    }

    function _expectInvalidCorridor(address debtor, address creditor) internal {
        vm.expectRevert(
            abi.encodeWithSelector(IInterbankSettlement.InterbankSettlementInvalidCorridor.selector, debtor, creditor)
        );
        vm.prank(corridorAdmin);
        settlement.setCorridorLimits(debtor, creditor, 1, 1, 1);
    }

    function _expectInvalidLimits(uint256 inFlightCap, uint256 windowCap, uint32 windowLength) internal {
        vm.expectRevert(
            abi.encodeWithSelector(
                IInterbankSettlement.InterbankSettlementInvalidLimits.selector,
                inFlightCap,
                windowCap,
                windowLength
            )
        );
        vm.prank(corridorAdmin);
        settlement.setCorridorLimits(address(bankA), address(bankC), inFlightCap, windowCap, windowLength);
    }
}
