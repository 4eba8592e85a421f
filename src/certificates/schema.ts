/**
 * The EAS schema of a trust certificate, as `contracts/certificates/CertificateSchema.sol` declares it: the string
 * registered in EAS's `SchemaRegistry` (revocable, with the `CertificateResolver`), and its UID.
 */
import { solidityPackedKeccak256 } from "ethers";

/** `CertificateSchema.SCHEMA`: the fields of a certificate's attestation data, in order. */
export const CERTIFICATE_SCHEMA =
  "address subject,uint8 level,uint32 score,bytes32 modelId,bytes32 featuresRoot,uint64 asOfBlock";

/**
 * The schema's UID as `SchemaRegistry` computes it, `keccak256(schema ‖ resolver ‖ revocable)` with
 * `revocable = true`: what `CertificateResolver.schemaUID()` returns for the resolver at `resolver`.
 */
export function certificateSchemaUid(resolver: string): string {
  return solidityPackedKeccak256(["string", "address", "bool"], [CERTIFICATE_SCHEMA, resolver, true]);
}
