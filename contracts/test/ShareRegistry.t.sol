// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {IShareRegistry} from "../keys/interfaces/IShareRegistry.sol";
import {ShareRegistry} from "../keys/ShareRegistry.sol";

/// @dev Wallets, holders and shares for the `ShareRegistry` tests.
abstract contract ShareRegistryFixture is Test {
    bytes32 internal constant SALT = keccak256("wallet-1");
    bytes32 internal constant SHARE_TYPEHASH = keccak256(
        "BankChainKeyShare(uint256 chainId,address registry,bytes32 walletId,uint32 epoch,uint8 index,"
        "bytes32 salt,bytes32 shareHash)"
    );

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal mallory = makeAddr("mallory");
    address internal account = makeAddr("account");
    ShareRegistry internal registry;

    function _deployRegistry() internal {
        registry = new ShareRegistry();
    }

    /// @dev The `i`-th holder address (1-based).
    function _holder(uint256 i) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encode("holder", i)))));
    }

    /// @dev The `i`-th recoverer address (1-based).
    function _recoverer(uint256 i) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encode("recoverer", i)))));
    }

    /// @dev Holders 1..n.
    function _holders(uint256 n) internal pure returns (address[] memory holders) {
        holders = new address[](n);
        for (uint256 i = 0; i < n; ++i) holders[i] = _holder(i + 1);
    }

    /// @dev Recoverers 1..n.
    function _recoverers(uint256 n) internal pure returns (address[] memory recoverers) {
        recoverers = new address[](n);
        for (uint256 i = 0; i < n; ++i) recoverers[i] = _recoverer(i + 1);
    }

    /// @dev A 33-byte share (a 32-byte secret and the x-coordinate last), distinct per epoch and index.
    function _share(uint32 epoch, uint8 index) internal pure returns (bytes memory) {
        return abi.encodePacked(keccak256(abi.encode("secret", epoch, index)), index);
    }

    function _salt(uint32 epoch, uint8 index) internal pure returns (bytes32) {
        return keccak256(abi.encode("salt", epoch, index));
    }

    /// @dev The commitment per spec section 1, computed here, independently of the registry.
    function _commit(
        address registry_,
        bytes32 walletId,
        uint32 epoch,
        uint8 index,
        bytes32 salt,
        bytes memory share
    ) internal view returns (bytes32) {
        return
            keccak256(
                abi.encode(SHARE_TYPEHASH, block.chainid, registry_, walletId, epoch, index, salt, keccak256(share))
            );
    }

    /// @dev The commitments of shares 1..n of `epoch` for `walletId` on `registry`.
    function _commitments(bytes32 walletId, uint32 epoch, uint256 n) internal view returns (bytes32[] memory c) {
        c = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            uint8 index = uint8(i + 1);
            c[i] = _commit(address(registry), walletId, epoch, index, _salt(epoch, index), _share(epoch, index));
        }
    }

    function _config(
        bytes32 walletId,
        uint8 threshold,
        uint256 holders,
        uint256 recoverers
    ) internal view returns (IShareRegistry.WalletConfig memory) {
        return
            IShareRegistry.WalletConfig({
                account: account,
                threshold: threshold,
                holders: _holders(holders),
                commitments: _commitments(walletId, 1, holders),
                recoverers: _recoverers(recoverers)
            });
    }

    /// @dev Alice's wallet: 2 of 3 holders, 2 recoverers.
    function _create() internal returns (bytes32 walletId) {
        walletId = registry.walletIdOf(alice, SALT);
        IShareRegistry.WalletConfig memory config = _config(walletId, 2, 3, 2);
        vm.prank(alice);
        assertEq(registry.createWallet(SALT, config), walletId);
    }
}

