// StrykerJS on the money-path code only (issue 12): `npm run test:mutation`, or one group with
// `STRYKER_GROUP=ledger npm run test:mutation` (groups: offline, gateway, ledger, reach, agent, checks, bookings, admission, payments, tx-queue, interop, bills, certificates, rewards, keys, keys-holder, commerce,
// commerce-service; several with commas).
// Not in CI: a full run takes long on two cores.
//
// The mocha runner runs the tests in its own Node processes, TypeScript loaded by tsx (`--import tsx`), the tests
// importing `hardhat` and using its in-process network as under `hardhat test`; mutants are switched at run time and
// each runs only the tests that cover it (`perTest`).
//
// The ranges to mutate are found by the functions they start and end at, not by line numbers, so that edits
// elsewhere in a file do not move them; an anchor that is no longer there stops the run with its name.
import { readFileSync } from "node:fs";

/** `file:start-end` from the first line matching `from` to the line before the first later line matching `to`. */
function span(file, from, to) {
  const lines = readFileSync(new URL(file, import.meta.url), "utf8").split("\n");
  const start = lines.findIndex((line) => from.test(line));
  if (start < 0) throw new Error(`stryker.config.mjs: ${file} has no line matching ${from}`);
  const after = to === undefined ? -1 : lines.findIndex((line, i) => i > start && to.test(line));
  if (to !== undefined && after < 0) throw new Error(`stryker.config.mjs: ${file} has no line matching ${to}`);
  const end = to === undefined ? lines.length : after;
  return `${file}:${start + 1}-${end}`;
}

