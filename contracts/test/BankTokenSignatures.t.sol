// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IBankToken} from "../token/interfaces/IBankToken.sol";
import {IERC3009} from "../token/interfaces/IERC3009.sol";
import {BankTokenTestBase, MockERC1271Wallet} from "./BankTokenBase.t.sol";

/// @notice EIP-2612 `permit` and EIP-3009 authorizations of `BankToken`: EOA signatures from fuzzed keys,
///         ERC-1271 wallets, both signature encodings, every revert path.
contract BankTokenSignaturesTest is BankTokenTestBase {
    MockERC1271Wallet internal wallet;
    uint256 internal walletOwnerKey;

    function setUp() public override {
        super.setUp();
        address walletOwner;
        (walletOwner, walletOwnerKey) = makeAddrAndKey("walletOwner");
        wallet = new MockERC1271Wallet(walletOwner);
    }

    // ─────────────────────────────────────────── permit ───────────────────────────────────────────

    function test_permit_setsAllowanceAndBumpsNonce() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _sign(aliceKey, _permitDigest(alice, bob, 500, 0, deadline));
        vm.expectEmit(address(token));
        emit IERC20.Approval(alice, bob, 500);
        vm.prank(carol);
        token.permit(alice, bob, 500, deadline, v, r, s);
        assertEq(token.allowance(alice, bob), 500);
        assertEq(token.nonces(alice), 1);
    }

    function test_permit_acceptsTheDeadlineItself() public {
        uint256 deadline = block.timestamp;
        (uint8 v, bytes32 r, bytes32 s) = _sign(aliceKey, _permitDigest(alice, bob, 1, 0, deadline));
        token.permit(alice, bob, 1, deadline, v, r, s);
        assertEq(token.allowance(alice, bob), 1);
    }

    function test_permit_packedSignatureFromEoa() public {
        uint256 deadline = block.timestamp + 1;
        bytes memory sig = _signPacked(aliceKey, _permitDigest(alice, bob, 9, 0, deadline));
        token.permit(alice, bob, 9, deadline, sig);
        assertEq(token.allowance(alice, bob), 9);
        assertEq(token.nonces(alice), 1);
    }

    function test_permit_erc1271WalletWithVrs() public {
        uint256 deadline = block.timestamp + 1;
        (uint8 v, bytes32 r, bytes32 s) = _sign(walletOwnerKey, _permitDigest(address(wallet), bob, 33, 0, deadline));
        token.permit(address(wallet), bob, 33, deadline, v, r, s);
        assertEq(token.allowance(address(wallet), bob), 33);
        assertEq(token.nonces(address(wallet)), 1);
    }

    function test_permit_erc1271WalletWithArbitrarySignature() public {
        uint256 deadline = block.timestamp + 1;
        wallet.approveHash(_permitDigest(address(wallet), bob, 44, 0, deadline));
        token.permit(address(wallet), bob, 44, deadline, hex"c0ffee");
        assertEq(token.allowance(address(wallet), bob), 44);
    }

    function test_permit_revertsWhenWalletRejects() public {
        uint256 deadline = block.timestamp + 1;
        bytes memory sig = _signPacked(walletOwnerKey, _permitDigest(address(wallet), bob, 1, 0, deadline));
        wallet.setRejectAll(true);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidSignature.selector, address(wallet)));
        token.permit(address(wallet), bob, 1, deadline, sig);
    }

    function test_permit_revertsWhenExpired() public {
        uint256 deadline = block.timestamp - 1;
        (uint8 v, bytes32 r, bytes32 s) = _sign(aliceKey, _permitDigest(alice, bob, 1, 0, deadline));
        vm.expectRevert(
            abi.encodeWithSelector(IBankToken.BankTokenAuthorizationExpired.selector, deadline, block.timestamp)
        );
        token.permit(alice, bob, 1, deadline, v, r, s);
    }

    function test_permit_revertsWhenSignerIsNotOwner() public {
        uint256 deadline = block.timestamp + 1;
        (uint8 v, bytes32 r, bytes32 s) = _sign(bobKey, _permitDigest(alice, bob, 1, 0, deadline));
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidSignature.selector, alice));
        token.permit(alice, bob, 1, deadline, v, r, s);
    }

    function test_permit_revertsOnReplay() public {
        uint256 deadline = block.timestamp + 1;
        (uint8 v, bytes32 r, bytes32 s) = _sign(aliceKey, _permitDigest(alice, bob, 1, 0, deadline));
        token.permit(alice, bob, 1, deadline, v, r, s);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidSignature.selector, alice));
        token.permit(alice, bob, 1, deadline, v, r, s);
    }

    function test_permit_revertsOnMalleableSignature() public {
        uint256 deadline = block.timestamp + 1;
        (uint8 v, bytes32 r, bytes32 s) = _sign(aliceKey, _permitDigest(alice, bob, 1, 0, deadline));
        // The twin (r, n - s, v ^ 1) recovers the same signer; EIP-2 rejects it.
        bytes32 highS = bytes32(SECP256K1_ORDER - uint256(s));
        uint8 flippedV = v == 27 ? 28 : 27;
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidSignature.selector, alice));
        token.permit(alice, bob, 1, deadline, flippedV, r, highS);
    }

    function test_permit_revertsOnGarbageSignatures() public {
        uint256 deadline = block.timestamp + 1;
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidSignature.selector, alice));
        token.permit(alice, bob, 1, deadline, 0, bytes32(0), bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidSignature.selector, alice));
        token.permit(alice, bob, 1, deadline, hex"1234");
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidSignature.selector, address(0)));
        token.permit(address(0), bob, 1, deadline, 27, bytes32(uint256(1)), bytes32(uint256(1)));
    }

    function test_permit_revertsWhenPaused() public {
        uint256 deadline = block.timestamp + 1;
        (uint8 v, bytes32 r, bytes32 s) = _sign(aliceKey, _permitDigest(alice, bob, 1, 0, deadline));
        _pause();
        vm.expectRevert(IBankToken.BankTokenPaused.selector);
        token.permit(alice, bob, 1, deadline, v, r, s);
    }

    function test_permit_revertsWhenOwnerOrSpenderFrozen() public {
        uint256 deadline = block.timestamp + 1;
        (uint8 v, bytes32 r, bytes32 s) = _sign(aliceKey, _permitDigest(alice, bob, 1, 0, deadline));
        _freeze(bob);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, bob));
        token.permit(alice, bob, 1, deadline, v, r, s);
        _freeze(alice);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, alice));
        token.permit(alice, bob, 1, deadline, v, r, s);
    }

    function test_permit_revertsWhenSpenderZero() public {
        uint256 deadline = block.timestamp + 1;
        (uint8 v, bytes32 r, bytes32 s) = _sign(aliceKey, _permitDigest(alice, address(0), 1, 0, deadline));
        vm.expectRevert(IBankToken.BankTokenZeroAddress.selector);
        token.permit(alice, address(0), 1, deadline, v, r, s);
    }

    function testFuzz_permit(uint256 key, address spender, uint256 value, uint256 deadline) public {
        key = _boundKey(key);
        address owner = vm.addr(key);
        vm.assume(spender != address(0));
        deadline = bound(deadline, block.timestamp, type(uint256).max);
        (uint8 v, bytes32 r, bytes32 s) = _sign(key, _permitDigest(owner, spender, value, 0, deadline));
        token.permit(owner, spender, value, deadline, v, r, s);
        assertEq(token.allowance(owner, spender), value);
        assertEq(token.nonces(owner), 1);
        assertEq(token.balanceOf(owner), 0);
    }

    function testFuzz_permit_rejectsOtherSigners(uint256 ownerKey, uint256 signerKey, uint256 value) public {
        ownerKey = _boundKey(ownerKey);
        signerKey = _boundKey(signerKey);
        vm.assume(ownerKey != signerKey);
        address owner = vm.addr(ownerKey);
        uint256 deadline = block.timestamp + 1;
        (uint8 v, bytes32 r, bytes32 s) = _sign(signerKey, _permitDigest(owner, bob, value, 0, deadline));
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidSignature.selector, owner));
        token.permit(owner, bob, value, deadline, v, r, s);
    }

    // ─────────────────────────────────── transferWithAuthorization ───────────────────────────────────

    function test_transferWithAuthorization_transfersAndUsesNonce() public {
        _mint(alice, 1_000);
        bytes32 nonce = keccak256("n1");
        (uint8 v, bytes32 r, bytes32 s) = _signAuth(
            aliceKey,
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH,
            alice,
            bob,
            300,
            nonce
        );
        vm.expectEmit(address(token));
        emit IERC3009.AuthorizationUsed(alice, nonce);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(alice, bob, 300);
        vm.prank(carol);
        token.transferWithAuthorization(alice, bob, 300, 0, block.timestamp + 1, nonce, v, r, s);
        assertEq(token.balanceOf(bob), 300);
        assertTrue(token.authorizationState(alice, nonce));
        assertFalse(token.authorizationState(alice, keccak256("other")));
    }

    function test_transferWithAuthorization_packedSignatureFromEoa() public {
        _mint(alice, 1_000);
        bytes memory sig = _signPacked(
            aliceKey,
            _authorizationDigest(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, alice, bob, 1, 0, block.timestamp + 1, REF)
        );
        token.transferWithAuthorization(alice, bob, 1, 0, block.timestamp + 1, REF, sig);
        assertEq(token.balanceOf(bob), 1);
    }

    function test_transferWithAuthorization_erc1271Wallet() public {
        _mint(address(wallet), 100);
        (uint8 v, bytes32 r, bytes32 s) = _signAuth(
            walletOwnerKey,
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH,
            address(wallet),
            bob,
            60,
            REF
        );
        token.transferWithAuthorization(address(wallet), bob, 60, 0, block.timestamp + 1, REF, v, r, s);
        bytes32 nonce2 = keccak256("n2");
        wallet.approveHash(
            _authorizationDigest(
                TRANSFER_WITH_AUTHORIZATION_TYPEHASH,
                address(wallet),
                bob,
                40,
                0,
                block.timestamp + 1,
                nonce2
            )
        );
        token.transferWithAuthorization(address(wallet), bob, 40, 0, block.timestamp + 1, nonce2, hex"01");
        assertEq(token.balanceOf(bob), 100);
    }

    function test_transferWithAuthorization_revertsOutsideTheWindow() public {
        _mint(alice, 10);
        uint256 validAfter = block.timestamp + 10;
        uint256 validBefore = block.timestamp + 20;
        (uint8 v, bytes32 r, bytes32 s) = _sign(
            aliceKey,
            _authorizationDigest(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, alice, bob, 1, validAfter, validBefore, REF)
        );
        vm.warp(validAfter);
        vm.expectRevert(
            abi.encodeWithSelector(IBankToken.BankTokenAuthorizationNotYetValid.selector, validAfter, validAfter)
        );
        token.transferWithAuthorization(alice, bob, 1, validAfter, validBefore, REF, v, r, s);
        vm.warp(validBefore);
        vm.expectRevert(
            abi.encodeWithSelector(IBankToken.BankTokenAuthorizationExpired.selector, validBefore, validBefore)
        );
        token.transferWithAuthorization(alice, bob, 1, validAfter, validBefore, REF, v, r, s);
        vm.warp(validAfter + 1);
        token.transferWithAuthorization(alice, bob, 1, validAfter, validBefore, REF, v, r, s);
        assertEq(token.balanceOf(bob), 1);
    }

    function test_transferWithAuthorization_revertsOnReplay() public {
        _mint(alice, 10);
        (uint8 v, bytes32 r, bytes32 s) = _signAuth(aliceKey, TRANSFER_WITH_AUTHORIZATION_TYPEHASH, alice, bob, 1, REF);
        token.transferWithAuthorization(alice, bob, 1, 0, block.timestamp + 1, REF, v, r, s);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenAuthorizationUsed.selector, alice, REF));
        token.transferWithAuthorization(alice, bob, 1, 0, block.timestamp + 1, REF, v, r, s);
    }

    function test_transferWithAuthorization_revertsOnWrongSignerOrTamperedValue() public {
        _mint(alice, 10);
        (uint8 v, bytes32 r, bytes32 s) = _signAuth(bobKey, TRANSFER_WITH_AUTHORIZATION_TYPEHASH, alice, bob, 1, REF);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidSignature.selector, alice));
        token.transferWithAuthorization(alice, bob, 1, 0, block.timestamp + 1, REF, v, r, s);
        (v, r, s) = _signAuth(aliceKey, TRANSFER_WITH_AUTHORIZATION_TYPEHASH, alice, bob, 1, REF);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidSignature.selector, alice));
        token.transferWithAuthorization(alice, bob, 2, 0, block.timestamp + 1, REF, v, r, s);
        // A receive authorization cannot be replayed as a transfer authorization (different type hash).
        (v, r, s) = _signAuth(aliceKey, RECEIVE_WITH_AUTHORIZATION_TYPEHASH, alice, bob, 1, REF);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidSignature.selector, alice));
        token.transferWithAuthorization(alice, bob, 1, 0, block.timestamp + 1, REF, v, r, s);
    }

    function test_transferWithAuthorization_revertsWhenPausedFrozenZeroOrShort() public {
        _mint(alice, 10);
        (uint8 v, bytes32 r, bytes32 s) = _signAuth(
            aliceKey,
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH,
            alice,
            bob,
            11,
            REF
        );
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInsufficientBalance.selector, alice, 10, 11));
        token.transferWithAuthorization(alice, bob, 11, 0, block.timestamp + 1, REF, v, r, s);

        (v, r, s) = _signAuth(aliceKey, TRANSFER_WITH_AUTHORIZATION_TYPEHASH, alice, address(0), 1, REF);
        vm.expectRevert(IBankToken.BankTokenZeroAddress.selector);
        token.transferWithAuthorization(alice, address(0), 1, 0, block.timestamp + 1, REF, v, r, s);

        (v, r, s) = _signAuth(aliceKey, TRANSFER_WITH_AUTHORIZATION_TYPEHASH, alice, bob, 1, REF);
        _freeze(bob);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, bob));
        token.transferWithAuthorization(alice, bob, 1, 0, block.timestamp + 1, REF, v, r, s);
        _freeze(alice);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenFrozen.selector, alice));
        token.transferWithAuthorization(alice, bob, 1, 0, block.timestamp + 1, REF, v, r, s);
        _pause();
        vm.expectRevert(IBankToken.BankTokenPaused.selector);
        token.transferWithAuthorization(alice, bob, 1, 0, block.timestamp + 1, REF, v, r, s);
        assertFalse(token.authorizationState(alice, REF));
    }

    function testFuzz_transferWithAuthorization(uint256 key, uint256 value, bytes32 nonce, address to) public {
        key = _boundKey(key);
        address from = vm.addr(key);
        vm.assume(to != address(0) && to != from);
        value = bound(value, 0, MINTER_ALLOWANCE);
        if (value > 0) _mint(from, value);
        bytes memory sig = _signPacked(
            key,
            _authorizationDigest(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, 0, block.timestamp + 1, nonce)
        );
        token.transferWithAuthorization(from, to, value, 0, block.timestamp + 1, nonce, sig);
        assertEq(token.balanceOf(to), value);
        assertEq(token.balanceOf(from), 0);
        assertTrue(token.authorizationState(from, nonce));
    }

    function testFuzz_transferWithAuthorization_rejectsOtherSigners(uint256 fromKey, uint256 signerKey) public {
        fromKey = _boundKey(fromKey);
        signerKey = _boundKey(signerKey);
        vm.assume(fromKey != signerKey);
        address from = vm.addr(fromKey);
        (uint8 v, bytes32 r, bytes32 s) = _signAuth(signerKey, TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, bob, 0, REF);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidSignature.selector, from));
        token.transferWithAuthorization(from, bob, 0, 0, block.timestamp + 1, REF, v, r, s);
    }

    // ─────────────────────────────────── receiveWithAuthorization ───────────────────────────────────

    function test_receiveWithAuthorization_transfersToTheCaller() public {
        _mint(alice, 100);
        (uint8 v, bytes32 r, bytes32 s) = _signAuth(aliceKey, RECEIVE_WITH_AUTHORIZATION_TYPEHASH, alice, bob, 70, REF);
        vm.expectEmit(address(token));
        emit IERC3009.AuthorizationUsed(alice, REF);
        vm.prank(bob);
        token.receiveWithAuthorization(alice, bob, 70, 0, block.timestamp + 1, REF, v, r, s);
        assertEq(token.balanceOf(bob), 70);

        bytes32 nonce2 = keccak256("n2");
        bytes memory sig = _signPacked(
            aliceKey,
            _authorizationDigest(RECEIVE_WITH_AUTHORIZATION_TYPEHASH, alice, bob, 30, 0, block.timestamp + 1, nonce2)
        );
        vm.prank(bob);
        token.receiveWithAuthorization(alice, bob, 30, 0, block.timestamp + 1, nonce2, sig);
        assertEq(token.balanceOf(bob), 100);
    }

    function test_receiveWithAuthorization_revertsUnlessCallerIsPayee() public {
        _mint(alice, 100);
        (uint8 v, bytes32 r, bytes32 s) = _signAuth(aliceKey, RECEIVE_WITH_AUTHORIZATION_TYPEHASH, alice, bob, 70, REF);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenCallerNotPayee.selector, carol, bob));
        vm.prank(carol);
        token.receiveWithAuthorization(alice, bob, 70, 0, block.timestamp + 1, REF, v, r, s);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenCallerNotPayee.selector, carol, bob));
        vm.prank(carol);
        token.receiveWithAuthorization(alice, bob, 70, 0, block.timestamp + 1, REF, abi.encodePacked(r, s, v));
    }

    function test_receiveWithAuthorization_rejectsATransferAuthorization() public {
        _mint(alice, 100);
        (uint8 v, bytes32 r, bytes32 s) = _signAuth(aliceKey, TRANSFER_WITH_AUTHORIZATION_TYPEHASH, alice, bob, 1, REF);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidSignature.selector, alice));
        vm.prank(bob);
        token.receiveWithAuthorization(alice, bob, 1, 0, block.timestamp + 1, REF, v, r, s);
    }

    function test_receiveWithAuthorization_erc1271Wallet() public {
        _mint(address(wallet), 5);
        bytes memory sig = _signPacked(
            walletOwnerKey,
            _authorizationDigest(
                RECEIVE_WITH_AUTHORIZATION_TYPEHASH,
                address(wallet),
                bob,
                5,
                0,
                block.timestamp + 1,
                REF
            )
        );
        vm.prank(bob);
        token.receiveWithAuthorization(address(wallet), bob, 5, 0, block.timestamp + 1, REF, sig);
        assertEq(token.balanceOf(bob), 5);
    }

    // ─────────────────────────────────────── cancelAuthorization ───────────────────────────────────────

    function test_cancelAuthorization_cancelsTheNonce() public {
        _mint(alice, 10);
        (uint8 v, bytes32 r, bytes32 s) = _sign(aliceKey, _cancelDigest(alice, REF));
        vm.expectEmit(address(token));
        emit IERC3009.AuthorizationCanceled(alice, REF);
        vm.prank(carol);
        token.cancelAuthorization(alice, REF, v, r, s);
        assertTrue(token.authorizationState(alice, REF));

        (v, r, s) = _signAuth(aliceKey, TRANSFER_WITH_AUTHORIZATION_TYPEHASH, alice, bob, 1, REF);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenAuthorizationUsed.selector, alice, REF));
        token.transferWithAuthorization(alice, bob, 1, 0, block.timestamp + 1, REF, v, r, s);
    }

    function test_cancelAuthorization_packedAndWalletSignatures() public {
        bytes32 n1 = keccak256("n1");
        token.cancelAuthorization(alice, n1, _signPacked(aliceKey, _cancelDigest(alice, n1)));
        assertTrue(token.authorizationState(alice, n1));
        (uint8 v, bytes32 r, bytes32 s) = _sign(walletOwnerKey, _cancelDigest(address(wallet), n1));
        token.cancelAuthorization(address(wallet), n1, v, r, s);
        assertTrue(token.authorizationState(address(wallet), n1));
    }

    function test_cancelAuthorization_worksForAFrozenAuthorizer() public {
        _freeze(alice);
        (uint8 v, bytes32 r, bytes32 s) = _sign(aliceKey, _cancelDigest(alice, REF));
        token.cancelAuthorization(alice, REF, v, r, s);
        assertTrue(token.authorizationState(alice, REF));
    }

    function test_cancelAuthorization_reverts() public {
        (uint8 v, bytes32 r, bytes32 s) = _sign(bobKey, _cancelDigest(alice, REF));
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenInvalidSignature.selector, alice));
        token.cancelAuthorization(alice, REF, v, r, s);

        (v, r, s) = _sign(aliceKey, _cancelDigest(alice, REF));
        _pause();
        vm.expectRevert(IBankToken.BankTokenPaused.selector);
        token.cancelAuthorization(alice, REF, v, r, s);
        vm.prank(pauser);
        token.unpause();

        token.cancelAuthorization(alice, REF, v, r, s);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenAuthorizationUsed.selector, alice, REF));
        token.cancelAuthorization(alice, REF, v, r, s);
        vm.expectRevert(abi.encodeWithSelector(IBankToken.BankTokenAuthorizationUsed.selector, alice, REF));
        token.cancelAuthorization(alice, REF, abi.encodePacked(r, s, v));
    }

    // ─────────────────────────────────────────── helpers ───────────────────────────────────────────

    function _signAuth(
        uint256 key,
        bytes32 typeHash,
        address from,
        address to,
        uint256 value,
        bytes32 nonce
    ) private view returns (uint8 v, bytes32 r, bytes32 s) {
        return _sign(key, _authorizationDigest(typeHash, from, to, value, 0, block.timestamp + 1, nonce));
    }
}
