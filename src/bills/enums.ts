/** The numbering of `IBillRegistry`'s enums, shared by the deploy script's definitions and the monitor. */

/** `IBillRegistry.Party`. */
export const Party = { None: 0, Drawer: 1, Drawee: 2, Payee: 3, Holder: 4, Financier: 5, Anyone: 6 } as const;
/** `IBillRegistry.Effect`. */
export const Effect = {
  None: 0,
  Issue: 1,
  Endorse: 2,
  OfferDiscount: 3,
  Discount: 4,
  PayPartial: 5,
  PayFull: 6,
  Recourse: 7,
} as const;
/** `IBillRegistry.Timing`. */
export const Timing = {
  Any: 0,
  BeforeAcceptance: 1,
  AfterAcceptance: 2,
  BeforeMaturity: 3,
  AfterMaturity: 4,
  BeforeRecourse: 5,
  AfterRecourse: 6,
} as const;

/** The enums by the name their parameters carry in the registry's custom errors, for reading a revert. */
export const BILL_ENUM_NAMES = { party: Party, effect: Effect, timing: Timing } as const;
