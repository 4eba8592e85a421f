// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IRewardDistributor
/// @notice Pays content producers from sponsors' campaigns, epoch by epoch, on roots that m of n oracles sign.
///         A root commits the producers' cumulative amounts (a Merkle tree of (producerId, cumulative)) and the
///         evidence it was computed from (a sorted linked list of record hashes in a positional Merkle tree). It
///         waits a challenge window, during which anyone may void it by proving that a record one of its signers
///         receipted is missing from the evidence, that a leaf of the list is wrong on its own (out of order, a
///         record listed twice, a wrong first or last leaf), or that two consecutive leaves do not link (a gap). A
///         voided root can never be proposed again with the same signatures. A root becomes final
///         at the window's end (lazily, on the next call that needs it) and producers then claim the difference
///         between their cumulative amount and what they claimed before, at the account registered for them.
///
///         EIP-712 domain: name "BankChain Rewards", version "1", the chain id, this contract. Types:
///         `PresenceQuery(bytes32 venueId,uint64 cell,uint64 epoch,bytes32 nonce,uint64 time)`,
///         `PresenceResponse(address device,bytes32 venueId,uint64 epoch,bytes32 nonce,uint64 time)`,
///         `Playback(bytes32 contentId,bytes32 producerId,bytes32 venueId,uint64 start,uint32 duration)`,
///         `Receipt(bytes32 recordHash,uint64 epoch,uint64 time)`,
///         `EpochRoot(bytes32 campaignId,uint64 epoch,bytes32 root,uint256 total,bytes32 evidenceRoot,uint64 cutoff,`
///         `uint64 oracleSetVersion)`. A record's hash is its EIP-712 digest. Signatures are 65-byte ECDSA (low s),
///         never ERC-1271.
///
///         The producer tree is an OpenZeppelin `StandardMerkleTree` of `["bytes32","uint256"]` leaves.
///
///         The evidence tree is positional. The sorted unique record hashes h1 < ... < hn make `count = n + 1`
///         leaves at positions 0..count-1: (0x00..00, h1), (h1, h2), ..., (hn, 0xff..ff) (no record: the single
///         leaf (0x00..00, 0xff..ff)); leaf = `keccak256(bytes.concat(keccak256(abi.encode(hash, next))))`. The
///         depth d is the smallest with 2^d >= count; positions count..2^d-1 hold `bytes32(0)`; a node is
///         `keccak256(abi.encodePacked(left, right))` (not sorted). `evidenceRoot = keccak256(abi.encode(count,
///         treeRoot))`. A proof is the d siblings bottom-up.
interface IRewardDistributor {
    /// @notice A campaign: a sponsor's funds for content rewards over an epoch range.
    /// @param sponsor Who created it; the only one who may reclaim what is left after `claimDeadline`.
    /// @param firstEpoch The first epoch it pays for.
    /// @param lastEpoch The last epoch it pays for.
    /// @param claimDeadline Claims are accepted up to and including this time (unix seconds); reclaim after it.
    /// @param reclaimed Whether the sponsor has reclaimed the rest.
    /// @param budgetPerEpoch The most a root may add to the total per epoch it covers.
    /// @param funded Everything received for the campaign.
    /// @param claimed Everything paid to producers.
    /// @param terms `keccak256` of the canonical JSON of the off-chain terms.
    struct Campaign {
        address sponsor;
        uint64 firstEpoch;
        uint64 lastEpoch;
        uint64 claimDeadline;
        bool reclaimed;
        uint256 budgetPerEpoch;
        uint256 funded;
        uint256 claimed;
        bytes32 terms;
    }

