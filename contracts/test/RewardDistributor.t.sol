// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
// solhint-disable-next-line no-console
import {console2} from "forge-std/console2.sol";

import {RewardDistributor} from "../rewards/RewardDistributor.sol";
import {IRewardDistributor} from "../rewards/interfaces/IRewardDistributor.sol";
import {IBankToken} from "../token/interfaces/IBankToken.sol";
import {RewardDistributorFixture, RewardSigning, TestMerkle} from "./utils/RewardDistributorFixture.sol";

/// @dev A token that calls back into the distributor from its transfers once armed (BankToken has no callback;
///      the guard is there anyway).
contract ReenteringToken is ERC20 {
    address public target;
    bytes public callData;

    constructor() ERC20("Reentering", "RE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(address target_, bytes calldata callData_) external {
        target = target_;
        callData = callData_;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address t = target;
        if (t != address(0)) {
            target = address(0);
            // solhint-disable-next-line avoid-low-level-calls
            (bool ok, bytes memory reason) = t.call(callData);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(reason, 0x20), mload(reason))
                }
            }
        }
    }
}

/// @dev Code that would approve any signature under ERC-1271 (an EIP-7702 delegate or a contract oracle).
contract ApproveAnything1271 is IERC1271 {
    function isValidSignature(bytes32, bytes calldata) external pure returns (bytes4) {
        return IERC1271.isValidSignature.selector;
    }
}

