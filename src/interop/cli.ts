/**
 * `bank-chain interop …`: a cross-chain transfer by hand, through the interop API gateway (docs/interop.md).
 *
 *   interop send --to <address> --amount <minor> --destination <chainId> [--api <url>] [--key-env VAR]
 *                [--ttl <seconds>] [--nonce <n>] [--no-wait]
 *       signs a CrossChain payload of the chain's BankToken (the chain of --network/--rpc is the source) with
 *       the key in VAR (default BANK_CHAIN_INTEROP_KEY), approves the InteropGateway first if its allowance is
 *       short, POSTs it to the API gateway and, unless --no-wait, follows it until it is delivered, refunded
 *       or failed; prints the id and each leg's transaction
 *   interop status <id> [--signer <address>] [--api <url>]
 *       prints what the API gateway knows of a payload: status, source and destination transactions
 *
 * The key comes from an environment variable, never from a flag, and is never printed. The nonce is the
 * signer's lowest one the InteropGateway has not used (its nonces are a bitmap, so low ones are cheapest),
 * unless --nonce names one. Exit code 1 when the payload is refused (the API's reason is printed), fails or
 * is refunded.
 */
import { getAddress, isAddress } from "ethers";

import { apiOrigin, callApi, type ApiClientErrors } from "../chain/api-client.js";
import { mined } from "../chain/receipts.js";
import { lines, logTo, output, walletFromEnv, withChain, type CommandGroup, type Program } from "../chain/command.js";
import { BankChainError } from "../errors.js";
import type { TransactionView } from "./api.js";

const loadTypechain = () => import("../../typechain-types/index.js");
const loadPayload = () => import("./payload.js");

/** A bad `interop` argument, a refusal by the API gateway, or a transfer that did not arrive. */
export class InteropCliError extends BankChainError {}

const DEFAULT_KEY_ENV = "BANK_CHAIN_INTEROP_KEY";
const UINT = /^[0-9]+$/;
/** How many of the signer's nonces `send` looks at before asking for --nonce. */
const NONCE_SCAN = 1024;
/** How long `send` follows a payload before giving up (it keeps going at the gateway). */
const WAIT_MS = 300_000;
const FINAL: ReadonlySet<string> = new Set(["delivered", "refunded", "failed"]);

function positive(value: string, field: string, max = 2n ** 256n - 1n): bigint {
  if (!UINT.test(value) || value.length > 78 || BigInt(value) === 0n || BigInt(value) > max) {
    throw new InteropCliError("INTEROP_CLI_BAD_NUMBER", `${field} must be a positive integer, got "${value}"`, {
      field,
      value,
    });
  }
  return BigInt(value);
}

/** The API gateway's origin: `--api`, else the local one on `INTEROP_API_PORT` (default 8620). */
async function apiUrl(value: string | undefined): Promise<string> {
  if (value === undefined) {
    const { INTEROP_SETTINGS } = await import("./service.js");
    const port = INTEROP_SETTINGS.read(process.env, { devnet: true }).INTEROP_API_PORT;
    return `http://127.0.0.1:${port}`;
  }
  return apiOrigin(value, API_ERRORS);
}

/** The API gateway's origin and reachability, as this CLI's errors. */
const API_ERRORS: ApiClientErrors = {
  badUrl: (value) =>
    new InteropCliError("INTEROP_CLI_BAD_URL", `--api must be an http(s) URL, got "${value}"`, { value }),
  unreachable: (api, cause) =>
    new InteropCliError("INTEROP_CLI_API_UNREACHABLE", `the interop API gateway at ${api} does not answer`, {
      api,
      cause,
    }),
};

/** GETs or POSTs JSON at the API gateway; an unreachable gateway is one clear error. */
async function call(api: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return callApi(api, path, body, API_ERRORS);
}

/** The API's reason for a 4xx/5xx (the kit's `{error: {code, message, field}}`), as one line. */
function refusal(status: number, json: unknown): InteropCliError {
  const error = ((json ?? {}) as { error?: { code?: unknown; message?: unknown; field?: unknown } }).error ?? {};
  const code = error.code === undefined ? "" : ` ${String(error.code)}`;
  const field = error.field === undefined ? "" : ` (${String(error.field)})`;
  return new InteropCliError(
    "INTEROP_CLI_REFUSED",
    `the API gateway refused it (HTTP ${status}${code}): ${String(error.message ?? "no reason given")}${field}`,
    { status, answer: json },
  );
}

