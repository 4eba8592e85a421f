import { execFileSync } from "node:child_process";
import { createCipheriv, createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { gcm } from "@noble/ciphers/aes.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { expect } from "chai";
import { getBytes, hexlify, toBeHex, Wallet } from "ethers";
import fc from "fast-check";

import {
  acceptChannel,
  addressOfPublicKey,
  CHANNEL_KEYS_INFO,
  ChannelError,
  channelPublicKey,
  DIRECTION_I2R,
  DIRECTION_R2I,
  frameSchema,
  helloSchema,
  MAX_FRAME_PLAINTEXT,
  openChannel,
  PROTOCOL,
  welcomeSchema,
  type ChannelContext,
  type ChannelSession,
  type Frame,
  type Hello,
  type Welcome,
} from "../../src/keys/channel.js";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const scalar = (value: bigint) => getBytes(toBeHex(value, 32));
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const utf8 = (text: string) => new TextEncoder().encode(text);
const u64be = (value: number) => {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(value));
  return out;
};

const CONTEXT: ChannelContext = {
  chainId: 31337n,
  registry: "0x0000000000000000000000000000000000001234",
  walletId: `0x${"00".repeat(31)}01`,
  index: 1,
  epoch: 1,
  purpose: "deposit",
};

/** Fixed keys for the known-answer vectors: sI = 1, sR = 2, eI = 3, eR = 4. */
const S_I = scalar(1n);
const S_R = scalar(2n);
const E_I = scalar(3n);
const E_R = scalar(4n);
const pub = (key: Uint8Array) => secp256k1.getPublicKey(key, true);

/** A fresh pair of keys for the attack tests. */
function party(): { key: Uint8Array; pub: Uint8Array } {
  const key = secp256k1.utils.randomSecretKey();
  return { key, pub: pub(key) };
}

function handshake(
  context: ChannelContext = CONTEXT,
  initiator = party(),
  responder = party(),
): {
  initiator: ChannelSession;
  responder: ChannelSession;
  hello: Hello;
  welcome: Welcome;
} {
  const opener = openChannel({ staticKey: initiator.key, responderStatic: responder.pub, context });
  const accepted = acceptChannel(opener.hello, { staticKey: responder.key });
  const session = opener.finish(accepted.welcome);
  return { initiator: session, responder: accepted.session, hello: opener.hello, welcome: accepted.welcome };
}

function expectCode(run: () => unknown, code: string): ChannelError {
  try {
    run();
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(ChannelError);
    expect((error as ChannelError).code, (error as Error).message).to.equal(code);
    return error as ChannelError;
  }
  expect.fail(`expected ${code}, nothing was thrown`);
}

/** Flips one bit of byte `at` of a 0x hex string. */
function flip(text: string, at: number): string {
  const bytes = getBytes(text).slice();
  bytes[at]! ^= 0x01;
  return hexlify(bytes);
}

// ─── outside implementations ───────────────────────────────────────────────────

const OPENSSL_DIR = mkdtempSync(path.join(tmpdir(), "bank-chain-k19-"));
after(() => rmSync(OPENSSL_DIR, { recursive: true, force: true }));
let pemCount = 0;

/** A secp256k1 private key as PEM: SEC 1 ECPrivateKey DER (version 1, the scalar, the curve OID) through `openssl ec`. */
function privatePem(key: Uint8Array): string {
  const der = Buffer.concat([
    Buffer.from("302e0201010420", "hex"),
    Buffer.from(key),
    Buffer.from("a00706052b8104000a", "hex"),
  ]);
  const file = path.join(OPENSSL_DIR, `k${(pemCount += 1)}.der`);
  writeFileSync(file, der);
  const pem = path.join(OPENSSL_DIR, `k${pemCount}.pem`);
  execFileSync("openssl", ["ec", "-inform", "DER", "-in", file, "-outform", "PEM", "-out", pem], { stdio: "pipe" });
  return pem;
}

/** A compressed public key as a SubjectPublicKeyInfo PEM (id-ecPublicKey, secp256k1) through `openssl ec -pubin`. */
function publicPem(key: Uint8Array): string {
  const der = Buffer.concat([Buffer.from("3036301006072a8648ce3d020106052b8104000a032200", "hex"), Buffer.from(key)]);
  const file = path.join(OPENSSL_DIR, `p${(pemCount += 1)}.der`);
  writeFileSync(file, der);
  const pem = path.join(OPENSSL_DIR, `p${pemCount}.pem`);
  execFileSync("openssl", ["ec", "-pubin", "-inform", "DER", "-in", file, "-outform", "PEM", "-out", pem], {
    stdio: "pipe",
  });
  return pem;
}

/** ECDH by `openssl pkeyutl -derive`: the shared point's x coordinate. */
function opensslEcdh(privateKey: Uint8Array, peer: Uint8Array): Uint8Array {
  return new Uint8Array(
    execFileSync("openssl", ["pkeyutl", "-derive", "-inkey", privatePem(privateKey), "-peerkey", publicPem(peer)]),
  );
}

