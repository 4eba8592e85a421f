// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IAccountLedger
/// @notice One bank's link between its customers' card accounts and on-chain balances: a central fiat account (a
///         record of the fiat the bank holds for its customers), a central token account (the `BankToken` the
///         ledger really holds), and one account profile per customer wallet with fiat, token and held amounts.
/// @dev Every operation but profile administration carries a `bytes32` idempotency key, single-use across all
///      operations. Reserve ratio = `centralToken * 10_000 / tokenLiabilities`; an operation that lowers it and
///      leaves it below `minRatioBps` reverts with `RatioBreached`. All amounts are minor units, at most
///      `MAX_AMOUNT` (2**80 - 1) each and in every total.
interface IAccountLedger {
    /// @notice The kind of an operation. `None` marks an unused key. `execute` accepts the gateway kinds `Hold` ..
    ///         `ConvertToFiat`, the forced kinds `ForceHold` and `ForceDebit`, and `Void`. `FundTokens` ..
    ///         `WithdrawFiat` are treasurer operations, recorded under their key but not accepted by `execute`. The
    ///         forced kinds are never recorded: a forced hold or debit is stored as a `Hold` or `Debit` (and
    ///         announced by `Forced`). `Void` marks a key the gateway made unusable (`voidKey`): nothing was
    ///         posted under it and nothing ever will be.
    /// @dev Append only: the gateway numbers the kinds (0 = `None` .. 14 = `ForceDebit`, 15 = `Void`).
    enum OperationKind {
        None,
        Hold,
        Capture,
        Release,
        Debit,
        Credit,
        Reverse,
        ConvertToToken,
        ConvertToFiat,
        FundTokens,
        DefundTokens,
        DepositFiat,
        WithdrawFiat,
        ForceHold,
        ForceDebit,
        Void
    }

    /// @notice Where an operation stands. A hold is `Open` until `Captured`, `Released` or `Reversed`; every
    ///         other operation is `Done`, and a reversible one becomes `Reversed` once nothing of it is left
    ///         (a partial reversal leaves it `Open` or `Done` with a smaller outstanding amount).
    enum OperationStatus {
        None,
        Done,
        Open,
        Captured,
        Released,
        Reversed
    }

    /// @notice One operation of a batch (`execute`).
    /// @param kind A gateway kind (`Hold` .. `ConvertToFiat`), a forced kind (`ForceHold`, `ForceDebit`) or `Void`.
    /// @param key The operation's idempotency key (for `Void`, the key to make unusable).
    /// @param wallet The customer wallet (ignored by `Capture`, `Release`, `Reverse` and `Void`).
    /// @param ref The hold key for `Capture`/`Release`, the original key for `Reverse`, else ignored.
    /// @param amount The amount (ignored by `Release` and `Void`); for `Reverse`, 0 reverses the whole outstanding
    ///        amount.
    struct Operation {
        OperationKind kind;
        bytes32 key;
        address wallet;
        bytes32 ref;
        uint256 amount;
    }

    /// @notice One account profile as `profileOf` reports it.
    /// @param accountId The bank's id of the card account.
    /// @param wallet The customer wallet the profile is keyed by.
    /// @param fiat The customer's fiat amount (a record; its sum is `centralFiat`).
    /// @param token The customer's token amount (its sum is `tokenLiabilities`).
    /// @param held The part of `token` reserved by open holds.
    /// @param limit The per-transaction limit of holds, debits and credits, 0 for none.
    /// @param open Whether the profile is open (closing is final).
    /// @param exists Whether the profile was ever opened; all other fields are zero otherwise.
    // A view struct, never stored: no packing to gain.
    // solhint-disable-next-line gas-struct-packing
    struct Profile {
        bytes32 accountId;
        address wallet;
        uint256 fiat;
        uint256 token;
        uint256 held;
        uint256 limit;
        bool open;
        bool exists;
    }

