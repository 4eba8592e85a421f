/**
 * The bank agents read the settlement's events with their own decoder (every followed event has only static
 * arguments, read from topics and data words). Checked against ethers' ABI decoder on logs that ethers
 * encodes, for every event the agents follow, with values at the edges of their types.
 */
import { expect } from "chai";
import { getAddress, hexlify, randomBytes, type Log } from "ethers";

import { FOLLOWED_EVENTS, parseSettlementLog, SETTLEMENT_EVENTS } from "../../src/settlement/bookings.js";

const sample = (type: string, edge: "low" | "high" | "random"): unknown => {
  if (type === "address") return getAddress(edge === "low" ? `0x${"00".repeat(19)}01` : hexlify(randomBytes(20)));
  if (type === "bytes32") return edge === "low" ? `0x${"00".repeat(32)}` : hexlify(randomBytes(32));
  const bits = Number(/^uint(\d+)$/.exec(type)![1]);
  if (edge === "low") return 0n;
  if (edge === "high") return (1n << BigInt(bits)) - 1n;
  return BigInt(hexlify(randomBytes(bits / 8)));
};

describe("settlement: the agents' event decoder against ethers' ABI decoder", function () {
  for (const name of FOLLOWED_EVENTS) {
    it(`${name}: the same name and arguments for ethers-encoded logs`, function () {
      const event = SETTLEMENT_EVENTS.getEvent(name);
      for (const edge of ["low", "high", "random", "random"] as const) {
        const values = event.inputs.map((input) => sample(input.type, edge));
        const { data, topics } = SETTLEMENT_EVENTS.encodeEventLog(event, values);
        const log = { data, topics } as unknown as Log;
        const ours = parseSettlementLog(log);
        const theirs = SETTLEMENT_EVENTS.parseLog({ data, topics });
        expect(ours?.name).to.equal(theirs?.name);
        for (const input of event.inputs) {
          expect(ours!.args.getValue(input.name), `${name}.${input.name} (${edge})`).to.deep.equal(
            theirs!.args.getValue(input.name),
          );
        }
      }
    });
  }

  it("another contract's event (an unknown topic) is not a settlement event", function () {
    expect(parseSettlementLog({ data: "0x", topics: [hexlify(randomBytes(32))] } as unknown as Log)).to.equal(null);
  });
});
