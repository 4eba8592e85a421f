// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {CrosschainLinked} from "@openzeppelin/contracts/crosschain/CrosschainLinked.sol";
import {ERC7786Recipient} from "@openzeppelin/contracts/crosschain/ERC7786Recipient.sol";
import {IERC7786GatewaySource, IERC7786Recipient} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {InteroperableAddress} from "@openzeppelin/contracts/utils/draft-InteroperableAddress.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Test} from "forge-std/Test.sol";

import {AttestedGateway} from "../interop/AttestedGateway.sol";
import {IAttestedGateway} from "../interop/interfaces/IAttestedGateway.sol";
import {RecordingRecipient} from "./mocks/RecordingRecipient.sol";
import {RefundableSender} from "./mocks/RefundableSender.sol";
import {RevertingRecipient} from "./mocks/RevertingRecipient.sol";

/// @dev The cheapest recipient there is: accepts every message, writes nothing (for the gas figure).
contract SilentRecipient is IERC7786Recipient {
    function receiveMessage(bytes32, bytes calldata, bytes calldata) external payable returns (bytes4) {
        return IERC7786Recipient.receiveMessage.selector;
    }
}

/// @dev OpenZeppelin's `CrosschainLinked` (the base of `BridgeFungible`, so of the BurnMintLane) on top of the gateway:
///      it sends to its counterpart and accepts only messages its linked gateway brings from that counterpart.
contract LinkedCounter is CrosschainLinked {
    uint256 public processed;
    bytes public lastPayload;

    constructor() CrosschainLinked(new Link[](0)) {}

    function link(address gateway, bytes calldata counterpart) external {
        _setLink(gateway, counterpart, true);
    }

    function send(
        bytes calldata chain,
        bytes calldata payload,
        bytes[] calldata attributes
    ) external returns (bytes32) {
        return _sendMessageToCounterpart(chain, payload, attributes);
    }

    function _processMessage(address, bytes32, bytes calldata, bytes calldata payload) internal override {
        ++processed;
        lastPayload = payload;
    }
}

/// @dev A call that costs a few hundred gas, to tell how the test runner charges calls.
contract GasProbe {
    event Pinged();

    function ping() external {
        emit Pinged();
    }
}

/// @dev Code that answers "yes" to every ERC-1271 question: etched on an attester's address to check that the
///      gateway never asks an attester's code (EIP-7702 delegation or otherwise).
contract YesMan {
    function isValidSignature(bytes32, bytes calldata) external pure returns (bytes4) {
        return 0x1626ba7e;
    }

    fallback() external {
        assembly ("memory-safe") {
            mstore(0, 0x1626ba7e00000000000000000000000000000000000000000000000000000000)
            return(0, 32)
        }
    }
}

