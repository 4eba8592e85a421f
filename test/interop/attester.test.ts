import { expect } from "chai";
import { getAddress, toBeHex } from "ethers";

import { Attester } from "../../src/interop/attester.js";
import { gatewayInterface, messageIdOf, MESSAGE_POSTED, type Message } from "../../src/interop/messages.js";
import { NodeDirectory } from "../../src/interop/nodes.js";
import { Store } from "../../src/store/store.js";
import { RecordingRecipient__factory, type RecordingRecipient } from "../../typechain-types/index.js";
import { ProxyNode, truth, type Lie } from "../mocks/proxy-node.js";
import { KEYS, startInteropChains, type InteropFixture, type TestChain } from "./fixture.js";
import { post, waitFor } from "./helpers.js";

interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  transactionIndex: string;
  logIndex: string;
  removed: boolean;
}

/** `liar`'s answers to `eth_getLogs`: after each `MessagePosted` log, the logs `inject(log)` makes up. */
function injecting(inject: (log: RpcLog) => RpcLog[]): Lie {
  return (method, _params, result) =>
    method === "eth_getLogs" && Array.isArray(result)
      ? (result as RpcLog[]).flatMap((log) => (log.topics[0] === MESSAGE_POSTED ? [log, ...inject(log)] : [log]))
      : result;
}

/** The MessagePosted log of `message` under `id`, placed in `like`'s block at `logIndex`. */
function forged(like: RpcLog, message: Message, id: string, logIndex: number, address = like.address): RpcLog {
  const { topics, data } = gatewayInterface.encodeEventLog(gatewayInterface.getEvent("MessagePosted"), [
    id,
    message.destinationChainId,
    message.nonce,
    message.destinationGateway,
    message.sender,
    message.recipient,
    message.deadline,
    message.payload,
  ]);
  return { ...like, address, topics, data, logIndex: toBeHex(logIndex) };
}

describe("interop/attester: what an attester refuses to sign, even when its node lies", function () {
  this.timeout(120_000);
  let fixture: InteropFixture;
  let a: TestChain;
  let b: TestChain;
  let liar: ProxyNode;
  let nodes: NodeDirectory;
  let store: Store;
  let attester: Attester;
  let recipient: RecordingRecipient;

  before(async function () {
    fixture = await startInteropChains();
    [a, b] = fixture.chains;
    liar = new ProxyNode(a.url);
    const lying = await liar.start();
    nodes = new NodeDirectory({
      nodes: new Map([
        [a.chainId, [lying]],
        [b.chainId, [b.url]],
      ]),
      timeoutMs: 1_000,
    });
    store = Store.open({ path: ":memory:" });
    attester = new Attester({ key: KEYS.attesters[0], store, nodes, chains: fixture.config(), port: 0 });
    recipient = await (await new RecordingRecipient__factory(b.admin).deploy()).waitForDeployment();
  });

  after(async function () {
    await attester?.stop();
    store?.close();
    nodes?.close();
    await liar?.stop();
    await fixture?.stop();
  });

  it("test_RevertWhen_Equivocation: a second message with a nonce already signed is refused, never signed", async function () {
    const alice = KEYS.alice.connect(a.provider);
    const first = await post(a, alice, b, recipient.target as string, { payload: "0x01" });
    await waitFor("the first signature", async () => {
      await attester.poll();
      return attester.attestation(first.id);
    });
    // The node now reports, beside the next real message, another version of the first one's nonce whose
    // id is computed correctly from its (different) fields: only a lie or a reorganisation could show it.
    const other: Message = { ...first.message, payload: "0x02" };
    const otherId = messageIdOf(other);
    liar.lie = injecting((log) => [forged(log, other, otherId, Number(log.logIndex) + 50)]);
    const second = await post(a, alice, b, recipient.target as string, { payload: "0x03" });
    await waitFor("the second signature", async () => {
      await attester.poll();
      return attester.attestation(second.id);
    });
    liar.lie = truth;
    expect(attester.attestation(otherId)).to.equal(undefined);
    expect(attester.attestation(first.id)).to.not.equal(undefined);
    const refusal = attester.refusals().find((entry) => entry.code === "ATTESTER_EQUIVOCATION");
    expect(refusal?.reason).to.include(first.id);
  });

  it("refuses a log whose id does not commit to its fields, and a log from another contract", async function () {
    const alice = KEYS.alice.connect(a.provider);
    const lie: Message = { ...(await post(a, alice, b, recipient.target as string)).message, payload: "0xbad0" };
    const wrongId = `0x${"ab".repeat(32)}`;
    const stranger = getAddress(`0x${"cd".repeat(20)}`);
    liar.lie = injecting((log) => [
      forged(log, { ...lie, nonce: lie.nonce + 100n }, wrongId, Number(log.logIndex) + 50),
      forged(log, { ...lie, nonce: lie.nonce + 101n }, messageIdOf({ ...lie, nonce: lie.nonce + 101n }), 60, stranger),
    ]);
    const next = await post(a, alice, b, recipient.target as string);
    await waitFor("the real one signed", async () => {
      await attester.poll();
      return attester.attestation(next.id);
    });
    liar.lie = truth;
    const codes = attester.refusals().map((entry) => entry.code);
    expect(codes).to.include.members(["MESSAGE_ID_MISMATCH", "MESSAGE_WRONG_EMITTER"]);
    expect(attester.attestation(wrongId)).to.equal(undefined);
  });
});
