/**
 * One attester: its own key, its own SQLite store. It follows `MessagePosted`
 * on every chain's AttestedGateway, each at that chain's confirmation depth,
 * and signs `Attestation(bytes32 messageId,uint64 epoch)` in the DESTINATION
 * gateway's EIP-712 domain, for the destination's current attester-set epoch,
 * only for a message it has read back from the log itself:
 *
 * - the log comes from the configured gateway of the chain it was read from
 *   (that chain is the source: the log never says which chain it is on);
 * - the destination is a configured chain and the message names that chain's
 *   configured gateway;
 * - the id recomputed from the fields (`IAttestedGateway`'s formula) is the
 *   log's `messageId`.
 *
 * It takes no single node's word: every read its signature depends on is
 * asked of EVERY node configured for that chain that answers, and it signs
 * only if they agree. The head it counts confirmations from is the lowest
 * any node reports; a `MessagePosted` log counts only if every node returned
 * it with the same block hash, transaction, log index, topics and data, and
 * the blocks the follower checks have the same hash at every node. A log the
 * nodes disagree on is refused (`ATTESTER_NODES_DISAGREE`, recorded) and read
 * again next round: the follower does not move past it until they agree (or
 * the operator replaces the lying node). With one node per chain it can only
 * trust that node, and says so when it starts.
 *
 * Never two messages for one `(source chain, nonce)`: the destination keeps
 * only one of them, so a second version (a source reorganisation deeper than
 * the confirmations, a lying node) is refused and recorded, never signed. One
 * signature per `(message, epoch)`, stored before it is served; ECDSA with
 * RFC 6979 nonces signs the same digest to the same bytes, so a restart can
 * never produce a different one. A store opened with another key is refused.
 *
 * For refunds it also signs `Undelivered(bytes32 messageId,uint64 epoch)` in
 * the SOURCE gateway's domain and current epoch, once a final block of the
 * destination (at that chain's confirmation depth) has a timestamp past the
 * message's deadline and the destination's record, read at that very block,
 * is not `Delivered`: no later block can deliver it (`deliver` needs the
 * destination's clock within the deadline), so the refund cannot double a
 * delivery. That block is the lowest head of the destination's nodes minus
 * the confirmations, and every node must give it the same hash and timestamp
 * and give the record the same status there; otherwise it is refused
 * (`ATTESTER_NODES_DISAGREE`, recorded) and asked again next round. A message
 * every node shows `Delivered` is marked so and never signed undelivered.
 *
 *   GET /attestations/:messageId[?epoch=N]               its delivery attestation (404 until signed)
 *   GET /attestations/:messageId/undelivered[?epoch=N]   its undelivered attestation (404 until signed)
 *   GET /openapi.json, GET /health
 */
import { getAddress, type Block, type Filter, type JsonRpcProvider, type Log, type Wallet } from "ethers";
import { z } from "zod";

import { ConfirmedEventFollower, type FollowedLog, type FollowerReads } from "../chain/events.js";
import { HttpError, JsonHttpServer, route } from "../chain/http.js";
import { lineLog, loggerOf, type Logger } from "../chain/log.js";
import { Poller } from "../chain/poller.js";
import { systemClock, isoNow, type Clock } from "../chain/clock.js";
import type { Migration, Store } from "../store/store.js";
import { BankChainError, messageOf } from "../errors.js";
import { IAttestedGateway__factory } from "../../typechain-types/index.js";
import { chainOf, checkChains, type InteropChain } from "./chains.js";
import {
  attestationDigest,
  attestedGatewayDomain,
  MESSAGE_POSTED,
  MessageMismatchError,
  statusName,
  undeliveredDigest,
  messageFromLog,
  messageFromJson,
  messageToJson,
} from "./messages.js";
import type { NodeAnswer, NodeDirectory } from "./nodes.js";

/** The attester cannot run as configured. */
export class AttesterConfigError extends BankChainError {}
/**
 * The nodes of one chain gave different answers to a read the attester's
 * signature depends on (code `ATTESTER_NODES_DISAGREE`): it signs nothing that
 * depends on it and asks again next round.
 */
export class AttesterNodesDisagreeError extends BankChainError {}

/** The refusal code of a read the nodes of a chain disagree on. */
export const NODES_DISAGREE = "ATTESTER_NODES_DISAGREE";

