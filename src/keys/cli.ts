/**
 * `bank-chain keys …`: secret-shared wallet keys (docs/keys.md).
 *
 *   keys create --out <file> [--show-key]
 *       a new wallet key, written as an encrypted JSON keystore (scrypt; passphrase in BANK_CHAIN_KEYS_FILE_PASSPHRASE)
 *   keys split --key-file <file> [--holders <urls>] [--threshold <k>] [--recovery-passphrase-env VAR]
 *              [--guardian <address>…] [--salt <bytes32>] [--owner-key-env VAR]
 *       splits the key k-of-n among the holders, registers the wallet and its share commitments on chain (sent by
 *       the owner), deposits each share over the channel
 *   keys recover <walletId> [--holders <urls>] (--recovery-passphrase-env VAR | --key-env VAR)
 *                [--out <file>] [--show-key] [--permit-spender <address> --permit-value <minor>]
 *       collects shares from the holders that answer, combines, checks the key is the wallet's account; writes it
 *       as a keystore, and/or signs a BankToken permit with it
 *   keys refresh <walletId> [--holders <urls>] [--new-holders <urls>] [--threshold <k>] [--owner-key-env VAR]
 *       new shares of the same key under the next epoch; the old ones stop working
 *   keys holders [walletId] [--holders <urls>]
 *       each holder's identity and health; with a wallet, its holder set on chain and what each holder stores
 *   keys holder --index <n> [--port <n>] [--registry <address>]
 *       runs one share holder in the foreground (what `npm start` runs three of)
 *
 * Keys and passphrases come from environment variables, never from a flag, and no key is printed unless
 * `--show-key` asks for it.
 */
import { lstatSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { getAddress, getBytes, hexlify, isAddress, isHexString, Wallet, ZeroHash } from "ethers";

import { lines, logTo, output, walletFromEnv, withChain, type CommandGroup, type Program } from "../chain/command.js";
import { signPermit } from "../chain/permit.js";
import { BankChainError, messageOf } from "../errors.js";
// The client and the registry reader load the contracts' typings (typechain-types/): imported when a command
// runs, so `bank-chain --help` works in a clone where nothing was built yet.
import type { HolderClient, HolderOutcome, KeysChain } from "./client.js";
import { KeysError } from "./errors.js";
import { recoveryKey } from "./recovery.js";
import type { ShareRegistryReader } from "./registry.js";

/** A bad `keys` argument. */
export class KeysCliError extends BankChainError {}

const OWNER_KEY_ENV = "BANK_CHAIN_KEYS_OWNER_KEY";
const FILE_PASSPHRASE_ENV = "BANK_CHAIN_KEYS_FILE_PASSPHRASE";
const RECOVERY_PASSPHRASE_ENV = "BANK_CHAIN_KEYS_RECOVERY_PASSPHRASE";
const HOLDERS_ENV = "BANK_CHAIN_KEYS_HOLDERS";
const WALLET_ID = /^0x[0-9a-fA-F]{64}$/;

function env(name: string, what: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new KeysCliError("KEYS_CLI_NO_SECRET", `environment variable ${name} holds no ${what}`, { variable: name });
  }
  return value;
}

function walletIdArg(value: string): string {
  if (!WALLET_ID.test(value)) {
    throw new KeysCliError("KEYS_CLI_BAD_WALLET", `the wallet id must be 0x and 64 hex digits, got "${value}"`, {
      value,
    });
  }
  return value.toLowerCase();
}

/** `--holders`, else BANK_CHAIN_KEYS_HOLDERS, else the three `npm start` runs (KEYS_HOLDER1_PORT…). */
async function holderClients(value: string | undefined): Promise<HolderClient[]> {
  let urls: string[];
  if (value !== undefined || (process.env[HOLDERS_ENV] ?? "") !== "") {
    urls = (value ?? process.env[HOLDERS_ENV]!)
      .split(",")
      .map((url) => url.trim())
      .filter((url) => url !== "");
  } else {
    const { KEYS_SETTINGS } = await import("./service.js");
    const settings = KEYS_SETTINGS.read(process.env, { devnet: true });
    urls = [settings.KEYS_HOLDER1_PORT, settings.KEYS_HOLDER2_PORT, settings.KEYS_HOLDER3_PORT].map(
      (port) => `http://127.0.0.1:${port}`,
    );
  }
  for (const url of urls) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
      throw new KeysCliError("KEYS_CLI_BAD_URL", `holder URLs must be http(s) URLs, got "${url}"`, { url });
    }
  }
  if (urls.length === 0) throw new KeysCliError("KEYS_CLI_NO_HOLDERS", "no holder URL given", {});
  const { HolderClient } = await import("./client.js");
  return urls.map((url) => new HolderClient(url));
}

