/**
 * `npm start`: the main job. Builds the contracts, starts (or reuses) the local
 * devnet's two chains (127.0.0.1:8545, chain id 31337, and 127.0.0.1:8546,
 * chain id 31338, network `localhostB`: the interop lane's other side), deploys
 * the suite to both with hardhat-deploy, starts the off-chain services, prints
 * `bank-chain ready rpc=<url> chainId=<id>` (the first chain) and the deployment
 * addresses, and shuts everything down on SIGINT/SIGTERM.
 *
 * A start is a restart: each devnet chain is Anvil with its state in
 * `<data>/<network>/devnet-state.json`, the deployments stay in
 * `deployments/<network>/` and the services' SQLite files in `<data>/<network>/`,
 * so a second `npm start` comes back with every payment, balance, bill, card
 * account and voucher. `npm start -- --fresh` deletes all three and starts over;
 * `npm run reset` (`--reset`) deletes them and exits.
 *
 * BANK_CHAIN_RPC_HOST / BANK_CHAIN_RPC_PORT move the devnet (BANK_CHAIN_PEER_RPC_PORT
 * its second chain, by default the next port); BANK_CHAIN_DEPLOYMENTS_DIR
 * and BANK_CHAIN_DATA_DIR move the saved deployments and the services' SQLite files.
 *
 * `npm start -- --network consortium` (any entry of REMOTE_NETWORKS) runs the
 * same steps against that network's node instead of a devnet: build, deploy
 * what is missing with the network's configuration variables (one key per
 * duty), run the services with their data in `<data>/<network>/`.
 *
 * Nothing here may import generated code (typechain-types/, generated/) at load
 * time: on a fresh clone the build below creates it. The services are imported
 * after the build.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { ChainConfigError, openChain, originOf, probeChainId, type ChainConnection } from "../src/chain/config.js";
import { serviceDataDir } from "../src/chain/data-dir.js";
import { deploymentsRoot, readDeployments } from "../src/chain/deployments.js";
import { removeStackFile, writeStackFile } from "../src/chain/stack-file.js";
import { checkRecordsAgainstChain, DevnetError, startAnvil, type Anvil } from "../src/chain/devnet.js";
import {
  DEVNET_CHAIN_ID,
  devnetEndpoint,
  devnetPeerEndpoint,
  DEVNET_PEER_CHAIN_ID,
  isRemoteNetwork,
  REMOTE_NETWORKS,
  type DevnetEndpoint,
} from "../src/chain/networks.js";
import type { ServiceRunner } from "../src/chain/service.js";
import { BankChainError, messageOf } from "../src/errors.js";
import { createLogger } from "../src/chain/log.js";
import { Step, withStep } from "../src/chain/progress.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const hardhatBin = binOf("hardhat");
const PREFIX = "[start] ";
/** npm start's own lines: `[start] …` on stderr (the services' own lines are JSON, see `createLogger`). */
const log = (line: string): void => void process.stderr.write(`${PREFIX}${line}\n`);
const FRESH_HINT =
  'run "npm start -- --fresh" to start over (it deletes the devnet\'s state, deployments and service data)';

const USAGE = `usage: npm start [-- --fresh]   |   npm run reset   |   npm start -- --network <name>

  (no flag)         build, start or resume the devnet, deploy what is missing, run the services
  --fresh           delete the devnet's state, deployments and service data first, then start
  --reset           delete them and exit
  --network <name>  the same against a remote network (${Object.keys(REMOTE_NETWORKS).join(", ")}),
                    reached through its configuration variables; no devnet
  --help            this text`;

interface StartOptions {
  readonly fresh: boolean;
  readonly reset: boolean;
  readonly help: boolean;
  /** A remote network's name, or undefined for the devnet. */
  readonly network: string | undefined;
}

/** Parses the flags; a usage error is thrown as a StartUsageError. */
function parseStartArgs(argv: readonly string[]): StartOptions {
  let network: string | undefined;
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === "--network" || arg.startsWith("--network=")) {
      const value = arg === "--network" ? argv[(i += 1)] : arg.slice("--network=".length);
      if (value === undefined || value === "") throw new StartUsageError("--network needs a network name");
      network = value;
    } else if (["--fresh", "--reset", "--help"].includes(arg)) {
      flags.add(arg);
    } else {
      throw new StartUsageError(`unknown option ${arg}`);
    }
  }
  if (network === "localhost") network = undefined;
  if (network !== undefined && !isRemoteNetwork(network)) {
    throw new StartUsageError(
      `unknown network "${network}"; npm start runs the devnet (no --network) or one of: ${Object.keys(REMOTE_NETWORKS).join(", ")}`,
    );
  }
  if (network !== undefined && (flags.has("--fresh") || flags.has("--reset"))) {
    throw new StartUsageError(
      "--fresh and --reset delete the devnet; a remote network's chain is not this machine's to delete",
    );
  }
  return { fresh: flags.has("--fresh"), reset: flags.has("--reset"), help: flags.has("--help"), network };
}

