import { createConnection, createServer, type AddressInfo, type Socket } from "node:net";

import { secp256k1 } from "@noble/curves/secp256k1.js";
import { expect } from "chai";

import { connectToMerchant, MerchantSession } from "../../src/offline/channel.js";
import {
  channelKeys,
  checkPublicKey,
  confirmation,
  deriveKeys,
  encodeHello,
  openFrame,
  parseHello,
  sealFrame,
  sharedSecret,
  transcriptHash,
} from "../../src/offline/channel-crypto.js";
import { OfflineChannelError, OfflineChannelKeyError, type PublicKeyDefect } from "../../src/offline/channel-errors.js";
import { encodeOffer } from "../../src/offline/session.js";
import * as reference from "./channel-reference.js";

/**
 * Known answers for the offline channel. The hex below was printed by
 * `npx tsx test/offline/channel-vectors.derive.ts`, which derives it from the
 * protocol in docs/offline-session.md with node:crypto only
 * (`channel-reference.ts`, no import from src/); the project code computes
 * its secp256k1 with noble-curves. Inputs: merchant session secret key 0x11…11,
 * buyer ephemeral secret key 0x22…22, session id 0x000102…0f; the first
 * message is `{"type":"payment_request","amount":"1250"}` from the merchant.
 */
const VECTOR = {
  merchantSecretKey: "11".repeat(32),
  buyerSecretKey: "22".repeat(32),
  sessionId: "000102030405060708090a0b0c0d0e0f",
  merchantPublicKey: "034f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa",
  buyerPublicKey: "02466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f27",
  helloFrame:
    "000000330101000102030405060708090a0b0c0d0e0f02466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f27",
  sharedSecret: "77e0510d5042e2f5e9e59c977b81eeed590cf7d20c1c51da451a8eaa9fdc45ff",
  transcript: "614dc7f5b170d1ce7a3eb4f09ea3216c9b0e4cc0f98ed86953f7dd14a10306e6",
  merchantToBuyerKey: "766df3fadb074b2378da67a6edc068ad8fb6c1757b177a360220f4fd15c28384",
  buyerToMerchantKey: "898cbb038805d82721b6544b7146817ff008b1981a0504730c1d76fe557eba90",
  merchantConfirmationFrame:
    "0000003a00000000000000000bd416aac0d3a9a187fa04f12287b5b074c3a3b455cff3fb47df24ceaed6cb36cc52c130ddebb224b6de04fd9d6ed65136f1",
  buyerConfirmationFrame:
    "0000003a0000000000000000df1f02c0b76fa482ea566342decdd0c6e235c786916647e675cc87e449bf5b7d65b86bfa6da47f18837b279f3080d57ca0c7",
  firstMessageFrame:
    "000000430000000000000001a39c908854fa3b2a966177d41a220579d8dc2b65ea08ae525cc95dd81068d216c844edf07580d4f824ecdd4ebecf8c11cd49843a7b994940ed6f43",
} as const;

const FIRST_MESSAGE = { type: "payment_request", amount: "1250" };

const hex = (text: string): Buffer => Buffer.from(text, "hex");
const merchantSecret = (): Uint8Array => hex(VECTOR.merchantSecretKey);
const buyerSecret = (): Uint8Array => hex(VECTOR.buyerSecretKey);
const helloPayload = (): Buffer => hex(VECTOR.helloFrame).subarray(4);
const messagePlaintext = (): Buffer =>
  Buffer.concat([Buffer.from([0x01]), Buffer.from(JSON.stringify(FIRST_MESSAGE), "utf8")]);

/** secp256k1's field prime, big-endian. */
const P_HEX = "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f";

