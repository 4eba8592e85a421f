// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {OfflineVault} from "../offline/OfflineVault.sol";
import {IOfflineVault} from "../offline/interfaces/IOfflineVault.sol";
import {OfflineVaultFixture, OfflineVaultSigning} from "./utils/OfflineVaultFixture.sol";

/// @dev Drives `OfflineVault` through deposits, withdrawals, redemptions (single and batched, some bad),
///      double spends (proven and implicit), out-of-lane compensations of flagged payers, owed claims, cheater
///      clearing and time, keeping ghost sums of every token flow and the list of vouchers ever owed.
contract OfflineVaultHandler is OfflineVaultSigning {
    uint256 internal constant LANES = 3;

    OfflineVault public immutable vault;
    IERC20 public immutable token;
    address public immutable riskAdmin;

    address[] public payers;
    uint256[] internal _keys;
    address[] public merchants;

    uint256 public ghostDeposits;
    uint256 public ghostWithdrawals;
    uint256 public ghostRedeemed;
    uint256 public ghostSlashed;
    uint256 public ghostCompensated;
    uint256 public ghostClaimed;
    bytes32[] public owedHashes;
    mapping(bytes32 => bool) internal _known;
    mapping(bytes4 => uint256) public calls;

    constructor(
        OfflineVault vault_,
        IERC20 token_,
        address riskAdmin_,
        address[] memory payers_,
        uint256[] memory keys_,
        address[] memory merchants_
    ) {
        vault = vault_;
        token = token_;
        riskAdmin = riskAdmin_;
        payers = payers_;
        _keys = keys_;
        merchants = merchants_;
    }

    function payerCount() external view returns (uint256) {
        return payers.length;
    }

    function owedCount() external view returns (uint256) {
        return owedHashes.length;
    }

    function deposit(uint256 payerSeed, uint256 amount) external {
        (address payer, ) = _payer(payerSeed);
        amount = bound(amount, 1, 2_000_00);
        if (token.balanceOf(payer) < amount) return;
        vm.startPrank(payer);
        token.approve(address(vault), amount);
        vault.deposit(amount);
        vm.stopPrank();
        ghostDeposits += amount;
        ++calls[this.deposit.selector];
    }

    function requestWithdrawal(uint256 payerSeed, uint256 amount) external {
        (address payer, ) = _payer(payerSeed);
        uint256 locked = vault.lockedOf(payer);
        if (locked == 0) return;
        amount = bound(amount, 1, locked);
        vm.prank(payer);
        vault.requestWithdrawal(amount);
        ++calls[this.requestWithdrawal.selector];
    }

    function cancelWithdrawal(uint256 payerSeed) external {
        (address payer, ) = _payer(payerSeed);
        vm.prank(payer);
        vault.cancelWithdrawal();
        ++calls[this.cancelWithdrawal.selector];
    }

    function withdraw(uint256 payerSeed, bool waitForIt) external {
        (address payer, ) = _payer(payerSeed);
        (, uint256 availableAt) = vault.pendingWithdrawalOf(payer);
        if (waitForIt && availableAt > block.timestamp) vm.warp(availableAt);
        uint256 balance = token.balanceOf(payer);
        vm.prank(payer);
        uint256 paid = vault.withdraw();
        assertEq(token.balanceOf(payer) - balance, paid);
        ghostWithdrawals += paid;
        ++calls[this.withdraw.selector];
    }

    function redeem(uint256 payerSeed, uint256 lane, uint256 merchantSeed, uint256 amount) external {
        (address payer, uint256 key) = _payer(payerSeed);
        IOfflineVault.Voucher memory v = _nextVoucher(payer, lane, merchantSeed, amount);
        uint256 before = token.balanceOf(address(vault));
        vault.redeem(v, _signVoucher(address(vault), key, v));
        _noteOwed(_digest(address(vault), v));
        ghostRedeemed += before - token.balanceOf(address(vault));
        ++calls[this.redeem.selector];
    }

    /// @dev Three chained vouchers of one lane, the middle one with a broken signature when `breakMiddle`:
    ///      the third then breaks the chain too, the first is paid.
    function redeemBatch(
        uint256 payerSeed,
        uint256 lane,
        uint256 merchantSeed,
        uint256 amount,
        bool breakMiddle
    ) external {
        (address payer, uint256 key) = _payer(payerSeed);
        IOfflineVault.Voucher[] memory vs = new IOfflineVault.Voucher[](3);
        bytes[] memory sigs = new bytes[](3);
        vs[0] = _nextVoucher(payer, lane, merchantSeed, amount);
        for (uint256 i = 1; i < 3; ++i) {
            vs[i] = _makeVoucher(
                payer,
                merchants[(merchantSeed + i) % merchants.length],
                vs[0].amount,
                vs[0].lane,
                vs[0].sequence + i,
                _digest(address(vault), vs[i - 1])
            );
        }
        for (uint256 i = 0; i < 3; ++i) sigs[i] = _signVoucher(address(vault), key, vs[i]);
        if (breakMiddle) sigs[1] = hex"deadbeef";
        uint256 before = token.balanceOf(address(vault));
        vault.redeemBatch(vs, sigs);
        for (uint256 i = 0; i < 3; ++i) _noteOwed(_digest(address(vault), vs[i]));
        ghostRedeemed += before - token.balanceOf(address(vault));
        ++calls[this.redeemBatch.selector];
    }

    /// @dev A double spend: two fresh vouchers for the lane's next sequence proven (`prove`), or a voucher
    ///      conflicting with the lane's last redemption submitted to `redeem`.
    function doubleSpend(uint256 payerSeed, uint256 lane, uint256 merchantSeed, uint256 amount, bool prove) external {
        (address payer, uint256 key) = _payer(payerSeed);
        IOfflineVault.Voucher memory a = _nextVoucher(payer, lane, merchantSeed, amount);
        uint256 before = token.balanceOf(address(vault));
        if (prove) {
            IOfflineVault.Voucher memory b = _nextVoucher(payer, lane, merchantSeed + 1, amount / 2 + 1);
            vault.proveDoubleSpend(a, _signVoucher(address(vault), key, a), b, _signVoucher(address(vault), key, b));
            _noteOwed(_digest(address(vault), b));
        } else {
            if (a.sequence == 1) return;
            a.sequence -= 1;
            a.previousVoucherHash = keccak256(abi.encode(a.previousVoucherHash));
            vault.redeem(a, _signVoucher(address(vault), key, a));
        }
        _noteOwed(_digest(address(vault), a));
        ghostSlashed += before - token.balanceOf(address(vault));
        ++calls[this.doubleSpend.selector];
    }

    /// @dev A voucher of a flagged payer dated at its flag, out of its lane's order (a gap of `skip` sequences, or a
    ///      broken chain when `skip == 0`): compensated, with any shortfall owed.
    function compensateOutOfLane(
        uint256 payerSeed,
        uint256 lane,
        uint256 merchantSeed,
        uint256 amount,
        uint256 skip
    ) external {
        (address payer, uint256 key) = _payer(payerSeed);
        uint256 flagTime = vault.flaggedAt(payer);
        if (flagTime == 0 || flagTime + VOUCHER_LIFE <= block.timestamp) return;
        IOfflineVault.Voucher memory v = _nextVoucher(payer, lane, merchantSeed, amount);
        skip = bound(skip, 0, 3);
        if (skip == 0) v.previousVoucherHash = keccak256(abi.encode(v.previousVoucherHash, "broken"));
        v.sequence += skip;
        v.validAfter = flagTime;
        v.validBefore = flagTime + VOUCHER_LIFE;
        uint256 before = token.balanceOf(address(vault));
        vault.redeem(v, _signVoucher(address(vault), key, v));
        _noteOwed(_digest(address(vault), v));
        ghostCompensated += before - token.balanceOf(address(vault));
        ++calls[this.compensateOutOfLane.selector];
    }

    function claimOwed(uint256 seed) external {
        if (owedHashes.length == 0) return;
        bytes32 hash = owedHashes[seed % owedHashes.length];
        (address payer, address merchant, uint256 owed) = vault.owedOf(hash);
        uint256 total = vault.owedTotalOf(payer);
        uint256 balance = token.balanceOf(merchant);
        uint256 paid = vault.claimOwed(hash);
        (, , uint256 left) = vault.owedOf(hash);
        assertEq(left, owed - paid);
        assertEq(vault.owedTotalOf(payer), total - paid);
        assertEq(token.balanceOf(merchant) - balance, paid);
        ghostClaimed += paid;
        ++calls[this.claimOwed.selector];
    }

    function clearCheater(uint256 payerSeed) external {
        (address payer, ) = _payer(payerSeed);
        vm.prank(riskAdmin);
        vault.clearCheater(payer);
        ++calls[this.clearCheater.selector];
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 2 days));
        ++calls[this.warp.selector];
    }

    /// @dev Remembers `hash` if the vault owes anything for it.
    function _noteOwed(bytes32 hash) internal {
        (, , uint256 owed) = vault.owedOf(hash);
        if (owed == 0 || _known[hash]) return;
        _known[hash] = true;
        owedHashes.push(hash);
    }

    function _payer(uint256 seed) internal view returns (address, uint256) {
        uint256 i = seed % payers.length;
        return (payers[i], _keys[i]);
    }

    function _nextVoucher(
        address payer,
        uint256 lane,
        uint256 merchantSeed,
        uint256 amount
    ) internal view returns (IOfflineVault.Voucher memory) {
        lane = lane % LANES;
        (uint256 last, bytes32 lastHash, , ) = vault.laneOf(payer, lane);
        return
            _makeVoucher(
                payer,
                merchants[merchantSeed % merchants.length],
                bound(amount, 1, vault.limits().maxPerVoucher),
                lane,
                last + 1,
                lastHash
            );
    }
}

