/**
 * The two Merkle trees of a rewards root.
 *
 * The **evidence tree** is a sorted linked list of record hashes in a *positional* tree, so that what is not in
 * it can be proven, and so can a list that was cut. From the hashes sorted ascending (an honest list has each
 * once), `h1 <= ... <= hn`, its leaves in order, at positions `0 .. count - 1` (`count = n + 1`), are
 *
 * ```
 * (0x00..00, h1), (h1, h2), ..., (hn, 0xff..ff)        the empty set: (0x00..00, 0xff..ff)
 * ```
 *
 * leaf = `keccak256(bytes.concat(keccak256(abi.encode(hash, next))))` (OpenZeppelin's double hash), the positions
 * up to the next power of two hold `bytes32(0)`, a node is `keccak256(left ‖ right)` (not sorted: the position is
 * part of the proof), and the root the oracles sign is `evidenceRoot = keccak256(abi.encode(count, treeRoot))`.
 * On chain:
 *
 * - a hash `h` was left out when the leaf at some position is `(a, b)` with `a < h < b` (`challengeOmission`);
 * - the list is malformed when a leaf has `hash >= next` (out of order, or a hash listed twice), the first does not
 *   start at `0x00..00` or the last does not end at `0xff..ff` (`challengeMalformedEvidence`);
 * - the list is cut when the leaf at `i` does not end where the leaf at `i + 1` starts (`challengeBrokenLink`).
 *
 * A list that passes all three is a chain from `0x00..00` to `0xff..ff` in strictly increasing steps, so every
 * hash it lacks lies inside exactly one leaf. (A position-less tree could hide a cut: leaves `(0, h1), (h3, ff)`
 * leave `h2` out with no leaf around it.)
 *
 * The **producer tree** is an OpenZeppelin `StandardMerkleTree` with leaves `(bytes32 producerId, uint256
 * cumulative)`: what each producer has earned in the campaign so far. A producer with nothing yet has no leaf; no
 * leaf at all is root `bytes32(0)`.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { AbiCoder, concat, keccak256 } from "ethers";

import { BankChainError } from "../errors.js";
import { MAX_HASH, ZERO_HASH } from "./evidence.js";

/** A tree was asked for what it cannot show. */
export class RewardTreeError extends BankChainError {}

/** The producer tree's leaf encoding. */
export const PRODUCER_LEAF_ENCODING = ["bytes32", "uint256"] as const;

export type EvidenceLeaf = [hash: string, next: string];
export type ProducerLeaf = [producerId: string, cumulative: string];
export type ProducerTree = StandardMerkleTree<ProducerLeaf>;

/** The evidence tree: its leaves in list order, its layers (leaves' hashes first) and roots. */
export interface EvidenceTree {
  readonly leaves: readonly EvidenceLeaf[];
  readonly count: number;
  /** The root of the positional tree. */
  readonly treeRoot: string;
  /** `keccak256(abi.encode(count, treeRoot))`: what `EpochRoot.evidenceRoot` signs. */
  readonly root: string;
  readonly layers: readonly (readonly string[])[];
}

/** A leaf with its position and proof: the contract's `EvidenceLeaf` struct. */
export interface EvidenceLeafProof {
  readonly count: number;
  readonly index: number;
  readonly hash: string;
  readonly next: string;
  readonly proof: string[];
}

const BYTES32 = /^0x[0-9a-f]{64}$/;
const abi = AbiCoder.defaultAbiCoder();

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

/** A leaf's hash: `keccak256(bytes.concat(keccak256(abi.encode(hash, next))))`. */
export function evidenceLeafHash([hash, next]: EvidenceLeaf): string {
  return keccak256(keccak256(abi.encode(["bytes32", "bytes32"], [hash, next])));
}

function node(left: string, right: string): string {
  return keccak256(concat([left, right]));
}

/** The evidence list's leaves, in list order: `(0, h1), (h1, h2), ..., (hn, 0xff..ff)`. */
export function evidenceLeaves(hashes: readonly string[]): EvidenceLeaf[] {
  const sorted = hashes.map(checkRecordHash).sort();
  const links = [ZERO_HASH, ...sorted, MAX_HASH];
  return sorted.concat([MAX_HASH]).map((next, i) => [links[i]!, next]);
}

/** The positional tree over `leaves` as given (a bad list too: it is the tree the contract will be shown). */
export function evidenceTreeOfLeaves(leaves: readonly EvidenceLeaf[]): EvidenceTree {
  if (leaves.length === 0) {
    throw new RewardTreeError("REWARD_EMPTY_EVIDENCE_TREE", "an evidence tree has at least one leaf", {});
  }
  const normalized = leaves.map(([a, b]): EvidenceLeaf => [a.toLowerCase(), b.toLowerCase()]);
  let width = 1;
  while (width < normalized.length) width *= 2;
  const first = normalized.map(evidenceLeafHash);
  while (first.length < width) first.push(ZERO_HASH);
  const layers: string[][] = [first];
  while (layers.at(-1)!.length > 1) {
    const below = layers.at(-1)!;
    const above: string[] = [];
    for (let i = 0; i < below.length; i += 2) above.push(node(below[i]!, below[i + 1]!));
    layers.push(above);
  }
  const treeRoot = layers.at(-1)![0]!;
  return {
    leaves: normalized,
    count: normalized.length,
    treeRoot,
    root: keccak256(abi.encode(["uint256", "bytes32"], [normalized.length, treeRoot])),
    layers,
  };
}

