/**
 * Runs one key share holder on its own, for the tests that kill it: what `bank-chain keys holder` runs, plus a
 * fault-injection point.
 *
 *   tsx scripts/key-holder.ts <index> [--rpc <url>] [--registry <address>]
 *
 * The data folder comes from `BANK_CHAIN_DATA_DIR`, the port from `KEYS_HOLDER<index>_PORT` (0 for any). Prints
 * `keys-holder ready index=<n> url=<url> address=<address>` once it serves.
 *
 * Fault injection: `KEYS_HOLDER_CRASH_AT=<point>` (`fetch:opened`, `deposit:opened`, `status:opened`) kills the
 * process with SIGKILL the first time a frame asking for that operation has opened, before the holder answers: a
 * transfer cut in the middle.
 */
import { messageOf } from "../src/errors.js";
import { runHolderProcess } from "../src/keys/service.js";

const [index, ...rest] = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = rest.indexOf(name);
  return at < 0 ? undefined : rest[at + 1];
};
const crashAt = process.env.KEYS_HOLDER_CRASH_AT?.trim() || undefined;
const out = (line: string): void => void process.stdout.write(`${line}\n`);

runHolderProcess({
  index: Number(index),
  rpc: flag("--rpc"),
  ...(flag("--registry") === undefined ? {} : { registry: flag("--registry")! }),
  onStep: (point) => {
    if (point !== crashAt) return;
    out(`crashing at ${point}`);
    process.kill(process.pid, "SIGKILL");
  },
  ready: out,
  log: out,
}).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`key-holder: ${messageOf(error)}\n`);
    process.exit(1);
  },
);
