// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {InteroperableAddress} from "@openzeppelin/contracts/utils/draft-InteroperableAddress.sol";
import {Test} from "forge-std/Test.sol";

import {IAttestedGateway} from "../interop/interfaces/IAttestedGateway.sol";
import {LaneFixture} from "./utils/LaneFixture.sol";

/// @dev Drives two chains (A and B: each a BankToken, ReserveLedger, registries, AttestedGateway and BurnMintLane,
///      see `LaneFixture` for how one EVM plays two chains with `vm.chainId`) through random sends both ways,
///      deliveries (2-of-3 attested), failures (recipient frozen, token paused), retries, expiries and refunds,
///      issuer mints and burns, freezes and the passage of time. It keeps every message it sent and a ghost sum of
///      the tokens in flight (sent, neither delivered nor refunded), changed only by calls that succeeded.
///
///      The attesters are honest: they attest a delivery only for a message the source posted, and a refund only
///      once the destination is past the message's deadline without having delivered it.
contract InteropSupplyHandler is LaneFixture {
    /// @dev One message the handler sent, and where it stands.
    struct Sent {
        bool fromA;
        bool failed;
        bool delivered;
        bool refunded;
        IAttestedGateway.Message message;
    }

    uint256 internal constant MAX_AMOUNT = 1e9;

    ChainSet internal _a;
    ChainSet internal _b;
    address[3] public actors;
    Sent[] internal _sent;

    /// @notice Tokens sent and neither delivered nor refunded, from successful calls only.
    uint256 public ghostInFlight;
    /// @notice Messages both delivered and refunded (must stay zero).
    uint256 public doubleSpends;
    /// @notice Calls that succeeded, per kind, to see that a run exercised every path.
    uint256 public sends;
    uint256 public deliveries;
    uint256 public failures;
    uint256 public retries;
    uint256 public refunds;
    uint256 public issuerMints;
    uint256 public issuerBurns;

    constructor() {
        vm.warp(T0);
        _makeAttesters();
        _a = _deployChain(CHAIN_A, "bankA");
        _b = _deployChain(CHAIN_B, "bankB");
        _connect(_a, _b);
        for (uint256 i; i < 3; ++i) {
            actors[i] = makeAddr(string.concat("actor", vm.toString(i)));
            _issue(_a, actors[i], 1e10);
            _issue(_b, actors[i], 1e10);
        }
    }

    // ---------------------------------------------------------------- actions

    /// @notice An actor sends part of its balance on one chain to an actor on the other, with the default deadline
    ///         or a short one (so that expiries happen).
    function sendAcross(uint256 seed, bool fromA, uint256 amount, bool shortDeadline) external {
        (ChainSet memory src, ChainSet memory dst) = fromA ? (_a, _b) : (_b, _a);
        address from = actors[seed % 3];
        address to = actors[(seed >> 8) % 3];
        _on(src);
        uint256 balance = src.token.balanceOf(from);
        if (balance == 0) return;
        amount = bound(amount, 1, balance < MAX_AMOUNT ? balance : MAX_AMOUNT);
        uint64 deadline = shortDeadline ? uint64(block.timestamp + 10 minutes) : 0;
        IAttestedGateway.Message memory message = _laneMessage(
            src,
            dst,
            src.gateway.nextNonce(),
            from,
            to,
            amount,
            deadline
        );
        vm.startPrank(from);
        src.token.approve(address(src.lane), amount);
        try src.lane.crosschainTransfer(InteroperableAddress.formatEvmV1(dst.id, to), amount, deadline) returns (
            bytes32 id
        ) {
            assertEq(id, src.gateway.messageId(message), "sendId");
            Sent storage record = _sent.push();
            record.fromA = fromA;
            record.message = message;
            ghostInFlight += amount;
            ++sends;
        } catch {
            // Refused (frozen sender, paused token): nothing moved.
        }
        vm.stopPrank();
    }

    /// @notice The relayer delivers a sent message with a 2-of-3 attestation: delivered, or stored as failed.
    function deliver(uint256 seed) external {
        (bool found, uint256 index) = _pick(seed);
        if (!found) return;
        Sent storage record = _sent[index];
        ChainSet memory dst = record.fromA ? _b : _a;
        bytes[] memory sigs = _attest(dst, record.message);
        IAttestedGateway.Message memory message = record.message;
        vm.prank(relayer);
        try dst.gateway.deliver(message, sigs) {
            _settle(record, dst);
        } catch {
            // Already processed, or past its deadline: nothing moved.
        }
    }

    /// @notice A delivery that fails: the recipient is frozen on the destination first, so the lane's mint reverts
    ///         and the gateway stores the message as failed (the recipient stays frozen until a retry or a toggle).
    function fail(uint256 seed) external {
        (bool found, uint256 index) = _pick(seed, false);
        if (!found) return;
        Sent storage record = _sent[index];
        ChainSet memory dst = record.fromA ? _b : _a;
        IAttestedGateway.Message memory message = record.message;
        _on(dst);
        address to = _recipientOf(message);
        if (!dst.token.isFrozen(to)) {
            vm.prank(admin);
            dst.token.freeze(to);
        }
        bytes[] memory sigs = _attest(dst, message);
        vm.prank(relayer);
        try dst.gateway.deliver(message, sigs) {
            _settle(record, dst);
        } catch {
            // Already processed, or past its deadline.
        }
    }

    /// @notice Anyone retries a message stored as failed, once its cause is lifted (recipient unfrozen, token
    ///         unpaused on the destination).
    function retry(uint256 seed) external {
        (bool found, uint256 index) = _pick(seed, true);
        if (!found) return;
        Sent storage record = _sent[index];
        ChainSet memory dst = record.fromA ? _b : _a;
        IAttestedGateway.Message memory message = record.message;
        _on(dst);
        address to = _recipientOf(message);
        vm.startPrank(admin);
        if (dst.token.isFrozen(to)) dst.token.unfreeze(to);
        if (dst.token.paused()) dst.token.unpause();
        vm.stopPrank();
        try dst.gateway.retry(message) {
            ++retries;
            _settle(record, dst);
        } catch {
            // Past its deadline: it waits for its refund.
        }
    }

    /// @notice Anyone refunds an expired message the destination did not deliver (honest attesters).
    function refund(uint256 seed) external {
        (bool found, uint256 index) = _pick(seed);
        if (!found) return;
        Sent storage record = _sent[index];
        (ChainSet memory src, ChainSet memory dst) = record.fromA ? (_a, _b) : (_b, _a);
        IAttestedGateway.Message memory message = record.message;
        _on(dst);
        if (block.timestamp <= message.deadline) return;
        if (dst.gateway.inboundStatus(src.id, message.nonce) == IAttestedGateway.Status.Delivered) return;
        bytes[] memory sigs = _attestUndelivered(src, message);
        try src.gateway.refund(message, sigs) {
            record.refunded = true;
            if (record.delivered) ++doubleSpends;
            ghostInFlight -= _amountOf(message);
            ++refunds;
        } catch {
            // Too early, or the sender frozen or the token paused on the source: it stays in flight.
        }
    }

    /// @notice An issuer mints to an actor on its chain.
    function issuerMint(uint256 seed, bool onA, uint256 amount) external {
        ChainSet memory set = onA ? _a : _b;
        _on(set);
        amount = bound(amount, 1, MAX_AMOUNT);
        vm.prank(set.issuer);
        try set.token.mint(actors[seed % 3], amount, "deposit") {
            ++issuerMints;
        } catch {
            // A frozen actor or a paused token.
        }
    }

    /// @notice An actor redeems at the issuer of its chain: pays the issuer, which burns (at most what it issued
    ///         there: tokens that came over the lane are the other issuer's to redeem).
    function issuerBurn(uint256 seed, bool onA, uint256 amount) external {
        ChainSet memory set = onA ? _a : _b;
        _on(set);
        address actor = actors[seed % 3];
        uint256 limit = set.token.balanceOf(actor);
        uint256 outstanding = set.ledger.outstandingOf(set.issuer);
        if (outstanding < limit) limit = outstanding;
        if (limit == 0 || set.token.paused() || set.token.isFrozen(actor)) return;
        amount = bound(amount, 1, limit);
        vm.prank(actor);
        assertTrue(set.token.transfer(set.issuer, amount));
        vm.prank(set.issuer);
        set.token.burn(amount, "redeem");
        ++issuerBurns;
    }

    /// @notice Compliance freezes or unfreezes an actor on one chain (sends, receives and refunds to it fail).
    function toggleFreeze(uint256 seed, bool onA) external {
        ChainSet memory set = onA ? _a : _b;
        _on(set);
        address actor = actors[seed % 3];
        vm.prank(admin);
        if (set.token.isFrozen(actor)) set.token.unfreeze(actor);
        else set.token.freeze(actor);
    }

    /// @notice The pauser pauses or unpauses one chain's token.
    function togglePause(bool onA) external {
        ChainSet memory set = onA ? _a : _b;
        _on(set);
        vm.prank(admin);
        if (set.token.paused()) set.token.unpause();
        else set.token.pause();
    }

    /// @notice Time passes on both chains.
    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 2 days));
    }

    // ---------------------------------------------------------------- views for the invariants

    function a() external view returns (ChainSet memory) {
        return _a;
    }

    function b() external view returns (ChainSet memory) {
        return _b;
    }

    function sentCount() external view returns (uint256) {
        return _sent.length;
    }

    /// @notice The tokens in flight as the gateways' own state says: sent and still `Sent` on the source, and not
    ///         `Delivered` on the destination.
    function inFlightFromGateways() external returns (uint256 total) {
        for (uint256 i; i < _sent.length; ++i) {
            Sent storage record = _sent[i];
            (ChainSet memory src, ChainSet memory dst) = record.fromA ? (_a, _b) : (_b, _a);
            IAttestedGateway.Message memory message = record.message;
            _on(src);
            if (src.gateway.outboundStatus(message.nonce) != IAttestedGateway.Status.Sent) continue;
            _on(dst);
            if (dst.gateway.inboundStatus(src.id, message.nonce) == IAttestedGateway.Status.Delivered) continue;
            total += _amountOf(message);
        }
    }

    // ---------------------------------------------------------------- internals

    /// @dev Records the outcome of a delivery or retry that did not revert.
    function _settle(Sent storage record, ChainSet memory dst) private {
        IAttestedGateway.Message memory message = record.message;
        IAttestedGateway.Status status = dst.gateway.inboundStatus(message.sourceChainId, message.nonce);
        if (status == IAttestedGateway.Status.Delivered) {
            record.delivered = true;
            if (record.refunded) ++doubleSpends;
            ghostInFlight -= _amountOf(message);
            ++deliveries;
        } else {
            record.failed = true;
            ++failures;
        }
    }

    /// @dev A message neither delivered nor refunded, from `seed`.
    function _pick(uint256 seed) private view returns (bool found, uint256 index) {
        return _pick(seed, false);
    }

    /// @dev A message neither delivered nor refunded (and, if `failedOnly`, stored as failed), from `seed`.
    function _pick(uint256 seed, bool failedOnly) private view returns (bool found, uint256 index) {
        uint256 count = _sent.length;
        for (uint256 i; i < count; ++i) {
            index = (seed + i) % count;
            Sent storage record = _sent[index];
            if (record.delivered || record.refunded) continue;
            if (failedOnly && !record.failed) continue;
            return (true, index);
        }
        return (false, 0);
    }

    function _recipientOf(IAttestedGateway.Message memory message) private pure returns (address) {
        (, bytes memory to, ) = abi.decode(message.payload, (bytes, bytes, uint256));
        return address(bytes20(to));
    }

    function _amountOf(IAttestedGateway.Message memory message) private pure returns (uint256 amount) {
        (, , amount) = abi.decode(message.payload, (bytes, bytes, uint256));
    }
}