export const ATTESTER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "attester messages, signatures (delivery and undelivered) and refusals",
    sql: `CREATE TABLE attester_key (
      only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
      address TEXT NOT NULL
    ) STRICT;
    CREATE TABLE attester_messages (
      id TEXT PRIMARY KEY,
      source_chain TEXT NOT NULL,
      nonce TEXT NOT NULL,
      destination_chain TEXT NOT NULL,
      deadline INTEGER NOT NULL,
      delivered INTEGER NOT NULL DEFAULT 0,
      message TEXT NOT NULL,
      block INTEGER NOT NULL,
      tx TEXT NOT NULL,
      seen_at TEXT NOT NULL,
      UNIQUE (source_chain, nonce)
    ) STRICT;
    CREATE TABLE attester_signatures (
      message_id TEXT NOT NULL REFERENCES attester_messages (id),
      epoch INTEGER NOT NULL,
      signer TEXT NOT NULL,
      signature TEXT NOT NULL,
      signed_at TEXT NOT NULL,
      PRIMARY KEY (message_id, epoch)
    ) STRICT;
    CREATE TABLE attester_undelivered (
      message_id TEXT NOT NULL REFERENCES attester_messages (id),
      epoch INTEGER NOT NULL,
      signer TEXT NOT NULL,
      signature TEXT NOT NULL,
      destination_block INTEGER NOT NULL,
      signed_at TEXT NOT NULL,
      PRIMARY KEY (message_id, epoch)
    ) STRICT;
    CREATE TABLE attester_refusals (
      source_chain TEXT NOT NULL,
      tx TEXT NOT NULL,
      log_index INTEGER NOT NULL,
      code TEXT NOT NULL,
      reason TEXT NOT NULL,
      at TEXT NOT NULL,
      PRIMARY KEY (source_chain, tx, log_index)
    ) STRICT;`,
  },
  {
    version: 2,
    name: "the log index of each message; refusals by stage and code (the nodes may disagree, then agree)",
    sql: `ALTER TABLE attester_messages ADD COLUMN log_index INTEGER;
    CREATE TABLE attester_refusals_by_stage (
      source_chain TEXT NOT NULL,
      tx TEXT NOT NULL,
      log_index INTEGER NOT NULL,
      stage TEXT NOT NULL CHECK (stage IN ('attestation', 'undelivered')),
      code TEXT NOT NULL,
      reason TEXT NOT NULL,
      at TEXT NOT NULL,
      PRIMARY KEY (source_chain, tx, log_index, stage, code)
    ) STRICT;
    INSERT INTO attester_refusals_by_stage (source_chain, tx, log_index, stage, code, reason, at)
      SELECT source_chain, tx, log_index, 'attestation', code, reason, at FROM attester_refusals ORDER BY rowid;
    DROP TABLE attester_refusals;
    ALTER TABLE attester_refusals_by_stage RENAME TO attester_refusals;`,
  },
];

/** A signature the attester serves. */
export interface AttestationView {
  readonly messageId: string;
  readonly epoch: number;
  readonly attester: string;
  readonly signature: string;
  readonly sourceChainId: string;
  readonly nonce: string;
  readonly destinationChainId: string;
  readonly signedAt: string;
}

/**
 * A log the attester would not sign for, and why: its delivery attestation
 * (`attestation`) or its undelivered one (`undelivered`). Each (log, stage,
 * code) is recorded once, when first met. `ATTESTER_NODES_DISAGREE` is not
 * final: the attester asks again every round and signs once the nodes agree
 * (the refusal stays, as a record that they once did not).
 */
export interface Refusal {
  readonly sourceChainId: string;
  readonly tx: string;
  /** -1 for a message recorded before the attester kept log indexes. */
  readonly logIndex: number;
  readonly stage: RefusalStage;
  readonly code: string;
  readonly reason: string;
}

export type RefusalStage = "attestation" | "undelivered";

export interface AttesterOptions {
  readonly name?: string;
  /** The attester's own key; it signs only, so it needs no funds. */
  readonly key: Wallet;
  /** Its own store: nobody else's key may have written it. */
  readonly store: Store;
  readonly nodes: NodeDirectory;
  /** Every chain it attests from and to. */
  readonly chains: readonly InteropChain[];
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly pollIntervalMs?: number;
  readonly clock?: Clock;
  readonly log?: (line: string) => void;
  /** Told of `signed:<messageId>` right after a signature is stored (tests crash the process there). */
  readonly onStep?: (point: string) => void;
}

