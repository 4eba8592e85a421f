/**
 * The gas scenario: receipt `gasUsed` of named operations on bank-chain's
 * contracts, beside reference ERC-20s deployed in the same network with the
 * same compiler settings. Used by the benchmark (`bench/gas.ts`) and by the
 * ceilings check in `npm test` (`test/contracts/ceilings.test.ts`).
 *
 * BankToken is measured as deployed by the deploy scripts: through its
 * ERC-1967 proxy, with every mint checked against the minter allowance and
 * the ReserveLedger's attested reserve. The card-account ledger and the
 * offline vault are measured as deployed too, their operations on warm
 * profiles and lanes. The RewardDistributor too: a campaign of 1,000
 * producers, roots signed by 2 of the 3 oracles, one producer's claims
 * (`rewards-gas.ts`). And the ShareRegistry: a wallet of 3 holders recorded,
 * refreshed and rotated, and the largest wallet it takes.
 */
import {
  encodeBytes32String,
  hexlify,
  keccak256,
  randomBytes,
  Signature,
  toUtf8Bytes,
  ZeroHash,
  type ContractTransactionResponse,
  type Signer,
} from "ethers";
import type { NetworkConnection } from "hardhat/types/network";

import { hashVoucher, signVoucher, vaultDomain } from "../../src/offline/voucher.js";
import { evidenceTree } from "../../src/rewards/trees.js";
import {
  AccountLedger__factory,
  BankToken__factory,
  OfflineVault__factory,
  ReserveLedger__factory,
  ShareRegistry__factory,
  TrustAccount__factory,
} from "../../typechain-types/index.js";
import { eip712Domain, measureErc20, type BenchToken, type Measure, type TokenUnderTest } from "./erc20.js";
import { deployQuietly } from "./deploy.js";
import type { GasRow } from "./results.js";
import { benchProducers, fundsFor, measureRewardGas, type TimedProvider } from "./rewards-gas.js";

