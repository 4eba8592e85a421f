// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IShareRegistry
/// @notice The public record of secret-shared wallet keys. A wallet's secp256k1 private key is split off chain into
///         k-of-n Shamir shares kept by separate holder services; the registry keeps, per wallet, who owns the
///         record, the account the key controls, the holders (holder `i` keeps share `i`, indices 1-based), the
///         threshold, the epoch of the current shares, a commitment to each share and the recoverers who may fetch
///         shares besides the owner. A holder service reads it to decide whom it serves; a client reads it to check
///         every share before combining.
///
///         Share commitment (the off-chain code computes the same bytes, src/keys/shares.ts):
///         `keccak256(abi.encode(SHARE_TYPEHASH, chainId, registry, walletId, uint32 epoch, uint8 index,
///         bytes32 salt, keccak256(share)))`, with `SHARE_TYPEHASH = keccak256("BankChainKeyShare(uint256 chainId,`
///         `address registry,bytes32 walletId,uint32 epoch,uint8 index,bytes32 salt,bytes32 shareHash)")`.
///
///         Permissionless: anyone creates wallets, each under an id derived from its creator and a salt, so no one
///         can take another's id. No admin, no pause: the registry holds no value. Each wallet has one owner,
///         handed over in two steps; retirement is final.
///
///         Positions in errors (`ZeroHolder`, `ZeroCommitment`, `ZeroRecoverer`) are 1-based, like share indices.
interface IShareRegistry {
    /// @notice A wallet as created.
    /// @param account The address the secret-shared key controls (non-zero).
    /// @param threshold How many shares recover the key, in [2, holders.length].
    /// @param holders The holder services' addresses; holder `i` (1-based) keeps share `i`. At most `MAX_HOLDERS`,
    ///        non-zero, distinct.
    /// @param commitments The share commitments, one per holder, in the same order, non-zero.
    /// @param recoverers Who may fetch shares besides the owner (at most `MAX_RECOVERERS`, non-zero, distinct; may
    ///        be empty).
    struct WalletConfig {
        address account;
        uint8 threshold;
        address[] holders;
        bytes32[] commitments;
        address[] recoverers;
    }

    /// @notice A wallet was created by `owner`, for the key of `account`.
    event WalletCreated(bytes32 indexed walletId, address indexed owner, address indexed account);
    /// @notice The wallet's shares are now those of `epoch`: `threshold` of `holders`, committed to by
    ///         `commitments` (emitted at creation too, epoch 1).
    event HoldersRotated(
        bytes32 indexed walletId,
        uint32 indexed epoch,
        uint8 threshold,
        address[] holders,
        bytes32[] commitments
    );
    /// @notice The wallet's recoverers are now `recoverers` (emitted at creation too).
    event RecoverersSet(bytes32 indexed walletId, address[] recoverers);
    /// @notice The owner `from` offered the wallet to `to`, who must accept.
    event WalletOwnershipTransferStarted(bytes32 indexed walletId, address indexed from, address indexed to);
    /// @notice The wallet's owner is now `to` (it was `from`).
    event WalletOwnershipTransferred(bytes32 indexed walletId, address indexed from, address indexed to);
    /// @notice The wallet was retired, for good, at `epoch`.
    event WalletRetired(bytes32 indexed walletId, uint32 epoch);

    /// @notice The sender already created a wallet with this salt.
    error WalletExists(bytes32 walletId);
    /// @notice No wallet has this id.
    error UnknownWallet(bytes32 walletId);
    /// @notice Only the wallet's owner may do this.
    error NotWalletOwner(bytes32 walletId, address caller);
    /// @notice Only the wallet's pending owner may accept it.
    error NotPendingOwner(bytes32 walletId, address caller);
    /// @notice The wallet is retired: it refuses every change.
    error WalletIsRetired(bytes32 walletId);
    /// @notice The wallet's account is the zero address.
    error ZeroAccount();
    /// @notice The new owner is the zero address.
    error ZeroOwner();
    /// @notice The threshold is below 2 or above the holder count.
    error InvalidThreshold(uint8 threshold, uint256 holders);
    /// @notice More holders than `max`.
    error TooManyHolders(uint256 count, uint256 max);
    /// @notice The holder at 1-based position `index` is the zero address.
    error ZeroHolder(uint8 index);
    /// @notice `holder` is listed twice.
    error DuplicateHolder(address holder);
    /// @notice There is not one commitment per holder.
    error CommitmentCountMismatch(uint256 holders, uint256 commitments);
    /// @notice The commitment at 1-based position `index` is zero.
    error ZeroCommitment(uint8 index);
    /// @notice More recoverers than `max`.
    error TooManyRecoverers(uint256 count, uint256 max);
    /// @notice The recoverer at 1-based position `index` is the zero address.
    error ZeroRecoverer(uint8 index);
    /// @notice `recoverer` is listed twice.
    error DuplicateRecoverer(address recoverer);

    /// @notice Creates a wallet owned by the sender, at epoch 1.
    /// @dev Emits `WalletCreated`, `HoldersRotated` (epoch 1) and `RecoverersSet`.
    /// @param salt Any value; the sender's own namespace (`walletIdOf(msg.sender, salt)`).
    /// @param config The account, threshold, holders, commitments and recoverers.
    /// @return walletId `keccak256(abi.encode(msg.sender, salt))`.
    function createWallet(bytes32 salt, WalletConfig calldata config) external returns (bytes32 walletId);

