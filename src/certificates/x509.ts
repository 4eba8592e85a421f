/**
 * The X.509 twin of a trust certificate: the same certificate as an X.509 v3 end-entity certificate, for systems
 * that only speak PKI (profile: docs/certificates.md, "X.509 twin").
 *
 * - The issuer CA is self-signed with the issuer's secp256k1 key, the key that attests the certificates on chain
 *   (duty `certIssuer`); its subjectAltName URI `eip155:<chainId>:<issuer address>` ties it to that address.
 * - A twin's subject public key is the user's secp256k1 key; it is signed ECDSA-with-SHA256 by the issuer key and
 *   carries the attestation in a non-critical extension (`TRUST_CERTIFICATE_OID`, DER `TrustCertificateInfo`).
 *
 * The DER is written by `@peculiar/x509` and `@peculiar/asn1-schema` (with `@peculiar/asn1-x509` and
 * `@peculiar/asn1-ecc`), the signatures by `@peculiar/webcrypto` (Node's own WebCrypto has no secp256k1, the
 * library's `K-256` signs through `node:crypto`, i.e. OpenSSL), the curve arithmetic by `@noble/curves`. A twin
 * says what the issuer attested when it issued it; whether the attestation is still valid (revoked, replaced,
 * issuer de-authorized, model retired) is `CertificateVerifier.isValid(uid)` on chain, found by the UID inside.
 */
import "reflect-metadata";

import type { webcrypto } from "node:crypto";

import {
  AsnArray,
  AsnConvert,
  AsnIntegerBigIntConverter,
  AsnProp,
  AsnPropTypes,
  AsnType,
  AsnTypeTypes,
  OctetString,
} from "@peculiar/asn1-schema";
import { ECParameters, ecdsaWithSHA256, id_ecPublicKey } from "@peculiar/asn1-ecc";
import * as asn1x509 from "@peculiar/asn1-x509";
import { Crypto } from "@peculiar/webcrypto";
import {
  AsnEcSignatureFormatter,
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  Extension,
  GeneralName,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
} from "@peculiar/x509";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { computeAddress, getAddress, getBytes, hexlify, isAddress, isHexString } from "ethers";

import { BankChainError } from "../errors.js";

// ---- constants ---------------------------------------------------------------------------------------------

/**
 * The UUID the extension's OID is made of (ITU-T X.667: `2.25.<UUID as an integer>`, usable without
 * registration). Chosen once for bank-chain's trust certificates; never reuse it for anything else.
 */
export const TRUST_CERTIFICATE_UUID = "80c2e1bc-7b2a-4b17-83a8-c42367d6a7c0";
/** The OID of the twin's trust-certificate extension: `2.25.` + the UUID as a decimal integer. */
export const TRUST_CERTIFICATE_OID = `2.25.${BigInt(`0x${TRUST_CERTIFICATE_UUID.replaceAll("-", "")}`)}`;
/** The version field of `TrustCertificateInfo` this code writes and reads. */
export const TRUST_CERTIFICATE_INFO_VERSION = 1;
/** secp256k1's OID (SEC 2), the SPKI's named curve. */
export const SECP256K1_OID = "1.3.132.0.10";
/** The first byte of a twin's serial number; the other 19 are the UID's first 19 bytes. */
const SERIAL_PREFIX = 0x01;
const SERIAL_UID_BYTES = 19;

const UINT32_MAX = 2n ** 32n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** WebCrypto with secp256k1 (`K-256`); passed to every @peculiar/x509 call, so no global provider is set. */
const crypto = new Crypto();
const K256 = { name: "ECDSA", namedCurve: "K-256" } as const;
const ECDSA_SHA256 = { name: "ECDSA", hash: "SHA-256" } as const;
const ECDSA_SHA256_K256 = { ...ECDSA_SHA256, namedCurve: "K-256" } as const;

// ---- errors ------------------------------------------------------------------------------------------------

/** A private or public key that is not a secp256k1 key in the expected encoding. */
export class X509KeyInvalidError extends BankChainError {
  constructor(field: string, reason: string, value?: string) {
    // A private key is never put in `details`: `value` is given only for public keys.
    super("CERT_X509_KEY_INVALID", `x509: ${field} ${reason}`, value === undefined ? { field } : { field, value });
  }
}

