// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IOfflineVault
/// @notice Offline payments. A payer locks `BankToken` in the vault; while offline it signs EIP-712 vouchers to
///         merchants, chained per (payer, lane) by sequence number and the previous voucher's hash; merchants (or
///         anyone on their behalf) redeem them later. Because a merchant accepts a voucher it cannot check on
///         chain, the vault bounds what a payer can cheat: per-voucher, per-lane-per-epoch and per-payer-per-epoch
///         limits, a withdrawal delay at least the longest voucher life plus a merchant's oldest view, and slashing
///         of a payer who signs two different vouchers for the same (lane, sequence): it is flagged a cheater (no
///         withdrawals, no new vouchers) and every voucher dated before the flag is paid, or compensated from its
///         locked funds, with any shortfall recorded as owed and claimable later. Signatures are ECDSA only (see
///         `redeem`).
interface IOfflineVault {
    /// @notice The risk limits set by the issuing bank. All nonzero;
    ///         `withdrawalDelay >= maxVoucherAge + maxViewAge`.
    /// @param maxPerVoucher The largest amount of one voucher.
    /// @param maxPerLane The most redeemed per (payer, lane) per epoch.
    /// @param maxPerEpoch The most redeemed per payer per epoch, over all lanes.
    /// @param maxVoucherAge The longest validity window `validBefore - validAfter`, in seconds.
    /// @param epochLength The length of an epoch, in seconds.
    /// @param withdrawalDelay The delay between a withdrawal request and its execution, in seconds.
    /// @param maxViewAge The oldest view of the vault a merchant may take vouchers on, in seconds: a withdrawal
    ///        requested just after a merchant's sync cannot complete before a voucher it takes then expires.
    struct Limits {
        uint128 maxPerVoucher;
        uint128 maxPerLane;
        uint128 maxPerEpoch;
        uint32 maxVoucherAge;
        uint32 epochLength;
        uint32 withdrawalDelay;
        uint32 maxViewAge;
    }

    /// @notice An offline payment, signed by `payer` under the EIP-712 type
    ///         `Voucher(address payer,address merchant,uint256 amount,uint256 lane,uint256 sequence,
    ///         bytes32 previousVoucherHash,uint256 validAfter,uint256 validBefore)`.
    /// @param payer The account whose locked funds pay.
    /// @param merchant The recipient.
    /// @param amount The minor units paid.
    /// @param lane The payer's chain of vouchers this one belongs to.
    /// @param sequence The position in the lane, from 1.
    /// @param previousVoucherHash The hash of the voucher `sequence - 1` of the lane, zero for sequence 1.
    /// @param validAfter The first second the voucher can be redeemed.
    /// @param validBefore The first second the voucher can no longer be redeemed.
    struct Voucher {
        address payer;
        address merchant;
        uint256 amount;
        uint256 lane;
        uint256 sequence;
        bytes32 previousVoucherHash;
        uint256 validAfter;
        uint256 validBefore;
    }

    /// @notice The risk limits were set.
    /// @param limits The new limits.
    event LimitsSet(Limits limits);

    /// @notice `from` locked `amount` for `payer`.
    /// @param payer The account credited.
    /// @param from The account the tokens came from.
    /// @param amount The minor units locked.
    event Deposited(address indexed payer, address indexed from, uint256 amount);

    /// @notice `payer` asked to withdraw `amount` after `availableAt`. An earlier request it replaces is reported
    ///         by a `WithdrawalCancelled` just before.
    /// @param payer The payer.
    /// @param amount The minor units requested.
    /// @param availableAt The first second `withdraw` succeeds.
    event WithdrawalRequested(address indexed payer, uint256 amount, uint256 availableAt);

    /// @notice The pending withdrawal of `payer` was cancelled (by the payer, replaced by a new request, or by
    ///         its flagging as a cheater).
    /// @param payer The payer.
    /// @param amount The minor units that had been requested.
    event WithdrawalCancelled(address indexed payer, uint256 amount);

