/**
 * `bank-chain bills …`: bill commands that read the chain or write to it.
 *
 *   bills history <id>   every event of a bill, replayed from the BillRegistry's logs
 *   bills issue …        issues a bill (the `--from` account is the drawer)
 *   bills accept <id>    accepts a bill as its drawee
 *   bills endorse <id> <to>
 *   bills pay <id> [--amount <n>]   pays in full, or in part; approves the registry first if needed
 *
 * The writing commands sign with `--from <index|address>`, one of the chain's
 * signers (default 0), and print the transaction hash and the bill's new state.
 */
import type { Command } from "commander";
import {
  AbiCoder,
  decodeBytes32String,
  encodeBytes32String,
  getAddress,
  hexlify,
  type Interface,
  isAddress,
  isCallException,
  randomBytes,
  ZeroHash,
  type Signer,
} from "ethers";

import type { ChainConnection } from "../chain/config.js";
import { readDeployments } from "../chain/deployments.js";
import { output, withChain, type GlobalOptions } from "../cli.js";
import { BankChainError, messageOf } from "../errors.js";
import { BankToken__factory, BillRegistry__factory, type BillRegistry } from "../../typechain-types/index.js";

/** A `bills` command was given a bad argument or found nothing. */
export class BillCliError extends BankChainError {}

/** The chain refused a bill transaction; `details.error` is the decoded custom error. */
export class BillTransactionError extends BankChainError {}

const BILL_ID = /^0x[0-9a-fA-F]{64}$/;
const UINT = /^[0-9]+$/;
const MAX_UINT40 = (1n << 40n) - 1n;
const MAX_UINT256 = (1n << 256n) - 1n;
const coder = AbiCoder.defaultAbiCoder();

/** `--type` values and the definition names they stand for. */
const BILL_TYPES = { "bill-of-exchange": "BILL_OF_EXCHANGE", "e-invoice": "E_INVOICE" } as const;
type BillType = keyof typeof BILL_TYPES;

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

const stateName = (state: string): string => {
  if (state === ZeroHash) return "(none)";
  try {
    return decodeBytes32String(state);
  } catch {
    return state;
  }
};

/** Sends `send`; a revert becomes one line naming the contract's custom error and its arguments. */
async function transact(
  send: () => Promise<{ wait(): Promise<{ hash: string } | null> }>,
  ...interfaces: readonly Interface[]
): Promise<string> {
  try {
    const receipt = await (await send()).wait();
    if (receipt === null) throw new BillTransactionError("BILL_TX_DROPPED", "the transaction was dropped");
    return receipt.hash;
  } catch (error) {
    // A node's signer (eth_sendTransaction) reports the revert data without decoding it.
    const revert = isCallException(error) ? (error.revert ?? decodeRevert(error.data, interfaces)) : null;
    if (revert !== null) {
      const args = revert.args.map((a: unknown) =>
        typeof a === "string" && BILL_ID.test(a) && a.endsWith("0".repeat(8)) ? stateName(a) : String(a),
      );
      const decoded = `${revert.name}(${args.join(", ")})`;
      throw new BillTransactionError("BILL_TX_REVERTED", `the chain refused the transaction: ${decoded}`, {
        error: decoded,
      });
    }
    if (error instanceof BankChainError) throw error;
    throw new BillTransactionError("BILL_TX_FAILED", `the transaction failed: ${messageOf(error)}`, {});
  }
}

function decodeRevert(
  data: string | null,
  interfaces: readonly Interface[],
): { name: string; args: readonly unknown[] } | null {
  if (data === null || data.length < 10) return null;
  for (const iface of interfaces) {
    try {
      const parsed = iface.parseError(data);
      if (parsed !== null) return { name: parsed.name, args: [...parsed.args] };
    } catch {
      // Not this interface's error: try the next.
    }
  }
  return null;
}

interface WriteOptions extends GlobalOptions {
  readonly from: string;
}

