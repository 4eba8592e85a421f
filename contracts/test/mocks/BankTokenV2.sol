// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BankToken} from "../../token/BankToken.sol";

/// @title BankTokenV2
/// @notice Test-only second implementation of `BankToken`, used to prove that an upgrade through the proxy
///         keeps every balance, allowance, role and setting (same ERC-7201 namespace, new code).
contract BankTokenV2 is BankToken {
    /// @notice The implementation's version, which V1 does not have.
    function version() external pure returns (string memory) {
        return "2";
    }
}
