// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

import {BankToken} from "../token/BankToken.sol";
import {BankTokenTestBase, MockIssuanceGate} from "./BankTokenBase.t.sol";

/// @notice Drives `BankToken` with random sequences of the calls its users and officers make, and keeps ghost
///         records of what those calls were meant to do. Calls that revert change neither the token nor the
///         ghosts (the handler call reverts as a whole).
contract BankTokenHandler is CommonBase, StdUtils {
    bytes32 internal constant PERMIT_TYPEHASH = keccak256(
        "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,"
        "bytes32 nonce)"
    );

    BankToken public immutable token;
    MockIssuanceGate public immutable gate;
    address public immutable minter;
    address public immutable pauser;
    address public immutable compliance;
    address public immutable admin;

    address[] public actors;
    mapping(address actor => uint256 key) public keyOf;

    uint256 public ghostMinted;
    uint256 public ghostBurned;
    uint256 public ghostWiped;
    mapping(address account => bool) public ghostFrozen;
    mapping(address account => uint256) public ghostFrozenBalance;
    mapping(address owner => mapping(address spender => uint256)) public ghostApproved;
    mapping(address owner => uint256) public ghostPermits;
    uint256 public authorizationCount;

    constructor(
        BankToken token_,
        MockIssuanceGate gate_,
        address minter_,
        address pauser_,
        address compliance_,
        address admin_
    ) {
        token = token_;
        gate = gate_;
        minter = minter_;
        pauser = pauser_;
        compliance = compliance_;
        admin = admin_;
        for (uint256 i = 1; i <= 5; ++i) {
            uint256 key = uint256(keccak256(abi.encode("bank-token-actor", i)));
            address actor = vm.addr(key);
            actors.push(actor);
            keyOf[actor] = key;
        }
        actors.push(minter_);
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    // ── holders ──

    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        address from = _actor(fromSeed);
        amount = bound(amount, 0, token.balanceOf(from));
        vm.prank(from);
        token.transfer(_actor(toSeed), amount);
    }

    function approve(uint256 ownerSeed, uint256 spenderSeed, uint256 amount) external {
        address owner = _actor(ownerSeed);
        address spender = _actor(spenderSeed);
        if (amount % 4 == 0) amount = type(uint256).max;
        vm.prank(owner);
        token.approve(spender, amount);
        ghostApproved[owner][spender] = amount;
    }

    function transferFrom(uint256 spenderSeed, uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        address spender = _actor(spenderSeed);
        address from = _actor(fromSeed);
        uint256 allowed = token.allowance(from, spender);
        uint256 balance = token.balanceOf(from);
        amount = bound(amount, 0, allowed < balance ? allowed : balance);
        vm.prank(spender);
        token.transferFrom(from, _actor(toSeed), amount);
    }

    function permit(uint256 ownerSeed, uint256 spenderSeed, uint256 value) external {
        address owner = _actor(ownerSeed);
        address spender = _actor(spenderSeed);
        if (owner == minter) return;
        uint256 deadline = block.timestamp + 1;
        bytes32 digest = _digest(
            keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, token.nonces(owner), deadline))
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keyOf[owner], digest);
        token.permit(owner, spender, value, deadline, v, r, s);
        ghostApproved[owner][spender] = value;
        ++ghostPermits[owner];
    }

    function transferWithAuthorization(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        address from = _actor(fromSeed);
        address to = _actor(toSeed);
        if (from == minter) return;
        amount = bound(amount, 0, token.balanceOf(from));
        bytes32 nonce = keccak256(abi.encode(authorizationCount++));
        uint256 validBefore = block.timestamp + 1;
        bytes32 digest = _digest(
            keccak256(abi.encode(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, amount, 0, validBefore, nonce))
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keyOf[from], digest);
        token.transferWithAuthorization(from, to, amount, 0, validBefore, nonce, v, r, s);
    }

    // ── minter ──

    function mint(uint256 toSeed, uint256 amount) external {
        amount = bound(amount, 1, 1e9);
        vm.prank(minter);
        token.mint(_actor(toSeed), amount, bytes32(amount));
        ghostMinted += amount;
    }

    function burn(uint256 amount) external {
        amount = bound(amount, 1, token.balanceOf(minter) + 1);
        vm.prank(minter);
        token.burn(amount, bytes32(amount));
        ghostBurned += amount;
    }

    // ── officers ──

    function freeze(uint256 seed) external {
        address account = _actorWhere(seed, false);
        vm.prank(compliance);
        token.freeze(account);
        ghostFrozen[account] = true;
        ghostFrozenBalance[account] = token.balanceOf(account);
    }

    function unfreeze(uint256 seed) external {
        address account = _actorWhere(seed, true);
        vm.prank(compliance);
        token.unfreeze(account);
        ghostFrozen[account] = false;
    }

    function wipeFrozen(uint256 seed) external {
        address account = _actorWhere(seed, true);
        uint256 balance = token.balanceOf(account);
        vm.prank(compliance);
        token.wipeFrozen(account, minter, bytes32(seed));
        vm.prank(admin); // holds MINTER_ADMIN_ROLE (see the set-up)
        token.confirmWipe(account, minter);
        ghostWiped += balance;
        ghostFrozenBalance[account] = 0;
    }

    function pause() external {
        vm.prank(pauser);
        token.pause();
    }

    function unpause() external {
        vm.prank(pauser);
        token.unpause();
    }

    function setSupplyCap(uint256 cap) external {
        cap = bound(cap, token.totalSupply(), (1 << 127) - 1);
        vm.prank(admin);
        token.setSupplyCap(cap);
    }

    function increaseMinterAllowance(uint256 amount) external {
        amount = bound(amount, 1, 1e14);
        vm.prank(admin);
        token.increaseMinterAllowance(minter, amount);
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 1 days));
    }

    // ── helpers ──

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    /// @dev The first actor from `seed` on whose frozen flag (as the ghosts know it) is `frozen`, if any.
    function _actorWhere(uint256 seed, bool frozen) internal view returns (address) {
        uint256 n = actors.length;
        for (uint256 i; i < n; ++i) {
            address account = actors[(seed + i) % n];
            if (ghostFrozen[account] == frozen) return account;
        }
        return actors[seed % n];
    }

    function _digest(bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
    }
}

