/**
 * The reward oracles at work (docs/rewards.md, "The oracle's round"): on each round, for each campaign whose
 * terms the service knows,
 *  1. a pending root past its challenge window is finalized (anyone may; the service does it so claims can
 *     start), and a root of ours that is no longer pending nor final is marked voided;
 *  2. with nothing pending, the epochs from the one after the last final root up to the last whose cut-off has
 *     passed are computed from the receipted evidence (`computeEpoch`), by each oracle key on its own, and the
 *     root is signed by each and proposed with every signature;
 *  3. with `autoClaim`, every registered producer owed something under the final root is paid by `claimFor`.
 *
 * State is on chain (pending and final roots, claimed amounts), so a restart repeats nothing: a root is proposed
 * only when the chain has none pending, and a claim pays only what the chain says is owed. The service's SQLite
 * keeps what the chain does not: each root's producer amounts and evidence, for the proofs and for anyone who
 * recomputes.
 */
import { getAddress, type Provider, type TypedDataDomain, type Wallet } from "ethers";

import { mined } from "../chain/receipts.js";
import { decodeRevert } from "../chain/reverts.js";
import { BankChainError, messageOf } from "../errors.js";
import type { Migration, Store } from "../store/store.js";
import { RewardDistributor__factory, type RewardDistributor } from "../../typechain-types/index.js";
import { epochEnd, REWARD_TYPES, type EpochRoot } from "./evidence.js";
import type { EpochClock, EvidenceIngest } from "./ingest.js";
import { computeEpoch, termsHash, type EpochResult, type RewardTerms } from "./oracle.js";
import type { RewardRegistry } from "./registry.js";
import { claimProof, producerTree, type ClaimProof } from "./trees.js";

/** The oracles cannot go on (their own records disagree with the chain). */
export class RewardOracleError extends BankChainError {}

export interface RewardOracleOptions {
  readonly store: Store;
  readonly ingest: EvidenceIngest;
  readonly registry: RewardRegistry;
  readonly provider: Provider;
  readonly distributor: string;
  readonly domain: TypedDataDomain;
  readonly clock: EpochClock;
  /** The oracle keys this service holds (on the devnet all three); the first relays the transactions. */
  readonly oracles: readonly Wallet[];
  readonly graceSeconds: bigint;
  /** Pay every registered producer as soon as a root is final. */
  readonly autoClaim: boolean;
  /** The block to look for campaigns from (the distributor's deployment). */
  readonly fromBlock: number;
  readonly log: (line: string) => void;
  /** Unix seconds now (a devnet that mines on demand has a latest block older than now). */
  readonly now: () => bigint;
  /**
   * The trust-certificate level of each device owner, by owner, from the certificates the devices were registered
   * with; asked only when a campaign's terms set `minCertificateLevel`.
   */
  readonly certificateLevels?: (
    devices: readonly { readonly owner: string; readonly certificate: string }[],
  ) => Promise<ReadonlyMap<string, number>>;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "campaigns and roots",
    sql: `
      CREATE TABLE reward_campaigns (
        campaign_id TEXT PRIMARY KEY, sponsor TEXT NOT NULL, terms_hash TEXT NOT NULL, terms TEXT
      );
      CREATE TABLE reward_roots (
        campaign_id TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        from_epoch INTEGER NOT NULL,
        root TEXT NOT NULL,
        total TEXT NOT NULL,
        evidence_root TEXT NOT NULL,
        cutoff INTEGER NOT NULL,
        cumulatives TEXT NOT NULL,
        evidence TEXT NOT NULL,
        state TEXT NOT NULL,
        tx_hash TEXT,
        PRIMARY KEY (campaign_id, epoch, root, evidence_root)
      );
      CREATE TABLE reward_scan (id INTEGER PRIMARY KEY CHECK (id = 1), next_block INTEGER NOT NULL);
    `,
  },
];

/** A root the oracles computed, as stored. */
export interface StoredRoot {
  readonly campaignId: string;
  readonly epoch: bigint;
  readonly fromEpoch: bigint;
  readonly root: string;
  readonly total: bigint;
  readonly evidenceRoot: string;
  readonly cutoff: bigint;
  readonly cumulatives: ReadonlyMap<string, bigint>;
  readonly evidence: readonly string[];
  readonly state: "signed" | "proposed" | "final" | "voided";
  readonly txHash: string | null;
}

