/**
 * The console's only two actions that change state, each guarded twice:
 *
 * - freeze an account: `BankToken.freeze(account)`, signed with the compliance duty's key (COMPLIANCE_ROLE);
 * - pause a corridor: `InterbankSettlement.pauseCorridor(debtor, creditor)`, signed with the schemeAdmin duty's key
 *   (CORRIDOR_ADMIN_ROLE).
 *
 * `GET /actions/<action>?…` shows what will be sent, by which key, and a form; the form's POST carries a
 * confirmation code that only that page gives (an HMAC of the action and its arguments under a key the console
 * draws at start), so a POST without the page (a script, another site's form) is refused. The POST sends the
 * transaction, waits for its receipt and shows the hash as a link to its `/tx` page.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

import type { Wallet } from "ethers";

import { HttpError } from "../chain/http.js";
import { messageOf } from "../errors.js";
import { addressOrUndefined, type ChainReader } from "./chain.js";
import { h, short, txHref, type Html } from "./html.js";

/** The two actions by route name. */
export type ActionName = "freeze" | "pause-corridor";

/** What an action needs: the chain, and its duty key when asked (undefined when this network holds none). */
export interface ActionContext {
  readonly chain: ChainReader;
  readonly signer: (duty: "compliance" | "schemeAdmin") => Promise<Wallet | undefined>;
}

/** An action's arguments, checked. */
type Args = { readonly account: string } | { readonly debtor: string; readonly creditor: string };

