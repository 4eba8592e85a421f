/**
 * Trust certificates (docs/certificates.md): EAS's SchemaRegistry and EAS from the bytecode the npm package
 * publishes (deploy/_eas.ts), the ScoringModelRegistry, the CertificateResolver (ISSUER_ROLE to the `certIssuer`
 * duty) and the CertificateVerifier. Then, signed by `schemeAdmin` (MODEL_ADMIN_ROLE): the certificate schema
 * registered in the SchemaRegistry with the resolver, revocable; the default scoring model
 * (src/certificates/models/default-v1.json) registered by its content hash and activated.
 *
 * A model retired on chain stays retired (retirement is final, and deliberate): the deploy says so and goes on. A
 * model registered under the default model's id with another content hash stops the deploy: the file changed
 * without a new version.
 */
import { Contract } from "ethers";

import { CertificateResolver__factory, ScoringModelRegistry__factory } from "../typechain-types/index.js";
import { artifacts, deployScript } from "../rocketh/deploy.js";
import { defaultModel, LEVEL_COUNT, modelContentHash, modelIdOf } from "../src/certificates/model.js";
import { CERTIFICATE_SCHEMA } from "../src/certificates/schema.js";
import { adminDelay, CERTIFICATES } from "./_config.js";
import { easArtifact } from "./_eas.js";
import { ensure, ethersFor, grantPlanned, keepDeployed } from "./_ethers.js";

/** What the deploy calls on EAS's SchemaRegistry. */
const SCHEMA_REGISTRY_ABI = [
  "function getSchema(bytes32 uid) view returns ((bytes32 uid, address resolver, bool revocable, string schema))",
  "function register(string schema, address resolver, bool revocable) returns (bytes32)",
];

/** `IScoringModelRegistry.ModelState`. */
const MODEL_STATE = { None: 0n, Registered: 1n, Active: 2n, Retired: 3n } as const;

export default deployScript(
  async (env) => {
    const { deploy, namedAccounts: accounts } = env;
    const delay = adminDelay(env.network.chain.id);
    const { signer } = ethersFor(env);

    const schemaRegistry = await deploy(
      "SchemaRegistry",
      { account: accounts.deployer, artifact: easArtifact("SchemaRegistry"), args: [] },
      keepDeployed(env),
    );
    const eas = await deploy(
      "EAS",
      { account: accounts.deployer, artifact: easArtifact("EAS"), args: [schemaRegistry.address] },
      keepDeployed(env),
    );
    const models = await deploy(
      "ScoringModelRegistry",
      { account: accounts.deployer, artifact: artifacts.ScoringModelRegistry, args: [accounts.admin, delay] },
      keepDeployed(env),
    );
    const resolver = await deploy(
      "CertificateResolver",
      {
        account: accounts.deployer,
        artifact: artifacts.CertificateResolver,
        args: [eas.address, models.address, BigInt(CERTIFICATES.maxValidity), accounts.admin, delay],
      },
      keepDeployed(env),
    );
    await deploy(
      "CertificateVerifier",
      { account: accounts.deployer, artifact: artifacts.CertificateVerifier, args: [resolver.address] },
      keepDeployed(env),
    );
    for (const name of ["ScoringModelRegistry", "CertificateResolver"]) await grantPlanned(env, name);

    const schemeAdmin = await signer(accounts.schemeAdmin);
    const uid = await CertificateResolver__factory.connect(resolver.address, schemeAdmin).schemaUID();
    const registry = new Contract(schemaRegistry.address, SCHEMA_REGISTRY_ABI, schemeAdmin);
    await ensure(
      `SchemaRegistry: the certificate schema ${uid}, revocable, with the CertificateResolver`,
      async () => BigInt(((await registry.getFunction("getSchema")(uid)) as { uid: string }).uid) !== 0n,
      () => registry.getFunction("register")(CERTIFICATE_SCHEMA, resolver.address, true),
    );

    const model = defaultModel();
    const id = modelIdOf(model);
    const contentHash = modelContentHash(model);
    const label = `${model.id} v${model.version} (${id})`;
    const scoring = ScoringModelRegistry__factory.connect(models.address, schemeAdmin);
    const onChain = await scoring.modelOf(id);
    if (
      onChain.state !== MODEL_STATE.None &&
      (onChain.contentHash !== contentHash ||
        onChain.version !== BigInt(model.version) ||
        onChain.levels !== BigInt(LEVEL_COUNT))
    ) {
      throw new Error(
        `ScoringModelRegistry: model ${label} is registered as version ${onChain.version}, ${onChain.levels} levels, ` +
          `content hash ${onChain.contentHash}, but src/certificates/models/default-v1.json is version ` +
          `${model.version}, ${LEVEL_COUNT} levels, content hash ${contentHash}: a changed model needs a new version`,
      );
    }
    await ensure(
      `ScoringModelRegistry: model ${label} registered, content hash ${contentHash}, ${LEVEL_COUNT} levels`,
      async () => (await scoring.stateOf(id)) !== MODEL_STATE.None,
      () => scoring.registerModel(id, model.version, contentHash, LEVEL_COUNT),
    );
    if ((await scoring.stateOf(id)) === MODEL_STATE.Retired) {
      console.log(`  - ScoringModelRegistry: model ${label} is retired; left retired`);
      return;
    }
    await ensure(
      `ScoringModelRegistry: model ${label} activated`,
      async () => (await scoring.stateOf(id)) === MODEL_STATE.Active,
      () => scoring.activateModel(id),
    );
  },
  { tags: ["certificates"] },
);
