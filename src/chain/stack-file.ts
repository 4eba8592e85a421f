/**
 * What a running `npm start` stack is, in one file a tool can read: the
 * chains it runs (RPC URL, chain id, where the deployments are) and every
 * service's URL. `npm start` writes `<data dir>/<network>/stack.json` when it
 * is ready (written whole, then renamed into place) and deletes it when it
 * stops, so a file that is there names a stack that is up (or one that was
 * killed). `bank-chain demo` and the console's tests find the stack this way,
 * whatever ports it was given.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

import { z } from "zod";

import { BankChainError, messageOf } from "../errors.js";
import { serviceDataDir } from "./data-dir.js";

/** The stack file is missing, unreadable or not a stack file. */
export class StackFileError extends BankChainError {}

const chainSchema = z
  .object({
    /** Hardhat network name (`localhost`, `localhostB`, or a configured one). */
    network: z.string().min(1),
    rpc: z.string().url(),
    chainId: z.number().int().positive(),
    /** The folder of this chain's hardhat-deploy records. */
    deployments: z.string().min(1),
  })
  .strict();

const stackSchema = z
  .object({
    version: z.literal(1),
    /** The chains in order: the first is the one the services run on, the rest its interop peers. */
    chains: z.array(chainSchema).min(1),
    /** Service name (as `npm start` prints it) → URL (`http://…` or `tcp://…`). */
    services: z.record(z.string().min(1), z.string().min(1)),
    /** The start script's process id. */
    pid: z.number().int().positive(),
    startedAt: z.string().datetime(),
  })
  .strict();

export type StackChain = z.infer<typeof chainSchema>;
export type StackFile = z.infer<typeof stackSchema>;

/** Where the stack file of `network` is: `<data dir>/<network>/stack.json`. */
export function stackFilePath(network = "localhost", env: Readonly<Record<string, string | undefined>> = process.env) {
  return path.join(serviceDataDir(network, env), "stack.json");
}

/** Writes the stack file atomically (a whole file or none). */
export function writeStackFile(file: string, stack: StackFile): void {
  const parsed = stackSchema.parse(stack);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(parsed, null, 2)}\n`, { mode: 0o644 });
  renameSync(temporary, file);
}

/** Deletes the stack file, if any. */
export function removeStackFile(file: string): void {
  rmSync(file, { force: true });
}

/** Reads and checks a stack file; a clear `StackFileError` when there is none or it is not one. */
export function readStackFile(file: string): StackFile {
  if (!existsSync(file)) {
    throw new StackFileError(
      "STACK_FILE_MISSING",
      `no running stack: ${file} does not exist (start one with \`npm start\`, or name its file with --stack)`,
      { file },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new StackFileError("STACK_FILE_INVALID", `${file} is not JSON: ${messageOf(error)}`, { file });
  }
  const parsed = stackSchema.safeParse(json);
  if (!parsed.success) {
    throw new StackFileError("STACK_FILE_INVALID", `${file} is not a stack file: ${parsed.error.message}`, { file });
  }
  return parsed.data;
}

/** The URL of service `name` in `stack`, or a `StackFileError` naming the services it has. */
export function stackService(stack: StackFile, name: string): string {
  const url = stack.services[name];
  if (url === undefined) {
    throw new StackFileError(
      "STACK_SERVICE_MISSING",
      `the stack runs no service "${name}" (it runs: ${Object.keys(stack.services).join(", ")})`,
      { service: name },
    );
  }
  return url;
}
