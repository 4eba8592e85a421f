/**
 * Who holds what: the role plan the deploy scripts carry out (one holder per
 * duty, the deployer none), and the role table as the chain has it, read from
 * each contract's `RoleGranted`/`RoleRevoked` logs and checked with `hasRole`.
 * `bank-chain roles` prints the table and fails when the chain departs from
 * the plan.
 */
import { getAddress, Interface, keccak256, toUtf8Bytes, ZeroHash, type Provider } from "ethers";

import { BankChainError } from "../errors.js";
import type { ChainConnection } from "./config.js";
import type { Deployments } from "./deployments.js";
import { DUTIES, isRemoteNetwork, type DutyName } from "./networks.js";

/** The chain's roles depart from the plan, or a duty's account cannot be found. */
export class RoleCheckError extends BankChainError {}

/** A role's holder in the plan: a duty's account, or a deployed contract. */
export type Holder = { readonly duty: DutyName } | { readonly contract: string };

export interface PlannedRole {
  /** The deployment name (`deployments/<network>/<name>.json`). */
  readonly contract: string;
  /** The role's constant name, e.g. `PAUSER_ROLE`; `DEFAULT_ADMIN_ROLE` is the zero hash. */
  readonly role: string;
  readonly holder: Holder;
}

const duty = (name: DutyName): Holder => ({ duty: name });
const contract = (name: string): Holder => ({ contract: name });

/**
 * Every role of every deployed contract and its one holder. The deploy scripts
 * grant exactly these (`deploy/_ethers.ts` `grantPlanned`), and the check
 * below holds the chain to them: a missing grant, an extra holder or a
 * deployer that kept anything is a failure.
 */
