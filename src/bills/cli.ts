/**
 * `bank-chain bills …`: bill commands that read the chain or write to it.
 *
 *   bills show <id>      the bill: definition, state, parties by role, amounts, deadlines, possible operations
 *   bills history <id>   every event of a bill, replayed from the BillRegistry's logs
 *   bills issue …        issues a bill (the `--from` account is the drawer, whose address
 *                        begins the bill id: only it may issue under that id)
 *   bills exec <operation> <id> [--to <address>] [--amount <n>] [--endorser <index>]
 *                        performs any operation of the bill's definition (REQUEST_ACCEPTANCE, ACCEPT,
 *                        REJECT_ACCEPTANCE, CANCEL, ENDORSE, OFFER_DISCOUNT, DISCOUNT, REQUEST_PAYMENT, PAY,
 *                        PAY_PARTIAL, REJECT_PAYMENT, RECOURSE, MARK_OVERDUE, DISPUTE, RESOLVE)
 *   bills accept <id>    the same as `exec ACCEPT`
 *   bills endorse <id> <to>
 *   bills pay <id> [--amount <n>]   pays in full, or in part; approves the registry first if needed
 *
 * The writing commands sign with `--from <index|address>`, one of the chain's
 * signers (default 0), and print the transaction hash, the bill's new state
 * and its parties. An operation that moves the right to money (ACCEPT,
 * ENDORSE, DISCOUNT, PAY, PAY_PARTIAL, RECOURSE) first names the drawer and
 * the payee, and needs `--yes` (or a "y" on a terminal).
 */
import { createInterface } from "node:readline/promises";

import { Option } from "@commander-js/extra-typings";
import {
  AbiCoder,
  encodeBytes32String,
  getAddress,
  isAddress,
  MaxUint256,
  ZeroAddress,
  ZeroHash,
  type ContractTransactionResponse,
  type Signer,
} from "ethers";

import type { ChainConnection } from "../chain/config.js";
import { contractAt, type Deployments } from "../chain/deployments.js";
import { formatArg, shortString } from "../chain/reverts.js";
import { mined as minedReceipt } from "../chain/receipts.js";
import { output, withChain, type CommandGroup, type GlobalOptions, type Program } from "../chain/command.js";
import { BankChainError } from "../errors.js";
import type { BankToken, BillRegistry } from "../../typechain-types/index.js";
import { BILL_ENUM_NAMES, Party } from "./enums.js";
import { drawerOfBillId, randomBillId } from "./ids.js";

/** A `bills` command was given a bad argument, found nothing, or was not confirmed. */
export class BillCliError extends BankChainError {}

const BILL_ID = /^0x[0-9a-fA-F]{64}$/;
const UINT = /^[0-9]+$/;
const MAX_UINT40 = (1n << 40n) - 1n;
const coder = AbiCoder.defaultAbiCoder();

/** `--type` values and the definition names they stand for. */
const BILL_TYPES = { "bill-of-exchange": "BILL_OF_EXCHANGE", "e-invoice": "E_INVOICE" } as const;
type BillType = keyof typeof BILL_TYPES;

/** What an operation's `data` carries (docs/bills.md, "Effect kinds"). */
type DataKind = "none" | "address" | "amount" | "endorser" | "remaining";

interface OperationSpec {
  readonly data: DataKind;
  /** Moves the right to money (commits to pay, transfers it, or pays): needs confirmation. */
  readonly moves: boolean;
  /** Pays tokens from the signer to the holder: the registry needs an allowance. */
  readonly pays: boolean;
  readonly help: string;
}

