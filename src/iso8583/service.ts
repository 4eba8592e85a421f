/**
 * The card gateway as a service for `npm start` (see `src/services.ts`): bank
 * A's AccountLedger behind an ISO 8583 TCP server on 127.0.0.1, its journal in
 * its own SQLite file under the context's data folder.
 *
 * Environment (docs/iso8583.md):
 * - `CARD_GATEWAY_PORT` (default 8583; 0 picks a free port);
 * - `CARD_GATEWAY_FRAMING`: `binary2` (2-byte big-endian length, default) or `ascii4`;
 * - `CARD_GATEWAY_WALLET_ELEMENT`: 48 (default), 60-63 or 120-127;
 * - `CARD_GATEWAY_CHAIN_TIMEOUT_MS` (default 5,000): a ledger batch slower than this answers 91;
 * - `CARD_GATEWAY_FRAME_TIMEOUT_MS` (default 5,000), `CARD_GATEWAY_IDLE_TIMEOUT_MS` (default 300,000).
 */
import path from "node:path";

import { getAddress, type Signer } from "ethers";

import { serviceOwningStore, type Service, type ServiceContext, type ServiceFactory } from "../chain/service.js";
import { intFromEnv, SettingError } from "../chain/settings.js";
import { Store } from "../store/store.js";
import { AccountLedger__factory, BankToken__factory } from "../../typechain-types/index.js";
import { FRAMINGS, type Framing } from "./framing.js";
import { CardGateway, DEFAULT_GATEWAY_PORT, DEFAULT_WALLET_ELEMENT, GatewayConfigError } from "./gateway.js";
import { Journal } from "./journal.js";
import { LedgerPoster } from "./ledger.js";

/** The deployment the devnet's gateway serves (bank A's card accounts). */
export const GATEWAY_LEDGER = "AccountLedgerBankA";

export interface CardGatewayServiceOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export function framingFromEnv(env: Readonly<Record<string, string | undefined>>): Framing {
  const raw = env.CARD_GATEWAY_FRAMING?.trim();
  if (raw === undefined || raw === "") return "binary2";
  if (!(FRAMINGS as readonly string[]).includes(raw)) {
    throw new SettingError(
      "SETTING_INVALID",
      `CARD_GATEWAY_FRAMING must be one of ${FRAMINGS.join(", ")}, got "${raw}"`,
      {
        variable: "CARD_GATEWAY_FRAMING",
        value: raw,
      },
    );
  }
  return raw as Framing;
}

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
      const anchor = await chain.provider.getBlock(record.blockNumber ?? 0);
      const suffix = anchor?.hash?.slice(2, 10) ?? "unknown";
      const port = intFromEnv(env, "CARD_GATEWAY_PORT", DEFAULT_GATEWAY_PORT, 0, 65_535);
      const store = Store.open({ path: path.join(context.dataDir, `${name}-${suffix}.sqlite`) });
      return serviceOwningStore(name, store, () => {
        const timeoutMs = intFromEnv(env, "CARD_GATEWAY_CHAIN_TIMEOUT_MS", 5_000, 100, 600_000);
        const gateway = new CardGateway({
          journal: new Journal(store),
          poster: new LedgerPoster({ ledger: record.address, signer, provider: chain.provider, timeoutMs }),
          chainId: chain.chainId,
          assets,
          host: "127.0.0.1",
          port,
          framing: framingFromEnv(env),
          walletElement: intFromEnv(env, "CARD_GATEWAY_WALLET_ELEMENT", DEFAULT_WALLET_ELEMENT, 2, 128),
          frameTimeoutMs: intFromEnv(env, "CARD_GATEWAY_FRAME_TIMEOUT_MS", 5_000, 10, 600_000),
          idleTimeoutMs: intFromEnv(env, "CARD_GATEWAY_IDLE_TIMEOUT_MS", 300_000, 100, 86_400_000),
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
