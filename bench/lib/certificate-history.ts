/**
 * A large synthetic history for the certificates benchmark, on any node that
 * takes `evm_setAutomine`, `evm_setNextBlockTimestamp` and `evm_mine` (Anvil,
 * Hardhat's in-process network): `wallets` accounts with keys derived from a
 * seed, funded with BankToken and native coin by a treasury key, then
 * `transfers` transactions among them (two BankToken transfers to one native
 * payment), `perBlock` to a block, each block `spacing` seconds after the last
 * so the history spans many days. Every transaction is signed locally and sent
 * raw, a block's worth at once (ethers batches them into JSON-RPC batches).
 */
import { JsonRpcProvider, keccak256, toUtf8Bytes, Wallet, type Signer } from "ethers";

import { mined } from "../../src/chain/receipts.js";
import { BankToken__factory, TrustAccount__factory } from "../../typechain-types/index.js";

export interface HistoryOptions {
  readonly provider: JsonRpcProvider;
  readonly token: string;
  readonly trust: string;
  /** Bank A's key: mints the float against its trust account (DEPOSITOR_ROLE). */
  readonly bank: Signer;
  /** Holds native coin to fund the treasury with. */
  readonly funder: Signer;
  readonly wallets: number;
  readonly transfers: number;
  readonly perBlock: number;
  /** Seconds between two blocks of the history. */
  readonly spacing: number;
  /** Seed of the keys (treasury and wallets). */
  readonly seed: string;
}

export interface History {
  readonly wallets: readonly Wallet[];
  /** The first and last block of the transfers (funding included). */
  readonly firstBlock: number;
  readonly lastBlock: number;
  /** Transactions sent, funding included. */
  readonly transactions: number;
}

const TOKEN_EACH = 1_000_000n;
const NATIVE_EACH = 10n ** 18n;

/** Builds the history; returns the wallets and the blocks it covers. */
export async function buildHistory(options: HistoryOptions): Promise<History> {
  const { provider } = options;
  const key = (label: string): string => keccak256(toUtf8Bytes(`${options.seed}:${label}`));
  const treasury = new Wallet(key("treasury"), provider);
  const wallets = Array.from({ length: options.wallets }, (_, n) => new Wallet(key(`wallet:${n}`)));
  const chainId = (await provider.getNetwork()).chainId;
  const token = BankToken__factory.connect(options.token, options.bank);
  const iface = token.interface;
  const trust = TrustAccount__factory.connect(options.trust, options.bank);
  await mined(await trust.mintForDeposit(treasury.address, TOKEN_EACH * BigInt(options.wallets), key("float")));
  await mined(
    await options.funder.sendTransaction({ to: treasury.address, value: NATIVE_EACH * BigInt(options.wallets + 1) }),
  );
  const firstBlock = (await provider.getBlockNumber()) + 1;
  const nonces = new Map<string, number>([[treasury.address, await provider.getTransactionCount(treasury.address)]]);
  for (const wallet of wallets) nonces.set(wallet.address, 0);
  const fee = { maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1n };
  const sign = async (from: Wallet, to: string, value: bigint, data: string, gasLimit: bigint): Promise<string> => {
    const nonce = nonces.get(from.address)!;
    nonces.set(from.address, nonce + 1);
    return from.signTransaction({ type: 2, chainId, nonce, to, value, data, gasLimit, ...fee });
  };

  let time = (await provider.getBlock("latest"))!.timestamp;
  let sent = 0;
  const mineBlock = async (raws: readonly string[]): Promise<void> => {
    const hashes = await Promise.all(raws.map((raw) => provider.send("eth_sendRawTransaction", [raw])));
    time += options.spacing;
    await provider.send("evm_setNextBlockTimestamp", [time]);
    await provider.send("evm_mine", []);
    sent += hashes.length;
  };

  await provider.send("evm_setAutomine", [false]);
  try {
    // Funding: each wallet gets tokens and coin from the treasury.
    const funding: string[] = [];
    for (const wallet of wallets) {
      funding.push(
        await sign(
          treasury,
          options.token,
          0n,
          iface.encodeFunctionData("transfer", [wallet.address, TOKEN_EACH]),
          80_000n,
        ),
        await sign(treasury, wallet.address, NATIVE_EACH, "0x", 21_000n),
      );
    }
    for (let n = 0; n < funding.length; n += options.perBlock) await mineBlock(funding.slice(n, n + options.perBlock));
    // The transfers, spread over pairs by two coprime strides.
    let made = 0;
    while (made < options.transfers) {
      const raws: string[] = [];
      for (let n = 0; n < options.perBlock && made < options.transfers; n += 1, made += 1) {
        const i = (made * 7_919) % wallets.length;
        const j = (i + 1 + ((made * 104_729) % (wallets.length - 1))) % wallets.length;
        const to = wallets[j]!.address;
        raws.push(
          made % 3 === 2
            ? await sign(wallets[i]!, to, 1_000n + BigInt(made % 1_000), "0x", 21_000n)
            : await sign(
                wallets[i]!,
                options.token,
                0n,
                iface.encodeFunctionData("transfer", [to, 1n + BigInt(made % 500)]),
                80_000n,
              ),
        );
      }
      await mineBlock(raws);
    }
  } finally {
    await provider.send("evm_setAutomine", [true]);
  }
  return { wallets, firstBlock, lastBlock: await provider.getBlockNumber(), transactions: sent };
}
