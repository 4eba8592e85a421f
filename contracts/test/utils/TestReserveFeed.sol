// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AggregatorV3Interface} from "../../reserves/interfaces/AggregatorV3Interface.sol";

/// @title TestReserveFeed
/// @notice A test-only, settable Chainlink-compatible proof-of-reserve feed. Besides well-formed rounds it
///         can misbehave the ways a real feed might: revert, or return too little or out-of-range data.
/// @dev Never deploy outside tests: anyone can set its answer.
contract TestReserveFeed is AggregatorV3Interface {
    /// @notice How the feed answers calls.
    enum Mode {
        Normal,
        Revert,
        ShortData,
        WideDecimals,
        WideRoundId
    }

    /// @notice The current behaviour.
    Mode public mode;
    /// @notice The latest round.
    uint80 public roundId;
    /// @notice The latest answer.
    int256 public answer;
    /// @notice When the latest round started.
    uint256 public startedAt;
    /// @notice When the latest answer was updated.
    uint256 public updatedAt;
    /// @notice The round the latest answer was computed in.
    uint80 public answeredInRound;

    uint8 private _decimals;

    /// @notice The feed reverted because it was told to.
    error TestReserveFeedReverted();

    /// @param decimals_ The decimals of every answer.
    constructor(uint8 decimals_) {
        _decimals = decimals_;
    }

    /// @notice Publishes a well-formed round: `answer_` updated at `updatedAt_`, answered in its own round.
    /// @param answer_ The answer.
    /// @param updatedAt_ The update time.
    function setAnswer(int256 answer_, uint256 updatedAt_) external {
        roundId += 1;
        answer = answer_;
        startedAt = updatedAt_;
        updatedAt = updatedAt_;
        answeredInRound = roundId;
    }

    /// @notice Sets every field of the latest round.
    /// @param roundId_ The round.
    /// @param answer_ The answer.
    /// @param updatedAt_ The update time.
    /// @param answeredInRound_ The round the answer was computed in.
    function setRound(uint80 roundId_, int256 answer_, uint256 updatedAt_, uint80 answeredInRound_) external {
        roundId = roundId_;
        answer = answer_;
        startedAt = updatedAt_;
        updatedAt = updatedAt_;
        answeredInRound = answeredInRound_;
    }

    /// @notice Sets the decimals.
    /// @param decimals_ The decimals.
    function setDecimals(uint8 decimals_) external {
        _decimals = decimals_;
    }

    /// @notice Sets how the feed answers.
    /// @param mode_ The behaviour.
    function setMode(Mode mode_) external {
        mode = mode_;
    }

    /// @inheritdoc AggregatorV3Interface
    function decimals() external view returns (uint8) {
        if (mode == Mode.Revert) revert TestReserveFeedReverted();
        if (mode == Mode.WideDecimals) _returnWord(uint256(type(uint8).max) + 1);
        return _decimals;
    }

    /// @inheritdoc AggregatorV3Interface
    function description() external pure returns (string memory) {
        return "Test reserve feed";
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure returns (uint256) {
        return 1;
    }

    /// @inheritdoc AggregatorV3Interface
    function getRoundData(uint80 requestedRoundId) external view returns (uint80, int256, uint256, uint256, uint80) {
        if (requestedRoundId != roundId) revert TestReserveFeedReverted();
        return _latest();
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        if (mode == Mode.Revert) revert TestReserveFeedReverted();
        if (mode == Mode.ShortData) _returnWord(roundId);
        if (mode == Mode.WideRoundId) _returnRound(uint256(type(uint80).max) + 1);
        return _latest();
    }

    function _latest() private view returns (uint80, int256, uint256, uint256, uint80) {
        return (roundId, answer, startedAt, updatedAt, answeredInRound);
    }

    /// @dev Returns a single 32-byte word, whatever the function's declared return type.
    function _returnWord(uint256 word) private pure {
        assembly ("memory-safe") {
            mstore(0, word)
            return(0, 32)
        }
    }

    /// @dev Returns a full round whose round id and answered-in-round are `wideRoundId` (beyond 80 bits).
    function _returnRound(uint256 wideRoundId) private view {
        int256 answer_ = answer;
        uint256 updatedAt_ = updatedAt;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, wideRoundId)
            mstore(add(ptr, 0x20), answer_)
            mstore(add(ptr, 0x40), updatedAt_)
            mstore(add(ptr, 0x60), updatedAt_)
            mstore(add(ptr, 0x80), wideRoundId)
            return(ptr, 0xa0)
        }
    }
}