/** HKDF-SHA256 by `openssl kdf`. */
function opensslHkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const out = execFileSync(
    "openssl",
    [
      "kdf",
      "-keylen",
      String(length),
      "-kdfopt",
      "digest:SHA256",
      "-kdfopt",
      `hexkey:${hex(ikm)}`,
      "-kdfopt",
      `hexsalt:${hex(salt)}`,
      "-kdfopt",
      `hexinfo:${hex(info)}`,
      "HKDF",
    ],
    { encoding: "utf8" },
  );
  return new Uint8Array(Buffer.from(out.trim().replaceAll(":", ""), "hex"));
}

/** AES-256-GCM by node:crypto (OpenSSL): ciphertext ‖ tag. */
function nodeSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(aad);
  return new Uint8Array(Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]));
}

/** `h` by hand with node:crypto's sha256. */
function handTranscript(context: ChannelContext, sI: Uint8Array, sR: Uint8Array, eI: Uint8Array, eR: Uint8Array) {
  const purpose = { deposit: 1, fetch: 2, status: 3 }[context.purpose];
  const fixed = Buffer.alloc(6);
  fixed.writeUInt8(context.index, 0);
  fixed.writeUInt32BE(context.epoch, 1);
  fixed.writeUInt8(purpose, 5);
  return new Uint8Array(
    createHash("sha256")
      .update(Buffer.from("bank-chain/keys/channel/v1", "utf8"))
      .update(Buffer.from([0]))
      .update(getBytes(toBeHex(context.chainId, 32)))
      .update(getBytes(context.registry))
      .update(getBytes(context.walletId))
      .update(fixed)
      .update(sI)
      .update(sR)
      .update(eI)
      .update(eR)
      .digest(),
  );
}

