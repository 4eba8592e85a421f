import { getAddress, isCallException, type ContractTransactionReceipt, type Signer } from "ethers";

import { systemClock, type Clock } from "../chain/clock.js";
import { Poller } from "../chain/poller.js";
import { mayRetry, retryDelay, type RetryPolicy } from "../chain/retry.js";
import { BankChainError, messageOf } from "../errors.js";
import { mined } from "../chain/receipts.js";
import { errorInterface, errorNames, formatRevert, revertOf } from "../chain/reverts.js";
import { BankToken__factory, OfflineVault__factory } from "../../typechain-types/index.js";
import { guardedLog, type OfflineLog } from "./log.js";
import type { MerchantStore, StoredVoucher, VoucherState } from "./merchant-store.js";
import { kindOf } from "./voucher-kinds.js";

/**
 * Store and forward: submits the merchant's pending vouchers when the RPC is
 * reachable and records each outcome.
 *
 * Crash safety. A voucher is marked `submitting` (attempts + 1) in a committed
 * transaction before its transaction is sent, and the transaction hash is
 * recorded as soon as the node returns it. A `submitting` voucher is never
 * sent again blindly: first the receipt of its recorded transaction is read,
 * else the chain is asked (`redeemedAt(payer, lane, sequence)` equal to our
 * hash → settled; `isPaid` → compensated; for an unsecured voucher
 * `authorizationState(from, nonce)`), and only a voucher the chain does not
 * know goes back to `pending`. So a kill at any moment loses no voucher and
 * pays none twice (a resend after an unknown broadcast is refused by the chain
 * as `AlreadyRedeemed` or a used authorization, and recorded as such).
 *
 * Owed compensation. When the vault compensates a voucher of a flagged payer
 * in part (its locked funds or epoch budget ran short, or an account is
 * frozen), the voucher is recorded `owed` with what is still owed, and later
 * passes call `claimOwed` for it (with back-off, without an attempt limit)
 * until the vault has paid it all. A claim needs no `submitting` step: the
 * vault keeps what is owed, so a repeated or a lost claim pays nothing twice.
 */
export class OfflineSyncError extends BankChainError {}

export interface SyncOptions {
  readonly store: MerchantStore;
  /** Sends the transactions (any funded key for secured vouchers; the merchant itself for unsecured ones). */
  readonly signer: Signer;
  /** Vouchers per `redeemBatch`; default 20. */
  readonly batchSize?: number;
  /**
   * When a voucher is tried again after a network failure or a transient
   * refusal, and after how many attempts such a voucher is recorded `rejected`;
   * default `SYNC_RETRY` (2 s doubling to 5 minutes, 8 attempts).
   */
  readonly retry?: RetryPolicy;
  /** How often `run` looks for vouchers that came due; default 250 ms. */
  readonly pollIntervalMs?: number;
  /** The merchant's clock, for due times and the deadline of `run`; default the system clock. */
  readonly clock?: Clock;
  readonly log?: OfflineLog;
  /** Test hooks to simulate a crash at the dangerous points (throw to "die" there). */
  readonly hooks?: {
    readonly afterMarkSubmitting?: (hashes: readonly string[]) => void | Promise<void>;
    readonly afterSend?: (txHash: string) => void | Promise<void>;
  };
}

/** What happened to one voucher in a pass. */
export interface SyncOutcome {
  readonly hash: string;
  readonly kind: "secured" | "unsecured";
  readonly state: VoucherState;
  readonly reason: string | undefined;
  readonly paid: bigint | undefined;
  /** What the vault still owes for it (state `owed`). */
  readonly owed: bigint | undefined;
  readonly txHash: string | undefined;
}

