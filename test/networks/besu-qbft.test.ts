/**
 * networks/besu-qbft/: the consortium network on paper. Nothing here can start Besu (no Docker engine,
 * no Besu package), so these checks read the files as Besu would and hold them to each other and to the
 * `consortium` entry of src/chain/networks.ts: the genesis (shape, chain id, free gas, gas limit, the
 * validator set in its QBFT extra data), the allow-lists, the node configuration, the compose file and
 * the runbook.
 *
 * Every check is a function from the files to a list of problems. The committed files must give none;
 * "each check bites" breaks one thing at a time in a copy of the files and expects the check that guards
 * it to name the problem, so a check that stopped looking would fail here.
 *
 * The TOML files are read by the small, strict parser below (no TOML library is installed): it accepts
 * only what these files use (comments, `key=value` with a string, a whole number, a boolean, or an array
 * of strings over one or several lines) and throws on anything else. The compose file is read with `yaml`.
 */
import { existsSync, readFileSync } from "node:fs";

import { expect } from "chai";
import { computeAddress, decodeRlp, encodeRlp, getAddress, ZeroHash } from "ethers";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

import { DEVNET_BLOCK_GAS_LIMIT } from "../../src/chain/devnet.js";
import { DUTIES, keyVariable, keyVariables, REMOTE_NETWORKS } from "../../src/chain/networks.js";

const DIR = new URL("../../networks/besu-qbft/", import.meta.url);
const CONSORTIUM = REMOTE_NETWORKS.consortium;
/** QBFT's mixHash ("Istanbul block identification"), the one value Besu accepts in a BFT genesis. */
const BFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365";
/** Where docker-compose.yml mounts each file into a validator's container. */
const MOUNT = {
  genesis: "/etc/besu/genesis.json",
  config: "/etc/besu/config.toml",
  keyDir: "/etc/besu/node",
  dataPath: "/var/lib/besu",
} as const;

interface NetworkFiles {
  readonly genesis: string;
  readonly qbftConfig: string;
  readonly validators: string;
  readonly accounts: string;
  readonly permissions: string;
  readonly config: string;
  readonly compose: string;
  readonly readme: string;
  readonly gitignore: string;
}

const FILE_NAMES: Readonly<Record<keyof NetworkFiles, string>> = {
  genesis: "genesis.json",
  qbftConfig: "qbftConfigFile.json",
  validators: "validators.json",
  accounts: "accounts.json",
  permissions: "permissions_config.toml",
  config: "config.toml",
  compose: "docker-compose.yml",
  readme: "README.md",
  gitignore: ".gitignore",
};

function readFiles(): NetworkFiles {
  const entries = Object.entries(FILE_NAMES).map(([key, name]) => [key, readFileSync(new URL(name, DIR), "utf8")]);
  return Object.fromEntries(entries) as unknown as NetworkFiles;
}

// ───────────────────────────── a strict TOML subset ─────────────────────────────

class TomlSubsetError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

type TomlValue = string | number | boolean | readonly string[];

interface TomlDocument {
  readonly values: ReadonlyMap<string, TomlValue>;
  /** For each array: the comment on each element's line ("" when none), by element. */
  readonly comments: ReadonlyMap<string, readonly string[]>;
}

/**
 * Parses the TOML these files use and nothing else: blank lines, `#` comments, and `key=value` where the
 * key is lower-case words with dashes and the value is a basic string without escapes, a whole number,
 * `true`/`false`, or an array of such strings (elements on one line or several, a trailing comma allowed,
 * a comment after an element on its line). Anything else throws `TomlSubsetError` with the line.
 */
function parseTomlSubset(text: string): TomlDocument {
  const values = new Map<string, TomlValue>();
  const comments = new Map<string, string[]>();
  const lines = text.split("\n");
  let index = 0;
  while (index < lines.length) {
    const lineNo = index + 1;
    const line = lines[index]!.trim();
    index += 1;
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-z0-9]+(?:-[a-z0-9]+)*)\s*=\s*(.*)$/.exec(line);
    if (match === null) throw new TomlSubsetError(lineNo, `expected key=value, got "${line}"`);
    const [, key, rest] = match as unknown as [string, string, string];
    if (values.has(key)) throw new TomlSubsetError(lineNo, `duplicate key ${key}`);
    if (rest.startsWith("[")) {
      // The array runs from here to its "]", possibly over the following lines.
      const items: string[] = [];
      const notes: string[] = [];
      let chunk = rest.slice(1);
      let at = lineNo;
      let expectItem = true;
      let closed = false;
      for (;;) {
        let pos = 0;
        while (pos < chunk.length && !closed) {
          const ch = chunk[pos]!;
          if (ch === " " || ch === "\t") pos += 1;
          else if (ch === "#") {
            if (notes.length === 0) throw new TomlSubsetError(at, "a comment before the first element");
            notes[notes.length - 1] = chunk.slice(pos + 1).trim();
            pos = chunk.length;
          } else if (ch === '"') {
            if (!expectItem) throw new TomlSubsetError(at, "two elements without a comma between them");
            const end = chunk.indexOf('"', pos + 1);
            if (end < 0) throw new TomlSubsetError(at, "unterminated string");
            const value = chunk.slice(pos + 1, end);
            if (value.includes("\\")) throw new TomlSubsetError(at, "escapes are outside the subset");
            items.push(value);
            notes.push("");
            expectItem = false;
            pos = end + 1;
          } else if (ch === ",") {
            if (expectItem) throw new TomlSubsetError(at, "a comma without an element before it");
            expectItem = true;
            pos += 1;
          } else if (ch === "]") {
            closed = true;
            const after = chunk.slice(pos + 1).trim();
            if (after !== "" && !after.startsWith("#")) throw new TomlSubsetError(at, `"${after}" after the array`);
          } else throw new TomlSubsetError(at, `unexpected "${ch}" in an array of strings`);
        }
        if (closed) break;
        if (index >= lines.length) throw new TomlSubsetError(lineNo, `array ${key} is never closed`);
        at = index + 1;
        chunk = lines[index]!;
        index += 1;
      }
      values.set(key, items);
      comments.set(key, notes);
      continue;
    }
    values.set(key, scalar(rest.replace(/\s+#.*$/, "").trim(), lineNo));
  }
  return { values, comments };
}

function scalar(raw: string, lineNo: number): string | number | boolean {
  if (raw === "true") return true;
  if (raw === "false") return false;
  if (/^-?(0|[1-9][0-9]*)$/.test(raw)) return Number(raw);
  const string = /^"([^"\\]*)"$/.exec(raw);
  if (string !== null) return string[1]!;
  throw new TomlSubsetError(lineNo, `value "${raw}" is outside the subset`);
}