interface RootRow {
  campaign_id: string;
  epoch: number;
  from_epoch: number;
  root: string;
  total: string;
  evidence_root: string;
  cutoff: number;
  cumulatives: string;
  evidence: string;
  state: StoredRoot["state"];
  tx_hash: string | null;
}

function rootFromRow(row: RootRow): StoredRoot {
  return {
    campaignId: row.campaign_id,
    epoch: BigInt(row.epoch),
    fromEpoch: BigInt(row.from_epoch),
    root: row.root,
    total: BigInt(row.total),
    evidenceRoot: row.evidence_root,
    cutoff: BigInt(row.cutoff),
    cumulatives: new Map(
      Object.entries(JSON.parse(row.cumulatives) as Record<string, string>).map(([id, value]) => [id, BigInt(value)]),
    ),
    evidence: JSON.parse(row.evidence) as string[],
    state: row.state,
    txHash: row.tx_hash,
  };
}

/** A campaign the service follows. */
export interface KnownCampaign {
  readonly campaignId: string;
  readonly sponsor: string;
  readonly termsHash: string;
  readonly terms: RewardTerms | undefined;
}

export class RewardOracle {
  readonly #options: RewardOracleOptions;
  readonly #distributor: RewardDistributor;

  constructor(options: RewardOracleOptions) {
    if (options.oracles.length === 0) {
      throw new RewardOracleError("REWARDS_NO_ORACLE_KEY", "the reward service needs at least one oracle key");
    }
    this.#options = options;
    options.store.migrate("reward-oracle", MIGRATIONS);
    this.#distributor = RewardDistributor__factory.connect(options.distributor, options.oracles[0]!);
  }

  get distributor(): RewardDistributor {
    return this.#distributor;
  }

  campaigns(): KnownCampaign[] {
    return this.#options.store
      .all<{ campaign_id: string; sponsor: string; terms_hash: string; terms: string | null }>(
        "SELECT * FROM reward_campaigns ORDER BY campaign_id",
      )
      .map((row) => ({
        campaignId: row.campaign_id,
        sponsor: row.sponsor,
        termsHash: row.terms_hash,
        terms: row.terms === null ? undefined : termsFromJson(row.terms),
      }));
  }

  campaign(campaignId: string): KnownCampaign | undefined {
    return this.campaigns().find((campaign) => campaign.campaignId === campaignId.toLowerCase());
  }

