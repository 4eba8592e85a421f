/**
 * Content rewards: presence responses verified per second through the
 * oracle's ingest, and gas per producer claim beside Uniswap's
 * MerkleDistributor. Writes `bench/results/rewards.json` and prints tables.
 *
 *   npm run bench:rewards
 *
 * Setup: the devnet's node, Anvil (the npm package's binary), on a free port
 * of 127.0.0.1, the suite deployed by the deploy scripts as on the devnet
 * (epochs of 30 s, a challenge window of 30 s, 2 of 3 oracles sign a root).
 *
 * Throughput, off chain, in one venue and one epoch (the epoch after the
 * chain's current one; the ingest's clock is set inside it): a venue, 2,000
 * devices and 10 contents registered in the registry's SQLite file; the
 * venue's player asks 10 presence queries, every device answers every query
 * (20,000 responses), the player signs 10 playbacks. Then:
 *
 * - ingest: each response through `EvidenceIngest.ingest` (the record's hash,
 *   the registry looked up, the signature recovered, the query found, the
 *   receipt signed by the oracle, the record and receipt committed to the
 *   SQLite file, WAL, synchronous FULL): responses per second, and one
 *   response's latency (p50, p95);
 * - the floor: `recoverRecordSigner` alone on the same responses (hash and
 *   ECDSA recovery, what ingest cannot do without): per second;
 * - the count: `computeEpoch` on the epoch's receipted records as the oracle
 *   reads them back (every signature recovered again, the counting rules, the
 *   evidence tree of every record hash, the producer tree): records per
 *   second, and the evidence tree's share.
 *
 * Gas, on the same Anvil (`bench/lib/rewards-gas.ts`): a campaign of 1,000
 * producers whose first root carries the epoch's real evidence root, the
 * first and second claims of 20 producers by `claimFor` and of 20 more by
 * `claim`; beside them the reference, Uniswap's MerkleDistributor 1.0.1 (the
 * npm package's published bytecode) on its own TestERC20 with a tree of the
 * same 1,000 accounts and first amounts (its leaf `keccak256(abi.encodePacked(
 * index, account, amount))`, sorted pairs), claimed for the same 40 accounts.
 * And `proposeRoot` with 3 of 3 signatures on a second campaign, whose root
 * leaves one receipted response out of its evidence and is voided by
 * `challengeOmission` with that response's receipt. A transfer to a fresh
 * account of each token is measured too: the claims' share that is the
 * token's own.
 *
 * Checks (listed as problems, exit 1): ingest receipted every record, each
 * receipt for its record hash and signed by the oracle; the count found every
 * signature valid and counted every device once; every claim paid exactly its
 * cumulative difference (Uniswap's exactly its amount); the omission voided
 * the root.
 */
import { createRequire } from "node:module";
import { cpus } from "node:os";
import path from "node:path";

import {
  Contract,
  getAddress,
  ContractFactory,
  HDNodeWallet,
  keccak256,
  solidityPacked,
  toUtf8Bytes,
  Wallet,
  ZeroAddress,
  ZeroHash,
  type ContractTransactionResponse,
} from "ethers";

import { DEVNET_CHAIN_ID, DUTIES } from "../src/chain/networks.js";
import { PUBLIC_TEST_MNEMONIC } from "../src/chain/published-keys.js";
import {
  epochEnd,
  epochOf,
  epochStart,
  recordHash,
  recoverDigestSigner,
  recoverRecordSigner,
  rewardsDomain,
  type EpochRoot,
  type EvidenceKind,
  type Playback,
  type PresenceQuery,
  type PresenceResponse,
  type RecordKinds,
  type SignedEvidence,
} from "../src/rewards/evidence.js";
import { EvidenceIngest } from "../src/rewards/ingest.js";
import { computeEpoch, type RewardTerms } from "../src/rewards/oracle.js";
import { contentIdOf, producerIdOf, RewardRegistry, venueIdOf, type Registration } from "../src/rewards/registry.js";
import { evidenceTree, leafArgument, omissionProof } from "../src/rewards/trees.js";
import { Store } from "../src/store/store.js";
import { BankToken__factory, RewardDistributor__factory, TrustAccount__factory } from "../typechain-types/index.js";
import { startBenchChain } from "./lib/anvil.js";
import { gasTable, round, seconds, writeResult, type GasRow } from "./lib/results.js";
import {
  benchProducers,
  benchTree,
  CUTOFF_GRACE,
  fundsFor,
  gasOf,
  measureRewardGas,
  signEpochRoot,
} from "./lib/rewards-gas.js";

