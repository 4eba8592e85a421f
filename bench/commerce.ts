/**
 * Crypto checkout: checkouts per second end to end through the checkout service and a retailer over HTTP, and
 * gas per authorize and capture (each of the four ways to pay) beside a plain BankToken transfer. Writes
 * `bench/results/commerce.json` and prints tables.
 *
 *   npm run bench:commerce                          # 200 checkouts each way
 *   BENCH_CHECKOUTS=50 npm run bench:commerce       # fewer (or more)
 *   BENCH_DEBUG=1 npm run bench:commerce            # the services' log lines, timed, on stderr
 *
 * Setup: the devnet's node, Anvil (the npm package's binary, automining), on a free port of 127.0.0.1, the suite
 * deployed by the deploy scripts as on the devnet (the EUR/USD feed, the settlement account 13 letting the
 * checkout draw refunds, the fee receiver 14). The checkout service is built as `npm start` builds it
 * (`checkoutService`, the devnet's settings: 1 % fee, rounds every 1,000 ms when idle, no confirmations) on its
 * own JSON-RPC connection (`openChain`), buying from a real retailer (`startRetailer`, admin routes on), both
 * over HTTP on 127.0.0.1 with their SQLite files in a scratch folder. Machine: 2 cores, shared.
 *
 * Throughput, twice (`BENCH_CHECKOUTS` invoices each, default 200): the invoices are quoted through
 * `POST /quotes` (the three catalogue goods in turn, one EUR-priced through the feed), four at a time; then six
 * payers (the devnet's demo shopper, account 12, and accounts 15 to 19, each paid in by bank A's trust account as
 * the deploy does) pay them, each payer its share one after the other:
 *
 * - by deposit: a plain `transfer` of the amount to the invoice's deposit address (the ERC-681 request); the
 *   service sees it, collects it (`authorize` by Deposit), buys at the retailer, captures against the receipt;
 * - by EIP-3009: the payer signs `ReceiveWithAuthorization` (nonce = the intent's id) and posts it to
 *   `POST /invoices/:id/authorization`, which answers once the service's `authorize` is mined.
 *
 * Checkouts per second: invoices over the seconds from the first payment sent to the last invoice `complete`
 * (GET /invoices/:id, asked for each invoice as soon as its `PaymentCaptured` is on chain). Latency per invoice:
 * from its payment mined (the transfer's receipt; the authorization POST's answer) to the service answering
 * `complete`. Every payment is sent as soon as its payer's previous one is mined, so the service works through a
 * backlog: the latency is that of a queue of N, not of one checkout alone.
 *
 * Gas, on the same Anvil once the service is stopped (receipt `gasUsed`, the 21,000 base included): intents
 * signed by the checkout operator as the quotes are (espresso kit, 19.99 EUR through the feed; one row priced in
 * USD, no feed), `SAMPLE` of each: authorize by Allowance (the approval apart), Permit, ReceiveWithAuthorization
 * (a relayer submits) and Deposit (the payer's transfer apart; the clone is created), capture (1 % fee to the
 * fee receiver), void, refund (all of it, by the settlement account), reclaim (after the authorization expired);
 * beside them a BankToken transfer to a holder and to a fresh address (the floor of any payment). Each figure is
 * shown also less the transaction's intrinsic gas (21,000, and 4 per zero and 16 per other byte of calldata), the
 * nearer basis to a forge figure. The reference, base/commerce-payments' AuthCaptureEscrow, is not on npm and does
 * not run here: its published forge snapshot (`.gas-snapshot-benchmarks` at
 * 0876bef4ed6f965b930453d919fd7526a6bebb45; ERC-3009 collector, 1 % fee) is printed beside ours, cited, on another
 * basis (forge test gas: no 21,000 base, no calldata cost).
 *
 * Checks (listed as problems, exit 1): every invoice complete and captured, exactly one retailer order per
 * invoice and no other, one `PaymentCaptured` per invoice, the Checkout's and every deposit address's balance
 * back to 0, the settlement account paid exactly sum(amount − fee) and the fee receiver sum(fee); in the gas part,
 * every transaction's effect (amounts moved, statuses).
 */
import { mkdirSync } from "node:fs";
import { cpus } from "node:os";
import path from "node:path";

