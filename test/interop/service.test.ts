import { readdirSync } from "node:fs";

import SwaggerParser from "@apidevtools/swagger-parser";
import { expect } from "chai";
import type { Signer } from "ethers";

import type { ChainConnection } from "../../src/chain/config.js";
import type { DeploymentRecord, Deployments } from "../../src/chain/deployments.js";
import { DUTIES } from "../../src/chain/networks.js";
import { ServiceRunner, type ServiceContext } from "../../src/chain/service.js";
import { SettingError } from "../../src/chain/settings.js";
import { InteropConfigError } from "../../src/interop/chains.js";
import { dutyWallet, INTEROP_SETTINGS, interopServices, type InteropPeer } from "../../src/interop/service.js";
import { RecordingRecipient__factory } from "../../typechain-types/index.js";
import { freePort } from "../helpers/processes.js";
import { KEYS, startInteropChains, testKey, type InteropFixture, type TestChain } from "./fixture.js";
import { post, tempDir, waitFor } from "./helpers.js";

/** A chain as the runner would open it: its URL, and the duties' keys in DUTIES order (a remote network's way). */
function connection(chain: TestChain): ChainConnection {
  return {
    network: `anvil-${chain.chainId}`,
    url: chain.url,
    chainId: chain.chainId,
    provider: chain.provider,
    getSigners: async (): Promise<Signer[]> => DUTIES.map((duty) => testKey(duty.devnetIndex).connect(chain.provider)),
    close: async () => undefined,
  };
}

function deployments(chain: TestChain, names: Record<string, string>): Deployments {
  const contracts = new Map<string, DeploymentRecord>(
    Object.entries(names).map(([name, address]) => [
      name,
      { name, address, abi: [], blockNumber: chain.fromBlock, transactionHash: undefined },
    ]),
  );
  return {
    network: `anvil-${chain.chainId}`,
    chainId: chain.chainId,
    contracts,
    get(name: string) {
      const record = contracts.get(name);
      if (record === undefined) throw new Error(`no ${name}`);
      return record;
    },
  };
}

