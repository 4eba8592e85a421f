/**
 * Gas ceilings and size budgets: the gas scenario (`bench/lib/gas-scenario.ts`,
 * the RewardDistributor's part in `bench/lib/rewards-gas.ts`) on a fresh
 * in-process network, one cross-chain transfer on two more
 * (`bench/lib/interop-gas.ts`), and the runtime size of every deployed
 * contract, against `snapshots/contracts.json`.
 */
import { expect } from "chai";
import hre, { network } from "hardhat";

import { DEPLOYED_CONTRACTS, GAS_NOISE, measure, readSnapshot, snapshotProblems } from "../../bench/lib/snapshot.js";

describe("contracts: gas ceilings and size budgets", function () {
  it("every operation is within its ceiling, every contract within its budget, and the snapshot is current", async function () {
    const snapshot = readSnapshot();
    const measured = await measure(await network.create("hardhat"), hre.artifacts);
    expect(snapshotProblems(snapshot, measured)).to.deep.equal([]);
    // The snapshot covers what matters: BankToken's hot paths and every deployed contract.
    for (const operation of ["transfer", "transferFrom", "permit", "transferWithAuthorization", "mint"]) {
      expect(snapshot.gas[`BankToken ${operation}`]?.ceiling, operation).to.be.a("number");
    }
    // And one cross-chain transfer (burn on A, mint on B with 2-of-3 attestations), both transactions together.
    expect(snapshot.gas["Interop full transfer, both transactions"]?.ceiling).to.be.a("number");
    // And content rewards: a root signed by 2 of the 3 oracles, and a producer's claim relayed by anyone.
    for (const operation of [
      "proposeRoot 2-of-3, first root",
      "claimFor, first claim of a producer (1000 in the tree)",
    ]) {
      expect(snapshot.gas[`RewardDistributor ${operation}`]?.ceiling, operation).to.be.a("number");
    }
    // And secret-shared keys: registering a 2-of-3 wallet, and a refresh of its shares.
    for (const operation of ["createWallet, 2 of 3 holders", "rotate, a refresh of 3 holders"]) {
      expect(snapshot.gas[`ShareRegistry ${operation}`]?.ceiling, operation).to.be.a("number");
    }
    expect(Object.keys(snapshot.size).sort()).to.deep.equal([...DEPLOYED_CONTRACTS].sort());
  });

  it("finds a figure over its ceiling or budget, and a snapshot out of date", function () {
    const snapshot = {
      gas: { "BankToken transfer": { gas: 40_000, ceiling: 41_000 } },
      size: { BankToken: { bytes: 20_000, budget: 22_528 } },
    };
    const problems = snapshotProblems(snapshot, {
      gas: new Map([
        ["BankToken transfer", 41_001],
        ["BankToken burn", 50_000],
      ]),
      size: new Map([["BankToken", 22_529]]),
    });
    expect(problems).to.deep.equal([
      "BankToken transfer: 41001 gas is over its ceiling of 41000",
      "BankToken transfer: 41001 gas, the snapshot says 40000 (review, then npm run snapshot)",
      "BankToken burn: 50000 gas, not in the snapshot (run npm run snapshot)",
      "BankToken: 22529 bytes is over its budget of 22528",
      "BankToken: 22529 bytes, the snapshot says 20000 (review, then npm run snapshot)",
    ]);
    // Within the noise of signatures and timestamps, the snapshot is current.
    expect(
      snapshotProblems(snapshot, {
        gas: new Map([["BankToken transfer", 40_000 + GAS_NOISE]]),
        size: new Map([["BankToken", 20_000]]),
      }),
    ).to.deep.equal([]);
  });
});