    /// @notice `payer` withdrew `amount` of the `requested` minor units (less if redemptions drew on them).
    /// @param payer The payer.
    /// @param requested The minor units requested.
    /// @param amount The minor units paid out.
    event Withdrawn(address indexed payer, uint256 requested, uint256 amount);

    /// @notice A voucher was redeemed and `amount` paid to `merchant` from the payer's locked funds.
    /// @param hash The voucher's EIP-712 digest (its id).
    /// @param payer The payer.
    /// @param merchant The merchant paid.
    /// @param lane The lane.
    /// @param sequence The sequence in the lane.
    /// @param amount The minor units paid.
    event VoucherRedeemed(
        bytes32 indexed hash,
        address indexed payer,
        address indexed merchant,
        uint256 lane,
        uint256 sequence,
        uint256 amount
    );

    /// @notice A voucher of a batch was rejected; the rest of the batch went on.
    /// @param hash The voucher's EIP-712 digest.
    /// @param reason The raw revert data (a custom error of this interface, or the token's).
    event VoucherRejected(bytes32 indexed hash, bytes reason);

    /// @notice `payer` was proven to have signed two vouchers `hashA` and `hashB` for the same lane and sequence:
    ///         it is flagged a cheater (if it was not) and each voucher not already settled that is compensable
    ///         (dated before the flag or in its second, not expired, window within `maxVoucherAge`) was paid to its
    ///         merchant from the locked funds, capped at `maxPerVoucher`, at what was locked and at what is left of
    ///         the payer's epoch budget (`maxPerEpoch - payerEpochRedeemedOf(payer)`; the payment counts toward
    ///         it); the rest up to `min(amount, maxPerVoucher)` is owed (`CompensationOwed`). In the implicit
    ///         `redeem` path voucher A is the one redeemed earlier (`paidA == 0`) and voucher B the conflicting one
    ///         submitted.
    /// @param payer The cheater.
    /// @param lane The lane.
    /// @param sequence The sequence signed twice.
    /// @param hashA The first voucher.
    /// @param hashB The second voucher.
    /// @param merchantA The first voucher's merchant.
    /// @param paidA The minor units paid now to `merchantA`.
    /// @param merchantB The second voucher's merchant.
    /// @param paidB The minor units paid now to `merchantB`.
    event DoubleSpendSlashed(
        address indexed payer,
        uint256 indexed lane,
        uint256 sequence,
        bytes32 hashA,
        bytes32 hashB,
        address merchantA,
        uint256 paidA,
        address merchantB,
        uint256 paidB
    );

    /// @notice `payer` was flagged a cheater at `flaggedAt`: from now on only its vouchers dated before that time
    ///         are redeemed (or compensated), and it cannot withdraw.
    /// @param payer The payer.
    /// @param flaggedAt The time of the flag.
    event CheaterFlagged(address indexed payer, uint256 flaggedAt);

    /// @notice The risk admin cleared the cheater flag of `payer`. Its vouchers dated before the flag stay
    ///         compensable, and it still cannot withdraw while anything is owed.
    /// @param payer The payer.
    event CheaterCleared(address indexed payer);

    /// @notice A voucher of a flagged payer, dated before the flag and not conflicting with its lane's redemption,
    ///         was compensated with no lane or chain condition (typically a sequence gap or a broken chain left by
    ///         a double spend; if it is the lane's next link it also becomes the lane's head): `paid` now, `owed`
    ///         recorded for later (`CompensationOwed`).
    /// @param hash The voucher's hash.
    /// @param payer The payer.
    /// @param merchant The merchant.
    /// @param lane The lane.
    /// @param sequence The sequence in the lane.
    /// @param paid The minor units paid now.
    /// @param owed The minor units owed.
    event VoucherCompensated(
        bytes32 indexed hash,
        address indexed payer,
        address indexed merchant,
        uint256 lane,
        uint256 sequence,
        uint256 paid,
        uint256 owed
    );

