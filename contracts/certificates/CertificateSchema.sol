// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title CertificateSchema
/// @notice The EAS schema of a trust certificate and its codec. The attestation's own fields carry the rest:
///         `recipient` (equal to `subject`), `attester` (the issuer), `expirationTime`, `revocationTime` and
///         `refUID` (the certificate this one replaces, or zero).
library CertificateSchema {
    /// @notice The schema string registered in EAS's `SchemaRegistry` (revocable, with the resolver).
    string internal constant SCHEMA =
        "address subject,uint8 level,uint32 score,bytes32 modelId,bytes32 featuresRoot,uint64 asOfBlock";

    /// @notice The ABI-encoded length of a certificate's data: six static words.
    uint256 internal constant DATA_LENGTH = 6 * 32;

    /// @notice A certificate's data.
    /// @param subject The address the certificate is about (the attestation's recipient).
    /// @param level The confidence level, `0 .. levels - 1` of the model.
    /// @param score The score the level was derived from.
    /// @param modelId The scoring model, in `ScoringModelRegistry`.
    /// @param featuresRoot The Merkle root of the features the score used.
    /// @param asOfBlock The last block of the subject's history the features cover (recompute them up to it).
    struct Certificate {
        address subject;
        uint8 level;
        uint32 score;
        bytes32 modelId;
        bytes32 featuresRoot;
        uint64 asOfBlock;
    }

    /// @notice The schema's UID in `SchemaRegistry`, as it computes it: `keccak256(schema ‖ resolver ‖ revocable)`.
    /// @param resolver The certificate resolver.
    /// @return The UID of `SCHEMA` registered with `resolver`, revocable.
    function uid(address resolver) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(SCHEMA, resolver, true));
    }

    /// @notice A certificate's attestation data.
    /// @param certificate The certificate.
    /// @return The ABI encoding of its six fields.
    function encode(Certificate memory certificate) internal pure returns (bytes memory) {
        return
            abi.encode(
                certificate.subject,
                certificate.level,
                certificate.score,
                certificate.modelId,
                certificate.featuresRoot,
                certificate.asOfBlock
            );
    }

    /// @notice Decodes attestation data.
    /// @dev The caller checks the length is `DATA_LENGTH`; a word out of its type's range (a level above 255, say)
    ///      reverts in the ABI decoder without data.
    /// @param data The attestation data.
    /// @return certificate The certificate.
    function decode(bytes memory data) internal pure returns (Certificate memory certificate) {
        (
            certificate.subject,
            certificate.level,
            certificate.score,
            certificate.modelId,
            certificate.featuresRoot,
            certificate.asOfBlock
        ) = abi.decode(data, (address, uint8, uint32, bytes32, bytes32, uint64));
    }
}
