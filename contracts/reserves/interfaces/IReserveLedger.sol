// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";
import {IIssuanceGate} from "./IIssuanceGate.sol";

/// @title IReserveLedger
/// @notice The attested fiat reserve of every issuing bank and the issuance it backs. The bound
///         `BankToken` asks the ledger on every mint (`onMint`) and burn (`onBurn`); a mint goes
///         through only if the issuer is registered and active, its reserve figure is fresh, and its
///         outstanding issuance stays within `reserve * ratioBps / 10_000`.
/// @dev An issuer's reserve comes either from attestations (`ATTESTOR_ROLE` calls `attestReserve`)
///      or, once a feed is configured, from a Chainlink-compatible proof-of-reserve feed. All amounts
///      are minor units of the fiat currency, in the token's decimals.
///
///      Bridge accounts. A cross-chain lane (`BurnMintLane`) mints and burns as a bridge account, not as an issuer:
///      its burns record tokens exported to another chain, its mints tokens imported from one, and an import is
///      refused once `imported - exported` would exceed the bridge's `maxNetImport`. Bridges hold no reserve, are
///      not in `issuers()` and not in `totalOutstanding()`, so on every chain `token.totalSupply() ==
///      totalOutstanding() + sum over bridges of (imported - exported)` (a bridge's net import is negative on a
///      chain that sent more than it received), and across chains the supplies plus the tokens in flight equal
///      the issuers' outstanding issuance. The issuer's outstanding issuance stays on the chain where its fiat
///      reserve is attested: moving it with the tokens would free that reserve on the source for a second
///      issuance against the same fiat.
interface IReserveLedger is IIssuanceGate {
    /// @notice Everything the ledger knows about one issuer.
    /// @param registered Whether the issuer was ever registered (issuers are never removed).
    /// @param active Whether the issuer may mint (deactivated issuers can still burn).
    /// @param breached Whether the last evaluation against the attested reserve (on attestation, ratio change
    ///        or return to attestations) found the issuer in breach; a breached issuer in attestation mode
    ///        cannot mint until a later evaluation cures it. Ignored while a feed is in use.
    /// @param ratioBps The reserve ratio in basis points, 1..10_000 (10_000 = full reserve).
    /// @param maxAge How old, in seconds, the reserve figure may be for minting.
    /// @param attestedAt The `asOf` time of the last attestation (0 if never attested).
    /// @param reserve The last attested reserve net of the issuer's interbank debts: the attested figure less the
    ///        claims other issuers hold on it at the attestation, less what later smelts set aside, plus what
    ///        later nettings paid in (the feed's figure is read live, see `reserveOf`).
    /// @param outstanding The issuer's tokens in circulation: minted minus burned.
    /// @param feed The proof-of-reserve feed the reserve is read from, or zero for attestations.
    struct IssuerInfo {
        bool registered;
        bool active;
        bool breached;
        uint16 ratioBps;
        uint32 maxAge;
        uint40 attestedAt;
        uint256 reserve;
        uint256 outstanding;
        AggregatorV3Interface feed;
    }

    /// @notice `issuer` was registered, active and in attestation mode.
    /// @param issuer The issuing bank's minter address.
    /// @param ratioBps Its reserve ratio in basis points.
    /// @param maxAge The maximum age of its reserve figure, in seconds.
    event IssuerRegistered(address indexed issuer, uint16 ratioBps, uint32 maxAge);

    /// @notice `issuer` was deactivated: it can no longer mint, but can still burn.
    /// @param issuer The issuer.
    event IssuerDeactivated(address indexed issuer);

    /// @notice `issuer` was reactivated and may mint again within its reserve.
    /// @param issuer The issuer.
    event IssuerReactivated(address indexed issuer);

    /// @notice The reserve ratio of `issuer` was changed.
    /// @param issuer The issuer.
    /// @param previousRatioBps The former ratio in basis points.
    /// @param newRatioBps The new ratio in basis points.
    event ReserveRatioChanged(address indexed issuer, uint16 previousRatioBps, uint16 newRatioBps);

