// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {StdInvariant} from "forge-std/StdInvariant.sol";
import {Test} from "forge-std/Test.sol";

import {ReserveLedger} from "../reserves/ReserveLedger.sol";
import {InterbankSettlement} from "../settlement/InterbankSettlement.sol";
import {IInterbankSettlement, SettlementId} from "../settlement/interfaces/IInterbankSettlement.sol";
import {IBankToken} from "../token/interfaces/IBankToken.sol";
import {SettlementFixture} from "./InterbankSettlement.t.sol";

/// @dev Drives an `InterbankSettlement` wired to the real token, ledger and trust accounts of banks A and B
///      through random payments in both corridors: initiate, smelt, reject, acknowledge (one or a batch), return,
///      refund after expiry, netting of the claims, and the passage of time. It keeps a model of every payment
///      and ghost sums of what each contract should hold; a call the model says must succeed (or fail) and that
///      does otherwise is counted in `mismatches`.
contract InterbankSettlementHandler is Test {
    uint256 internal constant MAX_PAYMENT = 100_000_00;

    InterbankSettlement public immutable settlement;
    IBankToken public immutable token;
    ReserveLedger public immutable ledger;
    address public immutable attestor;
    address[2] public banks;
    address[2] public agents;

    IInterbankSettlement.SettlementTerms[] internal _payments;
    /// @dev The stored state of each payment, by the model (`Expired` is derived from the time).
    IInterbankSettlement.SettlementState[] internal _stored;
    /// @dev Payments initiated per debtor bank: the k-th payment of each bank has the same id (ids are per debtor
    ///      bank, M-4), so every step also checks that it reaches only its own bank's record.
    uint256[2] internal _initiatedBy;

    /// @notice Amounts of open payments: `Delivered` (expired or not) or `Rejected`. What the settlement holds.
    uint256 public ghostHeld;
    /// @notice Per corridor [debtor][creditor]: open payments plus smelted ones not yet acknowledged.
    uint256[2][2] public ghostInFlight;
    /// @notice Per [creditor][debtor]: smelted minus netted.
    uint256[2][2] public ghostClaim;
    /// @notice Per bank: minted by it minus smelted, returned or refunded from it.
    uint256[2] public ghostOutstanding;
    /// @notice Per bank: the fiat in its trust account (what the attestor attests), moved by netting.
    uint256[2] public ghostFiat;
    /// @notice Calls whose outcome differed from the model's.
    uint256 public mismatches;
    /// @notice Successful calls per step, to see that a run exercised the contract.
    mapping(bytes32 step => uint256 count) public calls;

    uint256 public currentTime;
    uint256 internal _refs;

    constructor(
        InterbankSettlement settlement_,
        ReserveLedger ledger_,
        address attestor_,
        address[2] memory banks_,
        address[2] memory agents_,
        uint256 reserve
    ) {
        settlement = settlement_;
        token = IBankToken(address(settlement_.token()));
        ledger = ledger_;
        attestor = attestor_;
        banks = banks_;
        agents = agents_;
        ghostFiat = [reserve, reserve];
        currentTime = block.timestamp;
    }

    function paymentCount() external view returns (uint256) {
        return _payments.length;
    }

    function payment(uint256 i) external view returns (IInterbankSettlement.SettlementTerms memory) {
        return _payments[i];
    }

    /// @notice The state of payment `i` now, by the model.
    function modelState(uint256 i) public view returns (IInterbankSettlement.SettlementState) {
        IInterbankSettlement.SettlementState s = _stored[i];
        if (s == IInterbankSettlement.SettlementState.Delivered && currentTime > _payments[i].deadline) {
            return IInterbankSettlement.SettlementState.Expired;
        }
        return s;
    }

    // ---------------------------------------------------------------- steps

    function initiate(uint256 debtorSeed, uint256 amount, uint256 deadlineOffset) external {
        _sync();
        uint256 d = debtorSeed % 2;
        uint256 available = settlement.availableToSend(banks[d], banks[1 - d]);
        if (available == 0) return;
        amount = bound(amount, 1, available < MAX_PAYMENT ? available : MAX_PAYMENT);
        IInterbankSettlement.SettlementTerms memory t = IInterbankSettlement.SettlementTerms({
            id: SettlementId.wrap(keccak256(abi.encode("payment", _initiatedBy[d]))),
            debtorBank: banks[d],
            creditorBank: banks[1 - d],
            amount: amount,
            creditorAccountRef: keccak256(abi.encode("account", _payments.length)),
            deadline: uint40(currentTime + bound(deadlineOffset, 1, 2 days))
        });
        vm.prank(agents[d]);
        try settlement.initiate(t) {
            ++_initiatedBy[d];
            _payments.push(t);
            _stored.push(IInterbankSettlement.SettlementState.Delivered);
            ghostHeld += amount;
            ghostInFlight[d][1 - d] += amount;
            ghostOutstanding[d] += amount;
            ++calls["initiate"];
        } catch {
            ++mismatches;
        }
    }

    /// @dev A payment above what the corridor allows now must be refused, and change nothing.
    function initiateOverLimit(uint256 debtorSeed, uint256 excess) external {
        _sync();
        uint256 d = debtorSeed % 2;
        uint256 available = settlement.availableToSend(banks[d], banks[1 - d]);
        IInterbankSettlement.SettlementTerms memory t = IInterbankSettlement.SettlementTerms({
            id: SettlementId.wrap(keccak256(abi.encode("refused", ++_refs))),
            debtorBank: banks[d],
            creditorBank: banks[1 - d],
            amount: available + bound(excess, 1, MAX_PAYMENT),
            creditorAccountRef: keccak256("account"),
            deadline: uint40(currentTime + 1 hours)
        });
        vm.prank(agents[d]);
        try settlement.initiate(t) {
            ++mismatches;
        } catch {
            ++calls["refused"];
        }
    }

    function smelt(uint256 seed) external {
        _sync();
        (bool found, uint256 i) = _pick(seed, IInterbankSettlement.SettlementState.Delivered);
        if (!found) return;
        IInterbankSettlement.SettlementTerms memory t = _payments[i];
        (uint256 d, uint256 c) = _sides(t);
        vm.prank(agents[c]);
        try settlement.smelt(t, _nextRef()) {
            _stored[i] = IInterbankSettlement.SettlementState.Smelted;
            ghostHeld -= t.amount;
            ghostClaim[c][d] += t.amount;
            ghostOutstanding[d] -= t.amount;
            ++calls["smelt"];
        } catch {
            ++mismatches;
        }
    }

    function reject(uint256 seed) external {
        _sync();
        (bool found, uint256 i) = _pick(seed, IInterbankSettlement.SettlementState.Delivered);
        if (!found) return;
        IInterbankSettlement.SettlementTerms memory t = _payments[i];
        (, uint256 c) = _sides(t);
        vm.prank(agents[c]);
        try settlement.reject(t, bytes32("AC04")) {
            _stored[i] = IInterbankSettlement.SettlementState.Rejected;
            ++calls["reject"];
        } catch {
            ++mismatches;
        }
    }

    function acknowledge(uint256 seed) external {
        _sync();
        (bool found, uint256 i) = _pick(seed, IInterbankSettlement.SettlementState.Smelted);
        if (!found) return;
        IInterbankSettlement.SettlementTerms memory t = _payments[i];
        (uint256 d, uint256 c) = _sides(t);
        vm.prank(agents[d]);
        try settlement.acknowledge(t) {
            _acknowledged(i, d, c);
            ++calls["acknowledge"];
        } catch {
            ++mismatches;
        }
    }

    /// @dev Acknowledges every smelted payment of one debtor bank in one batch.
    function acknowledgeBatch(uint256 debtorSeed) external {
        _sync();
        uint256 d = debtorSeed % 2;
        uint256 count;
        uint256 n = _payments.length;
        for (uint256 i = 0; i < n; ++i) {
            if (_payments[i].debtorBank == banks[d] && _stored[i] == IInterbankSettlement.SettlementState.Smelted) {
                ++count;
            }
        }
        if (count == 0) return;
        IInterbankSettlement.SettlementTerms[] memory batch = new IInterbankSettlement.SettlementTerms[](count);
        uint256[] memory indexes = new uint256[](count);
        uint256 k;
        for (uint256 i = 0; i < n; ++i) {
            if (_payments[i].debtorBank == banks[d] && _stored[i] == IInterbankSettlement.SettlementState.Smelted) {
                batch[k] = _payments[i];
                indexes[k++] = i;
            }
        }
        vm.prank(agents[d]);
        try settlement.acknowledgeBatch(batch) {
            for (uint256 j = 0; j < count; ++j) {
                _acknowledged(indexes[j], d, 1 - d);
            }
            ++calls["acknowledgeBatch"];
        } catch {
            ++mismatches;
        }
    }

    /// @dev Two payments of one debtor bank in one `initiateBatch`: both start, or (over the corridor's limit) neither.
    function initiateBatch(uint256 debtorSeed, uint256 amount) external {
        _sync();
        uint256 d = debtorSeed % 2;
        uint256 available = settlement.availableToSend(banks[d], banks[1 - d]);
        if (available == 0) return;
        // Each alone fits; together they may not, and then the whole batch must be refused.
        amount = bound(amount, 1, available < MAX_PAYMENT ? available : MAX_PAYMENT);
        IInterbankSettlement.SettlementTerms[] memory batch = new IInterbankSettlement.SettlementTerms[](2);
        for (uint256 j = 0; j < 2; ++j) {
            batch[j] = IInterbankSettlement.SettlementTerms({
                id: SettlementId.wrap(keccak256(abi.encode("payment", _initiatedBy[d] + j))),
                debtorBank: banks[d],
                creditorBank: banks[1 - d],
                amount: amount,
                creditorAccountRef: keccak256(abi.encode("account", _payments.length + j)),
                deadline: uint40(currentTime + 1 hours)
            });
        }
        bool fits = 2 * amount <= available;
        vm.prank(agents[d]);
        try settlement.initiateBatch(batch) {
            if (!fits) ++mismatches;
            for (uint256 j = 0; j < 2; ++j) {
                ++_initiatedBy[d];
                _payments.push(batch[j]);
                _stored.push(IInterbankSettlement.SettlementState.Delivered);
                ghostHeld += amount;
                ghostInFlight[d][1 - d] += amount;
                ghostOutstanding[d] += amount;
            }
            ++calls["initiateBatch"];
        } catch {
            if (fits) ++mismatches;
            else ++calls["refused"];
        }
    }

    /// @dev Smelts every delivered, unexpired payment owed to one creditor bank in one `smeltBatch`.
    function smeltBatch(uint256 creditorSeed) external {
        _sync();
        uint256 c = creditorSeed % 2;
        uint256 n = _payments.length;
        uint256 count;
        for (uint256 i = 0; i < n; ++i) {
            if (
                _payments[i].creditorBank == banks[c] && modelState(i) == IInterbankSettlement.SettlementState.Delivered
            ) {
                ++count;
            }
        }
        if (count == 0) return;
        IInterbankSettlement.SettlementTerms[] memory batch = new IInterbankSettlement.SettlementTerms[](count);
        bytes32[] memory refs = new bytes32[](count);
        uint256[] memory indexes = new uint256[](count);
        uint256 k;
        for (uint256 i = 0; i < n; ++i) {
            if (
                _payments[i].creditorBank == banks[c] && modelState(i) == IInterbankSettlement.SettlementState.Delivered
            ) {
                batch[k] = _payments[i];
                refs[k] = _nextRef();
                indexes[k++] = i;
            }
        }
        vm.prank(agents[c]);
        try settlement.smeltBatch(batch, refs) {
            for (uint256 j = 0; j < count; ++j) {
                uint256 i = indexes[j];
                _stored[i] = IInterbankSettlement.SettlementState.Smelted;
                ghostHeld -= batch[j].amount;
                ghostClaim[c][1 - c] += batch[j].amount;
                ghostOutstanding[1 - c] -= batch[j].amount;
            }
            ++calls["smeltBatch"];
        } catch {
            ++mismatches;
        }
    }

    function returnRejected(uint256 seed) external {
        _sync();
        (bool found, uint256 i) = _pick(seed, IInterbankSettlement.SettlementState.Rejected);
        if (!found) return;
        IInterbankSettlement.SettlementTerms memory t = _payments[i];
        (uint256 d, uint256 c) = _sides(t);
        vm.prank(agents[d]);
        try settlement.returnRejected(t, _nextRef()) {
            _stored[i] = IInterbankSettlement.SettlementState.Returned;
            _closedAtDebtor(t.amount, d, c);
            ++calls["returnRejected"];
        } catch {
            ++mismatches;
        }
    }

    function refundExpired(uint256 seed) external {
        _sync();
        (bool found, uint256 i) = _pick(seed, IInterbankSettlement.SettlementState.Expired);
        if (!found) return;
        IInterbankSettlement.SettlementTerms memory t = _payments[i];
        (uint256 d, uint256 c) = _sides(t);
        vm.prank(agents[d]);
        try settlement.refundExpired(t, _nextRef()) {
            _stored[i] = IInterbankSettlement.SettlementState.Refunded;
            _closedAtDebtor(t.amount, d, c);
            ++calls["refundExpired"];
        } catch {
            ++mismatches;
        }
    }

    /// @dev A step on a payment in the wrong state must be refused.
    function wrongStep(uint256 seed, uint8 step) external {
        _sync();
        if (_payments.length == 0) return;
        uint256 i = seed % _payments.length;
        IInterbankSettlement.SettlementTerms memory t = _payments[i];
        (uint256 d, uint256 c) = _sides(t);
        IInterbankSettlement.SettlementState s = modelState(i);
        bool ok;
        step %= 4;
        if (step == 0 && s != IInterbankSettlement.SettlementState.Delivered) {
            vm.prank(agents[c]);
            try settlement.smelt(t, _nextRef()) {
                ok = true;
            } catch {}
        } else if (step == 1 && s != IInterbankSettlement.SettlementState.Smelted) {
            vm.prank(agents[d]);
            try settlement.acknowledge(t) {
                ok = true;
            } catch {}
        } else if (step == 2 && s != IInterbankSettlement.SettlementState.Expired) {
            vm.prank(agents[d]);
            try settlement.refundExpired(t, _nextRef()) {
                ok = true;
            } catch {}
        } else if (step == 3) {
            // The debtor's agent may never smelt.
            vm.prank(agents[d]);
            try settlement.smelt(t, _nextRef()) {
                ok = true;
            } catch {}
        } else {
            return;
        }
        if (ok) ++mismatches;
        else ++calls["wrongStep"];
    }

    /// @dev The attestor nets part of a claim with a fiat transfer between the trust accounts.
    function net(uint256 creditorSeed, uint256 amount) external {
        _sync();
        uint256 c = creditorSeed % 2;
        uint256 d = 1 - c;
        uint256 claim = ghostClaim[c][d];
        if (claim == 0) return;
        amount = bound(amount, 1, claim);
        vm.prank(attestor);
        try ledger.netClaim(banks[c], banks[d], amount, _nextRef()) {
            ghostClaim[c][d] -= amount;
            ghostFiat[d] -= amount;
            ghostFiat[c] += amount;
            ++calls["net"];
        } catch {
            ++mismatches;
        }
    }

    /// @dev Time passes; the attestor keeps both reserves fresh.
    function warp(uint256 seconds_) external {
        currentTime += bound(seconds_, 0, 12 hours);
        _sync();
        for (uint256 b = 0; b < 2; ++b) {
            vm.prank(attestor);
            ledger.attestReserve(banks[b], ghostFiat[b], currentTime);
        }
    }

    // ---------------------------------------------------------------- internals

    function _acknowledged(uint256 i, uint256 d, uint256 c) internal {
        _stored[i] = IInterbankSettlement.SettlementState.Acknowledged;
        ghostInFlight[d][c] -= _payments[i].amount;
    }

    function _closedAtDebtor(uint256 amount, uint256 d, uint256 c) internal {
        ghostHeld -= amount;
        ghostInFlight[d][c] -= amount;
        ghostOutstanding[d] -= amount;
    }

    /// @dev A payment in model state `state`, searched from a random start.
    function _pick(
        uint256 seed,
        IInterbankSettlement.SettlementState state
    ) internal view returns (bool found, uint256 index) {
        uint256 n = _payments.length;
        if (n == 0) return (false, 0);
        uint256 start = seed % n;
        for (uint256 k = 0; k < n; ++k) {
            uint256 i = (start + k) % n;
            if (modelState(i) == state) return (true, i);
        }
        return (false, 0);
    }

    function _sides(IInterbankSettlement.SettlementTerms memory t) internal view returns (uint256 d, uint256 c) {
        d = t.debtorBank == banks[0] ? 0 : 1;
        c = 1 - d;
    }

    function _nextRef() internal returns (bytes32) {
        return keccak256(abi.encode("ref", ++_refs));
    }

    function _sync() internal {
        vm.warp(currentTime);
    }
}

