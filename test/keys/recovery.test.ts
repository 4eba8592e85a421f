import { scryptSync } from "node:crypto";

import { scryptAsync } from "@noble/hashes/scrypt.js";
import { expect } from "chai";
import { computeAddress, getBytes, hexlify, SigningKey, toBeHex } from "ethers";

import {
  MIN_PASSPHRASE_CHARACTERS,
  RECOVERY_SCRYPT,
  recoveryKey,
  RecoveryError,
  recoverySalt,
  type RecoveryScope,
} from "../../src/keys/recovery.js";

const N_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const SCOPE: RecoveryScope = {
  chainId: 31337n,
  registry: "0x0000000000000000000000000000000000001234",
  walletId: `0x${"00".repeat(31)}01`,
};
/** A small cost for the tests that are not about the cost. */
const LIGHT = { N: 2 ** 10, r: 8, p: 1, dkLen: 48 };
const PASSPHRASE = "correct horse battery staple";
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

async function expectCode(run: () => Promise<unknown>, code: string): Promise<RecoveryError> {
  try {
    await run();
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(RecoveryError);
    expect((error as RecoveryError).code, (error as Error).message).to.equal(code);
    return error as RecoveryError;
  }
  expect.fail(`expected ${code}, nothing was thrown`);
}

/** The derivation by hand with node:crypto (OpenSSL's scrypt) and bigint arithmetic. */
function handDerive(passphrase: string, scope: RecoveryScope, params: typeof LIGHT): Uint8Array {
  const salt = Buffer.concat([
    Buffer.from("bank-chain/keys/recovery/v1", "utf8"),
    getBytes(toBeHex(scope.chainId, 32)),
    getBytes(scope.registry),
    getBytes(scope.walletId),
  ]);
  const okm = scryptSync(Buffer.from(passphrase.normalize("NFKD"), "utf8"), salt, params.dkLen, {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: 256 * 1024 * 1024,
  });
  // FIPS 186-5 A.2.1 / noble's mapHashToField: (okm mod (n - 1)) + 1.
  return getBytes(toBeHex((BigInt(`0x${okm.toString("hex")}`) % (N_ORDER - 1n)) + 1n, 32));
}