    /// @notice A proposed root, in its challenge window (or past it while paused).
    /// @param root The producer tree's root (zero when nothing is payable yet).
    /// @param total The sum of the producers' cumulative amounts.
    /// @param evidenceRoot The evidence tree's root.
    /// @param epoch The last epoch the root covers.
    /// @param fromEpoch The first epoch the root covers (the epoch after the last final root's, or `firstEpoch`).
    /// @param cutoff Receipts dated after this time need not be in the evidence.
    /// @param proposedAt When the root was proposed; it is challengeable before `proposedAt + challengeWindow`.
    /// @param oracleSetVersion The oracle set the signatures were checked against.
    /// @param signers The oracles whose signatures were accepted, ascending.
    struct PendingRoot {
        bytes32 root;
        uint256 total;
        bytes32 evidenceRoot;
        uint64 epoch;
        uint64 fromEpoch;
        uint64 cutoff;
        uint64 proposedAt;
        uint64 oracleSetVersion;
        address[] signers;
    }

    /// @notice The last final root of a campaign, the one claims are checked against.
    /// @param root The producer tree's root.
    /// @param total The sum of the producers' cumulative amounts.
    /// @param epoch The last epoch it covers.
    /// @param exists Whether the campaign has a final root at all.
    struct FinalizedRoot {
        bytes32 root;
        uint256 total;
        uint64 epoch;
        bool exists;
    }

    /// @notice A leaf of an evidence tree with its proof.
    /// @param count The number of leaves of the tree (committed by the evidence root).
    /// @param index The leaf's position, below `count`.
    /// @param hash The leaf's record hash (zero for the first leaf).
    /// @param next The next record hash (all ones for the last leaf).
    /// @param proof The d sibling hashes, bottom-up (d: the smallest with 2^d >= count).
    struct EvidenceLeaf {
        uint256 count;
        uint256 index;
        bytes32 hash;
        bytes32 next;
        bytes32[] proof;
    }

    /// @notice What a successful challenge proved.
    /// @dev Omission: a receipted record falls strictly inside a leaf. MalformedLeaf: a leaf is out of order or
    ///      lists a record twice (`hash >= next`), or is a first leaf not starting at zero or a last leaf not ending
    ///      at all ones. BrokenLink: a leaf's `next` is not the following leaf's `hash` (a gap or a jump).
    enum VoidReason {
        Omission,
        MalformedLeaf,
        BrokenLink
    }

    /// @notice The oracle set changed; it is now version `version`.
    event OraclesSet(uint64 indexed version, address[] oracles, uint8 threshold);
    /// @notice Producer `producerId` is now paid at `account`.
    event ProducerRegistered(bytes32 indexed producerId, address indexed account);
    /// @notice A campaign was created.
    event CampaignCreated(
        bytes32 indexed campaignId,
        address indexed sponsor,
        bytes32 salt,
        uint256 budgetPerEpoch,
        uint64 firstEpoch,
        uint64 lastEpoch,
        uint64 claimDeadline,
        bytes32 terms
    );
    /// @notice `amount` was received for the campaign from `funder`.
    event CampaignFunded(bytes32 indexed campaignId, address indexed funder, uint256 amount);
    /// @notice A root was proposed for the epochs `fromEpoch..epoch` of the campaign.
    event RootProposed(
        bytes32 indexed campaignId,
        uint64 indexed epoch,
        bytes32 root,
        uint256 total,
        bytes32 evidenceRoot,
        uint64 cutoff,
        address[] signers
    );
    /// @notice The pending root of the campaign became final.
    event RootFinalized(bytes32 indexed campaignId, uint64 indexed epoch, bytes32 root, uint256 total);
    /// @notice The pending root of the campaign was voided by `challenger`'s proof about `recordHash`: the omitted
    ///         record (`Omission`), or the `hash` of the malformed leaf (`MalformedLeaf`) or of the leaf whose link
    ///         is broken (`BrokenLink`).
    event RootVoided(
        bytes32 indexed campaignId,
        uint64 indexed epoch,
        address indexed challenger,
        bytes32 recordHash,
        VoidReason reason
    );
    /// @notice `amount` was paid to `account` for producer `producerId`, who has now claimed `cumulative`.
    event Claimed(
        bytes32 indexed campaignId,
        bytes32 indexed producerId,
        address indexed account,
        uint256 amount,
        uint256 cumulative
    );
    /// @notice The sponsor took back the `amount` left after the claim deadline.
    event Reclaimed(bytes32 indexed campaignId, address indexed sponsor, uint256 amount);

