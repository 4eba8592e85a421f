// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IInteropGateway
/// @notice One entry point for a user's signed transaction, native or cross-chain. The user signs a `Payload`
///         (EIP-712, this gateway's domain); anyone (the API gateway service) submits it with `execute`, or several
///         at once with `executeBatch`. The gateway checks the type and the chains against the ChainRegistry, then:
///         - `Transfer` (native: source == destination == this chain): moves `amount` of `asset` from the signer to
///           `target`;
///         - `Exchange` (native): pays `amount` of `asset` from the signer to the FX desk and `amountOut` of the
///           other BankToken from the desk to `target`, at a rate the FX quoter signed, no less than the signer's
///           `minAmountOut`; `data` is `abi.encode(Quote quote, bytes quoteSignature, uint256 minAmountOut)`;
///         - `Call` (native): calls an allow-listed `(target, selector)` with `data` and the signer appended
///           (ERC-2771), no value;
///         - `CrossChain` (source == this chain != destination): takes `amount` of `asset` from the signer and sends
///           it to `target` on the destination over the route's bridge from the BridgeRegistry (preferred, else
///           fallback), deliverable until the payload's `deadline`.
///         Signatures: 65-byte ECDSA from the signer's key, else ERC-1271 from a contract signer; an EIP-7702
///         account's ECDSA signature is checked as ECDSA whatever its code. Nonces are unordered per signer.
interface IInteropGateway {
    enum Kind {
        Transfer,
        Exchange,
        Call,
        CrossChain
    }

    /// @notice The generic transaction payload. Chains are CAIP-2 ids (`eip155:<id>`).
    /// @dev Calldata and EIP-712 only, never stored: fields keep the payload's documented order, not a packed one.
    // solhint-disable-next-line gas-struct-packing
    struct Payload {
        uint8 version;
        string sourceChain;
        string destinationChain;
        Kind kind;
        address target;
        address asset;
        uint256 amount;
        bytes data;
        uint256 nonce;
        uint64 deadline;
    }

    /// @notice An FX rate the quoter signed: `amountOut = amountIn * rate / 1e18`, valid until `validUntil`.
    /// @dev Calldata and EIP-712 only, never stored.
    // solhint-disable-next-line gas-struct-packing
    struct Quote {
        address tokenIn;
        address tokenOut;
        uint256 rate;
        uint64 validUntil;
    }

    error InteropGatewayUnsupportedVersion(uint8 version);
    error InteropGatewayWrongSourceChain(string sourceChain);
    error InteropGatewayUnknownChain(string caip2);
    error InteropGatewayChainDisabled(uint256 chainId);
    error InteropGatewayKindMismatch(Kind kind, string sourceChain, string destinationChain);
    error InteropGatewayExpired(uint64 deadline);
    error InteropGatewayInvalidSignature(address signer);
    error InteropGatewayNonceUsed(address signer, uint256 nonce);
    error InteropGatewayZeroAddress();
    error InteropGatewayZeroAmount();
    error InteropGatewayUnknownAsset(address asset);
    error InteropGatewayTargetNotAllowed(address target, bytes4 selector);
    error InteropGatewayBadQuote();
    error InteropGatewayQuoteExpired(uint64 validUntil);
    error InteropGatewaySlippage(uint256 amountOut, uint256 minAmountOut);
    error InteropGatewayCallFailed(bytes reason);
    /// @notice A field the payload's kind does not use is set: `data` of a Transfer or CrossChain, `asset` or
    ///         `amount` of a Call.
    error InteropGatewayUnusedField(Kind kind);
    /// @notice An Exchange was submitted before the gateway admin set the FX desk.
    error InteropGatewayNoFxDesk();
    /// @notice The gateway's balance after the lane's call is not what it was before: the lane did not take exactly
    ///         `amount`.
    error InteropGatewayBalanceChanged(address lane, uint256 before, uint256 balance);

    /// @notice `executeBatch` got no payloads.
    error InteropGatewayEmptyBatch();
    /// @notice `executeBatch` got more payloads than `MAX_BATCH_SIZE`.
    error InteropGatewayBatchTooLarge(uint256 size, uint256 max);
    /// @notice `executeBatch`'s three arrays differ in length.
    error InteropGatewayBatchLengthMismatch(uint256 payloads, uint256 signers, uint256 signatures);
    /// @notice A batch item failed after being given less than the gas an item is owed: the whole batch reverts,
    ///         so a relayer cannot make an item fail by starving it.
    error InteropGatewayInsufficientGas(uint256 gasGiven, uint256 minGas);

    /// @notice A payload was executed; `id` is its EIP-712 digest, `messageId` the cross-chain message (zero if
    ///         native).
    event Executed(bytes32 indexed id, address indexed signer, Kind kind, uint256 nonce, bytes32 messageId);
    event Exchanged(bytes32 indexed id, address tokenIn, address tokenOut, uint256 amountIn, uint256 amountOut);
    event NonceCancelled(address indexed signer, uint256 nonce);
    /// @notice A payload of an `executeBatch` was not executed (its nonce is still unused): `reason` is the revert
    ///         data `execute` would have reverted with (a custom error), cut to 1,024 bytes.
    event PayloadFailed(bytes32 indexed id, address indexed signer, bytes reason);

    /// @notice Executes a signed payload. Returns its id (the EIP-712 digest).
    function execute(Payload calldata payload, address signer, bytes calldata signature) external returns (bytes32);

    /// @notice Executes several signed payloads in one transaction, each checked and executed exactly as `execute`
    ///         would. An item that would revert is skipped with `PayloadFailed` (its nonce stays unused) and the others
    ///         go on. Returns each item's id, or zero for a failed item. Reverts (nothing executed) when paused, for an
    ///         empty batch, more than `MAX_BATCH_SIZE` items, arrays of different lengths, or an item that failed
    ///         after being given less than `MIN_BATCH_ITEM_GAS`.
    function executeBatch(
        Payload[] calldata payloads,
        address[] calldata signers,
        bytes[] calldata signatures
    ) external returns (bytes32[] memory ids);

    /// @notice Cancels one of the caller's unused nonces.
    function cancelNonce(uint256 nonce) external;

    function payloadDigest(Payload calldata payload) external view returns (bytes32);
    function quoteDigest(Quote calldata quote) external view returns (bytes32);
    function isNonceUsed(address signer, uint256 nonce) external view returns (bool);
    /// @notice This chain's CAIP-2 id.
    function caip2() external view returns (string memory);
}
