/**
 * The simulated venue `npm start` runs on the devnet (docs/rewards.md, "Try it"): a lobby screen in one H3 cell,
 * its player and eight user terminals, with keys from the public test mnemonic (accounts 100 to 108, never
 * funded, never a duty). It registers itself through the service's API with the registrar's signature, then,
 * every few seconds, asks who is around (a signed `PresenceQuery`), lets a random handful of terminals answer
 * (signed `PresenceResponse`s), and every `playbackSeconds` reports what it played (a signed `Playback`, the two
 * demo producers' spots in turn). Everything goes through `POST` like an outside venue's traffic.
 */
import { HDNodeWallet, hexlify, randomBytes, Wallet, ZeroAddress, ZeroHash, type TypedDataDomain } from "ethers";

import { PUBLIC_TEST_MNEMONIC } from "../chain/published-keys.js";
import { epochEnd, epochOf, signRecord, type EvidenceKind, type RecordKinds } from "./evidence.js";
import type { EpochClock } from "./ingest.js";
import type { RewardTerms } from "./oracle.js";
import {
  contentIdOf,
  producerIdOf,
  REGISTRATION_TYPES,
  registrationMessage,
  venueIdOf,
  type Registration,
} from "./registry.js";

/** The demo venue: a lobby in San Francisco's H3 cell 8928308280fffff (resolution 9). */
export const DEMO_VENUE = { name: "venue:lobby", cell: 0x8928308280fffffn } as const;

/** The demo content: one spot of each demo producer (deploy/_config.ts `DEVNET_REWARDS_DEMO`). */
export const DEMO_CONTENT = [
  { name: "content:spot-north", producer: "producer:studio-north" },
  { name: "content:spot-south", producer: "producer:studio-south" },
] as const;

/** The salt of the demo campaign (its id is keccak256(sponsor, salt) on chain). */
export const DEMO_CAMPAIGN_SALT = producerIdOf("bank-chain/devnet/rewards/demo-campaign");

/**
 * The demo campaign's terms: both spots; a playback counts from three terminals (k); a terminal counts in at most
 * two venues an epoch; at most 30 s of a playback count; 2 base units (0.02 USD) per unit of weight.
 */
export const DEMO_TERMS: RewardTerms = {
  contentIds: DEMO_CONTENT.map((content) => contentIdOf(content.name)),
  k: 3,
  maxVenuesPerDevice: 2,
  maxSeconds: 30n,
  ratePerUnit: 2n,
};

/** First account index of the simulated keys in the public test mnemonic. */
const FIRST_KEY = 100;
const TERMINALS = 8;

function demoKey(index: number): Wallet {
  const node = HDNodeWallet.fromPhrase(PUBLIC_TEST_MNEMONIC, undefined, `m/44'/60'/0'/0/${FIRST_KEY + index}`);
  return new Wallet(node.privateKey);
}

export interface SimulatorOptions {
  /** The rewards API, e.g. `http://127.0.0.1:8640`. */
  readonly url: () => string;
  readonly domain: TypedDataDomain;
  /** The distributor's epoch clock (read at each step: the service fills it in at start). */
  readonly clock: EpochClock;
  /** The registrar duty's key (signs the registrations). */
  readonly registrar: Wallet;
  /** Unix seconds now. */
  readonly now: () => bigint;
  readonly log: (line: string) => void;
  /** Seconds between two presence queries. */
  readonly queryEverySeconds?: number;
  /** Length of one playback. */
  readonly playbackSeconds?: number;
  readonly random?: () => number;
}

/** The venue's traffic, one `step()` at a time (the service runs it on a Poller). */
export class VenueSimulator {
  readonly #options: SimulatorOptions;
  readonly #player = demoKey(0);
  readonly #terminals = Array.from({ length: TERMINALS }, (_, i) => demoKey(i + 1));
  readonly #venueId = venueIdOf(DEMO_VENUE.name);
  #registered = false;
  #lastQuery = 0n;
  #playbackStart: bigint | undefined;
  #next = 0;

  constructor(options: SimulatorOptions) {
    this.#options = options;
  }

  get venueId(): string {
    return this.#venueId;
  }

