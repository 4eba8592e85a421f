import { HardhatPluginError } from "hardhat/plugins";
import type { ResolvedConfigurationVariable } from "hardhat/types/config";
import type { NetworkHooks } from "hardhat/types/hooks";

import { DUTIES, isRemoteNetwork, keyVariable, REMOTE_NETWORKS } from "../networks.js";
import { publishedKeyIndex } from "../published-keys.js";
import { PLUGIN_ID } from "./index.js";

/** The order of secp256k1's group: a private key is an integer from 1 to n − 1. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** Whether `value` is a usable secp256k1 private key (32 bytes, 0 < key < n). */
export function isPrivateKey(value: string): boolean {
  const hex = value.startsWith("0x") ? value : `0x${value}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) return false;
  const key = BigInt(hex);
  return key > 0n && key < SECP256K1_N;
}

/** The raw value of a configuration variable (environment first, then the keystore); undefined when unset. */
async function rawValue(variable: ResolvedConfigurationVariable | string): Promise<string | undefined> {
  if (typeof variable === "string") return variable;
  try {
    return await variable.get();
  } catch (error) {
    // Hardhat's HHE7: neither the environment nor the keystore has it.
    if (error instanceof Error && /Configuration Variable "[^"]+" not found/.test(error.message)) return undefined;
    throw error;
  }
}

/** What is wrong with a value, or undefined when it is usable. */
function problemOf(value: string | undefined, kind: "url" | "key"): string | undefined {
  if (value === undefined) return "not set";
  const trimmed = value.trim();
  if (trimmed === "") return "empty";
  if (kind === "url") return /^https?:\/\/\S+$/.test(trimmed) ? undefined : "not an http(s) URL";
  if (!isPrivateKey(trimmed)) return "not a secp256k1 private key (64 hex digits)";
  const published = publishedKeyIndex(trimmed);
  return published === undefined
    ? undefined
    : `the public test mnemonic's account #${published}, which anyone can sign with`;
}

export default async (): Promise<Partial<NetworkHooks>> => ({
  async newConnection(context, next) {
    const connection = await next(context);
    const name = connection.networkName;
    if (!isRemoteNetwork(name)) return connection;
    const definition = REMOTE_NETWORKS[name];
    const config = connection.networkConfig;
    const problems: string[] = [];
    if (config.type === "http") {
      const url = problemOf(await rawValue(config.url), "url");
      if (url !== undefined) problems.push(`${definition.urlVariable} is ${url} (the node's JSON-RPC URL)`);
      const accounts = Array.isArray(config.accounts) ? config.accounts : [];
      for (const [position, { name: duty }] of DUTIES.entries()) {
        const account = accounts[position];
        const problem = problemOf(account === undefined ? undefined : await rawValue(account), "key");
        if (problem !== undefined)
          problems.push(`${keyVariable(definition, duty)} is ${problem} (the ${duty} duty's key)`);
      }
    }
    if (problems.length > 0) {
      await connection.close();
      throw new HardhatPluginError(
        PLUGIN_ID,
        `network ${name} needs its URL and one key per duty: ${problems.join("; ")}; ` +
          "store each with `npx hardhat keystore set <NAME>` or export it",
      );
    }
    return connection;
  },
});