const CHAIN_ID = DEVNET_CHAIN_ID;
const DEVICES = 2_000;
const QUERIES = 10;
const PLAYBACKS = 10;
const PRODUCERS = 1_000;
const SAMPLE = 20;
const CELL = 0x8928308280fffffn;
const SEED = "bench:rewards";
const UNISWAP = "Uniswap MerkleDistributor 1.0.1";
const TERMS: Omit<RewardTerms, "contentIds"> = { k: 3, maxVenuesPerDevice: 2, maxSeconds: 30n, ratePerUnit: 2n };

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const key = (label: string): string => keccak256(toUtf8Bytes(`${SEED}:${label}`));
const dutyWallet = (name: string): Wallet => {
  const index = DUTIES.find((duty) => duty.name === name)!.devnetIndex;
  return new Wallet(HDNodeWallet.fromPhrase(PUBLIC_TEST_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey);
};
const stats = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    min: sorted[0]!,
    mean: Math.round(values.reduce((sum, value) => sum + value, 0) / values.length),
    max: sorted.at(-1)!,
  };
};

/**
 * Uniswap's tree (merkle-distributor 1.0.1, `src/balance-tree.ts`): leaves `keccak256(abi.encodePacked(uint256
 * index, address account, uint256 amount))`, each pair hashed in ascending order, an odd node carried up.
 */
function uniswapTree(entries: readonly { account: string; amount: bigint }[]) {
  const leaves = entries.map(({ account, amount }, index) =>
    keccak256(solidityPacked(["uint256", "address", "uint256"], [index, account, amount])),
  );
  const pair = (a: string, b: string) => keccak256(BigInt(a) <= BigInt(b) ? `${a}${b.slice(2)}` : `${b}${a.slice(2)}`);
  const layers: string[][] = [[...leaves].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))];
  while (layers.at(-1)!.length > 1) {
    const layer = layers.at(-1)!;
    layers.push(
      Array.from({ length: Math.ceil(layer.length / 2) }, (_, i) =>
        i * 2 + 1 < layer.length ? pair(layer[i * 2]!, layer[i * 2 + 1]!) : layer[i * 2]!,
      ),
    );
  }
  const root = layers.at(-1)![0]!;
  const proof = (index: number): string[] => {
    const path: string[] = [];
    let position = layers[0]!.indexOf(leaves[index]!);
    for (const layer of layers.slice(0, -1)) {
      const sibling = position % 2 === 0 ? position + 1 : position - 1;
      if (sibling < layer.length) path.push(layer[sibling]!);
      position = Math.floor(position / 2);
    }
    return path;
  };
  const verify = (index: number, path: readonly string[]): boolean =>
    path.reduce((node, sibling) => pair(node, sibling), leaves[index]!) === root;
  return { root, proof, verify };
}

