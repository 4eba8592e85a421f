/**
 * Trust certificates: the indexer and the scorer over a history of 100,000
 * transactions, and the gas of a certificate beside EAS alone. Writes
 * `bench/results/certificates.json` and prints a table.
 *
 *   npm run bench:certificates
 *
 * Setup: the devnet's node, Anvil (the npm package's binary), on a free port
 * of 127.0.0.1, the suite deployed by the deploy scripts as on the devnet; a history of 1,000
 * wallets funded in BankToken and coin, then 100,000 transactions among them
 * (two BankToken transfers to one native payment), 100 to a block, a block
 * every four hours (`bench/lib/certificate-history.ts`). Then, as the
 * certificates service does it:
 *
 * - indexer: `CertificateIndexer` reads the history over JSON-RPC into a
 *   SQLite file (one transaction per batch, synchronous = FULL): blocks and
 *   transactions per second, RPC calls per block;
 * - scoring: for every wallet, its addresses from its public key, its
 *   features as of the last block, the score and level under the default
 *   model, and the features' Merkle root: wallets per second, and each step's
 *   share;
 * - gas: a certificate attested through `CertificateResolver` (its checks:
 *   issuer, model, level, expiry, subject) beside the reference, EAS 1.9.0 on
 *   the same schema string with no resolver; the revocations; and
 *   `CertificateVerifier.isValid` beside `EAS.isAttestationValid`.
 *
 * Checks (listed as problems, exit 1): every wallet's features sum up to the
 * history that was sent (transactions out, and token volume).
 */
import path from "node:path";

import {
  AbiCoder,
  Contract,
  type ContractTransactionReceipt,
  JsonRpcProvider,
  keccak256,
  type Log,
  type LogDescription,
  solidityPacked,
  ZeroAddress,
  ZeroHash,
} from "ethers";

import { DEVNET_CHAIN_ID } from "../src/chain/networks.js";
import { easAt, IEAS_ABI } from "../src/certificates/eas.js";
import { CertificateIndexer, type IndexerProvider } from "../src/certificates/indexer.js";
import { defaultModel, modelIdOf } from "../src/certificates/model.js";
import { CERTIFICATE_SCHEMA } from "../src/certificates/schema.js";
import { featuresRoot, score } from "../src/certificates/score.js";
import { Store } from "../src/store/store.js";
import { CertificateResolver__factory, CertificateVerifier__factory } from "../typechain-types/index.js";
import { startBenchChain } from "./lib/anvil.js";
import { buildHistory } from "./lib/certificate-history.js";
import { round, seconds, writeResult } from "./lib/results.js";

const CHAIN_ID = DEVNET_CHAIN_ID;
const WALLETS = 1_000;
const TRANSFERS = 100_000;
const PER_BLOCK = 100;
const SPACING = 4 * 3_600;

/** Counts the JSON-RPC calls the indexer makes. */
class CountingProvider implements IndexerProvider {
  calls = 0;
  constructor(readonly inner: JsonRpcProvider) {}
  send(method: string, params: unknown[]): Promise<unknown> {
    this.calls += 1;
    return this.inner.send(method, params);
  }
}

