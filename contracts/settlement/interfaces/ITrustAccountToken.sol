// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";

/// @title ITrustAccountToken
/// @notice What a `TrustAccount` needs from its `BankToken`: ERC-20, EIP-2612 `permit`, and the minter's
///         `mint` and `burn`. A subset of `IBankToken`, kept here so that the settlement part depends only on
///         the calls it makes.
interface ITrustAccountToken is IERC20, IERC20Permit {
    /// @notice Mints `amount` to `to` against the fiat reference `fiatRef`; the caller must be a minter. The token
    ///         calls its issuance gate's `onMint(msg.sender, amount)`, which may revert.
    /// @param to The recipient.
    /// @param amount The minor units to mint.
    /// @param fiatRef The reference of the fiat movement behind the mint.
    function mint(address to, uint256 amount, bytes32 fiatRef) external;

    /// @notice Burns `amount` of the calling minter's own balance against the fiat reference `fiatRef`. The
    ///         token calls its issuance gate's `onBurn(msg.sender, amount)`, which may revert.
    /// @param amount The minor units to burn.
    /// @param fiatRef The reference of the fiat redemption behind the burn.
    function burn(uint256 amount, bytes32 fiatRef) external;
}
