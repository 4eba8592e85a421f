// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICertificateResolver} from "../certificates/interfaces/ICertificateResolver.sol";
import {ICertificateVerifier} from "../certificates/interfaces/ICertificateVerifier.sol";
import {CertificateFixture} from "./utils/CertificateFixture.sol";

/// @dev Red team: attacks on the certificates' on-chain checks, each found failing before its fix.
contract CertificateRedTeamTest is CertificateFixture {
    /// @dev An issuer de-authorized and authorized again within one second (one block, or a rotation script) must
    ///      not revive the certificates it attested before the de-authorization.
    function test_RT1_deauthorizedAndRegrantedInTheSameSecondDoesNotReviveOldCertificates() public {
        vm.warp(block.timestamp + 1 days);
        bytes32 uid = _issue(issuer);
        bytes32 role = resolver.ISSUER_ROLE();
        vm.startPrank(admin);
        resolver.revokeRole(role, issuer);
        resolver.grantRole(role, issuer);
        vm.stopPrank();
        assertEq(uint8(verifier.statusOf(uid)), uint8(ICertificateVerifier.CertificateStatus.IssuerNotAuthorized));
        assertFalse(verifier.isValid(uid));
        // Within that second the issuer attests nothing (it would be invalid at once); a second later it does.
        vm.expectRevert(
            abi.encodeWithSelector(ICertificateResolver.CertificateResolverUnauthorizedIssuer.selector, issuer)
        );
        _issue(issuer);
        vm.warp(block.timestamp + 1);
        assertTrue(verifier.isValid(_issue(issuer)));
    }

    /// @dev The same holds when the issuer renounces its role itself and is granted it again in the same second.
    function test_RT1b_renouncedAndRegrantedInTheSameSecondDoesNotReviveOldCertificates() public {
        vm.warp(block.timestamp + 1 days);
        bytes32 uid = _issue(issuer);
        bytes32 role = resolver.ISSUER_ROLE();
        vm.prank(issuer);
        resolver.renounceRole(role, issuer);
        vm.prank(admin);
        resolver.grantRole(role, issuer);
        assertFalse(verifier.isValid(uid));
    }

    /// @dev A first grant and an attestation in the same second stay valid (the fixture grants in `setUp`).
    function test_RT1c_firstGrantThenAttestInTheSameSecondIsValid() public {
        assertTrue(verifier.isValid(_issue(issuer)));
    }
}
