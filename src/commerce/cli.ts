/**
 * `bank-chain checkout …`: buying a retailer's good with tokens through the checkout service (docs/commerce.md).
 *
 *   checkout catalogue [--api <url>]
 *       the retailer's goods and their fiat prices
 *   checkout quote <sku> (--payer <address> | --key-env VAR) [--quantity <n>] [--qr <file.svg|file.png>]
 *       a signed quote: the token amount at the feed's round, the deposit address, the ERC-681 payment request
 *   checkout pay <invoiceId> [--method deposit|authorization|permit|allowance] [--key-env VAR] [--wait]
 *       pays it from the key in VAR (default BANK_CHAIN_CHECKOUT_KEY): a plain transfer to the deposit address
 *       (what the QR code asks), an EIP-3009 authorization the service submits, or the payer's own authorize call
 *       after an EIP-2612 permit or an allowance
 *   checkout status <invoiceId> [--wait]
 *       the invoice: status, payment, purchase at the retailer, history
 *   checkout refund <invoiceId> [--amount <n>] [--keep-order]
 *       refunds a captured payment (the service's operator; the retailer's order is cancelled first)
 *
 * `--api` names the checkout service (default http://127.0.0.1:$CHECKOUT_PORT, 8661). Keys come from environment
 * variables, never from a flag, and are never printed.
 */
import { writeFileSync } from "node:fs";

import { AbiCoder, getAddress, Signature, type Wallet } from "ethers";

import { apiOrigin, callApi, type ApiClientErrors } from "../chain/api-client.js";
import { lines, logTo, output, walletFromEnv, withChain, type CommandGroup, type Program } from "../chain/command.js";
import { RECEIVE_AUTHORIZATION_TYPES, signPermit } from "../chain/permit.js";
import { BankChainError } from "../errors.js";

/** A bad `checkout` argument or a refusal by the service. */
export class CheckoutCliError extends BankChainError {}

const DEFAULT_KEY_ENV = "BANK_CHAIN_CHECKOUT_KEY";
const INVOICE_ID = /^0x[0-9a-fA-F]{64}$/;
const METHOD_NAMES = ["deposit", "authorization", "permit", "allowance"] as const;
/** The statuses an invoice does not leave by itself. */
const SETTLED = ["complete", "expired", "invalid", "refunded"];

const API_ERRORS: ApiClientErrors = {
  badUrl: (value) =>
    new CheckoutCliError("CHECKOUT_CLI_BAD_URL", `--api must be an http(s) URL, got "${value}"`, { value }),
  unreachable: (api, cause) =>
    new CheckoutCliError("CHECKOUT_CLI_API_UNREACHABLE", `the checkout service at ${api} does not answer`, {
      api,
      cause,
    }),
};

/** An invoice as the service shows it (the fields the CLI reads). */
interface InvoiceJson {
  intentId: string;
  status: string;
  exception: string | null;
  sku: string;
  quantity: number;
  price: { amount: string; currency: string };
  checkout: string;
  chainId: string;
  intent: Record<string, string>;
  operatorSignature: string;
  depositAddress: string;
  paymentRequest: string;
  method: string | null;
  deposited: string;
  purchase: {
    state: string;
    attempts: number;
    orderId: string | null;
    receiptHash: string | null;
    lastError: string | null;
  };
  refunded: string;
  history: { at: number; status: string; purchase: string; note: string }[];
}