/** Every operation of the shipped definitions (deploy/_bills.ts), other than ISSUE. */
export const OPERATIONS: Readonly<Record<string, OperationSpec>> = {
  REQUEST_ACCEPTANCE: { data: "none", moves: false, pays: false, help: "holder asks the drawee to accept" },
  ACCEPT: { data: "none", moves: true, pays: false, help: "drawee accepts: commits to pay" },
  REJECT_ACCEPTANCE: { data: "none", moves: false, pays: false, help: "drawee refuses acceptance" },
  CANCEL: { data: "none", moves: false, pays: false, help: "drawer cancels before acceptance" },
  ENDORSE: { data: "address", moves: true, pays: false, help: "holder endorses to --to" },
  OFFER_DISCOUNT: { data: "address", moves: false, pays: false, help: "holder offers it for discount to --to" },
  DISCOUNT: { data: "amount", moves: true, pays: true, help: "financier buys it for --amount" },
  REQUEST_PAYMENT: { data: "none", moves: false, pays: false, help: "holder asks for payment" },
  PAY: { data: "remaining", moves: true, pays: true, help: "payer pays what remains" },
  PAY_PARTIAL: { data: "amount", moves: true, pays: true, help: "payer pays --amount (less than remains)" },
  REJECT_PAYMENT: { data: "none", moves: false, pays: false, help: "payer refuses payment" },
  RECOURSE: { data: "endorser", moves: true, pays: false, help: "holder turns to endorser --endorser as payer" },
  MARK_OVERDUE: { data: "none", moves: false, pays: false, help: "anyone records a passed deadline" },
  DISPUTE: { data: "none", moves: false, pays: false, help: "drawee disputes an e-invoice" },
  RESOLVE: { data: "none", moves: false, pays: false, help: "drawer resolves the dispute" },
};

const PARTY_NAMES = Object.fromEntries(Object.entries(Party).map(([name, n]) => [n, name])) as Record<number, string>;

function parseBillId(value: string, field = "bill id"): string {
  if (!BILL_ID.test(value)) {
    throw new BillCliError("BILL_CLI_BAD_ID", `${field} must be 0x and 64 hex digits, got "${value}"`, {
      field,
      value,
    });
  }
  return value.toLowerCase();
}

function parseAddress(value: string, field: string): string {
  if (!isAddress(value)) {
    throw new BillCliError(
      "BILL_CLI_BAD_ADDRESS",
      `${field} must be an address (0x and 40 hex digits), got "${value}"`,
      {
        field,
        value,
      },
    );
  }
  return getAddress(value);
}

/** A non-negative integer up to `max`; `positive` refuses zero. */
function parseUint(value: string, field: string, max: bigint, positive: boolean): bigint {
  const n = UINT.test(value) ? BigInt(value) : undefined;
  if (n === undefined || n > max || (positive && n === 0n)) {
    throw new BillCliError(
      "BILL_CLI_BAD_NUMBER",
      `${field} must be a${positive ? " positive" : "n"} integer${max === MAX_UINT40 ? " (unix seconds)" : " (minor units)"}, got "${value}"`,
      { field, value },
    );
  }
  return n;
}

function parseType(value: string): BillType {
  if (!Object.hasOwn(BILL_TYPES, value)) {
    throw new BillCliError(
      "BILL_CLI_BAD_TYPE",
      `--type must be one of ${Object.keys(BILL_TYPES).join(", ")}, got "${value}"`,
      { field: "--type", value },
    );
  }
  return value as BillType;
}

/** `pay-partial`, `pay_partial` and `PAY_PARTIAL` all name PAY_PARTIAL. */
function parseOperation(value: string): string {
  const name = value.toUpperCase().replaceAll("-", "_");
  if (!Object.hasOwn(OPERATIONS, name)) {
    throw new BillCliError(
      "BILL_CLI_BAD_OPERATION",
      `operation must be one of ${Object.keys(OPERATIONS).join(", ")}, got "${value}"`,
      { field: "operation", value },
    );
  }
  return name;
}

/** The `--from` signer: an index into the chain's signers or one of their addresses. */
async function signerOf(chain: ChainConnection, from: string): Promise<Signer> {
  const signers = await chain.getSigners();
  if (UINT.test(from)) {
    const signer = signers[Number(from)];
    if (signer !== undefined) return signer;
  } else if (isAddress(from)) {
    const wanted = getAddress(from);
    for (const signer of signers) if ((await signer.getAddress()) === wanted) return signer;
  }
  throw new BillCliError(
    "BILL_CLI_BAD_FROM",
    `--from must be an index below ${signers.length} or the address of one of the chain's signers, got "${from}"`,
    { field: "--from", value: from },
  );
}

