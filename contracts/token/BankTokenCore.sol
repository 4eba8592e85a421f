// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IIssuanceGate} from "../reserves/interfaces/IIssuanceGate.sol";
import {IBankToken} from "./interfaces/IBankToken.sol";
import {MinterWord} from "./MinterWord.sol";

/// @title BankTokenCore
/// @notice What `BankToken` and its admin module (`BankTokenAdmin`) share: the storage layout, the packed
///         words' fields, the role identifiers and the helpers both run. The module runs by `delegatecall` in
///         the token's storage, so both must read and write the same namespace the same way.
abstract contract BankTokenCore {
    // ───────────────────────────────────────────── types ──────────────────────────────────────────────

    /// @custom:storage-location erc7201:bank-chain.storage.BankToken
    /// @dev Member order is the layout: do not reorder, only append. The assembly below addresses the first
    ///      two members through the `_*_SLOT` constants.
    struct BankTokenStorage {
        // +0: account word per holder: balance (0..127) | permit nonce (128..191) | frozen (255); the word of
        //     address(0) is the reservoir: cap - totalSupply (0..127) | supplyCap (128..254) | paused (255).
        mapping(address account => uint256 word) accounts;
        // +1: ERC-20 allowances.
        mapping(address owner => mapping(address spender => uint256 amount)) allowances;
        // +2: gate (bytes 0..19) | decimals (byte 20) | currency (bytes 21..23).
        IIssuanceGate gate;
        uint8 decimals;
        bytes3 currency;
        // +3: minter word: allowance (0..87) | capacity (88..175) | period (176..207) | lastRefill (208..247)
        //     | enabled (255).
        mapping(address minter => MinterWord word) minters;
        // +4: EIP-3009 authorization nonces used or canceled.
        mapping(address authorizer => mapping(bytes32 nonce => bool used)) authorizations;
        // +5, +6: metadata.
        string name;
        string symbol;
        // +7: wipe orders of frozen accounts, awaiting the issuance side's confirmation.
        mapping(address account => WipeOrder order) wipes;
    }

    /// @dev A wipe compliance ordered: the issuer whose outstanding issuance the burn would reduce, and why.
    struct WipeOrder {
        address issuer;
        bytes32 reasonCode;
    }

    // ─────────────────────────────────────────── constants ────────────────────────────────────────────

    bytes32 internal constant _MINTER_ADMIN_ROLE = keccak256("MINTER_ADMIN_ROLE");
    bytes32 internal constant _PAUSER_ROLE = keccak256("PAUSER_ROLE");
    bytes32 internal constant _COMPLIANCE_ROLE = keccak256("COMPLIANCE_ROLE");
    bytes32 internal constant _RESCUER_ROLE = keccak256("RESCUER_ROLE");
    bytes32 internal constant _UPGRADER_ROLE = keccak256("UPGRADER_ROLE");

    /// @dev The largest minter allowance or rate-limit capacity: 88 bits of the minter word.
    uint256 internal constant _MAX_MINTER_ALLOWANCE = (1 << 88) - 1;
    /// @dev The largest supply cap, 2^127 - 1: the cap shares the reservoir word with the reservoir and the pause
    ///      flag. (Not a public getter: see `docs/token.md`; `BankTokenSupplyCapTooLarge` reports it.)
    uint256 internal constant _MAX_SUPPLY_CAP = (1 << 127) - 1;

    /// @dev ERC-7201 location of `BankTokenStorage`:
    ///      keccak256(abi.encode(uint256(keccak256("bank-chain.storage.BankToken")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 internal constant BANK_TOKEN_STORAGE_LOCATION =
        0xf0d8963450aeff25ec37ef3cfd0d19f590c8a4857cc9803c586a454ce098b100;
    /// @dev `BANK_TOKEN_STORAGE_LOCATION + 0`: the `accounts` mapping (assembly needs literal constants).
    uint256 internal constant _ACCOUNTS_SLOT = 0xf0d8963450aeff25ec37ef3cfd0d19f590c8a4857cc9803c586a454ce098b100;
    /// @dev `BANK_TOKEN_STORAGE_LOCATION + 1`: the `allowances` mapping.
    uint256 internal constant _ALLOWANCES_SLOT = 0xf0d8963450aeff25ec37ef3cfd0d19f590c8a4857cc9803c586a454ce098b101;
    /// @dev `keccak256(abi.encode(address(0), _ACCOUNTS_SLOT))`: the reservoir word (account word of address(0)).
    uint256 internal constant _RESERVOIR_SLOT = 0x0c0373b4ecf8bd408cd50882d26b76772274d038b15a33f041255fb881f5ca2f;

    /// @dev Account word and reservoir word fields.
    uint256 internal constant _MASK_128 = 0xffffffffffffffffffffffffffffffff;
    uint256 internal constant _MASK_127 = 0x7fffffffffffffffffffffffffffffff;
    uint256 internal constant _FLAG = 1 << 255; // frozen (account word), paused (reservoir), enabled (minter)
    uint256 internal constant _NONCE_SHIFT = 128;
    uint256 internal constant _MASK_64 = 0xffffffffffffffff;
    uint256 internal constant _NONCE_ONE = 1 << 128;
    uint256 internal constant _CAP_SHIFT = 128;

    /// @dev `keccak256("Transfer(address,address,uint256)")`.
    uint256 internal constant _TRANSFER_EVENT_SIGNATURE =
        0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef;
    /// @dev `keccak256("Approval(address,address,uint256)")`.
    uint256 internal constant _APPROVAL_EVENT_SIGNATURE =
        0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925;

    /// @dev Error selectors used from assembly (the tests assert each error, so a wrong one would fail).
    uint256 internal constant _PAUSED_ERROR = 0xf5113306; // BankTokenPaused()
    uint256 internal constant _FROZEN_ERROR = 0x37e23cb3; // BankTokenFrozen(address)
    uint256 internal constant _ZERO_ADDRESS_ERROR = 0x54cfcfc7; // BankTokenZeroAddress()
    uint256 internal constant _INSUFFICIENT_ALLOWANCE_ERROR = 0x305565c6; // BankTokenInsufficientAllowance(...)
    uint256 internal constant _INSUFFICIENT_BALANCE_ERROR = 0xaf7f3854; // BankTokenInsufficientBalance(...)
    uint256 internal constant _SUPPLY_CAP_EXCEEDED_ERROR = 0x373ee7e2; // BankTokenSupplyCapExceeded(uint256,uint256)

    // ─────────────────────────────────────────── internal ─────────────────────────────────────────────

    /// @dev The ERC-7201 namespace of this contract's state.
    function _getBankTokenStorage() internal pure returns (BankTokenStorage storage $) {
        // Safe: only points the storage reference at the namespace.
        assembly ("memory-safe") {
            $.slot := BANK_TOKEN_STORAGE_LOCATION
        }
    }

    /// @dev The minter word of `minter` with its refill settled; reverts with `BankTokenNotMinter` if disabled.
    function _settledMinterWord(BankTokenStorage storage $, address minter) internal view returns (MinterWord) {
        MinterWord word = $.minters[minter];
        if (!word.enabled()) revert IBankToken.BankTokenNotMinter(minter);
        return _settleRefill(word);
    }

    /// @dev `word` with the refill accrued since its `lastRefill` added to the allowance, up to the capacity.
    ///      A full bucket restarts the clock (time spent full earns nothing). A refill that rounds down to zero
    ///      leaves the clock alone so slow rates still accrue; a positive one drops the sub-unit remainder
    ///      (at most one minor unit per settlement, always against the minter).
    function _settleRefill(MinterWord word) internal view returns (MinterWord) {
        uint256 capacity = word.capacity();
        if (capacity == 0) return word;
        uint256 allowance_ = word.allowance();
        uint256 newAllowance = allowance_;
        if (allowance_ < capacity) {
            uint256 elapsed = block.timestamp - word.lastRefill();
            // capacity < 2^88 and elapsed < 2^40: the product cannot overflow. period > 0 when capacity > 0.
            uint256 refill = (capacity * elapsed) / word.period();
            if (refill == 0) return word;
            newAllowance = Math.min(allowance_ + refill, capacity);
        }
        return word.withAllowance(newAllowance).withLastRefill(block.timestamp);
    }

    /// @dev Sets the cap in the reservoir word and moves the reservoir (`cap - totalSupply`) with it.
    function _setSupplyCap(BankTokenStorage storage $, uint256 newCap) internal {
        if (newCap > _MAX_SUPPLY_CAP) revert IBankToken.BankTokenSupplyCapTooLarge(newCap, _MAX_SUPPLY_CAP);
        uint256 word = $.accounts[address(0)];
        uint256 supply_ = _totalSupply(word);
        if (newCap < supply_) revert IBankToken.BankTokenSupplyCapBelowSupply(newCap, supply_);
        // No underflow: checked just above.
        unchecked {
            $.accounts[address(0)] = (word & _FLAG) | (newCap << _CAP_SHIFT) | (newCap - supply_);
        }
        emit IBankToken.SupplyCapChanged((word >> _CAP_SHIFT) & _MASK_127, newCap);
    }

    /// @dev The total supply recorded in the reservoir word: `cap - reservoir`.
    function _totalSupply(uint256 reservoirWord) internal pure returns (uint256 supply_) {
        // No underflow: the reservoir never exceeds the cap (it starts equal to it, a mint lowers it, a burn
        // returns at most what was minted, and a cap change moves both by the same amount).
        unchecked {
            supply_ = ((reservoirWord >> _CAP_SHIFT) & _MASK_127) - (reservoirWord & _MASK_128);
        }
    }
    /// @dev Sets the issuance gate; it must hold code (or be zero, to unset it).
    function _setIssuanceGate(BankTokenStorage storage $, IIssuanceGate newGate) internal {
        if (address(newGate) != address(0) && address(newGate).code.length == 0) {
            revert IBankToken.BankTokenInvalidIssuanceGate(address(newGate));
        }
        IIssuanceGate previous = $.gate;
        $.gate = newGate;
        emit IBankToken.IssuanceGateChanged(address(previous), address(newGate));
    }

    /// @dev The one function through which every balance changes: a transfer (`from` and `to` nonzero), a mint
    ///      (`from == 0`) or a burn (`to == 0`). A mint takes from the reservoir (the account word of address(0),
    ///      holding `cap - totalSupply`) and a burn gives back to it, so all three are the same debit and credit.
    ///      The pause flag (the reservoir's top bit), both freeze flags, the balance and, for a mint, the cap
    ///      (the reservoir's balance) are checked here and nowhere else, in one branch after both writes: a
    ///      failed check reverts, which undoes the writes. Emits `Transfer(from, to, amount)`. Callers keep the
    ///      zero address out where it is not a mint or a burn, and never pass `from == to == 0`.
    function _update(address from, address to, uint256 amount) internal {
        uint256 fromWord;
        bool failed;
        // Safe: the debit and credit wrap only when the single check fails, and then `_revertUpdate` reverts
        // (see the notes inline); only the scratch words 0x00..0x3f are written.
        assembly ("memory-safe") {
            // The account word of `a` is at keccak256(abi.encode(a, _ACCOUNTS_SLOT)). `from` is written before
            // `to` is read so that `from == to` nets out.
            mstore(0x20, _ACCOUNTS_SLOT)
            mstore(0x00, from)
            let slot := keccak256(0x00, 0x40)
            fromWord := sload(slot)
            sstore(slot, sub(fromWord, amount))
            mstore(0x00, to)
            slot := keccak256(0x00, 0x40)
            // With the checks passed there is no carry out of the low 128 bits: a balance plus `amount` is at
            // most the supply, and the reservoir plus a burned `amount` at most the cap, both below 2^127. A
            // frozen (or paused) word keeps its top bit, so the flag test below also covers `to`.
            let toWord := add(sload(slot), amount)
            sstore(slot, toWord)
            // One test for every check: the pause flag (read after the writes: only a mint writes the
            // reservoir before this point, and then `fromWord` holds its original value), both freeze flags,
            // and the balance of `from` (for a mint, the reservoir: the room under the cap).
            failed := or(
                shr(255, or(or(sload(_RESERVOIR_SLOT), fromWord), toWord)),
                gt(amount, and(fromWord, _MASK_128))
            )
            if iszero(failed) {
                mstore(0x00, amount)
                log3(0x00, 0x20, _TRANSFER_EVENT_SIGNATURE, from, to)
            }
        }
        if (failed) _revertUpdate(from, to, amount, fromWord);
    }

    /// @dev Reverts with the first check of `_update` that failed (failure path only). `fromWord` is the word of
    ///      `from` as `_update` read it, before its debit.
    function _revertUpdate(address from, address to, uint256 amount, uint256 fromWord) internal view {
        // Safe: failure path only; reverts in every branch, from the scratch words or free memory.
        assembly ("memory-safe") {
            // The reservoir as it was before `_update`: a burn credited `amount` to it (undone exactly, modulo
            // 2^256), a mint read it as `fromWord`, a transfer did not touch it.
            let reservoir := sload(_RESERVOIR_SLOT)
            if iszero(to) {
                reservoir := sub(reservoir, amount)
            }
            if iszero(from) {
                reservoir := fromWord
            }
            if shr(255, reservoir) {
                mstore(0x00, _PAUSED_ERROR)
                revert(0x1c, 0x04)
            }
            if shr(255, fromWord) {
                mstore(0x00, _FROZEN_ERROR)
                mstore(0x20, from)
                revert(0x1c, 0x24)
            }
            let m := mload(0x40)
            let held := and(fromWord, _MASK_128)
            if gt(amount, held) {
                if iszero(from) {
                    // The reservoir (room under the cap) is short: the mint would pass the cap. The new supply
                    // cannot wrap: a mint's amount is within a minter allowance (< 2^88), the cap below 2^127.
                    let cap := and(shr(_CAP_SHIFT, fromWord), _MASK_127)
                    mstore(m, shl(224, _SUPPLY_CAP_EXCEEDED_ERROR))
                    mstore(add(m, 0x04), cap)
                    mstore(add(m, 0x24), add(sub(cap, held), amount))
                    revert(m, 0x44)
                }
                mstore(m, shl(224, _INSUFFICIENT_BALANCE_ERROR))
                mstore(add(m, 0x04), from)
                mstore(add(m, 0x24), held)
                mstore(add(m, 0x44), amount)
                revert(m, 0x64)
            }
            mstore(0x00, _FROZEN_ERROR)
            mstore(0x20, to)
            revert(0x1c, 0x24)
        }
    }

    /// @dev The gate, or a revert if none is set: a bank token is always reserve-gated.
    function _requireIssuanceGate() internal view returns (IIssuanceGate gate) {
        gate = _getBankTokenStorage().gate;
        if (address(gate) == address(0)) revert IBankToken.BankTokenIssuanceGateNotSet();
    }
}
