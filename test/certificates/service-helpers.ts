/**
 * The certificate service on the in-process chain with the whole suite
 * deployed (deploy/008 included): the issuer signs with the certIssuer duty's
 * key, over a temporary SQLite file, on a clock the tests move.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { AbiCoder, keccak256, type BaseWallet, type TypedDataDomain } from "ethers";

import type { ServiceContext } from "../../src/chain/service.js";
import type { Create2Profile } from "../../src/certificates/indexer.js";
import { CertificateIssuer } from "../../src/certificates/issuer.js";
import { certificateHttpServer } from "../../src/certificates/http.js";
import { defaultModel } from "../../src/certificates/model.js";
import { ChallengeStore, REQUEST_TYPES, REVOCATION_TYPES } from "../../src/certificates/pop.js";
import {
  certIssuerWallet,
  suiteIndexer,
  X509_TWINS,
  type RunningFeatureSource,
} from "../../src/certificates/service.js";
import { Store } from "../../src/store/store.js";
import { deploySuite, suiteChain, type Suite } from "../helpers/suite.js";

export interface ServiceUnderTest {
  readonly issuer: CertificateIssuer;
  /** The service's indexer: the tests poll it before a request, so the request's history is indexed. */
  readonly indexer: RunningFeatureSource;
  readonly challenges: ChallengeStore;
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * The suite on the in-process chain, and a way to start the certificate service on it (its issuer, indexer
 * and HTTP API over one SQLite file that outlives a restart), signing as the certIssuer duty.
 */
export async function certificatesFixture() {
  const suite: Suite = await deploySuite();
  const dir = mkdtempSync(path.join(tmpdir(), "bank-chain-certs-"));
  const provider = suite.ethers.provider;
  const chain = suiteChain(suite);
  const signer = await certIssuerWallet(chain);
  let now = Date.now();
  const clock = { now: () => now };
  const lines: string[] = [];
  const get = (name: string) => suite.deployments.get(name).address;

  /**
   * Starts an issuer and its HTTP API over the fixture's database file; `onStep` may throw to crash it there.
   * `indexer` builds the service's indexer (the suite's by default; an operator may configure it otherwise).
   */
  async function start(
    onStep?: (point: string, id: string) => void,
    indexerOf: typeof suiteIndexer = suiteIndexer,
    options: { readonly maxIssuesPerHour?: number; readonly create2Profiles?: readonly Create2Profile[] } = {},
  ): Promise<ServiceUnderTest> {
    const store = Store.open({ path: path.join(dir, "certificates.sqlite") });
    const context: ServiceContext = { chain, deployments: suite.deployments, dataDir: dir, log: (l) => lines.push(l) };
    const indexer = indexerOf({
      context,
      store,
      confirmations: 0,
      pollIntervalMs: 60_000,
      ...(options.create2Profiles === undefined ? {} : { create2: options.create2Profiles }),
    });
    const challenges = new ChallengeStore({ store, clock, ttlMs: 300_000, maxOpen: 1_000 });
    const issuer = new CertificateIssuer({
      store,
      challenges,
      provider,
      signer,
      features: indexer,
      twins: X509_TWINS,
      model: defaultModel(),
      eas: get("EAS"),
      resolver: get("CertificateResolver"),
      verifier: get("CertificateVerifier"),
      registry: get("ScoringModelRegistry"),
      chainId: 31337n,
      validitySeconds: 30 * 24 * 3600,
      confirmations: 0,
      pollIntervalMs: 60_000,
      clock,
      log: (line) => lines.push(line),
      ...options,
      ...(onStep === undefined ? {} : { onStep }),
    });
    const http = certificateHttpServer(issuer, challenges, {
      host: "127.0.0.1",
      port: 0,
      log: (line) => lines.push(line),
      health: {
        blockNumber: () => provider.getBlockNumber(),
        followerNextBlock: () => indexer.indexedThrough() + 1,
        checkDatabase: () => store.check(),
      },
    });
    try {
      await indexer.poll();
      await issuer.start();
      const url = await http.start();
      return {
        issuer,
        indexer,
        challenges,
        url,
        async stop() {
          await http.stop();
          await issuer.stop();
          await indexer.stop();
          store.close();
        },
      };
    } catch (error) {
      await http.stop();
      await issuer.stop();
      await indexer.stop();
      store.close();
      throw error;
    }
  }

  return {
    suite,
    chain,
    provider,
    signer,
    lines,
    get,
    start,
    advance(ms: number) {
      now += ms;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A signed certificate request for `key` on the challenge `challenge` (GET /challenge's body). */
export async function signedRequest(
  key: BaseWallet,
  challenge: { nonce: string; domain: TypedDataDomain },
  change: { subject?: string; signer?: BaseWallet; domain?: TypedDataDomain; publicKey?: string } = {},
): Promise<Record<string, unknown>> {
  const subject = change.subject ?? key.address;
  const publicKeyHash = keccak256(`0x${key.signingKey.publicKey.slice(4)}`);
  const signature = await (change.signer ?? key).signTypedData(change.domain ?? challenge.domain, REQUEST_TYPES, {
    nonce: challenge.nonce,
    subject,
    publicKeyHash,
  });
  return {
    publicKey: change.publicKey ?? key.signingKey.compressedPublicKey,
    subject,
    nonce: challenge.nonce,
    signature,
  };
}

export async function signedRevocation(
  key: BaseWallet,
  uid: string,
  challenge: { nonce: string; domain: TypedDataDomain },
): Promise<Record<string, unknown>> {
  return {
    nonce: challenge.nonce,
    signature: await key.signTypedData(challenge.domain, REVOCATION_TYPES, { uid, nonce: challenge.nonce }),
  };
}

/** The certificate's six schema fields, decoded from an attestation's data. */
export function decodeCertificate(data: string) {
  const [subject, level, score, modelId, featuresRoot, asOfBlock] = AbiCoder.defaultAbiCoder().decode(
    ["address", "uint8", "uint32", "bytes32", "bytes32", "uint64"],
    data,
  );
  return { subject, level, score, modelId, featuresRoot, asOfBlock };
}
