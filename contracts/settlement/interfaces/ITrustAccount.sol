// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ITrustAccountToken} from "./ITrustAccountToken.sol";

/// @title ITrustAccount
/// @notice A bank's on-chain side of its fiat trust account. When fiat arrives in the trust account, the bank's
///         agent mints the same amount of `BankToken` to the depositor (`mintForDeposit`). When a holder wants
///         fiat back ("smelt"), it hands its tokens to the trust account (`requestRedemption`), where they are
///         held; the bank then either pays the fiat out and burns the tokens (`confirmRedemption`), or returns
///         them (`rejectRedemption`). Every fiat reference is single-use across deposits and payouts.
/// @dev The trust account must be a minter of the token and a registered issuer of its `ReserveLedger`.
interface ITrustAccount {
    /// @notice The life of a redemption: `None` -> `Requested` -> `Paid` (burned) or `Rejected` (returned).
    enum RedemptionState {
        None,
        Requested,
        Paid,
        Rejected
    }

    /// @notice One redemption request.
    /// @param holder The account that asked for fiat and whose tokens are held (and returned if rejected).
    /// @param amount The minor units held.
    /// @param state Where the request stands.
    /// @param requestedAt When it was requested.
    /// @param settledAt When it was paid or rejected (0 while requested).
    /// @param accountRef The holder's reference of the fiat account to pay out to.
    /// @param settlementRef The fiat reference of the payout if paid, the reason code if rejected, else 0.
    struct Redemption {
        address holder;
        uint96 amount;
        RedemptionState state;
        uint40 requestedAt;
        uint40 settledAt;
        bytes32 accountRef;
        bytes32 settlementRef;
    }

    /// @notice A fiat deposit with reference `fiatRef` was recorded and `amount` minted to `to`.
    /// @param fiatRef The bank's reference of the fiat deposit into the trust account.
    /// @param to The recipient of the tokens.
    /// @param amount The minor units minted.
    event DepositMinted(bytes32 indexed fiatRef, address indexed to, uint256 amount);

    /// @notice `holder` asked to redeem `amount`, now held by the trust account, to its fiat account `accountRef`.
    /// @param id The redemption.
    /// @param holder The holder.
    /// @param amount The minor units held.
    /// @param accountRef The holder's fiat account reference.
    event RedemptionRequested(uint256 indexed id, address indexed holder, uint256 amount, bytes32 accountRef);

    /// @notice The bank paid redemption `id` out in fiat with reference `fiatRef`; the held tokens were burned.
    /// @param id The redemption.
    /// @param holder The holder paid.
    /// @param fiatRef The bank's reference of the fiat payout.
    /// @param amount The minor units burned.
    event RedemptionPaid(uint256 indexed id, address indexed holder, bytes32 indexed fiatRef, uint256 amount);

    /// @notice The bank rejected redemption `id` for `reasonCode`; the held tokens went back to the holder.
    /// @param id The redemption.
    /// @param holder The holder refunded.
    /// @param reasonCode Why the bank rejected it.
    /// @param amount The minor units returned.
    event RedemptionRejected(uint256 indexed id, address indexed holder, bytes32 indexed reasonCode, uint256 amount);

    /// @notice The settlement contract `settlement` had `amount` burned at this trust account against `fiatRef`,
    ///         the bank's re-credit of its customer for a returned or refunded interbank payment.
    /// @param fiatRef The bank's reference of the fiat re-credit.
    /// @param settlement The settlement contract the tokens came from.
    /// @param amount The minor units burned.
    event SettlementBurned(bytes32 indexed fiatRef, address indexed settlement, uint256 amount);

    /// @notice The token given at construction is the zero address.
    /// @param token The token given.
    error TrustAccountInvalidToken(address token);

    /// @notice The recipient of a mint is the zero address.
    /// @param to The recipient given.
    error TrustAccountInvalidRecipient(address to);

    /// @notice The amount is zero.
    error TrustAccountZeroAmount();

    /// @notice The fiat reference is zero.
    error TrustAccountZeroFiatRef();

    /// @notice The holder's fiat account reference is zero.
    error TrustAccountZeroAccountRef();

    /// @notice The rejection reason code is zero.
    error TrustAccountZeroReasonCode();

    /// @notice The fiat reference was already used by a deposit or a payout.
    /// @param fiatRef The reference.
    error TrustAccountFiatRefUsed(bytes32 fiatRef);

    /// @notice Redemption `id` is in state `current`, not in the `expected` state for this step.
    /// @param id The redemption.
    /// @param current Its state (`None` if it does not exist).
    /// @param expected The state the step needs.
    error TrustAccountInvalidRedemptionState(uint256 id, RedemptionState current, RedemptionState expected);

