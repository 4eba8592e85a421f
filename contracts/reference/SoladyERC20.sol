// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "solady/src/tokens/ERC20.sol";

/// @title SoladyERC20
/// @notice Benchmark reference only: Solady's ERC-20 (with its built-in EIP-2612), plus open mint
///         and burn wrappers so that the gas harness can measure the same operations on every token.
/// @dev Never deployed by the deploy scripts. Anyone may mint: it exists to be measured.
contract SoladyERC20 is ERC20 {
    /// @inheritdoc ERC20
    function name() public pure override returns (string memory) {
        return "Solady Reference";
    }

    /// @inheritdoc ERC20
    function symbol() public pure override returns (string memory) {
        return "SLR";
    }

    /// @notice Mints `amount` to `to` (benchmark wrapper, unrestricted).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Burns `amount` from the caller (benchmark wrapper).
    function burn(uint256 amount) external {
        _burn(msg.sender, amount);
    }
}