// ───────────────────────────── the files' shapes ─────────────────────────────

const hexQuantity = z.string().regex(/^0x(0|[1-9a-f][0-9a-f]*)$/, "a hex quantity (0x, lower case, no leading zero)");
const hexBytes = (length?: number) =>
  z
    .string()
    .regex(length === undefined ? /^0x([0-9a-f]{2})*$/ : new RegExp(`^0x[0-9a-f]{${length * 2}}$`), "hex bytes")
    .describe(length === undefined ? "hex bytes" : `${length} hex bytes`);
const zero = z.literal(0);

const genesisConfigSchema = z
  .object({
    chainId: z.number().int().positive(),
    homesteadBlock: zero,
    eip150Block: zero,
    eip155Block: zero,
    eip158Block: zero,
    byzantiumBlock: zero,
    constantinopleBlock: zero,
    petersburgBlock: zero,
    istanbulBlock: zero,
    berlinBlock: zero,
    londonBlock: zero,
    shanghaiTime: zero,
    cancunTime: zero,
    zeroBaseFee: z.boolean(),
    qbft: z
      .object({
        blockperiodseconds: z.number().int().positive(),
        epochlength: z.number().int().positive(),
        requesttimeoutseconds: z.number().int().positive(),
      })
      .strict(),
  })
  .strict();

const genesisWithoutExtraData = z
  .object({
    config: genesisConfigSchema,
    nonce: hexQuantity,
    timestamp: hexQuantity,
    gasLimit: hexQuantity,
    difficulty: hexQuantity,
    mixHash: hexBytes(32),
    coinbase: hexBytes(20),
    baseFeePerGas: hexQuantity,
    alloc: z.record(z.unknown()),
  })
  .strict();

const genesisSchema = genesisWithoutExtraData.extend({ extraData: hexBytes() }).strict();

const qbftConfigSchema = z
  .object({
    genesis: genesisWithoutExtraData,
    blockchain: z
      .object({ nodes: z.object({ generate: z.literal(false), keys: z.array(hexBytes(64)) }).strict() })
      .strict(),
  })
  .strict();

const validatorsSchema = z
  .object({
    $comment: z.string(),
    validators: z.array(
      z
        .object({
          name: z.string().regex(/^validator-\d+$/),
          operator: z.string().min(1),
          publicKey: hexBytes(64),
          address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
          host: z.string().ip({ version: "v4" }),
          p2pPort: z.number().int().min(1).max(65_535),
          rpcPort: z.number().int().min(1).max(65_535),
        })
        .strict(),
    ),
  })
  .strict();

const accountsSchema = z
  .object({
    $comment: z.string(),
    network: z.literal("consortium"),
    accounts: z.array(
      z.object({ duty: z.string(), keyVariable: z.string(), address: z.string().regex(/^0x[0-9a-f]{40}$/) }).strict(),
    ),
  })
  .strict();

const composeSchema = z
  .object({
    name: z.string(),
    services: z.record(
      z
        .object({
          image: z.string(),
          restart: z.string(),
          command: z.array(z.string()),
          volumes: z.array(z.string()),
          ports: z.array(z.string()),
          networks: z.object({ consortium: z.object({ ipv4_address: z.string() }).strict() }).strict(),
        })
        .strict(),
    ),
    networks: z.object({
      consortium: z.object({ ipam: z.object({ config: z.array(z.object({ subnet: z.string() })) }) }),
    }),
    volumes: z.record(z.null()),
  })
  .strict();

type Genesis = z.infer<typeof genesisSchema>;
type Validator = z.infer<typeof validatorsSchema>["validators"][number];

/** Parses a file with its schema; a broken file is a problem, not a crash of the whole check. */
function read<T>(schema: z.ZodType<T>, text: string, file: string, parse: (text: string) => unknown): T | string {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    return `${file}: ${(error as Error).message}`;
  }
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  return `${file}: ${issue.path.join(".") || "(root)"}: ${issue.message}`;
}

