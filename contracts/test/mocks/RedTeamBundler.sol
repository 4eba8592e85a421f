// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IBurnMintLane} from "../../interop/interfaces/IBurnMintLane.sol";
import {IInteropGateway} from "../../interop/interfaces/IInteropGateway.sol";

/// @dev Red team: front-runs a user's signed CrossChain payload on chain and, in the same transaction, sends its own
///      lane message, so the receipt of the user's execution holds two `MessagePosted` logs, the attacker's last.
contract RedTeamBundler {
    function executeThenSend(
        IInteropGateway gateway,
        IInteropGateway.Payload calldata payload,
        address signer,
        bytes calldata signature,
        IERC20 token,
        IBurnMintLane lane,
        bytes calldata to,
        uint256 amount
    ) external {
        gateway.execute(payload, signer, signature);
        token.transferFrom(msg.sender, address(this), amount);
        token.approve(address(lane), amount);
        lane.crosschainTransfer(to, amount, 0);
    }
}