/// @dev Unit and fuzz tests of `ShareRegistry`, attacks first.
contract ShareRegistryTest is ShareRegistryFixture {
    /// @dev The known-answer vector shared with src/keys/shares.ts (the report prints it).
    address internal constant KAT_REGISTRY = 0x1234567890123456789012345678901234567890;
    bytes32 internal constant KAT_COMMITMENT = 0xc4962a20e8e36a6f144c0a85bbe218915e570e752d951c64b2bd7d388b07df1e;

    function setUp() public {
        _deployRegistry();
    }

    // ---------------------------------------------------------------- attacks

    /// @dev A holder dropped by a rotation must not keep its index: a holder service that still holds an old share
    ///      would otherwise be served as holder `i` of the new epoch.
    function test_A1_droppedHolderLosesItsIndex() public {
        bytes32 id = _create();
        assertEq(registry.holderIndex(id, _holder(1)), 1);
        address[] memory next = new address[](3);
        (next[0], next[1], next[2]) = (_holder(2), _holder(4), _holder(5));
        vm.prank(alice);
        registry.rotate(id, 2, next, _commitments(id, 2, 3));
        assertEq(registry.holderIndex(id, _holder(1)), 0, "dropped holder still indexed");
        assertEq(registry.holderIndex(id, _holder(3)), 0, "dropped holder still indexed");
        assertEq(registry.holderIndex(id, _holder(2)), 1);
        assertEq(registry.holderIndex(id, _holder(4)), 2);
        assertEq(registry.holderIndex(id, _holder(5)), 3);
        // Shrinking the set drops the tail too.
        address[] memory two = new address[](2);
        (two[0], two[1]) = (_holder(5), _holder(4));
        vm.prank(alice);
        registry.rotate(id, 2, two, _commitments(id, 3, 2));
        assertEq(registry.holderIndex(id, _holder(2)), 0);
        assertEq(registry.holderIndex(id, _holder(5)), 1);
        assertEq(registry.holderIndex(id, _holder(4)), 2);
        assertEq(registry.holdersOf(id), two);
        // A holder dropped can come back, at its new index.
        vm.prank(alice);
        registry.rotate(id, 3, _holders(3), _commitments(id, 4, 3));
        assertEq(registry.holderIndex(id, _holder(1)), 1);
        assertEq(registry.holderIndex(id, _holder(4)), 0);
        assertEq(registry.holderIndex(id, _holder(5)), 0);
    }

    /// @dev A recoverer removed must not keep fetching shares.
    function test_A2_removedRecovererIsNoLongerOne() public {
        bytes32 id = _create();
        assertTrue(registry.isRecoverer(id, _recoverer(1)));
        address[] memory next = new address[](1);
        next[0] = _recoverer(2);
        vm.prank(alice);
        registry.setRecoverers(id, next);
        assertFalse(registry.isRecoverer(id, _recoverer(1)), "removed recoverer still listed");
        assertTrue(registry.isRecoverer(id, _recoverer(2)));
        vm.prank(alice);
        registry.setRecoverers(id, new address[](0));
        assertFalse(registry.isRecoverer(id, _recoverer(2)));
        assertEq(registry.recoverersOf(id).length, 0);
    }

    /// @dev Nobody can take a wallet id another sender will use: ids are in the creator's namespace.
    function test_A3_walletIdCannotBeSquatted() public {
        bytes32 id = registry.walletIdOf(alice, SALT);
        bytes32 malloryId = registry.walletIdOf(mallory, SALT);
        assertTrue(id != malloryId);
        IShareRegistry.WalletConfig memory config = _config(id, 2, 3, 0);
        vm.prank(mallory);
        assertEq(registry.createWallet(SALT, config), malloryId);
        vm.prank(alice);
        assertEq(registry.createWallet(SALT, config), id);
        (address owner, , , , ) = registry.walletOf(id);
        assertEq(owner, alice);
        (owner, , , , ) = registry.walletOf(malloryId);
        assertEq(owner, mallory);
        // The same sender twice, even with another configuration: refused, and the first record is untouched.
        vm.expectRevert(abi.encodeWithSelector(IShareRegistry.WalletExists.selector, id));
        vm.prank(alice);
        registry.createWallet(SALT, _config(id, 3, 4, 1));
        (, , uint8 threshold, , ) = registry.walletOf(id);
        assertEq(threshold, 2);
        assertEq(registry.holdersOf(id).length, 3);
    }

    /// @dev After a refresh (same holders, new shares), a share of the earlier epoch is refused.
    function test_A4_oldEpochShareIsRefusedAfterRefresh() public {
        bytes32 id = _create();
        assertTrue(registry.isShareValid(id, 1, _salt(1, 1), _share(1, 1)));
        vm.prank(alice);
        registry.rotate(id, 2, _holders(3), _commitments(id, 2, 3));
        for (uint8 i = 1; i <= 3; ++i) {
            assertFalse(registry.isShareValid(id, i, _salt(1, i), _share(1, i)), "old share accepted");
            assertTrue(registry.isShareValid(id, i, _salt(2, i), _share(2, i)));
        }
    }

    /// @dev A share committed for one chain or registry is not valid on another.
    function test_A5_commitmentIsBoundToChainAndRegistry() public {
        bytes32 id = _create();
        ShareRegistry other = new ShareRegistry();
        assertTrue(other.shareCommitment(id, 1, 1, _salt(1, 1), _share(1, 1)) != registry.commitmentsOf(id)[0]);
        vm.prank(alice);
        other.createWallet(SALT, _config(id, 2, 3, 0)); // the same commitments, made for `registry`
        assertFalse(other.isShareValid(id, 1, _salt(1, 1), _share(1, 1)));
        vm.chainId(block.chainid + 1);
        assertFalse(registry.isShareValid(id, 1, _salt(1, 1), _share(1, 1)));
    }

    /// @dev An offer replaced by a later one cannot be accepted.
    function test_A6_stalePendingOwnerCannotAccept() public {
        bytes32 id = _create();
        vm.prank(alice);
        registry.transferWalletOwnership(id, bob);
        vm.prank(alice);
        registry.transferWalletOwnership(id, carol);
        assertEq(registry.pendingOwnerOf(id), carol);
        vm.expectRevert(abi.encodeWithSelector(IShareRegistry.NotPendingOwner.selector, id, bob));
        vm.prank(bob);
        registry.acceptWalletOwnership(id);
        vm.prank(carol);
        registry.acceptWalletOwnership(id);
        // Nor after the later one was accepted.
        vm.expectRevert(abi.encodeWithSelector(IShareRegistry.NotPendingOwner.selector, id, bob));
        vm.prank(bob);
        registry.acceptWalletOwnership(id);
        (address owner, , , , ) = registry.walletOf(id);
        assertEq(owner, carol);
    }

    /// @dev The previous owner loses every power at the handover; the pending owner has none before accepting.
    function test_A7_ownerPowersFollowTheHandover() public {
        bytes32 id = _create();
        vm.prank(alice);
        registry.transferWalletOwnership(id, bob);
        vm.expectRevert(abi.encodeWithSelector(IShareRegistry.NotWalletOwner.selector, id, bob));
        vm.prank(bob);
        registry.rotate(id, 2, _holders(3), _commitments(id, 2, 3));
        vm.prank(bob);
        registry.acceptWalletOwnership(id);
        vm.expectRevert(abi.encodeWithSelector(IShareRegistry.NotWalletOwner.selector, id, alice));
        vm.prank(alice);
        registry.rotate(id, 2, _holders(3), _commitments(id, 2, 3));
        vm.expectRevert(abi.encodeWithSelector(IShareRegistry.NotWalletOwner.selector, id, alice));
        vm.prank(alice);
        registry.retireWallet(id);
        vm.prank(bob);
        registry.rotate(id, 2, _holders(3), _commitments(id, 2, 3));
        (, , , uint32 epoch, ) = registry.walletOf(id);
        assertEq(epoch, 2);
    }

    /// @dev A retired wallet refuses every change, even by its owner, and none of its shares is valid.
    function test_A8_retiredWalletRefusesEverything() public {
        bytes32 id = _create();
        vm.prank(alice);
        registry.transferWalletOwnership(id, bob);
        vm.prank(alice);
        registry.retireWallet(id);
        assertEq(registry.pendingOwnerOf(id), address(0), "retirement keeps the offer");
        bytes memory retired = abi.encodeWithSelector(IShareRegistry.WalletIsRetired.selector, id);
        bytes32[] memory commitments = _commitments(id, 2, 3);
        address[] memory holders = _holders(3);
        address[] memory recoverers = _recoverers(1);
        for (uint256 k = 0; k < 2; ++k) {
            address caller = k == 0 ? alice : mallory;
            vm.startPrank(caller);
            vm.expectRevert(retired);
            registry.rotate(id, 2, holders, commitments);
            vm.expectRevert(retired);
            registry.setRecoverers(id, recoverers);
            vm.expectRevert(retired);
            registry.transferWalletOwnership(id, carol);
            vm.expectRevert(retired);
            registry.retireWallet(id);
            vm.stopPrank();
        }
        vm.expectRevert(retired);
        vm.prank(bob);
        registry.acceptWalletOwnership(id);
        for (uint8 i = 1; i <= 3; ++i) assertFalse(registry.isShareValid(id, i, _salt(1, i), _share(1, i)));
        // The record stays readable.
        (address owner, address account_, uint8 threshold, uint32 epoch, bool isRetired) = registry.walletOf(id);
        assertEq(owner, alice);
        assertEq(account_, account);
        assertEq(threshold, 2);
        assertEq(epoch, 1);
        assertTrue(isRetired);
        assertEq(registry.holderIndex(id, _holder(2)), 2);
    }

    /// @dev A wallet id nobody created refuses every change and `walletOf`; the list views answer empty.
    function test_A9_unknownWallet() public {
        bytes32 id = keccak256("nobody");
        bytes memory unknown = abi.encodeWithSelector(IShareRegistry.UnknownWallet.selector, id);
        vm.startPrank(alice);
        vm.expectRevert(unknown);
        registry.rotate(id, 2, _holders(3), _commitments(id, 1, 3));
        vm.expectRevert(unknown);
        registry.setRecoverers(id, _recoverers(1));
        vm.expectRevert(unknown);
        registry.transferWalletOwnership(id, bob);
        vm.expectRevert(unknown);
        registry.acceptWalletOwnership(id);
        vm.expectRevert(unknown);
        registry.retireWallet(id);
        vm.stopPrank();
        vm.expectRevert(unknown);
        registry.walletOf(id);
        assertEq(registry.holdersOf(id).length, 0);
        assertEq(registry.commitmentsOf(id).length, 0);
        assertEq(registry.recoverersOf(id).length, 0);
        assertEq(registry.pendingOwnerOf(id), address(0));
        assertEq(registry.holderIndex(id, _holder(1)), 0);
        assertFalse(registry.isRecoverer(id, _recoverer(1)));
        assertFalse(registry.isShareValid(id, 1, _salt(1, 1), _share(1, 1)));
    }

    /// @dev A stranger can call no owner function.
    function test_A10_strangerCannotCallOwnerFunctions() public {
        bytes32 id = _create();
        bytes memory denied = abi.encodeWithSelector(IShareRegistry.NotWalletOwner.selector, id, mallory);
        bytes32[] memory commitments = _commitments(id, 2, 3);
        address[] memory holders = _holders(3);
        vm.startPrank(mallory);
        vm.expectRevert(denied);
        registry.rotate(id, 2, holders, commitments);
        vm.expectRevert(denied);
        registry.setRecoverers(id, new address[](0));
        vm.expectRevert(denied);
        registry.transferWalletOwnership(id, mallory);
        vm.expectRevert(denied);
        registry.retireWallet(id);
        vm.expectRevert(abi.encodeWithSelector(IShareRegistry.NotPendingOwner.selector, id, mallory));
        registry.acceptWalletOwnership(id);
        vm.stopPrank();
        (address owner, , , uint32 epoch, bool retired) = registry.walletOf(id);
        assertEq(owner, alice);
        assertEq(epoch, 1);
        assertFalse(retired);
        assertTrue(registry.isRecoverer(id, _recoverer(1)));
    }

    // ---------------------------------------------------------------- createWallet

    function test_createWallet_storesTheConfigAndEmits() public {
        bytes32 id = registry.walletIdOf(alice, SALT);
        assertEq(id, keccak256(abi.encode(alice, SALT)));
        IShareRegistry.WalletConfig memory config = _config(id, 2, 3, 2);
        vm.expectEmit(address(registry));
        emit IShareRegistry.WalletCreated(id, alice, account);
        vm.expectEmit(address(registry));
        emit IShareRegistry.HoldersRotated(id, 1, 2, config.holders, config.commitments);
        vm.expectEmit(address(registry));
        emit IShareRegistry.RecoverersSet(id, config.recoverers);
        vm.prank(alice);
        registry.createWallet(SALT, config);
        (address owner, address account_, uint8 threshold, uint32 epoch, bool retired) = registry.walletOf(id);
        assertEq(owner, alice);
        assertEq(account_, account);
        assertEq(threshold, 2);
        assertEq(epoch, 1);
        assertFalse(retired);
        assertEq(registry.holdersOf(id), config.holders);
        assertEq(registry.commitmentsOf(id), config.commitments);
        assertEq(registry.recoverersOf(id), config.recoverers);
        assertEq(registry.pendingOwnerOf(id), address(0));
        for (uint8 i = 1; i <= 3; ++i) assertEq(registry.holderIndex(id, _holder(i)), i);
        assertEq(registry.holderIndex(id, _holder(4)), 0);
        assertEq(registry.holderIndex(id, alice), 0);
        assertTrue(registry.isRecoverer(id, _recoverer(1)));
        assertTrue(registry.isRecoverer(id, _recoverer(2)));
        assertFalse(registry.isRecoverer(id, _recoverer(3)));
        assertFalse(registry.isRecoverer(id, alice));
    }

    function test_createWallet_noRecoverersEmitsAnEmptySet() public {
        bytes32 id = registry.walletIdOf(alice, SALT);
        IShareRegistry.WalletConfig memory config = _config(id, 2, 2, 0);
        vm.expectEmit(address(registry));
        emit IShareRegistry.RecoverersSet(id, new address[](0));
        vm.prank(alice);
        registry.createWallet(SALT, config);
        assertEq(registry.recoverersOf(id).length, 0);
    }

    function test_createWallet_zeroAccount() public {
        bytes32 id = registry.walletIdOf(alice, SALT);
        IShareRegistry.WalletConfig memory config = _config(id, 2, 3, 0);
        config.account = address(0);
        vm.expectRevert(IShareRegistry.ZeroAccount.selector);
        vm.prank(alice);
        registry.createWallet(SALT, config);
    }

    function test_createWallet_thresholdBounds() public {
        bytes32 id = registry.walletIdOf(alice, SALT);
        IShareRegistry.WalletConfig memory config = _config(id, 0, 3, 0);
        _expectCreateRevert(config, abi.encodeWithSelector(IShareRegistry.InvalidThreshold.selector, 0, 3));
        config.threshold = 1;
        _expectCreateRevert(config, abi.encodeWithSelector(IShareRegistry.InvalidThreshold.selector, 1, 3));
        config.threshold = 4;
        _expectCreateRevert(config, abi.encodeWithSelector(IShareRegistry.InvalidThreshold.selector, 4, 3));
        config.threshold = 255;
        _expectCreateRevert(config, abi.encodeWithSelector(IShareRegistry.InvalidThreshold.selector, 255, 3));
        // No holders at all: the threshold cannot be met.
        IShareRegistry.WalletConfig memory empty = _config(id, 2, 0, 0);
        _expectCreateRevert(empty, abi.encodeWithSelector(IShareRegistry.InvalidThreshold.selector, 2, 0));
        // One holder: no threshold is valid.
        IShareRegistry.WalletConfig memory single = _config(id, 1, 1, 0);
        _expectCreateRevert(single, abi.encodeWithSelector(IShareRegistry.InvalidThreshold.selector, 1, 1));
        config.threshold = 3; // n of n
        vm.prank(alice);
        registry.createWallet(SALT, config);
        (, , uint8 threshold, , ) = registry.walletOf(id);
        assertEq(threshold, 3);
        // 2 of 2, the smallest wallet.
        bytes32 id2 = registry.walletIdOf(alice, bytes32(uint256(2)));
        vm.prank(alice);
        registry.createWallet(bytes32(uint256(2)), _config(id2, 2, 2, 0));
    }

    function test_createWallet_holderCountBounds() public {
        bytes32 id = registry.walletIdOf(alice, SALT);
        _expectCreateRevert(
            _config(id, 2, 17, 0),
            abi.encodeWithSelector(IShareRegistry.TooManyHolders.selector, 17, 16)
        );
        vm.prank(alice);
        registry.createWallet(SALT, _config(id, 16, 16, 0));
        assertEq(registry.holdersOf(id).length, 16);
        assertEq(registry.holderIndex(id, _holder(16)), 16);
        assertEq(registry.MAX_HOLDERS(), 16);
    }

    function test_createWallet_zeroHolder() public {
        bytes32 id = registry.walletIdOf(alice, SALT);
        IShareRegistry.WalletConfig memory config = _config(id, 2, 3, 0);
        config.holders[1] = address(0);
        _expectCreateRevert(config, abi.encodeWithSelector(IShareRegistry.ZeroHolder.selector, 2));
        config.holders[1] = _holder(2);
        config.holders[0] = address(0);
        _expectCreateRevert(config, abi.encodeWithSelector(IShareRegistry.ZeroHolder.selector, 1));
    }

    function test_createWallet_duplicateHolder() public {
        bytes32 id = registry.walletIdOf(alice, SALT);
        IShareRegistry.WalletConfig memory config = _config(id, 2, 3, 0);
        config.holders[2] = config.holders[0];
        _expectCreateRevert(config, abi.encodeWithSelector(IShareRegistry.DuplicateHolder.selector, _holder(1)));
        config.holders[2] = _holder(3);
        config.holders[1] = _holder(3);
        _expectCreateRevert(config, abi.encodeWithSelector(IShareRegistry.DuplicateHolder.selector, _holder(3)));
    }

    function test_createWallet_commitmentCountMismatch() public {
        bytes32 id = registry.walletIdOf(alice, SALT);
        IShareRegistry.WalletConfig memory config = _config(id, 2, 3, 0);
        config.commitments = _commitments(id, 1, 2);
        _expectCreateRevert(config, abi.encodeWithSelector(IShareRegistry.CommitmentCountMismatch.selector, 3, 2));
        config.commitments = _commitments(id, 1, 4);
        _expectCreateRevert(config, abi.encodeWithSelector(IShareRegistry.CommitmentCountMismatch.selector, 3, 4));
    }

    function test_createWallet_zeroCommitment() public {
        bytes32 id = registry.walletIdOf(alice, SALT);
        IShareRegistry.WalletConfig memory config = _config(id, 2, 3, 0);
        config.commitments[2] = bytes32(0);
        _expectCreateRevert(config, abi.encodeWithSelector(IShareRegistry.ZeroCommitment.selector, 3));
        config.commitments[2] = bytes32(uint256(1));
        config.commitments[0] = bytes32(0);
        _expectCreateRevert(config, abi.encodeWithSelector(IShareRegistry.ZeroCommitment.selector, 1));
    }

    function test_createWallet_recovererBounds() public {
        bytes32 id = registry.walletIdOf(alice, SALT);
        _expectCreateRevert(
            _config(id, 2, 3, 9),
            abi.encodeWithSelector(IShareRegistry.TooManyRecoverers.selector, 9, 8)
        );
        IShareRegistry.WalletConfig memory config = _config(id, 2, 3, 8);
        config.recoverers[4] = address(0);
        _expectCreateRevert(config, abi.encodeWithSelector(IShareRegistry.ZeroRecoverer.selector, 5));
        config.recoverers[4] = config.recoverers[7];
        _expectCreateRevert(config, abi.encodeWithSelector(IShareRegistry.DuplicateRecoverer.selector, _recoverer(8)));
        config.recoverers[4] = _recoverer(5);
        vm.prank(alice);
        registry.createWallet(SALT, config);
        assertEq(registry.recoverersOf(id).length, 8);
        assertTrue(registry.isRecoverer(id, _recoverer(8)));
        assertEq(registry.MAX_RECOVERERS(), 8);
    }

    /// @dev A holder may also be a recoverer or the account; that is the owner's call.
    function test_createWallet_holderMayAlsoBeRecovererOrAccount() public {
        bytes32 id = registry.walletIdOf(alice, SALT);
        IShareRegistry.WalletConfig memory config = _config(id, 2, 3, 1);
        config.recoverers[0] = _holder(1);
        config.account = _holder(2);
        vm.prank(alice);
        registry.createWallet(SALT, config);
        assertTrue(registry.isRecoverer(id, _holder(1)));
        assertEq(registry.holderIndex(id, _holder(1)), 1);
    }

    // ---------------------------------------------------------------- rotate

    function test_rotate_movesToTheNextEpochAndEmits() public {
        bytes32 id = _create();
        address[] memory holders = _holders(4);
        bytes32[] memory commitments = _commitments(id, 2, 4);
        vm.expectEmit(address(registry));
        emit IShareRegistry.HoldersRotated(id, 2, 3, holders, commitments);
        vm.prank(alice);
        registry.rotate(id, 3, holders, commitments);
        (address owner, address account_, uint8 threshold, uint32 epoch, bool retired) = registry.walletOf(id);
        assertEq(owner, alice);
        assertEq(account_, account);
        assertEq(threshold, 3);
        assertEq(epoch, 2);
        assertFalse(retired);
        assertEq(registry.holdersOf(id), holders);
        assertEq(registry.commitmentsOf(id), commitments);
        assertEq(registry.holderIndex(id, _holder(4)), 4);
        // Recoverers are untouched by a rotation.
        assertEq(registry.recoverersOf(id), _recoverers(2));
        assertTrue(registry.isRecoverer(id, _recoverer(2)));
        vm.prank(alice);
        registry.rotate(id, 2, _holders(2), _commitments(id, 3, 2));
        (, , threshold, epoch, ) = registry.walletOf(id);
        assertEq(threshold, 2);
        assertEq(epoch, 3);
        assertEq(registry.commitmentsOf(id).length, 2);
    }

    function test_rotate_checksLikeCreate() public {
        bytes32 id = _create();
        bytes32[] memory c3 = _commitments(id, 2, 3);
        _expectRotateRevert(id, 1, _holders(3), c3, _sel2(IShareRegistry.InvalidThreshold.selector, 1, 3));
        _expectRotateRevert(id, 4, _holders(3), c3, _sel2(IShareRegistry.InvalidThreshold.selector, 4, 3));
        _expectRotateRevert(
            id,
            2,
            _holders(17),
            _commitments(id, 2, 17),
            _sel2(IShareRegistry.TooManyHolders.selector, 17, 16)
        );
        _expectRotateRevert(
            id,
            2,
            _holders(3),
            _commitments(id, 2, 2),
            _sel2(IShareRegistry.CommitmentCountMismatch.selector, 3, 2)
        );
        address[] memory holders = _holders(3);
        holders[2] = address(0);
        _expectRotateRevert(id, 2, holders, c3, abi.encodeWithSelector(IShareRegistry.ZeroHolder.selector, 3));
        holders[2] = _holder(2);
        _expectRotateRevert(
            id,
            2,
            holders,
            c3,
            abi.encodeWithSelector(IShareRegistry.DuplicateHolder.selector, _holder(2))
        );
        bytes32[] memory zero = _commitments(id, 2, 3);
        zero[1] = bytes32(0);
        _expectRotateRevert(
            id,
            2,
            _holders(3),
            zero,
            abi.encodeWithSelector(IShareRegistry.ZeroCommitment.selector, 2)
        );
        // Nothing changed.
        (, , uint8 threshold, uint32 epoch, ) = registry.walletOf(id);
        assertEq(threshold, 2);
        assertEq(epoch, 1);
        assertEq(registry.commitmentsOf(id), _commitments(id, 1, 3));
    }

    // ---------------------------------------------------------------- setRecoverers

    function test_setRecoverers_replacesAndEmits() public {
        bytes32 id = _create();
        address[] memory next = new address[](3);
        (next[0], next[1], next[2]) = (_recoverer(3), _recoverer(1), carol);
        vm.expectEmit(address(registry));
        emit IShareRegistry.RecoverersSet(id, next);
        vm.prank(alice);
        registry.setRecoverers(id, next);
        assertEq(registry.recoverersOf(id), next);
        assertTrue(registry.isRecoverer(id, carol));
        assertTrue(registry.isRecoverer(id, _recoverer(1)));
        assertFalse(registry.isRecoverer(id, _recoverer(2)));
        // Epoch and holders untouched.
        (, , , uint32 epoch, ) = registry.walletOf(id);
        assertEq(epoch, 1);
        assertEq(registry.holdersOf(id), _holders(3));
    }

    function test_setRecoverers_bounds() public {
        bytes32 id = _create();
        _expectSetRecoverersRevert(id, _recoverers(9), _sel2(IShareRegistry.TooManyRecoverers.selector, 9, 8));
        address[] memory r = _recoverers(8);
        r[7] = address(0);
        _expectSetRecoverersRevert(id, r, abi.encodeWithSelector(IShareRegistry.ZeroRecoverer.selector, 8));
        r[7] = r[0];
        _expectSetRecoverersRevert(
            id,
            r,
            abi.encodeWithSelector(IShareRegistry.DuplicateRecoverer.selector, _recoverer(1))
        );
        vm.prank(alice);
        registry.setRecoverers(id, _recoverers(8));
        assertEq(registry.recoverersOf(id).length, 8);
    }

    // ---------------------------------------------------------------- ownership

    function test_ownership_twoStepHandoverEmits() public {
        bytes32 id = _create();
        vm.expectEmit(address(registry));
        emit IShareRegistry.WalletOwnershipTransferStarted(id, alice, bob);
        vm.prank(alice);
        registry.transferWalletOwnership(id, bob);
        assertEq(registry.pendingOwnerOf(id), bob);
        (address owner, , , , ) = registry.walletOf(id);
        assertEq(owner, alice, "owner changed before acceptance");
        vm.expectEmit(address(registry));
        emit IShareRegistry.WalletOwnershipTransferred(id, alice, bob);
        vm.prank(bob);
        registry.acceptWalletOwnership(id);
        (owner, , , , ) = registry.walletOf(id);
        assertEq(owner, bob);
        assertEq(registry.pendingOwnerOf(id), address(0));
        // Accepted once: a second accept is refused.
        vm.expectRevert(abi.encodeWithSelector(IShareRegistry.NotPendingOwner.selector, id, bob));
        vm.prank(bob);
        registry.acceptWalletOwnership(id);
    }

    function test_ownership_zeroOwner() public {
        bytes32 id = _create();
        vm.expectRevert(IShareRegistry.ZeroOwner.selector);
        vm.prank(alice);
        registry.transferWalletOwnership(id, address(0));
    }

    /// @dev An offer to the owner itself withdraws an earlier offer.
    function test_ownership_offerToSelfWithdraws() public {
        bytes32 id = _create();
        vm.prank(alice);
        registry.transferWalletOwnership(id, bob);
        vm.prank(alice);
        registry.transferWalletOwnership(id, alice);
        vm.expectRevert(abi.encodeWithSelector(IShareRegistry.NotPendingOwner.selector, id, bob));
        vm.prank(bob);
        registry.acceptWalletOwnership(id);
        vm.prank(alice);
        registry.acceptWalletOwnership(id);
        (address owner, , , , ) = registry.walletOf(id);
        assertEq(owner, alice);
        assertEq(registry.pendingOwnerOf(id), address(0));
    }

    // ---------------------------------------------------------------- retireWallet

    function test_retireWallet_emitsTheEpoch() public {
        bytes32 id = _create();
        vm.prank(alice);
        registry.rotate(id, 2, _holders(3), _commitments(id, 2, 3));
        vm.expectEmit(address(registry));
        emit IShareRegistry.WalletRetired(id, 2);
        vm.prank(alice);
        registry.retireWallet(id);
        (, , , uint32 epoch, bool retired) = registry.walletOf(id);
        assertEq(epoch, 2);
        assertTrue(retired);
    }

    // ---------------------------------------------------------------- commitments

    /// @dev The known-answer vector: spec section 1 with fixed inputs, hard-coded, and recomputed with abi.encode.
    function test_shareCommitment_knownAnswer() public {
        vm.chainId(31337);
        vm.etch(KAT_REGISTRY, address(registry).code);
        IShareRegistry kat = IShareRegistry(KAT_REGISTRY);
        bytes memory share = hex"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021";
        assertEq(share.length, 33);
        bytes32 walletId = bytes32(uint256(1));
        bytes32 salt = bytes32(uint256(2));
        bytes32 got = kat.shareCommitment(walletId, 1, 1, salt, share);
        assertEq(got, KAT_COMMITMENT);
        assertEq(got, _commit(KAT_REGISTRY, walletId, 1, 1, salt, share));
        assertEq(kat.SHARE_TYPEHASH(), 0x0b04d17abfc33597eb4e529fcf53934f1c817c0299bc49005755bb08b57d42a2);
        assertEq(kat.SHARE_TYPEHASH(), SHARE_TYPEHASH);
        assertEq(keccak256(share), 0x442c0d370f29ed91122e7a80816580690232977301800255a82d3edf2c26cdd2);
    }

    function testFuzz_shareCommitment_matchesTheSpec(
        bytes32 walletId,
        uint32 epoch,
        uint8 index,
        bytes32 salt,
        bytes calldata share
    ) public view {
        assertEq(
            registry.shareCommitment(walletId, epoch, index, salt, share),
            _commit(address(registry), walletId, epoch, index, salt, share)
        );
    }

    function test_isShareValid_indexOutOfRange() public {
        bytes32 id = _create();
        assertFalse(registry.isShareValid(id, 0, _salt(1, 0), _share(1, 0)));
        assertFalse(registry.isShareValid(id, 4, _salt(1, 4), _share(1, 4)));
        assertTrue(registry.isShareValid(id, 3, _salt(1, 3), _share(1, 3)));
    }

    /// @dev A share is valid only with its exact bytes, salt and index, in the current epoch.
    function testFuzz_isShareValid_onlyTheExactShare(
        bytes memory share,
        bytes32 salt,
        uint8 index,
        uint8 n,
        bytes memory otherShare,
        bytes32 otherSalt,
        uint8 otherIndex
    ) public {
        n = uint8(bound(n, 2, 16));
        index = uint8(bound(index, 1, n));
        (bytes32 id, IShareRegistry.WalletConfig memory config) = _createWithShare(n, index, salt, share);

        assertTrue(registry.isShareValid(id, index, salt, share));
        if (keccak256(otherShare) != keccak256(share)) {
            assertFalse(registry.isShareValid(id, index, salt, otherShare), "another share");
        }
        if (otherSalt != salt) assertFalse(registry.isShareValid(id, index, otherSalt, share), "another salt");
        if (otherIndex != index) assertFalse(registry.isShareValid(id, otherIndex, salt, share), "another index");
        _checkRefusedInLaterEpochs(id, config, index, salt, share);
    }

    /// @dev Creates alice's wallet of `n` holders whose share `index` is `share` with `salt`.
    function _createWithShare(
        uint8 n,
        uint8 index,
        bytes32 salt,
        bytes memory share
    ) private returns (bytes32 id, IShareRegistry.WalletConfig memory config) {
        id = registry.walletIdOf(alice, SALT);
        config = _config(id, 2, n, 0);
        config.commitments[index - 1] = _commit(address(registry), id, 1, index, salt, share);
        vm.prank(alice);
        registry.createWallet(SALT, config);
    }

    /// @dev The same commitment carried into the next epoch (a careless refresh) does not make the share valid
    ///      there, nor does one made for an epoch that has passed.
    function _checkRefusedInLaterEpochs(
        bytes32 id,
        IShareRegistry.WalletConfig memory config,
        uint8 index,
        bytes32 salt,
        bytes memory share
    ) private {
        vm.prank(alice);
        registry.rotate(id, 2, config.holders, config.commitments);
        assertFalse(registry.isShareValid(id, index, salt, share), "earlier epoch");
        config.commitments[index - 1] = _commit(address(registry), id, 2, index, salt, share);
        vm.prank(alice);
        registry.rotate(id, 2, config.holders, config.commitments);
        assertFalse(registry.isShareValid(id, index, salt, share), "committed for epoch 2, now 3");
    }

    /// @dev Any holder set that passes the checks is stored as given, and indexed 1-based.
    function testFuzz_rotate_indexesMatchHolders(uint256 seed, uint8 n, uint8 threshold) public {
        bytes32 id = _create();
        n = uint8(bound(n, 2, 16));
        threshold = uint8(bound(threshold, 2, n));
        address[] memory holders = new address[](n);
        // Draw from a pool of 20 that overlaps the current holders, without repeats.
        uint256 used;
        for (uint256 i = 0; i < n; ++i) {
            uint256 pick = uint256(keccak256(abi.encode(seed, i))) % 20;
            while (used & (1 << pick) != 0) pick = (pick + 1) % 20;
            used |= 1 << pick;
            holders[i] = _holder(pick + 1);
        }
        vm.prank(alice);
        registry.rotate(id, threshold, holders, _commitments(id, 2, n));
        assertEq(registry.holdersOf(id), holders);
        for (uint256 k = 1; k <= 20; ++k) {
            uint8 expected = 0;
            for (uint256 i = 0; i < n; ++i) if (holders[i] == _holder(k)) expected = uint8(i + 1);
            assertEq(registry.holderIndex(id, _holder(k)), expected);
        }
    }

    // ---------------------------------------------------------------- helpers

    function _sel2(bytes4 selector, uint256 a, uint256 b) private pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, a, b);
    }

    function _expectCreateRevert(IShareRegistry.WalletConfig memory config, bytes memory reason) private {
        vm.expectRevert(reason);
        vm.prank(alice);
        registry.createWallet(SALT, config);
    }

    function _expectRotateRevert(
        bytes32 id,
        uint8 threshold,
        address[] memory holders,
        bytes32[] memory commitments,
        bytes memory reason
    ) private {
        vm.expectRevert(reason);
        vm.prank(alice);
        registry.rotate(id, threshold, holders, commitments);
    }

    function _expectSetRecoverersRevert(bytes32 id, address[] memory recoverers, bytes memory reason) private {
        vm.expectRevert(reason);
        vm.prank(alice);
        registry.setRecoverers(id, recoverers);
    }
}
