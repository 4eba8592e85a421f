// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";

import {IIssuanceGate} from "../../reserves/interfaces/IIssuanceGate.sol";
import {IERC3009} from "./IERC3009.sol";

/// @title IBankToken
/// @notice The fixed-peg token banks issue: one token is one minor unit of a fiat currency (ISO 4217), one
///         deployment per currency. ERC-20 with EIP-2612 `permit` and EIP-3009 signed transfers (EOA and
///         ERC-1271 signatures), per-minter allowances with an optional refilling rate limit, reserve-gated
///         minting (`IIssuanceGate`), account freezes, a global pause, a supply cap and ERC-20 rescue.
/// @dev Roles (see `docs/token.md`): the default admin (two-step handover with a delay) grants the duty roles
///      and sets the supply cap and the issuance gate; `MINTER_ADMIN_ROLE` configures minters; `PAUSER_ROLE`
///      pauses; `COMPLIANCE_ROLE` freezes, unfreezes and wipes; `RESCUER_ROLE` rescues stray ERC-20s;
///      `UPGRADER_ROLE` upgrades. "Minter" is a configuration kept by `MINTER_ADMIN_ROLE`, not a role.
interface IBankToken is IERC20Metadata, IERC20Permit, IERC5267, IERC3009 {
    // ───────────────────────────────────────────── events ─────────────────────────────────────────────

    /// @notice The token was initialized for a currency.
    /// @param currency The ISO 4217 alphabetic code, e.g. "USD".
    /// @param decimals The currency's minor unit, e.g. 2 for USD.
    /// @param name The token name (the EIP-712 domain name is the constant "BankToken", not this).
    /// @param symbol The token symbol.
    event CurrencyInitialized(bytes3 indexed currency, uint8 decimals, string name, string symbol);

    /// @notice `minter` minted `amount` to `to` against the fiat reference `fiatRef`.
    /// @dev Emitted right after the `Transfer(address(0), to, amount)` of the same mint.
    /// @param minter The minter that minted (its allowance shrank by `amount`).
    /// @param to The recipient.
    /// @param amount The minor units minted.
    /// @param fiatRef The caller's reference of the fiat movement behind the mint (logged, not deduplicated).
    event Mint(address indexed minter, address indexed to, uint256 amount, bytes32 fiatRef);

    /// @notice `minter` burned `amount` of its own balance against the fiat reference `fiatRef`.
    /// @dev Emitted right after the `Transfer(minter, address(0), amount)` of the same burn.
    /// @param minter The minter that burned.
    /// @param amount The minor units burned.
    /// @param fiatRef The caller's reference of the fiat redemption behind the burn (logged, not deduplicated).
    event Burn(address indexed minter, uint256 amount, bytes32 fiatRef);

    /// @notice `minter` became a minter with a mint allowance of `allowance` and no rate limit.
    /// @param minter The new minter.
    /// @param allowance Its initial mint allowance.
    event MinterConfigured(address indexed minter, uint256 allowance);

    /// @notice The mint allowance of `minter` was increased by `increase` to `newAllowance`.
    /// @param minter The minter.
    /// @param increase The amount added.
    /// @param newAllowance The allowance after the change (includes any refill settled before it).
    event MinterAllowanceIncreased(address indexed minter, uint256 increase, uint256 newAllowance);

    /// @notice The mint allowance of `minter` was decreased by `decrease` to `newAllowance`.
    /// @param minter The minter.
    /// @param decrease The amount removed.
    /// @param newAllowance The allowance after the change (includes any refill settled before it).
    event MinterAllowanceDecreased(address indexed minter, uint256 decrease, uint256 newAllowance);

    /// @notice The refilling rate limit of `minter` was set: its allowance refills by `capacity` every `period`
    ///         seconds, continuously, up to `capacity`. `capacity == 0` turns the refill off.
    /// @param minter The minter.
    /// @param capacity The refill ceiling (and the amount refilled per `period`).
    /// @param period The seconds it takes to refill from zero to `capacity`.
    event MinterRateLimitConfigured(address indexed minter, uint256 capacity, uint256 period);

