import { randomBytes } from "node:crypto";
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from "node:net";

import { expect } from "chai";
import { getAddress } from "ethers";
import fc from "fast-check";

import { connectToMerchant, MerchantSession, type MerchantSessionOptions } from "../../src/offline/channel.js";
import { MAX_FRAME_BYTES, type SecureChannel } from "../../src/offline/channel-connection.js";
import { OfflineChannelError, type OfflineChannelErrorCode } from "../../src/offline/channel-errors.js";
import {
  createOffer,
  decodeOffer,
  encodeOffer,
  OFFER_PREFIX,
  OfflineSessionError,
  type BadOfferReason,
  type SessionOffer,
} from "../../src/offline/session.js";

const WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

async function channelError(promise: Promise<unknown>, code: OfflineChannelErrorCode): Promise<OfflineChannelError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(OfflineChannelError);
    expect((error as OfflineChannelError).code, (error as Error).message).to.equal(code);
    return error as OfflineChannelError;
  }
  throw new Error(`expected an OfflineChannelError ${code}`);
}

function badOffer(run: () => unknown, reason: BadOfferReason, field?: string): OfflineSessionError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(OfflineSessionError);
    const bad = error as OfflineSessionError;
    expect(bad.code).to.equal("OFFLINE_BAD_OFFER");
    expect(bad.reason, bad.message).to.equal(reason);
    if (field !== undefined) expect(bad.details["field"]).to.equal(field);
    return bad;
  }
  throw new Error(`expected an OfflineSessionError ${reason}`);
}

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function listenLocal(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** Called with each whole frame; return true if you forwarded (or dropped) it yourself. */
type Tap = (direction: "toMerchant" | "toBuyer", index: number, frame: Buffer, to: Socket) => boolean;

/** A TCP proxy in front of the merchant that reassembles frames and lets the test rewrite them. */
async function startProxy(targetPort: number, tap: Tap): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  };
  const pipe = (from: Socket, to: Socket, direction: "toMerchant" | "toBuyer"): void => {
    let buffer = Buffer.alloc(0);
    let index = 0;
    from.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 4 && buffer.length >= 4 + buffer.readUInt32BE(0)) {
        const frame = buffer.subarray(0, 4 + buffer.readUInt32BE(0));
        buffer = buffer.subarray(frame.length);
        if (!tap(direction, index++, Buffer.from(frame), to)) to.write(frame);
      }
    });
    from.on("end", () => to.end());
    from.on("close", () => to.destroy());
  };
  const server = createServer((client) => {
    const upstream = createConnection({ host: "127.0.0.1", port: targetPort });
    track(client);
    track(upstream);
    pipe(client, upstream, "toMerchant");
    pipe(upstream, client, "toBuyer");
  });
  const port = await listenLocal(server);
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function withPort(offerText: string, port: number): string {
  return encodeOffer({ ...decodeOffer(offerText), port });
}

