/**
 * The certificate service for `npm start` (see `src/services.ts`): the
 * indexer follows the chain into the service's SQLite file, and the issuer
 * answers certificate requests on 127.0.0.1 (docs/certificates.md, "Service").
 * It signs attestations and its X.509 CA with the certIssuer duty's key.
 *
 * Environment: `CERTIFICATES_SETTINGS` below (docs/operations.md).
 */
import type { Wallet } from "ethers";

import { systemClock, type Clock } from "../chain/clock.js";
import type { ChainConnection } from "../chain/config.js";
import { dutyWallet } from "../chain/duty-wallet.js";
import { isDevnet } from "../chain/networks.js";
import {
  openDeploymentStore,
  ServiceError,
  serviceOwningStore,
  type Service,
  type ServiceContext,
  type ServiceFactory,
} from "../chain/service.js";
import { int, settingsSchema, text } from "../chain/settings.js";
import type { Store } from "../store/store.js";
import { certificateHttpServer } from "./http.js";
import { CertificateIndexer, parseCreate2Profiles, type Create2Profile, type IndexerProvider } from "./indexer.js";
import { CertificateIssuer, type FeatureSource, type TwinIssuer } from "./issuer.js";
import { defaultModel, type ScoringModel } from "./model.js";
import { ChallengeStore } from "./pop.js";
import { issuerCa, issueTwin } from "./x509.js";

export const DEFAULT_CERTIFICATES_PORT = 8630;
/** Thirty days. */
export const DEFAULT_VALIDITY_SECONDS = 30 * 24 * 3600;

/** The certificate service's environment. */
export const CERTIFICATES_SETTINGS = settingsSchema("certificates", {
  CERTIFICATES_PORT: int(
    "port of the certificate API on 127.0.0.1 (0 picks a free one)",
    DEFAULT_CERTIFICATES_PORT,
    0,
    65_535,
  ),
  CERTIFICATES_CONFIRMATIONS: int(
    "blocks on top of a block before the indexer reads it, and on top of an attestation before it is returned",
    { devnet: 0, elsewhere: 2 },
    0,
    1_000,
  ),
  CERTIFICATES_POLL_MS: int(
    "pause between two looks for new blocks, and between two rounds over open requests (ms)",
    1_000,
    1,
    60_000,
  ),
  CERTIFICATES_VALIDITY_SECONDS: int(
    "how long a certificate is valid (at most the resolver's maxValidity, checked at start)",
    DEFAULT_VALIDITY_SECONDS,
    60,
    10 * 365 * 24 * 3600,
  ),
  CERTIFICATES_MAX_PER_HOUR: int(
    "most certificates issued in any hour: each costs the issuer an attestation's gas, and a key is free to make (more is a 429)",
    360,
    1,
    1_000_000,
  ),
  CERTIFICATES_CREATE2_PROFILES: text(
    "CREATE2 factories whose accounts count as a key's addresses (docs/certificates-scoring.md), as JSON",
    '[{"name","factory","initCodeHash","accounts"}, ...] or empty for none',
    /^(\[[\s\S]*\])?$/,
    "",
    { required: false },
  ),
  CERTIFICATES_CHALLENGE_TTL_SECONDS: int("how long a GET /challenge nonce may be used (s)", 300, 10, 3_600),
  CERTIFICATES_MAX_OPEN_CHALLENGES: int(
    "most unused challenges at a time; more is refused with 429",
    10_000,
    1,
    1_000_000,
  ),
});

/** What the service runs beside the issuer: the indexer, which the issuer reads through `FeatureSource`. */
export interface RunningFeatureSource extends FeatureSource {
  poll(): Promise<unknown>;
  start(): void | Promise<void>;
  stop(): Promise<void>;
}

export interface CertificateServiceOptions {
  /** Environment for the port and tuning (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Builds the indexer on the service's store. */
  readonly indexer: (args: {
    readonly context: ServiceContext;
    readonly store: Store;
    readonly confirmations: number;
    readonly pollIntervalMs: number;
    /** CREATE2 factories whose accounts belong to a key (CERTIFICATES_CREATE2_PROFILES). */
    readonly create2?: readonly Create2Profile[];
  }) => RunningFeatureSource;
  readonly twins: TwinIssuer;
  readonly model?: ScoringModel;
  readonly clock?: Clock;
  /** Passed to the issuer (see `IssuerOptions.onStep`). */
  readonly onStep?: (point: string, id: string) => void;
}

/**
 * The certIssuer duty's key as a `Wallet` (the issuer signs raw transactions and its CA with it): the kit's
 * `dutyWallet`.
 */
export async function certIssuerWallet(chain: ChainConnection): Promise<Wallet> {
  return dutyWallet(chain, "certIssuer");
}

/**
 * The CREATE2 profiles of `CERTIFICATES_CREATE2_PROFILES` (empty: none).
 * @throws CertIndexerConfigError naming the bad field, or ServiceError `CERT_BAD_CREATE2_PROFILES` for text that
 *   is not JSON.
 */