async function apiUrl(value: string | undefined): Promise<string> {
  if (value === undefined) {
    const { CHECKOUT_SETTINGS } = await import("./service.js");
    return `http://127.0.0.1:${CHECKOUT_SETTINGS.read(process.env, { devnet: true }).CHECKOUT_PORT}`;
  }
  return apiOrigin(value, API_ERRORS);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(api: string, path: string, body?: unknown): Promise<any> {
  const reply = await callApi(api, path, body, API_ERRORS);
  if (reply.status >= 400) {
    const error = ((reply.json ?? {}) as { error?: { code?: unknown; message?: unknown } }).error ?? {};
    throw new CheckoutCliError(
      "CHECKOUT_CLI_REFUSED",
      `the checkout service refused it (HTTP ${reply.status}${error.code === undefined ? "" : ` ${String(error.code)}`}): ${String(error.message ?? "no reason given")}`,
      { status: reply.status, answer: reply.json },
    );
  }
  return reply.json;
}

function invoiceId(value: string): string {
  if (!INVOICE_ID.test(value)) {
    throw new CheckoutCliError(
      "CHECKOUT_CLI_BAD_INVOICE",
      `the invoice id must be 0x and 64 hex digits, got "${value}"`,
      {
        value,
      },
    );
  }
  return value.toLowerCase();
}

function positive(value: string, what: string): bigint {
  if (!/^[1-9][0-9]{0,30}$/.test(value)) {
    throw new CheckoutCliError("CHECKOUT_CLI_BAD_NUMBER", `${what} must be a whole number from 1, got "${value}"`, {
      value,
    });
  }
  return BigInt(value);
}

/** Waits until the invoice settles (complete, expired, invalid, refunded) or `timeoutMs` passes. */
async function settled(api: string, id: string, timeoutMs: number): Promise<InvoiceJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const invoice = (await call(api, `/invoices/${id}`)) as InvoiceJson;
    if (SETTLED.includes(invoice.status) && !["ordering", "capturing", "voiding"].includes(invoice.purchase.state)) {
      return invoice;
    }
    if (Date.now() > deadline) return invoice;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Waits (up to 30 s) until the service has seen a refund beyond `before`. */
async function refundedBeyond(api: string, id: string, before: bigint): Promise<InvoiceJson> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const invoice = (await call(api, `/invoices/${id}`)) as InvoiceJson;
    if (BigInt(invoice.refunded) > before || Date.now() > deadline) return invoice;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function invoiceLines(invoice: InvoiceJson): string {
  const rows: Array<[string, string]> = [
    ["invoice", invoice.intentId],
    ["status", invoice.exception === null ? invoice.status : `${invoice.status} (${invoice.exception})`],
    ["good", `${invoice.quantity} × ${invoice.sku}, ${invoice.price.amount} ${invoice.price.currency} (minor units)`],
    ["pay", `${invoice.intent.tokenAmount} token units (${invoice.intent.token})`],
    ["deposit address", invoice.depositAddress],
    ["payment request", invoice.paymentRequest],
    ["quote expires", new Date(Number(invoice.intent.quoteExpiry) * 1000).toISOString()],
  ];
  if (invoice.method !== null) rows.push(["paid by", invoice.method]);
  if (invoice.purchase.state !== "none") {
    rows.push([
      "purchase",
      `${invoice.purchase.state}${invoice.purchase.orderId === null ? "" : `, order ${invoice.purchase.orderId}`}`,
    ]);
  }
  if (invoice.purchase.receiptHash !== null) rows.push(["receipt hash", invoice.purchase.receiptHash]);
  if (invoice.refunded !== "0") rows.push(["refunded", invoice.refunded]);
  if (invoice.purchase.lastError !== null && !SETTLED.includes(invoice.status)) {
    rows.push(["last error", invoice.purchase.lastError]);
  }
  return lines(rows);
}

/** Adds the `checkout` command group to the program. */
export function addCheckoutCommands(program: Program): void {
  const group: CommandGroup = program
    .command("checkout")
    .description("buy a retailer's good with tokens: quotes, payments, status, refunds (docs/commerce.md)");
  const apiOption = "the checkout service (default: http://127.0.0.1:$CHECKOUT_PORT, 8661)";

  group
    .command("catalogue")
    .description("the retailer's goods and their fiat prices")
    .option("--api <url>", apiOption)
    .action(async (_o, command) => {
      const options = command.optsWithGlobals();
      const catalogue = (await call(await apiUrl(options.api), "/catalogue")) as {
        items: { sku: string; title: string; price: { amount: string; currency: string } }[];
      };
      output(options, catalogue, () =>
        lines(catalogue.items.map((item) => [item.sku, `${item.price.amount} ${item.price.currency} — ${item.title}`])),
      );
    });

  group
    .command("quote")
    .description("a signed quote of a good in tokens, with its deposit address and ERC-681 payment request")
    .argument("<sku>", "the good (see `checkout catalogue`)")
    .option("--payer <address>", "the paying wallet (default: the address of the key in --key-env)")
    .option("--key-env <VAR>", "environment variable holding the payer's private key", DEFAULT_KEY_ENV)
    .option("--quantity <n>", "how many", "1")
    .option("--qr <file>", "write the payment request's QR code (.svg or .png)")
    .option("--api <url>", apiOption)
    .action(async (sku, _o, command) => {
      const options = command.optsWithGlobals();
      const payer =
        options.payer === undefined
          ? walletFromEnv(options.keyEnv, CheckoutCliError, "CHECKOUT_CLI").address
          : getAddressOr(options.payer);
      const quantity = Number(positive(options.quantity, "--quantity"));
      const api = await apiUrl(options.api);
      const invoice = (await call(api, "/quotes", { sku, quantity, payer })) as InvoiceJson;
      if (options.qr !== undefined) {
        const format = /\.png$/i.test(options.qr) ? "png" : /\.svg$/i.test(options.qr) ? "svg" : undefined;
        if (format === undefined) {
          throw new CheckoutCliError("CHECKOUT_CLI_BAD_QR_FILE", `--qr must end in .svg or .png, got "${options.qr}"`, {
            file: options.qr,
          });
        }
        const reply = await fetch(`${api}/invoices/${invoice.intentId}/qr.${format}`);
        writeFileSync(options.qr, Buffer.from(await reply.arrayBuffer()), { flag: "wx" });
      }
      output(options, { invoice }, () => invoiceLines(invoice));
    });

  group
    .command("pay")
    .description("pay an invoice from the key in --key-env")
    .argument("<invoiceId>", "the invoice (the quote's id)")
    .option("--method <method>", `how: ${METHOD_NAMES.join(", ")}`, "deposit")
    .option("--key-env <VAR>", "environment variable holding the payer's private key", DEFAULT_KEY_ENV)
    .option("--wait", "wait until the invoice settles (complete, invalid, expired, refunded)", false)
    .option("--api <url>", apiOption)
    .action(async (id, _o, command) => {
      const options = command.optsWithGlobals();
      const method = options.method as (typeof METHOD_NAMES)[number];
      if (!METHOD_NAMES.includes(method)) {
        throw new CheckoutCliError("CHECKOUT_CLI_BAD_METHOD", `--method must be one of ${METHOD_NAMES.join(", ")}`, {
          method,
        });
      }
      const api = await apiUrl(options.api);
      const invoice = (await call(api, `/invoices/${invoiceId(id)}`)) as InvoiceJson;
      const key = walletFromEnv(options.keyEnv, CheckoutCliError, "CHECKOUT_CLI");
      if (getAddress(invoice.intent.payer!) !== key.address) {
        throw new CheckoutCliError(
          "CHECKOUT_CLI_NOT_PAYER",
          `the invoice is for payer ${invoice.intent.payer}, the key in ${options.keyEnv} is ${key.address}`,
          { payer: invoice.intent.payer, key: key.address },
        );
      }
      const log = logTo(process.stderr, options.json);
      const tx = await withChain(options, (chain) => pay(invoice, method, key.connect(chain.provider), api));
      log("paid", { method, tx });
      const final = options.wait ? await settled(api, invoice.intentId, 120_000) : invoice;
      output(options, { tx, invoice: final }, () => `${lines([["tx", tx]])}\n${invoiceLines(final)}`);
    });

  group
    .command("status")
    .description("an invoice: status, payment, purchase at the retailer, history")
    .argument("<invoiceId>", "the invoice")
    .option("--wait", "wait until the invoice settles", false)
    .option("--api <url>", apiOption)
    .action(async (id, _o, command) => {
      const options = command.optsWithGlobals();
      const api = await apiUrl(options.api);
      const invoice = options.wait
        ? await settled(api, invoiceId(id), 120_000)
        : ((await call(api, `/invoices/${invoiceId(id)}`)) as InvoiceJson);
      output(options, { invoice }, () => invoiceLines(invoice));
    });

  group
    .command("refund")
    .description("refund a captured payment to the payer (the retailer's order cancelled first)")
    .argument("<invoiceId>", "the invoice")
    .option("--amount <n>", "token units (default: all that was captured and not refunded)")
    .option("--keep-order", "do not cancel the retailer's order (a goodwill refund)", false)
    .option("--api <url>", apiOption)
    .action(async (id, _o, command) => {
      const options = command.optsWithGlobals();
      const body = {
        ...(options.amount === undefined ? {} : { amount: positive(options.amount, "--amount").toString() }),
        cancelOrder: !options.keepOrder,
      };
      const reply = (await call(await apiUrl(options.api), `/invoices/${invoiceId(id)}/refunds`, body)) as {
        transactionHash: string;
        invoice: InvoiceJson;
      };
      const final = await refundedBeyond(await apiUrl(options.api), invoiceId(id), BigInt(reply.invoice.refunded));
      output(
        options,
        { tx: reply.transactionHash, invoice: final },
        () => `${lines([["tx", reply.transactionHash]])}\n${invoiceLines(final)}`,
      );
    });
}

function getAddressOr(value: string): string {
  try {
    return getAddress(value);
  } catch {
    throw new CheckoutCliError("CHECKOUT_CLI_BAD_ADDRESS", `--payer must be an address, got "${value}"`, { value });
  }
}

/** Pays `invoice` by `method` from `payer`; the transaction's hash. */
async function pay(invoice: InvoiceJson, method: string, payer: Wallet, api: string): Promise<string> {
  const { BankToken__factory, Checkout__factory } = await import("../../typechain-types/index.js");
  const { mined } = await import("../chain/receipts.js");
  const { intentFromJson, intentTuple, METHODS } = await import("./intent.js");
  const token = BankToken__factory.connect(invoice.intent.token!, payer);
  const amount = BigInt(invoice.intent.tokenAmount!);
  const intent = intentFromJson(invoice.intent);
  switch (method) {
    case "deposit": {
      const tx = await token.transfer(invoice.depositAddress, amount);
      await mined(tx);
      return tx.hash;
    }
    case "authorization": {
      const [, name, version, chainId, verifyingContract] = await token.eip712Domain();
      const validBefore = BigInt(invoice.intent.quoteExpiry!) + 1n;
      const signature = await payer.signTypedData(
        { name, version, chainId, verifyingContract },
        RECEIVE_AUTHORIZATION_TYPES,
        {
          from: payer.address,
          to: invoice.checkout,
          value: amount,
          validAfter: 0n,
          validBefore,
          nonce: invoice.intentId,
        },
      );
      const reply = (await call(api, `/invoices/${invoice.intentId}/authorization`, {
        validAfter: "0",
        validBefore: validBefore.toString(),
        signature: Signature.from(signature).serialized,
      })) as { transactionHash: string };
      return reply.transactionHash;
    }
    default: {
      const checkout = Checkout__factory.connect(invoice.checkout, payer);
      let data = "0x";
      if (method === "permit") {
        const deadline = BigInt(invoice.intent.quoteExpiry!);
        const permit = await signPermit(token, payer, invoice.checkout, amount, deadline);
        data = AbiCoder.defaultAbiCoder().encode(["uint256", "bytes"], [deadline, permit.signature.serialized]);
      } else {
        await mined(await token.approve(invoice.checkout, amount));
      }
      const tx = await checkout.authorize(
        intentTuple(intent),
        invoice.operatorSignature,
        METHODS.indexOf(method === "permit" ? "Permit" : "Allowance"),
        data,
      );
      await mined(tx);
      return tx.hash;
    }
  }
}