/** Most messages signed per destination and round. */
const SIGN_BATCH = 500;
/**
 * A message whose deadline is this far behind the attester's clock is not
 * signed for a new epoch: it can no longer be delivered (chain clocks may
 * differ from this one, hence the slack).
 */
const EXPIRED_SLACK_SECONDS = 86_400;

export class Attester {
  readonly name: string;
  readonly address: string;
  readonly #key: Wallet;
  readonly #store: Store;
  readonly #nodes: NodeDirectory;
  readonly #chains: readonly InteropChain[];
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  /** The same log, structured: lines about messages carry their ids (`messageIds`). */
  readonly #logger: Logger;
  readonly #onStep: (point: string) => void;
  readonly #followers: ReadonlyMap<bigint, ConfirmedEventFollower>;
  readonly #poller: Poller;
  readonly #http: JsonHttpServer;
  readonly #configuredUrl: string;
  /** Logs of the current round that not every node returned as they are, and why. */
  readonly #disputed = new WeakMap<object, string>();
  /** Chains whose nodes' heads are now further apart than the confirmation depth (said once, until they close). */
  readonly #headsApart = new Set<bigint>();
  #running = false;
  #failedRounds = 0;

  constructor(options: AttesterOptions) {
    this.name = options.name ?? "attester";
    this.#key = options.key;
    this.address = getAddress(options.key.address);
    this.#store = options.store;
    this.#nodes = options.nodes;
    // Distinct chains, each with nodes, addresses checksummed.
    this.#chains = checkChains(options.chains, options.nodes);
    this.#clock = options.clock ?? systemClock;
    // Every line starts `<name>: `; a plain `log` function gets exactly the text it always did.
    this.#logger = loggerOf(options.log ?? (() => undefined)).child({}, { msgPrefix: `${this.name}: ` });
    this.#log = lineLog(this.#logger);
    this.#onStep = options.onStep ?? (() => undefined);
    options.store.migrate("interop.attester", ATTESTER_MIGRATIONS);
    this.#claimStore();
    const pollIntervalMs = options.pollIntervalMs ?? 500;
    this.#followers = new Map(
      this.#chains.map((chain) => [
        chain.chainId,
        new ConfirmedEventFollower({
          provider: this.#agreedReads(chain.chainId),
          chainId: chain.chainId,
          store: this.#store,
          name: `interop-attester:${chain.chainId}`,
          filter: { address: chain.attestedGateway, topics: [MESSAGE_POSTED] },
          confirmations: chain.confirmations,
          fromBlock: chain.fromBlock,
          pollIntervalMs,
          // Idempotent by message id (and by (source chain, nonce)): a log handled twice after a crash changes nothing.
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
    this.#configuredUrl = `http://${host}:${options.port}`;
    this.#http = attesterHttpServer(this, {
      host,
      port: options.port,
      log: this.#log,
      title: `bank-chain interop ${this.name}`,
      blockNumber: () => this.#heads(),
      followerNextBlock: () => this.#followers.get(this.#chains[0]!.chainId)?.checkpoint().nextBlock,
      checkDatabase: () => this.#store.check(),
    });
  }