describe("keys/channel", () => {
  describe("the primitives against published vectors", () => {
    it("HKDF-SHA256 (the import the channel uses) gives RFC 5869 test case 1", () => {
      const okm = hkdf(
        sha256,
        new Uint8Array(22).fill(0x0b),
        getBytes("0x000102030405060708090a0b0c"),
        getBytes("0xf0f1f2f3f4f5f6f7f8f9"),
        42,
      );
      expect(hex(okm)).to.equal("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    });

    it("AES-256-GCM (the import the channel uses) gives McGrew-Viega / NIST GCM test case 16", () => {
      const key = getBytes("0xfeffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
      const iv = getBytes("0xcafebabefacedbaddecaf888");
      const aad = getBytes("0xfeedfacedeadbeeffeedfacedeadbeefabaddad2");
      const plaintext = getBytes(
        "0xd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
      );
      const sealed = gcm(key, iv, aad).encrypt(plaintext);
      expect(hex(sealed)).to.equal(
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" +
          "76fc6ece0f4e1768cddf8853bb2d551b",
      );
      expect(hex(gcm(key, iv, aad).decrypt(sealed))).to.equal(hex(plaintext));
    });
  });

  describe("known-answer vectors (sI = 1, sR = 2, eI = 3, eR = 4), cross-checked with openssl and node:crypto", () => {
    const VECTOR = {
      h: "97ced06e5aae2015f54dc7d34c3dff6a9b28a569ae61999ec646971aaf0e03e5",
      dh: [
        // x(eI·ER) = x(12G), x(eI·SR) = x(6G), x(sI·ER) = x(4G), x(sI·SR) = x(2G)
        "d01115d548e7561b15c38f004d734633687cf4419620095bc5b0f47070afe85a",
        "fff97bd5755eeea420453a14355235d382f6472f8568a18b2f057a1460297556",
        "e493dbf1c10d80f3581e4904930b1404cc6c13900ee0758474fa94abe8c4cd13",
        "c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5",
      ],
      okm: "60058a115690a1dded15f6b3b3c084ee88736bae0683636bc9d0a0c0b20075e3ce5e9f12702b679246e49feb0c3728407c6ff03aea572f1c83720626caaa78f7",
      confirm: "d4efc31af1b88f83a896379ed81cda69",
      frame0: "2fce05f7f12fff65cedd0d3d0a14d9b35e3ab7a0b2fced98338eb352d99a89",
    };
    const PLAINTEXT = utf8('{"op":"status"}');

    let hello: Hello;
    let welcome: Welcome;
    let initiator: ChannelSession;
    let responder: ChannelSession;
    before(() => {
      const opener = openChannel({ staticKey: S_I, responderStatic: pub(S_R), context: CONTEXT, ephemeralKey: E_I });
      hello = opener.hello;
      const accepted = acceptChannel(hello, { staticKey: S_R, ephemeralKey: E_R });
      welcome = accepted.welcome;
      responder = accepted.session;
      initiator = opener.finish(welcome);
    });

    it("the hello and welcome carry the fixed keys", () => {
      expect(hello).to.deep.equal({
        protocol: PROTOCOL,
        context: {
          chainId: "31337",
          registry: "0x0000000000000000000000000000000000001234",
          walletId: CONTEXT.walletId,
          index: 1,
          epoch: 1,
          purpose: "deposit",
        },
        initiatorStatic: "0x0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
        initiatorEphemeral: "0x02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9",
        responderStatic: "0x02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5",
      });
      expect(welcome.responderEphemeral).to.equal(
        "0x02e493dbf1c10d80f3581e4904930b1404cc6c13900ee0758474fa94abe8c4cd13",
      );
    });

    it("h is the sha256 of the transcript (node:crypto by hand) and the vector", () => {
      const h = handTranscript(CONTEXT, pub(S_I), pub(S_R), pub(E_I), pub(E_R));
      expect(hex(initiator.transcript)).to.equal(hex(h));
      expect(hex(responder.transcript)).to.equal(hex(h));
      expect(hex(h)).to.equal(VECTOR.h);
    });

    it("each ECDH term is openssl pkeyutl -derive's, from either side, and the vector", () => {
      const terms: [Uint8Array, Uint8Array, Uint8Array][] = [
        [E_I, E_R, getBytes(`0x${VECTOR.dh[0]!}`)],
        [E_I, S_R, getBytes(`0x${VECTOR.dh[1]!}`)],
        [S_I, E_R, getBytes(`0x${VECTOR.dh[2]!}`)],
        [S_I, S_R, getBytes(`0x${VECTOR.dh[3]!}`)],
      ];
      for (const [a, b, expected] of terms) {
        const noble = secp256k1.getSharedSecret(a, pub(b), true).slice(1);
        expect(hex(opensslEcdh(a, pub(b)))).to.equal(hex(noble));
        expect(hex(opensslEcdh(b, pub(a)))).to.equal(hex(noble));
        expect(hex(noble)).to.equal(hex(expected));
      }
    });

    it("okm is openssl kdf HKDF's over dh, h and the info, and the vector; the confirm and first frame are node:crypto's AES-256-GCM under it", () => {
      const dh = getBytes(`0x${VECTOR.dh.join("")}`);
      const h = getBytes(`0x${VECTOR.h}`);
      const okm = opensslHkdf(dh, h, utf8(CHANNEL_KEYS_INFO), 64);
      expect(hex(hkdf(sha256, dh, h, utf8("bank-chain/keys/channel/v1 keys"), 64))).to.equal(hex(okm));
      expect(hex(okm)).to.equal(VECTOR.okm);
      const kI2R = okm.slice(0, 32);
      const kR2I = okm.slice(32, 64);

      const nonce0 = Buffer.concat([Buffer.alloc(4), u64be(0)]);
      const confirm = nodeSeal(kR2I, nonce0, Buffer.concat([h, Buffer.from([2]), u64be(0)]), new Uint8Array());
      expect(welcome.confirm).to.deep.equal({ seq: 0, ciphertext: `0x${hex(confirm)}` });
      expect(hex(confirm)).to.equal(VECTOR.confirm);

      const frame = initiator.seal(PLAINTEXT);
      const expected = nodeSeal(kI2R, nonce0, Buffer.concat([h, Buffer.from([1]), u64be(0)]), PLAINTEXT);
      expect(frame).to.deep.equal({ seq: 0, ciphertext: `0x${hex(expected)}` });
      expect(hex(expected)).to.equal(VECTOR.frame0);
      expect(hex(responder.open(frame))).to.equal(hex(PLAINTEXT));
    });
  });

  describe("a session", () => {
    it("carries frames both ways, in order, with both sides agreeing on h", () => {
      const { initiator, responder } = handshake();
      expect(hex(initiator.transcript)).to.equal(hex(responder.transcript));
      for (let round = 0; round < 3; round += 1) {
        const request = utf8(`request ${round}`);
        const i2r = initiator.seal(request);
        expect(i2r.seq).to.equal(round);
        expect(hex(responder.open(i2r))).to.equal(hex(request));
        const reply = utf8(`reply ${round}`);
        const r2i = responder.seal(reply);
        expect(r2i.seq).to.equal(round + 1);
        expect(hex(initiator.open(r2i))).to.equal(hex(reply));
      }
      const empty = initiator.seal(new Uint8Array());
      expect(responder.open(empty)).to.have.length(0);
    });

    it("survives a JSON round trip of every message (the wire)", () => {
      const initiator = party();
      const responder = party();
      const opener = openChannel({ staticKey: initiator.key, responderStatic: responder.pub, context: CONTEXT });
      const hello = helloSchema.parse(JSON.parse(JSON.stringify(opener.hello)));
      const accepted = acceptChannel(hello, { staticKey: responder.key });
      expect(accepted.context).to.deep.equal(CONTEXT);
      expect(hex(accepted.initiatorStatic)).to.equal(hex(initiator.pub));
      const session = opener.finish(welcomeSchema.parse(JSON.parse(JSON.stringify(accepted.welcome))));
      const frame = frameSchema.parse(JSON.parse(JSON.stringify(session.seal(utf8("hi")))));
      expect(new TextDecoder().decode(accepted.session.open(frame))).to.equal("hi");
    });

    it("round-trips any sequence of plaintexts in both directions (property)", () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 300 })), { maxLength: 12 }),
          (messages) => {
            const { initiator, responder } = handshake();
            for (const [fromInitiator, plaintext] of messages) {
              const [sender, receiver] = fromInitiator ? [initiator, responder] : [responder, initiator];
              const frame = sender.seal(plaintext);
              expect(getBytes(frame.ciphertext)).to.have.length(plaintext.length + 16);
              expect(hex(receiver.open(frame))).to.equal(hex(plaintext));
            }
          },
        ),
        { numRuns: 25 },
      );
    });

    it("takes Node Buffers as keys and leaves the caller's keys as they were (only its own copies are wiped)", () => {
      const staticKey = Buffer.from(party().key);
      const ephemeralKey = Buffer.from(party().key);
      const responder = party();
      const responderKey = Buffer.from(responder.key);
      const responderEphemeral = Buffer.from(party().key);
      const before = [staticKey, ephemeralKey, responderKey, responderEphemeral].map(hex);
      const opener = openChannel({
        staticKey,
        responderStatic: Buffer.from(responder.pub),
        context: CONTEXT,
        ephemeralKey,
      });
      const accepted = acceptChannel(opener.hello, { staticKey: responderKey, ephemeralKey: responderEphemeral });
      const session = opener.finish(accepted.welcome);
      expect(hex(accepted.session.open(session.seal(utf8("x"))))).to.equal(hex(utf8("x")));
      expect([staticKey, ephemeralKey, responderKey, responderEphemeral].map(hex)).to.deep.equal(before);
    });

    it("addressOfPublicKey is the key's Ethereum address, compressed or not", () => {
      const wallet = Wallet.createRandom();
      const key = getBytes(wallet.privateKey);
      expect(addressOfPublicKey(channelPublicKey(key))).to.equal(wallet.address);
      expect(addressOfPublicKey(secp256k1.getPublicKey(key, false))).to.equal(wallet.address);
      expect(addressOfPublicKey(pub(S_I))).to.equal("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
    });
  });

  describe("attacks", () => {
    it("a replayed frame is refused (REPLAYED), and the session then refuses everything (CLOSED)", () => {
      const { initiator, responder } = handshake();
      const frame0 = initiator.seal(utf8("deposit"));
      responder.open(frame0);
      const error = expectCode(() => responder.open(frame0), "KEYS_CHANNEL_REPLAYED");
      expect(error.details).to.include({ seq: 0, expected: 1 });
      const frame1 = initiator.seal(utf8("next"));
      expectCode(() => responder.open(frame1), "KEYS_CHANNEL_CLOSED");
      expectCode(() => responder.seal(utf8("reply")), "KEYS_CHANNEL_CLOSED");
    });

    it("the welcome's confirm replayed as a data frame is refused (REPLAYED)", () => {
      const { initiator, welcome } = handshake();
      expectCode(() => initiator.open(welcome.confirm), "KEYS_CHANNEL_REPLAYED");
    });

    it("a frame ahead of the next is refused (OUT_OF_ORDER), and the session is closed", () => {
      const { initiator, responder } = handshake();
      const frame0 = initiator.seal(utf8("a"));
      const frame1 = initiator.seal(utf8("b"));
      const error = expectCode(() => responder.open(frame1), "KEYS_CHANNEL_OUT_OF_ORDER");
      expect(error.details).to.include({ seq: 1, expected: 0 });
      expectCode(() => responder.open(frame0), "KEYS_CHANNEL_CLOSED");
    });

    it("a frame whose seq is rewritten to the expected one does not open (TAMPERED)", () => {
      const { initiator, responder } = handshake();
      initiator.seal(utf8("a"));
      const frame1 = initiator.seal(utf8("b"));
      expectCode(() => responder.open({ ...frame1, seq: 0 }), "KEYS_CHANNEL_TAMPERED");
    });

    it("a flipped ciphertext byte, a flipped tag byte or a truncated tag does not open (TAMPERED)", () => {
      for (const alter of [
        (c: string) => flip(c, 0),
        (c: string) => flip(c, getBytes(c).length - 1),
        (c: string) => flip(c, getBytes(c).length - 16),
        (c: string) => c.slice(0, -2),
      ]) {
        const { initiator, responder } = handshake();
        const frame = initiator.seal(utf8('{"op":"deposit","share":"…"}'));
        expectCode(
          () => responder.open({ seq: frame.seq, ciphertext: alter(frame.ciphertext) }),
          "KEYS_CHANNEL_TAMPERED",
        );
        expectCode(() => responder.open(frame), "KEYS_CHANNEL_CLOSED");
      }
    });

    it("a frame reflected back to its sender does not open (TAMPERED), either direction", () => {
      const a = handshake();
      a.initiator.seal(utf8("0"));
      const i2r1 = a.initiator.seal(utf8("1"));
      expectCode(() => a.initiator.open(i2r1), "KEYS_CHANNEL_TAMPERED");

      const b = handshake();
      b.responder.open(b.initiator.seal(utf8("0")));
      const r2i1 = b.responder.seal(utf8("1"));
      expectCode(() => b.responder.open(r2i1), "KEYS_CHANNEL_TAMPERED");
    });

    it("a frame moved to another session of the same parties and context does not open (TAMPERED)", () => {
      const initiator = party();
      const responder = party();
      const one = handshake(CONTEXT, initiator, responder);
      const two = handshake(CONTEXT, initiator, responder);
      expectCode(() => two.responder.open(one.initiator.seal(utf8("x"))), "KEYS_CHANNEL_TAMPERED");
      expect(hex(two.responder.transcript)).to.not.equal(hex(one.responder.transcript));
    });

    for (const [field, value] of [
      ["chainId", 1n],
      ["registry", "0x0000000000000000000000000000000000005678"],
      ["walletId", `0x${"00".repeat(31)}02`],
      ["index", 2],
      ["epoch", 2],
      ["purpose", "fetch"],
    ] as const) {
      it(`a hello whose context.${field} is changed in transit: the confirm fails (IMPOSTOR)`, () => {
        const initiator = party();
        const responder = party();
        const opener = openChannel({ staticKey: initiator.key, responderStatic: responder.pub, context: CONTEXT });
        const changed = { ...CONTEXT, [field]: value } as ChannelContext;
        const forged = {
          ...opener.hello,
          context: {
            ...opener.hello.context,
            [field]: typeof value === "bigint" ? value.toString() : value,
          },
        } as Hello;
        const accepted = acceptChannel(forged, { staticKey: responder.key });
        expect(accepted.context).to.deep.equal(changed);
        expectCode(() => opener.finish(accepted.welcome), "KEYS_CHANNEL_IMPOSTOR");
      });

      it(`an initiator with another context.${field} than the responder saw: the confirm fails (IMPOSTOR)`, () => {
        const initiator = party();
        const responder = party();
        const ephemeralKey = secp256k1.utils.randomSecretKey();
        const honest = openChannel({
          staticKey: initiator.key,
          responderStatic: responder.pub,
          context: CONTEXT,
          ephemeralKey,
        });
        const accepted = acceptChannel(honest.hello, { staticKey: responder.key });
        const other = openChannel({
          staticKey: initiator.key,
          responderStatic: responder.pub,
          context: { ...CONTEXT, [field]: value } as ChannelContext,
          ephemeralKey,
        });
        expectCode(() => other.finish(accepted.welcome), "KEYS_CHANNEL_IMPOSTOR");
        expect(hex(honest.finish(accepted.welcome).transcript)).to.equal(hex(accepted.session.transcript));
      });
    }

    it("a hello for another responder is refused by the software (WRONG_RESPONDER)", () => {
      const initiator = party();
      const responder = party();
      const impostor = party();
      const opener = openChannel({ staticKey: initiator.key, responderStatic: responder.pub, context: CONTEXT });
      const error = expectCode(
        () => acceptChannel(opener.hello, { staticKey: impostor.key }),
        "KEYS_CHANNEL_WRONG_RESPONDER",
      );
      expect(error.details).to.include({ got: hexlify(responder.pub), expected: hexlify(impostor.pub) });
    });

    it("an impostor responder (another static key answering for the pinned one) is caught by the confirm (IMPOSTOR)", () => {
      const initiator = party();
      const responder = party();
      const impostor = party();
      const opener = openChannel({ staticKey: initiator.key, responderStatic: responder.pub, context: CONTEXT });
      // The impostor answers with its own static key in place of the pinned one.
      const accepted = acceptChannel(
        { ...opener.hello, responderStatic: hexlify(impostor.pub) },
        { staticKey: impostor.key },
      );
      const error = expectCode(() => opener.finish(accepted.welcome), "KEYS_CHANNEL_IMPOSTOR");
      expect(error.details).to.deep.equal({ responder: addressOfPublicKey(responder.pub) });
      expectCode(() => opener.finish(accepted.welcome), "KEYS_CHANNEL_CLOSED");
    });

    it("an impostor initiator (claims a static key it does not hold): the responder's open of frame 0 fails (TAMPERED)", () => {
      const victim = party();
      const attacker = party();
      const responder = party();
      const eI = secp256k1.utils.randomSecretKey();
      const hello: Hello = {
        protocol: PROTOCOL,
        context: helloSchema.shape.context.parse({ ...CONTEXT, chainId: CONTEXT.chainId.toString() }),
        initiatorStatic: hexlify(victim.pub),
        initiatorEphemeral: hexlify(pub(eI)),
        responderStatic: hexlify(responder.pub),
      };
      const accepted = acceptChannel(hello, { staticKey: responder.key });
      expect(hex(accepted.initiatorStatic)).to.equal(hex(victim.pub));
      // The attacker knows eI and both responder public keys, but not the victim's static key: it uses its own.
      const eR = getBytes(accepted.welcome.responderEphemeral);
      const h = handTranscript(CONTEXT, victim.pub, responder.pub, pub(eI), eR);
      const dh = Buffer.concat([
        secp256k1.getSharedSecret(eI, eR, true).slice(1),
        secp256k1.getSharedSecret(eI, responder.pub, true).slice(1),
        secp256k1.getSharedSecret(attacker.key, eR, true).slice(1),
        secp256k1.getSharedSecret(attacker.key, responder.pub, true).slice(1),
      ]);
      const okm = hkdf(sha256, dh, h, utf8(CHANNEL_KEYS_INFO), 64);
      // It cannot even check the confirm…
      expect(() =>
        gcm(
          okm.slice(32),
          Buffer.concat([Buffer.alloc(4), u64be(0)]),
          Buffer.concat([h, Buffer.from([2]), u64be(0)]),
        ).decrypt(getBytes(accepted.welcome.confirm.ciphertext)),
      ).to.throw();
      // …and its frame 0 does not open.
      const frame0: Frame = {
        seq: 0,
        ciphertext: hexlify(
          nodeSeal(
            okm.slice(0, 32),
            Buffer.concat([Buffer.alloc(4), u64be(0)]),
            Buffer.concat([h, Buffer.from([1]), u64be(0)]),
            utf8('{"op":"fetch"}'),
          ),
        ),
      };
      expectCode(() => accepted.session.open(frame0), "KEYS_CHANNEL_TAMPERED");
      expectCode(() => accepted.session.seal(utf8("share")), "KEYS_CHANNEL_CLOSED");
    });

    it("a replayed handshake (an old hello and its frame 0 sent to the responder again) fails at frame 0 (TAMPERED)", () => {
      const initiator = party();
      const responder = party();
      const opener = openChannel({ staticKey: initiator.key, responderStatic: responder.pub, context: CONTEXT });
      const first = acceptChannel(opener.hello, { staticKey: responder.key });
      const frame0 = opener.finish(first.welcome).seal(utf8('{"op":"fetch"}'));
      first.session.open(frame0);
      const replay = acceptChannel(opener.hello, { staticKey: responder.key });
      expectCode(() => replay.session.open(frame0), "KEYS_CHANNEL_TAMPERED");
    });

    it("keys that are not points on the curve are refused (BAD_KEY), malformed ones (PROTOCOL)", () => {
      const initiator = party();
      const responder = party();
      const offCurve = `0x02${"00".repeat(32)}`; // x = 0: 7 is not a square mod p
      const outOfField = `0x02${"ff".repeat(32)}`; // x >= p
      const { hello } = openChannel({ staticKey: initiator.key, responderStatic: responder.pub, context: CONTEXT });
      for (const bad of [offCurve, outOfField]) {
        for (const field of ["initiatorStatic", "initiatorEphemeral"] as const) {
          const error = expectCode(
            () => acceptChannel({ ...hello, [field]: bad }, { staticKey: responder.key }),
            "KEYS_CHANNEL_BAD_KEY",
          );
          expect(error.details).to.include({ field });
        }
        const opener = openChannel({ staticKey: initiator.key, responderStatic: responder.pub, context: CONTEXT });
        const accepted = acceptChannel(opener.hello, { staticKey: responder.key });
        expectCode(() => opener.finish({ ...accepted.welcome, responderEphemeral: bad }), "KEYS_CHANNEL_BAD_KEY");
        expectCode(
          () => openChannel({ staticKey: initiator.key, responderStatic: getBytes(bad), context: CONTEXT }),
          "KEYS_CHANNEL_BAD_KEY",
        );
        expectCode(() => addressOfPublicKey(getBytes(bad)), "KEYS_CHANNEL_BAD_KEY");
      }
      // The point at infinity (SEC 1's single 0x00 byte), an uncompressed key in the hello, a wrong length.
      expectCode(() => addressOfPublicKey(new Uint8Array([0])), "KEYS_CHANNEL_BAD_KEY");
      expectCode(() => addressOfPublicKey(new Uint8Array(33)), "KEYS_CHANNEL_BAD_KEY");
      expectCode(() => addressOfPublicKey(new Uint8Array(65)), "KEYS_CHANNEL_BAD_KEY");
      expectCode(
        () => openChannel({ staticKey: initiator.key, responderStatic: new Uint8Array([0]), context: CONTEXT }),
        "KEYS_CHANNEL_BAD_KEY",
      );
      const uncompressed = hexlify(secp256k1.getPublicKey(initiator.key, false));
      expectCode(
        () => acceptChannel({ ...hello, initiatorStatic: uncompressed }, { staticKey: responder.key }),
        "KEYS_CHANNEL_PROTOCOL",
      );
      expectCode(
        () =>
          acceptChannel(
            { ...hello, initiatorEphemeral: hello.initiatorEphemeral.slice(0, -2) },
            { staticKey: responder.key },
          ),
        "KEYS_CHANNEL_PROTOCOL",
      );
      // Private keys 0 and n.
      for (const key of [new Uint8Array(32), scalar(N), new Uint8Array(31)]) {
        expectCode(
          () => openChannel({ staticKey: key, responderStatic: responder.pub, context: CONTEXT }),
          "KEYS_CHANNEL_BAD_KEY",
        );
        expectCode(
          () =>
            openChannel({
              staticKey: initiator.key,
              responderStatic: responder.pub,
              context: CONTEXT,
              ephemeralKey: key,
            }),
          "KEYS_CHANNEL_BAD_KEY",
        );
        expectCode(() => acceptChannel(hello, { staticKey: key }), "KEYS_CHANNEL_BAD_KEY");
      }
    });

    it("a hello of another protocol, with an extra field or a malformed context is refused (PROTOCOL)", () => {
      const initiator = party();
      const responder = party();
      const { hello } = openChannel({ staticKey: initiator.key, responderStatic: responder.pub, context: CONTEXT });
      const accept = (value: unknown) => () => acceptChannel(value as Hello, { staticKey: responder.key });
      const error = expectCode(accept({ ...hello, protocol: "bank-chain/keys/channel/v0" }), "KEYS_CHANNEL_PROTOCOL");
      expect(error.details).to.include({ field: "protocol", protocol: "bank-chain/keys/channel/v0" });
      expectCode(accept({ ...hello, extra: 1 }), "KEYS_CHANNEL_PROTOCOL");
      expectCode(accept(null), "KEYS_CHANNEL_PROTOCOL");
      for (const context of [
        { ...hello.context, chainId: "0" },
        { ...hello.context, chainId: "031337" },
        { ...hello.context, chainId: 31337 },
        { ...hello.context, chainId: (1n << 256n).toString() },
        { ...hello.context, registry: "0x00000000000000000000000000000000000012" },
        { ...hello.context, walletId: "0x01" },
        { ...hello.context, index: 0 },
        { ...hello.context, index: 256 },
        { ...hello.context, index: 1.5 },
        { ...hello.context, epoch: -1 },
        { ...hello.context, epoch: 2 ** 32 },
        { ...hello.context, purpose: "withdraw" },
        { ...hello.context, extra: true },
      ]) {
        expectCode(accept({ ...hello, context }), "KEYS_CHANNEL_PROTOCOL");
      }
      for (const context of [
        { ...CONTEXT, index: 0 },
        { ...CONTEXT, epoch: 2 ** 32 },
        { ...CONTEXT, chainId: 0n },
        { ...CONTEXT, registry: "0x1234" },
        { ...CONTEXT, walletId: "0x" },
      ]) {
        expectCode(
          () => openChannel({ staticKey: initiator.key, responderStatic: responder.pub, context }),
          "KEYS_CHANNEL_PROTOCOL",
        );
      }
    });

    it("a malformed welcome or frame is refused (PROTOCOL) and closes what it reached", () => {
      const initiator = party();
      const responder = party();
      const opener = openChannel({ staticKey: initiator.key, responderStatic: responder.pub, context: CONTEXT });
      const accepted = acceptChannel(opener.hello, { staticKey: responder.key });
      expectCode(
        () => opener.finish({ ...accepted.welcome, confirm: { seq: 1, ciphertext: "0x" } }),
        "KEYS_CHANNEL_PROTOCOL",
      );
      expectCode(() => opener.finish(accepted.welcome), "KEYS_CHANNEL_CLOSED");

      const { initiator: i2, responder: r2 } = handshake();
      for (const frame of [
        { seq: -1, ciphertext: "0x" + "00".repeat(16) },
        { seq: 0, ciphertext: "0x" + "00".repeat(15) },
        { seq: 0, ciphertext: "0x0" },
        { seq: 0.5, ciphertext: "0x" + "00".repeat(16) },
        { seq: 0, ciphertext: "0x" + "00".repeat(16), extra: 1 },
      ]) {
        const { responder } = handshake();
        expectCode(() => responder.open(frame as Frame), "KEYS_CHANNEL_PROTOCOL");
        expectCode(() => responder.open(frame as Frame), "KEYS_CHANNEL_CLOSED");
      }
      expectCode(() => i2.seal(new Uint8Array(65_537)), "KEYS_CHANNEL_PROTOCOL");
      expectCode(() => i2.seal(new Uint8Array(1)), "KEYS_CHANNEL_CLOSED");
      expect(r2.seal(new Uint8Array(65_536)).ciphertext).to.have.length(2 + (65_536 + 16) * 2);
    });

    it("a confirm from another answer to the same hello does not open (IMPOSTOR)", () => {
      const initiator = party();
      const responder = party();
      const opener = openChannel({ staticKey: initiator.key, responderStatic: responder.pub, context: CONTEXT });
      const accepted = acceptChannel(opener.hello, { staticKey: responder.key });
      const other = acceptChannel(opener.hello, { staticKey: responder.key });
      expectCode(
        () =>
          opener.finish({ responderEphemeral: accepted.welcome.responderEphemeral, confirm: other.welcome.confirm }),
        "KEYS_CHANNEL_IMPOSTOR",
      );
    });

    it("a confirm under the right keys over a non-empty plaintext is refused (PROTOCOL)", () => {
      const opener = openChannel({ staticKey: S_I, responderStatic: pub(S_R), context: CONTEXT, ephemeralKey: E_I });
      const h = handTranscript(CONTEXT, pub(S_I), pub(S_R), pub(E_I), pub(E_R));
      const dh = Buffer.concat(
        [
          [E_I, E_R],
          [E_I, S_R],
          [S_I, E_R],
          [S_I, S_R],
        ].map(([a, b]) => secp256k1.getSharedSecret(a!, pub(b!), true).slice(1)),
      );
      const kR2I = hkdf(sha256, dh, h, utf8(CHANNEL_KEYS_INFO), 64).slice(32);
      const confirm = nodeSeal(
        kR2I,
        Buffer.concat([Buffer.alloc(4), u64be(0)]),
        Buffer.concat([h, Buffer.from([2]), u64be(0)]),
        new Uint8Array([1]),
      );
      expectCode(
        () =>
          opener.finish({ responderEphemeral: hexlify(pub(E_R)), confirm: { seq: 0, ciphertext: hexlify(confirm) } }),
        "KEYS_CHANNEL_PROTOCOL",
      );
    });
  });

  describe("what the session reports, exactly", () => {
    it("transcript is a copy: changing the returned bytes changes neither the session's h nor its frames", () => {
      const { initiator, responder } = handshake();
      const h = hex(initiator.transcript);
      initiator.transcript.fill(0);
      const got = initiator.transcript;
      got.fill(0);
      expect(hex(initiator.transcript)).to.equal(h);
      expect(hex(responder.open(initiator.seal(utf8("after"))))).to.equal(hex(utf8("after")));
      responder.transcript.fill(0xff);
      expect(hex(initiator.open(responder.seal(utf8("back"))))).to.equal(hex(utf8("back")));
    });

    it("a plaintext too large or not bytes is PROTOCOL with { length, max }", () => {
      const big = handshake().initiator;
      const error = expectCode(() => big.seal(new Uint8Array(MAX_FRAME_PLAINTEXT + 1)), "KEYS_CHANNEL_PROTOCOL");
      expect(error.details).to.deep.equal({ length: MAX_FRAME_PLAINTEXT + 1, max: MAX_FRAME_PLAINTEXT });
      const text = handshake().initiator;
      const notBytes = expectCode(() => text.seal("secret" as unknown as Uint8Array), "KEYS_CHANNEL_PROTOCOL");
      expect(notBytes.details).to.deep.equal({ length: undefined, max: MAX_FRAME_PLAINTEXT });
    });

    it("CLOSED carries the next send and receive seq at the failure", () => {
      const { initiator, responder } = handshake();
      const frame0 = initiator.seal(utf8("0"));
      responder.open(frame0);
      responder.open(initiator.seal(utf8("1")));
      initiator.open(responder.seal(utf8("r")));
      expectCode(() => responder.open(frame0), "KEYS_CHANNEL_REPLAYED");
      const error = expectCode(() => responder.seal(utf8("x")), "KEYS_CHANNEL_CLOSED");
      expect(error.details).to.deep.equal({ nextSendSeq: 2, nextReceiveSeq: 2 });
    });

    it("a malformed frame is PROTOCOL naming the field", () => {
      for (const [frame, field] of [
        [{ seq: -1, ciphertext: "0x" + "00".repeat(16) }, "seq"],
        [{ seq: 0, ciphertext: "0x" + "00".repeat(15) }, "ciphertext"],
        [{ seq: 0, ciphertext: "0x" + "00".repeat(16), extra: 1 }, ""],
      ] as const) {
        const { responder } = handshake();
        const error = expectCode(() => responder.open(frame as unknown as Frame), "KEYS_CHANNEL_PROTOCOL");
        expect(error.details, JSON.stringify(frame)).to.deep.equal({ field });
      }
    });

    it("a frame that does not open is TAMPERED with { seq, direction } and the cipher's error as the cause", () => {
      const { initiator, responder } = handshake();
      const frame = initiator.seal(utf8("x"));
      const error = expectCode(
        () => responder.open({ seq: frame.seq, ciphertext: flip(frame.ciphertext, 0) }),
        "KEYS_CHANNEL_TAMPERED",
      );
      expect(error.details).to.deep.equal({ seq: 0, direction: DIRECTION_I2R });
      expect(error.cause).to.be.instanceOf(Error);

      const other = handshake();
      const reply = other.responder.seal(utf8("y"));
      const back = expectCode(
        () => other.initiator.open({ seq: reply.seq, ciphertext: flip(reply.ciphertext, 0) }),
        "KEYS_CHANNEL_TAMPERED",
      );
      expect(back.details).to.deep.equal({ seq: 1, direction: DIRECTION_R2I });
      expect(back.cause).to.be.instanceOf(Error);
    });
  });
});
