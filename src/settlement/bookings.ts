/**
 * What each step of an interbank payment means for a bank's books. Every
 * method here is synchronous and only writes SQLite (the core ledger, the
 * payment records and the outbox), so that it runs inside one transaction:
 * the acceptance of a payment with its customer debit, or a confirmed chain
 * event together with the event follower's checkpoint.
 *
 * Postings (debit / credit), keyed `<direction>:<end-to-end id>:<step>`:
 *
 * | bank | step | when | debit | credit |
 * |---|---|---|---|---|
 * | A | debit | `POST /payments` accepted | customer | trust |
 * | A | acknowledge | `SettlementAcknowledged` | trust | due-to:B |
 * | A | return | `SettlementReturned` | trust | customer |
 * | A | refund | `SettlementRefunded` | trust | customer |
 * | A | reversal | initiate refused on chain | trust | customer |
 * | B | credit | `SettlementInitiated` to an open account | suspense | beneficiary |
 * | B | smelt | `SettlementSmelted` | due-from:A | suspense |
 * | B | reversal | `SettlementRefunded` after a credit | beneficiary | suspense |
 */
import { getAddress, type EventFragment } from "ethers";

import type { FollowedLog } from "../chain/events.js";
import { loggerOf, type Logger } from "../chain/log.js";
import { checksummed } from "../chain/raw-reads.js";
import type { Store } from "../store/store.js";
import { IInterbankSettlement__factory } from "../../typechain-types/index.js";
import type { PaymentRequest } from "./api.js";
import type { AccountSpec, CoreLedger } from "./core-ledger.js";
import { paymentKey, type BankRef, type OutboxRow, type PaymentRecord, type PaymentStore } from "./payments.js";
import {
  accountRefOf,
  endToEndIdOf,
  reasonTextOf,
  REJECT_REASONS,
  sameTerms,
  type RejectReason,
  type SettlementTerms,
} from "./terms.js";

/** Internal accounts of the core ledger. */
export const INTERNAL = {
  /** The bank's own money (central-bank reserves): where customer deposits come from. */
  cash: "internal:cash",
  /** Fiat set aside in the bank's trust account, backing tokens in flight. */
  trust: "internal:trust",
  /** Credited to a beneficiary, tokens not yet smelted. */
  suspense: "internal:suspense",
  dueTo: (bank: string) => `internal:due-to:${bank}`,
  dueFrom: (bank: string) => `internal:due-from:${bank}`,
} as const;

/** The settlement's events, for parsing logs. */
export const SETTLEMENT_EVENTS = IInterbankSettlement__factory.createInterface();

/** A decoded event's arguments by name (the part of ethers' `Result` the bookkeeper uses). */
interface EventArgs {
  getValue(name: string): unknown;
}

/**
 * How to decode each settlement event, by topic, worked out once. Every event the agents follow has only
 * static arguments (ids, addresses, amounts, references), so each is read straight from its topic or its
 * 32-byte data word; ethers' `parseLog` hashed every event's signature again for each log and built a
 * `Result`, which was about a fifth of an agent's time under load. An event with a dynamic argument would go
 * through ethers' decoder.
 */
const EVENTS_BY_TOPIC: ReadonlyMap<string, { event: EventFragment; decode: (log: FollowedLog) => EventArgs }> = (() => {
  const word = (type: string, hex: string): unknown => {
    if (type === "address") return checksummed(`0x${hex.slice(24)}`);
    if (type === "bool") return BigInt(`0x${hex}`) !== 0n;
    if (/^u?int\d*$/.test(type))
      return type.startsWith("u") ? BigInt(`0x${hex}`) : BigInt.asIntN(256, BigInt(`0x${hex}`));
    return `0x${hex}`; // bytes32 and user types over it (SettlementId)
  };
  const events = new Map<string, { event: EventFragment; decode: (log: FollowedLog) => EventArgs }>();
  SETTLEMENT_EVENTS.forEachEvent((event) => {
    const isStatic = event.inputs.every((input) => /^(address|bool|u?int\d*|bytes32)$/.test(input.type));
    const decode = isStatic
      ? (log: FollowedLog): EventArgs => {
          const values = new Map<string, unknown>();
          let topic = 1;
          let offset = 2;
          for (const input of event.inputs) {
            if (input.indexed) values.set(input.name, word(input.type, log.topics[topic++]!.slice(2)));
            else {
              values.set(input.name, word(input.type, log.data.slice(offset, offset + 64)));
              offset += 64;
            }
          }
          return { getValue: (name) => values.get(name) };
        }
      : (log: FollowedLog): EventArgs => SETTLEMENT_EVENTS.decodeEventLog(event, log.data, log.topics);
    events.set(event.topicHash, { event, decode });
  });
  return events;
})();