    /// @notice A constructor argument is zero: the token, the epoch length or the challenge window.
    error RewardInvalidSetup(address token, uint64 epochLength, uint64 challengeWindow);
    /// @notice The oracle set is empty or larger than `max`.
    error RewardInvalidOracleCount(uint256 count, uint256 max);
    /// @notice The oracle at `index` is zero or not above the previous one (the set must be ascending, unique).
    error RewardInvalidOracle(uint256 index, address oracle);
    /// @notice The threshold is zero or above the number of oracles.
    error RewardInvalidThreshold(uint8 threshold, uint256 count);
    /// @notice A producer's account cannot be the zero address.
    error RewardZeroAccount(bytes32 producerId);
    /// @notice The budget per epoch is zero.
    error RewardZeroBudget();
    /// @notice The first epoch is after the last.
    error RewardInvalidEpochRange(uint64 firstEpoch, uint64 lastEpoch);
    /// @notice The claim deadline must be after `minimum` (the end of the last epoch plus the challenge window).
    error RewardDeadlineTooEarly(uint64 claimDeadline, uint256 minimum);
    /// @notice The sponsor already has a campaign of this salt.
    error RewardCampaignExists(bytes32 campaignId);
    /// @notice No campaign has this id.
    error RewardUnknownCampaign(bytes32 campaignId);
    /// @notice Funding of zero (or a transfer that delivered nothing).
    error RewardZeroAmount();
    /// @notice The campaign's claim deadline has passed: it takes no more funds.
    error RewardCampaignExpired(bytes32 campaignId, uint64 claimDeadline, uint256 timestamp);
    /// @notice The campaign has a root in its challenge window (covering up to `epoch`), final at `finalizesAt`.
    error RewardRootPending(bytes32 campaignId, uint64 epoch, uint256 finalizesAt);
    /// @notice The epoch is not in `[minEpoch, maxEpoch]`: the campaign's range above its last final root.
    error RewardEpochOutOfRange(bytes32 campaignId, uint64 epoch, uint64 minEpoch, uint64 maxEpoch);
    /// @notice The epoch ends at `end`, after `timestamp`.
    error RewardEpochNotEnded(uint64 epoch, uint256 end, uint256 timestamp);
    /// @notice The cutoff is not in `[minimum, maximum]`: from the epoch's end to now.
    error RewardCutoffOutOfRange(uint64 cutoff, uint256 minimum, uint256 maximum);
    /// @notice The total is below the last final root's: cumulative amounts only grow.
    error RewardTotalDecreased(uint256 total, uint256 finalizedTotal);
    /// @notice The total adds `increase` to the last final root's; the budget of the epochs covered is `allowance`.
    error RewardOverBudget(uint256 increase, uint256 allowance);
    /// @notice The total is above what the campaign was funded.
    error RewardOverFunded(uint256 total, uint256 funded);
    /// @notice A root needs an evidence root; the producer root may be zero only with a zero total.
    error RewardInvalidRoot(bytes32 root, uint256 total, bytes32 evidenceRoot);
    /// @notice Fewer signatures than the oracle threshold.
    error RewardTooFewSignatures(uint256 count, uint8 threshold);
    /// @notice The signature at `index` is malformed (not 65 bytes, high s, or no signer).
    error RewardInvalidSignature(uint256 index);
    /// @notice The signer of the signature at `index` is not a current oracle.
    error RewardSignerNotOracle(uint256 index, address signer);
    /// @notice The signer at `index` is not above the previous signer (signatures go in ascending signer order).
    error RewardSignersNotAscending(uint256 index, address signer, address previous);
    /// @notice The campaign has no pending root.
    error RewardNoPendingRoot(bytes32 campaignId);
    /// @notice The pending root's challenge window closed at `closedAt`.
    error RewardChallengeWindowClosed(bytes32 campaignId, uint256 closedAt, uint256 timestamp);
    /// @notice The receipt's signer did not sign the pending root.
    error RewardReceiptSignerNotRootSigner(bytes32 campaignId, address signer);
    /// @notice The record's epoch is not among those the root covers, `[fromEpoch, toEpoch]`.
    error RewardRecordEpochOutOfRange(uint64 recordEpoch, uint64 fromEpoch, uint64 toEpoch);
    /// @notice The receipt is dated after the root's cutoff.
    error RewardReceiptAfterCutoff(uint64 receiptTime, uint64 cutoff);
    /// @notice The leaf (`hash`, `next`) at `index` is not in the evidence tree: a wrong proof, a proof of the wrong
    ///         length, an index not below the count, or a count the evidence root does not commit.
    error RewardEvidenceProofInvalid(uint256 index, bytes32 hash, bytes32 next);
    /// @notice The leaf (`hash`, `next`) at `index` is well formed: in order, and a proper first or last leaf.
    error RewardEvidenceWellFormed(uint256 index, bytes32 hash, bytes32 next);
    /// @notice The leaves are not consecutive leaves of one tree (counts `count` and `followingCount`, positions
    ///         `index` and `followingIndex`).
    error RewardLeavesNotAdjacent(uint256 count, uint256 index, uint256 followingCount, uint256 followingIndex);
    /// @notice The leaf at `index` links to `next`, which is the following leaf's hash.
    error RewardLinkUnbroken(uint256 index, bytes32 next);
    /// @notice This root (EIP-712 digest `digest`) was voided before; it cannot be proposed again.
    error RewardRootWasVoided(bytes32 campaignId, bytes32 digest);
    /// @notice `recordHash` is not strictly between the leaf's `hash` and `next`.
    error RewardNotOmitted(bytes32 recordHash, bytes32 hash, bytes32 next);
    /// @notice The pending root cannot finalize yet: its window ends at `finalizesAt`, or the contract is paused.
    error RewardNotFinalizable(bytes32 campaignId, uint256 finalizesAt);
    /// @notice The campaign has no final root to claim against.
    error RewardNoFinalizedRoot(bytes32 campaignId);
    /// @notice No account is registered for the producer; its amount stays in escrow.
    error RewardProducerNotRegistered(bytes32 producerId);
    /// @notice `claim` was called by `caller`, not the producer's account `account` (anyone may `claimFor`).
    error RewardNotProducerAccount(bytes32 producerId, address caller, address account);
    /// @notice The leaf (`producerId`, `cumulative`) is not in the campaign's final producer tree.
    error RewardProducerProofInvalid(bytes32 campaignId, bytes32 producerId, uint256 cumulative);
    /// @notice The producer has claimed `claimed`, no less than `cumulative`.
    error RewardNothingToClaim(bytes32 campaignId, bytes32 producerId, uint256 cumulative, uint256 claimed);
    /// @notice The claim deadline has passed.
    error RewardClaimExpired(bytes32 campaignId, uint64 claimDeadline, uint256 timestamp);
    /// @notice The campaign's claims would reach `claimed`, above its final total (a tree inconsistent with it).
    error RewardClaimExceedsTotal(bytes32 campaignId, uint256 claimed, uint256 total);
    /// @notice Only the sponsor may reclaim.
    error RewardNotSponsor(bytes32 campaignId, address caller, address sponsor);
    /// @notice Claims are open until `claimDeadline`: nothing can be reclaimed before.
    error RewardClaimWindowOpen(bytes32 campaignId, uint64 claimDeadline, uint256 timestamp);
    /// @notice The sponsor has reclaimed already.
    error RewardAlreadyReclaimed(bytes32 campaignId);
    /// @notice The time is before genesis: it has no epoch.
    error RewardBeforeGenesis(uint64 time, uint64 genesis);

