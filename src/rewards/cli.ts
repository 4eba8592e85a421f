/**
 * `bank-chain rewards …`: content rewards through the rewards service and the RewardDistributor
 * (docs/rewards.md).
 *
 *   rewards epoch <n> [--api <url>]
 *       an epoch: its records, and per campaign the playbacks paid (users, or "<k" under k), the producers'
 *       amounts, the records ignored and why, the roots over it
 *   rewards producer <id> [--api <url>]
 *       a producer's rewards per campaign: cumulative, claimed, claimable now, pending (<id> is the bytes32 or
 *       the producer's name, e.g. producer:studio-north)
 *   rewards claim <producer> --campaign <id> [--key-env VAR] [--for] [--api <url>]
 *       pays what the last final root owes: `claim` as the producer's registered account, or with --for
 *       `claimFor` from any key (the tokens still go to the registered account)
 *   rewards challenge <campaign> <recordHash> [--key-env VAR] [--api <url>]
 *       voids the campaign's pending root if it left out a receipted record: fetches the record's receipt
 *       and the root's evidence, checks the evidence against the root on chain, proves the omission
 *
 * Keys come from environment variables, never from a flag, and are never printed.
 */
import { apiOrigin, callApi, type ApiClientErrors } from "../chain/api-client.js";
import { lines, output, walletFromEnv, withChain, type CommandGroup, type Program } from "../chain/command.js";
import { BankChainError } from "../errors.js";
import { producerIdOf } from "./registry.js";

/** A bad `rewards` argument or a refusal by the service. */
export class RewardsCliError extends BankChainError {}

const DEFAULT_KEY_ENV = "BANK_CHAIN_REWARDS_KEY";
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

const API_ERRORS: ApiClientErrors = {
  badUrl: (value) =>
    new RewardsCliError("REWARDS_CLI_BAD_URL", `--api must be an http(s) URL, got "${value}"`, { value }),
  unreachable: (api, cause) =>
    new RewardsCliError("REWARDS_CLI_API_UNREACHABLE", `the rewards service at ${api} does not answer`, {
      api,
      cause,
    }),
};

