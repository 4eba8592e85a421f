// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {InteroperableAddress} from "@openzeppelin/contracts/utils/draft-InteroperableAddress.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {Test} from "forge-std/Test.sol";

import {ChainRegistry} from "../interop/ChainRegistry.sol";

/// @dev Unit and fuzz tests of `ChainRegistry`, attacks first.
contract ChainRegistryTest is Test {
    using Strings for uint256;

    uint48 internal constant ADMIN_DELAY = 3 days;
    address internal admin = makeAddr("admin");
    address internal chainAdmin = makeAddr("chainAdmin");
    address internal mallory = makeAddr("mallory");
    ChainRegistry internal registry;

    function setUp() public {
        registry = new ChainRegistry(admin, ADMIN_DELAY);
        bytes32 role = registry.CHAIN_ADMIN_ROLE();
        vm.prank(admin);
        registry.grantRole(role, chainAdmin);
    }

    // ---------------------------------------------------------------- attacks

    function test_A1_strangerCannotRegisterOrToggleAChain() public {
        bytes32 role = registry.CHAIN_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, mallory, role)
        );
        vm.prank(mallory);
        registry.registerChain(4242, "eip155:4242", true);
        vm.prank(chainAdmin);
        registry.registerChain(4242, "eip155:4242", false);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, mallory, role)
        );
        vm.prank(mallory);
        registry.setChainEnabled(4242, true);
    }

    function test_A2_nonCanonicalCaip2IsRefused() public {
        string[7] memory bad = ["eip155:042", "cosmos:42", "eip155:43", "eip155", "eip155:42 ", "EIP155:42", ":42"];
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ChainRegistry.InvalidCaip2.selector, 42, bad[i]));
            vm.prank(chainAdmin);
            registry.registerChain(42, bad[i], true);
        }
    }

    function test_A3_aChainCannotBeRegisteredTwiceToRepointItsCaip2() public {
        vm.startPrank(chainAdmin);
        registry.registerChain(42, "eip155:42", true);
        vm.expectRevert(abi.encodeWithSelector(ChainRegistry.ChainAlreadyRegistered.selector, 42));
        registry.registerChain(42, "eip155:42", false);
        vm.stopPrank();
        assertTrue(registry.isEnabled(42));
    }

    function test_A4_zeroChainIdIsRefused() public {
        vm.expectRevert(ChainRegistry.ZeroChainId.selector);
        vm.prank(chainAdmin);
        registry.registerChain(0, "eip155:0", true);
    }

    function test_A5_unknownChainAndCaip2Revert() public {
        vm.expectRevert(abi.encodeWithSelector(ChainRegistry.UnknownChain.selector, 7));
        registry.chainOf(7);
        vm.expectRevert(abi.encodeWithSelector(ChainRegistry.UnknownCaip2.selector, "eip155:7"));
        registry.chainIdOfCaip2("eip155:7");
        vm.expectRevert(abi.encodeWithSelector(ChainRegistry.UnknownChain.selector, 7));
        vm.prank(chainAdmin);
        registry.setChainEnabled(7, true);
        vm.expectRevert(abi.encodeWithSelector(ChainRegistry.UnknownChain.selector, 7));
        registry.interoperableAddressOf(7, mallory);
        assertFalse(registry.isEnabled(7));
    }

    // ---------------------------------------------------------------- unit

    function test_register_storesChainAndEmits() public {
        vm.expectEmit(address(registry));
        emit ChainRegistry.ChainRegistered(4343, "eip155:4343", InteroperableAddress.formatEvmV1(4343), true);
        vm.prank(chainAdmin);
        registry.registerChain(4343, "eip155:4343", true);
        ChainRegistry.ChainInfo memory info = registry.chainOf(4343);
        assertEq(info.chainId, 4343);
        assertEq(info.caip2, "eip155:4343");
        assertEq(info.interoperablePrefix, InteroperableAddress.formatEvmV1(4343));
        assertTrue(info.enabled);
        assertTrue(registry.isRegistered(4343));
        assertEq(registry.chainIdOfCaip2("eip155:4343"), 4343);
    }

    function test_setChainEnabled_togglesAndEmits_refusesNoOp() public {
        vm.startPrank(chainAdmin);
        registry.registerChain(4242, "eip155:4242", true);
        vm.expectEmit(address(registry));
        emit ChainRegistry.ChainEnabledSet(4242, false);
        registry.setChainEnabled(4242, false);
        assertFalse(registry.isEnabled(4242));
        assertTrue(registry.isRegistered(4242));
        assertEq(registry.chainIdOfCaip2("eip155:4242"), 4242);
        vm.expectRevert(abi.encodeWithSelector(ChainRegistry.ChainStateUnchanged.selector, 4242, false));
        registry.setChainEnabled(4242, false);
        registry.setChainEnabled(4242, true);
        vm.stopPrank();
        assertTrue(registry.isEnabled(4242));
    }

    function test_constructor_setsAdminRules() public view {
        assertEq(registry.defaultAdmin(), admin);
        assertEq(registry.defaultAdminDelay(), ADMIN_DELAY);
        assertEq(registry.CHAIN_ADMIN_ROLE(), keccak256("CHAIN_ADMIN_ROLE"));
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_canonicalCaip2RoundTripsAndInteropAddressParses(uint256 chainId, address account) public {
        chainId = bound(chainId, 1, type(uint64).max);
        string memory caip2 = string.concat("eip155:", chainId.toString());
        vm.prank(chainAdmin);
        registry.registerChain(chainId, caip2, true);
        assertEq(registry.chainIdOfCaip2(caip2), chainId);
        (uint256 parsedId, address parsed) = InteroperableAddress.parseEvmV1(
            registry.interoperableAddressOf(chainId, account)
        );
        assertEq(parsedId, chainId);
        assertEq(parsed, account);
    }

    function testFuzz_anyOtherStringIsRefused(uint256 chainId, string calldata caip2) public {
        chainId = bound(chainId, 1, type(uint64).max);
        vm.assume(keccak256(bytes(caip2)) != keccak256(bytes(string.concat("eip155:", chainId.toString()))));
        vm.expectRevert(abi.encodeWithSelector(ChainRegistry.InvalidCaip2.selector, chainId, caip2));
        vm.prank(chainAdmin);
        registry.registerChain(chainId, caip2, true);
    }
}
