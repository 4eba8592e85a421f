/**
 * The keys part on the in-process chain with the whole suite deployed (deploy/010 included): share holders as
 * `npm start` builds them (`holderService`), each with its own data folder and a port the OS picks, which a test
 * can stop and start again on the same folder (same identity, same store).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import type { ChainConnection } from "../../src/chain/config.js";
import type { Service } from "../../src/chain/service.js";
import { HolderClient, type KeysChain } from "../../src/keys/client.js";
import { ShareRegistryReader } from "../../src/keys/registry.js";
import { holderService } from "../../src/keys/service.js";
import { deploySuite, suiteChain } from "../helpers/suite.js";

/** One holder: its service while running, its folder always. */
export class TestHolder {
  readonly index: number;
  readonly dataDir: string;
  readonly log: string[];
  #chain: ChainConnection;
  #deployments: Awaited<ReturnType<typeof deploySuite>>["deployments"];
  #service: Service | undefined;
  #url = "";

  constructor(
    index: number,
    dataDir: string,
    chain: ChainConnection,
    deployments: Awaited<ReturnType<typeof deploySuite>>["deployments"],
    log: string[],
  ) {
    this.index = index;
    this.dataDir = dataDir;
    this.#chain = chain;
    this.#deployments = deployments;
    this.log = log;
  }

  get url(): string {
    return this.#url;
  }

  get running(): boolean {
    return this.#service !== undefined;
  }

  /** A client for this holder's current URL. */
  client(): HolderClient {
    return new HolderClient(this.#url);
  }

  async start(): Promise<void> {
    if (this.#service !== undefined) return;
    const factory = holderService(this.index, { port: 0 });
    const service = await factory.create({
      chain: this.#chain,
      deployments: this.#deployments,
      dataDir: this.dataDir,
      log: (line) => this.log.push(line),
    });
    await service.start();
    this.#service = service;
    this.#url = service.url!;
  }

  async stop(): Promise<void> {
    const service = this.#service;
    this.#service = undefined;
    await service?.stop();
  }
}

export async function keysFixture(holderCount = 4) {
  const suite = await deploySuite();
  const provider = suite.ethers.provider;
  const chain = suiteChain(suite);
  const root = mkdtempSync(path.join(tmpdir(), "bank-chain-keys-"));
  const log: string[] = [];
  const holders = Array.from(
    { length: holderCount },
    (_, i) => new TestHolder(i + 1, path.join(root, `h${i + 1}`), chain, suite.deployments, log),
  );
  const registryAddress = suite.deployments.get("ShareRegistry").address;
  const keysChain: KeysChain = { chainId: 31337n, registry: new ShareRegistryReader(registryAddress, provider) };
  return {
    suite,
    chain,
    keysChain,
    holders,
    log,
    async startAll() {
      for (const holder of holders) await holder.start();
    },
    async close() {
      await Promise.allSettled(holders.map((holder) => holder.stop()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export type KeysFixture = Awaited<ReturnType<typeof keysFixture>>;
