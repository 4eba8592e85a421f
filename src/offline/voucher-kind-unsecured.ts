import { getAddress } from "ethers";

import { BankToken__factory } from "../../typechain-types/index.js";
import { PROTOCOL_VERSION } from "./protocol.js";
import { refuse, stored, sum, type VoucherKindStrategy } from "./voucher-kind.js";
import {
  authorizationFromJson,
  authorizationToJson,
  hashReceiveAuthorization,
  randomNonce,
  recoverAuthorizer,
  signReceiveAuthorization,
  tokenDomain,
} from "./voucher.js";

/** Vouchers not yet paid out. */
const UNSETTLED = new Set(["pending", "submitting"]);

/**
 * Unsecured vouchers: EIP-3009 `ReceiveWithAuthorization`s of the `BankToken`
 * from the buyer to the merchant, paid from the buyer's ordinary balance with
 * no vault behind them. The merchant checks the signature, the window, the
 * nonce and the synced balance less what it holds unsettled; the buyer keeps
 * no lane (each authorization has a fresh random nonce).
 */
export const unsecuredKind: VoucherKindStrategy<"unsecured"> = {
  kind: "unsecured",

  check(offer, { merchant, request, amount, store, nowMs, staleness, window }) {
    const meta = store.meta();
    const auth = authorizationFromJson(offer.authorization);
    if (auth.to !== merchant) return refuse("wrong_merchant", `the authorization pays ${auth.to}`);
    if (auth.value !== amount) return refuse("wrong_amount", `the authorization is for ${auth.value}, not ${amount}`);
    if (meta === undefined) return refuse("stale_view", "the merchant has no view of the chain");
    const domain = tokenDomain(meta.chainId, meta.token);
    if (recoverAuthorizer(domain, auth, offer.signature) !== auth.from) {
      return refuse("bad_signature", `the signature is not ${auth.from}'s`);
    }
    const stale = staleness(meta);
    if (stale !== undefined) return stale;
    const outside = window(auth.validAfter, auth.validBefore, undefined);
    if (outside !== undefined) return outside;
    const held = store.vouchersOf(auth.from);
    if (held.some((v) => v.nonce === auth.nonce)) {
      return refuse("duplicate_nonce", `the authorization nonce ${auth.nonce} was already used here`);
    }
    // Unsettled, or settled after the view was taken (the synced balance still includes it).
    const owed = sum(
      held
        .filter(
          (v) =>
            v.kind === "unsecured" &&
            (UNSETTLED.has(v.state) || (v.state === "settled" && v.updatedAt >= meta.syncedAtMs)),
        )
        .map((v) => v.amount),
    );
    const balance = store.payer(auth.from)?.balance ?? 0n;
    if (balance - owed < auth.value) {
      return refuse("insufficient_balance", `balance ${balance} less ${owed} held unsettled does not cover ${amount}`);
    }
    return {
      ok: true,
      voucher: stored({
        hash: hashReceiveAuthorization(domain, auth),
        kind: "unsecured",
        requestId: request.requestId,
        chainId: meta.chainId,
        contract: meta.token,
        payer: auth.from,
        merchant: auth.to,
        amount: auth.value,
        lane: undefined,
        sequence: undefined,
        previousHash: undefined,
        nonce: auth.nonce,
        validAfter: auth.validAfter,
        validBefore: auth.validBefore,
        signature: offer.signature.toLowerCase(),
        acceptedAt: nowMs,
      }),
    };
  },

  async prepare({ wallet, payer, request }) {
    const auth = {
      from: payer,
      to: getAddress(request.merchant),
      value: BigInt(request.amount),
      validAfter: BigInt(request.validAfter),
      validBefore: BigInt(request.validBefore),
      nonce: randomNonce(),
    };
    const domain = tokenDomain(BigInt(request.chainId), request.token);
    const signature = await signReceiveAuthorization(wallet, domain, auth);
    return {
      message: {
        type: "voucher_offer",
        version: PROTOCOL_VERSION,
        requestId: request.requestId,
        kind: "unsecured",
        authorization: authorizationToJson(auth),
        signature,
      },
      voucherHash: hashReceiveAuthorization(domain, auth),
      settle: () => undefined,
    };
  },

  async findOnChain(v, provider) {
    const token = BankToken__factory.connect(v.contract, provider);
    if (!(await token.authorizationState(v.payer, v.nonce!))) return undefined;
    return { state: "settled", paid: v.amount, reason: "authorization found used on chain" };
  },
};
