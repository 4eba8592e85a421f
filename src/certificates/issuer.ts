/**
 * The certificate issuer: from a request with a proof of possession to an EAS
 * attestation and its X.509 twin.
 *
 *   request + PoP ─▶ snapshot (asOfBlock = indexer's indexedThrough(), the
 *   key's addresses, their features, the score under the active model)
 *   ─▶ stored with its nonce consumed (one SQLite transaction)
 *   ─▶ EAS.attest signed, stored with its hash, then broadcast
 *   ─▶ receipt (and confirmations) ─▶ UID from `Attested` ─▶ X.509 twin ─▶ issued
 *
 * Crash safety (as the settlement agent's outbox): the signed transaction and
 * its hash are stored before it is broadcast. A request found `sent` on
 * (re)start is finished from the chain: its receipt gives the UID; a
 * transaction the node no longer knows is broadcast again, byte for byte
 * (same nonce, so it lands once or not at all); only when the issuer's nonce
 * has moved past it without it landing is a new transaction signed. So a
 * request is attested at most once.
 *
 * Revocation by the subject goes the same way (`CertificateRevocation` signed
 * by the certificate's key, then `EAS.revoke` as the issuer). An operator's
 * revocation is not offered here: it is `bank-chain certificates revoke <uid>
 * --as-issuer`, signed with the certIssuer key itself.
 */
import {
  AbiCoder,
  getAddress,
  hexlify,
  randomBytes,
  Transaction,
  ZeroHash,
  type Provider,
  type TransactionReceipt,
  type TypedDataDomain,
  type Wallet,
} from "ethers";

import type { Clock } from "../chain/clock.js";
import { waitForReceipt } from "../chain/receipts.js";
import { contractRevertError, errorInterface } from "../chain/reverts.js";
import { BankChainError, messageOf } from "../errors.js";
import type { Migration, Store } from "../store/store.js";
import {
  CertificateResolver__factory,
  CertificateVerifier__factory,
  ScoringModelRegistry__factory,
} from "../../typechain-types/index.js";
import { easAt, IEAS_ABI } from "./eas.js";
import { featuresToJson, parseFeatures, type Features } from "./features.js";
import type { Create2Profile } from "./indexer.js";
import { modelContentHash, modelIdOf, modelToJson, parseModel, type ScoringModel } from "./model.js";
import {
  certificateDomain,
  checkSignedBy,
  parsePublicKey,
  ProofError,
  REQUEST_TYPES,
  REVOCATION_TYPES,
  type ChallengeStore,
  type PublicKey,
} from "./pop.js";
import { featuresRoot, score } from "./score.js";

/** The indexer as the issuer uses it (`CertificateIndexer` in indexer.ts). */
export interface FeatureSource {
  /** The last block whose history is indexed (-1 or less when none is). */
  indexedThrough(): number;
  /** The addresses generated from `publicKey` (0x04 ‖ X ‖ Y) as of `asOfBlock`. */
  addressesOfKey(publicKey: string, asOfBlock: number): string[];
  /** The features of the history of `addresses` up to `asOfBlock`. */
  featuresOf(addresses: readonly string[], asOfBlock: number): Features;
}

/** What the twin of a certificate carries (x509.ts). */
export interface TwinCertificate {
  readonly uid: string;
  readonly subject: string;
  readonly level: number;
  readonly score: number;
  readonly modelId: string;
  readonly featuresRoot: string;
  readonly asOfBlock: bigint;
  readonly chainId: bigint;
  readonly eas: string;
}

/** The X.509 side (x509.ts): the issuer's CA certificate and the twins it signs. */
export interface TwinIssuer {
  issuerCa(args: {
    readonly issuerKey: string;
    readonly chainId: bigint;
    readonly notBefore: Date;
    readonly notAfter: Date;
  }): Promise<{ readonly pem: string }>;
  issueTwin(args: {
    /** The issuer CA's PEM. */
    readonly ca: string;
    readonly issuerKey: string;
    readonly subjectPublicKey: string;
    readonly certificate: TwinCertificate;
    readonly notBefore: Date;
    readonly notAfter: Date;
  }): Promise<{ readonly pem: string }>;
}

/** A certificate request or revocation could not be done; `status` is the HTTP status. */
export class IssuerError extends BankChainError {
  readonly status: number;
  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
    this.status = status;
  }
}

