// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice The id of one bill, used once ever. It commits to its drawer, lowest bits first:
///         `uint96 serial | address drawer` (the drawer's address is the id's first 20 bytes, then the drawer's own
///         12-byte serial, for example the first 12 bytes of the hash of its document number). Only the drawer named
///         in an id can issue under it, so nobody can take an id a drawer has announced (see `BillIdLib`).
type BillId is bytes32;

using BillIdLib for BillId global;

/// @title BillIdLib
/// @notice Builds a `BillId` and reads its fields.
library BillIdLib {
    uint256 private constant _SERIAL_MASK = type(uint96).max;
    uint256 private constant _DRAWER_SHIFT = 96;

    /// @notice The id of `drawer_`'s bill `serial_`.
    /// @param drawer_ The drawer (who alone may issue the bill).
    /// @param serial_ The drawer's own serial for the bill.
    /// @return The id: `drawer_ ‖ serial_`.
    function make(address drawer_, bytes12 serial_) internal pure returns (BillId) {
        return BillId.wrap(bytes32((uint256(uint160(drawer_)) << _DRAWER_SHIFT) | uint256(uint96(serial_))));
    }

    /// @notice The drawer an id commits to: the only account that may issue under it.
    /// @param id The bill id.
    /// @return The drawer, its first 20 bytes.
    function drawer(BillId id) internal pure returns (address) {
        return address(uint160(uint256(BillId.unwrap(id)) >> _DRAWER_SHIFT));
    }

    /// @notice The drawer's serial in an id.
    /// @param id The bill id.
    /// @return The serial, its last 12 bytes.
    function serial(BillId id) internal pure returns (bytes12) {
        return bytes12(uint96(uint256(BillId.unwrap(id)) & _SERIAL_MASK));
    }
}

/// @title IBillRegistry
/// @notice Bills (bills of exchange, e-invoices, ...) whose life cycle is a state machine given as data: a
///         definition lists its states and its transitions `(from, operation) -> to`, each with the party who may
///         perform it, a timing rule against the bill's deadlines and an effect kind (the few things that need
///         code: issue, endorse, offer for discount, discount, pay in part or in full, recourse). Payments move
///         `BankToken` from the payer to the current holder in the same transaction as the state change.
interface IBillRegistry {
    /// @notice Who may perform a transition. `Drawee` is the current payer (the drawee, or the endorser chosen by
    ///         recourse); `Anyone` is allowed only with an `After...` timing (deadline transitions).
    enum Party {
        None,
        Drawer,
        Drawee,
        Payee,
        Holder,
        Financier,
        Anyone
    }

    /// @notice What code a transition runs besides the state change.
    enum Effect {
        None,
        Issue,
        Endorse,
        OfferDiscount,
        Discount,
        PayPartial,
        PayFull,
        Recourse
    }

    /// @notice When a transition is allowed, against the bill's deadlines (a zero deadline: `Before...` always
    ///         holds, `After...` never). `Before` is inclusive of the deadline second.
    enum Timing {
        Any,
        BeforeAcceptance,
        AfterAcceptance,
        BeforeMaturity,
        AfterMaturity,
        BeforeRecourse,
        AfterRecourse
    }

    /// @notice One transition of a definition. `from == 0` is the issuing transition (effect `Issue`).
    struct Transition {
        bytes32 from;
        bytes32 operation;
        bytes32 to;
        Party party;
        Effect effect;
        Timing timing;
    }

    /// @notice A transition as stored: where it leads and under which rule.
    struct Rule {
        bytes32 to;
        Party party;
        Effect effect;
        Timing timing;
    }

    /// @notice The terms of a new bill.
    /// @param id The bill's id, never used before, committing to the caller (`BillIdLib.make(drawer, serial)`).
    /// @param drawee The payer.
    /// @param payee The first holder (for an e-invoice usually the issuer itself).
    /// @param amount The minor units due, not zero.
    /// @param acceptanceDeadline The last second for acceptance (0: none).
    /// @param maturity The due date (0: none).
    /// @param recourseDeadline The last second for recourse (0: none).
    /// @param documentHash The hash of the off-chain document.
    struct BillTerms {
        BillId id;
        address drawee;
        address payee;
        uint256 amount;
        uint40 acceptanceDeadline;
        uint40 maturity;
        uint40 recourseDeadline;
        bytes32 documentHash;
    }

