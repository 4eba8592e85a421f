/**
 * The console in Chromium on a whole `npm start` stack: after some activity (a payment from bank A to bank B,
 * settled and acknowledged), `checkConsole` loads every page, checks each figure against its source, follows a
 * link to a transaction and freezes a fresh address through the confirmation page. Screenshots go to
 * `test-results/console/<page>.png`.
 */
import path from "node:path";

import { expect } from "chai";
import { Wallet } from "ethers";

import { readStackFile, stackFilePath } from "../../src/chain/stack-file.js";
import { ROOT } from "../helpers/processes.js";
import { stackEnv, stackForSuite } from "../helpers/stack.js";
import { checkConsole } from "./browser-checks.js";

describe("console: in Chromium on a running stack", function () {
  this.timeout(600_000);
  const suite = stackForSuite("bank-chain-console-browser-");

  it("shows every panel with figures equal to their sources, links to txs, and freezes through confirmation", async function () {
    const stack = readStackFile(stackFilePath("localhost", stackEnv(suite.place)));
    const bankA = stack.services["bank-a"]!;
    const endToEndId = "E2E-CONSOLE-1";
    const sent = await fetch(`${bankA}/payments`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        debtorAccount: "alice",
        creditorBank: "B",
        creditorAccount: "bob",
        amount: "12345",
        currency: "USD",
        endToEndId,
      }),
    });
    expect(sent.status, await sent.clone().text()).to.equal(202);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const payment = (await (await fetch(`${bankA}/payments/${endToEndId}`)).json()) as { status: string };
      if (payment.status === "Acknowledged") break;
      if (Date.now() > deadline) throw new Error(`payment ${endToEndId} still ${payment.status}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // A checkout quote: an invoice awaiting its payment.
    const quote = await fetch(`${stack.services["checkout"]!}/quotes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sku: "sku-espresso", payer: Wallet.createRandom().address }),
    });
    expect(quote.status, await quote.clone().text()).to.equal(201);
    const consoleUrl = stack.services["console"];
    expect(consoleUrl, "npm start runs the console").to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(suite.stack.stdout).to.include(`service console ${consoleUrl}`);

    const report = await checkConsole({
      consoleUrl: consoleUrl!,
      stack,
      outDir: path.join(ROOT, "test-results", "console"),
    });
    // The chain panels always have figures; the payment shows on the settlements panel.
    expect(report.figures["overview"]).to.be.greaterThanOrEqual(10);
    expect(report.figures["banks"]).to.be.greaterThanOrEqual(10);
    expect(report.figures["tokens"]).to.be.greaterThanOrEqual(4);
    expect(report.figures["settlements"]).to.be.greaterThanOrEqual(4);
    expect(report.figures["checkout"], "the quote's invoice").to.be.greaterThanOrEqual(2);
    // Every panel reads its services: none is "not available" on a whole stack.
    for (const [page, services] of Object.entries(report.unavailable)) expect(services, page).to.deep.equal([]);
    expect(report.followedTx).to.match(/^\/tx\/31337\/0x[0-9a-f]{64}$/);
  });
});
