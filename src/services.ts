import { BILL_MONITOR_SETTINGS, billMonitor } from "./bills/service.js";
import { CERTIFICATES_SETTINGS, certificates } from "./certificates/service.js";
import { RETAILER_SETTINGS } from "./commerce/retailer.js";
import { CHECKOUT_SETTINGS, commerceServices } from "./commerce/service.js";
import { CONSOLE_SETTINGS } from "./console/service.js";
import type { ServiceFactory } from "./chain/service.js";
import type { Setting, SettingsSchema } from "./chain/settings.js";
import { INTEROP_SETTINGS } from "./interop/service.js";
import { CARD_GATEWAY_SETTINGS, cardGateway, cardGatewayApi } from "./iso8583/service.js";
import { KEYS_SETTINGS, keysHolder1, keysHolder2, keysHolder3 } from "./keys/service.js";
import { OFFLINE_MERCHANT_SETTINGS, offlineMerchant } from "./offline/service.js";
import { REWARDS_SETTINGS, rewards } from "./rewards/service.js";
import { BANK_AGENT_SETTINGS, bankAgentA, bankAgentB } from "./settlement/service.js";

/**
 * The off-chain services `npm start` runs, in start order. Each part adds its
 * factory here (the bank agents, the ISO 8583 gateway, the bill monitor, …).
 * The interop services (`interopServices` in src/interop/service.ts) need the
 * other chains too, so `npm start` adds them when it runs more than one; the
 * operator console (`consoleService` in src/console/service.ts) comes last, as
 * it reads the other services' URLs.
 */
export const SERVICES: readonly ServiceFactory[] = [
  bankAgentA,
  bankAgentB,
  billMonitor,
  cardGateway,
  cardGatewayApi,
  offlineMerchant,
  certificates,
  rewards,
  keysHolder1,
  keysHolder2,
  keysHolder3,
  ...commerceServices(),
];

/** Every service's settings schema, in start order: the source of docs/operations.md's configuration table. */
export const SERVICE_SETTINGS: readonly SettingsSchema<Readonly<Record<string, Setting>>>[] = [
  BANK_AGENT_SETTINGS,
  BILL_MONITOR_SETTINGS,
  CARD_GATEWAY_SETTINGS,
  OFFLINE_MERCHANT_SETTINGS,
  INTEROP_SETTINGS,
  CERTIFICATES_SETTINGS,
  REWARDS_SETTINGS,
  KEYS_SETTINGS,
  RETAILER_SETTINGS,
  CHECKOUT_SETTINGS,
  CONSOLE_SETTINGS,
];