const json = (text: string): unknown => JSON.parse(text);

function toml(text: string, file: string): TomlDocument | string {
  try {
    return parseTomlSubset(text);
  } catch (error) {
    return `${file}: ${(error as Error).message}`;
  }
}

/** The enode URL Besu expects for a validator: its public key without 0x, its host and p2p port. */
function enodeOf(validator: Pick<Validator, "publicKey" | "host" | "p2pPort">): string {
  return `enode://${validator.publicKey.slice(2)}@${validator.host}:${validator.p2pPort}`;
}

/** The node address of an enode URL: keccak-256 of the public key, last 20 bytes (Besu's node address). */
function addressOfEnode(enode: string): string {
  const match = /^enode:\/\/([0-9a-f]{128})@(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(enode);
  if (match === null) throw new Error(`not an enode URL with an IPv4 host: ${enode}`);
  return computeAddress(`0x04${match[1]}`);
}

/** The validators in QBFT genesis extra data: RLP([vanity(32), [validators], vote, round, seals]). */
function validatorsOfExtraData(extraData: string): string[] {
  const decoded = decodeRlp(extraData);
  if (!Array.isArray(decoded) || decoded.length !== 5) throw new Error("extraData is not an RLP list of 5 items");
  const [vanity, validators, vote, round, seals] = decoded;
  if (vanity !== ZeroHash) throw new Error("the vanity is not 32 zero bytes");
  if (!Array.isArray(validators) || validators.some((v) => typeof v !== "string" || v.length !== 42)) {
    throw new Error("the validators are not a list of 20-byte addresses");
  }
  if (!Array.isArray(vote) || vote.length !== 0) throw new Error("the genesis carries a vote (must be an empty list)");
  if (round !== "0x") throw new Error(`the round is ${String(round)}, not 0 (RLP 0x80)`);
  if (!Array.isArray(seals) || seals.length !== 0) throw new Error("the genesis carries seals");
  return (validators as string[]).map((v) => getAddress(v));
}

/** What `besu rlp encode --type=QBFT_EXTRA_DATA` gives for `validators` (QbftExtraDataCodec.encodeFromAddresses). */
function qbftExtraData(validators: readonly string[]): string {
  return encodeRlp([ZeroHash, validators.map((v) => v.toLowerCase()), [], "0x", []]);
}

function duplicates(values: readonly (string | number)[]): Array<string | number> {
  return values.filter((value, i) => values.indexOf(value) !== i);
}

// ───────────────────────────── the checks ─────────────────────────────

type Check = (files: NetworkFiles) => string[];

/** genesis.json has Besu's QBFT genesis fields, well formed. */
const checkGenesisShape: Check = (files) => {
  const genesis = read(genesisSchema, files.genesis, "genesis.json", json);
  if (typeof genesis === "string") return [genesis];
  const problems: string[] = [];
  if (genesis.mixHash !== BFT_MIX_HASH) problems.push(`genesis.json: mixHash is not QBFT's ${BFT_MIX_HASH}`);
  if (genesis.difficulty !== "0x1") problems.push("genesis.json: difficulty must be 0x1 in a QBFT genesis");
  const { blockperiodseconds, requesttimeoutseconds } = genesis.config.qbft;
  if (blockperiodseconds !== 2) problems.push(`genesis.json: blockperiodseconds is ${blockperiodseconds}, not 2`);
  if (requesttimeoutseconds <= blockperiodseconds) {
    problems.push("genesis.json: requesttimeoutseconds must exceed blockperiodseconds (Besu: about twice)");
  }
  if (Object.keys(genesis.alloc).length !== 0) problems.push("genesis.json: alloc is not empty (a free-gas chain)");
  return problems;
};

/** The chain id is the one the `consortium` network entry expects. */
const checkChainId: Check = (files) => {
  const genesis = read(genesisSchema, files.genesis, "genesis.json", json);
  if (typeof genesis === "string") return [genesis];
  return genesis.config.chainId === CONSORTIUM.chainId
    ? []
    : [
        `genesis.json: chainId ${genesis.config.chainId} is not REMOTE_NETWORKS.consortium.chainId ${CONSORTIUM.chainId}`,
      ];
};

/** Free gas as the network entry says: zero base fee in the genesis, zero minimum gas price on the nodes. */
const checkGas: Check = (files) => {
  const genesis = read(genesisSchema, files.genesis, "genesis.json", json);
  const config = toml(files.config, "config.toml");
  if (typeof genesis === "string") return [genesis];
  if (typeof config === "string") return [config];
  const problems: string[] = [];
  if (genesis.config.zeroBaseFee !== true) problems.push("genesis.json: zeroBaseFee is not true");
  if (BigInt(genesis.baseFeePerGas) !== CONSORTIUM.gas.baseFeePerGas) {
    problems.push(
      `genesis.json: baseFeePerGas ${genesis.baseFeePerGas} is not the network's ${CONSORTIUM.gas.baseFeePerGas}`,
    );
  }
  const minGasPrice = config.values.get("min-gas-price");
  if (typeof minGasPrice !== "number" || BigInt(minGasPrice) !== CONSORTIUM.gas.gasPrice) {
    problems.push(
      `config.toml: min-gas-price ${String(minGasPrice)} is not the network's gas price ${CONSORTIUM.gas.gasPrice}`,
    );
  }
  return problems;
};

/** The block gas limit is the devnet's, so a batch that fits one chain fits the other. */
const checkGasLimit: Check = (files) => {
  const genesis = read(genesisSchema, files.genesis, "genesis.json", json);
  if (typeof genesis === "string") return [genesis];
  return BigInt(genesis.gasLimit) === BigInt(DEVNET_BLOCK_GAS_LIMIT)
    ? []
    : [`genesis.json: gasLimit ${BigInt(genesis.gasLimit)} is not DEVNET_BLOCK_GAS_LIMIT ${DEVNET_BLOCK_GAS_LIMIT}`];
};

/**
 * extraData is exactly what Besu's QBFT codec writes for four distinct validators in ascending order, and
 * those validators are the nodes of validators.json and of the node allow-list.
 */
const checkValidatorSet: Check = (files) => {
  const genesis = read(genesisSchema, files.genesis, "genesis.json", json);
  const listed = read(validatorsSchema, files.validators, "validators.json", json);
  const permissions = toml(files.permissions, "permissions_config.toml");
  if (typeof genesis === "string") return [genesis];
  if (typeof listed === "string") return [listed];
  if (typeof permissions === "string") return [permissions];
  let validators: string[];
  try {
    validators = validatorsOfExtraData(genesis.extraData);
  } catch (error) {
    return [`genesis.json: extraData: ${(error as Error).message}`];
  }
  const problems: string[] = [];
  if (validators.length !== 4) problems.push(`genesis.json: ${validators.length} validators, not 4`);
  if (duplicates(validators).length > 0) problems.push(`genesis.json: validators repeat: ${duplicates(validators)}`);
  const ascending = [...validators].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
  if (validators.join() !== ascending.join()) problems.push("genesis.json: validators are not in ascending order");
  if (genesis.extraData !== qbftExtraData(validators)) {
    problems.push("genesis.json: extraData is not the canonical QBFT encoding of its validators");
  }
  for (const node of listed.validators) {
    const derived = computeAddress(`0x04${node.publicKey.slice(2)}`);
    if (derived !== getAddress(node.address)) {
      problems.push(`validators.json: ${node.name}'s address ${node.address} is not its public key's ${derived}`);
    }
  }
  const fromFile = listed.validators.map((node) => getAddress(node.address));
  if (fromFile.join() !== validators.join()) {
    problems.push(`validators.json: the validators are not the genesis validators, in the genesis order`);
  }
  const allowlist = permissions.values.get("nodes-allowlist");
  if (!Array.isArray(allowlist)) return [...problems, "permissions_config.toml: nodes-allowlist is missing"];
  let fromAllowlist: string[];
  try {
    fromAllowlist = allowlist.map((enode) => addressOfEnode(enode));
  } catch (error) {
    return [...problems, `permissions_config.toml: nodes-allowlist: ${(error as Error).message}`];
  }
  if ([...fromAllowlist].sort().join() !== [...validators].sort().join()) {
    problems.push("permissions_config.toml: the nodes allow-list's node addresses are not the genesis validators");
  }
  const expected = listed.validators.map(enodeOf);
  if (allowlist.join() !== expected.join()) {
    problems.push("permissions_config.toml: nodes-allowlist is not validators.json's enode URLs (key, host, port)");
  }
  return problems;
};

/** qbftConfigFile.json regenerates this genesis: same genesis without extraData, the validators' public keys. */
const checkQbftConfigFile: Check = (files) => {
  const generator = read(qbftConfigSchema, files.qbftConfig, "qbftConfigFile.json", json);
  const genesis = read(genesisSchema, files.genesis, "genesis.json", json);
  const listed = read(validatorsSchema, files.validators, "validators.json", json);
  if (typeof generator === "string") return [generator];
  if (typeof genesis === "string") return [genesis];
  if (typeof listed === "string") return [listed];
  const problems: string[] = [];
  const { extraData: _extraData, ...rest } = genesis;
  if (JSON.stringify(generator.genesis) !== JSON.stringify(rest)) {
    problems.push("qbftConfigFile.json: its genesis is not genesis.json without extraData");
  }
  if (generator.blockchain.nodes.keys.join() !== listed.validators.map((node) => node.publicKey).join()) {
    problems.push("qbftConfigFile.json: its keys are not validators.json's public keys, in order");
  }
  return problems;
};

/** One allow-listed account per duty, named in accounts.json and on its line of permissions_config.toml. */
const checkAccounts: Check = (files) => {
  const accounts = read(accountsSchema, files.accounts, "accounts.json", json);
  const permissions = toml(files.permissions, "permissions_config.toml");
  if (typeof accounts === "string") return [accounts];
  if (typeof permissions === "string") return [permissions];
  const problems: string[] = [];
  const duties = DUTIES.map((duty) => duty.name);
  const named = accounts.accounts.map((account) => account.duty);
  if (named.join() !== duties.join()) {
    problems.push(`accounts.json: duties ${named.join(", ")} are not DUTIES ${duties.join(", ")}, in order`);
  }
  for (const account of accounts.accounts) {
    const expected = keyVariable(CONSORTIUM, account.duty);
    if (account.keyVariable !== expected) {
      problems.push(`accounts.json: ${account.duty}'s key variable is ${account.keyVariable}, not ${expected}`);
    }
  }
  const addresses = accounts.accounts.map((account) => account.address);
  if (duplicates(addresses).length > 0) problems.push(`accounts.json: addresses repeat: ${duplicates(addresses)}`);
  const allowlist = permissions.values.get("accounts-allowlist");
  const notes = permissions.comments.get("accounts-allowlist") ?? [];
  if (!Array.isArray(allowlist)) return [...problems, "permissions_config.toml: accounts-allowlist is missing"];
  if (allowlist.join() !== addresses.join()) {
    problems.push("permissions_config.toml: accounts-allowlist is not accounts.json's addresses, in order");
  }
  accounts.accounts.forEach((account, i) => {
    const note = notes[i] ?? "";
    if (!note.startsWith(`${account.duty} `) || !note.includes(account.keyVariable)) {
      problems.push(
        `permissions_config.toml: the comment on entry ${i + 1} does not name ${account.duty} and ${account.keyVariable}`,
      );
    }
  });
  return problems;
};

/** config.toml: free gas, JSON-RPC on the loopback only, permissioning on, paths where compose mounts them. */
const checkNodeConfig: Check = (files) => {
  const config = toml(files.config, "config.toml");
  if (typeof config === "string") return [config];
  const get = (key: string) => config.values.get(key);
  const expected: ReadonlyArray<readonly [string, TomlValue]> = [
    ["rpc-http-enabled", true],
    ["rpc-http-host", "127.0.0.1"],
    ["host-allowlist", ["localhost", "127.0.0.1"]],
    ["permissions-nodes-config-file-enabled", true],
    ["permissions-accounts-config-file-enabled", true],
    ["genesis-file", MOUNT.genesis],
    ["data-path", MOUNT.dataPath],
    ["node-private-key-file", `${MOUNT.keyDir}/key`],
    ["sync-mode", "FULL"],
  ];
  const problems = expected
    .filter(([key, value]) => JSON.stringify(get(key)) !== JSON.stringify(value))
    .map(([key, value]) => `config.toml: ${key} is ${JSON.stringify(get(key))}, not ${JSON.stringify(value)}`);
  const apis = get("rpc-http-api");
  if (!Array.isArray(apis) || !apis.includes("ETH") || !apis.includes("QBFT") || !apis.includes("PERM")) {
    problems.push("config.toml: rpc-http-api must offer ETH, QBFT (validator votes) and PERM (allow-lists)");
  }
  return problems;
};

/** docker-compose.yml: four validators as validators.json lays them out, each with its own key, ports and data. */
const checkCompose: Check = (files) => {
  const compose = read(composeSchema, files.compose, "docker-compose.yml", (text) =>
    parseYaml(text, { strict: true, uniqueKeys: true }),
  );
  const listed = read(validatorsSchema, files.validators, "validators.json", json);
  const permissions = toml(files.permissions, "permissions_config.toml");
  if (typeof compose === "string") return [compose];
  if (typeof listed === "string") return [listed];
  if (typeof permissions === "string") return [permissions];
  const problems: string[] = [];
  const names = Object.keys(compose.services);
  const expectedNames = listed.validators.map((node) => node.name);
  if (names.join() !== expectedNames.join()) {
    problems.push(`docker-compose.yml: services ${names.join(", ")} are not ${expectedNames.join(", ")}`);
  }
  const allowlist = permissions.values.get("nodes-allowlist");
  const allowed = new Set(Array.isArray(allowlist) ? allowlist : []);
  const images = new Set<string>();
  const seen = {
    keys: [] as string[],
    data: [] as string[],
    rpc: [] as string[],
    p2p: [] as string[],
    ips: [] as string[],
  };
  for (const node of listed.validators) {
    const service = compose.services[node.name];
    if (service === undefined) continue;
    const where = `docker-compose.yml: ${node.name}`;
    images.add(service.image);
    if (!/^hyperledger\/besu:\d+\.\d+\.\d+$/.test(service.image)) {
      problems.push(`${where}: image ${service.image} is not hyperledger/besu pinned to a version`);
    }
    const flag = (name: string): string | undefined =>
      service.command.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
    if (flag("config-file") !== MOUNT.config) problems.push(`${where}: --config-file is not ${MOUNT.config}`);
    if (flag("p2p-host") !== node.host) problems.push(`${where}: --p2p-host is not ${node.host}`);
    if (flag("p2p-port") !== String(node.p2pPort)) problems.push(`${where}: --p2p-port is not ${node.p2pPort}`);
    if (service.networks.consortium.ipv4_address !== node.host)
      problems.push(`${where}: its address is not ${node.host}`);
    const bootnodes = (flag("bootnodes") ?? "").split(",").filter((enode) => enode !== "");
    if (bootnodes.length === 0) problems.push(`${where}: no bootnodes`);
    for (const enode of bootnodes) {
      if (!allowed.has(enode)) problems.push(`${where}: bootnode ${enode.slice(0, 24)}… is not in nodes-allowlist`);
      if (enode === enodeOf(node)) problems.push(`${where}: names itself as a bootnode`);
    }
    if (service.ports.length !== 1 || service.ports[0] !== `127.0.0.1:${node.rpcPort}:8545`) {
      problems.push(`${where}: ports must be exactly 127.0.0.1:${node.rpcPort}:8545 (JSON-RPC on the loopback only)`);
    }
    const mounts = new Map(service.volumes.map((volume) => [volume.split(":")[1]!, volume]));
    const want = [
      `./genesis.json:${MOUNT.genesis}:ro`,
      `./config.toml:${MOUNT.config}:ro`,
      `./keys/${node.name}:${MOUNT.keyDir}:ro`,
      `${node.name}-data:${MOUNT.dataPath}`,
      `./permissions_config.toml:${MOUNT.dataPath}/permissions_config.toml`,
    ];
    for (const volume of want) {
      if (mounts.get(volume.split(":")[1]!) !== volume) problems.push(`${where}: volume ${volume} is missing`);
    }
    if (service.volumes.length !== want.length) problems.push(`${where}: volumes other than ${want.join(", ")}`);
    seen.keys.push(mounts.get(MOUNT.keyDir)?.split(":")[0] ?? "");
    seen.data.push(mounts.get(MOUNT.dataPath)?.split(":")[0] ?? "");
    seen.rpc.push(service.ports[0] ?? "");
    seen.p2p.push(`${flag("p2p-host")}:${flag("p2p-port")}`);
    seen.ips.push(service.networks.consortium.ipv4_address);
  }
  if (images.size > 1) problems.push(`docker-compose.yml: validators run different images: ${[...images].join(", ")}`);
  for (const [what, values] of Object.entries(seen)) {
    if (duplicates(values).length > 0)
      problems.push(`docker-compose.yml: ${what} shared between validators: ${duplicates(values)}`);
  }
  for (const node of listed.validators) {
    if (!(`${node.name}-data` in compose.volumes))
      problems.push(`docker-compose.yml: volume ${node.name}-data is not declared`);
  }
  return problems;
};

/** The runbook names every key variable, the commands it promises, and nothing outside the repository. */
const checkRunbook: Check = (files) => {
  const problems: string[] = [];
  const needed = [
    CONSORTIUM.urlVariable,
    ...keyVariables(CONSORTIUM),
    "besu public-key export-address",
    "besu operator generate-blockchain-config",
    "qbftConfigFile.json",
    "qbft_proposeValidatorVote",
    "perm_reloadPermissionsFromFile",
    "npx hardhat keystore set",
    "npx hardhat deploy --network consortium",
    "npx bank-chain --network consortium status",
    "npm start -- --network consortium",
    "Web3Signer",
  ];
  for (const text of needed) if (!files.readme.includes(text)) problems.push(`README.md does not mention ${text}`);
  if (files.readme.includes("../shared")) problems.push("README.md points to ../shared");
  return problems;
};

/** Only public material: no 32-byte hex string but the QBFT mixHash, and the keys folder ignored by git. */
const checkNoSecrets: Check = (files) => {
  const problems: string[] = [];
  for (const [key, name] of Object.entries(FILE_NAMES)) {
    const text = files[key as keyof NetworkFiles];
    for (const match of text.matchAll(/(?<![0-9a-fA-Fx])(?:0x)?[0-9a-fA-F]{64}(?![0-9a-fA-F])/g)) {
      const value = match[0].startsWith("0x") ? match[0] : `0x${match[0]}`;
      if (value.toLowerCase() !== BFT_MIX_HASH)
        problems.push(`${name}: a 32-byte hex string (a private key?) ${value.slice(0, 10)}…`);
    }
  }
  if (!files.gitignore.split("\n").includes("keys/")) problems.push(".gitignore does not ignore keys/");
  return problems;
};

const CHECKS = {
  checkGenesisShape,
  checkChainId,
  checkGas,
  checkGasLimit,
  checkValidatorSet,
  checkQbftConfigFile,
  checkAccounts,
  checkNodeConfig,
  checkCompose,
  checkRunbook,
  checkNoSecrets,
} as const satisfies Record<string, Check>;

// ───────────────────────────── mutations ─────────────────────────────

function editJson(text: string, edit: (value: Record<string, any>) => void): string {
  const value = JSON.parse(text) as Record<string, any>;
  edit(value);
  return JSON.stringify(value, null, 2);
}

function replaceOnce(text: string, from: string | RegExp, to: string): string {
  const next = text.replace(from, to);
  if (next === text) throw new Error(`mutation did not apply: ${String(from)}`);
  return next;
}

const FOREIGN = "0x1111111111111111111111111111111111111111";

/** One broken thing each: [what, how, the check that must notice, a piece of the problem it must name]. */
const MUTATIONS: ReadonlyArray<
  readonly [string, (files: NetworkFiles) => Partial<NetworkFiles>, keyof typeof CHECKS, string]
> = [
  [
    "genesis chain id 4243",
    (f) => ({ genesis: editJson(f.genesis, (g) => (g.config.chainId = 4243)) }),
    "checkChainId",
    "4243",
  ],
  [
    "zeroBaseFee false",
    (f) => ({ genesis: editJson(f.genesis, (g) => (g.config.zeroBaseFee = false)) }),
    "checkGas",
    "zeroBaseFee",
  ],
  [
    "a base fee of 1 wei",
    (f) => ({ genesis: editJson(f.genesis, (g) => (g.baseFeePerGas = "0x1")) }),
    "checkGas",
    "baseFeePerGas",
  ],
  [
    "min-gas-price=1000",
    (f) => ({ config: replaceOnce(f.config, "min-gas-price=0", "min-gas-price=1000") }),
    "checkGas",
    "min-gas-price",
  ],
  [
    "Besu's free-gas-network gas limit instead of the devnet's",
    (f) => ({ genesis: editJson(f.genesis, (g) => (g.gasLimit = "0x1fffffffffffff")) }),
    "checkGasLimit",
    "DEVNET_BLOCK_GAS_LIMIT",
  ],
  [
    "a misspelt genesis key",
    (f) => ({ genesis: replaceOnce(f.genesis, '"zeroBaseFee"', '"zeroBasefee"') }),
    "checkGenesisShape",
    "genesis.json",
  ],
  [
    "a decimal gas limit",
    (f) => ({ genesis: editJson(f.genesis, (g) => (g.gasLimit = "60000000")) }),
    "checkGenesisShape",
    "gasLimit",
  ],
  [
    "an Ethash mixHash",
    (f) => ({ genesis: editJson(f.genesis, (g) => (g.mixHash = ZeroHash)) }),
    "checkGenesisShape",
    "mixHash",
  ],
  [
    "a block period of 5 s",
    (f) => ({ genesis: editJson(f.genesis, (g) => (g.config.qbft.blockperiodseconds = 5)) }),
    "checkGenesisShape",
    "blockperiodseconds",
  ],
  [
    "a foreign validator in extraData",
    (f) => ({
      genesis: editJson(f.genesis, (g) => {
        const validators = validatorsOfExtraData(g.extraData as string);
        g.extraData = qbftExtraData([...validators.slice(0, 3), FOREIGN].sort());
      }),
    }),
    "checkValidatorSet",
    "not the genesis validators",
  ],
  [
    "a validator twice in extraData",
    (f) => ({
      genesis: editJson(f.genesis, (g) => {
        const [a, b, c] = validatorsOfExtraData(g.extraData as string);
        g.extraData = qbftExtraData([a!, b!, c!, c!]);
      }),
    }),
    "checkValidatorSet",
    "repeat",
  ],
  [
    "three validators in extraData",
    (f) => ({
      genesis: editJson(
        f.genesis,
        (g) => (g.extraData = qbftExtraData(validatorsOfExtraData(g.extraData as string).slice(0, 3))),
      ),
    }),
    "checkValidatorSet",
    "3 validators",
  ],
  [
    "the IBFT 2.0 round encoding (4 bytes) instead of QBFT's",
    (f) => ({
      genesis: editJson(
        f.genesis,
        (g) =>
          (g.extraData = (g.extraData as string).replace(/c080c0$/, "c08400000000c0").replace(/^0xf87a/, "0xf87e")),
      ),
    }),
    "checkValidatorSet",
    "round",
  ],
  [
    "another node's key in the nodes allow-list",
    (f) => ({ permissions: replaceOnce(f.permissions, /enode:\/\/[0-9a-f]{8}/, "enode://00000000") }),
    "checkValidatorSet",
    "nodes",
  ],
  [
    "a validator's p2p port changed in the nodes allow-list only",
    (f) => ({ permissions: replaceOnce(f.permissions, ":30306", ":30307") }),
    "checkValidatorSet",
    "nodes-allowlist",
  ],
  [
    "qbftConfigFile.json on another chain id",
    (f) => ({ qbftConfig: editJson(f.qbftConfig, (c) => (c.genesis.config.chainId = 1337)) }),
    "checkQbftConfigFile",
    "genesis",
  ],
  [
    "qbftConfigFile.json generating keys instead of importing them",
    (f) => ({ qbftConfig: editJson(f.qbftConfig, (c) => (c.blockchain.nodes.generate = true)) }),
    "checkQbftConfigFile",
    "generate",
  ],
  [
    "the gateway's account left out of the allow-list",
    (f) => ({ permissions: replaceOnce(f.permissions, /\n\s*"0x[0-9a-f]{40}", # gateway[^\n]*/, "") }),
    "checkAccounts",
    "accounts-allowlist",
  ],
  [
    "a duty left out of accounts.json",
    (f) => ({ accounts: editJson(f.accounts, (a) => (a.accounts as unknown[]).pop()) }),
    "checkAccounts",
    "DUTIES",
  ],
  [
    "two duties sharing an account",
    (f) => ({ accounts: editJson(f.accounts, (a) => (a.accounts[1].address = a.accounts[0].address)) }),
    "checkAccounts",
    "repeat",
  ],
  [
    "an allow-list comment naming the wrong duty",
    (f) => ({ permissions: replaceOnce(f.permissions, "# pauser (", "# rescuer (") }),
    "checkAccounts",
    "pauser",
  ],
  [
    "an unterminated accounts allow-list",
    (f) => ({ permissions: f.permissions.replace(/\]\s*$/, "") }),
    "checkAccounts",
    "never closed",
  ],
  [
    "JSON-RPC on every interface",
    (f) => ({ config: replaceOnce(f.config, 'rpc-http-host="127.0.0.1"', 'rpc-http-host="0.0.0.0"') }),
    "checkNodeConfig",
    "rpc-http-host",
  ],
  [
    "account permissioning off",
    (f) => ({
      config: replaceOnce(
        f.config,
        "permissions-accounts-config-file-enabled=true",
        "permissions-accounts-config-file-enabled=false",
      ),
    }),
    "checkNodeConfig",
    "permissions-accounts-config-file-enabled",
  ],
  [
    "a value outside the TOML subset",
    (f) => ({ config: replaceOnce(f.config, "min-gas-price=0", "min-gas-price=0.5") }),
    "checkNodeConfig",
    "outside the subset",
  ],
  [
    "two validators with one key",
    (f) => ({ compose: replaceOnce(f.compose, "./keys/validator-4:", "./keys/validator-3:") }),
    "checkCompose",
    "keys shared",
  ],
  [
    "two validators on one JSON-RPC port",
    (f) => ({ compose: replaceOnce(f.compose, '"127.0.0.1:8548:8545"', '"127.0.0.1:8547:8545"') }),
    "checkCompose",
    "8548",
  ],
  [
    "JSON-RPC published on every interface",
    (f) => ({ compose: replaceOnce(f.compose, '"127.0.0.1:8545:8545"', '"8545:8545"') }),
    "checkCompose",
    "loopback",
  ],
  [
    "an unpinned Besu image",
    (f) => ({ compose: replaceOnce(f.compose, /hyperledger\/besu:[0-9.]+/, "hyperledger/besu:latest") }),
    "checkCompose",
    "pinned",
  ],
  [
    "a bootnode outside the nodes allow-list",
    (f) => ({ compose: replaceOnce(f.compose, /--bootnodes=enode:\/\/[0-9a-f]{8}/, "--bootnodes=enode://00000000") }),
    "checkCompose",
    "not in nodes-allowlist",
  ],
  [
    "three validators in the compose file",
    (f) => ({ compose: replaceOnce(f.compose, /\n {2}validator-4:[\s\S]*?(?=\nnetworks:)/, "\n") }),
    "checkCompose",
    "services",
  ],
  [
    "a key variable left out of the runbook",
    (f) => ({ readme: f.readme.replaceAll(keyVariable(CONSORTIUM, "gateway"), "the gateway's key") }),
    "checkRunbook",
    keyVariable(CONSORTIUM, "gateway"),
  ],
  [
    "a private key committed",
    (f) => ({ validators: f.validators.replace('"$comment"', `"key": "0x${"ab".repeat(32)}",\n  "$comment"`) }),
    "checkNoSecrets",
    "32-byte",
  ],
];

// ───────────────────────────── tests ─────────────────────────────

describe("networks/besu-qbft: the consortium network on paper", function () {
  const files = readFiles();

  it("holds every file the runbook names", function () {
    for (const name of Object.values(FILE_NAMES)) expect(existsSync(new URL(name, DIR)), name).to.equal(true);
  });

  for (const [name, check] of Object.entries(CHECKS)) {
    it(`passes ${name}`, function () {
      expect(check(files)).to.deep.equal([]);
    });
  }

  it("has four distinct validators whose addresses come from the node allow-list's public keys", function () {
    const genesis = JSON.parse(files.genesis) as Genesis;
    const validators = validatorsOfExtraData(genesis.extraData);
    const allowlist = parseTomlSubset(files.permissions).values.get("nodes-allowlist") as string[];
    expect(new Set(validators).size).to.equal(4);
    expect(allowlist.map(addressOfEnode).sort()).to.deep.equal([...validators].sort());
    expect(genesis.config.chainId).to.equal(CONSORTIUM.chainId);
  });

  describe("each check bites", function () {
    for (const [what, mutate, checkName, expected] of MUTATIONS) {
      it(`${checkName} notices ${what}`, function () {
        const broken = { ...files, ...mutate(files) };
        const problems = CHECKS[checkName](broken);
        expect(problems.join("\n"), `${checkName} said nothing`).to.include(expected);
      });
    }
  });

  describe("the TOML subset parser", function () {
    it("reads strings, whole numbers, booleans and arrays with a comment per element", function () {
      const doc = parseTomlSubset('# c\na="x" # note\nb=-3\nc=true\nd=[\n  "p", # first\n  "q",\n]\ne=["r","s"]\n');
      expect(Object.fromEntries(doc.values)).to.deep.equal({ a: "x", b: -3, c: true, d: ["p", "q"], e: ["r", "s"] });
      expect(doc.comments.get("d")).to.deep.equal(["first", ""]);
    });

    for (const [text, error] of [
      ['a="x"\na="y"', "duplicate key"],
      ["a=1.5", "outside the subset"],
      ["[table]", "expected key=value"],
      ['a=["x" "y"]', "without a comma"],
      ["a=[,]", "comma without an element"],
      ['a=["x",', "never closed"],
      ['a="x\\n"', "outside the subset"],
      ["a=[1]", "unexpected"],
    ] as const) {
      it(`refuses ${JSON.stringify(text)}`, function () {
        expect(() => parseTomlSubset(text)).to.throw(TomlSubsetError, error);
      });
    }
  });
});