/** The names of `CertificateVerifier.statusOf`, in enum order. */
export const CERTIFICATE_STATUSES = [
  "Valid",
  "NotFound",
  "WrongSchema",
  "Revoked",
  "Replaced",
  "Expired",
  "IssuerNotAuthorized",
  "ModelNotActive",
] as const;
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];

/** The default of `IssuerOptions.maxIssuesPerHour`. */
export const DEFAULT_MAX_ISSUES_PER_HOUR = 360;
const HOUR_MS = 3_600_000;

/** Where a request is: accepted (nonce spent), sent (transaction signed and stored), done, or failed for good. */
export type RequestState = "accepted" | "sent" | "done" | "failed";

export interface IssuerOptions {
  readonly store: Store;
  readonly challenges: ChallengeStore;
  readonly provider: Provider;
  /** The certIssuer duty's key, connected to `provider`: signs attestations and the twins' CA. */
  readonly signer: Wallet;
  readonly features: FeatureSource;
  readonly twins: TwinIssuer;
  readonly model: ScoringModel;
  readonly eas: string;
  readonly resolver: string;
  readonly verifier: string;
  readonly registry: string;
  readonly chainId: bigint;
  /** Seconds a certificate is valid (at most the resolver's `maxValidity`). */
  readonly validitySeconds: number;
  /**
   * Most certificate requests accepted in any hour (default 360): each costs the issuer an attestation's gas and a
   * fresh key costs nothing, so a flood of requests must not spend the issuer's funds without limit.
   */
  readonly maxIssuesPerHour?: number;
  /** The CREATE2 profiles the indexer derives a key's accounts with: recorded with each certificate (default none). */
  readonly create2Profiles?: readonly Create2Profile[];
  /** Blocks on top of an attestation's block before it counts. */
  readonly confirmations: number;
  readonly pollIntervalMs: number;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  /**
   * Told `issue:accepted`, `attest:signed`, `attest:sent`, `revoke:signed`, `revoke:sent` with the request id
   * (tests crash the issuer there by throwing).
   */
  readonly onStep?: (point: string, id: string) => void;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "requests",
    sql: `CREATE TABLE certificate_requests (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL CHECK (kind IN ('issue', 'revoke')),
      state TEXT NOT NULL CHECK (state IN ('accepted', 'sent', 'done', 'failed')),
      public_key TEXT NOT NULL,
      subject TEXT NOT NULL,
      issuer TEXT NOT NULL,
      as_of_block INTEGER,
      addresses TEXT,
      features TEXT,
      features_root TEXT,
      model_id TEXT,
      model_hash TEXT,
      model_json TEXT,
      score INTEGER,
      level INTEGER,
      target_uid TEXT,
      expiration_time INTEGER,
      ref_uid TEXT,
      tx_hash TEXT,
      tx_nonce INTEGER,
      raw_tx TEXT,
      uid TEXT UNIQUE,
      issued_at INTEGER,
      twin_pem TEXT,
      error TEXT,
      created_ms INTEGER NOT NULL,
      updated_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX certificate_requests_open ON certificate_requests (state) WHERE state IN ('accepted', 'sent');
    CREATE INDEX certificate_requests_subject ON certificate_requests (subject, issuer, state);
    CREATE TABLE certificate_cas (
      issuer TEXT PRIMARY KEY,
      pem TEXT NOT NULL,
      created_ms INTEGER NOT NULL
    ) STRICT;`,
  },
  {
    version: 2,
    name: "CREATE2 profiles of each request",
    sql: "ALTER TABLE certificate_requests ADD COLUMN create2_profiles TEXT",
  },
];

interface RequestRow {
  id: string;
  kind: "issue" | "revoke";
  state: RequestState;
  public_key: string;
  subject: string;
  issuer: string;
  as_of_block: number | null;
  addresses: string | null;
  create2_profiles: string | null;
  features: string | null;
  features_root: string | null;
  model_id: string | null;
  model_hash: string | null;
  model_json: string | null;
  score: number | null;
  level: number | null;
  target_uid: string | null;
  expiration_time: number | null;
  ref_uid: string | null;
  tx_hash: string | null;
  tx_nonce: number | null;
  raw_tx: string | null;
  uid: string | null;
  issued_at: number | null;
  twin_pem: string | null;
  error: string | null;
  created_ms: number;
  updated_ms: number;
}

/** A request as the API shows it. */
export interface RequestView {
  readonly id: string;
  readonly kind: "issue" | "revoke";
  readonly state: RequestState;
  readonly subject: string;
  /** The certificate issued (issue) or revoked (revoke), once known. */
  readonly uid: string | null;
  readonly txHash: string | null;
  readonly error: string | null;
}