    /// @notice Replaces the oracle set and bumps `oracleSetVersion` (`ORACLE_ADMIN_ROLE`). A pending root signed
    ///         under an earlier version stays pending and challengeable by receipts of its own signers.
    /// @param newOracles The oracles, ascending, nonzero, unique, at most 16.
    /// @param newThreshold How many of them must sign a root, 1 to `newOracles.length`.
    function setOracles(address[] calldata newOracles, uint8 newThreshold) external;

    /// @notice Sets or changes the account a producer is paid at (`REGISTRAR_ROLE`).
    /// @param producerId The producer.
    /// @param account The account, nonzero.
    function registerProducer(bytes32 producerId, address account) external;

    /// @notice Creates a campaign of the caller's and pulls `amount` from it (after approval). Not while paused.
    /// @param salt Makes the id: `keccak256(abi.encode(msg.sender, salt))`.
    /// @param budgetPerEpoch The most a root may add to the total per epoch covered (nonzero).
    /// @param firstEpoch The first epoch paid for.
    /// @param lastEpoch The last epoch paid for, not before `firstEpoch`.
    /// @param claimDeadline The last time claims are taken; after `epochEnd(lastEpoch) + challengeWindow`.
    /// @param terms `keccak256` of the canonical JSON of the off-chain terms.
    /// @param amount The first funds (may be zero).
    /// @return campaignId The campaign's id.
    function createCampaign(
        bytes32 salt,
        uint256 budgetPerEpoch,
        uint64 firstEpoch,
        uint64 lastEpoch,
        uint64 claimDeadline,
        bytes32 terms,
        uint256 amount
    ) external returns (bytes32 campaignId);

