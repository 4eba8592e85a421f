import { expect } from "chai";
import { AbiCoder, keccak256, toUtf8Bytes } from "ethers";
import fc from "fast-check";

import { parsePaymentRequest, RequestInvalidError } from "../../src/settlement/api.js";
import { Store } from "../../src/store/store.js";
import { PaymentStore, paymentStatus } from "../../src/settlement/payments.js";
import {
  accountRefOf,
  endToEndIdOf,
  SettlementEncodingError,
  sameTerms,
  settlementIdOf,
  termsDigest,
} from "../../src/settlement/terms.js";

const E2E_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.,:()'+-".split("");
const endToEndId = fc.array(fc.constantFrom(...E2E_CHARS), { minLength: 1, maxLength: 32 }).map((c) => c.join(""));
const ACCOUNT_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789._-".split("");
const accountId = fc
  .tuple(fc.constantFrom(..."abc0123".split("")), fc.array(fc.constantFrom(...ACCOUNT_CHARS), { maxLength: 20 }))
  .map(([first, rest]) => first + rest.join(""));

describe("settlement: encodings and request validation", function () {
  it("an end-to-end id round-trips through its settlement id", function () {
    fc.assert(
      fc.property(endToEndId, (id) => {
        const settlementId = settlementIdOf(id);
        expect(settlementId).to.match(/^0x[0-9a-f]{64}$/);
        expect(endToEndIdOf(settlementId)).to.equal(id);
      }),
    );
    expect(endToEndIdOf(keccak256(toUtf8Bytes("opaque")))).to.equal(undefined);
    for (const bad of ["", "x".repeat(33), "with space", "a/b", "é"]) {
      expect(() => settlementIdOf(bad)).to.throw(SettlementEncodingError);
    }
  });

  it("the terms digest is keccak256(abi.encode(terms)) with the low 48 bits cleared", function () {
    fc.assert(
      fc.property(
        endToEndId,
        accountId,
        fc.bigInt(1n, 2n ** 64n - 1n),
        fc.nat(2 ** 40 - 1),
        (id, account, amount, deadline) => {
          const terms = {
            id: settlementIdOf(id),
            debtorBank: "0x00000000000000000000000000000000000000A1",
            creditorBank: "0x00000000000000000000000000000000000000b2",
            amount,
            creditorAccountRef: accountRefOf(account),
            deadline,
          };
          const full = BigInt(
            keccak256(
              AbiCoder.defaultAbiCoder().encode(
                ["tuple(bytes32,address,address,uint256,bytes32,uint40)"],
                [[terms.id, terms.debtorBank, terms.creditorBank, amount, terms.creditorAccountRef, deadline]],
              ),
            ),
          );
          const digest = BigInt(termsDigest(terms));
          expect(digest & ((1n << 48n) - 1n)).to.equal(0n);
          expect(digest >> 48n).to.equal(full >> 48n);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("sameTerms says what equal digests say: any field changed is other terms, letter case is not", function () {
    const base = {
      id: settlementIdOf("SAME-1"),
      debtorBank: "0x00000000000000000000000000000000000000A1",
      creditorBank: "0x00000000000000000000000000000000000000b2",
      amount: 12_345n,
      creditorAccountRef: accountRefOf("bob"),
      deadline: 1_800_000_000,
    };
    const cased = {
      ...base,
      id: base.id.toUpperCase().replace("0X", "0x"),
      debtorBank: base.debtorBank.toLowerCase(),
      creditorBank: base.creditorBank.toUpperCase().replace("0X", "0x"),
      creditorAccountRef: base.creditorAccountRef.toUpperCase().replace("0X", "0x"),
    };
    expect(sameTerms(base, cased)).to.equal(true);
    expect(termsDigest(base)).to.equal(termsDigest(cased));
    const changed = [
      { id: settlementIdOf("SAME-2") },
      { debtorBank: "0x00000000000000000000000000000000000000A2" },
      { creditorBank: "0x00000000000000000000000000000000000000b3" },
      { amount: 12_346n },
      { creditorAccountRef: accountRefOf("dora") },
      { deadline: 1_800_000_001 },
    ];
    for (const change of changed) {
      const other = { ...base, ...change };
      expect(sameTerms(base, other), Object.keys(change)[0]).to.equal(false);
      expect(termsDigest(base), Object.keys(change)[0]).to.not.equal(termsDigest(other));
    }
  });

  it("parses any well-formed payment request, amount as digits or a safe integer, to bigint", function () {
    fc.assert(
      fc.property(
        accountId,
        accountId,
        endToEndId,
        fc.bigInt(0n, 10n ** 30n),
        fc.boolean(),
        (debtor, creditor, id, amount, asNumber) => {
          const number = asNumber && amount <= BigInt(Number.MAX_SAFE_INTEGER);
          const request = parsePaymentRequest({
            debtorAccount: debtor,
            creditorBank: "B",
            creditorAccount: creditor,
            amount: number ? Number(amount) : amount.toString(),
            currency: "USD",
            endToEndId: id,
          });
          expect(request).to.deep.equal({
            debtorAccount: debtor,
            creditorBank: "B",
            creditorAccount: creditor,
            amount,
            currency: "USD",
            endToEndId: id,
          });
        },
      ),
    );
  });

  it("names the field of a malformed request", function () {
    const good = {
      debtorAccount: "alice",
      creditorBank: "B",
      creditorAccount: "bob",
      amount: "1",
      currency: "USD",
      endToEndId: "E2E",
    };
    const fieldOf = (body: unknown): string | undefined => {
      try {
        parsePaymentRequest(body);
      } catch (error) {
        expect(error).to.be.instanceOf(RequestInvalidError);
        return (error as RequestInvalidError).field ?? "(body)";
      }
      return undefined;
    };
    expect(fieldOf(good)).to.equal(undefined);
    expect(fieldOf({ ...good, amount: 1.5 })).to.equal("amount");
    expect(fieldOf({ ...good, amount: 2 ** 60 })).to.equal("amount");
    expect(fieldOf({ ...good, amount: "1e3" })).to.equal("amount");
    expect(fieldOf({ ...good, currency: "usd" })).to.equal("currency");
    expect(fieldOf({ ...good, debtorAccount: "" })).to.equal("debtorAccount");
    expect(fieldOf({ ...good, creditorAccount: "bob:1" })).to.equal("creditorAccount");
    expect(fieldOf({ ...good, endToEndId: undefined })).to.equal("endToEndId");
    expect(fieldOf({ ...good, extra: 1 })).to.equal("extra");
    expect(fieldOf("a string")).to.equal("(body)");
    expect(fieldOf(null)).to.equal("(body)");
  });
});

describe("settlement: payment store", function () {
  const clock = { now: () => 1_000 };
  const terms = (id: string) => ({
    id: settlementIdOf(id),
    debtorBank: "0x00000000000000000000000000000000000000A1",
    creditorBank: "0x00000000000000000000000000000000000000B2",
    amount: 5n,
    creditorAccountRef: accountRefOf("bob"),
    deadline: 2_000,
  });
  const record = (id: string) => ({
    direction: "outbound" as const,
    id,
    terms: terms(id),
    debtorBank: { id: "A", address: terms(id).debtorBank },
    creditorBank: { id: "B", address: terms(id).creditorBank },
    debtorAccount: "alice",
    creditorAccount: "bob",
    currency: "USD",
    debtorLeg: "Debited" as const,
    creditorLeg: "Pending" as const,
    note: "accepted",
  });

  it("derives the payment's status from its two legs", function () {
    expect(paymentStatus("Debited", "Pending")).to.equal("Accepted");
    expect(paymentStatus("Initiated", "Delivered")).to.equal("Delivered");
    expect(paymentStatus("Initiated", "Smelted")).to.equal("Smelted");
    expect(paymentStatus("Acknowledged", "Smelted")).to.equal("Acknowledged");
    expect(paymentStatus("Initiated", "Rejected")).to.equal("Rejected");
    expect(paymentStatus("Returned", "Rejected")).to.equal("Returned");
    expect(paymentStatus("Initiated", "Expired")).to.equal("Expired");
    expect(paymentStatus("Refunded", "Reversed")).to.equal("Refunded");
    expect(paymentStatus("Failed", "Pending")).to.equal("Failed");
  });

  it("refuses a second payment with the same id, keeps one outbox row per step, voids what a closed payment owed", function () {
    const payments = new PaymentStore(Store.open({ path: ":memory:" }), clock);
    payments.insert(record("P-1"));
    expect(() => payments.insert(record("P-1"))).to.throw(/already exists/);
    expect(payments.enqueue("outbound", "P-1", "initiate")).to.equal(true);
    expect(payments.enqueue("outbound", "P-1", "initiate")).to.equal(false);
    const [row] = payments.pending();
    expect(row).to.include({ paymentId: "P-1", step: "initiate", attempts: 0, txHash: null });
    payments.retryLater(row!.rowId, "network down", 500);
    expect(payments.pending()).to.deep.equal([]);
    payments.enqueue("outbound", "P-1", "refund");
    payments.update("outbound", "P-1", { debtorLeg: "Failed", reason: "refused", note: "failed" });
    expect(payments.outboxOf("outbound", "P-1").map((r) => r.status)).to.deep.equal(["void", "void"]);
    const closed = payments.get("outbound", "P-1")!;
    expect(closed).to.deep.include({ status: "Failed", reason: "refused", finishedMs: 1_000 });
    expect(closed.history.map((h) => h.what)).to.deep.equal(["accepted", "failed"]);
    expect(closed.terms).to.deep.equal({ ...terms("P-1"), creditorAccountRef: terms("P-1").creditorAccountRef });
  });
});