/// @dev Invariants of the settlement with the real token and ledger: the tokens the settlement holds are exactly
///      the open payments, the ledger's outstanding issuance is exactly the token supply, every interbank claim is
///      exactly the smelted minus the netted amounts (and is kept out of the debtor's reserve), and every payment
///      is where the model says.
contract InterbankSettlementInvariantTest is StdInvariant, SettlementFixture {
    uint256 internal constant BIG_RESERVE = 1e12;

    InterbankSettlementHandler internal handler;

    function setUp() public {
        _deploySettlement();
        _attest(bankA, BIG_RESERVE);
        _attest(bankB, BIG_RESERVE);
        vm.startPrank(corridorAdmin);
        settlement.setCorridorLimits(address(bankA), address(bankB), 300_000_00, 500_000_00, 6 hours);
        settlement.setCorridorLimits(address(bankB), address(bankA), 200_000_00, 400_000_00, 4 hours);
        vm.stopPrank();
        handler = new InterbankSettlementHandler(
            settlement,
            ledger,
            attestor,
            [address(bankA), address(bankB)],
            [agentA, agentB],
            BIG_RESERVE
        );

        bytes4[] memory selectors = new bytes4[](13);
        selectors[0] = InterbankSettlementHandler.initiate.selector;
        selectors[1] = InterbankSettlementHandler.initiateOverLimit.selector;
        selectors[2] = InterbankSettlementHandler.smelt.selector;
        selectors[3] = InterbankSettlementHandler.reject.selector;
        selectors[4] = InterbankSettlementHandler.acknowledge.selector;
        selectors[5] = InterbankSettlementHandler.acknowledgeBatch.selector;
        selectors[6] = InterbankSettlementHandler.returnRejected.selector;
        selectors[7] = InterbankSettlementHandler.refundExpired.selector;
        selectors[8] = InterbankSettlementHandler.wrongStep.selector;
        selectors[9] = InterbankSettlementHandler.net.selector;
        selectors[10] = InterbankSettlementHandler.warp.selector;
        selectors[11] = InterbankSettlementHandler.initiateBatch.selector;
        selectors[12] = InterbankSettlementHandler.smeltBatch.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    function invariant_heldTokensEqualOpenPayments() public view {
        assertEq(token.balanceOf(address(settlement)), handler.ghostHeld());
    }

    function invariant_ledgerOutstandingEqualsTokenSupply() public view {
        assertEq(ledger.totalOutstanding(), token.totalSupply());
        assertEq(ledger.outstandingOf(address(settlement)), 0);
        assertEq(ledger.outstandingOf(address(bankA)), handler.ghostOutstanding(0));
        assertEq(ledger.outstandingOf(address(bankB)), handler.ghostOutstanding(1));
    }

    function invariant_claimsEqualSmeltedMinusNetted() public view {
        assertEq(ledger.claimOf(address(bankB), address(bankA)), handler.ghostClaim(1, 0));
        assertEq(ledger.claimOf(address(bankA), address(bankB)), handler.ghostClaim(0, 1));
        // A bank's reserve is the fiat in its trust account less what it owes the other bank.
        assertEq(ledger.issuer(address(bankA)).reserve, handler.ghostFiat(0) - handler.ghostClaim(1, 0));
        assertEq(ledger.issuer(address(bankB)).reserve, handler.ghostFiat(1) - handler.ghostClaim(0, 1));
        assertEq(ledger.owedBy(address(bankA)), handler.ghostClaim(1, 0));
        assertEq(ledger.owedBy(address(bankB)), handler.ghostClaim(0, 1));
    }

    function invariant_corridorsCountUnfinalisedPayments() public view {
        uint256 ab = settlement.corridor(address(bankA), address(bankB)).inFlight;
        uint256 ba = settlement.corridor(address(bankB), address(bankA)).inFlight;
        assertEq(ab, handler.ghostInFlight(0, 1));
        assertEq(ba, handler.ghostInFlight(1, 0));
        assertEq(settlement.totalInFlight(), ab + ba);
        assertGe(settlement.totalInFlight(), token.balanceOf(address(settlement)));
    }

    function invariant_everyPaymentIsWhereTheModelSays() public view {
        uint256 n = handler.paymentCount();
        for (uint256 i = 0; i < n; ++i) {
            IInterbankSettlement.SettlementTerms memory t = handler.payment(i);
            assertEq(uint8(settlement.stateOf(t.debtorBank, t.id)), uint8(handler.modelState(i)));
            assertEq(settlement.settlement(t.debtorBank, t.id).termsDigest, settlement.hashTerms(t));
        }
    }

    function invariant_noStepSurprisedTheModel() public view {
        assertEq(handler.mismatches(), 0);
    }
}
