/**
 * Step 8: a reward epoch claimed by a producer. On the devnet a simulated
 * lobby screen feeds the rewards service presence and playback evidence; its
 * oracles propose each epoch's root to the `RewardDistributor`, finalize it
 * after the challenge window, and (with `REWARDS_AUTO_CLAIM`, on by default)
 * pay the producers with `claimFor`. The step waits for a `Claimed` event for
 * the producer's account (16, `producer:studio-north`) after the run began,
 * from whoever sent it; when something is claimable and nobody claimed it
 * for a while, the producer claims it itself (`bank-chain rewards claim`).
 * A claim from before the run never counts: when none comes within 600 s
 * (the simulated venue's playbacks count only with three terminals present,
 * so an epoch may pay the other producer alone), the step fails. The paid
 * amount must reach the producer's balance and `claimedOf` must cover the
 * claim's cumulative figure.
 */
import type { Log } from "ethers";

import { apiClient } from "../../chain/openapi/clients.js";
import { messageOf } from "../../errors.js";
import { producerIdOf } from "../../rewards/registry.js";
import { ACCOUNTS, DemoError, money, type DemoStep } from "../context.js";

const PRODUCER = "producer:studio-north";
/** The producer id the service and the chain know it by. */
const PRODUCER_ID = producerIdOf(PRODUCER);
const WAIT_MS = 600_000;
/** How long the service gets to claim for the producer before the producer claims itself. */
const SELF_CLAIM_AFTER_MS = 45_000;

/** Step 8: a reward epoch claimed by a producer. */
export const rewards: DemoStep = {
  name: "rewards",
  title: "reward epoch claimed by a producer",
  async run(context, record) {
    const chain = context.home;
    const producer = context.address(ACCOUNTS.producer);
    const distributor = chain.contract("RewardDistributor");
    const service = apiClient("rewards", context.service("rewards"));
    const started = Date.now();
    let claimed: Log | undefined;
    let selfClaimTried = false;
    while (claimed === undefined && Date.now() - started < WAIT_MS) {
      claimed = (await context.eventsSinceStart(chain, distributor, "Claimed", null, null, producer)).at(0);
      if (claimed !== undefined) break;
      if (!selfClaimTried && Date.now() - started >= SELF_CLAIM_AFTER_MS) {
        const view = (await service.GET("/producers/{id}/rewards", { params: { path: { id: PRODUCER_ID } } })).data as
          { campaigns?: Array<{ campaignId: string; claimable: string }> } | undefined;
        const open = view?.campaigns?.find((entry) => entry.claimable !== "0");
        if (open !== undefined) {
          selfClaimTried = true;
          try {
            await context.cli(
              ["rewards", "claim", PRODUCER, "--campaign", open.campaignId, "--api", context.service("rewards")],
              { env: { BANK_CHAIN_REWARDS_KEY: context.wallet(ACCOUNTS.producer).privateKey } },
            );
          } catch (error) {
            // The service's claimFor may have come first; the event is what counts.
            record.note(`the producer's own claim did not go through: ${messageOf(error)}`);
          }
          continue;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
    if (claimed === undefined) {
      const view = (await service.GET("/producers/{id}/rewards", { params: { path: { id: PRODUCER_ID } } })).data;
      throw new DemoError(
        "DEMO_REWARDS_NO_CLAIM",
        `no Claimed event paid ${PRODUCER} (${producer}) within ${WAIT_MS / 1000} s of this run; the rewards service shows it ${JSON.stringify(view)}`,
        { producer },
      );
    }
    const event = distributor.interface.parseLog(claimed)!;
    const amount = event.args.amount as bigint;
    const cumulative = event.args.cumulative as bigint;
    const receipt = await chain.provider.getTransactionReceipt(claimed.transactionHash);
    const sender = receipt?.from ?? "?";
    record.tx(
      chain,
      claimed.transactionHash,
      `RewardDistributor ${sender.toLowerCase() === producer.toLowerCase() ? "claim" : "claimFor"}: ${money(amount)} to ${PRODUCER}`,
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
