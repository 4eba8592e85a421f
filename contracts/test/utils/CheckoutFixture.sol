// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";

import {Checkout} from "../../commerce/Checkout.sol";
import {ICheckout} from "../../commerce/interfaces/ICheckout.sol";
import {RewardTokenSetup} from "./RewardDistributorFixture.sol";

/// @dev EIP-712 messages of the checkout and of BankToken's EIP-2612 / EIP-3009, spelled out from the spec's type
///      strings (so the tests also prove the contract's type hashes, its domain and its intent ids).
abstract contract CheckoutSigning is RewardTokenSetup {
    bytes32 internal constant INTENT_TYPEHASH = keccak256(
        "PaymentIntent(address payer,address merchant,bytes32 orderRef,uint256 fiatAmount,bytes3 currency,"
        "address token,uint256 tokenAmount,address priceFeed,uint80 roundId,uint16 maxDeviationBps,"
        "uint48 quoteExpiry,uint48 authorizationExpiry,uint48 refundExpiry,uint16 feeBps,address feeReceiver,"
        "bytes32 salt)"
    );
    bytes32 internal constant CAPTURE_TYPEHASH = keccak256("Capture(bytes32 intentId,bytes32 receiptHash)");
    bytes32 internal constant PERMIT_TYPEHASH = keccak256(
        "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant RECEIVE_TYPEHASH = keccak256(
        "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,"
        "bytes32 nonce)"
    );

    /// @dev The checkout's domain separator on `chainId` at `verifyingContract`.
    function _checkoutDomain(uint256 chainId, address verifyingContract) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(DOMAIN_TYPEHASH, keccak256("BankChain Checkout"), keccak256("1"), chainId, verifyingContract)
            );
    }

    /// @dev `encodeData` of an intent, field by field in the type's order (two halves: every field is one word).
    function _intentStructHash(ICheckout.PaymentIntent memory i) internal pure returns (bytes32) {
        bytes memory head = abi.encode(
            INTENT_TYPEHASH,
            i.payer,
            i.merchant,
            i.orderRef,
            i.fiatAmount,
            i.currency,
            i.token,
            i.tokenAmount,
            i.priceFeed
        );
        bytes memory tail = abi.encode(
            i.roundId,
            i.maxDeviationBps,
            i.quoteExpiry,
            i.authorizationExpiry,
            i.refundExpiry,
            i.feeBps,
            i.feeReceiver,
            i.salt
        );
        return keccak256(bytes.concat(head, tail));
    }

    /// @dev The id of `i` on a checkout at `at` on chain `chainId`.
    function _intentIdAt(
        ICheckout.PaymentIntent memory i,
        uint256 chainId,
        address at
    ) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", _checkoutDomain(chainId, at), _intentStructHash(i)));
    }

    function _captureDigestAt(address at, bytes32 id, bytes32 receipt) internal view returns (bytes32) {
        return
            keccak256(
                abi.encodePacked(
                    "\x19\x01",
                    _checkoutDomain(block.chainid, at),
                    keccak256(abi.encode(CAPTURE_TYPEHASH, id, receipt))
                )
            );
    }

    /// @dev An EIP-2612 permit of `owner` (key `key`) on `token_` for `spender`, at the owner's current nonce.
    function _permitSig(
        address token_,
        uint256 key,
        address spender,
        uint256 value,
        uint256 deadline
    ) internal view returns (bytes memory) {
        address owner = vm.addr(key);
        bytes32 structHash = keccak256(
            abi.encode(PERMIT_TYPEHASH, owner, spender, value, IERC20Permit(token_).nonces(owner), deadline)
        );
        return _sign(key, keccak256(abi.encodePacked("\x19\x01", IERC20Permit(token_).DOMAIN_SEPARATOR(), structHash)));
    }

    /// @dev An EIP-3009 `ReceiveWithAuthorization` of `from` (key `key`) on `token_`.
    function _receiveSig(
        address token_,
        uint256 key,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce
    ) internal view returns (bytes memory) {
        bytes32 structHash = keccak256(
            abi.encode(RECEIVE_TYPEHASH, vm.addr(key), to, value, validAfter, validBefore, nonce)
        );
        return _sign(key, keccak256(abi.encodePacked("\x19\x01", IERC20Permit(token_).DOMAIN_SEPARATOR(), structHash)));
    }
}

