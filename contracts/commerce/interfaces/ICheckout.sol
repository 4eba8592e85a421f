// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title ICheckout
/// @notice Escrowed token payments for fiat-priced purchases. The platform's operator quotes a retailer's fiat
///         price as a token amount and signs a payment intent; the payer's tokens go into escrow (authorize); the
///         operator buys the good in fiat at the retailer, and the escrow is paid out to the merchant only with the
///         retailer receipt's hash signed by the operator (capture). An authorization can be voided by the
///         operator or, after its expiry, returned to the payer by anyone (reclaim); a capture can be refunded, up
///         to what was captured, until the refund expiry.
///
///         EIP-712 domain: name "BankChain Checkout", version "1", the chain id, this contract. Types:
///         `PaymentIntent(address payer,address merchant,bytes32 orderRef,uint256 fiatAmount,bytes3 currency,`
///         `address token,uint256 tokenAmount,address priceFeed,uint80 roundId,uint16 maxDeviationBps,`
///         `uint48 quoteExpiry,uint48 authorizationExpiry,uint48 refundExpiry,uint16 feeBps,address feeReceiver,`
///         `bytes32 salt)` and `Capture(bytes32 intentId,bytes32 receiptHash)`. An intent's id is its digest, so
///         an id names one set of terms on one chain and contract and cannot be taken by other terms. Operator
///         signatures are 65-byte ECDSA (low s), never ERC-1271: the key decides, whatever code an EIP-7702
///         account has.
///
///         The price. `tokenAmount` must be exactly what `tokenAmountFor` gives for the intent's fiat amount (in
///         the currency's ISO 4217 minor units) at the round `roundId` of `priceFeed`, rounded up, and that round
///         must still hold: the feed's latest answer is positive, not older than the feed's `maxStaleness`, at or
///         after the quoted round, and within `maxDeviationBps` of the quoted answer. A token whose currency is
///         the intent's needs no feed (`priceFeed` and `roundId` zero) and converts by decimals alone.
///
///         Four ways to authorize, each moving exactly `tokenAmount` into escrow: the payer's allowance and an
///         EIP-2612 permit (the payer calls), an EIP-3009 `receiveWithAuthorization` whose nonce is the intent's
///         id (anyone submits it), and a plain transfer to the intent's deposit address (`depositAddress`, an
///         ERC-1167 clone this contract deploys there when it collects; anyone submits). A deposit below the
///         amount does not authorize; above it, the excess goes back to the payer at once; anything reaching the
///         deposit address later, or when the intent can no longer be paid, goes back to the payer through
///         `returnDeposit`.
interface ICheckout {
    /// @notice How the payer's tokens reach the escrow.
    enum Method {
        Allowance,
        Permit,
        ReceiveWithAuthorization,
        Deposit
    }

    /// @notice Where a payment is.
    enum Status {
        None,
        Authorized,
        Captured,
        Voided,
        Reclaimed
    }

    /// @notice What the operator signs: one quote for one payer.
    /// @param payer Who pays; every return and refund goes to this address.
    /// @param merchant The payee of record: receives the capture less the fee, and funds refunds.
    /// @param orderRef The platform's reference of the order (the retailer sees it).
    /// @param fiatAmount The price in `currency`'s minor units.
    /// @param currency The price's ISO 4217 code.
    /// @param token The token paid in.
    /// @param tokenAmount The token amount, in the token's base units.
    /// @param priceFeed The Chainlink-compatible feed the quote used; zero when the token's currency is `currency`.
    /// @param roundId The feed round the quote used; zero without a feed.
    /// @param maxDeviationBps How far (basis points of the quoted answer) the latest answer may be from it.
    /// @param quoteExpiry The last second the intent can be authorized.
    /// @param authorizationExpiry The last second the escrow can be captured; after it, it can be reclaimed.
    /// @param refundExpiry The last second a capture can be refunded.
    /// @param feeBps The platform's fee, in basis points of `tokenAmount`, taken at capture.
    /// @param feeReceiver Who receives the fee (may be zero when `feeBps` is zero).
    /// @param salt Makes intents with otherwise equal terms distinct.
    struct PaymentIntent {
        address payer;
        address merchant;
        bytes32 orderRef;
        uint256 fiatAmount;
        bytes3 currency;
        address token;
        uint256 tokenAmount;
        address priceFeed;
        uint80 roundId;
        uint16 maxDeviationBps;
        uint48 quoteExpiry;
        uint48 authorizationExpiry;
        uint48 refundExpiry;
        uint16 feeBps;
        address feeReceiver;
        bytes32 salt;
    }

