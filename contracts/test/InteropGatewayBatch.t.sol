// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Vm} from "forge-std/Vm.sol";

import {BridgeRegistry} from "../interop/BridgeRegistry.sol";
import {InteropGateway} from "../interop/InteropGateway.sol";
import {IInteropGateway} from "../interop/interfaces/IInteropGateway.sol";
import {IBankToken} from "../token/interfaces/IBankToken.sol";
import {InteropGatewayFixture} from "./InteropGateway.t.sol";
import {MockERC2771Target} from "./mocks/MockERC2771Target.sol";
import {MockYesWallet} from "./mocks/MockSignerWallets.sol";

/// @dev `InteropGateway.executeBatch`: attacks first, named after the attack. Each item must end exactly as `execute`
///      would have ended it, and a failed item must neither stop the others nor spend its nonce.
contract InteropGatewayBatchTest is InteropGatewayFixture {
    bytes32 internal constant PAYLOAD_FAILED = keccak256("PayloadFailed(bytes32,address,bytes)");
    bytes32 internal constant EXECUTED = keccak256("Executed(bytes32,address,uint8,uint256,bytes32)");

    IInteropGateway.Payload[] internal _items;
    address[] internal _signers;
    bytes[] internal _signatures;

    function setUp() public override {
        super.setUp();
        _fund(mallory, ALICE_FUNDS);
    }

    // ---------------------------------------------------------------- helpers

    /// @dev Adds `p` signed by `key` for `signer`.
    function _add(IInteropGateway.Payload memory p, address signer, uint256 key) internal {
        _addSigned(p, signer, _sign(key, p));
    }

    function _addSigned(IInteropGateway.Payload memory p, address signer, bytes memory signature) internal {
        _items.push(p);
        _signers.push(signer);
        _signatures.push(signature);
    }

    function _batch() internal returns (bytes32[] memory ids) {
        vm.prank(relayer);
        ids = gateway.executeBatch(_items, _signers, _signatures);
    }

    function _batchCall() internal view returns (bytes memory) {
        return abi.encodeCall(InteropGateway.executeBatch, (_items, _signers, _signatures));
    }

    function _expectFailed(bytes32 id, address signer, bytes memory reason) internal {
        vm.expectEmit(address(gateway));
        emit IInteropGateway.PayloadFailed(id, signer, reason);
    }

    function _id(uint256 index) internal view returns (bytes32) {
        return _digest(_items[index], address(gateway));
    }

    /// @dev How many `PayloadFailed` and `Executed` logs the gateway emitted in `logs`.
    function _count(Vm.Log[] memory logs) internal view returns (uint256 failed, uint256 executed) {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(gateway)) continue;
            if (logs[i].topics[0] == PAYLOAD_FAILED) ++failed;
            if (logs[i].topics[0] == EXECUTED) ++executed;
        }
    }

    // ================================================================ attacks

    function test_RevertWhen_BatchItemEntryCalledFromOutside() public {
        IInteropGateway.Payload memory p = _transfer(100_00, 1);
        bytes memory signature = _sign(aliceKey, p);
        address[3] memory callers = [mallory, relayer, alice];
        for (uint256 i; i < callers.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(InteropGateway.InteropGatewayOnlySelf.selector, callers[i]));
            vm.prank(callers[i]);
            gateway.executeBatchItem(p, alice, signature);
        }
        // Without the batch's reentrancy guard and outside a batch, the entry would otherwise execute it.
        assertFalse(gateway.isNonceUsed(alice, 1));
        assertEq(usd.balanceOf(bob), 0);
    }

    function test_RevertWhen_SamePayloadTwiceInOneBatch() public {
        IInteropGateway.Payload memory p = _transfer(100_00, 1);
        _add(p, alice, aliceKey);
        _add(p, alice, aliceKey);
        _add(_transfer(1_00, 2), alice, aliceKey);
        bytes32 id = _id(0);
        _expectFailed(id, alice, abi.encodeWithSelector(IInteropGateway.InteropGatewayNonceUsed.selector, alice, 1));
        bytes32[] memory ids = _batch();
        assertEq(ids.length, 3);
        assertEq(ids[0], id);
        assertEq(ids[1], bytes32(0));
        assertEq(ids[2], _id(2));
        assertEq(usd.balanceOf(bob), 101_00);
        assertEq(usd.balanceOf(alice), ALICE_FUNDS - 101_00);
    }

    function test_RevertWhen_BatchItemFrontRunBySingleExecute() public {
        _add(_transfer(1_00, 1), alice, aliceKey);
        _add(_crossChain(20_00, 2), alice, aliceKey);
        _add(_transfer(3_00, 3), alice, aliceKey);
        // Mallory submits the middle payload alone first: the same outcome, and the batch still does the others.
        vm.prank(mallory);
        gateway.execute(_items[1], alice, _signatures[1]);
        _expectFailed(
            _id(1),
            alice,
            abi.encodeWithSelector(IInteropGateway.InteropGatewayNonceUsed.selector, alice, 2)
        );
        bytes32[] memory ids = _batch();
        assertEq(ids[0], _id(0));
        assertEq(ids[1], bytes32(0));
        assertEq(ids[2], _id(2));
        assertEq(usd.balanceOf(bob), 4_00);
        assertEq(lane.calls(), 1);
        assertEq(usd.balanceOf(address(lane)), 20_00);
        assertEq(usd.balanceOf(mallory), ALICE_FUNDS);
    }

    function test_RevertWhen_BadSignatureAmongGoodOnes() public {
        _add(_transfer(1_00, 1), alice, aliceKey);
        // Mallory signs a payload in alice's name, and one of alice's with the signature of another payload.
        _add(_transfer(500_00, 2), alice, malloryKey);
        IInteropGateway.Payload memory p = _transfer(2_00, 3);
        _addSigned(p, alice, _sign(aliceKey, _transfer(2_00, 4)));
        _add(_crossChain(4_00, 5), mallory, malloryKey);
        bytes memory invalid = abi.encodeWithSelector(IInteropGateway.InteropGatewayInvalidSignature.selector, alice);
        _expectFailed(_id(1), alice, invalid);
        _expectFailed(_id(2), alice, invalid);
        bytes32[] memory ids = _batch();
        assertEq(ids[0], _id(0));
        assertEq(ids[1], bytes32(0));
        assertEq(ids[2], bytes32(0));
        assertEq(ids[3], _id(3));
        assertEq(usd.balanceOf(bob), 1_00);
        assertFalse(gateway.isNonceUsed(alice, 2));
        assertFalse(gateway.isNonceUsed(alice, 3));
        assertEq(lane.lastFrom(), mallory);
    }

    function test_RevertWhen_FrozenSignerInBatch() public {
        _freeze(usd, alice);
        _add(_transfer(1_00, 1), alice, aliceKey);
        _add(_crossChain(2_00, 2), alice, aliceKey);
        _add(_transfer(3_00, 1), mallory, malloryKey);
        _add(_crossChain(4_00, 2), mallory, malloryKey);
        bytes memory frozen = abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, alice);
        _expectFailed(_id(0), alice, frozen);
        _expectFailed(_id(1), alice, frozen);
        bytes32[] memory ids = _batch();
        assertEq(ids[0], bytes32(0));
        assertEq(ids[1], bytes32(0));
        assertEq(ids[2], _id(2));
        assertEq(ids[3], _id(3));
        assertEq(usd.balanceOf(alice), ALICE_FUNDS);
        assertFalse(gateway.isNonceUsed(alice, 1));
        assertFalse(gateway.isNonceUsed(alice, 2));
        assertEq(usd.balanceOf(bob), 3_00);
        assertEq(usd.balanceOf(address(lane)), 4_00);
        // Unfrozen, the same signed payloads execute: their nonces were never spent.
        vm.prank(tokenOps);
        usd.unfreeze(alice);
        gateway.execute(_items[0], alice, _signatures[0]);
        gateway.execute(_items[1], alice, _signatures[1]);
        assertEq(usd.balanceOf(alice), ALICE_FUNDS - 3_00);
    }

    function test_RevertWhen_BatchWhileGatewayPaused() public {
        _add(_transfer(1_00, 1), alice, aliceKey);
        vm.prank(pauser);
        gateway.pause();
        vm.expectRevert(_err(Pausable.EnforcedPause.selector));
        vm.prank(relayer);
        gateway.executeBatch(_items, _signers, _signatures);
        assertFalse(gateway.isNonceUsed(alice, 1));
    }

    function test_RevertWhen_GatewayPausedMidBatch() public {
        // An allow-listed target holding the pauser role pauses the gateway in the first item: the rest stop.
        bytes32 pauserRole = gateway.PAUSER_ROLE();
        vm.prank(admin);
        gateway.grantRole(pauserRole, address(target));
        bytes memory pauseCall = abi.encodeCall(InteropGateway.pause, ());
        _add(_callOf(abi.encodeCall(MockERC2771Target.forward, (address(gateway), pauseCall)), 1), alice, aliceKey);
        _add(_transfer(1_00, 2), alice, aliceKey);
        _add(_crossChain(1_00, 3), mallory, malloryKey);
        bytes memory paused = _err(Pausable.EnforcedPause.selector);
        _expectFailed(_id(1), alice, paused);
        _expectFailed(_id(2), mallory, paused);
        bytes32[] memory ids = _batch();
        assertEq(ids[0], _id(0));
        assertTrue(gateway.paused());
        assertEq(usd.balanceOf(bob), 0);
        assertEq(lane.calls(), 0);
    }

    function test_RevertWhen_RouteFailuresInBatch() public {
        // Over the route's limit, on a paused route, expired: each fails alone, with the reason `execute` gives.
        _add(_crossChain(ROUTE_CAP + 1, 1), alice, aliceKey);
        IInteropGateway.Payload memory expired = _transfer(1_00, 2);
        expired.deadline = uint64(block.timestamp - 1);
        _add(expired, alice, aliceKey);
        _add(_crossChain(5_00, 3), alice, aliceKey);
        _add(_transfer(7_00, 4), alice, aliceKey);
        _expectFailed(
            _id(0),
            alice,
            abi.encodeWithSelector(
                BridgeRegistry.RouteRateLimitExceeded.selector,
                usdRoute,
                true,
                ROUTE_CAP + 1,
                ROUTE_CAP
            )
        );
        _expectFailed(
            _id(1),
            alice,
            abi.encodeWithSelector(IInteropGateway.InteropGatewayExpired.selector, expired.deadline)
        );
        bytes32[] memory ids = _batch();
        assertEq(ids[2], _id(2));
        assertEq(ids[3], _id(3));
        assertEq(bridges.available(usdRoute, true), ROUTE_CAP - 5_00);

        delete _items;
        delete _signers;
        delete _signatures;
        vm.prank(pauser);
        bridges.pauseRoute(usdRoute);
        _add(_crossChain(5_00, 5), alice, aliceKey);
        _add(_transfer(1_00, 6), alice, aliceKey);
        _expectFailed(_id(0), alice, abi.encodeWithSelector(BridgeRegistry.RoutePaused.selector, usdRoute));
        ids = _batch();
        assertEq(ids[1], _id(1));
        assertFalse(gateway.isNonceUsed(alice, 5));
        assertEq(usd.balanceOf(bob), 8_00);
    }

    /// @dev Griefing: whatever gas a relayer gives the batch, an item is never reported failed for want of gas. The
    ///      second item is a heavy call (about 440,000 gas, under `MIN_BATCH_ITEM_GAS`), heavy enough that the 1/64 of
    ///      gas the batch keeps after a starved call lets it go on: a batch that swallowed the failure would report
    ///      the item failed. A binary search for the least gas that mines the batch checks the property at each
    ///      probe, and ends at the edge where that would show.
    function test_RevertWhen_RelayerStarvesABatchItem() public {
        _add(_transfer(1_00, 1), alice, aliceKey);
        _add(_callOf(abi.encodeCall(MockERC2771Target.work, (19)), 2), alice, aliceKey);
        bytes memory callData = _batchCall();
        uint256 low = 50_000;
        uint256 high = 3_000_000;
        while (high - low > 1) {
            uint256 middle = (low + high) / 2;
            uint256 snapshot = vm.snapshotState();
            vm.recordLogs();
            // solhint-disable-next-line avoid-low-level-calls
            (bool mined, ) = address(gateway).call{gas: middle}(callData);
            (uint256 failed, uint256 executed) = _count(vm.getRecordedLogs());
            if (mined) {
                assertEq(failed, 0);
                assertEq(executed, 2);
            }
            assertEq(gateway.isNonceUsed(alice, 2), mined);
            assertEq(target.calls(), mined ? 1 : 0);
            vm.revertToState(snapshot);
            if (mined) high = middle;
            else low = middle;
        }
        assertGt(high, 430_000);
        // Given less than it is owed, the failed item reverts the batch with the figures.
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory reason) = address(gateway).call{gas: 400_000}(callData);
        assertFalse(ok);
        assertEq(bytes4(reason), IInteropGateway.InteropGatewayInsufficientGas.selector);
    }

    function test_RevertWhen_CallTargetReentersDuringABatch() public {
        IInteropGateway.Payload memory inner = _transfer(100_00, 9);
        bytes memory innerSignature = _sign(aliceKey, inner);
        IInteropGateway.Payload[] memory innerItems = new IInteropGateway.Payload[](1);
        innerItems[0] = inner;
        address[] memory innerSigners = new address[](1);
        innerSigners[0] = alice;
        bytes[] memory innerSignatures = new bytes[](1);
        innerSignatures[0] = innerSignature;
        bytes[3] memory reentries = [
            abi.encodeCall(InteropGateway.execute, (inner, alice, innerSignature)),
            abi.encodeCall(InteropGateway.executeBatch, (innerItems, innerSigners, innerSignatures)),
            abi.encodeCall(InteropGateway.executeBatchItem, (inner, alice, innerSignature))
        ];
        bytes memory reentrant = _err(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        bytes[3] memory expected = [
            reentrant,
            reentrant,
            abi.encodeWithSelector(InteropGateway.InteropGatewayOnlySelf.selector, address(target))
        ];
        for (uint256 i; i < reentries.length; ++i) {
            _add(
                _callOf(abi.encodeCall(MockERC2771Target.forward, (address(gateway), reentries[i])), i + 1),
                alice,
                aliceKey
            );
        }
        _add(_transfer(1_00, 4), alice, aliceKey);
        for (uint256 i; i < reentries.length; ++i) {
            _expectFailed(
                _id(i),
                alice,
                abi.encodeWithSelector(IInteropGateway.InteropGatewayCallFailed.selector, expected[i])
            );
        }
        bytes32[] memory ids = _batch();
        assertEq(ids[3], _id(3));
        assertEq(usd.balanceOf(bob), 1_00);
        assertFalse(gateway.isNonceUsed(alice, 9));
    }

    function test_RevertWhen_Eip7702SignerCodeSaysYesInBatch() public {
        MockYesWallet yes = new MockYesWallet();
        vm.etch(alice, abi.encodePacked(hex"ef0100", address(yes)));
        _addSigned(_transfer(100_00, 1), alice, "");
        _add(_transfer(200_00, 2), alice, malloryKey);
        _add(_transfer(3_00, 3), alice, aliceKey);
        bytes memory invalid = abi.encodeWithSelector(IInteropGateway.InteropGatewayInvalidSignature.selector, alice);
        _expectFailed(_id(0), alice, invalid);
        _expectFailed(_id(1), alice, invalid);
        bytes32[] memory ids = _batch();
        assertEq(ids[2], _id(2));
        // Her own ECDSA signature works whatever her code; the code's "yes" moved nothing.
        assertEq(usd.balanceOf(bob), 3_00);
    }

    function test_RevertWhen_CallTargetRevertsWithAHugeReason_reasonIsCut() public {
        // A target that reverts with 100,000 bytes: the item's reason is cut to 1,024 bytes and the batch goes on.
        bytes memory call = abi.encodeCall(MockERC2771Target.forward, (address(new HugeReverter(100_000)), hex""));
        _add(_callOf(call, 1), alice, aliceKey);
        _add(_transfer(1_00, 2), alice, aliceKey);
        vm.recordLogs();
        bytes32[] memory ids = _batch();
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(ids[1], _id(1));
        uint256 found;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(gateway) || logs[i].topics[0] != PAYLOAD_FAILED) continue;
            bytes memory reason = abi.decode(logs[i].data, (bytes));
            assertEq(reason.length, 1024);
            assertEq(bytes4(reason), IInteropGateway.InteropGatewayCallFailed.selector);
            ++found;
        }
        assertEq(found, 1);
    }

    // ================================================================ bad input

    function test_RevertWhen_BatchIsEmpty() public {
        vm.expectRevert(_err(IInteropGateway.InteropGatewayEmptyBatch.selector));
        gateway.executeBatch(_items, _signers, _signatures);
    }

    function test_RevertWhen_BatchIsTooLarge() public {
        uint256 max = gateway.MAX_BATCH_SIZE();
        IInteropGateway.Payload memory p = _transfer(1, 1);
        for (uint256 i; i <= max; ++i) _addSigned(p, alice, "");
        vm.expectRevert(abi.encodeWithSelector(IInteropGateway.InteropGatewayBatchTooLarge.selector, max + 1, max));
        gateway.executeBatch(_items, _signers, _signatures);
        // At the maximum it runs (every item fails here: no signature).
        _items.pop();
        _signers.pop();
        _signatures.pop();
        bytes32[] memory ids = gateway.executeBatch(_items, _signers, _signatures);
        assertEq(ids.length, max);
    }

    function test_RevertWhen_BatchArraysDifferInLength() public {
        _add(_transfer(1_00, 1), alice, aliceKey);
        _add(_transfer(1_00, 2), alice, aliceKey);
        _signers.pop();
        vm.expectRevert(abi.encodeWithSelector(IInteropGateway.InteropGatewayBatchLengthMismatch.selector, 2, 1, 2));
        gateway.executeBatch(_items, _signers, _signatures);
        _signers.push(alice);
        _signatures.pop();
        vm.expectRevert(abi.encodeWithSelector(IInteropGateway.InteropGatewayBatchLengthMismatch.selector, 2, 2, 1));
        gateway.executeBatch(_items, _signers, _signatures);
    }

    // ================================================================ behaviour

    function test_executeBatch_eachKindAsExecuteWould() public {
        _add(_transfer(10_00, 1), alice, aliceKey);
        _add(_exchange(100_00, _exchangeData(_quote(USD_EUR), quoterKey, 92_00), 2), alice, aliceKey);
        _add(_callOf(abi.encodeCall(MockERC2771Target.record, (7)), 3), alice, aliceKey);
        _add(_crossChain(30_00, 4), alice, aliceKey);
        _add(_crossChain(40_00, 1), mallory, malloryKey);
        vm.expectEmit(address(gateway));
        emit IInteropGateway.Executed(_id(0), alice, IInteropGateway.Kind.Transfer, 1, bytes32(0));
        vm.expectEmit(address(gateway));
        emit IInteropGateway.Exchanged(_id(1), address(usd), address(eur), 100_00, 92_00);
        vm.expectEmit(address(gateway));
        emit IInteropGateway.Executed(_id(1), alice, IInteropGateway.Kind.Exchange, 2, bytes32(0));
        vm.expectEmit(address(gateway));
        emit IInteropGateway.Executed(_id(2), alice, IInteropGateway.Kind.Call, 3, bytes32(0));
        vm.expectEmit(address(gateway));
        emit IInteropGateway.Executed(
            _id(3),
            alice,
            IInteropGateway.Kind.CrossChain,
            4,
            keccak256(abi.encode(address(lane), uint256(1)))
        );
        vm.expectEmit(address(gateway));
        emit IInteropGateway.Executed(
            _id(4),
            mallory,
            IInteropGateway.Kind.CrossChain,
            1,
            keccak256(abi.encode(address(lane), uint256(2)))
        );
        vm.recordLogs();
        bytes32[] memory ids = _batch();
        (uint256 failed, uint256 executed) = _count(vm.getRecordedLogs());
        assertEq(failed, 0);
        assertEq(executed, 5);
        for (uint256 i; i < ids.length; ++i) assertEq(ids[i], _id(i));
        assertEq(usd.balanceOf(bob), 10_00);
        assertEq(eur.balanceOf(bob), 92_00);
        assertEq(target.lastSender(), alice);
        assertEq(usd.balanceOf(address(lane)), 70_00);
        assertEq(lane.lastFrom(), mallory);
        assertEq(usd.balanceOf(address(gateway)), 0);
        assertEq(usd.allowance(address(gateway), address(lane)), type(uint256).max);
        assertEq(bridges.available(usdRoute, true), ROUTE_CAP - 70_00);
    }

    /// @dev Any mix of good and forged signatures: exactly the good items execute, each once, and the forged ones
    ///      keep their nonces.
    function testFuzz_executeBatch_executesExactlyTheGoodItems(uint256 forgedMask, uint8 size) public {
        uint256 count = bound(size, 1, 12);
        uint256 expected;
        for (uint256 i; i < count; ++i) {
            bool forged = (forgedMask >> i) & 1 == 1;
            _add(_transfer(1_00 + i, i + 1), alice, forged ? malloryKey : aliceKey);
            if (!forged) expected += 1_00 + i;
        }
        bytes32[] memory ids = _batch();
        for (uint256 i; i < count; ++i) {
            bool forged = (forgedMask >> i) & 1 == 1;
            assertEq(ids[i], forged ? bytes32(0) : _id(i));
            assertEq(gateway.isNonceUsed(alice, i + 1), !forged);
        }
        assertEq(usd.balanceOf(bob), expected);
        assertEq(usd.balanceOf(alice), ALICE_FUNDS - expected);
    }
}

/// @dev Reverts every call with `size` bytes of revert data.
contract HugeReverter {
    uint256 private immutable _size;

    constructor(uint256 size) {
        _size = size;
    }

    // solhint-disable-next-line no-complex-fallback
    fallback() external {
        uint256 size = _size;
        assembly ("memory-safe") {
            revert(0, size)
        }
    }
}
