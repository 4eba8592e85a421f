/**
 * The trust certificates as deploy/008_certificates.ts leaves them: EAS's SchemaRegistry and EAS from the
 * package's bytecode, our three contracts wired to each other, the schema registered, the default model active,
 * ISSUER_ROLE with the certIssuer duty alone; and a re-run that sends nothing, also after a duty key rotated.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { Contract, getAddress, getBytes, ZeroHash, type Eip1193Provider } from "ethers";
import { network } from "hardhat";

import { CERTIFICATES } from "../../deploy/_config.js";
import { easArtifact } from "../../deploy/_eas.js";
import { loadAndExecuteDeploymentsFromFiles } from "../../rocketh/environment.js";
import { readDeployments } from "../../src/chain/deployments.js";
import { DUTIES, type DutyName } from "../../src/chain/networks.js";
import { readRoleTable, roleId } from "../../src/chain/roles.js";
import { defaultModel, LEVEL_COUNT, modelContentHash, modelIdOf } from "../../src/certificates/model.js";
import { CERTIFICATE_SCHEMA, certificateSchemaUid } from "../../src/certificates/schema.js";
import {
  CertificateResolver__factory,
  CertificateVerifier__factory,
  ScoringModelRegistry__factory,
} from "../../typechain-types/index.js";
import { deploySuite, dutyAddressesOf, quietly, type Suite } from "../helpers/suite.js";

const NAMES = ["SchemaRegistry", "EAS", "ScoringModelRegistry", "CertificateResolver", "CertificateVerifier"] as const;
/** `IScoringModelRegistry.ModelState`'s `Active` and `Retired`. */
const ACTIVE = 2n;
const RETIRED = 3n;

