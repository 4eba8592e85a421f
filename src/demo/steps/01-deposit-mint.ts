/**
 * Step 1: a customer pays 1,000.00 into bank A and bank A mints the tokens to
 * the buyer's wallet (`TrustAccountBankA.mintForDeposit`, bank A's key): the
 * token's `Mint`, the buyer's balance and bank A's outstanding issuance in
 * the `ReserveLedger` all move by the amount.
 */
import { getAddress, id, type ContractTransactionResponse } from "ethers";

import { ACCOUNTS, money, type DemoStep } from "../context.js";

const AMOUNT = 100_000n;

/** Step 1: deposit and mint at bank A. */
export const depositMint: DemoStep = {
  name: "deposit-mint",
  title: "deposit and mint at bank A",
  async run(context, record) {
    const chain = context.home;
    const buyer = context.address(ACCOUNTS.buyer);
    const trustAddress = chain.deployments.get("TrustAccountBankA").address;
    const token = chain.contract("BankToken");
    const ledger = chain.contract("ReserveLedger");
    const [balanceBefore, outstandingBefore, mintableBefore] = (await Promise.all([
      token.getFunction("balanceOf")(buyer),
      ledger.getFunction("outstandingOf")(trustAddress),
      ledger.getFunction("mintable")(trustAddress),
    ])) as [bigint, bigint, bigint];
    // Bank A's key is also its agent's: sent alone, one transaction at a time (the agent reads the pending nonce).
    const trust = chain.contract("TrustAccountBankA", context.wallet(ACCOUNTS.bankA));
    const fiatRef = id(`bank-chain/demo/${context.tag}/deposit`);
    const sent = (await trust.getFunction("mintForDeposit")(buyer, AMOUNT, fiatRef)) as ContractTransactionResponse;
    const receipt = await sent.wait();
    record.tx(chain, receipt?.hash, `TrustAccountBankA.mintForDeposit ${money(AMOUNT)} to the buyer`);
    record.note(`fiat reference ${fiatRef}; buyer ${buyer}`);
    const tokenAddress = getAddress(String(token.target));
    const mints = (receipt?.logs ?? [])
      .filter((log) => getAddress(log.address) === tokenAddress)
      .map((log) => token.interface.parseLog(log))
      .filter((parsed) => parsed?.name === "Mint");
    record.that(
      "BankToken Mint event to the buyer for the amount",
      mints.length === 1 && mints[0]?.args.to === buyer && mints[0]?.args.amount === AMOUNT,
      mints.map((mint) => `${String(mint?.args.to)} ${String(mint?.args.amount)}`).join("; "),
    );
    const [balanceAfter, outstandingAfter, mintableAfter] = (await Promise.all([
      token.getFunction("balanceOf")(buyer),
      ledger.getFunction("outstandingOf")(trustAddress),
      ledger.getFunction("mintable")(trustAddress),
    ])) as [bigint, bigint, bigint];
    record.equal("buyer's balance +1,000.00", balanceAfter - balanceBefore, AMOUNT);
    record.equal("bank A's outstanding issuance +1,000.00", outstandingAfter - outstandingBefore, AMOUNT);
    record.that(
      "bank A's mint headroom went down by the amount (or was unlimited)",
      mintableBefore - mintableAfter === AMOUNT || mintableAfter === mintableBefore,
      `${mintableBefore} → ${mintableAfter}`,
    );
  },
};
