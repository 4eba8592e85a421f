/**
 * Red team of the keys part (docs/keys.md, "Threat model"): each attack as a test, written first against the code
 * as it was, failing, then the fix. The attackers: a malicious holder (it has its own static key and its own
 * genuine share), a holder that hangs or floods its answers, a stranger who knows only public keys, a griefer with
 * a wallet of its own that lists the victim holder, and a former holder after a rotation.
 */
import { expect } from "chai";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

import { getBytes, hexlify, HDNodeWallet, SigningKey, Wallet } from "ethers";

import { PUBLIC_TEST_MNEMONIC } from "../../src/chain/published-keys.js";
import { runNode } from "../helpers/processes.js";
import { Store } from "../../src/store/store.js";
import {
  acceptChannel,
  addressOfPublicKey,
  openChannel,
  type ChannelContext,
  type ChannelSession,
  type Hello,
} from "../../src/keys/channel.js";
import {
  HolderClient,
  holdersByIndex,
  recoverWallet,
  refreshWallet,
  splitWallet,
  walletIdOf,
} from "../../src/keys/client.js";
import { ShareHolder, type HolderResponse } from "../../src/keys/holder.js";
import { HolderStore, identityOf, loadOrCreateIdentity } from "../../src/keys/holder-store.js";
import { decodeShare, encodeShare, type KeyShare } from "../../src/keys/shares.js";
import { keysFixture, type KeysFixture } from "./helpers.js";

const root = HDNodeWallet.fromPhrase(PUBLIC_TEST_MNEMONIC, undefined, "m/44'/60'/0'/0");
const devnetKey = (index: number) => new Wallet(root.deriveChild(index).privateKey);

/**
 * A holder service under the attacker's control: it has the holder's static key (it is the holder, or its host),
 * so it completes every handshake, and answers each request with what `answer` says; `"hang"` never answers.
 */
