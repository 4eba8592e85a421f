// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
// solhint-disable-next-line max-line-length
import {IAccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";
// One import per line; this path alone is over 100 characters, and prettier keeps named imports on one line.
// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRulesUpgradeable} from "@openzeppelin/contracts-upgradeable/access/extensions/AccessControlDefaultAdminRulesUpgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";

import {IIssuanceGate} from "../reserves/interfaces/IIssuanceGate.sol";
import {IBankToken} from "./interfaces/IBankToken.sol";
import {IERC3009} from "./interfaces/IERC3009.sol";
import {BankTokenAdmin} from "./BankTokenAdmin.sol";
import {BankTokenCore} from "./BankTokenCore.sol";
import {MinterWord} from "./MinterWord.sol";

/// @title BankToken
/// @notice The fixed-peg token banks issue: 1 token = 1 minor unit of one fiat currency. See `IBankToken` and
///         `docs/token.md` (roles, storage layout, freeze and pause semantics, EIP-712 types, errors).
/// @dev UUPS implementation behind an `ERC1967Proxy`; all of its own state lives in one ERC-7201 namespace.
///
///      Gas design. The hot paths (`transfer`, `transferFrom`, `_update`, `_spendAllowance`, `_approve`) are
///      inline assembly over packed words:
///      - account word: balance (bits 0..127) | EIP-2612 nonce (128..191) | frozen flag (255). A transfer reads
///        the freeze flags of both parties for free, and `permit` bumps the nonce in a slot it reads anyway.
///      - reservoir word, the account word of address(0): unminted room under the cap, `cap - totalSupply`
///        (0..127) | supplyCap (128..254) | paused flag (255). A mint is a transfer out of it and a burn a
///        transfer into it, so `_update` has no mint or burn branch: the cap check is the reservoir's balance
///        check and the pause check is the reservoir's freeze check. A transfer pays one cold SLOAD for the
///        pause flag, at a constant slot.
///      - minter word: allowance | rate limit | last refill | enabled bit, so `mint` needs no `hasRole` SLOAD.
///      Balances never exceed the supply, which never exceeds the cap (< 2^127): no balance arithmetic can carry
///      into the nonce or flag bits. The views hide the reservoir: `balanceOf(0)` is 0, `isFrozen(0)` false.
///      `transfer` inlines `_update`'s common case (see its notes); the EIP-712 domain name is the constant
///      "BankToken", so signatures cost no storage read for the domain (discover it with `eip712Domain()`).
///
///      No reentrancy guard. The only external calls are (a) to the issuance gate, a contract the default admin
///      set, made last in `mint`/`burn` after every effect and event (checks-effects-interactions), so a
///      reentrant call would find consistent state; (b) ERC-1271 `isValidSignature`, a `staticcall`, which
///      cannot change state; (c) `rescueERC20`'s token call, made by a trusted rescuer with no state of ours
///      changed around it. Nothing in this contract ever calls a token holder.
contract BankToken is IBankToken, BankTokenCore, AccessControlDefaultAdminRulesUpgradeable, UUPSUpgradeable {
    // ───────────────────────────────────────────── types ──────────────────────────────────────────────

    // ─────────────────────────────────────────── constants ────────────────────────────────────────────

    /// @inheritdoc IBankToken
    bytes32 public constant MINTER_ADMIN_ROLE = _MINTER_ADMIN_ROLE;
    /// @inheritdoc IBankToken
    bytes32 public constant PAUSER_ROLE = _PAUSER_ROLE;
    /// @inheritdoc IBankToken
    bytes32 public constant COMPLIANCE_ROLE = _COMPLIANCE_ROLE;
    /// @inheritdoc IBankToken
    bytes32 public constant RESCUER_ROLE = _RESCUER_ROLE;
    /// @inheritdoc IBankToken
    bytes32 public constant UPGRADER_ROLE = _UPGRADER_ROLE;

    /// @dev EIP-712 type hashes (literals, for the assembly; the tests sign with the type strings):
    ///      keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)").
    bytes32 private constant _PERMIT_TYPEHASH = 0x6e71edae12b1b97f4d1f60370fef10105fa2faae0126114a169c64845d6126c9;
    /// @dev keccak256 of the EIP-3009 `TransferWithAuthorization` type string (see `docs/token.md`).
    bytes32 private constant _TRANSFER_WITH_AUTHORIZATION_TYPEHASH =
        0x7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267;
    /// @dev keccak256 of the EIP-3009 `ReceiveWithAuthorization` type string (see `docs/token.md`).
    bytes32 private constant _RECEIVE_WITH_AUTHORIZATION_TYPEHASH =
        0xd099cc98ef71107a616c4f0f941f04c322d8e254fe26b3c6668db87aae413de8;
    /// @dev keccak256("CancelAuthorization(address authorizer,bytes32 nonce)").
    bytes32 private constant _CANCEL_AUTHORIZATION_TYPEHASH =
        0x158b0a9edf7a828aad02f63cd515c68ef2f50ba807396f6d12842833a1597429;

    /// @inheritdoc IBankToken
    uint256 public constant MAX_MINTER_ALLOWANCE = _MAX_MINTER_ALLOWANCE;

    /// @dev `keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")`.
    bytes32 private constant _DOMAIN_TYPEHASH = 0x8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f;
    /// @dev The EIP-712 domain name and version, and their hashes. The domain name is the same for every
    ///      deployment (EIP-2612 names the signing protocol, not the token); the chain id and this proxy's
    ///      address tell deployments apart. Being constant, the domain separator costs no SLOAD.
    string private constant _EIP712_NAME = "BankToken";
    string private constant _EIP712_VERSION = "1";
    /// @dev `keccak256("BankToken")`.
    bytes32 private constant _NAME_HASH = 0x067a6a9de267623b53ea39bb8e464e087daccddeb12a976568b2c98febfe6d6b;
    /// @dev `keccak256("1")`.
    bytes32 private constant _VERSION_HASH = 0xc89efdaa54c0f20c7adf612882df0950f5a951637e0307cdcb4c672f298b8bc6;

    /// @dev secp256k1n / 2: the largest `s` of a non-malleable ECDSA signature (EIP-2).
    uint256 private constant _SECP256K1_HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    /// @dev This implementation's admin module (see `BankTokenAdmin`), deployed by its constructor.
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    address private immutable _adminModule;

    // ─────────────────────────────────────────── modifiers ────────────────────────────────────────────

    modifier whenNotPaused() {
        _checkNotPaused();
        _;
    }

    // ────────────────────────────────────────── constructor ───────────────────────────────────────────

    /// @dev Locks the implementation (only a proxy can be initialized) and deploys its admin module: the module's
    ///      creation code is part of this constructor's, not of the runtime code EIP-170 limits.
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
        _adminModule = address(new BankTokenAdmin());
    }

    // ─────────────────────────────────────────── external ─────────────────────────────────────────────

    /// @inheritdoc IBankToken
    /// @dev `name_` and `symbol_` are `memory`: as `calldata` (two stack slots each) they overflow the stack.
    // solhint-disable-next-line gas-calldata-parameters
    function initialize(
        string memory name_,
        string memory symbol_,
        bytes3 currency_,
        uint8 decimals_,
        uint256 supplyCap_,
        IIssuanceGate gate,
        address admin,
        uint48 adminTransferDelay
    ) external initializer {
        if (admin == address(0)) revert BankTokenZeroAddress();
        __AccessControlDefaultAdminRules_init(adminTransferDelay, admin);
        BankTokenStorage storage $ = _getBankTokenStorage();
        _initializeCurrency($, name_, symbol_, currency_, decimals_);
        _setSupplyCap($, supplyCap_);
        if (address(gate) != address(0)) _setIssuanceGate($, gate);
    }

    // ── ERC-20 ──

    /// @inheritdoc IERC20
    /// @dev Semantically `_update(msg.sender, to, amount)` after a zero-address check, and it reverts exactly as
    ///      `_update` does. To fit the transfer gas budget the common case is inlined (saving the internal call
    ///      and folding the zero check into `_update`'s single flag test): the inlined code evaluates the same
    ///      predicate over the same words and commits only if every check passes. On any failure it puts both
    ///      words back and falls through to `_update` itself, which raises the error, so the errors and the
    ///      canonical logic still live in `_update` alone. `testFuzz_transfer_matchesUpdate` keeps both equal.
    function transfer(address to, uint256 amount) external returns (bool) {
        // Safe: as in `_update`, and the writes are undone before falling back when a check fails.
        assembly ("memory-safe") {
            // As in `_update`: debit, credit, then one test of every flag and of the balance.
            mstore(0x20, _ACCOUNTS_SLOT)
            mstore(0x00, caller())
            let fromSlot := keccak256(0x00, 0x40)
            let fromWord := sload(fromSlot)
            sstore(fromSlot, sub(fromWord, amount))
            mstore(0x00, to)
            let toSlot := keccak256(0x00, 0x40)
            let toWord := add(sload(toSlot), amount)
            sstore(toSlot, toWord)
            switch or(
                or(iszero(to), gt(amount, and(fromWord, _MASK_128))),
                shr(255, or(toWord, or(fromWord, sload(_RESERVOIR_SLOT))))
            )
            case 0 {
                mstore(0x00, amount)
                log3(0x00, 0x20, _TRANSFER_EVENT_SIGNATURE, caller(), to)
                mstore(0x00, 1)
                return(0x00, 0x20)
            }
            default {
                // Failure path: restore both words (in reverse order, so `caller() == to` also comes back
                // right) and let `_update` below raise the error.
                sstore(toSlot, sub(toWord, amount))
                sstore(fromSlot, fromWord)
            }
        }
        if (to == address(0)) revert BankTokenZeroAddress();
        _update(msg.sender, to, amount);
        return true;
    }

    /// @inheritdoc IERC20
    /// @dev An allowance of `type(uint256).max` is never decremented. The spender's, the owner's and the
    ///      recipient's freeze flags are all checked: a frozen spender cannot use an allowance given before the
    ///      freeze.
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        _spendAllowance(from, msg.sender, amount);
        _transfer(from, to, amount);
        _returnTrue();
    }

    /// @inheritdoc IERC20
    /// @dev Reverts while paused, if the caller or `spender` is frozen, or if `spender` is zero.
    function approve(address spender, uint256 amount) external returns (bool) {
        _approve(msg.sender, spender, amount);
        _returnTrue();
    }

    // ── EIP-2612 ──

    /// @inheritdoc IERC20Permit
    /// @dev Accepts an ECDSA signature of `owner`, or else asks `owner` through ERC-1271 with `r‖s‖v`. Reverts
    ///      while paused or if `owner` or `spender` is frozen. The nonce lives in the owner's account word.
    function permit(
        address owner,
        address spender,
        uint256 value,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        (uint256 ownerWord, bytes32 digest) = _permitDigest(owner, spender, value, deadline);
        _checkSignature(owner, digest, v, r, s);
        _usePermit(owner, ownerWord, spender, value);
    }

    /// @inheritdoc IBankToken
    function permit(
        address owner,
        address spender,
        uint256 value,
        uint256 deadline,
        bytes calldata signature
    ) external {
        (uint256 ownerWord, bytes32 digest) = _permitDigest(owner, spender, value, deadline);
        _checkSignature(owner, digest, signature);
        _usePermit(owner, ownerWord, spender, value);
    }

    // ── EIP-3009 ──

    /// @inheritdoc IERC3009
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        bytes32 digest = _authorizationDigest(
            _TRANSFER_WITH_AUTHORIZATION_TYPEHASH,
            from,
            to,
            value,
            validAfter,
            validBefore,
            nonce
        );
        _checkSignature(from, digest, v, r, s);
        _useAuthorization(from, nonce);
        _transfer(from, to, value);
    }

    /// @inheritdoc IERC3009
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        bytes32 digest = _authorizationDigest(
            _TRANSFER_WITH_AUTHORIZATION_TYPEHASH,
            from,
            to,
            value,
            validAfter,
            validBefore,
            nonce
        );
        _checkSignature(from, digest, signature);
        _useAuthorization(from, nonce);
        _transfer(from, to, value);
    }

    /// @inheritdoc IERC3009
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        if (to != msg.sender) revert BankTokenCallerNotPayee(msg.sender, to);
        bytes32 digest = _authorizationDigest(
            _RECEIVE_WITH_AUTHORIZATION_TYPEHASH,
            from,
            to,
            value,
            validAfter,
            validBefore,
            nonce
        );
        _checkSignature(from, digest, v, r, s);
        _useAuthorization(from, nonce);
        _transfer(from, to, value);
    }

    /// @inheritdoc IERC3009
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        if (to != msg.sender) revert BankTokenCallerNotPayee(msg.sender, to);
        bytes32 digest = _authorizationDigest(
            _RECEIVE_WITH_AUTHORIZATION_TYPEHASH,
            from,
            to,
            value,
            validAfter,
            validBefore,
            nonce
        );
        _checkSignature(from, digest, signature);
        _useAuthorization(from, nonce);
        _transfer(from, to, value);
    }

    /// @inheritdoc IERC3009
    /// @dev Reverts while paused. A frozen authorizer may still cancel: cancelling only removes a capability.
    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external {
        bytes32 digest = _cancelDigest(authorizer, nonce);
        _checkSignature(authorizer, digest, v, r, s);
        _cancelAuthorization(authorizer, nonce);
    }

    /// @inheritdoc IERC3009
    /// @dev Reverts while paused. A frozen authorizer may still cancel: cancelling only removes a capability.
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes calldata signature) external {
        bytes32 digest = _cancelDigest(authorizer, nonce);
        _checkSignature(authorizer, digest, signature);
        _cancelAuthorization(authorizer, nonce);
    }

    // ── mint and burn ──

    /// @inheritdoc IBankToken
    /// @dev "Minter" is the enabled bit of the caller's minter word (set by `MINTER_ADMIN_ROLE`), read together
    ///      with its allowance in one SLOAD instead of a separate `hasRole` SLOAD. The gate is called last, after
    ///      balances, supply, allowance and both events are written (checks-effects-interactions): the gate is
    ///      a contract the default admin trusts, it sees the post-mint `totalSupply`, and its revert undoes the
    ///      whole mint. `fiatRef` is not deduplicated here (that would cost a fresh slot per mint); the caller
    ///      (`TrustAccount`) keeps mints idempotent by reference.
    function mint(address to, uint256 amount, bytes32 fiatRef) external {
        _spendMinterAllowance(msg.sender, amount);
        if (to == address(0)) revert BankTokenZeroAddress();
        if (amount == 0) revert BankTokenZeroAmount();
        IIssuanceGate gate = _requireIssuanceGate();
        _update(address(0), to, amount);
        emit Mint(msg.sender, to, amount, fiatRef);
        gate.onMint(msg.sender, amount);
    }

    /// @inheritdoc IBankToken
    /// @dev Same call order as `mint`: effects and events first, the trusted gate's `onBurn` last.
    function burn(uint256 amount, bytes32 fiatRef) external {
        if (!_getBankTokenStorage().minters[msg.sender].enabled()) revert BankTokenNotMinter(msg.sender);
        if (amount == 0) revert BankTokenZeroAmount();
        IIssuanceGate gate = _requireIssuanceGate();
        _update(msg.sender, address(0), amount);
        emit Burn(msg.sender, amount, fiatRef);
        gate.onBurn(msg.sender, amount);
    }

    // ── minters (MINTER_ADMIN_ROLE) ──

    /// @inheritdoc IBankToken
    function configureMinter(address, uint256) external {
        _delegateToAdmin();
    }

    /// @inheritdoc IBankToken
    function increaseMinterAllowance(address, uint256) external {
        _delegateToAdmin();
    }

    /// @inheritdoc IBankToken
    function decreaseMinterAllowance(address, uint256) external {
        _delegateToAdmin();
    }

    /// @inheritdoc IBankToken
    function setMinterRateLimit(address, uint256, uint256) external {
        _delegateToAdmin();
    }

    /// @inheritdoc IBankToken
    function removeMinter(address) external {
        _delegateToAdmin();
    }

    // ── pause (PAUSER_ROLE) ──

    /// @inheritdoc IBankToken
    function pause() external {
        _delegateToAdmin();
    }

    /// @inheritdoc IBankToken
    function unpause() external {
        _delegateToAdmin();
    }

    // ── compliance (COMPLIANCE_ROLE) ──

    /// @inheritdoc IBankToken
    /// @dev Works while paused. Freezing an already frozen account reverts with `BankTokenFrozen`.
    function freeze(address) external {
        _delegateToAdmin();
    }

    /// @inheritdoc IBankToken
    /// @dev Works while paused.
    function unfreeze(address) external {
        _delegateToAdmin();
    }

    /// @inheritdoc IBankToken
    function wipeFrozen(address, address, bytes32) external {
        _delegateToAdmin();
    }

    /// @inheritdoc IBankToken
    function confirmWipe(address, address) external {
        _delegateToAdmin();
    }

    /// @inheritdoc IBankToken
    function cancelWipe(address) external {
        _delegateToAdmin();
    }

    // ── default admin ──

    /// @inheritdoc IBankToken
    function setSupplyCap(uint256) external {
        _delegateToAdmin();
    }

    /// @inheritdoc IBankToken
    function setIssuanceGate(IIssuanceGate) external {
        _delegateToAdmin();
    }

    // ── rescue (RESCUER_ROLE) ──

    /// @inheritdoc IBankToken
    /// @dev Rescuing this token itself moves the contract's own balance through a normal `transfer` (pause
    ///      and freeze apply).
    function rescueERC20(IERC20, address, uint256) external {
        _delegateToAdmin();
    }

    // ── role and default-admin management (AccessControlDefaultAdminRules, run in the admin module) ──

    /// @inheritdoc IAccessControl
    function grantRole(bytes32, address) public override {
        _delegateToAdmin(IAccessControl.grantRole.selector);
    }

    /// @inheritdoc IAccessControl
    function revokeRole(bytes32, address) public override {
        _delegateToAdmin(IAccessControl.revokeRole.selector);
    }

    /// @inheritdoc IAccessControl
    function renounceRole(bytes32, address) public override {
        _delegateToAdmin(IAccessControl.renounceRole.selector);
    }

    /// @inheritdoc IAccessControlDefaultAdminRules
    function beginDefaultAdminTransfer(address) public override {
        _delegateToAdmin(IAccessControlDefaultAdminRules.beginDefaultAdminTransfer.selector);
    }

    /// @inheritdoc IAccessControlDefaultAdminRules
    function cancelDefaultAdminTransfer() public override {
        _delegateToAdmin(IAccessControlDefaultAdminRules.cancelDefaultAdminTransfer.selector);
    }

    /// @inheritdoc IAccessControlDefaultAdminRules
    function acceptDefaultAdminTransfer() public override {
        _delegateToAdmin(IAccessControlDefaultAdminRules.acceptDefaultAdminTransfer.selector);
    }

    /// @inheritdoc IAccessControlDefaultAdminRules
    function changeDefaultAdminDelay(uint48) public override {
        _delegateToAdmin(IAccessControlDefaultAdminRules.changeDefaultAdminDelay.selector);
    }

    /// @inheritdoc IAccessControlDefaultAdminRules
    function rollbackDefaultAdminDelay() public override {
        _delegateToAdmin(IAccessControlDefaultAdminRules.rollbackDefaultAdminDelay.selector);
    }

    // ── views ──

    /// @inheritdoc IERC20Metadata
    function name() external view returns (string memory) {
        return _getBankTokenStorage().name;
    }

    /// @inheritdoc IERC20Metadata
    function symbol() external view returns (string memory) {
        return _getBankTokenStorage().symbol;
    }

    /// @inheritdoc IERC20Metadata
    function decimals() external view returns (uint8) {
        return _getBankTokenStorage().decimals;
    }

    /// @inheritdoc IBankToken
    function currency() external view returns (bytes3) {
        return _getBankTokenStorage().currency;
    }

    /// @inheritdoc IERC20
    function totalSupply() external view returns (uint256) {
        return _totalSupply(_getBankTokenStorage().accounts[address(0)]);
    }

    /// @inheritdoc IERC20
    function balanceOf(address account) external view returns (uint256) {
        if (account == address(0)) return 0;
        return _getBankTokenStorage().accounts[account] & _MASK_128;
    }

    /// @inheritdoc IERC20
    function allowance(address owner, address spender) external view returns (uint256) {
        return _getBankTokenStorage().allowances[owner][spender];
    }

    /// @inheritdoc IERC20Permit
    function nonces(address owner) external view returns (uint256) {
        if (owner == address(0)) return 0;
        return (_getBankTokenStorage().accounts[owner] >> _NONCE_SHIFT) & _MASK_64;
    }

    /// @inheritdoc IERC20Permit
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparator();
    }

    /// @inheritdoc IERC5267
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name_,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", _EIP712_NAME, _EIP712_VERSION, block.chainid, address(this), bytes32(0), extensions);
    }

    /// @inheritdoc IBankToken
    function paused() external view returns (bool) {
        return _getBankTokenStorage().accounts[address(0)] & _FLAG != 0;
    }

    /// @inheritdoc IBankToken
    function isFrozen(address account) external view returns (bool) {
        if (account == address(0)) return false;
        return _getBankTokenStorage().accounts[account] & _FLAG != 0;
    }

    /// @inheritdoc IBankToken
    function supplyCap() external view returns (uint256) {
        return (_getBankTokenStorage().accounts[address(0)] >> _CAP_SHIFT) & _MASK_127;
    }

    /// @inheritdoc IBankToken
    function issuanceGate() external view returns (IIssuanceGate) {
        return _getBankTokenStorage().gate;
    }

    /// @inheritdoc IBankToken
    function isMinter(address account) external view returns (bool) {
        return _getBankTokenStorage().minters[account].enabled();
    }

    /// @inheritdoc IBankToken
    function minterAllowance(address minter) external view returns (uint256) {
        MinterWord word = _getBankTokenStorage().minters[minter];
        if (!word.enabled()) return 0;
        return _settleRefill(word).allowance();
    }

    /// @inheritdoc IBankToken
    function minterRateLimit(address minter) external view returns (uint256 capacity, uint256 period) {
        MinterWord word = _getBankTokenStorage().minters[minter];
        return (word.capacity(), word.period());
    }

    /// @inheritdoc IBankToken
    function wipeOrderOf(address account) external view returns (address issuer, bytes32 reasonCode) {
        WipeOrder storage order = _getBankTokenStorage().wipes[account];
        return (order.issuer, order.reasonCode);
    }

    /// @inheritdoc IERC3009
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool) {
        return _getBankTokenStorage().authorizations[authorizer][nonce];
    }

    // ─────────────────────────────────────────── internal ─────────────────────────────────────────────

    /// @dev A transfer between two nonzero accounts.
    function _transfer(address from, address to, uint256 amount) internal {
        if (from == address(0) || to == address(0)) revert BankTokenZeroAddress();
        _update(from, to, amount);
    }

    /// @dev Sets the allowance of `spender` over `owner`'s tokens to `amount`: the one place approvals change
    ///      (`approve`, `permit`). Checks the pause flag, both freeze flags and the zero address.
    function _approve(address owner, address spender, uint256 amount) internal {
        // Safe: no arithmetic; only the scratch words 0x00..0x3f are written.
        assembly ("memory-safe") {
            if shr(255, sload(_RESERVOIR_SLOT)) {
                mstore(0x00, _PAUSED_ERROR)
                revert(0x1c, 0x04)
            }
            if or(iszero(owner), iszero(spender)) {
                mstore(0x00, _ZERO_ADDRESS_ERROR)
                revert(0x1c, 0x04)
            }
            mstore(0x20, _ACCOUNTS_SLOT)
            mstore(0x00, owner)
            if shr(255, sload(keccak256(0x00, 0x40))) {
                mstore(0x00, _FROZEN_ERROR)
                mstore(0x20, owner)
                revert(0x1c, 0x24)
            }
            mstore(0x00, spender)
            if shr(255, sload(keccak256(0x00, 0x40))) {
                mstore(0x00, _FROZEN_ERROR)
                mstore(0x20, spender)
                revert(0x1c, 0x24)
            }
            // allowances[owner][spender] is at keccak256(spender . keccak256(owner . _ALLOWANCES_SLOT)).
            mstore(0x00, owner)
            mstore(0x20, _ALLOWANCES_SLOT)
            mstore(0x20, keccak256(0x00, 0x40))
            mstore(0x00, spender)
            sstore(keccak256(0x00, 0x40), amount)
            mstore(0x00, amount)
            log3(0x00, 0x20, _APPROVAL_EVENT_SIGNATURE, owner, spender)
        }
    }

    /// @dev Spends `amount` of the allowance of `spender` over `owner`'s tokens; the infinite allowance
    ///      `type(uint256).max` is left as is. No `Approval` event (as in OpenZeppelin 5). Reverts with
    ///      `BankTokenFrozen` if `spender` is frozen: a freeze stops an account spending allowances it was
    ///      given before it, as USDC's `transferFrom` does.
    function _spendAllowance(address owner, address spender, uint256 amount) internal {
        // Safe: the one subtraction is guarded (below); scratch words and free memory (on revert) only.
        assembly ("memory-safe") {
            mstore(0x20, _ACCOUNTS_SLOT)
            mstore(0x00, spender)
            if shr(255, sload(keccak256(0x00, 0x40))) {
                mstore(0x00, _FROZEN_ERROR)
                mstore(0x20, spender)
                revert(0x1c, 0x24)
            }
            mstore(0x00, owner)
            mstore(0x20, _ALLOWANCES_SLOT)
            mstore(0x20, keccak256(0x00, 0x40))
            mstore(0x00, spender)
            let slot := keccak256(0x00, 0x40)
            let allowed := sload(slot)
            if not(allowed) {
                if gt(amount, allowed) {
                    let m := mload(0x40)
                    mstore(m, shl(224, _INSUFFICIENT_ALLOWANCE_ERROR))
                    mstore(add(m, 0x04), spender)
                    mstore(add(m, 0x24), allowed)
                    mstore(add(m, 0x44), amount)
                    revert(m, 0x64)
                }
                // No underflow: `amount <= allowed`.
                sstore(slot, sub(allowed, amount))
            }
        }
    }

    /// @dev Runs the called function in the admin module, in this contract's storage, and returns or reverts with
    ///      exactly what it does. Never returns to the caller.
    function _delegateToAdmin() private {
        address module = _adminModule;
        // Not memory-safe (it overwrites memory from 0), and it need not be: it leaves by `return` or `revert`.
        // solhint-disable-next-line no-inline-assembly
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), module, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if ok {
                return(0, returndatasize())
            }
            revert(0, returndatasize())
        }
    }

    /// @dev `_delegateToAdmin` for a public function that OpenZeppelin's code might also call internally: it
    ///      forwards only when `selector` is the function called from outside (`msg.sig`), else it reverts.
    function _delegateToAdmin(bytes4 selector) private {
        if (msg.sig != selector) revert BankTokenAdminOnlyExternal(selector);
        _delegateToAdmin();
    }

    /// @dev Upgrades are authorized for `UPGRADER_ROLE` only.
    function _authorizeUpgrade(address) internal override onlyRole(UPGRADER_ROLE) {}

    /// @dev Reverts with `BankTokenPaused` while paused.
    function _checkNotPaused() internal view {
        if (_getBankTokenStorage().accounts[address(0)] & _FLAG != 0) revert BankTokenPaused();
    }

    /// @dev Ends the call returning ABI-encoded `true`, skipping the compiler's return encoding (hot paths; the
    ///      `return true` after a call to it is never reached).
    function _returnTrue() internal pure {
        // Safe: writes the scratch word and halts; nothing runs after it.
        assembly ("memory-safe") {
            mstore(0x00, 1)
            return(0x00, 0x20)
        }
    }

    // ─────────────────────────────────────────── private ──────────────────────────────────────────────

    /// @dev EIP-2612: checks the deadline; returns the owner's account word and the digest over its nonce.
    function _permitDigest(
        address owner,
        address spender,
        uint256 value,
        uint256 deadline
    ) private view returns (uint256 ownerWord, bytes32 digest) {
        if (block.timestamp > deadline) revert BankTokenAuthorizationExpired(deadline, block.timestamp);
        ownerWord = _getBankTokenStorage().accounts[owner];
        uint256 nonce = (ownerWord >> _NONCE_SHIFT) & _MASK_64;
        bytes32 structHash;
        // Safe: hashes six words of free memory without moving the pointer (nothing else is allocated).
        assembly ("memory-safe") {
            // keccak256(abi.encode(_PERMIT_TYPEHASH, owner, spender, value, nonce, deadline)), built in free
            // memory without moving the free memory pointer.
            let m := mload(0x40)
            mstore(m, _PERMIT_TYPEHASH)
            mstore(add(m, 0x20), owner)
            mstore(add(m, 0x40), spender)
            mstore(add(m, 0x60), value)
            mstore(add(m, 0x80), nonce)
            mstore(add(m, 0xa0), deadline)
            structHash := keccak256(m, 0xc0)
        }
        digest = _hashTypedData(structHash);
    }

    /// @dev EIP-2612: consumes the nonce (bits 128..191 of the owner's account word), sets the allowance.
    function _usePermit(address owner, uint256 ownerWord, address spender, uint256 value) private {
        // The nonce field is 64 bits: 2^64 permits by one owner are out of reach, so no carry into the flag.
        unchecked {
            _getBankTokenStorage().accounts[owner] = ownerWord + _NONCE_ONE;
        }
        _approve(owner, spender, value);
    }

    /// @dev EIP-3009: checks the validity window and the nonce; returns the digest of the authorization.
    function _authorizationDigest(
        bytes32 typeHash,
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce
    ) private view returns (bytes32) {
        if (block.timestamp <= validAfter) revert BankTokenAuthorizationNotYetValid(validAfter, block.timestamp);
        if (block.timestamp >= validBefore) revert BankTokenAuthorizationExpired(validBefore, block.timestamp);
        if (_getBankTokenStorage().authorizations[from][nonce]) revert BankTokenAuthorizationUsed(from, nonce);
        bytes32 structHash;
        // Safe: hashes seven words of free memory without moving the pointer.
        assembly ("memory-safe") {
            // keccak256(abi.encode(typeHash, from, to, value, validAfter, validBefore, nonce)) in free memory.
            let m := mload(0x40)
            mstore(m, typeHash)
            mstore(add(m, 0x20), from)
            mstore(add(m, 0x40), to)
            mstore(add(m, 0x60), value)
            mstore(add(m, 0x80), validAfter)
            mstore(add(m, 0xa0), validBefore)
            mstore(add(m, 0xc0), nonce)
            structHash := keccak256(m, 0xe0)
        }
        return _hashTypedData(structHash);
    }

    /// @dev EIP-3009: marks the authorization `nonce` of `authorizer` used.
    function _useAuthorization(address authorizer, bytes32 nonce) private {
        _getBankTokenStorage().authorizations[authorizer][nonce] = true;
        emit AuthorizationUsed(authorizer, nonce);
    }

    /// @dev EIP-3009: checks the pause and the nonce; returns the digest of the cancellation.
    function _cancelDigest(address authorizer, bytes32 nonce) private view whenNotPaused returns (bytes32) {
        if (_getBankTokenStorage().authorizations[authorizer][nonce]) {
            revert BankTokenAuthorizationUsed(authorizer, nonce);
        }
        bytes32 structHash;
        // Safe: hashes three words of free memory without moving the pointer.
        assembly ("memory-safe") {
            // keccak256(abi.encode(_CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce)) in free memory.
            let m := mload(0x40)
            mstore(m, _CANCEL_AUTHORIZATION_TYPEHASH)
            mstore(add(m, 0x20), authorizer)
            mstore(add(m, 0x40), nonce)
            structHash := keccak256(m, 0x60)
        }
        return _hashTypedData(structHash);
    }

    /// @dev EIP-3009: marks the authorization `nonce` of `authorizer` canceled.
    function _cancelAuthorization(address authorizer, bytes32 nonce) private {
        _getBankTokenStorage().authorizations[authorizer][nonce] = true;
        emit AuthorizationCanceled(authorizer, nonce);
    }

    /// @dev Reverts unless (v, r, s) is `signer`'s ECDSA signature of `digest` (low s), or `signer` accepts
    ///      `r‖s‖v` through ERC-1271. ECDSA is tried first, so an EOA pays no EXTCODESIZE; a contract's address
    ///      never equals an ECDSA signer unless the key of that address signed (EIP-7702).
    function _checkSignature(address signer, bytes32 digest, uint8 v, bytes32 r, bytes32 s) private view {
        if (!_isEcdsaSigner(signer, digest, v, r, s)) _checkERC1271Signature(signer, digest, abi.encodePacked(r, s, v));
    }

    /// @dev As the (v, r, s) overload, for a packed signature: a 65-byte ECDSA `r‖s‖v`, or any ERC-1271 one.
    function _checkSignature(address signer, bytes32 digest, bytes calldata signature) private view {
        if (signature.length == 65) {
            bytes32 r;
            bytes32 s;
            uint8 v;
            // Safe: the three reads lie inside the 65 bytes whose length was just checked.
            assembly ("memory-safe") {
                r := calldataload(signature.offset)
                s := calldataload(add(signature.offset, 0x20))
                v := byte(0, calldataload(add(signature.offset, 0x40)))
            }
            if (_isEcdsaSigner(signer, digest, v, r, s)) return;
        }
        _checkERC1271Signature(signer, digest, signature);
    }

    /// @dev Whether (v, r, s) is an ECDSA signature of `digest` by `signer` with `s` in the lower half order
    ///      (EIP-2, as OpenZeppelin `ECDSA` requires). The `ecrecover` precompile returns no data for an invalid
    ///      signature (including `v` other than 27 or 28) and never returns address(0) data, so a zero `signer`
    ///      never matches.
    function _isEcdsaSigner(
        address signer,
        bytes32 digest,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) private view returns (bool ok) {
        // Safe: free memory is used as the precompile's input without moving the pointer; output to scratch.
        assembly ("memory-safe") {
            if iszero(gt(s, _SECP256K1_HALF_ORDER)) {
                let m := mload(0x40)
                mstore(m, digest)
                mstore(add(m, 0x20), v)
                mstore(add(m, 0x40), r)
                mstore(add(m, 0x60), s)
                let success := staticcall(gas(), 0x01, m, 0x80, 0x00, 0x20)
                ok := and(success, and(eq(returndatasize(), 0x20), eq(mload(0x00), signer)))
            }
        }
    }

    /// @dev Reverts unless `signer` is a contract that accepts `signature` for `digest` (ERC-1271, through
    ///      OpenZeppelin `SignatureChecker`).
    function _checkERC1271Signature(address signer, bytes32 digest, bytes memory signature) private view {
        if (!SignatureChecker.isValidERC1271SignatureNow(signer, digest, signature)) {
            revert BankTokenInvalidSignature(signer);
        }
    }

    /// @dev The EIP-712 digest of `structHash` in this token's domain.
    function _hashTypedData(bytes32 structHash) private view returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(_domainSeparator(), structHash);
    }

    /// @dev The EIP-712 domain separator: name "BankToken", version "1", the current chain id and this proxy's
    ///      address. Recomputed on every call (no storage read), so it follows a chain fork by itself.
    function _domainSeparator() private view returns (bytes32 separator) {
        // Safe: hashes five words of free memory without moving the pointer.
        assembly ("memory-safe") {
            // keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, chainid(), address())).
            let m := mload(0x40)
            mstore(m, _DOMAIN_TYPEHASH)
            mstore(add(m, 0x20), _NAME_HASH)
            mstore(add(m, 0x40), _VERSION_HASH)
            mstore(add(m, 0x60), chainid())
            mstore(add(m, 0x80), address())
            separator := keccak256(m, 0xa0)
        }
    }

    /// @dev Spends `amount` of `minter`'s allowance after settling its refill; reverts if it is not a minter.
    function _spendMinterAllowance(address minter, uint256 amount) private {
        BankTokenStorage storage $ = _getBankTokenStorage();
        MinterWord word = _settledMinterWord($, minter);
        uint256 allowance_ = word.allowance();
        if (amount > allowance_) revert BankTokenMinterAllowanceExceeded(minter, allowance_, amount);
        // No borrow from the other fields: `amount <= allowance_`, the low 88 bits.
        unchecked {
            $.minters[minter] = word.withAllowanceSpent(amount);
        }
    }

    /// @dev Validates and stores the metadata of the currency this deployment stands for.
    function _initializeCurrency(
        BankTokenStorage storage $,
        string memory name_,
        string memory symbol_,
        bytes3 currency_,
        uint8 decimals_
    ) private {
        if (bytes(name_).length == 0 || bytes(symbol_).length == 0) revert BankTokenEmptyMetadata();
        if (!_isIsoCurrencyCode(currency_)) revert BankTokenInvalidCurrency(currency_);
        if (decimals_ > 4) revert BankTokenInvalidDecimals(decimals_);
        $.name = name_;
        $.symbol = symbol_;
        $.decimals = decimals_;
        $.currency = currency_;
        emit CurrencyInitialized(currency_, decimals_, name_, symbol_);
    }

    /// @dev Whether `code` is three upper-case ASCII letters (the shape of an ISO 4217 alphabetic code).
    function _isIsoCurrencyCode(bytes3 code) private pure returns (bool ok) {
        // Safe: pure stack arithmetic; the wrap-around below "A" is intended.
        assembly ("memory-safe") {
            // Byte-wise: `x - 0x41 < 26` (unsigned, wrapping below "A") holds exactly for "A".."Z".
            let c := shr(232, code)
            ok := and(
                lt(sub(shr(16, c), 0x41), 26),
                and(lt(sub(and(shr(8, c), 0xff), 0x41), 26), lt(sub(and(c, 0xff), 0x41), 26))
            )
        }
    }
}
