// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Signature} from "@ethereum-attestation-service/eas-contracts/contracts/Common.sol";
import {
    IEAS,
    AttestationRequest,
    AttestationRequestData,
    DelegatedAttestationRequest,
    RevocationRequest,
    RevocationRequestData
} from "@ethereum-attestation-service/eas-contracts/contracts/IEAS.sol";
import {ISchemaRegistry} from "@ethereum-attestation-service/eas-contracts/contracts/ISchemaRegistry.sol";
import {ISchemaResolver} from "@ethereum-attestation-service/eas-contracts/contracts/resolver/ISchemaResolver.sol";
import {Test} from "forge-std/Test.sol";

import {CertificateResolver} from "../../certificates/CertificateResolver.sol";
import {CertificateSchema} from "../../certificates/CertificateSchema.sol";
import {CertificateVerifier} from "../../certificates/CertificateVerifier.sol";
import {ScoringModelRegistry} from "../../certificates/ScoringModelRegistry.sol";

/// @dev EAS's EIP-712 getters, which `IEAS` does not declare.
interface IEASSigning {
    function getDomainSeparator() external view returns (bytes32);

    function getNonce(address account) external view returns (uint256);

    function getAttestTypeHash() external pure returns (bytes32);
}

/// @dev EAS 1.9.0 (`SchemaRegistry` and `EAS`, deployed from the bytecode its npm package publishes, unchanged), the
///      scoring model registry, the certificate resolver with its schema registered, and the verifier.
abstract contract CertificateFixture is Test {
    string internal constant ARTIFACTS =
        "node_modules/@ethereum-attestation-service/eas-contracts/artifacts/contracts/";
    uint48 internal constant ADMIN_DELAY = 3 days;
    uint64 internal constant MAX_VALIDITY = 365 days;
    uint64 internal constant VALIDITY = 30 days;
    bytes32 internal constant MODEL = keccak256("bank-chain/trust-score/v1");
    bytes32 internal constant MODEL_HASH = keccak256("model v1 content");
    uint8 internal constant LEVELS = 4;
    bytes32 internal constant FEATURES_ROOT = keccak256("features");

    address internal admin = makeAddr("admin");
    address internal modelAdmin = makeAddr("modelAdmin");
    address internal issuer;
    uint256 internal issuerKey;
    address internal otherIssuer = makeAddr("otherIssuer");
    address internal mallory;
    uint256 internal malloryKey;
    address internal subject = makeAddr("subject");

    ISchemaRegistry internal schemaRegistry;
    IEAS internal eas;
    ScoringModelRegistry internal models;
    CertificateResolver internal resolver;
    CertificateVerifier internal verifier;
    bytes32 internal schema;

    function setUp() public virtual {
        (issuer, issuerKey) = makeAddrAndKey("issuer");
        (mallory, malloryKey) = makeAddrAndKey("mallory");
        schemaRegistry = ISchemaRegistry(_deployArtifact("SchemaRegistry.sol/SchemaRegistry.json", ""));
        eas = IEAS(_deployArtifact("EAS.sol/EAS.json", abi.encode(schemaRegistry)));
        models = new ScoringModelRegistry(admin, ADMIN_DELAY);
        resolver = new CertificateResolver(eas, models, MAX_VALIDITY, admin, ADMIN_DELAY);
        verifier = new CertificateVerifier(resolver);
        schema = schemaRegistry.register(CertificateSchema.SCHEMA, ISchemaResolver(address(resolver)), true);

        vm.startPrank(admin);
        models.grantRole(models.MODEL_ADMIN_ROLE(), modelAdmin);
        resolver.grantRole(resolver.ISSUER_ROLE(), issuer);
        resolver.grantRole(resolver.ISSUER_ROLE(), otherIssuer);
        vm.stopPrank();
        vm.startPrank(modelAdmin);
        models.registerModel(MODEL, 1, MODEL_HASH, LEVELS);
        models.activateModel(MODEL);
        vm.stopPrank();
    }

    /// @dev Deploys an EAS artifact's creation bytecode, followed by the constructor arguments.
    function _deployArtifact(string memory artifact, bytes memory args) internal returns (address deployed) {
        string memory json = vm.readFile(string.concat(ARTIFACTS, artifact));
        bytes memory code = bytes.concat(vm.parseJsonBytes(json, ".bytecode"), args);
        assembly ("memory-safe") {
            deployed := create(0, add(code, 0x20), mload(code))
        }
        assertTrue(deployed != address(0), artifact);
    }

    function _data(address subject_, uint8 level, bytes32 modelId) internal view returns (bytes memory) {
        return
            CertificateSchema.encode(
                CertificateSchema.Certificate(subject_, level, 700, modelId, FEATURES_ROOT, _lastBlock())
            );
    }

    /// @dev The newest block a certificate's features may cover: the one before the current.
    function _lastBlock() internal view returns (uint64) {
        return uint64(block.number - 1);
    }

    function _request(bytes32 refUID) internal view returns (AttestationRequestData memory) {
        return
            AttestationRequestData({
                recipient: subject,
                expirationTime: uint64(block.timestamp) + VALIDITY,
                revocable: true,
                refUID: refUID,
                data: _data(subject, 2, MODEL),
                value: 0
            });
    }

    /// @dev `attester` attests a valid certificate about `subject` through EAS.
    function _issue(address attester) internal returns (bytes32) {
        return _attestAs(attester, _request(bytes32(0)));
    }

    function _attestAs(address attester, AttestationRequestData memory data) internal returns (bytes32 uid) {
        vm.prank(attester);
        uid = eas.attest(AttestationRequest({schema: schema, data: data}));
    }

    function _revokeAs(address revoker, bytes32 uid) internal {
        vm.prank(revoker);
        eas.revoke(RevocationRequest({schema: schema, data: RevocationRequestData({uid: uid, value: 0})}));
    }

    /// @dev A delegated attestation request signed with `key` for `attester`, as EAS 1.4.0's EIP-712 `Attest` type.
    function _delegated(
        address attester,
        uint256 key,
        AttestationRequestData memory data
    ) internal view returns (DelegatedAttestationRequest memory request) {
        IEASSigning signing = IEASSigning(address(eas));
        // All static words: the two halves concatenated are the one `abi.encode` (split for the stack).
        bytes memory head = abi.encode(
            signing.getAttestTypeHash(),
            attester,
            schema,
            data.recipient,
            data.expirationTime,
            data.revocable
        );
        bytes memory tail = abi.encode(data.refUID, keccak256(data.data), data.value, signing.getNonce(attester), 0);
        bytes32 structHash = keccak256(bytes.concat(head, tail));
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", signing.getDomainSeparator(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        request = DelegatedAttestationRequest({
            schema: schema,
            data: data,
            signature: Signature({v: v, r: r, s: s}),
            attester: attester,
            deadline: 0
        });
    }
}
