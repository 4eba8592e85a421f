/**
 * The checkout engine's last steps driven round by round: a `CheckoutProcessor` built here on a real
 * `InvoiceStore`, the suite's chain and a real retailer over HTTP, with a clock the test sets, so each `tick()`
 * is one deterministic round. Covered: a quote's expiry (to the second, with and without a partial payment, an
 * authorization at the last second), the void margin before the authorization expires (to the second), the
 * retailer's answers and the back-off between attempts, and the capture or void on chain: pending, dropped,
 * mined and reverted, already done, too late (the authorization expired before the capture).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { AbiCoder, getAddress, type Provider } from "ethers";

import { dutyWallet } from "../../src/chain/duty-wallet.js";
import { CommerceError } from "../../src/commerce/errors.js";
import { intentTuple, METHODS } from "../../src/commerce/intent.js";
import { CheckoutProcessor, type RetailerPort } from "../../src/commerce/processor.js";
import { QuoteService } from "../../src/commerce/quote.js";
import { RetailerClient } from "../../src/commerce/retailer-client.js";
import { startRetailer, type RunningRetailer } from "../../src/commerce/retailer.js";
import { InvoiceStore, type Invoice } from "../../src/commerce/store.js";
import { Store } from "../../src/store/store.js";
import { call } from "../helpers/http.js";
import { suiteChain } from "../helpers/suite.js";
import { checkoutFixture, type CheckoutFixture, type InvoiceJson } from "./service-helpers.js";

const RETRY_MS = 1_000;

/** The retailer, the invoices and a processor on a clock the test sets (ms, ahead of the chain's time). */
async function engine(
  f: CheckoutFixture,
  options: {
    readonly confirmations?: number;
    readonly provider?: (provider: Provider) => Provider;
  } = {},
) {
  const dir = mkdtempSync(path.join(tmpdir(), "bank-chain-adapter-"));
  const lines: string[] = [];
  const log = (line: string) => void lines.push(line);
  let shop: RunningRetailer | undefined;
  const stores: Store[] = [];
  try {
    shop = await startRetailer({
      port: 0,
      host: "127.0.0.1",
      dbPath: path.join(dir, "retailer.sqlite"),
      admin: true,
      log,
    });
    const latest = await f.suite.networkHelpers.time.latest();
    const clock = { ms: (latest + 1_000) * 1_000 };
    const now = () => clock.ms;
    const chain = suiteChain(f.suite);
    const operator = await dutyWallet(chain, "checkoutOperator");
    const deployment = f.suite.deployments.get("Checkout");
    const token = await f.suite.token.getAddress();
    const shopUrl = shop.url;
    const retailer: RetailerPort = { order: (key, request) => new RetailerClient(shopUrl).order(key, request) };
    /** An invoice store on its own connection to the engine's database (a second process, or one that restarts). */
    const openStore = () => {
      const raw = Store.open({ path: path.join(dir, "checkout.sqlite") });
      stores.push(raw);
      return { raw, invoices: new InvoiceStore(raw, now) };
    };
    const main = openStore();
    const shared = {
      provider: f.provider as Provider,
      checkout: deployment.address,
      token,
      chainId: 31337n,
      operator,
    };
    const processor = (invoices: InvoiceStore = main.invoices) =>
      new CheckoutProcessor({
        ...shared,
        store: invoices,
        provider: options.provider === undefined ? shared.provider : options.provider(shared.provider),
        retailer,
        confirmations: options.confirmations ?? 0,
        fromBlock: deployment.blockNumber ?? 0,
        retry: { baseMs: RETRY_MS, maxMs: 300_000, factor: 2 },
        voidMarginSeconds: 60n,
        pageSize: 100,
        now,
        log,
      });
    const quotes = new QuoteService({
      ...shared,
      store: main.invoices,
      catalogue: () => new RetailerClient(shopUrl).catalogue(),
      feeds: new Map([["EUR", f.suite.deployments.get("PriceFeedEURUSD").address]]),
      terms: {
        merchant: f.merchant.address,
        feeBps: 100,
        feeReceiver: f.feeReceiver.address,
        maxDeviationBps: 100,
        quoteSeconds: 900,
        authorizationSeconds: 3_600,
        refundSeconds: 86_400,
      },
      now,
    });
    const running = shop;
    return {
      clock,
      lines,
      store: main.invoices,
      openStore,
      processor,
      shop: shopUrl,
      async quote(payer: string, sku = "sku-book"): Promise<Invoice> {
        return quotes.quote({ sku, quantity: 1, payer });
      },
      /** The invoice as the helpers of service-helpers.ts take it. */
      json(invoice: Invoice): InvoiceJson {
        return {
          intentId: invoice.intentId,
          depositAddress: invoice.depositAddress,
          intent: { tokenAmount: invoice.intent.tokenAmount.toString(), orderRef: invoice.intent.orderRef },
        } as unknown as InvoiceJson;
      },
      /** `payer`'s EIP-3009 authorization of the invoice, sent to the checkout by the payer itself. */
      async authorize(invoice: Invoice, payer: Awaited<ReturnType<CheckoutFixture["payer"]>>): Promise<string> {
        const signature = await f.receiveSignature(payer, this.json(invoice), invoice.intent.tokenAmount);
        const data = AbiCoder.defaultAbiCoder().encode(["uint256", "uint256", "bytes"], [0n, 99999999999n, signature]);
        const sent = await f.checkout
          .connect(payer)
          .authorize(
            intentTuple(invoice.intent),
            invoice.operatorSignature,
            METHODS.indexOf("ReceiveWithAuthorization"),
            data,
          );
        await sent.wait();
        return sent.hash;
      },
      async fail(mode: string, count: number): Promise<void> {
        const reply = await call(`${shopUrl}/admin/failures`, "POST", { mode, count });
        expect(reply.status).to.equal(200);
      },
      async orders(): Promise<{ orderId: string; reference: string; status: string }[]> {
        return ((await call(`${shopUrl}/admin/orders`)).body as { orders: never[] }).orders;
      },
      get(intentId: string): Invoice {
        return main.invoices.get(intentId)!;
      },
      notes(intentId: string): string[] {
        return main.invoices.history(intentId).map((entry) => entry.note);
      },
      async stop() {
        await running.stop();
        for (const raw of stores) {
          try {
            raw.close();
          } catch {
            // closed already (a crash the test made)
          }
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await shop?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

type Engine = Awaited<ReturnType<typeof engine>>;

/** `promise`, or a failure if it has not settled within `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not return within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(test: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("checkout adapter, round by round", function () {
  this.timeout(300_000);
  let f: CheckoutFixture;
  let e: Engine | undefined;

  before(async function () {
    f = await checkoutFixture();
  });
  afterEach(async function () {
    await f.provider.send("evm_setAutomine", [true]);
    await e?.stop();
    e = undefined;
  });
  after(function () {
    f?.cleanup();
  });

  const balance = (address: string) => f.suite.token.balanceOf(address);
  const seconds = (value: bigint) => Number(value) * 1_000;
  const events = async (name: "PaymentCaptured" | "PaymentVoided", intentId: string) =>
    (await f.checkout.queryFilter(f.checkout.filters[name](intentId))).length;
  const operatorNonces = async () => {
    const operator = await dutyWallet(suiteChain(f.suite), "checkoutOperator");
    return {
      latest: await f.provider.getTransactionCount(operator.address, "latest"),
      pending: await f.provider.getTransactionCount(operator.address, "pending"),
    };
  };

  it("a quote unpaid at its expiry second stays new; the second after it expires, once; a round with nothing to do says so", async function () {
    e = await engine(f);
    const payer = await f.payer(0n);
    const p = e.processor();
    const invoice = await e.quote(payer.address);
    expect(await p.tick()).to.equal(true); // the followers read the chain from the deployment on
    expect(await p.tick()).to.equal(false);
    e.clock.ms = seconds(invoice.intent.quoteExpiry);
    expect(await p.tick()).to.equal(false);
    expect(e.get(invoice.intentId).status).to.equal("new");
    e.clock.ms += 1_000;
    expect(await p.tick()).to.equal(true);
    expect(e.get(invoice.intentId)).to.include({ status: "expired", exception: null, deposited: 0n });
    expect(e.notes(invoice.intentId)).to.deep.equal(["quoted", "the quote expired unpaid"]);
    // An expired invoice is not looked at again.
    expect(await p.tick()).to.equal(false);
    expect(e.notes(invoice.intentId)).to.deep.equal(["quoted", "the quote expired unpaid"]);
    expect(e.get(invoice.intentId).status).to.equal("expired");
  });

  it("a part paid, then returned by a stranger before the return is confirmed: the quote expired before the rest was paid", async function () {
    e = await engine(f, { confirmations: 2 });
    const payer = await f.payer(10_000n);
    const p = e.processor();
    const invoice = await e.quote(payer.address);
    const part = invoice.intent.tokenAmount / 2n;
    await f.deposit(payer, e.json(invoice), part);
    await p.tick();
    expect(e.get(invoice.intentId)).to.include({ status: "new", exception: "paidPartial", deposited: part });
    await f.suite.networkHelpers.time.increaseTo(invoice.intent.quoteExpiry + 1n);
    const before = await balance(payer.address);
    await (
      await f.checkout
        .connect(f.signers[17]!)
        .returnDeposit(intentTuple(invoice.intent), await f.suite.token.getAddress())
    ).wait();
    expect(await balance(payer.address)).to.equal(before + part);
    e.clock.ms = seconds(invoice.intent.quoteExpiry) + 1_000;
    expect(await p.tick()).to.equal(true);
    expect(e.get(invoice.intentId)).to.include({ status: "expired", deposited: part });
    expect(e.notes(invoice.intentId).at(-1)).to.equal("the quote expired before the rest was paid");
  });

  it("a quote that expires with a part at its deposit address: the part goes back, then the invoice is expired", async function () {
    e = await engine(f);
    const payer = await f.payer(10_000n);
    const p = e.processor();
    const invoice = await e.quote(payer.address);
    const part = invoice.intent.tokenAmount / 3n;
    await f.deposit(payer, e.json(invoice), part);
    await p.tick();
    expect(e.get(invoice.intentId)).to.include({ status: "new", exception: "paidPartial", deposited: part });
    const before = await balance(payer.address);
    await f.suite.networkHelpers.time.increaseTo(invoice.intent.quoteExpiry + 1n);
    e.clock.ms = seconds(invoice.intent.quoteExpiry) + 1_000;
    expect(await p.tick()).to.equal(true);
    expect(await balance(payer.address)).to.equal(before + part);
    expect(await balance(invoice.depositAddress)).to.equal(0n);
    // Until the return's event is read it stays new; then it is expired, nothing deposited any more.
    expect(e.get(invoice.intentId).status).to.equal("new");
    await p.tick();
    expect(e.get(invoice.intentId)).to.include({ status: "expired", deposited: 0n });
    const [returned] = await f.checkout.queryFilter(f.checkout.filters.DepositReturned(invoice.intentId));
    expect(e.notes(invoice.intentId).at(-1)).to.equal(
      `${part} at the deposit address went back to the payer: ${returned!.transactionHash} (block ${returned!.blockNumber})`,
    );
  });

  it("a quote that expires with a part the token will not send back (a frozen payer): expired at once, the part left at the address", async function () {
    e = await engine(f);
    const payer = await f.payer(10_000n, 19);
    const p = e.processor();
    const invoice = await e.quote(payer.address);
    const part = invoice.intent.tokenAmount / 4n;
    await f.deposit(payer, e.json(invoice), part);
    await p.tick();
    const compliance = f.suite.token.connect(f.suite.accounts.compliance);
    await (await compliance.freeze(payer.address)).wait();
    try {
      await f.suite.networkHelpers.time.increaseTo(invoice.intent.quoteExpiry + 1n);
      e.clock.ms = seconds(invoice.intent.quoteExpiry) + 1_000;
      expect(await p.tick()).to.equal(true);
      const expired = e.get(invoice.intentId);
      expect(expired).to.include({ status: "expired", deposited: part });
      expect(expired.lastError).to.match(/^the chain refused the transaction: BankTokenFrozen\(/);
      expect(e.notes(invoice.intentId).at(-1)).to.equal("the quote expired; its deposit could not go back");
      expect(await balance(invoice.depositAddress)).to.equal(part);
    } finally {
      await (await compliance.unfreeze(payer.address)).wait();
    }
  });

  it("an authorization mined at the last second, between the followers' read and the expiry, is not expired", async function () {
    let hook: (() => Promise<void>) | undefined;
    e = await engine(f, {
      // The chain moves under the round: the payer's authorization lands right after the followers have read.
      provider: (provider) =>
        new Proxy(provider, {
          get(target, property) {
            const value = Reflect.get(target, property, target) as unknown;
            if (property === "getBlock") {
              return async (tag: string | number) => {
                if (tag === "latest" && hook !== undefined) {
                  const run = hook;
                  hook = undefined;
                  await run();
                }
                return target.getBlock(tag);
              };
            }
            return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
          },
        }),
    });
    const payer = await f.payer(100_000n);
    const p = e.processor();
    const invoice = await e.quote(payer.address);
    await p.tick();
    e.clock.ms = seconds(invoice.intent.quoteExpiry) + 1_000;
    let hash = "";
    hook = async () => {
      hash = await e!.authorize(invoice, payer);
    };
    await p.tick();
    expect(hash).to.match(/^0x[0-9a-f]{64}$/);
    expect(Number((await f.checkout.paymentOf(invoice.intentId)).status)).to.equal(1); // Authorized
    expect(e.get(invoice.intentId).status).to.equal("new");
    expect(e.notes(invoice.intentId)).to.deep.equal(["quoted"]);
    // The next round's followers take it: bought and captured like any other.
    await p.tick();
    expect(e.get(invoice.intentId)).to.include({ status: "confirmed", purchase: "capturing", authorizedTx: hash });
    await p.tick();
    expect(e.get(invoice.intentId)).to.include({ status: "complete", purchase: "captured", exception: null });
  });

  it("no order once the void margin before the authorization's expiry is reached (to the second): void, money back", async function () {
    e = await engine(f);
    const payer = await f.payer(100_000n);
    const p = e.processor();
    const inTime = await e.quote(payer.address);
    const late = await e.quote(payer.address);
    await p.tick();
    const start = await balance(payer.address);
    // One second before the margin: the order goes.
    await e.authorize(inTime, payer);
    e.clock.ms = seconds(inTime.intent.authorizationExpiry - 61n);
    await p.tick();
    expect(e.get(inTime.intentId)).to.include({
      status: "confirmed",
      purchase: "capturing",
      purchaseAttempts: 1,
      exception: null,
      lastError: null,
    });
    // At the margin (the authorization's expiry less 60 s): no order, void.
    await e.authorize(late, payer);
    e.clock.ms = seconds(late.intent.authorizationExpiry - 60n);
    await p.tick();
    const refused = e.get(late.intentId);
    expect(refused).to.include({
      status: "confirmed",
      purchase: "voiding",
      exception: "retailerUnavailable",
      purchaseAttempts: 0,
      receipt: null,
    });
    const voided = await f.checkout.queryFilter(f.checkout.filters.PaymentVoided(late.intentId));
    expect(voided.map((log) => log.transactionHash)).to.deep.equal([refused.settleTx]);
    expect(e.notes(late.intentId)).to.include(`void sent: ${refused.settleTx!}`);
    const references = (await e.orders()).map((order) => order.reference);
    expect(references).to.include(inTime.intent.orderRef.toLowerCase());
    expect(references).to.not.include(late.intent.orderRef.toLowerCase());
    await p.tick();
    expect(e.get(late.intentId)).to.include({ status: "invalid", purchase: "voided" });
    expect(e.get(inTime.intentId)).to.include({ status: "complete", purchase: "captured" });
    expect(await balance(payer.address)).to.equal(start - inTime.intent.tokenAmount);
  });

  it("retries a retailer that is down with back-off (attempts, next attempt), then records the order's receipt; a refusal is voided", async function () {
    e = await engine(f);
    const payer = await f.payer(100_000n);
    const p = e.processor();
    const invoice = await e.quote(payer.address);
    await p.tick();
    await e.authorize(invoice, payer);
    await e.fail("down", 2);
    const t0 = e.clock.ms;
    expect(await p.tick()).to.equal(true);
    let stored = e.get(invoice.intentId);
    expect(stored).to.include({ status: "confirmed", purchase: "ordering", purchaseAttempts: 1, receipt: null });
    expect(stored.nextAttemptAt).to.equal(t0 + RETRY_MS);
    expect(stored.lastError).to.match(/^503 RETAILER_UNAVAILABLE: /);
    // Not due yet.
    e.clock.ms = t0 + RETRY_MS - 1;
    expect(await p.tick()).to.equal(false);
    expect(e.get(invoice.intentId).purchaseAttempts).to.equal(1);
    // Due: the second attempt, the delay doubled. Only the purchase step works this round.
    e.clock.ms = t0 + RETRY_MS;
    expect(await p.tick()).to.equal(true);
    stored = e.get(invoice.intentId);
    expect(stored).to.include({ purchase: "ordering", purchaseAttempts: 2 });
    expect(stored.nextAttemptAt).to.equal(t0 + 3 * RETRY_MS);
    e.clock.ms = t0 + 3 * RETRY_MS - 1;
    expect(await p.tick()).to.equal(false);
    e.clock.ms = t0 + 3 * RETRY_MS;
    expect(await p.tick()).to.equal(true);
    stored = e.get(invoice.intentId);
    expect(stored).to.include({ purchase: "capturing", purchaseAttempts: 3, lastError: null, exception: null });
    const [order] = (await e.orders()).filter((o) => o.reference === invoice.intent.orderRef.toLowerCase());
    expect(stored.receipt!.orderId).to.equal(order!.orderId);
    expect(stored.receipt!.receipt).to.include({
      orderId: order!.orderId,
      reference: invoice.intent.orderRef.toLowerCase(),
    });
    const captured = await f.checkout.queryFilter(f.checkout.filters.PaymentCaptured(invoice.intentId));
    expect(captured.map((log) => log.transactionHash)).to.deep.equal([stored.settleTx]);
    expect(captured[0]!.args.receiptHash).to.equal(stored.receipt!.receiptHash);
    await p.tick();
    expect(e.get(invoice.intentId)).to.include({ status: "complete", purchase: "captured" });

    // A refusal: its code is the exception, its message the last error; the payment is voided.
    const declined = await e.quote(payer.address);
    await e.authorize(declined, payer);
    await e.fail("decline", 1);
    const before = await balance(payer.address);
    await p.tick();
    stored = e.get(declined.intentId);
    expect(stored).to.include({
      status: "confirmed",
      purchase: "voiding",
      purchaseAttempts: 1,
      exception: "RETAILER_PAYMENT_DECLINED",
      lastError: "the retailer's card payment was declined",
      receipt: null,
    });
    await p.tick();
    expect(e.get(declined.intentId)).to.include({ status: "invalid", purchase: "voided" });
    expect(await balance(payer.address)).to.equal(before + declined.intent.tokenAmount);
  });

  it("a capture still pending is not sent again; one dropped is sent anew, and the round that sent it fails with CHECKOUT_TX_DROPPED", async function () {
    e = await engine(f);
    const payer = await f.payer(100_000n);
    const p1 = e.processor();
    const p2 = e.processor(); // another process on the same invoices (a restart while the first hangs)
    const invoice = await e.quote(payer.address);
    await p1.tick();
    await e.authorize(invoice, payer);
    await e.fail("down", 1);
    await p1.tick(); // confirmed, the retailer down
    expect(await p1.tick()).to.equal(false);
    e.clock.ms += RETRY_MS;
    await f.provider.send("evm_setAutomine", [false]);
    const first = p1.tick().then(
      () => undefined,
      (error: unknown) => error,
    );
    await until(() => e!.get(invoice.intentId).settleTx !== null, "the capture to be sent");
    const sent = e.get(invoice.intentId);
    expect(sent.purchase).to.equal("capturing");
    const hash = sent.settleTx!;
    expect(await f.provider.getTransaction(hash)).to.not.equal(null);
    // Still on its way: the other process's round leaves it (and says it looked at a due invoice).
    expect(await within(p2.tick(), 5_000, "a round with a pending capture")).to.equal(true);
    expect(e.get(invoice.intentId)).to.include({ settleTx: hash, purchase: "capturing", lastError: null });
    const nonces = await operatorNonces();
    expect(nonces.pending).to.equal(nonces.latest + 1);
    expect(e.notes(invoice.intentId).filter((note) => note.startsWith("capture sent"))).to.have.length(1);
    // Dropped from the pool: the round that sent it gives up on it, with a typed error, the transaction forgotten.
    await f.provider.send("hardhat_dropTransaction", [hash]);
    await f.provider.send("evm_setAutomine", [true]);
    const error = await within(first, 20_000, "the round whose capture was dropped");
    expect(error).to.be.instanceOf(CommerceError);
    expect((error as CommerceError).code).to.equal("CHECKOUT_TX_DROPPED");
    expect((error as CommerceError).details).to.deep.equal({ hash });
    expect(e.get(invoice.intentId)).to.include({
      purchase: "capturing",
      settleTx: null,
      lastError: `transaction ${hash} was dropped before it was mined`,
    });
    expect(await f.provider.getTransactionReceipt(hash)).to.equal(null);
    // The next round sends it anew.
    await p1.tick();
    const resent = e.get(invoice.intentId).settleTx!;
    expect((await f.provider.getTransactionReceipt(resent))!.status).to.equal(1);
    await p1.tick();
    expect(e.get(invoice.intentId)).to.include({ status: "complete", purchase: "captured" });
    expect(await events("PaymentCaptured", invoice.intentId)).to.equal(1);
  });

  it("a capture mined but reverted (the authorization expired) by a process that crashed is looked at again: captureExpired, then void", async function () {
    e = await engine(f);
    const payer = await f.payer(100_000n);
    const crashing = e.openStore();
    const p1 = e.processor(crashing.invoices);
    const p2 = e.processor();
    const invoice = await e.quote(payer.address);
    await p2.tick();
    const before = await balance(payer.address);
    await e.authorize(invoice, payer);
    await e.fail("down", 1);
    await p2.tick();
    e.clock.ms += RETRY_MS;
    await f.provider.send("evm_setAutomine", [false]);
    const first = p1.tick().then(
      () => undefined,
      (error: unknown) => error,
    );
    await until(() => e!.get(invoice.intentId).settleTx !== null, "the capture to be sent");
    const hash = e.get(invoice.intentId).settleTx!;
    crashing.raw.close(); // the first process dies: it records nothing more
    await f.suite.networkHelpers.time.setNextBlockTimestamp(invoice.intent.authorizationExpiry + 1n);
    await f.provider.send("evm_mine", []);
    await f.provider.send("evm_setAutomine", [true]);
    expect((await f.provider.getTransactionReceipt(hash))!.status).to.equal(0);
    expect(await first).to.be.instanceOf(Error);
    expect(e.get(invoice.intentId)).to.include({ purchase: "capturing", settleTx: hash });
    e.clock.ms = seconds(invoice.intent.authorizationExpiry) + 2_000;
    await p2.tick();
    const expired = e.get(invoice.intentId);
    expect(expired).to.include({
      status: "confirmed",
      purchase: "refused",
      exception: "captureExpired",
      settleTx: null,
    });
    expect(expired.lastError).to.match(/^the chain refused the transaction: CheckoutAuthorizationExpired\(/);
    expect(e.notes(invoice.intentId)).to.include(
      "the authorization expired before the capture: void, and settle the order by hand",
    );
    await p2.tick();
    expect(e.get(invoice.intentId).purchase).to.equal("voiding");
    await p2.tick();
    expect(e.get(invoice.intentId)).to.include({ status: "invalid", purchase: "voided", exception: "captureExpired" });
    expect(await balance(payer.address)).to.equal(before);
    expect(await events("PaymentCaptured", invoice.intentId)).to.equal(0);
  });

  it("a capture dropped from the pool after the process that sent it crashed is sent anew by the next one", async function () {
    e = await engine(f);
    const payer = await f.payer(100_000n);
    const crashing = e.openStore();
    const p1 = e.processor(crashing.invoices);
    const p2 = e.processor();
    const invoice = await e.quote(payer.address);
    await p2.tick();
    await e.authorize(invoice, payer);
    await e.fail("down", 1);
    await p2.tick();
    e.clock.ms += RETRY_MS;
    await f.provider.send("evm_setAutomine", [false]);
    const first = p1.tick().then(
      () => undefined,
      (error: unknown) => error,
    );
    await until(() => e!.get(invoice.intentId).settleTx !== null, "the capture to be sent");
    const hash = e.get(invoice.intentId).settleTx!;
    crashing.raw.close(); // the first process dies: it records nothing more
    await f.provider.send("hardhat_dropTransaction", [hash]);
    await f.provider.send("evm_setAutomine", [true]);
    expect(await within(p2.tick(), 10_000, "a round after the drop")).to.equal(true);
    expect(e.notes(invoice.intentId).filter((note) => note.startsWith("capture sent"))).to.have.length(2);
    const resent = e.get(invoice.intentId).settleTx!;
    expect((await f.provider.getTransactionReceipt(resent))!.status).to.equal(1);
    await p2.tick();
    expect(e.get(invoice.intentId)).to.include({ status: "complete", purchase: "captured" });
    expect(await events("PaymentCaptured", invoice.intentId)).to.equal(1);
    await within(first, 20_000, "the crashed round"); // its own capture mined after all: the same transaction
  });

  it("a capture the chain refuses for another reason (a pause) stays ordered, and a void it refuses (a frozen payer) stays refused: neither is captureExpired", async function () {
    e = await engine(f);
    const payer = await f.payer(100_000n, 18);
    const p = e.processor();
    const declined = await e.quote(payer.address);
    e.clock.ms += 1; // the older of the two: its order is the first one of a round
    const bought = await e.quote(payer.address);
    await p.tick();
    await e.authorize(bought, payer);
    await e.authorize(declined, payer);
    await e.fail("down", 2);
    await p.tick(); // both confirmed, the retailer down
    e.clock.ms += RETRY_MS;
    const pauser = f.checkout.connect(f.suite.accounts.pauser);
    const compliance = f.suite.token.connect(f.suite.accounts.compliance);
    await e.fail("decline", 1); // the older invoice's order is declined (and voided: a void is not paused), the newer one's goes through
    await (await pauser.pause()).wait();
    try {
      await p.tick();
    } finally {
      await (await pauser.unpause()).wait();
    }
    const paused = e.get(bought.intentId);
    expect(paused).to.include({ status: "confirmed", purchase: "ordered", exception: null, settleTx: null });
    expect(paused.lastError).to.match(/^the chain refused the transaction: EnforcedPause\(/);
    expect(e.get(declined.intentId)).to.include({ purchase: "voiding", exception: "RETAILER_PAYMENT_DECLINED" });
    await p.tick();
    expect(e.get(bought.intentId)).to.include({ status: "confirmed", purchase: "capturing" });
    expect(e.get(declined.intentId)).to.include({ status: "invalid", purchase: "voided" });
    // A void the token refuses: the payer frozen.
    const third = await e.quote(payer.address);
    await e.authorize(third, payer);
    await e.fail("decline", 1);
    await (await compliance.freeze(payer.address)).wait();
    try {
      await p.tick();
      const refused = e.get(third.intentId);
      expect(refused).to.include({
        status: "confirmed",
        purchase: "refused",
        exception: "RETAILER_PAYMENT_DECLINED",
        settleTx: null,
      });
      expect(refused.lastError).to.match(/^the chain refused the transaction: BankTokenFrozen\(/);
    } finally {
      await (await compliance.unfreeze(payer.address)).wait();
    }
    await p.tick();
    await p.tick();
    expect(e.get(third.intentId)).to.include({ status: "invalid", purchase: "voided" });
  });

  it("a capture or a void done on chain but not yet confirmed is not sent again", async function () {
    e = await engine(f, { confirmations: 2 });
    const payer = await f.payer(100_000n);
    const p = e.processor();
    const bought = await e.quote(payer.address);
    const declined = await e.quote(payer.address);
    await p.tick();
    await e.authorize(bought, payer);
    await p.tick();
    await f.suite.networkHelpers.mine(2);
    await p.tick(); // confirmed: ordered and captured, the capture not confirmed yet
    const captured = e.get(bought.intentId);
    expect(captured).to.include({ status: "confirmed", purchase: "capturing", lastError: null });
    expect(await p.tick()).to.equal(true);
    expect(e.get(bought.intentId)).to.include({ purchase: "capturing", settleTx: captured.settleTx, lastError: null });
    expect(e.notes(bought.intentId).filter((note) => note.startsWith("capture sent"))).to.have.length(1);
    await e.authorize(declined, payer);
    await e.fail("decline", 1);
    await p.tick();
    await f.suite.networkHelpers.mine(2);
    await p.tick(); // confirmed: refused and voided; the capture deep enough now, recorded
    const voided = e.get(declined.intentId);
    const declinedError = "the retailer's card payment was declined";
    expect(voided).to.include({ status: "confirmed", purchase: "voiding", lastError: declinedError });
    expect(e.get(bought.intentId)).to.include({ status: "complete", purchase: "captured" });
    expect(await events("PaymentCaptured", bought.intentId)).to.equal(1);
    // The void is mined but not confirmed: the round leaves it be.
    expect(await p.tick()).to.equal(true);
    expect(e.get(declined.intentId)).to.include({
      purchase: "voiding",
      settleTx: voided.settleTx,
      lastError: declinedError,
    });
    expect(e.notes(declined.intentId).filter((note) => note.startsWith("void sent"))).to.have.length(1);
    await f.suite.networkHelpers.mine(2);
    await p.tick();
    expect(e.get(declined.intentId)).to.include({ status: "invalid", purchase: "voided" });
    expect(await events("PaymentVoided", declined.intentId)).to.equal(1);
    expect(getAddress(payer.address)).to.equal(declined.intent.payer);
  });
});
