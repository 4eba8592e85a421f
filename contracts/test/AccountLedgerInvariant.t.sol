// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";
import {Test} from "forge-std/Test.sol";

import {AccountLedger} from "../reserves/AccountLedger.sol";
import {IAccountLedger} from "../reserves/interfaces/IAccountLedger.sol";
import {MockERC20} from "./mocks/MockERC20.sol";

/// @dev Drives an `AccountLedger` through random treasurer and gateway operations, single and batched, with
///      random (sometimes invalid) amounts and references, keeping a ghost model of every profile and of the
///      central token account. Only operations that succeed update the model. For each successful call it
///      records the reserve ratio before and after, and counts those that lowered it to below the minimum.
///      Reversals are whole (amount 0) or partial; the model keeps each original's outstanding amount and the
///      sum reversed from it. Forced holds and debits (advices) run beside the limited ones. Keys are voided too
///      (fresh ones, and sometimes used ones, which must fail), and operations are sometimes sent under a key the
///      model already knows (used or voided), which must fail as well.
contract AccountLedgerHandler is Test {
    using OperationKinds for IAccountLedger.OperationKind;

    uint256 internal constant MAX_STEP = 1e9;

    /// @dev Counters of the reversal, record and limit checks.
    struct Counts {
        /// @dev Originals whose reversals added up to more than the original amount.
        uint256 overReversed;
        /// @dev Records (an original's outstanding amount and status, a reversal's amount, a forced operation's
        ///      kind) that disagree with the model.
        uint256 recordMismatches;
        /// @dev Successful limited holds, debits and credits above the profile's limit.
        uint256 limitViolations;
        /// @dev Successful forced holds and debits above the profile's limit (coverage, not a violation).
        uint256 forcedOverLimit;
        /// @dev Successful partial reversals (coverage).
        uint256 partialReversals;
        /// @dev Successful operations (voids included) under a key already used or voided.
        uint256 usedKeysReused;
        /// @dev Successful voids (coverage).
        uint256 voids;
    }

    /// @dev The model of one recorded operation (test state: packing is no concern).
    // solhint-disable-next-line gas-struct-packing
    struct GhostOp {
        uint256 amount;
        uint256 original;
        uint256 reversedSum;
        address wallet;
        IAccountLedger.OperationKind kind;
        bool open;
        bool reversed;
    }

    AccountLedger public immutable ledger;
    MockERC20 public immutable token;
    address public immutable treasury;
    address[3] public wallets;

    mapping(address wallet => uint256) public ghostFiat;
    mapping(address wallet => uint256) public ghostToken;
    mapping(address wallet => uint256) public ghostHeld;
    uint256 public ghostCentralToken;
    /// @notice Successful operations that lowered the ratio and left it below the minimum.
    uint256 public ratioViolations;
    /// @notice Keys rejected in a batch that the ledger nevertheless marked used.
    uint256 public rejectedKeysConsumed;
    Counts internal _counts;
    uint256 public succeeded;
    uint256 public rejected;
    uint256 public batches;

    bytes32[] internal _keys;
    mapping(bytes32 key => GhostOp) internal _ghostOps;
    uint256 internal _nonce;

    constructor(AccountLedger ledger_, MockERC20 token_, address treasury_, address[3] memory wallets_) {
        ledger = ledger_;
        token = token_;
        treasury = treasury_;
        wallets = wallets_;
        token_.approve(address(ledger_), type(uint256).max);
    }

    /// @notice The reversal, record and limit counters.
    function counts() external view returns (Counts memory) {
        return _counts;
    }

    // ---------------------------------------------------------------- treasurer and admin

    function fund(uint256 amount) external {
        amount = bound(amount, 1, MAX_STEP);
        token.mint(address(this), amount);
        bytes32 key = _newKey();
        uint256 before = ledger.reserveRatioBps();
        ledger.fundTokens(key, amount);
        ghostCentralToken += amount;
        _succeeded(key, IAccountLedger.OperationKind.FundTokens, address(this), amount, before);
    }

    function defund(uint256 amount) external {
        amount = bound(amount, 1, ghostCentralToken + 10);
        bytes32 key = _newKey();
        uint256 before = ledger.reserveRatioBps();
        try ledger.defundTokens(key, address(this), amount) {
            ghostCentralToken -= amount;
            _succeeded(key, IAccountLedger.OperationKind.DefundTokens, address(this), amount, before);
        } catch {
            ++rejected;
        }
    }

    function depositFiat(uint256 walletSeed, uint256 amount) external {
        address wallet = _wallet(walletSeed);
        amount = bound(amount, 1, MAX_STEP);
        bytes32 key = _newKey();
        uint256 before = ledger.reserveRatioBps();
        ledger.depositFiat(key, wallet, amount);
        ghostFiat[wallet] += amount;
        _succeeded(key, IAccountLedger.OperationKind.DepositFiat, wallet, amount, before);
    }

    function withdrawFiat(uint256 walletSeed, uint256 amount) external {
        address wallet = _wallet(walletSeed);
        amount = bound(amount, 1, ghostFiat[wallet] + 10);
        bytes32 key = _newKey();
        uint256 before = ledger.reserveRatioBps();
        try ledger.withdrawFiat(key, wallet, amount) {
            ghostFiat[wallet] -= amount;
            _succeeded(key, IAccountLedger.OperationKind.WithdrawFiat, wallet, amount, before);
        } catch {
            ++rejected;
        }
    }

    function setMinRatio(uint256 bps) external {
        ledger.setMinRatio(uint16(bound(bps, 0, 10_000)));
    }

    // ---------------------------------------------------------------- gateway

    /// @dev One gateway operation of a random kind, called directly.
    function single(uint256 kindSeed, uint256 walletSeed, uint256 refSeed, uint256 amount) external {
        IAccountLedger.Operation memory op = _randomOp(kindSeed, walletSeed, refSeed, amount);
        uint256 before = ledger.reserveRatioBps();
        if (op.kind == IAccountLedger.OperationKind.ConvertToToken) token.mint(treasury, op.amount);
        bool ok;
        try this.callDirect(op) {
            ok = true;
        } catch {
            ok = false;
        }
        if (ok) {
            _apply(op);
            _succeeded(op.key, op.kind, op.wallet, op.amount, before);
            _checkRecords(op);
        } else {
            ++rejected;
            if (ledger.isKeyUsed(op.key) && !_known(op.key)) ++rejectedKeysConsumed;
        }
    }

    /// @dev Calls the direct gateway function for `op` (external so that `single` can catch its revert).
    function callDirect(IAccountLedger.Operation calldata op) external {
        IAccountLedger.OperationKind kind = op.kind;
        if (kind == IAccountLedger.OperationKind.Hold) ledger.hold(op.key, op.wallet, op.amount);
        else if (kind == IAccountLedger.OperationKind.Capture) ledger.capture(op.key, op.ref, op.amount);
        else if (kind == IAccountLedger.OperationKind.Release) ledger.release(op.key, op.ref);
        else if (kind == IAccountLedger.OperationKind.Debit) ledger.debit(op.key, op.wallet, op.amount);
        else if (kind == IAccountLedger.OperationKind.Credit) ledger.credit(op.key, op.wallet, op.amount);
        else if (kind == IAccountLedger.OperationKind.Reverse) {
            if (op.amount == 0) ledger.reverse(op.key, op.ref);
            else ledger.reverseAmount(op.key, op.ref, op.amount);
        } else if (kind == IAccountLedger.OperationKind.ConvertToToken)
            ledger.convertToToken(op.key, op.wallet, op.amount);
        else if (kind == IAccountLedger.OperationKind.ConvertToFiat) ledger.convertToFiat(op.key, op.wallet, op.amount);
        else if (kind == IAccountLedger.OperationKind.ForceHold) ledger.forceHold(op.key, op.wallet, op.amount);
        else if (kind == IAccountLedger.OperationKind.ForceDebit) ledger.forceDebit(op.key, op.wallet, op.amount);
        else ledger.voidKey(op.key);
    }

    /// @dev A batch of up to 6 random gateway operations. The ratio rule is checked over the whole batch: if
    ///      every step either ends at or above the minimum or does not lower the ratio, so does the batch.
    function batch(uint256 seed, uint256 size) external {
        size = bound(size, 1, 6);
        IAccountLedger.Operation[] memory ops = new IAccountLedger.Operation[](size);
        for (uint256 i = 0; i < size; ++i) {
            uint256 s = uint256(keccak256(abi.encode(seed, i)));
            ops[i] = _randomOp(s, s >> 8, s >> 16, s >> 32);
            if (ops[i].kind == IAccountLedger.OperationKind.ConvertToToken) token.mint(treasury, ops[i].amount);
            // Occasionally reuse the previous key inside the batch.
            if (i > 0 && (s >> 128) % 10 == 0) ops[i].key = ops[i - 1].key;
        }
        uint256 before = ledger.reserveRatioBps();
        bool[] memory ok = ledger.execute(ops);
        ++batches;
        for (uint256 i = 0; i < size; ++i) {
            if (ok[i]) {
                _apply(ops[i]);
                _record(ops[i].key, ops[i].kind, ops[i].wallet, ops[i].amount);
                ++succeeded;
            } else {
                ++rejected;
                if (ledger.isKeyUsed(ops[i].key) && !_known(ops[i].key) && !_usedByOther(ops, ok, i)) {
                    ++rejectedKeysConsumed;
                }
            }
        }
        // Against the records once the whole batch is in the model (two parts of one original may be in it).
        for (uint256 i = 0; i < size; ++i) {
            if (ok[i]) _checkRecords(ops[i]);
        }
        _checkRatio(before);
    }

    // ---------------------------------------------------------------- model

    /// @dev Whether the model knows `key` (an operation, a void, or a treasurer operation went through under it).
    function _known(bytes32 key) internal view returns (bool) {
        return _ghostOps[key].kind != IAccountLedger.OperationKind.None;
    }

    /// @dev Whether another operation of the batch with the same key went through.
    function _usedByOther(
        IAccountLedger.Operation[] memory ops,
        bool[] memory ok,
        uint256 index
    ) internal pure returns (bool) {
        for (uint256 j = 0; j < ops.length; ++j) {
            if (j != index && ok[j] && ops[j].key == ops[index].key) return true;
        }
        return false;
    }

    /// @dev Applies a successful gateway operation to the model; fills in the wallet and amount of operations
    ///      that take them from their reference (a void has neither). Counts a success under a known key.
    function _apply(IAccountLedger.Operation memory op) internal {
        if (_known(op.key)) ++_counts.usedKeysReused;
        if (op.kind == IAccountLedger.OperationKind.Void) {
            // Claims the key, moves nothing.
            op.wallet = address(0);
            op.amount = 0;
            ++_counts.voids;
        } else {
            _applyValue(op);
        }
    }

    /// @dev Applies a successful operation that moves value to the model.
    function _applyValue(IAccountLedger.Operation memory op) internal {
        IAccountLedger.OperationKind kind = op.kind;
        _checkLimit(op);
        if (kind == IAccountLedger.OperationKind.Hold || kind == IAccountLedger.OperationKind.ForceHold) {
            ghostHeld[op.wallet] += op.amount;
        } else if (kind == IAccountLedger.OperationKind.Capture) {
            GhostOp storage h = _ghostOps[op.ref];
            op.wallet = h.wallet;
            ghostToken[h.wallet] -= op.amount;
            ghostHeld[h.wallet] -= h.amount;
            h.open = false;
        } else if (kind == IAccountLedger.OperationKind.Release) {
            GhostOp storage h = _ghostOps[op.ref];
            op.wallet = h.wallet;
            op.amount = h.amount;
            ghostHeld[h.wallet] -= h.amount;
            h.open = false;
        } else if (kind == IAccountLedger.OperationKind.Debit || kind == IAccountLedger.OperationKind.ForceDebit) {
            ghostToken[op.wallet] -= op.amount;
        } else if (kind == IAccountLedger.OperationKind.Credit) {
            ghostToken[op.wallet] += op.amount;
        } else if (kind == IAccountLedger.OperationKind.Reverse) {
            GhostOp storage o = _ghostOps[op.ref];
            uint256 reversed = op.amount == 0 ? o.amount : op.amount;
            // Counted before the model's own arithmetic, which would revert (and hide the call) on too much.
            o.reversedSum += reversed;
            if (o.reversedSum > o.original) {
                ++_counts.overReversed;
                return;
            }
            if (reversed < o.amount) ++_counts.partialReversals;
            op.wallet = o.wallet;
            op.amount = reversed;
            if (o.kind == IAccountLedger.OperationKind.Credit) ghostToken[o.wallet] -= reversed;
            else if (o.kind == IAccountLedger.OperationKind.Hold) ghostHeld[o.wallet] -= reversed;
            else ghostToken[o.wallet] += reversed;
            o.amount -= reversed;
            if (o.amount == 0) {
                o.open = false;
                o.reversed = true;
            }
        } else if (kind == IAccountLedger.OperationKind.ConvertToToken) {
            ghostFiat[op.wallet] -= op.amount;
            ghostToken[op.wallet] += op.amount;
            ghostCentralToken += op.amount;
        } else {
            ghostToken[op.wallet] -= op.amount;
            ghostFiat[op.wallet] += op.amount;
            ghostCentralToken -= op.amount;
        }
    }

    function _randomOp(
        uint256 kindSeed,
        uint256 walletSeed,
        uint256 refSeed,
        uint256 amount
    ) internal returns (IAccountLedger.Operation memory op) {
        // The eight gateway kinds, the two forced ones and `Void`.
        uint256 kind = bound(kindSeed, 1, 11);
        op.kind = IAccountLedger.OperationKind(kind <= 8 ? kind : kind + 4);
        op.key = _newKey();
        // Sometimes (a quarter of the voids, a sixteenth of the rest) a key the model already knows, used or
        // voided: the operation must fail.
        uint256 reuse = (refSeed >> 64) % 16;
        if (_keys.length != 0 && (reuse == 0 || (reuse < 4 && op.kind == IAccountLedger.OperationKind.Void))) {
            op.key = _keys[(refSeed >> 72) % _keys.length];
        }
        op.wallet = _wallet(walletSeed);
        op.amount = bound(amount, 1, MAX_STEP);
        if (_keys.length != 0) op.ref = _keys[refSeed % _keys.length];
        // Mostly valid amounts: within what the model says is available.
        if (op.kind == IAccountLedger.OperationKind.Capture) {
            uint256 held = _ghostOps[op.ref].amount;
            op.amount = bound(amount, 1, held + held / 8 + 1);
        } else if (op.kind == IAccountLedger.OperationKind.Reverse) {
            // A quarter whole (0), the rest partial and sometimes beyond what is left.
            uint256 outstanding = _ghostOps[op.ref].amount;
            op.amount = amount % 4 == 0 ? 0 : bound(amount, 1, outstanding + outstanding / 8 + 1);
        } else if (op.kind.spendsTokens()) {
            uint256 available = ghostToken[op.wallet] - ghostHeld[op.wallet];
            op.amount = bound(amount, 1, available + available / 8 + 1);
        } else if (op.kind == IAccountLedger.OperationKind.ConvertToToken) {
            op.amount = bound(amount, 1, ghostFiat[op.wallet] + 1);
        }
    }

    function _succeeded(
        bytes32 key,
        IAccountLedger.OperationKind kind,
        address wallet,
        uint256 amount,
        uint256 before
    ) internal {
        _record(key, kind, wallet, amount);
        ++succeeded;
        _checkRatio(before);
    }

    function _record(bytes32 key, IAccountLedger.OperationKind kind, address wallet, uint256 amount) internal {
        GhostOp storage g = _ghostOps[key];
        // Forced operations are recorded as the plain kind.
        if (kind == IAccountLedger.OperationKind.ForceHold) kind = IAccountLedger.OperationKind.Hold;
        else if (kind == IAccountLedger.OperationKind.ForceDebit) kind = IAccountLedger.OperationKind.Debit;
        g.kind = kind;
        g.wallet = wallet;
        g.amount = amount;
        g.original = amount;
        g.open = kind == IAccountLedger.OperationKind.Hold;
        _keys.push(key);
    }

    /// @dev Counts a limited hold, debit or credit above the profile's limit (a forced one is only counted as
    ///      coverage).
    function _checkLimit(IAccountLedger.Operation memory op) internal {
        IAccountLedger.OperationKind kind = op.kind;
        uint256 limit = ledger.profileOf(op.wallet).limit;
        if (limit == 0 || op.amount <= limit) return;
        if (kind == IAccountLedger.OperationKind.ForceHold || kind == IAccountLedger.OperationKind.ForceDebit) {
            ++_counts.forcedOverLimit;
        } else if (
            kind == IAccountLedger.OperationKind.Hold ||
            kind == IAccountLedger.OperationKind.Debit ||
            kind == IAccountLedger.OperationKind.Credit
        ) {
            ++_counts.limitViolations;
        }
    }

    /// @dev Compares the ledger's records of a successful `op` with the model: a reversal's amount and its
    ///      original's outstanding amount and status; a forced operation's recorded kind.
    function _checkRecords(IAccountLedger.Operation memory op) internal {
        IAccountLedger.OperationInfo memory info = ledger.operationOf(op.key);
        GhostOp storage g = _ghostOps[op.key];
        if (info.kind != g.kind || info.amount != g.amount) ++_counts.recordMismatches;
        if (op.kind != IAccountLedger.OperationKind.Reverse) return;
        GhostOp storage o = _ghostOps[op.ref];
        info = ledger.operationOf(op.ref);
        bool reversed = info.status == IAccountLedger.OperationStatus.Reversed;
        if (info.amount != o.amount || reversed != o.reversed) ++_counts.recordMismatches;
    }

    function _checkRatio(uint256 before) internal {
        uint256 ratioAfter = ledger.reserveRatioBps();
        if (ratioAfter < ledger.minRatioBps() && ratioAfter < before) ++ratioViolations;
    }

    function _newKey() internal returns (bytes32) {
        return keccak256(abi.encode("invariant-key", ++_nonce));
    }

    function _wallet(uint256 seed) internal view returns (address) {
        return wallets[seed % 3];
    }
}