class StartUsageError extends BankChainError {
  constructor(message: string) {
    super("START_USAGE", message);
  }
}

/** The command-line entry a package declares in its manifest's `bin`. */
function binOf(pkg: string): string {
  const manifestPath = createRequire(import.meta.url).resolve(`${pkg}/package.json`);
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { bin: string | Record<string, string> };
  const bin = typeof manifest.bin === "string" ? manifest.bin : manifest.bin[pkg];
  if (bin === undefined) throw new BankChainError("START_NO_BIN", `${pkg} declares no command`);
  return path.join(path.dirname(manifestPath), bin);
}

interface Places {
  readonly deployments: string;
  readonly data: string;
  readonly stateFile: string;
}

function places(network: string, env: NodeJS.ProcessEnv): Places {
  const data = serviceDataDir(network, env);
  return {
    deployments: path.join(deploymentsRoot(env), network),
    data,
    stateFile: path.join(data, "devnet-state.json"),
  };
}

/** Deletes what earlier runs left on each chain; says what it deleted. */
function reset(everywhere: readonly Places[]): void {
  const removed = everywhere.flatMap((where) => [where.deployments, where.data]).filter((folder) => existsSync(folder));
  for (const folder of removed) rmSync(folder, { recursive: true, force: true });
  log(
    removed.length === 0
      ? "nothing to delete: no earlier devnet state, deployments or service data"
      : `deleted the earlier devnet state, deployments and service data: ${removed.join(", ")}`,
  );
}

/** Whether anything of an earlier run is left (a deployment or a service database). */
function hasRecords(where: Places): boolean {
  const deployed = existsSync(where.deployments) && readdirSync(where.deployments).some((f) => f.endsWith(".json"));
  const stored = existsSync(where.data) && readdirSync(where.data).some((f) => f.endsWith(".sqlite"));
  return deployed || stored;
}

/**
 * Runs a Hardhat command to completion as a progress step (a spinner on a terminal, the plain `<step>…`,
 * `still <step> (N s)`, `<step>: done in X s` lines otherwise), relaying `relay` lines; fails with its output.
 */
async function hardhat(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  name: string,
  relay?: RegExp,
  { interactive = false }: { readonly interactive?: boolean } = {},
): Promise<void> {
  // A prompt on the terminal (a keystore password) must not be redrawn over: plain lines then.
  const stream = interactive ? { write: (text: string) => process.stderr.write(text) } : process.stderr;
  const step = new Step(name, { stream, prefix: PREFIX });
  const child = spawn(process.execPath, [hardhatBin, ...args], {
    cwd: root,
    env,
    stdio: interactive ? "inherit" : ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let partial = "";
  const take = (chunk: Buffer): void => {
    output += chunk.toString();
    partial += chunk.toString();
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) if (relay?.test(line.trim()) === true) step.line(`  ${line.trim()}`);
  };
  child.stdout?.on("data", take);
  child.stderr?.on("data", take);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) {
    step.fail();
    throw new BankChainError("START_STEP_FAILED", `hardhat ${args.join(" ")} failed (exit ${code}):\n${output.trim()}`);
  }
  step.done();
}

/**
 * hardhat-deploy's typed artifacts (`generated/artifacts/`, what the deploy
 * scripts deploy): its plugin writes them only after a full build, contracts
 * and Solidity tests together, and `npm start` builds the contracts alone.
 * Same generator, same destination as `generateTypedArtifacts` in
 * hardhat.config.ts; it rewrites only the files that changed.
 */
async function generateTypedArtifacts(): Promise<void> {
  const plugin = fileURLToPath(import.meta.resolve("hardhat-deploy"));
  const generator = pathToFileURL(path.join(path.dirname(plugin), "generate-types.js")).href;
  const { generateTypes } = (await import(generator)) as {
    generateTypes(
      paths: { artifacts: string[] },
      config: { destinations: { mode: string; folder: string }[] },
    ): Promise<void>;
  };
  await generateTypes(
    { artifacts: [path.join(root, "artifacts")] },
    { destinations: [{ mode: "typescript", folder: path.join(root, "generated") }] },
  );
}

