/**
 * `bank-chain`: the one command-line entry of the project. Each part adds a
 * subcommand group; every command takes `--network`/`--rpc` to choose the
 * chain and `--json` for machine-readable output.
 *
 * Start-up stays light: this module and the part CLIs it imports load no
 * generated code (TypeChain, artifacts); a command imports what it needs when
 * it runs, so `--help`, `--version` and `iso8583` work before any build, and a
 * command that needs the build says so in one line.
 */
import { readFileSync } from "node:fs";

import { Command, CommanderError, Option } from "commander";
import type { InterfaceAbi } from "ethers";

import { addBillsCommands } from "./bills/cli.js";
import { addIso8583Commands } from "./iso8583/cli.js";
import { addOfflineCommands } from "./offline/cli.js";
import { openChain, type ChainConnection, type ChainSelection } from "./chain/config.js";
import { deploymentsOf, type Deployments } from "./chain/deployments.js";
import { NETWORK_NAMES } from "./chain/networks.js";
import { contractRevertError, errorInterface } from "./chain/reverts.js";
import { BankChainError, messageOf } from "./errors.js";

/** A command needs the contracts' build (`typechain-types/`, `generated/`, `artifacts/`), which is missing. */
export class BuildMissingError extends BankChainError {}

export interface GlobalOptions extends ChainSelection {
  readonly json: boolean;
}

/** Writes a command's result as JSON or as `key: value` lines. */
export function output(options: GlobalOptions, value: Record<string, unknown>, text: () => string): void {
  process.stdout.write(options.json ? `${JSON.stringify({ ok: true, ...value }, jsonReplacer)}\n` : `${text()}\n`);
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/**
 * Opens the chain the global options name and its deployments (for `--rpc`,
 * the deployments made on the chain id the node answers), runs `fn`, closes
 * the chain. A revert out of `fn` becomes a `ContractRevertError` naming the
 * custom error and its arguments, decoded against the ABIs of every deployed
 * contract and `abis`.
 */
export async function withChain<T>(
  options: GlobalOptions,
  fn: (chain: ChainConnection, deployments: Deployments) => Promise<T>,
  abis: readonly InterfaceAbi[] = [],
): Promise<T> {
  const chain = await openChain({ rpc: options.rpc, network: options.network });
  try {
    const deployments = deploymentsOf(chain);
    try {
      return await fn(chain, deployments);
    } catch (error) {
      const known = [...[...deployments.contracts.values()].map((record) => record.abi), ...abis];
      throw contractRevertError(error, errorInterface(known)) ?? error;
    }
  } finally {
    await chain.close();
  }
}

/** The package's version, from package.json. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: unknown };
  return typeof pkg.version === "string" ? pkg.version : "unknown";
}

export function buildProgram(): Command {
  const program = new Command("bank-chain")
    .description("Bank money on a shared EVM ledger: tokens, reserves, settlement and payment services")
    .version(version(), "-V, --version", "print the version")
    .addOption(new Option("-n, --network <name>", `network to use (${NETWORK_NAMES.join(", ")}; default: localhost)`))
    .addOption(new Option("--rpc <url>", "JSON-RPC URL to use instead of a named network").conflicts("network"))
    .option("--json", "print machine-readable JSON", false)
    .showHelpAfterError()
    .exitOverride();

  program
    .command("status")
    .description("print the network, chain id, block number and the deployed contracts")
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      await withChain(options, async (chain, deployments) => {
        const blockNumber = await chain.provider.getBlockNumber();
        const contracts = Object.fromEntries(
          [...deployments.contracts].map(([name, record]) => [name, record.address]),
        );
        output(
          options,
          {
            network: chain.network,
            url: chain.url ?? null,
            chainId: chain.chainId,
            blockNumber,
            deployments: deployments.network,
            contracts,
          },
          () =>
            [
              `network:   ${chain.network}${chain.url === undefined ? " (in-process)" : ` ${chain.url}`}`,
              `chainId:   ${chain.chainId}`,
              `block:     ${blockNumber}`,
              `contracts: ${deployments.contracts.size === 0 ? "none deployed" : `(deployments/${deployments.network})`}`,
              ...Object.entries(contracts).map(([name, address]) => `  ${name.padEnd(28)} ${address}`),
            ].join("\n"),
        );
      });
    });

  addBillsCommands(program);
  addIso8583Commands(program);
  addOfflineCommands(program);
  return program;
}

/** Whether `error` is a failed import of generated code (a checkout where nothing was built yet). */
function isMissingBuild(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as { code?: unknown }).code === "ERR_MODULE_NOT_FOUND" &&
    /typechain-types|[/\\]generated[/\\]|[/\\]artifacts[/\\]/.test(messageOf(error))
  );
}

/** Runs the CLI; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  program.configureOutput({ writeErr: (text) => process.stderr.write(text) });
  const wantsJson = argv.includes("--json");
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (caught) {
    if (caught instanceof CommanderError) {
      // Help and version exit through here with code 0; usage errors were already printed.
      return caught.exitCode;
    }
    const error = isMissingBuild(caught)
      ? new BuildMissingError(
          "BUILD_MISSING",
          'this command needs the contracts\' build, which is missing: run "npm run build" first',
          {},
          { cause: caught },
        )
      : caught;
    if (wantsJson) {
      const body = error instanceof BankChainError ? error.toJSON() : { name: "Error", message: messageOf(error) };
      process.stdout.write(`${JSON.stringify({ ok: false, error: body }, jsonReplacer)}\n`);
    } else {
      process.stderr.write(`bank-chain: ${messageOf(error)}\n`);
      if (process.env.BANK_CHAIN_DEBUG === "1" && caught instanceof Error) process.stderr.write(`${caught.stack}\n`);
    }
    return 1;
  }
}