/** A public key of the right length whose point is not on secp256k1. */
export class X509KeyNotOnCurveError extends BankChainError {
  constructor(field: string, value: string) {
    super("CERT_X509_KEY_NOT_ON_CURVE", `x509: ${field} is not a point on secp256k1`, { field, value });
  }
}

/** An attestation UID that is not 32 bytes of 0x-hex. */
export class X509UidInvalidError extends BankChainError {
  constructor(value: unknown) {
    super("CERT_X509_UID_INVALID", "x509: the attestation UID must be 32 bytes of 0x-hex", { value });
  }
}

/** A validity window that is empty or not made of valid dates. */
export class X509ValidityInvalidError extends BankChainError {
  constructor(notBefore: Date, notAfter: Date, reason: string) {
    super("CERT_X509_VALIDITY_INVALID", `x509: validity ${reason}`, {
      notBefore: String(notBefore),
      notAfter: String(notAfter),
    });
  }
}

/** Another field of the certificate (level, score, ids, addresses, chain id, CA name) out of its range. */
export class X509FieldInvalidError extends BankChainError {
  constructor(field: string, reason: string, value: unknown) {
    super("CERT_X509_FIELD_INVALID", `x509: ${field} ${reason}`, { field, reason, value: String(value) });
  }
}

/** The subject address is not the address of the subject public key. */
export class X509SubjectMismatchError extends BankChainError {
  constructor(subject: string, keyAddress: string) {
    super("CERT_X509_SUBJECT_MISMATCH", `x509: subject ${subject} is not the address of the subject key`, {
      subject,
      keyAddress,
    });
  }
}

/** The issuer key given to sign a twin is not the key of the CA given. */
export class X509IssuerMismatchError extends BankChainError {
  constructor(issuerAddress: string, caAddress: string) {
    super("CERT_X509_ISSUER_MISMATCH", `x509: the issuer key (${issuerAddress}) is not the CA's key (${caAddress})`, {
      issuerAddress,
      caAddress,
    });
  }
}

/** A PEM that is not a certificate, or a certificate that is not a twin of this profile. */
export class X509NotATwinError extends BankChainError {
  constructor(reason: string) {
    super("CERT_X509_NOT_A_TWIN", `x509: not a trust-certificate twin: ${reason}`, { reason });
  }
}

// ---- the extension's ASN.1 ---------------------------------------------------------------------------------

/**
 * ```asn1
 * TrustCertificateInfo ::= SEQUENCE {
 *   version        INTEGER,                  -- 1
 *   attestationUid OCTET STRING (SIZE (32)), -- the EAS attestation UID
 *   level          INTEGER (0..255),         -- index into the model's levels (NONE 0 .. HIGH 3)
 *   score          INTEGER (0..4294967295),
 *   modelId        OCTET STRING (SIZE (32)),
 *   featuresRoot   OCTET STRING (SIZE (32)),
 *   asOfBlock      INTEGER (0..18446744073709551615),
 *   chainId        INTEGER,
 *   eas            OCTET STRING (SIZE (20))  -- the EAS contract's address
 * }
 * ```
 * Declared with asn1-schema's decorators applied as functions (this project compiles without
 * `experimentalDecorators`).
 */
export class TrustCertificateInfo {
  version = 0;
  attestationUid: ArrayBuffer = new ArrayBuffer(0);
  level = 0;
  score = 0n;
  modelId: ArrayBuffer = new ArrayBuffer(0);
  featuresRoot: ArrayBuffer = new ArrayBuffer(0);
  asOfBlock = 0n;
  chainId = 0n;
  eas: ArrayBuffer = new ArrayBuffer(0);

  constructor(params: Partial<TrustCertificateInfo> = {}) {
    Object.assign(this, params);
  }
}
AsnType({ type: AsnTypeTypes.Sequence })(TrustCertificateInfo);
for (const [field, type] of [
  ["version", AsnPropTypes.Integer],
  ["attestationUid", AsnPropTypes.OctetString],
  ["level", AsnPropTypes.Integer],
  ["score", AsnPropTypes.Integer],
  ["modelId", AsnPropTypes.OctetString],
  ["featuresRoot", AsnPropTypes.OctetString],
  ["asOfBlock", AsnPropTypes.Integer],
  ["chainId", AsnPropTypes.Integer],
  ["eas", AsnPropTypes.OctetString],
] as const) {
  const bigint = field === "score" || field === "asOfBlock" || field === "chainId";
  AsnProp(bigint ? { type, converter: AsnIntegerBigIntConverter } : { type })(TrustCertificateInfo.prototype, field);
}