describe("interop: the service factories npm start runs", function () {
  this.timeout(180_000);
  let fixture: InteropFixture;
  let a: TestChain;
  let b: TestChain;
  let temp: ReturnType<typeof tempDir>;
  let context: ServiceContext;
  let peer: InteropPeer;
  const lines: string[] = [];

  function deployed(chain: TestChain): Deployments {
    return deployments(chain, {
      AttestedGateway: chain.gateway.target as string,
      InteropGateway: chain.interop.target as string,
    });
  }

  before(async function () {
    temp = tempDir("interop-services-");
    fixture = await startInteropChains();
    [a, b] = fixture.chains;
    context = { chain: connection(a), deployments: deployed(a), dataDir: temp.dir, log: (line) => lines.push(line) };
    peer = { chain: connection(b), deployments: deployed(b) };
  });

  after(async function () {
    await fixture?.stop();
    temp?.remove();
  });

  it("runs three attesters, the relayer and the API gateway: each documented, healthy, and carrying messages", async function () {
    const ports = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
    const env = {
      INTEROP_API_PORT: String(ports[0]),
      INTEROP_ATTESTER_1_PORT: String(ports[1]),
      INTEROP_ATTESTER_2_PORT: String(ports[2]),
      INTEROP_ATTESTER_3_PORT: String(ports[3]),
      INTEROP_RELAYER_PORT: String(ports[4]),
      INTEROP_ATTESTER_CONFIRMATIONS: "0",
      INTEROP_POLL_MS: "50",
    };
    const runner = new ServiceRunner(interopServices({ peers: () => [peer], env }), context);
    try {
      const running = await runner.startAll();
      expect(running.map((service) => service.name)).to.deep.equal([
        "interop-attester-1",
        "interop-attester-2",
        "interop-attester-3",
        "interop-relayer",
        "interop-api",
      ]);
      for (const service of running) {
        const document = (await (await fetch(`${service.url}/openapi.json`)).json()) as Record<string, unknown>;
        await SwaggerParser.validate(structuredClone(document) as never);
        const health = await fetch(`${service.url}/health`);
        expect(health.status, service.name).to.equal(200);
        expect(await health.json()).to.deep.include({ ok: true, database: "ok" });
      }
      // The attesters sign as the attester duties, the relayer pays as the relayer duty.
      const recipient = await (await new RecordingRecipient__factory(b.admin).deploy()).waitForDeployment();
      const { id } = await post(a, KEYS.alice.connect(a.provider), b, recipient.target as string);
      const relayerUrl = running[3]!.url!;
      const kept = await waitFor("delivery", async () => {
        const reply = await fetch(`${relayerUrl}/messages/${id}`);
        const body = reply.status === 200 ? ((await reply.json()) as { state: string; deliveryTx: string }) : undefined;
        return body?.state === "delivered" ? body : undefined;
      });
      const tx = await b.provider.getTransaction(kept.deliveryTx);
      expect(tx!.from).to.equal(KEYS.relayer.address);
      const attestation = (await (await fetch(`${running[0]!.url}/attestations/${id}`)).json()) as { attester: string };
      expect(attestation.attester).to.equal(KEYS.attesters[0].address);
    } finally {
      await runner.stopAll();
    }
    // One SQLite file per service, named after the deployment.
    const files = readdirSync(temp.dir).filter((file) => file.endsWith(".sqlite"));
    expect(files.map((file) => file.replace(/-[0-9a-f]{8}\.sqlite$/, "")).sort()).to.deep.equal([
      "interop-api",
      "interop-attester-1",
      "interop-attester-2",
      "interop-attester-3",
      "interop-relayer",
    ]);
  });

  it("fails to start with a one-line error on a malformed node list, leaving nothing running", async function () {
    const runner = new ServiceRunner(
      interopServices({ peers: () => [peer], env: { INTEROP_NODES: "4242 http://x" } }),
      context,
    );
    let error: unknown;
    try {
      await runner.startAll();
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).message).to.match(/interop-attester-1 failed to start: INTEROP_NODES must be/);
    expect(((error as Error).cause as SettingError).code).to.equal("SETTING_INVALID");
    expect(runner.running).to.deep.equal([]);
  });

  it("takes the node list for the chains it names, the runner's URL for the others, and refuses a chain with neither", async function () {
    const factories = interopServices({ peers: () => [peer], env: { INTEROP_NODES: `${a.chainId}=${a.url}` } });
    // The list names only chain A: chain B falls back to the runner's URL.
    const service = await factories[0]!.create(context);
    await service.stop();
    const inProcess = { ...peer, chain: { ...peer.chain, url: undefined } };
    let error: unknown;
    try {
      await interopServices({ peers: () => [inProcess], env: {} })[0]!.create(context);
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(InteropConfigError);
    expect((error as InteropConfigError).code).to.equal("INTEROP_NO_NODE");
  });

  it("takes duty keys from the public test mnemonic on the devnet, from the configured keys elsewhere", async function () {
    const chain = connection(a);
    expect((await dutyWallet(chain, "relayer", true)).address).to.equal(KEYS.relayer.address);
    expect((await dutyWallet(chain, "attester2", false)).address).to.equal(KEYS.attesters[1].address);
    const noKeys = { ...chain, getSigners: async () => [] };
    let error: unknown;
    try {
      await dutyWallet(noKeys, "relayer", false);
    } catch (caught) {
      error = caught;
    }
    expect((error as InteropConfigError).code).to.equal("INTEROP_KEY_MISSING");
  });

  it("states every setting's default once, with a devnet default where they differ", function () {
    const devnet = INTEROP_SETTINGS.read({}, { devnet: true });
    const remote = INTEROP_SETTINGS.read({}, { devnet: false });
    expect(devnet.INTEROP_ATTESTER_CONFIRMATIONS).to.equal(0);
    expect(remote.INTEROP_ATTESTER_CONFIRMATIONS).to.equal(2);
    expect(devnet.INTEROP_API_PORT).to.equal(8620);
    expect(remote.INTEROP_NODES).to.equal("");
    expect(() => INTEROP_SETTINGS.read({ INTEROP_ATTESTER_URLS: "ftp://x" }, { devnet: true })).to.throw(SettingError);
  });
});
