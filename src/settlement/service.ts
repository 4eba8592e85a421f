/**
 * The bank agents as services for `npm start` (see `src/services.ts`): one for
 * bank A and one for bank B, each with its own SQLite file under the context's
 * data folder and its HTTP API on 127.0.0.1 (8601 for A, 8602 for B, or
 * `BANK_A_PORT` / `BANK_B_PORT`; 0 picks a free port). On the devnet (or with
 * `BANK_AGENT_DEMO_CUSTOMERS=open`) each agent opens a few demo customer
 * accounts on its first start.
 */
import { getAddress, type Signer } from "ethers";

import {
  openDeploymentStore,
  serviceOwningStore,
  type Service,
  type ServiceContext,
  type ServiceFactory,
} from "../chain/service.js";
import { isDevnet } from "../chain/networks.js";
import { choice, int, settingsSchema } from "../chain/settings.js";
import { BankToken__factory, IInterbankSettlement__factory } from "../../typechain-types/index.js";
import {
  AgentConfigError,
  BankAgent,
  DEFAULT_ADMISSION_WAIT_MS,
  DEFAULT_HEAD_POLL_MS,
  DEFAULT_MAX_OPEN_PAYMENTS,
  DEFAULT_POLL_MS,
  type BankAgentOptions,
} from "./agent.js";
import { systemClock } from "../chain/clock.js";

export type DevnetBank = "A" | "B";

export const DEFAULT_PORTS: Readonly<Record<DevnetBank, number>> = { A: 8601, B: 8602 };

/** The bank agents' environment. */
export const BANK_AGENT_SETTINGS = settingsSchema("bank-a, bank-b", {
  BANK_A_PORT: int("port of bank A's agent API on 127.0.0.1 (0 picks a free one)", DEFAULT_PORTS.A, 0, 65_535),
  BANK_B_PORT: int("port of bank B's agent API on 127.0.0.1 (0 picks a free one)", DEFAULT_PORTS.B, 0, 65_535),
  BANK_AGENT_CONFIRMATIONS: int(
    "blocks on top of a settlement event before the agent acts on it",
    { devnet: 0, elsewhere: 2 },
    0,
    1_000,
  ),
  BANK_AGENT_POLL_MS: int("pause between two polls of the chain when idle (ms)", DEFAULT_POLL_MS, 1, 60_000),
  BANK_AGENT_HEAD_POLL_MS: int(
    "pause between two questions for the newest block number; a new block wakes the agent at once (ms)",
    { devnet: DEFAULT_HEAD_POLL_MS, elsewhere: 1_000 },
    1,
    60_000,
  ),
  BANK_AGENT_MAX_OPEN_PAYMENTS: int(
    "most outbound payments an agent holds open (accepted, not yet settled or returned); " +
      "an order beyond it waits up to BANK_AGENT_ADMISSION_WAIT_MS for one to close, then gets 503 AGENT_BUSY",
    DEFAULT_MAX_OPEN_PAYMENTS,
    1,
    1_000_000,
  ),
  BANK_AGENT_ADMISSION_WAIT_MS: int(
    "how long an order waits for room under BANK_AGENT_MAX_OPEN_PAYMENTS before 503 AGENT_BUSY (ms)",
    DEFAULT_ADMISSION_WAIT_MS,
    0,
    600_000,
  ),
  BANK_AGENT_DEMO_CUSTOMERS: choice(
    "open the demo customers (alice and carol at A; bob, dave and erin at B) on the agent's first start, or none",
    { devnet: "open", elsewhere: "none" },
    ["open", "none"] as const,
  ),
});

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
 * Environment: `BANK_AGENT_SETTINGS` above (docs/operations.md).
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
      const devnet = isDevnet(chain.chainId);
      const settings = BANK_AGENT_SETTINGS.read(env, { devnet });
      const fromBlock = settlementRecord.blockNumber ?? 0;
      // The database serves one deployment: a new devnet (same addresses, new history) gets a new file.
      const store = await openDeploymentStore(context, name, "InterbankSettlement");
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
          confirmations: settings.BANK_AGENT_CONFIRMATIONS,
          fromBlock,
          port: settings[`BANK_${bank}_PORT`],
          pollIntervalMs: settings.BANK_AGENT_POLL_MS,
          headPollMs: settings.BANK_AGENT_HEAD_POLL_MS,
          maxOpenPayments: settings.BANK_AGENT_MAX_OPEN_PAYMENTS,
          admissionWaitMs: settings.BANK_AGENT_ADMISSION_WAIT_MS,
          log: context.log,
          ...(options.onStep === undefined ? {} : { onStep: options.onStep }),
        });
        if (settings.BANK_AGENT_DEMO_CUSTOMERS === "open") {
          for (const account of DEMO_ACCOUNTS[bank]) agent.openCustomerAccount(account);
        }
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
