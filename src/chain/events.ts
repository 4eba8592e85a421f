import type { Provider } from "ethers";

import { BankChainError, messageOf } from "../errors.js";
import type { Migration, Store } from "../store/store.js";
import { Poller } from "./poller.js";
import { readBlockHash, readLogs, type ChainLog } from "./raw-reads.js";

/** A log as the follower hands it to its handler: its fields as the node gave them (`raw-reads.ts`). */
export type FollowedLog = ChainLog;

/** The chain's history changed below the confirmation depth: processed logs may no longer be canonical. */
export class ChainReorgError extends BankChainError {}
/** A follower was configured wrongly. */
export class EventFollowerConfigError extends BankChainError {}

export interface LogFilter {
  readonly address?: string | readonly string[];
  readonly topics?: ReadonlyArray<string | readonly string[] | null>;
}

/** Where a follower stands: every log before (`nextBlock`, `lastLogIndex`] is processed. */
export interface Checkpoint {
  /** The first block not yet completely processed. */
  readonly nextBlock: number;
  /** Index of the last processed log within `nextBlock`, or -1. */
  readonly lastLogIndex: number;
  /** The newest block the follower has read from, with its hash, to notice a deeper reorg. */
  readonly seen: { readonly block: number; readonly hash: string } | null;
}

/** What a follower reads from its chain. */
export type FollowerReads = Pick<Provider, "getBlockNumber" | "getBlock" | "getLogs">;

export interface ConfirmedEventFollowerOptions {
  readonly provider: FollowerReads;
  /**
   * The chain followed, recorded beside the checkpoint, for a store that
   * follows several chains (the interop services): the devnet's record check
   * then compares each checkpoint with its own chain only.
   */
  readonly chainId?: bigint;
  readonly store: Store;
  /** Checkpoint key; one per follower, stable across restarts. */
  readonly name: string;
  readonly filter: LogFilter;
  /** Blocks a log must be buried under before it is handled (0 = as soon as mined). */
  readonly confirmations: number;
  /** First block to read when there is no checkpoint yet (usually the deployment block). */
  readonly fromBlock: number;
  /**
   * Called once per confirmed log, in chain order. In the default mode the
   * checkpoint moves after the handler resolves, so after a crash the last log
   * may be handled again: the handler must be idempotent by (txHash, logIndex)
   * or by the reference the log carries. With `atomic: true` the handler must
   * be synchronous and only write to `store`: its writes and the checkpoint
   * commit in one transaction, so each log is applied exactly once.
   */
  readonly handler: (log: FollowedLog) => void | Promise<void>;
  readonly atomic?: boolean;
  /** Largest block range for one `eth_getLogs`. */
  readonly batchBlocks?: number;
  /** Pause between polls in `start()`. */
  readonly pollIntervalMs?: number;
  /** Told of errors met while running in the background (it keeps retrying, except on a reorg). */
  readonly onError?: (error: unknown) => void;
}

export const EVENT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "event checkpoints",
    sql: `CREATE TABLE event_checkpoints (
      name TEXT PRIMARY KEY,
      next_block INTEGER NOT NULL,
      last_log_index INTEGER NOT NULL,
      seen_block INTEGER,
      seen_hash TEXT
    ) STRICT`,
  },
  { version: 2, name: "chain of each checkpoint", sql: "ALTER TABLE event_checkpoints ADD COLUMN chain_id TEXT" },
];

/** Most logs an atomic follower applies in one SQLite transaction. */
export const ATOMIC_LOGS_PER_TRANSACTION = 200;

/** The checkpoint just after `log`. */
function positionOf(log: FollowedLog): Checkpoint {
  return { nextBlock: log.blockNumber, lastLogIndex: log.index, seen: { block: log.blockNumber, hash: log.blockHash } };
}

/**
 * Follows the logs that match a filter, handing each to a handler once it has
 * `confirmations` blocks on top of it, and checkpoints its position in the
 * store so that a restart resumes where it stopped.
 *
 * A reorg shallower than the confirmation depth is invisible to the handler:
 * it never sees a log that is not yet buried deep enough. A reorg that
 * replaces a block the follower has already completed stops it with
 * `ChainReorgError` (raise the confirmation depth for that chain).
 */
