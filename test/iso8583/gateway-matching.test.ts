/**
 * How the card gateway matches a message to what it saw before, over TCP
 * against bank A's AccountLedger: which 0200 completes which authorization
 * (DE 90 naming a 0100, or DE 37 + DE 41; never a refund, never a second
 * authorization), what a completion of a declined, unknown or never-seen
 * authorization gets, what a reversal of a declined original or of a reversal
 * gets, the answer to a repeat of a message of unknown fate, and the wallet
 * data's asset and chain.
 */
import { expect } from "chai";

import { encodeWalletData } from "../../src/iso8583/wallet-data.js";
import {
  cardRequest,
  gatewayPerTest,
  IsoClient,
  openCardAccount,
  originalData,
  profile,
  reversalOf,
} from "./gateway-helpers.js";

describe("iso8583: the gateway matches messages to earlier ones", function () {
  this.timeout(60_000);
  const gw = gatewayPerTest({ timeoutMs: 1_500, unknownGraceMs: 60_000, reconcileIntervalMs: 3_600_000 });

  const code = async (message: Parameters<IsoClient["request"]>[0]): Promise<string | undefined> =>
    (await gw.client.request(message)).fields[39];

  it("a refund (processing 20) naming an authorization by DE 37 finds no sale (25); it captures and credits nothing", async function () {
    const { wallet } = await openCardAccount(gw.world, 10_000n);
    const hold = cardRequest("0100", wallet, 3_000n);
    expect(await code(hold)).to.equal("00");
    const refund = cardRequest("0200", wallet, 500n, { 3: "200000", 37: hold.fields[37]!, 41: hold.fields[41]! });
    expect(await code(refund)).to.equal("25");
    expect(await profile(gw.world, wallet)).to.deep.equal({ token: 10_000n, held: 3_000n });
  });

  it("a second authorization with the same DE 37 and DE 41 holds again; it captures nothing", async function () {
    const { wallet } = await openCardAccount(gw.world, 10_000n);
    const first = cardRequest("0100", wallet, 3_000n);
    expect(await code(first)).to.equal("00");
    const second = cardRequest("0100", wallet, 2_000n, { 37: first.fields[37]!, 41: first.fields[41]! });
    expect(await code(second)).to.equal("00");
    expect(await profile(gw.world, wallet)).to.deep.equal({ token: 10_000n, held: 5_000n });
  });

  it("a debit whose DE 90 names a 0200 is a plain debit; one naming a 0100 never seen is 25", async function () {
    const { wallet } = await openCardAccount(gw.world, 10_000n);
    const debit = cardRequest("0200", wallet, 1_000n);
    expect(await code(debit)).to.equal("00");
    expect(await code(cardRequest("0200", wallet, 700n, { 90: originalData(debit) }))).to.equal("00");
    expect(await profile(gw.world, wallet)).to.deep.equal({ token: 8_300n, held: 0n });
    const ghost = cardRequest("0100", wallet, 100n);
    expect(await code(cardRequest("0200", wallet, 100n, { 90: originalData(ghost) }))).to.equal("25");
    expect(await profile(gw.world, wallet)).to.deep.equal({ token: 8_300n, held: 0n });
  });

  it("completing a declined authorization by DE 90 is 12 and debits nothing", async function () {
    const { wallet } = await openCardAccount(gw.world, 1_000n);
    const declined = cardRequest("0100", wallet, 5_000n);
    expect(await code(declined)).to.equal("51");
    const blockBefore = await gw.world.suite.connection.provider.request({ method: "eth_blockNumber" });
    expect(await code(cardRequest("0200", wallet, 100n, { 90: originalData(declined) }))).to.equal("12");
    // Refused by the gateway itself: nothing was sent to the ledger.
    expect(await gw.world.suite.connection.provider.request({ method: "eth_blockNumber" })).to.equal(blockBefore);
    expect(await profile(gw.world, wallet)).to.deep.equal({ token: 1_000n, held: 0n });
  });

  it("a message of unknown fate is answered 91 again when repeated, and so is its completion", async function () {
    const { wallet } = await openCardAccount(gw.world, 10_000n);
    const hold = cardRequest("0100", wallet, 2_000n);
    await gw.world.proxy.setMode("hold");
    expect(await code(hold)).to.equal("91"); // sent, not confirmed: unknown
    expect(await code({ ...hold, mti: "0101" })).to.equal("91");
    expect(await code(cardRequest("0200", wallet, 2_000n, { 90: originalData(hold) }))).to.equal("91");
    await gw.world.proxy.setMode("up");
  });

  it("a reversal needs DE 90 (30); one naming a reversal is 12; one of a declined original is 00 and moves nothing", async function () {
    const { wallet } = await openCardAccount(gw.world, 10_000n);
    const debit = cardRequest("0200", wallet, 1_000n);
    expect(await code(debit)).to.equal("00");
    const reversal = reversalOf(debit);
    const { 90: _de90, ...withoutDe90 } = reversal.fields;
    expect(await code({ mti: "0400", fields: withoutDe90 })).to.equal("30");
    const answered = await gw.client.request(reversal);
    expect(answered.fields[39]).to.equal("00");
    expect(answered.fields[38]).to.equal(undefined); // no authorization code on a reversal
    const beforeReversalOfReversal = await gw.world.suite.connection.provider.request({ method: "eth_blockNumber" });
    expect(await code(reversalOf(reversal))).to.equal("12");
    expect(await gw.world.suite.connection.provider.request({ method: "eth_blockNumber" })).to.equal(
      beforeReversalOfReversal,
    );
    expect((await profile(gw.world, wallet)).token).to.equal(10_000n);

    const declined = cardRequest("0200", wallet, 50_000n);
    expect(await code(declined)).to.equal("51");
    const blockBefore = await gw.world.suite.connection.provider.request({ method: "eth_blockNumber" });
    expect(await code(reversalOf(declined))).to.equal("00");
    expect(await gw.world.suite.connection.provider.request({ method: "eth_blockNumber" })).to.equal(blockBefore);
  });

  it("a reversal the ledger refuses (the hold was captured) is answered with the ledger's code, not approved", async function () {
    const { wallet } = await openCardAccount(gw.world, 10_000n);
    const hold = cardRequest("0100", wallet, 3_000n);
    expect(await code(hold)).to.equal("00");
    expect(await code(cardRequest("0200", wallet, 3_000n, { 90: originalData(hold) }))).to.equal("00");
    expect(await code(reversalOf(hold))).to.equal("12");
    expect(await profile(gw.world, wallet)).to.deep.equal({ token: 7_000n, held: 0n });
  });

  it("an approved debit carries an authorization code; processing code 01 debits like 00", async function () {
    const { wallet } = await openCardAccount(gw.world, 10_000n);
    const answer = await gw.client.request(cardRequest("0200", wallet, 100n, { 3: "010000" }));
    expect(answer.fields[39]).to.equal("00");
    expect(answer.fields[38]).to.match(/^[0-9A-F]{6}$/);
    expect((await profile(gw.world, wallet)).token).to.equal(9_900n);
    expect(await code(cardRequest("0200", wallet, 100n, { 3: "300000" }))).to.equal("12");
    expect(await code(cardRequest("0100", wallet, 100n, { 3: "200000" }))).to.equal("12"); // no refund authorization
  });

  it("takes wallet data naming this chain and an asset of the bank; refuses another chain or asset", async function () {
    const { wallet } = await openCardAccount(gw.world, 10_000n);
    const withData = (data: Parameters<typeof encodeWalletData>[0]) =>
      cardRequest("0200", wallet, data.amount, { 48: encodeWalletData(data) });
    expect(await code(withData({ address: wallet, amount: 10n, asset: "BUSD", chainId: 31337n }))).to.equal("00");
    expect(await code(withData({ address: wallet, amount: 10n, asset: "USD" }))).to.equal("00");
    expect(await code(withData({ address: wallet, amount: 10n, chainId: 1n }))).to.equal("12");
    expect(await code(withData({ address: wallet, amount: 10n, asset: "EUR" }))).to.equal("12");
    expect((await profile(gw.world, wallet)).token).to.equal(9_980n);
  });
});