/**
 * A TBSCertificate read with each extension's extnID kept as its DER bytes. asn1js reads an OID arc above 2^53
 * (our 2.25 arc is 128 bits) as text it cannot write back, so @peculiar/x509 reports the twin's extension as
 * plain `2.25` and re-encodes it wrongly; the twin's extension is found here by its encoded OID instead, read
 * from the signed bytes. The other fields are kept whole (`Any`) and not looked into.
 */
class RawOidExtension {
  extnID: ArrayBuffer = new ArrayBuffer(0);
  critical = false;
  extnValue: ArrayBuffer = new ArrayBuffer(0);
}
AsnType({ type: AsnTypeTypes.Sequence })(RawOidExtension);
AsnProp({ type: AsnPropTypes.Any })(RawOidExtension.prototype, "extnID");
AsnProp({ type: AsnPropTypes.Boolean, defaultValue: false })(RawOidExtension.prototype, "critical");
AsnProp({ type: AsnPropTypes.OctetString })(RawOidExtension.prototype, "extnValue");

class RawOidExtensions extends AsnArray<RawOidExtension> {
  constructor(items?: RawOidExtension[]) {
    super(items);
    Object.setPrototypeOf(this, RawOidExtensions.prototype);
  }
}
AsnType({ type: AsnTypeTypes.Sequence, itemType: RawOidExtension })(RawOidExtensions);

class RawOidTbsCertificate {
  version = 0;
  serialNumber: ArrayBuffer = new ArrayBuffer(0);
  signature: ArrayBuffer = new ArrayBuffer(0);
  issuer: ArrayBuffer = new ArrayBuffer(0);
  validity: ArrayBuffer = new ArrayBuffer(0);
  subject: ArrayBuffer = new ArrayBuffer(0);
  subjectPublicKeyInfo: ArrayBuffer = new ArrayBuffer(0);
  issuerUniqueID?: ArrayBuffer;
  subjectUniqueID?: ArrayBuffer;
  extensions?: RawOidExtensions;
}
AsnType({ type: AsnTypeTypes.Sequence })(RawOidTbsCertificate);
AsnProp({ type: AsnPropTypes.Integer, context: 0, defaultValue: 0 })(RawOidTbsCertificate.prototype, "version");
for (const field of ["serialNumber", "signature", "issuer", "validity", "subject", "subjectPublicKeyInfo"] as const) {
  AsnProp({ type: AsnPropTypes.Any })(RawOidTbsCertificate.prototype, field);
}
for (const [field, context] of [
  ["issuerUniqueID", 1],
  ["subjectUniqueID", 2],
] as const) {
  AsnProp({ type: AsnPropTypes.BitString, context, implicit: true, optional: true })(
    RawOidTbsCertificate.prototype,
    field,
  );
}
AsnProp({ type: RawOidExtensions, context: 3, optional: true })(RawOidTbsCertificate.prototype, "extensions");

class RawOidCertificate {
  tbsCertificate = new RawOidTbsCertificate();
  signatureAlgorithm: ArrayBuffer = new ArrayBuffer(0);
  signatureValue: ArrayBuffer = new ArrayBuffer(0);
}
AsnType({ type: AsnTypeTypes.Sequence })(RawOidCertificate);
AsnProp({ type: RawOidTbsCertificate })(RawOidCertificate.prototype, "tbsCertificate");
AsnProp({ type: AsnPropTypes.Any })(RawOidCertificate.prototype, "signatureAlgorithm");
AsnProp({ type: AsnPropTypes.BitString })(RawOidCertificate.prototype, "signatureValue");