export class ConfirmedEventFollower {
  readonly #options: Required<Omit<ConfirmedEventFollowerOptions, "onError" | "chainId">> & {
    onError: ((error: unknown) => void) | undefined;
    chainId: bigint | undefined;
  };
  readonly #poller: Poller;

  constructor(options: ConfirmedEventFollowerOptions) {
    if (!Number.isSafeInteger(options.confirmations) || options.confirmations < 0) {
      throw new EventFollowerConfigError(
        "FOLLOWER_BAD_CONFIRMATIONS",
        `confirmations must be a whole number >= 0, got ${options.confirmations}`,
        { confirmations: options.confirmations },
      );
    }
    if (!Number.isSafeInteger(options.fromBlock) || options.fromBlock < 0) {
      throw new EventFollowerConfigError(
        "FOLLOWER_BAD_FROM_BLOCK",
        `fromBlock must be >= 0, got ${options.fromBlock}`,
        {
          fromBlock: options.fromBlock,
        },
      );
    }
    this.#options = {
      batchBlocks: 2_000,
      pollIntervalMs: 1_000,
      atomic: false,
      ...options,
      onError: options.onError,
      chainId: options.chainId,
    };
    options.store.migrate("chain.events", EVENT_MIGRATIONS);
    this.#poller = new Poller({
      tick: async () => (await this.poll()) > 0,
      intervalMs: this.#options.pollIntervalMs,
      onError: (error) => this.#options.onError?.(error),
      isFatal: (error) => error instanceof ChainReorgError,
    });
  }

  get name(): string {
    return this.#options.name;
  }

  /** The stored position, or the starting point when nothing was processed yet. */
  checkpoint(): Checkpoint {
    const row = this.#options.store.get<{
      next_block: number;
      last_log_index: number;
      seen_block: number | null;
      seen_hash: string | null;
    }>(
      "SELECT next_block, last_log_index, seen_block, seen_hash FROM event_checkpoints WHERE name = ?",
      this.#options.name,
    );
    if (row === undefined) return { nextBlock: this.#options.fromBlock, lastLogIndex: -1, seen: null };
    const seen =
      row.seen_block === null || row.seen_hash === null ? null : { block: row.seen_block, hash: row.seen_hash };
    return { nextBlock: row.next_block, lastLogIndex: row.last_log_index, seen };
  }

  /**
   * Handles every log confirmed by now and returns how many it handled.
   * @throws ChainReorgError if a completed block was replaced.
   */
  async poll(): Promise<number> {
    const { provider, confirmations, batchBlocks } = this.#options;
    const head = await provider.getBlockNumber();
    const safe = head - confirmations;
    let handled = 0;
    let position = this.checkpoint();
    await this.#checkNoDeepReorg(position);
    while (position.nextBlock <= safe) {
      const fromBlock = position.nextBlock;
      const toBlock = Math.min(safe, fromBlock + batchBlocks - 1);
      const { logs, toBlockHash } = await this.#stableLogs(fromBlock, toBlock);
      const fresh = logs.filter(
        (log) => !log.removed && !(log.blockNumber === position.nextBlock && log.index <= position.lastLogIndex),
      );
      const end: Checkpoint = { nextBlock: toBlock + 1, lastLogIndex: -1, seen: { block: toBlock, hash: toBlockHash } };
      if (this.#options.atomic) {
        for (let first = 0; first < fresh.length; first += ATOMIC_LOGS_PER_TRANSACTION) {
          const chunk = fresh.slice(first, first + ATOMIC_LOGS_PER_TRANSACTION);
          const last = first + chunk.length === fresh.length;
          position = this.#applyAtomically(chunk, position, last ? end : undefined);
          handled += chunk.length;
        }
        if (fresh.length > 0) continue;
      } else {
        for (const log of fresh) {
          position = positionOf(log);
          await this.#handle(log, position);
          handled += 1;
        }
      }
      position = end;
      this.#save(position);
    }
    return handled;
  }

  /** Polls in the background until `stop()` (or a reorg deeper than the confirmations). */
  start(): void {
    this.#poller.start();
  }

  /** Stops polling and waits for a poll under way to finish. */
  async stop(): Promise<void> {
    await this.#poller.stop();
  }

  async #handle(log: FollowedLog, next: Checkpoint): Promise<void> {
    await this.#options.handler(log);
    this.#save(next);
  }

  /**
   * Atomic mode: applies `logs` in one transaction, each log's writes in a savepoint of their own, and moves
   * the checkpoint in the same transaction (to `end` when the chunk completes the range). A handler that
   * throws rolls back its own log only: the logs before it commit with the checkpoint at the last of them,
   * then the error is thrown. One commit per chunk instead of one per log: with `synchronous = FULL`, one
   * fsync.
   * @returns where the follower stands after the chunk
   */
  #applyAtomically(logs: readonly FollowedLog[], from: Checkpoint, end: Checkpoint | undefined): Checkpoint {
    const { handler, store, name } = this.#options;
    let position = from;
    let failure: { error: unknown } | undefined;
    store.transaction(() => {
      for (const log of logs) {
        try {
          store.transaction(() => {
            const result = handler(log);
            if (result instanceof Promise) {
              throw new EventFollowerConfigError(
                "FOLLOWER_ASYNC_ATOMIC_HANDLER",
                `follower ${name} is atomic, so its handler must be synchronous`,
              );
            }
          });
        } catch (error) {
          failure = { error };
          break;
        }
        position = positionOf(log);
      }
      if (failure === undefined && end !== undefined) position = end;
      this.#save(position);
    });
    if (failure !== undefined) throw failure.error;
    return position;
  }

  /** Logs of a block range, read so that the range's last block did not change meanwhile. */
  async #stableLogs(fromBlock: number, toBlock: number): Promise<{ logs: FollowedLog[]; toBlockHash: string }> {
    const { provider, filter } = this.#options;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const before = await readBlockHash(provider, toBlock);
      const logs = await readLogs(provider, {
        ...(filter.address === undefined ? {} : { address: filter.address as string | string[] }),
        ...(filter.topics === undefined ? {} : { topics: filter.topics as Array<string | string[] | null> }),
        fromBlock,
        toBlock,
      });
      const after = await readBlockHash(provider, toBlock);
      if (before !== null && before === after) {
        logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
        return { logs, toBlockHash: before };
      }
    }
    throw new ChainReorgError("CHAIN_UNSTABLE", `block ${toBlock} kept changing while its logs were read`, { toBlock });
  }

  async #checkNoDeepReorg(position: Checkpoint): Promise<void> {
    if (position.seen === null) return;
    const hash = await readBlockHash(this.#options.provider, position.seen.block);
    if (hash === position.seen.hash) return;
    throw new ChainReorgError(
      "CHAIN_REORG_BELOW_CONFIRMATIONS",
      `block ${position.seen.block} was replaced after follower ${this.#options.name} processed it ` +
        `(had ${position.seen.hash}, now ${hash ?? "missing"}); ` +
        `the chain reorganised deeper than ${this.#options.confirmations} confirmations`,
      {
        follower: this.#options.name,
        block: position.seen.block,
        expected: position.seen.hash,
        actual: hash,
      },
    );
  }

  #save(position: Checkpoint): void {
    try {
      this.#options.store.run(
        `INSERT INTO event_checkpoints (name, next_block, last_log_index, seen_block, seen_hash, chain_id)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET next_block = excluded.next_block, last_log_index = excluded.last_log_index,
         seen_block = excluded.seen_block, seen_hash = excluded.seen_hash, chain_id = excluded.chain_id`,
        this.#options.name,
        position.nextBlock,
        position.lastLogIndex,
        position.seen?.block ?? null,
        position.seen?.hash ?? null,
        this.#options.chainId?.toString() ?? null,
      );
    } catch (error) {
      throw new BankChainError("FOLLOWER_CHECKPOINT_FAILED", `cannot store checkpoint: ${messageOf(error)}`, {
        follower: this.#options.name,
      });
    }
  }
}
