/**
 * The source side of a cross-chain transfer through the InteropGateway, as the API gateway sends it: the suite the
 * deploy scripts deploy, on two in-process networks (chain ids 4242 and 4343) linked with `linkPeer`; a customer on
 * A holds BankTokens and approved the InteropGateway once; the relayer submits her signed CrossChain payloads to B.
 * Receipt `gasUsed` (21,000 and calldata included, refunds applied), in the steady state (a transfer has crossed
 * before, so the route bucket, the lane's and the ledger's slots are not empty).
 *
 * - `execute` of one CrossChain payload alone;
 * - `executeBatch` of `BATCH` CrossChain payloads of one customer, per payload (the receipt divided by `BATCH`).
 *
 * The destination side (the delivery) is `interop-gas.ts`'s.
 */
import { encodeBytes32String } from "ethers";

import { PAYLOAD_TYPES, interopGatewayDomain, payloadSchema, payloadStruct } from "../../src/interop/payload.js";
import {
  BankToken__factory,
  InteropGateway__factory,
  ReserveLedger__factory,
  TrustAccount__factory,
} from "../../typechain-types/index.js";
import { linkedChains } from "./interop-chains.js";
import type { GasRow } from "./results.js";

/** Payloads per measured batch. */
export const BATCH = 20;

/** Rows: `execute` of one CrossChain payload, and one payload's share of an `executeBatch` of `BATCH`. */
export async function measureInteropGatewayGas(): Promise<GasRow[]> {
  const { a, b, close } = await linkedChains();

  // Alice on A holds tokens issued by bank A's trust account and lets the InteropGateway take them.
  const alice = await a.signer("bankA");
  const aliceAddress = await alice.getAddress();
  const trust = TrustAccount__factory.connect(a.address("TrustAccountBankA"), alice);
  const reserves = ReserveLedger__factory.connect(a.address("ReserveLedger"), await a.signer("attestor"));
  const now = (await a.connection.ethers.provider.getBlock("latest"))!.timestamp;
  await (await reserves.attestReserve(await trust.getAddress(), 10n ** 12n, now)).wait();
  await (await trust.mintForDeposit(aliceAddress, 10_000_000n, encodeBytes32String("interop-gw-gas"))).wait();
  const token = a.address("BankToken");
  const gatewayAddress = a.address("InteropGateway");
  await (await BankToken__factory.connect(token, alice).approve(gatewayAddress, 10n ** 12n)).wait();
  const gateway = InteropGateway__factory.connect(gatewayAddress, await a.signer("relayer"));
  const domain = interopGatewayDomain(a.chainId, gatewayAddress);
  const recipient = await (await b.signer("bankB")).getAddress();

  let nonce = 0n;
  /** A CrossChain payload of `amount` from alice to the recipient on B, and her signature. */
  const signed = async (amount: bigint) => {
    const latest = (await a.connection.ethers.provider.getBlock("latest"))!.timestamp;
    const payload = payloadSchema.parse({
      version: 1,
      sourceChain: `eip155:${a.chainId}`,
      destinationChain: `eip155:${b.chainId}`,
      kind: "CrossChain",
      target: recipient,
      asset: token,
      amount: amount.toString(),
      data: "0x",
      nonce: String((nonce += 1n)),
      deadline: latest + 600,
    });
    const struct = payloadStruct(payload);
    return { struct, signature: await alice.signTypedData(domain, PAYLOAD_TYPES, struct) };
  };
  const gasOf = async (sent: Promise<{ wait(): Promise<{ status: number | null; gasUsed: bigint } | null> }>) => {
    const receipt = await (await sent).wait();
    if (receipt?.status !== 1) throw new Error("the InteropGateway transaction failed");
    return receipt.gasUsed;
  };

  const first = await signed(1_000n); // the route bucket, the lane's and the ledger's slots are written
  await gasOf(gateway.execute(first.struct, aliceAddress, first.signature));
  const one = await signed(100n);
  const alone = await gasOf(gateway.execute(one.struct, aliceAddress, one.signature));
  const batch = await Promise.all(Array.from({ length: BATCH }, () => signed(100n)));
  const together = await gasOf(
    gateway.executeBatch(
      batch.map((item) => item.struct),
      batch.map(() => aliceAddress),
      batch.map((item) => item.signature),
    ),
  );
  const rows: GasRow[] = [
    { contract: "InteropGateway", operation: "execute, one CrossChain payload", gas: Number(alone) },
    {
      contract: "InteropGateway",
      operation: `executeBatch, per CrossChain payload in a batch of ${BATCH}`,
      gas: Number(together / BigInt(BATCH)),
    },
  ];
  await close();
  return rows;
}
