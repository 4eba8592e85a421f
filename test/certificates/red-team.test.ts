/**
 * Red team: attacks on the certificates by an outside attacker or a careless operator, each found failing
 * on the code before its fix.
 */
import { expect } from "chai";
import { encodeBytes32String, Wallet, type BaseWallet } from "ethers";

import { easAt } from "../../src/certificates/eas.js";
import {
  CertificateIndexer,
  CertIndexerConfigError,
  type Create2Profile,
  type IndexerProvider,
} from "../../src/certificates/indexer.js";
import { create2ProfilesOf } from "../../src/certificates/service.js";
import { ServiceError } from "../../src/chain/service.js";
import { MockAccountFactory__factory } from "../../typechain-types/index.js";
import { verifyCertificate } from "../../src/certificates/verify.js";
import { call } from "../helpers/http.js";
import { certificatesFixture, signedRequest, type ServiceUnderTest } from "./service-helpers.js";

describe("certificates: red team", function () {
  this.timeout(180_000);

  let f: Awaited<ReturnType<typeof certificatesFixture>>;

  before(async function () {
    f = await certificatesFixture();
  });

  after(function () {
    f?.remove();
  });

  async function issue(service: ServiceUnderTest, key: BaseWallet): Promise<any> {
    await service.indexer.poll();
    const challenge = await call(`${service.url}/challenge`);
    const reply = await call(`${service.url}/certificates`, "POST", await signedRequest(key, challenge.body));
    expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
    return reply.body;
  }

  describe("proof of possession", function () {
    it("attack: one nonce raced in two concurrent POSTs (compressed and uncompressed key) issues once", async function () {
      const subject = Wallet.createRandom();
      const service = await f.start();
      try {
        await service.indexer.poll();
        const challenge = (await call(`${service.url}/challenge`)).body;
        const compressed = await signedRequest(subject, challenge);
        const uncompressed = { ...compressed, publicKey: subject.signingKey.publicKey };
        const replies = await Promise.all(
          [compressed, uncompressed].map((body) => call(`${service.url}/certificates`, "POST", body)),
        );
        expect(replies.map((r) => r.status).sort()).to.deep.equal([201, 409]);
        expect(replies.find((r) => r.status === 409)!.body.error.code).to.equal("CERT_CHALLENGE_USED");
        expect(await easAt(f.get("EAS"), f.provider).attestedCount(subject.address)).to.equal(1);
      } finally {
        await service.stop();
      }
    });
  });

  describe("the issuer's gas", function () {
    it("attack: a flood of fresh keys stops at the hourly budget: 429 CERT_ISSUE_BUDGET_SPENT, nothing sent, nonce kept", async function () {
      // Its own fixture: the budget counts the requests in the service's database.
      const g = await certificatesFixture();
      const service = await g.start(undefined, undefined, { maxIssuesPerHour: 2 });
      try {
        for (let n = 0; n < 2; n += 1) await issue(service, Wallet.createRandom());
        const sent = await g.provider.getTransactionCount(g.signer.address);
        const third = Wallet.createRandom();
        const challenge = (await call(`${service.url}/challenge`)).body;
        const body = await signedRequest(third, challenge);
        const refused = await call(`${service.url}/certificates`, "POST", body);
        expect(refused.status, JSON.stringify(refused.body)).to.equal(429);
        expect(refused.body.error).to.include({ code: "CERT_ISSUE_BUDGET_SPENT" });
        expect(await g.provider.getTransactionCount(g.signer.address)).to.equal(sent);
        expect(await easAt(g.get("EAS"), g.provider).attestedCount(third.address)).to.equal(0);
        // The refusal spent nothing: the same challenge still serves the key within its five minutes...
        const again = await call(`${service.url}/certificates`, "POST", body);
        expect(again.body.error).to.include({ code: "CERT_ISSUE_BUDGET_SPENT" });
        // ...and an hour after the first two, the budget is back.
        g.advance(3_600_001);
        await issue(service, third);
      } finally {
        await service.stop();
        g.remove();
      }
    });
  });

  describe("recomputation", function () {
    it("a key's CREATE2 account (a configured factory's) counts, is published with its profile, and verify finds it on chain", async function () {
      const subject = Wallet.createRandom();
      const factory = await new MockAccountFactory__factory(f.suite.accounts.deployer).deploy();
      await factory.waitForDeployment();
      const profile: Create2Profile = {
        name: "mock-accounts",
        factory: await factory.getAddress(),
        initCodeHash: await factory.INIT_CODE_HASH(),
        accounts: 1,
      };
      await (await factory.createAccount(subject.address, 0n)).wait();
      const account = await factory.accountOf(subject.address, 0n);
      await (await f.suite.trustA.mintForDeposit(account, 55_000n, encodeBytes32String("red-create2"))).wait();
      const service = await f.start(undefined, undefined, { create2Profiles: [profile] });
      try {
        const certificate = await issue(service, subject);
        expect(certificate.recompute.addresses).to.deep.equal([subject.address, account]);
        expect(certificate.recompute.create2Profiles).to.deep.equal([profile]);
        expect(certificate.recompute.features.volumeToken).to.equal("55000");
        const verified = await verifyCertificate(certificate.uid, certificate, f.chain, f.suite.deployments);
        expect(verified.checks.filter((c) => !c.ok)).to.deep.equal([]);
        // A view that hides the profile no longer recomputes: the account's history is the key's.
        const hidden = { ...certificate, recompute: { ...certificate.recompute, create2Profiles: [] } };
        const failed = await verifyCertificate(certificate.uid, hidden, f.chain, f.suite.deployments);
        expect(failed.checks.filter((c) => !c.ok).map((c) => c.check)).to.deep.equal(["features from chain"]);
      } finally {
        await service.stop();
      }
    });

    it("CERTIFICATES_CREATE2_PROFILES: empty is none, text that is not JSON or a bad profile is a typed error", function () {
      expect(create2ProfilesOf("")).to.deep.equal([]);
      expect(() => create2ProfilesOf("[{"))
        .to.throw(ServiceError)
        .with.property("code", "CERT_BAD_CREATE2_PROFILES");
      expect(() => create2ProfilesOf('[{"name":"x","factory":"0x12","initCodeHash":"0x00","accounts":1}]'))
        .to.throw(CertIndexerConfigError)
        .with.property("code", "CERT_INDEXER_BAD_CREATE2_PROFILE");
    });

    it("an honest certificate passes every check, the chain's features included", async function () {
      const subject = Wallet.createRandom();
      await (await f.suite.trustA.mintForDeposit(subject.address, 70_000n, encodeBytes32String("red-honest"))).wait();
      const service = await f.start();
      try {
        const certificate = await issue(service, subject);
        const { ok, checks } = await verifyCertificate(certificate.uid, certificate, f.chain, f.suite.deployments);
        expect(checks.filter((c) => !c.ok)).to.deep.equal([]);
        expect(checks.map((c) => c.check)).to.include.members(["features from chain", "key of the subject"]);
        expect(ok).to.equal(true);
      } finally {
        await service.stop();
      }
    });

    it("attack: features the chain does not give (an operator's indexer that skipped history) fail verify", async function () {
      // Its own fixture: the operator's indexer is configured otherwise than the shared database file's.
      const g = await certificatesFixture();
      try {
        // The subject's history: three deposits. The careless operator's indexer starts after them.
        const subject = Wallet.createRandom();
        for (const day of [1, 2, 3]) {
          await (
            await g.suite.trustA.mintForDeposit(subject.address, 100_000n, encodeBytes32String(`red-verify-${day}`))
          ).wait();
        }
        const skipFrom = (await g.provider.getBlockNumber()) + 1;
        await (await g.suite.trustA.mintForDeposit(subject.address, 1n, encodeBytes32String("red-verify-4"))).wait();
        const service = await g.start(undefined, ({ store, confirmations }) => {
          return new CertificateIndexer({
            provider: g.provider as unknown as IndexerProvider,
            store,
            contracts: { token: g.get("BankToken") },
            confirmations,
            fromBlock: skipFrom,
          });
        });
        try {
          const certificate = await issue(service, subject);
          // What the service published recomputes to what it attested: the checks on its own inputs pass...
          const { ok, checks } = await verifyCertificate(certificate.uid, certificate, g.chain, g.suite.deployments);
          const failed = checks.filter((c) => !c.ok).map((c) => c.check);
          expect(checks.find((c) => c.check === "features root")?.ok).to.equal(true);
          // ...but the chain at asOfBlock gives other features: verify must say so.
          expect(failed).to.deep.equal(["features from chain"]);
          expect(ok).to.equal(false);
        } finally {
          await service.stop();
        }
      } finally {
        g.remove();
      }
    });
  });
});