/** `withChain` with the registry's enums named in decoded reverts (`Holder`, not `4`). */
function withBills<T>(
  options: GlobalOptions,
  fn: (chain: ChainConnection, deployments: Deployments) => Promise<T>,
): Promise<T> {
  return withChain(options, fn, [], BILL_ENUM_NAMES);
}

const stateName = (state: string): string => (state === ZeroHash ? "(none)" : (shortString(state) ?? state));

/** Sends, waits for the receipt and returns the transaction hash (a revert is decoded by `withChain`). */
async function mined(sent: Promise<ContractTransactionResponse>): Promise<string> {
  return (await minedReceipt(await sent)).hash;
}

/** What the writing helpers need of a command's options: the global ones, `--from` and (where declared) `--yes`. */
type WriteOptions = GlobalOptions & {
  readonly from: string;
  readonly yes?: boolean;
};

interface RegistryContext {
  readonly registry: BillRegistry;
  readonly signer: Signer;
  readonly deployments: Deployments;
}

/** Opens the chain, the registry as the `--from` signer, and hands both to `fn`. */
async function withRegistry<T>(options: WriteOptions, fn: (context: RegistryContext) => Promise<T>): Promise<T> {
  return withBills(options, async (chain, deployments) => {
    const signer = await signerOf(chain, options.from);
    const registry = contractAt<BillRegistry>(deployments.get("BillRegistry"), signer);
    return fn({ registry, signer, deployments });
  });
}

type BillRecord = Awaited<ReturnType<BillRegistry["bill"]>>;

async function requireBill(registry: BillRegistry, id: string): Promise<BillRecord> {
  const bill = await registry.bill(id);
  if (bill.definitionId === 0n) {
    throw new BillCliError("BILL_NOT_FOUND", `there is no bill ${id} in the BillRegistry`, { id });
  }
  return bill;
}

/** The parties of a bill by role, for output. */
function partiesOf(bill: BillRecord): Record<string, string | null> {
  const orNull = (address: string): string | null => (address === ZeroAddress ? null : address);
  return {
    drawer: bill.drawer,
    drawee: bill.drawee,
    payer: bill.payer,
    payee: bill.payee,
    holder: bill.holder,
    financier: orNull(bill.financier),
  };
}

/** Asks for `--yes` (or a "y" on a terminal) before an operation that moves the right to money. */
async function confirm(
  options: WriteOptions,
  id: string,
  operation: string,
  facts: Record<string, string>,
): Promise<void> {
  if (options.yes === true) return;
  const summary = Object.entries(facts)
    .map(([key, value]) => `${key} ${value}`)
    .join(", ");
  if (process.stdin.isTTY === true && process.stderr.isTTY === true && !options.json) {
    process.stderr.write(
      `${operation} bill ${id}\n${Object.entries(facts)
        .map(([k, v]) => `  ${k.padEnd(10)} ${v}\n`)
        .join("")}`,
    );
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = (await prompt.question("proceed? [y/N] ")).trim().toLowerCase();
      if (answer === "y" || answer === "yes") return;
    } finally {
      prompt.close();
    }
    throw new BillCliError("BILL_CLI_NOT_CONFIRMED", `${operation} of bill ${id} not confirmed: nothing was sent`, {
      id,
      operation,
    });
  }
  throw new BillCliError(
    "BILL_CLI_CONFIRM",
    `${operation} of bill ${id} moves the right to money (${summary}): pass --yes to confirm`,
    { id, operation, ...facts },
  );
}

interface ExecArgs {
  readonly to?: string | undefined;
  readonly amount?: bigint | undefined;
  readonly endorser?: bigint | undefined;
}

