/**
 * The books at the end of the run: each bank agent's double-entry ledger
 * (`GET /ledger` balanced), and on each chain the token's supply against the
 * `ReserveLedger`'s outstanding issuance, with the bridge identity
 * `totalSupply + exported == totalOutstanding + imported` (the `BurnMintLane`'s
 * imports and exports), which holds whatever crossed; after the demo's round
 * trip the plain equality holds too.
 */
import { apiClient } from "../chain/openapi/clients.js";
import type { DemoChain, DemoContext } from "./context.js";
import type { AgentLedger, ChainTotals } from "./report.js";

/** Both agents' ledger checks. */
export async function agentLedgers(context: DemoContext): Promise<AgentLedger[]> {
  const out: AgentLedger[] = [];
  for (const service of ["bank-a", "bank-b"]) {
    const { data, response } = await apiClient("bank-agent", context.service(service)).GET("/ledger");
    out.push({
      service,
      balanced: data?.balanced === true,
      assets: data?.assets ?? `HTTP ${response.status}`,
      liabilities: data?.liabilities ?? `HTTP ${response.status}`,
      entries: data?.entries ?? 0,
    });
  }
  return out;
}

/** One chain's supply, outstanding issuance and bridge figures, read at one block. */
export async function chainTotals(chain: DemoChain): Promise<ChainTotals> {
  const blockTag = await chain.provider.getBlockNumber();
  const token = chain.contract("BankToken");
  const ledger = chain.contract("ReserveLedger");
  const lane = chain.deployments.contracts.get("BurnMintLane")?.address;
  const [supply, outstanding, bridge] = (await Promise.all([
    token.getFunction("totalSupply")({ blockTag }),
    ledger.getFunction("totalOutstanding")({ blockTag }),
    lane === undefined ? [0n, 0n] : ledger.getFunction("bridgeOf")(lane, { blockTag }),
  ])) as [bigint, bigint, readonly [bigint, bigint]];
  const [imported, exported] = [bridge[0], bridge[1]];
  return {
    chainId: chain.chainId,
    totalSupply: supply.toString(),
    totalOutstanding: outstanding.toString(),
    imported: imported.toString(),
    exported: exported.toString(),
    equal: supply === outstanding,
    bridgeIdentity: supply + exported === outstanding + imported,
  };
}