export const ROLE_PLAN: readonly PlannedRole[] = [
  { contract: "BankToken", role: "DEFAULT_ADMIN_ROLE", holder: duty("admin") },
  { contract: "BankToken", role: "MINTER_ADMIN_ROLE", holder: duty("issuanceAdmin") },
  { contract: "BankToken", role: "PAUSER_ROLE", holder: duty("pauser") },
  { contract: "BankToken", role: "COMPLIANCE_ROLE", holder: duty("compliance") },
  { contract: "BankToken", role: "RESCUER_ROLE", holder: duty("rescuer") },
  { contract: "BankToken", role: "UPGRADER_ROLE", holder: duty("upgrader") },
  { contract: "ReserveLedger", role: "DEFAULT_ADMIN_ROLE", holder: duty("admin") },
  { contract: "ReserveLedger", role: "RESERVE_ADMIN_ROLE", holder: duty("issuanceAdmin") },
  { contract: "ReserveLedger", role: "ATTESTOR_ROLE", holder: duty("attestor") },
  { contract: "ReserveLedger", role: "SETTLEMENT_ROLE", holder: contract("InterbankSettlement") },
  ...(["BankA", "BankB"] as const).flatMap((bank): PlannedRole[] => [
    { contract: `TrustAccount${bank}`, role: "DEFAULT_ADMIN_ROLE", holder: duty("admin") },
    { contract: `TrustAccount${bank}`, role: "DEPOSITOR_ROLE", holder: duty(bank === "BankA" ? "bankA" : "bankB") },
    { contract: `TrustAccount${bank}`, role: "OPERATOR_ROLE", holder: duty(bank === "BankA" ? "bankA" : "bankB") },
    { contract: `TrustAccount${bank}`, role: "SETTLEMENT_ROLE", holder: contract("InterbankSettlement") },
  ]),
  { contract: "InterbankSettlement", role: "DEFAULT_ADMIN_ROLE", holder: duty("admin") },
  { contract: "InterbankSettlement", role: "BANK_ADMIN_ROLE", holder: duty("schemeAdmin") },
  { contract: "InterbankSettlement", role: "CORRIDOR_ADMIN_ROLE", holder: duty("schemeAdmin") },
  { contract: "BillRegistry", role: "DEFAULT_ADMIN_ROLE", holder: duty("admin") },
  { contract: "BillRegistry", role: "DEFINITION_ADMIN_ROLE", holder: duty("schemeAdmin") },
  { contract: "AccountLedgerBankA", role: "DEFAULT_ADMIN_ROLE", holder: duty("admin") },
  { contract: "AccountLedgerBankA", role: "LEDGER_ADMIN_ROLE", holder: duty("bankA") },
  { contract: "AccountLedgerBankA", role: "TREASURER_ROLE", holder: duty("bankA") },
  { contract: "AccountLedgerBankA", role: "GATEWAY_ROLE", holder: duty("gateway") },
  { contract: "OfflineVault", role: "DEFAULT_ADMIN_ROLE", holder: duty("admin") },
  { contract: "OfflineVault", role: "RISK_ADMIN_ROLE", holder: duty("bankA") },
  { contract: "ChainRegistry", role: "DEFAULT_ADMIN_ROLE", holder: duty("admin") },
  { contract: "ChainRegistry", role: "CHAIN_ADMIN_ROLE", holder: duty("interopAdmin") },
  { contract: "BridgeRegistry", role: "DEFAULT_ADMIN_ROLE", holder: duty("admin") },
  { contract: "BridgeRegistry", role: "ROUTE_ADMIN_ROLE", holder: duty("interopAdmin") },
  { contract: "BridgeRegistry", role: "PAUSER_ROLE", holder: duty("pauser") },
  { contract: "AttestedGateway", role: "DEFAULT_ADMIN_ROLE", holder: duty("admin") },
  { contract: "AttestedGateway", role: "GATEWAY_ADMIN_ROLE", holder: duty("interopAdmin") },
  { contract: "AttestedGateway", role: "PAUSER_ROLE", holder: duty("pauser") },
  { contract: "BurnMintLane", role: "DEFAULT_ADMIN_ROLE", holder: duty("admin") },
  { contract: "BurnMintLane", role: "LINK_ADMIN_ROLE", holder: duty("interopAdmin") },
  { contract: "BurnMintLane", role: "ROUTER_ROLE", holder: contract("InteropGateway") },
  { contract: "InteropGateway", role: "DEFAULT_ADMIN_ROLE", holder: duty("admin") },
  { contract: "InteropGateway", role: "GATEWAY_ADMIN_ROLE", holder: duty("interopAdmin") },
  { contract: "InteropGateway", role: "FX_QUOTER_ROLE", holder: duty("fxQuoter") },
  { contract: "InteropGateway", role: "PAUSER_ROLE", holder: duty("pauser") },
  { contract: "ScoringModelRegistry", role: "DEFAULT_ADMIN_ROLE", holder: duty("admin") },
  { contract: "ScoringModelRegistry", role: "MODEL_ADMIN_ROLE", holder: duty("schemeAdmin") },
  { contract: "CertificateResolver", role: "DEFAULT_ADMIN_ROLE", holder: duty("admin") },
  { contract: "CertificateResolver", role: "ISSUER_ROLE", holder: duty("certIssuer") },
  { contract: "RewardDistributor", role: "DEFAULT_ADMIN_ROLE", holder: duty("admin") },
  { contract: "RewardDistributor", role: "ORACLE_ADMIN_ROLE", holder: duty("rewardsAdmin") },
  { contract: "RewardDistributor", role: "REGISTRAR_ROLE", holder: duty("registrar") },
  { contract: "RewardDistributor", role: "PAUSER_ROLE", holder: duty("pauser") },
  { contract: "Checkout", role: "DEFAULT_ADMIN_ROLE", holder: duty("admin") },
  { contract: "Checkout", role: "OPERATOR_ROLE", holder: duty("checkoutOperator") },
  { contract: "Checkout", role: "CONFIGURATOR_ROLE", holder: duty("schemeAdmin") },
  { contract: "Checkout", role: "PAUSER_ROLE", holder: duty("pauser") },
];

/** A privilege a contract grants outside AccessControl, and its holder in the plan. */
export type PlannedPrivilege =
  | {
      /** The deployment name. */
      readonly contract: "BankToken" | "ReserveLedger";
      /**
       * `minter`: `BankToken.isMinter`; `issuer`: listed in `ReserveLedger.issuers()` (active or not);
       * `bridge`: listed in `ReserveLedger.bridges()` (mints and burns as imports and exports of a lane).
       */
      readonly privilege: "minter" | "issuer" | "bridge";
      readonly holder: Holder;
    }
  | {
      readonly contract: "AccountLedgerBankA";
      /** `treasury()`: funds the central token account and receives what is defunded. */
      readonly privilege: "treasury";
      readonly holder: Holder;
    }
  | {
      readonly contract: "InterbankSettlement";
      /** `agentOf(bank)`: acts for the bank (initiates as debtor, smelts as creditor). */
      readonly privilege: "agent";
      /** The bank: its trust account's deployment name. */
      readonly of: string;
      readonly holder: Holder;
    };

