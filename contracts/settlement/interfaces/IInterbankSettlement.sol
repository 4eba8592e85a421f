// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IReserveLedger} from "../../reserves/interfaces/IReserveLedger.sol";
import {ITrustAccountToken} from "./ITrustAccountToken.sol";

/// @notice The id of one interbank payment: its ISO 20022 end-to-end id or UETR, as `bytes32`. Ids are scoped by
///         the debtor bank: a payment is named by `(debtorBank, id)`, and only the debtor bank uses its ids.
type SettlementId is bytes32;

/// @title IInterbankSettlement
/// @notice Moves money between banks on the shared ledger, one payment at a time. Bank A's agent calls
///         `initiate`: A's `TrustAccount` mints the amount straight into this contract, which holds it for bank B.
///         B's agent credits its customer in fiat and calls `smelt`: the tokens are burned and A's outstanding
///         issuance becomes B's claim on A in the `ReserveLedger`. A's agent then `acknowledge`s. B may instead
///         `reject` the payment (A then `returnRejected`s it), and if B does nothing before the deadline the
///         payment expires and A `refundExpired`s it; both burn the tokens at A's trust account, against A's
///         fiat reference.
/// @dev Banks are identified by their `TrustAccount` address; a payment by its debtor bank and its id (another
///      bank cannot take an id the debtor bank means to use). Each payment is one storage word: the top 208 bits
///      of `keccak256(abi.encode(terms))`, the deadline and the state. Every call after `initiate` passes the
///      terms again (the agents have them from `SettlementInitiated`) and they are checked against that word.
///      Amounts are minor units of the token's currency.
interface IInterbankSettlement {
    /// @notice Where a payment stands.
    /// @dev `Initiated` exists only inside `initiate`'s transaction (the mint delivers to this contract at once,
    ///      so the record is stored `Delivered`); `Expired` is never stored: `stateOf` derives it from a
    ///      `Delivered` record whose deadline has passed.
    enum SettlementState {
        None,
        Initiated,
        Delivered,
        Smelted,
        Acknowledged,
        Rejected,
        Returned,
        Expired,
        Refunded
    }

    /// @notice The terms of one payment, fixed by `initiate` and passed again to every later call.
    /// @param id The payment's ISO 20022 end-to-end id or UETR; not zero, used once ever by `debtorBank` (other
    ///        banks' payments may carry the same id).
    /// @param debtorBank The paying bank (A): its `TrustAccount`, which mints the amount.
    /// @param creditorBank The receiving bank (B): its `TrustAccount`.
    /// @param amount The minor units paid, not zero, within the corridor's limits.
    /// @param creditorAccountRef The hash of the beneficiary's account at B (B's agent knows the preimage).
    /// @param deadline The last second (block time, inclusive) at which B may smelt or reject.
    // Never stored (only its digest is), so storage packing does not apply; the field order is the ABI encoding
    // the agents hash.
    // solhint-disable-next-line gas-struct-packing
    struct SettlementTerms {
        SettlementId id;
        address debtorBank;
        address creditorBank;
        uint256 amount;
        bytes32 creditorAccountRef;
        uint40 deadline;
    }

    /// @notice What is stored for one payment.
    /// @param termsDigest `keccak256(abi.encode(terms))` with its low 48 bits cleared (see `hashTerms`).
    /// @param deadline The terms' deadline.
    /// @param state The stored state (`Delivered` for an expired payment; `stateOf` derives `Expired`).
    struct SettlementRecord {
        bytes32 termsDigest;
        uint40 deadline;
        SettlementState state;
    }

    /// @notice The limits and usage of one corridor (an ordered pair of banks).
    /// @param open Whether `setCorridorLimits` opened it.
    /// @param paused Whether new payments on it are refused (open ones still complete).
    /// @param inFlightCap The most that may be in flight (initiated, not yet acknowledged, returned or refunded).
    /// @param windowCap The most that may be initiated in one window.
    /// @param windowLength The window's length in seconds; windows are fixed, aligned to `windowStart`.
    /// @param inFlight The amount in flight now.
    /// @param sentInWindow The amount initiated in the window that starts at `windowStart`.
    /// @param windowStart The start of the window `sentInWindow` counts (as last written; a later window may have
    ///        begun since, see `availableToSend`).
    struct Corridor {
        bool open;
        bool paused;
        uint64 inFlightCap;
        uint64 windowCap;
        uint32 windowLength;
        uint64 inFlight;
        uint64 sentInWindow;
        uint40 windowStart;
    }