/** A settlement log's event name and arguments, or null for another contract's event. */
export function parseSettlementLog(log: FollowedLog): { name: string; args: EventArgs } | null {
  const known = EVENTS_BY_TOPIC.get(log.topics[0]?.toLowerCase() ?? "");
  if (known === undefined) return null;
  return { name: known.event.name, args: known.decode(log) };
}

/** The events a bank agent follows. */
export const FOLLOWED_EVENTS = [
  "SettlementInitiated",
  "SettlementSmelted",
  "SettlementAcknowledged",
  "SettlementRejected",
  "SettlementReturned",
  "SettlementRefunded",
] as const;

export interface BookkeeperOptions {
  readonly store: Store;
  readonly ledger: CoreLedger;
  readonly payments: PaymentStore;
  /** This bank's directory id and trust account. */
  readonly bank: BankRef;
  /** Every bank, by directory id and trust account. */
  readonly banks: readonly BankRef[];
  readonly currency: string;
  readonly log: (line: string) => void;
  /** Told, inside the transaction, of each event applied to a payment (`event:<Event>`). */
  readonly onApplied: (point: string, paymentId: string) => void;
}

export class Bookkeeper {
  readonly #store: Store;
  readonly #ledger: CoreLedger;
  readonly #payments: PaymentStore;
  readonly #bankId: string;
  readonly #me: string;
  readonly #banks: readonly BankRef[];
  readonly #currency: string;
  readonly #log: (line: string) => void;
  /** For warnings: what the chain did to this bank's payments that this agent did not send. */
  readonly #logger: Logger;
  readonly #onApplied: (point: string, paymentId: string) => void;
  /** Banks whose due-to and due-from accounts are open and committed here. */
  readonly #interbankOpen = new Set<string>();

  constructor(options: BookkeeperOptions) {
    this.#store = options.store;
    this.#ledger = options.ledger;
    this.#payments = options.payments;
    this.#bankId = options.bank.id;
    this.#me = getAddress(options.bank.address);
    this.#banks = options.banks.map((bank) => ({ id: bank.id, address: getAddress(bank.address) }));
    this.#currency = options.currency;
    this.#log = options.log;
    this.#logger = loggerOf(options.log);
    this.#onApplied = options.onApplied;
    this.#openInternalAccounts();
  }

