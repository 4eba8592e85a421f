/**
 * `bank-chain offline …`: offline payments between two terminals (docs/offline.md).
 *
 *   offline merchant --amount <minor> --store <file> [--port <n>] [--key-env VAR]
 *       syncs its view of the vault if the RPC answers (else uses the stored view), prints
 *       `offer: bcoffer1:…` on a line of its own, waits for one buyer and prints the decision
 *   offline buyer --offer <text> --max <minor> --state <file> [--key-env VAR] [--unsecured]
 *       pays the merchant of the offer, fully offline, and prints the decision
 *   offline sync --store <file> [--key-env VAR]
 *       submits the pending vouchers and prints each outcome, one line per voucher
 *   offline deposit --amount <minor> [--key-env VAR]
 *       locks BankToken in the vault for offline spending (approves the vault first if needed)
 *   offline withdraw (--request <minor> | --cancel | --execute) [--key-env VAR]
 *       announces, cancels or completes a delayed withdrawal of locked funds
 *
 *   offline resolve --state <file> (--merchant <address> | --lane <n>) [--outcome accepted|unused]
 *       settles the buyer's uncertain lane (a voucher sent without a decision): from the vault's record
 *       of that sequence when it is on chain, or as the merchant said with --outcome
 *
 * Output, as every command group: `key: value` lines for a person by default (amounts in minor units, and
 * as decimals with the token's symbol where the chain was asked; states by name; hashes in full), and with
 * the global `--json` the envelope `{"ok":true,…}` on one line (scripts and the tests read it; amounts are
 * decimal strings of minor units). The merchant's `offer: bcoffer1:…` line comes first in both modes. A
 * failure is one line `bank-chain: …` on stderr, or `{"ok":false,"error":…}` on stdout with `--json`; a
 * revert is decoded to its custom error (`CHAIN_REVERTED`). Progress events go to stderr: `event: k=v …`
 * lines, JSON lines with `--json`.
 *
 * Fault injection (crash tests): `BANK_CHAIN_OFFLINE_SYNC_CRASH_AT=afterMarkSubmitting|afterSend` makes
 * `offline sync` kill itself with SIGKILL right after that step is durable.
 *
 * Keys come from an environment variable (default `BANK_CHAIN_OFFLINE_KEY`), never from a flag, and are
 * never printed. The merchant's key only gives its address; `sync` may use any funded key for secured
 * vouchers (an unsecured EIP-3009 voucher must be pulled by the merchant itself), or the node's first
 * account without `--key-env`.
 */
import { getAddress, isAddress, NonceManager, Wallet, type ContractTransactionResponse, type Signer } from "ethers";

import { openChain } from "../chain/config.js";
import { deploymentsOf, type Deployments } from "../chain/deployments.js";
import { mined } from "../chain/receipts.js";
import {
  lines,
  logTo,
  output,
  walletFromEnv as sharedWalletFromEnv,
  withChain,
  type CommandGroup,
  type GlobalOptions,
  type Program,
} from "../chain/command.js";
import { BankChainError, messageOf } from "../errors.js";
import type { Decision } from "./protocol.js";
import type { SyncOutcome } from "./sync.js";
import type { OfflineVault } from "../../typechain-types/index.js";

// The stores (node:sqlite), the offline services and the generated contract bindings are imported by the
// commands that use them, not at start-up: `--help` and the other parts work before anything is built.
const loadStore = async () => (await import("../store/store.js")).Store;
const loadTypechain = () => import("../../typechain-types/index.js");

/** A bad `offline` argument or a missing key. */
export class OfflineCliError extends BankChainError {}

const DEFAULT_KEY_ENV = "BANK_CHAIN_OFFLINE_KEY";
const UINT = /^[0-9]+$/;

function parseAmount(value: string, field: string): bigint {
  if (!UINT.test(value) || BigInt(value) === 0n || value.length > 40) {
    throw new OfflineCliError(
      "OFFLINE_CLI_BAD_NUMBER",
      `${field} must be a positive integer (minor units), got "${value}"`,
      {
        field,
        value,
      },
    );
  }
  return BigInt(value);
}

