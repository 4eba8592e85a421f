import { expect } from "chai";
import { AbiCoder, keccak256, recoverAddress, Signature, toUtf8Bytes, Wallet } from "ethers";
import fc from "fast-check";

import {
  caip2Of,
  chainIdOf,
  checkSignature,
  HALF_ORDER,
  isDelegationDesignator,
  KINDS,
  PAYLOAD_TYPES,
  payloadDigest,
  payloadFromJson,
  payloadJson,
  payloadSchema,
  payloadStruct,
  recoverEcdsa,
  SignatureInvalidError,
  submissionSchema,
  type Payload,
  type SignerCode,
} from "../../src/interop/payload.js";

/** The InteropGateway engineer's vectors (contracts/test/InteropGateway.t.sol, `..._matchesTheTypeScriptVector_*`). */
const VECTOR_GATEWAY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const VECTOR_KEY = new Wallet("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const crossChainVector = {
  version: 1,
  sourceChain: "eip155:31337",
  destinationChain: "eip155:4242",
  kind: "CrossChain",
  target: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  asset: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  amount: "12345",
  data: "0x",
  nonce: "42",
  deadline: 1_700_000_000,
};

const callVector = {
  version: 1,
  sourceChain: "eip155:31337",
  destinationChain: "eip155:31337",
  kind: "Call",
  target: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
  asset: "0x0000000000000000000000000000000000000000",
  amount: "0",
  // abi.encodeWithSignature("record(uint256)", 7)
  data: `0x${keccak256(toUtf8Bytes("record(uint256)")).slice(2, 10)}${"7".padStart(64, "0")}`,
  nonce: "7",
  deadline: 1_700_000_000,
};

function parse(json: unknown): Payload {
  return payloadSchema.parse(json);
}

