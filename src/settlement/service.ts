/**
 * The bank agents as services for `npm start` (see `src/services.ts`): one for
 * bank A and one for bank B, each with its own SQLite file under the context's
 * data folder and its HTTP API on 127.0.0.1 (8601 for A, 8602 for B, or
 * `BANK_A_PORT` / `BANK_B_PORT`; 0 picks a free port). On the devnet each
 * agent opens a few demo customer accounts on its first start.
 */
import path from "node:path";

import { getAddress, type Signer } from "ethers";

import { serviceOwningStore, type Service, type ServiceContext, type ServiceFactory } from "../chain/service.js";
import { intFromEnv } from "../chain/settings.js";
import { Store } from "../store/store.js";
import { BankToken__factory, IInterbankSettlement__factory } from "../../typechain-types/index.js";
import { AgentConfigError, BankAgent, type BankAgentOptions } from "./agent.js";
import { systemClock } from "../chain/clock.js";

export type DevnetBank = "A" | "B";

export const DEFAULT_PORTS: Readonly<Record<DevnetBank, number>> = { A: 8601, B: 8602 };

/** Demo customers opened on the devnet (minor units of the token's currency). */
export const DEMO_ACCOUNTS: Readonly<
  Record<DevnetBank, ReadonlyArray<{ id: string; name: string; deposit: bigint; status?: "closed" | "blocked" }>>
> = {
  A: [
    { id: "alice", name: "Alice Adams", deposit: 100_000_000n },
    { id: "carol", name: "Carol Clark", deposit: 5_000_000n },
  ],
  B: [
    { id: "bob", name: "Bob Brown", deposit: 2_500_000n },
    { id: "dave", name: "Dave Davis", deposit: 100_000_000n },
    { id: "erin", name: "Erin Evans (account closed)", deposit: 0n, status: "closed" },
  ],
};

export interface BankAgentServiceOptions {
  /** Environment for ports and tuning (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Passed to the agent (see `BankAgentOptions.onStep`). */
  readonly onStep?: BankAgentOptions["onStep"];
}

/**
 * The factory of bank `bank`'s agent. The agent key is whichever of the
 * chain's signers the settlement contract names as the bank's agent.
 *
 * Environment: `BANK_A_PORT` / `BANK_B_PORT`; `BANK_AGENT_CONFIRMATIONS`
 * (default 0 on the devnet, 2 elsewhere); `BANK_AGENT_POLL_MS` (default 250).
 */
export function bankAgentService(bank: DevnetBank, options: BankAgentServiceOptions = {}): ServiceFactory {
  const name = `bank-${bank.toLowerCase()}`;
  return {
    name,
    async create(context: ServiceContext): Promise<Service> {
      const env = options.env ?? process.env;
      const { chain, deployments } = context;
      const settlementRecord = deployments.get("InterbankSettlement");
      const trust = (which: DevnetBank) => getAddress(deployments.get(`TrustAccountBank${which}`).address);
      const banks = (["A", "B"] as const).map((id) => ({ id, trustAccount: trust(id) }));
      const settlement = IInterbankSettlement__factory.connect(settlementRecord.address, chain.provider);
      const signer = await agentSigner(bank, trust(bank), await settlement.agentOf(trust(bank)), chain.getSigners());
      const token = BankToken__factory.connect(deployments.get("BankToken").address, chain.provider);
      const currency = Buffer.from((await token.currency()).slice(2), "hex").toString("latin1");
      const devnet = chain.chainId === 31337n;
      const fromBlock = settlementRecord.blockNumber ?? 0;
      // The database serves one deployment: a new devnet (same addresses, new history) gets a new file.
      const anchor = await chain.provider.getBlock(fromBlock);
      if (anchor === null) {
        throw new AgentConfigError("AGENT_NO_DEPLOYMENT_BLOCK", `block ${fromBlock} of the deployment is missing`, {
          block: fromBlock,
        });
      }
      const store = Store.open({ path: path.join(context.dataDir, `${name}-${anchor.hash!.slice(2, 10)}.sqlite`) });
      return serviceOwningStore(name, store, () => {
        const agent = new BankAgent({
          store,
          provider: chain.provider,
          signer,
          settlement: settlementRecord.address,
          bankId: bank,
          banks,
          currency,
          clock: systemClock,
          confirmations: intFromEnv(env, "BANK_AGENT_CONFIRMATIONS", devnet ? 0 : 2, 0, 1_000),
          fromBlock,
          port: intFromEnv(env, `BANK_${bank}_PORT`, DEFAULT_PORTS[bank], 0, 65_535),
          pollIntervalMs: intFromEnv(env, "BANK_AGENT_POLL_MS", 250, 1, 60_000),
          log: context.log,
          ...(options.onStep === undefined ? {} : { onStep: options.onStep }),
        });
        if (devnet) for (const account of DEMO_ACCOUNTS[bank]) agent.openCustomerAccount(account);
        return { url: () => agent.url, start: () => agent.start(), stop: () => agent.stop() };
      });
    },
  };
}

async function agentSigner(
  bank: DevnetBank,
  trustAccount: string,
  agent: string,
  signers: Promise<Signer[]>,
): Promise<Signer> {
  if (BigInt(agent) === 0n) {
    throw new AgentConfigError(
      "AGENT_BANK_NOT_REGISTERED",
      `bank ${bank} (${trustAccount}) is not registered in the InterbankSettlement`,
      { bank, trustAccount },
    );
  }
  for (const signer of await signers) {
    if (getAddress(await signer.getAddress()) === getAddress(agent)) return signer;
  }
  throw new AgentConfigError(
    "AGENT_KEY_MISSING",
    `no configured key is bank ${bank}'s agent ${agent}; configure that key for this network`,
    { bank, agent },
  );
}

export const bankAgentA: ServiceFactory = bankAgentService("A");
export const bankAgentB: ServiceFactory = bankAgentService("B");
