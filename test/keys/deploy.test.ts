/**
 * deploy/010_keys.ts: the ShareRegistry deployed under the tag "keys", with no arguments and no roles, and a re-run
 * that keeps it, and the wallets recorded in it, and sends nothing.
 */
import { expect } from "chai";
import { keccak256, toUtf8Bytes, ZeroHash } from "ethers";
import { network } from "hardhat";

import { ShareRegistry__factory } from "../../typechain-types/index.js";
import { rerunnableDeploy } from "../helpers/suite.js";

describe("deploy: keys", function () {
  this.timeout(300_000);

  it("deploys the ShareRegistry, and a re-run keeps it and its wallets, sending nothing", async function () {
    const connection = await network.create("hardhat");
    const { run, remove } = rerunnableDeploy(connection, "keys-rerun", ["keys"]);
    try {
      const first = await run();
      const deployment = first.deployments["ShareRegistry"];
      expect(deployment, "ShareRegistry not deployed").to.not.equal(undefined);
      const address = deployment!.address;
      const { ethers } = connection;
      const [owner, h1, h2, h3, account] = await ethers.getSigners();
      const registry = ShareRegistry__factory.connect(address, owner!);
      expect(await registry.MAX_HOLDERS()).to.equal(16n);
      expect(await registry.MAX_RECOVERERS()).to.equal(8n);
      expect(await registry.SHARE_TYPEHASH()).to.equal(
        keccak256(
          toUtf8Bytes(
            "BankChainKeyShare(uint256 chainId,address registry,bytes32 walletId,uint32 epoch,uint8 index," +
              "bytes32 salt,bytes32 shareHash)",
          ),
        ),
      );

      // A wallet recorded before the re-run.
      const salt = keccak256(toUtf8Bytes("keys-deploy-test"));
      const walletId = await registry.walletIdOf(owner!.address, salt);
      const commitments = [1n, 2n, 3n].map((i) => ZeroHash.slice(0, -1) + i.toString());
      await (
        await registry.createWallet(salt, {
          account: account!.address,
          threshold: 2,
          holders: [h1!.address, h2!.address, h3!.address],
          commitments,
          recoverers: [],
        })
      ).wait();

      const everyone = (await ethers.getSigners()).map((signer) => signer.address);
      const nonces = () => Promise.all(everyone.map((a) => ethers.provider.getTransactionCount(a)));
      const before = await nonces();
      const second = await run();
      expect(second.deployments["ShareRegistry"]!.address).to.equal(address);
      expect(await nonces(), "the second deploy sent a transaction").to.deep.equal(before);
      const [walletOwner, walletAccount, threshold, epoch, retired] = await registry.walletOf(walletId);
      expect([walletOwner, walletAccount, threshold, epoch, retired]).to.deep.equal([
        owner!.address,
        account!.address,
        2n,
        1n,
        false,
      ]);
      expect(await registry.commitmentsOf(walletId)).to.deep.equal(commitments);
    } finally {
      remove();
      await connection.close();
    }
  });
});
