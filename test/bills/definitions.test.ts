import { expect } from "chai";
import { decodeBytes32String, ZeroHash } from "ethers";

import { BILL_DEFINITIONS, type BillDefinitionData } from "../../deploy/_bills.js";
import { BillRegistry__factory, type BillRegistry } from "../../typechain-types/index.js";
import { deploySuite } from "../helpers/suite.js";

const name = (d: BillDefinitionData): string => `${decodeBytes32String(d.name)} v${d.version}`;
const label = (s: string): string => (s === ZeroHash ? "(none)" : decodeBytes32String(s));

/** Every operation any shipped definition knows: the pairs to probe for a missing rule. */
const OPERATIONS = [...new Set(BILL_DEFINITIONS.flatMap((d) => d.transitions.map((t) => t.operation)))];

describe("BillRegistry: the definitions the deploy script registered", function () {
  let registry: BillRegistry;

  before(async function () {
    const suite = await deploySuite();
    registry = BillRegistry__factory.connect(suite.deployments.get("BillRegistry").address, suite.accounts.schemeAdmin);
  });

  it("registers exactly the definitions of deploy/_bills.ts", async function () {
    expect(await registry.definitionCount()).to.equal(BigInt(BILL_DEFINITIONS.length));
  });

  for (const d of BILL_DEFINITIONS) {
    describe(name(d), function () {
      let id: bigint;

      before(async function () {
        id = await registry.definitionId(d.name, d.version);
        expect(id, `${name(d)} is not registered`).to.not.equal(0n);
      });

      it("has the name, version and states of deploy/_bills.ts", async function () {
        const [onName, onVersion, onStates] = await registry.definition(id);
        expect(onName).to.equal(d.name);
        expect(onVersion).to.equal(BigInt(d.version));
        expect([...onStates]).to.deep.equal([...d.states]);
      });

      it("has every transition of deploy/_bills.ts, with its party, effect and timing", async function () {
        for (const t of d.transitions) {
          const where = `${name(d)}: ${label(t.from)} --${label(t.operation)}-->`;
          const rule = await registry.rule(id, t.from, t.operation);
          expect(
            { to: rule.to, party: Number(rule.party), effect: Number(rule.effect), timing: Number(rule.timing) },
            where,
          ).to.deep.equal({ to: t.to, party: t.party, effect: t.effect, timing: t.timing });
        }
      });

      it("has no rule for any (state, operation) pair deploy/_bills.ts does not list", async function () {
        const listed = new Set(d.transitions.map((t) => `${t.from}/${t.operation}`));
        const extra: string[] = [];
        let probed = 0;
        for (const from of [ZeroHash, ...d.states]) {
          for (const operation of OPERATIONS) {
            if (listed.has(`${from}/${operation}`)) continue;
            probed += 1;
            const rule = await registry.rule(id, from, operation);
            if (rule.to !== ZeroHash) extra.push(`${label(from)} --${label(operation)}--> ${label(rule.to)}`);
          }
        }
        expect(probed).to.be.greaterThan(0);
        expect(extra, `${name(d)}: rules on chain not in deploy/_bills.ts`).to.deep.equal([]);
      });

      it("was registered by one transaction carrying exactly the transitions of deploy/_bills.ts", async function () {
        // The probe above can only try known operation names; the registering call lists every rule there is.
        const logs = await registry.queryFilter(registry.filters.BillDefinitionRegistered(id));
        expect(logs).to.have.length(1);
        const tx = await logs[0]!.getTransaction();
        const call = registry.interface.parseTransaction(tx);
        expect(call?.name).to.equal("registerDefinition");
        const transitions = (
          call!.args[3] as readonly (readonly [string, string, string, bigint, bigint, bigint])[]
        ).map(([from, operation, to, party, effect, timing]) => ({
          from,
          operation,
          to,
          party: Number(party),
          effect: Number(effect),
          timing: Number(timing),
        }));
        expect(transitions).to.deep.equal(d.transitions.map((t) => ({ ...t })));
      });
    });
  }
});
