// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {Test} from "forge-std/Test.sol";

import {ReserveLedger} from "../../reserves/ReserveLedger.sol";
import {IRewardDistributor} from "../../rewards/interfaces/IRewardDistributor.sol";
import {IIssuanceGate} from "../../reserves/interfaces/IIssuanceGate.sol";
import {RewardDistributor} from "../../rewards/RewardDistributor.sol";
import {TrustAccount} from "../../settlement/TrustAccount.sol";
import {ITrustAccountToken} from "../../settlement/interfaces/ITrustAccountToken.sol";
import {BankToken} from "../../token/BankToken.sol";
import {IBankToken} from "../../token/interfaces/IBankToken.sol";

/// @dev Test-only Merkle trees with OpenZeppelin's sorted-pair hashing (what `MerkleProof` verifies and
///      `StandardMerkleTree` builds), leaves in the given order, an odd node carried up a level.
library TestMerkle {
    /// @dev A `StandardMerkleTree` leaf of `["bytes32","uint256"]`.
    function producerLeaf(bytes32 producerId, uint256 cumulative) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(producerId, cumulative))));
    }

    /// @dev A `StandardMerkleTree` leaf of `["bytes32","bytes32"]`.
    function pairLeaf(bytes32 hash, bytes32 next) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(hash, next))));
    }

    /// @dev The sorted-linked-list pairs of `hashes` (as given, duplicates kept): (0, h1), (h1, h2), ..., (hn, ~0).
    function listPairs(bytes32[] memory hashes) internal pure returns (bytes32[] memory from, bytes32[] memory to) {
        from = new bytes32[](hashes.length + 1);
        to = new bytes32[](hashes.length + 1);
        bytes32 previous;
        for (uint256 i; i < hashes.length; ++i) {
            (from[i], to[i]) = (previous, hashes[i]);
            previous = hashes[i];
        }
        (from[hashes.length], to[hashes.length]) = (previous, bytes32(type(uint256).max));
    }

    /// @dev The leaves of the pairs (`from[i]`, `to[i]`), in order.
    function pairLeaves(bytes32[] memory from, bytes32[] memory to) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](from.length);
        for (uint256 i; i < from.length; ++i) leaves[i] = pairLeaf(from[i], to[i]);
    }

    /// @dev The sorted-linked-list leaves of `hashes` (as given, duplicates kept).
    function listLeaves(bytes32[] memory hashes) internal pure returns (bytes32[] memory) {
        (bytes32[] memory from, bytes32[] memory to) = listPairs(hashes);
        return pairLeaves(from, to);
    }

    /// @dev The positional evidence root of `leaves`: `keccak256(abi.encode(count, treeRoot))` over the tree of
    ///      2^d positions (d the smallest with 2^d >= count, padding `bytes32(0)`, unsorted pairs).
    function positionalRoot(bytes32[] memory leaves) internal pure returns (bytes32) {
        bytes32[] memory level = _padded(leaves);
        while (level.length > 1) level = _upPositional(level);
        return keccak256(abi.encode(leaves.length, level[0]));
    }

    /// @dev The positional proof of the leaf at `index`: its d siblings, bottom-up.
    function positionalProof(bytes32[] memory leaves, uint256 index) internal pure returns (bytes32[] memory path) {
        bytes32[] memory level = _padded(leaves);
        path = new bytes32[](positionalDepth(leaves.length));
        for (uint256 i; level.length > 1; ++i) {
            path[i] = level[index ^ 1];
            level = _upPositional(level);
            index /= 2;
        }
    }

    /// @dev The depth of a positional tree of `count` leaves: the smallest d with 2^d >= count.
    function positionalDepth(uint256 count) internal pure returns (uint256 d) {
        while ((uint256(1) << d) < count) ++d;
    }

    function root(bytes32[] memory leaves) internal pure returns (bytes32) {
        bytes32[] memory level = leaves;
        while (level.length > 1) level = _up(level);
        return level[0];
    }

    function proof(bytes32[] memory leaves, uint256 index) internal pure returns (bytes32[] memory path) {
        bytes32[] memory scratch = new bytes32[](32);
        uint256 depth;
        bytes32[] memory level = leaves;
        while (level.length > 1) {
            uint256 sibling = index ^ 1;
            if (sibling < level.length) scratch[depth++] = level[sibling];
            level = _up(level);
            index /= 2;
        }
        path = new bytes32[](depth);
        for (uint256 i; i < depth; ++i) path[i] = scratch[i];
    }

    /// @dev Ascending insertion sort (small test lists).
    function sort(bytes32[] memory values) internal pure returns (bytes32[] memory) {
        for (uint256 i = 1; i < values.length; ++i) {
            bytes32 value = values[i];
            uint256 j = i;
            while (j > 0 && values[j - 1] > value) {
                values[j] = values[j - 1];
                --j;
            }
            values[j] = value;
        }
        return values;
    }

    function _padded(bytes32[] memory leaves) private pure returns (bytes32[] memory level) {
        level = new bytes32[](uint256(1) << positionalDepth(leaves.length));
        for (uint256 i; i < leaves.length; ++i) level[i] = leaves[i];
    }

    function _upPositional(bytes32[] memory level) private pure returns (bytes32[] memory next) {
        next = new bytes32[](level.length / 2);
        for (uint256 i; i < next.length; ++i) next[i] = keccak256(abi.encodePacked(level[2 * i], level[2 * i + 1]));
    }

    function _up(bytes32[] memory level) private pure returns (bytes32[] memory next) {
        next = new bytes32[]((level.length + 1) / 2);
        for (uint256 i; i < next.length; ++i) {
            next[i] =
                2 * i + 1 < level.length ? Hashes.commutativeKeccak256(level[2 * i], level[2 * i + 1]) : level[2 * i];
        }
    }
}

