// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Checkout} from "../commerce/Checkout.sol";
import {ICheckout} from "../commerce/interfaces/ICheckout.sol";
import {IBankToken} from "../token/interfaces/IBankToken.sol";
import {CheckoutFixture, CheckoutSigning} from "./utils/CheckoutFixture.sol";

/// @dev Drives a checkout on the real BankToken through random payments: intents authorized by each of the four
///      methods (deposits short, exact or over), captures with random fees, voids, reclaims, refund sequences by
///      the operator or the merchant, stray transfers to deposit addresses and their returns, second payments of
///      a paid intent, and time passing. Ghosts: the escrow the handler saw go in and out, and whether any
///      payment's status was ever seen to move other than None → Authorized → {Captured, Voided, Reclaimed}.
contract CheckoutHandler is CheckoutSigning {
    Checkout public immutable checkout;
    IBankToken public immutable busd;
    address public immutable merchantAccount;
    address public immutable feeAccount;
    address public immutable operatorAccount;
    uint256 private immutable _operatorKey;

    address[3] public payers;
    uint256[3] private _payerKeys;
    ICheckout.PaymentIntent[] private _intents;
    bytes32[] public ids;

    /// @notice What went into escrow less what came out, as the handler counted it.
    uint256 public ghostEscrow;
    /// @notice Set if a payment's status was ever seen to move the wrong way.
    bool public ghostBadTransition;
    /// @notice Successful calls, by action.
    mapping(bytes4 action => uint256) public successes;

    mapping(bytes32 id => ICheckout.Status) private _seen;
    uint256 private _salt;

    constructor(
        Checkout checkout_,
        IBankToken busd_,
        uint256 operatorKey_,
        uint256[3] memory payerKeys_,
        address merchant_,
        address feeReceiver_
    ) {
        checkout = checkout_;
        busd = busd_;
        _operatorKey = operatorKey_;
        operatorAccount = vm.addr(operatorKey_);
        _payerKeys = payerKeys_;
        for (uint256 k; k < 3; ++k) payers[k] = vm.addr(payerKeys_[k]);
        merchantAccount = merchant_;
        feeAccount = feeReceiver_;
    }

    function intentCount() external view returns (uint256) {
        return ids.length;
    }

    function intentAt(uint256 k) external view returns (ICheckout.PaymentIntent memory) {
        return _intents[k];
    }

    /// @notice A new intent of a random amount and fee, paid by a random method.
    function pay(uint256 payerSeed, uint256 amount, uint16 feeBps, uint8 methodSeed, uint256 depositSeed) external {
        uint256 p = payerSeed % 3;
        amount = _bound(amount, 1, 50_000);
        ICheckout.PaymentIntent memory i = ICheckout.PaymentIntent({
            payer: payers[p],
            merchant: merchantAccount,
            orderRef: keccak256(abi.encode("order", _salt)),
            fiatAmount: amount,
            currency: "USD",
            token: address(busd),
            tokenAmount: amount,
            priceFeed: address(0),
            roundId: 0,
            maxDeviationBps: 0,
            quoteExpiry: uint48(block.timestamp + 1 hours),
            authorizationExpiry: uint48(block.timestamp + 1 days),
            refundExpiry: uint48(block.timestamp + 3 days),
            feeBps: uint16(_bound(feeBps, 0, 1000)),
            feeReceiver: feeAccount,
            salt: keccak256(abi.encode("salt", ++_salt))
        });
        bytes32 id = checkout.intentId(i);
        _intents.push(i);
        ids.push(id);
        _authorize(i, id, p, ICheckout.Method(methodSeed % 4), depositSeed);
        _observe();
    }

    /// @notice A second payment of an existing intent, by a random method: must never succeed.
    function payAgain(uint256 seed, uint8 methodSeed, uint256 depositSeed) external {
        if (ids.length == 0) return;
        uint256 k = seed % ids.length;
        ICheckout.PaymentIntent memory i = _intents[k];
        uint256 p =
            i.payer == payers[0]
                ? 0
                : i.payer == payers[1]
                    ? 1
                    : 2;
        _authorize(i, ids[k], p, ICheckout.Method(methodSeed % 4), depositSeed);
        _observe();
    }

    function capture(uint256 seed) external {
        if (ids.length == 0) return;
        uint256 k = seed % ids.length;
        bytes32 receipt = keccak256(abi.encode("receipt", seed));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_operatorKey, checkout.captureDigest(ids[k], receipt));
        try checkout.capture(_intents[k], receipt, abi.encodePacked(r, s, v)) {
            ghostEscrow -= _intents[k].tokenAmount;
            ++successes[this.capture.selector];
        } catch {}
        _observe();
    }

    function void(uint256 seed) external {
        if (ids.length == 0) return;
        uint256 k = seed % ids.length;
        vm.prank(operatorAccount);
        try checkout.void(_intents[k]) {
            ghostEscrow -= _intents[k].tokenAmount;
            ++successes[this.void.selector];
        } catch {}
        _observe();
    }

    function reclaim(uint256 seed) external {
        if (ids.length == 0) return;
        uint256 k = seed % ids.length;
        try checkout.reclaim(_intents[k]) {
            ghostEscrow -= _intents[k].tokenAmount;
            ++successes[this.reclaim.selector];
        } catch {}
        _observe();
    }

    function refund(uint256 seed, uint256 amount) external {
        if (ids.length == 0) return;
        uint256 k = seed % ids.length;
        amount = _bound(amount, 0, _intents[k].tokenAmount + 1);
        vm.prank(seed % 2 == 0 ? operatorAccount : merchantAccount);
        try checkout.refund(_intents[k], amount) {
            ++successes[this.refund.selector];
        } catch {}
        _observe();
    }

    /// @notice A payer's stray transfer to an intent's deposit address.
    function stray(uint256 seed, uint256 amount) external {
        if (ids.length == 0) return;
        uint256 k = seed % ids.length;
        amount = _bound(amount, 1, 5_000);
        address deposit = checkout.depositAddress(ids[k]);
        vm.prank(_intents[k].payer);
        busd.transfer(deposit, amount);
    }

    function returnDeposit(uint256 seed, bool byOperator) external {
        if (ids.length == 0) return;
        uint256 k = seed % ids.length;
        vm.prank(byOperator ? operatorAccount : address(this));
        try checkout.returnDeposit(_intents[k], address(busd)) {
            ++successes[this.returnDeposit.selector];
        } catch {}
        _observe();
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + _bound(seconds_, 1, 2 days));
    }

    function _authorize(
        ICheckout.PaymentIntent memory i,
        bytes32 id,
        uint256 p,
        ICheckout.Method method,
        uint256 depositSeed
    ) private {
        (bytes memory authorization, address caller) = _prepare(i, id, p, method, depositSeed);
        bytes memory opSig = _sign(_operatorKey, id);
        vm.prank(caller);
        try checkout.authorize(i, opSig, method, authorization) {
            ghostEscrow += i.tokenAmount;
            ++successes[this.pay.selector];
        } catch {}
        if (method == ICheckout.Method.Allowance) {
            vm.prank(i.payer);
            busd.approve(address(checkout), 0);
        }
    }

    /// @dev What the method needs: an allowance, a permit, an EIP-3009 authorization (over nonce = the id), or a
    ///      transfer to the deposit address (short, exact or over); and who submits.
    function _prepare(
        ICheckout.PaymentIntent memory i,
        bytes32 id,
        uint256 p,
        ICheckout.Method method,
        uint256 depositSeed
    ) private returns (bytes memory authorization, address caller) {
        caller = i.payer;
        uint256 deadline = block.timestamp + 1 hours;
        if (method == ICheckout.Method.Allowance) {
            vm.prank(i.payer);
            busd.approve(address(checkout), i.tokenAmount);
        } else if (method == ICheckout.Method.Permit) {
            bytes memory sig = _permitSig(address(busd), _payerKeys[p], address(checkout), i.tokenAmount, deadline);
            authorization = abi.encode(deadline, sig);
        } else if (method == ICheckout.Method.ReceiveWithAuthorization) {
            bytes memory sig = _receiveSig(
                address(busd),
                _payerKeys[p],
                address(checkout),
                i.tokenAmount,
                0,
                deadline,
                id
            );
            authorization = abi.encode(uint256(0), deadline, sig);
            caller = address(this);
        } else {
            uint256 paid =
                depositSeed % 3 == 0
                    ? i.tokenAmount - 1
                    : depositSeed % 3 == 1
                        ? i.tokenAmount
                        : i.tokenAmount + (depositSeed % 1000) + 1;
            address deposit = checkout.depositAddress(id);
            if (paid > 0) {
                vm.prank(i.payer);
                busd.transfer(deposit, paid);
            }
            caller = address(this);
        }
    }

    /// @dev Records a status seen to move other than None → Authorized → {Captured, Voided, Reclaimed}.
    function _observe() private {
        for (uint256 k; k < ids.length; ++k) {
            ICheckout.Status now_ = checkout.paymentOf(ids[k]).status;
            ICheckout.Status was = _seen[ids[k]];
            if (now_ != was) {
                bool ok =
                    (was == ICheckout.Status.None && now_ == ICheckout.Status.Authorized) ||
                        (was == ICheckout.Status.Authorized && now_ != ICheckout.Status.None);
                if (!ok) ghostBadTransition = true;
                _seen[ids[k]] = now_;
            }
        }
    }
}