/**
 * Gas sent with a `redeemBatch` of n vouchers: BASE + PER_VOUCHER × n. The
 * vault redeems each voucher in a `try` and records a refusal instead of
 * reverting, so a node's gas estimate (the least gas at which the whole
 * transaction succeeds) is not relied on: the vault starts an item only while
 * its `REDEEM_ITEM_GAS` (300,000) and a reserve (about 45,000) are left, and
 * reverts the whole batch (`VaultBatchGasExhausted`) otherwise. A voucher
 * costs about 210,000 gas at most (a conflict that flags its payer and records
 * a shortfall owed to a new holder), so PER_VOUCHER leaves every item its full
 * share and BASE covers the transaction's own cost.
 */
const REDEEM_GAS_BASE = 150_000n;
const REDEEM_GAS_PER_VOUCHER = 300_000n;

/** Refusals that may pass with time: retried, not recorded as final. */
const TRANSIENT = errorNames([...OfflineVault__factory.abi, ...BankToken__factory.abi] as const, [
  "VoucherNotYetValid",
  "SequenceGap",
  "BankTokenAuthorizationNotYetValid",
  "VaultAccountFrozen",
  "BankTokenFrozen",
  // A broken chain may become compensable: once another merchant proves the payer's double spend, a voucher
  // dated before the flag is paid out of its lane.
  "BrokenChain",
]);
/** The vault's and the token's custom errors, for decoding refusals. */
const SYNC_ERRORS = errorInterface([OfflineVault__factory.abi, BankToken__factory.abi]);

/** The default retry schedule of a voucher: 2 s, doubling, at most 5 minutes apart, 8 attempts in all. */
export const SYNC_RETRY: RetryPolicy = { baseMs: 2_000, maxMs: 300_000, factor: 2, maxAttempts: 8 };

export class VoucherSync {
  readonly #store: MerchantStore;
  readonly #signer: Signer;
  readonly #batchSize: number;
  readonly #retry: RetryPolicy;
  readonly #pollIntervalMs: number;
  readonly #clock: Clock;
  readonly #log: OfflineLog;
  readonly #hooks: NonNullable<SyncOptions["hooks"]>;

  constructor(options: SyncOptions) {
    if (options.signer.provider === null) {
      throw new OfflineSyncError("OFFLINE_SYNC_NO_PROVIDER", "the sync signer must be connected to a provider");
    }
    this.#store = options.store;
    this.#signer = options.signer;
    this.#batchSize = Math.max(1, options.batchSize ?? 20);
    this.#retry = options.retry ?? SYNC_RETRY;
    this.#pollIntervalMs = options.pollIntervalMs ?? 250;
    this.#clock = options.clock ?? systemClock;
    this.#log = guardedLog(options.log);
    this.#hooks = options.hooks ?? {};
  }

