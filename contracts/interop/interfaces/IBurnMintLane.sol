// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IBurnMintLane
/// @notice Moves one BankToken between chains: burned here (the lane takes the tokens and burns them as a minter,
///         so the ReserveLedger records them as exported), minted by the counterpart lane on the destination (as
///         imported) once the AttestedGateway delivers the message. Built on OpenZeppelin's `BridgeFungible`
///         (`CrosschainLinked`, `ERC7786Recipient`): the payload is `abi.encode(bytes from, bytes to, uint256
///         amount)` with ERC-7930 addresses. Each transfer consumes the route's outbound limit on the source and its
///         inbound limit on the destination (BridgeRegistry). An expired message is refunded by minting back to the
///         sender.
interface IBurnMintLane {
    error BurnMintLaneZeroAddress();
    error BurnMintLaneZeroAmount();
    error BurnMintLaneBadDeadline(uint64 deadline);
    error BurnMintLaneUnknownDestination(uint256 chainId);
    error BurnMintLaneNotGateway(address caller);
    /// @notice `to` is not a canonical ERC-7930 EVM address (chain reference without leading zero bytes, a 20-byte
    ///         address, nothing after it).
    error BurnMintLaneBadRecipient(bytes to);

    /// @notice A transfer's tokens were minted back to its sender after it expired.
    event CrosschainTransferRefunded(bytes32 indexed sendId, address indexed from, uint256 amount);

    /// @notice Sends `amount` of the caller's tokens to `to` (an ERC-7930 address on another chain), deliverable
    ///         until `deadline`. The caller must have approved the lane. Returns the message id.
    function crosschainTransfer(bytes calldata to, uint256 amount, uint64 deadline) external returns (bytes32);

    /// @notice For the InteropGateway (`ROUTER_ROLE`): takes `amount` from the caller and sends it to `to`, with
    ///         `from` as the sender a refund goes to.
    function crosschainTransferFor(
        address from,
        bytes calldata to,
        uint256 amount,
        uint64 deadline
    ) external returns (bytes32);

    function token() external view returns (address);
    function gateway() external view returns (address);
    function bridgeRegistry() external view returns (address);
}
