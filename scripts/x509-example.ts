/**
 * `npm run docs:x509-example`: writes docs/x509/ca.pem and docs/x509/twin.pem, the example issuer CA and X.509
 * twin that docs/certificates.md ("X.509 twin") runs openssl on. The inputs are fixed here; the signatures are
 * not (ECDSA with a random nonce), so a rerun changes the files' bytes but not what they say.
 * test/certificates/x509.test.ts checks that the files say exactly `EXAMPLE` and verify under each other.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { HDNodeWallet, Mnemonic } from "ethers";

import { issuerCa, issueTwin, type TwinCertificate } from "../src/certificates/x509.js";

const DEVNET_MNEMONIC = Mnemonic.fromPhrase("test test test test test test test test test test test junk");
const devnetAccount = (index: number) => HDNodeWallet.fromMnemonic(DEVNET_MNEMONIC, `m/44'/60'/0'/0/${index}`);

/** The devnet's certificate issuer (duty `certIssuer`, account 29) and demo customer 19 as the subject. */
const ISSUER = devnetAccount(29);
const SUBJECT = devnetAccount(19);

export const CA_PEM = new URL("../docs/x509/ca.pem", import.meta.url);
export const TWIN_PEM = new URL("../docs/x509/twin.pem", import.meta.url);

/** What the example says; the validity is long so that the documented commands keep working. */
export const EXAMPLE = {
  issuerAddress: ISSUER.address,
  subjectPublicKey: SUBJECT.signingKey.publicKey,
  notBefore: new Date("2026-01-01T00:00:00Z"),
  notAfter: new Date("2036-01-01T00:00:00Z"),
  certificate: {
    uid: "0x3c9d1b7a5e2f4068a1b3c5d7e9f10213243546576879a8b9cadbecfd0e1f2a3b",
    subject: SUBJECT.address,
    level: 3,
    score: 742,
    modelId: "0x8a35acfbc15ff81a39ae7d344fd709f28e8600b4aa8c65c6b64bfe7fe36bd19b",
    featuresRoot: "0x1f0e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
    asOfBlock: 1234n,
    chainId: 31337n,
    eas: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  } satisfies TwinCertificate,
} as const;

/** The example CA and twin, freshly signed. */
export async function example(): Promise<{ ca: string; twin: string }> {
  const ca = await issuerCa({
    issuerKey: ISSUER,
    chainId: EXAMPLE.certificate.chainId,
    notBefore: EXAMPLE.notBefore,
    notAfter: EXAMPLE.notAfter,
  });
  const twin = await issueTwin({
    ca: ca.certificate,
    issuerKey: ISSUER,
    subjectPublicKey: EXAMPLE.subjectPublicKey,
    certificate: EXAMPLE.certificate,
    notBefore: EXAMPLE.notBefore,
    notAfter: EXAMPLE.notAfter,
  });
  return { ca: ca.pem, twin: twin.pem };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { ca, twin } = await example();
  mkdirSync(new URL("../docs/x509/", import.meta.url), { recursive: true });
  writeFileSync(CA_PEM, ca);
  writeFileSync(TWIN_PEM, twin);
}
