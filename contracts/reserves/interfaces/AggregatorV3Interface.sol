// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title AggregatorV3Interface
/// @notice The read interface of a Chainlink-compatible data feed, as used by proof-of-reserve feeds:
///         the answer is the custodian's reported reserve, scaled by `10 ** decimals()`.
/// @dev Written for this project to match Chainlink's `AggregatorV3Interface` ABI exactly, so any
///      Chainlink proof-of-reserve feed (or its aggregator proxy) can be configured as a reserve source.
// Chainlink's name, kept so that integrators recognise the interface.
// solhint-disable-next-line interface-starts-with-i
interface AggregatorV3Interface {
    /// @notice The number of decimals of every answer (an answer of 12345 with 2 decimals means 123.45).
    /// @return The answer's decimals.
    function decimals() external view returns (uint8);

    /// @notice A human-readable description of what the feed reports.
    /// @return The description.
    function description() external view returns (string memory);

    /// @notice The version of the aggregator behind the feed.
    /// @return The version number.
    function version() external view returns (uint256);

    /// @notice The data of one past round.
    /// @param requestedRoundId The round to read.
    /// @return roundId The round read.
    /// @return answer The answer of that round, scaled by `10 ** decimals()`.
    /// @return startedAt When the round started (seconds since the epoch).
    /// @return updatedAt When the answer was last updated (seconds since the epoch); 0 if the round is incomplete.
    /// @return answeredInRound The round in which the answer was computed.
    function getRoundData(
        uint80 requestedRoundId
    )
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    /// @notice The data of the latest round.
    /// @return roundId The latest round.
    /// @return answer The latest answer, scaled by `10 ** decimals()`.
    /// @return startedAt When the round started (seconds since the epoch).
    /// @return updatedAt When the answer was last updated (seconds since the epoch); 0 if the round is incomplete.
    /// @return answeredInRound The round in which the answer was computed.
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