/** Performs `operation` on bill `id` and prints the transaction, the new state and the parties. */
async function perform(options: WriteOptions, id: string, requested: string, args: ExecArgs): Promise<void> {
  await withRegistry(options, async ({ registry, signer, deployments }) => {
    const bill = await requireBill(registry, id);
    const remaining = bill.amountDue - bill.amountPaid;
    // `bills pay --amount`: paying exactly what remains is a full payment, less a partial one, more is refused.
    let operation = requested;
    if (operation === "PAY" && args.amount !== undefined) {
      if (args.amount > remaining) {
        throw new BillCliError(
          "BILL_CLI_BAD_NUMBER",
          `--amount ${args.amount} is more than the ${remaining} that remains`,
          { field: "--amount", value: args.amount.toString() },
        );
      }
      if (args.amount < remaining) operation = "PAY_PARTIAL";
    }
    const spec = OPERATIONS[operation]!;
    const given = { address: args.to, amount: args.amount, endorser: args.endorser };
    for (const [kind, flag] of [
      ["address", "--to"],
      ["amount", "--amount"],
      ["endorser", "--endorser"],
    ] as const) {
      if (given[kind] !== undefined && spec.data !== kind && !(kind === "amount" && requested === "PAY")) {
        throw new BillCliError("BILL_CLI_UNUSED_ARGUMENT", `${operation} takes no ${flag}`, { operation, field: flag });
      }
    }
    let data = "0x";
    let amount: bigint | undefined;
    const facts: Record<string, string> = { drawer: bill.drawer, payee: bill.payee, holder: bill.holder };
    switch (spec.data) {
      case "address":
        if (args.to === undefined) throw missing(operation, "--to <address>");
        data = coder.encode(["address"], [args.to]);
        facts[operation === "ENDORSE" ? "to" : "financier"] = args.to;
        break;
      case "amount":
        if (args.amount === undefined) throw missing(operation, "--amount <minor units>");
        amount = args.amount;
        data = coder.encode(["uint256"], [amount]);
        break;
      case "endorser":
        if (args.endorser === undefined) throw missing(operation, "--endorser <index>");
        data = coder.encode(["uint256"], [args.endorser]);
        facts.endorser = String(args.endorser);
        break;
      case "remaining":
        amount = remaining;
        break;
      case "none":
        break;
    }
    if (amount !== undefined) facts.amount = `${amount} of ${remaining} outstanding`;
    if (spec.pays) facts.from = await signer.getAddress();
    if (spec.moves) await confirm(options, id, operation, facts);
    let approveTx: string | null = null;
    if (spec.pays && amount !== undefined) {
      const tokenRecord = deployments.get("BankToken");
      const token = contractAt<BankToken>({ ...tokenRecord, address: await registry.token() }, signer);
      const spender = await registry.getAddress();
      if ((await token.allowance(await signer.getAddress(), spender)) < amount) {
        approveTx = await mined(token.approve(spender, amount));
      }
    }
    const tx = await mined(registry.execute(id, encodeBytes32String(operation), data));
    const [state, after] = await Promise.all([registry.stateOf(id), registry.bill(id)]);
    const parties = partiesOf(after);
    const extra = amount === undefined ? {} : { amount, approveTx };
    output(
      options,
      {
        bill: id,
        operation,
        tx,
        state: stateName(state),
        ...extra,
        parties,
        amountDue: after.amountDue,
        amountPaid: after.amountPaid,
      },
      () =>
        [
          `bill:      ${id}`,
          `operation: ${operation}`,
          `tx:        ${tx}`,
          `state:     ${stateName(state)}`,
          `paid:      ${after.amountPaid} of ${after.amountDue}`,
          ...Object.entries(parties).map(([role, address]) => `${`${role}:`.padEnd(10)} ${address ?? "-"}`),
        ].join("\n"),
    );
  });
}

function missing(operation: string, flag: string): BillCliError {
  return new BillCliError("BILL_CLI_MISSING_ARGUMENT", `${operation} needs ${flag}`, { operation, field: flag });
}

/** `--from`, the signing account of the writing commands. */
const fromOption = () =>
  new Option("--from <index|address>", "the signing account: an index into the chain's signers or an address").default(
    "0",
  );

/** `--yes`, for the commands that may move the right to money. */
const yesOption = () =>
  new Option("-y, --yes", "confirm an operation that moves the right to money, without asking").default(false);

/** Adds the `bills` group to `program`. */
export function addBillsCommands(program: Program): void {
  const bills = program.command("bills").description("bills of exchange and e-invoices in the BillRegistry");
  addShowCommand(bills);
  addHistoryCommand(bills);
  addIssueCommand(bills);
  addExecCommand(bills);
  addAcceptCommand(bills);
  addEndorseCommand(bills);
  addPayCommand(bills);
}