/** Opens the chain, the registry as the `--from` signer, and hands both to `fn`. */
async function withRegistry<T>(
  options: WriteOptions,
  fn: (registry: BillRegistry, signer: Signer, chain: ChainConnection) => Promise<T>,
): Promise<T> {
  return withChain(options, async (chain) => {
    const signer = await signerOf(chain, options.from);
    const address = readDeployments(chain.network).get("BillRegistry").address;
    return fn(BillRegistry__factory.connect(address, signer), signer, chain);
  });
}

async function requireBill(registry: BillRegistry, id: string): Promise<void> {
  if ((await registry.stateOf(id)) === ZeroHash) {
    throw new BillCliError("BILL_NOT_FOUND", `there is no bill ${id} in the BillRegistry`, { id });
  }
}

/** Performs `operation` on bill `id` and prints the transaction and the new state. */
interface Step {
  readonly operation: string;
  readonly data: string;
  /** Extra fields for the JSON output. */
  readonly extra?: Record<string, unknown>;
}

/** Performs the operation `prepare` chooses on bill `id` and prints the transaction and the new state. */
async function perform(
  options: WriteOptions,
  id: string,
  prepare: (registry: BillRegistry, signer: Signer) => Promise<Step>,
): Promise<void> {
  await withRegistry(options, async (registry, signer) => {
    await requireBill(registry, id);
    const { operation, data, extra = {} } = await prepare(registry, signer);
    const tx = await transact(() => registry.execute(id, encodeBytes32String(operation), data), registry.interface);
    const state = stateName(await registry.stateOf(id));
    output(options, { bill: id, operation, tx, state, ...extra }, () =>
      [`bill:      ${id}`, `operation: ${operation}`, `tx:        ${tx}`, `state:     ${state}`].join("\n"),
    );
  });
}

function addFrom(command: Command): Command {
  return command.option(
    "--from <index|address>",
    "the signing account: an index into the chain's signers or an address",
    "0",
  );
}