    /// @notice One recorded operation as `operationOf` reports it.
    /// @param kind The kind; `None` if the key is unused. Never `ForceHold` or `ForceDebit`: those are recorded as
    ///        `Hold` and `Debit`.
    /// @param status Where it stands.
    /// @param wallet The customer wallet (for treasurer operations: the funder, the recipient or the wallet; zero
    ///        for a void).
    /// @param ref The hold key (capture, release), the original key (reverse), or zero.
    /// @param amount The outstanding amount: what is left of it after partial reversals, 0 once `Reversed`. For
    ///        a debit, capture or credit, what can still be reversed; for an open hold, what it still holds; for
    ///        a captured or released hold, what it held then; for a release, the amount released; for a
    ///        reversal, the amount it reversed; for a conversion or treasurer operation, its amount; for a void, 0.
    struct OperationInfo {
        OperationKind kind;
        OperationStatus status;
        address wallet;
        bytes32 ref;
        uint256 amount;
    }

    /// @notice A profile was opened for `wallet`.
    /// @param wallet The customer wallet.
    /// @param accountId The bank's card account id.
    /// @param limit The per-transaction limit, 0 for none.
    event ProfileOpened(address indexed wallet, bytes32 indexed accountId, uint256 limit);

    /// @notice The profile of `wallet` was closed (for good).
    /// @dev Not named `ProfileClosed`: that is the error the gateway expects, and Solidity forbids both names.
    /// @param wallet The customer wallet.
    /// @param accountId The bank's card account id.
    event AccountProfileClosed(address indexed wallet, bytes32 indexed accountId);

    /// @notice The per-transaction limit of `wallet` changed.
    /// @param wallet The customer wallet.
    /// @param previousLimit The former limit.
    /// @param newLimit The new limit, 0 for none.
    event LimitSet(address indexed wallet, uint256 previousLimit, uint256 newLimit);

    /// @notice The minimum reserve ratio changed.
    /// @param previousBps The former minimum, in basis points.
    /// @param newBps The new minimum, in basis points.
    event MinRatioSet(uint16 previousBps, uint16 newBps);

    /// @notice The bank's treasury wallet changed.
    /// @param previousTreasury The former treasury.
    /// @param newTreasury The new treasury.
    event TreasurySet(address indexed previousTreasury, address indexed newTreasury);

    /// @notice Tokens were paid into the central token account.
    /// @param key The idempotency key.
    /// @param from The treasurer that paid them.
    /// @param amount The amount.
    event TokensFunded(bytes32 indexed key, address indexed from, uint256 amount);

    /// @notice Tokens were paid out of the central token account.
    /// @param key The idempotency key.
    /// @param to The recipient.
    /// @param amount The amount.
    event TokensDefunded(bytes32 indexed key, address indexed to, uint256 amount);

    /// @notice Fiat was deposited for `wallet` (profile fiat and `centralFiat` grew).
    /// @param key The idempotency key.
    /// @param wallet The customer wallet.
    /// @param amount The amount.
    event FiatDeposited(bytes32 indexed key, address indexed wallet, uint256 amount);

    /// @notice Fiat was withdrawn for `wallet` (profile fiat and `centralFiat` shrank).
    /// @param key The idempotency key.
    /// @param wallet The customer wallet.
    /// @param amount The amount.
    event FiatWithdrawn(bytes32 indexed key, address indexed wallet, uint256 amount);

    /// @notice `amount` of `wallet`'s tokens were reserved under hold `key`.
    /// @param key The hold's key.
    /// @param wallet The customer wallet.
    /// @param amount The amount held.
    event Held(bytes32 indexed key, address indexed wallet, uint256 amount);

    /// @notice Hold `holdKey` was captured: `amount` left the profile, `released` of the hold became available.
    /// @param key The capture's key.
    /// @param holdKey The hold's key.
    /// @param wallet The customer wallet.
    /// @param amount The amount captured.
    /// @param released The rest of the hold, released.
    event Captured(
        bytes32 indexed key,
        bytes32 indexed holdKey,
        address indexed wallet,
        uint256 amount,
        uint256 released
    );

