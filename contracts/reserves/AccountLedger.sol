// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IAccountLedger} from "./interfaces/IAccountLedger.sol";

/// @title AccountLedger
/// @notice One bank's link between its customers' card accounts and on-chain balances: a central fiat account, a
///         central token account backed by the `BankToken` this contract holds, and one profile per wallet.
/// @dev Roles:
///      - `DEFAULT_ADMIN_ROLE` (one holder, handed over in two steps after a delay): grants and revokes roles.
///      - `LEDGER_ADMIN_ROLE`: opens and closes profiles, sets limits, the minimum ratio and the treasury.
///      - `GATEWAY_ROLE` (the off-chain card gateway): holds, captures, releases, debits, credits, reversals (in
///        full or in part), conversions, forced holds and debits (advices), key voids (`voidKey`: settles an
///        operation of unknown fate as never posted), and batches of them (`execute`).
///      - `TREASURER_ROLE`: funds and defunds the central token account, records fiat deposits and withdrawals.
///
///      Invariants: `centralFiat == sum(profile.fiat)`, `tokenLiabilities == sum(profile.token)`,
///      `totalHeld == sum(profile.held)`, `profile.held <= profile.token`, `token.balanceOf(this) >= centralToken`
///      (tokens sent to the ledger directly are not counted). Only conversions move value between the two
///      central accounts. A debit or capture lowers the liabilities but not `centralToken`: the card scheme
///      settles in fiat off chain and the treasurer defunds later.
///
///      Ratio rule: an operation that lowers `reserveRatioBps()` and leaves it below `minRatioBps` reverts with
///      `RatioBreached`; the comparison is on the rounded-down basis points the view reports. Only operations
///      that can lower the ratio check it: `defundTokens`, `credit`, `reverse`/`reverseAmount`, `convertToFiat`.
///
///      Per-transaction limit: a profile's non-zero `limit` bounds each hold, debit and credit (a refund is a
///      credit). Captures (bounded by their hold), reversals (bounded by their original), conversions (the value
///      stays the customer's) and forced holds and debits (advices the scheme already approved) are not limited.
///
///      Reversals: an operation's record keeps its outstanding amount. A reversal of `amount` (0 for all that
///      is left) gives back, takes back or releases exactly that, at most the outstanding amount
///      (`ReversalExceedsOutstanding`), and lowers the outstanding amount by it; the original becomes
///      `Reversed` when nothing is left. So the parts never add up to more than the original.
///
///      Gas and widths. Every amount and total is at most `MAX_AMOUNT` = 2**80 - 1 minor units (amounts are in
///      the token's decimals, which equal the currency's ISO 4217 minor unit, as in `ReserveLedger`), so the hot
///      state packs: a profile's `token | held | limit | open | exists` in one word, `centralToken |
///      tokenLiabilities | totalHeld | minRatioBps` in one word, and an operation's `wallet | kind | status |
///      amount` in one word (its `ref` in a second word, written only when non-zero). A hold or a debit thus
///      writes three words: the profile, the totals and the new operation record; a reversal rewrites the
///      original's one word (status and outstanding amount) besides.
///
///      Reentrancy: token transfers happen last (checks, effects, interactions) and the token is the bank's own
///      `BankToken`, which calls no hooks; fee-on-transfer tokens are not supported.
///
///      Profiles: closing is final; the wallet and the account id stay taken, so a key or event that names them
///      can never come to mean another customer.
contract AccountLedger is IAccountLedger, AccessControlDefaultAdminRules {
    using SafeERC20 for IERC20;

    /// @dev A profile's hot word (`token`, `held`, `limit`, `open`, `exists`), its fiat, its account id.
    struct ProfileRecord {
        uint80 token;
        uint80 held;
        uint80 limit;
        bool open;
        bool exists;
        uint80 fiat;
        bytes32 accountId;
    }

    /// @dev The token totals and the minimum ratio, one word.
    struct Totals {
        uint80 centralToken;
        uint80 tokenLiabilities;
        uint80 totalHeld;
        uint16 minRatioBps;
    }

    /// @dev One recorded operation: one word (`wallet | kind | status | amount`), plus `ref` only for captures,
    ///      releases and reversals. `amount` is the outstanding amount (lowered by partial reversals) until the
    ///      record is `Reversed`; then it is stale and means 0. Packed by hand (solhint's heuristic miscounts
    ///      enums).
    // solhint-disable-next-line gas-struct-packing
    struct OperationRecord {
        address wallet;
        OperationKind kind;
        OperationStatus status;
        uint80 amount;
        bytes32 ref;
    }

    /// @notice Opens and closes profiles, sets limits, the minimum ratio and the treasury.
    bytes32 public constant LEDGER_ADMIN_ROLE = keccak256("LEDGER_ADMIN_ROLE");
    /// @notice Runs card operations: the off-chain gateway.
    bytes32 public constant GATEWAY_ROLE = keccak256("GATEWAY_ROLE");
    /// @notice Funds and defunds central tokens, records fiat deposits and withdrawals.
    bytes32 public constant TREASURER_ROLE = keccak256("TREASURER_ROLE");
    /// @notice A full reserve, in basis points: the largest minimum ratio.
    uint16 public constant MAX_RATIO_BPS = 10_000;
    /// @notice The largest amount, limit and total the ledger stores.
    uint256 public constant MAX_AMOUNT = type(uint80).max;

    IERC20 private immutable _token;

    Totals private _totals;
    uint80 private _centralFiat;
    address private _treasury;
    mapping(address wallet => ProfileRecord) private _profiles;
    mapping(bytes32 accountId => address wallet) private _wallets;
    mapping(bytes32 key => OperationRecord) private _operations;

    /// @dev Only the ledger itself (a batch) may call.
    modifier onlySelf() {
        _checkSelf();
        _;
    }

    /// @param initialAdmin The single holder of `DEFAULT_ADMIN_ROLE`.
    /// @param initialAdminDelay The delay, in seconds, before a default admin handover can be accepted.
    /// @param token_ The `BankToken` the ledger holds.
    /// @param minRatioBps_ The initial minimum reserve ratio, 0..10_000 basis points.
    constructor(
        address initialAdmin,
        uint48 initialAdminDelay,
        IERC20 token_,
        uint16 minRatioBps_
    ) AccessControlDefaultAdminRules(initialAdminDelay, initialAdmin) {
        if (address(token_) == address(0)) revert AccountLedgerZeroAddress();
        if (minRatioBps_ > MAX_RATIO_BPS) revert RatioOutOfRange(minRatioBps_);
        _token = token_;
        _totals.minRatioBps = minRatioBps_;
        emit MinRatioSet(0, minRatioBps_);
    }

    // ------------------------------------------------------------------ profile administration

    /// @inheritdoc IAccountLedger
    function openProfile(bytes32 accountId, address wallet, uint256 limit) external onlyRole(LEDGER_ADMIN_ROLE) {
        if (wallet == address(0)) revert AccountLedgerZeroAddress();
        if (accountId == bytes32(0)) revert ZeroAccountId();
        ProfileRecord storage p = _profiles[wallet];
        if (p.exists) revert ProfileExists(wallet);
        address owner = _wallets[accountId];
        if (owner != address(0)) revert AccountIdTaken(accountId, owner);
        p.limit = _toAmount(limit);
        p.open = true;
        p.exists = true;
        p.accountId = accountId;
        _wallets[accountId] = wallet;
        emit ProfileOpened(wallet, accountId, limit);
    }

    /// @inheritdoc IAccountLedger
    function setLimit(address wallet, uint256 limit) external onlyRole(LEDGER_ADMIN_ROLE) {
        ProfileRecord storage p = _openProfile(wallet);
        uint256 previous = p.limit;
        p.limit = _toAmount(limit);
        emit LimitSet(wallet, previous, limit);
    }

    /// @inheritdoc IAccountLedger
    function closeProfile(address wallet) external onlyRole(LEDGER_ADMIN_ROLE) {
        ProfileRecord storage p = _openProfile(wallet);
        if (p.fiat != 0 || p.token != 0 || p.held != 0) revert ProfileNotEmpty(wallet, p.fiat, p.token, p.held);
        p.open = false;
        emit AccountProfileClosed(wallet, p.accountId);
    }

    /// @inheritdoc IAccountLedger
    /// @dev Takes effect for the next operation; operations that raise or keep the ratio stay allowed below it.
    function setMinRatio(uint16 bps) external onlyRole(LEDGER_ADMIN_ROLE) {
        if (bps > MAX_RATIO_BPS) revert RatioOutOfRange(bps);
        uint16 previous = _totals.minRatioBps;
        _totals.minRatioBps = bps;
        emit MinRatioSet(previous, bps);
    }

    /// @inheritdoc IAccountLedger
    function setTreasury(address newTreasury) external onlyRole(LEDGER_ADMIN_ROLE) {
        if (newTreasury == address(0)) revert AccountLedgerZeroAddress();
        address previous = _treasury;
        _treasury = newTreasury;
        emit TreasurySet(previous, newTreasury);
    }

    // ------------------------------------------------------------------ treasurer

    /// @inheritdoc IAccountLedger
    /// @dev The caller must have approved the ledger for `amount`.
    function fundTokens(bytes32 key, uint256 amount) external onlyRole(TREASURER_ROLE) {
        OperationRecord storage r = _claimKey(key);
        _checkAmount(amount);
        Totals storage t = _totals;
        t.centralToken = _toAmount(uint256(t.centralToken) + amount);
        _recordDone(r, msg.sender, OperationKind.FundTokens, amount);
        emit TokensFunded(key, msg.sender, amount);
        _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IAccountLedger
    function defundTokens(bytes32 key, address to, uint256 amount) external onlyRole(TREASURER_ROLE) {
        OperationRecord storage r = _claimKey(key);
        _checkAmount(amount);
        if (to == address(0)) revert AccountLedgerZeroAddress();
        Totals memory t = _totals;
        if (amount > t.centralToken) revert InsufficientCentralTokens(t.centralToken, amount);
        // Cannot underflow: amount <= centralToken, checked above.
        uint256 central = t.centralToken - amount;
        _checkRatio(t, central, t.tokenLiabilities);
        _totals.centralToken = uint80(central);
        _recordDone(r, to, OperationKind.DefundTokens, amount);
        emit TokensDefunded(key, to, amount);
        _token.safeTransfer(to, amount);
    }

    /// @inheritdoc IAccountLedger
    function depositFiat(bytes32 key, address wallet, uint256 amount) external onlyRole(TREASURER_ROLE) {
        OperationRecord storage r = _claimKey(key);
        _checkAmount(amount);
        ProfileRecord storage p = _openProfile(wallet);
        uint80 central = _toAmount(uint256(_centralFiat) + amount);
        _centralFiat = central;
        // Fits 80 bits: the profile's fiat is part of `centralFiat`, which fits.
        p.fiat = uint80(p.fiat + amount);
        _recordDone(r, wallet, OperationKind.DepositFiat, amount);
        emit FiatDeposited(key, wallet, amount);
    }

    /// @inheritdoc IAccountLedger
    function withdrawFiat(bytes32 key, address wallet, uint256 amount) external onlyRole(TREASURER_ROLE) {
        OperationRecord storage r = _claimKey(key);
        _checkAmount(amount);
        ProfileRecord storage p = _openProfile(wallet);
        uint256 fiat = p.fiat;
        if (amount > fiat) revert InsufficientFunds(wallet, fiat, amount);
        // Cannot underflow: amount <= fiat <= centralFiat. Fits 80 bits: both shrink.
        unchecked {
            p.fiat = uint80(fiat - amount);
            _centralFiat = uint80(_centralFiat - amount);
        }
        _recordDone(r, wallet, OperationKind.WithdrawFiat, amount);
        emit FiatWithdrawn(key, wallet, amount);
    }

    // ------------------------------------------------------------------ gateway

    /// @inheritdoc IAccountLedger
    function hold(bytes32 key, address wallet, uint256 amount) external onlyRole(GATEWAY_ROLE) {
        _hold(key, wallet, amount, true);
    }

    /// @inheritdoc IAccountLedger
    function capture(bytes32 key, bytes32 holdKey, uint256 amount) external onlyRole(GATEWAY_ROLE) {
        _capture(key, holdKey, amount);
    }

    /// @inheritdoc IAccountLedger
    function release(bytes32 key, bytes32 holdKey) external onlyRole(GATEWAY_ROLE) {
        _release(key, holdKey);
    }

    /// @inheritdoc IAccountLedger
    function debit(bytes32 key, address wallet, uint256 amount) external onlyRole(GATEWAY_ROLE) {
        _debit(key, wallet, amount, true);
    }

    /// @inheritdoc IAccountLedger
    function credit(bytes32 key, address wallet, uint256 amount) external onlyRole(GATEWAY_ROLE) {
        _credit(key, wallet, amount);
    }

    /// @inheritdoc IAccountLedger
    function forceHold(bytes32 key, address wallet, uint256 amount) external onlyRole(GATEWAY_ROLE) {
        _forceHold(key, wallet, amount);
    }

    /// @inheritdoc IAccountLedger
    function forceDebit(bytes32 key, address wallet, uint256 amount) external onlyRole(GATEWAY_ROLE) {
        _forceDebit(key, wallet, amount);
    }

    /// @inheritdoc IAccountLedger
    function reverse(bytes32 key, bytes32 originalKey) external onlyRole(GATEWAY_ROLE) {
        _reverse(key, originalKey, 0);
    }

    /// @inheritdoc IAccountLedger
    function reverseAmount(bytes32 key, bytes32 originalKey, uint256 amount) external onlyRole(GATEWAY_ROLE) {
        _reverse(key, originalKey, amount);
    }

    /// @inheritdoc IAccountLedger
    function voidKey(bytes32 key) external onlyRole(GATEWAY_ROLE) {
        _voidKey(key);
    }

    /// @inheritdoc IAccountLedger
    /// @dev The treasury must have approved the ledger for `amount`.
    function convertToToken(bytes32 key, address wallet, uint256 amount) external onlyRole(GATEWAY_ROLE) {
        _convertToToken(key, wallet, amount);
    }

    /// @inheritdoc IAccountLedger
    /// @dev No per-transaction limit: the value stays the customer's.
    function convertToFiat(bytes32 key, address wallet, uint256 amount) external onlyRole(GATEWAY_ROLE) {
        _convertToFiat(key, wallet, amount);
    }

    /// @inheritdoc IAccountLedger
    /// @dev Each operation runs in a self-call (`executeOne`), so a failing one reverts alone. An out-of-gas in
    ///      a self-call is caught too (63/64 of the gas is forwarded); the gateway should size its gas limit.
    function execute(Operation[] calldata ops) external onlyRole(GATEWAY_ROLE) returns (bool[] memory ok) {
        uint256 count = ops.length;
        ok = new bool[](count);
        for (uint256 i = 0; i < count; ++i) {
            try this.executeOne(ops[i]) {
                ok[i] = true;
            } catch (bytes memory reason) {
                emit OperationRejected(ops[i].key, reason);
            }
        }
    }

    /// @inheritdoc IAccountLedger
    function executeOne(Operation calldata op) external onlySelf {
        OperationKind kind = op.kind;
        if (kind == OperationKind.Hold) _hold(op.key, op.wallet, op.amount, true);
        else if (kind == OperationKind.Capture) _capture(op.key, op.ref, op.amount);
        else if (kind == OperationKind.Release) _release(op.key, op.ref);
        else if (kind == OperationKind.Debit) _debit(op.key, op.wallet, op.amount, true);
        else if (kind == OperationKind.Credit) _credit(op.key, op.wallet, op.amount);
        else if (kind == OperationKind.Reverse) _reverse(op.key, op.ref, op.amount);
        else if (kind == OperationKind.ConvertToToken) _convertToToken(op.key, op.wallet, op.amount);
        else if (kind == OperationKind.ConvertToFiat) _convertToFiat(op.key, op.wallet, op.amount);
        else if (kind == OperationKind.ForceHold) _forceHold(op.key, op.wallet, op.amount);
        else if (kind == OperationKind.ForceDebit) _forceDebit(op.key, op.wallet, op.amount);
        else if (kind == OperationKind.Void) _voidKey(op.key);
        else revert UnsupportedOperation(kind);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IAccountLedger
    function profileOf(address wallet) external view returns (Profile memory) {
        ProfileRecord storage p = _profiles[wallet];
        if (!p.exists) return Profile(bytes32(0), address(0), 0, 0, 0, 0, false, false);
        return Profile(p.accountId, wallet, p.fiat, p.token, p.held, p.limit, p.open, true);
    }

    /// @inheritdoc IAccountLedger
    function walletOfAccount(bytes32 accountId) external view returns (address) {
        return _wallets[accountId];
    }

    /// @inheritdoc IAccountLedger
    /// @dev A `Reversed` record keeps the amount it had before its last reversal; reported as 0.
    function operationOf(bytes32 key) external view returns (OperationInfo memory) {
        OperationRecord storage r = _operations[key];
        OperationStatus status = r.status;
        return OperationInfo(r.kind, status, r.wallet, r.ref, status == OperationStatus.Reversed ? 0 : r.amount);
    }

    /// @inheritdoc IAccountLedger
    function isKeyUsed(bytes32 key) external view returns (bool) {
        return _operations[key].kind != OperationKind.None;
    }

    /// @inheritdoc IAccountLedger
    function reserveRatioBps() external view returns (uint256) {
        return _ratio(_totals.centralToken, _totals.tokenLiabilities);
    }

    /// @inheritdoc IAccountLedger
    function centralFiat() external view returns (uint256) {
        return _centralFiat;
    }

    /// @inheritdoc IAccountLedger
    function centralToken() external view returns (uint256) {
        return _totals.centralToken;
    }

    /// @inheritdoc IAccountLedger
    function tokenLiabilities() external view returns (uint256) {
        return _totals.tokenLiabilities;
    }

    /// @inheritdoc IAccountLedger
    function totalHeld() external view returns (uint256) {
        return _totals.totalHeld;
    }

    /// @inheritdoc IAccountLedger
    function minRatioBps() external view returns (uint16) {
        return _totals.minRatioBps;
    }

    /// @inheritdoc IAccountLedger
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @inheritdoc IAccountLedger
    function token() external view returns (IERC20) {
        return _token;
    }

    // ------------------------------------------------------------------ operations

    /// @dev A hold, within the limit if `limited`.
    function _hold(bytes32 key, address wallet, uint256 amount, bool limited) private {
        OperationRecord storage r = _claimKey(key);
        _checkAmount(amount);
        ProfileRecord storage p = _openProfile(wallet);
        uint256 held = _checkSpendable(p, wallet, amount, limited);
        // Fit 80 bits: held + amount <= token, and the sum of holds <= tokenLiabilities.
        p.held = uint80(held + amount);
        _totals.totalHeld += uint80(amount);
        r.wallet = wallet;
        r.kind = OperationKind.Hold;
        r.status = OperationStatus.Open;
        r.amount = uint80(amount);
        emit Held(key, wallet, amount);
    }

    function _capture(bytes32 key, bytes32 holdKey, uint256 amount) private {
        OperationRecord storage r = _claimKey(key);
        _checkAmount(amount);
        OperationRecord storage h = _openHold(holdKey);
        uint80 holdAmount = h.amount;
        if (amount > holdAmount) revert CaptureExceedsHold(holdKey, holdAmount, amount);
        address wallet = h.wallet;
        h.status = OperationStatus.Captured;
        ProfileRecord storage p = _profiles[wallet];
        Totals storage t = _totals;
        // Cannot underflow: the hold is part of the profile's held amount (and of `totalHeld`), which is part of
        // its token amount (and of `tokenLiabilities`), and amount <= holdAmount.
        unchecked {
            p.token -= uint80(amount);
            p.held -= holdAmount;
            t.tokenLiabilities -= uint80(amount);
            t.totalHeld -= holdAmount;
        }
        _record(r, wallet, OperationKind.Capture, holdKey, amount);
        emit Captured(key, holdKey, wallet, amount, holdAmount - amount);
    }

    function _release(bytes32 key, bytes32 holdKey) private {
        OperationRecord storage r = _claimKey(key);
        OperationRecord storage h = _openHold(holdKey);
        uint80 holdAmount = h.amount;
        address wallet = h.wallet;
        h.status = OperationStatus.Released;
        _releaseHeld(wallet, holdAmount);
        _record(r, wallet, OperationKind.Release, holdKey, holdAmount);
        emit Released(key, holdKey, wallet, holdAmount);
    }

    /// @dev A debit, within the limit if `limited`.
    function _debit(bytes32 key, address wallet, uint256 amount, bool limited) private {
        OperationRecord storage r = _claimKey(key);
        _checkAmount(amount);
        _removeTokens(wallet, amount, limited);
        _recordDone(r, wallet, OperationKind.Debit, amount);
        emit Debited(key, wallet, amount);
    }

    /// @dev A hold outside the limit, recorded as a `Hold`.
    function _forceHold(bytes32 key, address wallet, uint256 amount) private {
        _hold(key, wallet, amount, false);
        emit Forced(key);
    }

    /// @dev A debit outside the limit, recorded as a `Debit`.
    function _forceDebit(bytes32 key, address wallet, uint256 amount) private {
        _debit(key, wallet, amount, false);
        emit Forced(key);
    }

    function _credit(bytes32 key, address wallet, uint256 amount) private {
        OperationRecord storage r = _claimKey(key);
        _checkAmount(amount);
        _addTokens(wallet, amount, true);
        _recordDone(r, wallet, OperationKind.Credit, amount);
        emit Credited(key, wallet, amount);
    }

    /// @dev Reverses `amount` of the original (0 for all that is left); not limited.
    function _reverse(bytes32 key, bytes32 originalKey, uint256 amount) private {
        OperationRecord storage r = _claimKey(key);
        OperationRecord storage o = _operations[originalKey];
        OperationKind kind = o.kind;
        OperationStatus status = o.status;
        address wallet = o.wallet;
        uint80 outstanding = o.amount;
        if (kind == OperationKind.None) revert UnknownOperation(originalKey);
        if (status == OperationStatus.Reversed) revert AlreadyReversed(originalKey);
        if (amount == 0) amount = outstanding;
        // The kind and state are checked before the amount: `NotReversible` wins over `ReversalExceedsOutstanding`.
        if (kind == OperationKind.Debit || kind == OperationKind.Capture) {
            _checkOutstanding(originalKey, outstanding, amount);
            _addTokens(wallet, amount, false);
        } else if (kind == OperationKind.Credit) {
            _checkOutstanding(originalKey, outstanding, amount);
            _removeTokens(wallet, amount, false);
        } else if (kind == OperationKind.Hold && status == OperationStatus.Open) {
            _checkOutstanding(originalKey, outstanding, amount);
            _releaseHeld(wallet, uint80(amount));
        } else {
            revert NotReversible(originalKey);
        }
        // One field write: a whole reversal only marks the original `Reversed` (its stored amount goes stale,
        // `operationOf` reports 0), a partial one only lowers its outstanding amount.
        if (amount == outstanding) {
            o.status = OperationStatus.Reversed;
        } else {
            // Cannot underflow: amount < outstanding (`_checkOutstanding`), so it also fits 80 bits.
            unchecked {
                o.amount = outstanding - uint80(amount);
            }
        }
        _record(r, wallet, OperationKind.Reverse, originalKey, amount);
        emit Reversed(key, originalKey, wallet, amount);
    }

    /// @dev Claims `key` for nothing: a `Done` void without wallet or amount (one word written).
    function _voidKey(bytes32 key) private {
        OperationRecord storage r = _claimKey(key);
        _recordDone(r, address(0), OperationKind.Void, 0);
        emit KeyVoided(key);
    }

    function _convertToToken(bytes32 key, address wallet, uint256 amount) private {
        OperationRecord storage r = _claimKey(key);
        _checkAmount(amount);
        address treasury_ = _checkTreasury();
        ProfileRecord storage p = _openProfile(wallet);
        uint256 fiat = p.fiat;
        if (amount > fiat) revert InsufficientFunds(wallet, fiat, amount);
        // No ratio check: adding the same amount to both sides moves the ratio towards 10_000 bps, so it either
        // rises or stays at or above 10_000 >= minRatioBps.
        Totals storage t = _totals;
        t.centralToken = _toAmount(uint256(t.centralToken) + amount);
        t.tokenLiabilities = _toAmount(uint256(t.tokenLiabilities) + amount);
        // Cannot underflow: amount <= fiat <= centralFiat. The token fits 80 bits: it is part of the liabilities.
        unchecked {
            p.fiat = uint80(fiat - amount);
            _centralFiat = uint80(_centralFiat - amount);
            p.token += uint80(amount);
        }
        _recordDone(r, wallet, OperationKind.ConvertToToken, amount);
        emit Converted(key, wallet, true, amount);
        _token.safeTransferFrom(treasury_, address(this), amount);
    }

    function _convertToFiat(bytes32 key, address wallet, uint256 amount) private {
        OperationRecord storage r = _claimKey(key);
        _checkAmount(amount);
        address treasury_ = _checkTreasury();
        ProfileRecord storage p = _openProfile(wallet);
        _checkSpendable(p, wallet, amount, false);
        Totals memory t = _totals;
        if (amount > t.centralToken) revert InsufficientCentralTokens(t.centralToken, amount);
        // Cannot underflow: amount <= centralToken (checked) and amount <= token <= tokenLiabilities.
        uint256 central = t.centralToken - amount;
        uint256 liabilities = t.tokenLiabilities - amount;
        _checkRatio(t, central, liabilities);
        _totals.centralToken = uint80(central);
        _totals.tokenLiabilities = uint80(liabilities);
        _centralFiat = _toAmount(uint256(_centralFiat) + amount);
        // Cannot underflow: amount <= token - held. The fiat fits 80 bits: it is part of `centralFiat`.
        unchecked {
            p.token -= uint80(amount);
            p.fiat += uint80(amount);
        }
        _recordDone(r, wallet, OperationKind.ConvertToFiat, amount);
        emit Converted(key, wallet, false, amount);
        _token.safeTransfer(treasury_, amount);
    }

    // ------------------------------------------------------------------ helpers

    /// @dev Adds `amount` to an open profile's tokens and the liabilities, within its limit if `limited`, under the
    ///      ratio rule.
    function _addTokens(address wallet, uint256 amount, bool limited) private {
        ProfileRecord storage p = _openProfile(wallet);
        if (limited) {
            uint256 limit = p.limit;
            if (limit != 0 && amount > limit) revert OverLimit(wallet, amount, limit);
        }
        Totals memory t = _totals;
        uint80 liabilities = _toAmount(uint256(t.tokenLiabilities) + amount);
        _checkRatio(t, t.centralToken, liabilities);
        _totals.tokenLiabilities = liabilities;
        // Fits 80 bits: the profile's tokens are part of the liabilities.
        unchecked {
            p.token += uint80(amount);
        }
    }

    /// @dev Takes `amount` from an open profile's available tokens and from the liabilities (raises the ratio).
    function _removeTokens(address wallet, uint256 amount, bool limited) private {
        ProfileRecord storage p = _openProfile(wallet);
        _checkSpendable(p, wallet, amount, limited);
        // Cannot underflow: amount <= token - held, and token <= tokenLiabilities.
        unchecked {
            p.token -= uint80(amount);
            _totals.tokenLiabilities -= uint80(amount);
        }
    }

    /// @dev Gives back `amount` held for `wallet`.
    function _releaseHeld(address wallet, uint80 amount) private {
        // Cannot underflow: an open hold is part of the profile's held amount and of `totalHeld`.
        unchecked {
            _profiles[wallet].held -= amount;
            _totals.totalHeld -= amount;
        }
    }

    /// @dev Reverts unless `amount` is within the profile's available tokens (and its limit if `limited`);
    ///      returns the held amount.
    function _checkSpendable(
        ProfileRecord storage p,
        address wallet,
        uint256 amount,
        bool limited
    ) private view returns (uint256 held) {
        // One word: read together.
        uint256 tokens = p.token;
        held = p.held;
        uint256 limit = p.limit;
        // Cannot underflow: held <= token always.
        uint256 available;
        unchecked {
            available = tokens - held;
        }
        if (amount > available) revert InsufficientFunds(wallet, available, amount);
        if (limited && limit != 0 && amount > limit) revert OverLimit(wallet, amount, limit);
    }

    /// @dev Reverts with `ReversalExceedsOutstanding` if `amount` exceeds what is left of the original.
    function _checkOutstanding(bytes32 originalKey, uint256 outstanding, uint256 amount) private pure {
        if (amount > outstanding) revert ReversalExceedsOutstanding(originalKey, outstanding, amount);
    }

    /// @dev The record under `key`, which must be non-zero and unused.
    function _claimKey(bytes32 key) private view returns (OperationRecord storage r) {
        if (key == bytes32(0)) revert ZeroKey();
        r = _operations[key];
        if (r.kind != OperationKind.None) revert KeyUsed(key);
    }

    /// @dev The record of open hold `holdKey`.
    function _openHold(bytes32 holdKey) private view returns (OperationRecord storage h) {
        h = _operations[holdKey];
        if (h.kind == OperationKind.None) revert UnknownOperation(holdKey);
        if (h.kind != OperationKind.Hold || h.status != OperationStatus.Open) revert HoldNotOpen(holdKey);
    }

    /// @dev The open profile of `wallet`.
    function _openProfile(address wallet) private view returns (ProfileRecord storage p) {
        p = _profiles[wallet];
        if (!p.open) {
            if (!p.exists) revert UnknownProfile(wallet);
            revert ProfileClosed(wallet);
        }
    }

    /// @dev The treasury, which must be set.
    function _checkTreasury() private view returns (address treasury_) {
        treasury_ = _treasury;
        if (treasury_ == address(0)) revert TreasuryNotSet();
    }

    /// @dev Reverts unless the ledger itself is the caller.
    function _checkSelf() private view {
        if (msg.sender != address(this)) revert AccountLedgerOnlySelf();
    }

    /// @dev Records a `Done` operation without a reference.
    function _recordDone(OperationRecord storage r, address wallet, OperationKind kind, uint256 amount) private {
        r.wallet = wallet;
        r.kind = kind;
        r.status = OperationStatus.Done;
        // Fits 80 bits: every amount was checked against `MAX_AMOUNT`.
        r.amount = uint80(amount);
    }

    /// @dev Records a `Done` operation with a (non-zero) reference.
    function _record(
        OperationRecord storage r,
        address wallet,
        OperationKind kind,
        bytes32 ref,
        uint256 amount
    ) private {
        _recordDone(r, wallet, kind, amount);
        r.ref = ref;
    }

    /// @dev Reverts if the ratio drops, from `t`'s to `central * 10_000 / liabilities`, to below the minimum.
    function _checkRatio(Totals memory t, uint256 central, uint256 liabilities) private pure {
        uint256 minBps = t.minRatioBps;
        if (minBps == 0) return;
        uint256 ratioAfter = _ratio(central, liabilities);
        if (ratioAfter < minBps && ratioAfter < _ratio(t.centralToken, t.tokenLiabilities)) {
            revert RatioBreached(ratioAfter, minBps);
        }
    }

    /// @dev Reverts with `AccountLedgerZeroAmount` or `AmountTooLarge` unless `amount` is within 1..MAX_AMOUNT.
    function _checkAmount(uint256 amount) private pure {
        if (amount == 0) revert AccountLedgerZeroAmount();
        if (amount > MAX_AMOUNT) revert AmountTooLarge(amount, MAX_AMOUNT);
    }

    /// @dev `value` as a stored amount; reverts with `AmountTooLarge` beyond `MAX_AMOUNT`.
    function _toAmount(uint256 value) private pure returns (uint80) {
        if (value > MAX_AMOUNT) revert AmountTooLarge(value, MAX_AMOUNT);
        // Fits 80 bits: checked above.
        return uint80(value);
    }

    /// @dev The reserve ratio in basis points; `type(uint256).max` without liabilities.
    function _ratio(uint256 central, uint256 liabilities) private pure returns (uint256) {
        if (liabilities == 0) return type(uint256).max;
        // Cannot overflow: central < 2**80.
        return (central * MAX_RATIO_BPS) / liabilities;
    }
}
