// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IERC3009
/// @notice EIP-3009 transfers with authorization, as Circle's FiatToken 2.2 has them: each call in the `v, r, s`
///         form and with a packed signature (ECDSA `r‖s‖v` or ERC-1271), and the cancellation of an unused
///         authorization. BankToken implements it; `Checkout` takes any token that does.
interface IERC3009 {
    /// @notice The EIP-3009 authorization `nonce` of `authorizer` was used.
    /// @param authorizer The signer of the authorization.
    /// @param nonce The authorization's nonce.
    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);

    /// @notice The EIP-3009 authorization `nonce` of `authorizer` was canceled before use.
    /// @param authorizer The signer of the cancellation.
    /// @param nonce The canceled nonce.
    event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);

    /// @notice Executes a transfer of `value` from `from` to `to` signed by `from` (EIP-3009).
    /// @param from The payer, who signed.
    /// @param to The payee.
    /// @param value The amount.
    /// @param validAfter The block time after which the authorization is valid (exclusive).
    /// @param validBefore The block time before which the authorization is valid (exclusive).
    /// @param nonce A unique random nonce chosen by the payer.
    /// @param v The signature's recovery byte.
    /// @param r The signature's r.
    /// @param s The signature's s.
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external;

    /// @notice `transferWithAuthorization` with a packed signature (ECDSA `r‖s‖v` or ERC-1271).
    /// @param from The payer, who signed.
    /// @param to The payee.
    /// @param value The amount.
    /// @param validAfter The block time after which the authorization is valid (exclusive).
    /// @param validBefore The block time before which the authorization is valid (exclusive).
    /// @param nonce A unique random nonce chosen by the payer.
    /// @param signature The payer's signature over the `TransferWithAuthorization` typed data.
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;

    /// @notice Like `transferWithAuthorization`, but only the payee `to` may submit it (no front-running).
    /// @param from The payer, who signed.
    /// @param to The payee; must be the caller.
    /// @param value The amount.
    /// @param validAfter The block time after which the authorization is valid (exclusive).
    /// @param validBefore The block time before which the authorization is valid (exclusive).
    /// @param nonce A unique random nonce chosen by the payer.
    /// @param v The signature's recovery byte.
    /// @param r The signature's r.
    /// @param s The signature's s.
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external;

    /// @notice `receiveWithAuthorization` with a packed signature (ECDSA `r‖s‖v` or ERC-1271).
    /// @param from The payer, who signed.
    /// @param to The payee; must be the caller.
    /// @param value The amount.
    /// @param validAfter The block time after which the authorization is valid (exclusive).
    /// @param validBefore The block time before which the authorization is valid (exclusive).
    /// @param nonce A unique random nonce chosen by the payer.
    /// @param signature The payer's signature over the `ReceiveWithAuthorization` typed data.
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;

    /// @notice Cancels the unused authorization `nonce` of `authorizer`, signed by `authorizer`.
    /// @param authorizer The authorizer, who signed.
    /// @param nonce The nonce to cancel.
    /// @param v The signature's recovery byte.
    /// @param r The signature's r.
    /// @param s The signature's s.
    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice `cancelAuthorization` with a packed signature (ECDSA `r‖s‖v` or ERC-1271).
    /// @param authorizer The authorizer, who signed.
    /// @param nonce The nonce to cancel.
    /// @param signature The authorizer's signature over the `CancelAuthorization` typed data.
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes calldata signature) external;

    /// @notice Whether the EIP-3009 authorization `nonce` of `authorizer` was used or canceled.
    /// @param authorizer The authorizer.
    /// @param nonce The nonce.
    /// @return True if used or canceled.
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool);
}
