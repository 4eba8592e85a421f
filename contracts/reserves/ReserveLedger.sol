// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {IIssuanceGate} from "./interfaces/IIssuanceGate.sol";
import {IReserveLedger} from "./interfaces/IReserveLedger.sol";

/// @dev One issuer's hot state packed in one storage word, lowest bits first:
///      `uint80 reserve | uint80 outstanding | uint40 attestedAt | uint32 maxAge | uint16 ratioBps | uint8 flags`.
///      See `ReserveLedger`'s `@dev` for why these widths.
type IssuerWord is uint256;

using IssuerWordLib for IssuerWord global;

/// @title IssuerWordLib
/// @notice Getters and setters for the fields of an `IssuerWord`.
/// @dev Setters mask the new value to its field's width so that a neighbouring field can never be corrupted;
///      callers check the range first (a custom error beats silent truncation).
library IssuerWordLib {
    /// @dev The issuer was registered (issuers are never removed).
    uint256 internal constant REGISTERED = 1;
    /// @dev The issuer may mint.
    uint256 internal constant ACTIVE = 2;
    /// @dev The issuer's reserve is read from its feed.
    uint256 internal constant USES_FEED = 4;
    /// @dev The last evaluation against the attested reserve found the issuer in breach.
    uint256 internal constant BREACHED = 8;
    /// @dev The account is a bridge, not an issuer: its word is a `BridgeWord` (the only flag set).
    uint256 internal constant BRIDGE = 16;

    uint256 private constant _MASK_80 = type(uint80).max;
    uint256 private constant _MASK_40 = type(uint40).max;
    uint256 private constant _MASK_32 = type(uint32).max;
    uint256 private constant _MASK_16 = type(uint16).max;
    uint256 private constant _MASK_8 = type(uint8).max;
    uint256 private constant _OUTSTANDING_SHIFT = 80;
    uint256 private constant _ATTESTED_AT_SHIFT = 160;
    uint256 private constant _MAX_AGE_SHIFT = 200;
    uint256 private constant _RATIO_SHIFT = 232;
    uint256 private constant _FLAGS_SHIFT = 248;

    /// @dev The last attested reserve.
    function reserve(IssuerWord w) internal pure returns (uint256) {
        return IssuerWord.unwrap(w) & _MASK_80;
    }

    /// @dev The outstanding issuance.
    function outstanding(IssuerWord w) internal pure returns (uint256) {
        return (IssuerWord.unwrap(w) >> _OUTSTANDING_SHIFT) & _MASK_80;
    }

    /// @dev The `asOf` time of the last attestation.
    function attestedAt(IssuerWord w) internal pure returns (uint256) {
        return (IssuerWord.unwrap(w) >> _ATTESTED_AT_SHIFT) & _MASK_40;
    }

    /// @dev The maximum age of the reserve figure, in seconds.
    function maxAge(IssuerWord w) internal pure returns (uint256) {
        return (IssuerWord.unwrap(w) >> _MAX_AGE_SHIFT) & _MASK_32;
    }

    /// @dev The reserve ratio in basis points.
    function ratioBps(IssuerWord w) internal pure returns (uint256) {
        return (IssuerWord.unwrap(w) >> _RATIO_SHIFT) & _MASK_16;
    }

    /// @dev All flags.
    function flags(IssuerWord w) internal pure returns (uint256) {
        return IssuerWord.unwrap(w) >> _FLAGS_SHIFT;
    }

    /// @dev Whether every flag of `mask` is set.
    function has(IssuerWord w, uint256 mask) internal pure returns (bool) {
        return (IssuerWord.unwrap(w) >> _FLAGS_SHIFT) & mask == mask;
    }

    /// @dev `w` with its reserve replaced.
    function withReserve(IssuerWord w, uint256 value) internal pure returns (IssuerWord) {
        return _set(w, 0, _MASK_80, value);
    }

    /// @dev `w` with its outstanding issuance replaced.
    function withOutstanding(IssuerWord w, uint256 value) internal pure returns (IssuerWord) {
        return _set(w, _OUTSTANDING_SHIFT, _MASK_80, value);
    }

    /// @dev `w` with its attestation time replaced.
    function withAttestedAt(IssuerWord w, uint256 value) internal pure returns (IssuerWord) {
        return _set(w, _ATTESTED_AT_SHIFT, _MASK_40, value);
    }

    /// @dev `w` with its maximum age replaced.
    function withMaxAge(IssuerWord w, uint256 value) internal pure returns (IssuerWord) {
        return _set(w, _MAX_AGE_SHIFT, _MASK_32, value);
    }

    /// @dev `w` with its ratio replaced.
    function withRatioBps(IssuerWord w, uint256 value) internal pure returns (IssuerWord) {
        return _set(w, _RATIO_SHIFT, _MASK_16, value);
    }

    /// @dev `w` with the flags of `mask` set (`on`) or cleared.
    function withFlags(IssuerWord w, uint256 mask, bool on) internal pure returns (IssuerWord) {
        uint256 current = IssuerWord.unwrap(w) >> _FLAGS_SHIFT;
        return _set(w, _FLAGS_SHIFT, _MASK_8, on ? current | mask : current & ~mask);
    }

    function _set(IssuerWord w, uint256 shift, uint256 mask, uint256 value) private pure returns (IssuerWord) {
        return IssuerWord.wrap((IssuerWord.unwrap(w) & ~(mask << shift)) | ((value & mask) << shift));
    }
}

/// @dev One bridge account's word, in the same storage slot as an issuer's word, lowest bits first:
///      `uint80 exported | uint80 imported | uint80 maxNetImport | uint8 unused | uint8 flags` with flags ==
///      `IssuerWordLib.BRIDGE`, so that an issuer's fast path (flags == REGISTERED | ACTIVE) never takes a bridge.
///      `imported` sits where an `IssuerWord` keeps `outstanding` (bits 80..159) on purpose: `onMint` records a
///      bridge's import with the same write as an issuer's mint (see `ReserveLedger._slowCapacity`).
type BridgeWord is uint256;