function parseInteger(value: string, field: string, min: number, max: number): number {
  const n = UINT.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new OfflineCliError(
      "OFFLINE_CLI_BAD_NUMBER",
      `${field} must be an integer in ${min}..${max}, got "${value}"`,
      {
        field,
        value,
      },
    );
  }
  return n;
}

/** The wallet whose key is in environment variable `name`; the key itself never appears in an error. */
const walletFromEnv = (name: string): Wallet => sharedWalletFromEnv(name, OfflineCliError, "OFFLINE_CLI");

function vaultAddress(deployments: Deployments, flag: string | undefined): string {
  if (flag !== undefined) {
    if (!isAddress(flag)) {
      throw new OfflineCliError("OFFLINE_CLI_BAD_ADDRESS", `--vault must be an address, got "${flag}"`, {
        value: flag,
      });
    }
    return getAddress(flag);
  }
  return deployments.get("OfflineVault").address;
}

/** How the token's amounts read: its decimals and symbol, as the chain answered. */
interface Units {
  readonly decimals: number;
  readonly symbol: string;
}

/** The token's units, or undefined if it does not answer `decimals()`/`symbol()` (amounts then stay minor). */
async function unitsOf(token: { decimals(): Promise<bigint>; symbol(): Promise<string> }): Promise<Units | undefined> {
  try {
    const [decimals, symbol] = await Promise.all([token.decimals(), token.symbol()]);
    return { decimals: Number(decimals), symbol };
  } catch {
    return undefined;
  }
}

