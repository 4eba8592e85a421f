/**
 * Shared pieces of the interop service tests: ERC-7930 addresses, the
 * deadline attribute, sending a message straight to an AttestedGateway, and
 * waiting for a condition.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { AbiCoder, concat, id as keccakId, type Signer, type Wallet } from "ethers";

import { mined } from "../../src/chain/receipts.js";
import { interoperableAddress } from "../../src/interop/erc7930.js";
import { messageFromLog, MESSAGE_POSTED, type Message } from "../../src/interop/messages.js";
import { interopGatewayDomain, PAYLOAD_TYPES, payloadSchema, payloadStruct } from "../../src/interop/payload.js";
import type { TestChain } from "./fixture.js";

/** ERC-7930 v1 EVM address (the one encoder, src/interop/erc7930.ts). */
export const erc7930 = (chainId: bigint, address: string): string => interoperableAddress(chainId, address);

/** The `deadline(uint64)` attribute. */
export function deadlineAttribute(deadline: bigint): string {
  return concat([keccakId("deadline(uint64)").slice(0, 10), AbiCoder.defaultAbiCoder().encode(["uint64"], [deadline])]);
}

/** Sends a message from `from` on `source` to `recipient` on `destination`; returns its id and message. */
export async function post(
  source: TestChain,
  from: Signer,
  destination: TestChain,
  recipient: string,
  options: { payload?: string; deadline?: bigint } = {},
): Promise<{ id: string; message: Message }> {
  const attributes = options.deadline === undefined ? [] : [deadlineAttribute(options.deadline)];
  const tx = await source.gateway
    .connect(from)
    .sendMessage(erc7930(destination.chainId, recipient), options.payload ?? "0x1234", attributes);
  const receipt = await mined(tx);
  const log = receipt.logs.find((entry) => entry.topics[0] === MESSAGE_POSTED)!;
  return messageFromLog(log, source.chainId, source.gateway.target as string);
}

/** Polls `check` until it returns something other than undefined/false. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A fresh temporary folder, and its removal. */
export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Moves both chains' clocks forward by `seconds` and mines a block on each. */
export async function advance(chains: readonly TestChain[], seconds: bigint): Promise<void> {
  for (const chain of chains) {
    await chain.provider.send("evm_increaseTime", [Number(seconds)]);
    await chain.provider.send("evm_mine", []);
  }
}

/** A native Transfer payload (JSON) of `chain`'s test token to `target`, with `nonce`; `change` overrides fields. */
export function transferJson(
  chain: TestChain,
  target: string,
  nonce: bigint,
  change: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    version: 1,
    sourceChain: `eip155:${chain.chainId}`,
    destinationChain: `eip155:${chain.chainId}`,
    kind: "Transfer",
    target,
    asset: chain.token.target,
    amount: "1000",
    data: "0x",
    nonce: String(nonce),
    deadline: 4_000_000_000,
    ...change,
  };
}

/** `key`'s EIP-712 signature of the payload `json` for `chain`'s InteropGateway. */
export function signPayload(chain: TestChain, json: Record<string, unknown>, key: Wallet): Promise<string> {
  return key.signTypedData(
    interopGatewayDomain(chain.chainId, chain.interop.target as string),
    PAYLOAD_TYPES,
    payloadStruct(payloadSchema.parse(json)),
  );
}
