/**
 * The share holders as services, through their HTTP API and the client flows (docs/keys.md): split and deposit,
 * recover with a holder down, a permit signed by the recovered key accepted by BankToken, refresh under a new
 * epoch, a new holder set, guardians; and the attacks: an impostor holder, a peer the registry does not name, a
 * tampered deposit, a replayed frame, a stale epoch, keys or shares in a log.
 */
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import { AddressInfo } from "node:net";
import path from "node:path";

import { getBytes, hexlify, HDNodeWallet, id, Wallet } from "ethers";

import { close, listen } from "../../src/chain/http-server.js";
import { signPermit } from "../../src/chain/permit.js";
import { acceptChannel, openChannel, type ChannelContext, type Hello } from "../../src/keys/channel.js";
import { ShareHolder } from "../../src/keys/holder.js";
import { HolderStore, loadOrCreateIdentity } from "../../src/keys/holder-store.js";
import { Store } from "../../src/store/store.js";
import { HolderClient, recoverWallet, refreshWallet, splitWallet, walletIdOf } from "../../src/keys/client.js";
import { recoveryKey } from "../../src/keys/recovery.js";
import { combineKey, decodeShare, encodeShare, splitKey, type KeyShare } from "../../src/keys/shares.js";
import { PUBLIC_TEST_MNEMONIC } from "../../src/chain/published-keys.js";
import { keysFixture, type KeysFixture } from "./helpers.js";

const PASSPHRASE = "correct horse battery staple, twice over";
/** A cheap scrypt for the tests that are not about its cost (the recovery tests use the real one). */
const root = HDNodeWallet.fromPhrase(PUBLIC_TEST_MNEMONIC, undefined, "m/44'/60'/0'/0");
const devnetKey = (index: number) => new Wallet(root.deriveChild(index).privateKey);