  /**
   * Records the off-chain terms of a campaign; they must hash to the campaign's `terms` on chain.
   * @throws RewardOracleError `REWARDS_UNKNOWN_CAMPAIGN`, `REWARDS_TERMS_MISMATCH`.
   */
  setTerms(campaignId: string, terms: RewardTerms): void {
    const campaign = this.campaign(campaignId);
    if (campaign === undefined) {
      throw new RewardOracleError("REWARDS_UNKNOWN_CAMPAIGN", `no campaign ${campaignId} has been created`, {
        campaignId,
      });
    }
    const hash = termsHash(terms);
    if (hash !== campaign.termsHash) {
      throw new RewardOracleError(
        "REWARDS_TERMS_MISMATCH",
        `these terms hash to ${hash}, but campaign ${campaignId} was created with ${campaign.termsHash}`,
        { campaignId, hash, expected: campaign.termsHash },
      );
    }
    this.#options.store.run(
      "UPDATE reward_campaigns SET terms = ? WHERE campaign_id = ?",
      termsJson(terms),
      campaign.campaignId,
    );
  }

  /** The next block the campaign scan reads (for `/health`'s follower lag). */
  nextBlock(): number {
    const row = this.#options.store.get<{ next_block: number }>("SELECT next_block FROM reward_scan WHERE id = 1");
    return row?.next_block ?? this.#options.fromBlock;
  }

  /** The roots computed for a campaign, newest first. */
  roots(campaignId: string): StoredRoot[] {
    return this.#options.store
      .all<RootRow>("SELECT * FROM reward_roots WHERE campaign_id = ? ORDER BY epoch DESC", campaignId.toLowerCase())
      .map(rootFromRow);
  }

  /** The stored root with this producer root and evidence root. */
  rootOf(campaignId: string, root: string, evidenceRoot?: string): StoredRoot | undefined {
    return this.roots(campaignId).find(
      (row) => row.root === root.toLowerCase() && (evidenceRoot === undefined || row.evidenceRoot === evidenceRoot),
    );
  }

  /** A producer's claim under a stored root: its cumulative and Merkle proof. */
  claimOf(root: StoredRoot, producerId: string): ClaimProof | undefined {
    const cumulative = root.cumulatives.get(producerId.toLowerCase());
    if (cumulative === undefined) return undefined;
    return claimProof(producerTree(root.cumulatives), producerId.toLowerCase());
  }

  /** One round; true when it sent a transaction (more may be due). */
  async tick(): Promise<boolean> {
    await this.#scanCampaigns();
    let acted = false;
    for (const campaign of this.campaigns()) {
      if (campaign.terms === undefined) continue;
      try {
        acted = (await this.#round(campaign, campaign.terms)) || acted;
      } catch (error) {
        const revert = decodeRevert(error, RewardDistributor__factory.abi);
        this.#options.log(`rewards oracle: campaign ${campaign.campaignId}: ${revert?.message ?? messageOf(error)}`);
      }
    }
    return acted;
  }

  /**
   * The result of epochs `fromEpoch..epoch` for a campaign, from the evidence receipted by `cutoff`, on top of
   * the cumulative amounts `previous`.
   */
  async compute(
    terms: RewardTerms,
    budgetPerEpoch: bigint,
    fromEpoch: bigint,
    epoch: bigint,
    previous: ReadonlyMap<string, bigint>,
    available?: bigint,
  ): Promise<EpochResult> {
    const { ingest, registry, clock, domain, graceSeconds } = this.#options;
    const devices = registry.devices();
    const certificateLevels =
      terms.minCertificateLevel !== undefined && terms.minCertificateLevel > 0 && this.#options.certificateLevels
        ? await this.#options.certificateLevels(devices)
        : undefined;
    return computeEpoch({
      epoch,
      fromEpoch,
      genesis: clock.genesis,
      epochLength: clock.epochLength,
      domain,
      cutoff: epochEnd(epoch, clock.genesis, clock.epochLength) + graceSeconds,
      records: ingest.records(fromEpoch, epoch).map((stored) => ({
        kind: stored.kind,
        record: stored.record,
        signature: stored.signature,
        receivedAt: stored.receipt.time,
      })) as Parameters<typeof computeEpoch>[0]["records"],
      venues: registry.venues().map(({ venueId, cell, player }) => ({ venueId, cell, player })),
      devices: devices.map((device) => ({
        address: device.device,
        owner: BigInt(device.owner) === 0n ? device.device : device.owner,
        registeredAt: device.registeredAt,
        active: BigInt(device.owner) !== 0n,
      })),
      producerOf: new Map(registry.contents().map((content) => [content.contentId, content.producerId])),
      terms,
      budgetPerEpoch,
      ...(available === undefined ? {} : { available }),
      previous,
      ...(certificateLevels === undefined ? {} : { certificateLevels }),
    });
  }

  async #scanCampaigns(): Promise<void> {
    const { store, provider } = this.#options;
    const row = store.get<{ next_block: number }>("SELECT next_block FROM reward_scan WHERE id = 1");
    const from = row?.next_block ?? this.#options.fromBlock;
    const latest = await provider.getBlockNumber();
    if (latest < from) return;
    const events = await this.#distributor.queryFilter(this.#distributor.filters.CampaignCreated(), from, latest);
    store.transaction(() => {
      for (const event of events) {
        store.run(
          "INSERT OR IGNORE INTO reward_campaigns (campaign_id, sponsor, terms_hash) VALUES (?, ?, ?)",
          event.args.campaignId.toLowerCase(),
          getAddress(event.args.sponsor),
          event.args.terms.toLowerCase(),
        );
      }
      store.run("INSERT OR REPLACE INTO reward_scan (id, next_block) VALUES (1, ?)", latest + 1);
    });
  }

  async #round(campaign: KnownCampaign, terms: RewardTerms): Promise<boolean> {
    const distributor = this.#distributor;
    const id = campaign.campaignId;
    const [onChain, pending, final, paused, block] = await Promise.all([
      distributor.campaignOf(id),
      distributor.pendingRootOf(id),
      distributor.finalizedRootOf(id),
      distributor.paused(),
      this.#options.provider.getBlock("latest"),
    ]);
    const blockTime = BigInt(block!.timestamp);
    const wall = this.#options.now();
    const now = wall > blockTime ? wall : blockTime;
    this.#syncStates(id, pending.proposedAt === 0n ? undefined : pending, final.exists ? final : undefined);
    if (pending.proposedAt !== 0n) {
      const window = await distributor.challengeWindow();
      if (paused || now < pending.proposedAt + window) return false;
      await mined(await distributor.finalize(id));
      this.#options.log(`rewards oracle: campaign ${id}: root of epoch ${pending.epoch} final`);
      return true;
    }
    if (paused) return false;
    if (final.exists && this.#options.autoClaim && (await this.#claimAll(id, final.root, final.total))) return true;

    const fromEpoch = final.exists ? final.epoch + 1n : onChain.firstEpoch;
    const { clock, graceSeconds } = this.#options;
    // The last epoch whose cut-off has passed on ingest's clock (the wall clock, not the chain's): ingest receipts
    // up to and including the cut-off second, so an epoch is read only once that second is over. A chain ahead of
    // the wall clock must not close an epoch that ingest still receipts (its receipts would void the root).
    if (wall <= clock.genesis + clock.epochLength + graceSeconds) return false;
    const closed = (wall - 1n - graceSeconds - clock.genesis) / clock.epochLength - 1n;
    const epoch = closed < onChain.lastEpoch ? closed : onChain.lastEpoch;
    if (epoch < fromEpoch) return false;
    let previous = new Map<string, bigint>();
    if (final.exists && final.total > 0n) {
      const stored = this.rootOf(id, final.root);
      if (stored === undefined) {
        throw new RewardOracleError(
          "REWARDS_FINAL_ROOT_UNKNOWN",
          `campaign ${id}'s final root ${final.root} is not in this service's records; restore its database`,
          { campaignId: id, root: final.root },
        );
      }
      previous = new Map(stored.cumulatives);
    }
    // What the campaign holds beyond its final total: a root above it would be refused on every round.
    const finalTotal = final.exists ? final.total : 0n;
    const available = onChain.funded > finalTotal ? onChain.funded - finalTotal : 0n;
    const result = await this.compute(terms, onChain.budgetPerEpoch, fromEpoch, epoch, previous, available);
    const cutoff = epochEnd(epoch, clock.genesis, clock.epochLength) + graceSeconds;
    const version = await distributor.oracleSetVersion();
    const message: EpochRoot = {
      campaignId: id,
      epoch,
      root: result.root,
      total: result.total,
      evidenceRoot: result.evidenceRoot,
      cutoff,
      oracleSetVersion: version,
    };
    const signatures: { signer: string; signature: string }[] = [];
    for (const oracle of this.#options.oracles) {
      // Each oracle recomputes on its own and signs only the root it got itself.
      const own = await this.compute(terms, onChain.budgetPerEpoch, fromEpoch, epoch, previous, available);
      if (own.root !== result.root || own.evidenceRoot !== result.evidenceRoot || own.total !== result.total) continue;
      signatures.push({
        signer: oracle.address,
        signature: await oracle.signTypedData(this.#options.domain, REWARD_TYPES.EpochRoot, { ...message }),
      });
    }
    signatures.sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : 1));
    this.#storeRoot(id, fromEpoch, result, cutoff);
    const sent = await distributor.proposeRoot(
      id,
      epoch,
      result.root,
      result.total,
      result.evidenceRoot,
      cutoff,
      signatures.map((entry) => entry.signature),
    );
    this.#options.store.run(
      "UPDATE reward_roots SET state = 'proposed', tx_hash = ? WHERE campaign_id = ? AND epoch = ? AND root = ? AND evidence_root = ?",
      sent.hash,
      id,
      epoch,
      result.root,
      result.evidenceRoot,
    );
    await mined(sent);
    this.#options.log(
      `rewards oracle: campaign ${id}: root of epochs ${fromEpoch}-${epoch} proposed (total ${result.total}, ` +
        `${result.evidence.length} records, ${result.playbacks.length} playbacks paid)`,
    );
    return true;
  }

  async #claimAll(campaignId: string, root: string, total: bigint): Promise<boolean> {
    if (total === 0n) return false;
    const stored = this.rootOf(campaignId, root);
    if (stored === undefined) return false;
    let paid = false;
    for (const [producerId, cumulative] of stored.cumulatives) {
      const [claimed, account] = await Promise.all([
        this.#distributor.claimedOf(campaignId, producerId),
        this.#distributor.producerAccountOf(producerId),
      ]);
      if (cumulative <= claimed || BigInt(account) === 0n) continue;
      const proof = claimProof(producerTree(stored.cumulatives), producerId);
      try {
        await mined(await this.#distributor.claimFor(campaignId, producerId, cumulative, proof.proof));
      } catch (error) {
        // A claim the chain refuses (the account frozen by the token, the deadline passed) leaves the amount in
        // escrow; it must not stop the other producers' claims nor the campaign's next roots.
        const revert = decodeRevert(error, RewardDistributor__factory.abi);
        this.#options.log(
          `rewards oracle: claim of producer ${producerId} (campaign ${campaignId}) refused: ` +
            `${revert?.message ?? messageOf(error)}`,
        );
        continue;
      }
      this.#options.log(`rewards oracle: paid producer ${producerId} ${cumulative - claimed} (campaign ${campaignId})`);
      paid = true;
    }
    return paid;
  }

  #storeRoot(campaignId: string, fromEpoch: bigint, result: EpochResult, cutoff: bigint): void {
    this.#options.store.run(
      `INSERT OR IGNORE INTO reward_roots (campaign_id, epoch, from_epoch, root, total, evidence_root, cutoff,
         cumulatives, evidence, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'signed')`,
      campaignId,
      result.epoch,
      fromEpoch,
      result.root.toLowerCase(),
      result.total.toString(),
      result.evidenceRoot.toLowerCase(),
      cutoff,
      JSON.stringify(Object.fromEntries(result.producers.map((p) => [p.producerId, p.cumulative.toString()]))),
      JSON.stringify(result.evidence),
    );
  }

  /** Marks our roots final or voided from what the chain says. */
  #syncStates(
    campaignId: string,
    pending: { root: string; evidenceRoot: string; epoch: bigint } | undefined,
    final: { root: string; epoch: bigint } | undefined,
  ): void {
    const { store } = this.#options;
    for (const row of this.roots(campaignId)) {
      if (row.state === "final" || row.state === "voided") continue;
      const isPending =
        pending !== undefined &&
        pending.epoch === row.epoch &&
        pending.root.toLowerCase() === row.root &&
        pending.evidenceRoot.toLowerCase() === row.evidenceRoot;
      // A root of ours under the final one's epoch that was proposed became final before it (its successor was
      // built on its amounts).
      const isFinal =
        final !== undefined &&
        ((final.epoch === row.epoch && final.root.toLowerCase() === row.root) ||
          (final.epoch > row.epoch && row.state === "proposed"));
      const state = isFinal ? "final" : isPending ? "proposed" : row.state === "proposed" ? "voided" : row.state;
      if (state === row.state) continue;
      if (state === "voided")
        this.#options.log(
          `rewards oracle: campaign ${campaignId}: root of epoch ${row.epoch} was voided by a challenge`,
        );
      store.run(
        "UPDATE reward_roots SET state = ? WHERE campaign_id = ? AND epoch = ? AND root = ? AND evidence_root = ?",
        state,
        campaignId,
        row.epoch,
        row.root,
        row.evidenceRoot,
      );
    }
  }
}

/** Terms as stored (bigints as decimal strings). */
function termsJson(terms: RewardTerms): string {
  return JSON.stringify(terms, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
}

function termsFromJson(text: string): RewardTerms {
  const raw = JSON.parse(text) as Record<string, unknown>;
  return {
    contentIds: raw.contentIds as string[],
    k: raw.k as number,
    maxVenuesPerDevice: raw.maxVenuesPerDevice as number,
    maxSeconds: BigInt(raw.maxSeconds as string),
    ratePerUnit: BigInt(raw.ratePerUnit as string),
    ...(raw.minCertificateLevel === undefined ? {} : { minCertificateLevel: raw.minCertificateLevel as number }),
  };
}