/**
 * The privileges that are not roles, and their holders: the token's minters
 * and the reserve ledger's issuers are each trust account, and the
 * InterbankSettlement (a minter with a zero allowance and a deactivated
 * issuer: it only burns); each bank registered in the InterbankSettlement is
 * a trust account, its agent the bank's duty; bank A's card ledger's
 * treasury is bank A; no issuer reads its reserve from a feed (attestations
 * only); the cross-chain lane is a minter and the ledger's one bridge account.
 * The deploy scripts set exactly these (002, 003, 005, 007);
 * the check holds the chain to them as to ROLE_PLAN, since a minter nobody
 * planned can issue money without any role.
 */
export const PRIVILEGE_PLAN: readonly PlannedPrivilege[] = (
  ["TrustAccountBankA", "TrustAccountBankB", "InterbankSettlement"] as const
)
  .flatMap((name): PlannedPrivilege[] => [
    { contract: "BankToken", privilege: "minter", holder: contract(name) },
    { contract: "ReserveLedger", privilege: "issuer", holder: contract(name) },
  ])
  .concat(
    (["BankA", "BankB"] as const).map((bank) => ({
      contract: "InterbankSettlement",
      privilege: "agent",
      of: `TrustAccount${bank}`,
      holder: duty(bank === "BankA" ? "bankA" : "bankB"),
    })),
    [{ contract: "AccountLedgerBankA", privilege: "treasury", holder: duty("bankA") }],
    [
      { contract: "BankToken", privilege: "minter", holder: contract("BurnMintLane") },
      { contract: "ReserveLedger", privilege: "bridge", holder: contract("BurnMintLane") },
    ],
  );

/** The role's id: the zero hash for `DEFAULT_ADMIN_ROLE`, else keccak256 of its name (OpenZeppelin's convention). */
export function roleId(role: string): string {
  return role === "DEFAULT_ADMIN_ROLE" ? ZeroHash : keccak256(toUtf8Bytes(role));
}

/** The plan's grants on one contract. */
export function plannedFor(contractName: string): PlannedRole[] {
  return ROLE_PLAN.filter((entry) => entry.contract === contractName);
}

/** A holder's label in the table: the duty's name, or `contract:<name>`. */
export function holderLabel(holder: Holder): string {
  return "duty" in holder ? holder.duty : `contract:${holder.contract}`;
}

/**
 * Each duty's address on a chain: on a remote network the address of the key
 * in its own configuration variable (the connection's signers, in DUTIES
 * order); on the devnet, the in-process chain or a bare `--rpc` node, the
 * node's unlocked account at the duty's devnet index.
 */
export async function dutyAddresses(chain: ChainConnection): Promise<Map<DutyName, string>> {
  const remote = isRemoteNetwork(chain.network);
  const signers = await chain.getSigners();
  const addresses = new Map<DutyName, string>();
  for (const [position, { name, devnetIndex }] of DUTIES.entries()) {
    const signer = signers[remote ? position : devnetIndex];
    if (signer === undefined) {
      throw new RoleCheckError(
        "ROLES_NO_DUTY_ACCOUNT",
        `the chain has ${signers.length} accounts to sign with, so duty ${name} (index ${remote ? position : devnetIndex}) has none`,
        { duty: name },
      );
    }
    addresses.set(name, getAddress(await signer.getAddress()));
  }
  return addresses;
}

/** One row of the role table as read from chain. */
export interface RoleRow {
  readonly contract: string;
  readonly role: string;
  readonly address: string;
  /** Who the address is: a duty, `contract:<name>`, or `unknown`. */
  readonly holder: string;
  /** Whether the plan gives this role on this contract to this holder. */
  readonly planned: boolean;
}

