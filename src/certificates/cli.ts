/**
 * `bank-chain certificates …`: trust certificates through the certificate service (docs/certificates.md).
 *
 *   certificates request [--key-env VAR] [--api <url>]
 *       proves possession of the key in VAR (default BANK_CHAIN_CERTIFICATE_KEY): gets a challenge, signs
 *       CertificateRequest under the issuer's EIP-712 domain, posts it; prints the certificate
 *   certificates show <uid> [--api <url>]
 *       the certificate: status on chain, level, score, model, features, the X.509 twin
 *   certificates verify <uid> [--api <url>]
 *       recomputes it from the published inputs and checks each against the chain: the model file's
 *       content hash against ScoringModelRegistry, the features root against the attestation, the score and
 *       level under the model, and CertificateVerifier.isValid; prints every check, exit 1 if one fails
 *   certificates revoke <uid> [--key-env VAR] [--api <url>]
 *       the subject revokes its certificate: signs CertificateRevocation(uid, nonce) with the certificate's key
 *   certificates revoke <uid> --as-issuer
 *       the operator revokes it on chain directly, with the certIssuer duty's key (no HTTP route does this:
 *       the service's API has no operator authentication)
 *
 * Keys come from environment variables, never from a flag, and are never printed.
 */
import { SigningKey } from "ethers";

import { apiOrigin, callApi, type ApiClientErrors } from "../chain/api-client.js";
import { lines, output, walletFromEnv, withChain, type CommandGroup, type Program } from "../chain/command.js";
import { BankChainError } from "../errors.js";

/** A bad `certificates` argument, a refusal by the service, or a failed check. */
export class CertificateCliError extends BankChainError {}

const DEFAULT_KEY_ENV = "BANK_CHAIN_CERTIFICATE_KEY";
const UID = /^0x[0-9a-fA-F]{64}$/;

/** What GET /certificates/:uid answers (src/certificates/http.ts). */
interface CertificateJson {
  uid: string;
  status: string;
  valid: boolean;
  subject: string;
  publicKey: string;
  level: string;
  levelIndex: number;
  score: number;
  attestation: {
    attester: string;
    recipient: string;
    time: string;
    expirationTime: string;
    revocationTime: string;
    refUID: string;
    data: string;
    replacedBy: string | null;
  };
  recompute: {
    model: { modelId: string; contentHash: string; json: Record<string, unknown> };
    asOfBlock: number;
    addresses: string[];
    features: Record<string, string>;
    featuresRoot: string;
  };
  x509: { twin: string; issuerCa: string };
  txHash: string;
}

function checkUid(value: string): string {
  if (!UID.test(value)) {
    throw new CertificateCliError("CERT_CLI_BAD_UID", `the uid must be 0x and 64 hex digits, got "${value}"`, {
      value,
    });
  }
  return value.toLowerCase();
}

/** The service's origin: `--api`, else the local one on `CERTIFICATES_PORT` (default 8630). */
async function apiUrl(value: string | undefined): Promise<string> {
  if (value === undefined) {
    const { CERTIFICATES_SETTINGS } = await import("./service.js");
    return `http://127.0.0.1:${CERTIFICATES_SETTINGS.read(process.env, { devnet: true }).CERTIFICATES_PORT}`;
  }
  return apiOrigin(value, API_ERRORS);
}

/** The certificate service's origin and reachability, as this CLI's errors. */
const API_ERRORS: ApiClientErrors = {
  badUrl: (value) =>
    new CertificateCliError("CERT_CLI_BAD_URL", `--api must be an http(s) URL, got "${value}"`, { value }),
  unreachable: (api, cause) =>
    new CertificateCliError("CERT_CLI_API_UNREACHABLE", `the certificate service at ${api} does not answer`, {
      api,
      cause,
    }),
};

