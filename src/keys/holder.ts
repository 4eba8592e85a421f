/**
 * A share holder (docs/keys.md, "Holders"): it answers channel handshakes addressed to its static key, and inside
 * a channel takes a share for safekeeping (`deposit`), hands it back (`fetch`) or says what it holds (`status`).
 * It decides only from the chain: the `ShareRegistry` says which wallet has which holders, epoch, commitments,
 * owner and recoverers. Transport-free: `http.ts` carries the handshakes and frames.
 *
 * What a holder checks, each time (at the handshake and again at every operation, since the registry may change in
 * between):
 * - the context names this chain and registry, a wallet that exists and is not retired, its current epoch, and an
 *   index at which the registry lists this holder;
 * - `deposit`: the peer's static key is the wallet owner's, and the share's commitment equals the registry's for
 *   that index and epoch (a share the owner did not commit to is refused, never stored);
 * - `fetch` and `status`: the peer is the owner or one of the wallet's recoverers (a passphrase-derived recovery key
 *   or a guardian);
 * - the operation matches the channel's purpose (a channel opened to deposit cannot fetch).
 * Shares of an older epoch are deleted as soon as the holder sees the newer epoch; a request for an older epoch is
 * refused with `KEYS_STALE_EPOCH`.
 */
import { randomBytes } from "node:crypto";

import { getAddress, hexlify } from "ethers";
import { z } from "zod";

import { messageOf } from "../errors.js";
import {
  acceptChannel,
  addressOfPublicKey,
  ChannelError,
  PROTOCOL,
  type ChannelContext,
  type ChannelSession,
  type Frame,
  type Hello,
  type Welcome,
} from "./channel.js";
import { KeysError } from "./errors.js";
import type { HolderIdentity, HolderStore, StoredShareInfo } from "./holder-store.js";
import type { ShareRegistryReader, WalletView } from "./registry.js";
import { decodeShare, shareCommitment, ShareError } from "./shares.js";

/** What a peer asks inside a channel. */
export const holderRequestSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("deposit"), share: z.string().max(4_096) }).strict(),
  z.object({ op: z.literal("fetch") }).strict(),
  z.object({ op: z.literal("status") }).strict(),
]);
export type HolderRequest = z.infer<typeof holderRequestSchema>;

/** What a holder answers inside a channel. */
export type HolderResponse =
  | { readonly ok: true; readonly op: "deposit"; readonly stored: boolean; readonly commitment: string }
  | { readonly ok: true; readonly op: "fetch"; readonly share: string }
  | { readonly ok: true; readonly op: "status"; readonly stored: boolean; readonly commitment: string | null }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

/** What `GET /identity` says. */
export interface HolderIdentityView {
  readonly name: string;
  readonly protocol: string;
  readonly address: string;
  readonly publicKey: string;
  readonly chainId: string;
  readonly registry: string;
}

export interface ShareHolderOptions {
  readonly name: string;
  readonly identity: HolderIdentity;
  readonly store: HolderStore;
  readonly registry: ShareRegistryReader;
  readonly chainId: bigint;
  readonly log: (line: string) => void;
  /**
   * Most channels open at once. A handshake beyond it takes the place of the oldest unproven channel (one whose
   * initiator has not yet sealed a frame: its static key is only claimed, anyone can send one); when every channel
   * is proven it is refused (`KEYS_TOO_MANY_SESSIONS`).
   */
  readonly maxSessions?: number;
  /**
   * Most proven channels one peer (static key) holds at once; default half of `maxSessions`, at most 16. Beyond
   * it the peer's handshake, or its first frame, is refused (`KEYS_TOO_MANY_SESSIONS`).
   */
  readonly maxSessionsPerPeer?: number;
  /** How long an idle channel stays usable. */
  readonly sessionTtlMs?: number;
  /** How long a channel may wait for its first frame (the initiator's proof of its key); default 10 s. */
  readonly handshakeTtlMs?: number;
  /** Milliseconds now. */
  readonly now?: () => number;
  /**
   * Called at each step point: `<op>:opened` once a frame asking for `op` has opened, before the holder acts on
   * it. The crash tests kill the process there (a transfer cut in the middle); nothing else uses it.
   */
  readonly onStep?: (point: string) => void;
}