/// @dev `RewardDistributor` on the real BankToken. Attacks first.
contract RewardDistributorTest is RewardDistributorFixture {
    /// @dev The evidence root of the record hashes 0x..01, 0x..02, 0x..03 (the TypeScript side asserts the same
    ///      constant; also computed with ethers): count 4, depth 2, leaves (0,1), (1,2), (2,3), (3,~0).
    bytes32 internal constant KAT_EVIDENCE_ROOT = 0x1462229d50820d7f9f21675bd2e14996c302fb04ee3d8841575b2c80b6108468;

    // ---------------------------------------------------------------- helpers

    /// @dev Three record hashes, ascending.
    function _three() internal view returns (bytes32 s1, bytes32 s2, bytes32 s3) {
        bytes32[] memory h = new bytes32[](3);
        for (uint256 i; i < 3; ++i) h[i] = _record(i + 1);
        h = TestMerkle.sort(h);
        (s1, s2, s3) = (h[0], h[1], h[2]);
    }

    /// @dev A root for epoch 0 whose evidence omits `s2` (leaves (0,s1), (s1,s3), (s3,~0)).
    function _proposeOmitting() internal returns (Built memory b, bytes32 s1, bytes32 s2, bytes32 s3) {
        (s1, s2, s3) = _three();
        b = _proposeAt(0, 100, 200, _hashes(s1, s3));
    }

    function _receipt(uint256 key, bytes32 recordHash, uint64 epoch, uint64 time) internal view returns (bytes memory) {
        return _sign(key, _receiptDigest(address(dist), recordHash, epoch, time));
    }

    function _challengeOmission(
        bytes32 recordHash,
        uint64 recordEpoch,
        uint64 time,
        bytes memory receipt,
        Built memory b,
        uint256 leafIndex,
        bytes32 leafHash,
        bytes32 leafNext
    ) internal {
        dist.challengeOmission(
            campaignId,
            recordHash,
            recordEpoch,
            time,
            receipt,
            _evidenceLeafAs(b, leafIndex, leafHash, leafNext)
        );
    }

    function _expectSignerNotOracle(bytes32 digest, bytes memory signature) internal {
        address recovered = ECDSA.recover(digest, signature);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardSignerNotOracle.selector, 0, recovered));
    }

    /// @dev Expects the revert a proposal gets for `signature` at `index` after `previous`: malformed, out of order,
    ///      or a signer that is no oracle.
    function _expectRejected(bytes32 digest, bytes memory signature, uint256 index, address previous) internal {
        (address recovered, ECDSA.RecoverError error, ) = ECDSA.tryRecover(digest, signature);
        if (error != ECDSA.RecoverError.NoError) {
            vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardInvalidSignature.selector, index));
        } else if (recovered <= previous) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IRewardDistributor.RewardSignersNotAscending.selector,
                    index,
                    recovered,
                    previous
                )
            );
        } else {
            vm.expectRevert(
                abi.encodeWithSelector(IRewardDistributor.RewardSignerNotOracle.selector, index, recovered)
            );
        }
    }

    function _claimFor(Built memory b, uint256 index) internal {
        dist.claimFor(campaignId, b.producerIds[index], b.cumulatives[index], _producerProof(b, index));
    }

    // ---------------------------------------------------------------- attacks: proposing

    function test_A1_proposeWithTooFewSignaturesIsRefused() public {
        vm.warp(dist.epochEnd(0));
        Built memory b = _build(campaignId, 0, _ids2(), _amounts2(1, 2), _noHashes());
        uint256[] memory one = new uint256[](1);
        bytes[] memory sigs = _sigs(b.message, one);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardTooFewSignatures.selector, 1, 2));
        _propose(b.message, sigs);
    }

    function test_A2_proposeWithTheSameOracleTwiceIsRefused() public {
        vm.warp(dist.epochEnd(0));
        Built memory b = _build(campaignId, 0, _ids2(), _amounts2(1, 2), _noHashes());
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardSignersNotAscending.selector, 1, oracle[1], oracle[1])
        );
        _propose(b.message, _sigs(b.message, _pair(1, 1)));
    }

    function test_A3_proposeWithUnsortedSignersIsRefused() public {
        vm.warp(dist.epochEnd(0));
        Built memory b = _build(campaignId, 0, _ids2(), _amounts2(1, 2), _noHashes());
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardSignersNotAscending.selector, 1, oracle[0], oracle[2])
        );
        _propose(b.message, _sigs(b.message, _pair(2, 0)));
    }

    function test_A4_proposeWithANonOracleSignatureIsRefused() public {
        vm.warp(dist.epochEnd(0));
        Built memory b = _build(campaignId, 0, _ids2(), _amounts2(1, 2), _noHashes());
        bytes32 digest = _rootDigest(address(dist), b.message);
        bytes[] memory sigs = new bytes[](2);
        // Whatever the order, the outsider is refused as not an oracle (or the pair as unsorted).
        (uint256 first, uint256 second) = outsider < oracle[0]
            ? (outsiderKey, oracleKey[0])
            : (oracleKey[0], outsiderKey);
        sigs[0] = _sign(first, digest);
        sigs[1] = _sign(second, digest);
        uint256 index = outsider < oracle[0] ? 0 : 1;
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardSignerNotOracle.selector, index, outsider));
        _propose(b.message, sigs);
        // Three signatures with the outsider among them: still refused.
        bytes[] memory three = new bytes[](3);
        three[0] = sigs[0];
        three[1] = sigs[1];
        three[2] = _sign(oracleKey[2], digest);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardSignerNotOracle.selector, index, outsider));
        _propose(b.message, three);
    }

    function test_A5_signaturesUnderAnOldOracleSetVersionAreRefused() public {
        vm.warp(dist.epochEnd(0));
        Built memory b = _build(campaignId, 0, _ids2(), _amounts2(1, 2), _noHashes());
        bytes[] memory oldSigs = _sigs(b.message, _pair(0, 1));
        // Same oracles, new version: the old signatures are over another message.
        vm.prank(oracleAdmin);
        dist.setOracles(_oracleList(), 2);
        RootMessage memory asNow = _copy(b.message);
        asNow.version = 2;
        _expectSignerNotOracle(_rootDigest(address(dist), asNow), oldSigs[0]);
        _propose(b.message, oldSigs);
        // A removed oracle cannot sign under the new version either.
        address[] memory two = new address[](2);
        two[0] = oracle[1];
        two[1] = oracle[2];
        vm.prank(oracleAdmin);
        dist.setOracles(two, 2);
        asNow.version = 3;
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardSignerNotOracle.selector, 0, oracle[0]));
        _propose(asNow, _sigs(asNow, _pair(0, 1)));
        // The new set's own signatures pass.
        _propose(asNow, _sigs(asNow, _pair(1, 2)));
        assertEq(dist.pendingRootOf(campaignId).oracleSetVersion, 3);
    }

    function test_A6_rootSignatureReplayedForAnotherCampaignOrEpochIsRefused() public {
        bytes32 other = _createCampaign(sponsor, keccak256("campaign-2"), FUNDS);
        vm.warp(dist.epochEnd(1));
        Built memory b = _build(campaignId, 0, _ids2(), _amounts2(1, 2), _noHashes());
        bytes[] memory sigs = _sigs(b.message, _pair(0, 1));
        RootMessage memory replay = _copy(b.message);
        replay.campaignId = other;
        _expectSignerNotOracle(_rootDigest(address(dist), replay), sigs[0]);
        _propose(replay, sigs);
        replay = _copy(b.message);
        replay.epoch = 1;
        _expectSignerNotOracle(_rootDigest(address(dist), replay), sigs[0]);
        _propose(replay, sigs);
        // Every field is signed: the cutoff, the evidence root, the total.
        replay = _copy(b.message);
        replay.cutoff -= 1;
        _expectSignerNotOracle(_rootDigest(address(dist), replay), sigs[0]);
        _propose(replay, sigs);
        replay = _copy(b.message);
        replay.evidenceRoot = keccak256("other evidence");
        _expectSignerNotOracle(_rootDigest(address(dist), replay), sigs[0]);
        _propose(replay, sigs);
        _propose(b.message, sigs);
    }

    function test_A7_rootSignatureReplayedOnAnotherChainOrContractIsRefused() public {
        vm.warp(dist.epochEnd(0));
        Built memory b = _build(campaignId, 0, _ids2(), _amounts2(1, 2), _noHashes());
        bytes[] memory sigs = _sigs(b.message, _pair(0, 1));
        // Another distributor with the same oracles and the same campaign id (same sponsor and salt).
        RewardDistributor twin = _deployDistributor(IERC20(address(token)));
        vm.startPrank(sponsor);
        token.approve(address(twin), FUNDS);
        bytes32 twinId = twin.createCampaign(SALT, BUDGET, 0, LAST_EPOCH, _deadline(), TERMS, FUNDS);
        vm.stopPrank();
        assertEq(twinId, campaignId);
        address recovered = ECDSA.recover(_rootDigest(address(twin), b.message), sigs[0]);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardSignerNotOracle.selector, 0, recovered));
        twin.proposeRoot(
            campaignId,
            0,
            b.message.root,
            b.message.total,
            b.message.evidenceRoot,
            b.message.cutoff,
            sigs
        );
        // Another chain id: the domain changes.
        uint256 chainId = block.chainid;
        vm.chainId(chainId + 1);
        _expectSignerNotOracle(_rootDigest(address(dist), b.message), sigs[0]);
        _propose(b.message, sigs);
        vm.chainId(chainId);
        _propose(b.message, sigs);
    }

    function test_A8_receiptSignatureIsNotAnEpochRootSignatureAndViceVersa() public {
        vm.warp(dist.epochEnd(0));
        Built memory b = _build(campaignId, 0, _ids2(), _amounts2(1, 2), _noHashes());
        // A receipt over the epoch root's own digest words, signed by two oracles: not a root signature.
        bytes32 receiptDigest = _receiptDigest(address(dist), b.message.root, 0, b.message.cutoff);
        bytes[] memory sigs = new bytes[](2);
        sigs[0] = _sign(oracleKey[0], receiptDigest);
        sigs[1] = _sign(oracleKey[1], receiptDigest);
        _expectSignerNotOracle(_rootDigest(address(dist), b.message), sigs[0]);
        _propose(b.message, sigs);

        // A root signature used as a receipt: its signer recovers to no root signer.
        (Built memory omitting, bytes32 s1, bytes32 s2, bytes32 s3) = _proposeOmitting();
        bytes memory rootSig = _sigs(omitting.message, _pair(0, 1))[0];
        uint64 time = omitting.message.cutoff;
        address recovered = ECDSA.recover(_receiptDigest(address(dist), s2, 0, time), rootSig);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardReceiptSignerNotRootSigner.selector, campaignId, recovered)
        );
        _challengeOmission(s2, 0, time, rootSig, omitting, 1, s1, s3);
    }

    function test_A9_totalOverTheBudgetOfTheEpochsCoveredIsRefused() public {
        vm.warp(dist.epochEnd(0));
        Built memory b = _build(campaignId, 0, _ids2(), _amounts2(BUDGET / 2, BUDGET / 2 + 1), _noHashes());
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardOverBudget.selector, BUDGET + 1, BUDGET));
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
        // A first root at epoch 2 covers epochs 0..2: three budgets.
        vm.warp(dist.epochEnd(2));
        b = _build(campaignId, 2, _ids2(), _amounts2(BUDGET, 2 * BUDGET + 1), _noHashes());
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardOverBudget.selector, 3 * BUDGET + 1, 3 * BUDGET)
        );
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
        b = _build(campaignId, 2, _ids2(), _amounts2(BUDGET, 2 * BUDGET), _noHashes());
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
        vm.warp(block.timestamp + WINDOW);
        dist.finalize(campaignId);
        // The next root, at epoch 4, covers 3..4: two budgets more than the final total.
        vm.warp(dist.epochEnd(4));
        vm.startPrank(sponsor);
        token.approve(address(dist), FUNDS);
        dist.fund(campaignId, FUNDS);
        vm.stopPrank();
        b = _build(campaignId, 4, _ids2(), _amounts2(2 * BUDGET, 3 * BUDGET + 1), _noHashes());
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardOverBudget.selector, 2 * BUDGET + 1, 2 * BUDGET)
        );
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
        b = _build(campaignId, 4, _ids2(), _amounts2(2 * BUDGET, 3 * BUDGET), _noHashes());
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
    }

    function test_A10_totalOverFundedOrBelowTheFinalTotalIsRefused() public {
        bytes32 small = _createCampaign(sponsor, keccak256("small"), 10);
        vm.warp(dist.epochEnd(0));
        Built memory b = _build(small, 0, _ids2(), _amounts2(5, 6), _noHashes());
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardOverFunded.selector, 11, 10));
        _propose(b.message, _sigs(b.message, _pair(0, 1)));

        _finalAt(0, 100, 200, _noHashes());
        vm.warp(dist.epochEnd(1));
        b = _build(campaignId, 1, _ids2(), _amounts2(100, 199), _noHashes());
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardTotalDecreased.selector, 299, 300));
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
    }

    function test_A11_epochNotEndedOrOutOfRangeIsRefused() public {
        uint256 end = dist.epochEnd(0);
        vm.warp(end - 1);
        Built memory b = _build(campaignId, 0, _ids2(), _amounts2(1, 2), _noHashes());
        b.message.cutoff = uint64(end - 1);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardEpochNotEnded.selector, 0, end, end - 1));
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
        // Beyond the campaign's last epoch.
        vm.warp(dist.epochEnd(LAST_EPOCH + 1));
        b = _build(campaignId, LAST_EPOCH + 1, _ids2(), _amounts2(1, 2), _noHashes());
        vm.expectRevert(
            abi.encodeWithSelector(
                IRewardDistributor.RewardEpochOutOfRange.selector,
                campaignId,
                LAST_EPOCH + 1,
                0,
                LAST_EPOCH
            )
        );
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
    }

    function test_A12_epochBeforeTheFirstOrNotAfterTheFinalIsRefused() public {
        vm.startPrank(sponsor);
        token.approve(address(dist), FUNDS);
        bytes32 late = dist.createCampaign(keccak256("late"), BUDGET, 3, LAST_EPOCH, _deadline(), TERMS, FUNDS);
        vm.stopPrank();
        vm.warp(dist.epochEnd(3));
        Built memory b = _build(late, 2, _ids2(), _amounts2(1, 2), _noHashes());
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardEpochOutOfRange.selector, late, 2, 3, LAST_EPOCH)
        );
        _propose(b.message, _sigs(b.message, _pair(0, 1)));

        _finalAt(1, 1, 2, _noHashes());
        b = _build(campaignId, 1, _ids2(), _amounts2(1, 2), _noHashes());
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardEpochOutOfRange.selector, campaignId, 1, 2, LAST_EPOCH)
        );
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
    }

    function test_A13_cutoffOutOfRangeIsRefused() public {
        uint256 end = dist.epochEnd(0);
        vm.warp(end + 100);
        Built memory b = _build(campaignId, 0, _ids2(), _amounts2(1, 2), _noHashes());
        b.message.cutoff = uint64(end - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardCutoffOutOfRange.selector, end - 1, end, end + 100)
        );
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
        b.message.cutoff = uint64(end + 101);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardCutoffOutOfRange.selector, end + 101, end, end + 100)
        );
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
        // The bounds themselves are fine.
        b.message.cutoff = uint64(end);
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
    }

    function test_A14_secondProposeWhilePendingIsRefused() public {
        Built memory b = _proposeAt(0, 1, 2, _noHashes());
        uint256 finalizesAt = block.timestamp + WINDOW;
        vm.warp(dist.epochEnd(1));
        Built memory next = _build(campaignId, 1, _ids2(), _amounts2(1, 2), _noHashes());
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardRootPending.selector, campaignId, 0, finalizesAt)
        );
        _propose(next.message, _sigs(next.message, _pair(0, 1)));
        // Not even the same root again.
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardRootPending.selector, campaignId, 0, finalizesAt)
        );
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
        // Past the window the pending root is finalized first, lazily, and the next is taken.
        vm.warp(finalizesAt);
        next = _build(campaignId, 1, _ids2(), _amounts2(1, 2), _noHashes());
        vm.expectEmit(address(dist));
        emit IRewardDistributor.RootFinalized(campaignId, 0, b.message.root, 3);
        _propose(next.message, _sigs(next.message, _pair(0, 1)));
        assertEq(dist.finalizedRootOf(campaignId).epoch, 0);
        assertEq(dist.pendingRootOf(campaignId).epoch, 1);
    }

    function test_A15_malformedRootsAndSignaturesAreRefused() public {
        vm.warp(dist.epochEnd(0));
        Built memory b = _build(campaignId, 0, _ids2(), _amounts2(1, 2), _noHashes());
        RootMessage memory m = _copy(b.message);
        m.evidenceRoot = bytes32(0);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardInvalidRoot.selector, m.root, 3, bytes32(0)));
        _propose(m, _sigs(m, _pair(0, 1)));
        m = _copy(b.message);
        m.root = bytes32(0);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardInvalidRoot.selector, bytes32(0), 3, m.evidenceRoot)
        );
        _propose(m, _sigs(m, _pair(0, 1)));
        // A 64-byte (ERC-2098) signature and a high-s one are malformed.
        bytes[] memory sigs = _sigs(b.message, _pair(0, 1));
        bytes memory whole = sigs[1];
        bytes32 r;
        bytes32 s;
        assembly ("memory-safe") {
            r := mload(add(whole, 0x20))
            s := mload(add(whole, 0x40))
        }
        uint8 v = uint8(whole[64]);
        bytes32 vs = bytes32(uint256(s) | (uint256(v - 27) << 255));
        sigs[1] = abi.encodePacked(r, vs);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardInvalidSignature.selector, 1));
        _propose(b.message, sigs);
        uint256 n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
        sigs[1] = abi.encodePacked(r, bytes32(n - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardInvalidSignature.selector, 1));
        _propose(b.message, sigs);
        // An unknown campaign.
        m = _copy(b.message);
        m.campaignId = keccak256("nope");
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardUnknownCampaign.selector, m.campaignId));
        _propose(m, _sigs(m, _pair(0, 1)));
    }

    function test_A16_noOracleSetAcceptsNoRoot() public {
        RewardDistributor bare = new RewardDistributor(
            IERC20(address(token)),
            admin,
            ADMIN_DELAY,
            uint64(T0),
            EPOCH,
            WINDOW
        );
        vm.startPrank(sponsor);
        token.approve(address(bare), 10);
        bytes32 id = bare.createCampaign(SALT, BUDGET, 0, LAST_EPOCH, _deadline(), TERMS, 10);
        vm.stopPrank();
        vm.warp(dist.epochEnd(0));
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardTooFewSignatures.selector, 0, 0));
        bare.proposeRoot(id, 0, bytes32(0), 0, keccak256("e"), uint64(block.timestamp), new bytes[](0));
    }

    function test_A17_campaignIdCannotBeSquatted() public {
        address mallory = makeAddr("mallory");
        _mint(mallory, 10);
        bytes32 salt = keccak256("campaign-7");
        bytes32 expected = dist.campaignIdOf(sponsor, salt);
        assertEq(expected, keccak256(abi.encode(sponsor, salt)));
        // Mallory front-runs with the sponsor's salt: she gets her own id.
        vm.startPrank(mallory);
        token.approve(address(dist), 10);
        bytes32 hers = dist.createCampaign(salt, 1, 0, 0, _deadline(), TERMS, 10);
        vm.stopPrank();
        assertEq(hers, keccak256(abi.encode(mallory, salt)));
        assertTrue(hers != expected);
        assertEq(_createCampaign(sponsor, salt, 10), expected);
        assertEq(dist.campaignOf(expected).sponsor, sponsor);
        assertEq(dist.campaignOf(expected).budgetPerEpoch, BUDGET);
        // The same sponsor and salt twice: refused.
        uint64 deadline = _deadline();
        vm.startPrank(sponsor);
        token.approve(address(dist), 10);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardCampaignExists.selector, expected));
        dist.createCampaign(salt, BUDGET, 0, LAST_EPOCH, deadline, TERMS, 10);
        vm.stopPrank();
    }

    function test_A18_signerWithCodeIsStillCheckedByEcdsaOnly() public {
        // EIP-7702: oracle 0's address now has code that would approve anything under ERC-1271.
        vm.etch(oracle[0], address(new ApproveAnything1271()).code);
        vm.warp(dist.epochEnd(0));
        Built memory b = _build(campaignId, 0, _ids2(), _amounts2(1, 2), _noHashes());
        bytes[] memory sigs = _sigs(b.message, _pair(0, 1));
        // Its real signature is still accepted, and a garbage one is not, whatever its code says.
        bytes[] memory forged = new bytes[](2);
        forged[0] = abi.encodePacked(bytes32(uint256(1)), bytes32(uint256(2)), uint8(27));
        forged[1] = sigs[1];
        vm.expectCall(oracle[0], abi.encodeWithSelector(IERC1271.isValidSignature.selector), 0);
        _expectRejected(_rootDigest(address(dist), b.message), forged[0], 0, address(0));
        _propose(b.message, forged);
        _propose(b.message, sigs);
        assertEq(dist.pendingRootOf(campaignId).signers[0], oracle[0]);
    }

    function test_A19_contractOracleCannotApproveBySignatureCheck() public {
        address wallet = address(new ApproveAnything1271());
        address[] memory set = new address[](2);
        (set[0], set[1]) = wallet < oracle[0] ? (wallet, oracle[0]) : (oracle[0], wallet);
        vm.prank(oracleAdmin);
        dist.setOracles(set, 2);
        vm.warp(dist.epochEnd(0));
        Built memory b = _build(campaignId, 0, _ids2(), _amounts2(1, 2), _noHashes());
        bytes32 digest = _rootDigest(address(dist), b.message);
        bytes memory garbage = abi.encodePacked(keccak256("r"), keccak256("s"), uint8(27));
        bytes[] memory sigs = new bytes[](2);
        sigs[wallet < oracle[0] ? 0 : 1] = garbage;
        sigs[wallet < oracle[0] ? 1 : 0] = _sign(oracleKey[0], digest);
        vm.expectCall(wallet, abi.encodeWithSelector(IERC1271.isValidSignature.selector), 0);
        if (wallet < oracle[0]) _expectRejected(digest, garbage, 0, address(0));
        else _expectRejected(digest, garbage, 1, oracle[0]);
        _propose(b.message, sigs);
    }

    // ---------------------------------------------------------------- finalization

    function test_finalize_boundaryAtTheWindowEnd() public {
        (Built memory b, bytes32 s1, bytes32 s2, bytes32 s3) = _proposeOmitting();
        uint256 proposedAt = block.timestamp;
        vm.warp(proposedAt + WINDOW - 1);
        // Still pending and challengeable.
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardNotFinalizable.selector, campaignId, proposedAt + WINDOW)
        );
        dist.finalize(campaignId);
        assertFalse(dist.finalizedRootOf(campaignId).exists);
        assertEq(dist.pendingRootOf(campaignId).proposedAt, proposedAt);
        uint256 snapshot = vm.snapshotState();
        bytes memory receipt = _receipt(oracleKey[0], s2, 0, b.message.cutoff);
        _challengeOmission(s2, 0, b.message.cutoff, receipt, b, 1, s1, s3);
        assertEq(dist.pendingRootOf(campaignId).proposedAt, 0);
        vm.revertToState(snapshot);
        // At the window's end: final for every purpose, no longer challengeable.
        vm.warp(proposedAt + WINDOW);
        assertTrue(dist.finalizedRootOf(campaignId).exists);
        assertEq(dist.pendingRootOf(campaignId).proposedAt, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRewardDistributor.RewardChallengeWindowClosed.selector,
                campaignId,
                proposedAt + WINDOW,
                proposedAt + WINDOW
            )
        );
        _challengeOmission(s2, 0, b.message.cutoff, receipt, b, 1, s1, s3);
        vm.expectEmit(address(dist));
        emit IRewardDistributor.RootFinalized(campaignId, 0, b.message.root, 300);
        dist.finalize(campaignId);
        IRewardDistributor.FinalizedRoot memory f = dist.finalizedRootOf(campaignId);
        assertEq(f.root, b.message.root);
        assertEq(f.total, 300);
        assertEq(f.epoch, 0);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardNoPendingRoot.selector, campaignId));
        dist.finalize(campaignId);
    }

    function test_finalize_lazilyByTheFirstClaim() public {
        Built memory b = _proposeAt(0, 100, 200, _noHashes());
        vm.warp(block.timestamp + WINDOW);
        vm.expectEmit(address(dist));
        emit IRewardDistributor.RootFinalized(campaignId, 0, b.message.root, 300);
        _claimFor(b, 0);
        assertEq(token.balanceOf(account1), 100);
    }

    // ---------------------------------------------------------------- challenges

    function test_challengeOmission_validVoidsAndTheEpochCanBeProposedAgain() public {
        (Built memory b, bytes32 s1, bytes32 s2, bytes32 s3) = _proposeOmitting();
        address challenger = makeAddr("challenger");
        bytes memory receipt = _receipt(oracleKey[1], s2, 0, b.message.cutoff);
        vm.expectEmit(address(dist));
        emit IRewardDistributor.RootVoided(campaignId, 0, challenger, s2, IRewardDistributor.VoidReason.Omission);
        vm.prank(challenger);
        _challengeOmission(s2, 0, b.message.cutoff, receipt, b, 1, s1, s3);
        assertEq(dist.pendingRootOf(campaignId).proposedAt, 0);
        vm.warp(block.timestamp + WINDOW);
        assertFalse(dist.finalizedRootOf(campaignId).exists);
        // The same epoch again, with the record in: taken, and the omission no longer provable.
        bytes32[] memory all = new bytes32[](3);
        (all[0], all[1], all[2]) = (s1, s2, s3);
        Built memory repaired = _proposeAt(0, 100, 200, all);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardEvidenceProofInvalid.selector, 1, s1, s3));
        _challengeOmission(s2, 0, b.message.cutoff, receipt, b, 1, s1, s3);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardNotOmitted.selector, s2, s1, s2));
        _challengeOmission(s2, 0, b.message.cutoff, receipt, repaired, 1, s1, s2);
    }

    function test_challengeOmission_emptyEvidenceAndAnOldOracleSetVersion() public {
        Built memory b = _proposeAt(0, 100, 200, _noHashes());
        (, bytes32 s2, ) = _three();
        // The oracle set changes after the proposal; the root's own signers' receipts still count.
        address[] memory others = new address[](1);
        others[0] = outsider;
        vm.prank(oracleAdmin);
        dist.setOracles(others, 1);
        bytes memory receipt = _receipt(oracleKey[0], s2, 0, b.message.cutoff);
        _challengeOmission(s2, 0, b.message.cutoff, receipt, b, 0, bytes32(0), ONES);
        assertEq(dist.pendingRootOf(campaignId).proposedAt, 0);
    }

    function test_challengeOmission_frivolousReceiptsRevertAndChangeNothing() public {
        (Built memory b, bytes32 s1, bytes32 s2, bytes32 s3) = _proposeOmitting();
        uint64 cutoff = b.message.cutoff;
        // Oracle 2 is an oracle but did not sign this root.
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardReceiptSignerNotRootSigner.selector, campaignId, oracle[2])
        );
        _challengeOmission(s2, 0, cutoff, _receipt(oracleKey[2], s2, 0, cutoff), b, 1, s1, s3);
        // Not an oracle at all.
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardReceiptSignerNotRootSigner.selector, campaignId, outsider)
        );
        _challengeOmission(s2, 0, cutoff, _receipt(outsiderKey, s2, 0, cutoff), b, 1, s1, s3);
        // Receipted after the cutoff.
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardReceiptAfterCutoff.selector, cutoff + 1, cutoff)
        );
        _challengeOmission(s2, 0, cutoff + 1, _receipt(oracleKey[0], s2, 0, cutoff + 1), b, 1, s1, s3);
        // A record of an epoch the root does not cover.
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardRecordEpochOutOfRange.selector, 1, 0, 0));
        _challengeOmission(s2, 1, cutoff, _receipt(oracleKey[0], s2, 1, cutoff), b, 1, s1, s3);
        // A wrong receipt (its signer is some random address).
        bytes memory other = _receipt(oracleKey[0], s1, 0, cutoff);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRewardDistributor.RewardReceiptSignerNotRootSigner.selector,
                campaignId,
                ECDSA.recover(_receiptDigest(address(dist), s2, 0, cutoff), other)
            )
        );
        _challengeOmission(s2, 0, cutoff, other, b, 1, s1, s3);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardInvalidSignature.selector, 0));
        _challengeOmission(s2, 0, cutoff, hex"1234", b, 1, s1, s3);
        assertEq(dist.pendingRootOf(campaignId).proposedAt, block.timestamp);
    }

    function test_challengeOmission_frivolousLeavesAndLateChallengesRevert() public {
        (Built memory b, bytes32 s1, bytes32 s2, bytes32 s3) = _proposeOmitting();
        uint64 cutoff = b.message.cutoff;
        bytes memory receipt = _receipt(oracleKey[0], s2, 0, cutoff);
        // Hashes not strictly between the leaf's: equal to either end, or outside.
        bytes memory r1 = _receipt(oracleKey[0], s1, 0, cutoff);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardNotOmitted.selector, s1, s1, s3));
        _challengeOmission(s1, 0, cutoff, r1, b, 1, s1, s3);
        bytes memory r3 = _receipt(oracleKey[0], s3, 0, cutoff);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardNotOmitted.selector, s3, s1, s3));
        _challengeOmission(s3, 0, cutoff, r3, b, 1, s1, s3);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardNotOmitted.selector, s2, bytes32(0), s1));
        _challengeOmission(s2, 0, cutoff, receipt, b, 0, bytes32(0), s1);
        // A leaf not in the tree (a made-up span, or a real leaf with a wrong proof).
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardEvidenceProofInvalid.selector, 1, s1, ONES));
        _challengeOmission(s2, 0, cutoff, receipt, b, 1, s1, ONES);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardEvidenceProofInvalid.selector, 2, s1, s3));
        _challengeOmission(s2, 0, cutoff, receipt, b, 2, s1, s3);
        // Nothing changed: the root is pending, and the valid challenge still works.
        assertEq(dist.pendingRootOf(campaignId).proposedAt, block.timestamp);
        uint256 snapshot = vm.snapshotState();
        _challengeOmission(s2, 0, cutoff, receipt, b, 1, s1, s3);
        vm.revertToState(snapshot);
        // After the window.
        vm.warp(block.timestamp + WINDOW);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRewardDistributor.RewardChallengeWindowClosed.selector,
                campaignId,
                block.timestamp,
                block.timestamp
            )
        );
        _challengeOmission(s2, 0, cutoff, receipt, b, 1, s1, s3);
    }

    function test_challengeOmission_recordEpochBeforeTheRootsRangeIsFrivolous() public {
        _finalAt(0, 1, 2, _noHashes());
        (bytes32 s1, bytes32 s2, bytes32 s3) = _three();
        Built memory b = _proposeAt(2, 1, 2, _hashes(s1, s3));
        uint64 cutoff = b.message.cutoff;
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardRecordEpochOutOfRange.selector, 0, 1, 2));
        _challengeOmission(s2, 0, cutoff, _receipt(oracleKey[0], s2, 0, cutoff), b, 1, s1, s3);
        assertEq(dist.pendingRootOf(campaignId).fromEpoch, 1);
        // Epoch 1 is covered (skipped epochs count): valid.
        _challengeOmission(s2, 1, cutoff, _receipt(oracleKey[0], s2, 1, cutoff), b, 1, s1, s3);
        assertEq(dist.pendingRootOf(campaignId).proposedAt, 0);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardNoPendingRoot.selector, campaignId));
        _challengeOmission(s2, 1, cutoff, _receipt(oracleKey[0], s2, 1, cutoff), b, 1, s1, s3);
    }

    function test_challengeMalformedEvidence_aRecordListedTwiceVoids() public {
        (bytes32 s1, bytes32 s2, ) = _three();
        bytes32[] memory list = new bytes32[](3);
        (list[0], list[1], list[2]) = (s1, s2, s2);
        Built memory b = _proposeAt(0, 1, 2, list);
        // Leaves: (0,s1), (s1,s2), (s2,s2), (s2,~0). A claimed leaf (s1,s1) at position 1 is not in the tree.
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardEvidenceProofInvalid.selector, 1, s1, s1));
        dist.challengeMalformedEvidence(campaignId, _evidenceLeafAs(b, 1, s1, s1));
        // The well-formed leaves around it cannot void the root.
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardEvidenceWellFormed.selector, 1, s1, s2));
        dist.challengeMalformedEvidence(campaignId, _evidenceLeaf(b, 1));
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardEvidenceWellFormed.selector, 3, s2, ONES));
        dist.challengeMalformedEvidence(campaignId, _evidenceLeaf(b, 3));
        vm.expectEmit(address(dist));
        emit IRewardDistributor.RootVoided(
            campaignId,
            0,
            address(this),
            s2,
            IRewardDistributor.VoidReason.MalformedLeaf
        );
        dist.challengeMalformedEvidence(campaignId, _evidenceLeaf(b, 2));
        assertEq(dist.pendingRootOf(campaignId).proposedAt, 0);
        // After the window: refused (a new root, same evidence, a later cutoff).
        vm.warp(block.timestamp + 1);
        b = _proposeAt(0, 1, 2, list);
        vm.warp(block.timestamp + WINDOW);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRewardDistributor.RewardChallengeWindowClosed.selector,
                campaignId,
                block.timestamp,
                block.timestamp
            )
        );
        dist.challengeMalformedEvidence(campaignId, _evidenceLeaf(b, 2));
    }

    // ---------------------------------------------------------------- attacks: the evidence list

    /// @dev Two-element pair lists for `_buildPairs`.
    function _pairs2(
        bytes32 a0,
        bytes32 b0,
        bytes32 a1,
        bytes32 b1
    ) internal pure returns (bytes32[] memory from, bytes32[] memory to) {
        from = new bytes32[](2);
        to = new bytes32[](2);
        (from[0], to[0], from[1], to[1]) = (a0, b0, a1, b1);
    }

    /// @dev Proposes at the end of epoch 0 a root whose evidence is the given pairs, as they are.
    function _proposePairs(bytes32[] memory from, bytes32[] memory to) internal returns (Built memory b) {
        uint256 end = dist.epochEnd(0);
        if (block.timestamp < end) vm.warp(end);
        b = _buildPairs(campaignId, 0, _ids2(), _amounts2(100, 200), from, to);
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
    }

    function _expectVoided(bytes32 subject, IRewardDistributor.VoidReason reason) internal {
        vm.expectEmit(address(dist));
        emit IRewardDistributor.RootVoided(campaignId, 0, address(this), subject, reason);
    }

    /// @dev The gap the position-less tree could hide: {(0,h1), (h3,~0)}, count 2. No leaf spans h2 and each leaf is
    ///      well formed on its own, but leaves 0 and 1 do not link.
    function test_E1_aGappedListIsVoidedByItsBrokenLink() public {
        (bytes32 s1, bytes32 s2, bytes32 s3) = _three();
        (bytes32[] memory from, bytes32[] memory to) = _pairs2(bytes32(0), s1, s3, ONES);
        Built memory b = _proposePairs(from, to);
        uint64 cutoff = b.message.cutoff;
        bytes memory receipt = _receipt(oracleKey[0], s2, 0, cutoff);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardNotOmitted.selector, s2, bytes32(0), s1));
        dist.challengeOmission(campaignId, s2, 0, cutoff, receipt, _evidenceLeaf(b, 0));
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardNotOmitted.selector, s2, s3, ONES));
        dist.challengeOmission(campaignId, s2, 0, cutoff, receipt, _evidenceLeaf(b, 1));
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardEvidenceWellFormed.selector, 0, 0, s1));
        dist.challengeMalformedEvidence(campaignId, _evidenceLeaf(b, 0));
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardEvidenceWellFormed.selector, 1, s3, ONES));
        dist.challengeMalformedEvidence(campaignId, _evidenceLeaf(b, 1));
        // The leaves in the wrong order are not adjacent.
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardLeavesNotAdjacent.selector, 2, 1, 2, 0));
        dist.challengeBrokenLink(campaignId, _evidenceLeaf(b, 1), _evidenceLeaf(b, 0));
        _expectVoided(bytes32(0), IRewardDistributor.VoidReason.BrokenLink);
        dist.challengeBrokenLink(campaignId, _evidenceLeaf(b, 0), _evidenceLeaf(b, 1));
        assertEq(dist.pendingRootOf(campaignId).proposedAt, 0);
    }

    /// @dev A leaf out of order: the list h2, h1 as given makes the leaf (h2, h1).
    function test_E2_anOutOfOrderLeafIsMalformed() public {
        (bytes32 s1, bytes32 s2, ) = _three();
        (bytes32[] memory from, bytes32[] memory to) = TestMerkle.listPairs(_hashes(s2, s1));
        Built memory b = _proposePairs(from, to);
        // The other leaves are fine, and every link holds: only the order is wrong.
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardEvidenceWellFormed.selector, 0, 0, s2));
        dist.challengeMalformedEvidence(campaignId, _evidenceLeaf(b, 0));
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardLinkUnbroken.selector, 1, s1));
        dist.challengeBrokenLink(campaignId, _evidenceLeaf(b, 1), _evidenceLeaf(b, 2));
        _expectVoided(s2, IRewardDistributor.VoidReason.MalformedLeaf);
        dist.challengeMalformedEvidence(campaignId, _evidenceLeaf(b, 1));
        assertEq(dist.pendingRootOf(campaignId).proposedAt, 0);
    }

    /// @dev A first leaf not starting at zero hides the records below it; a last leaf not ending at all ones hides
    ///      those above it.
    function test_E3_aWrongFirstOrLastLeafIsMalformed() public {
        (bytes32 s1, bytes32 s2, bytes32 s3) = _three();
        // First leaf (s1, s2): voided.
        (bytes32[] memory from, bytes32[] memory to) = _pairs2(s1, s2, s2, ONES);
        Built memory b = _proposePairs(from, to);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardEvidenceWellFormed.selector, 1, s2, ONES));
        dist.challengeMalformedEvidence(campaignId, _evidenceLeaf(b, 1));
        _expectVoided(s1, IRewardDistributor.VoidReason.MalformedLeaf);
        dist.challengeMalformedEvidence(campaignId, _evidenceLeaf(b, 0));
        // Last leaf (s1, s2): voided.
        (from, to) = _pairs2(bytes32(0), s1, s1, s2);
        b = _proposePairs(from, to);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardEvidenceWellFormed.selector, 0, 0, s1));
        dist.challengeMalformedEvidence(campaignId, _evidenceLeaf(b, 0));
        _expectVoided(s1, IRewardDistributor.VoidReason.MalformedLeaf);
        dist.challengeMalformedEvidence(campaignId, _evidenceLeaf(b, 1));
        // A single leaf, both first and last: (0, s3) and (s3, ~0) are both wrong.
        from = new bytes32[](1);
        to = new bytes32[](1);
        (from[0], to[0]) = (bytes32(0), s3);
        b = _proposePairs(from, to);
        _expectVoided(bytes32(0), IRewardDistributor.VoidReason.MalformedLeaf);
        dist.challengeMalformedEvidence(campaignId, _evidenceLeaf(b, 0));
        (from[0], to[0]) = (s3, ONES);
        b = _proposePairs(from, to);
        _expectVoided(s3, IRewardDistributor.VoidReason.MalformedLeaf);
        dist.challengeMalformedEvidence(campaignId, _evidenceLeaf(b, 0));
    }

    /// @dev Proofs that do not open a leaf at its position of this root: every one reverts with the claimed
    ///      position, and the root stays pending.
    function test_E4_proofsOfTheWrongShapeAreRefused() public {
        (bytes32 s1, bytes32 s2, bytes32 s3) = _three();
        bytes32[] memory list = new bytes32[](3);
        (list[0], list[1], list[2]) = (s1, s2, s3);
        // This root: count 4, depth 2.
        Built memory b = _proposeAt(0, 100, 200, list);
        IRewardDistributor.EvidenceLeaf memory leaf = _evidenceLeaf(b, 1);
        // A proof one sibling too long, or too short.
        bytes32[] memory longer = new bytes32[](3);
        (longer[0], longer[1], longer[2]) = (leaf.proof[0], leaf.proof[1], bytes32(0));
        _expectProofInvalid(leaf, longer, leaf.count, leaf.index);
        bytes32[] memory shorter = new bytes32[](1);
        shorter[0] = leaf.proof[0];
        _expectProofInvalid(leaf, shorter, leaf.count, leaf.index);
        // An index at or past the count: 5 walks the same path as 1 (its low two bits), so only the bound stops it.
        _expectProofInvalid(leaf, leaf.proof, 4, 5);
        _expectProofInvalid(leaf, leaf.proof, 4, 4);
        _expectProofInvalid(leaf, leaf.proof, 4, type(uint256).max);
        // Another position of this tree.
        _expectProofInvalid(leaf, leaf.proof, 4, 3);
        // A count the root does not commit, with a proof of the same depth (3) or of its own (5: depth 3).
        _expectProofInvalid(leaf, leaf.proof, 3, 1);
        _expectProofInvalid(leaf, longer, 5, 1);
        _expectProofInvalid(leaf, leaf.proof, 0, 0);
        assertEq(dist.pendingRootOf(campaignId).proposedAt, block.timestamp);
    }

    /// @dev Leaves of another root, and leaves that are not adjacent, are refused; the root stays pending.
    function test_E4_foreignAndNonAdjacentLeavesAreRefused() public {
        (bytes32 s1, bytes32 s2, bytes32 s3) = _three();
        bytes32[] memory list = new bytes32[](3);
        (list[0], list[1], list[2]) = (s1, s2, s3);
        // Another root's leaves (built first, same positions): (0,s1), (s1,s3), (s3,~0).
        Built memory other = _build(campaignId, 0, _ids2(), _amounts2(1, 2), _hashes(s1, s3));
        Built memory b = _proposeAt(0, 100, 200, list);
        IRewardDistributor.EvidenceLeaf memory leaf = _evidenceLeaf(b, 1);
        // A real leaf of another root.
        IRewardDistributor.EvidenceLeaf memory foreign = _evidenceLeaf(other, 1);
        _expectProofInvalid(foreign, foreign.proof, foreign.count, foreign.index);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRewardDistributor.RewardEvidenceProofInvalid.selector,
                1,
                foreign.hash,
                foreign.next
            )
        );
        dist.challengeOmission(
            campaignId,
            s2,
            0,
            b.message.cutoff,
            _receipt(oracleKey[0], s2, 0, b.message.cutoff),
            foreign
        );
        // A broken link needs two adjacent leaves of the same count.
        IRewardDistributor.EvidenceLeaf memory third = _evidenceLeaf(b, 3);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardLeavesNotAdjacent.selector, 4, 1, 4, 3));
        dist.challengeBrokenLink(campaignId, leaf, third);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardLeavesNotAdjacent.selector, 4, 1, 3, 2));
        dist.challengeBrokenLink(campaignId, leaf, _evidenceLeaf(other, 2));
        // Adjacent positions, but the second leaf is not in this tree.
        IRewardDistributor.EvidenceLeaf memory forged = _evidenceLeafAs(b, 2, s3, ONES);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardEvidenceProofInvalid.selector, 2, s3, ONES));
        dist.challengeBrokenLink(campaignId, leaf, forged);
        assertEq(dist.pendingRootOf(campaignId).proposedAt, block.timestamp);
    }

    /// @dev Expects every challenge taking `leaf` with `proof`, `count` and `index` to revert
    ///      `RewardEvidenceProofInvalid`.
    function _expectProofInvalid(
        IRewardDistributor.EvidenceLeaf memory leaf,
        bytes32[] memory proof,
        uint256 count,
        uint256 index
    ) internal {
        IRewardDistributor.EvidenceLeaf memory claimed = IRewardDistributor.EvidenceLeaf({
            count: count,
            index: index,
            hash: leaf.hash,
            next: leaf.next,
            proof: proof
        });
        bytes memory expected = abi.encodeWithSelector(
            IRewardDistributor.RewardEvidenceProofInvalid.selector,
            index,
            leaf.hash,
            leaf.next
        );
        vm.expectRevert(expected);
        dist.challengeMalformedEvidence(campaignId, claimed);
        if (index < type(uint256).max) {
            IRewardDistributor.EvidenceLeaf memory following = IRewardDistributor.EvidenceLeaf({
                count: count,
                index: index + 1,
                hash: leaf.next,
                next: ONES,
                proof: proof
            });
            vm.expectRevert(expected);
            dist.challengeBrokenLink(campaignId, claimed, following);
        }
    }

    /// @dev A well-formed list (random size 0..20, random hashes, sorted) cannot be voided by any of the three
    ///      challenges at any position: every leaf opens, is well formed, links to the next, and spans no listed
    ///      record.
    function testFuzz_E4_aWellFormedListCannotBeVoided(uint256 seed, uint8 size, uint256 indexSeed) public {
        uint256 n = size % 21;
        bytes32[] memory hashes = new bytes32[](n);
        for (uint256 i; i < n; ++i) hashes[i] = keccak256(abi.encode(seed, i));
        Built memory b = _proposeAt(0, 100, 200, hashes);
        uint256 count = n + 1;
        uint256 index = indexSeed % count;
        IRewardDistributor.EvidenceLeaf memory leaf = _evidenceLeaf(b, index);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardEvidenceWellFormed.selector, index, leaf.hash, leaf.next)
        );
        dist.challengeMalformedEvidence(campaignId, leaf);
        if (index + 1 < count) {
            vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardLinkUnbroken.selector, index, leaf.next));
            dist.challengeBrokenLink(campaignId, leaf, _evidenceLeaf(b, index + 1));
        }
        if (n != 0) {
            // A listed record, receipted by a signer: never strictly inside this leaf.
            bytes32 record = b.evidenceTo[(indexSeed / count) % n];
            uint64 cutoff = b.message.cutoff;
            bytes memory receipt = _receipt(oracleKey[0], record, 0, cutoff);
            vm.expectRevert(
                abi.encodeWithSelector(IRewardDistributor.RewardNotOmitted.selector, record, leaf.hash, leaf.next)
            );
            dist.challengeOmission(campaignId, record, 0, cutoff, receipt, leaf);
        }
        assertEq(dist.pendingRootOf(campaignId).proposedAt, block.timestamp);
    }

    /// @dev A voided root's signatures are public: relayed again, the same root is refused for good (also after a
    ///      later cutoff would be possible), while a corrected root for the same epoch is taken.
    function test_E5_aVoidedRootCannotComeBackButACorrectedOneIsTaken() public {
        (Built memory b, bytes32 s1, bytes32 s2, bytes32 s3) = _proposeOmitting();
        bytes[] memory sigs = _sigs(b.message, _pair(0, 1));
        bytes32 digest = _rootDigest(address(dist), b.message);
        _challengeOmission(s2, 0, b.message.cutoff, _receipt(oracleKey[0], s2, 0, b.message.cutoff), b, 1, s1, s3);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardRootWasVoided.selector, campaignId, digest));
        _propose(b.message, sigs);
        // Fresh signatures over the same message do not help either; nor do other signers.
        vm.warp(block.timestamp + 1 days);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardRootWasVoided.selector, campaignId, digest));
        _propose(b.message, _sigs(b.message, _pair(1, 2)));
        // The corrected root (the record in) for the same epoch and cutoff is taken.
        bytes32[] memory all = new bytes32[](3);
        (all[0], all[1], all[2]) = (s1, s2, s3);
        Built memory corrected = _build(campaignId, 0, _ids2(), _amounts2(100, 200), all);
        corrected.message.cutoff = b.message.cutoff;
        _propose(corrected.message, _sigs(corrected.message, _pair(0, 1)));
        assertEq(dist.pendingRootOf(campaignId).evidenceRoot, corrected.message.evidenceRoot);
        vm.warp(block.timestamp + WINDOW);
        _claimFor(corrected, 0);
        assertEq(token.balanceOf(account1), 100);
    }

    // ---------------------------------------------------------------- claims

    function test_claim_paysExactAmountsAndOnlyTheDifferenceAcrossRoots() public {
        Built memory b = _finalAt(0, 100, 250, _noHashes());
        vm.expectEmit(address(dist));
        emit IRewardDistributor.Claimed(campaignId, P1, account1, 100, 100);
        vm.prank(account1);
        dist.claim(campaignId, P1, 100, _producerProof(b, 0));
        _claimFor(b, 1);
        assertEq(token.balanceOf(account1), 100);
        assertEq(token.balanceOf(account2), 250);
        assertEq(dist.claimedOf(campaignId, P1), 100);
        // Claiming again pays nothing.
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardNothingToClaim.selector, campaignId, P1, 100, 100)
        );
        _claimFor(b, 0);
        // The next root: P1 at 400 (claims 300 more), P2 at 250 (nothing new).
        b = _finalAt(1, 400, 250, _noHashes());
        _claimFor(b, 0);
        assertEq(token.balanceOf(account1), 400);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardNothingToClaim.selector, campaignId, P2, 250, 250)
        );
        _claimFor(b, 1);
        assertEq(dist.campaignOf(campaignId).claimed, 650);
        assertEq(token.balanceOf(address(dist)), FUNDS - 650);
    }

    function test_claim_cannotExceedTheCumulative() public {
        Built memory b = _finalAt(0, 100, 250, _noHashes());
        bytes32[] memory proof = _producerProof(b, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardProducerProofInvalid.selector, campaignId, P1, 101)
        );
        dist.claimFor(campaignId, P1, 101, proof);
        // P2's leaf is not P1's.
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardProducerProofInvalid.selector, campaignId, P1, 250)
        );
        dist.claimFor(campaignId, P1, 250, _producerProof(b, 1));
    }

    function test_claim_byANonAccountIsRefusedAndClaimForPaysTheAccount() public {
        Built memory b = _finalAt(0, 100, 250, _noHashes());
        bytes32[] memory proof = _producerProof(b, 0);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardNotProducerAccount.selector, P1, stranger, account1)
        );
        dist.claim(campaignId, P1, 100, proof);
        vm.prank(stranger);
        dist.claimFor(campaignId, P1, 100, proof);
        assertEq(token.balanceOf(account1), 100);
        assertEq(token.balanceOf(stranger), 0);
    }

    function test_claim_unregisteredProducerEscrowedThenRegisteredThenPaid() public {
        vm.warp(dist.epochEnd(0));
        bytes32[] memory ids = new bytes32[](3);
        (ids[0], ids[1], ids[2]) = (P1, P2, P3);
        uint256[] memory cums = new uint256[](3);
        (cums[0], cums[1], cums[2]) = (100, 200, 300);
        Built memory b = _build(campaignId, 0, ids, cums, _noHashes());
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
        vm.warp(block.timestamp + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardProducerNotRegistered.selector, P3));
        _claimFor(b, 2);
        assertEq(token.balanceOf(address(dist)), FUNDS);
        vm.expectEmit(address(dist));
        emit IRewardDistributor.ProducerRegistered(P3, account3);
        vm.prank(registrar);
        dist.registerProducer(P3, account3);
        _claimFor(b, 2);
        assertEq(token.balanceOf(account3), 300);
    }

    function test_claim_afterAChangeOfAccountPaysTheNewAccount() public {
        Built memory b = _finalAt(0, 100, 250, _noHashes());
        address fresh = makeAddr("fresh");
        vm.prank(registrar);
        dist.registerProducer(P1, fresh);
        assertEq(dist.producerAccountOf(P1), fresh);
        bytes32[] memory proof = _producerProof(b, 0);
        vm.prank(account1);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardNotProducerAccount.selector, P1, account1, fresh)
        );
        dist.claim(campaignId, P1, 100, proof);
        vm.prank(fresh);
        dist.claim(campaignId, P1, 100, proof);
        assertEq(token.balanceOf(fresh), 100);
        assertEq(token.balanceOf(account1), 0);
    }

    function test_claim_afterTheDeadlineOrWithoutAFinalRootIsRefused() public {
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardNoFinalizedRoot.selector, campaignId));
        dist.claimFor(campaignId, P1, 0, new bytes32[](0));
        Built memory b = _proposeAt(0, 100, 250, _noHashes());
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardNoFinalizedRoot.selector, campaignId));
        _claimFor(b, 0);
        uint64 deadline = _deadline();
        vm.warp(deadline);
        _claimFor(b, 0);
        vm.warp(uint256(deadline) + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardClaimExpired.selector, campaignId, deadline, deadline + 1)
        );
        _claimFor(b, 1);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardUnknownCampaign.selector, bytes32(0)));
        dist.claimFor(bytes32(0), P1, 0, new bytes32[](0));
    }

    function test_claim_toAFrozenAccountRevertsAndChangesNothing() public {
        Built memory b = _proposeAt(0, 100, 250, _noHashes());
        vm.warp(block.timestamp + WINDOW);
        vm.prank(compliance);
        token.freeze(account1);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, account1));
        _claimFor(b, 0);
        assertEq(dist.claimedOf(campaignId, P1), 0);
        assertEq(dist.campaignOf(campaignId).claimed, 0);
        assertEq(token.balanceOf(address(dist)), FUNDS);
        vm.prank(compliance);
        token.unfreeze(account1);
        _claimFor(b, 0);
        assertEq(token.balanceOf(account1), 100);
    }

    function test_claim_aTreeAboveItsTotalCannotReachOtherFunds() public {
        // Another campaign's funds sit in the same contract.
        _createCampaign(sponsor, keccak256("bystander"), FUNDS);
        // Bad oracles sign a total of 300 over leaves worth 100 + 900.
        vm.warp(dist.epochEnd(0));
        Built memory b = _build(campaignId, 0, _ids2(), _amounts2(100, 900), _noHashes());
        b.message.total = 300;
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
        vm.warp(block.timestamp + WINDOW);
        _claimFor(b, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardClaimExceedsTotal.selector, campaignId, 1000, 300)
        );
        _claimFor(b, 1);
    }

    // ---------------------------------------------------------------- reclaim

    function test_reclaim_sponsorOnlyAfterTheDeadlineOnceForTheRest() public {
        Built memory b = _finalAt(0, 100, 250, _noHashes());
        _claimFor(b, 0);
        uint64 deadline = _deadline();
        vm.warp(deadline);
        vm.prank(sponsor);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardClaimWindowOpen.selector, campaignId, deadline, deadline)
        );
        dist.reclaim(campaignId);
        vm.warp(uint256(deadline) + 1);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardNotSponsor.selector, campaignId, stranger, sponsor)
        );
        dist.reclaim(campaignId);
        uint256 before = token.balanceOf(sponsor);
        vm.expectEmit(address(dist));
        emit IRewardDistributor.Reclaimed(campaignId, sponsor, FUNDS - 100);
        vm.prank(sponsor);
        dist.reclaim(campaignId);
        assertEq(token.balanceOf(sponsor) - before, FUNDS - 100);
        assertEq(token.balanceOf(address(dist)), 0);
        assertTrue(dist.campaignOf(campaignId).reclaimed);
        vm.prank(sponsor);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardAlreadyReclaimed.selector, campaignId));
        dist.reclaim(campaignId);
        // No funds after the deadline (they could never be claimed).
        vm.prank(sponsor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRewardDistributor.RewardCampaignExpired.selector,
                campaignId,
                deadline,
                deadline + 1
            )
        );
        dist.fund(campaignId, 1);
    }

    // ---------------------------------------------------------------- pause

    function test_pause_blocksEveryValuePathAndHoldsFinalization() public {
        (Built memory b, , , ) = _proposeOmitting();
        uint256 proposedAt = block.timestamp;
        bytes32 pauserRole = dist.PAUSER_ROLE();
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, pauserRole)
        );
        dist.pause();
        vm.prank(pauser);
        dist.pause();
        bytes memory paused = abi.encodeWithSelector(Pausable.EnforcedPause.selector);
        uint64 deadline = _deadline();
        vm.startPrank(sponsor);
        vm.expectRevert(paused);
        dist.createCampaign(keccak256("x"), BUDGET, 0, 1, deadline, TERMS, 0);
        vm.expectRevert(paused);
        dist.fund(campaignId, 1);
        vm.expectRevert(paused);
        dist.reclaim(campaignId);
        vm.stopPrank();
        vm.expectRevert(paused);
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
        vm.prank(account1);
        vm.expectRevert(paused);
        dist.claim(campaignId, P1, 100, _producerProof(b, 0));
        vm.expectRevert(paused);
        _claimFor(b, 0);
        // The window passes during the pause: the root is not final and cannot be finalized.
        vm.warp(proposedAt + WINDOW);
        assertFalse(dist.finalizedRootOf(campaignId).exists);
        assertEq(dist.pendingRootOf(campaignId).proposedAt, proposedAt);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardNotFinalizable.selector, campaignId, proposedAt + WINDOW)
        );
        dist.finalize(campaignId);
        vm.prank(pauser);
        dist.unpause();
        assertTrue(dist.finalizedRootOf(campaignId).exists);
        dist.finalize(campaignId);
    }

    function test_pause_challengesGoOnWhilePaused() public {
        _finalAt(0, 100, 200, _noHashes());
        (bytes32 s1, bytes32 s2, bytes32 s3) = _three();
        Built memory b = _proposeAt(1, 100, 200, _hashes(s1, s3));
        vm.prank(pauser);
        dist.pause();
        _challengeOmission(s2, 1, b.message.cutoff, _receipt(oracleKey[0], s2, 1, b.message.cutoff), b, 1, s1, s3);
        assertEq(dist.pendingRootOf(campaignId).proposedAt, 0);
        _voidDuplicateWhilePaused();
    }

    /// @dev Unpauses to propose a root with a duplicate, pauses, and voids it by `challengeMalformedEvidence`.
    function _voidDuplicateWhilePaused() internal {
        vm.prank(pauser);
        dist.unpause();
        (bytes32 s1, , ) = _three();
        Built memory b = _proposeAt(1, 100, 200, _hashes(s1, s1));
        vm.prank(pauser);
        dist.pause();
        dist.challengeMalformedEvidence(campaignId, _evidenceLeaf(b, 1));
        assertEq(dist.pendingRootOf(campaignId).proposedAt, 0);
    }

    // ---------------------------------------------------------------- reentrancy

    function test_reentrancy_aTokenCallbackCannotReenter() public {
        ReenteringToken evil = new ReenteringToken();
        RewardDistributor d = _deployDistributor(IERC20(address(evil)));
        evil.mint(sponsor, FUNDS + 1);
        vm.startPrank(sponsor);
        evil.approve(address(d), FUNDS);
        bytes32 id = d.createCampaign(SALT, BUDGET, 0, LAST_EPOCH, _deadline(), TERMS, FUNDS);
        vm.stopPrank();
        vm.warp(d.epochEnd(0));
        RewardDistributor saved = dist;
        dist = d;
        Built memory b = _build(id, 0, _ids2(), _amounts2(100, 200), _noHashes());
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
        dist = saved;
        vm.warp(block.timestamp + WINDOW);
        bytes32[] memory proof = TestMerkle.proof(b.producerLeaves, 0);
        // The payout's transfer calls claimFor again: the guard stops it, and the whole claim reverts.
        evil.arm(address(d), abi.encodeCall(d.claimFor, (id, P1, 100, proof)));
        vm.expectRevert(abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector));
        d.claimFor(id, P1, 100, proof);
        // A fund's pull calling reclaim, likewise.
        evil.arm(address(d), abi.encodeCall(d.reclaim, (id)));
        vm.startPrank(sponsor);
        evil.approve(address(d), 1);
        vm.expectRevert(abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector));
        d.fund(id, 1);
        vm.stopPrank();
        evil.arm(address(0), "");
        d.claimFor(id, P1, 100, proof);
        assertEq(evil.balanceOf(account1), 100);
    }

    // ---------------------------------------------------------------- administration and views

    function test_setOracles_validatesTheSet() public {
        address[] memory set = _oracleList();
        vm.startPrank(oracleAdmin);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardInvalidThreshold.selector, 0, 3));
        dist.setOracles(set, 0);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardInvalidThreshold.selector, 4, 3));
        dist.setOracles(set, 4);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardInvalidOracleCount.selector, 0, 16));
        dist.setOracles(new address[](0), 1);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardInvalidOracleCount.selector, 17, 16));
        dist.setOracles(new address[](17), 1);
        (set[1], set[2]) = (set[2], set[1]);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardInvalidOracle.selector, 2, set[2]));
        dist.setOracles(set, 2);
        set[2] = set[1];
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardInvalidOracle.selector, 2, set[2]));
        dist.setOracles(set, 2);
        set[0] = address(0);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardInvalidOracle.selector, 0, address(0)));
        dist.setOracles(set, 2);
        vm.stopPrank();
        bytes32 oracleAdminRole = dist.ORACLE_ADMIN_ROLE();
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, oracleAdminRole)
        );
        dist.setOracles(_oracleList(), 2);
        address[] memory sixteen = new address[](16);
        for (uint256 i; i < 16; ++i) sixteen[i] = address(uint160(i + 1));
        vm.expectEmit(address(dist));
        emit IRewardDistributor.OraclesSet(2, sixteen, 16);
        vm.prank(oracleAdmin);
        dist.setOracles(sixteen, 16);
        assertEq(dist.oracles(), sixteen);
        assertEq(dist.threshold(), 16);
        assertEq(dist.oracleSetVersion(), 2);
    }

    function test_registerProducer_andCampaignsAreValidated() public {
        vm.prank(registrar);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardZeroAccount.selector, P3));
        dist.registerProducer(P3, address(0));
        bytes32 registrarRole = dist.REGISTRAR_ROLE();
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, registrarRole)
        );
        dist.registerProducer(P3, stranger);
        uint256 minimum = dist.epochEnd(LAST_EPOCH) + WINDOW;
        uint64 deadline = _deadline();
        vm.startPrank(sponsor);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardZeroBudget.selector));
        dist.createCampaign(keccak256("a"), 0, 0, LAST_EPOCH, deadline, TERMS, 0);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardInvalidEpochRange.selector, 2, 1));
        dist.createCampaign(keccak256("a"), 1, 2, 1, deadline, TERMS, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardDeadlineTooEarly.selector, uint64(minimum), minimum)
        );
        dist.createCampaign(keccak256("a"), 1, 0, LAST_EPOCH, uint64(minimum), TERMS, 0);
        bytes32 id = dist.createCampaign(keccak256("a"), 1, 0, LAST_EPOCH, uint64(minimum + 1), TERMS, 0);
        assertEq(dist.campaignOf(id).funded, 0);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardZeroAmount.selector));
        dist.fund(id, 0);
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardUnknownCampaign.selector, bytes32(uint256(1))));
        dist.fund(bytes32(uint256(1)), 1);
        vm.stopPrank();
        // Anyone may top up; recorded to the campaign.
        _mint(stranger, 7);
        vm.startPrank(stranger);
        token.approve(address(dist), 7);
        vm.expectEmit(address(dist));
        emit IRewardDistributor.CampaignFunded(id, stranger, 7);
        dist.fund(id, 7);
        vm.stopPrank();
        assertEq(dist.campaignOf(id).funded, 7);
    }

    function test_constructor_andEpochViews() public {
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardInvalidSetup.selector, address(0), EPOCH, WINDOW)
        );
        new RewardDistributor(IERC20(address(0)), admin, ADMIN_DELAY, uint64(T0), EPOCH, WINDOW);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardInvalidSetup.selector, address(token), 0, WINDOW)
        );
        new RewardDistributor(IERC20(address(token)), admin, ADMIN_DELAY, uint64(T0), 0, WINDOW);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardInvalidSetup.selector, address(token), EPOCH, 0)
        );
        new RewardDistributor(IERC20(address(token)), admin, ADMIN_DELAY, uint64(T0), EPOCH, 0);
        assertEq(dist.token(), address(token));
        assertEq(dist.genesis(), T0);
        assertEq(dist.epochLength(), EPOCH);
        assertEq(dist.challengeWindow(), WINDOW);
        assertEq(dist.epochOf(uint64(T0)), 0);
        assertEq(dist.epochOf(uint64(T0 + EPOCH - 1)), 0);
        assertEq(dist.epochOf(uint64(T0 + EPOCH)), 1);
        assertEq(dist.epochEnd(0), T0 + EPOCH);
        assertEq(dist.epochEnd(type(uint64).max), T0 + uint256(type(uint64).max) * EPOCH + EPOCH);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardBeforeGenesis.selector, uint64(T0 - 1), uint64(T0))
        );
        dist.epochOf(uint64(T0 - 1));
        IRewardDistributor.Campaign memory c = dist.campaignOf(campaignId);
        assertEq(c.sponsor, sponsor);
        assertEq(c.firstEpoch, 0);
        assertEq(c.lastEpoch, LAST_EPOCH);
        assertEq(c.claimDeadline, _deadline());
        assertEq(c.funded, FUNDS);
        assertEq(c.terms, TERMS);
    }

    function test_views_pendingRootShowsItsSigners() public {
        vm.warp(dist.epochEnd(0));
        Built memory b = _build(campaignId, 0, _ids2(), _amounts2(1, 2), _noHashes());
        address[] memory signers = new address[](2);
        (signers[0], signers[1]) = (oracle[0], oracle[2]);
        vm.expectEmit(address(dist));
        emit IRewardDistributor.RootProposed(
            campaignId,
            0,
            b.message.root,
            3,
            b.message.evidenceRoot,
            b.message.cutoff,
            signers
        );
        _propose(b.message, _sigs(b.message, _pair(0, 2)));
        IRewardDistributor.PendingRoot memory p = dist.pendingRootOf(campaignId);
        assertEq(p.signers, signers);
        assertEq(p.root, b.message.root);
        assertEq(p.total, 3);
        assertEq(p.evidenceRoot, b.message.evidenceRoot);
        assertEq(p.cutoff, b.message.cutoff);
        assertEq(p.fromEpoch, 0);
        assertEq(p.oracleSetVersion, 1);
    }

    function test_digests_equalTheEip712DigestsComputedHere() public view {
        RootMessage memory m = RootMessage({
            campaignId: keccak256("c"),
            root: keccak256("r"),
            total: 12345,
            evidenceRoot: keccak256("e"),
            epoch: 7,
            cutoff: 99,
            version: 3
        });
        assertEq(
            dist.hashEpochRoot(m.campaignId, 7, m.root, 12345, m.evidenceRoot, 99, 3),
            _rootDigest(address(dist), m)
        );
        assertEq(dist.hashReceipt(keccak256("h"), 5, 6), _receiptDigest(address(dist), keccak256("h"), 5, 6));
        bytes32 venue = keccak256("venue");
        bytes32 nonce = keccak256("nonce");
        uint64 cell = 0x8c2a1072b59ffff;
        assertEq(
            dist.hashPresenceQuery(venue, cell, 4, nonce, 1234),
            _typed(
                address(dist),
                keccak256(abi.encode(PRESENCE_QUERY_TYPEHASH, venue, cell, uint64(4), nonce, uint64(1234)))
            )
        );
        assertEq(
            dist.hashPresenceResponse(stranger, venue, 4, nonce, 1240),
            _typed(
                address(dist),
                keccak256(abi.encode(PRESENCE_RESPONSE_TYPEHASH, stranger, venue, uint64(4), nonce, uint64(1240)))
            )
        );
        assertEq(
            dist.hashPlayback(keccak256("content"), P1, venue, 1300, 45),
            _typed(
                address(dist),
                keccak256(abi.encode(PLAYBACK_TYPEHASH, keccak256("content"), P1, venue, uint64(1300), uint32(45)))
            )
        );
        (, string memory name, string memory version, uint256 chainId, address verifying, , ) = dist.eip712Domain();
        assertEq(name, "BankChain Rewards");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifying, address(dist));
    }

    /// @dev The producer tree built by `@openzeppelin/merkle-tree` 1.0.8 (`StandardMerkleTree.of`) for
    ///      [(0xa1, 100), (0xa2, 250), (0xa3, 7)] verifies here, beside the positional evidence tree of the
    ///      known-answer test (`test_vectors_positionalEvidenceTreeKnownAnswer`).
    function test_vectors_standardMerkleTreeFromTheNpmPackage() public {
        bytes32 producerRoot = 0xd92c37af451e94da58e286ec67293c49652eb890ae66fe08f39d35b75d9429fe;
        bytes32 a2 = bytes32(uint256(0xa2));
        vm.prank(registrar);
        dist.registerProducer(a2, account3);
        vm.warp(dist.epochEnd(0));
        RootMessage memory m = RootMessage({
            campaignId: campaignId,
            root: producerRoot,
            total: 357,
            evidenceRoot: KAT_EVIDENCE_ROOT,
            epoch: 0,
            cutoff: uint64(block.timestamp),
            version: 1
        });
        _propose(m, _sigs(m, _pair(0, 1)));
        vm.warp(block.timestamp + WINDOW);
        bytes32[] memory claimProof = new bytes32[](1);
        claimProof[0] = 0x7bcf9e4ee13ad81c886027b1b5368c61e78fc7bbd9db430959cef36315a0f315;
        dist.claimFor(campaignId, a2, 250, claimProof);
        assertEq(token.balanceOf(account3), 250);
    }

    /// @dev The positional evidence tree of 0x..01, 0x..02, 0x..03 written out by hand: the contract opens every
    ///      leaf with its two-sibling proof, sees the list as well formed and linked, and voids on the omission of
    ///      0x..04 (in the last leaf, (0x..03, ~0)).
    function test_vectors_positionalEvidenceTreeKnownAnswer() public {
        (bytes32 evidenceRoot, IRewardDistributor.EvidenceLeaf[4] memory leaves) = _knownAnswerTree();
        // solhint-disable-next-line no-console
        console2.logBytes32(evidenceRoot);
        assertEq(evidenceRoot, KAT_EVIDENCE_ROOT);
        bytes32[] memory hashes = new bytes32[](3);
        (hashes[0], hashes[1], hashes[2]) = (bytes32(uint256(1)), bytes32(uint256(2)), bytes32(uint256(3)));
        assertEq(TestMerkle.positionalRoot(TestMerkle.listLeaves(hashes)), evidenceRoot);
        vm.warp(dist.epochEnd(0));
        RootMessage memory m = RootMessage({
            campaignId: campaignId,
            root: bytes32(0),
            total: 0,
            evidenceRoot: evidenceRoot,
            epoch: 0,
            cutoff: uint64(block.timestamp),
            version: 1
        });
        _propose(m, _sigs(m, _pair(0, 1)));
        for (uint256 i; i < 4; ++i) {
            // Opened (a wrong proof would revert `RewardEvidenceProofInvalid`) and well formed.
            vm.expectRevert(
                abi.encodeWithSelector(
                    IRewardDistributor.RewardEvidenceWellFormed.selector,
                    i,
                    leaves[i].hash,
                    leaves[i].next
                )
            );
            dist.challengeMalformedEvidence(campaignId, leaves[i]);
        }
        for (uint256 i; i < 3; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardLinkUnbroken.selector, i, leaves[i].next));
            dist.challengeBrokenLink(campaignId, leaves[i], leaves[i + 1]);
        }
        bytes32 four = bytes32(uint256(4));
        bytes memory receipt = _receipt(oracleKey[0], four, 0, m.cutoff);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardNotOmitted.selector, four, leaves[2].hash, leaves[2].next)
        );
        dist.challengeOmission(campaignId, four, 0, m.cutoff, receipt, leaves[2]);
        dist.challengeOmission(campaignId, four, 0, m.cutoff, receipt, leaves[3]);
        assertEq(dist.pendingRootOf(campaignId).proposedAt, 0);
    }

    /// @dev The known-answer tree: leaves (0,1), (1,2), (2,3), (3,~0), nodes and root spelled out; each leaf's proof
    ///      is its sibling leaf, then the other half's node.
    function _knownAnswerTree()
        internal
        pure
        returns (bytes32 evidenceRoot, IRewardDistributor.EvidenceLeaf[4] memory leaves)
    {
        bytes32[5] memory v = [bytes32(0), bytes32(uint256(1)), bytes32(uint256(2)), bytes32(uint256(3)), ONES];
        bytes32 l0 = keccak256(bytes.concat(keccak256(abi.encode(bytes32(0), bytes32(uint256(1))))));
        bytes32 l1 = keccak256(bytes.concat(keccak256(abi.encode(bytes32(uint256(1)), bytes32(uint256(2))))));
        bytes32 l2 = keccak256(bytes.concat(keccak256(abi.encode(bytes32(uint256(2)), bytes32(uint256(3))))));
        bytes32 l3 = keccak256(bytes.concat(keccak256(abi.encode(bytes32(uint256(3)), ONES))));
        bytes32 n01 = keccak256(abi.encodePacked(l0, l1));
        bytes32 n23 = keccak256(abi.encodePacked(l2, l3));
        evidenceRoot = keccak256(abi.encode(uint256(4), keccak256(abi.encodePacked(n01, n23))));
        bytes32[2][4] memory proofs = [[l1, n23], [l0, n23], [l3, n01], [l2, n01]];
        for (uint256 i; i < 4; ++i) {
            bytes32[] memory proof = new bytes32[](2);
            (proof[0], proof[1]) = (proofs[i][0], proofs[i][1]);
            leaves[i] = IRewardDistributor.EvidenceLeaf({count: 4, index: i, hash: v[i], next: v[i + 1], proof: proof});
        }
    }

    // ---------------------------------------------------------------- gas

    /// @dev Logs the gas of a first and a later 2-of-3 proposal and of claims (execution gas of the call, without the
    ///      21,000 of a transaction).
    function test_gas_proposeAndClaim() public {
        vm.warp(dist.epochEnd(0));
        Built memory b = _build(campaignId, 0, _ids2(), _amounts2(100, 250), _noHashes());
        uint256 firstPropose = _measuredPropose(b);
        vm.warp(block.timestamp + WINDOW);
        dist.finalize(campaignId);
        bytes32[] memory proof = _producerProof(b, 0);
        vm.prank(account1);
        _cool();
        uint256 g = gasleft();
        dist.claim(campaignId, P1, 100, proof);
        uint256 claimGas = g - gasleft();
        proof = _producerProof(b, 1);
        _cool();
        g = gasleft();
        dist.claimFor(campaignId, P2, 250, proof);
        uint256 claimForGas = g - gasleft();
        vm.warp(dist.epochEnd(1));
        b = _build(campaignId, 1, _ids2(), _amounts2(200, 350), _noHashes());
        uint256 laterPropose = _measuredPropose(b);
        vm.warp(block.timestamp + WINDOW);
        proof = _producerProof(b, 0);
        _cool();
        g = gasleft();
        dist.claimFor(campaignId, P1, 200, proof);
        uint256 lazyClaimGas = g - gasleft();
        // solhint-disable-next-line no-console
        console2.log("proposeRoot 2-of-3, first / later:", firstPropose, laterPropose);
        // solhint-disable-next-line no-console
        console2.log(
            "claim (new payee) / claimFor (new payee) / claimFor finalizing:",
            claimGas,
            claimForGas,
            lazyClaimGas
        );
        assertLt(laterPropose, 120_000);
        assertLt(claimGas, 150_000);
    }

    /// @dev Logs the gas of the three challenges against a 1,024-leaf evidence tree (ten-level proofs): an
    ///      omission, a leaf listing a record twice, and a broken link.
    function test_gas_challenges() public {
        bytes32[] memory hashes = new bytes32[](1023);
        for (uint256 i; i < 1023; ++i) hashes[i] = bytes32((i < 512 ? i + 1 : i + 2) << 200);
        bytes32 omitted = bytes32(uint256(513) << 200);
        (bytes32[] memory from, bytes32[] memory to) = TestMerkle.listPairs(hashes);
        // Leaf 200 lists its record twice; leaf 100 jumps past leaf 101's hash.
        to[200] = from[200];
        to[100] = bytes32(uint256(to[100]) + 1);
        vm.warp(dist.epochEnd(0));
        Built memory b = _buildPairs(campaignId, 0, _ids2(), _amounts2(200, 350), from, to);
        _propose(b.message, _sigs(b.message, _pair(0, 1)));
        uint64 cutoff = b.message.cutoff;
        bytes memory receipt = _receipt(oracleKey[0], omitted, 0, cutoff);
        IRewardDistributor.EvidenceLeaf memory leaf = _evidenceLeaf(b, 512);
        assertEq(leaf.proof.length, 10);
        IRewardDistributor.EvidenceLeaf memory twice = _evidenceLeaf(b, 200);
        IRewardDistributor.EvidenceLeaf memory jumping = _evidenceLeaf(b, 100);
        IRewardDistributor.EvidenceLeaf memory following = _evidenceLeaf(b, 101);
        uint256 snapshot = vm.snapshotState();
        _cool();
        uint256 g = gasleft();
        dist.challengeOmission(campaignId, omitted, 0, cutoff, receipt, leaf);
        uint256 omissionGas = g - gasleft();
        assertEq(dist.pendingRootOf(campaignId).proposedAt, 0);
        vm.revertToState(snapshot);
        _cool();
        g = gasleft();
        dist.challengeMalformedEvidence(campaignId, twice);
        uint256 malformedGas = g - gasleft();
        assertEq(dist.pendingRootOf(campaignId).proposedAt, 0);
        vm.revertToState(snapshot);
        _cool();
        g = gasleft();
        dist.challengeBrokenLink(campaignId, jumping, following);
        uint256 brokenLinkGas = g - gasleft();
        assertEq(dist.pendingRootOf(campaignId).proposedAt, 0);
        // solhint-disable-next-line no-console
        console2.log("challengeOmission / challengeMalformedEvidence / challengeBrokenLink, 10-level proofs:");
        // solhint-disable-next-line no-console
        console2.log(omissionGas, malformedGas, brokenLinkGas);
        assertLt(omissionGas, 80_000);
        assertLt(malformedGas, 70_000);
        assertLt(brokenLinkGas, 80_000);
    }

    /// @dev Cold storage and accounts again, as in a transaction of its own.
    function _cool() internal {
        vm.cool(address(dist));
        vm.cool(address(token));
        bytes32 implementationSlot = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;
        vm.cool(address(uint160(uint256(vm.load(address(token), implementationSlot)))));
    }

    function _measuredPropose(Built memory b) internal returns (uint256 used) {
        bytes[] memory sigs = _sigs(b.message, _pair(0, 1));
        RootMessage memory m = b.message;
        _cool();
        uint256 g = gasleft();
        dist.proposeRoot(m.campaignId, m.epoch, m.root, m.total, m.evidenceRoot, m.cutoff, sigs);
        used = g - gasleft();
    }

    // ---------------------------------------------------------------- fuzz

    /// @dev Two final roots with random cumulatives within the budget: every producer ends with exactly its second
    ///      cumulative, whatever it claimed in between, and the distributor keeps exactly the rest.
    function testFuzz_claim(uint256 a1, uint256 b1, uint256 a2, uint256 b2, bool claimBetween) public {
        a1 = bound(a1, 1, BUDGET / 2);
        b1 = bound(b1, 1, BUDGET / 2);
        a2 = bound(a2, a1, a1 + BUDGET / 2);
        b2 = bound(b2, b1 + 1, b1 + BUDGET / 2);
        Built memory first = _finalAt(0, a1, b1, _noHashes());
        if (claimBetween) {
            _claimFor(first, 0);
            _claimFor(first, 1);
            assertEq(token.balanceOf(account1), a1);
        }
        Built memory second = _finalAt(1, a2, b2, _noHashes());
        if (!claimBetween || a2 > a1) _claimFor(second, 0);
        _claimFor(second, 1);
        assertEq(token.balanceOf(account1), a2);
        assertEq(token.balanceOf(account2), b2);
        assertEq(dist.claimedOf(campaignId, P1), a2);
        assertEq(token.balanceOf(address(dist)), FUNDS - a2 - b2);
        // Any cumulative above the leaf is refused.
        bytes32[] memory proof = _producerProof(second, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IRewardDistributor.RewardProducerProofInvalid.selector, campaignId, P2, b2 + 1)
        );
        dist.claimFor(campaignId, P2, b2 + 1, proof);
    }
}