    /// @notice A payment's state.
    /// @param status Where it is.
    /// @param captured What was captured (the intent's token amount once captured, else zero).
    /// @param refunded What was refunded so far.
    struct Payment {
        Status status;
        uint120 captured;
        uint120 refunded;
    }

    /// @notice A token the checkout takes.
    /// @param currency Its currency (ISO 4217 code, or another three-letter code such as "ETH").
    /// @param decimals Its decimals, read from the token when it was set.
    struct TokenConfig {
        bytes3 currency;
        uint8 decimals;
    }

    /// @notice A price feed the checkout reads: the price of one `base` in `quote`.
    /// @param base The priced currency.
    /// @param quote The currency the answer is in.
    /// @param decimals The answer's decimals, read from the feed when it was set.
    /// @param maxStaleness How old (seconds) the latest answer may be.
    struct FeedConfig {
        bytes3 base;
        bytes3 quote;
        uint8 decimals;
        uint32 maxStaleness;
    }

    // ── Events ──

    /// @notice The payer's tokens went into escrow for `intentId`.
    event PaymentAuthorized(
        bytes32 indexed intentId,
        address indexed payer,
        address indexed merchant,
        address token,
        uint256 amount,
        bytes32 orderRef,
        Method method
    );
    /// @notice The escrow of `intentId` went to the merchant (and the fee to its receiver) against `receiptHash`.
    event PaymentCaptured(bytes32 indexed intentId, bytes32 receiptHash, uint256 merchantAmount, uint256 fee);
    /// @notice The operator voided `intentId`; its escrow went back to the payer.
    event PaymentVoided(bytes32 indexed intentId, uint256 amount);
    /// @notice `intentId`'s authorization expired uncaptured; its escrow went back to the payer.
    event PaymentReclaimed(bytes32 indexed intentId, uint256 amount);
    /// @notice `amount` of `intentId`'s capture went back to the payer from the merchant.
    event PaymentRefunded(bytes32 indexed intentId, uint256 amount, uint256 totalRefunded);
    /// @notice A deposit beyond the intent's amount went back to the payer when it was collected.
    event ExcessReturned(bytes32 indexed intentId, uint256 amount);
    /// @notice What sat at `intentId`'s deposit address in `token` went back to `to` (the payer).
    event DepositReturned(bytes32 indexed intentId, address indexed token, address indexed to, uint256 amount);
    /// @notice A currency's minor units were set.
    event CurrencySet(bytes3 indexed currency, uint8 minorUnits);
    /// @notice A token was set to `currency` (zero: no longer taken).
    event TokenSet(address indexed token, bytes3 currency, uint8 decimals);
    /// @notice A feed was set (`maxStaleness` zero: no longer read).
    event FeedSet(address indexed feed, bytes3 base, bytes3 quote, uint8 decimals, uint32 maxStaleness);

    // ── Errors ──

