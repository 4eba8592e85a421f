/**
 * Step 5: an offline purchase, synced later. The devnet's merchant terminal
 * (the `offline-merchant` service, account 15) opens an offer for 12.50
 * (`POST /offers`); the buyer (account 19) answers it here, in process, with
 * a secured voucher on its `OfflineVault` lane (`Buyer.pay`), and neither
 * touches the chain. The terminal keeps the voucher pending (`GET
 * /vouchers?state=pending`, what the console shows) until `POST /sync`
 * redeems it (`OfflineVault.redeemBatch`): then the vault shows it settled,
 * the merchant holds 12.50 more and the buyer's locked balance is 12.50 less.
 * The buyer's lane state lives in the stack's data folder (`demo/`), so its
 * voucher chain goes on across runs.
 */
import path from "node:path";

import { Wallet } from "ethers";

import { apiClient } from "../../chain/openapi/clients.js";
import { Buyer } from "../../offline/buyer.js";
import { Store } from "../../store/store.js";
import { ACCOUNTS, DemoError, money, waitFor, type DemoStep } from "../context.js";

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
    const buyerWallet = context.wallet(ACCOUNTS.buyer);
    const buyer = buyerWallet.address;
    const merchant = context.address(ACCOUNTS.merchant);
    const token = chain.contract("BankToken");
    const vault = chain.contract("OfflineVault");
    if (((await vault.getFunction("lockedOf")(buyer)) as bigint) < LOW_WATER) {
      const deposited = await context.cli(["offline", "deposit", "--amount", TOP_UP.toString()], {
        env: { BANK_CHAIN_OFFLINE_KEY: buyerWallet.privateKey },
      });
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

    const terminal = apiClient("offline-merchant", context.service("offline-merchant"));
    const opened = await terminal.POST("/offers", { body: { amount: AMOUNT.toString() } });
    if (opened.data === undefined) {
      throw new DemoError("DEMO_HTTP", `offline-merchant POST /offers answered ${opened.response.status}`, {
        status: opened.response.status,
      });
    }
    const { offerId, offer } = opened.data;
    record.note(`offer ${offerId} for ${money(AMOUNT)}: ${offer.slice(0, 24)}…`);

    // The buyer's side, offline: its lane state is a SQLite file of its own.
    const store = Store.open({ path: path.join(context.stateDir, "offline-buyer.sqlite") });
    let voucher: string;
    try {
      const paid = await new Buyer(new Wallet(buyerWallet.privateKey), store).pay(offer, {
        max: AMOUNT,
        kind: "secured",
      });
      record.equal("buyer: the merchant's decision", paid.decision.outcome, "accepted");
      voucher = paid.voucherHash;
    } finally {
      store.close();
    }
    record.note(`voucher ${voucher}`);
    // The terminal records the outcome once its side of the session closes, a moment after the buyer has it.
    const taken = await waitFor(
      async () => (await terminal.GET("/offers/{id}", { params: { path: { id: offerId } } })).data,
      (view) => view !== undefined && view.state !== "open",
      15_000,
      200,
    );
    record.equal("terminal: the offer's state", taken?.state, "accepted");
    record.equal("terminal: the offer's voucher", taken?.voucher?.toLowerCase(), voucher.toLowerCase());
    const pending = (await terminal.GET("/vouchers", { params: { query: { state: "pending" } } })).data;
    record.that(
      "terminal: the voucher is pending (GET /vouchers?state=pending)",
      (pending?.items ?? []).some((item) => item.hash.toLowerCase() === voucher.toLowerCase()),
      `${pending?.counts.pending ?? "?"} pending`,
    );
    record.equal("vault: not settled before the sync", await vault.getFunction("isSettled")(voucher), false);
    record.equal(
      "merchant: balance unchanged before the sync",
      ((await token.getFunction("balanceOf")(merchant)) as bigint) - merchantBefore,
      0n,
    );

    const synced = (await terminal.POST("/sync")).data;
    const outcome = synced?.outcomes.find((entry) => entry.hash.toLowerCase() === voucher.toLowerCase());
    record.equal("terminal's sync: the voucher's outcome", outcome?.state, "settled");
    record.tx(chain, outcome?.tx, "OfflineVault.redeemBatch (the terminal's sync)");
    record.equal("vault: settled after the sync", await vault.getFunction("isSettled")(voucher), true);
    const [merchantAfter, lockedAfter] = (await Promise.all([
      token.getFunction("balanceOf")(merchant),
      vault.getFunction("lockedOf")(buyer),
    ])) as [bigint, bigint];
    record.equal("merchant's balance +12.50", merchantAfter - merchantBefore, AMOUNT);
    record.equal("buyer's locked balance −12.50", lockedBefore - lockedAfter, AMOUNT);
  },
};
