import { expect } from "chai";
import { AbiCoder, concat, getAddress, keccak256, Signature, toUtf8Bytes, Wallet } from "ethers";
import fc from "fast-check";

import {
  epochEnd,
  epochOf,
  epochRootSchema,
  epochStart,
  HALF_ORDER,
  playbackSchema,
  presenceQuerySchema,
  presenceResponseSchema,
  receiptSchema,
  recordHash,
  recordToJson,
  recoverDigestSigner,
  recoverRecordSigner,
  REWARD_TYPES,
  rewardsDomain,
  RewardEpochError,
  RewardSignatureError,
  signedEvidenceSchema,
  signRecord,
  type EpochRoot,
  type Playback,
  type PresenceQuery,
  type PresenceResponse,
  type Receipt,
  type RecordKind,
  type RecordKinds,
} from "../../src/rewards/evidence.js";

/** The fixed vector domain: chain 31337, the first contract the first Hardhat account deploys. */
const DISTRIBUTOR = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const DOMAIN = rewardsDomain(31337n, DISTRIBUTOR);
const KEY = new Wallet("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const b32 = (byte: string) => `0x${byte.repeat(32)}`;

const query: PresenceQuery = {
  venueId: b32("11"),
  cell: 0x8a1fb46622dffffn,
  epoch: 7n,
  nonce: b32("22"),
  time: 1_767_225_600n,
};
const response: PresenceResponse = {
  device: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  venueId: b32("11"),
  epoch: 7n,
  nonce: b32("22"),
  time: 1_767_225_660n,
};
const playback: Playback = {
  contentId: b32("33"),
  producerId: b32("44"),
  venueId: b32("11"),
  start: 1_767_225_000n,
  duration: 300n,
};
const receipt: Receipt = { recordHash: b32("55"), epoch: 7n, time: 1_767_229_000n };
const epochRoot: EpochRoot = {
  campaignId: b32("66"),
  epoch: 7n,
  root: b32("77"),
  total: 10n ** 24n + 1n,
  evidenceRoot: b32("88"),
  cutoff: 1_767_300_000n,
  oracleSetVersion: 2n,
};

const abi = AbiCoder.defaultAbiCoder();
const h = (text: string) => keccak256(toUtf8Bytes(text));

/** EIP-712 by hand: typeHash, abi.encode of the fields, the domain separator and 0x1901. */
function handDigest(typeString: string, types: string[], values: unknown[]): string {
  const domainSeparator = keccak256(
    abi.encode(
      ["bytes32", "bytes32", "bytes32", "uint256", "address"],
      [
        h("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
        h("BankChain Rewards"),
        h("1"),
        31337n,
        DISTRIBUTOR,
      ],
    ),
  );
  const structHash = keccak256(abi.encode(["bytes32", ...types], [h(typeString), ...values]));
  return keccak256(concat(["0x1901", domainSeparator, structHash]));
}

const HAND: { [K in RecordKind]: [RecordKinds[K], string] } = {
  PresenceQuery: [
    query,
    handDigest(
      "PresenceQuery(bytes32 venueId,uint64 cell,uint64 epoch,bytes32 nonce,uint64 time)",
      ["bytes32", "uint64", "uint64", "bytes32", "uint64"],
      [query.venueId, query.cell, query.epoch, query.nonce, query.time],
    ),
  ],
  PresenceResponse: [
    response,
    handDigest(
      "PresenceResponse(address device,bytes32 venueId,uint64 epoch,bytes32 nonce,uint64 time)",
      ["address", "bytes32", "uint64", "bytes32", "uint64"],
      [response.device, response.venueId, response.epoch, response.nonce, response.time],
    ),
  ],
  Playback: [
    playback,
    handDigest(
      "Playback(bytes32 contentId,bytes32 producerId,bytes32 venueId,uint64 start,uint32 duration)",
      ["bytes32", "bytes32", "bytes32", "uint64", "uint32"],
      [playback.contentId, playback.producerId, playback.venueId, playback.start, playback.duration],
    ),
  ],
  Receipt: [
    receipt,
    handDigest(
      "Receipt(bytes32 recordHash,uint64 epoch,uint64 time)",
      ["bytes32", "uint64", "uint64"],
      [receipt.recordHash, receipt.epoch, receipt.time],
    ),
  ],
  EpochRoot: [
    epochRoot,
    handDigest(
      "EpochRoot(bytes32 campaignId,uint64 epoch,bytes32 root,uint256 total,bytes32 evidenceRoot,uint64 cutoff,uint64 oracleSetVersion)",
      ["bytes32", "uint64", "bytes32", "uint256", "bytes32", "uint64", "uint64"],
      [
        epochRoot.campaignId,
        epochRoot.epoch,
        epochRoot.root,
        epochRoot.total,
        epochRoot.evidenceRoot,
        epochRoot.cutoff,
        epochRoot.oracleSetVersion,
      ],
    ),
  ],
};

const KINDS = Object.keys(HAND) as RecordKind[];

describe("rewards evidence: EIP-712 records", function () {
  describe("recordHash", function () {
    for (const kind of KINDS) {
      it(`matches a by-hand EIP-712 digest of a ${kind}`, function () {
        const [record, digest] = HAND[kind];
        expect(recordHash(DOMAIN, kind, record as never)).to.equal(digest);
      });
    }

    it("pins the vectors for the RewardDistributor's hash<Kind> views (chain 31337, distributor 0x5FbD…0aa3)", function () {
      expect(KINDS.map((kind) => HAND[kind][1])).to.deep.equal([
        "0xda53f1f41a7a6d5a6e0cd9aa146e2d32a309dc9bbd31374aa07cf9d6dab08e14",
        "0x8ae813f270228a53a353916f1c2be66275aee24d978a466af1b043fc0922a9e2",
        "0x0b5e0959559662da0ff87737c96b02c7c9a6cd898de7c570f7afa8325d50ad09",
        "0xca9406673cc60e2afc534b5b408b33b9ae34d210d46e4ed7b85854c9c17e9ec0",
        "0xe1bad77edc32280fa534022d9a9aec7385c555e2330e65a6cd32eb558d848bb5",
      ]);
    });

    it("differs per chain and per distributor", function () {
      const here = recordHash(DOMAIN, "Playback", playback);
      expect(recordHash(rewardsDomain(1n, DISTRIBUTOR), "Playback", playback)).to.not.equal(here);
      expect(recordHash(rewardsDomain(31337n, response.device), "Playback", playback)).to.not.equal(here);
    });

    it("declares the spec's type strings", function () {
      const typeString = (kind: RecordKind) =>
        `${kind}(${REWARD_TYPES[kind][kind]!.map((f) => `${f.type} ${f.name}`).join(",")})`;
      expect(KINDS.map(typeString)).to.deep.equal([
        "PresenceQuery(bytes32 venueId,uint64 cell,uint64 epoch,bytes32 nonce,uint64 time)",
        "PresenceResponse(address device,bytes32 venueId,uint64 epoch,bytes32 nonce,uint64 time)",
        "Playback(bytes32 contentId,bytes32 producerId,bytes32 venueId,uint64 start,uint32 duration)",
        "Receipt(bytes32 recordHash,uint64 epoch,uint64 time)",
        "EpochRoot(bytes32 campaignId,uint64 epoch,bytes32 root,uint256 total,bytes32 evidenceRoot,uint64 cutoff,uint64 oracleSetVersion)",
      ]);
    });

    it("builds the domain with a checksummed distributor", function () {
      expect(rewardsDomain(5n, DISTRIBUTOR.toLowerCase())).to.deep.equal({
        name: "BankChain Rewards",
        version: "1",
        chainId: 5n,
        verifyingContract: DISTRIBUTOR,
      });
    });
  });

  describe("signatures", function () {
    for (const kind of KINDS) {
      it(`signs and recovers a ${kind}`, async function () {
        const [record] = HAND[kind];
        const signature = await signRecord(KEY, DOMAIN, kind, record as never);
        expect(recoverRecordSigner(DOMAIN, kind, record as never, signature)).to.equal(KEY.address);
      });
    }

    it("recovers another signer for other values or another domain", async function () {
      const signature = await signRecord(KEY, DOMAIN, "PresenceQuery", query);
      expect(recoverRecordSigner(DOMAIN, "PresenceQuery", { ...query, time: query.time + 1n }, signature)).to.not.equal(
        KEY.address,
      );
      expect(recoverRecordSigner(rewardsDomain(1n, DISTRIBUTOR), "PresenceQuery", query, signature)).to.not.equal(
        KEY.address,
      );
    });

    it("refuses the high-s twin of a valid signature", async function () {
      const signature = Signature.from(await signRecord(KEY, DOMAIN, "Playback", playback));
      const twin = concat([
        signature.r,
        `0x${(N - BigInt(signature.s)).toString(16).padStart(64, "0")}`,
        signature.v === 27 ? "0x1c" : "0x1b",
      ]);
      expect(() => recoverRecordSigner(DOMAIN, "Playback", playback, twin))
        .to.throw(RewardSignatureError)
        .with.property("code", "REWARD_HIGH_S_SIGNATURE");
    });

    it("accepts s = N/2 and refuses s = N/2 + 1", function () {
      const digest = recordHash(DOMAIN, "Playback", playback);
      const r = `0x${"01".repeat(32)}`;
      const at = (s: bigint) => concat([r, `0x${s.toString(16).padStart(64, "0")}`, "0x1b"]);
      expect(() => recoverDigestSigner(digest, at(HALF_ORDER))).to.not.throw();
      expect(() => recoverDigestSigner(digest, at(HALF_ORDER + 1n)))
        .to.throw(RewardSignatureError)
        .with.property("code", "REWARD_HIGH_S_SIGNATURE");
    });

    it("refuses malformed signatures", async function () {
      const good = await signRecord(KEY, DOMAIN, "Receipt", receipt);
      const bad = [
        "0x",
        good.slice(0, -2),
        `${good}00`,
        `${good.slice(0, -2)}00`, // v = 0
        `${good.slice(0, -2)}1d`, // v = 29
        `0x${"00".repeat(64)}1b`, // r = 0: no key recovers
        "0xzz" + good.slice(4),
      ];
      for (const signature of bad) {
        expect(() => recoverRecordSigner(DOMAIN, "Receipt", receipt, signature), signature)
          .to.throw(RewardSignatureError)
          .with.property("code", "REWARD_BAD_SIGNATURE");
      }
    });
  });

  describe("epochs", function () {
    it("computes floor((t - genesis) / length) and the epoch's bounds", function () {
      expect(epochOf(1000n, 1000n, 60n)).to.equal(0n);
      expect(epochOf(1059n, 1000n, 60n)).to.equal(0n);
      expect(epochOf(1060n, 1000n, 60n)).to.equal(1n);
      expect(epochStart(3n, 1000n, 60n)).to.equal(1180n);
      expect(epochEnd(3n, 1000n, 60n)).to.equal(1240n);
    });

    it("refuses a time before genesis and a zero length", function () {
      expect(() => epochOf(999n, 1000n, 60n))
        .to.throw(RewardEpochError)
        .with.property("code", "REWARD_BEFORE_GENESIS");
      for (const f of [epochOf, epochStart, epochEnd]) {
        expect(() => f(1000n, 1000n, 0n))
          .to.throw(RewardEpochError)
          .with.property("code", "REWARD_BAD_EPOCH_LENGTH");
      }
    });

    it("puts every time in [start, end) of its epoch", function () {
      fc.assert(
        fc.property(
          fc.bigInt({ min: 0n, max: 1n << 40n }),
          fc.bigInt({ min: 0n, max: 1n << 40n }),
          fc.bigInt({ min: 1n, max: 1n << 20n }),
          (genesis, offset, length) => {
            const t = genesis + offset;
            const e = epochOf(t, genesis, length);
            return epochStart(e, genesis, length) <= t && t < epochEnd(e, genesis, length);
          },
        ),
      );
    });
  });

  describe("JSON wire form", function () {
    const SCHEMAS = {
      PresenceQuery: presenceQuerySchema,
      PresenceResponse: presenceResponseSchema,
      Playback: playbackSchema,
      Receipt: receiptSchema,
      EpochRoot: epochRootSchema,
    } as const;

    for (const kind of KINDS) {
      it(`round-trips a ${kind} through recordToJson and its schema`, function () {
        const [record] = HAND[kind];
        const json = recordToJson(record);
        expect(Object.values(json).every((v) => typeof v === "string")).to.equal(true);
        expect(SCHEMAS[kind].parse(json)).to.deep.equal(record);
      });
    }

    it("reads hex in any case: bytes32 lower case, addresses checksummed", function () {
      const parsed = presenceResponseSchema.parse({
        ...recordToJson(response),
        device: response.device.toLowerCase(),
        venueId: response.venueId.toUpperCase().replace("0X", "0x"),
      });
      expect(parsed.device).to.equal(getAddress(response.device));
      expect(parsed.venueId).to.equal(response.venueId);
    });

    it("refuses numbers, leading zeros, overflow, bad hex and extra fields", function () {
      const base = recordToJson(playback);
      const bad: Record<string, unknown>[] = [
        { ...base, start: 1767225000 },
        { ...base, start: "01767225000" },
        { ...base, start: "-1" },
        { ...base, start: (1n << 64n).toString() },
        { ...base, duration: (1n << 32n).toString() },
        { ...base, contentId: b32("3") },
        { ...base, extra: "1" },
      ];
      for (const json of bad) expect(playbackSchema.safeParse(json).success, JSON.stringify(json)).to.equal(false);
      expect(playbackSchema.parse({ ...base, duration: ((1n << 32n) - 1n).toString() }).duration).to.equal(
        (1n << 32n) - 1n,
      );
      expect(
        presenceResponseSchema.safeParse({ ...recordToJson(response), device: response.device.replace("C8", "c8") })
          .success,
      ).to.equal(false);
      expect(
        epochRootSchema.parse({ ...recordToJson(epochRoot), total: ((1n << 256n) - 1n).toString() }).total,
      ).to.equal((1n << 256n) - 1n);
      expect(
        epochRootSchema.safeParse({ ...recordToJson(epochRoot), total: (1n << 256n).toString() }).success,
      ).to.equal(false);
    });

    it("reads signed evidence by kind and refuses other kinds", async function () {
      const signature = await signRecord(KEY, DOMAIN, "PresenceQuery", query);
      const parsed = signedEvidenceSchema.parse({ kind: "PresenceQuery", record: recordToJson(query), signature });
      expect(parsed).to.deep.equal({ kind: "PresenceQuery", record: query, signature });
      expect(
        signedEvidenceSchema.safeParse({ kind: "Receipt", record: recordToJson(receipt), signature }).success,
      ).to.equal(false);
      expect(
        signedEvidenceSchema.safeParse({ kind: "Playback", record: recordToJson(query), signature }).success,
      ).to.equal(false);
      expect(
        signedEvidenceSchema.safeParse({ kind: "PresenceQuery", record: recordToJson(query), signature: "0x1234" })
          .success,
      ).to.equal(false);
    });
  });
});
