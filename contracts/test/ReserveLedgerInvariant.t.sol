// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Test} from "forge-std/Test.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";

import {ReserveLedger} from "../reserves/ReserveLedger.sol";
import {IReserveLedger} from "../reserves/interfaces/IReserveLedger.sol";
import {TestReserveFeed} from "./utils/TestReserveFeed.sol";

/// @dev Drives a `ReserveLedger` through random mints, burns, attestations, ratio changes, (de)activations,
///      feed updates and the passage of time, keeping its own model of every issuer ("ghost" state). Mints
///      and burns are made while pranking as the bound token; only successful ones enter the ghost sums.
contract ReserveLedgerHandler is Test {
    uint16 internal constant FULL = 10_000;
    uint32 internal constant MAX_AGE = 1 days;
    uint256 internal constant FEED_TO_TOKEN = 1e6; // feed answers have 8 decimals, the token 2
    uint256 internal constant MAX_STEP = 2e12;

    /// @dev The model of one issuer.
    struct Model {
        uint256 reserve;
        uint256 attestedAt;
        uint16 ratioBps;
        bool active;
        bool breached;
        uint256 outstanding;
    }

    ReserveLedger public immutable ledger;
    TestReserveFeed public immutable feed;
    address public immutable token;
    /// @dev Stands in for the settlement contract: a registered, deactivated issuer holding `SETTLEMENT_ROLE`.
    address public immutable settlement;
    /// @dev Issuers 0..2 use attestations, issuer 3 uses `feed`.
    address[4] public issuers;

    /// @notice Successful mints minus successful burns, over all issuers: what the token's supply would be.
    uint256 public ghostSupply;
    /// @notice Successful mints that left the issuer above its reserve capacity at the time of the mint.
    uint256 public capacityViolations;
    /// @notice Mints and burns whose success or failure differed from the model's prediction.
    uint256 public modelMismatches;
    /// @notice Calls that succeeded, per kind, to see that the run exercised the ledger.
    uint256 public mintsSucceeded;
    uint256 public mintsRejected;
    uint256 public burnsSucceeded;
    uint256 public smeltsSucceeded;
    uint256 public nettingsSucceeded;
    /// @notice Per [creditor][debtor] (indexes into `issuers`): smelted minus netted.
    uint256[4][4] public ghostClaims;
    /// @notice Per debtor: the sum of the claims on it.
    uint256[4] public ghostOwed;

    uint256 public currentTime;
    mapping(address issuer => Model) internal _models;

    constructor(
        ReserveLedger ledger_,
        TestReserveFeed feed_,
        address token_,
        address settlement_,
        address[4] memory issuers_
    ) {
        ledger = ledger_;
        feed = feed_;
        token = token_;
        settlement = settlement_;
        issuers = issuers_;
        currentTime = block.timestamp;
        for (uint256 i = 0; i < 4; ++i) {
            _models[issuers_[i]].ratioBps = FULL;
            _models[issuers_[i]].active = true;
        }
    }

    /// @notice The model of `account`.
    function model(address account) external view returns (Model memory) {
        return _models[account];
    }

    /// @notice The reserve capacity of `account` now, by the model.
    function capacityOf(address account) public view returns (uint256) {
        Model storage m = _models[account];
        return (_reserveNow(account) * m.ratioBps) / FULL;
    }

    function mint(uint256 issuerSeed, uint256 amount) external {
        _syncTime();
        address account = _issuer(issuerSeed);
        Model storage m = _models[account];
        // Mostly within the headroom the model sees, sometimes a little beyond it.
        uint256 capacity = capacityOf(account);
        uint256 headroom = capacity > m.outstanding ? capacity - m.outstanding : 0;
        amount = bound(amount, 0, headroom + headroom / 4 + 1);
        bool expected = _mayMint(account, amount);
        vm.prank(token);
        try ledger.onMint(account, amount) {
            m.outstanding += amount;
            ghostSupply += amount;
            ++mintsSucceeded;
            if (m.outstanding > capacityOf(account)) ++capacityViolations;
            if (!expected) ++modelMismatches;
        } catch {
            ++mintsRejected;
            if (expected) ++modelMismatches;
        }
    }

    function burn(uint256 issuerSeed, uint256 amount) external {
        _syncTime();
        address account = _issuer(issuerSeed);
        Model storage m = _models[account];
        amount = bound(amount, 0, m.outstanding + m.outstanding / 10 + 1);
        bool expected = amount <= m.outstanding;
        vm.prank(token);
        try ledger.onBurn(account, amount) {
            m.outstanding -= amount;
            ghostSupply -= amount;
            ++burnsSucceeded;
            if (!expected) ++modelMismatches;
        } catch {
            if (expected) ++modelMismatches;
        }
    }

    function attest(uint256 issuerSeed, uint256 reserve, uint256 age) external {
        _syncTime();
        address account = issuers[bound(issuerSeed, 0, 2)];
        Model storage m = _models[account];
        reserve = bound(reserve, 0, 4 * MAX_STEP);
        // Not in the future, not before the previous attestation, and mostly fresh.
        uint256 oldest = m.attestedAt == 0 ? 1 : m.attestedAt;
        uint256 asOf = currentTime - bound(age, 0, Math.min(currentTime - oldest, 2 * MAX_AGE));
        ledger.attestReserve(account, reserve, asOf);
        uint256 owed = ghostOwed[bound(issuerSeed, 0, 2)];
        m.reserve = reserve > owed ? reserve - owed : 0;
        m.attestedAt = asOf;
        m.breached = m.outstanding > (m.reserve * m.ratioBps) / FULL;
    }

    /// @dev Bank `creditor` smelts `amount` that bank `debtor` issued: the settlement takes over that much of the
    ///      debtor's issuance and burns it (as the token's `onBurn` for the settlement).
    function smelt(uint256 debtorSeed, uint256 creditorOffset, uint256 amount) external {
        _syncTime();
        uint256 d = bound(debtorSeed, 0, 3);
        uint256 c = (d + bound(creditorOffset, 1, 3)) % 4;
        Model storage m = _models[issuers[d]];
        amount = bound(amount, 0, m.outstanding + m.outstanding / 10 + 1);
        bool expected = amount <= m.outstanding;
        vm.prank(settlement);
        try ledger.transferIssuance(issuers[d], issuers[c], amount) {
            vm.prank(token);
            ledger.onBurn(settlement, amount);
            m.outstanding -= amount;
            m.reserve = m.reserve > amount ? m.reserve - amount : 0;
            ghostClaims[c][d] += amount;
            ghostOwed[d] += amount;
            ghostSupply -= amount;
            ++smeltsSucceeded;
            if (!expected) ++modelMismatches;
        } catch {
            if (expected) ++modelMismatches;
        }
    }

    /// @dev The attestor records a fiat transfer from the debtor to the creditor that nets part of a claim.
    function net(uint256 creditorSeed, uint256 debtorOffset, uint256 amount) external {
        _syncTime();
        uint256 c = bound(creditorSeed, 0, 3);
        uint256 d = (c + bound(debtorOffset, 1, 3)) % 4;
        uint256 claim = ghostClaims[c][d];
        if (claim == 0) return;
        amount = bound(amount, 1, claim);
        ledger.netClaim(issuers[c], issuers[d], amount, keccak256(abi.encode("wire", ++nettingsSucceeded)));
        ghostClaims[c][d] -= amount;
        ghostOwed[d] -= amount;
        if (c != 3) {
            Model storage m = _models[issuers[c]];
            m.reserve += amount;
            m.breached = m.outstanding > (m.reserve * m.ratioBps) / FULL;
        }
    }

    function setRatio(uint256 issuerSeed, uint256 ratioBps) external {
        _syncTime();
        address account = _issuer(issuerSeed);
        Model storage m = _models[account];
        m.ratioBps = uint16(bound(ratioBps, 1, FULL));
        ledger.setReserveRatio(account, m.ratioBps);
        if (account != issuers[3]) m.breached = m.outstanding > (m.reserve * m.ratioBps) / FULL;
    }

    function toggleActive(uint256 issuerSeed) external {
        _syncTime();
        address account = _issuer(issuerSeed);
        Model storage m = _models[account];
        if (m.active) ledger.deactivateIssuer(account);
        else ledger.reactivateIssuer(account);
        m.active = !m.active;
    }

    function updateFeed(uint256 answer, uint256 age) external {
        _syncTime();
        answer = bound(answer, 0, 4 * MAX_STEP * FEED_TO_TOKEN);
        feed.setAnswer(int256(answer), currentTime - bound(age, 0, 2 * MAX_AGE));
    }

    function warp(uint256 seconds_) external {
        currentTime += bound(seconds_, 0, MAX_AGE);
        _syncTime();
    }

    /// @dev Whether the model lets `account` mint `amount` now.
    function _mayMint(address account, uint256 amount) internal view returns (bool) {
        Model storage m = _models[account];
        if (!m.active) return false;
        uint256 asOf;
        if (account == issuers[3]) {
            (, int256 answer, , uint256 updatedAt, ) = feed.latestRoundData();
            if (answer <= 0) return false;
            asOf = updatedAt;
        } else {
            if (m.breached) return false;
            asOf = m.attestedAt;
        }
        if (asOf == 0 || currentTime - asOf > MAX_AGE) return false;
        return m.outstanding + amount <= capacityOf(account);
    }

    function _reserveNow(address account) internal view returns (uint256) {
        if (account != issuers[3]) return _models[account].reserve;
        (, int256 answer, , , ) = feed.latestRoundData();
        uint256 gross = answer <= 0 ? 0 : uint256(answer) / FEED_TO_TOKEN;
        return gross > ghostOwed[3] ? gross - ghostOwed[3] : 0;
    }

    function _issuer(uint256 seed) internal view returns (address) {
        return issuers[bound(seed, 0, 3)];
    }

    function _syncTime() internal {
        vm.warp(currentTime);
    }
}

