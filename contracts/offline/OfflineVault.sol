// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IOfflineVault} from "./interfaces/IOfflineVault.sol";

/// @title OfflineVault
/// @notice Locks `BankToken` for offline payments by signed, chained vouchers, and slashes double spenders.
/// @dev Roles:
///      - `DEFAULT_ADMIN_ROLE` (one holder, handed over in two steps after a delay): grants and revokes roles.
///      - `RISK_ADMIN_ROLE` (the issuing bank): sets the limits, clears cheater flags.
///
///      What a merchant can trust offline. A merchant syncs `lockedOf`, `pendingWithdrawalOf`, `laneOf`,
///      `payerEpochRedeemedOf`, `limits`, `isCheater` and `currentEpoch`. A voucher lives at most
///      `maxVoucherAge <= withdrawalDelay`, so funds locked and not under a withdrawal request when the voucher
///      is taken are still locked when it expires, except for what other vouchers of the payer take; those are
///      bounded by `maxPerLane` per lane and `maxPerEpoch` per payer and epoch. A payer that signs two vouchers
///      for one (lane, sequence) is flagged a cheater (its withdrawal is cancelled and it cannot withdraw until
///      the risk admin clears it), and every such voucher not yet paid is paid from its locked funds.
///
///      Compensation. Each conflicting voucher is paid at most once (tracked by hash, shared with redemption),
///      `min(amount, maxPerVoucher, locked, maxPerEpoch - payerEpochRedeemed)`, in argument order, without the
///      lane and time checks; what it pays counts toward the payer's epoch total. The epoch budget cap is there
///      because a payer can sign two vouchers to addresses it controls and prove its own double spend: without
///      the cap that would empty its locked funds at once, past the withdrawal delay and the epoch limit, under
///      the vouchers merchants already hold. A shortfall is final (the voucher counts as paid). A
///      compensated voucher that is the next link of its lane (`sequence == lastSequence + 1` and the right
///      `previousVoucherHash`) is also recorded as the lane's redemption, so the lane goes on from it.
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

    /// @notice Sets the limits and clears cheater flags: the issuing bank.
    bytes32 public constant RISK_ADMIN_ROLE = keccak256("RISK_ADMIN_ROLE");
    /// @notice The EIP-712 type hash of `Voucher`.
    bytes32 public constant VOUCHER_TYPEHASH = keccak256(
        "Voucher(address payer,address merchant,uint256 amount,uint256 lane,uint256 sequence,"
        "bytes32 previousVoucherHash,uint256 validAfter,uint256 validBefore)"
    );

    IERC20 private immutable _token;

    Limits private _limits;
    uint64 private _epochAnchorTime;
    uint64 private _epochAnchorIndex;
    mapping(address payer => uint256) private _locked;
    mapping(address payer => PendingWithdrawal) private _pending;
    mapping(address payer => bool) private _cheaters;
    mapping(address payer => PayerEpoch) private _payerEpochs;
    mapping(address payer => mapping(uint256 lane => Lane)) private _lanes;
    mapping(address payer => mapping(uint256 lane => mapping(uint256 sequence => Redemption))) private _redemptions;
    mapping(bytes32 hash => bool) private _paid;
    mapping(bytes32 pair => bool) private _usedEvidence;

    /// @dev Only the vault itself (`redeemBatch`'s self-calls).
    modifier onlySelf() {
        _checkSelf();
        _;
    }

    /// @param initialAdmin The single holder of `DEFAULT_ADMIN_ROLE`.
    /// @param initialAdminDelay The delay, in seconds, before a default admin handover can be accepted.
    /// @param token_ The token locked (`BankToken`).
    /// @param initialLimits The first limits.
    constructor(
        address initialAdmin,
        uint48 initialAdminDelay,
        IERC20 token_,
        Limits memory initialLimits
    ) AccessControlDefaultAdminRules(initialAdminDelay, initialAdmin) EIP712("OfflineVault", "1") {
        if (address(token_) == address(0)) revert ZeroAddress();
        _token = token_;
        _setLimits(initialLimits);
    }

    /// @inheritdoc IOfflineVault
    function setLimits(Limits calldata newLimits) external onlyRole(RISK_ADMIN_ROLE) {
        _setLimits(newLimits);
    }

    /// @inheritdoc IOfflineVault
    function clearCheater(address payer) external onlyRole(RISK_ADMIN_ROLE) {
        if (!_cheaters[payer]) revert NotCheater(payer);
        _cheaters[payer] = false;
        emit CheaterCleared(payer);
    }

    /// @inheritdoc IOfflineVault
    function deposit(uint256 amount) external {
        _deposit(msg.sender, amount);
    }

    /// @inheritdoc IOfflineVault
    function depositFor(address payer, uint256 amount) external {
        if (payer == address(0)) revert ZeroAddress();
        _deposit(payer, amount);
    }

    /// @inheritdoc IOfflineVault
    function requestWithdrawal(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        _checkNotCheater(msg.sender);
        uint256 locked = _locked[msg.sender];
        if (amount > locked) revert InsufficientLocked(locked, amount);
        uint256 availableAt = block.timestamp + _limits.withdrawalDelay;
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
        _checkNotCheater(msg.sender);
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
    /// @dev Each voucher runs in a self-call, so its revert undoes only its own effects.
    function redeemBatch(Voucher[] calldata vouchers, bytes[] calldata signatures) external returns (bool[] memory ok) {
        uint256 n = vouchers.length;
        if (n != signatures.length) revert LengthMismatch(n, signatures.length);
        ok = new bool[](n);
        for (uint256 i = 0; i < n; ++i) {
            try this.redeemOne(vouchers[i], signatures[i]) {
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
        return _paid[hash];
    }

    /// @inheritdoc IOfflineVault
    function isCheater(address payer) external view returns (bool) {
        return _cheaters[payer];
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
            newLimits.withdrawalDelay < newLimits.maxVoucherAge
        ) revert InvalidLimits(newLimits);
        uint32 oldLength = _limits.epochLength;
        if (oldLength != 0 && oldLength != newLimits.epochLength) {
            _epochAnchorIndex = SafeCast.toUint64(currentEpoch());
            _epochAnchorTime = SafeCast.toUint64(block.timestamp);
        }
        _limits = newLimits;
        emit LimitsSet(newLimits);
    }

    /// @dev Pulls `amount` from the caller and locks it for `payer`.
    function _deposit(address payer, uint256 amount) private {
        if (amount == 0) revert ZeroAmount();
        _locked[payer] += amount;
        emit Deposited(payer, msg.sender, amount);
        _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @dev Redeems `v`, or slashes its payer if `v` conflicts with the voucher redeemed at its sequence.
    function _redeem(Voucher calldata v, bytes calldata signature) private {
        bytes32 hash = _checkVoucher(v, signature);
        _checkWindowAndAmount(v);
        uint256 last = _lanes[v.payer][v.lane].lastSequence;
        // `last + 1` cannot overflow: sequences are redeemed one by one from 1.
        if (v.sequence == 0 || v.sequence > last + 1) revert SequenceGap(last + 1, v.sequence);
        if (v.sequence <= last) _slashAgainstRedeemed(v, hash);
        else _redeemNext(v, hash);
    }

    /// @dev Redeems `v`, the next sequence of its lane: chain link, epoch limits, locked funds.
    function _redeemNext(Voucher calldata v, bytes32 hash) private {
        bytes32 lastHash = _lanes[v.payer][v.lane].lastHash;
        if (v.previousVoucherHash != lastHash) revert BrokenChain(lastHash, v.previousVoucherHash);
        if (_paid[hash]) revert AlreadyRedeemed(hash);
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
        uint256 paidA = _compensate(a, hashA);
        uint256 paidB = _compensate(b, hashB);
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
        uint256 paidB = _compensate(v, hashB);
        emit DoubleSpendSlashed(v.payer, v.lane, v.sequence, hashA, hashB, r.merchant, 0, v.merchant, paidB);
        if (paidB != 0) _token.safeTransfer(v.merchant, paidB);
    }

    /// @dev Marks the pair (`hashA`, `hashB`) used (in either order), flags `payer` a cheater and cancels its
    ///      pending withdrawal.
    function _useEvidence(address payer, bytes32 hashA, bytes32 hashB) private {
        bytes32 pair =
            hashA < hashB ? keccak256(abi.encodePacked(hashA, hashB)) : keccak256(abi.encodePacked(hashB, hashA));
        if (_usedEvidence[pair]) revert EvidenceAlreadyUsed(hashA, hashB);
        _usedEvidence[pair] = true;
        _cheaters[payer] = true;
        _cancelPending(payer);
    }

    /// @dev The effects of compensating voucher `v` (hash `hash`): nothing if it was paid, else
    ///      `min(amount, maxPerVoucher, locked, what is left of the payer's epoch budget)` taken off the payer's
    ///      locked funds and added to its epoch total; records `v` as the lane's redemption if it is the lane's
    ///      next link. Returns what the caller must transfer to `v.merchant`.
    function _compensate(Voucher calldata v, bytes32 hash) private returns (uint256 paid) {
        if (_paid[hash]) return 0;
        uint256 epoch = currentEpoch();
        PayerEpoch storage pe = _payerEpochs[v.payer];
        uint256 spent = pe.epoch == epoch ? pe.redeemed : 0;
        uint256 maxPerEpoch = _limits.maxPerEpoch;
        // The total may exceed a limit lowered since: then the budget is zero.
        uint256 budget = spent < maxPerEpoch ? maxPerEpoch - spent : 0;
        uint256 locked = _locked[v.payer];
        paid = Math.min(Math.min(v.amount, _limits.maxPerVoucher), Math.min(locked, budget));
        // The casts cannot truncate: spent + paid <= max(spent, maxPerEpoch) < 2**128; the epoch fits 64 bits.
        pe.epoch = SafeCast.toUint64(epoch);
        pe.redeemed = uint128(spent + paid);
        // Cannot underflow: paid <= locked.
        unchecked {
            _locked[v.payer] = locked - paid;
        }
        Lane storage lane = _lanes[v.payer][v.lane];
        if (v.sequence == lane.lastSequence + 1 && v.previousVoucherHash == lane.lastHash) _record(v, hash);
        else _paid[hash] = true;
    }

    /// @dev Records `v` as the redemption at its (payer, lane, sequence), advances the lane and marks it paid.
    function _record(Voucher calldata v, bytes32 hash) private {
        Lane storage lane = _lanes[v.payer][v.lane];
        lane.lastSequence = v.sequence;
        lane.lastHash = hash;
        _redemptions[v.payer][v.lane][v.sequence] = Redemption(hash, v.merchant);
        _paid[hash] = true;
    }

    /// @dev Deletes the pending withdrawal of `payer`, if any; returns whether there was one.
    function _cancelPending(address payer) private returns (bool) {
        uint256 amount = _pending[payer].amount;
        if (amount == 0) return false;
        delete _pending[payer];
        emit WithdrawalCancelled(payer, amount);
        return true;
    }

    /// @dev The checks every voucher passes: merchant, amount, signature. Returns its hash.
    function _checkVoucher(Voucher calldata v, bytes calldata signature) private view returns (bytes32 hash) {
        if (v.merchant == address(0)) revert MerchantZero();
        if (v.amount == 0) revert ZeroAmount();
        hash = _hashVoucher(v);
        if (!SignatureChecker.isValidSignatureNow(v.payer, hash, signature)) revert InvalidSignature(v.payer, hash);
    }

    /// @dev Reverts with `PayerIsCheater` if `payer` is flagged.
    function _checkNotCheater(address payer) private view {
        if (_cheaters[payer]) revert PayerIsCheater(payer);
    }

    /// @dev Reverts with `OnlySelf` unless the vault itself is calling.
    function _checkSelf() private view {
        if (msg.sender != address(this)) revert OnlySelf();
    }

    /// @dev The EIP-712 digest of `v` in this vault's domain.
    function _hashVoucher(Voucher calldata v) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(VOUCHER_TYPEHASH, v)));
    }
}
