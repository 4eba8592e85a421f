/**
 * An outside client of the certificates: the Ethereum Attestation Service's own TypeScript SDK
 * (`@ethereum-attestation-service/eas-sdk` 2.10.0), which knows nothing of bank-chain, against the suite as the
 * deploy leaves it. What it attests (directly, or by a delegated signature a stranger relays) our verifier judges;
 * what our contracts wrote it reads back.
 *
 * The SDK's ESM build fails to import lodash under Node, so it is loaded as CommonJS.
 */
import { createRequire } from "node:module";

import { expect } from "chai";
import { getAddress, id, Interface, ZeroHash, type Signer } from "ethers";

import { CERTIFICATES } from "../../deploy/_config.js";
import { defaultModel, modelIdOf } from "../../src/certificates/model.js";
import { CERTIFICATE_SCHEMA } from "../../src/certificates/schema.js";
import {
  CertificateResolver__factory,
  CertificateVerifier__factory,
  type CertificateResolver,
  type CertificateVerifier,
} from "../../typechain-types/index.js";
import { deploySuite, dutyAddressesOf, type Suite } from "../helpers/suite.js";

type EasSdk = typeof import("@ethereum-attestation-service/eas-sdk");
const sdk = createRequire(import.meta.url)("@ethereum-attestation-service/eas-sdk") as EasSdk;

/** `ICertificateVerifier.CertificateStatus.Valid`. */
const VALID = 0n;

