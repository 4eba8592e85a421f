import { createHmac } from "node:crypto";
import { readdirSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { getAddress, JsonRpcProvider, keccak256, toUtf8Bytes } from "ethers";

import { serviceDataDir } from "../../src/chain/data-dir.js";
import { AccountLedger__factory } from "../../typechain-types/index.js";
import { collect, ROOT, runNode, spawnGroup, type Finished } from "../helpers/processes.js";
import { stackEnv, stackForSuite } from "../helpers/stack.js";
import { cardRequest, IsoClient, nextPan } from "../iso8583/gateway-helpers.js";

const CLI = "bin/bank-chain.mjs";
/** The devnet's demo cards (src/iso8583/service.ts) and the devnet's PAN key, published there. */
const ALICE_PAN = "4000001000000018";
const BOB_PAN = "4000001000000026";
const DEVNET_PAN_KEY = Buffer.from(keccak256(toUtf8Bytes("bank-chain/devnet/pan-key")).slice(2), "hex");
const panHash = (pan: string): string => createHmac("sha256", DEVNET_PAN_KEY).update(pan, "latin1").digest("hex");

interface Envelope {
  readonly ok: boolean;
  readonly action?: string;
  readonly previous?: string;
  readonly file: string;
  readonly card: { last4: string; expiry: string; status: string; wallet: string };
  readonly cards: Array<{ last4: string; expiry: string; status: string; wallet: string }>;
  readonly error: { name: string; code: string; message: string; details: Record<string, unknown> };
}

describe("cli: bank-chain cards … on the card gateway's own file", function () {
  this.timeout(600_000);
  let gatewayPort: number;
  /** The devnet's accounts by index (10: alice, 11: bob, the demo cardholders; 12, 13: no profile). */
  let accounts: string[];
  let provider: JsonRpcProvider;

  // Registered before the stack's hooks, so the provider closes before the stack stops.
  after(function () {
    provider?.destroy();
  });
  const running = stackForSuite("bank-chain-cards-cli-");
  before(async function () {
    const { stack } = running;
    gatewayPort = Number(/^tcp:\/\/127\.0\.0\.1:(\d+)$/.exec(stack.services.get("card-gateway") ?? "")![1]);
    provider = new JsonRpcProvider(stack.rpc, 31337, { staticNetwork: true });
    accounts = ((await provider.send("eth_accounts", [])) as string[]).map((a) => getAddress(a));
  });

  const cards = (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Finished> =>
    runNode([CLI, ...args], { ...stackEnv(running.place), ...env });
  /** Runs with --json; expects exit `code` and returns the envelope. */
  async function json(args: readonly string[], code = 0): Promise<Envelope> {
    const result = await cards(["--json", ...args]);
    expect(result.code, `${args.join(" ")}\n${result.stdout}\n${result.stderr}`).to.equal(code);
    return JSON.parse(result.stdout) as Envelope;
  }
  /** A failure in text mode: exit 1 and exactly one line on stderr, no stack trace, no PAN. */
  async function refused(args: readonly string[], pattern: RegExp, pans: readonly string[] = []): Promise<void> {
    const result = await cards(args);
    expect(result.code, result.stdout + result.stderr).to.equal(1);
    expect(result.stdout).to.equal("");
    expect(result.stderr.trim().split("\n"), result.stderr).to.have.length(1);
    expect(result.stderr)
      .to.match(/^bank-chain: /)
      .and.match(pattern);
    for (const pan of pans) {
      expect(result.stderr).to.not.contain(pan).and.not.contain(panHash(pan));
    }
  }
  /** DE 39 the running gateway answers to a 0200 of 1.00 from `wallet` with card `pan`. */
  async function authorise(wallet: string, pan: string): Promise<string | undefined> {
    const client = await IsoClient.connect(gatewayPort);
    try {
      return (await client.request(cardRequest("0200", wallet, 100n, { 2: pan }))).fields[39];
    } finally {
      client.close();
    }
  }
  /** The gateway's SQLite files in the data folder of `npm start`. */
  const gatewayFiles = (): string[] =>
    readdirSync(path.join(running.place.dir, "data", "localhost"))
      .filter((name) => /^card-gateway-[0-9a-f]{8}\.sqlite$/.test(name))
      .map((name) => path.join(running.place.dir, "data", "localhost", name));

  it("lists the cards on file by their last four digits, never a PAN or its hash, from the gateway's file", async function () {
    const body = await json(["cards", "list"]);
    expect(body.ok).to.equal(true);
    expect(gatewayFiles()).to.deep.equal([body.file]);
    expect(body.cards.slice(0, 2)).to.deep.equal([
      { last4: "0018", expiry: "3012", status: "active", wallet: accounts[10] },
      { last4: "0026", expiry: "3012", status: "active", wallet: accounts[11] },
    ]);

    const text = await cards(["cards", "list"]);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.contain(`file: ${body.file}`);
    expect(text.stdout).to.match(/^ {2}last4 {2}expiry {2}status {3}wallet$/m);
    expect(text.stdout).to.contain(`  0018   3012    active   ${accounts[10]}`);
    expect(text.stdout).to.contain(`  0026   3012    active   ${accounts[11]}`);
    for (const output of [text.stdout, JSON.stringify(body)]) {
      for (const pan of [ALICE_PAN, BOB_PAN]) expect(output).to.not.contain(pan).and.not.contain(panHash(pan));
      expect(output, "no 64-hex-digit value (a hash) is printed").to.not.match(/[0-9a-fA-F]{64}/);
    }
  });

  it("adds a card while the gateway runs: its next message is approved, no restart; status changes apply at once", async function () {
    const alice = accounts[10]!;
    const pan = nextPan();
    expect(await authorise(alice, pan), "a PAN not on file").to.equal("14");

    const added = await json(["cards", "add", "--pan", pan, "--expiry", "3012", "--wallet", alice.toLowerCase()]);
    expect(added).to.deep.include({ ok: true, action: "added" });
    expect(added.card).to.deep.equal({ last4: pan.slice(-4), expiry: "3012", status: "active", wallet: alice });
    expect(gatewayFiles()).to.deep.equal([added.file]);
    expect(await authorise(alice, pan), "the card the CLI just added").to.equal("00");

    const blocked = await json(["cards", "status", "--pan", pan, "--status", "blocked"]);
    expect(blocked).to.deep.include({ ok: true, previous: "active" });
    expect(blocked.card.status).to.equal("blocked");
    expect(await authorise(alice, pan), "blocked").to.equal("62");

    const text = await cards(["cards", "status", "--pan", pan, "--status", "active"]);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.match(/^status: +active \(was blocked\)$/m);
    expect(text.stdout).to.not.contain(pan);
    expect(await authorise(alice, pan), "reactivated").to.equal("00");

    await json(["cards", "status", "--pan", pan, "--status", "closed"]);
    expect(await authorise(alice, pan), "closed").to.equal("62");
    const listed = await json(["cards", "list"]);
    expect(listed.cards.find((card) => card.last4 === pan.slice(-4))).to.deep.equal({
      last4: pan.slice(-4),
      expiry: "3012",
      status: "closed",
      wallet: alice,
    });
  });

  it("refuses a card for a wallet without an open profile, in one line, and files nothing", async function () {
    const before = (await json(["cards", "list"])).cards;
    const nobody = accounts[12]!;
    const pan = nextPan();
    await refused(
      ["cards", "add", "--pan", pan, "--expiry", "3012", "--wallet", nobody],
      new RegExp(
        `wallet ${nobody} has no profile on AccountLedgerBankA 0x[0-9a-fA-F]{40}: the bank opens the profile first`,
      ),
      [pan],
    );
    const body = await json(["cards", "add", "--pan", pan, "--expiry", "3012", "--wallet", nobody], 1);
    expect(body.ok).to.equal(false);
    expect(body.error).to.deep.include({ name: "CardError", code: "CARD_NO_OPEN_PROFILE" });
    expect(body.error.details).to.deep.include({ wallet: nobody, profile: "none" });

    // A profile the bank opened and closed again: no card may be added, nor a card reactivated.
    const closing = accounts[13]!;
    const ledger = AccountLedger__factory.connect(
      running.stack.contracts.get("AccountLedgerBankA")!,
      await provider.getSigner(1),
    );
    await (await ledger.openProfile(keccak256(toUtf8Bytes(`cli-test:${closing}`)), closing, 0n)).wait();
    const later = nextPan();
    await json(["cards", "add", "--pan", later, "--expiry", "3012", "--wallet", closing]);
    await json(["cards", "status", "--pan", later, "--status", "blocked"]);
    await (await ledger.closeProfile(closing)).wait();
    await refused(
      ["cards", "add", "--pan", pan, "--expiry", "3012", "--wallet", closing],
      new RegExp(`wallet ${closing} has a closed profile on AccountLedgerBankA`),
      [pan],
    );
    const reactivate = await json(["cards", "status", "--pan", later, "--status", "active"], 1);
    expect(reactivate.error).to.deep.include({ code: "CARD_NO_OPEN_PROFILE" });
    expect(reactivate.error.details).to.deep.include({ profile: "closed" });
    // Closing stays possible whatever the profile.
    expect((await json(["cards", "status", "--pan", later, "--status", "closed"])).card.status).to.equal("closed");

    const after = (await json(["cards", "list"])).cards;
    expect(after.filter((card) => card.wallet === nobody)).to.deep.equal([]);
    expect(after.length).to.equal(before.length + 1);
  });

  it("refuses malformed arguments and unknown cards with one typed line that never holds the PAN", async function () {
    const alice = accounts[10]!;
    const luhnBad = "4000001000000019";
    await refused(
      ["cards", "add", "--pan", luhnBad, "--expiry", "3012", "--wallet", alice],
      /--pan must be 12 to 19 digits with a valid Luhn check digit/,
      [luhnBad],
    );
    await refused(["cards", "add", "--pan", "1234", "--expiry", "3012", "--wallet", alice], /--pan must be/, ["1234"]);
    await refused(
      ["cards", "add", "--pan", ALICE_PAN, "--expiry", "3013", "--wallet", alice],
      /--expiry must be YYMM \(month 01-12\), got "3013"/,
      [ALICE_PAN],
    );
    await refused(
      ["cards", "add", "--pan", ALICE_PAN, "--expiry", "3012", "--wallet", "0x12"],
      /--wallet must be an address .*got "0x12"/,
      [ALICE_PAN],
    );
    await refused(
      ["cards", "add", "--pan", ALICE_PAN, "--expiry", "3012", "--wallet", alice, "--status", "frozen"],
      /--status must be one of active, blocked, closed, got "frozen"/,
      [ALICE_PAN],
    );
    await refused(
      ["cards", "status", "--pan", ALICE_PAN, "--status", "lost"],
      /--status must be one of active, blocked, closed/,
      [ALICE_PAN],
    );
    const unknown = nextPan();
    await refused(["cards", "status", "--pan", unknown, "--status", "blocked"], /no card with that PAN is on file/, [
      unknown,
    ]);
    for (const [args, code] of [
      [["cards", "add", "--pan", luhnBad, "--expiry", "3012", "--wallet", alice], "CARD_BAD_PAN"],
      [["cards", "add", "--pan", ALICE_PAN, "--expiry", "13", "--wallet", alice], "CARD_BAD_EXPIRY"],
      [["cards", "add", "--pan", ALICE_PAN, "--expiry", "3012", "--wallet", "bob"], "CARD_BAD_WALLET"],
      [["cards", "status", "--pan", ALICE_PAN, "--status", "stolen"], "CARD_BAD_STATUS"],
      [["cards", "status", "--pan", unknown, "--status", "blocked"], "CARD_UNKNOWN"],
    ] as const) {
      const body = await json(args, 1);
      expect(body.error, args.join(" ")).to.deep.include({ name: "CardError", code });
      expect(JSON.stringify(body)).to.not.contain(args[3] === luhnBad ? luhnBad : unknown);
    }
    // The demo card is untouched by all of the above.
    expect(await authorise(alice, ALICE_PAN)).to.equal("00");
  });

  it("never moves a card to another wallet; renewing a card keeps its status unless --status says otherwise", async function () {
    const [alice, bob] = [accounts[10]!, accounts[11]!];
    const moved = await json(["cards", "add", "--pan", ALICE_PAN, "--expiry", "3012", "--wallet", bob], 1);
    expect(moved.error).to.deep.include({ code: "CARD_OTHER_WALLET" });
    expect(moved.error.details).to.deep.include({ last4: "0018", wallet: alice, requested: bob });
    expect(JSON.stringify(moved)).to.not.contain(ALICE_PAN);
    expect(await authorise(alice, ALICE_PAN), "still alice's").to.equal("00");
    expect(await authorise(bob, ALICE_PAN), "not bob's").to.equal("14");

    const pan = nextPan();
    await json(["cards", "add", "--pan", pan, "--expiry", "2912", "--wallet", alice, "--status", "blocked"]);
    const renewed = await json(["cards", "add", "--pan", pan, "--expiry", "3106", "--wallet", alice]);
    expect(renewed).to.deep.include({ action: "renewed" });
    expect(renewed.card).to.deep.include({ expiry: "3106", status: "blocked" });
    expect(await authorise(alice, pan), "a renewal does not unblock").to.equal("62");
    const unblocked = await json([
      "cards",
      "add",
      "--pan",
      pan,
      "--expiry",
      "3106",
      "--wallet",
      alice,
      "--status",
      "active",
    ]);
    expect(unblocked.card).to.deep.include({ status: "active" });
    expect(await authorise(alice, pan)).to.equal("00");
  });

  it("reads the PAN from stdin with --pan -, keeping it out of the process list", async function () {
    const alice = accounts[10]!;
    const pan = nextPan();
    const withInput = async (args: readonly string[], input: string): Promise<Finished> => {
      const child = spawnGroup(process.execPath, [CLI, "--json", ...args], {
        cwd: ROOT,
        env: { ...process.env, ...stackEnv(running.place) },
      });
      const finished = collect(child, 60_000);
      child.stdin.end(input);
      return finished;
    };
    const added = await withInput(["cards", "add", "--pan", "-", "--expiry", "3012", "--wallet", alice], `${pan}\n`);
    expect(added.code, added.stderr).to.equal(0);
    expect((JSON.parse(added.stdout) as Envelope).card).to.deep.include({ last4: pan.slice(-4), status: "active" });
    expect(await authorise(alice, pan)).to.equal("00");
    const blocked = await withInput(["cards", "status", "--pan", "-", "--status", "blocked"], `${pan}\r\n`);
    expect(blocked.code, blocked.stderr).to.equal(0);
    expect(await authorise(alice, pan)).to.equal("62");
    const empty = await withInput(["cards", "status", "--pan", "-", "--status", "active"], "");
    expect(empty.code).to.equal(1);
    expect((JSON.parse(empty.stdout) as Envelope).error).to.deep.include({ code: "CARD_BAD_PAN" });
  });

  it("finds the same file with --rpc as with the default network", async function () {
    const byName = await json(["--network", "localhost", "cards", "list"]);
    const byUrl = await json(["--rpc", running.stack.rpc, "cards", "list"]);
    expect(byUrl.file).to.equal(byName.file);
    expect(byUrl.cards).to.deep.equal(byName.cards);
  });
});

describe("serviceDataDir: the services' data folder, as npm start computes it", function () {
  it("is <BANK_CHAIN_DATA_DIR or the repository's .bank-chain>/<network>", function () {
    expect(serviceDataDir("localhost", {})).to.equal(path.join(ROOT, ".bank-chain", "localhost"));
    expect(serviceDataDir("consortium", { BANK_CHAIN_DATA_DIR: "/srv/bank" })).to.equal("/srv/bank/consortium");
    expect(serviceDataDir("localhost", { BANK_CHAIN_DATA_DIR: "relative/data" })).to.equal(
      path.resolve("relative/data", "localhost"),
    );
  });
});
