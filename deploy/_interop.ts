/**
 * Linking two chains' interop contracts (rocketh skips files starting with `_`): each side registers the other
 * chain, names the other's AttestedGateway as its counterpart, links its BurnMintLane to the other's, and adds
 * both routes for its own BankToken with the lane as their bridge. Every step is sent only when the chain is
 * not already in that state, so linking again is a no-op. Only the local side sends transactions, signed by
 * the `interopAdmin` duty; the peer is known by its chain id and deployment addresses alone.
 */
import type { Signer } from "ethers";

import {
  AttestedGateway__factory,
  BridgeRegistry__factory,
  BurnMintLane__factory,
  ChainRegistry__factory,
} from "../typechain-types/index.js";
import type { ChainConnection } from "../src/chain/config.js";
import type { Deployments } from "../src/chain/deployments.js";
import { DUTIES } from "../src/chain/networks.js";
import { INTEROP } from "./_config.js";
import { ensure } from "./_ethers.js";
import { interoperableAddress } from "../src/interop/erc7930.js";

/** The contracts of one side, by deployment name. */
export interface InteropSide {
  readonly chainId: bigint;
  readonly address: (
    name: "BankToken" | "ChainRegistry" | "BridgeRegistry" | "AttestedGateway" | "BurnMintLane",
  ) => string;
}

export { interoperableAddress } from "../src/interop/erc7930.js";

/** The CAIP-2 id of an EVM chain. */
export const caip2 = (chainId: bigint): string => `eip155:${chainId}`;

/** Links `local` to `peer` as described above; `admin` is the local `interopAdmin` signer. */
export async function linkPeer(local: InteropSide, peer: InteropSide, admin: Signer): Promise<void> {
  const chains = ChainRegistry__factory.connect(local.address("ChainRegistry"), admin);
  const routes = BridgeRegistry__factory.connect(local.address("BridgeRegistry"), admin);
  const gateway = AttestedGateway__factory.connect(local.address("AttestedGateway"), admin);
  const lane = BurnMintLane__factory.connect(local.address("BurnMintLane"), admin);
  const token = local.address("BankToken");
  const here = `chain ${local.chainId}`;

  await ensure(
    `ChainRegistry (${here}): chain ${peer.chainId} registered and enabled`,
    () => chains.isRegistered(peer.chainId),
    () => chains.registerChain(peer.chainId, caip2(peer.chainId), true),
  );
  await ensure(
    `AttestedGateway (${here}): counterpart on chain ${peer.chainId}`,
    async () =>
      (await gateway.counterpartOf(peer.chainId)).toLowerCase() === peer.address("AttestedGateway").toLowerCase(),
    () => gateway.setCounterpart(peer.chainId, peer.address("AttestedGateway")),
  );
  const counterpart = interoperableAddress(peer.chainId, peer.address("BurnMintLane"));
  await ensure(
    `BurnMintLane (${here}): linked to the lane on chain ${peer.chainId}`,
    async () => {
      const [linkedGateway, linked] = await lane.getLink(interoperableAddress(peer.chainId));
      return (
        linkedGateway.toLowerCase() === gateway.target.toString().toLowerCase() &&
        linked.toLowerCase() === counterpart.toLowerCase()
      );
    },
    () => lane.setLink(peer.chainId, peer.address("BurnMintLane"), true),
  );
  for (const [source, destination] of [
    [local.chainId, peer.chainId],
    [peer.chainId, local.chainId],
  ] as const) {
    const key = await routes.routeKey(source, destination, token);
    const route = `BridgeRegistry (${here}): route ${source} → ${destination}`;
    await ensure(
      `${route} added`,
      () =>
        routes.routeOf(key).then(
          () => true,
          () => false,
        ),
      () => routes.addRoute(source, destination, token),
    );
    await ensure(
      `${route}: the lane allowed`,
      () => routes.isBridgeAllowed(key, lane.target),
      () => routes.allowBridge(key, lane.target),
    );
    await ensure(
      `${route}: the lane preferred`,
      async () => (await routes.routeOf(key)).preferred.toLowerCase() === lane.target.toString().toLowerCase(),
      () => routes.selectBridges(key, lane.target, "0x0000000000000000000000000000000000000000"),
    );
    for (const outbound of [true, false]) {
      await ensure(
        `${route}: ${outbound ? "outbound" : "inbound"} limit ${INTEROP.routeCapacity} per ${INTEROP.routeWindow} s`,
        async () => {
          const [capacity, window] = await routes.rateLimitOf(key, outbound);
          return capacity === INTEROP.routeCapacity && window === BigInt(INTEROP.routeWindow);
        },
        () => routes.setRateLimit(key, outbound, INTEROP.routeCapacity, INTEROP.routeWindow),
      );
    }
  }
}

/** One devnet chain as `npm start` opened it. */
export interface DevnetSide {
  readonly chain: ChainConnection;
  readonly deployments: Deployments;
}

/** An `InteropSide` from a chain's deployment records; a missing contract is named. */
export function sideOf(chainId: bigint, deployments: Deployments): InteropSide {
  return {
    chainId,
    address: (name) => {
      const record = deployments.contracts.get(name);
      if (record === undefined) throw new Error(`interop link: ${name} is not deployed on chain ${chainId}`);
      return record.address;
    },
  };
}

/**
 * Links every pair of the devnet's chains both ways, each side signed by its `interopAdmin` (the node's
 * unlocked account at the duty's devnet index).
 */
export async function linkDevnetChains(sides: readonly DevnetSide[]): Promise<void> {
  const index = DUTIES.find((duty) => duty.name === "interopAdmin")!.devnetIndex;
  for (const local of sides) {
    const admin = (await local.chain.getSigners())[index];
    if (admin === undefined) throw new Error(`interop link: chain ${local.chain.chainId} has no interopAdmin account`);
    for (const peer of sides) {
      if (peer === local) continue;
      await linkPeer(
        sideOf(local.chain.chainId, local.deployments),
        sideOf(peer.chain.chainId, peer.deployments),
        admin,
      );
    }
  }
}