describe("certificates: an outside client, the EAS SDK", function () {
  let suite: Suite;
  let issuer: Signer;
  let stranger: Signer;
  let subject: string;
  let schemaUid: string;
  let resolver: CertificateResolver;
  let verifier: CertificateVerifier;
  let eas: InstanceType<EasSdk["EAS"]>;
  const encoder = new sdk.SchemaEncoder(CERTIFICATE_SCHEMA);
  const modelId = modelIdOf(defaultModel());

  before(async function () {
    suite = await deploySuite();
    const duties = await dutyAddressesOf(suite);
    issuer = await suite.ethers.getSigner(duties.get("certIssuer")!);
    stranger = suite.others[1]!;
    subject = getAddress(suite.others[0]!.address);
    resolver = CertificateResolver__factory.connect(
      suite.deployments.get("CertificateResolver").address,
      suite.ethers.provider,
    );
    verifier = CertificateVerifier__factory.connect(
      suite.deployments.get("CertificateVerifier").address,
      suite.ethers.provider,
    );
    schemaUid = await resolver.schemaUID();
    eas = new sdk.EAS(suite.deployments.get("EAS").address);
  });

  after(async function () {
    await suite?.connection.close();
  });

  /** A certificate's fields, encoded by the SDK for the schema string. */
  async function certificate(level: number, score: number) {
    const asOfBlock = BigInt((await suite.ethers.provider.getBlockNumber()) - 1);
    const fields = { subject, level, score, modelId, featuresRoot: id(`features ${level} ${score}`), asOfBlock };
    const data = encoder.encodeData([
      { name: "subject", type: "address", value: fields.subject },
      { name: "level", type: "uint8", value: fields.level },
      { name: "score", type: "uint32", value: fields.score },
      { name: "modelId", type: "bytes32", value: fields.modelId },
      { name: "featuresRoot", type: "bytes32", value: fields.featuresRoot },
      { name: "asOfBlock", type: "uint64", value: fields.asOfBlock },
    ]);
    const now = BigInt((await suite.ethers.provider.getBlock("latest"))!.timestamp);
    return { fields, data, expirationTime: now + BigInt(CERTIFICATES.maxValidity) / 2n };
  }

  const expectValidCertificate = async (uid: string, fields: Awaited<ReturnType<typeof certificate>>["fields"]) => {
    expect(await verifier.statusOf(uid)).to.equal(VALID);
    expect(await verifier.isValid(uid)).to.equal(true);
    const decoded = await verifier.certificateOf(uid);
    expect(decoded.subject).to.equal(fields.subject);
    expect(decoded.level).to.equal(BigInt(fields.level));
    expect(decoded.score).to.equal(BigInt(fields.score));
    expect(decoded.modelId).to.equal(fields.modelId);
    expect(decoded.featuresRoot).to.equal(fields.featuresRoot);
    expect(decoded.asOfBlock).to.equal(fields.asOfBlock);
  };

  it("reads our schema string, resolver and revocability with the SDK's SchemaRegistry.getSchema", async function () {
    const registry = new sdk.SchemaRegistry(suite.deployments.get("SchemaRegistry").address);
    registry.connect(suite.ethers.provider);
    const record = await registry.getSchema({ uid: schemaUid });
    expect(record.schema).to.equal(CERTIFICATE_SCHEMA);
    expect(record.resolver).to.equal(await resolver.getAddress());
    expect(record.revocable).to.equal(true);
    expect(sdk.SchemaRegistry.getSchemaUID(CERTIFICATE_SCHEMA, await resolver.getAddress(), true)).to.equal(schemaUid);
  });

  it("attests a certificate with the SDK (certIssuer): our verifier says Valid and decodes the same fields", async function () {
    const { fields, data, expirationTime } = await certificate(2, 512);
    eas.connect(issuer);
    const tx = await eas.attest({
      schema: schemaUid,
      data: { recipient: subject, expirationTime, revocable: true, refUID: ZeroHash, data },
    });
    const uid = await tx.wait();
    await expectValidCertificate(uid, fields);

    // The SDK reads back what our contracts wrote, and decodes it with the schema string.
    eas.connect(suite.ethers.provider);
    const attestation = await eas.getAttestation(uid);
    expect(attestation.uid).to.equal(uid);
    expect(attestation.schema).to.equal(schemaUid);
    expect(attestation.attester).to.equal(await issuer.getAddress());
    expect(attestation.recipient).to.equal(subject);
    expect(attestation.revocable).to.equal(true);
    expect(attestation.expirationTime).to.equal(expirationTime);
    expect(attestation.revocationTime).to.equal(0n);
    expect(attestation.data).to.equal(data);
    const decoded = Object.fromEntries(
      encoder.decodeData(attestation.data).map((item) => [item.name, item.value.value]),
    );
    expect(decoded).to.deep.equal({
      subject: fields.subject,
      level: BigInt(fields.level),
      score: BigInt(fields.score),
      modelId: fields.modelId,
      featuresRoot: fields.featuresRoot,
      asOfBlock: fields.asOfBlock,
    });
    expect(await eas.isAttestationValid(uid)).to.equal(true);
  });

  /** An SDK delegated attestation of `fields`, signed by `signer`. */
  async function delegated(signer: Signer, cert: Awaited<ReturnType<typeof certificate>>) {
    eas.connect(suite.ethers.provider);
    const delegation = await eas.getDelegated();
    const attester = await signer.getAddress();
    const deadline = cert.expirationTime;
    const request = {
      schema: schemaUid,
      recipient: subject,
      expirationTime: cert.expirationTime,
      revocable: true,
      refUID: ZeroHash,
      data: cert.data,
      value: 0n,
      deadline,
      nonce: await eas.getNonce(attester),
    };
    const response = await delegation.signDelegatedAttestation(request, signer as never);
    expect(delegation.verifyDelegatedAttestationSignature(attester, response)).to.equal(true);
    return {
      schema: schemaUid,
      data: {
        recipient: subject,
        expirationTime: cert.expirationTime,
        revocable: true,
        refUID: ZeroHash,
        data: cert.data,
      },
      signature: response.signature,
      attester,
      deadline,
    };
  }

  it("accepts an SDK delegated attestation signed by certIssuer and relayed by a stranger: the attester is certIssuer", async function () {
    const cert = await certificate(3, 801);
    const request = await delegated(issuer, cert);
    eas.connect(stranger);
    const uid = await (await eas.attestByDelegation(request)).wait();
    await expectValidCertificate(uid, cert.fields);
    expect((await eas.getAttestation(uid)).attester).to.equal(await issuer.getAddress());
  });

  it("refuses a delegated attestation signed by a stranger, whoever relays it: CertificateResolverUnauthorizedIssuer", async function () {
    const cert = await certificate(3, 801);
    const request = await delegated(stranger, cert);
    eas.connect(issuer);
    const refused = await eas
      .attestByDelegation(request)
      .then((tx) => tx.wait())
      .then(
        () => undefined,
        (error: unknown) => error as { data?: string },
      );
    expect(refused, "the stranger's certificate was accepted").to.not.equal(undefined);
    const reason = resolver.interface.parseError(refused!.data!);
    expect(reason?.name).to.equal("CertificateResolverUnauthorizedIssuer");
    expect(reason?.args[0]).to.equal(await stranger.getAddress());
  });

  it("refuses a certIssuer signature a relayer altered (a higher level): EAS's InvalidSignature, and the signed one still stands", async function () {
    const cert = await certificate(1, 250);
    const request = await delegated(issuer, cert);
    const forged = (await certificate(3, 999)).data;
    eas.connect(stranger);
    const refused = await eas
      .attestByDelegation({ ...request, data: { ...request.data, data: forged } })
      .then((tx) => tx.wait())
      .then(
        () => undefined,
        (error: unknown) => error as { data?: string },
      );
    expect(refused, "the altered certificate was accepted").to.not.equal(undefined);
    const easInterface = new Interface(suite.deployments.get("EAS").abi);
    expect(easInterface.parseError(refused!.data!)?.name).to.equal("InvalidSignature");
    // The signature was not spent: the request as certIssuer signed it still goes through, at the level it signed.
    const uid = await (await eas.attestByDelegation(request)).wait();
    await expectValidCertificate(uid, cert.fields);
  });
});