    /// @notice The compensation of voucher `hash` fell short (the payer's locked funds or epoch budget ran out,
    ///         or the payer or the merchant is frozen): `owed` minor units are owed to `merchant` from `payer`'s
    ///         locked funds, claimable with `claimOwed`.
    /// @param hash The voucher's hash.
    /// @param payer The payer.
    /// @param merchant The merchant owed.
    /// @param owed The minor units owed.
    event CompensationOwed(bytes32 indexed hash, address indexed payer, address indexed merchant, uint256 owed);

    /// @notice `paid` minor units of what voucher `hash` was owed were paid to `merchant`; `stillOwed` remain.
    /// @param hash The voucher's hash.
    /// @param payer The payer.
    /// @param merchant The merchant paid.
    /// @param paid The minor units paid.
    /// @param stillOwed The minor units still owed.
    event OwedClaimed(
        bytes32 indexed hash,
        address indexed payer,
        address indexed merchant,
        uint256 paid,
        uint256 stillOwed
    );

    /// @notice A zero address was given for the token or a payer.
    error VaultZeroAddress();

    /// @notice An amount is zero.
    error VaultZeroAmount();

    /// @notice `account` is frozen by the token: it may not deposit into, be credited by, spend from, withdraw
    ///         from or be paid compensation by the vault.
    /// @param account The frozen account.
    error VaultAccountFrozen(address account);

    /// @notice The payer owes compensation to merchants and cannot withdraw until it is paid.
    /// @param payer The payer.
    /// @param owed The minor units owed.
    error VaultOwedOutstanding(address payer, uint256 owed);

    /// @notice Nothing is owed for voucher `hash`.
    /// @param hash The voucher's hash.
    error VaultNothingOwed(bytes32 hash);

    /// @notice What voucher `hash` is owed cannot be paid now: the payer has nothing locked, or its epoch budget
    ///         is spent (try again next epoch).
    /// @param hash The voucher's hash.
    /// @param locked The payer's locked funds.
    /// @param budget What is left of the payer's epoch budget.
    error VaultOwedUnpayable(bytes32 hash, uint256 locked, uint256 budget);

    /// @notice `redeemBatch` was sent with too little gas to give item `index` its `REDEEM_ITEM_GAS`.
    /// @param index The item's index.
    /// @param gasLeft The gas left when it came up.
    error VaultBatchGasExhausted(uint256 index, uint256 gasLeft);

    /// @notice A voucher names the zero address as its merchant.
    error MerchantZero();

    /// @notice The two vouchers of a proof name different payers.
    /// @param payerA The first voucher's payer.
    /// @param payerB The second voucher's payer.
    error PayerMismatch(address payerA, address payerB);

    /// @notice The limits are not all nonzero or `withdrawalDelay < maxVoucherAge + maxViewAge`.
    /// @param limits The limits given.
    error InvalidLimits(Limits limits);

    /// @notice The signature is not the payer's ECDSA signature over the voucher's hash.
    /// @param payer The voucher's payer.
    /// @param hash The voucher's hash.
    error InvalidSignature(address payer, bytes32 hash);

    /// @notice The voucher is not valid yet.
    /// @param validAfter Its first valid second.
    /// @param timestamp The current time.
    error VoucherNotYetValid(uint256 validAfter, uint256 timestamp);

    /// @notice The voucher has expired.
    /// @param validBefore Its first invalid second.
    /// @param timestamp The current time.
    error VoucherExpired(uint256 validBefore, uint256 timestamp);

    /// @notice The voucher's validity window is longer than `maxVoucherAge`.
    /// @param window `validBefore - validAfter`.
    /// @param maxVoucherAge The limit.
    error VoucherTooLong(uint256 window, uint256 maxVoucherAge);

    /// @notice The voucher's amount exceeds `maxPerVoucher`.
    /// @param amount The amount.
    /// @param maxPerVoucher The limit.
    error VoucherOverLimit(uint256 amount, uint256 maxPerVoucher);

    /// @notice The redemption would take the lane's total this epoch above `maxPerLane`.
    /// @param redeemed Already redeemed on the lane this epoch.
    /// @param amount The voucher's amount.
    /// @param maxPerLane The limit.
    error LaneLimitExceeded(uint256 redeemed, uint256 amount, uint256 maxPerLane);

