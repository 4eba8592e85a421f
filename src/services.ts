import { billMonitor } from "./bills/service.js";
import type { ServiceFactory } from "./chain/service.js";
import { cardGateway } from "./iso8583/service.js";
import { bankAgentA, bankAgentB } from "./settlement/service.js";

/**
 * The off-chain services `npm start` runs, in start order. Each part adds its
 * factory here (the bank agents, the ISO 8583 gateway, the bill monitor, …).
 */
export const SERVICES: readonly ServiceFactory[] = [bankAgentA, bankAgentB, billMonitor, cardGateway];
