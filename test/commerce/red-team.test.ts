/**
 * The checkout attacked from outside: the service on the in-process chain (`service-helpers.ts`), and around it a
 * griefer of deposit addresses, strangers calling the contract with what the API shows them, a malicious retailer
 * (a fake HTTP shop on 127.0.0.1 in front of the real one, tampering with its answers), abuse of the API, and the
 * chain changing under the service (a frozen payer, a pause, a price at its bound). Each test fails if the hole
 * it names is open.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import { expect } from "chai";
import { hexlify, id, keccak256, MaxUint256, randomBytes, toUtf8Bytes, Transaction } from "ethers";

import { intentFromJson, intentTuple } from "../../src/commerce/intent.js";
import { receiptHash, type Receipt } from "../../src/commerce/receipt.js";
import { call } from "../helpers/http.js";
import { checkoutFixture, type CheckoutFixture, type InvoiceJson } from "./service-helpers.js";

type Stack = Awaited<ReturnType<CheckoutFixture["start"]>>;

/** How the fake retailer answers `POST /orders` (everything else it passes to the real one). */
type Mode =
  "honest" | "otherReference" | "otherAmount" | "wrongHash" | "replay" | "garbage" | "huge" | "slow" | "redirect";

const REFUSED_MODES: readonly Mode[] = ["otherReference", "otherAmount", "wrongHash", "replay"];
const UNAVAILABLE_MODES: readonly Mode[] = ["garbage", "huge", "redirect", "slow"];

/**
 * A retailer in front of the real one (`upstream`): in `honest` mode it passes every call on; otherwise it takes
 * the order at the real retailer and answers the checkout with a tampered receipt, garbage, a megabyte, a
 * redirect to the real retailer, or an answer that never ends.
 */