/** `bills show <id>`: a bill as the registry holds it, with the operations possible next. */
function addShowCommand(bills: CommandGroup): void {
  bills
    .command("show")
    .description("print a bill: definition, state, parties by role, amounts, deadlines and possible operations")
    .argument("<id>", "the bill id (bytes32 hex)")
    .action(async (id, _options, command) => {
      const options = command.optsWithGlobals();
      const billId = parseBillId(id);
      await withBills(options, async (chain, deployments) => {
        const registry = contractAt<BillRegistry>(deployments.get("BillRegistry"), chain.provider);
        const bill = await requireBill(registry, billId);
        const [state, definition, endorsers] = await Promise.all([
          registry.stateOf(billId),
          registry.definition(bill.definitionId),
          registry.endorsers(billId),
        ]);
        const rules = await Promise.all(
          Object.keys(OPERATIONS).map(async (operation) => {
            const rule = await registry.rule(bill.definitionId, state, encodeBytes32String(operation));
            return rule.to === ZeroHash
              ? undefined
              : { operation, to: stateName(rule.to), party: PARTY_NAMES[Number(rule.party)] ?? String(rule.party) };
          }),
        );
        const next = rules.filter((rule) => rule !== undefined);
        const parties = partiesOf(bill);
        const deadlines = {
          acceptanceDeadline: Number(bill.acceptanceDeadline),
          maturity: Number(bill.maturity),
          recourseDeadline: Number(bill.recourseDeadline),
        };
        const type = `${formatArg(definition.name)} v${definition.version}`;
        output(
          options,
          {
            bill: billId,
            definition: {
              id: Number(bill.definitionId),
              name: formatArg(definition.name),
              version: Number(definition.version),
            },
            state: stateName(state),
            parties,
            endorsers,
            amountDue: bill.amountDue,
            amountPaid: bill.amountPaid,
            ...deadlines,
            documentHash: bill.documentHash,
            next,
          },
          () =>
            [
              `bill:       ${billId}`,
              `type:       ${type}`,
              `state:      ${stateName(state)}`,
              `paid:       ${bill.amountPaid} of ${bill.amountDue}`,
              ...Object.entries(parties).map(([role, address]) => `${`${role}:`.padEnd(11)} ${address ?? "-"}`),
              `endorsers:  ${endorsers.length === 0 ? "-" : endorsers.join(", ")}`,
              ...[
                ["acceptance", deadlines.acceptanceDeadline],
                ["maturity", deadlines.maturity],
                ["recourse", deadlines.recourseDeadline],
              ].map(
                ([name, at]) =>
                  `${`${name}:`.padEnd(11)} ${at === 0 ? "none" : new Date(Number(at) * 1000).toISOString()}`,
              ),
              `next:       ${next.length === 0 ? "none (final state)" : ""}`,
              ...next.map((rule) => `  ${rule.operation.padEnd(20)} by ${rule.party.padEnd(10)} -> ${rule.to}`),
            ].join("\n"),
        );
      });
    });
}

/** `bills history <id>`: a bill's events replayed from the chain, with any anomaly. */
function addHistoryCommand(bills: CommandGroup): void {
  bills
    .command("history")
    .description("print a bill's state, its events and any anomaly, replayed from the chain's logs")
    .argument("<id>", "the bill id (bytes32 hex)")
    .action(async (id, _options, command) => {
      const options = command.optsWithGlobals();
      parseBillId(id);
      // Loaded here, not at startup: node:sqlite warns on load, and only this command needs it.
      const [{ Store }, { BillMonitor }] = await Promise.all([import("../store/store.js"), import("./monitor.js")]);
      await withBills(options, async (chain, deployments) => {
        const record = deployments.get("BillRegistry");
        const store = Store.open({ path: ":memory:" });
        try {
          const monitor = new BillMonitor({
            provider: chain.provider,
            store,
            registry: record.address,
            confirmations: 0,
            fromBlock: record.blockNumber ?? 0,
          });
          await monitor.poll();
          const bill = monitor.bill(id);
          if (bill === undefined) {
            throw new BillCliError("BILL_NOT_FOUND", `there is no bill ${id} in the BillRegistry`, { id });
          }
          const history = monitor.history(id);
          const anomalies = monitor.anomalies(id);
          output(options, { bill, history, anomalies }, () =>
            [
              `bill:    ${bill.id}`,
              `state:   ${bill.stateName}`,
              `paid:    ${bill.amountPaid} of ${bill.amountDue}`,
              `holder:  ${bill.holder ?? "-"}`,
              "history:",
              ...history.map(
                (h) =>
                  `  block ${h.block} ${h.event}` +
                  (h.operationName === null ? "" : ` ${h.operationName} by ${h.actor ?? "-"}`) +
                  (Object.keys(h.detail).length === 0 ? "" : ` ${JSON.stringify(h.detail)}`),
              ),
              `anomalies: ${anomalies.length === 0 ? "none" : ""}`,
              ...anomalies.map((a) => `  ${a.kind} block ${a.block ?? "-"} ${JSON.stringify(a.detail)}`),
            ].join("\n"),
          );
        } finally {
          store.close();
        }
      });
    });
}

