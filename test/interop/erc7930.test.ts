import { expect } from "chai";
import { keccak256 } from "ethers";
import { network } from "hardhat";

import {
  interoperableAddress,
  InteroperableAddressError,
  parseInteroperableAddress,
} from "../../src/interop/erc7930.js";

// Test vectors published in ERC-7930 ("Test Cases": Example 1 and Example 3).
const VITALIK = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045";

describe("ERC-7930 interoperable addresses (published vectors)", () => {
  it("encodes Example 1, an Ethereum mainnet address, and its checksum input hashes to the published checksum", () => {
    const encoded = interoperableAddress(1n, VITALIK);
    expect(encoded).to.equal("0x00010000010114d8da6bf26964af9d7eed9e03e53415d37aa96045");
    // The Interoperable Name's checksum: keccak256 of the binary form without the version, first 4 bytes.
    expect(
      keccak256(`0x${encoded.slice(6)}`)
        .slice(2, 10)
        .toUpperCase(),
    ).to.equal("4CA88C9C");
  });

  it("encodes Example 3, an eip155 address with no chain id", () => {
    const encoded = interoperableAddress(0n, VITALIK);
    expect(encoded).to.equal("0x000100000014d8da6bf26964af9d7eed9e03e53415d37aa96045");
    expect(
      keccak256(`0x${encoded.slice(6)}`)
        .slice(2, 10)
        .toUpperCase(),
    ).to.equal("B26DB7CB");
  });

  it("writes a chain id in as few bytes as it takes, and a chain alone with an empty address", () => {
    expect(interoperableAddress(31_337n)).to.equal("0x00010000027a6900");
    expect(interoperableAddress(256n, VITALIK).slice(0, 16)).to.equal("0x00010000020100");
    expect(interoperableAddress(2n ** 256n - 1n)).to.equal(`0x0001000020${"ff".repeat(32)}00`);
  });

  it("parses what it writes, and the published vectors", () => {
    expect(parseInteroperableAddress("0x00010000010114D8DA6BF26964AF9D7EED9E03E53415D37AA96045")).to.deep.equal({
      chainId: 1n,
      address: VITALIK,
    });
    expect(parseInteroperableAddress("0x000100000014D8DA6BF26964AF9D7EED9E03E53415D37AA96045")).to.deep.equal({
      address: VITALIK,
    });
    expect(parseInteroperableAddress(interoperableAddress(31_338n))).to.deep.equal({ chainId: 31_338n });
  });

  it("refuses what is not canonical: another version or chain type, a leading zero, stray bytes, odd lengths", () => {
    const bad = [
      "0x00020000010114d8da6bf26964af9d7eed9e03e53415d37aa96045", // version 2
      "0x00010002010114d8da6bf26964af9d7eed9e03e53415d37aa96045", // another chain type
      "0x0001000002000114d8da6bf26964af9d7eed9e03e53415d37aa96045", // chain reference 0x0001
      "0x00010000010114d8da6bf26964af9d7eed9e03e53415d37aa9604500", // a trailing byte
      "0x00010000010113d8da6bf26964af9d7eed9e03e53415d37aa960", // a 19-byte address
      "0x0001000000", // truncated
      "0x000100000000", // neither chain nor address
    ];
    for (const value of bad) {
      expect(() => parseInteroperableAddress(value), value).to.throw(InteroperableAddressError);
    }
    expect(() => interoperableAddress(-1n)).to.throw(InteroperableAddressError);
    expect(() => interoperableAddress(2n ** 256n)).to.throw(InteroperableAddressError);
  });

  it("writes what OpenZeppelin's InteroperableAddress.formatEvmV1 writes on chain (ChainRegistry reads it)", async function () {
    const connection = await network.create("hardhat");
    try {
      const [admin] = await connection.ethers.getSigners();
      const registry = await connection.ethers.deployContract("ChainRegistry", [admin!.address, 0]);
      const role = await registry.getFunction("CHAIN_ADMIN_ROLE")();
      await (await registry.getFunction("grantRole")(role, admin!.address)).wait();
      for (const chainId of [1n, 255n, 256n, 31_337n, 31_338n, 2n ** 64n - 1n, 2n ** 256n - 1n]) {
        await (await registry.getFunction("registerChain")(chainId, `eip155:${chainId}`, true)).wait();
        const info = (await registry.getFunction("chainOf")(chainId)) as { interoperableAddress?: string };
        const onChain = (await registry.getFunction("interoperableAddressOf")(chainId, VITALIK)) as string;
        expect(onChain, `chain ${chainId}`).to.equal(interoperableAddress(chainId, VITALIK));
        expect(Object.values(info).includes(interoperableAddress(chainId)), `chain ${chainId} alone`).to.equal(true);
      }
    } finally {
      await connection.close();
    }
  });
});
