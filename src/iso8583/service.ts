/**
 * The card gateway as a service for `npm start` (see `src/services.ts`): bank
 * A's AccountLedger behind an ISO 8583 TCP server on 127.0.0.1, its journal in
 * its own SQLite file under the context's data folder.
 *
 * Beside it, `card-gateway-api` serves the gateway's traffic over HTTP from the
 * same SQLite file, through a read-only connection of its own (`traffic.ts`).
 *
 * Environment: `CARD_GATEWAY_SETTINGS` below (docs/operations.md, docs/iso8583.md).
 */
import { createRequire } from "node:module";

import { getAddress, keccak256, toUtf8Bytes, type Signer } from "ethers";

import {
  openDeploymentStore,
  serviceOwningStore,
  type Service,
  type ServiceContext,
  type ServiceFactory,
} from "../chain/service.js";
import { isDevnet } from "../chain/networks.js";
import { choice, int, settingsSchema, text } from "../chain/settings.js";
import { AccountLedger__factory, BankToken__factory } from "../../typechain-types/index.js";
import type { Clock } from "../chain/clock.js";
import { CardStore } from "./cards.js";
import { FRAMINGS, type Framing } from "./framing.js";
import { CardGateway, DEFAULT_GATEWAY_PORT, DEFAULT_WALLET_ELEMENT, GatewayConfigError } from "./gateway.js";
import { Journal } from "./journal.js";
import { cardTrafficHttpServer } from "./http.js";
import { LedgerPoster } from "./ledger.js";
import { CardTraffic } from "./traffic.js";

/** The traffic API's port unless `CARD_GATEWAY_API_PORT` says otherwise. */
export const DEFAULT_CARD_GATEWAY_API_PORT = 8584;

/** The deployment the devnet's gateway serves (bank A's card accounts). */
export const GATEWAY_LEDGER = "AccountLedgerBankA";

/**
 * The devnet's demo cards, on file at every `npm start`: the PANs are test
 * numbers (Luhn-valid, of no real issuer), bound to the demo cardholders'
 * profiles (the devnet's accounts 10 and 11, see deploy/005_cards.ts).
 */
export const DEVNET_DEMO_CARDS = [
  { holder: "card:alice", accountIndex: 10, pan: "4000001000000018", expiry: "3012" },
  { holder: "card:bob", accountIndex: 11, pan: "4000001000000026", expiry: "3012" },
] as const;

/** The devnet's PAN key (hex): published here, so only for the devnet. */
export const DEVNET_PAN_KEY = keccak256(toUtf8Bytes("bank-chain/devnet/pan-key")).slice(2);

const currencyCodes = createRequire(import.meta.url)("currency-codes") as {
  code(alpha: string): { number: string; digits: number } | undefined;
};

/** `acquirer:hexkey,…` as the gateway takes it. */
export function parseMacKeys(value: string): Map<string, Uint8Array> {
  const keys = new Map<string, Uint8Array>();
  for (const pair of value.split(",").filter((entry) => entry !== "")) {
    const [acquirer, key] = pair.split(":") as [string, string];
    keys.set(acquirer, Buffer.from(key, "hex"));
  }
  return keys;
}