    /// @notice A bill as stored (`state` is the recorded state; `stateOf` derives deadline states).
    // solhint-disable-next-line gas-struct-packing
    struct Bill {
        uint32 definitionId;
        uint40 acceptanceDeadline;
        uint40 maturity;
        uint40 recourseDeadline;
        bytes32 state;
        address drawer;
        address drawee;
        address payer;
        address payee;
        address holder;
        address financier;
        uint256 amountDue;
        uint256 amountPaid;
        bytes32 documentHash;
        bytes32 rollingHash;
    }

    /// @notice A signed authorization (EIP-3009 `receiveWithAuthorization`) of the payer, for one payment.
    struct PaymentAuthorization {
        uint256 validAfter;
        uint256 validBefore;
        bytes32 nonce;
        bytes signature;
    }

    /// @notice Definition `definitionId` (`name` version `version`) was registered; it never changes.
    event BillDefinitionRegistered(uint32 indexed definitionId, bytes32 indexed name, uint32 version);
    /// @notice Bill `id` moved from `from` to `to` by `operation` of `actor`; `operationDataHash` is
    ///         `keccak256(data)`. Emitted for every transition, the issuing one included (`from == 0`).
    event BillStateChanged(
        BillId indexed id,
        bytes32 from,
        bytes32 to,
        bytes32 indexed operation,
        address indexed actor,
        bytes32 operationDataHash
    );
    /// @notice Bill `id` of definition `definitionId` was issued.
    event BillIssued(
        BillId indexed id,
        uint32 indexed definitionId,
        address indexed drawer,
        address drawee,
        address payee,
        uint256 amount
    );
    /// @notice Bill `id` was endorsed by `from` to `to`.
    event BillEndorsed(BillId indexed id, address indexed from, address indexed to);
    /// @notice Holder `holder` offered bill `id` for discount to `financier`.
    event BillDiscountOffered(BillId indexed id, address indexed holder, address indexed financier);
    /// @notice `financier` paid `price` to `from` and became the holder of bill `id`.
    event BillDiscounted(BillId indexed id, address indexed from, address indexed financier, uint256 price);
    /// @notice `payer` paid `amount` of bill `id` to `holder`; `totalPaid` is paid so far.
    event BillPaid(BillId indexed id, address indexed payer, address indexed holder, uint256 amount, uint256 totalPaid);
    /// @notice The holder of bill `id` turned to earlier endorser `endorser`, who is the payer from now on.
    event BillRecourseExercised(BillId indexed id, address indexed holder, address indexed endorser);