    /// @notice Adds the caller's `amount` to a campaign (after approval); anyone may. Not while paused nor after the
    ///         claim deadline. What the contract actually received is recorded.
    /// @param campaignId The campaign.
    /// @param amount The amount, nonzero.
    function fund(bytes32 campaignId, uint256 amount) external;

    /// @notice Proposes the campaign's root for the epochs after its last final root up to `epoch`; anyone may relay
    ///         it. A pending root past its window is finalized first. Not while paused.
    /// @param campaignId The campaign.
    /// @param epoch The last epoch covered: ended, in the campaign's range, after the last final root's.
    /// @param root The producer tree's root.
    /// @param total The sum of cumulative amounts: at least the last final total, at most what was funded, and
    ///        adding at most `budgetPerEpoch` per epoch covered.
    /// @param evidenceRoot The evidence tree's root, nonzero.
    /// @param cutoff The last receipt time included, from the epoch's end to now.
    /// @param signatures At least `threshold` signatures over `EpochRoot` with the current `oracleSetVersion` by
    ///        distinct current oracles, in ascending signer order. A root voided before (the same `EpochRoot`
    ///        digest) is refused with `RewardRootWasVoided`.
    function proposeRoot(
        bytes32 campaignId,
        uint64 epoch,
        bytes32 root,
        uint256 total,
        bytes32 evidenceRoot,
        uint64 cutoff,
        bytes[] calldata signatures
    ) external;

    /// @notice Voids the pending root by proving an omission: a record receipted by one of the root's signers, in
    ///         an epoch the root covers, by the cutoff, falls strictly between a leaf's `hash` and `next`. Only in
    ///         the challenge window; works while paused.
    /// @param campaignId The campaign.
    /// @param recordHash The record's hash (its EIP-712 digest).
    /// @param recordEpoch The record's epoch, as receipted.
    /// @param receiptTime The receipt's time.
    /// @param receiptSignature The `Receipt` signature of one of the root's signers.
    /// @param leaf The evidence leaf spanning `recordHash`, with its proof.
    function challengeOmission(
        bytes32 campaignId,
        bytes32 recordHash,
        uint64 recordEpoch,
        uint64 receiptTime,
        bytes calldata receiptSignature,
        EvidenceLeaf calldata leaf
    ) external;

    /// @notice Voids the pending root by proving a leaf of its evidence wrong on its own: `hash >= next` (out of
    ///         order, or a record listed twice), or the first leaf's `hash` is not zero, or the last leaf's `next`
    ///         is not all ones. Only in the challenge window; works while paused.
    /// @param campaignId The campaign.
    /// @param leaf The malformed leaf, with its proof.
    function challengeMalformedEvidence(bytes32 campaignId, EvidenceLeaf calldata leaf) external;

