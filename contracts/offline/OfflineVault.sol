// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IBankToken} from "../token/interfaces/IBankToken.sol";
import {IOfflineVault} from "./interfaces/IOfflineVault.sol";

/// @title OfflineVault
/// @notice Locks `BankToken` for offline payments by signed, chained vouchers, and slashes double spenders.
/// @dev Roles:
///      - `DEFAULT_ADMIN_ROLE` (one holder, handed over in two steps after a delay): grants and revokes roles.
///      - `RISK_ADMIN_ROLE` (the issuing bank): sets the limits, clears cheater flags.
///
///      What a merchant can trust offline. A merchant syncs `lockedOf`, `pendingWithdrawalOf`, `laneOf`,
///      `payerEpochRedeemedOf`, `limits`, `isCheater` and `currentEpoch`, and takes vouchers on a view at most
///      `maxViewAge` old. A voucher lives at most `maxVoucherAge`, and `withdrawalDelay >= maxVoucherAge +
///      maxViewAge`, so funds locked and not under a withdrawal request in the merchant's view are still locked
///      when the voucher expires, except for what other vouchers of the payer take; those are bounded by
///      `maxPerLane` per lane and `maxPerEpoch` per payer and epoch. Signatures are ECDSA only, checked the same
///      way offline and on chain, so no later code at the payer's address (EIP-7702) can revoke a voucher.
///
///      Cheaters. A payer that signs two vouchers for one (lane, sequence) is flagged (`flaggedAt`), its withdrawal
///      is cancelled and it cannot withdraw until the risk admin clears the flag and nothing is owed. While
///      flagged, its vouchers dated after the flag are refused. Every voucher dated before the flag is paid
///      or compensated, whatever the payer redeemed first: a conflict with the lane's redemption is a double spend;
///      any other (a sequence gap or a broken chain, or the lane's next link) is compensated with no lane
///      condition.
///
///      Compensation. Each voucher is settled at most once (tracked by hash, shared with redemption). It is
///      compensable if dated before the flag (or in its second), not expired and its window within
///      `maxVoucherAge`; it is paid `min(amount, maxPerVoucher, locked, maxPerEpoch - payerEpochRedeemed)`, and
///      what it pays counts toward the payer's epoch total. The epoch budget cap is there because a payer can
///      sign vouchers to addresses it controls (dated before its own flag): without the cap that would empty its
///      locked funds at once. A shortfall up to `min(amount, maxPerVoucher)` is recorded as owed to the voucher's
///      merchant (nothing is paid while the payer or merchant is frozen: all of it is owed) and anyone can claim
///      it later with `claimOwed`. A compensated voucher that is the next link of its lane is also recorded as
///      the lane's redemption, so the lane goes on from it.
///
///      Epochs. `currentEpoch() = anchorIndex + (now - anchorTime) / epochLength`. The anchor starts at
///      (0, 0) and moves to (currentEpoch(), now) when `setLimits` changes `epochLength`, so epoch indices
///      never go back and the epoch's totals carry over.
contract OfflineVault is IOfflineVault, AccessControlDefaultAdminRules, EIP712 {
    using SafeERC20 for IERC20;

    /// @dev The state of one (payer, lane).
    struct Lane {
        uint256 lastSequence;
        bytes32 lastHash;
        uint64 epoch;
        uint128 epochRedeemed;
    }

    /// @dev The redemptions of one payer in one epoch, over all lanes.
    struct PayerEpoch {
        uint64 epoch;
        uint128 redeemed;
    }

    /// @dev A pending withdrawal.
    struct PendingWithdrawal {
        uint128 amount;
        uint64 availableAt;
    }

    /// @dev The voucher redeemed at one (payer, lane, sequence).
    struct Redemption {
        bytes32 hash;
        address merchant;
    }

    /// @dev A payer's cheater flag: the time of the last flag (kept when cleared) and whether it stands.
    struct Flag {
        uint64 flaggedAt;
        bool active;
    }

    /// @dev What a compensated voucher is still owed.
    struct Owed {
        address payer;
        address merchant;
        uint128 amount;
    }

    /// @notice Sets the limits and clears cheater flags: the issuing bank.
    bytes32 public constant RISK_ADMIN_ROLE = keccak256("RISK_ADMIN_ROLE");
    /// @notice The EIP-712 type hash of `Voucher`.
    bytes32 public constant VOUCHER_TYPEHASH = keccak256(
        "Voucher(address payer,address merchant,uint256 amount,uint256 lane,uint256 sequence,"
        "bytes32 previousVoucherHash,uint256 validAfter,uint256 validBefore)"
    );
    /// @inheritdoc IOfflineVault
    uint256 public constant REDEEM_ITEM_GAS = 300_000;
    /// @dev Gas kept back for the batch itself when an item is started: its rejection event and the loop.
    uint256 private constant _BATCH_RESERVE = 40_000;

    IERC20 private immutable _token;

    Limits private _limits;
    uint64 private _epochAnchorTime;
    uint64 private _epochAnchorIndex;
    mapping(address payer => uint256) private _locked;
    mapping(address payer => PendingWithdrawal) private _pending;
    mapping(address payer => Flag) private _flags;
    mapping(address payer => PayerEpoch) private _payerEpochs;
    mapping(address payer => mapping(uint256 lane => Lane)) private _lanes;
    mapping(address payer => mapping(uint256 lane => mapping(uint256 sequence => Redemption))) private _redemptions;
    mapping(bytes32 hash => bool) private _settled;
    mapping(bytes32 hash => Owed) private _owed;
    mapping(address payer => uint256) private _owedTotal;
    mapping(bytes32 pair => bool) private _usedEvidence;

    /// @dev Only the vault itself (`redeemBatch`'s self-calls).
    modifier onlySelf() {
        _checkSelf();
        _;
    }

    /// @param initialAdmin The single holder of `DEFAULT_ADMIN_ROLE`.
    /// @param initialAdminDelay The delay, in seconds, before a default admin handover can be accepted.
    /// @param token_ The token locked (`BankToken`: its `isFrozen` is read).
    /// @param initialLimits The first limits.
    constructor(
        address initialAdmin,
        uint48 initialAdminDelay,
        IERC20 token_,
        Limits memory initialLimits
    ) AccessControlDefaultAdminRules(initialAdminDelay, initialAdmin) EIP712("OfflineVault", "1") {
        if (address(token_) == address(0)) revert VaultZeroAddress();
        _token = token_;
        _setLimits(initialLimits);
    }

    /// @inheritdoc IOfflineVault
    function setLimits(Limits calldata newLimits) external onlyRole(RISK_ADMIN_ROLE) {
        _setLimits(newLimits);
    }

    /// @inheritdoc IOfflineVault
    /// @dev Keeps `flaggedAt`: the payer's vouchers dated before the flag stay compensable.
    function clearCheater(address payer) external onlyRole(RISK_ADMIN_ROLE) {
        if (!_flags[payer].active) revert NotCheater(payer);
        _flags[payer].active = false;
        emit CheaterCleared(payer);
    }

    /// @inheritdoc IOfflineVault
    function deposit(uint256 amount) external {
        _deposit(msg.sender, amount);
    }

    /// @inheritdoc IOfflineVault
    function depositFor(address payer, uint256 amount) external {
        if (payer == address(0)) revert VaultZeroAddress();
        _deposit(payer, amount);
    }

    /// @inheritdoc IOfflineVault
    function requestWithdrawal(uint256 amount) external {
        if (amount == 0) revert VaultZeroAmount();
        _checkMayWithdraw(msg.sender);
        uint256 locked = _locked[msg.sender];
        if (amount > locked) revert InsufficientLocked(locked, amount);
        uint256 availableAt = block.timestamp + _limits.withdrawalDelay;
        _cancelPending(msg.sender);
        _pending[msg.sender] = PendingWithdrawal(SafeCast.toUint128(amount), SafeCast.toUint64(availableAt));
        emit WithdrawalRequested(msg.sender, amount, availableAt);
    }

    /// @inheritdoc IOfflineVault
    function cancelWithdrawal() external {
        if (!_cancelPending(msg.sender)) revert NoPendingWithdrawal(msg.sender);
    }

    /// @inheritdoc IOfflineVault
    /// @dev Pays `min(requested, locked)`: redemptions during the delay come first.
    function withdraw() external returns (uint256 amount) {
        _checkMayWithdraw(msg.sender);
        PendingWithdrawal memory p = _pending[msg.sender];
        if (p.amount == 0) revert NoPendingWithdrawal(msg.sender);
        if (block.timestamp < p.availableAt) revert WithdrawalNotReady(p.availableAt, block.timestamp);
        uint256 locked = _locked[msg.sender];
        amount = Math.min(p.amount, locked);
        delete _pending[msg.sender];
        // Cannot underflow: amount <= locked.
        unchecked {
            _locked[msg.sender] = locked - amount;
        }
        emit Withdrawn(msg.sender, p.amount, amount);
        if (amount != 0) _token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IOfflineVault
    function redeem(Voucher calldata voucher, bytes calldata signature) external {
        _redeem(voucher, signature);
    }

    /// @inheritdoc IOfflineVault
    /// @dev Each voucher runs in a self-call with at most `REDEEM_ITEM_GAS`, so its revert undoes only its own
    ///      effects and it cannot use the gas of the items after it. An item is started only while
    ///      `REDEEM_ITEM_GAS` (plus the 1/64 the call keeps back) and `_BATCH_RESERVE` are left; otherwise the whole
    ///      batch reverts, so that a node's gas estimate gives every item its full share rather than skipping some.
    function redeemBatch(Voucher[] calldata vouchers, bytes[] calldata signatures) external returns (bool[] memory ok) {
        uint256 n = vouchers.length;
        if (n != signatures.length) revert LengthMismatch(n, signatures.length);
        ok = new bool[](n);
        for (uint256 i = 0; i < n; ++i) {
            uint256 left = gasleft();
            if (left < REDEEM_ITEM_GAS + REDEEM_ITEM_GAS / 63 + _BATCH_RESERVE) revert VaultBatchGasExhausted(i, left);
            try this.redeemOne{gas: REDEEM_ITEM_GAS}(vouchers[i], signatures[i]) {
                ok[i] = true;
            } catch (bytes memory reason) {
                emit VoucherRejected(_hashVoucher(vouchers[i]), reason);
            }
        }
    }

    /// @inheritdoc IOfflineVault
    function redeemOne(Voucher calldata voucher, bytes calldata signature) external onlySelf {
        _redeem(voucher, signature);
    }

    /// @inheritdoc IOfflineVault
    function proveDoubleSpend(
        Voucher calldata a,
        bytes calldata signatureA,
        Voucher calldata b,
        bytes calldata signatureB
    ) external {
        bytes32 hashA = _checkVoucher(a, signatureA);
        bytes32 hashB = _checkVoucher(b, signatureB);
        if (a.payer != b.payer) revert PayerMismatch(a.payer, b.payer);
        if (hashA == hashB || a.lane != b.lane || a.sequence != b.sequence) revert NotADoubleSpend(hashA, hashB);
        _slashPair(a, b, hashA, hashB);
    }

    /// @inheritdoc IOfflineVault
    function claimOwed(bytes32 hash) external returns (uint256 paid) {
        Owed storage o = _owed[hash];
        uint256 owed = o.amount;
        if (owed == 0) revert VaultNothingOwed(hash);
        address payer = o.payer;
        address merchant = o.merchant;
        _checkNotFrozen(payer);
        _checkNotFrozen(merchant);
        paid = _takeFromBudget(payer, owed);
        if (paid == 0) revert VaultOwedUnpayable(hash, _locked[payer], _budgetLeft(payer));
        // Cannot underflow: paid <= owed <= the payer's total owed.
        unchecked {
            o.amount = uint128(owed - paid);
            _owedTotal[payer] -= paid;
        }
        emit OwedClaimed(hash, payer, merchant, paid, owed - paid);
        _token.safeTransfer(merchant, paid);
    }

    /// @inheritdoc IOfflineVault
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @inheritdoc IOfflineVault
    function limits() external view returns (Limits memory) {
        return _limits;
    }

    /// @inheritdoc IOfflineVault
    function currentEpochEndsAt() external view returns (uint256) {
        uint256 length = _limits.epochLength;
        return _epochAnchorTime + (currentEpoch() - _epochAnchorIndex + 1) * length;
    }

    /// @inheritdoc IOfflineVault
    function lockedOf(address payer) external view returns (uint256) {
        return _locked[payer];
    }

    /// @inheritdoc IOfflineVault
    function pendingWithdrawalOf(address payer) external view returns (uint256 amount, uint256 availableAt) {
        PendingWithdrawal memory p = _pending[payer];
        return (p.amount, p.availableAt);
    }

    /// @inheritdoc IOfflineVault
    function laneOf(
        address payer,
        uint256 lane
    ) external view returns (uint256 lastSequence, bytes32 lastHash, uint256 epoch, uint256 epochRedeemed) {
        Lane storage state = _lanes[payer][lane];
        return (state.lastSequence, state.lastHash, state.epoch, state.epochRedeemed);
    }

    /// @inheritdoc IOfflineVault
    function payerEpochRedeemedOf(address payer) external view returns (uint256) {
        PayerEpoch memory e = _payerEpochs[payer];
        return e.epoch == currentEpoch() ? e.redeemed : 0;
    }

    /// @inheritdoc IOfflineVault
    function redeemedAt(
        address payer,
        uint256 lane,
        uint256 sequence
    ) external view returns (bytes32 hash, address merchant) {
        Redemption storage r = _redemptions[payer][lane][sequence];
        return (r.hash, r.merchant);
    }

    /// @inheritdoc IOfflineVault
    function isPaid(bytes32 hash) external view returns (bool) {
        return _settled[hash] && _owed[hash].amount == 0;
    }

    /// @inheritdoc IOfflineVault
    function isSettled(bytes32 hash) external view returns (bool) {
        return _settled[hash];
    }

    /// @inheritdoc IOfflineVault
    function owedOf(bytes32 hash) external view returns (address payer, address merchant, uint256 amount) {
        Owed storage o = _owed[hash];
        return (o.payer, o.merchant, o.amount);
    }

    /// @inheritdoc IOfflineVault
    function owedTotalOf(address payer) external view returns (uint256) {
        return _owedTotal[payer];
    }

    /// @inheritdoc IOfflineVault
    function isCheater(address payer) external view returns (bool) {
        return _flags[payer].active;
    }

    /// @inheritdoc IOfflineVault
    function flaggedAt(address payer) external view returns (uint256) {
        return _flags[payer].flaggedAt;
    }

    /// @inheritdoc IOfflineVault
    function hashVoucher(Voucher calldata voucher) external view returns (bytes32) {
        return _hashVoucher(voucher);
    }

    /// @inheritdoc IOfflineVault
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IOfflineVault
    function currentEpoch() public view returns (uint256) {
        return _epochAnchorIndex + (block.timestamp - _epochAnchorTime) / _limits.epochLength;
    }

    /// @dev Checks and stores `newLimits`; moves the epoch anchor if the epoch length changes.
    function _setLimits(Limits memory newLimits) private {
        if (
            newLimits.maxPerVoucher == 0 ||
            newLimits.maxPerLane == 0 ||
            newLimits.maxPerEpoch == 0 ||
            newLimits.maxVoucherAge == 0 ||
            newLimits.epochLength == 0 ||
            newLimits.maxViewAge == 0 ||
            uint256(newLimits.withdrawalDelay) < uint256(newLimits.maxVoucherAge) + newLimits.maxViewAge
        ) revert InvalidLimits(newLimits);
        uint32 oldLength = _limits.epochLength;
        if (oldLength != 0 && oldLength != newLimits.epochLength) {
            _epochAnchorIndex = SafeCast.toUint64(currentEpoch());
            _epochAnchorTime = SafeCast.toUint64(block.timestamp);
        }
        _limits = newLimits;
        emit LimitsSet(newLimits);
    }

    /// @dev Pulls `amount` from the caller and locks it for `payer` (not frozen; a frozen caller is refused by
    ///      the token).
    function _deposit(address payer, uint256 amount) private {
        if (amount == 0) revert VaultZeroAmount();
        _checkNotFrozen(payer);
        _locked[payer] += amount;
        emit Deposited(payer, msg.sender, amount);
        _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @dev Redeems `v`: slashes its payer if `v` conflicts with the voucher redeemed at its sequence; compensates
    ///      it out of the lane if its payer was flagged after it was dated; else redeems it as the lane's next link.
    function _redeem(Voucher calldata v, bytes calldata signature) private {
        bytes32 hash = _checkVoucher(v, signature);
        _checkWindowAndAmount(v);
        _checkNotFrozen(v.payer);
        Flag memory flag = _flags[v.payer];
        bool datedBeforeFlag = _datedBeforeFlag(v.validAfter, flag.flaggedAt);
        if (flag.active && !datedBeforeFlag) revert PayerIsCheater(v.payer);
        uint256 last = _lanes[v.payer][v.lane].lastSequence;
        // `last + 1` cannot overflow: sequences are recorded one by one from 1.
        if (v.sequence == 0) revert SequenceGap(last + 1, 0);
        if (v.sequence <= last) _slashAgainstRedeemed(v, hash);
        else if (datedBeforeFlag) _compensateOutOfLane(v, hash);
        else if (v.sequence > last + 1) revert SequenceGap(last + 1, v.sequence);
        else _redeemNext(v, hash);
    }

    /// @dev Redeems `v`, the next sequence of its lane: chain link, epoch limits, locked funds.
    function _redeemNext(Voucher calldata v, bytes32 hash) private {
        bytes32 lastHash = _lanes[v.payer][v.lane].lastHash;
        if (v.previousVoucherHash != lastHash) revert BrokenChain(lastHash, v.previousVoucherHash);
        if (_settled[hash]) revert AlreadyRedeemed(hash);
        _useEpochAllowance(v);
        uint256 locked = _locked[v.payer];
        if (v.amount > locked) revert InsufficientLocked(locked, v.amount);
        _record(v, hash);
        // Cannot underflow: amount <= locked, checked above.
        unchecked {
            _locked[v.payer] = locked - v.amount;
        }
        emit VoucherRedeemed(hash, v.payer, v.merchant, v.lane, v.sequence, v.amount);
        _token.safeTransfer(v.merchant, v.amount);
    }

    /// @dev Compensates `v`, dated before its payer's flag and not a conflict, with no lane or chain condition.
    function _compensateOutOfLane(Voucher calldata v, bytes32 hash) private {
        if (_settled[hash]) revert AlreadyRedeemed(hash);
        (uint256 paid, uint256 owed) = _compensate(v, hash);
        emit VoucherCompensated(hash, v.payer, v.merchant, v.lane, v.sequence, paid, owed);
        if (paid != 0) _token.safeTransfer(v.merchant, paid);
    }

    /// @dev Adds `v.amount` to its lane's and its payer's totals of the current epoch, within the limits.
    function _useEpochAllowance(Voucher calldata v) private {
        uint256 epoch = currentEpoch();
        uint256 amount = v.amount;
        Lane storage lane = _lanes[v.payer][v.lane];
        uint256 laneRedeemed = lane.epoch == epoch ? lane.epochRedeemed : 0;
        uint256 maxPerLane = _limits.maxPerLane;
        if (laneRedeemed + amount > maxPerLane) revert LaneLimitExceeded(laneRedeemed, amount, maxPerLane);
        PayerEpoch storage pe = _payerEpochs[v.payer];
        uint256 payerRedeemed = pe.epoch == epoch ? pe.redeemed : 0;
        uint256 maxPerEpoch = _limits.maxPerEpoch;
        if (payerRedeemed + amount > maxPerEpoch) revert EpochLimitExceeded(payerRedeemed, amount, maxPerEpoch);
        // The casts cannot truncate: both totals are at most a uint128 limit (checked above), and the epoch
        // index is below 2**64 for any realistic time and epoch length (checked by SafeCast).
        lane.epoch = SafeCast.toUint64(epoch);
        lane.epochRedeemed = uint128(laneRedeemed + amount);
        pe.epoch = uint64(epoch);
        pe.redeemed = uint128(payerRedeemed + amount);
    }

    /// @dev Takes up to `wanted` off `payer`'s locked funds, within what is left of its epoch budget, and adds it
    ///      to its epoch total. Returns what was taken.
    function _takeFromBudget(address payer, uint256 wanted) private returns (uint256 taken) {
        uint256 epoch = currentEpoch();
        PayerEpoch storage pe = _payerEpochs[payer];
        uint256 spent = pe.epoch == epoch ? pe.redeemed : 0;
        uint256 maxPerEpoch = _limits.maxPerEpoch;
        // The total may exceed a limit lowered since: then the budget is zero.
        uint256 budget = spent < maxPerEpoch ? maxPerEpoch - spent : 0;
        uint256 locked = _locked[payer];
        taken = Math.min(wanted, Math.min(locked, budget));
        if (taken == 0) return 0;
        // The casts cannot truncate: spent + taken <= max(spent, maxPerEpoch) < 2**128; the epoch fits 64 bits.
        pe.epoch = SafeCast.toUint64(epoch);
        pe.redeemed = uint128(spent + taken);
        // Cannot underflow: taken <= locked.
        unchecked {
            _locked[payer] = locked - taken;
        }
    }

    /// @dev What is left of `payer`'s budget this epoch.
    function _budgetLeft(address payer) private view returns (uint256) {
        PayerEpoch memory pe = _payerEpochs[payer];
        uint256 spent = pe.epoch == currentEpoch() ? pe.redeemed : 0;
        uint256 maxPerEpoch = _limits.maxPerEpoch;
        return spent < maxPerEpoch ? maxPerEpoch - spent : 0;
    }

    /// @dev Checks the validity window (now, and its length) and the per-voucher limit of `v`.
    function _checkWindowAndAmount(Voucher calldata v) private view {
        Limits memory lim = _limits;
        if (block.timestamp < v.validAfter) revert VoucherNotYetValid(v.validAfter, block.timestamp);
        if (block.timestamp >= v.validBefore) revert VoucherExpired(v.validBefore, block.timestamp);
        // Cannot underflow: validAfter <= now < validBefore.
        unchecked {
            if (v.validBefore - v.validAfter > lim.maxVoucherAge) {
                revert VoucherTooLong(v.validBefore - v.validAfter, lim.maxVoucherAge);
            }
        }
        if (v.amount > lim.maxPerVoucher) revert VoucherOverLimit(v.amount, lim.maxPerVoucher);
    }

    /// @dev The explicit double-spend proof: flags the payer, compensates `a` then `b`, emits, pays.
    function _slashPair(Voucher calldata a, Voucher calldata b, bytes32 hashA, bytes32 hashB) private {
        _useEvidence(a.payer, hashA, hashB);
        (uint256 paidA, ) = _compensate(a, hashA);
        (uint256 paidB, ) = _compensate(b, hashB);
        emit DoubleSpendSlashed(a.payer, a.lane, a.sequence, hashA, hashB, a.merchant, paidA, b.merchant, paidB);
        if (paidA != 0) _token.safeTransfer(a.merchant, paidA);
        if (paidB != 0) _token.safeTransfer(b.merchant, paidB);
    }

    /// @dev The implicit double-spend proof: `v` (hash `hashB`) conflicts with the voucher already redeemed at its
    ///      (payer, lane, sequence), which is voucher A of the event (already paid, so `paidA == 0`).
    function _slashAgainstRedeemed(Voucher calldata v, bytes32 hashB) private {
        Redemption storage r = _redemptions[v.payer][v.lane][v.sequence];
        bytes32 hashA = r.hash;
        if (hashA == hashB) revert AlreadyRedeemed(hashB);
        _useEvidence(v.payer, hashA, hashB);
        (uint256 paidB, ) = _compensate(v, hashB);
        emit DoubleSpendSlashed(v.payer, v.lane, v.sequence, hashA, hashB, r.merchant, 0, v.merchant, paidB);
        if (paidB != 0) _token.safeTransfer(v.merchant, paidB);
    }

    /// @dev Marks the pair (`hashA`, `hashB`) used (in either order), flags `payer` a cheater (keeping the time of a
    ///      flag that stands) and cancels its pending withdrawal.
    function _useEvidence(address payer, bytes32 hashA, bytes32 hashB) private {
        bytes32 pair =
            hashA < hashB ? keccak256(abi.encodePacked(hashA, hashB)) : keccak256(abi.encodePacked(hashB, hashA));
        if (_usedEvidence[pair]) revert EvidenceAlreadyUsed(hashA, hashB);
        _usedEvidence[pair] = true;
        Flag storage flag = _flags[payer];
        if (!flag.active) {
            flag.flaggedAt = SafeCast.toUint64(block.timestamp);
            flag.active = true;
            emit CheaterFlagged(payer, block.timestamp);
        }
        _cancelPending(payer);
    }

    /// @dev The effects of compensating voucher `v` (hash `hash`) of a flagged payer: nothing if it was settled or
    ///      is not compensable (dated after the flag, expired, or a window longer than `maxVoucherAge`);
    ///      else `due = min(amount, maxPerVoucher)`, of which `paid` is taken off the payer's locked funds within
    ///      its epoch budget (nothing while the payer or the merchant is frozen) and `owed = due - paid` recorded.
    ///      Records `v` as the lane's redemption if it is the lane's next link, else marks it settled. The caller
    ///      transfers `paid` to `v.merchant`.
    function _compensate(Voucher calldata v, bytes32 hash) private returns (uint256 paid, uint256 owed) {
        if (_settled[hash] || !_isCompensable(v)) return (0, 0);
        uint256 due = Math.min(v.amount, _limits.maxPerVoucher);
        if (!_isFrozen(v.payer) && !_isFrozen(v.merchant)) paid = _takeFromBudget(v.payer, due);
        Lane storage lane = _lanes[v.payer][v.lane];
        if (v.sequence == lane.lastSequence + 1 && v.previousVoucherHash == lane.lastHash) _record(v, hash);
        else _settled[hash] = true;
        // Cannot underflow: paid <= due.
        unchecked {
            owed = due - paid;
        }
        if (owed != 0) {
            // The cast cannot truncate: owed <= maxPerVoucher, a uint128.
            _owed[hash] = Owed(v.payer, v.merchant, uint128(owed));
            _owedTotal[v.payer] += owed;
            emit CompensationOwed(hash, v.payer, v.merchant, owed);
        }
    }

    /// @dev Records `v` as the redemption at its (payer, lane, sequence), advances the lane and marks it settled.
    function _record(Voucher calldata v, bytes32 hash) private {
        Lane storage lane = _lanes[v.payer][v.lane];
        lane.lastSequence = v.sequence;
        lane.lastHash = hash;
        _redemptions[v.payer][v.lane][v.sequence] = Redemption(hash, v.merchant);
        _settled[hash] = true;
    }

    /// @dev Deletes the pending withdrawal of `payer`, if any; returns whether there was one.
    function _cancelPending(address payer) private returns (bool) {
        uint256 amount = _pending[payer].amount;
        if (amount == 0) return false;
        delete _pending[payer];
        emit WithdrawalCancelled(payer, amount);
        return true;
    }

    /// @dev Whether `v`, of a flagged payer, is a victim's voucher: dated before the flag, not expired, and its
    ///      window within `maxVoucherAge` (as a merchant checks it). So a payer's vouchers to its own addresses,
    ///      pre-dated after the fact, can claim its locked funds only until `flaggedAt + maxVoucherAge`.
    function _isCompensable(Voucher calldata v) private view returns (bool) {
        // The subtraction cannot underflow: validAfter <= flaggedAt <= now < validBefore, checked first.
        return
            _datedBeforeFlag(v.validAfter, _flags[v.payer].flaggedAt) &&
            block.timestamp < v.validBefore &&
            v.validBefore - v.validAfter <= _limits.maxVoucherAge;
    }

    /// @dev Whether a voucher valid from `validAfter` is dated before a flag raised at `flagTime` (0: never). The
    ///      flag's own second counts as before: the voucher whose redemption raises the flag may be that new.
    function _datedBeforeFlag(uint256 validAfter, uint256 flagTime) private pure returns (bool) {
        return flagTime != 0 && validAfter <= flagTime;
    }

    /// @dev The checks every voucher passes: merchant, amount, ECDSA signature by the payer. Returns its hash.
    function _checkVoucher(Voucher calldata v, bytes calldata signature) private view returns (bytes32 hash) {
        if (v.merchant == address(0)) revert MerchantZero();
        if (v.amount == 0) revert VaultZeroAmount();
        hash = _hashVoucher(v);
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(hash, signature);
        if (err != ECDSA.RecoverError.NoError || signer != v.payer) revert InvalidSignature(v.payer, hash);
    }

    /// @dev Reverts with `VaultAccountFrozen`, `PayerIsCheater` or `VaultOwedOutstanding` unless `payer` may
    ///      request or execute a withdrawal.
    function _checkMayWithdraw(address payer) private view {
        _checkNotFrozen(payer);
        if (_flags[payer].active) revert PayerIsCheater(payer);
        uint256 owed = _owedTotal[payer];
        if (owed != 0) revert VaultOwedOutstanding(payer, owed);
    }

    /// @dev Reverts with `VaultAccountFrozen` if the token has frozen `account`.
    function _checkNotFrozen(address account) private view {
        if (_isFrozen(account)) revert VaultAccountFrozen(account);
    }

    /// @dev Reverts with `VaultOnlySelf` unless the vault itself is calling.
    function _checkSelf() private view {
        if (msg.sender != address(this)) revert VaultOnlySelf();
    }

    /// @dev Whether the token has frozen `account`.
    function _isFrozen(address account) private view returns (bool) {
        return IBankToken(address(_token)).isFrozen(account);
    }

    /// @dev The EIP-712 digest of `v` in this vault's domain.
    function _hashVoucher(Voucher calldata v) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(VOUCHER_TYPEHASH, v)));
    }
}
