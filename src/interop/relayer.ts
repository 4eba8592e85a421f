/**
 * The relayer: carries every confirmed `MessagePosted` to its destination.
 *
 * It follows each chain's AttestedGateway (atomic mode: the message and the
 * checkpoint commit together), then for each open message, in rounds:
 *
 * - reads the destination's record of `(source chain, nonce)`: `Delivered` is
 *   done; `Failed` is retried (`retry`, no signatures) with back-off while the
 *   destination's clock is within the deadline;
 * - otherwise fetches the attestations from the configured attesters, keeps
 *   those that recover (low s) to a member of the destination's current set
 *   for its current epoch, and once there are `threshold` of them the message
 *   is ready, its signatures sorted by signer, ascending; the ready messages
 *   of a round go to each destination together: one `deliverBatch` of up to
 *   `deliveryBatch` messages (a message ready alone goes at once with
 *   `deliver`: nothing waits for a batch to fill). The gateway skips a member
 *   it would refuse (`MessageSkipped`) and delivers the others;
 * - once the destination's clock is past the deadline and it never delivered
 *   the message, waits for the source's clock to reach `deadline +
 *   refundDelay` and for `threshold` attesters' `Undelivered` attestations
 *   (in the source gateway's domain and epoch: they checked a final
 *   destination block), and sends `refund` with them there;
 * - a chain that cannot be reached is waited for, with back-off.
 *
 * Every transaction is signed and stored before it is broadcast
 * (`SignedSender`), on every message it carries (a batch's on each member):
 * after a crash the stored transaction is followed up, never signed anew while
 * it may still be mined, and once mined each member is resolved from its
 * receipt (`MessageDelivered`, `MessageFailed`, or `MessageSkipped`, after
 * which the destination's `inboundStatus` decides whether it goes back to the
 * queue), so each message is delivered once by this relayer; the
 * destination's `(source chain, nonce)` guard is the last line against anyone
 * else.
 */
import { getAddress, type Log, type TransactionReceipt } from "ethers";
import { z } from "zod";

import { ConfirmedEventFollower, type FollowedLog } from "../chain/events.js";
import { HttpError, JsonHttpServer, pageQuery, route } from "../chain/http.js";
import { keysetPage, parseKeysetCursor } from "../chain/keyset.js";
import { lineLog, loggerOf, type Logger } from "../chain/log.js";
import { Poller } from "../chain/poller.js";
import { retryDelay, type RetryPolicy } from "../chain/retry.js";
import { contractRevertError, errorInterface } from "../chain/reverts.js";
import { isoNow, systemClock, type Clock } from "../chain/clock.js";
import type { Migration, Store } from "../store/store.js";
import { messageOf } from "../errors.js";
import { IAttestedGateway__factory } from "../../typechain-types/index.js";
import { chainOf, checkChains, followerReads, type InteropChain } from "./chains.js";
import {
  attestationDigest,
  attestedGatewayDomain,
  gatewayInterface,
  MESSAGE_POSTED,
  MessageMismatchError,
  messageFromJson,
  messageFromLog,
  messageToJson,
  messageTuple,
  statusName,
  undeliveredDigest,
  type Message,
} from "./messages.js";
import type { NodeDirectory } from "./nodes.js";
import { recoverEcdsa } from "./payload.js";
import type { SignedSender, SignedTx } from "./sender.js";

export const RELAYER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "relayer messages",
    sql: `CREATE TABLE relayer_messages (
      id TEXT PRIMARY KEY,
      source_chain TEXT NOT NULL,
      nonce TEXT NOT NULL,
      destination_chain TEXT NOT NULL,
      deadline INTEGER NOT NULL,
      message TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('open', 'delivered', 'refunded', 'unroutable')),
      destination_status TEXT NOT NULL DEFAULT 'None',
      attempts INTEGER NOT NULL DEFAULT 0,
      next_at INTEGER NOT NULL,
      tx_action TEXT CHECK (tx_action IN ('deliver', 'retry', 'refund')),
      tx_chain TEXT,
      tx_hash TEXT,
      tx_nonce INTEGER,
      tx_raw TEXT,
      delivery_tx TEXT,
      refund_tx TEXT,
      note TEXT,
      seen_block INTEGER NOT NULL,
      seen_tx TEXT NOT NULL,
      updated_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX relayer_open ON relayer_messages (state, next_at);
    CREATE TABLE relayer_sends (
      tx_hash TEXT PRIMARY KEY,
      message_id TEXT NOT NULL REFERENCES relayer_messages (id),
      action TEXT NOT NULL,
      chain TEXT NOT NULL,
      outcome TEXT,
      at TEXT NOT NULL
    ) STRICT;`,
  },
  {
    version: 2,
    name: "relayer sends: one transaction for several messages (deliverBatch)",
    sql: `CREATE TABLE relayer_sends_v2 (
      tx_hash TEXT NOT NULL,
      message_id TEXT NOT NULL REFERENCES relayer_messages (id),
      action TEXT NOT NULL,
      chain TEXT NOT NULL,
      outcome TEXT,
      at TEXT NOT NULL,
      PRIMARY KEY (tx_hash, message_id)
    ) STRICT;
    INSERT INTO relayer_sends_v2 (rowid, tx_hash, message_id, action, chain, outcome, at)
      SELECT rowid, tx_hash, message_id, action, chain, outcome, at FROM relayer_sends;
    DROP TABLE relayer_sends;
    ALTER TABLE relayer_sends_v2 RENAME TO relayer_sends;
    CREATE INDEX relayer_sends_message ON relayer_sends (message_id);
    CREATE INDEX relayer_messages_tx ON relayer_messages (tx_hash);`,
  },
];

