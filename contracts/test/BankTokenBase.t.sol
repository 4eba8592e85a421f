// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {IIssuanceGate} from "../reserves/interfaces/IIssuanceGate.sol";
import {BankToken} from "../token/BankToken.sol";

/// @notice Test double of the reserve gate: records every call, can be told to refuse. Its `issued` counter
///         starts nonzero so that `onMint` costs one cold SLOAD and one nonzero-to-nonzero SSTORE, like a
///         real ledger's per-issuer outstanding figure.
contract MockIssuanceGate is IIssuanceGate {
    error MockIssuanceGateRefused(address issuer, uint256 amount);

    uint256 public issued = 1;
    address public lastIssuer;
    uint256 public lastAmount;
    uint256 public mintCalls;
    uint256 public burnCalls;
    bool public refuseMint;
    bool public refuseBurn;

    function setRefuse(bool mint_, bool burn_) external {
        refuseMint = mint_;
        refuseBurn = burn_;
    }

    function onMint(address issuer, uint256 amount) external {
        if (refuseMint) revert MockIssuanceGateRefused(issuer, amount);
        issued += amount;
        lastIssuer = issuer;
        lastAmount = amount;
        ++mintCalls;
    }

    function onBurn(address issuer, uint256 amount) public {
        if (refuseBurn) revert MockIssuanceGateRefused(issuer, amount);
        issued -= amount;
        lastIssuer = issuer;
        lastAmount = amount;
        ++burnCalls;
    }

    function onWipe(address issuer, uint256 amount) external {
        onBurn(issuer, amount);
    }
}

/// @notice Test ERC-1271 smart wallet: accepts its owner's ECDSA signature of the hash, or any signature at
///         all for a hash it pre-approved (like a multisig's approved hashes), unless told to reject.
contract MockERC1271Wallet is IERC1271 {
    address public immutable owner;
    bool public rejectAll;
    mapping(bytes32 hash => bool) public approvedHashes;

    constructor(address owner_) {
        owner = owner_;
    }

    function setRejectAll(bool reject) external {
        rejectAll = reject;
    }

    function approveHash(bytes32 hash) external {
        approvedHashes[hash] = true;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (rejectAll) return 0xffffffff;
        if (approvedHashes[hash]) return IERC1271.isValidSignature.selector;
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(hash, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == owner) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }
}

/// @notice A second implementation for the upgrade test: the same token plus a `version()`.
contract BankTokenV2Mock is BankToken {
    function version() external pure returns (string memory) {
        return "2";
    }
}

/// @notice A plain ERC-20, sent to the token by mistake in the rescue tests.
contract MockStrayToken is ERC20 {
    constructor() ERC20("Stray", "STRAY") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @notice Deploys `BankToken` behind an `ERC1967Proxy`, hands out the duty roles and a minter, and offers the
///         EIP-712 helpers the signature tests use. Type strings are spelled out here so the tests also prove
///         the contract's type-hash literals.
abstract contract BankTokenTestBase is Test {
    bytes32 internal constant STORAGE_LOCATION = 0xf0d8963450aeff25ec37ef3cfd0d19f590c8a4857cc9803c586a454ce098b100;
    bytes32 internal constant PERMIT_TYPEHASH = keccak256(
        "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,"
        "bytes32 nonce)"
    );
    bytes32 internal constant RECEIVE_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,"
        "bytes32 nonce)"
    );
    bytes32 internal constant CANCEL_AUTHORIZATION_TYPEHASH = keccak256(
        "CancelAuthorization(address authorizer,bytes32 nonce)"
    );
    bytes32 internal constant DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );

    uint256 internal constant CAP = 1_000_000_000_00; // 1 billion units of a 2-decimal currency
    uint256 internal constant MAX_CAP = (1 << 127) - 1;
    uint256 internal constant MINTER_ALLOWANCE = 500_000_000_00;
    uint48 internal constant ADMIN_DELAY = 3 days;
    bytes32 internal constant REF = keccak256("fiat-ref");

    BankToken internal implementation;
    BankToken internal token;
    MockIssuanceGate internal gate;

    address internal admin = makeAddr("admin");
    address internal minterAdmin = makeAddr("minterAdmin");
    address internal pauser = makeAddr("pauser");
    address internal compliance = makeAddr("compliance");
    address internal rescuer = makeAddr("rescuer");
    address internal upgrader = makeAddr("upgrader");
    address internal minter = makeAddr("minter");
    address internal alice;
    uint256 internal aliceKey;
    address internal bob;
    uint256 internal bobKey;
    address internal carol = makeAddr("carol");

    function setUp() public virtual {
        (alice, aliceKey) = makeAddrAndKey("alice");
        (bob, bobKey) = makeAddrAndKey("bob");
        gate = new MockIssuanceGate();
        implementation = new BankToken();
        token = _deployProxy(address(implementation), gate);
        vm.startPrank(admin);
        token.grantRole(token.MINTER_ADMIN_ROLE(), minterAdmin);
        token.grantRole(token.PAUSER_ROLE(), pauser);
        token.grantRole(token.COMPLIANCE_ROLE(), compliance);
        token.grantRole(token.RESCUER_ROLE(), rescuer);
        token.grantRole(token.UPGRADER_ROLE(), upgrader);
        vm.stopPrank();
        vm.prank(minterAdmin);
        token.configureMinter(minter, MINTER_ALLOWANCE);
    }

    function _deployProxy(address impl, IIssuanceGate gate_) internal returns (BankToken) {
        bytes memory init = abi.encodeCall(
            BankToken.initialize,
            ("Bank Dollar", "bUSD", bytes3("USD"), 2, CAP, gate_, admin, ADMIN_DELAY)
        );
        return BankToken(address(new ERC1967Proxy(impl, init)));
    }

    function _mint(address to, uint256 amount) internal {
        vm.prank(minter);
        token.mint(to, amount, REF);
    }

    function _freeze(address account) internal {
        vm.prank(compliance);
        token.freeze(account);
    }

    function _pause() internal {
        vm.prank(pauser);
        token.pause();
    }

    function _accountSlot(address account) internal pure returns (bytes32) {
        return keccak256(abi.encode(account, STORAGE_LOCATION));
    }

    function _domainSeparator(address verifyingContract) internal view returns (bytes32) {
        return
            keccak256(
                abi.encode(DOMAIN_TYPEHASH, keccak256("BankToken"), keccak256("1"), block.chainid, verifyingContract)
            );
    }

    function _typedDigest(bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", _domainSeparator(address(token)), structHash));
    }

    function _permitDigest(
        address owner,
        address spender,
        uint256 value,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        return _typedDigest(keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, nonce, deadline)));
    }

    function _authorizationDigest(
        bytes32 typeHash,
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce
    ) internal view returns (bytes32) {
        return _typedDigest(keccak256(abi.encode(typeHash, from, to, value, validAfter, validBefore, nonce)));
    }

    function _cancelDigest(address authorizer, bytes32 nonce) internal view returns (bytes32) {
        return _typedDigest(keccak256(abi.encode(CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce)));
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (uint8 v, bytes32 r, bytes32 s) {
        (v, r, s) = vm.sign(key, digest);
    }

    function _signPacked(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev A valid private key from any fuzzed value.
    function _boundKey(uint256 key) internal pure returns (uint256) {
        return bound(key, 1, SECP256K1_ORDER - 1);
    }
}