    /// @notice The maximum age of the reserve figure of `issuer` was changed.
    /// @param issuer The issuer.
    /// @param previousMaxAge The former maximum age, in seconds.
    /// @param newMaxAge The new maximum age, in seconds.
    event MaxAgeChanged(address indexed issuer, uint32 previousMaxAge, uint32 newMaxAge);

    /// @notice The reserve source of `issuer` was changed.
    /// @param issuer The issuer.
    /// @param previousFeed The former feed, zero if it used attestations.
    /// @param newFeed The new feed, zero if it now uses attestations.
    event ReserveFeedChanged(
        address indexed issuer,
        AggregatorV3Interface indexed previousFeed,
        AggregatorV3Interface indexed newFeed
    );

    /// @notice An attestor reported the fiat reserve of `issuer`.
    /// @param issuer The issuer.
    /// @param attestor The account holding `ATTESTOR_ROLE` that reported it.
    /// @param reserve The reserve, in minor units.
    /// @param asOf The time the reserve figure refers to.
    event ReserveAttested(address indexed issuer, address indexed attestor, uint256 reserve, uint256 asOf);

    /// @notice `issuer` was found in breach: its outstanding issuance exceeds `reserve * ratioBps / 10_000`.
    ///         It cannot mint until an attestation or ratio change cures the breach.
    /// @param issuer The issuer.
    /// @param reserve Its attested reserve.
    /// @param outstanding Its outstanding issuance.
    /// @param ratioBps Its reserve ratio in basis points.
    event ReserveBreached(address indexed issuer, uint256 reserve, uint256 outstanding, uint16 ratioBps);

    /// @notice A breach of `issuer` was cured: its outstanding issuance is again within its reserve capacity.
    /// @param issuer The issuer.
    /// @param reserve Its attested reserve.
    /// @param outstanding Its outstanding issuance.
    /// @param ratioBps Its reserve ratio in basis points.
    event ReserveBreachCured(address indexed issuer, uint256 reserve, uint256 outstanding, uint16 ratioBps);

    /// @notice The attested fiat transfer `transferRef` of `amount` from the trust account of `debtor` to that of
    ///         `creditor` cleared that much of the creditor's claim on the debtor; the creditor's attested reserve
    ///         grew by `amount` (in attestation mode; a feed reports it itself). The debtor's reserve had already
    ///         set the amount aside when the payment was smelted.
    /// @param creditor The issuer whose claim shrank (bank B).
    /// @param debtor The issuer that paid (bank A).
    /// @param transferRef The reference of the fiat transfer, single-use.
    /// @param amount The minor units transferred.
    /// @param remainingClaim The creditor's claim on the debtor afterwards.
    event InterbankClaimNetted(
        address indexed creditor,
        address indexed debtor,
        bytes32 indexed transferRef,
        uint256 amount,
        uint256 remainingClaim
    );

    /// @notice `bridge` was registered as a bridge account that may import at most `maxNetImport` net.
    /// @param bridge The bridge's minter address (a cross-chain lane).
    /// @param maxNetImport The most `imported - exported` may reach, in minor units.
    event BridgeRegistered(address indexed bridge, uint256 maxNetImport);

    /// @notice The net import cap of `bridge` was changed.
    /// @param bridge The bridge.
    /// @param previousMaxNetImport The former cap.
    /// @param newMaxNetImport The new cap.
    event BridgeCapChanged(address indexed bridge, uint256 previousMaxNetImport, uint256 newMaxNetImport);

    /// @notice A gate hook was called by an account other than the bound token.
    /// @param caller The caller.
    error ReserveLedgerCallerNotToken(address caller);

    /// @notice The token given at construction is the zero address.
    /// @param token The token address given.
    error ReserveLedgerInvalidToken(address token);

    /// @notice The token decimals given at construction exceed 18.
    /// @param decimals The decimals given.
    error ReserveLedgerInvalidTokenDecimals(uint8 decimals);

