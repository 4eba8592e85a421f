/**
 * The two Merkle trees of a rewards root, both OpenZeppelin `StandardMerkleTree`s
 * (leaf = `keccak256(bytes.concat(keccak256(abi.encode(...))))`, pairs sorted),
 * so `MerkleProof.verify` checks them on chain.
 *
 * The evidence tree is a sorted linked list of record hashes, so that what is
 * *not* in it can be proven. From the hashes sorted ascending, duplicates kept,
 * `h1 <= h2 <= ... <= hn`, its leaves are `(bytes32 hash, bytes32 next)`:
 *
 * ```
 * (0x00..00, h1), (h1, h2), ..., (hn, 0xff..ff)        the empty set: (0x00..00, 0xff..ff)
 * ```
 *
 * - A hash `h` was left out when a leaf `(a, b)` has `a < h < b`.
 * - A hash was listed twice when a leaf `(a, a)` exists.
 *
 * An honest oracle lists each hash once; a duplicate is kept here (not
 * silently merged) so that the tree of a bad list is the tree the contract
 * will be shown.
 *
 * The producer tree has leaves `(bytes32 producerId, uint256 cumulative)`: what
 * each producer has earned in the campaign so far. A producer with nothing yet
 * has no leaf; no leaf at all is root `bytes32(0)`.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";

import { BankChainError } from "../errors.js";
import { MAX_HASH, ZERO_HASH } from "./evidence.js";

/** A tree was asked for what it cannot show. */
export class RewardTreeError extends BankChainError {}

/** The evidence tree's leaf encoding. */
export const EVIDENCE_LEAF_ENCODING = ["bytes32", "bytes32"] as const;
/** The producer tree's leaf encoding. */
export const PRODUCER_LEAF_ENCODING = ["bytes32", "uint256"] as const;

export type EvidenceLeaf = [hash: string, next: string];
export type ProducerLeaf = [producerId: string, cumulative: string];
export type EvidenceTree = StandardMerkleTree<EvidenceLeaf>;
export type ProducerTree = StandardMerkleTree<ProducerLeaf>;

const BYTES32 = /^0x[0-9a-f]{64}$/;

function checkRecordHash(hash: string): string {
  const lower = hash.toLowerCase();
  if (!BYTES32.test(lower) || lower === ZERO_HASH || lower === MAX_HASH) {
    throw new RewardTreeError(
      "REWARD_BAD_RECORD_HASH",
      `record hash ${hash} must be 32 bytes of hex and neither 0x00..00 nor 0xff..ff (the list's ends)`,
      { hash },
    );
  }
  return lower;
}

/** The evidence list's leaves, in list order: `(0, h1), (h1, h2), ..., (hn, 0xff..ff)`. */
export function evidenceLeaves(hashes: readonly string[]): EvidenceLeaf[] {
  const sorted = hashes.map(checkRecordHash).sort();
  const links = [ZERO_HASH, ...sorted, MAX_HASH];
  return sorted.concat([MAX_HASH]).map((next, i) => [links[i]!, next]);
}

/** The evidence tree of a set of record hashes (duplicates kept as `(h, h)` leaves). */
export function evidenceTree(hashes: readonly string[]): EvidenceTree {
  return StandardMerkleTree.of(evidenceLeaves(hashes), [...EVIDENCE_LEAF_ENCODING]);
}

/** A leaf of a tree and the proof of it against the tree's root. */
export interface LeafProof<T> {
  readonly leaf: T;
  readonly proof: string[];
  readonly root: string;
}

function findLeaf<T extends unknown[]>(
  tree: StandardMerkleTree<T>,
  match: (leaf: T) => boolean,
): LeafProof<T> | undefined {
  for (const [index, leaf] of tree.entries()) {
    if (match(leaf)) return { leaf, proof: tree.getProof(index), root: tree.root };
  }
  return undefined;
}

/**
 * The leaf `(a, b)` with `a < hash < b` and its proof: what `challengeOmission`
 * takes to show that `hash` is not in the evidence.
 * @throws RewardTreeError `REWARD_HASH_IN_EVIDENCE` when `hash` is listed; `REWARD_BAD_RECORD_HASH`.
 */
