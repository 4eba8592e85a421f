/**
 * Gas benchmark: receipt `gasUsed` of named operations on bank-chain's
 * contracts, beside reference ERC-20s compiled in the same run with the same
 * compiler settings. Writes `bench/results/gas.json` and prints a table.
 *
 *   npm run bench:gas
 */
import { network } from "hardhat";
import type { ContractTransactionResponse } from "ethers";

import { measureErc20, type BenchToken, type Measure, type TokenUnderTest } from "./lib/erc20.js";
import { gasTable, writeResult, type GasRow } from "./lib/results.js";

const { ethers } = await network.create("hardhat");
const signers = await ethers.getSigners();
const [deployer, ...holders] = signers;
if (deployer === undefined) throw new Error("no signers");

const rows: GasRow[] = [];

function measurer(contract: string): Measure {
  return async (operation: string, tx: Promise<ContractTransactionResponse>) => {
    const receipt = await (await tx).wait();
    if (receipt === null || receipt.status !== 1) throw new Error(`${contract}.${operation} failed`);
    rows.push({ contract, operation, gas: Number(receipt.gasUsed) });
  };
}

/** A reference token with open `mint(to, amount)` and `burn(amount)` wrappers. */
async function referenceToken(contract: "OpenZeppelinERC20" | "SoladyERC20"): Promise<TokenUnderTest> {
  const deployed = await ethers.deployContract(contract);
  await deployed.waitForDeployment();
  const token = deployed as unknown as BenchToken & {
    mint(to: string, amount: bigint): Promise<ContractTransactionResponse>;
    burn(amount: bigint): Promise<ContractTransactionResponse>;
  };
  return {
    contract,
    token,
    burner: deployer!,
    mint: (to, amount) => token.mint(to, amount),
    burn: (holder, amount) => (token.connect(holder) as typeof token).burn(amount),
  };
}

for (const contract of ["OpenZeppelinERC20", "SoladyERC20"] as const) {
  await measureErc20(await referenceToken(contract), holders, measurer(contract));
}

const file = writeResult("gas.json", rows);
console.log(gasTable(rows));
console.log(`\nwrote ${file}`);