/// @dev Drives `RewardDistributor` on the real BankToken through funding, honest proposals (some listing a record
///      twice), malformed-evidence challenges, finalization (explicit and lazy), claims by third parties, a late
///      producer registration and reclaims, keeping ghost sums of every token flow and the cumulatives of each root.
contract RewardDistributorHandler is RewardSigning {
    uint256 internal constant CAMPAIGNS = 2;
    uint256 internal constant PRODUCERS = 3;

    RewardDistributor public immutable dist;
    IERC20 public immutable token;
    address public immutable sponsor;
    address public immutable registrar;
    uint256 public immutable budget;
    uint64 public immutable lastEpoch;

    bytes32[CAMPAIGNS] public campaigns;
    bytes32[PRODUCERS] public producers;
    address[PRODUCERS] public accounts;
    uint256[2] internal _keys;

    uint256 public ghostFunded;
    uint256 public ghostClaimed;
    uint256 public ghostReclaimed;
    mapping(bytes4 => uint256) public calls;

    /// @dev A root as the handler built it.
    struct Root {
        bool exists;
        bool duplicate;
        uint64 epoch;
        uint256[PRODUCERS] cumulatives;
        bytes32[] leaves;
        bytes32[] evidence;
    }

    Root[CAMPAIGNS] internal _final;
    Root[CAMPAIGNS] internal _pending;

    constructor(
        RewardDistributor dist_,
        address sponsor_,
        address registrar_,
        bytes32[CAMPAIGNS] memory campaigns_,
        bytes32[PRODUCERS] memory producers_,
        address[PRODUCERS] memory accounts_,
        uint256[2] memory keys_,
        uint256 budget_,
        uint64 lastEpoch_
    ) {
        dist = dist_;
        token = IERC20(dist_.token());
        sponsor = sponsor_;
        registrar = registrar_;
        campaigns = campaigns_;
        producers = producers_;
        accounts = accounts_;
        _keys = keys_;
        budget = budget_;
        lastEpoch = lastEpoch_;
        for (uint256 c; c < CAMPAIGNS; ++c) ghostFunded += dist_.campaignOf(campaigns_[c]).funded;
    }

    /// @dev The producer's cumulative in the campaign's final root as the contract sees it (a pending root past its
    ///      window counts).
    function finalCumulative(uint256 c, uint256 p) external view returns (uint256) {
        if (_pending[c].exists && dist.pendingRootOf(campaigns[c]).proposedAt == 0) return _pending[c].cumulatives[p];
        return _final[c].cumulatives[p];
    }

    function fund(uint256 cSeed, uint256 amount) external {
        bytes32 id = campaigns[cSeed % CAMPAIGNS];
        if (block.timestamp > dist.campaignOf(id).claimDeadline) return;
        amount = bound(amount, 1, 2 * budget);
        uint256 before = token.balanceOf(address(dist));
        vm.prank(sponsor);
        dist.fund(id, amount);
        ghostFunded += token.balanceOf(address(dist)) - before;
        ++calls[this.fund.selector];
    }

    function propose(uint256 cSeed, uint256 skip, uint256 i0, uint256 i1, uint256 i2, bool duplicate) external {
        uint256 c = cSeed % CAMPAIGNS;
        _sync(c);
        if (_pending[c].exists) return;
        uint64 from = _final[c].exists ? _final[c].epoch + 1 : 0;
        if (from > lastEpoch) return;
        uint64 epoch = uint64(Math.min(from + (skip % 3), lastEpoch));
        uint256 end = dist.epochEnd(epoch);
        if (block.timestamp < end) vm.warp(end);
        IRewardDistributor.Campaign memory campaign = dist.campaignOf(campaigns[c]);
        if (block.timestamp > campaign.claimDeadline) return;
        uint256 finalTotal;
        for (uint256 p; p < PRODUCERS; ++p) finalTotal += _final[c].cumulatives[p];
        uint256 room = Math.min(budget * (epoch - from + 1), campaign.funded - finalTotal);
        uint256[PRODUCERS] memory incs;
        incs[0] = bound(i0, 0, room);
        incs[1] = bound(i1, 0, room - incs[0]);
        incs[2] = bound(i2, 0, room - incs[0] - incs[1]);
        _propose(c, epoch, incs, duplicate);
        ++calls[this.propose.selector];
    }

    function finalizeAfterWindow(uint256 cSeed) external {
        uint256 c = cSeed % CAMPAIGNS;
        _sync(c);
        if (!_pending[c].exists) return;
        uint256 at = uint256(dist.pendingRootOf(campaigns[c]).proposedAt) + dist.challengeWindow();
        if (block.timestamp < at) vm.warp(at);
        dist.finalize(campaigns[c]);
        _sync(c);
        ++calls[this.finalizeAfterWindow.selector];
    }

    function challengeMalformed(uint256 cSeed) external {
        uint256 c = cSeed % CAMPAIGNS;
        _sync(c);
        if (!_pending[c].exists || !_pending[c].duplicate) return;
        // The sorted list's duplicate is the leaf (h, h): the one whose two words are equal.
        bytes32[] memory evidence = _pending[c].evidence;
        bytes32 dupHash = keccak256(abi.encode(c, _pending[c].epoch, 1));
        uint256 index = type(uint256).max;
        for (uint256 i; i < evidence.length; ++i) {
            if (evidence[i] == TestMerkle.pairLeaf(dupHash, dupHash)) index = i;
        }
        dist.challengeMalformedEvidence(
            campaigns[c],
            IRewardDistributor.EvidenceLeaf({
                count: evidence.length,
                index: index,
                hash: dupHash,
                next: dupHash,
                proof: TestMerkle.positionalProof(evidence, index)
            })
        );
        _pending[c].exists = false;
        ++calls[this.challengeMalformed.selector];
    }

    function claim(uint256 cSeed, uint256 pSeed) external {
        uint256 c = cSeed % CAMPAIGNS;
        uint256 p = pSeed % PRODUCERS;
        _sync(c);
        bytes32 id = campaigns[c];
        if (!_final[c].exists || block.timestamp > dist.campaignOf(id).claimDeadline) return;
        if (dist.producerAccountOf(producers[p]) == address(0)) return;
        uint256 cumulative = _final[c].cumulatives[p];
        if (cumulative <= dist.claimedOf(id, producers[p])) return;
        uint256 before = token.balanceOf(address(dist));
        dist.claimFor(id, producers[p], cumulative, TestMerkle.proof(_final[c].leaves, p));
        ghostClaimed += before - token.balanceOf(address(dist));
        ++calls[this.claim.selector];
    }

    function registerLateProducer() external {
        vm.prank(registrar);
        dist.registerProducer(producers[PRODUCERS - 1], accounts[PRODUCERS - 1]);
        ++calls[this.registerLateProducer.selector];
    }

    function reclaim(uint256 cSeed, uint256 seed) external {
        if (seed % 8 != 0) return;
        bytes32 id = campaigns[cSeed % CAMPAIGNS];
        IRewardDistributor.Campaign memory campaign = dist.campaignOf(id);
        if (campaign.reclaimed) return;
        if (block.timestamp <= campaign.claimDeadline) vm.warp(uint256(campaign.claimDeadline) + 1);
        uint256 before = token.balanceOf(address(dist));
        vm.prank(sponsor);
        dist.reclaim(id);
        ghostReclaimed += before - token.balanceOf(address(dist));
        ++calls[this.reclaim.selector];
    }

    /// @dev Proposes the campaign's root at `epoch`: the final cumulatives plus `incs`, signed by two oracles.
    function _propose(uint256 c, uint64 epoch, uint256[PRODUCERS] memory incs, bool duplicate) internal {
        bytes32[] memory leaves = new bytes32[](PRODUCERS);
        uint256 total;
        for (uint256 p; p < PRODUCERS; ++p) {
            _pending[c].cumulatives[p] = _final[c].cumulatives[p] + incs[p];
            leaves[p] = TestMerkle.producerLeaf(producers[p], _pending[c].cumulatives[p]);
            total += _pending[c].cumulatives[p];
        }
        bytes32[] memory hashes = new bytes32[](3);
        hashes[0] = keccak256(abi.encode(c, epoch, 1));
        hashes[1] = keccak256(abi.encode(c, epoch, 2));
        hashes[2] = duplicate ? hashes[0] : keccak256(abi.encode(c, epoch, 3));
        bytes32[] memory evidence = TestMerkle.listLeaves(TestMerkle.sort(hashes));
        RootMessage memory m = RootMessage({
            campaignId: campaigns[c],
            root: TestMerkle.root(leaves),
            total: total,
            evidenceRoot: TestMerkle.positionalRoot(evidence),
            epoch: epoch,
            cutoff: uint64(block.timestamp),
            version: dist.oracleSetVersion()
        });
        bytes32 digest = _rootDigest(address(dist), m);
        bytes[] memory sigs = new bytes[](2);
        sigs[0] = _sign(_keys[0], digest);
        sigs[1] = _sign(_keys[1], digest);
        dist.proposeRoot(m.campaignId, epoch, m.root, total, m.evidenceRoot, m.cutoff, sigs);
        _pending[c].exists = true;
        _pending[c].duplicate = duplicate;
        _pending[c].epoch = epoch;
        _pending[c].leaves = leaves;
        _pending[c].evidence = evidence;
    }

    /// @dev A pending root the contract no longer shows as pending became final (the handler voids only itself).
    function _sync(uint256 c) internal {
        if (!_pending[c].exists || dist.pendingRootOf(campaigns[c]).proposedAt != 0) return;
        _final[c] = _pending[c];
        _pending[c].exists = false;
    }
}

