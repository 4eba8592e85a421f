/**
 * Interop throughput and gas: 200 cross-chain transfers through the stack a
 * user runs (`npm start -- --fresh`: the devnet's two chains on Anvil, every
 * service with its SQLite file), from `POST /transactions` on the interop API
 * gateway to the mint on the second chain. Writes `bench/results/interop.json`
 * and prints a table.
 *
 *   npm run bench:interop
 *
 * - transfers: payloads that reached `delivered`;
 * - perSecond: delivered transfers per second, from the first POST to the last
 *   delivery;
 * - p50Ms, p95Ms: one transfer's latency from its POST to the API answering
 *   `delivered` (the relayer's mint on the second chain, seen by the API);
 * - gasPerTransfer: the mean gas of the source transaction (InteropGateway
 *   `execute` or `executeBatch`: pull, lane route limit, burn, gateway send)
 *   plus the destination one (`deliver` with 2 of the 3 attesters'
 *   signatures: lane route limit, mint), from their receipts: the gas of the
 *   distinct transactions divided by the transfers (a batch counts once);
 * - aloneMs, gasAlone: one transfer on the idle devnet after the 200, its
 *   latency and its gas (`execute` + `deliver`, nothing to batch with).
 *
 * The reference: Circle's CCTP v1 burn plus attested mint, 243,068 gas (the
 * figure the issue gives; CCTP's contracts are not in this repository, so it
 * is quoted, not run).
 */
import {
  Contract,
  type EventLog,
  HDNodeWallet,
  JsonRpcProvider,
  keccak256,
  MaxUint256,
  Mnemonic,
  toUtf8Bytes,
} from "ethers";

import { PUBLIC_TEST_MNEMONIC } from "../src/chain/published-keys.js";
import { DUTIES } from "../src/chain/networks.js";
import {
  PAYLOAD_TYPES,
  interopGatewayDomain,
  payloadJson,
  payloadSchema,
  payloadStruct,
} from "../src/interop/payload.js";
import { Step } from "../src/chain/progress.js";
import { startDevnetStack } from "./lib/devnet-stack.js";
import { writeResult } from "./lib/results.js";

const TRANSFERS = 200;
const CLIENTS = 10;
const AMOUNT = 1_000n;
const CCTP_V1_GAS = 243_068;
const CUSTOMER_INDEX = 12;
const RECIPIENT_INDEX = 13;

const wallet = (index: number) =>
  HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(PUBLIC_TEST_MNEMONIC), `m/44'/60'/0'/0/${index}`);
const dutyIndex = (name: string) => DUTIES.find((duty) => duty.name === name)!.devnetIndex;
const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

