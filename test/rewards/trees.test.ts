import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import { AbiCoder, concat, keccak256 } from "ethers";
import fc from "fast-check";

import { MAX_HASH, ZERO_HASH } from "../../src/rewards/evidence.js";
import {
  claimProof,
  duplicateProof,
  EVIDENCE_LEAF_ENCODING,
  evidenceLeaves,
  evidenceTree,
  omissionProof,
  producerRoot,
  producerTree,
  RewardTreeError,
  verifyClaim,
  verifyOmission,
} from "../../src/rewards/trees.js";

const abi = AbiCoder.defaultAbiCoder();
const b32 = (byte: string) => `0x${byte.repeat(32)}`;
const A = b32("11");
const B = b32("22");
const C = b32("33");

/** OpenZeppelin's standard leaf, by hand: keccak256(bytes.concat(keccak256(abi.encode(...)))). */
const leafOf = (types: string[], values: unknown[]) => keccak256(keccak256(abi.encode(types, values)));
/** A node: keccak256 of the sorted pair. */
const pair = (x: string, y: string) => keccak256(BigInt(x) < BigInt(y) ? concat([x, y]) : concat([y, x]));
const evLeaf = (a: string, b: string) => leafOf(["bytes32", "bytes32"], [a, b]);

/** A random record hash (never 0x00..00 or 0xff..ff). */
const hash = fc.bigInt({ min: 1n, max: (1n << 256n) - 2n }).map((n) => `0x${n.toString(16).padStart(64, "0")}`);

function expectTreeError(f: () => unknown, code: string): void {
  expect(f).to.throw(RewardTreeError).with.property("code", code);
}

