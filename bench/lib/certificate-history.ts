/**
 * A large synthetic history for the certificates benchmark: `wallets` random
 * accounts funded with BankToken and native coin, then `transfers`
 * transactions among them (BankToken transfers and native payments, two to
 * one), packed `perBlock` to a block with automine off, each block `spacing`
 * seconds after the last so the history spans many days. Transactions are
 * signed locally and sent raw, so no account needs to be unlocked.
 */
import { keccak256, toUtf8Bytes, Wallet, type Signer } from "ethers";

import { mined } from "../../src/chain/receipts.js";
import { BankToken__factory, TrustAccount__factory } from "../../typechain-types/index.js";

export interface HistoryOptions {
  /** The in-process network's EIP-1193 provider (for evm_mine and raw sends). */
  readonly request: (args: { method: string; params?: unknown[] }) => Promise<unknown>;
  readonly token: string;
  readonly trust: string;
  /** Bank A's key: mints the float against its trust account. */
  readonly bank: Signer;
  /** Holds native coin to fund the wallets with. */
  readonly funder: Signer;
  readonly chainId: bigint;
  readonly wallets: number;
  readonly transfers: number;
  readonly perBlock: number;
  /** Seconds between two blocks of the history. */
  readonly spacing: number;
  /** Deterministic seed of the wallets' keys. */
  readonly seed: string;
}

export interface History {
  readonly wallets: readonly Wallet[];
  readonly firstBlock: number;
  readonly lastBlock: number;
  readonly transactions: number;
}

/** Builds the history; returns the wallets and the block range it covers. */
export async function buildHistory(options: HistoryOptions): Promise<History> {
  const wallets = Array.from(
    { length: options.wallets },
    (_, n) => new Wallet(keccak256(toUtf8Bytes(`${options.seed}:${n}`))),
  );
  const tokenEach = 1_000_000n;
  const nativeEach = 10n ** 18n;
  const trust = TrustAccount__factory.connect(options.trust, options.bank);
  const token = BankToken__factory.connect(options.token, options.bank);
  const bankAddress = await options.bank.getAddress();
  const float = tokenEach * BigInt(options.wallets);
  await mined(await trust.mintForDeposit(bankAddress, float, keccak256(toUtf8Bytes(`${options.seed}:float`))));
  const firstBlock = Number(await options.request({ method: "eth_blockNumber" }));
  for (const wallet of wallets) {
    await mined(await token.transfer(wallet.address, tokenEach));
    await mined(await options.funder.sendTransaction({ to: wallet.address, value: nativeEach }));
  }
  await options.request({ method: "evm_setAutomine", params: [false] });
  const nonces = new Array<number>(wallets.length).fill(0);
  const iface = token.interface;
  const block = await options.request({ method: "eth_getBlockByNumber", params: ["latest", false] });
  let time = Number((block as { timestamp: string }).timestamp);
  let sent = 0;
  try {
    while (sent < options.transfers) {
      const inBlock = Math.min(options.perBlock, options.transfers - sent);
      for (let n = 0; n < inBlock; n += 1) {
        const i = (sent * 7919) % wallets.length;
        const j = (i + 1 + ((sent * 104_729) % (wallets.length - 1))) % wallets.length;
        const from = wallets[i]!;
        const to = wallets[j]!.address;
        const native = sent % 3 === 2;
        const raw = await from.signTransaction({
          type: 2,
          chainId: options.chainId,
          nonce: nonces[i]!,
          to: native ? to : options.token,
          value: native ? 1_000n + BigInt(sent % 1000) : 0n,
          data: native ? "0x" : iface.encodeFunctionData("transfer", [to, 1n + BigInt(sent % 500)]),
          gasLimit: native ? 21_000n : 80_000n,
          maxFeePerGas: 10_000_000_000n,
          maxPriorityFeePerGas: 1n,
        });
        nonces[i]! += 1;
        await options.request({ method: "eth_sendRawTransaction", params: [raw] });
        sent += 1;
      }
      time += options.spacing;
      await options.request({ method: "evm_mine", params: [time] });
    }
  } finally {
    await options.request({ method: "evm_setAutomine", params: [true] });
  }
  const lastBlock = Number(await options.request({ method: "eth_blockNumber" }));
  return { wallets, firstBlock, lastBlock, transactions: sent };
}
