/**
 * EAS's `SchemaRegistry` and `EAS` as the npm package `@ethereum-attestation-service/eas-contracts` publishes them
 * (`artifacts/contracts/{SchemaRegistry,EAS}.sol/*.json`): their sources pin solc 0.8.29, which cannot be
 * downloaded here, so the deploy takes the published bytecode unchanged (docs/certificates.md).
 */
import { createRequire } from "node:module";

import type { Abi, Artifact } from "rocketh/types";

const require = createRequire(import.meta.url);

/** The two contracts of EAS the deploy takes from the package. */
export type EasContractName = "SchemaRegistry" | "EAS";

interface PublishedArtifact {
  readonly contractName?: unknown;
  readonly sourceName?: unknown;
  readonly abi?: unknown;
  readonly bytecode?: unknown;
  readonly deployedBytecode?: unknown;
  readonly linkReferences?: unknown;
}

const HEX = /^0x(?:[0-9a-fA-F]{2})+$/;

/**
 * The package's artifact of `name` as rocketh deploys it. It has no metadata (the package publishes none), and no
 * library links: an artifact that needs one, or whose bytecode is not hex, is refused rather than deployed broken.
 */
export function easArtifact(name: EasContractName): Artifact<Abi> {
  const file = `@ethereum-attestation-service/eas-contracts/artifacts/contracts/${name}.sol/${name}.json`;
  const published = require(file) as PublishedArtifact;
  const { abi, bytecode, deployedBytecode, linkReferences } = published;
  if (
    published.contractName !== name ||
    !Array.isArray(abi) ||
    typeof bytecode !== "string" ||
    !HEX.test(bytecode) ||
    typeof deployedBytecode !== "string" ||
    !HEX.test(deployedBytecode) ||
    (linkReferences !== undefined && Object.keys(linkReferences as object).length > 0)
  ) {
    throw new Error(`${file} is not a deployable artifact of ${name} (abi, hex bytecode, no library links)`);
  }
  return {
    contractName: name,
    sourceName: typeof published.sourceName === "string" ? published.sourceName : `contracts/${name}.sol`,
    abi: abi as Abi,
    bytecode: bytecode as `0x${string}`,
    deployedBytecode: deployedBytecode as `0x${string}`,
    metadata: "",
  };
}
