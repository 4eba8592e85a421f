/**
 * `bank-chain cards …`: the bank keeps the card gateway's card file (see
 * cards.ts) from the command line.
 *
 *   cards add --pan <pan> --expiry <YYMM> --wallet <address> [--status active|blocked|closed]
 *       puts a card on file for the wallet's account profile; a PAN already on file for the
 *       same wallet is renewed (new expiry; its status kept unless --status says otherwise)
 *   cards status --pan <pan> --status active|blocked|closed
 *       blocks, closes or reactivates a card
 *   cards list
 *       every card on file: last four digits, expiry, status, wallet
 *
 * `--pan -` reads the PAN from the first line of stdin instead, which keeps it out of the process list
 * and the shell's history.
 *
 * The file is the very one the running card gateway reads: the gateway's
 * SQLite store for the network's AccountLedgerBankA (`openDeploymentStore`,
 * in the services' data folder `serviceDataDir`, BANK_CHAIN_DATA_DIR as for
 * `npm start`), its PANs hashed under the same key (CARD_GATEWAY_PAN_KEY; on
 * the devnet its published default). SQLite's WAL lets this command write
 * while the gateway runs, and the gateway looks the card up on every message:
 * a change applies to the next message, with no restart.
 *
 * Refused, each with a `CardError` (one line, exit 1; `{"ok":false,…}` with
 * `--json`), before anything is written:
 *   - CARD_BAD_PAN / CARD_BAD_EXPIRY / CARD_BAD_WALLET / CARD_BAD_STATUS: a malformed argument;
 *   - CARD_NO_OPEN_PROFILE: `add`, or `status --status active`, for a wallet with no open
 *     profile on the AccountLedger (the bank opens the profile first);
 *   - CARD_OTHER_WALLET: `add` of a PAN already on file for another wallet (a card is
 *     never moved between accounts: close it and issue a new one);
 *   - CARD_UNKNOWN: `status` of a PAN that is not on file.
 * No output and no error ever holds a PAN or its hash: cards are named by their last four digits.
 */
import { createInterface } from "node:readline";

import { getAddress, isAddress } from "ethers";

import { output, withChain, type CommandGroup, type GlobalOptions, type Program } from "../chain/command.js";
import type { ChainConnection } from "../chain/config.js";
import { serviceDataDir } from "../chain/data-dir.js";
import { contractAt, type DeploymentRecord } from "../chain/deployments.js";
import { isDevnet } from "../chain/networks.js";
import { CARD_STATUSES, CardError, CardStore, isValidPan, yymm, type Card, type CardStatus } from "./cards.js";
import type { AccountLedger } from "../../typechain-types/index.js";

const EXPIRY = /^[0-9]{2}(0[1-9]|1[0-2])$/;
const PAN_HELP = 'the card number (12-19 digits, Luhn-valid; never printed or stored), or "-" to read it from stdin';

/** The first line of stdin, trimmed. */
async function firstLineOfStdin(): Promise<string> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  try {
    for await (const line of lines) return line.trim();
    return "";
  } finally {
    lines.close();
  }
}

/** `--pan`: the PAN itself, or `-` to read it from the first line of stdin (kept out of `ps` and shell history). */
async function parsePan(flag: string): Promise<string> {
  const value = flag === "-" ? await firstLineOfStdin() : flag;
  // Never echoed: a PAN is cardholder data.
  if (!isValidPan(value)) {
    throw new CardError("CARD_BAD_PAN", "--pan must be 12 to 19 digits with a valid Luhn check digit", {
      field: "--pan",
    });
  }
  return value;
}

function parseExpiry(value: string): string {
  if (!EXPIRY.test(value)) {
    throw new CardError("CARD_BAD_EXPIRY", `--expiry must be YYMM (month 01-12), got "${value}"`, {
      field: "--expiry",
      value,
    });
  }
  return value;
}

function parseWallet(value: string): string {
  if (!isAddress(value)) {
    throw new CardError("CARD_BAD_WALLET", `--wallet must be an address (0x and 40 hex digits), got "${value}"`, {
      field: "--wallet",
      value,
    });
  }
  return getAddress(value);
}

function parseStatus(value: string): CardStatus {
  if (!(CARD_STATUSES as readonly string[]).includes(value)) {
    throw new CardError("CARD_BAD_STATUS", `--status must be one of ${CARD_STATUSES.join(", ")}, got "${value}"`, {
      field: "--status",
      value,
    });
  }
  return value as CardStatus;
}

/** What a command prints of a card: never the PAN nor its hash. */
function shown(card: Card): { last4: string; expiry: string; status: CardStatus; wallet: string } {
  return { last4: card.last4, expiry: card.expiry, status: card.status, wallet: card.wallet };
}

/** `key: value` lines, the values aligned. */
function lines(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map(([key]) => key.length)) + 1;
  return rows.map(([key, value]) => `${`${key}:`.padEnd(width)} ${value}`).join("\n");
}

interface CardFile {
  readonly cards: CardStore;
  /** The SQLite file, as the gateway opens it. */
  readonly path: string;
  /** The AccountLedger whose profiles the cards belong to. */
  readonly ledger: DeploymentRecord;
  readonly chain: ChainConnection;
}

/**
 * Opens the chain, then the card file of its card gateway, runs `fn` and
 * closes both. The file and the PAN key are found as the gateway's service
 * finds them (src/iso8583/service.ts), in the data folder `npm start` uses.
 */
