// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC7786GatewaySource} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";

import {IRefundableSender} from "../../interop/interfaces/IAttestedGateway.sol";

/// @dev A sender that records refunds. It can be told to refuse a refund (revert), or to call back into the gateway
///      while being refunded (recording whether that call succeeded), to test the gateway's guards.
contract RefundableSender is IRefundableSender {
    IERC7786GatewaySource public immutable gateway;
    uint256 public refunds;
    bytes32 public lastRefundedId;
    bytes public lastRefundedPayload;
    bool public refuse;
    address private _reentryTarget;
    bytes private _reentryData;
    bool public reentrySucceeded;
    bytes public reentryResult;

    error RefundRefused(bytes32 messageId);
    error NotGateway(address caller);

    constructor(IERC7786GatewaySource gateway_) {
        gateway = gateway_;
    }

    function setRefuse(bool refuse_) external {
        refuse = refuse_;
    }

    function setReentry(address target, bytes calldata data) external {
        _reentryTarget = target;
        _reentryData = data;
    }

    function post(
        bytes calldata recipient,
        bytes calldata payload,
        bytes[] calldata attributes
    ) external returns (bytes32) {
        return gateway.sendMessage(recipient, payload, attributes);
    }

    function onMessageRefunded(bytes32 messageId, uint256, bytes calldata payload) external {
        if (msg.sender != address(gateway)) revert NotGateway(msg.sender);
        if (refuse) revert RefundRefused(messageId);
        ++refunds;
        lastRefundedId = messageId;
        lastRefundedPayload = payload;
        address target = _reentryTarget;
        if (target != address(0)) {
            _reentryTarget = address(0);
            // solhint-disable-next-line avoid-low-level-calls
            (reentrySucceeded, reentryResult) = target.call(_reentryData);
        }
    }
}
