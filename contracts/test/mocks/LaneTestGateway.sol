// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC7786GatewaySource, IERC7786Recipient} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";
import {InteroperableAddress} from "@openzeppelin/contracts/utils/draft-InteroperableAddress.sol";

import {IRefundableSender} from "../../interop/interfaces/IAttestedGateway.sol";

/// @dev A stand-in ERC-7786 gateway for the lane's unit tests: records what it is asked to send (with a made-up id),
///      and lets the test deliver any message (any sender) and call any refund, as a real gateway would after its
///      own checks. A second instance plays a rogue gateway.
contract LaneTestGateway is IERC7786GatewaySource {
    bytes4 public constant DEADLINE_ATTRIBUTE = bytes4(keccak256("deadline(uint64)"));

    error LaneTestGatewayBadAnswer(bytes4 answer);

    uint256 public sent;
    bytes32 public lastId;
    address public lastSender;
    bytes public lastRecipient;
    bytes public lastPayload;
    bytes[] internal _lastAttributes;

    function supportsAttribute(bytes4 selector) external pure returns (bool) {
        return selector == DEADLINE_ATTRIBUTE;
    }

    function sendMessage(
        bytes calldata recipient,
        bytes calldata payload,
        bytes[] calldata attributes
    ) external payable returns (bytes32 id) {
        id = keccak256(abi.encode(++sent, msg.sender, recipient, payload));
        lastId = id;
        lastSender = msg.sender;
        lastRecipient = recipient;
        lastPayload = payload;
        delete _lastAttributes;
        for (uint256 i; i < attributes.length; ++i) _lastAttributes.push(attributes[i]);
        emit MessageSent(
            id,
            InteroperableAddress.formatEvmV1(block.chainid, msg.sender),
            recipient,
            payload,
            msg.value,
            attributes
        );
    }

    function lastAttributes() external view returns (bytes[] memory) {
        return _lastAttributes;
    }

    /// @dev Calls `recipient.receiveMessage` as the gateway; reverts with the recipient's error.
    function deliver(address recipient, bytes32 id, bytes calldata sender, bytes calldata payload) external {
        bytes4 answer = IERC7786Recipient(recipient).receiveMessage(id, sender, payload);
        if (answer != IERC7786Recipient.receiveMessage.selector) revert LaneTestGatewayBadAnswer(answer);
    }

    /// @dev Calls `sender.onMessageRefunded` as the gateway, for a message that was sent to `destinationChainId`.
    function refund(address sender, bytes32 id, uint256 destinationChainId, bytes calldata payload) external {
        IRefundableSender(sender).onMessageRefunded(id, destinationChainId, payload);
    }
}
