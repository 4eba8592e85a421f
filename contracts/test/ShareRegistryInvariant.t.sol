// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {IShareRegistry} from "../keys/interfaces/IShareRegistry.sol";
import {ShareRegistry} from "../keys/ShareRegistry.sol";

/// @dev Creates wallets and drives them through random rotations, recoverer changes, handovers and retirements, by
///      random callers (the owner most of the time), with holders and recoverers drawn from small pools so that
///      sets overlap and addresses leave and come back. Ghosts: each wallet's successful rotations, and whether an
///      epoch was ever seen to go down.
contract ShareRegistryHandler is Test {
    uint256 public constant POOL = 20;

    ShareRegistry public immutable registry;
    address[4] public actors;
    bytes32[] public wallets;

    /// @notice Successful rotations of each wallet.
    mapping(bytes32 walletId => uint256) public ghostRotations;
    /// @notice Set if a wallet's epoch was ever seen lower than before.
    bool public ghostEpochDecreased;
    /// @notice Successful calls.
    uint256 public successes;

    mapping(bytes32 walletId => uint32) private _lastEpoch;

    constructor(ShareRegistry registry_, address[4] memory actors_) {
        registry = registry_;
        actors = actors_;
    }

    function walletCount() external view returns (uint256) {
        return wallets.length;
    }

    /// @notice The `i`-th address of the holder pool (0-based).
    function poolHolder(uint256 i) public pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encode("pool-holder", i)))));
    }

    /// @notice The `i`-th address of the recoverer pool (0-based).
    function poolRecoverer(uint256 i) public pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encode("pool-recoverer", i % 12)))));
    }

    function create(uint256 actorSeed, bytes32 salt, uint256 seed) external {
        address creator = actors[actorSeed % 4];
        (uint8 threshold, address[] memory holders, bytes32[] memory commitments) = _holderSet(seed);
        IShareRegistry.WalletConfig memory config = IShareRegistry.WalletConfig({
            account: address(uint160(uint256(keccak256(abi.encode("account", seed))))),
            threshold: threshold,
            holders: holders,
            commitments: commitments,
            recoverers: _recovererSet(seed >> 128)
        });
        vm.prank(creator);
        try registry.createWallet(salt, config) returns (bytes32 walletId) {
            wallets.push(walletId);
            ++successes;
        } catch {}
        _observeEpochs();
    }

    function rotate(uint256 walletSeed, uint256 callerSeed, uint256 seed) external {
        if (wallets.length == 0) return;
        bytes32 walletId = wallets[walletSeed % wallets.length];
        (uint8 threshold, address[] memory holders, bytes32[] memory commitments) = _holderSet(seed);
        vm.prank(_caller(walletId, callerSeed));
        try registry.rotate(walletId, threshold, holders, commitments) {
            ++ghostRotations[walletId];
            ++successes;
        } catch {}
        _observeEpochs();
    }

    function setRecoverers(uint256 walletSeed, uint256 callerSeed, uint256 seed) external {
        if (wallets.length == 0) return;
        bytes32 walletId = wallets[walletSeed % wallets.length];
        vm.prank(_caller(walletId, callerSeed));
        try registry.setRecoverers(walletId, _recovererSet(seed)) {
            ++successes;
        } catch {}
        _observeEpochs();
    }

    function transfer(uint256 walletSeed, uint256 callerSeed, uint256 toSeed) external {
        if (wallets.length == 0) return;
        bytes32 walletId = wallets[walletSeed % wallets.length];
        vm.prank(_caller(walletId, callerSeed));
        try registry.transferWalletOwnership(walletId, actors[toSeed % 4]) {
            ++successes;
        } catch {}
        _observeEpochs();
    }

    function accept(uint256 walletSeed, uint256 callerSeed) external {
        if (wallets.length == 0) return;
        bytes32 walletId = wallets[walletSeed % wallets.length];
        address pending = registry.pendingOwnerOf(walletId);
        address caller = callerSeed % 4 != 0 && pending != address(0) ? pending : actors[callerSeed % 4];
        vm.prank(caller);
        try registry.acceptWalletOwnership(walletId) {
            ++successes;
        } catch {}
        _observeEpochs();
    }

    function retire(uint256 walletSeed, uint256 callerSeed) external {
        if (wallets.length == 0) return;
        // Rarely: a retired wallet is inert.
        if (callerSeed % 8 != 0) return;
        bytes32 walletId = wallets[walletSeed % wallets.length];
        vm.prank(_caller(walletId, callerSeed >> 8));
        try registry.retireWallet(walletId) {
            ++successes;
        } catch {}
        _observeEpochs();
    }

    /// @dev The owner three times in four, else a random actor.
    function _caller(bytes32 walletId, uint256 seed) private view returns (address) {
        if (seed % 4 != 0) {
            (address owner, , , , ) = registry.walletOf(walletId);
            return owner;
        }
        return actors[(seed >> 8) % 4];
    }

    /// @dev Mostly valid: 2..16 distinct pool holders (sometimes 0, 1 or 17, or a repeat), a threshold in range
    ///      (sometimes not), non-zero commitments (sometimes one zero).
    function _holderSet(
        uint256 seed
    ) private pure returns (uint8 threshold, address[] memory holders, bytes32[] memory commitments) {
        uint256 n = seed % 32 == 0 ? (seed >> 5) % 18 : 2 + ((seed >> 5) % 15);
        holders = new address[](n);
        commitments = new bytes32[](n);
        uint256 used;
        uint256 start = (seed >> 10) % POOL;
        for (uint256 i = 0; i < n; ++i) {
            uint256 pick = (start + uint256(keccak256(abi.encode(seed, i)))) % POOL;
            while (used & (1 << pick) != 0 && used != (1 << POOL) - 1) pick = (pick + 1) % POOL;
            used |= 1 << pick;
            holders[i] = poolHolder(pick);
            commitments[i] = keccak256(abi.encode("commitment", seed, i));
        }
        if (n > 2 && (seed >> 20) % 16 == 0) holders[n - 1] = holders[0];
        if (n > 0 && (seed >> 24) % 16 == 0) commitments[n - 1] = bytes32(0);
        uint256 t = (seed >> 30) % 16 == 0 ? (seed >> 34) % 20 : 2 + ((seed >> 34) % (n < 2 ? 1 : n - 1));
        threshold = uint8(t);
    }

    /// @dev 0..8 distinct pool recoverers (sometimes a repeat, or 9).
    function _recovererSet(uint256 seed) private pure returns (address[] memory recoverers) {
        uint256 n = seed % 16 == 0 ? 9 : (seed >> 4) % 9;
        recoverers = new address[](n);
        uint256 start = (seed >> 8) % 12;
        for (uint256 i = 0; i < n; ++i) recoverers[i] = poolRecoverer(start + i);
        if (n > 1 && (seed >> 16) % 8 == 0) recoverers[n - 1] = recoverers[0];
    }

    /// @dev Records whether any wallet's epoch went down since the last observation.
    function _observeEpochs() private {
        for (uint256 i = 0; i < wallets.length; ++i) {
            (, , , uint32 epoch, ) = registry.walletOf(wallets[i]);
            if (epoch < _lastEpoch[wallets[i]]) ghostEpochDecreased = true;
            _lastEpoch[wallets[i]] = epoch;
        }
    }
}