/** Adds the `bills` group to `program`. */
export function addBillsCommands(program: Command): void {
  const bills = program.command("bills").description("bills of exchange and e-invoices in the BillRegistry");
  bills
    .command("history")
    .description("print a bill's state, its events and any anomaly, replayed from the chain's logs")
    .argument("<id>", "the bill id (bytes32 hex)")
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      parseBillId(id);
      // Loaded here, not at startup: node:sqlite warns on load, and only this command needs it.
      const [{ Store }, { BillMonitor }] = await Promise.all([import("../store/store.js"), import("./monitor.js")]);
      await withChain(options, async (chain) => {
        const record = readDeployments(chain.network).get("BillRegistry");
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

  addFrom(
    bills
      .command("issue")
      .description("issue a bill; the --from account is the drawer")
      .requiredOption("--type <type>", `the bill type (${Object.keys(BILL_TYPES).join(", ")})`)
      .requiredOption("--drawee <address>", "the payer")
      .requiredOption("--payee <address>", "the first holder")
      .requiredOption("--amount <minor units>", "the amount due, in minor units")
      .option("--id <bytes32>", "the bill id (default: random)")
      .option("--acceptance-deadline <unix s>", "the last second for acceptance (default: none)", "0")
      .option("--maturity <unix s>", "the due date (default: none)", "0")
      .option("--recourse-deadline <unix s>", "the last second for recourse (default: none)", "0")
      .option("--document-hash <bytes32>", "the hash of the off-chain document", ZeroHash)
      .option("--definition-version <n>", "the version of the type's definition", "1"),
  ).action(async (_options: unknown, command: Command) => {
    const options = command.optsWithGlobals<
      WriteOptions & {
        type: string;
        drawee: string;
        payee: string;
        amount: string;
        id?: string;
        acceptanceDeadline: string;
        maturity: string;
        recourseDeadline: string;
        documentHash: string;
        definitionVersion: string;
      }
    >();
    const type = parseType(options.type);
    const terms = {
      id: options.id === undefined ? hexlify(randomBytes(32)) : parseBillId(options.id, "--id"),
      drawee: parseAddress(options.drawee, "--drawee"),
      payee: parseAddress(options.payee, "--payee"),
      amount: parseUint(options.amount, "--amount", MAX_UINT256, true),
      acceptanceDeadline: parseUint(options.acceptanceDeadline, "--acceptance-deadline", MAX_UINT40, false),
      maturity: parseUint(options.maturity, "--maturity", MAX_UINT40, false),
      recourseDeadline: parseUint(options.recourseDeadline, "--recourse-deadline", MAX_UINT40, false),
      documentHash: parseBillId(options.documentHash, "--document-hash"),
    };
    const version = parseUint(options.definitionVersion, "--definition-version", 0xffffffffn, true);
    await withRegistry(options, async (registry) => {
      const name = BILL_TYPES[type];
      const definitionId = await registry.definitionId(encodeBytes32String(name), version);
      if (definitionId === 0n) {
        throw new BillCliError("BILL_CLI_NO_DEFINITION", `there is no definition ${name} v${version} on this chain`, {
          field: "--type",
          value: type,
        });
      }
      const tx = await transact(
        () => registry.issue(definitionId, encodeBytes32String("ISSUE"), terms),
        registry.interface,
      );
      const state = stateName(await registry.stateOf(terms.id));
      output(options, { bill: terms.id, operation: "ISSUE", tx, state, definitionId: Number(definitionId) }, () =>
        [`bill:      ${terms.id}`, `operation: ISSUE`, `tx:        ${tx}`, `state:     ${state}`].join("\n"),
      );
    });
  });

  addFrom(
    bills.command("accept").description("accept a bill as its drawee").argument("<id>", "the bill id (bytes32 hex)"),
  ).action(async (id: string, _options: unknown, command: Command) => {
    const options = command.optsWithGlobals<WriteOptions>();
    await perform(options, parseBillId(id), async () => ({ operation: "ACCEPT", data: "0x" }));
  });

  addFrom(
    bills
      .command("endorse")
      .description("endorse a bill to a new holder, as its holder")
      .argument("<id>", "the bill id (bytes32 hex)")
      .argument("<to>", "the new holder"),
  ).action(async (id: string, to: string, _options: unknown, command: Command) => {
    const options = command.optsWithGlobals<WriteOptions>();
    const billId = parseBillId(id);
    const endorsee = parseAddress(to, "endorsee <to>");
    await perform(options, billId, async () => ({
      operation: "ENDORSE",
      data: coder.encode(["address"], [endorsee]),
    }));
  });

  addFrom(
    bills
      .command("pay")
      .description(
        "pay a bill in full, or in part with --amount; approves the registry first if the allowance is short",
      )
      .argument("<id>", "the bill id (bytes32 hex)")
      .option("--amount <minor units>", "pay this much only (default: all that remains)"),
  ).action(async (id: string, _options: unknown, command: Command) => {
    const options = command.optsWithGlobals<WriteOptions & { amount?: string }>();
    const billId = parseBillId(id);
    const requested =
      options.amount === undefined ? undefined : parseUint(options.amount, "--amount", MAX_UINT256, true);
    await perform(options, billId, async (registry, signer) => {
      const bill = await registry.bill(billId);
      const remaining = bill.amountDue - bill.amountPaid;
      if (requested !== undefined && requested > remaining) {
        throw new BillCliError(
          "BILL_CLI_BAD_NUMBER",
          `--amount ${requested} is more than the ${remaining} that remains`,
          {
            field: "--amount",
            value: requested.toString(),
          },
        );
      }
      const amount = requested ?? remaining;
      // Pay in part only below what remains: paying exactly the rest is a full payment.
      const partial = amount < remaining;
      const token = BankToken__factory.connect(await registry.token(), signer);
      const allowance = await token.allowance(await signer.getAddress(), await registry.getAddress());
      const approveTx =
        allowance >= amount
          ? null
          : await transact(() => token.approve(registry.getAddress(), amount), token.interface);
      return {
        operation: partial ? "PAY_PARTIAL" : "PAY",
        data: partial ? coder.encode(["uint256"], [amount]) : "0x",
        extra: { amount, approveTx },
      };
    });
  });
}
