/**
 * bank-chain's Hardhat plugin: when a connection to a remote network of
 * `REMOTE_NETWORKS` (src/chain/networks.ts) opens, every one of its
 * configuration variables (the URL and one key per duty, from the environment
 * or the encrypted keystore) is read and checked before anything is sent, so
 * that a missing, empty or malformed one, or a key of the public test
 * mnemonic (src/chain/published-keys.ts), stops a deploy in one line naming
 * each variable and its duty: never a stack trace from deep inside the signer
 * and never another key in its place. It also keeps solc's metadata to source
 * hashes (config.ts), so a clean build fits the WebAssembly compiler.
 */
import type { HardhatPlugin } from "hardhat/types/plugins";

export const PLUGIN_ID = "bank-chain";

const plugin: HardhatPlugin = {
  id: PLUGIN_ID,
  hookHandlers: {
    config: () => import("./config.js"),
    network: () => import("./network.js"),
  },
};

export default plugin;