    /// @notice `minter` is no longer a minter; its allowance and rate limit were deleted.
    /// @param minter The former minter.
    event MinterRemoved(address indexed minter);

    /// @notice The token was paused by `account`.
    /// @param account The pauser.
    event Paused(address account);

    /// @notice The token was unpaused by `account`.
    /// @param account The pauser.
    event Unpaused(address account);

    /// @notice `account` was frozen: it can no longer send, receive, approve or be approved.
    /// @param account The frozen account.
    event Frozen(address indexed account);

    /// @notice `account` was unfrozen.
    /// @param account The unfrozen account.
    event Unfrozen(address indexed account);

    /// @notice The whole balance of the frozen `account`, `amount`, was burned for `reasonCode`, and taken off
    ///         the issuance of `issuer`, whose trust account releases the matching fiat.
    /// @dev Emitted right after the `Transfer(account, address(0), amount)` of the wipe. The account stays frozen.
    /// @param account The frozen account.
    /// @param issuer The issuer whose outstanding issuance the wipe reduces.
    /// @param amount The minor units burned.
    /// @param reasonCode The compliance reason (e.g. a hash of the court order reference).
    event FrozenBalanceWiped(address indexed account, address indexed issuer, uint256 amount, bytes32 reasonCode);

    /// @notice Compliance ordered the wipe of frozen `account`'s balance against `issuer`'s issuance, citing
    ///         `reasonCode`; it happens when the issuance side confirms it (`confirmWipe`).
    event FrozenBalanceWipeOrdered(address indexed account, address indexed issuer, bytes32 reasonCode);

    /// @notice The wipe ordered for `account` was canceled by `by` (or lapsed when `account` was unfrozen).
    event FrozenBalanceWipeCanceled(address indexed account, address by);

    /// @notice The supply cap changed from `previousCap` to `newCap`.
    /// @param previousCap The former cap.
    /// @param newCap The new cap.
    event SupplyCapChanged(uint256 previousCap, uint256 newCap);

    /// @notice The issuance gate changed from `previousGate` to `newGate` (zero: minting and burning halt).
    /// @param previousGate The former gate.
    /// @param newGate The new gate.
    event IssuanceGateChanged(address indexed previousGate, address indexed newGate);

    /// @notice `amount` of the ERC-20 `token`, sent to this contract by mistake, was sent to `to`.
    /// @param token The rescued token.
    /// @param to The recipient.
    /// @param amount The amount rescued.
    event Rescued(address indexed token, address indexed to, uint256 amount);

    // ───────────────────────────────────────────── errors ─────────────────────────────────────────────

    /// @notice The token is paused: no balance, allowance or authorization may change.
    error BankTokenPaused();

    /// @notice `unpause` was called while the token was not paused.
    error BankTokenNotPaused();

    /// @notice `account` is frozen and may not take part in this operation (or is already frozen).
    /// @param account The frozen account.
    error BankTokenFrozen(address account);

    /// @notice `account` is not frozen (`unfreeze` or `wipeFrozen` on an account that is not frozen).
    /// @param account The account.
    error BankTokenNotFrozen(address account);

    /// @notice An address argument (receiver, sender, spender, owner, minter, gate, rescue target) is zero.
    error BankTokenZeroAddress();

    /// @notice An amount that must be positive (mint, burn, minter allowance change) is zero.
    error BankTokenZeroAmount();

    /// @notice `account` holds `balance`, less than the `needed` amount.
    /// @param account The sender.
    /// @param balance Its balance.
    /// @param needed The amount it tried to move.
    error BankTokenInsufficientBalance(address account, uint256 balance, uint256 needed);

    /// @notice `spender` may spend `allowance`, less than the `needed` amount.
    /// @param spender The spender.
    /// @param allowance Its remaining allowance.
    /// @param needed The amount it tried to move.
    error BankTokenInsufficientAllowance(address spender, uint256 allowance, uint256 needed);