describe("keys: share holders end to end", function () {
  this.timeout(180_000);
  let f: KeysFixture;
  let owner: Wallet;
  let walletKey: Wallet;
  let walletId: string;
  let recovery: { privateKey: Uint8Array; address: string };
  let guardian: Wallet;

  before(async function () {
    f = await keysFixture(4);
    await f.startAll();
    owner = devnetKey(12).connect(f.suite.ethers.provider);
    guardian = devnetKey(13);
    walletKey = new Wallet(Wallet.createRandom().privateKey);
    const salt = hexlify(getBytes(`0x${"11".repeat(32)}`));
    walletId = walletIdOf(owner.address, salt);
    recovery = await recoveryKey(PASSPHRASE, {
      chainId: f.keysChain.chainId,
      registry: f.keysChain.registry.address,
      walletId,
    });
    const result = await splitWallet({
      chain: f.keysChain,
      owner,
      privateKey: getBytes(walletKey.privateKey),
      holders: f.holders.slice(0, 3).map((h) => h.client()),
      threshold: 2,
      recoverers: [recovery.address, guardian.address],
      salt,
    });
    expect(result.walletId).to.equal(walletId);
    expect(
      result.deposits.every((d) => d.ok),
      JSON.stringify(result.deposits),
    ).to.equal(true);
  });

  after(async function () {
    await f?.close();
  });

  const clients = () => f.holders.filter((h) => h.running).map((h) => h.client());

  it("registers the wallet on chain and each holder stores exactly its own share, sealed at rest", async function () {
    const wallet = await f.keysChain.registry.wallet(walletId);
    expect(wallet.epoch).to.equal(1);
    expect(wallet.threshold).to.equal(2);
    expect(wallet.account).to.equal(walletKey.address);
    for (const [i, holder] of f.holders.slice(0, 3).entries()) {
      const identity = await holder.client().identity();
      expect(identity.address).to.equal(wallet.holders[i]);
      const stored = (await (await fetch(`${holder.url}/wallets/${walletId}`)).json()) as {
        shares: Array<{ epoch: number; index: number; commitment: string }>;
      };
      expect(stored.shares).to.have.length(1);
      expect(stored.shares[0]).to.include({ epoch: 1, index: i + 1, commitment: wallet.commitments[i] });
    }
    const fourth = (await (await fetch(`${f.holders[3]!.url}/wallets/${walletId}`)).json()) as { shares: unknown[] };
    expect(fourth.shares).to.deep.equal([]);
  });

  it("GET /wallets lists every share a holder stores, newest first, a page at a time, each once, never a share", async function () {
    const others: string[] = [];
    for (const fill of ["5a", "5b"]) {
      const salt = `0x${fill.repeat(32)}`;
      const result = await splitWallet({
        chain: f.keysChain,
        owner,
        privateKey: getBytes(Wallet.createRandom().privateKey),
        holders: f.holders.slice(0, 3).map((h) => h.client()),
        threshold: 2,
        recoverers: [recovery.address],
        salt,
      });
      expect(result.deposits.every((d) => d.ok)).to.equal(true);
      others.push(result.walletId);
    }
    type Listed = {
      items: Array<{ walletId: string; epoch: number; index: number; storedAt: string }>;
      nextCursor: string | null;
      error?: { field?: string };
    };
    const list = async (url: string, query: string) => {
      const reply = await fetch(`${url}/wallets${query}`);
      return { status: reply.status, body: (await reply.json()) as Listed };
    };
    for (const [i, holder] of f.holders.slice(0, 3).entries()) {
      const whole = await list(holder.url, "");
      expect(whole.status).to.equal(200);
      expect(whole.body.nextCursor).to.equal(null);
      expect(whole.body.items.map((item) => item.walletId)).to.have.members([walletId, ...others]);
      for (const item of whole.body.items) {
        expect(Object.keys(item).sort()).to.deep.equal(["epoch", "index", "storedAt", "walletId"]);
        expect(item).to.include({ epoch: 1, index: i + 1 });
        expect(Date.parse(item.storedAt)).to.be.within(Date.now() - 600_000, Date.now() + 60_000);
      }
      // Newest first: by time, then by wallet id, descending.
      const order = whole.body.items.map((item) => `${item.storedAt} ${item.walletId}`);
      expect(order).to.deep.equal([...order].sort().reverse());
      expect(whole.body.items.at(-1)!.walletId).to.equal(walletId);
      const paged: Listed["items"] = [];
      let cursor: string | null = null;
      do {
        const page = await list(holder.url, `?limit=1${cursor === null ? "" : `&cursor=${cursor}`}`);
        expect(page.status).to.equal(200);
        expect(page.body.items).to.have.length(1);
        paged.push(...page.body.items);
        cursor = page.body.nextCursor;
      } while (cursor !== null && paged.length < 10);
      expect(paged).to.deep.equal(whole.body.items);
    }
    expect((await list(f.holders[3]!.url, "")).body.items).to.deep.equal([]);
    for (const [query, field] of [
      ["?limit=0", "limit"],
      ["?limit=501", "limit"],
      ["?cursor=bm90LWpzb24", "cursor"], // "not-json"
      ["?cursor=WzEsIjB4MTIiLDEsMV0", "cursor"], // [1,"0x12",1,1]: not a wallet id
      ["?walletId=0x12", "walletId"],
    ] as const) {
      const { status, body } = await list(f.holders[0]!.url, query);
      expect([query, status, body.error?.field]).to.deep.equal([query, 400, field]);
    }
  });

  it("anyone can tell a good share from a corrupted one on chain: ShareRegistry recomputes the same commitment", async function () {
    const wallet = await f.keysChain.registry.wallet(walletId);
    for (const index of [1, 2, 3]) {
      const share = await fetchShare(f, wallet.holders[index - 1]!, index, wallet.epoch, recovery.privateKey, walletId);
      const registry = f.keysChain.registry.contract;
      expect(await registry.shareCommitment(walletId, wallet.epoch, index, share.salt, share.share)).to.equal(
        share.commitment,
      );
      expect(await registry.isShareValid(walletId, index, share.salt, share.share)).to.equal(true);
      const flipped = Uint8Array.from(share.share);
      flipped[5] = flipped[5]! ^ 1;
      expect(await registry.isShareValid(walletId, index, share.salt, flipped)).to.equal(false);
      // The same share under another index is not valid either (a swapped share is named, not combined).
      expect(await registry.isShareValid(walletId, (index % 3) + 1, share.salt, share.share)).to.equal(false);
    }
  });

  it("recovers with the passphrase-derived key while one holder is down, and the key signs a permit BankToken accepts", async function () {
    await f.holders[1]!.stop();
    try {
      const result = await recoverWallet({
        chain: f.keysChain,
        walletId,
        staticKey: recovery.privateKey,
        holders: clients(),
      });
      expect(hexlify(result.privateKey)).to.equal(walletKey.privateKey);
      expect(result.used).to.deep.equal([1, 3]);
      expect(result.holders.find((h) => h.index === 2)).to.include({ ok: false, code: "KEYS_HOLDER_UNKNOWN" });

      // The recovered key signs an EIP-2612 permit; a spender submits it and moves the wallet's tokens.
      const recovered = new Wallet(hexlify(result.privateKey), f.suite.ethers.provider);
      const token = f.suite.token;
      const [, , , , , , , , , , funder, spender] = await f.suite.ethers.getSigners();
      // Bank A mints 10.00 to the wallet against a fiat deposit.
      await (await f.suite.trustA.mintForDeposit(recovered.address, 1_000n, id("keys/permit-test"))).wait();
      const deadline = BigInt((await f.suite.ethers.provider.getBlock("latest"))!.timestamp) + 3_600n;
      const { signature } = await signPermit(token, recovered, spender!.address, 600n, deadline);
      await (
        await token
          .connect(funder!)
          ["permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"](
            recovered.address,
            spender!.address,
            600n,
            deadline,
            signature.v,
            signature.r,
            signature.s,
          )
      ).wait();
      expect(await token.allowance(recovered.address, spender!.address)).to.equal(600n);
      await (await token.connect(spender!).transferFrom(recovered.address, spender!.address, 600n)).wait();
      expect(await token.balanceOf(recovered.address)).to.equal(400n);
    } finally {
      await f.holders[1]!.start();
    }
  });

  it("a guardian's key recovers too; a key the registry does not name is refused before any share moves", async function () {
    const result = await recoverWallet({
      chain: f.keysChain,
      walletId,
      staticKey: getBytes(guardian.privateKey),
      holders: clients(),
    });
    expect(result.account).to.equal(walletKey.address);

    const stranger = Wallet.createRandom();
    const error = await recoverWallet({
      chain: f.keysChain,
      walletId,
      staticKey: getBytes(stranger.privateKey),
      holders: clients(),
    }).then(
      () => undefined,
      (e: unknown) => e as { code: string; details: { holders: Array<{ code?: string }> } },
    );
    expect(error?.code).to.equal("KEYS_TOO_FEW_SHARES");
    expect(error?.details.holders.filter((h) => h.code === "KEYS_NOT_RECOVERER")).to.have.length(3);
    // Each holder wrote down who asked and what came of it.
    const audit = await fetch(`${f.holders[0]!.url}/wallets/${walletId}`);
    expect(audit.status).to.equal(200);
  });

  it("refuses an impostor: a server that shows holder 1's identity but lacks its key fails the handshake", async function () {
    const real = await f.holders[0]!.client().identity();
    const impostorKey = Wallet.createRandom();
    const server: Server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        if (request.url === "/identity") {
          response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(real));
          return;
        }
        // It answers the hello as if it were addressed to its own key.
        const hello = JSON.parse(body) as Hello;
        const ownPublic = hexlify(getBytes(impostorKey.signingKey.compressedPublicKey));
        const accepted = acceptChannel(
          { ...hello, responderStatic: ownPublic },
          { staticKey: getBytes(impostorKey.privateKey) },
        );
        response
          .writeHead(201, { "content-type": "application/json" })
          .end(JSON.stringify({ session: `0x${"ab".repeat(16)}`, welcome: accepted.welcome }));
      });
    });
    const url = await listen(server, 0, "127.0.0.1");
    try {
      const wallet = await f.keysChain.registry.wallet(walletId);
      const client = new HolderClient(url);
      const context = {
        chainId: f.keysChain.chainId,
        registry: f.keysChain.registry.address,
        walletId,
        index: 1,
        epoch: wallet.epoch,
        purpose: "fetch" as const,
      };
      const error = await client.open(recovery.privateKey, context, wallet.holders[0]!).then(
        () => undefined,
        (e: unknown) => e as { code: string },
      );
      expect(error?.code).to.equal("KEYS_CHANNEL_IMPOSTOR");
    } finally {
      await close(server);
    }
    expect((server.address() as AddressInfo | null) ?? null).to.equal(null);
  });

  it("a holder answering as another address is refused before the handshake", async function () {
    const wallet = await f.keysChain.registry.wallet(walletId);
    const context = {
      chainId: f.keysChain.chainId,
      registry: f.keysChain.registry.address,
      walletId,
      index: 1,
      epoch: wallet.epoch,
      purpose: "fetch" as const,
    };
    const error = await f.holders[3]!.client()
      .open(recovery.privateKey, context, wallet.holders[0]!)
      .then(
        () => undefined,
        (e: unknown) => e as { code: string },
      );
    expect(error?.code).to.equal("KEYS_HOLDER_MISMATCH");
    expect((error as unknown as { details: unknown }).details).to.deep.equal({ url: f.holders[3]!.url, index: 1 });
  });

  it("refuses a deposit from anyone but the owner, and a share the registry did not commit to", async function () {
    const wallet = await f.keysChain.registry.wallet(walletId);
    const holder = f.holders[0]!.client();
    const place = {
      chainId: f.keysChain.chainId,
      registry: f.keysChain.registry.address,
      walletId,
      index: 1,
      epoch: wallet.epoch,
    };
    const byRecoverer = await holder
      .open(recovery.privateKey, { ...place, purpose: "deposit" }, wallet.holders[0]!)
      .then(
        () => undefined,
        (e: unknown) => e as { code: string },
      );
    expect(byRecoverer?.code).to.equal("KEYS_NOT_OWNER");

    // The owner with a share of another split of the same key: well-formed, but not the committed one.
    const [other] = await splitKey(getBytes(walletKey.privateKey), {
      chainId: f.keysChain.chainId,
      registry: f.keysChain.registry.address,
      walletId,
      account: walletKey.address,
      epoch: wallet.epoch,
      threshold: 2,
      total: 3,
    });
    const session = await holder.open(getBytes(owner.privateKey), { ...place, purpose: "deposit" }, wallet.holders[0]!);
    const refused = await session.send({ op: "deposit", share: encodeShare(other!) }).then(
      () => undefined,
      (e: unknown) => e as { code: string },
    );
    expect(refused?.code).to.equal("KEYS_SHARE_TAMPERED");
    const stored = (await (await fetch(`${f.holders[0]!.url}/wallets/${walletId}`)).json()) as {
      shares: Array<{ commitment: string }>;
    };
    expect(stored.shares.map((s) => s.commitment)).to.deep.equal([wallet.commitments[0]]);
    // A channel opened to deposit cannot fetch.
    const wrong = await session.send({ op: "fetch" }).then(
      () => undefined,
      (e: unknown) => e as { code: string },
    );
    expect(wrong?.code).to.equal("KEYS_WRONG_PURPOSE");
  });

  it("refuses a deposit of a well-formed share for another place than the channel's: chain, registry, wallet, index, epoch", async function () {
    const wallet = await f.keysChain.registry.wallet(walletId);
    const holder = f.holders[0]!.client();
    const scope = {
      chainId: f.keysChain.chainId,
      registry: f.keysChain.registry.address,
      walletId,
      account: walletKey.address,
      epoch: wallet.epoch,
      threshold: 2,
      total: 3,
    };
    const key = getBytes(walletKey.privateKey);
    const session = await holder.open(
      getBytes(owner.privateKey),
      { ...scope, index: 1, purpose: "deposit" },
      wallet.holders[0]!,
    );
    const elsewhere: Array<[string, KeyShare]> = [
      ["index 2 in index 1's channel", (await splitKey(key, scope))[1]!],
      ["another chain", (await splitKey(key, { ...scope, chainId: 1n }))[0]!],
      ["another registry", (await splitKey(key, { ...scope, registry: owner.address }))[0]!],
      ["another wallet", (await splitKey(key, { ...scope, walletId: `0x${"ab".repeat(32)}` }))[0]!],
      ["the next epoch", (await splitKey(key, { ...scope, epoch: wallet.epoch + 1 }))[0]!],
    ];
    for (const [what, share] of elsewhere) {
      const refused = await session.send({ op: "deposit", share: encodeShare(share) }).then(
        () => undefined,
        (e: unknown) => e as { code: string },
      );
      expect(refused?.code, what).to.equal("KEYS_SHARE_WRONG_PLACE");
    }
    const stored = (await (await fetch(`${f.holders[0]!.url}/wallets/${walletId}`)).json()) as {
      shares: Array<{ commitment: string }>;
    };
    expect(stored.shares.map((s) => s.commitment)).to.deep.equal([wallet.commitments[0]]);
  });

  it("status: a holder says whether it stores the share of a place, and its commitment, without handing it over", async function () {
    const wallet = await f.keysChain.registry.wallet(walletId);
    const place = {
      chainId: f.keysChain.chainId,
      registry: f.keysChain.registry.address,
      walletId,
      index: 1,
      epoch: wallet.epoch,
      purpose: "status" as const,
    };
    const session = await f.holders[0]!.client().open(recovery.privateKey, place, wallet.holders[0]!);
    expect(await session.send({ op: "status" })).to.deep.equal({
      ok: true,
      op: "status",
      stored: true,
      commitment: wallet.commitments[0],
    });
    // A wallet registered with the same holders whose shares were never deposited: nothing stored.
    const bare = walletIdOf(owner.address, `0x${"22".repeat(32)}`);
    await (
      await f.keysChain.registry.contract.connect(owner).createWallet(`0x${"22".repeat(32)}`, {
        account: walletKey.address,
        threshold: 2,
        holders: [...wallet.holders],
        commitments: [1, 2, 3].map((i) => `0x${i.toString(16).padStart(64, "0")}`),
        recoverers: [],
      })
    ).wait();
    const empty = await f.holders[0]!.client().open(
      getBytes(owner.privateKey),
      { ...place, walletId: bare, epoch: 1 },
      wallet.holders[0]!,
    );
    expect(await empty.send({ op: "status" })).to.deep.equal({
      ok: true,
      op: "status",
      stored: false,
      commitment: null,
    });
  });

  it("the client refuses a holder whose identity is not a key, or is not found, with the holder's reason", async function () {
    const missing = await new HolderClient(`${f.holders[0]!.url}/nowhere`).identity().then(
      () => undefined,
      (e: unknown) => e as { code: string },
    );
    expect(missing?.code).to.equal("ROUTE_NOT_FOUND");
    const real = await f.holders[0]!.client().identity();
    for (const publicKey of ["0x1234", `0x02${"00".repeat(32)}`]) {
      const server: Server = createServer((_request, response) => {
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ...real, publicKey }));
      });
      const url = await listen(server, 0, "127.0.0.1");
      try {
        const error = await new HolderClient(url).identity().then(
          () => undefined,
          (e: unknown) => e as { code: string; details: Record<string, unknown> },
        );
        expect(error?.code, publicKey).to.equal("KEYS_HOLDER_IDENTITY_INVALID");
        expect(error?.details, publicKey).to.deep.equal({ url });
      } finally {
        await close(server);
      }
    }
  });

  it("a holder's refusals at the handshake carry what was wrong to an in-process caller", async function () {
    const wallet = await f.keysChain.registry.wallet(walletId);
    const identity = loadOrCreateIdentity(path.join(f.holders[0]!.dataDir, "keys-holder1.identity"));
    const store = Store.open({ path: ":memory:" });
    try {
      const holder = new ShareHolder({
        name: "in-process",
        identity,
        store: new HolderStore(store, identity),
        registry: f.keysChain.registry,
        chainId: f.keysChain.chainId,
        log: () => undefined,
      });
      const place = {
        chainId: f.keysChain.chainId,
        registry: f.keysChain.registry.address,
        walletId,
        index: 1,
        epoch: wallet.epoch,
        purpose: "fetch" as const,
      };
      const refusal = async (staticKey: Uint8Array, context: ChannelContext) =>
        holder.hello(openChannel({ staticKey, responderStatic: identity.publicKey, context }).hello).then(
          () => undefined,
          (e: unknown) => e as { code: string; details: Record<string, unknown> },
        );
      const stranger = Wallet.createRandom();
      const cases: Array<[string, Uint8Array, ChannelContext, Record<string, unknown>]> = [
        [
          "KEYS_WRONG_REGISTRY",
          recovery.privateKey,
          { ...place, registry: owner.address },
          { chainId: "31337", registry: owner.address },
        ],
        ["KEYS_STALE_EPOCH", recovery.privateKey, { ...place, epoch: 7 }, { epoch: 7, current: wallet.epoch }],
        ["KEYS_NOT_HOLDER", recovery.privateKey, { ...place, index: 2 }, { index: 2 }],
        ["KEYS_NOT_OWNER", recovery.privateKey, { ...place, purpose: "deposit" }, { peer: recovery.address }],
        ["KEYS_NOT_RECOVERER", getBytes(stranger.privateKey), place, { peer: stranger.address }],
      ];
      for (const [code, key, context, details] of cases) {
        const error = await refusal(key, context);
        expect(error?.code, code).to.equal(code);
        expect(error?.details, code).to.deep.equal(details);
      }
      // A retired wallet that lists this holder.
      const salt = `0x${"33".repeat(32)}`;
      const retiredId = walletIdOf(owner.address, salt);
      const registry = f.keysChain.registry.contract.connect(owner);
      await (
        await registry.createWallet(salt, {
          account: walletKey.address,
          threshold: 2,
          holders: [...wallet.holders],
          commitments: [1, 2, 3].map((i) => `0x${i.toString(16).padStart(64, "0")}`),
          recoverers: [],
        })
      ).wait();
      await (await registry.retireWallet(retiredId)).wait();
      const retired = await refusal(getBytes(owner.privateKey), { ...place, walletId: retiredId, epoch: 1 });
      expect(retired?.code).to.equal("KEYS_WALLET_RETIRED");
      expect(retired?.details).to.deep.equal({ walletId: retiredId });
    } finally {
      store.close();
    }
  });

  it("refuses a replayed frame over HTTP and closes the session", async function () {
    const wallet = await f.keysChain.registry.wallet(walletId);
    const identity = await f.holders[0]!.client().identity();
    const channel = openChannel({
      staticKey: recovery.privateKey,
      responderStatic: getBytes(identity.publicKey),
      context: {
        chainId: f.keysChain.chainId,
        registry: f.keysChain.registry.address,
        walletId,
        index: 1,
        epoch: wallet.epoch,
        purpose: "fetch",
      },
    });
    const post = (path: string, body: unknown) =>
      fetch(`${f.holders[0]!.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const opened = (await (await post("/channel", channel.hello)).json()) as { session: string; welcome: never };
    const session = channel.finish(opened.welcome);
    const frame = session.seal(new TextEncoder().encode(JSON.stringify({ op: "fetch" })));
    const first = await post(`/channel/${opened.session}`, frame);
    expect(first.status).to.equal(200);
    const share = decodeShare(
      (JSON.parse(new TextDecoder().decode(session.open((await first.json()) as never))) as { share: string }).share,
    );
    expect(share.index).to.equal(1);
    const replay = await post(`/channel/${opened.session}`, frame);
    expect(replay.status).to.equal(409);
    expect(((await replay.json()) as { error: { code: string } }).error.code).to.equal("KEYS_CHANNEL_REPLAYED");
    const next = session.seal(new TextEncoder().encode(JSON.stringify({ op: "fetch" })));
    const after = await post(`/channel/${opened.session}`, next);
    expect(after.status).to.equal(404);
    expect(((await after.json()) as { error: { code: string } }).error.code).to.equal("KEYS_SESSION_UNKNOWN");
  });

  it("a restarted holder keeps its identity and its share", async function () {
    const before = await f.holders[2]!.client().identity();
    await f.holders[2]!.stop();
    await f.holders[2]!.start();
    const after = await f.holders[2]!.client().identity();
    expect(after.address).to.equal(before.address);
    const stored = (await (await fetch(`${f.holders[2]!.url}/wallets/${walletId}`)).json()) as { shares: unknown[] };
    expect(stored.shares).to.have.length(1);
  });

  it("refresh: new shares under epoch 2 to a new holder set; old shares are refused by holders and by combine", async function () {
    // A share of epoch 1, kept by someone who stole it before the refresh.
    const before = await recoverWallet({
      chain: f.keysChain,
      walletId,
      staticKey: recovery.privateKey,
      holders: clients(),
    });
    expect(before.wallet.epoch).to.equal(1);
    const wallet1 = before.wallet;
    const stolen = await fetchShare(f, wallet1.holders[0]!, 1, wallet1.epoch, recovery.privateKey, walletId);

    const all = clients();
    const result = await refreshWallet({
      chain: f.keysChain,
      walletId,
      owner,
      holders: all,
      // Holder 3 leaves; holder 4 joins.
      newHolders: [f.holders[0]!.client(), f.holders[1]!.client(), f.holders[3]!.client()],
    });
    expect(result.epoch).to.equal(2);
    expect(
      result.deposits.every((d) => d.ok),
      JSON.stringify(result.deposits),
    ).to.equal(true);
    const wallet2 = await f.keysChain.registry.wallet(walletId);
    expect(wallet2.holders[2]).to.equal((await f.holders[3]!.client().identity()).address);

    // Holders refuse the old epoch.
    const stale = await fetchShare(f, wallet1.holders[0]!, 1, 1, recovery.privateKey, walletId).then(
      () => undefined,
      (e: unknown) => e as { code: string },
    );
    expect(stale?.code).to.equal("KEYS_STALE_EPOCH");
    // The holder that left is no longer a holder; contacted, it drops its old share.
    const left = await fetchShare(f, wallet1.holders[2]!, 3, 2, recovery.privateKey, walletId).then(
      () => undefined,
      (e: unknown) => e as { code: string },
    );
    expect(left?.code).to.equal("KEYS_NOT_HOLDER");
    const leftStore = (await (await fetch(`${f.holders[2]!.url}/wallets/${walletId}`)).json()) as { shares: unknown[] };
    expect(leftStore.shares).to.deep.equal([]);
    // Holders that stayed keep only epoch 2.
    const kept = (await (await fetch(`${f.holders[0]!.url}/wallets/${walletId}`)).json()) as {
      shares: Array<{ epoch: number }>;
    };
    expect(kept.shares.map((s) => s.epoch)).to.deep.equal([2]);

    // The stolen old share does not combine with a new one: named by index.
    const fresh = await fetchShare(f, wallet2.holders[1]!, 2, 2, recovery.privateKey, walletId);
    const mixed = await combineKey([stolen, fresh], {
      chainId: f.keysChain.chainId,
      registry: f.keysChain.registry.address,
      walletId,
      account: wallet2.account,
      epoch: wallet2.epoch,
      threshold: wallet2.threshold,
      commitments: wallet2.commitments,
    }).then(
      () => undefined,
      (e: unknown) => e as { code: string; details: { index: number } },
    );
    expect(mixed?.code).to.equal("KEYS_SHARE_STALE");
    expect(mixed?.details.index).to.equal(1);

    // The new shares recover the same key, with the new holder set, holder 1 down.
    await f.holders[0]!.stop();
    try {
      const after = await recoverWallet({
        chain: f.keysChain,
        walletId,
        staticKey: recovery.privateKey,
        holders: clients(),
      });
      expect(hexlify(after.privateKey)).to.equal(walletKey.privateKey);
      expect(after.used).to.deep.equal([2, 3]);
    } finally {
      await f.holders[0]!.start();
    }
  });

  it("no holder log line holds the wallet key, a recovery key or a share", function () {
    const secrets = [walletKey.privateKey.slice(2), hexlify(recovery.privateKey).slice(2)].map((s) => s.toLowerCase());
    for (const line of f.log) for (const secret of secrets) expect(line.toLowerCase()).not.to.include(secret);
    expect(f.log.join("\n")).not.to.match(/"share"\s*:/);
  });
});

/** Fetches share `index` of `epoch` from the holder with address `holder`, as `staticKey`. */
async function fetchShare(
  f: KeysFixture,
  holder: string,
  index: number,
  epoch: number,
  staticKey: Uint8Array,
  walletId: string,
): Promise<KeyShare> {
  for (const h of f.holders.filter((x) => x.running)) {
    const client = h.client();
    if ((await client.identity()).address !== holder) continue;
    const session = await client.open(
      staticKey,
      {
        chainId: f.keysChain.chainId,
        registry: f.keysChain.registry.address,
        walletId,
        index,
        epoch,
        purpose: "fetch",
      },
      holder,
    );
    const answer = await session.send({ op: "fetch" });
    if (answer.op !== "fetch") throw new Error("not a fetch answer");
    return decodeShare(answer.share);
  }
  throw new Error(`no running holder is ${holder}`);
}
