/**
 * EAS as the certificate service and the CLI call it: the `IEAS` ABI from the
 * artifact the npm package publishes (EAS 1.9.0, the contract deployed from
 * the same package's bytecode), on our ethers. The package's own TypeChain
 * bindings are CommonJS and bound to ethers' CommonJS build, whose classes are
 * not ours, so only the ABI is taken, and the few calls used here are typed
 * below.
 */
import { createRequire } from "node:module";

import {
  Contract,
  type ContractRunner,
  type ContractTransactionResponse,
  type Interface,
  type InterfaceAbi,
} from "ethers";

const require = createRequire(import.meta.url);

/** `IEAS`'s ABI, as published in `@ethereum-attestation-service/eas-contracts`. */
export const IEAS_ABI = (
  require("@ethereum-attestation-service/eas-contracts/artifacts/contracts/IEAS.sol/IEAS.json") as {
    abi: InterfaceAbi;
  }
).abi;

/** An attestation as `IEAS.getAttestation` returns it. */
export interface Attestation {
  readonly uid: string;
  readonly schema: string;
  readonly time: bigint;
  readonly expirationTime: bigint;
  readonly revocationTime: bigint;
  readonly refUID: string;
  readonly recipient: string;
  readonly attester: string;
  readonly revocable: boolean;
  readonly data: string;
}

/** The EAS calls used here. */
export interface Eas {
  readonly interface: Interface;
  getAddress(): Promise<string>;
  getAttestation(uid: string): Promise<Attestation>;
  /** Revokes `uid` under `schema` as the runner (only the attester may). */
  revoke(schema: string, uid: string): Promise<ContractTransactionResponse>;
  /** How many `Attested` events name `recipient`. */
  attestedCount(recipient: string): Promise<number>;
}

export function easAt(address: string, runner: ContractRunner): Eas {
  const contract = new Contract(address, IEAS_ABI, runner);
  return {
    interface: contract.interface,
    getAddress: () => contract.getAddress(),
    async getAttestation(uid) {
      const a = (await contract.getFunction("getAttestation")(uid)) as Attestation;
      return {
        uid: a.uid,
        schema: a.schema,
        time: a.time,
        expirationTime: a.expirationTime,
        revocationTime: a.revocationTime,
        refUID: a.refUID,
        recipient: a.recipient,
        attester: a.attester,
        revocable: a.revocable,
        data: a.data,
      };
    },
    revoke: (schema, uid) =>
      contract.getFunction("revoke")({ schema, data: { uid, value: 0n } }) as Promise<ContractTransactionResponse>,
    async attestedCount(recipient) {
      const filter = contract.filters.Attested!(recipient);
      return (await contract.queryFilter(filter)).length;
    },
  };
}
