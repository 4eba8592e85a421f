// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @dev One minter's configuration and state packed in one storage word, lowest bits first:
///      `uint88 allowance | uint88 capacity | uint32 period | uint40 lastRefill | 7 zero bits | bool enabled`.
///      `capacity` and `period` are the rate limit (both zero: none); `lastRefill` is when the allowance last
///      refilled; `enabled` is bit 255, so a minter check is one `SLOAD` and a sign test.
type MinterWord is uint256;

using MinterWordLib for MinterWord global;

/// @title MinterWordLib
/// @notice Getters and setters for the fields of a `MinterWord` (the style of `ReserveLedger`'s `IssuerWordLib`).
/// @dev Setters mask the new value to its field's width so that a neighbouring field can never be corrupted;
///      callers check the range first (a custom error beats silent truncation).
library MinterWordLib {
    uint256 private constant _MASK_88 = type(uint88).max;
    uint256 private constant _MASK_40 = type(uint40).max;
    uint256 private constant _MASK_32 = type(uint32).max;
    uint256 private constant _CAPACITY_SHIFT = 88;
    uint256 private constant _PERIOD_SHIFT = 176;
    uint256 private constant _LAST_REFILL_SHIFT = 208;
    uint256 private constant _ENABLED = 1 << 255;

    /// @dev A newly configured minter: enabled, `allowance_`, no rate limit, refilled as of `now_`.
    function configured(uint256 allowance_, uint256 now_) internal pure returns (MinterWord) {
        return MinterWord.wrap(_ENABLED).withAllowance(allowance_).withLastRefill(now_);
    }

    /// @dev Whether the minter is configured.
    function enabled(MinterWord w) internal pure returns (bool) {
        return MinterWord.unwrap(w) & _ENABLED != 0;
    }

    /// @dev What the minter may still mint, before any refill accrued since `lastRefill`.
    function allowance(MinterWord w) internal pure returns (uint256) {
        return MinterWord.unwrap(w) & _MASK_88;
    }

    /// @dev The rate limit's capacity (0: none).
    function capacity(MinterWord w) internal pure returns (uint256) {
        return (MinterWord.unwrap(w) >> _CAPACITY_SHIFT) & _MASK_88;
    }

    /// @dev The rate limit's period, in seconds, over which `capacity` refills (0: none).
    function period(MinterWord w) internal pure returns (uint256) {
        return (MinterWord.unwrap(w) >> _PERIOD_SHIFT) & _MASK_32;
    }

    /// @dev When the allowance last refilled.
    function lastRefill(MinterWord w) internal pure returns (uint256) {
        return (MinterWord.unwrap(w) >> _LAST_REFILL_SHIFT) & _MASK_40;
    }

    /// @dev `w` with its allowance replaced.
    function withAllowance(MinterWord w, uint256 value) internal pure returns (MinterWord) {
        return _set(w, 0, _MASK_88, value);
    }

    /// @dev `w` with `amount` taken off its allowance. The caller checks `amount <= allowance(w)`, so nothing borrows
    ///      from the next field (a subtraction, cheaper than a masked set on the mint path).
    function withAllowanceSpent(MinterWord w, uint256 amount) internal pure returns (MinterWord) {
        // Cannot borrow: `amount <= allowance(w)`, the low 88 bits (the caller's check).
        unchecked {
            return MinterWord.wrap(MinterWord.unwrap(w) - amount);
        }
    }

    /// @dev `w` with its rate limit replaced.
    function withRateLimit(MinterWord w, uint256 capacity_, uint256 period_) internal pure returns (MinterWord) {
        return _set(_set(w, _CAPACITY_SHIFT, _MASK_88, capacity_), _PERIOD_SHIFT, _MASK_32, period_);
    }

    /// @dev `w` with its last refill time replaced.
    function withLastRefill(MinterWord w, uint256 value) internal pure returns (MinterWord) {
        return _set(w, _LAST_REFILL_SHIFT, _MASK_40, value);
    }

    /// @dev `w` with the field at `shift` (of width `mask`) replaced by `value`, masked to the field.
    function _set(MinterWord w, uint256 shift, uint256 mask, uint256 value) private pure returns (MinterWord) {
        return MinterWord.wrap((MinterWord.unwrap(w) & ~(mask << shift)) | ((value & mask) << shift));
    }
}