function viewRows(view: TransactionView): Array<[string, string]> {
  return [
    ["id", view.id],
    ["signer", view.signer],
    ["status", view.status],
    ...(view.reason === null ? [] : [["reason", view.reason] as [string, string]]),
    ["source", `${view.source.chain} ${view.source.txHash ?? "(not sent yet)"}`],
    ...(view.message === null
      ? []
      : [["message", `${view.message.id} (nonce ${view.message.nonce})`] as [string, string]]),
    ...(view.destination === null
      ? []
      : [
          ["destination", `${view.destination.chain} ${view.destination.txHash ?? view.destination.status}`] as [
            string,
            string,
          ],
        ]),
    ...(view.refund === null ? [] : [["refund", view.refund.txHash ?? "(pending)"] as [string, string]]),
  ];
}

/** Adds the `interop` command group to the program. */
export function addInteropCommands(program: Program): void {
  const interop: CommandGroup = program
    .command("interop")
    .description("cross-chain transfers through the interop API gateway (docs/interop.md)");
  addSendCommand(interop);
  addStatusCommand(interop);
}

function addSendCommand(interop: CommandGroup): void {
  interop
    .command("send")
    .description("sign a CrossChain payload of the chain's BankToken, submit it and follow it to the destination")
    .requiredOption("--to <address>", "the recipient on the destination chain")
    .requiredOption("--amount <minor>", "amount, in minor units")
    .requiredOption("--destination <chainId>", "the destination chain's EVM chain id")
    .option("--api <url>", "the interop API gateway (default: http://127.0.0.1:$INTEROP_API_PORT, 8620)")
    .option("--key-env <VAR>", "environment variable holding the sender's private key", DEFAULT_KEY_ENV)
    .option("--ttl <seconds>", "the payload's time to live", "600")
    .option("--nonce <n>", "the payload nonce (default: the signer's lowest unused one)")
    .option("--no-wait", "print the id once accepted, without following it")
    .action(async (_o, command) => {
      const options = command.optsWithGlobals();
      if (!isAddress(options.to)) {
        throw new InteropCliError("INTEROP_CLI_BAD_ADDRESS", `--to must be an address, got "${options.to}"`, {
          value: options.to,
        });
      }
      const to = getAddress(options.to);
      const amount = positive(options.amount, "--amount");
      const destination = positive(options.destination, "--destination", 2n ** 64n - 1n);
      const ttl = positive(options.ttl, "--ttl", 30n * 86_400n);
      const api = await apiUrl(options.api);
      const wallet = walletFromEnv(options.keyEnv, InteropCliError, "INTEROP_CLI");
      const { BankToken__factory, InteropGateway__factory } = await loadTypechain();
      const { PAYLOAD_TYPES, caip2Of, interopGatewayDomain, payloadJson, payloadSchema, payloadStruct } =
        await loadPayload();
      await withChain(
        options,
        async (chain, deployments) => {
          const record = (name: string) => {
            const found = deployments.contracts.get(name);
            if (found === undefined) {
              throw new InteropCliError(
                "INTEROP_CLI_NOT_DEPLOYED",
                `${name} is not deployed on chain ${chain.chainId}`,
                {
                  contract: name,
                  chainId: chain.chainId,
                },
              );
            }
            return found.address;
          };
          if (destination === chain.chainId) {
            throw new InteropCliError(
              "INTEROP_CLI_SAME_CHAIN",
              `--destination ${destination} is the source chain: a cross-chain transfer goes to another chain`,
              { destination },
            );
          }
          const signer = wallet.connect(chain.provider);
          const gateway = InteropGateway__factory.connect(record("InteropGateway"), signer);
          const token = BankToken__factory.connect(record("BankToken"), signer);
          let nonce: bigint | undefined = options.nonce === undefined ? undefined : positive(options.nonce, "--nonce");
          for (let n = 1n; nonce === undefined && n <= NONCE_SCAN; n++) {
            if (!(await gateway.isNonceUsed(wallet.address, n))) nonce = n;
          }
          if (nonce === undefined) {
            throw new InteropCliError(
              "INTEROP_CLI_NO_NONCE",
              `the signer's first ${NONCE_SCAN} nonces are used: pass --nonce`,
              {},
            );
          }
          const balance = await token.balanceOf(wallet.address);
          if (balance < amount) {
            throw new InteropCliError(
              "INTEROP_CLI_INSUFFICIENT_FUNDS",
              `${wallet.address} holds ${balance} minor units on chain ${chain.chainId}, less than ${amount}`,
              { signer: wallet.address, balance, amount },
            );
          }
          let approval: string | null = null;
          if ((await token.allowance(wallet.address, gateway.target)) < amount) {
            const tx = await token.approve(gateway.target, amount);
            await mined(tx);
            approval = tx.hash;
          }
          const now = BigInt((await chain.provider.getBlock("latest"))!.timestamp);
          const payload = payloadSchema.parse({
            version: 1,
            sourceChain: caip2Of(chain.chainId),
            destinationChain: caip2Of(destination),
            kind: "CrossChain",
            target: to,
            asset: token.target,
            amount: amount.toString(),
            data: "0x",
            nonce: nonce.toString(),
            deadline: (now + ttl).toString(),
          });
          const signature = await wallet.signTypedData(
            interopGatewayDomain(chain.chainId, gateway.target.toString()),
            PAYLOAD_TYPES,
            payloadStruct(payload),
          );
          const posted = await call(api, "/transactions", {
            payload: payloadJson(payload),
            signer: wallet.address,
            signature,
          });
          if (posted.status !== 202 && posted.status !== 200) throw refusal(posted.status, posted.json);
          const id = String((posted.json as { id: unknown }).id);
          const log = logTo(process.stderr, options.json);
          log("accepted", { id, nonce });
          const view = await follow(api, id, wallet.address, options.wait ? WAIT_MS : 0, log);
          output(options, { id, nonce, approval, transaction: view }, () =>
            lines([...viewRows(view), ...(approval === null ? [] : [["approval", approval] as [string, string]])]),
          );
          if (options.wait && !FINAL.has(view.status)) {
            throw new InteropCliError(
              "INTEROP_CLI_TIMEOUT",
              `still ${view.status} after ${WAIT_MS / 1000} s: follow it with "bank-chain interop status ${id}"`,
              { id, status: view.status },
            );
          }
          if (view.status === "failed" || view.status === "refunded") {
            throw new InteropCliError("INTEROP_CLI_NOT_DELIVERED", `the transfer was ${view.status}`, {
              id,
              status: view.status,
              reason: view.reason,
            });
          }
        },
        [],
      );
    });
}

