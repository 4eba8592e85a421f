/**
 * ISO 8583: codec speed against the npm `iso_8583` package on the same
 * messages in the same run, and the card gateway end to end over TCP. Writes
 * `bench/results/iso8583.json` and prints a table.
 *
 *   npm run bench:iso8583
 *
 * - codecDecodePerSec / codecEncodePerSec: this codec's messages per second;
 *   referenceDecodePerSec / referenceEncodePerSec: `iso_8583` 2.6.7 on the
 *   same messages; decodeRatio / encodeRatio: ours over theirs (median of 3
 *   timed runs each, see bench/lib/iso8583-codec.ts);
 * - gatewayPerSec: 0200 messages answered per second, 50 connections each
 *   sending its next message as soon as the previous one is answered, every
 *   message debiting a profile on bank A's AccountLedger on the in-process
 *   network (the gateway batches what arrives while a transaction is under way);
 * - gatewayP50Ms / gatewayP95Ms: round trip of one message, from writing its
 *   frame to reading its response;
 * - gatewayGasPerMessage: gas of every gateway transaction over the messages.
 */
import { keccak256, toUtf8Bytes, Wallet } from "ethers";
import { network } from "hardhat";

import { encode, decode, type Iso8583Message } from "../src/iso8583/codec.js";
import { frame, FrameReader } from "../src/iso8583/framing.js";
import { CardGateway } from "../src/iso8583/gateway.js";
import { CardStore } from "../src/iso8583/cards.js";
import { Journal } from "../src/iso8583/journal.js";
import { LedgerPoster } from "../src/iso8583/ledger.js";
import { encodeWalletData } from "../src/iso8583/wallet-data.js";
import { Store } from "../src/store/store.js";
import { AccountLedger__factory, BankToken__factory, TrustAccount__factory } from "../typechain-types/index.js";
import { benchCodec } from "./lib/iso8583-codec.js";
import { deployQuietly } from "./lib/deploy.js";
import { writeResult } from "./lib/results.js";
import net from "node:net";

const CONNECTIONS = 50;
const MESSAGES = 2_000;

const codec = benchCodec();

const connection = await network.create("hardhat");
const { ethers } = connection;
const env = await deployQuietly(connection.provider);
const ledgerAddress = env.deployments.AccountLedgerBankA!.address;
const gatewaySigner = await ethers.getSigner(env.namedAccounts.gateway);
const bank = AccountLedger__factory.connect(ledgerAddress, await ethers.getSigner(env.namedAccounts.bankA));
// Bank A's card float: minted against its trust account, funded into the central token account.
const bankA = await ethers.getSigner(env.namedAccounts.bankA);
const trustA = TrustAccount__factory.connect(env.deployments.TrustAccountBankA!.address, bankA);
await (await trustA.mintForDeposit(bankA.address, 10_000_000n, keccak256(toUtf8Bytes("bench:float")))).wait();
await (
  await BankToken__factory.connect(env.deployments.BankToken!.address, bankA).approve(ledgerAddress, 10_000_000n)
).wait();
await (await bank.fundTokens(keccak256(toUtf8Bytes("bench:fund")), 10_000_000n)).wait();
const wallet = Wallet.createRandom().address;
await (await bank.openProfile(keccak256(toUtf8Bytes("bench:card")), wallet, 0n)).wait();
await (await bank.connect(gatewaySigner).credit(keccak256(toUtf8Bytes("bench:seed")), wallet, 10_000_000n)).wait();

const problems: string[] = [];
const store = Store.open({ path: ":memory:" });
const cards = new CardStore(store, Buffer.alloc(32, 1));
const PAN = "4000001999999998";
cards.put(PAN, "3012", wallet);
const gateway = new CardGateway({
  journal: new Journal(store),
  cards,
  currency: "840",
  poster: new LedgerPoster({
    ledger: ledgerAddress,
    signer: gatewaySigner,
    provider: ethers.provider,
    timeoutMs: 60_000,
  }),
  chainId: 31337n,
  assets: ["BUSD", "USD"],
  port: 0,
  log: (line) => problems.push(line),
});
await gateway.start();
const firstBlock = await ethers.provider.getBlockNumber();

