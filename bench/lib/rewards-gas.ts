/**
 * The RewardDistributor's gas on a campaign of many producers, shared by the
 * benchmark (`bench/rewards.ts`, on Anvil) and the ceilings in `npm test`
 * (`gas-scenario.ts`, on Hardhat's in-process network), with the contract as
 * the deploy scripts deploy it (2-of-3 oracles, the devnet's epochs):
 *
 * 1. `createCampaign` by a sponsor holding the BankToken it pulls;
 * 2. a first root of the producer tree (`(producerId, cumulative)` leaves, an
 *    OpenZeppelin `StandardMerkleTree` built by `src/rewards/trees.ts`),
 *    `proposeRoot` with 2 of the 3 oracles' signatures, `finalize` after the
 *    challenge window;
 * 3. one producer's claim, the campaign's first (which also takes the
 *    campaign's claimed total from zero), then each producer of a sample
 *    paid its first cumulative, half by `claimFor` (anyone relays) and half
 *    by `claim` (the producer's account itself);
 * 4. a second root with larger cumulatives, and the same producers paid the
 *    difference.
 *
 * Every claim is checked: the account's balance moved by exactly the
 * cumulative minus what the producer had claimed, and `claimedOf` says the
 * cumulative. Producers' accounts are fresh keys: a first claim is a transfer
 * to an account holding nothing.
 */
import {
  keccak256,
  toUtf8Bytes,
  Wallet,
  type ContractTransactionResponse,
  type Provider,
  type Signer,
  type TypedDataDomain,
} from "ethers";

import { epochEnd, REWARD_TYPES, rewardsDomain, type EpochRoot } from "../../src/rewards/evidence.js";
import { producerIdOf } from "../../src/rewards/registry.js";
import { claimProof, producerTree, type ProducerTree } from "../../src/rewards/trees.js";
import { BankToken__factory, RewardDistributor__factory } from "../../typechain-types/index.js";
import type { GasRow } from "./results.js";

/** A node that takes `evm_setNextBlockTimestamp` and `evm_mine` (Anvil, Hardhat's in-process network). */
export interface TimedProvider extends Provider {
  send(method: string, params: unknown[]): Promise<unknown>;
}

/** One producer of the benchmark's campaign. */
export interface BenchProducer {
  readonly index: number;
  readonly id: string;
  /** Its account's key (a fresh one: it holds nothing until its first claim). */
  readonly account: Wallet;
  /** Its cumulative amount in the first root and in the second. */
  readonly first: bigint;
  readonly second: bigint;
}

/** Seconds between an epoch's end and the roots' cut-off (the rewards service's grace). */
export const CUTOFF_GRACE = 10n;

/**
 * `count` producers with ids and account keys derived from `seed`; producer `i` has `1,000 + i` base units in
 * the first root and `1,500 + 2i` in the second.
 */
export function benchProducers(count: number, seed: string): BenchProducer[] {
  return Array.from({ length: count }, (_, index) => ({
    index,
    id: producerIdOf(`${seed}:producer:${index}`),
    account: new Wallet(keccak256(toUtf8Bytes(`${seed}:account:${index}`))),
    first: 1_000n + BigInt(index),
    second: 1_500n + 2n * BigInt(index),
  }));
}

/** The producer tree of the producers' first or second cumulatives, and its total. */
export function benchTree(
  producers: readonly BenchProducer[],
  round: "first" | "second",
): { tree: ProducerTree; total: bigint } {
  const tree = producerTree(new Map(producers.map((producer) => [producer.id, producer[round]])))!;
  return { tree, total: producers.reduce((sum, producer) => sum + producer[round], 0n) };
}

/** The oracles' signatures of `message`, in ascending signer order as `proposeRoot` takes them. */
export async function signEpochRoot(
  oracles: readonly Signer[],
  domain: TypedDataDomain,
  message: EpochRoot,
): Promise<string[]> {
  const signed = await Promise.all(
    oracles.map(async (oracle) => ({
      signer: BigInt(await oracle.getAddress()),
      signature: await oracle.signTypedData(domain, REWARD_TYPES.EpochRoot, { ...message }),
    })),
  );
  return signed.sort((a, b) => (a.signer < b.signer ? -1 : 1)).map((entry) => entry.signature);
}

