import { expect } from "chai";
import { encodeBytes32String } from "ethers";

import { isDevnet } from "../../src/chain/networks.js";
import { BankToken__factory, ReserveLedger__factory, TrustAccount__factory } from "../../typechain-types/index.js";
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
});