export interface CardGatewayServiceOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The card gateway's environment. */
export const CARD_GATEWAY_SETTINGS = settingsSchema("card-gateway", {
  CARD_GATEWAY_PORT: int("TCP port on 127.0.0.1 (0 picks a free one)", DEFAULT_GATEWAY_PORT, 0, 65_535),
  CARD_GATEWAY_API_PORT: int(
    "port of the traffic API (service card-gateway-api) on 127.0.0.1 (0 picks a free one)",
    DEFAULT_CARD_GATEWAY_API_PORT,
    0,
    65_535,
  ),
  CARD_GATEWAY_FRAMING: choice(
    "length prefix: 2-byte big-endian binary or 4 ASCII digits",
    "binary2" as Framing,
    FRAMINGS,
  ),
  CARD_GATEWAY_WALLET_ELEMENT: int(
    "element carrying the wallet data: 48, 60-63 or 120-127",
    DEFAULT_WALLET_ELEMENT,
    2,
    128,
  ),
  CARD_GATEWAY_CHAIN_TIMEOUT_MS: int("a ledger batch slower than this is answered 91 (ms)", 5_000, 100, 600_000),
  CARD_GATEWAY_FRAME_TIMEOUT_MS: int("longest wait for the rest of a started frame (ms)", 5_000, 10, 600_000),
  CARD_GATEWAY_IDLE_TIMEOUT_MS: int("an idle connection is closed after this (ms)", 300_000, 100, 86_400_000),
  CARD_GATEWAY_PAN_KEY: text(
    "the bank's secret for hashing PANs in the card file (HMAC-SHA-256); keep it in a secret store",
    "64 hex digits (32 bytes)",
    /^[0-9a-fA-F]{64}$/,
    DEVNET_PAN_KEY,
    { required: true },
  ),
  CARD_GATEWAY_UNAUTHENTICATED: choice(
    "messages from an acquirer without a MAC key: taken, or refused with 63 (anyone who can connect can write any DE 32)",
    { devnet: "accept", elsewhere: "refuse" },
    ["accept", "refuse"] as const,
  ),
  CARD_GATEWAY_MAC_KEYS: text(
    "acquirers that must authenticate their messages (DE 64 / DE 128), each with its MAC key",
    "acquirer:key pairs, comma-separated: acquirer id 1-11 digits, key 32-128 hex digits",
    /^[0-9]{1,11}:(?:[0-9a-fA-F]{2}){16,64}(?:,[0-9]{1,11}:(?:[0-9a-fA-F]{2}){16,64})*$/,
    "",
    { required: false },
  ),
});

export function cardGatewayService(options: CardGatewayServiceOptions = {}): ServiceFactory {
  const name = "card-gateway";
  return {
    name,
    async create(context: ServiceContext): Promise<Service> {
      const env = options.env ?? process.env;
      const { chain, deployments } = context;
      const record = deployments.get(GATEWAY_LEDGER);
      const ledger = AccountLedger__factory.connect(record.address, chain.provider);
      const signer = await gatewaySigner(record.address, await ledger.GATEWAY_ROLE(), ledger, await chain.getSigners());
      const token = BankToken__factory.connect(await ledger.token(), chain.provider);
      const currency = Buffer.from((await token.currency()).slice(2), "hex").toString("latin1");
      const assets = [(await token.symbol()).toUpperCase(), currency.toUpperCase()];
      const iso4217 = currencyCodes.code(currency.toUpperCase());
      const decimals = Number(await token.decimals());
      if (iso4217 === undefined || iso4217.digits !== decimals) {
        throw new GatewayConfigError(
          "GATEWAY_BAD_CURRENCY",
          `the token's currency ${currency} with ${decimals} decimals is not an ISO 4217 currency with that minor unit; DE 4 cannot map 1:1 to token units`,
          { currency, decimals },
        );
      }
      const devnet = isDevnet(chain.chainId);
      const settings = CARD_GATEWAY_SETTINGS.read(env, { devnet });
      const macKeys = parseMacKeys(settings.CARD_GATEWAY_MAC_KEYS);
      if (macKeys.size === 0 && settings.CARD_GATEWAY_UNAUTHENTICATED === "refuse") {
        // Every message would be answered 63: a gateway that can take nothing is a configuration mistake.
        throw new GatewayConfigError(
          "GATEWAY_NO_ACQUIRER",
          "CARD_GATEWAY_MAC_KEYS names no acquirer and CARD_GATEWAY_UNAUTHENTICATED is refuse, so every message would be refused (63); set each acquirer's MAC key",
        );
      }
      const port = settings.CARD_GATEWAY_PORT;
      const store = await openDeploymentStore(context, name, GATEWAY_LEDGER);
      const cards = new CardStore(store, Buffer.from(settings.CARD_GATEWAY_PAN_KEY, "hex"));
      if (devnet) {
        const signers = await chain.getSigners();
        for (const card of DEVNET_DEMO_CARDS) {
          const wallet = await signers[card.accountIndex]?.getAddress();
          // Filed once: a demo card the bank blocked or renewed stays as the bank left it.
          if (wallet !== undefined && cards.get(card.pan) === undefined) cards.put(card.pan, card.expiry, wallet);
        }
      }
      return serviceOwningStore(name, store, () => {
        const timeoutMs = settings.CARD_GATEWAY_CHAIN_TIMEOUT_MS;
        const gateway = new CardGateway({
          journal: new Journal(store),
          cards,
          currency: iso4217.number,
          macKeys,
          acceptUnauthenticated: settings.CARD_GATEWAY_UNAUTHENTICATED === "accept",
          poster: new LedgerPoster({ ledger: record.address, signer, provider: chain.provider, timeoutMs }),
          chainId: chain.chainId,
          assets,
          host: "127.0.0.1",
          port,
          framing: settings.CARD_GATEWAY_FRAMING,
          walletElement: settings.CARD_GATEWAY_WALLET_ELEMENT,
          frameTimeoutMs: settings.CARD_GATEWAY_FRAME_TIMEOUT_MS,
          idleTimeoutMs: settings.CARD_GATEWAY_IDLE_TIMEOUT_MS,
          log: context.log,
        });
        return {
          url: () => gateway.url ?? `tcp://127.0.0.1:${port}`,
          start: () => gateway.start(),
          stop: () => gateway.stop(),
        };
      });
    },
  };
}

