/**
 * Gas benchmark: receipt `gasUsed` of named operations on bank-chain's
 * contracts, beside reference ERC-20s compiled in the same run with the same
 * compiler settings (the scenario: `bench/lib/gas-scenario.ts`). Writes
 * `bench/results/gas.json` and prints a table.
 *
 *   npm run bench:gas
 */
import { network } from "hardhat";

import { measureGas } from "./lib/gas-scenario.js";
import { gasTable, writeResult } from "./lib/results.js";

const connection = await network.create("hardhat");
const rows = await measureGas(connection);
const file = writeResult("gas.json", rows);
console.log(gasTable(rows));
console.log(`\nwrote ${file}`);