    /// @notice `account` is not a minter.
    /// @param account The caller (for `mint`/`burn`) or the account named to a minter-admin function.
    error BankTokenNotMinter(address account);

    /// @notice `configureMinter` was called for an account that is already a minter; change its allowance with
    ///         `increaseMinterAllowance`/`decreaseMinterAllowance` instead.
    /// @param minter The existing minter.
    error BankTokenMinterAlreadyConfigured(address minter);

    /// @notice `minter` may mint `allowance` (after the lazy refill), less than `amount`.
    /// @param minter The minter.
    /// @param allowance Its mint allowance.
    /// @param amount The amount it tried to mint.
    error BankTokenMinterAllowanceExceeded(address minter, uint256 allowance, uint256 amount);

    /// @notice A minter allowance or rate-limit capacity of `value` would exceed `max` (`MAX_MINTER_ALLOWANCE`).
    /// @param minter The minter.
    /// @param value The allowance or capacity that was asked for.
    /// @param max The largest value a minter word can hold.
    error BankTokenMinterAllowanceTooLarge(address minter, uint256 value, uint256 max);

    /// @notice `decreaseMinterAllowance` by `decrease` exceeds the allowance `allowance` of `minter`.
    /// @param minter The minter.
    /// @param allowance Its allowance (after the lazy refill).
    /// @param decrease The decrease asked for.
    error BankTokenMinterAllowanceUnderflow(address minter, uint256 allowance, uint256 decrease);

    /// @notice A rate limit needs both a capacity and a period, or neither; the period fits in 32 bits.
    /// @param capacity The capacity given.
    /// @param period The period given.
    error BankTokenInvalidRateLimit(uint256 capacity, uint256 period);

    /// @notice A mint would take the total supply to `newSupply`, above `cap`.
    /// @param cap The supply cap.
    /// @param newSupply The supply the mint would reach.
    error BankTokenSupplyCapExceeded(uint256 cap, uint256 newSupply);

    /// @notice A supply cap of `cap` is below the current total supply `totalSupply`.
    /// @param cap The cap given.
    /// @param totalSupply The current total supply.
    error BankTokenSupplyCapBelowSupply(uint256 cap, uint256 totalSupply);

    /// @notice A supply cap of `cap` exceeds `max`, 2^127 - 1.
    /// @param cap The cap given.
    /// @param max The largest cap.
    error BankTokenSupplyCapTooLarge(uint256 cap, uint256 max);

    /// @notice No issuance gate is set, so nothing may be minted or burned.
    error BankTokenIssuanceGateNotSet();

    /// @notice `gate` has no code and cannot be an issuance gate.
    /// @param gate The address given.
    error BankTokenInvalidIssuanceGate(address gate);

    /// @notice The signed permit or authorization expired: its deadline (permit, inclusive) or `validBefore`
    ///         (EIP-3009, exclusive) is `deadline`, and the block time is `timestamp`.
    /// @param deadline The permit deadline or the authorization's `validBefore`.
    /// @param timestamp The current block time.
    error BankTokenAuthorizationExpired(uint256 deadline, uint256 timestamp);

    /// @notice The EIP-3009 authorization is valid only after `validAfter`; the block time is `timestamp`.
    /// @param validAfter The authorization's `validAfter`.
    /// @param timestamp The current block time.
    error BankTokenAuthorizationNotYetValid(uint256 validAfter, uint256 timestamp);

    /// @notice The EIP-3009 authorization `nonce` of `authorizer` was already used or canceled.
    /// @param authorizer The authorizer.
    /// @param nonce The nonce.
    error BankTokenAuthorizationUsed(address authorizer, bytes32 nonce);

    /// @notice The signature is not a valid signature of `signer` (ECDSA or ERC-1271) over the typed data.
    /// @param signer The account that should have signed.
    error BankTokenInvalidSignature(address signer);

    /// @notice `receiveWithAuthorization` was called by `caller`, not by the payee `payee`.
    /// @param caller The caller.
    /// @param payee The authorization's `to`.
    error BankTokenCallerNotPayee(address caller, address payee);