/** `bills issue`: a new bill, the --from account its drawer. */
function addIssueCommand(bills: CommandGroup): void {
  bills
    .command("issue")
    .description("issue a bill; the --from account is the drawer")
    .requiredOption("--type <type>", `the bill type (${Object.keys(BILL_TYPES).join(", ")})`)
    .requiredOption("--drawee <address>", "the payer")
    .requiredOption("--payee <address>", "the first holder")
    .requiredOption("--amount <minor units>", "the amount due, in minor units")
    .option("--id <bytes32>", "the bill id: the drawer's address then a 12-byte serial (default: a random serial)")
    .option("--acceptance-deadline <unix s>", "the last second for acceptance (default: none)", "0")
    .option("--maturity <unix s>", "the due date (default: none)", "0")
    .option("--recourse-deadline <unix s>", "the last second for recourse (default: none)", "0")
    .option("--document-hash <bytes32>", "the hash of the off-chain document", ZeroHash)
    .option("--definition-version <n>", "the version of the type's definition", "1")
    .addOption(fromOption())
    .action(async (_options, command) => {
      const options = command.optsWithGlobals();
      const type = parseType(options.type);
      const requestedId = options.id === undefined ? undefined : parseBillId(options.id, "--id");
      const terms = {
        drawee: parseAddress(options.drawee, "--drawee"),
        payee: parseAddress(options.payee, "--payee"),
        amount: parseUint(options.amount, "--amount", MaxUint256, true),
        acceptanceDeadline: parseUint(options.acceptanceDeadline, "--acceptance-deadline", MAX_UINT40, false),
        maturity: parseUint(options.maturity, "--maturity", MAX_UINT40, false),
        recourseDeadline: parseUint(options.recourseDeadline, "--recourse-deadline", MAX_UINT40, false),
        documentHash: parseBillId(options.documentHash, "--document-hash"),
      };
      const version = parseUint(options.definitionVersion, "--definition-version", 0xffffffffn, true);
      await withRegistry(options, async ({ registry, signer }) => {
        const drawer = await signer.getAddress();
        // An id commits to its drawer (the registry refuses any other's): say so before sending anything.
        if (requestedId !== undefined && drawerOfBillId(requestedId) !== drawer) {
          throw new BillCliError(
            "BILL_CLI_BAD_ID",
            `--id ${requestedId} belongs to drawer ${drawerOfBillId(requestedId)}, not to the --from account ${drawer}: ` +
              "a bill id begins with its drawer's address",
            { field: "--id", value: requestedId },
          );
        }
        const billTerms = { ...terms, id: requestedId ?? randomBillId(drawer) };
        const name = BILL_TYPES[type];
        const definitionId = await registry.definitionId(encodeBytes32String(name), version);
        if (definitionId === 0n) {
          throw new BillCliError("BILL_CLI_NO_DEFINITION", `there is no definition ${name} v${version} on this chain`, {
            field: "--type",
            value: type,
          });
        }
        const tx = await mined(registry.issue(definitionId, encodeBytes32String("ISSUE"), billTerms));
        const state = stateName(await registry.stateOf(billTerms.id));
        const parties = { drawer, drawee: terms.drawee, payee: terms.payee };
        output(
          options,
          {
            bill: billTerms.id,
            operation: "ISSUE",
            tx,
            state,
            definitionId: Number(definitionId),
            parties,
            amount: terms.amount,
          },
          () =>
            [
              `bill:      ${billTerms.id}`,
              `operation: ISSUE`,
              `tx:        ${tx}`,
              `state:     ${state}`,
              `type:      ${name} v${version}`,
              `amount:    ${terms.amount}`,
              ...Object.entries(parties).map(([role, address]) => `${`${role}:`.padEnd(10)} ${address}`),
            ].join("\n"),
        );
      });
    });
}