/** The evidence tree of a set of record hashes (a hash given twice is listed twice: a `(h, h)` leaf). */
export function evidenceTree(hashes: readonly string[]): EvidenceTree {
  return evidenceTreeOfLeaves(evidenceLeaves(hashes));
}

/** The leaf at `index` with its proof. @throws RewardTreeError `REWARD_NO_SUCH_LEAF`. */
export function evidenceLeafProof(tree: EvidenceTree, index: number): EvidenceLeafProof {
  const leaf = tree.leaves[index];
  if (!Number.isInteger(index) || leaf === undefined) {
    throw new RewardTreeError("REWARD_NO_SUCH_LEAF", `the evidence tree has no leaf ${index} (count ${tree.count})`, {
      index,
    });
  }
  const proof: string[] = [];
  let position = index;
  for (const layer of tree.layers.slice(0, -1)) {
    proof.push(layer[position ^ 1]!);
    position >>= 1;
  }
  return { count: tree.count, index, hash: leaf[0], next: leaf[1], proof };
}

/** Whether `leaf` is at its position in the tree of `evidenceRoot` (the contract's check). */
export function verifyEvidenceLeaf(evidenceRoot: string, leaf: EvidenceLeafProof): boolean {
  if (leaf.count < 1 || leaf.index < 0 || leaf.index >= leaf.count) return false;
  let depth = 0;
  while (2 ** depth < leaf.count) depth += 1;
  if (leaf.proof.length !== depth) return false;
  let h = evidenceLeafHash([leaf.hash, leaf.next]);
  leaf.proof.forEach((sibling, level) => {
    h = ((leaf.index >> level) & 1) === 1 ? node(sibling, h) : node(h, sibling);
  });
  return keccak256(abi.encode(["uint256", "bytes32"], [leaf.count, h])) === evidenceRoot.toLowerCase();
}

/**
 * The leaf `(a, b)` with `a < hash < b` and its proof: what `challengeOmission` takes to show that `hash` is not
 * in the evidence.
 * @throws RewardTreeError `REWARD_HASH_IN_EVIDENCE` when no leaf spans `hash`; `REWARD_BAD_RECORD_HASH`.
 */
export function omissionProof(tree: EvidenceTree, hash: string): EvidenceLeafProof {
  const h = checkRecordHash(hash);
  const index = tree.leaves.findIndex(([a, b]) => a < h && h < b);
  if (index < 0) {
    throw new RewardTreeError("REWARD_HASH_IN_EVIDENCE", `record ${hash} is in the evidence: no omission to prove`, {
      hash,
    });
  }
  return evidenceLeafProof(tree, index);
}

/** Whether `leaf` shows that `hash` is not in the evidence of `evidenceRoot` (the contract's check). */
export function verifyOmission(evidenceRoot: string, hash: string, leaf: EvidenceLeafProof): boolean {
  return BigInt(leaf.hash) < BigInt(hash) && BigInt(hash) < BigInt(leaf.next) && verifyEvidenceLeaf(evidenceRoot, leaf);
}

/**
 * The first leaf that is wrong on its own (`hash >= next`: out of order or listed twice; a first leaf not from
 * `0x00..00`; a last not to `0xff..ff`), with its proof: what `challengeMalformedEvidence` takes. `undefined`
 * for a well-formed list.
 */
export function malformedLeaf(tree: EvidenceTree): EvidenceLeafProof | undefined {
  const last = tree.count - 1;
  const index = tree.leaves.findIndex(
    ([a, b], i) => BigInt(a) >= BigInt(b) || (i === 0 && a !== ZERO_HASH) || (i === last && b !== MAX_HASH),
  );
  return index < 0 ? undefined : evidenceLeafProof(tree, index);
}

/** The first two neighbours that do not link, with their proofs: what `challengeBrokenLink` takes. */
export function brokenLink(tree: EvidenceTree): [EvidenceLeafProof, EvidenceLeafProof] | undefined {
  const index = tree.leaves.findIndex(([, b], i) => i + 1 < tree.count && b !== tree.leaves[i + 1]![0]);
  return index < 0 ? undefined : [evidenceLeafProof(tree, index), evidenceLeafProof(tree, index + 1)];
}

/** The contract's `EvidenceLeaf` struct of a leaf proof. */
export function leafArgument(leaf: EvidenceLeafProof): {
  count: bigint;
  index: bigint;
  hash: string;
  next: string;
  proof: string[];
} {
  return { count: BigInt(leaf.count), index: BigInt(leaf.index), hash: leaf.hash, next: leaf.next, proof: leaf.proof };
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

/** A leaf of a producer tree and its proof. */
function findLeaf(
  tree: ProducerTree,
  match: (leaf: ProducerLeaf) => boolean,
): { leaf: ProducerLeaf; proof: string[]; root: string } | undefined {
  for (const [index, leaf] of tree.entries()) {
    if (match(leaf)) return { leaf, proof: tree.getProof(index), root: tree.root };
  }
  return undefined;
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