import {
  AbiCoder,
  getAddress,
  getBytes,
  HDNodeWallet,
  keccak256,
  Signature,
  toUtf8Bytes,
  Wallet,
  ZeroAddress,
  type ContractTransactionResponse,
  type TypedDataDomain,
} from "ethers";

import { openChain } from "../src/chain/config.js";
import { Step } from "../src/chain/progress.js";
import { fromDeployments } from "../src/chain/deployments.js";
import { DEVNET_CHAIN_ID, DUTIES } from "../src/chain/networks.js";
import { PERMIT_TYPES, RECEIVE_AUTHORIZATION_TYPES } from "../src/chain/permit.js";
import { PUBLIC_TEST_MNEMONIC } from "../src/chain/published-keys.js";
import {
  checkoutDomain,
  currencyBytes,
  intentIdOf,
  intentTuple,
  METHODS,
  PAYMENT_STATUSES,
  signCapture,
  signIntent,
  type Method,
  type PaymentIntent,
} from "../src/commerce/intent.js";
import { startRetailer } from "../src/commerce/retailer.js";
import { checkoutService } from "../src/commerce/service.js";
import {
  AggregatorV3Interface__factory,
  BankToken__factory,
  Checkout__factory,
  TrustAccount__factory,
} from "../typechain-types/index.js";
import { startBenchChain } from "./lib/anvil.js";
import { gasTable, round, seconds, writeResult, type GasRow } from "./lib/results.js";

const CHECKOUTS = Number(process.env.BENCH_CHECKOUTS ?? "200");
if (!Number.isInteger(CHECKOUTS) || CHECKOUTS < 1) throw new Error(`BENCH_CHECKOUTS=${process.env.BENCH_CHECKOUTS}`);
const PAYER_INDEXES = [12, 15, 16, 17, 18, 19];
const SKUS = ["sku-espresso", "sku-headphones", "sku-book"];
const QUOTE_CONCURRENCY = 4;
/** An invoice not complete this long after the last progress is a problem. */
const STALL_MS = 60_000;
const SAMPLE = 5;
const SEED = "bench:commerce";
const OURS = "Checkout (measured here)";
const EXECUTION = "Checkout, less 21,000 and calldata";
const THEIRS = "AuthCaptureEscrow (cited, not measured here)";
/** base/commerce-payments `.gas-snapshot-benchmarks` at 0876bef4ed6f965b930453d919fd7526a6bebb45 (forge test gas). */
const REFERENCE = {
  source: "github.com/base/commerce-payments .gas-snapshot-benchmarks at 0876bef4ed6f965b930453d919fd7526a6bebb45",
  basis:
    "forge test gas of AuthCaptureEscrow (ERC-3009 collector, 1 % fee): no 21,000 transaction base, no calldata; not measured here",
  gas: { authorize: 127_755, capture: 98_688, charge: 178_936, reclaim: 52_200, refund: 64_337, void: 51_952 },
} as const;
const VALID_BEFORE = 99_999_999_999n;

