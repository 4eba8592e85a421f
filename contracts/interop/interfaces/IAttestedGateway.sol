// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IERC7786GatewaySource} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";

/// @title IAttestedGateway
/// @notice An ERC-7786 gateway, source and destination in one contract, whose messages cross between EVM chains once
///         `threshold` of the current attester set have signed them (EIP-712, ECDSA only, signers in strictly
///         ascending order). One instance per chain; each knows its counterpart gateway on every other chain.
///
///         Source side: `sendMessage` numbers the message (a per-gateway nonce from 1), fixes its deadline (the
///         `deadline(uint64)` attribute, or now + the default time to live) and emits ERC-7786's
///         `MessageSent` and `MessagePosted`. After `deadline + refundDelay` (source chain time) a message that
///         `threshold` attesters attest was not delivered may be refunded by anyone: the gateway calls the sender's
///         `onMessageRefunded`. The attestation is needed because the source cannot see the destination: a message
///         delivered before its deadline is past its deadline too. Attesters sign `Undelivered(bytes32 messageId,
///         uint64 epoch)` in the source gateway's EIP-712 domain once a final block of the destination has a
///         timestamp past the deadline and the message is not `Delivered` there (so it never can be).
///
///         Destination side: `deliver` checks the message is for this chain, from the registered counterpart of its
///         source chain, not past its deadline (destination chain time), not seen before (`(source chain, nonce)`),
///         and attested; then calls the recipient's `receiveMessage`. If that call fails the message is stored as
///         verified-but-undelivered and anyone may `retry` it (no signatures again) until its deadline; after the
///         deadline it can never be delivered, which is what makes the attested source-side refund safe.
///
///         The message id is the same on both chains (`sendId` on the source, `receiveId` on the destination):
///         `keccak256(abi.encode(sourceChainId, sourceGateway, nonce, destinationChainId, destinationGateway,
///         sender, recipient, deadline, keccak256(payload)))`.
interface IAttestedGateway is IERC7786GatewaySource {
    /// @notice A message as it crosses: everything the id commits to.
    struct Message {
        uint256 sourceChainId;
        address sourceGateway;
        uint256 nonce;
        uint256 destinationChainId;
        address destinationGateway;
        address sender;
        address recipient;
        uint64 deadline;
        bytes payload;
    }

    /// @notice Where a message stands on this chain. Outbound (by nonce, `outboundStatus`): `None` -> `Sent` ->
    ///         `Refunded`. Inbound: `None` ->
    ///         `Delivered`, or `None` -> `Failed` (verified, stored) -> `Delivered` by a retry.
    enum Status {
        None,
        Sent,
        Refunded,
        Failed,
        Delivered
    }

    // ── errors ──
    error AttestedGatewayZeroAddress();
    error AttestedGatewayValueNotAccepted(uint256 value);
    error AttestedGatewayUnknownChain(uint256 chainId);
    error AttestedGatewayBadRecipient(bytes recipient);
    error AttestedGatewayBadDeadline(uint64 deadline);
    error AttestedGatewayWrongDestination(uint256 chainId, address gateway);
    error AttestedGatewayUnknownSource(uint256 sourceChainId, address sourceGateway);
    error AttestedGatewayExpired(bytes32 messageId, uint64 deadline);
    error AttestedGatewayNotExpired(bytes32 messageId, uint256 refundableAt);
    error AttestedGatewayAlreadyProcessed(uint256 sourceChainId, uint256 nonce, Status status);
    error AttestedGatewayNotFailed(bytes32 messageId, Status status);
    error AttestedGatewayNotSent(bytes32 messageId, Status status);
    error AttestedGatewayTooFewSignatures(uint256 valid, uint256 threshold);
    error AttestedGatewayUnsortedSigners(address previous, address next);
    error AttestedGatewayUnknownAttester(address signer);
    error AttestedGatewayInvalidSignature(uint256 index);
    error AttestedGatewayBadAttesterSet(uint256 size, uint256 threshold);
    /// @notice A recipient call failed after being given `given` gas (a lower bound), less than the `required`
    ///         `minDeliveryGas`: the delivery or retry reverts rather than store (or keep) the message as `Failed`.
    error AttestedGatewayInsufficientGas(uint256 given, uint256 required);
    /// @notice An attribute with a supported selector is malformed (wrong length, a value wider than its type) or
    ///         given twice.
    error AttestedGatewayBadAttribute(bytes attribute);
    /// @notice `deliverBatch` got no message, or more than `max`.
    error AttestedGatewayBadBatchSize(uint256 size, uint256 max);
    /// @notice `deliverBatch` got a number of signature lists other than its number of messages.
    error AttestedGatewayBatchLengthMismatch(uint256 messages, uint256 signatures);
    /// @notice Constructor arguments out of range: `defaultTtl` and `refundDelay` must be in `[1, MAX_TTL]`.
    error AttestedGatewayBadConfig(uint64 defaultTtl, uint64 refundDelay);

