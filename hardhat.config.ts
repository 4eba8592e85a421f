import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";
import type { NetworkUserConfig } from "hardhat/types/config";
import hardhatDeploy from "hardhat-deploy";

import bankChain from "./src/chain/hardhat-plugin/index.js";

import {
  DEVNET_ACCOUNT_COUNT,
  devnetEndpoint,
  devnetPeerEndpoint,
  DEVNET_CHAIN_ID,
  DEVNET_PEER_CHAIN_ID,
  keyVariables,
  REMOTE_NETWORKS,
} from "./src/chain/networks.js";

const require = createRequire(import.meta.url);
const root = path.dirname(fileURLToPath(import.meta.url));

/** Solidity compiler: the npm `solc` package of this exact version, never a download. */
const SOLC_VERSION = "0.8.30";

const remoteNetworks: Record<string, NetworkUserConfig> = Object.fromEntries(
  Object.entries(REMOTE_NETWORKS).map(([name, definition]) => [
    name,
    {
      type: "http",
      chainType: "l1",
      chainId: definition.chainId,
      url: configVariable(definition.urlVariable),
      // One key per duty, in DUTIES order: rocketh's named accounts pick them by index.
      accounts: keyVariables(definition).map((variable) => configVariable(variable)),
      ...("gas" in definition ? { gasPrice: definition.gas.gasPrice } : {}),
    } satisfies NetworkUserConfig,
  ]),
);

export default defineConfig({
  // bank-chain last: it checks the remote networks' variables after the keystore and the environment answer.
  plugins: [hardhatToolboxMochaEthers, hardhatDeploy, bankChain],
  solidity: {
    version: SOLC_VERSION,
    // Compiled from node_modules so that deploy scripts and tests have their artifacts.
    npmFilesToBuild: [
      "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol",
      // The devnet's price feed (deploy/011_commerce.ts): Chainlink's own mock of an aggregator.
      "@chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol",
    ],
    path: require.resolve("solc/soljson.js"),
    settings: {
      // 10,000 runs: a bank token's transfer, mint and settlement paths run
      // millions of times over the contracts' lives while deployment happens
      // once per currency, so runtime gas matters far more than code size.
      // Every deployable contract still fits EIP-170's 24 KiB at this setting.
      optimizer: { enabled: true, runs: 10_000 },
      evmVersion: "prague",
    },
  },
  paths: {
    sources: "contracts",
    tests: { solidity: "contracts/test", mocha: "test" },
  },
  test: {
    solidity: {
      // The certificate tests deploy EAS's SchemaRegistry and EAS from the bytecode the npm package publishes
      // (their sources pin solc 0.8.29, which cannot be downloaded here): they read these two artifacts.
      fsPermissions: {
        readFile: [
          "node_modules/@ethereum-attestation-service/eas-contracts/artifacts/contracts/SchemaRegistry.sol/SchemaRegistry.json",
          "node_modules/@ethereum-attestation-service/eas-contracts/artifacts/contracts/EAS.sol/EAS.json",
        ],
      },
      fuzz: { runs: 256 },
      // `npm run test:deep` (BANK_CHAIN_TEST_PROFILE=deep): 1,000 runs of 100 calls per invariant instead of
      // CI's 64 of 32. Run it before a release and after any change to a contract's state machine.
      invariant:
        process.env.BANK_CHAIN_TEST_PROFILE === "deep"
          ? { runs: 1_000, depth: 100, failOnRevert: false }
          : { runs: 64, depth: 32, failOnRevert: false },
    },
    mocha: { timeout: 120_000 },
  },
  typechain: {
    // An absolute path: a relative one lands in `types/`.
    outDir: path.join(root, "typechain-types"),
  },
  generateTypedArtifacts: {
    destinations: [{ mode: "typescript", folder: "./generated" }],
  },
  networks: {
    hardhat: {
      type: "edr-simulated",
      chainType: "l1",
      chainId: DEVNET_CHAIN_ID,
      // Every duty has its own account (src/chain/networks.ts), beyond Hardhat's default 20.
      accounts: { count: DEVNET_ACCOUNT_COUNT },
    },
    localhost: {
      type: "http",
      chainType: "l1",
      url: devnetEndpoint().url,
      chainId: DEVNET_CHAIN_ID,
    },
    // The devnet's second chain, for the interop lane (`npm start` runs both).
    localhostB: {
      type: "http",
      chainType: "l1",
      url: devnetPeerEndpoint().url,
      chainId: DEVNET_PEER_CHAIN_ID,
    },
    ...remoteNetworks,
  },
});