async function rogueHolder(
  staticKey: Uint8Array,
  chain: { chainId: bigint; registry: string },
  answer: (
    context: ChannelContext,
    route: "identity" | "channel" | "frame",
  ) => HolderResponse | "hang" | "pass" | string,
): Promise<{ url: string; close(): Promise<void> }> {
  const identity = identityOf(staticKey);
  const sessions = new Map<string, { session: ChannelSession; context: ChannelContext }>();
  const hung: ServerResponse[] = [];
  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };
  const read = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  };
  const dummy: ChannelContext = { chainId: 0n, registry: "", walletId: "", index: 1, epoch: 0, purpose: "status" };
  const server: Server = createServer((req, res) => {
    void (async () => {
      if (req.method === "GET" && req.url === "/identity") {
        const what = answer(dummy, "identity");
        if (what === "hang") return void hung.push(res);
        if (typeof what === "string" && what !== "pass") return reply(res, 200, what);
        return reply(res, 200, {
          name: "rogue",
          protocol: "bank-chain/keys/channel/v1",
          address: identity.address,
          publicKey: hexlify(identity.publicKey),
          chainId: chain.chainId.toString(),
          registry: chain.registry,
        });
      }
      if (req.method === "POST" && req.url === "/channel") {
        const accepted = acceptChannel((await read(req)) as Hello, { staticKey });
        if (answer(accepted.context, "channel") === "hang") return void hung.push(res);
        const id = hexlify(getBytes(`0x${(sessions.size + 1).toString(16).padStart(32, "0")}`));
        sessions.set(id, { session: accepted.session, context: accepted.context });
        return reply(res, 201, { session: id, welcome: accepted.welcome });
      }
      const open = sessions.get(req.url!.slice("/channel/".length));
      if (req.method === "POST" && open !== undefined) {
        open.session.open((await read(req)) as never);
        const what = answer(open.context, "frame");
        if (what === "hang") return void hung.push(res);
        return reply(res, 200, open.session.seal(new TextEncoder().encode(JSON.stringify(what))));
      }
      reply(res, 404, { error: { code: "NOT_FOUND", message: "no" } });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e as { code: string; details: Record<string, unknown>; message: string },
  );

describe("keys: red team", function () {
  this.timeout(180_000);
  let f: KeysFixture;
  let owner: Wallet;
  let walletKey: Wallet;
  let walletId: string;

  before(async function () {
    f = await keysFixture(4);
    await f.startAll();
    owner = devnetKey(14).connect(f.suite.ethers.provider);
    walletKey = new Wallet(Wallet.createRandom().privateKey);
    const salt = `0x${"a1".repeat(32)}`;
    walletId = walletIdOf(owner.address, salt);
    const result = await splitWallet({
      chain: f.keysChain,
      owner,
      privateKey: getBytes(walletKey.privateKey),
      holders: f.holders.slice(0, 3).map((h) => h.client()),
      threshold: 2,
      recoverers: [],
      salt,
    });
    expect(result.deposits.every((d) => d.ok)).to.equal(true);
  });

  after(async function () {
    await f?.close();
  });

  const identityKeyOf = (i: number) =>
    getBytes(readFileSync(path.join(f.holders[i]!.dataDir, `keys-holder${i + 1}.identity`), "utf8").trim());
  const chainOf = () => ({ chainId: f.keysChain.chainId, registry: f.keysChain.registry.address });

  /** Everything that must never reach a log line: shares and salts seen, keys. */
  const secrets: string[] = [];

  /** Share `index` as its honest holder gives it to the owner. */
  async function genuineShare(index: number): Promise<KeyShare> {
    const wallet = await f.keysChain.registry.wallet(walletId);
    const session = await f.holders[index - 1]!.client().open(
      getBytes(owner.privateKey),
      { ...chainOf(), walletId, index, epoch: wallet.epoch, purpose: "fetch" },
      wallet.holders[index - 1]!,
    );
    const answer = await session.send({ op: "fetch" });
    if (answer.op !== "fetch") throw new Error("not a fetch");
    const share = decodeShare(answer.share);
    secrets.push(hexlify(share.share).slice(2), hexlify(share.salt).slice(2));
    return share;
  }

  it("a malicious holder returning its genuine share with the unbound `account`/`threshold` fields changed is named and skipped; recovery goes on with the honest holders", async function () {
    const share = await genuineShare(1);
    for (const forged of [
      { ...share, account: Wallet.createRandom().address },
      { ...share, threshold: 3 },
    ]) {
      const rogue = await rogueHolder(identityKeyOf(0), chainOf(), (_c, route) =>
        route === "frame" ? { ok: true, op: "fetch", share: encodeShare(forged) } : "pass",
      );
      try {
        const result = await recoverWallet({
          chain: f.keysChain,
          walletId,
          staticKey: getBytes(owner.privateKey),
          holders: [new HolderClient(rogue.url), f.holders[1]!.client(), f.holders[2]!.client()],
        });
        expect(hexlify(result.privateKey)).to.equal(walletKey.privateKey);
        expect(result.used).to.deep.equal([2, 3]);
        expect(result.holders.find((h) => h.index === 1)?.ok).to.equal(false);
      } finally {
        await rogue.close();
      }
    }
  });

  it("a network attacker at a holder's URL, showing the holder's address with its own public key, does not get the share the owner deposits", async function () {
    const wallet = await f.keysChain.registry.wallet(walletId);
    const share = await genuineShare(1);
    const mitmKey = getBytes(Wallet.createRandom().privateKey);
    const captured: string[] = [];
    const rogue = await rogueHolder(mitmKey, chainOf(), (_c, route) => {
      if (route === "identity") {
        // The real holder's name and address (public, from its /identity and the registry), the attacker's key.
        return JSON.stringify({
          name: "keys-holder1",
          protocol: "bank-chain/keys/channel/v1",
          address: wallet.holders[0],
          publicKey: hexlify(identityOf(mitmKey).publicKey),
          chainId: f.keysChain.chainId.toString(),
          registry: f.keysChain.registry.address,
        });
      }
      captured.push(route);
      return route === "frame" ? { ok: true, op: "deposit", stored: true, commitment: share.commitment } : "pass";
    });
    try {
      const client = new HolderClient(rogue.url);
      const refused = await failure(
        (async () => {
          const session = await client.open(
            getBytes(owner.privateKey),
            { ...chainOf(), walletId, index: 1, epoch: wallet.epoch, purpose: "deposit" },
            wallet.holders[0]!,
          );
          await session.send({ op: "deposit", share: encodeShare(share) });
        })(),
      );
      expect(captured, "the share reached the attacker").to.not.include("frame");
      expect(refused?.code).to.equal("KEYS_HOLDER_IDENTITY_INVALID");
      expect(refused?.details).to.deep.equal({
        url: rogue.url,
        claimed: wallet.holders[0],
        key: addressOfPublicKey(identityOf(mitmKey).publicKey),
      });
      // Matching holders by identity does not place the attacker either.
      expect((await holdersByIndex(wallet, [new HolderClient(rogue.url)])).size).to.equal(0);
    } finally {
      await rogue.close();
    }
  });

  it("a holder refuses a deposit whose account, threshold or total disagrees with the registry (it would never combine)", async function () {
    const share = await genuineShare(2);
    const wallet = await f.keysChain.registry.wallet(walletId);
    const holder = f.holders[1]!.client();
    // The owner (or its buggy client) re-deposits share 2 with fields the commitment does not cover changed: the
    // holder would answer `ok` (same commitment) and hand it out later, and every recovery using it would fail.
    for (const forged of [
      { ...share, account: Wallet.createRandom().address },
      { ...share, threshold: 3 },
      { ...share, total: 4 },
    ]) {
      const session = await holder.open(
        getBytes(owner.privateKey),
        { ...chainOf(), walletId, index: 2, epoch: wallet.epoch, purpose: "deposit" },
        wallet.holders[1]!,
      );
      const refused = await failure(session.send({ op: "deposit", share: encodeShare(forged) }));
      expect(refused?.code).to.equal("KEYS_SHARE_WRONG_PLACE");
    }
  });

  it("a holder that accepts the connection and never answers is timed out and skipped", async function () {
    this.timeout(30_000);
    const rogue = await rogueHolder(identityKeyOf(0), chainOf(), (_c, route) =>
      route === "channel" ? "hang" : "pass",
    );
    try {
      const started = Date.now();
      const result = await recoverWallet({
        chain: f.keysChain,
        walletId,
        staticKey: getBytes(owner.privateKey),
        holders: [new HolderClient(rogue.url, { timeoutMs: 1_000 }), f.holders[1]!.client(), f.holders[2]!.client()],
      });
      expect(result.used).to.deep.equal([2, 3]);
      expect(result.holders.find((h) => h.index === 1)?.code).to.equal("KEYS_HOLDER_TIMEOUT");
      expect(Date.now() - started).to.be.below(15_000);
    } finally {
      await rogue.close();
    }
  });

  it("a holder answering with a flood (4 MiB) is cut off, not buffered", async function () {
    const flood = JSON.stringify({ name: "x".repeat(4 * 1024 * 1024) });
    const rogue = await rogueHolder(identityKeyOf(0), chainOf(), (_c, route) =>
      route === "identity" ? flood : "pass",
    );
    try {
      const refused = await failure(new HolderClient(rogue.url).identity());
      expect(refused?.code).to.equal("KEYS_HOLDER_REPLY_TOO_LARGE");
    } finally {
      await rogue.close();
    }
  });

  it("a former holder drops its share once the wallet rotates away from it, without being asked", async function () {
    const refreshed = await refreshWallet({
      chain: f.keysChain,
      walletId,
      owner,
      holders: f.holders.map((h) => h.client()),
      newHolders: f.holders.slice(1, 4).map((h) => h.client()),
    });
    expect(refreshed.deposits.every((d) => d.ok)).to.equal(true);
    // Holder 1 is no longer listed; nobody asks it anything; it restarts (or its sweep runs).
    await f.holders[0]!.stop();
    await f.holders[0]!.start();
    const stored = (await (await fetch(`${f.holders[0]!.url}/wallets/${walletId}`)).json()) as { shares: unknown[] };
    expect(stored.shares).to.deep.equal([]);
  });

  it("held: an owner who handed the wallet over cannot use a channel it opened before, even mid-session", async function () {
    const wallet = await f.keysChain.registry.wallet(walletId);
    // After the refresh above, holder 2's service is the wallet's holder 1.
    const session = await f.holders[1]!.client().open(
      getBytes(owner.privateKey),
      { ...chainOf(), walletId, index: 1, epoch: wallet.epoch, purpose: "fetch" },
      wallet.holders[0]!,
    );
    const heir = devnetKey(17).connect(f.suite.ethers.provider);
    const registry = f.keysChain.registry.contract;
    await (await registry.connect(owner).transferWalletOwnership(walletId, heir.address)).wait();
    await (await registry.connect(heir).acceptWalletOwnership(walletId)).wait();
    try {
      expect((await failure(session.send({ op: "fetch" })))?.code).to.equal("KEYS_NOT_RECOVERER");
    } finally {
      await (await registry.connect(heir).transferWalletOwnership(walletId, owner.address)).wait();
      await (await registry.connect(owner).acceptWalletOwnership(walletId)).wait();
    }
  });

  it("held: after a rotation that swaps two holders, neither gives out its old share under the old or the new index", async function () {
    const before = await f.keysChain.registry.wallet(walletId);
    const [a, b, c] = before.holders as [string, string, string];
    const registry = f.keysChain.registry.contract.connect(owner);
    await (await registry.rotate(walletId, 2, [b, a, c], [...before.commitments])).wait();
    const ownerKey = getBytes(owner.privateKey);
    for (const [address, oldIndex, newIndex] of [
      [a, 1, 2],
      [b, 2, 1],
    ] as const) {
      const clients = f.holders.filter((h) => h.running).map((h) => h.client());
      const client = (
        await Promise.all(clients.map(async (cl) => ((await cl.identity()).address === address ? cl : undefined)))
      ).find((cl) => cl !== undefined)!;
      const ask = async (index: number, epoch: number) => {
        const opened = await client.open(ownerKey, { ...chainOf(), walletId, index, epoch, purpose: "fetch" }, address);
        return opened.send({ op: "fetch" });
      };
      // Its old place at the old epoch: refused as stale; the old index at the new epoch: not its place; its new
      // place: nothing stored (the old share does not move to the new index).
      expect((await failure(ask(oldIndex, before.epoch)))?.code).to.equal("KEYS_STALE_EPOCH");
      expect((await failure(ask(oldIndex, before.epoch + 1)))?.code).to.equal("KEYS_NOT_HOLDER");
      expect((await failure(ask(newIndex, before.epoch + 1)))?.code).to.equal("KEYS_NO_SHARE");
    }
  });

  it("held: a context naming another chain or registry is refused at the handshake", async function () {
    const wallet = await f.keysChain.registry.wallet(walletId);
    const holder = f.holders[2]!.client();
    const expected = (await holder.identity()).address;
    const index = wallet.holders.indexOf(expected) + 1;
    for (const spoof of [{ chainId: 1n }, { registry: f.suite.deployments.get("BankToken").address }]) {
      const refused = await failure(
        holder.open(
          getBytes(owner.privateKey),
          { ...chainOf(), ...spoof, walletId, index, epoch: wallet.epoch, purpose: "status" },
          expected,
        ),
      );
      expect(refused?.code).to.equal("KEYS_WRONG_REGISTRY");
    }
  });

  it("held: retiring a wallet closes it at once, a channel opened before included, and its holders drop its shares", async function () {
    const salt = `0x${"c1".repeat(32)}`;
    const key = new Wallet(Wallet.createRandom().privateKey);
    const split = await splitWallet({
      chain: f.keysChain,
      owner,
      privateKey: getBytes(key.privateKey),
      holders: f.holders.slice(0, 2).map((h) => h.client()),
      threshold: 2,
      recoverers: [],
      salt,
    });
    expect(split.deposits.every((d) => d.ok)).to.equal(true);
    const retired = split.walletId;
    const session = await f.holders[0]!.client().open(
      getBytes(owner.privateKey),
      { ...chainOf(), walletId: retired, index: 1, epoch: 1, purpose: "fetch" },
      split.holders[0]!,
    );
    await (await f.keysChain.registry.contract.connect(owner).retireWallet(retired)).wait();
    expect((await failure(session.send({ op: "fetch" })))?.code).to.equal("KEYS_WALLET_RETIRED");
    const left = (await (await fetch(`${f.holders[0]!.url}/wallets/${retired}`)).json()) as { shares: unknown[] };
    expect(left.shares).to.deep.equal([]);
    // Holder 2 was never asked: its sweep (at start, then every minute) drops the share.
    await f.holders[1]!.stop();
    await f.holders[1]!.start();
    const swept = (await (await fetch(`${f.holders[1]!.url}/wallets/${retired}`)).json()) as { shares: unknown[] };
    expect(swept.shares).to.deep.equal([]);
  });

  it("held: after all of the above, no holder log line holds a share, a salt or a key", function () {
    secrets.push(walletKey.privateKey.slice(2), owner.privateKey.slice(2));
    for (let i = 0; i < f.holders.length; i += 1) secrets.push(hexlify(identityKeyOf(i)).slice(2));
    expect(f.log.length).to.be.above(0);
    for (const line of f.log) for (const secret of secrets) expect(line.toLowerCase()).to.not.include(secret);
  });

  describe("session table", function () {
    let holder: ShareHolder;
    let store: Store;
    let holderStore: HolderStore;
    let griefer: Wallet;
    let griefWallet: string;
    const holderKey = secretOf(0x51);
    const identity = identityOf(holderKey);

    function secretOf(byte: number): Uint8Array {
      return getBytes(`0x${byte.toString(16).padStart(2, "0").repeat(32)}`);
    }

    const contextOf = (wallet: string, purpose: ChannelContext["purpose"] = "status"): ChannelContext => ({
      ...chainOf(),
      walletId: wallet,
      index: 1,
      epoch: 1,
      purpose,
    });

    /** A hello that claims `claimed`'s static public key; the sender has only a throw-away private key. */
    function forgedHello(claimed: Wallet, wallet: string): Hello {
      const { hello } = openChannel({
        staticKey: getBytes(Wallet.createRandom().privateKey),
        responderStatic: identity.publicKey,
        context: contextOf(wallet),
      });
      return { ...hello, initiatorStatic: SigningKey.computePublicKey(claimed.signingKey.publicKey, true) };
    }

    async function statusAs(key: Wallet, wallet: string): Promise<HolderResponse> {
      const channel = openChannel({
        staticKey: getBytes(key.privateKey),
        responderStatic: identity.publicKey,
        context: contextOf(wallet),
      });
      const opened = await holder.hello(channel.hello);
      const session = channel.finish(opened.welcome);
      const reply = await holder.frame(opened.session, session.seal(new TextEncoder().encode('{"op":"status"}')));
      return JSON.parse(new TextDecoder().decode(session.open(reply))) as HolderResponse;
    }

    before(async function () {
      // The victim wallet and the griefer's own wallet both list this holder at index 1.
      const registry = f.keysChain.registry.contract;
      const other = Wallet.createRandom().address;
      const commitments = [`0x${"01".repeat(32)}`, `0x${"02".repeat(32)}`];
      const victimOwner = devnetKey(15).connect(f.suite.ethers.provider);
      await (
        await registry.connect(victimOwner).createWallet(`0x${"b1".repeat(32)}`, {
          account: walletKey.address,
          threshold: 2,
          holders: [identity.address, other],
          commitments,
          recoverers: [],
        })
      ).wait();
      griefer = devnetKey(16).connect(f.suite.ethers.provider);
      await (
        await registry.connect(griefer).createWallet(`0x${"b2".repeat(32)}`, {
          account: griefer.address,
          threshold: 2,
          holders: [identity.address, other],
          commitments,
          recoverers: [],
        })
      ).wait();
      griefWallet = walletIdOf(griefer.address, `0x${"b2".repeat(32)}`);
    });

    beforeEach(function () {
      store = Store.open({ path: ":memory:" });
      holderStore = new HolderStore(store, identity);
      holder = new ShareHolder({
        name: "victim",
        identity,
        store: holderStore,
        registry: f.keysChain.registry,
        chainId: f.keysChain.chainId,
        log: () => undefined,
        maxSessions: 4,
      });
    });

    afterEach(function () {
      store.close();
    });

    const victimWallet = () => walletIdOf(devnetKey(15).address, `0x${"b1".repeat(32)}`);

    it("a stranger with only the owner's public key cannot fill the session table: unproven sessions give way", async function () {
      const victimOwner = devnetKey(15);
      for (let i = 0; i < 4; i += 1) await holder.hello(forgedHello(victimOwner, victimWallet()));
      expect(holder.openSessions).to.equal(4);
      // The real owner still gets in, and its session works.
      const answer = await statusAs(victimOwner, victimWallet());
      expect(answer).to.include({ ok: true, op: "status" });
    });

    it("unproven sessions expire after a short handshake deadline, not the full idle TTL", async function () {
      let now = 1_000_000;
      holder = new ShareHolder({
        name: "victim",
        identity,
        store: holderStore,
        registry: f.keysChain.registry,
        chainId: f.keysChain.chainId,
        log: () => undefined,
        maxSessions: 4,
        now: () => now,
      });
      await holder.hello(forgedHello(devnetKey(15), victimWallet()));
      now += 15_000;
      expect(holder.openSessions).to.equal(0);
    });

    it("a griefer with a wallet of its own that lists the holder cannot hold every slot with proven sessions", async function () {
      // Proven sessions (the griefer has its key): one peer gets a bounded share of the table.
      const held: string[] = [];
      for (let i = 0; i < 4; i += 1) {
        const result = await failure(statusAs(griefer, griefWallet));
        if (result === undefined) held.push("ok");
      }
      expect(held.length).to.be.below(4);
      const answer = await statusAs(devnetKey(15), victimWallet());
      expect(answer).to.include({ ok: true, op: "status" });
    });

    it("refused hellos and unopened frames from unproven peers write nothing to the audit table", async function () {
      for (let i = 0; i < 5; i += 1) {
        const stranger = Wallet.createRandom();
        const { hello } = openChannel({
          staticKey: getBytes(stranger.privateKey),
          responderStatic: identity.publicKey,
          context: contextOf(victimWallet()),
        });
        expect((await failure(holder.hello(hello)))?.code).to.equal("KEYS_NOT_RECOVERER");
      }
      // A forged hello in the owner's name and a garbage first frame: nobody proved anything.
      const opened = await holder.hello(forgedHello(devnetKey(15), victimWallet()));
      await failure(holder.frame(opened.session, { seq: 0, ciphertext: `0x${"00".repeat(32)}` }));
      expect(holderStore.auditOf(victimWallet().toLowerCase())).to.deep.equal([]);
    });
  });
});

describe("keys: red team, the CLI's key files", function () {
  this.timeout(120_000);
  let dir: string;
  const env = { BANK_CHAIN_KEYS_FILE_PASSPHRASE: "a keystore passphrase" };

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "bank-chain-keys-cli-"));
  });

  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("keys create --out does not follow a symlink planted at the path (a shared /tmp, as the docs' example uses)", async function () {
    const planted = path.join(dir, "wallet.json");
    const target = path.join(dir, "attacker-chosen");
    symlinkSync(target, planted);
    const run = await runNode(["bin/bank-chain.mjs", "--json", "keys", "create", "--out", planted], env);
    expect(run.code, run.stdout + run.stderr).to.not.equal(0);
    expect(existsSync(target), "the keystore went where the link points").to.equal(false);
  });

  it("held: keys create prints no private key without --show-key", async function () {
    const out = path.join(dir, "wallet.json");
    const run = await runNode(["bin/bank-chain.mjs", "--json", "keys", "create", "--out", out], env);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout + run.stderr).to.not.match(/0x[0-9a-fA-F]{64}/);
    expect(JSON.parse(run.stdout)).to.have.keys(["ok", "address", "keystore"]);
  });
});