    /// @notice The token given at construction is deployed and its `decimals()` differ from the decimals given.
    /// @param given The decimals given.
    /// @param actual The token's decimals.
    error ReserveLedgerTokenDecimalsMismatch(uint8 given, uint8 actual);

    /// @notice The issuer address is zero.
    /// @param issuer The issuer address given.
    error ReserveLedgerInvalidIssuer(address issuer);

    /// @notice The issuer was never registered.
    /// @param issuer The issuer.
    error ReserveLedgerUnknownIssuer(address issuer);

    /// @notice A compliance wipe was charged to an account that is not an issuer (a bridge account, or unknown):
    ///         only an issuer's outstanding issuance may absorb a wipe.
    /// @param account The account the wipe named.
    error ReserveLedgerWipeNotIssuer(address account);

    /// @notice The issuer is already registered.
    /// @param issuer The issuer.
    error ReserveLedgerIssuerAlreadyRegistered(address issuer);

    /// @notice The issuer is deactivated (it cannot mint, nor be deactivated again).
    /// @param issuer The issuer.
    error ReserveLedgerIssuerInactive(address issuer);

    /// @notice The issuer is already active.
    /// @param issuer The issuer.
    error ReserveLedgerIssuerActive(address issuer);

    /// @notice The issuer is in breach of its reserve ratio until an attestation or ratio change cures it.
    /// @param issuer The issuer.
    error ReserveLedgerIssuerBreached(address issuer);

    /// @notice The reserve ratio is outside 1..10_000 basis points.
    /// @param ratioBps The ratio given.
    error ReserveLedgerInvalidReserveRatio(uint16 ratioBps);

    /// @notice The maximum age is zero.
    /// @param maxAge The maximum age given.
    error ReserveLedgerInvalidMaxAge(uint32 maxAge);

    /// @notice The reserve figure is too old to mint against: `now - attestedAt > maxAge`, or never set.
    /// @param issuer The issuer.
    /// @param attestedAt The time the reserve figure refers to (attestation `asOf` or feed `updatedAt`).
    /// @param maxAge The issuer's maximum age, in seconds.
    /// @param currentTime The current block time.
    error ReserveLedgerStaleAttestation(address issuer, uint256 attestedAt, uint32 maxAge, uint256 currentTime);

    /// @notice The mint would take outstanding issuance beyond `reserve * ratioBps / 10_000`.
    /// @param issuer The issuer.
    /// @param reserveCapacity The most the issuer may have outstanding.
    /// @param outstanding Its outstanding issuance before the mint.
    /// @param amount The amount to mint.
    error ReserveLedgerInsufficientReserve(
        address issuer,
        uint256 reserveCapacity,
        uint256 outstanding,
        uint256 amount
    );

    /// @notice The burn exceeds the issuer's outstanding issuance.
    /// @param issuer The issuer.
    /// @param outstanding Its outstanding issuance.
    /// @param amount The amount to burn.
    error ReserveLedgerBurnExceedsOutstanding(address issuer, uint256 outstanding, uint256 amount);

    /// @notice `transferIssuance` of more than the debtor's outstanding issuance.
    /// @param issuer The debtor issuer.
    /// @param outstanding Its outstanding issuance.
    /// @param amount The amount to transfer.
    error ReserveLedgerTransferExceedsOutstanding(address issuer, uint256 outstanding, uint256 amount);

    /// @notice `transferIssuance` would take the receiving issuer's outstanding issuance above `MAX_AMOUNT`.
    /// @param issuer The receiving issuer (the caller).
    /// @param outstanding Its outstanding issuance.
    /// @param amount The amount to transfer.
    error ReserveLedgerOutstandingTooLarge(address issuer, uint256 outstanding, uint256 amount);

    /// @notice Creditor and debtor of an interbank position are the same issuer.
    /// @param issuer The issuer given twice.
    error ReserveLedgerSelfClaim(address issuer);

    /// @notice The netting amount is zero.
    error ReserveLedgerZeroAmount();

