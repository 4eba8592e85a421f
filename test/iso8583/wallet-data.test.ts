import { expect } from "chai";
import fc from "fast-check";

import {
  encodeWalletData,
  parseWalletData,
  WALLET_DATA_ELEMENTS,
  WalletDataError,
} from "../../src/iso8583/wallet-data.js";

const LOWER = "0x52908400098527886e0f7030069857d2e4169ee7";
const CHECKSUMMED = "0x52908400098527886E0F7030069857D2E4169EE7";
const MAX_UINT256 = (1n << 256n) - 1n;

const sub = (tag: string, value: string): string => `${tag}${String(value.length).padStart(3, "0")}${value}`;

function walletError(value: string): WalletDataError {
  try {
    parseWalletData(value);
  } catch (error) {
    if (error instanceof WalletDataError) return error;
    throw error;
  }
  expect.fail(`parsed without error: ${value}`);
}

function expectError(error: WalletDataError, category: string, offset: number): void {
  expect({ category: error.category, offset: error.offset }).to.deep.equal({ category, offset });
  expect(error.code).to.equal(`ISO8583_${category.toUpperCase()}`);
}

describe("iso8583: wallet data", function () {
  it("lists the private-use elements a deployment may configure", function () {
    expect(WALLET_DATA_ELEMENTS).to.deep.equal([48, 60, 61, 62, 63, 120, 121, 122, 123, 124, 125, 126, 127]);
  });

  it("parses address and amount; the address checksummed, the key lowercase", function () {
    expect(parseWalletData(sub("01", LOWER) + sub("02", "1500"))).to.deep.equal({
      address: CHECKSUMMED,
      addressKey: LOWER,
      amount: 1500n,
    });
  });

  it("accepts lowercase, uppercase and EIP-55 addresses; refuses a bad checksum", function () {
    const upper = `0x${LOWER.slice(2).toUpperCase()}`;
    for (const address of [LOWER, upper, CHECKSUMMED]) {
      expect(parseWalletData(sub("01", address) + sub("02", "1")).address).to.equal(CHECKSUMMED);
    }
    const wrong = CHECKSUMMED.replace("E", "e");
    expectError(walletError(sub("01", wrong) + sub("02", "1")), "pd_bad_checksum", 5);
  });

  it("reads the optional asset and chain id, in any order, and ignores unknown tags", function () {
    const value = sub("99", "whatever") + sub("04", "31337") + sub("02", "7") + sub("03", "EUR-B.1") + sub("01", LOWER);
    expect(parseWalletData(value)).to.deep.equal({
      address: CHECKSUMMED,
      addressKey: LOWER,
      amount: 7n,
      asset: "EUR-B.1",
      chainId: 31337n,
    });
  });

  it("takes amounts from 1 to 2^256-1 (78 digits, leading zeros allowed)", function () {
    const max = MAX_UINT256.toString();
    expect(max).to.have.length(78);
    expect(parseWalletData(sub("01", LOWER) + sub("02", max)).amount).to.equal(MAX_UINT256);
    expect(parseWalletData(sub("01", LOWER) + sub("02", "0".repeat(77) + "1")).amount).to.equal(1n);
    const head = sub("01", LOWER);
    const at = head.length + 5;
    expectError(walletError(head + sub("02", (MAX_UINT256 + 1n).toString())), "pd_bad_amount", at);
    expectError(walletError(head + sub("02", "9".repeat(78))), "pd_bad_amount", at);
    expectError(walletError(head + sub("02", "1".repeat(79))), "pd_bad_amount", at);
    expectError(walletError(head + sub("02", "0")), "pd_bad_amount", at);
    expectError(walletError(head + sub("02", "")), "pd_bad_amount", at);
    expectError(walletError(head + sub("02", "12.5")), "pd_bad_amount", at);
  });

  it("reports each error category at its offset", function () {
    const address = sub("01", LOWER);
    const amount = sub("02", "10");
    expectError(walletError(`${address}02`), "pd_malformed", 47);
    expectError(walletError(`${address}02x10`), "pd_malformed", 47);
    expectError(walletError(`${address}0200510`), "pd_malformed", 47);
    expectError(walletError(address + amount + sub("02", "11")), "pd_duplicate_tag", 54);
    expectError(walletError(address + sub("77", "x") + sub("77", "y")), "pd_duplicate_tag", 53);
    expectError(walletError(amount), "pd_missing_address", 7);
    expectError(walletError(""), "pd_missing_address", 0);
    expectError(walletError(address), "pd_missing_amount", 47);
    expectError(walletError(amount + sub("01", "0x1234")), "pd_bad_address", 12);
    expectError(walletError(sub("01", `0X${LOWER.slice(2)}`) + amount), "pd_bad_address", 5);
    expectError(walletError(sub("01", `${LOWER.slice(0, -1)}g`) + amount), "pd_bad_address", 5);
    expectError(walletError(address + amount + sub("03", "eur")), "pd_bad_asset", 59);
    expectError(walletError(address + amount + sub("03", "A".repeat(13))), "pd_bad_asset", 59);
    expectError(walletError(address + amount + sub("03", "")), "pd_bad_asset", 59);
    expectError(walletError(address + amount + sub("04", "0")), "pd_bad_chain", 59);
    expectError(walletError(address + amount + sub("04", "1".repeat(21))), "pd_bad_chain", 59);
    expectError(walletError(address + amount + sub("04", "0x1")), "pd_bad_chain", 59);
  });

  it("encodes what it parses", function () {
    const value = encodeWalletData({ address: LOWER, amount: 25n, asset: "EURB", chainId: 1n });
    expect(value).to.equal(sub("01", CHECKSUMMED) + sub("02", "25") + sub("03", "EURB") + sub("04", "1"));
    expect(() => encodeWalletData({ address: LOWER, amount: 0n })).to.throw(WalletDataError, /amount/);
    expect(() => encodeWalletData({ address: "0x12", amount: 1n })).to.throw(WalletDataError, /address/);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.bigInt({ min: 1n, max: MAX_UINT256 }),
        fc.option(fc.stringMatching(/^[A-Z0-9.-]{1,12}$/), { nil: undefined }),
        fc.option(fc.bigInt({ min: 1n, max: 10n ** 20n - 1n }), { nil: undefined }),
        (bytes, amount, asset, chainId) => {
          const address = `0x${Buffer.from(bytes).toString("hex")}`;
          const parsed = parseWalletData(
            encodeWalletData({
              address,
              amount,
              ...(asset === undefined ? {} : { asset }),
              ...(chainId === undefined ? {} : { chainId }),
            }),
          );
          expect(parsed.addressKey).to.equal(address);
          expect(parsed.amount).to.equal(amount);
          expect(parsed.asset).to.equal(asset);
          expect(parsed.chainId).to.equal(chainId);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("throws nothing but WalletDataError on arbitrary text", function () {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (text) => {
        try {
          parseWalletData(text);
        } catch (error) {
          if (!(error instanceof WalletDataError)) throw error;
        }
      }),
      { numRuns: 1000 },
    );
  });
});