export function create2ProfilesOf(json: string): Create2Profile[] {
  if (json.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new ServiceError(
      "CERT_BAD_CREATE2_PROFILES",
      `CERTIFICATES_CREATE2_PROFILES is not JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return parseCreate2Profiles(parsed);
}

export function certificateService(options: CertificateServiceOptions): ServiceFactory {
  const name = "certificates";
  return {
    name,
    async create(context: ServiceContext): Promise<Service> {
      const env = options.env ?? process.env;
      const { chain, deployments } = context;
      const settings = CERTIFICATES_SETTINGS.read(env, { devnet: isDevnet(chain.chainId) });
      const create2 = create2ProfilesOf(settings.CERTIFICATES_CREATE2_PROFILES);
      const signer = await certIssuerWallet(chain);
      const clock = options.clock ?? systemClock;
      const store = await openDeploymentStore(context, name, "CertificateResolver");
      return serviceOwningStore(name, store, () => {
        const indexer = options.indexer({
          context,
          store,
          confirmations: settings.CERTIFICATES_CONFIRMATIONS,
          pollIntervalMs: settings.CERTIFICATES_POLL_MS,
          create2,
        });
        const challenges = new ChallengeStore({
          store,
          clock,
          ttlMs: settings.CERTIFICATES_CHALLENGE_TTL_SECONDS * 1000,
          maxOpen: settings.CERTIFICATES_MAX_OPEN_CHALLENGES,
        });
        const issuer = new CertificateIssuer({
          store,
          challenges,
          provider: chain.provider,
          signer,
          features: indexer,
          twins: options.twins,
          model: options.model ?? defaultModel(),
          eas: deployments.get("EAS").address,
          resolver: deployments.get("CertificateResolver").address,
          verifier: deployments.get("CertificateVerifier").address,
          registry: deployments.get("ScoringModelRegistry").address,
          chainId: chain.chainId,
          validitySeconds: settings.CERTIFICATES_VALIDITY_SECONDS,
          maxIssuesPerHour: settings.CERTIFICATES_MAX_PER_HOUR,
          create2Profiles: create2,
          confirmations: settings.CERTIFICATES_CONFIRMATIONS,
          pollIntervalMs: settings.CERTIFICATES_POLL_MS,
          clock,
          log: context.log,
          ...(options.onStep === undefined ? {} : { onStep: options.onStep }),
        });
        const http = certificateHttpServer(issuer, challenges, {
          host: "127.0.0.1",
          port: settings.CERTIFICATES_PORT,
          log: context.log,
          health: {
            blockNumber: () => chain.provider.getBlockNumber(),
            followerNextBlock: () => indexer.indexedThrough() + 1,
            checkDatabase: () => store.check(),
          },
        });
        return {
          url: () => http.url ?? `http://127.0.0.1:${settings.CERTIFICATES_PORT}`,
          async start() {
            try {
              await indexer.poll();
              await issuer.start();
              await http.start();
              await indexer.start();
            } catch (error) {
              await http.stop();
              await issuer.stop();
              await indexer.stop();
              throw error;
            }
          },
          async stop() {
            await http.stop();
            await issuer.stop();
            await indexer.stop();
          },
        };
      });
    },
  };
}

/**
 * The indexer over the service's store: the suite's BankToken, InterbankSettlement, BillRegistry and
 * OfflineVault from the BankToken's deployment block (no CREATE2 profile: the suite deploys no account factory).
 */
export function suiteIndexer(args: Parameters<CertificateServiceOptions["indexer"]>[0]): RunningFeatureSource {
  const { context, store, confirmations, pollIntervalMs } = args;
  const { deployments, chain } = context;
  const provider = chain.provider as unknown as Partial<IndexerProvider>;
  if (typeof provider.send !== "function") {
    throw new ServiceError("CERT_PROVIDER_NO_RPC", "the certificate indexer needs a JSON-RPC provider (send)");
  }
  const optional = (name: string) => deployments.contracts.get(name)?.address;
  const token = deployments.get("BankToken");
  const settlement = optional("InterbankSettlement");
  const bills = optional("BillRegistry");
  const offline = optional("OfflineVault");
  return new CertificateIndexer({
    provider: provider as IndexerProvider,
    store,
    contracts: {
      token: token.address,
      ...(settlement === undefined ? {} : { settlement }),
      ...(bills === undefined ? {} : { bills }),
      ...(offline === undefined ? {} : { offline }),
    },
    confirmations,
    fromBlock: token.blockNumber ?? 0,
    pollIntervalMs,
    ...(args.create2 === undefined ? {} : { create2: args.create2 }),
    onError: (error) => context.log(`certificates indexer: ${error instanceof Error ? error.message : String(error)}`),
  });
}

/** The X.509 twins of `x509.ts`. */
export const X509_TWINS: TwinIssuer = { issuerCa, issueTwin };

export const certificates: ServiceFactory = certificateService({ indexer: suiteIndexer, twins: X509_TWINS });