/// @dev Invariants of `ReserveLedger` alone: its bookkeeping matches the ghost sums of the handler, and no
///      mint ever took an issuer beyond its reserve capacity. The lead adds the cross-contract check
///      (`totalOutstanding() == BankToken.totalSupply()`) with the real token.
contract ReserveLedgerInvariantTest is StdInvariant, Test {
    ReserveLedger internal ledger;
    TestReserveFeed internal feed;
    ReserveLedgerHandler internal handler;
    address internal token = makeAddr("token");
    address internal settlement = makeAddr("settlement");
    address[4] internal issuers = [makeAddr("bankA"), makeAddr("bankB"), makeAddr("bankC"), makeAddr("feedBank")];

    function setUp() public {
        vm.warp(1_700_000_000);
        ledger = new ReserveLedger(address(this), 1 days, token, 2);
        feed = new TestReserveFeed(8);
        feed.setAnswer(1e18, block.timestamp);
        handler = new ReserveLedgerHandler(ledger, feed, token, settlement, issuers);
        ledger.grantRole(ledger.RESERVE_ADMIN_ROLE(), address(handler));
        ledger.grantRole(ledger.ATTESTOR_ROLE(), address(handler));
        ledger.grantRole(ledger.SETTLEMENT_ROLE(), settlement);
        vm.startPrank(address(handler));
        for (uint256 i = 0; i < 4; ++i) {
            ledger.registerIssuer(issuers[i], 10_000, 1 days);
        }
        ledger.setReserveFeed(issuers[3], feed);
        ledger.registerIssuer(settlement, 10_000, 1 days);
        ledger.deactivateIssuer(settlement);
        vm.stopPrank();
        for (uint256 i = 0; i < 3; ++i) {
            handler.attest(i, 1e12, 0);
        }

        bytes4[] memory selectors = new bytes4[](9);
        selectors[0] = ReserveLedgerHandler.mint.selector;
        selectors[1] = ReserveLedgerHandler.burn.selector;
        selectors[2] = ReserveLedgerHandler.attest.selector;
        selectors[3] = ReserveLedgerHandler.setRatio.selector;
        selectors[4] = ReserveLedgerHandler.toggleActive.selector;
        selectors[5] = ReserveLedgerHandler.updateFeed.selector;
        selectors[6] = ReserveLedgerHandler.warp.selector;
        selectors[7] = ReserveLedgerHandler.smelt.selector;
        selectors[8] = ReserveLedgerHandler.net.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    function invariant_totalOutstandingEqualsGhostSupply() public view {
        assertEq(ledger.totalOutstanding(), handler.ghostSupply());
    }

    function invariant_outstandingOfEachIssuerMatchesModel() public view {
        uint256 sum;
        for (uint256 i = 0; i < 4; ++i) {
            uint256 outstanding = ledger.outstandingOf(issuers[i]);
            assertEq(outstanding, handler.model(issuers[i]).outstanding);
            sum += outstanding;
        }
        assertEq(sum, ledger.totalOutstanding());
    }

    function invariant_claimsMatchSmeltedMinusNetted() public view {
        for (uint256 c = 0; c < 4; ++c) {
            for (uint256 d = 0; d < 4; ++d) {
                assertEq(ledger.claimOf(issuers[c], issuers[d]), handler.ghostClaims(c, d));
            }
            assertEq(ledger.owedBy(issuers[c]), handler.ghostOwed(c));
        }
        assertEq(ledger.outstandingOf(settlement), 0);
    }

    function invariant_noMintExceededReserveCapacity() public view {
        assertEq(handler.capacityViolations(), 0);
    }

    function invariant_ledgerAgreesWithModel() public view {
        assertEq(handler.modelMismatches(), 0);
        for (uint256 i = 0; i < 3; ++i) {
            IReserveLedger.IssuerInfo memory info = ledger.issuer(issuers[i]);
            ReserveLedgerHandler.Model memory m = handler.model(issuers[i]);
            assertEq(info.reserve, m.reserve);
            assertEq(info.attestedAt, m.attestedAt);
            assertEq(info.ratioBps, m.ratioBps);
            assertEq(info.active, m.active);
            assertEq(info.breached, m.breached);
        }
    }

    function invariant_unbreachedIssuersStayWithinCapacity() public view {
        for (uint256 i = 0; i < 3; ++i) {
            IReserveLedger.IssuerInfo memory info = ledger.issuer(issuers[i]);
            if (!info.breached) assertLe(info.outstanding, (info.reserve * info.ratioBps) / 10_000);
        }
    }

    function invariant_mintableNeverExceedsCapacity() public view {
        for (uint256 i = 0; i < 4; ++i) {
            uint256 mintable = ledger.mintable(issuers[i]);
            if (mintable == 0) continue;
            assertLe(ledger.outstandingOf(issuers[i]) + mintable, handler.capacityOf(issuers[i]));
        }
    }
}