/** `TRUST_CERTIFICATE_OID` DER-encoded (tag, length, value), as asn1-schema writes it. */
const TRUST_CERTIFICATE_OID_DER = Buffer.from(
  AsnConvert.parse(
    AsnConvert.serialize(
      new asn1x509.Extension({ extnID: TRUST_CERTIFICATE_OID, critical: false, extnValue: new OctetString() }),
    ),
    RawOidExtension,
  ).extnID,
);

/** The twin's trust-certificate extension of a certificate, if it has one, read from its signed bytes. */
function trustExtension(certificate: X509Certificate): RawOidExtension | undefined {
  const tbs = AsnConvert.parse(certificate.rawData, RawOidCertificate).tbsCertificate;
  const found = [...(tbs.extensions ?? [])].filter((extension) =>
    TRUST_CERTIFICATE_OID_DER.equals(Buffer.from(extension.extnID)),
  );
  if (found.length > 1) throw new X509NotATwinError("the trust-certificate extension appears more than once");
  return found[0];
}

// ---- API types ---------------------------------------------------------------------------------------------

/** The issuer's secp256k1 private key: 0x-hex, or anything holding one (an ethers `Wallet`). */
export type IssuerKey = string | { readonly privateKey: string };

/** The attested certificate a twin carries (the EAS schema's fields and where the attestation lives). */
export interface TwinCertificate {
  /** The attestation UID, 0x-hex bytes32. */
  readonly uid: string;
  /** The subject's address: the address of the subject public key. */
  readonly subject: string;
  /** The level's index in the model's levels (`LEVELS`: NONE 0, LOW 1, MEDIUM 2, HIGH 3). */
  readonly level: number;
  readonly score: number | bigint;
  readonly modelId: string;
  readonly featuresRoot: string;
  readonly asOfBlock: bigint;
  readonly chainId: bigint;
  /** The EAS contract's address. */
  readonly eas: string;
}

