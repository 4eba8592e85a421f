import { expect } from "chai";
import { encodeBytes32String, Signature, Wallet, type BaseWallet } from "ethers";

import { parseFeatures } from "../../src/certificates/features.js";
import { defaultModel, modelContentHash, modelIdOf, modelToJson } from "../../src/certificates/model.js";
import { readTwin, verifyTwin } from "../../src/certificates/x509.js";
import { easAt } from "../../src/certificates/eas.js";
import { certificateDomain } from "../../src/certificates/pop.js";
import { featuresRoot, score } from "../../src/certificates/score.js";
import { CertificateResolver__factory, ScoringModelRegistry__factory } from "../../typechain-types/index.js";
import { call } from "../helpers/http.js";
import {
  certificatesFixture,
  decodeCertificate,
  signedRequest,
  signedRevocation,
  type ServiceUnderTest,
} from "./service-helpers.js";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

describe("certificates: the issuing service", function () {
  this.timeout(180_000);

  // A merchant with a history (three deposits from bank A, an hour apart) and a stranger.
  const merchant = Wallet.createRandom();
  const stranger = Wallet.createRandom();
  let f: Awaited<ReturnType<typeof certificatesFixture>>;
  let service: ServiceUnderTest;

  async function challenge() {
    await service.indexer.poll();
    const reply = await call(`${service.url}/challenge`);
    expect(reply.status).to.equal(200);
    return reply.body as {
      nonce: string;
      domain: { name: string; version: string; chainId: string; verifyingContract: string };
    };
  }

  async function attestedCount(recipient: string): Promise<number> {
    return easAt(f.get("EAS"), f.provider).attestedCount(recipient);
  }

  async function issue(key: BaseWallet = merchant): Promise<any> {
    const reply = await call(`${service.url}/certificates`, "POST", await signedRequest(key, await challenge()));
    expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
    return reply.body;
  }

  /** A refused request changes nothing: no attestation, and the same challenge still serves the key's own request. */
  async function refusedThenAccepted(
    bad: (c: Awaited<ReturnType<typeof challenge>>) => Promise<Record<string, unknown>>,
    status: number,
    code: string,
  ): Promise<void> {
    const c = await challenge();
    const before = await attestedCount(merchant.address);
    const reply = await call(`${service.url}/certificates`, "POST", await bad(c));
    expect(reply.status, JSON.stringify(reply.body)).to.equal(status);
    expect(reply.body.error.code).to.equal(code);
    expect(await attestedCount(merchant.address)).to.equal(before);
    const good = await call(`${service.url}/certificates`, "POST", await signedRequest(merchant, c));
    expect(good.status, JSON.stringify(good.body)).to.equal(201);
  }

  before(async function () {
    f = await certificatesFixture();
    for (const day of [1, 2, 3]) {
      await (
        await f.suite.trustA.mintForDeposit(merchant.address, 250_000n * BigInt(day), encodeBytes32String(`svc-${day}`))
      ).wait();
      await f.suite.networkHelpers.time.increase(3_600);
    }
    service = await f.start();
  });

  after(async function () {
    await service?.stop();
    f?.remove();
  });

  describe("attacks", function () {
    it("a signature by another key is refused (403 CERT_WRONG_SIGNER) and changes nothing", async function () {
      await refusedThenAccepted((c) => signedRequest(merchant, c, { signer: stranger }), 403, "CERT_WRONG_SIGNER");
    });

    it("a challenge signed for another chain id or another issuer's domain is refused", async function () {
      await refusedThenAccepted(
        (c) => signedRequest(merchant, c, { domain: { ...c.domain, chainId: 1n } }),
        403,
        "CERT_WRONG_SIGNER",
      );
      await refusedThenAccepted(
        (c) =>
          signedRequest(merchant, c, {
            domain: certificateDomain(31337n, "0x000000000000000000000000000000000000beef"),
          }),
        403,
        "CERT_WRONG_SIGNER",
      );
    });

    it("a high-s signature is refused (400 CERT_HIGH_S_SIGNATURE)", async function () {
      await refusedThenAccepted(
        async (c) => {
          const body = await signedRequest(merchant, c);
          const sig = Signature.from(body.signature as string);
          const s = (N - BigInt(sig.s)).toString(16).padStart(64, "0");
          return { ...body, signature: `${sig.r}${s}${sig.v === 27 ? "1c" : "1b"}` };
        },
        400,
        "CERT_HIGH_S_SIGNATURE",
      );
    });

    it("a malformed key is refused (400 CERT_BAD_PUBLIC_KEY)", async function () {
      await refusedThenAccepted(
        async (c) => ({ ...(await signedRequest(merchant, c)), publicKey: `0x05${"11".repeat(32)}` }),
        400,
        "CERT_BAD_PUBLIC_KEY",
      );
    });

    it("a subject other than the key's address is refused (422 CERT_SUBJECT_NOT_OF_KEY)", async function () {
      await refusedThenAccepted(
        (c) => signedRequest(merchant, c, { subject: stranger.address }),
        422,
        "CERT_SUBJECT_NOT_OF_KEY",
      );
    });

    it("a replayed challenge is refused (409 CERT_CHALLENGE_USED)", async function () {
      const body = await signedRequest(merchant, await challenge());
      expect((await call(`${service.url}/certificates`, "POST", body)).status).to.equal(201);
      const before = await attestedCount(merchant.address);
      const replay = await call(`${service.url}/certificates`, "POST", body);
      expect(replay.status).to.equal(409);
      expect(replay.body.error.code).to.equal("CERT_CHALLENGE_USED");
      expect(await attestedCount(merchant.address)).to.equal(before);
    });

    it("an expired challenge is refused (410 CERT_CHALLENGE_EXPIRED)", async function () {
      const body = await signedRequest(merchant, await challenge());
      f.advance(300_001);
      const reply = await call(`${service.url}/certificates`, "POST", body);
      expect(reply.status).to.equal(410);
      expect(reply.body.error.code).to.equal("CERT_CHALLENGE_EXPIRED");
    });

    it("a nonce this service never gave out is refused (400 CERT_UNKNOWN_CHALLENGE)", async function () {
      const c = await challenge();
      const reply = await call(
        `${service.url}/certificates`,
        "POST",
        await signedRequest(merchant, { ...c, nonce: `0x${"ab".repeat(32)}` }),
      );
      expect(reply.status).to.equal(400);
      expect(reply.body.error.code).to.equal("CERT_UNKNOWN_CHALLENGE");
    });

    it("a stranger cannot revoke the subject's certificate (403); it stays valid", async function () {
      const certificate = await issue();
      const reply = await call(
        `${service.url}/certificates/${certificate.uid}/revoke`,
        "POST",
        await signedRevocation(stranger, certificate.uid, await challenge()),
      );
      expect(reply.status).to.equal(403);
      expect(reply.body.error.code).to.equal("CERT_WRONG_SIGNER");
      expect((await call(`${service.url}/certificates/${certificate.uid}`)).body.status).to.equal("Valid");
    });

    it("after its subject revokes it, the certificate is invalid; a second revocation is 409", async function () {
      const certificate = await issue();
      const reply = await call(
        `${service.url}/certificates/${certificate.uid}/revoke`,
        "POST",
        await signedRevocation(merchant, certificate.uid, await challenge()),
      );
      expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
      expect(reply.body).to.include({ kind: "revoke", state: "done", uid: certificate.uid });
      const shown = await call(`${service.url}/certificates/${certificate.uid}`);
      expect(shown.body).to.include({ status: "Revoked", valid: false });
      expect(shown.body.attestation.revocationTime).to.not.equal("0");
      const again = await call(
        `${service.url}/certificates/${certificate.uid}/revoke`,
        "POST",
        await signedRevocation(merchant, certificate.uid, await challenge()),
      );
      expect(again.status).to.equal(409);
      expect(again.body.error.code).to.equal("CERT_ALREADY_REVOKED");
    });

    it("a reissue replaces the subject's valid certificate: the old one is Replaced, the new one refers to it", async function () {
      const first = await issue();
      const second = await issue();
      expect(second.attestation.refUID).to.equal(first.uid);
      const old = await call(`${service.url}/certificates/${first.uid}`);
      expect(old.body).to.include({ status: "Replaced", valid: false });
      expect(old.body.attestation.replacedBy).to.equal(second.uid);
      expect(second.status).to.equal("Valid");
    });

    it("a restart between attest and store finishes the request without a second attestation", async function () {
      await service.stop();
      let crashed = false;
      service = await f.start((point) => {
        if (point === "attest:sent" && !crashed) {
          crashed = true;
          throw new Error("crash after the attestation was broadcast");
        }
      });
      const before = await attestedCount(merchant.address);
      const reply = await call(`${service.url}/certificates`, "POST", await signedRequest(merchant, await challenge()));
      expect(reply.status).to.equal(503);
      expect(reply.body.error.code).to.equal("CERT_REQUEST_PENDING");
      expect(await attestedCount(merchant.address)).to.equal(before + 1);
      const id = /GET \/requests\/(0x[0-9a-f]{32})/.exec(reply.body.error.message)![1]!;
      await service.stop();
      service = await f.start();
      const request = await call(`${service.url}/requests/${id}`);
      expect(request.body).to.include({ kind: "issue", state: "done" });
      expect(await attestedCount(merchant.address)).to.equal(before + 1);
      const shown = await call(`${service.url}/certificates/${request.body.uid}`);
      expect(shown.body.status).to.equal("Valid");
    });

    it("a restart after signing but before broadcasting sends the stored transaction once", async function () {
      await service.stop();
      let crashed = false;
      service = await f.start((point) => {
        if (point === "attest:signed" && !crashed) {
          crashed = true;
          throw new Error("crash before broadcasting");
        }
      });
      const before = await attestedCount(merchant.address);
      const reply = await call(`${service.url}/certificates`, "POST", await signedRequest(merchant, await challenge()));
      expect(reply.status).to.equal(503);
      expect(await attestedCount(merchant.address)).to.equal(before);
      await service.stop();
      service = await f.start();
      expect(await attestedCount(merchant.address)).to.equal(before + 1);
    });

    it("a signed transaction whose nonce went to another is signed again after a restart, and lands once", async function () {
      await service.stop();
      let crashed = false;
      service = await f.start((point) => {
        if (point === "attest:signed" && !crashed) {
          crashed = true;
          throw new Error("crash before broadcasting");
        }
      });
      const before = await attestedCount(merchant.address);
      const reply = await call(`${service.url}/certificates`, "POST", await signedRequest(merchant, await challenge()));
      expect(reply.status).to.equal(503);
      const id = /GET \/requests\/(0x[0-9a-f]{32})/.exec(reply.body.error.message)![1]!;
      const stored = (await call(`${service.url}/requests/${id}`)).body;
      expect(stored.state).to.equal("sent");
      // The operator uses the issuer's key meanwhile: the stored transaction's nonce is taken.
      await (await f.signer.sendTransaction({ to: f.signer.address, value: 0n })).wait();
      await service.stop();
      service = await f.start();
      const done = (await call(`${service.url}/requests/${id}`)).body;
      expect(done.state).to.equal("done");
      expect(done.txHash).to.not.equal(stored.txHash);
      expect(await attestedCount(merchant.address)).to.equal(before + 1);
    });

    it("a request accepted before a crash, whose issuer lost its role meanwhile, fails with the chain's reason", async function () {
      await service.stop();
      let lastId = "";
      service = await f.start((point, id) => {
        if (point === "issue:accepted") {
          lastId = id;
          throw new Error("crash after accepting");
        }
      });
      const before = await attestedCount(merchant.address);
      const reply = await call(`${service.url}/certificates`, "POST", await signedRequest(merchant, await challenge()));
      expect(reply.status).to.equal(500);
      await service.stop();
      const resolver = CertificateResolver__factory.connect(f.get("CertificateResolver"), f.suite.accounts.admin);
      await (await resolver.revokeRole(await resolver.ISSUER_ROLE(), f.signer.address)).wait();
      try {
        service = await f.start();
        const failed = (await call(`${service.url}/requests/${lastId}`)).body;
        expect(failed.state).to.equal("failed");
        expect(failed.error).to.include("CertificateResolverUnauthorizedIssuer");
        expect(failed.txHash).to.equal(null);
        expect(await attestedCount(merchant.address)).to.equal(before);
      } finally {
        await (await resolver.grantRole(await resolver.ISSUER_ROLE(), f.signer.address)).wait();
      }
    });

    it("a de-authorized issuer's certificates turn invalid (IssuerNotAuthorized), and it issues no more (503)", async function () {
      const certificate = await issue();
      const resolver = CertificateResolver__factory.connect(f.get("CertificateResolver"), f.suite.accounts.admin);
      await (await resolver.revokeRole(await resolver.ISSUER_ROLE(), f.signer.address)).wait();
      try {
        const shown = await call(`${service.url}/certificates/${certificate.uid}`);
        expect(shown.body).to.include({ status: "IssuerNotAuthorized", valid: false });
        const refused = await call(
          `${service.url}/certificates`,
          "POST",
          await signedRequest(merchant, await challenge()),
        );
        expect(refused.status).to.equal(503);
        expect(refused.body.error.code).to.equal("CERT_ISSUER_NOT_AUTHORIZED");
      } finally {
        await (await resolver.grantRole(await resolver.ISSUER_ROLE(), f.signer.address)).wait();
      }
      // Granting the role again does not revive the old certificate.
      expect((await call(`${service.url}/certificates/${certificate.uid}`)).body.status).to.equal(
        "IssuerNotAuthorized",
      );
    });
  });

  describe("issuing", function () {
    it("issues the level the model gives to the indexed history, recomputable, attested as certIssuer, with its X.509 twin", async function () {
      const certificate = await issue();
      const model = defaultModel();
      const asOfBlock = certificate.recompute.asOfBlock as number;
      const key = merchant.signingKey.publicKey;
      // The indexer's own answer for the key at that block: what the service scored.
      const addresses = service.indexer.addressesOfKey(key, asOfBlock);
      const indexed = service.indexer.featuresOf(addresses, asOfBlock);
      expect(indexed.txCountIn).to.equal(3n);
      expect(indexed.volumeToken).to.equal(1_500_000n);
      const expected = score(indexed, model);
      expect(certificate).to.include({ status: "Valid", valid: true, level: expected.level, score: expected.score });
      expect(certificate.recompute.addresses).to.deep.equal(addresses);
      expect(parseFeatures(certificate.recompute.features)).to.deep.equal(indexed);
      expect(certificate.subject).to.equal(merchant.address);
      expect(certificate.attestation.attester).to.equal(f.signer.address);
      expect(certificate.attestation.recipient).to.equal(merchant.address);
      const onChain = decodeCertificate(certificate.attestation.data);
      expect(onChain.subject).to.equal(merchant.address);
      expect(Number(onChain.level)).to.equal(expected.levelIndex);
      expect(Number(onChain.score)).to.equal(expected.score);
      expect(onChain.modelId).to.equal(modelIdOf(model));
      expect(onChain.featuresRoot).to.equal(featuresRoot(indexed));
      expect(Number(onChain.asOfBlock)).to.equal(asOfBlock);
      expect(certificate.recompute.model).to.deep.equal({
        modelId: modelIdOf(model),
        contentHash: modelContentHash(model),
        json: modelToJson(model),
      });
      const expires = Number(certificate.attestation.expirationTime) - Number(certificate.attestation.time);
      expect(expires).to.be.within(30 * 24 * 3600 - 5, 30 * 24 * 3600);
      // The twin: signed by the issuer CA, carrying the same certificate.
      const attestedAt = new Date((Number(certificate.attestation.time) + 1) * 1000);
      expect(await verifyTwin(certificate.x509.twin, certificate.x509.issuerCa, attestedAt)).to.equal(true);
      const twin = readTwin(certificate.x509.twin);
      expect(twin).to.include({ uid: certificate.uid, subject: merchant.address, level: expected.levelIndex });
      expect(twin.subjectPublicKey).to.equal(key);
    });

    it("a fresh address gets NONE", async function () {
      const fresh = Wallet.createRandom();
      const certificate = await issue(fresh);
      expect(certificate).to.include({ level: "NONE", score: 0 });
    });

    it("a certificate past its expirationTime is invalid (Expired)", async function () {
      const certificate = await issue();
      await f.suite.networkHelpers.time.increaseTo(Number(certificate.attestation.expirationTime));
      const shown = await call(`${service.url}/certificates/${certificate.uid}`);
      expect(shown.body).to.include({ status: "Expired", valid: false });
    });

    it("a retired model's certificates turn invalid (ModelNotActive), and no more are issued (503)", async function () {
      const certificate = await issue();
      const registry = ScoringModelRegistry__factory.connect(
        f.get("ScoringModelRegistry"),
        f.suite.accounts.schemeAdmin,
      );
      await (await registry.retireModel(modelIdOf(defaultModel()))).wait();
      const shown = await call(`${service.url}/certificates/${certificate.uid}`);
      expect(shown.body).to.include({ status: "ModelNotActive", valid: false });
      const refused = await call(
        `${service.url}/certificates`,
        "POST",
        await signedRequest(merchant, await challenge()),
      );
      expect(refused.status).to.equal(503);
      expect(refused.body.error.code).to.equal("CERT_MODEL_NOT_ACTIVE");
    });
  });
});
