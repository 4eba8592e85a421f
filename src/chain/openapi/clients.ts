/**
 * Typed clients of the services' HTTP APIs: openapi-fetch over the `paths`
 * that openapi-typescript generated from each service's own OpenAPI document
 * (`npm run openapi`). The console and `bank-chain demo` reach the services
 * only through these, so a route that changes shape fails their typecheck.
 * Only types are imported from the generated files: loading this module
 * loads openapi-fetch and nothing generated.
 */
import createClient, { type Client } from "openapi-fetch";

import type { paths as BankAgentPaths } from "./bank-agent.js";
import type { paths as BillMonitorPaths } from "./bill-monitor.js";
import type { paths as CardGatewayPaths } from "./card-gateway.js";
import type { paths as CertificatesPaths } from "./certificates.js";
import type { paths as CheckoutPaths } from "./checkout.js";
import type { paths as InteropApiPaths } from "./interop-api.js";
import type { paths as InteropAttesterPaths } from "./interop-attester.js";
import type { paths as InteropRelayerPaths } from "./interop-relayer.js";
import type { paths as KeysHolderPaths } from "./keys-holder.js";
import type { paths as OfflineMerchantPaths } from "./offline-merchant.js";
import type { paths as RetailerPaths } from "./retailer.js";
import type { paths as RewardsPaths } from "./rewards.js";

/** The `paths` of each API, by the names of `OPENAPI_APIS`. */
export interface ApiPaths {
  "bank-agent": BankAgentPaths;
  "bill-monitor": BillMonitorPaths;
  "card-gateway": CardGatewayPaths;
  certificates: CertificatesPaths;
  checkout: CheckoutPaths;
  "interop-api": InteropApiPaths;
  "interop-attester": InteropAttesterPaths;
  "interop-relayer": InteropRelayerPaths;
  "keys-holder": KeysHolderPaths;
  "offline-merchant": OfflineMerchantPaths;
  retailer: RetailerPaths;
  rewards: RewardsPaths;
}

export type ApiClient<Name extends keyof ApiPaths> = Client<ApiPaths[Name]>;

/** A client of API `name` at `baseUrl` (a service's origin, e.g. `http://127.0.0.1:8601`). */
export function apiClient<Name extends keyof ApiPaths>(
  name: Name,
  baseUrl: string,
  options: { readonly fetch?: typeof fetch } = {},
): ApiClient<Name> {
  void name;
  return createClient<ApiPaths[Name]>({
    baseUrl,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
}
