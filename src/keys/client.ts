/**
 * The owner's and recoverer's side of the holders (docs/keys.md, "Split, recover, refresh"): reach a holder, check
 * it is the one the registry lists, open a channel to its static key and exchange one request; and the three
 * flows built on that:
 *
 * - `splitWallet`: split a key k-of-n, commit the shares on chain (`ShareRegistry.createWallet`), deposit each
 *   share with its holder;
 * - `recoverWallet`: collect shares from the holders that answer until `threshold` good ones are in, check each
 *   against the registry's commitment, combine, and check the key is the wallet's account;
 * - `refreshWallet`: recover as the owner, split the same key anew under the next epoch (optionally to a new holder
 *   set), `rotate` on chain, deposit: the old shares no longer combine with the new, and holders refuse them.
 *
 * A holder that cannot be reached, answers for another key, fails the handshake or refuses is reported by index
 * with its reason, and the flow goes on with the others while it can.
 */
import { AbiCoder, getAddress, getBytes, hexlify, keccak256, Wallet, type Signer } from "ethers";

import { callApi, type ApiCallLimits, type ApiClientErrors } from "../chain/api-client.js";
import { BankChainError, messageOf } from "../errors.js";
import { addressOfPublicKey, openChannel, type ChannelContext, type ChannelSession, type Frame } from "./channel.js";
import { KeysError } from "./errors.js";
import { holderRequestSchema, type HolderIdentityView, type HolderRequest, type HolderResponse } from "./holder.js";
import { ShareRegistryReader, type WalletView } from "./registry.js";
import {
  checkShare,
  combineKey,
  decodeShare,
  encodeShare,
  shareCommitment,
  splitKey,
  type ExpectedShares,
  type KeyShare,
} from "./shares.js";

/** How long one call to a holder may take, and how large its answer may be, unless the client says otherwise. */
export const HOLDER_CALL_LIMITS = Object.freeze({ timeoutMs: 30_000, maxReplyBytes: 256 * 1024 });

/** Limits of one holder's calls: a holder that hangs or floods is cut off and reported, never waited on. */
export type HolderCallLimits = ApiCallLimits;

/** How the kit's `callApi` names a holder's failures. */
const HOLDER_ERRORS: ApiClientErrors = {
  badUrl: (value) => new KeysError("KEYS_BAD_HOLDER_URL", `${value} is not an http(s) URL`, { url: value }),
  unreachable: (url, cause) =>
    new KeysError("KEYS_HOLDER_UNREACHABLE", `no holder answered at ${url}: ${cause}`, { url }),
  timeout: (url, timeoutMs) =>
    new KeysError("KEYS_HOLDER_TIMEOUT", `${url} did not answer within ${timeoutMs} ms`, { url, timeoutMs }),
  tooLarge: (url, maxReplyBytes) =>
    new KeysError("KEYS_HOLDER_REPLY_TOO_LARGE", `${url} answered with more than ${maxReplyBytes} bytes`, {
      url,
      maxReplyBytes,
    }),
};

/**
 * GETs `path` at the holder, or POSTs `body` as JSON, within `limits` (the kit's `callApi`): `KEYS_HOLDER_TIMEOUT`
 * when the whole exchange (headers and body) takes longer than `timeoutMs`, `KEYS_HOLDER_REPLY_TOO_LARGE` past
 * `maxReplyBytes` (read no further), `KEYS_HOLDER_UNREACHABLE` when nothing answers.
 */
function callHolder(
  url: string,
  path: string,
  body: unknown,
  limits: HolderCallLimits,
): Promise<{ status: number; json: unknown }> {
  return callApi(url, path, body, HOLDER_ERRORS, limits);
}

/** An open channel to one holder: one request, one answer, in order. */
export class HolderSession {
  readonly #url: string;
  readonly #id: string;
  readonly #session: ChannelSession;
  readonly #limits: HolderCallLimits;

  constructor(url: string, id: string, session: ChannelSession, limits: HolderCallLimits = HOLDER_CALL_LIMITS) {
    this.#url = url;
    this.#id = id;
    this.#session = session;
    this.#limits = limits;
  }

