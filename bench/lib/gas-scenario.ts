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
 * refreshed and rotated, and the largest wallet it takes. And the Checkout:
 * a payment authorized by each of its four methods (a USD price, and a EUR
 * price read from the devnet's EUR/USD feed), captured with a fee, voided,
 * refunded, reclaimed, and a stray deposit returned.
 */
import {
  AbiCoder,
  encodeBytes32String,
  hexlify,
  keccak256,
  randomBytes,
  Signature,
  toUtf8Bytes,
  ZeroHash,
  type ContractTransactionResponse,
  type Signer,
  type TypedDataField,
} from "ethers";
import type { NetworkConnection } from "hardhat/types/network";

import { CAPTURE_TYPES, CHECKOUT_TYPES } from "../../src/commerce/intent.js";
import { PERMIT_TYPES, RECEIVE_AUTHORIZATION_TYPES } from "../../src/chain/permit.js";
import { hashVoucher, signVoucher, vaultDomain } from "../../src/offline/voucher.js";
import { evidenceTree } from "../../src/rewards/trees.js";
import {
  AccountLedger__factory,
  BankToken__factory,
  Checkout__factory,
  MockV3Aggregator__factory,
  OfflineVault__factory,
  ReserveLedger__factory,
  ShareRegistry__factory,
  TrustAccount__factory,
  type BankToken,
  type Checkout,
} from "../../typechain-types/index.js";
import type { ICheckout } from "../../typechain-types/contracts/commerce/Checkout.js";
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

    // Crypto checkout: the demo shopper paid in by bank A, the settlement account and the fee account (devnet
    // accounts 12-14), the checkout operator's signatures.
    const shopper = signers[12]!;
    await (await trust.mintForDeposit(shopper.address, 1_000_000n, fiatRef())).wait();
    await measureCheckoutGas({
      checkout: Checkout__factory.connect(env.deployments.Checkout!.address, signers[0]!),
      token,
      feed: env.deployments.PriceFeedEURUSD!.address,
      operator: await ethers.getSigner(env.namedAccounts.checkoutOperator),
      payer: shopper,
      merchant: signers[13]!,
      feeReceiver: signers[14]!.address,
      relayer: signers[15]!,
      latest: () => networkHelpers.time.latest(),
      increaseTo: (time) => networkHelpers.time.increaseTo(time),
      measure: measurer("Checkout"),
    });
  }

  const holders = signers.slice(10, 14);
  for (const contract of ["OpenZeppelinERC20", "SoladyERC20"] as const) await referenceToken(contract, holders);
  await bankToken(signers.slice(14, 18));
  return rows;
}

/** Method numbers of `ICheckout.Method`. */
const METHOD = { Allowance: 0, Permit: 1, ReceiveWithAuthorization: 2, Deposit: 3 } as const;

interface CheckoutGasSetup {
  readonly checkout: Checkout;
  readonly token: BankToken;
  /** The devnet's EUR/USD feed, set on the checkout. */
  readonly feed: string;
  readonly operator: Signer;
  /** Holds bUSD. */
  readonly payer: Signer;
  readonly merchant: Signer;
  readonly feeReceiver: string;
  /** Submits what anyone may submit. */
  readonly relayer: Signer;
  latest(): Promise<number>;
  increaseTo(time: number): Promise<void>;
  readonly measure: Measure;
}

/**
 * The Checkout's operations on the deployed stack: a payment authorized by each of the four methods (the payer's
 * allowance, an EIP-2612 permit, an EIP-3009 receiveWithAuthorization relayed by another account, a plain transfer
 * to the intent's deposit address collected by another account, which deploys the address's clone) on a USD price
 * in bUSD, and by allowance on a EUR price read from the devnet's EUR/USD feed; a capture with a 1% fee against a
 * receipt's hash; a partial refund from the settlement account; a void; a second transfer to a paid intent's
 * deposit address returned; and a reclaim after the authorization expiry.
 */
