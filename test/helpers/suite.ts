import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { getAddress } from "ethers";
import { network } from "hardhat";

import type { ChainConnection } from "../../src/chain/config.js";
import { fromDeployments, type Deployments } from "../../src/chain/deployments.js";
import { DUTIES, type DutyName } from "../../src/chain/networks.js";
import { loadAndExecuteDeploymentsFromFiles } from "../../rocketh/environment.js";
import {
  BankToken__factory,
  ReserveLedger__factory,
  TrustAccount__factory,
  type BankToken,
  type ReserveLedger,
  type TrustAccount,
} from "../../typechain-types/index.js";

/** Runs `fn` with the deploy scripts' progress lines (console.log/info) silenced. */
export async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const { log, info } = console;
  console.log = () => undefined;
  console.info = () => undefined;
  try {
    return await fn();
  } finally {
    console.log = log;
    console.info = info;
  }
}

/**
 * The whole suite as the deploy scripts deploy it, on a fresh in-process
 * chain: the same scripts `npm start` runs, so every test also exercises them.
 */
export async function deploySuite() {
  const connection = await network.create("hardhat");
  const { ethers, networkHelpers, provider } = connection;
  // Every in-process network of a run starts at the same genesis time, so a network created minutes into a
  // long test run lags the wall clock by those minutes. Services and CLIs under test read the wall clock
  // (an offline merchant's voucher window, say): bring the chain up to it first.
  const wall = Math.floor(Date.now() / 1000);
  if ((await networkHelpers.time.latest()) < wall) await networkHelpers.time.increaseTo(wall);
  const env = await quietly(() => loadAndExecuteDeploymentsFromFiles({ provider }));
  const signer = (address: string) => ethers.getSigner(address);
  const named = env.namedAccounts;
  const accounts = {
    deployer: await signer(named.deployer),
    admin: await signer(named.admin),
    issuanceAdmin: await signer(named.issuanceAdmin),
    schemeAdmin: await signer(named.schemeAdmin),
    bankA: await signer(named.bankA),
    bankB: await signer(named.bankB),
    attestor: await signer(named.attestor),
    pauser: await signer(named.pauser),
    compliance: await signer(named.compliance),
    rescuer: await signer(named.rescuer),
    upgrader: await signer(named.upgrader),
    gateway: await signer(named.gateway),
  };
  // Indexes 9 to 19: no duty (src/chain/networks.ts DUTIES), free for customers.
  const others = (await ethers.getSigners()).slice(9, 20);
  const deployments: Deployments = fromDeployments("hardhat", 31337n, env.deployments);
  const token: BankToken = BankToken__factory.connect(deployments.get("BankToken").address, accounts.admin);
  const ledger: ReserveLedger = ReserveLedger__factory.connect(
    deployments.get("ReserveLedger").address,
    accounts.issuanceAdmin,
  );
  const trustA: TrustAccount = TrustAccount__factory.connect(
    deployments.get("TrustAccountBankA").address,
    accounts.bankA,
  );
  const trustB: TrustAccount = TrustAccount__factory.connect(
    deployments.get("TrustAccountBankB").address,
    accounts.bankB,
  );
  return { connection, ethers, networkHelpers, accounts, others, deployments, token, ledger, trustA, trustB };
}

export type Suite = Awaited<ReturnType<typeof deploySuite>>;

/** Each duty's account on the suite's chain: the in-process signer at the duty's devnet index. */
export async function dutyAddressesOf(suite: Suite): Promise<Map<DutyName, string>> {
  const signers = await suite.ethers.getSigners();
  return new Map(DUTIES.map(({ name, devnetIndex }) => [name, getAddress(signers[devnetIndex]!.address)]));
}

/** The suite's in-process chain as a service's `ChainConnection` (what `npm start` hands a service). */
export function suiteChain(suite: Suite): ChainConnection {
  return {
    network: "hardhat",
    url: undefined,
    chainId: 31337n,
    provider: suite.ethers.provider,
    getSigners: () => suite.ethers.getSigners(),
    close: async () => undefined,
  } as unknown as ChainConnection;
}

/**
 * The deploy scripts as `npm start` runs them, against `connection`, saving into a fresh temporary folder: each
 * call of `run` is one more run on the same chain (the re-run tests), `tags` limiting it to some parts. `remove`
 * deletes the folder; call it in an `after`/`finally` hook.
 */
export function rerunnableDeploy(
  connection: { readonly provider: unknown },
  environment: string,
  tags?: readonly string[],
): { run: () => ReturnType<typeof loadAndExecuteDeploymentsFromFiles>; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), `bank-chain-${environment}-`));
  return {
    run: () =>
      quietly(() =>
        loadAndExecuteDeploymentsFromFiles({
          provider: connection.provider as never,
          environment,
          ...(tags === undefined ? {} : { tags: [...tags] }),
          saveDeployments: true,
          config: { deployments: dir },
        }),
      ),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
