// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {BillRegistry} from "../bills/BillRegistry.sol";
import {BillId, BillIdLib, IBillRegistry} from "../bills/interfaces/IBillRegistry.sol";
import {IBankToken} from "../token/interfaces/IBankToken.sol";
import {BillFixture} from "./BillRegistry.t.sol";
import {BillDefinitions as D} from "./utils/BillDefinitions.sol";

/// @dev Issues bills of both definitions and drives them through random operations, performed by the party the
///      definition names (so most succeed), with random data and the passage of time. Ghost sums: what was paid
///      on bills and for discounts, and what the registry reported paid.
contract BillRegistryHandler is Test {
    BillRegistry public immutable registry;
    IBankToken public immutable token;
    address[4] public actors;
    BillId[] public bills;
    bytes32[] internal _ops;

    /// @notice Every amount moved by a successful payment or discount.
    uint256 public ghostMoved;
    /// @notice Discount prices paid.
    uint256 public ghostDiscounts;
    /// @notice Successful operations.
    uint256 public successes;

    constructor(BillRegistry registry_, address[4] memory actors_) {
        registry = registry_;
        token = registry_.token();
        actors = actors_;
        _ops = D.operations();
    }

    function billCount() external view returns (uint256) {
        return bills.length;
    }

    function issue(uint256 defSeed, uint256 amount, uint256 drawerSeed) external {
        amount = bound(amount, 2, 10_000_00);
        address drawer = actors[2 + (drawerSeed % 2)];
        IBillRegistry.BillTerms memory terms = IBillRegistry.BillTerms({
            id: BillIdLib.make(drawer, bytes12(keccak256(abi.encode("inv", bills.length)))),
            drawee: actors[0],
            payee: actors[1],
            amount: amount,
            acceptanceDeadline: uint40(block.timestamp + 1 days),
            maturity: uint40(block.timestamp + 10 days),
            recourseDeadline: uint40(block.timestamp + 20 days),
            documentHash: bytes32(0)
        });
        vm.prank(drawer);
        registry.issue(uint32(1 + (defSeed % 2)), D.ISSUE, terms);
        bills.push(terms.id);
    }

    function act(uint256 billSeed, uint256 opSeed, uint256 dataSeed) external {
        if (bills.length == 0) return;
        BillId id = bills[billSeed % bills.length];
        IBillRegistry.Bill memory b = registry.bill(id);
        bytes32 state = registry.stateOf(id);
        bytes32 op = _ops[opSeed % _ops.length];
        // Three times in four, the first operation (from a random start) that the current state allows.
        for (uint256 k = 0; opSeed % 4 != 0 && k < _ops.length; ++k) {
            bytes32 candidate = _ops[(opSeed + k) % _ops.length];
            if (registry.rule(b.definitionId, state, candidate).to != bytes32(0)) {
                op = candidate;
                break;
            }
        }
        IBillRegistry.Rule memory r = registry.rule(b.definitionId, state, op);
        if (r.to == bytes32(0)) r = registry.rule(b.definitionId, b.state, op);
        address actor = actors[dataSeed % 4];
        if (r.party == IBillRegistry.Party.Drawer) actor = b.drawer;
        else if (r.party == IBillRegistry.Party.Drawee) actor = b.payer;
        else if (r.party == IBillRegistry.Party.Holder) actor = b.holder;
        else if (r.party == IBillRegistry.Party.Financier) actor = b.financier;
        bytes memory data;
        uint256 remaining = b.amountDue - b.amountPaid;
        if (r.effect == IBillRegistry.Effect.Endorse || r.effect == IBillRegistry.Effect.OfferDiscount) {
            data = abi.encode(actors[(dataSeed >> 8) % 4]);
        } else if (r.effect == IBillRegistry.Effect.Discount || r.effect == IBillRegistry.Effect.PayPartial) {
            data = abi.encode(bound(dataSeed >> 8, 0, remaining + 1));
        } else if (r.effect == IBillRegistry.Effect.Recourse) {
            data = abi.encode((dataSeed >> 8) % 3);
        }
        uint256 paidBefore = b.amountPaid;
        vm.prank(actor);
        try registry.execute(id, op, data) {
            ++successes;
            uint256 paid = registry.bill(id).amountPaid - paidBefore;
            ghostMoved += paid;
            if (r.effect == IBillRegistry.Effect.Discount) {
                uint256 price = abi.decode(data, (uint256));
                ghostMoved += price;
                ghostDiscounts += price;
            }
        } catch {}
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 5 days));
    }
}

contract BillRegistryInvariantTest is BillFixture {
    BillRegistryHandler internal handler;
    address[4] internal _actors;
    mapping(uint32 definitionId => mapping(bytes32 state => bool)) internal _reachable;
    uint256 internal _supply;

    function setUp() public {
        _deployBills();
        _actors = [drawee, payee, makeAddr("third"), financier];
        _deposit(trust, _actors[2], FUNDS, "fund third");
        vm.prank(_actors[2]);
        token.approve(address(registry), type(uint256).max);
        handler = new BillRegistryHandler(registry, _actors);
        _supply = token.totalSupply();
        for (uint32 def = 1; def <= 2; ++def) _markReachable(def);
        targetContract(address(handler));
    }

    /// @dev Marks every state reachable from the issuing transition by following the definition's transitions.
    function _markReachable(uint32 def) internal {
        (, IBillRegistry.Transition[] memory t) = _definition(def);
        _reachable[def][t[0].to] = true;
        bool grew = true;
        while (grew) {
            grew = false;
            for (uint256 i = 1; i < t.length; ++i) {
                if (_reachable[def][t[i].from] && !_reachable[def][t[i].to]) {
                    _reachable[def][t[i].to] = true;
                    grew = true;
                }
            }
        }
    }

    function invariant_stateIsReachable() public view {
        uint256 n = handler.billCount();
        for (uint256 i = 0; i < n; ++i) {
            BillId id = handler.bills(i);
            IBillRegistry.Bill memory b = registry.bill(id);
            assertTrue(_reachable[b.definitionId][b.state], "stored state unreachable");
            assertTrue(_reachable[b.definitionId][registry.stateOf(id)], "derived state unreachable");
        }
    }

    /// @dev Issue 13, M-6: every bill was issued by the drawer its id commits to.
    function invariant_idCommitsToDrawer() public view {
        uint256 n = handler.billCount();
        for (uint256 i = 0; i < n; ++i) {
            BillId id = handler.bills(i);
            assertEq(registry.bill(id).drawer, id.drawer());
        }
    }

    function invariant_paidNeverExceedsDue() public view {
        uint256 n = handler.billCount();
        uint256 paid;
        for (uint256 i = 0; i < n; ++i) {
            IBillRegistry.Bill memory b = registry.bill(handler.bills(i));
            assertLe(b.amountPaid, b.amountDue);
            if (b.state == D.PAID) assertEq(b.amountPaid, b.amountDue);
            paid += b.amountPaid;
        }
        assertEq(paid + handler.ghostDiscounts(), handler.ghostMoved());
    }

    function invariant_registryHoldsNoTokens() public view {
        assertEq(token.balanceOf(address(registry)), 0);
        assertEq(token.totalSupply(), _supply);
    }
}
