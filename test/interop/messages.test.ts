import { expect } from "chai";
import { AbiCoder, getAddress, keccak256, Wallet } from "ethers";
import fc from "fast-check";

import {
  attestationDigest,
  attestedGatewayDomain,
  gatewayInterface,
  MessageMismatchError,
  messageFromJson,
  messageFromLog,
  messageIdOf,
  messageToJson,
  type Message,
} from "../../src/interop/messages.js";
import { recoverEcdsa } from "../../src/interop/payload.js";

const SOURCE_GATEWAY = getAddress("0x00000000000000000000000000000000000000a1");
const DEST_GATEWAY = getAddress("0x00000000000000000000000000000000000000b2");

const message: Message = {
  sourceChainId: 4242n,
  sourceGateway: SOURCE_GATEWAY,
  nonce: 7n,
  destinationChainId: 4343n,
  destinationGateway: DEST_GATEWAY,
  sender: getAddress("0x00000000000000000000000000000000000000c3"),
  recipient: getAddress("0x00000000000000000000000000000000000000d4"),
  deadline: 1_700_000_000n,
  payload: "0xdeadbeef",
};

/** The `MessagePosted` log the gateway at `emitter` would emit for `m` under `id`. */
function postedLog(m: Message, id = messageIdOf(m), emitter = m.sourceGateway) {
  const event = gatewayInterface.getEvent("MessagePosted");
  const { topics, data } = gatewayInterface.encodeEventLog(event, [
    id,
    m.destinationChainId,
    m.nonce,
    m.destinationGateway,
    m.sender,
    m.recipient,
    m.deadline,
    m.payload,
  ]);
  return { address: emitter, topics, data };
}

function mismatch(fn: () => unknown): MessageMismatchError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(MessageMismatchError);
    return error as MessageMismatchError;
  }
  throw new Error("expected a MessageMismatchError");
}