/// @dev EIP-712 messages of the distributor, spelled out from the spec's type strings (so the tests also prove the
///      contract's type hashes and domain), and signing with `vm.sign`.
abstract contract RewardSigning is Test {
    /// @dev An `EpochRoot` (fields packed, not in the type's order).
    struct RootMessage {
        bytes32 campaignId;
        bytes32 root;
        uint256 total;
        bytes32 evidenceRoot;
        uint64 epoch;
        uint64 cutoff;
        uint64 version;
    }

    bytes32 internal constant DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    bytes32 internal constant EPOCH_ROOT_TYPEHASH = keccak256(
        "EpochRoot(bytes32 campaignId,uint64 epoch,bytes32 root,uint256 total,bytes32 evidenceRoot,uint64 cutoff,"
        "uint64 oracleSetVersion)"
    );
    bytes32 internal constant RECEIPT_TYPEHASH = keccak256("Receipt(bytes32 recordHash,uint64 epoch,uint64 time)");
    bytes32 internal constant PRESENCE_QUERY_TYPEHASH = keccak256(
        "PresenceQuery(bytes32 venueId,uint64 cell,uint64 epoch,bytes32 nonce,uint64 time)"
    );
    bytes32 internal constant PRESENCE_RESPONSE_TYPEHASH = keccak256(
        "PresenceResponse(address device,bytes32 venueId,uint64 epoch,bytes32 nonce,uint64 time)"
    );
    bytes32 internal constant PLAYBACK_TYPEHASH = keccak256(
        "Playback(bytes32 contentId,bytes32 producerId,bytes32 venueId,uint64 start,uint32 duration)"
    );

    function _domain(address distributor) internal view returns (bytes32) {
        return
            keccak256(
                abi.encode(DOMAIN_TYPEHASH, keccak256("BankChain Rewards"), keccak256("1"), block.chainid, distributor)
            );
    }

    function _typed(address distributor, bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", _domain(distributor), structHash));
    }

    /// @dev A copy (memory structs are assigned by reference).
    function _copy(RootMessage memory m) internal pure returns (RootMessage memory) {
        return
            RootMessage({
                campaignId: m.campaignId,
                root: m.root,
                total: m.total,
                evidenceRoot: m.evidenceRoot,
                epoch: m.epoch,
                cutoff: m.cutoff,
                version: m.version
            });
    }

    function _rootDigest(address distributor, RootMessage memory m) internal view returns (bytes32) {
        return
            _typed(
                distributor,
                keccak256(
                    abi.encode(
                        EPOCH_ROOT_TYPEHASH,
                        m.campaignId,
                        m.epoch,
                        m.root,
                        m.total,
                        m.evidenceRoot,
                        m.cutoff,
                        m.version
                    )
                )
            );
    }

    function _receiptDigest(
        address distributor,
        bytes32 recordHash,
        uint64 epoch,
        uint64 time
    ) internal view returns (bytes32) {
        return _typed(distributor, keccak256(abi.encode(RECEIPT_TYPEHASH, recordHash, epoch, time)));
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }
}

