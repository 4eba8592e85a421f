// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IERC3009} from "../token/interfaces/IERC3009.sol";
import {CheckoutDeposit} from "./CheckoutDeposit.sol";
import {ICheckout} from "./interfaces/ICheckout.sol";

/// @title Checkout
/// @notice Escrowed token payments for fiat-priced purchases, captured only against the retailer's receipt (see
///         `ICheckout`).
/// @dev Roles:
///      - `DEFAULT_ADMIN_ROLE` (one holder, handed over in two steps after a delay): grants and revokes roles.
///      - `OPERATOR_ROLE`: signs intents and captures (a signature counts only while its signer holds the role);
///        voids authorizations and refunds captures.
///      - `CONFIGURATOR_ROLE`: sets currencies' minor units, the tokens taken and the feeds read.
///      - `PAUSER_ROLE`: pauses and unpauses.
///
///      Safety of the funds. The escrow holds, per intent, exactly its token amount (the balance received is
///      measured, so a token that takes a fee on transfer is refused) from authorize until one of capture, void or
///      reclaim, each of which moves it once and sets a final status first. Returns always go to the intent's
///      payer; refunds are drawn from the merchant's allowance, never from the escrow. A transfer the token
///      refuses (BankToken's frozen accounts and pause) reverts the whole call.
///
///      Pause. It stops the paths that take or pay out money on the operator's word: `authorize`, `capture`,
///      `refund`. The paths that give money back to a payer (`void`, `reclaim`, `returnDeposit`) stay open, so a
///      pause never traps an escrow; the expiries are not extended.
contract Checkout is ICheckout, AccessControlDefaultAdminRules, Pausable, ReentrancyGuardTransient, EIP712 {
    using SafeERC20 for IERC20;

    /// @inheritdoc ICheckout
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    /// @inheritdoc ICheckout
    bytes32 public constant CONFIGURATOR_ROLE = keccak256("CONFIGURATOR_ROLE");
    /// @inheritdoc ICheckout
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @inheritdoc ICheckout
    uint16 public constant MAX_FEE_BPS = 1_000;
    /// @inheritdoc ICheckout
    uint8 public constant MAX_DECIMALS = 36;

    bytes32 private constant _INTENT_TYPEHASH = keccak256(
        "PaymentIntent(address payer,address merchant,bytes32 orderRef,uint256 fiatAmount,bytes3 currency,"
        "address token,uint256 tokenAmount,address priceFeed,uint80 roundId,uint16 maxDeviationBps,"
        "uint48 quoteExpiry,uint48 authorizationExpiry,uint48 refundExpiry,uint16 feeBps,address feeReceiver,"
        "bytes32 salt)"
    );
    bytes32 private constant _CAPTURE_TYPEHASH = keccak256("Capture(bytes32 intentId,bytes32 receiptHash)");
    uint256 private constant _BPS = 10_000;

    /// @inheritdoc ICheckout
    address public immutable depositImplementation;

    mapping(bytes32 intentId => Payment) private _payments;
    /// @dev A currency's minor units plus one (zero: unset).
    mapping(bytes3 currency => uint8) private _minorUnitsPlusOne;
    mapping(address token => TokenConfig) private _tokens;
    mapping(address feed => FeedConfig) private _feeds;

    /// @param adminDelay The delay of a default-admin handover (seconds).
    /// @param admin The first default admin.
    constructor(
        uint48 adminDelay,
        address admin
    ) AccessControlDefaultAdminRules(adminDelay, admin) EIP712("BankChain Checkout", "1") {
        depositImplementation = address(new CheckoutDeposit());
    }

    // ── Payments ──

    /// @inheritdoc ICheckout
    function authorize(
        PaymentIntent calldata intent,
        bytes calldata operatorSignature,
        Method method,
        bytes calldata authorization
    ) external whenNotPaused nonReentrant returns (bytes32 id) {
        id = _intentId(intent);
        _checkAuthorizable(id, intent, operatorSignature);
        _payments[id].status = Status.Authorized;
        IERC20 token = IERC20(intent.token);
        uint256 before = token.balanceOf(address(this));
        _collect(id, intent, method, authorization);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != intent.tokenAmount) revert CheckoutAmountMismatch(intent.tokenAmount, received);
        _emitAuthorized(id, intent, method);
    }

    /// @inheritdoc ICheckout
    function capture(
        PaymentIntent calldata intent,
        bytes32 receiptHash,
        bytes calldata operatorSignature
    ) external whenNotPaused nonReentrant {
        bytes32 id = _intentId(intent);
        Payment storage payment = _payments[id];
        if (payment.status != Status.Authorized) revert CheckoutWrongStatus(id, payment.status);
        // slither-disable-next-line timestamp
        if (block.timestamp > intent.authorizationExpiry) {
            revert CheckoutAuthorizationExpired(id, intent.authorizationExpiry, block.timestamp);
        }
        if (receiptHash == bytes32(0)) revert CheckoutEmptyReceipt(id);
        _checkOperator(_hashTypedDataV4(keccak256(abi.encode(_CAPTURE_TYPEHASH, id, receiptHash))), operatorSignature);

        uint256 amount = intent.tokenAmount;
        uint256 fee = (amount * intent.feeBps) / _BPS;
        payment.status = Status.Captured;
        payment.captured = uint120(amount);
        IERC20 token = IERC20(intent.token);
        if (fee != 0) token.safeTransfer(intent.feeReceiver, fee);
        token.safeTransfer(intent.merchant, amount - fee);
        emit PaymentCaptured(id, receiptHash, amount - fee, fee);
    }

    /// @inheritdoc ICheckout
    function void(PaymentIntent calldata intent) external onlyRole(OPERATOR_ROLE) nonReentrant {
        bytes32 id = _intentId(intent);
        Payment storage payment = _payments[id];
        if (payment.status != Status.Authorized) revert CheckoutWrongStatus(id, payment.status);
        payment.status = Status.Voided;
        IERC20(intent.token).safeTransfer(intent.payer, intent.tokenAmount);
        emit PaymentVoided(id, intent.tokenAmount);
    }

    /// @inheritdoc ICheckout
    function reclaim(PaymentIntent calldata intent) external nonReentrant {
        bytes32 id = _intentId(intent);
        Payment storage payment = _payments[id];
        if (payment.status != Status.Authorized) revert CheckoutWrongStatus(id, payment.status);
        // slither-disable-next-line timestamp
        if (block.timestamp <= intent.authorizationExpiry) {
            revert CheckoutAuthorizationNotExpired(id, intent.authorizationExpiry, block.timestamp);
        }
        payment.status = Status.Reclaimed;
        IERC20(intent.token).safeTransfer(intent.payer, intent.tokenAmount);
        emit PaymentReclaimed(id, intent.tokenAmount);
    }

    /// @inheritdoc ICheckout
    function refund(PaymentIntent calldata intent, uint256 amount) external whenNotPaused nonReentrant {
        if (msg.sender != intent.merchant && !hasRole(OPERATOR_ROLE, msg.sender)) {
            revert CheckoutNotOperatorOrMerchant(msg.sender);
        }
        bytes32 id = _intentId(intent);
        Payment storage payment = _payments[id];
        if (payment.status != Status.Captured) revert CheckoutWrongStatus(id, payment.status);
        // slither-disable-next-line timestamp
        if (block.timestamp > intent.refundExpiry) {
            revert CheckoutRefundExpired(id, intent.refundExpiry, block.timestamp);
        }
        uint256 available = payment.captured - payment.refunded;
        if (amount == 0 || amount > available) revert CheckoutRefundExceedsCaptured(id, amount, available);
        // `amount <= available < 2^120`.
        payment.refunded += uint120(amount);
        IERC20(intent.token).safeTransferFrom(intent.merchant, intent.payer, amount);
        emit PaymentRefunded(id, amount, payment.refunded);
    }

    /// @inheritdoc ICheckout
    function returnDeposit(
        PaymentIntent calldata intent,
        address token
    ) external nonReentrant returns (uint256 amount) {
        bytes32 id = _intentId(intent);
        // slither-disable-next-line timestamp
        if (
            _payments[id].status == Status.None &&
            block.timestamp <= intent.quoteExpiry &&
            !hasRole(OPERATOR_ROLE, msg.sender)
        ) revert CheckoutDepositNotReturnable(id, msg.sender);
        amount = _deposit(id).sweep(IERC20(token), intent.payer);
        if (amount == 0) revert CheckoutNothingToReturn(id, token);
        emit DepositReturned(id, token, intent.payer, amount);
    }

    // ── Configuration ──

    /// @inheritdoc ICheckout
    function setCurrency(bytes3 currency, uint8 minorUnits) external onlyRole(CONFIGURATOR_ROLE) {
        if (!_isCode(currency) || minorUnits > MAX_DECIMALS) revert CheckoutInvalidCurrency(currency, minorUnits);
        _minorUnitsPlusOne[currency] = minorUnits + 1;
        emit CurrencySet(currency, minorUnits);
    }

    /// @inheritdoc ICheckout
    function setToken(address token, bytes3 currency) external onlyRole(CONFIGURATOR_ROLE) {
        if (currency == bytes3(0)) {
            delete _tokens[token];
            emit TokenSet(token, currency, 0);
            return;
        }
        if (!_isCode(currency)) revert CheckoutInvalidCurrency(currency, 0);
        (bool ok, uint8 decimals) = _decimalsOf(token);
        if (!ok || decimals > MAX_DECIMALS) revert CheckoutUnsupportedToken(token);
        _tokens[token] = TokenConfig({currency: currency, decimals: decimals});
        emit TokenSet(token, currency, decimals);
    }

    /// @inheritdoc ICheckout
    function setFeed(
        address feed,
        bytes3 base,
        bytes3 quote,
        uint32 maxStaleness
    ) external onlyRole(CONFIGURATOR_ROLE) {
        if (maxStaleness == 0) {
            delete _feeds[feed];
            emit FeedSet(feed, base, quote, 0, 0);
            return;
        }
        if (!_isCode(base) || !_isCode(quote) || base == quote) revert CheckoutInvalidFeed(feed, base, quote);
        (bool ok, uint8 decimals) = _decimalsOf(feed);
        if (!ok || decimals > MAX_DECIMALS) revert CheckoutInvalidFeed(feed, base, quote);
        _feeds[feed] = FeedConfig({base: base, quote: quote, decimals: decimals, maxStaleness: maxStaleness});
        emit FeedSet(feed, base, quote, decimals, maxStaleness);
    }

    /// @inheritdoc ICheckout
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc ICheckout
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ── Views ──

    /// @inheritdoc ICheckout
    function intentId(PaymentIntent calldata intent) external view returns (bytes32) {
        return _intentId(intent);
    }

    /// @inheritdoc ICheckout
    function captureDigest(bytes32 intentId_, bytes32 receiptHash) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(_CAPTURE_TYPEHASH, intentId_, receiptHash)));
    }

    /// @inheritdoc ICheckout
    function paymentOf(bytes32 intentId_) external view returns (Payment memory) {
        return _payments[intentId_];
    }

    /// @inheritdoc ICheckout
    function depositAddress(bytes32 intentId_) external view returns (address) {
        return Clones.predictDeterministicAddress(depositImplementation, intentId_);
    }

    /// @inheritdoc ICheckout
    function tokenAmountFor(
        uint256 fiatAmount,
        bytes3 currency,
        address token,
        address feed,
        uint80 roundId
    ) external view returns (uint256) {
        (uint256 amount, , ) = _convert(fiatAmount, currency, token, feed, roundId);
        return amount;
    }

    /// @inheritdoc ICheckout
    function minorUnitsOf(bytes3 currency) public view returns (uint8) {
        uint8 stored = _minorUnitsPlusOne[currency];
        if (stored == 0) revert CheckoutUnknownCurrency(currency);
        return stored - 1;
    }

    /// @inheritdoc ICheckout
    function tokenConfig(address token) external view returns (TokenConfig memory) {
        return _tokens[token];
    }

    /// @inheritdoc ICheckout
    function feedConfig(address feed) external view returns (FeedConfig memory) {
        return _feeds[feed];
    }

    // ── Internals ──

    /// @dev Every field of the intent is a static type, so `abi.encode` of the struct is EIP-712's `encodeData`.
    function _intentId(PaymentIntent calldata intent) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(_INTENT_TYPEHASH, intent)));
    }

    function _checkTerms(PaymentIntent calldata intent) private pure {
        if (
            intent.payer == address(0) ||
            intent.merchant == address(0) ||
            intent.tokenAmount == 0 ||
            (intent.feeBps != 0 && intent.feeReceiver == address(0))
        ) revert CheckoutInvalidIntent(intent.payer, intent.merchant, intent.feeReceiver, intent.tokenAmount);
        if (intent.tokenAmount > type(uint120).max) revert CheckoutAmountTooLarge(intent.tokenAmount);
        if (intent.feeBps > MAX_FEE_BPS) revert CheckoutFeeTooHigh(intent.feeBps, MAX_FEE_BPS);
        if (intent.quoteExpiry > intent.authorizationExpiry || intent.authorizationExpiry > intent.refundExpiry) {
            revert CheckoutExpiriesOutOfOrder(intent.quoteExpiry, intent.authorizationExpiry, intent.refundExpiry);
        }
    }

    /// @dev Everything `authorize` checks before it moves money: one payment per id, sound terms, the quote not
    ///      expired, an operator's signature, and the amount the price gives.
    function _checkAuthorizable(
        bytes32 id,
        PaymentIntent calldata intent,
        bytes calldata operatorSignature
    ) private view {
        Status status = _payments[id].status;
        if (status != Status.None) revert CheckoutIntentUsed(id, status);
        _checkTerms(intent);
        // slither-disable-next-line timestamp
        if (block.timestamp > intent.quoteExpiry) revert CheckoutQuoteExpired(id, intent.quoteExpiry, block.timestamp);
        _checkOperator(id, operatorSignature);
        uint256 expected = _priceChecked(intent);
        if (intent.tokenAmount != expected) revert CheckoutAmountMismatch(expected, intent.tokenAmount);
    }

    function _emitAuthorized(bytes32 id, PaymentIntent calldata intent, Method method) private {
        emit PaymentAuthorized(
            id,
            intent.payer,
            intent.merchant,
            intent.token,
            intent.tokenAmount,
            intent.orderRef,
            method
        );
    }

    /// @dev Plain ECDSA: an operator's key signs, whatever code its account has (EIP-7702).
    function _checkOperator(bytes32 digest, bytes calldata signature) private view {
        (address signer, ECDSA.RecoverError error, ) = ECDSA.tryRecover(digest, signature);
        if (error != ECDSA.RecoverError.NoError || !hasRole(OPERATOR_ROLE, signer)) {
            revert CheckoutInvalidOperatorSignature(signer);
        }
    }

    /// @dev The amount the intent's price gives, after checking the feed's latest answer still holds the quote.
    function _priceChecked(PaymentIntent calldata intent) private view returns (uint256 amount) {
        int256 quoted;
        FeedConfig memory feed;
        (amount, quoted, feed) = _convert(
            intent.fiatAmount,
            intent.currency,
            intent.token,
            intent.priceFeed,
            intent.roundId
        );
        if (intent.priceFeed == address(0)) return amount;
        (uint80 latestRound, int256 latest, , uint256 updatedAt, ) = AggregatorV3Interface(intent.priceFeed)
            .latestRoundData();
        if (latest <= 0) revert CheckoutInvalidPrice(intent.priceFeed, latestRound, latest);
        // slither-disable-next-line timestamp
        if (updatedAt + feed.maxStaleness < block.timestamp) {
            revert CheckoutStalePrice(intent.priceFeed, updatedAt, feed.maxStaleness);
        }
        if (latestRound < intent.roundId) revert CheckoutUnknownRound(intent.priceFeed, intent.roundId);
        uint256 difference = latest > quoted ? uint256(latest - quoted) : uint256(quoted - latest);
        if (difference * _BPS > uint256(quoted) * intent.maxDeviationBps) {
            revert CheckoutPriceDeviation(intent.priceFeed, quoted, latest, intent.maxDeviationBps);
        }
    }

    /// @dev Converts at the quoted round, rounding up; returns the round's answer and the feed (none: zeros).
    function _convert(
        uint256 fiatAmount,
        bytes3 currency,
        address token,
        address feedAddress,
        uint80 roundId
    ) private view returns (uint256 amount, int256 answer, FeedConfig memory feed) {
        uint256 minorUnits = minorUnitsOf(currency);
        TokenConfig memory config = _tokens[token];
        if (config.currency == bytes3(0)) revert CheckoutUnsupportedToken(token);
        if (config.currency == currency) {
            if (feedAddress != address(0) || roundId != 0) revert CheckoutUnexpectedFeed(feedAddress, roundId);
            return (Math.mulDiv(fiatAmount, 10 ** config.decimals, 10 ** minorUnits, Math.Rounding.Ceil), 0, feed);
        }
        feed = _feeds[feedAddress];
        bool fiatPriced = feed.base == currency && feed.quote == config.currency;
        if (feed.maxStaleness == 0 || !(fiatPriced || (feed.base == config.currency && feed.quote == currency))) {
            revert CheckoutFeedMismatch(feedAddress, currency, config.currency);
        }
        answer = _roundAnswer(feedAddress, roundId);
        uint256 price = uint256(answer);
        if (fiatPriced) {
            // fiat × price / 10^feedDecimals, in token units.
            amount = Math.mulDiv(
                fiatAmount * price,
                10 ** config.decimals,
                10 ** (uint256(feed.decimals) + minorUnits),
                Math.Rounding.Ceil
            );
        } else {
            // fiat / price × 10^feedDecimals, in token units.
            amount = Math.mulDiv(
                fiatAmount,
                10 ** (uint256(feed.decimals) + config.decimals),
                price * 10 ** minorUnits,
                Math.Rounding.Ceil
            );
        }
    }

    /// @dev A round's positive answer; a round the feed does not have (reverts or was never updated) is unknown.
    function _roundAnswer(address feed, uint80 roundId) private view returns (int256 answer) {
        uint256 updatedAt;
        try AggregatorV3Interface(feed).getRoundData(roundId) returns (
            uint80,
            int256 roundAnswer,
            uint256,
            uint256 roundUpdatedAt,
            uint80
        ) {
            (answer, updatedAt) = (roundAnswer, roundUpdatedAt);
        } catch {
            revert CheckoutUnknownRound(feed, roundId);
        }
        if (updatedAt == 0) revert CheckoutUnknownRound(feed, roundId);
        if (answer <= 0) revert CheckoutInvalidPrice(feed, roundId, answer);
    }

    /// @dev Moves the tokens by `method`; the caller measures what arrived.
    function _collect(bytes32 id, PaymentIntent calldata intent, Method method, bytes calldata authorization) private {
        IERC20 token = IERC20(intent.token);
        if (method == Method.Allowance || method == Method.Permit) {
            if (msg.sender != intent.payer) revert CheckoutNotPayer(msg.sender, intent.payer);
            if (method == Method.Permit) _permit(intent, authorization);
            token.safeTransferFrom(intent.payer, address(this), intent.tokenAmount);
        } else if (method == Method.ReceiveWithAuthorization) {
            (uint256 validAfter, uint256 validBefore, bytes memory signature) = abi.decode(
                authorization,
                (uint256, uint256, bytes)
            );
            IERC3009(intent.token).receiveWithAuthorization(
                intent.payer,
                address(this),
                intent.tokenAmount,
                validAfter,
                validBefore,
                id,
                signature
            );
        } else {
            uint256 deposited = _deposit(id).sweep(token, address(this));
            if (deposited < intent.tokenAmount) revert CheckoutUnderpaid(id, intent.tokenAmount, deposited);
            if (deposited > intent.tokenAmount) {
                token.safeTransfer(intent.payer, deposited - intent.tokenAmount);
                emit ExcessReturned(id, deposited - intent.tokenAmount);
            }
        }
    }

    /// @dev An EIP-2612 permit for exactly the amount; one already used (a front-runner submitted it) is fine
    ///      when the allowance covers the amount, which the transfer that follows checks.
    function _permit(PaymentIntent calldata intent, bytes calldata authorization) private {
        (uint256 deadline, bytes memory signature) = abi.decode(authorization, (uint256, bytes));
        if (signature.length != 65) revert ECDSA.ECDSAInvalidSignatureLength(signature.length);
        bytes32 r;
        bytes32 s;
        uint8 v;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            r := mload(add(signature, 0x20))
            s := mload(add(signature, 0x40))
            v := byte(0, mload(add(signature, 0x60)))
        }
        // slither-disable-next-line unused-return
        try IERC20Permit(intent.token).permit(intent.payer, address(this), intent.tokenAmount, deadline, v, r, s) {
            // The allowance is set.
        } catch {
            // Used already, or refused: the transfer below decides.
        }
    }

    /// @dev The intent's deposit address, deployed on first use.
    function _deposit(bytes32 id) private returns (CheckoutDeposit) {
        address predicted = Clones.predictDeterministicAddress(depositImplementation, id);
        if (predicted.code.length == 0) Clones.cloneDeterministic(depositImplementation, id);
        return CheckoutDeposit(predicted);
    }

    /// @dev A token's or feed's `decimals()` (the same selector); false when there is no code or no answer.
    function _decimalsOf(address target) private view returns (bool, uint8) {
        if (target.code.length == 0) return (false, 0);
        try IERC20Metadata(target).decimals() returns (uint8 decimals) {
            return (true, decimals);
        } catch {
            return (false, 0);
        }
    }

    /// @dev Three upper-case ASCII letters.
    function _isCode(bytes3 code) private pure returns (bool) {
        for (uint256 i = 0; i < 3; ++i) {
            bytes1 c = code[i];
            if (c < "A" || c > "Z") return false;
        }
        return true;
    }
}