    /// @notice The redemption would take the payer's total this epoch above `maxPerEpoch`.
    /// @param redeemed Already redeemed by the payer this epoch.
    /// @param amount The voucher's amount.
    /// @param maxPerEpoch The limit.
    error EpochLimitExceeded(uint256 redeemed, uint256 amount, uint256 maxPerEpoch);

    /// @notice The payer's locked funds are short.
    /// @param locked The payer's locked funds.
    /// @param amount The amount needed.
    error InsufficientLocked(uint256 locked, uint256 amount);

    /// @notice The voucher was already paid (redeemed, or compensated as double-spend evidence).
    /// @param hash The voucher's hash.
    error AlreadyRedeemed(bytes32 hash);

    /// @notice The voucher's sequence is zero or skips ahead of the lane.
    /// @param expected The lane's next sequence.
    /// @param sequence The voucher's sequence.
    error SequenceGap(uint256 expected, uint256 sequence);

    /// @notice The voucher's `previousVoucherHash` is not the hash of the lane's last redeemed voucher.
    /// @param expectedPrevious The lane's last hash.
    /// @param previous The voucher's `previousVoucherHash`.
    error BrokenChain(bytes32 expectedPrevious, bytes32 previous);

    /// @notice This pair of conflicting vouchers was already handled.
    /// @param hashA The first voucher's hash.
    /// @param hashB The second voucher's hash.
    error EvidenceAlreadyUsed(bytes32 hashA, bytes32 hashB);

    /// @notice The two vouchers are the same voucher, or differ in lane or sequence.
    /// @param hashA The first voucher's hash.
    /// @param hashB The second voucher's hash.
    error NotADoubleSpend(bytes32 hashA, bytes32 hashB);

    /// @notice `redeemOne` was called by another account than the vault itself.
    error VaultOnlySelf();

    /// @notice A batch has as many vouchers as signatures.
    /// @param vouchers The number of vouchers.
    /// @param signatures The number of signatures.
    error LengthMismatch(uint256 vouchers, uint256 signatures);

    /// @notice The payer is flagged a cheater: it cannot withdraw, and its vouchers dated after the flag are
    ///         refused.
    /// @param payer The payer.
    error PayerIsCheater(address payer);

    /// @notice The payer is not flagged a cheater.
    /// @param payer The payer.
    error NotCheater(address payer);

    /// @notice The payer has no pending withdrawal.
    /// @param payer The payer.
    error NoPendingWithdrawal(address payer);

    /// @notice The pending withdrawal's delay has not passed.
    /// @param availableAt The first second it can be executed.
    /// @param timestamp The current time.
    error WithdrawalNotReady(uint256 availableAt, uint256 timestamp);

    /// @notice Sets the risk limits. Only `RISK_ADMIN_ROLE`.
    /// @param newLimits The limits: all nonzero, `withdrawalDelay >= maxVoucherAge + maxViewAge`.
    function setLimits(Limits calldata newLimits) external;

    /// @notice Clears the cheater flag of `payer`, letting it sign new vouchers and withdraw again once nothing is
    ///         owed. Its vouchers dated before the flag stay compensable. Only `RISK_ADMIN_ROLE`.
    /// @param payer The payer.
    function clearCheater(address payer) external;

    /// @notice Locks `amount` of the caller's tokens (needs an allowance) for the caller's offline spending.
    ///         Reverts with `VaultAccountFrozen` if the caller is frozen.
    /// @param amount The minor units.
    function deposit(uint256 amount) external;

    /// @notice Locks `amount` of the caller's tokens (needs an allowance) for `payer`'s offline spending.
    ///         Reverts with `VaultAccountFrozen` if `payer` is frozen.
    /// @param payer The payer credited.
    /// @param amount The minor units.
    function depositFor(address payer, uint256 amount) external;