const GROUPS = {
  offline: {
    // The merchant's offline check: the offer, the view's age and the window in the merchant, each voucher kind's
    // rules in its strategy object.
    mutate: () => [
      span("src/offline/merchant.ts", /^ {2}#check\(request/, /^}$/),
      span("src/offline/voucher-kind-secured.ts", /^ {2}check\(offer/, /^ {2}async prepare\(/),
      span("src/offline/voucher-kind-unsecured.ts", /^ {2}check\(offer/, /^ {2}async prepare\(/),
    ],
    tests: ["test/offline/merchant-checks.test.ts", "test/offline/payments.test.ts"],
  },
  gateway: {
    mutate: () => [
      "src/iso8583/responses.ts",
      // Authentication, repeats, amounts, cards, originals, refunds, reversals, posting; then the identity and
      // the parsers of DE 3, DE 90 and DE 95 at the end of the file.
      span("src/iso8583/gateway.ts", /^ {2}#authenticate\(/, /^ {2}#grace\(\): number/),
      span("src/iso8583/gateway.ts", /^function requireFields\(/),
      span("src/iso8583/cards.ts", /^export function isValidPan\(/, /^export function yymm\(/),
      span("src/iso8583/cards.ts", /^ {2}check\(pan/, /^function fromRaw\(/),
      span("src/iso8583/journal.ts", /^ {2}consumed\(originalId/, /^ {2}\/\*\* A reversal arrived/),
    ],
    tests: [
      "test/iso8583/cards.test.ts",
      "test/iso8583/journal.test.ts",
      "test/iso8583/gateway-redteam.test.ts",
      "test/iso8583/gateway-kat.test.ts",
      "test/iso8583/gateway-acquirers.test.ts",
      "test/iso8583/gateway-edges.test.ts",
      "test/iso8583/gateway-codes.test.ts",
      "test/iso8583/gateway-matching.test.ts",
      "test/iso8583/gateway.test.ts",
    ],
  },
  ledger: {
    mutate: () => [
      span(
        "src/settlement/core-ledger.ts",
        /^ {2}post\(entry: JournalEntryInput\)/,
        /^ {2}\/\*\* Whether an entry with this key/,
      ),
      span("src/settlement/core-ledger.ts", /^function checkEntry\(/),
      // Issue 22: an entry's postings and balances written one statement each, its accounts read once per
      // transaction (and forgotten when a status changes).
      span("src/settlement/core-ledger.ts", /^const ROWS_PER_STATEMENT/, /^\/\*\* The effect of one posting/),
      span("src/settlement/core-ledger.ts", /^ {2}#accountInTransaction\(/, /^ {2}#requireAccount\(/),
      span("src/settlement/core-ledger.ts", /^ {2}setStatus\(/, /^ {2}\}$/),
    ],
    tests: [
      "test/settlement/core-ledger.test.ts",
      "test/settlement/core-ledger-keys.test.ts",
      "test/settlement/core-ledger-rules.test.ts",
    ],
  },
  reach: {
    // Issue 15: the role check (what `bank-chain roles` and the deploy's last script hold the chain to) and the
    // Hardhat plugin's check of a remote network's URL and duty keys.
    mutate: () => [span("src/chain/roles.ts", /^export function roleId\(/), "src/chain/hardhat-plugin/network.ts"],
    tests: ["test/chain/roles.test.ts", "test/chain/hardhat-plugin.test.ts", "test/chain/reach-red-team.test.ts"],
  },
  agent: {
    // The agent's outbox: the verdict table, sending what is owed (and asking the chain first where needed: the
    // second range runs from sendPending through settled, drain, and the checks of rows that may have landed, to
    // the chain's verdict), and what a failed send means.
    mutate: () => [
      span("src/settlement/outbox.ts", /^export function verdictOf\(/, /^export interface OutboxSenderOptions/),
      span("src/settlement/outbox.ts", /^ {2}async sendPending\(\)/, /^ {2}\/\*\*$/),
      span("src/settlement/outbox.ts", /^ {2}async #sendFailed\(/, /^}$/),
    ],
    tests: [
      "test/settlement/outbox.test.ts",
      "test/settlement/verdicts.test.ts",
      "test/settlement/outbox-failures.test.ts",
      "test/settlement/outbox-sender.test.ts",
      "test/settlement/inbound-ids.test.ts",
      "test/settlement/agent.test.ts",
    ],
  },
  checks: {
    // Issue 22: the agent's grouped "would the settlement take these orders?" before a 202 (the kit's Coalescer and
    // the agent's flush), the outbox's gas limits learnt per payment, and the expiry scan with the block time it
    // keeps (read once per block) and the step lines it logs.
    mutate: () => [
      "src/chain/coalesce.ts",
      span("src/settlement/agent.ts", /^ {2}async #checkOnChain\(/, /^ {2}\/\/ ─+ the loop/),
      span("src/settlement/agent.ts", /^ {2}async #chainTime\(/, /^function duplicate\(/),
      span("src/settlement/outbox.ts", /^ {2}async #gasLimit\(/, /^ {2}#calldata\(/),
    ],
    tests: [
      "test/chain/coalesce.test.ts",
      "test/settlement/agent-chain-asks.test.ts",
      "test/settlement/agent.test.ts",
      "test/settlement/outbox-sender.test.ts",
      "test/settlement/logs.test.ts",
    ],
  },
  bookings: {
    // Issue 22: an agent's books follow what the chain did to its own payments, whoever signed: outbound events
    // count only for a payment initiated with its own terms, an initiate landing after the payment was given up
    // debits the customer again, a rejection after B's credit reverses it; and a payment it may have sent is given
    // up only once the key's count passes every nonce its transactions may have taken (kept before each handover;
    // a free one burned), so a dropped or unanswered initiate sent again cannot land.
    mutate: () => [
      span("src/settlement/bookings.ts", /^ {2}#outboundOnChain\(/, /^ {2}#outboundSmelted\(/),
      span("src/settlement/bookings.ts", /^ {2}#inboundRejected\(/, /^ {2}\/\*\* The debtor bank closed/),
      span("src/settlement/outbox.ts", /^ {2}async #failOutboundWhenSafe\(/, /^}$/),
    ],
    tests: [
      "test/settlement/late-initiate.test.ts",
      "test/settlement/lost-answers.test.ts",
      "test/settlement/own-key-elsewhere.test.ts",
      "test/settlement/agent.test.ts",
      "test/settlement/outbox-sender.test.ts",
      "test/settlement/outbox-failures.test.ts",
    ],
  },
  admission: {
    // Issue 22: the agent's admission (at most maxOpenPayments open; the kit's AdmissionGate, and the agent's
    // mapping of its refusals) and the raw reads of logs, receipts and block hashes the follower and TxQueue use.
    mutate: () => [
      "src/chain/admission.ts",
      "src/chain/raw-reads.ts",
      span("src/settlement/agent.ts", /^ {2}async submit\(request/, /^ {2}\/\*\* Records the payment, debits/),
    ],
    tests: [
      "test/chain/admission.test.ts",
      "test/chain/raw-reads.test.ts",
      "test/settlement/agent.test.ts",
      "test/settlement/migrations.test.ts",
    ],
  },
  payments: {
    // Issue 22: the payment store's writes that now lean on the table's unique keys and on the caller's reads
    // (insert without a read first, move of a record read in the caller's transaction, the outbox rows handed out
    // with their payments, a batch marked sent and landed at once), and the store's transactions with their
    // commit callbacks and epoch; the timestamps they write.
    mutate: () => [
      span(
        "src/settlement/payments.ts",
        /^ {2}insert\(payment: NewPayment\)/,
        /^ {2}\/\*\* Outbound payments on chain/,
      ),
      span("src/settlement/payments.ts", /^ {2}pendingWithPayments\(/, /^ {2}\/\*\* The outbox rows of one payment/),
      span("src/settlement/payments.ts", /^ {2}sending\(rowIds/, /^ {2}\/\*\* Looks at a row again/),
      span(
        "src/store/store.ts",
        /^ {2}transaction<T>\(fn/,
        /^ {2}\/\*\* Whether a transaction is open on this connection/,
      ),
      span("src/chain/clock.ts", /^export function isoNow\(/),
    ],
    tests: [
      "test/settlement/payment-store.test.ts",
      "test/store/store.test.ts",
      "test/chain/clock.test.ts",
      "test/settlement/migrations.test.ts",
      "test/settlement/payments-list.test.ts",
      "test/settlement/outbox-sender.test.ts",
    ],
  },
  "tx-queue": {
    // Issue 22: the kit's pipelined sender (nonces counted locally, read again after a refused or lost send, a
    // dropped transaction told from an overdue one). The tests run on Anvil.
    mutate: () => ["src/chain/tx-queue.ts", "src/chain/pause.ts"],
    tests: ["test/chain/tx-queue-unit.test.ts", "test/chain/tx-queue.test.ts"],
  },
  interop: {
    // Issue 16: what the API gateway accepts (the payload's rules, the signature checks: low-s ECDSA, ERC-1271,
    // EIP-7702 delegations), how a message is read from its log and its id checked, and what an attester records
    // and signs (delivery and undelivered attestations, only what every node of the chain agrees on).
    mutate: () => [
      span("src/interop/payload.ts", /^export const payloadSchema = z$/, /^export type Payload = /),
      span("src/interop/payload.ts", /^export function recoverEcdsa\(/),
      span("src/interop/messages.ts", /^export function messageIdOf\(/, /^export function attestedGatewayDomain\(/),
      span("src/interop/messages.ts", /^export function messageFromLog\(/, /^export function messageToJson\(/),
      span(
        "src/interop/attester.ts",
        /^ {2}#record\(source: InteropChain, log: FollowedLog\)/,
        /^ {2}async #heads\(\)/,
      ),
    ],
    tests: [
      "test/interop/payload.test.ts",
      "test/interop/messages.test.ts",
      "test/interop/attester.test.ts",
      "test/interop/attester-nodes.test.ts",
    ],
  },
  bills: {
    mutate: () => [span("src/bills/monitor.ts", /^ {2}#onBillLog\(log: FollowedLog\)/, /^ {2}\/\/ ─+ helpers/)],
    tests: ["test/bills/anomalies.test.ts", "test/bills/monitor.test.ts"],
  },
  certificates: {
    // The certificate scorer (issue 17): the formula, the Merkle leaves, the model's rules and canonical hash, the
    // features' checks; and the proof of possession (the key, the signature, the single-use challenge). Pure code:
    // the tests need no network.
    mutate: () => [
      "src/certificates/score.ts",
      "src/certificates/model.ts",
      "src/certificates/features.ts",
      "src/certificates/pop.ts",
    ],
    tests: ["test/certificates/score.test.ts", "test/certificates/pop.test.ts"],
  },
  rewards: {
    // Content rewards (issue 18): the oracle's counting rules and curve (from isqrt to the end of computeEpoch) and
    // both Merkle trees (the evidence list with its omission and duplicate proofs, the producers' cumulatives).
    // Pure code: the tests need no network.
    mutate: () => [span("src/rewards/oracle.ts", /^export function isqrt\(/), "src/rewards/trees.ts"],
    tests: ["test/rewards/evidence.test.ts", "test/rewards/trees.test.ts", "test/rewards/oracle.test.ts"],
  },
  keys: {
    // Secret-shared keys (issue 19): the share commitment and every check before combining; the channel's
    // transcript, key schedule, nonces, additional data and frame order. Pure code: the tests need no network.
    mutate: () => [
      span("src/keys/shares.ts", /^export function shareCommitment\(/, /^export function encodeShare\(/),
      span("src/keys/channel.ts", /^function transcriptHash\(/, /^function ephemeralOf\(/),
    ],
    tests: ["test/keys/shares.test.ts", "test/keys/channel.test.ts"],
  },
  "keys-holder": {
    // Secret-shared keys (issue 19): what a holder checks on the registry before it stores or hands over a share
    // (#perform, #authorize), and how the client pins a holder to the registry's address (identity, open). The
    // tests stand the holders up on the in-process chain.
    mutate: () => [
      span("src/keys/holder.ts", /^ {2}#perform\(/, /^ {2}#audit\(/),
      span("src/keys/client.ts", /^ {2}async identity\(\)/, /^function refusal\(/),
    ],
    tests: ["test/keys/service.test.ts", "test/keys/red-team.test.ts"],
  },
  commerce: {
    // The checkout (issue 20), pure code: the fiat-to-token conversion and deviation rule the contract also checks,
    // the ERC-681 payment request and deposit address, the receipt's canonical JSON and hash.
    mutate: () => ["src/commerce/price.ts", "src/commerce/payment-request.ts", "src/commerce/receipt.ts"],
    tests: ["test/commerce/price.test.ts", "test/commerce/payment-request.test.ts", "test/commerce/receipt.test.ts"],
  },
  "commerce-service": {
    // The checkout (issue 20), the money moves: the verifier's event handlers and steps (collect, return, expire,
    // buy, capture, void), the quote's price and signature, and the adapter's check of a retailer's answer. The
    // tests stand the service up on the in-process chain with a real retailer over HTTP.
    mutate: () => [
      span("src/commerce/processor.ts", /^ {2}#seen\(/, /^ {2}async #pending\(/),
      span("src/commerce/quote.ts", /^ {2}async quote\(/, /^ {2}async #chainNow\(/),
      span("src/commerce/retailer-client.ts", /^ {2}async order\(/, /^ {2}async cancel\(/),
    ],
    tests: [
      "test/commerce/service.test.ts",
      "test/commerce/red-team.test.ts",
      "test/commerce/quote.test.ts",
      "test/commerce/retailer-client.test.ts",
      "test/commerce/verifier.test.ts",
      "test/commerce/adapter.test.ts",
    ],
  },
};

const chosen = (process.env.STRYKER_GROUP ?? Object.keys(GROUPS).join(","))
  .split(",")
  .map((name) => name.trim())
  .filter((name) => name.length > 0);
for (const name of chosen) {
  if (!(name in GROUPS)) throw new Error(`STRYKER_GROUP: no group ${name}; groups: ${Object.keys(GROUPS).join(", ")}`);
}
const label = chosen.join("-");

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: "npm",
  testRunner: "mocha",
  testRunnerNodeArgs: ["--import", "tsx", "--disable-warning=ExperimentalWarning"],
  mochaOptions: {
    spec: [...new Set(chosen.flatMap((name) => GROUPS[name].tests))],
    // Mocha's own settings as `hardhat test` gives them (hardhat.config.ts: a 120 s timeout).
    config: "stryker.mocharc.json",
  },
  coverageAnalysis: "perTest",
  mutate: chosen.flatMap((name) => GROUPS[name].mutate()),
  // Error messages are free text no caller branches on (STYLE.md: callers branch on class and code); a mutant of
  // one is noise. Refusal reasons and codes are string literals too but sit in typed unions the tests assert.
  mutator: { excludedMutations: ["StringLiteral"] },
  concurrency: 2,
  timeoutMS: 30_000,
  timeoutFactor: 2,
  thresholds: { high: 90, low: 85, break: null },
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: `reports/mutation/${label}.html` },
  jsonReporter: { fileName: `reports/mutation/${label}.json` },
  tempDirName: ".stryker-tmp",
  cleanTempDir: true,
  ignorePatterns: [".bank-chain", "coverage", "reports", "bench/results", "deployments/localhost"],
};
