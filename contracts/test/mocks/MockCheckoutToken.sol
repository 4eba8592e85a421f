// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @title MockCheckoutToken
/// @notice Test-only ERC-20 with chosen decimals and an optional fee on transfer (burnt from what the recipient
///         gets), with a public mint: an 18-decimal "WETH" for the checkout's second feed orientation, and a
///         fee-on-transfer token the checkout must refuse. It can also call out once in its next transfer (a hook,
///         as ERC-777 tokens have), to try reentering the checkout.
contract MockCheckoutToken is ERC20 {
    uint8 private immutable _decimals;
    uint16 private immutable _feeBps;
    address private _hookTarget;
    bytes private _hookData;

    /// @param decimals_ The decimals.
    /// @param feeBps_ The fee burnt on each transfer, in basis points of the amount (rounded up).
    constructor(uint8 decimals_, uint16 feeBps_) ERC20("Mock Checkout Token", "MCT") {
        _decimals = decimals_;
        _feeBps = feeBps_;
    }

    /// @notice Mints `amount` to `to`; anyone may call (tests only).
    /// @param to The recipient.
    /// @param amount The amount.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice The next transfer first calls `target` with `data` (once), bubbling up a revert.
    /// @param target The contract to call.
    /// @param data The call.
    function setHook(address target, bytes calldata data) external {
        (_hookTarget, _hookData) = (target, data);
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @dev A transfer between two accounts burns its fee from the amount moved.
    function _update(address from, address to, uint256 value) internal override {
        address target = _hookTarget;
        if (target != address(0)) {
            bytes memory data = _hookData;
            delete _hookTarget;
            delete _hookData;
            Address.functionCall(target, data);
        }
        if (_feeBps == 0 || from == address(0) || to == address(0)) return super._update(from, to, value);
        uint256 fee = (value * _feeBps + 9_999) / 10_000;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}