/** The service's origin: `--api`, else the local one on `REWARDS_PORT` (default 8640). */
async function apiUrl(value: string | undefined): Promise<string> {
  if (value === undefined) {
    const { REWARDS_SETTINGS } = await import("./service.js");
    return `http://127.0.0.1:${REWARDS_SETTINGS.read(process.env, { devnet: true }).REWARDS_PORT}`;
  }
  return apiOrigin(value, API_ERRORS);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function get(api: string, path: string): Promise<any> {
  const reply = await callApi(api, path, undefined, API_ERRORS);
  if (reply.status >= 400) {
    const error = ((reply.json ?? {}) as { error?: { code?: unknown; message?: unknown } }).error ?? {};
    throw new RewardsCliError(
      "REWARDS_CLI_REFUSED",
      `the rewards service refused it (HTTP ${reply.status}${error.code === undefined ? "" : ` ${String(error.code)}`}): ${String(error.message ?? "no reason given")}`,
      { status: reply.status, answer: reply.json },
    );
  }
  return reply.json;
}

function bytes32(value: string, what: string): string {
  if (!BYTES32.test(value)) {
    throw new RewardsCliError("REWARDS_CLI_BAD_ID", `${what} must be 0x and 64 hex digits, got "${value}"`, { value });
  }
  return value.toLowerCase();
}

/** A producer id: the bytes32, or keccak256 of a name such as `producer:studio-north`. */
function producerOf(value: string): string {
  return BYTES32.test(value) ? value.toLowerCase() : producerIdOf(value);
}

/** Adds the `rewards` command group to the program. */
export function addRewardsCommands(program: Program): void {
  const group: CommandGroup = program
    .command("rewards")
    .description("content rewards: epochs, producers' rewards, claims and challenges (docs/rewards.md)");

  group
    .command("epoch")
    .description("an epoch: its records and, per campaign, what it pays and why")
    .argument("<n>", "the epoch number")
    .option("--api <url>", "the rewards service (default: http://127.0.0.1:$REWARDS_PORT, 8640)")
    .action(async (n, _o, command) => {
      const options = command.optsWithGlobals();
      if (!/^\d{1,15}$/.test(n)) {
        throw new RewardsCliError("REWARDS_CLI_BAD_EPOCH", `the epoch must be a whole number, got "${n}"`, { n });
      }
      const view = await get(await apiUrl(options.api), `/epochs/${n}`);
      output(options, { epoch: view }, () => {
        const rows: Array<[string, string]> = [
          ["epoch", `${view.epoch} (${view.closed ? "closed" : "open"}, cut-off ${view.cutoff})`],
          ["records", String(view.records)],
        ];
        for (const campaign of view.campaigns) {
          rows.push(["campaign", campaign.campaignId]);
          for (const p of campaign.playbacks ?? []) {
            rows.push([`  playback ${p.recordHash.slice(0, 10)}`, `users ${p.users ?? "<k"}, reward ${p.reward}`]);
          }
          for (const p of campaign.producers ?? []) rows.push([`  producer ${p.producerId.slice(0, 10)}`, p.amount]);
          const ignored = new Map<string, number>();
          for (const i of campaign.ignored ?? []) ignored.set(i.reason, (ignored.get(i.reason) ?? 0) + 1);
          for (const [reason, count] of ignored) rows.push([`  ignored ${reason}`, String(count)]);
          for (const r of campaign.roots)
            rows.push([`  root ${r.fromEpoch}-${r.epoch}`, `${r.state}, total ${r.total}`]);
        }
        return lines(rows);
      });
    });

  group
    .command("producer")
    .description("a producer's rewards per campaign: cumulative, claimed, claimable, pending")
    .argument("<producer>", "the producer id (bytes32) or name")
    .option("--api <url>", "the rewards service (default: http://127.0.0.1:$REWARDS_PORT, 8640)")
    .action(async (producer, _o, command) => {
      const options = command.optsWithGlobals();
      const view = await get(await apiUrl(options.api), `/producers/${producerOf(producer)}/rewards`);
      output(options, { producer: view }, () =>
        lines([
          ["producer", view.producerId],
          ["account", view.account ?? "none registered: rewards are escrowed until it is"],
          ...view.campaigns.flatMap((c: Record<string, string | null | { cumulative: string; epoch: string }>) => [
            ["campaign", String(c.campaignId)] as [string, string],
            ["  cumulative", String(c.cumulative)] as [string, string],
            ["  claimed", String(c.claimed)] as [string, string],
            ["  claimable", String(c.claimable)] as [string, string],
            [
              "  pending",
              c.pending === null
                ? "none"
                : `${(c.pending as { cumulative: string }).cumulative} (epoch ${(c.pending as { epoch: string }).epoch})`,
            ] as [string, string],
          ]),
        ]),
      );
    });

  group
    .command("claim")
    .description("pay what the last final root owes a producer (claim, or claimFor with --for)")
    .argument("<producer>", "the producer id (bytes32) or name")
    .requiredOption("--campaign <id>", "the campaign id")
    .option("--key-env <VAR>", "environment variable holding the sender's private key", DEFAULT_KEY_ENV)
    .option("--for", "claimFor: any key may send it; the tokens go to the producer's registered account", false)
    .option("--api <url>", "the rewards service (default: http://127.0.0.1:$REWARDS_PORT, 8640)")
    .action(async (producer, _o, command) => {
      const options = command.optsWithGlobals();
      const producerId = producerOf(producer);
      const campaignId = bytes32(options.campaign, "--campaign");
      const wallet = walletFromEnv(options.keyEnv, RewardsCliError, "REWARDS_CLI");
      const view = await get(await apiUrl(options.api), `/producers/${producerId}/rewards`);
      const entry = view.campaigns.find((c: { campaignId: string }) => c.campaignId === campaignId);
      if (entry === undefined || entry.claimable === "0") {
        throw new RewardsCliError(
          "REWARDS_CLI_NOTHING_TO_CLAIM",
          `producer ${producerId} has nothing to claim in ${campaignId}`,
          {
            producerId,
            campaignId,
          },
        );
      }
      const { RewardDistributor__factory } = await import("../../typechain-types/index.js");
      const { mined } = await import("../chain/receipts.js");
      await withChain(options, async (chain, deployments) => {
        const distributor = RewardDistributor__factory.connect(
          deployments.get("RewardDistributor").address,
          wallet.connect(chain.provider),
        );
        const send = options.for ? distributor.claimFor : distributor.claim;
        const tx = await send(campaignId, producerId, BigInt(entry.cumulative), entry.proof);
        await mined(tx);
        output(
          options,
          { producerId, campaignId, paid: entry.claimable, cumulative: entry.cumulative, tx: tx.hash },
          () =>
            lines([
              ["paid", `${entry.claimable} to ${view.account}`],
              ["cumulative", entry.cumulative],
              ["tx", tx.hash],
            ]),
        );
      });
    });

  group
    .command("challenge")
    .description("void a campaign's pending root that left out a receipted record")
    .argument("<campaign>", "the campaign id")
    .argument("<recordHash>", "the record's hash (its receipt's recordHash)")
    .option("--key-env <VAR>", "environment variable holding the sender's private key", DEFAULT_KEY_ENV)
    .option("--api <url>", "the rewards service (default: http://127.0.0.1:$REWARDS_PORT, 8640)")
    .action(async (campaign, record, _o, command) => {
      const options = command.optsWithGlobals();
      const campaignId = bytes32(campaign, "the campaign");
      const recordHash = bytes32(record, "the record hash");
      const wallet = walletFromEnv(options.keyEnv, RewardsCliError, "REWARDS_CLI");
      const api = await apiUrl(options.api);
      const receipted = await get(api, `/records/${recordHash}`);
      const { RewardDistributor__factory } = await import("../../typechain-types/index.js");
      const { mined } = await import("../chain/receipts.js");
      const { evidenceTree, leafArgument, omissionProof } = await import("./trees.js");
      await withChain(options, async (chain, deployments) => {
        const distributor = RewardDistributor__factory.connect(
          deployments.get("RewardDistributor").address,
          wallet.connect(chain.provider),
        );
        const pending = await distributor.pendingRootOf(campaignId);
        if (pending.proposedAt === 0n) {
          throw new RewardsCliError("REWARDS_CLI_NO_PENDING_ROOT", `campaign ${campaignId} has no root to challenge`, {
            campaignId,
          });
        }
        const { roots } = await get(api, `/campaigns/${campaignId}/roots/${pending.epoch}`);
        const match = roots.find(
          (r: { evidenceRoot: string }) => r.evidenceRoot === pending.evidenceRoot.toLowerCase(),
        );
        if (match === undefined) {
          throw new RewardsCliError(
            "REWARDS_CLI_EVIDENCE_UNAVAILABLE",
            `the service does not publish the evidence of the pending root ${pending.evidenceRoot}`,
            { campaignId, evidenceRoot: pending.evidenceRoot },
          );
        }
        const tree = evidenceTree(match.evidence);
        if (tree.root !== pending.evidenceRoot.toLowerCase()) {
          throw new RewardsCliError(
            "REWARDS_CLI_EVIDENCE_MISMATCH",
            "the published evidence does not hash to the root on chain",
            {
              campaignId,
            },
          );
        }
        const leaf = omissionProof(tree, recordHash);
        const tx = await distributor.challengeOmission(
          campaignId,
          recordHash,
          BigInt(receipted.receipt.epoch),
          BigInt(receipted.receipt.time),
          receipted.receiptSignature,
          leafArgument(leaf),
        );
        await mined(tx);
        output(options, { campaignId, recordHash, voidedEpoch: pending.epoch, tx: tx.hash }, () =>
          lines([
            ["voided", `the root of epoch ${pending.epoch} of ${campaignId}`],
            ["record", recordHash],
            ["tx", tx.hash],
          ]),
        );
      });
    });
}
