/**
 * `bank-chain`: the one command-line entry of the project. Each part adds a
 * subcommand group; every command takes `--network`/`--rpc` to choose the
 * chain and `--json` for machine-readable output.
 */
import { Command, CommanderError, Option } from "commander";

import { addBillsCommands } from "./bills/cli.js";
import { addIso8583Commands } from "./iso8583/cli.js";
import { addOfflineCommands } from "./offline/cli.js";
import { openChain, type ChainConnection, type ChainSelection } from "./chain/config.js";
import { readDeployments } from "./chain/deployments.js";
import { BankChainError, messageOf } from "./errors.js";
import { NETWORK_NAMES } from "./chain/networks.js";

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

/** Opens the chain the global options name, closes it after `fn`. */
export async function withChain<T>(options: GlobalOptions, fn: (chain: ChainConnection) => Promise<T>): Promise<T> {
  const chain = await openChain({ rpc: options.rpc, network: options.network });
  try {
    return await fn(chain);
  } finally {
    await chain.close();
  }
}

export function buildProgram(): Command {
  const program = new Command("bank-chain")
    .description("Bank money on a shared EVM ledger: tokens, reserves, settlement and payment services")
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
      await withChain(options, async (chain) => {
        const blockNumber = await chain.provider.getBlockNumber();
        const deployments = readDeployments(chain.network);
        const contracts = Object.fromEntries(
          [...deployments.contracts].map(([name, record]) => [name, record.address]),
        );
        output(
          options,
          { network: chain.network, url: chain.url ?? null, chainId: chain.chainId, blockNumber, contracts },
          () =>
            [
              `network:   ${chain.network}${chain.url === undefined ? " (in-process)" : ` ${chain.url}`}`,
              `chainId:   ${chain.chainId}`,
              `block:     ${blockNumber}`,
              `contracts: ${deployments.contracts.size === 0 ? "none deployed" : ""}`,
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

/** Runs the CLI; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  program.configureOutput({ writeErr: (text) => process.stderr.write(text) });
  const wantsJson = argv.includes("--json");
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit through here with code 0; usage errors were already printed.
      return error.exitCode;
    }
    if (wantsJson) {
      const body = error instanceof BankChainError ? error.toJSON() : { name: "Error", message: messageOf(error) };
      process.stdout.write(`${JSON.stringify({ ok: false, error: body })}\n`);
    } else {
      process.stderr.write(`bank-chain: ${messageOf(error)}\n`);
      if (process.env.BANK_CHAIN_DEBUG === "1" && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    }
    return 1;
  }
}
