// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Test} from "forge-std/Test.sol";

import {BridgeRegistry} from "../interop/BridgeRegistry.sol";
import {ChainRegistry} from "../interop/ChainRegistry.sol";

/// @dev Stands in for an ERC-7786 gateway: the registry only checks it has code and calls from it.
contract FakeGateway {
    function consume(BridgeRegistry registry, bytes32 key, uint256 amount, bool outbound) external {
        if (outbound) registry.consumeOutbound(key, amount);
        else registry.consumeInbound(key, amount);
    }
}

/// @dev Shared setup: two enabled chains, one route with two allowed bridges (preferred + fallback) and limits.
abstract contract BridgeRegistryFixture is Test {
    uint48 internal constant ADMIN_DELAY = 3 days;
    uint256 internal constant SRC = 4242;
    uint256 internal constant DST = 4343;
    uint208 internal constant CAP = 1_000_000;
    uint48 internal constant WINDOW = 1 days;

    address internal admin = makeAddr("admin");
    address internal chainAdmin = makeAddr("chainAdmin");
    address internal routeAdmin = makeAddr("routeAdmin");
    address internal pauser = makeAddr("pauser");
    address internal asset = makeAddr("asset");
    address internal mallory = makeAddr("mallory");

    ChainRegistry internal chains;
    BridgeRegistry internal registry;
    FakeGateway internal lane;
    FakeGateway internal external1;
    bytes32 internal key;

    function _deploy() internal {
        chains = new ChainRegistry(admin, ADMIN_DELAY);
        registry = new BridgeRegistry(admin, ADMIN_DELAY, chains);
        vm.startPrank(admin);
        chains.grantRole(chains.CHAIN_ADMIN_ROLE(), chainAdmin);
        registry.grantRole(registry.ROUTE_ADMIN_ROLE(), routeAdmin);
        registry.grantRole(registry.PAUSER_ROLE(), pauser);
        vm.stopPrank();
        vm.startPrank(chainAdmin);
        chains.registerChain(SRC, "eip155:4242", true);
        chains.registerChain(DST, "eip155:4343", true);
        vm.stopPrank();
        lane = new FakeGateway();
        external1 = new FakeGateway();
        vm.startPrank(routeAdmin);
        key = registry.addRoute(SRC, DST, asset);
        registry.allowBridge(key, address(lane));
        registry.allowBridge(key, address(external1));
        registry.selectBridges(key, address(lane), address(external1));
        registry.setRateLimit(key, true, CAP, WINDOW);
        registry.setRateLimit(key, false, CAP, WINDOW);
        vm.stopPrank();
    }
}

