// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";
import {Test, console} from "forge-std/Test.sol";

import {ReserveLedger} from "../reserves/ReserveLedger.sol";
import {IIssuanceGate} from "../reserves/interfaces/IIssuanceGate.sol";
import {IReserveLedger} from "../reserves/interfaces/IReserveLedger.sol";
import {TrustAccount} from "../settlement/TrustAccount.sol";
import {ITrustAccount} from "../settlement/interfaces/ITrustAccount.sol";
import {ITrustAccountToken} from "../settlement/interfaces/ITrustAccountToken.sol";
import {BankToken} from "../token/BankToken.sol";
import {IBankToken} from "../token/interfaces/IBankToken.sol";

/// @dev The real suite, deployed the way production is: `BankToken` behind an `ERC1967Proxy` (initialized
///      without a gate), then the `ReserveLedger` with the token's address, then the gate set on the token,
///      then one `TrustAccount` per bank, each a minter of the token and a registered issuer of the ledger.
abstract contract BankFixture is Test {
    uint8 internal constant DECIMALS = 2;
    uint48 internal constant ADMIN_DELAY = 3 days;
    uint32 internal constant MAX_AGE = 1 days;
    uint256 internal constant T0 = 1_700_000_000;
    uint256 internal constant RESERVE = 1_000_000_00; // 1,000,000.00
    uint256 internal constant MINTER_ALLOWANCE = 10_000_000_00;
    bytes32 internal constant PERMIT_TYPEHASH = keccak256(
        "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
    );

    IBankToken internal token;
    ReserveLedger internal ledger;
    TrustAccount internal trust;

    address internal admin = makeAddr("admin");
    address internal minterAdmin = makeAddr("minterAdmin");
    address internal reserveAdmin = makeAddr("reserveAdmin");
    address internal attestor = makeAddr("attestor");
    address internal depositor = makeAddr("depositor");
    address internal operator = makeAddr("operator");
    address internal stranger = makeAddr("stranger");

    function _deploySuite() internal {
        vm.warp(T0);
        BankToken implementation = new BankToken();
        bytes memory init = abi.encodeCall(
            IBankToken.initialize,
            ("Bank USD", "bUSD", bytes3("USD"), DECIMALS, 1e30, IIssuanceGate(address(0)), admin, ADMIN_DELAY)
        );
        token = IBankToken(address(new ERC1967Proxy(address(implementation), init)));
        ledger = new ReserveLedger(admin, ADMIN_DELAY, address(token), DECIMALS);

        vm.startPrank(admin);
        token.setIssuanceGate(ledger);
        IAccessControl(address(token)).grantRole(token.MINTER_ADMIN_ROLE(), minterAdmin);
        ledger.grantRole(ledger.RESERVE_ADMIN_ROLE(), reserveAdmin);
        ledger.grantRole(ledger.ATTESTOR_ROLE(), attestor);
        vm.stopPrank();

        trust = _deployTrustAccount(RESERVE);
    }

    /// @dev A new bank's trust account: minter of the token, registered issuer with `reserve` attested now.
    function _deployTrustAccount(uint256 reserve) internal returns (TrustAccount account) {
        account = new TrustAccount(admin, ADMIN_DELAY, ITrustAccountToken(address(token)));
        vm.startPrank(admin);
        account.grantRole(account.DEPOSITOR_ROLE(), depositor);
        account.grantRole(account.OPERATOR_ROLE(), operator);
        vm.stopPrank();
        vm.prank(minterAdmin);
        token.configureMinter(address(account), MINTER_ALLOWANCE);
        vm.prank(reserveAdmin);
        ledger.registerIssuer(address(account), 10_000, MAX_AGE);
        vm.prank(attestor);
        ledger.attestReserve(address(account), reserve, block.timestamp);
    }

    function _deposit(TrustAccount account, address to, uint256 amount, bytes32 fiatRef) internal {
        vm.prank(depositor);
        account.mintForDeposit(to, amount, fiatRef);
    }

    function _request(address holder, uint256 amount, bytes32 accountRef) internal returns (uint256 id) {
        vm.startPrank(holder);
        token.approve(address(trust), amount);
        id = trust.requestRedemption(amount, accountRef);
        vm.stopPrank();
    }

    function _permitSignature(
        uint256 ownerKey,
        address spender,
        uint256 value,
        uint256 deadline
    ) internal view returns (uint8 v, bytes32 r, bytes32 s) {
        address owner = vm.addr(ownerKey);
        bytes32 structHash = keccak256(
            abi.encode(PERMIT_TYPEHASH, owner, spender, value, token.nonces(owner), deadline)
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
        return vm.sign(ownerKey, digest);
    }
}

/// @dev Unit and fuzz tests of `TrustAccount` against the real `BankToken` and `ReserveLedger`.
contract TrustAccountTest is BankFixture {
    address internal alice;
    uint256 internal aliceKey;
    address internal bob = makeAddr("bob");

    bytes32 internal constant DEPOSIT_REF = keccak256("deposit-1");
    bytes32 internal constant PAYOUT_REF = keccak256("payout-1");
    bytes32 internal constant ACCOUNT_REF = keccak256("IBAN DE89 3704 0044 0532 0130 00");
    bytes32 internal constant REASON = keccak256("ACCOUNT_CLOSED");

    function setUp() public {
        (alice, aliceKey) = makeAddrAndKey("alice");
        _deploySuite();
    }

    // ---------------------------------------------------------------- constructor and roles

    function test_constructor_setsTokenAndRoles() public view {
        assertEq(address(trust.token()), address(token));
        assertEq(trust.defaultAdmin(), admin);
        assertEq(trust.defaultAdminDelay(), ADMIN_DELAY);
        assertEq(trust.DEPOSITOR_ROLE(), keccak256("DEPOSITOR_ROLE"));
        assertEq(trust.OPERATOR_ROLE(), keccak256("OPERATOR_ROLE"));
        assertTrue(trust.hasRole(trust.DEPOSITOR_ROLE(), depositor));
        assertTrue(trust.hasRole(trust.OPERATOR_ROLE(), operator));
        assertEq(trust.lastRedemptionId(), 0);
        assertEq(trust.heldForRedemptions(), 0);
    }

    function test_constructor_revertsOnZeroToken() public {
        vm.expectRevert(abi.encodeWithSelector(ITrustAccount.TrustAccountInvalidToken.selector, address(0)));
        new TrustAccount(admin, ADMIN_DELAY, ITrustAccountToken(address(0)));
    }

    // ---------------------------------------------------------------- mintForDeposit

    function test_mintForDeposit_mintsAndEmits() public {
        vm.expectEmit(address(trust));
        emit ITrustAccount.DepositMinted(DEPOSIT_REF, alice, 250_00);
        vm.expectEmit(address(token));
        emit IBankToken.Mint(address(trust), alice, 250_00, DEPOSIT_REF);
        _deposit(trust, alice, 250_00, DEPOSIT_REF);

        assertEq(token.balanceOf(alice), 250_00);
        assertEq(token.totalSupply(), 250_00);
        assertEq(ledger.outstandingOf(address(trust)), 250_00);
        assertEq(ledger.totalOutstanding(), token.totalSupply());
        assertTrue(trust.isFiatRefUsed(DEPOSIT_REF));
        assertEq(token.minterAllowance(address(trust)), MINTER_ALLOWANCE - 250_00);
    }

    function test_mintForDeposit_revertsWithoutRole() public {
        bytes32 role = trust.DEPOSITOR_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, operator, role)
        );
        vm.prank(operator);
        trust.mintForDeposit(alice, 1, DEPOSIT_REF);
    }

    function test_mintForDeposit_revertsOnZeroRecipient() public {
        vm.expectRevert(abi.encodeWithSelector(ITrustAccount.TrustAccountInvalidRecipient.selector, address(0)));
        _deposit(trust, address(0), 1, DEPOSIT_REF);
    }

    function test_mintForDeposit_revertsOnZeroAmount() public {
        vm.expectRevert(abi.encodeWithSelector(ITrustAccount.TrustAccountZeroAmount.selector));
        _deposit(trust, alice, 0, DEPOSIT_REF);
    }

    function test_mintForDeposit_revertsOnZeroFiatRef() public {
        vm.expectRevert(abi.encodeWithSelector(ITrustAccount.TrustAccountZeroFiatRef.selector));
        _deposit(trust, alice, 1, bytes32(0));
    }

    function test_mintForDeposit_revertsOnReusedFiatRef() public {
        _deposit(trust, alice, 1, DEPOSIT_REF);
        vm.expectRevert(abi.encodeWithSelector(ITrustAccount.TrustAccountFiatRefUsed.selector, DEPOSIT_REF));
        _deposit(trust, bob, 2, DEPOSIT_REF);
    }

    function test_mintForDeposit_revertsOnFiatRefUsedByPayout() public {
        _deposit(trust, alice, 100, DEPOSIT_REF);
        uint256 id = _request(alice, 100, ACCOUNT_REF);
        vm.prank(operator);
        trust.confirmRedemption(id, PAYOUT_REF);
        vm.expectRevert(abi.encodeWithSelector(ITrustAccount.TrustAccountFiatRefUsed.selector, PAYOUT_REF));
        _deposit(trust, alice, 100, PAYOUT_REF);
    }

    function test_mintForDeposit_revertsWhenReserveInsufficient() public {
        _deposit(trust, alice, RESERVE - 1, DEPOSIT_REF);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReserveLedger.ReserveLedgerInsufficientReserve.selector,
                address(trust),
                RESERVE,
                RESERVE - 1,
                2
            )
        );
        _deposit(trust, alice, 2, keccak256("deposit-2"));
        assertFalse(trust.isFiatRefUsed(keccak256("deposit-2")));
    }

    function test_mintForDeposit_revertsWhenAttestationStale() public {
        vm.warp(T0 + MAX_AGE + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReserveLedger.ReserveLedgerStaleAttestation.selector,
                address(trust),
                T0,
                MAX_AGE,
                T0 + MAX_AGE + 1
            )
        );
        _deposit(trust, alice, 1, DEPOSIT_REF);
    }

    function test_mintForDeposit_revertsWhenNotMinter() public {
        vm.prank(minterAdmin);
        token.removeMinter(address(trust));
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenNotMinter.selector, address(trust)));
        _deposit(trust, alice, 1, DEPOSIT_REF);
    }

    function testFuzz_mintForDeposit(uint256 amount, bytes32 fiatRef) public {
        vm.assume(fiatRef != bytes32(0));
        amount = bound(amount, 1, RESERVE);
        _deposit(trust, alice, amount, fiatRef);
        assertEq(token.balanceOf(alice), amount);
        assertEq(ledger.outstandingOf(address(trust)), amount);
        assertEq(ledger.mintable(address(trust)), RESERVE - amount);
        assertTrue(trust.isFiatRefUsed(fiatRef));
    }

    // ---------------------------------------------------------------- mintForSettlement, burnForSettlement

    function test_settlementRole_isDistinct() public view {
        assertEq(trust.SETTLEMENT_ROLE(), keccak256("SETTLEMENT_ROLE"));
        assertFalse(trust.hasRole(trust.SETTLEMENT_ROLE(), depositor));
    }

    function test_mintForSettlement_mintsToCaller() public {
        address settlementContract = _grantSettlementRole();
        bytes32 id = keccak256("uetr-1");
        vm.expectEmit(address(token));
        emit IBankToken.Mint(address(trust), settlementContract, 75_00, id);
        vm.prank(settlementContract);
        trust.mintForSettlement(75_00, id);
        assertEq(token.balanceOf(settlementContract), 75_00);
        assertEq(ledger.outstandingOf(address(trust)), 75_00);
        assertEq(token.minterAllowance(address(trust)), MINTER_ALLOWANCE - 75_00);
        // The settlement id is not spent as a fiat reference here (the settlement contract keeps ids unique).
        assertFalse(trust.isFiatRefUsed(id));
    }

    function test_mintForSettlement_revertsWithoutRole() public {
        bytes32 role = trust.SETTLEMENT_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, depositor, role)
        );
        vm.prank(depositor);
        trust.mintForSettlement(1, DEPOSIT_REF);
    }

    function test_mintForSettlement_revertsWhenReserveInsufficient() public {
        address settlementContract = _grantSettlementRole();
        vm.expectRevert(
            abi.encodeWithSelector(
                IReserveLedger.ReserveLedgerInsufficientReserve.selector,
                address(trust),
                RESERVE,
                0,
                RESERVE + 1
            )
        );
        vm.prank(settlementContract);
        trust.mintForSettlement(RESERVE + 1, DEPOSIT_REF);
    }

    function test_burnForSettlement_pullsAndBurns() public {
        address settlementContract = _grantSettlementRole();
        vm.prank(settlementContract);
        trust.mintForSettlement(75_00, keccak256("uetr-1"));
        // A pending redemption's tokens are not touched.
        _deposit(trust, alice, 10_00, DEPOSIT_REF);
        _request(alice, 10_00, ACCOUNT_REF);

        vm.startPrank(settlementContract);
        token.approve(address(trust), 75_00);
        vm.expectEmit(address(trust));
        emit ITrustAccount.SettlementBurned(PAYOUT_REF, settlementContract, 75_00);
        vm.expectEmit(address(token));
        emit IBankToken.Burn(address(trust), 75_00, PAYOUT_REF);
        trust.burnForSettlement(75_00, PAYOUT_REF);
        vm.stopPrank();

        assertEq(token.balanceOf(settlementContract), 0);
        assertEq(token.balanceOf(address(trust)), 10_00);
        assertEq(trust.heldForRedemptions(), 10_00);
        assertEq(ledger.outstandingOf(address(trust)), 10_00);
        assertTrue(trust.isFiatRefUsed(PAYOUT_REF));
    }

    function test_burnForSettlement_revertsWithoutRole() public {
        bytes32 role = trust.SETTLEMENT_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, operator, role)
        );
        vm.prank(operator);
        trust.burnForSettlement(1, PAYOUT_REF);
    }

    function test_burnForSettlement_revertsOnZeroAmountOrRef() public {
        address settlementContract = _grantSettlementRole();
        vm.startPrank(settlementContract);
        vm.expectRevert(abi.encodeWithSelector(ITrustAccount.TrustAccountZeroAmount.selector));
        trust.burnForSettlement(0, PAYOUT_REF);
        vm.expectRevert(abi.encodeWithSelector(ITrustAccount.TrustAccountZeroFiatRef.selector));
        trust.burnForSettlement(1, bytes32(0));
        vm.stopPrank();
    }

    function test_burnForSettlement_revertsOnUsedFiatRef() public {
        address settlementContract = _grantSettlementRole();
        _deposit(trust, alice, 1_00, DEPOSIT_REF);
        vm.expectRevert(abi.encodeWithSelector(ITrustAccount.TrustAccountFiatRefUsed.selector, DEPOSIT_REF));
        vm.prank(settlementContract);
        trust.burnForSettlement(1, DEPOSIT_REF);
    }

    function test_burnForSettlement_revertsWithoutAllowance() public {
        address settlementContract = _grantSettlementRole();
        vm.prank(settlementContract);
        trust.mintForSettlement(5_00, keccak256("uetr-1"));
        vm.expectRevert(
            abi.encodeWithSelector(IBankToken.BankTokenInsufficientAllowance.selector, address(trust), 0, 5_00)
        );
        vm.prank(settlementContract);
        trust.burnForSettlement(5_00, PAYOUT_REF);
        assertFalse(trust.isFiatRefUsed(PAYOUT_REF));
    }

    // ---------------------------------------------------------------- requestRedemption

    function test_requestRedemption_holdsTokensAndEmits() public {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        vm.prank(alice);
        token.approve(address(trust), 200_00);
        vm.warp(T0 + 60);

        vm.expectEmit(address(trust));
        emit ITrustAccount.RedemptionRequested(1, alice, 200_00, ACCOUNT_REF);
        vm.prank(alice);
        uint256 id = trust.requestRedemption(200_00, ACCOUNT_REF);

        assertEq(id, 1);
        assertEq(trust.lastRedemptionId(), 1);
        ITrustAccount.Redemption memory r = trust.redemption(id);
        assertEq(r.holder, alice);
        assertEq(r.amount, 200_00);
        assertEq(uint8(r.state), uint8(ITrustAccount.RedemptionState.Requested));
        assertEq(r.requestedAt, T0 + 60);
        assertEq(r.settledAt, 0);
        assertEq(r.accountRef, ACCOUNT_REF);
        assertEq(r.settlementRef, bytes32(0));
        assertEq(uint8(trust.redemptionState(id)), uint8(ITrustAccount.RedemptionState.Requested));
        // Held, not burned.
        assertEq(token.balanceOf(address(trust)), 200_00);
        assertEq(token.balanceOf(alice), 300_00);
        assertEq(token.totalSupply(), 500_00);
        assertEq(trust.heldForRedemptions(), 200_00);
        assertEq(ledger.outstandingOf(address(trust)), 500_00);
    }

    function test_requestRedemption_assignsIncreasingIds() public {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        _deposit(trust, bob, 500_00, keccak256("deposit-2"));
        assertEq(_request(alice, 1_00, ACCOUNT_REF), 1);
        assertEq(_request(bob, 2_00, ACCOUNT_REF), 2);
        assertEq(_request(alice, 3_00, ACCOUNT_REF), 3);
        assertEq(trust.lastRedemptionId(), 3);
        assertEq(trust.heldForRedemptions(), 6_00);
        assertEq(trust.redemption(2).holder, bob);
    }

    function test_requestRedemption_revertsOnZeroAmount() public {
        vm.expectRevert(abi.encodeWithSelector(ITrustAccount.TrustAccountZeroAmount.selector));
        vm.prank(alice);
        trust.requestRedemption(0, ACCOUNT_REF);
    }

    function test_requestRedemption_revertsOnZeroAccountRef() public {
        vm.expectRevert(abi.encodeWithSelector(ITrustAccount.TrustAccountZeroAccountRef.selector));
        vm.prank(alice);
        trust.requestRedemption(1, bytes32(0));
    }

    function test_requestRedemption_revertsWithoutAllowance() public {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        vm.expectRevert(
            abi.encodeWithSelector(IBankToken.BankTokenInsufficientAllowance.selector, address(trust), 0, 1_00)
        );
        vm.prank(alice);
        trust.requestRedemption(1_00, ACCOUNT_REF);
        assertEq(trust.lastRedemptionId(), 0);
    }

    function test_requestRedemption_revertsOnInsufficientBalance() public {
        _deposit(trust, alice, 1_00, DEPOSIT_REF);
        vm.startPrank(alice);
        token.approve(address(trust), 2_00);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInsufficientBalance.selector, alice, 1_00, 2_00));
        trust.requestRedemption(2_00, ACCOUNT_REF);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- requestRedemptionWithPermit

    function test_requestRedemptionWithPermit_usesPermit() public {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _permitSignature(aliceKey, address(trust), 120_00, deadline);

        vm.expectEmit(address(trust));
        emit ITrustAccount.RedemptionRequested(1, alice, 120_00, ACCOUNT_REF);
        vm.prank(alice);
        uint256 id = trust.requestRedemptionWithPermit(120_00, ACCOUNT_REF, deadline, v, r, s);

        assertEq(id, 1);
        assertEq(token.balanceOf(address(trust)), 120_00);
        assertEq(token.allowance(alice, address(trust)), 0);
        assertEq(token.nonces(alice), 1);
    }

    function test_requestRedemptionWithPermit_survivesFrontRunPermit() public {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _permitSignature(aliceKey, address(trust), 120_00, deadline);
        // Someone copies the permit from the mempool and submits it first.
        vm.prank(stranger);
        token.permit(alice, address(trust), 120_00, deadline, v, r, s);

        vm.prank(alice);
        uint256 id = trust.requestRedemptionWithPermit(120_00, ACCOUNT_REF, deadline, v, r, s);
        assertEq(trust.redemption(id).amount, 120_00);
        assertEq(token.balanceOf(address(trust)), 120_00);
    }

    function test_requestRedemptionWithPermit_revertsOnBadPermitWithoutAllowance() public {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        uint256 deadline = block.timestamp + 1 hours;
        // Signed for a smaller value than requested: the permit fails, and no allowance is in place.
        (uint8 v, bytes32 r, bytes32 s) = _permitSignature(aliceKey, address(trust), 1_00, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IBankToken.BankTokenInsufficientAllowance.selector, address(trust), 0, 120_00)
        );
        vm.prank(alice);
        trust.requestRedemptionWithPermit(120_00, ACCOUNT_REF, deadline, v, r, s);
    }

    // ---------------------------------------------------------------- confirmRedemption

    function test_confirmRedemption_burnsAndEmits() public {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        uint256 id = _request(alice, 200_00, ACCOUNT_REF);
        vm.warp(T0 + 1 hours);

        vm.expectEmit(address(trust));
        emit ITrustAccount.RedemptionPaid(id, alice, PAYOUT_REF, 200_00);
        vm.expectEmit(address(token));
        emit IBankToken.Burn(address(trust), 200_00, PAYOUT_REF);
        vm.prank(operator);
        trust.confirmRedemption(id, PAYOUT_REF);

        ITrustAccount.Redemption memory r = trust.redemption(id);
        assertEq(uint8(r.state), uint8(ITrustAccount.RedemptionState.Paid));
        assertEq(r.settledAt, T0 + 1 hours);
        assertEq(r.settlementRef, PAYOUT_REF);
        assertEq(r.amount, 200_00);
        assertTrue(trust.isFiatRefUsed(PAYOUT_REF));
        assertEq(token.balanceOf(address(trust)), 0);
        assertEq(token.totalSupply(), 300_00);
        assertEq(trust.heldForRedemptions(), 0);
        assertEq(ledger.outstandingOf(address(trust)), 300_00);
        assertEq(ledger.totalOutstanding(), token.totalSupply());
    }

    function test_confirmRedemption_worksWhenAttestationStale() public {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        uint256 id = _request(alice, 200_00, ACCOUNT_REF);
        vm.warp(T0 + 30 days);
        vm.prank(operator);
        trust.confirmRedemption(id, PAYOUT_REF);
        assertEq(token.totalSupply(), 300_00);
    }

    function test_confirmRedemption_revertsWithoutRole() public {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        uint256 id = _request(alice, 200_00, ACCOUNT_REF);
        bytes32 role = trust.OPERATOR_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, depositor, role)
        );
        vm.prank(depositor);
        trust.confirmRedemption(id, PAYOUT_REF);
    }

    function test_confirmRedemption_revertsOnUnknownId() public {
        _expectInvalidState(7, ITrustAccount.RedemptionState.None);
        vm.prank(operator);
        trust.confirmRedemption(7, PAYOUT_REF);
    }

    function test_confirmRedemption_revertsWhenPaid() public {
        uint256 id = _paidRedemption();
        _expectInvalidState(id, ITrustAccount.RedemptionState.Paid);
        vm.prank(operator);
        trust.confirmRedemption(id, keccak256("payout-2"));
    }

    function test_confirmRedemption_revertsWhenRejected() public {
        uint256 id = _rejectedRedemption();
        _expectInvalidState(id, ITrustAccount.RedemptionState.Rejected);
        vm.prank(operator);
        trust.confirmRedemption(id, PAYOUT_REF);
    }

    function test_confirmRedemption_revertsOnZeroFiatRef() public {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        uint256 id = _request(alice, 200_00, ACCOUNT_REF);
        vm.expectRevert(abi.encodeWithSelector(ITrustAccount.TrustAccountZeroFiatRef.selector));
        vm.prank(operator);
        trust.confirmRedemption(id, bytes32(0));
    }

    function test_confirmRedemption_revertsOnFiatRefUsedByDeposit() public {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        uint256 id = _request(alice, 200_00, ACCOUNT_REF);
        vm.expectRevert(abi.encodeWithSelector(ITrustAccount.TrustAccountFiatRefUsed.selector, DEPOSIT_REF));
        vm.prank(operator);
        trust.confirmRedemption(id, DEPOSIT_REF);
    }

    function test_confirmRedemption_revertsOnReusedPayoutRef() public {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        uint256 first = _request(alice, 100_00, ACCOUNT_REF);
        uint256 second = _request(alice, 100_00, ACCOUNT_REF);
        vm.startPrank(operator);
        trust.confirmRedemption(first, PAYOUT_REF);
        vm.expectRevert(abi.encodeWithSelector(ITrustAccount.TrustAccountFiatRefUsed.selector, PAYOUT_REF));
        trust.confirmRedemption(second, PAYOUT_REF);
        vm.stopPrank();
    }

    /// @dev The interbank case: bank B's trust account receives tokens bank A issued and cannot burn more than
    ///      B itself issued, because the ledger tracks outstanding issuance per minter.
    function test_confirmRedemption_revertsWhenBurnExceedsOwnIssuance() public {
        TrustAccount bankB = _deployTrustAccount(RESERVE);
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        vm.startPrank(alice);
        token.approve(address(bankB), 200_00);
        uint256 id = bankB.requestRedemption(200_00, ACCOUNT_REF);
        vm.stopPrank();
        vm.expectRevert(
            abi.encodeWithSelector(
                IReserveLedger.ReserveLedgerBurnExceedsOutstanding.selector,
                address(bankB),
                0,
                200_00
            )
        );
        vm.prank(operator);
        bankB.confirmRedemption(id, PAYOUT_REF);
    }

    // ---------------------------------------------------------------- rejectRedemption

    function test_rejectRedemption_returnsTokensAndEmits() public {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        uint256 id = _request(alice, 200_00, ACCOUNT_REF);
        vm.warp(T0 + 2 hours);

        vm.expectEmit(address(trust));
        emit ITrustAccount.RedemptionRejected(id, alice, REASON, 200_00);
        vm.prank(operator);
        trust.rejectRedemption(id, REASON);

        ITrustAccount.Redemption memory r = trust.redemption(id);
        assertEq(uint8(r.state), uint8(ITrustAccount.RedemptionState.Rejected));
        assertEq(r.settledAt, T0 + 2 hours);
        assertEq(r.settlementRef, REASON);
        assertEq(token.balanceOf(alice), 500_00);
        assertEq(token.balanceOf(address(trust)), 0);
        assertEq(token.totalSupply(), 500_00);
        assertEq(trust.heldForRedemptions(), 0);
        assertEq(ledger.outstandingOf(address(trust)), 500_00);
        assertFalse(trust.isFiatRefUsed(REASON));
    }

    function test_rejectRedemption_revertsWithoutRole() public {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        uint256 id = _request(alice, 200_00, ACCOUNT_REF);
        bytes32 role = trust.OPERATOR_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role));
        vm.prank(alice);
        trust.rejectRedemption(id, REASON);
    }

    function test_rejectRedemption_revertsOnZeroReasonCode() public {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        uint256 id = _request(alice, 200_00, ACCOUNT_REF);
        vm.expectRevert(abi.encodeWithSelector(ITrustAccount.TrustAccountZeroReasonCode.selector));
        vm.prank(operator);
        trust.rejectRedemption(id, bytes32(0));
    }

    function test_rejectRedemption_revertsOnUnknownId() public {
        _expectInvalidState(1, ITrustAccount.RedemptionState.None);
        vm.prank(operator);
        trust.rejectRedemption(1, REASON);
    }

    function test_rejectRedemption_revertsWhenPaid() public {
        uint256 id = _paidRedemption();
        _expectInvalidState(id, ITrustAccount.RedemptionState.Paid);
        vm.prank(operator);
        trust.rejectRedemption(id, REASON);
    }

    function test_rejectRedemption_revertsWhenRejected() public {
        uint256 id = _rejectedRedemption();
        _expectInvalidState(id, ITrustAccount.RedemptionState.Rejected);
        vm.prank(operator);
        trust.rejectRedemption(id, REASON);
    }

    function test_rejectRedemption_revertsWhenHolderFrozen() public {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        uint256 id = _request(alice, 200_00, ACCOUNT_REF);
        _freeze(alice);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, alice));
        vm.prank(operator);
        trust.rejectRedemption(id, REASON);
        assertEq(uint8(trust.redemptionState(id)), uint8(ITrustAccount.RedemptionState.Requested));
    }

    function test_confirmRedemption_worksWhenHolderFrozen() public {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        uint256 id = _request(alice, 200_00, ACCOUNT_REF);
        _freeze(alice);
        vm.prank(operator);
        trust.confirmRedemption(id, PAYOUT_REF);
        assertEq(uint8(trust.redemptionState(id)), uint8(ITrustAccount.RedemptionState.Paid));
    }

    // ---------------------------------------------------------------- views, reentrancy, fuzz

    function test_redemption_isEmptyForUnknownId() public view {
        ITrustAccount.Redemption memory r = trust.redemption(42);
        assertEq(r.holder, address(0));
        assertEq(r.amount, 0);
        assertEq(uint8(r.state), uint8(ITrustAccount.RedemptionState.None));
        assertEq(uint8(trust.redemptionState(42)), uint8(ITrustAccount.RedemptionState.None));
        assertFalse(trust.isFiatRefUsed(DEPOSIT_REF));
    }

    function test_requestRedemption_revertsOnReentry() public {
        ReentrantToken evil = new ReentrantToken();
        TrustAccount victim = new TrustAccount(admin, ADMIN_DELAY, ITrustAccountToken(address(evil)));
        evil.setTarget(victim);
        vm.expectRevert(abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector));
        victim.requestRedemption(1, ACCOUNT_REF);
    }

    function testFuzz_requestRedemption(uint256 deposited, uint256 redeemed, bool pay) public {
        deposited = bound(deposited, 1, RESERVE);
        redeemed = bound(redeemed, 1, deposited);
        _deposit(trust, alice, deposited, DEPOSIT_REF);
        uint256 id = _request(alice, redeemed, ACCOUNT_REF);
        assertEq(token.balanceOf(address(trust)), redeemed);
        vm.prank(operator);
        if (pay) {
            trust.confirmRedemption(id, PAYOUT_REF);
            assertEq(token.totalSupply(), deposited - redeemed);
            assertEq(token.balanceOf(alice), deposited - redeemed);
        } else {
            trust.rejectRedemption(id, REASON);
            assertEq(token.totalSupply(), deposited);
            assertEq(token.balanceOf(alice), deposited);
        }
        assertEq(token.balanceOf(address(trust)), 0);
        assertEq(trust.heldForRedemptions(), 0);
        assertEq(ledger.totalOutstanding(), token.totalSupply());
    }

    // ---------------------------------------------------------------- helpers

    /// @dev An account standing in for the settlement contract, with `SETTLEMENT_ROLE` on `trust`.
    function _grantSettlementRole() internal returns (address settlementContract) {
        settlementContract = makeAddr("settlement");
        bytes32 role = trust.SETTLEMENT_ROLE();
        vm.prank(admin);
        trust.grantRole(role, settlementContract);
    }

    function _paidRedemption() internal returns (uint256 id) {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        id = _request(alice, 200_00, ACCOUNT_REF);
        vm.prank(operator);
        trust.confirmRedemption(id, PAYOUT_REF);
    }

    function _rejectedRedemption() internal returns (uint256 id) {
        _deposit(trust, alice, 500_00, DEPOSIT_REF);
        id = _request(alice, 200_00, ACCOUNT_REF);
        vm.prank(operator);
        trust.rejectRedemption(id, REASON);
    }

    function _freeze(address account) internal {
        address compliance = makeAddr("compliance");
        vm.startPrank(admin);
        IAccessControl(address(token)).grantRole(token.COMPLIANCE_ROLE(), compliance);
        vm.stopPrank();
        vm.prank(compliance);
        token.freeze(account);
    }

    function _expectInvalidState(uint256 id, ITrustAccount.RedemptionState current) internal {
        vm.expectRevert(
            abi.encodeWithSelector(
                ITrustAccount.TrustAccountInvalidRedemptionState.selector,
                id,
                current,
                ITrustAccount.RedemptionState.Requested
            )
        );
    }
}

