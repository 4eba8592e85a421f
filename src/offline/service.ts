/**
 * The offline merchant terminal as a service for `npm start` (see `src/services.ts`): one merchant's terminal
 * (`terminal.ts`) behind an HTTP API on 127.0.0.1 (`http.ts`), its vouchers and offers in its own SQLite file
 * under the context's data folder (docs/offline.md, "Merchant terminal service").
 *
 * The merchant's key: on the devnet the devnet's account 15 (a published key, `DEVNET_MERCHANT_KEY`); on any
 * other chain `OFFLINE_MERCHANT_KEY` must name the merchant's own, or the service does not start.
 *
 * Environment: `OFFLINE_MERCHANT_SETTINGS` below (docs/operations.md).
 */
import { Wallet } from "ethers";

import type { Clock } from "../chain/clock.js";
import { isDevnet } from "../chain/networks.js";
import { publishedKeyIndex } from "../chain/published-keys.js";
import {
  openDeploymentStore,
  serviceOwningStore,
  type Service,
  type ServiceContext,
  type ServiceFactory,
} from "../chain/service.js";
import { int, settingsSchema, text } from "../chain/settings.js";
import { terminalHttpServer } from "./http.js";
import { Merchant } from "./merchant.js";
import { MerchantStore } from "./merchant-store.js";
import { VoucherSync } from "./sync.js";
import { MerchantTerminal, OfflineTerminalError } from "./terminal.js";

/** The terminal's port unless `OFFLINE_MERCHANT_PORT` says otherwise. */
export const DEFAULT_OFFLINE_MERCHANT_PORT = 8670;

/** The devnet account the devnet's merchant terminal is: index 15 of the public test mnemonic. */
export const DEVNET_MERCHANT_INDEX = 15;

/**
 * The private key of the devnet's account 15 (`0xcd3B766CCDd6AE721141F452C550Ca635964ce71`), which Hardhat and
 * Anvil print at start: published, so only for the devnet.
 */
export const DEVNET_MERCHANT_KEY = "0x8166f546bab6da521a8369cab06c5d2b9e46670292d85c875ee9ec20e84ffb61";

/** The vault the terminal takes vouchers for. */
const VAULT = "OfflineVault";

/** The terminal's environment. */
export const OFFLINE_MERCHANT_SETTINGS = settingsSchema("offline-merchant", {
  OFFLINE_MERCHANT_PORT: int(
    "port of the offline merchant terminal's API on 127.0.0.1 (0 picks a free one)",
    DEFAULT_OFFLINE_MERCHANT_PORT,
    0,
    65_535,
  ),
  OFFLINE_MERCHANT_SYNC_SECONDS: int(
    "submit the held vouchers on chain every this many seconds; 0: only on POST /sync",
    0,
    0,
    86_400,
  ),
  OFFLINE_MERCHANT_KEY: text(
    "the merchant's private key (vouchers pay its address; it sends the sync's transactions); keep it in a secret store",
    "64 hex digits, 0x optional",
    /^(0x)?[0-9a-fA-F]{64}$/,
    DEVNET_MERCHANT_KEY,
    { required: true },
  ),
  OFFLINE_MERCHANT_OFFER_SECONDS: int("how long an offer waits for its buyer (s)", 300, 1, 86_400),
});

/** What tests change: the environment (default `process.env`) and the clock. */
export interface OfflineMerchantServiceOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
}

/**
 * The merchant's wallet from `key` (as `OFFLINE_MERCHANT_KEY` gives it). Off the devnet a published key is refused:
 * anyone could sign with it, and take the merchant's payments.
 * @throws OfflineTerminalError `OFFLINE_MERCHANT_PUBLISHED_KEY`
 */
export function merchantWallet(key: string, devnet: boolean): Wallet {
  const hex = key.startsWith("0x") || key.startsWith("0X") ? `0x${key.slice(2)}` : `0x${key}`;
  if (!devnet && publishedKeyIndex(hex) !== undefined) {
    throw new OfflineTerminalError(
      "OFFLINE_MERCHANT_PUBLISHED_KEY",
      "OFFLINE_MERCHANT_KEY is one of the public test mnemonic's keys, which anyone can sign with; set the merchant's own",
    );
  }
  return new Wallet(hex);
}

/**
 * `offline-merchant`: the terminal of the merchant whose key `OFFLINE_MERCHANT_KEY` holds (the devnet's account 15
 * by default on the devnet), for the deployment's `OfflineVault`, its state in `offline-merchant-<hash>.sqlite`.
 * @throws SettingError `SETTING_REQUIRED` off the devnet without a key; OfflineTerminalError for a published one.
 */
export function offlineMerchantService(options: OfflineMerchantServiceOptions = {}): ServiceFactory {
  const name = "offline-merchant";
  return {
    name,
    async create(context: ServiceContext): Promise<Service> {
      const { chain, deployments } = context;
      const devnet = isDevnet(chain.chainId);
      // The key first: a network without one refuses before anything is opened.
      const settings = OFFLINE_MERCHANT_SETTINGS.read(options.env ?? process.env, { devnet });
      const wallet = merchantWallet(settings.OFFLINE_MERCHANT_KEY, devnet).connect(chain.provider);
      const vault = deployments.get(VAULT);
      const store = await openDeploymentStore(context, name, VAULT);
      return serviceOwningStore(name, store, () => {
        const log = (event: string, details: Record<string, unknown>) =>
          context.log(`offline-merchant ${event} ${JSON.stringify(details)}`);
        const clock = options.clock === undefined ? {} : { clock: options.clock };
        const merchantStore = new MerchantStore(store);
        const terminal = new MerchantTerminal({
          merchant: new Merchant({ address: wallet.address, store: merchantStore, log, ...clock }),
          sync: new VoucherSync({ store: merchantStore, signer: wallet, log, ...clock }),
          provider: chain.provider,
          vault: vault.address,
          fromBlock: vault.blockNumber,
          offerTtlMs: settings.OFFLINE_MERCHANT_OFFER_SECONDS * 1000,
          syncIntervalMs: settings.OFFLINE_MERCHANT_SYNC_SECONDS * 1000,
          log,
          ...clock,
        });
        const port = settings.OFFLINE_MERCHANT_PORT;
        const http = terminalHttpServer(terminal, {
          host: "127.0.0.1",
          port,
          log: context.log,
          health: { blockNumber: () => chain.provider.getBlockNumber(), checkDatabase: () => store.check() },
        });
        return {
          url: () => http.url ?? `http://127.0.0.1:${port}`,
          async start() {
            await terminal.start();
            try {
              await http.start();
            } catch (error) {
              await terminal.stop();
              throw error;
            }
          },
          async stop() {
            // No new requests first, then the sessions and a sync round under way.
            await http.stop();
            await terminal.stop();
          },
        };
      });
    },
  };
}

/** The terminal as `npm start` runs it (settings from `process.env`). */
export const offlineMerchant: ServiceFactory = offlineMerchantService();
