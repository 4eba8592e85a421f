/**
 * Step 6: a cross-chain transfer there and back. The buyer sends 10.00 from
 * chain 31337 to itself on chain 31338 with `bank-chain interop send` (a
 * signed payload to the interop API gateway: `InteropGateway.execute` burns on
 * the source through the `BurnMintLane`, the attesters sign the
 * `AttestedGateway` message, the relayer delivers it and the peer's lane
 * mints), then sends the same back. The interop API must report both
 * `delivered`, and the buyer's balance on each chain must move by the amount
 * each way; the round trip leaves each chain's supply equal to its
 * outstanding issuance.
 */
import { ACCOUNTS, money, type DemoChain, type DemoContext, type DemoStep, type StepRecorder } from "../context.js";

const AMOUNT = 1_000n;

interface TransferView {
  readonly id: string;
  readonly status: string;
  readonly source: { readonly txHash: string | null };
  readonly message: { readonly id: string } | null;
  readonly destination: { readonly txHash: string | null; readonly status: string } | null;
}

async function transfer(context: DemoContext, record: StepRecorder, from: DemoChain, to: DemoChain): Promise<void> {
  const buyer = context.address(ACCOUNTS.buyer);
  const balance = async (chain: DemoChain) =>
    (await chain.contract("BankToken").getFunction("balanceOf")(buyer)) as bigint;
  const [fromBefore, toBefore] = await Promise.all([balance(from), balance(to)]);
  const sent = await context.cli(
    [
      "interop",
      "send",
      "--to",
      buyer,
      "--amount",
      AMOUNT.toString(),
      "--destination",
      String(to.chainId),
      "--api",
      context.service("interop-api"),
    ],
    { chain: from, env: { BANK_CHAIN_INTEROP_KEY: context.wallet(ACCOUNTS.buyer).privateKey } },
  );
  const view = sent.transaction as TransferView;
  const leg = `${from.chainId} → ${to.chainId}`;
  record.note(`${leg}: payload ${view.id}, message ${view.message?.id ?? "-"}`);
  if (typeof sent.approval === "string")
    record.tx(from, sent.approval, `BankToken.approve of the InteropGateway (${leg})`);
  record.tx(from, view.source.txHash, `InteropGateway.execute: burn ${money(AMOUNT)} (${leg})`);
  record.tx(to, view.destination?.txHash, `AttestedGateway.deliver: mint ${money(AMOUNT)} (${leg})`);
  record.equal(`interop API status (${leg})`, view.status, "delivered");
  const [fromAfter, toAfter] = await Promise.all([balance(from), balance(to)]);
  record.equal(`buyer on ${from.chainId} −10.00`, fromBefore - fromAfter, AMOUNT);
  record.equal(`buyer on ${to.chainId} +10.00`, toAfter - toBefore, AMOUNT);
}

/** Step 6: a cross-chain transfer there and back. */
export const interop: DemoStep = {
  name: "interop",
  title: "cross-chain transfer 31337 → 31338 and back",
  async run(context, record) {
    await transfer(context, record, context.home, context.peer);
    await transfer(context, record, context.peer, context.home);
  },
};
