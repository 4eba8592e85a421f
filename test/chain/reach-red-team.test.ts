/**
 * Red team of issue 15 (reach: remote networks, one key per duty, the role
 * plan). Each `test_R<n>_…` is an attack that failed on the merged code
 * (d2b9912), the finding's id in its name; a test marked "checked" is an
 * attack that already failed to get through, kept as a guard.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { Contract, Wallet } from "ethers";

import { ChainConfigError, openChain, probeChainId, type ChainConnection } from "../../src/chain/config.js";
import { DUTIES, keyVariable, REMOTE_NETWORKS, type DutyName } from "../../src/chain/networks.js";
import { readRoleTable, roleId } from "../../src/chain/roles.js";
import { GatewayConfigError } from "../../src/iso8583/gateway.js";
import { CARD_GATEWAY_SETTINGS, cardGatewayService, DEVNET_PAN_KEY } from "../../src/iso8583/service.js";
import { SettingError } from "../../src/chain/settings.js";
import { freshDutyKeys, rejection } from "../helpers/remote.js";
import { freePort, ROOT, runNode } from "../helpers/processes.js";
import { fakeNode } from "../mocks/http-node.js";
import { deploySuite, dutyAddressesOf, type Suite } from "../helpers/suite.js";

const CONSORTIUM = REMOTE_NETWORKS.consortium;
/** What an RPC provider's URL hides: an API key in the path, a password in the authority. */
const API_KEY = "Sk3yAPIsecret0123456789";
const PASSWORD = "pa55w0rdSecret";

/** Everything an error shows: its message and its JSON (what `--json` prints). */
const shown = (error: ChainConfigError): string => `${error.message}\n${JSON.stringify(error.toJSON())}`;

/** A JSON-RPC stand-in answering `eth_chainId` with `chainId` and `eth_blockNumber` with 5. */
function answering(chainId: number) {
  return (body: string) => {
    const { id, method } = JSON.parse(body) as { id: number; method: string };
    const result = method === "eth_chainId" ? `0x${chainId.toString(16)}` : method === "eth_blockNumber" ? "0x5" : null;
    return { status: 200, body: JSON.stringify({ jsonrpc: "2.0", id, result }) };
  };
}

/** Sets the consortium's variables in process.env (Hardhat reads them there) for the length of `run`. */
async function withConsortium<T>(values: Record<string, string>, run: () => Promise<T>): Promise<T> {
  const variables = [CONSORTIUM.urlVariable, ...DUTIES.map(({ name }) => keyVariable(CONSORTIUM, name))];
  const saved = new Map(variables.map((variable) => [variable, process.env[variable]]));
  for (const variable of variables) {
    if (variable !== CONSORTIUM.urlVariable) process.env[variable] = Wallet.createRandom().privateKey;
  }
  Object.assign(process.env, values);
  try {
    return await run();
  } finally {
    for (const [variable, value] of saved) {
      if (value === undefined) delete process.env[variable];
      else process.env[variable] = value;
    }
  }
}

