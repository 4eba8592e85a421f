import { expect } from "chai";
import { Contract, Wallet } from "ethers";

import { fromRecords } from "../../src/chain/deployments.js";
import type { DutyName } from "../../src/chain/networks.js";
import { readRoleTable, ROLE_PLAN, roleId } from "../../src/chain/roles.js";
import { deploySuite, dutyAddressesOf, type Suite } from "../helpers/suite.js";

const ACCESS = [
  "function grantRole(bytes32 role, address account)",
  "function revokeRole(bytes32 role, address account)",
  "function beginDefaultAdminTransfer(address newAdmin)",
];

describe("roles: the plan the deploy carries out, and the table read back from chain", function () {
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
  const asAdmin = (name: string) => new Contract(suite.deployments.get(name).address, ACCESS, suite.accounts.admin);

  it("gives every role of the plan to its holder and to no one else; the deployer holds none", async function () {
    const { rows, problems } = await table();
    expect(problems).to.deep.equal([]);
    expect(rows.map((row) => `${row.contract} ${row.role} ${row.holder}`).sort()).to.deep.equal(
      ROLE_PLAN.map(
        (entry) =>
          `${entry.contract} ${entry.role} ${"duty" in entry.holder ? entry.holder.duty : `contract:${entry.holder.contract}`}`,
      ).sort(),
    );
    expect(rows.filter((row) => row.address === duties.get("deployer"))).to.deep.equal([]);
  });

  it("plans every role each deployed contract declares, under the id the contract uses", async function () {
    for (const name of new Set(ROLE_PLAN.map((entry) => entry.contract))) {
      const record = suite.deployments.get(name);
      const contract = new Contract(record.address, record.abi, suite.ethers.provider);
      const declared = contract.interface.fragments
        .filter((f) => f.type === "function" && "name" in f && /_ROLE$/.test(f.name as string))
        .map((f) => (f as unknown as { name: string }).name);
      expect(declared.length, name).to.be.greaterThan(0);
      for (const role of declared) {
        const id = (await contract.getFunction(role)()) as string;
        expect(id, `${name}.${role}`).to.equal(roleId(role));
        expect(
          ROLE_PLAN.some((entry) => entry.contract === name && entry.role === role),
          `${name}.${role} has no holder in ROLE_PLAN`,
        ).to.equal(true);
      }
    }
  });

  it("names a role granted outside the plan, by holder", async function () {
    await (await asAdmin("BankToken").getFunction("grantRole")(roleId("PAUSER_ROLE"), duties.get("deployer"))).wait();
    const { problems, rows } = await table();
    expect(problems.map((p) => p.code)).to.deep.equal(["unplanned"]);
    expect(problems[0]!.message).to.match(/BankToken PAUSER_ROLE is held by deployer 0x/);
    expect(rows.find((row) => row.holder === "deployer")).to.include({ role: "PAUSER_ROLE", planned: false });
  });

  it("names a planned grant that was revoked", async function () {
    const gateway = duties.get("gateway")!;
    await (await asAdmin("AccountLedgerBankA").getFunction("revokeRole")(roleId("GATEWAY_ROLE"), gateway)).wait();
    const { problems } = await table();
    expect(problems.map((p) => p.message)).to.deep.equal([
      "AccountLedgerBankA GATEWAY_ROLE: planned holder gateway does not hold it",
    ]);
  });

  it("names a pending default-admin handover and two duties on one account", async function () {
    const stranger = suite.others[0]!.address;
    await (await asAdmin("OfflineVault").getFunction("beginDefaultAdminTransfer")(stranger)).wait();
    duties.set("rescuer", duties.get("pauser")!);
    const { problems } = await table();
    expect(problems.map((p) => p.code).sort()).to.deep.equal(["missing", "pending-admin", "shared-key", "unplanned"]);
    expect(problems.find((p) => p.code === "shared-key")!.message).to.match(/duties pauser, rescuer share one account/);
    expect(problems.find((p) => p.code === "pending-admin")!.message).to.match(
      /^OfflineVault: a default admin handover/,
    );
  });

  it("names a role the plan gives to someone else, even to a holder with another planned role on that contract", async function () {
    await (await asAdmin("BankToken").getFunction("grantRole")(roleId("PAUSER_ROLE"), duties.get("upgrader"))).wait();
    const { problems } = await table();
    expect(problems.map((p) => p.message)).to.deep.equal([
      `BankToken PAUSER_ROLE is held by upgrader ${duties.get("upgrader")}, which the plan does not give it`,
    ]);
  });

  it("names an address it does not know by the address alone, as holder and as pending admin", async function () {
    const stranger = Wallet.createRandom().address;
    await (await asAdmin("BillRegistry").getFunction("grantRole")(roleId("DEFINITION_ADMIN_ROLE"), stranger)).wait();
    await (await asAdmin("BillRegistry").getFunction("beginDefaultAdminTransfer")(stranger)).wait();
    const { problems, rows } = await table();
    expect(problems.map((p) => p.message)).to.deep.equal([
      `BillRegistry DEFINITION_ADMIN_ROLE is held by ${stranger}, which the plan does not give it`,
      `BillRegistry: a default admin handover to ${stranger} is pending`,
    ]);
    expect(rows.find((row) => row.address === stranger)).to.include({ holder: "unknown", planned: false });
  });

  it("is not troubled by a grant outside the plan that was revoked again", async function () {
    const stranger = Wallet.createRandom().address;
    const vault = asAdmin("OfflineVault");
    await (await vault.getFunction("grantRole")(roleId("RISK_ADMIN_ROLE"), stranger)).wait();
    await (await vault.getFunction("revokeRole")(roleId("RISK_ADMIN_ROLE"), stranger)).wait();
    const { problems, rows } = await table();
    expect(problems).to.deep.equal([]);
    expect(rows.some((row) => row.address === stranger)).to.equal(false);
  });

  it("names a contract of the plan that is not deployed", async function () {
    const records = [...suite.deployments.contracts.values()].filter((record) => record.name !== "OfflineVault");
    const partial = fromRecords("hardhat", 31337n, new Map(records.map((record) => [record.name, record])));
    const { problems } = await readRoleTable(suite.ethers.provider, partial, duties);
    expect(problems.map((p) => p.message)).to.deep.equal(["OfflineVault is not deployed"]);
  });
});
