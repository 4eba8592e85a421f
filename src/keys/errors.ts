/**
 * The keys part's refusals (docs/keys.md, "Errors"): one class, a stable code each, and the HTTP status a holder
 * answers with. The channel (`ChannelError`) and the share checks (`ShareError`) have their own classes; their
 * statuses are here too, so the HTTP layer maps every refusal in one place.
 */
import { BankChainError } from "../errors.js";

/** A keys operation refused: by a holder, by the registry's state, or by the client. */
export class KeysError extends BankChainError {}

/** HTTP status per code; a code not listed is a 400. */
export const KEYS_ERROR_STATUS: Readonly<Record<string, number>> = {
  KEYS_UNKNOWN_WALLET: 404,
  KEYS_NO_SHARE: 404,
  KEYS_SESSION_UNKNOWN: 404,
  KEYS_NOT_HOLDER: 403,
  KEYS_NOT_OWNER: 403,
  KEYS_NOT_RECOVERER: 403,
  KEYS_WRONG_PURPOSE: 403,
  KEYS_STALE_EPOCH: 409,
  KEYS_WALLET_RETIRED: 409,
  KEYS_SLOT_TAKEN: 409,
  KEYS_CHANNEL_REPLAYED: 409,
  KEYS_CHANNEL_OUT_OF_ORDER: 409,
  KEYS_CHANNEL_CLOSED: 409,
  KEYS_SHARE_TAMPERED: 422,
  KEYS_SHARE_WRONG_WALLET: 422,
  KEYS_SHARE_STALE: 409,
  KEYS_TOO_MANY_SESSIONS: 503,
};

/** The status a holder answers `code` with. */
export function keysStatus(code: string): number {
  return KEYS_ERROR_STATUS[code] ?? 400;
}