/** `amount` minor units as a decimal with `decimals` places: 1250n, 2 → "12.50". */
function decimalText(amount: bigint, decimals: number): string {
  if (decimals === 0) return amount.toString();
  const digits = (amount < 0n ? -amount : amount).toString().padStart(decimals + 1, "0");
  return `${amount < 0n ? "-" : ""}${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

/** `1250 (12.50 bUSD)`: minor units, and the decimal amount when the token's units are known. */
function money(amount: bigint, units: Units | undefined): string {
  return units === undefined ? amount.toString() : `${amount} (${decimalText(amount, units.decimals)} ${units.symbol})`;
}

/** A seconds timestamp as ISO 8601 UTC. */
const isoTime = (seconds: bigint): string => new Date(Number(seconds) * 1000).toISOString();

/** The rows that describe a session's decision (from either side). */
function decisionRows(decision: Decision): Array<[string, string]> {
  return decision.outcome === "accepted"
    ? [
        ["decision", "accepted"],
        ["kind", decision.kind],
        ["voucher", decision.voucherHash],
      ]
    : [
        ["decision", "refused"],
        ["reason", decision.reason],
        ["message", decision.message],
      ];
}

export function addOfflineCommands(program: Program): void {
  const offline = program
    .command("offline")
    .description("offline payments: merchant and buyer sessions, store and forward");
  addMerchantCommand(offline);
  addBuyerCommand(offline);
  addSyncCommand(offline);
  addDepositCommand(offline);
  addWithdrawCommand(offline);
  addResolveCommand(offline);
}

/** `offline merchant`: one offline payment, taken and checked without the chain. */
function addMerchantCommand(offline: CommandGroup): void {
  offline
    .command("merchant")
    .description("take one offline payment: print the offer, wait for a buyer, check its voucher offline")
    .requiredOption("--amount <minor>", "amount asked, minor units")
    .requiredOption("--store <file>", "the merchant's SQLite file")
    .option("--port <n>", "TCP port to listen on (default: any free port)")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--key-env <VAR>", "environment variable holding the merchant's private key", DEFAULT_KEY_ENV)
    .option("--vault <address>", "the OfflineVault (default: from the network's deployments)")
    .option("--ttl <seconds>", "how long the offer stays open", "300")
    .option("--max-view-age <seconds>", "refuse vouchers when the synced view is older than this", "21600")
    .option("--secured-only", "refuse unsecured EIP-3009 vouchers", false)
    .action(async (_o, command) => {
      const options = command.optsWithGlobals();
      const amount = parseAmount(options.amount, "--amount");
      const port = options.port === undefined ? 0 : parseInteger(options.port, "--port", 1, 65_535);
      const ttlMs = parseInteger(options.ttl, "--ttl", 1, 86_400) * 1000;
      const maxViewAgeMs = parseInteger(options.maxViewAge, "--max-view-age", 1, 30 * 86_400) * 1000;
      const wallet = walletFromEnv(options.keyEnv);
      const [Store, { Merchant }, { MerchantStore }] = await Promise.all([
        loadStore(),
        import("./merchant.js"),
        import("./merchant-store.js"),
      ]);
      const store = Store.open({ path: options.store });
      const log = logTo(process.stderr, options.json);
      try {
        const merchant = new Merchant({
          address: wallet.address,
          store: new MerchantStore(store),
          maxViewAgeMs,
          accepts: options.securedOnly ? ["secured"] : ["secured", "unsecured"],
          log,
        });
        try {
          const chain = await openChain({ rpc: options.rpc, network: options.network, timeoutMs: 3_000 });
          try {
            const stored = merchant.store.meta();
            const vault = options.vault ?? stored?.vault;
            // Payers are found from the vault's Deposited events: from its deployment block when known.
            const deployments = deploymentsOf(chain);
            const fromBlock = vault === undefined ? deployments.get("OfflineVault").blockNumber : undefined;
            await merchant.syncView(
              chain.provider,
              vaultAddress(deployments, vault),
              fromBlock === undefined ? {} : { fromBlock },
            );
          } finally {
            await chain.close();
          }
        } catch (error) {
          log("offline_mode", { reason: messageOf(error) });
        }
        merchant.view(); // throws a clear error if it never synced
        let offer = "";
        const outcome = await merchant.runSession({
          amount,
          session: { host: options.host, port, ttlMs },
          // On a line of its own in both modes, at once: the buyer needs it before anything else is printed.
          onOffer: (text) => {
            offer = text;
            process.stdout.write(`offer: ${text}\n`);
          },
        });
        const { decision, voucher, error } = outcome;
        output(options, { offer, decision: decision ?? null, error: error ?? null }, () =>
          lines([
            ...(decision === undefined ? [["decision", "none"] as const] : decisionRows(decision)),
            ...(voucher === undefined
              ? []
              : ([
                  ["payer", voucher.payer],
                  ["amount", voucher.amount.toString()],
                ] as const)),
            ...(error === undefined ? [] : [["error", error] as const]),
          ]),
        );
      } finally {
        store.close();
      }
    });
}

/** `offline buyer`: pay a merchant's offer with a voucher. */
function addBuyerCommand(offline: CommandGroup): void {
  offline
    .command("buyer")
    .description("pay the merchant of an offer with a signed voucher, offline")
    .requiredOption("--offer <text>", "the merchant's offer (bcoffer1:…)")
    .requiredOption("--max <minor>", "the most this payment may be, minor units")
    .requiredOption("--state <file>", "the buyer's lane state (SQLite)")
    .option("--key-env <VAR>", "environment variable holding the buyer's private key", DEFAULT_KEY_ENV)
    .option("--unsecured", "pay with an EIP-3009 authorization on the ordinary balance (no vault)", false)
    .action(async (_o, command) => {
      const options = command.optsWithGlobals();
      const max = parseAmount(options.max, "--max");
      const wallet = walletFromEnv(options.keyEnv);
      const [Store, { Buyer }] = await Promise.all([loadStore(), import("./buyer.js")]);
      const store = Store.open({ path: options.state });
      try {
        const buyer = new Buyer(wallet, store);
        const result = await buyer.pay(options.offer, { max, kind: options.unsecured ? "unsecured" : "secured" });
        const { decision, voucherHash, request } = result;
        output(options, { decision, voucherHash, merchant: request.merchant, amount: BigInt(request.amount) }, () =>
          lines([
            ...decisionRows(decision),
            ...(decision.outcome === "accepted" ? [] : [["voucher", voucherHash] as const]),
            ["merchant", request.merchant],
            ["amount", request.amount],
          ]),
        );
      } finally {
        store.close();
      }
    });
}

/** `offline sync`: redeem the stored vouchers when the chain is reachable. */
function addSyncCommand(offline: CommandGroup): void {
  offline
    .command("sync")
    .description("submit the merchant's pending vouchers and print each outcome")
    .requiredOption("--store <file>", "the merchant's SQLite file")
    .option("--key-env <VAR>", "environment variable holding the sending key (default: the node's first account)")
    .option("--wait <seconds>", "keep retrying with back-off for up to this long", "0")
    .action(async (_o, command) => {
      const options = command.optsWithGlobals();
      const waitMs = parseInteger(options.wait, "--wait", 0, 86_400) * 1000;
      const [Store, { MerchantStore }, { VoucherSync }, { BankToken__factory }] = await Promise.all([
        loadStore(),
        import("./merchant-store.js"),
        import("./sync.js"),
        loadTypechain(),
      ]);
      const store = Store.open({ path: options.store });
      try {
        const merchantStore = new MerchantStore(store);
        const chain = await openChain({ rpc: options.rpc, network: options.network });
        try {
          let signer: Signer;
          if (options.keyEnv !== undefined) signer = walletFromEnv(options.keyEnv).connect(chain.provider);
          else {
            const first = (await chain.getSigners())[0];
            if (first === undefined) {
              throw new OfflineCliError("OFFLINE_CLI_NO_SIGNER", "the node has no account: pass --key-env");
            }
            signer = first;
          }
          const sync = new VoucherSync({
            store: merchantStore,
            signer,
            log: logTo(process.stderr, options.json),
            hooks: crashHooks(),
          });
          const outcomes = waitMs === 0 ? await sync.runOnce() : await sync.run(Date.now() + waitMs);
          const token = merchantStore.meta()?.token;
          const units =
            options.json || outcomes.length === 0 || token === undefined
              ? undefined
              : await unitsOf(BankToken__factory.connect(token, chain.provider));
          output(options, { outcomes }, () =>
            outcomes.length === 0 ? "nothing to submit" : outcomes.map((o) => outcomeLine(o, units)).join("\n"),
          );
        } finally {
          await chain.close();
        }
      } finally {
        store.close();
      }
    });
}

/** `offline deposit`: lock tokens in the vault for offline spending. */
function addDepositCommand(offline: CommandGroup): void {
  offline
    .command("deposit")
    .description("lock BankToken in the OfflineVault for offline spending")
    .requiredOption("--amount <minor>", "amount to lock, minor units")
    .option("--key-env <VAR>", "environment variable holding the payer's private key", DEFAULT_KEY_ENV)
    .option("--vault <address>", "the OfflineVault (default: from the network's deployments)")
    .action(async (_o, command) => {
      const options = command.optsWithGlobals();
      const amount = parseAmount(options.amount, "--amount");
      const wallet = walletFromEnv(options.keyEnv);
      await withPayer(options, wallet, async (vault, payer, { BankToken__factory }) => {
        const token = BankToken__factory.connect(await vault.token(), payer);
        const target = await vault.getAddress();
        const approval =
          (await token.allowance(payer.address, target)) < amount
            ? await sendAndWait(token.approve(target, amount))
            : null;
        const hash = await sendAndWait(vault.deposit(amount));
        const locked = await vault.lockedOf(payer.address);
        const units = await unitsOf(token);
        output(options, { deposited: amount, locked, transaction: hash, approval }, () =>
          lines([
            ["deposited", money(amount, units)],
            ["locked", money(locked, units)],
            ...(approval === null ? [] : [["approval", approval] as const]),
            ["transaction", hash],
          ]),
        );
      });
    });
}

/** `offline withdraw`: announce, cancel or complete a delayed withdrawal. */
function addWithdrawCommand(offline: CommandGroup): void {
  offline
    .command("withdraw")
    .description("announce, cancel or complete a delayed withdrawal of locked funds")
    .option("--request <minor>", "announce a withdrawal of this amount (replaces any earlier one)")
    .option("--cancel", "cancel the pending withdrawal", false)
    .option("--execute", "complete the pending withdrawal once its delay has passed", false)
    .option("--key-env <VAR>", "environment variable holding the payer's private key", DEFAULT_KEY_ENV)
    .option("--vault <address>", "the OfflineVault (default: from the network's deployments)")
    .action(async (_o, command) => {
      const options = command.optsWithGlobals();
      const chosen = [options.request !== undefined, options.cancel, options.execute].filter(Boolean).length;
      if (chosen !== 1) {
        throw new OfflineCliError(
          "OFFLINE_CLI_BAD_ACTION",
          "give exactly one of --request <minor>, --cancel, --execute",
        );
      }
      const amount = options.request === undefined ? 0n : parseAmount(options.request, "--request");
      const wallet = walletFromEnv(options.keyEnv);
      await withPayer(options, wallet, async (vault, payer, { BankToken__factory }) => {
        // What `--execute` takes out: the pending amount before it is paid.
        const [announced] = options.execute ? await vault.pendingWithdrawalOf(payer.address) : [0n];
        const hash = await sendAndWait(
          options.request !== undefined
            ? vault.requestWithdrawal(amount)
            : options.cancel
              ? vault.cancelWithdrawal()
              : vault.withdraw(),
        );
        const [pending, availableAt] = await vault.pendingWithdrawalOf(payer.address);
        const locked = await vault.lockedOf(payer.address);
        const units = await unitsOf(BankToken__factory.connect(await vault.token(), payer));
        const action = options.request !== undefined ? "requested" : options.cancel ? "cancelled" : "completed";
        output(options, { action, transaction: hash, locked, pending, availableAt }, () =>
          lines([
            [
              "withdrawal",
              action === "cancelled"
                ? action
                : `${action} ${money(action === "requested" ? amount : announced, units)}`,
            ],
            ["locked", money(locked, units)],
            ["pending", pending === 0n ? "none" : `${money(pending, units)}, available at ${isoTime(availableAt)}`],
            ["transaction", hash],
          ]),
        );
      });
    });
}

/** `offline resolve`: settle a buyer's lane left uncertain by a dropped session. */
function addResolveCommand(offline: CommandGroup): void {
  offline
    .command("resolve")
    .description("settle the buyer's uncertain lane: a voucher sent without a decision")
    .requiredOption("--state <file>", "the buyer's lane state (SQLite)")
    .option("--merchant <address>", "the merchant whose default lane it is (the lane is its address as a number)")
    .option("--lane <n>", "the lane number")
    .option("--outcome <outcome>", "what the merchant said: accepted or unused (default: ask the chain)")
    .option("--key-env <VAR>", "environment variable holding the buyer's private key", DEFAULT_KEY_ENV)
    .option("--vault <address>", "the OfflineVault (default: from the network's deployments)")
    .action(async (_o, command) => {
      const options = command.optsWithGlobals();
      if ((options.merchant === undefined) === (options.lane === undefined)) {
        throw new OfflineCliError("OFFLINE_CLI_BAD_ACTION", "give exactly one of --merchant <address>, --lane <n>");
      }
      if (options.merchant !== undefined && !isAddress(options.merchant)) {
        throw new OfflineCliError(
          "OFFLINE_CLI_BAD_ADDRESS",
          `--merchant must be an address, got "${options.merchant}"`,
          {
            value: options.merchant,
          },
        );
      }
      if (options.outcome !== undefined && options.outcome !== "accepted" && options.outcome !== "unused") {
        throw new OfflineCliError(
          "OFFLINE_CLI_BAD_OUTCOME",
          `--outcome must be accepted or unused, got "${options.outcome}"`,
          {
            value: options.outcome,
          },
        );
      }
      const lane = options.lane !== undefined ? parseAmount(options.lane, "--lane") : BigInt(options.merchant!);
      const wallet = walletFromEnv(options.keyEnv);
      const [Store, { Buyer }] = await Promise.all([loadStore(), import("./buyer.js")]);
      const store = Store.open({ path: options.state });
      try {
        const buyer = new Buyer(wallet, store);
        await withPayer(options, wallet, async (vault) => {
          const vaultAddr = await vault.getAddress();
          const chainId = (await vault.runner!.provider!.getNetwork()).chainId;
          const state = await buyer.laneState(chainId, vaultAddr, lane);
          if (state.inFlight === undefined) {
            const reason = "no voucher of this lane awaits a decision";
            output(options, { lane, resolved: false, reason }, () =>
              lines([
                ["lane", lane.toString()],
                ["resolved", `no (${reason})`],
              ]),
            );
            return;
          }
          let outcome = options.outcome as "accepted" | "unused" | undefined;
          if (outcome === undefined) {
            const [hash] = await vault.redeemedAt(wallet.address, lane, state.inFlight.sequence);
            if (BigInt(hash) === 0n) {
              throw new OfflineCliError(
                "OFFLINE_CLI_UNRESOLVED",
                `sequence ${state.inFlight.sequence} of lane ${lane} is not redeemed yet: ask the merchant and pass ` +
                  "--outcome accepted|unused, or try again after its sync",
                { lane: lane.toString(), sequence: state.inFlight.sequence.toString() },
              );
            }
            outcome = hash.toLowerCase() === state.inFlight.hash.toLowerCase() ? "accepted" : "unused";
          }
          await buyer.resolveInFlight(chainId, vaultAddr, lane, outcome);
          const voucherHash = state.inFlight.hash;
          output(options, { lane, resolved: true, outcome, voucherHash }, () =>
            lines([
              ["lane", lane.toString()],
              ["resolved", "yes"],
              ["outcome", outcome],
              ["voucher", voucherHash],
            ]),
          );
        });
      } finally {
        store.close();
      }
    });
}

/** One voucher's outcome on one line: `0x<hash>  settled  secured  paid 1250 (12.50 bUSD)  tx 0x…`. */
function outcomeLine(outcome: SyncOutcome, units: Units | undefined): string {
  return [
    outcome.hash,
    outcome.state,
    outcome.kind,
    ...(outcome.paid === undefined ? [] : [`paid ${money(outcome.paid, units)}`]),
    ...(outcome.owed === undefined ? [] : [`owed ${money(outcome.owed, units)}`]),
    ...(outcome.reason === undefined ? [] : [`reason ${outcome.reason}`]),
    ...(outcome.txHash === undefined ? [] : [`tx ${outcome.txHash}`]),
  ].join("  ");
}

/** The sync's crash points for `BANK_CHAIN_OFFLINE_SYNC_CRASH_AT`, if set. */
function crashHooks(): { afterMarkSubmitting?: () => void; afterSend?: () => void } {
  const point = process.env.BANK_CHAIN_OFFLINE_SYNC_CRASH_AT?.trim();
  if (point === undefined || point === "") return {};
  if (point !== "afterMarkSubmitting" && point !== "afterSend") {
    throw new OfflineCliError(
      "OFFLINE_CLI_BAD_CRASH_POINT",
      `BANK_CHAIN_OFFLINE_SYNC_CRASH_AT must be afterMarkSubmitting or afterSend, got "${point}"`,
      { value: point },
    );
  }
  return { [point]: () => void process.kill(process.pid, "SIGKILL") };
}

/**
 * Runs `fn` with the vault connected to the payer's key on the chosen chain; a revert out of `fn` is decoded
 * against the deployed contracts, the vault and the token.
 */
async function withPayer(
  options: GlobalOptions & { vault?: string },
  wallet: Wallet,
  fn: (
    vault: OfflineVault,
    payer: NonceManager & { address: string },
    typechain: Awaited<ReturnType<typeof loadTypechain>>,
  ) => Promise<void>,
): Promise<void> {
  const typechain = await loadTypechain();
  const { OfflineVault__factory, BankToken__factory } = typechain;
  await withChain(
    options,
    async (chain, deployments) => {
      // Nonces counted locally: a provider may answer the pending count from a cache between two sends.
      const payer = Object.assign(new NonceManager(wallet.connect(chain.provider)), { address: wallet.address });
      await fn(OfflineVault__factory.connect(vaultAddress(deployments, options.vault), payer), payer, typechain);
    },
    [OfflineVault__factory.abi, BankToken__factory.abi],
  );
}

/** Sends, waits for the receipt, and returns the transaction hash; a revert is decoded by `withChain`. */
async function sendAndWait(sent: Promise<ContractTransactionResponse>): Promise<string> {
  const tx = await sent;
  await mined(tx);
  return tx.hash;
}