    /// @notice Asks to withdraw `amount` after `withdrawalDelay`; replaces any pending request (reporting it with
    ///         `WithdrawalCancelled`) and restarts the delay. Redemptions keep drawing on the locked funds
    ///         meanwhile. Not for a frozen or flagged payer, nor one that owes compensation.
    /// @param amount The minor units, at most the caller's locked funds.
    function requestWithdrawal(uint256 amount) external;

    /// @notice Cancels the caller's pending withdrawal.
    function cancelWithdrawal() external;

    /// @notice Executes the caller's pending withdrawal once its delay has passed, paying
    ///         `min(requested, locked)`. Not for a frozen or flagged payer, nor one that owes compensation.
    /// @return amount The minor units paid out.
    function withdraw() external returns (uint256 amount);

    /// @notice Redeems a voucher, paying its merchant; anyone may submit it. A voucher conflicting with an
    ///         already redeemed one (same payer, lane and sequence, different hash) does not revert: it slashes
    ///         the payer (see `DoubleSpendSlashed`). For a flagged payer, a voucher dated after the flag is
    ///         refused (`PayerIsCheater`), and one dated before it that is not a conflict is compensated with no
    ///         lane or chain condition (see `VoucherCompensated`). Refused while the payer is frozen.
    /// @param voucher The voucher.
    /// @param signature The payer's 65-byte ECDSA signature (`r‖s‖v`) of `hashVoucher(voucher)`. It must recover
    ///        to the payer whatever code the payer's account has (an EIP-7702 delegation cannot revoke it);
    ///        ERC-1271 signatures are not accepted, as a merchant could not check them offline.
    function redeem(Voucher calldata voucher, bytes calldata signature) external;

    /// @notice Redeems each voucher as `redeem` does; a voucher that fails emits `VoucherRejected` with the
    ///         revert data and the rest go on. Each item gets at most `REDEEM_ITEM_GAS`, so no item (whatever it
    ///         does) can take the gas of the others; the batch reverts with `VaultBatchGasExhausted` if the caller
    ///         left too little gas to give the next item its share (send about `REDEEM_ITEM_GAS + 45,000` per item;
    ///         a node's gas estimate finds enough).
    /// @param vouchers The vouchers.
    /// @param signatures Their signatures, in the same order.
    /// @return ok Whether each voucher's redemption (or slashing) went through.
    function redeemBatch(Voucher[] calldata vouchers, bytes[] calldata signatures) external returns (bool[] memory ok);

    /// @notice `redeem` for `redeemBatch`'s self-calls; reverts with `VaultOnlySelf` for any other caller.
    /// @param voucher The voucher.
    /// @param signature The payer's signature.
    function redeemOne(Voucher calldata voucher, bytes calldata signature) external;

    /// @notice Proves that a payer signed two different vouchers for the same lane and sequence; anyone may
    ///         submit it. Time windows are not checked for the proof. Flags the payer a cheater (cancelling its
    ///         withdrawal) and compensates each compensable voucher not already settled from the payer's locked
    ///         funds, in argument order (see `DoubleSpendSlashed` for the caps and `CompensationOwed`).
    /// @param a The first voucher.
    /// @param signatureA The payer's signature of `a`.
    /// @param b The second voucher.
    /// @param signatureB The payer's signature of `b`.
    function proveDoubleSpend(
        Voucher calldata a,
        bytes calldata signatureA,
        Voucher calldata b,
        bytes calldata signatureB
    ) external;

    /// @notice Pays what is owed for voucher `hash`, as far as the payer's locked funds and epoch budget allow;
    ///         anyone may call it. Reverts while the payer or the merchant is frozen (the claim is kept).
    /// @param hash The voucher's hash.
    /// @return paid The minor units paid.
    function claimOwed(bytes32 hash) external returns (uint256 paid);

    /// @notice The most gas `redeemBatch` gives one item.
    /// @return The gas.
    // solhint-disable-next-line func-name-mixedcase
    function REDEEM_ITEM_GAS() external view returns (uint256);

    /// @notice The token locked.
    /// @return The token.
    function token() external view returns (IERC20);