/// @dev A `Checkout` on the real `BankToken` (behind its proxy, minted through a `TrustAccount` under a
///      `ReserveLedger`) taken as USD; currencies USD 2, EUR 2, JPY 0; a EUR/USD feed (Chainlink's
///      `MockV3Aggregator`, 8 decimals, 1.085 at round 1, a day's staleness); an operator with a key, a payer with
///      a key and a balance, a merchant that lets the checkout draw refunds, a fee receiver.
abstract contract CheckoutFixture is CheckoutSigning {
    uint256 internal constant T0 = 1_700_000_000;
    int256 internal constant EUR_USD = 108_500_000;
    uint32 internal constant STALENESS = 1 days;
    uint256 internal constant PAYER_FUNDS = 1_000_000_00;
    uint256 internal constant MERCHANT_FUNDS = 1_000_000_00;
    bytes3 internal constant USD = "USD";
    bytes3 internal constant EUR = "EUR";
    bytes3 internal constant JPY = "JPY";
    bytes32 internal constant RECEIPT = keccak256("retailer receipt #1");

    Checkout internal checkout;
    MockV3Aggregator internal eurUsd;

    address internal admin = makeAddr("admin");
    address internal configurator = makeAddr("configurator");
    address internal pauser = makeAddr("pauser");
    address internal merchant = makeAddr("merchant");
    address internal feeReceiver = makeAddr("feeReceiver");
    address internal stranger = makeAddr("stranger");
    address internal operator;
    uint256 internal operatorKey;
    address internal payer;
    uint256 internal payerKey;
    address internal outsider;
    uint256 internal outsiderKey;
    uint256 private _salts;

    function setUp() public virtual {
        vm.warp(T0);
        _deployToken();
        (operator, operatorKey) = makeAddrAndKey("operator");
        (payer, payerKey) = makeAddrAndKey("payer");
        (outsider, outsiderKey) = makeAddrAndKey("outsider");
        checkout = _deployCheckout();
        eurUsd = new MockV3Aggregator(8, EUR_USD);
        vm.prank(configurator);
        checkout.setFeed(address(eurUsd), EUR, USD, STALENESS);
        _mint(payer, PAYER_FUNDS);
        _mint(merchant, MERCHANT_FUNDS);
        vm.prank(merchant);
        token.approve(address(checkout), type(uint256).max);
    }

    /// @dev A checkout with the fixture's roles, currencies and bUSD (no feed).
    function _deployCheckout() internal returns (Checkout c) {
        c = new Checkout(ADMIN_DELAY, admin);
        vm.startPrank(admin);
        c.grantRole(c.OPERATOR_ROLE(), operator);
        c.grantRole(c.CONFIGURATOR_ROLE(), configurator);
        c.grantRole(c.PAUSER_ROLE(), pauser);
        vm.stopPrank();
        vm.startPrank(configurator);
        c.setCurrency(USD, 2);
        c.setCurrency(EUR, 2);
        c.setCurrency(JPY, 0);
        c.setToken(address(token), USD);
        vm.stopPrank();
    }

    /// @dev 19.99 USD in bUSD, no feed, a 1% fee; quote 15 minutes, authorization 7 days, refunds 30 days.
    function _usdIntent() internal returns (ICheckout.PaymentIntent memory i) {
        i = ICheckout.PaymentIntent({
            payer: payer,
            merchant: merchant,
            orderRef: keccak256(abi.encode("order", _salts)),
            fiatAmount: 1999,
            currency: USD,
            token: address(token),
            tokenAmount: 1999,
            priceFeed: address(0),
            roundId: 0,
            maxDeviationBps: 0,
            quoteExpiry: uint48(block.timestamp + 15 minutes),
            authorizationExpiry: uint48(block.timestamp + 7 days),
            refundExpiry: uint48(block.timestamp + 30 days),
            feeBps: 100,
            feeReceiver: feeReceiver,
            salt: keccak256(abi.encode("salt", ++_salts))
        });
    }

    /// @dev 19.99 EUR in bUSD at the feed's latest round (1.085: 2169), 0.5% deviation allowed.
    function _eurIntent() internal returns (ICheckout.PaymentIntent memory i) {
        i = _usdIntent();
        i.currency = EUR;
        i.tokenAmount = 2169;
        i.priceFeed = address(eurUsd);
        i.roundId = uint80(eurUsd.latestRound());
        i.maxDeviationBps = 50;
    }

    function _id(ICheckout.PaymentIntent memory i) internal view returns (bytes32) {
        return _intentIdAt(i, block.chainid, address(checkout));
    }

    function _opSig(ICheckout.PaymentIntent memory i) internal view returns (bytes memory) {
        return _sign(operatorKey, _id(i));
    }

    function _captureSig(ICheckout.PaymentIntent memory i, bytes32 receipt) internal view returns (bytes memory) {
        return _sign(operatorKey, _captureDigestAt(address(checkout), _id(i), receipt));
    }

    /// @dev The payer approves and authorizes by allowance.
    function _authorize(ICheckout.PaymentIntent memory i) internal returns (bytes32 id) {
        vm.startPrank(i.payer);
        token.approve(address(checkout), i.tokenAmount);
        id = checkout.authorize(i, _opSig(i), ICheckout.Method.Allowance, "");
        vm.stopPrank();
    }

    function _capture(ICheckout.PaymentIntent memory i) internal {
        checkout.capture(i, RECEIPT, _captureSig(i, RECEIPT));
    }

    /// @dev `authorization` of a permit by the payer for exactly the amount.
    function _permitAuth(ICheckout.PaymentIntent memory i, uint256 deadline) internal view returns (bytes memory) {
        return abi.encode(deadline, _permitSig(i.token, payerKey, address(checkout), i.tokenAmount, deadline));
    }

    /// @dev `authorization` of an EIP-3009 receive by the payer with nonce = the intent's id.
    function _receiveAuth(ICheckout.PaymentIntent memory i) internal view returns (bytes memory) {
        uint256 validBefore = block.timestamp + 1 hours;
        return
            abi.encode(
                uint256(0),
                validBefore,
                _receiveSig(i.token, payerKey, address(checkout), i.tokenAmount, 0, validBefore, _id(i))
            );
    }

    function _status(bytes32 id) internal view returns (ICheckout.Status) {
        return checkout.paymentOf(id).status;
    }

    function _grantOperator(address who) internal {
        bytes32 role = checkout.OPERATOR_ROLE();
        vm.prank(admin);
        IAccessControl(address(checkout)).grantRole(role, who);
    }
}
