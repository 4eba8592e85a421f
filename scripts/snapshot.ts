/**
 * Rewrites `snapshots/contracts.json` with the gas and sizes measured now,
 * keeping the ceilings and budgets (set by hand). Review the diff before
 * committing it: `npm test` fails while the snapshot and the code disagree.
 *
 *   npm run snapshot
 */
import { existsSync } from "node:fs";

import hre, { network } from "hardhat";

import { measure, readSnapshot, snapshotProblems, SNAPSHOT_FILE, writeSnapshot } from "../bench/lib/snapshot.js";

const previous = existsSync(SNAPSHOT_FILE) ? readSnapshot() : undefined;
const measured = await measure(await network.create("hardhat"), hre.artifacts);
const snapshot = writeSnapshot(previous, measured);
console.log(`wrote ${SNAPSHOT_FILE}`);
const problems = snapshotProblems(snapshot, measured);
for (const problem of problems) console.log(`  ${problem}`);
if (problems.length > 0) process.exitCode = 1;