/// @dev Unit and fuzz tests of `BridgeRegistry`, attacks first.
contract BridgeRegistryTest is BridgeRegistryFixture {
    function setUp() public {
        _deploy();
    }

    // ---------------------------------------------------------------- attacks

    function test_B1_anEoaCannotBeAllowedAsABridge() public {
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.NotAContract.selector, mallory));
        vm.prank(routeAdmin);
        registry.allowBridge(key, mallory);
    }

    function test_B2_aStrangerCannotConsumeARoutesLimit() public {
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.BridgeNotAllowed.selector, key, mallory));
        vm.prank(mallory);
        registry.consumeOutbound(key, 1);
        FakeGateway rogue = new FakeGateway();
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.BridgeNotAllowed.selector, key, address(rogue)));
        rogue.consume(registry, key, 1, false);
    }

    function test_B3_aRemovedBridgeCanNoLongerConsumeAndBridgeForFallsBack() public {
        vm.prank(routeAdmin);
        registry.removeBridge(key, address(lane));
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.BridgeNotAllowed.selector, key, address(lane)));
        lane.consume(registry, key, 1, true);
        assertEq(registry.bridgeFor(SRC, DST, asset), address(external1));
        vm.prank(routeAdmin);
        registry.removeBridge(key, address(external1));
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.NoBridge.selector, key));
        registry.bridgeFor(SRC, DST, asset);
    }

    function test_B4_switchingToTheFallbackBridgeDoesNotResetTheRouteLimit() public {
        lane.consume(registry, key, CAP, true);
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.RouteRateLimitExceeded.selector, key, true, 1, 0));
        external1.consume(registry, key, 1, true);
        // the inbound direction has its own budget
        external1.consume(registry, key, CAP, false);
    }

    function test_B5_pausingOneRoutePausesNothingElse() public {
        vm.startPrank(routeAdmin);
        bytes32 back = registry.addRoute(DST, SRC, asset);
        registry.allowBridge(back, address(lane));
        registry.selectBridges(back, address(lane), address(0));
        registry.setRateLimit(back, true, CAP, WINDOW);
        vm.stopPrank();
        vm.prank(pauser);
        registry.pauseRoute(key);
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.RoutePaused.selector, key));
        registry.bridgeFor(SRC, DST, asset);
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.RoutePaused.selector, key));
        lane.consume(registry, key, 1, true);
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.RoutePaused.selector, key));
        lane.consume(registry, key, 1, false);
        assertEq(registry.bridgeFor(DST, SRC, asset), address(lane));
        lane.consume(registry, back, 1, true);
        assertFalse(registry.isPaused(back));
    }

    function test_B6_thePauserCannotUnpauseNorManageRoutes() public {
        vm.prank(pauser);
        registry.pauseRoute(key);
        bytes32 role = registry.ROUTE_ADMIN_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, pauser, role));
        vm.prank(pauser);
        registry.unpauseRoute(key);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, pauser, role));
        vm.prank(pauser);
        registry.setRateLimit(key, true, type(uint208).max, 1);
        bytes32 pauserRole = registry.PAUSER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, mallory, pauserRole)
        );
        vm.prank(mallory);
        registry.pauseRoute(key);
        vm.expectEmit(address(registry));
        emit BridgeRegistry.RoutePausedSet(key, false, routeAdmin);
        vm.prank(routeAdmin);
        registry.unpauseRoute(key);
        assertEq(registry.bridgeFor(SRC, DST, asset), address(lane));
    }

    function test_B7_aDisabledOrUnknownChainStopsTheRoute() public {
        vm.prank(chainAdmin);
        chains.setChainEnabled(DST, false);
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.ChainDisabled.selector, DST));
        registry.bridgeFor(SRC, DST, asset);
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.ChainDisabled.selector, DST));
        lane.consume(registry, key, 1, true);
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.ChainDisabled.selector, DST));
        vm.prank(routeAdmin);
        registry.addRoute(SRC, DST, makeAddr("other"));
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.UnknownChain.selector, 1));
        registry.bridgeFor(1, DST, asset);
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.UnknownChain.selector, 1));
        vm.prank(routeAdmin);
        registry.addRoute(SRC, 1, asset);
    }

    /// @dev A consume checks both ends in one call: disabling either chain stops both directions, named correctly.
    function test_RevertWhen_ConsumingWhileEitherChainIsDisabled() public {
        uint256[2] memory ends = [SRC, DST];
        for (uint256 i; i < 2; ++i) {
            vm.prank(chainAdmin);
            chains.setChainEnabled(ends[i], false);
            vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.ChainDisabled.selector, ends[i]));
            lane.consume(registry, key, 1, true);
            vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.ChainDisabled.selector, ends[i]));
            lane.consume(registry, key, 1, false);
            vm.prank(chainAdmin);
            chains.setChainEnabled(ends[i], true);
        }
        lane.consume(registry, key, 1, false);
    }

    /// @dev Routes keep their chain ids in 64 bits (EIP-2294 bounds EVM chain ids below that).
    function test_RevertWhen_ARouteChainIdDoesNotFitSixtyFourBits() public {
        uint256 huge = uint256(type(uint64).max) + 1;
        vm.prank(chainAdmin);
        chains.registerChain(huge, string.concat("eip155:", vm.toString(huge)), true);
        vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 64, huge));
        vm.prank(routeAdmin);
        registry.addRoute(SRC, huge, asset);
    }

    function test_B8_noRouteForAnotherAssetOrTheReverseDirection() public {
        address other = makeAddr("other");
        bytes32 otherKey = registry.routeKey(SRC, DST, other);
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.NoRoute.selector, otherKey));
        registry.bridgeFor(SRC, DST, other);
        bytes32 reverse = registry.routeKey(DST, SRC, asset);
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.NoRoute.selector, reverse));
        registry.bridgeFor(DST, SRC, asset);
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.NoRoute.selector, reverse));
        lane.consume(registry, reverse, 1, true);
    }

    function test_B9_preferredAndFallbackMustBeAllowedAndDistinct() public {
        FakeGateway stranger = new FakeGateway();
        vm.startPrank(routeAdmin);
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.BridgeNotAllowed.selector, key, address(stranger)));
        registry.selectBridges(key, address(stranger), address(lane));
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.BridgeNotAllowed.selector, key, address(stranger)));
        registry.selectBridges(key, address(lane), address(stranger));
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.SameBridge.selector, address(lane)));
        registry.selectBridges(key, address(lane), address(lane));
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.BridgeAlreadyAllowed.selector, key, address(lane)));
        registry.allowBridge(key, address(lane));
        vm.stopPrank();
    }

    function test_B10_aNewRouteCarriesNothingUntilLimitsAreSet() public {
        vm.startPrank(routeAdmin);
        bytes32 k = registry.addRoute(DST, SRC, asset);
        registry.allowBridge(k, address(lane));
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.RouteRateLimitExceeded.selector, k, true, 1, 0));
        lane.consume(registry, k, 1, true);
    }

    function test_B11_loweringTheRateIsNotRetroactive() public {
        lane.consume(registry, key, CAP, true);
        vm.warp(block.timestamp + WINDOW / 2); // half refilled
        assertEq(registry.available(key, true), CAP / 2);
        vm.prank(routeAdmin);
        registry.setRateLimit(key, true, CAP, WINDOW * 100); // slower refill from now on
        assertEq(registry.available(key, true), CAP / 2);
    }

    function test_B12_strangerCannotAddRoutesOrBridges() public {
        bytes32 role = registry.ROUTE_ADMIN_ROLE();
        vm.startPrank(mallory);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, mallory, role)
        );
        registry.addRoute(DST, SRC, asset);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, mallory, role)
        );
        registry.allowBridge(key, address(lane));
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, mallory, role)
        );
        registry.removeBridge(key, address(lane));
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, mallory, role)
        );
        registry.selectBridges(key, address(external1), address(0));
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- unit

    function test_addRoute_refusesDuplicateSameChainZeroAsset() public {
        vm.startPrank(routeAdmin);
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.RouteExists.selector, key));
        registry.addRoute(SRC, DST, asset);
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.SameChain.selector, SRC));
        registry.addRoute(SRC, SRC, asset);
        vm.expectRevert(BridgeRegistry.ZeroAsset.selector);
        registry.addRoute(SRC, DST, address(0));
        vm.stopPrank();
    }

    function test_constructor_refusesZeroChainRegistry() public {
        vm.expectRevert(BridgeRegistry.ZeroChainRegistry.selector);
        new BridgeRegistry(admin, ADMIN_DELAY, ChainRegistry(address(0)));
    }

    function test_routeOf_andEvents() public {
        BridgeRegistry.RouteInfo memory info = registry.routeOf(key);
        assertEq(info.sourceChainId, SRC);
        assertEq(info.destinationChainId, DST);
        assertEq(info.asset, asset);
        assertEq(info.preferred, address(lane));
        assertEq(info.fallbackBridge, address(external1));
        assertEq(info.bridges.length, 2);
        assertFalse(info.paused);
        assertEq(key, keccak256(abi.encode(SRC, DST, asset)));
        // A consume moves the bucket and emits nothing (the bridge reports the transfer).
        vm.recordLogs();
        lane.consume(registry, key, 5, true);
        assertEq(vm.getRecordedLogs().length, 0, "no event of the registry's own");
        assertEq(registry.available(key, true), CAP - 5);
        vm.expectEmit(address(registry));
        emit BridgeRegistry.BridgeRemoved(key, address(external1));
        vm.expectEmit(address(registry));
        emit BridgeRegistry.BridgesSelected(key, address(lane), address(0));
        vm.prank(routeAdmin);
        registry.removeBridge(key, address(external1));
        vm.expectRevert(abi.encodeWithSelector(BridgeRegistry.PauseUnchanged.selector, key, false));
        vm.prank(routeAdmin);
        registry.unpauseRoute(key);
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_consumptionWithinOneInstantNeverExceedsCapacity(uint256 a, uint256 b, bool viaFallback) public {
        a = bound(a, 0, CAP);
        b = bound(b, 0, 2 * uint256(CAP));
        lane.consume(registry, key, a, true);
        FakeGateway second = viaFallback ? external1 : lane;
        if (a + b > CAP) {
            vm.expectRevert(
                abi.encodeWithSelector(BridgeRegistry.RouteRateLimitExceeded.selector, key, true, b, CAP - a)
            );
        }
        second.consume(registry, key, b, true);
    }
}