interface OpenSession {
  readonly session: ChannelSession;
  readonly context: ChannelContext;
  readonly peer: string;
  /** Whether a frame has opened: the peer holds the static key it claimed. */
  proven: boolean;
  expiresAt: number;
}

/** One share holder's logic. */
export class ShareHolder {
  readonly #options: ShareHolderOptions;
  readonly #sessions = new Map<string, OpenSession>();
  readonly #now: () => number;
  readonly #ttl: number;
  readonly #handshakeTtl: number;
  readonly #max: number;
  readonly #maxPerPeer: number;

  constructor(options: ShareHolderOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#ttl = options.sessionTtlMs ?? 60_000;
    this.#handshakeTtl = Math.min(options.handshakeTtlMs ?? 10_000, this.#ttl);
    this.#max = options.maxSessions ?? 256;
    this.#maxPerPeer = options.maxSessionsPerPeer ?? Math.max(1, Math.min(16, Math.floor(this.#max / 2)));
  }

  get identity(): HolderIdentityView {
    const { name, identity, chainId, registry } = this.#options;
    return {
      name,
      protocol: PROTOCOL,
      address: identity.address,
      publicKey: hexlify(identity.publicKey),
      chainId: chainId.toString(),
      registry: registry.address,
    };
  }

  /** Channels open now. */
  get openSessions(): number {
    this.#sweep();
    return this.#sessions.size;
  }