/** A departure from the plan. */
export interface RoleProblem {
  readonly code: "missing" | "unplanned" | "shared-key" | "pending-admin" | "implementation";
  readonly message: string;
}

export interface RoleTable {
  readonly rows: readonly RoleRow[];
  /** The holders of PRIVILEGE_PLAN's privileges on chain (`role`: `minter`, `issuer`, `agent of …`, `treasury`, `reserve feed of …`). */
  readonly privileges: readonly RoleRow[];
  readonly problems: readonly RoleProblem[];
  readonly duties: ReadonlyMap<DutyName, string>;
}

const ACCESS = new Interface([
  "event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
  "event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
  "function hasRole(bytes32 role, address account) view returns (bool)",
  "function pendingDefaultAdmin() view returns (address newAdmin, uint48 schedule)",
  "event MinterConfigured(address indexed minter, uint256 allowance)",
  "function isMinter(address account) view returns (bool)",
  "function issuers() view returns (address[])",
  "function bridges() view returns (address[])",
  "event BankRegistered(address indexed bank, address indexed agent)",
  "function agentOf(address bank) view returns (address)",
  "function issuer(address account) view returns ((bool registered, bool active, bool breached, uint16 ratioBps, uint32 maxAge, uint40 attestedAt, uint256 reserve, uint256 outstanding, address feed))",
  "function treasury() view returns (address)",
]);
const GRANTED = ACCESS.getEvent("RoleGranted")!.topicHash;
const REVOKED = ACCESS.getEvent("RoleRevoked")!.topicHash;
const MINTER_CONFIGURED = ACCESS.getEvent("MinterConfigured")!.topicHash;
const BANK_REGISTERED = ACCESS.getEvent("BankRegistered")!.topicHash;
/** ERC-1967's implementation slot: keccak256("eip1967.proxy.implementation") - 1. */
const IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc";
/** Blocks per `eth_getLogs` call: within what public RPC providers serve. */
const LOG_CHUNK = 10_000;

/**
 * The role table of every contract the plan names, read from the chain: each
 * address that was ever granted a role and still holds it, checked against the
 * plan. Names of roles come from the plan; a granted role the plan does not
 * know shows as its hash.
 */
