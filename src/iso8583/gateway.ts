/**
 * The card gateway: a TCP server that takes ISO 8583 messages from acquirers
 * and card networks and turns them into AccountLedger operations on
 * customers' account profiles, answering each with a response code
 * (docs/iso8583.md).
 *
 * - 0100 places a hold, 0120 (an authorization advice) a forced hold; 0110 / 0130;
 * - 0200 debits (processing code 00 or 01), refunds a sale it names (20), or
 *   captures the hold of an earlier 0100 (named by DE 90, or by DE 37 at the
 *   same acquirer and terminal); 0220 (a financial advice) does the same,
 *   forced past the per-transaction limit; 0210 / 0230;
 * - 0400 / 0420 reverse the original named by DE 90 (all of it, or down to
 *   DE 95's actual amount); 0410 / 0430;
 * - 0800 answers 0810.
 *
 * Identity: a transaction is its message class, acquirer (DE 32), forwarder
 * (DE 33), terminal (DE 41), merchant (DE 42), STAN (DE 11), local date and
 * time (DE 13, DE 12) and RRN (DE 37). A message with a known identity and
 * the same content (a 0201/0401/0421 repeat, or a retransmission with a new
 * DE 7) gets the first answer, DE 38 included, and posts nothing; different
 * content under a known identity is 94.
 *
 * Every message that reaches the ledger is journaled in SQLite first (see
 * `journal.ts`), so a crash loses no record and posts nothing twice. A message
 * that cannot be decoded is answered with 30 when its MTI is readable, echoing
 * the elements that can still be read, and logged otherwise; the connection
 * stays usable. Framing errors (a length above the largest valid message
 * included), a frame that does not complete in time and idle connections
 * close the connection. Nothing a client sends is allowed to throw out of the
 * connection handler.
 */
import { createHash } from "node:crypto";
import net from "node:net";

import { keccak256, toUtf8Bytes, ZeroAddress, ZeroHash } from "ethers";

import { systemClock, type Clock } from "../chain/clock.js";
import { listen } from "../chain/http-server.js";
import { loggerOf, type Logger } from "../chain/log.js";
import { Poller } from "../chain/poller.js";
import { BankChainError, messageOf } from "../errors.js";
import type { CardRefusal, CardStore } from "./cards.js";
import { decode, encode, Iso8583Error, responseMti, salvage, type Iso8583Message } from "./codec.js";
import { frame, FrameReader, FramingError, type Framing } from "./framing.js";
import {
  Journal,
  type JournalRow,
  type MessageColumns,
  type MessageKind,
  type NewJournalRow,
  type OperationName,
  type OriginalRef,
} from "./journal.js";
import { type LedgerOperation, type LedgerOutcome, type LedgerPoster } from "./ledger.js";
import { encodeWithMac, verifyMac } from "./mac.js";
import { RESPONSE_CODES, responseForLedgerError, type ResponseCode } from "./responses.js";
import { parseWalletData, WALLET_DATA_ELEMENTS, WalletDataError, type WalletData } from "./wallet-data.js";

/** The gateway is misconfigured. */
export class GatewayConfigError extends BankChainError {}

export interface CardGatewayOptions {
  readonly journal: Journal;
  readonly poster: LedgerPoster;
  /** The card file: which PAN belongs to which profile. */
  readonly cards: CardStore;
  /** The chain the ledger is on; a wallet-data chain id (tag 04) must match it. */
  readonly chainId: bigint;
  /** Asset codes (tag 03) this bank's token answers to, upper case, e.g. `["BUSD", "USD"]`. */
  readonly assets: readonly string[];
  /** The token's currency as DE 49 carries it: ISO 4217 numeric, e.g. `"840"`. */
  readonly currency: string;
  /**
   * MAC keys by acquirer id (DE 32 digits, as sent or zero-filled to 11): a
   * message from a listed acquirer must carry a valid DE 64 / DE 128 (else 63),
   * and its responses carry one.
   */
  readonly macKeys?: ReadonlyMap<string, Uint8Array>;
  /**
   * Whether a message naming an acquirer without a MAC key is taken (default
   * false: it is 63). Anyone who can connect can write any DE 32; only a MAC
   * proves the acquirer. The devnet takes them, for its examples.
   */
  readonly acceptUnauthenticated?: boolean;
  readonly host?: string;
  /** TCP port; 0 picks a free one (default 8583). */
  readonly port?: number;
  readonly framing?: Framing;
  /** The private-use element carrying the wallet data (default 48). */
  readonly walletElement?: number;
  /** A frame must be complete this long after its first byte arrived (default 5 s). */
  readonly frameTimeoutMs?: number;
  /** A connection that sends nothing this long is closed (default 5 min). */
  readonly idleTimeoutMs?: number;
  /** Largest message accepted (default: the largest valid message, within what the framing can carry). */
  readonly maxMessageBytes?: number;
  /** Concurrent connections (default 1,000). */
  readonly maxConnections?: number;
  /** Messages being processed per connection before it stops reading (default 256). */
  readonly maxInFlightPerConnection?: number;
  /** How long an operation of unknown fate is checked before it counts as not posted (default 60 s). */
  readonly unknownGraceMs?: number;
  /** How often operations of unknown fate are checked (default 1 s). */
  readonly reconcileIntervalMs?: number;
  readonly clock?: Clock;
  readonly log?: (line: string) => void;
}

export const DEFAULT_GATEWAY_PORT = 8583;
export const DEFAULT_WALLET_ELEMENT = 48;

