/**
 * The certificate indexer: follows the chain `confirmations` blocks deep and
 * keeps, per block, the raw rows the certificate features are computed from
 * (`indexer-store.ts`): every top-level transaction (sender, callee or created
 * contract, native value), every BankToken `Transfer`, and what the suite's
 * contracts say about an address (completed settlements, bills paid on time or
 * overdue, proven offline double spends, freezes and unfreezes).
 *
 * Because it keeps rows rather than totals, `featuresOf(addresses, asOfBlock)`
 * gives the features of any set of addresses as of any indexed block: that is
 * what lets anyone recompute a certificate at its `asOfBlock`.
 *
 * Reading, per batch of blocks: each block with its transactions
 * (`eth_getBlockByNumber`, one call per block), the suite's logs of the whole
 * batch (`eth_getLogs`, one call), receipts only of the transactions whose
 * outcome matters (native value or a contract creation: `eth_getBlockReceipts`
 * per such block, or `eth_getTransactionReceipt` per such transaction where the
 * node lacks it), and the maturity of each bill paid (`eth_call`). A batch's rows
 * and the checkpoint commit in one SQLite transaction, so a restart resumes
 * where the last commit left off and applies nothing twice.
 *
 * Reorgs. Nothing shallower than `confirmations` is ever read. Each batch's
 * first block must have the last indexed block as its parent, and every block,
 * log and receipt of a batch must hang on the same chain of hashes; a replaced
 * indexed block stops the indexer with `ChainReorgError`
 * (`CHAIN_REORG_BELOW_CONFIRMATIONS`), like `ConfirmedEventFollower`.
 */
import { AbiCoder, computeAddress, getAddress, getCreate2Address, isAddress, keccak256, SigningKey } from "ethers";
import { z } from "zod";

import { ChainReorgError, EVENT_MIGRATIONS } from "../chain/events.js";
import { Poller } from "../chain/poller.js";
import { BankChainError } from "../errors.js";
import type { Store } from "../store/store.js";
import { NO_FEATURES, type Features } from "./features.js";
import { CERT_INDEXER_MIGRATIONS, FACT, type FactKind, type FactRow, type TransferRow } from "./indexer-store.js";
import {
  BankToken__factory,
  BillRegistry__factory,
  InterbankSettlement__factory,
  OfflineVault__factory,
} from "../../typechain-types/index.js";

/** The indexer was configured wrongly, or its store was indexed with other contracts. */
export class CertIndexerConfigError extends BankChainError {}
/** A public key that is not a secp256k1 point in SEC 1 form. */
export class CertPublicKeyError extends BankChainError {}
/** An address that is not a 20-byte hex address. */
export class CertAddressError extends BankChainError {}
/** A block the index does not cover yet (or not a block number at all). */
export class CertBlockNotIndexedError extends BankChainError {}
/** The node answered something the indexer cannot read. */
export class CertIndexerChainError extends BankChainError {}

/** The JSON-RPC access the indexer needs; `ethers.JsonRpcProvider` and Hardhat's provider have it. */
export interface IndexerProvider {
  send(method: string, params: unknown[]): Promise<unknown>;
}

/** The most CREATE2 accounts derived per profile and key: it bounds the address set of a key. */
export const MAX_CREATE2_ACCOUNTS = 100;

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "a 32-byte 0x-hex string");

/**
 * A CREATE2 factory whose accounts belong to a key: the accounts of owner `o` are
 * `getCreate2Address(factory, keccak256(abi.encode(address o, uint256 i)), initCodeHash)`
 * for `i` in `0 .. accounts - 1` (the salt rule of clone factories whose init code does not
 * depend on the owner). JSON: `{ "name": "...", "factory": "0x…", "initCodeHash": "0x…", "accounts": 1 }`.
 */
export const create2ProfileSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and dashes (1 to 63)"),
    factory: z.string().refine((text) => isAddress(text), "a 20-byte 0x-hex address"),
    initCodeHash: hex32,
    accounts: z.number().int().min(1).max(MAX_CREATE2_ACCOUNTS),
  })
  .strict();

export type Create2Profile = Readonly<z.infer<typeof create2ProfileSchema>>;

/** Parses a list of CREATE2 profiles from JSON, naming the first bad field. */
export function parseCreate2Profiles(json: unknown): Create2Profile[] {
  const result = z.array(create2ProfileSchema).safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join(".") || "(root)";
    throw new CertIndexerConfigError(
      "CERT_INDEXER_BAD_CREATE2_PROFILE",
      `CREATE2 profile ${field}: ${issue?.message ?? "is invalid"}`,
      { field },
    );
  }
  return result.data;
}

