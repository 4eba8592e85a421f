// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Attestation} from "@ethereum-attestation-service/eas-contracts/contracts/Common.sol";

import {CertificateSchema} from "./CertificateSchema.sol";
import {ICertificateResolver} from "./interfaces/ICertificateResolver.sol";
import {ICertificateVerifier} from "./interfaces/ICertificateVerifier.sol";

/// @title CertificateVerifier
/// @notice Tells whether a trust certificate holds now (see `ICertificateVerifier`). Stateless, no roles: it reads
///         EAS, the resolver and the scoring model registry.
/// @dev EAS's `isAttestationValid` only says an attestation exists; expiry and revocation are this view's job, as
///      are the issuer and model checks no EAS view makes. Expired means `expirationTime <= block.timestamp`, the
///      same boundary EAS applies when an attestation is made.
contract CertificateVerifier is ICertificateVerifier {
    /// @inheritdoc ICertificateVerifier
    ICertificateResolver public immutable resolver;

    /// @param resolver_ The certificate resolver (its EAS and model registry are read from it).
    constructor(ICertificateResolver resolver_) {
        resolver = resolver_;
    }

    /// @inheritdoc ICertificateVerifier
    function isValid(bytes32 uid) external view returns (bool) {
        return _statusOf(uid) == CertificateStatus.Valid;
    }

    /// @inheritdoc ICertificateVerifier
    function statusOf(bytes32 uid) external view returns (CertificateStatus) {
        return _statusOf(uid);
    }

    /// @inheritdoc ICertificateVerifier
    function certificateOf(bytes32 uid) external view returns (CertificateSchema.Certificate memory) {
        Attestation memory attestation = resolver.eas().getAttestation(uid);
        CertificateStatus status = _kindOf(attestation);
        if (status != CertificateStatus.Valid) revert CertificateVerifierNotACertificate(uid, status);
        return CertificateSchema.decode(attestation.data);
    }

    /// @dev The status, checks in the order of `CertificateStatus`.
    function _statusOf(bytes32 uid) private view returns (CertificateStatus) {
        Attestation memory attestation = resolver.eas().getAttestation(uid);
        CertificateStatus kind = _kindOf(attestation);
        if (kind != CertificateStatus.Valid) return kind;
        if (attestation.revocationTime != 0) return CertificateStatus.Revoked;
        if (resolver.replacedBy(uid) != bytes32(0)) return CertificateStatus.Replaced;
        if (attestation.expirationTime <= block.timestamp) return CertificateStatus.Expired;
        uint64 since = resolver.issuerAuthorizedSince(attestation.attester);
        if (since == 0 || attestation.time < since) return CertificateStatus.IssuerNotAuthorized;
        // The resolver accepted only the schema's six words, so the decoding cannot revert.
        if (!resolver.models().isActive(CertificateSchema.decode(attestation.data).modelId)) {
            return CertificateStatus.ModelNotActive;
        }
        return CertificateStatus.Valid;
    }

    /// @dev `NotFound`, `WrongSchema`, or `Valid` for an attestation under the certificate schema.
    function _kindOf(Attestation memory attestation) private view returns (CertificateStatus) {
        if (attestation.uid == bytes32(0)) return CertificateStatus.NotFound;
        if (attestation.schema != resolver.schemaUID()) return CertificateStatus.WrongSchema;
        return CertificateStatus.Valid;
    }
}
