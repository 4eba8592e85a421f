import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

import { expect } from "chai";
import { getAddress, getBytes, hexlify, keccak256, solidityPacked, toUtf8Bytes, Wallet } from "ethers";
import fc from "fast-check";
import { combine } from "shamir-secret-sharing";

import {
  combineKey,
  decodeShare,
  encodeShare,
  SHARE_TYPE,
  SHARE_TYPEHASH,
  shareCommitment,
  ShareError,
  splitKey,
  type ExpectedShares,
  type KeyShare,
  type ShareScope,
} from "../../src/keys/shares.js";

const REGISTRY = "0x0000000000000000000000000000000000001234";
const WALLET_ID = `0x${"00".repeat(31)}01`;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const randomWallet = () => new Wallet(hexlify(randomBytes(32)));

function scopeOf(wallet: Wallet, threshold: number, total: number, epoch = 1): ShareScope {
  return { chainId: 31337n, registry: REGISTRY, walletId: WALLET_ID, account: wallet.address, epoch, threshold, total };
}

function expectedOf(shares: readonly KeyShare[]): ExpectedShares {
  const first = shares[0]!;
  return {
    chainId: first.chainId,
    registry: first.registry,
    walletId: first.walletId,
    account: first.account,
    epoch: first.epoch,
    threshold: first.threshold,
    commitments: shares.map((share) => share.commitment),
  };
}

async function expectCode(run: () => Promise<unknown> | unknown, code: string): Promise<ShareError> {
  try {
    await run();
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(ShareError);
    expect((error as ShareError).code, (error as Error).message).to.equal(code);
    return error as ShareError;
  }
  expect.fail(`expected ${code}, nothing was thrown`);
}

/** Every k-subset of `items`. */
function subsets<T>(items: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [head, ...rest] = items;
  return [...subsets(rest, k - 1).map((subset) => [head!, ...subset]), ...subsets(rest, k)];
}

// ─── GF(2^8) for the test only: the AES field, x⁸ + x⁴ + x³ + x + 1 (0x11b), by shift-and-add ─────────────

function gfMul(a: number, b: number): number {
  let product = 0;
  for (let i = 0; i < 8; i += 1) {
    if ((b >> i) & 1) product ^= a << i;
  }
  for (let bit = 14; bit >= 8; bit -= 1) {
    if ((product >> bit) & 1) product ^= 0x11b << (bit - 8);
  }
  return product;
}

function gfInv(a: number): number {
  // a^254 = a^-1 in GF(2^8).
  let result = 1;
  for (let i = 0; i < 254; i += 1) result = gfMul(result, a);
  return result;
}

/** The Lagrange basis polynomial of sample `i` at x = 0: Π_{j≠i} x_j / (x_i + x_j) (subtraction is xor). */
function basisAtZero(xs: readonly number[], i: number): number {
  let basis = 1;
  xs.forEach((xj, j) => {
    if (j !== i) basis = gfMul(basis, gfMul(xj, gfInv(xs[i]! ^ xj)));
  });
  return basis;
}

/**
 * Given k-1 shares and any target secret, a k-th share (at an unused x) such that the k shares combine to the
 * target: so k-1 shares are consistent with every secret.
 */
function forgeShare(known: readonly Uint8Array[], target: Uint8Array, x: number): Uint8Array {
  const length = target.length;
  const xs = [...known.map((share) => share[length]!), x];
  const k = xs.length - 1;
  const forged = new Uint8Array(length + 1);
  forged[length] = x;
  const lastBasis = basisAtZero(xs, k);
  for (let byte = 0; byte < length; byte += 1) {
    let partial = 0;
    known.forEach((share, i) => {
      partial ^= gfMul(share[byte]!, basisAtZero(xs, i));
    });
    forged[byte] = gfMul(target[byte]! ^ partial, gfInv(lastBasis));
  }
  return forged;
}

