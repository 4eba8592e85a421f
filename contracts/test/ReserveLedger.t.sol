// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
// solhint-disable-next-line max-line-length
import {IAccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";
import {Vm} from "forge-std/Vm.sol";
import {Test, console} from "forge-std/Test.sol";

import {ReserveLedger} from "../reserves/ReserveLedger.sol";
import {AggregatorV3Interface} from "../reserves/interfaces/AggregatorV3Interface.sol";
import {IReserveLedger} from "../reserves/interfaces/IReserveLedger.sol";
import {TestReserveFeed} from "./utils/TestReserveFeed.sol";

/// @dev Unit and fuzz tests of `ReserveLedger`: every external function, every revert path with its exact
///      custom error, every event.
contract ReserveLedgerTest is Test {
    uint8 internal constant DECIMALS = 2;
    uint48 internal constant ADMIN_DELAY = 3 days;
    uint16 internal constant FULL = 10_000;
    uint32 internal constant MAX_AGE = 1 days;
    uint256 internal constant T0 = 1_700_000_000;
    uint256 internal constant MAX_AMOUNT = type(uint80).max;

    ReserveLedger internal ledger;
    TestReserveFeed internal feed;

    address internal admin = makeAddr("admin");
    address internal reserveAdmin = makeAddr("reserveAdmin");
    address internal attestor = makeAddr("attestor");
    address internal token = makeAddr("token");
    address internal bank = makeAddr("bank");
    address internal otherBank = makeAddr("otherBank");
    address internal stranger = makeAddr("stranger");
    address internal settlement = makeAddr("settlement");

    bytes32 internal reserveAdminRole;
    bytes32 internal attestorRole;

    function setUp() public {
        vm.warp(T0);
        ledger = new ReserveLedger(admin, ADMIN_DELAY, token, DECIMALS);
        reserveAdminRole = ledger.RESERVE_ADMIN_ROLE();
        attestorRole = ledger.ATTESTOR_ROLE();
        vm.startPrank(admin);
        ledger.grantRole(reserveAdminRole, reserveAdmin);
        ledger.grantRole(attestorRole, attestor);
        vm.stopPrank();
        feed = new TestReserveFeed(8);
    }

    // ---------------------------------------------------------------- constructor and roles

    function test_constructor_setsTokenDecimalsAndAdmin() public view {
        assertEq(ledger.token(), token);
        assertEq(ledger.tokenDecimals(), DECIMALS);
        assertEq(ledger.defaultAdmin(), admin);
        assertEq(ledger.defaultAdminDelay(), ADMIN_DELAY);
        assertTrue(ledger.hasRole(reserveAdminRole, reserveAdmin));
        assertTrue(ledger.hasRole(attestorRole, attestor));
        assertEq(reserveAdminRole, keccak256("RESERVE_ADMIN_ROLE"));
        assertEq(attestorRole, keccak256("ATTESTOR_ROLE"));
        assertEq(ledger.MAX_RATIO_BPS(), FULL);
        assertEq(ledger.MAX_AMOUNT(), MAX_AMOUNT);
        assertEq(ledger.MAX_TOKEN_DECIMALS(), 18);
        assertEq(ledger.totalOutstanding(), 0);
        assertEq(ledger.issuers().length, 0);
    }

    function test_constructor_revertsOnZeroToken() public {
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidToken.selector, address(0)));
        new ReserveLedger(admin, ADMIN_DELAY, address(0), DECIMALS);
    }

    function test_constructor_revertsOnTooManyDecimals() public {
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidTokenDecimals.selector, 19));
        new ReserveLedger(admin, ADMIN_DELAY, token, 19);
    }

    function test_constructor_checksDecimalsOfDeployedToken() public {
        // Any deployed contract with `decimals()` stands in for the token: the feed has 8.
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerTokenDecimalsMismatch.selector, 2, 8));
        new ReserveLedger(admin, ADMIN_DELAY, address(feed), 2);
        assertEq(new ReserveLedger(admin, ADMIN_DELAY, address(feed), 8).tokenDecimals(), 8);
    }

    function test_constructor_revertsOnZeroAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControlDefaultAdminRules.AccessControlInvalidDefaultAdmin.selector, 0)
        );
        new ReserveLedger(address(0), ADMIN_DELAY, token, DECIMALS);
    }

    function testFuzz_constructor(uint8 decimals) public {
        if (decimals > 18) {
            vm.expectRevert(
                abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidTokenDecimals.selector, decimals)
            );
            new ReserveLedger(admin, ADMIN_DELAY, token, decimals);
        } else {
            assertEq(new ReserveLedger(admin, ADMIN_DELAY, token, decimals).tokenDecimals(), decimals);
        }
    }

    function test_beginDefaultAdminTransfer_takesTwoStepsAndTheDelay() public {
        address newAdmin = makeAddr("newAdmin");
        vm.prank(admin);
        ledger.beginDefaultAdminTransfer(newAdmin);
        uint48 schedule = uint48(block.timestamp + ADMIN_DELAY);
        vm.prank(newAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminDelay.selector,
                schedule
            )
        );
        ledger.acceptDefaultAdminTransfer();
        vm.warp(schedule + 1);
        vm.prank(newAdmin);
        ledger.acceptDefaultAdminTransfer();
        assertEq(ledger.defaultAdmin(), newAdmin);
        assertFalse(ledger.hasRole(ledger.DEFAULT_ADMIN_ROLE(), admin));
    }

    // ---------------------------------------------------------------- registerIssuer

    function test_registerIssuer_storesIssuerAndEmits() public {
        vm.expectEmit(address(ledger));
        emit IReserveLedger.IssuerRegistered(bank, 5_000, MAX_AGE);
        vm.prank(reserveAdmin);
        ledger.registerIssuer(bank, 5_000, MAX_AGE);

        IReserveLedger.IssuerInfo memory info = ledger.issuer(bank);
        assertTrue(info.registered);
        assertTrue(info.active);
        assertFalse(info.breached);
        assertEq(info.ratioBps, 5_000);
        assertEq(info.maxAge, MAX_AGE);
        assertEq(info.attestedAt, 0);
        assertEq(info.reserve, 0);
        assertEq(info.outstanding, 0);
        assertEq(address(info.feed), address(0));
        assertEq(ledger.reserveRatioOf(bank), 5_000);
        address[] memory list = ledger.issuers();
        assertEq(list.length, 1);
        assertEq(list[0], bank);
    }

    function test_registerIssuer_revertsWithoutRole() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, attestor, reserveAdminRole)
        );
        vm.prank(attestor);
        ledger.registerIssuer(bank, FULL, MAX_AGE);
    }

    function test_registerIssuer_revertsOnZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidIssuer.selector, address(0)));
        vm.prank(reserveAdmin);
        ledger.registerIssuer(address(0), FULL, MAX_AGE);
    }

    function test_registerIssuer_revertsWhenAlreadyRegistered() public {
        _register(bank, FULL, MAX_AGE);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerIssuerAlreadyRegistered.selector, bank));
        vm.prank(reserveAdmin);
        ledger.registerIssuer(bank, FULL, MAX_AGE);
    }

    function test_registerIssuer_revertsOnZeroRatio() public {
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidReserveRatio.selector, 0));
        vm.prank(reserveAdmin);
        ledger.registerIssuer(bank, 0, MAX_AGE);
    }

    function test_registerIssuer_revertsOnRatioAboveFullReserve() public {
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidReserveRatio.selector, 10_001));
        vm.prank(reserveAdmin);
        ledger.registerIssuer(bank, 10_001, MAX_AGE);
    }

    function test_registerIssuer_revertsOnZeroMaxAge() public {
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidMaxAge.selector, 0));
        vm.prank(reserveAdmin);
        ledger.registerIssuer(bank, FULL, 0);
    }

    function testFuzz_registerIssuer(uint16 ratioBps, uint32 maxAge) public {
        if (ratioBps == 0 || ratioBps > FULL) {
            vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidReserveRatio.selector, ratioBps));
        } else if (maxAge == 0) {
            vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidMaxAge.selector, 0));
        }
        vm.prank(reserveAdmin);
        ledger.registerIssuer(bank, ratioBps, maxAge);
        if (ratioBps != 0 && ratioBps <= FULL && maxAge != 0) {
            IReserveLedger.IssuerInfo memory info = ledger.issuer(bank);
            assertEq(info.ratioBps, ratioBps);
            assertEq(info.maxAge, maxAge);
            assertTrue(info.registered && info.active);
        }
    }

    // ---------------------------------------------------------------- deactivateIssuer / reactivateIssuer

    function test_deactivateIssuer_stopsMintingAndEmits() public {
        _registerAndAttest(bank, 1_000);
        vm.expectEmit(address(ledger));
        emit IReserveLedger.IssuerDeactivated(bank);
        vm.prank(reserveAdmin);
        ledger.deactivateIssuer(bank);

        assertFalse(ledger.issuer(bank).active);
        assertEq(ledger.mintable(bank), 0);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerIssuerInactive.selector, bank));
        vm.prank(token);
        ledger.onMint(bank, 1);
    }

    function test_deactivateIssuer_revertsWhenInactive() public {
        _register(bank, FULL, MAX_AGE);
        vm.startPrank(reserveAdmin);
        ledger.deactivateIssuer(bank);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerIssuerInactive.selector, bank));
        ledger.deactivateIssuer(bank);
        vm.stopPrank();
    }

    function test_deactivateIssuer_revertsOnUnknownIssuer() public {
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerUnknownIssuer.selector, bank));
        vm.prank(reserveAdmin);
        ledger.deactivateIssuer(bank);
    }

    function test_deactivateIssuer_revertsWithoutRole() public {
        _register(bank, FULL, MAX_AGE);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, reserveAdminRole)
        );
        vm.prank(stranger);
        ledger.deactivateIssuer(bank);
    }

    function test_reactivateIssuer_resumesMintingAndEmits() public {
        _registerAndAttest(bank, 1_000);
        vm.prank(reserveAdmin);
        ledger.deactivateIssuer(bank);
        vm.expectEmit(address(ledger));
        emit IReserveLedger.IssuerReactivated(bank);
        vm.prank(reserveAdmin);
        ledger.reactivateIssuer(bank);

        assertTrue(ledger.issuer(bank).active);
        _mint(bank, 1_000);
        assertEq(ledger.outstandingOf(bank), 1_000);
    }

    function test_reactivateIssuer_revertsWhenActive() public {
        _register(bank, FULL, MAX_AGE);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerIssuerActive.selector, bank));
        vm.prank(reserveAdmin);
        ledger.reactivateIssuer(bank);
    }

    function test_reactivateIssuer_revertsOnUnknownIssuer() public {
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerUnknownIssuer.selector, bank));
        vm.prank(reserveAdmin);
        ledger.reactivateIssuer(bank);
    }

    function test_reactivateIssuer_revertsWithoutRole() public {
        _register(bank, FULL, MAX_AGE);
        vm.prank(reserveAdmin);
        ledger.deactivateIssuer(bank);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, attestor, reserveAdminRole)
        );
        vm.prank(attestor);
        ledger.reactivateIssuer(bank);
    }

    // ---------------------------------------------------------------- setReserveRatio

    function test_setReserveRatio_updatesAndEmits() public {
        _register(bank, FULL, MAX_AGE);
        vm.expectEmit(address(ledger));
        emit IReserveLedger.ReserveRatioChanged(bank, FULL, 2_500);
        vm.prank(reserveAdmin);
        ledger.setReserveRatio(bank, 2_500);
        assertEq(ledger.reserveRatioOf(bank), 2_500);
    }

    function test_setReserveRatio_breachesWhenLowered() public {
        _registerAndAttest(bank, 1_000);
        _mint(bank, 800);

        vm.expectEmit(address(ledger));
        emit IReserveLedger.ReserveRatioChanged(bank, FULL, 5_000);
        vm.expectEmit(address(ledger));
        emit IReserveLedger.ReserveBreached(bank, 1_000, 800, 5_000);
        vm.prank(reserveAdmin);
        ledger.setReserveRatio(bank, 5_000);

        assertTrue(ledger.issuer(bank).breached);
        assertEq(ledger.mintable(bank), 0);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerIssuerBreached.selector, bank));
        vm.prank(token);
        ledger.onMint(bank, 1);
    }

    function test_setReserveRatio_curesWhenRaised() public {
        _registerAndAttest(bank, 1_000);
        _mint(bank, 800);
        vm.prank(reserveAdmin);
        ledger.setReserveRatio(bank, 5_000);

        vm.expectEmit(address(ledger));
        emit IReserveLedger.ReserveBreachCured(bank, 1_000, 800, 8_000);
        vm.prank(reserveAdmin);
        ledger.setReserveRatio(bank, 8_000);

        assertFalse(ledger.issuer(bank).breached);
        assertEq(ledger.mintable(bank), 0);
        vm.prank(reserveAdmin);
        ledger.setReserveRatio(bank, 9_000);
        assertEq(ledger.mintable(bank), 100);
    }

    function test_setReserveRatio_skipsBreachEvaluationInFeedMode() public {
        _registerAndAttest(bank, 1_000);
        _mint(bank, 800);
        _useFeed(bank, 8, 10e8); // 10.00000000 units = 1,000 minor units
        vm.recordLogs();
        vm.prank(reserveAdmin);
        ledger.setReserveRatio(bank, 5_000);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1);
        assertEq(logs[0].topics[0], IReserveLedger.ReserveRatioChanged.selector);
        assertFalse(ledger.issuer(bank).breached);
    }

    function test_setReserveRatio_revertsOnInvalidRatio() public {
        _register(bank, FULL, MAX_AGE);
        vm.startPrank(reserveAdmin);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidReserveRatio.selector, 0));
        ledger.setReserveRatio(bank, 0);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidReserveRatio.selector, 10_001));
        ledger.setReserveRatio(bank, 10_001);
        vm.stopPrank();
    }

    function test_setReserveRatio_revertsOnUnknownIssuer() public {
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerUnknownIssuer.selector, bank));
        vm.prank(reserveAdmin);
        ledger.setReserveRatio(bank, FULL);
    }

    function test_setReserveRatio_revertsWithoutRole() public {
        _register(bank, FULL, MAX_AGE);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, reserveAdminRole)
        );
        vm.prank(stranger);
        ledger.setReserveRatio(bank, 5_000);
    }

    // ---------------------------------------------------------------- setMaxAge

    function test_setMaxAge_updatesAndEmits() public {
        _register(bank, FULL, MAX_AGE);
        vm.expectEmit(address(ledger));
        emit IReserveLedger.MaxAgeChanged(bank, MAX_AGE, 7 days);
        vm.prank(reserveAdmin);
        ledger.setMaxAge(bank, 7 days);
        assertEq(ledger.issuer(bank).maxAge, 7 days);
    }

    function test_setMaxAge_revertsOnZero() public {
        _register(bank, FULL, MAX_AGE);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidMaxAge.selector, 0));
        vm.prank(reserveAdmin);
        ledger.setMaxAge(bank, 0);
    }

    function test_setMaxAge_revertsOnUnknownIssuer() public {
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerUnknownIssuer.selector, bank));
        vm.prank(reserveAdmin);
        ledger.setMaxAge(bank, MAX_AGE);
    }

    function test_setMaxAge_revertsWithoutRole() public {
        _register(bank, FULL, MAX_AGE);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, attestor, reserveAdminRole)
        );
        vm.prank(attestor);
        ledger.setMaxAge(bank, MAX_AGE);
    }

    // ---------------------------------------------------------------- setReserveFeed / clearReserveFeed

    function test_setReserveFeed_switchesToFeedAndEmits() public {
        _register(bank, FULL, MAX_AGE);
        vm.expectEmit(address(ledger));
        emit IReserveLedger.ReserveFeedChanged(bank, AggregatorV3Interface(address(0)), feed);
        vm.prank(reserveAdmin);
        ledger.setReserveFeed(bank, feed);
        assertEq(address(ledger.issuer(bank).feed), address(feed));
    }

    function test_setReserveFeed_replacesFeedAndEmitsPrevious() public {
        _register(bank, FULL, MAX_AGE);
        TestReserveFeed other = new TestReserveFeed(2);
        vm.startPrank(reserveAdmin);
        ledger.setReserveFeed(bank, feed);
        vm.expectEmit(address(ledger));
        emit IReserveLedger.ReserveFeedChanged(bank, feed, other);
        ledger.setReserveFeed(bank, other);
        vm.stopPrank();
        assertEq(address(ledger.issuer(bank).feed), address(other));
    }

    function test_setReserveFeed_revertsOnZeroAddress() public {
        _register(bank, FULL, MAX_AGE);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidFeed.selector, address(0)));
        vm.prank(reserveAdmin);
        ledger.setReserveFeed(bank, AggregatorV3Interface(address(0)));
    }

    function test_setReserveFeed_revertsOnAccountWithoutCode() public {
        _register(bank, FULL, MAX_AGE);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidFeed.selector, stranger));
        vm.prank(reserveAdmin);
        ledger.setReserveFeed(bank, AggregatorV3Interface(stranger));
    }

    function test_setReserveFeed_revertsOnUnknownIssuer() public {
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerUnknownIssuer.selector, bank));
        vm.prank(reserveAdmin);
        ledger.setReserveFeed(bank, feed);
    }

    function test_setReserveFeed_revertsWithoutRole() public {
        _register(bank, FULL, MAX_AGE);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, reserveAdminRole)
        );
        vm.prank(stranger);
        ledger.setReserveFeed(bank, feed);
    }

    function test_clearReserveFeed_returnsToAttestationsAndEmits() public {
        _registerAndAttest(bank, 1_000);
        _useFeed(bank, 8, 50e8);
        vm.expectEmit(address(ledger));
        emit IReserveLedger.ReserveFeedChanged(bank, feed, AggregatorV3Interface(address(0)));
        vm.prank(reserveAdmin);
        ledger.clearReserveFeed(bank);

        assertEq(address(ledger.issuer(bank).feed), address(0));
        (uint256 reserve, uint256 asOf) = ledger.reserveOf(bank);
        assertEq(reserve, 0);
        assertEq(asOf, block.timestamp);
        _attest(bank, 2_000, block.timestamp);
        assertEq(ledger.mintable(bank), 2_000);
    }

    /// Audit M-3: clearing a feed must not revive the attestation from before it; minting needs a fresh one.
    function test_M3_clearReserveFeed_doesNotReviveThePreFeedAttestation() public {
        _registerAndAttest(bank, 10_000);
        vm.warp(block.timestamp + 1 hours);
        _useFeed(bank, 8, 10e8); // the feed's figure: 1,000 minor units
        assertEq(ledger.mintable(bank), 1_000);
        vm.warp(block.timestamp + 1 hours);
        vm.prank(reserveAdmin);
        ledger.clearReserveFeed(bank);
        // The 10,000 attested before the feed is no longer a reserve the ledger knows of.
        assertEq(ledger.mintable(bank), 0);
        vm.expectRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerInsufficientReserve.selector, bank, 0, 0, 1)
        );
        vm.prank(token);
        ledger.onMint(bank, 1);
        // An attestation dated before the clear is refused; a fresh one restores minting.
        uint256 clearedAt = block.timestamp;
        vm.expectRevert(
            abi.encodeWithSelector(
                IReserveLedger.ReserveLedgerAttestationOutOfOrder.selector,
                bank,
                clearedAt - 1,
                clearedAt
            )
        );
        vm.prank(attestor);
        ledger.attestReserve(bank, 2_000, clearedAt - 1);
        _attest(bank, 2_000, clearedAt);
        assertEq(ledger.mintable(bank), 2_000);
    }

    function test_clearReserveFeed_reevaluatesBreach() public {
        _registerAndAttest(bank, 1_000);
        _useFeed(bank, 8, 50e8); // 5,000 minor units
        _mint(bank, 4_000);
        vm.expectEmit(address(ledger));
        emit IReserveLedger.ReserveBreached(bank, 0, 4_000, FULL);
        vm.prank(reserveAdmin);
        ledger.clearReserveFeed(bank);
        assertTrue(ledger.issuer(bank).breached);
    }

    function test_clearReserveFeed_revertsWithoutFeed() public {
        _register(bank, FULL, MAX_AGE);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerNoReserveFeed.selector, bank));
        vm.prank(reserveAdmin);
        ledger.clearReserveFeed(bank);
    }

    function test_clearReserveFeed_revertsOnUnknownIssuer() public {
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerUnknownIssuer.selector, bank));
        vm.prank(reserveAdmin);
        ledger.clearReserveFeed(bank);
    }

    function test_clearReserveFeed_revertsWithoutRole() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 8, 50e8);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, attestor, reserveAdminRole)
        );
        vm.prank(attestor);
        ledger.clearReserveFeed(bank);
    }

    // ---------------------------------------------------------------- attestReserve

    function test_attestReserve_storesAndEmits() public {
        _register(bank, FULL, MAX_AGE);
        vm.warp(T0 + 100);
        vm.expectEmit(address(ledger));
        emit IReserveLedger.ReserveAttested(bank, attestor, 12_345, T0 + 50);
        vm.prank(attestor);
        ledger.attestReserve(bank, 12_345, T0 + 50);

        IReserveLedger.IssuerInfo memory info = ledger.issuer(bank);
        assertEq(info.reserve, 12_345);
        assertEq(info.attestedAt, T0 + 50);
        (uint256 reserve, uint256 asOf) = ledger.reserveOf(bank);
        assertEq(reserve, 12_345);
        assertEq(asOf, T0 + 50);
        assertTrue(ledger.isFresh(bank));
        assertEq(ledger.mintable(bank), 12_345);
    }

    function test_attestReserve_acceptsSameAsOfAgain() public {
        _registerAndAttest(bank, 1_000);
        _attest(bank, 900, T0);
        assertEq(ledger.issuer(bank).reserve, 900);
    }

    function test_attestReserve_acceptsMaxAmount() public {
        _register(bank, FULL, MAX_AGE);
        _attest(bank, MAX_AMOUNT, T0);
        assertEq(ledger.issuer(bank).reserve, MAX_AMOUNT);
        assertEq(ledger.mintable(bank), MAX_AMOUNT);
        _mint(bank, MAX_AMOUNT);
        assertEq(ledger.outstandingOf(bank), MAX_AMOUNT);
        assertEq(ledger.mintable(bank), 0);
    }

    function test_attestReserve_worksForInactiveIssuer() public {
        _register(bank, FULL, MAX_AGE);
        vm.prank(reserveAdmin);
        ledger.deactivateIssuer(bank);
        _attest(bank, 500, T0);
        assertEq(ledger.issuer(bank).reserve, 500);
    }

    function test_attestReserve_breachStopsMintingAtOnce() public {
        _registerAndAttest(bank, 1_000);
        _mint(bank, 700);
        vm.warp(T0 + 1 hours);
        vm.expectEmit(address(ledger));
        emit IReserveLedger.ReserveAttested(bank, attestor, 600, T0 + 1 hours);
        vm.expectEmit(address(ledger));
        emit IReserveLedger.ReserveBreached(bank, 600, 700, FULL);
        _attest(bank, 600, T0 + 1 hours);

        assertTrue(ledger.issuer(bank).breached);
        assertEq(ledger.mintable(bank), 0);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerIssuerBreached.selector, bank));
        vm.prank(token);
        ledger.onMint(bank, 1);
    }

    function test_attestReserve_staysBreachedUntilAnAttestationCures() public {
        _registerAndAttest(bank, 1_000);
        _mint(bank, 700);
        _attest(bank, 600, T0);
        // A burn brings outstanding under the reserve, but only an attestation lifts the breach.
        _burn(bank, 200);
        assertEq(ledger.mintable(bank), 0);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerIssuerBreached.selector, bank));
        vm.prank(token);
        ledger.onMint(bank, 1);

        vm.expectEmit(address(ledger));
        emit IReserveLedger.ReserveBreachCured(bank, 600, 500, FULL);
        _attest(bank, 600, T0);
        assertFalse(ledger.issuer(bank).breached);
        assertEq(ledger.mintable(bank), 100);
        _mint(bank, 100);
    }

    function test_attestReserve_emitsNoSecondBreachWhileBreached() public {
        _registerAndAttest(bank, 1_000);
        _mint(bank, 700);
        _attest(bank, 600, T0);
        vm.recordLogs();
        _attest(bank, 500, T0);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1);
        assertEq(logs[0].topics[0], IReserveLedger.ReserveAttested.selector);
        assertTrue(ledger.issuer(bank).breached);
    }

    function test_attestReserve_revertsWithoutRole() public {
        _register(bank, FULL, MAX_AGE);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, reserveAdmin, attestorRole)
        );
        vm.prank(reserveAdmin);
        ledger.attestReserve(bank, 1, T0);
    }

    function test_attestReserve_revertsOnUnknownIssuer() public {
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerUnknownIssuer.selector, bank));
        vm.prank(attestor);
        ledger.attestReserve(bank, 1, T0);
    }

    function test_attestReserve_revertsInFeedMode() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 8, 1e8);
        vm.expectRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerReserveSourceIsFeed.selector, bank, address(feed))
        );
        vm.prank(attestor);
        ledger.attestReserve(bank, 1, T0);
    }

    function test_attestReserve_revertsWhenInFuture() public {
        _register(bank, FULL, MAX_AGE);
        vm.expectRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerAttestationInFuture.selector, bank, T0 + 1, T0)
        );
        vm.prank(attestor);
        ledger.attestReserve(bank, 1, T0 + 1);
    }

    function test_attestReserve_revertsOnZeroAsOf() public {
        _register(bank, FULL, MAX_AGE);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerAttestationOutOfOrder.selector, bank, 0, 0));
        vm.prank(attestor);
        ledger.attestReserve(bank, 1, 0);
    }

    function test_attestReserve_revertsWhenOlderThanPrevious() public {
        _registerAndAttest(bank, 1_000);
        vm.warp(T0 + 10);
        vm.expectRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerAttestationOutOfOrder.selector, bank, T0 - 1, T0)
        );
        vm.prank(attestor);
        ledger.attestReserve(bank, 1, T0 - 1);
    }

    function test_attestReserve_revertsWhenTooLarge() public {
        _register(bank, FULL, MAX_AGE);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReserveLedger.ReserveLedgerReserveTooLarge.selector,
                bank,
                MAX_AMOUNT + 1,
                MAX_AMOUNT
            )
        );
        vm.prank(attestor);
        ledger.attestReserve(bank, MAX_AMOUNT + 1, T0);
    }

    function testFuzz_attestReserve(uint80 firstReserve, uint80 secondReserve, uint16 ratioBps, uint256 minted) public {
        ratioBps = uint16(bound(ratioBps, 1, FULL));
        _register(bank, ratioBps, MAX_AGE);
        _attest(bank, firstReserve, T0);
        uint256 firstCapacity = (uint256(firstReserve) * ratioBps) / FULL;
        minted = bound(minted, 0, firstCapacity);
        _mint(bank, minted);

        _attest(bank, secondReserve, T0);
        uint256 secondCapacity = (uint256(secondReserve) * ratioBps) / FULL;
        bool breached = minted > secondCapacity;
        assertEq(ledger.issuer(bank).breached, breached);
        assertEq(ledger.mintable(bank), breached ? 0 : secondCapacity - minted);
    }

    // ---------------------------------------------------------------- onMint (attestation mode)

    function test_onMint_addsToOutstanding() public {
        _registerAndAttest(bank, 1_000);
        _mint(bank, 300);
        _mint(bank, 200);
        assertEq(ledger.outstandingOf(bank), 500);
        assertEq(ledger.issuer(bank).outstanding, 500);
        assertEq(ledger.totalOutstanding(), 500);
        assertEq(ledger.mintable(bank), 500);
        // The rest of the word is untouched.
        IReserveLedger.IssuerInfo memory info = ledger.issuer(bank);
        assertEq(info.reserve, 1_000);
        assertEq(info.attestedAt, T0);
        assertEq(info.maxAge, MAX_AGE);
        assertEq(info.ratioBps, FULL);
        assertTrue(info.registered && info.active && !info.breached);
    }

    function test_onMint_acceptsExactCapacity() public {
        _registerAndAttest(bank, 1_000);
        _mint(bank, 1_000);
        assertEq(ledger.mintable(bank), 0);
    }

    function test_onMint_acceptsZeroAmount() public {
        _registerAndAttest(bank, 1_000);
        _mint(bank, 0);
        assertEq(ledger.outstandingOf(bank), 0);
    }

    function test_onMint_revertsAboveCapacity() public {
        _registerAndAttest(bank, 1_000);
        _mint(bank, 600);
        vm.expectRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerInsufficientReserve.selector, bank, 1_000, 600, 401)
        );
        vm.prank(token);
        ledger.onMint(bank, 401);
    }

    function test_onMint_revertsOnHugeAmount() public {
        _registerAndAttest(bank, 1_000);
        _mint(bank, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReserveLedger.ReserveLedgerInsufficientReserve.selector,
                bank,
                1_000,
                1,
                type(uint256).max
            )
        );
        vm.prank(token);
        ledger.onMint(bank, type(uint256).max);
    }

    function test_onMint_fractionalReserveRoundsCapacityDown() public {
        _register(bank, 3_333, MAX_AGE);
        _attest(bank, 100, T0);
        assertEq(ledger.mintable(bank), 33);
        vm.expectRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerInsufficientReserve.selector, bank, 33, 0, 34)
        );
        vm.prank(token);
        ledger.onMint(bank, 34);
        _mint(bank, 33);
    }

    function test_onMint_revertsWhenCallerNotToken() public {
        _registerAndAttest(bank, 1_000);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerCallerNotToken.selector, bank));
        vm.prank(bank);
        ledger.onMint(bank, 1);
    }

    function test_onMint_revertsOnUnknownIssuer() public {
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerUnknownIssuer.selector, bank));
        vm.prank(token);
        ledger.onMint(bank, 1);
    }

    function test_onMint_revertsWhenNeverAttested() public {
        _register(bank, FULL, MAX_AGE);
        vm.expectRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerStaleAttestation.selector, bank, 0, MAX_AGE, T0)
        );
        vm.prank(token);
        ledger.onMint(bank, 1);
    }

    function test_onMint_freshAtExactlyMaxAge() public {
        _registerAndAttest(bank, 1_000);
        vm.warp(T0 + MAX_AGE);
        assertTrue(ledger.isFresh(bank));
        _mint(bank, 1);
    }

    function test_onMint_revertsAtMaxAgePlusOne() public {
        _registerAndAttest(bank, 1_000);
        vm.warp(T0 + MAX_AGE + 1);
        assertFalse(ledger.isFresh(bank));
        assertEq(ledger.mintable(bank), 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReserveLedger.ReserveLedgerStaleAttestation.selector,
                bank,
                T0,
                MAX_AGE,
                T0 + MAX_AGE + 1
            )
        );
        vm.prank(token);
        ledger.onMint(bank, 1);
    }

    function testFuzz_onMint(uint80 reserve, uint16 ratioBps, uint256 first, uint256 second) public {
        ratioBps = uint16(bound(ratioBps, 1, FULL));
        _register(bank, ratioBps, MAX_AGE);
        _attest(bank, reserve, T0);
        uint256 capacity = (uint256(reserve) * ratioBps) / FULL;
        assertLe(capacity, reserve);
        first = bound(first, 0, capacity);
        _mint(bank, first);
        if (second > capacity - first) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IReserveLedger.ReserveLedgerInsufficientReserve.selector,
                    bank,
                    capacity,
                    first,
                    second
                )
            );
            vm.prank(token);
            ledger.onMint(bank, second);
            assertEq(ledger.outstandingOf(bank), first);
        } else {
            _mint(bank, second);
            assertEq(ledger.outstandingOf(bank), first + second);
        }
        assertLe(ledger.outstandingOf(bank), capacity);
        assertEq(ledger.mintable(bank), capacity - ledger.outstandingOf(bank));
    }

    function testFuzz_onMint_staleness(uint32 maxAge, uint256 asOfOffset, uint256 elapsed) public {
        maxAge = uint32(bound(maxAge, 1, type(uint32).max));
        asOfOffset = bound(asOfOffset, 0, T0 - 1);
        elapsed = bound(elapsed, 0, uint256(type(uint32).max) + 2);
        _register(bank, FULL, maxAge);
        uint256 asOf = T0 - asOfOffset;
        _attest(bank, 1_000, asOf);
        vm.warp(T0 + elapsed);
        uint256 age = T0 + elapsed - asOf;
        assertEq(ledger.isFresh(bank), age <= maxAge);
        if (age > maxAge) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IReserveLedger.ReserveLedgerStaleAttestation.selector,
                    bank,
                    asOf,
                    maxAge,
                    block.timestamp
                )
            );
        }
        vm.prank(token);
        ledger.onMint(bank, 1);
    }

    // ---------------------------------------------------------------- onMint (feed mode)

    function test_onMint_feedModeUsesConvertedFeedAnswer() public {
        _register(bank, 5_000, MAX_AGE);
        _useFeed(bank, 8, 123_456_789); // 1.23456789 -> 123 minor units
        (uint256 reserve, uint256 asOf) = ledger.reserveOf(bank);
        assertEq(reserve, 123);
        assertEq(asOf, T0);
        assertEq(ledger.mintable(bank), 61);
        vm.expectRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerInsufficientReserve.selector, bank, 61, 0, 62)
        );
        vm.prank(token);
        ledger.onMint(bank, 62);
        _mint(bank, 61);
        assertEq(ledger.outstandingOf(bank), 61);
    }

    function test_onMint_feedModeIgnoresBreachFlag() public {
        _registerAndAttest(bank, 1_000);
        _mint(bank, 700);
        _attest(bank, 600, T0);
        assertTrue(ledger.issuer(bank).breached);
        _useFeed(bank, 8, 10e8); // 1,000 minor units
        assertEq(ledger.mintable(bank), 300);
        _mint(bank, 300);
    }

    function test_onMint_feedModeRevertsWhenOutstandingExceedsCapacity() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 8, 10e8);
        _mint(bank, 900);
        feed.setAnswer(5e8, block.timestamp);
        assertEq(ledger.mintable(bank), 0);
        vm.expectRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerInsufficientReserve.selector, bank, 500, 900, 0)
        );
        vm.prank(token);
        ledger.onMint(bank, 0);
    }

    function test_onMint_feedModeRevertsWhenInactive() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 8, 10e8);
        vm.prank(reserveAdmin);
        ledger.deactivateIssuer(bank);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerIssuerInactive.selector, bank));
        vm.prank(token);
        ledger.onMint(bank, 1);
    }

    function test_onMint_revertsOnZeroFeedAnswer() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 8, 0);
        _expectMintRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidFeedAnswer.selector, bank, 0));
    }

    function test_onMint_revertsOnNegativeFeedAnswer() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 8, -5);
        _expectMintRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidFeedAnswer.selector, bank, -5));
    }

    function test_onMint_revertsOnCarriedOverFeedRound() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 8, 1e8);
        feed.setRound(7, 1e8, block.timestamp, 6);
        _expectMintRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerStaleFeedRound.selector, bank, 7, 6));
    }

    function test_onMint_revertsOnIncompleteFeedRound() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 8, 1e8);
        feed.setRound(7, 1e8, 0, 7);
        _expectMintRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidFeedTimestamp.selector, bank, 0, T0)
        );
    }

    function test_onMint_revertsOnFeedTimestampInFuture() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 8, 1e8);
        feed.setRound(7, 1e8, T0 + 1, 7);
        _expectMintRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidFeedTimestamp.selector, bank, T0 + 1, T0)
        );
    }

    function test_onMint_feedFreshAtExactlyMaxAgeAndStaleAfter() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 8, 1e8);
        vm.warp(T0 + MAX_AGE);
        assertTrue(ledger.isFresh(bank));
        _mint(bank, 1);
        vm.warp(T0 + MAX_AGE + 1);
        assertFalse(ledger.isFresh(bank));
        assertEq(ledger.mintable(bank), 0);
        _expectMintRevert(
            abi.encodeWithSelector(
                IReserveLedger.ReserveLedgerStaleAttestation.selector,
                bank,
                T0,
                MAX_AGE,
                T0 + MAX_AGE + 1
            )
        );
    }

    function test_onMint_revertsWhenFeedReverts() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 8, 1e8);
        feed.setMode(TestReserveFeed.Mode.Revert);
        _expectMintRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerFeedUnavailable.selector, bank, address(feed))
        );
    }

    function test_onMint_revertsWhenFeedReturnsShortData() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 8, 1e8);
        feed.setMode(TestReserveFeed.Mode.ShortData);
        _expectMintRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerFeedUnavailable.selector, bank, address(feed))
        );
    }

    function test_onMint_revertsWhenFeedDecimalsOutOfRange() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 8, 1e8);
        feed.setMode(TestReserveFeed.Mode.WideDecimals);
        _expectMintRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerFeedUnavailable.selector, bank, address(feed))
        );
    }

    function test_onMint_revertsWhenFeedRoundIdOutOfRange() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 8, 1e8);
        feed.setMode(TestReserveFeed.Mode.WideRoundId);
        _expectMintRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerFeedUnavailable.selector, bank, address(feed))
        );
    }

    function test_onMint_revertsWhenFeedDecimalsCallFails() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 8, 1e8);
        vm.mockCallRevert(address(feed), abi.encodeCall(AggregatorV3Interface.decimals, ()), "");
        _expectMintRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerFeedUnavailable.selector, bank, address(feed))
        );
    }

    function test_onMint_feedCapacityCappedAtMaxAmount() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 0, type(int256).max);
        (uint256 reserve, ) = ledger.reserveOf(bank);
        assertEq(reserve, type(uint256).max); // saturated scaling up from 0 to 2 decimals
        assertEq(ledger.mintable(bank), MAX_AMOUNT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReserveLedger.ReserveLedgerInsufficientReserve.selector,
                bank,
                MAX_AMOUNT,
                0,
                MAX_AMOUNT + 1
            )
        );
        vm.prank(token);
        ledger.onMint(bank, MAX_AMOUNT + 1);
        _mint(bank, MAX_AMOUNT);
        assertEq(ledger.outstandingOf(bank), MAX_AMOUNT);
    }

    // ---------------------------------------------------------------- onBurn

    function test_onBurn_subtractsFromOutstanding() public {
        _registerAndAttest(bank, 1_000);
        _mint(bank, 600);
        _burn(bank, 250);
        assertEq(ledger.outstandingOf(bank), 350);
        assertEq(ledger.mintable(bank), 650);
        _burn(bank, 350);
        assertEq(ledger.outstandingOf(bank), 0);
        assertEq(ledger.issuer(bank).reserve, 1_000);
    }

    function test_onBurn_worksWhenInactive() public {
        _registerAndAttest(bank, 1_000);
        _mint(bank, 600);
        vm.prank(reserveAdmin);
        ledger.deactivateIssuer(bank);
        _burn(bank, 600);
        assertEq(ledger.outstandingOf(bank), 0);
    }

    function test_onBurn_worksWhenStale() public {
        _registerAndAttest(bank, 1_000);
        _mint(bank, 600);
        vm.warp(T0 + 365 days);
        _burn(bank, 600);
        assertEq(ledger.outstandingOf(bank), 0);
    }

    function test_onBurn_revertsWhenCallerNotToken() public {
        _registerAndAttest(bank, 1_000);
        _mint(bank, 600);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerCallerNotToken.selector, stranger));
        vm.prank(stranger);
        ledger.onBurn(bank, 1);
    }

    function test_onBurn_revertsOnUnknownIssuer() public {
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerUnknownIssuer.selector, bank));
        vm.prank(token);
        ledger.onBurn(bank, 0);
    }

    function test_onBurn_revertsAboveOutstanding() public {
        _registerAndAttest(bank, 1_000);
        _mint(bank, 600);
        vm.expectRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerBurnExceedsOutstanding.selector, bank, 600, 601)
        );
        vm.prank(token);
        ledger.onBurn(bank, 601);
    }

    function testFuzz_onBurn(uint80 minted, uint256 burned) public {
        _register(bank, FULL, MAX_AGE);
        _attest(bank, MAX_AMOUNT, T0);
        _mint(bank, minted);
        if (burned > minted) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IReserveLedger.ReserveLedgerBurnExceedsOutstanding.selector,
                    bank,
                    minted,
                    burned
                )
            );
            vm.prank(token);
            ledger.onBurn(bank, burned);
            assertEq(ledger.outstandingOf(bank), minted);
        } else {
            _burn(bank, burned);
            assertEq(ledger.outstandingOf(bank), minted - burned);
        }
        assertEq(ledger.issuer(bank).reserve, MAX_AMOUNT);
    }

    // ---------------------------------------------------------------- transferIssuance (interbank smelt)

    function test_transferIssuance_movesIssuanceAndRecordsClaim() public {
        _setUpSettlement();
        _registerAndAttest(bank, 1_000);
        _registerAndAttest(otherBank, 1_000);
        _mint(bank, 600);
        vm.prank(settlement);
        ledger.transferIssuance(bank, otherBank, 250);
        assertEq(ledger.outstandingOf(bank), 350);
        assertEq(ledger.outstandingOf(settlement), 250);
        assertEq(ledger.outstandingOf(otherBank), 0);
        assertEq(ledger.claimOf(otherBank, bank), 250);
        assertEq(ledger.claimOf(bank, otherBank), 0);
        assertEq(ledger.totalOutstanding(), 600);
        // The settlement burns next, as the token would make it.
        _burn(settlement, 250);
        assertEq(ledger.totalOutstanding(), 350);
        // 250 of the fiat in bank's trust account is owed to otherBank: it backs nothing.
        assertEq(ledger.issuer(bank).reserve, 750);
        assertEq(ledger.mintable(bank), 400);
        // Claims accumulate.
        vm.prank(settlement);
        ledger.transferIssuance(bank, otherBank, 350);
        assertEq(ledger.claimOf(otherBank, bank), 600);
    }

    function test_transferIssuance_worksForInactiveAndStaleIssuers() public {
        _setUpSettlement();
        _registerAndAttest(bank, 1_000);
        _mint(bank, 100);
        vm.prank(reserveAdmin);
        ledger.deactivateIssuer(bank);
        vm.warp(block.timestamp + MAX_AGE + 1);
        vm.prank(settlement);
        ledger.transferIssuance(bank, otherBank, 100);
        assertEq(ledger.outstandingOf(bank), 0);
        assertEq(ledger.claimOf(otherBank, bank), 100);
    }

    function test_transferIssuance_revertsWithoutRole() public {
        _setUpSettlement();
        _registerAndAttest(bank, 1_000);
        _mint(bank, 100);
        bytes32 role = ledger.SETTLEMENT_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, token, role));
        vm.prank(token);
        ledger.transferIssuance(bank, otherBank, 1);
    }

    function test_transferIssuance_revertsOnSelfClaim() public {
        _setUpSettlement();
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerSelfClaim.selector, bank));
        vm.prank(settlement);
        ledger.transferIssuance(bank, bank, 1);
    }

    function test_transferIssuance_revertsOnUnknownDebtor() public {
        _setUpSettlement();
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerUnknownIssuer.selector, bank));
        vm.prank(settlement);
        ledger.transferIssuance(bank, otherBank, 1);
    }

    function test_transferIssuance_revertsAboveOutstanding() public {
        _setUpSettlement();
        _registerAndAttest(bank, 1_000);
        _mint(bank, 100);
        vm.expectRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerTransferExceedsOutstanding.selector, bank, 100, 101)
        );
        vm.prank(settlement);
        ledger.transferIssuance(bank, otherBank, 101);
    }

    function test_transferIssuance_revertsWhenCallerNotAnIssuer() public {
        bytes32 role = ledger.SETTLEMENT_ROLE();
        vm.prank(admin);
        ledger.grantRole(role, settlement);
        _registerAndAttest(bank, 1_000);
        _mint(bank, 100);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerUnknownIssuer.selector, settlement));
        vm.prank(settlement);
        ledger.transferIssuance(bank, otherBank, 1);
    }

    function test_transferIssuance_revertsWhenReceiverWouldOverflow() public {
        _setUpSettlement();
        // The settlement itself holds MAX_AMOUNT of issuance (reactivated and attested for the test).
        vm.prank(reserveAdmin);
        ledger.reactivateIssuer(settlement);
        _attest(settlement, MAX_AMOUNT, block.timestamp);
        _mint(settlement, MAX_AMOUNT);
        _registerAndAttest(bank, 1_000);
        _mint(bank, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerOutstandingTooLarge.selector, settlement, MAX_AMOUNT, 1)
        );
        vm.prank(settlement);
        ledger.transferIssuance(bank, otherBank, 1);
    }

    function testFuzz_transferIssuance(uint80 minted, uint256 moved) public {
        _setUpSettlement();
        _registerAndAttest(bank, minted);
        _mint(bank, minted);
        moved = bound(moved, 0, uint256(minted) + 10);
        vm.prank(settlement);
        if (moved > minted) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IReserveLedger.ReserveLedgerTransferExceedsOutstanding.selector,
                    bank,
                    minted,
                    moved
                )
            );
            ledger.transferIssuance(bank, otherBank, moved);
            return;
        }
        ledger.transferIssuance(bank, otherBank, moved);
        assertEq(ledger.outstandingOf(bank) + ledger.outstandingOf(settlement), minted);
        assertEq(ledger.totalOutstanding(), minted);
        assertEq(ledger.claimOf(otherBank, bank), moved);
    }

    // ---------------------------------------------------------------- netClaim

    function test_transferIssuance_setsDebtorReserveAside() public {
        _smeltedClaim(400);
        // bank: reserve 1,000 attested, 400 owed to otherBank: 600 backs its tokens.
        assertEq(ledger.issuer(bank).reserve, 600);
        assertEq(ledger.mintable(bank), 600);
        (uint256 reserve, ) = ledger.reserveOf(bank);
        assertEq(reserve, 600);
        // A fresh attestation of the same fiat (not yet transferred) is counted net of the claim.
        vm.warp(block.timestamp + 1);
        _attest(bank, 1_000, block.timestamp);
        assertEq(ledger.issuer(bank).reserve, 600);
        // The creditor's own reserve is untouched until the fiat arrives.
        assertEq(ledger.issuer(otherBank).reserve, 1_000);
    }

    function test_transferIssuance_saturatesReserveAtZero() public {
        _setUpSettlement();
        _register(otherBank, FULL, MAX_AGE);
        _register(bank, 5_000, MAX_AGE);
        _attest(bank, 100, block.timestamp);
        _mint(bank, 50);
        vm.prank(settlement);
        ledger.transferIssuance(bank, otherBank, 50);
        assertEq(ledger.issuer(bank).reserve, 50);
        _mint(bank, 25);
        vm.prank(settlement);
        ledger.transferIssuance(bank, otherBank, 25);
        assertEq(ledger.issuer(bank).reserve, 25);
        _mint(bank, 12);
        vm.prank(settlement);
        ledger.transferIssuance(bank, otherBank, 12);
        assertEq(ledger.issuer(bank).reserve, 13);
        // An attestation below what is owed (87) leaves nothing to mint against.
        _attest(bank, 60, block.timestamp);
        assertEq(ledger.issuer(bank).reserve, 0);
        assertEq(ledger.mintable(bank), 0);
        // A smelt against a zero reserve keeps it at zero.
        _attest(bank, 100, block.timestamp);
        assertEq(ledger.issuer(bank).reserve, 13);
    }

    function test_netClaim_clearsClaimAndCreditsCreditor() public {
        _smeltedClaim(400);
        bytes32 wire = keccak256("wire-1");
        vm.expectEmit(address(ledger));
        emit IReserveLedger.InterbankClaimNetted(otherBank, bank, wire, 150, 250);
        vm.prank(attestor);
        ledger.netClaim(otherBank, bank, 150, wire);
        assertEq(ledger.claimOf(otherBank, bank), 250);
        // The debtor's reserve set the 400 aside at the smelt already.
        assertEq(ledger.issuer(bank).reserve, 600);
        assertEq(ledger.issuer(otherBank).reserve, 1_150);
        assertTrue(ledger.isTransferRefUsed(wire));
        assertFalse(ledger.isTransferRefUsed(keccak256("wire-2")));
        // The attestation times are unchanged.
        assertEq(ledger.issuer(bank).attestedAt, T0);
        assertEq(ledger.issuer(otherBank).attestedAt, T0);
        // After the transfer the debtor's trust account holds 850, of which 250 are still owed.
        vm.warp(block.timestamp + 1);
        _attest(bank, 850, block.timestamp);
        assertEq(ledger.issuer(bank).reserve, 600);
    }

    function test_netClaim_curesCreditorBreach() public {
        _smeltedClaim(400);
        // The creditor has its own issuance above a reserve attested lower: in breach.
        _mint(otherBank, 900);
        _attest(otherBank, 800, block.timestamp);
        assertTrue(ledger.issuer(otherBank).breached);
        vm.expectEmit(address(ledger));
        emit IReserveLedger.ReserveBreachCured(otherBank, 1_000, 900, FULL);
        vm.prank(attestor);
        ledger.netClaim(otherBank, bank, 200, keccak256("wire-1"));
        assertFalse(ledger.issuer(otherBank).breached);
    }

    function test_netClaim_debtorCannotMintAgainstOwedFiat() public {
        _smeltedClaim(400);
        // bank minted 400 that otherBank smelted; it can mint only against the 600 it does not owe.
        vm.expectRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerInsufficientReserve.selector, bank, 600, 0, 601)
        );
        _mint(bank, 601);
        _mint(bank, 600);
        // Netting moves the owed fiat out of bank's trust account: still fully backed, no breach.
        vm.recordLogs();
        vm.prank(attestor);
        ledger.netClaim(otherBank, bank, 400, keccak256("wire-1"));
        assertEq(vm.getRecordedLogs().length, 1);
        assertFalse(ledger.issuer(bank).breached);
        assertEq(ledger.issuer(bank).reserve, 600);
    }

    function test_netClaim_keepsFeedReserve() public {
        _smeltedClaim(400);
        _useFeed(otherBank, 8, 5_000e6);
        _useFeed(bank, 8, 1_000e6);
        // In feed mode the claim is taken off the feed's answer.
        (uint256 reserve, ) = ledger.reserveOf(bank);
        assertEq(reserve, 600);
        assertEq(ledger.mintable(bank), 600);
        vm.expectRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerInsufficientReserve.selector, bank, 600, 0, 601)
        );
        _mint(bank, 601);
        vm.prank(attestor);
        ledger.netClaim(otherBank, bank, 400, keccak256("wire-1"));
        // The feeds report the transfer; the stored attestations stay as they were.
        assertEq(ledger.issuer(otherBank).reserve, 1_000);
        assertEq(ledger.claimOf(otherBank, bank), 0);
        (reserve, ) = ledger.reserveOf(bank);
        assertEq(reserve, 1_000);
    }

    function test_transferIssuance_feedModeDebtorCountsWhatItOwes() public {
        _setUpSettlement();
        _registerAndAttest(bank, 1_000);
        _registerAndAttest(otherBank, 1_000);
        _useFeed(bank, 8, 1_000e6);
        _mint(bank, 700);
        vm.prank(settlement);
        ledger.transferIssuance(bank, otherBank, 300);
        _burn(settlement, 300);
        assertEq(ledger.owedBy(bank), 300);
        assertEq(ledger.owedBy(otherBank), 0);
        (uint256 reserve, ) = ledger.reserveOf(bank);
        assertEq(reserve, 700);
        // outstanding 400 against 700: 300 more may be minted.
        assertEq(ledger.mintable(bank), 300);
        vm.expectRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerInsufficientReserve.selector, bank, 700, 400, 301)
        );
        _mint(bank, 301);
        // Back to attestations: no reserve until a fresh attestation (audit M-3).
        vm.prank(reserveAdmin);
        ledger.clearReserveFeed(bank);
        assertEq(ledger.issuer(bank).reserve, 0);
        // Again to a feed: what it owes is counted afresh.
        _useFeed(bank, 8, 1_000e6);
        (reserve, ) = ledger.reserveOf(bank);
        assertEq(reserve, 700);
        vm.prank(attestor);
        ledger.netClaim(otherBank, bank, 100, keccak256("wire-1"));
        assertEq(ledger.owedBy(bank), 200);
        (reserve, ) = ledger.reserveOf(bank);
        assertEq(reserve, 800);
    }

    function test_netClaim_revertsWithoutRole() public {
        _smeltedClaim(400);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, reserveAdmin, attestorRole)
        );
        vm.prank(reserveAdmin);
        ledger.netClaim(otherBank, bank, 1, keccak256("wire-1"));
    }

    function test_netClaim_revertsOnBadInput() public {
        _smeltedClaim(400);
        vm.startPrank(attestor);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerSelfClaim.selector, bank));
        ledger.netClaim(bank, bank, 1, keccak256("wire-1"));
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerZeroAmount.selector));
        ledger.netClaim(otherBank, bank, 0, keccak256("wire-1"));
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerTransferRefUsed.selector, bytes32(0)));
        ledger.netClaim(otherBank, bank, 1, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerUnknownIssuer.selector, stranger));
        ledger.netClaim(otherBank, stranger, 1, keccak256("wire-1"));
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerUnknownIssuer.selector, stranger));
        ledger.netClaim(stranger, bank, 1, keccak256("wire-1"));
        vm.expectRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerNettingExceedsClaim.selector, otherBank, bank, 400, 401)
        );
        ledger.netClaim(otherBank, bank, 401, keccak256("wire-1"));
        vm.expectRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerNettingExceedsClaim.selector, bank, otherBank, 0, 1)
        );
        ledger.netClaim(bank, otherBank, 1, keccak256("wire-1"));
        ledger.netClaim(otherBank, bank, 100, keccak256("wire-1"));
        vm.expectRevert(
            abi.encodeWithSelector(IReserveLedger.ReserveLedgerTransferRefUsed.selector, keccak256("wire-1"))
        );
        ledger.netClaim(otherBank, bank, 100, keccak256("wire-1"));
        vm.stopPrank();
    }

    function test_netClaim_revertsWhenCreditorReserveWouldOverflow() public {
        _smeltedClaim(400);
        _attest(otherBank, MAX_AMOUNT, block.timestamp);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReserveLedger.ReserveLedgerReserveTooLarge.selector,
                otherBank,
                MAX_AMOUNT + 1,
                MAX_AMOUNT
            )
        );
        vm.prank(attestor);
        ledger.netClaim(otherBank, bank, 1, keccak256("wire-1"));
    }

    function testFuzz_netClaim(uint256 claim, uint256 netted) public {
        claim = bound(claim, 1, 1_000);
        netted = bound(netted, 1, claim);
        _smeltedClaim(claim);
        vm.prank(attestor);
        ledger.netClaim(otherBank, bank, netted, keccak256("wire"));
        assertEq(ledger.claimOf(otherBank, bank), claim - netted);
        assertEq(ledger.issuer(bank).reserve, 1_000 - claim);
        assertEq(ledger.issuer(otherBank).reserve, 1_000 + netted);
    }

    // ---------------------------------------------------------------- views

    function test_issuer_returnsZeroForUnknownIssuer() public view {
        IReserveLedger.IssuerInfo memory info = ledger.issuer(bank);
        assertFalse(info.registered);
        assertFalse(info.active);
        assertEq(info.ratioBps, 0);
        assertEq(ledger.reserveRatioOf(bank), 0);
        assertEq(ledger.outstandingOf(bank), 0);
        assertFalse(ledger.isFresh(bank));
        assertEq(ledger.mintable(bank), 0);
    }

    function test_reserveOf_revertsOnUnknownIssuer() public {
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerUnknownIssuer.selector, bank));
        ledger.reserveOf(bank);
    }

    function test_reserveOf_revertsOnUnusableFeed() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 8, -1);
        vm.expectRevert(abi.encodeWithSelector(IReserveLedger.ReserveLedgerInvalidFeedAnswer.selector, bank, -1));
        ledger.reserveOf(bank);
    }

    function test_reserveOf_convertsFewerFeedDecimals() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 0, 42); // 42 units -> 4,200 minor units
        (uint256 reserve, ) = ledger.reserveOf(bank);
        assertEq(reserve, 4_200);
        feed.setDecimals(1); // 4.2 units
        (reserve, ) = ledger.reserveOf(bank);
        assertEq(reserve, 420);
    }

    function test_reserveOf_keepsEqualFeedDecimals() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, DECIMALS, 98_765);
        (uint256 reserve, ) = ledger.reserveOf(bank);
        assertEq(reserve, 98_765);
    }

    function test_reserveOf_roundsDownMoreFeedDecimals() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 18, 1_999_999_999_999_999_999); // 1.999... units -> 199 minor units
        (uint256 reserve, ) = ledger.reserveOf(bank);
        assertEq(reserve, 199);
        feed.setDecimals(3); // 1,999,999,999,999,999.999 units
        (reserve, ) = ledger.reserveOf(bank);
        assertEq(reserve, 199_999_999_999_999_999);
    }

    function test_reserveOf_feedDecimalsFarAboveTokenYieldZero() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 255, type(int256).max);
        (uint256 reserve, ) = ledger.reserveOf(bank);
        assertEq(reserve, 0);
        feed.setDecimals(79); // shift 77: the largest exact power of ten
        (reserve, ) = ledger.reserveOf(bank);
        assertEq(reserve, uint256(type(int256).max) / 1e77);
        feed.setDecimals(80); // shift 78
        (reserve, ) = ledger.reserveOf(bank);
        assertEq(reserve, 0);
    }

    function testFuzz_reserveOf_feedDecimals(uint8 tokenDecimals, uint8 feedDecimals, uint256 answer) public {
        tokenDecimals = uint8(bound(tokenDecimals, 0, 18));
        answer = bound(answer, 1, uint256(type(int256).max));
        ReserveLedger other = new ReserveLedger(admin, ADMIN_DELAY, token, tokenDecimals);
        vm.prank(admin);
        other.grantRole(reserveAdminRole, reserveAdmin);
        TestReserveFeed f = new TestReserveFeed(feedDecimals);
        f.setAnswer(int256(answer), block.timestamp);
        vm.startPrank(reserveAdmin);
        other.registerIssuer(bank, FULL, MAX_AGE);
        other.setReserveFeed(bank, f);
        vm.stopPrank();

        uint256 expected;
        if (feedDecimals >= tokenDecimals) {
            uint256 shift = feedDecimals - tokenDecimals;
            expected = shift > 77 ? 0 : answer / 10 ** shift;
            // Rounded down: the remainder is below one minor unit of the token.
            if (shift <= 77) assertLt(answer - expected * 10 ** shift, 10 ** shift);
        } else {
            uint256 factor = 10 ** (tokenDecimals - feedDecimals);
            expected = answer > type(uint256).max / factor ? type(uint256).max : answer * factor;
        }
        (uint256 reserve, ) = other.reserveOf(bank);
        assertEq(reserve, expected);
        assertEq(other.mintable(bank), expected > MAX_AMOUNT ? MAX_AMOUNT : expected);
    }

    function test_mintable_isZeroWhenNeverAttested() public {
        _register(bank, FULL, MAX_AGE);
        assertEq(ledger.mintable(bank), 0);
        assertFalse(ledger.isFresh(bank));
    }

    function test_mintable_isZeroWhenFeedUnusable() public {
        _register(bank, FULL, MAX_AGE);
        _useFeed(bank, 8, 1e8);
        assertEq(ledger.mintable(bank), 100);
        assertTrue(ledger.isFresh(bank));
        feed.setMode(TestReserveFeed.Mode.Revert);
        assertEq(ledger.mintable(bank), 0);
        assertFalse(ledger.isFresh(bank));
    }

    function test_totalOutstanding_sumsAllIssuers() public {
        _registerAndAttest(bank, 1_000);
        _registerAndAttest(otherBank, 5_000);
        _mint(bank, 400);
        _mint(otherBank, 4_000);
        _burn(otherBank, 1_500);
        assertEq(ledger.totalOutstanding(), 2_900);
        address[] memory list = ledger.issuers();
        assertEq(list.length, 2);
        assertEq(list[0], bank);
        assertEq(list[1], otherBank);
    }

    // ---------------------------------------------------------------- helpers

    /// @dev `settlement` as the settlement contract: a registered, deactivated issuer with `SETTLEMENT_ROLE`.
    function _setUpSettlement() internal {
        bytes32 role = ledger.SETTLEMENT_ROLE();
        vm.prank(admin);
        ledger.grantRole(role, settlement);
        _register(settlement, FULL, MAX_AGE);
        vm.prank(reserveAdmin);
        ledger.deactivateIssuer(settlement);
    }

    /// @dev `bank` (reserve 1,000) minted `amount` that `otherBank` (reserve 1,000) smelted: a claim of `amount`.
    function _smeltedClaim(uint256 amount) internal {
        _setUpSettlement();
        _registerAndAttest(bank, 1_000);
        _registerAndAttest(otherBank, 1_000);
        _mint(bank, amount);
        vm.prank(settlement);
        ledger.transferIssuance(bank, otherBank, amount);
        _burn(settlement, amount);
    }

    function _register(address account, uint16 ratioBps, uint32 maxAge) internal {
        vm.prank(reserveAdmin);
        ledger.registerIssuer(account, ratioBps, maxAge);
    }

    function _attest(address account, uint256 amount, uint256 asOf) internal {
        vm.prank(attestor);
        ledger.attestReserve(account, amount, asOf);
    }

    function _registerAndAttest(address account, uint256 reserve) internal {
        _register(account, FULL, MAX_AGE);
        _attest(account, reserve, block.timestamp);
    }

    function _useFeed(address account, uint8 feedDecimals, int256 answer) internal {
        feed.setDecimals(feedDecimals);
        feed.setAnswer(answer, block.timestamp);
        vm.prank(reserveAdmin);
        ledger.setReserveFeed(account, feed);
    }

    function _mint(address account, uint256 amount) internal {
        vm.prank(token);
        ledger.onMint(account, amount);
    }

    function _burn(address account, uint256 amount) internal {
        vm.prank(token);
        ledger.onBurn(account, amount);
    }

    function _expectMintRevert(bytes memory err) internal {
        vm.expectRevert(err);
        vm.prank(token);
        ledger.onMint(bank, 1);
    }
}