/** The EIP-712 digest written out by hand from the spec, independent of ethers' encoder. */
function handDigest(payload: Payload, chainId: bigint, gateway: string): string {
  const coder = AbiCoder.defaultAbiCoder();
  const typeHash = keccak256(
    toUtf8Bytes(
      "Payload(uint8 version,string sourceChain,string destinationChain,uint8 kind,address target," +
        "address asset,uint256 amount,bytes data,uint256 nonce,uint64 deadline)",
    ),
  );
  const struct = keccak256(
    coder.encode(
      [
        "bytes32",
        "uint8",
        "bytes32",
        "bytes32",
        "uint8",
        "address",
        "address",
        "uint256",
        "bytes32",
        "uint256",
        "uint64",
      ],
      [
        typeHash,
        payload.version,
        keccak256(toUtf8Bytes(payload.sourceChain)),
        keccak256(toUtf8Bytes(payload.destinationChain)),
        KINDS.indexOf(payload.kind),
        payload.target,
        payload.asset,
        payload.amount,
        keccak256(payload.data),
        payload.nonce,
        payload.deadline,
      ],
    ),
  );
  const domainType = keccak256(
    toUtf8Bytes("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
  );
  const domain = keccak256(
    coder.encode(
      ["bytes32", "bytes32", "bytes32", "uint256", "address"],
      [domainType, keccak256(toUtf8Bytes("BankChain InteropGateway")), keccak256(toUtf8Bytes("1")), chainId, gateway],
    ),
  );
  return keccak256(`0x1901${domain.slice(2)}${struct.slice(2)}`);
}

/** A chain that answers the signature check's two questions as told. */
function chainWith(code: string, answer: string | Error = "0xffffffff"): SignerCode & { asked: number } {
  const chain = {
    asked: 0,
    getCode: async () => code,
    isValidSignature: async () => {
      chain.asked += 1;
      if (answer instanceof Error) throw answer;
      return `${answer}${"0".repeat(56)}`;
    },
  };
  return chain;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("interop/payload: the generic payload, its id and its signature", function () {
  describe("the id agrees with the InteropGateway's payloadDigest (the contract engineer's vectors)", function () {
    it("cross-chain vector", function () {
      const payload = parse(crossChainVector);
      const id = payloadDigest(payload, 31337n, VECTOR_GATEWAY);
      expect(id).to.equal("0x409a57d3c9fd57f58d50b05bd5738841d9354506d59cc26ffa56512ce4a24046");
      expect(handDigest(payload, 31337n, VECTOR_GATEWAY)).to.equal(id);
      expect(VECTOR_KEY.signingKey.sign(id).serialized).to.equal(
        "0x40c94eb5cc7ed558a492ae7446fa8f709e402fe3f53a48dc5307e33b09a1399a" +
          "2509eb0114462c0dcd31619336ab601cbdbbc93ecbaa0b54e6d47f19940372951b",
      );
    });

    it("call vector", function () {
      const payload = parse(callVector);
      const id = payloadDigest(payload, 31337n, VECTOR_GATEWAY);
      expect(id).to.equal("0xa62dc178cf18068f006405b42da9169e29c45de088bbed7425593f864fbd6f02");
      expect(VECTOR_KEY.signingKey.sign(id).serialized).to.equal(
        "0xf8874b3b3085a9901b69ed8e30246d7c9a3477aac1c56116658b6b6db5fec39a" +
          "516dc1b9529af150d3fe9c995aa51b932c132595ecf8ca3622b294b9014a2d3b1b",
      );
    });

    it("the type string is the contract's PAYLOAD_TYPEHASH", function () {
      const fields = PAYLOAD_TYPES.Payload!.map((field) => `${field.type} ${field.name}`).join(",");
      expect(keccak256(toUtf8Bytes(`Payload(${fields})`))).to.equal(
        "0xbc6b3872567200852ea6a7ba97193141fb586da13323bd3a000cd715f4c3d4e7",
      );
    });

    it("binds the chain id and the gateway: the same payload has another id elsewhere", function () {
      const payload = parse(crossChainVector);
      const id = payloadDigest(payload, 31337n, VECTOR_GATEWAY);
      expect(payloadDigest(payload, 31338n, VECTOR_GATEWAY)).to.not.equal(id);
      expect(payloadDigest(payload, 31337n, "0x0000000000000000000000000000000000000001")).to.not.equal(id);
    });

    it("property: any valid payload's id equals the hand-written EIP-712 digest, and survives its JSON form", function () {
      const hex = (length: number) =>
        fc
          .uint8Array({ minLength: length, maxLength: length })
          .map((bytes) => `0x${Buffer.from(bytes).toString("hex")}`);
      const payloads = fc
        .record({
          source: fc.bigInt({ min: 1n, max: 2n ** 64n }),
          destination: fc.bigInt({ min: 1n, max: 2n ** 64n }),
          kind: fc.constantFrom(...KINDS),
          target: hex(20),
          asset: hex(20),
          amount: fc.bigInt({ min: 1n, max: 2n ** 256n - 1n }),
          data: fc.uint8Array({ minLength: 4, maxLength: 64 }).map((b) => `0x${Buffer.from(b).toString("hex")}`),
          nonce: fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
          deadline: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        })
        .map((r) => {
          const native = r.kind !== "CrossChain";
          const destination = native ? r.source : r.destination === r.source ? r.source + 1n : r.destination;
          return {
            version: 1,
            sourceChain: caip2Of(r.source),
            destinationChain: caip2Of(destination),
            kind: r.kind,
            target: r.target === `0x${"00".repeat(20)}` ? `0x${"11".repeat(20)}` : r.target,
            asset: r.kind === "Call" ? `0x${"00".repeat(20)}` : r.asset,
            amount: r.kind === "Call" ? "0" : r.amount.toString(),
            data: r.kind === "Call" || r.kind === "Exchange" ? r.data : "0x",
            nonce: r.nonce.toString(),
            deadline: r.deadline.toString(),
          };
        });
      fc.assert(
        fc.property(payloads, fc.bigInt({ min: 1n, max: 2n ** 64n }), hex(20), (json, chainId, gateway) => {
          const payload = parse(json);
          const id = payloadDigest(payload, chainId, gateway);
          expect(id).to.equal(handDigest(payload, chainId, gateway));
          const again = payloadFromJson(JSON.stringify(payloadJson(payload)));
          expect(payloadDigest(again, chainId, gateway)).to.equal(id);
          expect(chainIdOf(payload.sourceChain)).to.be.a("bigint");
        }),
        { numRuns: 200 },
      );
    });
  });

  describe("validation names the field and says why (each a 400)", function () {
    const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
      ["version 2", { version: 2 }, "version", /must be 1/],
      ["a CAIP-2 id with a leading zero", { sourceChain: "eip155:042" }, "sourceChain", /CAIP-2/],
      ["another namespace", { destinationChain: "cosmos:hub" }, "destinationChain", /CAIP-2/],
      ["an unknown kind", { kind: "Swap" }, "kind", /Invalid enum/],
      ["a bad checksum", { target: "0x70997970c51812dc3a010c7d01b50e0d17dc79C8" }, "target", /checksum/],
      ["a short address", { asset: "0x1234" }, "asset", /20-byte/],
      ["a negative amount", { amount: "-1" }, "amount", /decimal/],
      ["an amount as a number", { amount: 5 }, "amount", /Expected string/],
      ["an amount over uint256", { amount: (2n ** 256n).toString() }, "amount", /uint256/],
      ["odd hex data", { data: "0x123" }, "data", /two digits per byte/],
      ["a nonce with leading zeros", { nonce: "007" }, "nonce", /leading zeros/],
      ["a deadline over uint64", { deadline: (2n ** 64n).toString() }, "deadline", /uint64/],
      ["a fractional deadline", { deadline: 1.5 }, "deadline", /integer/],
      ["CrossChain to its own chain", { destinationChain: "eip155:31337" }, "destinationChain", /must differ/],
      ["a zero amount", { amount: "0" }, "amount", /at least 1/],
      ["data on a transfer", { data: "0x12" }, "data", /must be empty/],
      ["a zero target", { target: "0x0000000000000000000000000000000000000000" }, "target", /zero address/],
      ["an unknown field", { fee: "1" }, "", /Unrecognized key/],
    ];
    for (const [name, change, field, message] of cases) {
      it(`refuses ${name}`, function () {
        const result = payloadSchema.safeParse({ ...crossChainVector, ...change });
        expect(result.success, name).to.equal(false);
        const issue = result.error!.issues[0]!;
        expect(issue.path.join("."), name).to.equal(field);
        expect(issue.message, name).to.match(message);
      });
    }

    it("refuses a native transfer between two chains and a Call that moves value", function () {
      const native = payloadSchema.safeParse({ ...crossChainVector, kind: "Transfer" });
      expect(native.error!.issues[0]!.message).to.match(/must equal sourceChain/);
      const call = payloadSchema.safeParse({ ...callVector, amount: "1" });
      expect(call.error!.issues[0]!.path).to.deep.equal(["amount"]);
      const bare = payloadSchema.safeParse({ ...callVector, data: "0x1234" });
      expect(bare.error!.issues[0]!.path).to.deep.equal(["data"]);
      const withAsset = payloadSchema.safeParse({ ...callVector, asset: crossChainVector.asset });
      expect(withAsset.error!.issues.map((issue) => issue.path)).to.deep.equal([["asset"]]);
    });

    it("takes a deadline as a number or a decimal string, and lower-case or checksummed addresses", function () {
      const a = parse({ ...crossChainVector, deadline: "1700000000", target: crossChainVector.target.toLowerCase() });
      expect(a.deadline).to.equal(1_700_000_000n);
      expect(a.target).to.equal(crossChainVector.target);
    });

    it("wants exactly payload, signer and signature", function () {
      const body = { payload: crossChainVector, signer: VECTOR_KEY.address, signature: "0x" };
      expect(submissionSchema.safeParse(body).error!.issues[0]!.path).to.deep.equal(["signature"]);
      expect(submissionSchema.safeParse({ ...body, signature: "0x00", extra: 1 }).success).to.equal(false);
      expect(submissionSchema.safeParse({ ...body, signature: "0x00" }).success).to.equal(true);
    });
  });

  describe("the signature check made before anything is stored", function () {
    const payload = parse(crossChainVector);
    const id = payloadDigest(payload, 31337n, VECTOR_GATEWAY);
    const good = VECTOR_KEY.signingKey.sign(id).serialized;

    it("accepts the signer's low-s ECDSA signature without asking any code", async function () {
      const chain = chainWith("0x60806040", "0x1626ba7e");
      expect(await checkSignature(id, VECTOR_KEY.address, good, chain)).to.equal("ecdsa");
      expect(chain.asked).to.equal(0);
    });

    it("test_RevertWhen_MalleableHighS: refuses the same signature with s flipped to n - s", async function () {
      const sig = Signature.from(good);
      const highS = BigInt(sig.s) > HALF_ORDER ? BigInt(sig.s) : N - BigInt(sig.s);
      const v = sig.v === 27 ? 28 : 27;
      const flipped = `${sig.r}${highS.toString(16).padStart(64, "0")}${v.toString(16)}`;
      expect(recoverEcdsa(id, flipped)).to.equal(undefined);
      const error = await rejection(checkSignature(id, VECTOR_KEY.address, flipped, chainWith("0x")));
      expect(error).to.be.instanceOf(SignatureInvalidError);
    });

    it("refuses an s just above n/2, which ethers alone would recover (its own check is the top bit only)", function () {
      const r = Signature.from(good).r;
      const s = (HALF_ORDER + 1n).toString(16).padStart(64, "0");
      const signature = `${r}${s}1b`;
      expect(() => recoverAddress(id, signature)).to.not.throw();
      expect(recoverEcdsa(id, signature)).to.equal(undefined);
    });

    it("accepts s exactly n/2, as OpenZeppelin's ECDSA does (it refuses only s > n/2)", function () {
      const r = Signature.from(good).r;
      const signature = `${r}${HALF_ORDER.toString(16).padStart(64, "0")}1b`;
      expect(recoverEcdsa(id, signature)).to.equal(recoverAddress(id, signature));
    });

    it("says who signed, or that nobody did, in the error's details", async function () {
      const garbage = (await rejection(checkSignature(id, VECTOR_KEY.address, "0x1234", chainWith("0x")))) as
        SignatureInvalidError | Error;
      expect(garbage).to.be.instanceOf(SignatureInvalidError);
      expect((garbage as SignatureInvalidError).details).to.deep.equal({
        signer: VECTOR_KEY.address,
        digest: id,
        recovered: null,
        field: "signature",
      });
      expect(garbage.message).to.match(/is not a valid signature of/);
      const other = Wallet.createRandom();
      const wrong = (await rejection(
        checkSignature(id, VECTOR_KEY.address, other.signingKey.sign(id).serialized, chainWith("0x")),
      )) as SignatureInvalidError;
      expect(wrong.details["recovered"]).to.equal(other.address);
    });

    it("knows an EIP-7702 delegation designator by its prefix and its 23 bytes only", function () {
      expect(isDelegationDesignator(`0xEF0100${"AB".repeat(20)}`)).to.equal(true);
      expect(isDelegationDesignator(`0xef0100${"ab".repeat(21)}`)).to.equal(false);
      expect(isDelegationDesignator(`0xef0100${"ab".repeat(19)}`)).to.equal(false);
      expect(isDelegationDesignator(`0xef0200${"ab".repeat(20)}`)).to.equal(false);
      expect(isDelegationDesignator(`0x60806040${"ab".repeat(19)}`)).to.equal(false);
    });

    it("refuses v 0 or 1 (the chain's ecrecover wants 27 or 28) and a 64-byte compact signature", async function () {
      const sig = Signature.from(good);
      const zeroV = `${good.slice(0, 130)}${(sig.v - 27).toString(16).padStart(2, "0")}`;
      expect(recoverEcdsa(id, zeroV)).to.equal(undefined);
      expect(recoverEcdsa(id, sig.compactSerialized)).to.equal(undefined);
    });

    it("refuses another key's signature, naming who signed", async function () {
      const other = Wallet.createRandom().signingKey.sign(id).serialized;
      const error = (await rejection(checkSignature(id, VECTOR_KEY.address, other, chainWith("0x")))) as Error;
      expect(error).to.be.instanceOf(SignatureInvalidError);
      expect(error.message).to.match(/not by signer/);
    });

    it("refuses a signature of another payload (replay across payloads)", async function () {
      const otherId = payloadDigest({ ...payload, nonce: 43n }, 31337n, VECTOR_GATEWAY);
      const replayed = VECTOR_KEY.signingKey.sign(otherId).serialized;
      await rejection(checkSignature(id, VECTOR_KEY.address, replayed, chainWith("0x")));
    });

    it("asks a contract signer through ERC-1271", async function () {
      const chain = chainWith("0x6080604052", "0x1626ba7e");
      expect(await checkSignature(id, "0x00000000000000000000000000000000000000aa", "0x1234", chain)).to.equal(
        "erc1271",
      );
      const refusing = chainWith("0x6080604052", "0xffffffff");
      await rejection(checkSignature(id, "0x00000000000000000000000000000000000000aa", "0x1234", refusing));
      const reverting = chainWith("0x6080604052", new Error("reverted"));
      expect(
        await rejection(checkSignature(id, "0x00000000000000000000000000000000000000aa", "0x1234", reverting)),
      ).to.be.instanceOf(SignatureInvalidError);
    });

    it("test_RevertWhen_Eip7702AccountCodeSaysYes: an EOA with a delegation is checked as ECDSA only", async function () {
      const designator = `0xef0100${"ab".repeat(20)}`;
      expect(isDelegationDesignator(designator)).to.equal(true);
      const yes = chainWith(designator, "0x1626ba7e");
      const forged = Wallet.createRandom().signingKey.sign(id).serialized;
      await rejection(checkSignature(id, VECTOR_KEY.address, forged, yes));
      expect(yes.asked).to.equal(0);
      // Its own key still signs for it.
      expect(await checkSignature(id, VECTOR_KEY.address, good, yes)).to.equal("ecdsa");
    });

    it("refuses an EOA (no code) whose signature does not recover to it, without asking ERC-1271", async function () {
      const chain = chainWith("0x", "0x1626ba7e");
      await rejection(checkSignature(id, VECTOR_KEY.address, "0x1234", chain));
      expect(chain.asked).to.equal(0);
    });
  });

  it("reads CAIP-2 ids both ways", function () {
    expect(chainIdOf("eip155:4242")).to.equal(4242n);
    expect(caip2Of(4343n)).to.equal("eip155:4343");
    expect(payloadStruct(parse(callVector)).kind).to.equal(2);
  });
});
