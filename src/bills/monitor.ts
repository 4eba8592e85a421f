/**
 * The bill monitor: follows the BillRegistry's events once they are
 * confirmed, keeps a local SQLite view of every definition and bill, replays
 * each `BillStateChanged` against the bill's definition and records an anomaly
 * for any event sequence the definition does not allow, and compares the view
 * with the chain's own views on request (`verify`).
 *
 * Two followers share the store:
 * - `<name>:definitions` (`BillDefinitionRegistered`) reads each new definition
 *   from the chain (its states from `definition()`, its transitions from the
 *   registering transaction, each checked against `rule()`); it is idempotent by
 *   definition id, since reading needs `await`.
 * - `<name>:bills` (every other event) runs in atomic mode: each log and the
 *   checkpoint commit together, so each log is applied exactly once.
 * A bill of a definition that the first follower has not read yet stops the
 * second one for the poll; `poll()` then reads definitions and resumes.
 */
import {
  AbiCoder,
  decodeBytes32String,
  getAddress,
  isAddress,
  keccak256,
  ZeroHash,
  type Log,
  type Provider,
} from "ethers";

import { ConfirmedEventFollower, type FollowedLog } from "../chain/events.js";
import { Poller } from "../chain/poller.js";
import { withRetry, type RetryPolicy } from "../chain/retry.js";
import { BankChainError } from "../errors.js";
import type { Store } from "../store/store.js";
import { BILL_MONITOR_MIGRATIONS, type BillRow, type TransitionRow } from "./monitor-store.js";
import { BillRegistry__factory, type BillRegistry } from "../../typechain-types/index.js";
import { Effect as EFFECT, Party as PARTY, Timing as TIMING } from "./enums.js";

/** The monitor was configured wrongly or met something it cannot read. */
export class BillMonitorError extends BankChainError {}
/** A bill names a definition the monitor has not read yet (retried by `poll`). */
export class BillDefinitionNotLoadedError extends BankChainError {}

const MAX_DEADLINE_STEPS = 4;

export interface BillMonitorOptions {
  readonly provider: Provider;
  readonly store: Store;
  /** The BillRegistry's address. */
  readonly registry: string;
  /** Blocks an event must be buried under before it is applied. */
  readonly confirmations: number;
  /** First block to read (the registry's deployment block). */
  readonly fromBlock: number;
  /** Checkpoint prefix, stable across restarts (default `bill-monitor`). */
  readonly name?: string;
  readonly pollIntervalMs?: number;
  readonly onError?: (error: unknown) => void;
}

export interface TransitionView {
  readonly from: string;
  readonly operation: string;
  readonly to: string;
  readonly party: number;
  readonly effect: number;
  readonly timing: number;
}

export interface DefinitionView {
  readonly id: number;
  readonly name: string;
  readonly version: number;
  readonly states: readonly string[];
  /** False when the registering transaction could not be decoded (transitions are then not checked). */
  readonly transitionsKnown: boolean;
  readonly transitions: readonly TransitionView[];
}

export interface BillView {
  readonly id: string;
  readonly definitionId: number | null;
  /** Recorded state as `bytes32` hex, and its short-string name. */
  readonly state: string;
  readonly stateName: string;
  readonly drawer: string | null;
  readonly drawee: string | null;
  readonly payer: string | null;
  readonly payee: string | null;
  readonly holder: string | null;
  readonly financier: string | null;
  readonly amountDue: bigint;
  readonly amountPaid: bigint;
  readonly rollingHash: string;
  readonly endorsers: readonly string[];
  /** Deadlines in seconds (null until read from the chain; 0 = none). */
  readonly acceptanceDeadline: number | null;
  readonly maturity: number | null;
  readonly recourseDeadline: number | null;
  readonly issuedBlock: number;
  readonly issuedTx: string;
  readonly lastBlock: number;
}

export interface OperationView {
  readonly seq: number;
  readonly event: string;
  readonly block: number;
  readonly tx: string;
  readonly logIndex: number;
  readonly from: string | null;
  readonly to: string | null;
  readonly operation: string | null;
  readonly operationName: string | null;
  readonly actor: string | null;
  readonly dataHash: string | null;
  readonly detail: Readonly<Record<string, string>>;
}

export interface AnomalyView {
  readonly seq: number;
  readonly kind: string;
  readonly billId: string | null;
  readonly block: number | null;
  readonly tx: string | null;
  readonly detail: Readonly<Record<string, string>>;
}

