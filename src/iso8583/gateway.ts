/**
 * The card gateway: a TCP server that takes ISO 8583 messages from card
 * networks and turns them into AccountLedger operations on customers'
 * account profiles, answering each with a response code (docs/iso8583.md).
 *
 * - 0100 places a hold and answers 0110;
 * - 0200 debits (processing code 00 or 01), credits (20), or captures the
 *   hold of an earlier 0100 (found through DE 90, or by DE 37 and DE 41),
 *   and answers 0210;
 * - 0400 / 0420 reverse the original named by DE 90 and answer 0410 / 0430,
 *   idempotently: a repeated reversal gets the first one's answer;
 * - 0800 answers 0810.
 * Repeats (last MTI digit 1) count as their original MTI.
 *
 * Every message that reaches the ledger is journaled in SQLite first (see
 * `journal.ts`), so a crash loses no record and posts nothing twice. A message
 * that cannot be decoded is answered with 30 when its MTI is readable and
 * logged with its category otherwise; the connection stays usable. Framing
 * errors, a frame that does not complete in time (a slow client) and idle
 * connections close the connection. Nothing a client sends is allowed to throw
 * out of the connection handler.
 */
import net from "node:net";

import { keccak256, toUtf8Bytes, ZeroAddress, ZeroHash } from "ethers";

import { systemClock, type Clock } from "../chain/clock.js";
import { listen } from "../chain/http-server.js";
import { Poller } from "../chain/poller.js";
import { BankChainError, messageOf } from "../errors.js";
import { decode, encode, Iso8583Error, responseMti, type Iso8583Message } from "./codec.js";
import { frame, FrameReader, FramingError, type Framing } from "./framing.js";
import { Journal, type JournalRow, type MessageKind, type NewJournalRow, type OperationName } from "./journal.js";
import { type LedgerOperation, type LedgerOutcome, type LedgerPoster } from "./ledger.js";
import { RESPONSE_CODES, responseForLedgerError, type ResponseCode } from "./responses.js";
import { parseWalletData, WALLET_DATA_ELEMENTS, WalletDataError, type WalletData } from "./wallet-data.js";

/** The gateway is misconfigured. */
export class GatewayConfigError extends BankChainError {}

