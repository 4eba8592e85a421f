// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Test} from "forge-std/Test.sol";

import {IScoringModelRegistry} from "../certificates/interfaces/IScoringModelRegistry.sol";
import {ScoringModelRegistry} from "../certificates/ScoringModelRegistry.sol";

/// @dev Unit and fuzz tests of `ScoringModelRegistry`, attacks first.
contract CertificateModelRegistryTest is Test {
    uint48 internal constant ADMIN_DELAY = 3 days;
    bytes32 internal constant MODEL = keccak256("bank-chain/trust-score/v1");
    bytes32 internal constant HASH = keccak256("content");

    address internal admin = makeAddr("admin");
    address internal modelAdmin = makeAddr("modelAdmin");
    address internal mallory = makeAddr("mallory");
    ScoringModelRegistry internal registry;

    function setUp() public {
        registry = new ScoringModelRegistry(admin, ADMIN_DELAY);
        bytes32 role = registry.MODEL_ADMIN_ROLE();
        vm.prank(admin);
        registry.grantRole(role, modelAdmin);
    }

    // ---------------------------------------------------------------- attacks

    function test_A1_strangerCannotRegisterActivateOrRetire() public {
        bytes32 role = registry.MODEL_ADMIN_ROLE();
        bytes memory denied = abi.encodeWithSelector(
            IAccessControl.AccessControlUnauthorizedAccount.selector,
            mallory,
            role
        );
        vm.expectRevert(denied);
        vm.prank(mallory);
        registry.registerModel(MODEL, 1, HASH, 4);
        vm.prank(modelAdmin);
        registry.registerModel(MODEL, 1, HASH, 4);
        vm.expectRevert(denied);
        vm.prank(mallory);
        registry.activateModel(MODEL);
        vm.expectRevert(denied);
        vm.prank(mallory);
        registry.retireModel(MODEL);
    }

    function test_A2_modelIdCannotBeReusedToRepointItsContent() public {
        vm.startPrank(modelAdmin);
        registry.registerModel(MODEL, 1, HASH, 4);
        vm.expectRevert(
            _transition(MODEL, IScoringModelRegistry.ModelState.Registered, IScoringModelRegistry.ModelState.None)
        );
        registry.registerModel(MODEL, 2, keccak256("other"), 4);
        registry.retireModel(MODEL);
        vm.expectRevert(
            _transition(MODEL, IScoringModelRegistry.ModelState.Retired, IScoringModelRegistry.ModelState.None)
        );
        registry.registerModel(MODEL, 2, keccak256("other"), 4);
        vm.stopPrank();
        assertEq(registry.modelOf(MODEL).contentHash, HASH);
    }

    function test_A3_retiredModelCannotBeActivatedAgain() public {
        vm.startPrank(modelAdmin);
        registry.registerModel(MODEL, 1, HASH, 4);
        registry.activateModel(MODEL);
        registry.retireModel(MODEL);
        vm.expectRevert(
            _transition(MODEL, IScoringModelRegistry.ModelState.Retired, IScoringModelRegistry.ModelState.Registered)
        );
        registry.activateModel(MODEL);
        vm.expectRevert(
            _transition(MODEL, IScoringModelRegistry.ModelState.Retired, IScoringModelRegistry.ModelState.Active)
        );
        registry.retireModel(MODEL);
        vm.stopPrank();
        assertFalse(registry.isActive(MODEL));
    }

    function test_A4_invalidModelsAreRefused() public {
        vm.startPrank(modelAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(IScoringModelRegistry.ScoringModelInvalid.selector, bytes32(0), 1, HASH, 4)
        );
        registry.registerModel(bytes32(0), 1, HASH, 4);
        vm.expectRevert(abi.encodeWithSelector(IScoringModelRegistry.ScoringModelInvalid.selector, MODEL, 0, HASH, 4));
        registry.registerModel(MODEL, 0, HASH, 4);
        vm.expectRevert(
            abi.encodeWithSelector(IScoringModelRegistry.ScoringModelInvalid.selector, MODEL, 1, bytes32(0), 4)
        );
        registry.registerModel(MODEL, 1, bytes32(0), 4);
        vm.expectRevert(abi.encodeWithSelector(IScoringModelRegistry.ScoringModelInvalid.selector, MODEL, 1, HASH, 1));
        registry.registerModel(MODEL, 1, HASH, 1);
        vm.stopPrank();
    }

    function test_A5_unknownModelCannotBeActivatedOrRetired() public {
        vm.startPrank(modelAdmin);
        vm.expectRevert(
            _transition(MODEL, IScoringModelRegistry.ModelState.None, IScoringModelRegistry.ModelState.Registered)
        );
        registry.activateModel(MODEL);
        vm.expectRevert(
            _transition(MODEL, IScoringModelRegistry.ModelState.None, IScoringModelRegistry.ModelState.Active)
        );
        registry.retireModel(MODEL);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- unit

    function test_lifeCycle_registerActivateRetire_emits() public {
        vm.startPrank(modelAdmin);
        vm.expectEmit(address(registry));
        emit IScoringModelRegistry.ScoringModelRegistered(MODEL, 3, HASH, 4);
        registry.registerModel(MODEL, 3, HASH, 4);
        assertEq(uint8(registry.stateOf(MODEL)), uint8(IScoringModelRegistry.ModelState.Registered));
        assertFalse(registry.isActive(MODEL));
        vm.expectEmit(address(registry));
        emit IScoringModelRegistry.ScoringModelActivated(MODEL);
        registry.activateModel(MODEL);
        assertTrue(registry.isActive(MODEL));
        vm.expectEmit(address(registry));
        emit IScoringModelRegistry.ScoringModelRetired(MODEL);
        registry.retireModel(MODEL);
        vm.stopPrank();
        IScoringModelRegistry.Model memory model = registry.modelOf(MODEL);
        assertEq(model.version, 3);
        assertEq(model.levels, 4);
        assertEq(model.contentHash, HASH);
        assertEq(uint8(model.state), uint8(IScoringModelRegistry.ModelState.Retired));
    }

    function test_retire_fromRegistered() public {
        vm.startPrank(modelAdmin);
        registry.registerModel(MODEL, 1, HASH, 2);
        registry.retireModel(MODEL);
        vm.stopPrank();
        assertEq(uint8(registry.stateOf(MODEL)), uint8(IScoringModelRegistry.ModelState.Retired));
    }

    function test_constructor_setsAdminRules() public view {
        assertEq(registry.defaultAdmin(), admin);
        assertEq(registry.defaultAdminDelay(), ADMIN_DELAY);
        assertEq(registry.MODEL_ADMIN_ROLE(), keccak256("MODEL_ADMIN_ROLE"));
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_register_storesWhatWasGiven(bytes32 id, uint32 version, bytes32 hash, uint8 levels) public {
        vm.assume(id != bytes32(0) && version != 0 && hash != bytes32(0));
        levels = uint8(bound(levels, 2, type(uint8).max));
        vm.prank(modelAdmin);
        registry.registerModel(id, version, hash, levels);
        IScoringModelRegistry.Model memory model = registry.modelOf(id);
        assertEq(model.version, version);
        assertEq(model.levels, levels);
        assertEq(model.contentHash, hash);
        assertFalse(registry.isActive(id));
    }

    function _transition(
        bytes32 id,
        IScoringModelRegistry.ModelState current,
        IScoringModelRegistry.ModelState expected
    ) private pure returns (bytes memory) {
        return
            abi.encodeWithSelector(IScoringModelRegistry.ScoringModelInvalidTransition.selector, id, current, expected);
    }
}