describe("interop/messages: AttestedGateway message ids and attestations off chain", function () {
  it("computes the id with IAttestedGateway's formula", function () {
    const coder = AbiCoder.defaultAbiCoder();
    const expected = keccak256(
      coder.encode(
        ["uint256", "address", "uint256", "uint256", "address", "address", "address", "uint64", "bytes32"],
        [
          4242n,
          SOURCE_GATEWAY,
          7n,
          4343n,
          DEST_GATEWAY,
          message.sender,
          message.recipient,
          1_700_000_000n,
          keccak256("0xdeadbeef"),
        ],
      ),
    );
    expect(messageIdOf(message)).to.equal(expected);
  });

  it("reads a MessagePosted log back into its message, the source being the chain it was read from", function () {
    const { id, message: read } = messageFromLog(postedLog(message), 4242n, SOURCE_GATEWAY);
    expect(id).to.equal(messageIdOf(message));
    expect(read).to.deep.equal(message);
  });

  it("refuses a log from another emitter (a look-alike contract)", function () {
    const error = mismatch(() => messageFromLog(postedLog(message, undefined, DEST_GATEWAY), 4242n, SOURCE_GATEWAY));
    expect(error.code).to.equal("MESSAGE_WRONG_EMITTER");
  });

  it("refuses a log whose id does not commit to its fields (each field tampered in turn)", function () {
    const id = messageIdOf(message);
    const changes: Array<Partial<Message>> = [
      { nonce: 8n },
      { destinationChainId: 1n },
      { destinationGateway: SOURCE_GATEWAY },
      { sender: DEST_GATEWAY },
      { recipient: DEST_GATEWAY },
      { deadline: 1n },
      { payload: "0xdeadbeee" },
    ];
    for (const change of changes) {
      const error = mismatch(() => messageFromLog(postedLog({ ...message, ...change }, id), 4242n, SOURCE_GATEWAY));
      expect(
        error.code,
        JSON.stringify(change, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)),
      ).to.equal("MESSAGE_ID_MISMATCH");
    }
  });

  it("test_RevertWhen_ReplayedFromAnotherChain: the same log read on another chain has another id", function () {
    const error = mismatch(() => messageFromLog(postedLog(message), 1n, SOURCE_GATEWAY));
    expect(error.code).to.equal("MESSAGE_ID_MISMATCH");
  });

  it("refuses a log that is not a MessagePosted", function () {
    const event = gatewayInterface.getEvent("MessageDelivered");
    const { topics, data } = gatewayInterface.encodeEventLog(event, [messageIdOf(message), 4242n, 7n]);
    expect(
      mismatch(() => messageFromLog({ address: SOURCE_GATEWAY, topics, data }, 4242n, SOURCE_GATEWAY)).code,
    ).to.equal("MESSAGE_NOT_POSTED");
  });

  it("refuses a log that no gateway event parses, naming its first topic (or none)", function () {
    const topic = `0x${"ee".repeat(32)}`;
    const unknown = mismatch(() =>
      messageFromLog({ address: SOURCE_GATEWAY, topics: [topic], data: "0x1234" }, 4242n, SOURCE_GATEWAY),
    );
    expect([unknown.code, unknown.details]).to.deep.equal(["MESSAGE_NOT_POSTED", { topic }]);
    const anonymous = mismatch(() =>
      messageFromLog({ address: SOURCE_GATEWAY, topics: [], data: "0x" }, 4242n, SOURCE_GATEWAY),
    );
    expect([anonymous.code, anonymous.details]).to.deep.equal(["MESSAGE_NOT_POSTED", { topic: null }]);
  });

  it("names the emitter and the gateway, or the claimed and computed ids, in what it refuses", function () {
    const wrong = mismatch(() => messageFromLog(postedLog(message, undefined, DEST_GATEWAY), 4242n, SOURCE_GATEWAY));
    expect(wrong.details).to.deep.equal({ emitter: DEST_GATEWAY, gateway: SOURCE_GATEWAY });
    const claimed = `0x${"12".repeat(32)}`;
    const forged = mismatch(() => messageFromLog(postedLog(message, claimed), 4242n, SOURCE_GATEWAY));
    expect(forged.details).to.deep.equal({ claimed, computed: messageIdOf(message) });
  });

  it("signs attestations in the destination's domain: epoch, chain and gateway each change the digest", function () {
    const id = messageIdOf(message);
    const domain = attestedGatewayDomain(4343n, DEST_GATEWAY);
    const digest = attestationDigest(id, 1n, domain);
    expect(attestationDigest(id, 2n, domain)).to.not.equal(digest);
    expect(attestationDigest(id, 1n, attestedGatewayDomain(4242n, DEST_GATEWAY))).to.not.equal(digest);
    expect(attestationDigest(id, 1n, attestedGatewayDomain(4343n, SOURCE_GATEWAY))).to.not.equal(digest);
    const key = Wallet.createRandom();
    expect(recoverEcdsa(digest, key.signingKey.sign(digest).serialized)).to.equal(key.address);
  });

  it("property: a message survives its stored JSON form", function () {
    const address = fc
      .uint8Array({ minLength: 20, maxLength: 20 })
      .map((b) => getAddress(`0x${Buffer.from(b).toString("hex")}`));
    fc.assert(
      fc.property(
        fc.record({
          sourceChainId: fc.bigInt({ min: 1n, max: 2n ** 256n - 1n }),
          sourceGateway: address,
          nonce: fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
          destinationChainId: fc.bigInt({ min: 1n, max: 2n ** 256n - 1n }),
          destinationGateway: address,
          sender: address,
          recipient: address,
          deadline: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          payload: fc.uint8Array({ maxLength: 100 }).map((b) => `0x${Buffer.from(b).toString("hex")}`),
        }),
        (m) => {
          const back = messageFromJson(messageToJson(m));
          expect(back).to.deep.equal(m);
          expect(messageIdOf(back)).to.equal(messageIdOf(m));
        },
      ),
      { numRuns: 100 },
    );
  });
});