/** Elements a response copies from its request where present (and DE 90, 95 on reversal responses). */
const ECHOED = [2, 3, 4, 7, 11, 12, 13, 32, 33, 37, 41, 42, 49] as const;
const ECHOED_ON_REVERSALS = [90, 95] as const;

/** What a response code stands for when a card check fails. */
const CARD_REFUSALS: Readonly<Record<CardRefusal, ResponseCode>> = {
  invalid_pan: RESPONSE_CODES.unknownAccount,
  unknown_card: RESPONSE_CODES.unknownAccount,
  wallet_mismatch: RESPONSE_CODES.unknownAccount,
  expired: RESPONSE_CODES.expiredCard,
  card_not_active: RESPONSE_CODES.restrictedCard,
};

interface Answer {
  readonly code: ResponseCode;
  readonly authCode?: string | null;
}

/** The identity of a message and what it asks for. */
export interface Identity {
  readonly id: string;
  readonly fingerprint: string;
  readonly acquirer: string;
  readonly forwarder: string | null;
  readonly terminal: string;
  readonly merchant: string | null;
  readonly advice: boolean;
}

/** Refusals not journaled under the message's identity (see `#decided`). */
const UNRECORDED: ReadonlySet<ResponseCode> = new Set([
  RESPONSE_CODES.unavailable,
  RESPONSE_CODES.duplicate,
  RESPONSE_CODES.formatError,
]);

/** The columns of a journal row that posts nothing. */
const NO_OPERATION = {
  panHash: null,
  operation: null,
  opKey: null,
  refKey: null,
  originalId: null,
  wallet: null,
  amount: null,
} as const;

/** A refusal decided before the ledger is touched. */
class Refusal extends Error {
  constructor(
    readonly code: ResponseCode,
    reason: string,
  ) {
    super(reason);
  }
}

export class CardGateway {
  readonly #options: CardGatewayOptions;
  readonly #journal: Journal;
  readonly #poster: LedgerPoster;
  readonly #cards: CardStore;
  readonly #framing: Framing;
  readonly #walletElement: number;
  readonly #log: (line: string) => void;
  /** The same log, structured: lines about a message carry its journal id, MTI, STAN and RRN. */
  readonly #logger: Logger;
  readonly #sockets = new Set<net.Socket>();
  /** Messages being processed, by journal id: a repeat, a reversal or a completion waits for them. */
  readonly #inFlight = new Map<string, Promise<unknown>>();
  readonly #assets: ReadonlySet<string>;
  readonly #macKeys: ReadonlyMap<string, Uint8Array>;
  #server: net.Server | undefined;
  readonly #reconciler: Poller;
  readonly #clock: Clock;
  #url: string | undefined;