/// @dev A token that calls back into the trust account from `transferFrom`, to prove the reentrancy guard.
contract ReentrantToken {
    TrustAccount internal _target;

    function setTarget(TrustAccount target) external {
        _target = target;
    }

    function transferFrom(address, address, uint256) external returns (bool) {
        _target.requestRedemption(1, keccak256("reentry"));
        return true;
    }
}

/// @dev Gas of `BankToken.mint` through the real gate, from cold state: the figure behind the 62,000 budget.
contract BankTokenMintGasTest is BankFixture {
    address internal mintKey = makeAddr("mintKey");
    address internal holder = makeAddr("holder");
    address internal newHolder = makeAddr("newHolder");

    function setUp() public {
        _deploySuite();
        vm.prank(minterAdmin);
        token.configureMinter(mintKey, MINTER_ALLOWANCE);
        vm.prank(reserveAdmin);
        ledger.registerIssuer(mintKey, 10_000, MAX_AGE);
        vm.prank(attestor);
        ledger.attestReserve(mintKey, RESERVE, block.timestamp);
        vm.prank(mintKey);
        token.mint(holder, 1_00, keccak256("warm-up"));
    }

    function test_mint_gasToExistingHolder() public {
        uint256 used = _measureMint(holder);
        // solhint-disable-next-line no-console
        console.log("BankToken.mint execution gas incl. ReserveLedger.onMint, existing holder:", used);
    }

    function test_mint_gasToNewHolder() public {
        uint256 used = _measureMint(newHolder);
        // solhint-disable-next-line no-console
        console.log("BankToken.mint execution gas incl. ReserveLedger.onMint, new holder:", used);
    }

    function _measureMint(address to) internal returns (uint256) {
        (IBankToken target, bytes32 ref) = (token, keccak256("deposit"));
        vm.prank(mintKey);
        uint256 before = gasleft();
        target.mint(to, 5_00, ref);
        return before - gasleft();
    }
}

