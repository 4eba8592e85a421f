// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IReserveLedger} from "../reserves/interfaces/IReserveLedger.sol";
import {IInterbankSettlement, SettlementId} from "./interfaces/IInterbankSettlement.sol";
import {ITrustAccount} from "./interfaces/ITrustAccount.sol";
import {ITrustAccountToken} from "./interfaces/ITrustAccountToken.sol";

/// @dev One payment's record packed in one storage word, lowest bits first:
///      `uint8 state | uint40 deadline | 208-bit terms digest`, the digest being the top 208 bits of
///      `keccak256(abi.encode(terms))`. The zero word is "no payment" (a stored state is never `None`).
type SettlementWord is uint256;

using SettlementWordLib for SettlementWord global;

/// @title SettlementWordLib
/// @notice Builds a `SettlementWord` and reads and replaces its fields.
/// @dev As `IssuerWordLib`: setters mask each value to its field's width so that a neighbouring field can never be
///      corrupted; callers check the range first. The digest keeps its place in the word (bits 48..255), so that
///      it compares directly with `digestOf`. States go in as numbers (`uint8(state)`): an enum parameter costs a
///      cleanup at every call on these hot paths.
library SettlementWordLib {
    uint256 private constant _STATE_MASK = type(uint8).max;
    uint256 private constant _DEADLINE_SHIFT = 8;
    uint256 private constant _DEADLINE_MASK = type(uint40).max;
    uint256 private constant _DIGEST_MASK = ~uint256(0) << 48;

    /// @dev The word of a new payment: `digest` as `digestOf` returns it, the deadline, a stored state.
    function pack(uint256 digest_, uint256 deadline_, uint256 state) internal pure returns (SettlementWord) {
        return
            SettlementWord.wrap(
                (digest_ & _DIGEST_MASK) | ((deadline_ & _DEADLINE_MASK) << _DEADLINE_SHIFT) | (state & _STATE_MASK)
            );
    }

    /// @dev Whether no payment was ever recorded in `w`.
    function isEmpty(SettlementWord w) internal pure returns (bool) {
        return SettlementWord.unwrap(w) == 0;
    }

    /// @dev The terms digest, in place (bits 48..255; the low 48 bits are zero).
    function digest(SettlementWord w) internal pure returns (uint256) {
        return SettlementWord.unwrap(w) & _DIGEST_MASK;
    }

    /// @dev The deadline, in seconds.
    function deadline(SettlementWord w) internal pure returns (uint256) {
        return (SettlementWord.unwrap(w) >> _DEADLINE_SHIFT) & _DEADLINE_MASK;
    }

    /// @dev The stored state (`Delivered` for an expired payment; `None` only for the empty word).
    function storedState(SettlementWord w) internal pure returns (IInterbankSettlement.SettlementState) {
        // The low byte holds a stored state (at most `Refunded`), so the conversion cannot fail.
        return IInterbankSettlement.SettlementState(uint8(SettlementWord.unwrap(w) & _STATE_MASK));
    }

    /// @dev `w` with its stored state replaced by `state` (a `SettlementState` as a number).
    function withState(SettlementWord w, uint256 state) internal pure returns (SettlementWord) {
        return SettlementWord.wrap((SettlementWord.unwrap(w) & ~_STATE_MASK) | (state & _STATE_MASK));
    }

    /// @dev `keccak256(abi.encode(terms))` with its low 48 bits cleared, where the word keeps the deadline and
    ///      the state.
    ///      `SettlementTerms` is a static struct: its ABI encoding is its six calldata words as they are. Every
    ///      field is read (and so checked for dirty bits by the ABI decoder) by `initiate`; a later call whose
    ///      words differ in any bit gets a different digest and `InterbankSettlementTermsMismatch`.
    function digestOf(IInterbankSettlement.SettlementTerms calldata terms) internal pure returns (uint256 result) {
        // Safe: copies the struct's 6 words to free memory without moving the free memory pointer.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, terms, 0xc0)
            result := keccak256(ptr, 0xc0)
        }
        result &= _DIGEST_MASK;
    }
}

/// @dev A corridor's limits packed in one storage word, lowest bits first:
///      `uint64 inFlightCap | uint64 windowCap | uint32 windowLength | bool open | bool paused`.
type CorridorLimits is uint256;

