/**
 * Step 9: a checkout purchase at the retailer. The shopper (account 12) asks
 * the checkout service for a quote of `sku-espresso` in bUSD (`bank-chain
 * checkout quote`) and pays it to the invoice's deposit address (`checkout pay
 * --wait`). The checkout's verifier authorizes the payment in the `Checkout`
 * escrow, buys the good at the retailer (an order under an idempotency key)
 * and captures the payment against the retailer's receipt. The invoice must
 * end complete with the retailer's order, which the retailer must show, the
 * `PaymentCaptured` event must be on chain and the shopper must have paid the
 * quoted amount.
 */
import { apiClient } from "../../chain/openapi/clients.js";
import { ACCOUNTS, money, waitFor, type DemoStep } from "../context.js";

/** Step 9: a checkout purchase at the retailer. */
export const checkout: DemoStep = {
  name: "checkout",
  title: "checkout purchase at the retailer",
  async run(context, record) {
    const chain = context.home;
    const shopper = context.address(ACCOUNTS.shopper);
    const token = chain.contract("BankToken");
    const api = context.service("checkout");
    const env = { BANK_CHAIN_CHECKOUT_KEY: context.wallet(ACCOUNTS.shopper).privateKey };
    const before = (await token.getFunction("balanceOf")(shopper)) as bigint;
    const quoted = await context.cli(["checkout", "quote", "sku-espresso", "--api", api], { env });
    const invoice = quoted.invoice as {
      intentId: string;
      intent: Record<string, string>;
      price: { amount: string; currency: string };
    };
    const amount = BigInt(invoice.intent.tokenAmount ?? "0");
    record.note(
      `invoice ${invoice.intentId}: sku-espresso ${invoice.price.amount} ${invoice.price.currency} minor units = ${money(amount)} bUSD`,
    );
    const paid = await context.cli(["checkout", "pay", invoice.intentId, "--wait", "--api", api], { env });
    record.tx(chain, paid.tx, `BankToken.transfer ${money(amount)} to the invoice's deposit address`);
    const final = paid.invoice as { status: string; purchase: { orderId: string | null; state: string } };
    record.equal("invoice status", final.status, "complete");
    const client = apiClient("checkout", api);
    const shown = (await client.GET("/invoices/{intentId}", { params: { path: { intentId: invoice.intentId } } }))
      .data as { status?: string; purchase?: { orderId: string | null } } | undefined;
    record.equal("checkout service: invoice status", shown?.status, "complete");
    const orderId = shown?.purchase?.orderId ?? final.purchase.orderId;
    record.that("the retailer's order id is on the invoice", typeof orderId === "string", orderId);
    if (typeof orderId === "string") {
      const retailer = apiClient("retailer", context.service("retailer"));
      const order = (await retailer.GET("/orders/{orderId}", { params: { path: { orderId } } })).data as
        { status?: string; receiptHash?: string } | undefined;
      record.note(`retailer order ${orderId}: receipt ${order?.receiptHash ?? "?"}`);
      record.equal("retailer: the order's status", order?.status, "paid");
    }
    const checkoutContract = chain.contract("Checkout");
    const captures = await waitFor(
      () => context.eventsSinceStart(chain, checkoutContract, "PaymentCaptured", invoice.intentId),
      (logs) => logs.length > 0,
      30_000,
    );
    const authorizations = await context.eventsSinceStart(
      chain,
      checkoutContract,
      "PaymentAuthorized",
      invoice.intentId,
    );
    for (const log of authorizations) record.tx(chain, log.transactionHash, "Checkout PaymentAuthorized (the escrow)");
    record.tx(chain, captures[0]?.transactionHash, "Checkout PaymentCaptured (against the retailer's receipt)");
    const after = (await token.getFunction("balanceOf")(shopper)) as bigint;
    record.equal("shopper's balance − the quoted amount", before - after, amount);
  },
};