export interface CardGatewayOptions {
  readonly journal: Journal;
  readonly poster: LedgerPoster;
  /** The chain the ledger is on; a wallet-data chain id (tag 04) must match it. */
  readonly chainId: bigint;
  /** Asset codes (tag 03) this bank's token answers to, upper case, e.g. `["BUSD", "USD"]`. */
  readonly assets: readonly string[];
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
  /** Largest message accepted (default: what the framing can carry). */
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

/** Elements a response copies from its request where present. */
const ECHOED = [2, 3, 4, 7, 11, 12, 13, 37, 41, 49] as const;

interface Answer {
  readonly code: ResponseCode;
  readonly authCode?: string | null;
}

interface Financial {
  readonly kind: MessageKind;
  readonly operation: OperationName;
  readonly wallet: WalletData;
}

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
  readonly #framing: Framing;
  readonly #walletElement: number;
  readonly #log: (line: string) => void;
  readonly #sockets = new Set<net.Socket>();
  /** Messages being processed, by journal id: a duplicate or a reversal waits for them. */
  readonly #inFlight = new Map<string, Promise<unknown>>();
  readonly #assets: ReadonlySet<string>;
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
    this.#options = options;
    this.#journal = options.journal;
    this.#poster = options.poster;
    this.#framing = options.framing ?? "binary2";
    this.#walletElement = walletElement;
    this.#log = options.log ?? (() => undefined);
    this.#assets = new Set(options.assets.map((asset) => asset.toUpperCase()));
    this.#clock = options.clock ?? systemClock;
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
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  /**
   * Settles operations of unknown fate: one that landed is reversed (its
   * message was answered 91, or not at all); one still absent after the grace
   * period counts as not posted.
   */
  async reconcile(): Promise<void> {
    for (const row of this.#journal.unknown()) {
      if (this.#inFlight.has(row.id) || row.opKey === null) continue;
      let used: boolean;
      try {
        used = await this.#poster.isKeyUsed(row.opKey);
      } catch {
        return; // the chain is still away
      }
      if (!used) {
        if (this.#clock.now() >= (row.settleBy ?? 0)) this.#journal.markFailed(row.id);
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
        this.#log(`card-gateway: ${row.mti} ${row.id} landed after a 91 answer and was reversed`);
      }
    }
  }

  /**
   * The response to one message (without framing), or undefined when none is
   * due (an undecodable message without a readable MTI, or a response-class
   * MTI). Never throws for anything in `bytes`.
   */
  async respond(bytes: Uint8Array): Promise<Buffer | undefined> {
    let request: Iso8583Message;
    try {
      request = decode(bytes);
    } catch (error) {
      if (!(error instanceof Iso8583Error)) throw error;
      const where = `${error.category} at field ${error.field}, offset ${error.offset}`;
      if (error.mti === undefined || !answersTo(error.mti)) {
        this.#log(`card-gateway: undecodable message dropped: ${where}`);
        return undefined;
      }
      this.#log(`card-gateway: ${error.mti} refused with 30: ${where}`);
      return this.#answer({ mti: error.mti, fields: error.partial }, { code: RESPONSE_CODES.formatError });
    }
    if (!answersTo(request.mti)) {
      this.#log(`card-gateway: ${request.mti} is not a request or advice; dropped`);
      return undefined;
    }
    let answer: Answer;
    try {
      answer = await this.#handle(request);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      this.#log(
        `card-gateway: ${request.mti} STAN ${request.fields[11] ?? "-"} refused with ${error.code}: ${error.message}`,
      );
      answer = { code: error.code };
    }
    return this.#answer(request, answer);
  }

  #answer(request: Iso8583Message, answer: Answer): Buffer {
    const fields: Record<number, string> = {};
    for (const number of ECHOED) {
      const value = request.fields[number];
      if (value !== undefined) fields[number] = value;
    }
    if (request.mti.startsWith("08") && request.fields[70] !== undefined) fields[70] = request.fields[70];
    if (answer.authCode !== undefined && answer.authCode !== null) fields[38] = answer.authCode;
    fields[39] = answer.code;
    return encode({ mti: responseMti(request.mti), fields });
  }

