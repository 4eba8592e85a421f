// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IRewardDistributor} from "./interfaces/IRewardDistributor.sol";

/// @title RewardDistributor
/// @notice Content rewards paid from sponsors' campaigns on oracle-signed, challengeable epoch roots (see
///         `IRewardDistributor`).
/// @dev Roles:
///      - `DEFAULT_ADMIN_ROLE` (one holder, handed over in two steps after a delay): grants and revokes roles.
///      - `ORACLE_ADMIN_ROLE`: sets the oracle set and threshold.
///      - `REGISTRAR_ROLE`: registers the account each producer is paid at.
///      - `PAUSER_ROLE`: pauses and unpauses.
///
///      Safety of the funds. Each campaign's claims are capped by its final total (`RewardClaimExceedsTotal`), and
///      a total never exceeds what the campaign was funded, so a producer tree whose leaves add up to more than
///      its signed total cannot reach another campaign's funds. Funding records the balance the contract actually
///      received. A transfer the token refuses (BankToken's frozen accounts) reverts the whole call.
///
///      Pause. It stops every value path (`createCampaign`, `fund`, `proposeRoot`, `claim`, `claimFor`,
///      `reclaim`) and finalization: a root whose window ends during a pause stays pending until the unpause. The
///      challenges stay open, so a pause cannot shield a wrong root; the window itself is not extended.
///
///      Oracle sets are kept per version: a pending root records its version and a bitmap of its signers'
///      positions, so an omission challenge checks the receipt's signer against the root's own signers even
///      after the set changed.
///
///      The challenges. The evidence tree is positional and commits its leaf count, so a list that is not one
///      sorted chain from zero to all ones has a provable fault: a receipted record inside a leaf (omission), a
///      leaf out of order, listed twice or a wrong first or last leaf (malformed), or two consecutive leaves that
///      do not link (a gap). A voided root's digest is remembered: its public signatures cannot bring it back.
///
///      Limits of the challenges. They prove what the published evidence shows. A position below the count that
///      holds no leaf anyone can open (a tree whose data is withheld) cannot be proven wrong on chain, nor can a
///      producer tree that does not follow from the evidence; both rest on the threshold of honest oracles and on
///      off-chain checks of the published data.
contract RewardDistributor is
    IRewardDistributor,
    AccessControlDefaultAdminRules,
    Pausable,
    ReentrancyGuardTransient,
    EIP712
{
    using SafeERC20 for IERC20;

    /// @dev A pending root as stored: the signers are a bitmap of positions in the oracle set of its version.
    struct StoredPendingRoot {
        bytes32 root;
        uint256 total;
        bytes32 evidenceRoot;
        uint64 epoch;
        uint64 fromEpoch;
        uint64 cutoff;
        uint64 proposedAt;
        uint64 oracleSetVersion;
        uint16 signerBits;
    }

    /// @inheritdoc IRewardDistributor
    bytes32 public constant ORACLE_ADMIN_ROLE = keccak256("ORACLE_ADMIN_ROLE");
    /// @inheritdoc IRewardDistributor
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @inheritdoc IRewardDistributor
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @inheritdoc IRewardDistributor
    uint256 public constant MAX_ORACLES = 16;

    bytes32 private constant _EPOCH_ROOT_TYPEHASH = keccak256(
        "EpochRoot(bytes32 campaignId,uint64 epoch,bytes32 root,uint256 total,bytes32 evidenceRoot,uint64 cutoff,"
        "uint64 oracleSetVersion)"
    );
    bytes32 private constant _RECEIPT_TYPEHASH = keccak256("Receipt(bytes32 recordHash,uint64 epoch,uint64 time)");
    bytes32 private constant _PRESENCE_QUERY_TYPEHASH = keccak256(
        "PresenceQuery(bytes32 venueId,uint64 cell,uint64 epoch,bytes32 nonce,uint64 time)"
    );
    bytes32 private constant _PRESENCE_RESPONSE_TYPEHASH = keccak256(
        "PresenceResponse(address device,bytes32 venueId,uint64 epoch,bytes32 nonce,uint64 time)"
    );
    bytes32 private constant _PLAYBACK_TYPEHASH = keccak256(
        "Playback(bytes32 contentId,bytes32 producerId,bytes32 venueId,uint64 start,uint32 duration)"
    );

    IERC20 private immutable _token;
    /// @inheritdoc IRewardDistributor
    uint64 public immutable genesis;
    /// @inheritdoc IRewardDistributor
    uint64 public immutable epochLength;
    /// @inheritdoc IRewardDistributor
    uint64 public immutable challengeWindow;

    uint64 private _oracleSetVersion;
    uint8 private _threshold;
    mapping(uint64 version => address[]) private _oracleSets;
    mapping(uint64 version => mapping(address oracle => uint256 position)) private _oraclePositions;
    mapping(bytes32 producerId => address) private _producerAccounts;
    mapping(bytes32 campaignId => Campaign) private _campaigns;
    mapping(bytes32 campaignId => StoredPendingRoot) private _pending;
    mapping(bytes32 campaignId => FinalizedRoot) private _finalized;
    mapping(bytes32 campaignId => mapping(bytes32 producerId => uint256)) private _claimed;
    mapping(bytes32 digest => bool) private _voidedRoots;

    /// @param token_ The token paid (BankToken; any ERC-20 works).
    /// @param admin The single holder of `DEFAULT_ADMIN_ROLE`.
    /// @param adminDelay The delay, in seconds, before a default admin handover can be accepted.
    /// @param genesis_ The start of epoch 0 (unix seconds).
    /// @param epochLength_ The length of an epoch, in seconds (nonzero).
    /// @param challengeWindow_ How long a proposed root can be challenged, in seconds (nonzero).
    constructor(
        IERC20 token_,
        address admin,
        uint48 adminDelay,
        uint64 genesis_,
        uint64 epochLength_,
        uint64 challengeWindow_
    ) AccessControlDefaultAdminRules(adminDelay, admin) EIP712("BankChain Rewards", "1") {
        if (address(token_) == address(0) || epochLength_ == 0 || challengeWindow_ == 0) {
            revert RewardInvalidSetup(address(token_), epochLength_, challengeWindow_);
        }
        _token = token_;
        genesis = genesis_;
        epochLength = epochLength_;
        challengeWindow = challengeWindow_;
    }

    // ------------------------------------------------------------------ administration

    /// @inheritdoc IRewardDistributor
    function setOracles(address[] calldata newOracles, uint8 newThreshold) external onlyRole(ORACLE_ADMIN_ROLE) {
        uint256 count = newOracles.length;
        if (count == 0 || count > MAX_ORACLES) revert RewardInvalidOracleCount(count, MAX_ORACLES);
        if (newThreshold == 0 || newThreshold > count) revert RewardInvalidThreshold(newThreshold, count);
        uint64 version = _oracleSetVersion + 1;
        mapping(address => uint256) storage positions = _oraclePositions[version];
        address previous;
        for (uint256 i; i < count; ++i) {
            address oracle = newOracles[i];
            // Ascending from zero: nonzero and unique.
            if (oracle <= previous) revert RewardInvalidOracle(i, oracle);
            positions[oracle] = i + 1;
            previous = oracle;
        }
        _oracleSets[version] = newOracles;
        _oracleSetVersion = version;
        _threshold = newThreshold;
        emit OraclesSet(version, newOracles, newThreshold);
    }

    /// @inheritdoc IRewardDistributor
    function registerProducer(bytes32 producerId, address account) external onlyRole(REGISTRAR_ROLE) {
        if (account == address(0)) revert RewardZeroAccount(producerId);
        _producerAccounts[producerId] = account;
        emit ProducerRegistered(producerId, account);
    }

    /// @inheritdoc IRewardDistributor
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IRewardDistributor
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------ campaigns

    /// @inheritdoc IRewardDistributor
    function createCampaign(
        bytes32 salt,
        uint256 budgetPerEpoch,
        uint64 firstEpoch,
        uint64 lastEpoch,
        uint64 claimDeadline,
        bytes32 terms,
        uint256 amount
    ) external whenNotPaused nonReentrant returns (bytes32 campaignId) {
        if (budgetPerEpoch == 0) revert RewardZeroBudget();
        if (firstEpoch > lastEpoch) revert RewardInvalidEpochRange(firstEpoch, lastEpoch);
        uint256 minimum = _epochEnd(lastEpoch) + challengeWindow;
        if (claimDeadline <= minimum) revert RewardDeadlineTooEarly(claimDeadline, minimum);
        campaignId = campaignIdOf(msg.sender, salt);
        Campaign storage campaign = _campaigns[campaignId];
        if (campaign.sponsor != address(0)) revert RewardCampaignExists(campaignId);
        campaign.sponsor = msg.sender;
        campaign.firstEpoch = firstEpoch;
        campaign.lastEpoch = lastEpoch;
        campaign.claimDeadline = claimDeadline;
        campaign.budgetPerEpoch = budgetPerEpoch;
        campaign.terms = terms;
        emit CampaignCreated(campaignId, msg.sender, salt, budgetPerEpoch, firstEpoch, lastEpoch, claimDeadline, terms);
        if (amount != 0) _pull(campaignId, campaign, amount);
    }

    /// @inheritdoc IRewardDistributor
    function fund(bytes32 campaignId, uint256 amount) external whenNotPaused nonReentrant {
        Campaign storage campaign = _campaignOrRevert(campaignId);
        if (block.timestamp > campaign.claimDeadline) {
            revert RewardCampaignExpired(campaignId, campaign.claimDeadline, block.timestamp);
        }
        if (amount == 0) revert RewardZeroAmount();
        _pull(campaignId, campaign, amount);
    }

    /// @inheritdoc IRewardDistributor
    function reclaim(bytes32 campaignId) external whenNotPaused nonReentrant {
        Campaign storage campaign = _campaignOrRevert(campaignId);
        address sponsor = campaign.sponsor;
        if (msg.sender != sponsor) revert RewardNotSponsor(campaignId, msg.sender, sponsor);
        if (block.timestamp <= campaign.claimDeadline) {
            revert RewardClaimWindowOpen(campaignId, campaign.claimDeadline, block.timestamp);
        }
        if (campaign.reclaimed) revert RewardAlreadyReclaimed(campaignId);
        campaign.reclaimed = true;
        // Claims never exceed the final total, which never exceeds what was funded.
        uint256 amount = campaign.funded - campaign.claimed;
        emit Reclaimed(campaignId, sponsor, amount);
        if (amount != 0) _token.safeTransfer(sponsor, amount);
    }

    // ------------------------------------------------------------------ roots

    /// @inheritdoc IRewardDistributor
    function proposeRoot(
        bytes32 campaignId,
        uint64 epoch,
        bytes32 root,
        uint256 total,
        bytes32 evidenceRoot,
        uint64 cutoff,
        bytes[] calldata signatures
    ) external whenNotPaused nonReentrant {
        Campaign storage campaign = _campaignOrRevert(campaignId);
        _finalizeIfDue(campaignId);
        StoredPendingRoot storage pending = _pending[campaignId];
        if (pending.proposedAt != 0) {
            revert RewardRootPending(campaignId, pending.epoch, uint256(pending.proposedAt) + challengeWindow);
        }
        uint64 fromEpoch = _checkEpochAndTotal(campaignId, campaign, epoch, total, cutoff);
        if (evidenceRoot == bytes32(0) || (root == bytes32(0) && total != 0)) {
            revert RewardInvalidRoot(root, total, evidenceRoot);
        }
        uint64 version = _oracleSetVersion;
        bytes32 digest = _hashEpochRoot(campaignId, epoch, root, total, evidenceRoot, cutoff, version);
        if (_voidedRoots[digest]) revert RewardRootWasVoided(campaignId, digest);
        (uint16 signerBits, address[] memory signers) = _checkRootSignatures(version, digest, signatures);

        pending.root = root;
        pending.total = total;
        pending.evidenceRoot = evidenceRoot;
        pending.epoch = epoch;
        pending.fromEpoch = fromEpoch;
        pending.cutoff = cutoff;
        pending.proposedAt = uint64(block.timestamp);
        pending.oracleSetVersion = version;
        pending.signerBits = signerBits;
        emit RootProposed(campaignId, epoch, root, total, evidenceRoot, cutoff, signers);
    }

    /// @inheritdoc IRewardDistributor
    function challengeOmission(
        bytes32 campaignId,
        bytes32 recordHash,
        uint64 recordEpoch,
        uint64 receiptTime,
        bytes calldata receiptSignature,
        EvidenceLeaf calldata leaf
    ) external nonReentrant {
        StoredPendingRoot storage pending = _challengeablePending(campaignId);
        address signer = _recoverOrRevert(_hashReceipt(recordHash, recordEpoch, receiptTime), receiptSignature, 0);
        uint256 position = _oraclePositions[pending.oracleSetVersion][signer];
        if (position == 0 || (pending.signerBits >> (position - 1)) & 1 == 0) {
            revert RewardReceiptSignerNotRootSigner(campaignId, signer);
        }
        if (recordEpoch < pending.fromEpoch || recordEpoch > pending.epoch) {
            revert RewardRecordEpochOutOfRange(recordEpoch, pending.fromEpoch, pending.epoch);
        }
        if (receiptTime > pending.cutoff) revert RewardReceiptAfterCutoff(receiptTime, pending.cutoff);
        _verifyEvidenceLeaf(pending.evidenceRoot, leaf);
        if (leaf.hash >= recordHash || recordHash >= leaf.next) {
            revert RewardNotOmitted(recordHash, leaf.hash, leaf.next);
        }
        _void(campaignId, pending, recordHash, VoidReason.Omission);
    }

    /// @inheritdoc IRewardDistributor
    function challengeMalformedEvidence(bytes32 campaignId, EvidenceLeaf calldata leaf) external nonReentrant {
        StoredPendingRoot storage pending = _challengeablePending(campaignId);
        _verifyEvidenceLeaf(pending.evidenceRoot, leaf);
        bytes32 hash = leaf.hash;
        bytes32 next = leaf.next;
        uint256 index = leaf.index;
        // A verified leaf has index < count and count >= 1: `count - 1` is the last position.
        bool outOfOrder = hash >= next;
        bool badFirst = index == 0 && hash != bytes32(0);
        bool badLast = index == leaf.count - 1 && next != bytes32(type(uint256).max);
        if (!(outOfOrder || badFirst || badLast)) revert RewardEvidenceWellFormed(index, hash, next);
        _void(campaignId, pending, hash, VoidReason.MalformedLeaf);
    }

    /// @inheritdoc IRewardDistributor
    function challengeBrokenLink(
        bytes32 campaignId,
        EvidenceLeaf calldata leaf,
        EvidenceLeaf calldata following
    ) external nonReentrant {
        StoredPendingRoot storage pending = _challengeablePending(campaignId);
        // A verified leaf has index < count, so index + 1 cannot overflow.
        if (following.count != leaf.count || following.index != leaf.index + 1) {
            revert RewardLeavesNotAdjacent(leaf.count, leaf.index, following.count, following.index);
        }
        bytes32 evidenceRoot = pending.evidenceRoot;
        _verifyEvidenceLeaf(evidenceRoot, leaf);
        _verifyEvidenceLeaf(evidenceRoot, following);
        if (leaf.next == following.hash) revert RewardLinkUnbroken(leaf.index, leaf.next);
        _void(campaignId, pending, leaf.hash, VoidReason.BrokenLink);
    }

    /// @inheritdoc IRewardDistributor
    function finalize(bytes32 campaignId) external nonReentrant {
        StoredPendingRoot storage pending = _pending[campaignId];
        if (pending.proposedAt == 0) revert RewardNoPendingRoot(campaignId);
        if (!_finalizeIfDue(campaignId)) {
            revert RewardNotFinalizable(campaignId, uint256(pending.proposedAt) + challengeWindow);
        }
    }

    // ------------------------------------------------------------------ claims

    /// @inheritdoc IRewardDistributor
    function claim(
        bytes32 campaignId,
        bytes32 producerId,
        uint256 cumulative,
        bytes32[] calldata proof
    ) external whenNotPaused nonReentrant {
        _claim(campaignId, producerId, cumulative, proof, true);
    }

    /// @inheritdoc IRewardDistributor
    function claimFor(
        bytes32 campaignId,
        bytes32 producerId,
        uint256 cumulative,
        bytes32[] calldata proof
    ) external whenNotPaused nonReentrant {
        _claim(campaignId, producerId, cumulative, proof, false);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IRewardDistributor
    function token() external view returns (address) {
        return address(_token);
    }

    /// @inheritdoc IRewardDistributor
    function epochOf(uint64 time) external view returns (uint64) {
        if (time < genesis) revert RewardBeforeGenesis(time, genesis);
        return (time - genesis) / epochLength;
    }

    /// @inheritdoc IRewardDistributor
    function epochEnd(uint64 epoch) external view returns (uint256) {
        return _epochEnd(epoch);
    }

    /// @inheritdoc IRewardDistributor
    function oracles() external view returns (address[] memory) {
        return _oracleSets[_oracleSetVersion];
    }

    /// @inheritdoc IRewardDistributor
    function threshold() external view returns (uint8) {
        return _threshold;
    }

    /// @inheritdoc IRewardDistributor
    function oracleSetVersion() external view returns (uint64) {
        return _oracleSetVersion;
    }

    /// @inheritdoc IRewardDistributor
    function campaignOf(bytes32 campaignId) external view returns (Campaign memory) {
        return _campaigns[campaignId];
    }

    /// @inheritdoc IRewardDistributor
    function pendingRootOf(bytes32 campaignId) external view returns (PendingRoot memory view_) {
        StoredPendingRoot storage pending = _pending[campaignId];
        if (pending.proposedAt == 0 || _isDue(pending)) return view_;
        view_.root = pending.root;
        view_.total = pending.total;
        view_.evidenceRoot = pending.evidenceRoot;
        view_.epoch = pending.epoch;
        view_.fromEpoch = pending.fromEpoch;
        view_.cutoff = pending.cutoff;
        view_.proposedAt = pending.proposedAt;
        view_.oracleSetVersion = pending.oracleSetVersion;
        address[] storage set = _oracleSets[pending.oracleSetVersion];
        uint16 bits = pending.signerBits;
        address[] memory signers = new address[](_popCount(bits));
        uint256 next;
        for (uint256 i; bits != 0; ++i) {
            if (bits & 1 == 1) signers[next++] = set[i];
            bits >>= 1;
        }
        view_.signers = signers;
    }

    /// @inheritdoc IRewardDistributor
    function finalizedRootOf(bytes32 campaignId) external view returns (FinalizedRoot memory) {
        StoredPendingRoot storage pending = _pending[campaignId];
        if (pending.proposedAt != 0 && _isDue(pending)) {
            return FinalizedRoot({root: pending.root, total: pending.total, epoch: pending.epoch, exists: true});
        }
        return _finalized[campaignId];
    }

    /// @inheritdoc IRewardDistributor
    function claimedOf(bytes32 campaignId, bytes32 producerId) external view returns (uint256) {
        return _claimed[campaignId][producerId];
    }

    /// @inheritdoc IRewardDistributor
    function producerAccountOf(bytes32 producerId) external view returns (address) {
        return _producerAccounts[producerId];
    }

    /// @inheritdoc IRewardDistributor
    function hashEpochRoot(
        bytes32 campaignId,
        uint64 epoch,
        bytes32 root,
        uint256 total,
        bytes32 evidenceRoot,
        uint64 cutoff,
        uint64 version
    ) external view returns (bytes32) {
        return _hashEpochRoot(campaignId, epoch, root, total, evidenceRoot, cutoff, version);
    }

    /// @inheritdoc IRewardDistributor
    function hashReceipt(bytes32 recordHash, uint64 epoch, uint64 time) external view returns (bytes32) {
        return _hashReceipt(recordHash, epoch, time);
    }

    /// @inheritdoc IRewardDistributor
    function hashPresenceQuery(
        bytes32 venueId,
        uint64 cell,
        uint64 epoch,
        bytes32 nonce,
        uint64 time
    ) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(_PRESENCE_QUERY_TYPEHASH, venueId, cell, epoch, nonce, time)));
    }

    /// @inheritdoc IRewardDistributor
    function hashPresenceResponse(
        address device,
        bytes32 venueId,
        uint64 epoch,
        bytes32 nonce,
        uint64 time
    ) external view returns (bytes32) {
        return
            _hashTypedDataV4(keccak256(abi.encode(_PRESENCE_RESPONSE_TYPEHASH, device, venueId, epoch, nonce, time)));
    }

    /// @inheritdoc IRewardDistributor
    function hashPlayback(
        bytes32 contentId,
        bytes32 producerId,
        bytes32 venueId,
        uint64 start,
        uint32 duration
    ) external view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(abi.encode(_PLAYBACK_TYPEHASH, contentId, producerId, venueId, start, duration))
            );
    }

    /// @inheritdoc IRewardDistributor
    function campaignIdOf(address sponsor, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(sponsor, salt));
    }

    // ------------------------------------------------------------------ private

    /// @dev Pulls `amount` from the caller and records what arrived.
    function _pull(bytes32 campaignId, Campaign storage campaign, uint256 amount) private {
        uint256 before = _token.balanceOf(address(this));
        _token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = _token.balanceOf(address(this)) - before;
        if (received == 0) revert RewardZeroAmount();
        campaign.funded += received;
        emit CampaignFunded(campaignId, msg.sender, received);
    }

    /// @dev The claim of `claim` (`callerMustBeAccount`) and `claimFor`.
    function _claim(
        bytes32 campaignId,
        bytes32 producerId,
        uint256 cumulative,
        bytes32[] calldata proof,
        bool callerMustBeAccount
    ) private {
        Campaign storage campaign = _campaignOrRevert(campaignId);
        if (block.timestamp > campaign.claimDeadline) {
            revert RewardClaimExpired(campaignId, campaign.claimDeadline, block.timestamp);
        }
        _finalizeIfDue(campaignId);
        FinalizedRoot storage finalized = _finalized[campaignId];
        if (!finalized.exists) revert RewardNoFinalizedRoot(campaignId);
        address account = _producerAccounts[producerId];
        if (account == address(0)) revert RewardProducerNotRegistered(producerId);
        if (callerMustBeAccount && msg.sender != account) {
            revert RewardNotProducerAccount(producerId, msg.sender, account);
        }
        if (!MerkleProof.verifyCalldata(proof, finalized.root, _producerLeaf(producerId, cumulative))) {
            revert RewardProducerProofInvalid(campaignId, producerId, cumulative);
        }
        uint256 already = _claimed[campaignId][producerId];
        if (cumulative <= already) revert RewardNothingToClaim(campaignId, producerId, cumulative, already);
        // Cannot underflow: cumulative > already.
        uint256 amount;
        unchecked {
            amount = cumulative - already;
        }
        uint256 campaignClaimed = campaign.claimed + amount;
        if (campaignClaimed > finalized.total) {
            revert RewardClaimExceedsTotal(campaignId, campaignClaimed, finalized.total);
        }
        _claimed[campaignId][producerId] = cumulative;
        campaign.claimed = campaignClaimed;
        emit Claimed(campaignId, producerId, account, amount, cumulative);
        _token.safeTransfer(account, amount);
    }

    /// @dev Makes the pending root final if its window is over and the contract is not paused; true if it did.
    function _finalizeIfDue(bytes32 campaignId) private returns (bool) {
        StoredPendingRoot storage pending = _pending[campaignId];
        if (pending.proposedAt == 0 || !_isDue(pending)) return false;
        FinalizedRoot storage finalized = _finalized[campaignId];
        bytes32 root = pending.root;
        uint256 total = pending.total;
        uint64 epoch = pending.epoch;
        finalized.root = root;
        finalized.total = total;
        finalized.epoch = epoch;
        finalized.exists = true;
        _clearPending(pending);
        emit RootFinalized(campaignId, epoch, root, total);
        return true;
    }

    /// @dev Deletes the pending root after a successful challenge and remembers its `EpochRoot` digest, so that its
    ///      public signatures cannot propose it again.
    function _void(
        bytes32 campaignId,
        StoredPendingRoot storage pending,
        bytes32 recordHash,
        VoidReason reason
    ) private {
        uint64 epoch = pending.epoch;
        bytes32 digest = _hashEpochRoot(
            campaignId,
            epoch,
            pending.root,
            pending.total,
            pending.evidenceRoot,
            pending.cutoff,
            pending.oracleSetVersion
        );
        _voidedRoots[digest] = true;
        _clearPending(pending);
        emit RootVoided(campaignId, epoch, msg.sender, recordHash, reason);
    }

    /// @dev Marks the pending root gone. Only `proposedAt` is zeroed: the other words stay nonzero, so the next
    ///      proposal rewrites them at the price of a change rather than of a fresh slot.
    function _clearPending(StoredPendingRoot storage pending) private {
        pending.proposedAt = 0;
    }

    /// @dev Checks a proposal's epoch, cutoff and total against the campaign and its last final root; returns the
    ///      first epoch the proposal covers.
    function _checkEpochAndTotal(
        bytes32 campaignId,
        Campaign storage campaign,
        uint64 epoch,
        uint256 total,
        uint64 cutoff
    ) private view returns (uint64 fromEpoch) {
        FinalizedRoot storage finalized = _finalized[campaignId];
        bool hasFinal = finalized.exists;
        // A final epoch is at most `lastEpoch`, far below 2^64 - 1 for any epoch that has ended.
        fromEpoch = hasFinal ? finalized.epoch + 1 : campaign.firstEpoch;
        if (epoch < fromEpoch || epoch > campaign.lastEpoch) {
            revert RewardEpochOutOfRange(campaignId, epoch, fromEpoch, campaign.lastEpoch);
        }
        uint256 end = _epochEnd(epoch);
        if (block.timestamp < end) revert RewardEpochNotEnded(epoch, end, block.timestamp);
        if (cutoff < end || cutoff > block.timestamp) revert RewardCutoffOutOfRange(cutoff, end, block.timestamp);
        uint256 finalTotal = finalized.total;
        if (total < finalTotal) revert RewardTotalDecreased(total, finalTotal);
        // A product past 2^256 - 1 is no limit at all.
        uint256 allowance = Math.saturatingMul(campaign.budgetPerEpoch, uint256(epoch - fromEpoch) + 1);
        if (total - finalTotal > allowance) revert RewardOverBudget(total - finalTotal, allowance);
        if (total > campaign.funded) revert RewardOverFunded(total, campaign.funded);
    }

    /// @dev Checks the signatures over `digest`: at least the threshold, by distinct oracles of set `version`, in
    ///      ascending signer order. Returns the signers' position bitmap and addresses.
    function _checkRootSignatures(
        uint64 version,
        bytes32 digest,
        bytes[] calldata signatures
    ) private view returns (uint16 bits, address[] memory signers) {
        uint256 count = signatures.length;
        uint8 needed = _threshold;
        // No oracle set yet (version 0) has a zero threshold and accepts nothing.
        if (needed == 0 || count < needed) revert RewardTooFewSignatures(count, needed);
        mapping(address => uint256) storage positions = _oraclePositions[version];
        signers = new address[](count);
        address previous;
        for (uint256 i; i < count; ++i) {
            address signer = _recoverOrRevert(digest, signatures[i], i);
            if (signer <= previous) revert RewardSignersNotAscending(i, signer, previous);
            uint256 position = positions[signer];
            if (position == 0) revert RewardSignerNotOracle(i, signer);
            // Positions are 1..16, so the shift fits 16 bits.
            bits |= uint16(1 << (position - 1));
            signers[i] = signer;
            previous = signer;
        }
    }

    /// @dev The pending root of a campaign, if it is in its challenge window.
    function _challengeablePending(bytes32 campaignId) private view returns (StoredPendingRoot storage pending) {
        pending = _pending[campaignId];
        uint256 proposedAt = pending.proposedAt;
        if (proposedAt == 0) revert RewardNoPendingRoot(campaignId);
        uint256 closesAt = proposedAt + challengeWindow;
        if (block.timestamp >= closesAt) revert RewardChallengeWindowClosed(campaignId, closesAt, block.timestamp);
    }

    /// @dev The campaign, or a revert if it does not exist.
    function _campaignOrRevert(bytes32 campaignId) private view returns (Campaign storage campaign) {
        campaign = _campaigns[campaignId];
        if (campaign.sponsor == address(0)) revert RewardUnknownCampaign(campaignId);
    }

    /// @dev Whether a proposed root is final: its window is over and the contract is not paused.
    function _isDue(StoredPendingRoot storage pending) private view returns (bool) {
        return !paused() && block.timestamp >= uint256(pending.proposedAt) + challengeWindow;
    }

    /// @dev The end of `epoch`, the first second of the next one.
    function _epochEnd(uint64 epoch) private view returns (uint256) {
        return uint256(genesis) + (uint256(epoch) + 1) * epochLength;
    }

    /// @dev The digest of an `EpochRoot`.
    function _hashEpochRoot(
        bytes32 campaignId,
        uint64 epoch,
        bytes32 root,
        uint256 total,
        bytes32 evidenceRoot,
        uint64 cutoff,
        uint64 version
    ) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(_EPOCH_ROOT_TYPEHASH, campaignId, epoch, root, total, evidenceRoot, cutoff, version)
                )
            );
    }

    /// @dev The digest of a `Receipt`.
    function _hashReceipt(bytes32 recordHash, uint64 epoch, uint64 time) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(_RECEIPT_TYPEHASH, recordHash, epoch, time)));
    }

    /// @dev The plain ECDSA signer of `digest` (65 bytes, low s); never ERC-1271. Reverts with `index` if malformed.
    function _recoverOrRevert(bytes32 digest, bytes calldata signature, uint256 index) private pure returns (address) {
        (address signer, ECDSA.RecoverError error, ) = ECDSA.tryRecoverCalldata(digest, signature);
        if (error != ECDSA.RecoverError.NoError) revert RewardInvalidSignature(index);
        return signer;
    }

    /// @dev A `StandardMerkleTree` leaf of `["bytes32","uint256"]`.
    function _producerLeaf(bytes32 producerId, uint256 cumulative) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(producerId, cumulative))));
    }

    /// @dev Reverts `RewardEvidenceProofInvalid` unless `leaf` is at its position in the positional evidence tree
    ///      committed by `evidenceRoot`: `index < count`, a proof of exactly the tree's depth, and
    ///      `keccak256(abi.encode(count, treeRoot)) == evidenceRoot`.
    function _verifyEvidenceLeaf(bytes32 evidenceRoot, EvidenceLeaf calldata leaf) private pure {
        uint256 count = leaf.count;
        uint256 index = leaf.index;
        bytes32[] calldata proof = leaf.proof;
        // The depth: the smallest d with 2^d >= count (0 for a single leaf).
        uint256 depth = count > 1 ? Math.log2(count - 1) + 1 : 0;
        bytes32 h = keccak256(bytes.concat(keccak256(abi.encode(leaf.hash, leaf.next))));
        bool valid = index < count && proof.length == depth;
        if (valid) {
            for (uint256 i; i < depth; ++i) {
                h = (index >> i) & 1 == 1 ? _node(proof[i], h) : _node(h, proof[i]);
            }
            valid = keccak256(abi.encode(count, h)) == evidenceRoot;
        }
        if (!valid) revert RewardEvidenceProofInvalid(index, leaf.hash, leaf.next);
    }

    /// @dev An inner node of the evidence tree: the pair in position order, not sorted.
    function _node(bytes32 left, bytes32 right) private pure returns (bytes32 result) {
        assembly ("memory-safe") {
            mstore(0x00, left)
            mstore(0x20, right)
            result := keccak256(0x00, 0x40)
        }
    }

    /// @dev The number of set bits.
    function _popCount(uint16 bits) private pure returns (uint256 count) {
        for (; bits != 0; bits &= bits - 1) ++count;
    }
}