using BridgeWordLib for BridgeWord global;

/// @title BridgeWordLib
/// @notice Getters and setters for the fields of a `BridgeWord`.
/// @dev Setters mask the new value to its field's width; callers check the range first.
library BridgeWordLib {
    uint256 private constant _MASK_80 = type(uint80).max;
    uint256 private constant _IMPORTED_SHIFT = 80;
    uint256 private constant _CAP_SHIFT = 160;
    uint256 private constant _FLAGS_SHIFT = 248;

    /// @dev A fresh bridge word: zero totals, the cap, the `BRIDGE` flag.
    function create(uint256 cap) internal pure returns (BridgeWord) {
        return BridgeWord.wrap(IssuerWordLib.BRIDGE << _FLAGS_SHIFT).withMaxNetImport(cap);
    }

    /// @dev The bridge word stored where `w` is, if `w` is one.
    function fromIssuerWord(IssuerWord w) internal pure returns (BridgeWord) {
        return BridgeWord.wrap(IssuerWord.unwrap(w));
    }

    /// @dev The same bits as an issuer word, to store in an `IssuerRecord`.
    function toIssuerWord(BridgeWord b) internal pure returns (IssuerWord) {
        return IssuerWord.wrap(BridgeWord.unwrap(b));
    }

    /// @dev The tokens minted by the bridge, in total.
    function imported(BridgeWord b) internal pure returns (uint256) {
        return (BridgeWord.unwrap(b) >> _IMPORTED_SHIFT) & _MASK_80;
    }

    /// @dev The tokens burned by the bridge, in total.
    function exported(BridgeWord b) internal pure returns (uint256) {
        return BridgeWord.unwrap(b) & _MASK_80;
    }

    /// @dev The most `imported - exported` may reach.
    function maxNetImport(BridgeWord b) internal pure returns (uint256) {
        return (BridgeWord.unwrap(b) >> _CAP_SHIFT) & _MASK_80;
    }

    /// @dev `b` with its imports replaced.
    function withImported(BridgeWord b, uint256 value) internal pure returns (BridgeWord) {
        return _set(b, _IMPORTED_SHIFT, value);
    }

    /// @dev `b` with its exports replaced.
    function withExported(BridgeWord b, uint256 value) internal pure returns (BridgeWord) {
        return _set(b, 0, value);
    }

    /// @dev `b` with its cap replaced.
    function withMaxNetImport(BridgeWord b, uint256 value) internal pure returns (BridgeWord) {
        return _set(b, _CAP_SHIFT, value);
    }

    function _set(BridgeWord b, uint256 shift, uint256 value) private pure returns (BridgeWord) {
        return BridgeWord.wrap((BridgeWord.unwrap(b) & ~(_MASK_80 << shift)) | ((value & _MASK_80) << shift));
    }
}