/// @dev Invariants of `OfflineVault` against the real `BankToken`: the vault holds exactly the ghost sum of
///      token flows, which equals the sum of every payer's locked funds (what is owed is a claim on them, not a
///      separate holding); no epoch total passes its limit; each payer's owed total is the sum owed per voucher,
///      and a voucher owed anything is settled, owed at most `maxPerVoucher` and not reported paid.
contract OfflineVaultInvariantTest is OfflineVaultFixture {
    OfflineVaultHandler internal handler;
    address internal carol;
    uint256 internal carolKey;

    function setUp() public {
        _deploySuite();
        (carol, carolKey) = makeAddrAndKey("carol");
        _mint(carol, FUNDS);
        address[] memory payers = new address[](3);
        uint256[] memory keys = new uint256[](3);
        (payers[0], payers[1], payers[2]) = (alice, bob, carol);
        (keys[0], keys[1], keys[2]) = (aliceKey, bobKey, carolKey);
        address[] memory merchants = new address[](2);
        (merchants[0], merchants[1]) = (merchant1, merchant2);
        handler = new OfflineVaultHandler(vault, IERC20(address(token)), riskAdmin, payers, keys, merchants);
        targetContract(address(handler));
    }

    function invariant_balanceMatchesGhostFlowsAndLockedSum() public view {
        uint256 balance = token.balanceOf(address(vault));
        assertEq(
            balance,
            handler.ghostDeposits() -
                handler.ghostWithdrawals() -
                handler.ghostRedeemed() -
                handler.ghostSlashed() -
                handler.ghostCompensated() -
                handler.ghostClaimed()
        );
        uint256 sumLocked;
        for (uint256 i = 0; i < handler.payerCount(); ++i) sumLocked += vault.lockedOf(handler.payers(i));
        assertEq(balance, sumLocked);
    }

    function invariant_epochTotalsWithinLimits() public view {
        uint256 epoch = vault.currentEpoch();
        for (uint256 i = 0; i < handler.payerCount(); ++i) {
            address payer = handler.payers(i);
            assertLe(vault.payerEpochRedeemedOf(payer), MAX_PER_EPOCH);
            for (uint256 lane = 0; lane < 3; ++lane) {
                (, , uint256 laneEpoch, uint256 redeemed) = vault.laneOf(payer, lane);
                if (laneEpoch == epoch) assertLe(redeemed, MAX_PER_LANE);
            }
        }
    }

    function invariant_cheatersHaveNoPendingWithdrawal() public view {
        for (uint256 i = 0; i < handler.payerCount(); ++i) {
            address payer = handler.payers(i);
            if (!vault.isCheater(payer)) continue;
            (uint256 amount, ) = vault.pendingWithdrawalOf(payer);
            assertEq(amount, 0);
        }
    }

    function invariant_owedTotalsAreTheSumOwedPerVoucher() public view {
        for (uint256 i = 0; i < handler.payerCount(); ++i) {
            address payer = handler.payers(i);
            uint256 sum;
            for (uint256 j = 0; j < handler.owedCount(); ++j) {
                (address owing, , uint256 owed) = vault.owedOf(handler.owedHashes(j));
                if (owing == payer) sum += owed;
            }
            assertEq(vault.owedTotalOf(payer), sum);
        }
    }

    function invariant_settledVouchersAreNeverOwedMoreThanTheVoucherLimit() public view {
        for (uint256 j = 0; j < handler.owedCount(); ++j) {
            bytes32 hash = handler.owedHashes(j);
            assertTrue(vault.isSettled(hash));
            (, , uint256 owed) = vault.owedOf(hash);
            assertLe(owed, MAX_PER_VOUCHER);
            assertEq(vault.isPaid(hash), owed == 0);
        }
    }
}
