/**
 * `bank-chain checkout`: its refusals without a chain, and against `npm start` the four ways to pay (the deposit
 * transfer is the docs test's), a QR code written to a file and read back by an outside decoder, and the
 * refusals the service and the contract send back.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import jsQRModule from "jsqr";
import { PNG } from "pngjs";

import { runNode } from "../helpers/processes.js";
import { stackEnv, stackForSuite } from "../helpers/stack.js";

const CLI = "bin/bank-chain.mjs";
/** jsQR 1.4 is a webpack bundle whose CommonJS exports hold the decoder as `default`. */
const jsQR = jsQRModule.default;
/** The devnet's demo shopper, account 12 (Hardhat's public test key). */
const SHOPPER_KEY = "0xa267530f49f8280200edf313ee7af6b827f2a8bce2897751d06a843f644967b1";
const SHOPPER = "0xFABB0ac9d68B0B445fB7357272Ff202C5651694a";
/** Account 19, the demo offline buyer: not the payer of the shopper's quotes. */
const STRANGER_KEY = "0xdf57089febbacf7ba0bc227dafbffa9fc08a93fdc68e1e42411a14efcf23656e";

describe("checkout CLI", function () {
  this.timeout(300_000);

  it("refuses a bad invoice id, method, quantity, API URL or QR file name with one line each", async function () {
    const env = { BANK_CHAIN_CHECKOUT_KEY: SHOPPER_KEY };
    const cases: Array<[string[], string]> = [
      [["checkout", "status", "0x12"], "the invoice id must be 0x and 64 hex digits"],
      [["checkout", "pay", `0x${"ab".repeat(32)}`, "--method", "cash"], "--method must be one of"],
      [["checkout", "quote", "sku-book", "--quantity", "0"], "--quantity must be a whole number from 1"],
      [["checkout", "catalogue", "--api", "ftp://x"], "--api must be an http(s) URL"],
      [["checkout", "refund", `0x${"ab".repeat(32)}`, "--amount", "-5"], "--amount must be a whole number from 1"],
    ];
    for (const [args, message] of cases) {
      const result = await runNode([CLI, ...args], env);
      expect(result.code, args.join(" ")).to.equal(1);
      expect(result.stderr, args.join(" ")).to.contain(message);
    }
    const noKey = await runNode([CLI, "checkout", "quote", "sku-book"], { BANK_CHAIN_CHECKOUT_KEY: "" });
    expect(noKey.code).to.equal(1);
    expect(noKey.stderr).to.contain("BANK_CHAIN_CHECKOUT_KEY holds no private key");
  });

  describe("against npm start", function () {
    const running = stackForSuite("bank-chain-checkout-cli-");
    let env: NodeJS.ProcessEnv;
    let dir: string;

    before(function () {
      const api = running.stack.services.get("checkout")!;
      expect(api, running.stack.stdout).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      // The commands find the service on CHECKOUT_PORT, as a user's shell would set it.
      env = { ...stackEnv(running.place), CHECKOUT_PORT: new URL(api).port, BANK_CHAIN_CHECKOUT_KEY: SHOPPER_KEY };
      dir = mkdtempSync(path.join(tmpdir(), "bank-chain-checkout-cli-files-"));
    });
    after(function () {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
      runNode([CLI, "--rpc", running.stack.rpc, ...args], { ...env, ...extra }, 180_000);

    async function quote(sku: string, extra: string[] = []) {
      const quoted = await cli(["--json", "checkout", "quote", sku, ...extra]);
      expect(quoted.code, quoted.stderr).to.equal(0);
      return JSON.parse(quoted.stdout).invoice as {
        intentId: string;
        paymentRequest: string;
        intent: { payer: string; tokenAmount: string };
      };
    }

    for (const method of ["authorization", "permit", "allowance"]) {
      it(`pays by ${method} and waits until the good is bought and the payment captured`, async function () {
        const invoice = await quote("sku-book");
        expect(invoice.intent.payer).to.equal(SHOPPER);
        const paid = await cli(["--json", "checkout", "pay", invoice.intentId, "--method", method, "--wait"]);
        expect(paid.code, paid.stderr).to.equal(0);
        const shown = JSON.parse(paid.stdout).invoice;
        expect(shown.status).to.equal("complete");
        expect(shown.method).to.equal(
          { authorization: "ReceiveWithAuthorization", permit: "Permit", allowance: "Allowance" }[method],
        );
        expect(shown.purchase.state).to.equal("captured");
      });
    }

    it("writes the payment request's QR code, which an outside decoder reads back to the request", async function () {
      const file = path.join(dir, "book.png");
      const invoice = await quote("sku-book", ["--qr", file]);
      const png = PNG.sync.read(readFileSync(file));
      const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
      expect(decoded?.data).to.equal(invoice.paymentRequest);
      // The file is never overwritten.
      const again = await cli(["checkout", "quote", "sku-book", "--qr", file]);
      expect(again.code).to.equal(1);
      expect(again.stderr).to.contain("EEXIST");
    });

    it("refuses to pay from a key that is not the quote's payer, and refunds only what was captured", async function () {
      const invoice = await quote("sku-book");
      const stranger = await cli(["checkout", "pay", invoice.intentId], { BANK_CHAIN_CHECKOUT_KEY: STRANGER_KEY });
      expect(stranger.code).to.equal(1);
      expect(stranger.stderr).to.contain(`the invoice is for payer ${SHOPPER}`);
      const early = await cli(["checkout", "refund", invoice.intentId]);
      expect(early.code).to.equal(1);
      expect(early.stderr).to.contain("CHECKOUT_WRONG_STATUS");
      expect((await cli(["checkout", "pay", invoice.intentId, "--wait"])).code).to.equal(0);
      const over = await cli(["checkout", "refund", invoice.intentId, "--amount", "2501"]);
      expect(over.code).to.equal(1);
      expect(over.stderr).to.contain("CheckoutRefundExceedsCaptured");
      const part = await cli(["--json", "checkout", "refund", invoice.intentId, "--amount", "500", "--keep-order"]);
      expect(part.code, part.stderr).to.equal(0);
      const refunded = JSON.parse(part.stdout).invoice;
      expect([refunded.status, refunded.refunded]).to.deep.equal(["refunded", "500"]);
      const unknown = await cli(["checkout", "status", `0x${"cd".repeat(32)}`]);
      expect(unknown.code).to.equal(1);
      expect(unknown.stderr).to.contain("CHECKOUT_UNKNOWN_INVOICE");
    });
  });
});
