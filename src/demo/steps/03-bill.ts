/**
 * Step 3: the merchant (account 15) issues a 50.00 e-invoice to the buyer
 * (account 19), who accepts and pays it, through `bank-chain bills
 * issue|accept|pay` on the `BillRegistry`. The bill monitor's replay must
 * show the bill PAID with the three operations, and the payee's balance must
 * move by the amount.
 */
import { apiClient } from "../../chain/openapi/clients.js";
import { ACCOUNTS, money, waitFor, type DemoStep } from "../context.js";

const AMOUNT = 5_000n;

/** Step 3: an e-invoice issued, accepted and paid. */
export const bill: DemoStep = {
  name: "bill",
  title: "e-invoice issued, accepted and paid",
  async run(context, record) {
    const chain = context.home;
    const buyer = context.address(ACCOUNTS.buyer);
    const merchant = context.address(ACCOUNTS.merchant);
    const token = chain.contract("BankToken");
    const payeeBefore = (await token.getFunction("balanceOf")(merchant)) as bigint;
    const issued = await context.cli([
      "bills",
      "issue",
      "--type",
      "e-invoice",
      "--drawee",
      buyer,
      "--payee",
      merchant,
      "--amount",
      AMOUNT.toString(),
      "--from",
      String(ACCOUNTS.merchant),
    ]);
    const id = String(issued.bill);
    record.tx(chain, issued.tx, "BillRegistry.issue (ISSUE) by the merchant");
    record.note(`bill ${id}: E_INVOICE ${money(AMOUNT)} drawer/payee ${merchant} → drawee ${buyer}`);
    const accepted = await context.cli(["bills", "accept", id, "--from", String(ACCOUNTS.buyer), "--yes"]);
    record.tx(chain, accepted.tx, "BillRegistry.execute ACCEPT by the buyer");
    record.equal("state after ACCEPT", accepted.state, "ACCEPTED");
    const paid = await context.cli(["bills", "pay", id, "--from", String(ACCOUNTS.buyer), "--yes"]);
    if (typeof paid.approveTx === "string") record.tx(chain, paid.approveTx, "BankToken.approve of the registry");
    record.tx(chain, paid.tx, "BillRegistry.execute PAY by the buyer");
    record.equal("state after PAY", paid.state, "PAID");

    const monitor = apiClient("bill-monitor", context.service("bill-monitor"));
    const seen = await waitFor(
      async () => (await monitor.GET("/bills/{id}", { params: { path: { id } } })).data,
      (value) => value?.stateName === "PAID",
      60_000,
    );
    record.equal("bill monitor: state", seen?.stateName, "PAID");
    record.equal("bill monitor: amount paid", seen?.amountPaid, AMOUNT);
    const history = (await monitor.GET("/bills/{id}/history", { params: { path: { id } } })).data;
    const operations = (history?.history ?? []).map((entry) => entry.operationName).filter((name) => name !== null);
    record.that(
      "bill monitor: history has ISSUE, ACCEPT, PAY",
      ["ISSUE", "ACCEPT", "PAY"].every((name) => operations.includes(name)),
      operations.join(","),
    );
    const anomalies = (await monitor.GET("/anomalies", { params: { query: { bill: id } } })).data;
    record.equal("bill monitor: anomalies for this bill", anomalies?.anomalies.length, 0);
    const payeeAfter = (await token.getFunction("balanceOf")(merchant)) as bigint;
    record.equal("payee's balance +50.00", payeeAfter - payeeBefore, AMOUNT);
  },
};
