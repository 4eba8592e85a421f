/**
 * The rewards service for `npm start` (see `src/services.ts`): ingest of presence and playback evidence and the
 * oracles' rounds (propose, finalize, pay) on the RewardDistributor, with the HTTP API on 127.0.0.1
 * (docs/rewards.md, "Service"); on the devnet also the simulated venue, which feeds the API like an outside
 * venue would.
 *
 * Environment: `REWARDS_SETTINGS` below (docs/operations.md).
 */
import { getAddress } from "ethers";

import { CertificateVerifier__factory } from "../../typechain-types/index.js";
import { systemClock, type Clock } from "../chain/clock.js";
import type { ChainConnection } from "../chain/config.js";
import { dutyWallet } from "../chain/duty-wallet.js";
import { isDevnet, type DutyName } from "../chain/networks.js";
import { Poller } from "../chain/poller.js";
import {
  openDeploymentStore,
  serviceOwningStore,
  type Service,
  type ServiceContext,
  type ServiceFactory,
} from "../chain/service.js";
import { decodeRevert } from "../chain/reverts.js";
import { choice, int, settingsSchema, text } from "../chain/settings.js";
import { messageOf } from "../errors.js";
import { rewardsDomain } from "./evidence.js";
import { rewardsHttpServer } from "./http.js";
import { EvidenceIngest } from "./ingest.js";
import { RewardRegistry } from "./registry.js";
import { termsHash } from "./oracle.js";
import { RewardOracle } from "./runner.js";
import { DEMO_TERMS, VenueSimulator } from "./simulator.js";

export const DEFAULT_REWARDS_PORT = 8640;

/** The rewards service's environment. */
export const REWARDS_SETTINGS = settingsSchema("rewards", {
  REWARDS_PORT: int("port of the rewards API on 127.0.0.1 (0 picks a free one)", DEFAULT_REWARDS_PORT, 0, 65_535),
  REWARDS_POLL_MS: int("pause between two oracle rounds (ms)", { devnet: 2_000, elsewhere: 15_000 }, 1, 600_000),
  REWARDS_GRACE_SECONDS: int(
    "seconds after an epoch ends during which its records are still receipted: the roots' cut-off",
    { devnet: 10, elsewhere: 300 },
    0,
    86_400,
  ),
  REWARDS_SKEW_SECONDS: int("most seconds a record's time may be ahead of the oracle's clock", 30, 0, 3_600),
  REWARDS_ORACLES: text(
    "which reward oracle keys this service holds and signs with (the first relays the transactions); empty: all three",
    "a comma-separated list of 1, 2 and 3, or empty",
    /^([123](,[123]){0,2})?$/,
    "1,2,3",
    { required: false },
  ),
  REWARDS_AUTO_CLAIM: choice(
    "pay every registered producer (claimFor) as soon as a root is final",
    { devnet: "on", elsewhere: "off" },
    ["on", "off"],
  ),
  REWARDS_SIMULATE: choice(
    "run the simulated venue (devnet only: its keys are published)",
    { devnet: "on", elsewhere: "off" },
    ["on", "off"],
  ),
});

export interface RewardsServiceOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
}

const DEMO_TERMS_HASH = termsHash(DEMO_TERMS).toLowerCase();

const ORACLE_DUTIES: readonly DutyName[] = ["rewardsOracle1", "rewardsOracle2", "rewardsOracle3"];