type Action = "deliver" | "retry" | "refund";

/** A message as the relayer keeps it. */
export interface RelayedMessage {
  readonly id: string;
  readonly message: Message;
  readonly state: "open" | "delivered" | "refunded" | "unroutable";
  readonly destinationStatus: string;
  readonly attempts: number;
  readonly deliveryTx: string | null;
  readonly refundTx: string | null;
  readonly note: string | null;
  /** Every transaction the relayer signed for it, in order. */
  readonly sends: ReadonlyArray<{ readonly tx: string; readonly action: string; readonly outcome: string | null }>;
}

export interface RelayerOptions {
  readonly name?: string;
  readonly store: Store;
  readonly nodes: NodeDirectory;
  readonly chains: readonly InteropChain[];
  /** The relayer's key (pays gas on every chain). */
  readonly sender: SignedSender;
  /** Base URLs of the attesters to ask (`<url>/attestations/<id>`). */
  readonly attesters: readonly string[];
  readonly pollIntervalMs?: number;
  /** Back-off of a delivery whose recipient failed (`Failed`, retried until the deadline). */
  readonly retry?: RetryPolicy;
  /** Back-off while a chain cannot be reached. */
  readonly unreachable?: RetryPolicy;
  /** How long one attester may take to answer. */
  readonly attesterTimeoutMs?: number;
  /** Most messages handled per round. */
  readonly batch?: number;
  /**
   * Most messages in one `deliverBatch` (1 to the gateway's `MAX_BATCH`, 64; default 32). The messages ready in a
   * round go together, per destination; one ready alone goes at once with `deliver`.
   */
  readonly deliveryBatch?: number;
  readonly host?: string;
  /** Port of its status API (`GET /messages/:id`, `/health`); 0 picks a free one. */
  readonly port?: number;
  readonly clock?: Clock;
  readonly log?: (line: string) => void;
  /**
   * Told of these points, synchronously: `follow:<id>` (a message is written, its checkpoint not
   * committed), `<action>:recorded:<id>` (the signed transaction is stored, not broadcast),
   * `<action>:sent:<id>` (broadcast), `<action>:mined:<id>` (its receipt is in, not yet applied).
   * A batch (`deliverBatch`, recorded as such in `sends`) is told once, as `deliver` with its first message's id,
   * at each point.
   * Tests crash the process there.
   */
  readonly onStep?: (point: string) => void;
}

export const DEFAULT_RELAYER_RETRY: RetryPolicy = { baseMs: 1_000, maxMs: 60_000, factor: 2 };
export const DEFAULT_UNREACHABLE_RETRY: RetryPolicy = { baseMs: 500, maxMs: 15_000, factor: 2 };
/** Default most messages in one `deliverBatch`. */
export const DEFAULT_DELIVERY_BATCH = 32;
/** The gateway's `MAX_BATCH`. */
export const MAX_DELIVERY_BATCH = 64;
/**
 * The most gas a `deliverBatch` may be estimated at; above it the members go one by one. A recipient that burns all
 * the gas it is given makes a batch need 64 times what follows it (the EVM keeps 1/64 back at each call), which
 * could pass the estimate and still be over a block's gas limit once the sender's margin is added: never mined.
 */
export const MAX_BATCH_GAS = 10_000_000n;
/** Longest wait before a message is looked at again, whatever its clocks say (a chain's time can jump). */
const MAX_WAIT_MS = 5_000;

const attestationReply = z.object({
  messageId: z.string(),
  epoch: z.number().int().positive(),
  attester: z.string(),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/),
});

interface Row {
  id: string;
  source_chain: string;
  nonce: string;
  destination_chain: string;
  deadline: number;
  message: string;
  state: RelayedMessage["state"];
  destination_status: string;
  attempts: number;
  next_at: number;
  tx_action: Action | null;
  tx_chain: string | null;
  tx_hash: string | null;
  tx_nonce: number | null;
  tx_raw: string | null;
  delivery_tx: string | null;
  refund_tx: string | null;
  note: string | null;
}

/** A message whose attestations are in hand: to be delivered this round. */
interface Ready {
  readonly row: Row;
  readonly message: Message;
  readonly signatures: string[];
}

/** What the relayer reads of a chain once per round. */
interface ChainView {
  readonly timestamp: bigint;
  readonly epoch: bigint;
  readonly attesters: ReadonlySet<string>;
  readonly threshold: number;
  readonly refundDelay: bigint;
}

const errors = errorInterface([IAttestedGateway__factory.abi]);

export class Relayer {
  readonly name: string;
  readonly #store: Store;
  readonly #nodes: NodeDirectory;
  readonly #chains: readonly InteropChain[];
  readonly #sender: SignedSender;
  readonly #attesters: readonly string[];
  readonly #retry: RetryPolicy;
  readonly #unreachable: RetryPolicy;
  readonly #attesterTimeoutMs: number;
  readonly #batch: number;
  readonly #deliveryBatch: number;
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  /** The same log, structured: lines about one message carry its id as `messageId`. */
  readonly #logger: Logger;
  readonly #onStep: (point: string) => void;
  readonly #followers: ReadonlyMap<bigint, ConfirmedEventFollower>;
  readonly #poller: Poller;
  /** Consecutive failures to reach each chain, for its back-off. */
  readonly #down = new Map<bigint, { failures: number; until: number }>();
  readonly #http: JsonHttpServer;
  readonly #configuredUrl: string;
  #running = false;

