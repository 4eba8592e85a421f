/**
 * The banks' figures over time. A chain answers for its present state (and a
 * devnet resumed from a state file may not answer for old blocks at all), so
 * the console samples each bank's attested reserve, reserve ratio, outstanding
 * issuance, mint headroom and minter allowance into its own SQLite file and
 * charts the rows. A row is written when a figure changed since the bank's
 * last row, so an idle chain adds nothing.
 */
import type { Store } from "../store/store.js";
import type { ChainReader } from "./chain.js";

/** One bank's figures at one block. */
export interface BankSample {
  readonly bank: string;
  readonly block: number;
  readonly at: Date;
  readonly reserve: bigint;
  readonly ratioBps: number;
  readonly outstanding: bigint;
  readonly mintable: bigint;
  readonly allowance: bigint;
}

const MIGRATIONS = [
  {
    version: 1,
    name: "bank samples",
    sql: `CREATE TABLE console_bank_samples (
      bank TEXT NOT NULL,
      block INTEGER NOT NULL,
      at TEXT NOT NULL,
      reserve TEXT NOT NULL,
      ratio_bps INTEGER NOT NULL,
      outstanding TEXT NOT NULL,
      mintable TEXT NOT NULL,
      allowance TEXT NOT NULL,
      PRIMARY KEY (bank, block)
    )`,
  },
];

interface Row {
  bank: string;
  block: number;
  at: string;
  reserve: string;
  ratio_bps: number;
  outstanding: string;
  mintable: string;
  allowance: string;
}

/** The deployment names of the banks' trust accounts (the issuers whose figures the console charts). */
export function bankNames(chain: ChainReader): string[] {
  return [...chain.deployments.contracts.keys()].filter((name) => /^TrustAccount/.test(name)).sort();
}

/** Reads one bank's figures at `block`. */
export async function readBank(chain: ChainReader, bank: string, block: number) {
  const trust = chain.address(bank);
  const [reserve, ratio, outstanding, mintable, allowance, fresh] = await Promise.all([
    chain.view<bigint>("ReserveLedger", "reserveOf", [trust], block, 0),
    chain.view<bigint>("ReserveLedger", "reserveRatioOf", [trust], block),
    chain.view<bigint>("ReserveLedger", "outstandingOf", [trust], block),
    chain.view<bigint>("ReserveLedger", "mintable", [trust], block),
    chain.view<bigint>("BankToken", "minterAllowance", [trust], block),
    chain.view<boolean>("ReserveLedger", "isFresh", [trust], block),
  ]);
  return { trust, reserve, ratio, outstanding, mintable, allowance, fresh };
}

/** Samples the banks of one chain into the console's store. */
export class BankSampler {
  readonly #store: Store;
  readonly #chain: ChainReader;
  readonly #now: () => Date;

  constructor(store: Store, chain: ChainReader, now: () => Date = () => new Date()) {
    store.migrate("console", MIGRATIONS);
    this.#store = store;
    this.#chain = chain;
    this.#now = now;
  }

  /** Reads every bank at the head and stores the rows that differ from each bank's last; returns those. */
  async sample(): Promise<BankSample[]> {
    const block = await this.#chain.provider.getBlockNumber();
    const at = this.#now();
    const written: BankSample[] = [];
    for (const bank of bankNames(this.#chain)) {
      const read = await readBank(this.#chain, bank, block);
      const sample: BankSample = {
        bank,
        block,
        at,
        reserve: read.reserve.value,
        ratioBps: Number(read.ratio.value),
        outstanding: read.outstanding.value,
        mintable: read.mintable.value,
        allowance: read.allowance.value,
      };
      const last = this.samples(bank, 1).at(-1);
      const same =
        last !== undefined &&
        last.reserve === sample.reserve &&
        last.ratioBps === sample.ratioBps &&
        last.outstanding === sample.outstanding &&
        last.mintable === sample.mintable &&
        last.allowance === sample.allowance;
      if (same) continue;
      this.#store.run(
        `INSERT OR REPLACE INTO console_bank_samples (bank, block, at, reserve, ratio_bps, outstanding, mintable, allowance)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        bank,
        block,
        at.toISOString(),
        sample.reserve.toString(),
        sample.ratioBps,
        sample.outstanding.toString(),
        sample.mintable.toString(),
        sample.allowance.toString(),
      );
      written.push(sample);
    }
    return written;
  }

  /** The newest `limit` samples of `bank`, oldest first. */
  samples(bank: string, limit = 500): BankSample[] {
    return this.#store
      .all<Row>("SELECT * FROM console_bank_samples WHERE bank = ? ORDER BY block DESC LIMIT ?", bank, limit)
      .reverse()
      .map((row) => ({
        bank: row.bank,
        block: row.block,
        at: new Date(row.at),
        reserve: BigInt(row.reserve),
        ratioBps: row.ratio_bps,
        outstanding: BigInt(row.outstanding),
        mintable: BigInt(row.mintable),
        allowance: BigInt(row.allowance),
      }));
  }
}