    /// @notice The caller lacks nothing but the definition is malformed: transition `index` is invalid.
    error BillInvalidDefinition(uint256 index);
    /// @notice A definition named `name` with version `version` exists already.
    error BillDefinitionExists(bytes32 name, uint32 version);
    /// @notice No definition `definitionId`.
    error BillUnknownDefinition(uint32 definitionId);
    /// @notice No bill `id`.
    error BillUnknownBill(BillId id);
    /// @notice Bill `id` exists already.
    error BillInvalidId(BillId id);
    /// @notice `caller` may not issue bill `id`: the id commits to another drawer (`BillIdLib.drawer(id)`).
    error BillIdOfAnotherDrawer(BillId id, address caller);
    /// @notice `account` is frozen in the token, and `operation` of bill `id` would have it act on, receive or be
    ///         named in a move of the right to money.
    error BillPartyFrozen(BillId id, bytes32 operation, address account);
    /// @notice Bad terms: a zero amount or address, or deadlines out of order.
    error BillInvalidTerms();
    /// @notice Bill `id` in state `state` has no transition for `operation`.
    error BillInvalidTransition(BillId id, bytes32 state, bytes32 operation);
    /// @notice `actor` is not the `party` that `operation` of bill `id` requires.
    error BillUnauthorizedParty(BillId id, bytes32 operation, address actor, Party party);
    /// @notice `operation` of bill `id` was allowed until `deadline`; it is `timestamp` now.
    error BillDeadlinePassed(BillId id, bytes32 operation, uint256 deadline, uint256 timestamp);
    /// @notice `operation` of bill `id` is allowed only after `deadline` (0: never); it is `timestamp` now.
    error BillDeadlineNotReached(BillId id, bytes32 operation, uint256 deadline, uint256 timestamp);
    /// @notice A payment of `amount` on bill `id` is zero or not below the `remaining` amount (pay in part only).
    error BillInvalidPaymentAmount(BillId id, uint256 amount, uint256 remaining);
    /// @notice The operation data do not decode to what the effect needs, or name an invalid address or index.
    error BillInvalidOperationData(BillId id, bytes32 operation);
    /// @notice A payment with authorization was passed to an operation whose effect moves no money.
    error BillNotAPayment(BillId id, bytes32 operation);
    /// @notice A signed operation expired at `deadline`; it is `timestamp` now.
    error BillSignatureExpired(uint256 deadline, uint256 timestamp);
    /// @notice The signature is not `signer`'s.
    error BillInvalidSignature(address signer);
    /// @notice `signer`'s next nonce is `expected`, not `nonce`.
    error BillInvalidNonce(address signer, uint256 expected, uint256 nonce);
    /// @notice The token moved `received` to this contract instead of `expected`.
    error BillPaymentMismatch(uint256 expected, uint256 received);

    /// @notice Registers a definition (`DEFINITION_ADMIN_ROLE`). It gets the next id and never changes; a new
    ///         version is a new definition. States are non-zero and distinct; each transition starts at a state
    ///         (or at 0 with effect `Issue`), ends at a state, is unique per `(from, operation)`; a state has at
    ///         most one `Anyone` transition, which needs an `After...` timing and no effect.
    /// @param name The bill type (for example "BILL_OF_EXCHANGE").
    /// @param version The version, unique per name.
    /// @param states The states.
    /// @param transitions The transitions.
    /// @return definitionId The new definition's id (from 1).
    function registerDefinition(
        bytes32 name,
        uint32 version,
        bytes32[] calldata states,
        Transition[] calldata transitions
    ) external returns (uint32 definitionId);

    /// @notice Issues bill `terms.id` of definition `definitionId` with its issuing transition `operation`; the
    ///         caller is the drawer, and must be the drawer the id commits to (`BillIdLib.drawer(terms.id)`, else
    ///         `BillIdOfAnotherDrawer`). None of the caller, the drawee and the payee may be frozen in the token
    ///         (`BillPartyFrozen`).
    /// @param definitionId The definition.
    /// @param operation The issuing operation (a transition from 0).
    /// @param terms The terms.
    function issue(uint32 definitionId, bytes32 operation, BillTerms calldata terms) external;

    /// @notice Performs `operation` on bill `id` as the caller. Payments are pulled from the caller by allowance
    ///         and go straight to the holder. An `Endorse`, `OfferDiscount` or `Recourse` whose actor, holder or
    ///         named account is frozen in the token reverts `BillPartyFrozen`; a payment from or to a frozen
    ///         account reverts in the token (`BankTokenFrozen`).
    /// @param id The bill.
    /// @param operation The operation.
    /// @param data The effect's data: `abi.encode(address)` for endorse and offer-for-discount, `abi.encode(uint256)`
    ///        for discount (the price) and part payment (the amount), `abi.encode(uint256)` for recourse (the index
    ///        of the endorser in `endorsers(id)`), empty otherwise.
    function execute(BillId id, bytes32 operation, bytes calldata data) external;