  /**
   * One pass: resolves every due `submitting` voucher against the chain, then
   * submits the due `pending` ones. Returns the outcome of every voucher it
   * touched. A network failure leaves the vouchers for a later pass (back-off).
   */
  async runOnce(): Promise<SyncOutcome[]> {
    const outcomes: SyncOutcome[] = [];
    const now = this.#clock.now();
    for (const v of this.#store.inState("submitting").filter((x) => x.nextAttemptAt <= now)) {
      try {
        await this.#recover(v);
      } catch (error) {
        this.#defer([v], error);
      }
      outcomes.push(this.#outcome(v.hash));
    }
    const due = this.#store.inState("pending").filter((x) => x.nextAttemptAt <= this.#clock.now());
    const secured = due
      .filter((x) => x.kind === "secured")
      .sort((a, b) =>
        a.contract !== b.contract
          ? a.contract.localeCompare(b.contract)
          : a.payer !== b.payer
            ? a.payer.localeCompare(b.payer)
            : a.lane !== b.lane
              ? a.lane! < b.lane!
                ? -1
                : 1
              : a.sequence! < b.sequence!
                ? -1
                : 1,
      );
    for (const vault of new Set(secured.map((x) => x.contract))) {
      const batch = secured.filter((x) => x.contract === vault);
      for (let i = 0; i < batch.length; i += this.#batchSize) {
        const part = batch.slice(i, i + this.#batchSize);
        await this.#submitBatch(vault, part);
        for (const v of part) outcomes.push(this.#outcome(v.hash));
      }
    }
    for (const v of due.filter((x) => x.kind === "unsecured")) {
      await this.#submitUnsecured(v);
      outcomes.push(this.#outcome(v.hash));
    }
    for (const v of this.#store.inState("owed").filter((x) => x.nextAttemptAt <= this.#clock.now())) {
      await this.#claimOwed(v);
      outcomes.push(this.#outcome(v.hash));
    }
    // A recovered voucher that went back to pending was sent again in this pass: report its last state once.
    return [...new Map(outcomes.map((o) => [o.hash, o])).values()];
  }

  /**
   * Passes on a `Poller` until nothing is pending or submitting, or `deadlineMs`
   * (merchant clock) passes, or the next voucher comes due after it. A pass
   * that throws ends the run with its error.
   */
  async run(deadlineMs: number): Promise<SyncOutcome[]> {
    const latest = new Map<string, SyncOutcome>();
    let finish!: (error?: unknown) => void;
    const finished = new Promise<void>((resolve, reject) => {
      finish = (error) => (error === undefined ? resolve() : reject(error));
    });
    const poller = new Poller({
      intervalMs: this.#pollIntervalMs,
      tick: async () => {
        for (const o of await this.runOnce()) latest.set(o.hash, o);
        const open = [...this.#store.inState("pending"), ...this.#store.inState("submitting")];
        if (this.#settledFor(open, deadlineMs)) finish();
        return false;
      },
      isFatal: () => true,
      onError: (error) => finish(error),
    });
    poller.start();
    try {
      await finished;
    } finally {
      await poller.stop();
    }
    return [...latest.values()];
  }

  /** Whether `run` is done: nothing open, its deadline passed, or nothing comes due before it. */
  #settledFor(open: readonly StoredVoucher[], deadlineMs: number): boolean {
    if (open.length === 0) return true;
    const next = Math.min(...open.map((x) => x.nextAttemptAt));
    return next > deadlineMs || this.#clock.now() >= deadlineMs;
  }

  #outcome(hash: string): SyncOutcome {
    const v = this.#store.voucher(hash);
    if (v === undefined) throw new OfflineSyncError("OFFLINE_SYNC_LOST", `voucher ${hash} vanished from the store`);
    return { hash, kind: v.kind, state: v.state, reason: v.reason, paid: v.paid, owed: v.owed, txHash: v.txHash };
  }

  /** The delay before the next attempt of a voucher tried `attempts` times. */
  #delay(attempts: number): number {
    return retryDelay(this.#retry, Math.max(1, attempts));
  }

  /** Leaves `vouchers` in their state (pending or submitting) for a later pass. */
  #defer(vouchers: readonly StoredVoucher[], error: unknown): void {
    const now = this.#clock.now();
    this.#store.store.transaction(() => {
      for (const v of vouchers) {
        const current = this.#store.voucher(v.hash);
        if (current === undefined || (current.state !== "pending" && current.state !== "submitting")) continue;
        this.#store.update(v.hash, current.state, now, {
          reason: `retry: ${messageOf(error)}`.slice(0, 300),
          nextAttemptAt: now + this.#delay(current.attempts),
        });
      }
    });
    this.#log("sync_deferred", { vouchers: vouchers.length, error: messageOf(error) });
  }

