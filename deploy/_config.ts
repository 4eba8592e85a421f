import { isDevnet } from "../src/chain/networks.js";

/** What the deploy scripts deploy, per network kind. Money is integer minor units. */
export const USD = {
  name: "Bank USD",
  symbol: "bUSD",
  currency: "USD",
  /** ISO 4217 minor unit of USD. */
  decimals: 2,
  /** 10 trillion dollars: a ceiling no devnet reaches, raised by the admin as issuance grows. */
  supplyCap: 1_000_000_000_000_000n,
} as const;

/**
 * Whether a deployment seeds demo data (card profiles, a card float, an
 * offline buyer's lock): only on the `localhost` devnet that `npm start` runs,
 * never on a remote network and not on the in-process chain tests deploy to
 * (they set up exactly what each test needs).
 */
export function seedsDemo(env: {
  readonly name: string;
  readonly network: { readonly chain: { readonly id: number } };
}): boolean {
  return isDevnet(env.network.chain.id) && env.name === "localhost";
}

/** Delay of a DEFAULT_ADMIN_ROLE handover (seconds): short on the devnet, two days elsewhere. */
export function adminDelay(chainId: number): number {
  return isDevnet(chainId) ? 3_600 : 2 * 24 * 3_600;
}

/** How long an attestation of a bank's reserve stays valid for minting (seconds). */
export const RESERVE_MAX_AGE = 24 * 3_600;

/** Each devnet bank's trust account: its minter allowance and the reserve first attested for it. */
export const DEVNET_BANK = {
  /** 100 million dollars of minting before the minter admin must raise it. */
  minterAllowance: 10_000_000_000n,
  /** 50 million dollars of fiat in the trust account, attested at deployment. */
  attestedReserve: 5_000_000_000n,
  /** Full reserve. */
  reserveRatioBps: 10_000,
} as const;

/**
 * Each devnet corridor (A→B and B→A) of the InterbankSettlement: at most
 * 10,000,000.00 USD in flight at once, and 50,000,000.00 USD initiated per
 * fixed 24-hour window.
 */
export const DEVNET_CORRIDOR = {
  inFlightCap: 1_000_000_000n,
  windowCap: 5_000_000_000n,
  windowLength: 24 * 3_600,
} as const;

/**
 * Bank A's card accounts on the devnet (AccountLedgerBankA): the minimum
 * reserve ratio of its central token account over its customers' token
 * amounts, the float it funds that account with, and demo cardholders whose
 * wallets are the devnet's unlocked accounts 10 and 11.
 */
export const DEVNET_CARDS = {
  /** 20 %: a fractional reserve. */
  minRatioBps: 2_000,
  /** 200,000.00 USD of BankToken in the central token account. */
  float: 20_000_000n,
  cardholders: [
    { accountId: "card:alice", accountIndex: 10, limit: 500_000n, fiat: 1_000_000n, tokens: 2_500_000n },
    { accountId: "card:bob", accountIndex: 11, limit: 100_000n, fiat: 250_000n, tokens: 400_000n },
  ],
} as const;

/**
 * The OfflineVault's risk limits on the devnet (minor units and seconds): one
 * voucher up to 500.00 USD, 1,000.00 per lane and 2,000.00 per payer per
 * one-day epoch, vouchers valid for at most a day, merchants' views at most
 * six hours old (the merchant's default `maxViewAgeMs`), and withdrawals
 * announced two days ahead (at least the longest voucher life plus the oldest
 * view, as the vault requires).
 */
export const DEVNET_OFFLINE_LIMITS = {
  maxPerVoucher: 50_000n,
  maxPerLane: 100_000n,
  maxPerEpoch: 200_000n,
  maxVoucherAge: 24 * 3_600,
  epochLength: 24 * 3_600,
  withdrawalDelay: 2 * 24 * 3_600,
  maxViewAge: 6 * 3_600,
} as const;

/** The devnet's demo offline buyer (account 19, the last): 1,000.00 USD, of which 500.00 locked in the vault. */
export const DEVNET_OFFLINE_BUYER = {
  accountIndex: 19,
  balance: 100_000n,
  locked: 50_000n,
} as const;