/** Wycheproof-style invalid public keys, each with the defect it must be refused for. */
const INVALID_KEYS: readonly { name: string; key: string; defect: PublicKeyDefect }[] = [
  { name: "the point at infinity (SEC1 0x00)", key: "00", defect: "infinity" },
  { name: "33 zero bytes", key: "00".repeat(33), defect: "infinity" },
  { name: "65 zero bytes", key: "00".repeat(65), defect: "infinity" },
  { name: "a 32-byte key (x without prefix)", key: VECTOR.buyerPublicKey.slice(2), defect: "wrong-length" },
  { name: "a 34-byte key (one byte too many)", key: VECTOR.buyerPublicKey + "00", defect: "wrong-length" },
  { name: "an empty key", key: "", defect: "wrong-length" },
  { name: "a compressed key with prefix 0x04", key: "04" + VECTOR.buyerPublicKey.slice(2), defect: "bad-prefix" },
  { name: "a compressed key with prefix 0x05", key: "05" + VECTOR.buyerPublicKey.slice(2), defect: "bad-prefix" },
  { name: "an uncompressed key with prefix 0x05", key: "05" + uncompressed().slice(2), defect: "bad-prefix" },
  { name: "a hybrid key (prefix 0x06)", key: "06" + uncompressed().slice(2), defect: "bad-prefix" },
  { name: "a hybrid key (prefix 0x07)", key: "07" + uncompressed().slice(2), defect: "bad-prefix" },
  { name: "a valid uncompressed key (0x04)", key: uncompressed(), defect: "not-compressed" },
  { name: "x = p", key: "02" + P_HEX, defect: "x-out-of-range" },
  {
    name: "x = p + 1 (≡ 1, which is on the curve)",
    key: "03" + (BigInt("0x" + P_HEX) + 1n).toString(16),
    defect: "x-out-of-range",
  },
  { name: "x = 2²⁵⁶ − 1", key: "02" + "ff".repeat(32), defect: "x-out-of-range" },
  { name: "x = 5 (x³ + 7 is not a square)", key: "02" + "00".repeat(31) + "05", defect: "not-on-curve" },
  { name: "x = 7 (x³ + 7 is not a square)", key: "03" + "00".repeat(31) + "07", defect: "not-on-curve" },
];

function uncompressed(): string {
  return Buffer.from(secp256k1.getPublicKey(hex(VECTOR.buyerSecretKey), false)).toString("hex");
}

function keyError(run: () => unknown, defect: PublicKeyDefect): OfflineChannelKeyError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(OfflineChannelKeyError);
    const bad = error as OfflineChannelKeyError;
    expect(bad.code).to.equal("OFFLINE_CHANNEL_HANDSHAKE");
    expect(bad.details["reason"]).to.equal("bad-key");
    expect(bad.defect, bad.message).to.equal(defect);
    return bad;
  }
  throw new Error(`expected an OfflineChannelKeyError ${defect}`);
}

function channelError(run: () => unknown, code: string): OfflineChannelError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(OfflineChannelError);
    expect((error as OfflineChannelError).code).to.equal(code);
    return error as OfflineChannelError;
  }
  throw new Error(`expected an OfflineChannelError ${code}`);
}

/** Reads whole frames (length prefix included) off a raw socket. */
function frames(socket: Socket): () => Promise<Buffer> {
  let buffer = Buffer.alloc(0);
  const queue: Buffer[] = [];
  let notify: (() => void) | undefined;
  socket.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 4 && buffer.length >= 4 + buffer.readUInt32BE(0)) {
      const length = 4 + buffer.readUInt32BE(0);
      queue.push(buffer.subarray(0, length));
      buffer = buffer.subarray(length);
    }
    notify?.();
  });
  return async () => {
    while (queue.length === 0) await new Promise<void>((resolve) => (notify = resolve));
    return queue.shift()!;
  };
}

