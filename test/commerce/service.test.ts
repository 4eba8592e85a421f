/**
 * The checkout service end to end on the in-process chain: a quote of the retailer's fiat price, a payment by
 * the ERC-681 transfer or by an EIP-3009 authorization, the verifier, the purchase at a real retailer over HTTP,
 * the capture against its receipt; and every way it goes wrong: the retailer down then up, the retailer refusing,
 * an underpayment, an overpayment, a payment twice, a quote that expires, a price that moves, a refund.
 */
import { expect } from "chai";
import { getAddress } from "ethers";

import { receiptHash } from "../../src/commerce/receipt.js";
import { call } from "../helpers/http.js";
import { checkoutFixture, type CheckoutFixture } from "./service-helpers.js";

const FEE_BPS = 100n;

describe("checkout service", function () {
  this.timeout(180_000);
  let f: CheckoutFixture;
  let stack: Awaited<ReturnType<CheckoutFixture["start"]>> | undefined;

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

  it("sells a USD good for bUSD paid to the deposit address: one order, captured against its receipt, the fee split", async function () {
    stack = await f.start();
    const payer = await f.payer(100_000n);
    const [merchantBefore, feeBefore, payerBefore] = await Promise.all([
      balance(f.merchant.address),
      balance(f.feeReceiver.address),
      balance(payer.address),
    ]);
    const invoice = await stack.quote("sku-headphones", payer.address);
    expect(invoice.status).to.equal("new");
    expect(invoice.intent["fiatAmount"]).to.equal("8999");
    expect(invoice.intent["currency"]).to.equal("USD");
    expect(invoice.intent.tokenAmount).to.equal("8999");
    expect(invoice.depositAddress).to.equal(await f.checkout.depositAddress(invoice.intentId));
    expect(invoice.paymentRequest).to.equal(
      `ethereum:${await f.suite.token.getAddress()}@31337/transfer?address=${invoice.depositAddress}&uint256=8999`,
    );
    expect(await f.checkout.intentId({ ...invoice.intent, currency: "0x555344" } as never)).to.equal(invoice.intentId);

    await f.deposit(payer, invoice);
    const done = await stack.until(invoice.intentId, "complete", "captured");
    expect(done.method).to.equal("Deposit");
    const orders = (await stack.orders()).filter((order) => order.reference === invoice.intent.orderRef);
    expect(orders).to.have.length(1);
    // The receipt the capture names is the retailer's, hashed as anyone can hash it.
    const order = (await call(`${stack.shop}/orders/${orders[0]!.orderId}`)).body as { receipt: never };
    expect(done.purchase.receiptHash).to.equal(receiptHash(order.receipt));
    const captured = await f.checkout.queryFilter(f.checkout.filters.PaymentCaptured(invoice.intentId));
    expect(captured).to.have.length(1);
    expect(captured[0]!.args.receiptHash).to.equal(done.purchase.receiptHash);
    const fee = (8999n * FEE_BPS) / 10_000n;
    expect(await balance(f.merchant.address)).to.equal(merchantBefore + 8999n - fee);
    expect(await balance(f.feeReceiver.address)).to.equal(feeBefore + fee);
    expect(await balance(payer.address)).to.equal(payerBefore - 8999n);
    expect(await balance(await f.checkout.getAddress())).to.equal(0n);
    expect(done.history.map((h) => h.status)).to.include.members(["new", "paid", "confirmed", "complete"]);
  });

  it("takes the payer's EIP-3009 authorization through the API, and refuses one for another amount", async function () {
    stack = await f.start();
    const payer = await f.payer(10_000n);
    const invoice = await stack.quote("sku-book", payer.address);
    const wrong = await stack.authorize(invoice, payer, BigInt(invoice.intent.tokenAmount) - 1n);
    expect(wrong.status).to.equal(409);
    expect(wrong.body.error.code).to.equal("CHECKOUT_REFUSED");
    expect((await stack.invoice(invoice.intentId)).status).to.equal("new");
    const right = await stack.authorize(invoice, payer);
    expect(right.status, JSON.stringify(right.body)).to.equal(200);
    await stack.until(invoice.intentId, "complete", "captured");
    // The same authorization again: the invoice is no longer new.
    const again = await stack.authorize(invoice, payer);
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal("CHECKOUT_WRONG_STATUS");
  });

  it("retries while the retailer is down and buys once it is up: one order", async function () {
    stack = await f.start();
    const payer = await f.payer(10_000n);
    const invoice = await stack.quote("sku-book", payer.address);
    expect((await stack.fail("down", 4)).status).to.equal(200);
    await f.deposit(payer, invoice);
    const done = await stack.until(invoice.intentId, "complete", "captured");
    expect(done.purchase.attempts).to.equal(5);
    expect((await stack.orders()).filter((o) => o.reference === invoice.intent.orderRef)).to.have.length(1);
  });

  it("voids when the retailer refuses, and the money goes back to the payer", async function () {
    stack = await f.start();
    const payer = await f.payer(10_000n);
    const before = await balance(payer.address);
    const invoice = await stack.quote("sku-book", payer.address);
    await stack.fail("decline", 1);
    await f.deposit(payer, invoice);
    const done = await stack.until(invoice.intentId, "invalid", "voided");
    expect(done.exception).to.equal("RETAILER_PAYMENT_DECLINED");
    expect(await balance(payer.address)).to.equal(before);
    expect((await stack.orders()).filter((o) => o.reference === invoice.intent.orderRef)).to.have.length(0);
    expect((await f.checkout.paymentOf(invoice.intentId)).status).to.equal(3n); // Voided
  });

  it("waits on an underpayment until the rest comes, and returns an overpayment's excess at once", async function () {
    stack = await f.start();
    const payer = await f.payer(20_000n);
    const before = await balance(payer.address);
    const under = await stack.quote("sku-book", payer.address);
    await f.deposit(payer, under, 1_000n);
    const partial = await until(stack, under.intentId, (i) => i.exception === "paidPartial");
    expect(partial.status).to.equal("new");
    expect(partial.deposited).to.equal("1000");
    await f.deposit(payer, under, 1_500n);
    await stack.until(under.intentId, "complete", "captured");

    const over = await stack.quote("sku-book", payer.address);
    await f.deposit(payer, over, 3_000n);
    const done = await stack.until(over.intentId, "complete", "captured");
    expect(done.exception).to.equal("paidOver");
    expect(await balance(payer.address)).to.equal(before - 2_500n - 2_500n);
  });

  it("returns a second payment for a paid invoice, and buys once", async function () {
    stack = await f.start();
    const payer = await f.payer(20_000n);
    const before = await balance(payer.address);
    const invoice = await stack.quote("sku-book", payer.address);
    await f.deposit(payer, invoice);
    await stack.until(invoice.intentId, "complete", "captured");
    await f.deposit(payer, invoice);
    await until(stack, invoice.intentId, (i) => i.history.some((h) => h.note.includes("went back to the payer")));
    expect(await balance(invoice.depositAddress)).to.equal(0n);
    expect(await balance(payer.address)).to.equal(before - 2_500n);
    expect((await stack.orders()).filter((o) => o.reference === invoice.intent.orderRef)).to.have.length(1);
  });

  it("expires an unpaid quote, and one paid in part, giving the part back", async function () {
    stack = await f.start();
    const payer = await f.payer(10_000n);
    const before = await balance(payer.address);
    const unpaid = await stack.quote("sku-book", payer.address);
    const partial = await stack.quote("sku-book", payer.address);
    await f.deposit(payer, partial, 700n);
    await until(stack, partial.intentId, (i) => i.exception === "paidPartial");
    await f.suite.networkHelpers.time.increase(901);
    await f.suite.networkHelpers.mine();
    await stack.until(unpaid.intentId, "expired");
    const expired = await stack.until(partial.intentId, "expired");
    expect(expired.exception).to.equal("paidPartial");
    expect(await balance(payer.address)).to.equal(before);
    // A payment after the expiry goes back too.
    await f.deposit(payer, unpaid);
    await until(stack, unpaid.intentId, (i) => i.history.some((h) => h.note.includes("went back to the payer")));
    expect(await balance(payer.address)).to.equal(before);
  });

  it("prices a EUR good at the feed's round, and returns a deposit once the price moved past its bound", async function () {
    stack = await f.start();
    const payer = await f.payer(10_000n);
    const before = await balance(payer.address);
    const invoice = await stack.quote("sku-espresso", payer.address);
    const latest = await f.feed.latestRoundData();
    expect(invoice.intent["currency"]).to.equal("EUR");
    expect(invoice.intent["fiatAmount"]).to.equal("1999");
    expect(invoice.intent["roundId"]).to.equal(latest.roundId.toString());
    expect(invoice.intent["priceFeed"]).to.equal(getAddress(await f.feed.getAddress()));
    expect(invoice.intent.tokenAmount).to.equal("2169"); // 19.99 EUR at 1.085 USD/EUR, rounded up
    await (await f.feed.updateAnswer((latest.answer * 102n) / 100n)).wait(); // 2 % > the 1 % bound
    await f.deposit(payer, invoice);
    const done = await stack.until(invoice.intentId, "invalid");
    expect(done.exception).to.equal("priceMoved");
    await until(
      stack,
      invoice.intentId,
      () => true,
      async () => (await balance(payer.address)) === before,
    );
    await (await f.feed.updateAnswer(latest.answer)).wait();
  });

  it("refuses to quote on a stale feed, an unknown good or a bad payer, with a reason", async function () {
    stack = await f.start();
    const payer = await f.payer(1n);
    const unknown = await call(`${stack.url}/quotes`, "POST", { sku: "sku-none", payer: payer.address });
    expect([unknown.status, unknown.body.error.code]).to.deep.equal([404, "CHECKOUT_UNKNOWN_SKU"]);
    const bad = await call(`${stack.url}/quotes`, "POST", { sku: "sku-book", payer: "0x1234" });
    expect(bad.status).to.equal(400);
    await f.suite.networkHelpers.time.increase(24 * 3_600 + 1);
    await f.suite.networkHelpers.mine();
    const stale = await call(`${stack.url}/quotes`, "POST", { sku: "sku-espresso", payer: payer.address });
    expect([stale.status, stale.body.error.code]).to.deep.equal([503, "CHECKOUT_PRICE_UNAVAILABLE"]);
    await (await f.feed.updateAnswer((await f.feed.latestRoundData()).answer)).wait();
    const fresh = await call(`${stack.url}/quotes`, "POST", { sku: "sku-espresso", payer: payer.address });
    expect(fresh.status).to.equal(201);
  });

  it("refunds a captured payment from the settlement account, cancelling the order, and refuses more than was captured", async function () {
    stack = await f.start();
    const payer = await f.payer(10_000n);
    const before = await balance(payer.address);
    const invoice = await stack.quote("sku-book", payer.address);
    await f.deposit(payer, invoice);
    const done = await stack.until(invoice.intentId, "complete", "captured");
    const early = await call(`${stack.url}/invoices/${invoice.intentId}/refunds`, "POST", { amount: "2501" });
    expect([early.status, early.body.error.code]).to.deep.equal([409, "CHECKOUT_REFUSED"]);
    expect(early.body.error.message).to.contain("CheckoutRefundExceedsCaptured");
    const refund = await call(`${stack.url}/invoices/${invoice.intentId}/refunds`, "POST", {});
    expect(refund.status, JSON.stringify(refund.body)).to.equal(200);
    const refunded = await stack.until(invoice.intentId, "refunded");
    expect(refunded.refunded).to.equal("2500");
    expect(await balance(payer.address)).to.equal(before);
    const order = (await stack.orders()).find((o) => o.orderId === done.purchase.orderId)!;
    expect(order.status).to.equal("cancelled");
    const more = await call(`${stack.url}/invoices/${invoice.intentId}/refunds`, "POST", { amount: "1" });
    expect(more.status).to.equal(409);
  });

  it("loses nothing across a restart: an invoice paid while the service was down is bought once after", async function () {
    stack = await f.start();
    const payer = await f.payer(10_000n);
    const invoice = await stack.quote("sku-book", payer.address);
    const dir = stack.dir;
    await stack.stop();
    stack = undefined;
    await f.deposit(payer, invoice);
    stack = await f.start({ dir });
    await stack.until(invoice.intentId, "complete", "captured");
    expect((await stack.orders()).filter((o) => o.reference === invoice.intent.orderRef)).to.have.length(1);
  });
});

/** Waits until `test` holds of the invoice (and `also`, if given). */
async function until(
  stack: Awaited<ReturnType<CheckoutFixture["start"]>>,
  intentId: string,
  test: (invoice: Awaited<ReturnType<typeof stack.invoice>>) => boolean,
  also: () => Promise<boolean> = async () => true,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const invoice = await stack.invoice(intentId);
    if (test(invoice) && (await also())) return invoice;
    if (Date.now() > deadline) throw new Error(`invoice ${intentId}: ${JSON.stringify(invoice.history, null, 1)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
