import { adminDelay } from "../../deploy/_config.js";
import { shouldBehaveLikeTwoStepAdmin } from "./two-step-admin.js";
import { withFixture, type BehaviourFixture } from "./fixture.js";

/** Every contract with a default admin, by the address the deploy scripts gave it. */
const CONTRACTS: ReadonlyArray<readonly [title: string, address: (f: BehaviourFixture) => Promise<string>]> = [
  ["BankToken (proxy)", (f) => f.token.getAddress()],
  ["ReserveLedger", (f) => f.ledger.getAddress()],
  ["TrustAccount (bank A)", (f) => f.trustA.getAddress()],
  ["TrustAccount (bank B)", (f) => f.trustB.getAddress()],
  ["InterbankSettlement", (f) => f.settlement.getAddress()],
  ["BillRegistry", (f) => f.bills.getAddress()],
  ["AccountLedger (bank A)", (f) => f.cards.getAddress()],
  ["OfflineVault", (f) => f.vault.getAddress()],
];

describe("behaviours: two-step default admin handover", function () {
  for (const [title, addressOf] of CONTRACTS) {
    describe(title, function () {
      const ctx = withFixture(async (f) => ({
        address: await addressOf(f),
        delay: BigInt(adminDelay(Number((await f.ethers.provider.getNetwork()).chainId))),
      }));
      shouldBehaveLikeTwoStepAdmin(() => {
        const { f, s } = ctx();
        return {
          address: s.address,
          admin: f.accounts.admin,
          delay: s.delay,
          newAdmin: f.people.alice,
          stranger: f.people.bob,
          networkHelpers: f.networkHelpers,
        };
      });
    });
  }
});
