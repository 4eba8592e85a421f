import { expect } from "chai";
import { encodeBytes32String, getAddress } from "ethers";

import { interoperableAddress } from "../../deploy/_interop.js";

import { isDevnet } from "../../src/chain/networks.js";
import { decodeRevert } from "../../src/chain/reverts.js";
import {
  AttestedGateway__factory,
  BankToken__factory,
  BurnMintLane__factory,
  ReserveLedger__factory,
  TrustAccount__factory,
} from "../../typechain-types/index.js";
import { startTwoChains, TWO_CHAIN_IDS, type TwoChains } from "../helpers/two-chains.js";

describe("two chains at once: two Anvil nodes, each with the suite deployed", function () {
  let two: TwoChains | undefined;

  before(async function () {
    this.timeout(300_000);
    two = await startTwoChains();
  });

  after(async function () {
    await two?.stop();
  });

  it("runs both, with different chain ids, neither the devnet's, each with its own deployments", async function () {
    const [a, b] = two!.chains;
    expect([a.chainId, b.chainId]).to.deep.equal(TWO_CHAIN_IDS.map(BigInt));
    for (const chain of [a, b]) {
      expect((await chain.provider.getNetwork()).chainId).to.equal(chain.chainId);
      expect(isDevnet(chain.chainId)).to.equal(false);
      expect(chain.deployments.chainId).to.equal(chain.chainId);
      for (const name of ["BankToken", "ReserveLedger", "InterbankSettlement", "AccountLedgerBankA", "OfflineVault"]) {
        expect(
          await chain.provider.getCode(chain.deployments.get(name).address),
          `${name} on ${chain.chainId}`,
        ).to.not.equal("0x");
      }
    }
    expect(a.url).to.not.equal(b.url);
  });

  it("keeps their state apart: money issued on one chain does not exist on the other", async function () {
    const [a, b] = two!.chains;
    const now = BigInt((await a.provider.getBlock("latest"))!.timestamp);
    const trust = a.deployments.get("TrustAccountBankA").address;
    const reserves = ReserveLedger__factory.connect(
      a.deployments.get("ReserveLedger").address,
      await a.signer("attestor"),
    );
    await (await reserves.attestReserve(trust, 1_000_000n, now)).wait();
    const bankA = TrustAccount__factory.connect(trust, await a.signer("bankA"));
    await (await bankA.mintForDeposit(a.duties.get("bankA")!, 25_000n, encodeBytes32String("two-chains"))).wait();
    const supply = async (chain: typeof a) =>
      BankToken__factory.connect(chain.deployments.get("BankToken").address, chain.provider).totalSupply();
    expect(await supply(a)).to.equal(25_000n);
    expect(await supply(b)).to.equal(0n);
  });

  it("moves money across the deployed, linked lane: burned on one chain, minted on the other once two attesters sign", async function () {
    const [a, b] = two!.chains;
    const token = (chain: typeof a) =>
      BankToken__factory.connect(chain.deployments.get("BankToken").address, chain.provider);
    const ledger = (chain: typeof a) =>
      ReserveLedger__factory.connect(chain.deployments.get("ReserveLedger").address, chain.provider);
    const laneA = BurnMintLane__factory.connect(a.deployments.get("BurnMintLane").address, await a.signer("bankA"));
    const gatewayA = AttestedGateway__factory.connect(a.deployments.get("AttestedGateway").address, a.provider);
    const gatewayB = AttestedGateway__factory.connect(
      b.deployments.get("AttestedGateway").address,
      await b.signer("relayer"),
    );
    const recipient = b.duties.get("bankB")!;
    const issuedBefore = await ledger(a).totalOutstanding();

    await (
      await token(a)
        .connect(await a.signer("bankA"))
        .approve(laneA.target, 10_000n)
    ).wait();
    const now = (await a.provider.getBlock("latest"))!.timestamp;
    const sent = await (
      await laneA["crosschainTransfer(bytes,uint256,uint64)"](
        interoperableAddress(b.chainId, recipient),
        10_000n,
        now + 600,
      )
    ).wait();
    const posted = sent!.logs
      .map((log) => gatewayA.interface.parseLog(log))
      .find((log) => log?.name === "MessagePosted")!;
    const message = {
      sourceChainId: a.chainId,
      sourceGateway: gatewayA.target as string,
      nonce: posted.args.nonce as bigint,
      destinationChainId: b.chainId,
      destinationGateway: posted.args.destinationGateway as string,
      sender: posted.args.sender as string,
      recipient: posted.args.recipient as string,
      deadline: posted.args.deadline as bigint,
      payload: posted.args.payload as string,
    };
    expect(getAddress(message.destinationGateway)).to.equal(getAddress(gatewayB.target as string));
    expect(getAddress(message.recipient)).to.equal(getAddress(b.deployments.get("BurnMintLane").address));
    expect(await token(a).totalSupply()).to.equal(15_000n);

    const epoch = await gatewayB.epoch();
    const domain = {
      name: "BankChain AttestedGateway",
      version: "1",
      chainId: b.chainId,
      verifyingContract: gatewayB.target as string,
    };
    const types = {
      Attestation: [
        { name: "messageId", type: "bytes32" },
        { name: "epoch", type: "uint64" },
      ],
    };
    const signers = await Promise.all((["attester1", "attester3"] as const).map((duty) => b.signer(duty)));
    signers.sort((x, y) => (BigInt(x.address) < BigInt(y.address) ? -1 : 1));
    const signatures = await Promise.all(
      signers.map((signer) => signer.signTypedData(domain, types, { messageId: posted.args.messageId, epoch })),
    );
    await (await gatewayB.deliver(message, signatures)).wait();

    expect(await token(b).balanceOf(recipient)).to.equal(10_000n);
    expect(await token(b).totalSupply()).to.equal(10_000n);
    const laneAddress = (chain: typeof a) => chain.deployments.get("BurnMintLane").address;
    expect((await ledger(a).bridgeOf(laneAddress(a))).exported).to.equal(10_000n);
    expect((await ledger(b).bridgeOf(laneAddress(b))).imported).to.equal(10_000n);
    // Nothing issued or lost: the issuer's outstanding on its chain equals the supply on both chains together.
    expect(await ledger(a).totalOutstanding()).to.equal(issuedBefore);
    expect((await token(a).totalSupply()) + (await token(b).totalSupply())).to.equal(issuedBefore);
    // The same attested message cannot be delivered twice.
    const replay: unknown = await gatewayB.deliver.staticCall(message, signatures).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(decodeRevert(replay, AttestedGateway__factory.abi)?.errorName).to.equal("AttestedGatewayAlreadyProcessed");
  });
});