async function fakeRetailer() {
  const state = { upstream: "", mode: "honest" as Mode, first: undefined as unknown, redirected: 0 };
  const timers = new Set<NodeJS.Timeout>();
  const forward = async (request: IncomingMessage, body: string) => {
    const key = request.headers["idempotency-key"];
    const reply = await fetch(
      `${state.upstream}${request.url}`,
      request.method === "POST"
        ? {
            method: "POST",
            headers: {
              "content-type": "application/json",
              ...(key === undefined ? {} : { "idempotency-key": String(key) }),
            },
            body,
          }
        : {},
    );
    return { status: reply.status, json: (await reply.json()) as Record<string, unknown> };
  };
  const send = (response: ServerResponse, status: number, json: unknown) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(json));
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString("utf8");
        if (request.url !== "/orders" || state.mode === "honest") {
          const reply = await forward(request, body);
          if (request.url === "/orders" && state.first === undefined) state.first = reply.json;
          return send(response, reply.status, reply.json);
        }
        switch (state.mode) {
          case "garbage":
            response.writeHead(200, { "content-type": "application/json" });
            return response.end("<html>thank you for your order</html>");
          case "huge":
            return send(response, 201, { orderId: "order-1", padding: "x".repeat(2_000_000) });
          case "redirect":
            state.redirected += 1;
            response.writeHead(307, { location: `${state.upstream}/orders` });
            return response.end();
          case "slow": {
            response.writeHead(201, { "content-type": "application/json" });
            response.write("{");
            const timer = setInterval(() => response.write(" "), 200);
            timers.add(timer);
            response.on("close", () => {
              clearInterval(timer);
              timers.delete(timer);
            });
            return;
          }
          default:
            break;
        }
        const reply = await forward(request, body);
        const answer = reply.json as { orderId: string; receipt: Receipt; receiptHash: string };
        const tampered = (receipt: Receipt) => ({ ...answer, receipt, receiptHash: receiptHash(receipt) });
        switch (state.mode) {
          case "otherReference":
            return send(response, 201, tampered({ ...answer.receipt, reference: hexlify(randomBytes(32)) }));
          case "otherAmount":
            return send(
              response,
              201,
              tampered({ ...answer.receipt, amount: (BigInt(answer.receipt.amount) - 1n).toString() }),
            );
          case "wrongHash":
            return send(response, 201, { ...answer, receiptHash: keccak256(toUtf8Bytes("another receipt")) });
          default:
            // "replay": the answer the retailer gave for the first order, another purchase's.
            return send(response, 201, state.first);
        }
      })().catch((error: unknown) => send(response, 502, { error: { code: "FAKE", message: String(error) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    state,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      for (const timer of timers) clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("checkout red team", function () {
  this.timeout(300_000);
  let f: CheckoutFixture;
  let stack: Stack | undefined;

  before(async function () {
    f = await checkoutFixture();
  });
  afterEach(async function () {
    await stack?.stop();
    stack = undefined;
  });
  after(function () {
    f?.cleanup();
  });

  const balance = (address: string) => f.suite.token.balanceOf(address);
  const statusOf = async (intentId: string) => Number((await f.checkout.paymentOf(intentId)).status);
  const captures = async (intentId: string) =>
    (await f.checkout.queryFilter(f.checkout.filters.PaymentCaptured(intentId))).length;
  const tupleOf = (invoice: InvoiceJson) => intentTuple(intentFromJson(invoice.intent));

  /** Waits until `test` holds of the invoice (and `also`, if given). */
  async function until(
    intentId: string,
    test: (invoice: InvoiceJson) => boolean,
    also: () => Promise<boolean> = async () => true,
    timeoutMs = 60_000,
  ): Promise<InvoiceJson> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const invoice = await stack!.invoice(intentId);
      if (test(invoice) && (await also())) return invoice;
      if (Date.now() > deadline) {
        throw new Error(
          `invoice ${intentId} ${invoice.status}/${invoice.purchase.state} (last error: ${invoice.purchase.lastError ?? "none"}): ${JSON.stringify(invoice.history, null, 1)}\n${f.lines.slice(-8).join("\n")}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it("a griefer's dust at the deposit address of a frozen payer's quote does not stop the service buying for others", async function () {
    stack = await f.start();
    const [attacker, frozen] = [await f.payer(100n, 17), f.signers[18]!];
    const griefed = await stack.quote("sku-book", frozen.address);
    await f.deposit(attacker, griefed, 1n);
    await until(griefed.intentId, (i) => i.exception === "paidPartial");
    await (await f.suite.token.connect(f.suite.accounts.compliance).freeze(frozen.address)).wait();
    try {
      // No new quote for a frozen payer.
      const refused = await call(`${stack.url}/quotes`, "POST", { sku: "sku-book", payer: frozen.address });
      expect([refused.status, refused.body.error.code]).to.deep.equal([400, "CHECKOUT_BAD_PAYER"]);
      await f.suite.networkHelpers.time.increase(901);
      await f.suite.networkHelpers.mine();
      // The quote expired: its dust cannot go back to a frozen payer. Someone else's purchase must go on.
      const payer = await f.payer(10_000n, 16);
      const invoice = await stack.quote("sku-book", payer.address);
      await f.deposit(payer, invoice);
      await stack.until(invoice.intentId, "complete", "captured", 60_000);
      const ended = await stack.until(griefed.intentId, "expired");
      expect(ended.history.map((h) => h.note).join("\n")).to.contain("BankTokenFrozen");
      expect(await balance(griefed.depositAddress)).to.equal(1n); // anyone may return it once the payer is unfrozen
    } finally {
      await (await f.suite.token.connect(f.suite.accounts.compliance).unfreeze(frozen.address)).wait();
    }
    // Once the token takes the return again, anyone sends the dust back to the payer.
    await (await f.checkout.connect(attacker).returnDeposit(tupleOf(griefed), await f.suite.token.getAddress())).wait();
    expect(await balance(frozen.address)).to.equal(1n);
  });

  it("invoices stuck at the head of a step (a void the token refuses) do not starve newer ones: every due invoice is looked at each round", async function () {
    // One invoice a page, so a single stuck invoice fills what a round reads; the default page is 100.
    stack = await f.start({ env: { CHECKOUT_PAGE_SIZE: "1" } });
    const compliance = f.suite.token.connect(f.suite.accounts.compliance);
    const frozen = await f.payer(10_000n, 18);
    const before = await balance(frozen.address);
    const stuck = await stack.quote("sku-book", frozen.address);
    // The retailer answers slowly, then declines: the payer is frozen while the order is under way, so the void
    // that gives the money back reverts (BankTokenFrozen) every round until the payer is unfrozen.
    await stack.fail("slow", 1);
    await stack.fail("decline", 1);
    expect((await stack.authorize(stuck, frozen)).status).to.equal(200);
    await until(stuck.intentId, (i) => i.purchase.state === "ordering");
    await (await compliance.freeze(frozen.address)).wait();
    try {
      await until(
        stuck.intentId,
        (i) => i.purchase.state === "refused" && /BankTokenFrozen/.test(i.purchase.lastError ?? ""),
      );
      // Someone else's purchase, newer, in the same step (ordered, to capture): it must not wait behind the void.
      const payer = await f.payer(10_000n, 16);
      const invoice = await stack.quote("sku-book", payer.address);
      await f.deposit(payer, invoice);
      await stack.until(invoice.intentId, "complete", "captured", 30_000);
      expect(await statusOf(stuck.intentId)).to.equal(1); // still Authorized: the void is refused
    } finally {
      await (await compliance.unfreeze(frozen.address)).wait();
    }
    // Once the token pays the payer again, the void goes through.
    await stack.until(stuck.intentId, "invalid", "voided", 30_000);
    expect(await balance(frozen.address)).to.equal(before);
  });

  it("a partial deposit made before the payer paid by EIP-3009 goes back to the payer", async function () {
    stack = await f.start();
    const payer = await f.payer(10_000n, 16);
    const before = await balance(payer.address);
    const invoice = await stack.quote("sku-book", payer.address);
    await f.deposit(payer, invoice, 1_000n);
    await until(invoice.intentId, (i) => i.exception === "paidPartial");
    const authorized = await stack.authorize(invoice, payer);
    expect(authorized.status, JSON.stringify(authorized.body)).to.equal(200);
    await stack.until(invoice.intentId, "complete", "captured");
    await until(
      invoice.intentId,
      () => true,
      async () => (await balance(invoice.depositAddress)) === 0n,
    );
    expect(await balance(payer.address)).to.equal(before - BigInt(invoice.intent.tokenAmount));
  });

  it("an invoice made invalid by a price move, then paid on chain once the price is back, is bought rather than left in limbo", async function () {
    stack = await f.start();
    const payer = await f.payer(10_000n, 16);
    const before = await balance(payer.address);
    const invoice = await stack.quote("sku-espresso", payer.address);
    const latest = await f.feed.latestRoundData();
    await (await f.feed.updateAnswer((latest.answer * 102n) / 100n)).wait();
    try {
      await f.deposit(payer, invoice);
      const invalid = await stack.until(invoice.intentId, "invalid");
      expect(invalid.exception).to.equal("priceMoved");
      await until(
        invoice.intentId,
        () => true,
        async () => (await balance(payer.address)) === before,
      );
    } finally {
      await (await f.feed.updateAnswer(latest.answer)).wait();
    }
    // The quote still holds on chain: the payer authorizes it itself.
    await (await f.suite.token.connect(payer).approve(await f.checkout.getAddress(), MaxUint256)).wait();
    await (await f.checkout.connect(payer).authorize(tupleOf(invoice), invoice.operatorSignature, 0, "0x")).wait();
    const done = await stack.until(invoice.intentId, "complete", "captured");
    expect(done.method).to.equal("Allowance");
    expect(await captures(invoice.intentId)).to.equal(1);
    expect((await stack.orders()).filter((o) => o.reference === invoice.intent.orderRef)).to.have.length(1);
  });

  it("a malicious retailer: nothing is captured on a receipt that is not this purchase's, and no answer hangs the service", async function () {
    const fake = await fakeRetailer();
    try {
      stack = await f.start({ env: { CHECKOUT_RETAILER_URL: fake.url } });
      fake.state.upstream = stack.shop;
      const payer = await f.payer(100_000n, 16);
      const paid = async () => {
        const invoice = await stack!.quote("sku-book", payer.address);
        await f.deposit(payer, invoice);
        return invoice;
      };
      // An honest first order: the receipt the "replay" mode answers again.
      const first = await paid();
      await stack.until(first.intentId, "complete", "captured");

      for (const mode of REFUSED_MODES) {
        fake.state.mode = mode;
        const invoice = await paid();
        const done = await stack.until(invoice.intentId, "invalid", "voided");
        expect(done.exception, mode).to.equal("RETAILER_RECEIPT_MISMATCH");
        expect(await captures(invoice.intentId), mode).to.equal(0);
        expect(await statusOf(invoice.intentId), mode).to.equal(3); // Voided
      }

      for (const mode of UNAVAILABLE_MODES) {
        fake.state.mode = mode;
        const ordersBefore = (await stack.orders()).length;
        const invoice = await paid();
        const waiting = await until(
          invoice.intentId,
          (i) => i.purchase.attempts >= 1 && i.purchase.state === "ordering",
          async () => {
            const view = (await call(`${stack!.url}/invoices/${invoice.intentId}`)).body as {
              purchase: { lastError: string | null };
            };
            return view.purchase.lastError !== null;
          },
        );
        expect(waiting.status, mode).to.equal("confirmed");
        expect(await statusOf(invoice.intentId), mode).to.equal(1); // still in escrow
        if (mode === "redirect") {
          // The order was not sent on to wherever the retailer pointed.
          expect(fake.state.redirected).to.be.greaterThan(0);
          expect((await stack.orders()).length, "an order placed through a redirect").to.equal(ordersBefore);
        }
        fake.state.mode = "honest";
        await stack.until(invoice.intentId, "complete", "captured", 60_000);
        expect((await stack.orders()).filter((o) => o.reference === invoice.intent.orderRef)).to.have.length(1);
      }
    } finally {
      await stack?.stop();
      stack = undefined;
      await fake.stop();
    }
  });

  it("a slow retailer does not make the adapter order after the authorization expired (the margin is checked on the clock of the moment)", async function () {
    const fake = await fakeRetailer();
    try {
      stack = await f.start({
        env: {
          CHECKOUT_RETAILER_URL: fake.url,
          CHECKOUT_QUOTE_SECONDS: "60",
          CHECKOUT_AUTHORIZATION_SECONDS: "120",
        },
      });
      fake.state.upstream = stack.shop;
      const payer = await f.payer(10_000n, 16);
      fake.state.mode = "slow"; // each order hangs until the adapter's 10 s timeout
      const a = await stack.quote("sku-book", payer.address);
      const b = await stack.quote("sku-book", payer.address);
      // Both paid in one block: one round confirms both, and the next has A then B to buy.
      await f.provider.send("evm_setAutomine", [false]);
      try {
        const token = f.suite.token.connect(payer);
        await token.transfer(a.depositAddress, BigInt(a.intent.tokenAmount));
        await token.transfer(b.depositAddress, BigInt(b.intent.tokenAmount));
        await f.provider.send("evm_mine", []);
      } finally {
        await f.provider.send("evm_setAutomine", [true]);
      }
      // While A's order hangs, B waits its turn in the same round, and the authorizations run out.
      await until(a.intentId, (i) => i.purchase.attempts === 1, undefined, 30_000);
      const waiting = await stack.invoice(b.intentId);
      expect([waiting.status, waiting.purchase.state]).to.deep.equal(["confirmed", "none"]);
      await f.suite.networkHelpers.time.increase(200);
      await f.suite.networkHelpers.mine();
      fake.state.mode = "honest";
      const voided = await stack.until(b.intentId, "invalid", "voided", 60_000);
      expect(voided.exception).to.equal("retailerUnavailable");
      expect((await stack.orders()).filter((o) => o.reference === b.intent.orderRef)).to.have.length(0);
      await stack.until(a.intentId, "invalid", "voided", 60_000);
    } finally {
      await stack?.stop();
      stack = undefined;
      await fake.stop();
    }
  });

  it("API abuse: bad quotes, ids, bodies and authorizations are refused with a 4xx, and the invoice stays new", async function () {
    stack = await f.start();
    const payer = await f.payer(10_000n, 16);
    const before = await balance(payer.address);
    const stranger = f.signers[17]!;
    for (const body of [
      { sku: "sku-book", quantity: 0, payer: payer.address },
      { sku: "sku-book", quantity: 1e12, payer: payer.address },
      { sku: "sku-book", quantity: 1.5, payer: payer.address },
      { sku: "x".repeat(65), payer: payer.address },
      { sku: "sku-book", payer: "0x0000000000000000000000000000000000000000" },
      { sku: "sku-book", payer: payer.address, extra: 1 },
      { sku: "sku-book", payer: await f.checkout.getAddress() },
      { sku: "sku-book", payer: await f.suite.token.getAddress() },
    ]) {
      const reply = await call(`${stack.url}/quotes`, "POST", body);
      expect(reply.status, JSON.stringify(body)).to.be.within(400, 499);
    }
    const oversized = await call(`${stack.url}/quotes`, "POST", {
      sku: "sku-book",
      payer: payer.address,
      pad: "x".repeat(20_000),
    });
    expect(oversized.status).to.equal(413);
    expect((await call(`${stack.url}/invoices/0x1234`)).status).to.be.within(400, 404);
    expect((await call(`${stack.url}/invoices/${id("nothing")}`)).status).to.equal(404);

    const invoice = await stack.quote("sku-book", payer.address);
    const other = await stack.quote("sku-book", payer.address);
    // A refund of what was never captured.
    const refund = await call(`${stack.url}/invoices/${invoice.intentId}/refunds`, "POST", {});
    expect([refund.status, refund.body.error.code]).to.deep.equal([409, "CHECKOUT_WRONG_STATUS"]);
    // An authorization signed by someone other than the payer.
    const byStranger = await stack.authorize(invoice, stranger);
    expect([byStranger.status, byStranger.body.error.code]).to.deep.equal([409, "CHECKOUT_REFUSED"]);
    // The payer's authorization for one invoice replayed on another.
    const signature = await f.receiveSignature(payer, other, BigInt(other.intent.tokenAmount));
    const replayed = await call(`${stack.url}/invoices/${invoice.intentId}/authorization`, "POST", {
      validAfter: "0",
      validBefore: "99999999999",
      signature,
    });
    expect([replayed.status, replayed.body.error.code]).to.deep.equal([409, "CHECKOUT_REFUSED"]);
    // Integers past uint256 are a bad request, not a crash.
    const huge = await call(`${stack.url}/invoices/${invoice.intentId}/authorization`, "POST", {
      validAfter: "9".repeat(78),
      validBefore: "99999999999",
      signature,
    });
    expect(huge.status, JSON.stringify(huge.body)).to.equal(400);
    const hugeRefund = await call(`${stack.url}/invoices/${invoice.intentId}/refunds`, "POST", {
      amount: "9".repeat(78),
    });
    expect(hugeRefund.status, JSON.stringify(hugeRefund.body)).to.be.within(400, 499);
    expect((await stack.invoice(invoice.intentId)).status).to.equal("new");
    expect(await balance(payer.address)).to.equal(before);
  });

  it("two authorizations at once pay once; two full refunds at once refund once", async function () {
    stack = await f.start();
    const payer = await f.payer(10_000n, 16);
    const before = await balance(payer.address);
    const invoice = await stack.quote("sku-book", payer.address);
    const amount = BigInt(invoice.intent.tokenAmount);
    const both = await Promise.all([stack.authorize(invoice, payer), stack.authorize(invoice, payer)]);
    expect(both.map((r) => r.status).sort()).to.deep.equal([200, 409]);
    await stack.until(invoice.intentId, "complete", "captured");
    expect(await balance(payer.address)).to.equal(before - amount);
    const merchantBefore = await balance(f.merchant.address);
    const refunds = await Promise.all([
      call(`${stack.url}/invoices/${invoice.intentId}/refunds`, "POST", {}),
      call(`${stack.url}/invoices/${invoice.intentId}/refunds`, "POST", {}),
    ]);
    expect(refunds.filter((r) => r.status === 200)).to.have.length(1);
    await stack.until(invoice.intentId, "refunded");
    expect(await balance(payer.address)).to.equal(before);
    expect(await balance(f.merchant.address)).to.equal(merchantBefore - amount);
  });

  it("a full refund racing a partial one never cancels the order without refunding it all", async function () {
    stack = await f.start();
    const payer = await f.payer(10_000n, 16);
    const invoice = await stack.quote("sku-book", payer.address);
    const amount = BigInt(invoice.intent.tokenAmount);
    await f.deposit(payer, invoice);
    const done = await stack.until(invoice.intentId, "complete", "captured");
    await f.payer(10_000n, 13); // the settlement account's refund float
    const before = await balance(payer.address);
    const url = `${stack.url}/invoices/${invoice.intentId}/refunds`;
    const [full, partial] = await Promise.all([call(url, "POST", {}), call(url, "POST", { amount: "1000" })]);
    expect([full.status, partial.status]).to.include(200);
    const refunded = (await f.checkout.paymentOf(invoice.intentId)).refunded;
    expect(await balance(payer.address)).to.equal(before + refunded);
    const order = (await stack.orders()).find((o) => o.orderId === done.purchase.orderId)!;
    // The order is cancelled exactly when the whole payment came back.
    expect({ cancelled: order.status === "cancelled", all: refunded === amount }).to.deep.equal({
      cancelled: refunded === amount,
      all: refunded === amount,
    });
    expect(refunded === amount, JSON.stringify([full.body, partial.body]).slice(0, 400)).to.equal(true);
  });

  it("the operator role revoked mid-flight: no quote is signed that cannot be paid, a pending capture waits and lands once it is back", async function () {
    stack = await f.start();
    const payer = await f.payer(10_000n, 16);
    const operatorRole = await f.checkout.OPERATOR_ROLE();
    const admin = f.checkout.connect(f.suite.accounts.admin);
    const holder = (await f.checkout.queryFilter(f.checkout.filters.RoleGranted(operatorRole)))[0]!.args.account;
    await stack.fail("down", 6); // about 3 s of retries
    const invoice = await stack.quote("sku-book", payer.address);
    await f.deposit(payer, invoice);
    await stack.until(invoice.intentId, "confirmed", "ordering");
    await (await admin.revokeRole(operatorRole, holder)).wait();
    try {
      const quote = await call(`${stack.url}/quotes`, "POST", { sku: "sku-book", payer: payer.address });
      expect([quote.status, quote.body.error?.code], JSON.stringify(quote.body)).to.deep.equal([
        503,
        "CHECKOUT_NOT_OPERATOR",
      ]);
      await until(
        invoice.intentId,
        (i) => i.purchase.state === "ordered",
        async () => {
          const view = (await call(`${stack!.url}/invoices/${invoice.intentId}`)).body as {
            purchase: { lastError: string | null };
          };
          return (view.purchase.lastError ?? "").includes("CheckoutInvalidOperatorSignature");
        },
      );
      expect(await statusOf(invoice.intentId)).to.equal(1);
    } finally {
      await (await admin.grantRole(operatorRole, holder)).wait();
    }
    await stack.until(invoice.intentId, "complete", "captured");
    expect(await captures(invoice.intentId)).to.equal(1);
  });

  it("a capture sent and then dropped from the mempool before it was mined: the service notices and captures again", async function () {
    stack = await f.start();
    const payer = await f.payer(10_000n, 16);
    await stack.fail("down", 5); // about 1.5 s of retries: time to stop the automining
    const invoice = await stack.quote("sku-book", payer.address);
    await f.deposit(payer, invoice);
    await stack.until(invoice.intentId, "confirmed", "ordering");
    await f.provider.send("evm_setAutomine", [false]);
    let dropped: string | undefined;
    let signed: string | undefined;
    try {
      const capturing = await stack.until(invoice.intentId, "confirmed", "capturing");
      dropped = capturing.history.find((h) => h.note.startsWith("capture sent: "))!.note.slice("capture sent: ".length);
      signed = Transaction.from((await f.provider.getTransaction(dropped))!).serialized;
      expect(await f.provider.send("hardhat_dropTransaction", [dropped])).to.equal(true);
      await f.provider.send("evm_setAutomine", [true]);
      await stack.until(invoice.intentId, "complete", "captured", 90_000);
      expect(await captures(invoice.intentId)).to.equal(1);
      const notes = (await stack.invoice(invoice.intentId)).history.filter((h) => h.note.startsWith("capture sent"));
      expect(notes.length, "sent again").to.be.greaterThan(1);
    } finally {
      await f.provider.send("evm_setAutomine", [true]);
      if ((await statusOf(invoice.intentId)) === 1 && signed !== undefined) {
        // Unstick a service that waits for ever on the dropped hash: mine that very transaction.
        await f.provider.send("eth_sendRawTransaction", [signed]).catch(() => undefined);
      }
    }
  });

  it("strangers with what the API shows: an early return, a copied capture, an early reclaim fail; a raced collect buys once", async function () {
    stack = await f.start();
    const payer = await f.payer(10_000n, 16);
    const stranger = f.checkout.connect(f.signers[17]!);
    const token = await f.suite.token.getAddress();
    const first = await stack.quote("sku-book", payer.address);
    await f.deposit(payer, first, 1n);
    await until(first.intentId, (i) => i.exception === "paidPartial");
    await expect(stranger.returnDeposit(tupleOf(first), token)).to.be.revertedWithCustomError(
      f.checkout,
      "CheckoutDepositNotReturnable",
    );
    await expect(stranger.reclaim(tupleOf(first))).to.be.revertedWithCustomError(f.checkout, "CheckoutWrongStatus");
    // The stranger collects the deposit itself, racing the verifier.
    await f.deposit(payer, first, BigInt(first.intent.tokenAmount) - 1n);
    await stranger.authorize(tupleOf(first), first.operatorSignature, 3, "0x").catch(() => undefined);
    const done = await stack.until(first.intentId, "complete", "captured");
    expect(await captures(first.intentId)).to.equal(1);
    await expect(stranger.reclaim(tupleOf(first))).to.be.revertedWithCustomError(f.checkout, "CheckoutWrongStatus");

    // The capture signature of the first invoice, copied onto a second one paid and not yet captured.
    const [capture] = await f.checkout.queryFilter(f.checkout.filters.PaymentCaptured(first.intentId));
    const tx = await f.provider.getTransaction(capture!.transactionHash);
    const copied = f.checkout.interface.decodeFunctionData("capture", tx!.data);
    await stack.fail("down", 1_000);
    const second = await stack.quote("sku-book", payer.address);
    await f.deposit(payer, second);
    await stack.until(second.intentId, "confirmed", "ordering");
    await expect(
      stranger.capture(tupleOf(second), done.purchase.receiptHash!, copied[2] as string),
    ).to.be.revertedWithCustomError(f.checkout, "CheckoutInvalidOperatorSignature");
    await expect(stranger.reclaim(tupleOf(second))).to.be.revertedWithCustomError(
      f.checkout,
      "CheckoutAuthorizationNotExpired",
    );
    expect(await statusOf(second.intentId)).to.equal(1);
  });

  it("the checkout paused while a deposit waits: the invoice is not thrown away; collected and bought once unpaused", async function () {
    stack = await f.start();
    const payer = await f.payer(10_000n, 16);
    const invoice = await stack.quote("sku-book", payer.address);
    const pauser = f.checkout.connect(f.suite.accounts.pauser);
    await (await pauser.pause()).wait();
    try {
      await f.deposit(payer, invoice);
      await until(
        invoice.intentId,
        () => true,
        async () => {
          const view = (await call(`${stack!.url}/invoices/${invoice.intentId}`)).body as {
            purchase: { lastError: string | null };
          };
          return (view.purchase.lastError ?? "").includes("EnforcedPause");
        },
      );
      expect((await stack.invoice(invoice.intentId)).status).to.equal("new");
      expect(await balance(invoice.depositAddress)).to.equal(BigInt(invoice.intent.tokenAmount));
    } finally {
      await (await pauser.unpause()).wait();
    }
    await stack.until(invoice.intentId, "complete", "captured");
  });

  it("a price exactly at the deviation bound still pays", async function () {
    stack = await f.start();
    const payer = await f.payer(10_000n, 16);
    const invoice = await stack.quote("sku-espresso", payer.address);
    const latest = await f.feed.latestRoundData();
    const bound = BigInt(invoice.intent["maxDeviationBps"]!);
    expect((latest.answer * bound) % 10_000n).to.equal(0n);
    await (await f.feed.updateAnswer(latest.answer + (latest.answer * bound) / 10_000n)).wait();
    try {
      await f.deposit(payer, invoice);
      await stack.until(invoice.intentId, "complete", "captured");
    } finally {
      await (await f.feed.updateAnswer(latest.answer)).wait();
    }
  });
});