describe("offline: session offers", function () {
  it("round-trips an offer with and without a wallet", function () {
    const { offer, secretKey } = createOffer({ host: "127.0.0.1", port: 4242, ttlMs: 60_000, wallet: WALLET });
    expect(secretKey).to.have.length(32);
    const text = encodeOffer(offer);
    expect(text.startsWith(OFFER_PREFIX)).to.equal(true);
    expect(text).to.match(/^bcoffer1:[A-Za-z0-9_-]+$/);
    expect(decodeOffer(text)).to.deep.equal(offer);
    expect(offer.wallet).to.equal(WALLET);
    expect(offer.sessionId).to.match(/^0x[0-9a-f]{32}$/);
    expect(offer.merchantPublicKey).to.match(/^0x0[23][0-9a-f]{64}$/);

    const bare = createOffer({ host: "merchant.local", port: 1, ttlMs: 1_000 }).offer;
    expect(decodeOffer(`  ${encodeOffer(bare)}\n`)).to.deep.equal(bare);
    expect("wallet" in decodeOffer(encodeOffer(bare))).to.equal(false);
  });

  it("round-trips any valid offer (property)", function () {
    const key = createOffer({ host: "h", port: 1, ttlMs: 1 }).offer.merchantPublicKey;
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9A-Za-z.:%-]{1,253}$/),
        fc.integer({ min: 1, max: 65_535 }),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.option(fc.uint8Array({ minLength: 20, maxLength: 20 }), { nil: undefined }),
        (host, port, expiresAt, id, wallet) => {
          const offer: SessionOffer = {
            version: 1,
            host,
            port,
            sessionId: "0x" + Buffer.from(id).toString("hex"),
            merchantPublicKey: key,
            expiresAt,
            ...(wallet === undefined ? {} : { wallet: getAddress("0x" + Buffer.from(wallet).toString("hex")) }),
          };
          expect(decodeOffer(encodeOffer(offer), { now: 0 })).to.deep.equal(offer);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("refuses malformed, expired and unsupported offers with OFFLINE_BAD_OFFER", function () {
    const { offer } = createOffer({ host: "127.0.0.1", port: 4242, ttlMs: 60_000, wallet: WALLET });
    const text = encodeOffer(offer);
    const payload = (): Buffer => Buffer.from(text.slice(OFFER_PREFIX.length), "base64url");
    const rewrap = (bytes: Buffer): string => OFFER_PREFIX + bytes.toString("base64url");

    badOffer(() => decodeOffer("hello"), "malformed", "prefix");
    badOffer(() => decodeOffer(`${OFFER_PREFIX}***`), "malformed", "payload");
    badOffer(() => decodeOffer(`${OFFER_PREFIX}`), "malformed", "payload");
    badOffer(() => decodeOffer(rewrap(payload().subarray(0, 40))), "malformed", "payload");
    badOffer(() => decodeOffer(rewrap(Buffer.concat([payload(), Buffer.from([0])]))), "malformed", "payload");
    badOffer(() => decodeOffer(text.replace(OFFER_PREFIX, "bcoffer2:")), "unsupported-version", "prefix");
    const v2 = payload();
    v2[0] = 2;
    badOffer(() => decodeOffer(rewrap(v2)), "unsupported-version", "version");
    const flags = payload();
    flags[1] = 0x03;
    badOffer(() => decodeOffer(rewrap(flags)), "malformed", "flags");
    const key = payload();
    key[18] = 0x05; // not 0x02/0x03
    badOffer(() => decodeOffer(rewrap(key)), "malformed", "merchantPublicKey");
    const port = payload();
    port.writeUInt16BE(0, 59);
    badOffer(() => decodeOffer(rewrap(port)), "malformed", "port");
    const host = payload();
    host[62] = 0x20; // a space in the host
    badOffer(() => decodeOffer(rewrap(host)), "malformed", "host");
    const expired = badOffer(() => decodeOffer(text, { now: offer.expiresAt }), "expired", "expiresAt");
    expect(expired.details["value"]).to.equal(offer.expiresAt);

    badOffer(() => encodeOffer({ ...offer, host: "bad host" }), "malformed", "host");
    badOffer(() => encodeOffer({ ...offer, port: 0 }), "malformed", "port");
    badOffer(() => encodeOffer({ ...offer, sessionId: "0x1234" }), "malformed", "sessionId");
    badOffer(() => encodeOffer({ ...offer, wallet: "0x1234" }), "malformed", "wallet");
    badOffer(() => createOffer({ host: "h", port: 1, ttlMs: 0 }), "malformed", "ttlMs");
  });
});

describe("offline: secure channel", function () {
  this.timeout(10_000);
  let cleanup: Array<() => Promise<void>> = [];
  let refused: OfflineChannelError[] = [];

  afterEach(async function () {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
    refused = [];
  });

  async function open(options: MerchantSessionOptions = {}): Promise<MerchantSession> {
    const session = await MerchantSession.open({ onRefused: (error) => refused.push(error), ...options });
    cleanup.push(() => session.close());
    return session;
  }

  async function connect(offerText: string, options = {}): Promise<SecureChannel> {
    const channel = await connectToMerchant(offerText, options);
    cleanup.push(() => channel.close());
    return channel;
  }

  async function proxy(session: MerchantSession, tap: Tap): Promise<string> {
    const started = await startProxy(session.offer.port, tap);
    cleanup.push(() => started.close());
    return withPort(session.offerText(), started.port);
  }

  async function pair(
    options: MerchantSessionOptions = {},
    tap?: Tap,
  ): Promise<{ session: MerchantSession; merchant: SecureChannel; buyer: SecureChannel }> {
    const session = await open(options);
    const text = tap === undefined ? session.offerText() : await proxy(session, tap);
    const buyer = await connect(text);
    const merchant = await session.accept();
    return { session, merchant, buyer };
  }

  it("runs the handshake and carries JSON both ways over TCP", async function () {
    const { session, merchant, buyer } = await pair({ wallet: WALLET });
    expect(session.offer.host).to.equal("127.0.0.1");
    expect(session.offer.port).to.be.greaterThan(0);
    expect(buyer.sessionId).to.equal(session.offer.sessionId);
    expect(merchant.sessionId).to.equal(session.offer.sessionId);
    expect([merchant.role, buyer.role]).to.deep.equal(["merchant", "buyer"]);
    expect(await session.accept()).to.equal(merchant);

    await buyer.send({ type: "hello", amount: "1000000000000000000001" });
    expect(await merchant.receive(1_000)).to.deep.equal({ type: "hello", amount: "1000000000000000000001" });
    await merchant.send({ type: "request", items: [1, 2, 3], note: "café ☕" });
    await merchant.send({ type: "second" });
    expect(await buyer.receive()).to.deep.equal({ type: "request", items: [1, 2, 3], note: "café ☕" });
    expect(await buyer.receive()).to.deep.equal({ type: "second" });

    await channelError(buyer.receive(30), "OFFLINE_CHANNEL_TIMEOUT");
    await buyer.send({ still: "open" });
    expect(await merchant.receive()).to.deep.equal({ still: "open" });

    await buyer.close();
    const closed = await channelError(merchant.receive(), "OFFLINE_CHANNEL_CLOSED");
    expect(closed.details["clean"]).to.equal(true);
    await channelError(merchant.send({}), "OFFLINE_CHANNEL_CLOSED");
    expect(refused).to.deep.equal([]);
  });

  it("refuses to send what is not a JSON object or too big, and keeps the channel", async function () {
    const { merchant, buyer } = await pair();
    await channelError(buyer.send({ amount: 1n }), "OFFLINE_CHANNEL_BAD_MESSAGE");
    await channelError(buyer.send([1, 2]), "OFFLINE_CHANNEL_BAD_MESSAGE");
    const big = await channelError(buyer.send({ blob: "x".repeat(MAX_FRAME_BYTES) }), "OFFLINE_CHANNEL_OVERSIZED");
    expect(big.details["max"]).to.equal(MAX_FRAME_BYTES);
    await buyer.send({ blob: "x".repeat(MAX_FRAME_BYTES - 100) });
    expect(((await merchant.receive()) as { blob: string }).blob).to.have.length(MAX_FRAME_BYTES - 100);
  });

  for (const [part, offset] of [
    ["sequence number", (frame: Buffer) => 11],
    ["ciphertext", (frame: Buffer) => 12 + Math.floor((frame.length - 28) / 2)],
    ["tag", (frame: Buffer) => frame.length - 1],
  ] as const) {
    it(`refuses a frame whose ${part} was tampered with and closes the connection`, async function () {
      const { merchant, buyer } = await pair({}, (direction, index, frame, to) => {
        if (direction !== "toMerchant" || index !== 2) return false;
        const at = offset(frame);
        frame[at] = (frame[at] ?? 0) ^ 0x01;
        to.write(frame);
        return true;
      });
      await buyer.send({ pay: "10" });
      const error = await channelError(merchant.receive(), "OFFLINE_CHANNEL_TAMPERED");
      expect(error.details["seq"]).to.be.a("string");
      await channelError(buyer.receive(), "OFFLINE_CHANNEL_CLOSED");
    });
  }

  it("refuses a tampered message towards the buyer", async function () {
    const { merchant, buyer } = await pair({}, (direction, index, frame, to) => {
      if (direction !== "toBuyer" || index !== 1) return false;
      frame[20] = (frame[20] ?? 0) ^ 0x80;
      to.write(frame);
      return true;
    });
    await merchant.send({ request: "10" });
    await channelError(buyer.receive(), "OFFLINE_CHANNEL_TAMPERED");
  });

  it("refuses a replayed frame", async function () {
    const { merchant, buyer } = await pair({}, (direction, index, frame, to) => {
      if (direction !== "toMerchant" || index !== 2) return false;
      to.write(frame);
      to.write(frame);
      return true;
    });
    await buyer.send({ pay: "10" });
    expect(await merchant.receive()).to.deep.equal({ pay: "10" });
    const error = await channelError(merchant.receive(), "OFFLINE_CHANNEL_REPLAY");
    expect(error.details).to.deep.include({ expected: "2", received: "1" });
  });

  it("refuses reordered frames", async function () {
    let held: Buffer | undefined;
    const { merchant, buyer } = await pair({}, (direction, index, frame, to) => {
      if (direction !== "toMerchant") return false;
      if (index === 2) {
        held = frame;
        return true;
      }
      if (index === 3 && held !== undefined) {
        to.write(frame);
        to.write(held);
        return true;
      }
      return false;
    });
    await buyer.send({ n: 1 });
    await buyer.send({ n: 2 });
    const error = await channelError(merchant.receive(), "OFFLINE_CHANNEL_REPLAY");
    expect(error.details).to.deep.include({ expected: "1", received: "2" });
  });

  it("refuses a truncated frame", async function () {
    const { merchant, buyer } = await pair({}, (direction, index, frame, to) => {
      if (direction !== "toMerchant" || index !== 2) return false;
      to.end(frame.subarray(0, 20));
      return true;
    });
    await buyer.send({ pay: "10" });
    const error = await channelError(merchant.receive(), "OFFLINE_CHANNEL_TAMPERED");
    expect(error.message).to.match(/truncated/);
  });

  it("refuses an oversized frame as soon as its header arrives", async function () {
    const { merchant, buyer } = await pair({}, (direction, index, _frame, to) => {
      if (direction !== "toMerchant" || index !== 2) return false;
      const header = Buffer.alloc(4);
      header.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
      to.write(header);
      return true;
    });
    await buyer.send({ pay: "10" });
    const error = await channelError(merchant.receive(), "OFFLINE_CHANNEL_OVERSIZED");
    expect(error.details).to.deep.include({ length: MAX_FRAME_BYTES + 1, max: MAX_FRAME_BYTES });
  });

  it("drops a garbage or truncated hello without crashing and keeps waiting for the buyer", async function () {
    const session = await open();
    for (const bytes of [
      randomBytes(200),
      Buffer.concat([Buffer.from([0, 0, 0, 51]), Buffer.alloc(51, 0xff)]),
      Buffer.from([0, 0, 0, 51, 1, 1, 2, 3]),
    ]) {
      const raw = createConnection({ host: "127.0.0.1", port: session.offer.port });
      raw.on("error", () => undefined);
      const closed = new Promise<void>((resolve) => raw.once("close", () => resolve()));
      raw.end(bytes);
      await closed;
    }
    await until(() => refused.length === 3);
    expect(refused.map((error) => [error.code, error.details["reason"]])).to.deep.equal([
      ["OFFLINE_CHANNEL_HANDSHAKE", "bad-hello"],
      ["OFFLINE_CHANNEL_HANDSHAKE", "bad-hello"],
      ["OFFLINE_CHANNEL_HANDSHAKE", "closed"],
    ]);
    const buyer = await connect(session.offerText());
    const merchant = await session.accept();
    await merchant.send({ ok: true });
    expect(await buyer.receive()).to.deep.equal({ ok: true });
  });

  it("refuses a hello for another session id", async function () {
    const session = await open();
    const wrong = encodeOffer({ ...session.offer, sessionId: "0x" + randomBytes(16).toString("hex") });
    await channelError(connectToMerchant(wrong), "OFFLINE_CHANNEL_REFUSED");
    await until(() => refused.length === 1);
    expect(refused[0]?.code).to.equal("OFFLINE_CHANNEL_HANDSHAKE");
    expect(refused[0]?.details["reason"]).to.equal("wrong-session");
    await connect(session.offerText());
    await session.accept();
  });

  it("accepts one buyer only: refuses a connection during a handshake and after it", async function () {
    const session = await open();
    const squatter = createConnection({ host: "127.0.0.1", port: session.offer.port });
    squatter.on("error", () => undefined);
    cleanup.push(async () => void squatter.destroy());
    await new Promise<void>((resolve) => squatter.once("connect", () => resolve()));
    await channelError(connectToMerchant(session.offerText()), "OFFLINE_CHANNEL_REFUSED");
    await until(() => refused.length === 1);
    expect(refused[0]?.details["reason"]).to.equal("busy");

    squatter.destroy();
    await until(() => refused.length === 2); // the squatter's handshake failed: the session is free again
    const buyer = await connect(session.offerText());
    const merchant = await session.accept();
    const second = await channelError(connectToMerchant(session.offerText()), "OFFLINE_CHANNEL_REFUSED");
    expect(second.details).to.deep.include({ host: "127.0.0.1", port: session.offer.port });
    await buyer.send({ first: "buyer" });
    expect(await merchant.receive()).to.deep.equal({ first: "buyer" });

    await session.close();
    await channelError(buyer.receive(), "OFFLINE_CHANNEL_CLOSED");
    await channelError(connectToMerchant(session.offerText()), "OFFLINE_CHANNEL_REFUSED");
  });

  it("lets the buyer detect an impostor holding another key at the offer's address", async function () {
    const genuine = await open();
    const impostor = await open();
    const forged = encodeOffer({ ...impostor.offer, merchantPublicKey: genuine.offer.merchantPublicKey });
    const error = await channelError(connectToMerchant(forged), "OFFLINE_CHANNEL_IMPOSTOR");
    expect(error.details["merchantPublicKey"]).to.equal(genuine.offer.merchantPublicKey);
    await until(() => refused.length === 1);
    expect(refused[0]?.code).to.equal("OFFLINE_CHANNEL_HANDSHAKE");
  });

  it("times out a silent buyer and a silent merchant", async function () {
    const session = await open({ handshakeTimeoutMs: 150 });
    const silent = createConnection({ host: "127.0.0.1", port: session.offer.port });
    silent.on("error", () => undefined);
    await new Promise<void>((resolve) => silent.once("close", () => resolve()));
    await until(() => refused.length === 1);
    expect(refused[0]?.code).to.equal("OFFLINE_CHANNEL_TIMEOUT");
    expect(refused[0]?.details["phase"]).to.equal("handshake");

    const sockets = new Set<Socket>();
    const mute = createServer((socket) => sockets.add(socket));
    const port = await listenLocal(mute);
    cleanup.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => mute.close(() => resolve()));
    });
    const error = await channelError(
      connectToMerchant(withPort(session.offerText(), port), { handshakeTimeoutMs: 150 }),
      "OFFLINE_CHANNEL_TIMEOUT",
    );
    expect(error.details["phase"]).to.equal("handshake");
  });

  it("closes an idle channel", async function () {
    const session = await open();
    const buyer = await connect(session.offerText(), { idleTimeoutMs: 100 });
    await session.accept();
    const error = await channelError(buyer.receive(), "OFFLINE_CHANNEL_TIMEOUT");
    expect(error.details["phase"]).to.equal("idle");
  });

  it("expires an unused session and refuses a closed one", async function () {
    const session = await open({ ttlMs: 100 });
    await channelError(session.accept(), "OFFLINE_SESSION_EXPIRED");
    badOffer(() => decodeOffer(session.offerText()), "expired");

    const closed = await open();
    await closed.close();
    await channelError(closed.accept(), "OFFLINE_SESSION_CLOSED");
    await channelError(connectToMerchant(closed.offerText()), "OFFLINE_CHANNEL_REFUSED");
  });

  it("validates its options", async function () {
    await channelError(MerchantSession.open({ handshakeTimeoutMs: 0 }), "OFFLINE_CHANNEL_BAD_OPTION");
    await channelError(MerchantSession.open({ maxFrameBytes: MAX_FRAME_BYTES + 1 }), "OFFLINE_CHANNEL_BAD_OPTION");
    try {
      await MerchantSession.open({ wallet: "0xnot" });
      expect.fail("expected a bad offer");
    } catch (error) {
      expect(error).to.be.instanceOf(OfflineSessionError);
    }
  });
});
