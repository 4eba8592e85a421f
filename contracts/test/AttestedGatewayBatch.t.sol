// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IAttestedGateway} from "../interop/interfaces/IAttestedGateway.sol";
import {AttestedGatewayFixture} from "./AttestedGateway.t.sol";
import {RevertingRecipient} from "./mocks/RevertingRecipient.sol";

/// @dev `deliverBatch`: each member is checked as `deliver` checks it, a member `deliver` would refuse is skipped
///      (`MessageSkipped` with the error's selector) and the others go on. Attacks first.
contract AttestedGatewayBatchTest is AttestedGatewayFixture {
    // ──────────────────────────────────────────── attacks: replay inside and around a batch

    /// @dev The same message twice in one batch: delivered once, the second copy skipped as already processed.
    function test_RevertWhen_TheSameMessageIsTwiceInOneBatch() public {
        IAttestedGateway.Message memory message = _send(alice, address(recipient), "pay 10");
        IAttestedGateway.Message[] memory batch = new IAttestedGateway.Message[](2);
        (batch[0], batch[1]) = (message, message);
        bytes[][] memory sigs = _sigsOf(batch);
        vm.expectEmit(address(dst));
        emit IAttestedGateway.MessageDelivered(src.messageId(message), SRC, message.nonce);
        vm.expectEmit(address(dst));
        emit IAttestedGateway.MessageSkipped(
            src.messageId(message),
            IAttestedGateway.AttestedGatewayAlreadyProcessed.selector
        );
        dst.deliverBatch(batch, sigs);
        assertEq(recipient.count(), 1, "delivered once");
    }

    /// @dev Someone front-runs the relayer's batch with a single `deliver` of one member: the batch still delivers
    ///      the others, skips that one, and the outcome for every message is the one the sender asked for.
    function test_DeliverBatch_FrontRunByASingleDeliverOfOneMember() public {
        IAttestedGateway.Message[] memory batch = _sendMany(3);
        bytes[][] memory sigs = _sigsOf(batch);
        vm.prank(mallory);
        dst.deliver(batch[1], sigs[1]);
        vm.expectEmit(address(dst));
        emit IAttestedGateway.MessageSkipped(
            dst.messageId(batch[1]),
            IAttestedGateway.AttestedGatewayAlreadyProcessed.selector
        );
        vm.prank(relayer);
        dst.deliverBatch(batch, sigs);
        assertEq(recipient.count(), 3, "each member once");
        for (uint256 i; i < 3; ++i) {
            assertEq(uint8(dst.inboundStatus(SRC, batch[i].nonce)), uint8(IAttestedGateway.Status.Delivered));
        }
        // And a batch replayed whole delivers nothing again.
        dst.deliverBatch(batch, sigs);
        assertEq(recipient.count(), 3);
    }

    // ──────────────────────────────────────────── attacks: signatures of one member

    /// @dev A member carrying the signatures of another message's id (both real attesters) is skipped: they recover
    ///      to strangers.
    function test_RevertWhen_AMemberCarriesAnotherMessagesSignatures() public {
        IAttestedGateway.Message[] memory batch = _sendMany(2);
        bytes[][] memory sigs = _sigsOf(batch);
        sigs[1] = sigs[0];
        _expectSkipped(batch[1], IAttestedGateway.AttestedGatewayUnknownAttester.selector);
        dst.deliverBatch(batch, sigs);
        assertEq(recipient.count(), 1);
        assertEq(uint8(dst.inboundStatus(SRC, batch[1].nonce)), uint8(IAttestedGateway.Status.None), "still open");
    }

    function test_RevertWhen_AMemberHasOneAttesterTwice() public {
        IAttestedGateway.Message[] memory batch = _sendMany(2);
        bytes[][] memory sigs = _sigsOf(batch);
        sigs[0][1] = sigs[0][0];
        _expectSkipped(batch[0], IAttestedGateway.AttestedGatewayUnsortedSigners.selector);
        dst.deliverBatch(batch, sigs);
        assertEq(recipient.count(), 1);
        assertEq(uint8(dst.inboundStatus(SRC, batch[0].nonce)), uint8(IAttestedGateway.Status.None));
    }

    function test_RevertWhen_AMemberIsSignedForTheOldEpoch() public {
        IAttestedGateway.Message[] memory batch = _sendMany(2);
        bytes[][] memory oldSigs = _sigsOf(batch);
        vm.prank(gatewayAdmin);
        dst.setAttesterSet(_attesterList(), 2);
        bytes[][] memory sigs = _sigsOf(batch);
        sigs[1] = oldSigs[1];
        _expectSkipped(batch[1], IAttestedGateway.AttestedGatewayUnknownAttester.selector);
        dst.deliverBatch(batch, sigs);
        assertEq(recipient.count(), 1);
    }

    /// @dev Every way `deliver` refuses a message, each in a batch between two good members: each bad one is skipped
    ///      with its error's selector, nothing is written for it, and both good ones are delivered.
    function test_RevertWhen_BadMembersAreSlippedAmongGoodOnes() public {
        IAttestedGateway.Message memory first = _send(alice, address(recipient), "good 1");
        IAttestedGateway.Message memory victim = _send(alice, address(recipient), "victim");
        IAttestedGateway.Message memory last = _send(alice, address(recipient), "good 2");
        vm.chainId(DST);
        bytes[] memory victimSigs = _sigs(dst, victim, 0, 1);
        for (uint256 kind; kind < 9; ++kind) {
            uint256 snapshot = vm.snapshotState();
            (IAttestedGateway.Message memory bad, bytes[] memory badSigs, bytes4 reason) = _spoil(
                kind,
                victim,
                victimSigs
            );
            IAttestedGateway.Message[] memory batch = new IAttestedGateway.Message[](3);
            (batch[0], batch[1], batch[2]) = (first, bad, last);
            bytes[][] memory sigs = _sigsOf(batch);
            sigs[1] = badSigs;
            _expectSkipped(bad, reason);
            dst.deliverBatch(batch, sigs);
            assertEq(recipient.count(), 2, "both good members");
            assertEq(uint8(dst.inboundStatus(SRC, victim.nonce)), uint8(IAttestedGateway.Status.None), "untouched");
            // The genuine message is still deliverable.
            dst.deliver(victim, victimSigs);
            assertEq(recipient.count(), 3);
            vm.revertToState(snapshot);
        }
    }

    // ──────────────────────────────────────────── attacks: recipients, gas, pause

    /// @dev A recipient that re-enters `deliver`, `deliverBatch` or `retry` during a batch gets the reentrancy error;
    ///      the message it re-enters with stays as it was.
    function test_RevertWhen_ARecipientReentersDuringABatch() public {
        RevertingRecipient flaky = new RevertingRecipient(RevertingRecipient.Mode.Revert);
        IAttestedGateway.Message memory failed = _send(alice, address(flaky), "pay 10");
        _deliver(failed);
        flaky.setMode(RevertingRecipient.Mode.Accept);
        for (uint256 kind; kind < 3; ++kind) {
            uint256 snapshot = vm.snapshotState();
            IAttestedGateway.Message[] memory batch = _sendMany(2);
            IAttestedGateway.Message memory other = _send(alice, address(recipient), "other");
            bytes[][] memory sigs = _sigsOf(batch);
            bytes[] memory otherSigs = _sigs(other);
            IAttestedGateway.Message[] memory inner = new IAttestedGateway.Message[](1);
            inner[0] = other;
            bytes[][] memory innerSigs = new bytes[][](1);
            innerSigs[0] = otherSigs;
            bytes memory reentry =
                kind == 0
                    ? abi.encodeCall(dst.deliver, (other, otherSigs))
                    : kind == 1
                        ? abi.encodeCall(dst.deliverBatch, (inner, innerSigs))
                        : abi.encodeCall(dst.retry, (failed));
            recipient.setReentry(address(dst), reentry);
            dst.deliverBatch(batch, sigs);
            assertFalse(recipient.reentrySucceeded());
            assertEq(
                recipient.reentryResult(),
                abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector)
            );
            assertEq(recipient.count(), 2, "the batch itself delivered");
            assertEq(uint8(dst.inboundStatus(SRC, other.nonce)), uint8(IAttestedGateway.Status.None));
            assertEq(flaky.accepted(), 0);
            vm.revertToState(snapshot);
        }
    }

    /// @dev A member whose recipient fails is stored `Failed` (retryable) and the batch goes on.
    function test_DeliverBatch_AFailingRecipientLeavesItsMessageFailed() public {
        RevertingRecipient flaky = new RevertingRecipient(RevertingRecipient.Mode.Revert);
        IAttestedGateway.Message[] memory batch = new IAttestedGateway.Message[](3);
        batch[0] = _send(alice, address(recipient), "one");
        batch[1] = _send(alice, address(flaky), "two");
        batch[2] = _send(alice, address(recipient), "three");
        dst.deliverBatch(batch, _sigsOf(batch));
        assertEq(recipient.count(), 2);
        assertEq(uint8(dst.inboundStatus(SRC, batch[1].nonce)), uint8(IAttestedGateway.Status.Failed));
        flaky.setMode(RevertingRecipient.Mode.Accept);
        dst.retry(batch[1]);
        assertEq(flaky.accepted(), 1);
    }

    /// @dev A relayer that starves one member's recipient cannot turn it `Failed`: the whole batch reverts.
    function test_RevertWhen_ARelayerStarvesAMemberOfABatch() public {
        RevertingRecipient hungry = new RevertingRecipient(RevertingRecipient.Mode.NeedsGas);
        hungry.setGasNeeded(MIN_GAS);
        IAttestedGateway.Message[] memory batch = new IAttestedGateway.Message[](2);
        batch[0] = _send(alice, address(recipient), "one");
        batch[1] = _send(alice, address(hungry), "two");
        bytes[][] memory sigs = _sigsOf(batch);
        vm.expectPartialRevert(IAttestedGateway.AttestedGatewayInsufficientGas.selector);
        dst.deliverBatch{gas: 300_000}(batch, sigs);
        assertEq(uint8(dst.inboundStatus(SRC, batch[0].nonce)), uint8(IAttestedGateway.Status.None));
        assertEq(uint8(dst.inboundStatus(SRC, batch[1].nonce)), uint8(IAttestedGateway.Status.None));
        dst.deliverBatch(batch, sigs);
        assertEq(uint8(dst.inboundStatus(SRC, batch[1].nonce)), uint8(IAttestedGateway.Status.Delivered));
    }

    function test_RevertWhen_ABatchIsDeliveredWhilePaused() public {
        IAttestedGateway.Message[] memory batch = _sendMany(2);
        bytes[][] memory sigs = _sigsOf(batch);
        vm.prank(pauser);
        dst.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        dst.deliverBatch(batch, sigs);
        vm.prank(gatewayAdmin);
        dst.unpause();
        dst.deliverBatch(batch, sigs);
        assertEq(recipient.count(), 2);
    }

    // ──────────────────────────────────────────── bad input

    function test_RevertWhen_TheBatchIsEmptyTooLargeOrMismatched() public {
        vm.chainId(DST);
        uint256 max = dst.MAX_BATCH();
        assertEq(max, 64);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayBadBatchSize.selector, 0, max));
        dst.deliverBatch(new IAttestedGateway.Message[](0), new bytes[][](0));
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayBadBatchSize.selector, max + 1, max));
        dst.deliverBatch(new IAttestedGateway.Message[](max + 1), new bytes[][](max + 1));
        IAttestedGateway.Message[] memory batch = _sendMany(2);
        bytes[][] memory sigs = _sigsOf(batch);
        bytes[][] memory short = new bytes[][](1);
        short[0] = sigs[0];
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayBatchLengthMismatch.selector, 2, 1));
        dst.deliverBatch(batch, short);
    }

    // ──────────────────────────────────────────── behaviour

    /// @dev A full batch of `MAX_BATCH` distinct messages: each delivered once, in order, with the `deliver` events.
    function test_DeliverBatch_DeliversAFullBatchInOrder() public {
        vm.chainId(DST);
        uint256 max = dst.MAX_BATCH();
        IAttestedGateway.Message[] memory batch = _sendMany(max);
        bytes[][] memory sigs = _sigsOf(batch);
        for (uint256 i; i < max; ++i) {
            vm.expectEmit(address(dst));
            emit IAttestedGateway.MessageDelivered(dst.messageId(batch[i]), SRC, batch[i].nonce);
        }
        dst.deliverBatch(batch, sigs);
        assertEq(recipient.count(), max);
        for (uint256 i; i < max; ++i) {
            assertEq(recipient.received(i).receiveId, dst.messageId(batch[i]));
        }
    }

    // ──────────────────────────────────────────── helpers

    /// @dev The `kind`-th way to make `victim` (signed `victimSigs`) refused by `deliver`, and the error's selector.
    function _spoil(
        uint256 kind,
        IAttestedGateway.Message memory victim,
        bytes[] memory victimSigs
    ) internal view returns (IAttestedGateway.Message memory bad, bytes[] memory badSigs, bytes4 reason) {
        bad = _copy(victim);
        badSigs = new bytes[](2);
        (badSigs[0], badSigs[1]) = (victimSigs[0], victimSigs[1]);
        if (kind == 0) {
            bad.destinationChainId = OTHER;
            reason = IAttestedGateway.AttestedGatewayWrongDestination.selector;
        } else if (kind == 1) {
            bad.destinationGateway = address(src);
            reason = IAttestedGateway.AttestedGatewayWrongDestination.selector;
        } else if (kind == 2) {
            bad.sourceGateway = mallory;
            reason = IAttestedGateway.AttestedGatewayUnknownSource.selector;
        } else if (kind == 3) {
            bad.deadline = uint64(block.timestamp) - 1;
            reason = IAttestedGateway.AttestedGatewayExpired.selector;
        } else if (kind == 4) {
            badSigs = new bytes[](1);
            badSigs[0] = victimSigs[0];
            reason = IAttestedGateway.AttestedGatewayTooFewSignatures.selector;
        } else if (kind == 5) {
            (badSigs[0], badSigs[1]) = (victimSigs[1], victimSigs[0]);
            reason = IAttestedGateway.AttestedGatewayUnsortedSigners.selector;
        } else if (kind == 6) {
            badSigs[1] = _sign(malloryKey, dst.attestationDigest(dst.messageId(victim), dst.epoch()));
            if (mallory < attester[0]) (badSigs[0], badSigs[1]) = (badSigs[1], badSigs[0]);
            reason = IAttestedGateway.AttestedGatewayUnknownAttester.selector;
        } else if (kind == 7) {
            badSigs[1] = abi.encodePacked(victimSigs[1], hex"00");
            reason = IAttestedGateway.AttestedGatewayInvalidSignature.selector;
        } else {
            bad.payload = "victim, but more";
            reason = IAttestedGateway.AttestedGatewayUnknownAttester.selector;
        }
    }

    function _sendMany(uint256 count) internal returns (IAttestedGateway.Message[] memory batch) {
        batch = new IAttestedGateway.Message[](count);
        for (uint256 i; i < count; ++i) batch[i] = _send(alice, address(recipient), abi.encode("pay", i));
    }

    /// @dev 2-of-3 signatures for each message, for DST's current epoch (switches to DST).
    function _sigsOf(IAttestedGateway.Message[] memory batch) internal returns (bytes[][] memory sigs) {
        sigs = new bytes[][](batch.length);
        for (uint256 i; i < batch.length; ++i) sigs[i] = _sigs(batch[i]);
    }

    function _expectSkipped(IAttestedGateway.Message memory message, bytes4 reason) internal {
        vm.chainId(DST);
        bytes32 id = dst.messageId(message);
        vm.expectEmit(address(dst));
        emit IAttestedGateway.MessageSkipped(id, reason);
    }
}