export interface BillFilter {
  readonly party?: string;
  /** A state name (`"ACCEPTED"`) or its `bytes32` hex. */
  readonly state?: string;
  /** Unix seconds: bills with a maturity at or before it (and not zero). */
  readonly dueBefore?: number;
}

export interface Divergence {
  readonly field: string;
  readonly local: string;
  readonly chain: string;
}

export interface VerifyReport {
  readonly billId: string;
  /** The block the chain was read at (the monitor's confirmed position). */
  readonly block: number;
  readonly divergences: readonly Divergence[];
}

const coder = AbiCoder.defaultAbiCoder();

/** A `bytes32` short string as text, or the hex when it is not one. */
export function bytes32Name(value: string): string {
  if (value === ZeroHash) return "";
  try {
    return decodeBytes32String(value);
  } catch {
    return value;
  }
}

/** `keccak256(abi.encode(prev, operation, actor, dataHash))`, the registry's rolling hash step. */
export function nextRollingHash(prev: string, operation: string, actor: string, dataHash: string): string {
  return keccak256(coder.encode(["bytes32", "bytes32", "address", "bytes32"], [prev, operation, actor, dataHash]));
}

/** How often the monitor asks for new blocks when idle, unless told otherwise. */
export const DEFAULT_POLL_MS = 250;

/** A bill event ahead of its definition's: the definitions are read again at once, four tries in all. */
const DEFINITION_RACE_RETRY: RetryPolicy = { baseMs: 0, maxMs: 0, factor: 1, maxAttempts: 4 };

/** Where a log is on chain. */
interface LogAt {
  readonly block: number;
  readonly tx: string;
  readonly logIndex: number;
}

export class BillMonitor {
  readonly #provider: Provider;
  readonly #store: Store;
  readonly #registry: BillRegistry;
  readonly #definitions: ConfirmedEventFollower;
  readonly #bills: ConfirmedEventFollower;
  readonly #poller: Poller;

