/**
 * The books at the end of the run: each bank agent's double-entry ledger
 * (`GET /ledger` balanced), and on each chain the token's supply against the
 * `ReserveLedger`'s outstanding issuance, with the bridge identity
 * `totalSupply + exported == totalOutstanding + imported` (the `BurnMintLane`'s
 * imports and exports), which holds whatever crossed. The plain equality
 * `totalSupply == totalOutstanding` holds only while as much has come in over
 * the lane as has gone out: a one-way transfer made before the run (the
 * interop guide's example) leaves them apart for good, so what the run is held
 * to is that its own round trip left `totalSupply − totalOutstanding` where it
 * was when the run began.
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

/** One chain's supply, outstanding issuance and the lane's imports and exports, read at one block. */
export interface ChainFigures {
  readonly supply: bigint;
  readonly outstanding: bigint;
  readonly imported: bigint;
  readonly exported: bigint;
}

/** Reads `chain`'s figures at its newest block. */
export async function chainFigures(chain: DemoChain): Promise<ChainFigures> {
  const blockTag = await chain.provider.getBlockNumber();
  const token = chain.contract("BankToken");
  const ledger = chain.contract("ReserveLedger");
  const lane = chain.deployments.contracts.get("BurnMintLane")?.address;
  const [supply, outstanding, bridge] = (await Promise.all([
    token.getFunction("totalSupply")({ blockTag }),
    ledger.getFunction("totalOutstanding")({ blockTag }),
    lane === undefined ? [0n, 0n] : ledger.getFunction("bridgeOf")(lane, { blockTag }),
  ])) as [bigint, bigint, readonly [bigint, bigint]];
  return { supply, outstanding, imported: bridge[0], exported: bridge[1] };
}

/** A chain's books at the end of a run (`end`), against its figures when the run began (`start`). */
export function chainBooks(chainId: number, start: ChainFigures, end: ChainFigures): ChainTotals {
  const gapAtStart = start.supply - start.outstanding;
  const gap = end.supply - end.outstanding;
  return {
    chainId,
    totalSupply: end.supply.toString(),
    totalOutstanding: end.outstanding.toString(),
    imported: end.imported.toString(),
    exported: end.exported.toString(),
    equal: gap === 0n,
    bridgeIdentity: end.supply + end.exported === end.outstanding + end.imported,
    gapAtStart: gapAtStart.toString(),
    runKeptGap: gap === gapAtStart,
  };
}

/** Whether a chain's books hold: the bridge identity, and the run's own transfers balanced on it. */
export function chainBooksHold(chain: ChainTotals): boolean {
  return chain.bridgeIdentity && chain.runKeptGap;
}
