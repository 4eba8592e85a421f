// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {OfflineVault} from "../offline/OfflineVault.sol";
import {IOfflineVault} from "../offline/interfaces/IOfflineVault.sol";
import {IBankToken} from "../token/interfaces/IBankToken.sol";
import {OfflineVaultFixture, OfflineVaultTestWallet} from "./utils/OfflineVaultFixture.sol";

/// @dev Unit and fuzz tests of `OfflineVault` against the real `BankToken`, `ReserveLedger` and `TrustAccount`.
contract OfflineVaultTest is OfflineVaultFixture {
    uint256 internal constant LOCK = 10_000_00;

    function setUp() public {
        _deploySuite();
        _lock(alice, LOCK);
    }

    // ---------------------------------------------------------------- constructor, roles, limits

    function test_constructor_setsState() public view {
        assertEq(address(vault.token()), address(token));
        assertEq(vault.defaultAdmin(), admin);
        assertEq(vault.defaultAdminDelay(), ADMIN_DELAY);
        assertEq(vault.RISK_ADMIN_ROLE(), keccak256("RISK_ADMIN_ROLE"));
        assertEq(vault.VOUCHER_TYPEHASH(), VOUCHER_TYPEHASH);
        assertEq(vault.DOMAIN_SEPARATOR(), _domain(address(vault)));
        assertTrue(vault.hasRole(vault.RISK_ADMIN_ROLE(), riskAdmin));
        IOfflineVault.Limits memory lim = vault.limits();
        assertEq(lim.maxPerVoucher, MAX_PER_VOUCHER);
        assertEq(lim.maxPerLane, MAX_PER_LANE);
        assertEq(lim.maxPerEpoch, MAX_PER_EPOCH);
        assertEq(lim.maxVoucherAge, MAX_VOUCHER_AGE);
        assertEq(lim.epochLength, EPOCH_LENGTH);
        assertEq(lim.withdrawalDelay, WITHDRAWAL_DELAY);
        assertEq(vault.currentEpoch(), T0 / EPOCH_LENGTH);
        assertEq(vault.currentEpochEndsAt(), (T0 / EPOCH_LENGTH + 1) * EPOCH_LENGTH);
    }

    function test_constructor_emitsLimitsSet() public {
        vm.expectEmit(false, false, false, true);
        emit IOfflineVault.LimitsSet(_defaultLimits());
        new OfflineVault(admin, ADMIN_DELAY, IERC20(address(token)), _defaultLimits());
    }

    function test_constructor_revertsOnZeroToken() public {
        vm.expectRevert(IOfflineVault.VaultZeroAddress.selector);
        new OfflineVault(admin, ADMIN_DELAY, IERC20(address(0)), _defaultLimits());
    }

    function test_constructor_revertsOnInvalidLimits() public {
        IOfflineVault.Limits memory lim = _defaultLimits();
        lim.withdrawalDelay = lim.maxVoucherAge - 1;
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.InvalidLimits.selector, lim));
        new OfflineVault(admin, ADMIN_DELAY, IERC20(address(token)), lim);
    }

    function test_setLimits_setsAndEmits() public {
        IOfflineVault.Limits memory lim = _defaultLimits();
        lim.maxPerVoucher = 50_00;
        lim.withdrawalDelay = lim.maxVoucherAge + lim.maxViewAge;
        vm.expectEmit(address(vault));
        emit IOfflineVault.LimitsSet(lim);
        vm.prank(riskAdmin);
        vault.setLimits(lim);
        assertEq(vault.limits().maxPerVoucher, 50_00);
        assertEq(vault.limits().withdrawalDelay, MAX_VOUCHER_AGE + MAX_VIEW_AGE);
    }

    function test_setLimits_revertsOnEveryInvalidField() public {
        for (uint256 i = 0; i < 8; ++i) {
            IOfflineVault.Limits memory lim = _defaultLimits();
            if (i == 0) lim.maxPerVoucher = 0;
            if (i == 1) lim.maxPerLane = 0;
            if (i == 2) lim.maxPerEpoch = 0;
            if (i == 3) lim.maxVoucherAge = 0;
            if (i == 4) lim.epochLength = 0;
            if (i == 5) lim.withdrawalDelay = lim.maxVoucherAge - 1;
            if (i == 6) lim.maxViewAge = 0;
            if (i == 7) lim.withdrawalDelay = lim.maxVoucherAge + lim.maxViewAge - 1;
            vm.expectRevert(abi.encodeWithSelector(IOfflineVault.InvalidLimits.selector, lim));
            vm.prank(riskAdmin);
            vault.setLimits(lim);
        }
    }

    function test_setLimits_revertsForNonRiskAdmin() public {
        bytes32 role = vault.RISK_ADMIN_ROLE();
        IOfflineVault.Limits memory lim = _defaultLimits();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        vault.setLimits(lim);
        // Not even the default admin holds the duty role.
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role));
        vm.prank(admin);
        vault.setLimits(lim);
    }

    function test_setLimits_epochLengthChangeKeepsIndexMonotone() public {
        vm.warp(T0 + 5 hours);
        uint256 before = vault.currentEpoch();
        _redeemAlice(_next(merchant1, 40_00, 0));
        IOfflineVault.Limits memory lim = _defaultLimits();
        lim.epochLength = 7 days;
        vm.prank(riskAdmin);
        vault.setLimits(lim);
        // Same index, totals carried over, the epoch now runs 7 days from the change.
        assertEq(vault.currentEpoch(), before);
        assertEq(vault.payerEpochRedeemedOf(alice), 40_00);
        assertEq(vault.currentEpochEndsAt(), T0 + 5 hours + 7 days);
        vm.warp(T0 + 5 hours + 7 days - 1);
        assertEq(vault.currentEpoch(), before);
        vm.warp(T0 + 5 hours + 7 days);
        assertEq(vault.currentEpoch(), before + 1);
        assertEq(vault.payerEpochRedeemedOf(alice), 0);
    }

    function test_clearCheater_revertsForNonRiskAdminAndWhenNotFlagged() public {
        bytes32 role = vault.RISK_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        vault.clearCheater(alice);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.NotCheater.selector, alice));
        vm.prank(riskAdmin);
        vault.clearCheater(alice);
    }

    function test_defaultAdmin_handoverIsTwoStep() public {
        vm.prank(admin);
        vault.beginDefaultAdminTransfer(stranger);
        assertEq(vault.defaultAdmin(), admin);
        vm.warp(block.timestamp + ADMIN_DELAY + 1);
        vm.prank(stranger);
        vault.acceptDefaultAdminTransfer();
        assertEq(vault.defaultAdmin(), stranger);
    }

    // ---------------------------------------------------------------- deposits

    function test_deposit_locksAndEmits() public {
        vm.startPrank(bob);
        token.approve(address(vault), 500_00);
        vm.expectEmit(address(vault));
        emit IOfflineVault.Deposited(bob, bob, 500_00);
        vault.deposit(500_00);
        vm.stopPrank();
        assertEq(vault.lockedOf(bob), 500_00);
        assertEq(token.balanceOf(address(vault)), LOCK + 500_00);
        assertEq(token.balanceOf(bob), FUNDS - 500_00);
    }

    function test_depositFor_creditsPayer() public {
        vm.startPrank(bob);
        token.approve(address(vault), 70_00);
        vm.expectEmit(address(vault));
        emit IOfflineVault.Deposited(alice, bob, 70_00);
        vault.depositFor(alice, 70_00);
        vm.stopPrank();
        assertEq(vault.lockedOf(alice), LOCK + 70_00);
        assertEq(vault.lockedOf(bob), 0);
    }

    function test_deposit_revertsOnZeroAmountAndZeroPayer() public {
        vm.startPrank(bob);
        vm.expectRevert(IOfflineVault.VaultZeroAmount.selector);
        vault.deposit(0);
        vm.expectRevert(IOfflineVault.VaultZeroAmount.selector);
        vault.depositFor(alice, 0);
        vm.expectRevert(IOfflineVault.VaultZeroAddress.selector);
        vault.depositFor(address(0), 1);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- withdrawals

    function test_withdrawal_requestWaitWithdraw() public {
        uint256 availableAt = block.timestamp + WITHDRAWAL_DELAY;
        vm.expectEmit(address(vault));
        emit IOfflineVault.WithdrawalRequested(alice, 1_000_00, availableAt);
        vm.prank(alice);
        vault.requestWithdrawal(1_000_00);
        (uint256 amount, uint256 at) = vault.pendingWithdrawalOf(alice);
        assertEq(amount, 1_000_00);
        assertEq(at, availableAt);

        vm.warp(availableAt - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IOfflineVault.WithdrawalNotReady.selector, availableAt, availableAt - 1)
        );
        vm.prank(alice);
        vault.withdraw();

        vm.warp(availableAt);
        vm.expectEmit(address(vault));
        emit IOfflineVault.Withdrawn(alice, 1_000_00, 1_000_00);
        vm.prank(alice);
        assertEq(vault.withdraw(), 1_000_00);
        assertEq(vault.lockedOf(alice), LOCK - 1_000_00);
        assertEq(token.balanceOf(alice), FUNDS - LOCK + 1_000_00);
        (amount, at) = vault.pendingWithdrawalOf(alice);
        assertEq(amount, 0);
        assertEq(at, 0);
    }

    function test_withdrawal_cancel() public {
        vm.startPrank(alice);
        vault.requestWithdrawal(1_00);
        vm.expectEmit(address(vault));
        emit IOfflineVault.WithdrawalCancelled(alice, 1_00);
        vault.cancelWithdrawal();
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.NoPendingWithdrawal.selector, alice));
        vault.cancelWithdrawal();
        vm.warp(block.timestamp + WITHDRAWAL_DELAY);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.NoPendingWithdrawal.selector, alice));
        vault.withdraw();
        vm.stopPrank();
    }

    function test_withdrawal_replaceRestartsDelay() public {
        vm.prank(alice);
        vault.requestWithdrawal(1_00);
        vm.warp(block.timestamp + 1 days);
        vm.prank(alice);
        vault.requestWithdrawal(2_00);
        uint256 availableAt = block.timestamp + WITHDRAWAL_DELAY;
        (uint256 amount, uint256 at) = vault.pendingWithdrawalOf(alice);
        assertEq(amount, 2_00);
        assertEq(at, availableAt);
        // The first request's time has come, but it was replaced.
        vm.warp(T0 + WITHDRAWAL_DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(IOfflineVault.WithdrawalNotReady.selector, availableAt, block.timestamp)
        );
        vm.prank(alice);
        vault.withdraw();
        vm.warp(availableAt);
        vm.prank(alice);
        assertEq(vault.withdraw(), 2_00);
    }

    function test_withdrawal_paysMinOfRequestedAndLockedAfterRedemptions() public {
        vm.prank(alice);
        vault.requestWithdrawal(LOCK);
        // Redemptions keep drawing on the locked funds during the delay.
        _redeemAlice(_next(merchant1, 100_00, 0));
        _redeemAlice(_next(merchant2, 100_00, 0));
        vm.warp(block.timestamp + WITHDRAWAL_DELAY);
        vm.expectEmit(address(vault));
        emit IOfflineVault.Withdrawn(alice, LOCK, LOCK - 200_00);
        vm.prank(alice);
        assertEq(vault.withdraw(), LOCK - 200_00);
        assertEq(vault.lockedOf(alice), 0);
        assertEq(token.balanceOf(address(vault)), 0);
    }

    function test_withdrawal_paysZeroWhenAllRedeemed() public {
        vm.startPrank(bob);
        token.approve(address(vault), 100_00);
        vault.deposit(100_00);
        vault.requestWithdrawal(100_00);
        vm.stopPrank();
        IOfflineVault.Voucher memory v = _makeVoucher(bob, merchant1, 100_00, 0, 1, bytes32(0));
        vault.redeem(v, _sign(bobKey, v));
        vm.warp(block.timestamp + WITHDRAWAL_DELAY);
        vm.expectEmit(address(vault));
        emit IOfflineVault.Withdrawn(bob, 100_00, 0);
        vm.prank(bob);
        assertEq(vault.withdraw(), 0);
        assertEq(token.balanceOf(bob), FUNDS - 100_00);
        (uint256 amount, ) = vault.pendingWithdrawalOf(bob);
        assertEq(amount, 0);
    }

    function test_requestWithdrawal_revertsOnZeroAndAboveLocked() public {
        vm.startPrank(alice);
        vm.expectRevert(IOfflineVault.VaultZeroAmount.selector);
        vault.requestWithdrawal(0);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.InsufficientLocked.selector, LOCK, LOCK + 1));
        vault.requestWithdrawal(LOCK + 1);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- redemption

    function test_redeem_paysMerchantAndRecords() public {
        IOfflineVault.Voucher memory v = _next(merchant1, 42_00, 7);
        bytes32 h = _hash(v);
        assertEq(vault.hashVoucher(v), h);
        vm.expectEmit(address(vault));
        emit IOfflineVault.VoucherRedeemed(h, alice, merchant1, 7, 1, 42_00);
        vm.prank(stranger); // anyone may submit
        vault.redeem(v, _sign(aliceKey, v));
        assertEq(token.balanceOf(merchant1), 42_00);
        assertEq(vault.lockedOf(alice), LOCK - 42_00);
        (uint256 seq, bytes32 lastHash, uint256 epoch, uint256 epochRedeemed) = vault.laneOf(alice, 7);
        assertEq(seq, 1);
        assertEq(lastHash, h);
        assertEq(epoch, vault.currentEpoch());
        assertEq(epochRedeemed, 42_00);
        (bytes32 rh, address rm) = vault.redeemedAt(alice, 7, 1);
        assertEq(rh, h);
        assertEq(rm, merchant1);
        assertTrue(vault.isPaid(h));
        assertEq(vault.payerEpochRedeemedOf(alice), 42_00);
    }

    function test_redeem_chainOfThree() public {
        for (uint256 i = 1; i <= 3; ++i) {
            IOfflineVault.Voucher memory v = _next(i % 2 == 0 ? merchant2 : merchant1, i * 10_00, 0);
            assertEq(v.sequence, i);
            _redeemAlice(v);
        }
        (uint256 seq, , , uint256 epochRedeemed) = vault.laneOf(alice, 0);
        assertEq(seq, 3);
        assertEq(epochRedeemed, 60_00);
        assertEq(token.balanceOf(merchant1), 40_00);
        assertEq(token.balanceOf(merchant2), 20_00);
    }

    function test_redeem_revertsOnReplay() public {
        IOfflineVault.Voucher memory v = _next(merchant1, 1_00, 0);
        bytes memory sig = _sign(aliceKey, v);
        vault.redeem(v, sig);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.AlreadyRedeemed.selector, _hash(v)));
        vault.redeem(v, sig);
    }

    function test_redeem_revertsOnSequenceGapAndZero() public {
        IOfflineVault.Voucher memory v = _makeVoucher(alice, merchant1, 1_00, 0, 2, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.SequenceGap.selector, 1, 2));
        _redeemAlice(v);
        v.sequence = 0;
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.SequenceGap.selector, 1, 0));
        _redeemAlice(v);
        _redeemAlice(_next(merchant1, 1_00, 0));
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.SequenceGap.selector, 2, 0));
        _redeemAlice(v);
    }

    function test_redeem_revertsOnBrokenChain() public {
        IOfflineVault.Voucher memory v = _makeVoucher(alice, merchant1, 1_00, 0, 1, keccak256("x"));
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.BrokenChain.selector, bytes32(0), keccak256("x")));
        _redeemAlice(v);
        IOfflineVault.Voucher memory first = _next(merchant1, 1_00, 0);
        _redeemAlice(first);
        v.sequence = 2;
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.BrokenChain.selector, _hash(first), keccak256("x")));
        _redeemAlice(v);
    }

    function test_redeem_revertsOnForgedSignature() public {
        IOfflineVault.Voucher memory v = _next(merchant1, 1_00, 0);
        bytes32 h = _hash(v);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.InvalidSignature.selector, alice, h));
        vault.redeem(v, _sign(bobKey, v));
        // A signature over another voucher (the merchant changed after signing).
        bytes memory sig = _sign(aliceKey, v);
        v.merchant = stranger;
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.InvalidSignature.selector, alice, _hash(v)));
        vault.redeem(v, sig);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.InvalidSignature.selector, alice, _hash(v)));
        vault.redeem(v, hex"1234");
    }

    function test_redeem_revertsOnZeroAmountAndZeroMerchant() public {
        IOfflineVault.Voucher memory v = _next(merchant1, 0, 0);
        vm.expectRevert(IOfflineVault.VaultZeroAmount.selector);
        _redeemAlice(v);
        v.amount = 1;
        v.merchant = address(0);
        vm.expectRevert(IOfflineVault.MerchantZero.selector);
        _redeemAlice(v);
    }

    function test_redeem_revertsNotYetValidAndExpired() public {
        IOfflineVault.Voucher memory v = _next(merchant1, 1_00, 0);
        v.validAfter = block.timestamp + 1;
        v.validBefore = block.timestamp + 1 hours;
        vm.expectRevert(
            abi.encodeWithSelector(IOfflineVault.VoucherNotYetValid.selector, block.timestamp + 1, block.timestamp)
        );
        _redeemAlice(v);
        vm.warp(v.validBefore);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.VoucherExpired.selector, v.validBefore, v.validBefore));
        _redeemAlice(v);
        vm.warp(v.validBefore - 1); // the last valid second
        _redeemAlice(v);
        assertEq(token.balanceOf(merchant1), 1_00);
    }

    function test_redeem_revertsOnVoucherTooLong() public {
        IOfflineVault.Voucher memory v = _next(merchant1, 1_00, 0);
        v.validBefore = v.validAfter + MAX_VOUCHER_AGE + 1;
        vm.expectRevert(
            abi.encodeWithSelector(IOfflineVault.VoucherTooLong.selector, MAX_VOUCHER_AGE + 1, MAX_VOUCHER_AGE)
        );
        _redeemAlice(v);
        v.validBefore = v.validAfter + MAX_VOUCHER_AGE;
        _redeemAlice(v);
    }

    function test_redeem_revertsOverPerVoucherLimit() public {
        IOfflineVault.Voucher memory v = _next(merchant1, MAX_PER_VOUCHER + 1, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IOfflineVault.VoucherOverLimit.selector, MAX_PER_VOUCHER + 1, MAX_PER_VOUCHER)
        );
        _redeemAlice(v);
        v.amount = MAX_PER_VOUCHER;
        _redeemAlice(v);
    }

    function test_redeem_laneLimitPerEpochAndRollover() public {
        _redeemAlice(_next(merchant1, 100_00, 0));
        _redeemAlice(_next(merchant1, 100_00, 0));
        _redeemAlice(_next(merchant1, 99_00, 0));
        IOfflineVault.Voucher memory v = _next(merchant1, 2_00, 0);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.LaneLimitExceeded.selector, 299_00, 2_00, MAX_PER_LANE));
        _redeemAlice(v);
        // Another lane has its own allowance.
        _redeemAlice(_next(merchant1, 2_00, 1));
        // The next epoch starts afresh (the voucher is re-signed: the old one would still be valid, too).
        vm.warp(vault.currentEpochEndsAt());
        v = _next(merchant1, 100_00, 0);
        _redeemAlice(v);
        (, , uint256 epoch, uint256 epochRedeemed) = vault.laneOf(alice, 0);
        assertEq(epoch, vault.currentEpoch());
        assertEq(epochRedeemed, 100_00);
    }

    function test_redeem_payerEpochLimitAcrossLanesAndRollover() public {
        for (uint256 lane = 0; lane < 5; ++lane) _redeemAlice(_next(merchant1, 100_00, lane));
        assertEq(vault.payerEpochRedeemedOf(alice), MAX_PER_EPOCH);
        IOfflineVault.Voucher memory v = _next(merchant1, 1, 5);
        vm.expectRevert(
            abi.encodeWithSelector(IOfflineVault.EpochLimitExceeded.selector, MAX_PER_EPOCH, 1, MAX_PER_EPOCH)
        );
        _redeemAlice(v);
        vm.warp(vault.currentEpochEndsAt() - 1);
        v = _next(merchant1, 1, 5);
        vm.expectRevert(
            abi.encodeWithSelector(IOfflineVault.EpochLimitExceeded.selector, MAX_PER_EPOCH, 1, MAX_PER_EPOCH)
        );
        _redeemAlice(v);
        vm.warp(vault.currentEpochEndsAt());
        assertEq(vault.payerEpochRedeemedOf(alice), 0);
        _redeemAlice(_next(merchant1, 1, 5));
        assertEq(vault.payerEpochRedeemedOf(alice), 1);
    }

    function test_redeem_revertsOnInsufficientLocked() public {
        vm.startPrank(bob);
        token.approve(address(vault), 5_00);
        vault.deposit(5_00);
        vm.stopPrank();
        IOfflineVault.Voucher memory v = _makeVoucher(bob, merchant1, 6_00, 0, 1, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.InsufficientLocked.selector, 5_00, 6_00));
        vault.redeem(v, _sign(bobKey, v));
    }

    function test_redeem_erc1271VouchersAreNotAccepted() public {
        // A contract wallet cannot pay by voucher: a merchant could not check its ERC-1271 answer offline.
        OfflineVaultTestWallet wallet = new OfflineVaultTestWallet(bob);
        vm.startPrank(bob);
        token.approve(address(vault), 50_00);
        vault.depositFor(address(wallet), 50_00);
        vm.stopPrank();
        IOfflineVault.Voucher memory v = _makeVoucher(address(wallet), merchant1, 20_00, 0, 1, bytes32(0));
        bytes memory sig = _sign(bobKey, v);
        assertEq(wallet.isValidSignature(_hash(v), sig), bytes4(0x1626ba7e));
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.InvalidSignature.selector, address(wallet), _hash(v)));
        vault.redeem(v, sig);
        assertEq(vault.lockedOf(address(wallet)), 50_00);
    }

    function test_redeem_revertsWithTokenErrorWhenMerchantFrozen() public {
        address compliance = makeAddr("compliance");
        bytes32 role = token.COMPLIANCE_ROLE();
        vm.prank(admin);
        IAccessControl(address(token)).grantRole(role, compliance);
        vm.prank(compliance);
        token.freeze(merchant1);
        IOfflineVault.Voucher memory v = _next(merchant1, 1_00, 0);
        bytes memory sig = _sign(aliceKey, v);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, merchant1));
        vault.redeem(v, sig);
        assertEq(vault.lockedOf(alice), LOCK);
    }

    // ---------------------------------------------------------------- batches

    function test_redeemBatch_badVoucherInTheMiddle() public {
        IOfflineVault.Voucher[] memory vs = new IOfflineVault.Voucher[](3);
        bytes[] memory sigs = new bytes[](3);
        vs[0] = _next(merchant1, 10_00, 0);
        sigs[0] = _sign(aliceKey, vs[0]);
        vs[1] = _makeVoucher(alice, merchant2, 20_00, 0, 5, bytes32(0)); // a gap
        sigs[1] = _sign(aliceKey, vs[1]);
        vs[2] = _makeVoucher(alice, merchant2, 30_00, 1, 1, bytes32(0));
        sigs[2] = _sign(aliceKey, vs[2]);

        vm.expectEmit(address(vault));
        emit IOfflineVault.VoucherRedeemed(_hash(vs[0]), alice, merchant1, 0, 1, 10_00);
        vm.expectEmit(address(vault));
        emit IOfflineVault.VoucherRejected(
            _hash(vs[1]),
            abi.encodeWithSelector(IOfflineVault.SequenceGap.selector, 2, 5)
        );
        vm.expectEmit(address(vault));
        emit IOfflineVault.VoucherRedeemed(_hash(vs[2]), alice, merchant2, 1, 1, 30_00);
        bool[] memory ok = vault.redeemBatch(vs, sigs);
        assertTrue(ok[0]);
        assertFalse(ok[1]);
        assertTrue(ok[2]);
        assertEq(token.balanceOf(merchant1), 10_00);
        assertEq(token.balanceOf(merchant2), 30_00);
        assertEq(vault.lockedOf(alice), LOCK - 40_00);
    }

    function test_redeemBatch_chainedVouchersInOneBatch() public {
        IOfflineVault.Voucher[] memory vs = new IOfflineVault.Voucher[](2);
        bytes[] memory sigs = new bytes[](2);
        vs[0] = _next(merchant1, 10_00, 0);
        vs[1] = _makeVoucher(alice, merchant1, 10_00, 0, 2, _hash(vs[0]));
        sigs[0] = _sign(aliceKey, vs[0]);
        sigs[1] = hex"00"; // bad signature: rejected with InvalidSignature
        vm.expectEmit(address(vault));
        emit IOfflineVault.VoucherRejected(
            _hash(vs[1]),
            abi.encodeWithSelector(IOfflineVault.InvalidSignature.selector, alice, _hash(vs[1]))
        );
        bool[] memory ok = vault.redeemBatch(vs, sigs);
        assertTrue(ok[0]);
        assertFalse(ok[1]);
        sigs[1] = _sign(aliceKey, vs[1]);
        ok = vault.redeemBatch(vs, sigs);
        assertFalse(ok[0]); // replay
        assertTrue(ok[1]);
        assertEq(token.balanceOf(merchant1), 20_00);
    }

    function test_redeemBatch_revertsOnLengthMismatch() public {
        IOfflineVault.Voucher[] memory vs = new IOfflineVault.Voucher[](2);
        bytes[] memory sigs = new bytes[](1);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.LengthMismatch.selector, 2, 1));
        vault.redeemBatch(vs, sigs);
    }

    function test_redeemOne_revertsForOthers() public {
        IOfflineVault.Voucher memory v = _next(merchant1, 1_00, 0);
        bytes memory sig = _sign(aliceKey, v);
        vm.expectRevert(IOfflineVault.VaultOnlySelf.selector);
        vault.redeemOne(v, sig);
        vm.expectRevert(IOfflineVault.VaultOnlySelf.selector);
        vm.prank(alice);
        vault.redeemOne(v, sig);
    }

    // ---------------------------------------------------------------- double spends

    function _conflictingPair()
        internal
        view
        returns (IOfflineVault.Voucher memory a, bytes memory sigA, IOfflineVault.Voucher memory b, bytes memory sigB)
    {
        a = _next(merchant1, 60_00, 3);
        b = _next(merchant2, 70_00, 3);
        sigA = _sign(aliceKey, a);
        sigB = _sign(aliceKey, b);
    }

    function test_proveDoubleSpend_compensatesBothAndFlags() public {
        vm.prank(alice);
        vault.requestWithdrawal(1_00);
        (
            IOfflineVault.Voucher memory a,
            bytes memory sigA,
            IOfflineVault.Voucher memory b,
            bytes memory sigB
        ) = _conflictingPair();
        bytes32 ha = _hash(a);
        bytes32 hb = _hash(b);
        vm.expectEmit(address(vault));
        emit IOfflineVault.WithdrawalCancelled(alice, 1_00);
        vm.expectEmit(address(vault));
        emit IOfflineVault.DoubleSpendSlashed(alice, 3, 1, ha, hb, merchant1, 60_00, merchant2, 70_00);
        vm.prank(stranger);
        vault.proveDoubleSpend(a, sigA, b, sigB);

        assertTrue(vault.isCheater(alice));
        assertEq(token.balanceOf(merchant1), 60_00);
        assertEq(token.balanceOf(merchant2), 70_00);
        assertEq(vault.lockedOf(alice), LOCK - 130_00);
        assertTrue(vault.isPaid(ha));
        assertTrue(vault.isPaid(hb));
        (uint256 amount, ) = vault.pendingWithdrawalOf(alice);
        assertEq(amount, 0);
        // `a` was the lane's next link: it is recorded, so the lane goes on from it.
        (uint256 seq, bytes32 lastHash, , ) = vault.laneOf(alice, 3);
        assertEq(seq, 1);
        assertEq(lastHash, ha);
        // No double payment: `a` again is a replay; `b` again (vs the recorded `a`) is used evidence.
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.AlreadyRedeemed.selector, ha));
        vault.redeem(a, sigA);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.EvidenceAlreadyUsed.selector, ha, hb));
        vault.redeem(b, sigB);
        // Both orders of the pair are the same evidence.
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.EvidenceAlreadyUsed.selector, hb, ha));
        vault.proveDoubleSpend(b, sigB, a, sigA);
        // The lane goes on from `a`.
        _redeemAlice(_next(merchant1, 1_00, 3));
    }

    function test_proveDoubleSpend_compensatedAheadOfTheLaneIsNotPaidAgainAsNextLink() public {
        // Two conflicting sequence-2 vouchers proven before sequence 1 is redeemed: both are paid, neither is
        // the lane's next link, so neither is recorded as its head.
        IOfflineVault.Voucher memory first = _next(merchant1, 10_00, 3);
        bytes32 firstHash = _hash(first);
        IOfflineVault.Voucher memory a = _makeVoucher(alice, merchant1, 20_00, 3, 2, firstHash);
        IOfflineVault.Voucher memory b = _makeVoucher(alice, merchant2, 30_00, 3, 2, firstHash);
        vault.proveDoubleSpend(a, _sign(aliceKey, a), b, _sign(aliceKey, b));
        assertEq(token.balanceOf(merchant1), 20_00);
        assertEq(token.balanceOf(merchant2), 30_00);
        (uint256 seq, , , ) = vault.laneOf(alice, 3);
        assertEq(seq, 0);

        // Sequence 1 still redeems; then `a` is the next link, but it was already paid as compensation.
        _redeemAlice(first);
        bytes memory sigA = _sign(aliceKey, a);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.AlreadyRedeemed.selector, _hash(a)));
        vault.redeem(a, sigA);
        assertEq(token.balanceOf(merchant1), 30_00);
    }

    function test_proveDoubleSpend_expiredVouchersFlagButAreNotCompensated() public {
        // The proof needs no valid window, but compensation goes only to vouchers a merchant could still redeem:
        // otherwise a cheater could claim its locked funds with old vouchers to itself, at any time.
        (
            IOfflineVault.Voucher memory a,
            bytes memory sigA,
            IOfflineVault.Voucher memory b,
            bytes memory sigB
        ) = _conflictingPair();
        vm.warp(block.timestamp + 30 days);
        vm.expectEmit(address(vault));
        emit IOfflineVault.DoubleSpendSlashed(alice, 3, 1, _hash(a), _hash(b), merchant1, 0, merchant2, 0);
        vault.proveDoubleSpend(a, sigA, b, sigB);
        assertTrue(vault.isCheater(alice));
        assertEq(vault.flaggedAt(alice), block.timestamp);
        assertEq(token.balanceOf(merchant1) + token.balanceOf(merchant2), 0);
        assertFalse(vault.isSettled(_hash(a)));
        assertEq(vault.lockedOf(alice), LOCK);
    }

    function test_proveDoubleSpend_cheaterCannotWithdrawUntilCleared() public {
        (
            IOfflineVault.Voucher memory a,
            bytes memory sigA,
            IOfflineVault.Voucher memory b,
            bytes memory sigB
        ) = _conflictingPair();
        vault.proveDoubleSpend(a, sigA, b, sigB);
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.PayerIsCheater.selector, alice));
        vault.requestWithdrawal(1_00);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.PayerIsCheater.selector, alice));
        vault.withdraw();
        vm.stopPrank();

        vm.expectEmit(address(vault));
        emit IOfflineVault.CheaterCleared(alice);
        vm.prank(riskAdmin);
        vault.clearCheater(alice);
        assertFalse(vault.isCheater(alice));
        vm.prank(alice);
        vault.requestWithdrawal(1_00);
        vm.warp(block.timestamp + WITHDRAWAL_DELAY);
        vm.prank(alice);
        assertEq(vault.withdraw(), 1_00);
    }

    function test_proveDoubleSpend_flagBlocksWithdrawAfterRequestCancelled() public {
        vm.prank(alice);
        vault.requestWithdrawal(LOCK);
        vm.warp(block.timestamp + WITHDRAWAL_DELAY);
        (
            IOfflineVault.Voucher memory a,
            bytes memory sigA,
            IOfflineVault.Voucher memory b,
            bytes memory sigB
        ) = _conflictingPair();
        vault.proveDoubleSpend(a, sigA, b, sigB);
        vm.prank(riskAdmin);
        vault.clearCheater(alice);
        // The request was cancelled by the flag, even though the flag is gone now.
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.NoPendingWithdrawal.selector, alice));
        vm.prank(alice);
        vault.withdraw();
    }

    function _copy(IOfflineVault.Voucher memory v) internal pure returns (IOfflineVault.Voucher memory c) {
        c = abi.decode(abi.encode(v), (IOfflineVault.Voucher));
    }

    function test_proveDoubleSpend_revertsOnBadEvidence() public {
        (
            IOfflineVault.Voucher memory a,
            bytes memory sigA,
            IOfflineVault.Voucher memory b,
            bytes memory sigB
        ) = _conflictingPair();
        bytes32 ha = _hash(a);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.NotADoubleSpend.selector, ha, ha));
        vault.proveDoubleSpend(a, sigA, a, sigA);
        IOfflineVault.Voucher memory c = _copy(b);
        c.lane = 4;
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.NotADoubleSpend.selector, ha, _hash(c)));
        vault.proveDoubleSpend(a, sigA, c, _sign(aliceKey, c));
        c = _copy(b);
        c.sequence = 2;
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.NotADoubleSpend.selector, ha, _hash(c)));
        vault.proveDoubleSpend(a, sigA, c, _sign(aliceKey, c));
        c = _copy(b);
        c.payer = bob;
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.PayerMismatch.selector, alice, bob));
        vault.proveDoubleSpend(a, sigA, c, _sign(bobKey, c));
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.InvalidSignature.selector, alice, _hash(b)));
        vault.proveDoubleSpend(a, sigA, b, _sign(bobKey, b));
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.InvalidSignature.selector, alice, ha));
        vault.proveDoubleSpend(a, sigB, b, sigB);
        assertFalse(vault.isCheater(alice));
    }

    function test_proveDoubleSpend_cappedByLockedAndPerVoucher() public {
        vm.startPrank(bob);
        token.approve(address(vault), 100_00);
        vault.deposit(100_00);
        vm.stopPrank();
        IOfflineVault.Voucher memory a = _makeVoucher(bob, merchant1, 80_00, 0, 4, keccak256("p"));
        IOfflineVault.Voucher memory b = _makeVoucher(bob, merchant2, 80_00, 0, 4, keccak256("q"));
        IOfflineVault.Limits memory lim = _defaultLimits();
        lim.maxPerVoucher = 75_00;
        vm.prank(riskAdmin);
        vault.setLimits(lim);
        vm.expectEmit(address(vault));
        emit IOfflineVault.DoubleSpendSlashed(bob, 0, 4, _hash(a), _hash(b), merchant1, 75_00, merchant2, 25_00);
        vault.proveDoubleSpend(a, _sign(bobKey, a), b, _sign(bobKey, b));
        assertEq(vault.lockedOf(bob), 0);
        // Neither was the lane's next link: the lane did not move.
        (uint256 seq, , , ) = vault.laneOf(bob, 0);
        assertEq(seq, 0);
    }

    function test_proveDoubleSpend_thirdVoucherPaysOnlyTheNewOne() public {
        (
            IOfflineVault.Voucher memory a,
            bytes memory sigA,
            IOfflineVault.Voucher memory b,
            bytes memory sigB
        ) = _conflictingPair();
        vault.proveDoubleSpend(a, sigA, b, sigB);
        IOfflineVault.Voucher memory c = _makeVoucher(alice, stranger, 5_00, 3, 1, bytes32(0));
        vm.expectEmit(address(vault));
        emit IOfflineVault.DoubleSpendSlashed(alice, 3, 1, _hash(a), _hash(c), merchant1, 0, stranger, 5_00);
        vault.proveDoubleSpend(a, sigA, c, _sign(aliceKey, c));
        assertEq(token.balanceOf(stranger), 5_00);
        assertEq(token.balanceOf(merchant1), 60_00);
    }

    function test_proveDoubleSpend_compensationCappedByEpochBudget() public {
        // 450.00 of the 500.00 epoch budget spent; the proof may pay 50.00 more this epoch.
        for (uint256 lane = 0; lane < 4; ++lane) _redeemAlice(_next(merchant1, 100_00, lane));
        _redeemAlice(_next(merchant1, 50_00, 4));
        IOfflineVault.Voucher memory a = _next(merchant2, 40_00, 9);
        IOfflineVault.Voucher memory b = _next(stranger, 40_00, 9);
        vm.expectEmit(address(vault));
        emit IOfflineVault.DoubleSpendSlashed(alice, 9, 1, _hash(a), _hash(b), merchant2, 40_00, stranger, 10_00);
        vault.proveDoubleSpend(a, _sign(aliceKey, a), b, _sign(aliceKey, b));
        assertEq(vault.payerEpochRedeemedOf(alice), MAX_PER_EPOCH);
        // The shortfall is owed, not paid: claimable next epoch.
        assertTrue(vault.isSettled(_hash(b)));
        assertFalse(vault.isPaid(_hash(b)));
        (address payer, address owedTo, uint256 owed) = vault.owedOf(_hash(b));
        assertEq(payer, alice);
        assertEq(owedTo, stranger);
        assertEq(owed, 30_00);
        assertEq(vault.owedTotalOf(alice), 30_00);
    }

    function test_proveDoubleSpend_selfDealingDrainBoundedByEpoch() public {
        // A payer proving its own double spends to itself cannot take more than the epoch budget per epoch.
        uint256 taken;
        for (uint256 lane = 0; lane < 10; ++lane) {
            IOfflineVault.Voucher memory a = _next(alice, MAX_PER_VOUCHER, lane);
            IOfflineVault.Voucher memory b = _next(bob, MAX_PER_VOUCHER, lane);
            uint256 before = vault.lockedOf(alice);
            vault.proveDoubleSpend(a, _sign(aliceKey, a), b, _sign(aliceKey, b));
            taken += before - vault.lockedOf(alice);
        }
        assertEq(taken, MAX_PER_EPOCH);
        assertEq(vault.lockedOf(alice), LOCK - MAX_PER_EPOCH);
    }

    function test_redeem_conflictingVoucherSlashesWithoutReverting() public {
        vm.prank(alice);
        vault.requestWithdrawal(LOCK);
        IOfflineVault.Voucher memory a = _next(merchant1, 50_00, 0);
        _redeemAlice(a);
        IOfflineVault.Voucher memory b = _makeVoucher(alice, merchant2, 40_00, 0, 1, bytes32(0));
        bytes memory sigB = _sign(aliceKey, b);
        vm.expectEmit(address(vault));
        emit IOfflineVault.WithdrawalCancelled(alice, LOCK);
        vm.expectEmit(address(vault));
        emit IOfflineVault.DoubleSpendSlashed(alice, 0, 1, _hash(a), _hash(b), merchant1, 0, merchant2, 40_00);
        vault.redeem(b, sigB);
        assertTrue(vault.isCheater(alice));
        assertEq(token.balanceOf(merchant1), 50_00);
        assertEq(token.balanceOf(merchant2), 40_00);
        assertEq(vault.lockedOf(alice), LOCK - 90_00);
        // The lane is unchanged: `a` stays the redemption at sequence 1.
        (bytes32 rh, address rm) = vault.redeemedAt(alice, 0, 1);
        assertEq(rh, _hash(a));
        assertEq(rm, merchant1);
        // Evidence reuse, both paths.
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.EvidenceAlreadyUsed.selector, _hash(a), _hash(b)));
        vault.redeem(b, sigB);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.EvidenceAlreadyUsed.selector, _hash(a), _hash(b)));
        vault.proveDoubleSpend(a, _sign(aliceKey, a), b, sigB);
        // The cheater cannot withdraw.
        vm.warp(block.timestamp + WITHDRAWAL_DELAY);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.PayerIsCheater.selector, alice));
        vm.prank(alice);
        vault.withdraw();
    }

    function test_redeem_conflictingVoucherStillChecksWindowAndLimit() public {
        IOfflineVault.Voucher memory a = _next(merchant1, 50_00, 0);
        _redeemAlice(a);
        IOfflineVault.Voucher memory b = _makeVoucher(alice, merchant2, MAX_PER_VOUCHER + 1, 0, 1, bytes32(0));
        vm.expectRevert(
            abi.encodeWithSelector(IOfflineVault.VoucherOverLimit.selector, MAX_PER_VOUCHER + 1, MAX_PER_VOUCHER)
        );
        _redeemAlice(b);
        // ...but the proof path takes it, paying at most `maxPerVoucher`.
        vault.proveDoubleSpend(a, _sign(aliceKey, a), b, _sign(aliceKey, b));
        assertEq(token.balanceOf(merchant2), MAX_PER_VOUCHER);
    }

    function test_redeemBatch_conflictingVoucherSlashesAndCounts() public {
        IOfflineVault.Voucher memory a = _next(merchant1, 50_00, 0);
        _redeemAlice(a);
        IOfflineVault.Voucher[] memory vs = new IOfflineVault.Voucher[](1);
        bytes[] memory sigs = new bytes[](1);
        vs[0] = _makeVoucher(alice, merchant2, 40_00, 0, 1, bytes32(0));
        sigs[0] = _sign(aliceKey, vs[0]);
        bool[] memory ok = vault.redeemBatch(vs, sigs);
        assertTrue(ok[0]);
        assertTrue(vault.isCheater(alice));
        assertEq(token.balanceOf(merchant2), 40_00);
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_redeem_amount(uint256 amount, uint256 locked) public {
        locked = bound(locked, 1, FUNDS);
        amount = bound(amount, 1, MAX_PER_VOUCHER);
        vm.startPrank(bob);
        token.approve(address(vault), locked);
        vault.deposit(locked);
        vm.stopPrank();
        IOfflineVault.Voucher memory v = _makeVoucher(bob, merchant1, amount, 0, 1, bytes32(0));
        bytes memory sig = _sign(bobKey, v);
        if (amount > locked) {
            vm.expectRevert(abi.encodeWithSelector(IOfflineVault.InsufficientLocked.selector, locked, amount));
            vault.redeem(v, sig);
            return;
        }
        vault.redeem(v, sig);
        assertEq(vault.lockedOf(bob), locked - amount);
        assertEq(token.balanceOf(merchant1), amount);
        assertEq(vault.payerEpochRedeemedOf(bob), amount);
    }

    function testFuzz_redeem_sequence(uint256 redeemed, uint256 sequence) public {
        redeemed = bound(redeemed, 0, 5);
        for (uint256 i = 0; i < redeemed; ++i) _redeemAlice(_next(merchant1, 1_00, 0));
        (uint256 last, bytes32 lastHash, , ) = vault.laneOf(alice, 0);
        IOfflineVault.Voucher memory v = _makeVoucher(alice, merchant2, 2_00, 0, sequence, lastHash);
        bytes memory sig = _sign(aliceKey, v);
        if (sequence == 0 || sequence > last + 1) {
            vm.expectRevert(abi.encodeWithSelector(IOfflineVault.SequenceGap.selector, last + 1, sequence));
            vault.redeem(v, sig);
        } else if (sequence == last + 1) {
            vault.redeem(v, sig);
            (uint256 seq, , , ) = vault.laneOf(alice, 0);
            assertEq(seq, sequence);
        } else {
            // A different voucher for a redeemed sequence: a double spend.
            vault.redeem(v, sig);
            assertTrue(vault.isCheater(alice));
            assertEq(token.balanceOf(merchant2), 2_00);
        }
    }

    function testFuzz_hashVoucher_matchesTypedData(IOfflineVault.Voucher memory v) public view {
        assertEq(vault.hashVoucher(v), _hash(v));
    }

    function testFuzz_setLimits_invariantEnforced(uint32 age, uint32 viewAge, uint32 delay) public {
        IOfflineVault.Limits memory lim = _defaultLimits();
        lim.maxVoucherAge = age;
        lim.maxViewAge = viewAge;
        lim.withdrawalDelay = delay;
        vm.prank(riskAdmin);
        if (age == 0 || viewAge == 0 || uint256(delay) < uint256(age) + viewAge) {
            vm.expectRevert(abi.encodeWithSelector(IOfflineVault.InvalidLimits.selector, lim));
            vault.setLimits(lim);
        } else {
            vault.setLimits(lim);
            assertEq(vault.limits().withdrawalDelay, delay);
        }
    }
}