  /**
   * Answers a handshake: checks the hello is for this holder's key, the peer may act on the context, and opens the
   * session. Nothing is stored for a refused hello, not even an audit line: the initiator's static key is only
   * claimed until its first frame opens (anyone can send a hello with the owner's public key), so a refused hello
   * proves nothing about who sent it, and writing it down would let anyone fill the disk.
   */
  async hello(hello: Hello): Promise<{ session: string; welcome: Welcome }> {
    this.#sweep();
    const accepted = acceptChannel(hello, { staticKey: this.#options.identity.privateKey });
    const peer = addressOfPublicKey(accepted.initiatorStatic);
    const { context } = accepted;
    await this.#authorize(context, peer);
    this.#checkPeerRoom(peer);
    this.#sweep();
    if (this.#sessions.size >= this.#max) {
      // The oldest unproven channel gives way (Map order is insertion order); proven ones never do.
      const unproven = [...this.#sessions].find(([, open]) => !open.proven);
      if (unproven === undefined) {
        throw new KeysError("KEYS_TOO_MANY_SESSIONS", `this holder has ${this.#max} channels open; try again shortly`, {
          max: this.#max,
        });
      }
      this.#sessions.delete(unproven[0]);
    }
    const id = hexlify(randomBytes(16));
    this.#sessions.set(id, {
      session: accepted.session,
      context,
      peer,
      proven: false,
      expiresAt: this.#now() + this.#handshakeTtl,
    });
    return { session: id, welcome: accepted.welcome };
  }

  /** Refuses `peer` a channel more when it already holds its share of the table in proven ones. */
  #checkPeerRoom(peer: string): void {
    let held = 0;
    for (const open of this.#sessions.values()) if (open.proven && open.peer === peer) held += 1;
    if (held >= this.#maxPerPeer) {
      throw new KeysError(
        "KEYS_TOO_MANY_SESSIONS",
        `${peer} already has ${held} channels open with this holder (at most ${this.#maxPerPeer}); close one first`,
        { peer, max: this.#maxPerPeer },
      );
    }
  }

  /**
   * Opens one frame of session `id`, does what it asks and seals the answer. A frame that does not open (replayed,
   * out of order, tampered) closes the session and is thrown as a `ChannelError`; a refused operation is answered
   * inside the channel (`ok: false`) and leaves the session open.
   */
  async frame(id: string, frame: Frame): Promise<Frame> {
    this.#sweep();
    const open = this.#sessions.get(id);
    if (open === undefined) {
      throw new KeysError("KEYS_SESSION_UNKNOWN", "no open channel has this id (it expired, failed or never was)", {
        session: id,
      });
    }
    let plaintext: Uint8Array;
    try {
      plaintext = open.session.open(frame);
    } catch (error) {
      this.#sessions.delete(id);
      // Before its first frame opened, the peer is only claimed: nothing to write down in its name.
      if (open.proven) this.#audit("frame", open.context, open.peer, error);
      throw error;
    }
    if (!open.proven) {
      try {
        this.#checkPeerRoom(open.peer);
      } catch (error) {
        this.#sessions.delete(id);
        throw error;
      }
      open.proven = true;
    }
    open.expiresAt = this.#now() + this.#ttl;
    const response = await this.#answer(open, plaintext);
    return open.session.seal(new TextEncoder().encode(JSON.stringify(response)));
  }

  /**
   * Asks the registry about every wallet this holder stores a share of and deletes what it no longer should keep:
   * the shares of epochs before the current one (a refresh, or a rotation that left this holder out: then nobody
   * would ever ask it again, and its old share would stay forever) and all of a retired wallet's. Returns how many
   * shares went; a wallet the registry cannot be asked about now is left for the next sweep.
   */
  async sweepStale(): Promise<number> {
    const { store, registry } = this.#options;
    let deleted = 0;
    for (const walletId of store.wallets()) {
      let wallet: WalletView;
      try {
        wallet = await registry.wallet(walletId);
      } catch (error) {
        this.#options.log(`${this.#options.name} sweep skipped wallet ${walletId}: ${messageOf(error)}`);
        continue;
      }
      deleted += store.purge(wallet.walletId, wallet.retired ? Infinity : wallet.epoch);
    }
    return deleted;
  }

  /** What this holder stores, a page at a time, newest first (no shares; see `HolderStore.page`). */
  storedPage(query: Parameters<HolderStore["page"]>[0]): StoredShareInfo[] {
    return this.#options.store.page(query);
  }

  /** What this holder stores for the wallet (no shares). */
  stored(walletId: string): StoredShareInfo[] {
    return this.#options.store.info(walletId.toLowerCase());
  }

  async #answer(open: OpenSession, plaintext: Uint8Array): Promise<HolderResponse> {
    const { context, peer } = open;
    let op = "unknown";
    try {
      const parsed = holderRequestSchema.safeParse(parseJson(plaintext));
      if (!parsed.success) {
        throw new KeysError("KEYS_BAD_REQUEST", "the frame does not hold a deposit, fetch or status request");
      }
      const request = parsed.data;
      op = request.op;
      this.#options.onStep?.(`${op}:opened`);
      if (request.op !== context.purpose) {
        throw new KeysError(
          "KEYS_WRONG_PURPOSE",
          `this channel was opened to ${context.purpose}, not to ${request.op}`,
          { purpose: context.purpose, op: request.op },
        );
      }
      const wallet = await this.#authorize(context, peer);
      const response = this.#perform(request, context, wallet);
      this.#audit(op, context, peer, undefined);
      return response;
    } catch (error) {
      this.#audit(op, context, peer, error);
      if (error instanceof KeysError || error instanceof ShareError) {
        return { ok: false, error: { code: error.code, message: error.message } };
      }
      this.#options.log(`${this.#options.name} ${op} failed: ${messageOf(error)}`);
      return { ok: false, error: { code: "KEYS_HOLDER_FAILED", message: "the holder failed; see its log" } };
    }
  }

  #perform(request: HolderRequest, context: ChannelContext, wallet: WalletView): HolderResponse {
    const { store } = this.#options;
    const walletId = context.walletId.toLowerCase();
    const committed = wallet.commitments[context.index - 1]!;
    switch (request.op) {
      case "deposit": {
        const share = decodeShare(request.share);
        if (
          share.chainId !== context.chainId ||
          getAddress(share.registry) !== getAddress(context.registry) ||
          share.walletId.toLowerCase() !== walletId ||
          share.index !== context.index ||
          share.epoch !== context.epoch ||
          // Not in the commitment, but a share that disagrees here never combines (combineKey refuses it).
          getAddress(share.account) !== wallet.account ||
          share.threshold !== wallet.threshold ||
          share.total !== wallet.holders.length
        ) {
          throw new KeysError(
            "KEYS_SHARE_WRONG_PLACE",
            `the share is for another place than this channel's (wallet ${walletId}, index ${context.index}, epoch ${context.epoch}), or disagrees with the registry's account, threshold or holder count`,
            { index: share.index, epoch: share.epoch },
          );
        }
        const commitment = shareCommitment(share, share.index, share.salt, share.share).toLowerCase();
        if (commitment !== committed) {
          throw new KeysError(
            "KEYS_SHARE_TAMPERED",
            `share ${context.index} does not match the registry's commitment for epoch ${context.epoch}`,
            { index: context.index, epoch: context.epoch },
          );
        }
        const stored = store.put(walletId, context.epoch, context.index, commitment, request.share);
        return { ok: true, op: "deposit", stored, commitment };
      }
      case "fetch": {
        const encoded = store.get(walletId, context.epoch, context.index);
        if (encoded === undefined) {
          throw new KeysError(
            "KEYS_NO_SHARE",
            `this holder has no share ${context.index} of wallet ${walletId} at epoch ${context.epoch}`,
            { index: context.index, epoch: context.epoch },
          );
        }
        return { ok: true, op: "fetch", share: encoded };
      }
      case "status": {
        const found = store.info(walletId).find((row) => row.epoch === context.epoch && row.index === context.index);
        return { ok: true, op: "status", stored: found !== undefined, commitment: found?.commitment ?? null };
      }
    }
  }

