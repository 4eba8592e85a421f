/**
 * The checkout service as its own process on Anvil (`scripts/checkout-service.ts`), killed with SIGKILL between
 * the payment and the purchase: right after the retailer took the order and before the service wrote it down,
 * right before it asked, and right before the capture. After each restart exactly one fiat purchase exists, and
 * the payment is captured once against its receipt.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { HDNodeWallet, JsonRpcProvider } from "ethers";

import { startAnvil, type Anvil } from "../../src/chain/devnet.js";
import { readDeployments } from "../../src/chain/deployments.js";
import { PUBLIC_TEST_MNEMONIC } from "../../src/chain/published-keys.js";
import { startRetailer, type RunningRetailer } from "../../src/commerce/retailer.js";
import { receiptHash } from "../../src/commerce/receipt.js";
import { BankToken__factory, Checkout__factory } from "../../typechain-types/index.js";
import { CrashableProcess } from "../helpers/crashable-process.js";
import { call } from "../helpers/http.js";
import { freePort, ROOT, runNode } from "../helpers/processes.js";

const HARDHAT = path.join(ROOT, "node_modules", "hardhat", "dist", "src", "cli.js");
const root = HDNodeWallet.fromPhrase(PUBLIC_TEST_MNEMONIC, undefined, "m/44'/60'/0'/0");

type Invoice = {
  intentId: string;
  status: string;
  depositAddress: string;
  intent: { tokenAmount: string; orderRef: string; token: string };
  purchase: { state: string; attempts: number; orderId: string | null; receiptHash: string | null };
};

describe("checkout: the service killed between payment and purchase", function () {
  this.timeout(300_000);
  let dir: string;
  let anvil: Anvil | undefined;
  let provider: JsonRpcProvider;
  let shop: RunningRetailer | undefined;
  let service: CrashableProcess;
  let env: Record<string, string>;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "bank-chain-checkout-crash-"));
    const port = await freePort();
    env = {
      BANK_CHAIN_RPC_PORT: String(port),
      BANK_CHAIN_RPC_URL: `http://127.0.0.1:${port}`,
      BANK_CHAIN_DEPLOYMENTS_DIR: path.join(dir, "deployments"),
      BANK_CHAIN_DATA_DIR: path.join(dir, "data"),
    };
    anvil = await startAnvil({ endpoint: { host: "127.0.0.1", port, url: env.BANK_CHAIN_RPC_URL! } });
    const deployed = await runNode([HARDHAT, "deploy", "--network", "localhost", "--skip-prompts"], env, 180_000);
    expect(deployed.code, deployed.stderr).to.equal(0);
    provider = new JsonRpcProvider(env.BANK_CHAIN_RPC_URL, undefined, { staticNetwork: true, pollingInterval: 100 });
    shop = await startRetailer({
      port: 0,
      host: "127.0.0.1",
      dbPath: path.join(dir, "retailer.sqlite"),
      admin: true,
      log: () => undefined,
    });
    service = new CrashableProcess({
      name: "checkout",
      args: ["scripts/checkout-service.ts"],
      env: {
        ...env,
        CHECKOUT_PORT: "0",
        CHECKOUT_POLL_MS: "50",
        CHECKOUT_RETAILER_URL: shop.url,
      },
      crashVariable: "CHECKOUT_CRASH_AT",
      ready: /checkout ready url=(\S+)/,
    });
  });

  after(async function () {
    await service?.kill().catch(() => undefined);
    await shop?.stop();
    provider?.destroy();
    await anvil?.stop(5_000);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  for (const point of ["after-order", "before-order", "before-capture"]) {
    it(`buys once and captures once when killed at ${point}`, async function () {
      await service.start(point);
      const deployments = readDeployments("localhost", env.BANK_CHAIN_DEPLOYMENTS_DIR);
      const shopper = root.deriveChild(12).connect(provider);
      const quote = await call(`${service.url}/quotes`, "POST", { sku: "sku-book", payer: shopper.address });
      expect(quote.status, JSON.stringify(quote.body)).to.equal(201);
      const invoice = quote.body as Invoice;
      const token = BankToken__factory.connect(invoice.intent.token, shopper);
      await (await token.transfer(invoice.depositAddress, BigInt(invoice.intent.tokenAmount))).wait();

      const exit = await service.exited(60_000);
      expect(exit.signal, service.output.slice(-2_000)).to.equal("SIGKILL");
      expect(service.output).to.include(`crashing at ${point}`);
      await service.start();
      const deadline = Date.now() + 60_000;
      let seen: Invoice;
      for (;;) {
        seen = (await call(`${service.url}/invoices/${invoice.intentId}`)).body as Invoice;
        if (seen.status === "complete" || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(seen.status, service.output.slice(-2_000)).to.equal("complete");
      const orders = (
        (await call(`${shop!.url}/admin/orders`)).body as {
          orders: { reference: string; orderId: string; receipt: never }[];
        }
      ).orders.filter((order) => order.reference === invoice.intent.orderRef);
      expect(orders, "fiat purchases of this invoice").to.have.length(1);
      expect(seen.purchase.orderId).to.equal(orders[0]!.orderId);
      expect(seen.purchase.receiptHash).to.equal(receiptHash(orders[0]!.receipt));
      const checkout = Checkout__factory.connect(deployments.get("Checkout").address, provider);
      const captures = await checkout.queryFilter(checkout.filters.PaymentCaptured(invoice.intentId));
      expect(captures).to.have.length(1);
      expect(captures[0]!.args.receiptHash).to.equal(seen.purchase.receiptHash);
      await service.stop();
    });
  }
});
