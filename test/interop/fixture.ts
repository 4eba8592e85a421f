/**
 * Two independent chains (two Anvil nodes on ports the OS picks, chain ids
 * 4242 and 4343) with the interop contracts the services need deployed on
 * each by their TypeChain factories: ChainRegistry, BridgeRegistry,
 * AttestedGateway (counterparts set both ways, three attesters, threshold 2),
 * InteropGateway (a mock token allowed) and a test token. Until the deploy
 * scripts deploy the interop set (then `startTwoChains()` replaces this).
 *
 * Keys are the public test mnemonic's, at the devnet duties' indexes:
 * admin 0, relayer 24, attesters 25-27, users from 9.
 */
import { HDNodeWallet, JsonRpcProvider, Network, Wallet, type ContractTransactionResponse } from "ethers";

import { startAnvil, type Anvil } from "../../src/chain/devnet.js";
import { mined } from "../../src/chain/receipts.js";
import { PUBLIC_TEST_MNEMONIC } from "../../src/chain/published-keys.js";
import type { InteropChain } from "../../src/interop/chains.js";
import { NodeDirectory } from "../../src/interop/nodes.js";
import {
  AttestedGateway__factory,
  BankToken__factory,
  BridgeRegistry__factory,
  BurnMintLane__factory,
  ChainRegistry__factory,
  ERC1967Proxy__factory,
  InteropGateway__factory,
  MockERC20__factory,
  ReserveLedger__factory,
  type AttestedGateway,
  type BankToken,
  type BridgeRegistry,
  type BurnMintLane,
  type ChainRegistry,
  type InteropGateway,
  type MockERC20,
  type ReserveLedger,
} from "../../typechain-types/index.js";
import { freePort } from "../helpers/processes.js";

export const CHAIN_IDS = [4242n, 4343n] as const;
export const DEFAULT_TTL = 3_600n;
export const REFUND_DELAY = 30n;
export const MIN_DELIVERY_GAS = 200_000;
/** The lane's limits: route capacity per window, the ledger's net import cap, the issuer's reserve. */
export const ROUTE_CAPACITY = 10n ** 12n;
export const ROUTE_WINDOW = 86_400;
export const NET_IMPORT_CAP = 10n ** 12n;
export const RESERVE = 10n ** 13n;