  constructor(options: RelayerOptions) {
    this.name = options.name ?? "relayer";
    this.#store = options.store;
    this.#nodes = options.nodes;
    // Distinct chains, each with nodes, addresses checksummed.
    this.#chains = checkChains(options.chains, options.nodes);
    this.#sender = options.sender;
    this.#attesters = options.attesters.map((url) => url.replace(/\/+$/, ""));
    this.#retry = options.retry ?? DEFAULT_RELAYER_RETRY;
    this.#unreachable = options.unreachable ?? DEFAULT_UNREACHABLE_RETRY;
    this.#attesterTimeoutMs = options.attesterTimeoutMs ?? 2_000;
    this.#batch = options.batch ?? 200;
    this.#deliveryBatch = options.deliveryBatch ?? DEFAULT_DELIVERY_BATCH;
    if (!Number.isInteger(this.#deliveryBatch) || this.#deliveryBatch < 1 || this.#deliveryBatch > MAX_DELIVERY_BATCH) {
      throw new RangeError(
        `deliveryBatch must be an integer from 1 to ${MAX_DELIVERY_BATCH}, not ${this.#deliveryBatch}`,
      );
    }
    this.#clock = options.clock ?? systemClock;
    // Every line starts `<name>: `; a plain `log` function gets exactly the text it always did.
    this.#logger = loggerOf(options.log ?? (() => undefined)).child({}, { msgPrefix: `${this.name}: ` });
    this.#log = lineLog(this.#logger);
    this.#onStep = options.onStep ?? (() => undefined);
    options.store.migrate("interop.relayer", RELAYER_MIGRATIONS);
    const pollIntervalMs = options.pollIntervalMs ?? 500;
    this.#followers = new Map(
      this.#chains.map((chain) => [
        chain.chainId,
        new ConfirmedEventFollower({
          provider: followerReads(this.#nodes, chain.chainId),
          chainId: chain.chainId,
          store: this.#store,
          name: `interop-relayer:${chain.chainId}`,
          filter: { address: chain.attestedGateway, topics: [MESSAGE_POSTED] },
          confirmations: chain.confirmations,
          fromBlock: chain.fromBlock,
          pollIntervalMs,
          atomic: true,
          handler: (entry) => this.#record(chain, entry),
        }),
      ]),
    );
    this.#poller = new Poller({
      tick: () => this.poll(),
      intervalMs: pollIntervalMs,
      onError: (error) => this.#log(`round failed: ${messageOf(error)}`),
    });
    const host = options.host ?? "127.0.0.1";
    const port = options.port ?? 0;
    this.#configuredUrl = `http://${host}:${port}`;
    this.#http = relayerHttpServer(this, {
      host,
      port,
      log: this.#log,
      title: `bank-chain interop ${this.name}`,
      health: {
        // Healthy only when every chain answers; the first chain's head and follower are reported.
        blockNumber: async () =>
          (
            await Promise.all(
              this.#chains.map((chain) => this.#nodes.withNode(chain.chainId, (provider) => provider.getBlockNumber())),
            )
          )[0]!,
        followerNextBlock: () => this.#followers.get(this.#chains[0]!.chainId)?.checkpoint().nextBlock,
        checkDatabase: () => this.#store.check(),
      },
    });
  }

  /** The status API's base URL. */
  get url(): string {
    return this.#http.url ?? this.#configuredUrl;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    await this.#http.start();
    this.#running = true;
    this.#poller.start();
    this.#log(
      `relaying between chains ${this.#chains.map((chain) => chain.chainId).join(", ")}; status at ${this.url}`,
    );
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    await this.#http.stop();
    await this.#poller.stop();
  }

  /** Asks for a round now. */
  wake(): void {
    this.#poller.wake();
  }

  /** One round: new messages, stored transactions, then what is due. True if it did anything. */
  async poll(): Promise<boolean> {
    let busy = false;
    for (const [chainId, follower] of this.#followers) {
      if (this.#isDown(chainId)) continue;
      try {
        busy = (await follower.poll()) > 0 || busy;
        this.#up(chainId);
      } catch (error) {
        this.#fellDown(chainId, `following chain ${chainId}`, error);
      }
    }
    busy = (await this.#followUp()) || busy;
    busy = (await this.#relayDue()) || busy;
    return busy;
  }

  /** A message by id, as the relayer keeps it. */
  message(id: string): RelayedMessage | undefined {
    const row = this.#store.get<Row>("SELECT * FROM relayer_messages WHERE id = ?", id.toLowerCase());
    return row === undefined ? undefined : this.#relayed(row);
  }

  /**
   * Up to `limit` messages newest first (in the order the relayer recorded them, descending), in one state or any,
   * recorded before the one numbered `before`; each with its number (`seq`), the cursor of what follows it.
   */
  messages(query: {
    readonly state?: RelayedMessage["state"] | undefined;
    readonly before?: number | undefined;
    readonly limit: number;
  }): Array<{ readonly seq: number; readonly message: RelayedMessage }> {
    return this.#store
      .all<Row & { seq: number }>(
        `SELECT rowid AS seq, * FROM relayer_messages WHERE (? IS NULL OR state = ?) AND (? IS NULL OR rowid < ?)
         ORDER BY rowid DESC LIMIT ?`,
        query.state ?? null,
        query.state ?? null,
        query.before ?? null,
        query.before ?? null,
        query.limit,
      )
      .map((row) => ({ seq: row.seq, message: this.#relayed(row) }));
  }

  #relayed(row: Row): RelayedMessage {
    const sends = this.#store.all<{ tx_hash: string; action: string; outcome: string | null }>(
      "SELECT tx_hash, action, outcome FROM relayer_sends WHERE message_id = ? ORDER BY rowid",
      row.id,
    );
    return {
      id: row.id,
      message: messageFromJson(row.message),
      state: row.state,
      destinationStatus: row.destination_status,
      attempts: row.attempts,
      deliveryTx: row.delivery_tx,
      refundTx: row.refund_tx,
      note: row.note,
      sends: sends.map((send) => ({ tx: send.tx_hash, action: send.action, outcome: send.outcome })),
    };
  }

  /** Every message not yet delivered or refunded. */
  openMessages(): string[] {
    return this.#store.all<{ id: string }>("SELECT id FROM relayer_messages WHERE state = 'open'").map((r) => r.id);
  }

  // ───────────────────────────── following ─────────────────────────────

  /** Records a confirmed `MessagePosted` (inside the follower's transaction). */
  #record(source: InteropChain, log: FollowedLog): void {
    let id: string;
    let message: Message;
    try {
      ({ id, message } = messageFromLog(log, source.chainId, source.attestedGateway));
    } catch (error) {
      if (error instanceof MessageMismatchError) {
        this.#log(`ignored a log in ${log.transactionHash}: ${error.message}`);
        return;
      }
      throw error;
    }
    const destination = chainOf(this.#chains, message.destinationChainId);
    const routable = destination !== undefined && destination.attestedGateway === message.destinationGateway;
    const changed = this.#store.run(
      `INSERT INTO relayer_messages (id, source_chain, nonce, destination_chain, deadline, message, state, next_at,
         note, seen_block, seen_tx, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      id,
      source.chainId.toString(),
      message.nonce.toString(),
      message.destinationChainId.toString(),
      Number(message.deadline),
      messageToJson(message),
      routable ? "open" : "unroutable",
      this.#clock.now(),
      routable ? null : `no configured gateway ${message.destinationGateway} on chain ${message.destinationChainId}`,
      log.blockNumber,
      log.transactionHash,
      isoNow(this.#clock),
    ).changes;
    if (changed > 0) this.#onStep(`follow:${id}`);
  }

  // ───────────────────────────── stored transactions ─────────────────────────────

  /**
   * Follows up every stored transaction (once per transaction: a batch's members share it): applies mined ones to
   * each of their messages, forgets dropped ones.
   */
  async #followUp(): Promise<boolean> {
    const rows = this.#store.all<Row>("SELECT * FROM relayer_messages WHERE tx_hash IS NOT NULL ORDER BY rowid");
    const byTx = new Map<string, Row[]>();
    for (const row of rows) byTx.set(row.tx_hash!, [...(byTx.get(row.tx_hash!) ?? []), row]);
    let busy = false;
    for (const [hash, members] of byTx) {
      const first = members[0]!;
      const chainId = BigInt(first.tx_chain!);
      if (this.#isDown(chainId)) continue;
      const tx: SignedTx = { chainId, hash, nonce: first.tx_nonce!, raw: first.tx_raw! };
      const action = first.tx_action!;
      let fate;
      try {
        fate = await this.#sender.fate(tx);
        this.#up(chainId);
      } catch (error) {
        this.#fellDown(chainId, `following up ${action} ${hash} of ${members.map((row) => row.id).join(", ")}`, error);
        continue;
      }
      if (fate.kind === "pending") continue;
      busy = true;
      if (fate.kind === "dropped") {
        for (const row of members) {
          this.#settle(row, "dropped", { note: `${row.tx_action} ${tx.hash} was dropped; deciding again` });
        }
        continue;
      }
      this.#onStep(`${action}:mined:${first.id}`);
      for (const row of members) await this.#applyReceipt(row, fate.receipt);
    }
    return busy;
  }

  /**
   * What a mined transaction of ours did to the message: its `MessageDelivered`, `MessageFailed` or
   * `MessageRefunded`; or its `MessageSkipped` (a batch member the gateway refused: delivered by someone else
   * first, expired, ...), after which the destination's own record decides.
   */
  async #applyReceipt(row: Row, receipt: TransactionReceipt): Promise<void> {
    const action = row.tx_action!;
    if (receipt.status !== 1) {
      this.#settle(row, "reverted", { note: `${action} ${receipt.hash} reverted; deciding again` });
      return;
    }
    const events = receipt.logs
      .map((log) => {
        try {
          return gatewayInterface.parseLog(log);
        } catch {
          return null;
        }
      })
      .filter((event) => event !== null && (event.args[0] as string).toLowerCase() === row.id);
    const names = new Set(events.map((event) => event!.name));
    if (names.has("MessageDelivered")) {
      this.#settle(row, "delivered", { state: "delivered", destinationStatus: "Delivered", deliveryTx: receipt.hash });
      this.#logMessage(row.id, `delivered ${row.id} in ${receipt.hash}`);
    } else if (names.has("MessageFailed")) {
      const attempts = row.attempts + 1;
      const wait = retryDelay(this.#retry, attempts);
      this.#settle(row, "failed", {
        destinationStatus: "Failed",
        attempts,
        nextAt: this.#clock.now() + wait,
        note: `the recipient failed (${action} ${receipt.hash}); retrying in ${wait} ms until the deadline`,
      });
      this.#logMessage(row.id, `${action} of ${row.id}: the recipient failed; retry ${attempts} in ${wait} ms`, "warn");
    } else if (names.has("MessageRefunded")) {
      this.#settle(row, "refunded", { state: "refunded", refundTx: receipt.hash });
      this.#logMessage(row.id, `refunded ${row.id} in ${receipt.hash}`);
    } else if (names.has("MessageSkipped")) {
      const skipped = events.find((event) => event!.name === "MessageSkipped")!;
      const reason = skippedReason(skipped.args[1] as string);
      await this.#settleSkipped(row, receipt.hash, reason);
    } else {
      this.#settle(row, "no event", { note: `${action} ${receipt.hash} emitted nothing for the message` });
    }
  }

  /**
   * A batch member the gateway skipped: the destination's `inboundStatus` says whether it is done (`Delivered`:
   * by someone else), to retry (`Failed`), or still to deliver (`None`: back to the queue). If the destination
   * cannot be read now, it is decided again in a later round, which reads it first.
   */
  async #settleSkipped(row: Row, hash: string, reason: string): Promise<void> {
    const message = messageFromJson(row.message);
    let status: string | undefined;
    try {
      status = statusName(
        await this.#nodes.withNode(message.destinationChainId, (provider) =>
          IAttestedGateway__factory.connect(this.#gatewayOf(message.destinationChainId), provider).inboundStatusFrom(
            message.sourceChainId,
            message.sourceGateway,
            message.nonce,
          ),
        ),
      );
    } catch (error) {
      this.#logMessage(
        row.id,
        `${row.id}: skipped in ${hash} (${reason}); reading its status failed: ${messageOf(error)}`,
        "warn",
      );
    }
    if (status === "Delivered") {
      this.#settle(row, `skipped: ${reason}`, {
        state: "delivered",
        destinationStatus: "Delivered",
        note: `skipped in ${hash} (${reason}): the destination has it delivered`,
      });
      return;
    }
    this.#settle(row, `skipped: ${reason}`, {
      destinationStatus: status ?? row.destination_status,
      nextAt: this.#clock.now() + (reason === "AttestedGatewayAlreadyProcessed" ? 0 : retryDelay(this.#unreachable, 1)),
      note: `skipped in ${hash} (${reason}); the destination says ${status ?? "(unread)"}: deciding again`,
    });
    this.#logMessage(row.id, `${row.id} skipped in ${hash}: ${reason}`);
  }

  /** Clears the stored transaction of `row` with its outcome and applies `changes`. */
  #settle(
    row: Row,
    outcome: string,
    changes: {
      state?: RelayedMessage["state"];
      destinationStatus?: string;
      attempts?: number;
      nextAt?: number;
      deliveryTx?: string;
      refundTx?: string;
      note?: string;
    },
  ): void {
    this.#store.transaction(() => {
      if (row.tx_hash !== null) {
        this.#store.run(
          "UPDATE relayer_sends SET outcome = ? WHERE tx_hash = ? AND message_id = ?",
          outcome,
          row.tx_hash,
          row.id,
        );
      }
      this.#store.run(
        `UPDATE relayer_messages SET tx_action = NULL, tx_chain = NULL, tx_hash = NULL, tx_nonce = NULL, tx_raw = NULL,
           state = ?, destination_status = ?, attempts = ?, next_at = ?, delivery_tx = ?, refund_tx = ?, note = ?,
           updated_at = ?
         WHERE id = ?`,
        changes.state ?? row.state,
        changes.destinationStatus ?? row.destination_status,
        changes.attempts ?? row.attempts,
        changes.nextAt ?? this.#clock.now(),
        changes.deliveryTx ?? row.delivery_tx,
        changes.refundTx ?? row.refund_tx,
        changes.note ?? row.note,
        isoNow(this.#clock),
        row.id,
      );
    });
  }

  /** Puts `row` off until `nextAt`, with a note. */
  #later(row: Row, nextAt: number, note: string, destinationStatus?: string): void {
    this.#store.run(
      "UPDATE relayer_messages SET next_at = ?, note = ?, destination_status = ?, updated_at = ? WHERE id = ?",
      nextAt,
      note,
      destinationStatus ?? row.destination_status,
      isoNow(this.#clock),
      row.id,
    );
  }

  // ───────────────────────────── deciding ─────────────────────────────

  /** Handles the open messages that are due, destination by destination. */
  async #relayDue(): Promise<boolean> {
    const due = this.#store.all<Row>(
      `SELECT * FROM relayer_messages WHERE state = 'open' AND tx_hash IS NULL AND next_at <= ?
       ORDER BY next_at, rowid LIMIT ?`,
      this.#clock.now(),
      this.#batch,
    );
    if (due.length === 0) return false;
    const views = new Map<bigint, ChainView | undefined>();
    const viewOf = async (chainId: bigint): Promise<ChainView | undefined> => {
      if (!views.has(chainId)) views.set(chainId, this.#isDown(chainId) ? undefined : await this.#view(chainId));
      return views.get(chainId);
    };
    let busy = false;
    const ready = new Map<bigint, Ready[]>();
    for (const row of due) {
      const message = messageFromJson(row.message);
      const destination = await viewOf(message.destinationChainId);
      if (destination === undefined) {
        this.#later(row, this.#downUntil(message.destinationChainId), `waiting for chain ${row.destination_chain}`);
        continue;
      }
      try {
        const decided = await this.#decide(row, message, destination, viewOf);
        if (typeof decided === "boolean") {
          busy = decided || busy;
        } else {
          ready.set(message.destinationChainId, [...(ready.get(message.destinationChainId) ?? []), decided]);
        }
      } catch (error) {
        this.#later(row, this.#clock.now() + retryDelay(this.#unreachable, 1), `round failed: ${messageOf(error)}`);
        this.#logMessage(row.id, `${row.id}: ${messageOf(error)}`, "warn");
      }
    }
    for (const [chainId, items] of ready) {
      for (let start = 0; start < items.length; start += this.#deliveryBatch) {
        const chunk = items.slice(start, start + this.#deliveryBatch);
        try {
          busy = (await this.#deliver(chainId, chunk)) || busy;
        } catch (error) {
          // A batch not sent (not stored) because the node would not estimate it or its estimate is over
          // MAX_BATCH_GAS (a recipient that burns all the gas it is given): each member alone, so one message
          // cannot hold up the others.
          if (chunk.length > 1 && !this.#stored(chunk[0]!.row.id)) {
            this.#log(`deliverBatch of ${chunk.length} to chain ${chainId} failed (${messageOf(error)}); one by one`);
            for (const item of chunk) busy = (await this.#deliverAlone(chainId, item)) || busy;
            continue;
          }
          for (const item of chunk) {
            this.#later(
              item.row,
              this.#clock.now() + retryDelay(this.#unreachable, 1),
              `round failed: ${messageOf(error)}`,
            );
          }
          this.#log(`delivering to chain ${chainId}: ${messageOf(error)}`);
        }
      }
    }
    return busy;
  }

  /** One line about the message `messageId`, with its id as a field. */
  #logMessage(messageId: string, line: string, level: "info" | "warn" = "info"): void {
    this.#logger.child({ messageId })[level](line);
  }

  /** `deliver` of one ready message; a failure puts it off. */
  async #deliverAlone(chainId: bigint, item: Ready): Promise<boolean> {
    try {
      return await this.#deliver(chainId, [item]);
    } catch (error) {
      this.#later(item.row, this.#clock.now() + retryDelay(this.#unreachable, 1), `round failed: ${messageOf(error)}`);
      this.#logMessage(item.row.id, `${item.row.id}: ${messageOf(error)}`, "warn");
      return false;
    }
  }

  /** Whether a signed transaction is stored for the message (so it must be followed up, never sent anew). */
  #stored(id: string): boolean {
    const row = this.#store.get<{ tx_hash: string | null }>("SELECT tx_hash FROM relayer_messages WHERE id = ?", id);
    return row !== undefined && row.tx_hash !== null;
  }

  /** Sends the ready messages for one destination: `deliver` for one alone, else one `deliverBatch`. */
  async #deliver(chainId: bigint, items: readonly Ready[]): Promise<boolean> {
    const gateway = this.#gatewayOf(chainId);
    if (items.length === 1) {
      const { row, message, signatures } = items[0]!;
      return this.#send([row], chainId, gateway, "deliver", () =>
        gatewayInterface.encodeFunctionData("deliver", [messageTuple(message), signatures]),
      );
    }
    const data = gatewayInterface.encodeFunctionData("deliverBatch", [
      items.map((item) => messageTuple(item.message)),
      items.map((item) => item.signatures),
    ]);
    const from = await this.#sender.address();
    const estimate = await this.#nodes.withNode(chainId, (provider) =>
      provider.estimateGas({ from, to: gateway, data }),
    );
    if (estimate > MAX_BATCH_GAS) {
      throw new Error(`deliverBatch estimated at ${estimate} gas, over ${MAX_BATCH_GAS}`);
    }
    return this.#send(
      items.map((item) => item.row),
      chainId,
      gateway,
      "deliver",
      () => data,
    );
  }

  /**
   * One message: what the destination says, then retry, refund or wait (true if it sent something), or ready to
   * deliver with its signatures (sent with the round's other ready messages for that destination).
   */
  async #decide(
    row: Row,
    message: Message,
    destination: ChainView,
    viewOf: (chainId: bigint) => Promise<ChainView | undefined>,
  ): Promise<boolean | Ready> {
    const gateway = this.#gatewayOf(message.destinationChainId);
    const status = statusName(
      await this.#nodes.withNode(message.destinationChainId, (provider) =>
        IAttestedGateway__factory.connect(gateway, provider).inboundStatusFrom(
          message.sourceChainId,
          message.sourceGateway,
          message.nonce,
        ),
      ),
    );
    if (status === "Delivered") {
      this.#settle(row, "already delivered", {
        state: "delivered",
        destinationStatus: "Delivered",
        note: "the destination has it delivered",
      });
      return false;
    }
    const expired = destination.timestamp > message.deadline;
    if (expired) return this.#refundWhenDue(row, message, status, viewOf);
    if (status === "Failed") {
      return this.#send([row], message.destinationChainId, gateway, "retry", () =>
        gatewayInterface.encodeFunctionData("retry", [messageTuple(message)]),
      );
    }
    const signatures = await this.#attestations(row.id, message, destination, "delivery");
    if (signatures.length < destination.threshold) {
      this.#later(
        row,
        this.#clock.now() + Math.min(MAX_WAIT_MS, 250 * 2 ** Math.min(4, row.attempts)),
        `${signatures.length} of ${destination.threshold} attestations for epoch ${destination.epoch}`,
        status,
      );
      return false;
    }
    return { row, message, signatures };
  }

  /** After the deadline: refund on the source once its clock allows, if the destination never delivered. */
  async #refundWhenDue(
    row: Row,
    message: Message,
    destinationStatus: string,
    viewOf: (chainId: bigint) => Promise<ChainView | undefined>,
  ): Promise<boolean> {
    const source = await viewOf(message.sourceChainId);
    if (source === undefined) {
      this.#later(row, this.#downUntil(message.sourceChainId), `expired; waiting for source chain ${row.source_chain}`);
      return false;
    }
    const gateway = this.#gatewayOf(message.sourceChainId);
    const outbound = statusName(
      await this.#nodes.withNode(message.sourceChainId, (provider) =>
        IAttestedGateway__factory.connect(gateway, provider).statusOf(row.id),
      ),
    );
    if (outbound === "Refunded") {
      this.#settle(row, "already refunded", { state: "refunded", note: "the source has it refunded" });
      return false;
    }
    const refundableAt = message.deadline + source.refundDelay;
    if (source.timestamp < refundableAt) {
      const wait = Number(refundableAt - source.timestamp) * 1_000;
      this.#later(
        row,
        this.#clock.now() + Math.min(MAX_WAIT_MS, wait),
        `expired undelivered (${destinationStatus}); refundable at ${refundableAt} (source time)`,
        destinationStatus,
      );
      return false;
    }
    const signatures = await this.#attestations(row.id, message, source, "undelivered");
    if (signatures.length < source.threshold) {
      this.#later(
        row,
        this.#clock.now() + Math.min(MAX_WAIT_MS, 500),
        `expired undelivered (${destinationStatus}); ${signatures.length} of ${source.threshold} undelivered ` +
          `attestations for the source's epoch ${source.epoch}`,
        destinationStatus,
      );
      return false;
    }
    return this.#send([row], message.sourceChainId, gateway, "refund", () =>
      gatewayInterface.encodeFunctionData("refund", [messageTuple(message), signatures]),
    );
  }

  /**
   * Signs, stores (on every one of `rows`) and broadcasts one transaction; a refusal in the estimate decides the
   * wait of each. Several rows: a `deliverBatch` (so recorded in `relayer_sends`), told to `onStep` as `action`
   * with its first message's id.
   */
  async #send(rows: readonly Row[], chainId: bigint, to: string, action: Action, data: () => string): Promise<boolean> {
    const batch = rows.length > 1;
    const recorded = batch ? "deliverBatch" : action;
    const first = rows[0]!;
    try {
      await this.#sender.send(chainId, to, data(), (tx) => {
        this.#store.transaction(() => {
          for (const row of rows) {
            this.#store.run(
              `UPDATE relayer_messages SET tx_action = ?, tx_chain = ?, tx_hash = ?, tx_nonce = ?, tx_raw = ?,
                 updated_at = ?
               WHERE id = ?`,
              action,
              chainId.toString(),
              tx.hash,
              tx.nonce,
              tx.raw,
              isoNow(this.#clock),
              row.id,
            );
            this.#store.run(
              "INSERT INTO relayer_sends (tx_hash, message_id, action, chain, at) VALUES (?, ?, ?, ?, ?)",
              tx.hash,
              row.id,
              recorded,
              chainId.toString(),
              isoNow(this.#clock),
            );
          }
        });
        this.#onStep(`${action}:recorded:${first.id}`);
      });
    } catch (error) {
      const revert = contractRevertError(error, errors);
      if (revert === undefined) throw error;
      const name = revert.errorName || "a revert without data";
      const wait = ["AttestedGatewayAlreadyProcessed", "AttestedGatewayExpired", "AttestedGatewayNotFailed"].includes(
        name,
      )
        ? 0
        : retryDelay(this.#unreachable, Math.max(1, first.attempts));
      for (const row of rows) this.#later(row, this.#clock.now() + wait, `${recorded} refused: ${revert.message}`);
      this.#logger
        .child({ messageIds: rows.map((row) => row.id) })
        .warn(`${recorded} of ${rows.map((row) => row.id).join(", ")} refused: ${name}`);
      return false;
    }
    this.#onStep(`${action}:sent:${first.id}`);
    if (batch) this.#log(`deliverBatch of ${rows.length} messages to chain ${chainId} sent`);
    return true;
  }

  /**
   * The attestations for `id` that `verifier`'s gateway checks, verified here first: each recovers (low s) to a
   * member of its current set for its current epoch; one per attester, sorted by signer ascending, at most
   * `threshold`. `delivery`: the destination's `Attestation`; `undelivered`: the source's `Undelivered`.
   */
  async #attestations(
    id: string,
    message: Message,
    verifier: ChainView,
    kind: "delivery" | "undelivered",
  ): Promise<string[]> {
    const chainId = kind === "delivery" ? message.destinationChainId : message.sourceChainId;
    const domain = attestedGatewayDomain(chainId, this.#gatewayOf(chainId));
    const digest =
      kind === "delivery"
        ? attestationDigest(id, verifier.epoch, domain)
        : undeliveredDigest(id, verifier.epoch, domain);
    const route = kind === "delivery" ? `attestations/${id}` : `attestations/${id}/undelivered`;
    const answers = await Promise.all(
      this.#attesters.map(async (url) => {
        try {
          const response = await fetch(`${url}/${route}?epoch=${verifier.epoch}`, {
            signal: AbortSignal.timeout(this.#attesterTimeoutMs),
          });
          if (response.status !== 200) {
            await response.arrayBuffer();
            return undefined;
          }
          const parsed = attestationReply.safeParse(await response.json());
          return parsed.success ? parsed.data : undefined;
        } catch {
          return undefined;
        }
      }),
    );
    const bySigner = new Map<string, string>();
    for (const answer of answers) {
      if (answer === undefined || answer.messageId.toLowerCase() !== id || BigInt(answer.epoch) !== verifier.epoch) {
        continue;
      }
      const signer = recoverEcdsa(digest, answer.signature);
      if (signer !== undefined && verifier.attesters.has(signer)) bySigner.set(signer, answer.signature);
    }
    return [...bySigner.entries()]
      .sort(([a], [b]) => (BigInt(a) < BigInt(b) ? -1 : 1))
      .slice(0, verifier.threshold)
      .map(([, signature]) => signature);
  }

  /** A chain's clock, attester set and refund delay, read once per round. */
  async #view(chainId: bigint): Promise<ChainView | undefined> {
    try {
      const view = await this.#nodes.withNode(chainId, async (provider) => {
        const gateway = IAttestedGateway__factory.connect(this.#gatewayOf(chainId), provider);
        const [block, epoch, [set, threshold], refundDelay] = await Promise.all([
          provider.getBlock("latest"),
          gateway.epoch(),
          gateway.attesters(),
          gateway.refundDelay(),
        ]);
        if (block === null) throw new Error("the node has no latest block");
        return {
          timestamp: BigInt(block.timestamp),
          epoch,
          attesters: new Set(set.map((address) => getAddress(address))),
          threshold: Number(threshold),
          refundDelay,
        };
      });
      this.#up(chainId);
      return view;
    } catch (error) {
      this.#fellDown(chainId, `reading chain ${chainId}`, error);
      return undefined;
    }
  }

  #gatewayOf(chainId: bigint): string {
    return chainOf(this.#chains, chainId)!.attestedGateway;
  }

  #isDown(chainId: bigint): boolean {
    const down = this.#down.get(chainId);
    return down !== undefined && down.until > this.#clock.now();
  }

  #downUntil(chainId: bigint): number {
    return this.#down.get(chainId)?.until ?? this.#clock.now();
  }

  #fellDown(chainId: bigint, doing: string, error: unknown): void {
    const failures = (this.#down.get(chainId)?.failures ?? 0) + 1;
    const wait = retryDelay(this.#unreachable, failures);
    this.#down.set(chainId, { failures, until: this.#clock.now() + wait });
    if (failures === 1 || failures % 10 === 0) {
      this.#log(`${doing} failed (${failures} in a row), waiting ${wait} ms: ${messageOf(error)}`);
    }
  }

  #up(chainId: bigint): void {
    if (this.#down.delete(chainId)) this.#log(`chain ${chainId} answers again`);
  }
}