  get url(): string {
    return this.#http.url ?? this.#configuredUrl;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    await this.#http.start();
    this.#running = true;
    this.#poller.start();
    this.#log(`signing as ${this.address}; serving at ${this.url}`);
    const lonely = this.#chains.filter((chain) => this.#nodes.origins(chain.chainId).length === 1);
    if (lonely.length > 0) {
      this.#log(
        `depends on one node per chain for chain(s) ${lonely.map((chain) => chain.chainId).join(", ")}: ` +
          "that node alone decides what it signs (a lying node can make it sign a burn that is not final or a " +
          "delivered message as undelivered); configure more than one node per chain, not shared with the other " +
          "attesters (INTEROP_ATTESTER_<n>_NODES)",
      );
    }
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    await this.#http.stop();
    await this.#poller.stop();
  }

  /**
   * One round: reads every chain's newly confirmed messages, then signs what
   * is verified and not yet signed for its destination's current epoch. A
   * chain that cannot be reached is skipped this round. True if it did anything.
   */
  async poll(): Promise<boolean> {
    let busy = false;
    const failures: string[] = [];
    for (const [chainId, follower] of this.#followers) {
      try {
        busy = (await follower.poll()) > 0 || busy;
      } catch (error) {
        failures.push(`chain ${chainId}: ${messageOf(error)}`);
      }
    }
    for (const chain of this.#chains) {
      try {
        busy = (await this.#signFor(chain)) > 0 || busy;
      } catch (error) {
        failures.push(`signing for chain ${chain.chainId}: ${messageOf(error)}`);
      }
      try {
        busy = (await this.#signUndelivered(chain)) > 0 || busy;
      } catch (error) {
        failures.push(`checking undelivered messages to chain ${chain.chainId}: ${messageOf(error)}`);
      }
    }
    if (failures.length > 0) {
      this.#failedRounds += 1;
      // The first failure and every 20th after it: a chain that is down for long does not flood the log.
      if (this.#failedRounds % 20 === 1) this.#log(`${failures.join("; ")} (round ${this.#failedRounds} failing)`);
    } else if (this.#failedRounds > 0) {
      this.#log(`every chain answers again after ${this.#failedRounds} failing round(s)`);
      this.#failedRounds = 0;
    }
    return busy;
  }

  /**
   * Its signature for `messageId` under `epoch` (default: the newest one signed): the delivery
   * attestation, or with `undelivered` the one that lets the source refund it.
   */
  attestation(messageId: string, epoch?: number, undelivered = false): AttestationView | undefined {
    const table = undelivered ? "attester_undelivered" : "attester_signatures";
    const row = this.#store.get<{
      message_id: string;
      epoch: number;
      signer: string;
      signature: string;
      signed_at: string;
      source_chain: string;
      nonce: string;
      destination_chain: string;
    }>(
      `SELECT s.message_id, s.epoch, s.signer, s.signature, s.signed_at, m.source_chain, m.nonce, m.destination_chain
       FROM ${table} s JOIN attester_messages m ON m.id = s.message_id
       WHERE s.message_id = ? AND (? IS NULL OR s.epoch = ?) ORDER BY s.epoch DESC LIMIT 1`,
      messageId.toLowerCase(),
      epoch ?? null,
      epoch ?? null,
    );
    if (row === undefined) return undefined;
    return {
      messageId: row.message_id,
      epoch: row.epoch,
      attester: row.signer,
      signature: row.signature,
      sourceChainId: row.source_chain,
      nonce: row.nonce,
      destinationChainId: row.destination_chain,
      signedAt: row.signed_at,
    };
  }

  /** Every log it refused to sign for, in the order first met. */
  refusals(): Refusal[] {
    return this.#store
      .all<{ source_chain: string; tx: string; log_index: number; stage: RefusalStage; code: string; reason: string }>(
        "SELECT source_chain, tx, log_index, stage, code, reason FROM attester_refusals ORDER BY rowid",
      )
      .map((row) => ({
        sourceChainId: row.source_chain,
        tx: row.tx,
        logIndex: row.log_index,
        stage: row.stage,
        code: row.code,
        reason: row.reason,
      }));
  }

  /** The store belongs to one key: the first to open it. */
  #claimStore(): void {
    const row = this.#store.get<{ address: string }>("SELECT address FROM attester_key WHERE only_row = 1");
    if (row === undefined) {
      this.#store.run("INSERT INTO attester_key (only_row, address) VALUES (1, ?)", this.address);
      return;
    }
    if (row.address !== this.address) {
      throw new AttesterConfigError(
        "ATTESTER_WRONG_KEY",
        `this attester's store belongs to ${row.address}, but the key configured is ${this.address}; ` +
          "each attester keeps its own store",
        { store: row.address, key: this.address },
      );
    }
  }

  /** Records a confirmed `MessagePosted` from `source`, or the reason it will never be signed. */
  #record(source: InteropChain, log: FollowedLog): void {
    let verified;
    try {
      verified = messageFromLog(log, source.chainId, source.attestedGateway);
    } catch (error) {
      if (error instanceof MessageMismatchError) return this.#refuse(source, log, error.code, error.message);
      throw error;
    }
    const { id, message } = verified;
    const destination = chainOf(this.#chains, message.destinationChainId);
    if (destination === undefined || destination.chainId === source.chainId) {
      return this.#refuse(
        source,
        log,
        "ATTESTER_UNKNOWN_DESTINATION",
        `message ${id} is for chain ${message.destinationChainId}, which this attester does not attest to`,
      );
    }
    if (message.destinationGateway !== destination.attestedGateway) {
      return this.#refuse(
        source,
        log,
        "ATTESTER_WRONG_DESTINATION_GATEWAY",
        `message ${id} names gateway ${message.destinationGateway} on chain ${destination.chainId}, ` +
          `not ${destination.attestedGateway}`,
      );
    }
    const disputed = this.#store.transaction(() => {
      const known = this.#store.get<{ id: string }>(
        "SELECT id FROM attester_messages WHERE source_chain = ? AND nonce = ?",
        source.chainId.toString(),
        message.nonce.toString(),
      );
      if (known !== undefined && known.id !== id) {
        this.#refuse(
          source,
          log,
          "ATTESTER_EQUIVOCATION",
          `nonce ${message.nonce} of chain ${source.chainId} was message ${known.id}; now a log says ${id}. ` +
            "Only the first is ever signed",
        );
        return undefined;
      }
      // Not every node returned this log as it is: not recorded (so never signed) until they agree.
      const dispute = this.#disputed.get(log);
      if (dispute !== undefined) return dispute;
      this.#store.run(
        `INSERT INTO attester_messages (id, source_chain, nonce, destination_chain, deadline, message, block, tx, seen_at,
           log_index)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        id,
        source.chainId.toString(),
        message.nonce.toString(),
        message.destinationChainId.toString(),
        Number(message.deadline),
        messageToJson(message),
        log.blockNumber,
        log.transactionHash,
        isoNow(this.#clock),
        log.index,
      );
      return undefined;
    });
    if (disputed !== undefined) {
      const reason = `message ${id} (nonce ${message.nonce} of chain ${source.chainId}): ${disputed}`;
      this.#refuse(source, log, NODES_DISAGREE, `${reason}; asked again next round`);
      // The follower stays on this log: the next round reads it again from every node.
      throw new AttesterNodesDisagreeError(NODES_DISAGREE, reason, { messageId: id });
    }
  }

  #refuse(
    source: InteropChain,
    log: Pick<Log, "transactionHash" | "index">,
    code: string,
    reason: string,
    stage: RefusalStage = "attestation",
  ): void {
    const changed = this.#store.run(
      `INSERT INTO attester_refusals (source_chain, tx, log_index, stage, code, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
      source.chainId.toString(),
      log.transactionHash,
      log.index,
      stage,
      code,
      reason,
      isoNow(this.#clock),
    ).changes;
    if (changed > 0) {
      this.#log(`refused to sign${stage === "undelivered" ? " undelivered" : ""} (${code}): ${reason}`);
    }
  }

  /** Signs the messages to `destination` not yet signed for its current epoch; returns how many. */
  async #signFor(destination: InteropChain): Promise<number> {
    const chainId = destination.chainId.toString();
    const any = this.#store.get("SELECT 1 AS one FROM attester_messages WHERE destination_chain = ? LIMIT 1", chainId);
    if (any === undefined) return 0;
    // Read every round: a rotation of the destination's attester set needs signatures for the new epoch.
    const epoch = await this.#nodes.withNode(destination.chainId, (provider) =>
      IAttestedGateway__factory.connect(destination.attestedGateway, provider).epoch(),
    );
    if (epoch === 0n) return 0; // No attester set yet: nothing can be delivered there.
    const rows = this.#store.all<{ id: string }>(
      `SELECT m.id FROM attester_messages m
       WHERE m.destination_chain = ? AND m.deadline >= ? AND NOT EXISTS
         (SELECT 1 FROM attester_signatures s WHERE s.message_id = m.id AND s.epoch = ?)
       ORDER BY m.rowid LIMIT ?`,
      chainId,
      Math.floor(this.#clock.now() / 1000) - EXPIRED_SLACK_SECONDS,
      Number(epoch),
      SIGN_BATCH,
    );
    const domain = attestedGatewayDomain(destination.chainId, destination.attestedGateway);
    for (const { id } of rows) {
      this.#store.transaction(() => {
        const signature = this.#key.signingKey.sign(attestationDigest(id, epoch, domain)).serialized;
        this.#store.run(
          `INSERT INTO attester_signatures (message_id, epoch, signer, signature, signed_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT DO NOTHING`,
          id,
          Number(epoch),
          this.address,
          signature,
          isoNow(this.#clock),
        );
      });
      this.#onStep(`signed:${id}`);
    }
    if (rows.length > 0) {
      this.#logger
        .child({ messageIds: rows.map((row) => row.id) })
        .info(`signed ${rows.length} message(s) to chain ${chainId}, epoch ${epoch}`);
    }
    return rows.length;
  }

  /**
   * Signs `Undelivered` for the messages to `destination` that a final block there shows expired and not
   * delivered, each in its source gateway's domain and current epoch; returns how many it signed.
   */
  async #signUndelivered(destination: InteropChain): Promise<number> {
    const chainId = destination.chainId.toString();
    const waiting = (before: number) =>
      this.#store.all<{
        id: string;
        source_chain: string;
        nonce: string;
        tx: string;
        log_index: number | null;
        message: string;
      }>(
        `SELECT m.id, m.source_chain, m.nonce, m.tx, m.log_index, m.message FROM attester_messages m
         WHERE m.destination_chain = ? AND m.delivered = 0 AND m.deadline < ? AND NOT EXISTS
           (SELECT 1 FROM attester_undelivered u WHERE u.message_id = m.id)
         ORDER BY m.deadline LIMIT ?`,
        chainId,
        before,
        SIGN_BATCH,
      );
    // Cheap first look with this machine's clock (with slack): is anything to that chain near its deadline?
    if (waiting(Math.floor(this.#clock.now() / 1000) + EXPIRED_SLACK_SECONDS).length === 0) return 0;
    // A final block by every node's count, with the same hash and timestamp at every node.
    const head = await this.#lowestHead(destination.chainId);
    const wanted = Math.max(0, head - destination.confirmations);
    let block;
    try {
      block = await this.#agreedBlock(destination.chainId, wanted);
    } catch (error) {
      // A node's clock (the block's timestamp) decides whether a message may still be delivered: no refund on it.
      if (error instanceof AttesterNodesDisagreeError) {
        for (const row of waiting(Math.floor(this.#clock.now() / 1000) + EXPIRED_SLACK_SECONDS)) {
          const source = chainOf(this.#chains, BigInt(row.source_chain));
          if (source === undefined) continue;
          this.#refuse(
            source,
            { transactionHash: row.tx, index: row.log_index ?? -1 },
            NODES_DISAGREE,
            `message ${row.id}: ${error.message}; asked again next round`,
            "undelivered",
          );
        }
      }
      throw error;
    }
    if (block === null) throw new Error(`chain ${chainId} has no block ${wanted}`);
    const { number: final, timestamp } = block;
    const expired = waiting(timestamp);
    if (expired.length === 0) return 0;
    const gateway = IAttestedGateway__factory.connect(destination.attestedGateway, undefined);
    const epochs = new Map<string, bigint>();
    let signed = 0;
    const signedIds: string[] = [];
    for (const row of expired) {
      const source = chainOf(this.#chains, BigInt(row.source_chain));
      const { answers } = await this.#nodes.everyNode(destination.chainId, async (provider) =>
        statusName(
          await gateway
            .connect(provider)
            .inboundStatusFrom(
              BigInt(row.source_chain),
              messageFromJson(row.message).sourceGateway,
              BigInt(row.nonce),
              {
                blockTag: final,
              },
            ),
        ),
      );
      const statuses = new Set(answers.map((answer) => answer.value));
      if (statuses.size !== 1) {
        // One node's "not delivered" against another's "delivered" is a refund nobody can vouch for; nor is one
        // node's "delivered" enough to give the refund up for good.
        if (source !== undefined) {
          this.#refuse(
            source,
            { transactionHash: row.tx, index: row.log_index ?? -1 },
            NODES_DISAGREE,
            `message ${row.id}: the nodes of chain ${chainId} disagree on its status at block ${final} ` +
              `(${describe(answers)}); asked again next round`,
            "undelivered",
          );
        }
        continue;
      }
      if (statuses.has("Delivered")) {
        this.#store.run("UPDATE attester_messages SET delivered = 1 WHERE id = ?", row.id);
        continue;
      }
      if (source === undefined) continue;
      let epoch = epochs.get(row.source_chain);
      if (epoch === undefined) {
        epoch = await this.#nodes.withNode(source.chainId, (provider) =>
          IAttestedGateway__factory.connect(source.attestedGateway, provider).epoch(),
        );
        epochs.set(row.source_chain, epoch);
      }
      if (epoch === 0n) continue;
      const digest = undeliveredDigest(row.id, epoch, attestedGatewayDomain(source.chainId, source.attestedGateway));
      const signature = this.#key.signingKey.sign(digest).serialized;
      this.#store.run(
        `INSERT INTO attester_undelivered (message_id, epoch, signer, signature, destination_block, signed_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        row.id,
        Number(epoch),
        this.address,
        signature,
        final,
        isoNow(this.#clock),
      );
      this.#onStep(`undelivered:${row.id}`);
      signed += 1;
      signedIds.push(row.id);
    }
    if (signed > 0) {
      this.#logger
        .child({ messageIds: signedIds })
        .info(`signed ${signed} message(s) to chain ${chainId} as undelivered (refundable)`);
    }
    return signed;
  }

  /**
   * What the follower of `chainId` reads, from every node: the lowest head any node reports (a node cannot
   * make a log look buried deeper than it is), each block only if every node gives it the same hash, and the
   * union of the nodes' logs, each one not every node returned exactly so marked disputed for `#record`.
   */
  #agreedReads(chainId: bigint): FollowerReads {
    return {
      getBlockNumber: () => this.#lowestHead(chainId),
      getBlock: ((block: number) => this.#agreedBlock(chainId, block)) as FollowerReads["getBlock"],
      getLogs: (filter: Filter) => this.#agreedLogs(chainId, filter),
    };
  }

  /**
   * The lowest head of the nodes of `chainId` that answer. Heads as far apart as the confirmation depth or more
   * (a node lagging, or one claiming blocks the others do not have) are logged, once until they close.
   */
  async #lowestHead(chainId: bigint): Promise<number> {
    const { answers } = await this.#nodes.everyNode(chainId, (provider) => provider.getBlockNumber());
    const heads = answers.map((answer) => answer.value);
    const lowest = Math.min(...heads);
    const spread = Math.max(...heads) - lowest;
    const apart = spread > 0 && spread >= (chainOf(this.#chains, chainId)?.confirmations ?? 0);
    if (apart && !this.#headsApart.has(chainId)) {
      this.#headsApart.add(chainId);
      this.#log(
        `the nodes of chain ${chainId} report heads as far apart as its confirmations or more ` +
          `(${describe(answers)}); confirmations count from the lowest, ${lowest}`,
      );
    } else if (!apart && this.#headsApart.delete(chainId)) {
      this.#log(`the nodes of chain ${chainId} report close heads again`);
    }
    return lowest;
  }

  /** Block `number` of `chainId`, if every node that answers gives the same one (hash and timestamp). */
  async #agreedBlock(chainId: bigint, number: number): Promise<Block | null> {
    const { answers } = await this.#nodes.everyNode(chainId, (provider) => provider.getBlock(number));
    const seen = new Set(answers.map(({ value }) => (value === null ? "none" : `${value.hash}@${value.timestamp}`)));
    if (seen.size !== 1) {
      const said = answers.map(({ node, value }) => ({
        node,
        value: value === null ? "no such block" : `${value.hash} (time ${value.timestamp})`,
      }));
      throw new AttesterNodesDisagreeError(
        NODES_DISAGREE,
        `the nodes of chain ${chainId} disagree on block ${number}: ${describe(said)}`,
        { chainId: chainId.toString(), block: number },
      );
    }
    return answers[0]!.value;
  }

  /** Every node's logs for `filter`, merged; a log not every node returned exactly so is marked disputed. */
  async #agreedLogs(chainId: bigint, filter: Filter): Promise<Log[]> {
    const { answers } = await this.#nodes.everyNode(chainId, (provider: JsonRpcProvider) => provider.getLogs(filter));
    const union = new Map<string, { log: Log; nodes: string[] }>();
    for (const { node, value } of answers) {
      for (const log of value) {
        const key = logFingerprint(log);
        const entry = union.get(key);
        if (entry === undefined) union.set(key, { log, nodes: [node] });
        else if (!entry.nodes.includes(node)) entry.nodes.push(node);
      }
    }
    const everyone = answers.map((answer) => answer.node);
    return [...union.values()].map(({ log, nodes }) => {
      if (nodes.length < everyone.length) {
        const missing = everyone.filter((node) => !nodes.includes(node));
        this.#disputed.set(
          log,
          `the nodes of chain ${chainId} disagree on log ${log.index} of transaction ${log.transactionHash} ` +
            `in block ${log.blockNumber} (${log.blockHash}): ${nodes.join(", ")} returned it, ` +
            `${missing.join(", ")} did not (or not with that block hash, index, topics and data)`,
        );
      }
      return log;
    });
  }

  /** The first chain's head, once every chain has answered (health is down if any chain is). */
  async #heads(): Promise<number> {
    const heads = await Promise.all(
      this.#chains.map((chain) => this.#nodes.withNode(chain.chainId, (provider) => provider.getBlockNumber())),
    );
    return heads[0]!;
  }
}