    /// @notice Bank A's agent initiated payment `id`: A's trust account minted `amount` into this contract.
    /// @param id The payment.
    /// @param debtorBank A's trust account.
    /// @param creditorBank B's trust account.
    /// @param amount The minor units.
    /// @param creditorAccountRef The hashed beneficiary account at B.
    /// @param deadline The last second at which B may smelt or reject.
    event SettlementInitiated(
        SettlementId indexed id,
        address indexed debtorBank,
        address indexed creditorBank,
        uint256 amount,
        bytes32 creditorAccountRef,
        uint40 deadline
    );

    /// @notice The tokens of payment `id` are held by this contract for bank B (emitted right after
    ///         `SettlementInitiated`, in the same transaction).
    /// @param id The payment.
    /// @param debtorBank A's trust account.
    /// @param creditorBank B's trust account.
    event SettlementDelivered(SettlementId indexed id, address indexed debtorBank, address indexed creditorBank);

    /// @notice Bank B credited the beneficiary in fiat under `fiatRef`; the tokens were burned and `amount` of
    ///         A's outstanding issuance became B's claim on A in the `ReserveLedger`.
    /// @param id The payment.
    /// @param debtorBank A's trust account.
    /// @param creditorBank B's trust account.
    /// @param amount The minor units burned.
    /// @param fiatRef B's reference of the fiat credit.
    event SettlementSmelted(
        SettlementId indexed id,
        address indexed debtorBank,
        address indexed creditorBank,
        uint256 amount,
        bytes32 fiatRef
    );

    /// @notice Bank A finalised payment `id`.
    /// @param id The payment.
    /// @param debtorBank A's trust account.
    event SettlementAcknowledged(SettlementId indexed id, address indexed debtorBank);

    /// @notice Bank B rejected payment `id` for `reasonCode`; the tokens stay held until A takes them back.
    /// @param id The payment.
    /// @param debtorBank A's trust account.
    /// @param creditorBank B's trust account.
    /// @param reasonCode Why (for example the ISO 20022 reason code "AC01", "AC04" or "AC06" as `bytes32`).
    event SettlementRejected(
        SettlementId indexed id,
        address indexed debtorBank,
        address indexed creditorBank,
        bytes32 reasonCode
    );

    /// @notice Bank A took the tokens of rejected payment `id` back and re-credited its customer under
    ///         `fiatRef`; A's trust account burned them, reducing A's outstanding issuance.
    /// @param id The payment.
    /// @param debtorBank A's trust account.
    /// @param fiatRef A's reference of the fiat re-credit.
    event SettlementReturned(SettlementId indexed id, address indexed debtorBank, bytes32 fiatRef);

    /// @notice Bank A took the tokens of expired payment `id` back and re-credited its customer under `fiatRef`;
    ///         A's trust account burned them, reducing A's outstanding issuance.
    /// @param id The payment.
    /// @param debtorBank A's trust account.
    /// @param fiatRef A's reference of the fiat re-credit.
    event SettlementRefunded(SettlementId indexed id, address indexed debtorBank, bytes32 fiatRef);

    /// @notice `bank` (a trust account) was registered, with `agent` acting for it.
    /// @param bank The bank's trust account.
    /// @param agent The bank's agent.
    event BankRegistered(address indexed bank, address indexed agent);

    /// @notice The agent of `bank` changed.
    /// @param bank The bank's trust account.
    /// @param previousAgent The former agent.
    /// @param newAgent The new agent.
    event BankAgentChanged(address indexed bank, address indexed previousAgent, address indexed newAgent);

    /// @notice The limits of the corridor from `debtorBank` to `creditorBank` were set (the first time, it opened).
    /// @param debtorBank The paying bank.
    /// @param creditorBank The receiving bank.
    /// @param inFlightCap The most in flight at once.
    /// @param windowCap The most initiated per window.
    /// @param windowLength The window's length in seconds.
    event CorridorLimitsSet(
        address indexed debtorBank,
        address indexed creditorBank,
        uint256 inFlightCap,
        uint256 windowCap,
        uint32 windowLength
    );

    /// @notice New payments from `debtorBank` to `creditorBank` are refused until the corridor is unpaused.
    /// @param debtorBank The paying bank.
    /// @param creditorBank The receiving bank.
    event CorridorPaused(address indexed debtorBank, address indexed creditorBank);

    /// @notice The corridor from `debtorBank` to `creditorBank` accepts new payments again.
    /// @param debtorBank The paying bank.
    /// @param creditorBank The receiving bank.
    event CorridorUnpaused(address indexed debtorBank, address indexed creditorBank);

    /// @notice The token given at construction is zero.
    /// @param token The token given.
    error InterbankSettlementInvalidToken(address token);