    /// @notice The current risk limits.
    /// @return The limits.
    function limits() external view returns (Limits memory);

    /// @notice The current epoch's index. Epochs are `epochLength` long; when `setLimits` changes the length
    ///         the current epoch keeps its index and runs `epochLength` (new) from that moment.
    /// @return The index.
    function currentEpoch() external view returns (uint256);

    /// @notice When the current epoch ends (the first second of the next one).
    /// @return The timestamp.
    function currentEpochEndsAt() external view returns (uint256);

    /// @notice The locked funds of `payer`.
    /// @param payer The payer.
    /// @return The minor units.
    function lockedOf(address payer) external view returns (uint256);

    /// @notice The pending withdrawal of `payer` (zeros if none).
    /// @param payer The payer.
    /// @return amount The minor units requested.
    /// @return availableAt The first second `withdraw` succeeds.
    function pendingWithdrawalOf(address payer) external view returns (uint256 amount, uint256 availableAt);

    /// @notice The state of a lane.
    /// @param payer The payer.
    /// @param lane The lane.
    /// @return lastSequence The last redeemed sequence (0 if none).
    /// @return lastHash The last redeemed voucher's hash (0 if none).
    /// @return epoch The epoch of `epochRedeemed` (stored as of the lane's last redemption; if it is not
    ///         `currentEpoch()`, the lane has redeemed nothing this epoch).
    /// @return epochRedeemed The minor units redeemed on the lane in `epoch`.
    function laneOf(
        address payer,
        uint256 lane
    ) external view returns (uint256 lastSequence, bytes32 lastHash, uint256 epoch, uint256 epochRedeemed);

    /// @notice The minor units redeemed from `payer` in the current epoch, over all lanes.
    /// @param payer The payer.
    /// @return The minor units.
    function payerEpochRedeemedOf(address payer) external view returns (uint256);

    /// @notice The voucher redeemed at (payer, lane, sequence).
    /// @param payer The payer.
    /// @param lane The lane.
    /// @param sequence The sequence.
    /// @return hash The voucher's hash (0 if none).
    /// @return merchant The merchant paid.
    function redeemedAt(
        address payer,
        uint256 lane,
        uint256 sequence
    ) external view returns (bytes32 hash, address merchant);

    /// @notice Whether the voucher `hash` has been paid in full (redeemed, or compensated with nothing owed).
    /// @param hash The voucher's hash.
    /// @return Whether it was paid.
    function isPaid(bytes32 hash) external view returns (bool);

    /// @notice Whether the voucher `hash` was settled: paid, or compensated (in part, the rest owed). A settled
    ///         voucher is never redeemed or compensated again.
    /// @param hash The voucher's hash.
    /// @return Whether it was settled.
    function isSettled(bytes32 hash) external view returns (bool);

    /// @notice What is owed for voucher `hash` (zeros if nothing).
    /// @param hash The voucher's hash.
    /// @return payer The payer owing.
    /// @return merchant The merchant owed.
    /// @return amount The minor units owed.
    function owedOf(bytes32 hash) external view returns (address payer, address merchant, uint256 amount);

    /// @notice The sum owed by `payer` over all its vouchers.
    /// @param payer The payer.
    /// @return The minor units.
    function owedTotalOf(address payer) external view returns (uint256);

    /// @notice Whether `payer` is flagged a cheater.
    /// @param payer The payer.
    /// @return Whether it is.
    function isCheater(address payer) external view returns (bool);

    /// @notice When `payer` was last flagged a cheater (0 if never); kept after the flag is cleared, because its
    ///         vouchers dated before then stay compensable.
    /// @param payer The payer.
    /// @return The timestamp.
    function flaggedAt(address payer) external view returns (uint256);

    /// @notice The voucher's id: the EIP-712 digest of `voucher` in this vault's domain ("OfflineVault", "1").
    /// @param voucher The voucher.
    /// @return The digest the payer signs.
    function hashVoucher(Voucher calldata voucher) external view returns (bytes32);

    /// @notice The EIP-712 domain separator.
    /// @return The separator.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32);
}