async function gatewaySigner(
  ledger: string,
  role: string,
  contract: { hasRole(role: string, account: string): Promise<boolean> },
  signers: readonly Signer[],
): Promise<Signer> {
  for (const signer of signers) {
    if (await contract.hasRole(role, await signer.getAddress())) return signer;
  }
  throw new GatewayConfigError(
    "GATEWAY_KEY_MISSING",
    `no configured key holds GATEWAY_ROLE on the AccountLedger ${getAddress(ledger)}; configure that key for this network`,
    { ledger },
  );
}

export const cardGateway: ServiceFactory = cardGatewayService();

/** What tests change: the environment (default `process.env`) and the clock the stats window ends at. */
export interface CardGatewayApiOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The clock the stats window ends at; default the system clock. */
  readonly clock?: Clock;
}

/**
 * `card-gateway-api`: the gateway's traffic over HTTP (`http.ts`). It opens the
 * gateway's journal file (the `card-gateway` store of this deployment) through
 * a read-only connection of its own, so it runs after `card-gateway`, which
 * creates and migrates that file; it keeps no state, so a restart of either
 * service loses nothing.
 */
export function cardGatewayApiService(options: CardGatewayApiOptions = {}): ServiceFactory {
  const name = "card-gateway-api";
  return {
    name,
    async create(context: ServiceContext): Promise<Service> {
      const settings = CARD_GATEWAY_SETTINGS.read(options.env ?? process.env, {
        devnet: isDevnet(context.chain.chainId),
      });
      const port = settings.CARD_GATEWAY_API_PORT;
      const store = await openDeploymentStore(context, "card-gateway", GATEWAY_LEDGER);
      return serviceOwningStore(name, store, () => {
        const traffic = new CardTraffic(store, options.clock === undefined ? {} : { clock: options.clock });
        const http = cardTrafficHttpServer(traffic, {
          host: "127.0.0.1",
          port,
          log: context.log,
          health: { checkDatabase: () => traffic.check() },
        });
        return {
          url: () => http.url ?? `http://127.0.0.1:${port}`,
          start: async () => void (await http.start()),
          stop: () => http.stop(),
        };
      });
    },
  };
}

/** The traffic API as `npm start` runs it (settings from `process.env`). */
export const cardGatewayApi: ServiceFactory = cardGatewayApiService();
