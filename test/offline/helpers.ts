import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import { encodeBytes32String, type Signer } from "ethers";

import { Buyer } from "../../src/offline/buyer.js";
import { Merchant, type MerchantOptions, type SessionOutcome } from "../../src/offline/merchant.js";
import { MerchantStore } from "../../src/offline/merchant-store.js";
import { Store } from "../../src/store/store.js";
import { OfflineVault__factory, type OfflineVault } from "../../typechain-types/index.js";
import { deploySuite, type Suite } from "../helpers/suite.js";

/** A JSON-RPC HTTP server forwarding to the in-process chain, so a child process can reach it. */
export class RpcProxy {
  readonly #server: Server;
  readonly #request: (payload: { method: string; params?: unknown[] }) => Promise<unknown>;

  constructor(request: (payload: { method: string; params?: unknown[] }) => Promise<unknown>) {
    this.#request = request;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = "";
    for await (const chunk of req) body += String(chunk);
    type Call = { id: number; method: string; params?: unknown[] };
    const payload = JSON.parse(body) as Call | Call[];
    const one = async (call: Call) => {
      try {
        return {
          jsonrpc: "2.0",
          id: call.id,
          result: await this.#request({ method: call.method, params: call.params ?? [] }),
        };
      } catch (error) {
        const e = error as { code?: number; message?: string; data?: unknown };
        return {
          jsonrpc: "2.0",
          id: call.id,
          error: { code: e.code ?? -32603, message: e.message ?? String(error), data: e.data },
        };
      }
    };
    const result = Array.isArray(payload) ? await Promise.all(payload.map(one)) : await one(payload);
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(result));
  }
}

export interface World {
  readonly suite: Suite;
  readonly vault: OfflineVault;
  readonly vaultAddress: string;
  readonly payer: Signer & { address: string };
  readonly dir: string;
  readonly stores: Store[];
  open(name: string): Store;
  merchant(signer: { address: string }, options?: Partial<MerchantOptions>): Merchant;
  buyer(name: string, signer?: Signer): Buyer;
  close(): void;
}

/** The suite, a payer with 100 000 locked (and 900 000 more on its balance), and a temp folder for stores. */
export async function world(): Promise<World> {
  const suite = await deploySuite();
  const vaultAddress = suite.deployments.get("OfflineVault").address;
  const vault = OfflineVault__factory.connect(vaultAddress, suite.accounts.deployer);
  const payer = suite.others[0]!;
  await suite.trustA.mintForDeposit(payer.address, 1_000_000n, encodeBytes32String("offline-fund"));
  await suite.token.connect(payer).approve(vaultAddress, 100_000n);
  await vault.connect(payer).deposit(100_000n);
  const dir = mkdtempSync(path.join(tmpdir(), "bank-chain-offline-"));
  const stores: Store[] = [];
  const open = (name: string): Store => {
    const store = Store.open({ path: path.join(dir, name) });
    stores.push(store);
    return store;
  };
  return {
    suite,
    vault,
    vaultAddress,
    payer,
    dir,
    stores,
    open,
    merchant: (signer, options = {}) =>
      new Merchant({ address: signer.address, store: new MerchantStore(open(`${signer.address}.sqlite`)), ...options }),
    buyer: (name, signer = payer) => new Buyer(signer, open(name)),
    close: () => {
      for (const store of stores) store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs one merchant session and `pay` against its offer; returns both results (the payment's error, if any). */
export async function session<T>(
  merchant: Merchant,
  amount: bigint,
  pay: (offer: string) => Promise<T>,
): Promise<{ outcome: SessionOutcome; paid: T | undefined; payError: unknown }> {
  let resolveOffer!: (offer: string) => void;
  const offer = new Promise<string>((resolve) => (resolveOffer = resolve));
  const running = merchant.runSession({
    amount,
    onOffer: resolveOffer,
    session: { ttlMs: 20_000 },
    receiveTimeoutMs: 10_000,
  });
  let paid: T | undefined;
  let payError: unknown;
  try {
    paid = await pay(await offer);
  } catch (error) {
    payError = error;
  }
  return { outcome: await running, paid, payError };
}
