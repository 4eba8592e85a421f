/**
 * Step 2: Alice at bank A pays Bob at bank B 123.45 through the two banks'
 * agents (`POST /payments` on bank A). Bank A's agent initiates the
 * settlement in the `InterbankSettlement`, bank B's agent credits Bob and
 * acknowledges it; the step follows the payment to `Acknowledged` and checks
 * Bob's account moved by the amount.
 */
import { apiClient } from "../../chain/openapi/clients.js";
import { DemoError, money, waitFor, type DemoStep } from "../context.js";

const AMOUNT = 12_345n;

/** Step 2: interbank payment A → B, acknowledged. */
export const interbank: DemoStep = {
  name: "interbank",
  title: "interbank payment bank A → bank B, acknowledged",
  async run(context, record) {
    const bankA = apiClient("bank-agent", context.service("bank-a"));
    const bankB = apiClient("bank-agent", context.service("bank-b"));
    const endToEndId = `DEMO-${context.tag}`;
    const bobBefore = await bankB.GET("/accounts/{id}", { params: { path: { id: "bob" } } });
    if (bobBefore.data === undefined)
      throw new DemoError("DEMO_HTTP", `bank-b GET /accounts/bob: ${bobBefore.response.status}`);
    const posted = await bankA.POST("/payments", {
      body: {
        debtorAccount: "alice",
        creditorBank: "B",
        creditorAccount: "bob",
        amount: AMOUNT.toString(),
        currency: "USD",
        endToEndId,
      },
    });
    record.that("bank A accepted the payment (HTTP 202)", posted.response.status === 202, posted.response.status);
    record.note(`payment ${endToEndId}: alice@A → bob@B ${money(AMOUNT)} USD`);
    const payment = await waitFor(
      async () => (await bankA.GET("/payments/{id}", { params: { path: { id: endToEndId } } })).data,
      (value) => value?.status === "Acknowledged" || value?.status === "Failed" || value?.status === "Returned",
      180_000,
    );
    record.equal("bank A's payment status", payment?.status, "Acknowledged");
    const inbound = (await bankB.GET("/payments/{id}", { params: { path: { id: endToEndId } } })).data;
    record.equal("bank B's leg (creditor status)", inbound?.creditor.status, "Smelted");
    const seen = new Set<string>();
    for (const [who, view] of [
      ["bank A", payment],
      ["bank B", inbound],
    ] as const) {
      for (const entry of view?.history ?? []) {
        if (entry.tx !== null && !seen.has(entry.tx.toLowerCase())) {
          seen.add(entry.tx.toLowerCase());
          record.tx(context.home, entry.tx, `${who}: ${entry.what}`);
        }
      }
    }
    const bobAfter = await bankB.GET("/accounts/{id}", { params: { path: { id: "bob" } } });
    record.equal(
      "Bob's account at bank B +123.45",
      BigInt(bobAfter.data?.balance ?? "0") - BigInt(bobBefore.data.balance),
      AMOUNT,
    );
  },
};