/// @notice Invariants of `BankToken` under the handler: supply conservation, frozen balances that only a wipe
///         moves, allowances within what was approved, supply within the cap, gate in step with issuance.
contract BankTokenInvariantTest is BankTokenTestBase {
    BankTokenHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new BankTokenHandler(token, gate, minter, pauser, compliance, admin);
        // The handler's admin call (`increaseMinterAllowance`) needs the minter admin role too.
        bytes32 role = token.MINTER_ADMIN_ROLE();
        vm.prank(admin);
        token.grantRole(role, admin);
        targetContract(address(handler));
    }

    function invariant_supplyConservation() public view {
        uint256 sum;
        uint256 n = handler.actorCount();
        for (uint256 i; i < n; ++i) sum += token.balanceOf(handler.actors(i));
        assertEq(sum, token.totalSupply(), "sum of balances");
        assertEq(
            handler.ghostMinted() - handler.ghostBurned() - handler.ghostWiped(),
            token.totalSupply(),
            "minted - burned - wiped"
        );
    }

    function invariant_frozenBalancesOnlyChangeByWipe() public view {
        uint256 n = handler.actorCount();
        for (uint256 i; i < n; ++i) {
            address account = handler.actors(i);
            assertEq(token.isFrozen(account), handler.ghostFrozen(account), "frozen flag");
            if (handler.ghostFrozen(account)) {
                assertEq(token.balanceOf(account), handler.ghostFrozenBalance(account), "frozen balance");
            }
        }
    }

    function invariant_allowancesWithinApproved() public view {
        uint256 n = handler.actorCount();
        for (uint256 i; i < n; ++i) {
            for (uint256 j; j < n; ++j) {
                address owner = handler.actors(i);
                address spender = handler.actors(j);
                uint256 approved = handler.ghostApproved(owner, spender);
                uint256 allowed = token.allowance(owner, spender);
                assertLe(allowed, approved, "allowance above approval");
                if (approved == type(uint256).max) assertEq(allowed, approved, "infinite allowance spent");
            }
        }
    }

    function invariant_supplyWithinCap() public view {
        assertLe(token.totalSupply(), token.supplyCap());
        assertLe(token.supplyCap(), MAX_CAP);
    }

    function invariant_gateInStepWithIssuance() public view {
        assertEq(
            gate.issued() - 1,
            handler.ghostMinted() - handler.ghostBurned() - handler.ghostWiped(),
            "gate issuance"
        );
    }

    function invariant_permitNoncesCountPermits() public view {
        uint256 n = handler.actorCount();
        for (uint256 i; i < n; ++i) {
            address account = handler.actors(i);
            assertEq(token.nonces(account), handler.ghostPermits(account), "nonce");
        }
    }
}