export async function readRoleTable(
  provider: Provider,
  deployments: Deployments,
  duties: ReadonlyMap<DutyName, string>,
): Promise<RoleTable> {
  const whoIs = new Map<string, string>();
  for (const [name, address] of duties) {
    if (!whoIs.has(address)) whoIs.set(address, name);
  }
  const contracts = [...new Set(ROLE_PLAN.map((entry) => entry.contract))];
  for (const name of contracts) {
    const record = deployments.contracts.get(name);
    if (record !== undefined) whoIs.set(getAddress(record.address), `contract:${name}`);
  }
  const addressOf = (holder: Holder): string | undefined =>
    "duty" in holder ? duties.get(holder.duty) : deployments.contracts.get(holder.contract)?.address;

  const rows: RoleRow[] = [];
  const problems: RoleProblem[] = [];
  const shared = new Map<string, DutyName[]>();
  for (const [name, address] of duties) shared.set(address, [...(shared.get(address) ?? []), name]);
  for (const [address, names] of shared) {
    if (names.length > 1) {
      problems.push({ code: "shared-key", message: `duties ${names.join(", ")} share one account ${address}` });
    }
  }

  const latest = await provider.getBlockNumber();
  for (const name of contracts) {
    const record = deployments.contracts.get(name);
    const plan = plannedFor(name);
    if (record === undefined) {
      problems.push({ code: "missing", message: `${name} is not deployed` });
      continue;
    }
    const address = getAddress(record.address);
    const names = new Map(plan.map((entry) => [roleId(entry.role), entry.role]));
    const candidates = new Set<string>();
    for (const log of await logsOf(provider, address, record.blockNumber ?? 0, latest, [GRANTED, REVOKED])) {
      candidates.add(`${log.topics[1]}|${getAddress(`0x${log.topics[2]!.slice(26)}`)}`);
    }
    for (const entry of plan) {
      const holder = addressOf(entry.holder);
      if (holder !== undefined) candidates.add(`${roleId(entry.role)}|${getAddress(holder)}`);
    }
    for (const candidate of [...candidates].sort()) {
      const [role, account] = candidate.split("|") as [string, string];
      const held = (await provider.call({
        to: address,
        data: ACCESS.encodeFunctionData("hasRole", [role, account]),
      })) as string;
      const roleName = names.get(role) ?? role;
      const planned = plan.some(
        (entry) => entry.role === roleName && addressOf(entry.holder)?.toLowerCase() === account.toLowerCase(),
      );
      if (ACCESS.decodeFunctionResult("hasRole", held)[0] !== true) {
        if (planned) {
          problems.push({
            code: "missing",
            message: `${name} ${roleName}: planned holder ${whoIs.get(account) ?? account} does not hold it`,
          });
        }
        continue;
      }
      const holder = whoIs.get(account) ?? "unknown";
      rows.push({ contract: name, role: roleName, address: account, holder, planned });
      if (!planned) {
        problems.push({
          code: "unplanned",
          message: `${name} ${roleName} is held by ${holder === "unknown" ? account : `${holder} ${account}`}, which the plan does not give it`,
        });
      }
    }
    const pending = ACCESS.decodeFunctionResult(
      "pendingDefaultAdmin",
      await provider.call({ to: address, data: ACCESS.encodeFunctionData("pendingDefaultAdmin", []) }),
    );
    if (pending[0] !== "0x0000000000000000000000000000000000000000") {
      problems.push({
        code: "pending-admin",
        message: `${name}: a default admin handover to ${whoIs.get(getAddress(pending[0] as string)) ?? pending[0]} is pending`,
      });
    }
  }
  const privileges = await readPrivileges(provider, deployments, latest, whoIs, addressOf, problems);
  // The token's code is whatever its proxy points at: an upgrade is UPGRADER_ROLE's to make, and this check's to see.
  const proxy = deployments.contracts.get("BankToken");
  const implementation = deployments.contracts.get("BankToken_Implementation");
  if (proxy !== undefined && implementation !== undefined) {
    const slot = await provider.getStorage(proxy.address, IMPLEMENTATION_SLOT);
    const running = getAddress(`0x${slot.slice(26)}`);
    if (running !== getAddress(implementation.address)) {
      problems.push({
        code: "implementation",
        message: `BankToken runs the implementation ${running}, not the deployed BankToken_Implementation ${getAddress(implementation.address)}`,
      });
    }
  }
  return { rows, privileges, problems, duties };
}