    /// @notice Voids the pending root by proving a gap in its evidence: two consecutive leaves where the first's
    ///         `next` is not the second's `hash`. Only in the challenge window; works while paused.
    /// @param campaignId The campaign.
    /// @param leaf A leaf, with its proof.
    /// @param following The leaf at the next position of the same tree, with its proof.
    function challengeBrokenLink(
        bytes32 campaignId,
        EvidenceLeaf calldata leaf,
        EvidenceLeaf calldata following
    ) external;

    /// @notice Makes the pending root final: its window is over and the contract is not paused. Anyone may.
    /// @param campaignId The campaign.
    function finalize(bytes32 campaignId) external;

    /// @notice Pays the caller, the producer's registered account, what its cumulative amount in the last final root
    ///         adds to what it claimed. Not while paused nor after the claim deadline.
    /// @param campaignId The campaign.
    /// @param producerId The producer.
    /// @param cumulative The producer's cumulative amount in the last final root.
    /// @param proof The leaf's proof in the producer tree.
    function claim(bytes32 campaignId, bytes32 producerId, uint256 cumulative, bytes32[] calldata proof) external;

    /// @notice As `claim`, called by anyone: pays the producer's registered account.
    /// @param campaignId The campaign.
    /// @param producerId The producer.
    /// @param cumulative The producer's cumulative amount in the last final root.
    /// @param proof The leaf's proof in the producer tree.
    function claimFor(bytes32 campaignId, bytes32 producerId, uint256 cumulative, bytes32[] calldata proof) external;

    /// @notice Pays the sponsor, once, after the claim deadline, what was funded and not claimed. Not while paused.
    /// @param campaignId The campaign.
    function reclaim(bytes32 campaignId) external;

    /// @notice Pauses funding, proposals, finalization, claims and reclaims (`PAUSER_ROLE`); challenges go on.
    function pause() external;

    /// @notice Unpauses (`PAUSER_ROLE`).
    function unpause() external;

    /// @notice The role that sets the oracles.
    /// @return The role id, `keccak256("ORACLE_ADMIN_ROLE")`.
    function ORACLE_ADMIN_ROLE() external view returns (bytes32);

    /// @notice The role that registers producers' accounts.
    /// @return The role id, `keccak256("REGISTRAR_ROLE")`.
    function REGISTRAR_ROLE() external view returns (bytes32);

    /// @notice The role that pauses and unpauses.
    /// @return The role id, `keccak256("PAUSER_ROLE")`.
    function PAUSER_ROLE() external view returns (bytes32);

    /// @notice The most oracles in a set.
    /// @return 16.
    function MAX_ORACLES() external view returns (uint256);

    /// @notice The token paid.
    /// @return The token's address.
    function token() external view returns (address);

    /// @notice The start of epoch 0 (unix seconds).
    /// @return The genesis time.
    function genesis() external view returns (uint64);

    /// @notice The length of an epoch, in seconds.
    /// @return The epoch length.
    function epochLength() external view returns (uint64);

    /// @notice How long a proposed root can be challenged, in seconds.
    /// @return The challenge window.
    function challengeWindow() external view returns (uint64);

    /// @notice The epoch of a time: `(time - genesis) / epochLength`. Reverts `RewardBeforeGenesis` before genesis.
    /// @param time The time (unix seconds).
    /// @return The epoch.
    function epochOf(uint64 time) external view returns (uint64);

    /// @notice When an epoch ends: `genesis + (epoch + 1) * epochLength`, the first second of the next one.
    /// @param epoch The epoch.
    /// @return The end time.
    function epochEnd(uint64 epoch) external view returns (uint256);

    /// @notice The current oracles.
    /// @return The oracles, ascending.
    function oracles() external view returns (address[] memory);

    /// @notice How many oracles must sign a root.
    /// @return The threshold.
    function threshold() external view returns (uint8);