describe("certificates: the deployment (deploy/008_certificates.ts)", function () {
  describe("the suite as deploySuite() deploys it", function () {
    let suite: Suite;
    let duties: Map<DutyName, string>;

    before(async function () {
      suite = await deploySuite();
      duties = await dutyAddressesOf(suite);
    });

    after(async function () {
      await suite?.connection.close();
    });

    const address = (name: (typeof NAMES)[number]) => suite.deployments.get(name).address;

    it("deploys the five contracts, EAS's two from the package's published bytecode", async function () {
      for (const name of NAMES) expect(await suite.ethers.provider.getCode(address(name)), name).to.not.equal("0x");
      // The code on chain is the package's runtime bytecode, but for its immutables (zero placeholders in the
      // artifact, filled in by the constructor: EAS's registry, version and EIP-712 domain).
      for (const name of ["SchemaRegistry", "EAS"] as const) {
        const published = getBytes(easArtifact(name).deployedBytecode!);
        const onChain = getBytes(await suite.ethers.provider.getCode(address(name)));
        expect(onChain.length, name).to.equal(published.length);
        const changed = [...onChain.keys()].filter((i) => onChain[i] !== published[i]);
        expect(
          changed.filter((i) => published[i] !== 0),
          `${name}: bytes other than immutables differ`,
        ).to.deep.equal([]);
        expect(changed.length, name).to.be.greaterThan(0);
      }
    });

    it("wires them: EAS on the SchemaRegistry, the resolver on EAS and the model registry, the verifier on the resolver", async function () {
      const eas = new Contract(address("EAS"), suite.deployments.get("EAS").abi, suite.ethers.provider);
      expect(await eas.getFunction("getSchemaRegistry")()).to.equal(address("SchemaRegistry"));
      expect(await eas.getFunction("version")()).to.equal("1.4.0");
      const resolver = CertificateResolver__factory.connect(address("CertificateResolver"), suite.ethers.provider);
      expect(await resolver.eas()).to.equal(address("EAS"));
      expect(await resolver.models()).to.equal(address("ScoringModelRegistry"));
      expect(await resolver.maxValidity()).to.equal(BigInt(CERTIFICATES.maxValidity));
      const verifier = CertificateVerifier__factory.connect(address("CertificateVerifier"), suite.ethers.provider);
      expect(await verifier.resolver()).to.equal(address("CertificateResolver"));
    });

    it("registers the certificate schema, revocable, with the resolver, under the resolver's schemaUID", async function () {
      const resolver = CertificateResolver__factory.connect(address("CertificateResolver"), suite.ethers.provider);
      const uid = await resolver.schemaUID();
      expect(uid).to.equal(certificateSchemaUid(address("CertificateResolver")));
      const registry = new Contract(
        address("SchemaRegistry"),
        suite.deployments.get("SchemaRegistry").abi,
        suite.ethers.provider,
      );
      const record = (await registry.getFunction("getSchema")(uid)) as {
        uid: string;
        resolver: string;
        revocable: boolean;
        schema: string;
      };
      expect(record.uid).to.equal(uid);
      expect(record.resolver).to.equal(address("CertificateResolver"));
      expect(record.revocable).to.equal(true);
      expect(record.schema).to.equal(CERTIFICATE_SCHEMA);
    });

    it("registers and activates the default model under its id, with the model file's content hash", async function () {
      const model = defaultModel();
      const registry = ScoringModelRegistry__factory.connect(address("ScoringModelRegistry"), suite.ethers.provider);
      const onChain = await registry.modelOf(modelIdOf(model));
      expect(onChain.state).to.equal(ACTIVE);
      expect(onChain.contentHash).to.equal(modelContentHash(model));
      expect(onChain.version).to.equal(BigInt(model.version));
      expect(onChain.levels).to.equal(BigInt(LEVEL_COUNT));
      expect(await registry.isActive(modelIdOf(model))).to.equal(true);
    });

    it("gives ISSUER_ROLE to the certIssuer duty and to nobody else; MODEL_ADMIN_ROLE to schemeAdmin; the deployer none", async function () {
      const { rows, problems } = await readRoleTable(suite.ethers.provider, suite.deployments, duties);
      expect(problems).to.deep.equal([]);
      const held = (contract: string) =>
        rows
          .filter((row) => row.contract === contract)
          .map((row) => `${row.role} ${row.holder}`)
          .sort();
      expect(held("CertificateResolver")).to.deep.equal(["DEFAULT_ADMIN_ROLE admin", "ISSUER_ROLE certIssuer"]);
      expect(held("ScoringModelRegistry")).to.deep.equal(["DEFAULT_ADMIN_ROLE admin", "MODEL_ADMIN_ROLE schemeAdmin"]);
      // Every duty's account, the deployer's included, asked directly: only certIssuer attests.
      const resolver = CertificateResolver__factory.connect(address("CertificateResolver"), suite.ethers.provider);
      for (const [name, account] of duties) {
        expect(await resolver.hasRole(roleId("ISSUER_ROLE"), account), name).to.equal(name === "certIssuer");
      }
      expect(await resolver.issuerAuthorizedSince(duties.get("certIssuer")!)).to.be.greaterThan(0n);
    });
  });

  describe("re-running the deploy", function () {
    let dir: string;

    beforeEach(function () {
      dir = mkdtempSync(path.join(tmpdir(), "bank-chain-certs-deploy-"));
    });

    afterEach(function () {
      rmSync(dir, { recursive: true, force: true });
    });

    /**
     * The deploy scripts on a fresh in-process chain under `environment`, saving to a temporary folder so that a
     * second run finds the first one's deployments, as `npx hardhat deploy` does. `accounts` rewrites the node's
     * account list (what a rotated key in the configuration changes for the named accounts).
     */
    async function chain(environment: string) {
      const connection = await network.create("hardhat");
      let accounts: (list: string[]) => string[] = (list) => list;
      const provider: Eip1193Provider = {
        request: async (request) => {
          const answer = await connection.provider.request(request as never);
          return request.method === "eth_accounts" ? accounts(answer as string[]) : answer;
        },
      };
      const run = () =>
        quietly(() =>
          loadAndExecuteDeploymentsFromFiles({
            provider: provider as never,
            environment,
            saveDeployments: true,
            config: { deployments: dir },
          }),
        );
      const nonces = async (list: readonly string[]) =>
        Promise.all(list.map((account) => connection.ethers.provider.getTransactionCount(account)));
      return {
        connection,
        run,
        nonces,
        rotate: (rewrite: (list: string[]) => string[]) => (accounts = rewrite),
        signers: async () => (await connection.ethers.getSigners()).map((signer) => getAddress(signer.address)),
      };
    }

    it("sends nothing the second time on the devnet (same bytecode, same arguments: rocketh keeps each contract)", async function () {
      const devnet = await chain("certificates-rerun");
      try {
        const first = await devnet.run();
        const everyone = await devnet.signers();
        const before = await devnet.nonces(everyone);
        const second = await devnet.run();
        expect(await devnet.nonces(everyone), "the second deploy sent a transaction").to.deep.equal(before);
        for (const name of NAMES)
          expect(second.deployments[name]!.address, name).to.equal(first.deployments[name]!.address);
      } finally {
        await devnet.connection.close();
      }
    });

    it("leaves a default model the model admin retired retired: a re-run neither fails nor sends anything", async function () {
      const devnet = await chain("certificates-retired");
      try {
        const first = await devnet.run();
        const model = defaultModel();
        const registry = ScoringModelRegistry__factory.connect(
          first.deployments.ScoringModelRegistry!.address,
          await devnet.connection.ethers.getSigner(first.namedAccounts.schemeAdmin),
        );
        await (await registry.retireModel(modelIdOf(model))).wait();
        const everyone = await devnet.signers();
        const before = await devnet.nonces(everyone);
        await devnet.run();
        expect(await devnet.nonces(everyone), "the re-run sent a transaction").to.deep.equal(before);
        expect(await registry.stateOf(modelIdOf(model))).to.equal(RETIRED);
      } finally {
        await devnet.connection.close();
      }
    });

    it("test_R6_aRerunAfterTheAdminKeyRotatedReplacesNoCertificateContract (remote network: kept as deployed)", async function () {
      // A remote network's named accounts are its keys in DUTIES order (rocketh/config.ts): the in-process node
      // stands in, its account list rewritten so that the admin's position holds a new key.
      const remote = await chain("consortium");
      try {
        const first = await remote.run();
        const everyone = await remote.signers();
        const position = DUTIES.findIndex((duty) => duty.name === "admin");
        const rotated = everyone[DUTIES.length + 3]!;
        expect(getAddress(first.namedAccounts.admin)).to.equal(everyone[position]);
        const before = await remote.nonces(everyone);
        const addresses = () => NAMES.map((name) => readDeployments("consortium", dir).get(name).address);
        const deployed = addresses();
        remote.rotate((list) => list.map((account, index) => (index === position ? rotated : account)));
        // The deploy's last step holds the chain to the plan: until the handover on chain, it fails and says why.
        const error = await remote.run().then(
          () => undefined,
          (reason: unknown) => reason as Error,
        );
        expect(error?.message).to.match(
          /the roles on chain depart from the plan: [^\n]*CertificateResolver DEFAULT_ADMIN_ROLE: planned holder admin does not hold it/,
        );
        expect(await remote.nonces(everyone), "the re-run sent a transaction").to.deep.equal(before);
        expect(addresses(), "a certificate contract was replaced").to.deep.equal(deployed);
        const resolver = CertificateResolver__factory.connect(
          first.deployments.CertificateResolver!.address,
          remote.connection.ethers.provider,
        );
        expect(await resolver.hasRole(ZeroHash, first.namedAccounts.admin)).to.equal(true);
        expect(await resolver.hasRole(ZeroHash, rotated)).to.equal(false);
      } finally {
        await remote.connection.close();
      }
    });
  });
});