describe("keys/recovery", () => {
  it("scrypt (the import recovery uses) gives RFC 7914's vectors", async () => {
    const one = await scryptAsync("password", "NaCl", { N: 1024, r: 8, p: 16, dkLen: 64 });
    expect(hex(one)).to.equal(
      "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640",
    );
    const empty = await scryptAsync("", "", { N: 16, r: 1, p: 1, dkLen: 64 });
    expect(hex(empty)).to.equal(
      "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906",
    );
  });

  it("the default cost is N = 2^17, r = 8, p = 1, 48 bytes", () => {
    expect(RECOVERY_SCRYPT).to.deep.equal({ N: 131072, r: 8, p: 1, dkLen: 48 });
    expect(MIN_PASSPHRASE_CHARACTERS).to.equal(12);
  });

  it("the salt is the tag, uint256be(chainId), the registry and the wallet id", () => {
    expect(hexlify(recoverySalt(SCOPE))).to.equal(
      hexlify(Buffer.from("bank-chain/keys/recovery/v1", "utf8")) +
        (31337).toString(16).padStart(64, "0") +
        "0000000000000000000000000000000000001234" +
        `${"00".repeat(31)}01`,
    );
  });

  it("at the default cost: the known-answer address, and node:crypto's scrypt with the reduction by hand agrees", async () => {
    const derived = await recoveryKey(PASSPHRASE, SCOPE);
    const byHand = handDerive(PASSPHRASE, SCOPE, RECOVERY_SCRYPT);
    expect(hex(derived.privateKey)).to.equal(hex(byHand));
    expect(derived.address).to.equal(computeAddress(new SigningKey(derived.privateKey).publicKey));
    expect(derived.address).to.equal("0x19Ad6C1A0726A0b0CDabF77A5997C634e00898b2");
    expect(hexlify(derived.privateKey)).to.equal("0x7112eeac2de029dca5c0119b51235c607ed828027b62400d6697e469f0726f4b");
  });

  it("at a small cost, agrees with node:crypto for several passphrases and scopes", async () => {
    for (const [passphrase, scope] of [
      [PASSPHRASE, SCOPE],
      ["Zürich Straße ﬁve 12345", { ...SCOPE, chainId: 1n }],
      ["密码是一个很长很长的句子啊", { ...SCOPE, walletId: `0x${"ab".repeat(32)}` }],
    ] as const) {
      const derived = await recoveryKey(passphrase, scope, LIGHT);
      expect(hex(derived.privateKey)).to.equal(hex(handDerive(passphrase, scope, LIGHT)));
    }
  });

  it("another wallet, registry or chain gives another key; so does another passphrase or cost", async () => {
    const keys = await Promise.all(
      [
        recoveryKey(PASSPHRASE, SCOPE, LIGHT),
        recoveryKey(PASSPHRASE, { ...SCOPE, walletId: `0x${"00".repeat(31)}02` }, LIGHT),
        recoveryKey(PASSPHRASE, { ...SCOPE, registry: "0x0000000000000000000000000000000000001235" }, LIGHT),
        recoveryKey(PASSPHRASE, { ...SCOPE, chainId: 31338n }, LIGHT),
        recoveryKey(`${PASSPHRASE}!`, SCOPE, LIGHT),
        recoveryKey(PASSPHRASE, SCOPE, { ...LIGHT, N: 2 ** 11 }),
      ].map(async (promise) => (await promise).address),
    );
    expect(new Set(keys).size).to.equal(keys.length);
    // Same inputs, same key.
    expect((await recoveryKey(PASSPHRASE, SCOPE, LIGHT)).address).to.equal(keys[0]);
  });

  it("NFKD: composed and decomposed é (and the ﬁ ligature and fi) give the same key", async () => {
    const composed = "caf\u00e9 au lait, s'il vous pla\u00eet";
    const decomposed = "cafe\u0301 au lait, s'il vous plai\u0302t";
    expect(composed).to.not.equal(decomposed);
    const a = await recoveryKey(composed, SCOPE, LIGHT);
    const b = await recoveryKey(decomposed, SCOPE, LIGHT);
    expect(a.address).to.equal(b.address);
    const ligature = await recoveryKey("\ufb01ve little pigs", SCOPE, LIGHT);
    const plain = await recoveryKey("five little pigs", SCOPE, LIGHT);
    expect(ligature.address).to.equal(plain.address);
  });

  it("refuses a passphrase under 12 characters (WEAK_PASSPHRASE), counting what a person sees, and never logs it", async () => {
    for (const weak of ["", "short", "elevenchars", "\u00e9".repeat(11), "e\u0301".repeat(11), "👨‍👩‍👧‍👦".repeat(11)]) {
      const error = await expectCode(() => recoveryKey(weak, SCOPE, LIGHT), "KEYS_WEAK_PASSPHRASE");
      expect(error.details).to.deep.include({ min: 12 });
      if (weak !== "") expect(JSON.stringify(error.toJSON())).to.not.include(weak);
    }
    const error = await expectCode(() => recoveryKey("e\u0301".repeat(11), SCOPE, LIGHT), "KEYS_WEAK_PASSPHRASE");
    expect(error.details).to.deep.equal({ length: 11, min: 12 });
    expect((await recoveryKey("twelve chars", SCOPE, LIGHT)).privateKey).to.have.length(32);
    expect((await recoveryKey("e\u0301".repeat(12), SCOPE, LIGHT)).privateKey).to.have.length(32);
  });

  it("refuses a malformed scope (BAD_SCOPE) and weak or broken scrypt parameters (BAD_PARAMS)", async () => {
    for (const scope of [
      { ...SCOPE, chainId: 0n },
      { ...SCOPE, chainId: 1n << 256n },
      { ...SCOPE, registry: "0x1234" },
      { ...SCOPE, registry: "0x000000000000000000000000000000000000abCD" },
      { ...SCOPE, walletId: "0x01" },
    ]) {
      await expectCode(() => recoveryKey(PASSPHRASE, scope, LIGHT), "KEYS_BAD_SCOPE");
    }
    for (const params of [
      { ...LIGHT, N: 1000 },
      { ...LIGHT, N: 1 },
      { ...LIGHT, r: 0 },
      { ...LIGHT, p: 0 },
      { ...LIGHT, dkLen: 32 },
      { ...LIGHT, dkLen: 2048 },
    ]) {
      await expectCode(() => recoveryKey(PASSPHRASE, SCOPE, params), "KEYS_BAD_PARAMS");
    }
  });
});