export interface IssuerCaOptions {
  readonly issuerKey: IssuerKey;
  readonly chainId: bigint;
  /** The CA's common name; default `bank-chain issuer <issuer address>`. */
  readonly name?: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface IssueTwinOptions {
  /** The issuer CA, as `issuerCa` returned it or its PEM. */
  readonly ca: X509Certificate | string;
  readonly issuerKey: IssuerKey;
  /** The user's secp256k1 public key, 0x-hex: compressed (33 bytes) or uncompressed (65 bytes). */
  readonly subjectPublicKey: string;
  readonly certificate: TwinCertificate;
  /** The attestation's time. */
  readonly notBefore: Date;
  /** The attestation's expirationTime. */
  readonly notAfter: Date;
}

/** What a twin says, as `readTwin` decodes it. */
export interface TwinContents {
  readonly uid: string;
  /** Checksummed address of the subject key (also the subject CN and the SAN's CAIP-10 account). */
  readonly subject: string;
  /** The subject key, 0x-hex uncompressed (65 bytes). */
  readonly subjectPublicKey: string;
  readonly level: number;
  readonly score: number;
  readonly modelId: string;
  readonly featuresRoot: string;
  readonly asOfBlock: bigint;
  readonly chainId: bigint;
  readonly eas: string;
  /** Serial number, lowercase hex without 0x (as openssl prints it, without colons). */
  readonly serialNumber: string;
  /** The issuer's distinguished name, RFC 4514 text. */
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

// ---- API ---------------------------------------------------------------------------------------------------

/** The issuer's self-signed CA certificate, whose key is the issuer's secp256k1 key. */
export async function issuerCa(options: IssuerCaOptions): Promise<{ pem: string; certificate: X509Certificate }> {
  const issuer = await issuerKeys(options.issuerKey);
  const chainId = checkChainId(options.chainId);
  checkValidity(options.notBefore, options.notAfter);
  const commonName = options.name ?? `bank-chain issuer ${issuer.address}`;
  if (commonName.trim() === "" || commonName.length > 64) {
    throw new X509FieldInvalidError("name", "must be 1 to 64 characters (X.520 ub-common-name)", commonName);
  }
  const name = new Name([{ CN: [commonName] }]);
  const certificate = await X509CertificateGenerator.create(
    {
      subject: name,
      issuer: name,
      notBefore: options.notBefore,
      notAfter: options.notAfter,
      publicKey: issuer.spki,
      signingKey: issuer.privateKey,
      signingAlgorithm: ECDSA_SHA256,
      extensions: [
        new BasicConstraintsExtension(true, 0, true),
        new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
        await SubjectKeyIdentifierExtension.create(issuer.spki, false, crypto),
        new SubjectAlternativeNameExtension([{ type: "url", value: caip10(chainId, issuer.address) }]),
      ],
    },
    crypto,
  );
  return { pem: certificate.toString("pem"), certificate };
}

/** The X.509 twin of an attested certificate, signed by the issuer key under the issuer CA. */
export async function issueTwin(options: IssueTwinOptions): Promise<{ pem: string }> {
  const ca = typeof options.ca === "string" ? parseCertificate(options.ca, "CA") : options.ca;
  const issuer = await issuerKeys(options.issuerKey);
  const caAddress = spkiAddress(ca.publicKey.rawData);
  if (caAddress !== issuer.address) throw new X509IssuerMismatchError(issuer.address, caAddress ?? "not secp256k1");
  const point = parsePublicKey(options.subjectPublicKey, "subjectPublicKey");
  const info = checkCertificate(options.certificate);
  checkValidity(options.notBefore, options.notAfter);
  const keyAddress = computeAddress(hexlify(point));
  const subject = parseAddress(options.certificate.subject, "certificate.subject");
  if (subject !== keyAddress) throw new X509SubjectMismatchError(subject, keyAddress);

  const spki = secp256k1Spki(point);
  const extensions: Extension[] = [
    new BasicConstraintsExtension(false, undefined, true),
    new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
    await SubjectKeyIdentifierExtension.create(spki, false, crypto),
    await AuthorityKeyIdentifierExtension.create(issuer.spki, false, crypto),
    new SubjectAlternativeNameExtension([{ type: "url", value: caip10(info.chainId, subject) }]),
  ];
  // Assembled here rather than by X509CertificateGenerator, which re-parses every extension and so loses an
  // OID arc above 2^53 (asn1js reads such an arc as hex text it cannot write back): the 2.25 arc of a UUID is
  // 128 bits. Every structure is still the library's; only the order of the steps is ours.
  const tbsCertificate = new asn1x509.TBSCertificate({
    version: asn1x509.Version.v3,
    serialNumber: new Uint8Array(Buffer.from(serialOf(options.certificate.uid), "hex")).buffer,
    signature: ecdsaWithSHA256,
    issuer: AsnConvert.parse(ca.rawData, asn1x509.Certificate).tbsCertificate.subject,
    validity: new asn1x509.Validity({ notBefore: options.notBefore, notAfter: options.notAfter }),
    subject: AsnConvert.parse(new Name([{ CN: [subject] }]).toArrayBuffer(), asn1x509.Name),
    subjectPublicKeyInfo: AsnConvert.parse(spki, asn1x509.SubjectPublicKeyInfo),
    extensions: new asn1x509.Extensions([
      ...extensions.map((extension) => AsnConvert.parse(extension.rawData, asn1x509.Extension)),
      new asn1x509.Extension({
        extnID: TRUST_CERTIFICATE_OID,
        critical: false,
        extnValue: new OctetString(AsnConvert.serialize(info)),
      }),
    ]),
  });
  const signature = await crypto.subtle.sign(ECDSA_SHA256, issuer.privateKey, AsnConvert.serialize(tbsCertificate));
  const signatureValue = new AsnEcSignatureFormatter().toAsnSignature(ECDSA_SHA256_K256, signature);
  if (signatureValue === null) throw new Error("x509: @peculiar/x509 did not format an ECDSA signature");
  const der = AsnConvert.serialize(
    new asn1x509.Certificate({ tbsCertificate, signatureAlgorithm: ecdsaWithSHA256, signatureValue }),
  );
  const certificate = new X509Certificate(der);
  return { pem: certificate.toString("pem") };
}

/** Decodes a twin: its extension, subject and subject key, checked against each other. */
export function readTwin(pem: string): TwinContents {
  const certificate = parseCertificate(pem, "twin");
  const extension = trustExtension(certificate);
  if (extension === undefined) throw new X509NotATwinError(`no extension ${TRUST_CERTIFICATE_OID}`);
  if (extension.critical) throw new X509NotATwinError("the trust-certificate extension is marked critical");
  let info: TrustCertificateInfo;
  try {
    info = AsnConvert.parse(extension.extnValue, TrustCertificateInfo);
  } catch (error) {
    throw new X509NotATwinError(`the extension is not a TrustCertificateInfo (${String(error)})`);
  }
  if (info.version !== TRUST_CERTIFICATE_INFO_VERSION) {
    throw new X509NotATwinError(
      `TrustCertificateInfo version ${info.version} is not ${TRUST_CERTIFICATE_INFO_VERSION}`,
    );
  }
  for (const [field, bytes, length] of [
    ["attestationUid", info.attestationUid, 32],
    ["modelId", info.modelId, 32],
    ["featuresRoot", info.featuresRoot, 32],
    ["eas", info.eas, 20],
  ] as const) {
    if (bytes.byteLength !== length) throw new X509NotATwinError(`${field} is not ${length} bytes`);
  }
  if (info.level < 0 || info.level > 255) throw new X509NotATwinError(`level ${info.level} is out of range`);
  if (info.score < 0n || info.score > UINT32_MAX) throw new X509NotATwinError(`score ${info.score} is out of range`);
  if (info.asOfBlock < 0n || info.asOfBlock > UINT64_MAX) throw new X509NotATwinError("asOfBlock is out of range");
  if (info.chainId <= 0n) throw new X509NotATwinError("chainId is not positive");

  const subjectKey = spkiPoint(certificate.publicKey.rawData);
  if (subjectKey === undefined) throw new X509NotATwinError("the subject key is not a secp256k1 key");
  const subject = computeAddress(hexlify(subjectKey));
  const commonNames = certificate.subjectName.getField("CN");
  if (commonNames.length !== 1 || commonNames[0] !== subject) {
    throw new X509NotATwinError(`the subject CN is not the subject key's address ${subject}`);
  }
  const san = certificate.getExtension(SubjectAlternativeNameExtension);
  const uris = san?.names.items.filter((item: GeneralName) => item.type === "url").map((item) => item.value) ?? [];
  if (uris.length !== 1 || uris[0] !== caip10(info.chainId, subject)) {
    throw new X509NotATwinError(`the subjectAltName is not ${caip10(info.chainId, subject)}`);
  }
  const uid = hexlify(new Uint8Array(info.attestationUid));
  if (certificate.serialNumber !== serialOf(uid)) throw new X509NotATwinError("the serial number is not the UID's");
  return {
    uid,
    subject,
    subjectPublicKey: hexlify(subjectKey),
    level: info.level,
    score: Number(info.score),
    modelId: hexlify(new Uint8Array(info.modelId)),
    featuresRoot: hexlify(new Uint8Array(info.featuresRoot)),
    asOfBlock: info.asOfBlock,
    chainId: info.chainId,
    eas: getAddress(hexlify(new Uint8Array(info.eas))),
    serialNumber: certificate.serialNumber,
    issuer: certificate.issuer,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
  };
}

/**
 * Whether `pem` is a twin (readable by `readTwin`) issued under the CA `caPem`: issuer name and authority key id
 * match the CA, the CA is a CA, the signature verifies with the CA's key, and `date` (default now) lies within
 * both certificates' validity. Throws `X509NotATwinError` only for a PEM that is not a certificate at all.
 */
export async function verifyTwin(pem: string, caPem: string, date: Date = new Date()): Promise<boolean> {
  const twin = parseCertificate(pem, "twin");
  const ca = parseCertificate(caPem, "CA");
  try {
    readTwin(pem);
  } catch (error) {
    if (error instanceof X509NotATwinError) return false;
    throw error;
  }
  const basic = ca.getExtension(BasicConstraintsExtension);
  if (basic === null || !basic.ca) return false;
  const usage = ca.getExtension(KeyUsagesExtension);
  if (usage === null || (usage.usages & KeyUsageFlags.keyCertSign) === 0) return false;
  if (twin.issuer !== ca.subject) return false;
  const caKeyId = ca.getExtension(SubjectKeyIdentifierExtension)?.keyId;
  const authorityKeyId = twin.getExtension(AuthorityKeyIdentifierExtension)?.keyId;
  if (caKeyId === undefined || authorityKeyId !== caKeyId) return false;
  const caValid = ca.notBefore <= date && date <= ca.notAfter;
  if (!caValid || !(await ca.verify({ publicKey: ca.publicKey, date }, crypto))) return false;
  return twin.verify({ publicKey: ca.publicKey, date }, crypto);
}

/**
 * The DER SubjectPublicKeyInfo of a secp256k1 public key (0x-hex, 33 or 65 bytes): id-ecPublicKey with the
 * named curve secp256k1, the point uncompressed (the form openssl writes).
 */
export function secp256k1SpkiDer(publicKey: string): Uint8Array {
  return new Uint8Array(secp256k1Spki(parsePublicKey(publicKey, "publicKey")));
}

/** A twin's serial number for an attestation UID: `01` followed by the UID's first 19 bytes (hex, no 0x). */
export function serialOf(uid: string): string {
  const bytes = parseUid(uid);
  return Buffer.concat([Buffer.of(SERIAL_PREFIX), bytes.subarray(0, SERIAL_UID_BYTES)]).toString("hex");
}

/** The CAIP-10 account id of an address on an EVM chain. */
export function caip10(chainId: bigint, address: string): string {
  return `eip155:${chainId}:${address}`;
}

// ---- private -----------------------------------------------------------------------------------------------

interface IssuerKeys {
  readonly address: string;
  readonly privateKey: webcrypto.CryptoKey;
  readonly spki: ArrayBuffer;
}

async function issuerKeys(key: IssuerKey): Promise<IssuerKeys> {
  const hex = typeof key === "string" ? key : key?.privateKey;
  if (typeof hex !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(hex)) {
    throw new X509KeyInvalidError("issuerKey", "must be a 32-byte 0x-hex secp256k1 private key");
  }
  const secret = getBytes(hex);
  if (!secp256k1.utils.isValidSecretKey(secret)) {
    throw new X509KeyInvalidError("issuerKey", "is not a secp256k1 private key (zero or not below the group order)");
  }
  const point = secp256k1.getPublicKey(secret, false);
  const jwk: webcrypto.JsonWebKey = {
    kty: "EC",
    crv: "K-256",
    d: Buffer.from(secret).toString("base64url"),
    x: Buffer.from(point.subarray(1, 33)).toString("base64url"),
    y: Buffer.from(point.subarray(33, 65)).toString("base64url"),
  };
  const privateKey = await crypto.subtle.importKey("jwk", jwk, K256, false, ["sign"]);
  return { address: computeAddress(hexlify(point)), privateKey, spki: secp256k1Spki(point) };
}

/** A 0x-hex secp256k1 public key, checked on the curve, as its 65-byte uncompressed point. */
function parsePublicKey(value: string, field: string): Uint8Array {
  if (typeof value !== "string" || !isHexString(value) || (value.length !== 2 + 66 && value.length !== 2 + 130)) {
    throw new X509KeyInvalidError(field, "must be 0x-hex, 33 bytes (compressed) or 65 bytes (uncompressed)", value);
  }
  const bytes = getBytes(value);
  const prefix = bytes[0];
  const wellFormed = bytes.length === 33 ? prefix === 0x02 || prefix === 0x03 : prefix === 0x04;
  if (!wellFormed) throw new X509KeyInvalidError(field, `has a bad SEC 1 prefix byte ${prefix}`, value);
  try {
    return secp256k1.Point.fromBytes(bytes).toBytes(false);
  } catch {
    throw new X509KeyNotOnCurveError(field, value);
  }
}

/** DER SubjectPublicKeyInfo (id-ecPublicKey, secp256k1) of an uncompressed point. */
function secp256k1Spki(point: Uint8Array): ArrayBuffer {
  const spki = new asn1x509.SubjectPublicKeyInfo({
    algorithm: new asn1x509.AlgorithmIdentifier({
      algorithm: id_ecPublicKey,
      parameters: AsnConvert.serialize(new ECParameters({ namedCurve: SECP256K1_OID })),
    }),
    subjectPublicKey: new Uint8Array(point).buffer,
  });
  return AsnConvert.serialize(spki);
}

/** The uncompressed point of a secp256k1 SPKI, or undefined for any other key. */
function spkiPoint(der: ArrayBuffer): Uint8Array | undefined {
  try {
    const spki = AsnConvert.parse(der, asn1x509.SubjectPublicKeyInfo);
    if (spki.algorithm.algorithm !== id_ecPublicKey || spki.algorithm.parameters == null) return undefined;
    const parameters = AsnConvert.parse(spki.algorithm.parameters, ECParameters);
    if (parameters.namedCurve !== SECP256K1_OID) return undefined;
    return secp256k1.Point.fromBytes(new Uint8Array(spki.subjectPublicKey)).toBytes(false);
  } catch {
    return undefined;
  }
}

function spkiAddress(der: ArrayBuffer): string | undefined {
  const point = spkiPoint(der);
  return point === undefined ? undefined : computeAddress(hexlify(point));
}

function parseCertificate(pem: string, what: string): X509Certificate {
  if (typeof pem !== "string" || !pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new X509NotATwinError(`the ${what} is not a PEM certificate`);
  }
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new X509NotATwinError(`the ${what} PEM does not decode as an X.509 certificate (${String(error)})`);
  }
}

function parseUid(uid: string): Buffer {
  if (typeof uid !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(uid)) throw new X509UidInvalidError(uid);
  return Buffer.from(uid.slice(2), "hex");
}

function parseBytes32(value: string, field: string): ArrayBuffer {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(value)) {
    throw new X509FieldInvalidError(field, "must be 32 bytes of 0x-hex", value);
  }
  return new Uint8Array(getBytes(value)).buffer;
}

