// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC7786Recipient} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";

/// @dev An ERC-7786 recipient that records every message it receives. Optionally, while receiving, it makes one call
///      (`setReentry`), e.g. back into the gateway, and records whether that call succeeded and what it returned;
///      it still accepts the message either way.
contract RecordingRecipient is IERC7786Recipient {
    struct Received {
        address gateway;
        bytes32 receiveId;
        bytes sender;
        bytes payload;
    }

    Received[] private _received;
    address private _reentryTarget;
    bytes private _reentryData;
    bool public reentrySucceeded;
    bytes public reentryResult;

    function setReentry(address target, bytes calldata data) external {
        _reentryTarget = target;
        _reentryData = data;
    }

    function receiveMessage(
        bytes32 receiveId,
        bytes calldata sender,
        bytes calldata payload
    ) external payable returns (bytes4) {
        _received.push(Received(msg.sender, receiveId, sender, payload));
        address target = _reentryTarget;
        if (target != address(0)) {
            _reentryTarget = address(0);
            // solhint-disable-next-line avoid-low-level-calls
            (reentrySucceeded, reentryResult) = target.call(_reentryData);
        }
        return IERC7786Recipient.receiveMessage.selector;
    }

    function count() external view returns (uint256) {
        return _received.length;
    }

    function received(uint256 index) external view returns (Received memory) {
        return _received[index];
    }
}