  /** Registers the venue, terminals and content (once), then sends what is due now. */
  async step(): Promise<void> {
    if (!this.#registered) {
      await this.#register();
      this.#registered = true;
    }
    const now = this.#options.now();
    const every = BigInt(this.#options.queryEverySeconds ?? 5);
    const length = BigInt(this.#options.playbackSeconds ?? 20);
    const { genesis, epochLength } = this.#options.clock;
    if (now < genesis) return;
    const epoch = epochOf(now, genesis, epochLength);
    if (now - this.#lastQuery >= every) {
      this.#lastQuery = now;
      await this.#presence(epoch, now);
    }
    if (this.#playbackStart === undefined) this.#playbackStart = now;
    const end = epochEnd(epochOf(this.#playbackStart, genesis, epochLength), genesis, epochLength);
    const stop = this.#playbackStart + length < end ? this.#playbackStart + length : end;
    if (now >= stop) {
      const content = DEMO_CONTENT[this.#next % DEMO_CONTENT.length]!;
      this.#next += 1;
      await this.#post("/playbacks", "Playback", this.#player, {
        contentId: contentIdOf(content.name),
        producerId: producerIdOf(content.producer),
        venueId: this.#venueId,
        start: this.#playbackStart,
        duration: stop - this.#playbackStart,
      });
      this.#playbackStart = stop;
    }
  }

  async #presence(epoch: bigint, now: bigint): Promise<void> {
    const nonce = hexlify(randomBytes(32));
    await this.#post("/presence-queries", "PresenceQuery", this.#player, {
      venueId: this.#venueId,
      cell: DEMO_VENUE.cell,
      epoch,
      nonce,
      time: now,
    });
    const random = this.#options.random ?? Math.random;
    const present = this.#terminals.filter(() => random() < 0.6);
    for (const terminal of present) {
      await this.#post("/presence", "PresenceResponse", terminal, {
        device: terminal.address,
        venueId: this.#venueId,
        epoch,
        nonce,
        time: now,
      });
    }
  }

  async #register(): Promise<void> {
    const time = this.#options.now();
    const registrations: Registration[] = [
      {
        kind: "venue",
        id: this.#venueId,
        key: this.#player.address,
        owner: ZeroAddress,
        cell: DEMO_VENUE.cell,
        producerId: ZeroHash,
        certificate: ZeroHash,
        time,
      },
      ...this.#terminals.map((terminal): Registration => ({
        kind: "device",
        id: ZeroHash,
        key: terminal.address,
        owner: terminal.address,
        cell: 0n,
        producerId: ZeroHash,
        certificate: ZeroHash,
        time,
      })),
      ...DEMO_CONTENT.map((content): Registration => ({
        kind: "content",
        id: contentIdOf(content.name),
        key: ZeroAddress,
        owner: ZeroAddress,
        cell: 0n,
        producerId: producerIdOf(content.producer),
        certificate: ZeroHash,
        time,
      })),
    ];
    for (const registration of registrations) {
      const signature = await this.#options.registrar.signTypedData(
        this.#options.domain,
        REGISTRATION_TYPES,
        registrationMessage(registration),
      );
      await this.#send("/registrations", { registration: wire(registration), signature });
    }
    this.#options.log(`rewards simulator: venue ${DEMO_VENUE.name}, ${TERMINALS} terminals and 2 spots registered`);
  }

  async #post<K extends EvidenceKind>(path: string, kind: K, key: Wallet, record: RecordKinds[K]): Promise<void> {
    const signature = await signRecord(key, this.#options.domain, kind, record);
    await this.#send(path, { record: wire(record), signature });
  }

  async #send(path: string, body: unknown): Promise<void> {
    const response = await fetch(`${this.#options.url()}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (response.status >= 400) {
      const text = await response.text();
      this.#options.log(`rewards simulator: POST ${path} answered ${response.status} ${text.slice(0, 300)}`);
    }
  }
}

/** A record in its JSON wire form (bigints as decimal strings). */
export function wire(record: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(record).map(([key, value]) => [key, typeof value === "bigint" ? value.toString() : value]),
  );
}