function parseAddress(value: string, field: string): string {
  if (typeof value !== "string" || !isAddress(value))
    throw new X509FieldInvalidError(field, "is not an address", value);
  return getAddress(value);
}

function checkChainId(chainId: bigint): bigint {
  if (typeof chainId !== "bigint" || chainId <= 0n || chainId > UINT64_MAX) {
    throw new X509FieldInvalidError("chainId", "must be a positive bigint below 2^64", chainId);
  }
  return chainId;
}

function checkValidity(notBefore: Date, notAfter: Date): void {
  if (!(notBefore instanceof Date) || Number.isNaN(notBefore.getTime())) {
    throw new X509ValidityInvalidError(notBefore, notAfter, "notBefore is not a valid date");
  }
  if (!(notAfter instanceof Date) || Number.isNaN(notAfter.getTime())) {
    throw new X509ValidityInvalidError(notBefore, notAfter, "notAfter is not a valid date");
  }
  // X.509 times have whole seconds: compare what the certificate will say.
  if (Math.floor(notAfter.getTime() / 1000) <= Math.floor(notBefore.getTime() / 1000)) {
    throw new X509ValidityInvalidError(notBefore, notAfter, "notAfter must be after notBefore");
  }
}

function checkCertificate(certificate: TwinCertificate): TrustCertificateInfo {
  const uid = parseUid(certificate.uid);
  const { level, score, asOfBlock } = certificate;
  if (!Number.isInteger(level) || level < 0 || level > 255) {
    throw new X509FieldInvalidError("certificate.level", "must be an integer in [0, 255]", level);
  }
  const scoreValue = typeof score === "bigint" ? score : Number.isInteger(score) ? BigInt(score) : -1n;
  if (scoreValue < 0n || scoreValue > UINT32_MAX) {
    throw new X509FieldInvalidError("certificate.score", "must be an integer in [0, 2^32 - 1]", score);
  }
  if (typeof asOfBlock !== "bigint" || asOfBlock < 0n || asOfBlock > UINT64_MAX) {
    throw new X509FieldInvalidError("certificate.asOfBlock", "must be a bigint in [0, 2^64 - 1]", asOfBlock);
  }
  return new TrustCertificateInfo({
    version: TRUST_CERTIFICATE_INFO_VERSION,
    attestationUid: new Uint8Array(uid).buffer,
    level,
    score: scoreValue,
    modelId: parseBytes32(certificate.modelId, "certificate.modelId"),
    featuresRoot: parseBytes32(certificate.featuresRoot, "certificate.featuresRoot"),
    asOfBlock,
    chainId: checkChainId(certificate.chainId),
    eas: new Uint8Array(getBytes(parseAddress(certificate.eas, "certificate.eas"))).buffer,
  });
}