  constructor(options: CardGatewayOptions) {
    const walletElement = options.walletElement ?? DEFAULT_WALLET_ELEMENT;
    if (!WALLET_DATA_ELEMENTS.includes(walletElement)) {
      throw new GatewayConfigError(
        "GATEWAY_BAD_WALLET_ELEMENT",
        `the wallet data must travel in DE 48, 60-63 or 120-127, not DE ${walletElement}`,
        { walletElement },
      );
    }
    if (!/^[0-9]{3}$/.test(options.currency)) {
      throw new GatewayConfigError(
        "GATEWAY_BAD_CURRENCY",
        `the currency must be an ISO 4217 numeric code (3 digits), not ${options.currency}`,
        { currency: options.currency },
      );
    }
    const macKeys = new Map<string, Uint8Array>();
    for (const [acquirer, key] of options.macKeys ?? []) {
      if (!/^[0-9]{1,11}$/.test(acquirer)) {
        throw new GatewayConfigError("GATEWAY_BAD_ACQUIRER", `an acquirer id is 1 to 11 digits, not ${acquirer}`, {
          acquirer,
        });
      }
      if (key.length < 16 || key.length > 64) {
        throw new GatewayConfigError(
          "GATEWAY_BAD_MAC_KEY",
          `the MAC key of acquirer ${acquirer} must be 16 to 64 bytes`,
          {
            acquirer,
          },
        );
      }
      macKeys.set(acquirerId(acquirer), key);
    }
    this.#options = options;
    this.#journal = options.journal;
    this.#poster = options.poster;
    this.#cards = options.cards;
    this.#framing = options.framing ?? "binary2";
    this.#walletElement = walletElement;
    this.#macKeys = macKeys;
    this.#log = options.log ?? (() => undefined);
    this.#logger = loggerOf(this.#log);
    this.#assets = new Set(options.assets.map((asset) => asset.toUpperCase()));
    this.#clock = options.clock ?? systemClock;
    // Group commit: the journal rows of a batch become durable in one commit, right before it is sent.
    this.#poster.onBeforeSend(() => this.#journal.commit());
    this.#reconciler = new Poller({
      tick: () => this.reconcile(),
      intervalMs: options.reconcileIntervalMs ?? 1_000,
      onError: (error) => this.#log(`card-gateway: reconcile failed: ${messageOf(error)}`),
    });
  }

  /** `tcp://host:port` once started. */
  get url(): string | undefined {
    return this.#url;
  }

  get port(): number | undefined {
    const address = this.#server?.address();
    return address !== null && typeof address === "object" ? address.port : undefined;
  }

  async start(): Promise<void> {
    if (this.#server !== undefined) return;
    const recovered = this.#journal.recover(this.#clock.now() + this.#grace());
    if (recovered > 0) this.#log(`card-gateway: ${recovered} message(s) cut off by a stop or crash, to be reconciled`);
    const server = net.createServer((socket) => this.#accept(socket));
    server.maxConnections = this.#options.maxConnections ?? 1_000;
    const host = this.#options.host ?? "127.0.0.1";
    this.#url = await listen(server, this.#options.port ?? DEFAULT_GATEWAY_PORT, host, "tcp");
    server.on("error", (error) => this.#log(`card-gateway: server error: ${messageOf(error)}`));
    this.#server = server;
    this.#reconciler.start();
  }

  /** Stops accepting, lets messages under way finish, then closes every connection. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.allSettled([...this.#inFlight.values()]);
    await this.#reconciler.stop();
    this.#journal.commit();
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  /**
   * Settles operations of unknown fate: one that landed is reversed (its
   * message was answered 91, or not at all); one still absent after the grace
   * period counts as not posted.
   */
  async reconcile(): Promise<void> {
    try {
      await this.#reconcile();
    } finally {
      this.#journal.commit();
    }
  }

  async #reconcile(): Promise<void> {
    for (const row of this.#journal.unknown()) {
      if (this.#inFlight.has(row.id) || row.opKey === null) continue;
      let state: "unused" | "void" | "used";
      try {
        state = await this.#poster.keyState(row.opKey);
      } catch {
        return; // the chain is still away
      }
      if (state === "void") {
        this.#journal.markFailed(row.id);
        this.#logRow(
          row,
          `card-gateway: ${row.mti} ${row.id} never landed; its key is void and it counts as not posted`,
        );
        continue;
      }
      if (state === "unused") {
        if (this.#clock.now() >= (row.settleBy ?? 0)) await this.#void(row);
        continue;
      }
      if (row.kind === "reversal") {
        this.#journal.finish(row.id, RESPONSE_CODES.approved);
        continue;
      }
      const outcome = await this.#poster.post({
        kind: "reverse",
        key: opKey(`auto-reversal|${row.id}`),
        wallet: row.wallet ?? ZeroAddress,
        ref: row.opKey,
        amount: 0n,
      });
      if (outcome.status === "applied" || (outcome.status === "rejected" && outcome.error === "AlreadyReversed")) {
        this.#journal.markAutoReversed(row.id);
        this.#logRow(row, `card-gateway: ${row.mti} ${row.id} landed after a 91 answer and was reversed`);
      }
    }
  }

  /** One line about a journalled message, with its journal id, MTI, STAN and RRN as fields. */
  #logRow(row: Pick<JournalRow, "id" | "mti" | "stan" | "rrn">, line: string, level: "info" | "warn" = "info"): void {
    this.#logger.child({ journalId: row.id, mti: row.mti, stan: row.stan, rrn: row.rrn })[level](line);
  }

  /**
   * Proves an operation of unknown fate did not post by claiming its key on
   * the ledger first (`voidKey`): once the void is mined, the operation can
   * never land, and the message counts as not posted. If the operation lands
   * first, the void is refused (`KeyUsed`) and the next round finds the key used.
   */
  async #void(row: JournalRow): Promise<void> {
    const outcome = await this.#poster.post({
      kind: "void",
      key: row.opKey!,
      wallet: ZeroAddress,
      ref: ZeroHash,
      amount: 0n,
    });
    if (outcome.status === "applied") {
      this.#journal.markFailed(row.id);
      this.#logRow(row, `card-gateway: ${row.mti} ${row.id} never landed; its key is void and it counts as not posted`);
    }
    // Otherwise the next round reads the key: used by the operation, or by this void if it landed after all.
  }

  /**
   * The response to one message (without framing), or undefined when none is
   * due (an undecodable message without a readable MTI, or a response-class
   * MTI). Never throws for anything in `bytes`. Everything the answer rests on
   * is durable in the journal when it resolves.
   */
  async respond(bytes: Uint8Array): Promise<Buffer | undefined> {
    const response = await this.#respond(bytes);
    this.#journal.commit();
    return response;
  }

  async #respond(bytes: Uint8Array): Promise<Buffer | undefined> {
    let request: Iso8583Message;
    try {
      request = decode(bytes);
    } catch (error) {
      if (!(error instanceof Iso8583Error)) throw error;
      const where = `${error.category} at field ${error.field}, offset ${error.offset}`;
      const recovered = salvage(bytes);
      if (recovered.mti === undefined || !answersTo(recovered.mti)) {
        this.#log(`card-gateway: undecodable message dropped: ${where}`);
        return undefined;
      }
      this.#log(`card-gateway: ${recovered.mti} refused with 30: ${where}`);
      return this.#answer({ mti: recovered.mti, fields: recovered.fields }, { code: RESPONSE_CODES.formatError });
    }
    if (!answersTo(request.mti)) {
      this.#log(`card-gateway: ${request.mti} is not a request or advice; dropped`);
      return undefined;
    }
    let answer: Answer;
    try {
      this.#authenticate(request, bytes);
      answer = await this.#handle(request);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      this.#logger
        .child({ mti: request.mti, stan: request.fields[11] ?? null, rrn: request.fields[37] ?? null })
        .info(
          `card-gateway: ${request.mti} STAN ${request.fields[11] ?? "-"} acquirer ${request.fields[32] ?? "-"} refused with ${error.code}: ${error.message}`,
        );
      answer = { code: error.code };
    }
    return this.#answer(request, answer);
  }

  /** A message from an acquirer with a MAC key must carry its valid MAC. */
  #authenticate(request: Iso8583Message, bytes: Uint8Array): void {
    const acquirer = request.fields[32];
    // No acquirer: network management, or a money message refused for its missing DE 32 (30).
    if (acquirer === undefined) return;
    const key = this.#macKeys.get(acquirerId(acquirer));
    if (key === undefined) {
      if (this.#options.acceptUnauthenticated === true) return;
      throw new Refusal(RESPONSE_CODES.securityViolation, `acquirer ${acquirer} has no MAC key here`);
    }
    const verdict = verifyMac(key, bytes);
    if (verdict !== "ok") {
      throw new Refusal(RESPONSE_CODES.securityViolation, `the MAC is ${verdict}`);
    }
  }

  #answer(request: Iso8583Message, answer: Answer): Buffer {
    const fields: Record<number, string> = {};
    const echoed: readonly number[] = request.mti.startsWith("04") ? [...ECHOED, ...ECHOED_ON_REVERSALS] : ECHOED;
    for (const number of echoed) {
      const value = request.fields[number];
      if (value !== undefined) fields[number] = value;
    }
    if (request.mti.startsWith("08") && request.fields[70] !== undefined) fields[70] = request.fields[70];
    if (answer.authCode !== undefined && answer.authCode !== null) fields[38] = answer.authCode;
    fields[39] = answer.code;
    const response: Iso8583Message = { mti: responseMti(request.mti), fields };
    const acquirer = request.fields[32];
    const key = acquirer === undefined ? undefined : this.#macKeys.get(acquirerId(acquirer));
    return key === undefined ? encode(response) : encodeWithMac(key, response);
  }

  async #handle(request: Iso8583Message): Promise<Answer> {
    switch (canonicalMti(request.mti)) {
      case "0800":
        return { code: RESPONSE_CODES.approved };
      case "0100":
      case "0120":
        return this.#financial(request, "authorization");
      case "0200":
      case "0220":
        return this.#financial(request, "financial");
      case "0400":
      case "0420":
        return this.#reversal(request);
      default:
        throw new Refusal(RESPONSE_CODES.invalidTransaction, `MTI ${request.mti} is not handled here`);
    }
  }

  /**
   * The first answer to a transaction with this identity, when it is a repeat
   * of it; undefined when the transaction is new (or its earlier attempt is
   * known not to have posted). Throws 94 for different content under a known identity.
   */
  async #repeat(who: Identity, request?: Iso8583Message): Promise<Answer | undefined> {
    const prior = await this.#prior(who.id);
    if (prior === undefined) return undefined;
    // Even a message that never posted keeps its content: a retry must be the same message.
    if (prior.fingerprint !== who.fingerprint) {
      throw new Refusal(RESPONSE_CODES.duplicate, `${who.id} was used by a different message`);
    }
    if (request !== undefined) this.#journal.transmitted(who.id, canonicalMti(request.mti), request.fields[7]!);
    if (prior.state === "failed") {
      if (prior.voided) {
        throw new Refusal(RESPONSE_CODES.invalidTransaction, `${who.id} was reversed: it is never posted again`);
      }
      return undefined;
    }
    if (prior.state === "unknown" || prior.state === "posting") return { code: RESPONSE_CODES.unavailable };
    return { code: (prior.responseCode ?? RESPONSE_CODES.unavailable) as ResponseCode, authCode: prior.authCode };
  }

  /**
   * Runs `decide` for a message whose identity is new; a decline it throws is
   * journaled, so that a repeat gets the same answer (not 91, which may
   * change, nor 30 or 94, which say nothing about the transaction).
   */
  async #decided(request: Iso8583Message, who: Identity, kind: MessageKind, decide: () => Promise<Answer>) {
    try {
      return await decide();
    } catch (error) {
      if (
        error instanceof Refusal &&
        !UNRECORDED.has(error.code) &&
        this.#journal.get(who.id) === undefined &&
        !this.#inFlight.has(who.id)
      ) {
        this.#journal.record({ ...this.#rowBase(request, who, kind), ...NO_OPERATION }, error.code);
      }
      throw error;
    }
  }

  async #financial(request: Iso8583Message, kind: MessageKind): Promise<Answer> {
    requireFields(request, [2, 3, 4, 7, 11, 32, 41, 49, this.#walletElement]);
    const who = this.#identity(request);
    const repeat = await this.#repeat(who, request);
    if (repeat !== undefined) return repeat;
    return this.#decided(request, who, kind, () => this.#financialNew(request, who, kind));
  }

  async #financialNew(request: Iso8583Message, who: Identity, kind: MessageKind): Promise<Answer> {
    const processing = parseProcessing(request.fields[3]!);
    const amount = this.#amountOfRecord(request);
    const wallet = this.#walletData(request, amount);
    const card = this.#cards.check(request.fields[2]!, request.fields[14], wallet.address, this.#clock.now());
    if (typeof card === "string") throw new Refusal(CARD_REFUSALS[card], `card check: ${card}`);

    let operation: OperationName;
    let target = wallet.address;
    let refKey: string | null = null;
    let original: JournalRow | undefined;
    let bound: (() => void) | undefined;
    if (processing.type === "purchase") {
      const hold = kind === "financial" ? await this.#holdFor(request, who) : undefined;
      if (hold !== undefined) {
        if (hold.panHash !== card.panHash) {
          throw new Refusal(RESPONSE_CODES.invalidTransaction, `the authorization ${hold.id} was for another card`);
        }
        operation = "capture";
        refKey = hold.opKey;
        original = hold;
      } else {
        operation = kind === "authorization" ? "hold" : "debit";
      }
    } else {
      if (kind === "authorization") {
        throw new Refusal(RESPONSE_CODES.invalidTransaction, "a refund is not authorized with 0100; send 0200");
      }
      const sale = await this.#saleFor(request, who);
      if (sale.panHash !== card.panHash) {
        throw new Refusal(RESPONSE_CODES.invalidTransaction, `the sale ${sale.id} was paid with another card`);
      }
      operation = "credit";
      target = sale.wallet!;
      original = sale;
      // Checked again right before the row is written: nothing else may refund the sale in between.
      bound = () => {
        // At the bank's worst case: refunds and reversals of unknown fate count as landed.
        const left = BigInt(sale.amount ?? "0") - this.#journal.consumed(sale.id).amount;
        if (amount > left) {
          throw new Refusal(
            RESPONSE_CODES.invalidAmount,
            `a refund of ${amount} exceeds the ${left} left of ${sale.id}`,
          );
        }
      };
    }
    const row: NewJournalRow = {
      ...this.#rowBase(request, who, kind),
      panHash: card.panHash,
      operation,
      opKey: this.#opKeyFor(who.id),
      refKey,
      originalId: original?.id ?? null,
      wallet: target,
      amount: amount.toString(),
    };
    const forced = who.advice && (operation === "hold" || operation === "debit");
    return this.#post(
      row,
      {
        kind: forced ? (operation === "hold" ? "forceHold" : "forceDebit") : operation,
        key: row.opKey!,
        wallet: target,
        ref: refKey ?? ZeroHash,
        amount,
      },
      bound,
    );
  }

  /** DE 4 with DE 49: the amount of record, in minor units (= token units at the fixed peg). */
  #amountOfRecord(request: Iso8583Message): bigint {
    if (request.fields[49] !== this.#options.currency) {
      throw new Refusal(
        RESPONSE_CODES.invalidAmount,
        `DE 49 ${request.fields[49]} is not the token's currency ${this.#options.currency}`,
      );
    }
    const amount = BigInt(request.fields[4]!);
    if (amount === 0n) throw new Refusal(RESPONSE_CODES.invalidAmount, "DE 4 is zero");
    return amount;
  }

  /** The wallet data, which must agree with the amount of record and name this chain and asset. */
  #walletData(request: Iso8583Message, amount: bigint): WalletData {
    let wallet: WalletData;
    try {
      wallet = parseWalletData(request.fields[this.#walletElement]!);
    } catch (error) {
      if (!(error instanceof WalletDataError)) throw error;
      const code = error.category === "pd_bad_amount" ? RESPONSE_CODES.invalidAmount : RESPONSE_CODES.formatError;
      throw new Refusal(code, `DE ${this.#walletElement}: ${error.category} at offset ${error.offset}`);
    }
    if (wallet.amount !== amount) {
      throw new Refusal(RESPONSE_CODES.invalidAmount, `wallet data amount ${wallet.amount} is not DE 4's ${amount}`);
    }
    if (wallet.chainId !== undefined && wallet.chainId !== this.#options.chainId) {
      throw new Refusal(RESPONSE_CODES.invalidTransaction, `wallet data names chain ${wallet.chainId}`);
    }
    if (wallet.asset !== undefined && !this.#assets.has(wallet.asset.toUpperCase())) {
      throw new Refusal(RESPONSE_CODES.invalidTransaction, `wallet data names asset ${wallet.asset}`);
    }
    return wallet;
  }

  /**
   * The approved authorization a 0200 completes: the one DE 90 names (25 when
   * there is none at this acquirer and terminal, 12 when several), else one
   * with the same DE 37 at this acquirer and terminal; undefined for a plain debit.
   */
  async #holdFor(request: Iso8583Message, who: Identity): Promise<JournalRow | undefined> {
    let hold: JournalRow | undefined;
    const de90 = request.fields[90];
    if (de90 !== undefined) {
      const ref = parseOriginal(de90, who.terminal);
      if (ref.mti !== "0100" && ref.mti !== "0120") return undefined;
      hold = this.#one(this.#originals(ref, who), "authorization");
    } else {
      const rrn = request.fields[37];
      if (rrn === undefined) return undefined;
      const found = this.#journal
        .findByRrn("authorization", who.acquirer, rrn)
        .filter((row) => row.terminal === who.terminal);
      if (found.length === 0) return undefined;
      hold = this.#one(found, "authorization");
    }
    return this.#approved(hold);
  }

  /** The approved sale a refund names by DE 90 or DE 37, at this acquirer and merchant. */
  async #saleFor(request: Iso8583Message, who: Identity): Promise<JournalRow> {
    const de90 = request.fields[90];
    let found: JournalRow[];
    if (de90 !== undefined) {
      const ref = parseOriginal(de90, who.terminal);
      if (ref.acquirer !== who.acquirer) found = [];
      else {
        found = this.#journal
          .findAtAcquirer(ref.acquirer, ref.mti, ref.stan, ref.de7)
          .filter((row) => row.kind === "financial" && row.merchant === who.merchant);
      }
    } else {
      const rrn = request.fields[37];
      if (rrn === undefined) {
        throw new Refusal(RESPONSE_CODES.invalidTransaction, "a refund must name its sale by DE 90 or DE 37");
      }
      found = this.#journal
        .findByRrn("financial", who.acquirer, rrn)
        .filter((row) => row.merchant === who.merchant && row.id !== who.id);
    }
    found = found.filter((row) => row.operation === "debit" || row.operation === "capture");
    return this.#approved(this.#one(found, "sale"));
  }

  /** The messages DE 90 names, if it names this acquirer: an acquirer can only ever reach its own. */
  #originals(ref: OriginalRef, who: Identity): JournalRow[] {
    return ref.acquirer === who.acquirer ? this.#journal.findOriginals(ref) : [];
  }

  #one(rows: readonly JournalRow[], what: string): JournalRow {
    if (rows.length === 0) throw new Refusal(RESPONSE_CODES.noOriginal, `no ${what} of this acquirer matches`);
    if (rows.length > 1) {
      throw new Refusal(RESPONSE_CODES.invalidTransaction, `${rows.length} ${what}s of this acquirer match`);
    }
    return rows[0]!;
  }

  /** `row` once settled, if it was approved and still stands; 91 while its fate is unknown, else 12. */
  async #approved(row: JournalRow): Promise<JournalRow> {
    await this.#inFlight.get(row.id);
    const settled = this.#journal.get(row.id)!;
    if (settled.state === "unknown" || settled.state === "posting") {
      throw new Refusal(RESPONSE_CODES.unavailable, `the fate of ${row.id} is not known yet`);
    }
    if (settled.state !== "done" || settled.responseCode !== RESPONSE_CODES.approved || settled.autoReversed) {
      throw new Refusal(RESPONSE_CODES.invalidTransaction, `${row.id} was not approved`);
    }
    return settled;
  }

  async #reversal(request: Iso8583Message): Promise<Answer> {
    requireFields(request, [7, 11, 32, 41, 90]);
    const who = this.#identity(request);
    const repeat = await this.#repeat(who, request);
    if (repeat !== undefined) return repeat;
    return this.#decided(request, who, "reversal", () => this.#reversalNew(request, who));
  }

  async #reversalNew(request: Iso8583Message, who: Identity): Promise<Answer> {
    const ref = parseOriginal(request.fields[90]!, who.terminal);
    if (ref.mti.startsWith("04")) {
      throw new Refusal(RESPONSE_CODES.invalidTransaction, "DE 90 names a reversal, not an original");
    }
    const base: NewJournalRow = { ...this.#rowBase(request, who, "reversal"), ...NO_OPERATION };
    const originals = this.#originals(ref, who);
    if (originals.length === 0) {
      if (ref.acquirer !== who.acquirer) {
        throw new Refusal(RESPONSE_CODES.noOriginal, `DE 90 names acquirer ${ref.acquirer}, not the sender's`);
      }
      // The reversal overtook its original: remember it, so a late original is declined. An advice (0420)
      // must be acknowledged; a request (0400) is told there was nothing to reverse.
      this.#journal.markReversedAhead(ref, who.id, this.#clock.now());
      this.#log(
        `card-gateway: ${request.mti} ${who.id} reverses ${ref.mti} STAN ${ref.stan} never seen; it will be declined if it comes`,
      );
      const code = who.advice ? RESPONSE_CODES.approved : RESPONSE_CODES.noOriginal;
      this.#journal.record(base, code);
      return { code };
    }
    const original = this.#one(originals, "original");
    await this.#inFlight.get(original.id);
    const settled = this.#journal.get(original.id)!;
    if (settled.state !== "done" || settled.responseCode !== RESPONSE_CODES.approved || settled.autoReversed) {
      // Nothing stands on the ledger for it: declined, known not posted, or of unknown fate (the reconciler
      // reverses it if it turns out to have landed). It is voided: never posted again, even if repeated.
      this.#journal.markVoided(settled.id);
      this.#journal.record({ ...base, originalId: settled.id }, RESPONSE_CODES.approved);
      return { code: RESPONSE_CODES.approved };
    }
    const de4 = request.fields[4];
    if (de4 !== undefined && BigInt(de4) !== BigInt(settled.amount ?? "0")) {
      throw new Refusal(RESPONSE_CODES.invalidAmount, `DE 4 ${de4} is not the original's amount ${settled.amount}`);
    }
    const outstanding = () => {
      const consumed = this.#journal.consumed(settled.id);
      if (consumed.pending) {
        // What is left depends on a reversal or refund of unknown fate: decided once it is known.
        throw new Refusal(RESPONSE_CODES.unavailable, `a reversal or refund of ${settled.id} is of unknown fate`);
      }
      return BigInt(settled.amount ?? "0") - consumed.amount;
    };
    const actual = parseActualAmount(request.fields[95]);
    const left = outstanding();
    if (actual !== undefined && actual > left) {
      throw new Refusal(RESPONSE_CODES.invalidAmount, `DE 95 ${actual} is above the ${left} outstanding`);
    }
    const amount = left - (actual ?? 0n);
    if (amount === 0n) {
      // Already reversed (in full, or down to this actual amount): nothing to undo.
      this.#journal.record({ ...base, originalId: settled.id }, RESPONSE_CODES.approved);
      return { code: RESPONSE_CODES.approved };
    }
    const row: NewJournalRow = {
      ...base,
      operation: "reverse",
      opKey: this.#opKeyFor(who.id),
      refKey: settled.opKey,
      originalId: settled.id,
      wallet: settled.wallet,
      amount: amount.toString(),
    };
    return this.#post(
      row,
      { kind: "reverse", key: row.opKey!, wallet: settled.wallet!, ref: settled.opKey!, amount },
      () => {
        if (outstanding() !== left) {
          throw new Refusal(RESPONSE_CODES.unavailable, `${settled.id} changed while the reversal was checked`);
        }
      },
    );
  }

  #identity(request: Iso8583Message): Identity {
    return identify(request, this.#walletElement);
  }

  #rowBase(request: Iso8583Message, who: Identity, kind: MessageKind): MessageColumns {
    return {
      id: who.id,
      kind,
      mti: canonicalMti(request.mti),
      stan: request.fields[11]!,
      de7: request.fields[7]!,
      rrn: request.fields[37] ?? null,
      terminal: who.terminal,
      acquirer: who.acquirer,
      forwarder: who.forwarder,
      merchant: who.merchant,
      fingerprint: who.fingerprint,
      advice: who.advice,
    };
  }

  /** The journal row of `id` once no other message with that id is under way. */
  async #prior(id: string): Promise<JournalRow | undefined> {
    while (this.#inFlight.has(id)) await this.#inFlight.get(id);
    return this.#journal.get(id);
  }

  /**
   * Journals `row`, posts `operation`, records and returns the answer.
   * `recheck` runs synchronously right before the row is written.
   */
  async #post(row: NewJournalRow, operation: LedgerOperation, recheck?: () => void): Promise<Answer> {
    // The callers awaited since their repeat check: check again. From here
    // on no await comes before the row and the in-flight entry both exist, so
    // a repeat arriving later waits for this one.
    const self = { acquirer: row.acquirer, terminal: row.terminal ?? "", mti: row.mti, stan: row.stan };
    if (row.kind !== "reversal" && this.#journal.isReversedAhead(self, this.#clock.now())) {
      throw new Refusal(RESPONSE_CODES.invalidTransaction, `message ${row.id} was reversed before it arrived`);
    }
    const existing = this.#journal.get(row.id);
    const retry = existing?.state === "failed" && !existing.voided && existing.fingerprint === row.fingerprint;
    if (this.#inFlight.has(row.id) || (existing !== undefined && !retry)) {
      const repeat = await this.#repeat({ id: row.id, fingerprint: row.fingerprint } as Identity);
      return repeat ?? { code: RESPONSE_CODES.unavailable };
    }
    recheck?.();
    // Durable before the operation can reach the chain: the poster commits the journal right before it sends.
    this.#journal.begin(row);
    const work = this.#poster.post(operation).then((outcome) => this.#record(row, outcome));
    this.#inFlight.set(row.id, work);
    try {
      return await work;
    } finally {
      this.#inFlight.delete(row.id);
    }
  }

  #record(row: NewJournalRow, outcome: LedgerOutcome): Answer {
    switch (outcome.status) {
      case "applied": {
        const authCode = row.kind === "reversal" ? null : row.opKey!.slice(2, 8).toUpperCase();
        this.#journal.finish(row.id, RESPONSE_CODES.approved, authCode);
        return { code: RESPONSE_CODES.approved, authCode };
      }
      case "rejected": {
        const code =
          row.kind === "reversal" && outcome.error === "AlreadyReversed"
            ? RESPONSE_CODES.approved
            : responseForLedgerError(outcome.error);
        if (code === RESPONSE_CODES.unavailable) {
          this.#logRow(row, `card-gateway: ${row.mti} ${row.id} refused by the ledger with ${outcome.error}`, "warn");
        }
        this.#journal.finish(row.id, code);
        return { code };
      }
      case "unavailable":
        this.#logRow(row, `card-gateway: ledger unavailable for ${row.mti} ${row.id}: ${outcome.reason}`, "warn");
        if (outcome.posted === "no") this.#journal.markFailed(row.id);
        else this.#journal.markUnknown(row.id, this.#clock.now() + this.#grace());
        return { code: RESPONSE_CODES.unavailable };
    }
  }

  /**
   * The ledger key of the next attempt of message `id`: derived from its
   * identity, so every send of one attempt uses one key; a new attempt (after
   * the last one was proven not posted, its key voided) gets a new one.
   */
  #opKeyFor(id: string): string {
    const attempts = this.#journal.attempts(id);
    return attempts === 0 ? opKey(id) : opKey(`${id}|attempt ${attempts + 1}`);
  }

  #grace(): number {
    return this.#options.unknownGraceMs ?? 60_000;
  }

  #accept(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(this.#options.idleTimeoutMs ?? 300_000);
    const reader = new FrameReader(this.#framing, this.#options.maxMessageBytes);
    const frameTimeoutMs = this.#options.frameTimeoutMs ?? 5_000;
    const maxInFlight = this.#options.maxInFlightPerConnection ?? 256;
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    let frameTimer: NodeJS.Timeout | undefined;
    let inFlight = 0;
    let writeBlocked = false;

    const drop = (reason: string) => {
      this.#log(`card-gateway: closing ${peer}: ${reason}`);
      socket.destroy();
    };
    socket.on("timeout", () => drop("idle"));
    socket.on("error", (error) => this.#log(`card-gateway: ${peer}: ${messageOf(error)}`));
    socket.on("close", () => {
      clearTimeout(frameTimer);
      this.#sockets.delete(socket);
    });
    socket.on("data", (chunk: Buffer) => {
      let messages: Buffer[];
      try {
        messages = reader.push(chunk);
      } catch (error) {
        drop(error instanceof FramingError ? error.message : messageOf(error));
        return;
      }
      // A frame under way must complete in time (a slow client holds nothing for long).
      if (!reader.pending) {
        clearTimeout(frameTimer);
        frameTimer = undefined;
      } else if (frameTimer === undefined) {
        frameTimer = setTimeout(() => drop(`a frame did not complete within ${frameTimeoutMs} ms`), frameTimeoutMs);
      }
      for (const message of messages) {
        inFlight += 1;
        if (inFlight >= maxInFlight) socket.pause();
        this.respond(message)
          .then((response) => {
            if (response === undefined || socket.destroyed) return;
            // A client that does not read its answers is not read either: no answer piles up in memory.
            if (!socket.write(frame(response, this.#framing)) && !writeBlocked) {
              writeBlocked = true;
              socket.pause();
              socket.once("drain", () => {
                writeBlocked = false;
                if (inFlight < maxInFlight) socket.resume();
              });
            }
          })
          .catch((error: unknown) => this.#log(`card-gateway: ${peer}: message failed: ${messageOf(error)}`))
          .finally(() => {
            inFlight -= 1;
            if (inFlight < maxInFlight && !writeBlocked && socket.isPaused()) socket.resume();
          });
      }
    });
  }
}

/** The gateway answers requests and advices (MTI function digit 0 or 2). */
function answersTo(mti: string): boolean {
  return mti[2] === "0" || mti[2] === "2";
}

/** A repeat (last digit 1) counts as its original. */
function canonicalMti(mti: string): string {
  return mti[3] === "1" ? `${mti.slice(0, 3)}0` : mti;
}

function requireFields(request: Iso8583Message, numbers: readonly number[]): void {
  for (const number of numbers) {
    if (request.fields[number] === undefined) {
      throw new Refusal(RESPONSE_CODES.formatError, `DE ${number} is missing`);
    }
  }
}

/** An institution id (DE 32, DE 33, or DE 90's) as the journal keeps it: zero-filled to 11 digits. */
function acquirerId(digits: string): string {
  return digits.padStart(11, "0");
}

/**
 * DE 3 in full: transaction type (positions 1-2), from-account and
 * to-account types (3-4, 5-6). Purchases (00) and cash (01) take from the
 * default (00) or current (20) account to none (00); refunds (20) go from
 * none to the default or current account. Anything else is 12.
 */
function parseProcessing(de3: string): { type: "purchase" | "refund" } {
  const type = de3.slice(0, 2);
  const from = de3.slice(2, 4);
  const to = de3.slice(4, 6);
  const account = (code: string) => code === "00" || code === "20";
  if ((type === "00" || type === "01") && account(from) && to === "00") return { type: "purchase" };
  if (type === "20" && from === "00" && account(to)) return { type: "refund" };
  throw new Refusal(RESPONSE_CODES.invalidTransaction, `processing code ${de3} is not supported`);
}

/**
 * A transaction's identity (the journal id) and its fingerprint (a hash of
 * what it asks for), as the gateway computes them for `request`.
 */
export function identify(request: Iso8583Message, walletElement = DEFAULT_WALLET_ELEMENT): Identity {
  const f = request.fields;
  const acquirer = acquirerId(f[32] ?? "");
  const forwarder = f[33] === undefined ? null : acquirerId(f[33]);
  const terminal = f[41] ?? "";
  const merchant = f[42] ?? null;
  // Requests, repeats and advices of one class share an identity: a 0420 after an unanswered 0400 is a repeat.
  const messageClass = request.mti.slice(0, 2);
  const id = [
    messageClass,
    acquirer,
    forwarder ?? "",
    terminal,
    merchant ?? "",
    f[11],
    `${f[13] ?? ""}${f[12] ?? ""}`,
    f[37] ?? "",
  ].join("|");
  const content = [messageClass, f[2], f[3], f[4], f[14], f[49], f[90], f[95], f[walletElement]];
  const fingerprint = createHash("sha256")
    .update(JSON.stringify(content.map((value) => value ?? null)))
    .digest("hex");
  return { id, fingerprint, acquirer, forwarder, terminal, merchant, advice: request.mti[2] === "2" };
}

/** The ledger key of a message: the same for every attempt of it. */
export function opKey(id: string): string {
  return keccak256(toUtf8Bytes(`bank-chain/iso8583/${id}`));
}

/**
 * DE 90 (n 42): original MTI (4), STAN (6), transmission date and time (10),
 * acquirer id (11, zero-filled), forwarder id (11). The original is looked for
 * at `terminal`, the terminal of the message naming it.
 */
function parseOriginal(de90: string, terminal: string): OriginalRef {
  return {
    mti: canonicalMti(de90.slice(0, 4)),
    stan: de90.slice(4, 10),
    de7: de90.slice(10, 20),
    acquirer: de90.slice(20, 31),
    terminal,
  };
}

/** DE 95's actual transaction amount (its first 12 characters), when sent; a malformed one is 30. */
function parseActualAmount(de95: string | undefined): bigint | undefined {
  if (de95 === undefined) return undefined;
  const actual = de95.slice(0, 12);
  if (!/^[0-9]{12}$/.test(actual)) {
    throw new Refusal(RESPONSE_CODES.formatError, "DE 95 does not start with a 12-digit actual amount");
  }
  return BigInt(actual);
}
