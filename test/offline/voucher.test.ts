import { expect } from "chai";
import { getAddress, hexlify, Wallet } from "ethers";
import fc from "fast-check";

import { decisionSchema, paymentRequestSchema, voucherOfferSchema } from "../../src/offline/protocol.js";
import {
  authorizationFromJson,
  authorizationToJson,
  hashVoucher,
  OfflineVoucherError,
  recoverAuthorizer,
  recoverPayer,
  signReceiveAuthorization,
  signVoucher,
  tokenDomain,
  vaultDomain,
  voucherFromJson,
  voucherToJson,
  type Voucher,
} from "../../src/offline/voucher.js";

const VAULT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
const uint256 = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n });
const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress(hexlify(b)));
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b));
const voucher: fc.Arbitrary<Voucher> = fc.record({
  payer: address,
  merchant: address,
  amount: uint256,
  lane: uint256,
  sequence: uint256,
  previousVoucherHash: bytes32,
  validAfter: uint256,
  validBefore: uint256,
});

describe("offline: vouchers and protocol messages", function () {
  it("round-trips any voucher and authorization through JSON (property)", function () {
    fc.assert(
      fc.property(voucher, (v) => {
        const json = JSON.parse(JSON.stringify(voucherToJson(v))) as unknown;
        expect(voucherFromJson(json)).to.deep.equal(v);
      }),
    );
    fc.assert(
      fc.property(
        address,
        address,
        uint256,
        uint256,
        uint256,
        bytes32,
        (from, to, value, validAfter, validBefore, nonce) => {
          const auth = { from, to, value, validAfter, validBefore, nonce };
          expect(authorizationFromJson(JSON.parse(JSON.stringify(authorizationToJson(auth))))).to.deep.equal(auth);
        },
      ),
    );
  });

  it("refuses malformed JSON vouchers, naming the field", function () {
    const good = voucherToJson({
      payer: VAULT,
      merchant: VAULT,
      amount: 1n,
      lane: 1n,
      sequence: 1n,
      previousVoucherHash: `0x${"00".repeat(32)}`,
      validAfter: 0n,
      validBefore: 1n,
    });
    for (const [field, bad] of [
      ["amount", { ...good, amount: "-1" }],
      ["amount", { ...good, amount: "01" }],
      ["amount", { ...good, amount: (1n << 256n).toString() }],
      ["payer", { ...good, payer: "0x1234" }],
      ["previousVoucherHash", { ...good, previousVoucherHash: "0x00" }],
      ["voucher", { ...good, extra: 1 }],
    ] as const) {
      expect(() => voucherFromJson(bad), field)
        .to.throw(OfflineVoucherError)
        .with.property("code", "OFFLINE_VOUCHER_MALFORMED");
    }
  });

  it("signs and recovers vouchers and EIP-3009 authorizations; another key does not recover", async function () {
    const payer = Wallet.createRandom();
    const other = Wallet.createRandom();
    const domain = vaultDomain(31337n, VAULT);
    const v: Voucher = {
      payer: payer.address,
      merchant: other.address,
      amount: 10n,
      lane: 2n,
      sequence: 1n,
      previousVoucherHash: `0x${"00".repeat(32)}`,
      validAfter: 0n,
      validBefore: 100n,
    };
    const signature = await signVoucher(payer, domain, v);
    expect(recoverPayer(domain, v, signature)).to.equal(payer.address);
    expect(recoverPayer(vaultDomain(1n, VAULT), v, signature)).to.not.equal(payer.address);
    expect(recoverPayer(domain, { ...v, amount: 11n }, signature)).to.not.equal(payer.address);
    expect(recoverPayer(domain, v, "0x1234")).to.equal(undefined);
    expect(hashVoucher(domain, v)).to.match(/^0x[0-9a-f]{64}$/);
    await signVoucher(other, domain, v).then(
      () => expect.fail("signed for another payer"),
      (error: unknown) => expect(error).to.be.instanceOf(OfflineVoucherError),
    );
    const auth = {
      from: payer.address,
      to: other.address,
      value: 5n,
      validAfter: 0n,
      validBefore: 9n,
      nonce: `0x${"11".repeat(32)}`,
    };
    const tdomain = tokenDomain(31337n, VAULT);
    const authSig = await signReceiveAuthorization(payer, tdomain, auth);
    expect(recoverAuthorizer(tdomain, auth, authSig)).to.equal(payer.address);
    expect(recoverAuthorizer(tdomain, { ...auth, to: payer.address }, authSig)).to.not.equal(payer.address);
  });

  it("the message schemas accept only well-formed messages (property: random JSON never passes)", function () {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(paymentRequestSchema.safeParse(value).success).to.equal(false);
        expect(voucherOfferSchema.safeParse(value).success).to.equal(false);
        expect(decisionSchema.safeParse(value).success).to.equal(false);
      }),
    );
    const refused = { type: "decision", version: 1, requestId: `0x${"ab".repeat(16)}`, outcome: "refused" };
    expect(decisionSchema.safeParse({ ...refused, reason: "expired", message: "late" }).success).to.equal(true);
    expect(decisionSchema.safeParse({ ...refused, reason: "because", message: "late" }).success).to.equal(false);
  });
});
