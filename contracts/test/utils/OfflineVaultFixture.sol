// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Test} from "forge-std/Test.sol";

import {OfflineVault} from "../../offline/OfflineVault.sol";
import {IOfflineVault} from "../../offline/interfaces/IOfflineVault.sol";
import {ReserveLedger} from "../../reserves/ReserveLedger.sol";
import {IIssuanceGate} from "../../reserves/interfaces/IIssuanceGate.sol";
import {TrustAccount} from "../../settlement/TrustAccount.sol";
import {ITrustAccountToken} from "../../settlement/interfaces/ITrustAccountToken.sol";
import {BankToken} from "../../token/BankToken.sol";
import {IBankToken} from "../../token/interfaces/IBankToken.sol";

/// @notice Test ERC-1271 wallet for the vault tests: accepts its owner's ECDSA signature, unless told to reject.
contract OfflineVaultTestWallet is IERC1271 {
    address public immutable owner;
    bool public rejectAll;

    constructor(address owner_) {
        owner = owner_;
    }

    function setRejectAll(bool reject) external {
        rejectAll = reject;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (rejectAll) return 0xffffffff;
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(hash, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == owner) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }
}

/// @notice Voucher building and signing, shared by the unit tests and the invariant handler. The type string is
///         spelled out here so the tests also prove the vault's type hash and domain.
abstract contract OfflineVaultSigning is Test {
    bytes32 internal constant VOUCHER_TYPEHASH = keccak256(
        "Voucher(address payer,address merchant,uint256 amount,uint256 lane,uint256 sequence,"
        "bytes32 previousVoucherHash,uint256 validAfter,uint256 validBefore)"
    );
    bytes32 internal constant DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    uint256 internal constant VOUCHER_LIFE = 1 hours;

    function _domain(address vault_) internal view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("OfflineVault"), keccak256("1"), block.chainid, vault_));
    }

    function _digest(address vault_, IOfflineVault.Voucher memory v) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                VOUCHER_TYPEHASH,
                v.payer,
                v.merchant,
                v.amount,
                v.lane,
                v.sequence,
                v.previousVoucherHash,
                v.validAfter,
                v.validBefore
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", _domain(vault_), structHash));
    }

    function _signVoucher(
        address vault_,
        uint256 key,
        IOfflineVault.Voucher memory v
    ) internal view returns (bytes memory) {
        (uint8 sv, bytes32 r, bytes32 s) = vm.sign(key, _digest(vault_, v));
        return abi.encodePacked(r, s, sv);
    }

    function _makeVoucher(
        address payer,
        address merchant,
        uint256 amount,
        uint256 lane,
        uint256 sequence,
        bytes32 previous
    ) internal view returns (IOfflineVault.Voucher memory) {
        return
            IOfflineVault.Voucher({
                payer: payer,
                merchant: merchant,
                amount: amount,
                lane: lane,
                sequence: sequence,
                previousVoucherHash: previous,
                validAfter: block.timestamp,
                validBefore: block.timestamp + VOUCHER_LIFE
            });
    }
}

