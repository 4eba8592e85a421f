// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title OpenZeppelinERC20
/// @notice Benchmark reference only: OpenZeppelin's ERC-20 with EIP-2612, plus open mint and burn
///         wrappers so that the gas harness can measure the same operations on every token.
/// @dev Never deployed by the deploy scripts. Anyone may mint: it exists to be measured.
contract OpenZeppelinERC20 is ERC20, ERC20Permit {
    constructor() ERC20("OpenZeppelin Reference", "OZR") ERC20Permit("OpenZeppelin Reference") {}

    /// @notice Mints `amount` to `to` (benchmark wrapper, unrestricted).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Burns `amount` from the caller (benchmark wrapper).
    function burn(uint256 amount) external {
        _burn(msg.sender, amount);
    }
}