  /** Sends `request` sealed; returns the holder's answer, or throws its refusal as a `KeysError` with its code. */
  async send(request: HolderRequest): Promise<Exclude<HolderResponse, { ok: false }>> {
    const frame = this.#session.seal(new TextEncoder().encode(JSON.stringify(holderRequestSchema.parse(request))));
    const reply = await callHolder(this.#url, `/channel/${this.#id}`, frame, this.#limits);
    if (reply.status !== 200) throw refusal(this.#url, reply);
    const answer = JSON.parse(new TextDecoder().decode(this.#session.open(reply.json as Frame))) as HolderResponse;
    if (!answer.ok) {
      throw new KeysError(answer.error.code, `${this.#url}: ${answer.error.message}`, { url: this.#url });
    }
    return answer;
  }
}

/** One holder's API. */
export class HolderClient {
  readonly url: string;
  readonly limits: HolderCallLimits;
  #identity: HolderIdentityView | undefined;

  /** `limits` default to `HOLDER_CALL_LIMITS`. */
  constructor(url: string, limits: Partial<HolderCallLimits> = {}) {
    this.url = url.replace(/\/+$/, "");
    this.limits = { ...HOLDER_CALL_LIMITS, ...limits };
  }

  /**
   * `GET /identity` (cached): what the holder says it is, its `address` recomputed from its `publicKey` (the
   * handshake proves the key, and only the key: an `address` field that is not the key's own would let anyone at
   * the URL pass for the holder the registry lists while the channel is opened to its own key).
   * @throws KeysError `KEYS_HOLDER_IDENTITY_INVALID` (no public key, or an address that is not the key's).
   */
  async identity(): Promise<HolderIdentityView> {
    if (this.#identity === undefined) {
      const reply = await callHolder(this.url, "/identity", undefined, this.limits);
      if (reply.status !== 200) throw refusal(this.url, reply);
      const view = reply.json as HolderIdentityView;
      let keyAddress: string;
      let claimed: string;
      try {
        keyAddress = addressOfPublicKey(getBytes(view.publicKey));
        claimed = getAddress(view.address);
      } catch {
        throw new KeysError("KEYS_HOLDER_IDENTITY_INVALID", `${this.url} does not show a secp256k1 public key`, {
          url: this.url,
        });
      }
      if (keyAddress !== claimed) {
        throw new KeysError(
          "KEYS_HOLDER_IDENTITY_INVALID",
          `${this.url} claims the address ${claimed} with the key of ${keyAddress}`,
          { url: this.url, claimed, key: keyAddress },
        );
      }
      this.#identity = { ...view, address: keyAddress };
    }
    return this.#identity;
  }

  /**
   * Opens a channel from `staticKey` to this holder for `context`. `expected` is the holder address the registry
   * lists at `context.index`: a holder whose identity names another address is refused before any key is used
   * (`KEYS_HOLDER_MISMATCH`), and one that names it without holding its key fails the handshake
   * (`KEYS_CHANNEL_IMPOSTOR`).
   */
  async open(staticKey: Uint8Array, context: ChannelContext, expected: string): Promise<HolderSession> {
    const identity = await this.identity();
    const responderStatic = getBytes(identity.publicKey);
    // The key the channel is opened to is what must be the registry's holder, not a field beside it.
    if (addressOfPublicKey(responderStatic) !== getAddress(expected)) {
      throw new KeysError(
        "KEYS_HOLDER_MISMATCH",
        `${this.url} is ${identity.address}, not holder ${context.index} of the wallet (${expected})`,
        { url: this.url, index: context.index },
      );
    }
    const channel = openChannel({ staticKey, responderStatic, context });
    const reply = await callHolder(this.url, "/channel", channel.hello, this.limits);
    if (reply.status !== 201) throw refusal(this.url, reply);
    const opened = reply.json as { session: string; welcome: Parameters<typeof channel.finish>[0] };
    return new HolderSession(this.url, opened.session, channel.finish(opened.welcome), this.limits);
  }
}

/** A holder's refusal outside the channel, as a `KeysError` carrying its code. */
function refusal(url: string, reply: { status: number; json: unknown }): KeysError {
  const error = (reply.json as { error?: { code?: string; message?: string } }).error;
  return new KeysError(error?.code ?? "KEYS_HOLDER_REFUSED", `${url}: ${error?.message ?? `HTTP ${reply.status}`}`, {
    url,
    status: reply.status,
  });
}

/** The holder clients matched to the registry's holder list by their identity: index → client. */
export async function holdersByIndex(
  wallet: Pick<WalletView, "holders">,
  clients: readonly HolderClient[],
  report?: (url: string, error: unknown) => void,
): Promise<Map<number, HolderClient>> {
  const found = new Map<number, HolderClient>();
  await Promise.all(
    clients.map(async (client) => {
      try {
        const address = getAddress((await client.identity()).address);
        wallet.holders.forEach((holder, i) => {
          if (holder === address) found.set(i + 1, client);
        });
      } catch (error) {
        report?.(client.url, error);
      }
    }),
  );
  return found;
}

/** Where the registry is: its reader and the chain id every share and channel is bound to. */
export interface KeysChain {
  readonly chainId: bigint;
  readonly registry: ShareRegistryReader;
}

/** What happened at one holder. */
export interface HolderOutcome {
  readonly index: number;
  readonly url: string | null;
  readonly ok: boolean;
  /** The refusal's code, when not ok. */
  readonly code?: string;
  readonly message?: string;
}

function outcomeOf(index: number, url: string | null, error: unknown): HolderOutcome {
  return {
    index,
    url,
    ok: false,
    code: error instanceof BankChainError ? error.code : "KEYS_HOLDER_FAILED",
    message: messageOf(error),
  };
}

/** The id `ShareRegistry.createWallet(salt, …)` gives when `owner` sends it. */
export function walletIdOf(owner: string, salt: string): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["address", "bytes32"], [getAddress(owner), salt]));
}

export interface SplitOptions {
  readonly chain: KeysChain;
  /** Sends the registry transaction and authenticates the deposits: the wallet's owner. */
  readonly owner: Wallet;
  /** The key to split. */
  readonly privateKey: Uint8Array;
  readonly holders: readonly HolderClient[];
  readonly threshold: number;
  readonly recoverers: readonly string[];
  readonly salt: string;
}

/** The result of a split or a refresh. */
export interface SplitResult {
  readonly walletId: string;
  readonly account: string;
  readonly epoch: number;
  readonly threshold: number;
  readonly holders: readonly string[];
  readonly commitments: readonly string[];
  readonly transaction: string;
  readonly deposits: readonly HolderOutcome[];
}

/**
 * Splits `privateKey` among `holders` (share i to the i-th holder), registers the wallet and its commitments,
 * and deposits every share. Fails before any transaction when a holder cannot be reached (its address must go on
 * chain); a deposit that fails after the transaction is reported, not retried (refresh re-issues every share).
 */
export async function splitWallet(options: SplitOptions): Promise<SplitResult> {
  const { chain, owner, holders, threshold } = options;
  const identities = await Promise.all(holders.map((client) => client.identity()));
  const holderAddresses = identities.map((identity) => getAddress(identity.address));
  const account = new Wallet(hexlify(options.privateKey)).address;
  const walletId = walletIdOf(owner.address, options.salt);
  const shares = await splitKey(options.privateKey, {
    chainId: chain.chainId,
    registry: chain.registry.address,
    walletId,
    account,
    epoch: 1,
    threshold,
    total: holders.length,
  });
  const commitments = shares.map((share) => share.commitment);
  const registry = chain.registry.contract.connect(owner as Signer);
  const sent = await registry.createWallet(options.salt, {
    account,
    threshold,
    holders: holderAddresses,
    commitments,
    recoverers: [...options.recoverers],
  });
  await sent.wait();
  const deposits = await deposit(getBytes(owner.privateKey), shares, holders, holderAddresses);
  return {
    walletId,
    account,
    epoch: 1,
    threshold,
    holders: holderAddresses,
    commitments,
    transaction: sent.hash,
    deposits,
  };
}

async function deposit(
  ownerKey: Uint8Array,
  shares: readonly KeyShare[],
  holders: readonly HolderClient[],
  addresses: readonly string[],
): Promise<HolderOutcome[]> {
  return Promise.all(
    shares.map(async (share, i) => {
      const client = holders[i]!;
      try {
        const session = await client.open(ownerKey, contextOf(share, "deposit"), addresses[i]!);
        await session.send({ op: "deposit", share: encodeShare(share) });
        return { index: share.index, url: client.url, ok: true };
      } catch (error) {
        return outcomeOf(share.index, client.url, error);
      }
    }),
  );
}

function contextOf(
  scope: { chainId: bigint; registry: string; walletId: string; epoch: number; index: number },
  purpose: ChannelContext["purpose"],
): ChannelContext {
  return {
    chainId: scope.chainId,
    registry: getAddress(scope.registry),
    walletId: scope.walletId,
    index: scope.index,
    epoch: scope.epoch,
    purpose,
  };
}

export interface RecoverOptions {
  readonly chain: KeysChain;
  readonly walletId: string;
  /** The owner's key, a recovery key (`recoveryKey(passphrase, …)`) or a guardian's key. */
  readonly staticKey: Uint8Array;
  readonly holders: readonly HolderClient[];
  /** The order to ask holders in, by index (the rest follow in index order); default 1, 2, 3, … */
  readonly prefer?: readonly number[];
}

/** The result of a recovery: the key (handle with care) and what each holder did. */
export interface RecoverResult {
  readonly wallet: WalletView;
  readonly privateKey: Uint8Array;
  readonly account: string;
  /** The indexes whose shares were combined. */
  readonly used: readonly number[];
  readonly holders: readonly HolderOutcome[];
}

/**
 * Collects shares until `threshold` good ones are in (a share whose commitment does not match the registry's is
 * set aside and named), combines them and checks the key opens the wallet's account. Fails with
 * `KEYS_TOO_FEW_SHARES` and every holder's outcome when fewer than `threshold` good shares could be had.
 */
export async function recoverWallet(options: RecoverOptions): Promise<RecoverResult> {
  const { chain, walletId, staticKey } = options;
  const wallet = await chain.registry.wallet(walletId);
  if (wallet.retired) throw new KeysError("KEYS_WALLET_RETIRED", `wallet ${walletId} is retired`, { walletId });
  const outcomes: HolderOutcome[] = [];
  const byIndex = await holdersByIndex(wallet, options.holders, (url, error) =>
    outcomes.push(outcomeOf(0, url, error)),
  );
  const good: KeyShare[] = [];
  const all = wallet.holders.map((_, i) => i + 1);
  const order = [...new Set([...(options.prefer ?? []).filter((i) => all.includes(i)), ...all])];
  for (const index of order) {
    if (good.length >= wallet.threshold) break;
    const client = byIndex.get(index);
    if (client === undefined) {
      outcomes.push({
        index,
        url: null,
        ok: false,
        code: "KEYS_HOLDER_UNKNOWN",
        message: "no holder URL answers as it",
      });
      continue;
    }
    try {
      const scope = { chainId: chain.chainId, registry: chain.registry.address, walletId, epoch: wallet.epoch, index };
      const session = await client.open(staticKey, contextOf(scope, "fetch"), wallet.holders[index - 1]!);
      const answer = await session.send({ op: "fetch" });
      if (answer.op !== "fetch") throw new KeysError("KEYS_HOLDER_REFUSED", "the holder answered another operation");
      const share = decodeShare(answer.share);
      const commitment = shareCommitment(share, share.index, share.salt, share.share).toLowerCase();
      if (share.index !== index || share.epoch !== wallet.epoch || commitment !== wallet.commitments[index - 1]) {
        throw new KeysError(
          "KEYS_SHARE_TAMPERED",
          `holder ${index} returned a share that does not match the registry's commitment for index ${index}, epoch ${wallet.epoch}`,
          { index },
        );
      }
      // The fields the commitment does not cover (account, threshold, total) too: one holder's edit there must
      // cost its own share, not the whole recovery.
      checkShare(share, expectedOf(chain, walletId, wallet));
      good.push(share);
      outcomes.push({ index, url: client.url, ok: true });
    } catch (error) {
      outcomes.push(outcomeOf(index, client.url, error));
    }
  }
  if (good.length < wallet.threshold) {
    throw new KeysError(
      "KEYS_TOO_FEW_SHARES",
      `only ${good.length} of the ${wallet.threshold} shares needed could be collected: ${outcomes
        .filter((o) => !o.ok)
        .map((o) => `holder ${o.index}: ${o.code}`)
        .join(", ")}`,
      { have: good.length, need: wallet.threshold, holders: outcomes },
    );
  }
  const privateKey = await combineKey(good, expectedOf(chain, walletId, wallet));
  return {
    wallet,
    privateKey,
    account: wallet.account,
    used: good.map((share) => share.index),
    holders: outcomes.sort((a, b) => a.index - b.index),
  };
}

/** What the registry says the wallet's shares must be. */
function expectedOf(chain: KeysChain, walletId: string, wallet: WalletView): ExpectedShares {
  return {
    chainId: chain.chainId,
    registry: chain.registry.address,
    walletId,
    account: wallet.account,
    epoch: wallet.epoch,
    threshold: wallet.threshold,
    commitments: wallet.commitments,
  };
}

export interface RefreshOptions {
  readonly chain: KeysChain;
  readonly walletId: string;
  /** The wallet's owner: collects the shares, sends `rotate`, deposits the new shares. */
  readonly owner: Wallet;
  /** Every holder URL to look among: the current holders and any new ones. */
  readonly holders: readonly HolderClient[];
  /** The new holder set, as URLs among `holders`; default the current set. */
  readonly newHolders?: readonly HolderClient[];
  readonly threshold?: number;
}

/** Refreshes the wallet's shares under the next epoch (see the module's comment). */
export async function refreshWallet(
  options: RefreshOptions,
): Promise<SplitResult & { readonly collected: readonly HolderOutcome[] }> {
  const { chain, walletId, owner } = options;
  const ownerKey = getBytes(owner.privateKey);
  const recovered = await recoverWallet({ chain, walletId, staticKey: ownerKey, holders: options.holders });
  const { wallet } = recovered;
  let targets: HolderClient[];
  if (options.newHolders !== undefined) {
    targets = [...options.newHolders];
  } else {
    const byIndex = await holdersByIndex(wallet, options.holders);
    targets = wallet.holders.map((address, i) => {
      const client = byIndex.get(i + 1);
      if (client === undefined) {
        throw new KeysError(
          "KEYS_HOLDER_UNKNOWN",
          `holder ${i + 1} (${address}) does not answer at any URL given; name a new holder set to refresh without it`,
          { index: i + 1 },
        );
      }
      return client;
    });
  }
  const identities = await Promise.all(targets.map((client) => client.identity()));
  const holderAddresses = identities.map((identity) => getAddress(identity.address));
  const threshold = options.threshold ?? wallet.threshold;
  const epoch = wallet.epoch + 1;
  const shares = await splitKey(recovered.privateKey, {
    chainId: chain.chainId,
    registry: chain.registry.address,
    walletId,
    account: wallet.account,
    epoch,
    threshold,
    total: targets.length,
  });
  recovered.privateKey.fill(0);
  const commitments = shares.map((share) => share.commitment);
  const registry = chain.registry.contract.connect(owner as Signer);
  const sent = await registry.rotate(walletId, threshold, holderAddresses, commitments);
  await sent.wait();
  const deposits = await deposit(ownerKey, shares, targets, holderAddresses);
  return {
    walletId,
    account: wallet.account,
    epoch,
    threshold,
    holders: holderAddresses,
    commitments,
    transaction: sent.hash,
    deposits,
    collected: recovered.holders,
  };
}