    /// @notice `currency` is not three upper-case ASCII letters.
    /// @param currency The code given.
    error BankTokenInvalidCurrency(bytes3 currency);

    /// @notice `decimals` is above 4, the largest ISO 4217 minor unit.
    /// @param decimals The decimals given.
    error BankTokenInvalidDecimals(uint8 decimals);

    /// @notice The token name or symbol is empty.
    error BankTokenEmptyMetadata();

    /// @notice No wipe is ordered for `account` (`confirmWipe`, `cancelWipe`).
    error BankTokenNoWipeOrdered(address account);

    /// @notice `confirmWipe` named `confirmed` as the issuer, but the order names `ordered`.
    error BankTokenWipeIssuerMismatch(address account, address ordered, address confirmed);

    /// @notice A function run in the admin module was reached by an internal call (selector `selector`) rather
    ///         than from outside; never expected in a correct build.
    error BankTokenAdminOnlyExternal(bytes4 selector);

    // ──────────────────────────────────────────── functions ───────────────────────────────────────────

    /// @notice Initializes the proxy; callable once, never on the implementation.
    /// @param name_ The token name (e.g. "Bank Dollar"); the EIP-712 domain name is the constant "BankToken".
    /// @param symbol_ The token symbol (e.g. "bUSD").
    /// @param currency_ The ISO 4217 alphabetic code, three upper-case letters (e.g. "USD").
    /// @param decimals_ The currency's ISO 4217 minor unit, 0..4 (e.g. 2 for USD).
    /// @param supplyCap_ The initial supply cap, at most 2^127 - 1.
    /// @param gate The issuance gate (`ReserveLedger`), or zero to set it later with `setIssuanceGate`.
    /// @param admin The default admin (holder of `DEFAULT_ADMIN_ROLE`).
    /// @param adminTransferDelay The delay, in seconds, of a default admin handover.
    function initialize(
        string memory name_,
        string memory symbol_,
        bytes3 currency_,
        uint8 decimals_,
        uint256 supplyCap_,
        IIssuanceGate gate,
        address admin,
        uint48 adminTransferDelay
    ) external;

    // ── minting ──

    /// @notice Mints `amount` to `to` against the fiat reference `fiatRef`; caller must be a minter.
    /// @dev Reverts if paused, if the caller is not a minter, if `amount` exceeds its allowance (after the lazy
    ///      refill), if the supply cap would be exceeded, if `to` is frozen or zero, if `amount` is zero, if no
    ///      gate is set, or if the gate's `onMint(msg.sender, amount)` reverts. Emits `Transfer` and `Mint`.
    /// @param to The recipient.
    /// @param amount The minor units to mint.
    /// @param fiatRef The reference of the fiat movement behind the mint (logged; deduplicate upstream).
    function mint(address to, uint256 amount, bytes32 fiatRef) external;

    /// @notice Burns `amount` of the calling minter's own balance against the fiat reference `fiatRef`.
    /// @dev Does not restore the minter allowance. Calls the gate's `onBurn(msg.sender, amount)`.
    /// @param amount The minor units to burn.
    /// @param fiatRef The reference of the fiat redemption behind the burn (logged; deduplicate upstream).
    function burn(uint256 amount, bytes32 fiatRef) external;

    // ── minter administration (MINTER_ADMIN_ROLE) ──

    /// @notice Makes `minter` a minter with a mint allowance of `allowance` and no rate limit.
    /// @dev Only for a new minter; an existing one reverts with `BankTokenMinterAlreadyConfigured`.
    /// @param minter The new minter.
    /// @param allowance Its initial mint allowance, at most `MAX_MINTER_ALLOWANCE`.
    function configureMinter(address minter, uint256 allowance) external;

    /// @notice Adds `increase` to the mint allowance of `minter` (two admins' changes add up, never race).
    /// @param minter The minter.
    /// @param increase The amount to add; the result is at most `MAX_MINTER_ALLOWANCE`.
    function increaseMinterAllowance(address minter, uint256 increase) external;

