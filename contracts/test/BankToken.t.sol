// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
// The path alone is over 100 characters and prettier keeps a named import on one line.
// solhint-disable-next-line max-line-length
import {IAccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";
import {IERC1967} from "@openzeppelin/contracts/interfaces/IERC1967.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";

import {IIssuanceGate} from "../reserves/interfaces/IIssuanceGate.sol";
import {BankToken} from "../token/BankToken.sol";
import {BankTokenAdmin} from "../token/BankTokenAdmin.sol";
import {MinterWord, MinterWordLib} from "../token/MinterWord.sol";
import {IBankToken} from "../token/interfaces/IBankToken.sol";
import {BankTokenTestBase, BankTokenV2Mock, MockIssuanceGate, MockStrayToken} from "./BankTokenBase.t.sol";

/// @notice Unit and fuzz tests of `BankToken` through its proxy: initialization, storage layout, upgrades,
///         ERC-20, mint and burn, minters and their rate limit, pause, freeze and wipe, cap, gate, rescue.
contract BankTokenTest is BankTokenTestBase {
    // ───────────────────────────── initialization, layout, upgrade ─────────────────────────────

    function test_initialize_setsMetadataAndConfig() public view {
        assertEq(token.name(), "Bank Dollar");
        assertEq(token.symbol(), "bUSD");
        assertEq(token.decimals(), 2);
        assertEq(token.currency(), bytes3("USD"));
        assertEq(token.supplyCap(), CAP);
        assertEq(token.totalSupply(), 0);
        assertEq(address(token.issuanceGate()), address(gate));
        assertEq(token.defaultAdmin(), admin);
        assertEq(token.defaultAdminDelay(), ADMIN_DELAY);
        assertFalse(token.paused());
        assertTrue(token.hasRole(token.UPGRADER_ROLE(), upgrader));
    }

    function test_initialize_emitsEvents() public {
        BankToken impl = new BankToken();
        vm.expectEmit();
        emit IBankToken.CurrencyInitialized(bytes3("USD"), 2, "Bank Dollar", "bUSD");
        vm.expectEmit();
        emit IBankToken.SupplyCapChanged(0, CAP);
        vm.expectEmit();
        emit IBankToken.IssuanceGateChanged(address(0), address(gate));
        _deployProxy(address(impl), gate);
    }

    function test_initialize_revertsOnImplementation() public {
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        implementation.initialize("X", "X", bytes3("USD"), 2, CAP, gate, admin, 0);
    }

    function test_initialize_revertsWhenCalledTwice() public {
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        token.initialize("X", "X", bytes3("USD"), 2, CAP, gate, admin, 0);
    }

    function test_initialize_revertsWhenNameOrSymbolEmpty() public {
        _expectInitRevert(
            "",
            "S",
            "USD",
            2,
            CAP,
            gate,
            admin,
            abi.encodeWithSelector(IBankToken.BankTokenEmptyMetadata.selector)
        );
        _expectInitRevert(
            "N",
            "",
            "USD",
            2,
            CAP,
            gate,
            admin,
            abi.encodeWithSelector(IBankToken.BankTokenEmptyMetadata.selector)
        );
    }

    function test_initialize_revertsWhenCurrencyInvalid() public {
        bytes3[5] memory bad = [bytes3("usd"), bytes3("US1"), bytes3(0), bytes3("@SD"), bytes3("US[")];
        for (uint256 i; i < bad.length; ++i) {
            _expectInitRevert(
                "N",
                "S",
                bad[i],
                2,
                CAP,
                gate,
                admin,
                abi.encodeWithSelector(IBankToken.BankTokenInvalidCurrency.selector, bad[i])
            );
        }
    }

    function test_initialize_acceptsEveryUpperCaseLetter() public {
        _deployWith("ZAZ", 0, CAP, gate, admin);
        _deployWith("AZA", 4, CAP, gate, admin);
    }

    function test_initialize_revertsWhenDecimalsAboveFour() public {
        _expectInitRevert(
            "N",
            "S",
            "USD",
            5,
            CAP,
            gate,
            admin,
            abi.encodeWithSelector(IBankToken.BankTokenInvalidDecimals.selector, 5)
        );
    }

    function test_initialize_revertsWhenAdminZero() public {
        _expectInitRevert(
            "N",
            "S",
            "USD",
            2,
            CAP,
            gate,
            address(0),
            abi.encodeWithSelector(IBankToken.BankTokenZeroAddress.selector)
        );
    }

    function test_initialize_revertsWhenCapTooLarge() public {
        _expectInitRevert(
            "N",
            "S",
            "USD",
            2,
            MAX_CAP + 1,
            gate,
            admin,
            abi.encodeWithSelector(IBankToken.BankTokenSupplyCapTooLarge.selector, MAX_CAP + 1, MAX_CAP)
        );
    }

    function test_initialize_revertsWhenGateHasNoCode() public {
        _expectInitRevert(
            "N",
            "S",
            "USD",
            2,
            CAP,
            IIssuanceGate(carol),
            admin,
            abi.encodeWithSelector(IBankToken.BankTokenInvalidIssuanceGate.selector, carol)
        );
    }

    function test_initialize_acceptsZeroGateButMintingWaitsForIt() public {
        BankToken t = _deployWith("USD", 2, CAP, IIssuanceGate(address(0)), admin);
        assertEq(address(t.issuanceGate()), address(0));
        bytes32 role = t.MINTER_ADMIN_ROLE();
        vm.prank(admin);
        t.grantRole(role, minterAdmin);
        vm.prank(minterAdmin);
        t.configureMinter(minter, 100);
        vm.prank(minter);
        vm.expectRevert(IBankToken.BankTokenIssuanceGateNotSet.selector);
        t.mint(alice, 1, REF);
        vm.prank(minter);
        vm.expectRevert(IBankToken.BankTokenIssuanceGateNotSet.selector);
        t.burn(1, REF);
    }

    function test_storageLocation_isTheErc7201Slot() public pure {
        bytes32 expected =
            keccak256(abi.encode(uint256(keccak256("bank-chain.storage.BankToken")) - 1)) & ~bytes32(uint256(0xff));
        assertEq(expected, STORAGE_LOCATION);
        assertEq(expected, 0xf0d8963450aeff25ec37ef3cfd0d19f590c8a4857cc9803c586a454ce098b100);
    }

    function test_storageLayout_accountWordHoldsBalanceNonceAndFrozenFlag() public {
        _mint(alice, 12_345);
        uint256 word = uint256(vm.load(address(token), _accountSlot(alice)));
        assertEq(word, 12_345, "balance in bits 0..127");

        // A permit bumps the nonce in bits 128..191 of the same word.
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _sign(aliceKey, _permitDigest(alice, bob, 7, 0, deadline));
        token.permit(alice, bob, 7, deadline, v, r, s);
        word = uint256(vm.load(address(token), _accountSlot(alice)));
        assertEq(word, (uint256(1) << 128) | 12_345, "nonce in bits 128..191");

        _freeze(alice);
        word = uint256(vm.load(address(token), _accountSlot(alice)));
        assertEq(word, (uint256(1) << 255) | (uint256(1) << 128) | 12_345, "frozen flag in bit 255");
    }

    function test_storageLayout_reservoirWordHoldsRoomCapAndPauseFlag() public {
        _mint(alice, 1_000);
        uint256 word = uint256(vm.load(address(token), _accountSlot(address(0))));
        assertEq(word, (CAP << 128) | (CAP - 1_000));
        _pause();
        word = uint256(vm.load(address(token), _accountSlot(address(0))));
        assertEq(word, (uint256(1) << 255) | (CAP << 128) | (CAP - 1_000));
    }

    function test_storageLayout_otherMembers() public {
        // +1 allowances, +2 gate|decimals|currency, +3 minters, +4 authorizations.
        vm.prank(alice);
        token.approve(bob, 99);
        bytes32 inner = keccak256(abi.encode(alice, uint256(STORAGE_LOCATION) + 1));
        assertEq(uint256(vm.load(address(token), keccak256(abi.encode(bob, inner)))), 99);

        uint256 config = uint256(vm.load(address(token), bytes32(uint256(STORAGE_LOCATION) + 2)));
        assertEq(address(uint160(config)), address(gate));
        assertEq(uint8(config >> 160), 2);
        assertEq(bytes3(uint24(config >> 168)), bytes3("USD"));

        uint256 minterWord = uint256(
            vm.load(address(token), keccak256(abi.encode(minter, uint256(STORAGE_LOCATION) + 3)))
        );
        assertEq(minterWord & ((1 << 88) - 1), MINTER_ALLOWANCE);
        assertEq(minterWord >> 255, 1);
    }

    function test_upgradeToAndCall_keepsStateAndAddsVersion() public {
        _mint(alice, 500);
        _freeze(bob);
        vm.prank(alice);
        token.approve(carol, 40);
        BankTokenV2Mock v2 = new BankTokenV2Mock();

        vm.expectEmit(address(token));
        emit IERC1967.Upgraded(address(v2));
        vm.prank(upgrader);
        token.upgradeToAndCall(address(v2), "");

        assertEq(BankTokenV2Mock(address(token)).version(), "2");
        assertEq(token.balanceOf(alice), 500);
        assertEq(token.totalSupply(), 500);
        assertEq(token.allowance(alice, carol), 40);
        assertTrue(token.isFrozen(bob));
        assertTrue(token.isMinter(minter));
        assertEq(token.defaultAdmin(), admin);
        vm.prank(alice);
        token.transfer(carol, 100);
        assertEq(token.balanceOf(carol), 100);
    }

    function test_upgradeToAndCall_revertsWhenNotUpgrader() public {
        BankTokenV2Mock v2 = new BankTokenV2Mock();
        bytes32 role = token.UPGRADER_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role));
        vm.prank(admin);
        token.upgradeToAndCall(address(v2), "");
    }

    function test_upgradeToAndCall_revertsOnImplementation() public {
        vm.expectRevert(UUPSUpgradeable.UUPSUnauthorizedCallContext.selector);
        vm.prank(upgrader);
        implementation.upgradeToAndCall(address(implementation), "");
    }

    function test_adminModule_refusesDirectCalls() public {
        BankTokenAdmin module = new BankTokenAdmin();
        vm.expectRevert(BankTokenAdmin.BankTokenAdminNotDelegated.selector);
        vm.prank(admin);
        module.setSupplyCap(1);
        vm.expectRevert(BankTokenAdmin.BankTokenAdminNotDelegated.selector);
        vm.prank(pauser);
        module.pause();
        vm.expectRevert(BankTokenAdmin.BankTokenAdminNotDelegated.selector);
        vm.prank(rescuer);
        module.rescueERC20(IERC20(address(token)), rescuer, 0);
        // Its inherited role functions act on its own storage, where no one holds a role and nothing can be set up.
        bytes32 adminRole = module.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, adminRole)
        );
        vm.prank(admin);
        module.grantRole(keccak256("PAUSER_ROLE"), admin);
        assertEq(module.defaultAdmin(), address(0));
    }

    function test_adminModule_pathsRunInTheTokensStorage_andComeWithEachUpgrade() public {
        vm.prank(pauser);
        token.pause();
        assertTrue(token.paused());
        vm.prank(pauser);
        token.unpause();
        BankTokenV2Mock v2 = new BankTokenV2Mock();
        vm.prank(upgrader);
        token.upgradeToAndCall(address(v2), "");
        // The new implementation's own module runs the admin paths, on the same state.
        vm.expectEmit(address(token));
        emit IBankToken.Paused(pauser);
        vm.prank(pauser);
        token.pause();
        assertTrue(token.paused());
        bytes32 pauserRole = token.PAUSER_ROLE();
        vm.prank(admin);
        token.grantRole(pauserRole, carol);
        assertTrue(token.hasRole(pauserRole, carol));
        vm.prank(carol);
        token.unpause();
        assertFalse(token.paused());
    }

    function testFuzz_minterWord_fieldsRoundTripAndStayApart(
        uint256 seed,
        uint256 allowance_,
        uint256 capacity,
        uint256 period,
        uint256 refill
    ) public pure {
        MinterWord w = MinterWord.wrap(seed);
        MinterWord a = w.withAllowance(allowance_);
        assertEq(a.allowance(), allowance_ & type(uint88).max);
        assertEq(a.capacity(), w.capacity());
        assertEq(a.period(), w.period());
        assertEq(a.lastRefill(), w.lastRefill());
        assertEq(a.enabled(), w.enabled());
        MinterWord r = w.withRateLimit(capacity, period);
        assertEq(r.capacity(), capacity & type(uint88).max);
        assertEq(r.period(), period & type(uint32).max);
        assertEq(r.allowance(), w.allowance());
        assertEq(r.lastRefill(), w.lastRefill());
        assertEq(r.enabled(), w.enabled());
        MinterWord t = w.withLastRefill(refill);
        assertEq(t.lastRefill(), refill & type(uint40).max);
        assertEq(t.allowance(), w.allowance());
        assertEq(t.capacity(), w.capacity());
        assertEq(t.period(), w.period());
        assertEq(t.enabled(), w.enabled());
        uint256 spent = allowance_ % (a.allowance() + 1);
        MinterWord sp = a.withAllowanceSpent(spent);
        assertEq(sp.allowance(), a.allowance() - spent);
        assertEq(MinterWord.unwrap(sp) >> 88, MinterWord.unwrap(a) >> 88, "spending leaves the other fields");
        MinterWord c = MinterWordLib.configured(allowance_, refill);
        assertTrue(c.enabled());
        assertEq(c.allowance(), allowance_ & type(uint88).max);
        assertEq(c.capacity(), 0);
        assertEq(c.period(), 0);
        assertEq(c.lastRefill(), refill & type(uint40).max);
    }

    function test_proxiableUUID_isTheErc1967Slot() public view {
        assertEq(implementation.proxiableUUID(), 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc);
    }

    function test_defaultAdmin_handoverTakesTwoStepsAndTheDelay() public {
        vm.prank(admin);
        token.beginDefaultAdminTransfer(carol);
        vm.prank(carol);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminDelay.selector,
                uint48(block.timestamp + ADMIN_DELAY)
            )
        );
        token.acceptDefaultAdminTransfer();
        vm.warp(block.timestamp + ADMIN_DELAY + 1);
        vm.prank(carol);
        token.acceptDefaultAdminTransfer();
        assertEq(token.defaultAdmin(), carol);
        assertFalse(token.hasRole(token.DEFAULT_ADMIN_ROLE(), admin));
    }

    function test_supportsInterface_accessControl() public view {
        assertTrue(token.supportsInterface(type(IAccessControl).interfaceId));
        assertTrue(token.supportsInterface(type(IAccessControlDefaultAdminRules).interfaceId));
    }

    function test_eip712Domain_isBankTokenVersionOne() public view {
        (
            bytes1 fields,
            string memory name_,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        ) = token.eip712Domain();
        assertEq(fields, hex"0f");
        assertEq(name_, "BankToken");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifyingContract, address(token));
        assertEq(salt, bytes32(0));
        assertEq(extensions.length, 0);
        assertEq(token.DOMAIN_SEPARATOR(), _domainSeparator(address(token)));
    }

    // ─────────────────────────────────────────── ERC-20 ───────────────────────────────────────────

    function test_transfer_movesBalanceAndEmits() public {
        _mint(alice, 1_000);
        _mint(bob, 10);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(alice, bob, 300);
        vm.prank(alice);
        assertTrue(token.transfer(bob, 300));
        assertEq(token.balanceOf(alice), 700);
        assertEq(token.balanceOf(bob), 310);
        assertEq(token.totalSupply(), 1_010);
    }

    function test_transfer_toSelfAndZeroAmount() public {
        _mint(alice, 1_000);
        vm.startPrank(alice);
        assertTrue(token.transfer(alice, 1_000));
        assertTrue(token.transfer(bob, 0));
        vm.stopPrank();
        assertEq(token.balanceOf(alice), 1_000);
        assertEq(token.balanceOf(bob), 0);
    }

    function test_transfer_keepsNonceBits() public {
        _mint(alice, 1_000);
        uint256 deadline = block.timestamp + 1;
        (uint8 v, bytes32 r, bytes32 s) = _sign(aliceKey, _permitDigest(alice, bob, 1, 0, deadline));
        token.permit(alice, bob, 1, deadline, v, r, s);
        vm.prank(alice);
        token.transfer(bob, 1_000);
        assertEq(token.nonces(alice), 1);
        assertEq(token.balanceOf(alice), 0);
        _mint(alice, 5);
        assertEq(token.nonces(alice), 1);
        assertEq(token.balanceOf(alice), 5);
    }

    function test_transfer_revertsWhenBalanceInsufficient() public {
        _mint(alice, 100);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInsufficientBalance.selector, alice, 100, 101));
        vm.prank(alice);
        token.transfer(bob, 101);
    }

    function test_transfer_revertsOnAmountThatWouldWrap() public {
        _mint(alice, 100);
        _mint(bob, 100);
        uint256 huge = type(uint256).max;
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInsufficientBalance.selector, alice, 100, huge));
        vm.prank(alice);
        token.transfer(bob, huge);
        assertEq(token.balanceOf(alice), 100);
        assertEq(token.balanceOf(bob), 100);
    }

    function test_transfer_revertsToZeroAddress() public {
        _mint(alice, 100);
        vm.expectRevert(IBankToken.BankTokenZeroAddress.selector);
        vm.prank(alice);
        token.transfer(address(0), 1);
    }

    function test_transfer_revertsWhenPaused() public {
        _mint(alice, 100);
        _pause();
        vm.expectRevert(IBankToken.BankTokenPaused.selector);
        vm.prank(alice);
        token.transfer(bob, 1);
    }

    function test_transfer_revertsWhenSenderFrozen() public {
        _mint(alice, 100);
        _freeze(alice);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, alice));
        vm.prank(alice);
        token.transfer(bob, 1);
    }

    function test_transfer_revertsWhenRecipientFrozen() public {
        _mint(alice, 100);
        _freeze(bob);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, bob));
        vm.prank(alice);
        token.transfer(bob, 1);
    }

    function test_transfer_revertsToSelfWhenFrozen() public {
        _mint(alice, 100);
        _freeze(alice);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, alice));
        vm.prank(alice);
        token.transfer(alice, 1);
    }

    /// @dev The inlined `transfer` must behave exactly like `_update`, which `transferFrom` with an infinite
    ///      allowance reaches: same success, same revert data, same balances and supply.
    function testFuzz_transfer_matchesUpdate(
        uint256 aliceBalance,
        uint256 bobBalance,
        uint256 amount,
        uint8 flags,
        bool toSelf
    ) public {
        aliceBalance = bound(aliceBalance, 0, MINTER_ALLOWANCE / 2);
        bobBalance = bound(bobBalance, 0, MINTER_ALLOWANCE / 2);
        if (flags & 8 == 0) amount = bound(amount, 0, aliceBalance + 10);
        if (aliceBalance > 0) _mint(alice, aliceBalance);
        if (bobBalance > 0) _mint(bob, bobBalance);
        address to = toSelf ? alice : (flags & 16 != 0 ? address(0) : bob);
        vm.prank(alice);
        token.approve(carol, type(uint256).max);
        if (flags & 1 != 0) _freeze(alice);
        if (flags & 2 != 0 && to == bob) _freeze(bob);
        if (flags & 4 != 0) _pause();

        uint256 snapshot = vm.snapshotState();
        vm.prank(alice);
        // Raw calls on purpose: the test compares success and the exact return or revert bytes.
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok1, bytes memory ret1) = address(token).call(abi.encodeCall(IERC20.transfer, (to, amount)));
        uint256[3] memory after1 = [token.balanceOf(alice), token.balanceOf(bob), token.totalSupply()];
        vm.revertToState(snapshot);
        vm.prank(carol);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok2, bytes memory ret2) = address(token).call(abi.encodeCall(IERC20.transferFrom, (alice, to, amount)));
        uint256[3] memory after2 = [token.balanceOf(alice), token.balanceOf(bob), token.totalSupply()];

        assertEq(ok1, ok2, "success");
        assertEq(ret1, ret2, "return or revert data");
        assertEq(after1[0], after2[0], "alice");
        assertEq(after1[1], after2[1], "bob");
        assertEq(after1[2], after2[2], "supply");
    }

    function testFuzz_transfer(uint256 minted, uint256 amount) public {
        minted = bound(minted, 0, MINTER_ALLOWANCE);
        amount = bound(amount, 0, minted);
        if (minted > 0) _mint(alice, minted);
        vm.prank(alice);
        token.transfer(bob, amount);
        assertEq(token.balanceOf(alice), minted - amount);
        assertEq(token.balanceOf(bob), amount);
        assertEq(token.totalSupply(), minted);
    }

    function test_approve_setsAllowanceAndEmits() public {
        vm.expectEmit(address(token));
        emit IERC20.Approval(alice, bob, 77);
        vm.prank(alice);
        assertTrue(token.approve(bob, 77));
        assertEq(token.allowance(alice, bob), 77);
    }

    function test_approve_revertsWhenPaused() public {
        _pause();
        vm.expectRevert(IBankToken.BankTokenPaused.selector);
        vm.prank(alice);
        token.approve(bob, 1);
    }

    function test_approve_revertsWhenSpenderZero() public {
        vm.expectRevert(IBankToken.BankTokenZeroAddress.selector);
        vm.prank(alice);
        token.approve(address(0), 1);
    }

    function test_approve_revertsWhenOwnerFrozen() public {
        _freeze(alice);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, alice));
        vm.prank(alice);
        token.approve(bob, 1);
    }

    function test_approve_revertsWhenSpenderFrozen() public {
        _freeze(bob);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, bob));
        vm.prank(alice);
        token.approve(bob, 1);
    }

    function test_transferFrom_spendsFiniteAllowance() public {
        _mint(alice, 1_000);
        vm.prank(alice);
        token.approve(carol, 600);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(alice, bob, 250);
        vm.prank(carol);
        assertTrue(token.transferFrom(alice, bob, 250));
        assertEq(token.allowance(alice, carol), 350);
        assertEq(token.balanceOf(bob), 250);
    }

    function test_transferFrom_keepsInfiniteAllowance() public {
        _mint(alice, 1_000);
        vm.prank(alice);
        token.approve(carol, type(uint256).max);
        vm.prank(carol);
        token.transferFrom(alice, bob, 1_000);
        assertEq(token.allowance(alice, carol), type(uint256).max);
    }

    function test_transferFrom_revertsWhenAllowanceInsufficient() public {
        _mint(alice, 1_000);
        vm.prank(alice);
        token.approve(carol, 10);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInsufficientAllowance.selector, carol, 10, 11));
        vm.prank(carol);
        token.transferFrom(alice, bob, 11);
    }

    function test_transferFrom_revertsWhenBalanceInsufficient() public {
        _mint(alice, 5);
        vm.prank(alice);
        token.approve(carol, 100);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInsufficientBalance.selector, alice, 5, 6));
        vm.prank(carol);
        token.transferFrom(alice, bob, 6);
    }

    function test_transferFrom_revertsOnZeroAddresses() public {
        _mint(alice, 5);
        vm.prank(alice);
        token.approve(carol, 100);
        vm.startPrank(carol);
        vm.expectRevert(IBankToken.BankTokenZeroAddress.selector);
        token.transferFrom(alice, address(0), 1);
        vm.expectRevert(IBankToken.BankTokenZeroAddress.selector);
        token.transferFrom(address(0), bob, 0);
        vm.stopPrank();
    }

    function test_transferFrom_revertsWhenPaused() public {
        _mint(alice, 5);
        vm.prank(alice);
        token.approve(carol, 100);
        _pause();
        vm.expectRevert(IBankToken.BankTokenPaused.selector);
        vm.prank(carol);
        token.transferFrom(alice, bob, 1);
    }

    function test_transferFrom_revertsWhenOwnerOrRecipientFrozen() public {
        _mint(alice, 5);
        vm.prank(alice);
        token.approve(carol, 100);
        _freeze(bob);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, bob));
        vm.prank(carol);
        token.transferFrom(alice, bob, 1);
        _freeze(alice);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, alice));
        vm.prank(carol);
        token.transferFrom(alice, carol, 1);
    }

    /// Audit L-1: a frozen spender must not drain allowances it was given before the freeze.
    function test_L1_transferFrom_revertsWhenSpenderFrozen() public {
        _mint(alice, 5);
        vm.prank(alice);
        token.approve(carol, 100);
        _freeze(carol);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, carol));
        vm.prank(carol);
        token.transferFrom(alice, bob, 1);
        assertEq(token.balanceOf(alice), 5);
        assertEq(token.allowance(alice, carol), 100);
    }

    function testFuzz_transferFrom(uint256 approved, uint256 amount) public {
        approved = bound(approved, 0, type(uint256).max - 1);
        amount = bound(amount, 0, 1_000_000);
        _mint(alice, 1_000_000);
        vm.prank(alice);
        token.approve(carol, approved);
        vm.prank(carol);
        if (amount > approved) {
            vm.expectRevert(
                abi.encodeWithSelector(IBankToken.BankTokenInsufficientAllowance.selector, carol, approved, amount)
            );
            token.transferFrom(alice, bob, amount);
        } else {
            token.transferFrom(alice, bob, amount);
            assertEq(token.allowance(alice, carol), approved - amount);
            assertEq(token.balanceOf(bob), amount);
        }
    }

    function test_views_hideTheReservoir() public {
        _mint(alice, 100);
        _pause();
        assertEq(token.balanceOf(address(0)), 0);
        assertFalse(token.isFrozen(address(0)));
        assertEq(token.nonces(address(0)), 0);
        assertEq(token.allowance(address(0), alice), 0);
    }

    // ─────────────────────────────────────────── mint ───────────────────────────────────────────

    function test_mint_creditsCallsGateAndEmits() public {
        _mint(alice, 1);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(address(0), alice, 2_500);
        vm.expectEmit(address(token));
        emit IBankToken.Mint(minter, alice, 2_500, REF);
        vm.expectCall(address(gate), abi.encodeCall(IIssuanceGate.onMint, (minter, 2_500)));
        vm.prank(minter);
        token.mint(alice, 2_500, REF);
        assertEq(token.balanceOf(alice), 2_501);
        assertEq(token.totalSupply(), 2_501);
        assertEq(token.minterAllowance(minter), MINTER_ALLOWANCE - 2_501);
        assertEq(gate.lastIssuer(), minter);
        assertEq(gate.lastAmount(), 2_500);
        assertEq(gate.mintCalls(), 2);
    }

    function test_mint_revertsWhenNotMinter() public {
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenNotMinter.selector, alice));
        vm.prank(alice);
        token.mint(alice, 1, REF);
    }

    function test_mint_revertsWhenAllowanceExceeded() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IBankToken.BankTokenMinterAllowanceExceeded.selector,
                minter,
                MINTER_ALLOWANCE,
                MINTER_ALLOWANCE + 1
            )
        );
        vm.prank(minter);
        token.mint(alice, MINTER_ALLOWANCE + 1, REF);
    }

    function test_mint_revertsWhenCapExceeded() public {
        vm.prank(admin);
        token.setSupplyCap(1_000);
        _mint(alice, 600);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenSupplyCapExceeded.selector, 1_000, 1_001));
        vm.prank(minter);
        token.mint(alice, 401, REF);
        _mint(alice, 400);
        assertEq(token.totalSupply(), 1_000);
    }

    function test_mint_capErrorReportsTheSupplyItWouldReach() public {
        uint256 amount = token.MAX_MINTER_ALLOWANCE();
        vm.prank(minterAdmin);
        token.increaseMinterAllowance(minter, amount - MINTER_ALLOWANCE);
        vm.prank(admin);
        token.setSupplyCap(10);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenSupplyCapExceeded.selector, 10, amount));
        vm.prank(minter);
        token.mint(alice, amount, REF);
    }

    function test_mint_revertsWhenRecipientFrozen() public {
        _freeze(alice);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, alice));
        vm.prank(minter);
        token.mint(alice, 1, REF);
    }

    function test_mint_revertsOnZeroAddressOrAmount() public {
        vm.startPrank(minter);
        vm.expectRevert(IBankToken.BankTokenZeroAddress.selector);
        token.mint(address(0), 1, REF);
        vm.expectRevert(IBankToken.BankTokenZeroAmount.selector);
        token.mint(alice, 0, REF);
        vm.stopPrank();
    }

    function test_mint_revertsWhenPaused() public {
        _pause();
        vm.expectRevert(IBankToken.BankTokenPaused.selector);
        vm.prank(minter);
        token.mint(alice, 1, REF);
    }

    function test_mint_revertsWhenGateRefusesAndChangesNothing() public {
        gate.setRefuse(true, false);
        vm.expectRevert(abi.encodeWithSelector(MockIssuanceGate.MockIssuanceGateRefused.selector, minter, 5));
        vm.prank(minter);
        token.mint(alice, 5, REF);
        assertEq(token.balanceOf(alice), 0);
        assertEq(token.totalSupply(), 0);
        assertEq(token.minterAllowance(minter), MINTER_ALLOWANCE);
    }

    function test_mint_revertsWhenGateUnset() public {
        vm.prank(admin);
        token.setIssuanceGate(IIssuanceGate(address(0)));
        vm.expectRevert(IBankToken.BankTokenIssuanceGateNotSet.selector);
        vm.prank(minter);
        token.mint(alice, 1, REF);
    }

    function testFuzz_mint(uint256 amount, uint256 cap) public {
        cap = bound(cap, 1, MAX_CAP);
        amount = bound(amount, 1, MINTER_ALLOWANCE);
        vm.prank(admin);
        token.setSupplyCap(cap);
        vm.prank(minter);
        if (amount > cap) {
            vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenSupplyCapExceeded.selector, cap, amount));
            token.mint(alice, amount, REF);
        } else {
            token.mint(alice, amount, REF);
            assertEq(token.totalSupply(), amount);
            assertEq(token.supplyCap(), cap);
        }
    }

    // ─────────────────────────────────────────── burn ───────────────────────────────────────────

    function test_burn_burnsCallsGateAndEmits() public {
        _mint(minter, 1_000);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(minter, address(0), 400);
        vm.expectEmit(address(token));
        emit IBankToken.Burn(minter, 400, REF);
        vm.expectCall(address(gate), abi.encodeCall(IIssuanceGate.onBurn, (minter, 400)));
        vm.prank(minter);
        token.burn(400, REF);
        assertEq(token.balanceOf(minter), 600);
        assertEq(token.totalSupply(), 600);
        assertEq(gate.burnCalls(), 1);
        // Burning does not restore the mint allowance.
        assertEq(token.minterAllowance(minter), MINTER_ALLOWANCE - 1_000);
    }

    function test_burn_revertsWhenNotMinter() public {
        _mint(alice, 10);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenNotMinter.selector, alice));
        vm.prank(alice);
        token.burn(1, REF);
    }

    function test_burn_revertsOnZeroAmount() public {
        vm.expectRevert(IBankToken.BankTokenZeroAmount.selector);
        vm.prank(minter);
        token.burn(0, REF);
    }

    function test_burn_revertsWhenBalanceInsufficient() public {
        _mint(minter, 10);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInsufficientBalance.selector, minter, 10, 11));
        vm.prank(minter);
        token.burn(11, REF);
    }

    function test_burn_revertsOnHugeAmountWithTheBalanceError() public {
        _mint(minter, 10);
        uint256 huge = uint256(1) << 255;
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInsufficientBalance.selector, minter, 10, huge));
        vm.prank(minter);
        token.burn(huge, REF);
    }

    function test_burn_revertsWhenPaused() public {
        _mint(minter, 10);
        _pause();
        vm.expectRevert(IBankToken.BankTokenPaused.selector);
        vm.prank(minter);
        token.burn(1, REF);
    }

    function test_burn_revertsWhenMinterFrozen() public {
        _mint(minter, 10);
        _freeze(minter);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, minter));
        vm.prank(minter);
        token.burn(1, REF);
    }

    function test_burn_revertsWhenGateRefusesOrUnset() public {
        _mint(minter, 10);
        gate.setRefuse(false, true);
        vm.expectRevert(abi.encodeWithSelector(MockIssuanceGate.MockIssuanceGateRefused.selector, minter, 1));
        vm.prank(minter);
        token.burn(1, REF);
        vm.prank(admin);
        token.setIssuanceGate(IIssuanceGate(address(0)));
        vm.expectRevert(IBankToken.BankTokenIssuanceGateNotSet.selector);
        vm.prank(minter);
        token.burn(1, REF);
    }

    // ─────────────────────────────────────────── minters ───────────────────────────────────────────

    function test_configureMinter_setsMinterAndEmits() public {
        vm.expectEmit(address(token));
        emit IBankToken.MinterConfigured(carol, 42);
        vm.prank(minterAdmin);
        token.configureMinter(carol, 42);
        assertTrue(token.isMinter(carol));
        assertEq(token.minterAllowance(carol), 42);
        (uint256 capacity, uint256 period) = token.minterRateLimit(carol);
        assertEq(capacity, 0);
        assertEq(period, 0);
    }

    function test_configureMinter_revertsWhenNotMinterAdmin() public {
        bytes32 role = token.MINTER_ADMIN_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role));
        vm.prank(admin);
        token.configureMinter(carol, 1);
    }

    function test_configureMinter_revertsOnZeroExistingOrTooLarge() public {
        uint256 max = token.MAX_MINTER_ALLOWANCE();
        vm.startPrank(minterAdmin);
        vm.expectRevert(IBankToken.BankTokenZeroAddress.selector);
        token.configureMinter(address(0), 1);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenMinterAlreadyConfigured.selector, minter));
        token.configureMinter(minter, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IBankToken.BankTokenMinterAllowanceTooLarge.selector, carol, max + 1, max)
        );
        token.configureMinter(carol, max + 1);
        vm.stopPrank();
    }

    function test_increaseMinterAllowance_addsAndEmits() public {
        vm.expectEmit(address(token));
        emit IBankToken.MinterAllowanceIncreased(minter, 5, MINTER_ALLOWANCE + 5);
        vm.prank(minterAdmin);
        token.increaseMinterAllowance(minter, 5);
        assertEq(token.minterAllowance(minter), MINTER_ALLOWANCE + 5);
    }

    function test_increaseMinterAllowance_reverts() public {
        uint256 max = token.MAX_MINTER_ALLOWANCE();
        bytes32 role = token.MINTER_ADMIN_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role));
        vm.prank(alice);
        token.increaseMinterAllowance(minter, 1);
        vm.startPrank(minterAdmin);
        vm.expectRevert(IBankToken.BankTokenZeroAmount.selector);
        token.increaseMinterAllowance(minter, 0);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenNotMinter.selector, carol));
        token.increaseMinterAllowance(carol, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBankToken.BankTokenMinterAllowanceTooLarge.selector,
                minter,
                MINTER_ALLOWANCE + max,
                max
            )
        );
        token.increaseMinterAllowance(minter, max);
        vm.expectRevert(
            abi.encodeWithSelector(IBankToken.BankTokenMinterAllowanceTooLarge.selector, minter, type(uint256).max, max)
        );
        token.increaseMinterAllowance(minter, type(uint256).max);
        vm.stopPrank();
    }

    function test_decreaseMinterAllowance_subtractsAndEmits() public {
        vm.expectEmit(address(token));
        emit IBankToken.MinterAllowanceDecreased(minter, 7, MINTER_ALLOWANCE - 7);
        vm.prank(minterAdmin);
        token.decreaseMinterAllowance(minter, 7);
        assertEq(token.minterAllowance(minter), MINTER_ALLOWANCE - 7);
    }

    function test_decreaseMinterAllowance_reverts() public {
        bytes32 role = token.MINTER_ADMIN_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role));
        vm.prank(alice);
        token.decreaseMinterAllowance(minter, 1);
        vm.startPrank(minterAdmin);
        vm.expectRevert(IBankToken.BankTokenZeroAmount.selector);
        token.decreaseMinterAllowance(minter, 0);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenNotMinter.selector, carol));
        token.decreaseMinterAllowance(carol, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBankToken.BankTokenMinterAllowanceUnderflow.selector,
                minter,
                MINTER_ALLOWANCE,
                MINTER_ALLOWANCE + 1
            )
        );
        token.decreaseMinterAllowance(minter, MINTER_ALLOWANCE + 1);
        vm.stopPrank();
    }

    function test_increaseAndDecrease_composeWithoutRacing() public {
        // Two admins' changes in either order end in the same allowance.
        vm.startPrank(minterAdmin);
        token.increaseMinterAllowance(minter, 100);
        token.decreaseMinterAllowance(minter, 30);
        vm.stopPrank();
        assertEq(token.minterAllowance(minter), MINTER_ALLOWANCE + 70);
    }

    function test_removeMinter_removesAndEmits() public {
        vm.expectEmit(address(token));
        emit IBankToken.MinterRemoved(minter);
        vm.prank(minterAdmin);
        token.removeMinter(minter);
        assertFalse(token.isMinter(minter));
        assertEq(token.minterAllowance(minter), 0);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenNotMinter.selector, minter));
        vm.prank(minter);
        token.mint(alice, 1, REF);
        // It can be configured again from scratch.
        vm.prank(minterAdmin);
        token.configureMinter(minter, 3);
        assertEq(token.minterAllowance(minter), 3);
    }

    function test_removeMinter_reverts() public {
        bytes32 role = token.MINTER_ADMIN_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role));
        vm.prank(alice);
        token.removeMinter(minter);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenNotMinter.selector, carol));
        vm.prank(minterAdmin);
        token.removeMinter(carol);
    }

    function test_setMinterRateLimit_refillsUpToCapacity() public {
        vm.prank(minterAdmin);
        token.configureMinter(carol, 0);
        vm.expectEmit(address(token));
        emit IBankToken.MinterRateLimitConfigured(carol, 8_640_000, 1 days);
        vm.prank(minterAdmin);
        token.setMinterRateLimit(carol, 8_640_000, 1 days); // 100 per second
        (uint256 capacity, uint256 period) = token.minterRateLimit(carol);
        assertEq(capacity, 8_640_000);
        assertEq(period, 1 days);
        assertEq(token.minterAllowance(carol), 0);

        vm.warp(block.timestamp + 60);
        assertEq(token.minterAllowance(carol), 6_000);
        vm.prank(carol);
        token.mint(alice, 5_000, REF);
        assertEq(token.minterAllowance(carol), 1_000);
        vm.expectRevert(
            abi.encodeWithSelector(IBankToken.BankTokenMinterAllowanceExceeded.selector, carol, 1_000, 1_001)
        );
        vm.prank(carol);
        token.mint(alice, 1_001, REF);

        vm.warp(block.timestamp + 10 days);
        assertEq(token.minterAllowance(carol), 8_640_000, "never above capacity");
        vm.prank(carol);
        token.mint(alice, 8_640_000, REF);
        assertEq(token.minterAllowance(carol), 0);
        // Time spent full earned nothing: the clock restarted at that mint.
        vm.warp(block.timestamp + 1);
        assertEq(token.minterAllowance(carol), 100);
    }

    function test_setMinterRateLimit_slowRatesStillAccrue() public {
        vm.startPrank(minterAdmin);
        token.configureMinter(carol, 0);
        token.setMinterRateLimit(carol, 10, 1 days); // one unit every 8,640 seconds
        vm.stopPrank();
        for (uint256 i; i < 5; ++i) {
            vm.warp(block.timestamp + 4_320);
            // Settling a zero refill leaves the clock alone.
            vm.prank(minterAdmin);
            token.increaseMinterAllowance(carol, 1);
            vm.prank(minterAdmin);
            token.decreaseMinterAllowance(carol, 1);
        }
        assertEq(token.minterAllowance(carol), 2);
    }

    function test_setMinterRateLimit_aboveCapacityAllowanceIsKeptAndOffTurnsRefillOff() public {
        vm.startPrank(minterAdmin);
        token.setMinterRateLimit(minter, 100, 100);
        vm.warp(block.timestamp + 1_000);
        assertEq(token.minterAllowance(minter), MINTER_ALLOWANCE, "allowance above capacity is not cut");
        token.decreaseMinterAllowance(minter, MINTER_ALLOWANCE - 10);
        vm.warp(block.timestamp + 50);
        assertEq(token.minterAllowance(minter), 60);
        token.setMinterRateLimit(minter, 0, 0);
        vm.stopPrank();
        vm.warp(block.timestamp + 1_000);
        assertEq(token.minterAllowance(minter), 60, "settled, then no more refill");
    }

    function test_setMinterRateLimit_reverts() public {
        uint256 max = token.MAX_MINTER_ALLOWANCE();
        bytes32 role = token.MINTER_ADMIN_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role));
        vm.prank(alice);
        token.setMinterRateLimit(minter, 1, 1);
        vm.startPrank(minterAdmin);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidRateLimit.selector, 1, 0));
        token.setMinterRateLimit(minter, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidRateLimit.selector, 0, 1));
        token.setMinterRateLimit(minter, 0, 1);
        uint256 longPeriod = uint256(type(uint32).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidRateLimit.selector, 1, longPeriod));
        token.setMinterRateLimit(minter, 1, longPeriod);
        vm.expectRevert(
            abi.encodeWithSelector(IBankToken.BankTokenMinterAllowanceTooLarge.selector, minter, max + 1, max)
        );
        token.setMinterRateLimit(minter, max + 1, 1);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenNotMinter.selector, carol));
        token.setMinterRateLimit(carol, 1, 1);
        vm.stopPrank();
    }

    function testFuzz_setMinterRateLimit_mintsNeverOutrunTheRate(
        uint256 capacity,
        uint32 period,
        uint256[4] memory waits,
        uint256[4] memory amounts
    ) public {
        capacity = bound(capacity, 1, CAP / 10);
        period = uint32(bound(period, 1, 30 days));
        vm.startPrank(minterAdmin);
        token.configureMinter(carol, 0);
        token.setMinterRateLimit(carol, capacity, period);
        vm.stopPrank();
        uint256 start = block.timestamp;
        uint256 minted;
        for (uint256 i; i < 4; ++i) {
            vm.warp(block.timestamp + bound(waits[i], 0, 2 * uint256(period)));
            uint256 available = token.minterAllowance(carol);
            assertLe(available, capacity);
            uint256 amount = bound(amounts[i], 0, available);
            if (amount > 0) {
                vm.prank(carol);
                token.mint(alice, amount, REF);
                minted += amount;
            }
        }
        // Never more than the refill the elapsed time earned (the bucket started empty).
        assertLe(minted, (capacity * (block.timestamp - start)) / period);
    }

    // ─────────────────────────────────────────── pause ───────────────────────────────────────────

    function test_pause_pausesAndUnpausesWithEvents() public {
        vm.expectEmit(address(token));
        emit IBankToken.Paused(pauser);
        _pause();
        assertTrue(token.paused());
        vm.expectEmit(address(token));
        emit IBankToken.Unpaused(pauser);
        vm.prank(pauser);
        token.unpause();
        assertFalse(token.paused());
    }

    function test_pause_reverts() public {
        bytes32 role = token.PAUSER_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role));
        vm.prank(admin);
        token.pause();
        vm.expectRevert(IBankToken.BankTokenNotPaused.selector);
        vm.prank(pauser);
        token.unpause();
        _pause();
        vm.expectRevert(IBankToken.BankTokenPaused.selector);
        vm.prank(pauser);
        token.pause();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role));
        vm.prank(admin);
        token.unpause();
    }

    function test_pause_keepsAdministrationWorking() public {
        _mint(alice, 100);
        _pause();
        _freeze(bob);
        vm.prank(compliance);
        token.unfreeze(bob);
        vm.startPrank(minterAdmin);
        token.configureMinter(carol, 5);
        token.increaseMinterAllowance(carol, 5);
        vm.stopPrank();
        vm.startPrank(admin);
        token.setSupplyCap(CAP / 2);
        token.setIssuanceGate(gate);
        vm.stopPrank();
        assertEq(token.supplyCap(), CAP / 2);
        assertEq(token.totalSupply(), 100);
        assertTrue(token.paused(), "cap change keeps the pause flag");
    }

    // ─────────────────────────────────────────── freeze ───────────────────────────────────────────

    function test_freeze_freezesAndUnfreezesWithEvents() public {
        vm.expectEmit(address(token));
        emit IBankToken.Frozen(alice);
        _freeze(alice);
        assertTrue(token.isFrozen(alice));
        vm.expectEmit(address(token));
        emit IBankToken.Unfrozen(alice);
        vm.prank(compliance);
        token.unfreeze(alice);
        assertFalse(token.isFrozen(alice));
    }

    function test_freeze_reverts() public {
        bytes32 role = token.COMPLIANCE_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role));
        vm.prank(admin);
        token.freeze(alice);
        vm.startPrank(compliance);
        vm.expectRevert(IBankToken.BankTokenZeroAddress.selector);
        token.freeze(address(0));
        vm.expectRevert(IBankToken.BankTokenZeroAddress.selector);
        token.unfreeze(address(0));
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenNotFrozen.selector, alice));
        token.unfreeze(alice);
        token.freeze(alice);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, alice));
        token.freeze(alice);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role));
        vm.prank(admin);
        token.unfreeze(alice);
    }

    function test_freeze_keepsBalanceAndUnfreezeRestoresUse() public {
        _mint(alice, 100);
        _freeze(alice);
        assertEq(token.balanceOf(alice), 100);
        vm.prank(compliance);
        token.unfreeze(alice);
        vm.prank(alice);
        token.transfer(bob, 100);
        assertEq(token.balanceOf(bob), 100);
    }

    /// Audit L-2: compliance alone must not burn a frozen balance against an issuer it chooses (shifting one
    /// bank's issuance to another); the issuance side (`MINTER_ADMIN_ROLE`) has to confirm the issuer charged.
    function test_L2_complianceAloneCannotChargeAWipeToAnIssuer() public {
        _mint(alice, 1_234);
        _freeze(alice);
        vm.prank(compliance);
        token.wipeFrozen(alice, minter, REF);
        assertEq(token.balanceOf(alice), 1_234, "nothing burned on compliance's word alone");
        assertEq(token.totalSupply(), 1_234);
        assertEq(gate.burnCalls(), 0, "no issuer charged on compliance's word alone");
    }

    function test_wipe_orderedThenConfirmed_burnsWholeBalanceAndStaysFrozen() public {
        _mint(alice, 1_234);
        _mint(bob, 1);
        _freeze(alice);
        bytes32 reason = keccak256("court-order-42");
        vm.expectEmit(address(token));
        emit IBankToken.FrozenBalanceWipeOrdered(alice, minter, reason);
        vm.prank(compliance);
        token.wipeFrozen(alice, minter, reason);
        (address ordered, bytes32 cited) = token.wipeOrderOf(alice);
        assertEq(ordered, minter);
        assertEq(cited, reason);

        vm.expectEmit(address(token));
        emit IERC20.Transfer(alice, address(0), 1_234);
        vm.expectEmit(address(token));
        emit IBankToken.FrozenBalanceWiped(alice, minter, 1_234, reason);
        vm.prank(minterAdmin);
        token.confirmWipe(alice, minter);
        assertEq(token.balanceOf(alice), 0);
        assertTrue(token.isFrozen(alice));
        assertEq(token.totalSupply(), 1);
        assertEq(gate.burnCalls(), 1, "the wipe leaves the issuer's outstanding issuance");
        assertEq(gate.lastIssuer(), minter);
        assertEq(gate.lastAmount(), 1_234);
        // The room under the cap grew back, and the order is spent.
        assertEq(token.supplyCap(), CAP);
        (ordered, ) = token.wipeOrderOf(alice);
        assertEq(ordered, address(0));
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenNoWipeOrdered.selector, alice));
        vm.prank(minterAdmin);
        token.confirmWipe(alice, minter);
    }

    function test_wipeFrozen_reverts() public {
        _mint(alice, 10);
        bytes32 role = token.COMPLIANCE_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role));
        vm.prank(admin);
        token.wipeFrozen(alice, minter, REF);
        vm.startPrank(compliance);
        vm.expectRevert(IBankToken.BankTokenZeroAddress.selector);
        token.wipeFrozen(address(0), minter, REF);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenNotFrozen.selector, alice));
        token.wipeFrozen(alice, minter, REF);
        token.freeze(alice);
        vm.expectRevert(IBankToken.BankTokenZeroAddress.selector);
        token.wipeFrozen(alice, address(0), REF);
        vm.stopPrank();
    }

    function test_confirmWipe_reverts() public {
        _mint(alice, 10);
        _freeze(alice);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenNoWipeOrdered.selector, alice));
        vm.prank(minterAdmin);
        token.confirmWipe(alice, minter);
        vm.prank(compliance);
        token.wipeFrozen(alice, minter, REF);
        // Compliance cannot confirm its own order.
        bytes32 role = token.MINTER_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, compliance, role)
        );
        vm.prank(compliance);
        token.confirmWipe(alice, minter);
        // The confirmer states the issuer it agreed to: another one is refused.
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenWipeIssuerMismatch.selector, alice, minter, bob));
        vm.prank(minterAdmin);
        token.confirmWipe(alice, bob);
        // The gate refuses (e.g. an unknown issuer, or more than it issued): nothing changes.
        gate.setRefuse(false, true);
        vm.expectRevert(abi.encodeWithSelector(MockIssuanceGate.MockIssuanceGateRefused.selector, minter, 10));
        vm.prank(minterAdmin);
        token.confirmWipe(alice, minter);
        gate.setRefuse(false, false);
        _pause();
        vm.expectRevert(IBankToken.BankTokenPaused.selector);
        vm.prank(minterAdmin);
        token.confirmWipe(alice, minter);
        assertEq(token.balanceOf(alice), 10);
        assertTrue(token.isFrozen(alice));
        (address ordered, ) = token.wipeOrderOf(alice);
        assertEq(ordered, minter, "a failed confirmation leaves the order");
    }

    function test_wipeOrder_isCanceledByEitherRoleOrByUnfreezing() public {
        _mint(alice, 10);
        _freeze(alice);
        vm.prank(compliance);
        token.wipeFrozen(alice, minter, REF);
        bytes32 role = token.COMPLIANCE_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, bob, role));
        vm.prank(bob);
        token.cancelWipe(alice);
        vm.expectEmit(address(token));
        emit IBankToken.FrozenBalanceWipeCanceled(alice, minterAdmin);
        vm.prank(minterAdmin);
        token.cancelWipe(alice);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenNoWipeOrdered.selector, alice));
        vm.prank(compliance);
        token.cancelWipe(alice);

        vm.startPrank(compliance);
        token.wipeFrozen(alice, minter, REF);
        token.cancelWipe(alice);
        token.wipeFrozen(alice, minter, REF);
        // Unfreezing lets the order lapse: a later freeze does not revive it.
        vm.expectEmit(address(token));
        emit IBankToken.FrozenBalanceWipeCanceled(alice, compliance);
        token.unfreeze(alice);
        token.freeze(alice);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenNoWipeOrdered.selector, alice));
        vm.prank(minterAdmin);
        token.confirmWipe(alice, minter);
        assertEq(token.balanceOf(alice), 10);
    }

    // ─────────────────────────────────────────── cap ───────────────────────────────────────────

    function test_setSupplyCap_setsAndEmits() public {
        _mint(alice, 300);
        vm.expectEmit(address(token));
        emit IBankToken.SupplyCapChanged(CAP, 300);
        vm.prank(admin);
        token.setSupplyCap(300);
        assertEq(token.supplyCap(), 300);
        assertEq(token.totalSupply(), 300);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenSupplyCapExceeded.selector, 300, 301));
        vm.prank(minter);
        token.mint(alice, 1, REF);
        vm.prank(admin);
        token.setSupplyCap(MAX_CAP);
        assertEq(token.supplyCap(), MAX_CAP);
        assertEq(token.totalSupply(), 300);
    }

    function test_setSupplyCap_reverts() public {
        _mint(alice, 300);
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenSupplyCapBelowSupply.selector, 299, 300));
        token.setSupplyCap(299);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenSupplyCapTooLarge.selector, MAX_CAP + 1, MAX_CAP));
        token.setSupplyCap(MAX_CAP + 1);
        vm.stopPrank();
        bytes32 role = token.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role));
        vm.prank(alice);
        token.setSupplyCap(1);
    }

    // ─────────────────────────────────────────── gate ───────────────────────────────────────────

    function test_setIssuanceGate_setsAndEmits() public {
        MockIssuanceGate next = new MockIssuanceGate();
        vm.expectEmit(address(token));
        emit IBankToken.IssuanceGateChanged(address(gate), address(next));
        vm.prank(admin);
        token.setIssuanceGate(next);
        assertEq(address(token.issuanceGate()), address(next));
        _mint(alice, 1);
        assertEq(next.mintCalls(), 1);
        assertEq(gate.mintCalls(), 0);
    }

    function test_setIssuanceGate_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidIssuanceGate.selector, carol));
        vm.prank(admin);
        token.setIssuanceGate(IIssuanceGate(carol));
        bytes32 role = token.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role));
        vm.prank(alice);
        token.setIssuanceGate(gate);
    }

    // ─────────────────────────────────────────── rescue ───────────────────────────────────────────

    function test_rescueERC20_sendsStrayTokens() public {
        MockStrayToken stray = new MockStrayToken();
        stray.mint(address(token), 50);
        vm.expectEmit(address(token));
        emit IBankToken.Rescued(address(stray), carol, 50);
        vm.prank(rescuer);
        token.rescueERC20(stray, carol, 50);
        assertEq(stray.balanceOf(carol), 50);
        assertEq(stray.balanceOf(address(token)), 0);
    }

    function test_rescueERC20_sendsItsOwnTokens() public {
        _mint(alice, 20);
        vm.prank(alice);
        token.transfer(address(token), 20);
        vm.prank(rescuer);
        token.rescueERC20(token, alice, 20);
        assertEq(token.balanceOf(alice), 20);
    }

    function test_rescueERC20_reverts() public {
        MockStrayToken stray = new MockStrayToken();
        bytes32 role = token.RESCUER_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role));
        vm.prank(admin);
        token.rescueERC20(stray, carol, 0);
        vm.expectRevert(IBankToken.BankTokenZeroAddress.selector);
        vm.prank(rescuer);
        token.rescueERC20(stray, address(0), 0);
    }

    // ─────────────────────────────────────────── helpers ───────────────────────────────────────────

    function _deployWith(
        bytes3 code,
        uint8 decimals_,
        uint256 cap,
        IIssuanceGate gate_,
        address admin_
    ) private returns (BankToken) {
        bytes memory init = abi.encodeCall(
            BankToken.initialize,
            ("Bank Token", "bTKN", code, decimals_, cap, gate_, admin_, ADMIN_DELAY)
        );
        return BankToken(address(new ERC1967Proxy(address(implementation), init)));
    }

    function _expectInitRevert(
        string memory name_,
        string memory symbol_,
        bytes3 code,
        uint8 decimals_,
        uint256 cap,
        IIssuanceGate gate_,
        address admin_,
        bytes memory err
    ) private {
        bytes memory init = abi.encodeCall(
            BankToken.initialize,
            (name_, symbol_, code, decimals_, cap, gate_, admin_, ADMIN_DELAY)
        );
        vm.expectRevert(err);
        new ERC1967Proxy(address(implementation), init);
    }
}