    // ── events ──
    /// @notice A message was posted on this (source) chain: every field the attesters sign, in plain form.
    event MessagePosted(
        bytes32 indexed messageId,
        uint256 indexed destinationChainId,
        uint256 nonce,
        address destinationGateway,
        address sender,
        address recipient,
        uint64 deadline,
        bytes payload
    );
    /// @notice A message from another chain was delivered to its recipient here.
    event MessageDelivered(bytes32 indexed messageId, uint256 indexed sourceChainId, uint256 nonce);
    /// @notice A verified message's recipient call failed; it is stored and may be retried until its deadline.
    event MessageFailed(bytes32 indexed messageId, uint256 indexed sourceChainId, uint256 nonce, bytes reason);
    /// @notice `deliverBatch` skipped a message that `deliver` would have refused: `reason` is the selector of the
    ///         custom error `deliver` reverts with (`AttestedGatewayAlreadyProcessed`, `AttestedGatewayExpired`, ...).
    ///         Nothing about the message changed.
    event MessageSkipped(bytes32 indexed messageId, bytes4 reason);
    /// @notice An expired message was refunded to its sender on this (source) chain.
    event MessageRefunded(bytes32 indexed messageId, address indexed sender);
    /// @notice The attester set changed; `epoch` starts at 1 with the first set.
    event AttesterSetChanged(uint64 indexed epoch, address[] attesters, uint8 threshold);
    /// @notice The counterpart gateway on another chain was set.
    event CounterpartSet(uint256 indexed chainId, address gateway);

    // ── destination side ──
    /// @notice Verifies `signatures` (65-byte ECDSA, signers of the current epoch in strictly ascending order, at
    ///         least `threshold`) over `Attestation(bytes32 messageId,uint64 epoch)` in this gateway's EIP-712
    ///         domain, then delivers. Anyone may call it.
    function deliver(Message calldata message, bytes[] calldata signatures) external;

    /// @notice `deliver` for each `messages[i]` with `signatures[i]`, in order, in one transaction. A message that
    ///         `deliver` would refuse is skipped (`MessageSkipped` with the error's selector) and the others go on, so
    ///         one bad or already delivered member (front-run by a `deliver`) does not stop the batch. A recipient
    ///         that fails leaves its message `Failed`, as with `deliver`; a failed recipient call that was starved of
    ///         `minDeliveryGas` reverts the whole batch. 1 to `MAX_BATCH` messages. Anyone may call it.
    function deliverBatch(Message[] calldata messages, bytes[][] calldata signatures) external;

    /// @notice Delivers a stored (`Failed`) message again, until its deadline. Anyone may call it.
    function retry(Message calldata message) external;

    // ── source side ──
    /// @notice Refunds an expired message that was never delivered to its sender (`onMessageRefunded`). Anyone may
    ///         call it after `deadline + refundDelay`, with `signatures` as for `deliver` but over
    ///         `Undelivered(bytes32 messageId,uint64 epoch)` in this (source) gateway's domain and epoch.
    function refund(Message calldata message, bytes[] calldata signatures) external;

    // ── views ──
    function messageId(Message calldata message) external view returns (bytes32);
    /// @notice `Refunded` for a message sent from this chain and refunded, else `None` (a sent message is not
    ///         recorded by id: see `outboundStatus`). Inbound messages are kept by `(sourceChainId, sourceGateway,
    ///         nonce)`: see `inboundStatusFrom`.
    function statusOf(bytes32 messageId) external view returns (Status);
    /// @notice The status of this gateway's outbound nonce: `None` (not issued), `Sent` or `Refunded`.
    function outboundStatus(uint256 nonce) external view returns (Status);
    /// @notice The status of the inbound message `(sourceChainId, nonce)` from the current counterpart gateway of
    ///         `sourceChainId` on this chain.
    function inboundStatus(uint256 sourceChainId, uint256 nonce) external view returns (Status);
    /// @notice The status of the inbound message `nonce` of the gateway `sourceGateway` on `sourceChainId`: inbound
    ///         messages are kept per source gateway, so a replaced gateway's nonces never collide with its
    ///         successor's. Attesters deciding whether a message was delivered ask this one.
    function inboundStatusFrom(
        uint256 sourceChainId,
        address sourceGateway,
        uint256 nonce
    ) external view returns (Status);
    /// @notice What attesters sign to let `deliver` deliver `messageId` (on the destination).
    function attestationDigest(bytes32 messageId, uint64 epoch) external view returns (bytes32);
    /// @notice What attesters sign to let `refund` refund `messageId` (on the source): it was not delivered.
    function undeliveredDigest(bytes32 messageId, uint64 epoch) external view returns (bytes32);
    function epoch() external view returns (uint64);
    function attesters() external view returns (address[] memory set, uint8 threshold);
    function counterpartOf(uint256 chainId) external view returns (address);
    function nextNonce() external view returns (uint256);
    function refundDelay() external view returns (uint64);
    function defaultTtl() external view returns (uint64);
}

/// @title IRefundableSender
/// @notice What a sender implements to take back an expired message.
interface IRefundableSender {
    /// @notice Called by the source gateway, once, when `messageId` is refunded. Must undo the send (or revert, and
    ///         the refund can be tried again).
    /// @dev The message is checked by the gateway only as this gateway's, under an issued and unrefunded nonce, and
    ///      attested undelivered by `threshold` attesters: its other fields (payload, destination) are only as true as
    ///      that attestation. A sender that pays out on a refund bounds it as it bounds what it pays on a delivery.
    /// @param messageId The refunded message.
    /// @param destinationChainId The chain the message was sent to.
    /// @param payload The message's payload.
    function onMessageRefunded(bytes32 messageId, uint256 destinationChainId, bytes calldata payload) external;
}