/// @dev Invariants of `RewardDistributor`: it holds exactly what was funded less what was claimed and reclaimed,
///      campaign by campaign; no producer has claimed more than its cumulative in the final root; a campaign's
///      claims are the sum of its producers' and never exceed its final total, which never exceeds its funds.
contract RewardDistributorInvariantTest is RewardDistributorFixture {
    RewardDistributorHandler internal handler;

    function setUp() public override {
        super.setUp();
        bytes32 second = _createCampaign(sponsor, keccak256("campaign-2"), FUNDS / 2);
        vm.prank(sponsor);
        token.approve(address(dist), type(uint256).max);
        handler = new RewardDistributorHandler(
            dist,
            sponsor,
            registrar,
            [campaignId, second],
            [P1, P2, P3],
            [account1, account2, account3],
            [oracleKey[0], oracleKey[1]],
            BUDGET,
            LAST_EPOCH
        );
        targetContract(address(handler));
    }

    function invariant_balanceIsFundedLessClaimedLessReclaimed() public view {
        uint256 balance = token.balanceOf(address(dist));
        assertEq(balance, handler.ghostFunded() - handler.ghostClaimed() - handler.ghostReclaimed());
        uint256 held;
        for (uint256 c; c < 2; ++c) {
            IRewardDistributor.Campaign memory campaign = dist.campaignOf(handler.campaigns(c));
            if (!campaign.reclaimed) held += campaign.funded - campaign.claimed;
        }
        assertEq(balance, held);
    }

    function invariant_claimsWithinTheFinalCumulativesAndTotals() public view {
        for (uint256 c; c < 2; ++c) {
            bytes32 id = handler.campaigns(c);
            uint256 sum;
            for (uint256 p; p < 3; ++p) {
                uint256 claimed = dist.claimedOf(id, handler.producers(p));
                assertLe(claimed, handler.finalCumulative(c, p));
                sum += claimed;
            }
            IRewardDistributor.Campaign memory campaign = dist.campaignOf(id);
            assertEq(campaign.claimed, sum);
            IRewardDistributor.FinalizedRoot memory root = dist.finalizedRootOf(id);
            assertLe(campaign.claimed, root.total);
            assertLe(root.total, campaign.funded);
        }
    }
}
