/**
 * The reward oracle's registry (docs/rewards.md, "Registry"): venues with their location cell and player key,
 * devices with their owner (and optionally the trust certificate the owner holds), content with its producer.
 * An entry is written only from a `Registration` signed (EIP-712, the rewards domain) by an account that holds
 * `REGISTRAR_ROLE` on the RewardDistributor, so the registry's authority is the chain's; a later registration of
 * the same entry replaces it only with a later `time`, so an old one replayed cannot roll an entry back.
 */
import {
  getAddress,
  keccak256,
  toUtf8Bytes,
  verifyTypedData,
  ZeroAddress,
  ZeroHash,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";

import { BankChainError } from "../errors.js";
import type { Migration, Store } from "../store/store.js";

/** A registration that cannot be applied. */
export class RegistryError extends BankChainError {}

/** `Registration.kind`. */
export const REGISTRATION_KINDS = ["venue", "device", "content"] as const;
export type RegistrationKind = (typeof REGISTRATION_KINDS)[number];

/** The EIP-712 type the registrar signs. Unused fields of a kind are zero. */
export const REGISTRATION_TYPES: Record<string, TypedDataField[]> = {
  Registration: [
    { name: "kind", type: "uint8" },
    { name: "id", type: "bytes32" },
    { name: "key", type: "address" },
    { name: "owner", type: "address" },
    { name: "cell", type: "uint64" },
    { name: "producerId", type: "bytes32" },
    { name: "certificate", type: "bytes32" },
    { name: "time", type: "uint64" },
  ],
};

/**
 * One registration:
 * - venue: `id` the venue, `key` its player, `cell` its H3 cell;
 * - device: `key` the device, `owner` its owner (zero retires the device), `certificate` the owner's trust
 *   certificate uid or zero;
 * - content: `id` the content, `producerId` its producer.
 */
export interface Registration {
  readonly kind: RegistrationKind;
  readonly id: string;
  readonly key: string;
  readonly owner: string;
  readonly cell: bigint;
  readonly producerId: string;
  readonly certificate: string;
  /** Unix seconds; orders registrations of one entry. */
  readonly time: bigint;
}

export interface Venue {
  readonly venueId: string;
  readonly cell: bigint;
  readonly player: string;
  readonly registeredAt: bigint;
}

export interface Device {
  readonly device: string;
  /** Zero when retired. */
  readonly owner: string;
  readonly certificate: string;
  readonly registeredAt: bigint;
}

export interface Content {
  readonly contentId: string;
  readonly producerId: string;
  readonly registeredAt: bigint;
}

/** A readable id (`venue:lobby`, `producer:studio-north`) as bytes32: keccak256 of its UTF-8. */
export function idOf(name: string): string {
  return keccak256(toUtf8Bytes(name));
}
export const producerIdOf = idOf;
export const venueIdOf = idOf;
export const contentIdOf = idOf;

/** The EIP-712 message of a registration. */
export function registrationMessage(registration: Registration): Record<string, unknown> {
  return {
    kind: REGISTRATION_KINDS.indexOf(registration.kind),
    id: registration.id,
    key: registration.key,
    owner: registration.owner,
    cell: registration.cell,
    producerId: registration.producerId,
    certificate: registration.certificate,
    time: registration.time,
  };
}

/** Who signed `registration` (plain ECDSA recovery; the caller checks the role). */
export function registrationSigner(domain: TypedDataDomain, registration: Registration, signature: string): string {
  return getAddress(verifyTypedData(domain, REGISTRATION_TYPES, registrationMessage(registration), signature));
}

/**
 * Whether `cell` is an H3 cell index (mode 1, reserved bits zero, a resolution and base cell in range). The
 * oracle compares cells for equality only, so it needs no geometry library.
 */
export function isH3Cell(cell: bigint): boolean {
  if (cell <= 0n || cell >= 1n << 64n) return false;
  const mode = (cell >> 59n) & 0xfn;
  const reserved = (cell >> 56n) & 0x7n;
  const resolution = Number((cell >> 52n) & 0xfn);
  const baseCell = (cell >> 45n) & 0x7fn;
  if (mode !== 1n || reserved !== 0n || cell >> 63n !== 0n || baseCell > 121n) return false;
  // Digits below the resolution are 7 (unused).
  for (let r = resolution + 1; r <= 15; r += 1) {
    if (((cell >> BigInt((15 - r) * 3)) & 7n) !== 7n) return false;
  }
  return true;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "venues, devices and content",
    sql: `
      CREATE TABLE reward_venues (
        venue_id TEXT PRIMARY KEY, cell TEXT NOT NULL, player TEXT NOT NULL, registered_at INTEGER NOT NULL
      );
      CREATE TABLE reward_devices (
        device TEXT PRIMARY KEY, owner TEXT NOT NULL, certificate TEXT NOT NULL, registered_at INTEGER NOT NULL
      );
      CREATE TABLE reward_contents (
        content_id TEXT PRIMARY KEY, producer_id TEXT NOT NULL, registered_at INTEGER NOT NULL
      );
    `,
  },
];