/** One of the devnet's chains: its network name, where it listens and its chain id. */
interface DevnetChain {
  readonly network: "localhost" | "localhostB";
  readonly endpoint: DevnetEndpoint;
  readonly chainId: number;
  /** The variable that moves its port. */
  readonly portVariable: string;
}

/** Whether a node already answers at the endpoint; refuses one with a foreign chain id. */
async function existingDevnet({ endpoint, chainId: expected, portVariable }: DevnetChain): Promise<boolean> {
  try {
    const chainId = await probeChainId(endpoint.url, 1_000);
    if (chainId !== BigInt(expected)) {
      throw new ChainConfigError(
        "CONFIG_CHAIN_MISMATCH",
        `a node at ${endpoint.url} answers chain id ${chainId}, not the devnet's ${expected}; ` +
          `stop it or choose another ${portVariable}`,
      );
    }
    return true;
  } catch (error) {
    if (error instanceof ChainConfigError && error.code === "CONFIG_RPC_UNREACHABLE") return false;
    throw error;
  }
}

async function main(argv: readonly string[]): Promise<void> {
  let options: StartOptions;
  try {
    options = parseStartArgs(argv);
  } catch (error) {
    process.stderr.write(`bank-chain: ${messageOf(error)}\n${USAGE}\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(0);
  }
  const remote = options.network;
  let devnets: DevnetChain[] = [];
  let env: NodeJS.ProcessEnv = process.env;
  if (remote === undefined) {
    try {
      const first = devnetEndpoint();
      const peer = devnetPeerEndpoint();
      devnets = [
        { network: "localhost", endpoint: first, chainId: DEVNET_CHAIN_ID, portVariable: "BANK_CHAIN_RPC_PORT" },
        {
          network: "localhostB",
          endpoint: peer,
          chainId: DEVNET_PEER_CHAIN_ID,
          portVariable: "BANK_CHAIN_PEER_RPC_PORT",
        },
      ];
      env = {
        ...process.env,
        BANK_CHAIN_RPC_HOST: first.host,
        BANK_CHAIN_RPC_PORT: String(first.port),
        BANK_CHAIN_PEER_RPC_PORT: String(peer.port),
      };
    } catch (error) {
      throw new ChainConfigError("CONFIG_INVALID_DEVNET", messageOf(error));
    }
  }
  const network = remote ?? "localhost";
  const endpoint = devnets[0]?.endpoint;
  const where = places(network, env);
  // The devnet's chains, or the one remote network: each with its own state, deployments and service data.
  const chainsToRun = devnets.length > 0 ? devnets.map((devnet) => devnet.network) : [network];
  if (options.reset) {
    reset(chainsToRun.map((name) => places(name, env)));
    return;
  }

  // Each service logs through its own child of this logger: JSON lines on stderr with its `service` name
  // (BANK_CHAIN_LOG_FORMAT=text for `[service] message` lines); the runner's own lines stay `[start] …`.
  // Made before anything starts, so a bad BANK_CHAIN_LOG_LEVEL or _FORMAT fails at once.
  const logger = createLogger({ env });
  const stackFile = path.join(where.data, "stack.json");
  const nodes: { readonly anvil: Anvil; readonly stateFile: string }[] = [];
  const chains: ChainConnection[] = [];
  let runner: ServiceRunner | undefined;
  let stopping = false;
  const shutdown = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log("shutting down");
    removeStackFile(stackFile);
    try {
      await runner?.stopAll();
    } catch (error) {
      log(messageOf(error));
      code = code || 1;
    }
    for (const chain of chains) await chain.close();
    for (const node of nodes) {
      await node.anvil.stop();
      log(`devnet stopped; its state is saved in ${node.stateFile}`);
    }
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));

  try {
    if (options.fresh) reset(chainsToRun.map((name) => places(name, env)));
    // Compiles only what deploys: the Solidity tests are compiled by `npm test`.
    await hardhat(["build", "--no-tests"], env, "building contracts", /^(Compil|Nothing to compile|No contracts)/);
    await generateTypedArtifacts();

    if (devnets.length === 0) {
      // A remote network: its URL and keys through Hardhat's configuration variables, its chain id checked.
      const chain = await openChain({ network, env });
      chains.push(chain);
      log(`connected to ${network} at ${originOf(chain.url)} (chain id ${chain.chainId})`);
    }
    for (const devnet of devnets) {
      const at = places(devnet.network, env);
      if (await existingDevnet(devnet)) {
        log(`reusing the devnet at ${devnet.endpoint.url}`);
      } else {
        if (!existsSync(at.stateFile) && hasRecords(at)) {
          throw new DevnetError(
            "DEVNET_STATE_MISSING",
            `the devnet's state file ${at.stateFile} is missing but an earlier run left deployments or service data; ${FRESH_HINT}`,
          );
        }
        log(
          existsSync(at.stateFile)
            ? `resuming the devnet from ${at.stateFile} at ${devnet.endpoint.url}`
            : `starting a new devnet at ${devnet.endpoint.url} (chain id ${devnet.chainId})`,
        );
        const anvil = await startAnvil({ endpoint: devnet.endpoint, stateFile: at.stateFile, chainId: devnet.chainId });
        nodes.push({ anvil, stateFile: at.stateFile });
        anvil.process.on("exit", (exitCode, signal) => {
          if (!stopping) {
            log(`the devnet at ${devnet.endpoint.url} exited unexpectedly (${exitCode ?? signal})`);
            void shutdown(1);
          }
        });
      }
      chains.push(await openChain({ network: devnet.network, env }));
    }

    for (const [i, name] of chainsToRun.entries()) {
      const at = places(name, env);
      await checkRecordsAgainstChain(
        chains[i]!.provider,
        {
          dataDir: at.data,
          deployments: readDeployments(name, deploymentsRoot(env)).contracts,
          chainId: chains[i]!.chainId,
        },
        remote === undefined ? FRESH_HINT : `check ${at.deployments} and ${at.data} belong to this chain`,
      );
    }
    for (const name of chainsToRun) {
      await hardhat(
        ["deploy", "--network", name, "--skip-prompts"],
        env,
        chainsToRun.length > 1 ? `deploying the suite to ${name}` : "deploying the suite",
        undefined,
        {
          // A keystore password prompt must reach the user.
          interactive: remote !== undefined && process.stdin.isTTY === true,
        },
      );
    }
    const chain = chains[0]!;
    const deployments = readDeployments(network, deploymentsRoot(env));
    const peers = chainsToRun.slice(1).map((name, i) => ({
      chain: chains[i + 1]!,
      deployments: readDeployments(name, deploymentsRoot(env)),
    }));

    // Imported only now: the services and the link step use the code the build generated.
    if (peers.length > 0) {
      const { linkDevnetChains } = await import("../deploy/_interop.js");
      await withStep(
        "linking the devnet's chains for the interop lane",
        () => linkDevnetChains([{ chain, deployments }, ...peers]),
        { prefix: PREFIX },
      );
    }
    const { ServiceRunner } = await import("../src/chain/service.js");
    const { SERVICES } = await import("../src/services.js");
    const { interopServices } = await import("../src/interop/service.js");
    const { consoleService } = await import("../src/console/service.js");
    const factories = [
      ...(peers.length > 0 ? [...SERVICES, ...interopServices({ peers: () => peers, env })] : SERVICES),
      // Last: it reads the others' URLs at each request.
      consoleService({ peers: () => peers, services: () => runner?.running ?? [], env }),
    ];
    runner = new ServiceRunner(factories, { chain, deployments, dataDir: where.data, log, logger });
    const services = await runner.startAll();

    // One write, ready line last: whoever waits for it has the addresses too.
    const lines = ["deployments:"];
    for (const [name, record] of deployments.contracts) lines.push(`  ${name} ${record.address}`);
    if (services.length > 0) lines.push("services:");
    for (const service of services) lines.push(`  service ${service.name} ${service.url ?? "(no endpoint)"}`);
    for (const [i, devnet] of devnets.entries()) {
      if (i > 0) lines.push(`chain ${devnet.network} rpc=${devnet.endpoint.url} chainId=${devnet.chainId}`);
    }
    lines.push(`bank-chain ready rpc=${endpoint?.url ?? originOf(chain.url)} chainId=${chain.chainId}`);
    // The stack file before the ready line: a tool that waits for the line finds the file.
    mkdirSync(where.data, { recursive: true });
    writeStackFile(stackFile, {
      version: 1,
      chains: chainsToRun.map((name, i) => ({
        network: name,
        rpc: devnets[i]?.endpoint.url ?? originOf(chains[i]!.url),
        chainId: Number(chains[i]!.chainId),
        deployments: places(name, env).deployments,
      })),
      services: Object.fromEntries(services.filter((s) => s.url !== undefined).map((s) => [s.name, s.url!])),
      pid: process.pid,
      startedAt: new Date().toISOString(),
    });
    process.stdout.write(`${lines.join("\n")}\n`);
  } catch (error) {
    process.stderr.write(`bank-chain: ${messageOf(error)}\n`);
    await shutdown(1);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`bank-chain: ${messageOf(error)}\n`);
  process.exit(1);
});
