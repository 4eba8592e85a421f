/** Test kit for the remote networks: a fresh key per duty, and expecting a ChainConfigError. */
import { expect } from "chai";
import { Wallet } from "ethers";

import { ChainConfigError } from "../../src/chain/config.js";
import { DUTIES, keyVariable, REMOTE_NETWORKS } from "../../src/chain/networks.js";

/** `CONSORTIUM_<DUTY>_KEY` → a fresh random key, for every duty. */
export function freshDutyKeys(): Record<string, string> {
  return Object.fromEntries(
    DUTIES.map(({ name }) => [keyVariable(REMOTE_NETWORKS.consortium, name), Wallet.createRandom().privateKey]),
  );
}

/** The ChainConfigError `promise` rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<ChainConfigError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(ChainConfigError);
    return error as ChainConfigError;
  }
  throw new Error("expected a ChainConfigError");
}
