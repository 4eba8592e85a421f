/**
 * Card payments: bank A's AccountLedger (its central fiat and token accounts
 * and its customers' card-account profiles), with the gateway, ledger admin
 * and treasurer roles given out as ROLE_PLAN says. On the `npm start` devnet bank A also mints a float into
 * its central token account and opens two demo cardholders (docs/iso8583.md): each
 * profile is opened without a limit, given its fiat and tokens, then limited.
 */
import { getAddress, keccak256, MaxUint256, toUtf8Bytes } from "ethers";

import { AccountLedger__factory, BankToken__factory, TrustAccount__factory } from "../typechain-types/index.js";
import { artifacts, deployScript } from "../rocketh/deploy.js";
import { adminDelay, seedsDemo, DEVNET_CARDS } from "./_config.js";
import { ensure, ethersFor, grantPlanned, keepDeployed } from "./_ethers.js";

const key = (label: string) => keccak256(toUtf8Bytes(`bank-chain/devnet/cards/${label}`));

export default deployScript(
  async (env) => {
    const { deploy, namedAccounts: accounts } = env;
    const chainId = env.network.chain.id;
    const { provider, signer } = ethersFor(env);
    const tokenAddress = env.get("BankToken").address;

    const deployed = await deploy(
      "AccountLedgerBankA",
      {
        account: accounts.deployer,
        artifact: artifacts.AccountLedger,
        args: [accounts.admin, adminDelay(chainId), tokenAddress, DEVNET_CARDS.minRatioBps],
      },
      keepDeployed(env),
    );
    await grantPlanned(env, "AccountLedgerBankA");
    const bank = AccountLedger__factory.connect(deployed.address, await signer(accounts.bankA));
    await ensure(
      `AccountLedgerBankA: treasury is bank A ${accounts.bankA}`,
      async () => getAddress(await bank.treasury()) === getAddress(accounts.bankA),
      () => bank.setTreasury(accounts.bankA),
    );
    if (!seedsDemo(env)) return;

    // Devnet: bank A mints a float against its trust account and funds the central token account.
    const token = BankToken__factory.connect(tokenAddress, await signer(accounts.bankA));
    const trust = TrustAccount__factory.connect(env.get("TrustAccountBankA").address, await signer(accounts.bankA));
    await ensure(
      "TrustAccountBankA: card float minted to bank A",
      async () => (await trust.isFiatRefUsed(key("float"))) || (await bank.centralToken()) > 0n,
      () => trust.mintForDeposit(accounts.bankA, DEVNET_CARDS.float, key("float")),
    );
    await ensure(
      "BankToken: bank A lets AccountLedgerBankA pull from the treasury",
      async () => (await token.allowance(accounts.bankA, deployed.address)) > 0n,
      () => token.approve(deployed.address, MaxUint256),
    );
    await ensure(
      "AccountLedgerBankA: central token account funded",
      () => bank.isKeyUsed(key("fund")),
      () => bank.fundTokens(key("fund"), DEVNET_CARDS.float),
    );
    const wallets = (await provider.send("eth_accounts", [])) as string[];
    const gateway = bank.connect(await signer(accounts.gateway));
    for (const holder of DEVNET_CARDS.cardholders) {
      const wallet = getAddress(wallets[holder.accountIndex]!);
      const accountId = keccak256(toUtf8Bytes(holder.accountId));
      // Opened without a limit: the seed credits are above it (credits are limited like debits), so the limit
      // is set once they are in. Each step is re-run safely: the limit comes last.
      await ensure(
        `AccountLedgerBankA: profile ${holder.accountId} for ${wallet}`,
        async () => (await bank.walletOfAccount(accountId)) !== "0x0000000000000000000000000000000000000000",
        () => bank.openProfile(accountId, wallet, 0n),
      );
      await ensure(
        `AccountLedgerBankA: fiat deposit for ${holder.accountId}`,
        () => bank.isKeyUsed(key(`${holder.accountId}/fiat`)),
        () => bank.depositFiat(key(`${holder.accountId}/fiat`), wallet, holder.fiat),
      );
      await ensure(
        `AccountLedgerBankA: token credit for ${holder.accountId}`,
        () => gateway.isKeyUsed(key(`${holder.accountId}/tokens`)),
        () => gateway.credit(key(`${holder.accountId}/tokens`), wallet, holder.tokens),
      );
      await ensure(
        `AccountLedgerBankA: limit of ${holder.accountId} is ${holder.limit}`,
        async () => (await bank.profileOf(wallet)).limit === holder.limit,
        () => bank.setLimit(wallet, holder.limit),
      );
    }
  },
  { tags: ["cards"], dependencies: ["money", "settlement"] },
);