export function rewardsService(options: RewardsServiceOptions = {}): ServiceFactory {
  const name = "rewards";
  return {
    name,
    async create(context: ServiceContext): Promise<Service> {
      const env = options.env ?? process.env;
      const { chain, deployments } = context;
      const devnet = isDevnet(chain.chainId);
      const settings = REWARDS_SETTINGS.read(env, { devnet });
      const clock = options.clock ?? systemClock;
      const now = () => BigInt(Math.floor(clock.now() / 1000));
      const deployment = deployments.get("RewardDistributor");
      const indexes = oracleIndexes(settings.REWARDS_ORACLES);
      const oracles = await Promise.all(indexes.map((index) => dutyWallet(chain, ORACLE_DUTIES[index - 1]!)));
      const simulate = settings.REWARDS_SIMULATE === "on" && devnet;
      const registrar = simulate ? await dutyWallet(chain, "registrar") : undefined;
      const domain = rewardsDomain(BigInt(chain.chainId), deployment.address);
      const store = await openDeploymentStore(context, name, "RewardDistributor");
      return serviceOwningStore(name, store, () => {
        const registry = new RewardRegistry(store);
        const epochClock = { genesis: 0n, epochLength: 1n };
        const ingest = new EvidenceIngest({
          store,
          registry,
          domain,
          clock: epochClock,
          oracle: oracles[0]!,
          graceSeconds: BigInt(settings.REWARDS_GRACE_SECONDS),
          skewSeconds: BigInt(settings.REWARDS_SKEW_SECONDS),
          now,
        });
        const oracle = new RewardOracle({
          store,
          ingest,
          registry,
          provider: chain.provider,
          distributor: deployment.address,
          domain,
          clock: epochClock,
          oracles,
          graceSeconds: BigInt(settings.REWARDS_GRACE_SECONDS),
          autoClaim: settings.REWARDS_AUTO_CLAIM === "on",
          fromBlock: deployment.blockNumber ?? 0,
          log: context.log,
          now,
          certificateLevels: (devices) =>
            certificateLevelsOf(chain.provider, deployments.get("CertificateVerifier").address, devices),
        });
        const http = rewardsHttpServer(ingest, registry, oracle, {
          host: "127.0.0.1",
          port: settings.REWARDS_PORT,
          log: context.log,
          now,
          skewSeconds: BigInt(settings.REWARDS_SKEW_SECONDS),
          isRegistrar: async (address) =>
            oracle.distributor.hasRole(await oracle.distributor.REGISTRAR_ROLE(), address),
          health: {
            blockNumber: () => chain.provider.getBlockNumber(),
            followerNextBlock: () => oracle.nextBlock(),
            checkDatabase: () => store.check(),
          },
        });
        const onError = (what: string) => (error: unknown) => context.log(`rewards ${what}: ${messageOf(error)}`);
        const rounds = new Poller({
          tick: async () => {
            if (simulate) {
              for (const campaign of oracle.campaigns()) {
                if (campaign.terms === undefined && campaign.termsHash === DEMO_TERMS_HASH) {
                  oracle.setTerms(campaign.campaignId, DEMO_TERMS);
                }
              }
            }
            return oracle.tick();
          },
          intervalMs: settings.REWARDS_POLL_MS,
          onError: onError("oracle"),
        });
        const simulator =
          registrar === undefined
            ? undefined
            : new VenueSimulator({
                url: () => http.url!,
                domain,
                clock: epochClock,
                registrar,
                now,
                log: context.log,
              });
        const venue =
          simulator === undefined
            ? undefined
            : new Poller({ tick: () => simulator.step(), intervalMs: 1_000, onError: onError("simulator") });
        return {
          url: () => http.url ?? `http://127.0.0.1:${settings.REWARDS_PORT}`,
          async start() {
            const distributor = oracle.distributor;
            const [genesis, epochLength] = await Promise.all([distributor.genesis(), distributor.epochLength()]);
            Object.assign(epochClock, { genesis, epochLength });
            await http.start();
            rounds.start();
            venue?.start();
          },
          async stop() {
            await venue?.stop();
            await rounds.stop();
            await http.stop();
          },
        };
      });
    },
  };
}

/** The oracle keys `REWARDS_ORACLES` names (1, 2, 3), in its order, each once; empty names all three. */
export function oracleIndexes(setting: string): number[] {
  if (setting.trim() === "") return [1, 2, 3];
  return [...new Set(setting.split(",").map(Number))];
}

/**
 * The trust-certificate level of each device owner (docs/certificates.md): for each device registered with a
 * certificate, `CertificateVerifier.certificateOf(uid)` (which refuses anything but a valid certificate: expired,
 * revoked, replaced, an issuer no longer authorized, a retired model), counted only when its subject is the
 * device's owner. An owner with several certificates counts at its highest level.
 */
export async function certificateLevelsOf(
  provider: ChainConnection["provider"],
  verifierAddress: string,
  devices: readonly { readonly owner: string; readonly certificate: string }[],
): Promise<Map<string, number>> {
  const verifier = CertificateVerifier__factory.connect(verifierAddress, provider);
  const levels = new Map<string, number>();
  for (const { owner, certificate } of devices) {
    if (BigInt(certificate) === 0n || BigInt(owner) === 0n) continue;
    try {
      const found = await verifier.certificateOf(certificate);
      if (getAddress(found.subject) !== getAddress(owner)) continue;
      levels.set(getAddress(owner), Math.max(levels.get(getAddress(owner)) ?? 0, Number(found.level)));
    } catch (error) {
      if (decodeRevert(error, CertificateVerifier__factory.abi) === undefined) throw error;
    }
  }
  return levels;
}

export const rewards: ServiceFactory = rewardsService();