  constructor(options: BillMonitorOptions) {
    this.#provider = options.provider;
    this.#store = options.store;
    this.#registry = BillRegistry__factory.connect(getAddress(options.registry), options.provider);
    this.#poller = new Poller({
      tick: async () => (await this.poll()) > 0,
      intervalMs: options.pollIntervalMs ?? DEFAULT_POLL_MS,
      onError: (error) => options.onError?.(error),
    });
    const name = options.name ?? "bill-monitor";
    const events = this.#registry.interface;
    const definitionTopic = events.getEvent("BillDefinitionRegistered").topicHash;
    const billTopics = [
      "BillStateChanged",
      "BillIssued",
      "BillEndorsed",
      "BillDiscountOffered",
      "BillDiscounted",
      "BillPaid",
      "BillRecourseExercised",
    ].map((event) => events.getEvent(event as "BillStateChanged").topicHash);
    options.store.migrate("bills.monitor", BILL_MONITOR_MIGRATIONS);
    const common = {
      provider: options.provider,
      store: options.store,
      confirmations: options.confirmations,
      fromBlock: options.fromBlock,
    };
    this.#definitions = new ConfirmedEventFollower({
      ...common,
      name: `${name}:definitions`,
      filter: { address: this.#registry.target as string, topics: [definitionTopic] },
      handler: (log) => this.#onDefinition(log),
    });
    this.#bills = new ConfirmedEventFollower({
      ...common,
      name: `${name}:bills`,
      filter: { address: this.#registry.target as string, topics: [billTopics] },
      atomic: true,
      handler: (log) => this.#onBillLog(log),
    });
  }

  /** Applies every confirmed event; returns how many bill events it applied. */
  async poll(): Promise<number> {
    // A bill of a definition registered in the same blocks: read the definitions again, then the bills.
    const handled = await withRetry(
      DEFINITION_RACE_RETRY,
      async () => {
        await this.#definitions.poll();
        return this.#bills.poll();
      },
      (error) => error instanceof BillDefinitionNotLoadedError,
    );
    await this.#readDeadlines();
    return handled;
  }

  /** Polls in the background until `stop()`. */
  start(): void {
    this.#poller.start();
  }

  /** Stops polling and waits for a poll under way to finish. */
  async stop(): Promise<void> {
    await this.#poller.stop();
  }

  /** The last block whose events are all applied. */
  get confirmedBlock(): number {
    return this.#bills.checkpoint().nextBlock - 1;
  }

  // ───────────────────────────── queries ─────────────────────────────

  definition(id: number): DefinitionView | undefined {
    const row = this.#store.get<{
      id: number;
      name: string;
      version: number;
      states: string;
      transitions_known: number;
    }>("SELECT id, name, version, states, transitions_known FROM bill_definitions WHERE id = ?", id);
    if (row === undefined) return undefined;
    const transitions = this.#store
      .all<TransitionRow>(
        "SELECT from_state, operation, to_state, party, effect, timing FROM bill_transitions WHERE definition_id = ?",
        id,
      )
      .map((t) => ({
        from: t.from_state,
        operation: t.operation,
        to: t.to_state,
        party: t.party,
        effect: t.effect,
        timing: t.timing,
      }));
    return {
      id: row.id,
      name: row.name,
      version: row.version,
      states: JSON.parse(row.states) as string[],
      transitionsKnown: row.transitions_known === 1,
      transitions,
    };
  }

  bill(id: string): BillView | undefined {
    const row = this.#billRow(id.toLowerCase());
    return row === undefined ? undefined : this.#toView(row);
  }

  /** Bills matching every given criterion, oldest first. */
  bills(filter: BillFilter = {}): BillView[] {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (filter.party !== undefined) {
      if (!isAddress(filter.party)) {
        throw new BillMonitorError("BILL_MONITOR_BAD_PARTY", `party must be a 0x address, got "${filter.party}"`, {
          party: filter.party,
        });
      }
      const party = getAddress(filter.party);
      where.push(
        `(drawer = ? OR drawee = ? OR payer = ? OR payee = ? OR holder = ? OR financier = ?
          OR id IN (SELECT bill_id FROM bill_endorsers WHERE address = ?))`,
      );
      params.push(party, party, party, party, party, party, party);
    }
    if (filter.state !== undefined) {
      where.push("state = ?");
      params.push(stateKey(filter.state));
    }
    if (filter.dueBefore !== undefined) {
      where.push("maturity IS NOT NULL AND maturity != 0 AND maturity <= ?");
      params.push(filter.dueBefore);
    }
    const sql = `SELECT * FROM bills ${where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`} ORDER BY issued_block, id`;
    return this.#store.all<BillRow>(sql, ...params).map((row) => this.#toView(row));
  }

  billsByParty(party: string): BillView[] {
    return this.bills({ party });
  }

  billsByState(state: string): BillView[] {
    return this.bills({ state });
  }

  billsDueBefore(timestamp: number): BillView[] {
    return this.bills({ dueBefore: timestamp });
  }

  /** Every event of bill `id`, in chain order. */
  history(id: string): OperationView[] {
    return this.#store
      .all<{
        seq: number;
        event: string;
        block: number;
        tx: string;
        log_index: number;
        from_state: string | null;
        to_state: string | null;
        operation: string | null;
        actor: string | null;
        data_hash: string | null;
        detail: string;
      }>("SELECT * FROM bill_operations WHERE bill_id = ? ORDER BY seq", id.toLowerCase())
      .map((r) => ({
        seq: r.seq,
        event: r.event,
        block: r.block,
        tx: r.tx,
        logIndex: r.log_index,
        from: r.from_state,
        to: r.to_state,
        operation: r.operation,
        operationName: r.operation === null ? null : bytes32Name(r.operation),
        actor: r.actor,
        dataHash: r.data_hash,
        detail: JSON.parse(r.detail) as Record<string, string>,
      }));
  }

  anomalies(billId?: string): AnomalyView[] {
    const rows =
      billId === undefined
        ? this.#store.all<AnomalyRow>("SELECT * FROM bill_anomalies ORDER BY seq")
        : this.#store.all<AnomalyRow>(
            "SELECT * FROM bill_anomalies WHERE bill_id = ? ORDER BY seq",
            billId.toLowerCase(),
          );
    return rows.map((r) => ({
      seq: r.seq,
      kind: r.kind,
      billId: r.bill_id,
      block: r.block,
      tx: r.tx,
      detail: JSON.parse(r.detail) as Record<string, string>,
    }));
  }

  /**
   * The state bill `id` is in at `timestamp` by the local view: the recorded
   * state, moved along its deadline transitions (as the chain's `stateOf`).
   */
  derivedState(id: string, timestamp: number): string | undefined {
    const row = this.#billRow(id.toLowerCase());
    if (row === undefined) return undefined;
    return this.#derive(row, timestamp);
  }

  // ───────────────────────────── verification ─────────────────────────────

  /**
   * Compares bill `id` in the local view with the chain's views at the
   * monitor's confirmed block, and records each difference as a `DIVERGENCE`
   * anomaly.
   */
  async verify(id: string): Promise<VerifyReport> {
    const billId = id.toLowerCase();
    const block = this.confirmedBlock;
    const blockTag = block;
    const [stored, derived, endorsers, header] = await Promise.all([
      this.#registry.bill(billId, { blockTag }),
      this.#registry.stateOf(billId, { blockTag }),
      this.#registry.endorsers(billId, { blockTag }),
      this.#provider.getBlock(blockTag),
    ]);
    if (header === null) {
      throw new BillMonitorError("BILL_MONITOR_BLOCK_MISSING", `block ${block} is missing`, { block });
    }
    const row = this.#billRow(billId);
    const divergences: Divergence[] = [];
    const compare = (field: string, local: string, chain: string): void => {
      if (local !== chain) divergences.push({ field, local, chain });
    };
    if (row === undefined) {
      compare("exists", "false", stored.definitionId === 0n ? "false" : "true");
    } else {
      const endorsersLocal = this.#endorsers(billId);
      compare("definitionId", String(row.definition_id), String(stored.definitionId));
      compare("state", row.state, stored.state);
      compare("stateOf", this.#derive(row, header.timestamp), derived);
      compare("amountDue", row.amount_due, stored.amountDue.toString());
      compare("amountPaid", row.amount_paid, stored.amountPaid.toString());
      compare("rollingHash", row.rolling_hash, stored.rollingHash);
      compare("holder", String(row.holder), getAddress(stored.holder));
      compare("payer", String(row.payer), getAddress(stored.payer));
      compare("endorsers", endorsersLocal.join(","), endorsers.map((a) => getAddress(a)).join(","));
    }
    if (divergences.length > 0) {
      this.#store.transaction(() => {
        for (const d of divergences) {
          this.#anomaly("DIVERGENCE", billId, block, null, { ...d });
        }
      });
    }
    return { billId, block, divergences };
  }

  /** `verify` for every bill in the view. */
  async verifyAll(): Promise<VerifyReport[]> {
    const ids = this.#store.all<{ id: string }>("SELECT id FROM bills ORDER BY issued_block, id").map((r) => r.id);
    const reports: VerifyReport[] = [];
    for (const id of ids) reports.push(await this.verify(id));
    return reports;
  }

  // ───────────────────────────── handlers ─────────────────────────────

  async #onDefinition(log: FollowedLog): Promise<void> {
    const parsed = this.#registry.interface.parseLog(log);
    if (parsed === null) return;
    const id = Number(parsed.args.definitionId as bigint);
    if (this.#store.get("SELECT 1 AS x FROM bill_definitions WHERE id = ?", id) !== undefined) return;
    const blockTag = log.blockNumber;
    const [name, version, states] = await this.#registry.definition(id, { blockTag });
    let transitions: TransitionView[] = [];
    let known = false;
    const tx = await this.#provider.getTransaction(log.transactionHash);
    const call =
      tx !== null && tx.to !== null && getAddress(tx.to) === getAddress(this.#registry.target as string)
        ? this.#registry.interface.parseTransaction({ data: tx.data })
        : null;
    if (call !== null && call.name === "registerDefinition" && call.args[0] === name && call.args[1] === version) {
      transitions = (call.args[3] as ReadonlyArray<readonly [string, string, string, bigint, bigint, bigint]>).map(
        (t) => ({
          from: t[0],
          operation: t[1],
          to: t[2],
          party: Number(t[3]),
          effect: Number(t[4]),
          timing: Number(t[5]),
        }),
      );
      // The chain's views are the authority: every decoded transition must be stored as decoded.
      const rules = await Promise.all(
        transitions.map((t) => this.#registry.rule(id, t.from, t.operation, { blockTag })),
      );
      known = rules.every(
        (r, i) =>
          r.to === transitions[i]!.to &&
          Number(r.party) === transitions[i]!.party &&
          Number(r.effect) === transitions[i]!.effect &&
          Number(r.timing) === transitions[i]!.timing,
      );
      if (!known) transitions = [];
    }
    this.#store.transaction(() => {
      this.#store.run(
        "INSERT OR IGNORE INTO bill_definitions (id, name, version, states, transitions_known, block, tx) VALUES (?, ?, ?, ?, ?, ?, ?)",
        id,
        bytes32Name(name),
        Number(version),
        JSON.stringify([...states]),
        known ? 1 : 0,
        log.blockNumber,
        log.transactionHash,
      );
      for (const t of transitions) {
        this.#store.run(
          "INSERT OR IGNORE INTO bill_transitions (definition_id, from_state, operation, to_state, party, effect, timing) VALUES (?, ?, ?, ?, ?, ?, ?)",
          id,
          t.from,
          t.operation,
          t.to,
          t.party,
          t.effect,
          t.timing,
        );
      }
      if (!known) {
        this.#anomaly("DEFINITION_UNVERIFIABLE", null, log.blockNumber, log.transactionHash, {
          definitionId: String(id),
          reason: "the registering transaction does not decode to registerDefinition; transitions are not checked",
        });
      }
    });
  }

  /** One bill event: its own handler by name (effect events share one). */
  #onBillLog(log: FollowedLog): void {
    const parsed = this.#registry.interface.parseLog(log);
    if (parsed === null) return;
    const args = parsed.args as unknown as { readonly [key: string]: unknown };
    const id = (args.id as string).toLowerCase();
    const at: LogAt = { block: log.blockNumber, tx: log.transactionHash, logIndex: log.index };
    const row = this.#billRow(id);
    if (parsed.name === "BillStateChanged") this.#onStateChanged(args, id, row, at);
    else if (parsed.name === "BillIssued") this.#onIssued(args, id, row, at);
    else this.#onEffect(parsed.name, args, id, row, at);
  }

  /** `BillStateChanged`: a new bill, or a transition checked against the definition, with its pending effect. */
  #onStateChanged(args: { readonly [key: string]: unknown }, id: string, row: BillRow | undefined, at: LogAt): void {
    const from = args.from as string;
    const to = args.to as string;
    const operation = args.operation as string;
    const actor = getAddress(args.actor as string);
    const dataHash = args.operationDataHash as string;
    this.#operation(id, "BillStateChanged", at, { from, to, operation, actor, dataHash }, {});
    if (from === ZeroHash) {
      if (row !== undefined) {
        this.#anomaly("DUPLICATE_ISSUE", id, at.block, at.tx, { operation: bytes32Name(operation) });
        return;
      }
      this.#store.run(
        `INSERT INTO bills (id, state, rolling_hash, issued_block, issued_tx, last_block)
         VALUES (?, ?, ?, ?, ?, ?)`,
        id,
        to,
        nextRollingHash(ZeroHash, operation, actor, dataHash),
        at.block,
        at.tx,
        at.block,
      );
      return;
    }
    if (row === undefined) {
      this.#anomaly("UNKNOWN_BILL", id, at.block, at.tx, { operation: bytes32Name(operation) });
      return;
    }
    const effect = this.#checkTransition(row, { from, to, operation, actor }, at);
    this.#settlePendingEffect(row, effect, operation, at);
    this.#store.run(
      "UPDATE bills SET state = ?, rolling_hash = ?, pending_effect = NULL, last_block = ? WHERE id = ?",
      to,
      nextRollingHash(row.rolling_hash, operation, actor, dataHash),
      at.block,
      id,
    );
  }

  /**
   * Checks a transition of a known bill against its definition's rules (state,
   * rule, target, party), raising an anomaly for each mismatch; returns the
   * rule's effect, or null when the rules are not known.
   */
  #checkTransition(
    row: BillRow,
    step: { readonly from: string; readonly to: string; readonly operation: string; readonly actor: string },
    at: LogAt,
  ): number | null {
    const { from, to, operation, actor } = step;
    const id = row.id;
    let effect: number | null = null;
    if (row.state !== from) {
      this.#anomaly("STATE_MISMATCH", id, at.block, at.tx, {
        operation: bytes32Name(operation),
        localState: bytes32Name(row.state),
        eventFrom: bytes32Name(from),
      });
    }
    if (row.definition_id !== null && this.#transitionsKnown(row.definition_id)) {
      const rule = this.#rule(row.definition_id, from, operation);
      if (rule === undefined) {
        this.#anomaly("INVALID_TRANSITION", id, at.block, at.tx, {
          from: bytes32Name(from),
          operation: bytes32Name(operation),
          to: bytes32Name(to),
        });
      } else {
        effect = rule.effect;
        if (rule.to_state !== to) {
          this.#anomaly("WRONG_TARGET", id, at.block, at.tx, {
            from: bytes32Name(from),
            operation: bytes32Name(operation),
            expected: bytes32Name(rule.to_state),
            to: bytes32Name(to),
          });
        }
        const expected = partyAddress(row, rule.party);
        if (rule.party !== PARTY.Anyone && expected !== actor) {
          this.#anomaly("UNAUTHORIZED_PARTY", id, at.block, at.tx, {
            operation: bytes32Name(operation),
            party: String(rule.party),
            expected: String(expected),
            actor,
          });
        }
      }
    }
    return effect;
  }

  /**
   * The registry emits an operation's effect event (BillPaid, BillEndorsed, …)
   * before its BillStateChanged: checks the pending effect against the rule's
   * and applies it now.
   */
  #settlePendingEffect(row: BillRow, effect: number | null, operation: string, at: LogAt): void {
    const id = row.id;
    const pending = row.pending_effect === null ? null : (JSON.parse(row.pending_effect) as PendingEffect);
    const known = row.definition_id !== null && this.#transitionsKnown(row.definition_id);
    if (known && effect !== null && effect !== EFFECT.None && pending === null) {
      this.#anomaly("MISSING_EFFECT", id, at.block, at.tx, {
        operation: bytes32Name(operation),
        effect: String(effect),
      });
    }
    if (pending !== null) {
      const matches =
        !known ||
        (effect !== null &&
          (EFFECT_EVENTS[pending.event] === effect ||
            (pending.event === "BillPaid" && (effect === EFFECT.PayFull || effect === EFFECT.PayPartial))));
      if (!matches || pending.tx !== at.tx) {
        this.#anomaly("UNEXPECTED_EFFECT", id, at.block, at.tx, {
          event: pending.event,
          operation: bytes32Name(operation),
          effect: String(effect),
        });
      }
      this.#applyEffect(id, row, pending, at);
    }
  }

  /** `BillIssued`: the new bill's definition and parties, and a check of its issuing transition. */
  #onIssued(args: { readonly [key: string]: unknown }, id: string, row: BillRow | undefined, at: LogAt): void {
    const definitionId = Number(args.definitionId as bigint);
    const drawer = getAddress(args.drawer as string);
    const drawee = getAddress(args.drawee as string);
    const payee = getAddress(args.payee as string);
    const amount = args.amount as bigint;
    this.#operation(
      id,
      "BillIssued",
      at,
      { actor: drawer },
      {
        definitionId: String(definitionId),
        drawer,
        drawee,
        payee,
        amount: amount.toString(),
      },
    );
    if (row === undefined || row.definition_id !== null) {
      this.#anomaly("UNEXPECTED_EFFECT", id, at.block, at.tx, { event: "BillIssued" });
      return;
    }
    if (this.#store.get("SELECT 1 AS x FROM bill_definitions WHERE id = ?", definitionId) === undefined) {
      throw new BillDefinitionNotLoadedError(
        "BILL_DEFINITION_NOT_LOADED",
        `bill ${id} is of definition ${definitionId}, not read yet`,
        { billId: id, definitionId },
      );
    }
    this.#store.run(
      `UPDATE bills SET definition_id = ?, drawer = ?, drawee = ?, payer = ?, payee = ?, holder = ?,
       amount_due = ? WHERE id = ?`,
      definitionId,
      drawer,
      drawee,
      drawee,
      payee,
      payee,
      amount.toString(),
      id,
    );
    if (this.#transitionsKnown(definitionId)) {
      const issuing = this.#store.get<{ operation: string; actor: string; to_state: string }>(
        "SELECT operation, actor, to_state FROM bill_operations WHERE bill_id = ? AND event = 'BillStateChanged' ORDER BY seq LIMIT 1",
        id,
      );
      const rule = issuing === undefined ? undefined : this.#rule(definitionId, ZeroHash, issuing.operation);
      if (issuing === undefined || rule === undefined || rule.effect !== EFFECT.Issue) {
        this.#anomaly("INVALID_TRANSITION", id, at.block, at.tx, {
          from: "",
          operation: issuing === undefined ? "" : bytes32Name(issuing.operation),
        });
      } else if (rule.to_state !== issuing.to_state) {
        this.#anomaly("WRONG_TARGET", id, at.block, at.tx, {
          operation: bytes32Name(issuing.operation),
          expected: bytes32Name(rule.to_state),
          to: bytes32Name(issuing.to_state),
        });
      }
    }
  }

  #onEffect(
    event: string,
    args: { readonly [key: string]: unknown },
    id: string,
    row: BillRow | undefined,
    at: LogAt,
  ): void {
    const detail: Record<string, string> = {};
    for (const key of ["from", "to", "holder", "financier", "payer", "endorser"]) {
      if (typeof args[key] === "string") detail[key] = getAddress(args[key]);
    }
    for (const key of ["price", "amount", "totalPaid"]) {
      if (typeof args[key] === "bigint") detail[key] = args[key].toString();
    }
    this.#operation(id, event, at, {}, detail);
    if (row === undefined) {
      this.#anomaly("UNKNOWN_BILL", id, at.block, at.tx, { event });
      return;
    }
    if (row.pending_effect !== null) {
      const previous = JSON.parse(row.pending_effect) as PendingEffect;
      this.#anomaly("UNEXPECTED_EFFECT", id, previous.block, previous.tx, {
        event: previous.event,
        reason: "no BillStateChanged followed it",
      });
    }
    const pending: PendingEffect = { event, detail, block: at.block, tx: at.tx };
    this.#store.run("UPDATE bills SET pending_effect = ? WHERE id = ?", JSON.stringify(pending), id);
  }

  #applyEffect(
    id: string,
    row: BillRow,
    pending: PendingEffect,
    at: { block: number; tx: string; logIndex: number },
  ): void {
    const { detail } = pending;
    const position = (): number =>
      this.#store.get<{ n: number }>("SELECT COUNT(*) AS n FROM bill_endorsers WHERE bill_id = ?", id)!.n;
    switch (pending.event) {
      case "BillEndorsed":
        this.#store.run(
          "INSERT INTO bill_endorsers (bill_id, position, address) VALUES (?, ?, ?)",
          id,
          position(),
          detail.from!,
        );
        this.#store.run("UPDATE bills SET holder = ? WHERE id = ?", detail.to!, id);
        break;
      case "BillDiscountOffered":
        this.#store.run("UPDATE bills SET financier = ? WHERE id = ?", detail.financier!, id);
        break;
      case "BillDiscounted":
        this.#store.run(
          "INSERT INTO bill_endorsers (bill_id, position, address) VALUES (?, ?, ?)",
          id,
          position(),
          detail.from!,
        );
        this.#store.run("UPDATE bills SET holder = ? WHERE id = ?", detail.financier!, id);
        break;
      case "BillPaid": {
        const paid = BigInt(row.amount_paid) + BigInt(detail.amount!);
        if (paid.toString() !== detail.totalPaid || paid > BigInt(row.amount_due)) {
          this.#anomaly("PAYMENT_MISMATCH", id, at.block, at.tx, {
            localTotal: paid.toString(),
            eventTotal: detail.totalPaid!,
            amountDue: row.amount_due,
          });
        }
        this.#store.run("UPDATE bills SET amount_paid = ? WHERE id = ?", detail.totalPaid!, id);
        break;
      }
      case "BillRecourseExercised":
        this.#store.run("UPDATE bills SET payer = ? WHERE id = ?", detail.endorser!, id);
        break;
    }
  }

  // ───────────────────────────── helpers ─────────────────────────────

  /** Reads the deadlines of bills that lack them; deadlines never change once issued. */
  async #readDeadlines(): Promise<void> {
    const missing = this.#store.all<{ id: string }>(
      "SELECT id FROM bills WHERE maturity IS NULL AND definition_id IS NOT NULL",
    );
    if (missing.length === 0) return;
    const blockTag = this.confirmedBlock;
    for (const { id } of missing) {
      const b = await this.#registry.bill(id, { blockTag });
      if (b.definitionId === 0n) continue;
      this.#store.run(
        "UPDATE bills SET acceptance_deadline = ?, maturity = ?, recourse_deadline = ? WHERE id = ?",
        Number(b.acceptanceDeadline),
        Number(b.maturity),
        Number(b.recourseDeadline),
        id,
      );
    }
  }

  #derive(row: BillRow, timestamp: number): string {
    let state = row.state;
    if (row.definition_id === null) return state;
    for (let i = 0; i < MAX_DEADLINE_STEPS; i += 1) {
      const rule = this.#store.get<TransitionRow>(
        "SELECT * FROM bill_transitions WHERE definition_id = ? AND from_state = ? AND party = ?",
        row.definition_id,
        state,
        PARTY.Anyone,
      );
      if (rule === undefined) break;
      const deadline = deadlineOf(row, rule.timing);
      if (deadline === null || deadline === 0 || timestamp <= deadline) break;
      state = rule.to_state;
    }
    return state;
  }

  #billRow(id: string): BillRow | undefined {
    return this.#store.get<BillRow>("SELECT * FROM bills WHERE id = ?", id);
  }

  #endorsers(id: string): string[] {
    return this.#store
      .all<{ address: string }>("SELECT address FROM bill_endorsers WHERE bill_id = ? ORDER BY position", id)
      .map((r) => r.address);
  }

  #toView(row: BillRow): BillView {
    return {
      id: row.id,
      definitionId: row.definition_id,
      state: row.state,
      stateName: bytes32Name(row.state),
      drawer: row.drawer,
      drawee: row.drawee,
      payer: row.payer,
      payee: row.payee,
      holder: row.holder,
      financier: row.financier,
      amountDue: BigInt(row.amount_due),
      amountPaid: BigInt(row.amount_paid),
      rollingHash: row.rolling_hash,
      endorsers: this.#endorsers(row.id),
      acceptanceDeadline: row.acceptance_deadline,
      maturity: row.maturity,
      recourseDeadline: row.recourse_deadline,
      issuedBlock: row.issued_block,
      issuedTx: row.issued_tx,
      lastBlock: row.last_block,
    };
  }

  #transitionsKnown(definitionId: number): boolean {
    const row = this.#store.get<{ k: number }>(
      "SELECT transitions_known AS k FROM bill_definitions WHERE id = ?",
      definitionId,
    );
    return row?.k === 1;
  }

  #rule(definitionId: number, from: string, operation: string): TransitionRow | undefined {
    return this.#store.get<TransitionRow>(
      "SELECT * FROM bill_transitions WHERE definition_id = ? AND from_state = ? AND operation = ?",
      definitionId,
      from,
      operation,
    );
  }

  #operation(
    id: string,
    event: string,
    at: { block: number; tx: string; logIndex: number },
    fields: { from?: string; to?: string; operation?: string; actor?: string; dataHash?: string },
    detail: Record<string, string>,
  ): void {
    this.#store.run(
      `INSERT INTO bill_operations (bill_id, event, block, tx, log_index, from_state, to_state, operation, actor, data_hash, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      event,
      at.block,
      at.tx,
      at.logIndex,
      fields.from ?? null,
      fields.to ?? null,
      fields.operation ?? null,
      fields.actor ?? null,
      fields.dataHash ?? null,
      JSON.stringify(detail),
    );
  }

  #anomaly(kind: string, billId: string | null, block: number | null, tx: string | null, detail: object): void {
    this.#store.run(
      "INSERT INTO bill_anomalies (kind, bill_id, block, tx, detail) VALUES (?, ?, ?, ?, ?)",
      kind,
      billId,
      block,
      tx,
      JSON.stringify(detail),
    );
  }
}

