/**
 * Step 4: the demo card of account 10 (`card:alice`) buys for 1.25 through
 * the ISO 8583 card gateway: one 0200 over its TCP framing (2-byte length),
 * answered 0210 with response code 00. The gateway debits the card's profile
 * in bank A's `AccountLedger`; the step finds the `Debited` event for the
 * wallet and checks the profile's balance went down by the amount.
 */
import net from "node:net";

import { decode, encode, type Iso8583Message } from "../../iso8583/codec.js";
import { frame, FrameReader } from "../../iso8583/framing.js";
import { DEVNET_DEMO_CARDS } from "../../iso8583/service.js";
import { encodeWalletData } from "../../iso8583/wallet-data.js";
import { ACCOUNTS, DemoError, money, waitFor, type DemoStep } from "../context.js";

const AMOUNT = 125n;
const ANSWER_MS = 60_000;

/** Sends one message over the gateway's framing and returns its answer. */
async function exchange(url: string, message: Iso8583Message): Promise<Iso8583Message> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  try {
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const reader = new FrameReader("binary2");
    const answered = new Promise<Iso8583Message>((resolve, reject) => {
      socket.on("data", (chunk: Buffer) => {
        try {
          for (const bytes of reader.push(chunk)) resolve(decode(bytes));
        } catch (error) {
          reject(error);
        }
      });
      socket.once("error", reject);
    });
    socket.write(frame(encode(message), "binary2"));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DemoError("DEMO_CARD_NO_ANSWER", `the card gateway at ${url} did not answer within 60 s`)),
        ANSWER_MS,
      );
    });
    try {
      return await Promise.race([answered, late]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    socket.destroy();
  }
}

/** Step 4: a card 0200 through the ISO 8583 gateway. */
export const card: DemoStep = {
  name: "card",
  title: "card payment through the ISO 8583 gateway",
  async run(context, record) {
    const chain = context.home;
    const [alice] = DEVNET_DEMO_CARDS;
    const wallet = context.address(ACCOUNTS.card);
    const ledger = chain.contract("AccountLedgerBankA");
    const balance = async (): Promise<bigint> =>
      ((await ledger.getFunction("profileOf")(wallet)) as { token: bigint }).token;
    const before = await balance();
    const seconds = Math.floor(Date.now() / 1000);
    const now = new Date(seconds * 1000);
    const two = (value: number) => String(value).padStart(2, "0");
    const stan = String(seconds % 1_000_000).padStart(6, "0");
    const rrn = `DEMO${String(seconds % 100_000_000).padStart(8, "0")}`;
    const answer = await exchange(context.service("card-gateway"), {
      mti: "0200",
      fields: {
        2: alice.pan,
        3: "000000",
        4: AMOUNT.toString().padStart(12, "0"),
        7: `${two(now.getUTCMonth() + 1)}${two(now.getUTCDate())}${two(now.getUTCHours())}${two(now.getUTCMinutes())}${two(now.getUTCSeconds())}`,
        11: stan,
        14: alice.expiry,
        32: "123456",
        37: rrn,
        41: "DEMO0001",
        42: "DEMOMERCHANT001",
        48: encodeWalletData({ address: wallet, amount: AMOUNT }),
        49: "840",
      },
    });
    record.note(
      `0200 ${alice.holder} PAN ${alice.pan.slice(0, 6)}…${alice.pan.slice(-4)} ${money(AMOUNT)} USD, STAN ${stan}, RRN ${rrn}`,
    );
    record.equal("answer MTI", answer.mti, "0210");
    record.equal("response code (DE 39)", answer.fields[39], "00");
    const debits = await waitFor(
      () => context.eventsSinceStart(chain, ledger, "Debited", null, wallet),
      (logs) => logs.some((log) => (ledger.interface.parseLog(log)?.args.amount as bigint) === AMOUNT),
      30_000,
    );
    const debit = debits.filter((log) => (ledger.interface.parseLog(log)?.args.amount as bigint) === AMOUNT).at(-1);
    record.tx(chain, debit?.transactionHash, "AccountLedgerBankA Debited (the gateway's debit)");
    record.equal("card profile's balance −1.25", before - (await balance()), AMOUNT);
  },
};
