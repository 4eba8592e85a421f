// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IShareRegistry} from "./interfaces/IShareRegistry.sol";

/// @title ShareRegistry
/// @notice The holder sets, thresholds, epochs and share commitments of secret-shared wallet keys (see
///         `IShareRegistry`).
/// @dev No roles: each wallet has its own owner, set at creation and handed over in two steps. The registry moves
///      no value, so it has no admin and no pause.
///
///      Lookups. `holderIndex` and `isRecoverer` read mappings keyed by (wallet, address). A change clears the
///      entries of the set it replaces before writing the new set's, so an address dropped by `rotate` or
///      `setRecoverers` answers 0 / false at once, and the writes double as the duplicate check. For a refresh (the
///      same holders, new commitments) the cleared entries are written back to their old values, which costs little.
///
///      Retirement is final and keeps the last record readable: `walletOf`, `holdersOf`, `holderIndex` still answer,
///      `isShareValid` answers false.
contract ShareRegistry is IShareRegistry {
    /// @dev A wallet as stored. The first slot packs the owner, epoch, threshold and retired flag.
    struct Wallet {
        address owner;
        uint32 epoch;
        uint8 threshold;
        bool retired;
        address account;
        address pendingOwner;
        address[] holders;
        bytes32[] commitments;
        address[] recoverers;
    }

    /// @inheritdoc IShareRegistry
    uint256 public constant MAX_HOLDERS = 16;
    /// @inheritdoc IShareRegistry
    uint256 public constant MAX_RECOVERERS = 8;
    /// @inheritdoc IShareRegistry
    bytes32 public constant SHARE_TYPEHASH = keccak256(
        "BankChainKeyShare(uint256 chainId,address registry,bytes32 walletId,uint32 epoch,uint8 index,bytes32 salt,"
        "bytes32 shareHash)"
    );

    /// @dev The smallest threshold: a single share must never be the key.
    uint8 private constant _MIN_THRESHOLD = 2;

    mapping(bytes32 walletId => Wallet) private _wallets;
    mapping(bytes32 walletId => mapping(address holder => uint8 index)) private _holderIndex;
    mapping(bytes32 walletId => mapping(address who => bool)) private _isRecoverer;

    /// @inheritdoc IShareRegistry
    function createWallet(bytes32 salt, WalletConfig calldata config) external returns (bytes32 walletId) {
        walletId = walletIdOf(msg.sender, salt);
        Wallet storage wallet = _wallets[walletId];
        if (wallet.owner != address(0)) revert WalletExists(walletId);
        if (config.account == address(0)) revert ZeroAccount();
        wallet.owner = msg.sender;
        wallet.epoch = 1;
        wallet.account = config.account;
        emit WalletCreated(walletId, msg.sender, config.account);
        _setHolders(walletId, wallet, config.threshold, config.holders, config.commitments);
        _setRecoverers(walletId, wallet, config.recoverers);
    }

    /// @inheritdoc IShareRegistry
    function rotate(
        bytes32 walletId,
        uint8 threshold,
        address[] calldata holders,
        bytes32[] calldata commitments
    ) external {
        Wallet storage wallet = _ownedWallet(walletId);
        // Cannot overflow in practice: 2^32 - 1 rotations of one wallet. Checked anyway.
        wallet.epoch += 1;
        _setHolders(walletId, wallet, threshold, holders, commitments);
    }

    /// @inheritdoc IShareRegistry
    function setRecoverers(bytes32 walletId, address[] calldata recoverers) external {
        _setRecoverers(walletId, _ownedWallet(walletId), recoverers);
    }

    /// @inheritdoc IShareRegistry
    function transferWalletOwnership(bytes32 walletId, address newOwner) external {
        Wallet storage wallet = _ownedWallet(walletId);
        if (newOwner == address(0)) revert ZeroOwner();
        wallet.pendingOwner = newOwner;
        emit WalletOwnershipTransferStarted(walletId, msg.sender, newOwner);
    }

    /// @inheritdoc IShareRegistry
    function acceptWalletOwnership(bytes32 walletId) external {
        Wallet storage wallet = _liveWallet(walletId);
        if (msg.sender != wallet.pendingOwner) revert NotPendingOwner(walletId, msg.sender);
        address previous = wallet.owner;
        wallet.owner = msg.sender;
        delete wallet.pendingOwner;
        emit WalletOwnershipTransferred(walletId, previous, msg.sender);
    }

    /// @inheritdoc IShareRegistry
    /// @dev Also withdraws a pending ownership offer.
    function retireWallet(bytes32 walletId) external {
        Wallet storage wallet = _ownedWallet(walletId);
        wallet.retired = true;
        delete wallet.pendingOwner;
        emit WalletRetired(walletId, wallet.epoch);
    }

    /// @inheritdoc IShareRegistry
    function walletOf(
        bytes32 walletId
    ) external view returns (address owner, address account, uint8 threshold, uint32 epoch, bool retired) {
        Wallet storage wallet = _existingWallet(walletId);
        return (wallet.owner, wallet.account, wallet.threshold, wallet.epoch, wallet.retired);
    }

    /// @inheritdoc IShareRegistry
    function holdersOf(bytes32 walletId) external view returns (address[] memory) {
        return _wallets[walletId].holders;
    }

    /// @inheritdoc IShareRegistry
    function commitmentsOf(bytes32 walletId) external view returns (bytes32[] memory) {
        return _wallets[walletId].commitments;
    }

    /// @inheritdoc IShareRegistry
    function recoverersOf(bytes32 walletId) external view returns (address[] memory) {
        return _wallets[walletId].recoverers;
    }

    /// @inheritdoc IShareRegistry
    function pendingOwnerOf(bytes32 walletId) external view returns (address) {
        return _wallets[walletId].pendingOwner;
    }

    /// @inheritdoc IShareRegistry
    function holderIndex(bytes32 walletId, address holder) external view returns (uint8) {
        return _holderIndex[walletId][holder];
    }

    /// @inheritdoc IShareRegistry
    function isRecoverer(bytes32 walletId, address who) external view returns (bool) {
        return _isRecoverer[walletId][who];
    }

    /// @inheritdoc IShareRegistry
    function shareCommitment(
        bytes32 walletId,
        uint32 epoch,
        uint8 index,
        bytes32 salt,
        bytes calldata share
    ) external view returns (bytes32) {
        return _shareCommitment(walletId, epoch, index, salt, share);
    }

    /// @inheritdoc IShareRegistry
    function isShareValid(
        bytes32 walletId,
        uint8 index,
        bytes32 salt,
        bytes calldata share
    ) external view returns (bool) {
        Wallet storage wallet = _wallets[walletId];
        // An unknown wallet has no commitments: the index check refuses it.
        if (wallet.retired || index == 0 || index > wallet.commitments.length) return false;
        return wallet.commitments[index - 1] == _shareCommitment(walletId, wallet.epoch, index, salt, share);
    }

    /// @inheritdoc IShareRegistry
    function walletIdOf(address creator, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(creator, salt));
    }

    /// @dev Replaces the holder set, clearing the replaced set's index entries first. Checks, in order: the holder
    ///      count, one commitment per holder, the threshold, then each holder and commitment in turn.
    function _setHolders(
        bytes32 walletId,
        Wallet storage wallet,
        uint8 threshold,
        address[] calldata holders,
        bytes32[] calldata commitments
    ) private {
        uint256 count = holders.length;
        if (count > MAX_HOLDERS) revert TooManyHolders(count, MAX_HOLDERS);
        if (commitments.length != count) revert CommitmentCountMismatch(count, commitments.length);
        if (threshold < _MIN_THRESHOLD || threshold > count) revert InvalidThreshold(threshold, count);

        mapping(address holder => uint8 index) storage indexOf = _holderIndex[walletId];
        address[] storage previous = wallet.holders;
        for (uint256 i = 0; i < previous.length; ++i) delete indexOf[previous[i]];
        for (uint256 i = 0; i < count; ++i) {
            // Cannot truncate: i < count <= MAX_HOLDERS = 16.
            uint8 index = uint8(i + 1);
            address holder = holders[i];
            if (holder == address(0)) revert ZeroHolder(index);
            if (indexOf[holder] != 0) revert DuplicateHolder(holder);
            if (commitments[i] == bytes32(0)) revert ZeroCommitment(index);
            indexOf[holder] = index;
        }
        wallet.threshold = threshold;
        wallet.holders = holders;
        wallet.commitments = commitments;
        emit HoldersRotated(walletId, wallet.epoch, threshold, holders, commitments);
    }

    /// @dev Replaces the recoverers, clearing the replaced set's entries first.
    function _setRecoverers(bytes32 walletId, Wallet storage wallet, address[] calldata recoverers) private {
        uint256 count = recoverers.length;
        if (count > MAX_RECOVERERS) revert TooManyRecoverers(count, MAX_RECOVERERS);

        mapping(address who => bool) storage listed = _isRecoverer[walletId];
        address[] storage previous = wallet.recoverers;
        for (uint256 i = 0; i < previous.length; ++i) delete listed[previous[i]];
        for (uint256 i = 0; i < count; ++i) {
            address recoverer = recoverers[i];
            // Cannot truncate: i < count <= MAX_RECOVERERS = 8.
            if (recoverer == address(0)) revert ZeroRecoverer(uint8(i + 1));
            if (listed[recoverer]) revert DuplicateRecoverer(recoverer);
            listed[recoverer] = true;
        }
        wallet.recoverers = recoverers;
        emit RecoverersSet(walletId, recoverers);
    }

    /// @dev The wallet, which must exist, not be retired and be owned by the sender.
    function _ownedWallet(bytes32 walletId) private view returns (Wallet storage wallet) {
        wallet = _liveWallet(walletId);
        if (msg.sender != wallet.owner) revert NotWalletOwner(walletId, msg.sender);
    }

    /// @dev The wallet, which must exist and not be retired.
    function _liveWallet(bytes32 walletId) private view returns (Wallet storage wallet) {
        wallet = _existingWallet(walletId);
        if (wallet.retired) revert WalletIsRetired(walletId);
    }

    /// @dev The wallet, which must exist (every wallet has an owner: `ZeroOwner` keeps it so).
    function _existingWallet(bytes32 walletId) private view returns (Wallet storage wallet) {
        wallet = _wallets[walletId];
        if (wallet.owner == address(0)) revert UnknownWallet(walletId);
    }

    /// @dev `keccak256(abi.encode(SHARE_TYPEHASH, chainId, this, walletId, epoch, index, salt, keccak256(share)))`.
    function _shareCommitment(
        bytes32 walletId,
        uint32 epoch,
        uint8 index,
        bytes32 salt,
        bytes calldata share
    ) private view returns (bytes32) {
        return
            keccak256(
                abi.encode(SHARE_TYPEHASH, block.chainid, address(this), walletId, epoch, index, salt, keccak256(share))
            );
    }
}