const lower = (value: string) => value.toLowerCase();

/** The registry in the service's SQLite file. */
export class RewardRegistry {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
    store.migrate("reward-registry", MIGRATIONS);
  }

  /**
   * Applies a registration already authorized by the caller. Returns false (and changes nothing) when the entry
   * has a registration at this `time` or later.
   * @throws RegistryError `REWARDS_BAD_REGISTRATION` for fields a kind does not allow.
   */
  apply(registration: Registration): boolean {
    const { kind, time } = registration;
    const bad = (message: string) =>
      new RegistryError("REWARDS_BAD_REGISTRATION", `${kind} registration: ${message}`, { kind });
    return this.#store.transaction(() => {
      if (kind === "venue") {
        if (registration.id === ZeroHash) throw bad("the venue id is zero");
        if (registration.key === ZeroAddress) throw bad("the player key is zero");
        if (!isH3Cell(registration.cell)) throw bad(`cell ${registration.cell.toString(16)} is not an H3 cell index`);
        const row = this.#store.get<{ registered_at: number }>(
          "SELECT registered_at FROM reward_venues WHERE venue_id = ?",
          lower(registration.id),
        );
        if (row !== undefined && BigInt(row.registered_at) >= time) return false;
        this.#store.run(
          "INSERT OR REPLACE INTO reward_venues (venue_id, cell, player, registered_at) VALUES (?, ?, ?, ?)",
          lower(registration.id),
          registration.cell.toString(),
          getAddress(registration.key),
          time,
        );
        return true;
      }
      if (kind === "device") {
        if (registration.key === ZeroAddress) throw bad("the device key is zero");
        const row = this.#store.get<{ registered_at: number }>(
          "SELECT registered_at FROM reward_devices WHERE device = ?",
          getAddress(registration.key),
        );
        if (row !== undefined && BigInt(row.registered_at) >= time) return false;
        this.#store.run(
          "INSERT OR REPLACE INTO reward_devices (device, owner, certificate, registered_at) VALUES (?, ?, ?, ?)",
          getAddress(registration.key),
          getAddress(registration.owner),
          lower(registration.certificate),
          time,
        );
        return true;
      }
      if (registration.id === ZeroHash || registration.producerId === ZeroHash) {
        throw bad("the content id and the producer id must not be zero");
      }
      const row = this.#store.get<{ registered_at: number }>(
        "SELECT registered_at FROM reward_contents WHERE content_id = ?",
        lower(registration.id),
      );
      if (row !== undefined && BigInt(row.registered_at) >= time) return false;
      this.#store.run(
        "INSERT OR REPLACE INTO reward_contents (content_id, producer_id, registered_at) VALUES (?, ?, ?)",
        lower(registration.id),
        lower(registration.producerId),
        time,
      );
      return true;
    });
  }

  venue(venueId: string): Venue | undefined {
    const row = this.#store.get<{ venue_id: string; cell: string; player: string; registered_at: number }>(
      "SELECT * FROM reward_venues WHERE venue_id = ?",
      lower(venueId),
    );
    return row === undefined
      ? undefined
      : { venueId: row.venue_id, cell: BigInt(row.cell), player: row.player, registeredAt: BigInt(row.registered_at) };
  }

  device(device: string): Device | undefined {
    const row = this.#store.get<{ device: string; owner: string; certificate: string; registered_at: number }>(
      "SELECT * FROM reward_devices WHERE device = ?",
      getAddress(device),
    );
    return row === undefined
      ? undefined
      : { device: row.device, owner: row.owner, certificate: row.certificate, registeredAt: BigInt(row.registered_at) };
  }

  content(contentId: string): Content | undefined {
    const row = this.#store.get<{ content_id: string; producer_id: string; registered_at: number }>(
      "SELECT * FROM reward_contents WHERE content_id = ?",
      lower(contentId),
    );
    return row === undefined
      ? undefined
      : { contentId: row.content_id, producerId: row.producer_id, registeredAt: BigInt(row.registered_at) };
  }

  venues(): Venue[] {
    return this.#store
      .all<{ venue_id: string; cell: string; player: string; registered_at: number }>(
        "SELECT * FROM reward_venues ORDER BY venue_id",
      )
      .map((row) => ({
        venueId: row.venue_id,
        cell: BigInt(row.cell),
        player: row.player,
        registeredAt: BigInt(row.registered_at),
      }));
  }

  devices(): Device[] {
    return this.#store
      .all<{ device: string; owner: string; certificate: string; registered_at: number }>(
        "SELECT * FROM reward_devices ORDER BY device",
      )
      .map((row) => ({
        device: row.device,
        owner: row.owner,
        certificate: row.certificate,
        registeredAt: BigInt(row.registered_at),
      }));
  }

  contents(): Content[] {
    return this.#store
      .all<{ content_id: string; producer_id: string; registered_at: number }>(
        "SELECT * FROM reward_contents ORDER BY content_id",
      )
      .map((row) => ({
        contentId: row.content_id,
        producerId: row.producer_id,
        registeredAt: BigInt(row.registered_at),
      }));
  }
}
