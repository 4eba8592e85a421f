// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockERC20
/// @notice Test-only plain ERC-20 with two decimals (cents) and a public mint, standing in for `BankToken`.
contract MockERC20 is ERC20 {
    constructor() ERC20("Mock Bank Token", "MBT") {}

    /// @notice Mints `amount` to `to`; anyone may call (tests only).
    /// @param to The recipient.
    /// @param amount The amount.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 2;
    }
}