/** An effect event waiting for the BillStateChanged of its operation. */
interface PendingEffect {
  readonly event: string;
  readonly detail: Record<string, string>;
  readonly block: number;
  readonly tx: string;
}

const EFFECT_EVENTS: Readonly<Record<string, number>> = {
  BillEndorsed: EFFECT.Endorse,
  BillDiscountOffered: EFFECT.OfferDiscount,
  BillDiscounted: EFFECT.Discount,
  BillRecourseExercised: EFFECT.Recourse,
};

interface AnomalyRow {
  seq: number;
  kind: string;
  bill_id: string | null;
  block: number | null;
  tx: string | null;
  detail: string;
}

function stateKey(state: string): string {
  if (/^0x[0-9a-fA-F]{64}$/.test(state)) return state.toLowerCase();
  if (state.length === 0 || Buffer.byteLength(state, "utf8") > 31) {
    throw new BillMonitorError("BILL_MONITOR_BAD_STATE", `state must be a short name or bytes32 hex, got "${state}"`, {
      state,
    });
  }
  const hex = Buffer.from(state, "utf8").toString("hex").padEnd(64, "0");
  return `0x${hex}`;
}

function partyAddress(row: BillRow, party: number): string | null {
  switch (party) {
    case PARTY.Drawer:
      return row.drawer;
    case PARTY.Drawee:
      return row.payer;
    case PARTY.Payee:
      return row.payee;
    case PARTY.Holder:
      return row.holder;
    case PARTY.Financier:
      return row.financier;
    default:
      return null;
  }
}

function deadlineOf(row: BillRow, timing: number): number | null {
  if (timing === TIMING.BeforeAcceptance || timing === TIMING.AfterAcceptance) return row.acceptance_deadline;
  if (timing === TIMING.BeforeMaturity || timing === TIMING.AfterMaturity) return row.maturity;
  return row.recourse_deadline;
}