/// @dev Gas of the gate hooks as the token pays them: each test is a fresh transaction whose only access to
///      the ledger is the measured call, so the ledger's account and the issuer's word start cold, as in a
///      real mint. The ledger and the issuer are passed as locals so no test-contract storage read is counted.
contract ReserveLedgerGasTest is Test {
    /// @dev What `onMint` may cost in attestation mode, the cold call included.
    uint256 internal constant ON_MINT_GAS_BUDGET = 9_200;
    /// @dev Above this runtime size the ledger is the coverage-instrumented build.
    uint256 internal constant COVERAGE_CODE_SIZE = 20_000;

    ReserveLedger internal ledger;
    TestReserveFeed internal feed;
    address internal token = makeAddr("token");
    address internal bank = makeAddr("bank");
    address internal feedBank = makeAddr("feedBank");

    function setUp() public {
        vm.warp(1_700_000_000);
        ledger = new ReserveLedger(address(this), 1 days, token, 2);
        ledger.grantRole(ledger.RESERVE_ADMIN_ROLE(), address(this));
        ledger.grantRole(ledger.ATTESTOR_ROLE(), address(this));
        ledger.registerIssuer(bank, 10_000, 1 days);
        ledger.attestReserve(bank, 1_000_000, block.timestamp);
        feed = new TestReserveFeed(8);
        feed.setAnswer(1_000_000e8, block.timestamp);
        ledger.registerIssuer(feedBank, 10_000, 1 days);
        ledger.setReserveFeed(feedBank, feed);
        vm.startPrank(token);
        ledger.onMint(bank, 1_000);
        ledger.onMint(feedBank, 1_000);
        vm.stopPrank();
    }

    function test_onMint_gas() public {
        (ReserveLedger target, address account) = (ledger, bank);
        vm.prank(token);
        uint256 before = gasleft();
        target.onMint(account, 100);
        uint256 used = before - gasleft();
        // solhint-disable-next-line no-console
        console.log("ReserveLedger.onMint gas, attestation mode, cold call included:", used);
        if (!_coverageRun()) assertLe(used, ON_MINT_GAS_BUDGET);
        assertEq(target.outstandingOf(account), 1_100);
    }

    function test_onBurn_gas() public {
        (ReserveLedger target, address account) = (ledger, bank);
        vm.prank(token);
        uint256 before = gasleft();
        target.onBurn(account, 100);
        uint256 used = before - gasleft();
        // solhint-disable-next-line no-console
        console.log("ReserveLedger.onBurn gas, cold call included:", used);
        if (!_coverageRun()) assertLe(used, ON_MINT_GAS_BUDGET);
        assertEq(target.outstandingOf(account), 900);
    }

    function test_onMint_gasInFeedMode() public {
        (ReserveLedger target, address account) = (ledger, feedBank);
        vm.prank(token);
        uint256 before = gasleft();
        target.onMint(account, 100);
        uint256 used = before - gasleft();
        // solhint-disable-next-line no-console
        console.log("ReserveLedger.onMint gas, feed mode, cold calls included:", used);
        assertEq(target.outstandingOf(account), 1_100);
    }

    /// @dev Whether the tests run instrumented for coverage, where gas figures mean nothing: the instrumented
    ///      ledger is far larger than the optimised build (about 14 KB).
    function _coverageRun() internal view returns (bool) {
        return address(ledger).code.length > COVERAGE_CODE_SIZE;
    }
}

/// @dev The test feed itself answers like a Chainlink aggregator.
contract TestReserveFeedTest is Test {
    function test_latestRoundData_returnsTheRoundSet() public {
        TestReserveFeed feed = new TestReserveFeed(8);
        feed.setRound(5, 42e8, 1_000, 4);
        (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound) = feed
            .latestRoundData();
        assertEq(roundId, 5);
        assertEq(answer, 42e8);
        assertEq(startedAt, 1_000);
        assertEq(updatedAt, 1_000);
        assertEq(answeredInRound, 4);
        (roundId, answer, , , ) = feed.getRoundData(5);
        assertEq(roundId, 5);
        assertEq(answer, 42e8);
        assertEq(feed.decimals(), 8);
        assertEq(feed.version(), 1);
        assertEq(feed.description(), "Test reserve feed");
    }

    function test_getRoundData_revertsForOtherRounds() public {
        TestReserveFeed feed = new TestReserveFeed(8);
        feed.setAnswer(1, 1);
        vm.expectRevert(abi.encodeWithSelector(TestReserveFeed.TestReserveFeedReverted.selector));
        feed.getRoundData(2);
    }
}
