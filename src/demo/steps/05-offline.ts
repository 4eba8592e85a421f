/**
 * Step 5: an offline purchase, synced later. The merchant (account 15) opens
 * a session and prints an offer; the buyer (account 19) answers it with a
 * secured voucher on its `OfflineVault` lane, and neither touches the chain.
 * The merchant's store keeps the voucher pending until `bank-chain offline
 * sync` redeems it (`OfflineVault.redeemBatch`): then the vault shows it
 * settled, the merchant holds 12.50 more and the buyer's locked balance is
 * 12.50 less. Both sides keep their files in the stack's data folder
 * (`demo/`), so the buyer's lane goes on across runs.
 */
import path from "node:path";

import { ACCOUNTS, DemoError, money, type DemoStep } from "../context.js";

const AMOUNT = 1_250n;
/** When the buyer's locked balance is below this, it locks `TOP_UP` more first (many runs on one stack). */
const LOW_WATER = 10n * AMOUNT;
const TOP_UP = 10_000n;

/** Step 5: an offline purchase, synced later. */
export const offline: DemoStep = {
  name: "offline",
  title: "offline purchase, synced later",
  async run(context, record) {
    const chain = context.home;
    const buyer = context.address(ACCOUNTS.buyer);
    const merchant = context.address(ACCOUNTS.merchant);
    const token = chain.contract("BankToken");
    const vault = chain.contract("OfflineVault");
    const buyerEnv = { BANK_CHAIN_OFFLINE_KEY: context.wallet(ACCOUNTS.buyer).privateKey };
    if (((await vault.getFunction("lockedOf")(buyer)) as bigint) < LOW_WATER) {
      const deposited = await context.cli(["offline", "deposit", "--amount", TOP_UP.toString()], { env: buyerEnv });
      if (typeof deposited.approval === "string")
        record.tx(chain, deposited.approval, "BankToken.approve of the vault");
      record.tx(
        chain,
        deposited.transaction,
        `OfflineVault.deposit ${money(TOP_UP)} (the buyer's locked balance ran low)`,
      );
    }
    const [merchantBefore, lockedBefore] = (await Promise.all([
      token.getFunction("balanceOf")(merchant),
      vault.getFunction("lockedOf")(buyer),
    ])) as [bigint, bigint];
    const store = path.join(context.stateDir, "offline-merchant.sqlite");
    const merchantEnv = { BANK_CHAIN_OFFLINE_KEY: context.wallet(ACCOUNTS.merchant).privateKey };
    const session = context.spawnCli(
      ["offline", "merchant", "--amount", AMOUNT.toString(), "--store", store, "--ttl", "120"],
      {
        env: merchantEnv,
      },
    );
    const offer = await new Promise<string>((resolve, reject) => {
      let seen = "";
      session.child.stdout.on("data", (text: string) => {
        seen += text;
        const match = /^offer: (bcoffer1:\S+)$/m.exec(seen);
        if (match !== null) resolve(match[1]!);
      });
      session.done.then(
        () => reject(new DemoError("DEMO_OFFLINE_NO_OFFER", "the merchant's session ended without an offer")),
        reject,
      );
    });
    record.note(`offer ${offer.slice(0, 24)}… for ${money(AMOUNT)}`);
    const paid = await context.cli(
      [
        "offline",
        "buyer",
        "--offer",
        offer,
        "--max",
        AMOUNT.toString(),
        "--state",
        path.join(context.stateDir, "offline-buyer.sqlite"),
      ],
      { env: buyerEnv },
    );
    const sold = await session.done;
    const decision = paid.decision as { outcome?: string } | undefined;
    record.equal("buyer: the merchant's decision", decision?.outcome, "accepted");
    record.equal("merchant: the voucher it took", (sold.decision as { outcome?: string } | null)?.outcome, "accepted");
    const voucher = String(paid.voucherHash);
    record.note(`voucher ${voucher}`);
    record.equal("vault: not settled before the sync", await vault.getFunction("isSettled")(voucher), false);
    record.equal(
      "merchant: balance unchanged before the sync",
      ((await token.getFunction("balanceOf")(merchant)) as bigint) - merchantBefore,
      0n,
    );

    const synced = await context.cli(["offline", "sync", "--store", store, "--key-env", "BANK_CHAIN_OFFLINE_KEY"], {
      env: merchantEnv,
    });
    const outcomes = (synced.outcomes ?? []) as Array<{ hash: string; state: string; txHash?: string }>;
    const outcome = outcomes.find((entry) => entry.hash.toLowerCase() === voucher.toLowerCase());
    record.equal("sync: the voucher's outcome", outcome?.state, "settled");
    record.tx(chain, outcome?.txHash, "OfflineVault.redeemBatch (the merchant's sync)");
    record.equal("vault: settled after the sync", await vault.getFunction("isSettled")(voucher), true);
    const [merchantAfter, lockedAfter] = (await Promise.all([
      token.getFunction("balanceOf")(merchant),
      vault.getFunction("lockedOf")(buyer),
    ])) as [bigint, bigint];
    record.equal("merchant's balance +12.50", merchantAfter - merchantBefore, AMOUNT);
    record.equal("buyer's locked balance −12.50", lockedBefore - lockedAfter, AMOUNT);
  },
};