describe("reach: red team (issue 15)", function () {
  describe("R1: an RPC URL's secrets (API key in the path, user:password) never reach a message", function () {
    it("test_R1_anUnreachableNodeIsNamedByItsOriginOnly", async function () {
      const port = await freePort();
      const error = await rejection(probeChainId(`http://127.0.0.1:${port}/v3/${API_KEY}`, 1_000));
      expect(error.code).to.equal("CONFIG_RPC_UNREACHABLE");
      expect(shown(error)).to.not.contain(API_KEY);
      expect(error.message).to.contain(`http://127.0.0.1:${port}`);
    });

    it("test_R1_aUrlWithAPasswordIsNeverPrinted", async function () {
      const port = await freePort();
      const error = await rejection(probeChainId(`http://bank:${PASSWORD}@127.0.0.1:${port}/`, 1_000));
      expect(shown(error)).to.not.contain(PASSWORD);
    });

    it("test_R1_aUrlWithAPasswordReachesTheNodeAsBasicAuthentication", async function () {
      const expected = `Basic ${Buffer.from(`bank:${PASSWORD}`).toString("base64")}`;
      const seen: string[] = [];
      const guarded = createServer((req, res) => {
        seen.push(req.headers.authorization ?? "");
        let body = "";
        req.on("data", (chunk: Buffer) => (body += chunk.toString()));
        req.on("end", () => {
          if (req.headers.authorization !== expected) return void res.writeHead(401).end("unauthorized");
          const reply = answering(1337)(body);
          res.writeHead(reply.status, { "content-type": "application/json" }).end(reply.body);
        });
      });
      await new Promise<void>((resolve) => guarded.listen(0, "127.0.0.1", resolve));
      const { port } = guarded.address() as AddressInfo;
      try {
        const chain = await openChain({ rpc: `http://bank:${PASSWORD}@127.0.0.1:${port}`, env: {} });
        expect(chain.chainId).to.equal(1337n);
        expect(await chain.provider.getBlockNumber()).to.equal(5);
        await chain.close();
        expect(seen.every((header) => header === expected)).to.equal(true);
      } finally {
        guarded.close();
      }
    });

    it("test_R1_aNodeAnsweringAnHttpErrorDoesNotPutTheApiKeyInTheServicesErrors", async function () {
      const node = await fakeNode((body) =>
        (JSON.parse(body) as { method: string }).method === "eth_chainId"
          ? answering(1337)(body)
          : { status: 500, body: "over quota" },
      );
      try {
        const chain = await openChain({ rpc: `${node.url}/v3/${API_KEY}`, env: {} });
        let message = "";
        try {
          await chain.provider.getBlockNumber();
        } catch (error) {
          message = (error as Error).message;
        }
        await chain.close();
        expect(message).to.match(/server response 500/);
        expect(message).to.not.contain(API_KEY);
      } finally {
        node.server.close();
      }
    });

    it("test_R1_aNodeThatIsNotJsonRpcIsNamedByItsOriginOnly", async function () {
      const html = await fakeNode(() => ({ status: 200, body: "<html>" }));
      try {
        const error = await rejection(probeChainId(`${html.url}/v3/${API_KEY}`));
        expect(error.code).to.equal("CONFIG_RPC_INVALID");
        expect(shown(error)).to.not.contain(API_KEY);
      } finally {
        html.server.close();
      }
    });

    it("test_R1_aConsortiumNodeOnAnotherChainIsNamedByItsOriginOnly", async function () {
      const foreign = await fakeNode(answering(1));
      try {
        const error = await withConsortium({ [CONSORTIUM.urlVariable]: `${foreign.url}/v3/${API_KEY}` }, () =>
          rejection(openChain({ network: "consortium" })),
        );
        expect(error.code).to.equal("CONFIG_CHAIN_MISMATCH");
        expect(shown(error)).to.not.contain(API_KEY);
        expect(error.message).to.contain(`the node at ${foreign.url} answers chain id 1`);
      } finally {
        foreign.server.close();
      }
    });

    it("test_R1_aUrlThatIsNotHttpIsRefusedWithoutRepeatingItsSecrets", async function () {
      for (const url of [`ftp://bank:${PASSWORD}@rpc.example/v3/${API_KEY}`, `not a url ${API_KEY}`]) {
        const error = await rejection(openChain({ rpc: url, env: {} }));
        expect(error.code).to.equal("CONFIG_INVALID_URL");
        expect(shown(error)).to.not.contain(API_KEY).and.not.contain(PASSWORD);
      }
    });

    it("a deploy to a node answering an HTTP error does not print the API key (checked: already so)", async function () {
      const node = await fakeNode((body) =>
        (JSON.parse(body) as { method: string }).method === "eth_chainId"
          ? answering(CONSORTIUM.chainId)(body)
          : { status: 500, body: "over quota" },
      );
      try {
        const keys = freshDutyKeys();
        const result = await runNode(
          [
            path.join(ROOT, "node_modules/hardhat/dist/src/cli.js"),
            "deploy",
            "--network",
            "consortium",
            "--skip-prompts",
          ],
          {
            ...keys,
            [CONSORTIUM.urlVariable]: `${node.url}/v3/${API_KEY}`,
            BANK_CHAIN_DEPLOYMENTS_DIR: path.join(tmpdir(), `bank-chain-red15-quota-${Date.now()}`),
          },
          120_000,
        );
        const output = `${result.stdout}${result.stderr}`;
        expect(result.code, output).to.not.equal(0);
        expect(output).to.not.contain(API_KEY);
      } finally {
        node.server.close();
      }
    });

    it("test_R1_statusShowsTheRpcOriginOnly", async function () {
      const node = await fakeNode(answering(1337));
      try {
        const url = `${node.url}/v3/${API_KEY}`;
        const text = await runNode(["bin/bank-chain.mjs", "--rpc", url, "status"]);
        expect(text.code, text.stderr).to.equal(0);
        expect(text.stdout).to.contain(`network:   rpc ${node.url}`);
        const json = await runNode(["bin/bank-chain.mjs", "--rpc", url, "--json", "status"]);
        expect(json.code, json.stderr).to.equal(0);
        expect(`${text.stdout}${text.stderr}${json.stdout}${json.stderr}`).to.not.contain(API_KEY);
        expect((JSON.parse(json.stdout) as { url: string }).url).to.equal(node.url);
      } finally {
        node.server.close();
      }
    });
  });

  describe("R2: a duty key the curve cannot use is refused in one line before Hardhat signs with it", function () {
    const ZERO_KEY = `0x${"0".repeat(64)}`;
    /** secp256k1's group order n: a private key must be below it. */
    const CURVE_ORDER = "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

    it("test_R2_theZeroKeyAndAKeyAtTheCurveOrderAreNamedBeforeTheDeploySendsAnything", async function () {
      const port = await freePort();
      const pauser = keyVariable(CONSORTIUM, "pauser");
      const rescuer = keyVariable(CONSORTIUM, "rescuer");
      const keys = freshDutyKeys();
      // A fresh process: Hardhat caches a configuration variable's value for the life of its runtime.
      const result = await runNode(
        [
          path.join(ROOT, "node_modules/hardhat/dist/src/cli.js"),
          "deploy",
          "--network",
          "consortium",
          "--skip-prompts",
        ],
        {
          ...keys,
          [CONSORTIUM.urlVariable]: `http://127.0.0.1:${port}`,
          [pauser]: ZERO_KEY,
          [rescuer]: CURVE_ORDER,
          BANK_CHAIN_DEPLOYMENTS_DIR: path.join(tmpdir(), `bank-chain-red15-${port}`),
        },
        120_000,
      );
      const output = `${result.stdout}${result.stderr}`;
      expect(result.code).to.not.equal(0);
      // One line (under CI Hardhat prints its stack trace after it).
      const lines = output.split("\n").filter((line) => line.startsWith("Error in community plugin bank-chain:"));
      expect(lines, output).to.have.length(1);
      expect(lines[0]).to.contain(`${pauser} is not a secp256k1 private key`);
      expect(lines[0]).to.contain(`${rescuer} is not a secp256k1 private key`);
    });
  });

  describe("wrong chain (checked: already refused)", function () {
    it("a deploy to the consortium refuses a node answering another chain id before sending anything", async function () {
      const methods: string[] = [];
      const foreign = await fakeNode((body) => {
        methods.push((JSON.parse(body) as { method: string }).method);
        return answering(1)(body);
      });
      try {
        const keys = freshDutyKeys();
        const result = await runNode(
          [
            path.join(ROOT, "node_modules/hardhat/dist/src/cli.js"),
            "deploy",
            "--network",
            "consortium",
            "--skip-prompts",
          ],
          {
            ...keys,
            [CONSORTIUM.urlVariable]: `${foreign.url}/v3/${API_KEY}`,
            BANK_CHAIN_DEPLOYMENTS_DIR: path.join(tmpdir(), `bank-chain-red15-foreign-${Date.now()}`),
          },
          120_000,
        );
        const output = `${result.stdout}${result.stderr}`;
        expect(result.code, output).to.not.equal(0);
        expect(output).to.match(/chain ?id/i);
        expect(output).to.not.contain(API_KEY);
        expect(methods.filter((method) => method !== "eth_chainId")).to.deep.equal([]);
      } finally {
        foreign.server.close();
      }
    });
  });

  describe("R3: `bank-chain roles` sees the privileges that are not roles: the token's minters, the ledger's issuers", function () {
    let suite: Suite;
    let duties: Map<DutyName, string>;

    beforeEach(async function () {
      suite = await deploySuite();
      duties = await dutyAddressesOf(suite);
    });

    afterEach(async function () {
      await suite.connection.close();
    });

    const table = () => readRoleTable(suite.ethers.provider, suite.deployments, duties);

    it("test_R3_theDeployedSuiteHasExactlyThePlannedMintersAndIssuers", async function () {
      const { problems, privileges } = await table();
      expect(problems).to.deep.equal([]);
      expect(privileges.map((row) => `${row.contract} ${row.role} ${row.holder}`).sort()).to.deep.equal([
        "AccountLedgerBankA treasury bankA",
        "BankToken minter contract:BurnMintLane",
        "BankToken minter contract:InterbankSettlement",
        "BankToken minter contract:TrustAccountBankA",
        "BankToken minter contract:TrustAccountBankB",
        "InterbankSettlement agent of contract:TrustAccountBankA bankA",
        "InterbankSettlement agent of contract:TrustAccountBankB bankB",
        "ReserveLedger bridge contract:BurnMintLane",
        "ReserveLedger issuer contract:InterbankSettlement",
        "ReserveLedger issuer contract:TrustAccountBankA",
        "ReserveLedger issuer contract:TrustAccountBankB",
      ]);
    });

    it("test_R3_aBridgeAccountOutsideThePlanIsNamed", async function () {
      // A bridge account mints up to its cap with no reserve behind it: one nobody planned must show.
      const stranger = suite.others[1]!.address;
      await (await suite.ledger.registerBridge(stranger, 1n)).wait();
      const { problems } = await table();
      expect(problems.map((p) => p.message)).to.deep.equal([
        `ReserveLedger bridge is held by ${stranger}, which the plan does not give it`,
      ]);
    });

    it("test_R3_aMinterOutsideThePlanIsNamed", async function () {
      await (
        await suite.token.connect(suite.accounts.issuanceAdmin).configureMinter(duties.get("deployer")!, 1n)
      ).wait();
      const { problems } = await table();
      expect(problems.map((p) => p.code)).to.deep.equal(["unplanned"]);
      expect(problems[0]!.message).to.match(/^BankToken minter is held by deployer 0x[0-9a-fA-F]{40}, which the plan/);
    });

    it("test_R3_anIssuerOutsideThePlanIsNamed", async function () {
      const stranger = suite.others[0]!.address;
      await (await suite.ledger.registerIssuer(stranger, 10_000, 24 * 3_600)).wait();
      const { problems } = await table();
      expect(problems.map((p) => p.message)).to.deep.equal([
        `ReserveLedger issuer is held by ${stranger}, which the plan does not give it`,
      ]);
    });

    it("test_R3_aPlannedMinterRemovedIsNamed", async function () {
      const trustB = suite.deployments.get("TrustAccountBankB").address;
      await (await suite.token.connect(suite.accounts.issuanceAdmin).removeMinter(trustB)).wait();
      const { problems } = await table();
      expect(problems.map((p) => p.message)).to.deep.equal([
        "BankToken minter: planned holder contract:TrustAccountBankB does not hold it",
      ]);
    });

    it("test_R3_aBankAgentOutsideThePlanIsNamed", async function () {
      // A bank's agent initiates and smelts payments for it; another bank needs another trust account and
      // issuer, which the issuer check names.
      const settlement = new Contract(
        suite.deployments.get("InterbankSettlement").address,
        ["function setBankAgent(address bank, address agent)"],
        suite.accounts.schemeAdmin,
      );
      const trustB = suite.deployments.get("TrustAccountBankB").address;
      await (await settlement.getFunction("setBankAgent")(trustB, duties.get("deployer"))).wait();
      const { problems, privileges } = await table();
      expect(problems.map((p) => p.message)).to.deep.equal([
        "InterbankSettlement agent of contract:TrustAccountBankB: planned holder bankB does not hold it",
        `InterbankSettlement agent of contract:TrustAccountBankB is held by deployer ${duties.get("deployer")}, which the plan does not give it`,
      ]);
      expect(privileges.filter((row) => row.contract === "InterbankSettlement" && row.planned)).to.have.length(1);
    });

    it("names a bank registered outside the plan, with its agent", async function () {
      const settlement = new Contract(
        suite.deployments.get("InterbankSettlement").address,
        ["function registerBank(address bank, address agent)"],
        suite.accounts.schemeAdmin,
      );
      // A third bank the plan does not know: its own trust account, registered as an issuer, then as a bank.
      const trust = await suite.ethers.deployContract(
        "TrustAccount",
        [suite.accounts.admin.address, 3_600, suite.deployments.get("BankToken").address],
        suite.accounts.deployer,
      );
      await trust.waitForDeployment();
      const bank = await trust.getAddress();
      await (await suite.ledger.registerIssuer(bank, 10_000, 86_400)).wait();
      const agent = Wallet.createRandom().address;
      await (await settlement.getFunction("registerBank")(bank, agent)).wait();
      const { problems } = await table();
      // Named twice: as an issuer of the reserve ledger nobody planned, and as a bank with an agent nobody planned.
      const named = problems.filter((p) => p.message.includes(bank));
      expect(named.map((p) => p.code)).to.deep.equal(["unplanned", "unplanned"]);
      expect(named.filter((p) => p.message.includes(agent))).to.have.length(1);
    });

    it("test_R3_aTokenUpgradedToAnImplementationNotDeployedByTheSuiteIsNamed", async function () {
      // UPGRADER_ROLE is in the table, but what it did was not: the proxy's code is whatever it points at.
      const other = await suite.ethers.deployContract("BankToken", [], suite.others[3]!);
      await other.waitForDeployment();
      const proxy = new Contract(
        suite.deployments.get("BankToken").address,
        ["function upgradeToAndCall(address newImplementation, bytes data)"],
        suite.accounts.upgrader,
      );
      await (await proxy.getFunction("upgradeToAndCall")(await other.getAddress(), "0x")).wait();
      const { problems } = await table();
      expect(problems.map((p) => p.code)).to.deep.equal(["implementation"]);
      expect(problems[0]!.message).to.equal(
        `BankToken runs the implementation ${await other.getAddress()}, not the deployed BankToken_Implementation ${suite.deployments.get("BankToken_Implementation").address}`,
      );
    });

    it("test_R3_aReserveFeedOrATreasuryOutsideThePlanIsNamed", async function () {
      // A feed reports the issuer's reserve (so how much it may mint); the treasury receives defunded tokens.
      const feed = suite.deployments.get("BankToken_Implementation").address;
      const trustA = suite.deployments.get("TrustAccountBankA").address;
      await (await suite.ledger.setReserveFeed(trustA, feed)).wait();
      const stranger = suite.others[4]!.address;
      const cards = new Contract(
        suite.deployments.get("AccountLedgerBankA").address,
        ["function setTreasury(address newTreasury)"],
        suite.accounts.bankA,
      );
      await (await cards.getFunction("setTreasury")(stranger)).wait();
      const { problems } = await table();
      expect(problems.map((p) => p.message).sort()).to.deep.equal(
        [
          `ReserveLedger reserve feed of contract:TrustAccountBankA is held by ${feed}, which the plan does not give it`,
          "AccountLedgerBankA treasury: planned holder bankA does not hold it",
          `AccountLedgerBankA treasury is held by ${stranger}, which the plan does not give it`,
        ].sort(),
      );
    });

    it("names a role granted to an address it does not know (checked: already so)", async function () {
      const stranger = suite.others[1]!.address;
      const vault = new Contract(
        suite.deployments.get("OfflineVault").address,
        ["function grantRole(bytes32 role, address account)"],
        suite.accounts.admin,
      );
      await (await vault.getFunction("grantRole")(roleId("RISK_ADMIN_ROLE"), stranger)).wait();
      const { problems } = await table();
      expect(problems.map((p) => p.message)).to.deep.equal([
        `OfflineVault RISK_ADMIN_ROLE is held by ${stranger}, which the plan does not give it`,
      ]);
    });
  });

  describe("R5: a card gateway off the devnet with no acquirer it may take messages from does not start", function () {
    it("test_R5_noMacKeysAndUnauthenticatedRefusedStopsTheGatewayInOneLine", async function () {
      const suite = await deploySuite();
      const dataDir = mkdtempSync(path.join(tmpdir(), "bank-chain-red15-gateway-"));
      // The suite's chain, seen as the consortium's: what `npm start -- --network consortium` gives the services.
      const chain: ChainConnection = {
        network: "consortium",
        url: undefined,
        chainId: BigInt(CONSORTIUM.chainId),
        provider: suite.ethers.provider,
        getSigners: () => suite.ethers.getSigners(),
        close: async () => undefined,
      };
      const env = { CARD_GATEWAY_PAN_KEY: "2b".repeat(32), CARD_GATEWAY_PORT: "0" };
      try {
        let error: unknown;
        try {
          const service = await cardGatewayService({ env }).create({
            chain,
            deployments: suite.deployments,
            dataDir,
            log: () => undefined,
          });
          await service.stop();
        } catch (caught) {
          error = caught;
        }
        expect(error).to.be.instanceOf(GatewayConfigError);
        expect((error as GatewayConfigError).code).to.equal("GATEWAY_NO_ACQUIRER");
        expect((error as Error).message.split("\n")).to.have.length(1);
        expect((error as Error).message).to.match(/CARD_GATEWAY_MAC_KEYS/);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
        await suite.connection.close();
      }
    });
  });

  describe("R7: off the devnet a secret setting refuses the devnet's published value", function () {
    it("test_R7_theDevnetPanKeyIsRefusedOffTheDevnet", function () {
      let error: unknown;
      try {
        CARD_GATEWAY_SETTINGS.read({ CARD_GATEWAY_PAN_KEY: DEVNET_PAN_KEY.toUpperCase() }, { devnet: false });
      } catch (caught) {
        error = caught;
      }
      expect(error).to.be.instanceOf(SettingError);
      expect((error as SettingError).code).to.equal("SETTING_PUBLISHED");
      expect((error as Error).message).to.equal(
        "CARD_GATEWAY_PAN_KEY is the devnet's published development value, which anyone can read in the source; set this network's own",
      );
      // The devnet itself keeps it.
      expect(
        CARD_GATEWAY_SETTINGS.read({ CARD_GATEWAY_PAN_KEY: DEVNET_PAN_KEY }, { devnet: true }).CARD_GATEWAY_PAN_KEY,
      ).to.equal(DEVNET_PAN_KEY);
    });
  });

  describe("R8: a duty key from the public test mnemonic (the devnet's, Hardhat's and Anvil's) is refused on a remote network", function () {
    /** Account #0 of "test test … junk": the first key Anvil and Hardhat print, known to everyone. */
    const PUBLIC_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    it("test_R8_theDeployRefusesAPublishedKeyInOneLine", async function () {
      const port = await freePort();
      const admin = keyVariable(CONSORTIUM, "admin");
      const keys = freshDutyKeys();
      const result = await runNode(
        [
          path.join(ROOT, "node_modules/hardhat/dist/src/cli.js"),
          "deploy",
          "--network",
          "consortium",
          "--skip-prompts",
        ],
        {
          ...keys,
          [CONSORTIUM.urlVariable]: `http://127.0.0.1:${port}`,
          [admin]: PUBLIC_KEY_0.slice(2).toUpperCase(),
          BANK_CHAIN_DEPLOYMENTS_DIR: path.join(tmpdir(), `bank-chain-red15-published-${port}`),
        },
        120_000,
      );
      const output = `${result.stdout}${result.stderr}`;
      expect(result.code).to.not.equal(0);
      // One line (under CI Hardhat prints its stack trace after it).
      const lines = output.split("\n").filter((line) => line.startsWith("Error in community plugin bank-chain:"));
      expect(lines, output).to.have.length(1);
      expect(lines[0]).to.contain(`${admin} is the public test mnemonic's account #0`);
    });

    it("test_R8_theCliAndTheServicesRefuseAPublishedKey", async function () {
      const node = await fakeNode(answering(CONSORTIUM.chainId));
      try {
        const keys = freshDutyKeys();
        const gateway = keyVariable(CONSORTIUM, "gateway");
        const result = await runNode(["bin/bank-chain.mjs", "--network", "consortium", "status"], {
          ...keys,
          [CONSORTIUM.urlVariable]: node.url,
          [gateway]: PUBLIC_KEY_0,
        });
        expect(result.code).to.equal(1);
        expect(result.stderr.trim().split("\n")).to.have.length(1);
        expect(result.stderr).to.contain(`${gateway} is the public test mnemonic's account #0`);
        expect(result.stderr).to.not.contain(PUBLIC_KEY_0.slice(2));
      } finally {
        node.server.close();
      }
    });
  });
});