describe("keys/shares", () => {
  describe("the library's field", () => {
    it("is the AES field 0x11b with generator 0xe5: its EXP_TABLE is the powers of 0xe5 under our shift-and-add", () => {
      const require = createRequire(import.meta.url);
      const source = readFileSync(
        path.join(path.dirname(require.resolve("shamir-secret-sharing")), "src", "index.ts"),
        "utf8",
      );
      const table = /const EXP_TABLE[^[]*\[([^\]]*)\]/.exec(source)?.[1];
      expect(table, "EXP_TABLE in shamir-secret-sharing/src/index.ts").to.be.a("string");
      const exp = [...table!.matchAll(/0x([0-9a-f]{2})/g)].map((match) => Number.parseInt(match[1]!, 16));
      expect(exp).to.have.length(256);
      let power = 1;
      for (let i = 0; i < 255; i += 1) {
        expect(exp[i], `0xe5^${i}`).to.equal(power);
        power = gfMul(power, 0xe5);
      }
      expect(power).to.equal(1);
      expect(gfMul(0x57, 0x83)).to.equal(0xc1); // FIPS 197 §4.2's example
    });
  });

  describe("split and combine", () => {
    for (const [threshold, total] of [
      [2, 2],
      [2, 3],
      [3, 5],
      [5, 16],
    ] as const) {
      it(`${threshold}-of-${total}: any ${threshold} shares recover the key, in any order`, async () => {
        const wallet = randomWallet();
        const key = getBytes(wallet.privateKey);
        const shares = await splitKey(key, scopeOf(wallet, threshold, total));
        expect(shares.map((share) => share.index)).to.deep.equal(Array.from({ length: total }, (_, i) => i + 1));
        const expected = expectedOf(shares);
        const all = subsets(shares, threshold);
        const chosen = all.length <= 20 ? all : fc.sample(fc.constantFrom(...all), 40);
        for (const subset of chosen) {
          expect(hex(await combineKey(subset, expected))).to.equal(hex(key));
          expect(hex(await combineKey([...subset].reverse(), expected))).to.equal(hex(key));
        }
        expect(hex(await combineKey(shares, expected))).to.equal(hex(key));
      });

      it(`${threshold}-of-${total}: ${threshold - 1} share(s) are consistent with every key (a forged k-th share makes the library return any target)`, async () => {
        const wallet = randomWallet();
        const shares = await splitKey(getBytes(wallet.privateKey), scopeOf(wallet, threshold, total));
        await fc.assert(
          fc.asyncProperty(
            fc.shuffledSubarray(shares, { minLength: threshold - 1, maxLength: threshold - 1 }),
            fc.uint8Array({ minLength: 32, maxLength: 32 }),
            fc.integer({ min: 1, max: 255 }),
            async (known, target, x) => {
              const used = new Set(known.map((share) => share.share[32]!));
              fc.pre(!used.has(x));
              const forged = forgeShare(
                known.map((share) => share.share),
                target,
                x,
              );
              const combined = await combine([...known.map((share) => share.share), forged]);
              expect(hex(combined)).to.equal(hex(target));
            },
          ),
          { numRuns: 30 },
        );
      });
    }

    it("takes the key and shares as Node Buffers too (the library refuses Uint8Array subclasses)", async () => {
      const wallet = randomWallet();
      const key = Buffer.from(getBytes(wallet.privateKey));
      const shares = await splitKey(key, scopeOf(wallet, 2, 3));
      const buffers = shares.map((share) => ({
        ...share,
        share: Buffer.from(share.share),
        salt: Buffer.from(share.salt),
      }));
      expect(hex(await combineKey(buffers.slice(1), expectedOf(shares)))).to.equal(hex(key));
    });

    it("the k-th real share is one such forgery: forgeShare from k-1 shares and the real key rebuilds it", async () => {
      const wallet = randomWallet();
      const key = getBytes(wallet.privateKey);
      const shares = await splitKey(key, scopeOf(wallet, 3, 5));
      const rebuilt = forgeShare([shares[0]!.share, shares[1]!.share], key, shares[2]!.share[32]!);
      expect(hex(rebuilt)).to.equal(hex(shares[2]!.share));
    });

    it("a stored share holds only its scope, index, share bytes, salt and commitment (of the share itself, salted)", async () => {
      const wallet = randomWallet();
      const shares = await splitKey(getBytes(wallet.privateKey), scopeOf(wallet, 2, 3));
      for (const share of shares) {
        const json = JSON.parse(encodeShare(share)) as Record<string, unknown>;
        expect(Object.keys(json)).to.deep.equal([
          "version",
          "chainId",
          "registry",
          "walletId",
          "account",
          "epoch",
          "threshold",
          "total",
          "index",
          "share",
          "salt",
          "commitment",
        ]);
        expect(json.share).to.equal(hexlify(share.share));
        expect(getBytes(json.share as string)).to.have.length(33);
        expect(json.commitment).to.equal(shareCommitment(share, share.index, share.salt, share.share));
        expect(json.account).to.equal(wallet.address);
      }
      // Fresh salt per share, and the salts and x coordinates differ.
      expect(new Set(shares.map((share) => hex(share.salt))).size).to.equal(3);
      expect(new Set(shares.map((share) => share.share[32])).size).to.equal(3);
    });
  });

  describe("the commitment", () => {
    it("matches the known-answer vector, computed independently with solidityPacked from the type string", () => {
      const scope = { chainId: 31337n, registry: REGISTRY, walletId: WALLET_ID, epoch: 1 };
      const salt = `0x${"00".repeat(31)}02`;
      const share = "0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021";
      const typeHash = keccak256(
        toUtf8Bytes(
          "BankChainKeyShare(uint256 chainId,address registry,bytes32 walletId,uint32 epoch,uint8 index,bytes32 salt,bytes32 shareHash)",
        ),
      );
      expect(SHARE_TYPEHASH).to.equal(typeHash);
      expect(SHARE_TYPE).to.equal(
        "BankChainKeyShare(uint256 chainId,address registry,bytes32 walletId,uint32 epoch,uint8 index,bytes32 salt,bytes32 shareHash)",
      );
      // abi.encode of static types: each value left-padded to a 32-byte word.
      const independent = keccak256(
        solidityPacked(
          ["bytes32", "uint256", "uint256", "bytes32", "uint256", "uint256", "bytes32", "bytes32"],
          [typeHash, 31337n, BigInt(REGISTRY), WALLET_ID, 1n, 1n, salt, keccak256(share)],
        ),
      );
      expect(shareCommitment(scope, 1, salt, share)).to.equal(independent);
      expect(independent).to.equal("0x5478574f5664fb0a1d045d4bee480675c96e241a8ca69fcc11844e7f0ddefbb2");
    });

    it("changes with every input (chain, registry, wallet, epoch, index, salt, share)", () => {
      const scope = { chainId: 31337n, registry: REGISTRY, walletId: WALLET_ID, epoch: 1 };
      const salt = new Uint8Array(32).fill(2);
      const share = new Uint8Array(33).fill(3);
      const base = shareCommitment(scope, 1, salt, share);
      const variants = [
        shareCommitment({ ...scope, chainId: 1n }, 1, salt, share),
        shareCommitment({ ...scope, registry: "0x0000000000000000000000000000000000001235" }, 1, salt, share),
        shareCommitment({ ...scope, walletId: `0x${"00".repeat(31)}02` }, 1, salt, share),
        shareCommitment({ ...scope, epoch: 2 }, 1, salt, share),
        shareCommitment(scope, 2, salt, share),
        shareCommitment(scope, 1, new Uint8Array(32).fill(4), share),
        shareCommitment(scope, 1, salt, new Uint8Array(33).fill(5)),
      ];
      expect(new Set([base, ...variants]).size).to.equal(8);
    });

    it("refuses out-of-range inputs (KEYS_BAD_SCOPE)", async () => {
      const scope = { chainId: 31337n, registry: REGISTRY, walletId: WALLET_ID, epoch: 1 };
      const salt = new Uint8Array(32);
      const share = new Uint8Array(33);
      for (const run of [
        () => shareCommitment(scope, 0, salt, share),
        () => shareCommitment(scope, 256, salt, share),
        () => shareCommitment(scope, 1, new Uint8Array(31), share),
        () => shareCommitment({ ...scope, epoch: 2 ** 32 }, 1, salt, share),
        () => shareCommitment({ ...scope, chainId: 0n }, 1, salt, share),
        () => shareCommitment({ ...scope, registry: "0x12" }, 1, salt, share),
        () => shareCommitment({ ...scope, walletId: "0x01" }, 1, salt, share),
      ]) {
        await expectCode(run, "KEYS_BAD_SCOPE");
      }
    });
  });

  describe("combineKey refuses, naming the share", () => {
    let wallet: Wallet;
    let shares: KeyShare[];
    let expected: ExpectedShares;
    before(async () => {
      wallet = randomWallet();
      shares = await splitKey(getBytes(wallet.privateKey), scopeOf(wallet, 3, 5));
      expected = expectedOf(shares);
    });
    const s = (i: number) => shares[i - 1]!;

    it("a share with a flipped byte (TAMPERED, its index)", async () => {
      for (const at of [0, 17, 32]) {
        const bytes = s(2).share.slice();
        bytes[at]! ^= 0x80;
        const error = await expectCode(
          () => combineKey([s(1), { ...s(2), share: bytes }, s(3)], expected),
          "KEYS_SHARE_TAMPERED",
        );
        expect(error.details).to.include({ index: 2 });
      }
    });

    it("share 1 presented as index 2 (TAMPERED, index 2), with or without its commitment field rewritten", async () => {
      const error = await expectCode(
        () => combineKey([{ ...s(1), index: 2 }, s(3), s(4)], expected),
        "KEYS_SHARE_TAMPERED",
      );
      expect(error.details).to.include({ index: 2, expected: s(2).commitment });
      await expectCode(
        () => combineKey([{ ...s(1), index: 2, commitment: s(2).commitment }, s(3), s(4)], expected),
        "KEYS_SHARE_TAMPERED",
      );
    });

    it("a changed salt (TAMPERED)", async () => {
      const salt = s(3).salt.slice();
      salt[0]! ^= 1;
      const error = await expectCode(
        () => combineKey([s(1), s(2), { ...s(3), salt }], expected),
        "KEYS_SHARE_TAMPERED",
      );
      expect(error.details).to.include({ index: 3 });
    });

    it("a share whose own commitment field disagrees (TAMPERED)", async () => {
      const error = await expectCode(
        () => combineKey([s(1), s(2), { ...s(4), commitment: s(5).commitment }], expected),
        "KEYS_SHARE_TAMPERED",
      );
      expect(error.details).to.include({ index: 4 });
    });

    it("an old-epoch share mixed with new ones after a refresh (STALE with index, epoch, current), even relabelled (TAMPERED)", async () => {
      const fresh = await splitKey(getBytes(wallet.privateKey), scopeOf(wallet, 3, 5, 2));
      const current = expectedOf(fresh);
      const error = await expectCode(() => combineKey([fresh[0]!, s(2), fresh[2]!], current), "KEYS_SHARE_STALE");
      expect(error.details).to.deep.equal({ index: 2, epoch: 1, current: 2 });
      const relabelled = { ...s(2), epoch: 2, commitment: fresh[1]!.commitment };
      const tampered = await expectCode(
        () => combineKey([fresh[0]!, relabelled, fresh[2]!], current),
        "KEYS_SHARE_TAMPERED",
      );
      expect(tampered.details).to.include({ index: 2 });
      // Without the checks the library would return a wrong key: old and new shares lie on different polynomials.
      const mixed = await combine([fresh[0]!.share, s(2).share, fresh[2]!.share]);
      expect(hex(mixed)).to.not.equal(hex(getBytes(wallet.privateKey)));
      expect(hex(await combineKey([fresh[0]!, fresh[1]!, fresh[2]!], current))).to.equal(
        hex(getBytes(wallet.privateKey)),
      );
    });

    it("another wallet's share (WRONG_WALLET naming the field), or relabelled as ours (TAMPERED)", async () => {
      const other = randomWallet();
      const otherShares = await splitKey(getBytes(other.privateKey), {
        ...scopeOf(other, 3, 5),
        walletId: `0x${"00".repeat(31)}02`,
      });
      const error = await expectCode(
        () => combineKey([s(1), otherShares[1]!, s(3)], expected),
        "KEYS_SHARE_WRONG_WALLET",
      );
      expect(error.details).to.include({ index: 2, field: "walletId" });
      const relabelled = { ...otherShares[1]!, walletId: WALLET_ID, account: wallet.address };
      await expectCode(() => combineKey([s(1), relabelled, s(3)], expected), "KEYS_SHARE_TAMPERED");
      for (const [field, value] of [
        ["chainId", 1n],
        ["registry", "0x0000000000000000000000000000000000005678"],
        ["account", other.address],
        ["threshold", 2],
        ["total", 4],
      ] as const) {
        const wrong = await expectCode(
          () => combineKey([s(1), s(2), { ...s(3), [field]: value }], expected),
          "KEYS_SHARE_WRONG_WALLET",
        );
        expect(wrong.details).to.include({ index: 3, field });
      }
    });

    it("a share given twice (DUPLICATE), an index without a commitment (UNKNOWN_INDEX)", async () => {
      const duplicate = await expectCode(() => combineKey([s(1), s(2), s(1)], expected), "KEYS_SHARE_DUPLICATE");
      expect(duplicate.details).to.deep.equal({ index: 1 });
      const unknown = await expectCode(
        () => combineKey([s(1), s(2), { ...s(3), index: 6 }], expected),
        "KEYS_SHARE_UNKNOWN_INDEX",
      );
      expect(unknown.details).to.deep.equal({ index: 6, holders: 5 });
      await expectCode(() => combineKey([{ ...s(1), index: 0 }, s(2), s(3)], expected), "KEYS_SHARE_UNKNOWN_INDEX");
    });

    it("too few shares (TOO_FEW_SHARES with have and need)", async () => {
      const error = await expectCode(() => combineKey([s(4), s(2)], expected), "KEYS_TOO_FEW_SHARES");
      expect(error.details).to.deep.equal({ have: 2, need: 3, indices: [2, 4] });
      await expectCode(() => combineKey([], expected), "KEYS_TOO_FEW_SHARES");
    });

    it("the wrong account: shares relabelled for another account combine to a key that is not it (WRONG_KEY)", async () => {
      const other = randomWallet();
      const relabelled = [s(1), s(2), s(3)].map((share) => ({ ...share, account: other.address }));
      const error = await expectCode(
        () => combineKey(relabelled, { ...expected, account: other.address }),
        "KEYS_WRONG_KEY",
      );
      expect(error.details).to.deep.include({ account: other.address, got: wallet.address, indices: [1, 2, 3] });
    });

    it("a malformed expectation (BAD_SCOPE)", async () => {
      await expectCode(() => combineKey([s(1), s(2), s(3)], { ...expected, threshold: 1 }), "KEYS_BAD_SCOPE");
      await expectCode(() => combineKey([s(1), s(2), s(3)], { ...expected, threshold: 6 }), "KEYS_BAD_SCOPE");
      await expectCode(
        () => combineKey([s(1), s(2), s(3)], { ...expected, commitments: ["0x12", ...expected.commitments.slice(1)] }),
        "KEYS_BAD_SCOPE",
      );
    });
  });

  describe("splitKey", () => {
    it("refuses a key that is not the account's (WRONG_KEY) and scopes out of range (BAD_SCOPE)", async () => {
      const wallet = randomWallet();
      const key = getBytes(wallet.privateKey);
      await expectCode(() => splitKey(key, scopeOf(randomWallet(), 2, 3)), "KEYS_WRONG_KEY");
      for (const [threshold, total] of [
        [1, 3],
        [4, 3],
        [2, 1],
        [2, 17],
        [2.5, 3],
      ]) {
        await expectCode(() => splitKey(key, scopeOf(wallet, threshold!, total!)), "KEYS_BAD_SCOPE");
      }
      await expectCode(() => splitKey(new Uint8Array(32), scopeOf(wallet, 2, 3)), "KEYS_BAD_SCOPE");
      await expectCode(() => splitKey(key.slice(1), scopeOf(wallet, 2, 3)), "KEYS_BAD_SCOPE");
      await expectCode(() => splitKey(key, { ...scopeOf(wallet, 2, 3), epoch: -1 }), "KEYS_BAD_SCOPE");
    });
  });

  describe("encodeShare / decodeShare", () => {
    let share: KeyShare;
    let text: string;
    before(async () => {
      const wallet = randomWallet();
      share = (await splitKey(getBytes(wallet.privateKey), scopeOf(wallet, 2, 3)))[1]!;
      text = encodeShare(share);
    });

    it("round-trips a share exactly", () => {
      expect(decodeShare(text)).to.deep.equal(share);
      expect(encodeShare(decodeShare(text))).to.equal(text);
    });

    it("round-trips any well-formed share (property)", () => {
      fc.assert(
        fc.property(
          fc.record({
            chainId: fc.bigInt({ min: 1n, max: (1n << 256n) - 1n }),
            registry: fc.uint8Array({ minLength: 20, maxLength: 20 }),
            walletId: fc.uint8Array({ minLength: 32, maxLength: 32 }),
            account: fc.uint8Array({ minLength: 20, maxLength: 20 }),
            epoch: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
            total: fc.integer({ min: 2, max: 16 }),
            thresholdSeed: fc.nat(),
            indexSeed: fc.nat(),
            share: fc.uint8Array({ minLength: 32, maxLength: 32 }),
            x: fc.integer({ min: 1, max: 255 }),
            salt: fc.uint8Array({ minLength: 32, maxLength: 32 }),
          }),
          (r) => {
            const scope = {
              chainId: r.chainId,
              registry: getAddress(hexlify(r.registry)),
              walletId: hexlify(r.walletId),
              epoch: r.epoch,
            };
            const index = 1 + (r.indexSeed % r.total);
            const bytes = new Uint8Array([...r.share, r.x]);
            const built: KeyShare = {
              version: 1,
              ...scope,
              account: getAddress(hexlify(r.account)),
              threshold: 2 + (r.thresholdSeed % (r.total - 1)),
              total: r.total,
              index,
              share: bytes,
              salt: r.salt,
              commitment: shareCommitment(scope, index, r.salt, bytes),
            };
            expect(decodeShare(encodeShare(built))).to.deep.equal(built);
          },
        ),
        { numRuns: 200 },
      );
    });

    it("refuses anything but the canonical form (MALFORMED) and a commitment that is not its own (TAMPERED)", async () => {
      const json = JSON.parse(text) as Record<string, unknown>;
      const variants: [string, string][] = [
        ["not JSON", "{"],
        ["an extra field", JSON.stringify({ ...json, key: "0x00" })],
        ["a missing field", JSON.stringify({ ...json, salt: undefined })],
        ["version 2", JSON.stringify({ ...json, version: 2 })],
        ["chainId a number", JSON.stringify({ ...json, chainId: 31337 })],
        [
          "upper-case share",
          JSON.stringify({ ...json, share: (json.share as string).toUpperCase().replace("0X", "0x") }),
        ],
        ["a short share", JSON.stringify({ ...json, share: (json.share as string).slice(0, -2) })],
        ["x = 0", JSON.stringify({ ...json, share: `${(json.share as string).slice(0, -2)}00` })],
        ["a short salt", JSON.stringify({ ...json, salt: (json.salt as string).slice(0, -2) })],
        ["index 0", JSON.stringify({ ...json, index: 0 })],
        ["index > total", JSON.stringify({ ...json, index: 4 })],
        ["threshold > total", JSON.stringify({ ...json, threshold: 4 })],
        ["threshold 1", JSON.stringify({ ...json, threshold: 1 })],
        ["a lower-case account", JSON.stringify({ ...json, account: (json.account as string).toLowerCase() })],
        ["white space", JSON.stringify(json, null, 1)],
        ["another field order", JSON.stringify(Object.fromEntries(Object.entries(json).reverse()))],
      ];
      for (const [why, variant] of variants) {
        expect(variant, why).to.not.equal(text);
        const error = await expectCode(() => decodeShare(variant), "KEYS_SHARE_MALFORMED");
        expect(error.details, why).to.have.property("field");
      }
      const flipped = getBytes(json.share as string).slice();
      flipped[3]! ^= 1;
      const error = await expectCode(
        () => decodeShare(JSON.stringify({ ...json, share: hexlify(flipped) })),
        "KEYS_SHARE_TAMPERED",
      );
      expect(error.details).to.include({ index: 2 });
      await expectCode(() => decodeShare(JSON.stringify({ ...json, epoch: 2 })), "KEYS_SHARE_TAMPERED");
    });
  });

  describe("combineKey's checks, exactly", () => {
    let wallet: Wallet;
    let shares: KeyShare[];
    let expected: ExpectedShares;
    before(async () => {
      wallet = randomWallet();
      shares = await splitKey(getBytes(wallet.privateKey), scopeOf(wallet, 3, 5));
      expected = expectedOf(shares);
    });
    const s = (i: number) => shares[i - 1]!;
    const key = () => hex(getBytes(wallet.privateKey));

    /** Share 2 with other bytes (or salt), and an expectation whose commitment 2 is of exactly those. */
    function replaceTwo(fields: { share?: unknown; salt?: unknown }): { two: KeyShare; chain: ExpectedShares } {
      const bytes = fields.share === undefined ? s(2).share : Uint8Array.from(fields.share as ArrayLike<number>);
      const salt = fields.salt === undefined ? s(2).salt : Uint8Array.from(fields.salt as ArrayLike<number>);
      const commitment = shareCommitment(expected, 2, salt, bytes);
      const two = { ...s(2), ...fields, commitment } as KeyShare;
      return {
        two,
        chain: { ...expected, commitments: expected.commitments.map((c, i) => (i === 1 ? commitment : c)) },
      };
    }

    it("share bytes that are not 33 bytes with a non-zero x are TAMPERED ({ index }), even committed on chain", async () => {
      const variants: [string, unknown][] = [
        ["34 bytes", new Uint8Array([...s(2).share, 7])],
        ["32 bytes", s(2).share.slice(0, 32)],
        ["a plain array of 33 numbers", Array.from(s(2).share)],
        ["x = 0", new Uint8Array([...s(2).share.slice(0, 32), 0])],
      ];
      for (const [why, share] of variants) {
        const { two, chain } = replaceTwo({ share });
        const error = await expectCode(() => combineKey([s(1), two, s(3)], chain), "KEYS_SHARE_TAMPERED");
        expect(error.details, why).to.deep.equal({ index: 2 });
        expect(error.message, why).to.equal("share 2 is not 33 bytes with a non-zero x");
      }
    });

    it("a salt that is not 32 bytes is TAMPERED ({ index }), not a scope error", async () => {
      const variants: [string, unknown][] = [
        ["31 bytes", s(2).salt.slice(1)],
        ["33 bytes", new Uint8Array([...s(2).salt, 0])],
        ["a plain array of the same 32 numbers (its commitment matches)", Array.from(s(2).salt)],
      ];
      for (const [why, salt] of variants) {
        const two = { ...s(2), salt } as KeyShare;
        const error = await expectCode(() => combineKey([s(1), two, s(3)], expected), "KEYS_SHARE_TAMPERED");
        expect(error.details, why).to.deep.equal({ index: 2 });
        expect(error.message, why).to.equal("share 2's salt is not 32 bytes");
      }
    });

    it("a share of another version is MALFORMED ({ index, version }), though its commitment does not cover the version", async () => {
      const two = { ...s(2), version: 2 } as unknown as KeyShare;
      const error = await expectCode(() => combineKey([s(1), two, s(3)], expected), "KEYS_SHARE_MALFORMED");
      expect(error.details).to.deep.equal({ index: 2, version: 2 });
    });

    it("a share whose own commitment is right but the chain holds another is TAMPERED, and the reverse", async () => {
      const again = await splitKey(getBytes(wallet.privateKey), scopeOf(wallet, 3, 5));
      const chain = {
        ...expected,
        commitments: expected.commitments.map((c, i) => (i === 1 ? again[1]!.commitment : c)),
      };
      const error = await expectCode(() => combineKey([s(1), s(2), s(3)], chain), "KEYS_SHARE_TAMPERED");
      expect(error.details).to.deep.equal({
        index: 2,
        commitment: s(2).commitment,
        expected: again[1]!.commitment,
        claimed: s(2).commitment,
      });
      const claims = await expectCode(
        () => combineKey([s(1), { ...s(2), commitment: again[1]!.commitment }, s(3)], expected),
        "KEYS_SHARE_TAMPERED",
      );
      expect(claims.details).to.deep.equal({
        index: 2,
        commitment: s(2).commitment,
        expected: s(2).commitment,
        claimed: again[1]!.commitment,
      });
    });

    it("combines the lowest `threshold` indices whatever the order: higher ones from another split do not spoil it", async () => {
      // Shares 4 and 5 of a second split of the same key, committed on chain: valid each, but not on the
      // polynomial of shares 1..3, so any combination using them gives another key.
      const again = await splitKey(getBytes(wallet.privateKey), scopeOf(wallet, 3, 5));
      const mixed = [s(1), s(2), s(3), again[3]!, again[4]!];
      const chain = expectedOf(mixed);
      expect(hex(await combine(mixed.map((share) => share.share)))).to.not.equal(key());
      expect(hex(await combine([s(2), s(3), again[3]!].map((share) => share.share)))).to.not.equal(key());
      for (const order of [
        [4, 3, 2, 1, 0],
        [3, 4, 0, 2, 1],
        [2, 4, 0, 3, 1],
      ]) {
        expect(
          hex(
            await combineKey(
              order.map((i) => mixed[i]!),
              chain,
            ),
          ),
          String(order),
        ).to.equal(key());
      }
    });

    it("WRONG_KEY names the lowest `threshold` indices it combined, and the address they gave", async () => {
      const other = randomWallet();
      const relabelled = [s(5), s(4), s(3), s(2), s(1)].map((share) => ({ ...share, account: other.address }));
      const error = await expectCode(
        () => combineKey(relabelled, { ...expected, account: other.address }),
        "KEYS_WRONG_KEY",
      );
      expect(error.details).to.deep.equal({ account: other.address, got: wallet.address, indices: [1, 2, 3] });
      expect(error.message).to.equal(`the shares combine to ${wallet.address}, not the account ${other.address}`);
    });

    it("shares that combine to no valid private key (0, or >= n) are WRONG_KEY with got null, not a crash", async () => {
      for (const byte of [0x00, 0xff]) {
        // A constant polynomial: every share's bytes are the secret's.
        const scope = scopeOf(wallet, 2, 2);
        const forged: KeyShare[] = [1, 2].map((index) => {
          const share = new Uint8Array([...new Uint8Array(32).fill(byte), index]);
          const salt = new Uint8Array(randomBytes(32));
          return { ...scope, version: 1, index, share, salt, commitment: shareCommitment(scope, index, salt, share) };
        });
        expect(hex(await combine(forged.map((share) => share.share)))).to.equal(hex(new Uint8Array(32).fill(byte)));
        const error = await expectCode(() => combineKey(forged, expectedOf(forged)), "KEYS_WRONG_KEY");
        expect(error.details).to.deep.equal({ account: wallet.address, got: null, indices: [1, 2] });
        expect(error.message).to.equal(`the shares combine to no valid key, not the account ${wallet.address}`);
      }
    });

    it("commitments that are not an array are BAD_SCOPE naming the field", async () => {
      for (const commitments of [expected.commitments[0]!.slice(0, 6), undefined, { length: 5 }]) {
        const error = await expectCode(
          () => combineKey([s(1), s(2), s(3)], { ...expected, commitments } as unknown as ExpectedShares),
          "KEYS_BAD_SCOPE",
        );
        expect(error.details).to.deep.equal({ field: "commitments", value: undefined });
      }
    });

    it("splitKey's WRONG_KEY carries the account and the key's address", async () => {
      const other = randomWallet();
      const error = await expectCode(
        () => splitKey(getBytes(wallet.privateKey), scopeOf(other, 2, 3)),
        "KEYS_WRONG_KEY",
      );
      expect(error.details).to.deep.equal({ account: other.address, got: wallet.address });
    });
  });

  describe("decodeShare's schema, exactly", () => {
    let share: KeyShare;
    let json: Record<string, unknown>;
    before(async () => {
      const wallet = randomWallet();
      share = (await splitKey(getBytes(wallet.privateKey), scopeOf(wallet, 2, 3)))[1]!;
      json = JSON.parse(encodeShare(share)) as Record<string, unknown>;
    });

    it("refuses a prefix or suffix on any fixed-form field, a leading zero, or a chainId above uint256 (MALFORMED, that field)", async () => {
      const str = (field: string) => json[field] as string;
      const variants: [string, string, string][] = [
        ["chainId", "031337", "without leading zeros"],
        ["chainId", `1${"0".repeat(78)}`, "without leading zeros"],
        ["chainId", (1n << 256n).toString(), "must fit in uint256"],
        ["chainId", "31337x", "without leading zeros"],
        ["chainId", "x31337", "without leading zeros"],
        ["chainId", "1.5", "without leading zeros"],
        ["registry", `00${str("registry")}`, "must be a 20-byte hex address"],
        ["registry", `${str("registry")}00`, "must be a 20-byte hex address"],
        ["account", `00${str("account")}`, "must be a 20-byte hex address"],
        ["account", `${str("account")}00`, "must be a 20-byte hex address"],
        ["walletId", `00${str("walletId")}`, "32 bytes of lower-case hex"],
        ["walletId", `${str("walletId")}00`, "32 bytes of lower-case hex"],
        ["commitment", `00${str("commitment")}`, "32 bytes of lower-case hex"],
        ["commitment", `${str("commitment")}00`, "32 bytes of lower-case hex"],
      ];
      for (const [field, value, why] of variants) {
        const error = await expectCode(
          () => decodeShare(JSON.stringify({ ...json, [field]: value })),
          "KEYS_SHARE_MALFORMED",
        );
        expect(error.details, `${field} ${value}`).to.deep.equal({ field });
        expect(error.message, `${field} ${value}`).to.include(why);
      }
    });

    it("accepts chainId 2^256-1, the largest uint256", () => {
      const chainId = (1n << 256n) - 1n;
      const built = {
        ...share,
        chainId,
        commitment: shareCommitment({ ...share, chainId }, share.index, share.salt, share.share),
      };
      expect(decodeShare(encodeShare(built))).to.deep.equal(built);
    });
  });
});