/** The salt of account `index` of `owner` under a CREATE2 profile: `keccak256(abi.encode(owner, index))`. */
export function create2Salt(owner: string, index: number): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["address", "uint256"], [owner, index]));
}

/** The address of account `index` of `owner` under `profile`. */
export function create2AccountOf(profile: Create2Profile, owner: string, index: number): string {
  return getCreate2Address(getAddress(profile.factory), create2Salt(owner, index), profile.initCodeHash);
}

/**
 * The EOA address of a secp256k1 public key (0x-hex, SEC 1 compressed 33 bytes or uncompressed
 * 65 bytes), checksummed.
 * @throws CertPublicKeyError if it is not such a key or not a point of the curve.
 */
export function keyAddress(publicKey: string): string {
  if (typeof publicKey !== "string" || !/^0x(0[23][0-9a-fA-F]{64}|04[0-9a-fA-F]{128})$/.test(publicKey)) {
    throw new CertPublicKeyError(
      "CERT_BAD_PUBLIC_KEY",
      "publicKey must be 0x-hex: 33 bytes starting 02 or 03, or 65 bytes starting 04",
      { publicKey: typeof publicKey === "string" ? publicKey.slice(0, 140) : typeof publicKey },
    );
  }
  try {
    // computePublicKey decodes the point and checks that it lies on the curve.
    return computeAddress(SigningKey.computePublicKey(publicKey, false));
  } catch {
    throw new CertPublicKeyError("CERT_BAD_PUBLIC_KEY", "publicKey is not a point of secp256k1", { publicKey });
  }
}

export interface CertificateIndexerOptions {
  readonly provider: IndexerProvider;
  readonly store: Store;
  /** The suite's contracts whose logs are read; `token` (BankToken) is required. */
  readonly contracts: {
    readonly token: string;
    readonly settlement?: string;
    readonly bills?: string;
    readonly offline?: string;
  };
  /** Blocks a block must be buried under before it is indexed (0 = as soon as mined). */
  readonly confirmations: number;
  /** The first block to index when the store has none (usually the suite's deployment block, or 0). */
  readonly fromBlock: number;
  /** Pause between polls in `start()` (default 1000 ms). */
  readonly pollIntervalMs?: number;
  /** Blocks read and committed together (default 100). */
  readonly batchBlocks?: number;
  readonly create2?: readonly Create2Profile[];
  /** Checkpoint name in `event_checkpoints` (default `certificate-indexer`). */
  readonly name?: string;
  /** Told of errors met while running in the background (it retries, except on a reorg). */
  readonly onError?: (error: unknown) => void;
}

interface RawTx {
  readonly hash: string;
  readonly from: string;
  readonly to: string | null;
  readonly value: string;
  readonly nonce: string;
  readonly transactionIndex: string;
}

interface RawBlock {
  readonly number: string;
  readonly hash: string;
  readonly parentHash: string;
  readonly timestamp: string;
  readonly transactions: readonly RawTx[];
}

interface RawReceipt {
  readonly transactionHash: string;
  readonly blockHash: string;
  readonly status?: string | null;
  readonly contractAddress?: string | null;
}

interface RawLog {
  readonly address: string;
  readonly topics: readonly string[];
  readonly data: string;
  readonly blockNumber: string;
  readonly blockHash: string;
  readonly transactionIndex: string;
  readonly logIndex: string;
  readonly removed?: boolean;
}

/** What one read of a block range gave, checked to hang on one chain of hashes. */
interface Batch {
  readonly from: number;
  readonly to: number;
  readonly blocks: readonly RawBlock[];
  /** Outcome of the transactions whose outcome matters, by hash. */
  readonly receipts: ReadonlyMap<string, { readonly ok: boolean; readonly created: string | null }>;
  /** The suite's logs, in chain order. */
  readonly logs: readonly RawLog[];
}

interface Position {
  readonly nextBlock: number;
  readonly seen: { readonly block: number; readonly hash: string } | null;
}

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";
const DAY = 86_400;
const PAID = "0x5041494400000000000000000000000000000000000000000000000000000000"; // bytes32("PAID")
const READ_ATTEMPTS = 3;

const quantity = (n: number): string => `0x${n.toString(16)}`;
const topicAddress = (topic: string | undefined): string => `0x${(topic ?? "").slice(26).toLowerCase()}`;