describe("offline: channel known-answer vectors", function () {
  it("the node:crypto reference still derives the pasted vectors", function () {
    const derived = reference.vectors();
    for (const [name, value] of Object.entries(derived)) {
      expect(value, name).to.equal(VECTOR[name as keyof typeof VECTOR]);
    }
  });

  it("derives the public keys, the hello, the ECDH secret and the transcript", function () {
    expect(Buffer.from(secp256k1.getPublicKey(merchantSecret(), true)).toString("hex")).to.equal(
      VECTOR.merchantPublicKey,
    );
    expect(Buffer.from(secp256k1.getPublicKey(buyerSecret(), true)).toString("hex")).to.equal(VECTOR.buyerPublicKey);
    expect(encodeHello(hex(VECTOR.sessionId), hex(VECTOR.buyerPublicKey)).toString("hex")).to.equal(
      VECTOR.helloFrame.slice(8),
    );
    expect(sharedSecret(merchantSecret(), hex(VECTOR.buyerPublicKey)).toString("hex")).to.equal(VECTOR.sharedSecret);
    expect(sharedSecret(buyerSecret(), hex(VECTOR.merchantPublicKey)).toString("hex")).to.equal(VECTOR.sharedSecret);
    expect(transcriptHash(hex(VECTOR.merchantPublicKey), helloPayload()).toString("hex")).to.equal(VECTOR.transcript);
    expect(parseHello(helloPayload(), hex(VECTOR.sessionId)).toString("hex")).to.equal(VECTOR.buyerPublicKey);
  });

  it("derives both directional AES-256-GCM keys, from either end", function () {
    const keys = deriveKeys(hex(VECTOR.sharedSecret), hex(VECTOR.transcript));
    expect(keys.merchantToBuyer.toString("hex")).to.equal(VECTOR.merchantToBuyerKey);
    expect(keys.buyerToMerchant.toString("hex")).to.equal(VECTOR.buyerToMerchantKey);
    const common = { merchantPublicKey: hex(VECTOR.merchantPublicKey), hello: helloPayload() };
    for (const end of [
      channelKeys({ ...common, secretKey: merchantSecret(), peerPublicKey: hex(VECTOR.buyerPublicKey) }),
      channelKeys({ ...common, secretKey: buyerSecret(), peerPublicKey: hex(VECTOR.merchantPublicKey) }),
    ]) {
      expect(end.transcript.toString("hex")).to.equal(VECTOR.transcript);
      expect(end.merchantToBuyer.toString("hex")).to.equal(VECTOR.merchantToBuyerKey);
      expect(end.buyerToMerchant.toString("hex")).to.equal(VECTOR.buyerToMerchantKey);
    }
  });

  it("seals the key confirmations and the first message to the expected frames", function () {
    const t = hex(VECTOR.transcript);
    const kmb = hex(VECTOR.merchantToBuyerKey);
    const kbm = hex(VECTOR.buyerToMerchantKey);
    expect(sealFrame(kmb, 0n, confirmation("merchant", t)).toString("hex")).to.equal(VECTOR.merchantConfirmationFrame);
    expect(sealFrame(kbm, 0n, confirmation("buyer", t)).toString("hex")).to.equal(VECTOR.buyerConfirmationFrame);
    expect(sealFrame(kmb, 1n, messagePlaintext()).toString("hex")).to.equal(VECTOR.firstMessageFrame);
  });

  it("opens the expected frames, and refuses them out of sequence, tampered or under the other key", function () {
    const kmb = hex(VECTOR.merchantToBuyerKey);
    const kbm = hex(VECTOR.buyerToMerchantKey);
    const first = hex(VECTOR.firstMessageFrame);
    expect(openFrame(kmb, 1n, first)).to.deep.equal(messagePlaintext());
    expect(openFrame(kmb, 0n, hex(VECTOR.merchantConfirmationFrame))).to.deep.equal(
      confirmation("merchant", hex(VECTOR.transcript)),
    );
    const replay = channelError(() => openFrame(kmb, 2n, first), "OFFLINE_CHANNEL_REPLAY");
    expect(replay.details).to.deep.equal({ expected: "2", received: "1" });
    channelError(() => openFrame(kbm, 1n, first), "OFFLINE_CHANNEL_TAMPERED");
    for (const at of [0, 11, 12, first.length - 1]) {
      const flipped = Buffer.from(first);
      flipped[at]! ^= 0x01;
      channelError(() => openFrame(kmb, 1n, flipped), "OFFLINE_CHANNEL_TAMPERED");
    }
  });

  it("the real merchant session speaks the documented protocol to a node:crypto buyer", async function () {
    const session = await MerchantSession.open({ ttlMs: 10_000 });
    const socket = createConnection({ host: "127.0.0.1", port: session.offer.port });
    try {
      const next = frames(socket);
      const buyer = reference.keyPair();
      const merchantKey = hex(session.offer.merchantPublicKey.slice(2));
      const hello = reference.hello(hex(session.offer.sessionId.slice(2)), buyer.publicKey);
      const t = reference.transcript(merchantKey, hello);
      const { kmb, kbm } = reference.keys(buyer.agree(merchantKey), t);
      socket.write(reference.frame(hello));
      expect(reference.open(kmb, 0n, await next())).to.deep.equal(reference.confirmation("M", t));
      socket.write(reference.seal(kbm, 0n, reference.confirmation("B", t)));
      const channel = await session.accept();
      await channel.send(FIRST_MESSAGE);
      expect(reference.open(kmb, 1n, await next())).to.deep.equal(reference.message(FIRST_MESSAGE));
      socket.write(reference.seal(kbm, 1n, reference.message({ type: "voucher_offer" })));
      expect(await channel.receive(2_000)).to.deep.equal({ type: "voucher_offer" });
    } finally {
      socket.destroy();
      await session.close();
    }
  });

  it("the real buyer speaks the documented protocol to a node:crypto merchant", async function () {
    const merchant = reference.keyPair(hex(VECTOR.merchantSecretKey));
    const sessionId = hex(VECTOR.sessionId);
    const peers: Socket[] = [];
    let merchantDone!: Promise<unknown>;
    const server = createServer((socket) => {
      peers.push(socket);
      const next = frames(socket);
      merchantDone = (async () => {
        const helloFrame = await next();
        const hello = helloFrame.subarray(4);
        expect(hello.subarray(0, 18)).to.deep.equal(Buffer.concat([Buffer.from([1, 1]), sessionId]));
        const t = reference.transcript(merchant.publicKey, hello);
        const { kmb, kbm } = reference.keys(merchant.agree(hello.subarray(18)), t);
        socket.write(reference.seal(kmb, 0n, reference.confirmation("M", t)));
        expect(reference.open(kbm, 0n, await next())).to.deep.equal(reference.confirmation("B", t));
        socket.write(reference.seal(kmb, 1n, reference.message(FIRST_MESSAGE)));
        return reference.open(kbm, 1n, await next());
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const offer = {
        version: 1 as const,
        host: "127.0.0.1",
        port: (server.address() as AddressInfo).port,
        sessionId: "0x" + VECTOR.sessionId,
        merchantPublicKey: "0x" + VECTOR.merchantPublicKey,
        expiresAt: Date.now() + 60_000,
      };
      const channel = await connectToMerchant(encodeOffer(offer));
      expect(await channel.receive(2_000)).to.deep.equal(FIRST_MESSAGE);
      await channel.send({ type: "voucher_offer" });
      expect(await merchantDone).to.deep.equal(reference.message({ type: "voucher_offer" }));
      await channel.close();
    } finally {
      for (const peer of peers) peer.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe("offline: channel invalid public keys (Wycheproof-style)", function () {
  for (const { name, key, defect } of INVALID_KEYS) {
    it(`refuses ${name} as ${defect}`, function () {
      const bad = keyError(() => checkPublicKey(hex(key)), defect);
      expect(bad.details["length"]).to.equal(key.length / 2);
      keyError(() => sharedSecret(merchantSecret(), hex(key)), defect);
    });
  }

  it("takes the vectors' keys, and both compressed prefixes", function () {
    checkPublicKey(hex(VECTOR.merchantPublicKey));
    checkPublicKey(hex(VECTOR.buyerPublicKey));
    expect(VECTOR.merchantPublicKey.slice(0, 2)).to.equal("03");
    expect(VECTOR.buyerPublicKey.slice(0, 2)).to.equal("02");
  });

  it("a merchant session refuses each invalid 33-byte buyer key in a hello, naming the defect, and keeps waiting", async function () {
    const refused: OfflineChannelError[] = [];
    const session = await MerchantSession.open({ ttlMs: 10_000, onRefused: (error) => refused.push(error) });
    try {
      const sessionId = hex(session.offer.sessionId.slice(2));
      const wire = INVALID_KEYS.filter(({ key }) => key.length === 66);
      for (const { key } of wire) {
        const socket = createConnection({ host: "127.0.0.1", port: session.offer.port });
        socket.on("error", () => undefined);
        const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
        socket.write(reference.frame(Buffer.concat([Buffer.from([1, 1]), sessionId, hex(key)])));
        await closed;
      }
      expect(refused.map((error) => [error.constructor.name, error.details["defect"]])).to.deep.equal(
        wire.map(({ defect }) => ["OfflineChannelKeyError", defect]),
      );
      const buyer = await connectToMerchant(session.offerText());
      await session.accept();
      await buyer.close();
    } finally {
      await session.close();
    }
  });
});