/// @dev Two gateways on two simulated chains (`SRC` and `DST`, switched with `vm.chainId`), both knowing each
///      other, with the same 2-of-3 attester set.
abstract contract AttestedGatewayFixture is Test {
    uint256 internal constant SRC = 4242;
    uint256 internal constant DST = 4343;
    uint256 internal constant OTHER = 4444;
    uint48 internal constant ADMIN_DELAY = 3 days;
    uint64 internal constant TTL = 1 days;
    uint64 internal constant REFUND_DELAY = 1 hours;
    uint32 internal constant MIN_GAS = 500_000;
    /// @dev secp256k1 order.
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    address internal admin = makeAddr("admin");
    address internal gatewayAdmin = makeAddr("gatewayAdmin");
    address internal pauser = makeAddr("pauser");
    address internal alice = makeAddr("alice");
    address internal relayer = makeAddr("relayer");
    address internal mallory = makeAddr("mallory");
    uint256 internal malloryKey;

    AttestedGateway internal src;
    AttestedGateway internal dst;
    RecordingRecipient internal recipient;
    SilentRecipient internal cheap;

    /// @dev The attesters, sorted by address, and their keys.
    address[3] internal attester;
    uint256[3] internal attesterKey;

    function setUp() public virtual {
        (, malloryKey) = makeAddrAndKey("mallory");
        _makeAttesters();
        src = _deployGateway(SRC);
        dst = _deployGateway(DST);
        _link(src, SRC, DST, address(dst));
        _link(dst, DST, SRC, address(src));
        recipient = new RecordingRecipient();
        cheap = new SilentRecipient();
        vm.warp(1_700_000_000);
        vm.chainId(SRC);
    }

    // ──────────────────────────────────────────────────────────────── helpers

    function _makeAttesters() internal {
        for (uint256 i; i < 3; ++i) {
            (attester[i], attesterKey[i]) = makeAddrAndKey(string.concat("attester", vm.toString(i)));
        }
        for (uint256 i; i < 3; ++i) {
            for (uint256 j = i + 1; j < 3; ++j) {
                if (attester[j] < attester[i]) {
                    (attester[i], attester[j]) = (attester[j], attester[i]);
                    (attesterKey[i], attesterKey[j]) = (attesterKey[j], attesterKey[i]);
                }
            }
        }
    }

    function _attesterList() internal view returns (address[] memory list) {
        list = new address[](3);
        for (uint256 i; i < 3; ++i) list[i] = attester[i];
    }

    function _deployGateway(uint256 chainId) internal returns (AttestedGateway gateway) {
        vm.chainId(chainId);
        gateway = new AttestedGateway(admin, ADMIN_DELAY, TTL, REFUND_DELAY, MIN_GAS);
        vm.startPrank(admin);
        gateway.grantRole(gateway.GATEWAY_ADMIN_ROLE(), gatewayAdmin);
        gateway.grantRole(gateway.PAUSER_ROLE(), pauser);
        vm.stopPrank();
        vm.prank(gatewayAdmin);
        gateway.setAttesterSet(_attesterList(), 2);
    }

    function _link(AttestedGateway gateway, uint256 chainId, uint256 remote, address counterpart) internal {
        vm.chainId(chainId);
        vm.prank(gatewayAdmin);
        gateway.setCounterpart(remote, counterpart);
    }

    function _to(address account) internal pure returns (bytes memory) {
        return InteroperableAddress.formatEvmV1(DST, account);
    }

    function _deadlineAttribute(uint64 deadline) internal pure returns (bytes[] memory attributes) {
        attributes = new bytes[](1);
        attributes[0] = abi.encodeWithSignature("deadline(uint64)", deadline);
    }

    /// @dev Sends `payload` from `from` on SRC to `to` on DST with the default deadline; returns the message.
    function _send(address from, address to, bytes memory payload) internal returns (IAttestedGateway.Message memory) {
        return _sendWithDeadline(from, to, payload, uint64(block.timestamp) + TTL, new bytes[](0));
    }

    function _sendWithDeadline(
        address from,
        address to,
        bytes memory payload,
        uint64 deadline,
        bytes[] memory attributes
    ) internal returns (IAttestedGateway.Message memory message) {
        vm.chainId(SRC);
        uint256 nonce = src.nextNonce();
        vm.prank(from);
        bytes32 id = src.sendMessage(_to(to), payload, attributes);
        message = IAttestedGateway.Message({
            sourceChainId: SRC,
            sourceGateway: address(src),
            nonce: nonce,
            destinationChainId: DST,
            destinationGateway: address(dst),
            sender: from,
            recipient: to,
            deadline: deadline,
            payload: payload
        });
        assertEq(id, src.messageId(message), "sendId is the message id");
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev Signatures of attesters `first` and `second` (indices into the sorted list) over `message` for `gateway`'s
    ///      current epoch, in that order.
    function _sigs(
        AttestedGateway gateway,
        IAttestedGateway.Message memory message,
        uint256 first,
        uint256 second
    ) internal view returns (bytes[] memory sigs) {
        bytes32 digest = gateway.attestationDigest(gateway.messageId(message), gateway.epoch());
        sigs = new bytes[](2);
        sigs[0] = _sign(attesterKey[first], digest);
        sigs[1] = _sign(attesterKey[second], digest);
    }

    function _sigs(IAttestedGateway.Message memory message) internal returns (bytes[] memory) {
        vm.chainId(DST);
        return _sigs(dst, message, 0, 1);
    }

    /// @dev What honest attesters sign on the source once the destination is final past the message's deadline and
    ///      has not delivered it: attesters 0 and 1 over `Undelivered(id, epoch)` in `gateway`'s domain.
    function _undelivered(
        AttestedGateway gateway,
        IAttestedGateway.Message memory message
    ) internal view returns (bytes[] memory sigs) {
        bytes32 digest = gateway.undeliveredDigest(gateway.messageId(message), gateway.epoch());
        sigs = new bytes[](2);
        sigs[0] = _sign(attesterKey[0], digest);
        sigs[1] = _sign(attesterKey[1], digest);
    }

    /// @dev A copy of `message` (memory structs are references).
    function _copy(IAttestedGateway.Message memory message) internal pure returns (IAttestedGateway.Message memory) {
        return abi.decode(abi.encode(message), (IAttestedGateway.Message));
    }

    function _deliver(IAttestedGateway.Message memory message) internal {
        bytes[] memory sigs = _sigs(message);
        vm.prank(relayer);
        dst.deliver(message, sigs);
    }
}

/// @dev Unit and fuzz tests of `AttestedGateway`, attacks first.
contract AttestedGatewayTest is AttestedGatewayFixture {
    // ──────────────────────────────────────────── attacks: replay and forgery

    function test_RevertWhen_ReplayedOnTheSameChain() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        bytes[] memory sigs = _sigs(message);
        dst.deliver(message, sigs);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayAlreadyProcessed.selector,
                SRC,
                message.nonce,
                IAttestedGateway.Status.Delivered
            )
        );
        dst.deliver(message, sigs);
        assertEq(recipient.count(), 1);
    }

    /// @dev Inbound replay is one bit per nonce, 256 nonces to a slot: delivering a neighbour (same word, next word,
    ///      out of order) must neither mark another nonce processed nor let a processed one through again.
    function test_RevertWhen_ReplayedAmongNoncesSharingABitmapWord() public {
        IAttestedGateway.Message[] memory messages = new IAttestedGateway.Message[](258);
        for (uint256 i; i < messages.length; ++i) messages[i] = _send(alice, address(cheap), "pay 1");
        // Nonces 1..258: deliver 258 (second word), then 2, then 256 and 257 (the word's edges), then 1.
        uint256[5] memory order = [uint256(258), 2, 256, 257, 1];
        for (uint256 k; k < order.length; ++k) {
            IAttestedGateway.Message memory message = messages[order[k] - 1];
            assertEq(message.nonce, order[k]);
            assertEq(uint8(dst.inboundStatus(SRC, message.nonce)), uint8(IAttestedGateway.Status.None), "untouched");
            bytes[] memory sigs = _sigs(message);
            dst.deliver(message, sigs);
            assertEq(uint8(dst.inboundStatus(SRC, message.nonce)), uint8(IAttestedGateway.Status.Delivered));
        }
        for (uint256 k; k < order.length; ++k) {
            IAttestedGateway.Message memory message = messages[order[k] - 1];
            bytes[] memory sigs = _sigs(message);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAttestedGateway.AttestedGatewayAlreadyProcessed.selector,
                    SRC,
                    message.nonce,
                    IAttestedGateway.Status.Delivered
                )
            );
            dst.deliver(message, sigs);
        }
        // Their neighbours are still deliverable, once.
        for (uint256 nonce = 3; nonce <= 255; nonce += 84) {
            assertEq(uint8(dst.inboundStatus(SRC, nonce)), uint8(IAttestedGateway.Status.None));
            _deliver(messages[nonce - 1]);
        }
    }

    /// @dev A failed message's stored id is per nonce: delivering its neighbours (same bitmap word) neither clears it
    ///      nor lets signatures deliver it again, and a retry that delivers it makes it `Delivered` for good.
    function test_RevertWhen_AFailedMessageIsDeliveredAgainAfterItsNeighbours() public {
        RevertingRecipient flaky = new RevertingRecipient(RevertingRecipient.Mode.Revert);
        IAttestedGateway.Message memory failing = _send(alice, address(flaky), "pay 10");
        IAttestedGateway.Message memory next = _send(alice, address(cheap), "pay 1");
        bytes32 id = src.messageId(failing);
        bytes[] memory sigs = _sigs(failing);
        dst.deliver(failing, sigs);
        _deliver(next);
        assertEq(uint8(dst.inboundStatus(SRC, failing.nonce)), uint8(IAttestedGateway.Status.Failed));
        assertEq(uint8(dst.inboundStatus(SRC, next.nonce)), uint8(IAttestedGateway.Status.Delivered));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayAlreadyProcessed.selector,
                SRC,
                failing.nonce,
                IAttestedGateway.Status.Failed
            )
        );
        dst.deliver(failing, sigs);
        // The neighbour is not retryable (it never failed).
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayNotFailed.selector,
                src.messageId(next),
                IAttestedGateway.Status.Delivered
            )
        );
        dst.retry(next);
        flaky.setMode(RevertingRecipient.Mode.Accept);
        dst.retry(failing);
        assertEq(flaky.accepted(), 1);
        assertEq(uint8(dst.inboundStatus(SRC, failing.nonce)), uint8(IAttestedGateway.Status.Delivered));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayNotFailed.selector,
                id,
                IAttestedGateway.Status.Delivered
            )
        );
        dst.retry(failing);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayAlreadyProcessed.selector,
                SRC,
                failing.nonce,
                IAttestedGateway.Status.Delivered
            )
        );
        dst.deliver(failing, sigs);
        assertEq(flaky.accepted(), 1);
    }

    function test_RevertWhen_ReplayedOnAnotherChain() public {
        // A third chain whose gateway knows SRC and trusts the same attesters.
        AttestedGateway other = _deployGateway(OTHER);
        _link(other, OTHER, SRC, address(src));
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        bytes[] memory sigs = _sigs(message);
        // As is: addressed to DST.
        vm.chainId(OTHER);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestedGateway.AttestedGatewayWrongDestination.selector, DST, address(dst))
        );
        other.deliver(message, sigs);
        // Readdressed to OTHER: a different message id, so the attesters' signatures recover to strangers.
        message.destinationChainId = OTHER;
        message.destinationGateway = address(other);
        address stranger = ECDSA.recover(other.attestationDigest(other.messageId(message), 1), sigs[0]);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownAttester.selector, stranger));
        other.deliver(message, sigs);
        assertEq(recipient.count(), 0);
    }

    function test_RevertWhen_ReplayedToAnotherGatewayOnTheSameChain() public {
        AttestedGateway twin = _deployGateway(DST);
        _link(twin, DST, SRC, address(src));
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        bytes[] memory sigs = _sigs(message);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestedGateway.AttestedGatewayWrongDestination.selector, DST, address(dst))
        );
        twin.deliver(message, sigs);
        // Readdressed to the twin: its id changes, and the twin's EIP-712 domain differs anyway.
        message.destinationGateway = address(twin);
        address stranger = ECDSA.recover(twin.attestationDigest(twin.messageId(message), 1), sigs[0]);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownAttester.selector, stranger));
        twin.deliver(message, sigs);
    }

    function test_RevertWhen_SignaturesForOneGatewayAreShownToItsTwin() public {
        // The same message id signed in the twin's domain is not a signature in dst's domain (EIP-712 binds the
        // verifying contract), and vice versa.
        AttestedGateway twin = _deployGateway(DST);
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        vm.chainId(DST);
        bytes[] memory twinSigs = _sigs(twin, message, 0, 1);
        address stranger = ECDSA.recover(dst.attestationDigest(dst.messageId(message), 1), twinSigs[0]);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownAttester.selector, stranger));
        dst.deliver(message, twinSigs);
    }

    function test_RevertWhen_AnOutboundMessageIsDeliveredBackOnItsSource() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        bytes[] memory sigs = _sigs(message);
        vm.chainId(SRC);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestedGateway.AttestedGatewayWrongDestination.selector, DST, address(dst))
        );
        src.deliver(message, sigs);
    }

    function test_RevertWhen_AnInboundMessageIsRefundedOrRetriedWhereItDoesNotBelong() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        bytes32 id = src.messageId(message);
        _deliver(message);
        vm.warp(message.deadline + REFUND_DELAY);
        bytes[] memory undelivered = _undelivered(dst, message);
        // The destination never sent it, so it cannot refund it.
        vm.expectRevert(
            abi.encodeWithSelector(IAttestedGateway.AttestedGatewayNotSent.selector, id, IAttestedGateway.Status.None)
        );
        dst.refund(message, undelivered);
        // The source never stored it as failed, so it cannot retry it.
        vm.chainId(SRC);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestedGateway.AttestedGatewayNotFailed.selector, id, IAttestedGateway.Status.None)
        );
        src.retry(message);
    }

    function test_RevertWhen_TooFewSignatures() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        bytes[] memory sigs = _sigs(message);
        bytes[] memory one = new bytes[](1);
        one[0] = sigs[0];
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayTooFewSignatures.selector, 1, 2));
        dst.deliver(message, one);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayTooFewSignatures.selector, 0, 2));
        dst.deliver(message, new bytes[](0));
    }

    function test_RevertWhen_OneAttesterSignsTwice() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        bytes[] memory sigs = _sigs(message);
        sigs[1] = sigs[0];
        vm.expectRevert(
            abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnsortedSigners.selector, attester[0], attester[0])
        );
        dst.deliver(message, sigs);
    }

    function test_RevertWhen_SignersAreUnsorted() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        vm.chainId(DST);
        bytes[] memory sigs = _sigs(dst, message, 1, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnsortedSigners.selector, attester[1], attester[0])
        );
        dst.deliver(message, sigs);
    }

    function test_RevertWhen_ASignerIsNotAnAttester() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        vm.chainId(DST);
        bytes32 digest = dst.attestationDigest(dst.messageId(message), 1);
        bytes[] memory sigs = new bytes[](2);
        bytes memory honest = _sign(attesterKey[0], digest);
        bytes memory forged = _sign(malloryKey, digest);
        (sigs[0], sigs[1]) = mallory < attester[0] ? (forged, honest) : (honest, forged);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownAttester.selector, mallory));
        dst.deliver(message, sigs);
    }

    function test_RevertWhen_SignaturesAreFromTheOldEpoch() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        bytes[] memory oldSigs = _sigs(message);
        // Rotate: same attesters, new epoch. Their epoch-1 signatures no longer count.
        vm.prank(gatewayAdmin);
        dst.setAttesterSet(_attesterList(), 2);
        assertEq(dst.epoch(), 2);
        address stranger = ECDSA.recover(dst.attestationDigest(dst.messageId(message), 2), oldSigs[0]);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownAttester.selector, stranger));
        dst.deliver(message, oldSigs);
        // Fresh signatures for epoch 2 do.
        dst.deliver(message, _sigs(dst, message, 0, 1));
        assertEq(recipient.count(), 1);
    }

    function test_RevertWhen_ARemovedAttesterSignsTheNewEpoch() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        vm.chainId(DST);
        // New set: attesters 1 and 2 only (2-of-2). Attester 0 signs the new epoch's digest anyway.
        address[] memory set = new address[](2);
        (set[0], set[1]) = (attester[1], attester[2]);
        vm.prank(gatewayAdmin);
        dst.setAttesterSet(set, 2);
        bytes[] memory sigs = _sigs(dst, message, 0, 1);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownAttester.selector, attester[0]));
        dst.deliver(message, sigs);
        dst.deliver(message, _sigs(dst, message, 1, 2));
        assertEq(recipient.count(), 1);
    }

    function test_RevertWhen_ASignatureIsMalleable() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        vm.chainId(DST);
        bytes32 digest = dst.attestationDigest(dst.messageId(message), 1);
        bytes[] memory sigs = _sigs(dst, message, 0, 1);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(attesterKey[1], digest);
        // The same signature with s' = n - s and the other v recovers the same signer: refused.
        sigs[1] = abi.encodePacked(r, bytes32(N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        assertEq(ecrecover(digest, v == 27 ? 28 : 27, r, bytes32(N - uint256(s))), attester[1], "still recovers");
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayInvalidSignature.selector, 1));
        dst.deliver(message, sigs);
    }

    function test_RevertWhen_ASignatureIsNot65Bytes() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        vm.chainId(DST);
        bytes32 digest = dst.attestationDigest(dst.messageId(message), 1);
        bytes[] memory sigs = _sigs(dst, message, 0, 1);
        // ERC-2098 compact form (64 bytes) of a valid signature.
        (bytes32 r, bytes32 vs) = vm.signCompact(attesterKey[1], digest);
        sigs[1] = abi.encodePacked(r, vs);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayInvalidSignature.selector, 1));
        dst.deliver(message, sigs);
        // 66 bytes: a valid signature with a byte appended.
        sigs[1] = abi.encodePacked(_sign(attesterKey[1], digest), uint8(0));
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayInvalidSignature.selector, 1));
        dst.deliver(message, sigs);
        // A bad v.
        (uint8 v, bytes32 r2, bytes32 s2) = vm.sign(attesterKey[1], digest);
        sigs[1] = abi.encodePacked(r2, s2, v + 2);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayInvalidSignature.selector, 1));
        dst.deliver(message, sigs);
    }

    function test_RevertWhen_AnAttesterWithCodeWouldSayYes() public {
        // EIP-7702: attester 1's address now delegates to code that approves any signature. The gateway must still
        // check attester 1 by ECDSA only.
        YesMan yes = new YesMan();
        vm.etch(attester[1], abi.encodePacked(hex"ef0100", address(yes)));
        assertGt(attester[1].code.length, 0);
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        bytes[] memory sigs = _sigs(message);
        bytes memory good = sigs[1];
        // No signature at all in attester 1's place (r = s = 0): refused however the code would answer.
        sigs[1] = abi.encodePacked(bytes32(0), bytes32(0), uint8(27));
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayInvalidSignature.selector, 1));
        dst.deliver(message, sigs);
        assertEq(recipient.count(), 0);
        // Its real ECDSA signature still counts, code or not.
        sigs[1] = good;
        dst.deliver(message, sigs);
        assertEq(recipient.count(), 1);
    }

    function test_RevertWhen_AnAttesterIsAFullContract() public {
        // An attester address with arbitrary contract code (not a 7702 designator): same rule.
        vm.etch(attester[0], address(new YesMan()).code);
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        bytes[] memory sigs = _sigs(message);
        dst.deliver(message, sigs);
        assertEq(recipient.count(), 1);
    }

    function test_RevertWhen_TheSourceGatewayIsNotTheCounterpart() public {
        // Mallory runs her own gateway on SRC and gets nothing signed: even a correctly formed message naming it is
        // refused before any signature is looked at.
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        bytes[] memory sigs = _sigs(message);
        message.sourceGateway = mallory;
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownSource.selector, SRC, mallory));
        dst.deliver(message, sigs);
        message.sourceGateway = address(src);
        message.sourceChainId = OTHER;
        vm.expectRevert(
            abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownSource.selector, OTHER, address(src))
        );
        dst.deliver(message, sigs);
    }

    function test_RevertWhen_TheCounterpartWasRemoved() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        bytes[] memory sigs = _sigs(message);
        vm.prank(gatewayAdmin);
        dst.setCounterpart(SRC, address(0));
        vm.expectRevert(
            abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownSource.selector, SRC, address(src))
        );
        dst.deliver(message, sigs);
    }

    function test_RevertWhen_NoAttesterSetYet() public {
        vm.chainId(DST);
        AttestedGateway fresh = new AttestedGateway(admin, ADMIN_DELAY, TTL, REFUND_DELAY, MIN_GAS);
        bytes32 role = fresh.GATEWAY_ADMIN_ROLE();
        vm.prank(admin);
        fresh.grantRole(role, gatewayAdmin);
        _link(fresh, DST, SRC, address(src));
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        message.destinationGateway = address(fresh);
        vm.chainId(DST);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayBadAttesterSet.selector, 0, 0));
        fresh.deliver(message, new bytes[](0));
    }

    function test_RevertWhen_DeliveredAfterTheDeadline() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        bytes[] memory sigs = _sigs(message);
        vm.warp(message.deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayExpired.selector,
                dst.messageId(message),
                message.deadline
            )
        );
        dst.deliver(message, sigs);
        // At the deadline itself it is still deliverable.
        vm.warp(message.deadline);
        dst.deliver(message, sigs);
        assertEq(recipient.count(), 1);
    }

    function test_RevertWhen_AFieldIsTamperedWith() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        bytes[] memory sigs = _sigs(message);
        IAttestedGateway.Message memory forged = message;
        forged.payload = "pay 1000";
        address stranger = ECDSA.recover(dst.attestationDigest(dst.messageId(forged), 1), sigs[0]);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownAttester.selector, stranger));
        dst.deliver(forged, sigs);
    }

    // ───────────────────────────── attacks: griefing, front-running, gas starvation

    function test_RevertWhen_ARelayerStarvesTheRecipientOfGas() public {
        RevertingRecipient needy = new RevertingRecipient(RevertingRecipient.Mode.NeedsGas);
        needy.setGasNeeded(400_000);
        IAttestedGateway.Message memory message = _send(alice, address(needy), "pay 10");
        bytes[] memory sigs = _sigs(message);
        // Mallory front-runs with just enough gas for the gateway but not for the recipient.
        vm.prank(mallory);
        try dst.deliver{gas: 250_000}(message, sigs) {
            assertTrue(false, "a starved delivery must revert");
        } catch (bytes memory reason) {
            assertEq(bytes4(reason), IAttestedGateway.AttestedGatewayInsufficientGas.selector);
        }
        assertEq(uint8(dst.inboundStatus(SRC, message.nonce)), uint8(IAttestedGateway.Status.None));
        // The honest relayer, with enough gas, delivers it.
        vm.prank(relayer);
        dst.deliver{gas: 1_000_000}(message, sigs);
        assertEq(needy.accepted(), 1);
        assertEq(uint8(dst.inboundStatus(SRC, message.nonce)), uint8(IAttestedGateway.Status.Delivered));
    }

    function test_Deliver_AFailureIsStoredOnlyIfTheRecipientGotMinDeliveryGas() public {
        // A genuine failure, but given less than the owed gas the gateway cannot tell it from starvation: it reverts,
        // and stores the failure once a relayer gives enough.
        RevertingRecipient refuser = new RevertingRecipient(RevertingRecipient.Mode.Revert);
        IAttestedGateway.Message memory message = _send(alice, address(refuser), "pay 10");
        bytes[] memory sigs = _sigs(message);
        try dst.deliver{gas: 450_000}(message, sigs) {
            assertTrue(false, "a failure with less than minDeliveryGas must revert");
        } catch (bytes memory reason) {
            assertEq(bytes4(reason), IAttestedGateway.AttestedGatewayInsufficientGas.selector);
        }
        assertEq(uint8(dst.inboundStatus(SRC, message.nonce)), uint8(IAttestedGateway.Status.None));
        dst.deliver{gas: 700_000}(message, sigs);
        assertEq(uint8(dst.inboundStatus(SRC, message.nonce)), uint8(IAttestedGateway.Status.Failed));
    }

    /// @dev Whatever gas a relayer gives, a recipient that succeeds with `minDeliveryGas` is delivered or nothing
    ///      happens: never `Failed`.
    function testFuzz_deliver_starvingNeverStoresAFailure(uint256 gasLimit) public {
        RevertingRecipient needy = new RevertingRecipient(RevertingRecipient.Mode.NeedsGas);
        needy.setGasNeeded(MIN_GAS - 20_000);
        IAttestedGateway.Message memory message = _send(alice, address(needy), "pay 10");
        bytes[] memory sigs = _sigs(message);
        gasLimit = bound(gasLimit, 50_000, 1_500_000);
        try dst.deliver{gas: gasLimit}(message, sigs) {} catch {}
        IAttestedGateway.Status status = dst.inboundStatus(SRC, message.nonce);
        assertTrue(status != IAttestedGateway.Status.Failed, "starved into Failed");
        if (status == IAttestedGateway.Status.None) dst.deliver{gas: 2_000_000}(message, sigs);
        assertEq(needy.accepted(), 1);
    }

    function test_Deliver_ARecipientThatBurnsAllItsGasIsStoredAsFailed() public {
        // The guard must not let a recipient that fails with plenty of gas block its message forever.
        RevertingRecipient burner = new RevertingRecipient(RevertingRecipient.Mode.BurnGas);
        IAttestedGateway.Message memory message = _send(alice, address(burner), "pay 10");
        bytes[] memory sigs = _sigs(message);
        dst.deliver{gas: 2_000_000}(message, sigs);
        assertEq(uint8(dst.inboundStatus(SRC, message.nonce)), uint8(IAttestedGateway.Status.Failed));
    }

    function test_Deliver_ARevertingRecipientIsStoredAsFailed() public {
        RevertingRecipient refuser = new RevertingRecipient(RevertingRecipient.Mode.Revert);
        IAttestedGateway.Message memory message = _send(alice, address(refuser), "pay 10");
        bytes32 id = src.messageId(message);
        bytes[] memory sigs = _sigs(message);
        vm.expectEmit(address(dst));
        emit IAttestedGateway.MessageFailed(
            id,
            SRC,
            message.nonce,
            abi.encodeWithSelector(RevertingRecipient.Refused.selector, id)
        );
        dst.deliver(message, sigs);
        assertEq(uint8(dst.inboundStatus(SRC, message.nonce)), uint8(IAttestedGateway.Status.Failed));
        // Not deliverable again with signatures: only `retry`.
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayAlreadyProcessed.selector,
                SRC,
                message.nonce,
                IAttestedGateway.Status.Failed
            )
        );
        dst.deliver(message, sigs);
    }

    function test_Deliver_RecipientsThatDoNotAnswerTheSelectorFail() public {
        RevertingRecipient wrong = new RevertingRecipient(RevertingRecipient.Mode.WrongSelector);
        RevertingRecipient silent = new RevertingRecipient(RevertingRecipient.Mode.NoReturn);
        address[3] memory targets = [address(wrong), address(silent), makeAddr("eoa")];
        for (uint256 i; i < targets.length; ++i) {
            IAttestedGateway.Message memory message = _send(alice, targets[i], "pay 10");
            _deliver(message);
            assertEq(uint8(dst.inboundStatus(SRC, message.nonce)), uint8(IAttestedGateway.Status.Failed));
        }
    }

    function test_RevertWhen_ARecipientRevertsWithAHugeReason() public {
        RevertingRecipient bomb = new RevertingRecipient(RevertingRecipient.Mode.HugeRevert);
        IAttestedGateway.Message memory message = _send(alice, address(bomb), "pay 10");
        bytes32 id = src.messageId(message);
        bytes[] memory sigs = _sigs(message);
        vm.expectEmit(address(dst));
        emit IAttestedGateway.MessageFailed(id, SRC, message.nonce, new bytes(1024));
        dst.deliver{gas: 3_000_000}(message, sigs);
        assertEq(uint8(dst.inboundStatus(SRC, message.nonce)), uint8(IAttestedGateway.Status.Failed));
    }

    function test_Deliver_WhoeverRelaysFirstTheOutcomeIsTheSame() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        bytes[] memory sigs = _sigs(message);
        vm.prank(mallory);
        dst.deliver(message, sigs);
        RecordingRecipient.Received memory got = recipient.received(0);
        assertEq(got.receiveId, src.messageId(message));
        assertEq(got.sender, InteroperableAddress.formatEvmV1(SRC, alice), "the sender is alice, not the relayer");
        assertEq(got.payload, bytes("pay 10"));
    }

    // ─────────────────────────────────────────────────────────────── retry

    function test_Retry_ByAnyoneOnceTheRecipientAccepts() public {
        RevertingRecipient flaky = new RevertingRecipient(RevertingRecipient.Mode.Revert);
        IAttestedGateway.Message memory message = _send(alice, address(flaky), "pay 10");
        bytes32 id = src.messageId(message);
        _deliver(message);
        // Still failing: stays Failed, reported again.
        vm.expectEmit(address(dst));
        emit IAttestedGateway.MessageFailed(
            id,
            SRC,
            message.nonce,
            abi.encodeWithSelector(RevertingRecipient.Refused.selector, id)
        );
        vm.prank(mallory);
        dst.retry(message);
        assertEq(uint8(dst.inboundStatus(SRC, message.nonce)), uint8(IAttestedGateway.Status.Failed));
        // Rotating the attesters does not matter to a stored message.
        vm.prank(gatewayAdmin);
        dst.setAttesterSet(_attesterList(), 3);
        flaky.setMode(RevertingRecipient.Mode.Accept);
        vm.expectEmit(address(dst));
        emit IAttestedGateway.MessageDelivered(id, SRC, message.nonce);
        vm.prank(mallory);
        dst.retry(message);
        assertEq(flaky.accepted(), 1);
        assertEq(uint8(dst.inboundStatus(SRC, message.nonce)), uint8(IAttestedGateway.Status.Delivered));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayNotFailed.selector,
                id,
                IAttestedGateway.Status.Delivered
            )
        );
        dst.retry(message);
    }

    function test_Retry_AStoredMessageOutlivesItsSourceBeingUnlinked() public {
        // The message was verified (counterpart and attesters) when it was stored; unlinking the source later does
        // not strand it before its deadline. Pausing is the tool to stop everything.
        RevertingRecipient flaky = new RevertingRecipient(RevertingRecipient.Mode.Revert);
        IAttestedGateway.Message memory message = _send(alice, address(flaky), "pay 10");
        _deliver(message);
        vm.prank(gatewayAdmin);
        dst.setCounterpart(SRC, address(0));
        flaky.setMode(RevertingRecipient.Mode.Accept);
        dst.retry(message);
        assertEq(flaky.accepted(), 1);
    }

    function test_RevertWhen_RetriedAfterTheDeadline() public {
        RevertingRecipient flaky = new RevertingRecipient(RevertingRecipient.Mode.Revert);
        IAttestedGateway.Message memory message = _send(alice, address(flaky), "pay 10");
        _deliver(message);
        flaky.setMode(RevertingRecipient.Mode.Accept);
        vm.warp(message.deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayExpired.selector,
                dst.messageId(message),
                message.deadline
            )
        );
        dst.retry(message);
    }

    function test_RevertWhen_RetryingATamperedMessage() public {
        // The stored id pins every field: a retry cannot change the payload or the recipient.
        RevertingRecipient flaky = new RevertingRecipient(RevertingRecipient.Mode.Revert);
        IAttestedGateway.Message memory message = _send(alice, address(flaky), "pay 10");
        _deliver(message);
        message.payload = "pay 1000";
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayNotFailed.selector,
                dst.messageId(message),
                IAttestedGateway.Status.None
            )
        );
        dst.retry(message);
        message.payload = "pay 10";
        message.recipient = address(recipient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayNotFailed.selector,
                dst.messageId(message),
                IAttestedGateway.Status.None
            )
        );
        dst.retry(message);
    }

    function test_RevertWhen_RetryingANeverDeliveredMessage() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        vm.chainId(DST);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayNotFailed.selector,
                dst.messageId(message),
                IAttestedGateway.Status.None
            )
        );
        dst.retry(message);
    }

    function test_RevertWhen_ARetryIsStarvedOfGas() public {
        RevertingRecipient needy = new RevertingRecipient(RevertingRecipient.Mode.Revert);
        IAttestedGateway.Message memory message = _send(alice, address(needy), "pay 10");
        _deliver(message);
        needy.setMode(RevertingRecipient.Mode.NeedsGas);
        needy.setGasNeeded(400_000);
        try dst.retry{gas: 150_000}(message) {
            assertTrue(false, "a starved retry must revert");
        } catch (bytes memory reason) {
            assertEq(bytes4(reason), IAttestedGateway.AttestedGatewayInsufficientGas.selector);
        }
        dst.retry{gas: 1_000_000}(message);
        assertEq(needy.accepted(), 1);
    }

    // ────────────────────────────────────────────────────────────── refund

    function test_Refund_ByAnyoneAfterDeadlinePlusDelayOnce() public {
        vm.chainId(SRC);
        RefundableSender sender = new RefundableSender(src);
        IAttestedGateway.Message memory message = _sendFrom(sender, address(recipient), "pay 10");
        bytes32 id = src.messageId(message);
        bytes[] memory undelivered = _undelivered(src, message);
        uint256 refundableAt = uint256(message.deadline) + REFUND_DELAY;
        vm.warp(refundableAt - 1);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayNotExpired.selector, id, refundableAt));
        src.refund(message, undelivered);
        vm.warp(refundableAt);
        vm.expectEmit(address(src));
        emit IAttestedGateway.MessageRefunded(id, address(sender));
        vm.prank(mallory);
        src.refund(message, undelivered);
        assertEq(sender.refunds(), 1);
        assertEq(sender.lastRefundedId(), id);
        assertEq(sender.lastRefundedPayload(), bytes("pay 10"));
        assertEq(uint8(src.statusOf(id)), uint8(IAttestedGateway.Status.Refunded));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayNotSent.selector,
                id,
                IAttestedGateway.Status.Refunded
            )
        );
        src.refund(message, undelivered);
        assertEq(sender.refunds(), 1);
    }

    /// @dev No outbound record per message: a tampered message (a bigger payload, another sender, an earlier
    ///      deadline) under a nonce that was issued passes the gateway's own checks, and only the attestation stops
    ///      it. Honest attesters sign only what was posted, so their signatures of the real message do not count.
    function test_RevertWhen_RefundingATamperedMessage() public {
        vm.chainId(SRC);
        RefundableSender sender = new RefundableSender(src);
        IAttestedGateway.Message memory message = _sendFrom(sender, address(recipient), "pay 10");
        bytes[] memory honest = _undelivered(src, message);
        vm.warp(uint256(message.deadline) + REFUND_DELAY);
        IAttestedGateway.Message[3] memory forged = [_copy(message), _copy(message), _copy(message)];
        forged[0].payload = "pay 1000";
        forged[1].sender = mallory;
        forged[2].deadline -= 1;
        for (uint256 i; i < forged.length; ++i) {
            bytes32 id = src.messageId(forged[i]);
            vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayTooFewSignatures.selector, 0, 2));
            src.refund(forged[i], new bytes[](0));
            address stranger = ECDSA.recover(src.undeliveredDigest(id, 1), honest[0]);
            vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownAttester.selector, stranger));
            src.refund(forged[i], honest);
        }
        assertEq(sender.refunds(), 0);
        assertEq(uint8(src.outboundStatus(message.nonce)), uint8(IAttestedGateway.Status.Sent));
        src.refund(message, honest);
        assertEq(sender.refunds(), 1);
    }

    /// @dev Defence beyond the attesters: even with a threshold of `Undelivered` signatures (attesters fooled or
    ///      colluding), the gateway refunds nothing it never numbered: a nonce not yet issued, nonce 0, or a
    ///      message naming another source chain or gateway.
    function test_RevertWhen_RefundingAMessageNeverPosted() public {
        vm.chainId(SRC);
        RefundableSender sender = new RefundableSender(src);
        IAttestedGateway.Message memory message = _sendFrom(sender, address(recipient), "pay 10");
        vm.warp(uint256(message.deadline) + REFUND_DELAY);
        IAttestedGateway.Message[4] memory never = [_copy(message), _copy(message), _copy(message), _copy(message)];
        never[0].nonce = message.nonce + 1;
        never[1].nonce = 0;
        never[2].sourceChainId = OTHER;
        never[3].sourceGateway = address(dst);
        for (uint256 i; i < never.length; ++i) {
            bytes[] memory signed = _undelivered(src, never[i]);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAttestedGateway.AttestedGatewayNotSent.selector,
                    src.messageId(never[i]),
                    IAttestedGateway.Status.None
                )
            );
            src.refund(never[i], signed);
        }
        assertEq(sender.refunds(), 0);
        assertEq(uint8(src.outboundStatus(message.nonce + 1)), uint8(IAttestedGateway.Status.None));
    }

    /// @dev A nonce is refunded once, whatever message is claimed under it: after the real refund, a second version
    ///      of the same nonce (as attesters fooled by a source reorganisation might sign) is refused, and so is the
    ///      same message again.
    function test_RevertWhen_ANonceIsRefundedTwice() public {
        vm.chainId(SRC);
        RefundableSender sender = new RefundableSender(src);
        IAttestedGateway.Message memory message = _sendFrom(sender, address(recipient), "pay 10");
        IAttestedGateway.Message memory neighbour = _sendFrom(sender, address(recipient), "pay 20");
        vm.warp(uint256(message.deadline) + REFUND_DELAY);
        src.refund(message, _undelivered(src, message));
        IAttestedGateway.Message memory twin = _copy(message);
        twin.payload = "pay 1000";
        bytes[] memory twinSigs = _undelivered(src, twin);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayNotSent.selector,
                src.messageId(twin),
                IAttestedGateway.Status.Refunded
            )
        );
        src.refund(twin, twinSigs);
        bytes[] memory again = _undelivered(src, message);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayNotSent.selector,
                src.messageId(message),
                IAttestedGateway.Status.Refunded
            )
        );
        src.refund(message, again);
        assertEq(sender.refunds(), 1);
        assertEq(uint8(src.outboundStatus(message.nonce)), uint8(IAttestedGateway.Status.Refunded));
        // Its neighbour in the bitmap word is untouched and refundable once.
        assertEq(uint8(src.outboundStatus(neighbour.nonce)), uint8(IAttestedGateway.Status.Sent));
        src.refund(neighbour, _undelivered(src, neighbour));
        assertEq(sender.refunds(), 2);
    }

    function test_Refund_ARefusingSenderCanBeRefundedLater() public {
        vm.chainId(SRC);
        RefundableSender sender = new RefundableSender(src);
        IAttestedGateway.Message memory message = _sendFrom(sender, address(recipient), "pay 10");
        bytes32 id = src.messageId(message);
        bytes[] memory undelivered = _undelivered(src, message);
        vm.warp(uint256(message.deadline) + REFUND_DELAY);
        sender.setRefuse(true);
        vm.expectRevert(abi.encodeWithSelector(RefundableSender.RefundRefused.selector, id));
        src.refund(message, undelivered);
        assertEq(uint8(src.outboundStatus(message.nonce)), uint8(IAttestedGateway.Status.Sent));
        assertEq(uint8(src.statusOf(id)), uint8(IAttestedGateway.Status.None));
        sender.setRefuse(false);
        src.refund(message, undelivered);
        assertEq(sender.refunds(), 1);
    }

    function test_Refund_WorksAfterTheDestinationIsUnlinked() public {
        // Unlinking a chain stops new messages to it, not the refund of those already sent.
        vm.chainId(SRC);
        RefundableSender sender = new RefundableSender(src);
        IAttestedGateway.Message memory message = _sendFrom(sender, address(recipient), "pay 10");
        bytes[] memory undelivered = _undelivered(src, message);
        vm.prank(gatewayAdmin);
        src.setCounterpart(DST, address(0));
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownChain.selector, DST));
        sender.post(_to(address(recipient)), "pay 20", new bytes[](0));
        vm.warp(uint256(message.deadline) + REFUND_DELAY);
        src.refund(message, undelivered);
        assertEq(sender.refunds(), 1);
    }

    function test_Refund_AnEoaSenderIsOnlyMarked() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        vm.warp(uint256(message.deadline) + REFUND_DELAY);
        src.refund(message, _undelivered(src, message));
        assertEq(uint8(src.statusOf(src.messageId(message))), uint8(IAttestedGateway.Status.Refunded));
    }

    function test_RevertWhen_ADeliveredMessageIsRefunded() public {
        // The double spend the source cannot see: delivered before its deadline, then "refunded" after it. Only an
        // attestation that it was not delivered opens the refund, and honest attesters give none here.
        vm.chainId(SRC);
        RefundableSender sender = new RefundableSender(src);
        IAttestedGateway.Message memory message = _sendFrom(sender, address(recipient), "pay 10");
        bytes32 id = src.messageId(message);
        bytes[] memory deliverySigs = _sigs(message);
        dst.deliver(message, deliverySigs);
        vm.warp(uint256(message.deadline) + REFUND_DELAY);
        vm.chainId(SRC);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayTooFewSignatures.selector, 0, 2));
        src.refund(message, new bytes[](0));
        // The delivery's attestations are not refund attestations (another type, domain and meaning).
        address stranger = ECDSA.recover(src.undeliveredDigest(id, 1), deliverySigs[0]);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownAttester.selector, stranger));
        src.refund(message, deliverySigs);
        // Not even if the attesters had signed the delivery in the source's own domain.
        bytes32 sameDomain = src.attestationDigest(id, 1);
        bytes[] memory crossSigs = new bytes[](2);
        crossSigs[0] = _sign(attesterKey[0], sameDomain);
        crossSigs[1] = _sign(attesterKey[1], sameDomain);
        stranger = ECDSA.recover(src.undeliveredDigest(id, 1), crossSigs[0]);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownAttester.selector, stranger));
        src.refund(message, crossSigs);
        assertEq(sender.refunds(), 0);
        assertEq(uint8(src.outboundStatus(message.nonce)), uint8(IAttestedGateway.Status.Sent));
        assertEq(uint8(src.statusOf(id)), uint8(IAttestedGateway.Status.None));
    }

    function test_RevertWhen_RefundSignaturesAreTooFewOrFromTheOldEpoch() public {
        vm.chainId(SRC);
        RefundableSender sender = new RefundableSender(src);
        IAttestedGateway.Message memory message = _sendFrom(sender, address(recipient), "pay 10");
        bytes32 id = src.messageId(message);
        bytes[] memory undelivered = _undelivered(src, message);
        vm.warp(uint256(message.deadline) + REFUND_DELAY);
        bytes[] memory one = new bytes[](1);
        one[0] = undelivered[0];
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayTooFewSignatures.selector, 1, 2));
        src.refund(message, one);
        vm.prank(gatewayAdmin);
        src.setAttesterSet(_attesterList(), 2);
        address stranger = ECDSA.recover(src.undeliveredDigest(id, 2), undelivered[0]);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownAttester.selector, stranger));
        src.refund(message, undelivered);
        src.refund(message, _undelivered(src, message));
        assertEq(sender.refunds(), 1);
    }

    function test_RevertWhen_ARefundedMessageIsDelivered() public {
        // The other order: once refundable (and attested undelivered), the destination refuses a first delivery
        // and a retry, because both are past the deadline.
        vm.chainId(SRC);
        RefundableSender sender = new RefundableSender(src);
        RevertingRecipient flaky = new RevertingRecipient(RevertingRecipient.Mode.Revert);
        IAttestedGateway.Message memory failed = _sendFrom(sender, address(flaky), "pay 10");
        IAttestedGateway.Message memory pending = _sendFrom(sender, address(recipient), "pay 20");
        _deliver(failed);
        bytes[] memory sigs = _sigs(pending);
        flaky.setMode(RevertingRecipient.Mode.Accept);
        vm.chainId(SRC);
        bytes32 pendingId = src.messageId(pending);
        bytes[] memory pendingUndelivered = _undelivered(src, pending);
        bytes[] memory failedUndelivered = _undelivered(src, failed);
        // While deliverable, not refundable, signatures or not.
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayNotExpired.selector,
                pendingId,
                uint256(pending.deadline) + REFUND_DELAY
            )
        );
        src.refund(pending, pendingUndelivered);
        vm.warp(uint256(pending.deadline) + REFUND_DELAY);
        src.refund(pending, pendingUndelivered);
        src.refund(failed, failedUndelivered);
        assertEq(sender.refunds(), 2);
        vm.chainId(DST);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestedGateway.AttestedGatewayExpired.selector, pendingId, pending.deadline)
        );
        dst.deliver(pending, sigs);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayExpired.selector,
                dst.messageId(failed),
                failed.deadline
            )
        );
        dst.retry(failed);
        assertEq(recipient.count() + flaky.accepted(), 0);
    }

    // ─────────────────────────────────────────────────────────── reentrancy

    function test_RevertWhen_ARecipientReentersDeliver() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        bytes[] memory sigs = _sigs(message);
        recipient.setReentry(address(dst), abi.encodeCall(dst.deliver, (message, sigs)));
        dst.deliver(message, sigs);
        assertEq(recipient.count(), 1);
        assertFalse(recipient.reentrySucceeded());
        assertEq(recipient.reentryResult(), abi.encodeWithSelector(_reentrantSelector()));
    }

    function test_RevertWhen_ARecipientReentersRetry() public {
        RevertingRecipient flaky = new RevertingRecipient(RevertingRecipient.Mode.Revert);
        // A failed message to `flaky`, retried while `recipient` (delivered at the same time) re-enters.
        IAttestedGateway.Message memory failed = _send(alice, address(flaky), "pay 10");
        _deliver(failed);
        flaky.setMode(RevertingRecipient.Mode.Accept);
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 20");
        bytes[] memory sigs = _sigs(message);
        recipient.setReentry(address(dst), abi.encodeCall(dst.retry, (failed)));
        dst.deliver(message, sigs);
        assertFalse(recipient.reentrySucceeded());
        assertEq(recipient.reentryResult(), abi.encodeWithSelector(_reentrantSelector()));
        assertEq(flaky.accepted(), 0);
        dst.retry(failed);
        assertEq(flaky.accepted(), 1);
    }

    function test_RevertWhen_ASenderReentersRefund() public {
        vm.chainId(SRC);
        RefundableSender sender = new RefundableSender(src);
        IAttestedGateway.Message memory message = _sendFrom(sender, address(recipient), "pay 10");
        vm.warp(uint256(message.deadline) + REFUND_DELAY);
        bytes[] memory undelivered = _undelivered(src, message);
        sender.setReentry(address(src), abi.encodeCall(src.refund, (message, undelivered)));
        src.refund(message, undelivered);
        assertEq(sender.refunds(), 1);
        assertFalse(sender.reentrySucceeded());
        assertEq(sender.reentryResult(), abi.encodeWithSelector(_reentrantSelector()));
    }

    // ───────────────────────────────────────────────────────────────── pause

    function test_RevertWhen_PausedEveryPathStops() public {
        vm.chainId(SRC);
        RefundableSender sender = new RefundableSender(src);
        IAttestedGateway.Message memory expired = _sendFrom(sender, address(recipient), "old");
        bytes[] memory undelivered = _undelivered(src, expired);
        vm.warp(uint256(expired.deadline) + REFUND_DELAY);
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        RevertingRecipient flaky = new RevertingRecipient(RevertingRecipient.Mode.Revert);
        IAttestedGateway.Message memory failed = _send(alice, address(flaky), "pay 20");
        _deliver(failed);
        bytes[] memory sigs = _sigs(message);

        vm.chainId(SRC);
        vm.prank(pauser);
        src.pause();
        vm.chainId(DST);
        vm.prank(pauser);
        dst.pause();

        vm.chainId(SRC);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(alice);
        src.sendMessage(_to(address(recipient)), "pay", new bytes[](0));
        vm.expectRevert(Pausable.EnforcedPause.selector);
        src.refund(expired, undelivered);
        vm.chainId(DST);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        dst.deliver(message, sigs);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        dst.retry(failed);

        // The pauser cannot unpause; the gateway admin can.
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                pauser,
                dst.GATEWAY_ADMIN_ROLE()
            )
        );
        vm.prank(pauser);
        dst.unpause();
        vm.prank(gatewayAdmin);
        dst.unpause();
        dst.deliver(message, sigs);
        assertEq(recipient.count(), 1);
        // So can the default admin.
        vm.chainId(SRC);
        vm.prank(admin);
        src.unpause();
        src.refund(expired, undelivered);
        assertEq(sender.refunds(), 1);
    }

    // ─────────────────────────────────────────────────────────────── access

    function test_RevertWhen_AStrangerAdministers() public {
        bytes32 gatewayRole = dst.GATEWAY_ADMIN_ROLE();
        bytes32 pauserRole = dst.PAUSER_ROLE();
        vm.startPrank(mallory);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, mallory, gatewayRole)
        );
        src.setCounterpart(DST, mallory);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, mallory, gatewayRole)
        );
        src.setAttesterSet(_attesterList(), 2);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, mallory, pauserRole)
        );
        src.pause();
        vm.stopPrank();
    }

    // ──────────────────────────────────────────────────────────── attester set

    function test_SetAttesterSet_StartsANewEpoch() public {
        address[] memory set = new address[](1);
        set[0] = alice;
        vm.expectEmit(address(dst));
        emit IAttestedGateway.AttesterSetChanged(2, set, 1);
        vm.prank(gatewayAdmin);
        dst.setAttesterSet(set, 1);
        (address[] memory got, uint8 threshold) = dst.attesters();
        assertEq(got.length, 1);
        assertEq(got[0], alice);
        assertEq(threshold, 1);
        assertEq(dst.epoch(), 2);
    }

    function test_RevertWhen_TheAttesterSetIsBad() public {
        address[] memory list = _attesterList();
        uint8[3] memory badThresholds = [uint8(0), 1, 4];
        vm.startPrank(gatewayAdmin);
        for (uint256 i; i < badThresholds.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(IAttestedGateway.AttestedGatewayBadAttesterSet.selector, 3, badThresholds[i])
            );
            dst.setAttesterSet(list, badThresholds[i]);
        }
        // 2 of 4 is not a majority.
        address[] memory four = new address[](4);
        for (uint256 i; i < 3; ++i) four[i] = list[i];
        four[3] = address(type(uint160).max);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayBadAttesterSet.selector, 4, 2));
        dst.setAttesterSet(four, 2);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayBadAttesterSet.selector, 0, 1));
        dst.setAttesterSet(new address[](0), 1);
        // Unsorted, duplicated, zero.
        address[] memory unsorted = _attesterList();
        (unsorted[0], unsorted[1]) = (unsorted[1], unsorted[0]);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnsortedSigners.selector, list[1], list[0])
        );
        dst.setAttesterSet(unsorted, 2);
        address[] memory duplicated = _attesterList();
        duplicated[2] = duplicated[1];
        vm.expectRevert(
            abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnsortedSigners.selector, list[1], list[1])
        );
        dst.setAttesterSet(duplicated, 2);
        address[] memory withZero = _attesterList();
        withZero[0] = address(0);
        vm.expectRevert(IAttestedGateway.AttestedGatewayZeroAddress.selector);
        dst.setAttesterSet(withZero, 2);
        vm.stopPrank();
        assertEq(dst.epoch(), 1);
    }

    // ──────────────────────────────────────────────────────────── counterpart

    function test_SetCounterpart_EmitsAndRefusesThisChainAndZero() public {
        vm.chainId(DST);
        vm.startPrank(gatewayAdmin);
        vm.expectEmit(address(dst));
        emit IAttestedGateway.CounterpartSet(OTHER, alice);
        dst.setCounterpart(OTHER, alice);
        assertEq(dst.counterpartOf(OTHER), alice);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownChain.selector, DST));
        dst.setCounterpart(DST, alice);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownChain.selector, 0));
        dst.setCounterpart(0, alice);
        vm.stopPrank();
    }

    // ──────────────────────────────────────────────────────────── sendMessage

    function test_SendMessage_NumbersFromOneAndEmits() public {
        vm.chainId(SRC);
        assertEq(src.nextNonce(), 1);
        bytes memory to = _to(address(recipient));
        uint64 deadline = uint64(block.timestamp) + TTL;
        IAttestedGateway.Message memory expected = IAttestedGateway.Message({
            sourceChainId: SRC,
            sourceGateway: address(src),
            nonce: 1,
            destinationChainId: DST,
            destinationGateway: address(dst),
            sender: alice,
            recipient: address(recipient),
            deadline: deadline,
            payload: "pay 10"
        });
        bytes32 id = keccak256(
            abi.encode(
                SRC,
                address(src),
                uint256(1),
                DST,
                address(dst),
                alice,
                address(recipient),
                deadline,
                keccak256("pay 10")
            )
        );
        assertEq(src.messageId(expected), id, "the documented formula");
        vm.expectEmit(address(src));
        emit IERC7786GatewaySource.MessageSent(
            id,
            InteroperableAddress.formatEvmV1(SRC, alice),
            to,
            "pay 10",
            0,
            new bytes[](0)
        );
        vm.expectEmit(address(src));
        emit IAttestedGateway.MessagePosted(id, DST, 1, address(dst), alice, address(recipient), deadline, "pay 10");
        vm.prank(alice);
        assertEq(src.sendMessage(to, "pay 10", new bytes[](0)), id);
        assertEq(uint8(src.outboundStatus(1)), uint8(IAttestedGateway.Status.Sent));
        assertEq(uint8(src.outboundStatus(2)), uint8(IAttestedGateway.Status.None));
        assertEq(uint8(src.statusOf(id)), uint8(IAttestedGateway.Status.None), "no record per message");
        assertEq(src.nextNonce(), 2);
        IAttestedGateway.Message memory second = _send(alice, address(recipient), "pay 10");
        assertEq(second.nonce, 2);
        assertTrue(src.messageId(second) != id, "same content, new nonce, new id");
    }

    function test_SendMessage_TakesTheDeadlineAttribute() public {
        vm.chainId(SRC);
        uint64 deadline = uint64(block.timestamp) + src.MAX_TTL();
        IAttestedGateway.Message memory message = _sendWithDeadline(
            alice,
            address(recipient),
            "pay 10",
            deadline,
            _deadlineAttribute(deadline)
        );
        assertEq(message.deadline, deadline);
        _deliver(message);
        assertEq(recipient.count(), 1);
    }

    function test_RevertWhen_SendMessageGetsValue() public {
        vm.chainId(SRC);
        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayValueNotAccepted.selector, 1));
        vm.prank(alice);
        src.sendMessage{value: 1}(_to(address(recipient)), "pay", new bytes[](0));
    }

    function test_RevertWhen_SendingToAChainWithoutCounterpart() public {
        vm.chainId(SRC);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownChain.selector, OTHER));
        src.sendMessage(InteroperableAddress.formatEvmV1(OTHER, alice), "pay", new bytes[](0));
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnknownChain.selector, SRC));
        src.sendMessage(InteroperableAddress.formatEvmV1(SRC, alice), "pay", new bytes[](0));
        assertEq(src.nextNonce(), 1);
    }

    function test_RevertWhen_TheRecipientIsNotACanonicalEvmAddress() public {
        vm.chainId(SRC);
        bytes memory good = _to(alice); // 0x0001 0000 02 10f7 14 <alice>
        bytes[9] memory bad = [
            bytes(""),
            hex"0001000002",
            InteroperableAddress.formatEvmV1(DST), // chain only
            InteroperableAddress.formatEvmV1(alice), // address only
            abi.encodePacked(good, uint8(0)), // trailing byte
            abi.encodePacked(hex"000100000300", uint16(DST), uint8(20), alice), // chain reference with a zero lead
            InteroperableAddress.formatEvmV1(DST, address(0)),
            abi.encodePacked(hex"00010001", uint8(2), uint16(DST), uint8(20), alice), // not eip155
            abi.encodePacked(hex"00010000", uint8(2), uint16(DST), uint8(32), bytes32(uint256(uint160(alice)))) // 32 B
        ];
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayBadRecipient.selector, bad[i]));
            src.sendMessage(bad[i], "pay", new bytes[](0));
        }
        src.sendMessage(good, "pay", new bytes[](0));
    }

    function test_RevertWhen_AnAttributeIsUnsupportedOrMalformed() public {
        vm.chainId(SRC);
        bytes memory to = _to(alice);
        bytes[] memory attributes = new bytes[](1);
        attributes[0] = abi.encodeWithSignature("requestRelay(uint256,uint256,address)", 1, 2, alice);
        vm.expectRevert(
            abi.encodeWithSelector(IERC7786GatewaySource.UnsupportedAttribute.selector, bytes4(attributes[0]))
        );
        src.sendMessage(to, "pay", attributes);
        attributes[0] = hex"01";
        vm.expectRevert(
            abi.encodeWithSelector(IERC7786GatewaySource.UnsupportedAttribute.selector, bytes4(0x01000000))
        );
        src.sendMessage(to, "pay", attributes);
        // Wrong length, value wider than uint64, twice.
        uint64 deadline = uint64(block.timestamp) + 1 hours;
        attributes[0] = abi.encodePacked(abi.encodeWithSignature("deadline(uint64)", deadline), uint8(0));
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayBadAttribute.selector, attributes[0]));
        src.sendMessage(to, "pay", attributes);
        attributes[0] = abi.encodeWithSignature("deadline(uint64)", (uint256(1) << 64) | deadline);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayBadAttribute.selector, attributes[0]));
        src.sendMessage(to, "pay", attributes);
        bytes[] memory twice = new bytes[](2);
        twice[0] = abi.encodeWithSignature("deadline(uint64)", deadline);
        twice[1] = twice[0];
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayBadAttribute.selector, twice[1]));
        src.sendMessage(to, "pay", twice);
        assertEq(src.nextNonce(), 1);
    }

    function test_RevertWhen_TheDeadlineIsOutOfRange() public {
        vm.chainId(SRC);
        bytes memory to = _to(alice);
        uint64 now_ = uint64(block.timestamp);
        uint64[3] memory bad = [now_, now_ + src.MAX_TTL() + 1, 0];
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayBadDeadline.selector, bad[i]));
            src.sendMessage(to, "pay", _deadlineAttribute(bad[i]));
        }
    }

    function test_SupportsAttribute_OnlyTheDeadline() public view {
        assertTrue(src.supportsAttribute(bytes4(keccak256("deadline(uint64)"))));
        assertTrue(src.supportsAttribute(src.DEADLINE_ATTRIBUTE()));
        assertFalse(src.supportsAttribute(bytes4(0)));
        assertFalse(src.supportsAttribute(bytes4(keccak256("requestRelay(uint256,uint256,address)"))));
    }

    // ────────────────────────────────────────────────────────────── deliver

    function test_Deliver_CallsTheRecipientOnce() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        bytes32 id = src.messageId(message);
        bytes[] memory sigs = _sigs(message);
        vm.expectEmit(address(dst));
        emit IAttestedGateway.MessageDelivered(id, SRC, message.nonce);
        dst.deliver(message, sigs);
        assertEq(recipient.count(), 1);
        RecordingRecipient.Received memory got = recipient.received(0);
        assertEq(got.gateway, address(dst));
        assertEq(got.receiveId, id);
        assertEq(got.sender, InteroperableAddress.formatEvmV1(SRC, alice));
        assertEq(got.payload, bytes("pay 10"));
        assertEq(uint8(dst.inboundStatus(SRC, message.nonce)), uint8(IAttestedGateway.Status.Delivered));
        assertEq(uint8(dst.statusOf(id)), uint8(IAttestedGateway.Status.None), "statusOf is outbound only");
    }

    function test_Deliver_AllThreeSignaturesAlsoWork() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        vm.chainId(DST);
        bytes32 digest = dst.attestationDigest(dst.messageId(message), 1);
        bytes[] memory sigs = new bytes[](3);
        for (uint256 i; i < 3; ++i) sigs[i] = _sign(attesterKey[i], digest);
        dst.deliver(message, sigs);
        assertEq(recipient.count(), 1);
    }

    function test_Deliver_WorksWithOpenZeppelinCrosschainLinked() public {
        // A on SRC and B on DST, linked through the two gateways, as the BurnMintLane is.
        vm.chainId(SRC);
        LinkedCounter a = new LinkedCounter();
        vm.chainId(DST);
        LinkedCounter b = new LinkedCounter();
        vm.chainId(SRC);
        a.link(address(src), InteroperableAddress.formatEvmV1(DST, address(b)));
        vm.chainId(DST);
        b.link(address(dst), InteroperableAddress.formatEvmV1(SRC, address(a)));
        vm.chainId(SRC);
        uint64 deadline = uint64(block.timestamp) + 1 hours;
        uint256 nonce = src.nextNonce();
        bytes32 id = a.send(InteroperableAddress.formatEvmV1(DST), "mint 10", _deadlineAttribute(deadline));
        IAttestedGateway.Message memory message = IAttestedGateway.Message({
            sourceChainId: SRC,
            sourceGateway: address(src),
            nonce: nonce,
            destinationChainId: DST,
            destinationGateway: address(dst),
            sender: address(a),
            recipient: address(b),
            deadline: deadline,
            payload: "mint 10"
        });
        assertEq(id, src.messageId(message));
        _deliver(message);
        assertEq(b.processed(), 1);
        assertEq(b.lastPayload(), bytes("mint 10"));
        // Alice (not A) writing to B through the same gateways: B refuses, the message is stored as Failed.
        IAttestedGateway.Message memory impostor = _send(alice, address(b), "mint 1000");
        bytes32 impostorId = src.messageId(impostor);
        bytes[] memory sigs = _sigs(impostor);
        vm.expectEmit(address(dst));
        emit IAttestedGateway.MessageFailed(
            impostorId,
            SRC,
            impostor.nonce,
            abi.encodeWithSelector(
                ERC7786Recipient.ERC7786RecipientUnauthorizedGateway.selector,
                address(dst),
                InteroperableAddress.formatEvmV1(SRC, alice)
            )
        );
        dst.deliver(impostor, sigs);
        assertEq(b.processed(), 1);
    }

    function test_AttestationDigest_IsEip712() public {
        vm.chainId(DST);
        bytes32 id = keccak256("some message");
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("BankChain AttestedGateway"),
                keccak256("1"),
                DST,
                address(dst)
            )
        );
        bytes32 structHash = keccak256(abi.encode(keccak256("Attestation(bytes32 messageId,uint64 epoch)"), id, 7));
        assertEq(dst.attestationDigest(id, 7), keccak256(abi.encodePacked(hex"1901", domain, structHash)));
    }

    // ───────────────────────────────────────────────────────── construction

    function test_RevertWhen_ConstructedOutOfRange() public {
        uint64 max = 30 days;
        uint64[2][4] memory bad = [[uint64(0), 1], [max + 1, 1], [uint64(1), 0], [uint64(1), max + 1]];
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(IAttestedGateway.AttestedGatewayBadConfig.selector, bad[i][0], bad[i][1])
            );
            new AttestedGateway(admin, ADMIN_DELAY, bad[i][0], bad[i][1], MIN_GAS);
        }
        AttestedGateway ok = new AttestedGateway(admin, ADMIN_DELAY, max, max, 0);
        assertEq(ok.defaultTtl(), max);
        assertEq(ok.refundDelay(), max);
        assertEq(ok.minDeliveryGas(), 0);
        assertEq(ok.epoch(), 0);
    }

    // ──────────────────────────────────────────────────────────── layout, gas

    function test_Layout_HotStateSharesOneSlot() public {
        _send(alice, address(recipient), "pay 10");
        // slot 5: paused (1 byte) | last nonce (8) | epoch (8) | threshold (1)
        uint256 word = uint256(vm.load(address(src), bytes32(uint256(5))));
        assertEq(word & 0xff, 0, "not paused");
        assertEq((word >> 8) & type(uint64).max, 1, "last nonce");
        assertEq((word >> 72) & type(uint64).max, 1, "epoch");
        assertEq((word >> 136) & 0xff, 2, "threshold");
    }

    /// @dev Gas of `sendMessage` (100-byte payload) and of `deliver` (2-of-3, to a recipient that writes nothing),
    ///      each as in a transaction of its own: storage cold, the gateway's account warm. The figures match the
    ///      receipts of real transactions (70,145 and 79,725 gas with the 21,000 base and calldata, at this commit).
    function test_Gas_SendMessageAndDeliver2of3() public {
        bytes memory payload = new bytes(100);
        for (uint256 i; i < 100; ++i) payload[i] = bytes1(uint8(i + 1));
        // One message first, so the figures are for the steady state (nonce slot already non-zero).
        _send(alice, address(cheap), payload);

        vm.chainId(SRC);
        bytes memory to = _to(address(cheap));
        bytes[] memory attributes = new bytes[](0);
        uint256 nonce = src.nextNonce();
        vm.cool(address(src));
        vm.prank(alice);
        src.sendMessage(to, payload, attributes);
        uint256 sendGas = _executionGasOfLastCall(abi.encodeCall(src.sendMessage, (to, payload, attributes)));

        IAttestedGateway.Message memory message = IAttestedGateway.Message({
            sourceChainId: SRC,
            sourceGateway: address(src),
            nonce: nonce,
            destinationChainId: DST,
            destinationGateway: address(dst),
            sender: alice,
            recipient: address(cheap),
            deadline: uint64(block.timestamp) + TTL,
            payload: payload
        });
        bytes[] memory sigs = _sigs(message);
        vm.cool(address(dst));
        vm.prank(relayer);
        dst.deliver(message, sigs);
        uint256 deliverGas = _executionGasOfLastCall(abi.encodeCall(dst.deliver, (message, sigs)));
        assertEq(uint8(dst.inboundStatus(SRC, nonce)), uint8(IAttestedGateway.Status.Delivered));

        uint256 sendCalldata = _calldataGas(abi.encodeCall(src.sendMessage, (to, payload, attributes)));
        uint256 deliverCalldata = _calldataGas(abi.encodeCall(dst.deliver, (message, sigs)));
        emit log_named_uint("sendMessage execution gas (100-byte payload)", sendGas);
        emit log_named_uint("sendMessage transaction gas", 21_000 + sendCalldata + sendGas);
        emit log_named_uint("deliver 2-of-3 execution gas (cheap recipient)", deliverGas);
        emit log_named_uint("deliver transaction gas", 21_000 + deliverCalldata + deliverGas);
        // Regression bounds, execution only.
        assertLt(sendGas, 48_000, "sendMessage");
        // Inbound state keyed by the source gateway too (a replaced gateway's nonces cannot collide): about 250 more.
        assertLt(deliverGas, 52_500, "deliver");
    }

    /// @dev The execution gas of the last call. Under `--gas-stats` each call from a test is charged as a transaction
    ///      of its own (21,000 plus calldata included), which a probe call reveals; that part is taken off.
    function _executionGasOfLastCall(bytes memory data) internal returns (uint256 used) {
        GasProbe probe = new GasProbe();
        used = vm.lastCallGas().gasTotalUsed;
        probe.ping();
        if (vm.lastCallGas().gasTotalUsed > 21_000) used -= 21_000 + _calldataGas(data);
    }

    // ────────────────────────────────────────────────────────────────── fuzz

    function testFuzz_messageId_isTheSendId(address from, bytes calldata payload, uint32 ttl) public {
        vm.assume(from != address(0));
        uint64 deadline = uint64(block.timestamp) + uint64(bound(ttl, 1, 30 days));
        IAttestedGateway.Message memory message = _sendWithDeadline(
            from,
            address(recipient),
            payload,
            deadline,
            _deadlineAttribute(deadline)
        );
        assertEq(uint8(src.outboundStatus(message.nonce)), uint8(IAttestedGateway.Status.Sent));
    }

    function testFuzz_deliver_anyAlteredFieldIsRefused(uint8 field, uint256 noise) public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        bytes[] memory sigs = _sigs(message);
        noise = bound(noise, 1, type(uint32).max);
        field = uint8(bound(field, 0, 5));
        if (field == 0) message.nonce += noise;
        else if (field == 1) message.sender = address(uint160(message.sender) ^ uint160(noise));
        else if (field == 2) message.recipient = address(uint160(message.recipient) ^ uint160(noise));
        else if (field == 3) message.deadline -= uint64(bound(noise, 1, TTL - 1));
        else if (field == 4) message.payload = abi.encodePacked(message.payload, noise);
        else message.sourceGateway = address(uint160(message.sourceGateway) ^ uint160(noise));
        vm.expectRevert();
        dst.deliver(message, sigs);
        assertEq(recipient.count(), 0);
    }

    // ──────────────────────────────────────────────────────────────── helpers

    function _sendFrom(
        RefundableSender sender,
        address to,
        bytes memory payload
    ) internal returns (IAttestedGateway.Message memory message) {
        vm.chainId(SRC);
        uint256 nonce = src.nextNonce();
        bytes32 id = sender.post(_to(to), payload, new bytes[](0));
        message = IAttestedGateway.Message({
            sourceChainId: SRC,
            sourceGateway: address(src),
            nonce: nonce,
            destinationChainId: DST,
            destinationGateway: address(dst),
            sender: address(sender),
            recipient: to,
            deadline: uint64(block.timestamp) + TTL,
            payload: payload
        });
        assertEq(id, src.messageId(message));
    }

    function _reentrantSelector() internal pure returns (bytes4) {
        return ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector;
    }

    function _calldataGas(bytes memory data) internal pure returns (uint256 total) {
        for (uint256 i; i < data.length; ++i) total += data[i] == 0 ? 4 : 16;
    }
}