    /// @notice The version of the oracle set, bumped by every `setOracles` (0 before the first).
    /// @return The version.
    function oracleSetVersion() external view returns (uint64);

    /// @notice A campaign's id: `keccak256(abi.encode(sponsor, salt))`.
    /// @param sponsor The sponsor.
    /// @param salt The salt.
    /// @return The id.
    function campaignIdOf(address sponsor, bytes32 salt) external pure returns (bytes32);

    /// @notice A campaign.
    /// @param campaignId The campaign.
    /// @return The campaign (a zero sponsor if none).
    function campaignOf(bytes32 campaignId) external view returns (Campaign memory);

    /// @notice The campaign's root in its challenge window, or past it while paused (a root whose window is over
    ///         while not paused is shown by `finalizedRootOf`, final for every purpose).
    /// @param campaignId The campaign.
    /// @return The pending root (`proposedAt` zero if none).
    function pendingRootOf(bytes32 campaignId) external view returns (PendingRoot memory);

    /// @notice The campaign's last final root, counting a pending root whose window is over while not paused.
    /// @param campaignId The campaign.
    /// @return The final root (`exists` false if none).
    function finalizedRootOf(bytes32 campaignId) external view returns (FinalizedRoot memory);

    /// @notice What a producer has claimed from a campaign.
    /// @param campaignId The campaign.
    /// @param producerId The producer.
    /// @return The cumulative amount claimed.
    function claimedOf(bytes32 campaignId, bytes32 producerId) external view returns (uint256);

    /// @notice The account a producer is paid at.
    /// @param producerId The producer.
    /// @return The account, or zero if none.
    function producerAccountOf(bytes32 producerId) external view returns (address);

    /// @notice The EIP-712 digest of an `EpochRoot`, the message oracles sign.
    /// @param campaignId The campaign.
    /// @param epoch The last epoch covered.
    /// @param root The producer tree's root.
    /// @param total The total.
    /// @param evidenceRoot The evidence tree's root.
    /// @param cutoff The cutoff.
    /// @param version The oracle set version.
    /// @return The digest.
    function hashEpochRoot(
        bytes32 campaignId,
        uint64 epoch,
        bytes32 root,
        uint256 total,
        bytes32 evidenceRoot,
        uint64 cutoff,
        uint64 version
    ) external view returns (bytes32);

    /// @notice The EIP-712 digest of a `Receipt`, the message an oracle signs at ingest.
    /// @param recordHash The record's hash.
    /// @param epoch The record's epoch.
    /// @param time The receipt's time.
    /// @return The digest.
    function hashReceipt(bytes32 recordHash, uint64 epoch, uint64 time) external view returns (bytes32);

    /// @notice The EIP-712 digest of a `PresenceQuery` (a record's hash).
    /// @param venueId The venue.
    /// @param cell The venue's H3 cell.
    /// @param epoch The epoch.
    /// @param nonce The query's nonce.
    /// @param time The query's time.
    /// @return The digest.
    function hashPresenceQuery(
        bytes32 venueId,
        uint64 cell,
        uint64 epoch,
        bytes32 nonce,
        uint64 time
    ) external view returns (bytes32);

    /// @notice The EIP-712 digest of a `PresenceResponse` (a record's hash).
    /// @param device The device.
    /// @param venueId The venue.
    /// @param epoch The epoch.
    /// @param nonce The query's nonce.
    /// @param time The response's time.
    /// @return The digest.
    function hashPresenceResponse(
        address device,
        bytes32 venueId,
        uint64 epoch,
        bytes32 nonce,
        uint64 time
    ) external view returns (bytes32);

    /// @notice The EIP-712 digest of a `Playback` (a record's hash).
    /// @param contentId The content.
    /// @param producerId The content's producer.
    /// @param venueId The venue.
    /// @param start The playback's start.
    /// @param duration The playback's duration, in seconds.
    /// @return The digest.
    function hashPlayback(
        bytes32 contentId,
        bytes32 producerId,
        bytes32 venueId,
        uint64 start,
        uint32 duration
    ) external view returns (bytes32);
}