/** Everything a `MessagePosted` log says that the attester relies on. */
function logFingerprint(log: Log): string {
  return [
    log.blockNumber,
    log.blockHash.toLowerCase(),
    log.transactionHash.toLowerCase(),
    log.index,
    log.address.toLowerCase(),
    log.topics.length,
    ...log.topics.map((topic) => topic.toLowerCase()),
    log.data.toLowerCase(),
  ].join("|");
}

/** `node: answer` for each node, for a refusal's reason. */
function describe(answers: readonly NodeAnswer<unknown>[]): string {
  return answers.map(({ node, value }) => `${node}: ${String(value)}`).join(", ");
}

const bytes32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be a 32-byte hex message id")
  .transform((value) => value.toLowerCase());

const attestationSchema = z
  .object({
    messageId: z.string(),
    epoch: z.number().int().openapi({ description: "the destination gateway's attester-set epoch signed for" }),
    attester: z.string().openapi({ description: "the signer's address" }),
    signature: z.string().openapi({ description: "65-byte ECDSA signature (r, s, v), low s" }),
    sourceChainId: z.string(),
    nonce: z.string(),
    destinationChainId: z.string(),
    signedAt: z.string(),
  })
  .openapi("Attestation");

export interface AttesterHttpOptions {
  readonly host: string;
  readonly port: number;
  readonly title: string;
  readonly log: (line: string) => void;
  readonly blockNumber: () => Promise<number>;
  readonly followerNextBlock: () => number | undefined;
  readonly checkDatabase: () => void;
}