  /**
   * Opens a customer account, funded with `deposit` from the bank's cash
   * (an idempotent posting: opening it again changes nothing).
   */
  openCustomerAccount(spec: {
    readonly id: string;
    readonly name: string;
    readonly deposit?: bigint;
    readonly status?: "active" | "closed" | "blocked";
  }): void {
    this.#store.transaction(() => {
      this.#ledger.openAccount({
        id: spec.id,
        name: spec.name,
        kind: "liability",
        category: "customer",
        ref: accountRefOf(spec.id),
        ...(spec.status === undefined ? {} : { status: spec.status }),
      });
      if (spec.deposit !== undefined && spec.deposit > 0n) {
        this.#ledger.transfer({
          key: `opening-deposit:${spec.id}`,
          step: "opening-deposit",
          memo: `opening deposit of ${spec.id}`,
          debit: INTERNAL.cash,
          credit: spec.id,
          amount: spec.deposit,
        });
      }
    });
  }

  /**
   * Records an accepted payment order: the payment, the customer debit (customer → trust) and the
   * `initiate` intent, in one transaction.
   * @throws LedgerInsufficientFundsError if the customer no longer holds the amount; PaymentStoreError
   *         `PAYMENT_EXISTS` if the end-to-end id was taken meanwhile.
   */
  accept(request: PaymentRequest, terms: SettlementTerms, creditor: BankRef): void {
    const key = paymentKey("outbound", request.endToEndId);
    this.#store.transaction(() => {
      this.#payments.insert({
        direction: "outbound",
        id: request.endToEndId,
        terms,
        debtorBank: { id: this.#bankId, address: this.#me },
        creditorBank: creditor,
        debtorAccount: request.debtorAccount,
        creditorAccount: request.creditorAccount,
        currency: this.#currency,
        debtorLeg: "Debited",
        creditorLeg: "Pending",
        note: `accepted: ${request.debtorAccount} debited ${terms.amount}, trust account credited`,
      });
      this.#ledger.transfer({
        key: `${key}:debit`,
        payment: key,
        step: "debit",
        memo: `payment ${request.endToEndId} to ${creditor.id}/${request.creditorAccount}`,
        debit: request.debtorAccount,
        credit: INTERNAL.trust,
        amount: terms.amount,
      });
      this.#payments.enqueue("outbound", request.endToEndId, "initiate");
    });
  }

  /**
   * Notes an event applied to a payment: `apply:<Event>` goes to `onStep` at once, inside the follower's
   * transaction (a crash there rolls the event back), `event:<Event>` once it is committed.
   */
  #warn(paymentId: string, line: string): void {
    this.#logger.child({ paymentId }).warn(line);
  }

  #appliedEvent(point: string, paymentId: string): void {
    this.#onApplied(point, paymentId);
  }

  /** Applies one confirmed settlement event. Synchronous: it runs in the follower's transaction. */
  apply(log: FollowedLog): void {
    const parsed = parseSettlementLog(log);
    if (parsed === null) return;
    const args = parsed.args;
    const id = args.getValue("id") as string;
    const tx = log.transactionHash;
    switch (parsed.name) {
      case "SettlementInitiated": {
        const terms: SettlementTerms = {
          id,
          debtorBank: args.getValue("debtorBank") as string,
          creditorBank: args.getValue("creditorBank") as string,
          amount: args.getValue("amount") as bigint,
          creditorAccountRef: args.getValue("creditorAccountRef") as string,
          deadline: Number(args.getValue("deadline") as bigint),
        };
        if (terms.debtorBank === this.#me) this.#outboundInitiated(terms, tx);
        if (terms.creditorBank === this.#me) this.#inboundInitiated(terms, tx);
        return;
      }
      case "SettlementSmelted": {
        const debtorBank = args.getValue("debtorBank") as string;
        if (debtorBank === this.#me) this.#outboundSmelted(id, tx);
        if ((args.getValue("creditorBank") as string) === this.#me) this.#inboundSmelted(debtorBank, id, tx);
        return;
      }
      case "SettlementAcknowledged": {
        const debtorBank = args.getValue("debtorBank") as string;
        if (debtorBank === this.#me) this.#outboundAcknowledged(id, tx);
        else this.#inboundClosed(debtorBank, id, "Acknowledged", tx);
        return;
      }
      case "SettlementRejected": {
        const debtorBank = args.getValue("debtorBank") as string;
        const creditorBank = args.getValue("creditorBank") as string;
        if (creditorBank === this.#me) this.#inboundRejected(debtorBank, id, tx);
        if (debtorBank === this.#me)
          this.#outboundRejected(id, creditorBank, args.getValue("reasonCode") as string, tx);
        return;
      }
      case "SettlementReturned": {
        const debtorBank = args.getValue("debtorBank") as string;
        if (debtorBank === this.#me) this.#outboundTakenBack(id, "return", tx);
        else this.#inboundClosed(debtorBank, id, "Returned", tx);
        return;
      }
      case "SettlementRefunded": {
        const debtorBank = args.getValue("debtorBank") as string;
        if (debtorBank === this.#me) this.#outboundTakenBack(id, "refund", tx);
        else this.#inboundClosed(debtorBank, id, "Refunded", tx);
        return;
      }
      default:
        return;
    }
  }

  /** This bank's outbound payment with `settlementId` (ids are scoped by debtor bank: this one). */
  #outbound(settlementId: string, event: string): PaymentRecord | undefined {
    const payment = this.#payments.bySettlementId("outbound", this.#me, settlementId);
    if (payment === undefined) this.#log(`${event} for ${settlementId}: no such outbound payment here; ignored`);
    return payment;
  }

  /**
   * This bank's outbound payment `settlementId`, if it is on chain as this agent initiated it: the events after
   * `SettlementInitiated` name the id only, and a settlement under the id with other terms (this bank's key used
   * elsewhere) never moved the payment to `Initiated`.
   */
  #outboundOnChain(settlementId: string, event: string): PaymentRecord | undefined {
    const payment = this.#outbound(settlementId, event);
    if (payment === undefined || payment.debtorLeg === "Initiated") return payment;
    this.#warn(
      payment.id,
      `${event} for ${payment.id}: the payment is ${payment.debtorLeg}, not initiated here; ignored`,
    );
    return undefined;
  }

  #outboundInitiated(terms: SettlementTerms, tx: string): void {
    const payment = this.#outbound(terms.id, "SettlementInitiated");
    if (payment === undefined) return;
    if (!sameTerms(terms, payment.terms)) {
      // Initiated with this bank's key but not by this agent: not this payment, whose own initiate will fail.
      this.#warn(
        payment.id,
        `SettlementInitiated for ${payment.id} with other terms than the payment's (this bank's key used elsewhere?); ignored`,
      );
      return;
    }
    this.#payments.doneByStep("outbound", payment.id, "initiate", tx);
    if (payment.debtorLeg === "Failed") {
      this.#lateInitiated(payment, tx);
      return;
    }
    if (payment.debtorLeg !== "Debited") return;
    this.#payments.move(payment, {
      debtorLeg: "Initiated",
      creditorLeg: payment.creditorLeg === "Pending" ? "Delivered" : payment.creditorLeg,
      note: "initiated on chain: tokens minted and held for the creditor bank",
      tx,
    });
    this.#appliedEvent("event:SettlementInitiated", payment.id);
  }

  /**
   * An initiate of a payment this agent gave up (its customer re-credited) landed after all: on a network of several
   * nodes a transaction its node evicted can be mined from another's pool. The tokens are held for the creditor bank,
   * which will credit its customer: the payment goes through, so the customer is debited again (into overdraft if
   * the re-credit was spent meanwhile, as B's reversal does) and the payment goes on as initiated.
   */
  #lateInitiated(payment: PaymentRecord, tx: string): void {
    const key = paymentKey("outbound", payment.id);
    this.#ledger.transfer({
      key: `${key}:late-debit`,
      payment: key,
      step: "late-debit",
      memo: `payment ${payment.id} initiated on chain after it was given up: ${payment.debtorAccount} debited again`,
      debit: payment.debtorAccount!,
      credit: INTERNAL.trust,
      amount: payment.terms.amount,
      allowOverdraft: true,
    });
    this.#payments.move(payment, {
      debtorLeg: "Initiated",
      creditorLeg: "Delivered",
      reason: null,
      note: `initiated on chain after it was given up: ${payment.debtorAccount} debited again`,
      tx,
    });
    this.#warn(
      payment.id,
      `SettlementInitiated for ${payment.id} after it was given up: ${payment.debtorAccount} debited again`,
    );
    this.#appliedEvent("event:SettlementInitiated", payment.id);
  }

  #outboundSmelted(settlementId: string, tx: string): void {
    const payment = this.#outboundOnChain(settlementId, "SettlementSmelted");
    if (payment === undefined) return;
    this.#payments.move(payment, {
      creditorLeg: "Smelted",
      note: "the creditor bank credited its customer and smelted the tokens; acknowledgement due",
      tx,
    });
    this.#payments.enqueue("outbound", payment.id, "acknowledge");
    this.#appliedEvent("event:SettlementSmelted", payment.id);
  }

  #outboundAcknowledged(settlementId: string, tx: string): void {
    const payment = this.#outboundOnChain(settlementId, "SettlementAcknowledged");
    if (payment === undefined) return;
    const key = paymentKey("outbound", payment.id);
    const creditor = this.bankRef(payment.terms.creditorBank);
    this.#ensureInterbankAccounts(creditor.id);
    this.#ledger.transfer({
      key: `${key}:acknowledge`,
      payment: key,
      step: "acknowledge",
      memo: `payment ${payment.id} settled: now owed to bank ${creditor.id}`,
      debit: INTERNAL.trust,
      credit: INTERNAL.dueTo(creditor.id),
      amount: payment.terms.amount,
    });
    this.#payments.doneByStep("outbound", payment.id, "acknowledge", tx);
    this.#payments.move(payment, {
      debtorLeg: "Acknowledged",
      creditorLeg: "Smelted",
      note: "acknowledged on chain: settled",
      tx,
    });
    this.#appliedEvent("event:SettlementAcknowledged", payment.id);
  }

  #outboundRejected(settlementId: string, creditorBank: string, reasonCode: string, tx: string): void {
    const payment = this.#payments.bySettlementId("outbound", this.#me, settlementId);
    // Only a payment of ours that is on chain: a local one that never got there may share the id.
    if (
      payment === undefined ||
      payment.debtorLeg !== "Initiated" ||
      checksummed(creditorBank) !== payment.terms.creditorBank
    ) {
      return;
    }
    const reason = reasonTextOf(reasonCode);
    this.#payments.move(payment, {
      creditorLeg: "Rejected",
      reason,
      note: `rejected by the creditor bank (${reason}); return due`,
      tx,
    });
    this.#payments.enqueue("outbound", payment.id, "return");
    this.#appliedEvent("event:SettlementRejected", payment.id);
  }

  #outboundTakenBack(settlementId: string, step: "return" | "refund", tx: string): void {
    const event = step === "return" ? "SettlementReturned" : "SettlementRefunded";
    const payment = this.#outboundOnChain(settlementId, event);
    if (payment === undefined) return;
    const key = paymentKey("outbound", payment.id);
    this.#ledger.transfer({
      key: `${key}:${step}`,
      payment: key,
      step,
      memo: `payment ${payment.id} ${step === "return" ? "returned after rejection" : "refunded after expiry"}`,
      debit: INTERNAL.trust,
      credit: payment.debtorAccount!,
      amount: payment.terms.amount,
    });
    this.#payments.doneByStep("outbound", payment.id, step, tx);
    this.#payments.move(payment, {
      debtorLeg: step === "return" ? "Returned" : "Refunded",
      creditorLeg: step === "return" ? "Rejected" : "Expired",
      note: `${step === "return" ? "returned" : "refunded"} on chain: ${payment.debtorAccount} re-credited`,
      tx,
    });
    this.#appliedEvent(`event:${event}`, payment.id);
  }

  #inboundInitiated(terms: SettlementTerms, tx: string): void {
    if (this.#inbound(terms.debtorBank, terms.id) !== undefined) return;
    const debtor = this.bankRef(terms.debtorBank);
    const id = this.#inboundId(terms.id, debtor);
    const account = this.#ledger.accountByRef(terms.creditorAccountRef);
    let reason: RejectReason | undefined;
    if (account === undefined || account.category !== "customer") reason = "AC01";
    else if (account.status === "closed") reason = "AC04";
    else if (account.status === "blocked") reason = "AC06";
    const base = {
      direction: "inbound" as const,
      id,
      terms,
      debtorBank: debtor,
      creditorBank: { id: this.#bankId, address: this.#me },
      debtorAccount: null,
      currency: this.#currency,
      debtorLeg: "Initiated" as const,
    };
    if (reason !== undefined) {
      this.#payments.insert({
        ...base,
        creditorAccount: account?.id ?? null,
        creditorLeg: "Rejecting",
        note: `received from bank ${debtor.id}; rejecting: ${reason} ${REJECT_REASONS[reason]}`,
      });
      this.#payments.update("inbound", id, { reason, note: "reject due", tx });
      this.#payments.enqueue("inbound", id, "reject");
      this.#appliedEvent("event:SettlementInitiated", id);
      return;
    }
    const beneficiary = account!;
    this.#payments.insert({
      ...base,
      creditorAccount: beneficiary.id,
      creditorLeg: "Credited",
      note: `received from bank ${debtor.id}: ${beneficiary.id} credited ${terms.amount}; smelt due`,
    });
    const key = paymentKey("inbound", id);
    this.#ledger.transfer({
      key: `${key}:credit`,
      payment: key,
      step: "credit",
      memo: `payment ${id} from bank ${debtor.id} to ${beneficiary.id}`,
      debit: INTERNAL.suspense,
      credit: beneficiary.id,
      amount: terms.amount,
    });
    this.#payments.enqueue("inbound", id, "smelt");
    this.#appliedEvent("event:SettlementInitiated", id);
  }

  /**
   * The local id of a new inbound payment: its end-to-end id (or the settlement id's hex for another system's
   * id), unless an inbound payment of another debtor bank already has it; then `<id>@<debtor bank id>`. `@` is
   * not in an end-to-end id, and a debtor bank uses a settlement id once, so the name is free.
   */
  #inboundId(settlementId: string, debtor: BankRef): string {
    const id = endToEndIdOf(settlementId) ?? settlementId;
    return this.#payments.has("inbound", id) ? `${id}@${debtor.id}` : id;
  }

  /**
   * The inbound payment `settlementId` of `debtorBank`: ids are scoped by debtor bank on chain, so another
   * bank's payment with the same id is not this one.
   */
  #inbound(debtorBank: string, settlementId: string): PaymentRecord | undefined {
    return this.#payments.bySettlementId("inbound", debtorBank, settlementId);
  }

  #inboundSmelted(debtorBank: string, settlementId: string, tx: string): void {
    const payment = this.#inbound(debtorBank, settlementId);
    if (payment === undefined) {
      this.#log(`SettlementSmelted for ${settlementId}: no such inbound payment here; ignored`);
      return;
    }
    const key = paymentKey("inbound", payment.id);
    this.#ensureInterbankAccounts(payment.debtorBank.id);
    this.#ledger.transfer({
      key: `${key}:smelt`,
      payment: key,
      step: "smelt",
      memo: `payment ${payment.id} smelted: claim on bank ${payment.debtorBank.id}`,
      debit: INTERNAL.dueFrom(payment.debtorBank.id),
      credit: INTERNAL.suspense,
      amount: payment.terms.amount,
    });
    this.#payments.doneByStep("inbound", payment.id, "smelt", tx);
    this.#payments.move(payment, {
      creditorLeg: "Smelted",
      note: "smelted on chain: the claim on the debtor bank is recorded",
      tx,
    });
    this.#appliedEvent("event:SettlementSmelted", payment.id);
  }

  #inboundRejected(debtorBank: string, settlementId: string, tx: string): void {
    const payment = this.#inbound(debtorBank, settlementId);
    if (payment === undefined) return;
    this.#payments.doneByStep("inbound", payment.id, "reject", tx);
    if (payment.creditorLeg === "Credited") {
      // Rejected on chain although this agent credited the beneficiary and owed a smelt (this bank's key used
      // elsewhere): the debtor bank takes the money back, so the credit is undone.
      const key = paymentKey("inbound", payment.id);
      this.#ledger.transfer({
        key: `${key}:reversal`,
        payment: key,
        step: "reversal",
        memo: `payment ${payment.id} rejected on chain after the credit: credit to ${payment.creditorAccount} reversed`,
        debit: payment.creditorAccount!,
        credit: INTERNAL.suspense,
        amount: payment.terms.amount,
        allowOverdraft: true,
      });
      this.#payments.move(payment, {
        creditorLeg: "Rejected",
        note: `rejected on chain after ${payment.creditorAccount} was credited: credit reversed`,
        tx,
      });
      this.#warn(payment.id, `SettlementRejected for ${payment.id} after it was credited here: credit reversed`);
    } else {
      this.#payments.move(payment, { creditorLeg: "Rejected", note: "rejected on chain", tx });
    }
    this.#appliedEvent("event:SettlementRejected", payment.id);
  }

  /** The debtor bank closed an inbound payment: acknowledged, returned or refunded. */
  #inboundClosed(
    debtorBank: string,
    settlementId: string,
    how: "Acknowledged" | "Returned" | "Refunded",
    tx: string,
  ): void {
    const payment = this.#inbound(debtorBank, settlementId);
    if (payment === undefined) return;
    if (how === "Refunded" && payment.creditorLeg === "Credited") {
      // The beneficiary was credited but the smelt never landed before the deadline: undo the credit.
      const key = paymentKey("inbound", payment.id);
      this.#ledger.transfer({
        key: `${key}:reversal`,
        payment: key,
        step: "reversal",
        memo: `payment ${payment.id} expired before the smelt: credit to ${payment.creditorAccount} reversed`,
        debit: payment.creditorAccount!,
        credit: INTERNAL.suspense,
        amount: payment.terms.amount,
        allowOverdraft: true,
      });
      this.#payments.move(payment, {
        debtorLeg: "Refunded",
        creditorLeg: "Reversed",
        note: "expired before the smelt and refunded to the debtor bank: credit reversed",
        tx,
      });
    } else {
      this.#payments.move(payment, {
        debtorLeg: how,
        ...(how === "Refunded" ? { creditorLeg: "Expired" as const } : {}),
        note: `${how.toLowerCase()} by the debtor bank`,
        tx,
      });
    }
    this.#appliedEvent(`event:Settlement${how}`, payment.id);
  }

  // ───────────────────────────── accounts and banks ─────────────────────────────

  /** The directory entry of a trust account, or the address itself for a bank not in the directory. */
  bankRef(address: string): BankRef {
    const normalized = checksummed(address);
    const bank = this.#banks.find((entry) => entry.address === normalized);
    return { id: bank?.id ?? normalized, address: normalized };
  }

  #openInternalAccounts(): void {
    const specs: AccountSpec[] = [
      { id: INTERNAL.cash, name: "cash at the central bank", kind: "asset", category: "internal", allowNegative: true },
      {
        id: INTERNAL.trust,
        name: "trust account (fiat backing tokens in flight)",
        kind: "liability",
        category: "internal",
      },
      { id: INTERNAL.suspense, name: "credited, not yet smelted", kind: "asset", category: "internal" },
    ];
    this.#store.transaction(() => {
      for (const spec of specs) this.#ledger.openAccount(spec);
      for (const bank of this.#banks) if (bank.address !== this.#me) this.#ensureInterbankAccounts(bank.id);
    });
  }

  /**
   * Opens this bank's due-to and due-from accounts with `bank` unless they are known to exist: accounts are
   * never removed, so once opened and committed they are not looked up again.
   */
  #ensureInterbankAccounts(bank: string): void {
    if (this.#interbankOpen.has(bank)) return;
    this.#ledger.openAccount({
      id: INTERNAL.dueTo(bank),
      name: `owed to bank ${bank} (its claim on us)`,
      kind: "liability",
      category: "internal",
    });
    this.#ledger.openAccount({
      id: INTERNAL.dueFrom(bank),
      name: `owed by bank ${bank} (our claim on it)`,
      kind: "asset",
      category: "internal",
    });
    this.#store.afterCommit(() => this.#interbankOpen.add(bank));
  }

  /** An initiate that will never land: re-credit the customer and close the payment as failed. */
  fail(row: OutboxRow, payment: PaymentRecord, reason: string): void {
    const key = paymentKey("outbound", payment.id);
    this.#store.transaction(() => {
      this.#ledger.transfer({
        key: `${key}:reversal`,
        payment: key,
        step: "reversal",
        memo: `payment ${payment.id} refused on chain (${reason}): customer re-credited`,
        debit: INTERNAL.trust,
        credit: payment.debtorAccount!,
        amount: payment.terms.amount,
      });
      this.#payments.update("outbound", payment.id, {
        debtorLeg: "Failed",
        reason,
        note: `refused on chain (${reason}); ${payment.debtorAccount} re-credited`,
      });
      this.#payments.void(row.rowId, reason);
    });
  }
}