const stack = await startDevnetStack();
try {
  const a = new JsonRpcProvider(stack.rpc, undefined, { staticNetwork: true, cacheTimeout: -1 });
  const b = new JsonRpcProvider(stack.peerRpc, undefined, { staticNetwork: true, cacheTimeout: -1 });
  const api = stack.services.get("interop-api")!;
  const token = stack.contracts.get("BankToken")!;
  const gateway = stack.contracts.get("InteropGateway")!;
  const customer = wallet(CUSTOMER_INDEX).connect(a);
  const recipient = wallet(RECIPIENT_INDEX).address;

  // The customer's deposit at bank A (its trust account mints against the reserve the deploy attested).
  const trust = new Contract(
    stack.contracts.get("TrustAccountBankA")!,
    ["function mintForDeposit(address to, uint256 amount, bytes32 fiatRef)"],
    wallet(dutyIndex("bankA")).connect(a),
  );
  await (
    await trust.getFunction("mintForDeposit")(
      customer.address,
      AMOUNT * BigInt(TRANSFERS + 1),
      keccak256(toUtf8Bytes("bench/interop")),
    )
  ).wait();
  const erc20 = ["function approve(address, uint256)", "function balanceOf(address) view returns (uint256)"];
  await (await new Contract(token, erc20, customer).getFunction("approve")(gateway, MaxUint256)).wait();
  const tokenB = new Contract(stack.peerContracts.get("BankToken")!, erc20, b);
  const before = (await tokenB.getFunction("balanceOf")(recipient)) as bigint;

  const domain = interopGatewayDomain(31337n, gateway);
  const deadline = (await a.getBlock("latest"))!.timestamp + 3_000;
  const posted = new Map<string, number>();
  const delivered = new Map<string, number>();
  const views = new Map<
    string,
    { source: { txHash: string }; destination: { txHash: string | null }; message: { id: string } }
  >();
  const problems: string[] = [];
  const payloadOf = (nonce: number) =>
    payloadSchema.parse({
      version: 1,
      sourceChain: "eip155:31337",
      destinationChain: "eip155:31338",
      kind: "CrossChain",
      target: recipient,
      asset: token,
      amount: AMOUNT.toString(),
      data: "0x",
      nonce: String(nonce),
      deadline,
    });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < TRANSFERS) {
        const nonce = ++next;
        const payload = payloadOf(nonce);
        const signature = await customer.signTypedData(domain, PAYLOAD_TYPES, payloadStruct(payload));
        const at = performance.now();
        const reply = await fetch(`${api}/transactions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ payload: payloadJson(payload), signer: customer.address, signature }),
        });
        const body = (await reply.json()) as { id?: string; reason?: string };
        if (reply.status !== 202 || body.id === undefined) {
          problems.push(`POST ${nonce}: ${reply.status} ${JSON.stringify(body)}`);
          continue;
        }
        posted.set(body.id, at);
      }
    }),
  );
  // Each transfer's status until delivered (or 10 minutes pass); progress on stderr, a line every tenth delivered.
  const progress = new Step(`${TRANSFERS} transfers delivered`, { prefix: "[bench] ", every: TRANSFERS / 10 });
  const giveUp = performance.now() + 600_000;
  while (delivered.size + problems.length < TRANSFERS && performance.now() < giveUp) {
    progress.tick(delivered.size, TRANSFERS);
    for (const id of posted.keys()) {
      if (delivered.has(id)) continue;
      const view = (await (await fetch(`${api}/transactions/${id}`)).json()) as {
        status: string;
        source: { txHash: string };
        destination: { txHash: string | null };
        message: { id: string };
      };
      if (view.status === "delivered") {
        delivered.set(id, performance.now());
        views.set(id, view);
      } else if (view.status === "failed" || view.status === "refunded") {
        problems.push(`${id}: ${view.status}`);
        posted.delete(id);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  progress.tick(delivered.size, TRANSFERS);
  if (delivered.size === TRANSFERS) progress.done();
  else progress.fail();
  const finished = Math.max(...delivered.values());
  // Then one transfer alone, on the devnet idle again (what one user sees): from its POST to the mint, and its gas
  // unbatched (`execute` + `deliver`; the 200 before it warmed what a first transfer pays once).
  const alone = await (async () => {
    const payload = payloadOf(TRANSFERS + 1);
    const signature = await customer.signTypedData(domain, PAYLOAD_TYPES, payloadStruct(payload));
    const at = performance.now();
    const reply = await fetch(`${api}/transactions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ payload: payloadJson(payload), signer: customer.address, signature }),
    });
    const { id } = (await reply.json()) as { id: string };
    for (;;) {
      const view = (await (await fetch(`${api}/transactions/${id}?signer=${customer.address}`)).json()) as {
        status: string;
        source: { txHash: string };
        destination: { txHash: string | null };
        message: { id: string };
      };
      if (view.status === "delivered") return { ms: performance.now() - at, view };
      if (view.status === "failed" || view.status === "refunded") throw new Error(`the lone transfer ${view.status}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();

  const latencies = [...delivered].map(([id, at]) => at - posted.get(id)!).sort((x, y) => x - y);
  let source = 0n;
  let destination = 0n;
  // The delivery's transaction is the one whose MessageDelivered names the message (the relayer sent it).
  const gatewayB = new Contract(
    stack.peerContracts.get("AttestedGateway")!,
    ["event MessageDelivered(bytes32 indexed messageId, uint256 indexed sourceChainId, uint256 nonce)"],
    b,
  );
  const deliveries = new Map(
    (await gatewayB.queryFilter(gatewayB.filters.MessageDelivered!(), 0, "latest")).map((log) => [
      String((log as EventLog).args[0]),
      log.transactionHash,
    ]),
  );
  // A transaction may carry several transfers (the API gateway's executeBatch, a batched delivery): each counts
  // once, and the sums are shared out over the transfers below.
  const sources = new Set<string>();
  const destinations = new Set<string>();
  for (const view of views.values()) {
    sources.add(view.source.txHash);
    const delivery = view.destination.txHash ?? deliveries.get(view.message.id);
    if (delivery === undefined) throw new Error(`no delivery found for message ${view.message.id}`);
    destinations.add(delivery);
  }
  for (const hash of sources) source += (await a.getTransactionReceipt(hash))!.gasUsed;
  for (const hash of destinations) destination += (await b.getTransactionReceipt(hash))!.gasUsed;
  const transfers = delivered.size;
  const after = (await tokenB.getFunction("balanceOf")(recipient)) as bigint;
  if (after - before !== AMOUNT * BigInt(transfers + 1)) {
    problems.push(`the recipient got ${after - before} on chain 31338, not ${AMOUNT * BigInt(transfers + 1)}`);
  }
  const aloneDelivery = alone.view.destination.txHash ?? deliveries.get(alone.view.message.id);
  if (aloneDelivery === undefined) throw new Error("no delivery found for the lone transfer");
  const gasAlone =
    (await a.getTransactionReceipt(alone.view.source.txHash))!.gasUsed +
    (await b.getTransactionReceipt(aloneDelivery))!.gasUsed;
  const result = {
    setup:
      "npm start -- --fresh on this machine: two Anvil chains (31337, 31338) over HTTP, three attesters, the relayer and the API gateway with SQLite files; " +
      `${CLIENTS} clients posting ${TRANSFERS} CrossChain payloads of ${AMOUNT} minor units at once (the ` +
      "latencies are mostly queueing; the API gateway and the relayer batch what is waiting), then one transfer " +
      "alone (aloneMs, gasAlone: execute + deliver, unbatched)",
    transfers,
    gasPerTransfer: transfers === 0 ? 0 : Number((source + destination) / BigInt(transfers)),
    gasSource: transfers === 0 ? 0 : Number(source / BigInt(transfers)),
    gasDestination: transfers === 0 ? 0 : Number(destination / BigInt(transfers)),
    referenceCctpV1Gas: CCTP_V1_GAS,
    perSecond: transfers === 0 ? 0 : Number(((transfers * 1000) / (finished - started)).toFixed(2)),
    p50Ms: transfers === 0 ? 0 : Math.round(percentile(latencies, 50)),
    p95Ms: transfers === 0 ? 0 : Math.round(percentile(latencies, 95)),
    aloneMs: Math.round(alone.ms),
    gasAlone: Number(gasAlone),
    problems,
  };
  const file = writeResult("interop.json", result);
  console.table({
    "bank-chain, 200 at once (executeBatch + deliverBatch, 2-of-3)": { gas: result.gasPerTransfer },
    "bank-chain, one alone (execute + deliver, 2-of-3)": { gas: result.gasAlone },
    "Circle CCTP v1 (quoted)": { gas: CCTP_V1_GAS },
  });
  console.log(JSON.stringify(result, null, 2));
  console.log(`written to ${file}`);
  a.destroy();
  b.destroy();
  if (problems.length > 0 || transfers !== TRANSFERS) process.exitCode = 1;
} finally {
  await stack.stop();
}
