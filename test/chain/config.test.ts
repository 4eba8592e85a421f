import { createServer } from "node:http";
import type { JsonRpcProvider } from "ethers";

import { expect } from "chai";

import { openChain, probeChainId, resolveSelection } from "../../src/chain/config.js";
import { devnetEndpoint, devnetPeerEndpoint, DEVNET_PEER_CHAIN_ID, isDevnet } from "../../src/chain/networks.js";
import { rejection } from "../helpers/remote.js";
import { freePort } from "../helpers/processes.js";
import { fakeNode } from "../mocks/http-node.js";

describe("chain: configuration", function () {
  it("chooses --rpc over --network over the environment, localhost by default", function () {
    expect(resolveSelection({ env: {} })).to.deep.equal({ kind: "network", name: "localhost" });
    expect(resolveSelection({ env: { BANK_CHAIN_NETWORK: "hardhat" } })).to.deep.equal({
      kind: "network",
      name: "hardhat",
    });
    expect(resolveSelection({ env: { BANK_CHAIN_RPC_URL: "http://10.0.0.1:8545" } })).to.deep.equal({
      kind: "rpc",
      url: "http://10.0.0.1:8545",
    });
    expect(resolveSelection({ network: "sepolia", env: { BANK_CHAIN_RPC_URL: "http://x:1" } })).to.deep.equal({
      kind: "network",
      name: "sepolia",
    });
    expect(resolveSelection({ rpc: "https://rpc.example", network: "sepolia", env: {} })).to.deep.equal({
      kind: "rpc",
      url: "https://rpc.example",
    });
  });

  it("reads the devnet host and port from the environment and refuses bad ones", function () {
    expect(devnetEndpoint({})).to.deep.equal({ host: "127.0.0.1", port: 8545, url: "http://127.0.0.1:8545" });
    expect(devnetEndpoint({ BANK_CHAIN_RPC_HOST: "localhost", BANK_CHAIN_RPC_PORT: "9545" }).url).to.equal(
      "http://localhost:9545",
    );
    expect(devnetEndpoint({ BANK_CHAIN_RPC_HOST: "::1" }).url).to.equal("http://[::1]:8545");
    expect(() => devnetEndpoint({ BANK_CHAIN_RPC_PORT: "70000" })).to.throw(
      /BANK_CHAIN_RPC_PORT must be a port number/,
    );
    expect(() => devnetEndpoint({ BANK_CHAIN_RPC_PORT: "80a" })).to.throw(/got "80a"/);
    expect(() => devnetEndpoint({ BANK_CHAIN_RPC_HOST: "a b" })).to.throw(/BANK_CHAIN_RPC_HOST/);
  });

  it("puts the devnet's second chain on the next port, or on BANK_CHAIN_PEER_RPC_PORT, never on the first's", function () {
    expect(devnetPeerEndpoint({})).to.deep.equal({ host: "127.0.0.1", port: 8546, url: "http://127.0.0.1:8546" });
    expect(devnetPeerEndpoint({ BANK_CHAIN_RPC_HOST: "::1", BANK_CHAIN_RPC_PORT: "9545" }).url).to.equal(
      "http://[::1]:9546",
    );
    expect(devnetPeerEndpoint({ BANK_CHAIN_PEER_RPC_PORT: "7000" }).url).to.equal("http://127.0.0.1:7000");
    expect(() => devnetPeerEndpoint({ BANK_CHAIN_PEER_RPC_PORT: "8545" })).to.throw(/must differ from the first/);
    expect(() => devnetPeerEndpoint({ BANK_CHAIN_PEER_RPC_PORT: "0" })).to.throw(/BANK_CHAIN_PEER_RPC_PORT/);
    expect(() => devnetPeerEndpoint({ BANK_CHAIN_RPC_PORT: "65535" })).to.throw(/BANK_CHAIN_PEER_RPC_PORT must be set/);
    expect(isDevnet(DEVNET_PEER_CHAIN_ID)).to.equal(true);
    expect(isDevnet(DEVNET_PEER_CHAIN_ID + 1)).to.equal(false);
  });

  it("refuses an unknown network", async function () {
    const error = await rejection(openChain({ network: "mainnet-ish", env: {} }));
    expect(error.code).to.equal("CONFIG_UNKNOWN_NETWORK");
    expect(error.details).to.deep.equal({ network: "mainnet-ish" });
  });

  it("reports an unreachable node and one that does not answer in time", async function () {
    const port = await freePort();
    expect((await rejection(probeChainId(`http://127.0.0.1:${port}`, 1_000))).code).to.equal("CONFIG_RPC_UNREACHABLE");
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address();
    const url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
    const error = await rejection(probeChainId(url, 200));
    expect(error.message).to.equal(`cannot reach the JSON-RPC node at ${url}: no answer within 200 ms`);
    silent.closeAllConnections();
    silent.close();
  });

  it("reports a node that is not JSON-RPC, and a devnet with a foreign chain id", async function () {
    const html = await fakeNode(() => ({ status: 200, body: "<html>" }));
    expect((await rejection(probeChainId(html.url))).code).to.equal("CONFIG_RPC_INVALID");
    html.server.close();
    const foreign = await fakeNode(() => ({
      status: 200,
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, result: "0x1" }),
    }));
    const port = new URL(foreign.url).port;
    const error = await rejection(openChain({ network: "localhost", env: { BANK_CHAIN_RPC_PORT: port } }));
    expect(error.code).to.equal("CONFIG_CHAIN_MISMATCH");
    expect(error.message).to.match(/answers chain id 1, but network "localhost" expects 31337/);
    foreign.server.close();
  });

  it("opens a JSON-RPC node by URL with a static network", async function () {
    const node = await fakeNode(() => ({
      status: 200,
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, result: "0x539" }),
    }));
    const chain = await openChain({ rpc: node.url, env: {} });
    expect(chain.network).to.equal("rpc");
    expect(chain.chainId).to.equal(1337n);
    expect((await chain.provider.getNetwork()).chainId).to.equal(1337n);
    await chain.close();
    node.server.close();
  });

  it("sends each JSON-RPC call at once, alone: no batch, so no wait for one to fill", async function () {
    const bodies: unknown[] = [];
    const node = await fakeNode((body) => {
      const request = JSON.parse(body) as { id: number } | Array<{ id: number }>;
      bodies.push(request);
      const answer = (one: { id: number }) => ({ jsonrpc: "2.0", id: one.id, result: "0x539" });
      return { status: 200, body: JSON.stringify(Array.isArray(request) ? request.map(answer) : answer(request)) };
    });
    try {
      const chain = await openChain({ rpc: node.url, env: {} });
      const provider = chain.provider as JsonRpcProvider;
      bodies.length = 0;
      // Three calls at once: ethers' default would send them as one array after a 10 ms wait.
      await Promise.all([
        provider.send("eth_blockNumber", []),
        provider.send("eth_gasPrice", []),
        provider.send("eth_chainId", []),
      ]);
      expect(bodies).to.have.length(3);
      expect(bodies.some((body) => Array.isArray(body))).to.equal(false);
      await chain.close();
    } finally {
      node.server.close();
    }
  });

  it("opens the in-process chain with its signers", async function () {
    const chain = await openChain({ network: "hardhat", env: {} });
    expect(chain.url).to.equal(undefined);
    expect(chain.chainId).to.equal(31337n);
    expect((await chain.getSigners()).length).to.be.greaterThan(3);
    await chain.close();
  });
});