describe("rewards trees", function () {
  describe("evidence tree", function () {
    it("is the single leaf (0, 0xff..ff) for no evidence", function () {
      expect(evidenceLeaves([])).to.deep.equal([[ZERO_HASH, MAX_HASH]]);
      expect(evidenceTree([]).root).to.equal(evLeaf(ZERO_HASH, MAX_HASH));
    });

    it("links one hash between the ends", function () {
      expect(evidenceLeaves([A])).to.deep.equal([
        [ZERO_HASH, A],
        [A, MAX_HASH],
      ]);
      expect(evidenceTree([A]).root).to.equal(pair(evLeaf(ZERO_HASH, A), evLeaf(A, MAX_HASH)));
    });

    it("matches a hand-computed root of three leaves", function () {
      const leaves = [evLeaf(ZERO_HASH, B), evLeaf(B, C), evLeaf(C, MAX_HASH)].sort((x, y) =>
        BigInt(x) < BigInt(y) ? -1 : 1,
      );
      // OpenZeppelin's layout for three sorted leaves L0 < L1 < L2: root = H(H(L0, L1), L2).
      const root = pair(pair(leaves[0]!, leaves[1]!), leaves[2]!);
      expect(evidenceTree([C, B.toUpperCase().replace("0X", "0x")]).root).to.equal(root);
    });

    it("sorts, lower-cases and keeps duplicates as (h, h) leaves", function () {
      expect(evidenceLeaves([C, A, C.toUpperCase().replace("0X", "0x")])).to.deep.equal([
        [ZERO_HASH, A],
        [A, C],
        [C, C],
        [C, MAX_HASH],
      ]);
    });

    it("refuses the list's ends and malformed hashes", function () {
      for (const bad of [ZERO_HASH, MAX_HASH, "0x1234", `${A}00`, `zz${A}`, `0x${"g".repeat(64)}`]) {
        expect(() => evidenceTree([A, bad]))
          .to.throw(RewardTreeError)
          .with.property("details")
          .that.deep.equals({ hash: bad });
      }
      expectTreeError(() => omissionProof(evidenceTree([]), ZERO_HASH), "REWARD_BAD_RECORD_HASH");
    });

    it("has one root for the same hashes in any order", function () {
      fc.assert(
        fc.property(
          fc
            .array(hash, { maxLength: 20 })
            .chain((hs) =>
              fc.tuple(fc.constant(hs), fc.shuffledSubarray(hs, { minLength: hs.length, maxLength: hs.length })),
            ),
          ([hs, shuffled]) => {
            expect(evidenceTree(shuffled).root).to.equal(evidenceTree(hs).root);
          },
        ),
      );
    });

    it("proves the omission of any hash not listed, and of none listed", function () {
      fc.assert(
        fc.property(fc.uniqueArray(hash, { maxLength: 12 }), hash, (listed, h) => {
          const tree = evidenceTree(listed);
          if (listed.includes(h)) {
            expectTreeError(() => omissionProof(tree, h), "REWARD_HASH_IN_EVIDENCE");
            return;
          }
          const { leaf, proof, root } = omissionProof(tree, h);
          expect(root).to.equal(tree.root);
          expect(BigInt(leaf[0]) < BigInt(h) && BigInt(h) < BigInt(leaf[1])).to.equal(true);
          expect(verifyOmission(tree.root, h, leaf, proof)).to.equal(true);
          expect(StandardMerkleTree.verify(tree.root, [...EVIDENCE_LEAF_ENCODING], leaf, proof)).to.equal(true);
          for (const x of listed) expect(verifyOmission(tree.root, x, leaf, proof)).to.equal(false);
        }),
      );
    });

    it("finds the bracketing leaf of a hand-made list", function () {
      const tree = evidenceTree([A, C]);
      expect(omissionProof(tree, B).leaf).to.deep.equal([A, C]);
      expect(omissionProof(tree, b32("01")).leaf).to.deep.equal([ZERO_HASH, A]);
      expect(omissionProof(tree, b32("fe")).leaf).to.deep.equal([C, MAX_HASH]);
      expectTreeError(() => omissionProof(tree, A), "REWARD_HASH_IN_EVIDENCE");
      expectTreeError(() => omissionProof(tree, C), "REWARD_HASH_IN_EVIDENCE");
      expect(() => omissionProof(tree, C))
        .to.throw(RewardTreeError)
        .with.property("details")
        .that.deep.equals({ hash: C });
    });

    it("does not verify an omission at a leaf's ends, under another root or with another leaf", function () {
      const tree = evidenceTree([A, C]);
      const { leaf, proof } = omissionProof(tree, B);
      expect(verifyOmission(tree.root, B, leaf, proof)).to.equal(true);
      expect(verifyOmission(tree.root, A, leaf, proof)).to.equal(false);
      expect(verifyOmission(tree.root, C, leaf, proof)).to.equal(false);
      expect(verifyOmission(evidenceTree([A]).root, B, leaf, proof)).to.equal(false);
      expect(verifyOmission(tree.root, B, [A, b32("44")], proof)).to.equal(false);
      expect(verifyOmission(tree.root, B.toUpperCase().replace("0X", "0x"), leaf, proof)).to.equal(true);
    });

    it("proves a duplicate, and refuses when there is none", function () {
      const tree = evidenceTree([A, B, B]);
      const { leaf, proof, root } = duplicateProof(tree, B.toUpperCase().replace("0X", "0x"));
      expect(leaf).to.deep.equal([B, B]);
      expect(root).to.equal(tree.root);
      expect(StandardMerkleTree.verify(tree.root, [...EVIDENCE_LEAF_ENCODING], leaf, proof)).to.equal(true);
      expectTreeError(() => duplicateProof(tree, A), "REWARD_NOT_DUPLICATED");
      expect(() => duplicateProof(tree, A))
        .to.throw(RewardTreeError)
        .with.property("details")
        .that.deep.equals({ hash: A });
      expectTreeError(() => duplicateProof(evidenceTree([A, B]), B), "REWARD_NOT_DUPLICATED");
      // (A, B) has A on the left but not on the right: not a duplicate of A.
      expectTreeError(() => duplicateProof(evidenceTree([A, B]), A), "REWARD_NOT_DUPLICATED");
    });
  });

  describe("producer tree", function () {
    const prLeaf = (id: string, amount: bigint) => leafOf(["bytes32", "uint256"], [id, amount]);

    it("is null with root 0 when no producer has anything", function () {
      expect(producerTree(new Map())).to.equal(null);
      expect(producerTree(new Map([[A, 0n]]))).to.equal(null);
      expect(producerRoot(null)).to.equal(ZERO_HASH);
      expectTreeError(() => claimProof(null, A), "REWARD_NO_CLAIM");
    });

    it("matches a hand-computed root, without the producers at 0", function () {
      const tree = producerTree(
        new Map([
          [B.toUpperCase().replace("0X", "0x"), 5n],
          [C, 0n],
          [A, 10n ** 30n],
        ]),
      );
      const root = pair(prLeaf(A, 10n ** 30n), prLeaf(B, 5n));
      expect(producerRoot(tree)).to.equal(root);
      expect([...tree!.entries()].map(([, leaf]) => leaf)).to.deep.equal([
        [A, (10n ** 30n).toString()],
        [B, "5"],
      ]);
      expect(producerTree(new Map([[A, 1n]]))!.root).to.equal(prLeaf(A, 1n));
    });

    it("gives each producer a proof of its cumulative", function () {
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.tuple(hash, fc.bigInt({ min: 1n, max: (1n << 256n) - 1n })), {
            minLength: 1,
            maxLength: 10,
            selector: ([id]) => id,
          }),
          (entries) => {
            const tree = producerTree(new Map(entries));
            for (const [id, amount] of entries) {
              const claim = claimProof(tree, id);
              expect(claim).to.deep.include({ producerId: id, cumulative: amount, root: tree!.root });
              expect(verifyClaim(tree!.root, id, amount, claim.proof)).to.equal(true);
              expect(verifyClaim(tree!.root, id, amount - 1n, claim.proof)).to.equal(false);
              expect(verifyClaim(tree!.root, id.toUpperCase().replace("0X", "0x"), amount, claim.proof)).to.equal(true);
            }
            const ids = [...tree!.entries()].map(([, [id]]) => id);
            expect(ids).to.deep.equal([...ids].sort());
          },
        ),
      );
    });

    it("refuses a negative amount and a claim of a producer without a leaf", function () {
      expectTreeError(() => producerTree(new Map([[A, -1n]])), "REWARD_NEGATIVE_AMOUNT");
      expect(() => producerTree(new Map([[A, -1n]])))
        .to.throw(RewardTreeError)
        .with.property("details")
        .that.deep.equals({ producerId: A, amount: "-1" });
      const tree = producerTree(new Map([[A, 1n]]));
      expectTreeError(() => claimProof(tree, B), "REWARD_NO_CLAIM");
      expect(() => claimProof(tree, B))
        .to.throw(RewardTreeError)
        .with.property("details")
        .that.deep.equals({ producerId: B });
      expect(claimProof(tree, A.toUpperCase().replace("0X", "0x")).producerId).to.equal(A);
    });
  });
});