async function measureCheckoutGas(setup: CheckoutGasSetup): Promise<void> {
  const { checkout, token, operator, payer, merchant, relayer, measure } = setup;
  const address = await checkout.getAddress();
  const tokenAddress = await token.getAddress();
  const payerAddress = await payer.getAddress();
  const merchantAddress = await merchant.getAddress();
  const { chainId } = await checkout.runner!.provider!.getNetwork();
  const domain = { name: "BankChain Checkout", version: "1", chainId, verifyingContract: address };
  const tokenDomain = await eip712Domain(token as unknown as BenchToken);
  const abi = AbiCoder.defaultAbiCoder();
  const code3 = (code: string) => encodeBytes32String(code).slice(0, 8);
  let salt = 0;

  async function intent(
    currency: "USD" | "EUR",
    fiatAmount: bigint,
  ): Promise<ICheckout.PaymentIntentStruct & { tokenAmount: bigint }> {
    const now = await setup.latest();
    const round = currency === "EUR" ? await feedRound() : 0n;
    const priceFeed = currency === "EUR" ? setup.feed : "0x0000000000000000000000000000000000000000";
    return {
      payer: payerAddress,
      merchant: merchantAddress,
      orderRef: keccak256(toUtf8Bytes(`gas-scenario/checkout/order/${++salt}`)),
      fiatAmount,
      currency: code3(currency),
      token: tokenAddress,
      tokenAmount: await checkout.tokenAmountFor(fiatAmount, code3(currency), tokenAddress, priceFeed, round),
      priceFeed,
      roundId: round,
      maxDeviationBps: 50,
      quoteExpiry: now + 900,
      authorizationExpiry: now + 7 * 86_400,
      refundExpiry: now + 30 * 86_400,
      feeBps: 100,
      feeReceiver: setup.feeReceiver,
      salt: keccak256(toUtf8Bytes(`gas-scenario/checkout/salt/${salt}`)),
    };
  }
  const feedRound = () => MockV3Aggregator__factory.connect(setup.feed, checkout.runner).latestRound();
  const sign = (i: ICheckout.PaymentIntentStruct) => operator.signTypedData(domain, CHECKOUT_TYPES, i);
  const idOf = (i: ICheckout.PaymentIntentStruct) => checkout.intentId(i);
  const send = async (tx: Promise<ContractTransactionResponse>) => {
    await (await tx).wait();
  };

  // The checkout's first escrow (its balance goes from zero), not measured: the figures below are a running
  // checkout's.
  const first = await intent("USD", 100n);
  await send(token.connect(payer).approve(address, first.tokenAmount));
  await send(checkout.connect(payer).authorize(first, await sign(first), METHOD.Allowance, "0x"));

  // By allowance: the payer approved the amount beforehand.
  const byAllowance = await intent("USD", 1999n);
  await send(token.connect(payer).approve(address, byAllowance.tokenAmount));
  await measure(
    "authorize by allowance, a USD price",
    checkout.connect(payer).authorize(byAllowance, await sign(byAllowance), METHOD.Allowance, "0x"),
  );

  // By permit, exactly the amount.
  const byPermit = await intent("USD", 2500n);
  const deadline = BigInt((await setup.latest()) + 3_600);
  const permit = await payer.signTypedData(tokenDomain, PERMIT_TYPES, {
    owner: payerAddress,
    spender: address,
    value: byPermit.tokenAmount,
    nonce: await token.nonces(payerAddress),
    deadline,
  });
  await measure(
    "authorize by permit, a USD price",
    checkout
      .connect(payer)
      .authorize(byPermit, await sign(byPermit), METHOD.Permit, abi.encode(["uint256", "bytes"], [deadline, permit])),
  );

  // By EIP-3009 receiveWithAuthorization over nonce = the intent's id, relayed.
  const byReceive = await intent("USD", 8999n);
  const validBefore = BigInt((await setup.latest()) + 3_600);
  const receive = await payer.signTypedData(tokenDomain, RECEIVE_AUTHORIZATION_TYPES, {
    from: payerAddress,
    to: address,
    value: byReceive.tokenAmount,
    validAfter: 0n,
    validBefore,
    nonce: await idOf(byReceive),
  });
  await measure(
    "authorize by receiveWithAuthorization, a USD price, relayed",
    checkout
      .connect(relayer)
      .authorize(
        byReceive,
        await sign(byReceive),
        METHOD.ReceiveWithAuthorization,
        abi.encode(["uint256", "uint256", "bytes"], [0n, validBefore, receive]),
      ),
  );

  // By a plain transfer to the deposit address, collected by a relayer (deploys the address's clone).
  const byDeposit = await intent("USD", 1999n);
  const deposit = await checkout.depositAddress(await idOf(byDeposit));
  await send(token.connect(payer).transfer(deposit, byDeposit.tokenAmount));
  await measure(
    "authorize by deposit, a USD price, relayed (deploys the deposit address)",
    checkout.connect(relayer).authorize(byDeposit, await sign(byDeposit), METHOD.Deposit, "0x"),
  );

  // A EUR price in bUSD: the quoted round and the latest answer read from the feed.
  const eur = await intent("EUR", 1999n);
  await send(token.connect(payer).approve(address, eur.tokenAmount));
  await measure(
    "authorize by allowance, a EUR price (feed round and latest read)",
    checkout.connect(payer).authorize(eur, await sign(eur), METHOD.Allowance, "0x"),
  );

  // Capture with a 1% fee against the retailer receipt's hash, relayed.
  const receipt = hexlify(randomBytes(32));
  const captureSig = await operator.signTypedData(domain, CAPTURE_TYPES, {
    intentId: await idOf(byAllowance),
    receiptHash: receipt,
  });
  await measure("capture, a 1% fee", checkout.connect(relayer).capture(byAllowance, receipt, captureSig));

  // A refund of part of it from the settlement account, by the operator.
  await send(token.connect(merchant).approve(address, 2n ** 256n - 1n));
  await measure("refund, part of a capture", checkout.connect(operator).refund(byAllowance, 500n));

  // A void: the purchase failed.
  await measure("void", checkout.connect(operator).void(byPermit));

  // A second transfer to a paid intent's deposit address, returned by anyone.
  await send(token.connect(payer).transfer(deposit, 1999n));
  await measure(
    "returnDeposit, a second transfer to a paid intent",
    checkout.connect(relayer).returnDeposit(byDeposit, tokenAddress),
  );

  // After the authorization expiry, anyone returns an uncaptured escrow.
  await setup.increaseTo(Number(byReceive.authorizationExpiry) + 1);
  await measure("reclaim", checkout.connect(relayer).reclaim(byReceive));
}
