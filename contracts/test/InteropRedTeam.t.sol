// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {InteroperableAddress} from "@openzeppelin/contracts/utils/draft-InteroperableAddress.sol";

import {AttestedGateway} from "../interop/AttestedGateway.sol";
import {BridgeRegistry} from "../interop/BridgeRegistry.sol";
import {BurnMintLane} from "../interop/BurnMintLane.sol";
import {InteropGateway} from "../interop/InteropGateway.sol";
import {IAttestedGateway} from "../interop/interfaces/IAttestedGateway.sol";
import {IInteropGateway} from "../interop/interfaces/IInteropGateway.sol";
import {MockYesWallet} from "./mocks/MockSignerWallets.sol";
import {IBankToken} from "../token/interfaces/IBankToken.sol";
import {LaneFixture} from "./utils/LaneFixture.sol";

/// @dev Red team of the interop part, end to end: a user's signed payload goes through the InteropGateway of chain
///      A, the BurnMintLane and the AttestedGateway, and is delivered (or refunded) with the attesters' signatures on
///      chain B (both chains in one EVM, switched with `vm.chainId`, see LaneFixture). Each test is an attack and
///      passes when the system resists it. The guard each one bites on is named in its comment.
contract InteropRedTeamTest is LaneFixture {
    ChainSet internal a;
    ChainSet internal b;
    InteropGateway internal igA;
    InteropGateway internal igB;
    address internal alice;
    uint256 internal aliceKey;
    address internal mallory;
    uint256 internal malloryKey;
    address internal bob = makeAddr("bob");

    uint256 internal constant FUNDS = 1_000_000;

    function setUp() public {
        vm.warp(T0);
        _makeAttesters();
        a = _deployChain(CHAIN_A, "bankA");
        b = _deployChain(CHAIN_B, "bankB");
        _connect(a, b);
        (alice, aliceKey) = makeAddrAndKey("alice");
        (mallory, malloryKey) = makeAddrAndKey("mallory");
        igA = _deployInterop(a);
        igB = _deployInterop(b);
        _fund(a, igA);
        _fund(b, igB);
    }

    // ───────────────────────────────────────────── replay of a user payload

    /// @dev Guard: the EIP-712 domain (chain id) and `sourceChain == caip2()`. Alice's CrossChain payload signed for
    ///      chain A is shown to chain B's gateway as it is, and with its chains swapped: refused both ways.
    function test_RevertWhen_UserPayloadReplayedOnTheOtherChain() public {
        _on(a);
        IInteropGateway.Payload memory p = _payload(a, IInteropGateway.Kind.CrossChain, _caip2(CHAIN_B), bob, 1_000, 1);
        bytes memory sig = _sign(aliceKey, igA.payloadDigest(p));

        _on(b);
        vm.expectRevert(abi.encodeWithSelector(IInteropGateway.InteropGatewayWrongSourceChain.selector, p.sourceChain));
        vm.prank(mallory);
        igB.execute(p, alice, sig);

        IInteropGateway.Payload memory swapped = _payload(
            b,
            IInteropGateway.Kind.CrossChain,
            _caip2(CHAIN_A),
            bob,
            1_000,
            1
        );
        vm.expectRevert(abi.encodeWithSelector(IInteropGateway.InteropGatewayInvalidSignature.selector, alice));
        vm.prank(mallory);
        igB.execute(swapped, alice, sig);

        // The same gateway code at the same address on chain B (the devnet deploys both chains alike): the domain's
        // chain id differs, so even a payload naming chain B as its source does not verify.
        IInteropGateway.Payload memory sameAddress = _payload(
            a,
            IInteropGateway.Kind.CrossChain,
            _caip2(CHAIN_A),
            bob,
            1_000,
            1
        );
        sameAddress.sourceChain = _caip2(CHAIN_B);
        vm.expectRevert(abi.encodeWithSelector(IInteropGateway.InteropGatewayInvalidSignature.selector, alice));
        igA.execute(sameAddress, alice, sig);
        assertEq(b.token.balanceOf(alice), FUNDS, "nothing left alice on chain B");
        assertFalse(igB.isNonceUsed(alice, 1));

        _on(a);
        igA.execute(p, alice, sig);
        assertEq(a.token.balanceOf(alice), FUNDS - 1_000, "the payload does what it says, once, where it says");
    }

    /// @dev Guard: `kind` and `destinationChain` are in the signed struct. A native Transfer's signature does not
    ///      authorise a CrossChain payload with the same other fields, nor the reverse.
    function test_RevertWhen_TransferSignatureUsedAsCrossChainOrTheReverse() public {
        _on(a);
        IInteropGateway.Payload memory transfer = _payload(
            a,
            IInteropGateway.Kind.Transfer,
            _caip2(CHAIN_A),
            bob,
            500,
            7
        );
        bytes memory transferSig = _sign(aliceKey, igA.payloadDigest(transfer));
        IInteropGateway.Payload memory asCrossChain = _payload(
            a,
            IInteropGateway.Kind.CrossChain,
            _caip2(CHAIN_B),
            bob,
            500,
            7
        );
        vm.expectRevert(abi.encodeWithSelector(IInteropGateway.InteropGatewayInvalidSignature.selector, alice));
        vm.prank(mallory);
        igA.execute(asCrossChain, alice, transferSig);

        bytes memory crossSig = _sign(aliceKey, igA.payloadDigest(asCrossChain));
        vm.expectRevert(abi.encodeWithSelector(IInteropGateway.InteropGatewayInvalidSignature.selector, alice));
        vm.prank(mallory);
        igA.execute(transfer, alice, crossSig);

        assertEq(a.token.balanceOf(alice), FUNDS);
        assertFalse(igA.isNonceUsed(alice, 7));
    }

    /// @dev Guard: the EIP-712 domain's verifying contract. A second InteropGateway on the same chain (a redeploy,
    ///      or a twin for another asset) that alice also approved does not take her payload signed for the first.
    function test_RevertWhen_PayloadReplayedOnASecondGatewayDeployment() public {
        _on(a);
        InteropGateway twin = _deployInterop(a);
        vm.prank(alice);
        a.token.approve(address(twin), type(uint256).max);
        IInteropGateway.Payload memory p = _payload(a, IInteropGateway.Kind.Transfer, _caip2(CHAIN_A), bob, 500, 1);
        bytes memory sig = _sign(aliceKey, igA.payloadDigest(p));
        igA.execute(p, alice, sig);
        vm.expectRevert(abi.encodeWithSelector(IInteropGateway.InteropGatewayInvalidSignature.selector, alice));
        vm.prank(mallory);
        twin.execute(p, alice, sig);
        assertEq(a.token.balanceOf(bob), 500, "paid once");
    }

    /// @dev Guard: the message names its destination gateway and the attestation's domain is that gateway. Two
    ///      AttestedGateway deployments on chain B with the same attesters and counterparts: the signatures for one
    ///      are worthless at the other, as they are and with the message re-addressed.
    function test_RevertWhen_AttestationsReplayedOnASecondAttestedGatewayDeployment() public {
        IAttestedGateway.Message memory m = _crossChain(a, igA, aliceKey, alice, bob, 1_000, 1);
        bytes[] memory sigs = _attest(b, m);
        AttestedGateway twin = new AttestedGateway(admin, ADMIN_DELAY, TTL, REFUND_DELAY, MIN_DELIVERY_GAS);
        vm.startPrank(admin);
        twin.grantRole(twin.GATEWAY_ADMIN_ROLE(), admin);
        twin.setAttesterSet(_attesterList(), 2);
        twin.setCounterpart(CHAIN_A, address(a.gateway));
        vm.stopPrank();

        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayWrongDestination.selector,
                CHAIN_B,
                address(b.gateway)
            )
        );
        twin.deliver(m, sigs);
        IAttestedGateway.Message memory readdressed = _laneMessage(a, b, m.nonce, alice, bob, 1_000, m.deadline);
        readdressed.destinationGateway = address(twin);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = address(twin).call(abi.encodeCall(IAttestedGateway.deliver, (readdressed, sigs)));
        assertFalse(ok, "signatures over another id recover to strangers");
        assertEq(uint8(twin.inboundStatus(CHAIN_A, m.nonce)), uint8(IAttestedGateway.Status.None));
        assertEq(b.token.balanceOf(bob), 0);
        _deliver(b, m);
        assertEq(b.token.balanceOf(bob), 1_000, "the real one still delivers");
    }

    // ───────────────────────────────────────────── attesters

    /// @dev Guard: `threshold`. One attester (or one attester's signature twice, or one plus a stranger) cannot
    ///      deliver a message that was never posted, nor refund one that was delivered.
    function test_RevertWhen_AttestersBelowThresholdForgeAMintOrARefund() public {
        _on(b);
        IAttestedGateway.Message memory forged = _laneMessage(a, b, 999, mallory, mallory, 1e9, 0);
        bytes32 digest = b.gateway.attestationDigest(b.gateway.messageId(forged), b.gateway.epoch());
        (, uint256 strangerKey) = makeAddrAndKey("stranger");
        bytes[] memory one = new bytes[](1);
        one[0] = _sign(attesterKey[0], digest);
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayTooFewSignatures.selector, 1, 2));
        b.gateway.deliver(forged, one);
        bytes[] memory twice = new bytes[](2);
        twice[0] = one[0];
        twice[1] = one[0];
        vm.expectRevert(
            abi.encodeWithSelector(IAttestedGateway.AttestedGatewayUnsortedSigners.selector, attester[0], attester[0])
        );
        b.gateway.deliver(forged, twice);
        bytes[] memory withStranger = new bytes[](2);
        withStranger[0] = one[0];
        withStranger[1] = _sign(strangerKey, digest);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = address(b.gateway).call(abi.encodeCall(IAttestedGateway.deliver, (forged, withStranger)));
        assertFalse(ok, "a stranger's signature does not count");
        assertEq(b.token.balanceOf(mallory), FUNDS);

        // A refund of a delivered message with one attester's word.
        IAttestedGateway.Message memory m = _crossChain(a, igA, aliceKey, alice, bob, 1_000, 1);
        _deliver(b, m);
        vm.warp(m.deadline + REFUND_DELAY);
        _on(a);
        bytes[] memory lone = new bytes[](1);
        lone[0] = _sign(attesterKey[2], a.gateway.undeliveredDigest(a.gateway.messageId(m), a.gateway.epoch()));
        vm.expectRevert(abi.encodeWithSelector(IAttestedGateway.AttestedGatewayTooFewSignatures.selector, 1, 2));
        a.gateway.refund(m, lone);
        assertEq(a.token.balanceOf(alice), FUNDS - 1_000, "no double spend");
        _assertGlobal(0);
    }

    /// @dev Guard: the route's inbound limit (BridgeRegistry), the ledger's net import cap and the lane's minter
    ///      allowance, on each chain. A colluding majority (attesters 0 and 1) signs messages that were never posted,
    ///      "from" the linked lane, to mallory: whatever it signs, at most the smallest of the three is minted, on
    ///      both chains.
    function test_MajorityForgery_MintIsBoundedByTheRouteLimit() public {
        _limitInbound(b, CHAIN_A, 1_000);
        _assertForgeryBoundedBy(a, b, 1_000);
        _limitInbound(a, CHAIN_B, 1_000);
        _assertForgeryBoundedBy(b, a, 1_000);
    }

    function test_MajorityForgery_MintIsBoundedByTheNetImportCap() public {
        _on(b);
        vm.prank(admin);
        b.ledger.setBridgeCap(address(b.lane), 700);
        _assertForgeryBoundedBy(a, b, 700);
        _on(a);
        vm.prank(admin);
        a.ledger.setBridgeCap(address(a.lane), 700);
        _assertForgeryBoundedBy(b, a, 700);
    }

    function test_MajorityForgery_MintIsBoundedByTheMinterAllowance() public {
        _on(b);
        uint256 allowanceB = b.token.minterAllowance(address(b.lane));
        vm.prank(admin);
        b.token.decreaseMinterAllowance(address(b.lane), allowanceB - 300);
        _assertForgeryBoundedBy(a, b, 300);
        _on(a);
        uint256 allowanceA = a.token.minterAllowance(address(a.lane));
        vm.prank(admin);
        a.token.decreaseMinterAllowance(address(a.lane), allowanceA - 300);
        _assertForgeryBoundedBy(b, a, 300);
    }

    /// @dev Guard: a refund needs a message the source gateway itself sent (`Sent`), once. A colluding majority that
    ///      signs `Undelivered` for a message that never existed, or twice for one, refunds nothing.
    function test_RevertWhen_MajorityRefundsAMessageThatWasNeverSentOrTwice() public {
        _on(a);
        IAttestedGateway.Message memory ghost = _laneMessage(a, b, 77, mallory, mallory, 1e9, 0);
        vm.warp(ghost.deadline + REFUND_DELAY);
        bytes[] memory sigs = _attestUndelivered(a, ghost);
        bytes32 id = a.gateway.messageId(ghost);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestedGateway.AttestedGatewayNotSent.selector, id, IAttestedGateway.Status.None)
        );
        a.gateway.refund(ghost, sigs);
        IAttestedGateway.Message memory m = _crossChain(a, igA, malloryKey, mallory, mallory, 1_000, 1);
        vm.warp(m.deadline + REFUND_DELAY);
        sigs = _attestUndelivered(a, m);
        a.gateway.refund(m, sigs);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayNotSent.selector,
                a.gateway.messageId(m),
                IAttestedGateway.Status.Refunded
            )
        );
        a.gateway.refund(m, sigs);
        assertEq(a.token.balanceOf(mallory), FUNDS, "refunded once");
        _assertGlobal(0);
    }

    // ───────────────────────────────────────────── rate limits

    /// @dev Guard: the limits belong to the route, not to a bridge. A second lane allowed on the route (the
    ///      fallback) draws on the same outbound bucket: used directly, or by the InteropGateway once the preferred
    ///      lane is removed, it cannot send what the first one already used up.
    function test_RevertWhen_RateLimitBypassedThroughTheFallbackOrASecondBridge() public {
        _on(a);
        bytes32 outKey = a.registry.routeKey(CHAIN_A, CHAIN_B, address(a.token));
        BurnMintLane second = new BurnMintLane(
            admin,
            ADMIN_DELAY,
            address(a.token),
            address(a.gateway),
            address(a.registry)
        );
        vm.startPrank(admin);
        second.grantRole(second.LINK_ADMIN_ROLE(), admin);
        second.grantRole(second.ROUTER_ROLE(), address(igA));
        second.setLink(CHAIN_B, address(b.lane), false);
        a.token.configureMinter(address(second), MINTER_ALLOWANCE);
        a.ledger.registerBridge(address(second), NET_IMPORT_CAP);
        a.registry.allowBridge(outKey, address(second));
        a.registry.selectBridges(outKey, address(a.lane), address(second));
        a.registry.setRateLimit(outKey, true, 1_000, ROUTE_WINDOW);
        vm.stopPrank();

        _crossChain(a, igA, aliceKey, alice, bob, 1_000, 1);
        vm.startPrank(alice);
        a.token.approve(address(second), 1);
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.RouteRateLimitExceeded.selector, outKey, true, 1, 0));
        second.crosschainTransfer(InteroperableAddress.formatEvmV1(CHAIN_B, bob), 1, 0);
        vm.stopPrank();

        vm.prank(admin);
        a.registry.removeBridge(outKey, address(a.lane));
        assertEq(a.registry.bridgeFor(CHAIN_A, CHAIN_B, address(a.token)), address(second));
        IInteropGateway.Payload memory p = _payload(a, IInteropGateway.Kind.CrossChain, _caip2(CHAIN_B), bob, 1, 2);
        bytes memory sig = _sign(aliceKey, igA.payloadDigest(p));
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.RouteRateLimitExceeded.selector, outKey, true, 1, 0));
        igA.execute(p, alice, sig);
        assertEq(a.token.balanceOf(alice), FUNDS - 1_000, "one window's worth left, no more");
    }

    // ───────────────────────────────────────────── pause and freeze

    /// @dev Guards: the token's pause and freeze checks in `_update` (which every mint and pull goes through), the
    ///      gateways' pause, and the registries' route pause and chain flags. Every path that moves value is tried
    ///      while something is stopped: send, deliver, retry, refund. Nothing moves until it is lifted, and the
    ///      supply stays conserved at each step.
    function test_RevertWhen_PauseOrFreezeBypassedAtTheSend() public {
        _on(a);
        IInteropGateway.Payload memory p = _payload(a, IInteropGateway.Kind.CrossChain, _caip2(CHAIN_B), bob, 1_000, 1);
        bytes memory sig = _sign(aliceKey, igA.payloadDigest(p));
        bytes32 outKey = a.registry.routeKey(CHAIN_A, CHAIN_B, address(a.token));

        vm.prank(admin);
        a.token.freeze(alice);
        _assertExecuteFails(p, sig);
        vm.startPrank(admin);
        a.token.unfreeze(alice);
        a.token.pause();
        vm.stopPrank();
        _assertExecuteFails(p, sig);
        vm.startPrank(admin);
        a.token.unpause();
        a.gateway.pause();
        vm.stopPrank();
        _assertExecuteFails(p, sig);
        vm.startPrank(admin);
        a.gateway.unpause();
        igA.pause();
        vm.stopPrank();
        _assertExecuteFails(p, sig);
        vm.startPrank(admin);
        igA.unpause();
        a.registry.pauseRoute(outKey);
        vm.stopPrank();
        _assertExecuteFails(p, sig);
        vm.startPrank(admin);
        a.registry.unpauseRoute(outKey);
        a.chains.setChainEnabled(CHAIN_B, false);
        vm.stopPrank();
        _assertExecuteFails(p, sig);
        vm.startPrank(admin);
        a.chains.setChainEnabled(CHAIN_B, true);
        a.token.freeze(address(igA));
        vm.stopPrank();
        _assertExecuteFails(p, sig);
        vm.startPrank(admin);
        a.token.unfreeze(address(igA));
        a.token.freeze(address(a.lane));
        vm.stopPrank();
        _assertExecuteFails(p, sig);
        vm.prank(admin);
        a.token.unfreeze(address(a.lane));
        igA.execute(p, alice, sig);
        assertEq(a.token.balanceOf(alice), FUNDS - 1_000);
    }

    function test_RevertWhen_PauseOrFreezeBypassedThroughDeliverOrRetry() public {
        IAttestedGateway.Message memory m = _crossChain(a, igA, aliceKey, alice, bob, 1_000, 1);
        bytes32 inKey = b.registry.routeKey(CHAIN_A, CHAIN_B, address(b.token));
        _assertGlobal(1_000);

        // Destination token paused: the delivery is stored Failed, nothing is minted; a retry while paused neither.
        _on(b);
        vm.prank(admin);
        b.token.pause();
        _deliver(b, m);
        _assertInbound(m, IAttestedGateway.Status.Failed);
        b.gateway.retry(m);
        _assertNotMinted(m);

        // Recipient frozen; destination gateway paused; route paused; source chain disabled: each stops a retry.
        vm.startPrank(admin);
        b.token.unpause();
        b.token.freeze(bob);
        vm.stopPrank();
        b.gateway.retry(m);
        _assertNotMinted(m);
        vm.startPrank(admin);
        b.token.unfreeze(bob);
        b.gateway.pause();
        vm.stopPrank();
        vm.expectRevert();
        b.gateway.retry(m);
        vm.startPrank(admin);
        b.gateway.unpause();
        b.registry.pauseRoute(inKey);
        vm.stopPrank();
        b.gateway.retry(m);
        _assertNotMinted(m);
        vm.startPrank(admin);
        b.registry.unpauseRoute(inKey);
        b.chains.setChainEnabled(CHAIN_A, false);
        vm.stopPrank();
        b.gateway.retry(m);
        _assertNotMinted(m);
        _assertGlobal(1_000);

        // Past the deadline nothing can retry it, even with everything lifted.
        vm.prank(admin);
        b.chains.setChainEnabled(CHAIN_A, true);
        vm.warp(m.deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestedGateway.AttestedGatewayExpired.selector, b.gateway.messageId(m), m.deadline)
        );
        b.gateway.retry(m);
        assertEq(b.token.balanceOf(bob), 0);
    }

    /// @dev The refund on the source: a frozen sender, a paused token or a paused gateway stop it (and it can be
    ///      tried again later); then it mints back once, and the message can never land on B.
    function test_RevertWhen_PauseOrFreezeBypassedThroughRefund() public {
        IAttestedGateway.Message memory m = _crossChain(a, igA, aliceKey, alice, bob, 1_000, 1);
        vm.warp(m.deadline + REFUND_DELAY);
        bytes[] memory sigs = _attestUndelivered(a, m);
        vm.prank(admin);
        a.token.freeze(alice);
        vm.expectRevert();
        a.gateway.refund(m, sigs);
        vm.startPrank(admin);
        a.token.unfreeze(alice);
        a.token.pause();
        vm.stopPrank();
        vm.expectRevert();
        a.gateway.refund(m, sigs);
        vm.startPrank(admin);
        a.token.unpause();
        a.gateway.pause();
        vm.stopPrank();
        vm.expectRevert();
        a.gateway.refund(m, sigs);
        assertEq(a.token.balanceOf(alice), FUNDS - 1_000, "nothing refunded while stopped");
        vm.prank(admin);
        a.gateway.unpause();
        a.gateway.refund(m, sigs);
        assertEq(a.token.balanceOf(alice), FUNDS, "refunded once everything is lifted");
        _assertGlobal(0);

        // And the message can never land on B now.
        bytes[] memory late = _attest(b, m);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestedGateway.AttestedGatewayExpired.selector, b.gateway.messageId(m), m.deadline)
        );
        b.gateway.deliver(m, late);
        assertEq(b.token.balanceOf(bob), 0);
    }

    // ───────────────────────────────────────────── double spend and deadlines

    /// @dev Guards: `deliver` and `retry` need the destination's clock within the deadline; `refund` needs
    ///      `deadline + refundDelay` and `Sent`; the `(source chain, nonce)` record. A delivered message is neither
    ///      refunded (honest attesters do not sign) nor delivered again; a refunded one is never delivered.
    function test_RevertWhen_ADeliveredMessageIsDeliveredOrRetriedAgain() public {
        IAttestedGateway.Message memory delivered = _crossChain(a, igA, aliceKey, alice, bob, 1_000, 1);
        _crossChain(a, igA, aliceKey, alice, bob, 2_000, 2);
        _deliver(b, delivered);
        _assertGlobal(2_000);
        bytes[] memory sigs = _attest(b, delivered);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayAlreadyProcessed.selector,
                CHAIN_A,
                delivered.nonce,
                IAttestedGateway.Status.Delivered
            )
        );
        b.gateway.deliver(delivered, sigs);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayNotFailed.selector,
                b.gateway.messageId(delivered),
                IAttestedGateway.Status.Delivered
            )
        );
        b.gateway.retry(delivered);
        _assertGlobal(2_000);
    }

    /// @dev The stranded one: delivery after the deadline is refused, and so is a refund before deadline + delay;
    ///      once refunded it can never be delivered.
    function test_RevertWhen_AnExpiredMessageIsDeliveredOrRefundedTwice() public {
        _crossChain(a, igA, aliceKey, alice, bob, 1_000, 1);
        IAttestedGateway.Message memory stranded = _crossChain(a, igA, aliceKey, alice, bob, 2_000, 2);
        vm.warp(stranded.deadline + 1);
        bytes[] memory late = _attest(b, stranded);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayExpired.selector,
                b.gateway.messageId(stranded),
                stranded.deadline
            )
        );
        b.gateway.deliver(stranded, late);
        vm.warp(stranded.deadline + REFUND_DELAY - 1);
        bytes[] memory early = _attestUndelivered(a, stranded);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayNotExpired.selector,
                a.gateway.messageId(stranded),
                uint256(stranded.deadline) + REFUND_DELAY
            )
        );
        a.gateway.refund(stranded, early);
        vm.warp(stranded.deadline + REFUND_DELAY);
        a.gateway.refund(stranded, _attestUndelivered(a, stranded));
        _on(b);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestedGateway.AttestedGatewayExpired.selector,
                b.gateway.messageId(stranded),
                stranded.deadline
            )
        );
        b.gateway.deliver(stranded, late);
        assertEq(b.token.balanceOf(bob), 0);
        _on(a);
        assertEq(a.token.balanceOf(alice), FUNDS - 1_000);
        _assertGlobal(1_000);
    }

    // ───────────────────────────────────────────── EIP-7702

    /// @dev Guard: `_isDelegatedEoa` in InteropGateway's `_checkSignature`. Alice's EOA delegates (EIP-7702) to a
    ///      wallet whose ERC-1271 says yes to anything: mallory's junk signature in her name moves nothing; alice's
    ///      own ECDSA signature still works.
    function test_RevertWhen_Eip7702UserCodeSaysYes_crossChain() public {
        MockYesWallet yes = new MockYesWallet();
        _on(a);
        vm.etch(alice, abi.encodePacked(hex"ef0100", address(yes)));
        IInteropGateway.Payload memory p = _payload(
            a,
            IInteropGateway.Kind.CrossChain,
            _caip2(CHAIN_B),
            mallory,
            FUNDS,
            1
        );
        vm.expectRevert(abi.encodeWithSelector(IInteropGateway.InteropGatewayInvalidSignature.selector, alice));
        vm.prank(mallory);
        igA.execute(p, alice, hex"00");
        assertEq(a.token.balanceOf(alice), FUNDS);
        _crossChain(a, igA, aliceKey, alice, bob, 1_000, 2);
        assertEq(a.token.balanceOf(alice), FUNDS - 1_000, "her key still signs");
    }

    /// @dev Guard: `_verifyAttestations` recovers ECDSA only. The third attester's address gets code that says yes
    ///      to anything (EIP-7702 or a contract): with one real signature and junk for it, nothing is delivered.
    function test_RevertWhen_Eip7702AttesterCodeSaysYes() public {
        MockYesWallet yes = new MockYesWallet();
        IAttestedGateway.Message memory m = _crossChain(a, igA, aliceKey, alice, bob, 1_000, 1);
        _on(b);
        vm.etch(attester[2], abi.encodePacked(hex"ef0100", address(yes)));
        bytes32 digest = b.gateway.attestationDigest(b.gateway.messageId(m), b.gateway.epoch());
        bytes[] memory sigs = new bytes[](2);
        sigs[0] = _sign(attesterKey[0], digest);
        sigs[1] = abi.encodePacked(bytes32(uint256(uint160(attester[2]))), bytes32(0), uint8(27));
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = address(b.gateway).call(abi.encodeCall(IAttestedGateway.deliver, (m, sigs)));
        assertFalse(ok);
        assertEq(b.token.balanceOf(bob), 0);
        sigs[1] = _sign(attesterKey[2], digest);
        b.gateway.deliver(m, sigs);
        assertEq(b.token.balanceOf(bob), 1_000, "its key still signs");
    }

    // ───────────────────────────────────────────── helpers

    // ─────────────────────────── findings that worked on 1e5cebf, each red before its fix

    /// @dev FINDING 1 (fixed). The destination keyed inbound messages by `(sourceChainId, nonce)` whatever the source
    ///      gateway, and a new AttestedGateway numbers from 1 (no way to start higher). Replace chain A's gateway (a
    ///      new version: its lane must be replaced too, the lane's gateway is immutable), relink B to it: the first
    ///      message of the new gateway has nonce 1, already `Delivered` on B for the old gateway. It can never be
    ///      delivered (`AlreadyProcessed`), and honest attesters never sign it `Undelivered` either (they read
    ///      `inboundStatus(A, 1) == Delivered`; the attester service even refuses it as an equivocation, its store
    ///      is UNIQUE(source_chain, nonce)). Alice's 2,000 are burned on A and never minted nor refunded.
    function test_RevertWhen_AReplacedSourceGatewaysNoncesCollideWithItsPredecessors() public {
        IAttestedGateway.Message memory old = _crossChain(a, igA, aliceKey, alice, bob, 1_000, 1);
        _deliver(b, old);

        ChainSet memory a2 = a;
        _on(a);
        a2.gateway = new AttestedGateway(admin, ADMIN_DELAY, TTL, REFUND_DELAY, MIN_DELIVERY_GAS);
        a2.lane = new BurnMintLane(admin, ADMIN_DELAY, address(a.token), address(a2.gateway), address(a.registry));
        bytes32 outKey = a.registry.routeKey(CHAIN_A, CHAIN_B, address(a.token));
        bytes32 gatewayAdmin = a2.gateway.GATEWAY_ADMIN_ROLE();
        bytes32 linkAdmin = a2.lane.LINK_ADMIN_ROLE();
        bytes32 router = a2.lane.ROUTER_ROLE();
        vm.startPrank(admin);
        a2.gateway.grantRole(gatewayAdmin, admin);
        a2.gateway.setAttesterSet(_attesterList(), 2);
        a2.gateway.setCounterpart(CHAIN_B, address(b.gateway));
        a2.lane.grantRole(linkAdmin, admin);
        a2.lane.grantRole(router, address(igA));
        a2.lane.setLink(CHAIN_B, address(b.lane), false);
        a.token.configureMinter(address(a2.lane), MINTER_ALLOWANCE);
        a.ledger.registerBridge(address(a2.lane), NET_IMPORT_CAP);
        a.registry.allowBridge(outKey, address(a2.lane));
        a.registry.selectBridges(outKey, address(a2.lane), address(0));
        vm.stopPrank();
        _on(b);
        vm.startPrank(admin);
        b.gateway.setCounterpart(CHAIN_A, address(a2.gateway));
        b.lane.setLink(CHAIN_A, address(a2.lane), true);
        vm.stopPrank();

        IAttestedGateway.Message memory fresh = _crossChainOver(a2, aliceKey, alice, bob, 2_000, 2);
        assertEq(fresh.nonce, old.nonce, "the new gateway numbers from 1 again");
        bytes[] memory sigs = _attest(b, fresh);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory reason) = address(b.gateway).call(
            abi.encodeCall(IAttestedGateway.deliver, (fresh, sigs))
        );
        assertTrue(ok, string.concat("the new gateway's message 1 is refused: ", vm.toString(reason)));
        assertEq(b.token.balanceOf(bob), 3_000);
    }

    /// @dev FINDING 2 (fixed). `wipeFrozen(account, issuer)` + `confirmWipe` accepted the LANE (a ReserveLedger bridge
    ///      account) as the issuer: the ledger's `onBurn` took it as an export. Each chain's identity still holds, but
    ///      the conservation across chains breaks (sum of supplies + in flight < sum of issuers' outstanding: bankA's
    ///      outstanding still counts the wiped tokens), and the lane's net-import headroom on B grows by the wiped
    ///      amount (B may now mint that much more over the lane).
    function test_RevertWhen_AWipeNamesTheLaneAsTheIssuer() public {
        IAttestedGateway.Message memory m = _crossChain(a, igA, aliceKey, alice, bob, 1_000, 1);
        _deliver(b, m);
        _assertGlobal(0);
        _on(b);
        vm.startPrank(admin);
        b.token.freeze(bob);
        b.token.wipeFrozen(bob, address(b.lane), "sanctions");
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = address(b.token).call(abi.encodeCall(IBankToken.confirmWipe, (bob, address(b.lane))));
        vm.stopPrank();
        (uint256 imported, uint256 exported, ) = b.ledger.bridgeOf(address(b.lane));
        if (ok) {
            // Accepted: then at least the books must still balance. They do not.
            // The wipe is booked as 1,000 leaving chain B over the lane: the lane's net import is back to 0, so B
            // may import 1,000 more under its cap.
            assertEq(exported, imported);
            _assertGlobal(0);
        }
    }

    /// @dev FINDING 3 (fixed; the docs' trust model names it but not its bounds). A colluding majority that signs
    ///      `Undelivered` for a DELIVERED message refunds it on the source: the refund's mint is drawn on no route
    ///      limit (the inbound route B->A on A is closed here, capacity 0), and the ledger's net import cap does not
    ///      bind (the send's export offsets the refund's import). Only the source lane's minter allowance bounds it,
    ///      and the sends' outbound limit (each refund needs a real message). Mallory ends with her 1,000 on both
    ///      chains.
    function test_RevertWhen_AMajorityRefundsADeliveredMessageThroughAClosedRoute() public {
        IAttestedGateway.Message memory m = _crossChain(a, igA, malloryKey, mallory, mallory, 1_000, 1);
        _deliver(b, m);
        _limitInbound(a, CHAIN_B, 0);
        vm.warp(m.deadline + REFUND_DELAY);
        bytes[] memory lie = _attestUndelivered(a, m);
        // solhint-disable-next-line avoid-low-level-calls
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = address(a.gateway).call(abi.encodeCall(IAttestedGateway.refund, (m, lie)));
        assertFalse(ok, "a delivered message was refunded with no route limit charged");
        _assertGlobal(0);
    }

    function _crossChainOver(
        ChainSet memory src,
        uint256 key,
        address signer,
        address to,
        uint256 amount,
        uint256 nonce
    ) internal returns (IAttestedGateway.Message memory message) {
        _on(src);
        IInteropGateway.Payload memory p = _payload(
            src,
            IInteropGateway.Kind.CrossChain,
            _caip2(CHAIN_B),
            to,
            amount,
            nonce
        );
        message = _laneMessage(src, b, src.gateway.nextNonce(), signer, to, amount, p.deadline);
        bytes memory sig = _sign(key, igA.payloadDigest(p));
        igA.execute(p, signer, sig);
        assertEq(uint8(src.gateway.outboundStatus(message.nonce)), uint8(IAttestedGateway.Status.Sent));
    }

    // ───────────────────────────────────────────── helpers

    function _deployInterop(ChainSet memory set) internal returns (InteropGateway ig) {
        _on(set);
        ig = new InteropGateway(admin, ADMIN_DELAY, address(set.chains), address(set.registry));
        bytes32 gatewayAdmin = ig.GATEWAY_ADMIN_ROLE();
        bytes32 pauser = ig.PAUSER_ROLE();
        bytes32 router = set.lane.ROUTER_ROLE();
        vm.startPrank(admin);
        ig.grantRole(gatewayAdmin, admin);
        ig.grantRole(pauser, admin);
        ig.setAsset(address(set.token), true);
        set.lane.grantRole(router, address(ig));
        vm.stopPrank();
    }

    function _fund(ChainSet memory set, InteropGateway ig) internal {
        _issue(set, alice, FUNDS);
        _issue(set, mallory, FUNDS);
        vm.prank(alice);
        set.token.approve(address(ig), type(uint256).max);
        vm.prank(mallory);
        set.token.approve(address(ig), type(uint256).max);
    }

    function _caip2(uint256 id) internal pure returns (string memory) {
        return string.concat("eip155:", vm.toString(id));
    }

    function _payload(
        ChainSet memory src,
        IInteropGateway.Kind kind,
        string memory destination,
        address target,
        uint256 amount,
        uint256 nonce
    ) internal view returns (IInteropGateway.Payload memory) {
        return
            IInteropGateway.Payload({
                version: 1,
                sourceChain: _caip2(src.id),
                destinationChain: destination,
                kind: kind,
                target: target,
                asset: address(src.token),
                amount: amount,
                data: "",
                nonce: nonce,
                deadline: uint64(block.timestamp + 1 hours)
            });
    }

    /// @dev `signer` has a CrossChain payload of `amount` to `to` on the other chain executed on `src` by a
    ///      stranger; returns the message its lane posted.
    function _crossChain(
        ChainSet memory src,
        InteropGateway ig,
        uint256 key,
        address signer,
        address to,
        uint256 amount,
        uint256 nonce
    ) internal returns (IAttestedGateway.Message memory message) {
        ChainSet memory dst = src.id == CHAIN_A ? b : a;
        _on(src);
        IInteropGateway.Payload memory p = _payload(
            src,
            IInteropGateway.Kind.CrossChain,
            _caip2(dst.id),
            to,
            amount,
            nonce
        );
        message = _laneMessage(src, dst, src.gateway.nextNonce(), signer, to, amount, p.deadline);
        bytes memory sig = _sign(key, ig.payloadDigest(p));
        vm.prank(relayer);
        ig.execute(p, signer, sig);
        assertEq(uint8(src.gateway.outboundStatus(message.nonce)), uint8(IAttestedGateway.Status.Sent));
    }

    function _limitInbound(ChainSet memory set, uint256 from, uint208 capacity) internal {
        _on(set);
        bytes32 key = set.registry.routeKey(from, set.id, address(set.token));
        vm.prank(admin);
        set.registry.setRateLimit(key, false, capacity, ROUTE_WINDOW);
    }

    /// @dev The majority forges messages from `src`'s lane to mallory on `dst`: `bound + 1`, then `bound`, then 1.
    ///      Only the `bound` one mints.
    function _assertForgeryBoundedBy(ChainSet memory src, ChainSet memory dst, uint256 bound) internal {
        _on(dst);
        uint256 before = dst.token.balanceOf(mallory);
        uint256 supply = dst.token.totalSupply();
        uint256[3] memory amounts = [bound + 1, bound, 1];
        for (uint256 i; i < 3; ++i) {
            IAttestedGateway.Message memory forged = _laneMessage(src, dst, 1e6 + i, mallory, mallory, amounts[i], 0);
            _deliver(dst, forged);
        }
        assertEq(dst.token.balanceOf(mallory) - before, bound, "the forgery mints at most the bound");
        assertEq(dst.token.totalSupply() - supply, bound);
        _assertChainIdentity(dst);
    }

    function _assertExecuteFails(IInteropGateway.Payload memory p, bytes memory sig) internal {
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = address(igA).call(abi.encodeCall(IInteropGateway.execute, (p, alice, sig)));
        assertFalse(ok, "execute went through while something was stopped");
        assertEq(a.token.balanceOf(alice), FUNDS);
        assertFalse(igA.isNonceUsed(alice, p.nonce));
    }

    function _assertInbound(IAttestedGateway.Message memory m, IAttestedGateway.Status status) internal {
        _on(b);
        assertEq(uint8(b.gateway.inboundStatus(CHAIN_A, m.nonce)), uint8(status));
    }

    function _assertNotMinted(IAttestedGateway.Message memory m) internal {
        _assertInbound(m, IAttestedGateway.Status.Failed);
        assertEq(b.token.balanceOf(bob), 0, "minted while stopped");
    }

    /// @dev Both chains' identities, and supplies + in flight == the issuers' outstanding.
    function _assertGlobal(uint256 inFlight) internal {
        _on(a);
        uint256 supplyA = a.token.totalSupply();
        uint256 outstandingA = a.ledger.totalOutstanding();
        _assertChainIdentity(a);
        _on(b);
        uint256 supplyB = b.token.totalSupply();
        uint256 outstandingB = b.ledger.totalOutstanding();
        _assertChainIdentity(b);
        assertEq(supplyA + supplyB + inFlight, outstandingA + outstandingB, "conservation across chains");
    }
}