/// @dev The real `BankToken` (behind its proxy, minted through a `TrustAccount` under a `ReserveLedger`), with a
///      compliance officer who can freeze accounts.
abstract contract RewardTokenSetup is RewardSigning {
    uint8 internal constant DECIMALS = 2;
    uint48 internal constant ADMIN_DELAY = 3 days;

    IBankToken internal token;
    ReserveLedger internal ledger;
    TrustAccount internal trust;
    address internal tokenAdmin = makeAddr("tokenAdmin");
    address internal depositor = makeAddr("depositor");
    address internal compliance = makeAddr("compliance");
    uint256 private _refs;

    function _deployToken() internal {
        address minterAdmin = makeAddr("minterAdmin");
        address reserveAdmin = makeAddr("reserveAdmin");
        address attestor = makeAddr("attestor");
        BankToken implementation = new BankToken();
        bytes memory init = abi.encodeCall(
            IBankToken.initialize,
            ("Bank USD", "bUSD", bytes3("USD"), DECIMALS, 1e30, IIssuanceGate(address(0)), tokenAdmin, ADMIN_DELAY)
        );
        token = IBankToken(address(new ERC1967Proxy(address(implementation), init)));
        ledger = new ReserveLedger(tokenAdmin, ADMIN_DELAY, address(token), DECIMALS);
        trust = new TrustAccount(tokenAdmin, ADMIN_DELAY, ITrustAccountToken(address(token)));
        vm.startPrank(tokenAdmin);
        token.setIssuanceGate(ledger);
        IAccessControl(address(token)).grantRole(token.MINTER_ADMIN_ROLE(), minterAdmin);
        IAccessControl(address(token)).grantRole(token.COMPLIANCE_ROLE(), compliance);
        ledger.grantRole(ledger.RESERVE_ADMIN_ROLE(), reserveAdmin);
        ledger.grantRole(ledger.ATTESTOR_ROLE(), attestor);
        trust.grantRole(trust.DEPOSITOR_ROLE(), depositor);
        vm.stopPrank();
        vm.prank(minterAdmin);
        token.configureMinter(address(trust), 1e15);
        vm.prank(reserveAdmin);
        ledger.registerIssuer(address(trust), 10_000, 1 days);
        vm.prank(attestor);
        ledger.attestReserve(address(trust), 1e15, block.timestamp);
    }

    /// @dev Mints `amount` to `to` through the trust account (a fiat deposit with a fresh reference). The reserve
    ///      attestation is a day old at most: mint at set-up.
    function _mint(address to, uint256 amount) internal {
        vm.prank(depositor);
        trust.mintForDeposit(to, amount, keccak256(abi.encode("fiat", ++_refs)));
    }
}

