/**
 * The X.509 twin (src/certificates/x509.ts), judged first by an outside client: Debian's `openssl` verifies the
 * chain, prints the profile and decodes the extension; then the API's own reading and its typed errors.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";
import { getBytes, hexlify, Wallet } from "ethers";

import {
  caip10,
  issuerCa,
  issueTwin,
  readTwin,
  secp256k1SpkiDer,
  serialOf,
  TRUST_CERTIFICATE_OID,
  verifyTwin,
  X509FieldInvalidError,
  X509IssuerMismatchError,
  X509KeyInvalidError,
  X509KeyNotOnCurveError,
  X509NotATwinError,
  X509SubjectMismatchError,
  X509UidInvalidError,
  X509ValidityInvalidError,
  type TwinCertificate,
} from "../../src/certificates/x509.js";
import { CA_PEM, EXAMPLE, TWIN_PEM } from "../../scripts/x509-example.js";

// ---- openssl, the outside client --------------------------------------------------------------------------

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs Debian's `openssl` (never throws on a non-zero exit: the tests judge the code). */
function openssl(args: readonly string[], input?: Buffer): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = execFile("openssl", args, { encoding: "buffer", timeout: 30_000 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== "number") {
        reject(error);
        return;
      }
      resolve({ code: error === null ? 0 : Number(error.code), stdout: stdout.toString(), stderr: stderr.toString() });
    });
    child.stdin?.end(input);
  });
}

/** The `asn1parse` lines below the first: `{ offset, type, value }`. */
function asn1Lines(text: string): Array<{ offset: number; type: string; value: string }> {
  return text
    .trim()
    .split("\n")
    .map((line) => {
      const match = /^\s*(\d+):d=\d+\s+hl=\s*\d+\s+l=\s*\d+\s+(?:prim|cons):\s+(.*?)\s*(?::(.*))?$/.exec(line);
      expect(match, `asn1parse line ${line}`).to.not.equal(null);
      // `OCTET STRING      [HEX DUMP]:0A0B…`: the marker goes, the hex stays the value.
      return { offset: Number(match![1]), type: match![2]!.replace("[HEX DUMP]", "").trim(), value: match![3] ?? "" };
    });
}

/** The DER of a PEM block. */
function pemBody(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
}

function toPem(der: Buffer, label = "CERTIFICATE"): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

// ---- fixtures ---------------------------------------------------------------------------------------------

const ISSUER = new Wallet("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
const USER = new Wallet("0x8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f");
const OTHER = new Wallet("0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
const NOT_BEFORE = new Date("2026-03-01T12:00:00Z");
const NOT_AFTER = new Date("2026-09-01T12:00:00Z");
const INSIDE = new Date("2026-06-01T00:00:00Z");
const CHAIN_ID = 31337n;
const UID = "0x9f1c4a7e2b3d5f60718293a4b5c6d7e8f9011223344556677889aabbccddeeff";

const CERTIFICATE: TwinCertificate = {
  uid: UID,
  subject: USER.address,
  level: 2,
  score: 4_294_967_295,
  modelId: "0x5f1a0e3c2d4b6a798877665544332211ffeeddccbbaa99887766554433221100",
  featuresRoot: "0xa1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
  asOfBlock: 18_446_744_073_709_551_615n,
  chainId: CHAIN_ID,
  eas: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
};

/** The secp256k1 generator G: the public key of private key 1 (SEC 2, section 2.4.1). */
const G_UNCOMPRESSED =
  "0x0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798" +
  "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";
const G_COMPRESSED = "0x0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";

async function expectReject(promise: Promise<unknown>, errorClass: new (...args: never[]) => Error): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(errorClass);
    return error as Error;
  }
  expect.fail(`expected ${errorClass.name}`);
}