    /// @notice The ledger given at construction is zero or is not the token's ledger.
    /// @param ledger The ledger given.
    error InterbankSettlementInvalidLedger(address ledger);

    /// @notice Payment `id` of `debtorBank` is in state `current`, not in the `expected` state for this step.
    /// @param debtorBank The payment's debtor bank.
    /// @param id The payment.
    /// @param current Its state (`None` if unknown, `Expired` if its deadline passed while `Delivered`).
    /// @param expected The state the step needs.
    error InterbankSettlementInvalidState(
        address debtorBank,
        SettlementId id,
        SettlementState current,
        SettlementState expected
    );

    /// @notice The terms passed for payment `id` of `debtorBank` are not the terms it was initiated with.
    /// @param debtorBank The payment's debtor bank.
    /// @param id The payment.
    error InterbankSettlementTermsMismatch(address debtorBank, SettlementId id);

    /// @notice `bank` is not a registered bank.
    /// @param bank The address given.
    error InterbankSettlementUnknownBank(address bank);

    /// @notice `caller` is not the agent of `bank`.
    /// @param bank The bank that must act.
    /// @param caller The caller.
    error InterbankSettlementUnauthorizedAgent(address bank, address caller);

    /// @notice `bank` cannot be registered: zero, not a trust account of this token, or not an issuer in the ledger.
    /// @param bank The address given.
    error InterbankSettlementInvalidBank(address bank);

    /// @notice `bank` is already registered.
    /// @param bank The bank.
    error InterbankSettlementBankAlreadyRegistered(address bank);

    /// @notice The agent is the zero address.
    /// @param agent The agent given.
    error InterbankSettlementInvalidAgent(address agent);

    /// @notice The payment id is zero.
    error InterbankSettlementZeroId();

    /// @notice The amount is zero.
    error InterbankSettlementZeroAmount();

    /// @notice The creditor account reference is zero.
    error InterbankSettlementZeroAccountRef();

    /// @notice The fiat reference is zero.
    error InterbankSettlementZeroFiatRef();

    /// @notice The rejection reason code is zero.
    error InterbankSettlementZeroReasonCode();

    /// @notice A batch call (`initiateBatch`, `smeltBatch`, `acknowledgeBatch`) was given no payments.
    error InterbankSettlementEmptyBatch();

    /// @notice `smeltBatch` was given a different number of fiat references than payments.
    /// @param payments The number of payments' terms.
    /// @param fiatRefs The number of fiat references.
    error InterbankSettlementBatchLengthMismatch(uint256 payments, uint256 fiatRefs);

    /// @notice The deadline is not after the current block time.
    /// @param deadline The deadline given.
    /// @param currentTime The current block time.
    error InterbankSettlementInvalidDeadline(uint40 deadline, uint256 currentTime);

    /// @notice A corridor needs two different registered banks.
    /// @param debtorBank The paying bank given.
    /// @param creditorBank The receiving bank given.
    error InterbankSettlementInvalidCorridor(address debtorBank, address creditorBank);

    /// @notice The corridor from `debtorBank` to `creditorBank` was never opened.
    /// @param debtorBank The paying bank.
    /// @param creditorBank The receiving bank.
    error InterbankSettlementCorridorNotOpen(address debtorBank, address creditorBank);

    /// @notice The corridor from `debtorBank` to `creditorBank` is paused (or, for `pauseCorridor`, already so).
    /// @param debtorBank The paying bank.
    /// @param creditorBank The receiving bank.
    error InterbankSettlementCorridorPaused(address debtorBank, address creditorBank);

    /// @notice `unpauseCorridor` on a corridor that is not paused.
    /// @param debtorBank The paying bank.
    /// @param creditorBank The receiving bank.
    error InterbankSettlementCorridorNotPaused(address debtorBank, address creditorBank);

    /// @notice Corridor limits must be positive, the caps at most `MAX_AMOUNT`.
    /// @param inFlightCap The in-flight cap given.
    /// @param windowCap The window cap given.
    /// @param windowLength The window length given.
    error InterbankSettlementInvalidLimits(uint256 inFlightCap, uint256 windowCap, uint32 windowLength);

    /// @notice The payment would take the corridor's amount in flight above its cap.
    /// @param debtorBank The paying bank.
    /// @param creditorBank The receiving bank.
    /// @param inFlight The amount in flight.
    /// @param cap The in-flight cap.
    /// @param amount The payment's amount.
    error InterbankSettlementInFlightLimitExceeded(
        address debtorBank,
        address creditorBank,
        uint256 inFlight,
        uint256 cap,
        uint256 amount
    );

