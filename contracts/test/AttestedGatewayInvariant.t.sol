// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC7786Recipient} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";
import {InteroperableAddress} from "@openzeppelin/contracts/utils/draft-InteroperableAddress.sol";
import {Test} from "forge-std/Test.sol";

import {AttestedGateway} from "../interop/AttestedGateway.sol";
import {IAttestedGateway} from "../interop/interfaces/IAttestedGateway.sol";
import {RefundableSender} from "./mocks/RefundableSender.sol";

/// @dev A recipient that counts deliveries per message id and fails while `failing` is set.
contract CountingRecipient is IERC7786Recipient {
    bool public failing;
    uint256 public total;
    mapping(bytes32 receiveId => uint256 count) public countOf;

    error Failing();

    function setFailing(bool failing_) external {
        failing = failing_;
    }

    function receiveMessage(bytes32 receiveId, bytes calldata, bytes calldata) external payable returns (bytes4) {
        if (failing) revert Failing();
        ++countOf[receiveId];
        ++total;
        return IERC7786Recipient.receiveMessage.selector;
    }
}

/// @dev Drives two gateways (SRC and DST, one shared clock) through random sends, deliveries (also replays and
///      starved ones), retries, refunds, recipient failures and time, keeping ghost records of every message.
contract AttestedGatewayHandler is Test {
    uint256 internal constant SRC = 4242;
    uint256 internal constant DST = 4343;
    uint64 internal constant REFUND_DELAY = 1 hours;

    AttestedGateway public immutable src;
    AttestedGateway public immutable dst;
    uint256[] internal _keys;
    RefundableSender[2] internal _senders;
    CountingRecipient[2] internal _recipients;

    IAttestedGateway.Message[] internal _messages;
    mapping(bytes32 id => uint256) public ghostDeliveries;
    uint256 public ghostSends;

    constructor(AttestedGateway src_, AttestedGateway dst_, uint256[] memory sortedKeys) {
        src = src_;
        dst = dst_;
        _keys = sortedKeys;
        for (uint256 i; i < 2; ++i) {
            _senders[i] = new RefundableSender(src_);
            _recipients[i] = new CountingRecipient();
        }
    }

    // ───────────────────────────────────────────────────────────── actions

    function post(uint256 senderSeed, uint256 recipientSeed, bytes calldata payload, uint256 ttlSeed) external {
        vm.chainId(SRC);
        RefundableSender sender = _senders[senderSeed % 2];
        CountingRecipient to = _recipients[recipientSeed % 2];
        uint64 deadline = uint64(block.timestamp + bound(ttlSeed, 1, 3 days));
        bytes[] memory attributes = new bytes[](1);
        attributes[0] = abi.encodeWithSignature("deadline(uint64)", deadline);
        uint256 nonce = src.nextNonce();
        sender.post(InteroperableAddress.formatEvmV1(DST, address(to)), payload, attributes);
        ++ghostSends;
        _messages.push(
            IAttestedGateway.Message({
                sourceChainId: SRC,
                sourceGateway: address(src),
                nonce: nonce,
                destinationChainId: DST,
                destinationGateway: address(dst),
                sender: address(sender),
                recipient: address(to),
                deadline: deadline,
                payload: payload
            })
        );
    }

    /// @dev Delivers with `threshold` signatures, sometimes with too little gas; replays included.
    function deliver(uint256 messageSeed, bool starve) external {
        if (_messages.length == 0) return;
        IAttestedGateway.Message memory message = _messages[messageSeed % _messages.length];
        vm.chainId(DST);
        bytes32 id = dst.messageId(message);
        bytes[] memory sigs = _sign(dst.attestationDigest(id, dst.epoch()));
        CountingRecipient to = CountingRecipient(message.recipient);
        uint256 before = to.countOf(id);
        try dst.deliver{gas: starve ? 120_000 : 2_000_000}(message, sigs) {
            ghostDeliveries[id] += to.countOf(id) - before;
        } catch {}
    }

    function retry(uint256 messageSeed) external {
        if (_messages.length == 0) return;
        IAttestedGateway.Message memory message = _messages[messageSeed % _messages.length];
        vm.chainId(DST);
        bytes32 id = dst.messageId(message);
        CountingRecipient to = CountingRecipient(message.recipient);
        uint256 before = to.countOf(id);
        try dst.retry{gas: 2_000_000}(message) {
            ghostDeliveries[id] += to.countOf(id) - before;
        } catch {}
    }

    /// @dev Refund attempts of three kinds. `kind % 3 == 0`: honest attesters, who sign `Undelivered` only once the
    ///      destination (same clock here) is past the deadline without delivering the message; otherwise the caller
    ///      tries without signatures. `1`: attesters who sign whenever the message is not delivered yet, deadline or
    ///      not (the gateway's own time guard must hold). `2`: a caller replaying the delivery attestation.
    function refund(uint256 messageSeed, uint256 kind) external {
        if (_messages.length == 0) return;
        IAttestedGateway.Message memory message = _messages[messageSeed % _messages.length];
        bool undelivered = dst.inboundStatus(SRC, message.nonce) != IAttestedGateway.Status.Delivered;
        bytes[] memory sigs;
        kind %= 3;
        if (kind == 0 && undelivered && block.timestamp > message.deadline) {
            sigs = _signUndelivered(message);
        } else if (kind == 1 && undelivered) {
            sigs = _signUndelivered(message);
        } else if (kind == 2) {
            vm.chainId(DST);
            sigs = _sign(dst.attestationDigest(dst.messageId(message), dst.epoch()));
        }
        vm.chainId(SRC);
        try src.refund(message, sigs) {} catch {}
    }

    function setFailing(uint256 recipientSeed, bool failing) external {
        _recipients[recipientSeed % 2].setFailing(failing);
    }

    function warp(uint256 secondsSeed) external {
        vm.warp(block.timestamp + bound(secondsSeed, 1, 2 days));
    }

    // ────────────────────────────────────────────────────────────── views

    function messageCount() external view returns (uint256) {
        return _messages.length;
    }

    function messageAt(uint256 index) external view returns (IAttestedGateway.Message memory) {
        return _messages[index];
    }

    function totalRefunds() external view returns (uint256) {
        return _senders[0].refunds() + _senders[1].refunds();
    }

    function totalReceived() external view returns (uint256) {
        return _recipients[0].total() + _recipients[1].total();
    }

    // ──────────────────────────────────────────────────────────── internal

    function _signUndelivered(IAttestedGateway.Message memory message) internal returns (bytes[] memory) {
        vm.chainId(SRC);
        return _sign(src.undeliveredDigest(src.messageId(message), src.epoch()));
    }

    function _sign(bytes32 digest) internal view returns (bytes[] memory sigs) {
        sigs = new bytes[](2);
        for (uint256 i; i < 2; ++i) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(_keys[i], digest);
            sigs[i] = abi.encodePacked(r, s, v);
        }
    }
}

