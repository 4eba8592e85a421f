/**
 * The checkout service (`checkoutService`, as `npm start` builds it) on the in-process chain with the whole suite
 * deployed, buying from a real retailer (`startRetailer`, its admin routes on) over HTTP, each on a port the OS
 * picks and a temporary data folder. The engine's rounds run on their timer; tests wait for the invoice states
 * they expect through the API.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { AbiCoder, getAddress, id, MaxUint256, Signature, type Signer } from "ethers";

import { RECEIVE_AUTHORIZATION_TYPES } from "../../src/chain/permit.js";
import type { Service } from "../../src/chain/service.js";
import { checkoutService } from "../../src/commerce/service.js";
import { startRetailer, type RunningRetailer } from "../../src/commerce/retailer.js";
import { Checkout__factory, MockV3Aggregator__factory } from "../../typechain-types/index.js";
import { call, type Reply } from "../helpers/http.js";
import { deploySuite, suiteChain } from "../helpers/suite.js";

export type InvoiceJson = {
  intentId: string;
  status: string;
  exception: string | null;
  intent: Record<string, string> & { tokenAmount: string; orderRef: string };
  method: string | null;
  operatorSignature: string;
  depositAddress: string;
  paymentRequest: string;
  deposited: string;
  purchase: {
    state: string;
    attempts: number;
    orderId: string | null;
    receiptHash: string | null;
    lastError: string | null;
  };
  refunded: string;
  history: { status: string; purchase: string; note: string }[];
};

export async function checkoutFixture() {
  const suite = await deploySuite();
  const provider = suite.ethers.provider;
  const signers = await suite.ethers.getSigners();
  const checkout = Checkout__factory.connect(suite.deployments.get("Checkout").address, provider);
  const feed = MockV3Aggregator__factory.connect(suite.deployments.get("PriceFeedEURUSD").address, signers[0]!);
  const merchant = signers[13]!;
  const feeReceiver = signers[14]!;
  // The settlement account lets the checkout draw refunds (deploy/011 does it on the devnet).
  await (await suite.token.connect(merchant).approve(await checkout.getAddress(), MaxUint256)).wait();
  const dirs: string[] = [];
  const lines: string[] = [];
  // Bank A pays a float in now (its reserve attestation goes stale when the tests move the clock a day on); the
  // payers are paid from it.
  const float = signers[15]!;
  await (await suite.trustA.mintForDeposit(float.address, 10_000_000n, id("checkout-test/float"))).wait();

  /** A payer (account 12 unless `index` says otherwise) given `amount` of bUSD. */
  async function payer(amount: bigint, index = 12): Promise<Signer & { address: string }> {
    const who = signers[index]!;
    await (await suite.token.connect(float).transfer(who.address, amount)).wait();
    return who;
  }

  /** A retailer and the checkout service on their own data folder (`dir` to restart on the same one). */
  async function start(options: { readonly dir?: string; readonly env?: Record<string, string> } = {}) {
    const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), "bank-chain-checkout-"));
    if (!dirs.includes(dir)) dirs.push(dir);
    const log = (line: string) => void lines.push(line);
    let shop: RunningRetailer | undefined;
    let service: Service | undefined;
    try {
      shop = await startRetailer({
        port: 0,
        host: "127.0.0.1",
        dbPath: path.join(dir, "retailer.sqlite"),
        admin: true,
        log,
      });
      const running = shop;
      service = await checkoutService({
        env: {
          CHECKOUT_PORT: "0",
          CHECKOUT_POLL_MS: "50",
          CHECKOUT_RETRY_MS: "50",
          CHECKOUT_CONFIRMATIONS: "0",
          ...options.env,
        },
        retailerUrl: () => running.url,
      }).create({ chain: suiteChain(suite), deployments: suite.deployments, dataDir: dir, log });
      await service.start();
    } catch (error) {
      await service?.stop().catch(() => undefined);
      await shop?.stop();
      throw error;
    }
    const url = service.url!;
    const shopUrl = shop.url;
    const running = { service, shop };
    return {
      dir,
      url,
      shop: shopUrl,
      /** Stops the service, then the retailer. */
      async stop() {
        await running.service.stop();
        await running.shop.stop();
      },
      /** A quote of `sku` for `payer`. */
      async quote(sku: string, who: string, quantity = 1): Promise<InvoiceJson> {
        const reply = await call(`${url}/quotes`, "POST", { sku, quantity, payer: who });
        if (reply.status !== 201) throw new Error(`quote: ${reply.status} ${JSON.stringify(reply.body)}`);
        return reply.body as InvoiceJson;
      },
      async invoice(intentId: string): Promise<InvoiceJson> {
        return (await call(`${url}/invoices/${intentId}`)).body as InvoiceJson;
      },
      /** Waits until the invoice is in `status` (and `purchase`, if given). */
      async until(intentId: string, status: string, purchase?: string, timeoutMs = 30_000): Promise<InvoiceJson> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const invoice = (await call(`${url}/invoices/${intentId}`)).body as InvoiceJson;
          if (invoice.status === status && (purchase === undefined || invoice.purchase.state === purchase)) {
            return invoice;
          }
          if (Date.now() > deadline) {
            throw new Error(
              `invoice ${intentId} is ${invoice.status}/${invoice.purchase.state}, not ${status}/${purchase ?? "*"}:\n${JSON.stringify(invoice.history, null, 1)}\n${lines.slice(-10).join("\n")}`,
            );
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      },
      /** The retailer's orders. */
      async orders(): Promise<{ orderId: string; reference: string; status: string }[]> {
        return ((await call(`${shopUrl}/admin/orders`)).body as { orders: never[] }).orders;
      },
      /** The next `count` order requests fail as `mode`. */
      async fail(mode: string, count: number): Promise<Reply> {
        return call(`${shopUrl}/admin/failures`, "POST", { mode, count });
      },
      /** Submits `who`'s EIP-3009 authorization for the invoice through the API. */
      async authorize(invoice: InvoiceJson, who: Signer, value = BigInt(invoice.intent.tokenAmount)): Promise<Reply> {
        const signature = await receiveSignature(who, invoice, value);
        return call(`${url}/invoices/${invoice.intentId}/authorization`, "POST", {
          validAfter: "0",
          validBefore: "99999999999",
          signature,
        });
      },
    };
  }

  /** `who`'s EIP-3009 ReceiveWithAuthorization to the checkout, nonce = the intent's id. */
  async function receiveSignature(who: Signer, invoice: InvoiceJson, value: bigint): Promise<string> {
    const [, name, version, chainId, verifyingContract] = await suite.token.eip712Domain();
    const domain = { name, version, chainId, verifyingContract };
    const message = {
      from: await who.getAddress(),
      to: await checkout.getAddress(),
      value,
      validAfter: 0n,
      validBefore: 99999999999n,
      nonce: invoice.intentId,
    };
    return Signature.from(await who.signTypedData(domain, RECEIVE_AUTHORIZATION_TYPES, message)).serialized;
  }

  /** A plain transfer of `amount` bUSD from `who` to the invoice's deposit address (what the ERC-681 URI asks). */
  async function deposit(who: Signer, invoice: InvoiceJson, amount = BigInt(invoice.intent.tokenAmount)) {
    await (await suite.token.connect(who).transfer(getAddress(invoice.depositAddress), amount)).wait();
  }

  return {
    suite,
    provider,
    signers,
    checkout,
    feed,
    merchant,
    feeReceiver,
    lines,
    payer,
    start,
    deposit,
    receiveSignature,
    abi: AbiCoder.defaultAbiCoder(),
    cleanup() {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type CheckoutFixture = Awaited<ReturnType<typeof checkoutFixture>>;
