/**
 * `bank-chain certificates verify`: a certificate recomputed from its published inputs
 * (`GET /certificates/:uid`) and each input checked against the chain: the model file's content hash
 * against ScoringModelRegistry, the features root against the attestation, the score and level under the
 * model, and `CertificateVerifier.statusOf`.
 *
 * The published features are not taken on trust: the verifier indexes the chain itself (the suite's
 * indexer, in memory, from the BankToken's deployment block through `asOfBlock`) and checks that the key's
 * addresses and their features there give the attested features root. So a certificate whose features the
 * chain does not give (an issuer's indexer that skipped history or a contract, or a record edited after the
 * fact) fails, even though it recomputes from its own published inputs.
 */
import { AbiCoder, computeAddress, getAddress } from "ethers";

import type { ChainConnection } from "../chain/config.js";
import type { Deployments } from "../chain/deployments.js";
import { CertificateVerifier__factory, ScoringModelRegistry__factory } from "../../typechain-types/index.js";
import { easAt } from "./eas.js";
import { parseFeatures } from "./features.js";
import { CERTIFICATE_STATUSES } from "./issuer.js";
import { modelContentHash, modelIdOf, parseModel } from "./model.js";
import { featuresRoot, score } from "./score.js";
import { parseCreate2Profiles, type Create2Profile } from "./indexer.js";
import { suiteIndexer } from "./service.js";
import { Store } from "../store/store.js";

/** What GET /certificates/:uid answers (src/certificates/http.ts), as far as verifying reads it. */
export interface PublishedCertificate {
  readonly subject: string;
  readonly publicKey: string;
  readonly recompute: {
    readonly model: { readonly json: Record<string, unknown> };
    readonly asOfBlock: number;
    readonly addresses: readonly string[];
    /** The CREATE2 profiles the issuer derived the key's accounts with (none if absent). */
    readonly create2Profiles?: readonly unknown[];
    readonly features: Record<string, string>;
  };
}

export interface VerifyCheck {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

const coder = AbiCoder.defaultAbiCoder();

/** Every check of certificate `uid` (its published inputs `view`) against the chain; `ok` when all pass. */
export async function verifyCertificate(
  uid: string,
  view: PublishedCertificate,
  chain: ChainConnection,
  deployments: Deployments,
): Promise<{ readonly ok: boolean; readonly checks: readonly VerifyCheck[] }> {
  const verifier = CertificateVerifier__factory.connect(deployments.get("CertificateVerifier").address, chain.provider);
  const registry = ScoringModelRegistry__factory.connect(
    deployments.get("ScoringModelRegistry").address,
    chain.provider,
  );
  const eas = easAt(deployments.get("EAS").address, chain.provider);
  const attestation = await eas.getAttestation(uid);
  const [subject, level, points, modelId, root, asOfBlock] = coder.decode(
    ["address", "uint8", "uint32", "bytes32", "bytes32", "uint64"],
    attestation.data,
  ) as unknown as [string, bigint, bigint, string, string, bigint];
  const checks: VerifyCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ check: name, ok, detail });

  const model = parseModel(view.recompute.model.json);
  const hash = modelContentHash(model);
  check("model id", modelIdOf(model) === modelId, `keccak256("${model.id}/v${model.version}") = ${modelIdOf(model)}`);
  const published = await registry.modelOf(modelId);
  check(
    "model content hash",
    hash === published.contentHash,
    `model file ${hash}, ScoringModelRegistry ${published.contentHash}`,
  );
  const features = parseFeatures(view.recompute.features);
  const recomputedRoot = featuresRoot(features);
  check("features root", recomputedRoot === root, `recomputed ${recomputedRoot}, attested ${root}`);
  const recomputed = score(features, model);
  check(
    "score and level",
    BigInt(recomputed.score) === points && BigInt(recomputed.levelIndex) === level,
    `recomputed ${recomputed.score} ${recomputed.level}, attested ${points} level ${level}`,
  );
  check(
    "as of block",
    BigInt(view.recompute.asOfBlock) === asOfBlock,
    `published ${view.recompute.asOfBlock}, attested ${asOfBlock}`,
  );
  check("subject", getAddress(subject) === getAddress(view.subject), `attested ${getAddress(subject)}`);
  check(
    "key of the subject",
    computeAddress(view.publicKey) === getAddress(subject),
    `the published key's address is ${computeAddress(view.publicKey)}`,
  );
  const fromChain = await chainFeatures(
    view.publicKey,
    Number(asOfBlock),
    chain,
    deployments,
    parseCreate2Profiles(view.recompute.create2Profiles ?? []),
  );
  const chainRoot = featuresRoot(fromChain.features);
  check(
    "features from chain",
    chainRoot === root &&
      JSON.stringify(fromChain.addresses) === JSON.stringify(view.recompute.addresses.map((a) => getAddress(a))),
    `the chain at block ${asOfBlock} gives ${chainRoot} over ${fromChain.addresses.join(", ")}, attested ${root}`,
  );
  const valid = await verifier.isValid(uid);
  const status = Number(await verifier.statusOf(uid));
  check("isValid on chain", valid, `CertificateVerifier.statusOf = ${CERTIFICATE_STATUSES[status] ?? status}`);
  return { ok: checks.every((c) => c.ok), checks };
}

/** The key's addresses and their features as of `asOfBlock`, indexed from the chain into a throw-away store. */
async function chainFeatures(
  publicKey: string,
  asOfBlock: number,
  chain: ChainConnection,
  deployments: Deployments,
  create2: readonly Create2Profile[],
) {
  const store = Store.open({ path: ":memory:" });
  try {
    const head = await chain.provider.getBlockNumber();
    // As many confirmations as blocks after asOfBlock: the indexer reads exactly through asOfBlock.
    const indexer = suiteIndexer({
      context: { chain, deployments, dataDir: "", log: () => undefined },
      store,
      confirmations: Math.max(0, head - asOfBlock),
      pollIntervalMs: 1_000,
      create2,
    });
    await indexer.poll();
    const addresses = indexer.addressesOfKey(publicKey, asOfBlock);
    return { addresses, features: indexer.featuresOf(addresses, asOfBlock) };
  } finally {
    store.close();
  }
}
