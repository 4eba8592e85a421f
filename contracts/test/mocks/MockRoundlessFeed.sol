// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title MockRoundlessFeed
/// @notice Test-only price feed whose `getRoundData` reverts for every round (as a Chainlink proxy does for a
///         round it has no data of) while `latestRoundData` answers round 1: the checkout must call such a round
///         unknown.
contract MockRoundlessFeed is AggregatorV3Interface {
    /// @notice A round this feed has no data of.
    error MockRoundlessFeedNoData(uint80 roundId);

    /// @inheritdoc AggregatorV3Interface
    uint8 public immutable decimals;
    int256 private immutable _answer;
    uint256 private immutable _updatedAt;

    /// @param decimals_ The answers' decimals.
    /// @param answer The latest answer, posted now.
    constructor(uint8 decimals_, int256 answer) {
        decimals = decimals_;
        _answer = answer;
        _updatedAt = block.timestamp;
    }

    /// @inheritdoc AggregatorV3Interface
    function description() external pure returns (string memory) {
        return "roundless";
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure returns (uint256) {
        return 1;
    }

    /// @notice Reverts: no round is readable.
    /// @param roundId The round asked for.
    function getRoundData(uint80 roundId) external pure returns (uint80, int256, uint256, uint256, uint80) {
        revert MockRoundlessFeedNoData(roundId);
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return (1, _answer, _updatedAt, _updatedAt, 1);
    }
}