    /// @notice Removes `decrease` from the mint allowance of `minter`.
    /// @param minter The minter.
    /// @param decrease The amount to remove; at most the current allowance.
    function decreaseMinterAllowance(address minter, uint256 decrease) external;

    /// @notice Sets the refilling rate limit of `minter`: its allowance grows continuously by `capacity` per
    ///         `period` seconds, never above `capacity`. `(0, 0)` turns the refill off.
    /// @dev The refill accrued under the previous setting is settled first. Refills round down.
    /// @param minter The minter.
    /// @param capacity The refill ceiling, at most `MAX_MINTER_ALLOWANCE`.
    /// @param period The seconds to refill from zero to `capacity`, 1..2^32-1 (or 0 with `capacity` 0).
    function setMinterRateLimit(address minter, uint256 capacity, uint256 period) external;

    /// @notice Removes `minter`: it can no longer mint or burn; its allowance and rate limit are deleted.
    /// @param minter The minter.
    function removeMinter(address minter) external;

    // ── pause (PAUSER_ROLE) ──

    /// @notice Pauses every transfer, mint, burn, approval, permit and authorization.
    function pause() external;

    /// @notice Lifts the pause.
    function unpause() external;

    // ── compliance (COMPLIANCE_ROLE) ──

    /// @notice Freezes `account`: it can no longer send, receive, approve, be approved or sign authorizations.
    /// @param account The account to freeze.
    function freeze(address account) external;

    /// @notice Unfreezes `account`.
    /// @param account The frozen account.
    function unfreeze(address account) external;

    /// @notice Orders the wipe of the frozen `account`'s whole balance against the outstanding issuance of
    ///         `issuer` (the bank whose trust account releases the seized fiat), citing `reasonCode`. Nothing is
    ///         burned yet: the issuance side confirms the issuer charged (`confirmWipe`), so that no single role
    ///         can shift one bank's issuance to another. A new order replaces an earlier one; unfreezing the
    ///         account cancels it.
    /// @dev Only `COMPLIANCE_ROLE`. Reverts `BankTokenZeroAddress` for a zero account or issuer,
    ///      `BankTokenNotFrozen` if `account` is not frozen.
    /// @param account The frozen account.
    /// @param issuer The issuer whose outstanding issuance the wipe would reduce.
    /// @param reasonCode The compliance reason, logged in `FrozenBalanceWipeOrdered` and `FrozenBalanceWiped`.
    function wipeFrozen(address account, address issuer, bytes32 reasonCode) external;

    /// @notice Carries out the wipe ordered for `account`: burns its whole balance (it stays frozen) and takes it
    ///         off `issuer`'s outstanding issuance, so the reserve ledger's outstanding issuance keeps equal to
    ///         `totalSupply`. `issuer` must be the one ordered: the confirmer states what it agreed to.
    /// @dev Only `MINTER_ADMIN_ROLE`; deployments give it and `COMPLIANCE_ROLE` to different holders. Reverts
    ///      `BankTokenNoWipeOrdered`, `BankTokenWipeIssuerMismatch`, while paused, without an issuance gate, or as
    ///      the gate's `onWipe(issuer, amount)` does (not an issuer: unknown, or a bridge account; or more than its
    ///      outstanding issuance).
    /// @param account The frozen account.
    /// @param issuer The issuer named in the order.
    function confirmWipe(address account, address issuer) external;

    /// @notice Cancels the wipe ordered for `account`.
    /// @dev `COMPLIANCE_ROLE` or `MINTER_ADMIN_ROLE`. Reverts `BankTokenNoWipeOrdered`.
    /// @param account The account whose order is canceled.
    function cancelWipe(address account) external;

    /// @notice The wipe ordered for `account`, if any (`issuer` zero if none).
    /// @param account The account.
    /// @return issuer The issuer the order names.
    /// @return reasonCode The reason it cites.
    function wipeOrderOf(address account) external view returns (address issuer, bytes32 reasonCode);

