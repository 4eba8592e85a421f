import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import { AbiCoder, concat, keccak256 } from "ethers";
import fc from "fast-check";

import { MAX_HASH, ZERO_HASH } from "../../src/rewards/evidence.js";
import {
  brokenLink,
  claimProof,
  evidenceLeafProof,
  evidenceLeaves,
  evidenceTree,
  evidenceTreeOfLeaves,
  leafArgument,
  malformedLeaf,
  omissionProof,
  producerRoot,
  producerTree,
  RewardTreeError,
  verifyClaim,
  verifyEvidenceLeaf,
  verifyOmission,
} from "../../src/rewards/trees.js";

const abi = AbiCoder.defaultAbiCoder();
const b32 = (byte: string) => `0x${byte.repeat(32)}`;
const A = b32("11");
const B = b32("22");
const C = b32("33");

/** evidenceRoot of the hashes 0x..01, 0x..02, 0x..03 (count 4), which the contract's known-answer test asserts too. */
const EVIDENCE_KAT_ROOT = "0x1462229d50820d7f9f21675bd2e14996c302fb04ee3d8841575b2c80b6108468";

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
  describe("evidence tree (positional)", function () {
    /** A node of the positional tree: keccak256(left ‖ right), not sorted. */
    const node = (x: string, y: string) => keccak256(concat([x, y]));
    const rootOf = (count: number, treeRoot: string) =>
      keccak256(abi.encode(["uint256", "bytes32"], [count, treeRoot]));

    it("is the single leaf (0, 0xff..ff) for no evidence, bound to its count", function () {
      expect(evidenceLeaves([])).to.deep.equal([[ZERO_HASH, MAX_HASH]]);
      const tree = evidenceTree([]);
      expect(tree.treeRoot).to.equal(evLeaf(ZERO_HASH, MAX_HASH));
      expect(tree.root).to.equal(rootOf(1, evLeaf(ZERO_HASH, MAX_HASH)));
      expect(evidenceLeafProof(tree, 0).proof).to.deep.equal([]);
    });

    it("matches a hand-computed root of four leaves, in list order (known answer)", function () {
      const [h1, h2, h3] = [
        b32("00").slice(0, 64) + "01",
        b32("00").slice(0, 64) + "02",
        b32("00").slice(0, 64) + "03",
      ];
      const tree = evidenceTree([h3!, h1!, h2!]);
      const l = [evLeaf(ZERO_HASH, h1!), evLeaf(h1!, h2!), evLeaf(h2!, h3!), evLeaf(h3!, MAX_HASH)];
      const treeRoot = node(node(l[0]!, l[1]!), node(l[2]!, l[3]!));
      expect(tree.count).to.equal(4);
      expect(tree.treeRoot).to.equal(treeRoot);
      expect(tree.root).to.equal(rootOf(4, treeRoot));
      // The same constant the contract's known-answer test asserts.
      expect(tree.root).to.equal(EVIDENCE_KAT_ROOT);
      // Position matters: the leaf at 2 is proven by (l3, H(l0, l1)), left and right as they stand.
      expect(evidenceLeafProof(tree, 2).proof).to.deep.equal([l[3], node(l[0]!, l[1]!)]);
    });

    it("pads to a power of two with zero leaves", function () {
      const tree = evidenceTree([A, B]);
      const l = [evLeaf(ZERO_HASH, A), evLeaf(A, B), evLeaf(B, MAX_HASH)];
      expect(tree.treeRoot).to.equal(node(node(l[0]!, l[1]!), node(l[2]!, ZERO_HASH)));
    });

    it("refuses the ends as record hashes and no leaves at all", function () {
      for (const bad of [ZERO_HASH, MAX_HASH, "0x1234"]) {
        expectTreeError(() => evidenceTree([A, bad]), "REWARD_BAD_RECORD_HASH");
      }
      expectTreeError(() => omissionProof(evidenceTree([]), ZERO_HASH), "REWARD_BAD_RECORD_HASH");
      expectTreeError(() => evidenceTreeOfLeaves([]), "REWARD_EMPTY_EVIDENCE_TREE");
      expectTreeError(() => evidenceLeafProof(evidenceTree([A]), 2), "REWARD_NO_SUCH_LEAF");
    });

    it("proves every leaf at its position and nothing at another (fast-check)", function () {
      fc.assert(
        fc.property(fc.uniqueArray(hash, { maxLength: 40 }), fc.nat(), (hs, pick) => {
          const tree = evidenceTree(hs);
          expect(evidenceTree([...hs].reverse()).root).to.equal(tree.root);
          const index = pick % tree.count;
          const leaf = evidenceLeafProof(tree, index);
          expect(verifyEvidenceLeaf(tree.root, leaf)).to.equal(true);
          if (tree.count > 1) {
            expect(verifyEvidenceLeaf(tree.root, { ...leaf, index: (index + 1) % tree.count })).to.equal(false);
          }
          expect(verifyEvidenceLeaf(tree.root, { ...leaf, count: tree.count + 1 })).to.equal(false);
          expect(verifyEvidenceLeaf(tree.root, { ...leaf, proof: [...leaf.proof, ZERO_HASH] })).to.equal(false);
          expect(malformedLeaf(tree)).to.equal(undefined);
          expect(brokenLink(tree)).to.equal(undefined);
        }),
      );
    });

    it("proves the omission of any hash not listed, and of none that is (fast-check)", function () {
      fc.assert(
        fc.property(fc.uniqueArray(hash, { minLength: 1, maxLength: 30 }), fc.nat(), (hs, pick) => {
          const listed = hs.slice(1);
          const h = hs[0]!;
          const tree = evidenceTree(listed);
          for (const x of listed) expectTreeError(() => omissionProof(tree, x), "REWARD_HASH_IN_EVIDENCE");
          const leaf = omissionProof(tree, h);
          expect(verifyOmission(tree.root, h, leaf)).to.equal(true);
          for (const x of listed) expect(verifyOmission(tree.root, x, leaf)).to.equal(false);
          expect(verifyOmission(evidenceTree(hs).root, h, leaf)).to.equal(false);
          expect(pick).to.be.a("number");
        }),
      );
    });

    it("refuses a position out of range even where the path bits would fit", function () {
      // count 3 pads to 4 positions: index 4 (or -4) walks the same path as 0 and must still be refused.
      const tree = evidenceTree([A, B]);
      const first = evidenceLeafProof(tree, 0);
      expect(verifyEvidenceLeaf(tree.root, first)).to.equal(true);
      for (const index of [3, 4, -4]) expect(verifyEvidenceLeaf(tree.root, { ...first, index })).to.equal(false);
      expect(verifyEvidenceLeaf(tree.root, { ...first, count: 0 })).to.equal(false);
      // A record hash must be exactly 32 bytes of hex, nothing before or after.
      for (const bad of [`${A}00`, `x${A}`, `1${A.slice(1)}`]) {
        expectTreeError(() => evidenceTree([bad]), "REWARD_BAD_RECORD_HASH");
      }
    });

    it("finds what the contract voids: a duplicate, a wrong end, a cut list", function () {
      const duplicate = evidenceTree([A, B, B]);
      const bad = malformedLeaf(duplicate)!;
      expect([bad.hash, bad.next]).to.deep.equal([B, B]);
      expect(verifyEvidenceLeaf(duplicate.root, bad)).to.equal(true);
      const wrongStart = evidenceTreeOfLeaves([
        [A, B],
        [B, MAX_HASH],
      ]);
      expect(malformedLeaf(wrongStart)!.index).to.equal(0);
      const wrongEnd = evidenceTreeOfLeaves([
        [ZERO_HASH, A],
        [A, B],
      ]);
      expect(malformedLeaf(wrongEnd)!.index).to.equal(1);
      // The cut list of the attack: (0, A), (C, ff) leaves B out with no leaf around it...
      const cut = evidenceTreeOfLeaves([
        [ZERO_HASH, A],
        [C, MAX_HASH],
      ]);
      expectTreeError(() => omissionProof(cut, B), "REWARD_HASH_IN_EVIDENCE");
      expect(malformedLeaf(cut)).to.equal(undefined);
      // ...but its two neighbours do not link, which is provable.
      const [left, right] = brokenLink(cut)!;
      expect([left.index, left.next, right.index, right.hash]).to.deep.equal([0, A, 1, C]);
      expect(verifyEvidenceLeaf(cut.root, left) && verifyEvidenceLeaf(cut.root, right)).to.equal(true);
      expect(leafArgument(left)).to.deep.equal({ count: 2n, index: 0n, hash: ZERO_HASH, next: A, proof: left.proof });
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