contract ShareRegistryInvariantTest is Test {
    ShareRegistry internal registry;
    ShareRegistryHandler internal handler;

    function setUp() public {
        registry = new ShareRegistry();
        address[4] memory actors = [makeAddr("alice"), makeAddr("bob"), makeAddr("carol"), makeAddr("mallory")];
        handler = new ShareRegistryHandler(registry, actors);
        targetContract(address(handler));
    }

    function invariant_epochNeverDecreasesAndCountsRotations() public view {
        assertFalse(handler.ghostEpochDecreased(), "an epoch went down");
        uint256 n = handler.walletCount();
        for (uint256 i = 0; i < n; ++i) {
            bytes32 walletId = handler.wallets(i);
            (, , , uint32 epoch, ) = registry.walletOf(walletId);
            assertEq(epoch, 1 + handler.ghostRotations(walletId));
        }
    }

    function invariant_oneNonZeroCommitmentPerHolder() public view {
        uint256 n = handler.walletCount();
        for (uint256 i = 0; i < n; ++i) {
            bytes32 walletId = handler.wallets(i);
            bytes32[] memory commitments = registry.commitmentsOf(walletId);
            assertEq(registry.holdersOf(walletId).length, commitments.length);
            for (uint256 k = 0; k < commitments.length; ++k) assertTrue(commitments[k] != bytes32(0));
        }
    }

    function invariant_thresholdWithinHolders() public view {
        uint256 n = handler.walletCount();
        for (uint256 i = 0; i < n; ++i) {
            bytes32 walletId = handler.wallets(i);
            (address owner, address account, uint8 threshold, , ) = registry.walletOf(walletId);
            uint256 holders = registry.holdersOf(walletId).length;
            assertGe(threshold, 2);
            assertLe(threshold, holders);
            assertLe(holders, registry.MAX_HOLDERS());
            assertTrue(owner != address(0) && account != address(0));
        }
    }

    /// @dev Every pool address answers the index it has in `holdersOf`, 0 if none: no stale entry survives.
    function invariant_holderIndexMatchesHoldersOf() public view {
        uint256 n = handler.walletCount();
        uint256 pool = handler.POOL();
        for (uint256 i = 0; i < n; ++i) {
            bytes32 walletId = handler.wallets(i);
            address[] memory holders = registry.holdersOf(walletId);
            for (uint256 p = 0; p < pool; ++p) {
                address who = handler.poolHolder(p);
                uint8 expected = 0;
                for (uint256 k = 0; k < holders.length; ++k) if (holders[k] == who) expected = uint8(k + 1);
                assertEq(registry.holderIndex(walletId, who), expected);
            }
        }
    }

    /// @dev Every pool address is a recoverer exactly when `recoverersOf` lists it, once.
    function invariant_isRecovererMatchesRecoverersOf() public view {
        uint256 n = handler.walletCount();
        for (uint256 i = 0; i < n; ++i) {
            bytes32 walletId = handler.wallets(i);
            address[] memory recoverers = registry.recoverersOf(walletId);
            assertLe(recoverers.length, registry.MAX_RECOVERERS());
            for (uint256 p = 0; p < 12; ++p) {
                address who = handler.poolRecoverer(p);
                uint256 listed = 0;
                for (uint256 k = 0; k < recoverers.length; ++k) if (recoverers[k] == who) ++listed;
                assertLe(listed, 1);
                assertEq(registry.isRecoverer(walletId, who), listed == 1);
            }
        }
    }
}