/** Issues and checks confirmation codes. */
export class Confirmations {
  readonly #key: Buffer;
  constructor(key: Buffer = randomBytes(32)) {
    this.#key = key;
  }
  /** The code of `action` with `args`. */
  code(action: ActionName, args: Args): string {
    return createHmac("sha256", this.#key)
      .update(`${action}\n${JSON.stringify(args)}`)
      .digest("hex");
  }
  /** Whether `code` is the one `code(action, args)` gives. */
  check(action: ActionName, args: Args, code: string | undefined): boolean {
    if (code === undefined || !/^[0-9a-f]{64}$/.test(code)) return false;
    return timingSafeEqual(Buffer.from(code, "hex"), Buffer.from(this.code(action, args), "hex"));
  }
}

function address(value: string | undefined, field: string): string {
  const checked = value === undefined ? undefined : addressOrUndefined(value);
  if (checked === undefined) {
    throw new HttpError(400, "CONSOLE_BAD_ADDRESS", `${field}: must be a 0x address of 40 hex digits`, field);
  }
  return checked;
}

/** Checks the query of `action`; a bad address is a 400 naming the field. */
export function argsOf(action: ActionName, query: Readonly<Record<string, string | undefined>>): Args {
  return action === "freeze"
    ? { account: address(query.account, "account") }
    : { debtor: address(query.debtor, "debtor"), creditor: address(query.creditor, "creditor") };
}

const DUTY = { freeze: "compliance", "pause-corridor": "schemeAdmin" } as const;
const ROLE = { freeze: "COMPLIANCE_ROLE on BankToken", "pause-corridor": "CORRIDOR_ADMIN_ROLE on InterbankSettlement" };

async function signerOf(ctx: ActionContext, action: ActionName): Promise<Wallet> {
  const signer = await ctx.signer(DUTY[action]);
  if (signer === undefined) {
    throw new HttpError(503, "CONSOLE_ACTION_UNAVAILABLE", `the ${DUTY[action]} duty's key is not configured here`);
  }
  return signer;
}

/** Why the chain would refuse the action now, or undefined. */
async function refusal(ctx: ActionContext, action: ActionName, args: Args): Promise<string | undefined> {
  if ("account" in args) {
    const frozen = (await ctx.chain.contract("BankToken").getFunction("isFrozen")(args.account)) as boolean;
    return frozen ? `${args.account} is already frozen` : undefined;
  }
  const corridor = (await ctx.chain.contract("InterbankSettlement").getFunction("corridor")(
    args.debtor,
    args.creditor,
  )) as {
    open: boolean;
    paused: boolean;
  };
  if (!corridor.open) return "there is no corridor from that debtor bank to that creditor bank";
  return corridor.paused ? "the corridor is already paused" : undefined;
}

function describe(ctx: ActionContext, args: Args): Html {
  if ("account" in args) {
    return h`<p>
        Freeze account <b class="mono">${args.account}</b>: it can no longer send or receive the token until the
        compliance duty unfreezes it.
      </p>
      <p>
        Transaction: <code>BankToken.freeze(${args.account})</code> at
        <span class="mono">${ctx.chain.address("BankToken")}</span> on chain ${ctx.chain.chainId}.
      </p>`;
  }
  const name = (a: string): string => ctx.chain.nameOf(a) ?? a;
  return h`<p>
      Pause the corridor from <b>${name(args.debtor)}</b> to <b>${name(args.creditor)}</b>: no new payment may start on
      it until the corridor admin unpauses it; payments in flight finish.
    </p>
    <p>
      Transaction: <code>InterbankSettlement.pauseCorridor(${args.debtor}, ${args.creditor})</code> on chain
      ${ctx.chain.chainId}.
    </p>`;
}

function query(args: Args): string {
  return new URLSearchParams(Object.entries(args) as [string, string][]).toString();
}

/** The confirmation page of `action` (GET). */
export async function confirmPage(
  ctx: ActionContext,
  confirmations: Confirmations,
  action: ActionName,
  args: Args,
): Promise<Html> {
  const signer = await signerOf(ctx, action);
  const refused = await refusal(ctx, action, args);
  const code = confirmations.code(action, args);
  return h`<div class="warn">
      ${describe(ctx, args)}
      <p>Signed by the ${DUTY[action]} duty's key <span class="mono">${signer.address}</span> (${ROLE[action]}).</p>
    </div>
    ${
      refused === undefined
        ? h`<form method="post" action="/actions/${action}?${query(args)}&amp;confirm=${code}">
            <p><button type="submit" id="confirm">Confirm: send the transaction</button> <a href="/">cancel</a></p>
          </form>`
        : h`<p class="bad" id="refused">Not possible now: ${refused}.</p>`
    }`;
}

/** Sends `action` once its confirmation code checks (POST); the page shows the tx hash. */
export async function perform(
  ctx: ActionContext,
  confirmations: Confirmations,
  action: ActionName,
  args: Args,
  code: string | undefined,
): Promise<Html> {
  if (!confirmations.check(action, args, code)) {
    throw new HttpError(
      403,
      "CONSOLE_NOT_CONFIRMED",
      `confirm the action on its page first (GET /actions/${action}?${query(args)})`,
      "confirm",
    );
  }
  const signer = await signerOf(ctx, action);
  const refused = await refusal(ctx, action, args);
  if (refused !== undefined) throw new HttpError(409, "CONSOLE_ACTION_REFUSED", refused);
  let hash: string;
  let status: number | null | undefined;
  try {
    const tx =
      "account" in args
        ? await ctx.chain.contract("BankToken").connect(signer).getFunction("freeze")(args.account)
        : await ctx.chain.contract("InterbankSettlement").connect(signer).getFunction("pauseCorridor")(
            args.debtor,
            args.creditor,
          );
    hash = (tx as { hash: string }).hash;
    const receipt = await (tx as { wait(): Promise<{ status: number | null } | null> }).wait();
    status = receipt?.status;
  } catch (error) {
    throw new HttpError(502, "CONSOLE_ACTION_FAILED", `the transaction failed: ${messageOf(error)}`);
  }
  return h`<p id="done" class="${status === 1 ? "ok" : "bad"}">
      ${status === 1 ? "Done" : "Sent, but it reverted"}: transaction
      <a id="tx" class="mono" href="${txHref(ctx.chain.chainId, hash)}">${hash}</a> (${short(hash)}).
    </p>
    ${describe(ctx, args)}`;
}
