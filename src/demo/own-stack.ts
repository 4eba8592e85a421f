/**
 * `bank-chain demo --start`: a stack of the demo's own. `scripts/start.ts`
 * runs with every service port picked by the OS, its devnet on two free
 * ports, and its deployments and data in a temporary folder; the demo waits
 * for the ready line, reads the stack file, and stops the stack (SIGINT, as
 * a terminal's Ctrl-C) when it is done. The folder is removed after.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { stackFilePath } from "../chain/stack-file.js";
import { DemoError } from "./context.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const READY = /bank-chain ready rpc=\S+ chainId=\d+\n/;
const READY_MS = 600_000;
const STOP_MS = 60_000;

/** Every service's port setting: 0, the OS picks. */
const PORT_SETTINGS = [
  "BANK_A_PORT",
  "BANK_B_PORT",
  "BILL_MONITOR_PORT",
  "CARD_GATEWAY_PORT",
  "CARD_GATEWAY_API_PORT",
  "INTEROP_API_PORT",
  "INTEROP_ATTESTER_1_PORT",
  "INTEROP_ATTESTER_2_PORT",
  "INTEROP_ATTESTER_3_PORT",
  "INTEROP_RELAYER_PORT",
  "CERTIFICATES_PORT",
  "REWARDS_PORT",
  "KEYS_HOLDER1_PORT",
  "KEYS_HOLDER2_PORT",
  "KEYS_HOLDER3_PORT",
  "RETAILER_PORT",
  "CHECKOUT_PORT",
  "OFFLINE_MERCHANT_PORT",
  "CONSOLE_PORT",
];

/** A running stack the demo started. */
export interface OwnStack {
  /** Its stack file. */
  readonly file: string;
  /** Stops it and removes its folder. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `npm start`'s script in a temporary folder and waits until it is ready; `progress` gets its lines. */
export async function startOwnStack(progress: (line: string) => void): Promise<OwnStack> {
  const dir = mkdtempSync(path.join(tmpdir(), "bank-chain-demo-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...Object.fromEntries(PORT_SETTINGS.map((name) => [name, "0"])),
    BANK_CHAIN_RPC_PORT: String(await freePort()),
    BANK_CHAIN_PEER_RPC_PORT: String(await freePort()),
    BANK_CHAIN_DEPLOYMENTS_DIR: path.join(dir, "deployments"),
    BANK_CHAIN_DATA_DIR: path.join(dir, "data"),
  };
  delete env.BANK_CHAIN_RPC_URL;
  delete env.BANK_CHAIN_NETWORK;
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", "--import", "tsx", "scripts/start.ts"],
    { cwd: ROOT, env },
  );
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_MS);
      await exited;
      clearTimeout(timer);
    }
    process.removeListener("exit", killOnExit);
    rmSync(dir, { recursive: true, force: true });
  };
  let stdout = "";
  let stderrTail = "";
  let ready = false;
  // The start script's own lines until it is ready; after that its services' logs are not the demo's story.
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderrTail = (stderrTail + text).slice(-2_000);
    if (!ready) for (const line of text.split("\n")) if (line.startsWith("[start]")) progress(line);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new DemoError("DEMO_STACK_TIMEOUT", `the demo's stack was not ready within ${READY_MS / 1000} s`)),
        READY_MS,
      );
      child.stdout.setEncoding("utf8").on("data", (text: string) => {
        if (ready) return;
        stdout += text;
        if (READY.test(stdout)) {
          ready = true;
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(
          new DemoError(
            "DEMO_STACK_FAILED",
            `the demo's stack stopped before it was ready (exit code ${code}): ${stderrTail.trim().split("\n").at(-1) ?? ""}`,
          ),
        );
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { file: stackFilePath("localhost", env), stop };
}
