// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

import {IOfflineVault} from "../offline/interfaces/IOfflineVault.sol";
import {IBankToken} from "../token/interfaces/IBankToken.sol";
import {OfflineVaultFixture} from "./utils/OfflineVaultFixture.sol";

/// @notice An ERC-1271 wallet that rejects every signature: the delegate of a payer that revokes its vouchers.
contract RejectingWallet is IERC1271 {
    function isValidSignature(bytes32, bytes calldata) external pure returns (bytes4) {
        return 0xffffffff;
    }
}

/// @notice An ERC-1271 wallet that burns all the gas it is given.
contract GasBurningWallet is IERC1271 {
    function isValidSignature(bytes32, bytes calldata) external view returns (bytes4) {
        uint256 x;
        while (gasleft() > 0) ++x;
        return bytes4(uint32(x));
    }
}

/// @dev The proofs of concept of issue 13's OfflineVault findings (H-1, H-2, H-3, M-1, M-2, L-3, informational),
///      each failing on the vault as audited (cd0f806) and passing after the fix, plus the edges of each fix.
contract OfflineVaultAuditTest is OfflineVaultFixture {
    address internal sink = makeAddr("sink");
    address internal compliance = makeAddr("compliance");

    function setUp() public {
        _deploySuite();
        bytes32 role = token.COMPLIANCE_ROLE();
        vm.prank(admin);
        IAccessControl(address(token)).grantRole(role, compliance);
    }

    function _freeze(address account) internal {
        vm.prank(compliance);
        token.freeze(account);
    }

    function _unfreeze(address account) internal {
        vm.prank(compliance);
        token.unfreeze(account);
    }

    /// @dev Alice's chain A1 -> A2 -> A3 on `lane` to merchant1, `amount` each, signed now.
    function _chainOfThree(
        uint256 lane,
        uint256 amount
    ) internal view returns (IOfflineVault.Voucher[] memory vs, bytes[] memory sigs) {
        vs = new IOfflineVault.Voucher[](3);
        sigs = new bytes[](3);
        bytes32 previous;
        for (uint256 i = 0; i < 3; ++i) {
            vs[i] = _makeVoucher(alice, merchant1, amount, lane, i + 1, previous);
            sigs[i] = _sign(aliceKey, vs[i]);
            previous = _hash(vs[i]);
        }
    }

    /// @dev Flags alice by a proven double spend on lane 99 (two 1-unit vouchers to the sink, dated now).
    function _flagAlice() internal {
        IOfflineVault.Voucher memory a = _makeVoucher(alice, sink, 1, 99, 1, bytes32(0));
        IOfflineVault.Voucher memory b = _makeVoucher(alice, sink, 2, 99, 1, bytes32(0));
        vault.proveDoubleSpend(a, _sign(aliceKey, a), b, _sign(aliceKey, b));
    }

    // ---------------------------------------------------------------- H-1

    function test_H1_doubleSpendDoesNotOrphanTheMerchantsChain() public {
        _lock(alice, 1_000_00);
        // The merchant holds A1 -> A2 -> A3 on lane 0, taken offline.
        (IOfflineVault.Voucher[] memory vs, bytes[] memory sigs) = _chainOfThree(0, 100_00);
        vm.warp(block.timestamp + 10 minutes);
        // The payer redeems B1 (lane 0, sequence 1, 0.01) to an address it controls, first.
        IOfflineVault.Voucher memory b1 = _makeVoucher(alice, sink, 1, 0, 1, bytes32(0));
        _redeemAlice(b1);
        // The merchant's sync: A1 is a double spend, A2 (broken chain) and A3 (gap) are compensated.
        vm.expectEmit(address(vault));
        emit IOfflineVault.CheaterFlagged(alice, block.timestamp);
        vm.expectEmit(address(vault));
        emit IOfflineVault.DoubleSpendSlashed(alice, 0, 1, _hash(b1), _hash(vs[0]), sink, 0, merchant1, 100_00);
        vm.expectEmit(address(vault));
        emit IOfflineVault.VoucherCompensated(_hash(vs[1]), alice, merchant1, 0, 2, 100_00, 0);
        vm.expectEmit(address(vault));
        emit IOfflineVault.VoucherCompensated(_hash(vs[2]), alice, merchant1, 0, 3, 100_00, 0);
        bool[] memory ok = vault.redeemBatch(vs, sigs);
        assertTrue(ok[0] && ok[1] && ok[2]);
        assertEq(token.balanceOf(merchant1), 300_00);
        assertEq(token.balanceOf(sink), 1);
        assertEq(vault.lockedOf(alice), 1_000_00 - 300_00 - 1);
        for (uint256 i = 0; i < 3; ++i) assertTrue(vault.isPaid(_hash(vs[i])));
        // Each voucher is settled once.
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.AlreadyRedeemed.selector, _hash(vs[2])));
        vault.redeem(vs[2], sigs[2]);
    }

    function test_H1_orphanedChainShortfallIsOwedThenClaimed() public {
        _lock(alice, 150_00);
        (IOfflineVault.Voucher[] memory vs, bytes[] memory sigs) = _chainOfThree(0, 100_00);
        vm.warp(block.timestamp + 10 minutes);
        _redeemAlice(_makeVoucher(alice, sink, 1, 0, 1, bytes32(0)));
        vault.redeemBatch(vs, sigs);
        // 149.99 was locked: A1 paid in full, A2 in part, A3 owed in full.
        assertEq(token.balanceOf(merchant1), 150_00 - 1);
        assertEq(vault.lockedOf(alice), 0);
        assertEq(vault.owedTotalOf(alice), 300_00 - 150_00 + 1);
        (, , uint256 owed2) = vault.owedOf(_hash(vs[1]));
        (, , uint256 owed3) = vault.owedOf(_hash(vs[2]));
        assertEq(owed2, 50_00 + 1);
        assertEq(owed3, 100_00);
        assertFalse(vault.isPaid(_hash(vs[2])));
        assertTrue(vault.isSettled(_hash(vs[2])));
        // Nothing locked: the claim waits.
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.VaultOwedUnpayable.selector, _hash(vs[2]), 0, 350_00));
        vault.claimOwed(_hash(vs[2]));
        // Funds arrive (a deposit by anyone for the payer); anyone may claim.
        vm.startPrank(bob);
        token.approve(address(vault), 500_00);
        vault.depositFor(alice, 500_00);
        vm.stopPrank();
        vm.expectEmit(address(vault));
        emit IOfflineVault.OwedClaimed(_hash(vs[2]), alice, merchant1, 100_00, 0);
        vm.prank(stranger);
        assertEq(vault.claimOwed(_hash(vs[2])), 100_00);
        vault.claimOwed(_hash(vs[1]));
        assertEq(token.balanceOf(merchant1), 300_00);
        assertEq(vault.owedTotalOf(alice), 0);
        assertTrue(vault.isPaid(_hash(vs[2])));
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.VaultNothingOwed.selector, _hash(vs[2])));
        vault.claimOwed(_hash(vs[2]));
    }

    function test_H1_unflaggedPayerStillNeedsTheChain() public {
        _lock(alice, 1_000_00);
        (IOfflineVault.Voucher[] memory vs, bytes[] memory sigs) = _chainOfThree(0, 100_00);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.SequenceGap.selector, 1, 3));
        vault.redeem(vs[2], sigs[2]);
    }

    /// @dev Whatever sequence `j` of its lane the payer double spends first, and however short its funds or budget,
    ///      every voucher of the merchant's chain is settled on its sync (in sequence order, as `VoucherSync` sends
    ///      them) and paid or owed in full.
    function testFuzz_H1_everyVoucherOfTheChainIsPaidOrOwed(uint256 k, uint256 j, uint256 locked, uint256 seed) public {
        k = bound(k, 1, 6);
        j = bound(j, 1, k);
        locked = bound(locked, 1, 1_000_00);
        _lock(alice, locked);
        IOfflineVault.Voucher[] memory vs = new IOfflineVault.Voucher[](k);
        bytes[] memory sigs = new bytes[](k);
        bytes32 previous;
        uint256 total;
        for (uint256 i = 0; i < k; ++i) {
            uint256 amount = bound(uint256(keccak256(abi.encode(seed, i))), 1, MAX_PER_VOUCHER);
            vs[i] = _makeVoucher(alice, merchant1, amount, 0, i + 1, previous);
            sigs[i] = _sign(aliceKey, vs[i]);
            previous = _hash(vs[i]);
            total += amount;
        }
        vm.warp(block.timestamp + 10 minutes);
        // The payer redeems the merchant's first j - 1 vouchers itself (if its funds allow), then its own voucher
        // for sequence j to the sink.
        uint256 paidBefore;
        for (uint256 i = 0; i + 1 < j; ++i) {
            try vault.redeem(vs[i], sigs[i]) {
                paidBefore += vs[i].amount;
            } catch {
                break;
            }
        }
        (uint256 last, bytes32 lastHash, , ) = vault.laneOf(alice, 0);
        IOfflineVault.Voucher memory b = _makeVoucher(alice, sink, 1, 0, last + 1, lastHash);
        try vault.redeem(b, _sign(aliceKey, b)) {} catch {}
        // The merchant's sync, in sequence order.
        vault.redeemBatch(vs, sigs);
        for (uint256 i = 0; i < k; ++i) assertTrue(vault.isSettled(_hash(vs[i])), "every voucher settled");
        assertEq(token.balanceOf(merchant1) + vault.owedTotalOf(alice), total, "paid or owed in full");
    }

    // ---------------------------------------------------------------- H-2

    /// @dev `count` 100.00 vouchers to the sink on lanes `firstLane...`, dated now; returns how many were refused
    ///      with `PayerIsCheater`.
    function _drainToSink(uint256 firstLane, uint256 count) internal returns (uint256 refused) {
        for (uint256 lane = firstLane; lane < firstLane + count; ++lane) {
            IOfflineVault.Voucher memory v = _next(sink, 100_00, lane);
            bytes memory sig = _sign(aliceKey, v);
            try vault.redeem(v, sig) {} catch (bytes memory reason) {
                assertEq(reason, abi.encodeWithSelector(IOfflineVault.PayerIsCheater.selector, alice));
                ++refused;
            }
        }
    }

    function test_H2_flaggedPayerCannotMoveItsLockedFundsToItsSink() public {
        _lock(alice, 1_500_00);
        // Epoch 1: the merchant takes A (lane 9, sequence 1); the payer redeems B (same lane and sequence) and four
        // more vouchers to its sink, using up the epoch budget (500.00).
        IOfflineVault.Voucher memory a = _makeVoucher(alice, merchant1, 100_00, 9, 1, bytes32(0));
        bytes memory sigA = _sign(aliceKey, a);
        vm.warp(block.timestamp + 10 minutes);
        _redeemAlice(_makeVoucher(alice, sink, 100_00, 9, 1, bytes32(0)));
        assertEq(_drainToSink(0, 4), 0);
        assertEq(token.balanceOf(sink), 500_00);
        // The merchant syncs: the payer is flagged; its epoch budget is spent, so A is owed, not paid.
        vm.expectEmit(address(vault));
        emit IOfflineVault.CompensationOwed(_hash(a), alice, merchant1, 100_00);
        vault.redeem(a, sigA);
        assertTrue(vault.isCheater(alice));
        assertFalse(vault.isPaid(_hash(a)));
        assertEq(vault.owedTotalOf(alice), 100_00);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.VaultOwedUnpayable.selector, _hash(a), 1_000_00, 0));
        vault.claimOwed(_hash(a));
        // Epochs 2 and 3: the flagged payer's new vouchers to its sink are refused; the merchant's claim is paid.
        vm.warp(vault.currentEpochEndsAt() + 1);
        assertEq(_drainToSink(20, 5), 5);
        assertEq(vault.claimOwed(_hash(a)), 100_00);
        vm.warp(vault.currentEpochEndsAt() + 1);
        assertEq(_drainToSink(40, 5), 5);
        assertEq(token.balanceOf(sink), 500_00, "the sink got nothing after the flag");
        assertEq(token.balanceOf(merchant1), 100_00);
        assertEq(vault.lockedOf(alice), 900_00);
        // It cannot withdraw either.
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.PayerIsCheater.selector, alice));
        vm.prank(alice);
        vault.requestWithdrawal(1_00);
    }

    function test_H2_vouchersDatedBeforeTheFlagStayRedeemableByTheirMerchants() public {
        _lock(alice, 1_000_00);
        IOfflineVault.Voucher memory held = _makeVoucher(alice, merchant2, 80_00, 5, 1, bytes32(0));
        bytes memory sig = _sign(aliceKey, held);
        vm.warp(block.timestamp + 1 hours - 1);
        _flagAlice();
        uint256 flagTime = vault.flaggedAt(alice);
        assertEq(flagTime, block.timestamp);
        // Dated before the flag: compensated (and, being its lane's next link, recorded as the lane's head).
        vm.expectEmit(address(vault));
        emit IOfflineVault.VoucherCompensated(_hash(held), alice, merchant2, 5, 1, 80_00, 0);
        vault.redeem(held, sig);
        assertEq(token.balanceOf(merchant2), 80_00);
        (uint256 seq, bytes32 lastHash, , ) = vault.laneOf(alice, 5);
        assertEq(seq, 1);
        assertEq(lastHash, _hash(held));
        // Dated after the flag: refused.
        vm.warp(block.timestamp + 1);
        IOfflineVault.Voucher memory later = _next(merchant2, 1_00, 5);
        bytes memory laterSig = _sign(aliceKey, later);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.PayerIsCheater.selector, alice));
        vault.redeem(later, laterSig);
    }

    function test_H2_clearCheaterDoesNotReleaseFundsOwedToVictims() public {
        _lock(alice, 1_000_00);
        // Budget spent by the payer, then a victim's voucher is owed.
        for (uint256 lane = 0; lane < 5; ++lane) _redeemAlice(_next(sink, 100_00, lane));
        IOfflineVault.Voucher memory a = _makeVoucher(alice, merchant1, 60_00, 0, 1, bytes32(0));
        vault.redeem(a, _sign(aliceKey, a));
        assertEq(vault.owedTotalOf(alice), 60_00);
        vm.prank(riskAdmin);
        vault.clearCheater(alice);
        assertFalse(vault.isCheater(alice));
        assertEq(vault.flaggedAt(alice), block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.VaultOwedOutstanding.selector, alice, 60_00));
        vm.prank(alice);
        vault.requestWithdrawal(1_00);
        // Once the victim is paid, the cleared payer may withdraw again.
        vm.warp(vault.currentEpochEndsAt());
        vault.claimOwed(_hash(a));
        vm.prank(alice);
        vault.requestWithdrawal(1_00);
        vm.warp(block.timestamp + WITHDRAWAL_DELAY);
        vm.prank(alice);
        assertEq(vault.withdraw(), 1_00);
    }

    function test_H2_selfDealingAfterTheFlagIsBoundedByVoucherAge() public {
        _lock(alice, 1_000_00);
        _flagAlice();
        uint256 flagTime = block.timestamp;
        uint256 sinkBefore = token.balanceOf(sink);
        // A voucher pre-dated to the flag's second, to the payer's own address: compensable only while it is valid.
        IOfflineVault.Voucher memory v = _makeVoucher(alice, sink, 100_00, 7, 3, keccak256("any"));
        v.validAfter = flagTime;
        v.validBefore = flagTime + MAX_VOUCHER_AGE;
        bytes memory sig = _sign(aliceKey, v);
        vm.warp(flagTime + MAX_VOUCHER_AGE);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.VoucherExpired.selector, v.validBefore, block.timestamp));
        vault.redeem(v, sig);
        // And through a proof: flagged already, the expired pair pays nothing.
        IOfflineVault.Voucher memory w = _copyWith(v, 99_00);
        vault.proveDoubleSpend(v, sig, w, _sign(aliceKey, w));
        assertEq(token.balanceOf(sink), sinkBefore);
        assertEq(vault.owedTotalOf(alice), 0);
    }

    function _copyWith(
        IOfflineVault.Voucher memory v,
        uint256 amount
    ) internal pure returns (IOfflineVault.Voucher memory c) {
        c = abi.decode(abi.encode(v), (IOfflineVault.Voucher));
        c.amount = amount;
    }

    // ---------------------------------------------------------------- H-3

    function test_H3_delegationToARejectingWalletDoesNotRevokeAcceptedVouchers() public {
        _lock(alice, 1_000_00);
        IOfflineVault.Voucher memory v = _makeVoucher(alice, merchant1, 50_00, 0, 1, bytes32(0));
        bytes memory sig = _sign(aliceKey, v);
        // EIP-7702: alice's account now runs a wallet that rejects every ERC-1271 signature.
        vm.etch(alice, abi.encodePacked(hex"ef0100", address(new RejectingWallet())));
        vault.redeem(v, sig);
        assertEq(token.balanceOf(merchant1), 50_00);
    }

    function test_H3_delegatedPayerCannotBlockProofsOrWithdrawAfterTheFlag() public {
        // Hardhat 3's Solidity tests do not support `signAndAttachDelegation` ("not supported by Hardhat"): the
        // delegation designator `0xef0100 || delegate` that a type-4 transaction leaves is etched instead.
        _lock(alice, 1_000_00);
        IOfflineVault.Voucher memory a = _makeVoucher(alice, merchant1, 50_00, 0, 1, bytes32(0));
        IOfflineVault.Voucher memory b = _makeVoucher(alice, merchant2, 40_00, 0, 1, bytes32(0));
        bytes memory sigA = _sign(aliceKey, a);
        bytes memory sigB = _sign(aliceKey, b);
        vm.prank(alice);
        vault.requestWithdrawal(1_000_00);
        RejectingWallet rejecting = new RejectingWallet();
        vm.etch(alice, abi.encodePacked(hex"ef0100", address(rejecting)));
        assertEq(alice.code.length, 23);
        // The merchants' ECDSA vouchers stay valid: the double-spend proof pays both and flags the payer.
        vault.proveDoubleSpend(a, sigA, b, sigB);
        assertTrue(vault.isCheater(alice));
        assertEq(token.balanceOf(merchant1), 50_00);
        assertEq(token.balanceOf(merchant2), 40_00);
        // The flag cancelled the withdrawal.
        vm.warp(block.timestamp + WITHDRAWAL_DELAY);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.PayerIsCheater.selector, alice));
        vm.prank(alice);
        vault.withdraw();
    }

    // ---------------------------------------------------------------- M-1

    function test_M1_gasBurningPayerCannotStopHonestVouchersInABatch() public {
        _lock(alice, 1_000_00);
        GasBurningWallet burner = new GasBurningWallet();
        vm.startPrank(bob);
        token.approve(address(vault), 100_00);
        vault.depositFor(address(burner), 100_00);
        vm.stopPrank();
        IOfflineVault.Voucher[] memory vs = new IOfflineVault.Voucher[](2);
        bytes[] memory sigs = new bytes[](2);
        vs[0] = _makeVoucher(address(burner), merchant2, 10_00, 0, 1, bytes32(0));
        sigs[0] = _sign(bobKey, vs[0]);
        vs[1] = _makeVoucher(alice, merchant1, 10_00, 0, 1, bytes32(0));
        sigs[1] = _sign(aliceKey, vs[1]);
        vm.expectEmit(address(vault));
        emit IOfflineVault.VoucherRejected(
            _hash(vs[0]),
            abi.encodeWithSelector(IOfflineVault.InvalidSignature.selector, address(burner), _hash(vs[0]))
        );
        // solhint-disable-next-line avoid-low-level-calls
        (bool success, ) = address(vault).call{gas: 2_000_000}(abi.encodeCall(IOfflineVault.redeemBatch, (vs, sigs)));
        assertTrue(success, "the batch finished");
        assertEq(token.balanceOf(merchant1), 10_00, "the honest voucher was paid");
    }

    function test_M1_batchWithTooLittleGasForTheNextItemRevertsWithItsIndex() public {
        _lock(alice, 1_000_00);
        uint256 n = 6;
        IOfflineVault.Voucher[] memory vs = new IOfflineVault.Voucher[](n);
        bytes[] memory sigs = new bytes[](n);
        for (uint256 i = 0; i < n; ++i) {
            vs[i] = _makeVoucher(alice, merchant1, 1_00, i, 1, bytes32(0));
            sigs[i] = _sign(aliceKey, vs[i]);
        }
        // Enough for about two items: the batch reverts with the item it could not give its share (so a node's gas
        // estimate never settles on a limit that skips items).
        // solhint-disable-next-line avoid-low-level-calls
        (bool success, bytes memory ret) = address(vault).call{gas: 800_000}(
            abi.encodeCall(IOfflineVault.redeemBatch, (vs, sigs))
        );
        assertFalse(success);
        assertEq(bytes4(ret), IOfflineVault.VaultBatchGasExhausted.selector);
        (uint256 index, ) = abi.decode(_tail(ret), (uint256, uint256));
        assertGt(index, 0);
        assertLt(index, n);
        assertEq(token.balanceOf(merchant1), 0);
        // With its share per item, the same batch goes through.
        bool[] memory ok = vault.redeemBatch{gas: n * 350_000 + 100_000}(vs, sigs);
        for (uint256 i = 0; i < n; ++i) assertTrue(ok[i]);
        assertEq(token.balanceOf(merchant1), n * 1_00);
    }

    /// @dev `data` without its 4-byte selector.
    function _tail(bytes memory data) internal pure returns (bytes memory tail) {
        tail = new bytes(data.length - 4);
        for (uint256 i = 0; i < tail.length; ++i) tail[i] = data[i + 4];
    }

    function test_M1_costliestItemFitsTheItemGas() public {
        // The costliest item: a conflict that flags the payer (evidence, flag, a cancelled withdrawal), pays part
        // to a fresh merchant and records the rest owed. It must fit `REDEEM_ITEM_GAS` with room to spare.
        _lock(alice, 100_00);
        vm.prank(alice);
        vault.requestWithdrawal(1_00);
        _redeemAlice(_makeVoucher(alice, sink, 50_00, 0, 1, bytes32(0)));
        IOfflineVault.Voucher memory v = _makeVoucher(alice, makeAddr("fresh"), 100_00, 0, 1, keccak256("x"));
        bytes memory sig = _sign(aliceKey, v);
        uint256 before = gasleft();
        vault.redeem(v, sig);
        uint256 used = before - gasleft();
        assertGt(vault.owedTotalOf(alice), 0);
        assertLt(used, (vault.REDEEM_ITEM_GAS() * 3) / 4, "a quarter of the item gas to spare");
    }

    // ---------------------------------------------------------------- M-2

    function test_M2_frozenAccountCannotReceiveIntoTheVault() public {
        _freeze(alice);
        vm.startPrank(bob);
        token.approve(address(vault), 100_00);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.VaultAccountFrozen.selector, alice));
        vault.depositFor(alice, 100_00);
        vm.stopPrank();
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.VaultAccountFrozen.selector, alice));
        vault.deposit(1_00);
        vm.stopPrank();
    }

    function test_M2_frozenPayerCannotSpendFromTheVault() public {
        _lock(alice, 1_000_00);
        _freeze(alice);
        IOfflineVault.Voucher memory v = _makeVoucher(alice, merchant1, 50_00, 0, 1, bytes32(0));
        bytes memory sig = _sign(aliceKey, v);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.VaultAccountFrozen.selector, alice));
        vault.redeem(v, sig);
        // Unfrozen, the voucher is good again.
        _unfreeze(alice);
        vault.redeem(v, sig);
        assertEq(token.balanceOf(merchant1), 50_00);
    }

    function test_M2_frozenPayerCannotWithdraw() public {
        _lock(alice, 1_000_00);
        vm.prank(alice);
        vault.requestWithdrawal(100_00);
        _freeze(alice);
        vm.warp(block.timestamp + WITHDRAWAL_DELAY);
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.VaultAccountFrozen.selector, alice));
        vault.withdraw();
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.VaultAccountFrozen.selector, alice));
        vault.requestWithdrawal(1_00);
        vm.stopPrank();
    }

    function test_M2_redemptionToAFrozenMerchantRevertsWithTheTokensError() public {
        _lock(alice, 1_000_00);
        _freeze(merchant1);
        IOfflineVault.Voucher memory v = _makeVoucher(alice, merchant1, 50_00, 0, 1, bytes32(0));
        bytes memory sig = _sign(aliceKey, v);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, merchant1));
        vault.redeem(v, sig);
        assertEq(vault.lockedOf(alice), 1_000_00);
    }

    function test_M2_compensationOfAFrozenMerchantIsHeldAsOwedUntilUnfrozen() public {
        _lock(alice, 1_000_00);
        IOfflineVault.Voucher memory a = _makeVoucher(alice, merchant1, 60_00, 0, 1, bytes32(0));
        IOfflineVault.Voucher memory b = _makeVoucher(alice, merchant2, 70_00, 0, 1, bytes32(0));
        _freeze(merchant2);
        // The proof still flags the payer and pays merchant1; merchant2's share is owed, nothing moves to it.
        vm.expectEmit(address(vault));
        emit IOfflineVault.CompensationOwed(_hash(b), alice, merchant2, 70_00);
        vault.proveDoubleSpend(a, _sign(aliceKey, a), b, _sign(aliceKey, b));
        assertEq(token.balanceOf(merchant1), 60_00);
        assertEq(vault.owedTotalOf(alice), 70_00);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.VaultAccountFrozen.selector, merchant2));
        vault.claimOwed(_hash(b));
        _unfreeze(merchant2);
        vault.claimOwed(_hash(b));
        assertEq(token.balanceOf(merchant2), 70_00);
    }

    function test_M2_frozenCheatersCompensationIsOwedUntilUnfrozen() public {
        _lock(alice, 1_000_00);
        IOfflineVault.Voucher memory a = _makeVoucher(alice, merchant1, 60_00, 0, 1, bytes32(0));
        IOfflineVault.Voucher memory b = _makeVoucher(alice, merchant2, 70_00, 0, 1, bytes32(0));
        _freeze(alice);
        vault.proveDoubleSpend(a, _sign(aliceKey, a), b, _sign(aliceKey, b));
        assertTrue(vault.isCheater(alice));
        assertEq(vault.lockedOf(alice), 1_000_00);
        assertEq(vault.owedTotalOf(alice), 130_00);
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.VaultAccountFrozen.selector, alice));
        vault.claimOwed(_hash(a));
        _unfreeze(alice);
        vault.claimOwed(_hash(a));
        vault.claimOwed(_hash(b));
        assertEq(token.balanceOf(merchant1) + token.balanceOf(merchant2), 130_00);
    }

    // ---------------------------------------------------------------- L-3

    function test_L3_withdrawalDelayMustCoverVoucherAgeAndViewAge() public {
        IOfflineVault.Limits memory lim = _defaultLimits();
        lim.withdrawalDelay = lim.maxVoucherAge;
        vm.expectRevert(abi.encodeWithSelector(IOfflineVault.InvalidLimits.selector, lim));
        vm.prank(riskAdmin);
        vault.setLimits(lim);
        lim.withdrawalDelay = lim.maxVoucherAge + lim.maxViewAge;
        vm.prank(riskAdmin);
        vault.setLimits(lim);
        assertEq(vault.limits().withdrawalDelay, MAX_VOUCHER_AGE + MAX_VIEW_AGE);
    }

    // ---------------------------------------------------------------- informational

    function test_I_secondWithdrawalRequestReportsTheReplacedOne() public {
        _lock(alice, 1_000_00);
        vm.startPrank(alice);
        vault.requestWithdrawal(1_00);
        vm.expectEmit(address(vault));
        emit IOfflineVault.WithdrawalCancelled(alice, 1_00);
        vm.expectEmit(address(vault));
        emit IOfflineVault.WithdrawalRequested(alice, 2_00, block.timestamp + WITHDRAWAL_DELAY);
        vault.requestWithdrawal(2_00);
        vm.stopPrank();
    }

    function test_I_errorsArePrefixed() public {
        vm.expectRevert(IOfflineVault.VaultZeroAmount.selector);
        vault.deposit(0);
        vm.expectRevert(IOfflineVault.VaultZeroAddress.selector);
        vault.depositFor(address(0), 1);
        IOfflineVault.Voucher memory v = _makeVoucher(alice, merchant1, 1, 0, 1, bytes32(0));
        bytes memory sig = _sign(aliceKey, v);
        vm.expectRevert(IOfflineVault.VaultOnlySelf.selector);
        vault.redeemOne(v, sig);
    }
}
