/**
 * The services' HTTP APIs, one per kind, each named by the service
 * `npm run openapi` fetches its document from (`npm start`'s service names).
 * Services of one kind (both bank agents, the three attesters, the three key
 * holders) serve the same document.
 */
export const OPENAPI_APIS = {
  "bank-agent": "bank-a",
  "bill-monitor": "bill-monitor",
  certificates: "certificates",
  rewards: "rewards",
  "keys-holder": "keys-holder1",
  retailer: "retailer",
  checkout: "checkout",
  "interop-api": "interop-api",
  "interop-attester": "interop-attester-1",
  "interop-relayer": "interop-relayer",
  "card-gateway": "card-gateway-api",
  "offline-merchant": "offline-merchant",
} as const;

export type OpenApiName = keyof typeof OPENAPI_APIS;