  #markSubmitting(vouchers: readonly StoredVoucher[]): void {
    const now = this.#clock.now();
    this.#store.store.transaction(() => {
      for (const v of vouchers) {
        this.#store.update(v.hash, "submitting", now, { attempts: v.attempts + 1, nextAttemptAt: now, txHash: null });
      }
    });
  }

  #setTxHash(vouchers: readonly StoredVoucher[], txHash: string): void {
    const now = this.#clock.now();
    this.#store.store.transaction(() => {
      for (const v of vouchers) this.#store.update(v.hash, "submitting", now, { txHash });
    });
  }

  #finish(
    hash: string,
    state: VoucherState,
    fields: { reason?: string | null; paid?: bigint | null; owed?: bigint | null } = {},
  ): void {
    const now = this.#clock.now();
    // An owed voucher is claimed on a later pass.
    const next = state === "owed" ? { nextAttemptAt: now + this.#delay(1) } : {};
    this.#store.update(hash, state, now, { ...fields, ...next });
    this.#log("voucher_" + state, { hash, ...fields, paid: fields.paid?.toString(), owed: fields.owed?.toString() });
  }

  async #submitBatch(vaultAddress: string, vouchers: readonly StoredVoucher[]): Promise<void> {
    const vault = OfflineVault__factory.connect(vaultAddress, this.#signer);
    this.#markSubmitting(vouchers);
    try {
      await this.#hooks.afterMarkSubmitting?.(vouchers.map((v) => v.hash));
      const tx = await vault.redeemBatch(
        vouchers.map((v) => ({
          payer: v.payer,
          merchant: v.merchant,
          amount: v.amount,
          lane: v.lane!,
          sequence: v.sequence!,
          previousVoucherHash: v.previousHash!,
          validAfter: v.validAfter,
          validBefore: v.validBefore,
        })),
        vouchers.map((v) => v.signature),
        { gasLimit: REDEEM_GAS_BASE + REDEEM_GAS_PER_VOUCHER * BigInt(vouchers.length) },
      );
      this.#setTxHash(vouchers, tx.hash);
      await this.#hooks.afterSend?.(tx.hash);
      const receipt = await mined(tx);
      this.#applyVaultReceipt(vouchers, receipt);
    } catch (error) {
      if (isCallException(error)) {
        // The whole batch reverted (it should not: each voucher runs in its own self-call). Retry later.
        this.#backToPending(vouchers, `batch reverted: ${messageOf(error)}`);
      } else {
        this.#defer(vouchers, error);
      }
    }
  }

  #backToPending(vouchers: readonly StoredVoucher[], reason: string): void {
    const now = this.#clock.now();
    this.#store.store.transaction(() => {
      for (const v of vouchers) {
        const current = this.#store.voucher(v.hash);
        if (current === undefined) continue;
        if (!mayRetry(this.#retry, current.attempts)) {
          this.#store.update(v.hash, "rejected", now, { reason: reason.slice(0, 300) });
        } else {
          this.#store.update(v.hash, "pending", now, {
            reason: reason.slice(0, 300),
            nextAttemptAt: now + this.#delay(current.attempts),
          });
        }
      }
    });
  }

  /** Records the outcome of each voucher of a mined `redeemBatch` from its events. */
  #applyVaultReceipt(
    vouchers: readonly StoredVoucher[],
    receipt: ContractTransactionReceipt | { logs: readonly unknown[] },
  ): void {
    const iface = OfflineVault__factory.createInterface();
    const outcomes = new Map<
      string,
      { state: VoucherState; reason?: string; paid?: bigint; owed?: bigint; retry?: boolean }
    >();
    const owedBy = new Map<string, bigint>();
    for (const log of receipt.logs as readonly { topics: readonly string[]; data: string }[]) {
      let parsed;
      try {
        parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
      } catch {
        continue;
      }
      if (parsed === null) continue;
      if (parsed.name === "VoucherRedeemed") {
        const hash = String(parsed.args[0]).toLowerCase();
        outcomes.set(hash, { state: "settled", paid: parsed.args[5] as bigint });
      } else if (parsed.name === "VoucherRejected") {
        const hash = String(parsed.args[0]).toLowerCase();
        const reason = decodeError(String(parsed.args[1]));
        if (reason.name === "AlreadyRedeemed") outcomes.set(hash, { state: "already_settled", reason: reason.text });
        else outcomes.set(hash, { state: "rejected", reason: reason.text, retry: TRANSIENT.has(reason.name) });
      } else if (parsed.name === "DoubleSpendSlashed") {
        const hashA = String(parsed.args[3]).toLowerCase();
        const hashB = String(parsed.args[4]).toLowerCase();
        const paidA = parsed.args[6] as bigint;
        const paidB = parsed.args[8] as bigint;
        const reason = `DoubleSpendSlashed: payer ${String(parsed.args[0])} signed two vouchers for sequence ${String(parsed.args[2])}`;
        outcomes.set(hashB, { state: "slashed", reason, paid: paidB });
        if (paidA > 0n) outcomes.set(hashA, { state: "slashed", reason, paid: paidA });
      } else if (parsed.name === "VoucherCompensated") {
        const hash = String(parsed.args[0]).toLowerCase();
        const reason = `VoucherCompensated: payer ${String(parsed.args[1])} was flagged a cheater; sequence ${String(parsed.args[4])} was paid out of its lane`;
        outcomes.set(hash, { state: "slashed", reason, paid: parsed.args[5] as bigint });
      } else if (parsed.name === "CompensationOwed") {
        owedBy.set(String(parsed.args[0]).toLowerCase(), parsed.args[3] as bigint);
      }
    }
    for (const [hash, owed] of owedBy) {
      const o = outcomes.get(hash);
      outcomes.set(hash, {
        state: "owed",
        reason: `${o?.reason ?? "compensated"}; ${owed} owed`,
        paid: o?.paid ?? 0n,
        owed,
      });
    }
    const now = this.#clock.now();
    this.#store.store.transaction(() => {
      for (const v of vouchers) {
        const o = outcomes.get(v.hash);
        if (o === undefined) {
          // Mined without a word about this voucher: ask the chain on the next pass.
          this.#store.update(v.hash, "submitting", now, { nextAttemptAt: now });
          continue;
        }
        if (o.retry === true && mayRetry(this.#retry, v.attempts + 1)) {
          this.#store.update(v.hash, "pending", now, {
            reason: o.reason ?? null,
            nextAttemptAt: now + this.#delay(v.attempts + 1),
          });
          continue;
        }
        this.#store.update(v.hash, o.state, now, {
          reason: o.reason ?? null,
          paid: o.paid ?? null,
          owed: o.owed ?? null,
          ...(o.state === "owed" ? { nextAttemptAt: now + this.#delay(1) } : {}),
        });
        this.#log("voucher_" + o.state, {
          hash: v.hash,
          reason: o.reason,
          paid: o.paid?.toString(),
          owed: o.owed?.toString(),
        });
      }
    });
  }

  async #submitUnsecured(v: StoredVoucher): Promise<void> {
    const sender = getAddress(await this.#signer.getAddress());
    if (sender !== getAddress(v.merchant)) {
      this.#defer(
        [v],
        new Error(`an unsecured voucher can only be pulled by its merchant ${v.merchant}, not ${sender}`),
      );
      return;
    }
    const token = BankToken__factory.connect(v.contract, this.#signer);
    this.#markSubmitting([v]);
    try {
      await this.#hooks.afterMarkSubmitting?.([v.hash]);
      const tx = await token["receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"](
        v.payer,
        v.merchant,
        v.amount,
        v.validAfter,
        v.validBefore,
        v.nonce!,
        v.signature,
      );
      this.#setTxHash([v], tx.hash);
      await this.#hooks.afterSend?.(tx.hash);
      await mined(tx);
      this.#finish(v.hash, "settled", { paid: v.amount, reason: null });
    } catch (error) {
      if (isCallException(error)) {
        const reason = decodeError(error.data ?? "0x");
        if (TRANSIENT.has(reason.name) && mayRetry(this.#retry, v.attempts + 1)) {
          this.#backToPending([v], reason.text);
        } else {
          this.#finish(v.hash, "rejected", { reason: reason.text });
        }
      } else {
        this.#defer([v], error);
      }
    }
  }

  /**
   * Claims what the vault owes for an `owed` voucher. Paid in full → `slashed`
   * (compensated); in part, or refused for now (`VaultOwedUnpayable`: the
   * payer's budget or funds; `VaultAccountFrozen`) → stays `owed`, tried again
   * after a back-off; `VaultNothingOwed` → someone else claimed it (the vault
   * pays the merchant whoever calls) → `slashed`.
   */
  async #claimOwed(v: StoredVoucher): Promise<void> {
    const vault = OfflineVault__factory.connect(v.contract, this.#signer);
    const owed = v.owed ?? 0n;
    const paid = v.paid ?? 0n;
    const again = (reason: string | null, fields: { paid?: bigint; owed?: bigint } = {}): void => {
      const now = this.#clock.now();
      this.#store.update(v.hash, "owed", now, {
        ...fields,
        ...(reason === null ? {} : { reason: reason.slice(0, 300) }),
        attempts: v.attempts + 1,
        nextAttemptAt: now + this.#delay(v.attempts + 1),
      });
    };
    try {
      const receipt = await mined(await vault.claimOwed(v.hash));
      const iface = vault.interface;
      let claimed = 0n;
      let stillOwed = owed;
      for (const log of receipt.logs) {
        const parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
        if (parsed?.name === "OwedClaimed" && String(parsed.args[0]).toLowerCase() === v.hash) {
          claimed = parsed.args[3] as bigint;
          stillOwed = parsed.args[4] as bigint;
        }
      }
      if (stillOwed === 0n) {
        this.#finish(v.hash, "slashed", {
          paid: paid + claimed,
          owed: null,
          reason: "compensation owed, claimed in full",
        });
      } else {
        again(`${stillOwed} still owed`, { paid: paid + claimed, owed: stillOwed });
        this.#log("owed_claimed", { hash: v.hash, claimed: claimed.toString(), owed: stillOwed.toString() });
      }
    } catch (error) {
      // A refusal may come from the node's gas estimate (a JSON-RPC error) as well as from a mined revert.
      const revert = revertOf(error, SYNC_ERRORS);
      if (revert === undefined) {
        again(`retry: ${messageOf(error)}`);
        this.#log("sync_deferred", { vouchers: 1, error: messageOf(error) });
        return;
      }
      if (revert.name === "VaultNothingOwed") {
        this.#finish(v.hash, "slashed", {
          paid: paid + owed,
          owed: null,
          reason: "compensation owed, claimed by another caller",
        });
      } else {
        again(revert.name === "" ? `unknown revert` : formatRevert(revert));
      }
    }
  }

  /** Resolves a `submitting` voucher: from its transaction's receipt if there is one, else from chain state. */
  async #recover(v: StoredVoucher): Promise<void> {
    const provider = this.#signer.provider!;
    if (v.txHash !== undefined) {
      const receipt = await provider.getTransactionReceipt(v.txHash);
      if (receipt !== null) {
        if (receipt.status === 1) {
          if (v.kind === "secured") this.#applyVaultReceipt([v], receipt);
          else this.#finish(v.hash, "settled", { paid: v.amount, reason: null });
          if (this.#store.voucher(v.hash)?.state !== "submitting") return;
        }
      } else if ((await provider.getTransaction(v.txHash)) !== null) {
        // Still in the mempool: wait for it on a later pass.
        this.#defer([v], new Error(`transaction ${v.txHash} not mined yet`));
        return;
      }
    }
    const found = await kindOf(v.kind).findOnChain(v, provider);
    if (found !== undefined) {
      this.#finish(v.hash, found.state, { paid: found.paid, owed: found.owed ?? null, reason: found.reason });
      return;
    }
    // Not on chain: send it again.
    this.#store.update(v.hash, "pending", this.#clock.now(), { nextAttemptAt: 0 });
  }
}

/** The name and a one-line form of a custom error of the vault or the token. */
export function decodeError(data: string): { name: string; text: string } {
  const revert = revertOf({ data }, SYNC_ERRORS);
  if (revert === undefined || revert.name === "")
    return { name: "unknown", text: `unknown revert ${data.slice(0, 74)}` };
  return { name: revert.name, text: formatRevert(revert) };
}
