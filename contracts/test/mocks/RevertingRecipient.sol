// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC7786Recipient} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";

/// @dev An ERC-7786 recipient that fails in a chosen way, or accepts once switched to `Accept` (to test retries).
contract RevertingRecipient is IERC7786Recipient {
    enum Mode {
        Revert, // reverts `Refused(receiveId)`
        WrongSelector, // returns without error but not the selector
        NoReturn, // returns nothing
        BurnGas, // spends all the gas it gets
        NeedsGas, // reverts unless it was given at least `gasNeeded`
        HugeRevert, // reverts with 500,000 zero bytes
        Accept // accepts
    }

    Mode public mode;
    uint256 public gasNeeded;
    uint256 public accepted;

    error Refused(bytes32 receiveId);

    constructor(Mode mode_) {
        mode = mode_;
    }

    function setMode(Mode mode_) external {
        mode = mode_;
    }

    function setGasNeeded(uint256 gasNeeded_) external {
        gasNeeded = gasNeeded_;
    }

    function receiveMessage(bytes32 receiveId, bytes calldata, bytes calldata) external payable returns (bytes4) {
        Mode current = mode;
        if (current == Mode.Revert) revert Refused(receiveId);
        if (current == Mode.WrongSelector) return bytes4(0xdeadbeef);
        if (current == Mode.NoReturn) {
            assembly ("memory-safe") {
                return(0, 0)
            }
        }
        if (current == Mode.BurnGas) {
            assembly ("memory-safe") {
                invalid()
            }
        }
        if (current == Mode.NeedsGas) {
            if (gasleft() < gasNeeded) revert Refused(receiveId);
        }
        if (current == Mode.HugeRevert) {
            assembly ("memory-safe") {
                revert(0x10000, 500000)
            }
        }
        ++accepted;
        return IERC7786Recipient.receiveMessage.selector;
    }
}
