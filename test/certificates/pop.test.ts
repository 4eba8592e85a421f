import { expect } from "chai";
import { Signature, SigningKey, Wallet, type TypedDataDomain } from "ethers";

import type { Clock } from "../../src/chain/clock.js";
import {
  certificateDomain,
  ChallengeStore,
  checkSignedBy,
  parsePublicKey,
  ProofError,
  recoverPublicKey,
  REQUEST_TYPES,
  REVOCATION_TYPES,
} from "../../src/certificates/pop.js";
import { Store } from "../../src/store/store.js";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const RESOLVER = "0x00000000000000000000000000000000000c4e71";

/** The signature's mirror (r, n - s, v flipped): the same key, the same digest, the high-s form. */
function highS(signature: string): string {
  const sig = Signature.from(signature);
  const s = (N - BigInt(sig.s)).toString(16).padStart(64, "0");
  return `${sig.r}${s}${sig.v === 27 ? "1c" : "1b"}`;
}

function refusal(fn: () => unknown): ProofError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(ProofError);
    return error as ProofError;
  }
  expect.fail("expected a ProofError");
}

describe("certificates: proof of possession", function () {
  const alice = Wallet.createRandom();
  const mallory = Wallet.createRandom();
  const domain: TypedDataDomain = certificateDomain(31337n, RESOLVER);
  const key = parsePublicKey(alice.signingKey.publicKey);
  const request = (nonce: string) => ({ nonce, subject: alice.address, publicKeyHash: key.hash });
  const nonce = `0x${"11".repeat(32)}`;

  describe("attacks", function () {
    it("a signature by another key is refused with CERT_WRONG_SIGNER (403)", async function () {
      const signature = await mallory.signTypedData(domain, REQUEST_TYPES, request(nonce));
      const error = refusal(() => checkSignedBy(key, domain, REQUEST_TYPES, request(nonce), signature));
      expect(error.code).to.equal("CERT_WRONG_SIGNER");
      expect(error.status).to.equal(403);
      expect(error.details).to.include({ expected: alice.address, recovered: mallory.address });
    });

    it("the key's signature under another chain id is refused", async function () {
      const other = certificateDomain(1n, RESOLVER);
      const signature = await alice.signTypedData(other, REQUEST_TYPES, request(nonce));
      expect(refusal(() => checkSignedBy(key, domain, REQUEST_TYPES, request(nonce), signature)).code).to.equal(
        "CERT_WRONG_SIGNER",
      );
    });

    it("the key's signature for another issuer's resolver, name or version is refused", async function () {
      for (const other of [
        certificateDomain(31337n, "0x000000000000000000000000000000000000beef"),
        { ...domain, name: "Another Issuer" },
        { ...domain, version: "2" },
      ]) {
        const signature = await alice.signTypedData(other, REQUEST_TYPES, request(nonce));
        expect(refusal(() => checkSignedBy(key, domain, REQUEST_TYPES, request(nonce), signature)).code).to.equal(
          "CERT_WRONG_SIGNER",
        );
      }
    });

    it("a signature over other values (another nonce, subject or key) is refused", async function () {
      const signature = await alice.signTypedData(domain, REQUEST_TYPES, request(nonce));
      for (const value of [
        request(`0x${"22".repeat(32)}`),
        { ...request(nonce), subject: mallory.address },
        { ...request(nonce), publicKeyHash: parsePublicKey(mallory.signingKey.publicKey).hash },
      ]) {
        expect(refusal(() => checkSignedBy(key, domain, REQUEST_TYPES, value, signature)).code).to.equal(
          "CERT_WRONG_SIGNER",
        );
      }
    });

    it("a request signature cannot be used as a revocation, nor the reverse", async function () {
      const uid = `0x${"33".repeat(32)}`;
      const revocation = await alice.signTypedData(domain, REVOCATION_TYPES, { uid: nonce, nonce });
      expect(refusal(() => checkSignedBy(key, domain, REQUEST_TYPES, request(nonce), revocation)).code).to.equal(
        "CERT_WRONG_SIGNER",
      );
      const asked = await alice.signTypedData(domain, REQUEST_TYPES, request(nonce));
      expect(refusal(() => checkSignedBy(key, domain, REVOCATION_TYPES, { uid, nonce }, asked)).code).to.equal(
        "CERT_WRONG_SIGNER",
      );
    });

    it("the high-s mirror of a valid signature is refused with CERT_HIGH_S_SIGNATURE", async function () {
      const signature = await alice.signTypedData(domain, REQUEST_TYPES, request(nonce));
      checkSignedBy(key, domain, REQUEST_TYPES, request(nonce), signature);
      const error = refusal(() => checkSignedBy(key, domain, REQUEST_TYPES, request(nonce), highS(signature)));
      expect(error.code).to.equal("CERT_HIGH_S_SIGNATURE");
      expect(error.status).to.equal(400);
    });

    it("a malformed signature (length, v) is refused with CERT_BAD_SIGNATURE", async function () {
      const signature = await alice.signTypedData(domain, REQUEST_TYPES, request(nonce));
      for (const bad of [signature.slice(0, -2), `${signature.slice(0, -2)}00`, `${signature.slice(0, -2)}1d`, "0x"]) {
        expect(refusal(() => checkSignedBy(key, domain, REQUEST_TYPES, request(nonce), bad)).code).to.equal(
          "CERT_BAD_SIGNATURE",
        );
      }
    });

    it("a malformed public key is refused with CERT_BAD_PUBLIC_KEY: length, prefix, off the curve", function () {
      const good = alice.signingKey.publicKey;
      const offCurve = `0x04${"00".repeat(31)}01${"00".repeat(31)}01`;
      for (const bad of [
        "",
        "0x",
        good.slice(0, -2),
        `0x05${good.slice(4)}`,
        `0x04${alice.signingKey.compressedPublicKey.slice(4)}`,
        offCurve,
        `0x02${"ff".repeat(32)}`,
        alice.address,
        `${good}00`,
      ]) {
        const error = refusal(() => parsePublicKey(bad));
        expect(error.code, bad).to.equal("CERT_BAD_PUBLIC_KEY");
        expect(error.status).to.equal(400);
      }
    });
  });

  describe("each refusal says why, naming the field", function () {
    const G_X = "0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
    const digest = `0x${"42".repeat(32)}`;
    const word = (n: bigint) => n.toString(16).padStart(64, "0");

    it("a key's shape, prefix and curve are told apart, for exactly the 0x-hex of 33 or 65 bytes", function () {
      const good = alice.signingKey.publicKey;
      const compressed = alice.signingKey.compressedPublicKey;
      const cases: [string, RegExp][] = [
        [`zz${good}`, /must be 0x and a 33-byte/],
        [`${good}zz`, /must be 0x and a 33-byte/],
        [`0x05${good.slice(4)}`, /wrong prefix byte/],
        [`0x02${good.slice(4)}`, /wrong prefix byte/],
        [`0x04${compressed.slice(4)}`, /wrong prefix byte/],
        [`0x05${compressed.slice(4)}`, /wrong prefix byte/],
        [`0x02${"ff".repeat(32)}`, /not a point on secp256k1/],
      ];
      for (const [bad, why] of cases) {
        const error = refusal(() => parsePublicKey(bad));
        expect(error.message, bad).to.match(why);
        expect(error.details).to.deep.include({ field: "publicKey", value: bad });
      }
      // Both compressed prefixes are keys: 02 (even y) and 03 (odd y).
      const odd = `0x03${compressed.slice(4)}`;
      const even = `0x02${compressed.slice(4)}`;
      expect(parsePublicKey(odd).address).to.not.equal(parsePublicKey(even).address);
      expect([parsePublicKey(odd).compressed, parsePublicKey(even).compressed]).to.include(compressed);
    });

    it("a signature's shape, v, s and recovery are told apart, naming the signature", async function () {
      const signature = await alice.signTypedData(domain, REQUEST_TYPES, request(nonce));
      const cases: [string, string, RegExp][] = [
        [`zz${signature}`, "CERT_BAD_SIGNATURE", /must be 0x and 65 bytes/],
        [`${signature}zz`, "CERT_BAD_SIGNATURE", /must be 0x and 65 bytes/],
        [`${signature.slice(0, -2)}1d`, "CERT_BAD_SIGNATURE", /v must be 27 or 28, got 29/],
        [highS(signature), "CERT_HIGH_S_SIGNATURE", /high s/],
        [`0x${word(0n)}${word(1n)}1b`, "CERT_BAD_SIGNATURE", /does not recover to any key/],
      ];
      for (const [bad, code, why] of cases) {
        const error = refusal(() => checkSignedBy(key, domain, REQUEST_TYPES, request(nonce), bad));
        expect(error.code, bad).to.equal(code);
        expect(error.message, bad).to.match(why);
        expect(error.details).to.deep.include({ field: "signature" });
      }
    });

    it("s = n/2 is the highest low s (EIP-2): it recovers; n/2 + 1 is refused", function () {
      const half = N / 2n;
      expect(recoverPublicKey(digest, `0x${G_X.slice(2)}${word(half)}1b`)).to.match(/^0x04/);
      const error = refusal(() => recoverPublicKey(digest, `0x${G_X.slice(2)}${word(half + 1n)}1b`));
      expect(error.code).to.equal("CERT_HIGH_S_SIGNATURE");
    });

    it("a revocation is for one certificate: signed for one uid, it does not revoke another", async function () {
      const uid = `0x${"33".repeat(32)}`;
      const other = `0x${"34".repeat(32)}`;
      const revocation = await alice.signTypedData(domain, REVOCATION_TYPES, { uid, nonce });
      checkSignedBy(key, domain, REVOCATION_TYPES, { uid, nonce }, revocation);
      expect(
        refusal(() => checkSignedBy(key, domain, REVOCATION_TYPES, { uid: other, nonce }, revocation)).code,
      ).to.equal("CERT_WRONG_SIGNER");
    });

    it("a challenge's refusals name the nonce; a full store says how many are open", function () {
      const store = Store.open({ path: ":memory:" });
      try {
        let now = 1_000_000;
        const clock: Clock = { now: () => now };
        const challenges = new ChallengeStore({ store, clock, ttlMs: 1_000, maxOpen: 1 });
        const unknown = refusal(() => challenges.consume(`0x${"ab".repeat(32)}`));
        expect(unknown.details).to.deep.equal({ field: "nonce" });
        const { nonce: issued } = challenges.issue();
        expect(refusal(() => challenges.issue()).details).to.deep.equal({ open: 1 });
        challenges.consume(issued);
        expect(refusal(() => challenges.consume(issued)).details).to.deep.equal({ field: "nonce" });
        const { nonce: late } = challenges.issue();
        now += 1_000;
        const expired = refusal(() => challenges.consume(late));
        expect(expired.details).to.deep.equal({ field: "nonce", expiredAt: new Date(now).toISOString() });
      } finally {
        store.close();
      }
    });
  });

  describe("what is accepted", function () {
    it("a compressed and an uncompressed key are the same key, with the EOA address and its hash", function () {
      const compressed = parsePublicKey(alice.signingKey.compressedPublicKey);
      expect(compressed).to.deep.equal(key);
      expect(key.address).to.equal(alice.address);
      expect(`0x${key.hash.slice(-40)}`.toLowerCase()).to.equal(alice.address.toLowerCase());
      expect(SigningKey.computePublicKey(key.uncompressed, true)).to.equal(key.compressed);
    });

    it("the key's own low-s signature over this domain and these values passes", async function () {
      const signature = await alice.signTypedData(domain, REQUEST_TYPES, request(nonce));
      expect(() => checkSignedBy(key, domain, REQUEST_TYPES, request(nonce), signature)).to.not.throw();
    });
  });

  describe("challenges", function () {
    let now = 1_000_000;
    const clock: Clock = { now: () => now };
    let store: Store;
    let challenges: ChallengeStore;

    beforeEach(function () {
      now = 1_000_000;
      store = Store.open({ path: ":memory:" });
      challenges = new ChallengeStore({ store, clock, ttlMs: 300_000, maxOpen: 3 });
    });

    afterEach(function () {
      store.close();
    });

    it("gives 32 random bytes that expire after the ttl", function () {
      const a = challenges.issue();
      const b = challenges.issue();
      expect(a.nonce).to.match(/^0x[0-9a-f]{64}$/);
      expect(a.nonce).to.not.equal(b.nonce);
      expect(a.expiresMs).to.equal(now + 300_000);
    });

    it("attack: a replayed nonce is refused with CERT_CHALLENGE_USED (409)", function () {
      const { nonce: n } = challenges.issue();
      store.transaction(() => challenges.consume(n));
      const error = refusal(() => store.transaction(() => challenges.consume(n)));
      expect(error.code).to.equal("CERT_CHALLENGE_USED");
      expect(error.status).to.equal(409);
    });

    it("attack: an expired nonce is refused with CERT_CHALLENGE_EXPIRED (410)", function () {
      const { nonce: n } = challenges.issue();
      now += 300_000;
      const error = refusal(() => challenges.consume(n));
      expect(error.code).to.equal("CERT_CHALLENGE_EXPIRED");
      expect(error.status).to.equal(410);
    });

    it("attack: a nonce this service never issued (another issuer's) is refused with CERT_UNKNOWN_CHALLENGE", function () {
      const error = refusal(() => challenges.consume(`0x${"ab".repeat(32)}`));
      expect(error.code).to.equal("CERT_UNKNOWN_CHALLENGE");
      expect(error.status).to.equal(400);
    });

    it("a nonce is consumed only with the transaction that uses it: a rollback leaves it usable", function () {
      const { nonce: n } = challenges.issue();
      expect(() =>
        store.transaction(() => {
          challenges.consume(n);
          throw new Error("the record could not be stored");
        }),
      ).to.throw("the record could not be stored");
      store.transaction(() => challenges.consume(n));
    });

    it("attack: a flood of GET /challenge is capped (CERT_TOO_MANY_CHALLENGES, 429); expired ones free room", function () {
      challenges.issue();
      challenges.issue();
      challenges.issue();
      const error = refusal(() => challenges.issue());
      expect(error.code).to.equal("CERT_TOO_MANY_CHALLENGES");
      expect(error.status).to.equal(429);
      now += 300_000;
      expect(challenges.issue().nonce).to.match(/^0x/);
    });
  });
});
