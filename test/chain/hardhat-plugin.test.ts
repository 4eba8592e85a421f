import { expect } from "chai";
import { HDNodeWallet, Mnemonic, Wallet } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import type { HookContext } from "hardhat/types/hooks";

import networkHooks from "../../src/chain/hardhat-plugin/network.js";
import { DUTIES, keyVariable, REMOTE_NETWORKS } from "../../src/chain/networks.js";

/** A configuration variable as Hardhat resolves it: its value, or Hardhat's HHE7 when nothing has it. */
const variable = (name: string, value: string | undefined) => ({
  name,
  async get(): Promise<string> {
    if (value === undefined) throw new Error(`HHE7: Configuration Variable "${name}" not found.`);
    return value;
  },
});

const CONSORTIUM = REMOTE_NETWORKS.consortium;
const goodKeys = () =>
  new Map(DUTIES.map(({ name }) => [name as string, Wallet.createRandom().privateKey as string | undefined]));

/** Opens a fake connection to `network` through the plugin's `newConnection` handler. */
async function connect(
  network: string,
  url: string | undefined,
  keys: ReadonlyMap<string, string | undefined>,
): Promise<{ result: Promise<NetworkConnection>; closed: () => boolean }> {
  let closed = false;
  const connection = {
    networkName: network,
    networkConfig: {
      type: "http",
      url: variable(CONSORTIUM.urlVariable, url),
      accounts: DUTIES.map(({ name }) => variable(keyVariable(CONSORTIUM, name), keys.get(name))),
    },
    close: async () => void (closed = true),
  } as unknown as NetworkConnection;
  const hooks = await networkHooks();
  const result = hooks.newConnection!({} as HookContext, async () => connection);
  return { result, closed: () => closed };
}

