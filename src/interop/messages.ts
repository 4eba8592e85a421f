/**
 * The AttestedGateway's messages off chain: the id formula of
 * `IAttestedGateway` (the same on both chains), the EIP-712 digest attesters
 * sign (`Attestation(bytes32 messageId,uint64 epoch)` in the destination
 * gateway's domain), and a `MessagePosted` log read back into the message it
 * announces, every field re-derived and the id recomputed.
 */
import {
  AbiCoder,
  getAddress,
  keccak256,
  TypedDataEncoder,
  type Log,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";

import { BankChainError } from "../errors.js";
import { IAttestedGateway__factory } from "../../typechain-types/index.js";

/** The AttestedGateway's EIP-712 domain name and version. */
export const ATTESTED_GATEWAY_DOMAIN = { name: "BankChain AttestedGateway", version: "1" } as const;

export const ATTESTATION_TYPES: Record<string, TypedDataField[]> = {
  Attestation: [
    { name: "messageId", type: "bytes32" },
    { name: "epoch", type: "uint64" },
  ],
};

/** What attesters sign, on the SOURCE gateway's domain, to let `refund` refund a message never delivered. */
export const UNDELIVERED_TYPES: Record<string, TypedDataField[]> = {
  Undelivered: [
    { name: "messageId", type: "bytes32" },
    { name: "epoch", type: "uint64" },
  ],
};

/** `IAttestedGateway.Status`, by name, in the enum's order. */
export const STATUSES = ["None", "Sent", "Refunded", "Failed", "Delivered"] as const;
export type GatewayStatus = (typeof STATUSES)[number];

/** A status number from the chain, by name. */
export function statusName(value: bigint | number): GatewayStatus {
  return STATUSES[Number(value)] ?? "None";
}

/** `IAttestedGateway.Message`: everything the id commits to. */
export interface Message {
  readonly sourceChainId: bigint;
  readonly sourceGateway: string;
  readonly nonce: bigint;
  readonly destinationChainId: bigint;
  readonly destinationGateway: string;
  readonly sender: string;
  readonly recipient: string;
  readonly deadline: bigint;
  /** Hex. */
  readonly payload: string;
}

/** A log is not the message it claims to be. */
export class MessageMismatchError extends BankChainError {}

export const gatewayInterface = IAttestedGateway__factory.createInterface();
export const MESSAGE_POSTED = gatewayInterface.getEvent("MessagePosted").topicHash;
export const MESSAGE_DELIVERED = gatewayInterface.getEvent("MessageDelivered").topicHash;
export const MESSAGE_FAILED = gatewayInterface.getEvent("MessageFailed").topicHash;
export const MESSAGE_REFUNDED = gatewayInterface.getEvent("MessageRefunded").topicHash;

const coder = AbiCoder.defaultAbiCoder();

/**
 * The message id: `keccak256(abi.encode(sourceChainId, sourceGateway, nonce,
 * destinationChainId, destinationGateway, sender, recipient, deadline,
 * keccak256(payload)))`.
 */
export function messageIdOf(message: Message): string {
  return keccak256(
    coder.encode(
      ["uint256", "address", "uint256", "uint256", "address", "address", "address", "uint64", "bytes32"],
      [
        message.sourceChainId,
        message.sourceGateway,
        message.nonce,
        message.destinationChainId,
        message.destinationGateway,
        message.sender,
        message.recipient,
        message.deadline,
        keccak256(message.payload),
      ],
    ),
  );
}

/** The AttestedGateway's EIP-712 domain at `gateway` on `chainId` (for attestations: the destination's). */
export function attestedGatewayDomain(chainId: bigint, gateway: string): TypedDataDomain {
  return { ...ATTESTED_GATEWAY_DOMAIN, chainId, verifyingContract: getAddress(gateway) };
}

/** What an attester signs for `messageId` under attester set `epoch`, in the destination gateway's domain. */
export function attestationDigest(messageId: string, epoch: bigint, destination: TypedDataDomain): string {
  return TypedDataEncoder.hash(destination, ATTESTATION_TYPES, { messageId, epoch });
}

/**
 * What an attester signs to let the source gateway refund `messageId` under its attester set `epoch`: the
 * message was not delivered by a final destination block past its deadline (so it never can be).
 */
export function undeliveredDigest(messageId: string, epoch: bigint, source: TypedDataDomain): string {
  return TypedDataEncoder.hash(source, UNDELIVERED_TYPES, { messageId, epoch });
}

/** The message as the contract's tuple. */
export function messageTuple(message: Message) {
  return {
    sourceChainId: message.sourceChainId,
    sourceGateway: message.sourceGateway,
    nonce: message.nonce,
    destinationChainId: message.destinationChainId,
    destinationGateway: message.destinationGateway,
    sender: message.sender,
    recipient: message.recipient,
    deadline: message.deadline,
    payload: message.payload,
  };
}

/**
 * The message a `MessagePosted` log announces, read from the log itself: the
 * source chain is the chain the log was read from (`sourceChainId`, never a
 * field of the log), the source gateway the log's emitter, which must be
 * `expectedGateway`; the id recomputed from the fields must be the log's
 * indexed `messageId`.
 *
 * @throws MessageMismatchError when the log is not what it claims
 */
export function messageFromLog(
  log: Pick<Log, "address" | "topics" | "data">,
  sourceChainId: bigint,
  expectedGateway: string,
): { readonly id: string; readonly message: Message } {
  if (getAddress(log.address) !== getAddress(expectedGateway)) {
    throw new MessageMismatchError(
      "MESSAGE_WRONG_EMITTER",
      `the MessagePosted log comes from ${log.address}, not the gateway ${expectedGateway}`,
      { emitter: log.address, gateway: expectedGateway },
    );
  }
  let parsed;
  try {
    parsed = gatewayInterface.parseLog({ topics: [...log.topics], data: log.data });
  } catch {
    parsed = null;
  }
  if (parsed === null || parsed.name !== "MessagePosted") {
    throw new MessageMismatchError("MESSAGE_NOT_POSTED", "the log is not a well-formed MessagePosted", {
      topic: log.topics[0] ?? null,
    });
  }
  const args = parsed.args;
  const message: Message = {
    sourceChainId,
    sourceGateway: getAddress(log.address),
    nonce: args.nonce as bigint,
    destinationChainId: args.destinationChainId as bigint,
    destinationGateway: getAddress(args.destinationGateway as string),
    sender: getAddress(args.sender as string),
    recipient: getAddress(args.recipient as string),
    deadline: args.deadline as bigint,
    payload: (args.payload as string).toLowerCase(),
  };
  const claimed = (args.messageId as string).toLowerCase();
  const id = messageIdOf(message);
  if (id !== claimed) {
    throw new MessageMismatchError(
      "MESSAGE_ID_MISMATCH",
      `the MessagePosted log claims id ${claimed}, but its fields hash to ${id}`,
      { claimed, computed: id },
    );
  }
  return { id, message };
}

/** A message as stored (JSON, bigints as strings). */
export function messageToJson(message: Message): string {
  return JSON.stringify({
    ...message,
    sourceChainId: message.sourceChainId.toString(),
    nonce: message.nonce.toString(),
    destinationChainId: message.destinationChainId.toString(),
    deadline: message.deadline.toString(),
  });
}

/** Reads what `messageToJson` wrote. */
export function messageFromJson(json: string): Message {
  const raw = JSON.parse(json) as Record<string, string>;
  return {
    sourceChainId: BigInt(raw.sourceChainId!),
    sourceGateway: getAddress(raw.sourceGateway!),
    nonce: BigInt(raw.nonce!),
    destinationChainId: BigInt(raw.destinationChainId!),
    destinationGateway: getAddress(raw.destinationGateway!),
    sender: getAddress(raw.sender!),
    recipient: getAddress(raw.recipient!),
    deadline: BigInt(raw.deadline!),
    payload: raw.payload!,
  };
}