    /// @notice Hold `holdKey` was released in full.
    /// @param key The release's key.
    /// @param holdKey The hold's key.
    /// @param wallet The customer wallet.
    /// @param amount The amount released.
    event Released(bytes32 indexed key, bytes32 indexed holdKey, address indexed wallet, uint256 amount);

    /// @notice `amount` was taken from `wallet`'s tokens.
    /// @param key The idempotency key.
    /// @param wallet The customer wallet.
    /// @param amount The amount.
    event Debited(bytes32 indexed key, address indexed wallet, uint256 amount);

    /// @notice `amount` was added to `wallet`'s tokens.
    /// @param key The idempotency key.
    /// @param wallet The customer wallet.
    /// @param amount The amount.
    event Credited(bytes32 indexed key, address indexed wallet, uint256 amount);

    /// @notice Operation `originalKey` was undone, in full or in part.
    /// @param key The reversal's key.
    /// @param originalKey The key of the operation undone.
    /// @param wallet The customer wallet.
    /// @param amount The amount reversed: given back, taken back or released.
    event Reversed(bytes32 indexed key, bytes32 indexed originalKey, address indexed wallet, uint256 amount);

    /// @notice The hold or debit under `key` (announced by `Held` or `Debited` just before) was forced: posted
    ///         outside the per-transaction limit, as an advice is.
    /// @param key The operation's key.
    event Forced(bytes32 indexed key);

    /// @notice `amount` of `wallet`'s fiat became tokens (`toToken`) or the other way round.
    /// @param key The idempotency key.
    /// @param wallet The customer wallet.
    /// @param toToken True for fiat to token, false for token to fiat.
    /// @param amount The amount.
    event Converted(bytes32 indexed key, address indexed wallet, bool toToken, uint256 amount);

    /// @notice Key `key` was made unusable: no operation was posted under it and none ever will be.
    /// @param key The voided key.
    event KeyVoided(bytes32 indexed key);

    /// @notice An operation of a batch failed and changed nothing; its key stays unused.
    /// @param key The operation's key.
    /// @param reason The raw revert data (a custom error of this interface, or a panic).
    event OperationRejected(bytes32 indexed key, bytes reason);

    /// @notice No profile was ever opened for `wallet`.
    /// @param wallet The wallet.
    error UnknownProfile(address wallet);

    /// @notice The profile of `wallet` is closed.
    /// @param wallet The wallet.
    error ProfileClosed(address wallet);

    /// @notice The available amount (tokens less held, or fiat for fiat operations) is below `amount`.
    /// @param wallet The wallet.
    /// @param available The amount available.
    /// @param amount The amount asked for.
    error InsufficientFunds(address wallet, uint256 available, uint256 amount);

    /// @notice `amount` exceeds the per-transaction limit of `wallet`.
    /// @param wallet The wallet.
    /// @param amount The amount asked for.
    /// @param limit The limit.
    error OverLimit(address wallet, uint256 amount, uint256 limit);

    /// @notice The operation would lower the reserve ratio to below the minimum.
    /// @param ratioAfterBps The ratio after the operation, in basis points.
    /// @param minBps The minimum, in basis points.
    error RatioBreached(uint256 ratioAfterBps, uint256 minBps);

    /// @notice The idempotency key was used before.
    /// @param key The key.
    error KeyUsed(bytes32 key);

    /// @notice No operation was recorded under `key`.
    /// @param key The key.
    error UnknownOperation(bytes32 key);

    /// @notice The operation under `key` was reversed before.
    /// @param key The key.
    error AlreadyReversed(bytes32 key);

    /// @notice The operation under `key` cannot be reversed (its kind, or a hold no longer open).
    /// @param key The key.
    error NotReversible(bytes32 key);

    /// @notice `holdKey` is not an open hold.
    /// @param holdKey The key.
    error HoldNotOpen(bytes32 holdKey);