/** Runs the whole scenario on a fresh in-process network and returns one row per operation measured. */
export async function measureGas(connection: NetworkConnection): Promise<GasRow[]> {
  const { ethers, networkHelpers } = connection;
  const signers = await ethers.getSigners();
  const rows: GasRow[] = [];

  function measurer(contract: string): Measure {
    return async (operation: string, tx: Promise<ContractTransactionResponse>) => {
      const receipt = await (await tx).wait();
      if (receipt === null || receipt.status !== 1) throw new Error(`${contract}.${operation} failed`);
      rows.push({ contract, operation, gas: Number(receipt.gasUsed) });
    };
  }

  /** A reference token with open `mint(to, amount)` and `burn(amount)` wrappers. */
  async function referenceToken(contract: "OpenZeppelinERC20" | "SoladyERC20", holders: Signer[]): Promise<void> {
    const deployed = await ethers.deployContract(contract);
    await deployed.waitForDeployment();
    const token = deployed as unknown as BenchToken & {
      mint(to: string, amount: bigint): Promise<ContractTransactionResponse>;
      burn(amount: bigint): Promise<ContractTransactionResponse>;
    };
    const subject: TokenUnderTest = {
      contract,
      token,
      burner: signers[0]!,
      mint: (to, amount) => token.mint(to, amount),
      burn: (holder, amount) => (token.connect(holder) as typeof token).burn(amount),
    };
    await measureErc20(subject, holders, measurer(contract));
  }

  /** BankToken as the deploy scripts deploy it, plus its own operations. */
  async function bankToken(holders: Signer[]): Promise<void> {
    const env = await deployQuietly(connection.provider);
    const admin = await ethers.getSigner(env.namedAccounts.issuanceAdmin);
    const attestor = await ethers.getSigner(env.namedAccounts.attestor);
    const bankAgent = await ethers.getSigner(env.namedAccounts.bankA);
    const token = BankToken__factory.connect(env.deployments.BankToken!.address, admin);
    const ledger = ReserveLedger__factory.connect(env.deployments.ReserveLedger!.address, admin);
    const trust = TrustAccount__factory.connect(env.deployments.TrustAccountBankA!.address, bankAgent);

    // A minting key of a bank, registered and attested like a trust account.
    const minter = signers[19]!;
    await (await token.configureMinter(minter.address, 10n ** 12n)).wait();
    await (await ledger.registerIssuer(minter.address, 10_000, 86_400)).wait();
    await (
      await ledger.connect(attestor).attestReserve(minter.address, 10n ** 12n, await networkHelpers.time.latest())
    ).wait();

    let ref = 0;
    const fiatRef = () => encodeBytes32String(`bench-${++ref}`);
    const measure = measurer("BankToken");
    await measureErc20(
      {
        contract: "BankToken",
        token: token as unknown as BenchToken,
        burner: minter,
        mint: (to, amount) => token.connect(minter).mint(to, amount, fiatRef()),
        burn: (holder, amount) => token.connect(holder).burn(amount, fiatRef()),
      },
      holders,
      measure,
    );

    // EIP-3009, signed by a holder of a balance, to a recipient who holds one too.
    const [alice, bob, carol] = holders as [Signer, Signer, Signer];
    const domain = await eip712Domain(token as unknown as BenchToken);
    const fields = [
      "from:address",
      "to:address",
      "value:uint256",
      "validAfter:uint256",
      "validBefore:uint256",
      "nonce:bytes32",
    ].map((f) => ({ name: f.split(":")[0]!, type: f.split(":")[1]! }));
    const authorize = async (type: string, from: Signer, to: string) => {
      const value = {
        from: await from.getAddress(),
        to,
        value: 1_000n,
        validAfter: 0n,
        validBefore: BigInt((await networkHelpers.time.latest()) + 3_600),
        nonce: hexlify(randomBytes(32)),
      };
      const sig = Signature.from(await from.signTypedData(domain, { [type]: fields }, value));
      return { ...value, sig };
    };
    const t = await authorize("TransferWithAuthorization", alice, await bob.getAddress());
    await measure(
      "transferWithAuthorization",
      token
        .connect(carol)
        ["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"](
          t.from,
          t.to,
          t.value,
          t.validAfter,
          t.validBefore,
          t.nonce,
          t.sig.v,
          t.sig.r,
          t.sig.s,
        ),
    );
    const r = await authorize("ReceiveWithAuthorization", alice, await bob.getAddress());
    await measure(
      "receiveWithAuthorization",
      token
        .connect(bob)
        ["receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"](
          r.from,
          r.to,
          r.value,
          r.validAfter,
          r.validBefore,
          r.nonce,
          r.sig.v,
          r.sig.r,
          r.sig.s,
        ),
    );

    // The trust account's own paths: a deposit to an existing holder, a redemption requested and paid out.
    const trustMeasure = measurer("TrustAccount");
    await trustMeasure("mintForDeposit", trust.mintForDeposit(await alice.getAddress(), 5_000n, fiatRef()));
    await (await token.connect(alice).approve(await trust.getAddress(), 10_000n)).wait();
    await (await trust.connect(alice).requestRedemption(1_000n, fiatRef())).wait(); // warm the holding balance
    await trustMeasure("redeemRequest", trust.connect(alice).requestRedemption(2_000n, fiatRef()));
    await trustMeasure("redeemPay", trust.confirmRedemption(await trust.lastRedemptionId(), fiatRef()));

    // Card accounts: bank A's AccountLedger with a funded float, one profile, the gateway's operations.
    const cards = AccountLedger__factory.connect(env.deployments.AccountLedgerBankA!.address, bankAgent);
    const gateway = cards.connect(await ethers.getSigner(env.namedAccounts.gateway));
    const float = 1_000_000_000n;
    await (await trust.mintForDeposit(bankAgent.address, float, fiatRef())).wait();
    await (await token.connect(bankAgent).approve(await cards.getAddress(), float)).wait();
    await (await cards.fundTokens(fiatRef(), float)).wait();
    const cardholder = signers[18]!.address;
    await (await cards.openProfile(fiatRef(), cardholder, 0n)).wait();
    await (await gateway.credit(fiatRef(), cardholder, 100_000_000n)).wait();
    const cardMeasure = measurer("AccountLedger");
    const debitKey = fiatRef();
    await cardMeasure("card debit", gateway.debit(debitKey, cardholder, 100n));
    const holdKey = fiatRef();
    await cardMeasure("card hold", gateway.hold(holdKey, cardholder, 500n));
    await cardMeasure("card capture", gateway.capture(fiatRef(), holdKey, 400n));
    await cardMeasure("card reversal", gateway.reverse(fiatRef(), debitKey));
    const batch = Array.from({ length: 50 }, () => ({
      kind: 4n, // OperationKind.Debit
      key: fiatRef(),
      wallet: cardholder,
      ref: ZeroHash,
      amount: 100n,
    }));
    const batched = await (await gateway.execute(batch)).wait();
    rows.push({
      contract: "AccountLedger",
      operation: "card debit, per op in a batch of 50",
      gas: Number(batched!.gasUsed / 50n),
    });

    // Offline payments: a payer's lock and vouchers redeemed by a merchant, singly and in a batch of 10.
    const vault = OfflineVault__factory.connect(env.deployments.OfflineVault!.address, bankAgent);
    const payer = signers[17]!;
    const merchant = signers[16]!;
    await (await trust.mintForDeposit(payer.address, 1_000_000n, fiatRef())).wait();
    await (await token.connect(payer).approve(await vault.getAddress(), 1_000_000n)).wait();
    const vaultMeasure = measurer("OfflineVault");
    await vaultMeasure("deposit", vault.connect(payer).deposit(500_000n));
    const offlineDomain = vaultDomain(31337n, await vault.getAddress());
    const now = BigInt(await networkHelpers.time.latest());
    let previous = ZeroHash;
    const vouchers = [];
    for (let sequence = 1n; sequence <= 11n; sequence += 1n) {
      const voucher = {
        payer: payer.address,
        merchant: merchant.address,
        amount: 1_000n,
        lane: 1n,
        sequence,
        previousVoucherHash: previous,
        validAfter: now - 60n,
        validBefore: now + 3_600n,
      };
      vouchers.push({ voucher, signature: await signVoucher(payer, offlineDomain, voucher) });
      previous = hashVoucher(offlineDomain, voucher);
    }
    const [first, ...rest] = vouchers;
    await vaultMeasure("redeem a voucher", vault.connect(merchant).redeem(first!.voucher, first!.signature));
    const redeemed = await (
      await vault.connect(merchant).redeemBatch(
        rest.map((v) => v.voucher),
        rest.map((v) => v.signature),
      )
    ).wait();
    rows.push({
      contract: "OfflineVault",
      operation: "redeem, per voucher in a batch of 10",
      gas: Number(redeemed!.gasUsed / 10n),
    });

    // Content rewards: a sponsor paid in by bank A funds a campaign of 1,000 producers; one producer claims by
    // claimFor and another by claim, under a first root and a second.
    const producers = benchProducers(1_000, "gas-scenario");
    const sponsor = signers[9]!;
    await (await trust.mintForDeposit(sponsor.address, fundsFor(producers), fiatRef())).wait();
    const rewards = await measureRewardGas({
      provider: ethers.provider as unknown as TimedProvider,
      chainId: 31337n,
      distributor: env.deployments.RewardDistributor!.address,
      token: env.deployments.BankToken!.address,
      registrar: await ethers.getSigner(env.namedAccounts.registrar),
      sponsor,
      funder: signers[0]!,
      oracles: [
        await ethers.getSigner(env.namedAccounts.rewardsOracle1),
        await ethers.getSigner(env.namedAccounts.rewardsOracle2),
      ],
      producers,
      sample: 1,
      evidenceRoots: [evidenceTree([fiatRef(), fiatRef(), fiatRef()]).root, evidenceTree([]).root],
      salt: fiatRef(),
    });
    if (rewards.problems.length > 0) throw new Error(`RewardDistributor: ${rewards.problems.join("; ")}`);
    rows.push(...rewards.rows);

    // Secret-shared wallet keys: a wallet of 3 holders recorded, its shares refreshed (a new epoch, the same
    // holders), then handed to 3 other holders; recoverers set; and the largest wallet (16 holders, 8 recoverers).
    const keys = ShareRegistry__factory.connect(env.deployments.ShareRegistry!.address, signers[8]!);
    const keysMeasure = measurer("ShareRegistry");
    const commitments = (epoch: number, count: number) =>
      Array.from({ length: count }, (_, i) => keccak256(toUtf8Bytes(`gas-scenario/keys/${epoch}/${i + 1}`)));
    const addresses = (from: number, count: number) => signers.slice(from, from + count).map((s) => s.address);
    await keysMeasure(
      "createWallet, 2 of 3 holders",
      keys.createWallet(encodeBytes32String("gas-scenario/keys/1"), {
        account: signers[9]!.address,
        threshold: 2,
        holders: addresses(10, 3),
        commitments: commitments(1, 3),
        recoverers: [],
      }),
    );
    const walletId = await keys.walletIdOf(signers[8]!.address, encodeBytes32String("gas-scenario/keys/1"));
    await keysMeasure("rotate, a refresh of 3 holders", keys.rotate(walletId, 2, addresses(10, 3), commitments(2, 3)));
    await keysMeasure("rotate, to 3 other holders", keys.rotate(walletId, 2, addresses(13, 3), commitments(3, 3)));
    await keysMeasure("setRecoverers, 2 recoverers", keys.setRecoverers(walletId, addresses(16, 2)));
    await keysMeasure(
      "createWallet, 11 of 16 holders, 8 recoverers",
      keys.createWallet(encodeBytes32String("gas-scenario/keys/2"), {
        account: signers[9]!.address,
        threshold: 11,
        holders: addresses(0, 16),
        commitments: commitments(1, 16),
        recoverers: addresses(20, 8),
      }),
    );
  }

  const holders = signers.slice(10, 14);
  for (const contract of ["OpenZeppelinERC20", "SoladyERC20"] as const) await referenceToken(contract, holders);
  await bankToken(signers.slice(14, 18));
  return rows;
}