describe("keys: red team, a holder's store at rest", function () {
  it("held: a sealed share moved to another row (another wallet, epoch or index) or read under another identity does not open", function () {
    const store = Store.open({ path: ":memory:" });
    try {
      const identity = identityOf(getBytes(`0x${"61".repeat(32)}`));
      const holderStore = new HolderStore(store, identity);
      const a = `0x${"aa".repeat(32)}`;
      const b = `0x${"bb".repeat(32)}`;
      holderStore.put(a, 1, 1, `0x${"01".repeat(32)}`, "share of a");
      holderStore.put(b, 1, 2, `0x${"02".repeat(32)}`, "share of b");
      expect(holderStore.get(b, 1, 2)).to.equal("share of b");
      // The attacker (write access to the database file, not to the identity file) copies a's sealed share into
      // b's row, then into a row of a at another epoch.
      store.run(
        "UPDATE key_shares SET nonce = (SELECT nonce FROM key_shares WHERE wallet_id = ?), sealed = (SELECT sealed FROM key_shares WHERE wallet_id = ?) WHERE wallet_id = ?",
        a,
        a,
        b,
      );
      expect(() => holderStore.get(b, 1, 2))
        .to.throw()
        .with.property("code", "KEYS_STORE_CORRUPT");
      store.run("UPDATE key_shares SET epoch = 2 WHERE wallet_id = ?", a);
      expect(() => holderStore.get(a, 2, 1))
        .to.throw()
        .with.property("code", "KEYS_STORE_CORRUPT");
      // The same database under another identity (a restored backup with a new key file) opens nothing either.
      store.run("UPDATE key_shares SET epoch = 1 WHERE wallet_id = ?", a);
      const other = new HolderStore(store, identityOf(getBytes(`0x${"62".repeat(32)}`)));
      expect(() => other.get(a, 1, 1))
        .to.throw()
        .with.property("code", "KEYS_STORE_CORRUPT");
      expect(holderStore.get(a, 1, 1)).to.equal("share of a");
    } finally {
      store.close();
    }
  });
});

describe("keys: red team, a holder's identity file", function () {
  let dir: string;

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "bank-chain-keys-identity-"));
  });

  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses an identity key file that others may read (restored from a backup as 0644, say)", function () {
    const file = path.join(dir, "keys-holder1.identity");
    writeFileSync(file, `0x${"61".repeat(32)}\n`);
    chmodSync(file, 0o644);
    expect(() => loadOrCreateIdentity(file))
      .to.throw()
      .with.property("code", "KEYS_IDENTITY_EXPOSED");
  });

  it("a dangling symlink at the identity path is refused, not followed into an endless retry", function () {
    const file = path.join(dir, "keys-holder1.identity");
    symlinkSync(path.join(dir, "elsewhere"), file);
    expect(() => loadOrCreateIdentity(file))
      .to.throw()
      .with.property("code", "KEYS_IDENTITY_INVALID");
    expect(existsSync(path.join(dir, "elsewhere"))).to.equal(false);
  });
});
