// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IBankToken} from "../token/interfaces/IBankToken.sol";
import {BillId, IBillRegistry} from "./interfaces/IBillRegistry.sol";

/// @title BillRegistry
/// @notice Bills whose life cycles are state machines given as data (see `IBillRegistry` and `docs/bills.md`).
/// @dev Roles: `DEFAULT_ADMIN_ROLE` (one holder, two-step handover after a delay) grants roles;
///      `DEFINITION_ADMIN_ROLE` registers definitions. Everything else is done by the bill's parties.
///
///      Payments. By allowance (`execute`, `executeBySig`: `transferFrom(payer, holder)`, the registry never holds
///      the tokens) or by EIP-3009 `receiveWithAuthorization` to this contract, forwarded to the holder in the same
///      call (`executeWithAuthorization`). `transferWithAuthorization` straight to the holder was not chosen: anyone
///      who sees the signed authorization could submit it to the token alone, moving the money without the bill
///      recording it; `receiveWithAuthorization` can only be submitted by its payee, this contract. Either way the
///      state is written before the token is called (under a reentrancy guard) and the whole call reverts if the
///      money does not move, so "paid" is never recorded without the money.
///
///      Ids. A bill id commits to its drawer (`BillIdLib`: the drawer's address, then its own 12-byte serial) and
///      only that drawer may issue under it, so an id announced before issue cannot be taken by anyone else.
///
///      Freezes. An account frozen in the token may not act on, receive, or be named in an operation that moves
///      money or the right to it: `issue` (drawer, drawee, payee), `Endorse` and `OfferDiscount` (the actor, the
///      holder, the new holder or financier), `Recourse` (the actor, the holder, the endorser made payer) revert
///      `BillPartyFrozen`; the payments (`PayPartial`, `PayFull`, `Discount`) move tokens from the actor to the
///      holder, which the token itself refuses (`BankTokenFrozen`) if either is frozen. Operations without an
///      effect (request, accept, reject, dispute, resolve, cancel, mark overdue) move neither and are not refused.
///
///      Signed operations. `executeBySig` accepts an ECDSA signature that recovers to the signer whatever code the
///      signer's address has now (an EOA that later delegates by EIP-7702 cannot revoke what it signed); only
///      when ECDSA does not match is the signer asked through ERC-1271 (contract wallets), with at most
///      `_ERC1271_GAS` gas, so a hostile wallet costs a relayer a bounded amount.
///
///      Deadline transitions. A state may have one `Anyone` transition with an `After...` timing (e.g. "mark
///      overdue"). `stateOf` applies it once its deadline has passed; any operation on the bill first records it
///      (with its own event) and then checks the operation against the derived state.
contract BillRegistry is IBillRegistry, AccessControlDefaultAdminRules, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @dev One definition.
    struct Definition {
        bytes32 name;
        uint32 version;
        bytes32[] states;
    }

    /// @notice Registers definitions.
    bytes32 public constant DEFINITION_ADMIN_ROLE = keccak256("DEFINITION_ADMIN_ROLE");
    /// @notice The EIP-712 type of a signed operation.
    bytes32 public constant BILL_OPERATION_TYPEHASH = keccak256(
        "BillOperation(bytes32 billId,bytes32 operation,bytes32 dataHash,uint256 nonce,uint256 deadline)"
    );

    /// @dev The most deadline transitions `stateOf` follows, and an operation records, in a row (a definition
    ///      could chain them in a cycle).
    uint256 private constant _MAX_DEADLINE_STEPS = 4;
    /// @dev The most gas an ERC-1271 `isValidSignature` call gets: enough for a multisig of a few dozen owners
    ///      or a P-256 (passkey) check through the RIP-7212 precompile; a wallet that needs more is refused
    ///      (`BillInvalidSignature`).
    uint256 private constant _ERC1271_GAS = 300_000;

    IBankToken private immutable _token;

    uint32 private _definitionCount;
    mapping(uint32 definitionId => Definition) private _definitions;
    mapping(bytes32 name => mapping(uint32 version => uint32 definitionId)) private _definitionIds;
    mapping(uint32 definitionId => mapping(bytes32 from => mapping(bytes32 operation => Rule))) private _rules;
    /// @dev The `Anyone` (deadline) operation leaving each state, if any.
    mapping(uint32 definitionId => mapping(bytes32 state => bytes32 operation)) private _deadlineOps;
    mapping(BillId id => Bill) private _bills;
    mapping(BillId id => address[]) private _endorsers;
    mapping(address signer => uint256) private _nonces;

    /// @param initialAdmin The single holder of `DEFAULT_ADMIN_ROLE`.
    /// @param initialAdminDelay The delay, in seconds, before a default admin handover can be accepted.
    /// @param token_ The bank token (its proxy) bills are paid in.
    constructor(
        address initialAdmin,
        uint48 initialAdminDelay,
        IBankToken token_
    ) AccessControlDefaultAdminRules(initialAdminDelay, initialAdmin) EIP712("BillRegistry", "1") {
        if (address(token_) == address(0)) revert BillInvalidTerms();
        _token = token_;
    }

    // ───────────────────────────────────────── definitions ─────────────────────────────────────────

    /// @inheritdoc IBillRegistry
    function registerDefinition(
        bytes32 name,
        uint32 version,
        bytes32[] calldata states,
        Transition[] calldata transitions
    ) external onlyRole(DEFINITION_ADMIN_ROLE) returns (uint32 id) {
        if (name == bytes32(0) || states.length == 0 || transitions.length == 0) revert BillInvalidDefinition(0);
        if (_definitionIds[name][version] != 0) revert BillDefinitionExists(name, version);
        id = ++_definitionCount;
        Definition storage d = _definitions[id];
        d.name = name;
        d.version = version;
        for (uint256 i = 0; i < states.length; ++i) {
            bytes32 s = states[i];
            if (s == bytes32(0) || _isState(d.states, s)) revert BillInvalidDefinition(i);
            d.states.push(s);
        }
        bool issuable;
        for (uint256 i = 0; i < transitions.length; ++i) {
            Transition calldata t = transitions[i];
            bool issuing = t.from == bytes32(0);
            if (
                t.operation == bytes32(0) ||
                !_isState(d.states, t.to) ||
                (!issuing && !_isState(d.states, t.from)) ||
                issuing != (t.effect == Effect.Issue) ||
                t.party == Party.None ||
                _rules[id][t.from][t.operation].to != bytes32(0)
            ) revert BillInvalidDefinition(i);
            if (t.party == Party.Anyone) {
                if (
                    issuing ||
                    t.effect != Effect.None ||
                    (t.timing != Timing.AfterAcceptance &&
                        t.timing != Timing.AfterMaturity &&
                        t.timing != Timing.AfterRecourse) ||
                    _deadlineOps[id][t.from] != bytes32(0)
                ) revert BillInvalidDefinition(i);
                _deadlineOps[id][t.from] = t.operation;
            }
            issuable = issuable || issuing;
            _rules[id][t.from][t.operation] = Rule(t.to, t.party, t.effect, t.timing);
        }
        if (!issuable) revert BillInvalidDefinition(transitions.length);
        _definitionIds[name][version] = id;
        emit BillDefinitionRegistered(id, name, version);
    }

    // ──────────────────────────────────────────── bills ────────────────────────────────────────────

    /// @inheritdoc IBillRegistry
    function issue(uint32 definitionId_, bytes32 operation, BillTerms calldata terms) external {
        if (definitionId_ == 0 || definitionId_ > _definitionCount) revert BillUnknownDefinition(definitionId_);
        BillId id = terms.id;
        if (id.drawer() != msg.sender) revert BillIdOfAnotherDrawer(id, msg.sender);
        if (_bills[id].definitionId != 0) revert BillInvalidId(id);
        Rule memory r = _rules[definitionId_][bytes32(0)][operation];
        if (r.to == bytes32(0)) revert BillInvalidTransition(id, bytes32(0), operation);
        if (
            terms.amount == 0 ||
            terms.drawee == address(0) ||
            terms.payee == address(0) ||
            (terms.maturity != 0 && terms.acceptanceDeadline > terms.maturity) ||
            (terms.recourseDeadline != 0 && terms.recourseDeadline < terms.maturity)
        ) revert BillInvalidTerms();
        _checkNotFrozen(id, operation, msg.sender);
        _checkNotFrozen(id, operation, terms.drawee);
        _checkNotFrozen(id, operation, terms.payee);
        Bill storage b = _bills[id];
        b.definitionId = definitionId_;
        b.acceptanceDeadline = terms.acceptanceDeadline;
        b.maturity = terms.maturity;
        b.recourseDeadline = terms.recourseDeadline;
        b.drawer = msg.sender;
        b.drawee = terms.drawee;
        b.payer = terms.drawee;
        b.payee = terms.payee;
        b.holder = terms.payee;
        b.amountDue = terms.amount;
        b.documentHash = terms.documentHash;
        _checkTiming(b, id, operation, r.timing);
        bytes32 dataHash = keccak256(abi.encode(terms));
        _record(b, id, r.to, operation, msg.sender, dataHash);
        emit BillIssued(id, definitionId_, msg.sender, terms.drawee, terms.payee, terms.amount);
    }

    /// @inheritdoc IBillRegistry
    function execute(BillId id, bytes32 operation, bytes calldata data) external nonReentrant {
        _execute(id, operation, data, msg.sender, _emptyAuth());
    }

    /// @inheritdoc IBillRegistry
    function executeWithPermit(
        BillId id,
        bytes32 operation,
        bytes calldata data,
        uint256 value,
        uint256 deadline,
        bytes calldata signature
    ) external nonReentrant {
        // A failed permit (front-run by its own signature) is not fatal: the payment needs the allowance anyway.
        try _token.permit(msg.sender, address(this), value, deadline, signature) {} catch {}
        _execute(id, operation, data, msg.sender, _emptyAuth());
    }

    /// @inheritdoc IBillRegistry
    function executeWithAuthorization(
        BillId id,
        bytes32 operation,
        bytes calldata data,
        PaymentAuthorization calldata auth
    ) external nonReentrant {
        if (auth.signature.length == 0) revert BillInvalidSignature(msg.sender);
        _execute(id, operation, data, msg.sender, auth);
    }

    /// @inheritdoc IBillRegistry
    function executeBySig(
        BillId id,
        bytes32 operation,
        bytes calldata data,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external nonReentrant {
        if (block.timestamp > deadline) revert BillSignatureExpired(deadline, block.timestamp);
        uint256 expected = _nonces[signer];
        if (nonce != expected) revert BillInvalidNonce(signer, expected, nonce);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(BILL_OPERATION_TYPEHASH, id, operation, keccak256(data), nonce, deadline))
        );
        if (!_isValidSignature(signer, digest, signature)) revert BillInvalidSignature(signer);
        // A nonce is a counter of one signer's operations: it cannot reach 2**256.
        unchecked {
            _nonces[signer] = expected + 1;
        }
        _execute(id, operation, data, signer, _emptyAuth());
    }

    // ───────────────────────────────────────────── views ─────────────────────────────────────────────

    /// @notice The token bills are paid in.
    /// @return The token.
    function token() external view returns (IBankToken) {
        return _token;
    }

    /// @notice The EIP-712 domain separator of signed operations.
    /// @return The separator.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IBillRegistry
    function stateOf(BillId id) external view returns (bytes32 state) {
        Bill storage b = _bills[id];
        if (b.definitionId == 0) return bytes32(0);
        state = b.state;
        for (uint256 i = 0; i < _MAX_DEADLINE_STEPS; ++i) {
            (bytes32 next, bytes32 op) = _due(b.definitionId, state, b);
            if (op == bytes32(0)) break;
            state = next;
        }
    }

    /// @inheritdoc IBillRegistry
    function bill(BillId id) external view returns (Bill memory) {
        return _bills[id];
    }

    /// @inheritdoc IBillRegistry
    function endorsers(BillId id) external view returns (address[] memory) {
        return _endorsers[id];
    }

    /// @inheritdoc IBillRegistry
    function rollingHash(BillId id) external view returns (bytes32) {
        return _bills[id].rollingHash;
    }

    /// @inheritdoc IBillRegistry
    function rule(uint32 definitionId_, bytes32 from, bytes32 operation) external view returns (Rule memory) {
        return _rules[definitionId_][from][operation];
    }

    /// @inheritdoc IBillRegistry
    function definition(
        uint32 definitionId_
    ) external view returns (bytes32 name, uint32 version, bytes32[] memory states) {
        if (definitionId_ == 0 || definitionId_ > _definitionCount) revert BillUnknownDefinition(definitionId_);
        Definition storage d = _definitions[definitionId_];
        return (d.name, d.version, d.states);
    }

    /// @inheritdoc IBillRegistry
    function definitionCount() external view returns (uint32) {
        return _definitionCount;
    }

    /// @inheritdoc IBillRegistry
    function definitionId(bytes32 name, uint32 version) external view returns (uint32) {
        return _definitionIds[name][version];
    }

    /// @inheritdoc IBillRegistry
    function nonces(address signer) external view returns (uint256) {
        return _nonces[signer];
    }

    // ─────────────────────────────────────────── private ────────────────────────────────────────────

    /// @dev Records a due deadline transition, checks `operation` against the (new) state, party and timing,
    ///      applies its effect, records the transition, then moves the money if the effect pays.
    function _execute(
        BillId id,
        bytes32 operation,
        bytes calldata data,
        address actor,
        PaymentAuthorization memory auth
    ) private {
        Bill storage b = _bills[id];
        if (b.definitionId == 0) revert BillUnknownBill(id);
        Rule memory r = _checkedRule(b, id, operation, actor);
        bool pays = r.effect == Effect.PayPartial || r.effect == Effect.PayFull || r.effect == Effect.Discount;
        if (auth.signature.length != 0 && !pays) revert BillNotAPayment(id, operation);
        address payTo = b.holder;
        uint256 amount = _applyEffect(b, id, operation, data, actor, r.effect);
        _record(b, id, r.to, operation, actor, keccak256(data));
        if (pays) _pay(actor, payTo, amount, auth);
    }

    /// @dev Records a due deadline transition (unless `operation` is that transition), then returns the rule of
    ///      `operation` in the current state after checking the actor's party and the timing.
    function _checkedRule(Bill storage b, BillId id, bytes32 operation, address actor) private returns (Rule memory r) {
        for (uint256 i = 0; i < _MAX_DEADLINE_STEPS; ++i) {
            (bytes32 next, bytes32 deadlineOp) = _due(b.definitionId, b.state, b);
            if (deadlineOp == bytes32(0) || deadlineOp == operation) break;
            // The deadline passed unrecorded: record it first, as the actor's doing.
            _record(b, id, next, deadlineOp, actor, keccak256(""));
        }
        bytes32 from = b.state;
        r = _rules[b.definitionId][from][operation];
        if (r.to == bytes32(0)) revert BillInvalidTransition(id, from, operation);
        _checkParty(b, id, operation, actor, r.party);
        _checkTiming(b, id, operation, r.timing);
    }

    /// @dev Applies `effect` to the bill and emits its event; returns the amount to pay (0 if none).
    function _applyEffect(
        Bill storage b,
        BillId id,
        bytes32 operation,
        bytes calldata data,
        address actor,
        Effect effect
    ) private returns (uint256 amount) {
        address holder = b.holder;
        if (effect == Effect.Endorse) {
            address to = _decodeAddress(id, operation, data);
            if (to == holder) revert BillInvalidOperationData(id, operation);
            _checkNotFrozen(id, operation, actor, holder, to);
            _endorsers[id].push(holder);
            b.holder = to;
            emit BillEndorsed(id, holder, to);
        } else if (effect == Effect.OfferDiscount) {
            address financier = _decodeAddress(id, operation, data);
            if (financier == holder) revert BillInvalidOperationData(id, operation);
            _checkNotFrozen(id, operation, actor, holder, financier);
            b.financier = financier;
            emit BillDiscountOffered(id, holder, financier);
        } else if (effect == Effect.Discount) {
            amount = _decodeUint(id, operation, data);
            uint256 remaining = b.amountDue - b.amountPaid;
            if (amount == 0 || amount > remaining) revert BillInvalidPaymentAmount(id, amount, remaining);
            _endorsers[id].push(holder);
            b.holder = actor;
            emit BillDiscounted(id, holder, actor, amount);
        } else if (effect == Effect.PayPartial || effect == Effect.PayFull) {
            uint256 remaining = b.amountDue - b.amountPaid;
            if (effect == Effect.PayFull) {
                if (data.length != 0) revert BillInvalidOperationData(id, operation);
                amount = remaining;
            } else {
                amount = _decodeUint(id, operation, data);
                if (amount == 0 || amount >= remaining) revert BillInvalidPaymentAmount(id, amount, remaining);
            }
            // amount <= remaining = amountDue - amountPaid, so the sum is at most amountDue.
            unchecked {
                b.amountPaid += amount;
            }
            emit BillPaid(id, actor, holder, amount, b.amountPaid);
        } else if (effect == Effect.Recourse) {
            _recourse(b, id, operation, data, actor, holder);
        } else if (data.length != 0) {
            revert BillInvalidOperationData(id, operation);
        }
    }

    /// @dev The `Recourse` effect: the endorser at the index `data` holds (not the holder) becomes the payer.
    function _recourse(
        Bill storage b,
        BillId id,
        bytes32 operation,
        bytes calldata data,
        address actor,
        address holder
    ) private {
        uint256 index = _decodeUint(id, operation, data);
        address[] storage chain = _endorsers[id];
        if (index >= chain.length || chain[index] == holder) revert BillInvalidOperationData(id, operation);
        address endorser = chain[index];
        _checkNotFrozen(id, operation, actor, holder, endorser);
        b.payer = endorser;
        emit BillRecourseExercised(id, holder, endorser);
    }

    /// @dev Moves `amount` from `payer` to `payee`: by allowance, or by `payer`'s EIP-3009 authorization to this
    ///      contract and on to `payee`, checked as a balance delta.
    function _pay(address payer, address payee, uint256 amount, PaymentAuthorization memory auth) private {
        IERC20 money = IERC20(address(_token));
        if (auth.signature.length == 0) {
            money.safeTransferFrom(payer, payee, amount);
            return;
        }
        uint256 before = money.balanceOf(address(this));
        _token.receiveWithAuthorization(
            payer,
            address(this),
            amount,
            auth.validAfter,
            auth.validBefore,
            auth.nonce,
            auth.signature
        );
        uint256 received = money.balanceOf(address(this)) - before;
        if (received != amount) revert BillPaymentMismatch(amount, received);
        money.safeTransfer(payee, amount);
    }

    /// @dev Writes the state, rolls the hash, emits `BillStateChanged`.
    function _record(
        Bill storage b,
        BillId id,
        bytes32 to,
        bytes32 operation,
        address actor,
        bytes32 dataHash
    ) private {
        bytes32 from = b.state;
        b.state = to;
        b.rollingHash = keccak256(abi.encode(b.rollingHash, operation, actor, dataHash));
        emit BillStateChanged(id, from, to, operation, actor, dataHash);
    }

    /// @dev Reverts unless `actor` is `party` of the bill.
    function _checkParty(Bill storage b, BillId id, bytes32 operation, address actor, Party party) private view {
        address expected;
        if (party == Party.Anyone) return;
        else if (party == Party.Drawer) expected = b.drawer;
        else if (party == Party.Drawee) expected = b.payer;
        else if (party == Party.Payee) expected = b.payee;
        else if (party == Party.Holder) expected = b.holder;
        else expected = b.financier;
        if (actor != expected || actor == address(0)) revert BillUnauthorizedParty(id, operation, actor, party);
    }

    /// @dev Reverts if `account` is frozen in the token.
    function _checkNotFrozen(BillId id, bytes32 operation, address account) private view {
        if (_token.isFrozen(account)) revert BillPartyFrozen(id, operation, account);
    }

    /// @dev Reverts if the actor, the holder or `named` is frozen (the actor is asked once when it is the holder).
    function _checkNotFrozen(BillId id, bytes32 operation, address actor, address holder, address named) private view {
        _checkNotFrozen(id, operation, holder);
        if (actor != holder) _checkNotFrozen(id, operation, actor);
        _checkNotFrozen(id, operation, named);
    }

    /// @dev Whether `signature` is `signer`'s over `digest`: an ECDSA signature (65 bytes, low s) that recovers to
    ///      `signer`, whatever code `signer` has (EIP-7702); failing that, `signer`'s ERC-1271 answer.
    function _isValidSignature(address signer, bytes32 digest, bytes calldata signature) private view returns (bool) {
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        return signer.code.length != 0 && _isValidERC1271Signature(signer, digest, signature);
    }

    /// @dev `signer.isValidSignature(digest, signature)` with at most `_ERC1271_GAS` gas and 32 bytes of its
    ///      answer read (a long answer cannot grief either). A call starved below the bound by its caller fails,
    ///      and with it the whole transaction (`BillInvalidSignature`): nothing is recorded.
    function _isValidERC1271Signature(
        address signer,
        bytes32 digest,
        bytes calldata signature
    ) private view returns (bool result) {
        bytes4 selector = IERC1271.isValidSignature.selector;
        uint256 length = signature.length;
        // Safe: builds the call in free memory without moving the pointer (nothing is allocated before it is
        // used), and reads at most 32 bytes of the answer into scratch space.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), digest)
            mstore(add(ptr, 0x24), 0x40)
            mstore(add(ptr, 0x44), length)
            calldatacopy(add(ptr, 0x64), signature.offset, length)
            mstore(add(add(ptr, 0x64), length), 0)
            let padded := shl(5, shr(5, add(length, 0x1f)))
            let success := staticcall(_ERC1271_GAS, signer, ptr, add(padded, 0x64), 0x00, 0x20)
            result := and(success, and(gt(returndatasize(), 0x1f), eq(mload(0x00), selector)))
        }
    }

    /// @dev Reverts unless `timing` holds now for the bill.
    function _checkTiming(Bill storage b, BillId id, bytes32 operation, Timing timing) private view {
        if (timing == Timing.Any) return;
        uint256 deadline = _deadline(b, timing);
        bool isAfter =
            timing == Timing.AfterAcceptance || timing == Timing.AfterMaturity || timing == Timing.AfterRecourse;
        if (isAfter) {
            if (deadline == 0 || block.timestamp <= deadline) {
                revert BillDeadlineNotReached(id, operation, deadline, block.timestamp);
            }
        } else if (deadline != 0 && block.timestamp > deadline) {
            revert BillDeadlinePassed(id, operation, deadline, block.timestamp);
        }
    }

    /// @dev Where the deadline transition of `state` leads and its operation, if its deadline has passed for the
    ///      bill; `(state, 0)` otherwise.
    function _due(uint32 defId, bytes32 state, Bill storage b) private view returns (bytes32 next, bytes32 deadlineOp) {
        bytes32 op = _deadlineOps[defId][state];
        if (op == bytes32(0)) return (state, bytes32(0));
        Rule storage r = _rules[defId][state][op];
        uint256 deadline = _deadline(b, r.timing);
        if (deadline != 0 && block.timestamp > deadline) return (r.to, op);
        return (state, bytes32(0));
    }

    /// @dev The bill's deadline a timing refers to.
    function _deadline(Bill storage b, Timing timing) private view returns (uint256) {
        if (timing == Timing.BeforeAcceptance || timing == Timing.AfterAcceptance) return b.acceptanceDeadline;
        if (timing == Timing.BeforeMaturity || timing == Timing.AfterMaturity) return b.maturity;
        return b.recourseDeadline;
    }

    function _isState(bytes32[] storage states, bytes32 s) private view returns (bool) {
        for (uint256 i = 0; i < states.length; ++i) {
            if (states[i] == s) return true;
        }
        return false;
    }

    function _decodeAddress(BillId id, bytes32 operation, bytes calldata data) private pure returns (address a) {
        if (data.length != 32) revert BillInvalidOperationData(id, operation);
        uint256 word = uint256(bytes32(data));
        if (word == 0 || word > type(uint160).max) revert BillInvalidOperationData(id, operation);
        a = address(uint160(word));
    }

    function _decodeUint(BillId id, bytes32 operation, bytes calldata data) private pure returns (uint256) {
        if (data.length != 32) revert BillInvalidOperationData(id, operation);
        return uint256(bytes32(data));
    }

    function _emptyAuth() private pure returns (PaymentAuthorization memory auth) {
        return auth;
    }
}