using CorridorLimitsLib for CorridorLimits global;

/// @title CorridorLimitsLib
/// @notice Builds a `CorridorLimits` word and reads its fields (the style of `IssuerWordLib`).
/// @dev `pack` masks each value to its field; callers check the ranges first (a custom error beats truncation).
library CorridorLimitsLib {
    uint256 private constant _MASK_64 = type(uint64).max;
    uint256 private constant _MASK_32 = type(uint32).max;
    uint256 private constant _WINDOW_CAP_SHIFT = 64;
    uint256 private constant _WINDOW_LENGTH_SHIFT = 128;
    uint256 private constant _OPEN = 1 << 160;
    uint256 private constant _PAUSED = 1 << 161;

    /// @dev The limits of an open corridor.
    function pack(
        uint256 inFlightCap_,
        uint256 windowCap_,
        uint256 windowLength_,
        bool paused_
    ) internal pure returns (CorridorLimits) {
        return
            CorridorLimits.wrap(
                (inFlightCap_ & _MASK_64) |
                    ((windowCap_ & _MASK_64) << _WINDOW_CAP_SHIFT) |
                    ((windowLength_ & _MASK_32) << _WINDOW_LENGTH_SHIFT) |
                    (paused_ ? _PAUSED : 0) |
                    _OPEN
            );
    }

    /// @dev Whether the corridor was ever opened (limits set).
    function isOpen(CorridorLimits w) internal pure returns (bool) {
        return CorridorLimits.unwrap(w) & _OPEN != 0;
    }

    /// @dev Whether the corridor is paused.
    function isPaused(CorridorLimits w) internal pure returns (bool) {
        return CorridorLimits.unwrap(w) & _PAUSED != 0;
    }

    /// @dev The most that may be in flight at once.
    function inFlightCap(CorridorLimits w) internal pure returns (uint256) {
        return CorridorLimits.unwrap(w) & _MASK_64;
    }

    /// @dev The most that may be sent per window.
    function windowCap(CorridorLimits w) internal pure returns (uint256) {
        return (CorridorLimits.unwrap(w) >> _WINDOW_CAP_SHIFT) & _MASK_64;
    }

    /// @dev The window's length, in seconds.
    function windowLength(CorridorLimits w) internal pure returns (uint256) {
        return (CorridorLimits.unwrap(w) >> _WINDOW_LENGTH_SHIFT) & _MASK_32;
    }

    /// @dev `w` paused (`on`) or resumed.
    function withPaused(CorridorLimits w, bool on) internal pure returns (CorridorLimits) {
        uint256 word = CorridorLimits.unwrap(w);
        return CorridorLimits.wrap(on ? word | _PAUSED : word & ~_PAUSED);
    }
}

/// @dev A corridor's usage packed in one storage word, lowest bits first:
///      `uint64 inFlight | uint64 sentInWindow | uint40 windowStart`.
type CorridorUsage is uint256;

using CorridorUsageLib for CorridorUsage global;

/// @title CorridorUsageLib
/// @notice Builds a `CorridorUsage` word and reads its fields (the style of `IssuerWordLib`).
/// @dev `pack` masks each value to its field; callers check the ranges first.
library CorridorUsageLib {
    uint256 private constant _MASK_64 = type(uint64).max;
    uint256 private constant _MASK_40 = type(uint40).max;
    uint256 private constant _SENT_SHIFT = 64;
    uint256 private constant _WINDOW_START_SHIFT = 128;

    /// @dev The usage word.
    function pack(uint256 inFlight_, uint256 sent_, uint256 windowStart_) internal pure returns (CorridorUsage) {
        return
            CorridorUsage.wrap(
                (inFlight_ & _MASK_64) |
                    ((sent_ & _MASK_64) << _SENT_SHIFT) |
                    ((windowStart_ & _MASK_40) << _WINDOW_START_SHIFT)
            );
    }

    /// @dev What is in flight (initiated, not yet acknowledged, returned or refunded).
    function inFlight(CorridorUsage w) internal pure returns (uint256) {
        return CorridorUsage.unwrap(w) & _MASK_64;
    }

    /// @dev What was sent in the window that starts at `windowStart` (stale once that window ended).
    function sent(CorridorUsage w) internal pure returns (uint256) {
        return (CorridorUsage.unwrap(w) >> _SENT_SHIFT) & _MASK_64;
    }

    /// @dev When the current (or last recorded) window started.
    function windowStart(CorridorUsage w) internal pure returns (uint256) {
        return (CorridorUsage.unwrap(w) >> _WINDOW_START_SHIFT) & _MASK_40;
    }

    /// @dev `w` with `amount` taken off what is in flight. The caller knows `amount <= inFlight(w)`, so nothing
    ///      borrows from the next field (a subtraction on the closing paths, cheaper than a masked set).
    function withReleased(CorridorUsage w, uint256 amount) internal pure returns (CorridorUsage) {
        // Cannot borrow: `amount <= inFlight(w)`, the low 64 bits (the caller's guarantee).
        unchecked {
            return CorridorUsage.wrap(CorridorUsage.unwrap(w) - amount);
        }
    }
}

