import { expect } from "chai";
import { Wallet } from "ethers";

import { runNode } from "../helpers/processes.js";
import { stackEnv, stackForSuite } from "../helpers/stack.js";

const CLI = "bin/bank-chain.mjs";

describe("cli: bank-chain certificates", function () {
  this.timeout(600_000);

  it("refuses a malformed uid, a missing key and a bad --api with one line each", async function () {
    const badUid = await runNode([CLI, "certificates", "show", "0x12"]);
    expect(badUid.code).to.equal(1);
    expect(badUid.stderr.trim()).to.equal('bank-chain: the uid must be 0x and 64 hex digits, got "0x12"');
    const noKey = await runNode([CLI, "certificates", "request"], { BANK_CHAIN_CERTIFICATE_KEY: "" });
    expect(noKey.code).to.equal(1);
    expect(noKey.stderr.trim()).to.equal(
      "bank-chain: environment variable BANK_CHAIN_CERTIFICATE_KEY holds no private key",
    );
    const badApi = await runNode([CLI, "certificates", "show", `0x${"ab".repeat(32)}`, "--api", "ftp://x"]);
    expect(badApi.code).to.equal(1);
    expect(badApi.stderr).to.match(/--api must be an http\(s\) URL/);
  });

  describe("against npm start", function () {
    const running = stackForSuite("bank-chain-certs-cli-");
    let env: NodeJS.ProcessEnv;
    let api: string;

    before(async function () {
      api = running.stack.services.get("certificates")!;
      expect(api, running.stack.stdout).to.match(/^http:\/\//);
      env = { ...stackEnv(running.place), BANK_CHAIN_CERTIFICATE_KEY: Wallet.createRandom().privateKey };
    });

    it("requests, shows, verifies (each check printed), revokes; verify then fails on isValid", async function () {
      const requested = await runNode([CLI, "--json", "certificates", "request", "--api", api], env);
      expect(requested.code, requested.stderr + requested.stdout).to.equal(0);
      const { certificate } = JSON.parse(requested.stdout) as { certificate: { uid: string; status: string } };
      expect(certificate.status).to.equal("Valid");

      const shown = await runNode([CLI, "certificates", "show", certificate.uid, "--api", api, "--pem"], env);
      expect(shown.code, shown.stderr).to.equal(0);
      expect(shown.stdout).to.match(/status: +Valid/);
      expect(shown.stdout).to.include("-----BEGIN CERTIFICATE-----");

      const verified = await runNode([CLI, "certificates", "verify", certificate.uid, "--api", api], env);
      expect(verified.code, verified.stderr + verified.stdout).to.equal(0);
      for (const check of ["model id", "model content hash", "features root", "score and level", "isValid on chain"]) {
        expect(verified.stdout).to.include(`ok   ${check}`);
      }

      const stranger = await runNode([CLI, "certificates", "revoke", certificate.uid, "--api", api], {
        ...env,
        BANK_CHAIN_CERTIFICATE_KEY: Wallet.createRandom().privateKey,
      });
      expect(stranger.code).to.equal(1);
      expect(stranger.stderr).to.match(/HTTP 403 CERT_WRONG_SIGNER/);

      const revoked = await runNode([CLI, "certificates", "revoke", certificate.uid, "--api", api], env);
      expect(revoked.code, revoked.stderr).to.equal(0);
      const after = await runNode([CLI, "certificates", "verify", certificate.uid, "--api", api], env);
      expect(after.code).to.equal(1);
      expect(after.stdout).to.include("FAIL isValid on chain: CertificateVerifier.statusOf = Revoked");
      expect(after.stderr).to.match(/failed: isValid on chain/);
    });

    it("revokes as the operator with --as-issuer, on chain, with the certIssuer key", async function () {
      const requested = await runNode([CLI, "--json", "certificates", "request", "--api", api], env);
      expect(requested.code, requested.stderr).to.equal(0);
      const { certificate } = JSON.parse(requested.stdout) as { certificate: { uid: string } };
      const revoked = await runNode([CLI, "--json", "certificates", "revoke", certificate.uid, "--as-issuer"], env);
      expect(revoked.code, revoked.stderr + revoked.stdout).to.equal(0);
      const shown = await runNode([CLI, "--json", "certificates", "show", certificate.uid, "--api", api], env);
      expect((JSON.parse(shown.stdout) as { certificate: { status: string } }).certificate.status).to.equal("Revoked");
    });
  });
});