/** GETs or POSTs JSON at the service; a 4xx/5xx is `CERT_CLI_REFUSED` with the service's reason. */
async function call(api: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const reply = await callApi(api, path, body, API_ERRORS);
  const json = reply.json;
  if (reply.status >= 400) {
    const error = ((json ?? {}) as { error?: { code?: unknown; message?: unknown } }).error ?? {};
    throw new CertificateCliError(
      "CERT_CLI_REFUSED",
      `the certificate service refused it (HTTP ${reply.status}${error.code === undefined ? "" : ` ${String(error.code)}`}): ${String(error.message ?? "no reason given")}`,
      { status: reply.status, answer: json },
    );
  }
  return { status: reply.status, json };
}

interface ChallengeJson {
  nonce: string;
  domain: { name: string; version: string; chainId: string; verifyingContract: string };
  types: Record<string, Array<{ name: string; type: string }>>;
}

function summary(view: CertificateJson): Array<[string, string]> {
  return [
    ["uid", view.uid],
    ["status", `${view.status}${view.valid ? "" : " (not valid)"}`],
    ["subject", view.subject],
    ["level", `${view.level} (score ${view.score})`],
    ["model", `${view.recompute.model.modelId} (content hash ${view.recompute.model.contentHash})`],
    ["as of block", String(view.recompute.asOfBlock)],
    ["addresses", view.recompute.addresses.join(", ")],
    ["features root", view.recompute.featuresRoot],
    ["expires", new Date(Number(view.attestation.expirationTime) * 1000).toISOString()],
    ["replaces", /^0x0+$/.test(view.attestation.refUID) ? "none" : view.attestation.refUID],
    ["replaced by", view.attestation.replacedBy ?? "none"],
    ["tx", view.txHash],
  ];
}