async function withCardFile<T>(options: GlobalOptions, fn: (file: CardFile) => Promise<T>): Promise<T> {
  // Loaded here, not at start-up: the service module needs the contracts' build, the store node:sqlite.
  const { CARD_GATEWAY_SETTINGS, GATEWAY_LEDGER, cardGateway } = await import("./service.js");
  const { openDeploymentStore } = await import("../chain/service.js");
  return withChain(options, async (chain, deployments) => {
    const ledger = deployments.get(GATEWAY_LEDGER);
    const settings = CARD_GATEWAY_SETTINGS.read(process.env, { devnet: isDevnet(chain.chainId) });
    const context = { chain, deployments, dataDir: serviceDataDir(deployments.network), log: () => undefined };
    const store = await openDeploymentStore(context, cardGateway.name, GATEWAY_LEDGER);
    try {
      const cards = new CardStore(store, Buffer.from(settings.CARD_GATEWAY_PAN_KEY, "hex"));
      return await fn({ cards, path: store.path, ledger, chain });
    } finally {
      store.close();
    }
  });
}

/**
 * Refuses a wallet whose profile on the AccountLedger is missing or closed:
 * the gateway could post nothing for its card.
 */
async function requireOpenProfile(file: CardFile, wallet: string): Promise<void> {
  const ledger = contractAt<AccountLedger>(file.ledger, file.chain.provider);
  const profile = await ledger.profileOf(wallet);
  if (!profile.open) {
    const state = profile.exists ? "closed" : "none";
    throw new CardError(
      "CARD_NO_OPEN_PROFILE",
      `wallet ${wallet} has ${profile.exists ? "a closed profile" : "no profile"} on ${file.ledger.name} ` +
        `${getAddress(file.ledger.address)}: the bank opens the profile first (AccountLedger.openProfile), then adds the card`,
      { wallet, ledger: getAddress(file.ledger.address), profile: state },
    );
  }
}

function addAddCommand(cards: CommandGroup): void {
  cards
    .command("add")
    .description("put a card on file for a wallet's account profile (or renew a card already on file)")
    .requiredOption("--pan <pan>", PAN_HELP)
    .requiredOption("--expiry <YYMM>", "last month the card is valid (UTC)")
    .requiredOption("--wallet <address>", "wallet of the account profile on the AccountLedger")
    .option("--status <status>", `${CARD_STATUSES.join(" | ")} (default: active, or a renewed card's own)`)
    .action(async (_o, command) => {
      const options = command.optsWithGlobals();
      const pan = await parsePan(options.pan);
      const expiry = parseExpiry(options.expiry);
      const wallet = parseWallet(options.wallet);
      const status = options.status === undefined ? undefined : parseStatus(options.status);
      await withCardFile(options, async (file) => {
        const existing = file.cards.get(pan);
        if (existing !== undefined && existing.wallet !== wallet) {
          throw new CardError(
            "CARD_OTHER_WALLET",
            `the card ending ${existing.last4} is on file for wallet ${existing.wallet}, not ${wallet}: ` +
              "a card never moves to another account; close it and issue a new card",
            { last4: existing.last4, wallet: existing.wallet, requested: wallet },
          );
        }
        await requireOpenProfile(file, wallet);
        const card = file.cards.put(pan, expiry, wallet, status ?? existing?.status ?? "active");
        const action = existing === undefined ? "added" : "renewed";
        output(options, { action, card: shown(card), file: file.path }, () =>
          lines([
            ["card", `${action}, ending ${card.last4}`],
            ["expiry", card.expiry],
            ["status", card.status],
            ["wallet", card.wallet],
            ["file", file.path],
          ]),
        );
      });
    });
}

function addStatusCommand(cards: CommandGroup): void {
  cards
    .command("status")
    .description("block, close or reactivate a card")
    .requiredOption("--pan <pan>", PAN_HELP)
    .requiredOption("--status <status>", CARD_STATUSES.join(" | "))
    .action(async (_o, command) => {
      const options = command.optsWithGlobals();
      const pan = await parsePan(options.pan);
      const status = parseStatus(options.status);
      await withCardFile(options, async (file) => {
        const before = file.cards.get(pan);
        if (before === undefined) throw new CardError("CARD_UNKNOWN", "no card with that PAN is on file");
        if (status === "active") await requireOpenProfile(file, before.wallet);
        file.cards.setStatus(pan, status);
        const card = { ...before, status };
        output(options, { card: shown(card), previous: before.status, file: file.path }, () =>
          lines([
            ["card", `ending ${card.last4}`],
            ["status", before.status === status ? `${status} (unchanged)` : `${status} (was ${before.status})`],
            ["expiry", card.expiry],
            ["wallet", card.wallet],
            ["file", file.path],
          ]),
        );
      });
    });
}

function addListCommand(cards: CommandGroup): void {
  cards
    .command("list")
    .description("every card on file: last four digits, expiry, status, wallet")
    .action(async (_o, command) => {
      const options = command.optsWithGlobals();
      await withCardFile(options, async (file) => {
        const list = file.cards.list().map(shown);
        const now = yymm(Date.now());
        output(options, { cards: list, file: file.path }, () =>
          [
            `file: ${file.path}`,
            list.length === 0 ? "no cards on file" : `${list.length} card${list.length === 1 ? "" : "s"}:`,
            ...(list.length === 0 ? [] : ["  last4  expiry  status   wallet"]),
            ...list.map(
              (card) =>
                `  ${card.last4}   ${card.expiry}    ${card.status.padEnd(8)} ${card.wallet}` +
                (card.expiry < now ? "  (expired)" : ""),
            ),
          ].join("\n"),
        );
      });
    });
}

export function addCardsCommands(program: Program): void {
  const cards = program
    .command("cards")
    .description("the card gateway's card file: add cards, change their status, list them (no PAN is ever shown)");
  addAddCommand(cards);
  addStatusCommand(cards);
  addListCommand(cards);
}
