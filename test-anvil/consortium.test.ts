/**
 * `npm run test:anvil`: the suite on a node that is not Hardhat's. Anvil (the
 * npm package's binary) runs as a stand-in for the consortium chain: chain id
 * 4242, zero base fee, a fixed zero gas price, a block every second, and a
 * mnemonic nobody else has; the duties' keys hold no ether, so every sender
 * must pay the fixed price. Everything goes through the `consortium` network
 * and its configuration variables, as an operator would: one key per duty,
 * `npx hardhat deploy --network consortium`, `npx bank-chain --network
 * consortium roles|status|cards|offline`, `npm start -- --network consortium`.
 * Then the README's interbank payment to Acknowledged through both agents,
 * one card 0200 and one offline voucher.
 *
 * Not part of `npm test` (it needs minutes and its own node); CI runs it after.
 * The steps build on each other, in order: a failed step fails the ones after.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import {
  Contract,
  getAddress,
  HDNodeWallet,
  Network,
  keccak256,
  MaxUint256,
  Mnemonic,
  NonceManager,
  toUtf8Bytes,
  Wallet,
  type BaseWallet,
} from "ethers";

import { FixedGasProvider } from "../src/chain/config.js";
import { startAnvil, type Anvil } from "../src/chain/devnet.js";
import { DUTIES, keyVariable, REMOTE_NETWORKS, type DutyName } from "../src/chain/networks.js";
import { ROLE_PLAN, roleId, type RoleRow } from "../src/chain/roles.js";
import { encodeWithMac } from "../src/iso8583/mac.js";
import { decode, type Iso8583Message } from "../src/iso8583/codec.js";
import { frame, FrameReader } from "../src/iso8583/framing.js";
import { encodeWalletData } from "../src/iso8583/wallet-data.js";
import {
  AccountLedger__factory,
  BankToken__factory,
  ReserveLedger__factory,
  TrustAccount__factory,
} from "../typechain-types/index.js";
import {
  collect,
  freePort,
  ROOT,
  runNode,
  spawnGroup,
  waitForOutput,
  type Finished,
} from "../test/helpers/processes.js";
import { stackPlace, startStack, type Stack, type StackPlace } from "../test/helpers/stack.js";
import net from "node:net";
import { RpcProxy } from "../test/mocks/rpc-proxy.js";

const NETWORK = "consortium";
const CONSORTIUM = REMOTE_NETWORKS.consortium;
/** Customers' keys come after the duties' on the run's mnemonic. */
const BUYER_INDEX = 30;
const CARDHOLDER_INDEX = 31;
const ACQUIRER = "445566";
const MAC_KEY = Buffer.alloc(32, 0x5a);
const PAN_KEY = Buffer.alloc(32, 0x2b).toString("hex");
const PAN = "4000001000000018";