    /// @notice A partial reversal asks for more than is left of the original.
    /// @param originalKey The original's key.
    /// @param outstanding What is left of it.
    /// @param amount The amount to reverse.
    error ReversalExceedsOutstanding(bytes32 originalKey, uint256 outstanding, uint256 amount);

    /// @notice The capture exceeds the hold.
    /// @param holdKey The hold's key.
    /// @param held The hold's amount.
    /// @param amount The amount to capture.
    error CaptureExceedsHold(bytes32 holdKey, uint256 held, uint256 amount);

    /// @notice The amount is zero.
    error AccountLedgerZeroAmount();

    /// @notice The idempotency key is zero.
    error ZeroKey();

    /// @notice `executeOne` was called by another account than the ledger itself.
    error AccountLedgerOnlySelf();

    /// @notice An address argument is zero.
    error AccountLedgerZeroAddress();

    /// @notice The account id is zero.
    error ZeroAccountId();

    /// @notice A profile was already opened for `wallet`.
    /// @param wallet The wallet.
    error ProfileExists(address wallet);

    /// @notice The account id already belongs to `wallet`.
    /// @param accountId The account id.
    /// @param wallet The wallet it belongs to.
    error AccountIdTaken(bytes32 accountId, address wallet);

    /// @notice The profile still has fiat, tokens or holds.
    /// @param wallet The wallet.
    /// @param fiat Its fiat amount.
    /// @param token Its token amount.
    /// @param held Its held amount.
    error ProfileNotEmpty(address wallet, uint256 fiat, uint256 token, uint256 held);

    /// @notice No treasury is set, so nothing can be converted.
    error TreasuryNotSet();

    /// @notice The minimum ratio exceeds 10_000 basis points.
    /// @param bps The ratio given.
    error RatioOutOfRange(uint16 bps);

    /// @notice An amount, a limit or a resulting total exceeds `MAX_AMOUNT`.
    /// @param value The value.
    /// @param max `MAX_AMOUNT`.
    error AmountTooLarge(uint256 value, uint256 max);

    /// @notice The central token account holds less than `amount`.
    /// @param available The central token amount.
    /// @param amount The amount asked for.
    error InsufficientCentralTokens(uint256 available, uint256 amount);

    /// @notice The batch does not accept this kind (`None` or a treasurer kind).
    /// @param kind The kind given.
    error UnsupportedOperation(OperationKind kind);

    /// @notice Opens a profile. Role: `LEDGER_ADMIN_ROLE`.
    /// @param accountId The bank's card account id (non-zero, unique, never reused).
    /// @param wallet The customer wallet (non-zero, one profile per wallet, ever).
    /// @param limit The per-transaction limit, 0 for none.
    function openProfile(bytes32 accountId, address wallet, uint256 limit) external;

    /// @notice Sets the per-transaction limit of an open profile. Role: `LEDGER_ADMIN_ROLE`.
    /// @param wallet The customer wallet.
    /// @param limit The new limit, 0 for none.
    function setLimit(address wallet, uint256 limit) external;

    /// @notice Closes an empty profile for good. Role: `LEDGER_ADMIN_ROLE`.
    /// @param wallet The customer wallet.
    function closeProfile(address wallet) external;

    /// @notice Sets the minimum reserve ratio. Role: `LEDGER_ADMIN_ROLE`.
    /// @param bps The minimum, 0..10_000 basis points.
    function setMinRatio(uint16 bps) external;

    /// @notice Sets the bank's own wallet, the counterparty of conversions. Role: `LEDGER_ADMIN_ROLE`.
    /// @param newTreasury The treasury (non-zero); it must approve the ledger for fiat-to-token conversions.
    function setTreasury(address newTreasury) external;

    /// @notice Pulls `amount` tokens from the caller into the central token account. Role: `TREASURER_ROLE`.
    /// @param key The idempotency key.
    /// @param amount The amount.
    function fundTokens(bytes32 key, uint256 amount) external;

    /// @notice Pays `amount` tokens out of the central token account. Role: `TREASURER_ROLE`. Ratio rule.
    /// @param key The idempotency key.
    /// @param to The recipient.
    /// @param amount The amount.
    function defundTokens(bytes32 key, address to, uint256 amount) external;

