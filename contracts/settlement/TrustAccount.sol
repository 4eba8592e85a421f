// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {ITrustAccount} from "./interfaces/ITrustAccount.sol";
import {ITrustAccountToken} from "./interfaces/ITrustAccountToken.sol";

/// @title TrustAccount
/// @notice A bank's on-chain side of its fiat trust account: mints on fiat deposits, holds tokens handed in
///         for redemption, and burns them once the fiat is paid out ("smelt") or returns them if it is not.
/// @dev Roles:
///      - `DEFAULT_ADMIN_ROLE` (one holder, handed over in two steps after a delay): grants and revokes roles.
///      - `DEPOSITOR_ROLE` (the bank's agent): `mintForDeposit`.
///      - `OPERATOR_ROLE` (the bank's agent or payments desk): `confirmRedemption`, `rejectRedemption`.
///      - `SETTLEMENT_ROLE` (the `InterbankSettlement` contract): `mintForSettlement`, `burnForSettlement`.
///      Anyone holding tokens may `requestRedemption`.
///
///      Set-up: the trust account must be a minter of the token (`BankToken.configureMinter`, with an
///      allowance) and a registered issuer of the token's `ReserveLedger`; its outstanding issuance there grows
///      with `mintForDeposit` and shrinks with `confirmRedemption`.
///
///      Every token movement runs under a reentrancy guard, after the state it depends on is written (checks,
///      effects, interactions). The held balance is tracked in `heldForRedemptions`; tokens sent to the trust
///      account directly, outside `requestRedemption`, are not part of it and stay where they are.
contract TrustAccount is ITrustAccount, AccessControlDefaultAdminRules, ReentrancyGuardTransient {
    using SafeERC20 for ITrustAccountToken;

    /// @notice Records fiat deposits and mints for them.
    bytes32 public constant DEPOSITOR_ROLE = keccak256("DEPOSITOR_ROLE");
    /// @notice Settles redemptions: confirms payouts (burn) or rejects them (return).
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    /// @notice Mints into and burns from the interbank settlement contract for payments of this bank.
    bytes32 public constant SETTLEMENT_ROLE = keccak256("SETTLEMENT_ROLE");

    ITrustAccountToken private immutable _token;

    uint256 private _lastRedemptionId;
    uint256 private _heldForRedemptions;
    mapping(uint256 id => Redemption) private _redemptions;
    mapping(bytes32 fiatRef => bool) private _usedFiatRefs;

    /// @param initialAdmin The single holder of `DEFAULT_ADMIN_ROLE`.
    /// @param initialAdminDelay The delay, in seconds, before a default admin handover can be accepted.
    /// @param token_ The bank token (its proxy) this trust account mints and burns.
    constructor(
        address initialAdmin,
        uint48 initialAdminDelay,
        ITrustAccountToken token_
    ) AccessControlDefaultAdminRules(initialAdminDelay, initialAdmin) {
        if (address(token_) == address(0)) revert TrustAccountInvalidToken(address(token_));
        _token = token_;
    }

    /// @inheritdoc ITrustAccount
    function mintForDeposit(
        address to,
        uint256 amount,
        bytes32 fiatRef
    ) external onlyRole(DEPOSITOR_ROLE) nonReentrant {
        if (to == address(0)) revert TrustAccountInvalidRecipient(to);
        if (amount == 0) revert TrustAccountZeroAmount();
        _useFiatRef(fiatRef);
        emit DepositMinted(fiatRef, to, amount);
        _token.mint(to, amount, fiatRef);
    }

    /// @inheritdoc ITrustAccount
    /// @dev Emits no event of its own and writes no state: the token's `Mint(this, settlement, amount,
    ///      settlementId)` and the settlement's `SettlementInitiated` report it. This is on the payment's hot path.
    function mintForSettlement(uint256 amount, bytes32 settlementId) external onlyRole(SETTLEMENT_ROLE) nonReentrant {
        _token.mint(msg.sender, amount, settlementId);
    }

    /// @inheritdoc ITrustAccount
    /// @dev The tokens are pulled, not assumed: the trust account burns only what it received in this call, never
    ///      tokens it holds for redemptions.
    function burnForSettlement(uint256 amount, bytes32 fiatRef) external onlyRole(SETTLEMENT_ROLE) nonReentrant {
        if (amount == 0) revert TrustAccountZeroAmount();
        _useFiatRef(fiatRef);
        emit SettlementBurned(fiatRef, msg.sender, amount);
        _token.safeTransferFrom(msg.sender, address(this), amount);
        _token.burn(amount, fiatRef);
    }

    /// @inheritdoc ITrustAccount
    function requestRedemption(uint256 amount, bytes32 accountRef) external nonReentrant returns (uint256 id) {
        return _requestRedemption(amount, accountRef);
    }

    /// @inheritdoc ITrustAccount
    function requestRedemptionWithPermit(
        uint256 amount,
        bytes32 accountRef,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant returns (uint256 id) {
        // A failed permit (typically front-run by someone submitting the same signature) is not fatal: the
        // transfer below still needs the allowance and reverts without it.
        try _token.permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        return _requestRedemption(amount, accountRef);
    }

    /// @inheritdoc ITrustAccount
    function confirmRedemption(uint256 id, bytes32 fiatRef) external onlyRole(OPERATOR_ROLE) nonReentrant {
        Redemption storage redemption_ = _requestedRedemption(id);
        _useFiatRef(fiatRef);
        uint256 amount = _settle(redemption_, RedemptionState.Paid, fiatRef);
        emit RedemptionPaid(id, redemption_.holder, fiatRef, amount);
        _token.burn(amount, fiatRef);
    }

    /// @inheritdoc ITrustAccount
    function rejectRedemption(uint256 id, bytes32 reasonCode) external onlyRole(OPERATOR_ROLE) nonReentrant {
        Redemption storage redemption_ = _requestedRedemption(id);
        if (reasonCode == bytes32(0)) revert TrustAccountZeroReasonCode();
        uint256 amount = _settle(redemption_, RedemptionState.Rejected, reasonCode);
        address holder = redemption_.holder;
        emit RedemptionRejected(id, holder, reasonCode, amount);
        _token.safeTransfer(holder, amount);
    }

    /// @inheritdoc ITrustAccount
    function token() external view returns (ITrustAccountToken) {
        return _token;
    }

    /// @inheritdoc ITrustAccount
    function redemption(uint256 id) external view returns (Redemption memory) {
        return _redemptions[id];
    }

    /// @inheritdoc ITrustAccount
    function redemptionState(uint256 id) external view returns (RedemptionState) {
        return _redemptions[id].state;
    }

    /// @inheritdoc ITrustAccount
    function lastRedemptionId() external view returns (uint256) {
        return _lastRedemptionId;
    }

    /// @inheritdoc ITrustAccount
    function heldForRedemptions() external view returns (uint256) {
        return _heldForRedemptions;
    }

    /// @inheritdoc ITrustAccount
    function isFiatRefUsed(bytes32 fiatRef) external view returns (bool) {
        return _usedFiatRefs[fiatRef];
    }

    /// @dev Records a redemption of `amount` for the caller and pulls the tokens in.
    function _requestRedemption(uint256 amount, bytes32 accountRef) private returns (uint256 id) {
        if (amount == 0) revert TrustAccountZeroAmount();
        if (accountRef == bytes32(0)) revert TrustAccountZeroAccountRef();
        id = ++_lastRedemptionId;
        _redemptions[id] = Redemption({
            holder: msg.sender,
            amount: SafeCast.toUint96(amount),
            state: RedemptionState.Requested,
            requestedAt: SafeCast.toUint40(block.timestamp),
            settledAt: 0,
            accountRef: accountRef,
            settlementRef: bytes32(0)
        });
        _heldForRedemptions += amount;
        emit RedemptionRequested(id, msg.sender, amount, accountRef);
        _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @dev Moves a requested redemption to its final `state`, recording `ref`; returns the amount it held.
    function _settle(Redemption storage redemption_, RedemptionState state, bytes32 ref) private returns (uint256) {
        uint256 amount = redemption_.amount;
        redemption_.state = state;
        redemption_.settledAt = SafeCast.toUint40(block.timestamp);
        redemption_.settlementRef = ref;
        // Cannot underflow: the amount was added when the redemption was requested and is removed only once.
        unchecked {
            _heldForRedemptions -= amount;
        }
        return amount;
    }

    /// @dev Marks `fiatRef` used; reverts if it is zero or was used before.
    function _useFiatRef(bytes32 fiatRef) private {
        if (fiatRef == bytes32(0)) revert TrustAccountZeroFiatRef();
        if (_usedFiatRefs[fiatRef]) revert TrustAccountFiatRefUsed(fiatRef);
        _usedFiatRefs[fiatRef] = true;
    }

    /// @dev The storage of redemption `id`; reverts unless it is `Requested`.
    function _requestedRedemption(uint256 id) private view returns (Redemption storage redemption_) {
        redemption_ = _redemptions[id];
        RedemptionState current = redemption_.state;
        if (current != RedemptionState.Requested) {
            revert TrustAccountInvalidRedemptionState(id, current, RedemptionState.Requested);
        }
    }
}
