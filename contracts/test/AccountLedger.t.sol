// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
// solhint-disable-next-line max-line-length
import {IAccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Test} from "forge-std/Test.sol";
import {Vm} from "forge-std/Vm.sol";

import {AccountLedger} from "../reserves/AccountLedger.sol";
import {IAccountLedger} from "../reserves/interfaces/IAccountLedger.sol";
import {MockERC20} from "./mocks/MockERC20.sol";

/// @dev Unit and fuzz tests of `AccountLedger`: every external function, every revert with its exact custom
///      error, every role check, every event, batches and reversals.
contract AccountLedgerTest is Test {
    uint48 internal constant ADMIN_DELAY = 3 days;
    uint16 internal constant MIN_RATIO = 5_000;
    uint256 internal constant MAX_AMOUNT = type(uint80).max;
    bytes32 internal constant ALICE_ID = keccak256("card-alice");
    bytes32 internal constant BOB_ID = keccak256("card-bob");

    AccountLedger internal ledger;
    MockERC20 internal token;

    address internal admin = makeAddr("admin");
    address internal ledgerAdmin = makeAddr("ledgerAdmin");
    address internal gateway = makeAddr("gateway");
    address internal treasurer = makeAddr("treasurer");
    address internal treasury = makeAddr("treasury");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal stranger = makeAddr("stranger");

    bytes32 internal ledgerAdminRole;
    bytes32 internal gatewayRole;
    bytes32 internal treasurerRole;
    uint256 internal keyNonce;

    function setUp() public {
        token = new MockERC20();
        ledger = new AccountLedger(admin, ADMIN_DELAY, IERC20(address(token)), MIN_RATIO);
        ledgerAdminRole = ledger.LEDGER_ADMIN_ROLE();
        gatewayRole = ledger.GATEWAY_ROLE();
        treasurerRole = ledger.TREASURER_ROLE();
        vm.startPrank(admin);
        ledger.grantRole(ledgerAdminRole, ledgerAdmin);
        ledger.grantRole(gatewayRole, gateway);
        ledger.grantRole(treasurerRole, treasurer);
        vm.stopPrank();
        vm.startPrank(ledgerAdmin);
        ledger.openProfile(ALICE_ID, alice, 0);
        ledger.openProfile(BOB_ID, bob, 500);
        ledger.setTreasury(treasury);
        vm.stopPrank();
        vm.prank(treasurer);
        token.approve(address(ledger), type(uint256).max);
        vm.prank(treasury);
        token.approve(address(ledger), type(uint256).max);
    }

    // ---------------------------------------------------------------- helpers

    function _key() internal returns (bytes32) {
        return keccak256(abi.encode("key", ++keyNonce));
    }

    function _fund(uint256 amount) internal returns (bytes32 key) {
        key = _key();
        token.mint(treasurer, amount);
        vm.prank(treasurer);
        ledger.fundTokens(key, amount);
    }

    function _credit(address wallet, uint256 amount) internal returns (bytes32 key) {
        key = _key();
        vm.prank(gateway);
        ledger.credit(key, wallet, amount);
    }

    function _hold(address wallet, uint256 amount) internal returns (bytes32 key) {
        key = _key();
        vm.prank(gateway);
        ledger.hold(key, wallet, amount);
    }

    function _debit(address wallet, uint256 amount) internal returns (bytes32 key) {
        key = _key();
        vm.prank(gateway);
        ledger.debit(key, wallet, amount);
    }

    function _deposit(address wallet, uint256 amount) internal returns (bytes32 key) {
        key = _key();
        vm.prank(treasurer);
        ledger.depositFiat(key, wallet, amount);
    }

    /// @dev Funds 1,000 and credits alice 1,000: a full reserve.
    function _fullReserve() internal {
        _fund(1_000);
        _credit(alice, 1_000);
    }

    function _err(bytes4 selector) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector);
    }

    function _unauthorized(address account, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role);
    }

    function _assertProfile(address wallet, uint256 fiat, uint256 tokens, uint256 held) internal view {
        IAccountLedger.Profile memory p = ledger.profileOf(wallet);
        assertEq(p.fiat, fiat, "fiat");
        assertEq(p.token, tokens, "token");
        assertEq(p.held, held, "held");
    }

    function _assertOp(
        bytes32 key,
        IAccountLedger.OperationKind kind,
        IAccountLedger.OperationStatus status,
        address wallet,
        bytes32 ref,
        uint256 amount
    ) internal view {
        IAccountLedger.OperationInfo memory info = ledger.operationOf(key);
        assertEq(uint8(info.kind), uint8(kind), "kind");
        assertEq(uint8(info.status), uint8(status), "status");
        assertEq(info.wallet, wallet, "wallet");
        assertEq(info.ref, ref, "ref");
        assertEq(info.amount, amount, "amount");
        assertTrue(ledger.isKeyUsed(key));
    }

    // ---------------------------------------------------------------- constructor, roles, views

    function test_constructor_setsState() public {
        assertEq(address(ledger.token()), address(token));
        assertEq(ledger.minRatioBps(), MIN_RATIO);
        assertEq(ledger.defaultAdmin(), admin);
        assertEq(ledger.defaultAdminDelay(), ADMIN_DELAY);
        assertEq(ledgerAdminRole, keccak256("LEDGER_ADMIN_ROLE"));
        assertEq(gatewayRole, keccak256("GATEWAY_ROLE"));
        assertEq(treasurerRole, keccak256("TREASURER_ROLE"));
        assertEq(ledger.MAX_RATIO_BPS(), 10_000);
        assertEq(ledger.MAX_AMOUNT(), MAX_AMOUNT);
        assertEq(ledger.reserveRatioBps(), type(uint256).max);
        assertEq(ledger.centralFiat(), 0);
        assertEq(ledger.centralToken(), 0);
        assertEq(ledger.tokenLiabilities(), 0);
        assertEq(ledger.totalHeld(), 0);
        assertEq(ledger.treasury(), treasury);

        vm.expectEmit();
        emit IAccountLedger.MinRatioSet(0, 7_000);
        AccountLedger other = new AccountLedger(admin, ADMIN_DELAY, IERC20(address(token)), 7_000);
        assertEq(other.minRatioBps(), 7_000);
        assertEq(other.treasury(), address(0));
    }

    function test_constructor_revertsOnZeroToken() public {
        vm.expectRevert(_err(IAccountLedger.AccountLedgerZeroAddress.selector));
        new AccountLedger(admin, ADMIN_DELAY, IERC20(address(0)), MIN_RATIO);
    }

    function test_constructor_revertsOnRatioOutOfRange() public {
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.RatioOutOfRange.selector, 10_001));
        new AccountLedger(admin, ADMIN_DELAY, IERC20(address(token)), 10_001);
    }

    function test_constructor_revertsOnZeroAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControlDefaultAdminRules.AccessControlInvalidDefaultAdmin.selector, 0)
        );
        new AccountLedger(address(0), ADMIN_DELAY, IERC20(address(token)), MIN_RATIO);
    }

    function test_defaultAdmin_handoverTakesTwoSteps() public {
        address newAdmin = makeAddr("newAdmin");
        vm.prank(admin);
        ledger.beginDefaultAdminTransfer(newAdmin);
        vm.warp(block.timestamp + ADMIN_DELAY + 1);
        vm.prank(newAdmin);
        ledger.acceptDefaultAdminTransfer();
        assertEq(ledger.defaultAdmin(), newAdmin);
    }

    function test_ledgerAdminFunctions_requireRole() public {
        vm.startPrank(stranger);
        vm.expectRevert(_unauthorized(stranger, ledgerAdminRole));
        ledger.openProfile(keccak256("x"), stranger, 0);
        vm.expectRevert(_unauthorized(stranger, ledgerAdminRole));
        ledger.setLimit(alice, 1);
        vm.expectRevert(_unauthorized(stranger, ledgerAdminRole));
        ledger.closeProfile(alice);
        vm.expectRevert(_unauthorized(stranger, ledgerAdminRole));
        ledger.setMinRatio(1);
        vm.expectRevert(_unauthorized(stranger, ledgerAdminRole));
        ledger.setTreasury(stranger);
        vm.stopPrank();
    }

    function test_treasurerFunctions_requireRole() public {
        bytes32 key = _key();
        vm.startPrank(gateway);
        vm.expectRevert(_unauthorized(gateway, treasurerRole));
        ledger.fundTokens(key, 1);
        vm.expectRevert(_unauthorized(gateway, treasurerRole));
        ledger.defundTokens(key, gateway, 1);
        vm.expectRevert(_unauthorized(gateway, treasurerRole));
        ledger.depositFiat(key, alice, 1);
        vm.expectRevert(_unauthorized(gateway, treasurerRole));
        ledger.withdrawFiat(key, alice, 1);
        vm.stopPrank();
    }

    function test_gatewayFunctions_requireRole() public {
        bytes32 key = _key();
        vm.startPrank(treasurer);
        vm.expectRevert(_unauthorized(treasurer, gatewayRole));
        ledger.hold(key, alice, 1);
        vm.expectRevert(_unauthorized(treasurer, gatewayRole));
        ledger.capture(key, key, 1);
        vm.expectRevert(_unauthorized(treasurer, gatewayRole));
        ledger.release(key, key);
        vm.expectRevert(_unauthorized(treasurer, gatewayRole));
        ledger.debit(key, alice, 1);
        vm.expectRevert(_unauthorized(treasurer, gatewayRole));
        ledger.credit(key, alice, 1);
        vm.expectRevert(_unauthorized(treasurer, gatewayRole));
        ledger.reverse(key, key);
        vm.expectRevert(_unauthorized(treasurer, gatewayRole));
        ledger.reverseAmount(key, key, 1);
        vm.expectRevert(_unauthorized(treasurer, gatewayRole));
        ledger.forceHold(key, alice, 1);
        vm.expectRevert(_unauthorized(treasurer, gatewayRole));
        ledger.forceDebit(key, alice, 1);
        vm.expectRevert(_unauthorized(treasurer, gatewayRole));
        ledger.convertToToken(key, alice, 1);
        vm.expectRevert(_unauthorized(treasurer, gatewayRole));
        ledger.convertToFiat(key, alice, 1);
        vm.expectRevert(_unauthorized(treasurer, gatewayRole));
        ledger.voidKey(key);
        vm.expectRevert(_unauthorized(treasurer, gatewayRole));
        ledger.execute(new IAccountLedger.Operation[](0));
        vm.stopPrank();
    }

    function test_executeOne_revertsUnlessSelf() public {
        IAccountLedger.Operation memory op = IAccountLedger.Operation(
            IAccountLedger.OperationKind.Credit,
            _key(),
            alice,
            bytes32(0),
            1
        );
        vm.prank(gateway);
        vm.expectRevert(_err(IAccountLedger.AccountLedgerOnlySelf.selector));
        ledger.executeOne(op);
        vm.prank(admin);
        vm.expectRevert(_err(IAccountLedger.AccountLedgerOnlySelf.selector));
        ledger.executeOne(op);
    }

    function test_views_unknownProfileAndKey() public view {
        IAccountLedger.Profile memory p = ledger.profileOf(stranger);
        assertFalse(p.exists);
        assertFalse(p.open);
        assertEq(p.wallet, address(0));
        assertEq(p.accountId, bytes32(0));
        assertEq(ledger.walletOfAccount(keccak256("none")), address(0));
        IAccountLedger.OperationInfo memory info = ledger.operationOf(keccak256("none"));
        assertEq(uint8(info.kind), 0);
        assertEq(uint8(info.status), 0);
        assertFalse(ledger.isKeyUsed(keccak256("none")));
    }

    // ---------------------------------------------------------------- profiles

    function test_openProfile_recordsAndEmits() public {
        address carol = makeAddr("carol");
        bytes32 id = keccak256("card-carol");
        vm.expectEmit(address(ledger));
        emit IAccountLedger.ProfileOpened(carol, id, 250);
        vm.prank(ledgerAdmin);
        ledger.openProfile(id, carol, 250);
        IAccountLedger.Profile memory p = ledger.profileOf(carol);
        assertEq(p.accountId, id);
        assertEq(p.wallet, carol);
        assertEq(p.limit, 250);
        assertTrue(p.open);
        assertTrue(p.exists);
        assertEq(p.fiat + p.token + p.held, 0);
        assertEq(ledger.walletOfAccount(id), carol);
    }

    function test_openProfile_reverts() public {
        vm.startPrank(ledgerAdmin);
        vm.expectRevert(_err(IAccountLedger.AccountLedgerZeroAddress.selector));
        ledger.openProfile(keccak256("x"), address(0), 0);
        vm.expectRevert(_err(IAccountLedger.ZeroAccountId.selector));
        ledger.openProfile(bytes32(0), stranger, 0);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.ProfileExists.selector, alice));
        ledger.openProfile(keccak256("x"), alice, 0);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.AccountIdTaken.selector, ALICE_ID, alice));
        ledger.openProfile(ALICE_ID, stranger, 0);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.AmountTooLarge.selector, MAX_AMOUNT + 1, MAX_AMOUNT));
        ledger.openProfile(keccak256("x"), stranger, MAX_AMOUNT + 1);
        vm.stopPrank();
    }

    function test_setLimit_setsAndEmits() public {
        vm.expectEmit(address(ledger));
        emit IAccountLedger.LimitSet(bob, 500, 0);
        vm.prank(ledgerAdmin);
        ledger.setLimit(bob, 0);
        assertEq(ledger.profileOf(bob).limit, 0);
    }

    function test_setLimit_reverts() public {
        vm.startPrank(ledgerAdmin);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.UnknownProfile.selector, stranger));
        ledger.setLimit(stranger, 1);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.AmountTooLarge.selector, MAX_AMOUNT + 1, MAX_AMOUNT));
        ledger.setLimit(alice, MAX_AMOUNT + 1);
        ledger.closeProfile(alice);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.ProfileClosed.selector, alice));
        ledger.setLimit(alice, 1);
        vm.stopPrank();
    }

    function test_closeProfile_closesForGood() public {
        vm.expectEmit(address(ledger));
        emit IAccountLedger.AccountProfileClosed(alice, ALICE_ID);
        vm.prank(ledgerAdmin);
        ledger.closeProfile(alice);
        IAccountLedger.Profile memory p = ledger.profileOf(alice);
        assertTrue(p.exists);
        assertFalse(p.open);
        assertEq(ledger.walletOfAccount(ALICE_ID), alice);

        vm.startPrank(ledgerAdmin);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.ProfileClosed.selector, alice));
        ledger.closeProfile(alice);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.ProfileExists.selector, alice));
        ledger.openProfile(keccak256("new"), alice, 0);
        vm.stopPrank();

        bytes32 key = _key();
        bytes memory closed = abi.encodeWithSelector(IAccountLedger.ProfileClosed.selector, alice);
        vm.startPrank(gateway);
        vm.expectRevert(closed);
        ledger.credit(key, alice, 1);
        vm.expectRevert(closed);
        ledger.hold(key, alice, 1);
        vm.expectRevert(closed);
        ledger.debit(key, alice, 1);
        vm.expectRevert(closed);
        ledger.forceHold(key, alice, 1);
        vm.expectRevert(closed);
        ledger.forceDebit(key, alice, 1);
        vm.expectRevert(closed);
        ledger.convertToFiat(key, alice, 1);
        vm.expectRevert(closed);
        ledger.convertToToken(key, alice, 1);
        vm.stopPrank();
        vm.prank(treasurer);
        vm.expectRevert(closed);
        ledger.depositFiat(key, alice, 1);
    }

    function test_closeProfile_revertsUnlessEmpty() public {
        _deposit(alice, 7);
        vm.prank(ledgerAdmin);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.ProfileNotEmpty.selector, alice, 7, 0, 0));
        ledger.closeProfile(alice);

        _fund(100);
        _credit(bob, 30);
        _hold(bob, 20);
        vm.prank(ledgerAdmin);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.ProfileNotEmpty.selector, bob, 0, 30, 20));
        ledger.closeProfile(bob);

        vm.prank(ledgerAdmin);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.UnknownProfile.selector, stranger));
        ledger.closeProfile(stranger);
    }

    function test_setMinRatio_setsAndEmits() public {
        vm.expectEmit(address(ledger));
        emit IAccountLedger.MinRatioSet(MIN_RATIO, 10_000);
        vm.prank(ledgerAdmin);
        ledger.setMinRatio(10_000);
        assertEq(ledger.minRatioBps(), 10_000);
        vm.prank(ledgerAdmin);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.RatioOutOfRange.selector, 10_001));
        ledger.setMinRatio(10_001);
    }

    function test_setTreasury_setsAndEmits() public {
        address next = makeAddr("next");
        vm.expectEmit(address(ledger));
        emit IAccountLedger.TreasurySet(treasury, next);
        vm.prank(ledgerAdmin);
        ledger.setTreasury(next);
        assertEq(ledger.treasury(), next);
        vm.prank(ledgerAdmin);
        vm.expectRevert(_err(IAccountLedger.AccountLedgerZeroAddress.selector));
        ledger.setTreasury(address(0));
    }

    // ---------------------------------------------------------------- keys and amounts

    function test_keys_singleUseAcrossAllOperations() public {
        bytes32 key = _fund(100);
        bytes memory used = abi.encodeWithSelector(IAccountLedger.KeyUsed.selector, key);
        vm.startPrank(gateway);
        vm.expectRevert(used);
        ledger.credit(key, alice, 1);
        vm.expectRevert(used);
        ledger.hold(key, alice, 1);
        vm.expectRevert(used);
        ledger.debit(key, alice, 1);
        vm.expectRevert(used);
        ledger.capture(key, key, 1);
        vm.expectRevert(used);
        ledger.release(key, key);
        vm.expectRevert(used);
        ledger.reverse(key, key);
        vm.expectRevert(used);
        ledger.reverseAmount(key, key, 1);
        vm.expectRevert(used);
        ledger.forceHold(key, alice, 1);
        vm.expectRevert(used);
        ledger.forceDebit(key, alice, 1);
        vm.expectRevert(used);
        ledger.convertToToken(key, alice, 1);
        vm.expectRevert(used);
        ledger.convertToFiat(key, alice, 1);
        vm.stopPrank();
        vm.startPrank(treasurer);
        vm.expectRevert(used);
        ledger.fundTokens(key, 1);
        vm.expectRevert(used);
        ledger.defundTokens(key, treasurer, 1);
        vm.expectRevert(used);
        ledger.depositFiat(key, alice, 1);
        vm.expectRevert(used);
        ledger.withdrawFiat(key, alice, 1);
        vm.stopPrank();
    }

    function test_keys_zeroKeyReverts() public {
        bytes memory zero = _err(IAccountLedger.ZeroKey.selector);
        vm.startPrank(gateway);
        vm.expectRevert(zero);
        ledger.credit(0, alice, 1);
        vm.expectRevert(zero);
        ledger.hold(0, alice, 1);
        vm.expectRevert(zero);
        ledger.debit(0, alice, 1);
        vm.expectRevert(zero);
        ledger.capture(0, keccak256("h"), 1);
        vm.expectRevert(zero);
        ledger.release(0, keccak256("h"));
        vm.expectRevert(zero);
        ledger.reverse(0, keccak256("h"));
        vm.expectRevert(zero);
        ledger.reverseAmount(0, keccak256("h"), 1);
        vm.expectRevert(zero);
        ledger.forceHold(0, alice, 1);
        vm.expectRevert(zero);
        ledger.forceDebit(0, alice, 1);
        vm.expectRevert(zero);
        ledger.convertToToken(0, alice, 1);
        vm.expectRevert(zero);
        ledger.convertToFiat(0, alice, 1);
        vm.stopPrank();
        vm.startPrank(treasurer);
        vm.expectRevert(zero);
        ledger.fundTokens(0, 1);
        vm.expectRevert(zero);
        ledger.defundTokens(0, treasurer, 1);
        vm.expectRevert(zero);
        ledger.depositFiat(0, alice, 1);
        vm.expectRevert(zero);
        ledger.withdrawFiat(0, alice, 1);
        vm.stopPrank();
    }

    function test_amounts_zeroAndTooLargeRevert() public {
        bytes32 key = _key();
        bytes memory zero = _err(IAccountLedger.AccountLedgerZeroAmount.selector);
        bytes memory large = abi.encodeWithSelector(IAccountLedger.AmountTooLarge.selector, MAX_AMOUNT + 1, MAX_AMOUNT);
        vm.startPrank(gateway);
        vm.expectRevert(zero);
        ledger.credit(key, alice, 0);
        vm.expectRevert(large);
        ledger.credit(key, alice, MAX_AMOUNT + 1);
        vm.expectRevert(zero);
        ledger.hold(key, alice, 0);
        vm.expectRevert(zero);
        ledger.debit(key, alice, 0);
        vm.expectRevert(zero);
        ledger.forceHold(key, alice, 0);
        vm.expectRevert(large);
        ledger.forceHold(key, alice, MAX_AMOUNT + 1);
        vm.expectRevert(zero);
        ledger.forceDebit(key, alice, 0);
        vm.expectRevert(large);
        ledger.forceDebit(key, alice, MAX_AMOUNT + 1);
        vm.expectRevert(zero);
        ledger.capture(key, keccak256("h"), 0);
        vm.expectRevert(zero);
        ledger.convertToToken(key, alice, 0);
        vm.expectRevert(zero);
        ledger.convertToFiat(key, alice, 0);
        vm.stopPrank();
        vm.startPrank(treasurer);
        vm.expectRevert(zero);
        ledger.fundTokens(key, 0);
        vm.expectRevert(large);
        ledger.fundTokens(key, MAX_AMOUNT + 1);
        vm.expectRevert(zero);
        ledger.defundTokens(key, treasurer, 0);
        vm.expectRevert(zero);
        ledger.depositFiat(key, alice, 0);
        vm.expectRevert(zero);
        ledger.withdrawFiat(key, alice, 0);
        vm.stopPrank();
    }

    function test_totals_revertBeyondMaxAmount() public {
        _fund(MAX_AMOUNT);
        bytes32 key = _key();
        token.mint(treasurer, 1);
        vm.prank(treasurer);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.AmountTooLarge.selector, MAX_AMOUNT + 1, MAX_AMOUNT));
        ledger.fundTokens(key, 1);
        _deposit(alice, MAX_AMOUNT);
        vm.prank(treasurer);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.AmountTooLarge.selector, MAX_AMOUNT + 1, MAX_AMOUNT));
        ledger.depositFiat(key, bob, 1);
    }

    // ---------------------------------------------------------------- treasurer

    function test_fundTokens_pullsAndEmits() public {
        token.mint(treasurer, 1_000);
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.TokensFunded(key, treasurer, 600);
        vm.prank(treasurer);
        ledger.fundTokens(key, 600);
        assertEq(ledger.centralToken(), 600);
        assertEq(token.balanceOf(address(ledger)), 600);
        assertEq(token.balanceOf(treasurer), 400);
        _assertOp(key, IAccountLedger.OperationKind.FundTokens, IAccountLedger.OperationStatus.Done, treasurer, 0, 600);
    }

    function test_fundTokens_revertsWithoutBalance() public {
        bytes32 key = _key();
        vm.prank(treasurer);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, treasurer, 0, 5));
        ledger.fundTokens(key, 5);
        assertFalse(ledger.isKeyUsed(key));
    }

    function test_defundTokens_paysOutAndEmits() public {
        _fund(1_000);
        _credit(alice, 500);
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.TokensDefunded(key, bob, 750);
        vm.prank(treasurer);
        ledger.defundTokens(key, bob, 750);
        assertEq(ledger.centralToken(), 250);
        assertEq(ledger.reserveRatioBps(), 5_000);
        assertEq(token.balanceOf(bob), 750);
        _assertOp(key, IAccountLedger.OperationKind.DefundTokens, IAccountLedger.OperationStatus.Done, bob, 0, 750);
    }

    function test_defundTokens_reverts() public {
        _fund(1_000);
        _credit(alice, 500);
        bytes32 key = _key();
        vm.startPrank(treasurer);
        vm.expectRevert(_err(IAccountLedger.AccountLedgerZeroAddress.selector));
        ledger.defundTokens(key, address(0), 1);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.InsufficientCentralTokens.selector, 1_000, 1_001));
        ledger.defundTokens(key, bob, 1_001);
        // 249 * 10_000 / 500 = 4_980 < 5_000
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.RatioBreached.selector, 4_980, MIN_RATIO));
        ledger.defundTokens(key, bob, 751);
        vm.stopPrank();
    }

    function test_defundTokens_withoutLiabilitiesAlwaysAllowed() public {
        _fund(100);
        vm.prank(treasurer);
        ledger.defundTokens(_key(), bob, 100);
        assertEq(ledger.reserveRatioBps(), type(uint256).max);
    }

    function test_depositAndWithdrawFiat_moveTogether() public {
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.FiatDeposited(key, alice, 900);
        vm.prank(treasurer);
        ledger.depositFiat(key, alice, 900);
        assertEq(ledger.centralFiat(), 900);
        _assertProfile(alice, 900, 0, 0);
        _assertOp(key, IAccountLedger.OperationKind.DepositFiat, IAccountLedger.OperationStatus.Done, alice, 0, 900);

        key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.FiatWithdrawn(key, alice, 400);
        vm.prank(treasurer);
        ledger.withdrawFiat(key, alice, 400);
        assertEq(ledger.centralFiat(), 500);
        _assertProfile(alice, 500, 0, 0);
        _assertOp(key, IAccountLedger.OperationKind.WithdrawFiat, IAccountLedger.OperationStatus.Done, alice, 0, 400);
    }

    function test_depositAndWithdrawFiat_revert() public {
        _deposit(alice, 10);
        bytes32 key = _key();
        vm.startPrank(treasurer);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.InsufficientFunds.selector, alice, 10, 11));
        ledger.withdrawFiat(key, alice, 11);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.UnknownProfile.selector, stranger));
        ledger.withdrawFiat(key, stranger, 1);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.UnknownProfile.selector, stranger));
        ledger.depositFiat(key, stranger, 1);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- holds

    function test_hold_reservesAndEmits() public {
        _fullReserve();
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Held(key, alice, 300);
        vm.prank(gateway);
        ledger.hold(key, alice, 300);
        _assertProfile(alice, 0, 1_000, 300);
        assertEq(ledger.totalHeld(), 300);
        assertEq(ledger.tokenLiabilities(), 1_000);
        _assertOp(key, IAccountLedger.OperationKind.Hold, IAccountLedger.OperationStatus.Open, alice, 0, 300);
    }

    function test_hold_reverts() public {
        _fund(1_000);
        _credit(alice, 100);
        _credit(bob, 450); // two credits: bob's limit is 500
        _credit(bob, 450);
        _hold(alice, 60);
        bytes32 key = _key();
        vm.startPrank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.InsufficientFunds.selector, alice, 40, 41));
        ledger.hold(key, alice, 41);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.OverLimit.selector, bob, 501, 500));
        ledger.hold(key, bob, 501);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.UnknownProfile.selector, stranger));
        ledger.hold(key, stranger, 1);
        ledger.hold(key, bob, 500);
        vm.stopPrank();
    }

    function test_capture_partialReleasesRest() public {
        _fullReserve();
        bytes32 holdKey = _hold(alice, 300);
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Captured(key, holdKey, alice, 120, 180);
        vm.prank(gateway);
        ledger.capture(key, holdKey, 120);
        _assertProfile(alice, 0, 880, 0);
        assertEq(ledger.totalHeld(), 0);
        assertEq(ledger.tokenLiabilities(), 880);
        assertEq(ledger.centralToken(), 1_000);
        _assertOp(holdKey, IAccountLedger.OperationKind.Hold, IAccountLedger.OperationStatus.Captured, alice, 0, 300);
        _assertOp(key, IAccountLedger.OperationKind.Capture, IAccountLedger.OperationStatus.Done, alice, holdKey, 120);
    }

    function test_capture_full() public {
        _fullReserve();
        bytes32 holdKey = _hold(alice, 300);
        vm.prank(gateway);
        ledger.capture(_key(), holdKey, 300);
        _assertProfile(alice, 0, 700, 0);
    }

    function test_capture_reverts() public {
        _fullReserve();
        bytes32 holdKey = _hold(alice, 300);
        bytes32 debitKey = _debit(alice, 1);
        bytes32 unknown = keccak256("unknown");
        bytes32 key = _key();
        vm.startPrank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.CaptureExceedsHold.selector, holdKey, 300, 301));
        ledger.capture(key, holdKey, 301);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.UnknownOperation.selector, unknown));
        ledger.capture(key, unknown, 1);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.HoldNotOpen.selector, debitKey));
        ledger.capture(key, debitKey, 1);
        ledger.capture(key, holdKey, 300);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.HoldNotOpen.selector, holdKey));
        ledger.capture(_key(), holdKey, 1);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.HoldNotOpen.selector, holdKey));
        ledger.release(_key(), holdKey);
        vm.stopPrank();
    }

    function test_release_releasesAndEmits() public {
        _fullReserve();
        bytes32 holdKey = _hold(alice, 300);
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Released(key, holdKey, alice, 300);
        vm.prank(gateway);
        ledger.release(key, holdKey);
        _assertProfile(alice, 0, 1_000, 0);
        assertEq(ledger.totalHeld(), 0);
        _assertOp(holdKey, IAccountLedger.OperationKind.Hold, IAccountLedger.OperationStatus.Released, alice, 0, 300);
        _assertOp(key, IAccountLedger.OperationKind.Release, IAccountLedger.OperationStatus.Done, alice, holdKey, 300);
    }

    function test_release_reverts() public {
        _fullReserve();
        bytes32 holdKey = _hold(alice, 300);
        bytes32 unknown = keccak256("unknown");
        vm.startPrank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.UnknownOperation.selector, unknown));
        ledger.release(_key(), unknown);
        ledger.release(_key(), holdKey);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.HoldNotOpen.selector, holdKey));
        ledger.release(_key(), holdKey);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.HoldNotOpen.selector, holdKey));
        ledger.capture(_key(), holdKey, 1);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- debit and credit

    function test_debit_takesAndEmits() public {
        _fullReserve();
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Debited(key, alice, 250);
        vm.prank(gateway);
        ledger.debit(key, alice, 250);
        _assertProfile(alice, 0, 750, 0);
        assertEq(ledger.tokenLiabilities(), 750);
        assertEq(ledger.centralToken(), 1_000);
        assertEq(ledger.reserveRatioBps(), 13_333);
        _assertOp(key, IAccountLedger.OperationKind.Debit, IAccountLedger.OperationStatus.Done, alice, 0, 250);
    }

    function test_debit_reverts() public {
        _fund(1_000);
        _credit(alice, 100);
        _credit(bob, 450); // two credits: bob's limit is 500
        _credit(bob, 450);
        _hold(alice, 30);
        bytes32 key = _key();
        vm.startPrank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.InsufficientFunds.selector, alice, 70, 71));
        ledger.debit(key, alice, 71);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.OverLimit.selector, bob, 600, 500));
        ledger.debit(key, bob, 600);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.UnknownProfile.selector, stranger));
        ledger.debit(key, stranger, 1);
        vm.stopPrank();
    }

    function test_debit_allowedBelowMinimumBecauseItRaisesTheRatio() public {
        _fullReserve();
        vm.prank(treasurer);
        ledger.defundTokens(_key(), treasurer, 500); // ratio 5_000
        vm.prank(ledgerAdmin);
        ledger.setMinRatio(9_000);
        _debit(alice, 100); // 500 / 900 = 5_555 < 9_000 but higher: allowed
        assertEq(ledger.reserveRatioBps(), 5_555);
        _hold(alice, 100);
    }

    function test_credit_addsAndEmits() public {
        _fund(1_000);
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Credited(key, alice, 2_000);
        vm.prank(gateway);
        ledger.credit(key, alice, 2_000);
        _assertProfile(alice, 0, 2_000, 0);
        assertEq(ledger.tokenLiabilities(), 2_000);
        assertEq(ledger.reserveRatioBps(), 5_000);
        _assertOp(key, IAccountLedger.OperationKind.Credit, IAccountLedger.OperationStatus.Done, alice, 0, 2_000);
    }

    function test_credit_revertsOnRatioBreach() public {
        _fund(1_000);
        _credit(alice, 2_000);
        bytes32 key = _key();
        vm.prank(gateway);
        // 1_000 * 10_000 / 2_001 = 4_997
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.RatioBreached.selector, 4_997, MIN_RATIO));
        ledger.credit(key, alice, 1);
        vm.prank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.UnknownProfile.selector, stranger));
        ledger.credit(key, stranger, 1);
    }

    function test_credit_revertsWithoutAnyReserve() public {
        vm.prank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.RatioBreached.selector, 0, MIN_RATIO));
        ledger.credit(_key(), alice, 1);
        vm.prank(ledgerAdmin);
        ledger.setMinRatio(0);
        _credit(alice, 1);
        assertEq(ledger.reserveRatioBps(), 0);
    }

    // ---------------------------------------------------------------- reversals

    function test_reverse_debit() public {
        _fullReserve();
        bytes32 original = _debit(alice, 250);
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Reversed(key, original, alice, 250);
        vm.prank(gateway);
        ledger.reverse(key, original);
        _assertProfile(alice, 0, 1_000, 0);
        assertEq(ledger.tokenLiabilities(), 1_000);
        // Nothing of the debit is left to reverse.
        _assertOp(original, IAccountLedger.OperationKind.Debit, IAccountLedger.OperationStatus.Reversed, alice, 0, 0);
        _assertOp(key, IAccountLedger.OperationKind.Reverse, IAccountLedger.OperationStatus.Done, alice, original, 250);
        vm.prank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.AlreadyReversed.selector, original));
        ledger.reverse(_key(), original);
    }

    function test_reverse_capture() public {
        _fullReserve();
        bytes32 holdKey = _hold(alice, 300);
        bytes32 captureKey = _key();
        vm.prank(gateway);
        ledger.capture(captureKey, holdKey, 200);
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Reversed(key, captureKey, alice, 200);
        vm.prank(gateway);
        ledger.reverse(key, captureKey);
        _assertProfile(alice, 0, 1_000, 0);
        vm.startPrank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.AlreadyReversed.selector, captureKey));
        ledger.reverse(_key(), captureKey);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.NotReversible.selector, holdKey));
        ledger.reverse(_key(), holdKey);
        vm.stopPrank();
    }

    function test_reverse_credit() public {
        _fullReserve();
        bytes32 original = _credit(bob, 100);
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Reversed(key, original, bob, 100);
        vm.prank(gateway);
        ledger.reverse(key, original);
        _assertProfile(bob, 0, 0, 0);
        assertEq(ledger.tokenLiabilities(), 1_000);
    }

    function test_reverse_creditNeedsAvailableTokens() public {
        _fullReserve();
        bytes32 original = _credit(bob, 100);
        _hold(bob, 60);
        vm.prank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.InsufficientFunds.selector, bob, 40, 100));
        ledger.reverse(_key(), original);
    }

    function test_reverse_openHold() public {
        _fullReserve();
        bytes32 holdKey = _hold(alice, 300);
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Reversed(key, holdKey, alice, 300);
        vm.prank(gateway);
        ledger.reverse(key, holdKey);
        _assertProfile(alice, 0, 1_000, 0);
        assertEq(ledger.totalHeld(), 0);
        _assertOp(holdKey, IAccountLedger.OperationKind.Hold, IAccountLedger.OperationStatus.Reversed, alice, 0, 0);
        _assertOp(key, IAccountLedger.OperationKind.Reverse, IAccountLedger.OperationStatus.Done, alice, holdKey, 300);
        vm.startPrank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.HoldNotOpen.selector, holdKey));
        ledger.capture(_key(), holdKey, 1);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.AlreadyReversed.selector, holdKey));
        ledger.reverse(_key(), holdKey);
        vm.stopPrank();
    }

    function test_reverse_notReversible() public {
        _fullReserve();
        _deposit(alice, 100);
        bytes32 released = _hold(alice, 10);
        bytes32 releaseKey = _key();
        vm.prank(gateway);
        ledger.release(releaseKey, released);
        bytes32 debitKey = _debit(alice, 5);
        bytes32 reverseKey = _key();
        vm.prank(gateway);
        ledger.reverse(reverseKey, debitKey);
        bytes32 convertKey = _key();
        token.mint(treasury, 50);
        vm.prank(gateway);
        ledger.convertToToken(convertKey, alice, 50);
        bytes32 fundKey = _fund(10);

        bytes32[5] memory keys = [released, releaseKey, reverseKey, convertKey, fundKey];
        for (uint256 i = 0; i < keys.length; ++i) {
            vm.prank(gateway);
            vm.expectRevert(abi.encodeWithSelector(IAccountLedger.NotReversible.selector, keys[i]));
            ledger.reverse(_key(), keys[i]);
        }
        bytes32 unknown = keccak256("unknown");
        vm.prank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.UnknownOperation.selector, unknown));
        ledger.reverse(_key(), unknown);
    }

    function test_reverse_debitFollowsRatioRule() public {
        _fund(1_000);
        _credit(alice, 2_000); // 5_000
        bytes32 original = _debit(alice, 10); // 1_000 / 1_990 = 5_025
        _credit(bob, 10); // back to 5_000
        vm.prank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.RatioBreached.selector, 4_975, MIN_RATIO));
        ledger.reverse(_key(), original);
    }

    // ---------------------------------------------------------------- partial reversals (issue 14, point 4)
    // P1: a partial reversal (ISO 8583 DE 95) reversed the original's full amount.

    function _reverseAmount(bytes32 original, uint256 amount) internal returns (bytes32 key) {
        key = _key();
        vm.prank(gateway);
        ledger.reverseAmount(key, original, amount);
    }

    function test_P1_partialReversalOfADebitGivesBackOnlyTheAmount() public {
        _fullReserve();
        bytes32 original = _debit(alice, 250);
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Reversed(key, original, alice, 100);
        vm.prank(gateway);
        ledger.reverseAmount(key, original, 100);
        _assertProfile(alice, 0, 850, 0);
        assertEq(ledger.tokenLiabilities(), 850);
        // The debit stays reversible for the 150 left.
        _assertOp(original, IAccountLedger.OperationKind.Debit, IAccountLedger.OperationStatus.Done, alice, 0, 150);
        _assertOp(key, IAccountLedger.OperationKind.Reverse, IAccountLedger.OperationStatus.Done, alice, original, 100);

        // A full reversal now gives back what is left, not the original 250.
        key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Reversed(key, original, alice, 150);
        vm.prank(gateway);
        ledger.reverse(key, original);
        _assertProfile(alice, 0, 1_000, 0);
        _assertOp(original, IAccountLedger.OperationKind.Debit, IAccountLedger.OperationStatus.Reversed, alice, 0, 0);
        _assertOp(key, IAccountLedger.OperationKind.Reverse, IAccountLedger.OperationStatus.Done, alice, original, 150);
        vm.prank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.AlreadyReversed.selector, original));
        ledger.reverseAmount(_key(), original, 1);
    }

    function test_P1_partialReversalInABatchUsesTheOperationsAmount() public {
        _fullReserve();
        bytes32 original = _debit(alice, 250);
        bytes32 key = _key();
        IAccountLedger.Operation[] memory ops = new IAccountLedger.Operation[](1);
        ops[0] = _op(IAccountLedger.OperationKind.Reverse, key, address(0), original, 100);
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Reversed(key, original, alice, 100);
        vm.prank(gateway);
        assertTrue(ledger.execute(ops)[0]);
        _assertProfile(alice, 0, 850, 0);
        _assertOp(original, IAccountLedger.OperationKind.Debit, IAccountLedger.OperationStatus.Done, alice, 0, 150);
    }

    function test_P1_partialReversalsThatAddUpToTheOriginalReverseIt() public {
        _fullReserve();
        bytes32 original = _debit(alice, 250);
        _reverseAmount(original, 100);
        bytes32 last = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Reversed(last, original, alice, 150);
        vm.prank(gateway);
        ledger.reverseAmount(last, original, 150);
        _assertProfile(alice, 0, 1_000, 0);
        _assertOp(original, IAccountLedger.OperationKind.Debit, IAccountLedger.OperationStatus.Reversed, alice, 0, 0);
        vm.prank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.AlreadyReversed.selector, original));
        ledger.reverse(_key(), original);
    }

    function test_P1_reversalBeyondTheOutstandingAmountReverts() public {
        _fullReserve();
        bytes32 original = _debit(alice, 250);
        bytes32 key = _key();
        vm.prank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.ReversalExceedsOutstanding.selector, original, 250, 251));
        ledger.reverseAmount(key, original, 251);
        _reverseAmount(original, 100);
        vm.startPrank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.ReversalExceedsOutstanding.selector, original, 150, 151));
        ledger.reverseAmount(key, original, 151);
        vm.expectRevert(
            abi.encodeWithSelector(IAccountLedger.ReversalExceedsOutstanding.selector, original, 150, MAX_AMOUNT + 1)
        );
        ledger.reverseAmount(key, original, MAX_AMOUNT + 1);
        vm.stopPrank();
        assertFalse(ledger.isKeyUsed(key));
        _assertProfile(alice, 0, 850, 0);
        _assertOp(original, IAccountLedger.OperationKind.Debit, IAccountLedger.OperationStatus.Done, alice, 0, 150);
    }

    function test_P1_reversalBeyondTheOutstandingAmountRevertsForCapturesCreditsAndHolds() public {
        _fullReserve();
        bytes32 holdKey = _hold(alice, 300);
        bytes32 captureKey = _key();
        vm.prank(gateway);
        ledger.capture(captureKey, holdKey, 200);
        bytes32 creditKey = _credit(bob, 100);
        bytes32 openHold = _hold(alice, 50);
        bytes32[3] memory originals = [captureKey, creditKey, openHold];
        uint256[3] memory amounts = [uint256(200), 100, 50];
        for (uint256 i = 0; i < originals.length; ++i) {
            vm.prank(gateway);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAccountLedger.ReversalExceedsOutstanding.selector,
                    originals[i],
                    amounts[i],
                    amounts[i] + 1
                )
            );
            ledger.reverseAmount(_key(), originals[i], amounts[i] + 1);
        }
        _assertProfile(alice, 0, 800, 50);
        _assertProfile(bob, 0, 100, 0);
    }

    function test_P1_partialReversalOfACaptureGivesBackOnlyTheAmount() public {
        _fullReserve();
        bytes32 holdKey = _hold(alice, 300);
        bytes32 captureKey = _key();
        vm.prank(gateway);
        ledger.capture(captureKey, holdKey, 200);
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Reversed(key, captureKey, alice, 80);
        vm.prank(gateway);
        ledger.reverseAmount(key, captureKey, 80);
        _assertProfile(alice, 0, 880, 0);
        _assertOp(
            captureKey,
            IAccountLedger.OperationKind.Capture,
            IAccountLedger.OperationStatus.Done,
            alice,
            holdKey,
            120
        );
        _assertOp(holdKey, IAccountLedger.OperationKind.Hold, IAccountLedger.OperationStatus.Captured, alice, 0, 300);
        _reverseAmount(captureKey, 0);
        _assertProfile(alice, 0, 1_000, 0);
        _assertOp(
            captureKey,
            IAccountLedger.OperationKind.Capture,
            IAccountLedger.OperationStatus.Reversed,
            alice,
            holdKey,
            0
        );
    }

    function test_P1_partialReversalOfACreditTakesBackOnlyTheAmount() public {
        _fullReserve();
        bytes32 original = _credit(bob, 400);
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Reversed(key, original, bob, 300);
        vm.prank(gateway);
        ledger.reverseAmount(key, original, 300);
        _assertProfile(bob, 0, 100, 0);
        assertEq(ledger.tokenLiabilities(), 1_100);
        _assertOp(original, IAccountLedger.OperationKind.Credit, IAccountLedger.OperationStatus.Done, bob, 0, 100);
        // Taking back needs available tokens, as a full reversal does.
        _hold(bob, 50);
        vm.prank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.InsufficientFunds.selector, bob, 50, 100));
        ledger.reverse(_key(), original);
    }

    function test_P1_partialReversalOfAnOpenHoldLeavesTheRestHeld() public {
        _fullReserve();
        bytes32 holdKey = _hold(alice, 300);
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Reversed(key, holdKey, alice, 100);
        vm.prank(gateway);
        ledger.reverseAmount(key, holdKey, 100);
        _assertProfile(alice, 0, 1_000, 200);
        assertEq(ledger.totalHeld(), 200);
        _assertOp(holdKey, IAccountLedger.OperationKind.Hold, IAccountLedger.OperationStatus.Open, alice, 0, 200);

        // A later capture is bounded by what is left and releases the rest of it.
        bytes32 captureKey = _key();
        vm.startPrank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.CaptureExceedsHold.selector, holdKey, 200, 201));
        ledger.capture(captureKey, holdKey, 201);
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Captured(captureKey, holdKey, alice, 150, 50);
        ledger.capture(captureKey, holdKey, 150);
        vm.stopPrank();
        _assertProfile(alice, 0, 850, 0);
        assertEq(ledger.totalHeld(), 0);
        assertEq(ledger.tokenLiabilities(), 850);
    }

    function test_P1_releaseAfterAPartialReversalReleasesTheRest() public {
        _fullReserve();
        bytes32 holdKey = _hold(alice, 300);
        _reverseAmount(holdKey, 120);
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Released(key, holdKey, alice, 180);
        vm.prank(gateway);
        ledger.release(key, holdKey);
        _assertProfile(alice, 0, 1_000, 0);
        assertEq(ledger.totalHeld(), 0);
    }

    function test_P1_reversingAllThatIsLeftOfAHoldClosesIt() public {
        _fullReserve();
        bytes32 holdKey = _hold(alice, 300);
        _reverseAmount(holdKey, 100);
        _reverseAmount(holdKey, 200);
        _assertProfile(alice, 0, 1_000, 0);
        _assertOp(holdKey, IAccountLedger.OperationKind.Hold, IAccountLedger.OperationStatus.Reversed, alice, 0, 0);
        vm.startPrank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.HoldNotOpen.selector, holdKey));
        ledger.capture(_key(), holdKey, 1);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.AlreadyReversed.selector, holdKey));
        ledger.reverseAmount(_key(), holdKey, 1);
        vm.stopPrank();
    }

    function test_P1_partialReversalOfAnIrreversibleOperationRevertsNotReversible() public {
        _fullReserve();
        bytes32 holdKey = _hold(alice, 300);
        vm.prank(gateway);
        ledger.capture(_key(), holdKey, 100);
        bytes32 fundKey = _fund(10);
        vm.startPrank(gateway);
        // Its kind or state is checked before the amount.
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.NotReversible.selector, holdKey));
        ledger.reverseAmount(_key(), holdKey, 1_000);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.NotReversible.selector, fundKey));
        ledger.reverseAmount(_key(), fundKey, 1);
        vm.stopPrank();
    }

    function test_P1_partialReversalFollowsTheRatioRule() public {
        _fund(1_000);
        _credit(alice, 2_000); // 5_000
        bytes32 original = _debit(alice, 10); // 1_000 / 1_990 = 5_025
        _credit(bob, 5); // 1_000 / 1_995 = 5_012
        vm.prank(gateway);
        // 1_000 / 2_001 = 4_997
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.RatioBreached.selector, 4_997, MIN_RATIO));
        ledger.reverseAmount(_key(), original, 6);
        _reverseAmount(original, 5); // 1_000 / 2_000 = 5_000
        assertEq(ledger.reserveRatioBps(), 5_000);
    }

    // ---------------------------------------------------------------- credit limits (issue 14, point 5)
    // C1: a refund (a credit) ignored the per-transaction limit: 50,000.00 on a card limited to 1,000.00.

    function test_C1_creditAboveTheLimitReverts() public {
        _fund(1_000_000);
        bytes32 key = _key();
        vm.prank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.OverLimit.selector, bob, 501, 500));
        ledger.credit(key, bob, 501);
        assertFalse(ledger.isKeyUsed(key));
        _assertProfile(bob, 0, 0, 0);
        // At the limit is fine.
        vm.prank(gateway);
        ledger.credit(key, bob, 500);
        _assertProfile(bob, 0, 500, 0);
    }

    function test_C1_batchedCreditAboveTheLimitIsRejected() public {
        _fund(1_000_000);
        bytes32 key = _key();
        IAccountLedger.Operation[] memory ops = new IAccountLedger.Operation[](1);
        ops[0] = _op(IAccountLedger.OperationKind.Credit, key, bob, 0, 50_000);
        vm.expectEmit(address(ledger));
        emit IAccountLedger.OperationRejected(
            key,
            abi.encodeWithSelector(IAccountLedger.OverLimit.selector, bob, 50_000, 500)
        );
        vm.prank(gateway);
        assertFalse(ledger.execute(ops)[0]);
        assertFalse(ledger.isKeyUsed(key));
        assertEq(ledger.tokenLiabilities(), 0);
    }

    function test_C1_theLimitIsCheckedBeforeTheRatio() public {
        vm.prank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.OverLimit.selector, bob, 501, 500));
        ledger.credit(_key(), bob, 501);
    }

    function test_C1_reversalsAreNotLimited() public {
        _fund(10_000);
        _credit(bob, 500);
        _credit(bob, 500);
        bytes32 debitKey = _debit(bob, 400);
        bytes32 creditKey = _credit(bob, 450);
        vm.prank(ledgerAdmin);
        ledger.setLimit(bob, 100);
        // Giving back 400 and taking back 300 both exceed the new limit of 100: reversals are not limited.
        _reverseAmount(debitKey, 0);
        _reverseAmount(creditKey, 300);
        _assertProfile(bob, 0, 1_150, 0);
    }

    // ---------------------------------------------------------------- conversions

    function test_convertToToken_movesBetweenCentralAccounts() public {
        _deposit(alice, 800);
        token.mint(treasury, 1_000);
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Converted(key, alice, true, 300);
        vm.prank(gateway);
        ledger.convertToToken(key, alice, 300);
        _assertProfile(alice, 500, 300, 0);
        assertEq(ledger.centralFiat(), 500);
        assertEq(ledger.centralToken(), 300);
        assertEq(ledger.tokenLiabilities(), 300);
        assertEq(token.balanceOf(address(ledger)), 300);
        assertEq(token.balanceOf(treasury), 700);
        _assertOp(key, IAccountLedger.OperationKind.ConvertToToken, IAccountLedger.OperationStatus.Done, alice, 0, 300);
    }

    function test_convertToToken_reverts() public {
        _deposit(alice, 800);
        bytes32 key = _key();
        vm.startPrank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.InsufficientFunds.selector, alice, 800, 801));
        ledger.convertToToken(key, alice, 801);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, treasury, 0, 100));
        ledger.convertToToken(key, alice, 100);
        vm.stopPrank();

        AccountLedger fresh = new AccountLedger(admin, ADMIN_DELAY, IERC20(address(token)), 0);
        vm.startPrank(admin);
        fresh.grantRole(gatewayRole, gateway);
        vm.stopPrank();
        vm.prank(gateway);
        vm.expectRevert(_err(IAccountLedger.TreasuryNotSet.selector));
        fresh.convertToToken(key, alice, 1);
        vm.prank(gateway);
        vm.expectRevert(_err(IAccountLedger.TreasuryNotSet.selector));
        fresh.convertToFiat(key, alice, 1);
    }

    function test_convertToToken_allowedBelowMinimumBecauseItRaisesTheRatio() public {
        _fund(1_000);
        _credit(alice, 2_000); // 5_000
        vm.prank(ledgerAdmin);
        ledger.setMinRatio(9_000);
        _deposit(alice, 1_000);
        token.mint(treasury, 1_000);
        vm.prank(gateway);
        ledger.convertToToken(_key(), alice, 1_000); // 2_000 / 3_000
        assertEq(ledger.reserveRatioBps(), 6_666);
    }

    function test_convertToFiat_movesBetweenCentralAccounts() public {
        _fullReserve();
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Converted(key, alice, false, 400);
        vm.prank(gateway);
        ledger.convertToFiat(key, alice, 400);
        _assertProfile(alice, 400, 600, 0);
        assertEq(ledger.centralFiat(), 400);
        assertEq(ledger.centralToken(), 600);
        assertEq(ledger.tokenLiabilities(), 600);
        assertEq(token.balanceOf(treasury), 400);
        _assertOp(key, IAccountLedger.OperationKind.ConvertToFiat, IAccountLedger.OperationStatus.Done, alice, 0, 400);
    }

    function test_convertToFiat_reverts() public {
        _fund(600);
        _credit(alice, 1_000); // 6_000
        _hold(alice, 100);
        bytes32 key = _key();
        vm.startPrank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.InsufficientFunds.selector, alice, 900, 901));
        ledger.convertToFiat(key, alice, 901);
        // 100 / 200 = 5_000 is fine, (600 - 600) / 400 = 0 is not
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.RatioBreached.selector, 0, MIN_RATIO));
        ledger.convertToFiat(key, alice, 600);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.InsufficientCentralTokens.selector, 600, 700));
        ledger.convertToFiat(key, alice, 700);
        ledger.convertToFiat(key, alice, 200); // 400 / 800 = 5_000
        vm.stopPrank();
        assertEq(ledger.reserveRatioBps(), 5_000);
    }

    // ---------------------------------------------------------------- batches

    function _op(
        IAccountLedger.OperationKind kind,
        bytes32 key,
        address wallet,
        bytes32 ref,
        uint256 amount
    ) internal pure returns (IAccountLedger.Operation memory) {
        return IAccountLedger.Operation(kind, key, wallet, ref, amount);
    }

    function test_execute_appliesAllKinds() public {
        _fund(1_000);
        _deposit(alice, 500);
        token.mint(treasury, 500);
        bytes32 k1 = _key();
        bytes32 k2 = _key();
        bytes32 k3 = _key();
        bytes32 k4 = _key();
        IAccountLedger.Operation[] memory ops = new IAccountLedger.Operation[](8);
        ops[0] = _op(IAccountLedger.OperationKind.Credit, k1, alice, 0, 1_000);
        ops[1] = _op(IAccountLedger.OperationKind.Hold, k2, alice, 0, 300);
        ops[2] = _op(IAccountLedger.OperationKind.Capture, k3, address(0), k2, 100);
        ops[3] = _op(IAccountLedger.OperationKind.Debit, k4, alice, 0, 50);
        ops[4] = _op(IAccountLedger.OperationKind.Reverse, _key(), address(0), k4, 0);
        ops[5] = _op(IAccountLedger.OperationKind.ConvertToToken, _key(), alice, 0, 500);
        ops[6] = _op(IAccountLedger.OperationKind.ConvertToFiat, _key(), alice, 0, 200);
        ops[7] = _op(IAccountLedger.OperationKind.Hold, _key(), alice, 0, 10);
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Credited(k1, alice, 1_000);
        vm.prank(gateway);
        bool[] memory ok = ledger.execute(ops);
        for (uint256 i = 0; i < ok.length; ++i) assertTrue(ok[i]);
        // 1_000 - 100 + 500 - 200 tokens, 10 held, 500 - 500 + 200 fiat
        _assertProfile(alice, 200, 1_200, 10);
        assertEq(ledger.centralToken(), 1_300);

        IAccountLedger.Operation[] memory release = new IAccountLedger.Operation[](1);
        release[0] = _op(IAccountLedger.OperationKind.Release, _key(), address(0), ops[7].key, 0);
        vm.prank(gateway);
        assertTrue(ledger.execute(release)[0]);
        _assertProfile(alice, 200, 1_200, 0);
    }

    function test_execute_failingOpIsRejectedAlone() public {
        _fullReserve();
        bytes32 k1 = _key();
        bytes32 k2 = _key();
        bytes32 k3 = _key();
        IAccountLedger.Operation[] memory ops = new IAccountLedger.Operation[](3);
        ops[0] = _op(IAccountLedger.OperationKind.Debit, k1, alice, 0, 100);
        ops[1] = _op(IAccountLedger.OperationKind.Debit, k2, alice, 0, 5_000);
        ops[2] = _op(IAccountLedger.OperationKind.Hold, k3, alice, 0, 200);
        bytes memory reason = abi.encodeWithSelector(IAccountLedger.InsufficientFunds.selector, alice, 900, 5_000);

        vm.expectEmit(address(ledger));
        emit IAccountLedger.Debited(k1, alice, 100);
        vm.expectEmit(address(ledger));
        emit IAccountLedger.OperationRejected(k2, reason);
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Held(k3, alice, 200);
        vm.prank(gateway);
        bool[] memory ok = ledger.execute(ops);

        assertTrue(ok[0]);
        assertFalse(ok[1]);
        assertTrue(ok[2]);
        _assertProfile(alice, 0, 900, 200);
        assertTrue(ledger.isKeyUsed(k1));
        assertFalse(ledger.isKeyUsed(k2));
        assertTrue(ledger.isKeyUsed(k3));
        // The rejected key can be used again.
        _debitWithKey(k2, alice, 700);
        _assertProfile(alice, 0, 200, 200);
    }

    function _debitWithKey(bytes32 key, address wallet, uint256 amount) internal {
        vm.prank(gateway);
        ledger.debit(key, wallet, amount);
    }

    function test_execute_rejectsDuplicateKeysAndUnsupportedKinds() public {
        _fullReserve();
        bytes32 k1 = _key();
        IAccountLedger.Operation[] memory ops = new IAccountLedger.Operation[](4);
        ops[0] = _op(IAccountLedger.OperationKind.Debit, k1, alice, 0, 1);
        ops[1] = _op(IAccountLedger.OperationKind.Debit, k1, alice, 0, 1);
        ops[2] = _op(IAccountLedger.OperationKind.FundTokens, _key(), alice, 0, 1);
        ops[3] = _op(IAccountLedger.OperationKind.None, _key(), alice, 0, 1);
        vm.expectEmit(address(ledger));
        emit IAccountLedger.OperationRejected(k1, abi.encodeWithSelector(IAccountLedger.KeyUsed.selector, k1));
        vm.expectEmit(address(ledger));
        emit IAccountLedger.OperationRejected(
            ops[2].key,
            abi.encodeWithSelector(
                IAccountLedger.UnsupportedOperation.selector,
                IAccountLedger.OperationKind.FundTokens
            )
        );
        vm.expectEmit(address(ledger));
        emit IAccountLedger.OperationRejected(
            ops[3].key,
            abi.encodeWithSelector(IAccountLedger.UnsupportedOperation.selector, IAccountLedger.OperationKind.None)
        );
        vm.prank(gateway);
        bool[] memory ok = ledger.execute(ops);
        assertTrue(ok[0]);
        assertFalse(ok[1]);
        assertFalse(ok[2]);
        assertFalse(ok[3]);
        _assertProfile(alice, 0, 999, 0);
    }

    function test_execute_emptyBatch() public {
        vm.prank(gateway);
        assertEq(ledger.execute(new IAccountLedger.Operation[](0)).length, 0);
    }

    function test_execute_gasPerDebit() public {
        _fund(100_000);
        _credit(alice, 100_000);
        IAccountLedger.Operation[] memory ops = new IAccountLedger.Operation[](20);
        for (uint256 i = 0; i < ops.length; ++i) {
            ops[i] = _op(IAccountLedger.OperationKind.Debit, _key(), alice, 0, 10);
        }
        vm.prank(gateway);
        uint256 gasBefore = gasleft();
        ledger.execute(ops);
        uint256 used = gasBefore - gasleft();
        emit log_named_uint("gas per batched debit", used / ops.length);
        _assertProfile(alice, 0, 100_000 - 200, 0);
    }

    // ---------------------------------------------------------------- forced posting (issue 14, point 6)
    // F1: advices (0120/0220) were refused, so forced posts never reached the ledger; they must post outside the
    //     per-transaction limit, still exactly once.

    /// @dev Funds the ledger and gives bob, whose limit is 500, 1_500 tokens in three credits.
    function _bobWith1500() internal {
        _fund(10_000);
        _credit(bob, 500);
        _credit(bob, 500);
        _credit(bob, 500);
    }

    function test_F1_forcedKindsAreAppended() public pure {
        assertEq(uint8(IAccountLedger.OperationKind.WithdrawFiat), 12);
        assertEq(uint8(IAccountLedger.OperationKind.ForceHold), 13);
        assertEq(uint8(IAccountLedger.OperationKind.ForceDebit), 14);
    }

    function test_F1_forcedDebitPostsAboveTheLimit() public {
        _bobWith1500();
        bytes32 key = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Debited(key, bob, 800);
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Forced(key);
        vm.prank(gateway);
        ledger.forceDebit(key, bob, 800);
        _assertProfile(bob, 0, 700, 0);
        assertEq(ledger.tokenLiabilities(), 700);
        _assertOp(key, IAccountLedger.OperationKind.Debit, IAccountLedger.OperationStatus.Done, bob, 0, 800);
        // Reversible like any debit, in part too.
        _reverseAmount(key, 300);
        _assertProfile(bob, 0, 1_000, 0);
        _assertOp(key, IAccountLedger.OperationKind.Debit, IAccountLedger.OperationStatus.Done, bob, 0, 500);
    }

    function test_F1_forcedHoldPostsAboveTheLimitAndCapturesLikeAHold() public {
        _bobWith1500();
        bytes32 holdKey = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Held(holdKey, bob, 900);
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Forced(holdKey);
        vm.prank(gateway);
        ledger.forceHold(holdKey, bob, 900);
        _assertProfile(bob, 0, 1_500, 900);
        assertEq(ledger.totalHeld(), 900);
        _assertOp(holdKey, IAccountLedger.OperationKind.Hold, IAccountLedger.OperationStatus.Open, bob, 0, 900);
        // A capture is bounded by the hold, not by the limit.
        bytes32 captureKey = _key();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Captured(captureKey, holdKey, bob, 700, 200);
        vm.prank(gateway);
        ledger.capture(captureKey, holdKey, 700);
        _assertProfile(bob, 0, 800, 0);
        _reverseAmount(captureKey, 0);
        _assertProfile(bob, 0, 1_500, 0);
    }

    function test_F1_forcedOpsStillNeedFundsAnOpenProfileAndAnUnusedKey() public {
        _bobWith1500();
        _hold(bob, 100);
        bytes32 key = _key();
        vm.startPrank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.InsufficientFunds.selector, bob, 1_400, 1_401));
        ledger.forceHold(key, bob, 1_401);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.InsufficientFunds.selector, bob, 1_400, 1_401));
        ledger.forceDebit(key, bob, 1_401);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.UnknownProfile.selector, stranger));
        ledger.forceHold(key, stranger, 1);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.UnknownProfile.selector, stranger));
        ledger.forceDebit(key, stranger, 1);
        // Exactly once: the same advice again is refused by its key.
        ledger.forceDebit(key, bob, 1_400);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.KeyUsed.selector, key));
        ledger.forceDebit(key, bob, 1);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.KeyUsed.selector, key));
        ledger.forceHold(key, bob, 1);
        vm.stopPrank();
        _assertProfile(bob, 0, 100, 100);
    }

    function test_F1_forcedDebitIsAllowedBelowTheMinimumBecauseItRaisesTheRatio() public {
        _bobWith1500();
        vm.prank(treasurer);
        ledger.defundTokens(_key(), treasurer, 9_250); // 750 / 1_500 = 5_000
        vm.prank(ledgerAdmin);
        ledger.setMinRatio(9_000);
        vm.startPrank(gateway);
        ledger.forceDebit(_key(), bob, 600); // 750 / 900 = 8_333 < 9_000 but higher: allowed
        ledger.forceHold(_key(), bob, 600);
        vm.stopPrank();
        assertEq(ledger.reserveRatioBps(), 8_333);
    }

    function test_F1_forcedOpsInABatch() public {
        _bobWith1500();
        bytes32 holdKey = _key();
        bytes32 debitKey = _key();
        bytes32 limited = _key();
        IAccountLedger.Operation[] memory ops = new IAccountLedger.Operation[](4);
        ops[0] = _op(IAccountLedger.OperationKind.ForceHold, holdKey, bob, 0, 300);
        ops[1] = _op(IAccountLedger.OperationKind.ForceDebit, debitKey, bob, 0, 501);
        ops[2] = _op(IAccountLedger.OperationKind.Debit, limited, bob, 0, 501);
        ops[3] = _op(IAccountLedger.OperationKind.ForceDebit, debitKey, bob, 0, 1);
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Held(holdKey, bob, 300);
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Forced(holdKey);
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Debited(debitKey, bob, 501);
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Forced(debitKey);
        vm.expectEmit(address(ledger));
        emit IAccountLedger.OperationRejected(
            limited,
            abi.encodeWithSelector(IAccountLedger.OverLimit.selector, bob, 501, 500)
        );
        vm.expectEmit(address(ledger));
        emit IAccountLedger.OperationRejected(
            debitKey,
            abi.encodeWithSelector(IAccountLedger.KeyUsed.selector, debitKey)
        );
        vm.prank(gateway);
        bool[] memory ok = ledger.execute(ops);
        assertTrue(ok[0]);
        assertTrue(ok[1]);
        assertFalse(ok[2]);
        assertFalse(ok[3]);
        _assertProfile(bob, 0, 999, 300);
        _assertOp(holdKey, IAccountLedger.OperationKind.Hold, IAccountLedger.OperationStatus.Open, bob, 0, 300);
        _assertOp(debitKey, IAccountLedger.OperationKind.Debit, IAccountLedger.OperationStatus.Done, bob, 0, 501);
        assertFalse(ledger.isKeyUsed(limited));
    }

    // ---------------------------------------------------------------- voided keys (issue 14, unknown fate)
    // V1: when the chain does not answer in time, the gateway concluded "not posted" from a still-unused key, but
    //     the pending transaction could land later and move money after the gateway said it did not. The gateway
    //     now voids the key first: once voided, no operation can ever be posted under it.

    function _void(bytes32 key) internal {
        vm.prank(gateway);
        ledger.voidKey(key);
    }

    function _assertVoided(bytes32 key) internal view {
        _assertOp(key, IAccountLedger.OperationKind.Void, IAccountLedger.OperationStatus.Done, address(0), 0, 0);
    }

    /// @dev How many of the recorded logs the ledger emitted.
    function _ledgerLogs() internal returns (uint256 count) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == address(ledger)) ++count;
        }
    }

    function test_V1_voidKindIsAppended() public pure {
        assertEq(uint8(IAccountLedger.OperationKind.ForceDebit), 14);
        assertEq(uint8(IAccountLedger.OperationKind.Void), 15);
    }

    function test_V1_voidRecordsTheKeyAndMovesNothing() public {
        _fullReserve();
        bytes32 key = _key();
        vm.recordLogs();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.KeyVoided(key);
        _void(key);
        assertEq(_ledgerLogs(), 1, "only KeyVoided");
        _assertVoided(key);
        _assertProfile(alice, 0, 1_000, 0);
        assertEq(ledger.centralToken(), 1_000);
        assertEq(ledger.tokenLiabilities(), 1_000);
        assertEq(ledger.totalHeld(), 0);
        assertEq(ledger.centralFiat(), 0);
        assertEq(token.balanceOf(address(ledger)), 1_000);
    }

    function test_V1_anOperationThatLandsAfterItsKeyWasVoidedIsRejected() public {
        _fullReserve();
        bytes32 key = _key();
        _void(key);
        bytes memory used = abi.encodeWithSelector(IAccountLedger.KeyUsed.selector, key);
        vm.startPrank(gateway);
        vm.expectRevert(used);
        ledger.debit(key, alice, 100);
        vm.expectRevert(used);
        ledger.hold(key, alice, 100);
        vm.expectRevert(used);
        ledger.credit(key, alice, 100);
        vm.expectRevert(used);
        ledger.forceDebit(key, alice, 100);
        vm.expectRevert(used);
        ledger.forceHold(key, alice, 100);
        vm.expectRevert(used);
        ledger.convertToFiat(key, alice, 100);
        vm.stopPrank();
        _assertProfile(alice, 0, 1_000, 0);
        _assertVoided(key);
    }

    function test_V1_aBatchedOperationThatLandsAfterItsKeyWasVoidedIsRejectedAndChangesNothing() public {
        _fullReserve();
        bytes32 key = _key();
        _void(key);
        IAccountLedger.Operation[] memory ops = new IAccountLedger.Operation[](1);
        ops[0] = _op(IAccountLedger.OperationKind.Debit, key, alice, 0, 100);
        vm.recordLogs();
        vm.expectEmit(address(ledger));
        emit IAccountLedger.OperationRejected(key, abi.encodeWithSelector(IAccountLedger.KeyUsed.selector, key));
        vm.prank(gateway);
        bool[] memory ok = ledger.execute(ops);
        assertFalse(ok[0]);
        assertEq(_ledgerLogs(), 1, "only OperationRejected");
        _assertProfile(alice, 0, 1_000, 0);
        assertEq(ledger.tokenLiabilities(), 1_000);
        assertEq(ledger.centralToken(), 1_000);
        _assertVoided(key);
    }

    function test_V1_voidOfAUsedOrZeroKeyReverts() public {
        _fullReserve();
        bytes32 debitKey = _debit(alice, 100);
        bytes32 voided = _key();
        _void(voided);
        vm.startPrank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.KeyUsed.selector, debitKey));
        ledger.voidKey(debitKey);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.KeyUsed.selector, voided));
        ledger.voidKey(voided);
        vm.expectRevert(_err(IAccountLedger.ZeroKey.selector));
        ledger.voidKey(bytes32(0));
        vm.stopPrank();
        // The debit stands: voiding cannot undo an operation that landed.
        _assertOp(debitKey, IAccountLedger.OperationKind.Debit, IAccountLedger.OperationStatus.Done, alice, 0, 100);
        _assertProfile(alice, 0, 900, 0);
    }

    function test_V1_aVoidIsNotReversibleNorCapturable() public {
        _fullReserve();
        bytes32 key = _key();
        _void(key);
        vm.startPrank(gateway);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.NotReversible.selector, key));
        ledger.reverse(_key(), key);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.NotReversible.selector, key));
        ledger.reverseAmount(_key(), key, 1);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.HoldNotOpen.selector, key));
        ledger.capture(_key(), key, 1);
        vm.expectRevert(abi.encodeWithSelector(IAccountLedger.HoldNotOpen.selector, key));
        ledger.release(_key(), key);
        vm.stopPrank();
        _assertProfile(alice, 0, 1_000, 0);
        _assertVoided(key);
    }

    function test_V1_voidKeyRequiresTheGatewayRole() public {
        bytes32 key = _key();
        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger, gatewayRole));
        ledger.voidKey(key);
        vm.prank(ledgerAdmin);
        vm.expectRevert(_unauthorized(ledgerAdmin, gatewayRole));
        ledger.voidKey(key);
        assertFalse(ledger.isKeyUsed(key));
    }

    function test_V1_voidInABatchIgnoresTheOperationsFieldsAndClaimsTheKey() public {
        _fullReserve();
        bytes32 holdKey = _hold(alice, 300);
        bytes32 voided = _key();
        bytes32 late = _key();
        bytes32 zero = bytes32(0);
        IAccountLedger.Operation[] memory ops = new IAccountLedger.Operation[](6);
        // The wallet, ref and amount of a Void are ignored: it neither debits alice nor touches the hold.
        ops[0] = _op(IAccountLedger.OperationKind.Void, voided, alice, holdKey, 500);
        ops[1] = _op(IAccountLedger.OperationKind.Debit, voided, alice, 0, 100);
        ops[2] = _op(IAccountLedger.OperationKind.Void, holdKey, address(0), 0, 0);
        ops[3] = _op(IAccountLedger.OperationKind.Void, zero, address(0), 0, 0);
        ops[4] = _op(IAccountLedger.OperationKind.Debit, late, alice, 0, 100);
        ops[5] = _op(IAccountLedger.OperationKind.Void, late, address(0), 0, 0);
        vm.expectEmit(address(ledger));
        emit IAccountLedger.KeyVoided(voided);
        vm.expectEmit(address(ledger));
        emit IAccountLedger.OperationRejected(voided, abi.encodeWithSelector(IAccountLedger.KeyUsed.selector, voided));
        vm.expectEmit(address(ledger));
        emit IAccountLedger.OperationRejected(
            holdKey,
            abi.encodeWithSelector(IAccountLedger.KeyUsed.selector, holdKey)
        );
        vm.expectEmit(address(ledger));
        emit IAccountLedger.OperationRejected(zero, _err(IAccountLedger.ZeroKey.selector));
        vm.expectEmit(address(ledger));
        emit IAccountLedger.Debited(late, alice, 100);
        vm.expectEmit(address(ledger));
        emit IAccountLedger.OperationRejected(late, abi.encodeWithSelector(IAccountLedger.KeyUsed.selector, late));
        vm.prank(gateway);
        bool[] memory ok = ledger.execute(ops);
        assertTrue(ok[0]);
        assertFalse(ok[1]);
        assertFalse(ok[2]);
        assertFalse(ok[3]);
        assertTrue(ok[4]);
        assertFalse(ok[5]);
        _assertVoided(voided);
        _assertOp(holdKey, IAccountLedger.OperationKind.Hold, IAccountLedger.OperationStatus.Open, alice, 0, 300);
        _assertOp(late, IAccountLedger.OperationKind.Debit, IAccountLedger.OperationStatus.Done, alice, 0, 100);
        _assertProfile(alice, 0, 900, 300);
    }

    function testFuzz_V1_voidMovesNothingWhateverTheOperationCarries(
        address wallet,
        bytes32 ref,
        uint256 amount
    ) public {
        _fullReserve();
        _hold(alice, 300);
        bytes32 key = _key();
        IAccountLedger.Operation[] memory ops = new IAccountLedger.Operation[](2);
        ops[0] = _op(IAccountLedger.OperationKind.Void, key, wallet, ref, amount);
        ops[1] = _op(IAccountLedger.OperationKind.Debit, key, alice, 0, 1);
        vm.prank(gateway);
        bool[] memory ok = ledger.execute(ops);
        assertTrue(ok[0]);
        assertFalse(ok[1]);
        _assertVoided(key);
        _assertProfile(alice, 0, 1_000, 300);
        assertEq(ledger.tokenLiabilities(), 1_000);
        assertEq(ledger.totalHeld(), 300);
        assertEq(ledger.centralToken(), 1_000);
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_holdCaptureAmounts(uint256 balance, uint256 holdAmount, uint256 captureAmount) public {
        balance = bound(balance, 1, MAX_AMOUNT);
        holdAmount = bound(holdAmount, 1, MAX_AMOUNT);
        _fund(balance);
        _credit(alice, balance);
        bytes32 holdKey = _key();
        vm.prank(gateway);
        if (holdAmount > balance) {
            vm.expectRevert(
                abi.encodeWithSelector(IAccountLedger.InsufficientFunds.selector, alice, balance, holdAmount)
            );
            ledger.hold(holdKey, alice, holdAmount);
            return;
        }
        ledger.hold(holdKey, alice, holdAmount);
        captureAmount = bound(captureAmount, 1, _min(holdAmount * 2, MAX_AMOUNT));
        vm.prank(gateway);
        if (captureAmount > holdAmount) {
            vm.expectRevert(
                abi.encodeWithSelector(IAccountLedger.CaptureExceedsHold.selector, holdKey, holdAmount, captureAmount)
            );
            ledger.capture(_key(), holdKey, captureAmount);
            return;
        }
        ledger.capture(_key(), holdKey, captureAmount);
        _assertProfile(alice, 0, balance - captureAmount, 0);
        assertEq(ledger.tokenLiabilities(), balance - captureAmount);
    }

    function testFuzz_debitLimit(uint256 limit, uint256 amount) public {
        limit = bound(limit, 0, 10_000);
        amount = bound(amount, 1, 20_000);
        _fund(20_000);
        _credit(alice, 20_000);
        vm.prank(ledgerAdmin);
        ledger.setLimit(alice, limit);
        vm.prank(gateway);
        if (limit != 0 && amount > limit) {
            vm.expectRevert(abi.encodeWithSelector(IAccountLedger.OverLimit.selector, alice, amount, limit));
        }
        ledger.debit(_key(), alice, amount);
    }

    function testFuzz_credit_ratioRule(uint256 central, uint256 liabilities, uint16 minBps, uint256 amount) public {
        central = bound(central, 0, 1e15);
        liabilities = bound(liabilities, 0, 1e15);
        minBps = uint16(bound(minBps, 0, 10_000));
        amount = bound(amount, 1, 1e15);
        vm.startPrank(ledgerAdmin);
        ledger.setMinRatio(0);
        ledger.setLimit(bob, 0);
        vm.stopPrank();
        if (central != 0) _fund(central);
        if (liabilities != 0) _credit(bob, liabilities);
        vm.prank(ledgerAdmin);
        ledger.setMinRatio(minBps);
        uint256 before = ledger.reserveRatioBps();
        uint256 ratioAfter = (central * 10_000) / (liabilities + amount);
        vm.prank(gateway);
        if (ratioAfter < minBps && ratioAfter < before) {
            vm.expectRevert(abi.encodeWithSelector(IAccountLedger.RatioBreached.selector, ratioAfter, minBps));
            ledger.credit(_key(), alice, amount);
        } else {
            ledger.credit(_key(), alice, amount);
            assertEq(ledger.reserveRatioBps(), ratioAfter);
        }
    }

    function testFuzz_convertToFiat_ratioRule(
        uint256 central,
        uint256 liabilities,
        uint16 minBps,
        uint256 amount
    ) public {
        central = bound(central, 1, 1e15);
        liabilities = bound(liabilities, 1, 1e15);
        minBps = uint16(bound(minBps, 0, 10_000));
        amount = bound(amount, 1, _min(central, liabilities));
        vm.prank(ledgerAdmin);
        ledger.setMinRatio(0);
        _fund(central);
        _credit(alice, liabilities);
        vm.prank(ledgerAdmin);
        ledger.setMinRatio(minBps);
        uint256 before = ledger.reserveRatioBps();
        uint256 ratioAfter =
            liabilities == amount ? type(uint256).max : ((central - amount) * 10_000) / (liabilities - amount);
        vm.prank(gateway);
        if (ratioAfter < minBps && ratioAfter < before) {
            vm.expectRevert(abi.encodeWithSelector(IAccountLedger.RatioBreached.selector, ratioAfter, minBps));
            ledger.convertToFiat(_key(), alice, amount);
        } else {
            ledger.convertToFiat(_key(), alice, amount);
            assertEq(ledger.reserveRatioBps(), ratioAfter);
            assertEq(token.balanceOf(treasury), amount);
            assertEq(ledger.centralFiat(), amount);
        }
    }

    function testFuzz_defund_ratioRule(uint256 central, uint256 liabilities, uint16 minBps, uint256 amount) public {
        central = bound(central, 1, 1e15);
        liabilities = bound(liabilities, 1, 1e15);
        minBps = uint16(bound(minBps, 0, 10_000));
        amount = bound(amount, 1, central);
        vm.prank(ledgerAdmin);
        ledger.setMinRatio(0);
        _fund(central);
        _credit(alice, liabilities);
        vm.prank(ledgerAdmin);
        ledger.setMinRatio(minBps);
        uint256 ratioAfter = ((central - amount) * 10_000) / liabilities;
        uint256 before = ledger.reserveRatioBps();
        vm.prank(treasurer);
        if (ratioAfter < minBps && ratioAfter < before) {
            vm.expectRevert(abi.encodeWithSelector(IAccountLedger.RatioBreached.selector, ratioAfter, minBps));
        }
        ledger.defundTokens(_key(), treasurer, amount);
    }

    function testFuzz_fiatRoundTrip(uint256 deposit, uint256 withdraw) public {
        deposit = bound(deposit, 1, MAX_AMOUNT);
        withdraw = bound(withdraw, 1, MAX_AMOUNT);
        _deposit(alice, deposit);
        vm.prank(treasurer);
        if (withdraw > deposit) {
            vm.expectRevert(
                abi.encodeWithSelector(IAccountLedger.InsufficientFunds.selector, alice, deposit, withdraw)
            );
            ledger.withdrawFiat(_key(), alice, withdraw);
        } else {
            ledger.withdrawFiat(_key(), alice, withdraw);
            assertEq(ledger.centralFiat(), deposit - withdraw);
            _assertProfile(alice, deposit - withdraw, 0, 0);
        }
    }

    /// @dev P1: however an original is reversed in parts (0 meaning "all that is left"), the parts never add up to
    ///      more than the original, each part moves exactly its amount, and the original is `Reversed` exactly
    ///      when nothing is left. `kindSeed` picks a debit, a capture, a credit or an open hold.
    function testFuzz_P1_partialReversalsNeverGiveBackMoreThanTheOriginal(
        uint256 original,
        uint8 kindSeed,
        uint256[6] memory parts
    ) public {
        original = bound(original, 1, 1e12);
        uint256 kind = kindSeed % 4;
        bytes32 originalKey = _originalOfKind(kind, original);
        uint256 outstanding = original;
        for (uint256 i = 0; i < parts.length; ++i) {
            outstanding = _reversePart(originalKey, outstanding, bound(parts[i], 0, outstanding * 2 + 1));
        }
        uint256 totalReversed = original - outstanding;
        IAccountLedger.Profile memory p = ledger.profileOf(alice);
        if (kind == 2) assertEq(p.token, 2e12 + original - totalReversed);
        else if (kind == 3) assertEq(p.token, 2e12);
        else assertEq(p.token, 2e12 - original + totalReversed);
        assertEq(p.held, kind == 3 ? outstanding : 0);
        assertEq(ledger.totalHeld(), p.held);
        assertEq(ledger.tokenLiabilities(), p.token);
    }

    /// @dev Gives alice 2e12 tokens (minimum ratio 0) and posts an original of `amount`: a debit (0), a capture
    ///      (1), a credit (2) or an open hold (3).
    function _originalOfKind(uint256 kind, uint256 amount) internal returns (bytes32 originalKey) {
        vm.prank(ledgerAdmin);
        ledger.setMinRatio(0);
        _fund(4e12);
        _credit(alice, 2e12);
        if (kind == 0) return _debit(alice, amount);
        if (kind == 2) return _credit(alice, amount);
        if (kind == 3) return _hold(alice, amount);
        bytes32 holdKey = _hold(alice, amount + 1);
        originalKey = _key();
        vm.prank(gateway);
        ledger.capture(originalKey, holdKey, amount);
    }

    /// @dev Reverses `amount` of `originalKey`, of which `outstanding` is left, expecting the exact outcome;
    ///      returns what is left after it.
    function _reversePart(bytes32 originalKey, uint256 outstanding, uint256 amount) internal returns (uint256 left) {
        bytes32 key = _key();
        left = outstanding;
        vm.prank(gateway);
        if (outstanding == 0) {
            vm.expectRevert(abi.encodeWithSelector(IAccountLedger.AlreadyReversed.selector, originalKey));
            ledger.reverseAmount(key, originalKey, amount);
        } else if (amount > outstanding) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAccountLedger.ReversalExceedsOutstanding.selector,
                    originalKey,
                    outstanding,
                    amount
                )
            );
            ledger.reverseAmount(key, originalKey, amount);
        } else {
            uint256 reversed = amount == 0 ? outstanding : amount;
            vm.expectEmit(address(ledger));
            emit IAccountLedger.Reversed(key, originalKey, alice, reversed);
            ledger.reverseAmount(key, originalKey, amount);
            left = outstanding - reversed;
            assertEq(ledger.operationOf(key).amount, reversed, "reversal's amount");
        }
        IAccountLedger.OperationInfo memory info = ledger.operationOf(originalKey);
        assertEq(info.amount, left, "outstanding");
        assertEq(info.status == IAccountLedger.OperationStatus.Reversed, left == 0, "reversed iff none left");
    }

    /// @dev C1: a credit is limited as a debit is.
    function testFuzz_C1_creditLimit(uint256 limit, uint256 amount) public {
        limit = bound(limit, 0, 10_000);
        amount = bound(amount, 1, 20_000);
        _fund(20_000);
        vm.prank(ledgerAdmin);
        ledger.setLimit(alice, limit);
        vm.prank(gateway);
        if (limit != 0 && amount > limit) {
            vm.expectRevert(abi.encodeWithSelector(IAccountLedger.OverLimit.selector, alice, amount, limit));
        }
        ledger.credit(_key(), alice, amount);
    }

    /// @dev F1: a forced hold or debit goes through exactly when the funds allow it, whatever the limit.
    function testFuzz_F1_forcedOpsIgnoreOnlyTheLimit(uint256 limit, uint256 amount, bool asHold) public {
        limit = bound(limit, 0, 10_000);
        amount = bound(amount, 1, 25_000);
        _fund(20_000);
        _credit(alice, 20_000);
        vm.prank(ledgerAdmin);
        ledger.setLimit(alice, limit);
        bytes32 key = _key();
        vm.prank(gateway);
        if (amount > 20_000) {
            vm.expectRevert(abi.encodeWithSelector(IAccountLedger.InsufficientFunds.selector, alice, 20_000, amount));
        }
        if (asHold) ledger.forceHold(key, alice, amount);
        else ledger.forceDebit(key, alice, amount);
        if (amount > 20_000) return;
        if (asHold) _assertProfile(alice, 0, 20_000, amount);
        else _assertProfile(alice, 0, 20_000 - amount, 0);
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }
}