async function refusal(result: Promise<NetworkConnection>): Promise<string> {
  try {
    await result;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("the connection was not refused");
}

describe("the Hardhat plugin: a remote network's variables checked when a connection opens", function () {
  it("lets a connection with the URL and every duty's key through, untouched", async function () {
    const { result, closed } = await connect("consortium", "https://node.bank.example:8545", goodKeys());
    expect((await result).networkName).to.equal("consortium");
    expect(closed()).to.equal(false);
  });

  it("leaves networks that are not remote alone, whatever their variables", async function () {
    const { result } = await connect("localhost", undefined, new Map());
    expect((await result).networkName).to.equal("localhost");
  });

  it("names, in one line, every variable that is unset, empty or not a key, with its duty, and closes the connection", async function () {
    const keys = goodKeys();
    keys.set("pauser", undefined);
    keys.set("bankB", "");
    keys.set("gateway", "0x1234");
    keys.set("attestor", `0x${"f".repeat(64)}`); // above the curve order: not a key
    keys.set("compliance", `0x${"0".repeat(64)}`); // zero: not a key
    const { result, closed } = await connect("consortium", "https://node.bank.example", keys);
    const message = await refusal(result);
    expect(message.split("\n")).to.have.length(1);
    expect(message).to.equal(
      "network consortium needs its URL and one key per duty: " +
        "CONSORTIUM_BANK_B_KEY is empty (the bankB duty's key); " +
        "CONSORTIUM_ATTESTOR_KEY is not a secp256k1 private key (64 hex digits) (the attestor duty's key); " +
        "CONSORTIUM_PAUSER_KEY is not set (the pauser duty's key); " +
        "CONSORTIUM_COMPLIANCE_KEY is not a secp256k1 private key (64 hex digits) (the compliance duty's key); " +
        "CONSORTIUM_GATEWAY_KEY is not a secp256k1 private key (64 hex digits) (the gateway duty's key); " +
        "store each with `npx hardhat keystore set <NAME>` or export it",
    );
    expect(closed()).to.equal(true);
  });

  it("refuses a URL that is missing or not http(s)", async function () {
    for (const [url, problem] of [
      [undefined, "not set"],
      ["  ", "empty"],
      ["ws://node:8546", "not an http(s) URL"],
    ] as const) {
      const message = await refusal((await connect("consortium", url, goodKeys())).result);
      expect(message).to.include(`CONSORTIUM_RPC_URL is ${problem} (the node's JSON-RPC URL)`);
    }
  });

  it("takes a key without 0x or with surrounding white space", async function () {
    const keys = goodKeys();
    keys.set("admin", Wallet.createRandom().privateKey.slice(2));
    keys.set("rescuer", ` ${Wallet.createRandom().privateKey}\n`);
    expect((await (await connect("consortium", "http://10.0.0.1:8545", keys)).result).networkName).to.equal(
      "consortium",
    );
  });

  it("passes on an error that is not a missing variable", async function () {
    const connection = {
      networkName: "consortium",
      networkConfig: {
        type: "http",
        url: { get: async () => Promise.reject(new Error("keystore: wrong password")) },
        accounts: [],
      },
      close: async () => undefined,
    } as unknown as NetworkConnection;
    const hooks = await networkHooks();
    const message = await refusal(hooks.newConnection!({} as HookContext, async () => connection));
    expect(message).to.equal("keystore: wrong password");
  });

  it("refuses a key or a URL with anything before or after it, and a key equal to the curve order", async function () {
    const key = Wallet.createRandom().privateKey.slice(2);
    for (const [duty, value] of [
      ["admin", `zz0x${key}`],
      ["bankA", `0x${key}00`],
      ["gateway", "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"],
    ] as const) {
      const keys = goodKeys();
      keys.set(duty, value);
      const message = await refusal((await connect("consortium", "http://10.0.0.1:8545", keys)).result);
      expect(message, `${duty} = ${value}`).to.include(
        `${keyVariable(CONSORTIUM, duty)} is not a secp256k1 private key (64 hex digits) (the ${duty} duty's key)`,
      );
    }
    for (const url of ["xhttp://10.0.0.1:8545", "http://10.0.0.1:8545 extra"]) {
      const message = await refusal((await connect("consortium", url, goodKeys())).result);
      expect(message, url).to.include("CONSORTIUM_RPC_URL is not an http(s) URL");
    }
  });

  it("checks a URL written in the config as a plain string, and names the keys a short account list lacks", async function () {
    const connection = (url: string, accounts: readonly string[]) =>
      ({
        networkName: "consortium",
        networkConfig: {
          type: "http",
          url,
          accounts: accounts.map((key, i) => variable(keyVariable(CONSORTIUM, DUTIES[i]!.name), key)),
        },
        close: async () => undefined,
      }) as unknown as NetworkConnection;
    const hooks = await networkHooks();
    const keys = DUTIES.map(() => Wallet.createRandom().privateKey);
    const open = (url: string, accounts: readonly string[]) =>
      hooks.newConnection!({} as HookContext, async () => connection(url, accounts));
    expect((await open("https://node.bank.example", keys)).networkName).to.equal("consortium");
    expect(await refusal(open("ftp://node.bank.example", keys))).to.include("CONSORTIUM_RPC_URL is not an http(s) URL");
    const short = await refusal(open("https://node.bank.example", keys.slice(0, DUTIES.length - 2)));
    for (const duty of DUTIES.slice(-2)) {
      expect(short).to.include(`${keyVariable(CONSORTIUM, duty.name)} is not set (the ${duty.name} duty's key)`);
    }
    expect(short).not.to.include(keyVariable(CONSORTIUM, DUTIES.at(-3)!.name));
  });

  it("names a key of the public test mnemonic, and a key with junk after it, without failing on it", async function () {
    const published = HDNodeWallet.fromMnemonic(
      Mnemonic.fromPhrase("test test test test test test test test test test test junk"),
      "m/44'/60'/0'/0/3",
    ).privateKey;
    const keys = goodKeys();
    keys.set("attestor", published);
    keys.set("pauser", `${Wallet.createRandom().privateKey}zz`);
    const message = await refusal((await connect("consortium", "http://10.0.0.1:8545", keys)).result);
    expect(message).to.include("CONSORTIUM_ATTESTOR_KEY is the public test mnemonic's account #3");
    expect(message).to.include("CONSORTIUM_PAUSER_KEY is not a secp256k1 private key (64 hex digits)");
  });
});