/** Who holds each PRIVILEGE_PLAN privilege on chain; departures from the plan go into `problems`. */
async function readPrivileges(
  provider: Provider,
  deployments: Deployments,
  latest: number,
  whoIs: ReadonlyMap<string, string>,
  addressOf: (holder: Holder) => string | undefined,
  problems: RoleProblem[],
): Promise<RoleRow[]> {
  const rows: RoleRow[] = [];
  const unplanned = (name: string, privilege: string, account: string, holder: string): RoleProblem => ({
    code: "unplanned",
    message: `${name} ${privilege} is held by ${holder === "unknown" ? account : `${holder} ${account}`}, which the plan does not give it`,
  });
  /** Every bank ever registered (each `BankRegistered` log) and its agent now, against the planned agents. */
  const readAgents = async (planned: readonly PlannedPrivilege[], address: string, from: number) => {
    const found: RoleRow[] = [];
    const plannedAgent = new Map<string, string | undefined>();
    for (const entry of planned) {
      const bank = "of" in entry ? deployments.contracts.get(entry.of)?.address : undefined;
      if (bank !== undefined) plannedAgent.set(getAddress(bank), addressOf(entry.holder));
    }
    const banks = new Set(plannedAgent.keys());
    for (const log of await logsOf(provider, address, from, latest, [BANK_REGISTERED])) {
      banks.add(getAddress(`0x${log.topics[1]!.slice(26)}`));
    }
    for (const bank of [...banks].sort()) {
      const privilege = `agent of ${whoIs.get(bank) ?? bank}`;
      const agent = getAddress(
        ACCESS.decodeFunctionResult(
          "agentOf",
          await provider.call({ to: address, data: ACCESS.encodeFunctionData("agentOf", [bank]) }),
        )[0] as string,
      );
      const wanted = plannedAgent.get(bank);
      if (wanted !== undefined && getAddress(wanted) !== agent) {
        problems.push({
          code: "missing",
          message: `InterbankSettlement ${privilege}: planned holder ${whoIs.get(getAddress(wanted)) ?? wanted} does not hold it`,
        });
      }
      if (BigInt(agent) === 0n) continue;
      const holder = whoIs.get(agent) ?? "unknown";
      const isPlanned = wanted !== undefined && getAddress(wanted) === agent;
      found.push({ contract: "InterbankSettlement", role: privilege, address: agent, holder, planned: isPlanned });
      if (!isPlanned) problems.push(unplanned("InterbankSettlement", privilege, agent, holder));
    }
    return found;
  };
  const kinds = new Map(PRIVILEGE_PLAN.map((entry) => [`${entry.contract} ${entry.privilege}`, entry] as const));
  for (const { contract: name, privilege } of kinds.values()) {
    const record = deployments.contracts.get(name);
    if (record === undefined) continue; // named by the role check already
    const address = getAddress(record.address);
    const call = async (fn: string, args: unknown[]) =>
      ACCESS.decodeFunctionResult(fn, await provider.call({ to: address, data: ACCESS.encodeFunctionData(fn, args) }));
    const planned = PRIVILEGE_PLAN.filter((entry) => entry.contract === name && entry.privilege === privilege);
    if (privilege === "agent") {
      rows.push(...(await readAgents(planned, address, record.blockNumber ?? 0)));
      continue;
    }
    const plannedAddresses = new Set(planned.flatMap((entry) => addressOf(entry.holder) ?? []).map(getAddress));
    let holders: Set<string>;
    if (privilege === "treasury") {
      holders = new Set([getAddress((await call("treasury", []))[0] as string)]);
    } else if (privilege === "bridge") {
      holders = new Set(((await call("bridges", []))[0] as string[]).map(getAddress));
    } else if (privilege === "issuer") {
      holders = new Set(((await call("issuers", []))[0] as string[]).map(getAddress));
      // An issuer on a feed mints as far as the feed's figure says: the plan has attestations only.
      for (const account of [...holders].sort()) {
        const feed = getAddress(((await call("issuer", [account]))[0] as { feed: string }).feed);
        if (BigInt(feed) === 0n) continue;
        const role = `reserve feed of ${whoIs.get(account) ?? account}`;
        const holder = whoIs.get(feed) ?? "unknown";
        rows.push({ contract: name, role, address: feed, holder, planned: false });
        problems.push(unplanned(name, role, feed, holder));
      }
    } else {
      // Every address ever configured as a minter (a removal emits MinterRemoved), then who still is one.
      const candidates = new Set(plannedAddresses);
      for (const log of await logsOf(provider, address, record.blockNumber ?? 0, latest, [MINTER_CONFIGURED])) {
        candidates.add(getAddress(`0x${log.topics[1]!.slice(26)}`));
      }
      holders = new Set();
      for (const candidate of candidates) if ((await call("isMinter", [candidate]))[0] === true) holders.add(candidate);
    }
    for (const account of [...new Set([...holders, ...plannedAddresses])].sort()) {
      const holder = whoIs.get(account) ?? "unknown";
      const isPlanned = plannedAddresses.has(account);
      if (!holders.has(account)) {
        problems.push({
          code: "missing",
          message: `${name} ${privilege}: planned holder ${whoIs.get(account) ?? account} does not hold it`,
        });
        continue;
      }
      rows.push({ contract: name, role: privilege, address: account, holder, planned: isPlanned });
      if (!isPlanned) problems.push(unplanned(name, privilege, account, holder));
    }
  }
  return rows;
}

/** The logs of `address` with a first topic among `topics`, from block `from` to `to`, in chunks. */
async function logsOf(
  provider: Provider,
  address: string,
  from: number,
  to: number,
  topics: string[],
): Promise<readonly { readonly topics: readonly string[] }[]> {
  const found: { readonly topics: readonly string[] }[] = [];
  for (let start = from; start <= to; start += LOG_CHUNK) {
    found.push(
      ...(await provider.getLogs({
        address,
        fromBlock: start,
        toBlock: Math.min(to, start + LOG_CHUNK - 1),
        topics: [topics],
      })),
    );
  }
  return found;
}
