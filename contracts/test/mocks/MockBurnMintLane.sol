// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {InteroperableAddress} from "@openzeppelin/contracts/utils/draft-InteroperableAddress.sol";

import {BridgeRegistry} from "../../interop/BridgeRegistry.sol";
import {IBurnMintLane} from "../../interop/interfaces/IBurnMintLane.sol";

/// @title MockBurnMintLane
/// @notice Test double of a lane for the InteropGateway tests: records each `crosschainTransferFor`, consumes the
///         route's outbound limit as the real lane does (so the BridgeRegistry's limit errors surface), and pulls
///         the tokens from the caller with `transferFrom`. It burns nothing and sends no message. It can be told to
///         pull less than `amount`, nothing or more, to stand in for a faulty lane.
contract MockBurnMintLane is IBurnMintLane {
    /// @notice How much of `amount` the lane pulls.
    enum Pull {
        All,
        Less,
        Nothing,
        More
    }

    address public immutable token;
    address public immutable gateway;
    address public immutable bridgeRegistry;

    Pull public pull;
    uint256 public calls;
    address public lastCaller;
    address public lastFrom;
    bytes public lastTo;
    uint256 public lastAmount;
    uint64 public lastDeadline;

    /// @param token_ The token the lane carries.
    /// @param bridgeRegistry_ The registry whose outbound limit it consumes.
    constructor(address token_, address bridgeRegistry_) {
        token = token_;
        gateway = address(0);
        bridgeRegistry = bridgeRegistry_;
    }

    /// @notice Sets how much of each transfer's amount the lane pulls.
    function setPull(Pull pull_) external {
        pull = pull_;
    }

    /// @inheritdoc IBurnMintLane
    function crosschainTransfer(bytes calldata to, uint256 amount, uint64 deadline) external returns (bytes32) {
        return _send(msg.sender, to, amount, deadline);
    }

    /// @inheritdoc IBurnMintLane
    function crosschainTransferFor(
        address from,
        bytes calldata to,
        uint256 amount,
        uint64 deadline
    ) external returns (bytes32) {
        return _send(from, to, amount, deadline);
    }

    function _send(address from, bytes calldata to, uint256 amount, uint64 deadline) private returns (bytes32) {
        if (deadline <= block.timestamp) revert BurnMintLaneBadDeadline(deadline);
        (uint256 destinationChainId, ) = InteroperableAddress.parseEvmV1Calldata(to);
        BridgeRegistry registry = BridgeRegistry(bridgeRegistry);
        registry.consumeOutbound(registry.routeKey(block.chainid, destinationChainId, token), amount);
        ++calls;
        lastCaller = msg.sender;
        lastFrom = from;
        lastTo = to;
        lastAmount = amount;
        lastDeadline = deadline;
        uint256 pulled =
            pull == Pull.All
                ? amount
                : pull == Pull.Less
                    ? amount - 1
                    : pull == Pull.More
                        ? amount + 1
                        : 0;
        if (pulled != 0) IERC20(token).transferFrom(msg.sender, address(this), pulled);
        return keccak256(abi.encode(address(this), calls));
    }
}