/** The custom error a `MessageSkipped` reason (a selector) names, or the selector itself if unknown. */
function skippedReason(selector: string): string {
  try {
    return gatewayInterface.getError(selector)?.name ?? selector;
  } catch {
    return selector;
  }
}

/** A message's states at the relayer. */
const MESSAGE_STATES = ["open", "delivered", "refunded", "unroutable"] as const;

const messageSchema = z
  .object({
    id: z.string(),
    state: z.enum(MESSAGE_STATES),
    sourceChainId: z.string(),
    destinationChainId: z.string(),
    nonce: z.string(),
    deadline: z.number().int(),
    destinationStatus: z.string(),
    attempts: z.number().int(),
    deliveryTx: z.string().nullable(),
    refundTx: z.string().nullable(),
    note: z.string().nullable(),
    sends: z.array(z.object({ tx: z.string(), action: z.string(), outcome: z.string().nullable() })),
  })
  .openapi("RelayedMessage");

const messageListSchema = z
  .object({ items: z.array(messageSchema), nextCursor: z.string().nullable() })
  .openapi("RelayedMessageList");

/** The sort key a messages cursor holds: the relayer's record number. */
const messageCursorSchema = z.tuple([z.number().int().positive()]);

/** A message as the API shows it. */
function messageJson(found: RelayedMessage): z.infer<typeof messageSchema> {
  return {
    id: found.id,
    state: found.state,
    sourceChainId: found.message.sourceChainId.toString(),
    destinationChainId: found.message.destinationChainId.toString(),
    nonce: found.message.nonce.toString(),
    deadline: Number(found.message.deadline),
    destinationStatus: found.destinationStatus,
    attempts: found.attempts,
    deliveryTx: found.deliveryTx,
    refundTx: found.refundTx,
    note: found.note,
    sends: [...found.sends],
  };
}