contract CheckoutInvariantTest is CheckoutFixture {
    CheckoutHandler internal handler;

    function setUp() public override {
        super.setUp();
        uint256[3] memory keys = [payerKey, uint256(0xB0B), uint256(0xCA7)];
        _mint(vm.addr(keys[1]), PAYER_FUNDS);
        _mint(vm.addr(keys[2]), PAYER_FUNDS);
        handler = new CheckoutHandler(checkout, token, operatorKey, keys, merchant, feeReceiver);
        bytes4[] memory selectors = new bytes4[](9);
        selectors[0] = handler.pay.selector;
        selectors[1] = handler.payAgain.selector;
        selectors[2] = handler.capture.selector;
        selectors[3] = handler.void.selector;
        selectors[4] = handler.reclaim.selector;
        selectors[5] = handler.refund.selector;
        selectors[6] = handler.stray.selector;
        selectors[7] = handler.returnDeposit.selector;
        selectors[8] = handler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// @dev The handler's actions do succeed (the invariants are not checked over a run of refusals): every method
    ///      pays, and capture, void, reclaim, refund and returnDeposit go through.
    function test_handlerReachesEveryAction() public {
        for (uint8 m; m < 4; ++m) handler.pay(m, 1000 + m, 100, m, 1);
        handler.pay(0, 500, 0, 3, 0); // a short deposit: refused
        handler.pay(1, 500, 0, 3, 2); // an overpaid one
        handler.payAgain(0, 0, 1);
        handler.capture(0);
        handler.refund(0, 10);
        handler.void(1);
        handler.stray(2, 50);
        handler.returnDeposit(2, false);
        handler.warp(2 days);
        handler.reclaim(3);
        assertEq(handler.successes(handler.pay.selector), 5);
        assertEq(handler.successes(handler.capture.selector), 1);
        assertEq(handler.successes(handler.refund.selector), 1);
        assertEq(handler.successes(handler.void.selector), 1);
        assertEq(handler.successes(handler.returnDeposit.selector), 1);
        assertEq(handler.successes(handler.reclaim.selector), 1);
        invariant_balanceIsTheAuthorizedEscrow();
        invariant_moneyIsConserved();
    }

    /// @dev The checkout holds exactly the escrow of its Authorized payments (deposits sit at their own addresses).
    function invariant_balanceIsTheAuthorizedEscrow() public view {
        uint256 n = handler.intentCount();
        uint256 escrow;
        for (uint256 k; k < n; ++k) {
            if (checkout.paymentOf(handler.ids(k)).status == ICheckout.Status.Authorized) {
                escrow += handler.intentAt(k).tokenAmount;
            }
        }
        assertEq(token.balanceOf(address(checkout)), escrow);
        assertEq(handler.ghostEscrow(), escrow);
    }

    /// @dev refunded ≤ captured; captured is the amount once captured, zero otherwise.
    function invariant_refundsWithinCaptures() public view {
        uint256 n = handler.intentCount();
        for (uint256 k; k < n; ++k) {
            ICheckout.Payment memory p = checkout.paymentOf(handler.ids(k));
            assertLe(p.refunded, p.captured);
            if (p.status == ICheckout.Status.Captured) assertEq(p.captured, handler.intentAt(k).tokenAmount);
            else assertEq(p.captured, 0);
        }
    }

    function invariant_statusOnlyMovesForward() public view {
        assertFalse(handler.ghostBadTransition(), "a status moved the wrong way");
    }

    /// @dev Money is neither made nor lost: payers, merchant, fee receiver, checkout and deposit addresses hold
    ///      what they were given.
    function invariant_moneyIsConserved() public view {
        uint256 total = token.balanceOf(address(checkout)) + token.balanceOf(merchant) + token.balanceOf(feeReceiver);
        for (uint256 k; k < 3; ++k) total += token.balanceOf(handler.payers(k));
        uint256 n = handler.intentCount();
        for (uint256 k; k < n; ++k) total += token.balanceOf(checkout.depositAddress(handler.ids(k)));
        assertEq(total, 3 * PAYER_FUNDS + MERCHANT_FUNDS);
    }
}