    /// @notice `execute` as the caller, after applying the caller's EIP-2612 `permit` of `value` to this
    ///         registry, so that a payment needs one transaction and no prior `approve`.
    /// @dev A permit that fails (typically because someone already submitted the same signature) is ignored:
    ///      the payment still needs the allowance and reverts without it.
    /// @param id The bill.
    /// @param operation The operation.
    /// @param data As for `execute`.
    /// @param value The allowance the permit grants this registry.
    /// @param deadline The permit's deadline.
    /// @param signature The caller's permit signature over (owner, registry, value, nonce, deadline).
    function executeWithPermit(
        BillId id,
        bytes32 operation,
        bytes calldata data,
        uint256 value,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice `execute` of a payment effect, paid by the caller's EIP-3009 authorization to this contract
    ///         (`receiveWithAuthorization`), forwarded to the holder in the same call.
    /// @param id The bill.
    /// @param operation The operation (effect `PayPartial`, `PayFull` or `Discount`).
    /// @param data As for `execute`.
    /// @param auth The authorization, for exactly the amount to pay.
    function executeWithAuthorization(
        BillId id,
        bytes32 operation,
        bytes calldata data,
        PaymentAuthorization calldata auth
    ) external;

    /// @notice `execute` as `signer`, who signed the EIP-712 `BillOperation(bytes32 billId,bytes32 operation,
    ///         bytes32 dataHash,uint256 nonce,uint256 deadline)`; any relayer may submit it. Payments are pulled
    ///         from `signer` by allowance; freezes apply to `signer` as to a caller.
    /// @param id The bill.
    /// @param operation The operation.
    /// @param data As for `execute`.
    /// @param signer The actor.
    /// @param nonce `signer`'s next nonce (`nonces(signer)`).
    /// @param deadline The last second the signature is valid.
    /// @param signature A 65-byte ECDSA signature that recovers to `signer` (valid whatever code `signer` has, so an
    ///        EIP-7702 delegation cannot revoke it), or else one `signer` accepts through ERC-1271 within a bounded
    ///        amount of gas.
    function executeBySig(
        BillId id,
        bytes32 operation,
        bytes calldata data,
        address signer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice The state of bill `id` now: the recorded one, or where its deadline (`Anyone`) transition leads
    ///         once its deadline has passed. Zero for an unknown bill.
    /// @param id The bill.
    /// @return The state.
    function stateOf(BillId id) external view returns (bytes32);

    /// @notice Bill `id` as stored.
    /// @param id The bill.
    /// @return The bill.
    function bill(BillId id) external view returns (Bill memory);

    /// @notice The earlier holders of bill `id`, oldest first (its endorsement chain, for recourse).
    /// @param id The bill.
    /// @return The endorsers.
    function endorsers(BillId id) external view returns (address[] memory);

    /// @notice The rolling hash of bill `id`: `keccak256(abi.encode(prev, operation, actor, dataHash))` over all
    ///         its operations, from 0.
    /// @param id The bill.
    /// @return The hash.
    function rollingHash(BillId id) external view returns (bytes32);

    /// @notice The rule of `(from, operation)` in definition `definitionId` (`to == 0`: none).
    /// @param definitionId The definition.
    /// @param from The state.
    /// @param operation The operation.
    /// @return The rule.
    function rule(uint32 definitionId, bytes32 from, bytes32 operation) external view returns (Rule memory);

    /// @notice Definition `definitionId`'s name, version and states.
    /// @param definitionId The definition.
    /// @return name The name.
    /// @return version The version.
    /// @return states The states.
    function definition(
        uint32 definitionId
    ) external view returns (bytes32 name, uint32 version, bytes32[] memory states);

    /// @notice The number of definitions.
    /// @return The count.
    function definitionCount() external view returns (uint32);

    /// @notice The id of definition `name` version `version` (0: none).
    /// @param name The name.
    /// @param version The version.
    /// @return The id.
    function definitionId(bytes32 name, uint32 version) external view returns (uint32);

    /// @notice `signer`'s next nonce for `executeBySig`.
    /// @param signer The signer.
    /// @return The nonce.
    function nonces(address signer) external view returns (uint256);
}
