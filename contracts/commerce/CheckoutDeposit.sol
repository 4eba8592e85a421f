// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title CheckoutDeposit
/// @notice The code behind every deposit address of a `Checkout`: an ERC-1167 clone per payment intent (CREATE2,
///         salt = the intent's id) that holds what a payer transferred to it until the checkout sweeps it.
/// @dev The checkout that deployed this implementation is immutable in its code, so every clone answers it
///      alone. A clone has no other function and no storage.
contract CheckoutDeposit {
    using SafeERC20 for IERC20;

    /// @notice Only the checkout sweeps.
    error CheckoutDepositNotCheckout(address caller);

    address private immutable _checkout;

    constructor() {
        _checkout = msg.sender;
    }

    /// @notice Sends this address's whole balance of `token` to `to`.
    /// @param token The token.
    /// @param to The recipient.
    /// @return amount What was sent (zero sends nothing).
    function sweep(IERC20 token, address to) external returns (uint256 amount) {
        if (msg.sender != _checkout) revert CheckoutDepositNotCheckout(msg.sender);
        amount = token.balanceOf(address(this));
        if (amount != 0) token.safeTransfer(to, amount);
    }
}
