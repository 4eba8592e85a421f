/**
 * `bank-chain rewards` as a user runs it: bad arguments refused with one line each, then against `npm start`,
 * whose simulated venue feeds the rewards service: the demo producer's rewards become final and are paid, the
 * epoch view names users and rewards, and a claim of nothing is refused.
 */
import { expect } from "chai";
import { Wallet } from "ethers";

import { producerIdOf } from "../../src/rewards/registry.js";
import { runNode } from "../helpers/processes.js";
import { stackEnv, stackForSuite } from "../helpers/stack.js";

const CLI = "bin/bank-chain.mjs";

describe("cli: bank-chain rewards", function () {
  this.timeout(600_000);

  it("refuses a malformed epoch, campaign, key and --api with one line each", async function () {
    const epoch = await runNode([CLI, "rewards", "epoch", "-1"]);
    expect(epoch.code).to.equal(1);
    expect(epoch.stderr.trim()).to.equal('bank-chain: the epoch must be a whole number, got "-1"');
    const campaign = await runNode([CLI, "rewards", "claim", "producer:x", "--campaign", "0x12"]);
    expect(campaign.code).to.equal(1);
    expect(campaign.stderr.trim()).to.equal('bank-chain: --campaign must be 0x and 64 hex digits, got "0x12"');
    const noKey = await runNode([CLI, "rewards", "claim", "producer:x", "--campaign", `0x${"ab".repeat(32)}`], {
      BANK_CHAIN_REWARDS_KEY: "",
    });
    expect(noKey.code).to.equal(1);
    expect(noKey.stderr.trim()).to.equal(
      "bank-chain: environment variable BANK_CHAIN_REWARDS_KEY holds no private key",
    );
    const badApi = await runNode([CLI, "rewards", "producer", "producer:x", "--api", "ftp://x"]);
    expect(badApi.code).to.equal(1);
    expect(badApi.stderr).to.match(/--api must be an http\(s\) URL/);
  });

  describe("against npm start", function () {
    const running = stackForSuite("bank-chain-rewards-cli-");
    let env: NodeJS.ProcessEnv;
    let api: string;

    before(async function () {
      api = running.stack.services.get("rewards")!;
      expect(api, running.stack.stdout).to.match(/^http:\/\//);
      env = { ...stackEnv(running.place), BANK_CHAIN_REWARDS_KEY: Wallet.createRandom().privateKey };
    });

    it("shows the simulated venue's epochs and the demo producers paid once a root is final", async function () {
      const north = producerIdOf("producer:studio-north");
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      let producer: any;
      const deadline = Date.now() + 240_000;
      for (;;) {
        const shown = await runNode([CLI, "--json", "rewards", "producer", "producer:studio-north", "--api", api], env);
        expect(shown.code, shown.stderr).to.equal(0);
        producer = JSON.parse(shown.stdout).producer;
        if (producer.campaigns.some((c: { claimed: string }) => BigInt(c.claimed) > 0n)) break;
        if (Date.now() > deadline) throw new Error(`no reward paid within 240 s: ${shown.stdout}`);
        await new Promise((resolve) => setTimeout(resolve, 3_000));
      }
      expect(producer.producerId).to.equal(north);
      expect(producer.account).to.match(/^0x[0-9a-fA-F]{40}$/);
      const [campaign] = producer.campaigns;
      expect(BigInt(campaign.cumulative)).to.be.greaterThan(0n);

      const text = await runNode([CLI, "rewards", "producer", "producer:studio-north", "--api", api], env);
      expect(text.stdout).to.match(/claimed: +[1-9]\d*/);

      // The epoch of the final root: its playbacks with users and rewards.
      const campaigns = (await (await fetch(`${api}/campaigns`)).json()) as {
        campaigns: { roots: { epoch: string; state: string }[] }[];
      };
      const final = campaigns.campaigns[0]!.roots.find((r) => r.state === "final")!;
      const epoch = await runNode([CLI, "--json", "rewards", "epoch", final.epoch, "--api", api], env);
      expect(epoch.code, epoch.stderr).to.equal(0);
      const view = JSON.parse(epoch.stdout).epoch;
      expect(view.closed).to.equal(true);
      expect(view.records).to.be.greaterThan(0);

      // The service claims for registered producers as soon as a root is final, so a claim finds nothing owed,
      // unless a newer root became final in between: then it pays (a key with no ether cannot, on a market
      // chain; the devnet's gas is free for nobody, so the refusal is the one expected).
      const claim = await runNode(
        [CLI, "rewards", "claim", "producer:studio-north", "--for", "--campaign", campaign.campaignId, "--api", api],
        env,
      );
      expect(claim.code).to.equal(1);
      expect(claim.stderr).to.match(/has nothing to claim|insufficient funds/);
    });
  });
});