    /// @notice The payment would take the amount initiated in the corridor's current window above its cap.
    /// @param debtorBank The paying bank.
    /// @param creditorBank The receiving bank.
    /// @param sentInWindow The amount initiated in the current window.
    /// @param cap The window cap.
    /// @param amount The payment's amount.
    error InterbankSettlementWindowLimitExceeded(
        address debtorBank,
        address creditorBank,
        uint256 sentInWindow,
        uint256 cap,
        uint256 amount
    );

    /// @notice Starts a payment: checks the terms, the corridor's limits and that `terms.id` is new for
    ///         `terms.debtorBank`, then has A's trust account mint `terms.amount` straight into this contract, held
    ///         for B. Records the payment `Delivered` and emits `SettlementInitiated` then `SettlementDelivered`.
    /// @dev Only the agent of `terms.debtorBank`. The mint goes through `BankToken.mint` and the reserve ledger's
    ///      `onMint`, whose errors bubble up.
    /// @param terms The payment's terms; `deadline` after the current block time.
    function initiate(SettlementTerms calldata terms) external;

    /// @notice `initiate` for several payments in one transaction, in order; all or none.
    /// @dev The caller must be the agent of every payment's debtor bank; each payment is checked against its
    ///      corridor as it comes, so a batch over a corridor's limit reverts whole.
    /// @param terms The payments' terms; not empty.
    function initiateBatch(SettlementTerms[] calldata terms) external;

    /// @notice Bank B credited the beneficiary in fiat: burns the held tokens and moves `terms.amount` of A's
    ///         outstanding issuance to B's claim on A in the ledger. `Delivered` -> `Smelted`.
    /// @dev Only the agent of `terms.creditorBank`, at or before the deadline.
    /// @param terms The payment's terms, as initiated.
    /// @param fiatRef B's reference of the fiat credit, not zero (logged; the payment id makes the step unique).
    function smelt(SettlementTerms calldata terms, bytes32 fiatRef) external;

    /// @notice `smelt` for several payments in one transaction, in order; all or none.
    /// @dev The caller must be the agent of every payment's creditor bank.
    /// @param terms The payments' terms, as initiated; not empty.
    /// @param fiatRefs B's reference of each fiat credit, one per payment, none zero.
    function smeltBatch(SettlementTerms[] calldata terms, bytes32[] calldata fiatRefs) external;

    /// @notice Bank A finalises a smelted payment. `Smelted` -> `Acknowledged`.
    /// @dev Only the agent of `terms.debtorBank`.
    /// @param terms The payment's terms, as initiated.
    function acknowledge(SettlementTerms calldata terms) external;

    /// @notice `acknowledge` for several payments in one transaction; all or none.
    /// @dev The caller must be the agent of every payment's debtor bank.
    /// @param terms The payments' terms, as initiated; not empty.
    function acknowledgeBatch(SettlementTerms[] calldata terms) external;

    /// @notice Bank B refuses the payment (unknown, closed or blocked account, ...); the tokens stay held until
    ///         A takes them back with `returnRejected`. `Delivered` -> `Rejected`.
    /// @dev Only the agent of `terms.creditorBank`, at or before the deadline.
    /// @param terms The payment's terms, as initiated.
    /// @param reasonCode Why, not zero (for example the ISO 20022 code "AC04" as `bytes32`).
    function reject(SettlementTerms calldata terms, bytes32 reasonCode) external;

    /// @notice Bank A takes a rejected payment back: A's trust account burns the tokens against `fiatRef`, A's
    ///         re-credit of its customer, reducing A's outstanding issuance. `Rejected` -> `Returned`.
    /// @dev Only the agent of `terms.debtorBank`. The trust account spends `fiatRef` (single-use there).
    /// @param terms The payment's terms, as initiated.
    /// @param fiatRef A's reference of the fiat re-credit, not zero, not used before at A's trust account.
    function returnRejected(SettlementTerms calldata terms, bytes32 fiatRef) external;

    /// @notice Bank A takes back a payment B neither smelted nor rejected before the deadline: as
    ///         `returnRejected`. `Expired` -> `Refunded`.
    /// @dev Only the agent of `terms.debtorBank`, after the deadline.
    /// @param terms The payment's terms, as initiated.
    /// @param fiatRef A's reference of the fiat re-credit, not zero, not used before at A's trust account.
    function refundExpired(SettlementTerms calldata terms, bytes32 fiatRef) external;

    /// @notice Registers a bank by its trust account, with the agent that acts for it.
    /// @dev Only `BANK_ADMIN_ROLE`. The trust account must be bound to this contract's token and be a registered
    ///      issuer in the ledger.
    /// @param bank The bank's `TrustAccount`.
    /// @param agent The bank's agent, not zero.
    function registerBank(address bank, address agent) external;