// No cache: the gas part moves the chain's clock and reads the latest block right after.
const chain = await startBenchChain({ folderPrefix: "bench-rewards-", cacheTimeout: -1 });
const { provider, folder, address } = chain;
const named = chain.deployment.namedAccounts;
const problems: string[] = [];
try {
  const accounts = await provider.listAccounts();
  const distributorAddress = address("RewardDistributor");
  const distributor = RewardDistributor__factory.connect(distributorAddress, provider);
  const domain = rewardsDomain(BigInt(CHAIN_ID), distributorAddress);
  const clock = { genesis: await distributor.genesis(), epochLength: await distributor.epochLength() };
  const oracleDuties = ["rewardsOracle1", "rewardsOracle2", "rewardsOracle3"] as const;
  const oracles = oracleDuties.map(dutyWallet);
  for (const [n, duty] of oracleDuties.entries()) {
    if (oracles[n]!.address !== getAddress(named[duty]))
      throw new Error(`${duty} is ${named[duty]}, not ${oracles[n]!.address}`);
  }

  // ─── throughput: one venue, one epoch ──────────────────────────────────────
  const epoch = epochOf(BigInt((await provider.getBlock("latest"))!.timestamp), clock.genesis, clock.epochLength) + 1n;
  const start = epochStart(epoch, clock.genesis, clock.epochLength);
  const now = start + clock.epochLength - 1n;
  const store = Store.open({ path: path.join(folder, "rewards.sqlite") });
  const registry = new RewardRegistry(store);
  const ingest = new EvidenceIngest({
    store,
    registry,
    domain,
    clock,
    oracle: oracles[0]!,
    graceSeconds: CUTOFF_GRACE,
    skewSeconds: 30n,
    now: () => now,
  });
  const registration = (fields: Partial<Registration> & Pick<Registration, "kind">): Registration => ({
    id: ZeroHash,
    key: ZeroAddress,
    owner: ZeroAddress,
    cell: 0n,
    producerId: ZeroHash,
    certificate: ZeroHash,
    time: start - 60n,
    ...fields,
  });
  const player = new Wallet(key("player"));
  const venueId = venueIdOf(`${SEED}:venue`);
  registry.apply(registration({ kind: "venue", id: venueId, key: player.address, cell: CELL }));
  const devices = Array.from({ length: DEVICES }, (_, n) => new Wallet(key(`device:${n}`)));
  for (const device of devices)
    registry.apply(registration({ kind: "device", key: device.address, owner: device.address }));
  const contents = Array.from({ length: PLAYBACKS }, (_, n) => ({
    contentId: contentIdOf(`${SEED}:content:${n}`),
    producerId: producerIdOf(`${SEED}:studio:${n % 3}`),
  }));
  for (const content of contents) {
    registry.apply(registration({ kind: "content", id: content.contentId, producerId: content.producerId }));
  }
  const signed = <K extends EvidenceKind>(signer: Wallet, kind: K, record: RecordKinds[K]) =>
    ({
      kind,
      record,
      signature: signer.signingKey.sign(recordHash(domain, kind, record)).serialized,
    }) as SignedEvidence;

  // Queries every 2 s from the epoch's start; each device answers each 1 to 5 s after it.
  const queries: PresenceQuery[] = Array.from({ length: QUERIES }, (_, q) => ({
    venueId,
    cell: CELL,
    epoch,
    nonce: key(`nonce:${q}`),
    time: start + 2n * BigInt(q),
  }));
  let started = process.hrtime.bigint();
  const responses: SignedEvidence[] = [];
  for (const query of queries) {
    for (const [n, device] of devices.entries()) {
      const response: PresenceResponse = {
        device: device.address,
        venueId,
        epoch,
        nonce: query.nonce,
        time: query.time + 1n + BigInt(n % 5),
      };
      responses.push(signed(device, "PresenceResponse", response));
    }
  }
  const signSeconds = seconds(started);
  // Playbacks of 2 s every 3 s, one per content.
  const playbacks: Playback[] = contents.map((content, n) => ({
    ...content,
    venueId,
    start: start + 3n * BigInt(n),
    duration: 2n,
  }));

  for (const query of queries) await ingest.ingest(signed(player, "PresenceQuery", query));
  const latencies: number[] = [];
  const receipts: { hash: string; receiptHash: string; signature: string; epoch: bigint }[] = [];
  started = process.hrtime.bigint();
  for (const evidence of responses) {
    const at = performance.now();
    const result = await ingest.ingest(evidence);
    latencies.push(performance.now() - at);
    if (result.repeated) problems.push(`response ${result.hash} was taken for a repeat`);
    receipts.push({
      hash: result.hash,
      receiptHash: recordHash(domain, "Receipt", result.receipt),
      signature: result.receiptSignature,
      epoch: result.receipt.epoch,
    });
  }
  const ingestSeconds = seconds(started);
  for (const playback of playbacks) await ingest.ingest(signed(player, "Playback", playback));
  latencies.sort((a, b) => a - b);

  // Every response receipted, for its own hash, in its epoch, by the oracle.
  const records = QUERIES + responses.length + PLAYBACKS;
  if (ingest.countOf(epoch) !== records) problems.push(`ingest holds ${ingest.countOf(epoch)} records, not ${records}`);
  for (const [n, receipt] of receipts.entries()) {
    const evidence = responses[n]!;
    const hash = recordHash(domain, evidence.kind, evidence.record);
    if (receipt.hash !== hash) problems.push(`response ${n} receipted as ${receipt.hash}, its hash is ${hash}`);
    if (receipt.epoch !== epoch) problems.push(`response ${n} receipted in epoch ${receipt.epoch}, not ${epoch}`);
    if (recoverDigestSigner(receipt.receiptHash, receipt.signature) !== oracles[0]!.address) {
      problems.push(`response ${n}'s receipt is not signed by the oracle`);
    }
  }
  // The contract hashes a record and a receipt as the service does.
  const sample = responses[0]!.record as PresenceResponse;
  const onChainHash = await distributor.hashPresenceResponse(
    sample.device,
    sample.venueId,
    sample.epoch,
    sample.nonce,
    sample.time,
  );
  if (onChainHash !== receipts[0]!.hash) problems.push(`the contract hashes response 0 as ${onChainHash}`);
  const stored0 = ingest.byHash(receipts[0]!.hash)!;
  const onChainReceipt = await distributor.hashReceipt(stored0.hash, stored0.receipt.epoch, stored0.receipt.time);
  if (onChainReceipt !== receipts[0]!.receiptHash) problems.push(`the contract hashes receipt 0 as ${onChainReceipt}`);

  // The floor: the same responses' signatures recovered, nothing else.
  started = process.hrtime.bigint();
  for (const [n, evidence] of responses.entries()) {
    const signer = recoverRecordSigner(
      domain,
      "PresenceResponse",
      evidence.record as PresenceResponse,
      evidence.signature,
    );
    if (signer !== (evidence.record as PresenceResponse).device) problems.push(`response ${n} recovers to ${signer}`);
  }
  const recoverSeconds = seconds(started);

  // The count, as the oracle runs it on what ingest stored.
  const stored = ingest.records(epoch, epoch);
  const input: Parameters<typeof computeEpoch>[0] = {
    epoch,
    genesis: clock.genesis,
    epochLength: clock.epochLength,
    domain,
    cutoff: epochEnd(epoch, clock.genesis, clock.epochLength) + CUTOFF_GRACE,
    records: stored.map((record) => ({
      kind: record.kind,
      record: record.record,
      signature: record.signature,
      receivedAt: record.receipt.time,
    })) as Parameters<typeof computeEpoch>[0]["records"],
    venues: registry.venues().map(({ venueId: id, cell, player: key }) => ({ venueId: id, cell, player: key })),
    devices: registry.devices().map((device) => ({
      address: device.device,
      owner: device.owner,
      registeredAt: device.registeredAt,
      active: true,
    })),
    producerOf: new Map(registry.contents().map((content) => [content.contentId, content.producerId])),
    terms: { ...TERMS, contentIds: contents.map((content) => content.contentId) },
    budgetPerEpoch: 1_000_000n,
    previous: new Map(),
  };
  started = process.hrtime.bigint();
  const count = computeEpoch(input);
  const countSeconds = seconds(started);
  started = process.hrtime.bigint();
  const evidenceAlone = evidenceTree(count.evidence);
  const evidenceTreeSeconds = seconds(started);
  if (evidenceAlone.root !== count.evidenceRoot) problems.push("the evidence tree differs from the count's");
  if (count.evidence.length !== records) problems.push(`the evidence lists ${count.evidence.length} of ${records}`);
  const reasons = new Map<string, number>();
  for (const ignored of count.ignored) reasons.set(ignored.reason, (reasons.get(ignored.reason) ?? 0) + 1);
  const duplicates = DEVICES * (QUERIES - 1);
  if (count.ignored.length !== duplicates || reasons.get("duplicate") !== duplicates) {
    problems.push(
      `the count ignored ${JSON.stringify(Object.fromEntries(reasons))}, expected ${duplicates} duplicates`,
    );
  }
  const countedResponses =
    responses.length - count.ignored.filter((ignored) => ignored.kind === "PresenceResponse").length;
  if (countedResponses !== DEVICES) problems.push(`the count took ${countedResponses} responses, not one per device`);
  const present = count.playbacks.reduce((sum, playback) => sum + (playback.users ?? 0), 0);
  store.close();

  // ─── gas: RewardDistributor beside Uniswap's MerkleDistributor ─────────────
  const sponsor = accounts[9]!;
  const relayer = accounts[10]!;
  const trust = TrustAccount__factory.connect(address("TrustAccountBankA"), await provider.getSigner(named.bankA));
  const producers = benchProducers(PRODUCERS, SEED);
  await (await trust.mintForDeposit(sponsor.address, 2n * fundsFor(producers) + 1_000n, key("sponsor"))).wait();
  const rewards = await measureRewardGas({
    provider,
    chainId: BigInt(CHAIN_ID),
    distributor: distributorAddress,
    token: address("BankToken"),
    registrar: await provider.getSigner(named.registrar),
    sponsor,
    funder: relayer,
    oracles: oracles.slice(0, 2),
    producers,
    sample: SAMPLE,
    evidenceRoots: [count.evidenceRoot, evidenceTree([]).root],
    salt: key("campaign"),
    firstEpoch: epoch,
  });
  problems.push(...rewards.problems);
  const rows: GasRow[] = [...rewards.rows];

  // A second campaign: its first root signed by 3 of 3, leaving response 0 out of its evidence; voided by its receipt.
  const asSponsor = distributor.connect(sponsor);
  const campaign = await asSponsor.campaignOf(rewards.campaignId);
  await (
    await BankToken__factory.connect(address("BankToken"), sponsor).approve(distributorAddress, campaign.funded)
  ).wait();
  const salt = key("omitting campaign");
  await (
    await asSponsor.createCampaign(
      salt,
      campaign.budgetPerEpoch,
      epoch,
      campaign.lastEpoch,
      campaign.claimDeadline,
      campaign.terms,
      campaign.funded,
    )
  ).wait();
  const omitting = await asSponsor.campaignIdOf(sponsor.address, salt);
  const left = receipts[0]!.hash;
  const partial = evidenceTree(count.evidence.filter((hash) => hash !== left));
  const { tree, total } = benchTree(producers, "first");
  const message: EpochRoot = {
    campaignId: omitting,
    epoch,
    root: tree.root,
    total,
    evidenceRoot: partial.root,
    cutoff: input.cutoff,
    oracleSetVersion: await distributor.oracleSetVersion(),
  };
  const measure = (contract: string, operation: string) => async (tx: Promise<ContractTransactionResponse>) =>
    rows.push({ contract, operation, gas: await gasOf(operation, tx) });
  await measure(
    "RewardDistributor",
    "proposeRoot 3-of-3, first root",
  )(
    asSponsor.proposeRoot(
      omitting,
      epoch,
      tree.root,
      total,
      partial.root,
      input.cutoff,
      await signEpochRoot(oracles, domain, message),
    ),
  );
  const omission = omissionProof(partial, left);
  await measure(
    "RewardDistributor",
    `challengeOmission (evidence of ${records - 1} records)`,
  )(
    distributor
      .connect(relayer)
      .challengeOmission(
        omitting,
        left,
        stored0.receipt.epoch,
        stored0.receipt.time,
        stored0.receiptSignature,
        leafArgument(omission),
      ),
  );
  if ((await distributor.pendingRootOf(omitting)).proposedAt !== 0n)
    problems.push("the omission did not void the root");

  // The reference: Uniswap's MerkleDistributor on its TestERC20, the same accounts and first amounts.
  const uniswapBuild = (name: string) =>
    createRequire(import.meta.url)(`@uniswap/merkle-distributor/build/${name}.json`) as {
      abi: unknown[];
      bytecode: string;
    };
  const [testErc20, merkleDistributor] = [uniswapBuild("TestERC20"), uniswapBuild("MerkleDistributor")];
  const deploy = async (build: { abi: unknown[]; bytecode: string }, ...args: unknown[]): Promise<Contract> => {
    const factory = new ContractFactory(build.abi as never, `0x${build.bytecode.replace(/^0x/, "")}`, relayer);
    const deployed = await factory.deploy(...args);
    await deployed.waitForDeployment();
    return deployed as Contract;
  };
  const entries = producers.map((producer) => ({ account: producer.account.address, amount: producer.first }));
  const uniswap = uniswapTree(entries);
  const referenceTotal = entries.reduce((sum, entry) => sum + entry.amount, 0n);
  const referenceToken = await deploy(testErc20, "Test", "TST", referenceTotal + 1_000n);
  const reference = await deploy(merkleDistributor, await referenceToken.getAddress(), uniswap.root);
  await (await referenceToken.getFunction("transfer")(await reference.getAddress(), referenceTotal)).wait();
  const referenceClaims: number[] = [];
  for (const producer of producers.slice(0, 2 * SAMPLE)) {
    const proof = uniswap.proof(producer.index);
    if (!uniswap.verify(producer.index, proof)) throw new Error(`Uniswap proof of ${producer.index} does not verify`);
    const before = (await referenceToken.getFunction("balanceOf")(producer.account.address)) as bigint;
    referenceClaims.push(
      await gasOf(
        "Uniswap claim",
        reference.getFunction("claim")(producer.index, producer.account.address, producer.first, proof),
      ),
    );
    const paid = ((await referenceToken.getFunction("balanceOf")(producer.account.address)) as bigint) - before;
    if (paid !== producer.first)
      problems.push(`Uniswap claim of ${producer.index} paid ${paid}, not ${producer.first}`);
  }
  // Each token's own transfer to a fresh account: the part of a first claim that is the token's.
  const fresh = (label: string) => new Wallet(key(label)).address;
  const bankTransfer = await gasOf(
    "BankToken transfer",
    BankToken__factory.connect(address("BankToken"), sponsor).transfer(fresh("fresh:bank"), 1_000n),
  );
  const testTransfer = await gasOf(
    "TestERC20 transfer",
    referenceToken.getFunction("transfer")(fresh("fresh:test"), 1_000n) as Promise<ContractTransactionResponse>,
  );
  // Side by side: a first claim relayed by anyone and paid to the account (ours `claimFor`, Uniswap's `claim`).
  const relayedFirst = stats(
    rewards.claims
      .filter((claim) => claim.how === "claimFor" && claim.round === "first" && !claim.opening)
      .map((claim) => claim.gas),
  ).mean;
  const side = (operation: string, ours: number, theirs: number) =>
    rows.push({ contract: "RewardDistributor", operation, gas: ours }, { contract: UNISWAP, operation, gas: theirs });
  side(
    `first claim, relayed, to a fresh account (${PRODUCERS} in the tree; ours claimFor, Uniswap claim)`,
    relayedFirst,
    stats(referenceClaims).mean,
  );
  side("token transfer to a fresh account (BankToken; TestERC20)", bankTransfer, testTransfer);
  side(
    "first claim less the token's transfer: the distributor's own",
    relayedFirst - bankTransfer,
    stats(referenceClaims).mean - testTransfer,
  );

  const claimsOf = (how: "claim" | "claimFor", round: "first" | "second") =>
    stats(
      rewards.claims
        .filter((claim) => claim.how === how && claim.round === round && !claim.opening)
        .map((claim) => claim.gas),
    );
  const cpu = cpus();
  const result = {
    setup:
      `Anvil (npm @foundry-rs/anvil) over HTTP on 127.0.0.1, chain id ${CHAIN_ID}, the suite deployed by the deploy ` +
      `scripts (epochs of ${clock.epochLength} s, challenge window ${await distributor.challengeWindow()} s, 2 of 3 ` +
      `oracles); ingest store: SQLite file (WAL, synchronous FULL); 1 venue, 1 epoch, ${QUERIES} queries, ${DEVICES} ` +
      `devices each answering every query (${responses.length} responses), ${PLAYBACKS} playbacks; ${PRODUCERS} ` +
      `producers in the tree, ${SAMPLE} claims each way; Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? "?"}`,
    throughput: {
      responses: responses.length,
      signSeconds: round(signSeconds, 2),
      ingest: {
        seconds: round(ingestSeconds, 2),
        perSecond: Math.round(responses.length / ingestSeconds),
        p50Ms: round(percentile(latencies, 50), 3),
        p95Ms: round(percentile(latencies, 95), 3),
      },
      recoverRecordSignerOnly: {
        seconds: round(recoverSeconds, 2),
        perSecond: Math.round(responses.length / recoverSeconds),
      },
      computeEpoch: {
        records: stored.length,
        seconds: round(countSeconds, 2),
        recordsPerSecond: Math.round(stored.length / countSeconds),
        evidenceTreeSeconds: round(evidenceTreeSeconds, 2),
        responsesCounted: countedResponses,
        ignored: Object.fromEntries(reasons),
        playbacksPaid: count.playbacks.filter((playback) => playback.users !== null).length,
        usersPresent: present,
        paid: count.paid.toString(),
      },
    },
    gas: Object.fromEntries(rows.map((row) => [`${row.contract}: ${row.operation}`, row.gas])),
    claims: {
      claimForFirst: claimsOf("claimFor", "first"),
      claimFirst: claimsOf("claim", "first"),
      claimForSecond: claimsOf("claimFor", "second"),
      claimSecond: claimsOf("claim", "second"),
      uniswapClaim: stats(referenceClaims),
    },
    problems,
  };
  console.log(`setup: ${result.setup}`);
  console.table({
    "ingest (EvidenceIngest.ingest, SQLite, receipt signed)": {
      perSecond: result.throughput.ingest.perSecond,
      p50Ms: result.throughput.ingest.p50Ms,
      p95Ms: result.throughput.ingest.p95Ms,
    },
    "recoverRecordSigner alone (the floor)": { perSecond: result.throughput.recoverRecordSignerOnly.perSecond },
    "computeEpoch (records counted)": { perSecond: result.throughput.computeEpoch.recordsPerSecond },
  });
  console.log(gasTable(rows));
  console.table(result.claims);
  console.log(`wrote ${writeResult("rewards.json", result)}`);
} finally {
  await chain.stop();
}
if (problems.length > 0) {
  console.error(`problems:\n${problems.join("\n")}`);
  process.exitCode = 1;
}