/** Mines a block at `time` unless the chain is past it already. */
export async function advanceTo(provider: TimedProvider, time: bigint): Promise<void> {
  const latest = BigInt((await provider.getBlock("latest"))!.timestamp);
  if (latest >= time) return;
  await provider.send("evm_setNextBlockTimestamp", [Number(time)]);
  await provider.send("evm_mine", []);
}

/** The receipt's gas of a transaction that must succeed. */
export async function gasOf(operation: string, tx: Promise<ContractTransactionResponse>): Promise<number> {
  const receipt = await (await tx).wait();
  if (receipt === null || receipt.status !== 1) throw new Error(`RewardDistributor.${operation} failed`);
  return Number(receipt.gasUsed);
}

export interface RewardGasOptions {
  readonly provider: TimedProvider;
  readonly chainId: bigint;
  readonly distributor: string;
  /** The BankToken the distributor pays in. */
  readonly token: string;
  /** Holds REGISTRAR_ROLE. */
  readonly registrar: Signer;
  /** Holds at least `fundsFor(producers)` BankToken. */
  readonly sponsor: Signer;
  /** Pays the native coin producers' accounts spend on `claim`. */
  readonly funder: Signer;
  /** The oracles that sign each root: as many as measured (2 of the 3 for `proposeRoot 2-of-3`). */
  readonly oracles: readonly Signer[];
  readonly producers: readonly BenchProducer[];
  /** How many producers claim, each way (`claimFor`, then `claim`, by other producers), after the opening claim. */
  readonly sample: number;
  /** The evidence roots of the first and second root. */
  readonly evidenceRoots: readonly [string, string];
  /** The campaign's salt. */
  readonly salt: string;
  /** The campaign's first epoch (the first root's); default the chain's current epoch. */
  readonly firstEpoch?: bigint;
}

/** One claim measured. */
export interface ClaimFigure {
  readonly producer: number;
  readonly how: "claim" | "claimFor";
  readonly round: "first" | "second";
  /** The campaign's first claim (it also takes the campaign's claimed total from zero), not in the sample. */
  readonly opening: boolean;
  readonly gas: number;
  /** What the account received, and what it should have. */
  readonly paid: bigint;
  readonly expected: bigint;
}

export interface RewardGasResult {
  readonly campaignId: string;
  /** The campaign's first epoch, the first root's. */
  readonly firstEpoch: bigint;
  /** One per operation; a claim's row is the mean over its sample. */
  readonly rows: GasRow[];
  readonly claims: ClaimFigure[];
  /** Claims that did not pay exactly their cumulative difference. */
  readonly problems: string[];
}

/** What a campaign of `producers` is funded with: their second round's total. */
export function fundsFor(producers: readonly BenchProducer[]): bigint {
  return producers.reduce((sum, producer) => sum + producer.second, 0n);
}