export function omissionProof(tree: EvidenceTree, hash: string): LeafProof<EvidenceLeaf> {
  const h = checkRecordHash(hash);
  const found = findLeaf(tree, ([a, b]) => a < h && h < b);
  if (found === undefined) {
    throw new RewardTreeError("REWARD_HASH_IN_EVIDENCE", `record ${hash} is in the evidence: no omission to prove`, {
      hash,
    });
  }
  return found;
}

/**
 * The leaf `(hash, hash)` and its proof: what `challengeDuplicate` takes to
 * show that `hash` is listed twice.
 * @throws RewardTreeError `REWARD_NOT_DUPLICATED` when `hash` is not listed twice.
 */
export function duplicateProof(tree: EvidenceTree, hash: string): LeafProof<EvidenceLeaf> {
  const h = hash.toLowerCase();
  const found = findLeaf(tree, ([a, b]) => a === h && b === h);
  if (found === undefined) {
    throw new RewardTreeError("REWARD_NOT_DUPLICATED", `record ${hash} is not listed twice in the evidence`, { hash });
  }
  return found;
}

/** Whether `leaf` and `proof` show that `hash` is not in the evidence of `evidenceRoot` (the contract's check). */
export function verifyOmission(evidenceRoot: string, hash: string, leaf: EvidenceLeaf, proof: string[]): boolean {
  const [a, b] = leaf;
  return (
    BigInt(a) < BigInt(hash) &&
    BigInt(hash) < BigInt(b) &&
    StandardMerkleTree.verify(evidenceRoot, [...EVIDENCE_LEAF_ENCODING], leaf, proof)
  );
}

/**
 * The producer tree of the cumulative amounts (`producerId` → amount),
 * leaves sorted by producer id; producers at 0 get no leaf. `null` when no
 * producer has anything: the root is then `bytes32(0)` (`producerRoot`).
 * @throws RewardTreeError `REWARD_NEGATIVE_AMOUNT`.
 */
export function producerTree(cumulatives: ReadonlyMap<string, bigint>): ProducerTree | null {
  for (const [producerId, amount] of cumulatives) {
    if (amount < 0n) {
      throw new RewardTreeError("REWARD_NEGATIVE_AMOUNT", `producer ${producerId}'s cumulative ${amount} is negative`, {
        producerId,
        amount: amount.toString(),
      });
    }
  }
  const leaves: ProducerLeaf[] = [...cumulatives]
    .filter(([, amount]) => amount > 0n)
    .map(([producerId, amount]): ProducerLeaf => [producerId.toLowerCase(), amount.toString()])
    .sort(([a], [b]) => (a < b ? -1 : 1));
  if (leaves.length === 0) return null;
  return StandardMerkleTree.of(leaves, [...PRODUCER_LEAF_ENCODING]);
}

/** A producer tree's root; `bytes32(0)` for none. */
export function producerRoot(tree: ProducerTree | null): string {
  return tree === null ? ZERO_HASH : tree.root;
}

/** A producer's claim against a producer root. */
export interface ClaimProof {
  readonly producerId: string;
  readonly cumulative: bigint;
  readonly proof: string[];
  readonly root: string;
}

/**
 * What `claim(campaignId, producerId, cumulative, proof)` takes.
 * @throws RewardTreeError `REWARD_NO_CLAIM` when the producer has no leaf.
 */
export function claimProof(tree: ProducerTree | null, producerId: string): ClaimProof {
  const id = producerId.toLowerCase();
  const found = tree === null ? undefined : findLeaf(tree, ([leafId]) => leafId === id);
  if (found === undefined) {
    throw new RewardTreeError("REWARD_NO_CLAIM", `producer ${producerId} has nothing in this root`, { producerId });
  }
  return { producerId: id, cumulative: BigInt(found.leaf[1]), proof: found.proof, root: found.root };
}

/** Whether `(producerId, cumulative)` and `proof` are in the producer tree of `root`. */
export function verifyClaim(root: string, producerId: string, cumulative: bigint, proof: string[]): boolean {
  return StandardMerkleTree.verify(root, [...PRODUCER_LEAF_ENCODING], [producerId, cumulative.toString()], proof);
}
