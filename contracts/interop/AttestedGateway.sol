// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC7786GatewaySource, IERC7786Recipient} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {InteroperableAddress} from "@openzeppelin/contracts/utils/draft-InteroperableAddress.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IAttestedGateway, IRefundableSender} from "./interfaces/IAttestedGateway.sol";

/// @title AttestedGateway
/// @notice An ERC-7786 gateway between EVM chains whose messages cross once `threshold` of the current attester set
///         have signed them. See `IAttestedGateway` for the message life cycle.
/// @dev Roles:
///      - `DEFAULT_ADMIN_ROLE` (one holder, handed over in two steps after a delay): grants and revokes roles,
///        unpauses.
///      - `GATEWAY_ADMIN_ROLE`: sets the counterpart gateway of each chain and the attester set; unpauses.
///      - `PAUSER_ROLE`: pauses (`sendMessage`, `deliver`, `deliverBatch`, `retry` and `refund` all stop). It
///        cannot unpause, so a stolen pauser key can stop traffic but not restart it.
///
///      Storage per message: outbound, none. `sendMessage` only moves the nonce; a refund sets the nonce's bit in a
///      bitmap (256 nonces per slot, so a nonce is refunded at most once, whatever message is claimed under it) and
///      records the id as `Refunded` (for `statusOf`). Inbound, one bit per `(sourceChainId, sourceGateway, nonce)`
///      in a bitmap of 256 nonces per slot (so a delivery writes a slot a previous nonce already made non-zero), set
///      once the message is processed; and only for a verified message whose recipient call failed, its id under
///      `(sourceChainId, sourceGateway, nonce)` (so `retry` can check the message it is given without the signatures;
///      cleared when a retry delivers it). The nonce, the epoch and the threshold share the slot of Pausable's flag:
///      `sendMessage` and `deliver` read it once (test `test_Layout_HotStateSharesOneSlot`).
///
///      Trust assumptions:
///      - `threshold` attesters of the current epoch are honest. They sign `Attestation(messageId, epoch)` only for a
///        message posted on its source chain and final there. A message id binds every field, so a signature cannot
///        be moved to another message, chain or gateway; the epoch binds it to one attester set, and the EIP-712
///        domain (chain id, this contract) to this gateway. Replay is refused by `(sourceChainId, sourceGateway,
///        nonce)`, so even attesters fooled into signing two versions of one nonce (a source-chain reorganisation) get
///        at most one delivered.
///      - Refunds: a message is deliverable (and retryable) while the destination's `block.timestamp <= deadline`.
///        The source cannot see whether it was delivered, so a refund needs `threshold` attesters to sign
///        `Undelivered(messageId, epoch)`: they do so only for a message they saw posted here (its `MessagePosted`,
///        final), once a final destination block is past the deadline and the message is not `Delivered` there,
///        after which it never can be. The gateway keeps no outbound record per message: that the message was
///        posted rests on that attestation (as a delivery's does), and the gateway itself checks that it is this
///        gateway's, under a nonce it has issued and not refunded before. So `threshold` colluding attesters can
///        refund a made-up message (any payload) under an issued nonce, as they can deliver a made-up one: the sender's
///        `onMessageRefunded` must bound what it pays out (the BurnMintLane draws on the reverse route's inbound
///        limit, the bucket a delivery from that chain draws on). `refundDelay` (source time after the deadline) is
///        a second margin, for the attesters to see the destination's finality.
///      - A counterpart gateway may be replaced (`setCounterpart`): the new one numbers its messages from 1 again,
///        and since inbound messages are keyed by the source gateway too, its nonces never collide with the old
///        one's (whose messages can no longer be delivered here, and are refunded on the source at their deadline).
///      - Signatures are ECDSA only (65 bytes, low s). An attester whose address has code (EIP-7702 delegation, or
///        any contract) is still checked by `ecrecover`, never by asking its code.
contract AttestedGateway is
    IAttestedGateway,
    AccessControlDefaultAdminRules,
    EIP712,
    ReentrancyGuardTransient,
    Pausable
{
    /// @notice Sets counterparts and the attester set; unpauses.
    bytes32 public constant GATEWAY_ADMIN_ROLE = keccak256("GATEWAY_ADMIN_ROLE");
    /// @notice Pauses.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice EIP-712 type of what attesters sign for a delivery: the message was posted (and is final) on its source.
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256("Attestation(bytes32 messageId,uint64 epoch)");
    /// @notice EIP-712 type of what attesters sign for a refund: a final block of the destination is past the
    ///         message's deadline and the message is not delivered there.
    bytes32 public constant UNDELIVERED_TYPEHASH = keccak256("Undelivered(bytes32 messageId,uint64 epoch)");
    /// @notice The one attribute supported: `abi.encodeWithSignature("deadline(uint64)", deadline)`.
    bytes4 public constant DEADLINE_ATTRIBUTE = bytes4(keccak256("deadline(uint64)"));
    /// @notice The longest a message may stay deliverable, and the largest `defaultTtl` and `refundDelay`.
    uint64 public constant MAX_TTL = 30 days;
    /// @notice The most messages one `deliverBatch` takes.
    uint256 public constant MAX_BATCH = 64;
    /// @dev At most this many bytes of a failed recipient call's return data are copied into `MessageFailed`, so a
    ///      recipient cannot make the gateway run out of gas copying a huge revert reason.
    uint256 private constant _MAX_REASON_LENGTH = 1024;
    /// @dev The most a `call` without value and without memory expansion costs before the callee starts: a cold
    ///      account access (EIP-2929, 2,600), plus the few opcodes between measuring the gas and the call.
    uint256 private constant _CALL_COST = 2_700;

    uint64 private immutable _defaultTtl;
    uint64 private immutable _refundDelay;
    /// @notice The gas a recipient call is owed: a recipient call that fails after being given less than this
    ///         reverts the delivery (`AttestedGatewayInsufficientGas`) instead of storing the message as `Failed`.
    uint32 public immutable minDeliveryGas;

    // The next three share a slot with Pausable's `_paused` (declared just before them).
    uint64 private _lastNonce;
    uint64 private _epoch;
    uint8 private _threshold;

    mapping(uint256 chainId => address gateway) private _counterparts;
    mapping(address attester => uint64 epoch) private _attesterEpoch;
    address[] private _attesters;
    /// @dev Outbound ids refunded (only `Refunded` is recorded: `statusOf`).
    mapping(bytes32 messageId => Status) private _outbound;
    /// @dev Outbound nonces refunded: bit `nonce % 256` of word `nonce / 256`.
    mapping(uint256 word => uint256 bits) private _refunded;
    /// @dev Inbound, per source chain and source gateway: one bit per nonce (bit `nonce % 256` of word
    ///      `nonce / 256`), set once the message is processed (delivered or stored as failed), so consecutive nonces
    ///      share a slot. Keyed by the gateway too: a replacement gateway on the source numbers its messages from 1
    ///      again, and its nonces must not collide with its predecessor's.
    mapping(uint256 sourceChainId => mapping(address sourceGateway => mapping(uint256 word => uint256 bits)))
        private _processed;
    /// @dev Inbound, per source chain and gateway: the id of a processed message whose recipient call failed.
    mapping(uint256 sourceChainId => mapping(address sourceGateway => mapping(uint256 nonce => bytes32 messageId)))
        private _failed;

    /// @param admin The default admin.
    /// @param adminDelay The delay of a default admin handover.
    /// @param defaultTtl_ A message's time to live when `sendMessage` gets no `deadline` attribute (1 s to MAX_TTL).
    /// @param refundDelay_ How long after its deadline an undelivered message becomes refundable (1 s to MAX_TTL).
    /// @param minDeliveryGas_ The gas a recipient call is owed (see `minDeliveryGas`).
    constructor(
        address admin,
        uint48 adminDelay,
        uint64 defaultTtl_,
        uint64 refundDelay_,
        uint32 minDeliveryGas_
    ) AccessControlDefaultAdminRules(adminDelay, admin) EIP712("BankChain AttestedGateway", "1") {
        if (defaultTtl_ == 0 || defaultTtl_ > MAX_TTL || refundDelay_ == 0 || refundDelay_ > MAX_TTL) {
            revert AttestedGatewayBadConfig(defaultTtl_, refundDelay_);
        }
        _defaultTtl = defaultTtl_;
        _refundDelay = refundDelay_;
        minDeliveryGas = minDeliveryGas_;
    }

    // ─────────────────────────────────────────────────────────────── source side

    /// @inheritdoc IERC7786GatewaySource
    /// @dev `recipient` must be a canonical ERC-7930 EVM address (chain reference without leading zero bytes, a
    ///      non-zero 20-byte address, nothing after it) on a chain with a counterpart. No value is accepted. The
    ///      only attribute is `deadline(uint64)`: after now, at most `MAX_TTL` ahead, at most once.
    function sendMessage(
        bytes calldata recipient,
        bytes calldata payload,
        bytes[] calldata attributes
    ) external payable whenNotPaused returns (bytes32 sendId) {
        if (msg.value != 0) revert AttestedGatewayValueNotAccepted(msg.value);
        Message memory message = _newMessage(recipient, payload, _deadlineOf(attributes));
        sendId = _hashMessage(message);
        emit MessageSent(
            sendId,
            InteroperableAddress.formatEvmV1(block.chainid, msg.sender),
            recipient,
            payload,
            0,
            attributes
        );
        emit MessagePosted(
            sendId,
            message.destinationChainId,
            message.nonce,
            message.destinationGateway,
            message.sender,
            message.recipient,
            message.deadline,
            message.payload
        );
    }

    /// @inheritdoc IAttestedGateway
    /// @dev The message must be this gateway's (this chain, this contract), under a nonce it has issued and not
    ///      refunded; that it was posted as given rests on the attestation (attesters sign `Undelivered` only for
    ///      messages they saw posted). Marks the nonce and the id `Refunded` before calling the sender; a reverting
    ///      callback reverts the refund, which may be tried again. A sender without code (an EOA) has nothing to
    ///      undo: the message is only marked. The signatures' type differs from a delivery's, so delivery
    ///      attestations never count as refund ones.
    function refund(Message calldata message, bytes[] calldata signatures) external whenNotPaused nonReentrant {
        bytes32 id = _messageIdOf(message);
        uint256 nonce = message.nonce;
        if (
            message.sourceChainId != block.chainid ||
            message.sourceGateway != address(this) ||
            nonce == 0 ||
            nonce > _lastNonce
        ) revert AttestedGatewayNotSent(id, Status.None);
        uint256 word = _refunded[nonce >> 8];
        uint256 bit = 1 << (nonce & 0xff);
        if (word & bit != 0) revert AttestedGatewayNotSent(id, Status.Refunded);
        uint256 refundableAt = uint256(message.deadline) + _refundDelay;
        if (block.timestamp < refundableAt) revert AttestedGatewayNotExpired(id, refundableAt);
        _verifyAttestations(UNDELIVERED_TYPEHASH, id, signatures, _epoch, _threshold, true);
        _refunded[nonce >> 8] = word | bit;
        _outbound[id] = Status.Refunded;
        emit MessageRefunded(id, message.sender);
        if (message.sender.code.length != 0) {
            IRefundableSender(message.sender).onMessageRefunded(id, message.destinationChainId, message.payload);
        }
    }

    // ────────────────────────────────────────────────────────── destination side

    /// @inheritdoc IAttestedGateway
    function deliver(Message calldata message, bytes[] calldata signatures) external whenNotPaused nonReentrant {
        (bytes32 id, ) = _admit(message, signatures, _epoch, _threshold, true);
        _execute(id, message, false);
    }

    /// @inheritdoc IAttestedGateway
    /// @dev Each message is admitted as by `deliver` (same checks, same order), then executed before the next one is
    ///      looked at, so a message given twice is skipped the second time (`AttestedGatewayAlreadyProcessed`). The
    ///      attester set is read once for the batch. A failed recipient call that was given less than `minDeliveryGas`
    ///      reverts the whole batch, as it reverts a `deliver`: only the caller's gas limit can cause it.
    function deliverBatch(
        Message[] calldata messages,
        bytes[][] calldata signatures
    ) external whenNotPaused nonReentrant {
        uint256 count = messages.length;
        if (count == 0 || count > MAX_BATCH) revert AttestedGatewayBadBatchSize(count, MAX_BATCH);
        if (signatures.length != count) revert AttestedGatewayBatchLengthMismatch(count, signatures.length);
        (uint64 currentEpoch, uint8 threshold) = (_epoch, _threshold);
        for (uint256 i; i < count; ++i) {
            Message calldata message = messages[i];
            (bytes32 id, bytes4 reason) = _admit(message, signatures[i], currentEpoch, threshold, false);
            if (reason == bytes4(0)) {
                _execute(id, message, false);
            } else {
                emit MessageSkipped(id, reason);
            }
        }
    }

    /// @inheritdoc IAttestedGateway
    /// @dev A retry whose recipient call fails again leaves the message `Failed` and emits `MessageFailed` again.
    ///      The attester set may have changed since: the signatures were checked when the message was stored.
    function retry(Message calldata message) external whenNotPaused nonReentrant {
        bytes32 id = _messageIdOf(message);
        if (_failed[message.sourceChainId][message.sourceGateway][message.nonce] != id) {
            Status status = _inboundStatus(message.sourceChainId, message.sourceGateway, message.nonce);
            revert AttestedGatewayNotFailed(id, status == Status.Failed ? Status.None : status);
        }
        if (block.timestamp > message.deadline) revert AttestedGatewayExpired(id, message.deadline);
        _execute(id, message, true);
    }

    // ────────────────────────────────────────────────────────────────── admin

    /// @notice Sets (or, with the zero address, removes) the counterpart gateway on `chainId`. Messages to a chain
    ///         without a counterpart are refused; messages from it are refused unless from its counterpart.
    function setCounterpart(uint256 chainId, address gateway) external onlyRole(GATEWAY_ADMIN_ROLE) {
        if (chainId == 0 || chainId == block.chainid) revert AttestedGatewayUnknownChain(chainId);
        _counterparts[chainId] = gateway;
        emit CounterpartSet(chainId, gateway);
    }

    /// @notice Replaces the attester set and starts a new epoch: signatures for earlier epochs stop counting,
    ///         including those of attesters kept in the new set.
    /// @param sortedAscending The attesters, non-zero, in strictly ascending order (so no duplicates).
    /// @param threshold_ How many must sign: at least one, more than half the set, at most the set.
    function setAttesterSet(
        address[] calldata sortedAscending,
        uint8 threshold_
    ) external onlyRole(GATEWAY_ADMIN_ROLE) {
        uint256 size = sortedAscending.length;
        if (threshold_ == 0 || threshold_ > size || uint256(threshold_) * 2 <= size) {
            revert AttestedGatewayBadAttesterSet(size, threshold_);
        }
        uint64 newEpoch = _epoch + 1;
        address previous;
        for (uint256 i; i < size; ++i) {
            address attester = sortedAscending[i];
            if (attester == address(0)) revert AttestedGatewayZeroAddress();
            if (attester <= previous) revert AttestedGatewayUnsortedSigners(previous, attester);
            _attesterEpoch[attester] = newEpoch;
            previous = attester;
        }
        _epoch = newEpoch;
        _threshold = threshold_;
        _attesters = sortedAscending;
        emit AttesterSetChanged(newEpoch, sortedAscending, threshold_);
    }

    /// @notice Stops `sendMessage`, `deliver`, `deliverBatch`, `retry` and `refund`.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes; `DEFAULT_ADMIN_ROLE` or `GATEWAY_ADMIN_ROLE` only.
    function unpause() external {
        if (!hasRole(GATEWAY_ADMIN_ROLE, msg.sender) && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, GATEWAY_ADMIN_ROLE);
        }
        _unpause();
    }

    // ────────────────────────────────────────────────────────────────── views

    /// @inheritdoc IERC7786GatewaySource
    function supportsAttribute(bytes4 selector) external pure returns (bool) {
        return selector == DEADLINE_ATTRIBUTE;
    }

    /// @inheritdoc IAttestedGateway
    function messageId(Message calldata message) external pure returns (bytes32) {
        return _messageIdOf(message);
    }

    /// @inheritdoc IAttestedGateway
    function statusOf(bytes32 id) external view returns (Status) {
        return _outbound[id];
    }

    /// @inheritdoc IAttestedGateway
    function outboundStatus(uint256 nonce) external view returns (Status) {
        if (nonce == 0 || nonce > _lastNonce) return Status.None;
        return _refunded[nonce >> 8] & (1 << (nonce & 0xff)) == 0 ? Status.Sent : Status.Refunded;
    }

    /// @inheritdoc IAttestedGateway
    /// @dev For the current counterpart gateway of `sourceChainId`; `inboundStatusFrom` names the gateway.
    function inboundStatus(uint256 sourceChainId, uint256 nonce) external view returns (Status) {
        return _inboundStatus(sourceChainId, _counterparts[sourceChainId], nonce);
    }

    /// @inheritdoc IAttestedGateway
    function inboundStatusFrom(
        uint256 sourceChainId,
        address sourceGateway,
        uint256 nonce
    ) external view returns (Status) {
        return _inboundStatus(sourceChainId, sourceGateway, nonce);
    }

    /// @inheritdoc IAttestedGateway
    function attestationDigest(bytes32 id, uint64 epoch_) external view returns (bytes32) {
        return _digest(ATTESTATION_TYPEHASH, id, epoch_);
    }

    /// @inheritdoc IAttestedGateway
    function undeliveredDigest(bytes32 id, uint64 epoch_) external view returns (bytes32) {
        return _digest(UNDELIVERED_TYPEHASH, id, epoch_);
    }

    /// @inheritdoc IAttestedGateway
    function epoch() external view returns (uint64) {
        return _epoch;
    }

    /// @inheritdoc IAttestedGateway
    function attesters() external view returns (address[] memory set, uint8 threshold) {
        return (_attesters, _threshold);
    }

    /// @inheritdoc IAttestedGateway
    function counterpartOf(uint256 chainId) external view returns (address) {
        return _counterparts[chainId];
    }

    /// @inheritdoc IAttestedGateway
    function nextNonce() external view returns (uint256) {
        return uint256(_lastNonce) + 1;
    }

    /// @inheritdoc IAttestedGateway
    function refundDelay() external view returns (uint64) {
        return _refundDelay;
    }

    /// @inheritdoc IAttestedGateway
    function defaultTtl() external view returns (uint64) {
        return _defaultTtl;
    }

    // ─────────────────────────────────────────────────────────────── internal

    /// @dev The checks of a delivery, then its effect on the replay bitmap: the message is for this chain and gateway,
    ///      from the counterpart of its source chain, not past its deadline, not processed, and attested (see
    ///      `_verifyAttestations`); then its `(sourceChainId, sourceGateway, nonce)` bit is set. A failed check reverts
    ///      with its custom error when `strict`, else returns that error's selector as `reason` (nothing written).
    function _admit(
        Message calldata message,
        bytes[] calldata signatures,
        uint64 currentEpoch,
        uint8 threshold,
        bool strict
    ) private returns (bytes32 id, bytes4 reason) {
        id = _messageIdOf(message);
        if (message.destinationChainId != block.chainid || message.destinationGateway != address(this)) {
            if (strict) revert AttestedGatewayWrongDestination(message.destinationChainId, message.destinationGateway);
            return (id, AttestedGatewayWrongDestination.selector);
        }
        address counterpart = _counterparts[message.sourceChainId];
        if (counterpart == address(0) || counterpart != message.sourceGateway) {
            if (strict) revert AttestedGatewayUnknownSource(message.sourceChainId, message.sourceGateway);
            return (id, AttestedGatewayUnknownSource.selector);
        }
        if (block.timestamp > message.deadline) {
            if (strict) revert AttestedGatewayExpired(id, message.deadline);
            return (id, AttestedGatewayExpired.selector);
        }
        mapping(uint256 word => uint256 bits) storage processed = _processed[message.sourceChainId][
            message.sourceGateway
        ];
        uint256 word = processed[message.nonce >> 8];
        uint256 bit = 1 << (message.nonce & 0xff);
        if (word & bit != 0) {
            if (strict) _revertAlreadyProcessed(message);
            return (id, AttestedGatewayAlreadyProcessed.selector);
        }
        reason = _verifyAttestations(ATTESTATION_TYPEHASH, id, signatures, currentEpoch, threshold, strict);
        if (reason == bytes4(0)) processed[message.nonce >> 8] = word | bit;
    }

    /// @dev Requires `signatures` to be at least `threshold` valid 65-byte low-s ECDSA signatures over
    ///      `typehash(id, epoch)` by distinct attesters of the current epoch (`currentEpoch`, `threshold`: the caller
    ///      read them), in strictly ascending signer order. A failure reverts when `strict`, else is returned as its
    ///      error's selector (zero: verified).
    function _verifyAttestations(
        bytes32 typehash,
        bytes32 id,
        bytes[] calldata signatures,
        uint64 currentEpoch,
        uint8 threshold,
        bool strict
    ) private view returns (bytes4) {
        if (threshold == 0) {
            if (strict) revert AttestedGatewayBadAttesterSet(0, 0);
            return AttestedGatewayBadAttesterSet.selector;
        }
        uint256 count = signatures.length;
        if (count < threshold) {
            if (strict) revert AttestedGatewayTooFewSignatures(count, threshold);
            return AttestedGatewayTooFewSignatures.selector;
        }
        bytes32 digest = _digest(typehash, id, currentEpoch);
        address previous;
        for (uint256 i; i < count; ++i) {
            (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError) {
                if (strict) revert AttestedGatewayInvalidSignature(i);
                return AttestedGatewayInvalidSignature.selector;
            }
            if (signer <= previous) {
                if (strict) revert AttestedGatewayUnsortedSigners(previous, signer);
                return AttestedGatewayUnsortedSigners.selector;
            }
            if (_attesterEpoch[signer] != currentEpoch) {
                if (strict) revert AttestedGatewayUnknownAttester(signer);
                return AttestedGatewayUnknownAttester.selector;
            }
            previous = signer;
        }
        return bytes4(0);
    }

    /// @dev Calls the recipient of an inbound message already marked processed (a delivery) or stored as `Failed` (a
    ///      `retried` one): delivered, a retried message's failed record is cleared; on failure it is stored as
    ///      `Failed` (its id),
    ///      unless the call may have failed for want of gas: given less than `minDeliveryGas`, a failed call reverts
    ///      the whole delivery, so a relayer cannot turn a deliverable message into a `Failed` one by starving it.
    ///      The check is on the gas the recipient was given, not on the gas left after the call: a recipient that
    ///      stops early when short of gas (a caught out-of-gas, an explicit `gasleft()` check) hands most of it back.
    function _execute(bytes32 id, Message calldata message, bool retried) private {
        mapping(uint256 nonce => bytes32 messageId) storage failed = _failed[message.sourceChainId][
            message.sourceGateway
        ];
        if (retried) delete failed[message.nonce];
        bytes memory callData = abi.encodeCall(
            IERC7786Recipient.receiveMessage,
            (id, InteroperableAddress.formatEvmV1(message.sourceChainId, message.sender), message.payload)
        );
        (bool delivered, uint256 gasGiven) = _callRecipient(message.recipient, callData);
        if (delivered) {
            emit MessageDelivered(id, message.sourceChainId, message.nonce);
            return;
        }
        if (gasGiven < minDeliveryGas) revert AttestedGatewayInsufficientGas(gasGiven, minDeliveryGas);
        failed[message.nonce] = id;
        emit MessageFailed(id, message.sourceChainId, message.nonce, _returnData());
    }

    /// @dev Calls `recipient` with all the gas but the 1/64 the EVM keeps back; `delivered` only if the call succeeds
    ///      and returns `receiveMessage`'s selector. `gasGiven` is a lower bound of the gas the recipient received:
    ///      63/64 of the gas left at the call, after the call's own cost (at most `_CALL_COST`).
    function _callRecipient(
        address recipient,
        bytes memory callData
    ) private returns (bool delivered, uint256 gasGiven) {
        bytes4 selector = IERC7786Recipient.receiveMessage.selector;
        uint256 gasAtCall;
        assembly ("memory-safe") {
            gasAtCall := gas()
            let success := call(gas(), recipient, 0, add(callData, 0x20), mload(callData), 0x00, 0x20)
            delivered := and(success, and(gt(returndatasize(), 0x1f), eq(shr(224, mload(0x00)), shr(224, selector))))
        }
        // The frame had paid the call's cost out of `gasAtCall`, or the call (and the transaction) would have failed.
        unchecked {
            gasGiven = gasAtCall > _CALL_COST ? gasAtCall - _CALL_COST : 0;
            gasGiven -= gasGiven / 64;
        }
    }

    /// @dev The last call's return data, cut to `_MAX_REASON_LENGTH` bytes.
    function _returnData() private pure returns (bytes memory data) {
        uint256 size = _MAX_REASON_LENGTH;
        assembly ("memory-safe") {
            if lt(returndatasize(), size) {
                size := returndatasize()
            }
            data := mload(0x40)
            mstore(data, size)
            returndatacopy(add(data, 0x20), 0x00, size)
            mstore(0x40, add(add(data, 0x20), and(add(size, 0x1f), not(0x1f))))
        }
    }

    function _digest(bytes32 typehash, bytes32 id, uint64 epoch_) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(typehash, id, epoch_)));
    }

    /// @dev The deadline from the `deadline(uint64)` attribute, or now + `defaultTtl`.
    function _deadlineOf(bytes[] calldata attributes) private view returns (uint64 deadline) {
        uint256 count = attributes.length;
        for (uint256 i; i < count; ++i) {
            bytes calldata attribute = attributes[i];
            bytes4 selector = bytes4(attribute);
            if (selector != DEADLINE_ATTRIBUTE) revert UnsupportedAttribute(selector);
            if (attribute.length != 36 || deadline != 0) revert AttestedGatewayBadAttribute(attribute);
            uint256 value = uint256(bytes32(attribute[4:36]));
            if (value > type(uint64).max) revert AttestedGatewayBadAttribute(attribute);
            deadline = uint64(value);
            if (deadline <= block.timestamp || deadline > block.timestamp + MAX_TTL) {
                revert AttestedGatewayBadDeadline(deadline);
            }
        }
        if (deadline == 0) deadline = SafeCast.toUint64(block.timestamp) + _defaultTtl;
    }

    /// @dev Parses a canonical ERC-7930 EVM address with a chain reference and a non-zero 20-byte address.
    function _parseRecipient(bytes calldata recipient) private pure returns (uint256 chainId, address target) {
        bool ok;
        (ok, chainId, target) = InteroperableAddress.tryParseEvmV1Calldata(recipient);
        // tryParse accepted the layout; canonical also means: a chain reference without a leading zero byte, a
        // 20-byte address and no trailing bytes (so one destination has exactly one encoding).
        if (
            !ok ||
            target == address(0) ||
            uint8(recipient[4]) == 0 ||
            recipient[5] == 0 ||
            recipient.length != 26 + uint256(uint8(recipient[4]))
        ) revert AttestedGatewayBadRecipient(recipient);
    }

    /// @dev Reverts `AttestedGatewayAlreadyProcessed` with the message's inbound status (its own frame: `_admit`'s
    ///      stack is full).
    function _revertAlreadyProcessed(Message calldata message) private view {
        revert AttestedGatewayAlreadyProcessed(
            message.sourceChainId,
            message.nonce,
            _inboundStatus(message.sourceChainId, message.sourceGateway, message.nonce)
        );
    }

    /// @dev `None` (never processed), `Failed` (processed, a failed id stored) or `Delivered`.
    function _inboundStatus(uint256 sourceChainId, address sourceGateway, uint256 nonce) private view returns (Status) {
        if (_processed[sourceChainId][sourceGateway][nonce >> 8] & (1 << (nonce & 0xff)) == 0) return Status.None;
        return _failed[sourceChainId][sourceGateway][nonce] == 0 ? Status.Delivered : Status.Failed;
    }

    /// @dev `keccak256(abi.encode(sourceChainId, sourceGateway, nonce, destinationChainId, destinationGateway,
    ///      sender, recipient, deadline, keccak256(payload)))`.
    function _messageIdOf(Message calldata message) private pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    message.sourceChainId,
                    message.sourceGateway,
                    message.nonce,
                    message.destinationChainId,
                    message.destinationGateway,
                    message.sender,
                    message.recipient,
                    message.deadline,
                    keccak256(message.payload)
                )
            );
    }

    /// @dev Numbers a new outbound message from the caller to `recipient` (checked: see `sendMessage`).
    function _newMessage(
        bytes calldata recipient,
        bytes calldata payload,
        uint64 deadline
    ) private returns (Message memory message) {
        (uint256 destinationChainId, address target) = _parseRecipient(recipient);
        address destinationGateway = _counterparts[destinationChainId];
        if (destinationGateway == address(0)) revert AttestedGatewayUnknownChain(destinationChainId);
        message = Message({
            sourceChainId: block.chainid,
            sourceGateway: address(this),
            nonce: ++_lastNonce,
            destinationChainId: destinationChainId,
            destinationGateway: destinationGateway,
            sender: msg.sender,
            recipient: target,
            deadline: deadline,
            payload: payload
        });
    }

    /// @dev The same formula as `_messageIdOf`, over a message in memory.
    function _hashMessage(Message memory message) private pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    message.sourceChainId,
                    message.sourceGateway,
                    message.nonce,
                    message.destinationChainId,
                    message.destinationGateway,
                    message.sender,
                    message.recipient,
                    message.deadline,
                    keccak256(message.payload)
                )
            );
    }
}
