// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IEAS} from "@ethereum-attestation-service/eas-contracts/contracts/IEAS.sol";

import {IScoringModelRegistry} from "./IScoringModelRegistry.sol";

/// @title ICertificateResolver
/// @notice The EAS resolver of the trust-certificate schema: EAS calls it on every attestation and revocation
///         under the schema, and the attestation stands only if it accepts. It accepts a certificate only from an
///         authorized issuer, under an active scoring model, revocable, expiring within the maximum validity, about
///         its own recipient; a certificate naming another in `refUID` replaces it.
interface ICertificateResolver {
    /// @notice A certificate was accepted.
    event CertificateIssued(
        bytes32 indexed uid,
        address indexed subject,
        address indexed issuer,
        bytes32 modelId,
        uint8 level,
        uint32 score,
        bytes32 featuresRoot,
        uint64 asOfBlock,
        uint64 expirationTime
    );
    /// @notice Certificate `oldUid` was replaced by `newUid`; `oldUid` is no longer valid.
    event CertificateReplaced(bytes32 indexed oldUid, bytes32 indexed newUid, address indexed issuer);
    /// @notice A certificate was revoked by its issuer.
    event CertificateRevoked(bytes32 indexed uid, address indexed issuer);

    /// @notice The models registry is the zero address, or the maximum validity is zero.
    error CertificateResolverInvalidSetup(address models, uint64 maxValidity);
    /// @notice The attestation is not under the certificate schema registered with this resolver.
    error CertificateResolverWrongSchema(bytes32 schema, bytes32 expected);
    /// @notice The attester does not hold `ISSUER_ROLE`, or not yet (see `issuerAuthorizedSince`).
    error CertificateResolverUnauthorizedIssuer(address attester);
    /// @notice The certificate's scoring model is not active.
    error CertificateResolverModelNotActive(bytes32 modelId, IScoringModelRegistry.ModelState state);
    /// @notice The level is not one the model assigns.
    error CertificateResolverLevelOutOfRange(bytes32 modelId, uint8 level, uint8 levels);
    /// @notice The features were read at a block not yet mined (`asOfBlock` must be below `current`).
    error CertificateResolverFutureBlock(uint64 asOfBlock, uint256 current);
    /// @notice The attestation data is not the six words of the schema.
    error CertificateResolverMalformedData(uint256 length);
    /// @notice The attestation's recipient is not the certificate's subject.
    error CertificateResolverSubjectMismatch(address recipient, address subject);
    /// @notice The attestation was made irrevocable; a certificate must be revocable.
    error CertificateResolverIrrevocable();
    /// @notice The expiration time is zero (never) or beyond `latest` (now plus the maximum validity).
    error CertificateResolverInvalidExpiration(uint64 expirationTime, uint256 latest);
    /// @notice `refUID` is not a certificate of the same issuer about the same subject.
    error CertificateResolverInvalidReplacement(bytes32 refUID);
    /// @notice `refUID` has been replaced already, by `replacedBy`.
    error CertificateResolverAlreadyReplaced(bytes32 refUID, bytes32 replacedBy);

    /// @notice The role of the issuers whose attestations are accepted.
    /// @return The role id, `keccak256("ISSUER_ROLE")`.
    function ISSUER_ROLE() external view returns (bytes32);

    /// @notice The certificate schema's UID in EAS (the schema string registered with this resolver, revocable).
    /// @return The UID.
    function schemaUID() external view returns (bytes32);

    /// @notice The EAS contract whose attestations this resolver judges.
    /// @return The EAS contract.
    function eas() external view returns (IEAS);

    /// @notice The scoring models.
    /// @return The registry.
    function models() external view returns (IScoringModelRegistry);

    /// @notice The longest validity of a certificate, in seconds from its issue.
    /// @return The maximum validity.
    function maxValidity() external view returns (uint64);

    /// @notice When `issuer` was last authorized, if it is now.
    /// @param issuer The issuer.
    /// @return The timestamp `ISSUER_ROLE` was last granted (the next second when granted in the second the issuer
    ///         was de-authorized), or zero if the issuer does not hold it.
    function issuerAuthorizedSince(address issuer) external view returns (uint64);

    /// @notice The certificate that replaced `uid`.
    /// @param uid A certificate.
    /// @return The replacement's UID, or zero.
    function replacedBy(bytes32 uid) external view returns (bytes32);
}
