/**
 * `npm start`: the main job. Builds the contracts, starts (or reuses) the local
 * devnet on 127.0.0.1:8545, deploys the suite with hardhat-deploy, starts the
 * off-chain services, prints `bank-chain ready rpc=<url> chainId=<id>` and the
 * deployment addresses, and shuts everything down on SIGINT/SIGTERM.
 *
 * BANK_CHAIN_RPC_HOST / BANK_CHAIN_RPC_PORT move the devnet; BANK_CHAIN_DEPLOYMENTS_DIR
 * and BANK_CHAIN_DATA_DIR move the saved deployments and the services' SQLite files.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { ChainConfigError, openChain, probeChainId, type ChainConnection } from "../src/chain/config.js";
import { deploymentsRoot, readDeployments } from "../src/chain/deployments.js";
import { DEVNET_CHAIN_ID, devnetEndpoint, type DevnetEndpoint } from "../src/chain/networks.js";
import { ServiceRunner } from "../src/chain/service.js";
import { BankChainError, messageOf } from "../src/errors.js";
import { SERVICES } from "../src/services.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const hardhatBin = path.join(root, "node_modules", "hardhat", "dist", "src", "cli.js");
const log = (line: string): void => void process.stderr.write(`[start] ${line}\n`);

/** Runs a Hardhat command to completion, failing with its output if it fails. */
async function hardhat(args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn(process.execPath, [hardhatBin, ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) {
    throw new BankChainError("START_STEP_FAILED", `hardhat ${args.join(" ")} failed (exit ${code}):\n${output.trim()}`);
  }
}

/** Whether a node already answers at the endpoint; refuses one with a foreign chain id. */
async function existingDevnet(endpoint: DevnetEndpoint): Promise<boolean> {
  try {
    const chainId = await probeChainId(endpoint.url, 1_000);
    if (chainId !== BigInt(DEVNET_CHAIN_ID)) {
      throw new ChainConfigError(
        "CONFIG_CHAIN_MISMATCH",
        `a node at ${endpoint.url} answers chain id ${chainId}, not the devnet's ${DEVNET_CHAIN_ID}; ` +
          "stop it or choose another BANK_CHAIN_RPC_PORT",
      );
    }
    return true;
  } catch (error) {
    if (error instanceof ChainConfigError && error.code === "CONFIG_RPC_UNREACHABLE") return false;
    throw error;
  }
}

/** Starts `hardhat node` in its own process group and waits until it answers. */
async function startDevnet(endpoint: DevnetEndpoint, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [hardhatBin, "node", "--hostname", endpoint.host, "--port", String(endpoint.port)],
    { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
  child.stderr?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new BankChainError("START_DEVNET_FAILED", `hardhat node exited (${child.exitCode}):\n${output.trim()}`);
    }
    try {
      await probeChainId(endpoint.url, 500);
      return child;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  stopGroup(child);
  throw new BankChainError("START_DEVNET_FAILED", `hardhat node did not answer at ${endpoint.url} within 60 s`);
}

function stopGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    // Already gone.
  }
}

async function main(): Promise<void> {
  let endpoint: DevnetEndpoint;
  try {
    endpoint = devnetEndpoint();
  } catch (error) {
    throw new ChainConfigError("CONFIG_INVALID_DEVNET", messageOf(error));
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BANK_CHAIN_RPC_HOST: endpoint.host,
    BANK_CHAIN_RPC_PORT: String(endpoint.port),
  };

  log("building contracts");
  await hardhat(["build", "--quiet"], env);

  let devnet: ChildProcess | undefined;
  if (await existingDevnet(endpoint)) {
    log(`reusing the devnet at ${endpoint.url}`);
  } else {
    // A new devnet has an empty state but the same genesis hash as any
    // earlier one, so deployments saved for an earlier devnet are void.
    rmSync(path.join(deploymentsRoot(env), "localhost"), { recursive: true, force: true });
    log(`starting a devnet at ${endpoint.url}`);
    devnet = await startDevnet(endpoint, env);
  }

  let chain: ChainConnection | undefined;
  let runner: ServiceRunner | undefined;
  let stopping = false;
  const shutdown = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log("shutting down");
    try {
      await runner?.stopAll();
    } catch (error) {
      log(messageOf(error));
      code = code || 1;
    }
    await chain?.close();
    if (devnet !== undefined) stopGroup(devnet);
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));
  devnet?.on("exit", (exitCode) => {
    if (!stopping) {
      log(`the devnet exited unexpectedly (${exitCode})`);
      void shutdown(1);
    }
  });

  try {
    log("deploying the suite");
    await hardhat(["deploy", "--network", "localhost", "--skip-prompts"], env);

    chain = await openChain({ network: "localhost", env });
    const deployments = readDeployments("localhost", deploymentsRoot(env));
    runner = new ServiceRunner(SERVICES, {
      chain,
      deployments,
      dataDir: path.join(path.resolve(env.BANK_CHAIN_DATA_DIR ?? path.join(root, ".bank-chain")), "localhost"),
      log,
    });
    const services = await runner.startAll();

    // One write, ready line last: whoever waits for it has the addresses too.
    const lines = ["deployments:"];
    for (const [name, record] of deployments.contracts) lines.push(`  ${name} ${record.address}`);
    if (services.length > 0) lines.push("services:");
    for (const service of services) lines.push(`  service ${service.name} ${service.url ?? "(no endpoint)"}`);
    lines.push(`bank-chain ready rpc=${endpoint.url} chainId=${chain.chainId}`);
    process.stdout.write(`${lines.join("\n")}\n`);
  } catch (error) {
    process.stderr.write(`bank-chain: ${messageOf(error)}\n`);
    await shutdown(1);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bank-chain: ${messageOf(error)}\n`);
  process.exit(1);
});
