import { createServer, type Server } from "node:net";

import { expect } from "chai";

import { startAnvil, type Anvil } from "../../src/chain/devnet.js";
import {
  isNodeFailure,
  NodeConfigError,
  NodeDirectory,
  NoHealthyNodeError,
  parseNodeList,
  UnknownChainError,
} from "../../src/interop/nodes.js";
import { freePort } from "../helpers/processes.js";

const CHAIN = 4242n;
const OTHER = 4343n;

async function anvil(chainId: bigint, port?: number): Promise<Anvil> {
  const p = port ?? (await freePort());
  return startAnvil({
    endpoint: { host: "127.0.0.1", port: p, url: `http://127.0.0.1:${p}` },
    chainId: Number(chainId),
  });
}

/** A TCP server that accepts connections and never answers: a node that hangs. */
async function silentNode(): Promise<{ url: string; server: Server }> {
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, server };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("interop/nodes: the node directory picks a healthy node per chain id", function () {
  this.timeout(60_000);
  let good: Anvil | undefined;
  let wrongChain: Anvil | undefined;
  let second: Anvil | undefined;
  let silent: { url: string; server: Server } | undefined;
  let stoppedUrl: string;
  const directories: NodeDirectory[] = [];

  function directory(nodes: Map<bigint, string[]>, options: { recheckMs?: number; timeoutMs?: number } = {}) {
    const made = new NodeDirectory({
      nodes,
      timeoutMs: options.timeoutMs ?? 1_000,
      recheckMs: options.recheckMs ?? 60_000,
    });
    directories.push(made);
    return made;
  }

  before(async function () {
    [good, wrongChain] = await Promise.all([anvil(CHAIN), anvil(OTHER)]);
    silent = await silentNode();
    stoppedUrl = `http://127.0.0.1:${await freePort()}`;
  });

  after(async function () {
    for (const made of directories) made.close();
    silent?.server.close();
    await Promise.allSettled([good?.stop(5_000), wrongChain?.stop(5_000), second?.stop(5_000)]);
  });

  it("skips a stopped node, a node of another chain and a node that hangs, and uses the first healthy one", async function () {
    const nodes = directory(new Map([[CHAIN, [stoppedUrl, wrongChain!.url, silent!.url, good!.url]]]));
    const provider = await nodes.providerFor(CHAIN);
    expect(await provider.getBlockNumber()).to.be.a("number");
    expect((await provider.getNetwork()).chainId).to.equal(CHAIN);
    const report = nodes.report();
    expect(report.map((node) => node.healthy)).to.deep.equal([false, false, false, true]);
    expect(report[0]!.reason).to.match(/cannot reach/);
    expect(report[1]!.reason).to.equal(`answers chain id ${OTHER}, not ${CHAIN}`);
    expect(report[2]!.reason).to.match(/no answer within 1000 ms/);
    // The same provider while its verdict is fresh.
    expect(await nodes.providerFor(CHAIN)).to.equal(provider);
  });

  it("refuses a chain id it has no node for with a typed error", async function () {
    const nodes = directory(new Map([[CHAIN, [good!.url]]]));
    const error = await rejection(nodes.providerFor(9999n));
    expect(error).to.be.instanceOf(UnknownChainError);
    expect((error as UnknownChainError).code).to.equal("NODES_UNKNOWN_CHAIN");
    expect((error as UnknownChainError).details).to.deep.equal({ chainId: "9999" });
  });

  it("says why each node failed when none is healthy, naming nodes by origin only", async function () {
    const secret = `${stoppedUrl}/v3/SECRET-KEY`;
    const nodes = directory(new Map([[CHAIN, [secret, wrongChain!.url]]]));
    const error = await rejection(nodes.providerFor(CHAIN));
    expect(error).to.be.instanceOf(NoHealthyNodeError);
    expect((error as Error).message).to.not.include("SECRET-KEY");
    expect((error as NoHealthyNodeError).details.failures).to.have.length(2);
    expect(isNodeFailure(error)).to.equal(true);
  });

  it("fails over to the next node when the one in use stops, and back to the first once it returns", async function () {
    const port = await freePort();
    second = await anvil(CHAIN, port);
    const nodes = directory(new Map([[CHAIN, [second.url, good!.url]]]), { recheckMs: 200 });
    const first = await nodes.providerFor(CHAIN);
    expect(nodes.report()[0]!.healthy).to.equal(true);
    await second.stop(5_000);
    // A call that meets the dead node is run again on the next one.
    const head = await nodes.withNode(CHAIN, (provider) => provider.send("eth_blockNumber", []));
    expect(head).to.match(/^0x/);
    expect(nodes.report().map((node) => node.healthy)).to.deep.equal([false, true]);
    const fallback = await nodes.providerFor(CHAIN);
    expect(fallback).to.not.equal(first);
    // The preferred node comes back (same URL); after the re-check interval it is preferred again.
    second = await anvil(CHAIN, port);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await nodes.providerFor(CHAIN)).to.equal(first);
  });

  it("applies a chain's fixed gas policy (a consortium chain) to the providers it hands out", async function () {
    const nodes = directory(new Map([[CHAIN, [good!.url]]]));
    const fixed = new NodeDirectory({
      nodes: new Map([[CHAIN, [good!.url]]]),
      gas: new Map([[CHAIN, { baseFeePerGas: 0n, gasPrice: 7n }]]),
    });
    directories.push(fixed);
    expect((await (await fixed.providerFor(CHAIN)).getFeeData()).gasPrice).to.equal(7n);
    expect((await (await nodes.providerFor(CHAIN)).getFeeData()).gasPrice).to.not.equal(7n);
  });

  it("does not treat a revert as a node failure", function () {
    expect(isNodeFailure({ code: "CALL_EXCEPTION", data: "0x12345678" })).to.equal(false);
    expect(isNodeFailure({ code: "NETWORK_ERROR" })).to.equal(true);
    expect(isNodeFailure({ code: "INSUFFICIENT_FUNDS" })).to.equal(false);
    expect(isNodeFailure(new Error("boom", { cause: { code: "ECONNREFUSED" } }))).to.equal(true);
  });

  describe("the node list of the configuration", function () {
    it("reads chain ids and URLs in order of preference", function () {
      const nodes = parseNodeList(" 4242 = http://a.example:8545 , https://b.example/rpc ; 4343=http://c.example ;");
      expect([...nodes.entries()]).to.deep.equal([
        [4242n, ["http://a.example:8545", "https://b.example/rpc"]],
        [4343n, ["http://c.example"]],
      ]);
    });

    for (const [text, code] of [
      ["http://a.example", "NODES_BAD_ENTRY"],
      ["0=http://a.example", "NODES_BAD_ENTRY"],
      ["042=http://a.example", "NODES_BAD_ENTRY"],
      ["1=ws://a.example", "NODES_BAD_URL"],
      ["1=http://a.example,", "NODES_BAD_URL"],
      ["1=http://a.example;1=http://b.example", "NODES_DUPLICATE_CHAIN"],
    ] as const) {
      it(`refuses ${JSON.stringify(text)} with ${code}`, function () {
        let error: unknown;
        try {
          parseNodeList(text);
        } catch (caught) {
          error = caught;
        }
        expect(error).to.be.instanceOf(NodeConfigError);
        expect((error as NodeConfigError).code).to.equal(code);
      });
    }

    it("never repeats a URL in its errors (it may carry a key)", function () {
      try {
        parseNodeList("7=not a url with SECRET");
        expect.fail("parsed");
      } catch (error) {
        expect((error as Error).message).to.not.include("SECRET");
      }
    });

    it("refuses a chain with no node", function () {
      expect(() => new NodeDirectory({ nodes: new Map([[1n, []]]) })).to.throw(NodeConfigError);
    });
  });
});
