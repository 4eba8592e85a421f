// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {RateLimiter} from "@openzeppelin/contracts/utils/RateLimiter.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {ChainRegistry} from "./ChainRegistry.sol";

/// @title BridgeRegistry
/// @notice Per route (source chain, destination chain, asset): the ERC-7786 gateways (bridges) allowed to carry it,
///         a preferred and a fallback bridge, outbound and inbound rate limits, and a pause flag.
/// @dev Roles:
///      - `DEFAULT_ADMIN_ROLE` (one holder, handed over in two steps after a delay): grants and revokes roles.
///      - `ROUTE_ADMIN_ROLE`: adds routes, allows and removes bridges, picks the preferred and fallback bridges, sets
///        the rate limits and unpauses a route.
///      - `PAUSER_ROLE`: pauses one route. Pausing a route pauses nothing else; unpausing needs the route admin, so a
///        stolen pauser key can stop traffic but never restart it.
///
///      Rate limits are OpenZeppelin `RateLimiter` refilling buckets, one limiter per route and direction (so each
///      route has its own capacity and window). They belong to the route, not to a bridge: every allowed bridge of a
///      route draws on the same budget, so switching to the fallback does not reset it. A new route has capacity 0
///      in both directions (nothing flows) until the route admin sets limits.
///
///      Consumers: `consumeOutbound` and `consumeInbound` are callable only by an allowed bridge of that route (the
///      gateway that moves the tokens checks and records the amount itself); the route must exist, be unpaused and
///      both its chains enabled. A bridge removed from a route can no longer consume from it. A consume emits no event
///      of its own: the bridge that moves the tokens reports each transfer with its amount and chains (the
///      BurnMintLane's `CrosschainFungibleTransferSent`/`Received` and `CrosschainTransferRefunded`), and
///      `available` reads the bucket.
contract BridgeRegistry is AccessControlDefaultAdminRules {
    using EnumerableSet for EnumerableSet.AddressSet;
    using RateLimiter for RateLimiter.RefillingBucket;

    /// @notice The role that manages routes.
    bytes32 public constant ROUTE_ADMIN_ROLE = keccak256("ROUTE_ADMIN_ROLE");
    /// @notice The role that pauses a route.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @dev The bucket key inside each per-route limiter.
    bytes32 private constant _BUCKET = bytes32(0);

    /// @dev The first slot holds what a consume reads (existence, pause, both chains); EVM chain ids fit 64 bits
    ///      (EIP-2294), and `addRoute` refuses larger ones.
    struct Route {
        bool exists;
        bool paused;
        uint64 sourceChainId;
        uint64 destinationChainId;
        address asset;
        address preferred;
        address fallbackBridge;
        EnumerableSet.AddressSet bridges;
    }

    /// @notice A route as `routeOf` returns it.
    struct RouteInfo {
        uint256 sourceChainId;
        uint256 destinationChainId;
        address asset;
        bool paused;
        address preferred;
        address fallbackBridge;
        address[] bridges;
    }

    /// @notice The chain registry both chains of a route must be registered and enabled in.
    ChainRegistry public immutable chains;

    mapping(bytes32 routeKey => Route) private _routes;
    mapping(bytes32 routeKey => RateLimiter.RefillingBucket) private _outbound;
    mapping(bytes32 routeKey => RateLimiter.RefillingBucket) private _inbound;

    /// @notice The chain registry address is zero.
    error ZeroChainRegistry();
    /// @notice The asset is the zero address.
    error ZeroAsset();
    /// @notice Source and destination are the same chain.
    error SameChain(uint256 chainId);
    /// @notice The chain is not registered.
    error UnknownChain(uint256 chainId);
    /// @notice The chain is registered but disabled.
    error ChainDisabled(uint256 chainId);
    /// @notice The route exists already.
    error RouteExists(bytes32 routeKey);
    /// @notice No such route.
    error NoRoute(bytes32 routeKey);
    /// @notice The route is paused.
    error RoutePaused(bytes32 routeKey);
    /// @notice The route is already in the requested pause state.
    error PauseUnchanged(bytes32 routeKey, bool paused);
    /// @notice The bridge has no code.
    error NotAContract(address bridge);
    /// @notice The bridge is allowed on the route already.
    error BridgeAlreadyAllowed(bytes32 routeKey, address bridge);
    /// @notice The bridge is not allowed on the route.
    error BridgeNotAllowed(bytes32 routeKey, address bridge);
    /// @notice Preferred and fallback are the same bridge.
    error SameBridge(address bridge);
    /// @notice The route has neither a preferred nor a fallback bridge.
    error NoBridge(bytes32 routeKey);
    /// @notice The amount is over what the route's limit has available in that direction.
    error RouteRateLimitExceeded(bytes32 routeKey, bool outbound, uint256 amount, uint256 available);

    /// @notice A route was added.
    event RouteAdded(
        bytes32 indexed routeKey,
        uint256 indexed sourceChainId,
        uint256 indexed destinationChainId,
        address asset
    );
    /// @notice A bridge was allowed on a route.
    event BridgeAllowed(bytes32 indexed routeKey, address indexed bridge);
    /// @notice A bridge was removed from a route (and from its preferred or fallback slot).
    event BridgeRemoved(bytes32 indexed routeKey, address indexed bridge);
    /// @notice The preferred and fallback bridges of a route were set (or cleared to zero by a removal).
    event BridgesSelected(bytes32 indexed routeKey, address preferred, address fallbackBridge);
    /// @notice A route's limit in one direction was set.
    event RateLimitSet(bytes32 indexed routeKey, bool outbound, uint208 capacity, uint48 window);
    /// @notice A route was paused or unpaused.
    event RoutePausedSet(bytes32 indexed routeKey, bool paused, address indexed by);

    /// @param initialAdmin The default admin.
    /// @param adminDelay The delay of a default admin handover.
    /// @param chainRegistry The chain registry.
    constructor(
        address initialAdmin,
        uint48 adminDelay,
        ChainRegistry chainRegistry
    ) AccessControlDefaultAdminRules(adminDelay, initialAdmin) {
        require(address(chainRegistry) != address(0), ZeroChainRegistry());
        chains = chainRegistry;
    }

    /// @notice The key of a route.
    function routeKey(uint256 sourceChainId, uint256 destinationChainId, address asset) public pure returns (bytes32) {
        return keccak256(abi.encode(sourceChainId, destinationChainId, asset));
    }

    // ---------------------------------------------------------------- admin

    /// @notice Adds a route; both chains must be registered and enabled. Its limits start at zero.
    function addRoute(
        uint256 sourceChainId,
        uint256 destinationChainId,
        address asset
    ) external onlyRole(ROUTE_ADMIN_ROLE) returns (bytes32 key) {
        require(asset != address(0), ZeroAsset());
        require(sourceChainId != destinationChainId, SameChain(sourceChainId));
        _requireEnabled(sourceChainId);
        _requireEnabled(destinationChainId);
        key = routeKey(sourceChainId, destinationChainId, asset);
        Route storage route = _routes[key];
        require(!route.exists, RouteExists(key));
        route.sourceChainId = SafeCast.toUint64(sourceChainId);
        route.destinationChainId = SafeCast.toUint64(destinationChainId);
        route.asset = asset;
        route.exists = true;
        emit RouteAdded(key, sourceChainId, destinationChainId, asset);
    }

    /// @notice Allows a bridge (an ERC-7786 gateway contract) on a route.
    function allowBridge(bytes32 key, address bridge) external onlyRole(ROUTE_ADMIN_ROLE) {
        Route storage route = _route(key);
        require(bridge.code.length != 0, NotAContract(bridge));
        require(route.bridges.add(bridge), BridgeAlreadyAllowed(key, bridge));
        emit BridgeAllowed(key, bridge);
    }

    /// @notice Removes a bridge from a route, clearing it from the preferred or fallback slot.
    function removeBridge(bytes32 key, address bridge) external onlyRole(ROUTE_ADMIN_ROLE) {
        Route storage route = _route(key);
        require(route.bridges.remove(bridge), BridgeNotAllowed(key, bridge));
        emit BridgeRemoved(key, bridge);
        if (route.preferred == bridge || route.fallbackBridge == bridge) {
            if (route.preferred == bridge) route.preferred = address(0);
            if (route.fallbackBridge == bridge) route.fallbackBridge = address(0);
            emit BridgesSelected(key, route.preferred, route.fallbackBridge);
        }
    }

    /// @notice Picks the preferred and the fallback bridge; both allowed on the route and distinct. A zero fallback
    ///         means none.
    function selectBridges(bytes32 key, address preferred, address fallbackBridge) external onlyRole(ROUTE_ADMIN_ROLE) {
        Route storage route = _route(key);
        require(route.bridges.contains(preferred), BridgeNotAllowed(key, preferred));
        if (fallbackBridge != address(0)) {
            require(route.bridges.contains(fallbackBridge), BridgeNotAllowed(key, fallbackBridge));
            require(fallbackBridge != preferred, SameBridge(preferred));
        }
        route.preferred = preferred;
        route.fallbackBridge = fallbackBridge;
        emit BridgesSelected(key, preferred, fallbackBridge);
    }

    /// @notice Sets a route's limit in one direction: up to `capacity` per `window` seconds (a refilling bucket).
    /// @dev The bucket is synced first, so the new rate applies from now, not retroactively.
    function setRateLimit(
        bytes32 key,
        bool outbound,
        uint208 capacity,
        uint48 window
    ) external onlyRole(ROUTE_ADMIN_ROLE) {
        _route(key);
        RateLimiter.RefillingBucket storage bucket = outbound ? _outbound[key] : _inbound[key];
        bucket.sync(_BUCKET);
        bucket.updateSettings(window, capacity);
        emit RateLimitSet(key, outbound, capacity, window);
    }

    /// @notice Pauses one route.
    function pauseRoute(bytes32 key) external onlyRole(PAUSER_ROLE) {
        _setPaused(key, true);
    }

    /// @notice Unpauses one route.
    function unpauseRoute(bytes32 key) external onlyRole(ROUTE_ADMIN_ROLE) {
        _setPaused(key, false);
    }

    // ---------------------------------------------------------------- bridges

    /// @notice Records `amount` leaving on the route; reverts over the outbound limit.
    function consumeOutbound(bytes32 key, uint256 amount) external {
        _consume(key, amount, true);
    }

    /// @notice Records `amount` arriving on the route; reverts over the inbound limit.
    function consumeInbound(bytes32 key, uint256 amount) external {
        _consume(key, amount, false);
    }

    // ---------------------------------------------------------------- views

    /// @notice The bridge to use for a route: the preferred one, or the fallback if there is no preferred one.
    function bridgeFor(
        uint256 sourceChainId,
        uint256 destinationChainId,
        address asset
    ) external view returns (address) {
        _requireEnabled(sourceChainId);
        _requireEnabled(destinationChainId);
        bytes32 key = routeKey(sourceChainId, destinationChainId, asset);
        Route storage route = _route(key);
        require(!route.paused, RoutePaused(key));
        if (route.preferred != address(0)) return route.preferred;
        require(route.fallbackBridge != address(0), NoBridge(key));
        return route.fallbackBridge;
    }

    /// @notice The route; reverts `NoRoute` if it does not exist.
    function routeOf(bytes32 key) external view returns (RouteInfo memory) {
        Route storage route = _route(key);
        return
            RouteInfo(
                route.sourceChainId,
                route.destinationChainId,
                route.asset,
                route.paused,
                route.preferred,
                route.fallbackBridge,
                route.bridges.values()
            );
    }

    /// @notice Whether `bridge` is allowed on the route.
    function isBridgeAllowed(bytes32 key, address bridge) external view returns (bool) {
        return _routes[key].bridges.contains(bridge);
    }

    /// @notice Whether the route is paused.
    function isPaused(bytes32 key) external view returns (bool) {
        return _routes[key].paused;
    }

    /// @notice A route's limit in one direction: `capacity` per `window` seconds (zero and zero until set).
    function rateLimitOf(bytes32 key, bool outbound) external view returns (uint208 capacity, uint48 window) {
        RateLimiter.RefillingBucket storage bucket = outbound ? _outbound[key] : _inbound[key];
        return (bucket._capacity, bucket._window);
    }

    /// @notice What the route can still carry now in one direction.
    function available(bytes32 key, bool outbound) external view returns (uint256) {
        return (outbound ? _outbound[key] : _inbound[key]).available(_BUCKET);
    }

    // ---------------------------------------------------------------- internals

    function _consume(bytes32 key, uint256 amount, bool outbound) private {
        Route storage route = _route(key);
        require(route.bridges.contains(msg.sender), BridgeNotAllowed(key, msg.sender));
        require(!route.paused, RoutePaused(key));
        (uint256 sourceChainId, uint256 destinationChainId) = (route.sourceChainId, route.destinationChainId);
        if (!chains.areEnabled(sourceChainId, destinationChainId)) {
            // Only to name the chain: enabled implies registered, so one of these reverts.
            _requireEnabled(sourceChainId);
            _requireEnabled(destinationChainId);
        }
        RateLimiter.RefillingBucket storage bucket = outbound ? _outbound[key] : _inbound[key];
        if (!bucket.tryConsume(_BUCKET, amount)) {
            revert RouteRateLimitExceeded(key, outbound, amount, bucket.available(_BUCKET));
        }
    }

    function _setPaused(bytes32 key, bool paused) private {
        Route storage route = _route(key);
        require(route.paused != paused, PauseUnchanged(key, paused));
        route.paused = paused;
        emit RoutePausedSet(key, paused, msg.sender);
    }

    function _route(bytes32 key) private view returns (Route storage route) {
        route = _routes[key];
        require(route.exists, NoRoute(key));
    }

    function _requireEnabled(uint256 chainId) private view {
        require(chains.isRegistered(chainId), UnknownChain(chainId));
        require(chains.isEnabled(chainId), ChainDisabled(chainId));
    }
}
