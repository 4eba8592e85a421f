// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {RewardDistributor} from "../rewards/RewardDistributor.sol";
import {IRewardDistributor} from "../rewards/interfaces/IRewardDistributor.sol";
import {MockERC20} from "./mocks/MockERC20.sol";

/// @dev Red team: attacks on the RewardDistributor found by the issue-18 audit, each failing before its fix.
contract RewardRedTeamTest is Test {
    uint64 internal constant GENESIS = 1_800_000_000;
    uint64 internal constant EPOCH = 30;
    uint64 internal constant WINDOW = 30;

    MockERC20 internal token;
    RewardDistributor internal dist;
    address internal admin = makeAddr("admin");
    address internal sponsor = makeAddr("sponsor");
    address internal producerAccount = makeAddr("producer");
    address internal attacker = makeAddr("attacker");
    bytes32 internal producerId = keccak256("producer:red-team");
    bytes32 internal campaignId;
    uint256[3] internal keys;

    function setUp() public {
        vm.warp(GENESIS);
        token = new MockERC20();
        dist = new RewardDistributor(token, admin, 0, GENESIS, EPOCH, WINDOW);
        // Three oracles, ascending by address.
        uint256[3] memory k = [uint256(0xA11CE), uint256(0xB0B), uint256(0xCA7)];
        for (uint256 i; i < 3; ++i) {
            for (uint256 j = i + 1; j < 3; ++j) {
                if (vm.addr(k[j]) < vm.addr(k[i])) (k[i], k[j]) = (k[j], k[i]);
            }
        }
        keys = k;
        address[] memory set = new address[](3);
        for (uint256 i; i < 3; ++i) set[i] = vm.addr(k[i]);
        vm.startPrank(admin);
        dist.grantRole(dist.ORACLE_ADMIN_ROLE(), admin);
        dist.grantRole(dist.REGISTRAR_ROLE(), admin);
        dist.setOracles(set, 2);
        dist.registerProducer(producerId, producerAccount);
        vm.stopPrank();
        token.mint(sponsor, 1_000);
        vm.startPrank(sponsor);
        token.approve(address(dist), 1_000);
        campaignId = dist.createCampaign(bytes32("salt"), 1_000, 0, 10, GENESIS + 10_000, bytes32("terms"), 1_000);
        vm.stopPrank();
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev A voided root is gone for good: the same signed root relayed again must not come back and pay.
    ///      Its signatures are public (the calldata of the first proposal), and nothing in the contract remembers
    ///      that a root was proven wrong, so anyone (a producer it overpays) can resurrect it right after the void
    ///      and it finalizes unless a watcher challenges it again, every time.
    function test_RT1_aVoidedRootCannotBeProposedAgainWithItsSignatures() public {
        uint64 cutoff = GENESIS + EPOCH + 10;
        vm.warp(cutoff);
        // The producer tree: one leaf (producerId, 500); the evidence: empty (the single leaf (0, ~0), count 1).
        bytes32 root = keccak256(bytes.concat(keccak256(abi.encode(producerId, uint256(500)))));
        bytes32 evidenceRoot = keccak256(
            abi.encode(uint256(1), keccak256(bytes.concat(keccak256(abi.encode(bytes32(0), ~bytes32(0))))))
        );
        bytes32 digest = dist.hashEpochRoot(campaignId, 0, root, 500, evidenceRoot, cutoff, 1);
        bytes[] memory sigs = new bytes[](2);
        sigs[0] = _sign(keys[0], digest);
        sigs[1] = _sign(keys[1], digest);
        dist.proposeRoot(campaignId, 0, root, 500, evidenceRoot, cutoff, sigs);

        // A record receipted by a signer before the cutoff and left out: the root is voided.
        _voidByOmission(cutoff);
        assertEq(dist.pendingRootOf(campaignId).proposedAt, 0);

        // Anyone relays the voided root again with the same signatures.
        vm.prank(attacker);
        // solhint-disable-next-line avoid-low-level-calls
        (bool replayed, ) = address(dist).call(
            abi.encodeCall(dist.proposeRoot, (campaignId, 0, root, 500, evidenceRoot, cutoff, sigs))
        );
        if (replayed) {
            vm.warp(block.timestamp + WINDOW);
            dist.claimFor(campaignId, producerId, 500, new bytes32[](0));
        }
        assertFalse(replayed, "a voided root was accepted again with its old signatures");
        // The refusal names the voided digest.
        vm.expectRevert(abi.encodeWithSelector(IRewardDistributor.RewardRootWasVoided.selector, campaignId, digest));
        dist.proposeRoot(campaignId, 0, root, 500, evidenceRoot, cutoff, sigs);
        assertEq(token.balanceOf(producerAccount), 0, "a root proven wrong paid out");
    }

    /// @dev Voids the pending root (empty evidence) by the omission of a record receipted by a signer.
    function _voidByOmission(uint64 cutoff) internal {
        bytes32 record = keccak256("a receipted record");
        bytes memory receipt = _sign(keys[0], dist.hashReceipt(record, 0, cutoff - 5));
        dist.challengeOmission(
            campaignId,
            record,
            0,
            cutoff - 5,
            receipt,
            IRewardDistributor.EvidenceLeaf({
                count: 1,
                index: 0,
                hash: bytes32(0),
                next: ~bytes32(0),
                proof: new bytes32[](0)
            })
        );
    }
}