    /// @notice Records a fiat deposit of `amount` into the trust account under `fiatRef` and mints `amount` to `to`.
    /// @dev Only `DEPOSITOR_ROLE`. Reverts as the token's `mint` does, including the reserve ledger's checks.
    /// @param to The recipient (the depositor's wallet), not zero.
    /// @param amount The minor units deposited and minted, not zero.
    /// @param fiatRef The bank's reference of the deposit: not zero, never used before by a deposit or payout.
    function mintForDeposit(address to, uint256 amount, bytes32 fiatRef) external;

    /// @notice Mints `amount` to the calling settlement contract for interbank payment `settlementId`: the bank's
    ///         agent has asked the settlement contract to pay `amount` out of this trust account's fiat to another
    ///         bank, and the settlement holds the tokens for that bank.
    /// @dev Only `SETTLEMENT_ROLE` (the `InterbankSettlement` contract). No fiat reference is spent here: the
    ///      settlement contract accepts each payment id once per debtor bank (this trust account), and the
    ///      token's `Mint` event carries `settlementId` as its reference. Reverts as the token's `mint` does,
    ///      including the reserve ledger's checks against this trust account's reserve.
    /// @param amount The minor units to mint, not zero.
    /// @param settlementId The payment's id (its ISO 20022 end-to-end id or UETR).
    function mintForSettlement(uint256 amount, bytes32 settlementId) external;

    /// @notice Pulls `amount` from the calling settlement contract (by allowance) and burns it against
    ///         `fiatRef`, the bank's re-credit of its customer for an interbank payment that was rejected or
    ///         expired. The trust account's outstanding issuance in the reserve ledger shrinks by `amount`.
    /// @dev Only `SETTLEMENT_ROLE`. `fiatRef` is spent like a payout's.
    /// @param amount The minor units to burn, not zero.
    /// @param fiatRef The bank's reference of the re-credit: not zero, never used before by a deposit or payout.
    function burnForSettlement(uint256 amount, bytes32 fiatRef) external;

    /// @notice Asks the bank to pay `amount` out in fiat to the caller's fiat account `accountRef`. The tokens
    ///         move from the caller to the trust account (by allowance) and are held until the bank decides.
    /// @param amount The minor units to redeem, not zero.
    /// @param accountRef The caller's reference of the fiat account to pay out to, not zero.
    /// @return id The new redemption's id (1, 2, 3, ...).
    function requestRedemption(uint256 amount, bytes32 accountRef) external returns (uint256 id);

    /// @notice `requestRedemption` with an EIP-2612 permit of the caller for the trust account, in one call.
    /// @dev A permit that fails (for example because someone front-ran it) is ignored; the transfer then needs
    ///      the allowance to be in place anyway.
    /// @param amount The minor units to redeem, not zero; also the permit's value.
    /// @param accountRef The caller's reference of the fiat account to pay out to, not zero.
    /// @param deadline The permit's deadline.
    /// @param v The permit signature's recovery byte.
    /// @param r The permit signature's `r`.
    /// @param s The permit signature's `s`.
    /// @return id The new redemption's id.
    function requestRedemptionWithPermit(
        uint256 amount,
        bytes32 accountRef,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256 id);

    /// @notice Records that the bank paid redemption `id` out in fiat under `fiatRef`, and burns the held tokens.
    /// @dev Only `OPERATOR_ROLE`. The redemption must be `Requested`.
    /// @param id The redemption.
    /// @param fiatRef The bank's reference of the payout: not zero, never used before by a deposit or payout.
    function confirmRedemption(uint256 id, bytes32 fiatRef) external;

    /// @notice Rejects redemption `id` for `reasonCode` and returns the held tokens to the holder.
    /// @dev Only `OPERATOR_ROLE`. The redemption must be `Requested`.
    /// @param id The redemption.
    /// @param reasonCode Why, not zero (the bank's code; for example a hash of its reason text).
    function rejectRedemption(uint256 id, bytes32 reasonCode) external;

    /// @notice The token this trust account mints and burns.
    /// @return The token.
    function token() external view returns (ITrustAccountToken);

    /// @notice Redemption `id` (all zero, state `None`, if it does not exist).
    /// @param id The redemption.
    /// @return The redemption.
    function redemption(uint256 id) external view returns (Redemption memory);

    /// @notice The state of redemption `id`.
    /// @param id The redemption.
    /// @return The state (`None` if it does not exist).
    function redemptionState(uint256 id) external view returns (RedemptionState);

    /// @notice The id of the latest redemption (0 if none): ids run from 1 to this.
    /// @return The id.
    function lastRedemptionId() external view returns (uint256);

    /// @notice The tokens held for redemptions still `Requested`: the sum of their amounts.
    /// @return The minor units.
    function heldForRedemptions() external view returns (uint256);

    /// @notice Whether `fiatRef` was used by a deposit or a payout.
    /// @param fiatRef The reference.
    /// @return True if used.
    function isFiatRefUsed(bytes32 fiatRef) external view returns (bool);
}