    /// @notice The netting transfer reference is zero or was used before.
    /// @param transferRef The reference.
    error ReserveLedgerTransferRefUsed(bytes32 transferRef);

    /// @notice The netting exceeds the creditor's claim on the debtor.
    /// @param creditor The creditor issuer.
    /// @param debtor The debtor issuer.
    /// @param claim The creditor's claim on the debtor.
    /// @param amount The amount to net.
    error ReserveLedgerNettingExceedsClaim(address creditor, address debtor, uint256 claim, uint256 amount);

    /// @notice The attestation refers to a time in the future.
    /// @param issuer The issuer.
    /// @param asOf The time given.
    /// @param currentTime The current block time.
    error ReserveLedgerAttestationInFuture(address issuer, uint256 asOf, uint256 currentTime);

    /// @notice The attestation time is zero or older than the issuer's previous attestation.
    /// @param issuer The issuer.
    /// @param asOf The time given.
    /// @param previousAsOf The time of the previous attestation.
    error ReserveLedgerAttestationOutOfOrder(address issuer, uint256 asOf, uint256 previousAsOf);

    /// @notice The attested reserve does not fit the ledger's 80-bit amount field.
    /// @param issuer The issuer.
    /// @param reserve The reserve given.
    /// @param max The largest reserve the ledger stores.
    error ReserveLedgerReserveTooLarge(address issuer, uint256 reserve, uint256 max);

    /// @notice The issuer's reserve comes from a feed, so attestations are refused.
    /// @param issuer The issuer.
    /// @param feed Its feed.
    error ReserveLedgerReserveSourceIsFeed(address issuer, AggregatorV3Interface feed);

    /// @notice The issuer has no feed to clear.
    /// @param issuer The issuer.
    error ReserveLedgerNoReserveFeed(address issuer);

    /// @notice The feed address is zero or holds no code.
    /// @param feed The feed given.
    error ReserveLedgerInvalidFeed(AggregatorV3Interface feed);

    /// @notice The feed could not be read: the call reverted or returned malformed data.
    /// @param issuer The issuer.
    /// @param feed Its feed.
    error ReserveLedgerFeedUnavailable(address issuer, AggregatorV3Interface feed);

    /// @notice The feed's answer is zero or negative.
    /// @param issuer The issuer.
    /// @param answer The answer read.
    error ReserveLedgerInvalidFeedAnswer(address issuer, int256 answer);

    /// @notice The feed's answer was carried over from an earlier round (`answeredInRound < roundId`).
    /// @param issuer The issuer.
    /// @param roundId The feed's latest round.
    /// @param answeredInRound The round the answer was computed in.
    error ReserveLedgerStaleFeedRound(address issuer, uint80 roundId, uint80 answeredInRound);

    /// @notice The feed's `updatedAt` is zero (incomplete round) or in the future.
    /// @param issuer The issuer.
    /// @param updatedAt The time read.
    /// @param currentTime The current block time.
    error ReserveLedgerInvalidFeedTimestamp(address issuer, uint256 updatedAt, uint256 currentTime);

    /// @notice The bridge address is zero.
    /// @param bridge The bridge address given.
    error ReserveLedgerInvalidBridge(address bridge);

    /// @notice The account is already a bridge (a bridge is registered once and never becomes an issuer).
    /// @param account The account.
    error ReserveLedgerBridgeAlreadyRegistered(address account);

    /// @notice The account is not a registered bridge.
    /// @param account The account.
    error ReserveLedgerUnknownBridge(address account);

    /// @notice The net import cap does not fit the ledger's 80-bit amount field.
    /// @param bridge The bridge.
    /// @param maxNetImport The cap given.
    /// @param max The largest cap the ledger stores.
    error ReserveLedgerBridgeCapTooLarge(address bridge, uint256 maxNetImport, uint256 max);

