/**
 * The bench's card accounts on bank A's AccountLedger: a float minted against
 * bank A's trust account and funded into the ledger, then one profile per card,
 * credited by the gateway's key. Works on any provider (the in-process network
 * or the devnet over JSON-RPC): every transaction waits by `mined()`.
 * Each card goes on the gateway's card file (`register`) once its profile is open.
 */
import { keccak256, toUtf8Bytes, Wallet, type Signer } from "ethers";

import { mined } from "../../src/chain/receipts.js";
import { AccountLedger__factory, BankToken__factory, TrustAccount__factory } from "../../typechain-types/index.js";
import { benchCard, type BenchCard } from "./iso8583-load.js";

export interface CardAccountsOptions {
  readonly ledger: string;
  readonly token: string;
  readonly trust: string;
  /** Bank A's key: mints the float, opens the profiles. */
  readonly bank: Signer;
  /** The key holding GATEWAY_ROLE: credits the profiles. */
  readonly gateway: Signer;
  readonly cards: number;
  /** Tokens (minor units) each card's profile starts with. */
  readonly tokensEach: bigint;
  /** Distinguishes the idempotency keys of several runs on one chain. */
  readonly label: string;
  /** Puts a card on the gateway's card file, once its profile is open. */
  readonly register: (card: BenchCard) => void;
}

export async function openBenchCards(options: CardAccountsOptions): Promise<BenchCard[]> {
  const float = options.tokensEach * BigInt(options.cards);
  const key = (what: string) => keccak256(toUtf8Bytes(`bench:${options.label}:${what}`));
  const ledger = AccountLedger__factory.connect(options.ledger, options.bank);
  const trust = TrustAccount__factory.connect(options.trust, options.bank);
  const token = BankToken__factory.connect(options.token, options.bank);
  const bankAddress = await options.bank.getAddress();
  await mined(await trust.mintForDeposit(bankAddress, float, key("float")));
  await mined(await token.approve(options.ledger, float));
  await mined(await ledger.fundTokens(key("fund"), float));
  const cards: BenchCard[] = [];
  for (let n = 0; n < options.cards; n++) {
    const card = benchCard(n + 1, Wallet.createRandom().address);
    await mined(await ledger.openProfile(key(`card:${n}`), card.wallet, 0n));
    await mined(await ledger.connect(options.gateway).credit(key(`seed:${n}`), card.wallet, options.tokensEach));
    options.register(card);
    cards.push(card);
  }
  return cards;
}

/** Every card's profile holds `tokensEach` less one `amount` per approval on it; returns the mismatches. */
export async function checkBalances(
  options: Pick<CardAccountsOptions, "ledger" | "bank" | "tokensEach">,
  cards: readonly BenchCard[],
  approvedDebits: bigint,
  amount: bigint,
): Promise<string[]> {
  const ledger = AccountLedger__factory.connect(options.ledger, options.bank);
  let total = 0n;
  for (const card of cards) total += (await ledger.profileOf(card.wallet)).token;
  const expected = options.tokensEach * BigInt(cards.length) - approvedDebits * amount;
  return total === expected ? [] : [`the cards hold ${total} in all, expected ${expected}: one debit per approval`];
}
