/**
 * Three share holders as separate processes on Anvil (`scripts/key-holder.ts`, what `bank-chain keys holder`
 * runs), each killed with SIGKILL in the middle of handing its share over: the recovery goes on with the other
 * holders, and the killed holder, restarted on its folder, is the same holder with the same share.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { getBytes, hexlify, HDNodeWallet, JsonRpcProvider, Wallet } from "ethers";

import { startAnvil, type Anvil } from "../../src/chain/devnet.js";
import { PUBLIC_TEST_MNEMONIC } from "../../src/chain/published-keys.js";
import { HolderClient, recoverWallet, splitWallet } from "../../src/keys/client.js";
import { ShareRegistryReader } from "../../src/keys/registry.js";
import { ShareRegistry__factory } from "../../typechain-types/index.js";
import { CrashableProcess } from "../helpers/crashable-process.js";
import { freePort } from "../helpers/processes.js";

const root = HDNodeWallet.fromPhrase(PUBLIC_TEST_MNEMONIC, undefined, "m/44'/60'/0'/0");

describe("keys: a holder killed mid-transfer", function () {
  this.timeout(240_000);
  let dir: string;
  let anvil: Anvil | undefined;
  let provider: JsonRpcProvider;
  let registryAddress: string;
  const holders: CrashableProcess[] = [];

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "bank-chain-keys-crash-"));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    anvil = await startAnvil({ endpoint: { host: "127.0.0.1", port, url } });
    provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, pollingInterval: 100 });
    const deployer = new Wallet(root.deriveChild(0).privateKey, provider);
    const registry = await new ShareRegistry__factory(deployer).deploy();
    await registry.waitForDeployment();
    registryAddress = await registry.getAddress();
    for (const index of [1, 2, 3]) {
      holders.push(
        new CrashableProcess({
          name: `holder ${index}`,
          args: ["scripts/key-holder.ts", String(index), "--rpc", url, "--registry", registryAddress],
          env: { BANK_CHAIN_DATA_DIR: dir, [`KEYS_HOLDER${index}_PORT`]: "0" },
          crashVariable: "KEYS_HOLDER_CRASH_AT",
          ready: /keys-holder ready index=\d+ url=(\S+) address=\S+/,
        }),
      );
    }
  });

  after(async function () {
    await Promise.allSettled(holders.map((holder) => holder.kill()));
    provider?.destroy();
    await anvil?.stop(5_000);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("recovers with any one holder killed while it hands its share over, and the restarted holder serves it again", async function () {
    for (const holder of holders) await holder.start();
    const chain = {
      chainId: (await provider.getNetwork()).chainId,
      registry: new ShareRegistryReader(registryAddress, provider),
    };
    const owner = new Wallet(root.deriveChild(1).privateKey, provider);
    const key = new Wallet(Wallet.createRandom().privateKey);
    const split = await splitWallet({
      chain,
      owner,
      privateKey: getBytes(key.privateKey),
      holders: holders.map((h) => new HolderClient(h.url)),
      threshold: 2,
      recoverers: [],
      salt: hexlify(new Uint8Array(32).fill(7)),
    });
    expect(
      split.deposits.every((d) => d.ok),
      JSON.stringify(split.deposits),
    ).to.equal(true);
    const addresses = split.holders;

    for (const victim of [1, 2, 3]) {
      const holder = holders[victim - 1]!;
      // Restart the victim primed to die once a fetch frame has opened, before it answers.
      await holder.stop();
      await holder.start("fetch:opened");
      const others = [1, 2, 3].filter((i) => i !== victim);
      const result = await recoverWallet({
        chain,
        walletId: split.walletId,
        staticKey: getBytes(owner.privateKey),
        holders: holders.map((h) => new HolderClient(h.url)),
        // The victim first, so the recovery is cut in the middle of its transfer.
        prefer: [victim, ...others],
      });
      expect(hexlify(result.privateKey), `victim ${victim}`).to.equal(key.privateKey);
      expect(result.used).to.deep.equal(others);
      const cut = result.holders.find((h) => h.index === victim);
      expect(cut?.ok).to.equal(false);
      expect(cut?.code).to.equal("KEYS_HOLDER_UNREACHABLE");
      const exit = await holder.exited(10_000);
      expect(exit.signal).to.equal("SIGKILL");
      expect(holder.output).to.include("crashing at fetch:opened");

      // Restarted on its folder: the same identity, and its share is there.
      await holder.start();
      const identity = await new HolderClient(holder.url).identity();
      expect(identity.address).to.equal(addresses[victim - 1]);
      const again = await recoverWallet({
        chain,
        walletId: split.walletId,
        staticKey: getBytes(owner.privateKey),
        holders: holders.map((h) => new HolderClient(h.url)),
        prefer: [victim, others[0]!],
      });
      expect(again.used).to.deep.equal([victim, others[0]]);
      expect(hexlify(again.privateKey)).to.equal(key.privateKey);
    }
  });
});