/// @dev Drives the real token, ledger and two trust accounts through deposits, redemption requests,
///      confirmations, rejections and transfers, keeping ghost sums.
contract TrustAccountHandler is Test {
    IBankToken public immutable token;
    ReserveLedger public immutable ledger;
    TrustAccount public immutable trust;
    address public immutable depositor;
    address public immutable operator;
    address[3] public holders;

    /// @notice The sum of the amounts of the redemptions that are `Requested`.
    uint256 public ghostRequested;
    /// @notice Successful deposits minus paid redemptions.
    uint256 public ghostSupply;
    uint256 internal _refNonce;

    constructor(
        IBankToken token_,
        ReserveLedger ledger_,
        TrustAccount trust_,
        address depositor_,
        address operator_,
        address[3] memory holders_
    ) {
        token = token_;
        ledger = ledger_;
        trust = trust_;
        depositor = depositor_;
        operator = operator_;
        holders = holders_;
    }

    function deposit(uint256 holderSeed, uint256 amount) external {
        address to = holders[bound(holderSeed, 0, 2)];
        amount = bound(amount, 1, 10_000_00);
        vm.prank(depositor);
        try trust.mintForDeposit(to, amount, _nextRef()) {
            ghostSupply += amount;
        } catch {}
    }

    function request(uint256 holderSeed, uint256 amount) external {
        address holder = holders[bound(holderSeed, 0, 2)];
        uint256 balance = token.balanceOf(holder);
        if (balance == 0) return;
        amount = bound(amount, 1, balance);
        vm.startPrank(holder);
        token.approve(address(trust), amount);
        trust.requestRedemption(amount, keccak256(abi.encode("account", holder)));
        vm.stopPrank();
        ghostRequested += amount;
    }

    function confirm(uint256 idSeed) external {
        uint256 id = _pickRequested(idSeed);
        if (id == 0) return;
        uint256 amount = trust.redemption(id).amount;
        vm.prank(operator);
        trust.confirmRedemption(id, _nextRef());
        ghostRequested -= amount;
        ghostSupply -= amount;
    }

    function reject(uint256 idSeed) external {
        uint256 id = _pickRequested(idSeed);
        if (id == 0) return;
        uint256 amount = trust.redemption(id).amount;
        vm.prank(operator);
        trust.rejectRedemption(id, keccak256("REJECTED"));
        ghostRequested -= amount;
    }

    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        address from = holders[bound(fromSeed, 0, 2)];
        address to = holders[bound(toSeed, 0, 2)];
        uint256 balance = token.balanceOf(from);
        if (balance == 0) return;
        amount = bound(amount, 1, balance);
        vm.prank(from);
        token.transfer(to, amount);
    }

    /// @dev A `Requested` redemption picked from `seed`, or 0 if there is none.
    function _pickRequested(uint256 seed) internal view returns (uint256) {
        uint256 last = trust.lastRedemptionId();
        if (last == 0) return 0;
        uint256 start = bound(seed, 1, last);
        for (uint256 i = 0; i < last; ++i) {
            uint256 id = ((start - 1 + i) % last) + 1;
            if (trust.redemptionState(id) == ITrustAccount.RedemptionState.Requested) return id;
        }
        return 0;
    }

    function _nextRef() internal returns (bytes32) {
        return keccak256(abi.encode("fiat", ++_refNonce));
    }
}

