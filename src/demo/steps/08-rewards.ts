/**
 * Step 8: a reward epoch claimed by a producer. On the devnet a simulated
 * lobby screen feeds the rewards service presence and playback evidence; its
 * oracles propose each epoch's root to the `RewardDistributor`, finalize it
 * after the challenge window, and (with `REWARDS_AUTO_CLAIM`, on by default)
 * pay the producers with `claimFor`. The step waits for a `Claimed` event for
 * either demo producer's account (16, `producer:studio-north`; 17,
 * `producer:studio-south`) after the run began, from whoever sent it: the
 * venue plays their spots in turn, and which of them gets the spot that ends
 * at the epoch's close (a playback posted then may miss the epoch's root)
 * depends on when the venue started, so one producer may earn little for a
 * while. When something is claimable and nobody claimed it for a while, the
 * producer claims it itself (`bank-chain rewards claim`). A claim from before
 * the run never counts: when none comes within 600 s, the step fails. The
 * paid amount must reach the producer's balance and `claimedOf` must cover
 * the claim's cumulative figure.
 */
import type { Log } from "ethers";

import { apiClient } from "../../chain/openapi/clients.js";
import { messageOf } from "../../errors.js";
import { producerIdOf } from "../../rewards/registry.js";
import { DemoError, money, type DemoStep } from "../context.js";

/** The devnet's demo producers (deploy/_config.ts `DEVNET_REWARDS_DEMO`): name and payout account. */
const PRODUCERS = [
  { name: "producer:studio-north", account: 16 },
  { name: "producer:studio-south", account: 17 },
] as const;
const WAIT_MS = 600_000;
/** How long the service gets to claim for the producers before a producer claims itself. */
const SELF_CLAIM_AFTER_MS = 45_000;

/** Step 8: a reward epoch claimed by a producer. */
export const rewards: DemoStep = {
  name: "rewards",
  title: "reward epoch claimed by a producer",
  async run(context, record) {
    const chain = context.home;
    const producers = PRODUCERS.map((p) => ({ ...p, id: producerIdOf(p.name), address: context.address(p.account) }));
    const distributor = chain.contract("RewardDistributor");
    const service = apiClient("rewards", context.service("rewards"));
    const viewOf = async (id: string) =>
      (await service.GET("/producers/{id}/rewards", { params: { path: { id } } })).data as
        { campaigns?: Array<{ campaignId: string; claimable: string }> } | undefined;
    const started = Date.now();
    let claimed: Log | undefined;
    let selfClaimTried = false;
    while (claimed === undefined && Date.now() - started < WAIT_MS) {
      claimed = (
        await context.eventsSinceStart(
          chain,
          distributor,
          "Claimed",
          null,
          null,
          producers.map((p) => p.address),
        )
      ).at(0);
      if (claimed !== undefined) break;
      if (!selfClaimTried && Date.now() - started >= SELF_CLAIM_AFTER_MS) {
        for (const p of producers) {
          const open = (await viewOf(p.id))?.campaigns?.find((entry) => entry.claimable !== "0");
          if (open === undefined) continue;
          selfClaimTried = true;
          try {
            await context.cli(
              ["rewards", "claim", p.name, "--campaign", open.campaignId, "--api", context.service("rewards")],
              { env: { BANK_CHAIN_REWARDS_KEY: context.wallet(p.account).privateKey } },
            );
          } catch (error) {
            // The service's claimFor may have come first; the event is what counts.
            record.note(`${p.name}'s own claim did not go through: ${messageOf(error)}`);
          }
          break;
        }
        if (selfClaimTried) continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
    if (claimed === undefined) {
      const views = await Promise.all(producers.map(async (p) => [p.name, await viewOf(p.id)] as const));
      throw new DemoError(
        "DEMO_REWARDS_NO_CLAIM",
        `no Claimed event paid a demo producer within ${WAIT_MS / 1000} s of this run; the rewards service shows ${JSON.stringify(Object.fromEntries(views))}`,
        { producers: producers.map((p) => p.address) },
      );
    }
    const event = distributor.interface.parseLog(claimed)!;
    const paid = producers.find((p) => p.address.toLowerCase() === String(event.args.account).toLowerCase())!;
    const producer = paid.address;
    const amount = event.args.amount as bigint;
    const cumulative = event.args.cumulative as bigint;
    const receipt = await chain.provider.getTransactionReceipt(claimed.transactionHash);
    const sender = receipt?.from ?? "?";
    record.tx(
      chain,
      claimed.transactionHash,
      `RewardDistributor ${sender.toLowerCase() === producer.toLowerCase() ? "claim" : "claimFor"}: ${money(amount)} to ${paid.name}`,
    );
    record.note(
      `campaign ${String(event.args.campaignId)}: paid ${money(amount)}, cumulative ${money(cumulative)}, sent by ${sender} after ${((Date.now() - started) / 1000).toFixed(0)} s of waiting`,
    );
    record.that("the claim paid something", amount > 0n, amount);
    const token = chain.contract("BankToken");
    const [before, after] = (await Promise.all([
      token.getFunction("balanceOf")(producer, { blockTag: claimed.blockNumber - 1 }),
      token.getFunction("balanceOf")(producer, { blockTag: claimed.blockNumber }),
    ])) as [bigint, bigint];
    record.equal("producer's balance moved by the paid amount in the claim's block", after - before, amount);
    const total = (await distributor.getFunction("claimedOf")(event.args.campaignId, event.args.producerId)) as bigint;
    record.that("claimedOf(campaign, producer) covers the cumulative claim", total >= cumulative, total);
  },
};