type InvoiceJson = {
  intentId: string;
  status: string;
  exception: string | null;
  intent: Record<string, string>;
  depositAddress: string;
  purchase: { state: string; attempts: number; orderId: string | null; receiptHash: string | null };
};
type Way = "deposit" | "eip3009";

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const key = (label: string): string => keccak256(toUtf8Bytes(`${SEED}:${label}`));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mnemonicKey = (index: number): string =>
  HDNodeWallet.fromPhrase(PUBLIC_TEST_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey;
const dutyIndex = (name: string): number => DUTIES.find((duty) => duty.name === name)!.devnetIndex;

async function call(url: string, method = "GET", body?: unknown): Promise<{ status: number; body: unknown }> {
  const reply = await fetch(url, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  return { status: reply.status, body: (await reply.json()) as unknown };
}

/** Runs `work` on every item, at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}

const chain = await startBenchChain({ folderPrefix: "bench-commerce-", cacheTimeout: -1 });
const { provider, folder, address } = chain;
const named = chain.deployment.namedAccounts;
const problems: string[] = [];
const lines: string[] = [];
/** `BENCH_DEBUG=1` prints the services' log lines (with the milliseconds since the start) to stderr. */
const log = (line: string) => {
  lines.push(line);
  if (process.env.BENCH_DEBUG === "1") console.error(`${Math.round(performance.now())} ${line.slice(0, 140)}`);
};
const url = provider._getConnection().url;
const service = { stop: async () => undefined as void };
const shopStop = { stop: async () => undefined as void };
try {
  const tokenAddress = address("BankToken");
  const checkoutAddress = address("Checkout");
  const checkout = Checkout__factory.connect(checkoutAddress, provider);
  const token = BankToken__factory.connect(tokenAddress, provider);
  const wallets = (await provider.send("eth_accounts", [])) as string[];
  const merchant = getAddress(wallets[13]!);
  const feeReceiver = getAddress(wallets[14]!);
  const payers = PAYER_INDEXES.map((index) => new Wallet(mnemonicKey(index), provider));
  for (const [n, index] of PAYER_INDEXES.entries()) {
    if (payers[n]!.address !== getAddress(wallets[index]!)) throw new Error(`account ${index} is not the mnemonic's`);
  }
  // Enough for every checkout of either way at the dearest price, and the gas part.
  const trust = TrustAccount__factory.connect(address("TrustAccountBankA"), await provider.getSigner(named.bankA));
  const share = BigInt(Math.ceil((2 * CHECKOUTS) / payers.length) + 4 * SAMPLE) * 10_000n;
  for (const payer of payers) {
    await (await trust.mintForDeposit(payer.address, share, key(`payer:${payer.address}`))).wait();
  }

  // ─── the retailer and the checkout service, as npm start runs them ─────────
  const dataDir = path.join(folder, "data");
  mkdirSync(dataDir);
  const shop = await startRetailer({
    port: 0,
    host: "127.0.0.1",
    dbPath: path.join(dataDir, "retailer.sqlite"),
    admin: true,
    log,
  });
  shopStop.stop = () => shop.stop();
  const connection = await openChain({ rpc: url });
  const running = await checkoutService({ env: { CHECKOUT_PORT: "0" }, retailerUrl: () => shop.url }).create({
    chain: connection,
    deployments: fromDeployments("localhost", BigInt(DEVNET_CHAIN_ID), chain.deployment.deployments),
    dataDir,
    log,
  });
  await running.start();
  service.stop = async () => {
    await running.stop();
    await connection.close();
  };
  const api = running.url!;
  const [, tokenName, tokenVersion, tokenChainId, tokenContract] = await token.eip712Domain();
  const tokenDomain: TypedDataDomain = {
    name: tokenName,
    version: tokenVersion,
    chainId: tokenChainId,
    verifyingContract: tokenContract,
  };
  const capturedTopic = checkout.interface.getEvent("PaymentCaptured").topicHash;

  /** Quotes, pays and waits for `CHECKOUTS` invoices paid `way`. */
  async function run(way: Way) {
    const invoices: InvoiceJson[] = new Array<InvoiceJson>(CHECKOUTS);
    let started = process.hrtime.bigint();
    await pool(
      Array.from({ length: CHECKOUTS }, (_, n) => n),
      QUOTE_CONCURRENCY,
      async (n) => {
        const reply = await call(`${api}/quotes`, "POST", {
          sku: SKUS[n % SKUS.length],
          quantity: 1,
          payer: payers[n % payers.length]!.address,
        });
        if (reply.status !== 201) throw new Error(`quote ${n}: ${reply.status} ${JSON.stringify(reply.body)}`);
        invoices[n] = reply.body as InvoiceJson;
      },
    );
    const quoteSeconds = seconds(started);
    const byId = new Map(invoices.map((invoice) => [invoice.intentId, invoice]));
    const paidAt = new Map<string, number>();
    const completeAt = new Map<string, number>();
    const submitMs: number[] = [];
    let fromBlock = (await provider.getBlockNumber()) + 1;
    let paying = true;

    // The watcher: a PaymentCaptured on chain, then the service's word that the invoice is complete. The service
    // marks every capture it has read in one round at once, so the oldest capture not yet complete is asked for
    // alone until it is, then the others (four at a time): a handful of GETs per round, not one per invoice.
    // Progress on stderr (the results go to stdout): a line every tenth of the invoices complete.
    const steps = new Step(`${CHECKOUTS} checkouts by ${way} complete`, {
      prefix: "[bench] ",
      every: Math.max(1, CHECKOUTS / 10),
    });
    const watcher = (async () => {
      const captured: string[] = [];
      let progress = performance.now();
      const complete = async (intentId: string): Promise<boolean> => {
        const invoice = (await call(`${api}/invoices/${intentId}`)).body as InvoiceJson;
        if (invoice.status !== "complete") return false;
        completeAt.set(intentId, performance.now());
        progress = performance.now();
        return true;
      };
      while (completeAt.size < CHECKOUTS) {
        steps.tick(completeAt.size, CHECKOUTS);
        const latest = await provider.getBlockNumber();
        if (latest >= fromBlock) {
          const logs = await provider.getLogs({
            address: checkoutAddress,
            topics: [capturedTopic],
            fromBlock,
            toBlock: latest,
          });
          for (const entry of logs) if (byId.has(entry.topics[1]!)) captured.push(entry.topics[1]!);
          fromBlock = latest + 1;
        }
        if (captured.length > 0 && (await complete(captured[0]!))) {
          const rest = captured.splice(0).slice(1);
          const pending: string[] = [];
          await pool(rest, 4, async (intentId) => {
            if (!(await complete(intentId))) pending.push(intentId);
          });
          captured.push(...rest.filter((intentId) => pending.includes(intentId)));
        }
        if (paying) progress = performance.now();
        if (performance.now() - progress > STALL_MS) {
          problems.push(`${way}: ${CHECKOUTS - completeAt.size} invoices not complete ${STALL_MS / 1000} s on`);
          return;
        }
        await sleep(20);
      }
    })();

    started = process.hrtime.bigint();
    const t0 = performance.now();
    await Promise.all(
      payers.map(async (payer, p) => {
        const asPayer = BankToken__factory.connect(tokenAddress, payer);
        for (let n = p; n < CHECKOUTS; n += payers.length) {
          const invoice = invoices[n]!;
          const amount = BigInt(invoice.intent.tokenAmount!);
          if (way === "deposit") {
            const receipt = await (await asPayer.transfer(getAddress(invoice.depositAddress), amount)).wait();
            if (receipt?.status !== 1) problems.push(`deposit: the transfer for ${invoice.intentId} failed`);
          } else {
            const signature = Signature.from(
              await payer.signTypedData(tokenDomain, RECEIVE_AUTHORIZATION_TYPES, {
                from: payer.address,
                to: checkoutAddress,
                value: amount,
                validAfter: 0n,
                validBefore: VALID_BEFORE,
                nonce: invoice.intentId,
              }),
            ).serialized;
            const at = performance.now();
            const reply = await call(`${api}/invoices/${invoice.intentId}/authorization`, "POST", {
              validAfter: "0",
              validBefore: VALID_BEFORE.toString(),
              signature,
            });
            submitMs.push(performance.now() - at);
            if (reply.status !== 200) {
              problems.push(`eip3009: ${invoice.intentId} answered ${reply.status} ${JSON.stringify(reply.body)}`);
            }
          }
          paidAt.set(invoice.intentId, performance.now());
        }
      }),
    );
    paying = false;
    const paySeconds = seconds(started);
    await watcher.finally(() => {
      steps.tick(completeAt.size, CHECKOUTS);
      if (completeAt.size === CHECKOUTS) steps.done();
      else steps.fail();
    });
    if (completeAt.size === 0) throw new Error(`${way}: no invoice completed`);
    const last = Math.max(...completeAt.values());
    const totalSeconds = (last - t0) / 1000;
    const latencies = [...completeAt.entries()]
      .map(([intentId, at]) => at - paidAt.get(intentId)!)
      .sort((a, b) => a - b);
    submitMs.sort((a, b) => a - b);
    return {
      invoices,
      figures: {
        invoices: CHECKOUTS,
        complete: completeAt.size,
        quotes: { seconds: round(quoteSeconds, 2), perSecond: round(CHECKOUTS / quoteSeconds) },
        paymentsSentSeconds: round(paySeconds, 2),
        seconds: round(totalSeconds, 2),
        checkoutsPerSecond: round(completeAt.size / totalSeconds, 2),
        latencyMs: {
          p50: Math.round(percentile(latencies, 50)),
          p95: Math.round(percentile(latencies, 95)),
          max: Math.round(latencies.at(-1)!),
        },
        ...(way === "eip3009"
          ? {
              authorizationPostMs: {
                p50: Math.round(percentile(submitMs, 50)),
                p95: Math.round(percentile(submitMs, 95)),
              },
            }
          : {}),
      },
    };
  }

  const merchantBefore = await token.balanceOf(merchant);
  const feeBefore = await token.balanceOf(feeReceiver);
  const captureFrom = (await provider.getBlockNumber()) + 1;
  const deposit = await run("deposit");
  const eip3009 = await run("eip3009");
  const all = [...deposit.invoices, ...eip3009.invoices];

  // ─── checks ────────────────────────────────────────────────────────────────
  let merchantDue = 0n;
  let feeDue = 0n;
  const attempts: number[] = [];
  const exceptions = new Map<string, number>();
  for (const invoice of all) {
    const now = (await call(`${api}/invoices/${invoice.intentId}`)).body as InvoiceJson;
    if (now.status !== "complete" || now.purchase.state !== "captured") {
      problems.push(`invoice ${invoice.intentId} is ${now.status}/${now.purchase.state}`);
    }
    if (now.exception !== null) exceptions.set(now.exception, (exceptions.get(now.exception) ?? 0) + 1);
    attempts.push(now.purchase.attempts);
    const amount = BigInt(invoice.intent.tokenAmount!);
    const fee = (amount * BigInt(invoice.intent.feeBps!)) / 10_000n;
    merchantDue += amount - fee;
    feeDue += fee;
    if (getAddress(invoice.intent.merchant!) !== merchant) problems.push(`invoice ${invoice.intentId}: other merchant`);
    const left = await token.balanceOf(getAddress(invoice.depositAddress));
    if (left !== 0n) problems.push(`deposit address of ${invoice.intentId} holds ${left}`);
  }
  const orders = ((await call(`${shop.url}/admin/orders`)).body as { orders: { orderId: string; reference: string }[] })
    .orders;
  const ordersOf = new Map<string, number>();
  for (const order of orders) ordersOf.set(order.reference, (ordersOf.get(order.reference) ?? 0) + 1);
  for (const invoice of all) {
    const count = ordersOf.get(invoice.intent.orderRef!) ?? 0;
    if (count !== 1) problems.push(`invoice ${invoice.intentId} has ${count} retailer orders`);
  }
  if (orders.length !== all.length) problems.push(`the retailer holds ${orders.length} orders for ${all.length}`);
  const captures = await provider.getLogs({
    address: checkoutAddress,
    topics: [checkout.interface.getEvent("PaymentCaptured").topicHash],
    fromBlock: captureFrom,
  });
  const capturesOf = new Map<string, number>();
  for (const entry of captures) capturesOf.set(entry.topics[1]!, (capturesOf.get(entry.topics[1]!) ?? 0) + 1);
  for (const invoice of all) {
    if (capturesOf.get(invoice.intentId) !== 1) {
      problems.push(`invoice ${invoice.intentId} captured ${capturesOf.get(invoice.intentId) ?? 0} times`);
    }
  }
  const held = await token.balanceOf(checkoutAddress);
  if (held !== 0n) problems.push(`the Checkout holds ${held} after the checkouts`);
  const merchantGot = (await token.balanceOf(merchant)) - merchantBefore;
  const feeGot = (await token.balanceOf(feeReceiver)) - feeBefore;
  if (merchantGot !== merchantDue) problems.push(`the settlement account got ${merchantGot}, not ${merchantDue}`);
  if (feeGot !== feeDue) problems.push(`the fee receiver got ${feeGot}, not ${feeDue}`);
  const serviceErrors = lines.filter((line) => line.startsWith("checkout round:"));
  const retries = lines.filter((line) => /unavailable \(attempt/.test(line));
  await service.stop();
  service.stop = async () => undefined;
  await shop.stop();
  shopStop.stop = async () => undefined;

  // ─── gas: every way to pay, capture, void, refund, reclaim ─────────────────
  const operator = new Wallet(mnemonicKey(dutyIndex("checkoutOperator")), provider);
  const relayer = new Wallet(mnemonicKey(10), provider);
  const merchantSigner = await provider.getSigner(merchant);
  const domain = checkoutDomain(BigInt(DEVNET_CHAIN_ID), checkoutAddress);
  const feed = address("PriceFeedEURUSD");
  const rows: GasRow[] = [];
  const samples = new Map<string, number[]>();
  const execution = new Map<string, number[]>();
  const gasOf = async (operation: string, tx: Promise<ContractTransactionResponse>): Promise<number> => {
    const sent = await tx;
    const receipt = await sent.wait();
    if (receipt === null || receipt.status !== 1) throw new Error(`${operation} failed`);
    const gas = Number(receipt.gasUsed);
    samples.set(operation, [...(samples.get(operation) ?? []), gas]);
    // What the transaction costs beyond its intrinsic gas: 21,000 and 4 per zero, 16 per other byte of calldata.
    const data = getBytes(sent.data);
    const intrinsic = 21_000 + data.reduce((sum, byte) => sum + (byte === 0 ? 4 : 16), 0);
    execution.set(operation, [...(execution.get(operation) ?? []), gas - intrinsic]);
    return gas;
  };
  let salt = 0;
  /** An intent for `payer` as the quote service makes it: 19.99 EUR through the feed, or 25.00 USD. */
  const intentFor = async (payer: Wallet, currency: "EUR" | "USD" = "EUR") => {
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    const priced = currency === "EUR";
    const roundId = priced
      ? (await AggregatorV3Interface__factory.connect(feed, provider).latestRoundData()).roundId
      : 0n;
    const fiatAmount = priced ? 1_999n : 2_500n;
    const priceFeed = priced ? feed : ZeroAddress;
    const intent: PaymentIntent = {
      payer: payer.address,
      merchant,
      orderRef: key(`order:${salt}`),
      fiatAmount,
      currency,
      token: tokenAddress,
      tokenAmount: await checkout.tokenAmountFor(fiatAmount, currencyBytes(currency), tokenAddress, priceFeed, roundId),
      priceFeed,
      roundId,
      maxDeviationBps: priced ? 100 : 0,
      quoteExpiry: now + 900n,
      authorizationExpiry: now + 900n + 3_600n,
      refundExpiry: now + 900n + 3_600n + 30n * 86_400n,
      feeBps: 100,
      feeReceiver,
      salt: key(`salt:${salt++}`),
    };
    return { intent, id: intentIdOf(domain, intent), signature: await signIntent(operator, domain, intent) };
  };
  type Signed = Awaited<ReturnType<typeof intentFor>>;
  const statusOf = async (id: string) => PAYMENT_STATUSES[Number((await checkout.paymentOf(id)).status)]!;
  /** Authorizes `signed` by `method`, measuring the authorize (and, apart, what the payer sends before it). */
  const authorize = async (signed: Signed, payer: Wallet, method: Method, label = `authorize: ${method}`) => {
    const { intent, id, signature } = signed;
    const asPayer = checkout.connect(payer);
    const none = "0x";
    let tx: Promise<ContractTransactionResponse>;
    switch (method) {
      case "Allowance":
        await gasOf(
          "approve (the payer's, before Allowance)",
          BankToken__factory.connect(tokenAddress, payer).approve(checkoutAddress, intent.tokenAmount),
        );
        tx = asPayer.authorize(intentTuple(intent), signature, 0, none);
        break;
      case "Permit": {
        const deadline = VALID_BEFORE;
        const permit = await payer.signTypedData(tokenDomain, PERMIT_TYPES, {
          owner: payer.address,
          spender: checkoutAddress,
          value: intent.tokenAmount,
          nonce: await token.nonces(payer.address),
          deadline,
        });
        tx = asPayer.authorize(
          intentTuple(intent),
          signature,
          1,
          AbiCoder.defaultAbiCoder().encode(["uint256", "bytes"], [deadline, permit]),
        );
        break;
      }
      case "ReceiveWithAuthorization": {
        const receive = await payer.signTypedData(tokenDomain, RECEIVE_AUTHORIZATION_TYPES, {
          from: payer.address,
          to: checkoutAddress,
          value: intent.tokenAmount,
          validAfter: 0n,
          validBefore: VALID_BEFORE,
          nonce: id,
        });
        tx = checkout
          .connect(relayer)
          .authorize(
            intentTuple(intent),
            signature,
            2,
            AbiCoder.defaultAbiCoder().encode(["uint256", "uint256", "bytes"], [0n, VALID_BEFORE, receive]),
          );
        break;
      }
      case "Deposit":
        await gasOf(
          "BankToken transfer to the deposit address (the payer's, before Deposit)",
          BankToken__factory.connect(tokenAddress, payer).transfer(
            await checkout.depositAddress(id),
            intent.tokenAmount,
          ),
        );
        tx = checkout.connect(relayer).authorize(intentTuple(intent), signature, 3, none);
        break;
    }
    const before = await token.balanceOf(checkoutAddress);
    await gasOf(label, tx);
    const took = (await token.balanceOf(checkoutAddress)) - before;
    if (took !== intent.tokenAmount) problems.push(`${label} took ${took}, not ${intent.tokenAmount}`);
    if ((await statusOf(id)) !== "Authorized") problems.push(`${label}: ${id} is ${await statusOf(id)}`);
  };
  const payer = payers[1]!;
  const captured: Signed[] = [];
  for (let n = 0; n < SAMPLE; n++) {
    for (const method of METHODS) {
      const signed = await intentFor(payer);
      await authorize(signed, payer, method);
      captured.push(signed);
    }
    const usd = await intentFor(payer, "USD");
    await authorize(usd, payer, "Deposit", "authorize: Deposit, USD price (no feed)");
    captured.push(usd);
  }
  for (const { intent, id } of captured) {
    const receiptHash = key(`receipt:${id}`);
    const before = await token.balanceOf(merchant);
    await gasOf(
      "capture (1 % fee)",
      checkout
        .connect(operator)
        .capture(intentTuple(intent), receiptHash, await signCapture(operator, domain, id, receiptHash)),
    );
    const fee = (intent.tokenAmount * 100n) / 10_000n;
    const got = (await token.balanceOf(merchant)) - before;
    if (got !== intent.tokenAmount - fee) problems.push(`capture of ${id} paid the merchant ${got}`);
  }
  for (const { intent, id } of captured.slice(0, SAMPLE)) {
    const before = await token.balanceOf(payer.address);
    await gasOf(
      "refund (all of it, by the settlement account)",
      checkout.connect(merchantSigner).refund(intentTuple(intent), intent.tokenAmount),
    );
    if ((await token.balanceOf(payer.address)) - before !== intent.tokenAmount) problems.push(`refund of ${id}`);
  }
  const voided: Signed[] = [];
  const reclaimed: Signed[] = [];
  for (let n = 0; n < SAMPLE; n++) {
    for (const list of [voided, reclaimed]) {
      const signed = await intentFor(payer);
      await authorize(signed, payer, "ReceiveWithAuthorization", "authorize: ReceiveWithAuthorization (again)");
      list.push(signed);
    }
  }
  for (const { intent, id } of voided) {
    await gasOf("void", checkout.connect(operator).void(intentTuple(intent)));
    if ((await statusOf(id)) !== "Voided") problems.push(`void of ${id}: ${await statusOf(id)}`);
  }
  await provider.send("evm_increaseTime", [900 + 3_600 + 60]);
  await provider.send("evm_mine", []);
  for (const { intent, id } of reclaimed) {
    await gasOf("reclaim (after the authorization expired)", checkout.connect(payer).reclaim(intentTuple(intent)));
    if ((await statusOf(id)) !== "Reclaimed") problems.push(`reclaim of ${id}: ${await statusOf(id)}`);
  }
  const asPayerToken = BankToken__factory.connect(tokenAddress, payer);
  for (let n = 0; n < SAMPLE; n++) {
    await gasOf("BankToken transfer to a holder (the settlement account)", asPayerToken.transfer(merchant, 1_000n));
    await gasOf(
      "BankToken transfer to a fresh address",
      asPayerToken.transfer(new Wallet(key(`fresh:${n}`)).address, 1_000n),
    );
  }
  if ((await token.balanceOf(checkoutAddress)) !== 0n) problems.push("the Checkout holds tokens after the gas part");

  const mean = (operation: string, from = samples) => {
    const values = from.get(operation)!;
    return Math.round(values.reduce((sum, value) => sum + value, 0) / values.length);
  };
  const ours = (operation: string, theirs?: number) => {
    rows.push({ contract: OURS, operation, gas: mean(operation) });
    rows.push({ contract: EXECUTION, operation, gas: mean(operation, execution) });
    if (theirs !== undefined) rows.push({ contract: THEIRS, operation, gas: theirs });
  };
  ours("authorize: Allowance");
  ours("approve (the payer's, before Allowance)");
  ours("authorize: Permit");
  ours("authorize: ReceiveWithAuthorization", REFERENCE.gas.authorize);
  ours("authorize: Deposit");
  ours("authorize: Deposit, USD price (no feed)");
  ours("BankToken transfer to the deposit address (the payer's, before Deposit)");
  ours("capture (1 % fee)", REFERENCE.gas.capture);
  const charge = "authorize (ReceiveWithAuthorization) + capture; theirs: charge";
  const both = (from: Map<string, number[]>) =>
    mean("authorize: ReceiveWithAuthorization", from) + mean("capture (1 % fee)", from);
  rows.push(
    { contract: OURS, operation: charge, gas: both(samples) },
    { contract: EXECUTION, operation: charge, gas: both(execution) },
    { contract: THEIRS, operation: charge, gas: REFERENCE.gas.charge },
  );
  ours("void", REFERENCE.gas.void);
  ours("refund (all of it, by the settlement account)", REFERENCE.gas.refund);
  ours("reclaim (after the authorization expired)", REFERENCE.gas.reclaim);
  ours("BankToken transfer to a holder (the settlement account)");
  ours("BankToken transfer to a fresh address");

  const cpu = cpus();
  const result = {
    setup:
      `Anvil (npm @foundry-rs/anvil, automine) over HTTP on 127.0.0.1, chain id ${DEVNET_CHAIN_ID}, the suite deployed ` +
      `by the deploy scripts as on the devnet; the checkout service as npm start builds it (devnet settings: 1 % fee, ` +
      `rounds every 1,000 ms when idle, 0 confirmations) on its own JSON-RPC connection, buying from a real retailer; ` +
      `both over HTTP on 127.0.0.1 with SQLite files; ${CHECKOUTS} checkouts each way, ${payers.length} payers; ` +
      `Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? "?"}`,
    throughput: { deposit: deposit.figures, eip3009: eip3009.figures },
    service: {
      roundErrors: serviceErrors.length,
      roundErrorSamples: [...new Set(serviceErrors.map((line) => line.slice(0, 300)))].slice(0, 5),
      retailerRetries: retries.length,
      purchaseAttempts: { max: Math.max(...attempts), total: attempts.reduce((sum, value) => sum + value, 0) },
      exceptions: Object.fromEntries(exceptions),
    },
    gas: Object.fromEntries(rows.map((row) => [`${row.contract}: ${row.operation}`, row.gas])),
    gasSamples: SAMPLE,
    reference: REFERENCE,
    problems,
  };
  console.log(`setup: ${result.setup}`);
  console.table({
    "by deposit (transfer to the deposit address)": {
      "checkouts/s": deposit.figures.checkoutsPerSecond,
      "p50 ms": deposit.figures.latencyMs.p50,
      "p95 ms": deposit.figures.latencyMs.p95,
      "quotes/s": deposit.figures.quotes.perSecond,
    },
    "by EIP-3009 (POST /authorization)": {
      "checkouts/s": eip3009.figures.checkoutsPerSecond,
      "p50 ms": eip3009.figures.latencyMs.p50,
      "p95 ms": eip3009.figures.latencyMs.p95,
      "quotes/s": eip3009.figures.quotes.perSecond,
    },
  });
  console.log(JSON.stringify(result.service, null, 1));
  console.log(gasTable(rows));
  console.log(`reference: ${REFERENCE.source}; ${REFERENCE.basis}`);
  console.log(`wrote ${writeResult("commerce.json", result)}`);
} finally {
  await service.stop().catch((error: unknown) => console.error(error));
  await shopStop.stop().catch((error: unknown) => console.error(error));
  await chain.stop();
}
if (problems.length > 0) {
  console.error(`problems:\n${problems.join("\n")}`);
  process.exitCode = 1;
}