let stan = 0;
function request(): Iso8583Message {
  stan += 1;
  const trace = String(stan).padStart(6, "0");
  return {
    mti: "0200",
    fields: {
      2: PAN,
      3: "000000",
      4: "000000000100",
      7: "1128120000",
      11: trace,
      12: "120000",
      13: "1128",
      32: "123456",
      37: `BENCH${trace}0`,
      41: "TERM0001",
      42: "MERCHANT0000001",
      48: encodeWalletData({ address: wallet, amount: 100n }),
      49: "840",
    },
  };
}

const latencies: number[] = [];
let sent = 0;
let approved = 0;
async function client(): Promise<void> {
  const socket = net.connect(gateway.port!, "127.0.0.1");
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  socket.setNoDelay(true);
  const reader = new FrameReader("binary2");
  let waiting: ((message: Iso8583Message) => void) | undefined;
  socket.on("data", (chunk: Buffer) => {
    for (const bytes of reader.push(chunk)) waiting?.(decode(bytes));
  });
  while (sent < MESSAGES) {
    sent += 1;
    const message = request();
    const started = performance.now();
    const response = await new Promise<Iso8583Message>((resolve) => {
      waiting = resolve;
      socket.write(frame(encode(message), "binary2"));
    });
    latencies.push(performance.now() - started);
    if (response.fields[39] === "00") approved += 1;
    else problems.push(`STAN ${message.fields[11]}: ${response.fields[39]}`);
  }
  socket.destroy();
}
const started = performance.now();
await Promise.all(Array.from({ length: CONNECTIONS }, () => client()));
const seconds = (performance.now() - started) / 1_000;
await gateway.stop();
store.close();

let gas = 0n;
const lastBlock = await ethers.provider.getBlockNumber();
for (let n = firstBlock + 1; n <= lastBlock; n += 1) {
  const block = await ethers.provider.getBlock(n, true);
  for (const tx of block?.prefetchedTransactions ?? []) {
    if (tx.from.toLowerCase() !== gatewaySigner.address.toLowerCase()) continue;
    gas += (await ethers.provider.getTransactionReceipt(tx.hash))!.gasUsed;
  }
}
const balance = (await bank.profileOf(wallet)).token;
if (balance !== 10_000_000n - 100n * BigInt(approved))
  problems.push(`ledger shows ${balance}, expected one debit per approval`);

latencies.sort((x, y) => x - y);
const percentile = (p: number) =>
  Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]! * 10) / 10;
const result = {
  codecDecodePerSec: codec.codecDecodePerSec,
  codecEncodePerSec: codec.codecEncodePerSec,
  referenceDecodePerSec: codec.referenceDecodePerSec,
  referenceEncodePerSec: codec.referenceEncodePerSec,
  decodeRatio: codec.decodeRatio,
  encodeRatio: codec.encodeRatio,
  codecMessages: codec.messages,
  gatewayMessages: MESSAGES,
  gatewayApproved: approved,
  gatewayConnections: CONNECTIONS,
  gatewaySeconds: Math.round(seconds * 100) / 100,
  gatewayPerSec: Math.round(approved / seconds),
  gatewayP50Ms: percentile(0.5),
  gatewayP95Ms: percentile(0.95),
  gatewayGasPerMessage: approved === 0 ? 0 : Number(gas / BigInt(approved)),
};
const file = writeResult("iso8583.json", result);
console.table(result);
console.log(`written to ${file}`);
if (problems.length > 0) {
  console.error(`problems (${problems.length}):\n${problems.slice(0, 10).join("\n")}`);
  process.exitCode = 1;
}
if (codec.decodeRatio < 5) {
  console.error(`decodeRatio ${codec.decodeRatio} is below the required 5`);
  process.exitCode = 1;
}