/// @dev A `RewardDistributor` on the real `BankToken` (behind its proxy, minted through a `TrustAccount` under a
///      `ReserveLedger`), three oracles (threshold 2), two registered producers and a third not registered, and one
///      funded campaign over epochs 0..9.
abstract contract RewardDistributorFixture is RewardTokenSetup {
    /// @dev A root built by the fixture: its message, producer tree leaves and evidence leaves.
    struct Built {
        RootMessage message;
        bytes32[] producerIds;
        uint256[] cumulatives;
        bytes32[] producerLeaves;
        bytes32[] evidenceFrom;
        bytes32[] evidenceTo;
        bytes32[] evidenceLeaves;
    }

    uint256 internal constant T0 = 1_700_000_000;
    uint64 internal constant EPOCH = 1 days;
    uint64 internal constant WINDOW = 2 days;
    uint256 internal constant BUDGET = 1_000_00;
    uint256 internal constant FUNDS = 5_000_00;
    uint64 internal constant LAST_EPOCH = 9;
    bytes32 internal constant SALT = keccak256("campaign-1");
    bytes32 internal constant TERMS = keccak256("terms v1");
    bytes32 internal constant P1 = keccak256("producer-1");
    bytes32 internal constant P2 = keccak256("producer-2");
    bytes32 internal constant P3 = keccak256("producer-3");
    bytes32 internal constant ONES = bytes32(type(uint256).max);

    RewardDistributor internal dist;

    address internal admin = makeAddr("admin");
    address internal oracleAdmin = makeAddr("oracleAdmin");
    address internal registrar = makeAddr("registrar");
    address internal pauser = makeAddr("pauser");
    address internal sponsor = makeAddr("sponsor");
    address internal stranger = makeAddr("stranger");
    address internal account1 = makeAddr("account1");
    address internal account2 = makeAddr("account2");
    address internal account3 = makeAddr("account3");
    /// @dev The oracles, ascending by address, and their keys.
    address[3] internal oracle;
    uint256[3] internal oracleKey;
    address internal outsider;
    uint256 internal outsiderKey;
    bytes32 internal campaignId;

    function setUp() public virtual {
        vm.warp(T0);
        _deployToken();
        _sortOracles();
        (outsider, outsiderKey) = makeAddrAndKey("outsider");
        dist = _deployDistributor(IERC20(address(token)));
        _mint(sponsor, 100 * FUNDS);
        campaignId = _createCampaign(sponsor, SALT, FUNDS);
    }

    function _sortOracles() internal {
        string[3] memory names = ["oracleA", "oracleB", "oracleC"];
        for (uint256 i; i < 3; ++i) (oracle[i], oracleKey[i]) = makeAddrAndKey(names[i]);
        for (uint256 i; i < 3; ++i) {
            for (uint256 j = i + 1; j < 3; ++j) {
                if (oracle[j] < oracle[i]) {
                    (oracle[i], oracle[j]) = (oracle[j], oracle[i]);
                    (oracleKey[i], oracleKey[j]) = (oracleKey[j], oracleKey[i]);
                }
            }
        }
    }

    /// @dev A distributor on `token_` with the fixture's roles, oracles (2 of 3) and producers P1, P2.
    function _deployDistributor(IERC20 token_) internal returns (RewardDistributor d) {
        d = new RewardDistributor(token_, admin, ADMIN_DELAY, uint64(T0), EPOCH, WINDOW);
        vm.startPrank(admin);
        d.grantRole(d.ORACLE_ADMIN_ROLE(), oracleAdmin);
        d.grantRole(d.REGISTRAR_ROLE(), registrar);
        d.grantRole(d.PAUSER_ROLE(), pauser);
        vm.stopPrank();
        vm.prank(oracleAdmin);
        d.setOracles(_oracleList(), 2);
        vm.startPrank(registrar);
        d.registerProducer(P1, account1);
        d.registerProducer(P2, account2);
        vm.stopPrank();
    }

    function _oracleList() internal view returns (address[] memory list) {
        list = new address[](3);
        for (uint256 i; i < 3; ++i) list[i] = oracle[i];
    }

    function _deadline() internal view returns (uint64) {
        return uint64(dist.epochEnd(LAST_EPOCH) + WINDOW + 30 days);
    }

    function _createCampaign(address who, bytes32 salt, uint256 amount) internal returns (bytes32 id) {
        vm.startPrank(who);
        token.approve(address(dist), amount);
        id = dist.createCampaign(salt, BUDGET, 0, LAST_EPOCH, _deadline(), TERMS, amount);
        vm.stopPrank();
    }

    /// @dev A record hash: the digest of a playback of `n` (a real record's hash on this distributor).
    function _record(uint256 n) internal view returns (bytes32) {
        return dist.hashPlayback(keccak256(abi.encode("content", n)), P1, keccak256("venue"), uint64(T0 + n), 30);
    }

    function _ids2() internal pure returns (bytes32[] memory ids) {
        ids = new bytes32[](2);
        ids[0] = P1;
        ids[1] = P2;
    }

    function _amounts2(uint256 a, uint256 b) internal pure returns (uint256[] memory amounts) {
        amounts = new uint256[](2);
        amounts[0] = a;
        amounts[1] = b;
    }

    /// @dev Builds a root of `campaignId_` up to `epoch` over the producers' cumulatives and the evidence `hashes`
    ///      (sorted here, duplicates kept), the cutoff at the current time, under the current oracle set version.
    function _build(
        bytes32 campaignId_,
        uint64 epoch,
        bytes32[] memory ids,
        uint256[] memory cumulatives,
        bytes32[] memory hashes
    ) internal view returns (Built memory b) {
        (bytes32[] memory from, bytes32[] memory to) = TestMerkle.listPairs(TestMerkle.sort(hashes));
        b = _buildPairs(campaignId_, epoch, ids, cumulatives, from, to);
    }

    /// @dev As `_build`, with the evidence leaves given as pairs (`from[i]`, `to[i]`) at positions 0..n-1, as is.
    function _buildPairs(
        bytes32 campaignId_,
        uint64 epoch,
        bytes32[] memory ids,
        uint256[] memory cumulatives,
        bytes32[] memory from,
        bytes32[] memory to
    ) internal view returns (Built memory b) {
        b.producerIds = ids;
        b.cumulatives = cumulatives;
        b.producerLeaves = new bytes32[](ids.length);
        uint256 total;
        for (uint256 i; i < ids.length; ++i) {
            b.producerLeaves[i] = TestMerkle.producerLeaf(ids[i], cumulatives[i]);
            total += cumulatives[i];
        }
        b.evidenceFrom = from;
        b.evidenceTo = to;
        b.evidenceLeaves = TestMerkle.pairLeaves(from, to);
        b.message = RootMessage({
            campaignId: campaignId_,
            epoch: epoch,
            root: ids.length == 0 ? bytes32(0) : TestMerkle.root(b.producerLeaves),
            total: total,
            evidenceRoot: TestMerkle.positionalRoot(b.evidenceLeaves),
            cutoff: uint64(block.timestamp),
            version: dist.oracleSetVersion()
        });
    }

    /// @dev Signatures over `m` by the oracles at `indices` (in that order).
    function _sigs(RootMessage memory m, uint256[] memory indices) internal view returns (bytes[] memory sigs) {
        bytes32 digest = _rootDigest(address(dist), m);
        sigs = new bytes[](indices.length);
        for (uint256 i; i < indices.length; ++i) sigs[i] = _sign(oracleKey[indices[i]], digest);
    }

    function _pair(uint256 a, uint256 b) internal pure returns (uint256[] memory indices) {
        indices = new uint256[](2);
        indices[0] = a;
        indices[1] = b;
    }

    function _propose(RootMessage memory m, bytes[] memory sigs) internal {
        dist.proposeRoot(m.campaignId, m.epoch, m.root, m.total, m.evidenceRoot, m.cutoff, sigs);
    }

    /// @dev Warps to the end of `epoch` if before it, builds the root and proposes it signed by oracles 0 and 1.
    function _proposeAt(
        uint64 epoch,
        uint256 cumulative1,
        uint256 cumulative2,
        bytes32[] memory hashes
    ) internal returns (Built memory b) {
        uint256 end = dist.epochEnd(epoch);
        if (block.timestamp < end) vm.warp(end);
        b = _build(campaignId, epoch, _ids2(), _amounts2(cumulative1, cumulative2), hashes);
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
    }

    /// @dev Proposes and waits out the window, then finalizes.
    function _finalAt(
        uint64 epoch,
        uint256 cumulative1,
        uint256 cumulative2,
        bytes32[] memory hashes
    ) internal returns (Built memory b) {
        b = _proposeAt(epoch, cumulative1, cumulative2, hashes);
        vm.warp(block.timestamp + WINDOW);
        dist.finalize(campaignId);
    }

    function _producerProof(Built memory b, uint256 index) internal pure returns (bytes32[] memory) {
        return TestMerkle.proof(b.producerLeaves, index);
    }

    function _evidenceProof(Built memory b, uint256 index) internal pure returns (bytes32[] memory) {
        return TestMerkle.positionalProof(b.evidenceLeaves, index);
    }

    /// @dev The evidence leaf of `b` at `index`, with its proof.
    function _evidenceLeaf(
        Built memory b,
        uint256 index
    ) internal pure returns (IRewardDistributor.EvidenceLeaf memory) {
        return
            IRewardDistributor.EvidenceLeaf({
                count: b.evidenceLeaves.length,
                index: index,
                hash: b.evidenceFrom[index],
                next: b.evidenceTo[index],
                proof: _evidenceProof(b, index)
            });
    }

    /// @dev As `_evidenceLeaf`, claiming the leaf (`hash`, `next`) at `index` with that position's proof.
    function _evidenceLeafAs(
        Built memory b,
        uint256 index,
        bytes32 hash,
        bytes32 next
    ) internal pure returns (IRewardDistributor.EvidenceLeaf memory leaf) {
        leaf = _evidenceLeaf(b, index);
        leaf.hash = hash;
        leaf.next = next;
    }

    function _hashes(bytes32 a, bytes32 b) internal pure returns (bytes32[] memory list) {
        list = new bytes32[](2);
        list[0] = a;
        list[1] = b;
    }

    function _noHashes() internal pure returns (bytes32[] memory) {
        return new bytes32[](0);
    }
}
