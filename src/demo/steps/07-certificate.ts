/**
 * Step 7: a trust certificate for the buyer. `bank-chain certificates
 * request` proves possession of the buyer's key (`GET /challenge`, an EIP-712
 * signature, `POST /certificates`); the service scores the key's addresses
 * from their history and attests the level in EAS through the
 * `CertificateResolver`. The certificate service must answer it valid, and
 * `CertificateVerifier.isValid(uid)` must hold on chain.
 */
import { apiClient } from "../../chain/openapi/clients.js";
import { ACCOUNTS, type DemoStep } from "../context.js";

/** Step 7: a trust certificate for the buyer. */
export const certificate: DemoStep = {
  name: "certificate",
  title: "trust certificate for the buyer",
  async run(context, record) {
    const chain = context.home;
    const buyer = context.address(ACCOUNTS.buyer);
    const requested = await context.cli(["certificates", "request", "--api", context.service("certificates")], {
      env: { BANK_CHAIN_CERTIFICATE_KEY: context.wallet(ACCOUNTS.buyer).privateKey },
    });
    const view = requested.certificate as {
      uid: string;
      level: string;
      score: number;
      txHash: string;
      subject: string;
    };
    record.tx(chain, view.txHash, "EAS.attest through the CertificateResolver (the certificate)");
    record.note(`certificate ${view.uid}: level ${view.level}, score ${view.score}`);
    record.equal("subject is the buyer", view.subject, buyer);
    const service = apiClient("certificates", context.service("certificates"));
    const shown = (await service.GET("/certificates/{uid}", { params: { path: { uid: view.uid } } })).data as
      { status?: string; valid?: boolean } | undefined;
    record.equal("certificate service: valid", shown?.valid, true);
    record.equal(
      "CertificateVerifier.isValid(uid) on chain",
      await chain.contract("CertificateVerifier").getFunction("isValid")(view.uid),
      true,
    );
  },
};
