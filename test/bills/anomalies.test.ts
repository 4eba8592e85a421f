/**
 * Every anomaly kind the bill monitor can record, each made to happen and
 * asserted with its detail. The registry itself never breaks its rules, so the
 * disagreement is made on the monitor's side: its SQLite view of a definition's
 * rules or of a bill is edited (a view that went wrong), or its checkpoint is
 * moved back (a replay); a definition registered through a forwarding contract
 * cannot be decoded. A last test reads the monitor's source so that a kind
 * added later without a test here fails.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { Interface, Wallet, ZeroHash } from "ethers";

import type { BillMonitor } from "../../src/bills/monitor.js";
import { Effect, Party } from "../../src/bills/enums.js";
import { Store } from "../../src/store/store.js";
import { ROOT } from "../helpers/processes.js";
import { asUint, b32, billsFixture, E_INVOICE, type BillsFixture } from "./helpers.js";

const ISSUED = b32("ISSUED");
const ACCEPTED = b32("ACCEPTED");
const ACCEPT = b32("ACCEPT");
const PAY_PARTIAL = b32("PAY_PARTIAL");
const ISSUE = b32("ISSUE");

/** The kinds asserted below. */
const COVERED = new Set<string>();

describe("bills: every anomaly the monitor records", function () {
  this.timeout(120_000);
  let f: BillsFixture;
  let store: Store;
  let monitor: BillMonitor;

  beforeEach(async function () {
    f = await billsFixture();
    store = Store.open({ path: ":memory:" });
    monitor = f.monitor(store);
    await monitor.poll(); // the deployed definitions are read
  });

  afterEach(function () {
    store.close();
  });

  /** The e-invoice rule (from, operation) as the monitor stores it: edited to play a view gone wrong. */
  function editRule(from: string, operation: string, set: string, ...values: Array<string | number>): void {
    const { changes } = store.run(
      `UPDATE bill_transitions SET ${set} WHERE definition_id = ? AND from_state = ? AND operation = ?`,
      ...values,
      E_INVOICE,
      from,
      operation,
    );
    expect(changes, "rule edited").to.equal(1);
  }

  function editBill(id: string, set: string, ...values: Array<string | number | null>): void {
    expect(store.run(`UPDATE bills SET ${set} WHERE id = ?`, ...values, id.toLowerCase()).changes).to.equal(1);
  }

  /** The anomalies of `id` (all if null) as [kind, detail], recording the kinds seen. */
  function anomalies(id: string | null): Array<[string, Record<string, string>]> {
    const found = (id === null ? monitor.anomalies() : monitor.anomalies(id)).map(
      (a) => [a.kind, { ...a.detail }] as [string, Record<string, string>],
    );
    for (const [kind] of found) COVERED.add(kind);
    return found;
  }

  async function issued(label: string): Promise<string> {
    const id = await f.issue(E_INVOICE, label, 500n);
    await monitor.poll();
    expect(anomalies(id)).to.deep.equal([]);
    return id;
  }

  async function accepted(label: string): Promise<string> {
    const id = await issued(label);
    await f.exec(1, id, "ACCEPT");
    await monitor.poll();
    expect(anomalies(id)).to.deep.equal([]);
    return id;
  }

  it("INVALID_TRANSITION: an operation the definition has no rule for", async function () {
    const id = await issued("invalid");
    store.run(
      "DELETE FROM bill_transitions WHERE definition_id = ? AND from_state = ? AND operation = ?",
      E_INVOICE,
      ISSUED,
      ACCEPT,
    );
    await f.exec(1, id, "ACCEPT");
    await monitor.poll();
    expect(anomalies(id)).to.deep.equal([
      ["INVALID_TRANSITION", { from: "ISSUED", operation: "ACCEPT", to: "ACCEPTED" }],
    ]);
  });

  it("INVALID_TRANSITION at issue: the issuing operation is no Issue rule", async function () {
    store.run(
      "DELETE FROM bill_transitions WHERE definition_id = ? AND from_state = ? AND operation = ?",
      E_INVOICE,
      ZeroHash,
      ISSUE,
    );
    const id = await f.issue(E_INVOICE, "invalid-issue", 500n);
    await monitor.poll();
    expect(anomalies(id)).to.deep.equal([["INVALID_TRANSITION", { from: "", operation: "ISSUE" }]]);
  });

  it("WRONG_TARGET: the event's target state is not the rule's, at an operation and at issue", async function () {
    editRule(ZeroHash, ISSUE, "to_state = ?", b32("PAID"));
    editRule(ISSUED, ACCEPT, "to_state = ?", b32("DISPUTED"));
    const id = await f.issue(E_INVOICE, "wrong-target", 500n);
    await monitor.poll();
    expect(anomalies(id)).to.deep.equal([["WRONG_TARGET", { operation: "ISSUE", expected: "PAID", to: "ISSUED" }]]);
    await f.exec(1, id, "ACCEPT");
    await monitor.poll();
    expect(anomalies(id).slice(1)).to.deep.equal([
      ["WRONG_TARGET", { from: "ISSUED", operation: "ACCEPT", expected: "DISPUTED", to: "ACCEPTED" }],
    ]);
  });

  it("UNAUTHORIZED_PARTY: the actor is not the party the rule names", async function () {
    const id = await issued("party");
    editRule(ISSUED, ACCEPT, "party = ?", Party.Drawer);
    await f.exec(1, id, "ACCEPT"); // by the drawee
    await monitor.poll();
    expect(anomalies(id)).to.deep.equal([
      [
        "UNAUTHORIZED_PARTY",
        { operation: "ACCEPT", party: String(Party.Drawer), expected: f.addresses[0]!, actor: f.addresses[1]! },
      ],
    ]);
  });

  it("MISSING_EFFECT: the rule has an effect and no effect event came before the state change", async function () {
    const id = await issued("missing-effect");
    editRule(ISSUED, ACCEPT, "effect = ?", Effect.Endorse);
    await f.exec(1, id, "ACCEPT");
    await monitor.poll();
    expect(anomalies(id)).to.deep.equal([["MISSING_EFFECT", { operation: "ACCEPT", effect: String(Effect.Endorse) }]]);
  });

  it("UNEXPECTED_EFFECT: an effect event the rule does not have, and one no state change followed", async function () {
    const id = await accepted("unexpected");
    editRule(ACCEPTED, PAY_PARTIAL, "effect = ?", Effect.Endorse);
    await f.exec(1, id, "PAY_PARTIAL", asUint(100n));
    await monitor.poll();
    expect(anomalies(id)).to.deep.equal([
      ["UNEXPECTED_EFFECT", { event: "BillPaid", operation: "PAY_PARTIAL", effect: String(Effect.Endorse) }],
    ]);

    // An effect left pending (as if its BillStateChanged never came) when the next effect event arrives.
    const other = await accepted("unexpected-2");
    const stale = { event: "BillEndorsed", detail: {}, block: 1, tx: `0x${"ab".repeat(32)}` };
    editBill(other, "pending_effect = ?", JSON.stringify(stale));
    await f.exec(1, other, "PAY_PARTIAL", asUint(100n));
    await monitor.poll();
    const found = monitor.anomalies(other);
    expect(anomalies(other)[0]).to.deep.equal([
      "UNEXPECTED_EFFECT",
      { event: "BillEndorsed", reason: "no BillStateChanged followed it" },
    ]);
    expect([found[0]!.block, found[0]!.tx]).to.deep.equal([1, stale.tx]);
  });

  it("DUPLICATE_ISSUE and UNEXPECTED_EFFECT: the issue replayed after the checkpoint moved back", async function () {
    const id = await issued("replayed");
    const block = monitor.bill(id)!.issuedBlock;
    const moved = store.run(
      `UPDATE event_checkpoints SET next_block = ?, last_log_index = -1, seen_block = NULL, seen_hash = NULL
       WHERE name = 'bill-monitor:bills'`,
      block,
    );
    expect(moved.changes).to.equal(1);
    await monitor.poll();
    expect(anomalies(id)).to.deep.equal([
      ["DUPLICATE_ISSUE", { operation: "ISSUE" }],
      ["UNEXPECTED_EFFECT", { event: "BillIssued" }],
    ]);
    expect(monitor.bill(id)!.stateName).to.equal("ISSUED");
  });

  it("UNKNOWN_BILL: an effect event and a state change of a bill the view does not have", async function () {
    const id = await accepted("unknown");
    store.run("DELETE FROM bills WHERE id = ?", id.toLowerCase());
    await f.exec(1, id, "PAY_PARTIAL", asUint(100n));
    await monitor.poll();
    expect(anomalies(id)).to.deep.equal([
      ["UNKNOWN_BILL", { event: "BillPaid" }],
      ["UNKNOWN_BILL", { operation: "PAY_PARTIAL" }],
    ]);
  });

  it("STATE_MISMATCH: the event leaves a state other than the view's", async function () {
    const id = await issued("mismatch");
    editBill(id, "state = ?", ACCEPTED);
    await f.exec(1, id, "ACCEPT");
    await monitor.poll();
    expect(anomalies(id)).to.deep.equal([
      ["STATE_MISMATCH", { operation: "ACCEPT", localState: "ACCEPTED", eventFrom: "ISSUED" }],
    ]);
  });

  it("PAYMENT_MISMATCH: the paid total disagrees with the event's, or exceeds the amount due", async function () {
    const id = await accepted("paid");
    editBill(id, "amount_paid = ?", "5");
    await f.exec(1, id, "PAY_PARTIAL", asUint(200n));
    await monitor.poll();
    expect(anomalies(id)).to.deep.equal([
      ["PAYMENT_MISMATCH", { localTotal: "205", eventTotal: "200", amountDue: "500" }],
    ]);
    expect(monitor.bill(id)!.amountPaid).to.equal(200n); // the event's total is kept

    const over = await accepted("paid-over");
    editBill(over, "amount_due = ?", "100");
    await f.exec(1, over, "PAY_PARTIAL", asUint(200n));
    await monitor.poll();
    expect(anomalies(over)).to.deep.equal([
      ["PAYMENT_MISMATCH", { localTotal: "200", eventTotal: "200", amountDue: "100" }],
    ]);
    // Exactly the amount due, paid in full, is no anomaly.
    const exact = await accepted("paid-exact");
    await f.exec(1, exact, "PAY_PARTIAL", asUint(200n));
    await f.exec(1, exact, "PAY");
    await monitor.poll();
    expect(anomalies(exact)).to.deep.equal([]);
    expect(monitor.bill(exact)!.amountPaid).to.equal(500n);
  });

  it("DIVERGENCE: verify names each field where the view and the chain differ, and a bill the view lacks", async function () {
    const id = await accepted("divergent");
    editBill(id, "holder = ?, amount_paid = ?", f.addresses[4]!, "7");
    const report = await monitor.verify(id);
    expect(report.divergences).to.deep.equal([
      { field: "amountPaid", local: "7", chain: "0" },
      { field: "holder", local: f.addresses[4]!, chain: f.addresses[2]! },
    ]);
    expect(anomalies(id)).to.deep.equal([
      ["DIVERGENCE", { field: "amountPaid", local: "7", chain: "0" }],
      ["DIVERGENCE", { field: "holder", local: f.addresses[4]!, chain: f.addresses[2]! }],
    ]);
    store.run("DELETE FROM bills WHERE id = ?", id.toLowerCase());
    expect((await monitor.verify(id)).divergences).to.deep.equal([{ field: "exists", local: "false", chain: "true" }]);
    // A bill neither side has is no divergence.
    expect((await monitor.verify(ZeroHash.replace(/0$/, "1"))).divergences).to.deep.equal([]);
  });

  it("DEFINITION_UNVERIFIABLE: a definition registered through a forwarding contract", async function () {
    const { suite, registry } = f;
    const registryAddress = await registry.getAddress();
    // A minimal forwarder: CALLs the registry with its own calldata and value 0, returns or reverts with the answer.
    const forwarder = Wallet.createRandom().address;
    const code = "0x365f5f375f5f365f5f73" + registryAddress.slice(2).toLowerCase() + "5af13d5f5f3e602a573d5ffd5b3d5ff3";
    await suite.connection.provider.request({ method: "hardhat_setCode", params: [forwarder, code] });
    await (
      await registry.connect(suite.accounts.admin).grantRole(await registry.DEFINITION_ADMIN_ROLE(), forwarder)
    ).wait();
    const data = new Interface(registry.interface.fragments).encodeFunctionData("registerDefinition", [
      b32("FORWARDED"),
      1,
      [b32("OPEN"), b32("DONE")],
      [[ZeroHash, ISSUE, b32("OPEN"), Party.Drawer, Effect.Issue, 0]],
    ]);
    const tx = await suite.accounts.deployer.sendTransaction({ to: forwarder, data });
    const receipt = await tx.wait();
    expect(receipt?.status).to.equal(1);
    const id = Number(await registry.definitionCount());
    await monitor.poll();
    expect(anomalies(null)).to.deep.equal([
      [
        "DEFINITION_UNVERIFIABLE",
        {
          definitionId: String(id),
          reason: "the registering transaction does not decode to registerDefinition; transitions are not checked",
        },
      ],
    ]);
    expect(monitor.definition(id)?.name).to.equal("FORWARDED");
    expect(monitor.definition(id)?.transitions).to.deep.equal([]);
    // Its bills are followed, but their transitions are not checked: no rule is known, and none is invented.
    const bill = await f.issue(id, "forwarded-bill", 10n);
    await monitor.poll();
    expect(anomalies(bill)).to.deep.equal([]);
    expect(monitor.bill(bill)!.stateName).to.equal("OPEN");
  });

  it("covers every kind the monitor's source can record", function () {
    const dir = path.join(ROOT, "src", "bills");
    const kinds = new Set<string>();
    for (const file of readdirSync(dir).filter((name) => name.endsWith(".ts"))) {
      for (const match of readFileSync(path.join(dir, file), "utf8").matchAll(/anomaly\(\s*"([A-Z_]+)"/g)) {
        kinds.add(match[1]!);
      }
    }
    expect(kinds.size).to.be.greaterThan(0);
    expect([...COVERED].sort()).to.deep.equal([...kinds].sort());
  });
});