/** The relayer's status API on the kit's `JsonHttpServer`. */
function relayerHttpServer(
  relayer: Pick<Relayer, "message" | "messages">,
  options: {
    readonly host: string;
    readonly port: number;
    readonly title: string;
    readonly log: (line: string) => void;
    readonly health: ConstructorParameters<typeof JsonHttpServer>[0]["health"];
  },
): JsonHttpServer {
  return new JsonHttpServer({
    title: options.title,
    version: "1",
    description: "The interop relayer: what it knows of each message it carries, and every transaction it sent for it.",
    host: options.host,
    port: options.port,
    log: options.log,
    health: options.health,
    routes: [
      route({
        method: "GET",
        path: "/messages",
        summary: "the messages the relayer carries, newest first, by state, a page at a time",
        query: z
          .object({
            state: z
              .enum([...MESSAGE_STATES, "all"])
              .default("all")
              .openapi({ description: "open: not yet delivered or refunded; all (the default): every state" }),
            ...pageQuery,
          })
          .strict(),
        responses: {
          200: { description: "one page of messages", schema: messageListSchema },
          400: { description: "a bad state, limit or cursor" },
        },
        handle: ({ query }) => {
          const before = parseKeysetCursor(query.cursor, messageCursorSchema);
          const rows = relayer.messages({
            state: query.state === "all" ? undefined : query.state,
            before: before?.[0],
            limit: query.limit + 1,
          });
          const { items, nextCursor } = keysetPage(rows, query.limit, (row) => [row.seq]);
          return { status: 200, body: { items: items.map((row) => messageJson(row.message)), nextCursor } };
        },
      }),
      route({
        method: "GET",
        path: "/messages/:id",
        summary: "a message the relayer carries: its state and its transactions",
        params: z.object({
          id: z
            .string()
            .regex(/^0x[0-9a-fA-F]{64}$/, "must be a 32-byte hex message id")
            .transform((id) => id.toLowerCase()),
        }),
        responses: {
          200: { description: "the message", schema: messageSchema },
          404: { description: "not seen (yet)" },
        },
        handle: ({ params }) => {
          const found = relayer.message(params.id);
          if (found === undefined) {
            throw new HttpError(404, "MESSAGE_NOT_FOUND", `the relayer has not seen message ${params.id}`);
          }
          return { status: 200, body: messageJson(found) };
        },
      }),
    ],
  });
}