    /// @notice Replaces the agent of a registered bank.
    /// @dev Only `BANK_ADMIN_ROLE`.
    /// @param bank A registered bank.
    /// @param agent The new agent, not zero.
    function setBankAgent(address bank, address agent) external;

    /// @notice Sets the limits of the corridor from `debtorBank` to `creditorBank`, opening it the first time
    ///         (its first window starts now). Lowering a cap below the current usage only refuses new payments.
    /// @dev Only `CORRIDOR_ADMIN_ROLE`.
    /// @param debtorBank The paying bank, registered.
    /// @param creditorBank The receiving bank, registered, not `debtorBank`.
    /// @param inFlightCap The most in flight at once, 1..`MAX_AMOUNT`.
    /// @param windowCap The most initiated per window, 1..`MAX_AMOUNT`.
    /// @param windowLength The window's length in seconds, at least 1.
    function setCorridorLimits(
        address debtorBank,
        address creditorBank,
        uint256 inFlightCap,
        uint256 windowCap,
        uint32 windowLength
    ) external;

    /// @notice Refuses new payments from `debtorBank` to `creditorBank`; other corridors (the reverse one too)
    ///         are unaffected, and payments already initiated on this one can still complete.
    /// @dev Only `CORRIDOR_ADMIN_ROLE`.
    /// @param debtorBank The paying bank.
    /// @param creditorBank The receiving bank.
    function pauseCorridor(address debtorBank, address creditorBank) external;

    /// @notice Lets new payments from `debtorBank` to `creditorBank` through again.
    /// @dev Only `CORRIDOR_ADMIN_ROLE`.
    /// @param debtorBank The paying bank.
    /// @param creditorBank The receiving bank.
    function unpauseCorridor(address debtorBank, address creditorBank) external;

    /// @notice The token this contract holds and burns.
    /// @return The token.
    function token() external view returns (ITrustAccountToken);

    /// @notice The reserve ledger where smelted payments become interbank claims.
    /// @return The ledger.
    function ledger() external view returns (IReserveLedger);

    /// @notice The state of payment `id` of `debtorBank` now, with `Expired` derived from its deadline.
    /// @param debtorBank The payment's debtor bank (its trust account).
    /// @param id The payment.
    /// @return The state (`None` if unknown).
    function stateOf(address debtorBank, SettlementId id) external view returns (SettlementState);

    /// @notice What is stored for payment `id` of `debtorBank` (all zero if unknown).
    /// @param debtorBank The payment's debtor bank (its trust account).
    /// @param id The payment.
    /// @return The record.
    function settlement(address debtorBank, SettlementId id) external view returns (SettlementRecord memory);

    /// @notice The digest of `terms` that a record stores: `keccak256(abi.encode(terms))` with the low 48 bits
    ///         cleared.
    /// @param terms The terms.
    /// @return The digest.
    function hashTerms(SettlementTerms calldata terms) external pure returns (bytes32);

    /// @notice The agent of `bank`.
    /// @param bank The bank's trust account.
    /// @return The agent (zero if the bank is not registered).
    function agentOf(address bank) external view returns (address);

    /// @notice The limits and usage of the corridor from `debtorBank` to `creditorBank`.
    /// @param debtorBank The paying bank.
    /// @param creditorBank The receiving bank.
    /// @return The corridor (all zero if never opened).
    function corridor(address debtorBank, address creditorBank) external view returns (Corridor memory);

    /// @notice The largest amount one payment from `debtorBank` to `creditorBank` could have right now: the
    ///         smaller of the room under the in-flight cap and under the current window's cap.
    /// @param debtorBank The paying bank.
    /// @param creditorBank The receiving bank.
    /// @return The minor units (0 if the corridor is not open or is paused).
    function availableToSend(address debtorBank, address creditorBank) external view returns (uint256);

    /// @notice The sum of the amounts in flight: payments initiated and not yet acknowledged, returned or
    ///         refunded (`Delivered`, expired, `Rejected` or `Smelted`).
    /// @dev Sums every corridor's `inFlight` (a short list: ordered pairs of banks). What this contract holds is
    ///      this sum less the smelted payments not yet acknowledged (their tokens are burned), plus any tokens
    ///      someone sent here directly (those stay here).
    /// @return The minor units.
    function totalInFlight() external view returns (uint256);

    /// @notice Every corridor ever opened, in opening order.
    /// @return debtorBanks The paying bank of each corridor.
    /// @return creditorBanks The receiving bank of each corridor, at the same index.
    function corridors() external view returns (address[] memory debtorBanks, address[] memory creditorBanks);
}
