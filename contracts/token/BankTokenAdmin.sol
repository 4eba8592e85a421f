// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRulesUpgradeable} from "@openzeppelin/contracts-upgradeable/access/extensions/AccessControlDefaultAdminRulesUpgradeable.sol";

import {IIssuanceGate} from "../reserves/interfaces/IIssuanceGate.sol";
import {IBankToken} from "./interfaces/IBankToken.sol";
import {BankTokenCore} from "./BankTokenCore.sol";
import {MinterWord, MinterWordLib} from "./MinterWord.sol";

/// @title BankTokenAdmin
/// @notice The cold administrative paths of `BankToken`: minters, pause, freeze, supply cap, issuance gate, rescue,
///         and the role and default-admin management of OpenZeppelin's `AccessControlDefaultAdminRules`.
/// @dev Kept out of the token's runtime code so that it stays well under EIP-170's 24,576 bytes. Each token
///      implementation deploys its own module in its constructor and forwards these calls to it by
///      `delegatecall`: the code here runs in the token proxy's storage, with the caller's `msg.sender`, and its
///      events are the token's. Both share `BankTokenCore`'s layout; OpenZeppelin's access-control state is in
///      its own ERC-7201 namespace, the same in both.
///
///      Called directly (not through a token), the module's own functions revert with
///      `BankTokenAdminNotDelegated`; the inherited role functions act on the module's own, empty, storage,
///      where no account holds a role and initialization is disabled, so they can change nothing of value.
contract BankTokenAdmin is BankTokenCore, AccessControlDefaultAdminRulesUpgradeable {
    using SafeERC20 for IERC20;

    /// @notice A module function was called directly instead of through a token's `delegatecall`.
    error BankTokenAdminNotDelegated();

    /// @dev This module's own address: code running at any other address runs by `delegatecall`.
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    address private immutable _self = address(this);

    /// @dev Only in a token's storage, never the module's own.
    modifier onlyDelegated() {
        if (address(this) == _self) revert BankTokenAdminNotDelegated();
        _;
    }

    /// @dev Locks the module's own storage: it is never initialized.
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    // ── minters (MINTER_ADMIN_ROLE) ──

    /// @notice See `IBankToken`.
    function configureMinter(address minter, uint256 allowance_) external onlyDelegated onlyRole(_MINTER_ADMIN_ROLE) {
        if (minter == address(0)) revert IBankToken.BankTokenZeroAddress();
        BankTokenStorage storage $ = _getBankTokenStorage();
        if ($.minters[minter].enabled()) revert IBankToken.BankTokenMinterAlreadyConfigured(minter);
        if (allowance_ > _MAX_MINTER_ALLOWANCE) {
            revert IBankToken.BankTokenMinterAllowanceTooLarge(minter, allowance_, _MAX_MINTER_ALLOWANCE);
        }
        $.minters[minter] = MinterWordLib.configured(allowance_, block.timestamp);
        emit IBankToken.MinterConfigured(minter, allowance_);
    }

    /// @notice See `IBankToken`.
    function increaseMinterAllowance(
        address minter,
        uint256 increase
    ) external onlyDelegated onlyRole(_MINTER_ADMIN_ROLE) {
        if (increase == 0) revert IBankToken.BankTokenZeroAmount();
        BankTokenStorage storage $ = _getBankTokenStorage();
        MinterWord word = _settledMinterWord($, minter);
        uint256 newAllowance = Math.saturatingAdd(word.allowance(), increase);
        if (newAllowance > _MAX_MINTER_ALLOWANCE) {
            revert IBankToken.BankTokenMinterAllowanceTooLarge(minter, newAllowance, _MAX_MINTER_ALLOWANCE);
        }
        $.minters[minter] = word.withAllowance(newAllowance);
        emit IBankToken.MinterAllowanceIncreased(minter, increase, newAllowance);
    }

    /// @notice See `IBankToken`.
    function decreaseMinterAllowance(
        address minter,
        uint256 decrease
    ) external onlyDelegated onlyRole(_MINTER_ADMIN_ROLE) {
        if (decrease == 0) revert IBankToken.BankTokenZeroAmount();
        BankTokenStorage storage $ = _getBankTokenStorage();
        MinterWord word = _settledMinterWord($, minter);
        uint256 allowance_ = word.allowance();
        if (decrease > allowance_) revert IBankToken.BankTokenMinterAllowanceUnderflow(minter, allowance_, decrease);
        // Cannot underflow: checked just above.
        unchecked {
            $.minters[minter] = word.withAllowance(allowance_ - decrease);
        }
        emit IBankToken.MinterAllowanceDecreased(minter, decrease, allowance_ - decrease);
    }

    /// @notice See `IBankToken`.
    function setMinterRateLimit(
        address minter,
        uint256 capacity,
        uint256 period
    ) external onlyDelegated onlyRole(_MINTER_ADMIN_ROLE) {
        if ((capacity == 0) != (period == 0) || period > type(uint32).max) {
            revert IBankToken.BankTokenInvalidRateLimit(capacity, period);
        }
        if (capacity > _MAX_MINTER_ALLOWANCE) {
            revert IBankToken.BankTokenMinterAllowanceTooLarge(minter, capacity, _MAX_MINTER_ALLOWANCE);
        }
        BankTokenStorage storage $ = _getBankTokenStorage();
        // Settle what accrued under the old setting, then restart the clock under the new one.
        MinterWord word = _settledMinterWord($, minter);
        $.minters[minter] = word.withRateLimit(capacity, period).withLastRefill(block.timestamp);
        emit IBankToken.MinterRateLimitConfigured(minter, capacity, period);
    }

    /// @notice See `IBankToken`.
    function removeMinter(address minter) external onlyDelegated onlyRole(_MINTER_ADMIN_ROLE) {
        BankTokenStorage storage $ = _getBankTokenStorage();
        if (!$.minters[minter].enabled()) revert IBankToken.BankTokenNotMinter(minter);
        $.minters[minter] = MinterWord.wrap(0);
        emit IBankToken.MinterRemoved(minter);
    }

    /// @notice See `IBankToken`.
    function pause() external onlyDelegated onlyRole(_PAUSER_ROLE) {
        _setPaused(true);
    }

    /// @notice See `IBankToken`.
    function unpause() external onlyDelegated onlyRole(_PAUSER_ROLE) {
        _setPaused(false);
    }

    /// @notice See `IBankToken`.
    /// @dev Works while paused. Freezing an already frozen account reverts with `BankTokenFrozen`.
    function freeze(address account) external onlyDelegated onlyRole(_COMPLIANCE_ROLE) {
        _setFrozen(account, true);
    }

    /// @notice See `IBankToken`.
    /// @dev Works while paused.
    function unfreeze(address account) external onlyDelegated onlyRole(_COMPLIANCE_ROLE) {
        _setFrozen(account, false);
    }

    /// @notice See `IBankToken`.
    function setSupplyCap(uint256 newCap) external onlyDelegated onlyRole(DEFAULT_ADMIN_ROLE) {
        _setSupplyCap(_getBankTokenStorage(), newCap);
    }

    /// @notice See `IBankToken`.
    function setIssuanceGate(IIssuanceGate newGate) external onlyDelegated onlyRole(DEFAULT_ADMIN_ROLE) {
        _setIssuanceGate(_getBankTokenStorage(), newGate);
    }

    /// @notice See `IBankToken`.
    /// @dev Rescuing this token itself moves the contract's own balance through a normal `transfer` (pause
    ///      and freeze apply).
    function rescueERC20(IERC20 token, address to, uint256 amount) external onlyDelegated onlyRole(_RESCUER_ROLE) {
        if (to == address(0)) revert IBankToken.BankTokenZeroAddress();
        token.safeTransfer(to, amount);
        emit IBankToken.Rescued(address(token), to, amount);
    }

    // ── wipes (COMPLIANCE_ROLE orders, MINTER_ADMIN_ROLE confirms) ──

    /// @notice See `IBankToken`.
    function wipeFrozen(
        address account,
        address issuer,
        bytes32 reasonCode
    ) external onlyDelegated onlyRole(_COMPLIANCE_ROLE) {
        if (account == address(0) || issuer == address(0)) revert IBankToken.BankTokenZeroAddress();
        BankTokenStorage storage $ = _getBankTokenStorage();
        if ($.accounts[account] & _FLAG == 0) revert IBankToken.BankTokenNotFrozen(account);
        $.wipes[account] = WipeOrder(issuer, reasonCode);
        emit IBankToken.FrozenBalanceWipeOrdered(account, issuer, reasonCode);
    }

    /// @notice See `IBankToken`.
    /// @dev The burn goes through `_update` like every balance change (pause check, supply, `Transfer`); the
    ///      frozen flag is lifted for exactly that call and set again right after, with no external call in
    ///      between, so no one can observe or use the account unfrozen. The gate is called last.
    function confirmWipe(address account, address issuer) external onlyDelegated onlyRole(_MINTER_ADMIN_ROLE) {
        BankTokenStorage storage $ = _getBankTokenStorage();
        WipeOrder memory order = $.wipes[account];
        if (order.issuer == address(0)) revert IBankToken.BankTokenNoWipeOrdered(account);
        if (order.issuer != issuer) revert IBankToken.BankTokenWipeIssuerMismatch(account, order.issuer, issuer);
        IIssuanceGate gate = _requireIssuanceGate();
        uint256 word = $.accounts[account];
        // An order lapses when its account is unfrozen (`unfreeze` deletes it), so the account is frozen here.
        delete $.wipes[account];
        uint256 amount = word & _MASK_128;
        $.accounts[account] = word ^ _FLAG;
        _update(account, address(0), amount);
        $.accounts[account] |= _FLAG;
        emit IBankToken.FrozenBalanceWiped(account, issuer, amount, order.reasonCode);
        gate.onWipe(issuer, amount);
    }

    /// @notice See `IBankToken`.
    function cancelWipe(address account) external onlyDelegated {
        if (!hasRole(_COMPLIANCE_ROLE, msg.sender) && !hasRole(_MINTER_ADMIN_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, _COMPLIANCE_ROLE);
        }
        BankTokenStorage storage $ = _getBankTokenStorage();
        if ($.wipes[account].issuer == address(0)) revert IBankToken.BankTokenNoWipeOrdered(account);
        delete $.wipes[account];
        emit IBankToken.FrozenBalanceWipeCanceled(account, msg.sender);
    }

    // ─────────────────────────────────────────── private ──────────────────────────────────────────────

    /// @dev Sets the pause flag (the reservoir word's top bit); reverts if it already has that value.
    function _setPaused(bool paused_) private {
        mapping(address => uint256) storage accounts = _getBankTokenStorage().accounts;
        uint256 word = accounts[address(0)];
        if ((word & _FLAG != 0) == paused_) {
            if (paused_) revert IBankToken.BankTokenPaused();
            revert IBankToken.BankTokenNotPaused();
        }
        accounts[address(0)] = word ^ _FLAG;
        if (paused_) emit IBankToken.Paused(msg.sender);
        else emit IBankToken.Unpaused(msg.sender);
    }

    /// @dev Sets the frozen flag of `account` (its account word's top bit); reverts if it already has that value.
    function _setFrozen(address account, bool frozen) private {
        if (account == address(0)) revert IBankToken.BankTokenZeroAddress();
        mapping(address => uint256) storage accounts = _getBankTokenStorage().accounts;
        uint256 word = accounts[account];
        if ((word & _FLAG != 0) == frozen) {
            if (frozen) revert IBankToken.BankTokenFrozen(account);
            revert IBankToken.BankTokenNotFrozen(account);
        }
        accounts[account] = word ^ _FLAG;
        if (frozen) {
            emit IBankToken.Frozen(account);
            return;
        }
        emit IBankToken.Unfrozen(account);
        // A wipe ordered while the account was frozen lapses with the freeze.
        BankTokenStorage storage $ = _getBankTokenStorage();
        if ($.wipes[account].issuer != address(0)) {
            delete $.wipes[account];
            emit IBankToken.FrozenBalanceWipeCanceled(account, msg.sender);
        }
    }
}