/// @title ReserveLedger
/// @notice Keeps, per issuing bank, its fiat reserve (attested, or read from a proof-of-reserve feed), its
///         reserve ratio and its outstanding issuance, and gates every mint and burn of the bound `BankToken`.
/// @dev Roles:
///      - `DEFAULT_ADMIN_ROLE` (one holder, handed over in two steps after a delay): grants and revokes roles.
///      - `RESERVE_ADMIN_ROLE`: registers, deactivates and reactivates issuers, sets ratio, max age and feed;
///        registers bridge accounts and sets their net import caps.
///      - `ATTESTOR_ROLE`: attests reserves and records the fiat transfers that net interbank claims.
///      - `SETTLEMENT_ROLE` (the `InterbankSettlement` contract): moves a debtor bank's issuance to itself when a
///        creditor bank smelts an interbank payment, recording the creditor's claim on the debtor.
///
///      Gas. `onMint` runs inside every `BankToken.mint`, whose budget is 62,000 gas in all, so its hot path
///      (attestation mode) reads one storage word and writes the same word back: an `IssuerWord` packs
///      `uint80 reserve | uint80 outstanding | uint40 attestedAt | uint32 maxAge | uint16 ratioBps | uint8 flags`
///      = 256 bits. Why these widths: amounts are minor units in the token's decimals, which equal the
///      currency's ISO 4217 minor unit (0 to 4), so 2**80 - 1 (about 1.2e24) minor units exceed any bank's
///      balance sheet by many orders of magnitude; larger attestations revert with `ReserveLedgerReserveTooLarge`
///      and a feed's capacity is capped at the same bound, so `outstanding` (never above capacity after a mint)
///      cannot overflow. `uint40` seconds last until the year 36,812; `uint32` seconds of max age allow 136
///      years; 10,000 bps fit `uint16`. The feed address, read only in feed mode, lives in the record's second
///      slot. Measured (Solidity test, cold state, the call included): `onMint` 9,097 gas, `onBurn` 8,623; for a
///      bridge account 9,124 and 8,773.
///
///      Interbank payments. When bank B smelts tokens bank A minted (`InterbankSettlement`), `transferIssuance`
///      moves that much of A's outstanding issuance to the settlement contract's own record (which its burn
///      then brings back down), records B's claim on A (`claimOf(B, A)`), and sets the same amount aside from
///      A's reserve: the fiat is still in A's trust account but owed to B, so it must not back new tokens of A.
///      Attestations and feed answers count it out too (the reserve is kept net of the claims on the issuer).
///      `netClaim` records the fiat transfer that settles the claim: B's reserve grows, A's does not change.
///      The attestation-mode `onMint` path reads none of this: it stays one word.
///
///      The token address is an immutable constructor argument rather than a `bindToken` call after deployment:
///      a stored token address would cost a cold `SLOAD` (2,100 gas) on every mint and burn, nearly a quarter
///      of the gate's 9,000-gas budget, to read a value that never changes. The `BankToken` can be initialized
///      without a gate, so the deployment order is: token proxy (gate zero), then this ledger with the proxy's
///      address (the constructor checks the decimals against the token), then `BankToken.setIssuanceGate`.
///      If the ledger must come first, pass the proxy's predicted `CREATE` address and check `token()` after.
///      For the same reason `onMint` and `onBurn` emit no event of their own (one would cost about 1,400 gas):
///      the token's `Mint`/`Burn` events, emitted in the same call, name the minter and the amount.
///
///      Bridge accounts (`registerBridge`). A cross-chain lane's word lives in the same slot as an issuer's (a
///      `BridgeWord`: imported, exported, cap, and the `BRIDGE` flag alone), so a lane's mint or burn also reads
///      and writes one word; `onMint` reaches it only after the issuer fast path's flag test fails, and `onBurn`
///      only where an unknown account would revert, so the issuers' paths run the same code as before. Running
///      totals are 80 bits like every amount here (about 1.2e24 minor units moved in each direction over the
///      bridge's life); past that its mints or burns revert `ReserveLedgerBridgeTotalTooLarge`.
contract ReserveLedger is IReserveLedger, AccessControlDefaultAdminRules {
    /// @dev One issuer's storage: the hot word in the first slot, the feed (read only in feed mode) in the second.
    ///      `owed` (same slot as the feed) is, in feed mode only, the sum of the claims other issuers hold on this
    ///      one, taken off the feed's answer without a walk over the issuer list; in attestation mode it is zero
    ///      and the claims are taken off each attestation instead.
    struct IssuerRecord {
        IssuerWord word;
        AggregatorV3Interface feed;
        uint96 owed;
    }

    /// @dev What reading a feed found.
    enum FeedStatus {
        Ok,
        Unavailable,
        InvalidAnswer,
        InvalidTimestamp,
        StaleRound
    }

    /// @dev One reading of a feed, with the reserve converted to token decimals.
    struct FeedReading {
        FeedStatus status;
        int256 answer;
        uint256 updatedAt;
        uint80 roundId;
        uint80 answeredInRound;
        uint256 reserve;
    }

    /// @notice Registers and configures issuers: register, deactivate, reactivate, ratio, max age, feed.
    bytes32 public constant RESERVE_ADMIN_ROLE = keccak256("RESERVE_ADMIN_ROLE");
    /// @notice Attests issuers' fiat reserves.
    bytes32 public constant ATTESTOR_ROLE = keccak256("ATTESTOR_ROLE");
    /// @notice Transfers issuance between issuers for smelted interbank payments: the settlement contract.
    bytes32 public constant SETTLEMENT_ROLE = keccak256("SETTLEMENT_ROLE");
    /// @notice A full reserve, in basis points: the largest reserve ratio.
    uint16 public constant MAX_RATIO_BPS = 10_000;
    /// @notice The largest reserve and outstanding issuance the ledger stores per issuer.
    uint256 public constant MAX_AMOUNT = type(uint80).max;
    /// @notice The largest token decimals the ledger accepts.
    uint8 public constant MAX_TOKEN_DECIMALS = 18;

    /// @dev 10**77 is the largest power of ten below 2**256: dividing any answer by more yields zero.
    uint256 private constant _MAX_DECIMALS_SHIFT = 77;

    address private immutable _token;
    uint8 private immutable _tokenDecimals;

    mapping(address issuer => IssuerRecord) private _issuers;
    address[] private _issuerList;
    address[] private _bridgeList;
    mapping(address creditor => mapping(address debtor => uint256 amount)) private _claims;
    mapping(bytes32 transferRef => bool used) private _usedTransferRefs;

    /// @dev Only the bound token may call the gate hooks.
    modifier onlyToken() {
        _checkToken();
        _;
    }

    /// @param initialAdmin The single holder of `DEFAULT_ADMIN_ROLE`.
    /// @param initialAdminDelay The delay, in seconds, before a default admin handover can be accepted.
    /// @param token_ The `BankToken` (its proxy) that will call `onMint`/`onBurn`, or its predicted address if
    ///        it is deployed after the ledger.
    /// @param tokenDecimals_ The token's decimals (at most 18), to which feed answers are converted; checked
    ///        against the token's `decimals()` if the token is already deployed.
    constructor(
        address initialAdmin,
        uint48 initialAdminDelay,
        address token_,
        uint8 tokenDecimals_
    ) AccessControlDefaultAdminRules(initialAdminDelay, initialAdmin) {
        if (token_ == address(0)) revert ReserveLedgerInvalidToken(token_);
        if (tokenDecimals_ > MAX_TOKEN_DECIMALS) revert ReserveLedgerInvalidTokenDecimals(tokenDecimals_);
        if (token_.code.length != 0) {
            uint8 actual = IERC20Metadata(token_).decimals();
            if (actual != tokenDecimals_) revert ReserveLedgerTokenDecimalsMismatch(tokenDecimals_, actual);
        }
        _token = token_;
        _tokenDecimals = tokenDecimals_;
    }

    /// @inheritdoc IIssuanceGate
    /// @dev Hot path: one `SLOAD` and one `SSTORE` of the issuer's word in attestation mode; no event (the
    ///      token's `Mint` event carries the minter and amount). For a bridge account: imported += amount, within
    ///      its net import cap (the same one word, written by the same line).
    function onMint(address account, uint256 amount) external onlyToken {
        IssuerRecord storage record = _issuers[account];
        IssuerWord w = record.word;
        uint256 capacity;
        if (w.flags() == IssuerWordLib.REGISTERED | IssuerWordLib.ACTIVE) {
            // The common case: registered, active, attestation mode, not breached.
            _checkFresh(account, w.attestedAt(), w.maxAge());
            // Cannot overflow: reserve < 2**80 and ratioBps < 2**16.
            unchecked {
                capacity = (w.reserve() * w.ratioBps()) / MAX_RATIO_BPS;
            }
        } else {
            capacity = _slowCapacity(account, w, amount);
        }
        uint256 outstanding = w.outstanding();
        if (outstanding > capacity || amount > capacity - outstanding) {
            revert ReserveLedgerInsufficientReserve(account, capacity, outstanding, amount);
        }
        // Cannot overflow, and fits 80 bits: outstanding + amount <= capacity <= MAX_AMOUNT.
        unchecked {
            record.word = w.withOutstanding(outstanding + amount);
        }
    }

    /// @inheritdoc IIssuanceGate
    /// @dev Deactivated issuers may burn. No event (the token's `Burn` event carries the burner and amount). For a
    ///      bridge account: exported += amount, with no check against its imports (a chain may send more than it
    ///      received).
    function onBurn(address account, uint256 amount) external onlyToken {
        IssuerRecord storage record = _issuers[account];
        IssuerWord w = record.word;
        if (!w.has(IssuerWordLib.REGISTERED)) {
            if (w.flags() != IssuerWordLib.BRIDGE) revert ReserveLedgerUnknownIssuer(account);
            record.word = _bridgeExport(account, BridgeWordLib.fromIssuerWord(w), amount).toIssuerWord();
            return;
        }
        _burnIssuance(record, w, account, amount);
    }

    /// @inheritdoc IIssuanceGate
    /// @dev Deactivated issuers may be charged. A bridge account (or any non-issuer) is refused with
    ///      `ReserveLedgerWipeNotIssuer`.
    function onWipe(address account, uint256 amount) external onlyToken {
        IssuerRecord storage record = _issuers[account];
        IssuerWord w = record.word;
        if (!w.has(IssuerWordLib.REGISTERED)) revert ReserveLedgerWipeNotIssuer(account);
        _burnIssuance(record, w, account, amount);
    }

    /// @dev Lowers `account`'s outstanding issuance by `amount`; reverts if that is more than it has.
    function _burnIssuance(IssuerRecord storage record, IssuerWord w, address account, uint256 amount) private {
        uint256 outstanding = w.outstanding();
        if (amount > outstanding) revert ReserveLedgerBurnExceedsOutstanding(account, outstanding, amount);
        // Cannot underflow: amount <= outstanding, checked above.
        unchecked {
            record.word = w.withOutstanding(outstanding - amount);
        }
    }

    /// @inheritdoc IReserveLedger
    /// @dev One write of the debtor's word (outstanding and reserve together), one of the caller's, one of the
    ///      claim. The caller's word goes up here and back down in the `onBurn` of the same transaction, so its
    ///      second write is nearly free. No breach evaluation: the debtor's slack `reserve * ratio - outstanding`
    ///      cannot shrink here (both drop by `amount`, and `ratio <= 1`).
    function transferIssuance(address debtor, address creditor, uint256 amount) external onlyRole(SETTLEMENT_ROLE) {
        if (debtor == creditor) revert ReserveLedgerSelfClaim(debtor);
        IssuerRecord storage from = _registered(debtor);
        IssuerWord w = from.word;
        uint256 outstanding = w.outstanding();
        if (amount > outstanding) revert ReserveLedgerTransferExceedsOutstanding(debtor, outstanding, amount);
        IssuerRecord storage to = _registered(msg.sender);
        IssuerWord t = to.word;
        uint256 received = t.outstanding();
        if (amount > MAX_AMOUNT - received) revert ReserveLedgerOutstandingTooLarge(msg.sender, received, amount);
        uint256 reserve = w.reserve();
        // Cannot underflow (amount <= outstanding, and the reserve is reduced only when above amount) nor exceed
        // 80 bits (received + amount <= MAX_AMOUNT), all checked above; a claim is at most the sum of transferred
        // amounts, each below 2**80.
        unchecked {
            // The fiat now owed to the creditor is set aside: it backs the creditor's claim, not new tokens.
            from.word = w.withOutstanding(outstanding - amount).withReserve(reserve > amount ? reserve - amount : 0);
            to.word = t.withOutstanding(received + amount);
            _claims[creditor][debtor] += amount;
        }
        if (w.has(IssuerWordLib.USES_FEED)) from.owed += SafeCast.toUint96(amount);
    }

    /// @inheritdoc IReserveLedger
    function netClaim(
        address creditor,
        address debtor,
        uint256 amount,
        bytes32 transferRef
    ) external onlyRole(ATTESTOR_ROLE) {
        if (creditor == debtor) revert ReserveLedgerSelfClaim(debtor);
        if (amount == 0) revert ReserveLedgerZeroAmount();
        if (transferRef == bytes32(0) || _usedTransferRefs[transferRef]) {
            revert ReserveLedgerTransferRefUsed(transferRef);
        }
        IssuerRecord storage debtorRecord = _registered(debtor);
        IssuerRecord storage creditorRecord = _registered(creditor);
        uint256 claim = _claims[creditor][debtor];
        if (amount > claim) revert ReserveLedgerNettingExceedsClaim(creditor, debtor, claim, amount);
        _usedTransferRefs[transferRef] = true;
        // Cannot underflow: amount <= claim, checked above.
        unchecked {
            _claims[creditor][debtor] = claim - amount;
        }
        // Cannot underflow: in feed mode `owed` includes this claim (see `setReserveFeed`); the cast is exact,
        // amount <= claim <= owed < 2**96.
        if (debtorRecord.word.has(IssuerWordLib.USES_FEED)) debtorRecord.owed -= uint96(amount);
        IssuerWord c = creditorRecord.word;
        bool creditorAttested = !c.has(IssuerWordLib.USES_FEED);
        if (creditorAttested) {
            // Cannot overflow: both are below 2**80.
            uint256 newReserve = c.reserve() + amount;
            if (newReserve > MAX_AMOUNT) revert ReserveLedgerReserveTooLarge(creditor, newReserve, MAX_AMOUNT);
            creditorRecord.word = c.withReserve(newReserve);
        }
        emit InterbankClaimNetted(creditor, debtor, transferRef, amount, claim - amount);
        if (creditorAttested) _evaluateBreach(creditor, creditorRecord);
    }

    /// @inheritdoc IReserveLedger
    function registerIssuer(address account, uint16 ratioBps, uint32 maxAge) external onlyRole(RESERVE_ADMIN_ROLE) {
        if (account == address(0)) revert ReserveLedgerInvalidIssuer(account);
        IssuerRecord storage record = _issuers[account];
        IssuerWord w = record.word;
        if (w.has(IssuerWordLib.REGISTERED)) revert ReserveLedgerIssuerAlreadyRegistered(account);
        if (w.has(IssuerWordLib.BRIDGE)) revert ReserveLedgerBridgeAlreadyRegistered(account);
        _checkRatio(ratioBps);
        _checkMaxAge(maxAge);
        record.word = IssuerWord.wrap(0).withMaxAge(maxAge).withRatioBps(ratioBps).withFlags(
            IssuerWordLib.REGISTERED | IssuerWordLib.ACTIVE,
            true
        );
        _issuerList.push(account);
        emit IssuerRegistered(account, ratioBps, maxAge);
    }

    /// @inheritdoc IReserveLedger
    function registerBridge(address account, uint256 maxNetImport) external onlyRole(RESERVE_ADMIN_ROLE) {
        if (account == address(0)) revert ReserveLedgerInvalidBridge(account);
        IssuerRecord storage record = _issuers[account];
        IssuerWord w = record.word;
        if (w.has(IssuerWordLib.REGISTERED)) revert ReserveLedgerIssuerAlreadyRegistered(account);
        if (w.has(IssuerWordLib.BRIDGE)) revert ReserveLedgerBridgeAlreadyRegistered(account);
        _checkBridgeCap(account, maxNetImport);
        record.word = BridgeWordLib.create(maxNetImport).toIssuerWord();
        _bridgeList.push(account);
        emit BridgeRegistered(account, maxNetImport);
    }

    /// @inheritdoc IReserveLedger
    function setBridgeCap(address account, uint256 maxNetImport) external onlyRole(RESERVE_ADMIN_ROLE) {
        IssuerRecord storage record = _issuers[account];
        IssuerWord w = record.word;
        if (w.flags() != IssuerWordLib.BRIDGE) revert ReserveLedgerUnknownBridge(account);
        _checkBridgeCap(account, maxNetImport);
        BridgeWord b = BridgeWordLib.fromIssuerWord(w);
        record.word = b.withMaxNetImport(maxNetImport).toIssuerWord();
        emit BridgeCapChanged(account, b.maxNetImport(), maxNetImport);
    }

    /// @inheritdoc IReserveLedger
    function deactivateIssuer(address account) external onlyRole(RESERVE_ADMIN_ROLE) {
        IssuerRecord storage record = _registered(account);
        IssuerWord w = record.word;
        if (!w.has(IssuerWordLib.ACTIVE)) revert ReserveLedgerIssuerInactive(account);
        record.word = w.withFlags(IssuerWordLib.ACTIVE, false);
        emit IssuerDeactivated(account);
    }

    /// @inheritdoc IReserveLedger
    function reactivateIssuer(address account) external onlyRole(RESERVE_ADMIN_ROLE) {
        IssuerRecord storage record = _registered(account);
        IssuerWord w = record.word;
        if (w.has(IssuerWordLib.ACTIVE)) revert ReserveLedgerIssuerActive(account);
        record.word = w.withFlags(IssuerWordLib.ACTIVE, true);
        emit IssuerReactivated(account);
    }

    /// @inheritdoc IReserveLedger
    function setReserveRatio(address account, uint16 ratioBps) external onlyRole(RESERVE_ADMIN_ROLE) {
        IssuerRecord storage record = _registered(account);
        _checkRatio(ratioBps);
        IssuerWord w = record.word;
        record.word = w.withRatioBps(ratioBps);
        // The field is 16 bits wide, so the cast is exact.
        emit ReserveRatioChanged(account, uint16(w.ratioBps()), ratioBps);
        if (!w.has(IssuerWordLib.USES_FEED)) _evaluateBreach(account, record);
    }

    /// @inheritdoc IReserveLedger
    function setMaxAge(address account, uint32 maxAge) external onlyRole(RESERVE_ADMIN_ROLE) {
        IssuerRecord storage record = _registered(account);
        _checkMaxAge(maxAge);
        IssuerWord w = record.word;
        record.word = w.withMaxAge(maxAge);
        // The field is 32 bits wide, so the cast is exact.
        emit MaxAgeChanged(account, uint32(w.maxAge()), maxAge);
    }

    /// @inheritdoc IReserveLedger
    function setReserveFeed(address account, AggregatorV3Interface feed) external onlyRole(RESERVE_ADMIN_ROLE) {
        IssuerRecord storage record = _registered(account);
        if (address(feed).code.length == 0) revert ReserveLedgerInvalidFeed(feed);
        AggregatorV3Interface previous = record.feed;
        IssuerWord w = record.word;
        if (!w.has(IssuerWordLib.USES_FEED)) record.owed = SafeCast.toUint96(_owedBy(account));
        record.feed = feed;
        record.word = w.withFlags(IssuerWordLib.USES_FEED, true);
        emit ReserveFeedChanged(account, previous, feed);
    }

    /// @inheritdoc IReserveLedger
    function clearReserveFeed(address account) external onlyRole(RESERVE_ADMIN_ROLE) {
        IssuerRecord storage record = _registered(account);
        IssuerWord w = record.word;
        if (!w.has(IssuerWordLib.USES_FEED)) revert ReserveLedgerNoReserveFeed(account);
        AggregatorV3Interface previous = record.feed;
        delete record.feed;
        delete record.owed;
        // The attestation from before the feed is stale by now, and may be above the feed's last figure: the
        // ledger knows of no reserve until a fresh attestation, dated no earlier than now.
        record.word = w.withFlags(IssuerWordLib.USES_FEED, false).withReserve(0).withAttestedAt(block.timestamp);
        emit ReserveFeedChanged(account, previous, AggregatorV3Interface(address(0)));
        _evaluateBreach(account, record);
    }

    /// @inheritdoc IReserveLedger
    function attestReserve(address account, uint256 amount, uint256 asOf) external onlyRole(ATTESTOR_ROLE) {
        IssuerRecord storage record = _registered(account);
        IssuerWord w = record.word;
        if (w.has(IssuerWordLib.USES_FEED)) revert ReserveLedgerReserveSourceIsFeed(account, record.feed);
        if (asOf > block.timestamp) revert ReserveLedgerAttestationInFuture(account, asOf, block.timestamp);
        uint256 previous = w.attestedAt();
        if (asOf == 0 || asOf < previous) revert ReserveLedgerAttestationOutOfOrder(account, asOf, previous);
        if (amount > MAX_AMOUNT) revert ReserveLedgerReserveTooLarge(account, amount, MAX_AMOUNT);
        // Both fit their fields: the stored reserve is at most amount <= MAX_AMOUNT (checked above), and
        // asOf <= block.timestamp < 2**40. The fiat the issuer owes other banks for smelted payments is part
        // of the attested figure but not of its reserve.
        record.word = w.withReserve(_saturatingSub(amount, _owedBy(account))).withAttestedAt(asOf);
        emit ReserveAttested(account, msg.sender, amount, asOf);
        _evaluateBreach(account, record);
    }

    /// @inheritdoc IReserveLedger
    function token() external view returns (address) {
        return _token;
    }

    /// @inheritdoc IReserveLedger
    function tokenDecimals() external view returns (uint8) {
        return _tokenDecimals;
    }

    /// @inheritdoc IReserveLedger
    /// @dev The narrowing casts below are exact: each field is exactly as wide as the target type.
    function issuer(address account) external view returns (IssuerInfo memory info) {
        IssuerWord w = _issuers[account].word;
        if (!w.has(IssuerWordLib.REGISTERED)) return info;
        return
            IssuerInfo({
                registered: w.has(IssuerWordLib.REGISTERED),
                active: w.has(IssuerWordLib.ACTIVE),
                breached: w.has(IssuerWordLib.BREACHED),
                ratioBps: uint16(w.ratioBps()),
                maxAge: uint32(w.maxAge()),
                attestedAt: uint40(w.attestedAt()),
                reserve: w.reserve(),
                outstanding: w.outstanding(),
                feed: _issuers[account].feed
            });
    }

    /// @inheritdoc IReserveLedger
    function reserveOf(address account) external view returns (uint256 reserve, uint256 asOf) {
        IssuerRecord storage record = _registered(account);
        IssuerWord w = record.word;
        if (!w.has(IssuerWordLib.USES_FEED)) return (w.reserve(), w.attestedAt());
        FeedReading memory reading = _readFeed(record.feed);
        _checkFeedReading(account, reading);
        return (_saturatingSub(reading.reserve, record.owed), reading.updatedAt);
    }

    /// @inheritdoc IReserveLedger
    function mintable(address account) external view returns (uint256) {
        IssuerWord w = _issuers[account].word;
        if (!w.has(IssuerWordLib.REGISTERED | IssuerWordLib.ACTIVE)) return 0;
        uint256 reserve;
        uint256 asOf;
        if (!w.has(IssuerWordLib.USES_FEED)) {
            if (w.has(IssuerWordLib.BREACHED)) return 0;
            (reserve, asOf) = (w.reserve(), w.attestedAt());
        } else {
            FeedReading memory reading = _readFeed(_issuers[account].feed);
            if (reading.status != FeedStatus.Ok) return 0;
            (reserve, asOf) = (_saturatingSub(reading.reserve, _issuers[account].owed), reading.updatedAt);
        }
        if (!_isFresh(asOf, w.maxAge())) return 0;
        uint256 capacity = _capacity(reserve, w.ratioBps());
        uint256 outstanding = w.outstanding();
        return capacity > outstanding ? capacity - outstanding : 0;
    }

    /// @inheritdoc IReserveLedger
    function reserveRatioOf(address account) external view returns (uint16) {
        IssuerWord w = _issuers[account].word;
        // The field is 16 bits wide, so the cast is exact. A bridge's word holds no ratio.
        return w.has(IssuerWordLib.REGISTERED) ? uint16(w.ratioBps()) : 0;
    }

    /// @inheritdoc IReserveLedger
    function isFresh(address account) external view returns (bool) {
        IssuerWord w = _issuers[account].word;
        if (!w.has(IssuerWordLib.REGISTERED)) return false;
        if (!w.has(IssuerWordLib.USES_FEED)) return _isFresh(w.attestedAt(), w.maxAge());
        FeedReading memory reading = _readFeed(_issuers[account].feed);
        return reading.status == FeedStatus.Ok && _isFresh(reading.updatedAt, w.maxAge());
    }

    /// @inheritdoc IReserveLedger
    function outstandingOf(address account) external view returns (uint256) {
        IssuerWord w = _issuers[account].word;
        // A bridge's word holds no outstanding issuance.
        return w.has(IssuerWordLib.REGISTERED) ? w.outstanding() : 0;
    }

    /// @inheritdoc IReserveLedger
    function totalOutstanding() external view returns (uint256 total) {
        uint256 count = _issuerList.length;
        for (uint256 i = 0; i < count; ++i) {
            total += _issuers[_issuerList[i]].word.outstanding();
        }
    }

    /// @inheritdoc IReserveLedger
    function issuers() external view returns (address[] memory) {
        return _issuerList;
    }

    /// @inheritdoc IReserveLedger
    function bridgeOf(
        address account
    ) external view returns (uint256 imported, uint256 exported, uint256 maxNetImport) {
        IssuerWord w = _issuers[account].word;
        if (w.flags() != IssuerWordLib.BRIDGE) return (0, 0, 0);
        BridgeWord b = BridgeWordLib.fromIssuerWord(w);
        return (b.imported(), b.exported(), b.maxNetImport());
    }

    /// @inheritdoc IReserveLedger
    function bridges() external view returns (address[] memory) {
        return _bridgeList;
    }

    /// @inheritdoc IReserveLedger
    function claimOf(address creditor, address debtor) external view returns (uint256) {
        return _claims[creditor][debtor];
    }

    /// @inheritdoc IReserveLedger
    function owedBy(address debtor) external view returns (uint256) {
        return _owedBy(debtor);
    }

    /// @inheritdoc IReserveLedger
    function isTransferRefUsed(bytes32 transferRef) external view returns (bool) {
        return _usedTransferRefs[transferRef];
    }

    /// @dev Sets or clears the breach flag of an issuer from its attested reserve, emitting `ReserveBreached`
    ///      or `ReserveBreachCured` when the status changes.
    function _evaluateBreach(address account, IssuerRecord storage record) private {
        IssuerWord w = record.word;
        uint256 reserve = w.reserve();
        uint256 outstanding = w.outstanding();
        uint256 ratioBps = w.ratioBps();
        bool breached = outstanding > _capacity(reserve, ratioBps);
        if (breached == w.has(IssuerWordLib.BREACHED)) return;
        record.word = w.withFlags(IssuerWordLib.BREACHED, breached);
        // The ratio field is 16 bits wide, so the cast is exact.
        if (breached) emit ReserveBreached(account, reserve, outstanding, uint16(ratioBps));
        else emit ReserveBreachCured(account, reserve, outstanding, uint16(ratioBps));
    }

    /// @dev A bridge's mint: reverts if its imports would pass `MAX_AMOUNT` or its net import its cap; otherwise
    ///      returns `imported + amount`, the capacity with which `onMint`'s shared check passes and its write
    ///      (`withOutstanding`, the field a bridge word uses for `imported`) records the import.
    function _bridgeImportCapacity(address account, BridgeWord b, uint256 amount) private pure returns (uint256) {
        uint256 imported = b.imported();
        if (amount > MAX_AMOUNT - imported) revert ReserveLedgerBridgeTotalTooLarge(account, false, imported, amount);
        uint256 exported = b.exported();
        uint256 cap = b.maxNetImport();
        // Cannot overflow: each term is below 2**81 (amount <= MAX_AMOUNT - imported, checked above).
        unchecked {
            if (imported + amount > exported + cap) {
                revert ReserveLedgerBridgeCapExceeded(account, imported, exported, cap, amount);
            }
            return imported + amount;
        }
    }

    /// @dev A bridge's burn: `b` with `amount` more exported, or a revert if its total would pass `MAX_AMOUNT`.
    function _bridgeExport(address account, BridgeWord b, uint256 amount) private pure returns (BridgeWord) {
        uint256 exported = b.exported();
        if (amount > MAX_AMOUNT - exported) revert ReserveLedgerBridgeTotalTooLarge(account, true, exported, amount);
        // Cannot overflow: exported + amount <= MAX_AMOUNT, checked above.
        unchecked {
            return b.withExported(exported + amount);
        }
    }

    /// @dev Reverts unless `maxNetImport` fits the 80-bit field.
    function _checkBridgeCap(address account, uint256 maxNetImport) private pure {
        if (maxNetImport > MAX_AMOUNT) revert ReserveLedgerBridgeCapTooLarge(account, maxNetImport, MAX_AMOUNT);
    }

    /// @dev The record of a registered issuer; reverts with `ReserveLedgerUnknownIssuer` otherwise.
    function _registered(address account) private view returns (IssuerRecord storage record) {
        record = _issuers[account];
        if (!record.word.has(IssuerWordLib.REGISTERED)) revert ReserveLedgerUnknownIssuer(account);
    }

    /// @dev The sum of the claims every other issuer holds on `account`: a walk over the issuer list (a short
    ///      list: banks), made on attestations and on the switch to a feed, never on a mint.
    function _owedBy(address account) private view returns (uint256 owed) {
        uint256 count = _issuerList.length;
        for (uint256 i = 0; i < count; ++i) {
            owed += _claims[_issuerList[i]][account];
        }
    }

    /// @dev Reads `feed`'s decimals and latest round with low-level static calls, so that a reverting or
    ///      malformed feed yields `FeedStatus.Unavailable` instead of an undecodable revert; then validates
    ///      the answer, the timestamp and the round, and converts the answer to token decimals.
    function _readFeed(AggregatorV3Interface feed) private view returns (FeedReading memory reading) {
        (bool ok, bytes memory data) = address(feed).staticcall(abi.encodeCall(AggregatorV3Interface.decimals, ()));
        if (!ok || data.length < 32) return _unavailable(reading);
        uint256 feedDecimals = abi.decode(data, (uint256));
        if (feedDecimals > type(uint8).max) return _unavailable(reading);
        (ok, data) = address(feed).staticcall(abi.encodeCall(AggregatorV3Interface.latestRoundData, ()));
        if (!ok || data.length < 160) return _unavailable(reading);
        (uint256 roundId, int256 answer, , uint256 updatedAt, uint256 answeredInRound) = abi.decode(
            data,
            (uint256, int256, uint256, uint256, uint256)
        );
        if (roundId > type(uint80).max || answeredInRound > type(uint80).max) return _unavailable(reading);
        reading.answer = answer;
        reading.updatedAt = updatedAt;
        // Both fit 80 bits: checked above.
        reading.roundId = uint80(roundId);
        reading.answeredInRound = uint80(answeredInRound);
        if (answer <= 0) {
            reading.status = FeedStatus.InvalidAnswer;
        } else if (updatedAt == 0 || updatedAt > block.timestamp) {
            reading.status = FeedStatus.InvalidTimestamp;
        } else if (answeredInRound < roundId) {
            reading.status = FeedStatus.StaleRound;
        } else {
            // The cast is exact: answer > 0, checked above.
            reading.reserve = _toTokenDecimals(uint256(answer), feedDecimals);
        }
    }

    /// @dev The capacity of an issuer that is not in the common state of `onMint` (registered, active,
    ///      attestation mode, not breached): reverts if it may not mint, reads its feed if it uses one. For a bridge
    ///      account, see `_bridgeImportCapacity`: handled here, off the issuers' fast path, so that path's code
    ///      stays as it was, and recorded by the same write as an issuer's mint.
    function _slowCapacity(address account, IssuerWord w, uint256 amount) private view returns (uint256) {
        if (w.flags() == IssuerWordLib.BRIDGE) {
            return _bridgeImportCapacity(account, BridgeWordLib.fromIssuerWord(w), amount);
        }
        if (!w.has(IssuerWordLib.REGISTERED)) revert ReserveLedgerUnknownIssuer(account);
        if (!w.has(IssuerWordLib.ACTIVE)) revert ReserveLedgerIssuerInactive(account);
        if (!w.has(IssuerWordLib.USES_FEED)) revert ReserveLedgerIssuerBreached(account);
        FeedReading memory reading = _readFeed(_issuers[account].feed);
        _checkFeedReading(account, reading);
        _checkFresh(account, reading.updatedAt, w.maxAge());
        return _capacity(_saturatingSub(reading.reserve, _issuers[account].owed), w.ratioBps());
    }

    /// @dev Reverts with the custom error matching a feed reading that is not `Ok`.
    function _checkFeedReading(address account, FeedReading memory reading) private view {
        FeedStatus status = reading.status;
        if (status == FeedStatus.Ok) return;
        if (status == FeedStatus.Unavailable) revert ReserveLedgerFeedUnavailable(account, _issuers[account].feed);
        if (status == FeedStatus.InvalidAnswer) revert ReserveLedgerInvalidFeedAnswer(account, reading.answer);
        if (status == FeedStatus.InvalidTimestamp) {
            revert ReserveLedgerInvalidFeedTimestamp(account, reading.updatedAt, block.timestamp);
        }
        revert ReserveLedgerStaleFeedRound(account, reading.roundId, reading.answeredInRound);
    }

    /// @dev Reverts unless the bound token is the caller.
    function _checkToken() private view {
        if (msg.sender != _token) revert ReserveLedgerCallerNotToken(msg.sender);
    }

    /// @dev Reverts with `ReserveLedgerStaleAttestation` unless a figure as of `asOf` may be minted against.
    function _checkFresh(address account, uint256 asOf, uint256 maxAge) private view {
        if (!_isFresh(asOf, maxAge)) {
            // The max age field is 32 bits wide, so the cast is exact.
            revert ReserveLedgerStaleAttestation(account, asOf, uint32(maxAge), block.timestamp);
        }
    }

    /// @dev Whether a figure as of `asOf` (never in the future here) is at most `maxAge` seconds old; a zero
    ///      `asOf` means "never attested".
    function _isFresh(uint256 asOf, uint256 maxAge) private view returns (bool) {
        return asOf != 0 && block.timestamp - asOf <= maxAge;
    }

    /// @dev Reverts unless `ratioBps` is within 1..10_000.
    function _checkRatio(uint16 ratioBps) private pure {
        if (ratioBps == 0 || ratioBps > MAX_RATIO_BPS) revert ReserveLedgerInvalidReserveRatio(ratioBps);
    }

    /// @dev Reverts unless `maxAge` is at least one second.
    function _checkMaxAge(uint32 maxAge) private pure {
        if (maxAge == 0) revert ReserveLedgerInvalidMaxAge(maxAge);
    }

    /// @dev `a - b`, or zero if `b` exceeds `a`: a reserve less what its issuer owes other banks.
    function _saturatingSub(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a - b : 0;
    }

    /// @dev Marks a feed reading unavailable.
    function _unavailable(FeedReading memory reading) private pure returns (FeedReading memory) {
        reading.status = FeedStatus.Unavailable;
        return reading;
    }

    /// @dev The most an issuer with `reserve` and `ratioBps` may have outstanding, rounded down, capped at
    ///      `MAX_AMOUNT` so that outstanding issuance always fits its 80-bit field.
    function _capacity(uint256 reserve, uint256 ratioBps) private pure returns (uint256) {
        return Math.min(Math.mulDiv(reserve, ratioBps, MAX_RATIO_BPS), MAX_AMOUNT);
    }

    /// @dev Converts a feed answer with `feedDecimals` to the token's decimals: exact when scaling up
    ///      (saturating at 2**256 - 1), rounded down when scaling down.
    function _toTokenDecimals(uint256 value, uint256 feedDecimals) private view returns (uint256) {
        uint256 tokenDecimals_ = _tokenDecimals;
        if (feedDecimals == tokenDecimals_) return value;
        if (feedDecimals > tokenDecimals_) {
            uint256 shift = feedDecimals - tokenDecimals_;
            return shift > _MAX_DECIMALS_SHIFT ? 0 : value / 10 ** shift;
        }
        // tokenDecimals_ <= 18, so the power of ten cannot overflow.
        return Math.saturatingMul(value, 10 ** (tokenDecimals_ - feedDecimals));
    }
}
