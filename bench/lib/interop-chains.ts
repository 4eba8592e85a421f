/**
 * Two in-process networks (chain ids 4242 and 4343), the suite deployed on each by the deploy scripts and linked
 * both ways (`linkPeer`), for the interop gas measurements (`interop-gas.ts`, `interop-gateway-gas.ts`). The caller
 * closes them (`close`).
 */
import type { Signer } from "ethers";
import { network } from "hardhat";

import { linkPeer, sideOf } from "../../deploy/_interop.js";
import { fromDeployments } from "../../src/chain/deployments.js";
import { deployQuietly } from "./deploy.js";

const CHAIN_IDS = [4242n, 4343n] as const;

/** Both chains, linked; `close()` stops them. */
export async function linkedChains() {
  const chains = [];
  for (const chainId of CHAIN_IDS) {
    const connection = await network.create({ network: "hardhat", override: { chainId: Number(chainId) } });
    const env = await deployQuietly(connection.provider, `hardhat-${chainId}`);
    const signer = async (duty: keyof typeof env.namedAccounts): Promise<Signer> =>
      connection.ethers.getSigner(env.namedAccounts[duty]);
    const deployments = fromDeployments(`hardhat-${chainId}`, chainId, env.deployments);
    const address = (name: string): string => deployments.get(name).address;
    chains.push({ chainId, connection, signer, address, side: sideOf(chainId, deployments) });
  }
  const [a, b] = chains as [(typeof chains)[0], (typeof chains)[0]];
  const { log } = console;
  console.log = () => undefined; // linkPeer's progress lines
  try {
    await linkPeer(a.side, b.side, await a.signer("interopAdmin"));
    await linkPeer(b.side, a.side, await b.signer("interopAdmin"));
  } finally {
    console.log = log;
  }
  return {
    a,
    b,
    close: async (): Promise<void> => {
      for (const chain of [a, b]) await chain.connection.close();
    },
  };
}
