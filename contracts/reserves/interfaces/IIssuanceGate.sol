// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IIssuanceGate
/// @notice The hook a `BankToken` calls on every mint and burn so that issuance stays within
///         each issuing bank's attested fiat reserve. `ReserveLedger` implements it.
/// @dev Only the token the gate is bound to may call these; both revert to stop the mint or burn.
interface IIssuanceGate {
    /// @notice Records `amount` of new issuance by `issuer`; reverts if the issuer's reserve
    ///         does not cover it (stale attestation, breach of the reserve ratio, unknown issuer).
    /// @param issuer The minter whose issuance grows (a bank's `TrustAccount` or minting key).
    /// @param amount Minor units of the fiat currency being issued.
    function onMint(address issuer, uint256 amount) external;

    /// @notice Records that `amount` of `issuer`'s issuance was redeemed and burned.
    /// @param issuer The minter whose issuance shrinks.
    /// @param amount Minor units burned.
    function onBurn(address issuer, uint256 amount) external;

    /// @notice Records that compliance wiped `amount` of frozen tokens against `issuer`'s issuance: as `onBurn`,
    ///         but `issuer` must be an issuer. A bridge account is refused: its burns are exports to another chain,
    ///         and a wipe booked as one would leave the other chains' books counting tokens that no longer exist.
    /// @param issuer The issuer whose outstanding issuance shrinks.
    /// @param amount Minor units wiped.
    function onWipe(address issuer, uint256 amount) external;
}
