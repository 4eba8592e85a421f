/**
 * Test kit for the card gateway: a framed ISO 8583 client over real TCP, a
 * JSON-RPC proxy in front of the in-process chain that can be taken down (to
 * play "chain unavailable"), and a gateway wired to bank A's AccountLedger.
 */
import net from "node:net";

import { JsonRpcProvider, keccak256, toUtf8Bytes, Wallet } from "ethers";

import { CardStore } from "../../src/iso8583/cards.js";
import { decode, encode, type Iso8583Message } from "../../src/iso8583/codec.js";
import { frame, FrameReader, type Framing } from "../../src/iso8583/framing.js";
import { CardGateway, type CardGatewayOptions } from "../../src/iso8583/gateway.js";
import { Journal } from "../../src/iso8583/journal.js";
import { LedgerPoster } from "../../src/iso8583/ledger.js";
import { encodeWalletData } from "../../src/iso8583/wallet-data.js";
import { Store } from "../../src/store/store.js";
import { AccountLedger__factory, type AccountLedger } from "../../typechain-types/index.js";
import { RpcProxy } from "../mocks/rpc-proxy.js";
import { deploySuite, type Suite } from "../helpers/suite.js";

/** A framed client; responses are matched to requests by STAN (DE 11) and MTI. */
export class IsoClient {
  readonly socket: net.Socket;
  readonly #reader: FrameReader;
  readonly #framing: Framing;
  readonly #waiting = new Map<string, (message: Iso8583Message) => void>();
  readonly received: Iso8583Message[] = [];
  closed = false;

  private constructor(socket: net.Socket, framing: Framing) {
    this.socket = socket;
    this.#framing = framing;
    this.#reader = new FrameReader(framing);
    socket.on("data", (chunk: Buffer) => {
      for (const bytes of this.#reader.push(chunk)) {
        const message = decode(bytes);
        this.received.push(message);
        const key = `${message.mti}|${message.fields[11] ?? ""}`;
        this.#waiting.get(key)?.(message);
        this.#waiting.delete(key);
      }
    });
    socket.on("close", () => (this.closed = true));
    socket.on("error", () => undefined);
  }

  static async connect(port: number, framing: Framing = "binary2"): Promise<IsoClient> {
    const socket = net.connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new IsoClient(socket, framing);
  }

