// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Attestation} from "@ethereum-attestation-service/eas-contracts/contracts/Common.sol";
import {IEAS} from "@ethereum-attestation-service/eas-contracts/contracts/IEAS.sol";
import {SchemaResolver} from "@ethereum-attestation-service/eas-contracts/contracts/resolver/SchemaResolver.sol";
// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {CertificateSchema} from "./CertificateSchema.sol";
import {ICertificateResolver} from "./interfaces/ICertificateResolver.sol";
import {IScoringModelRegistry} from "./interfaces/IScoringModelRegistry.sol";

/// @title CertificateResolver
/// @notice The EAS resolver of the trust-certificate schema (see `ICertificateResolver`).
/// @dev Roles:
///      - `DEFAULT_ADMIN_ROLE` (one holder, handed over in two steps after a delay): grants and revokes roles,
///        `ISSUER_ROLE` among them.
///      - `ISSUER_ROLE`: the accounts whose attestations (direct or delegated: EAS makes the signer the attester)
///        are accepted as certificates.
///
///      EAS itself lets only a certificate's attester revoke it; this resolver accepts every such revocation, also
///      from an issuer no longer authorized (its certificates are invalid already, and it may still clean up).
///      Revoking `ISSUER_ROLE` makes all of the issuer's certificates invalid in `CertificateVerifier`; granting it
///      again records a new `issuerAuthorizedSince`, so certificates issued before stay invalid. A grant in the
///      same second as the issuer's de-authorization counts from the next second (a certificate of that second
///      may predate the de-authorization), and the issuer attests nothing until then.
///
///      Anyone can register another schema with this resolver in EAS's permissionless `SchemaRegistry`; the
///      resolver accepts only attestations under `schemaUID`, the certificate schema string, revocable.
contract CertificateResolver is ICertificateResolver, SchemaResolver, AccessControlDefaultAdminRules {
    /// @inheritdoc ICertificateResolver
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");

    /// @inheritdoc ICertificateResolver
    bytes32 public immutable schemaUID;
    /// @inheritdoc ICertificateResolver
    IScoringModelRegistry public immutable models;
    /// @inheritdoc ICertificateResolver
    uint64 public immutable maxValidity;

    mapping(address issuer => uint64 since) private _issuerAuthorizedSince;
    mapping(bytes32 uid => bytes32 replacement) private _replacedBy;
    mapping(address issuer => uint64 at) private _issuerDeauthorizedAt;

    /// @param eas_ The EAS contract.
    /// @param models_ The scoring model registry.
    /// @param maxValidity_ The longest validity of a certificate, in seconds (non-zero).
    /// @param initialAdmin The default admin.
    /// @param adminDelay The delay of a default admin handover.
    constructor(
        IEAS eas_,
        IScoringModelRegistry models_,
        uint64 maxValidity_,
        address initialAdmin,
        uint48 adminDelay
    ) SchemaResolver(eas_) AccessControlDefaultAdminRules(adminDelay, initialAdmin) {
        if (address(models_) == address(0) || maxValidity_ == 0) {
            revert CertificateResolverInvalidSetup(address(models_), maxValidity_);
        }
        schemaUID = CertificateSchema.uid(address(this));
        models = models_;
        maxValidity = maxValidity_;
    }

    /// @inheritdoc ICertificateResolver
    function eas() external view returns (IEAS) {
        return _eas;
    }

    /// @inheritdoc ICertificateResolver
    function issuerAuthorizedSince(address issuer) external view returns (uint64) {
        return _issuerAuthorizedSince[issuer];
    }

    /// @inheritdoc ICertificateResolver
    function replacedBy(bytes32 uid) external view returns (bytes32) {
        return _replacedBy[uid];
    }

    /// @dev Accepts a certificate or reverts with the reason (EAS bubbles the revert up to the attester).
    function onAttest(Attestation calldata attestation, uint256 /* value */) internal override returns (bool) {
        _checkSchema(attestation.schema);
        if (
            !hasRole(ISSUER_ROLE, attestation.attester) ||
            attestation.time < _issuerAuthorizedSince[attestation.attester]
        ) revert CertificateResolverUnauthorizedIssuer(attestation.attester);
        if (!attestation.revocable) revert CertificateResolverIrrevocable();
        uint256 latest = uint256(attestation.time) + maxValidity;
        if (attestation.expirationTime == 0 || attestation.expirationTime > latest) {
            revert CertificateResolverInvalidExpiration(attestation.expirationTime, latest);
        }
        if (attestation.data.length != CertificateSchema.DATA_LENGTH) {
            revert CertificateResolverMalformedData(attestation.data.length);
        }
        CertificateSchema.Certificate memory certificate = CertificateSchema.decode(attestation.data);
        if (attestation.recipient != certificate.subject) {
            revert CertificateResolverSubjectMismatch(attestation.recipient, certificate.subject);
        }
        IScoringModelRegistry.Model memory model = models.modelOf(certificate.modelId);
        if (model.state != IScoringModelRegistry.ModelState.Active) {
            revert CertificateResolverModelNotActive(certificate.modelId, model.state);
        }
        if (certificate.level >= model.levels) {
            revert CertificateResolverLevelOutOfRange(certificate.modelId, certificate.level, model.levels);
        }
        // The features are read from history: a block not yet mined cannot have been read.
        if (certificate.asOfBlock >= block.number) {
            revert CertificateResolverFutureBlock(certificate.asOfBlock, block.number);
        }
        if (attestation.refUID != bytes32(0)) _replace(attestation);
        emit CertificateIssued(
            attestation.uid,
            certificate.subject,
            attestation.attester,
            certificate.modelId,
            certificate.level,
            certificate.score,
            certificate.featuresRoot,
            certificate.asOfBlock,
            attestation.expirationTime
        );
        return true;
    }

    /// @dev Accepts every revocation under the schema; EAS has checked the revoker is the attester.
    function onRevoke(Attestation calldata attestation, uint256 /* value */) internal override returns (bool) {
        _checkSchema(attestation.schema);
        emit CertificateRevoked(attestation.uid, attestation.attester);
        return true;
    }

    /// @dev Records when an issuer is (re)authorized: from the next second if it was de-authorized in this one, so
    ///      that its certificates of this second, which may predate the de-authorization, stay invalid.
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted && role == ISSUER_ROLE) {
            uint64 since = SafeCast.toUint64(block.timestamp);
            if (_issuerDeauthorizedAt[account] == since) since += 1;
            _issuerAuthorizedSince[account] = since;
        }
    }

    /// @dev Forgets when a de-authorized issuer was authorized, and records when it was de-authorized.
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked && role == ISSUER_ROLE) {
            delete _issuerAuthorizedSince[account];
            _issuerDeauthorizedAt[account] = SafeCast.toUint64(block.timestamp);
        }
    }

    /// @dev Marks `attestation.refUID` replaced by `attestation`: the same issuer's certificate about the same
    ///      subject, not replaced before. (EAS has checked that `refUID` exists.)
    function _replace(Attestation calldata attestation) private {
        bytes32 old = attestation.refUID;
        Attestation memory previous = _eas.getAttestation(old);
        if (
            previous.schema != schemaUID ||
            previous.attester != attestation.attester ||
            previous.recipient != attestation.recipient
        ) revert CertificateResolverInvalidReplacement(old);
        bytes32 replacement = _replacedBy[old];
        if (replacement != bytes32(0)) revert CertificateResolverAlreadyReplaced(old, replacement);
        _replacedBy[old] = attestation.uid;
        emit CertificateReplaced(old, attestation.uid, attestation.attester);
    }

    /// @dev Reverts `CertificateResolverWrongSchema` unless `schema` is the certificate schema.
    function _checkSchema(bytes32 schema) private view {
        if (schema != schemaUID) revert CertificateResolverWrongSchema(schema, schemaUID);
    }
}
