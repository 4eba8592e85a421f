/**
 * Where the off-chain services keep their SQLite files: one folder per
 * network, `<BANK_CHAIN_DATA_DIR or <repository>/.bank-chain>/<network>`.
 * `npm start` (scripts/start.ts) runs its services there, and keeps the
 * devnet's state in the `localhost` folder; a command that works on a
 * service's file (`bank-chain cards …`) opens the file the service uses
 * through this same function.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: two folders above this file (src/chain/). */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * The services' data folder for `network`. `BANK_CHAIN_DATA_DIR`, when set,
 * replaces `<repository>/.bank-chain` (a relative value is taken from the
 * current folder).
 */
export function serviceDataDir(
  network: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  return path.join(path.resolve(env.BANK_CHAIN_DATA_DIR ?? path.join(ROOT, ".bank-chain")), network);
}
