// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {CAIP2} from "@openzeppelin/contracts/utils/CAIP2.sol";
import {InteroperableAddress} from "@openzeppelin/contracts/utils/draft-InteroperableAddress.sol";
import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {BridgeRegistry} from "./BridgeRegistry.sol";
import {ChainRegistry} from "./ChainRegistry.sol";
import {IBurnMintLane} from "./interfaces/IBurnMintLane.sol";
import {IInteropGateway} from "./interfaces/IInteropGateway.sol";

/// @title InteropGateway
/// @notice Executes a user's signed generic payload on this chain (Transfer, Exchange, Call) or sends it to another
///         chain over the route's bridge (CrossChain). See `IInteropGateway` and `docs/interop.md`.
/// @dev EIP-712 domain: name "BankChain InteropGateway", version "1", this chain's id, this contract. Type strings
///      (the ones the off-chain signer must use, e.g. ethers `TypedDataEncoder` with `kind` as `uint8`):
///
///      `Payload(uint8 version,string sourceChain,string destinationChain,uint8 kind,address target,address asset,
///      uint256 amount,bytes data,uint256 nonce,uint64 deadline)` (one line, no space after the commas)
///
///      `Quote(address tokenIn,address tokenOut,uint256 rate,uint64 validUntil)`
///
///      A payload's id is its EIP-712 digest. The signer is not part of the payload: an ECDSA signature names its
///      signer by itself, and a contract signer must scope its ERC-1271 answer to its own account (ERC-7739), as
///      one owner's plain signature could otherwise be accepted by each of its wallets.
///
///      Signatures: a 65-byte low-s ECDSA signature by `signer`, whatever code `signer` has; failing that, an
///      ERC-1271 answer from `signer`, unless `signer` is an EIP-7702 delegated account (code `0xef0100 ||
///      delegate`): an EOA's key is its only authority, so code at its address can neither approve nor revoke.
///
///      The decision: `sourceChain` must be this chain's CAIP-2 id (`eip155:<block.chainid>`). A destination equal
///      to it makes the payload native (Transfer, Exchange, Call); any other must be a registered, enabled chain of
///      the ChainRegistry and the kind CrossChain. A mismatch reverts `InteropGatewayKindMismatch`.
///
///      Tokens: Transfer and Exchange move the signer's tokens with `transferFrom` (the signer approved this
///      gateway), so the token's pause and freeze checks apply to the signer, the recipient, the FX desk and this
///      gateway as spender. CrossChain pulls `amount` into this gateway and has the lane pull it from here (the
///      lane takes the tokens from its caller), so the same checks apply to the signer, this gateway and the lane;
///      the gateway's balance must be what it was before once the lane's call returns (the lane took exactly
///      `amount`, stray tokens sent here included), so it keeps no balance of its own between calls. Each lane
///      holds a standing unlimited approval of this gateway, given on its first transfer (a per-transfer approval
///      costs two storage writes per payload, and more in a batch, where gas refunds are capped): with no balance
///      between calls there is nothing for it to take, and `revokeLaneApproval` withdraws a retired lane's. Call
///      moves no tokens itself: its target sees the signer through ERC-2771 and gets no approval from this gateway;
///      an allowed asset can never be a call target (else a Call could spend the approvals users gave this gateway).
///
///      Roles:
///      - `DEFAULT_ADMIN_ROLE` (one holder, handed over in two steps after `adminDelay`): grants and revokes roles;
///        may unpause.
///      - `GATEWAY_ADMIN_ROLE`: allows assets, allows call targets by `(target, selector)`, sets the FX desk;
///        unpauses.
///      - `FX_QUOTER_ROLE`: the keys whose ECDSA signatures make a `Quote` valid.
///      - `PAUSER_ROLE`: pauses `execute` and `executeBatch` (never unpauses, so a stolen pauser key cannot restart
///        them). `cancelNonce` works while paused.
contract InteropGateway is IInteropGateway, AccessControlDefaultAdminRules, EIP712, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice The role that manages assets, call targets and the FX desk, and unpauses.
    bytes32 public constant GATEWAY_ADMIN_ROLE = keccak256("GATEWAY_ADMIN_ROLE");
    /// @notice The role whose signatures make an FX quote valid.
    bytes32 public constant FX_QUOTER_ROLE = keccak256("FX_QUOTER_ROLE");
    /// @notice The role that pauses `execute` and `executeBatch`.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice The EIP-712 type hash of `Payload` (type string in the contract's NatSpec).
    bytes32 public constant PAYLOAD_TYPEHASH = keccak256(
        "Payload(uint8 version,string sourceChain,string destinationChain,uint8 kind,address target,"
        "address asset,uint256 amount,bytes data,uint256 nonce,uint64 deadline)"
    );
    /// @notice The EIP-712 type hash of `Quote`.
    bytes32 public constant QUOTE_TYPEHASH = keccak256(
        "Quote(address tokenIn,address tokenOut,uint256 rate,uint64 validUntil)"
    );
    /// @notice The only payload version this gateway executes.
    uint8 public constant PAYLOAD_VERSION = 1;
    /// @notice The scale of a quote's rate: `amountOut = amountIn * rate / RATE_SCALE`.
    uint256 public constant RATE_SCALE = 1e18;

    /// @notice The most payloads one `executeBatch` takes.
    uint256 public constant MAX_BATCH_SIZE = 64;
    /// @notice The gas a batch item is owed: an item that fails after being given less than this reverts the whole
    ///         batch (`InteropGatewayInsufficientGas`) instead of being reported `PayloadFailed`, so a relayer cannot
    ///         make a payload fail by passing too little gas. A payload that needs more (a Call to a heavy target)
    ///         may fail in a batch for want of gas, its nonce unused: submit it alone with `execute`.
    uint256 public constant MIN_BATCH_ITEM_GAS = 500_000;

    /// @dev The most revert data of a failed batch item kept in `PayloadFailed`.
    uint256 private constant _MAX_REASON_LENGTH = 1024;
    /// @dev The most a self-call costs before the item starts: a warm account access (100) plus the few opcodes
    ///      between measuring the gas and the call (its calldata is already in memory).
    uint256 private constant _SELF_CALL_COST = 200;
    /// @dev The first three bytes of an EIP-7702 delegated account's code.
    bytes3 private constant _DELEGATION_PREFIX = 0xef0100;
    /// @dev The code size of an EIP-7702 delegated account: the prefix and the delegate's address.
    uint256 private constant _DELEGATION_CODE_SIZE = 23;

    /// @notice The chains a destination must be registered and enabled in.
    ChainRegistry public immutable chainRegistry;
    /// @notice The routes and their bridges.
    BridgeRegistry public immutable bridgeRegistry;

    /// @dev `keccak256(bytes(CAIP2.local()))` at deployment, reused while the chain id is unchanged (as EIP712 does
    ///      for its domain separator).
    bytes32 private immutable _cachedCaip2Hash;
    uint256 private immutable _cachedChainId;

    /// @dev Unordered nonces: bit `nonce & 0xff` of word `nonce >> 8`. Consecutive nonces share a slot.
    mapping(address signer => mapping(uint256 word => uint256 bits)) private _nonceBitmaps;
    mapping(address token => bool) private _assets;
    mapping(address target => mapping(bytes4 selector => bool)) private _calls;
    /// @dev How many selectors of a target are allowed, so an allowed asset is never a call target.
    mapping(address target => uint256 count) private _allowedSelectors;
    address private _fxDesk;

    /// @notice An asset was allowed or disallowed.
    event AssetSet(address indexed token, bool allowed);
    /// @notice A call target's selector was allowed or disallowed.
    event CallAllowed(address indexed target, bytes4 indexed selector, bool allowed);
    /// @notice The FX desk changed.
    event FxDeskSet(address indexed previousDesk, address indexed desk);
    /// @notice The standing approval of a lane was withdrawn.
    event LaneApprovalRevoked(address indexed token, address indexed lane);

    /// @notice `executeBatchItem` was called by someone other than this gateway.
    error InteropGatewayOnlySelf(address caller);

    /// @notice An address that must hold code does not.
    error InteropGatewayNotAContract(address account);
    /// @notice An allowed asset cannot be a call target, nor a call target an asset.
    error InteropGatewayAssetIsCallTarget(address account);
    /// @notice The address may not be a call target or the FX desk (this gateway).
    error InteropGatewaySelf();
    /// @notice The setting already has the requested value.
    error InteropGatewayUnchanged();

    /// @param admin The default admin.
    /// @param adminDelay The delay of a default admin handover.
    /// @param chainRegistry_ The ChainRegistry.
    /// @param bridgeRegistry_ The BridgeRegistry.
    constructor(
        address admin,
        uint48 adminDelay,
        address chainRegistry_,
        address bridgeRegistry_
    ) AccessControlDefaultAdminRules(adminDelay, admin) EIP712("BankChain InteropGateway", "1") {
        if (chainRegistry_ == address(0) || bridgeRegistry_ == address(0)) revert InteropGatewayZeroAddress();
        chainRegistry = ChainRegistry(chainRegistry_);
        bridgeRegistry = BridgeRegistry(bridgeRegistry_);
        _cachedChainId = block.chainid;
        _cachedCaip2Hash = keccak256(bytes(CAIP2.local()));
    }

    // ---------------------------------------------------------------- users

    /// @inheritdoc IInteropGateway
    /// @dev Anyone may submit: everything that matters is signed, so a front-runner only pays the gas of the same
    ///      outcome. The nonce is spent before any external call (checks, effects, interactions) and the whole
    ///      call reverts if the action fails, so a failed action (a reverting call target, a frozen account, a
    ///      paused route, too little gas) never spends it. Reentrancy is refused (a Call target could call back).
    function execute(
        Payload calldata payload,
        address signer,
        bytes calldata signature
    ) external nonReentrant whenNotPaused returns (bytes32) {
        return _execute(payload, signer, signature);
    }

    /// @inheritdoc IInteropGateway
    /// @dev Each item runs in a call of this gateway to itself (`executeBatchItem`), so a failed item's effects are
    ///      undone (its nonce stays unused) and the loop goes on. The call's revert data is kept up to
    ///      `_MAX_REASON_LENGTH` bytes, and memory is reused between items, so neither a long revert nor a long batch
    ///      makes the loop run out of gas. A failed item given less than `MIN_BATCH_ITEM_GAS` reverts the batch.
    ///      Malformed ABI encoding of an item (an out-of-range `kind`, an address with dirty upper bits) is the
    ///      submitter's, not a signer's: it reverts the batch in decoding. Reentrancy is refused as for `execute`.
    function executeBatch(
        Payload[] calldata payloads,
        address[] calldata signers,
        bytes[] calldata signatures
    ) external nonReentrant whenNotPaused returns (bytes32[] memory ids) {
        uint256 count = payloads.length;
        if (count == 0) revert InteropGatewayEmptyBatch();
        if (count > MAX_BATCH_SIZE) revert InteropGatewayBatchTooLarge(count, MAX_BATCH_SIZE);
        if (signers.length != count || signatures.length != count) {
            revert InteropGatewayBatchLengthMismatch(count, signers.length, signatures.length);
        }
        ids = new bytes32[](count);
        uint256 freeMemory;
        assembly ("memory-safe") {
            freeMemory := mload(0x40)
        }
        for (uint256 i; i < count; ++i) {
            Payload calldata payload = payloads[i];
            (bool executed, uint256 gasGiven, bytes32 id) = _callSelf(
                abi.encodeCall(this.executeBatchItem, (payload, signers[i], signatures[i]))
            );
            if (executed) {
                ids[i] = id;
            } else {
                if (gasGiven < MIN_BATCH_ITEM_GAS) revert InteropGatewayInsufficientGas(gasGiven, MIN_BATCH_ITEM_GAS);
                bytes memory reason = _returnData();
                emit PayloadFailed(_payloadId(payload), signers[i], reason);
            }
            // Nothing allocated in this round outlives it.
            assembly ("memory-safe") {
                mstore(0x40, freeMemory)
            }
        }
    }

    /// @notice One item of `executeBatch`: `execute` without its reentrancy guard (the batch holds it). Only this
    ///         gateway may call it.
    /// @dev The pause is checked again per item, in case an earlier item's call paused the gateway.
    function executeBatchItem(
        Payload calldata payload,
        address signer,
        bytes calldata signature
    ) external whenNotPaused returns (bytes32) {
        if (msg.sender != address(this)) revert InteropGatewayOnlySelf(msg.sender);
        return _execute(payload, signer, signature);
    }

    /// @inheritdoc IInteropGateway
    /// @dev Works while paused: a user may always withdraw a signature it no longer wants executed.
    function cancelNonce(uint256 nonce) external {
        _useNonce(msg.sender, nonce);
        emit NonceCancelled(msg.sender, nonce);
    }

    // ---------------------------------------------------------------- admin

    /// @notice Allows or disallows an asset (a BankToken of this chain) for Transfer, Exchange and CrossChain.
    /// @dev An allowed asset must hold code and must not be a call target.
    function setAsset(address token, bool allowed) external onlyRole(GATEWAY_ADMIN_ROLE) {
        if (token == address(0)) revert InteropGatewayZeroAddress();
        if (_assets[token] == allowed) revert InteropGatewayUnchanged();
        if (allowed) {
            if (token.code.length == 0) revert InteropGatewayNotAContract(token);
            if (_allowedSelectors[token] != 0) revert InteropGatewayAssetIsCallTarget(token);
        }
        _assets[token] = allowed;
        emit AssetSet(token, allowed);
    }

    /// @notice Allows or disallows Call payloads to `target` with calldata starting with `selector`.
    /// @dev The target must hold code and trust this gateway as its ERC-2771 forwarder (it reads the signer from
    ///      the last 20 bytes of calldata). Never allow a token, a lane or a registry: this gateway holds users'
    ///      approvals and the lanes' ROUTER_ROLE. An allowed asset and this gateway are refused here.
    function allowCall(address target, bytes4 selector, bool allowed) external onlyRole(GATEWAY_ADMIN_ROLE) {
        if (target == address(0)) revert InteropGatewayZeroAddress();
        if (target == address(this)) revert InteropGatewaySelf();
        if (_calls[target][selector] == allowed) revert InteropGatewayUnchanged();
        if (allowed) {
            if (target.code.length == 0) revert InteropGatewayNotAContract(target);
            if (_assets[target]) revert InteropGatewayAssetIsCallTarget(target);
            ++_allowedSelectors[target];
        } else {
            --_allowedSelectors[target];
        }
        _calls[target][selector] = allowed;
        emit CallAllowed(target, selector, allowed);
    }

    /// @notice Sets the FX desk: the account that receives an Exchange's input and pays its output (it approves
    ///         this gateway for every asset it pays out).
    function setFxDesk(address desk) external onlyRole(GATEWAY_ADMIN_ROLE) {
        if (desk == address(0)) revert InteropGatewayZeroAddress();
        if (desk == address(this)) revert InteropGatewaySelf();
        address previous = _fxDesk;
        if (previous == desk) revert InteropGatewayUnchanged();
        _fxDesk = desk;
        emit FxDeskSet(previous, desk);
    }

    /// @notice Withdraws this gateway's standing approval of `lane` for `token` (a lane removed from the
    ///         BridgeRegistry). A lane still in use gets it back on its next transfer.
    function revokeLaneApproval(address token, address lane) external onlyRole(GATEWAY_ADMIN_ROLE) {
        IERC20(token).forceApprove(lane, 0);
        emit LaneApprovalRevoked(token, lane);
    }

    /// @notice Pauses `execute` and `executeBatch`.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Unpauses `execute` and `executeBatch`; the gateway admin or the default admin only.
    function unpause() external {
        if (!hasRole(GATEWAY_ADMIN_ROLE, msg.sender) && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, GATEWAY_ADMIN_ROLE);
        }
        _unpause();
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IInteropGateway
    function payloadDigest(Payload calldata payload) external view returns (bytes32) {
        return _payloadId(payload);
    }

    /// @inheritdoc IInteropGateway
    function quoteDigest(Quote calldata quote) external view returns (bytes32) {
        return _quoteDigest(quote);
    }

    /// @inheritdoc IInteropGateway
    function isNonceUsed(address signer, uint256 nonce) external view returns (bool) {
        return _nonceBitmaps[signer][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc IInteropGateway
    function caip2() external view returns (string memory) {
        return CAIP2.local();
    }

    /// @notice Whether `token` is an allowed asset.
    function isAssetAllowed(address token) external view returns (bool) {
        return _assets[token];
    }

    /// @notice Whether Call payloads to `target` with `selector` are allowed.
    function isCallAllowed(address target, bytes4 selector) external view returns (bool) {
        return _calls[target][selector];
    }

    /// @notice The FX desk (zero until set).
    function fxDesk() external view returns (address) {
        return _fxDesk;
    }

    // ---------------------------------------------------------------- internals

    /// @dev `execute`'s checks and action, for `execute` and each batch item.
    function _execute(Payload calldata payload, address signer, bytes calldata signature) private returns (bytes32 id) {
        if (payload.version != PAYLOAD_VERSION) revert InteropGatewayUnsupportedVersion(payload.version);
        if (block.timestamp > payload.deadline) revert InteropGatewayExpired(payload.deadline);
        bytes32 sourceHash = keccak256(bytes(payload.sourceChain));
        if (sourceHash != _caip2Hash()) revert InteropGatewayWrongSourceChain(payload.sourceChain);
        bytes32 destinationHash = keccak256(bytes(payload.destinationChain));
        Kind kind = payload.kind;
        if ((sourceHash == destinationHash) == (kind == Kind.CrossChain)) {
            revert InteropGatewayKindMismatch(kind, payload.sourceChain, payload.destinationChain);
        }
        _checkFields(payload);
        if (signer == address(0)) revert InteropGatewayZeroAddress();

        id = _hashTypedDataV4(_payloadStructHash(payload, sourceHash, destinationHash));
        _checkSignature(signer, id, signature);
        _useNonce(signer, payload.nonce);

        bytes32 messageId;
        if (kind == Kind.Transfer) {
            IERC20(payload.asset).safeTransferFrom(signer, payload.target, payload.amount);
        } else if (kind == Kind.Exchange) {
            _exchange(id, payload, signer);
        } else if (kind == Kind.Call) {
            _call(payload, signer);
        } else {
            messageId = _crossChain(payload, signer);
        }
        emit Executed(id, signer, kind, payload.nonce, messageId);
    }

    /// @dev The fields each kind needs (non-zero target and amount, an allowed asset, the selector allowed) and
    ///      the ones it must leave empty.
    function _checkFields(Payload calldata payload) private view {
        Kind kind = payload.kind;
        if (kind == Kind.Call) {
            if (payload.asset != address(0) || payload.amount != 0) revert InteropGatewayUnusedField(kind);
            bytes4 selector = payload.data.length < 4 ? bytes4(0) : bytes4(payload.data[:4]);
            if (payload.data.length < 4 || !_calls[payload.target][selector]) {
                revert InteropGatewayTargetNotAllowed(payload.target, selector);
            }
            return;
        }
        if (kind != Kind.Exchange && payload.data.length != 0) revert InteropGatewayUnusedField(kind);
        if (payload.target == address(0)) revert InteropGatewayZeroAddress();
        if (payload.amount == 0) revert InteropGatewayZeroAmount();
        if (!_assets[payload.asset]) revert InteropGatewayUnknownAsset(payload.asset);
    }

    /// @dev Pays `amount` of `asset` from the signer to the FX desk and the quoted amount of the other asset from
    ///      the desk to `target`. The quote is a rate, not a fill: any payload may use it until `validUntil`.
    ///      Rounds down (for the desk). Malformed `data` reverts in ABI decoding, without an error.
    function _exchange(bytes32 id, Payload calldata payload, address signer) private {
        address desk = _fxDesk;
        if (desk == address(0)) revert InteropGatewayNoFxDesk();
        (Quote memory quote, bytes memory quoteSignature, uint256 minAmountOut) = abi.decode(
            payload.data,
            (Quote, bytes, uint256)
        );
        if (quote.tokenIn != payload.asset || quote.tokenOut == quote.tokenIn) revert InteropGatewayBadQuote();
        if (!_assets[quote.tokenOut]) revert InteropGatewayUnknownAsset(quote.tokenOut);
        if (block.timestamp > quote.validUntil) revert InteropGatewayQuoteExpired(quote.validUntil);
        (address quoter, ECDSA.RecoverError recoverError, ) = ECDSA.tryRecover(_quoteDigest(quote), quoteSignature);
        if (recoverError != ECDSA.RecoverError.NoError || !hasRole(FX_QUOTER_ROLE, quoter))
            revert InteropGatewayBadQuote();
        uint256 amountOut = Math.mulDiv(payload.amount, quote.rate, RATE_SCALE);
        if (amountOut == 0) revert InteropGatewayZeroAmount();
        if (amountOut < minAmountOut) revert InteropGatewaySlippage(amountOut, minAmountOut);
        IERC20(payload.asset).safeTransferFrom(signer, desk, payload.amount);
        IERC20(quote.tokenOut).safeTransferFrom(desk, payload.target, amountOut);
        emit Exchanged(id, payload.asset, quote.tokenOut, payload.amount, amountOut);
    }

    /// @dev Calls the allowed target with `data ‖ signer` (ERC-2771) and no value; a revert bubbles up wrapped.
    function _call(Payload calldata payload, address signer) private {
        if (!LowLevelCall.callNoReturn(payload.target, abi.encodePacked(payload.data, signer))) {
            revert InteropGatewayCallFailed(LowLevelCall.returnData());
        }
    }

    /// @dev Pulls the tokens, approves the route's bridge (once, for good) and has it send them to `target` on
    ///      the destination, refundable to the signer. Registry errors (no route, paused route, no bridge, a
    ///      disabled source) and the lane's (over the route's limit, bad deadline) surface unchanged.
    function _crossChain(Payload calldata payload, address signer) private returns (bytes32 messageId) {
        uint256 destinationChainId = _enabledChainId(payload.destinationChain);
        address lane = bridgeRegistry.bridgeFor(block.chainid, destinationChainId, payload.asset);
        IERC20 token = IERC20(payload.asset);
        uint256 held = token.balanceOf(address(this));
        token.safeTransferFrom(signer, address(this), payload.amount);
        if (token.allowance(address(this), lane) < payload.amount) token.forceApprove(lane, type(uint256).max);
        messageId = IBurnMintLane(lane).crosschainTransferFor(
            signer,
            InteroperableAddress.formatEvmV1(destinationChainId, payload.target),
            payload.amount,
            payload.deadline
        );
        uint256 balance = token.balanceOf(address(this));
        if (balance != held) revert InteropGatewayBalanceChanged(lane, held, balance);
    }

    /// @dev The EVM chain id of a registered, enabled CAIP-2 id. Only the registry's `UnknownCaip2` is translated;
    ///      any other failure bubbles.
    function _enabledChainId(string calldata caip2_) private view returns (uint256 chainId) {
        try chainRegistry.chainIdOfCaip2(caip2_) returns (uint256 id) {
            chainId = id;
        } catch (bytes memory reason) {
            if (bytes4(reason) == ChainRegistry.UnknownCaip2.selector) revert InteropGatewayUnknownChain(caip2_);
            LowLevelCall.bubbleRevert(reason);
        }
        if (!chainRegistry.isEnabled(chainId)) revert InteropGatewayChainDisabled(chainId);
    }

    /// @dev Marks the signer's nonce used; reverts if it was.
    function _useNonce(address signer, uint256 nonce) private {
        uint256 bit = 1 << (nonce & 0xff);
        mapping(uint256 => uint256) storage bitmaps = _nonceBitmaps[signer];
        uint256 word = bitmaps[nonce >> 8];
        if (word & bit != 0) revert InteropGatewayNonceUsed(signer, nonce);
        bitmaps[nonce >> 8] = word | bit;
    }

    /// @dev Reverts unless `signature` is `signer`'s low-s ECDSA signature of `digest`, or `signer` is a contract
    ///      (not an EIP-7702 delegated EOA) that accepts it through ERC-1271.
    function _checkSignature(address signer, bytes32 digest, bytes calldata signature) private view {
        (address recovered, ECDSA.RecoverError recoverError, ) = ECDSA.tryRecoverCalldata(digest, signature);
        if (recoverError == ECDSA.RecoverError.NoError && recovered == signer) return;
        if (
            _isDelegatedEoa(signer) || !SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature)
        ) {
            revert InteropGatewayInvalidSignature(signer);
        }
    }

    /// @dev Calls this gateway with `callData` (an `executeBatchItem`) and all the gas but the 1/64 the EVM keeps
    ///      back. `executed` if the call succeeded, with the id it returned. `gasGiven` is a lower bound of the gas
    ///      the item received: 63/64 of the gas left at the call, after the call's own cost (at most
    ///      `_SELF_CALL_COST`).
    function _callSelf(bytes memory callData) private returns (bool executed, uint256 gasGiven, bytes32 id) {
        uint256 gasAtCall;
        assembly ("memory-safe") {
            gasAtCall := gas()
            executed := call(gas(), address(), 0, add(callData, 0x20), mload(callData), 0x00, 0x20)
            if executed {
                id := mload(0x00)
            }
        }
        // The frame had paid the call's cost out of `gasAtCall`, or the call (and the transaction) would have failed.
        unchecked {
            gasGiven = gasAtCall > _SELF_CALL_COST ? gasAtCall - _SELF_CALL_COST : 0;
            gasGiven -= gasGiven / 64;
        }
    }

    /// @dev The last call's return data, cut to `_MAX_REASON_LENGTH` bytes.
    function _returnData() private pure returns (bytes memory data) {
        uint256 size = _MAX_REASON_LENGTH;
        assembly ("memory-safe") {
            if lt(returndatasize(), size) {
                size := returndatasize()
            }
            data := mload(0x40)
            mstore(data, size)
            returndatacopy(add(data, 0x20), 0x00, size)
            mstore(0x40, add(add(data, 0x20), and(add(size, 0x1f), not(0x1f))))
        }
    }

    /// @dev A payload's id: its EIP-712 digest.
    function _payloadId(Payload calldata payload) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                _payloadStructHash(
                    payload,
                    keccak256(bytes(payload.sourceChain)),
                    keccak256(bytes(payload.destinationChain))
                )
            );
    }

    /// @dev This chain's CAIP-2 id hashed; recomputed only after a chain id change (a fork).
    function _caip2Hash() private view returns (bytes32) {
        return block.chainid == _cachedChainId ? _cachedCaip2Hash : keccak256(bytes(CAIP2.local()));
    }

    function _quoteDigest(Quote memory quote) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(abi.encode(QUOTE_TYPEHASH, quote.tokenIn, quote.tokenOut, quote.rate, quote.validUntil))
            );
    }

    /// @dev Whether `account`'s code is an EIP-7702 delegation designator (`0xef0100 || delegate`).
    function _isDelegatedEoa(address account) private view returns (bool) {
        return account.code.length == _DELEGATION_CODE_SIZE && bytes3(account.code) == _DELEGATION_PREFIX;
    }

    /// @dev The EIP-712 struct hash of a payload, its two strings already hashed.
    function _payloadStructHash(
        Payload calldata payload,
        bytes32 sourceHash,
        bytes32 destinationHash
    ) private pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    PAYLOAD_TYPEHASH,
                    payload.version,
                    sourceHash,
                    destinationHash,
                    payload.kind,
                    payload.target,
                    payload.asset,
                    payload.amount,
                    keccak256(payload.data),
                    payload.nonce,
                    payload.deadline
                )
            );
    }
}