/// @dev Conservation across two chains: at every step, supply(A) + supply(B) + tokens in flight == outstanding(A)
///      + outstanding(B), and on each chain supply == outstanding + the lane's imports - its exports.
contract InteropSupplyInvariantTest is Test {
    InteropSupplyHandler internal handler;

    function setUp() public {
        handler = new InteropSupplyHandler();
        targetContract(address(handler));
        bytes4[] memory actions = new bytes4[](11);
        actions[0] = InteropSupplyHandler.sendAcross.selector;
        actions[1] = InteropSupplyHandler.deliver.selector;
        actions[2] = InteropSupplyHandler.fail.selector;
        actions[3] = InteropSupplyHandler.retry.selector;
        actions[4] = InteropSupplyHandler.refund.selector;
        actions[5] = InteropSupplyHandler.issuerMint.selector;
        actions[6] = InteropSupplyHandler.issuerBurn.selector;
        actions[7] = InteropSupplyHandler.toggleFreeze.selector;
        actions[8] = InteropSupplyHandler.togglePause.selector;
        actions[9] = InteropSupplyHandler.warp.selector;
        actions[10] = InteropSupplyHandler.sendAcross.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: actions}));
    }

    /// @dev The sum of both supplies plus the tokens in flight equals the sum of both issuers' outstanding issuance.
    function invariant_supplyPlusInFlightEqualsIssued() public {
        LaneFixture.ChainSet memory a = handler.a();
        LaneFixture.ChainSet memory b = handler.b();
        vm.chainId(a.id);
        uint256 supplyA = a.token.totalSupply();
        uint256 issuedA = a.ledger.totalOutstanding();
        vm.chainId(b.id);
        uint256 supplyB = b.token.totalSupply();
        uint256 issuedB = b.ledger.totalOutstanding();
        assertEq(supplyA + supplyB + handler.ghostInFlight(), issuedA + issuedB, "conservation");
    }

    /// @dev The handler's ghost of the tokens in flight is what the gateways' state says.
    function invariant_ghostInFlightMatchesTheGateways() public {
        assertEq(handler.inFlightFromGateways(), handler.ghostInFlight());
    }

    /// @dev On each chain: supply == issuers' outstanding + the lane's net import.
    function invariant_eachChainsSupplyIsOutstandingPlusNetImport() public {
        LaneFixture.ChainSet memory a = handler.a();
        LaneFixture.ChainSet memory b = handler.b();
        _assertChain(a);
        _assertChain(b);
    }

    /// @dev No message is both delivered on its destination and refunded on its source.
    function invariant_noDoubleSpend() public view {
        assertEq(handler.doubleSpends(), 0);
    }

    /// @dev The run did something (see the counts in a failing run's output).
    function invariant_callSummary() public view {
        assertLe(handler.deliveries() + handler.refunds(), handler.sends());
    }

    function _assertChain(LaneFixture.ChainSet memory set) private {
        vm.chainId(set.id);
        (uint256 imported, uint256 exported, ) = set.ledger.bridgeOf(address(set.lane));
        assertEq(set.token.totalSupply() + exported, set.ledger.totalOutstanding() + imported, "chain identity");
    }
}