    /// @notice The mint would take the bridge's net import (`imported - exported`) above its cap.
    /// @param bridge The bridge.
    /// @param imported Its imports so far.
    /// @param exported Its exports so far.
    /// @param maxNetImport Its cap.
    /// @param amount The amount to mint.
    error ReserveLedgerBridgeCapExceeded(
        address bridge,
        uint256 imported,
        uint256 exported,
        uint256 maxNetImport,
        uint256 amount
    );

    /// @notice The bridge's running total of imports (`exported == false`) or exports would pass `MAX_AMOUNT`.
    /// @param bridge The bridge.
    /// @param exported Whether the total is the exports'.
    /// @param total The total so far.
    /// @param amount The amount to add.
    error ReserveLedgerBridgeTotalTooLarge(address bridge, bool exported, uint256 total, uint256 amount);

    /// @notice Registers `issuer` as an active issuer in attestation mode, with no reserve yet.
    /// @dev Only `RESERVE_ADMIN_ROLE`. The issuer cannot mint until an attestation covers it. A bridge account
    ///      cannot be registered as an issuer (`ReserveLedgerBridgeAlreadyRegistered`).
    /// @param issuer The bank's minter address (its `TrustAccount` or minting key).
    /// @param ratioBps Its reserve ratio in basis points, 1..10_000.
    /// @param maxAge The maximum age of its reserve figure for minting, in seconds, at least 1.
    function registerIssuer(address issuer, uint16 ratioBps, uint32 maxAge) external;

    /// @notice Registers `bridge` (a cross-chain lane, a minter of the token) as a bridge account: its burns are
    ///         recorded as exported, its mints as imported, and a mint is refused once `imported - exported` would
    ///         exceed `maxNetImport`. A bridge is not an issuer: no reserve, not in `issuers()` nor in
    ///         `totalOutstanding()`. Bridges are never removed; a cap of zero stops imports beyond exports.
    /// @dev Only `RESERVE_ADMIN_ROLE`. Reverts for the zero address, a registered issuer or bridge, or a cap above
    ///      `MAX_AMOUNT`.
    /// @param bridge The lane's address.
    /// @param maxNetImport The most `imported - exported` may reach, at most `MAX_AMOUNT`.
    function registerBridge(address bridge, uint256 maxNetImport) external;

    /// @notice Sets the net import cap of `bridge`. A cap below its current net import is allowed: imports stop
    ///         until exports bring the net back under it.
    /// @dev Only `RESERVE_ADMIN_ROLE`.
    /// @param bridge A registered bridge.
    /// @param maxNetImport The new cap, at most `MAX_AMOUNT`.
    function setBridgeCap(address bridge, uint256 maxNetImport) external;

    /// @notice Stops `issuer` from minting; it can still burn and be attested.
    /// @dev Only `RESERVE_ADMIN_ROLE`.
    /// @param issuer A registered, active issuer.
    function deactivateIssuer(address issuer) external;

    /// @notice Lets a deactivated `issuer` mint again within its reserve.
    /// @dev Only `RESERVE_ADMIN_ROLE`.
    /// @param issuer A registered, deactivated issuer.
    function reactivateIssuer(address issuer) external;

    /// @notice Sets the reserve ratio of `issuer`; in attestation mode the breach status is re-evaluated
    ///         against the last attested reserve (emitting `ReserveBreached` or `ReserveBreachCured`).
    /// @dev Only `RESERVE_ADMIN_ROLE`.
    /// @param issuer A registered issuer.
    /// @param ratioBps The new ratio in basis points, 1..10_000.
    function setReserveRatio(address issuer, uint16 ratioBps) external;

    /// @notice Sets how old the reserve figure of `issuer` may be for minting.
    /// @dev Only `RESERVE_ADMIN_ROLE`.
    /// @param issuer A registered issuer.
    /// @param maxAge The new maximum age, in seconds, at least 1.
    function setMaxAge(address issuer, uint32 maxAge) external;

    /// @notice Makes `issuer` read its reserve from a Chainlink-compatible proof-of-reserve feed
    ///         (or switches it to another feed). The feed is checked on every mint; the breach flag, which
    ///         only attestations set, is ignored while a feed is in use.
    /// @dev Only `RESERVE_ADMIN_ROLE`.
    /// @param issuer A registered issuer.
    /// @param feed The feed; must hold code.
    function setReserveFeed(address issuer, AggregatorV3Interface feed) external;