    // ── default admin ──

    /// @notice Sets the supply cap (DEFAULT_ADMIN_ROLE).
    /// @param newCap The new cap: at least `totalSupply()`, at most 2^127 - 1.
    function setSupplyCap(uint256 newCap) external;

    /// @notice Sets the issuance gate (DEFAULT_ADMIN_ROLE); zero halts minting and burning.
    /// @param newGate The new gate: a contract, or zero.
    function setIssuanceGate(IIssuanceGate newGate) external;

    // ── rescue (RESCUER_ROLE) ──

    /// @notice Sends `amount` of the ERC-20 `token` held by this contract to `to`.
    /// @param token The ERC-20 sent here by mistake.
    /// @param to The recipient.
    /// @param amount The amount to send.
    function rescueERC20(IERC20 token, address to, uint256 amount) external;

    // ── EIP-2612 with contract signatures ──

    /// @notice EIP-2612 `permit` with a packed signature, for ERC-1271 wallets (or a 65-byte `r‖s‖v`).
    /// @param owner The token owner that signed.
    /// @param spender The spender to approve.
    /// @param value The allowance to set.
    /// @param deadline The last block time at which the permit is valid (inclusive).
    /// @param signature The owner's ECDSA signature or ERC-1271 signature over the `Permit` typed data.
    function permit(address owner, address spender, uint256 value, uint256 deadline, bytes calldata signature) external;

    // ── views ──

    /// @notice The role that configures minters.
    /// @return The role id, `keccak256("MINTER_ADMIN_ROLE")`.
    function MINTER_ADMIN_ROLE() external view returns (bytes32);

    /// @notice The role that pauses and unpauses.
    /// @return The role id, `keccak256("PAUSER_ROLE")`.
    function PAUSER_ROLE() external view returns (bytes32);

    /// @notice The role that freezes, unfreezes and wipes accounts.
    /// @return The role id, `keccak256("COMPLIANCE_ROLE")`.
    function COMPLIANCE_ROLE() external view returns (bytes32);

    /// @notice The role that rescues ERC-20s sent here by mistake.
    /// @return The role id, `keccak256("RESCUER_ROLE")`.
    function RESCUER_ROLE() external view returns (bytes32);

    /// @notice The role that upgrades the implementation.
    /// @return The role id, `keccak256("UPGRADER_ROLE")`.
    function UPGRADER_ROLE() external view returns (bytes32);

    /// @notice The largest minter allowance or rate-limit capacity: 2^88 - 1.
    /// @return The maximum allowance.
    function MAX_MINTER_ALLOWANCE() external view returns (uint256);

    /// @notice The ISO 4217 alphabetic code of the currency.
    /// @return The code, e.g. "USD".
    function currency() external view returns (bytes3);

    /// @notice Whether the token is paused.
    /// @return True while paused.
    function paused() external view returns (bool);

    /// @notice Whether `account` is frozen.
    /// @param account The account.
    /// @return True if frozen.
    function isFrozen(address account) external view returns (bool);

    /// @notice The supply cap.
    /// @return The cap.
    function supplyCap() external view returns (uint256);

    /// @notice The issuance gate consulted on every mint and burn.
    /// @return The gate, or zero if none is set.
    function issuanceGate() external view returns (IIssuanceGate);

    /// @notice Whether `account` is a minter.
    /// @param account The account.
    /// @return True if it may mint and burn.
    function isMinter(address account) external view returns (bool);

    /// @notice The amount `minter` may mint now, including the refill accrued since its last update.
    /// @param minter The minter.
    /// @return The mint allowance (0 for a non-minter).
    function minterAllowance(address minter) external view returns (uint256);

    /// @notice The refilling rate limit of `minter`.
    /// @param minter The minter.
    /// @return capacity The refill ceiling (0: no refill).
    /// @return period The seconds to refill from zero to `capacity`.
    function minterRateLimit(address minter) external view returns (uint256 capacity, uint256 period);
}