/** An issued certificate as this service recorded it: the inputs anyone needs to recompute it. */
export interface IssuedCertificate {
  readonly uid: string;
  readonly requestId: string;
  readonly publicKey: string;
  readonly subject: string;
  readonly issuer: string;
  readonly level: number;
  readonly score: number;
  readonly modelId: string;
  readonly modelHash: string;
  readonly modelJson: string;
  readonly asOfBlock: number;
  readonly addresses: readonly string[];
  /** The CREATE2 profiles the addresses were derived with. */
  readonly create2Profiles: readonly Create2Profile[];
  readonly features: Features;
  readonly featuresRoot: string;
  readonly expirationTime: number;
  readonly refUid: string;
  readonly issuedAt: number;
  readonly txHash: string;
  readonly twinPem: string;
}

export interface CertificateRequestInput {
  readonly publicKey: string;
  /** The certificate's subject: the key's own address (the default); signed, so it cannot be swapped. */
  readonly subject?: string | undefined;
  readonly nonce: string;
  readonly signature: string;
}

export interface RevocationInput {
  readonly nonce: string;
  readonly signature: string;
}

const coder = AbiCoder.defaultAbiCoder();
const SCHEMA_TYPES = ["address", "uint8", "uint32", "bytes32", "bytes32", "uint64"] as const;
/** How long one look for a receipt waits before the request is left for the next round. */
const RECEIPT_TIMEOUT_MS = 120_000;
/** How long the issuer CA certificate is valid (it is made once per issuer key and kept). */
const CA_VALIDITY_MS = 10 * 365 * 24 * 3600 * 1000;

export class CertificateIssuer {
  readonly #o: IssuerOptions;
  readonly #store: Store;
  readonly #domain: TypedDataDomain;
  readonly #eas;
  readonly #resolver;
  readonly #verifier;
  readonly #registry;
  readonly #revertAbi;
  /** Every chain write runs through this queue, one at a time: one signer, one nonce sequence, one refUID each. */
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  #issuer = "";
  #ca: string | undefined;

