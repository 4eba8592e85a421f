import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

import { Contract, getAddress, type BaseContract, type ContractRunner, type InterfaceAbi } from "ethers";

import { BankChainError } from "../errors.js";

/** A contract the deploy scripts have not deployed on this network. */
export class DeploymentMissingError extends BankChainError {}

/** Several deployment folders were made on the chain id a `--rpc` node answers, and none is `localhost`. */
export class DeploymentAmbiguousError extends BankChainError {}

/**
 * Where hardhat-deploy (rocketh) saves deployments: `<root>/<network>/<Name>.json`,
 * `deployments/` unless `BANK_CHAIN_DEPLOYMENTS_DIR` says otherwise
 * (`rocketh/config.ts` reads the same variable).
 */
export function deploymentsRoot(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const configured = env.BANK_CHAIN_DEPLOYMENTS_DIR?.trim();
  return path.resolve(configured === undefined || configured === "" ? "deployments" : configured);
}

export interface DeploymentRecord {
  readonly name: string;
  readonly address: string;
  readonly abi: InterfaceAbi;
  /** Block the deployment was mined in: where event followers start. */
  readonly blockNumber: number | undefined;
  readonly transactionHash: string | undefined;
}

export interface Deployments {
  readonly network: string;
  /** The chain id the deployments were made on, from rocketh's `.chain` file. */
  readonly chainId: bigint | undefined;
  readonly contracts: ReadonlyMap<string, DeploymentRecord>;
  /** @throws DeploymentMissingError naming the contract and the network. */
  get(name: string): DeploymentRecord;
}

interface RawDeployment {
  address?: unknown;
  abi?: unknown;
  transaction?: { hash?: unknown };
  receipt?: { blockNumber?: unknown };
}

/** One deployment as hardhat-deploy saves it (or holds it in memory); undefined when it has no address or ABI. */
export function recordOf(name: string, deployment: unknown): DeploymentRecord | undefined {
  const raw = deployment as RawDeployment;
  if (typeof raw.address !== "string" || !Array.isArray(raw.abi)) return undefined;
  const block = raw.receipt?.blockNumber;
  return {
    name,
    address: getAddress(raw.address),
    abi: raw.abi as InterfaceAbi,
    blockNumber: typeof block === "string" || typeof block === "number" ? Number(block) : undefined,
    transactionHash: typeof raw.transaction?.hash === "string" ? raw.transaction.hash : undefined,
  };
}

/** Deployments held by name (rocketh's environment), as the services read them. */
export function fromDeployments(
  network: string,
  chainId: bigint | undefined,
  deployments: Readonly<Record<string, unknown>>,
): Deployments {
  const contracts = new Map<string, DeploymentRecord>();
  for (const [name, deployment] of Object.entries(deployments)) {
    const record = recordOf(name, deployment);
    if (record !== undefined) contracts.set(name, record);
  }
  return fromRecords(network, chainId, contracts);
}

/** Reads the deployments saved for `network`; an absent folder gives an empty set. */
export function readDeployments(network: string, root: string = deploymentsRoot()): Deployments {
  const folder = path.join(root, network);
  const contracts = new Map<string, DeploymentRecord>();
  let chainId: bigint | undefined;
  if (existsSync(folder)) {
    chainId = chainIdOf(folder);
    for (const file of readdirSync(folder).sort()) {
      if (!file.endsWith(".json") || file.startsWith(".")) continue;
      const name = file.slice(0, -".json".length);
      const record = recordOf(name, JSON.parse(readFileSync(path.join(folder, file), "utf8")));
      if (record !== undefined) contracts.set(name, record);
    }
  }
  return fromRecords(network, chainId, contracts);
}

/** The chain id in `<root>/<network>/.chain`, if the folder has one. */
function chainIdOf(folder: string): bigint | undefined {
  const chainFile = path.join(folder, ".chain");
  if (!existsSync(chainFile)) return undefined;
  const chain = JSON.parse(readFileSync(chainFile, "utf8")) as { chainId?: unknown };
  return typeof chain.chainId === "string" || typeof chain.chainId === "number" ? BigInt(chain.chainId) : undefined;
}

/**
 * The deployments of a connected chain. A named network reads its own folder;
 * a chain chosen by URL (`network` is `rpc`) reads the folder whose `.chain`
 * holds the chain id the node answered: `localhost` when several match, an
 * empty set when none does.
 *
 * @throws DeploymentAmbiguousError when several folders match and none is `localhost`.
 */
export function deploymentsOf(
  chain: { readonly network: string; readonly chainId: bigint },
  root: string = deploymentsRoot(),
): Deployments {
  if (chain.network !== "rpc") return readDeployments(chain.network, root);
  const matches = existsSync(root)
    ? readdirSync(root, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && chainIdOf(path.join(root, entry.name)) === chain.chainId)
        .map((entry) => entry.name)
        .sort()
    : [];
  const chosen = matches.length === 1 ? matches[0] : matches.includes("localhost") ? "localhost" : undefined;
  if (chosen !== undefined) return readDeployments(chosen, root);
  if (matches.length > 1) {
    throw new DeploymentAmbiguousError(
      "DEPLOYMENT_AMBIGUOUS",
      `deployments of ${matches.join(", ")} were all made on chain id ${chain.chainId}: ` +
        "choose one with --network <name> instead of --rpc",
      { chainId: chain.chainId.toString(), networks: matches },
    );
  }
  return fromRecords(chain.network, chain.chainId, new Map());
}

/** Deployments built in memory (tests deploy on the in-process chain and pass these along). */
export function fromRecords(
  network: string,
  chainId: bigint | undefined,
  contracts: ReadonlyMap<string, DeploymentRecord>,
): Deployments {
  return {
    network,
    chainId,
    contracts,
    get(name: string): DeploymentRecord {
      const record = contracts.get(name);
      if (record === undefined) {
        throw new DeploymentMissingError(
          "DEPLOYMENT_MISSING",
          network === "rpc"
            ? `${name} is not deployed on this chain: no folder in ${deploymentsRoot()} holds chain id ` +
                `${chainId ?? "?"} (deploy with \`npx hardhat deploy --network <name>\`, or use --network)`
            : `${name} is not deployed on network "${network}": run \`npm start\` for the devnet, ` +
                `or \`npx hardhat deploy --network ${network}\``,
          { network, contract: name },
        );
      }
      return record;
    },
  };
}

/** A typed handle (TypeChain factory) on a deployed contract. */
export function attach<T>(
  deployments: Deployments,
  name: string,
  factory: { connect(address: string, runner?: ContractRunner | null): T },
  runner: ContractRunner,
): T {
  return factory.connect(deployments.get(name).address, runner);
}

/**
 * A handle on a deployed contract built from the deployment's own ABI, typed
 * as `T` (the TypeChain type of that contract, imported with `import type`, so
 * that no generated code is loaded at run time).
 */
export function contractAt<T extends BaseContract>(record: DeploymentRecord, runner: ContractRunner): T {
  return new Contract(record.address, record.abi, runner) as unknown as T;
}
