/**
 * The gas of one cross-chain transfer as the deploy scripts deploy the lane set: two in-process networks (chain
 * ids 4242 and 4343), the suite deployed on each and linked (`linkPeer`), then `BurnMintLane.crosschainTransfer`
 * on A and `AttestedGateway.deliver` with 2-of-3 attester signatures on B. Receipt `gasUsed` (21,000 and calldata
 * included, refunds applied). Measured in the steady state: a transfer has crossed before (the sender's lane
 * allowance, the route buckets and B's replay word for A's nonces are warm in storage, not empty) and the
 * recipient already holds tokens.
 *
 * Then the same with the relayer's batching: 20 transfers (one lane send each, to 20 recipients who already hold
 * tokens) delivered by one `AttestedGateway.deliverBatch` with each message's own 2-of-3 signatures; the row is
 * that receipt's gas / 20 (after a warm-up batch of 20, as for the single transfer).
 */
import { encodeBytes32String, getAddress, id as keccakText } from "ethers";

import { interoperableAddress } from "../../deploy/_interop.js";
import {
  AttestedGateway__factory,
  BankToken__factory,
  BurnMintLane__factory,
  ReserveLedger__factory,
  TrustAccount__factory,
} from "../../typechain-types/index.js";
import { linkedChains } from "./interop-chains.js";
import type { GasRow } from "./results.js";

/** Messages in the measured `deliverBatch`. */
export const BATCH = 20;

/** Rows: the send on A, the delivery on B, and both together (what the ceiling is about). */
export async function measureInteropGas(): Promise<GasRow[]> {
  const { a, b, close } = await linkedChains();

  // Alice on A holds tokens issued by bank A's trust account and lets the lane take them.
  const alice = await a.signer("bankA");
  const trust = TrustAccount__factory.connect(a.address("TrustAccountBankA"), alice);
  const reserves = ReserveLedger__factory.connect(a.address("ReserveLedger"), await a.signer("attestor"));
  const now = (await a.connection.ethers.provider.getBlock("latest"))!.timestamp;
  await (await reserves.attestReserve(await trust.getAddress(), 10n ** 12n, now)).wait();
  await (await trust.mintForDeposit(await alice.getAddress(), 1_000_000n, encodeBytes32String("interop-gas"))).wait();
  const tokenA = BankToken__factory.connect(a.address("BankToken"), alice);
  const lane = BurnMintLane__factory.connect(a.address("BurnMintLane"), alice);
  await (await tokenA.approve(await lane.getAddress(), 10n ** 12n)).wait();

  const relayer = await b.signer("relayer");
  const gatewayA = AttestedGateway__factory.connect(a.address("AttestedGateway"), a.connection.ethers.provider);
  const gatewayB = AttestedGateway__factory.connect(b.address("AttestedGateway"), relayer);
  const attesters = await Promise.all((["attester1", "attester3"] as const).map((duty) => b.signer(duty)));
  const addresses = await Promise.all(attesters.map((attester) => attester.getAddress()));
  const sorted = attesters
    .map((attester, i) => ({ attester, address: BigInt(addresses[i]!) }))
    .sort((x, y) => (x.address < y.address ? -1 : 1))
    .map(({ attester }) => attester);
  const recipient = await b.signer("bankB");
  const to = interoperableAddress(b.chainId, await recipient.getAddress());

  const domain = {
    name: "BankChain AttestedGateway",
    version: "1",
    chainId: b.chainId,
    verifyingContract: await gatewayB.getAddress(),
  };
  const types = {
    Attestation: [
      { name: "messageId", type: "bytes32" },
      { name: "epoch", type: "uint64" },
    ],
  };

  /** Alice sends `amount` on A to `to` (ERC-7930 on B); the message as posted, its 2-of-3 signatures, the gas. */
  const send = async (to: string, amount: bigint) => {
    const latest = (await a.connection.ethers.provider.getBlock("latest"))!.timestamp;
    const sent = await (await lane["crosschainTransfer(bytes,uint256,uint64)"](to, amount, latest + 600)).wait();
    if (sent?.status !== 1) throw new Error("interop send failed");
    const posted = sent.logs
      .map((log) => gatewayA.interface.parseLog(log))
      .find((log) => log?.name === "MessagePosted")!;
    const message = {
      sourceChainId: a.chainId,
      sourceGateway: await gatewayA.getAddress(),
      nonce: posted.args.nonce as bigint,
      destinationChainId: b.chainId,
      destinationGateway: posted.args.destinationGateway as string,
      sender: posted.args.sender as string,
      recipient: posted.args.recipient as string,
      deadline: posted.args.deadline as bigint,
      payload: posted.args.payload as string,
    };
    const epoch = await gatewayB.epoch();
    const signatures = await Promise.all(
      sorted.map((attester) => attester.signTypedData(domain, types, { messageId: posted.args.messageId, epoch })),
    );
    return { message, signatures, gas: sent.gasUsed };
  };

  /** One transfer of `amount` from alice on A to the recipient on B; its two receipts' gas. */
  const transfer = async (amount: bigint): Promise<[bigint, bigint]> => {
    const { message, signatures, gas } = await send(to, amount);
    const delivered = await (await gatewayB.deliver(message, signatures)).wait();
    if (delivered?.status !== 1) throw new Error("interop delivery failed");
    return [gas, delivered.gasUsed];
  };

  /** `BATCH` transfers of `amount`, one to each holder, delivered by one deliverBatch; that receipt's gas. */
  const holders = Array.from({ length: BATCH }, (_, i) =>
    interoperableAddress(b.chainId, getAddress(keccakText(`interop-gas holder ${i}`).slice(0, 42))),
  );
  const batch = async (amount: bigint): Promise<bigint> => {
    const sent = [];
    for (const holder of holders) sent.push(await send(holder, amount));
    const receipt = await (
      await gatewayB.deliverBatch(
        sent.map((one) => one.message),
        sent.map((one) => one.signatures),
      )
    ).wait();
    const delivered = receipt!.logs.filter((log) => gatewayB.interface.parseLog(log)?.name === "MessageDelivered");
    if (receipt?.status !== 1 || delivered.length !== BATCH) throw new Error("interop batch delivery failed");
    return receipt.gasUsed;
  };

  await transfer(1_000n); // the recipient now holds tokens; the first nonce's replay word is written
  const [single, deliver] = await transfer(100n);
  await batch(1_000n); // every holder now holds tokens
  const batched = await batch(100n);
  await close();
  const perMessage = batched / BigInt(BATCH);
  return [
    { contract: "Interop", operation: "lane send (burn on A)", gas: Number(single) },
    { contract: "Interop", operation: "deliver 2-of-3 (mint on B)", gas: Number(deliver) },
    { contract: "Interop", operation: "full transfer, both transactions", gas: Number(single + deliver) },
    {
      contract: "Interop",
      operation: `deliverBatch of ${BATCH}, 2-of-3 each, per message (mint on B)`,
      gas: Number(perMessage),
    },
    {
      contract: "Interop",
      operation: `transfer delivered in a batch of ${BATCH} (lane send + deliverBatch / ${BATCH})`,
      gas: Number(single + perMessage),
    },
  ];
}