function intArg(value: string, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new KeysCliError("KEYS_CLI_BAD_NUMBER", `${name} must be an integer from ${min} to ${max}, got "${value}"`, {
      value,
    });
  }
  return n;
}

/** Whether anything, a dangling symlink included, is at `file`. */
function pathTaken(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes the keystore to a new file only (O_EXCL: never over an existing file, another wallet's keystore say, and
 * never through a symlink someone planted at the path), mode 0600.
 */
async function writeKeystore(file: string, wallet: Wallet): Promise<void> {
  const json = await wallet.encrypt(env(FILE_PASSPHRASE_ENV, "keystore passphrase"));
  try {
    writeFileSync(file, `${json}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new KeysCliError("KEYS_CLI_FILE_EXISTS", `${file} exists; choose another file`, { file });
    }
    throw new KeysCliError("KEYS_CLI_FILE_UNWRITABLE", `cannot write ${file}: ${messageOf(error)}`, { file });
  }
}

async function readKeystore(file: string): Promise<Wallet> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new KeysCliError("KEYS_CLI_NO_FILE", `cannot read ${file}: ${messageOf(error)}`, { file });
  }
  try {
    const wallet = await Wallet.fromEncryptedJson(text, env(FILE_PASSPHRASE_ENV, "keystore passphrase"));
    return new Wallet(wallet.privateKey);
  } catch (error) {
    if (error instanceof KeysCliError) throw error;
    throw new KeysCliError(
      "KEYS_CLI_BAD_KEYSTORE",
      `${file} is not a keystore this passphrase opens (${FILE_PASSPHRASE_ENV})`,
      { file },
    );
  }
}

function outcomeLines(outcomes: readonly HolderOutcome[]): Array<[string, string]> {
  return outcomes.map((o) => [
    `  holder ${o.index}`,
    `${o.ok ? "ok" : (o.code ?? "failed")}${o.url === null ? "" : ` (${o.url})`}`,
  ]);
}

/** Adds the `keys` command group to the program. */
export function addKeysCommands(program: Program): void {
  const group: CommandGroup = program
    .command("keys")
    .description("secret-shared wallet keys: create, split, recover, refresh, holders (docs/keys.md)");

  group
    .command("create")
    .description(`a new wallet key, written as an encrypted keystore (passphrase in ${FILE_PASSPHRASE_ENV})`)
    .requiredOption("--out <file>", "the keystore file to write (refuses to overwrite)")
    .option("--show-key", "also print the private key (never do this on a shared screen)", false)
    .action(async (_o, command) => {
      const options = command.optsWithGlobals();
      const wallet = new Wallet(Wallet.createRandom().privateKey);
      try {
        readFileSync(options.out);
        throw new KeysCliError("KEYS_CLI_FILE_EXISTS", `${options.out} exists; choose another file`, {
          file: options.out,
        });
      } catch (error) {
        if (error instanceof KeysCliError) throw error;
      }
      await writeKeystore(options.out, wallet);
      output(
        options,
        {
          address: wallet.address,
          keystore: path.resolve(options.out),
          ...(options.showKey ? { privateKey: wallet.privateKey } : {}),
        },
        () =>
          lines([
            ["address", wallet.address],
            ["keystore", path.resolve(options.out)],
            ...(options.showKey ? [["private key", wallet.privateKey] as [string, string]] : []),
          ]),
      );
    });

  group
    .command("split")
    .description("split a key among the holders, register its share commitments on chain, deposit the shares")
    .requiredOption("--key-file <file>", `the wallet's keystore (passphrase in ${FILE_PASSPHRASE_ENV})`)
    .option("--holders <urls>", `comma-separated holder URLs (default: $${HOLDERS_ENV}, else the three npm start runs)`)
    .option("--threshold <k>", "shares needed to recover", "2")
    .option(
      "--recovery-passphrase-env <VAR>",
      "environment variable holding a recovery passphrase: its scrypt-derived key may recover the wallet",
    )
    .option("--guardian <address...>", "addresses whose keys may recover the wallet")
    .option("--salt <bytes32>", "the salt of the wallet id (default: random)")
    .option("--owner-key-env <VAR>", "environment variable holding the owner's private key", OWNER_KEY_ENV)
    .action(async (_o, command) => {
      const options = command.optsWithGlobals();
      const owner = walletFromEnv(options.ownerKeyEnv, KeysCliError, "KEYS_CLI");
      const key = await readKeystore(options.keyFile);
      const holders = await holderClients(options.holders);
      const threshold = intArg(options.threshold, "--threshold", 2, 16);
      const salt = options.salt ?? hexlify(crypto.getRandomValues(new Uint8Array(32)));
      if (!isHexString(salt, 32) || salt === ZeroHash) {
        throw new KeysCliError("KEYS_CLI_BAD_SALT", "--salt must be a non-zero 0x bytes32", { salt });
      }
      const guardians = (options.guardian ?? []).map((value) => {
        if (!isAddress(value)) {
          throw new KeysCliError("KEYS_CLI_BAD_ADDRESS", `--guardian must be an address, got "${value}"`, { value });
        }
        return getAddress(value);
      });
      await withChain(options, async (chain, deployments) => {
        const keysChain = await chainOf(chain.chainId, deployments.get("ShareRegistry").address, chain.provider);
        const { walletIdOf } = await import("./client.js");
        const walletId = walletIdOf(owner.address, salt);
        const recoverers = [...guardians];
        if (options.recoveryPassphraseEnv !== undefined) {
          const recovery = await recoveryKey(env(options.recoveryPassphraseEnv, "recovery passphrase"), {
            chainId: keysChain.chainId,
            registry: keysChain.registry.address,
            walletId,
          });
          recoverers.unshift(recovery.address);
        }
        const { splitWallet } = await import("./client.js");
        const result = await splitWallet({
          chain: keysChain,
          owner: owner.connect(chain.provider),
          privateKey: getBytes(key.privateKey),
          holders,
          threshold,
          recoverers,
          salt,
        });
        output(options, { ...result, recoverers }, () =>
          lines([
            ["wallet", result.walletId],
            ["account", result.account],
            ["epoch", String(result.epoch)],
            ["threshold", `${result.threshold} of ${result.holders.length}`],
            ["holders", result.holders.join(", ")],
            ["recoverers", recoverers.length === 0 ? "none (the owner only)" : recoverers.join(", ")],
            ["tx", result.transaction],
            [
              "deposits",
              `${result.deposits.filter((d) => d.ok).length} of ${result.deposits.length} holders took their share`,
            ],
            ...outcomeLines(result.deposits),
          ]),
        );
        if (result.deposits.some((d) => !d.ok)) {
          throw new KeysError(
            "KEYS_DEPOSIT_INCOMPLETE",
            `not every holder took its share; once they are back, run: bank-chain keys refresh ${result.walletId}`,
            { walletId: result.walletId, deposits: result.deposits },
          );
        }
      });
    });

  group
    .command("recover")
    .description("collect shares from the holders that answer, combine them, check the key is the wallet's")
    .argument("<walletId>", "the wallet id in the ShareRegistry")
    .option("--holders <urls>", `comma-separated holder URLs (default: $${HOLDERS_ENV}, else the three npm start runs)`)
    .option("--recovery-passphrase-env <VAR>", "environment variable holding the recovery passphrase")
    .option("--key-env <VAR>", "environment variable holding the owner's or a guardian's private key")
    .option("--out <file>", `write the recovered key as a keystore, a new file (passphrase in ${FILE_PASSPHRASE_ENV})`)
    .option("--show-key", "print the recovered private key (never do this on a shared screen)", false)
    .option("--permit-spender <address>", "sign a BankToken permit (EIP-2612) with the recovered key for this spender")
    .option("--permit-value <minor>", "the permit's value in minor units", "0")
    .option("--permit-deadline <seconds>", "the permit's lifetime from now", "3600")
    .option(
      "--permit-submit-key-env <VAR>",
      "environment variable holding the key of an account that submits the permit to BankToken (it pays the gas)",
    )
    .action(async (walletIdArgument, _o, command) => {
      const options = command.optsWithGlobals();
      const walletId = walletIdArg(walletIdArgument);
      if (options.out === undefined && !options.showKey && options.permitSpender === undefined) {
        throw new KeysCliError(
          "KEYS_CLI_NOTHING_TO_DO",
          "say what to do with the recovered key: --out <file>, --permit-spender <address> or --show-key",
          {},
        );
      }
      // Refuse a taken --out before any share moves, not after the key is back.
      if (options.out !== undefined && pathTaken(options.out)) {
        throw new KeysCliError("KEYS_CLI_FILE_EXISTS", `${options.out} exists; choose another file`, {
          file: options.out,
        });
      }
      if ((options.recoveryPassphraseEnv === undefined) === (options.keyEnv === undefined)) {
        throw new KeysCliError(
          "KEYS_CLI_NO_FACTOR",
          "authenticate with exactly one of --recovery-passphrase-env <VAR> and --key-env <VAR>",
          {},
        );
      }
      const holders = await holderClients(options.holders);
      await withChain(options, async (chain, deployments) => {
        const keysChain = await chainOf(chain.chainId, deployments.get("ShareRegistry").address, chain.provider);
        const staticKey =
          options.keyEnv !== undefined
            ? getBytes(walletFromEnv(options.keyEnv, KeysCliError, "KEYS_CLI").privateKey)
            : (
                await recoveryKey(env(options.recoveryPassphraseEnv!, "recovery passphrase"), {
                  chainId: keysChain.chainId,
                  registry: keysChain.registry.address,
                  walletId,
                })
              ).privateKey;
        const { recoverWallet } = await import("./client.js");
        const result = await recoverWallet({ chain: keysChain, walletId, staticKey, holders });
        const recovered = new Wallet(hexlify(result.privateKey));
        result.privateKey.fill(0);
        if (options.out !== undefined) await writeKeystore(options.out, recovered);
        let permit: Record<string, string> | undefined;
        let submitted: { transaction: string; allowance: string } | undefined;
        if (options.permitSpender !== undefined) {
          if (!isAddress(options.permitSpender)) {
            throw new KeysCliError("KEYS_CLI_BAD_ADDRESS", "--permit-spender must be an address", {});
          }
          const { BankToken__factory } = await import("../../typechain-types/index.js");
          const token = BankToken__factory.connect(deployments.get("BankToken").address, chain.provider);
          const block = await chain.provider.getBlock("latest");
          const value = BigInt(intArg(options.permitValue, "--permit-value", 0, Number.MAX_SAFE_INTEGER));
          const deadline =
            BigInt(block!.timestamp) + BigInt(intArg(options.permitDeadline, "--permit-deadline", 1, 31_536_000));
          const { signature, nonce, ...message } = await signPermit(
            token,
            recovered,
            getAddress(options.permitSpender),
            value,
            deadline,
          );
          if (options.permitSubmitKeyEnv !== undefined) {
            const sender = walletFromEnv(options.permitSubmitKeyEnv, KeysCliError, "KEYS_CLI").connect(chain.provider);
            const sent = await token
              .connect(sender)
              ["permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"](
                message.owner,
                message.spender,
                value,
                deadline,
                signature.v,
                signature.r,
                signature.s,
              );
            await sent.wait();
            submitted = {
              transaction: sent.hash,
              allowance: (await token.allowance(message.owner, message.spender)).toString(),
            };
          }
          permit = {
            owner: message.owner,
            spender: message.spender,
            value: value.toString(),
            nonce: nonce.toString(),
            deadline: deadline.toString(),
            v: String(signature.v),
            r: signature.r,
            s: signature.s,
          };
        }
        output(
          options,
          {
            walletId,
            account: result.account,
            epoch: result.wallet.epoch,
            used: result.used,
            holders: result.holders,
            ...(options.out === undefined ? {} : { keystore: path.resolve(options.out) }),
            ...(permit === undefined ? {} : { permit }),
            ...(submitted === undefined ? {} : { permitSubmitted: submitted }),
            ...(options.showKey ? { privateKey: recovered.privateKey } : {}),
          },
          () =>
            lines([
              ["wallet", walletId],
              ["account", result.account],
              ["epoch", String(result.wallet.epoch)],
              ["shares used", result.used.join(", ")],
              ["holders", `${result.holders.filter((h) => h.ok).length} handed over a good share`],
              ...outcomeLines(result.holders),
              ...(options.out === undefined ? [] : [["keystore", path.resolve(options.out)] as [string, string]]),
              ...(permit === undefined
                ? []
                : Object.entries(permit).map(([k, v]) => [`permit ${k}`, v] as [string, string])),
              ...(submitted === undefined
                ? []
                : ([
                    ["permit tx", submitted.transaction],
                    ["allowance", `${submitted.allowance} (BankToken accepted the permit)`],
                  ] as Array<[string, string]>)),
              ...(options.showKey ? [["private key", recovered.privateKey] as [string, string]] : []),
            ]),
        );
      });
    });

  group
    .command("refresh")
    .description("new shares of the same key under the next epoch (optionally to a new holder set)")
    .argument("<walletId>", "the wallet id in the ShareRegistry")
    .option("--holders <urls>", `comma-separated holder URLs (default: $${HOLDERS_ENV}, else the three npm start runs)`)
    .option("--new-holders <urls>", "the new holder set, comma-separated URLs (default: the current holders)")
    .option("--threshold <k>", "shares needed to recover after the refresh (default: unchanged)")
    .option("--owner-key-env <VAR>", "environment variable holding the owner's private key", OWNER_KEY_ENV)
    .action(async (walletIdArgument, _o, command) => {
      const options = command.optsWithGlobals();
      const walletId = walletIdArg(walletIdArgument);
      const owner = walletFromEnv(options.ownerKeyEnv, KeysCliError, "KEYS_CLI");
      const holders = await holderClients(options.holders);
      const newHolders = options.newHolders === undefined ? undefined : await holderClients(options.newHolders);
      const threshold = options.threshold === undefined ? undefined : intArg(options.threshold, "--threshold", 2, 16);
      await withChain(options, async (chain, deployments) => {
        const keysChain = await chainOf(chain.chainId, deployments.get("ShareRegistry").address, chain.provider);
        const { refreshWallet } = await import("./client.js");
        const result = await refreshWallet({
          chain: keysChain,
          walletId,
          owner: owner.connect(chain.provider),
          holders: [...holders, ...(newHolders ?? [])],
          ...(newHolders === undefined ? {} : { newHolders }),
          ...(threshold === undefined ? {} : { threshold }),
        });
        output(options, { ...result }, () =>
          lines([
            ["wallet", result.walletId],
            ["account", result.account],
            ["epoch", String(result.epoch)],
            ["threshold", `${result.threshold} of ${result.holders.length}`],
            ["holders", result.holders.join(", ")],
            ["tx", result.transaction],
            [
              "deposits",
              `${result.deposits.filter((d) => d.ok).length} of ${result.deposits.length} holders took their share`,
            ],
            ...outcomeLines(result.deposits),
          ]),
        );
        if (result.deposits.some((d) => !d.ok)) {
          throw new KeysError(
            "KEYS_DEPOSIT_INCOMPLETE",
            `not every holder took its share; once they are back, run: bank-chain keys refresh ${walletId}`,
            { walletId, deposits: result.deposits },
          );
        }
      });
    });

  group
    .command("holders")
    .description("each holder's identity and health; with a wallet id, its holder set and what each holder stores")
    .argument("[walletId]", "a wallet id in the ShareRegistry")
    .option("--holders <urls>", `comma-separated holder URLs (default: $${HOLDERS_ENV}, else the three npm start runs)`)
    .action(async (walletIdArgument, _o, command) => {
      const options = command.optsWithGlobals();
      const holders = await holderClients(options.holders);
      const seen = await Promise.all(
        holders.map(async (client) => {
          try {
            const identity = await client.identity();
            const health = await fetch(`${client.url}/health`).then((r) => r.json() as Promise<{ ok: boolean }>);
            return { url: client.url, address: identity.address, up: health.ok };
          } catch (error) {
            return { url: client.url, address: null, up: false, error: messageOf(error) };
          }
        }),
      );
      if (walletIdArgument === undefined) {
        output(options, { holders: seen }, () =>
          lines(seen.map((h) => [h.url, h.address === null ? "DOWN" : `${h.address}${h.up ? "" : " (unhealthy)"}`])),
        );
        return;
      }
      const walletId = walletIdArg(walletIdArgument);
      await withChain(options, async (chain, deployments) => {
        const { ShareRegistryReader } = await import("./registry.js");
        const { holdersByIndex } = await import("./client.js");
        const registry = new ShareRegistryReader(deployments.get("ShareRegistry").address, chain.provider);
        const wallet = await registry.wallet(walletId);
        const byIndex = await holdersByIndex(wallet, holders);
        const rows = await Promise.all(
          wallet.holders.map(async (address, i) => {
            const client = byIndex.get(i + 1);
            let stored = false;
            if (client !== undefined) {
              const reply = await fetch(`${client.url}/wallets/${walletId}`).then(
                (r) => r.json() as Promise<{ shares: Array<{ epoch: number; index: number; commitment: string }> }>,
              );
              stored = reply.shares.some(
                (s) => s.epoch === wallet.epoch && s.index === i + 1 && s.commitment === wallet.commitments[i],
              );
            }
            return { index: i + 1, address, url: client?.url ?? null, stored };
          }),
        );
        output(options, { wallet, holders: rows }, () =>
          lines([
            ["wallet", walletId],
            ["owner", wallet.owner],
            ["account", wallet.account],
            ["epoch", `${wallet.epoch}${wallet.retired ? " (retired)" : ""}`],
            ["threshold", `${wallet.threshold} of ${wallet.holders.length}`],
            ["recoverers", wallet.recoverers.length === 0 ? "none" : wallet.recoverers.join(", ")],
            ...rows.map(
              (row) =>
                [
                  `  holder ${row.index}`,
                  `${row.address} ${row.url ?? "(no URL answers as it)"} ${row.stored ? "stores its share" : "DOES NOT store its share"}`,
                ] as [string, string],
            ),
          ]),
        );
      });
    });

  group
    .command("holder")
    .description("run one key share holder in the foreground until SIGINT/SIGTERM")
    .requiredOption("--index <n>", "which holder: its identity and store files are keys-holder<n>.*")
    .option("--port <n>", "port on 127.0.0.1 (0 picks a free one; default: KEYS_HOLDER<n>_PORT)")
    .option("--registry <address>", "the ShareRegistry (default: the deployed one)")
    .action(async (_o, command) => {
      const options = command.optsWithGlobals();
      const index = intArg(options.index, "--index", 1, 255);
      const port = options.port === undefined ? undefined : intArg(options.port, "--port", 0, 65_535);
      const { runHolderProcess } = await import("./service.js");
      await runHolderProcess({
        index,
        ...(port === undefined ? {} : { port }),
        ...(options.registry === undefined ? {} : { registry: getAddress(options.registry) }),
        rpc: options.rpc,
        network: options.network,
        ready: (line) => void process.stdout.write(`${line}\n`),
        log: (line) => void process.stderr.write(`${line}\n`),
      });
    });
}

async function chainOf(
  chainId: bigint,
  registry: string,
  provider: ConstructorParameters<typeof ShareRegistryReader>[1],
): Promise<KeysChain> {
  const { ShareRegistryReader } = await import("./registry.js");
  return { chainId, registry: new ShareRegistryReader(registry, provider) };
}