  /** Sends `message` and resolves with the response of the matching MTI and STAN. */
  async request(message: Iso8583Message, timeoutMs = 10_000): Promise<Iso8583Message> {
    // A repeat (0201) is answered with the plain response (0210).
    const mti = `${message.mti.slice(0, 2)}${Number(message.mti[2]) + 1}0`;
    const key = `${mti}|${message.fields[11] ?? ""}`;
    const answered = new Promise<Iso8583Message>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${mti} for STAN ${message.fields[11]}`)), timeoutMs);
      this.#waiting.set(key, (response) => {
        clearTimeout(timer);
        resolve(response);
      });
    });
    this.sendRaw(encode(message));
    return answered;
  }

  sendRaw(bytes: Uint8Array): void {
    this.socket.write(frame(bytes, this.#framing));
  }

  async waitClosed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface GatewayWorld {
  readonly suite: Suite;
  /** The card file every gateway of the world reads (PAN key: `TEST_PAN_KEY`). */
  readonly cards: CardStore;
  readonly ledger: AccountLedger;
  readonly proxy: RpcProxy;
  readonly rpcUrl: string;
  readonly gatewayAddress: string;
}

/** The suite plus a proxy in front of its chain. */
export async function gatewayWorld(): Promise<GatewayWorld> {
  const suite = await deploySuite();
  const ledger = AccountLedger__factory.connect(
    suite.deployments.get("AccountLedgerBankA").address,
    suite.accounts.admin,
  );
  const proxy = new RpcProxy((payload) => suite.connection.provider.request(payload));
  const rpcUrl = await proxy.start();
  const role = await ledger.GATEWAY_ROLE();
  let gatewayAddress: string | undefined;
  for (const signer of await suite.ethers.getSigners()) {
    if (await ledger.hasRole(role, signer.address)) {
      gatewayAddress = signer.address;
      break;
    }
  }
  if (gatewayAddress === undefined) throw new Error("no signer holds GATEWAY_ROLE");
  // Bank A mints a float against its trust account and funds the central token
  // account with it, so customers' token amounts stay within the minimum ratio.
  const { bankA } = suite.accounts;
  const float = 100_000_000n;
  await (await suite.trustA.mintForDeposit(bankA.address, float, keccak256(toUtf8Bytes("test:card-float")))).wait();
  await (await suite.token.connect(bankA).approve(await ledger.getAddress(), float)).wait();
  await (await ledger.connect(bankA).fundTokens(keccak256(toUtf8Bytes("test:fund")), float)).wait();
  const cards = new CardStore(Store.open({ path: ":memory:" }), TEST_PAN_KEY);
  return { suite, ledger, proxy, rpcUrl, gatewayAddress, cards };
}

export const TEST_PAN_KEY = Buffer.alloc(32, 7);
/** The acquirer (DE 32) and merchant (DE 42) test messages come from unless they say otherwise. */
export const ACQUIRER = "123456";
export const MERCHANT = "MERCHANT0000001";

let panCounter = 0;
/** A fresh Luhn-valid PAN. */
export function nextPan(): string {
  panCounter += 1;
  const body = `5${String(panCounter).padStart(14, "0")}`;
  for (let digit = 0; digit < 10; digit += 1) {
    const pan = `${body}${digit}`;
    let sum = 0;
    for (let i = 0; i < pan.length; i += 1) {
      let d = Number(pan[pan.length - 1 - i]);
      if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    if (sum % 10 === 0) return pan;
  }
  throw new Error("unreachable");
}

/** The PAN of each wallet opened by `openCardAccount`. */
const pans = new Map<string, string>();

/** The card of `wallet` (a Luhn-valid PAN on nobody's file for a wallet without one). */
export function panOf(wallet: string): string {
  return pans.get(wallet.toLowerCase()) ?? "4111111111111111";
}

export interface RunningGateway {
  readonly gateway: CardGateway;
  readonly port: number;
  readonly store: Store;
  readonly logs: string[];
  stop(): Promise<void>;
}

/** Starts a gateway on a free port whose ledger transactions go through the world's proxy. */
export async function startGateway(
  world: GatewayWorld,
  options: Partial<CardGatewayOptions> & { storePath?: string; timeoutMs?: number } = {},
): Promise<RunningGateway> {
  const provider = new JsonRpcProvider(world.rpcUrl, 31337, {
    staticNetwork: true,
    batchMaxCount: 1,
    pollingInterval: 50,
    // No shared answers: a refused call must not be handed out again once the proxy is back.
    cacheTimeout: -1,
  });
  const signer = await provider.getSigner(world.gatewayAddress);
  const store = Store.open({ path: options.storePath ?? ":memory:" });
  const logs: string[] = [];
  const gateway = new CardGateway({
    journal: new Journal(store),
    poster: new LedgerPoster({
      ledger: await world.ledger.getAddress(),
      signer,
      provider,
      timeoutMs: options.timeoutMs ?? 5_000,
    }),
    cards: world.cards,
    chainId: 31337n,
    assets: ["BUSD", "USD"],
    currency: "840",
    // The tests' acquirers send no MAC unless a test gives them a key; the production default refuses them.
    acceptUnauthenticated: true,
    port: 0,
    log: (line) => logs.push(line),
    ...options,
  });
  await gateway.start();
  return {
    gateway,
    port: gateway.port!,
    store,
    logs,
    async stop() {
      await gateway.stop();
      provider.destroy();
      store.close();
    },
  };
}

/** A fresh card account: a profile on bank A's ledger holding `tokens` (minor units). */
export async function openCardAccount(
  world: GatewayWorld,
  tokens: bigint,
  limit = 0n,
): Promise<{ wallet: string; accountId: string; pan: string }> {
  const wallet = Wallet.createRandom().address;
  const accountId = keccak256(toUtf8Bytes(`card:${wallet}`));
  const { ledger, suite } = world;
  // The limit is set after the seed credit: credits respect it too.
  await (await ledger.connect(suite.accounts.bankA).openProfile(accountId, wallet, 0n)).wait();
  if (tokens > 0n) {
    const gatewaySigner = await suite.ethers.getSigner(world.gatewayAddress);
    await (await ledger.connect(gatewaySigner).credit(keccak256(toUtf8Bytes(`seed:${wallet}`)), wallet, tokens)).wait();
  }
  if (limit > 0n) await (await ledger.connect(suite.accounts.bankA).setLimit(wallet, limit)).wait();
  const pan = nextPan();
  world.cards.put(pan, "3012", wallet);
  pans.set(wallet.toLowerCase(), pan);
  return { wallet, accountId, pan };
}

let stan = 100_000;
/** A fresh STAN (DE 11), unique within the test run. */
export function nextStan(): string {
  stan += 1;
  return String(stan % 1_000_000).padStart(6, "0");
}

export const DE7 = "1128120000";

/** A 0100 / 0200 request for `amount` from `wallet`. */
export function cardRequest(
  mti: "0100" | "0200",
  wallet: string,
  amount: bigint,
  extra: Record<number, string> = {},
): Iso8583Message {
  return {
    mti,
    fields: {
      2: panOf(wallet),
      3: "000000",
      4: amount.toString().padStart(12, "0").slice(-12),
      7: DE7,
      11: nextStan(),
      12: "120000",
      13: "1128",
      32: ACQUIRER,
      37: `RRN${nextStan()}000`.slice(0, 12),
      41: "TERM0001",
      42: MERCHANT,
      48: encodeWalletData({ address: wallet, amount }),
      49: "840",
      ...extra,
    },
  };
}

/** DE 90 naming `original` (its acquirer from its DE 32). */
export function originalData(original: Iso8583Message): string {
  const acquirer = (original.fields[32] ?? "").padStart(11, "0");
  return `${original.mti}${original.fields[11]}${original.fields[7]}${acquirer}${"0".repeat(11)}`;
}

/** A 0400 / 0420 reversing `original`. */
export function reversalOf(original: Iso8583Message, mti: "0400" | "0420" = "0400"): Iso8583Message {
  const { 48: _wallet, ...rest } = original.fields;
  return { mti, fields: { ...rest, 11: nextStan(), 90: originalData(original) } };
}

/** A refund (processing code 20) of `amount` to `wallet` naming `sale` by DE 90. */
export function refundOf(
  sale: Iso8583Message,
  wallet: string,
  amount: bigint,
  extra: Record<number, string> = {},
): Iso8583Message {
  return cardRequest("0200", wallet, amount, { 3: "200000", 90: originalData(sale), ...extra });
}

/** DE 95 with `actual` as the actual transaction amount (the rest zero). */
export function replacementAmounts(actual: bigint): string {
  return `${actual.toString().padStart(12, "0")}${"0".repeat(30)}`;
}

/** The first message `client` received with STAN `stan`. */
export async function waitForStan(client: IsoClient, stan: string, timeoutMs = 10_000): Promise<Iso8583Message> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = client.received.find((message) => message.fields[11] === stan);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no answer for STAN ${stan}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function profile(world: GatewayWorld, wallet: string): Promise<{ token: bigint; held: bigint }> {
  const p = await world.ledger.profileOf(wallet);
  return { token: p.token, held: p.held };
}

/** One world per suite and a fresh gateway and client per test, as the mocha hooks of the enclosing `describe`. */
export interface GatewayPerTest {
  readonly world: GatewayWorld;
  readonly running: RunningGateway;
  readonly client: IsoClient;
}

/**
 * Registers the hooks of a `describe` whose tests each talk to a gateway of
 * their own over one deployed world: the world's proxy is up before and after
 * every test, and the gateway and its client are stopped even when a test
 * fails. The returned object reads the current ones.
 */
export function gatewayPerTest(options: Parameters<typeof startGateway>[1] = {}): GatewayPerTest {
  let world: GatewayWorld | undefined;
  let running: RunningGateway | undefined;
  let client: IsoClient | undefined;
  before(async function () {
    world = await gatewayWorld();
  });
  after(async function () {
    await world?.proxy.stop();
  });
  beforeEach(async function () {
    await world!.proxy.setMode("up");
    running = await startGateway(world!, options);
    client = await IsoClient.connect(running.port);
  });
  afterEach(async function () {
    client?.close();
    await world?.proxy.setMode("up");
    await running?.stop();
    running = undefined;
    client = undefined;
  });
  const current = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`no ${what}: use it inside a test`);
    return value;
  };
  return {
    get world() {
      return current(world, "world");
    },
    get running() {
      return current(running, "gateway");
    },
    get client() {
      return current(client, "client");
    },
  };
}
