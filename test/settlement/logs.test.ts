import { expect } from "chai";

import { createLogger, lineLog } from "../../src/chain/log.js";
import { startBanks, waitForPayment, type Banks } from "./helpers.js";

describe("settlement: the bank agents' structured log", function () {
  let banks: Banks | undefined;
  afterEach(async function () {
    await banks?.stop();
    banks = undefined;
  });

  it("carries the payment's id on its lines and the request id on the access line of its POST", async function () {
    const written: string[] = [];
    // At debug level: every step of a payment has its line (`info` keeps the milestones and the chain events).
    const logger = createLogger({
      service: "banks",
      level: "debug",
      destination: { write: (line: string) => void written.push(line) },
    });
    banks = await startBanks({ log: lineLog(logger) });
    const { a } = banks;
    const reply = await fetch(`${a.url}/payments`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "req-E2E-LOG-1" },
      body: JSON.stringify({
        debtorAccount: "alice",
        creditorBank: "B",
        creditorAccount: "bob",
        amount: "100",
        currency: "USD",
        endToEndId: "E2E-LOG-1",
      }),
    });
    expect(reply.status).to.equal(202);
    expect(reply.headers.get("x-request-id")).to.equal("req-E2E-LOG-1");
    await waitForPayment(a, "E2E-LOG-1", (p) => p.status === "Acknowledged");
    const lines = written.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((line) => line.reqId === "req-E2E-LOG-1")).to.include({
      msg: "bank-a: request",
      method: "POST",
      path: "/payments",
      status: 202,
    });
    const about = lines.filter((line) => line.paymentId === "E2E-LOG-1").map((line) => line.msg as string);
    expect(about).to.include("bank-a: step accept:committed E2E-LOG-1");
    // Each event applied to the books at info, with the milestones; the steps between them at debug.
    const levelOf = (start: string) => lines.find((line) => (line.msg as string).startsWith(start))?.level;
    expect(levelOf("bank-a: step accept:committed E2E-LOG-1")).to.equal("debug");
    expect(levelOf("bank-a: step initiate:sending E2E-LOG-1")).to.equal("debug");
    expect(levelOf("bank-a: accepted E2E-LOG-1")).to.equal("info");
    expect(levelOf("bank-a: step event:SettlementAcknowledged E2E-LOG-1")).to.equal("info");
    expect(levelOf("bank-b: step event:SettlementInitiated E2E-LOG-1")).to.equal("info");
    expect(about.some((msg) => msg.startsWith("bank-a: accepted E2E-LOG-1: 100 USD to "))).to.equal(true);
    expect(about.some((msg) => msg.startsWith("bank-b: "))).to.equal(true);
    // Lines with a payment id name that payment.
    for (const line of lines) {
      if (typeof line.paymentId === "string") expect(line.msg as string).to.include(line.paymentId);
    }
  });

  it("carries the payment's id on the line of a payment found expired, at info", async function () {
    const written: string[] = [];
    const logger = createLogger({
      service: "banks",
      destination: { write: (line: string) => void written.push(line) },
    });
    banks = await startBanks({ log: lineLog(logger), ttlSeconds: 600 });
    await banks.b.stop();
    await banks.a.submit({
      debtorAccount: "alice",
      creditorBank: "B",
      creditorAccount: "bob",
      amount: 100n,
      currency: "USD",
      endToEndId: "E2E-LOG-2",
    });
    await waitForPayment(banks.a, "E2E-LOG-2", (p) => p.debtor.status === "Initiated");
    await banks.suite.networkHelpers.time.increase(601);
    await banks.suite.networkHelpers.mine(1);
    await waitForPayment(banks.a, "E2E-LOG-2", (p) => p.status === "Refunded");
    const lines = written.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((line) => line.msg === "bank-a: expired E2E-LOG-2: refund queued")).to.include({
      level: "info",
      paymentId: "E2E-LOG-2",
    });
  });
});