/** The public test mnemonic's key at `index` (funded on every Anvil the fixture starts). */
export function testKey(index: number): Wallet {
  const node = HDNodeWallet.fromPhrase(PUBLIC_TEST_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`);
  return new Wallet(node.privateKey);
}

export const KEYS = {
  admin: testKey(0),
  relayer: testKey(24),
  attesters: [testKey(25), testKey(26), testKey(27)] as const,
  alice: testKey(9),
  bob: testKey(10),
  mallory: testKey(11),
};

export interface TestChain {
  readonly chainId: bigint;
  readonly url: string;
  readonly port: number;
  anvil: Anvil;
  readonly provider: JsonRpcProvider;
  readonly admin: Wallet;
  readonly chainRegistry: ChainRegistry;
  readonly bridgeRegistry: BridgeRegistry;
  readonly gateway: AttestedGateway;
  readonly interop: InteropGateway;
  readonly token: MockERC20;
  /** The block the AttestedGateway was deployed in. */
  readonly fromBlock: number;
  /** With `lane: true`: the BankToken (admin is its one issuer), its ReserveLedger and the BurnMintLane. */
  lane?: { readonly bankToken: BankToken; readonly ledger: ReserveLedger; readonly lane: BurnMintLane };
}

export interface InteropFixture {
  readonly chains: readonly [TestChain, TestChain];
  /** The services' view of the chains (confirmations as given). */
  config(confirmations?: number): InteropChain[];
  /** A node directory over both chains (closed by `stop`). */
  nodes(options?: { recheckMs?: number }): NodeDirectory;
  /** Stops a chain's node (its state is lost unless `restart` brings it back from its state file). */
  stopChain(index: 0 | 1): Promise<void>;
  /** Starts a stopped chain again on the same port, from its state file. */
  restartChain(index: 0 | 1): Promise<void>;
  stop(): Promise<void>;
}

async function send(tx: Promise<ContractTransactionResponse>): Promise<void> {
  await mined(await tx);
}

async function deployed<T extends { deploymentTransaction(): ContractTransactionResponse | null }>(
  contract: Promise<T>,
): Promise<T> {
  const made = await contract;
  await mined(made.deploymentTransaction()!);
  return made;
}

/**
 * The lane set on one chain, as contracts/test/utils/LaneFixture.sol builds it: a BankToken behind its proxy
 * with its ReserveLedger (the admin is the one issuer, with an attested reserve), and a BurnMintLane that is a
 * minter and a bridge account of the ledger, with the InteropGateway as its router.
 */
async function deployLane(chain: TestChain): Promise<void> {
  const admin = chain.admin;
  const implementation = await deployed(new BankToken__factory(admin).deploy());
  const init = implementation.interface.encodeFunctionData("initialize", [
    "Bank Dollar",
    "bUSD",
    "0x555344",
    2,
    10n ** 15n,
    "0x0000000000000000000000000000000000000000",
    admin.address,
    0,
  ]);
  const proxy = await deployed(new ERC1967Proxy__factory(admin).deploy(implementation.target, init));
  const bankToken = BankToken__factory.connect(proxy.target as string, admin);
  const ledger = await deployed(new ReserveLedger__factory(admin).deploy(admin.address, 0, bankToken.target, 2));
  const lane = await deployed(
    new BurnMintLane__factory(admin).deploy(
      admin.address,
      0,
      bankToken.target,
      chain.gateway.target,
      chain.bridgeRegistry.target,
    ),
  );
  await send(bankToken.grantRole(await bankToken.MINTER_ADMIN_ROLE(), admin.address));
  await send(bankToken.grantRole(await bankToken.PAUSER_ROLE(), admin.address));
  await send(ledger.grantRole(await ledger.RESERVE_ADMIN_ROLE(), admin.address));
  await send(ledger.grantRole(await ledger.ATTESTOR_ROLE(), admin.address));
  await send(lane.grantRole(await lane.LINK_ADMIN_ROLE(), admin.address));
  await send(lane.grantRole(await lane.ROUTER_ROLE(), chain.interop.target));
  await send(chain.chainRegistry.grantRole(await chain.chainRegistry.CHAIN_ADMIN_ROLE(), admin.address));
  await send(chain.bridgeRegistry.grantRole(await chain.bridgeRegistry.ROUTE_ADMIN_ROLE(), admin.address));
  await send(chain.bridgeRegistry.grantRole(await chain.bridgeRegistry.PAUSER_ROLE(), admin.address));
  await send(bankToken.setIssuanceGate(ledger.target));
  await send(bankToken.configureMinter(admin.address, 10n ** 14n));
  await send(bankToken.configureMinter(lane.target, 10n ** 14n));
  await send(ledger.registerIssuer(admin.address, 10_000, 30 * 86_400));
  const now = (await chain.provider.getBlock("latest"))!.timestamp;
  await send(ledger.attestReserve(admin.address, RESERVE, now));
  await send(ledger.registerBridge(lane.target, NET_IMPORT_CAP));
  await send(chain.interop.setAsset(bankToken.target, true));
  chain.lane = { bankToken, ledger, lane };
}

/** Registers `there` on `here`: both chains, the lane's link, and the two routes of the local token. */
async function connectLanes(here: TestChain, there: TestChain): Promise<void> {
  await send(here.chainRegistry.registerChain(here.chainId, `eip155:${here.chainId}`, true));
  await send(here.chainRegistry.registerChain(there.chainId, `eip155:${there.chainId}`, true));
  await send(here.lane!.lane.setLink(there.chainId, there.lane!.lane.target, false));
  for (const [source, destination] of [
    [here.chainId, there.chainId],
    [there.chainId, here.chainId],
  ] as const) {
    const token = here.lane!.bankToken.target;
    const key = await here.bridgeRegistry.routeKey(source, destination, token);
    await send(here.bridgeRegistry.addRoute(source, destination, token));
    await send(here.bridgeRegistry.allowBridge(key, here.lane!.lane.target));
    await send(
      here.bridgeRegistry.selectBridges(key, here.lane!.lane.target, "0x0000000000000000000000000000000000000000"),
    );
    await send(here.bridgeRegistry.setRateLimit(key, true, ROUTE_CAPACITY, ROUTE_WINDOW));
    await send(here.bridgeRegistry.setRateLimit(key, false, ROUTE_CAPACITY, ROUTE_WINDOW));
  }
}

async function deploy(chainId: bigint, anvils: Anvil[], stateFile: string | undefined): Promise<TestChain> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const anvil = await startAnvil({
    endpoint: { host: "127.0.0.1", port, url },
    chainId: Number(chainId),
    ...(stateFile === undefined ? {} : { stateFile }),
  });
  anvils.push(anvil);
  const network = Network.from(chainId);
  const provider = new JsonRpcProvider(url, network, {
    staticNetwork: network,
    pollingInterval: 100,
    cacheTimeout: -1,
  });
  const admin = KEYS.admin.connect(provider);
  const chainRegistry = await deployed(new ChainRegistry__factory(admin).deploy(admin.address, 0));
  const bridgeRegistry = await deployed(
    new BridgeRegistry__factory(admin).deploy(admin.address, 0, await chainRegistry.getAddress()),
  );
  const gateway = await deployed(
    new AttestedGateway__factory(admin).deploy(admin.address, 0, DEFAULT_TTL, REFUND_DELAY, MIN_DELIVERY_GAS),
  );
  const fromBlock = (await provider.getTransactionReceipt(gateway.deploymentTransaction()!.hash))!.blockNumber;
  const interop = await deployed(
    new InteropGateway__factory(admin).deploy(
      admin.address,
      0,
      await chainRegistry.getAddress(),
      await bridgeRegistry.getAddress(),
    ),
  );
  const token = await deployed(new MockERC20__factory(admin).deploy());
  await send(gateway.grantRole(await gateway.GATEWAY_ADMIN_ROLE(), admin.address));
  await send(gateway.grantRole(await gateway.PAUSER_ROLE(), admin.address));
  await send(interop.grantRole(await interop.GATEWAY_ADMIN_ROLE(), admin.address));
  await send(interop.grantRole(await interop.PAUSER_ROLE(), admin.address));
  await send(interop.setAsset(await token.getAddress(), true));
  const attesters = KEYS.attesters.map((key) => key.address).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  await send(gateway.setAttesterSet(attesters, 2));
  return {
    chainId,
    url,
    port,
    anvil,
    provider,
    admin,
    chainRegistry,
    bridgeRegistry,
    gateway,
    interop,
    token,
    fromBlock,
  };
}

/** Starts both chains and deploys; a start that fails half-way stops what it started. */
export async function startInteropChains(
  options: {
    readonly stateFiles?: readonly [string, string];
    /** Also deploy and connect the BankToken lane set on both chains. */
    readonly lane?: boolean;
  } = {},
): Promise<InteropFixture> {
  const anvils: Anvil[] = [];
  const directories: NodeDirectory[] = [];
  const providers: JsonRpcProvider[] = [];
  const stop = async (): Promise<void> => {
    for (const nodes of directories) nodes.close();
    for (const provider of providers) provider.destroy();
    await Promise.allSettled(anvils.map((anvil) => anvil.stop(5_000)));
  };
  try {
    const a = await deploy(CHAIN_IDS[0], anvils, options.stateFiles?.[0]);
    providers.push(a.provider);
    const b = await deploy(CHAIN_IDS[1], anvils, options.stateFiles?.[1]);
    providers.push(b.provider);
    await send(a.gateway.setCounterpart(b.chainId, await b.gateway.getAddress()));
    await send(b.gateway.setCounterpart(a.chainId, await a.gateway.getAddress()));
    if (options.lane === true) {
      await deployLane(a);
      await deployLane(b);
      await connectLanes(a, b);
      await connectLanes(b, a);
    }
    const chains = [a, b] as const;
    return {
      chains,
      config: (confirmations = 0) =>
        chains.map((chain) => ({
          chainId: chain.chainId,
          attestedGateway: chain.gateway.target as string,
          interopGateway: chain.interop.target as string,
          fromBlock: chain.fromBlock,
          confirmations,
        })),
      nodes: (nodeOptions = {}) => {
        const made = new NodeDirectory({
          nodes: new Map(chains.map((chain) => [chain.chainId, [chain.url]])),
          timeoutMs: 1_000,
          recheckMs: nodeOptions.recheckMs ?? 2_000,
          pollingIntervalMs: 100,
        });
        directories.push(made);
        return made;
      },
      async stopChain(index) {
        await chains[index].anvil.stop(5_000);
      },
      async restartChain(index) {
        const chain = chains[index];
        chain.anvil = await startAnvil({
          endpoint: { host: "127.0.0.1", port: chain.port, url: chain.url },
          chainId: Number(chain.chainId),
          ...(options.stateFiles === undefined ? {} : { stateFile: options.stateFiles[index] }),
        });
        anvils.push(chain.anvil);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
