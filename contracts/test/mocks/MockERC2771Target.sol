// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @title MockERC2771Target
/// @notice An allow-listed call target for the InteropGateway tests: trusts the gateway as its ERC-2771 forwarder
///         and records the sender it reads from the appended 20 bytes.
contract MockERC2771Target is ERC2771Context {
    uint256 public calls;
    address public lastSender;
    uint256 public lastValue;
    mapping(uint256 slot => uint256) public scratch;

    /// @notice Emitted by `record`.
    event Recorded(address indexed sender, uint256 value);

    /// @notice `refuse` always reverts with this.
    error MockERC2771TargetRefused(address sender);

    /// @param forwarder The trusted forwarder (the InteropGateway).
    constructor(address forwarder) ERC2771Context(forwarder) {}

    /// @notice Records the ERC-2771 sender and `value`.
    function record(uint256 value) external {
        ++calls;
        lastSender = _msgSender();
        lastValue = value;
        emit Recorded(_msgSender(), value);
    }

    /// @notice Records the sender after writing `slots` fresh storage slots (about 22,000 gas each): a call
    ///      heavy enough that the 1/64 of gas the caller keeps would let it go on after this call ran out of gas.
    function work(uint256 slots) external {
        for (uint256 i; i < slots; ++i) scratch[i] = i + 1;
        ++calls;
        lastSender = _msgSender();
    }

    /// @notice Always reverts with the sender it read.
    function refuse(uint256) external view {
        revert MockERC2771TargetRefused(_msgSender());
    }

    /// @notice Takes `amount` of `token` from the ERC-2771 sender (who approved this target), as a dapp would.
    function pull(IERC20 token, uint256 amount) external {
        ++calls;
        lastSender = _msgSender();
        token.transferFrom(_msgSender(), address(this), amount);
    }

    /// @notice Calls `to` with `data` and bubbles any revert (for the reentrancy test).
    function forward(address to, bytes calldata data) external {
        Address.functionCall(to, data);
    }
}