  async #handle(request: Iso8583Message): Promise<Answer> {
    switch (canonicalMti(request.mti)) {
      case "0800":
        return { code: RESPONSE_CODES.approved };
      case "0100":
        return this.#financial(request, "authorization");
      case "0200":
        return this.#financial(request, "financial");
      case "0400":
      case "0420":
        return this.#reversal(request);
      default:
        throw new Refusal(RESPONSE_CODES.invalidTransaction, `MTI ${request.mti} is not handled here`);
    }
  }

  async #financial(request: Iso8583Message, kind: MessageKind): Promise<Answer> {
    const { operation, wallet } = this.#check(request, kind);
    const id = identity(request);
    const prior = await this.#prior(id);
    if (prior !== undefined && prior.state !== "failed") {
      if (prior.state === "unknown") return { code: RESPONSE_CODES.unavailable };
      throw new Refusal(RESPONSE_CODES.duplicate, `message ${id} was already answered ${prior.responseCode}`);
    }
    let refKey: string | null = null;
    let originalId: string | null = null;
    let chosen = operation;
    if (kind === "financial" && operation === "debit") {
      const hold = this.#holdFor(request);
      if (hold !== undefined) {
        await this.#inFlight.get(hold.id);
        const settled = this.#journal.get(hold.id)!;
        if (settled.state === "unknown") return { code: RESPONSE_CODES.unavailable };
        if (settled.state !== "done" || settled.responseCode !== RESPONSE_CODES.approved) {
          throw new Refusal(RESPONSE_CODES.invalidTransaction, `the authorization ${hold.id} was not approved`);
        }
        chosen = "capture";
        refKey = settled.opKey;
        originalId = settled.id;
      }
    }
    const row: NewJournalRow = {
      id,
      kind,
      mti: canonicalMti(request.mti),
      stan: request.fields[11]!,
      de7: request.fields[7]!,
      rrn: request.fields[37] ?? null,
      terminal: request.fields[41] ?? null,
      operation: chosen,
      opKey: opKey(id),
      refKey,
      originalId,
      wallet: wallet.address,
      amount: wallet.amount.toString(),
    };
    return this.#post(row, {
      kind: chosen,
      key: row.opKey!,
      wallet: wallet.address,
      ref: refKey ?? ZeroHash,
      amount: wallet.amount,
    });
  }

  /** The approved authorization a 0200 completes: named by DE 90, or with the same DE 37 and DE 41. */
  #holdFor(request: Iso8583Message): JournalRow | undefined {
    const original = request.fields[90];
    if (original !== undefined) {
      const { mti, stan, de7 } = parseOriginal(original);
      if (mti !== "0100") return undefined;
      const row = this.#journal.findOriginal(mti, stan, de7);
      if (row === undefined) {
        throw new Refusal(RESPONSE_CODES.invalidTransaction, `DE 90 names an authorization this gateway never saw`);
      }
      return row;
    }
    const rrn = request.fields[37];
    if (rrn === undefined) return undefined;
    return this.#journal.findAuthorization(rrn, request.fields[41] ?? null);
  }

  async #reversal(request: Iso8583Message): Promise<Answer> {
    requireFields(request, [7, 11, 90]);
    const id = identity(request);
    const prior = await this.#prior(id);
    if (prior !== undefined && prior.state !== "failed") {
      // Idempotent: a repeated reversal gets the first one's answer.
      return { code: (prior.responseCode ?? RESPONSE_CODES.unavailable) as ResponseCode };
    }
    const { mti, stan, de7 } = parseOriginal(request.fields[90]!);
    const original = this.#journal.findOriginal(mti, stan, de7);
    if (original !== undefined && original.kind === "reversal") {
      throw new Refusal(RESPONSE_CODES.invalidTransaction, `DE 90 names a reversal, not an original`);
    }
    if (original === undefined) {
      // The reversal overtook its original: remember it, so a late original is declined. An advice (0420)
      // must be acknowledged; a request (0400) is told there was nothing to reverse.
      this.#journal.markReversedUnseen(mti, stan, de7, id);
      this.#log(
        `card-gateway: ${request.mti} ${id} reverses ${mti} STAN ${stan} never seen; it will be declined if it comes`,
      );
      return {
        code: canonicalMti(request.mti) === "0420" ? RESPONSE_CODES.approved : RESPONSE_CODES.invalidTransaction,
      };
    }
    await this.#inFlight.get(original.id);
    const settled = this.#journal.get(original.id)!;
    if (settled.state !== "done" || settled.responseCode !== RESPONSE_CODES.approved || settled.autoReversed) {
      // Nothing stands on the ledger for it: declined, known not posted, or
      // of unknown fate (the reconciler reverses it if it turns out to have landed).
      return { code: RESPONSE_CODES.approved };
    }
    const row: NewJournalRow = {
      id,
      kind: "reversal",
      mti: canonicalMti(request.mti),
      stan: request.fields[11]!,
      de7: request.fields[7]!,
      rrn: request.fields[37] ?? null,
      terminal: request.fields[41] ?? null,
      operation: "reverse",
      opKey: opKey(id),
      refKey: settled.opKey,
      originalId: settled.id,
      wallet: settled.wallet,
      amount: settled.amount,
    };
    return this.#post(row, {
      kind: "reverse",
      key: row.opKey!,
      wallet: settled.wallet!,
      ref: settled.opKey!,
      amount: 0n,
    });
  }

  /** The journal row of `id` once no other message with that id is under way. */
  async #prior(id: string): Promise<JournalRow | undefined> {
    while (this.#inFlight.has(id)) await this.#inFlight.get(id);
    return this.#journal.get(id);
  }

  /** Journals `row`, posts `operation`, records and returns the answer. */
  async #post(row: NewJournalRow, operation: LedgerOperation): Promise<Answer> {
    // The callers awaited since their duplicate check: check again. From here
    // on no await comes before the row and the in-flight entry both exist, so
    // a duplicate arriving later waits for this one.
    if (row.kind !== "reversal" && this.#journal.isReversedUnseen(row.mti, row.stan, row.de7)) {
      throw new Refusal(RESPONSE_CODES.invalidTransaction, `message ${row.id} was reversed before it arrived`);
    }
    const existing = this.#journal.get(row.id);
    if (this.#inFlight.has(row.id) || (existing !== undefined && existing.state !== "failed")) {
      if (row.kind !== "reversal") throw new Refusal(RESPONSE_CODES.duplicate, `message ${row.id} is a duplicate`);
      const prior = await this.#prior(row.id);
      return { code: (prior?.responseCode ?? RESPONSE_CODES.unavailable) as ResponseCode };
    }
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
          this.#log(`card-gateway: ${row.mti} ${row.id} refused by the ledger with ${outcome.error}`);
        }
        this.#journal.finish(row.id, code);
        return { code };
      }
      case "unavailable":
        this.#log(`card-gateway: ledger unavailable for ${row.mti} ${row.id}: ${outcome.reason}`);
        if (outcome.posted === "no") this.#journal.markFailed(row.id);
        else this.#journal.markUnknown(row.id, this.#clock.now() + this.#grace());
        return { code: RESPONSE_CODES.unavailable };
    }
  }

  /** Checks a 0100 / 0200 before anything is journaled; throws a Refusal. */
  #check(request: Iso8583Message, kind: MessageKind): Financial & { operation: OperationName } {
    requireFields(request, [3, 7, 11, this.#walletElement]);
    const processing = request.fields[3]!.slice(0, 2);
    let operation: OperationName;
    if (processing === "00" || processing === "01") operation = kind === "authorization" ? "hold" : "debit";
    else if (processing === "20" && kind === "financial") operation = "credit";
    else throw new Refusal(RESPONSE_CODES.invalidTransaction, `processing code ${request.fields[3]} is not supported`);
    let wallet: WalletData;
    try {
      wallet = parseWalletData(request.fields[this.#walletElement]!);
    } catch (error) {
      if (!(error instanceof WalletDataError)) throw error;
      const code = error.category === "pd_bad_amount" ? RESPONSE_CODES.invalidAmount : RESPONSE_CODES.formatError;
      throw new Refusal(code, `DE ${this.#walletElement}: ${error.category} at offset ${error.offset}`);
    }
    if (wallet.chainId !== undefined && wallet.chainId !== this.#options.chainId) {
      throw new Refusal(RESPONSE_CODES.invalidTransaction, `wallet data names chain ${wallet.chainId}`);
    }
    if (wallet.asset !== undefined && !this.#assets.has(wallet.asset.toUpperCase())) {
      throw new Refusal(RESPONSE_CODES.invalidTransaction, `wallet data names asset ${wallet.asset}`);
    }
    return { kind, operation, wallet };
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
            if (response !== undefined && !socket.destroyed) socket.write(frame(response, this.#framing));
          })
          .catch((error: unknown) => this.#log(`card-gateway: ${peer}: message failed: ${messageOf(error)}`))
          .finally(() => {
            inFlight -= 1;
            if (inFlight < maxInFlight && socket.isPaused()) socket.resume();
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

/** The journal id of a message. */
function identity(request: Iso8583Message): string {
  const f = request.fields;
  return [canonicalMti(request.mti), f[7], f[11], f[41] ?? "", f[32] ?? ""].join("|");
}

/** The ledger key of a message: the same for every attempt of it. */
function opKey(id: string): string {
  return keccak256(toUtf8Bytes(`bank-chain/iso8583/${id}`));
}

/** DE 90: original MTI (4), STAN (6), transmission date and time (10), acquirer (11), forwarder (11). */
function parseOriginal(de90: string): { mti: string; stan: string; de7: string } {
  return { mti: canonicalMti(de90.slice(0, 4)), stan: de90.slice(4, 10), de7: de90.slice(10, 20) };
}