    /// @notice `currency` is not three upper-case letters, or its minor units exceed `MAX_DECIMALS`.
    error CheckoutInvalidCurrency(bytes3 currency, uint8 minorUnits);
    /// @notice The intent's currency has no minor units set.
    error CheckoutUnknownCurrency(bytes3 currency);
    /// @notice The token is not taken, or its decimals cannot be read or exceed `MAX_DECIMALS`.
    error CheckoutUnsupportedToken(address token);
    /// @notice A feed that cannot be set: no code, equal or unknown currencies, or decimals beyond `MAX_DECIMALS`.
    error CheckoutInvalidFeed(address feed, bytes3 base, bytes3 quote);
    /// @notice A zero payer or merchant, a fee without a receiver, or a zero amount.
    error CheckoutInvalidIntent(address payer, address merchant, address feeReceiver, uint256 tokenAmount);
    /// @notice The expiries are not `quoteExpiry <= authorizationExpiry <= refundExpiry`.
    error CheckoutExpiriesOutOfOrder(uint48 quoteExpiry, uint48 authorizationExpiry, uint48 refundExpiry);
    /// @notice The fee is above `MAX_FEE_BPS`.
    error CheckoutFeeTooHigh(uint16 feeBps, uint16 maxFeeBps);
    /// @notice The amount does not fit the escrow's 120 bits.
    error CheckoutAmountTooLarge(uint256 amount);
    /// @notice The signature does not recover to an operator.
    error CheckoutInvalidOperatorSignature(address signer);
    /// @notice The quote expired before it was authorized.
    error CheckoutQuoteExpired(bytes32 intentId, uint48 quoteExpiry, uint256 time);
    /// @notice The intent already has a payment: one intent, one payment.
    error CheckoutIntentUsed(bytes32 intentId, Status status);
    /// @notice Only the payer may authorize by allowance or permit.
    error CheckoutNotPayer(address caller, address payer);
    /// @notice The token amount is not the one the price gives, or the escrow did not receive exactly it.
    error CheckoutAmountMismatch(uint256 expected, uint256 actual);
    /// @notice A feed or round for a token of the intent's currency, or none for a token of another.
    error CheckoutUnexpectedFeed(address feed, uint80 roundId);
    /// @notice The feed is not set, or prices neither the intent's currency in the token's nor the reverse.
    error CheckoutFeedMismatch(address feed, bytes3 currency, bytes3 tokenCurrency);
    /// @notice The quoted round does not exist on the feed, or is after its latest.
    error CheckoutUnknownRound(address feed, uint80 roundId);
    /// @notice A round's answer is zero or negative.
    error CheckoutInvalidPrice(address feed, uint80 roundId, int256 answer);
    /// @notice The feed's latest answer is older than its `maxStaleness`.
    error CheckoutStalePrice(address feed, uint256 updatedAt, uint32 maxStaleness);
    /// @notice The latest answer is further than `maxDeviationBps` from the quoted one.
    error CheckoutPriceDeviation(address feed, int256 quoted, int256 latest, uint16 maxDeviationBps);
    /// @notice The deposit address holds less than the intent's amount.
    error CheckoutUnderpaid(bytes32 intentId, uint256 expected, uint256 received);
    /// @notice The payment is not in the status the call needs.
    error CheckoutWrongStatus(bytes32 intentId, Status status);
    /// @notice The authorization expired: it can no longer be captured.
    error CheckoutAuthorizationExpired(bytes32 intentId, uint48 authorizationExpiry, uint256 time);
    /// @notice The authorization has not expired: it cannot be reclaimed yet.
    error CheckoutAuthorizationNotExpired(bytes32 intentId, uint48 authorizationExpiry, uint256 time);
    /// @notice The refund expiry passed.
    error CheckoutRefundExpired(bytes32 intentId, uint48 refundExpiry, uint256 time);
    /// @notice A refund beyond what was captured and not yet refunded.
    error CheckoutRefundExceedsCaptured(bytes32 intentId, uint256 requested, uint256 available);
    /// @notice A capture needs the retailer receipt's hash.
    error CheckoutEmptyReceipt(bytes32 intentId);
    /// @notice Only the operator or the intent's merchant may refund.
    error CheckoutNotOperatorOrMerchant(address caller);
    /// @notice Before the quote expires, only the operator returns a deposit of an unpaid intent.
    error CheckoutDepositNotReturnable(bytes32 intentId, address caller);
    /// @notice The deposit address holds none of `token`.
    error CheckoutNothingToReturn(bytes32 intentId, address token);

    // ── Payments ──

    /// @notice Puts exactly `intent.tokenAmount` of the payer's tokens into escrow under the intent's id.
    /// @dev Paused: refused. `authorization` by method: Allowance and Deposit, empty; Permit,
    ///      `abi.encode(uint256 deadline, bytes signature)` (a permit already used, e.g. by a front-runner, is
    ///      fine when the allowance covers the amount); ReceiveWithAuthorization,
    ///      `abi.encode(uint256 validAfter, uint256 validBefore, bytes signature)` over nonce = the intent's id.
    /// @param intent The terms.
    /// @param operatorSignature An operator's signature over the intent.
    /// @param method How the tokens come.
    /// @param authorization The method's data.
    /// @return intentId The intent's id.
    function authorize(
        PaymentIntent calldata intent,
        bytes calldata operatorSignature,
        Method method,
        bytes calldata authorization
    ) external returns (bytes32 intentId);

    /// @notice Pays an authorized escrow out: the fee to its receiver, the rest to the merchant.
    /// @dev Anyone submits; paused: refused. Not after the authorization expiry.
    /// @param intent The terms.
    /// @param receiptHash The hash of the retailer's receipt of the fiat purchase (see docs/commerce.md).
    /// @param operatorSignature An operator's signature over `Capture(intentId, receiptHash)`.
    function capture(PaymentIntent calldata intent, bytes32 receiptHash, bytes calldata operatorSignature) external;

    /// @notice Returns an authorized escrow to the payer (a purchase that failed). Operator only; also paused.
    /// @param intent The terms.
    function void(PaymentIntent calldata intent) external;

    /// @notice Returns an authorized escrow to the payer after the authorization expiry. Anyone; also paused.
    /// @param intent The terms.
    function reclaim(PaymentIntent calldata intent) external;

    /// @notice Pays `amount` of a capture back to the payer from the merchant (who approved this contract).
    /// @dev The operator or the merchant; paused: refused. Not after the refund expiry.
    /// @param intent The terms.
    /// @param amount The amount, at most what was captured and not yet refunded.
    function refund(PaymentIntent calldata intent, uint256 amount) external;