    /// @notice Records a fiat deposit for `wallet`. Role: `TREASURER_ROLE`.
    /// @param key The idempotency key.
    /// @param wallet The customer wallet.
    /// @param amount The amount.
    function depositFiat(bytes32 key, address wallet, uint256 amount) external;

    /// @notice Records a fiat withdrawal for `wallet`. Role: `TREASURER_ROLE`.
    /// @param key The idempotency key.
    /// @param wallet The customer wallet.
    /// @param amount The amount.
    function withdrawFiat(bytes32 key, address wallet, uint256 amount) external;

    /// @notice Reserves `amount` of `wallet`'s available tokens under hold `key`. Role: `GATEWAY_ROLE`.
    /// @param key The hold's key.
    /// @param wallet The customer wallet.
    /// @param amount The amount, within the available tokens and the limit.
    function hold(bytes32 key, address wallet, uint256 amount) external;

    /// @notice Captures `amount` of open hold `holdKey` and releases the rest. Role: `GATEWAY_ROLE`.
    /// @param key The idempotency key.
    /// @param holdKey The hold's key.
    /// @param amount The amount, at most the hold's.
    function capture(bytes32 key, bytes32 holdKey, uint256 amount) external;

    /// @notice Releases open hold `holdKey` in full. Role: `GATEWAY_ROLE`.
    /// @param key The idempotency key.
    /// @param holdKey The hold's key.
    function release(bytes32 key, bytes32 holdKey) external;

    /// @notice Takes `amount` from `wallet`'s available tokens. Role: `GATEWAY_ROLE`.
    /// @param key The idempotency key.
    /// @param wallet The customer wallet.
    /// @param amount The amount, within the available tokens and the limit.
    function debit(bytes32 key, address wallet, uint256 amount) external;

    /// @notice Adds `amount` to `wallet`'s tokens. Role: `GATEWAY_ROLE`. Ratio rule.
    /// @param key The idempotency key.
    /// @param wallet The customer wallet.
    /// @param amount The amount, within the limit.
    function credit(bytes32 key, address wallet, uint256 amount) external;

    /// @notice Reserves `amount` of `wallet`'s available tokens under hold `key` outside the per-transaction limit
    ///         (an advice: the scheme or a stand-in already approved it). Recorded as a `Hold`; emits `Held`, then
    ///         `Forced`. Role: `GATEWAY_ROLE`.
    /// @param key The hold's key.
    /// @param wallet The customer wallet.
    /// @param amount The amount, within the available tokens.
    function forceHold(bytes32 key, address wallet, uint256 amount) external;

    /// @notice Takes `amount` from `wallet`'s available tokens outside the per-transaction limit (an advice).
    ///         Recorded as a `Debit`; emits `Debited`, then `Forced`. Role: `GATEWAY_ROLE`.
    /// @param key The idempotency key.
    /// @param wallet The customer wallet.
    /// @param amount The amount, within the available tokens.
    function forceDebit(bytes32 key, address wallet, uint256 amount) external;

    /// @notice Undoes all that is left of a debit, capture or credit, or releases all that is left of an open
    ///         hold: `reverseAmount(key, originalKey, 0)`. Role: `GATEWAY_ROLE`. Ratio rule.
    /// @param key The idempotency key.
    /// @param originalKey The key of the operation to undo.
    function reverse(bytes32 key, bytes32 originalKey) external;

    /// @notice Undoes `amount` of a debit, capture or credit (gives back, or takes back, `amount`), or releases
    ///         `amount` of an open hold (which stays open with the rest). The original keeps what is left as its
    ///         amount and becomes `Reversed` once nothing is left. Not limited. Role: `GATEWAY_ROLE`. Ratio rule.
    /// @param key The idempotency key.
    /// @param originalKey The key of the operation to undo.
    /// @param amount The amount, at most the original's outstanding amount; 0 for all of it.
    function reverseAmount(bytes32 key, bytes32 originalKey, uint256 amount) external;