/// @dev Drives consumption through both bridges of the route and moves time.
contract BridgeRegistryHandler is Test {
    BridgeRegistry internal registry;
    FakeGateway internal lane;
    FakeGateway internal external1;
    bytes32 internal key;
    uint256 public consumed;
    uint256 public elapsed;

    constructor(BridgeRegistry registry_, FakeGateway lane_, FakeGateway external1_, bytes32 key_) {
        registry = registry_;
        lane = lane_;
        external1 = external1_;
        key = key_;
    }

    function consume(uint256 amount, bool viaFallback) external {
        amount = bound(amount, 1, 2_000_000);
        FakeGateway bridge = viaFallback ? external1 : lane;
        try bridge.consume(registry, key, amount, true) {
            consumed += amount;
        } catch {} // solhint-disable-line no-empty-blocks
    }

    function warp(uint256 seconds_) external {
        seconds_ = bound(seconds_, 1, 2 days);
        elapsed += seconds_;
        vm.warp(block.timestamp + seconds_);
    }
}

/// @dev Invariant: over any sequence, what all bridges of a route consumed is at most its capacity plus what the
///      bucket refilled in the elapsed time.
contract BridgeRegistryInvariantTest is BridgeRegistryFixture {
    BridgeRegistryHandler internal handler;

    function setUp() public {
        _deploy();
        handler = new BridgeRegistryHandler(registry, lane, external1, key);
        targetContract(address(handler));
    }

    function invariant_routeConsumptionIsBoundedByItsBucket() public view {
        assertLe(handler.consumed(), uint256(CAP) + (handler.elapsed() * CAP) / WINDOW + 1);
        assertLe(registry.available(key, true), CAP);
    }
}