describe("the suite on an independent node (Anvil, chain id 4242, the consortium network)", function () {
  this.timeout(15 * 60_000);

  let dir: string;
  let anvil: Anvil;
  let url: string;
  let mnemonic: string;
  let place: StackPlace;
  let env: NodeJS.ProcessEnv;
  let provider: FixedGasProvider;
  let keys: Map<DutyName, BaseWallet>;
  let stack: Stack | undefined;

  const keyAt = (index: number): HDNodeWallet =>
    HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(mnemonic), `m/44'/60'/0'/0/${index}`);
  const hardhat = (args: readonly string[], extra: NodeJS.ProcessEnv = env): Promise<Finished> =>
    runNode([path.join(ROOT, "node_modules/hardhat/dist/src/cli.js"), ...args], extra, 600_000);
  const cli = (args: readonly string[], extra: NodeJS.ProcessEnv = {}): Promise<Finished> =>
    runNode(["bin/bank-chain.mjs", "--network", NETWORK, ...args], { ...env, ...extra }, 180_000);
  /** Every duty's nonce: what a deploy that sends nothing leaves unchanged. */
  const nonces = async (): Promise<number[]> =>
    Promise.all([...keys.values()].map((wallet) => provider.getTransactionCount(wallet.address)));
  const deployment = (name: string): string => {
    const address = stack?.contracts.get(name);
    if (address === undefined) throw new Error(`${name} is not deployed`);
    return getAddress(address);
  };

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "bank-chain-anvil-"));
    place = await stackPlace(dir);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    mnemonic = Wallet.createRandom().mnemonic!.phrase;
    anvil = await startAnvil({
      endpoint: { host: "127.0.0.1", port, url },
      chainId: CONSORTIUM.chainId,
      mnemonic,
      accounts: 40,
      gas: CONSORTIUM.gas,
      blockTimeSeconds: 1,
    });
    // The test's own transactions (an auditor's attestation, bank A's float) pay the consortium's price too.
    const network = Network.from(CONSORTIUM.chainId);
    provider = new FixedGasProvider(url, network, { staticNetwork: network, pollingInterval: 200 }, CONSORTIUM.gas);
    // Keys of no funded account, as on a consortium chain where nobody holds ether: a transaction from a duty that
    // paid anything but the fixed zero price (a node's suggested priority fee, say) would fail.
    keys = new Map(DUTIES.map((duty) => [duty.name, Wallet.createRandom()]));
    env = {
      BANK_CHAIN_DEPLOYMENTS_DIR: path.join(dir, "deployments"),
      BANK_CHAIN_DATA_DIR: path.join(dir, "data"),
      CONSORTIUM_RPC_URL: url,
      ...Object.fromEntries(DUTIES.map(({ name }) => [keyVariable(CONSORTIUM, name), keys.get(name)!.privateKey])),
    };
  });

  after(async function () {
    await stack?.stop();
    provider?.destroy();
    await anvil?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs Anvil as the consortium's stand-in: its chain id, zero base fee", async function () {
    expect((await provider.getNetwork()).chainId).to.equal(BigInt(CONSORTIUM.chainId));
    expect((await provider.getBlock("latest"))!.baseFeePerGas).to.equal(CONSORTIUM.gas.baseFeePerGas);
    // Anvil suggests a priority fee all the same: only a sender that keeps to the fixed price gets through.
    expect(BigInt((await provider.send("eth_maxPriorityFeePerGas", [])) as string)).to.be.greaterThan(0n);
    for (const wallet of keys.values()) expect(await provider.getBalance(wallet.address)).to.equal(0n);
  });

  it("refuses to deploy with a duty's key unset, naming the variable, and sends nothing", async function () {
    const before = await nonces();
    const pauser = keyVariable(CONSORTIUM, "pauser");
    const result = await hardhat(["deploy", "--network", NETWORK, "--skip-prompts"], { ...env, [pauser]: "" });
    expect(result.code).to.not.equal(0);
    const output = `${result.stdout}${result.stderr}`;
    // The error is one line (Hardhat adds its stack trace after it when CI is set).
    const line = output.split("\n").find((text) => text.includes(pauser));
    expect(line, output).to.match(/^Error in community plugin bank-chain: network consortium needs/);
    expect(line).to.include(`${pauser} is empty (the pauser duty's key)`);
    expect(await nonces()).to.deep.equal(before);
  });

  it("refuses to deploy when two duties share one key, naming both variables, and sends nothing", async function () {
    const before = await nonces();
    const admin = keyVariable(CONSORTIUM, "admin");
    const deployer = keyVariable(CONSORTIUM, "deployer");
    const result = await hardhat(["deploy", "--network", NETWORK, "--skip-prompts"], {
      ...env,
      [admin]: keys.get("deployer")!.privateKey,
    });
    expect(result.code).to.not.equal(0);
    expect(`${result.stdout}${result.stderr}`).to.match(
      new RegExp(`duties deployer and admin share one account .*${deployer} and ${admin} hold the same key`),
    );
    expect(await nonces()).to.deep.equal(before);
  });

  it("a deploy cut off right after broadcasting its seventh transaction leaves what the re-run finishes (R4, checked)", async function () {
    // The node takes the seventh transaction, then the connection dies before the answer: what a crash or a
    // network cut does between broadcast and receipt. The re-run (the next test) must reach exactly the plan.
    let sent = 0;
    const cut = new RpcProxy(async ({ method, params }) => {
      if (sent >= 7) throw Object.assign(new Error("connection lost"), { code: -32603 });
      const answer = (await (
        await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
        })
      ).json()) as { result?: unknown; error?: { code: number; message: string } };
      if (method === "eth_sendRawTransaction" && (sent += 1) >= 7) throw new Error("connection lost");
      if (answer.error !== undefined) throw Object.assign(new Error(answer.error.message), answer.error);
      return answer.result;
    });
    const cutUrl = await cut.start();
    try {
      const result = await hardhat(["deploy", "--network", NETWORK, "--skip-prompts"], {
        ...env,
        [CONSORTIUM.urlVariable]: cutUrl,
      });
      expect(result.code, `${result.stdout}\n${result.stderr}`).to.not.equal(0);
      expect(sent).to.equal(7);
    } finally {
      await cut.stop();
    }
  });

  it("deploys the suite with one key per duty; a second deploy sends nothing", async function () {
    const first = await hardhat(["deploy", "--network", NETWORK, "--skip-prompts"]);
    expect(first.code, `${first.stdout}\n${first.stderr}`).to.equal(0);
    const after = await nonces();
    const second = await hardhat(["deploy", "--network", NETWORK, "--skip-prompts"]);
    expect(second.code, `${second.stdout}\n${second.stderr}`).to.equal(0);
    expect(await nonces(), "the second deploy sent a transaction").to.deep.equal(after);
    // The deployer deployed; every other duty signed its own steps.
    expect(after[0]).to.be.greaterThan(0);
  });

  it("reads the role table from chain: each role with its planned holder, one account per duty, the deployer none", async function () {
    const text = await cli(["roles"]);
    expect(text.code, text.stderr).to.equal(0);
    console.log(`\n${text.stdout}`);
    const json = await cli(["roles", "--json"]);
    expect(json.code, json.stderr).to.equal(0);
    const body = JSON.parse(json.stdout) as { roles: RoleRow[]; problems: unknown[]; duties: Record<string, string> };
    expect(body.problems).to.deep.equal([]);
    for (const { name } of DUTIES) expect(body.duties[name]).to.equal(keys.get(name)!.address);
    expect(new Set(Object.values(body.duties)).size, "one account per duty").to.equal(DUTIES.length);
    expect(body.roles.filter((row) => row.holder === "deployer")).to.deep.equal([]);
    expect(body.roles.every((row) => row.planned)).to.equal(true);
    // Every planned grant is on chain, and nothing else.
    const planned = ROLE_PLAN.map((entry) => `${entry.contract} ${entry.role}`).sort();
    expect(body.roles.map((row) => `${row.contract} ${row.role}`).sort()).to.deep.equal(planned);
  });

  it("lists every contract with `bank-chain --network consortium status`", async function () {
    const status = await cli(["status", "--json"]);
    expect(status.code, status.stderr).to.equal(0);
    const body = JSON.parse(status.stdout) as { chainId: string; contracts: Record<string, string> };
    expect(body.chainId).to.equal(String(CONSORTIUM.chainId));
    for (const name of new Set(ROLE_PLAN.map((entry) => entry.contract))) {
      expect(await provider.getCode(body.contracts[name]!)).to.not.equal("0x");
    }
  });

  it("runs the services with `npm start -- --network consortium`", async function () {
    // The auditor attests both banks' reserves: the deploy attests nothing outside the devnet.
    const contracts = (JSON.parse((await cli(["status", "--json"])).stdout) as { contracts: Record<string, string> })
      .contracts;
    // One nonce counter for the two attestations: Anvil, mining on its block timer, has answered a "pending" nonce
    // count that missed the first one (nonce too low).
    const reserves = ReserveLedger__factory.connect(
      contracts.ReserveLedger!,
      new NonceManager(keys.get("attestor")!.connect(provider)),
    );
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    for (const bank of ["BankA", "BankB"]) {
      await (await reserves.attestReserve(contracts[`TrustAccount${bank}`]!, 5_000_000_000n, now)).wait();
    }
    // Bank A, as its treasurer and ledger admin: a float into the central token account, then a card
    // customer's profile with 500.00 of tokens, then the card on the gateway's file.
    const bankA = keys.get("bankA")!.connect(provider);
    const gatewayKey = keys.get("gateway")!.connect(provider);
    const ledgerAddress = contracts.AccountLedgerBankA!;
    const ledger = AccountLedger__factory.connect(ledgerAddress, bankA);
    const token = BankToken__factory.connect(contracts.BankToken!, bankA);
    const trust = TrustAccount__factory.connect(contracts.TrustAccountBankA!, bankA);
    const cardholder = keyAt(CARDHOLDER_INDEX).address;
    const key = (label: string) => keccak256(toUtf8Bytes(`test:anvil/${label}`));
    // Bank A, as its treasurer: a float into the central token account, then the customer's profile.
    await (await trust.mintForDeposit(bankA.address, 1_000_000n, key("float"))).wait();
    await (await token.approve(ledgerAddress, MaxUint256)).wait();
    await (await ledger.fundTokens(key("fund"), 1_000_000n)).wait();
    await (await ledger.openProfile(key("account"), cardholder, 0n)).wait();
    await (await ledger.connect(gatewayKey).credit(key("credit"), cardholder, 50_000n)).wait();
    const added = await cli(["cards", "add", "--pan", PAN, "--expiry", "3012", "--wallet", cardholder], {
      CARD_GATEWAY_PAN_KEY: PAN_KEY,
    });
    expect(added.code, added.stderr).to.equal(0);
    stack = await startStack(place, ["--network", NETWORK], {
      ...env,
      // The demo customers (alice at A, bob at B): the agents have no customer API yet.
      BANK_AGENT_DEMO_CUSTOMERS: "open",
      CARD_GATEWAY_PAN_KEY: PAN_KEY,
      CARD_GATEWAY_MAC_KEYS: `${ACQUIRER}:${MAC_KEY.toString("hex")}`,
      // Off the devnet the offline merchant's terminal needs the merchant's own key.
      OFFLINE_MERCHANT_KEY: Wallet.createRandom().privateKey,
    });
    expect(stack.rpc).to.equal(url);
    for (const service of [
      "bank-a",
      "bank-b",
      "bill-monitor",
      "card-gateway",
      "keys-holder1",
      "keys-holder2",
      "keys-holder3",
      "retailer",
      "checkout",
      "card-gateway-api",
      "offline-merchant",
      "console",
    ]) {
      expect(stack.services.has(service), service).to.equal(true);
    }
  });

  it("takes the README's interbank payment to Acknowledged through both agents", async function () {
    const bankA = stack!.services.get("bank-a")!;
    const bankB = stack!.services.get("bank-b")!;
    const id = `E2E-ANVIL-${Date.now()}`;
    const accepted = await fetch(`${bankA}/payments`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        debtorAccount: "alice",
        creditorBank: "B",
        creditorAccount: "bob",
        amount: "12345",
        currency: "USD",
        endToEndId: id,
      }),
    });
    expect(accepted.status, await accepted.clone().text()).to.equal(202);
    let status = "";
    for (let i = 0; i < 240 && status !== "Acknowledged"; i++) {
      status = ((await (await fetch(`${bankA}/payments/${id}`)).json()) as { status: string }).status;
      if (status !== "Acknowledged") await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(status).to.equal("Acknowledged");
    const inbound = (await (await fetch(`${bankB}/payments/${id}`)).json()) as { creditor: { status: string } };
    expect(inbound.creditor.status).to.equal("Smelted");
    const bob = (await (await fetch(`${bankB}/accounts/bob`)).json()) as { balance: string };
    expect(BigInt(bob.balance)).to.be.greaterThanOrEqual(12_345n);
  });

  it("debits a card account for one authenticated 0200 from an outside acquirer", async function () {
    const ledger = AccountLedger__factory.connect(deployment("AccountLedgerBankA"), provider);
    const cardholder = keyAt(CARDHOLDER_INDEX).address;
    const before = (await ledger.profileOf(cardholder)).token;

    const gateway = new URL(stack!.services.get("card-gateway")!);
    const socket = net.connect(Number(gateway.port), gateway.hostname);
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    try {
      const reader = new FrameReader("binary2");
      const answered = new Promise<Iso8583Message>((resolve) =>
        socket.on("data", (chunk: Buffer) => {
          for (const bytes of reader.push(chunk)) resolve(decode(bytes));
        }),
      );
      const purchase: Iso8583Message = {
        mti: "0200",
        fields: {
          2: PAN,
          3: "000000",
          4: "000000001250",
          7: "1205093000",
          11: "424201",
          12: "093000",
          13: "1205",
          14: "3012",
          32: ACQUIRER,
          37: "ANVIL0000001",
          41: "TERM0042",
          42: "MERCHANT0004242",
          // The wallet data the gateway requires (docs/iso8583.md): the cardholder's wallet and DE 4's amount.
          48: encodeWalletData({ address: cardholder, amount: 1_250n }),
          49: "840",
        },
      };
      socket.write(frame(encodeWithMac(MAC_KEY, purchase), "binary2"));
      const response = await Promise.race([
        answered,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no 0210 within 60 s")), 60_000)),
      ]);
      expect(response.mti).to.equal("0210");
      expect(response.fields[39]).to.equal("00");
    } finally {
      socket.destroy();
    }
    expect((await ledger.profileOf(cardholder)).token).to.equal(before - 1_250n);
  });

  it("settles one offline voucher: merchant and buyer offline, the merchant's sync on chain", async function () {
    const buyer = keyAt(BUYER_INDEX);
    const merchant = Wallet.createRandom();
    const trust = TrustAccount__factory.connect(deployment("TrustAccountBankA"), keys.get("bankA")!.connect(provider));
    await (await trust.mintForDeposit(buyer.address, 10_000n, keccak256(toUtf8Bytes("test:anvil/buyer")))).wait();
    const deposit = await cli(["offline", "deposit", "--amount", "5000"], { BANK_CHAIN_OFFLINE_KEY: buyer.privateKey });
    expect(deposit.code, deposit.stderr).to.equal(0);

    const store = path.join(dir, "merchant.sqlite");
    const seller = spawnGroup(
      process.execPath,
      ["bin/bank-chain.mjs", "--network", NETWORK, "offline", "merchant", "--amount", "1250", "--store", store],
      { cwd: ROOT, env: { ...process.env, ...env, BANK_CHAIN_OFFLINE_KEY: merchant.privateKey } },
    );
    seller.stdin.end();
    const sold = collect(seller, 120_000);
    const offer = /^offer: (bcoffer1:\S+)$/m.exec(await waitForOutput(seller, /^offer: bcoffer1:\S+\n/m, 90_000))![1]!;
    const paid = await runNode(
      [
        "bin/bank-chain.mjs",
        "offline",
        "buyer",
        "--offer",
        offer,
        "--max",
        "5000",
        "--state",
        path.join(dir, "b.sqlite"),
      ],
      { BANK_CHAIN_OFFLINE_KEY: buyer.privateKey },
    );
    expect(paid.stdout, paid.stderr).to.match(/^decision: accepted$/m);
    expect((await sold).code).to.equal(0);

    const token = new Contract(
      deployment("BankToken"),
      ["function balanceOf(address) view returns (uint256)"],
      provider,
    );
    const sync = await cli(["offline", "sync", "--store", store, "--key-env", "BANK_CHAIN_OFFLINE_KEY"], {
      BANK_CHAIN_OFFLINE_KEY: merchant.privateKey,
    });
    expect(sync.code, sync.stderr).to.equal(0);
    expect(sync.stdout).to.match(/settled/);
    expect(await token.getFunction("balanceOf")(merchant.address)).to.equal(1_250n);
  });

  it("a revoked planned role is named by `roles` and granted again by a re-run (R4, checked)", async function () {
    const contracts = (JSON.parse((await cli(["status", "--json"])).stdout) as { contracts: Record<string, string> })
      .contracts;
    const token = new Contract(
      contracts.BankToken!,
      ["function revokeRole(bytes32 role, address account)", "function hasRole(bytes32, address) view returns (bool)"],
      keys.get("admin")!.connect(provider),
    );
    const pauser = keys.get("pauser")!.address;
    await (await token.getFunction("revokeRole")(roleId("PAUSER_ROLE"), pauser)).wait();
    const before = await cli(["roles"]);
    expect(before.code).to.equal(1);
    expect(before.stderr).to.contain("BankToken PAUSER_ROLE: planned holder pauser does not hold it");
    const rerun = await hardhat(["deploy", "--network", NETWORK, "--skip-prompts"]);
    expect(rerun.code, `${rerun.stdout}\n${rerun.stderr}`).to.equal(0);
    expect(await token.getFunction("hasRole")(roleId("PAUSER_ROLE"), pauser)).to.equal(true);
    const after = await cli(["roles"]);
    expect(after.code, after.stderr).to.equal(0);
  });

  it("test_R6_aRerunAfterADutyKeyRotationReplacesNoContract", async function () {
    // The admin key rotated in the configuration (its two-step handover on chain is the admin's to do): a re-run
    // must keep every deployed contract, not deploy a new token and settlement the services would switch to.
    const status = async (extra: NodeJS.ProcessEnv) =>
      (JSON.parse((await cli(["status", "--json"], extra)).stdout) as { contracts: Record<string, string> }).contracts;
    const rotated = { [keyVariable(CONSORTIUM, "admin")]: keyAt(BUYER_INDEX + 5).privateKey };
    const before = await status({});
    const sent = await nonces();
    const rerun = await hardhat(["deploy", "--network", NETWORK, "--skip-prompts"], { ...env, ...rotated });
    // The deploy's last step holds the chain to the plan: until the handover, it fails and says why.
    expect(rerun.code).to.not.equal(0);
    const output = `${rerun.stdout}${rerun.stderr}`;
    expect(output, output).to.match(
      /the roles on chain depart from the plan: [^\n]*BankToken DEFAULT_ADMIN_ROLE: planned holder admin does not hold it/,
    );
    expect(await status(rotated)).to.deep.equal(before);
    expect((await nonces())[0], "the deployer deployed again").to.equal(sent[0]);
    // The chain still names the old admin: `roles` with the rotated key says so until the handover is done.
    const roles = await cli(["roles"], rotated);
    expect(roles.code).to.equal(1);
    expect(roles.stderr).to.match(/BankToken DEFAULT_ADMIN_ROLE: planned holder admin does not hold it/);
  });
});
