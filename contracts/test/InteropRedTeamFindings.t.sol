// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AttestedGateway} from "../interop/AttestedGateway.sol";
import {BurnMintLane} from "../interop/BurnMintLane.sol";
import {InteropGateway} from "../interop/InteropGateway.sol";
import {IAttestedGateway} from "../interop/interfaces/IAttestedGateway.sol";
import {IInteropGateway} from "../interop/interfaces/IInteropGateway.sol";
import {IBankToken} from "../token/interfaces/IBankToken.sol";
import {LaneFixture} from "./utils/LaneFixture.sol";

/// @dev Red-team findings on the interop contracts (issue 16): attacks that worked on 1e5cebf, each asserting the safe
///      behaviour, red before its fix: a replaced source gateway's nonces (inbound keyed by the source gateway too),
///      a wipe charged to the lane (`ReserveLedger.onWipe` refuses bridge accounts), and a majority's refund of a
///      delivered message through a closed route (refunds draw on the reverse route's inbound limit).
contract InteropRedTeamFindingsTest is LaneFixture {
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