    /// @notice Makes `issuer` use attestations again. The attestation from before the feed is not revived:
    ///         the reserve becomes 0 as of now, so `issuer` cannot mint until an attestation dated no earlier
    ///         than this call, and its breach status is re-evaluated against 0 (emitting `ReserveBreached` if
    ///         anything is outstanding).
    /// @dev Only `RESERVE_ADMIN_ROLE`.
    /// @param issuer A registered issuer that uses a feed.
    function clearReserveFeed(address issuer) external;

    /// @notice Reports the fiat reserve of `issuer` as of `asOf` (what its trust account holds). The ledger keeps
    ///         it net of the claims other issuers hold on `issuer` for smelted interbank payments (see
    ///         `claimOf`): that fiat is owed, and backs no tokens. If the net figure leaves the issuer in breach
    ///         (outstanding > reserve * ratio), minting stops at once and `ReserveBreached` is emitted;
    ///         if it cures an earlier breach, `ReserveBreachCured` is emitted.
    /// @dev Only `ATTESTOR_ROLE`. Works for deactivated issuers too, not for issuers that use a feed.
    /// @param issuer A registered issuer in attestation mode.
    /// @param amount The reserve, in minor units of the fiat currency, at most `2**80 - 1`.
    /// @param asOf The time the figure refers to: not in the future, not before the previous attestation.
    function attestReserve(address issuer, uint256 amount, uint256 asOf) external;

    /// @notice For an interbank payment that bank B has just paid out in fiat ("smelted"): moves `amount` of the
    ///         outstanding issuance of `debtor` (bank A, which minted the tokens) to the caller's own issuer record,
    ///         records that much more claim of `creditor` (bank B) on `debtor`, and sets that much of the debtor's
    ///         reserve aside (saturating at zero): the fiat in A's trust account that is now owed to B must not
    ///         back new tokens of A. The caller (the settlement contract, itself a registered issuer) burns the
    ///         tokens next, which brings its record back down: `totalOutstanding()` equals the token's
    ///         `totalSupply()` before and after.
    /// @dev Only `SETTLEMENT_ROLE`. Emits no event (one would cost about 1,900 gas on every payment): the
    ///      settlement's `SettlementSmelted(id, debtorBank, creditorBank, amount, fiatRef)` in the same call names
    ///      both banks and the amount, as the token's `Mint`/`Burn` do for `onMint`/`onBurn`. `creditor` is not
    ///      checked against the issuer list, to save a cold read on every payment: the settlement contract only
    ///      names banks that are registered issuers (and issuers are never removed). A claim of an unregistered
    ///      creditor would not be counted out of the debtor's attested reserve, nor could it be netted.
    /// @param debtor A registered issuer with at least `amount` outstanding.
    /// @param creditor The registered issuer that paid the fiat out, not `debtor`.
    /// @param amount The minor units.
    function transferIssuance(address debtor, address creditor, uint256 amount) external;

    /// @notice Records an attested fiat transfer of `amount` from the trust account of `debtor` to that of
    ///         `creditor` that settles part of the creditor's claim: the claim shrinks by `amount` and, in
    ///         attestation mode, the creditor's reserve grows by `amount` (then re-evaluated for breach). The
    ///         debtor's reserve is unchanged: `transferIssuance` set the amount aside when B smelted, so the fiat
    ///         leaving A's trust account was no longer part of it. An issuer that uses a feed keeps its figure: the
    ///         feed reports the transfer.
    /// @dev Only `ATTESTOR_ROLE`. Does not change the attestation time of either issuer.
    /// @param creditor A registered issuer with a claim on `debtor` (bank B).
    /// @param debtor A registered issuer (bank A), not `creditor`.
    /// @param amount The minor units transferred: not zero, at most the claim.
    /// @param transferRef The reference of the fiat transfer: not zero, never used before.
    function netClaim(address creditor, address debtor, uint256 amount, bytes32 transferRef) external;