/// @dev Which gateway kinds spend available tokens.
library OperationKinds {
    function spendsTokens(IAccountLedger.OperationKind kind) internal pure returns (bool) {
        return
            kind == IAccountLedger.OperationKind.Hold ||
            kind == IAccountLedger.OperationKind.Debit ||
            kind == IAccountLedger.OperationKind.ConvertToFiat ||
            kind == IAccountLedger.OperationKind.ForceHold ||
            kind == IAccountLedger.OperationKind.ForceDebit;
    }
}

/// @dev Invariants of `AccountLedger`: the central accounts equal the sums of the profiles, the holds stay within
///      the tokens, the ledger holds at least its central tokens, the ledger agrees with the handler's model
///      (balances and records), no successful operation lowered the ratio to below the minimum, the parts of a
///      reversal never add up to more than the original, only forced operations exceed a limit, and no operation
///      goes through under a key already used or voided.
contract AccountLedgerInvariantTest is StdInvariant, Test {
    AccountLedger internal ledger;
    MockERC20 internal token;
    AccountLedgerHandler internal handler;
    address internal treasury = makeAddr("treasury");
    address[3] internal wallets = [makeAddr("alice"), makeAddr("bob"), makeAddr("carol")];

    function setUp() public {
        token = new MockERC20();
        ledger = new AccountLedger(address(this), 1 days, IERC20(address(token)), 5_000);
        handler = new AccountLedgerHandler(ledger, token, treasury, wallets);
        ledger.grantRole(ledger.LEDGER_ADMIN_ROLE(), address(handler));
        ledger.grantRole(ledger.GATEWAY_ROLE(), address(handler));
        ledger.grantRole(ledger.TREASURER_ROLE(), address(handler));
        ledger.grantRole(ledger.LEDGER_ADMIN_ROLE(), address(this));
        ledger.setTreasury(treasury);
        ledger.openProfile(keccak256("card-alice"), wallets[0], 0);
        ledger.openProfile(keccak256("card-bob"), wallets[1], 5e8);
        ledger.openProfile(keccak256("card-carol"), wallets[2], 0);
        vm.prank(treasury);
        token.approve(address(ledger), type(uint256).max);
        handler.fund(1e8);

        bytes4[] memory selectors = new bytes4[](8);
        selectors[0] = AccountLedgerHandler.fund.selector;
        selectors[1] = AccountLedgerHandler.defund.selector;
        selectors[2] = AccountLedgerHandler.depositFiat.selector;
        selectors[3] = AccountLedgerHandler.withdrawFiat.selector;
        selectors[4] = AccountLedgerHandler.setMinRatio.selector;
        selectors[5] = AccountLedgerHandler.single.selector;
        selectors[6] = AccountLedgerHandler.batch.selector;
        selectors[7] = AccountLedgerHandler.single.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    function invariant_centralFiatEqualsSumOfProfileFiat() public view {
        uint256 sum;
        for (uint256 i = 0; i < 3; ++i) sum += ledger.profileOf(wallets[i]).fiat;
        assertEq(ledger.centralFiat(), sum);
    }

    function invariant_tokenLiabilitiesEqualSumOfProfileTokens() public view {
        uint256 sum;
        for (uint256 i = 0; i < 3; ++i) sum += ledger.profileOf(wallets[i]).token;
        assertEq(ledger.tokenLiabilities(), sum);
    }

    function invariant_totalHeldEqualsSumOfHeldAndStaysWithinTokens() public view {
        uint256 sum;
        for (uint256 i = 0; i < 3; ++i) {
            IAccountLedger.Profile memory p = ledger.profileOf(wallets[i]);
            assertLe(p.held, p.token);
            sum += p.held;
        }
        assertEq(ledger.totalHeld(), sum);
    }

    function invariant_ledgerHoldsItsCentralTokens() public view {
        assertGe(token.balanceOf(address(ledger)), ledger.centralToken());
        assertEq(ledger.centralToken(), handler.ghostCentralToken());
    }

    function invariant_ledgerAgreesWithModel() public view {
        for (uint256 i = 0; i < 3; ++i) {
            IAccountLedger.Profile memory p = ledger.profileOf(wallets[i]);
            assertEq(p.fiat, handler.ghostFiat(wallets[i]));
            assertEq(p.token, handler.ghostToken(wallets[i]));
            assertEq(p.held, handler.ghostHeld(wallets[i]));
        }
    }

    function invariant_ratioNeverLoweredBelowMinimum() public view {
        assertEq(handler.ratioViolations(), 0);
    }

    function invariant_rejectedOperationsConsumeNoKey() public view {
        assertEq(handler.rejectedKeysConsumed(), 0);
    }

    function invariant_reversalsNeverExceedTheOriginal() public view {
        assertEq(handler.counts().overReversed, 0);
    }

    function invariant_recordsAgreeWithModel() public view {
        assertEq(handler.counts().recordMismatches, 0);
    }

    function invariant_onlyForcedOperationsExceedTheLimit() public view {
        assertEq(handler.counts().limitViolations, 0);
    }

    function invariant_V1_usedAndVoidedKeysAreNeverReused() public view {
        assertEq(handler.counts().usedKeysReused, 0);
    }
}