/** The attester's HTTP API on the kit's `JsonHttpServer`. */
export function attesterHttpServer(
  attester: Pick<Attester, "attestation">,
  options: AttesterHttpOptions,
): JsonHttpServer {
  return new JsonHttpServer({
    title: options.title,
    version: "1",
    description:
      "An interop attester: its signature of `Attestation(messageId, epoch)` in the destination AttestedGateway's " +
      "EIP-712 domain, for each message it has seen posted and final on its source chain.",
    host: options.host,
    port: options.port,
    log: options.log,
    health: {
      blockNumber: options.blockNumber,
      followerNextBlock: options.followerNextBlock,
      checkDatabase: options.checkDatabase,
    },
    routes: [
      route({
        method: "GET",
        path: "/attestations/:messageId/undelivered",
        summary:
          "this attester's signature that a message was never delivered (lets its source refund it), " +
          "in the source gateway's domain (the newest epoch, unless `epoch` says)",
        params: z.object({ messageId: bytes32 }),
        query: z
          .object({
            epoch: z.coerce
              .number()
              .int()
              .min(1)
              .max(2 ** 53)
              .optional(),
          })
          .strict(),
        responses: {
          200: { description: "the attestation", schema: attestationSchema },
          404: { description: "not signed: not expired on a final destination block yet, delivered, or not seen" },
        },
        handle: ({ params, query }) => {
          const found = attester.attestation(params.messageId, query.epoch, true);
          if (found === undefined) {
            throw new HttpError(
              404,
              "ATTESTATION_NOT_FOUND",
              `no undelivered attestation of ${params.messageId}` +
                (query.epoch === undefined ? "" : ` for epoch ${query.epoch}`),
              undefined,
              { messageId: params.messageId },
            );
          }
          return { status: 200, body: found };
        },
      }),
      route({
        method: "GET",
        path: "/attestations/:messageId",
        summary: "this attester's signature of a message (the newest epoch, unless `epoch` says)",
        params: z.object({ messageId: bytes32 }),
        query: z
          .object({
            epoch: z.coerce
              .number()
              .int()
              .min(1)
              .max(2 ** 53)
              .optional(),
          })
          .strict(),
        responses: {
          200: { description: "the attestation", schema: attestationSchema },
          404: { description: "not signed (yet): not seen, not final, refused, or no attester set" },
        },
        handle: ({ params, query }) => {
          const found = attester.attestation(params.messageId, query.epoch);
          if (found === undefined) {
            throw new HttpError(
              404,
              "ATTESTATION_NOT_FOUND",
              `no attestation of ${params.messageId}${query.epoch === undefined ? "" : ` for epoch ${query.epoch}`}`,
              undefined,
              { messageId: params.messageId },
            );
          }
          return { status: 200, body: found };
        },
      }),
    ],
  });
}