    /// @notice The claim of `creditor` on `debtor`: fiat the debtor owes for interbank payments the creditor
    ///         paid out (smelted) and that netting has not yet settled.
    /// @param creditor The bank that paid out (B).
    /// @param debtor The bank that issued the tokens (A).
    /// @return The minor units.
    function claimOf(address creditor, address debtor) external view returns (uint256);

    /// @notice What `debtor` owes other issuers for smelted interbank payments: the sum of their claims on it,
    ///         which its reserve does not count.
    /// @param debtor The issuer.
    /// @return The minor units.
    function owedBy(address debtor) external view returns (uint256);

    /// @notice Whether `transferRef` was used by `netClaim`.
    /// @param transferRef The reference.
    /// @return True if used.
    function isTransferRefUsed(bytes32 transferRef) external view returns (bool);

    /// @notice The token bound to the ledger: the only caller of `onMint` and `onBurn`.
    /// @return The token's address.
    function token() external view returns (address);

    /// @notice The decimals of the bound token, to which feed answers are converted.
    /// @return The decimals.
    function tokenDecimals() external view returns (uint8);

    /// @notice Everything the ledger stores about `account` (all zero if it is not registered).
    /// @param account The issuer.
    /// @return The issuer's record.
    function issuer(address account) external view returns (IssuerInfo memory);

    /// @notice The current reserve figure of `account` and the time it refers to: the last attestation,
    ///         or the feed's latest answer converted to token decimals (rounded down); either net of the claims
    ///         other issuers hold on `account` (saturating at zero).
    /// @dev Reverts with the feed errors of `onMint` if the issuer's feed cannot be used.
    /// @param account A registered issuer.
    /// @return reserve The reserve, in minor units of the token.
    /// @return asOf The time it refers to.
    function reserveOf(address account) external view returns (uint256 reserve, uint256 asOf);

    /// @notice How much more `account` can mint right now: 0 if it is unknown, inactive, breached, its
    ///         figure is stale or its feed unusable; otherwise `reserve * ratioBps / 10_000 - outstanding`.
    /// @param account The issuer.
    /// @return The amount, in minor units.
    function mintable(address account) external view returns (uint256);

    /// @notice The reserve ratio of `account` in basis points (0 if it is not registered).
    /// @param account The issuer.
    /// @return The ratio.
    function reserveRatioOf(address account) external view returns (uint16);

    /// @notice Whether the reserve figure of `account` is recent enough to mint against right now.
    /// @param account The issuer.
    /// @return True if `now - asOf <= maxAge` (false if unknown, never attested, or the feed is unusable).
    function isFresh(address account) external view returns (bool);

    /// @notice The outstanding issuance of `account`.
    /// @param account The issuer.
    /// @return The amount, in minor units.
    function outstandingOf(address account) external view returns (uint256);

    /// @notice The outstanding issuance of all issuers together; equals the bound token's `totalSupply`.
    /// @dev Sums over the registered issuers (a short list: banks).
    /// @return The total, in minor units.
    function totalOutstanding() external view returns (uint256);

    /// @notice All issuers ever registered, in registration order.
    /// @return The issuers.
    function issuers() external view returns (address[] memory);

    /// @notice The running totals and the cap of a bridge account (all zero if `account` is not a bridge; see
    ///         `bridges()` for the list).
    /// @param account The bridge.
    /// @return imported The tokens it minted (imported from other chains), in total.
    /// @return exported The tokens it burned (exported to other chains), in total.
    /// @return maxNetImport The most `imported - exported` may reach.
    function bridgeOf(address account) external view returns (uint256 imported, uint256 exported, uint256 maxNetImport);

    /// @notice All bridges ever registered, in registration order: with `issuers()`, every account whose mints the
    ///         ledger allows.
    /// @return The bridges.
    function bridges() external view returns (address[] memory);
}
