import type { VoucherKind } from "./protocol.js";
import type { CheckResult, MerchantCheckContext, OfferOf, VoucherKindStrategy } from "./voucher-kind.js";
import { securedKind } from "./voucher-kind-secured.js";
import { unsecuredKind } from "./voucher-kind-unsecured.js";

/** The strategy of each offline voucher kind. */
export const VOUCHER_KINDS: { readonly [K in VoucherKind]: VoucherKindStrategy<K> } = {
  secured: securedKind,
  unsecured: unsecuredKind,
};

/** The strategy of `kind`. */
export function kindOf<K extends VoucherKind>(kind: K): VoucherKindStrategy<K> {
  return VOUCHER_KINDS[kind];
}

/** Checks `offer` with its kind's strategy. */
export function checkOffer<K extends VoucherKind>(offer: OfferOf<K>, context: MerchantCheckContext): CheckResult {
  return kindOf<K>(offer.kind).check(offer, context);
}