  /** The registry's answer to "may `peer` do `context.purpose` here now?"; deletes shares of older epochs it sees. */
  async #authorize(context: ChannelContext, peer: string): Promise<WalletView> {
    const { chainId, registry, identity, store } = this.#options;
    if (context.chainId !== chainId || getAddress(context.registry) !== registry.address) {
      throw new KeysError(
        "KEYS_WRONG_REGISTRY",
        `this holder serves the ShareRegistry ${registry.address} on chain ${chainId}, not ${context.registry} on chain ${context.chainId}`,
        { chainId: context.chainId.toString(), registry: context.registry },
      );
    }
    const wallet = await registry.wallet(context.walletId);
    if (wallet.retired) {
      store.purge(wallet.walletId, Infinity);
      throw new KeysError("KEYS_WALLET_RETIRED", `wallet ${wallet.walletId} is retired`, { walletId: wallet.walletId });
    }
    store.purge(wallet.walletId, wallet.epoch);
    if (context.epoch !== wallet.epoch) {
      throw new KeysError(
        "KEYS_STALE_EPOCH",
        `wallet ${wallet.walletId} is at epoch ${wallet.epoch}, not ${context.epoch}`,
        { epoch: context.epoch, current: wallet.epoch },
      );
    }
    if (wallet.holders[context.index - 1] !== identity.address) {
      throw new KeysError(
        "KEYS_NOT_HOLDER",
        `the registry does not list this holder (${identity.address}) at index ${context.index} of wallet ${wallet.walletId}`,
        { index: context.index },
      );
    }
    const isOwner = peer === wallet.owner;
    if (context.purpose === "deposit" && !isOwner) {
      throw new KeysError("KEYS_NOT_OWNER", `only the wallet's owner ${wallet.owner} deposits shares, not ${peer}`, {
        peer,
      });
    }
    if (context.purpose !== "deposit" && !isOwner && !wallet.recoverers.includes(peer)) {
      throw new KeysError(
        "KEYS_NOT_RECOVERER",
        `${peer} is neither the owner nor a recoverer of wallet ${wallet.walletId}`,
        { peer },
      );
    }
    return wallet;
  }

  #audit(op: string, context: ChannelContext, peer: string, error: unknown): void {
    const outcome =
      error === undefined
        ? "ok"
        : error instanceof KeysError || error instanceof ChannelError || error instanceof ShareError
          ? error.code
          : "failed";
    try {
      this.#options.store.audit({
        op,
        walletId: context.walletId.toLowerCase(),
        epoch: context.epoch,
        index: context.index,
        peer,
        outcome,
      });
    } catch (auditError) {
      this.#options.log(`${this.#options.name} audit failed: ${messageOf(auditError)}`);
    }
  }

  #sweep(): void {
    const now = this.#now();
    for (const [id, open] of this.#sessions) if (open.expiresAt <= now) this.#sessions.delete(id);
  }
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
}