const chain = await startBenchChain({ folderPrefix: "bench-certificates-" });
const { provider, folder, address } = chain;
const named = chain.deployment.namedAccounts;
const problems: string[] = [];
try {
  const accounts = await provider.listAccounts();

  // The history.
  let started = process.hrtime.bigint();
  const history = await buildHistory({
    provider,
    token: address("BankToken"),
    trust: address("TrustAccountBankA"),
    bank: await provider.getSigner(named.bankA),
    funder: accounts[9]!,
    wallets: WALLETS,
    transfers: TRANSFERS,
    perBlock: PER_BLOCK,
    spacing: SPACING,
    seed: "bench:certificates",
  });
  const historySeconds = seconds(started);

  // The indexer, from the suite's first block to the last of the history.
  const rpc = new CountingProvider(provider);
  const store = Store.open({ path: path.join(folder, "indexer.sqlite") });
  const fromBlock = chain.deployment.deployments.BankToken!.receipt?.blockNumber;
  const indexer = new CertificateIndexer({
    provider: rpc,
    store,
    contracts: {
      token: address("BankToken"),
      settlement: address("InterbankSettlement"),
      bills: address("BillRegistry"),
      offline: address("OfflineVault"),
    },
    confirmations: 0,
    fromBlock: fromBlock === undefined ? 0 : Number(fromBlock),
  });
  const first = indexer.indexedThrough();
  started = process.hrtime.bigint();
  while (indexer.indexedThrough() < history.lastBlock) await indexer.poll();
  const indexSeconds = seconds(started);
  const indexedBlocks = indexer.indexedThrough() - first;

  // Scoring every wallet as the service does.
  const model = defaultModel();
  const asOf = history.lastBlock;
  const time = { addresses: 0, features: 0, score: 0, root: 0 };
  const levels = new Map<string, number>();
  let txOut = 0n;
  let volume = 0n;
  const scoreStart = process.hrtime.bigint();
  for (const wallet of history.wallets) {
    let t = process.hrtime.bigint();
    const addresses = indexer.addressesOfKey(wallet.signingKey.publicKey, asOf);
    time.addresses += seconds(t);
    t = process.hrtime.bigint();
    const features = indexer.featuresOf(addresses, asOf);
    time.features += seconds(t);
    t = process.hrtime.bigint();
    const result = score(features, model);
    time.score += seconds(t);
    t = process.hrtime.bigint();
    featuresRoot(features);
    time.root += seconds(t);
    levels.set(result.level, (levels.get(result.level) ?? 0) + 1);
    txOut += features.txCountOut;
    volume += features.volumeToken;
  }
  const scoreSeconds = seconds(scoreStart);
  store.close();
  if (txOut !== BigInt(TRANSFERS)) problems.push(`wallets sent ${txOut} transactions, the history ${TRANSFERS}`);
  // Each token transfer counts for its sender and its receiver; funding adds each wallet's float once.
  let sentVolume = 0n;
  for (let made = 0; made < TRANSFERS; made += 1) if (made % 3 !== 2) sentVolume += 1n + BigInt(made % 500);
  const expectedVolume = 2n * sentVolume + 1_000_000n * BigInt(WALLETS);
  if (volume !== expectedVolume) problems.push(`wallets' token volume ${volume}, expected ${expectedVolume}`);

  // Gas: a certificate beside EAS alone, on the same chain.
  const issuer = await provider.getSigner(named.certIssuer);
  const stranger = accounts[12]!;
  const eas = new Contract(address("EAS"), IEAS_ABI, issuer);
  const registry = new Contract(
    address("SchemaRegistry"),
    ["function register(string schema, address resolver, bool revocable) returns (bytes32)"],
    stranger,
  );
  await (await registry.getFunction("register")(CERTIFICATE_SCHEMA, ZeroAddress, true)).wait();
  const referenceUid = keccak256(
    solidityPacked(["string", "address", "bool"], [CERTIFICATE_SCHEMA, ZeroAddress, true]),
  );
  const resolver = CertificateResolver__factory.connect(address("CertificateResolver"), issuer);
  const verifier = CertificateVerifier__factory.connect(address("CertificateVerifier"), provider);
  const certificateUid = await resolver.schemaUID();
  const subject = history.wallets[0]!.address;
  const head = await provider.getBlock("latest");
  const data = AbiCoder.defaultAbiCoder().encode(
    ["address", "uint8", "uint32", "bytes32", "bytes32", "uint64"],
    [subject, 2, 640, modelIdOf(model), keccak256("0x01"), head!.number],
  );
  const attest = async (schema: string): Promise<{ gas: number; uid: string }> => {
    const request = {
      schema,
      data: {
        recipient: subject,
        expirationTime: BigInt(head!.timestamp + 30 * 86_400),
        revocable: true,
        refUID: ZeroHash,
        data,
        value: 0n,
      },
    };
    const receipt = (await (await eas.getFunction("attest")(request)).wait()) as ContractTransactionReceipt;
    const log = receipt.logs
      .map((entry: Log) => eas.interface.parseLog(entry))
      .find((parsed: LogDescription | null) => parsed?.name === "Attested");
    return { gas: Number(receipt.gasUsed), uid: log!.args.uid as string };
  };
  const ours = await attest(certificateUid);
  const reference = await attest(referenceUid);
  const isValidGas = Number(
    await provider.estimateGas({
      to: await verifier.getAddress(),
      data: verifier.interface.encodeFunctionData("isValid", [ours.uid]),
    }),
  );
  const easValidGas = Number(
    await provider.estimateGas({
      to: address("EAS"),
      data: eas.interface.encodeFunctionData("isAttestationValid", [reference.uid]),
    }),
  );
  if (!(await verifier.isValid(ours.uid))) problems.push("the certificate measured is not valid");
  const easApi = easAt(address("EAS"), issuer);
  const revokeGas = async (schema: string, uid: string): Promise<number> =>
    Number((await (await easApi.revoke(schema, uid)).wait())!.gasUsed);
  const oursRevoke = await revokeGas(certificateUid, ours.uid);
  const referenceRevoke = await revokeGas(referenceUid, reference.uid);

  const result = {
    setup: `Anvil (npm @foundry-rs/anvil) over HTTP on 127.0.0.1, chain id ${CHAIN_ID}; indexer store: SQLite file; ${WALLETS} wallets, ${TRANSFERS} transfers, ${PER_BLOCK} per block`,
    transactions: history.transactions,
    historyBlocks: history.lastBlock - history.firstBlock + 1,
    historySeconds: round(historySeconds),
    indexedBlocks,
    indexSeconds: round(indexSeconds, 2),
    blocksPerSecond: round(indexedBlocks / indexSeconds),
    transactionsPerSecond: Math.round(history.transactions / indexSeconds),
    rpcCallsPerBlock: round(rpc.calls / indexedBlocks, 2),
    walletsScored: history.wallets.length,
    scoreSeconds: round(scoreSeconds, 2),
    walletsPerSecond: Math.round(history.wallets.length / scoreSeconds),
    msPerWallet: {
      addresses: round((time.addresses * 1_000) / WALLETS, 3),
      features: round((time.features * 1_000) / WALLETS, 3),
      score: round((time.score * 1_000) / WALLETS, 3),
      merkleRoot: round((time.root * 1_000) / WALLETS, 3),
    },
    levels: Object.fromEntries(levels),
    gas: {
      attestCertificate: ours.gas,
      attestEasAlone: reference.gas,
      revokeCertificate: oursRevoke,
      revokeEasAlone: referenceRevoke,
      isValidCertificate: isValidGas,
      isAttestationValidEas: easValidGas,
    },
    problems,
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(`wrote ${writeResult("certificates.json", result)}`);
} finally {
  await chain.stop();
}
if (problems.length > 0) {
  console.error(`problems:\n${problems.join("\n")}`);
  process.exitCode = 1;
}