/** The payload's view, polled until it is final or `waitMs` has passed (0: once). */
async function follow(
  api: string,
  id: string,
  signer: string,
  waitMs: number,
  log: ReturnType<typeof logTo>,
): Promise<TransactionView> {
  const until = Date.now() + waitMs;
  let last = "";
  for (;;) {
    const { status, json } = await call(api, `/transactions/${id}?signer=${signer}`);
    if (status !== 200) throw refusal(status, json);
    const view = json as TransactionView;
    if (view.status !== last) {
      log(view.status, { id });
      last = view.status;
    }
    if (FINAL.has(view.status) || Date.now() >= until) return view;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function addStatusCommand(interop: CommandGroup): void {
  interop
    .command("status")
    .description("what the interop API gateway knows of a payload")
    .argument("<id>", "the payload id POST /transactions answered")
    .option("--signer <address>", "the signer, when several signed the same payload")
    .option("--api <url>", "the interop API gateway (default: http://127.0.0.1:$INTEROP_API_PORT, 8620)")
    .action(async (idArgument, _o, command) => {
      const options = command.optsWithGlobals();
      if (!/^0x[0-9a-fA-F]{64}$/.test(idArgument)) {
        throw new InteropCliError("INTEROP_CLI_BAD_ID", `the id must be 32 bytes of hex, got "${idArgument}"`, {
          value: idArgument,
        });
      }
      if (options.signer !== undefined && !isAddress(options.signer)) {
        throw new InteropCliError("INTEROP_CLI_BAD_ADDRESS", `--signer must be an address, got "${options.signer}"`, {
          value: options.signer,
        });
      }
      const query = options.signer === undefined ? "" : `?signer=${getAddress(options.signer)}`;
      const { status, json } = await call(await apiUrl(options.api), `/transactions/${idArgument}${query}`);
      if (status !== 200) throw refusal(status, json);
      const view = json as TransactionView;
      output(options, { transaction: view }, () => lines(viewRows(view)));
    });
}