/** Runs the campaign (see the file comment) and returns its gas and every claim. */
export async function measureRewardGas(options: RewardGasOptions): Promise<RewardGasResult> {
  const { provider, producers, sample } = options;
  if (2 * sample + 1 > producers.length) {
    throw new Error(`a sample of ${sample} each way needs ${2 * sample + 1} producers`);
  }
  const distributor = RewardDistributor__factory.connect(options.distributor, options.sponsor);
  const token = BankToken__factory.connect(options.token, options.sponsor);
  const domain = rewardsDomain(options.chainId, options.distributor);
  const [genesis, epochLength, window, version] = await Promise.all([
    distributor.genesis(),
    distributor.epochLength(),
    distributor.challengeWindow(),
    distributor.oracleSetVersion(),
  ]);
  const rows: GasRow[] = [];
  const row = (operation: string, gas: number) => rows.push({ contract: "RewardDistributor", operation, gas });
  const now = async () => BigInt((await provider.getBlock("latest"))!.timestamp);

  // The campaign: every epoch from the first root's on, the second round's total as both budget and funds.
  const funds = fundsFor(producers);
  const firstEpoch = options.firstEpoch ?? (await distributor.epochOf(await now()));
  const lastEpoch = firstEpoch + 1_000_000n;
  const deadline = epochEnd(lastEpoch, genesis, epochLength) + window + 86_400n;
  await (await token.approve(options.distributor, funds)).wait();
  row(
    "createCampaign",
    await gasOf(
      "createCampaign",
      distributor.createCampaign(options.salt, funds, firstEpoch, lastEpoch, deadline, keccak256("0x"), funds),
    ),
  );
  const campaignId = await distributor.campaignIdOf(await options.sponsor.getAddress(), options.salt);

  // The sample's accounts registered, and coin for those that claim themselves.
  const relayed = producers.slice(0, sample);
  const own = producers.slice(sample, 2 * sample);
  const opener = producers[2 * sample]!;
  const registrar = distributor.connect(options.registrar);
  for (const producer of [opener, ...relayed, ...own]) {
    await (await registrar.registerProducer(producer.id, producer.account.address)).wait();
  }
  for (const producer of own) {
    await (await options.funder.sendTransaction({ to: producer.account.address, value: 10n ** 17n })).wait();
  }

  const claims: ClaimFigure[] = [];
  const problems: string[] = [];
  const claimed = new Map<string, bigint>();
  const propose = async (round: "first" | "second", epoch: bigint): Promise<ProducerTree> => {
    const { tree, total } = benchTree(producers, round);
    const cutoff = epochEnd(epoch, genesis, epochLength) + CUTOFF_GRACE;
    await advanceTo(provider, cutoff);
    const message: EpochRoot = {
      campaignId,
      epoch,
      root: tree.root,
      total,
      evidenceRoot: options.evidenceRoots[round === "first" ? 0 : 1],
      cutoff,
      oracleSetVersion: version,
    };
    const signatures = await signEpochRoot(options.oracles, domain, message);
    row(
      `proposeRoot ${options.oracles.length}-of-3, ${round === "first" ? "first root" : "next root"}`,
      await gasOf(
        "proposeRoot",
        distributor.proposeRoot(campaignId, epoch, tree.root, total, message.evidenceRoot, cutoff, signatures),
      ),
    );
    await advanceTo(provider, (await distributor.pendingRootOf(campaignId)).proposedAt + window);
    if (round === "first") row("finalize", await gasOf("finalize", distributor.finalize(campaignId)));
    else await (await distributor.finalize(campaignId)).wait();
    return tree;
  };
  const claimOne = async (
    tree: ProducerTree,
    producer: BenchProducer,
    how: "claim" | "claimFor",
    round: "first" | "second",
  ): Promise<number> => {
    const proof = claimProof(tree, producer.id);
    const before = await token.balanceOf(producer.account.address);
    const caller = how === "claim" ? producer.account.connect(provider) : options.funder;
    const gas = await gasOf(
      how,
      distributor.connect(caller)[how](campaignId, producer.id, proof.cumulative, proof.proof),
    );
    const paid = (await token.balanceOf(producer.account.address)) - before;
    const expected = producer[round] - (claimed.get(producer.id) ?? 0n);
    claimed.set(producer.id, producer[round]);
    claims.push({ producer: producer.index, how, round, opening: producer === opener, gas, paid, expected });
    if (paid !== expected) problems.push(`${how} of producer ${producer.index} paid ${paid}, owed ${expected}`);
    const onChain = await distributor.claimedOf(campaignId, producer.id);
    if (onChain !== producer[round]) {
      problems.push(`producer ${producer.index} has claimed ${onChain} on chain, not ${producer[round]}`);
    }
    return gas;
  };
  const pay = async (tree: ProducerTree, round: "first" | "second"): Promise<void> => {
    // The campaign's first claim also takes its claimed total from zero: measured apart, before the sample.
    if (round === "first") {
      row("claimFor, the campaign's first claim", await claimOne(tree, opener, "claimFor", round));
    }
    for (const [how, group] of [
      ["claimFor", relayed],
      ["claim", own],
    ] as const) {
      const gas: number[] = [];
      for (const producer of group) gas.push(await claimOne(tree, producer, how, round));
      const mean = Math.round(gas.reduce((sum, value) => sum + value, 0) / gas.length);
      row(`${how}, ${round} claim of a producer (${producers.length} in the tree)`, mean);
    }
  };

  await pay(await propose("first", firstEpoch), "first");
  await pay(await propose("second", firstEpoch + 1n), "second");
  return { campaignId, firstEpoch, rows, claims, problems };
}