/** Whether a JSON-RPC error says the method does not exist on this node. */
function methodUnsupported(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth += 1) {
    const e = current as {
      code?: unknown;
      message?: unknown;
      error?: unknown;
      info?: { error?: unknown };
      cause?: unknown;
    };
    if (e.code === -32601 || e.code === -32004 || e.code === "UNSUPPORTED_OPERATION") return true;
    if (
      typeof e.message === "string" &&
      /method .*(not (found|supported|available))|not supported|unsupported/i.test(e.message)
    ) {
      return true;
    }
    current = e.error ?? e.info?.error ?? e.cause;
  }
  return false;
}

/**
 * Follows the chain and answers, for any set of addresses and any indexed block,
 * the certificate features of that set's history up to the block.
 */
export class CertificateIndexer {
  readonly #provider: IndexerProvider;
  readonly #store: Store;
  readonly #name: string;
  readonly #confirmations: number;
  readonly #fromBlock: number;
  readonly #batchBlocks: number;
  readonly #create2: readonly Create2Profile[];
  readonly #poller: Poller;
  readonly #token: string;
  readonly #settlement: string | undefined;
  readonly #bills: string | undefined;
  readonly #offline: string | undefined;
  /** Addresses never counted as counterparties: the zero address (mint, burn) and the suite's contracts. */
  readonly #infrastructure: ReadonlySet<string>;
  readonly #logAddresses: readonly string[];
  readonly #logTopics: readonly string[];
  readonly #topic: {
    readonly transfer: string;
    readonly frozen: string;
    readonly unfrozen: string;
    readonly smelted: string;
    readonly acknowledged: string;
    readonly billState: string;
    readonly doubleSpend: string;
  };
  readonly #billsAbi = BillRegistry__factory.createInterface();
  /** Bill maturities read so far (deadlines never change once a bill is issued). */
  readonly #maturities = new Map<string, bigint>();
  /** Whether the node answers `eth_getBlockReceipts` (unknown until first asked). */
  #blockReceipts: boolean | undefined;
  #running: Promise<number> | undefined;
  #flagged: { readonly asOfBlock: number; readonly addresses: ReadonlySet<string> } | undefined;

  constructor(options: CertificateIndexerOptions) {
    const { confirmations, fromBlock } = options;
    if (!Number.isSafeInteger(confirmations) || confirmations < 0) {
      throw new CertIndexerConfigError(
        "CERT_INDEXER_BAD_CONFIRMATIONS",
        `confirmations must be a whole number >= 0, got ${confirmations}`,
        { confirmations },
      );
    }
    if (!Number.isSafeInteger(fromBlock) || fromBlock < 0) {
      throw new CertIndexerConfigError("CERT_INDEXER_BAD_FROM_BLOCK", `fromBlock must be >= 0, got ${fromBlock}`, {
        fromBlock,
      });
    }
    const batchBlocks = options.batchBlocks ?? 100;
    if (!Number.isSafeInteger(batchBlocks) || batchBlocks < 1 || batchBlocks > 10_000) {
      throw new CertIndexerConfigError(
        "CERT_INDEXER_BAD_BATCH",
        `batchBlocks must be a whole number in [1, 10000], got ${batchBlocks}`,
        { batchBlocks },
      );
    }
    const contract = (field: string, value: string | undefined): string | undefined => {
      if (value === undefined) return undefined;
      if (typeof value !== "string" || !isAddress(value)) {
        throw new CertIndexerConfigError("CERT_INDEXER_BAD_CONTRACT", `contracts.${field} is not an address`, {
          field,
          value,
        });
      }
      return value.toLowerCase();
    };
    this.#token = contract("token", options.contracts.token) ?? "";
    if (this.#token === "") {
      throw new CertIndexerConfigError("CERT_INDEXER_BAD_CONTRACT", "contracts.token is required", { field: "token" });
    }
    this.#settlement = contract("settlement", options.contracts.settlement);
    this.#bills = contract("bills", options.contracts.bills);
    this.#offline = contract("offline", options.contracts.offline);
    this.#create2 = parseCreate2Profiles(options.create2 ?? []);
    this.#provider = options.provider;
    this.#store = options.store;
    this.#name = options.name ?? "certificate-indexer";
    this.#confirmations = confirmations;
    this.#fromBlock = fromBlock;
    this.#batchBlocks = batchBlocks;

    const token = BankToken__factory.createInterface();
    const settlement = InterbankSettlement__factory.createInterface();
    const vault = OfflineVault__factory.createInterface();
    this.#topic = {
      transfer: token.getEvent("Transfer").topicHash,
      frozen: token.getEvent("Frozen").topicHash,
      unfrozen: token.getEvent("Unfrozen").topicHash,
      smelted: settlement.getEvent("SettlementSmelted").topicHash,
      acknowledged: settlement.getEvent("SettlementAcknowledged").topicHash,
      billState: this.#billsAbi.getEvent("BillStateChanged").topicHash,
      doubleSpend: vault.getEvent("DoubleSpendSlashed").topicHash,
    };
    const suite = [this.#token, this.#settlement, this.#bills, this.#offline].filter((a) => a !== undefined);
    this.#infrastructure = new Set([ZERO_ADDRESS, ...suite]);
    this.#logAddresses = suite;
    this.#logTopics = [
      this.#topic.transfer,
      this.#topic.frozen,
      this.#topic.unfrozen,
      ...(this.#settlement === undefined ? [] : [this.#topic.smelted, this.#topic.acknowledged]),
      ...(this.#bills === undefined ? [] : [this.#topic.billState]),
      ...(this.#offline === undefined ? [] : [this.#topic.doubleSpend]),
    ];

    options.store.migrate("chain.events", EVENT_MIGRATIONS);
    options.store.migrate("certificates.indexer", CERT_INDEXER_MIGRATIONS);
    this.#checkConfig({
      token: this.#token,
      settlement: this.#settlement ?? "",
      bills: this.#bills ?? "",
      offline: this.#offline ?? "",
      fromBlock: String(fromBlock),
    });
    this.#poller = new Poller({
      tick: async () => (await this.poll()) > 0,
      intervalMs: options.pollIntervalMs ?? 1_000,
      onError: (error) => options.onError?.(error),
      isFatal: (error) => error instanceof ChainReorgError,
    });
  }

  /**
   * Indexes every block confirmed by now; returns how many blocks it indexed.
   * Calls made while one runs wait for it and then run.
   * @throws ChainReorgError if an indexed block was replaced (a reorg deeper than `confirmations`).
   */
  async poll(): Promise<number> {
    while (this.#running !== undefined) await this.#running.catch(() => undefined);
    const run = this.#poll();
    this.#running = run;
    try {
      return await run;
    } finally {
      this.#running = undefined;
    }
  }

  /** Polls in the background until `stop()` (or a reorg deeper than the confirmations). */
  start(): void {
    this.#poller.start();
  }

  /** Stops polling and waits for a poll under way to finish. */
  async stop(): Promise<void> {
    await this.#poller.stop();
  }

  /** The last block fully indexed, or -1 if none. */
  indexedThrough(): number {
    const next = this.#position().nextBlock;
    return next > this.#fromBlock ? next - 1 : -1;
  }

  /**
   * The addresses "generated from" a public key, as of `asOfBlock`: its EOA address first, then
   * the contracts it created with top-level CREATE transactions indexed up to `asOfBlock` (by
   * nonce), then the accounts of each configured CREATE2 profile with the EOA as owner (in profile
   * order, index 0 up). Unique and checksummed.
   * @throws CertPublicKeyError for a key that is not a secp256k1 public key.
   * @throws CertBlockNotIndexedError if `asOfBlock` is beyond `indexedThrough()`.
   */
  addressesOfKey(publicKey: string, asOfBlock: number): string[] {
    const eoa = keyAddress(publicKey);
    this.#checkBlock(asOfBlock);
    const created = this.#store.all<{ address: string }>(
      "SELECT address FROM cert_creations WHERE creator = ? AND block <= ? ORDER BY nonce",
      eoa.toLowerCase(),
      asOfBlock,
    );
    const addresses = [eoa, ...created.map((row) => getAddress(row.address))];
    for (const profile of this.#create2) {
      for (let index = 0; index < profile.accounts; index += 1) addresses.push(create2AccountOf(profile, eoa, index));
    }
    return [...new Set(addresses)];
  }

  /**
   * The features of the joint history of `addresses` up to and including block `asOfBlock`.
   * The addresses are one party: a transfer between two of them is internal (it counts for
   * first and last activity and active days only), and none of them is a counterparty of another.
   * @throws CertAddressError for a malformed address.
   * @throws CertBlockNotIndexedError if `asOfBlock` is beyond `indexedThrough()`.
   */
  featuresOf(addresses: readonly string[], asOfBlock: number): Features {
    const set = new Set<string>();
    for (const address of addresses) {
      if (typeof address !== "string" || !isAddress(address)) {
        throw new CertAddressError("CERT_BAD_ADDRESS", `not an address: ${String(address)}`, { address });
      }
      set.add(address.toLowerCase());
    }
    this.#checkBlock(asOfBlock);
    if (set.size === 0) return NO_FEATURES;
    const members = JSON.stringify([...set]);
    const columns = "block, tx_index, log_index, from_addr, to_addr, value, ts";
    const rows = this.#store.all<TransferRow>(
      `SELECT ${columns} FROM cert_transfers WHERE from_addr IN (SELECT value FROM json_each(?)) AND block <= ?
       UNION ALL
       SELECT ${columns} FROM cert_transfers WHERE to_addr IN (SELECT value FROM json_each(?)) AND block <= ?
         AND from_addr NOT IN (SELECT value FROM json_each(?))`,
      members,
      asOfBlock,
      members,
      asOfBlock,
      members,
    );

    let first = 0;
    let last = 0;
    const days = new Set<number>();
    const txIn = new Set<number>();
    const txOut = new Set<number>();
    let volumeToken = 0n;
    let volumeNative = 0n;
    const counterparties = new Set<string>();
    // Counterparties the set sent value to: only these can flag it (anyone can send a victim 1 wei from a frozen
    // address, so what the set received must not count against it).
    const paid = new Set<string>();
    for (const row of rows) {
      if (first === 0 || row.ts < first) first = row.ts;
      if (row.ts > last) last = row.ts;
      days.add(Math.floor(row.ts / DAY));
      const sent = set.has(row.from_addr);
      const received = row.to_addr !== null && set.has(row.to_addr);
      if (sent && received) continue; // internal: activity only
      const value = BigInt(row.value);
      // One number per transaction: a block holds far fewer than 65,536 transactions (gas limit / 21,000).
      const tx = row.block * 65_536 + row.tx_index;
      if (row.log_index < 0) volumeNative += value;
      else volumeToken += value;
      const other = sent ? row.to_addr : row.from_addr;
      if (sent) txOut.add(tx);
      else txIn.add(tx);
      if (value > 0n && other !== null && !this.#infrastructure.has(other)) {
        counterparties.add(other);
        if (sent) paid.add(other);
      }
    }

    const facts = this.#store.all<FactRow>(
      `SELECT address, kind, ref FROM cert_facts
       WHERE address IN (SELECT value FROM json_each(?)) AND block <= ? AND kind != ?`,
      members,
      asOfBlock,
      FACT.Unfrozen,
    );
    const counted = new Map<FactKind, Set<string>>();
    for (const fact of facts) {
      let refs = counted.get(fact.kind);
      if (refs === undefined) counted.set(fact.kind, (refs = new Set()));
      refs.add(fact.ref);
    }
    const count = (kind: FactKind): bigint => BigInt(counted.get(kind)?.size ?? 0);
    const flagged = this.#flaggedAsOf(asOfBlock);
    let flaggedCounterparties = 0n;
    for (const other of paid) if (flagged.has(other)) flaggedCounterparties += 1n;

    return {
      firstActivity: BigInt(first),
      lastActivity: BigInt(last),
      activeDays: BigInt(days.size),
      txCountIn: BigInt(txIn.size),
      txCountOut: BigInt(txOut.size),
      volumeToken,
      volumeNative,
      counterparties: BigInt(counterparties.size),
      settlementsCompleted: count(FACT.SettlementCompleted),
      billsPaidOnTime: count(FACT.BillPaidOnTime),
      billsPaidOverdue: count(FACT.BillPaidOverdue),
      doubleSpendFlags: count(FACT.DoubleSpend),
      frozenPeriods: count(FACT.Frozen),
      flaggedCounterparties,
    };
  }

  // ───────────────────────────── reading ─────────────────────────────

  async #poll(): Promise<number> {
    const head = Number(await this.#rpc<string>("eth_blockNumber", []));
    const safe = head - this.#confirmations;
    let position = this.#position();
    if (position.nextBlock > safe) {
      await this.#checkSeen(position);
      return 0;
    }
    let indexed = 0;
    while (position.nextBlock <= safe) {
      const from = position.nextBlock;
      const to = Math.min(safe, from + this.#batchBlocks - 1);
      const batch = await this.#read(from, to, position);
      this.#apply(batch);
      position = this.#position();
      indexed += to - from + 1;
    }
    return indexed;
  }

  /** Reads blocks `from..to`, again if the chain moved under the read. */
  async #read(from: number, to: number, position: Position): Promise<Batch> {
    for (let attempt = 1; attempt <= READ_ATTEMPTS; attempt += 1) {
      const batch = await this.#readOnce(from, to, position);
      if (batch !== undefined) return batch;
    }
    throw new ChainReorgError(
      "CHAIN_UNSTABLE",
      `blocks ${from}..${to} kept changing while the certificate indexer read them`,
      { from, to },
    );
  }

  /** One read of blocks `from..to`; undefined if what was read does not hang on one chain of hashes. */
  async #readOnce(from: number, to: number, position: Position): Promise<Batch | undefined> {
    const numbers = Array.from({ length: to - from + 1 }, (_, i) => from + i);
    const [blocks, logs] = await Promise.all([
      Promise.all(numbers.map((n) => this.#rpc<RawBlock | null>("eth_getBlockByNumber", [quantity(n), true]))),
      this.#logs(from, to),
    ]);
    const hashes = new Map<number, string>();
    let parent = position.seen !== null && position.seen.block === from - 1 ? position.seen.hash : undefined;
    for (const [i, block] of blocks.entries()) {
      if (block === null || block === undefined || Number(block.number) !== from + i) {
        throw new CertIndexerChainError("CERT_INDEXER_BLOCK_MISSING", `the node has no block ${from + i}`, {
          block: from + i,
        });
      }
      if (parent !== undefined && block.parentHash !== parent) {
        if (i === 0) this.#throwReorg(position.seen!.block, position.seen!.hash, block.parentHash);
        return undefined;
      }
      parent = block.hash;
      hashes.set(from + i, block.hash);
    }
    for (const log of logs) {
      if (hashes.get(Number(log.blockNumber)) !== log.blockHash) return undefined;
    }
    const receipts = await this.#receipts(blocks as RawBlock[]);
    if (receipts === undefined) return undefined;
    await this.#readMaturities(logs);
    return { from, to, blocks: blocks as RawBlock[], receipts, logs };
  }

  async #logs(from: number, to: number): Promise<RawLog[]> {
    const logs = await this.#rpc<RawLog[]>("eth_getLogs", [
      {
        fromBlock: quantity(from),
        toBlock: quantity(to),
        address: this.#logAddresses,
        topics: [this.#logTopics],
      },
    ]);
    return logs
      .filter((log) => log.removed !== true)
      .sort((a, b) => Number(a.blockNumber) - Number(b.blockNumber) || Number(a.logIndex) - Number(b.logIndex));
  }

  /**
   * The outcome of each transaction that moves native value or creates a contract; undefined if
   * a receipt belongs to another block than the one read.
   */
  async #receipts(
    blocks: readonly RawBlock[],
  ): Promise<Map<string, { readonly ok: boolean; readonly created: string | null }> | undefined> {
    const needed = blocks
      .map((block) => ({ block, txs: block.transactions.filter((tx) => tx.to === null || BigInt(tx.value) > 0n) }))
      .filter(({ txs }) => txs.length > 0);
    const outcome = new Map<string, { ok: boolean; created: string | null }>();
    if (needed.length === 0) return outcome;
    let receipts: (readonly RawReceipt[])[];
    if (this.#blockReceipts !== false) {
      try {
        receipts = await Promise.all(
          needed.map(({ block }) => this.#rpc<RawReceipt[]>("eth_getBlockReceipts", [block.hash])),
        );
        this.#blockReceipts = true;
      } catch (error) {
        if (this.#blockReceipts === true || !methodUnsupported(error)) throw error;
        this.#blockReceipts = false;
        return this.#receipts(blocks);
      }
    } else {
      receipts = await Promise.all(
        needed.map(({ txs }) =>
          Promise.all(txs.map((tx) => this.#rpc<RawReceipt>("eth_getTransactionReceipt", [tx.hash]))),
        ),
      );
    }
    for (const [i, { block, txs }] of needed.entries()) {
      const byHash = new Map((receipts[i] ?? []).map((r) => [r?.transactionHash, r]));
      for (const tx of txs) {
        const receipt = byHash.get(tx.hash);
        if (receipt === undefined || receipt === null || receipt.blockHash !== block.hash) return undefined;
        outcome.set(tx.hash, {
          ok: receipt.status === undefined || receipt.status === null || BigInt(receipt.status) === 1n,
          created: receipt.contractAddress ?? null,
        });
      }
    }
    return outcome;
  }

  /** Reads the maturity of every bill that a log of the batch pays in full. */
  async #readMaturities(logs: readonly RawLog[]): Promise<void> {
    if (this.#bills === undefined) return;
    const ids = new Set<string>();
    for (const log of logs) {
      if (this.#isPaid(log) && !this.#maturities.has(log.topics[1]!)) ids.add(log.topics[1]!);
    }
    await Promise.all(
      [...ids].map(async (id) => {
        // Deadlines never change once a bill is issued, so the latest state serves (no archive node needed).
        const data = await this.#rpc<string>("eth_call", [
          { to: this.#bills, data: this.#billsAbi.encodeFunctionData("bill", [id]) },
          "latest",
        ]);
        const [bill] = this.#billsAbi.decodeFunctionResult("bill", data);
        this.#maturities.set(id, BigInt((bill as { maturity: bigint }).maturity));
      }),
    );
  }

  #isPaid(log: RawLog): boolean {
    return (
      log.address.toLowerCase() === this.#bills &&
      log.topics[0] === this.#topic.billState &&
      `0x${log.data.slice(66, 130)}` === PAID
    );
  }

  async #checkSeen(position: Position): Promise<void> {
    if (position.seen === null) return;
    const block = await this.#rpc<RawBlock | null>("eth_getBlockByNumber", [quantity(position.seen.block), false]);
    if (block?.hash !== position.seen.hash) this.#throwReorg(position.seen.block, position.seen.hash, block?.hash);
  }

  #throwReorg(block: number, expected: string, actual: string | undefined): never {
    throw new ChainReorgError(
      "CHAIN_REORG_BELOW_CONFIRMATIONS",
      `block ${block} was replaced after the certificate indexer ${this.#name} indexed it ` +
        `(had ${expected}, now ${actual ?? "missing"}); the chain reorganised deeper than ` +
        `${this.#confirmations} confirmations`,
      { follower: this.#name, block, expected, actual: actual ?? null },
    );
  }

  async #rpc<T>(method: string, params: unknown[]): Promise<T> {
    return (await this.#provider.send(method, params)) as T;
  }

  // ───────────────────────────── writing ─────────────────────────────

  /** Writes a batch's rows and moves the checkpoint past it, in one transaction. */
  #apply(batch: Batch): void {
    const store = this.#store;
    const logsByBlock = new Map<number, RawLog[]>();
    for (const log of batch.logs) {
      const n = Number(log.blockNumber);
      const list = logsByBlock.get(n);
      if (list === undefined) logsByBlock.set(n, [log]);
      else list.push(log);
    }
    store.transaction(() => {
      for (const block of batch.blocks) {
        const number = Number(block.number);
        const ts = Number(block.timestamp);
        for (const tx of block.transactions) {
          const outcome = batch.receipts.get(tx.hash);
          const ok = outcome?.ok ?? true;
          const created = tx.to === null && ok ? (outcome?.created?.toLowerCase() ?? null) : null;
          const to = tx.to?.toLowerCase() ?? created;
          const from = tx.from.toLowerCase();
          store.run(
            "INSERT INTO cert_transfers (block, tx_index, log_index, from_addr, to_addr, value, ts) VALUES (?, ?, -1, ?, ?, ?, ?)",
            number,
            Number(tx.transactionIndex),
            from,
            to,
            ok ? BigInt(tx.value).toString() : "0",
            ts,
          );
          if (created !== null) {
            store.run(
              "INSERT INTO cert_creations (creator, nonce, address, block) VALUES (?, ?, ?, ?)",
              from,
              Number(tx.nonce),
              created,
              number,
            );
          }
        }
        for (const log of logsByBlock.get(number) ?? []) this.#applyLog(log, number, ts);
      }
      const last = batch.blocks[batch.blocks.length - 1]!;
      store.run(
        `INSERT INTO event_checkpoints (name, next_block, last_log_index, seen_block, seen_hash)
         VALUES (?, ?, -1, ?, ?)
         ON CONFLICT(name) DO UPDATE SET next_block = excluded.next_block, last_log_index = -1,
         seen_block = excluded.seen_block, seen_hash = excluded.seen_hash`,
        this.#name,
        batch.to + 1,
        batch.to,
        last.hash,
      );
    });
  }

  #applyLog(log: RawLog, block: number, ts: number): void {
    const address = log.address.toLowerCase();
    const topic = log.topics[0];
    const logIndex = Number(log.logIndex);
    const fact = (who: string, kind: FactKind, ref: string): void => {
      this.#store.run(
        "INSERT INTO cert_facts (address, block, log_index, kind, ref) VALUES (?, ?, ?, ?, ?)",
        who,
        block,
        logIndex,
        kind,
        ref,
      );
    };
    const here = `${block}:${logIndex}`;
    if (address === this.#token) {
      if (topic === this.#topic.transfer && log.topics.length === 3) {
        this.#store.run(
          "INSERT INTO cert_transfers (block, tx_index, log_index, from_addr, to_addr, value, ts) VALUES (?, ?, ?, ?, ?, ?, ?)",
          block,
          Number(log.transactionIndex),
          logIndex,
          topicAddress(log.topics[1]),
          topicAddress(log.topics[2]),
          BigInt(log.data).toString(),
          ts,
        );
      } else if (topic === this.#topic.frozen) fact(topicAddress(log.topics[1]), FACT.Frozen, here);
      else if (topic === this.#topic.unfrozen) fact(topicAddress(log.topics[1]), FACT.Unfrozen, here);
    } else if (address === this.#settlement) {
      const id = log.topics[1]!;
      const debtor = topicAddress(log.topics[2]);
      if (topic === this.#topic.smelted) {
        this.#store.run(
          "INSERT OR REPLACE INTO cert_settlement_parties (debtor, id, creditor) VALUES (?, ?, ?)",
          debtor,
          id,
          topicAddress(log.topics[3]),
        );
      } else if (topic === this.#topic.acknowledged) {
        const ref = `${debtor}:${id}`;
        fact(debtor, FACT.SettlementCompleted, ref);
        const party = this.#store.get<{ creditor: string }>(
          "SELECT creditor FROM cert_settlement_parties WHERE debtor = ? AND id = ?",
          debtor,
          id,
        );
        if (party !== undefined) fact(party.creditor, FACT.SettlementCompleted, ref);
      }
    } else if (address === this.#bills) {
      if (this.#isPaid(log)) {
        const id = log.topics[1]!;
        const maturity = this.#maturities.get(id) ?? 0n;
        const onTime = maturity === 0n || BigInt(ts) <= maturity;
        fact(topicAddress(log.topics[3]), onTime ? FACT.BillPaidOnTime : FACT.BillPaidOverdue, id);
      }
    } else if (address === this.#offline && topic === this.#topic.doubleSpend) {
      fact(topicAddress(log.topics[1]), FACT.DoubleSpend, here);
    }
  }

  // ───────────────────────────── helpers ─────────────────────────────

  #position(): Position {
    const row = this.#store.get<{ next_block: number; seen_block: number | null; seen_hash: string | null }>(
      "SELECT next_block, seen_block, seen_hash FROM event_checkpoints WHERE name = ?",
      this.#name,
    );
    if (row === undefined) return { nextBlock: this.#fromBlock, seen: null };
    const seen =
      row.seen_block === null || row.seen_hash === null ? null : { block: row.seen_block, hash: row.seen_hash };
    return { nextBlock: row.next_block, seen };
  }

  #checkBlock(asOfBlock: number): void {
    if (!Number.isSafeInteger(asOfBlock) || asOfBlock < 0) {
      throw new CertBlockNotIndexedError("CERT_BAD_BLOCK", `asOfBlock must be a whole number >= 0, got ${asOfBlock}`, {
        asOfBlock,
      });
    }
    const through = this.indexedThrough();
    if (asOfBlock > through) {
      throw new CertBlockNotIndexedError(
        "CERT_BLOCK_NOT_INDEXED",
        `block ${asOfBlock} is not indexed yet (indexed through ${through})`,
        { asOfBlock, indexedThrough: through },
      );
    }
  }

  /** Addresses frozen, or proven to have double-spent offline, as of `asOfBlock`. */
  #flaggedAsOf(asOfBlock: number): ReadonlySet<string> {
    if (this.#flagged?.asOfBlock === asOfBlock) return this.#flagged.addresses;
    const rows = this.#store.all<{ address: string; kind: FactKind }>(
      `SELECT address, kind FROM cert_facts WHERE kind IN (?, ?, ?) AND block <= ? ORDER BY block, log_index`,
      FACT.DoubleSpend,
      FACT.Frozen,
      FACT.Unfrozen,
      asOfBlock,
    );
    const frozen = new Set<string>();
    const cheaters = new Set<string>();
    for (const row of rows) {
      if (row.kind === FACT.DoubleSpend) cheaters.add(row.address);
      else if (row.kind === FACT.Frozen) frozen.add(row.address);
      else frozen.delete(row.address);
    }
    const addresses = new Set([...frozen, ...cheaters]);
    // Rows at or below an indexed block never change, so the answer can be kept.
    this.#flagged = { asOfBlock, addresses };
    return addresses;
  }

  #checkConfig(config: Record<string, string>): void {
    const stored = new Map(
      this.#store
        .all<{ key: string; value: string }>("SELECT key, value FROM cert_index_config")
        .map((row) => [row.key, row.value]),
    );
    if (stored.size === 0) {
      this.#store.transaction(() => {
        for (const [key, value] of Object.entries(config)) {
          this.#store.run("INSERT INTO cert_index_config (key, value) VALUES (?, ?)", key, value);
        }
      });
      return;
    }
    for (const [key, value] of Object.entries(config)) {
      if (stored.get(key) !== value) {
        throw new CertIndexerConfigError(
          "CERT_INDEXER_CONFIG_CHANGED",
          `${this.#store.path} was indexed with ${key} = ${stored.get(key) || "(none)"}, not ${value || "(none)"}; ` +
            "use a new file for other contracts",
          { key, stored: stored.get(key) ?? null, given: value },
        );
      }
    }
  }
}
