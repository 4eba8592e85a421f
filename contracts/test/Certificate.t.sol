// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessDenied, Attestation} from "@ethereum-attestation-service/eas-contracts/contracts/Common.sol";
import {
    AttestationRequest,
    AttestationRequestData,
    DelegatedAttestationRequest
} from "@ethereum-attestation-service/eas-contracts/contracts/IEAS.sol";
import {ISchemaResolver} from "@ethereum-attestation-service/eas-contracts/contracts/resolver/ISchemaResolver.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {CertificateResolver} from "../certificates/CertificateResolver.sol";
import {CertificateSchema} from "../certificates/CertificateSchema.sol";
import {ICertificateResolver} from "../certificates/interfaces/ICertificateResolver.sol";
import {ICertificateVerifier} from "../certificates/interfaces/ICertificateVerifier.sol";
import {IScoringModelRegistry} from "../certificates/interfaces/IScoringModelRegistry.sol";
import {CertificateFixture} from "./utils/CertificateFixture.sol";

/// @dev Trust certificates attested through EAS 1.9.0 (really deployed) under `CertificateResolver`, checked by
///      `CertificateVerifier`. Attacks first.
contract CertificateTest is CertificateFixture {
    bytes32 internal constant MODEL_2 = keccak256("bank-chain/trust-score/v2");

    // ---------------------------------------------------------------- attacks

    function test_A1_strangerCannotIssue() public {
        vm.expectRevert(
            abi.encodeWithSelector(ICertificateResolver.CertificateResolverUnauthorizedIssuer.selector, mallory)
        );
        _issue(mallory);
    }

    function test_A2_deauthorizedIssuerCertificatesTurnInvalidAndStayInvalidOnRegrant() public {
        bytes32 uid = _issue(issuer);
        assertTrue(verifier.isValid(uid));
        bytes32 role = resolver.ISSUER_ROLE();
        vm.prank(admin);
        resolver.revokeRole(role, issuer);
        assertFalse(verifier.isValid(uid));
        assertEq(uint8(verifier.statusOf(uid)), uint8(ICertificateVerifier.CertificateStatus.IssuerNotAuthorized));
        assertEq(resolver.issuerAuthorizedSince(issuer), 0);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificateResolver.CertificateResolverUnauthorizedIssuer.selector, issuer)
        );
        _issue(issuer);
        // Authorized again later: the certificate issued under the earlier authorization stays invalid.
        vm.warp(block.timestamp + 1 days);
        vm.prank(admin);
        resolver.grantRole(role, issuer);
        assertEq(resolver.issuerAuthorizedSince(issuer), block.timestamp);
        assertFalse(verifier.isValid(uid));
        assertTrue(verifier.isValid(_issue(issuer)));
        // The other issuer's certificates are untouched.
        assertTrue(verifier.isValid(_issue(otherIssuer)));
    }

    function test_A3_retiredModelInvalidatesItsCertificatesAndRefusesNewOnes() public {
        bytes32 uid = _issue(issuer);
        vm.prank(modelAdmin);
        models.retireModel(MODEL);
        assertFalse(verifier.isValid(uid));
        assertEq(uint8(verifier.statusOf(uid)), uint8(ICertificateVerifier.CertificateStatus.ModelNotActive));
        vm.expectRevert(
            abi.encodeWithSelector(
                ICertificateResolver.CertificateResolverModelNotActive.selector,
                MODEL,
                IScoringModelRegistry.ModelState.Retired
            )
        );
        _issue(issuer);
    }

    function test_A3b_registeredButInactiveOrUnknownModelIsRefused() public {
        vm.prank(modelAdmin);
        models.registerModel(MODEL_2, 2, keccak256("v2"), LEVELS);
        AttestationRequestData memory data = _request(bytes32(0));
        data.data = _data(subject, 1, MODEL_2);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICertificateResolver.CertificateResolverModelNotActive.selector,
                MODEL_2,
                IScoringModelRegistry.ModelState.Registered
            )
        );
        _attestAs(issuer, data);
        data.data = _data(subject, 1, bytes32(uint256(7)));
        vm.expectRevert(
            abi.encodeWithSelector(
                ICertificateResolver.CertificateResolverModelNotActive.selector,
                bytes32(uint256(7)),
                IScoringModelRegistry.ModelState.None
            )
        );
        _attestAs(issuer, data);
    }

    function test_A4_expiredCertificateIsInvalid() public {
        bytes32 uid = _issue(issuer);
        vm.warp(block.timestamp + VALIDITY - 1);
        assertTrue(verifier.isValid(uid));
        vm.warp(block.timestamp + 1);
        assertFalse(verifier.isValid(uid));
        assertEq(uint8(verifier.statusOf(uid)), uint8(ICertificateVerifier.CertificateStatus.Expired));
    }

    function test_A4b_certificateWithoutExpiryOrBeyondMaxValidityIsRefused() public {
        AttestationRequestData memory data = _request(bytes32(0));
        uint256 latest = block.timestamp + MAX_VALIDITY;
        data.expirationTime = 0;
        vm.expectRevert(
            abi.encodeWithSelector(ICertificateResolver.CertificateResolverInvalidExpiration.selector, 0, latest)
        );
        _attestAs(issuer, data);
        data.expirationTime = uint64(latest) + 1;
        vm.expectRevert(
            abi.encodeWithSelector(
                ICertificateResolver.CertificateResolverInvalidExpiration.selector,
                uint64(latest) + 1,
                latest
            )
        );
        _attestAs(issuer, data);
        data.expirationTime = uint64(latest);
        assertTrue(verifier.isValid(_attestAs(issuer, data)));
    }

    function test_A5_revokedCertificateIsInvalid_onlyItsIssuerRevokes() public {
        bytes32 uid = _issue(issuer);
        vm.expectRevert(AccessDenied.selector);
        _revokeAs(otherIssuer, uid);
        vm.expectEmit(address(resolver));
        emit ICertificateResolver.CertificateRevoked(uid, issuer);
        _revokeAs(issuer, uid);
        assertFalse(verifier.isValid(uid));
        assertEq(uint8(verifier.statusOf(uid)), uint8(ICertificateVerifier.CertificateStatus.Revoked));
    }

    function test_A5b_deauthorizedIssuerCanStillRevoke() public {
        bytes32 uid = _issue(issuer);
        bytes32 role = resolver.ISSUER_ROLE();
        vm.prank(admin);
        resolver.revokeRole(role, issuer);
        _revokeAs(issuer, uid);
        assertEq(uint8(verifier.statusOf(uid)), uint8(ICertificateVerifier.CertificateStatus.Revoked));
    }

    function test_A5c_irrevocableCertificateIsRefused() public {
        AttestationRequestData memory data = _request(bytes32(0));
        data.revocable = false;
        vm.expectRevert(ICertificateResolver.CertificateResolverIrrevocable.selector);
        _attestAs(issuer, data);
    }

    function test_A6_replacedCertificateIsInvalid_replacedOnlyOnceAndOnlyByItsIssuer() public {
        bytes32 old = _issue(issuer);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificateResolver.CertificateResolverInvalidReplacement.selector, old)
        );
        _attestAs(otherIssuer, _request(old));
        bytes32 replacement = _attestAs(issuer, _request(old));
        assertEq(resolver.replacedBy(old), replacement);
        assertFalse(verifier.isValid(old));
        assertEq(uint8(verifier.statusOf(old)), uint8(ICertificateVerifier.CertificateStatus.Replaced));
        assertTrue(verifier.isValid(replacement));
        vm.expectRevert(
            abi.encodeWithSelector(ICertificateResolver.CertificateResolverAlreadyReplaced.selector, old, replacement)
        );
        _attestAs(issuer, _request(old));
    }

    function test_A6b_replacementMustKeepTheSubject() public {
        bytes32 old = _issue(issuer);
        AttestationRequestData memory data = _request(old);
        data.recipient = mallory;
        data.data = _data(mallory, 3, MODEL);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificateResolver.CertificateResolverInvalidReplacement.selector, old)
        );
        _attestAs(issuer, data);
    }

    function test_A7_delegatedAttestationSignedByNonIssuerIsRefused() public {
        // An authorized issuer relays (msg.sender and tx.origin), but the signer, whom EAS makes the attester, is not.
        AttestationRequestData memory data = _request(bytes32(0));
        DelegatedAttestationRequest memory forged = _delegated(mallory, malloryKey, data);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificateResolver.CertificateResolverUnauthorizedIssuer.selector, mallory)
        );
        vm.prank(otherIssuer, otherIssuer);
        eas.attestByDelegation(forged);
        // Signed by the issuer, relayed by a stranger: accepted, with the issuer as attester.
        DelegatedAttestationRequest memory signed = _delegated(issuer, issuerKey, data);
        vm.prank(mallory, mallory);
        bytes32 uid = eas.attestByDelegation(signed);
        assertEq(eas.getAttestation(uid).attester, issuer);
        assertTrue(verifier.isValid(uid));
    }

    function test_A8_otherSchemaWithThisResolverIsRefused() public {
        bytes32 irrevocable = schemaRegistry.register(
            CertificateSchema.SCHEMA,
            ISchemaResolver(address(resolver)),
            false
        );
        bytes32 otherString = schemaRegistry.register("uint8 level", ISchemaResolver(address(resolver)), true);
        AttestationRequestData memory data = _request(bytes32(0));
        data.revocable = false;
        vm.expectRevert(
            abi.encodeWithSelector(ICertificateResolver.CertificateResolverWrongSchema.selector, irrevocable, schema)
        );
        vm.prank(issuer);
        eas.attest(AttestationRequest({schema: irrevocable, data: data}));
        vm.expectRevert(
            abi.encodeWithSelector(ICertificateResolver.CertificateResolverWrongSchema.selector, otherString, schema)
        );
        vm.prank(issuer);
        eas.attest(AttestationRequest({schema: otherString, data: _request(bytes32(0))}));
    }

    function test_A9_subjectLevelAndDataAreChecked() public {
        AttestationRequestData memory data = _request(bytes32(0));
        data.data = _data(mallory, 1, MODEL);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificateResolver.CertificateResolverSubjectMismatch.selector, subject, mallory)
        );
        _attestAs(issuer, data);
        data.data = _data(subject, LEVELS, MODEL);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICertificateResolver.CertificateResolverLevelOutOfRange.selector,
                MODEL,
                LEVELS,
                LEVELS
            )
        );
        _attestAs(issuer, data);
        data.data = bytes.concat(_data(subject, 1, MODEL), bytes1(0));
        vm.expectRevert(abi.encodeWithSelector(ICertificateResolver.CertificateResolverMalformedData.selector, 193));
        _attestAs(issuer, data);
        // Features said to be read at the current block (or later) were not read from history.
        data.data = CertificateSchema.encode(
            CertificateSchema.Certificate(subject, 1, 700, MODEL, FEATURES_ROOT, uint64(block.number))
        );
        vm.expectRevert(
            abi.encodeWithSelector(
                ICertificateResolver.CertificateResolverFutureBlock.selector,
                uint64(block.number),
                block.number
            )
        );
        _attestAs(issuer, data);
    }

    function test_A10_resolverAnswersOnlyEas() public {
        Attestation memory forged;
        forged.schema = schema;
        forged.attester = issuer;
        vm.expectRevert(AccessDenied.selector);
        vm.prank(issuer);
        resolver.attest(forged);
    }

    function test_A11_unknownOrForeignUidIsNotACertificate() public {
        bytes32 unknown = keccak256("nothing");
        assertEq(uint8(verifier.statusOf(unknown)), uint8(ICertificateVerifier.CertificateStatus.NotFound));
        vm.expectRevert(
            abi.encodeWithSelector(
                ICertificateVerifier.CertificateVerifierNotACertificate.selector,
                unknown,
                ICertificateVerifier.CertificateStatus.NotFound
            )
        );
        verifier.certificateOf(unknown);
        bytes32 foreignSchema = schemaRegistry.register("uint8 x", ISchemaResolver(address(0)), true);
        AttestationRequestData memory data = _request(bytes32(0));
        vm.prank(mallory);
        bytes32 foreign = eas.attest(AttestationRequest({schema: foreignSchema, data: data}));
        assertFalse(verifier.isValid(foreign));
        assertEq(uint8(verifier.statusOf(foreign)), uint8(ICertificateVerifier.CertificateStatus.WrongSchema));
    }

    // ---------------------------------------------------------------- unit

    function test_setUp_schemaUidIsTheRegistrysAndEasIsTheRealOne() public view {
        assertEq(schema, resolver.schemaUID());
        assertEq(schema, CertificateSchema.uid(address(resolver)));
        assertEq(schemaRegistry.getSchema(schema).schema, CertificateSchema.SCHEMA);
        assertEq(eas.version(), "1.4.0");
        assertEq(address(eas.getSchemaRegistry()), address(schemaRegistry));
        assertEq(address(resolver.eas()), address(eas));
        assertEq(address(resolver.models()), address(models));
        assertEq(address(verifier.resolver()), address(resolver));
        assertEq(resolver.maxValidity(), MAX_VALIDITY);
        assertEq(resolver.defaultAdmin(), admin);
        assertEq(resolver.defaultAdminDelay(), ADMIN_DELAY);
    }

    function test_issue_acceptsEmitsAndDecodes() public {
        vm.expectEmit(false, true, true, true, address(resolver));
        emit ICertificateResolver.CertificateIssued(
            bytes32(0),
            subject,
            issuer,
            MODEL,
            2,
            700,
            FEATURES_ROOT,
            _lastBlock(),
            uint64(block.timestamp) + VALIDITY
        );
        bytes32 uid = _issue(issuer);
        assertTrue(verifier.isValid(uid));
        assertEq(uint8(verifier.statusOf(uid)), uint8(ICertificateVerifier.CertificateStatus.Valid));
        CertificateSchema.Certificate memory certificate = verifier.certificateOf(uid);
        assertEq(certificate.subject, subject);
        assertEq(certificate.level, 2);
        assertEq(certificate.score, 700);
        assertEq(certificate.modelId, MODEL);
        assertEq(certificate.featuresRoot, FEATURES_ROOT);
        assertEq(certificate.asOfBlock, _lastBlock());
        Attestation memory attestation = eas.getAttestation(uid);
        assertEq(attestation.recipient, subject);
        assertEq(attestation.attester, issuer);
    }

    function test_constructor_refusesZeroModelsOrValidity() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ICertificateResolver.CertificateResolverInvalidSetup.selector,
                address(0),
                MAX_VALIDITY
            )
        );
        new CertificateResolver(eas, IScoringModelRegistry(address(0)), MAX_VALIDITY, admin, ADMIN_DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificateResolver.CertificateResolverInvalidSetup.selector, address(models), 0)
        );
        new CertificateResolver(eas, models, 0, admin, ADMIN_DELAY);
    }

    function test_grantRole_onlyAdminAuthorizesIssuers() public {
        bytes32 role = resolver.ISSUER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                issuer,
                resolver.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(issuer);
        resolver.grantRole(role, mallory);
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_issue_validUntilExpiry(uint8 level, uint64 validity, uint64 elapsed) public {
        level = uint8(bound(level, 0, LEVELS - 1));
        validity = uint64(bound(validity, 1, MAX_VALIDITY));
        elapsed = uint64(bound(elapsed, 0, MAX_VALIDITY + 1));
        AttestationRequestData memory data = _request(bytes32(0));
        data.expirationTime = uint64(block.timestamp) + validity;
        data.data = _data(subject, level, MODEL);
        bytes32 uid = _attestAs(issuer, data);
        vm.warp(block.timestamp + elapsed);
        assertEq(verifier.isValid(uid), elapsed < validity);
    }
}