/**
 * The interop layer on the devnet (and its defaults elsewhere): a cross-chain message may wait an hour for
 * delivery and is refundable 15 minutes after that; a recipient call is owed 250,000 gas; two of the three
 * attesters sign; the lane may mint at most 10,000,000.00 USD more than it burned on this chain, and out of
 * its minter allowance of 100,000,000.00 USD; each route carries up to 1,000,000.00 USD per day each way.
 */
export const INTEROP = {
  defaultTtl: 3_600,
  refundDelay: 15 * 60,
  minDeliveryGas: 250_000,
  attesterThreshold: 2,
  laneMinterAllowance: 10_000_000_000n,
  laneMaxNetImport: 1_000_000_000n,
  routeCapacity: 100_000_000n,
  routeWindow: 24 * 3_600,
} as const;

/**
 * The trust certificates (docs/certificates.md). `maxValidity` is the longest a certificate may be valid, which
 * `CertificateResolver` enforces at attestation (`expirationTime <= time + maxValidity`) and cannot change after
 * deployment: 365 days. A certificate is a snapshot of a history up to `asOfBlock`; the issuer may give shorter
 * ones and revokes a certificate whose subject misbehaves afterwards, so the ceiling only bounds how long a
 * forgotten certificate outlives its data. A year is the default model's longest look-back (its `age` cap), and
 * it keeps the X.509 twin, which carries the same validity, under the 398 days relying parties of the Web PKI
 * accept for a leaf certificate.
 */
export const CERTIFICATES = {
  maxValidity: 365 * 24 * 3_600,
} as const;

/**
 * Content rewards (docs/rewards.md). On the devnet an epoch is 30 s and a root can be challenged for 30 s,
 * so `npm start` shows the whole loop (evidence, root, challenge window, claim) in a few minutes; elsewhere an epoch
 * is an hour and the window a day, long enough for a watcher to fetch the evidence, recompute and challenge.
 * Two of the three oracles sign a root.
 */
export const REWARDS = {
  devnet: { epochLength: 30, challengeWindow: 30 },
  elsewhere: { epochLength: 3_600, challengeWindow: 24 * 3_600 },
  threshold: 2,
} as const;

/**
 * The devnet's demo campaign: a sponsor (account 18) is paid 10,000.00 USD by bank A and funds a campaign of
 * 5.00 USD an epoch for 1,440 epochs of 30 s (7,200.00 USD); two demo producers (accounts 16 and 17) have their accounts registered.
 */
export const DEVNET_REWARDS_DEMO = {
  sponsorIndex: 18,
  producers: [
    { id: "producer:studio-north", accountIndex: 16 },
    { id: "producer:studio-south", accountIndex: 17 },
  ],
  balance: 1_000_000n,
  budgetPerEpoch: 500n,
  epochs: 24 * 60,
} as const;

/**
 * The checkout (docs/commerce.md): the currencies it prices in (ISO 4217 minor units), and on the devnet and the
 * in-process chain a EUR/USD price feed (Chainlink's `MockV3Aggregator`, 8 decimals) that the deployment keeps
 * fresh: a re-run (every `npm start`) posts the same answer again once the latest is older than half the feed's
 * `maxStaleness`.
 */
export const COMMERCE = {
  currencies: [
    { code: "USD", minorUnits: 2 },
    { code: "EUR", minorUnits: 2 },
    { code: "JPY", minorUnits: 0 },
  ],
  devnetFeed: {
    base: "EUR",
    quote: "USD",
    decimals: 8,
    /** 1.08500000 USD per EUR. */
    answer: 108_500_000n,
    /** A day: the devnet's feed is posted at each start, a real EUR/USD feed at least daily. */
    maxStaleness: 24 * 3_600,
  },
} as const;

/**
 * The devnet's checkout demo: a shopper (account 12) paid 1,000.00 USD by bank A; the platform's settlement
 * account that checkout payments are captured to (account 13), paid a refund float of 1,000.00 USD (a full refund
 * returns the fee part too, which the settlement account never received) and letting the checkout draw refunds
 * from it; and the platform's fee account (account 14).
 */
export const DEVNET_CHECKOUT_DEMO = {
  shopperIndex: 12,
  merchantIndex: 13,
  feeReceiverIndex: 14,
  shopperBalance: 100_000n,
  refundFloat: 100_000n,
} as const;