    /// @notice Sends what sits at the intent's deposit address in `token` back to the payer.
    /// @dev The operator at any time; anyone once the intent has a payment or its quote expired. Also paused.
    /// @param intent The terms.
    /// @param token The token to return.
    /// @return amount What was returned.
    function returnDeposit(PaymentIntent calldata intent, address token) external returns (uint256 amount);

    // ── Configuration ──

    /// @notice Sets `currency`'s ISO 4217 minor units. Configurator only.
    /// @param currency The code (three upper-case letters).
    /// @param minorUnits Its minor units (e.g. 2 for USD, 0 for JPY).
    function setCurrency(bytes3 currency, uint8 minorUnits) external;

    /// @notice Takes `token` as money of `currency` (zero: no longer taken). Configurator only.
    /// @param token The token.
    /// @param currency Its currency (any three upper-case letters; zero to remove).
    function setToken(address token, bytes3 currency) external;

    /// @notice Reads `feed` as the price of one `base` in `quote` (`maxStaleness` zero: no longer read).
    /// @dev Configurator only.
    /// @param feed A Chainlink-compatible `AggregatorV3Interface`.
    /// @param base The priced currency.
    /// @param quote The currency of the answer.
    /// @param maxStaleness How old (seconds) the latest answer may be.
    function setFeed(address feed, bytes3 base, bytes3 quote, uint32 maxStaleness) external;

    /// @notice Stops authorize, capture and refund. Pauser only.
    function pause() external;

    /// @notice Resumes. Pauser only.
    function unpause() external;

    // ── Views ──

    /// @notice The role that signs intents and captures, voids and refunds.
    /// @return The role.
    function OPERATOR_ROLE() external view returns (bytes32);

    /// @notice The role that sets currencies, tokens and feeds.
    /// @return The role.
    function CONFIGURATOR_ROLE() external view returns (bytes32);

    /// @notice The role that pauses.
    /// @return The role.
    function PAUSER_ROLE() external view returns (bytes32);

    /// @notice The highest fee, in basis points.
    /// @return The bound.
    function MAX_FEE_BPS() external view returns (uint16);

    /// @notice The most decimals a token, feed or currency may have.
    /// @return The bound.
    function MAX_DECIMALS() external view returns (uint8);

    /// @notice An intent's id: its EIP-712 digest.
    /// @param intent The terms.
    /// @return The id.
    function intentId(PaymentIntent calldata intent) external view returns (bytes32);

    /// @notice The digest an operator signs to capture `intentId` against `receiptHash`.
    /// @param intentId_ The intent's id.
    /// @param receiptHash The receipt's hash.
    /// @return The digest.
    function captureDigest(bytes32 intentId_, bytes32 receiptHash) external view returns (bytes32);

    /// @notice A payment's state.
    /// @param intentId_ The intent's id.
    /// @return The state.
    function paymentOf(bytes32 intentId_) external view returns (Payment memory);

    /// @notice The address a payer may transfer to instead of authorizing (ERC-1167 clone, CREATE2, salt = id).
    /// @param intentId_ The intent's id.
    /// @return The address.
    function depositAddress(bytes32 intentId_) external view returns (address);

    /// @notice The implementation every deposit address clones.
    /// @return The implementation.
    function depositImplementation() external view returns (address);

    /// @notice The token amount a fiat amount converts to at a feed's round, rounded up, as `authorize` checks it.
    /// @dev Reads the round only (no staleness or deviation check); reverts as `authorize` would on a currency,
    ///      token, feed or round it does not take.
    /// @param fiatAmount The amount, in `currency`'s minor units.
    /// @param currency The fiat currency.
    /// @param token The token.
    /// @param feed The feed (zero for a token of `currency`).
    /// @param roundId The round (zero without a feed).
    /// @return The token amount.
    function tokenAmountFor(
        uint256 fiatAmount,
        bytes3 currency,
        address token,
        address feed,
        uint80 roundId
    ) external view returns (uint256);

    /// @notice `currency`'s minor units (reverts `CheckoutUnknownCurrency` if unset).
    /// @param currency The code.
    /// @return The minor units.
    function minorUnitsOf(bytes3 currency) external view returns (uint8);

    /// @notice How the checkout takes `token` (currency zero: not taken).
    /// @param token The token.
    /// @return The configuration.
    function tokenConfig(address token) external view returns (TokenConfig memory);

    /// @notice How the checkout reads `feed` (maxStaleness zero: not read).
    /// @param feed The feed.
    /// @return The configuration.
    function feedConfig(address feed) external view returns (FeedConfig memory);
}
