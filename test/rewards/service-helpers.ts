/**
 * The rewards service's parts on the in-process chain with the whole suite deployed (deploy/009 included): the
 * registry, ingest, oracle rounds and HTTP API over a temporary SQLite file, on a clock the tests move together
 * with the chain's. The oracle rounds run when a test calls `tick()`, not on a timer.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { hexlify, keccak256, randomBytes, toUtf8Bytes, Wallet, ZeroAddress, ZeroHash, type HDNodeWallet } from "ethers";

import { dutyWallet } from "../../src/chain/duty-wallet.js";
import { rewardsDomain, signRecord, epochOf, type EvidenceKind, type RecordKinds } from "../../src/rewards/evidence.js";
import { rewardsHttpServer } from "../../src/rewards/http.js";
import { EvidenceIngest, type EpochClock } from "../../src/rewards/ingest.js";
import { termsHash, type RewardTerms } from "../../src/rewards/oracle.js";
import {
  contentIdOf,
  producerIdOf,
  REGISTRATION_TYPES,
  registrationMessage,
  RewardRegistry,
  venueIdOf,
  type Registration,
} from "../../src/rewards/registry.js";
import { RewardOracle } from "../../src/rewards/runner.js";
import { certificateLevelsOf } from "../../src/rewards/service.js";
import { wire } from "../../src/rewards/simulator.js";
import { Store } from "../../src/store/store.js";
import { RewardDistributor__factory } from "../../typechain-types/index.js";
import { call, type Reply } from "../helpers/http.js";
import { deploySuite, suiteChain } from "../helpers/suite.js";

export const CELL = 0x8928308280fffffn;

export async function rewardsFixture() {
  const suite = await deploySuite();
  const provider = suite.ethers.provider;
  const chain = suiteChain(suite);
  const address = suite.deployments.get("RewardDistributor").address;
  const oracles = await Promise.all(
    (["rewardsOracle1", "rewardsOracle2", "rewardsOracle3"] as const).map((duty) => dutyWallet(chain, duty)),
  );
  const registrar = await dutyWallet(chain, "registrar");
  const distributor = RewardDistributor__factory.connect(address, registrar);
  const domain = rewardsDomain(31337n, address);
  const clock: EpochClock = { genesis: await distributor.genesis(), epochLength: await distributor.epochLength() };
  const window = await distributor.challengeWindow();
  const dir = mkdtempSync(path.join(tmpdir(), "bank-chain-rewards-"));
  const lines: string[] = [];
  const now = async () => BigInt(await suite.networkHelpers.time.latest());
  let chainNow = await now();

  /** Moves the chain (and the service's clock) `seconds` on. */
  async function advance(seconds: bigint | number): Promise<void> {
    await suite.networkHelpers.time.increase(Number(seconds));
    chainNow = await now();
  }
  /** Moves to `at` seconds into the next epoch. */
  async function toNextEpoch(at = 1n): Promise<bigint> {
    const epoch = epochOf(chainNow, clock.genesis, clock.epochLength) + 1n;
    await suite.networkHelpers.time.increaseTo(Number(clock.genesis + epoch * clock.epochLength + at));
    chainNow = await now();
    return epoch;
  }

  /** Starts the service's parts over the fixture's SQLite file (a restart reopens it). */
  async function start(
    options: {
      readonly autoClaim?: boolean;
      readonly oracles?: readonly Wallet[];
      readonly certificateLevels?: boolean;
    } = {},
  ) {
    const store = Store.open({ path: path.join(dir, "rewards.sqlite") });
    const registry = new RewardRegistry(store);
    const ingest = new EvidenceIngest({
      store,
      registry,
      domain,
      clock,
      oracle: (options.oracles ?? oracles)[0]!,
      graceSeconds: 10n,
      skewSeconds: 30n,
      now: () => chainNow,
    });
    const oracle = new RewardOracle({
      store,
      ingest,
      registry,
      provider,
      distributor: address,
      domain,
      clock,
      oracles: options.oracles ?? oracles,
      graceSeconds: 10n,
      autoClaim: options.autoClaim ?? true,
      fromBlock: 0,
      log: (line) => lines.push(line),
      now: () => chainNow,
      ...(options.certificateLevels === true
        ? {
            certificateLevels: (devices: readonly { owner: string; certificate: string }[]) =>
              certificateLevelsOf(provider, suite.deployments.get("CertificateVerifier").address, devices),
          }
        : {}),
    });
    const http = rewardsHttpServer(ingest, registry, oracle, {
      host: "127.0.0.1",
      port: 0,
      log: (line) => lines.push(line),
      health: { blockNumber: () => provider.getBlockNumber(), checkDatabase: () => store.check() },
      isRegistrar: async (who) => distributor.hasRole(await distributor.REGISTRAR_ROLE(), who),
      now: () => chainNow,
      skewSeconds: 30n,
    });
    const url = await http.start();
    return {
      store,
      registry,
      ingest,
      oracle,
      url,
      async stop() {
        await http.stop();
        store.close();
      },
    };
  }

  async function register(url: string, registration: Registration, signer: Wallet | HDNodeWallet = registrar) {
    const signature = await signer.signTypedData(domain, REGISTRATION_TYPES, registrationMessage(registration));
    return call(`${url}/registrations`, "POST", { registration: wire(registration), signature });
  }

  const registration = (fields: Partial<Registration> & Pick<Registration, "kind">): Registration => ({
    id: ZeroHash,
    key: ZeroAddress,
    owner: ZeroAddress,
    cell: 0n,
    producerId: ZeroHash,
    certificate: ZeroHash,
    time: chainNow,
    ...fields,
  });

  /** A venue with its player, `devices` terminals and one content of `producer`, all registered. */
  async function venue(url: string, name: string, devices: number, producer: string) {
    const player = Wallet.createRandom();
    const terminals = Array.from({ length: devices }, () => Wallet.createRandom());
    const venueId = venueIdOf(name);
    const contentId = contentIdOf(`${name}/content`);
    const producerId = producerIdOf(producer);
    await register(url, registration({ kind: "venue", id: venueId, key: player.address, cell: CELL }));
    for (const t of terminals) {
      await register(url, registration({ kind: "device", key: t.address, owner: t.address }));
    }
    await register(url, registration({ kind: "content", id: contentId, producerId }));
    return { player, terminals, venueId, contentId, producerId };
  }

  async function post<K extends EvidenceKind>(
    url: string,
    route: string,
    kind: K,
    signer: Wallet | HDNodeWallet,
    record: RecordKinds[K],
  ): Promise<Reply> {
    const signature = await signRecord(signer, domain, kind, record);
    return call(`${url}${route}`, "POST", { record: wire(record), signature });
  }

  /** One playback of `duration` s at the venue from now, with `present` of its terminals answering a query. */
  async function traffic(url: string, v: Awaited<ReturnType<typeof venue>>, present: number, duration = 20n) {
    const epoch = epochOf(chainNow, clock.genesis, clock.epochLength);
    const start = chainNow;
    const nonce = hexlify(randomBytes(32));
    const replies: Reply[] = [];
    replies.push(
      await post(url, "/presence-queries", "PresenceQuery", v.player, {
        venueId: v.venueId,
        cell: CELL,
        epoch,
        nonce,
        time: chainNow,
      }),
    );
    for (const t of v.terminals.slice(0, present)) {
      replies.push(
        await post(url, "/presence", "PresenceResponse", t, {
          device: t.address,
          venueId: v.venueId,
          epoch,
          nonce,
          time: chainNow,
        }),
      );
    }
    await advance(duration);
    replies.push(
      await post(url, "/playbacks", "Playback", v.player, {
        contentId: v.contentId,
        producerId: v.producerId,
        venueId: v.venueId,
        start,
        duration,
      }),
    );
    return replies;
  }

  /** A campaign funded by a fresh sponsor (paid in by bank A) on `terms`, from this epoch for `epochs`. */
  async function campaign(terms: RewardTerms, budgetPerEpoch: bigint, epochs = 100n, funds?: bigint) {
    const sponsor = suite.others[Math.floor(Math.random() * 5) + 3]!;
    const amount = funds ?? budgetPerEpoch * epochs;
    await suite.trustA.mintForDeposit(
      sponsor.address,
      amount,
      keccak256(toUtf8Bytes(`sponsor/${hexlify(randomBytes(8))}`)),
    );
    await suite.token.connect(sponsor).approve(address, amount);
    const salt = hexlify(randomBytes(32));
    const first = epochOf(chainNow, clock.genesis, clock.epochLength);
    const last = first + epochs - 1n;
    const deadline = clock.genesis + (last + 1n) * clock.epochLength + window + 3_600n;
    await distributor
      .connect(sponsor)
      .createCampaign(salt, budgetPerEpoch, first, last, deadline, termsHash(terms), amount);
    chainNow = await now();
    return { id: (await distributor.campaignIdOf(sponsor.address, salt)).toLowerCase(), sponsor, first, deadline };
  }

  return {
    suite,
    chain,
    provider,
    distributor,
    domain,
    clock,
    window,
    oracles,
    registrar,
    lines,
    start,
    register,
    registration,
    venue,
    post,
    traffic,
    campaign,
    advance,
    toNextEpoch,
    get now() {
      return chainNow;
    },
  };
}
