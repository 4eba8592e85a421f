import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";

import { LedgerPoster, OPERATION_KIND, type LedgerOperationKind } from "../../src/iso8583/ledger.js";
import { gatewayWorld, openCardAccount, type GatewayWorld } from "./gateway-helpers.js";

const key = (label: string) => keccak256(toUtf8Bytes(`poster-test/${label}`));

describe("iso8583: ledger poster", function () {
  this.timeout(60_000);
  let world: GatewayWorld;
  let poster: LedgerPoster;

  before(async function () {
    world = await gatewayWorld();
    poster = new LedgerPoster({
      ledger: await world.ledger.getAddress(),
      signer: await world.suite.ethers.getSigner(world.gatewayAddress),
    });
  });
  after(async function () {
    await world.proxy.stop();
  });

  it("numbers every operation kind as the contract's OperationKind does", async function () {
    const { wallet } = await openCardAccount(world, 10_000n);
    const zero = `0x${"00".repeat(32)}`;
    const steps: Array<[LedgerOperationKind, string, bigint]> = [
      ["hold", zero, 100n],
      ["capture", key("hold"), 50n],
      ["debit", zero, 10n],
      ["credit", zero, 5n],
      ["reverse", key("debit"), 0n],
    ];
    for (const [kind, ref, amount] of steps) {
      const outcome = await poster.post({ kind, key: key(kind), wallet, ref, amount });
      expect(outcome.status, kind).to.equal("applied");
      expect((await world.ledger.operationOf(key(kind))).kind, kind).to.equal(BigInt(OPERATION_KIND[kind]));
    }
    const hold = await poster.post({ kind: "hold", key: key("hold-2"), wallet, ref: zero, amount: 1n });
    expect(hold.status).to.equal("applied");
    expect(
      (await poster.post({ kind: "release", key: key("release"), wallet, ref: key("hold-2"), amount: 0n })).status,
    ).to.equal("applied");
    expect((await world.ledger.operationOf(key("release"))).kind).to.equal(BigInt(OPERATION_KIND.release));
    const after = await world.ledger.profileOf(wallet);
    expect([after.token, after.held]).to.deep.equal([10_000n - 50n - 10n + 5n + 10n, 0n]);
  });

  it("reports a refusal by its custom error, a reused key as applied, and batches concurrent operations", async function () {
    const { wallet } = await openCardAccount(world, 100n);
    const zero = `0x${"00".repeat(32)}`;
    const refused = await poster.post({ kind: "debit", key: key("too-much"), wallet, ref: zero, amount: 101n });
    expect(refused).to.deep.include({ status: "rejected", error: "InsufficientFunds" });
    expect(await poster.isKeyUsed(key("too-much"))).to.equal(false);
    const first = await poster.post({ kind: "debit", key: key("once"), wallet, ref: zero, amount: 1n });
    const again = await poster.post({ kind: "debit", key: key("once"), wallet, ref: zero, amount: 1n });
    expect([first.status, again.status]).to.deep.equal(["applied", "applied"]);
    const blockBefore = await world.suite.ethers.provider.getBlockNumber();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        poster.post({ kind: "debit", key: key(`many-${i}`), wallet, ref: zero, amount: 1n }),
      ),
    );
    expect(outcomes.every((outcome) => outcome.status === "applied")).to.equal(true);
    // The first operation goes out alone; the nine queued behind it share the next transaction.
    expect((await world.suite.ethers.provider.getBlockNumber()) - blockBefore).to.equal(2);
    expect((await world.ledger.profileOf(wallet)).token).to.equal(100n - 11n);
  });
});
