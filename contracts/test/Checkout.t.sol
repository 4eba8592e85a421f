// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Vm} from "forge-std/Vm.sol";

import {Checkout} from "../commerce/Checkout.sol";
import {CheckoutDeposit} from "../commerce/CheckoutDeposit.sol";
import {ICheckout} from "../commerce/interfaces/ICheckout.sol";
import {IBankToken} from "../token/interfaces/IBankToken.sol";
import {MockCheckoutToken} from "./mocks/MockCheckoutToken.sol";
import {MockRoundlessFeed} from "./mocks/MockRoundlessFeed.sol";
import {MockYesWallet} from "./mocks/MockSignerWallets.sol";
import {CheckoutFixture} from "./utils/CheckoutFixture.sol";

/// @dev Unit and fuzz tests of `Checkout`, attacks first. Every custom error of `ICheckout` is reached with its
///      exact arguments.
contract CheckoutTest is CheckoutFixture {
    bytes3 internal constant ETH = "ETH";

    MockCheckoutToken internal weth;
    MockV3Aggregator internal ethUsd;

    function setUp() public override {
        super.setUp();
        weth = new MockCheckoutToken(18, 0);
        ethUsd = new MockV3Aggregator(8, 300_000_000_000);
    }

    // ─────────────────────────────────────────────────────────── attacks: moving exactly the amount

    /// @dev A token that takes a fee on transfer delivers less than the intent's amount: refused, nothing moves.
    function test_A_feeOnTransferTokenIsRefused() public {
        MockCheckoutToken taxed = new MockCheckoutToken(2, 100);
        vm.prank(configurator);
        checkout.setToken(address(taxed), USD);
        taxed.mint(payer, 10_000);
        ICheckout.PaymentIntent memory i = _usdIntent();
        i.token = address(taxed);
        vm.startPrank(payer);
        taxed.approve(address(checkout), i.tokenAmount);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutAmountMismatch.selector, 1999, 1979));
        checkout.authorize(i, _opSig(i), ICheckout.Method.Allowance, "");
        vm.stopPrank();
        // By deposit too, exact or overpaid (the excess return must not hide the shortfall).
        bytes32 id = _id(i);
        address deposit = checkout.depositAddress(id);
        vm.prank(payer);
        taxed.transfer(deposit, 2100); // 21 burnt: 2079 arrive
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutAmountMismatch.selector, 1999, 1999 - 21));
        checkout.authorize(i, _opSig(i), ICheckout.Method.Deposit, "");
        assertEq(taxed.balanceOf(address(checkout)), 0);
        assertEq(taxed.balanceOf(deposit), 2079);
        assertEq(uint8(_status(id)), uint8(ICheckout.Status.None));
    }

    /// @dev A token that calls back into the checkout while its escrow is being measured is refused (the guard;
    ///      a reentered return of a deposit would otherwise run inside the measurement).
    function test_A_reentrantTokenIsRefused() public {
        MockCheckoutToken hooked = new MockCheckoutToken(2, 0);
        vm.prank(configurator);
        checkout.setToken(address(hooked), USD);
        hooked.mint(payer, 10_000);
        ICheckout.PaymentIntent memory i = _usdIntent();
        i.token = address(hooked);
        ICheckout.PaymentIntent memory other = _usdIntent();
        other.quoteExpiry = uint48(block.timestamp - 1);
        other.token = address(hooked);
        hooked.setHook(address(checkout), abi.encodeCall(checkout.returnDeposit, (other, address(hooked))));
        bytes memory opSig = _opSig(i);
        vm.startPrank(payer);
        hooked.approve(address(checkout), i.tokenAmount);
        vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        checkout.authorize(i, opSig, ICheckout.Method.Allowance, "");
        vm.stopPrank();
    }

    /// @dev An allowance below the amount cannot authorize: the token refuses the pull.
    function test_A_allowanceBelowTheAmount() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        vm.startPrank(payer);
        token.approve(address(checkout), i.tokenAmount - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IBankToken.BankTokenInsufficientAllowance.selector, address(checkout), 1998, 1999)
        );
        checkout.authorize(i, _opSig(i), ICheckout.Method.Allowance, "");
        vm.stopPrank();
    }

    /// @dev An EIP-3009 authorization for another value does not pay the intent (the token checks the payer's
    ///      signature over the intent's amount).
    function test_A_receiveAuthorizationForAnotherValue() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        uint256 validBefore = block.timestamp + 1 hours;
        bytes memory sig = _receiveSig(address(token), payerKey, address(checkout), 1, 0, validBefore, _id(i));
        vm.prank(stranger);
        vm.expectPartialRevert(IBankToken.BankTokenInvalidSignature.selector);
        checkout.authorize(i, _opSig(i), ICheckout.Method.ReceiveWithAuthorization, abi.encode(0, validBefore, sig));
        assertEq(token.balanceOf(address(checkout)), 0);
    }

    /// @dev The payer's EIP-3009 authorization for intent A (nonce = A's id) cannot pay intent B of equal amount.
    function test_A_receiveAuthorizationIsBoundToItsIntent() public {
        ICheckout.PaymentIntent memory a = _usdIntent();
        ICheckout.PaymentIntent memory b = _usdIntent();
        bytes memory authA = _receiveAuth(a);
        vm.prank(stranger);
        vm.expectPartialRevert(IBankToken.BankTokenInvalidSignature.selector);
        checkout.authorize(b, _opSig(b), ICheckout.Method.ReceiveWithAuthorization, authA);
        vm.prank(stranger);
        checkout.authorize(a, _opSig(a), ICheckout.Method.ReceiveWithAuthorization, authA);
        assertEq(uint8(_status(_id(a))), uint8(ICheckout.Status.Authorized));
        assertEq(uint8(_status(_id(b))), uint8(ICheckout.Status.None));
    }

    /// @dev A third party submitting the payer's permit first does not stop the payer's authorize.
    function test_A_permitFrontRunStillAuthorizes() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory auth = _permitAuth(i, deadline);
        (, bytes memory sig) = abi.decode(auth, (uint256, bytes));
        vm.prank(stranger);
        token.permit(payer, address(checkout), i.tokenAmount, deadline, sig);
        vm.prank(payer);
        checkout.authorize(i, _opSig(i), ICheckout.Method.Permit, auth);
        assertEq(token.balanceOf(address(checkout)), 1999);
        assertEq(token.allowance(payer, address(checkout)), 0);
    }

    /// @dev A permit that does not verify and no allowance: the pull is refused.
    function test_A_badPermitWithoutAllowance() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _permitSig(address(token), outsiderKey, address(checkout), i.tokenAmount, deadline);
        vm.prank(payer);
        vm.expectRevert(
            abi.encodeWithSelector(IBankToken.BankTokenInsufficientAllowance.selector, address(checkout), 0, 1999)
        );
        checkout.authorize(i, _opSig(i), ICheckout.Method.Permit, abi.encode(deadline, sig));
        // A signature of another length is refused before the token is asked.
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureLength.selector, 64));
        checkout.authorize(i, _opSig(i), ICheckout.Method.Permit, abi.encode(deadline, new bytes(64)));
    }

    /// @dev Only the payer authorizes by allowance or permit: a stranger cannot spend the payer's allowance.
    function test_A_strangerCannotSpendThePayersAllowance() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        vm.prank(payer);
        token.approve(address(checkout), type(uint256).max);
        bytes memory opSig = _opSig(i);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutNotPayer.selector, stranger, payer));
        checkout.authorize(i, opSig, ICheckout.Method.Allowance, "");
        bytes memory auth = _permitAuth(i, block.timestamp + 1);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutNotPayer.selector, stranger, payer));
        checkout.authorize(i, opSig, ICheckout.Method.Permit, auth);
    }

    // ─────────────────────────────────────────────────────────── attacks: the deposit address

    function test_A_depositUnderpaidMovesNothingThenTopUpAuthorizes() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _id(i);
        address deposit = checkout.depositAddress(id);
        vm.prank(payer);
        token.transfer(deposit, 1000);
        bytes memory opSig = _opSig(i);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutUnderpaid.selector, id, 1999, 1000));
        checkout.authorize(i, opSig, ICheckout.Method.Deposit, "");
        assertEq(token.balanceOf(deposit), 1000);
        assertEq(token.balanceOf(address(checkout)), 0);
        assertEq(deposit.code.length, 0);
        // The top-up of the difference.
        vm.prank(payer);
        token.transfer(deposit, 999);
        vm.expectEmit(address(checkout));
        emit ICheckout.PaymentAuthorized(
            id,
            payer,
            merchant,
            address(token),
            1999,
            i.orderRef,
            ICheckout.Method.Deposit
        );
        vm.prank(stranger);
        assertEq(checkout.authorize(i, opSig, ICheckout.Method.Deposit, ""), id);
        assertEq(token.balanceOf(deposit), 0);
        assertEq(token.balanceOf(address(checkout)), 1999);
        assertEq(token.balanceOf(payer), PAYER_FUNDS - 1999);
    }

    function test_A_depositOverpaidReturnsTheExcessAtOnce() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _id(i);
        _payDeposit(id, 2500);
        vm.expectEmit(address(checkout));
        emit ICheckout.ExcessReturned(id, 501);
        vm.prank(stranger);
        checkout.authorize(i, _opSig(i), ICheckout.Method.Deposit, "");
        assertEq(token.balanceOf(payer), PAYER_FUNDS - 1999);
        assertEq(token.balanceOf(address(checkout)), 1999);
        assertEq(token.balanceOf(checkout.depositAddress(id)), 0);
    }

    /// @dev Exactly the amount: no excess event.
    function test_depositExactEmitsNoExcess() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _id(i);
        _payDeposit(id, 1999);
        vm.recordLogs();
        checkout.authorize(i, _opSig(i), ICheckout.Method.Deposit, "");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 2); // the sweep's Transfer and PaymentAuthorized
        for (uint256 k; k < logs.length; ++k) assertTrue(logs[k].topics[0] != ICheckout.ExcessReturned.selector);
    }

    /// @dev A second transfer after the intent was paid goes back to the payer, whoever asks.
    function test_A_secondTransferAfterAuthorizeIsReturnedByAnyone() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _authorize(i);
        address deposit = checkout.depositAddress(id);
        vm.prank(payer);
        token.transfer(deposit, 1999);
        uint256 before = token.balanceOf(payer);
        vm.expectEmit(address(checkout));
        emit ICheckout.DepositReturned(id, address(token), payer, 1999);
        vm.prank(stranger);
        assertEq(checkout.returnDeposit(i, address(token)), 1999);
        assertEq(token.balanceOf(payer), before + 1999);
        assertEq(token.balanceOf(address(checkout)), 1999, "the escrow is not touched");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutNothingToReturn.selector, id, address(token)));
        checkout.returnDeposit(i, address(token));
    }

    /// @dev The same after a payment by deposit: the clone is there already and sweeps again.
    function test_A_secondDepositAfterADepositPaymentIsReturned() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _id(i);
        _payDeposit(id, 1999);
        checkout.authorize(i, _opSig(i), ICheckout.Method.Deposit, "");
        _payDeposit(id, 40);
        vm.prank(stranger);
        assertEq(checkout.returnDeposit(i, address(token)), 40);
        assertEq(token.balanceOf(payer), PAYER_FUNDS - 1999);
        assertEq(token.balanceOf(address(checkout)), 1999);
    }

    /// @dev Before the quote expires, an unpaid intent's deposit is the payer's to pay with: a stranger cannot
    ///      return it (and so cannot grief the payment); the operator can; after the expiry anyone can.
    function test_A_returnDepositBeforeQuoteExpiry() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _id(i);
        _payDeposit(id, 1999);
        vm.warp(i.quoteExpiry);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutDepositNotReturnable.selector, id, stranger));
        checkout.returnDeposit(i, address(token));
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutDepositNotReturnable.selector, id, payer));
        checkout.returnDeposit(i, address(token));
        vm.prank(operator);
        assertEq(checkout.returnDeposit(i, address(token)), 1999);
        assertEq(token.balanceOf(payer), PAYER_FUNDS);
        // Paid again, then the quote expires: anyone returns it.
        _payDeposit(id, 7);
        vm.warp(uint256(i.quoteExpiry) + 1);
        vm.prank(stranger);
        assertEq(checkout.returnDeposit(i, address(token)), 7);
        assertEq(token.balanceOf(payer), PAYER_FUNDS);
    }

    /// @dev A deposit in a token the intent is not in goes back to the payer, never into escrow.
    function test_A_wrongTokenDepositIsReturned() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _id(i);
        address deposit = checkout.depositAddress(id);
        weth.mint(payer, 1e18);
        vm.prank(payer);
        weth.transfer(deposit, 1e18);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutUnderpaid.selector, id, 1999, 0));
        checkout.authorize(i, _opSig(i), ICheckout.Method.Deposit, "");
        vm.expectEmit(address(checkout));
        emit ICheckout.DepositReturned(id, address(weth), payer, 1e18);
        vm.prank(operator);
        checkout.returnDeposit(i, address(weth));
        assertEq(weth.balanceOf(payer), 1e18);
        assertEq(weth.balanceOf(deposit), 0);
    }

    /// @dev Only the checkout sweeps a deposit address.
    function test_A_depositCloneAnswersOnlyItsCheckout() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _id(i);
        _payDeposit(id, 1999);
        checkout.authorize(i, _opSig(i), ICheckout.Method.Deposit, "");
        CheckoutDeposit deposit = CheckoutDeposit(checkout.depositAddress(id));
        assertGt(address(deposit).code.length, 0);
        vm.prank(payer);
        token.transfer(address(deposit), 10);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(CheckoutDeposit.CheckoutDepositNotCheckout.selector, stranger));
        deposit.sweep(token, stranger);
        CheckoutDeposit implementation = CheckoutDeposit(checkout.depositImplementation());
        vm.expectRevert(abi.encodeWithSelector(CheckoutDeposit.CheckoutDepositNotCheckout.selector, address(this)));
        implementation.sweep(token, stranger);
    }

    /// @dev The deposit address is the ERC-1167 clone CREATE2 address, computed here from the proxy's bytes.
    function test_depositAddressIsTheErc1167Create2Address() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _id(i);
        bytes memory initCode = abi.encodePacked(
            hex"3d602d80600a3d3981f3363d3d373d3d3d363d73",
            checkout.depositImplementation(),
            hex"5af43d82803e903d91602b57fd5bf3"
        );
        address expected = vm.computeCreate2Address(id, keccak256(initCode), address(checkout));
        assertEq(checkout.depositAddress(id), expected);
        vm.prank(payer);
        token.transfer(expected, 1999);
        checkout.authorize(i, _opSig(i), ICheckout.Method.Deposit, "");
        assertEq(
            expected.code,
            abi.encodePacked(
                hex"363d3d373d3d3d363d73",
                checkout.depositImplementation(),
                hex"5af43d82803e903d91602b57fd5bf3"
            )
        );
    }

    // ─────────────────────────────────────────────────────────── attacks: one payment per intent, replay

    function test_A_onePaymentPerIntentByAnyMethod() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _authorize(i);
        bytes memory opSig = _opSig(i);
        bytes memory permitAuth = _permitAuth(i, block.timestamp + 1 hours);
        bytes memory receiveAuth = _receiveAuth(i);
        _payDeposit(id, 1999);
        vm.startPrank(payer);
        token.approve(address(checkout), 1999);
        bytes memory used = abi.encodeWithSelector(
            ICheckout.CheckoutIntentUsed.selector,
            id,
            ICheckout.Status.Authorized
        );
        vm.expectRevert(used);
        checkout.authorize(i, opSig, ICheckout.Method.Allowance, "");
        vm.expectRevert(used);
        checkout.authorize(i, opSig, ICheckout.Method.Permit, permitAuth);
        vm.expectRevert(used);
        checkout.authorize(i, opSig, ICheckout.Method.ReceiveWithAuthorization, receiveAuth);
        vm.expectRevert(used);
        checkout.authorize(i, opSig, ICheckout.Method.Deposit, "");
        vm.stopPrank();
        // Over: still one payment.
        vm.prank(operator);
        checkout.void(i);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutIntentUsed.selector, id, ICheckout.Status.Voided));
        checkout.authorize(i, opSig, ICheckout.Method.Allowance, "");
    }

    function test_A_intentSignedForAnotherChainFails() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 foreign = _intentIdAt(i, block.chainid + 1, address(checkout));
        bytes memory sig = _sign(operatorKey, foreign);
        address recovered = ECDSA.recover(_id(i), sig);
        vm.prank(payer);
        token.approve(address(checkout), 1999);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidOperatorSignature.selector, recovered));
        checkout.authorize(i, sig, ICheckout.Method.Allowance, "");
        // The id is the EIP-712 digest (computed here from the spec's type string and domain).
        assertEq(checkout.intentId(i), _id(i));
    }

    function test_A_intentSignedForAnotherCheckoutFails() public {
        Checkout other = _deployCheckout();
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes memory sig = _sign(operatorKey, _intentIdAt(i, block.chainid, address(other)));
        vm.startPrank(payer);
        token.approve(address(checkout), 1999);
        vm.expectRevert(
            abi.encodeWithSelector(ICheckout.CheckoutInvalidOperatorSignature.selector, ECDSA.recover(_id(i), sig))
        );
        checkout.authorize(i, sig, ICheckout.Method.Allowance, "");
        token.approve(address(other), 1999);
        other.authorize(i, sig, ICheckout.Method.Allowance, "");
        vm.stopPrank();
    }

    function test_A_captureSignatureIsBoundToItsIntent() public {
        ICheckout.PaymentIntent memory a = _usdIntent();
        ICheckout.PaymentIntent memory b = _usdIntent();
        _authorize(a);
        bytes32 idB = _authorize(b);
        bytes memory sigA = _captureSig(a, RECEIPT);
        address recovered = ECDSA.recover(checkout.captureDigest(idB, RECEIPT), sigA);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidOperatorSignature.selector, recovered));
        checkout.capture(b, RECEIPT, sigA);
        // And to its receipt.
        bytes32 other = keccak256("another receipt");
        recovered = ECDSA.recover(checkout.captureDigest(_id(a), other), sigA);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidOperatorSignature.selector, recovered));
        checkout.capture(a, other, sigA);
        checkout.capture(a, RECEIPT, sigA);
        assertEq(checkout.captureDigest(_id(a), RECEIPT), _captureDigestAt(address(checkout), _id(a), RECEIPT));
    }

    function test_A_revokedOperatorSignsNothing() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        ICheckout.PaymentIntent memory j = _usdIntent();
        bytes memory opSig = _opSig(i);
        _authorize(j);
        bytes memory capSig = _captureSig(j, RECEIPT);
        bytes32 role = checkout.OPERATOR_ROLE();
        vm.prank(admin);
        checkout.revokeRole(role, operator);
        vm.startPrank(payer);
        token.approve(address(checkout), 1999);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidOperatorSignature.selector, operator));
        checkout.authorize(i, opSig, ICheckout.Method.Allowance, "");
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidOperatorSignature.selector, operator));
        checkout.capture(j, RECEIPT, capSig);
    }

    function test_A_operatorSignatureRefusals() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        vm.startPrank(payer);
        token.approve(address(checkout), 1999);
        // Not an operator.
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidOperatorSignature.selector, outsider));
        checkout.authorize(i, _sign(outsiderKey, _id(i)), ICheckout.Method.Allowance, "");
        // Empty, short.
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidOperatorSignature.selector, address(0)));
        checkout.authorize(i, "", ICheckout.Method.Allowance, "");
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidOperatorSignature.selector, address(0)));
        checkout.authorize(i, new bytes(64), ICheckout.Method.Allowance, "");
        // The operator's signature in its high-s twin.
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(operatorKey, _id(i));
        bytes32 highS = bytes32(0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141 - uint256(s));
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidOperatorSignature.selector, address(0)));
        checkout.authorize(
            i,
            abi.encodePacked(r, highS, v == 27 ? uint8(28) : uint8(27)),
            ICheckout.Method.Allowance,
            ""
        );
        vm.stopPrank();
    }

    /// @dev EIP-7702: an operator whose account has code still signs with its key (plain ECDSA); a contract
    ///      "operator" cannot sign through ERC-1271.
    function test_A_operatorSignaturesArePlainEcdsa() public {
        // The operator's account delegates (EIP-7702) to a wallet that says yes to any ERC-1271 question: its key
        // still signs, and only its key.
        MockYesWallet wallet = new MockYesWallet();
        vm.etch(operator, abi.encodePacked(hex"ef0100", address(wallet)));
        ICheckout.PaymentIntent memory i = _usdIntent();
        _authorize(i);
        _capture(i);
        assertEq(uint8(_status(_id(i))), uint8(ICheckout.Status.Captured));
        ICheckout.PaymentIntent memory k = _usdIntent();
        bytes memory outsiderSig = _sign(outsiderKey, _id(k));
        vm.startPrank(payer);
        token.approve(address(checkout), 1999);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidOperatorSignature.selector, outsider));
        checkout.authorize(k, outsiderSig, ICheckout.Method.Allowance, "");
        vm.stopPrank();
        // A contract holding the role cannot sign at all.
        _grantOperator(address(wallet));
        bytes32 operatorRole = checkout.OPERATOR_ROLE();
        vm.prank(admin);
        checkout.revokeRole(operatorRole, operator);
        ICheckout.PaymentIntent memory j = _usdIntent();
        bytes memory sig = _sign(outsiderKey, _id(j));
        vm.startPrank(payer);
        token.approve(address(checkout), 1999);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidOperatorSignature.selector, outsider));
        checkout.authorize(j, sig, ICheckout.Method.Allowance, "");
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidOperatorSignature.selector, address(0)));
        checkout.authorize(j, "", ICheckout.Method.Allowance, "");
        vm.stopPrank();
    }

    // ─────────────────────────────────────────────────────────── attacks: the price

    function test_A_quotedAmountMustBeThePrices() public {
        ICheckout.PaymentIntent memory i = _eurIntent();
        i.tokenAmount = 2168;
        vm.startPrank(payer);
        token.approve(address(checkout), 10_000);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutAmountMismatch.selector, 2169, 2168));
        checkout.authorize(i, _opSig(i), ICheckout.Method.Allowance, "");
        i.tokenAmount = 2170;
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutAmountMismatch.selector, 2169, 2170));
        checkout.authorize(i, _opSig(i), ICheckout.Method.Allowance, "");
        i = _usdIntent();
        i.tokenAmount = 1998;
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutAmountMismatch.selector, 1999, 1998));
        checkout.authorize(i, _opSig(i), ICheckout.Method.Allowance, "");
        i.tokenAmount = 2000;
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutAmountMismatch.selector, 1999, 2000));
        checkout.authorize(i, _opSig(i), ICheckout.Method.Allowance, "");
        vm.stopPrank();
    }

    function test_A_nonPositiveAnswerAtTheQuotedRound() public {
        eurUsd.updateRoundData(2, 0, block.timestamp, block.timestamp);
        eurUsd.updateRoundData(3, -1, block.timestamp, block.timestamp);
        eurUsd.updateRoundData(4, EUR_USD, block.timestamp, block.timestamp);
        ICheckout.PaymentIntent memory i = _eurIntent();
        i.roundId = 2;
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutInvalidPrice.selector, eurUsd, 2, 0));
        i.roundId = 3;
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutInvalidPrice.selector, eurUsd, 3, -1));
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidPrice.selector, eurUsd, 3, -1));
        checkout.tokenAmountFor(1999, EUR, address(token), address(eurUsd), 3);
        i.roundId = 4;
        _authorizeBy(i, stranger);
    }

    function test_A_nonPositiveLatestAnswer() public {
        ICheckout.PaymentIntent memory i = _eurIntent();
        eurUsd.updateAnswer(0);
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutInvalidPrice.selector, eurUsd, 2, 0));
        eurUsd.updateAnswer(-EUR_USD);
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutInvalidPrice.selector, eurUsd, 3, -EUR_USD));
        // A deviation bound of 100% lets the latest answer fall to 1 unit, not to 0; 99.99% does not.
        eurUsd.updateAnswer(1);
        i.maxDeviationBps = 9999;
        _expectAuthorizeRevert(
            i,
            abi.encodeWithSelector(ICheckout.CheckoutPriceDeviation.selector, eurUsd, EUR_USD, 1, 9999)
        );
        i.maxDeviationBps = 10_000;
        _authorizeBy(i, payer);
    }

    /// @dev The latest answer may be exactly `maxStaleness` old, not a second more.
    function test_A_stalenessBoundary() public {
        ICheckout.PaymentIntent memory i = _eurIntent();
        i.quoteExpiry = uint48(T0 + 2 days);
        ICheckout.PaymentIntent memory j = _eurIntent();
        j.quoteExpiry = i.quoteExpiry;
        vm.warp(T0 + STALENESS + 1);
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutStalePrice.selector, eurUsd, T0, STALENESS));
        vm.warp(T0 + STALENESS);
        _authorizeBy(j, payer);
    }

    function test_A_roundThatDoesNotExist() public {
        ICheckout.PaymentIntent memory i = _eurIntent();
        i.roundId = 7;
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutUnknownRound.selector, eurUsd, 7));
        // A feed that reverts on the round.
        MockRoundlessFeed roundless = new MockRoundlessFeed(8, EUR_USD);
        vm.prank(configurator);
        checkout.setFeed(address(roundless), EUR, USD, STALENESS);
        i.priceFeed = address(roundless);
        i.roundId = 1;
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutUnknownRound.selector, roundless, 1));
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutUnknownRound.selector, roundless, 1));
        checkout.tokenAmountFor(1999, EUR, address(token), address(roundless), 1);
    }

    /// @dev A round the feed answers but that is after its latest (a feed rolled back, or a forged round id).
    function test_A_roundAfterLatest() public {
        eurUsd.updateRoundData(5, EUR_USD, block.timestamp, block.timestamp);
        eurUsd.updateRoundData(3, EUR_USD, block.timestamp, block.timestamp);
        ICheckout.PaymentIntent memory i = _eurIntent();
        i.roundId = 5;
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutUnknownRound.selector, eurUsd, 5));
        i.roundId = 3;
        _authorizeBy(i, payer);
    }

    /// @dev |latest − quoted| × 10 000 ≤ quoted × maxDeviationBps passes, one unit more fails, on both sides.
    function test_A_deviationBoundary() public {
        // 50 bps of 1.085 = 0.005425: 542_500 units.
        int256[4] memory latest = [EUR_USD + 542_500, EUR_USD + 542_501, EUR_USD - 542_500, EUR_USD - 542_501];
        for (uint256 k; k < 4; ++k) {
            ICheckout.PaymentIntent memory i = _eurIntent();
            i.roundId = 1;
            eurUsd.updateAnswer(latest[k]);
            if (k % 2 == 0) {
                _authorizeBy(i, payer);
            } else {
                _expectAuthorizeRevert(
                    i,
                    abi.encodeWithSelector(ICheckout.CheckoutPriceDeviation.selector, eurUsd, EUR_USD, latest[k], 50)
                );
            }
        }
        // No deviation allowed: the same answer in a later round passes, one unit off fails.
        ICheckout.PaymentIntent memory exact = _eurIntent();
        (exact.roundId, exact.maxDeviationBps) = (1, 0);
        eurUsd.updateAnswer(EUR_USD);
        _authorizeBy(exact, payer);
        exact = _eurIntent();
        (exact.roundId, exact.maxDeviationBps) = (1, 0);
        eurUsd.updateAnswer(EUR_USD + 1);
        _expectAuthorizeRevert(
            exact,
            abi.encodeWithSelector(ICheckout.CheckoutPriceDeviation.selector, eurUsd, EUR_USD, EUR_USD + 1, 0)
        );
    }

    function test_A_sameCurrencyWithAFeed() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        i.priceFeed = address(eurUsd);
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutUnexpectedFeed.selector, eurUsd, 0));
        i.priceFeed = address(0);
        i.roundId = 1;
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutUnexpectedFeed.selector, address(0), 1));
    }

    function test_A_feedMismatch() public {
        ICheckout.PaymentIntent memory i = _eurIntent();
        i.priceFeed = address(0);
        i.roundId = 0;
        _expectAuthorizeRevert(
            i,
            abi.encodeWithSelector(ICheckout.CheckoutFeedMismatch.selector, address(0), EUR, USD)
        );
        // A feed of other currencies.
        i = _eurIntent();
        i.currency = JPY;
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutFeedMismatch.selector, eurUsd, JPY, USD));
        // A feed pricing USD in EUR is fine for a EUR price in bUSD the other way round; one of EUR in GBP is not.
        MockV3Aggregator eurGbp = new MockV3Aggregator(8, 85_000_000);
        vm.prank(configurator);
        checkout.setFeed(address(eurGbp), EUR, "GBP", STALENESS);
        i = _eurIntent();
        i.priceFeed = address(eurGbp);
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutFeedMismatch.selector, eurGbp, EUR, USD));
        MockV3Aggregator gbpUsd = new MockV3Aggregator(8, 127_000_000);
        vm.prank(configurator);
        checkout.setFeed(address(gbpUsd), "GBP", USD, STALENESS);
        i.priceFeed = address(gbpUsd);
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutFeedMismatch.selector, gbpUsd, EUR, USD));
        // A feed no longer read.
        i = _eurIntent();
        vm.prank(configurator);
        checkout.setFeed(address(eurUsd), EUR, USD, 0);
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutFeedMismatch.selector, eurUsd, EUR, USD));
    }

    function test_A_unknownCurrencyAndUntakenToken() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        i.currency = "GBP";
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutUnknownCurrency.selector, bytes3("GBP")));
        i = _usdIntent();
        i.token = address(weth);
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutUnsupportedToken.selector, weth));
        vm.prank(configurator);
        checkout.setToken(address(token), bytes3(0));
        i = _usdIntent();
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutUnsupportedToken.selector, token));
    }

    // ─────────────────────────────────────────────────────────── the price: known answers, both orientations

    function test_knownAnswers() public {
        // EUR/USD, EUR price, bUSD.
        assertEq(checkout.tokenAmountFor(1999, EUR, address(token), address(eurUsd), 1), 2169);
        // Same currency.
        assertEq(checkout.tokenAmountFor(1999, USD, address(token), address(0), 0), 1999);
        // ETH/USD, USD price, an 18-decimal token of ETH.
        _takeWeth();
        assertEq(checkout.tokenAmountFor(5000, USD, address(weth), address(ethUsd), 1), 16_666_666_666_666_667);
        // JPY (no minor units) / USD, JPY price, bUSD.
        MockV3Aggregator jpyUsd = new MockV3Aggregator(8, 670_000);
        vm.prank(configurator);
        checkout.setFeed(address(jpyUsd), JPY, USD, STALENESS);
        assertEq(checkout.tokenAmountFor(1500, JPY, address(token), address(jpyUsd), 1), 1005);
        assertEq(checkout.tokenAmountFor(1501, JPY, address(token), address(jpyUsd), 1), 1006); // 1005.67 up
    }

    function test_authorizeEurInBusd() public {
        ICheckout.PaymentIntent memory i = _eurIntent();
        bytes32 id = _authorizeBy(i, payer);
        assertEq(token.balanceOf(address(checkout)), 2169);
        assertEq(uint8(_status(id)), uint8(ICheckout.Status.Authorized));
    }

    function test_authorizeUsdInAnEthToken() public {
        _takeWeth();
        weth.mint(payer, 1e18);
        ICheckout.PaymentIntent memory i = _usdIntent();
        i.fiatAmount = 5000;
        i.token = address(weth);
        i.tokenAmount = 16_666_666_666_666_667;
        i.priceFeed = address(ethUsd);
        i.roundId = 1;
        i.maxDeviationBps = 100;
        vm.startPrank(payer);
        weth.approve(address(checkout), i.tokenAmount);
        checkout.authorize(i, _opSig(i), ICheckout.Method.Allowance, "");
        vm.stopPrank();
        assertEq(weth.balanceOf(address(checkout)), 16_666_666_666_666_667);
        // At 3000 + 1% the quote still holds; the staleness is the ETH feed's own.
        ICheckout.PaymentIntent memory j = _usdIntent();
        (j.fiatAmount, j.token, j.tokenAmount, j.priceFeed, j.roundId, j.maxDeviationBps) = (
            5000,
            address(weth),
            16_666_666_666_666_667,
            address(ethUsd),
            1,
            100
        );
        ethUsd.updateAnswer(303_000_000_000);
        vm.startPrank(payer);
        weth.approve(address(checkout), j.tokenAmount);
        checkout.authorize(j, _opSig(j), ICheckout.Method.Allowance, "");
        vm.stopPrank();
    }

    // ─────────────────────────────────────────────────────────── authorize: the four methods

    function test_authorizeByAllowance() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _id(i);
        vm.startPrank(payer);
        token.approve(address(checkout), 1999);
        vm.expectEmit(address(checkout));
        emit ICheckout.PaymentAuthorized(
            id,
            payer,
            merchant,
            address(token),
            1999,
            i.orderRef,
            ICheckout.Method.Allowance
        );
        assertEq(checkout.authorize(i, _opSig(i), ICheckout.Method.Allowance, ""), id);
        vm.stopPrank();
        ICheckout.Payment memory p = checkout.paymentOf(id);
        assertEq(uint8(p.status), uint8(ICheckout.Status.Authorized));
        assertEq(p.captured, 0);
        assertEq(p.refunded, 0);
        assertEq(token.balanceOf(address(checkout)), 1999);
        assertEq(token.balanceOf(payer), PAYER_FUNDS - 1999);
    }

    function test_authorizeByPermit() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _id(i);
        bytes memory auth = _permitAuth(i, block.timestamp + 1 hours);
        vm.expectEmit(address(checkout));
        emit ICheckout.PaymentAuthorized(
            id,
            payer,
            merchant,
            address(token),
            1999,
            i.orderRef,
            ICheckout.Method.Permit
        );
        vm.prank(payer);
        checkout.authorize(i, _opSig(i), ICheckout.Method.Permit, auth);
        assertEq(token.balanceOf(address(checkout)), 1999);
        assertEq(token.allowance(payer, address(checkout)), 0);
    }

    function test_authorizeByReceiveWithAuthorization() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _id(i);
        bytes memory auth = _receiveAuth(i);
        vm.expectEmit(address(checkout));
        emit ICheckout.PaymentAuthorized(
            id,
            payer,
            merchant,
            address(token),
            1999,
            i.orderRef,
            ICheckout.Method.ReceiveWithAuthorization
        );
        vm.prank(stranger);
        checkout.authorize(i, _opSig(i), ICheckout.Method.ReceiveWithAuthorization, auth);
        assertEq(token.balanceOf(address(checkout)), 1999);
        assertTrue(IBankTokenAuthState(address(token)).authorizationState(payer, id));
    }

    function test_authorizeByDeposit() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _id(i);
        _payDeposit(id, 1999);
        vm.expectEmit(address(checkout));
        emit ICheckout.PaymentAuthorized(
            id,
            payer,
            merchant,
            address(token),
            1999,
            i.orderRef,
            ICheckout.Method.Deposit
        );
        vm.prank(stranger);
        checkout.authorize(i, _opSig(i), ICheckout.Method.Deposit, "");
        assertEq(token.balanceOf(address(checkout)), 1999);
    }

    // ─────────────────────────────────────────────────────────── terms and expiries

    function test_invalidTerms() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        i.payer = address(0);
        _expectAuthorizeRevert(i, _invalidIntent(i));
        i = _usdIntent();
        i.merchant = address(0);
        _expectAuthorizeRevert(i, _invalidIntent(i));
        i = _usdIntent();
        i.tokenAmount = 0;
        _expectAuthorizeRevert(i, _invalidIntent(i));
        i = _usdIntent();
        i.feeReceiver = address(0);
        _expectAuthorizeRevert(i, _invalidIntent(i));
        // No fee, no receiver: fine.
        i.feeBps = 0;
        _authorizeBy(i, payer);
        _capture(i);
        assertEq(token.balanceOf(merchant), MERCHANT_FUNDS + 1999);
    }

    function test_amountTooLargeAndFeeTooHigh() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        i.tokenAmount = uint256(type(uint120).max) + 1;
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutAmountTooLarge.selector, i.tokenAmount));
        i.tokenAmount = type(uint120).max;
        _expectAuthorizeRevert(
            i,
            abi.encodeWithSelector(ICheckout.CheckoutAmountMismatch.selector, 1999, i.tokenAmount)
        );
        i = _usdIntent();
        i.feeBps = 1001;
        _expectAuthorizeRevert(i, abi.encodeWithSelector(ICheckout.CheckoutFeeTooHigh.selector, 1001, 1000));
        i.feeBps = 1000;
        _authorizeBy(i, payer);
        _capture(i);
        assertEq(token.balanceOf(feeReceiver), 199);
    }

    function test_expiriesInOrder() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        i.quoteExpiry = i.authorizationExpiry + 1;
        _expectAuthorizeRevert(i, _outOfOrder(i));
        i = _usdIntent();
        i.authorizationExpiry = i.refundExpiry + 1;
        _expectAuthorizeRevert(i, _outOfOrder(i));
        // All equal is in order.
        i = _usdIntent();
        (i.authorizationExpiry, i.refundExpiry) = (i.quoteExpiry, i.quoteExpiry);
        _authorizeBy(i, payer);
    }

    /// @dev The quote can be authorized at its expiry second, not after.
    function test_A_quoteExpiryBoundary() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        ICheckout.PaymentIntent memory j = _usdIntent();
        vm.warp(uint256(i.quoteExpiry) + 1);
        _expectAuthorizeRevert(
            i,
            abi.encodeWithSelector(ICheckout.CheckoutQuoteExpired.selector, _id(i), i.quoteExpiry, block.timestamp)
        );
        vm.warp(j.quoteExpiry);
        _authorizeBy(j, payer);
    }

    // ─────────────────────────────────────────────────────────── capture

    function test_captureSplitsTheFee() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _authorize(i);
        vm.expectEmit(address(checkout));
        emit ICheckout.PaymentCaptured(id, RECEIPT, 1980, 19);
        vm.prank(stranger);
        _capture(i);
        assertEq(token.balanceOf(merchant), MERCHANT_FUNDS + 1980);
        assertEq(token.balanceOf(feeReceiver), 19);
        assertEq(token.balanceOf(address(checkout)), 0);
        ICheckout.Payment memory p = checkout.paymentOf(id);
        assertEq(uint8(p.status), uint8(ICheckout.Status.Captured));
        assertEq(p.captured, 1999);
    }

    function test_A_captureRefusals() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _id(i);
        // Nothing authorized.
        bytes memory sig = _captureSig(i, RECEIPT);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutWrongStatus.selector, id, ICheckout.Status.None));
        checkout.capture(i, RECEIPT, sig);
        _authorize(i);
        // Without an operator's signature.
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidOperatorSignature.selector, address(0)));
        checkout.capture(i, RECEIPT, "");
        bytes memory outsiderSig = _sign(outsiderKey, checkout.captureDigest(id, RECEIPT));
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidOperatorSignature.selector, outsider));
        checkout.capture(i, RECEIPT, outsiderSig);
        // Without a receipt (even signed).
        bytes memory zeroSig = _captureSig(i, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutEmptyReceipt.selector, id));
        checkout.capture(i, bytes32(0), zeroSig);
        // After the authorization expiry.
        vm.warp(uint256(i.authorizationExpiry) + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICheckout.CheckoutAuthorizationExpired.selector,
                id,
                i.authorizationExpiry,
                block.timestamp
            )
        );
        checkout.capture(i, RECEIPT, sig);
        // At it: fine; then twice: refused.
        vm.warp(i.authorizationExpiry);
        checkout.capture(i, RECEIPT, sig);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutWrongStatus.selector, id, ICheckout.Status.Captured));
        checkout.capture(i, RECEIPT, sig);
        assertEq(token.balanceOf(merchant), MERCHANT_FUNDS + 1980);
    }

    // ─────────────────────────────────────────────────────────── void, reclaim

    function test_A_voidOnlyByTheOperator() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _authorize(i);
        bytes32 role = checkout.OPERATOR_ROLE();
        address[3] memory others = [stranger, payer, merchant];
        for (uint256 k; k < 3; ++k) {
            vm.prank(others[k]);
            vm.expectRevert(
                abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, others[k], role)
            );
            checkout.void(i);
        }
        vm.expectEmit(address(checkout));
        emit ICheckout.PaymentVoided(id, 1999);
        vm.prank(operator);
        checkout.void(i);
        assertEq(token.balanceOf(payer), PAYER_FUNDS);
        assertEq(token.balanceOf(address(checkout)), 0);
        assertEq(uint8(_status(id)), uint8(ICheckout.Status.Voided));
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutWrongStatus.selector, id, ICheckout.Status.Voided));
        checkout.void(i);
        // Nothing to void, or already captured.
        ICheckout.PaymentIntent memory j = _usdIntent();
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutWrongStatus.selector, _id(j), ICheckout.Status.None));
        checkout.void(j);
        _authorize(j);
        _capture(j);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(ICheckout.CheckoutWrongStatus.selector, _id(j), ICheckout.Status.Captured)
        );
        checkout.void(j);
    }

    function test_A_reclaimOnlyAfterTheAuthorizationExpiry() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _id(i);
        vm.warp(uint256(i.authorizationExpiry) + 1);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutWrongStatus.selector, id, ICheckout.Status.None));
        checkout.reclaim(i);
        vm.warp(T0);
        _authorize(i);
        vm.expectRevert(
            abi.encodeWithSelector(ICheckout.CheckoutAuthorizationNotExpired.selector, id, i.authorizationExpiry, T0)
        );
        checkout.reclaim(i);
        vm.warp(i.authorizationExpiry);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICheckout.CheckoutAuthorizationNotExpired.selector,
                id,
                i.authorizationExpiry,
                i.authorizationExpiry
            )
        );
        checkout.reclaim(i);
        vm.warp(uint256(i.authorizationExpiry) + 1);
        vm.expectEmit(address(checkout));
        emit ICheckout.PaymentReclaimed(id, 1999);
        vm.prank(stranger);
        checkout.reclaim(i);
        assertEq(token.balanceOf(payer), PAYER_FUNDS);
        assertEq(uint8(_status(id)), uint8(ICheckout.Status.Reclaimed));
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutWrongStatus.selector, id, ICheckout.Status.Reclaimed));
        checkout.reclaim(i);
        // A reclaimed escrow cannot be captured or voided.
        bytes memory sig = _captureSig(i, RECEIPT);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutWrongStatus.selector, id, ICheckout.Status.Reclaimed));
        checkout.capture(i, RECEIPT, sig);
    }

    // ─────────────────────────────────────────────────────────── refund

    function test_refundFromTheMerchantByOperatorOrMerchant() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _authorize(i);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(ICheckout.CheckoutWrongStatus.selector, id, ICheckout.Status.Authorized)
        );
        checkout.refund(i, 1);
        _capture(i);
        uint256 merchantBefore = token.balanceOf(merchant);
        vm.expectEmit(address(checkout));
        emit ICheckout.PaymentRefunded(id, 500, 500);
        vm.prank(operator);
        checkout.refund(i, 500);
        vm.expectEmit(address(checkout));
        emit ICheckout.PaymentRefunded(id, 1499, 1999);
        vm.prank(merchant);
        checkout.refund(i, 1499);
        assertEq(token.balanceOf(payer), PAYER_FUNDS);
        assertEq(token.balanceOf(merchant), merchantBefore - 1999);
        assertEq(checkout.paymentOf(id).refunded, 1999);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutRefundExceedsCaptured.selector, id, 1, 0));
        checkout.refund(i, 1);
    }

    function test_A_refundRefusals() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _authorize(i);
        _capture(i);
        vm.startPrank(operator);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutRefundExceedsCaptured.selector, id, 2000, 1999));
        checkout.refund(i, 2000);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutRefundExceedsCaptured.selector, id, 0, 1999));
        checkout.refund(i, 0);
        checkout.refund(i, 1000);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutRefundExceedsCaptured.selector, id, 1000, 999));
        checkout.refund(i, 1000);
        vm.stopPrank();
        // Strangers, the payer, the fee receiver.
        address[3] memory others = [stranger, payer, feeReceiver];
        for (uint256 k; k < 3; ++k) {
            vm.prank(others[k]);
            vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutNotOperatorOrMerchant.selector, others[k]));
            checkout.refund(i, 1);
        }
        // At the refund expiry: fine; a second after: refused.
        vm.warp(i.refundExpiry);
        vm.prank(merchant);
        checkout.refund(i, 1);
        vm.warp(uint256(i.refundExpiry) + 1);
        vm.prank(merchant);
        vm.expectRevert(
            abi.encodeWithSelector(ICheckout.CheckoutRefundExpired.selector, id, i.refundExpiry, block.timestamp)
        );
        checkout.refund(i, 1);
        assertEq(checkout.paymentOf(id).refunded, 1001);
    }

    function test_A_refundWithoutTheMerchantsAllowance() public {
        ICheckout.PaymentIntent memory i = _usdIntent();
        bytes32 id = _authorize(i);
        ICheckout.PaymentIntent memory j = _usdIntent();
        _authorize(j);
        _capture(i);
        vm.prank(merchant);
        token.approve(address(checkout), 0);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(IBankToken.BankTokenInsufficientAllowance.selector, address(checkout), 0, 5)
        );
        checkout.refund(i, 5);
        assertEq(checkout.paymentOf(id).refunded, 0);
        assertEq(token.balanceOf(address(checkout)), 1999, "never from the escrow");
    }

    // ─────────────────────────────────────────────────────────── pause, freezes

    function test_A_pauseStopsTakingAndPaying() public {
        ICheckout.PaymentIntent memory captured = _usdIntent();
        _authorize(captured);
        _capture(captured);
        ICheckout.PaymentIntent memory held = _usdIntent();
        _authorize(held);
        ICheckout.PaymentIntent memory voided = _usdIntent();
        _authorize(voided);
        ICheckout.PaymentIntent memory fresh = _usdIntent();
        bytes32 pauserRole = checkout.PAUSER_ROLE();
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, pauserRole)
        );
        checkout.pause();
        vm.prank(pauser);
        checkout.pause();
        _expectAuthorizeRevert(fresh, abi.encodeWithSelector(Pausable.EnforcedPause.selector));
        bytes memory sig = _captureSig(held, RECEIPT);
        vm.expectRevert(abi.encodeWithSelector(Pausable.EnforcedPause.selector));
        checkout.capture(held, RECEIPT, sig);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(Pausable.EnforcedPause.selector));
        checkout.refund(captured, 1);
        // Money back to payers still flows.
        vm.prank(operator);
        checkout.void(voided);
        _payDeposit(_id(held), 3);
        vm.prank(stranger);
        checkout.returnDeposit(held, address(token));
        vm.warp(uint256(held.authorizationExpiry) + 1);
        checkout.reclaim(held);
        assertEq(token.balanceOf(payer), PAYER_FUNDS - 1999);
        vm.prank(pauser);
        checkout.unpause();
        vm.prank(operator);
        checkout.refund(captured, 1);
    }

    function test_A_frozenPayerOrMerchantMovesNothing() public {
        bytes32 compliance_ = IBankToken(address(token)).COMPLIANCE_ROLE();
        assertTrue(IAccessControl(address(token)).hasRole(compliance_, compliance));
        ICheckout.PaymentIntent memory i = _usdIntent();
        vm.prank(payer);
        token.approve(address(checkout), 1999);
        vm.prank(compliance);
        token.freeze(payer);
        bytes memory opSig = _opSig(i);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, payer));
        checkout.authorize(i, opSig, ICheckout.Method.Allowance, "");
        vm.prank(compliance);
        token.unfreeze(payer);
        vm.prank(payer);
        checkout.authorize(i, opSig, ICheckout.Method.Allowance, "");
        // The merchant frozen: no capture; the escrow stays.
        vm.prank(compliance);
        token.freeze(merchant);
        bytes memory sig = _captureSig(i, RECEIPT);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, merchant));
        checkout.capture(i, RECEIPT, sig);
        assertEq(uint8(_status(_id(i))), uint8(ICheckout.Status.Authorized));
        assertEq(token.balanceOf(address(checkout)), 1999);
        // The payer frozen: no void either.
        vm.prank(compliance);
        token.freeze(payer);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, payer));
        checkout.void(i);
        assertEq(uint8(_status(_id(i))), uint8(ICheckout.Status.Authorized));
        vm.prank(compliance);
        token.unfreeze(merchant);
        checkout.capture(i, RECEIPT, sig);
        // A refund to a frozen payer is refused too.
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, payer));
        checkout.refund(i, 1);
        assertEq(checkout.paymentOf(_id(i)).refunded, 0);
    }

    // ─────────────────────────────────────────────────────────── configuration

    function test_configurationRefusals() public {
        vm.startPrank(configurator);
        bytes3[5] memory bad = [bytes3("usd"), bytes3("@AB"), bytes3("AB["), bytes3(0x555300), bytes3("U1D")];
        for (uint256 k; k < 5; ++k) {
            vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidCurrency.selector, bad[k], 2));
            checkout.setCurrency(bad[k], 2);
            vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidCurrency.selector, bad[k], 0));
            checkout.setToken(address(weth), bad[k]);
            vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidFeed.selector, ethUsd, bad[k], USD));
            checkout.setFeed(address(ethUsd), bad[k], USD, 1);
            vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidFeed.selector, ethUsd, ETH, bad[k]));
            checkout.setFeed(address(ethUsd), ETH, bad[k], 1);
        }
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidCurrency.selector, bytes3("GBP"), 37));
        checkout.setCurrency("GBP", 37);
        checkout.setCurrency("AZZ", 36);
        assertEq(checkout.minorUnitsOf("AZZ"), 36);
        assertEq(checkout.minorUnitsOf(JPY), 0);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutUnknownCurrency.selector, bytes3("GBP")));
        checkout.minorUnitsOf("GBP");
        // Tokens: no code, no decimals, too many.
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutUnsupportedToken.selector, stranger));
        checkout.setToken(stranger, ETH);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutUnsupportedToken.selector, address(checkout)));
        checkout.setToken(address(checkout), ETH);
        MockCheckoutToken wide = new MockCheckoutToken(37, 0);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutUnsupportedToken.selector, wide));
        checkout.setToken(address(wide), ETH);
        MockCheckoutToken widest = new MockCheckoutToken(36, 0);
        checkout.setToken(address(widest), ETH);
        assertEq(checkout.tokenConfig(address(widest)).decimals, 36);
        vm.stopPrank();
    }

    function test_feedConfigurationRefusals() public {
        vm.startPrank(configurator);
        // Feeds: the same currency twice, no code, no decimals, too many.
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidFeed.selector, ethUsd, USD, USD));
        checkout.setFeed(address(ethUsd), USD, USD, 1);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidFeed.selector, stranger, ETH, USD));
        checkout.setFeed(stranger, ETH, USD, 1);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidFeed.selector, checkout, ETH, USD));
        checkout.setFeed(address(checkout), ETH, USD, 1);
        MockV3Aggregator wideFeed = new MockV3Aggregator(37, 1);
        vm.expectRevert(abi.encodeWithSelector(ICheckout.CheckoutInvalidFeed.selector, wideFeed, ETH, USD));
        checkout.setFeed(address(wideFeed), ETH, USD, 1);
        MockV3Aggregator widestFeed = new MockV3Aggregator(36, 1);
        checkout.setFeed(address(widestFeed), ETH, USD, 1);
        assertEq(checkout.feedConfig(address(widestFeed)).decimals, 36);
        vm.stopPrank();
        // Only the configurator.
        bytes32 role = checkout.CONFIGURATOR_ROLE();
        vm.startPrank(stranger);
        bytes memory denied = abi.encodeWithSelector(
            IAccessControl.AccessControlUnauthorizedAccount.selector,
            stranger,
            role
        );
        vm.expectRevert(denied);
        checkout.setCurrency("GBP", 2);
        vm.expectRevert(denied);
        checkout.setToken(address(weth), ETH);
        vm.expectRevert(denied);
        checkout.setFeed(address(ethUsd), ETH, USD, 1);
        vm.stopPrank();
    }

    function test_configurationEventsAndViews() public {
        vm.startPrank(configurator);
        vm.expectEmit(address(checkout));
        emit ICheckout.CurrencySet("GBP", 2);
        checkout.setCurrency("GBP", 2);
        vm.expectEmit(address(checkout));
        emit ICheckout.TokenSet(address(weth), ETH, 18);
        checkout.setToken(address(weth), ETH);
        ICheckout.TokenConfig memory t = checkout.tokenConfig(address(weth));
        assertEq(t.currency, ETH);
        assertEq(t.decimals, 18);
        vm.expectEmit(address(checkout));
        emit ICheckout.TokenSet(address(weth), bytes3(0), 0);
        checkout.setToken(address(weth), bytes3(0));
        assertEq(checkout.tokenConfig(address(weth)).currency, bytes3(0));
        vm.expectEmit(address(checkout));
        emit ICheckout.FeedSet(address(ethUsd), ETH, USD, 8, 3600);
        checkout.setFeed(address(ethUsd), ETH, USD, 3600);
        ICheckout.FeedConfig memory f = checkout.feedConfig(address(ethUsd));
        assertEq(f.base, ETH);
        assertEq(f.quote, USD);
        assertEq(f.decimals, 8);
        assertEq(f.maxStaleness, 3600);
        vm.expectEmit(address(checkout));
        emit ICheckout.FeedSet(address(ethUsd), ETH, USD, 0, 0);
        checkout.setFeed(address(ethUsd), ETH, USD, 0);
        assertEq(checkout.feedConfig(address(ethUsd)).maxStaleness, 0);
        vm.stopPrank();
        assertEq(checkout.MAX_FEE_BPS(), 1000);
        assertEq(checkout.MAX_DECIMALS(), 36);
        assertEq(checkout.OPERATOR_ROLE(), keccak256("OPERATOR_ROLE"));
        assertEq(checkout.CONFIGURATOR_ROLE(), keccak256("CONFIGURATOR_ROLE"));
        assertEq(checkout.PAUSER_ROLE(), keccak256("PAUSER_ROLE"));
        assertEq(checkout.defaultAdmin(), admin);
        assertEq(checkout.defaultAdminDelay(), ADMIN_DELAY);
    }

    // ─────────────────────────────────────────────────────────── fuzz

    /// @dev The conversion gives the least token amount whose value covers the fiat amount (EUR/USD, bUSD).
    function testFuzz_conversionIsTheLeastCoveringAmountFiatPriced(uint256 fiat, uint256 answer) public {
        fiat = bound(fiat, 1, 1e15);
        answer = bound(answer, 1, 1e14);
        eurUsd.updateAnswer(int256(answer));
        uint256 amount = checkout.tokenAmountFor(fiat, EUR, address(token), address(eurUsd), 2);
        // value(amount) = amount / 10^2 USD ≥ fiat / 10^2 EUR × answer / 10^8.
        assertGe(amount * 1e8, fiat * answer, "does not cover");
        if (amount > 0) assertLt((amount - 1) * 1e8, fiat * answer, "not the least");
    }

    /// @dev The same the other way round (ETH/USD, USD price, an 18-decimal ETH token).
    function testFuzz_conversionIsTheLeastCoveringAmountTokenPriced(uint256 fiat, uint256 answer) public {
        _takeWeth();
        fiat = bound(fiat, 1, 1e15);
        answer = bound(answer, 1, 1e14);
        ethUsd.updateAnswer(int256(answer));
        uint256 amount = checkout.tokenAmountFor(fiat, USD, address(weth), address(ethUsd), 2);
        // value(amount) = amount / 10^18 × answer / 10^8 USD ≥ fiat / 10^2 USD.
        assertGe(amount * answer, fiat * 1e24, "does not cover");
        assertLt((amount - 1) * answer, fiat * 1e24, "not the least");
    }

    /// @dev Same currency: by decimals alone, rounded up (an 18-decimal token of USD, a JPY-like 0-unit price).
    function testFuzz_conversionSameCurrency(uint256 fiat) public {
        fiat = bound(fiat, 1, 1e30);
        assertEq(checkout.tokenAmountFor(fiat, USD, address(token), address(0), 0), fiat);
        MockCheckoutToken yen = new MockCheckoutToken(0, 0);
        vm.startPrank(configurator);
        checkout.setToken(address(yen), JPY);
        checkout.setCurrency("XTS", 3);
        checkout.setToken(address(weth), "XTS");
        vm.stopPrank();
        assertEq(checkout.tokenAmountFor(fiat, JPY, address(yen), address(0), 0), fiat);
        assertEq(checkout.tokenAmountFor(fiat, "XTS", address(weth), address(0), 0), fiat * 1e15);
        vm.prank(configurator);
        checkout.setToken(address(yen), "XTS");
        assertEq(checkout.tokenAmountFor(fiat, "XTS", address(yen), address(0), 0), (fiat + 999) / 1000);
    }

    function testFuzz_feeSplitIsExact(uint256 amount, uint16 feeBps) public {
        amount = bound(amount, 1, PAYER_FUNDS);
        feeBps = uint16(bound(feeBps, 0, 1000));
        ICheckout.PaymentIntent memory i = _usdIntent();
        (i.fiatAmount, i.tokenAmount, i.feeBps) = (amount, amount, feeBps);
        bytes32 id = _authorize(i);
        uint256 fee = (amount * feeBps) / 10_000;
        vm.expectEmit(address(checkout));
        emit ICheckout.PaymentCaptured(id, RECEIPT, amount - fee, fee);
        _capture(i);
        assertEq(token.balanceOf(feeReceiver), fee);
        assertEq(token.balanceOf(merchant), MERCHANT_FUNDS + amount - fee);
        assertEq(token.balanceOf(address(checkout)), 0);
    }

    function testFuzz_refundSequences(uint256 amount, uint256[8] memory steps) public {
        amount = bound(amount, 1, 1_000_000);
        ICheckout.PaymentIntent memory i = _usdIntent();
        (i.fiatAmount, i.tokenAmount) = (amount, amount);
        bytes32 id = _authorize(i);
        _capture(i);
        uint256 refunded;
        for (uint256 k; k < 8; ++k) {
            uint256 ask = bound(steps[k], 0, amount + 1);
            vm.prank(k % 2 == 0 ? operator : merchant);
            if (ask == 0 || ask > amount - refunded) {
                vm.expectRevert(
                    abi.encodeWithSelector(ICheckout.CheckoutRefundExceedsCaptured.selector, id, ask, amount - refunded)
                );
                checkout.refund(i, ask);
            } else {
                checkout.refund(i, ask);
                refunded += ask;
            }
            assertEq(checkout.paymentOf(id).refunded, refunded);
            assertLe(refunded, amount);
        }
        assertEq(token.balanceOf(payer), PAYER_FUNDS - amount + refunded);
    }

    // ─────────────────────────────────────────────────────────── helpers

    /// @dev The payer transfers `amount` to the deposit address of `id`.
    function _payDeposit(bytes32 id, uint256 amount) internal {
        address deposit = checkout.depositAddress(id);
        vm.prank(payer);
        token.transfer(deposit, amount);
    }

    function _takeWeth() internal {
        vm.startPrank(configurator);
        checkout.setToken(address(weth), ETH);
        checkout.setFeed(address(ethUsd), ETH, USD, STALENESS);
        vm.stopPrank();
    }

    /// @dev The payer approves; `caller` authorizes by allowance (the payer) or the test expects the revert.
    function _authorizeBy(ICheckout.PaymentIntent memory i, address caller) internal returns (bytes32 id) {
        caller;
        id = _authorize(i);
        assertEq(uint8(_status(id)), uint8(ICheckout.Status.Authorized));
    }

    /// @dev The payer approves the amount, then `authorize` by allowance reverts with `reason`; nothing moves.
    function _expectAuthorizeRevert(ICheckout.PaymentIntent memory i, bytes memory reason) internal {
        uint256 before = token.balanceOf(address(checkout));
        bytes memory opSig = _opSig(i);
        vm.startPrank(payer);
        token.approve(address(checkout), i.tokenAmount > PAYER_FUNDS ? PAYER_FUNDS : i.tokenAmount);
        vm.expectRevert(reason);
        checkout.authorize(i, opSig, ICheckout.Method.Allowance, "");
        token.approve(address(checkout), 0);
        vm.stopPrank();
        assertEq(token.balanceOf(address(checkout)), before);
    }

    function _invalidIntent(ICheckout.PaymentIntent memory i) internal pure returns (bytes memory) {
        return
            abi.encodeWithSelector(
                ICheckout.CheckoutInvalidIntent.selector,
                i.payer,
                i.merchant,
                i.feeReceiver,
                i.tokenAmount
            );
    }

    function _outOfOrder(ICheckout.PaymentIntent memory i) internal pure returns (bytes memory) {
        return
            abi.encodeWithSelector(
                ICheckout.CheckoutExpiriesOutOfOrder.selector,
                i.quoteExpiry,
                i.authorizationExpiry,
                i.refundExpiry
            );
    }
}

/// @dev EIP-3009's nonce state (BankToken has it; `IBankToken` may not declare it).
interface IBankTokenAuthState {
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool);
}