  constructor(options: IssuerOptions) {
    this.#o = options;
    this.#store = options.store;
    this.#store.migrate("certificate-issuer", MIGRATIONS);
    this.#domain = certificateDomain(options.chainId, options.resolver);
    this.#eas = easAt(options.eas, options.provider);
    this.#resolver = CertificateResolver__factory.connect(options.resolver, options.provider);
    this.#verifier = CertificateVerifier__factory.connect(options.verifier, options.provider);
    this.#registry = ScoringModelRegistry__factory.connect(options.registry, options.provider);
    this.#revertAbi = errorInterface([
      IEAS_ABI,
      CertificateResolver__factory.abi,
      CertificateVerifier__factory.abi,
      ScoringModelRegistry__factory.abi,
    ]);
  }

  /** The EIP-712 domain requests are signed under. */
  get domain(): TypedDataDomain {
    return this.#domain;
  }

  /** The issuer's CA certificate (PEM); made on the first start and kept. */
  get caPem(): string {
    if (this.#ca === undefined) throw new IssuerError(503, "CERT_NOT_STARTED", "the issuer has not started");
    return this.#ca;
  }

  get issuer(): string {
    return this.#issuer;
  }

  /**
   * Checks the configuration against the chain, makes (or loads) the issuer's
   * CA, finishes what a previous run left open, and retries open requests
   * every `pollIntervalMs` from then on.
   */
  async start(): Promise<void> {
    this.#issuer = getAddress(await this.#o.signer.getAddress());
    const maxValidity = Number(await this.#resolver.maxValidity());
    if (this.#o.validitySeconds > maxValidity) {
      throw new IssuerError(
        500,
        "CERT_VALIDITY_TOO_LONG",
        `the configured validity (${this.#o.validitySeconds} s) exceeds the resolver's maxValidity (${maxValidity} s)`,
        { validity: this.#o.validitySeconds, maxValidity },
      );
    }
    const stored = this.#store.get<{ pem: string }>("SELECT pem FROM certificate_cas WHERE issuer = ?", this.#issuer);
    if (stored !== undefined) this.#ca = stored.pem;
    else {
      const now = this.#o.clock.now();
      const { pem } = await this.#o.twins.issuerCa({
        issuerKey: this.#o.signer.privateKey,
        chainId: this.#o.chainId,
        // A day back: a twin's notBefore is its attestation's block time, which may trail the wall clock.
        notBefore: new Date(now - 24 * 3600 * 1000),
        notAfter: new Date(now + CA_VALIDITY_MS),
      });
      this.#store.run("INSERT INTO certificate_cas (issuer, pem, created_ms) VALUES (?, ?, ?)", this.#issuer, pem, now);
      this.#ca = pem;
    }
    await this.resume();
    this.#stopping = false;
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#queue.catch(() => undefined);
  }

  /** Finishes every open request (accepted or sent), oldest first; a failure leaves it for the next round. */
  async resume(): Promise<void> {
    const open = this.#store.all<{ id: string }>(
      "SELECT id FROM certificate_requests WHERE state IN ('accepted', 'sent') ORDER BY created_ms, id",
    );
    for (const { id } of open) {
      if (this.#stopping) return;
      try {
        await this.#serial(() => this.#process(id));
      } catch (error) {
        this.#o.log(`certificates: request ${id} still open: ${messageOf(error)}`);
      }
    }
  }

  #schedule(): void {
    if (this.#stopping) return;
    this.#timer = setTimeout(() => {
      void this.resume().finally(() => this.#schedule());
    }, this.#o.pollIntervalMs);
    this.#timer.unref();
  }

  /**
   * Handles a certificate request: checks the proof of possession, takes the
   * snapshot and scores it, stores the request with its nonce consumed, and
   * issues. Every refusal comes before anything is stored.
   * @throws ProofError or IssuerError with the HTTP status.
   */
  async request(input: CertificateRequestInput): Promise<IssuedCertificate> {
    const key = parsePublicKey(input.publicKey);
    const subject = input.subject === undefined ? key.address : getAddress(input.subject);
    if (subject !== key.address) {
      // The certificate (and its X.509 twin, whose subject key is this key) is about the key's own address; the
      // other addresses generated from the key count towards its features.
      throw new IssuerError(
        422,
        "CERT_SUBJECT_NOT_OF_KEY",
        `subject ${subject} is not the key's address ${key.address}: a certificate is about the key's own address`,
        { field: "subject", subject, address: key.address },
      );
    }
    checkSignedBy(
      key,
      this.#domain,
      REQUEST_TYPES,
      { nonce: input.nonce, subject, publicKeyHash: key.hash },
      input.signature,
    );
    const snapshot = this.#snapshot(key, subject);
    await this.#checkCanIssue(snapshot.modelId, snapshot.modelHash);
    const id = hexlify(randomBytes(16));
    const now = this.#o.clock.now();
    this.#store.transaction(() => {
      this.#checkIssueBudget(now);
      this.#o.challenges.consume(input.nonce);
      this.#store.run(
        `INSERT INTO certificate_requests (id, kind, state, public_key, subject, issuer, as_of_block, addresses,
           create2_profiles, features, features_root, model_id, model_hash, model_json, score, level, created_ms,
           updated_ms)
         VALUES (?, 'issue', 'accepted', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        id,
        key.uncompressed,
        subject,
        this.#issuer,
        snapshot.asOfBlock,
        JSON.stringify(snapshot.addresses),
        JSON.stringify(this.#o.create2Profiles ?? []),
        JSON.stringify(featuresToJson(snapshot.features)),
        snapshot.featuresRoot,
        snapshot.modelId,
        snapshot.modelHash,
        JSON.stringify(modelToJson(this.#o.model)),
        snapshot.score,
        snapshot.level,
        now,
        now,
      );
    });
    this.#o.onStep?.("issue:accepted", id);
    await this.#finish(id);
    const issued = this.certificate(this.#row(id)!.uid!);
    return issued!;
  }

  /**
   * Refuses a request once `maxIssuesPerHour` were accepted in the last hour (failed ones, which sent nothing, do
   * not count). Runs inside the request's store transaction, so two racing requests cannot both take the last one.
   * @throws IssuerError `CERT_ISSUE_BUDGET_SPENT` (429).
   */
  #checkIssueBudget(nowMs: number): void {
    const limit = this.#o.maxIssuesPerHour ?? DEFAULT_MAX_ISSUES_PER_HOUR;
    const { n } = this.#store.get<{ n: number }>(
      "SELECT count(*) AS n FROM certificate_requests WHERE kind = 'issue' AND state != 'failed' AND created_ms > ?",
      nowMs - HOUR_MS,
    )!;
    if (n >= limit) {
      throw new IssuerError(
        429,
        "CERT_ISSUE_BUDGET_SPENT",
        `${n} certificates were requested in the last hour, the most this issuer pays for; try again later`,
        { limit, lastHour: n },
      );
    }
  }

  /**
   * The subject revokes its certificate: `CertificateRevocation(uid, nonce)`
   * signed by the key the certificate was issued to.
   */
  async revoke(uid: string, input: RevocationInput): Promise<RequestView> {
    const certificate = this.certificate(uid);
    if (certificate === undefined) {
      throw new IssuerError(404, "CERT_NOT_FOUND", `this service issued no certificate ${uid}`, { uid });
    }
    const key = parsePublicKey(certificate.publicKey);
    checkSignedBy(key, this.#domain, REVOCATION_TYPES, { uid: certificate.uid, nonce: input.nonce }, input.signature);
    const status = await this.statusOf(certificate.uid);
    if (status === "Revoked") {
      throw new IssuerError(409, "CERT_ALREADY_REVOKED", `certificate ${uid} is already revoked`, { uid });
    }
    const open = this.#store.get<{ id: string }>(
      "SELECT id FROM certificate_requests WHERE kind = 'revoke' AND target_uid = ? AND state IN ('accepted', 'sent')",
      certificate.uid,
    );
    if (open !== undefined) {
      throw new IssuerError(409, "CERT_REVOCATION_PENDING", `certificate ${uid} is being revoked already`, {
        uid,
        request: open.id,
      });
    }
    const id = hexlify(randomBytes(16));
    const now = this.#o.clock.now();
    this.#store.transaction(() => {
      this.#o.challenges.consume(input.nonce);
      this.#store.run(
        `INSERT INTO certificate_requests (id, kind, state, public_key, subject, issuer, target_uid, created_ms, updated_ms)
         VALUES (?, 'revoke', 'accepted', ?, ?, ?, ?, ?, ?)`,
        id,
        certificate.publicKey,
        certificate.subject,
        certificate.issuer,
        certificate.uid,
        now,
        now,
      );
    });
    await this.#finish(id);
    return this.requestView(id)!;
  }

  /** A request's state. */
  requestView(id: string): RequestView | undefined {
    const row = this.#row(id);
    if (row === undefined) return undefined;
    return {
      id: row.id,
      kind: row.kind,
      state: row.state,
      subject: row.subject,
      uid: row.kind === "issue" ? row.uid : row.target_uid,
      txHash: row.tx_hash,
      error: row.error,
    };
  }

  /** A certificate this service issued, by UID. */
  certificate(uid: string): IssuedCertificate | undefined {
    const row = this.#store.get<RequestRow>(
      "SELECT * FROM certificate_requests WHERE kind = 'issue' AND state = 'done' AND uid = ?",
      uid.toLowerCase(),
    );
    return row === undefined ? undefined : this.#issued(row);
  }

  /**
   * Up to `limit` certificates this service issued, newest first (request time, then the order the requests were
   * recorded in, descending), after the one with sort key `after`; each with that key (`createdMs`, `seq`).
   */
  issued(query: {
    readonly after?: { readonly createdMs: number; readonly seq: number } | undefined;
    readonly limit: number;
  }): Array<IssuedCertificate & { readonly createdMs: number; readonly seq: number }> {
    return this.#store
      .all<RequestRow & { seq: number }>(
        `SELECT rowid AS seq, * FROM certificate_requests WHERE kind = 'issue' AND state = 'done'
           AND (? IS NULL OR (created_ms, rowid) < (?, ?))
         ORDER BY created_ms DESC, rowid DESC LIMIT ?`,
        query.after === undefined ? null : 1,
        query.after?.createdMs ?? null,
        query.after?.seq ?? null,
        query.limit,
      )
      .map((row) => ({ ...this.#issued(row), createdMs: row.created_ms, seq: row.seq }));
  }

  #issued(row: RequestRow): IssuedCertificate {
    return {
      uid: row.uid!,
      requestId: row.id,
      publicKey: row.public_key,
      subject: row.subject,
      issuer: row.issuer,
      level: row.level!,
      score: row.score!,
      modelId: row.model_id!,
      modelHash: row.model_hash!,
      modelJson: row.model_json!,
      asOfBlock: row.as_of_block!,
      addresses: JSON.parse(row.addresses!) as string[],
      create2Profiles: JSON.parse(row.create2_profiles ?? "[]") as Create2Profile[],
      features: parseFeatures(JSON.parse(row.features!) as unknown),
      featuresRoot: row.features_root!,
      expirationTime: row.expiration_time!,
      refUid: row.ref_uid!,
      issuedAt: row.issued_at!,
      txHash: row.tx_hash!,
      twinPem: row.twin_pem!,
    };
  }

  /** `CertificateVerifier.statusOf(uid)` by name. */
  async statusOf(uid: string): Promise<CertificateStatus> {
    const index = Number(await this.#verifier.statusOf(uid));
    return CERTIFICATE_STATUSES[index] ?? "NotFound";
  }

  /** The attestation as EAS holds it, and the certificate it replaced it with, if any. */
  async onChain(uid: string) {
    const [attestation, replacedBy] = await Promise.all([
      this.#eas.getAttestation(uid),
      this.#resolver.replacedBy(uid),
    ]);
    return { attestation, replacedBy: replacedBy === ZeroHash ? null : replacedBy };
  }

  // ---- internals --------------------------------------------------------------------------

  #row(id: string): RequestRow | undefined {
    return this.#store.get<RequestRow>("SELECT * FROM certificate_requests WHERE id = ?", id);
  }

  #snapshot(key: PublicKey, subject: string) {
    const asOfBlock = this.#o.features.indexedThrough();
    if (asOfBlock < 0) {
      throw new IssuerError(503, "CERT_INDEXER_NOT_READY", "the indexer has not indexed any block yet; try again soon");
    }
    const addresses = [
      ...new Set([key.address, ...this.#o.features.addressesOfKey(key.uncompressed, asOfBlock)].map(getAddress)),
    ];
    const features = this.#o.features.featuresOf(addresses, asOfBlock);
    const result = score(features, this.#o.model);
    return {
      asOfBlock,
      addresses,
      features,
      featuresRoot: featuresRoot(features),
      modelId: modelIdOf(this.#o.model),
      modelHash: modelContentHash(this.#o.model),
      score: result.score,
      level: result.levelIndex,
    };
  }

  /** Refuses (503) when the chain would refuse the attestation for reasons of the issuer's own. */
  async #checkCanIssue(modelId: string, modelHash: string): Promise<void> {
    const [active, model, role] = await Promise.all([
      this.#registry.isActive(modelId),
      this.#registry.modelOf(modelId),
      this.#resolver.ISSUER_ROLE(),
    ]);
    if (!active || model.contentHash.toLowerCase() !== modelHash.toLowerCase()) {
      throw new IssuerError(
        503,
        "CERT_MODEL_NOT_ACTIVE",
        `the service's scoring model ${modelId} is not active on chain with content hash ${modelHash}`,
        { modelId, contentHash: modelHash },
      );
    }
    if (!(await this.#resolver.hasRole(role, this.#issuer))) {
      throw new IssuerError(
        503,
        "CERT_ISSUER_NOT_AUTHORIZED",
        `the service's key ${this.#issuer} does not hold ISSUER_ROLE on the CertificateResolver`,
        { issuer: this.#issuer },
      );
    }
  }

  /** Runs `fn` after every chain write queued before it. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Processes request `id` now; a failure that leaves it open is a 503 naming the request. */
  async #finish(id: string): Promise<void> {
    try {
      await this.#serial(() => this.#process(id));
    } catch (error) {
      if (error instanceof IssuerError) throw error;
      throw new IssuerError(
        503,
        "CERT_REQUEST_PENDING",
        `request ${id} is accepted but not finished (${messageOf(error)}); the service keeps trying: GET /requests/${id}`,
        { request: id },
      );
    }
    const row = this.#row(id)!;
    if (row.state === "failed") {
      throw new IssuerError(
        422,
        "CERT_REFUSED_ON_CHAIN",
        `the chain refused request ${id}: ${row.error ?? "reverted"}`,
        { request: id },
      );
    }
  }

  /** Moves request `id` as far as it goes: sign, broadcast, receipt, twin. Safe to run again at any point. */
  async #process(id: string): Promise<void> {
    let row = this.#row(id);
    if (row === undefined || row.state === "done" || row.state === "failed") return;
    if (row.tx_hash === null) {
      row = await this.#sign(row);
      if (row === undefined) return;
    }
    const receipt = await this.#landed(row);
    if (receipt === undefined) {
      // Dropped for good (its nonce went to another transaction): sign it again.
      this.#update(row.id, { state: "accepted", tx_hash: null, tx_nonce: null, raw_tx: null });
      return this.#process(id);
    }
    if (receipt.status !== 1) {
      const reason = await this.#revertReason(row, receipt);
      this.#update(row.id, { state: "failed", error: reason });
      this.#o.log(`certificates: request ${id} refused on chain: ${reason}`);
      return;
    }
    await this.#confirmed(receipt);
    if (row.kind === "revoke") {
      this.#update(row.id, { state: "done" });
      return;
    }
    const uid = this.#attestedUid(receipt);
    const block = await this.#o.provider.getBlock(receipt.blockNumber);
    const issuedAt = block?.timestamp ?? Math.floor(this.#o.clock.now() / 1000);
    const twin = await this.#o.twins.issueTwin({
      ca: this.caPem,
      issuerKey: this.#o.signer.privateKey,
      subjectPublicKey: row.public_key,
      certificate: {
        uid,
        subject: row.subject,
        level: row.level!,
        score: row.score!,
        modelId: row.model_id!,
        featuresRoot: row.features_root!,
        asOfBlock: BigInt(row.as_of_block!),
        chainId: this.#o.chainId,
        eas: getAddress(this.#o.eas),
      },
      notBefore: new Date(issuedAt * 1000),
      notAfter: new Date(row.expiration_time! * 1000),
    });
    this.#update(row.id, { state: "done", uid: uid.toLowerCase(), issued_at: issuedAt, twin_pem: twin.pem });
  }

  /**
   * Signs the request's transaction and stores it (state `sent`) before broadcasting it; undefined when the
   * chain refuses it outright (the request is then `failed`).
   */
  async #sign(row: RequestRow): Promise<RequestRow | undefined> {
    const signer = this.#o.signer;
    const schema = await this.#resolver.schemaUID();
    let data: string;
    let expirationTime: number | null = null;
    let refUid: string | null = null;
    if (row.kind === "issue") {
      const latest = await this.#o.provider.getBlock("latest");
      expirationTime = (latest?.timestamp ?? Math.floor(this.#o.clock.now() / 1000)) + this.#o.validitySeconds;
      refUid = await this.#currentCertificate(row.subject, row.id);
      const payload = coder.encode(
        [...SCHEMA_TYPES],
        [row.subject, row.level, row.score, row.model_id, row.features_root, row.as_of_block],
      );
      data = this.#eas.interface.encodeFunctionData("attest", [
        {
          schema,
          data: { recipient: row.subject, expirationTime, revocable: true, refUID: refUid, data: payload, value: 0n },
        },
      ]);
    } else {
      data = this.#eas.interface.encodeFunctionData("revoke", [{ schema, data: { uid: row.target_uid!, value: 0n } }]);
    }
    const to = await this.#eas.getAddress();
    const nonce = await this.#o.provider.getTransactionCount(this.#issuer, "pending");
    let estimate: bigint;
    try {
      estimate = await signer.estimateGas({ to, data, from: this.#issuer });
    } catch (error) {
      // A custom error the chain names (the model retired, the issuer de-authorized meanwhile) is final;
      // anything else (no answer, no funds) is tried again next round.
      const revert = contractRevertError(error, this.#revertAbi);
      if (revert === undefined || revert.errorName === "") throw error;
      this.#update(row.id, { state: "failed", error: revert.message });
      this.#o.log(`certificates: request ${row.id} refused on chain: ${revert.message}`);
      return undefined;
    }
    const populated = await signer.populateTransaction({
      to,
      data,
      nonce,
      // The estimate is exact for the state it ran on; unused gas is refunded.
      gasLimit: estimate + estimate / 4n + 20_000n,
    });
    const raw = await signer.signTransaction(populated);
    const hash = Transaction.from(raw).hash!;
    this.#update(row.id, {
      state: "sent",
      tx_hash: hash,
      tx_nonce: nonce,
      raw_tx: raw,
      ...(row.kind === "issue" ? { expiration_time: expirationTime, ref_uid: refUid } : {}),
    });
    this.#o.onStep?.(`${row.kind === "issue" ? "attest" : "revoke"}:signed`, row.id);
    await this.#broadcast(raw);
    this.#o.onStep?.(`${row.kind === "issue" ? "attest" : "revoke"}:sent`, row.id);
    return this.#row(row.id)!;
  }

  async #broadcast(raw: string): Promise<void> {
    try {
      await this.#o.provider.broadcastTransaction(raw);
    } catch (error) {
      // Already known or already mined: the receipt tells. Anything else is for the next round.
      const text = messageOf(error).toLowerCase();
      if (!/already known|nonce too low|already imported|known transaction/.test(text)) throw error;
    }
  }

  /**
   * The receipt of the row's transaction, once mined; undefined when it can
   * never land (the issuer's nonce moved past it and it has no receipt).
   */
  async #landed(row: RequestRow): Promise<TransactionReceipt | undefined> {
    const hash = row.tx_hash!;
    const receipt = await this.#o.provider.getTransactionReceipt(hash);
    if (receipt !== null) return receipt;
    const known = await this.#o.provider.getTransaction(hash);
    if (known === null) {
      const mined = await this.#o.provider.getTransactionCount(this.#issuer, "latest");
      if (mined > row.tx_nonce!) {
        // Its nonce is used; it may have been mined in the meantime, after all.
        const late = await this.#o.provider.getTransactionReceipt(hash);
        return late ?? undefined;
      }
      await this.#broadcast(row.raw_tx!);
    }
    return waitForReceipt(this.#o.provider, hash, {
      timeoutMs: RECEIPT_TIMEOUT_MS,
      pollMs: Math.min(this.#o.pollIntervalMs, 100),
    });
  }

  async #confirmed(receipt: TransactionReceipt): Promise<void> {
    const wanted = receipt.blockNumber + this.#o.confirmations;
    while ((await this.#o.provider.getBlockNumber()) < wanted) {
      if (this.#stopping) throw new IssuerError(503, "CERT_STOPPING", "the service is stopping");
      await new Promise((resolve) => setTimeout(resolve, this.#o.pollIntervalMs));
    }
  }

  #attestedUid(receipt: TransactionReceipt): string {
    const eas = getAddress(this.#o.eas);
    for (const log of receipt.logs) {
      if (getAddress(log.address) !== eas) continue;
      const parsed = this.#eas.interface.parseLog(log);
      if (parsed?.name === "Attested") return String(parsed.args.uid);
    }
    throw new IssuerError(500, "CERT_NO_ATTESTED_EVENT", `transaction ${receipt.hash} has no Attested event`, {
      tx: receipt.hash,
    });
  }

  /** The name of the custom error a mined transaction reverted with (replayed as a call at its block). */
  async #revertReason(row: RequestRow, receipt: TransactionReceipt): Promise<string> {
    try {
      await this.#o.provider.call({
        to: receipt.to!,
        from: this.#issuer,
        data: Transaction.from(row.raw_tx!).data,
        blockTag: receipt.blockNumber - 1,
      });
      return "reverted";
    } catch (error) {
      const revert = contractRevertError(error, this.#revertAbi);
      return revert?.message ?? messageOf(error);
    }
  }

  /**
   * The subject's certificate from this issuer that is valid now, or zero: a reissue replaces it. Only the
   * newest can be valid: each reissue replaced the one before, and an invalid certificate never turns valid
   * again (revoked, replaced and expired are final; a re-granted issuer does not revive the old ones).
   */
  async #currentCertificate(subject: string, except: string): Promise<string> {
    const newest = this.#store.get<{ uid: string }>(
      `SELECT uid FROM certificate_requests WHERE kind = 'issue' AND state = 'done' AND subject = ? AND issuer = ?
         AND id <> ? ORDER BY issued_at DESC, updated_ms DESC LIMIT 1`,
      subject,
      this.#issuer,
      except,
    );
    return newest !== undefined && (await this.statusOf(newest.uid)) === "Valid" ? newest.uid : ZeroHash;
  }

  #update(id: string, values: Record<string, string | number | null>): void {
    const columns = Object.keys(values);
    this.#store.run(
      `UPDATE certificate_requests SET ${columns.map((c) => `${c} = ?`).join(", ")}, updated_ms = ? WHERE id = ?`,
      ...columns.map((c) => values[c] ?? null),
      this.#o.clock.now(),
      id,
    );
  }
}

/** Re-exported for the HTTP layer: the errors that carry their own status. */
export function statusOfError(error: unknown): number | undefined {
  if (error instanceof ProofError || error instanceof IssuerError) return error.status;
  return undefined;
}

/** Parses a stored model JSON (for the API's recomputation inputs). */
export function storedModel(json: string): ScoringModel {
  return parseModel(JSON.parse(json) as unknown);
}