describe("X.509 twin of a trust certificate", function () {
  let dir: string;
  let caPem: string;
  let twinPem: string;
  const file = (name: string, text: string | Buffer): string => {
    const at = path.join(dir, name);
    writeFileSync(at, text);
    return at;
  };

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "bank-chain-x509-"));
    const ca = await issuerCa({ issuerKey: ISSUER, chainId: CHAIN_ID, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
    caPem = ca.pem;
    twinPem = (
      await issueTwin({
        ca: ca.certificate,
        issuerKey: ISSUER.privateKey,
        subjectPublicKey: USER.signingKey.compressedPublicKey,
        certificate: CERTIFICATE,
        notBefore: NOT_BEFORE,
        notAfter: NOT_AFTER,
      })
    ).pem;
  });

  after(function () {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  describe("read by openssl", function () {
    it("verifies under the issuer CA (openssl verify)", async function () {
      const ran = await openssl([
        "verify",
        "-attime",
        String(INSIDE.getTime() / 1000),
        "-CAfile",
        file("ca.pem", caPem),
        file("twin.pem", twinPem),
      ]);
      expect(ran.code, ran.stderr).to.equal(0);
      expect(ran.stdout.trim()).to.equal(`${path.join(dir, "twin.pem")}: OK`);
    });

    it("shows the secp256k1 subject key, the issuer, the SAN, the key usages and the extension (x509 -text)", async function () {
      const ran = await openssl(["x509", "-in", file("twin.pem", twinPem), "-text", "-noout"]);
      expect(ran.code, ran.stderr).to.equal(0);
      const text = ran.stdout;
      expect(text).to.include("Version: 3 (0x2)");
      expect(text).to.include("Public Key Algorithm: id-ecPublicKey");
      expect(text).to.include("ASN1 OID: secp256k1");
      expect(text).to.include("Signature Algorithm: ecdsa-with-SHA256");
      expect(text).to.include(`Issuer: CN = bank-chain issuer ${ISSUER.address}`);
      expect(text).to.include(`Subject: CN = ${USER.address}`);
      expect(text).to.include("Not Before: Mar  1 12:00:00 2026 GMT");
      expect(text).to.include("Not After : Sep  1 12:00:00 2026 GMT");
      expect(text).to.match(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
      expect(text).to.match(/X509v3 Key Usage: critical\s+Digital Signature\n/);
      expect(text).to.match(/X509v3 Subject Alternative Name: \s*\n\s+URI:eip155:31337:0x[0-9a-fA-F]{40}\n/);
      expect(text).to.include(`URI:${caip10(CHAIN_ID, USER.address)}`);
      expect(text).to.match(/X509v3 Authority Key Identifier: \s*\n\s+([0-9A-F]{2}:){19}[0-9A-F]{2}/);
      // An extension openssl does not know: its OID, not critical, then its bytes.
      expect(text).to.include(`${TRUST_CERTIFICATE_OID}: \n`);
      expect(text).to.not.include(`${TRUST_CERTIFICATE_OID}: critical`);
      // The serial: 01 then the UID's first 19 bytes.
      const serial = /Serial Number:\s*\n\s+([0-9a-f:]+)/.exec(text)![1]!.replaceAll(":", "");
      expect(serial).to.equal(`01${UID.slice(2, 2 + 38)}`);
    });

    it("shows the CA as a CA whose SAN is the issuer's on-chain address", async function () {
      const ran = await openssl(["x509", "-in", file("ca.pem", caPem), "-text", "-noout"]);
      expect(ran.code, ran.stderr).to.equal(0);
      expect(ran.stdout).to.match(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
      expect(ran.stdout).to.match(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
      expect(ran.stdout).to.include("X509v3 Subject Key Identifier:");
      expect(ran.stdout).to.include(`URI:eip155:31337:${ISSUER.address}`);
      expect(ran.stdout).to.include("ASN1 OID: secp256k1");
      // The CA's key identifier is the twin's authority key identifier.
      const twin = await openssl(["x509", "-in", file("twin.pem", twinPem), "-text", "-noout"]);
      const ski = /X509v3 Subject Key Identifier: \s*\n\s+(\S+)/.exec(ran.stdout)![1]!;
      const aki = /X509v3 Authority Key Identifier: \s*\n\s+(\S+)/.exec(twin.stdout)![1]!;
      expect(aki).to.equal(ski);
    });

    it("decodes the extension's fields as written (asn1parse, known answer)", async function () {
      const twin = file("twin.pem", twinPem);
      const whole = await openssl(["asn1parse", "-in", twin]);
      expect(whole.code, whole.stderr).to.equal(0);
      const lines = asn1Lines(whole.stdout);
      const oidAt = lines.findIndex((line) => line.type === "OBJECT" && line.value === TRUST_CERTIFICATE_OID);
      expect(oidAt, "the extension's OID in asn1parse").to.be.greaterThan(0);
      const value = lines[oidAt + 1]!;
      expect(value.type, "not critical: no BOOLEAN between the OID and the value").to.equal("OCTET STRING");

      const inner = await openssl(["asn1parse", "-in", twin, "-strparse", String(value.offset)]);
      expect(inner.code, inner.stderr).to.equal(0);
      const fields = asn1Lines(inner.stdout);
      expect(fields[0]!.type).to.equal("SEQUENCE");
      const read = fields.slice(1).map(({ type, value: printed }) => {
        if (type === "INTEGER") return BigInt(`0x${printed}`);
        expect(type).to.equal("OCTET STRING");
        return `0x${printed.toLowerCase()}`;
      });
      expect(read).to.deep.equal([
        1n, // version
        CERTIFICATE.uid,
        BigInt(CERTIFICATE.level),
        BigInt(CERTIFICATE.score),
        CERTIFICATE.modelId,
        CERTIFICATE.featuresRoot,
        CERTIFICATE.asOfBlock,
        CERTIFICATE.chainId,
        CERTIFICATE.eas.toLowerCase(),
      ]);
    });

    it("sees the user's key as the subject public key (x509 -pubkey, back to the point)", async function () {
      const pubkey = await openssl(["x509", "-in", file("twin.pem", twinPem), "-pubkey", "-noout"]);
      expect(pubkey.code, pubkey.stderr).to.equal(0);
      const ec = await openssl(["ec", "-pubin", "-in", file("pub.pem", pubkey.stdout), "-text", "-noout"]);
      expect(ec.code, ec.stderr).to.equal(0);
      const point = /pub:\s*\n((?:\s+[0-9a-f:]+\n)+)/.exec(ec.stdout)![1]!.replace(/[\s:]/g, "");
      expect(`0x${point}`).to.equal(USER.signingKey.publicKey);
      expect(ec.stdout).to.include("ASN1 OID: secp256k1");
      // And the DER openssl holds is ours, byte for byte.
      expect(hexlify(pemBody(pubkey.stdout))).to.equal(hexlify(secp256k1SpkiDer(USER.signingKey.publicKey)));
    });

    it("encodes a published key's SPKI exactly as openssl does (known answer: G, the key of private key 1)", async function () {
      // ECPrivateKey { version 1, privateKey 1 (32 bytes), [0] secp256k1 }, built by openssl from a description;
      // no public key in it, so `openssl ec -pubout` computes G itself.
      const config = [
        "asn1 = SEQUENCE:ec_private_key",
        "[ec_private_key]",
        "version = INTEGER:1",
        `private_key = FORMAT:HEX,OCTETSTRING:${"00".repeat(31)}01`,
        "parameters = EXPLICIT:0,OID:secp256k1",
        "",
      ].join("\n");
      const built = await openssl([
        "asn1parse",
        "-genconf",
        file("key1.cnf", config),
        "-out",
        path.join(dir, "key1.der"),
        "-noout",
      ]);
      expect(built.code, built.stderr).to.equal(0);
      const key = path.join(dir, "key1.pem");
      const pem = await openssl(["ec", "-inform", "DER", "-in", path.join(dir, "key1.der"), "-out", key]);
      expect(pem.code, pem.stderr).to.equal(0);
      const spki = await openssl(["ec", "-in", key, "-pubout", "-outform", "DER", "-out", path.join(dir, "g.der")]);
      expect(spki.code, spki.stderr).to.equal(0);
      const parsed = await openssl(["asn1parse", "-inform", "DER", "-in", path.join(dir, "g.der")]);
      expect(parsed.stdout).to.include(":id-ecPublicKey");
      expect(parsed.stdout).to.include(":secp256k1");
      const opensslDer = hexlify(readFileSync(path.join(dir, "g.der")));
      expect(hexlify(secp256k1SpkiDer(G_UNCOMPRESSED))).to.equal(opensslDer);
      expect(hexlify(secp256k1SpkiDer(G_COMPRESSED))).to.equal(opensslDer);
      // The published point itself is in it, uncompressed, at the end (the BIT STRING's content).
      expect(opensslDer.endsWith(G_UNCOMPRESSED.slice(2))).to.equal(true);
    });
  });

  describe("attacks", function () {
    it("a twin signed by another key under a CA of the same name fails openssl verify and verifyTwin", async function () {
      // The forger copies the CA's name; only the key differs.
      const forgedCa = await issuerCa({
        issuerKey: OTHER,
        chainId: CHAIN_ID,
        name: `bank-chain issuer ${ISSUER.address}`,
        notBefore: NOT_BEFORE,
        notAfter: NOT_AFTER,
      });
      const forged = await issueTwin({
        ca: forgedCa.pem,
        issuerKey: OTHER,
        subjectPublicKey: USER.signingKey.publicKey,
        certificate: CERTIFICATE,
        notBefore: NOT_BEFORE,
        notAfter: NOT_AFTER,
      });
      const attime = String(INSIDE.getTime() / 1000);
      const ran = await openssl([
        "verify",
        "-attime",
        attime,
        "-CAfile",
        file("ca.pem", caPem),
        file("forged.pem", forged.pem),
      ]);
      expect(ran.code).to.not.equal(0);
      expect(ran.stdout + ran.stderr).to.match(/error \d+ at 0 depth lookup/);
      expect(await verifyTwin(forged.pem, caPem, INSIDE)).to.equal(false);
      // It is a well-formed twin under its own CA: the refusal is about the key.
      expect(await verifyTwin(forged.pem, forgedCa.pem, INSIDE)).to.equal(true);
    });

    // Offsets from the UID inside the extension: `04 20 <uid> 02 01 <level>`.
    for (const [what, offset] of [
      ["the UID's first byte", 0],
      ["the level", 32 + 2],
    ] as const) {
      it(`a twin with a byte of its extension flipped (${what}) fails openssl verify and verifyTwin`, async function () {
        const der = pemBody(twinPem);
        const uidAt = der.indexOf(Buffer.concat([Buffer.of(0x04, 0x20), getBytes(UID)]));
        expect(uidAt, "the UID's OCTET STRING in the DER").to.be.greaterThan(0);
        const at = uidAt + 2 + offset;
        if (what === "the level")
          expect(der.subarray(at - 2, at + 1)).to.deep.equal(Buffer.of(0x02, 0x01, CERTIFICATE.level));
        const tampered = Buffer.from(der);
        tampered[at] = tampered[at]! ^ 0x01;
        const tamperedPem = toPem(tampered);
        const ran = await openssl([
          "verify",
          "-attime",
          String(INSIDE.getTime() / 1000),
          "-CAfile",
          file("ca.pem", caPem),
          file("tampered.pem", tamperedPem),
        ]);
        expect(ran.code).to.not.equal(0);
        expect(ran.stdout + ran.stderr).to.include("certificate signature failure");
        expect(await verifyTwin(tamperedPem, caPem, INSIDE)).to.equal(false);
      });
    }

    it("a twin offered as its own CA does not verify", async function () {
      // The twin itself, offered as the CA: not a CA, not the issuer.
      expect(await verifyTwin(twinPem, twinPem, INSIDE)).to.equal(false);
    });

    it("a twin outside its validity (after the attestation's expirationTime) does not verify", async function () {
      expect(await verifyTwin(twinPem, caPem, INSIDE)).to.equal(true);
      expect(await verifyTwin(twinPem, caPem, new Date(NOT_AFTER.getTime() + 1000))).to.equal(false);
      expect(await verifyTwin(twinPem, caPem, new Date(NOT_BEFORE.getTime() - 1000))).to.equal(false);
      const ran = await openssl([
        "verify",
        "-attime",
        String(NOT_AFTER.getTime() / 1000 + 1),
        "-CAfile",
        file("ca.pem", caPem),
        file("twin.pem", twinPem),
      ]);
      expect(ran.stdout + ran.stderr).to.include("certificate has expired");
    });
  });

  describe("API", function () {
    it("readTwin returns what issueTwin was given, the key uncompressed", function () {
      expect(readTwin(twinPem)).to.deep.equal({
        uid: UID,
        subject: USER.address,
        subjectPublicKey: USER.signingKey.publicKey,
        level: CERTIFICATE.level,
        score: CERTIFICATE.score,
        modelId: CERTIFICATE.modelId,
        featuresRoot: CERTIFICATE.featuresRoot,
        asOfBlock: CERTIFICATE.asOfBlock,
        chainId: CHAIN_ID,
        eas: CERTIFICATE.eas,
        serialNumber: serialOf(UID),
        issuer: `CN=bank-chain issuer ${ISSUER.address}`,
        notBefore: NOT_BEFORE,
        notAfter: NOT_AFTER,
      });
    });

    it("takes the subject key compressed or uncompressed and the issuer key as hex or a Wallet, to the same twin", async function () {
      const ca = await issuerCa({
        issuerKey: ISSUER.privateKey,
        chainId: 1n,
        name: "Example Bank trust certificates",
        notBefore: NOT_BEFORE,
        notAfter: NOT_AFTER,
      });
      const certificate = {
        ...CERTIFICATE,
        uid: `0x${"00".repeat(31)}01`,
        level: 0,
        score: 0n,
        asOfBlock: 0n,
        chainId: 1n,
      };
      const uncompressed = await issueTwin({
        ca: ca.pem,
        issuerKey: ISSUER,
        subjectPublicKey: USER.signingKey.publicKey,
        certificate,
        notBefore: NOT_BEFORE,
        notAfter: NOT_AFTER,
      });
      const read = readTwin(uncompressed.pem);
      expect([
        read.subjectPublicKey,
        read.level,
        read.score,
        read.asOfBlock,
        read.chainId,
        read.serialNumber,
      ]).to.deep.equal([USER.signingKey.publicKey, 0, 0, 0n, 1n, `01${"00".repeat(19)}`]);
      expect(read.issuer).to.equal("CN=Example Bank trust certificates");
      expect(await verifyTwin(uncompressed.pem, ca.pem, INSIDE)).to.equal(true);
      expect(ca.certificate.subject).to.equal("CN=Example Bank trust certificates");
    });

    it("readTwin refuses a PEM that is not a twin with X509NotATwinError", function () {
      for (const pem of [caPem, "not a pem", toPem(Buffer.from("3003020101", "hex"))]) {
        expect(() => readTwin(pem), pem.slice(0, 30)).to.throw(X509NotATwinError);
      }
    });

    it("verifyTwin refuses a CA PEM that is not a certificate with X509NotATwinError", async function () {
      await expectReject(
        verifyTwin(twinPem, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        X509NotATwinError,
      );
      expect(await verifyTwin(caPem, caPem, INSIDE)).to.equal(false);
    });
  });

  describe("typed errors", function () {
    const twinOptions = (change: Record<string, unknown>) => ({
      ca: caPem,
      issuerKey: ISSUER.privateKey,
      subjectPublicKey: USER.signingKey.publicKey,
      certificate: CERTIFICATE,
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
      ...change,
    });

    it("a bad issuer key: X509KeyInvalidError, and the key is not in the error", async function () {
      const ORDER = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
      for (const issuerKey of [
        "0x1234",
        ISSUER.privateKey.slice(2),
        `0x${"00".repeat(32)}`,
        `0x${ORDER}`,
        `0x${"zz".repeat(32)}`,
      ]) {
        const error = await expectReject(
          issuerCa({ issuerKey, chainId: CHAIN_ID, notBefore: NOT_BEFORE, notAfter: NOT_AFTER }),
          X509KeyInvalidError,
        );
        expect((error as X509KeyInvalidError).code).to.equal("CERT_X509_KEY_INVALID");
        expect(JSON.stringify(error)).to.not.include(issuerKey.replace(/^0x/, ""));
        await expectReject(issueTwin(twinOptions({ issuerKey })), X509KeyInvalidError);
      }
    });

    it("a subject key of the wrong length or SEC 1 prefix: X509KeyInvalidError", async function () {
      const key = USER.signingKey.publicKey;
      for (const subjectPublicKey of [
        key.slice(0, 66),
        `${key}00`,
        `0x05${key.slice(4)}`,
        `0x04${G_COMPRESSED.slice(4)}`,
        "0x",
        "nothex",
      ]) {
        await expectReject(issueTwin(twinOptions({ subjectPublicKey })), X509KeyInvalidError);
      }
      expect(() => secp256k1SpkiDer(`0x02${"00".repeat(31)}`)).to.throw(X509KeyInvalidError);
    });

    it("a subject key that is not on the curve: X509KeyNotOnCurveError", async function () {
      const key = USER.signingKey.publicKey;
      const badY = `${key.slice(0, -2)}${((parseInt(key.slice(-2), 16) + 1) % 256).toString(16).padStart(2, "0")}`;
      // x = 5: 5^3 + 7 = 132 is not a square mod p, so no point has it.
      const noPoint = `0x02${"00".repeat(31)}05`;
      for (const subjectPublicKey of [badY, noPoint]) {
        const error = await expectReject(issueTwin(twinOptions({ subjectPublicKey })), X509KeyNotOnCurveError);
        expect((error as X509KeyNotOnCurveError).code).to.equal("CERT_X509_KEY_NOT_ON_CURVE");
      }
    });

    it("a UID that is not 32 bytes: X509UidInvalidError", async function () {
      for (const uid of [UID.slice(0, -2), `${UID}00`, UID.slice(2), `0x${"g".repeat(64)}`]) {
        const error = await expectReject(
          issueTwin(twinOptions({ certificate: { ...CERTIFICATE, uid } })),
          X509UidInvalidError,
        );
        expect((error as X509UidInvalidError).code).to.equal("CERT_X509_UID_INVALID");
      }
      expect(() => serialOf("0x01")).to.throw(X509UidInvalidError);
    });

    it("notAfter at or before notBefore, or not a date: X509ValidityInvalidError", async function () {
      for (const [notBefore, notAfter] of [
        [NOT_BEFORE, NOT_BEFORE],
        [NOT_AFTER, NOT_BEFORE],
        // Within the same second: X.509 keeps whole seconds.
        [NOT_BEFORE, new Date(NOT_BEFORE.getTime() + 999)],
        [new Date(Number.NaN), NOT_AFTER],
      ] as const) {
        const error = await expectReject(
          issuerCa({ issuerKey: ISSUER, chainId: CHAIN_ID, notBefore, notAfter }),
          X509ValidityInvalidError,
        );
        expect((error as X509ValidityInvalidError).code).to.equal("CERT_X509_VALIDITY_INVALID");
        await expectReject(issueTwin(twinOptions({ notBefore, notAfter })), X509ValidityInvalidError);
      }
    });

    it("an issuer key that is not the CA's: X509IssuerMismatchError", async function () {
      await expectReject(issueTwin(twinOptions({ issuerKey: OTHER.privateKey })), X509IssuerMismatchError);
    });

    it("a subject that is not the address of the subject key: X509SubjectMismatchError", async function () {
      await expectReject(
        issueTwin(twinOptions({ certificate: { ...CERTIFICATE, subject: OTHER.address } })),
        X509SubjectMismatchError,
      );
    });

    it("a field out of range: X509FieldInvalidError naming it", async function () {
      for (const [field, change] of [
        ["certificate.level", { level: 256 }],
        ["certificate.level", { level: 1.5 }],
        ["certificate.score", { score: 2n ** 32n }],
        ["certificate.score", { score: -1 }],
        ["certificate.asOfBlock", { asOfBlock: 2n ** 64n }],
        ["certificate.modelId", { modelId: "0x1234" }],
        ["certificate.featuresRoot", { featuresRoot: `${CERTIFICATE.featuresRoot}00` }],
        ["certificate.subject", { subject: "0x1234" }],
        ["certificate.eas", { eas: "eas" }],
        ["chainId", { chainId: 0n }],
      ] as const) {
        const error = await expectReject(
          issueTwin(twinOptions({ certificate: { ...CERTIFICATE, ...change } })),
          X509FieldInvalidError,
        );
        expect(
          (error as X509FieldInvalidError).details["field"],
          JSON.stringify(change, (_, v) => String(v)),
        ).to.equal(field);
      }
      const error = await expectReject(
        issuerCa({
          issuerKey: ISSUER,
          chainId: CHAIN_ID,
          name: "x".repeat(65),
          notBefore: NOT_BEFORE,
          notAfter: NOT_AFTER,
        }),
        X509FieldInvalidError,
      );
      expect((error as X509FieldInvalidError).details["field"]).to.equal("name");
    });
  });

  describe("the example in docs/x509 (docs/certificates.md runs openssl on it)", function () {
    it("says exactly the example's inputs and verifies under its CA", async function () {
      const twin = readFileSync(TWIN_PEM, "utf8");
      const ca = readFileSync(CA_PEM, "utf8");
      const read = readTwin(twin);
      expect(read).to.deep.include({
        ...EXAMPLE.certificate,
        subjectPublicKey: EXAMPLE.subjectPublicKey,
        issuer: `CN=bank-chain issuer ${EXAMPLE.issuerAddress}`,
        notBefore: EXAMPLE.notBefore,
        notAfter: EXAMPLE.notAfter,
      });
      expect(await verifyTwin(twin, ca, new Date("2030-01-01T00:00:00Z"))).to.equal(true);
      const text = await openssl(["x509", "-in", fileURLToPath(CA_PEM), "-noout", "-text"]);
      expect(text.stdout).to.include(`URI:eip155:31337:${EXAMPLE.issuerAddress}`);
    });
  });
});