/// @dev The real suite as production deploys it (`BankToken` behind an `ERC1967Proxy`, `ReserveLedger` as its
///      gate, a `TrustAccount` minter), plus an `OfflineVault` on the token. Payers are funded at set-up, so later
///      time warps never meet a stale reserve attestation.
abstract contract OfflineVaultFixture is OfflineVaultSigning {
    uint8 internal constant DECIMALS = 2;
    uint48 internal constant ADMIN_DELAY = 3 days;
    uint32 internal constant MAX_AGE = 1 days;
    uint256 internal constant T0 = 1_700_000_000;
    uint256 internal constant RESERVE = 10_000_000_00;
    uint256 internal constant MINTER_ALLOWANCE = 10_000_000_00;
    uint256 internal constant FUNDS = 1_000_000_00;

    uint128 internal constant MAX_PER_VOUCHER = 100_00;
    uint128 internal constant MAX_PER_LANE = 300_00;
    uint128 internal constant MAX_PER_EPOCH = 500_00;
    uint32 internal constant MAX_VOUCHER_AGE = 1 days;
    uint32 internal constant EPOCH_LENGTH = 1 days;
    uint32 internal constant WITHDRAWAL_DELAY = 2 days;
    uint32 internal constant MAX_VIEW_AGE = 6 hours;

    IBankToken internal token;
    ReserveLedger internal ledger;
    TrustAccount internal trust;
    OfflineVault internal vault;

    address internal admin = makeAddr("admin");
    address internal depositor = makeAddr("depositor");
    address internal riskAdmin = makeAddr("riskAdmin");
    address internal stranger = makeAddr("stranger");
    address internal merchant1 = makeAddr("merchant1");
    address internal merchant2 = makeAddr("merchant2");
    address internal alice;
    uint256 internal aliceKey;
    address internal bob;
    uint256 internal bobKey;
    uint256 private _refs;

    function _deploySuite() internal {
        vm.warp(T0);
        address minterAdmin = makeAddr("minterAdmin");
        address reserveAdmin = makeAddr("reserveAdmin");
        address attestor = makeAddr("attestor");
        (alice, aliceKey) = makeAddrAndKey("alice");
        (bob, bobKey) = makeAddrAndKey("bob");
        BankToken implementation = new BankToken();
        bytes memory init = abi.encodeCall(
            IBankToken.initialize,
            ("Bank USD", "bUSD", bytes3("USD"), DECIMALS, 1e30, IIssuanceGate(address(0)), admin, ADMIN_DELAY)
        );
        token = IBankToken(address(new ERC1967Proxy(address(implementation), init)));
        ledger = new ReserveLedger(admin, ADMIN_DELAY, address(token), DECIMALS);
        trust = new TrustAccount(admin, ADMIN_DELAY, ITrustAccountToken(address(token)));

        vm.startPrank(admin);
        token.setIssuanceGate(ledger);
        IAccessControl(address(token)).grantRole(token.MINTER_ADMIN_ROLE(), minterAdmin);
        ledger.grantRole(ledger.RESERVE_ADMIN_ROLE(), reserveAdmin);
        ledger.grantRole(ledger.ATTESTOR_ROLE(), attestor);
        trust.grantRole(trust.DEPOSITOR_ROLE(), depositor);
        vm.stopPrank();
        vm.prank(minterAdmin);
        token.configureMinter(address(trust), MINTER_ALLOWANCE);
        vm.prank(reserveAdmin);
        ledger.registerIssuer(address(trust), 10_000, MAX_AGE);
        vm.prank(attestor);
        ledger.attestReserve(address(trust), RESERVE, block.timestamp);

        vault = new OfflineVault(admin, ADMIN_DELAY, IERC20(address(token)), _defaultLimits());
        vm.startPrank(admin);
        vault.grantRole(vault.RISK_ADMIN_ROLE(), riskAdmin);
        vm.stopPrank();

        _mint(alice, FUNDS);
        _mint(bob, FUNDS);
    }

    function _defaultLimits() internal pure returns (IOfflineVault.Limits memory) {
        return
            IOfflineVault.Limits({
                maxPerVoucher: MAX_PER_VOUCHER,
                maxPerLane: MAX_PER_LANE,
                maxPerEpoch: MAX_PER_EPOCH,
                maxVoucherAge: MAX_VOUCHER_AGE,
                epochLength: EPOCH_LENGTH,
                withdrawalDelay: WITHDRAWAL_DELAY,
                maxViewAge: MAX_VIEW_AGE
            });
    }

    /// @dev Mints `amount` to `to` through the trust account (a fiat deposit with a fresh reference).
    function _mint(address to, uint256 amount) internal {
        vm.prank(depositor);
        trust.mintForDeposit(to, amount, keccak256(abi.encode("fiat", ++_refs)));
    }

    /// @dev `payer` approves and locks `amount` of its own tokens.
    function _lock(address payer, uint256 amount) internal {
        vm.startPrank(payer);
        token.approve(address(vault), amount);
        vault.deposit(amount);
        vm.stopPrank();
    }

    function _sign(uint256 key, IOfflineVault.Voucher memory v) internal view returns (bytes memory) {
        return _signVoucher(address(vault), key, v);
    }

    function _hash(IOfflineVault.Voucher memory v) internal view returns (bytes32) {
        return _digest(address(vault), v);
    }

    /// @dev Alice's voucher to `merchant`, the next one of `lane` as the vault sees it.
    function _next(
        address merchant,
        uint256 amount,
        uint256 lane
    ) internal view returns (IOfflineVault.Voucher memory) {
        (uint256 last, bytes32 lastHash, , ) = vault.laneOf(alice, lane);
        return _makeVoucher(alice, merchant, amount, lane, last + 1, lastHash);
    }

    /// @dev Signs and redeems `v` with alice's key.
    function _redeemAlice(IOfflineVault.Voucher memory v) internal {
        vault.redeem(v, _sign(aliceKey, v));
    }
}