/// @dev Invariants of `AttestedGateway` across two chains.
contract AttestedGatewayInvariantTest is Test {
    uint256 internal constant SRC = 4242;
    uint256 internal constant DST = 4343;

    AttestedGateway internal src;
    AttestedGateway internal dst;
    AttestedGatewayHandler internal handler;

    function setUp() public {
        address admin = makeAddr("admin");
        address[] memory set = new address[](3);
        uint256[] memory keys = new uint256[](3);
        for (uint256 i; i < 3; ++i) {
            (set[i], keys[i]) = makeAddrAndKey(string.concat("attester", vm.toString(i)));
        }
        for (uint256 i; i < 3; ++i) {
            for (uint256 j = i + 1; j < 3; ++j) {
                if (set[j] < set[i]) {
                    (set[i], set[j]) = (set[j], set[i]);
                    (keys[i], keys[j]) = (keys[j], keys[i]);
                }
            }
        }
        vm.warp(1_700_000_000);
        vm.chainId(SRC);
        src = new AttestedGateway(admin, 0, 1 days, 1 hours, 300_000);
        vm.chainId(DST);
        dst = new AttestedGateway(admin, 0, 1 days, 1 hours, 300_000);
        AttestedGateway[2] memory gateways = [src, dst];
        uint256[2] memory chains = [SRC, DST];
        for (uint256 i; i < 2; ++i) {
            vm.chainId(chains[i]);
            bytes32 role = gateways[i].GATEWAY_ADMIN_ROLE();
            vm.startPrank(admin);
            gateways[i].grantRole(role, admin);
            gateways[i].setAttesterSet(set, 2);
            gateways[i].setCounterpart(chains[1 - i], address(gateways[1 - i]));
            vm.stopPrank();
        }
        handler = new AttestedGatewayHandler(src, dst, keys);
        targetContract(address(handler));
        bytes4[] memory actions = new bytes4[](6);
        actions[0] = AttestedGatewayHandler.post.selector;
        actions[1] = AttestedGatewayHandler.deliver.selector;
        actions[2] = AttestedGatewayHandler.retry.selector;
        actions[3] = AttestedGatewayHandler.refund.selector;
        actions[4] = AttestedGatewayHandler.setFailing.selector;
        actions[5] = AttestedGatewayHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: actions}));
    }

    /// @dev The double spend: no message is both delivered on the destination and refunded on the source.
    function invariant_noMessageIsBothDeliveredAndRefunded() public view {
        uint256 count = handler.messageCount();
        for (uint256 i; i < count; ++i) {
            IAttestedGateway.Message memory message = handler.messageAt(i);
            bool delivered = dst.inboundStatus(SRC, message.nonce) == IAttestedGateway.Status.Delivered;
            bool refunded = src.statusOf(src.messageId(message)) == IAttestedGateway.Status.Refunded;
            assertFalse(delivered && refunded, "delivered and refunded");
        }
    }

    /// @dev Each message reaches its recipient at most once, and exactly once if it is `Delivered`.
    function invariant_eachMessageReachesItsRecipientAtMostOnce() public view {
        uint256 count = handler.messageCount();
        uint256 delivered;
        for (uint256 i; i < count; ++i) {
            IAttestedGateway.Message memory message = handler.messageAt(i);
            bytes32 id = dst.messageId(message);
            uint256 times = CountingRecipient(message.recipient).countOf(id);
            assertLe(times, 1, "delivered twice");
            assertEq(times, handler.ghostDeliveries(id), "ghost");
            bool isDelivered = dst.inboundStatus(SRC, message.nonce) == IAttestedGateway.Status.Delivered;
            assertEq(times == 1, isDelivered, "status matches the recipient");
            if (isDelivered) ++delivered;
        }
        assertEq(handler.totalReceived(), delivered, "no delivery outside the recorded messages");
    }

    /// @dev Every refunded message called its sender back exactly once; nothing else did.
    function invariant_refundsMatchRefundedMessages() public view {
        uint256 count = handler.messageCount();
        uint256 refunded;
        for (uint256 i; i < count; ++i) {
            IAttestedGateway.Message memory message = handler.messageAt(i);
            IAttestedGateway.Status status = src.outboundStatus(message.nonce);
            assertTrue(status != IAttestedGateway.Status.None, "every send is numbered");
            assertEq(
                src.statusOf(src.messageId(message)) == IAttestedGateway.Status.Refunded,
                status == IAttestedGateway.Status.Refunded,
                "the id is recorded refunded with its nonce"
            );
            if (status == IAttestedGateway.Status.Refunded) ++refunded;
        }
        assertEq(handler.totalRefunds(), refunded);
    }

    /// @dev Nonces count sends from 1, with no gap.
    function invariant_noncesCountSends() public view {
        assertEq(src.nextNonce(), handler.ghostSends() + 1);
    }
}
