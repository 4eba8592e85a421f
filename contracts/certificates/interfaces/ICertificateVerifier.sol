// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {CertificateSchema} from "../CertificateSchema.sol";
import {ICertificateResolver} from "./ICertificateResolver.sol";

/// @title ICertificateVerifier
/// @notice Whether a trust certificate holds now: it exists under the certificate schema, is neither revoked nor
///         replaced nor expired, its issuer is still authorized (and has been since before the certificate was
///         issued), and its scoring model is still active.
interface ICertificateVerifier {
    /// @notice A certificate's status now, in the order the verifier checks: the first that applies.
    enum CertificateStatus {
        Valid,
        NotFound,
        WrongSchema,
        Revoked,
        Replaced,
        Expired,
        IssuerNotAuthorized,
        ModelNotActive
    }

    /// @notice `uid` is not an attestation under the certificate schema.
    error CertificateVerifierNotACertificate(bytes32 uid, CertificateStatus status);

    /// @notice The resolver whose schema, issuers and models the verifier checks.
    /// @return The resolver.
    function resolver() external view returns (ICertificateResolver);

    /// @notice Whether a certificate holds now.
    /// @param uid The certificate's attestation UID.
    /// @return Whether `statusOf(uid)` is `Valid`.
    function isValid(bytes32 uid) external view returns (bool);

    /// @notice A certificate's status now.
    /// @param uid The certificate's attestation UID.
    /// @return The first reason it does not hold, or `Valid`.
    function statusOf(bytes32 uid) external view returns (CertificateStatus);

    /// @notice A certificate's data, valid or not; reverts `CertificateVerifierNotACertificate` if `uid` is not one.
    /// @param uid The certificate's attestation UID.
    /// @return The decoded data.
    function certificateOf(bytes32 uid) external view returns (CertificateSchema.Certificate memory);
}