/// @title InterbankSettlement
/// @notice Pays between banks on the shared ledger: bank A's trust account mints into this contract, which holds
///         the tokens for bank B until B smelts them (having credited its customer in fiat) or rejects them, or
///         until the deadline passes; then A acknowledges, or takes the tokens back and burns them at its own
///         trust account. See `IInterbankSettlement` and `docs/settlement.md`.
/// @dev Roles:
///      - `DEFAULT_ADMIN_ROLE` (one holder, handed over in two steps after a delay): grants and revokes roles.
///      - `BANK_ADMIN_ROLE`: `registerBank`, `setBankAgent`.
///      - `CORRIDOR_ADMIN_ROLE`: `setCorridorLimits`, `pauseCorridor`, `unpauseCorridor`.
///      Payments are driven by each bank's registered agent, not by a role.
///
///      Set-up: this contract must be a minter of the token with a zero allowance (so that it may `burn`), a
///      registered issuer of the ledger (deactivated: it never mints) holding the ledger's `SETTLEMENT_ROLE`, and
///      hold `SETTLEMENT_ROLE` on every registered bank's `TrustAccount`.
///
///      Ids. A payment is named by its debtor bank and its id together: `_records[debtorBank][id]`. Only the
///      debtor bank's agent can initiate under that bank, so no other bank can take (squat) an id that bank means
///      to use; two banks may use the same id for two unrelated payments. Every view, event and error that names a
///      payment carries both.
///
///      Storage and gas. A payment is one `SettlementWord` in `_records`: bits 48..255 are the top 208 bits of
///      `keccak256(abi.encode(terms))`, bits 8..47 the deadline (`uint40` seconds), bits 0..7 the stored state.
///      Later calls pass the terms in calldata and are checked against the digest (a 208-bit second preimage is
///      out of reach), so nothing else is stored per payment and a debtor bank can never reuse one of its ids: no
///      record is ever deleted. A corridor is two words: its limits (`uint64 inFlightCap | uint64 windowCap |
///      uint32 windowLength | open, paused flags`), read on the payment path only by `initiate`, and its usage
///      (`uint64 inFlight | uint64 sentInWindow | uint40 windowStart`), read and written by `initiate` and by every
///      step that closes a payment for the debtor bank (`acknowledge`, `returnRejected`, `refundExpired`). 64-bit
///      amounts allow 1.8e19 minor units per corridor (1.8e17 US dollars). The agent of a bank is one word.
///      `initiate` therefore writes one fresh slot (the record) and one warm-able slot (the usage); `smelt` and
///      `reject` update only the record (the smelt burns the tokens, but the amount stays in flight until the
///      acknowledgement); `acknowledge`, `returnRejected` and `refundExpired` update the record and the usage.
///
///      Trust. The registered trust accounts (`BANK_ADMIN_ROLE` checks their token and ledger registration), the
///      token and the ledger are the only contracts called; every call comes after the state it depends on is
///      written, under a reentrancy guard.
contract InterbankSettlement is IInterbankSettlement, AccessControlDefaultAdminRules, ReentrancyGuardTransient {
    using SafeERC20 for ITrustAccountToken;

    /// @dev A corridor's two storage words (see the contract's `@dev`).
    struct CorridorSlots {
        CorridorLimits limits;
        CorridorUsage usage;
    }

    /// @dev One entry of the corridor list.
    struct CorridorKey {
        address debtorBank;
        address creditorBank;
    }

    /// @notice Registers banks and replaces their agents.
    bytes32 public constant BANK_ADMIN_ROLE = keccak256("BANK_ADMIN_ROLE");
    /// @notice Sets corridor limits and pauses corridors.
    bytes32 public constant CORRIDOR_ADMIN_ROLE = keccak256("CORRIDOR_ADMIN_ROLE");
    /// @notice The largest corridor cap, and so the largest payment: 2^64 - 1 minor units.
    uint256 public constant MAX_AMOUNT = type(uint64).max;

    ITrustAccountToken private immutable _token;
    IReserveLedger private immutable _ledger;

    mapping(address bank => address agent) private _agents;
    mapping(address debtorBank => mapping(SettlementId id => SettlementWord word)) private _records;
    mapping(address debtorBank => mapping(address creditorBank => CorridorSlots)) private _corridors;
    CorridorKey[] private _corridorList;

    /// @param initialAdmin The single holder of `DEFAULT_ADMIN_ROLE`.
    /// @param initialAdminDelay The delay, in seconds, before a default admin handover can be accepted.
    /// @param token_ The bank token (its proxy).
    /// @param ledger_ The token's reserve ledger (its `token()` must be `token_`).
    constructor(
        address initialAdmin,
        uint48 initialAdminDelay,
        ITrustAccountToken token_,
        IReserveLedger ledger_
    ) AccessControlDefaultAdminRules(initialAdminDelay, initialAdmin) {
        if (address(token_) == address(0)) revert InterbankSettlementInvalidToken(address(token_));
        if (address(ledger_) == address(0) || ledger_.token() != address(token_)) {
            revert InterbankSettlementInvalidLedger(address(ledger_));
        }
        _token = token_;
        _ledger = ledger_;
    }

    // ─────────────────────────────────────────── payments ───────────────────────────────────────────

    /// @inheritdoc IInterbankSettlement
    /// @dev The record is stored `Delivered` at once: the mint lands in this contract, which is where B's tokens
    ///      are held, so `Initiated` and `Delivered` are both reached in this call (both events are emitted, in
    ///      that order) and `Initiated` is never visible between transactions.
    function initiate(SettlementTerms calldata terms) external nonReentrant {
        _initiate(terms);
    }

    /// @inheritdoc IInterbankSettlement
    function initiateBatch(SettlementTerms[] calldata terms) external nonReentrant {
        uint256 count = terms.length;
        if (count == 0) revert InterbankSettlementEmptyBatch();
        for (uint256 i = 0; i < count; ++i) {
            _initiate(terms[i]);
        }
    }

    /// @inheritdoc IInterbankSettlement
    function smelt(SettlementTerms calldata terms, bytes32 fiatRef) external nonReentrant {
        _smelt(terms, fiatRef);
    }

    /// @inheritdoc IInterbankSettlement
    function smeltBatch(SettlementTerms[] calldata terms, bytes32[] calldata fiatRefs) external nonReentrant {
        uint256 count = terms.length;
        if (count == 0) revert InterbankSettlementEmptyBatch();
        if (fiatRefs.length != count) revert InterbankSettlementBatchLengthMismatch(count, fiatRefs.length);
        for (uint256 i = 0; i < count; ++i) {
            _smelt(terms[i], fiatRefs[i]);
        }
    }

    /// @inheritdoc IInterbankSettlement
    function acknowledge(SettlementTerms calldata terms) external {
        _acknowledge(terms);
    }

    /// @inheritdoc IInterbankSettlement
    function acknowledgeBatch(SettlementTerms[] calldata terms) external {
        uint256 count = terms.length;
        if (count == 0) revert InterbankSettlementEmptyBatch();
        for (uint256 i = 0; i < count; ++i) {
            _acknowledge(terms[i]);
        }
    }

    /// @inheritdoc IInterbankSettlement
    function reject(SettlementTerms calldata terms, bytes32 reasonCode) external {
        address creditorBank = terms.creditorBank;
        _checkAgent(creditorBank);
        if (reasonCode == bytes32(0)) revert InterbankSettlementZeroReasonCode();
        _advance(terms, SettlementState.Delivered, SettlementState.Rejected);
        emit SettlementRejected(terms.id, terms.debtorBank, creditorBank, reasonCode);
    }

    /// @inheritdoc IInterbankSettlement
    function returnRejected(SettlementTerms calldata terms, bytes32 fiatRef) external nonReentrant {
        address debtorBank = terms.debtorBank;
        _checkAgent(debtorBank);
        if (fiatRef == bytes32(0)) revert InterbankSettlementZeroFiatRef();
        _advance(terms, SettlementState.Rejected, SettlementState.Returned);
        _releaseCorridor(debtorBank, terms.creditorBank, terms.amount);
        emit SettlementReturned(terms.id, debtorBank, fiatRef);
        _burnAtDebtor(debtorBank, terms.amount, fiatRef);
    }

    /// @inheritdoc IInterbankSettlement
    function refundExpired(SettlementTerms calldata terms, bytes32 fiatRef) external nonReentrant {
        address debtorBank = terms.debtorBank;
        _checkAgent(debtorBank);
        if (fiatRef == bytes32(0)) revert InterbankSettlementZeroFiatRef();
        _advance(terms, SettlementState.Expired, SettlementState.Refunded);
        _releaseCorridor(debtorBank, terms.creditorBank, terms.amount);
        emit SettlementRefunded(terms.id, debtorBank, fiatRef);
        _burnAtDebtor(debtorBank, terms.amount, fiatRef);
    }

    // ──────────────────────────────────────── administration ────────────────────────────────────────

    /// @inheritdoc IInterbankSettlement
    function registerBank(address bank, address agent) external onlyRole(BANK_ADMIN_ROLE) {
        if (agent == address(0)) revert InterbankSettlementInvalidAgent(agent);
        if (_agents[bank] != address(0)) revert InterbankSettlementBankAlreadyRegistered(bank);
        if (!_isTrustAccountOfToken(bank) || !_ledger.issuer(bank).registered) {
            revert InterbankSettlementInvalidBank(bank);
        }
        _agents[bank] = agent;
        emit BankRegistered(bank, agent);
    }

    /// @inheritdoc IInterbankSettlement
    function setBankAgent(address bank, address agent) external onlyRole(BANK_ADMIN_ROLE) {
        address previous = _agents[bank];
        if (previous == address(0)) revert InterbankSettlementUnknownBank(bank);
        if (agent == address(0)) revert InterbankSettlementInvalidAgent(agent);
        _agents[bank] = agent;
        emit BankAgentChanged(bank, previous, agent);
    }

    /// @inheritdoc IInterbankSettlement
    function setCorridorLimits(
        address debtorBank,
        address creditorBank,
        uint256 inFlightCap,
        uint256 windowCap,
        uint32 windowLength
    ) external onlyRole(CORRIDOR_ADMIN_ROLE) {
        if (debtorBank == creditorBank || _agents[debtorBank] == address(0) || _agents[creditorBank] == address(0))
            revert InterbankSettlementInvalidCorridor(debtorBank, creditorBank);
        if (
            inFlightCap == 0 ||
            inFlightCap > MAX_AMOUNT ||
            windowCap == 0 ||
            windowCap > MAX_AMOUNT ||
            windowLength == 0
        ) revert InterbankSettlementInvalidLimits(inFlightCap, windowCap, windowLength);
        CorridorSlots storage c = _corridors[debtorBank][creditorBank];
        CorridorLimits limits = c.limits;
        if (!limits.isOpen()) {
            // The first window starts now; the usage word is never zero again, so no payment pays for a fresh slot.
            c.usage = CorridorUsageLib.pack(0, 0, block.timestamp);
            _corridorList.push(CorridorKey(debtorBank, creditorBank));
        }
        c.limits = CorridorLimitsLib.pack(inFlightCap, windowCap, windowLength, limits.isPaused());
        emit CorridorLimitsSet(debtorBank, creditorBank, inFlightCap, windowCap, windowLength);
    }

    /// @inheritdoc IInterbankSettlement
    function pauseCorridor(address debtorBank, address creditorBank) external onlyRole(CORRIDOR_ADMIN_ROLE) {
        CorridorSlots storage c = _openCorridor(debtorBank, creditorBank);
        CorridorLimits limits = c.limits;
        if (limits.isPaused()) revert InterbankSettlementCorridorPaused(debtorBank, creditorBank);
        c.limits = limits.withPaused(true);
        emit CorridorPaused(debtorBank, creditorBank);
    }

    /// @inheritdoc IInterbankSettlement
    function unpauseCorridor(address debtorBank, address creditorBank) external onlyRole(CORRIDOR_ADMIN_ROLE) {
        CorridorSlots storage c = _openCorridor(debtorBank, creditorBank);
        CorridorLimits limits = c.limits;
        if (!limits.isPaused()) revert InterbankSettlementCorridorNotPaused(debtorBank, creditorBank);
        c.limits = limits.withPaused(false);
        emit CorridorUnpaused(debtorBank, creditorBank);
    }

    // ───────────────────────────────────────────── views ─────────────────────────────────────────────

    /// @inheritdoc IInterbankSettlement
    function token() external view returns (ITrustAccountToken) {
        return _token;
    }

    /// @inheritdoc IInterbankSettlement
    function ledger() external view returns (IReserveLedger) {
        return _ledger;
    }

    /// @inheritdoc IInterbankSettlement
    function stateOf(address debtorBank, SettlementId id) external view returns (SettlementState) {
        return _state(_records[debtorBank][id]);
    }

    /// @inheritdoc IInterbankSettlement
    /// @dev The narrowing cast is exact: the deadline field is 40 bits wide.
    function settlement(address debtorBank, SettlementId id) external view returns (SettlementRecord memory) {
        SettlementWord word = _records[debtorBank][id];
        return
            SettlementRecord({
                termsDigest: bytes32(word.digest()),
                deadline: uint40(word.deadline()),
                state: word.storedState()
            });
    }

    /// @inheritdoc IInterbankSettlement
    function hashTerms(SettlementTerms calldata terms) external pure returns (bytes32) {
        return bytes32(SettlementWordLib.digestOf(terms));
    }

    /// @inheritdoc IInterbankSettlement
    function agentOf(address bank) external view returns (address) {
        return _agents[bank];
    }

    /// @inheritdoc IInterbankSettlement
    /// @dev The narrowing casts are exact: each field is exactly as wide as its type.
    function corridor(address debtorBank, address creditorBank) external view returns (Corridor memory) {
        CorridorSlots storage c = _corridors[debtorBank][creditorBank];
        CorridorLimits limits = c.limits;
        CorridorUsage usage = c.usage;
        return
            Corridor({
                open: limits.isOpen(),
                paused: limits.isPaused(),
                inFlightCap: uint64(limits.inFlightCap()),
                windowCap: uint64(limits.windowCap()),
                windowLength: uint32(limits.windowLength()),
                inFlight: uint64(usage.inFlight()),
                sentInWindow: uint64(usage.sent()),
                windowStart: uint40(usage.windowStart())
            });
    }

    /// @inheritdoc IInterbankSettlement
    function availableToSend(address debtorBank, address creditorBank) external view returns (uint256) {
        CorridorSlots storage c = _corridors[debtorBank][creditorBank];
        CorridorLimits limits = c.limits;
        if (!limits.isOpen() || limits.isPaused()) return 0;
        CorridorUsage usage = c.usage;
        (uint256 sent, ) = _currentWindow(limits, usage);
        uint256 inFlightRoom = _room(limits.inFlightCap(), usage.inFlight());
        uint256 windowRoom = _room(limits.windowCap(), sent);
        return inFlightRoom < windowRoom ? inFlightRoom : windowRoom;
    }

    /// @inheritdoc IInterbankSettlement
    function totalInFlight() external view returns (uint256 total) {
        uint256 count = _corridorList.length;
        for (uint256 i = 0; i < count; ++i) {
            CorridorKey storage key = _corridorList[i];
            total += _corridors[key.debtorBank][key.creditorBank].usage.inFlight();
        }
    }

    /// @inheritdoc IInterbankSettlement
    function corridors() external view returns (address[] memory debtorBanks, address[] memory creditorBanks) {
        uint256 count = _corridorList.length;
        debtorBanks = new address[](count);
        creditorBanks = new address[](count);
        for (uint256 i = 0; i < count; ++i) {
            debtorBanks[i] = _corridorList[i].debtorBank;
            creditorBanks[i] = _corridorList[i].creditorBank;
        }
    }

    // ─────────────────────────────────────────── private ────────────────────────────────────────────

    /// @dev Starts one payment (see `initiate`), by the debtor bank's agent.
    function _initiate(SettlementTerms calldata terms) private {
        address debtorBank = terms.debtorBank;
        _checkAgent(debtorBank);
        SettlementId id = terms.id;
        uint256 amount = terms.amount;
        uint40 deadline = terms.deadline;
        if (SettlementId.unwrap(id) == bytes32(0)) revert InterbankSettlementZeroId();
        if (amount == 0) revert InterbankSettlementZeroAmount();
        if (terms.creditorAccountRef == bytes32(0)) revert InterbankSettlementZeroAccountRef();
        if (deadline <= block.timestamp) revert InterbankSettlementInvalidDeadline(deadline, block.timestamp);
        mapping(SettlementId => SettlementWord) storage records = _records[debtorBank];
        SettlementWord word = records[id];
        if (!word.isEmpty()) {
            revert InterbankSettlementInvalidState(debtorBank, id, _state(word), SettlementState.None);
        }
        address creditorBank = terms.creditorBank;
        _useCorridor(debtorBank, creditorBank, amount);
        records[id] = SettlementWordLib.pack(
            SettlementWordLib.digestOf(terms),
            deadline,
            uint8(SettlementState.Delivered)
        );
        emit SettlementInitiated(id, debtorBank, creditorBank, amount, terms.creditorAccountRef, deadline);
        emit SettlementDelivered(id, debtorBank, creditorBank);
        ITrustAccount(debtorBank).mintForSettlement(amount, SettlementId.unwrap(id));
    }

    /// @dev `Delivered` -> `Smelted` for one payment (see `smelt`), by the creditor bank's agent.
    function _smelt(SettlementTerms calldata terms, bytes32 fiatRef) private {
        address creditorBank = terms.creditorBank;
        _checkAgent(creditorBank);
        if (fiatRef == bytes32(0)) revert InterbankSettlementZeroFiatRef();
        _advance(terms, SettlementState.Delivered, SettlementState.Smelted);
        address debtorBank = terms.debtorBank;
        uint256 amount = terms.amount;
        emit SettlementSmelted(terms.id, debtorBank, creditorBank, amount, fiatRef);
        _ledger.transferIssuance(debtorBank, creditorBank, amount);
        _token.burn(amount, fiatRef);
    }

    /// @dev `Smelted` -> `Acknowledged` for one payment, by the debtor bank's agent.
    function _acknowledge(SettlementTerms calldata terms) private {
        address debtorBank = terms.debtorBank;
        _checkAgent(debtorBank);
        _advance(terms, SettlementState.Smelted, SettlementState.Acknowledged);
        _releaseCorridor(debtorBank, terms.creditorBank, terms.amount);
        emit SettlementAcknowledged(terms.id, debtorBank);
    }

    /// @dev Moves the payment of `terms` from state `from` to `to`: reverts unless it exists, was initiated with
    ///      exactly these terms and is in state `from` now (`Expired` derived from the stored deadline).
    function _advance(SettlementTerms calldata terms, SettlementState from, SettlementState to) private {
        address debtorBank = terms.debtorBank;
        SettlementId id = terms.id;
        mapping(SettlementId => SettlementWord) storage records = _records[debtorBank];
        SettlementWord word = records[id];
        if (word.isEmpty()) revert InterbankSettlementInvalidState(debtorBank, id, SettlementState.None, from);
        if (word.digest() != SettlementWordLib.digestOf(terms)) revert InterbankSettlementTermsMismatch(debtorBank, id);
        SettlementState current = _state(word);
        if (current != from) revert InterbankSettlementInvalidState(debtorBank, id, current, from);
        records[id] = word.withState(uint8(to));
    }

    /// @dev Checks the corridor's status and limits for a new payment of `amount`, rolls its window over if the
    ///      window ended, and adds `amount` to its in-flight and window usage.
    function _useCorridor(address debtorBank, address creditorBank, uint256 amount) private {
        CorridorSlots storage c = _corridors[debtorBank][creditorBank];
        CorridorLimits limits = c.limits;
        if (!limits.isOpen()) revert InterbankSettlementCorridorNotOpen(debtorBank, creditorBank);
        if (limits.isPaused()) revert InterbankSettlementCorridorPaused(debtorBank, creditorBank);
        CorridorUsage usage = c.usage;
        uint256 inFlight = usage.inFlight();
        uint256 cap = limits.inFlightCap();
        if (amount > _room(cap, inFlight)) {
            revert InterbankSettlementInFlightLimitExceeded(debtorBank, creditorBank, inFlight, cap, amount);
        }
        (uint256 sent, uint256 windowStart) = _currentWindow(limits, usage);
        cap = limits.windowCap();
        if (amount > _room(cap, sent)) {
            revert InterbankSettlementWindowLimitExceeded(debtorBank, creditorBank, sent, cap, amount);
        }
        // Both sums are at most their cap (< 2**64), checked above, so each fits its 64-bit field.
        unchecked {
            c.usage = CorridorUsageLib.pack(inFlight + amount, sent + amount, windowStart);
        }
    }

    /// @dev Takes `amount` off the in-flight usage of a corridor when a payment's tokens leave this contract.
    function _releaseCorridor(address debtorBank, address creditorBank, uint256 amount) private {
        CorridorSlots storage c = _corridors[debtorBank][creditorBank];
        // Cannot borrow from the next field: `amount` was added to the low 64 bits by this payment's `initiate`
        // and is taken off once, by the one step that closes it.
        c.usage = c.usage.withReleased(amount);
    }

    /// @dev Has the debtor bank's trust account pull `amount` from this contract and burn it against `fiatRef`.
    function _burnAtDebtor(address debtorBank, uint256 amount, bytes32 fiatRef) private {
        _token.forceApprove(debtorBank, amount);
        ITrustAccount(debtorBank).burnForSettlement(amount, fiatRef);
    }

    /// @dev Reverts unless the caller is the agent of the registered `bank`.
    function _checkAgent(address bank) private view {
        address agent = _agents[bank];
        if (agent == address(0)) revert InterbankSettlementUnknownBank(bank);
        if (agent != msg.sender) revert InterbankSettlementUnauthorizedAgent(bank, msg.sender);
    }

    /// @dev The storage of an open corridor; reverts with `InterbankSettlementCorridorNotOpen` otherwise.
    function _openCorridor(address debtorBank, address creditorBank) private view returns (CorridorSlots storage c) {
        c = _corridors[debtorBank][creditorBank];
        if (!c.limits.isOpen()) revert InterbankSettlementCorridorNotOpen(debtorBank, creditorBank);
    }

    /// @dev Whether `bank` is a contract whose `token()` is this contract's token.
    function _isTrustAccountOfToken(address bank) private view returns (bool) {
        if (bank.code.length == 0) return false;
        try ITrustAccount(bank).token() returns (ITrustAccountToken bankToken) {
            return bankToken == _token;
        } catch {
            return false;
        }
    }

    /// @dev The state of a record word now: `None` for an empty word, `Expired` for a `Delivered` one whose
    ///      deadline has passed, else the stored state.
    function _state(SettlementWord word) private view returns (SettlementState) {
        SettlementState stored = word.storedState();
        if (stored == SettlementState.Delivered && block.timestamp > word.deadline()) return SettlementState.Expired;
        return stored;
    }

    /// @dev The window the next payment falls in: its usage so far and its start. Windows are fixed, `windowLength`
    ///      seconds each, aligned to the corridor's first window; a window that ended leaves nothing behind.
    function _currentWindow(
        CorridorLimits limits,
        CorridorUsage usage
    ) private view returns (uint256 sent, uint256 start) {
        start = usage.windowStart();
        uint256 length = limits.windowLength();
        // `start` is never in the future: it is set to a past or present block time, or advanced to one below.
        uint256 elapsed = block.timestamp - start;
        if (elapsed < length) return (usage.sent(), start);
        // A whole number of windows later, still at or before now; length > 0 for an open corridor.
        return (0, start + elapsed - (elapsed % length));
    }

    /// @dev The room under `cap` above `used` (0 if a lowered cap is below `used`).
    function _room(uint256 cap, uint256 used) private pure returns (uint256) {
        return cap > used ? cap - used : 0;
    }
}
