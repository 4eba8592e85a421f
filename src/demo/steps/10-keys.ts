/**
 * Step 10: a wallet key recovered from shares signs a permit. `bank-chain
 * keys create` makes a fresh wallet key (an encrypted keystore); `keys split`
 * (the buyer as owner) splits it 2-of-3 among the three key holders, commits
 * the share commitments in the `ShareRegistry` and lets a recovery passphrase
 * recover it; `keys recover` gets the shares back from the holders over
 * their ECDH channels, rebuilds the key and signs an EIP-2612 permit of
 * `BankToken` to bank A for 1.00, which the buyer submits. The recovered
 * account must be the created one, and the token must show the allowance and
 * the used nonce.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import path from "node:path";

import { ACCOUNTS, money, type DemoStep } from "../context.js";

const PERMIT_VALUE = 100n;

/** Step 10: a wallet key recovered from shares signs a permit. */
export const keys: DemoStep = {
  name: "keys",
  title: "wallet key recovered from shares signs a permit",
  async run(context, record) {
    const chain = context.home;
    const holders = ["keys-holder1", "keys-holder2", "keys-holder3"].map((name) => context.service(name)).join(",");
    const spender = context.address(ACCOUNTS.bankA);
    const env = {
      BANK_CHAIN_KEYS_FILE_PASSPHRASE: randomBytes(16).toString("hex"),
      BANK_CHAIN_KEYS_RECOVERY_PASSPHRASE: randomBytes(16).toString("hex"),
      BANK_CHAIN_KEYS_OWNER_KEY: context.wallet(ACCOUNTS.buyer).privateKey,
    };
    const keystore = path.join(context.stateDir, `wallet-${context.tag}-${randomBytes(4).toString("hex")}.json`);
    try {
      await splitAndRecover();
    } finally {
      // The keystore's passphrase was this run's alone: the file is of no further use.
      rmSync(keystore, { force: true });
    }

    async function splitAndRecover(): Promise<void> {
      const created = await context.cli(["keys", "create", "--out", keystore], { env });
      const account = String(created.address);
      const split = await context.cli(
        [
          "keys",
          "split",
          "--key-file",
          keystore,
          "--holders",
          holders,
          "--recovery-passphrase-env",
          "BANK_CHAIN_KEYS_RECOVERY_PASSPHRASE",
        ],
        { env },
      );
      const walletId = String(split.walletId);
      record.tx(chain, split.transaction, "ShareRegistry: wallet created with its share commitments");
      const deposits = (split.deposits ?? []) as Array<{ ok: boolean }>;
      record.equal("holders that took their share", deposits.filter((deposit) => deposit.ok).length, 3);
      record.note(`wallet ${walletId}: account ${account}, 2 of 3 holders`);
      const recovered = await context.cli(
        [
          "keys",
          "recover",
          walletId,
          "--holders",
          holders,
          "--recovery-passphrase-env",
          "BANK_CHAIN_KEYS_RECOVERY_PASSPHRASE",
          "--permit-spender",
          spender,
          "--permit-value",
          PERMIT_VALUE.toString(),
          "--permit-submit-key-env",
          "BANK_CHAIN_KEYS_OWNER_KEY",
        ],
        { env },
      );
      record.equal("recovered account is the created one", recovered.account, account);
      const submitted = recovered.permitSubmitted as { transaction: string; allowance: string } | undefined;
      record.tx(
        chain,
        submitted?.transaction,
        `BankToken.permit ${money(PERMIT_VALUE)} to bank A, signed by the recovered key`,
      );
      const token = chain.contract("BankToken");
      record.equal(
        "BankToken allowance(recovered, bank A)",
        await token.getFunction("allowance")(account, spender),
        PERMIT_VALUE,
      );
      record.equal("BankToken nonces(recovered)", await token.getFunction("nonces")(account), 1n);
    }
  },
};