/// @dev Invariants of a `TrustAccount` with the real token and ledger.
contract TrustAccountInvariantTest is StdInvariant, BankFixture {
    TrustAccountHandler internal handler;

    function setUp() public {
        _deploySuite();
        vm.prank(attestor);
        ledger.attestReserve(address(trust), 1_000_000_000_00, block.timestamp);
        vm.prank(reserveAdmin);
        ledger.setMaxAge(address(trust), type(uint32).max);
        handler = new TrustAccountHandler(
            token,
            ledger,
            trust,
            depositor,
            operator,
            [makeAddr("holder0"), makeAddr("holder1"), makeAddr("holder2")]
        );
        targetContract(address(handler));
    }

    function invariant_heldTokensEqualRequestedRedemptions() public view {
        assertEq(token.balanceOf(address(trust)), handler.ghostRequested());
        assertEq(trust.heldForRedemptions(), handler.ghostRequested());
    }

    function invariant_heldEqualsSumOfRequestedAmounts() public view {
        uint256 sum;
        uint256 last = trust.lastRedemptionId();
        for (uint256 id = 1; id <= last; ++id) {
            ITrustAccount.Redemption memory r = trust.redemption(id);
            assertTrue(r.state != ITrustAccount.RedemptionState.None);
            if (r.state == ITrustAccount.RedemptionState.Requested) sum += r.amount;
        }
        assertEq(sum, trust.heldForRedemptions());
    }

    function invariant_ledgerOutstandingEqualsTokenSupply() public view {
        assertEq(ledger.totalOutstanding(), token.totalSupply());
        assertEq(token.totalSupply(), handler.ghostSupply());
    }
}