    /// @notice Moves the wallet to the next epoch with a new threshold, holders and commitments (a refresh keeps
    ///         the holders and changes the commitments). Every share of an earlier epoch stops being valid.
    /// @param walletId The wallet.
    /// @param threshold How many shares recover the key, in [2, holders.length].
    /// @param holders The holders of the new shares (at most `MAX_HOLDERS`, non-zero, distinct).
    /// @param commitments The new shares' commitments, one per holder, non-zero.
    function rotate(
        bytes32 walletId,
        uint8 threshold,
        address[] calldata holders,
        bytes32[] calldata commitments
    ) external;

    /// @notice Replaces the wallet's recoverers (owner only).
    /// @param walletId The wallet.
    /// @param recoverers The new recoverers (at most `MAX_RECOVERERS`, non-zero, distinct; may be empty).
    function setRecoverers(bytes32 walletId, address[] calldata recoverers) external;

    /// @notice Offers the wallet to `newOwner`, who must accept (owner only). A later offer replaces an earlier
    ///         one; an offer to the owner itself withdraws it.
    /// @param walletId The wallet.
    /// @param newOwner The proposed owner (non-zero).
    function transferWalletOwnership(bytes32 walletId, address newOwner) external;

    /// @notice Accepts the wallet offered to the sender.
    /// @param walletId The wallet.
    function acceptWalletOwnership(bytes32 walletId) external;

    /// @notice Retires the wallet, for good (owner only): its shares stop being valid and it refuses every change.
    /// @param walletId The wallet.
    function retireWallet(bytes32 walletId) external;

    /// @notice The most holders a wallet may have.
    /// @return 16.
    function MAX_HOLDERS() external view returns (uint256);

    /// @notice The most recoverers a wallet may have.
    /// @return 8.
    function MAX_RECOVERERS() external view returns (uint256);

    /// @notice The type hash of a share commitment.
    /// @return `keccak256("BankChainKeyShare(uint256 chainId,address registry,bytes32 walletId,uint32 epoch,`
    ///         `uint8 index,bytes32 salt,bytes32 shareHash)")`.
    function SHARE_TYPEHASH() external view returns (bytes32);

    /// @notice The id of the wallet `creator` creates with `salt`.
    /// @param creator The sender of `createWallet`.
    /// @param salt The salt.
    /// @return `keccak256(abi.encode(creator, salt))`.
    function walletIdOf(address creator, bytes32 salt) external pure returns (bytes32);

    /// @notice A wallet's record.
    /// @dev Reverts `UnknownWallet` for an id never created.
    /// @param walletId The wallet.
    /// @return owner Its owner.
    /// @return account The address its key controls.
    /// @return threshold How many shares recover the key.
    /// @return epoch The epoch of its current shares (1 at creation).
    /// @return retired Whether it is retired.
    function walletOf(
        bytes32 walletId
    ) external view returns (address owner, address account, uint8 threshold, uint32 epoch, bool retired);

    /// @notice The current holders, holder `i` at position `i - 1` (empty for an unknown wallet).
    /// @param walletId The wallet.
    /// @return The holders.
    function holdersOf(bytes32 walletId) external view returns (address[] memory);

    /// @notice The current shares' commitments, share `i`'s at position `i - 1` (empty for an unknown wallet).
    /// @param walletId The wallet.
    /// @return The commitments.
    function commitmentsOf(bytes32 walletId) external view returns (bytes32[] memory);

    /// @notice The current recoverers (empty for an unknown wallet).
    /// @param walletId The wallet.
    /// @return The recoverers.
    function recoverersOf(bytes32 walletId) external view returns (address[] memory);

    /// @notice The address the wallet is offered to (zero: none).
    /// @param walletId The wallet.
    /// @return The pending owner.
    function pendingOwnerOf(bytes32 walletId) external view returns (address);

    /// @notice The share index `holder` keeps in the current epoch.
    /// @param walletId The wallet.
    /// @param holder The address asked about.
    /// @return The 1-based index, 0 if `holder` is not a current holder.
    function holderIndex(bytes32 walletId, address holder) external view returns (uint8);

    /// @notice Whether `who` is one of the wallet's current recoverers.
    /// @param walletId The wallet.
    /// @param who The address asked about.
    /// @return Whether it is.
    function isRecoverer(bytes32 walletId, address who) external view returns (bool);

    /// @notice The commitment to a share, for this chain and this registry.
    /// @param walletId The wallet.
    /// @param epoch The share's epoch.
    /// @param index The share's 1-based index.
    /// @param salt The share's salt.
    /// @param share The share's bytes (the secret's length plus the 1-byte x-coordinate, last).
    /// @return The commitment.
    function shareCommitment(
        bytes32 walletId,
        uint32 epoch,
        uint8 index,
        bytes32 salt,
        bytes calldata share
    ) external view returns (bytes32);

    /// @notice Whether `share` with `salt` is share `index` of the wallet's current epoch.
    /// @param walletId The wallet.
    /// @param index The share's 1-based index.
    /// @param salt The share's salt.
    /// @param share The share's bytes.
    /// @return False for an unknown or retired wallet, an index out of range, or any other share, salt or epoch.
    function isShareValid(
        bytes32 walletId,
        uint8 index,
        bytes32 salt,
        bytes calldata share
    ) external view returns (bool);
}