/** `bills exec <operation> <id>`: any operation of the bill's definition. */
function addExecCommand(bills: CommandGroup): void {
  bills
    .command("exec")
    .description("perform an operation on a bill (see --help for the list); --yes where it moves money")
    .argument("<operation>", "the operation, e.g. REQUEST_ACCEPTANCE or request-acceptance")
    .argument("<id>", "the bill id (bytes32 hex)")
    .option("--to <address>", "ENDORSE: the new holder; OFFER_DISCOUNT: the financier")
    .option("--amount <minor units>", "PAY_PARTIAL: the amount; DISCOUNT: the price")
    .option("--endorser <index>", "RECOURSE: the index of the endorser in the bill's endorsement chain")
    .addHelpText(
      "after",
      `\nOperations:\n${Object.entries(OPERATIONS)
        .map(([name, spec]) => `  ${name.padEnd(20)} ${spec.help}${spec.moves ? " (--yes)" : ""}`)
        .join("\n")}`,
    )
    .addOption(fromOption())
    .addOption(yesOption())
    .action(async (op, id, _options, command) => {
      const options = command.optsWithGlobals();
      const operation = parseOperation(op);
      const billId = parseBillId(id);
      await perform(options, billId, operation, {
        to: options.to === undefined ? undefined : parseAddress(options.to, "--to"),
        amount: options.amount === undefined ? undefined : parseUint(options.amount, "--amount", MaxUint256, true),
        endorser:
          options.endorser === undefined ? undefined : parseUint(options.endorser, "--endorser", MaxUint256, false),
      });
    });
}

/** `bills accept <id>`: ACCEPT as the drawee. */
function addAcceptCommand(bills: CommandGroup): void {
  bills
    .command("accept")
    .description("accept a bill as its drawee (the same as exec ACCEPT)")
    .argument("<id>", "the bill id (bytes32 hex)")
    .addOption(fromOption())
    .addOption(yesOption())
    .action(async (id, _options, command) => {
      const options = command.optsWithGlobals();
      await perform(options, parseBillId(id), "ACCEPT", {});
    });
}

/** `bills endorse <id> <to>`: ENDORSE to a new holder. */
function addEndorseCommand(bills: CommandGroup): void {
  bills
    .command("endorse")
    .description("endorse a bill to a new holder, as its holder (the same as exec ENDORSE --to)")
    .argument("<id>", "the bill id (bytes32 hex)")
    .argument("<to>", "the new holder")
    .addOption(fromOption())
    .addOption(yesOption())
    .action(async (id, to, _options, command) => {
      const options = command.optsWithGlobals();
      const billId = parseBillId(id);
      await perform(options, billId, "ENDORSE", { to: parseAddress(to, "endorsee <to>") });
    });
}

/** `bills pay <id>`: PAY, or PAY_PARTIAL with --amount. */
function addPayCommand(bills: CommandGroup): void {
  bills
    .command("pay")
    .description("pay a bill in full, or in part with --amount; approves the registry first if the allowance is short")
    .argument("<id>", "the bill id (bytes32 hex)")
    .option("--amount <minor units>", "pay this much only (default: all that remains)")
    .addOption(fromOption())
    .addOption(yesOption())
    .action(async (id, _options, command) => {
      const options = command.optsWithGlobals();
      const billId = parseBillId(id);
      const amount = options.amount === undefined ? undefined : parseUint(options.amount, "--amount", MaxUint256, true);
      await perform(options, billId, "PAY", { amount });
    });
}