    /// @notice Makes `key` unusable, so an operation sent under it whose fate is unknown (its transaction still
    ///         pending) can never be posted: records it as a `Void` (status `Done`, no wallet, amount 0), moves no
    ///         value. Reverts with `KeyUsed` if an operation was posted under it (or it was voided) before: then
    ///         that operation's fate is known. A later operation under it reverts with `KeyUsed`; a void is not
    ///         reversible (`NotReversible`) nor a hold (`HoldNotOpen`). Role: `GATEWAY_ROLE`.
    /// @param key The key to void (non-zero).
    function voidKey(bytes32 key) external;

    /// @notice Turns `amount` of `wallet`'s fiat into tokens pulled from the treasury. Role: `GATEWAY_ROLE`.
    ///         Cannot breach the ratio: it moves towards 10_000 bps, at or above any minimum.
    /// @param key The idempotency key.
    /// @param wallet The customer wallet.
    /// @param amount The amount, at most the profile's fiat.
    function convertToToken(bytes32 key, address wallet, uint256 amount) external;

    /// @notice Turns `amount` of `wallet`'s available tokens into fiat, paying the tokens to the treasury.
    ///         Role: `GATEWAY_ROLE`. Ratio rule.
    /// @param key The idempotency key.
    /// @param wallet The customer wallet.
    /// @param amount The amount, within the available tokens.
    function convertToFiat(bytes32 key, address wallet, uint256 amount) external;

    /// @notice Runs gateway operations one by one; a failing one emits `OperationRejected`, changes nothing and
    ///         leaves its key unused, the others go through. Role: `GATEWAY_ROLE`.
    /// @param ops The operations.
    /// @return ok Per operation, whether it went through.
    function execute(Operation[] calldata ops) external returns (bool[] memory ok);

    /// @notice Runs one batch operation; callable only by the ledger itself (from `execute`).
    /// @param op The operation.
    function executeOne(Operation calldata op) external;

    /// @notice The profile of `wallet`; all zero with `exists == false` if none was opened (no revert).
    /// @param wallet The customer wallet.
    /// @return The profile.
    function profileOf(address wallet) external view returns (Profile memory);

    /// @notice The wallet of a card account id, zero if none.
    /// @param accountId The account id.
    /// @return The wallet.
    function walletOfAccount(bytes32 accountId) external view returns (address);

    /// @notice The operation recorded under `key`; `kind == None` if the key is unused. Its `amount` is the
    ///         outstanding amount (what partial reversals left of it; see `OperationInfo`).
    /// @param key The key.
    /// @return The operation.
    function operationOf(bytes32 key) external view returns (OperationInfo memory);

    /// @notice Whether `key` was used by an operation.
    /// @param key The key.
    /// @return True if used.
    function isKeyUsed(bytes32 key) external view returns (bool);

    /// @notice `centralToken * 10_000 / tokenLiabilities`, rounded down; `type(uint256).max` without liabilities.
    /// @return The ratio in basis points.
    function reserveRatioBps() external view returns (uint256);

    /// @notice The central fiat account: the sum of the profiles' fiat.
    /// @return The amount.
    function centralFiat() external view returns (uint256);

    /// @notice The central token account: tokens the ledger holds for its customers.
    /// @return The amount.
    function centralToken() external view returns (uint256);

    /// @notice The sum of the profiles' token amounts.
    /// @return The amount.
    function tokenLiabilities() external view returns (uint256);

    /// @notice The sum of the profiles' held amounts.
    /// @return The amount.
    function totalHeld() external view returns (uint256);

    /// @notice The minimum reserve ratio.
    /// @return The ratio in basis points.
    function minRatioBps() external view returns (uint16);

    /// @notice The bank's treasury wallet, zero if unset.
    /// @return The treasury.
    function treasury() external view returns (address);

    /// @notice The `BankToken` the ledger holds.
    /// @return The token.
    function token() external view returns (IERC20);
}