/** Adds the `certificates` command group to the program. */
export function addCertificatesCommands(program: Program): void {
  const group: CommandGroup = program
    .command("certificates")
    .description("trust certificates: request, show, verify and revoke (docs/certificates.md)");

  group
    .command("request")
    .description("prove possession of a key and get a trust certificate for it")
    .option("--key-env <VAR>", "environment variable holding the private key", DEFAULT_KEY_ENV)
    .option("--api <url>", "the certificate service (default: http://127.0.0.1:$CERTIFICATES_PORT, 8630)")
    .action(async (_o, command) => {
      const options = command.optsWithGlobals();
      const wallet = walletFromEnv(options.keyEnv, CertificateCliError, "CERT_CLI");
      const subject = wallet.address;
      const api = await apiUrl(options.api);
      const challenge = (await call(api, "/challenge")).json as ChallengeJson;
      const { keccak256 } = await import("ethers");
      const publicKey = wallet.signingKey.publicKey;
      const signature = await wallet.signTypedData(
        challenge.domain,
        { CertificateRequest: challenge.types.CertificateRequest! },
        { nonce: challenge.nonce, subject, publicKeyHash: keccak256(`0x${publicKey.slice(4)}`) },
      );
      const { json } = await call(api, "/certificates", {
        publicKey: SigningKey.computePublicKey(publicKey, true),
        subject,
        nonce: challenge.nonce,
        signature,
      });
      const view = json as CertificateJson;
      output(options, { certificate: view }, () => lines(summary(view)));
    });

  group
    .command("show")
    .description("a certificate: its status on chain, level, score, model, features and X.509 twin")
    .argument("<uid>", "the certificate's attestation UID")
    .option("--api <url>", "the certificate service (default: http://127.0.0.1:$CERTIFICATES_PORT, 8630)")
    .option("--pem", "also print the X.509 twin and the issuer CA", false)
    .action(async (uid, _o, command) => {
      const options = command.optsWithGlobals();
      const { json } = await call(await apiUrl(options.api), `/certificates/${checkUid(uid)}`);
      const view = json as CertificateJson;
      output(options, { certificate: view }, () =>
        [
          lines([
            ...summary(view),
            ...Object.entries(view.recompute.features).map(([name, value]) => [`  ${name}`, value] as [string, string]),
          ]),
          ...(options.pem ? [view.x509.twin.trim(), view.x509.issuerCa.trim()] : []),
        ].join("\n"),
      );
    });

  group
    .command("verify")
    .description("recompute a certificate from its published inputs and check each against the chain")
    .argument("<uid>", "the certificate's attestation UID")
    .option("--api <url>", "the certificate service (default: http://127.0.0.1:$CERTIFICATES_PORT, 8630)")
    .action(async (uidArgument, _o, command) => {
      const options = command.optsWithGlobals();
      const uid = checkUid(uidArgument);
      const view = (await call(await apiUrl(options.api), `/certificates/${uid}`)).json as CertificateJson;
      const { verifyCertificate } = await import("./verify.js");
      await withChain(options, async (chain, deployments) => {
        const { ok, checks } = await verifyCertificate(uid, view, chain, deployments);
        output(options, { uid, verified: ok, checks }, () =>
          [
            ...checks.map((c) => `${c.ok ? "ok  " : "FAIL"} ${c.check}: ${c.detail}`),
            ok ? "verified: the certificate recomputes from the chain and is valid" : "verified: NO",
          ].join("\n"),
        );
        if (!ok) {
          throw new CertificateCliError(
            "CERT_CLI_NOT_VERIFIED",
            `certificate ${uid} failed: ${checks
              .filter((c) => !c.ok)
              .map((c) => c.check)
              .join(", ")}`,
            { uid, checks },
          );
        }
      });
    });

  group
    .command("revoke")
    .description("revoke a certificate: as its subject (through the service) or, with --as-issuer, as the issuer")
    .argument("<uid>", "the certificate's attestation UID")
    .option("--key-env <VAR>", "environment variable holding the subject's private key", DEFAULT_KEY_ENV)
    .option("--api <url>", "the certificate service (default: http://127.0.0.1:$CERTIFICATES_PORT, 8630)")
    .option("--as-issuer", "revoke on chain with the certIssuer duty's key (an operator's revocation)", false)
    .action(async (uidArgument, _o, command) => {
      const options = command.optsWithGlobals();
      const uid = checkUid(uidArgument);
      if (options.asIssuer) {
        await revokeAsIssuer(options, uid);
        return;
      }
      const wallet = walletFromEnv(options.keyEnv, CertificateCliError, "CERT_CLI");
      const api = await apiUrl(options.api);
      const challenge = (await call(api, "/challenge")).json as ChallengeJson;
      const signature = await wallet.signTypedData(
        challenge.domain,
        { CertificateRevocation: challenge.types.CertificateRevocation! },
        { uid, nonce: challenge.nonce },
      );
      const { json } = await call(api, `/certificates/${uid}/revoke`, { nonce: challenge.nonce, signature });
      const view = json as { state: string; txHash: string | null };
      output(options, { uid, revocation: view }, () =>
        lines([
          ["revoked", uid],
          ["tx", view.txHash ?? "(pending)"],
        ]),
      );
    });
}

async function revokeAsIssuer(options: Parameters<typeof withChain>[0], uid: string): Promise<void> {
  const { CertificateResolver__factory } = await import("../../typechain-types/index.js");
  const { easAt } = await import("./eas.js");
  const { certIssuerWallet } = await import("./service.js");
  const { mined } = await import("../chain/receipts.js");
  await withChain(options, async (chain, deployments) => {
    const issuer = await certIssuerWallet(chain);
    const resolver = CertificateResolver__factory.connect(deployments.get("CertificateResolver").address, issuer);
    const eas = easAt(deployments.get("EAS").address, issuer);
    const tx = await eas.revoke(await resolver.schemaUID(), uid);
    await mined(tx);
    output(options, { uid, tx: tx.hash, revoker: issuer.address }, () =>
      lines([
        ["revoked", uid],
        ["by", `${issuer.address} (certIssuer)`],
        ["tx", tx.hash],
      ]),
    );
  });
}
