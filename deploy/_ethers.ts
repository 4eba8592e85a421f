/**
 * Shared by the deploy scripts (rocketh skips files starting with `_`): ethers
 * on rocketh's provider, and transactions that are sent only when the chain is
 * not already in the wanted state, so a deploy can be re-run safely.
 */
import {
  BrowserProvider,
  Contract,
  getAddress,
  keccak256,
  toUtf8Bytes,
  type ContractTransactionResponse,
  type Eip1193Provider,
  type JsonRpcSigner,
} from "ethers";

import { isRemoteNetwork } from "../src/chain/networks.js";
import { waitForReceipt } from "../src/chain/receipts.js";
import { holderLabel, plannedFor, roleId } from "../src/chain/roles.js";
import { TrustAccount__factory } from "../typechain-types/index.js";

export interface EthersEnv {
  readonly provider: BrowserProvider;
  signer(address: string): Promise<JsonRpcSigner>;
}

export function ethersFor(env: { network: { provider: unknown } }): EthersEnv {
  const provider = new BrowserProvider(env.network.provider as Eip1193Provider, undefined, { pollingInterval: 100 });
  return { provider, signer: (address) => provider.getSigner(address) };
}

/**
 * rocketh's `deploy` options. On a remote network a contract already deployed
 * is kept even when its code or constructor arguments changed since (a duty
 * key rotated, a contract edited): rocketh would otherwise deploy a new one
 * and the services would switch to it, a new token beside the one in use.
 * Replacing a contract there is deliberate: its file leaves
 * `deployments/<network>/` first (the token upgrades through UPGRADER_ROLE).
 * The devnet redeploys what changed.
 */
export function keepDeployed(env: { readonly name: string }): { readonly skipIfAlreadyDeployed: true } | undefined {
  return isRemoteNetwork(env.name) ? { skipIfAlreadyDeployed: true } : undefined;
}

/** Sends `send()` unless `done()` already holds, waits for it, and logs what it did. */
export async function ensure(
  what: string,
  done: () => Promise<boolean>,
  send: () => Promise<ContractTransactionResponse>,
): Promise<void> {
  if (await done()) return;
  const tx = await send();
  const receipt = await waitForReceipt(tx.provider, tx.hash);
  if (receipt.status !== 1) throw new Error(`deploy step failed: ${what} (${tx.hash})`);
  console.log(`  - ${what} (${tx.hash})`);
}

/** The devnet's unlocked accounts (`eth_accounts`), checksummed, in the node's order. */
export async function devnetAccounts(provider: BrowserProvider): Promise<string[]> {
  return ((await provider.send("eth_accounts", [])) as string[]).map((account) => getAddress(account));
}

/** What `ensurePaidIn` needs of a deploy script's environment. */
export interface PayInEnv {
  readonly network: { provider: unknown };
  readonly namedAccounts: Readonly<Record<string, string>> & { readonly bankA: string };
  get(name: string): { readonly address: string };
}

/**
 * Demo money: bank A mints `amount` to `to` against its trust account, once, under the fiat reference
 * `keccak256("bank-chain/devnet/<ref>")` (a re-run sees the reference used and sends nothing).
 */
export async function ensurePaidIn(
  env: PayInEnv,
  payIn: { readonly what: string; readonly to: string; readonly amount: bigint; readonly ref: string },
): Promise<void> {
  const { signer } = ethersFor(env);
  const trust = TrustAccount__factory.connect(
    env.get("TrustAccountBankA").address,
    await signer(env.namedAccounts.bankA),
  );
  const fiatRef = keccak256(toUtf8Bytes(`bank-chain/devnet/${payIn.ref}`));
  await ensure(
    `TrustAccountBankA: ${payIn.what} ${payIn.to} paid in`,
    () => trust.isFiatRefUsed(fiatRef),
    () => trust.mintForDeposit(payIn.to, payIn.amount, fiatRef),
  );
}

const ACCESS_ABI = [
  "function hasRole(bytes32 role, address account) view returns (bool)",
  "function grantRole(bytes32 role, address account)",
];

/** What `grantPlanned` needs of a deploy script's environment. */
export interface PlanEnv {
  readonly network: { provider: unknown };
  readonly namedAccounts: Readonly<Record<string, string>> & { readonly admin: string };
  getOrNull(name: string): { readonly address: string } | null;
}

/**
 * Grants `contractName`'s roles as ROLE_PLAN (src/chain/roles.ts) says, signed
 * by the `admin` duty (the default admin every constructor names). A grant to a
 * contract not deployed yet is left for the script that deploys it to re-run
 * this. DEFAULT_ADMIN_ROLE comes from the constructor, never from a grant.
 */
export async function grantPlanned(env: PlanEnv, contractName: string): Promise<void> {
  const deployed = env.getOrNull(contractName);
  if (deployed === null) throw new Error(`grantPlanned: ${contractName} is not deployed`);
  const { signer } = ethersFor(env);
  const access = new Contract(deployed.address, ACCESS_ABI, await signer(env.namedAccounts.admin));
  for (const entry of plannedFor(contractName)) {
    if (entry.role === "DEFAULT_ADMIN_ROLE") continue;
    const holder =
      "duty" in entry.holder ? env.namedAccounts[entry.holder.duty] : env.getOrNull(entry.holder.contract)?.address;
    if (holder === undefined) continue;
    const role = roleId(entry.role);
    await ensure(
      `${contractName}: ${entry.role} to ${holderLabel(entry.holder)} ${holder}`,
      async () => (await access.getFunction("hasRole")(role, holder)) as boolean,
      async () => (await access.getFunction("grantRole")(role, holder)) as ContractTransactionResponse,
    );
  }
}
